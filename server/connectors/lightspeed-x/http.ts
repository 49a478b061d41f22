/**
 * Calls to the Lightspeed Retail X-Series API (`https://<domain_prefix>.retail.lightspeed.app/api/…`)
 * with `fetch`: Lightspeed publishes no Node client for X-Series. Every request:
 * - carries the personal token (or the OAuth add-on's access token) as a Bearer token;
 * - asks for JSON and sends JSON (docs "Request Format");
 * - goes through the channel's paced fetch (ConnectorContext.fetch).
 * Errors come back as `{"error": "…", "message": "…"}` (docs "Rate Limiting" shows the 429 body);
 * a 429 names when to come back with an HTTP-date `Retry-After` (RFC 1123), read against the
 * answer's own `Date` header so that a clock apart from Lightspeed's waits neither too long nor too
 * little.
 */
import { ConnectorError, type ConnectorContext } from '../types';
import { parseRetryAfter } from '../../util';
import { sendJson } from '../json-request';
import { retryUnauthorized } from '../kit/oauth';
import { wholeSetting } from '../kit/settings';

const PLATFORM = 'Lightspeed X-Series';

export type Params = Record<string, string | number>;

/** The most rows a 2.0 list page holds (docs "Pagination": page_size at most 200). */
export const MAX_PAGE_SIZE = 200;

/** Where a domain prefix's store answers: the Lightspeed host, or the older vendhq.com one. */
export const XS_HOSTS = ['retail.lightspeed.app', 'vendhq.com'] as const;

/** The store's domain prefix from the settings: `gallery` of gallery.retail.lightspeed.app. */
export function domainPrefixOf(ctx: ConnectorContext): string {
  const v = ctx.settings.domainPrefix;
  const prefix = typeof v === 'string' ? v.trim().toLowerCase() : '';
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(prefix)) {
    throw new ConnectorError(
      'The Lightspeed X-Series channel needs the setting domainPrefix: the first part of the store\'s address, e.g. "gallery" for https://gallery.retail.lightspeed.app (letters, digits and dashes).',
      false,
    );
  }
  return prefix;
}

/**
 * A Retry-After from an X-Series answer in ms: an HTTP-date is read against the answer's `Date`
 * (both whole seconds of the same server clock), seconds as they are; null when absent or unreadable.
 */
export function retryAfterOf(headers: { get(name: string): string | null }, nowMs: number = Date.now()): number | null {
  const value = headers.get('retry-after');
  if (!value) return null;
  const served = Date.parse(headers.get('date') ?? '');
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) && Number.isFinite(served)) {
    const at = Date.parse(value);
    if (Number.isFinite(at)) return Math.max(0, at - served);
  }
  return parseRetryAfter(value, nowMs);
}

/** The error text of an X-Series answer: `error` and `message` joined; '' when there is none. */
function xsErrorText(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const b = body as Record<string, unknown>;
  const parts = [b.error, b.message, b.details].filter((x): x is string => typeof x === 'string' && x.trim() !== '').map((s) => s.replace(/\s+/g, ' ').trim());
  return [...new Set(parts)].join(': ').slice(0, 300);
}

export class XsHttp {
  /** The store's API address, without a trailing slash. */
  readonly url: string;
  readonly pageSize: number;
  private readonly timeoutMs: number;
  private readonly doFetch: typeof fetch;
  private readonly token: string | null;

  constructor(private readonly ctx: ConnectorContext) {
    const prefix = domainPrefixOf(ctx);
    const host = ctx.settings.host ?? XS_HOSTS[0];
    if (typeof host !== 'string' || !(XS_HOSTS as readonly string[]).includes(host)) throw new ConnectorError(`The Lightspeed X-Series setting host must be one of ${XS_HOSTS.join(', ')} (where https://<domainPrefix>.<host> answers).`, false);
    this.url = (ctx.baseUrl ?? `https://${prefix}.${host}`).trim().replace(/\/+$/, '');
    this.pageSize = wholeSetting(ctx, PLATFORM, 'pageSize', MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE);
    this.timeoutMs = wholeSetting(ctx, PLATFORM, 'timeoutMs', 30_000, 100, 600_000);
    this.doFetch = ctx.fetch ?? fetch;
    this.token = ctx.credentials.accessToken ?? null;
    if (!ctx.tokens && !this.token) throw new ConnectorError('The Lightspeed X-Series channel needs the credential accessToken (a personal token: Setup → Personal tokens), or an OAuth add-on (clientId and clientSecret).', false);
  }

  private scrub(msg: string): string {
    let out = msg;
    for (const s of Object.values(this.ctx.credentials)) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
    return out;
  }

  /** One API call answering JSON. Every failure is a ConnectorError. */
  async call<T>(method: 'GET' | 'PUT', path: string, what: string, opts: { params?: Params; json?: unknown } = {}, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const u = new URL(`${this.url}${path}`);
    for (const [k, v] of Object.entries(opts.params ?? {})) u.searchParams.set(k, String(v));
    const first = this.token ?? (await this.ctx.tokens!.accessToken(signal));
    const send = (token: string) => sendJson(this.doFetch, { platform: PLATFORM, method, url: u, headers: { authorization: `Bearer ${token}`, 'user-agent': 'stockrelay (lightspeed-x connector)' }, body: opts.json, what, timeoutMs: this.timeoutMs, signal, redirect: 'manual', scrub: (m) => this.scrub(m), why: 'detailed' });
    // An OAuth token refused: one fresh token, one more try.
    const { answer: res } = await retryUnauthorized(this.ctx.tokens, first, send, signal);
    const body = res.json;
    if (res.status >= 200 && res.status < 300) {
      if (body === null) throw new ConnectorError(`${PLATFORM} answered without JSON while trying to ${what}; it will be retried.`, true, null, res.status);
      return body as T;
    }
    throw this.failure(res, body, what);
  }

  private failure(res: { status: number; headers: Headers }, body: unknown, what: string): ConnectorError {
    const status = res.status;
    const said = xsErrorText(body);
    const with_ = said ? ` (${said})` : '';
    const retryAfter = retryAfterOf(res.headers);
    let e: ConnectorError;
    if (status === 429) {
      e = new ConnectorError(`Lightspeed X-Series is rate limiting this store (HTTP 429) while trying to ${what}${retryAfter !== null ? `; retry in ${Math.ceil(retryAfter / 1000)} s` : ''}.`, true, retryAfter, 429);
    } else if (status === 401) {
      e = new ConnectorError(`Lightspeed X-Series refused the token (HTTP 401)${with_} while trying to ${what}: check the accessToken credential (a personal token may have expired or been deleted under Setup → Personal tokens).`, false, null, 401);
    } else if (status === 403) {
      e = new ConnectorError(`Lightspeed X-Series refused the request (HTTP 403)${with_} while trying to ${what}: the token's user or add-on lacks the permission for products, inventory or sales.`, false, null, 403, { channelFault: true });
    } else if (status === 404 && /product|sale|inventory|entity/i.test(said)) {
      // The API's own answer for an id it does not have: a refusal of that item only.
      e = new ConnectorError(`Lightspeed X-Series does not have this item (HTTP 404)${with_} while trying to ${what}; run catalog discovery again.`, false, null, 404, { channelFault: false });
    } else if (status === 404) {
      e = new ConnectorError(`The Lightspeed X-Series API was not found at ${this.url} (HTTP 404) while trying to ${what}: check the setting domainPrefix (and host).`, false, null, 404);
    } else if (status >= 500 || status === 408) {
      e = new ConnectorError(`Lightspeed X-Series had a server error (HTTP ${status})${with_} while trying to ${what}; it will be retried.`, true, retryAfter, status);
    } else if (status >= 300 && status < 400) {
      e = new ConnectorError(`Lightspeed X-Series redirected the request (HTTP ${status}) while trying to ${what}: check the setting domainPrefix (the store may have moved to another address).`, false, null, status, { channelFault: true });
    } else {
      e = new ConnectorError(`Lightspeed X-Series refused the request (HTTP ${status})${with_} while trying to ${what}.`, false, null, status);
    }
    return new ConnectorError(this.scrub(e.message), e.retryable, e.retryAfterMs, e.status, { channelFault: e.channelFault });
  }
}
