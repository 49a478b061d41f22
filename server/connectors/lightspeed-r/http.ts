/**
 * Calls to Lightspeed Retail (R-Series) API V3 with `fetch` (Lightspeed publishes no Node client).
 * Every request:
 * - goes to `{base}/API/V3/Account/{accountId}/…json` and carries `Authorization: Bearer <token>`:
 *   the channel's OAuth token from the kit's credentials component (`ctx.tokens`), refreshed ahead
 *   of expiry and once more on a 401, or a token the channel was given (`accessToken`);
 * - is paced by the channel's one pace through `ctx.fetch`, which charges a write ten units of the
 *   leaky bucket and a read one, as Lightspeed counts them;
 * - on a 429, waits what the bucket headers say (`X-LS-API-Bucket-Level: used/size`,
 *   `X-LS-API-Drip-Rate`) before the same request may go again, or the `Retry-After` when one is given.
 * Errors come back as `{"httpCode":"…","httpMessage":"…","message":"…","errorClass":"…"}`; they
 * become ConnectorErrors that say whether a retry may help and whether the fault is the channel's as
 * a whole or one item's.
 */
import { ConnectorError, type ConnectorContext, type TokenSource } from '../types';
import { parseRetryAfter } from '../../util';
import { sendJson, type JsonAnswer } from '../json-request';
import { retryUnauthorized } from '../kit/oauth';
import { wholeSetting } from '../kit/settings';

export type Params = Record<string, string | number>;

export const DEFAULT_API_URL = 'https://api.lightspeedapp.com';
export const PLATFORM = 'Lightspeed Retail (R-Series)';

/** A write's cost and a read's in the leaky bucket (units), and its default size and drip. */
export const WRITE_COST = 10;
export const BUCKET_SIZE = 60;
export const DRIP_PER_SECOND = 1;

/** The API's own message in an error answer; '' when there is none. */
function lsMessage(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const m = (body as { message?: unknown }).message;
  return typeof m === 'string' ? m.replace(/\s+/g, ' ').trim().slice(0, 300) : '';
}

/**
 * How long until a request of `cost` units fits in the bucket, from the headers of a 429
 * (`used/size`, drip per second); null when they do not say.
 */
export function bucketWaitMs(level: string | null, drip: string | null, cost: number): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(level ?? '');
  const rate = Number(drip);
  if (!m || !Number.isFinite(rate) || rate <= 0) return null;
  const over = Number(m[1]) + cost - Number(m[2]);
  return Math.max(1000, Math.ceil((Math.max(0, over) / rate) * 1000));
}

export class LsHttp {
  /** The API's address, without a trailing slash. */
  readonly url: string;
  readonly accountId: string;
  /** Records per list page (setting pageSize, 1–100: V3 answers at most 100). */
  readonly pageSize: number;
  private readonly staticToken: string | null;
  private readonly tokens: TokenSource | null;
  private readonly timeoutMs: number;
  private readonly doFetch: typeof fetch;
  private readonly now: () => number;

  constructor(ctx: ConnectorContext) {
    const accountId = ctx.settings.accountId;
    const id = typeof accountId === 'number' ? String(accountId) : typeof accountId === 'string' ? accountId.trim() : '';
    if (!/^\d+$/.test(id)) throw new ConnectorError(`The ${PLATFORM} setting accountId must be the account's number (the digits after /Account/ in the API, or in Settings → Account in Lightspeed).`, false);
    this.accountId = id;
    const configured = (ctx.baseUrl ?? DEFAULT_API_URL).trim();
    if (!/^https?:\/\/[^/]+/i.test(configured)) throw new ConnectorError(`The ${PLATFORM} channel's baseUrl must be an http(s) address, e.g. ${DEFAULT_API_URL}.`, false);
    this.url = configured.replace(/\/+$/, '').replace(/\/API\/V3$/i, '');
    this.tokens = ctx.tokens ?? null;
    this.staticToken = ctx.credentials.accessToken ?? null;
    if (!this.tokens && !this.staticToken) {
      throw new ConnectorError(`The ${PLATFORM} channel needs its OAuth client (credentials clientId and clientSecret, then \`npm run stockrelay -- authorize --channel <id>\`) or the credential accessToken.`, false);
    }
    this.pageSize = wholeSetting(ctx, PLATFORM, 'pageSize', 100, 1, 100);
    this.timeoutMs = wholeSetting(ctx, PLATFORM, 'timeoutMs', 30_000, 100, 600_000);
    this.doFetch = ctx.fetch ?? fetch;
    const clock = ctx.clock;
    this.now = clock ? () => clock().getTime() : () => Date.now();
  }

  /** The address of an account resource: `Item`, `Item/12`, `Sale`. */
  resourceUrl(path: string): string {
    return `${this.url}/API/V3/Account/${this.accountId}/${path}.json`;
  }

  /** Whether a `next` address the API gave is one of this account's (the token is never sent elsewhere). */
  ownsUrl(u: string): boolean {
    try {
      const a = new URL(u);
      const b = new URL(this.url);
      return a.origin === b.origin && a.pathname.startsWith(`/API/V3/Account/${this.accountId}/`);
    } catch {
      return false;
    }
  }

  private async token(signal?: AbortSignal): Promise<string> {
    return this.tokens ? this.tokens.accessToken(signal) : this.staticToken!;
  }

  private scrub(msg: string, token: string | null): string {
    let out = msg;
    for (const s of [token, this.staticToken]) if (s && s.length >= 4) out = out.split(s).join('[redacted]');
    return out;
  }

  /**
   * One API call answering JSON. `target`: a resource path (`Item/12`) or a whole address the API
   * gave (`@attributes.next`). `item`: the request names one item, so the API's 404 is that item's
   * refusal, not a wrong address. Every failure is a ConnectorError.
   */
  async call<T>(method: 'GET' | 'PUT', target: string, what: string, opts: { params?: Params; body?: unknown; item?: boolean } = {}, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const u = new URL(/^https?:/i.test(target) ? target : this.resourceUrl(target));
    for (const [k, v] of Object.entries(opts.params ?? {})) u.searchParams.set(k, String(v));
    const { answer: res, token } = await retryUnauthorized(this.tokens, await this.token(signal), (t) => this.send(method, u, t, what, opts.body, signal), signal);
    if (res.status >= 200 && res.status < 300) {
      if (res.json === null || typeof res.json !== 'object') throw new ConnectorError(`${PLATFORM} answered without JSON while trying to ${what}; it will be retried.`, true, null, res.status);
      return res.json as T;
    }
    throw this.failure(method, res, res.json, what, token, opts.item === true);
  }

  private send(method: string, u: URL, token: string, what: string, body: unknown, signal?: AbortSignal): Promise<JsonAnswer> {
    return sendJson(this.doFetch, { platform: PLATFORM, method, url: u, headers: { authorization: `Bearer ${token}` }, body, what, timeoutMs: this.timeoutMs, signal, redirect: 'manual', scrub: (m) => this.scrub(m, token), why: 'detailed' });
  }

  private failure(method: string, res: { status: number; headers: Headers }, body: unknown, what: string, token: string, item: boolean): ConnectorError {
    const status = res.status;
    const text = lsMessage(body);
    const said = text ? ` (${text})` : '';
    let e: ConnectorError;
    if (status === 429) {
      const cost = method === 'GET' ? 1 : WRITE_COST;
      const wait = parseRetryAfter(res.headers.get('retry-after'), this.now()) ?? bucketWaitMs(res.headers.get('x-ls-api-bucket-level'), res.headers.get('x-ls-api-drip-rate'), cost) ?? 1000;
      e = new ConnectorError(`${PLATFORM}'s rate limit is full (HTTP 429, bucket ${res.headers.get('x-ls-api-bucket-level') ?? 'not given'}) while trying to ${what}; retry in ${Math.ceil(wait / 1000)} s.`, true, wait, 429);
    } else if (status === 401) {
      e = new ConnectorError(`${PLATFORM} refused the channel's token (HTTP 401)${said} while trying to ${what}: authorise the channel again (\`npm run stockrelay -- authorize --channel <id>\`), or check the accessToken credential.`, false, null, 401);
    } else if (status === 403) {
      e = new ConnectorError(`${PLATFORM} refused the request (HTTP 403)${said} while trying to ${what}: the authorisation lacks a scope (employee:inventory, employee:register_read) or is for another account than accountId ${this.accountId}.`, false, null, 403, { channelFault: true });
    } else if (status === 404 && item && text !== '') {
      // The API's own answer for an id it does not have (an item deleted since discovery): that item only.
      e = new ConnectorError(`${PLATFORM} does not have this item (HTTP 404)${said} while trying to ${what}; run catalog discovery again.`, false, null, 404, { channelFault: false });
    } else if (status === 404) {
      e = new ConnectorError(`${PLATFORM} has no such address (HTTP 404)${said} while trying to ${what}: check the channel's baseUrl (${this.url}) and accountId (${this.accountId}).`, false, null, 404);
    } else if (status >= 500 || status === 408) {
      e = new ConnectorError(`${PLATFORM} had a server error (HTTP ${status})${said} while trying to ${what}; it will be retried.`, true, parseRetryAfter(res.headers.get('retry-after'), this.now()), status);
    } else if (status >= 300 && status < 400) {
      e = new ConnectorError(`${PLATFORM} redirected the request (HTTP ${status}) while trying to ${what}: check the channel's baseUrl (${this.url}).`, false, null, status, { channelFault: true });
    } else {
      e = new ConnectorError(`${PLATFORM} rejected the request (HTTP ${status})${said} while trying to ${what}.`, false, null, status);
    }
    return new ConnectorError(this.scrub(e.message, token), e.retryable, e.retryAfterMs, e.status, { channelFault: e.channelFault });
  }
}
