/**
 * Calls to Revel's REST API (`https://<subdomain>.revelup.com/resources/…`) with `fetch`: Revel
 * publishes no Node client. Every request authenticates with the header
 * `API-AUTHENTICATION: <key>:<secret>` (Revel "Authentication Types"), never with `api_key` and
 * `api_secret` in the address, which would put the secret in access logs. Lists are Tastypie pages:
 * `{"meta": {"limit", "offset", "next", "previous", "total_count"}, "objects": [...]}`, asked with
 * `limit` and `offset`. Failures become ConnectorErrors that say whether a retry may help and whether
 * the fault is the channel's as a whole or one item's.
 */
import { ConnectorError, type ConnectorContext } from '../types';
import { PageGuard } from '../paging';
import { parseRetryAfter } from '../../util';
import { sendJson } from '../json-request';
import { wholeSetting } from '../kit/settings';
import { isRow, type Row } from './wire';

export type Query = Record<string, string | number | boolean | readonly (string | number)[]>;

/** The error Revel gave, in its own words: `{"error": …}`, `{"error_message": …}` or `{"detail": …}`. */
function revelError(body: unknown): string {
  if (!isRow(body)) return '';
  for (const k of ['error', 'error_message', 'detail', 'message']) {
    const v = body[k];
    if (typeof v === 'string' && v.trim() !== '') return v.replace(/\s+/g, ' ').trim().slice(0, 300);
    if (isRow(v) || Array.isArray(v)) return JSON.stringify(v).slice(0, 300);
  }
  return '';
}

/** The Revel instance name a channel's settings give (`subdomain`: the part before `.revelup.com`). */
export function instanceOf(ctx: ConnectorContext): string {
  const s = ctx.settings.subdomain;
  if (typeof s !== 'string' || !/^[a-z0-9][a-z0-9-]{0,62}$/i.test(s.trim())) {
    throw new ConnectorError('The Revel channel needs the setting subdomain: the name before .revelup.com in the address of your Revel Management Console (e.g. "mygallery" for https://mygallery.revelup.com).', false);
  }
  return s.trim().toLowerCase();
}

export class RevelHttp {
  /** The API's address, without a trailing slash. */
  readonly baseUrl: string;
  /** Objects per list page (setting pageSize, 1–1000; Revel's default is 20). */
  readonly pageSize: number;
  private readonly auth: string;
  private readonly secrets: string[];
  private readonly timeoutMs: number;
  private readonly doFetch: typeof fetch;

  constructor(ctx: ConnectorContext) {
    const instance = instanceOf(ctx);
    const base = ctx.baseUrl ?? `https://${instance}.revelup.com`;
    if (!/^https?:\/\/[^/]+/i.test(base.trim())) throw new ConnectorError(`The Revel channel's baseUrl "${base}" is not an http(s) address.`, false);
    const { apiKey, apiSecret } = ctx.credentials;
    if (!apiKey || !apiSecret) throw new ConnectorError('The Revel channel needs the credentials apiKey and apiSecret (Revel Management Console → the API key and secret Revel issued for your account).', false);
    this.baseUrl = base.trim().replace(/\/+$/, '');
    this.auth = `${apiKey}:${apiSecret}`;
    this.secrets = [apiKey, apiSecret].filter((s) => s.length >= 4);
    this.pageSize = wholeSetting(ctx, 'Revel', 'pageSize', 100, 1, 1000);
    this.timeoutMs = wholeSetting(ctx, 'Revel', 'timeoutMs', 30_000, 100, 600_000);
    this.doFetch = ctx.fetch ?? fetch;
  }

  private scrub(msg: string): string {
    let out = msg;
    for (const s of this.secrets) out = out.split(s).join('[redacted]');
    return out;
  }

  /** One call answering JSON (or nothing); every failure is a ConnectorError. */
  async call<T>(method: 'GET' | 'PATCH', path: string, what: string, opts: { query?: Query; json?: unknown } = {}, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const u = new URL(`${this.baseUrl}${path}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (Array.isArray(v)) for (const x of v) u.searchParams.append(k, String(x));
      else u.searchParams.set(k, String(v));
    }
    u.searchParams.set('format', 'json');
    const res = await sendJson(this.doFetch, { platform: 'Revel', method, url: u, headers: { 'API-AUTHENTICATION': this.auth }, body: opts.json, what, timeoutMs: this.timeoutMs, signal, redirect: 'manual', scrub: (m) => this.scrub(m), why: 'detailed' });
    if (res.status >= 200 && res.status < 300) {
      if (method === 'GET' && !res.isJson) throw new ConnectorError(`Revel answered without JSON while trying to ${what}: check that baseUrl is your Revel address (https://<subdomain>.revelup.com).`, true, null, res.status);
      return res.json as T;
    }
    throw this.failure(res.status, res.headers.get('retry-after'), res.json, res.isJson, what);
  }

  private failure(status: number, retryAfterHeader: string | null, body: unknown, json: boolean, what: string): ConnectorError {
    const said = revelError(body);
    const paren = said ? ` (${said})` : '';
    const retryAfter = parseRetryAfter(retryAfterHeader);
    let e: ConnectorError;
    if (status === 429) {
      e = new ConnectorError(`Revel is rate limiting us (HTTP 429) while trying to ${what}${retryAfter !== null ? `; retry in ${Math.ceil(retryAfter / 1000)} s` : ''}.`, true, retryAfter, 429);
    } else if (status === 401) {
      e = new ConnectorError(`Revel refused the API key and secret (HTTP 401)${paren} while trying to ${what}: check the apiKey and apiSecret credentials.`, false, null, 401);
    } else if (status === 403) {
      e = new ConnectorError(`Revel refused the request (HTTP 403)${paren} while trying to ${what}: the API key lacks the permission for this resource.`, false, null, 403, { channelFault: true });
    } else if (status === 404 && json) {
      // Revel's own answer for an object it does not have: a refusal of that item only.
      e = new ConnectorError(`Revel does not have this record (HTTP 404)${paren} while trying to ${what}; run catalog discovery again.`, false, null, 404, { channelFault: false });
    } else if (status === 404) {
      e = new ConnectorError(`Revel's API was not found at ${this.baseUrl} (HTTP 404) while trying to ${what}: check the subdomain setting and baseUrl.`, false, null, 404);
    } else if (status >= 500 || status === 408) {
      e = new ConnectorError(`Revel had a server error (HTTP ${status})${paren} while trying to ${what}; it will be retried.`, true, retryAfter, status);
    } else if (status >= 300 && status < 400) {
      e = new ConnectorError(`Revel redirected the request (HTTP ${status}) while trying to ${what}: give the exact address, https://<subdomain>.revelup.com.`, false, null, status, { channelFault: true });
    } else {
      e = new ConnectorError(`Revel rejected the request (HTTP ${status})${paren} while trying to ${what}.`, false, null, status);
    }
    return new ConnectorError(this.scrub(e.message), e.retryable, e.retryAfterMs, e.status, { channelFault: e.channelFault });
  }

  /** One Tastypie page: its objects and whether Revel says there is a next one. */
  async page(path: string, query: Query, offset: number, limit: number, what: string, signal?: AbortSignal): Promise<{ objects: Row[]; next: boolean }> {
    const data = await this.call<unknown>('GET', path, what, { query: { ...query, limit, offset } }, signal);
    const objects = isRow(data) ? data.objects : undefined;
    const meta = isRow(data) ? data.meta : undefined;
    if (!Array.isArray(objects) || !objects.every(isRow) || !isRow(meta)) {
      throw new ConnectorError(`Revel answered a list at ${path} the hub cannot read (not {"meta": {…}, "objects": [...]}) while trying to ${what}. Nothing of it was used.`, false, null, null, { channelFault: true });
    }
    const next = typeof meta.next === 'string' && meta.next !== '';
    return { objects, next };
  }

  /** Every object of a list, page by page, stopped by the page guard when the server ignores paging. */
  async list(path: string, query: Query, what: string, signal?: AbortSignal): Promise<Row[]> {
    const out: Row[] = [];
    const guard = new PageGuard({ platform: 'Revel', what, hint: `the server at ${this.baseUrl}, or a cache or proxy in front of it, ignores the "offset" parameter of ${path}` });
    for (let offset = 0; ; offset += this.pageSize) {
      const { objects, next } = await this.page(path, query, offset, this.pageSize, what, signal);
      guard.page(objects.map((o) => String(o.id ?? o.resource_uri ?? JSON.stringify(o))));
      out.push(...objects);
      if (!next || objects.length === 0) return out;
      guard.more();
    }
  }
}
