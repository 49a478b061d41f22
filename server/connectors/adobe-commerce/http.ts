/**
 * One request to the Adobe Commerce Admin REST API (`{baseUrl}/rest/<store code>/V1/…`) with the
 * integration's access token as `Authorization: Bearer <token>`, through Node's `fetch` (Adobe
 * publishes no Node client for the Commerce REST API). Every failure becomes a ConnectorError that
 * says whose fault it is (types.ts):
 * - 401 (the token was revoked or the integration lacks the resource), 403 (a firewall or WAF in
 *   front), 404 "Request does not match any route." (or a 404 that is not Magento's JSON): the
 *   channel's, not retried at once;
 * - 5xx, no connection: retryable; 429 (a host's limit: Commerce has none of its own): retryable
 *   after its Retry-After;
 * - 400 and Magento's 404 for one entity ("The product that was requested doesn't exist."): a
 *   refusal of what was asked, not the channel's.
 * Magento's messages carry placeholders (`%1`, `%sku`) filled from `parameters` (an object or a
 * list): they are filled in before the message is shown. The token never appears in a message.
 */
import { parseRetryAfter } from '../../util';
import { ConnectorError } from '../types';

type Obj = Record<string, unknown>;

export const ROUTE_MISSING = 'Request does not match any route.';

/** Magento's message with its placeholders filled from `parameters`. */
export function magentoMessage(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || typeof (body as Obj).message !== 'string') return null;
  let msg = (body as Obj).message as string;
  const params = (body as Obj).parameters;
  const values: Record<string, unknown> = {};
  if (Array.isArray(params)) {
    params.forEach((p, i) => {
      if (typeof p === 'object' && p !== null) Object.assign(values, p);
      else values[String(i + 1)] = p;
    });
  } else if (typeof params === 'object' && params !== null) Object.assign(values, params);
  msg = msg.replace(/%(\w+)/g, (m, k: string) => (values[k] !== undefined && values[k] !== null ? String(values[k]) : m));
  const errors = (body as Obj).errors;
  if (Array.isArray(errors) && errors.length > 0) {
    const details = errors.map((e) => magentoMessage(e)).filter((e): e is string => e !== null);
    if (details.length > 0) msg += ` (${details.join('; ')})`;
  }
  return msg;
}

export interface CallOptions {
  query?: [string, string | number][];
  body?: unknown;
  /** The store code in the path: `default` unless the call needs `all` (global product values). */
  store?: string;
}

export class AdobeHttp {
  readonly url: string;
  constructor(
    baseUrl: string,
    private readonly token: string,
    private readonly storeCode: string,
    private readonly fetchFn: typeof fetch = fetch,
  ) {
    this.url = baseUrl.replace(/\/+$/, '');
  }

  private scrub(s: string): string {
    return this.token.length >= 4 ? s.split(this.token).join('[access token]') : s;
  }

  /** `method path` (path after /V1), answered JSON; `what` says what was being done, for messages. */
  async call<T>(method: 'GET' | 'POST' | 'PUT', path: string, what: string, opts: CallOptions = {}, signal?: AbortSignal): Promise<T> {
    const qs = (opts.query ?? []).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
    const target = `${this.url}/rest/${opts.store ?? this.storeCode}/V1/${path}${qs ? `?${qs}` : ''}`;
    let res: Response;
    try {
      res = await this.fetchFn(target, {
        method,
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      throw new ConnectorError(`Adobe Commerce at ${this.url} did not answer while trying to ${what} (${this.scrub(String((err as Error)?.message ?? err))}); it will be retried.`, true);
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      throw new ConnectorError(`Adobe Commerce's answer broke off while trying to ${what}; it will be retried.`, true);
    }
    let body: unknown = undefined;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.ok) {
      if (body === undefined) throw new ConnectorError(`Adobe Commerce answered something that is not JSON (HTTP ${res.status}) while trying to ${what}: a page cache, proxy or maintenance page may be in front of ${this.url}/rest. Nothing was taken from it.`, false, null, null, { channelFault: true });
      return body as T;
    }
    throw this.failure(res.status, body, res.headers.get('retry-after'), what);
  }

  private failure(status: number, body: unknown, retryAfterHeader: string | null, what: string): ConnectorError {
    const said = magentoMessage(body);
    const quote = said ? ` ("${said}")` : '';
    const retryAfter = parseRetryAfter(retryAfterHeader);
    let e: ConnectorError;
    if (status === 429) {
      e = new ConnectorError(`The Adobe Commerce store's host is rate limiting us (HTTP 429) while trying to ${what}${retryAfter !== null ? `; retry in ${Math.ceil(retryAfter / 1000)} s` : ''}.`, true, retryAfter, 429);
    } else if (status === 401) {
      e = new ConnectorError(`Adobe Commerce refused the access token (HTTP 401)${quote} while trying to ${what}: check the accessToken credential (System > Extensions > Integrations), that the integration may use the Catalog, Inventory and Sales resources, and that Stores > Configuration > Services > OAuth > Consumer Settings > "Allow OAuth Access Tokens to be used as standalone Bearer tokens" is Yes (off by default since 2.4.4).`, false, null, 401);
    } else if (status === 403) {
      e = new ConnectorError(`Adobe Commerce refused the request (HTTP 403)${quote} while trying to ${what}: a firewall or web application firewall in front of ${this.url} blocks /rest, or the server forbids it.`, false, null, 403);
    } else if (status === 404 && said !== null && said !== ROUTE_MISSING) {
      e = new ConnectorError(`Adobe Commerce does not have what was asked for (HTTP 404)${quote} while trying to ${what}; run catalog discovery again.`, false, null, 404, { channelFault: false });
    } else if (status === 404) {
      e = new ConnectorError(`The Adobe Commerce REST API was not found at ${this.url}/rest (HTTP 404)${quote} while trying to ${what}: check the channel's baseUrl, and for multi-source inventory that the Inventory (MSI) modules are enabled.`, false, null, 404);
    } else if (status >= 500 || status === 408) {
      e = new ConnectorError(`Adobe Commerce had a server error (HTTP ${status})${quote} while trying to ${what}; it will be retried.`, true, retryAfter, status);
    } else {
      e = new ConnectorError(`Adobe Commerce refused the request (HTTP ${status})${quote} while trying to ${what}.`, false, null, status);
    }
    return new ConnectorError(this.scrub(e.message), e.retryable, e.retryAfterMs, e.status, { channelFault: e.channelFault });
  }
}

/** searchCriteria query parameters: one filter (the schema declares index 0 only), one sort, a page. */
export function searchCriteria(opts: { filter?: { field: string; value: string; condition: string }; sort?: { field: string; direction: 'ASC' | 'DESC' }; pageSize: number; page: number }): [string, string | number][] {
  const q: [string, string | number][] = [];
  if (opts.filter) {
    q.push(['searchCriteria[filterGroups][0][filters][0][field]', opts.filter.field]);
    q.push(['searchCriteria[filterGroups][0][filters][0][value]', opts.filter.value]);
    q.push(['searchCriteria[filterGroups][0][filters][0][conditionType]', opts.filter.condition]);
  }
  if (opts.sort) {
    q.push(['searchCriteria[sortOrders][0][field]', opts.sort.field]);
    q.push(['searchCriteria[sortOrders][0][direction]', opts.sort.direction]);
  }
  q.push(['searchCriteria[pageSize]', opts.pageSize]);
  q.push(['searchCriteria[currentPage]', opts.page]);
  return q;
}

/** A searchCriteria answer: `items` and `total_count`, or a channel-fault error saying what is wrong. */
export function searchResult(data: unknown, what: string): { items: Obj[]; total: number } {
  const d = data as { items?: unknown; total_count?: unknown } | null;
  if (typeof d !== 'object' || d === null || !Array.isArray(d.items) || typeof d.total_count !== 'number' || !Number.isInteger(d.total_count) || d.total_count < 0) {
    throw new ConnectorError(`Adobe Commerce answered a list the hub cannot read (no items and total_count) while trying to ${what}. Nothing was taken from it.`, false, null, null, { channelFault: true });
  }
  d.items.forEach((it, i) => {
    if (typeof it !== 'object' || it === null || Array.isArray(it)) throw new ConnectorError(`Adobe Commerce answered a list whose item ${i + 1} is not an object while trying to ${what}. Nothing was taken from it.`, false, null, null, { channelFault: true });
  });
  return { items: d.items as Obj[], total: d.total_count };
}
