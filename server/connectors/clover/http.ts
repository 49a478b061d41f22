/**
 * One request to Clover's REST API (`/v3/merchants/{mId}/…`): `Authorization: Bearer <token>` (a
 * merchant API token), a `User-Agent` on every request (required by Clover since April 2026:
 * `<product>/<version> <comment>`), JSON bodies. Clover publishes no Node client for its REST API:
 * this is `fetch`, through the channel's paced fetch and a gate of at most 5 requests in flight
 * (Clover's concurrent limit per token; kit/concurrency.ts).
 *
 * Every failure becomes a ConnectorError that says whether trying again may help and whether it is
 * the channel's fault (docs/connectors.md): 401, 403, 5xx, 429 and no answer are the channel's; a
 * 404 of a request for one object (an item, an order) says that object is gone; 400 refuses what
 * was asked. A 429 waits for `Retry-After` when Clover sends one (its concurrent-limit answers do),
 * else one second ("pause one second on the first 429").
 */
import { ConnectorError } from '../types';
import { parseRetryAfter } from '../../util';
import { ConcurrencyGate, gatedFetch } from '../kit/concurrency';
import { sendJson } from '../json-request';

export const CLOVER_API = 'https://api.clover.com';
export const DEFAULT_USER_AGENT = 'stockrelay/1.0 (inventory sync; +https://github.com/stockrelay)';
/** Clover's concurrent limit per token. */
export const CONCURRENT_PER_TOKEN = 5;
/** The wait after a 429 that names none. */
export const DEFAULT_429_WAIT_MS = 1000;

export interface HttpOptions {
  baseUrl: string;
  merchantId: string;
  token: string;
  userAgent: string;
  timeoutMs: number;
  fetch: typeof fetch;
}

export interface Call {
  method: 'GET' | 'POST';
  /** Under `/v3/merchants/{mId}`. */
  path: string;
  /** What the hub was doing, after "while trying to". */
  what: string;
  query?: [string, string][];
  body?: unknown;
  /** Ids of the objects asked for: a 404 whose message names one of them says that object is gone, not the API. */
  ids?: readonly string[];
}

export class CloverHttp {
  private readonly send1: ReturnType<typeof gatedFetch>;
  readonly gate = new ConcurrencyGate(CONCURRENT_PER_TOKEN);

  constructor(private readonly opts: HttpOptions) {
    this.send1 = gatedFetch(this.gate, opts.fetch);
  }

  get baseUrl(): string {
    return this.opts.baseUrl;
  }

  private scrub(msg: string): string {
    return this.opts.token ? msg.split(this.opts.token).join('[redacted]') : msg;
  }

  async send(call: Call, signal?: AbortSignal): Promise<unknown> {
    signal?.throwIfAborted();
    const url = new URL(`${this.opts.baseUrl}/v3/merchants/${encodeURIComponent(this.opts.merchantId)}${call.path}`);
    for (const [k, v] of call.query ?? []) url.searchParams.append(k, v);
    const res = await sendJson(this.opts.fetch, {
      platform: 'Clover',
      method: call.method,
      url,
      headers: { authorization: `Bearer ${this.opts.token}`, 'user-agent': this.opts.userAgent },
      body: call.body,
      what: call.what,
      timeoutMs: this.opts.timeoutMs,
      signal,
      redirect: 'follow',
      scrub: (m) => this.scrub(m),
      why: 'detailed',
      textFetch: this.send1,
    });
    // A body that is not JSON (or is empty) is no answer: `null` is a JSON answer like any other.
    const data = res.isJson ? res.json : undefined;
    if (res.status >= 200 && res.status < 300) {
      if (data === undefined) throw new ConnectorError(`Clover answered without JSON while trying to ${call.what} (HTTP ${res.status}); nothing was taken from it.`, true, null, res.status);
      return data;
    }
    throw this.failure(res, data, call);
  }

  private failure(res: { status: number; headers: Headers }, body: unknown, call: Call): ConnectorError {
    const status = res.status;
    const message = typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string' ? (body as { message: string }).message : '';
    const said = message ? ` (${message.slice(0, 200)})` : '';
    const what = call.what;
    let e: ConnectorError;
    if (status === 429) {
      const wait = parseRetryAfter(res.headers.get('retry-after')) ?? DEFAULT_429_WAIT_MS;
      const which = res.headers.get('x-ratelimit-tokenconcurrentlimit') !== null || res.headers.get('x-ratelimit-concurrentlimit') !== null ? 'more than 5 requests at once' : 'more than 16 requests a second';
      e = new ConnectorError(`Clover is rate limiting this token (HTTP 429: ${which}) while trying to ${what}; waiting ${Math.ceil(wait / 1000)} s.`, true, wait, 429);
    } else if (status === 401) {
      e = new ConnectorError(`Clover refused the API token (HTTP 401)${said} while trying to ${what}: check the apiToken credential of this channel (Clover dashboard → Account & Setup → API Tokens) and that it was not deleted or expired.`, false, null, 401);
    } else if (status === 403) {
      e = new ConnectorError(`Clover refused the request (HTTP 403)${said} while trying to ${what}: the API token lacks a permission (it needs Inventory read and write, Orders read, Payments read), or it belongs to another merchant than ${this.opts.merchantId}.`, false, null, 403);
    } else if (status === 404 && (call.ids ?? []).some((id) => message.includes(id))) {
      e = new ConnectorError(`Clover does not know this object (HTTP 404)${said} while trying to ${what}; run catalog discovery again if it was an item.`, false, null, 404, { channelFault: false });
    } else if (status === 404) {
      e = new ConnectorError(`The Clover API was not found at ${this.opts.baseUrl} for merchant ${this.opts.merchantId} (HTTP 404)${said} while trying to ${what}: check the channel's baseUrl and merchantId.`, false, null, 404);
    } else if (status >= 500 || status === 408) {
      e = new ConnectorError(`Clover had a server error (HTTP ${status})${said} while trying to ${what}; it will be retried.`, true, parseRetryAfter(res.headers.get('retry-after')), status);
    } else {
      e = new ConnectorError(`Clover refused the request (HTTP ${status})${said} while trying to ${what}.`, false, null, status);
    }
    return new ConnectorError(this.scrub(e.message), e.retryable, e.retryAfterMs, e.status, { channelFault: e.channelFault });
  }
}
