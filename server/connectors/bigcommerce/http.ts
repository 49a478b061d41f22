/**
 * How the BigCommerce connector calls the store's REST API (`{base}/stores/{store_hash}/v3/…` and
 * `…/v2/…` for orders), with `fetch`: BigCommerce publishes no maintained official Node client for
 * its REST management API. Every request carries the store API account's `X-Auth-Token`; every
 * answer's `X-Rate-Limit-Requests-Left` / `X-Rate-Limit-Time-Reset-Ms` are kept, and when the store's
 * quota is spent the next request waits until it is refreshed (the quota is shared by every app on
 * the store, so the hub also paces its pushes below it: see `capabilities.rateLimit`). Every failure
 * becomes a ConnectorError that says whether it is the channel's (credentials, scopes, route,
 * outage, rate limit) or one request's refusal (400, 409, 422).
 */
import { ConnectorError, type ConnectorContext } from '../types';
import { parseRetryAfter } from '../../util';
import { int, isObj, type Json } from './events';

export { int, isObj, type Json };

export const DEFAULT_BASE_URL = 'https://api.bigcommerce.com';
/** The longest the connector waits by itself for the store's quota to be refreshed. */
const MAX_SELF_WAIT_MS = 30_000;

/** A store hash as BigCommerce prints it: letters and digits, compared in lower case. */
export function normaliseStoreHash(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const h = v.trim().toLowerCase();
  return /^[a-z0-9]{1,64}$/.test(h) ? h : null;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What BigCommerce said in an error body: v3 `{status, title, errors}`, v2 `[{status, message}]`. */
export function errorText(body: unknown): string {
  const first = Array.isArray(body) ? body[0] : body;
  if (!isObj(first)) return '';
  const parts: string[] = [];
  if (typeof first.title === 'string') parts.push(first.title);
  if (typeof first.message === 'string') parts.push(first.message);
  if (isObj(first.errors)) for (const [k, v] of Object.entries(first.errors)) if (typeof v === 'string') parts.push(`${k}: ${v}`);
  return parts.join('; ').replace(/\s+/g, ' ').trim().slice(0, 500);
}

export interface CallOptions {
  query?: Record<string, string | number>;
  body?: unknown;
}

export class BigCommerceHttp {
  readonly storeHash: string;
  private readonly base: string;
  private readonly token: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;
  /** The store's quota as its last answer said: requests left, and when (our clock) it is refreshed. */
  private left: number | null = null;
  private resetAt = 0;

  constructor(ctx: ConnectorContext, storeHash: string) {
    const token = ctx.credentials.accessToken;
    if (!token) throw new ConnectorError('The BigCommerce channel needs the credential accessToken: the access token of a store API account (Settings → Store-level API accounts).', false);
    const base = (ctx.baseUrl ?? DEFAULT_BASE_URL).trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/i.test(base)) throw new ConnectorError(`The BigCommerce channel's baseUrl must be an http(s) address such as ${DEFAULT_BASE_URL}.`, false);
    const timeoutMs = ctx.settings.timeoutMs ?? 30_000;
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 100) throw new ConnectorError('The BigCommerce setting timeoutMs must be a whole number of milliseconds (at least 100).', false);
    this.storeHash = storeHash;
    this.base = base;
    this.token = token;
    this.fetchImpl = ctx.fetch ?? fetch;
    this.timeoutMs = timeoutMs;
  }

  private scrub(msg: string): string {
    return this.token ? msg.split(this.token).join('[redacted]') : msg;
  }

  /** `path` starts with the API version: `/v3/inventory/items`, `/v2/orders/1`. */
  url(path: string, query?: Record<string, string | number>): string {
    const q = query ? Object.entries(query).map(([k, v]) => `${encodeURIComponent(k).replace(/%3A/gi, ':')}=${encodeURIComponent(String(v)).replace(/%2C/gi, ',')}`) : [];
    return `${this.base}/stores/${this.storeHash}${path}${q.length > 0 ? `?${q.join('&')}` : ''}`;
  }

  /** Waits, when the store's last answer said its quota is spent, until BigCommerce refreshes it. */
  private async pace(signal?: AbortSignal): Promise<void> {
    if (this.left === null || this.left > 0) return;
    const wait = this.resetAt - Date.now();
    if (wait > 0) await sleep(Math.min(wait, MAX_SELF_WAIT_MS), signal);
    this.left = null;
  }

  private remember(headers: globalThis.Headers): void {
    const left = headers.get('x-rate-limit-requests-left');
    const reset = headers.get('x-rate-limit-time-reset-ms');
    if (left !== null && /^\d{1,9}$/.test(left.trim())) this.left = Number(left.trim());
    if (reset !== null && /^\d{1,9}$/.test(reset.trim())) this.resetAt = Date.now() + Number(reset.trim());
  }

  /** One REST call; JSON in and out. `what` finishes "while trying to …" in messages. */
  async call<T = unknown>(method: 'GET' | 'PUT' | 'POST', path: string, what: string, opts: CallOptions = {}, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    await this.pace(signal);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.url(path, opts.query), {
        method,
        headers: { 'X-Auth-Token': this.token, Accept: 'application/json', ...(opts.body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        signal: both,
      });
      text = await res.text();
    } catch (err) {
      signal?.throwIfAborted();
      const why = timeout.aborted ? `no answer within ${this.timeoutMs} ms` : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message ?? 'network error');
      throw new ConnectorError(this.scrub(`BigCommerce could not be reached while trying to ${what} (${why}); it will be retried.`), true);
    }
    this.remember(res.headers);
    let body: unknown = undefined;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.status >= 200 && res.status < 300) {
      if (res.status === 204) return [] as unknown as T;
      if (body === undefined) throw new ConnectorError(`BigCommerce answered without JSON (HTTP ${res.status}) while trying to ${what}; nothing was taken from that answer.`, true, null, res.status);
      return body as T;
    }
    throw this.failure(res.status, body, res.headers, what);
  }

  private failure(status: number, body: unknown, headers: globalThis.Headers, what: string): ConnectorError {
    const said = errorText(body);
    const detail = said ? ` (${said})` : '';
    const resetMs = headers.get('x-rate-limit-time-reset-ms');
    // After a 429 the wait is until the quota is refreshed; after anything else, only what Retry-After asks.
    const retryAfter = status === 429 && resetMs !== null && /^\d{1,9}$/.test(resetMs.trim()) ? Number(resetMs.trim()) : parseRetryAfter(headers.get('retry-after'));
    let e: ConnectorError;
    if (status === 429) {
      e = new ConnectorError(
        `BigCommerce's rate limit for this store is spent (HTTP 429) while trying to ${what}${retryAfter !== null ? `; its quota is refreshed in ${Math.ceil(retryAfter / 1000)} s` : ''}. Every app on the store shares that quota.`,
        true,
        retryAfter,
        429,
      );
    } else if (status === 401) {
      e = new ConnectorError(`BigCommerce refused the access token (HTTP 401)${detail} while trying to ${what}: check this channel's accessToken credential and that its store API account was not deleted.`, false, null, 401);
    } else if (status === 403) {
      e = new ConnectorError(`BigCommerce refused the request (HTTP 403)${detail} while trying to ${what}: the store API account lacks a scope (it needs Products, Orders and Information & Settings read-only, and Store Inventory modify).`, false, null, 403);
    } else if (status === 404) {
      e = new ConnectorError(`BigCommerce answered 404${detail} at ${this.base}/stores/${this.storeHash} while trying to ${what}: check the storeHash setting and the channel's baseUrl.`, false, null, 404);
    } else if (status >= 500 || status === 408) {
      e = new ConnectorError(`BigCommerce had a server error (HTTP ${status})${detail} while trying to ${what}; it will be retried.`, true, retryAfter, status);
    } else {
      e = new ConnectorError(`BigCommerce refused the request (HTTP ${status})${detail} while trying to ${what}.`, false, null, status);
    }
    return new ConnectorError(this.scrub(e.message), e.retryable, e.retryAfterMs, e.status, { channelFault: e.channelFault });
  }
}
