/**
 * One request to the Squarespace Commerce APIs, as "Making requests" asks: HTTPS (any address the
 * channel gives, for an emulator), `Authorization: Bearer <API key>`, a `User-Agent` naming the
 * application (Squarespace rejects requests without one), and `Content-Type: application/json` on a
 * body. Squarespace publishes no Node client: this is `fetch`.
 *
 * Every failure becomes a ConnectorError that says whether trying again may help and whether it is
 * the channel's fault (docs/connectors.md): 401, 403, 5xx, 429 and no answer are the channel's; a 404
 * is the channel's unless Squarespace's error message names one of the items asked for (then that
 * item is gone); 400, 409 and 422 refuse what was asked. A 429 carries `Retry-After` when Squarespace
 * sends one, else the documented one-minute cool-down.
 */
import { ConnectorError } from '../types';
import { parseRetryAfter } from '../../util';

/** "Requests over the rate limit receive a 429 Too Many Requests response with a cool down period of one minute." */
export const COOL_DOWN_MS = 60_000;
export const SQUARESPACE_API = 'https://api.squarespace.com';
export const DEFAULT_USER_AGENT = 'stockrelay-inventory-sync/1.0 (+https://github.com/stockrelay)';

/** Squarespace's error object (Responses and error handling): type, subtype, message, details, contextId. */
export interface SquarespaceErrorBody {
  type?: unknown;
  subtype?: unknown;
  message?: unknown;
  contextId?: unknown;
}

export interface HttpOptions {
  baseUrl: string;
  apiKey: string;
  userAgent: string;
  timeoutMs: number;
  fetch: typeof fetch;
}

export interface Call {
  method: 'GET' | 'POST';
  path: string;
  /** What the hub was doing, after "while trying to". */
  what: string;
  query?: Record<string, string>;
  body?: unknown;
  idempotencyKey?: string;
  /** Ids asked for: a 404 whose message names one of them refuses that item only. */
  items?: readonly string[];
}

export interface Answer {
  status: number;
  data: unknown;
}

export class SquarespaceHttp {
  constructor(private readonly opts: HttpOptions) {}

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  private scrub(msg: string): string {
    return this.opts.apiKey ? msg.split(this.opts.apiKey).join('[redacted]') : msg;
  }

  async send(call: Call, signal?: AbortSignal): Promise<Answer> {
    signal?.throwIfAborted();
    const url = new URL(`${this.opts.baseUrl}${call.path}`);
    for (const [k, v] of Object.entries(call.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { authorization: `Bearer ${this.opts.apiKey}`, 'user-agent': this.opts.userAgent, accept: 'application/json' };
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    if (call.idempotencyKey) headers['idempotency-key'] = call.idempotencyKey;
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await this.opts.fetch(url, { method: call.method, headers, ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}), signal: both });
      text = await res.text();
    } catch (err) {
      signal?.throwIfAborted();
      const why = timeout.aborted ? `no answer within ${this.opts.timeoutMs} ms` : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message ?? 'network error');
      throw new ConnectorError(this.scrub(`Squarespace could not be reached while trying to ${call.what} (${why}); it will be retried.`), true);
    }
    let data: unknown = null;
    if (text !== '') {
      try {
        data = JSON.parse(text) as unknown;
      } catch {
        data = undefined;
      }
    }
    if (res.status >= 200 && res.status < 300) {
      if (data === undefined) throw new ConnectorError(`Squarespace answered without JSON while trying to ${call.what} (HTTP ${res.status}); nothing was taken from it.`, true, null, res.status);
      return { status: res.status, data };
    }
    throw this.failure(res.status, data, res.headers.get('retry-after'), call);
  }

  private failure(status: number, body: unknown, retryAfterHeader: string | null, call: Call): ConnectorError {
    const err = (typeof body === 'object' && body !== null ? body : {}) as SquarespaceErrorBody;
    const type = typeof err.type === 'string' ? err.type : null;
    const message = typeof err.message === 'string' ? err.message : '';
    const said = type ? ` (${type}${typeof err.subtype === 'string' ? `/${err.subtype}` : ''}${message ? `: ${message}` : ''})` : message ? ` (${message})` : '';
    const what = call.what;
    let e: ConnectorError;
    if (status === 429) {
      const wait = parseRetryAfter(retryAfterHeader) ?? COOL_DOWN_MS;
      e = new ConnectorError(`Squarespace is rate limiting us (HTTP 429: more than 300 requests a minute) while trying to ${what}; it cools down for ${Math.ceil(wait / 1000)} s.`, true, wait, 429);
    } else if (status === 401) {
      e = new ConnectorError(`Squarespace refused the API key (HTTP 401)${said} while trying to ${what}: check the apiKey credential of this channel (Settings → Advanced → Developer API Keys) and that it was not revoked.`, false, null, 401);
    } else if (status === 403) {
      e = new ConnectorError(`Squarespace refused the request (HTTP 403)${said} while trying to ${what}: the API key lacks a permission (it needs Inventory, Orders and Products, read and write), or the site's Commerce plan does not allow API access.`, false, null, 403);
    } else if (status === 404 && (call.items ?? []).some((id) => message.includes(id))) {
      e = new ConnectorError(`Squarespace does not know this item (HTTP 404)${said} while trying to ${what}; run catalog discovery again.`, false, null, 404, { channelFault: false });
    } else if (status === 404) {
      e = new ConnectorError(`The Squarespace Commerce API was not found at ${this.opts.baseUrl}${call.path} (HTTP 404)${said} while trying to ${what}: check the channel's baseUrl.`, false, null, 404);
    } else if (status >= 500 || status === 408) {
      e = new ConnectorError(`Squarespace had a server error (HTTP ${status})${said} while trying to ${what}; it will be retried.`, true, parseRetryAfter(retryAfterHeader), status);
    } else {
      e = new ConnectorError(`Squarespace refused the request (HTTP ${status})${said} while trying to ${what}.`, false, null, status);
    }
    return new ConnectorError(this.scrub(e.message), e.retryable, e.retryAfterMs, e.status, { channelFault: e.channelFault });
  }
}
