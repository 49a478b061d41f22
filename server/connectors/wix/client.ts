/**
 * The Wix connector's transport: REST calls to `https://www.wixapis.com` with `fetch` (Wix's own
 * JavaScript SDK, `@wix/sdk` with `@wix/stores` and `@wix/ecom`, is built for its own clients and
 * token strategies and ships the catalog as many ESM packages; plain REST keeps one dependency-free
 * path for both catalog versions). Every request carries the API key (`Authorization: <key>`) and
 * the site (`wix-site-id`), and the caller's AbortSignal; every failure becomes a ConnectorError
 * that says whether a retry may help and never contains the key. It also asks, once, which catalog
 * version the site runs (GET /stores/v3/provision/version), unless the channel's settings say.
 */
import { ConnectorError, type ConnectorContext } from '../types';
import { PageGuard } from '../paging';
import { parseRetryAfter } from '../../util';

export const DEFAULT_BASE_URL = 'https://www.wixapis.com';
export type CatalogVersion = 'V1' | 'V3';

type Obj = Record<string, unknown>;

/** What Wix said in an error answer: `message`, and `details.applicationError.code` when given. */
function wixError(parsed: unknown): string {
  const o = typeof parsed === 'object' && parsed !== null ? (parsed as Obj) : {};
  const app = (o.details as Obj | undefined)?.applicationError as Obj | undefined;
  const parts = [typeof app?.code === 'string' ? app.code : null, typeof o.message === 'string' ? o.message : typeof app?.description === 'string' ? app.description : null].filter(Boolean);
  return parts.length > 0 ? ` (${parts.join(': ').slice(0, 300)})` : '';
}

export class WixHttp {
  readonly siteId: string;
  readonly pageSize: number;
  private readonly base: string;
  private readonly apiKey: string;
  private readonly fetchFn: typeof fetch;
  private readonly configured: CatalogVersion | null;
  private detected: Promise<CatalogVersion> | null = null;

  constructor(ctx: ConnectorContext) {
    const key = ctx.credentials.apiKey ?? '';
    if (!key) throw new ConnectorError('The Wix channel needs the credential apiKey: an API key from the Wix API Keys Manager with the Wix Stores and eCommerce permissions.', false);
    const siteId = typeof ctx.settings.siteId === 'string' ? ctx.settings.siteId.trim() : '';
    if (!siteId) throw new ConnectorError('The Wix channel needs the setting siteId: the id of the Wix site (in the address of its dashboard, after /dashboard/).', false);
    const version = ctx.settings.catalogVersion;
    if (version !== undefined && version !== 'V1' && version !== 'V3') throw new ConnectorError('The Wix setting catalogVersion must be "V1" or "V3" (or left out: the hub asks Wix).', false);
    const pageSize = ctx.settings.pageSize ?? 100;
    if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw new ConnectorError('The Wix setting pageSize must be a whole number from 1 to 100.', false);
    const base = (ctx.baseUrl ?? DEFAULT_BASE_URL).trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^/\s]+/i.test(base)) throw new ConnectorError('The Wix channel baseUrl must be an http(s) address, e.g. https://www.wixapis.com.', false);
    this.apiKey = key;
    this.siteId = siteId;
    this.base = base;
    this.pageSize = pageSize;
    this.configured = version ?? null;
    this.fetchFn = ctx.fetch ?? fetch;
  }

  private scrub(msg: string): string {
    return msg.split(this.apiKey).join('[redacted]');
  }

  /** One request; the parsed JSON answer, or a ConnectorError (an abort is rethrown as the signal's reason). */
  async call(method: string, path: string, body: unknown, what: string, signal?: AbortSignal): Promise<Obj> {
    signal?.throwIfAborted();
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(this.base + path, {
        method,
        headers: { authorization: this.apiKey, 'wix-site-id': this.siteId, 'content-type': 'application/json', accept: 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
      text = await res.text();
    } catch (err) {
      signal?.throwIfAborted();
      const code = (err as { cause?: { code?: unknown } }).cause?.code;
      throw new ConnectorError(this.scrub(`Wix could not be reached while trying to ${what} (${typeof code === 'string' ? code : 'network error'}); it will be retried.`), true);
    }
    signal?.throwIfAborted();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = null;
    }
    if (!res.ok) throw this.failure(res.status, parsed, res.headers.get('retry-after'), what);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConnectorError(`Wix answered ${what} with something that is not a JSON object (HTTP ${res.status}); nothing was taken from it.`, true, null, res.status, { channelFault: true });
    }
    return parsed as Obj;
  }

  /** A Wix error answer as a ConnectorError: 429 and 5xx retryable; 401, 403, 404 faults of the channel. */
  failure(status: number, parsed: unknown, retryAfterHeader: string | null, what: string): ConnectorError {
    const said = wixError(parsed);
    const retryAfter = parseRetryAfter(retryAfterHeader);
    let e: ConnectorError;
    if (status === 429) {
      e = new ConnectorError(`Wix is rate limiting this site's API calls (HTTP 429, at most 200 requests a minute per site) while trying to ${what}${retryAfter !== null ? `; retry in ${Math.ceil(retryAfter / 1000)} s` : ''}.`, true, retryAfter, 429);
    } else if (status === 401) {
      e = new ConnectorError(`Wix refused the API key (HTTP 401)${said} while trying to ${what}: check the apiKey credential (it may have been deleted in the API Keys Manager).`, false, null, 401);
    } else if (status === 403) {
      e = new ConnectorError(`Wix refused the request (HTTP 403)${said} while trying to ${what}: the API key lacks a permission (Wix Stores, eCommerce) or belongs to another account than the site's (setting siteId).`, false, null, 403);
    } else if (status === 404 && /\b[A-Z]+(?:_[A-Z]+)*_NOT_FOUND\b/.test(said)) {
      // An entity Wix names (PRODUCT_NOT_FOUND, ORDER_NOT_FOUND): that item is gone, not the route.
      e = new ConnectorError(`Wix does not have what was asked (HTTP 404)${said} while trying to ${what}.`, false, null, 404, { channelFault: false });
    } else if (status === 404) {
      e = new ConnectorError(`Wix answered 404 (no such address)${said} while trying to ${what}: check the channel's baseUrl (https://www.wixapis.com) and the catalogVersion setting.`, false, null, 404);
    } else if (status >= 500 || status === 408) {
      e = new ConnectorError(`Wix had a server error (HTTP ${status})${said} while trying to ${what}; it will be retried.`, true, retryAfter, status);
    } else {
      e = new ConnectorError(`Wix rejected the request (HTTP ${status})${said} while trying to ${what}.`, false, null, status);
    }
    return new ConnectorError(this.scrub(e.message), e.retryable, e.retryAfterMs, e.status, { channelFault: e.channelFault });
  }

  /** The site's catalog version: the setting, else asked once (a site moved to V3 never goes back). */
  version(signal?: AbortSignal): Promise<CatalogVersion> {
    if (this.configured) return Promise.resolve(this.configured);
    if (!this.detected) {
      const asked = this.call('GET', '/stores/v3/provision/version', undefined, 'find the site\'s catalog version', signal).then((r) => {
        if (r.catalogVersion === 'V1_CATALOG') return 'V1' as const;
        if (r.catalogVersion === 'V3_CATALOG') return 'V3' as const;
        if (r.catalogVersion === 'STORES_NOT_INSTALLED') throw new ConnectorError('Wix Stores is not installed on this site (setting siteId): there is no catalog to sync.', false, null, null, { channelFault: true });
        throw new ConnectorError(`Wix answered the catalog version with ${JSON.stringify(r.catalogVersion ?? null).slice(0, 40)}, which the hub does not know.`, false, null, null, { channelFault: true });
      });
      this.detected = asked;
      // A failure is not remembered: the next call asks again.
      asked.catch(() => {
        if (this.detected === asked) this.detected = null;
      });
    }
    return this.detected;
  }

  pageGuard(what: string, endpoint: string): PageGuard {
    return new PageGuard({ platform: 'Wix', what, hint: `Wix, or a proxy in front of the channel's baseUrl, does not follow the paging of ${endpoint}` });
  }
}
