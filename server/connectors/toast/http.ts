/**
 * One request to the Toast platform APIs, as Toast's developer guide asks: a bearer token from the
 * authentication API (`POST /authentication/v1/authentication/login` with `clientId`, `clientSecret`
 * and `userAccessType: TOAST_MACHINE_CLIENT`; the answer is Toast's own `{token: {accessToken,
 * expiresIn, …}, status}`, not an RFC 6749 token answer, so the kit's OAuth component does not take
 * it), and `Toast-Restaurant-External-ID` naming the restaurant (location) on every request. Toast
 * publishes no Node client: this is `fetch` (the channel's paced fetch in the hub, so the login
 * counts against the rate limit like any request).
 *
 * Every failure becomes a ConnectorError that says whether trying again may help and whether it is
 * the channel's fault (docs/connectors.md): 401, 403, 404, 5xx, 429 and no answer are the channel's;
 * 400, 409 and 422 refuse what was asked. A 429 carries `Retry-After` (or `X-Toast-RateLimit-Reset`).
 */
import { ConnectorError } from '../types';
import { parseRetryAfter } from '../../util';
import { sendJson } from '../json-request';
import { abortable } from '../kit/oauth';

/** Toast's error object: status, code, message, requestId, … */
export interface ToastErrorBody {
  status?: unknown;
  code?: unknown;
  message?: unknown;
  developerMessage?: unknown;
  requestId?: unknown;
}

export interface HttpOptions {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  timeoutMs: number;
  fetch: typeof fetch;
  clock: () => number;
}

export interface Call {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  /** The restaurant (Toast-Restaurant-External-ID) the request is about. */
  restaurant: string;
  /** What the hub was doing, after "while trying to". */
  what: string;
  query?: Record<string, string>;
  body?: unknown;
}

export interface Answer {
  status: number;
  data: unknown;
  headers: globalThis.Headers;
}

/** The login under way, shared by every caller, and how many of them wait on it. */
interface Login {
  token: Promise<string>;
  controller: AbortController;
  waiting: number;
}

export const LOGIN_PATH = '/authentication/v1/authentication/login';
/** Renew the token this long before Toast says it expires. */
const RENEW_EARLY_MS = 5 * 60_000;

export class ToastHttp {
  private token: { value: string; until: number } | null = null;
  private login: Login | null = null;

  constructor(private readonly opts: HttpOptions) {}

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  private scrub(msg: string): string {
    let out = msg;
    for (const s of [this.opts.clientSecret, this.token?.value]) if (s) out = out.split(s).join('[redacted]');
    return out;
  }

  /**
   * A valid token: the one held, or one fresh from the authentication API. One login is shared by
   * every caller; it runs with its own signal (and its own timeout), and each caller waits on it
   * abortably, so a caller giving up fails no other. When every caller waiting on it has given up,
   * the login is abandoned (a hung login is not left for the next caller to wait on).
   */
  private async accessToken(signal?: AbortSignal): Promise<string> {
    signal?.throwIfAborted();
    if (this.token && this.token.until > this.opts.clock()) return this.token.value;
    if (!this.login) {
      const controller = new AbortController();
      const login: Login = {
        controller,
        waiting: 0,
        token: this.authenticate(controller.signal).finally(() => {
          if (this.login === login) this.login = null;
        }),
      };
      this.login = login;
    }
    const login = this.login;
    login.waiting++;
    try {
      return await abortable(login.token, signal);
    } finally {
      if (--login.waiting === 0 && signal?.aborted) {
        if (this.login === login) this.login = null;
        login.controller.abort(signal.reason);
      }
    }
  }

  private async authenticate(signal: AbortSignal): Promise<string> {
    const body = { clientId: this.opts.clientId, clientSecret: this.opts.clientSecret, userAccessType: 'TOAST_MACHINE_CLIENT' };
    const { status, data, headers } = await this.exchange('POST', LOGIN_PATH, {}, body, 'get an access token from Toast', signal);
    if (status < 200 || status >= 300) {
      if (status === 401) throw new ConnectorError(this.scrub(`Toast refused the API client's credentials (HTTP 401) while trying to get an access token: check the clientId and clientSecret credentials of this channel (Toast Web → Integrations → Toast API access).`), false, null, 401);
      throw this.failure(status, data, headers, { method: 'POST', path: LOGIN_PATH, restaurant: '', what: 'get an access token from Toast' });
    }
    const token = typeof data === 'object' && data !== null ? (data as { token?: { accessToken?: unknown; expiresIn?: unknown } }).token : undefined;
    const value = token && typeof token.accessToken === 'string' && token.accessToken !== '' ? token.accessToken : null;
    if (!value) throw new ConnectorError('Toast answered the login without an access token (token.accessToken); nothing was taken from it.', true, null, status, { channelFault: true });
    const seconds = typeof token!.expiresIn === 'number' && token!.expiresIn > 0 ? token!.expiresIn : 3600;
    this.token = { value, until: this.opts.clock() + Math.max(seconds * 1000 - RENEW_EARLY_MS, seconds * 500) };
    return value;
  }

  private async exchange(method: string, path: string, headers: Record<string, string>, body: unknown, what: string, signal?: AbortSignal, query?: Record<string, string>): Promise<Answer> {
    const url = new URL(`${this.opts.baseUrl}${path}`);
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    const res = await sendJson(this.opts.fetch, { platform: 'Toast', method, url, headers, body, what, timeoutMs: this.opts.timeoutMs, signal, redirect: 'follow', scrub: (m) => this.scrub(m), why: 'detailed' });
    // An empty body is null; one that is not JSON is undefined (no answer).
    const data = res.text === '' ? null : res.isJson ? res.json : undefined;
    return { status: res.status, data, headers: res.headers };
  }

  async send(call: Call, signal?: AbortSignal): Promise<Answer> {
    const token = await this.accessToken(signal);
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'toast-restaurant-external-id': call.restaurant };
    const answer = await this.exchange(call.method, call.path, headers, call.body, call.what, signal, call.query);
    if (answer.status >= 200 && answer.status < 300) {
      if (answer.data === undefined) throw new ConnectorError(`Toast answered without JSON while trying to ${call.what} (HTTP ${answer.status}); nothing was taken from it.`, true, null, answer.status);
      return answer;
    }
    // A token Toast no longer takes is dropped: the next request logs in again.
    if (answer.status === 401 && this.token?.value === token) this.token = null;
    throw this.failure(answer.status, answer.data, answer.headers, call);
  }

  private failure(status: number, body: unknown, headers: globalThis.Headers, call: Call): ConnectorError {
    const err = (typeof body === 'object' && body !== null ? body : {}) as ToastErrorBody;
    const message = typeof err.message === 'string' ? err.message : '';
    const said = message ? ` (${message}${typeof err.requestId === 'string' ? `; Toast request id ${err.requestId}` : ''})` : '';
    const what = call.what;
    const where = call.restaurant ? ` for restaurant ${call.restaurant}` : '';
    let e: ConnectorError;
    if (status === 429) {
      const wait = parseRetryAfter(headers.get('retry-after')) ?? resetWait(headers.get('x-toast-ratelimit-reset'), this.opts.clock()) ?? 1000;
      e = new ConnectorError(`Toast is rate limiting us (HTTP 429: more than 20 requests a second or 10,000 in 15 minutes, or an endpoint's own limit) while trying to ${what}; it asks us to wait ${Math.ceil(wait / 1000)} s.`, true, wait, 429);
    } else if (status === 401) {
      e = new ConnectorError(`Toast refused the access token (HTTP 401)${said} while trying to ${what}: the API client's credentials may have been revoked; check the clientId and clientSecret credentials of this channel.`, false, null, 401);
    } else if (status === 403) {
      e = new ConnectorError(`Toast refused the request (HTTP 403)${said} while trying to ${what}${where}: the API client lacks a scope (it needs stock:read, stock:write, orders:read and config:read) or has no access to this restaurant.`, false, null, 403);
    } else if (status === 404) {
      e = new ConnectorError(`The Toast API was not found at ${this.opts.baseUrl}${call.path} (HTTP 404)${said} while trying to ${what}: check the channel's baseUrl (the API hostname Toast gave you).`, false, null, 404);
    } else if (status >= 500 || status === 408) {
      e = new ConnectorError(`Toast had a server error (HTTP ${status})${said} while trying to ${what}; it will be retried.`, true, parseRetryAfter(headers.get('retry-after')), status);
    } else {
      e = new ConnectorError(`Toast refused the request (HTTP ${status})${said} while trying to ${what}${where}.`, false, null, status);
    }
    return new ConnectorError(this.scrub(e.message), e.retryable, e.retryAfterMs, e.status, { channelFault: e.channelFault });
  }
}

/** `X-Toast-RateLimit-Reset`: when the limit resets, in epoch seconds; the wait until then. */
function resetWait(value: string | null, now: number): number | null {
  if (!value || !/^\d+(\.\d+)?$/.test(value.trim())) return null;
  const at = Number(value) * 1000;
  return at > now ? Math.ceil(at - now) : null;
}
