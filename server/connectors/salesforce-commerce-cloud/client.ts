/**
 * The connector's calls to the B2C Commerce API (`https://{shortCode}.api.commercecloud.salesforce.com`):
 * one channel's settings, its Account Manager tokens, and every answer turned into data or into a
 * ConnectorError that says whether a retry may help and whether the channel as a whole is failing.
 *
 * Salesforce publishes no Node client for the admin APIs and OCI that a server may use with
 * client credentials (commerce-sdk wraps the same REST calls; README.md says why it is not used), so
 * this is `fetch`.
 *
 * Tokens: Account Manager's client-credentials grant (`POST /dwsso/oauth2/access_token`,
 * `grant_type=client_credentials`, HTTP Basic with the API client's id and secret), asking for the
 * tenant scope `SALESFORCE_COMMERCE_API:<realm>_<instance>` and the scopes of the APIs used. The
 * connector kit's token endpoint (kit/oauth/endpoint.ts) sends the request and reads the answer. The
 * grant gives no refresh token, so nothing needs keeping: a token lives in memory, one request is
 * shared by every caller, a new one is asked for a minute before it expires, and one the API refused
 * (401) is dropped so the next call asks again. (The kit's stored TokenSource sends a platform's
 * fixed scopes; this grant's tenant scope is the channel's own.)
 */
import { sendJson } from '../json-request';
import { OAuthEndpoint, OAuthRefusal, readTokenAnswer } from '../kit/oauth';
import { ConnectorError, type ConnectorContext, type OAuthSpec } from '../types';
import { parseRetryAfter } from '../../util';
import { wholeSetting } from '../kit/settings';

export const PLATFORM = 'Salesforce Commerce Cloud';
export const ACCOUNT_MANAGER = 'https://account.demandware.com';
export const TOKEN_PATH = '/dwsso/oauth2/access_token';
/** The B2C Commerce API's `organizationId` (the spec's pattern). */
export const ORGANIZATION_ID = /^f_ecom_[a-z]{4}_(prd|stg|dev|s[0-9]{2}|[0-9]{3})$/;
/** The API scopes asked for beside the tenant scope (Salesforce's AuthZ scope catalog). */
export const API_SCOPES = ['sfcc.orders', 'sfcc.products.rw', 'sfcc.inventory.availability.rw'] as const;
/** Orders and product search take at most 200 a page. */
export const MAX_PAGE = 200;

const TOKEN_SPEC: OAuthSpec = { grant: 'client_credentials', baseUrl: ACCOUNT_MANAGER, tokenPath: TOKEN_PATH, scopes: [], clientAuth: 'client_secret_basic', rotatesRefreshTokens: false };

type Json = Record<string, unknown>;

function setting(ctx: ConnectorContext, name: string): string | null {
  const v = ctx.settings[name];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

export class SfccClient {
  readonly base: string;
  readonly organizationId: string;
  readonly tenantGroupId: string;
  readonly siteId: string;
  readonly pageSize: number;
  readonly scope: string;
  private readonly timeoutMs: number;
  private readonly endpoint: OAuthEndpoint;
  private readonly fetchImpl: typeof fetch;
  readonly clock: () => Date;
  private cached: { token: string; expiresAt: number } | null = null;
  private inflight: Promise<string> | null = null;
  private readonly secrets: string[];

  constructor(ctx: ConnectorContext) {
    const shortCode = setting(ctx, 'shortCode');
    if (!ctx.baseUrl && !shortCode) throw new ConnectorError(`The ${PLATFORM} channel needs the setting shortCode (Business Manager → Administration → Site Development → Salesforce Commerce API Settings), or a baseUrl.`, false);
    if (shortCode && !/^[a-z0-9]{8}$/i.test(shortCode)) throw new ConnectorError(`The ${PLATFORM} setting shortCode must be the eight-character short code of the realm.`, false);
    this.base = (ctx.baseUrl ?? `https://${shortCode!.toLowerCase()}.api.commercecloud.salesforce.com`).trim().replace(/\/+$/, '');
    const org = setting(ctx, 'organizationId');
    if (!org || !ORGANIZATION_ID.test(org)) throw new ConnectorError(`The ${PLATFORM} setting organizationId must be f_ecom_ followed by the realm and instance (e.g. f_ecom_zzxy_prd), as in Business Manager's Salesforce Commerce API Settings.`, false);
    const group = setting(ctx, 'tenantGroupId');
    if (!group || !/^[A-Za-z0-9_-]{1,128}$/.test(group)) throw new ConnectorError(`The ${PLATFORM} setting tenantGroupId must be the Omnichannel Inventory tenant group id (OCI uses it in place of the organization id).`, false);
    const site = setting(ctx, 'siteId');
    if (!site || site.length > 32) throw new ConnectorError(`The ${PLATFORM} setting siteId must be the id of the storefront site (1 to 32 characters, e.g. RefArch).`, false);
    this.organizationId = org;
    this.tenantGroupId = group;
    this.siteId = site;
    this.pageSize = wholeSetting(ctx, PLATFORM, 'pageSize', MAX_PAGE, 1, MAX_PAGE);
    this.timeoutMs = wholeSetting(ctx, PLATFORM, 'timeoutMs', 30_000, 100, 600_000);
    this.scope = [`SALESFORCE_COMMERCE_API:${org.replace(/^f_ecom_/, '')}`, ...API_SCOPES].join(' ');
    this.fetchImpl = ctx.fetch ?? fetch;
    this.clock = ctx.clock ?? (() => new Date());
    this.endpoint = new OAuthEndpoint(ctx.channelId, PLATFORM, TOKEN_SPEC, { credentials: ctx.credentials, channelBaseUrl: null, settings: ctx.settings, fetch: this.fetchImpl, timeoutMs: this.timeoutMs });
    this.secrets = [ctx.credentials.clientSecret ?? ''].filter((s) => s.length >= 4);
  }

  /** Where an API family's operations of this organization live. */
  url(family: 'oci' | 'orders' | 'products', rest: string): string {
    if (family === 'oci') return `${this.base}/inventory/availability/v1/organizations/${encodeURIComponent(this.tenantGroupId)}/${rest}`;
    const prefix = family === 'orders' ? 'checkout/orders/v1' : 'product/products/v1';
    return `${this.base}/${prefix}/organizations/${encodeURIComponent(this.organizationId)}/${rest}`;
  }

  private scrub(text: string): string {
    let out = text;
    for (const s of [...this.secrets, this.cached?.token ?? '']) if (s.length >= 4) out = out.split(s).join('[redacted]');
    return out;
  }

  // ---------------------------------------------------------------- tokens

  /** A valid token; the request for a new one is bounded by the timeout setting, then the caller's signal is looked at. */
  async token(signal?: AbortSignal): Promise<string> {
    const c = this.cached;
    if (c && c.expiresAt - 60_000 > this.clock().getTime()) return c.token;
    this.inflight ??= this.fetchToken().finally(() => (this.inflight = null));
    const token = await this.inflight;
    signal?.throwIfAborted();
    return token;
  }

  private async fetchToken(): Promise<string> {
    let body: unknown;
    try {
      body = await this.endpoint.request({ grant_type: 'client_credentials', scope: this.scope });
    } catch (err) {
      if (!(err instanceof OAuthRefusal)) throw err;
      const status = err.status === 400 || err.status === 401 ? 401 : err.status;
      throw new ConnectorError(
        this.scrub(`Account Manager refused this channel's API client (HTTP ${err.status}: ${err.message}): check the clientId and clientSecret credentials, and that the API client is allowed the scopes ${this.scope}.`),
        false,
        null,
        status,
        { channelFault: true },
      );
    }
    const answer = readTokenAnswer(body, 'client_credentials', this.clock());
    if (!answer.record.accessToken) throw new ConnectorError(`Account Manager answered with a token the hub cannot use (${answer.problem ?? 'no access token'}).`, false, null, null, { channelFault: true });
    const expiresAt = answer.record.expiresAt ? Date.parse(answer.record.expiresAt) : this.clock().getTime() + 25 * 60_000;
    this.cached = { token: answer.record.accessToken, expiresAt };
    return answer.record.accessToken;
  }

  // ---------------------------------------------------------------- calls

  /** One request; the parsed JSON object on 2xx, else a ConnectorError. */
  async call(method: 'GET' | 'POST' | 'PATCH', url: string, what: string, body: unknown, signal?: AbortSignal): Promise<Json> {
    signal?.throwIfAborted();
    const token = await this.token(signal);
    const res = await sendJson(this.fetchImpl, { platform: PLATFORM, method, url, headers: { authorization: `Bearer ${token}` }, body, what, timeoutMs: this.timeoutMs, signal });
    const json = res.json;
    if (res.status >= 200 && res.status < 300) {
      if (typeof json !== 'object' || json === null || Array.isArray(json)) {
        throw new ConnectorError(`${PLATFORM} answered ${res.status} without a JSON object while trying to ${what}; nothing was taken from it.`, false, null, res.status, { channelFault: true });
      }
      return json as Json;
    }
    if (res.status === 401 && this.cached?.token === token) this.cached = null;
    throw this.failure(res.status, json, res.headers, what);
  }

  private failure(status: number, body: unknown, headers: Headers, what: string): ConnectorError {
    const p = (typeof body === 'object' && body !== null ? body : {}) as Json;
    const type = typeof p.type === 'string' ? p.type : '';
    const said = [p.title, p.detail].filter((s): s is string => typeof s === 'string' && s !== '').join(': ').slice(0, 300);
    const why = said ? ` (${said})` : '';
    const retryAfter = parseRetryAfter(headers.get('retry-after'));
    const e = (message: string, retryable: boolean, opts: { channelFault?: boolean; retryAfter?: number | null } = {}) =>
      new ConnectorError(this.scrub(message), retryable, opts.retryAfter ?? null, status, opts.channelFault === undefined ? {} : { channelFault: opts.channelFault });
    if (status === 429) return e(`${PLATFORM} is rate limiting this API client (HTTP 429) while trying to ${what}${retryAfter !== null ? `; retry in ${Math.ceil(retryAfter / 1000)} s` : ''}.`, true, { retryAfter });
    if (status === 503) {
      const load = headers.get('sfdc_load_status');
      return e(`${PLATFORM} is shedding load (HTTP 503${load ? `, sfdc_load_status ${load}` : ''})${why} while trying to ${what}; it will be retried${retryAfter !== null ? ` in ${Math.ceil(retryAfter / 1000)} s` : ''}.`, true, { retryAfter });
    }
    if (status === 401) return e(`${PLATFORM} refused the access token (HTTP 401)${why} while trying to ${what}: check that the API client in Account Manager is enabled and assigned to this organization.`, false);
    if (status === 403) return e(`${PLATFORM} refused the request (HTTP 403)${why} while trying to ${what}: the API client lacks a role, the instance filter or a scope (${this.scope}).`, false);
    if (status === 404 && /\/(product|order)-not-found$/.test(type)) return e(`${PLATFORM} does not have this item (HTTP 404)${why} while trying to ${what}; run catalog discovery again.`, false, { channelFault: false });
    if (status === 404) return e(`${PLATFORM} has no such API address (HTTP 404)${why} while trying to ${what}: check the shortCode (or baseUrl), organizationId, tenantGroupId and siteId settings.`, false);
    if (status >= 500 || status === 408) return e(`${PLATFORM} had a server error (HTTP ${status})${why} while trying to ${what}; it will be retried.`, true, { retryAfter });
    return e(`${PLATFORM} rejected the request (HTTP ${status})${why} while trying to ${what}.`, false);
  }
}
