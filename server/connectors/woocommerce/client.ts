/**
 * The WooCommerce connector's calls to the REST API v3 (`{store}/wp-json/wc/v3/…`) through the
 * official `@woocommerce/woocommerce-rest-api` client (axios). Over https the client sends the
 * consumer key and secret as HTTP Basic (or as `consumer_key`/`consumer_secret` query parameters
 * with `queryStringAuth`); over plain http, such as the emulator on http://127.0.0.1:PORT, it signs
 * every request with one-legged OAuth 1.0a (HMAC-SHA256, query-string parameters), which is what
 * WooCommerce requires on non-TLS requests. A client is made per call so the call's AbortSignal
 * reaches axios; answers of every status come back to us (`validateStatus`), so WooCommerce's
 * `{code, message, data:{status}}` errors become ConnectorErrors here.
 */
import WooCommerceRestApi from '@woocommerce/woocommerce-rest-api';
import {
  ConnectorError,
  type ConnectorContext,
  type LevelReading,
  type ListingRef,
  type PlatformListing,
  type PushOutcome,
  type PushTarget,
} from '../types';
import { chunks, parseRetryAfter } from '../../util';
import { PageGuard } from '../paging';
import { WOO_LOCATION, wooId } from './translate';

/** WooCommerce refuses more than 100 objects per batch request (`woocommerce_rest_batch_items_limit`). */
export const MAX_BATCH = 100;
/** WordPress caps `per_page` at 100. */
export const MAX_PAGE = 100;
/**
 * WooCommerce's error codes for one id it does not have (`woocommerce_rest_product_invalid_id`,
 * `woocommerce_rest_product_variation_invalid_id`, `woocommerce_rest_shop_order_invalid_id`, …).
 */
const ITEM_NOT_FOUND = /^woocommerce_rest_[a-z_]*invalid_id$/;

type Obj = Record<string, unknown>;
type Method = 'get' | 'post' | 'put';

interface Answer<T> {
  data: T;
  headers: Record<string, string>;
}

interface WooProduct {
  id: number;
  parent_id?: number;
  name?: string;
  type?: string;
  sku?: string | null;
  manage_stock?: boolean | 'parent';
  stock_quantity?: number | null;
  attributes?: { name?: string; option?: string }[];
}

/** A listing's WooCommerce ids: simple products have variantId = productId. */
interface Ids {
  productId: string;
  variationId: string | null;
}

function idsOf(ref: Pick<ListingRef, 'productId' | 'variantId'>): Ids | null {
  const productId = wooId(ref.productId);
  if (!productId) return null;
  const v = ref.variantId === undefined || ref.variantId === '' ? productId : wooId(ref.variantId);
  if (!v) return null;
  return { productId, variationId: v === productId ? null : v };
}

/** A header's whole, non-negative number, or null when absent or anything else. */
function wholeNumber(v: string | undefined): number | null {
  if (v === undefined || !/^\d{1,9}$/.test(v.trim())) return null;
  return Number(v.trim());
}

/** Where a group of listings is read and written: the products collection, or one product's variations. */
function groupKey(ids: Ids): string {
  return ids.variationId ? ids.productId : '';
}

export class WooClient {
  /** The store address, without a trailing slash. */
  readonly url: string;
  private readonly key: string;
  private readonly secret: string;
  /** Items per list page (setting pageSize, 1–100). */
  readonly pageSize: number;
  private readonly timeoutMs: number;
  /** The channel's pace: axios does not send through `ctx.fetch`, so each request takes its turn here. */
  private readonly requestTurn: ((signal?: AbortSignal) => Promise<void>) | null;

  constructor(ctx: ConnectorContext) {
    const configured = ctx.baseUrl ?? (typeof ctx.settings.storeUrl === 'string' ? ctx.settings.storeUrl : null);
    if (!configured || !/^https?:\/\/[^/]+/i.test(configured.trim())) {
      throw new ConnectorError('The WooCommerce channel needs the store address: baseUrl (or the setting storeUrl), e.g. https://shop.example.com.', false);
    }
    const key = ctx.credentials.consumerKey;
    const secret = ctx.credentials.consumerSecret;
    if (!key) throw new ConnectorError('The WooCommerce channel needs the credential consumerKey (WooCommerce → Settings → Advanced → REST API).', false);
    if (!secret) throw new ConnectorError('The WooCommerce channel needs the credential consumerSecret.', false);
    const pageSize = ctx.settings.pageSize ?? MAX_PAGE;
    if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE) {
      throw new ConnectorError('The WooCommerce setting pageSize must be a whole number from 1 to 100.', false);
    }
    const timeoutMs = ctx.settings.timeoutMs ?? 30_000;
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 100) throw new ConnectorError('The WooCommerce setting timeoutMs must be a whole number of milliseconds (at least 100).', false);
    this.url = configured.trim().replace(/\/+$/, '');
    this.key = key;
    this.secret = secret;
    this.pageSize = pageSize;
    this.timeoutMs = timeoutMs;
    this.requestTurn = ctx.requestTurn ?? null;
  }

  private scrub(msg: string): string {
    let out = msg;
    for (const s of [this.key, this.secret]) if (s) out = out.split(s).join('[redacted]');
    return out;
  }

  private api(signal?: AbortSignal): WooCommerceRestApi {
    return new WooCommerceRestApi({
      url: this.url,
      consumerKey: this.key,
      consumerSecret: this.secret,
      version: 'wc/v3',
      axiosConfig: {
        timeout: this.timeoutMs,
        // Every answer comes back; errors are read from WooCommerce's body below.
        validateStatus: () => true,
        // The store address is used as given, never through an environment proxy.
        proxy: false,
        ...(signal ? { signal } : {}),
      },
    });
  }

  /** One REST call; every failure becomes a ConnectorError saying whether a retry may help. */
  async call<T>(method: Method, endpoint: string, what: string, opts: { data?: unknown; params?: Record<string, string | number> } = {}, signal?: AbortSignal): Promise<Answer<T>> {
    signal?.throwIfAborted();
    await this.requestTurn?.(signal);
    const api = this.api(signal);
    let res: { status: number; data: unknown; headers: Record<string, unknown> };
    try {
      if (method === 'get') res = (await api.get(endpoint, opts.params ?? {})) as typeof res;
      else if (method === 'post') res = (await api.post(endpoint, opts.data ?? {}, opts.params ?? {})) as typeof res;
      else res = (await api.put(endpoint, opts.data ?? {}, opts.params ?? {})) as typeof res;
    } catch (err) {
      signal?.throwIfAborted();
      const e = err as { code?: string; message?: string };
      const why = e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT' ? `no answer within ${this.timeoutMs} ms` : (e.code ?? e.message ?? 'network error');
      throw new ConnectorError(this.scrub(`WooCommerce could not be reached while trying to ${what} (${why}); it will be retried.`), true);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers ?? {})) if (v !== undefined && v !== null) headers[k.toLowerCase()] = String(v);
    if (res.status >= 200 && res.status < 300) {
      if (res.data === undefined || res.data === null || typeof res.data === 'string') {
        throw new ConnectorError(`WooCommerce answered without JSON while trying to ${what}.`, true, null, res.status);
      }
      return { data: res.data as T, headers };
    }
    throw this.failure(res.status, res.data, headers, what);
  }

  private failure(status: number, body: unknown, headers: Record<string, string>, what: string): ConnectorError {
    const err = typeof body === 'object' && body !== null ? (body as { code?: unknown; message?: unknown }) : {};
    const code = typeof err.code === 'string' ? err.code : null;
    const wooMsg = typeof err.message === 'string' ? err.message.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim() : '';
    const said = code ? ` (${code}${wooMsg ? `: ${wooMsg}` : ''})` : wooMsg ? ` (${wooMsg})` : '';
    const retryAfter = parseRetryAfter(headers['retry-after']);
    let e: ConnectorError;
    if (status === 429) {
      e = new ConnectorError(`The WooCommerce store's host is rate limiting us (HTTP 429) while trying to ${what}${retryAfter !== null ? `; retry in ${Math.ceil(retryAfter / 1000)} s` : ''}.`, true, retryAfter, 429);
    } else if (status === 401) {
      e = new ConnectorError(`WooCommerce refused the API key (HTTP 401)${said} while trying to ${what}: check the consumerKey and consumerSecret credentials of this channel and that the key has Read/Write permission.`, false, null, 401);
    } else if (status === 403) {
      e = new ConnectorError(`WooCommerce refused the request (HTTP 403)${said} while trying to ${what}: the API key's user lacks permission, or a security plugin or firewall blocks the REST API.`, false, null, 403);
    } else if (status === 404 && code !== null && ITEM_NOT_FOUND.test(code)) {
      // WooCommerce's own answer for one id it does not have: a refusal of that item only.
      e = new ConnectorError(`WooCommerce does not know this item (HTTP 404)${said} while trying to ${what}; run catalog discovery again.`, false, null, 404, { channelFault: false });
    } else if (status === 404) {
      // No route (rest_no_route), or a 404 from something in front of WordPress: the whole API is missing here.
      e = new ConnectorError(`The WooCommerce REST API v3 was not found at ${this.url}/wp-json/wc/v3 (HTTP 404)${said} while trying to ${what}: check the store address and that WooCommerce is active with pretty permalinks.`, false, null, 404);
    } else if (status >= 500 || status === 408) {
      e = new ConnectorError(`WooCommerce had a server error (HTTP ${status})${said} while trying to ${what}; it will be retried.`, true, retryAfter, status);
    } else {
      e = new ConnectorError(`WooCommerce rejected the request (HTTP ${status})${said} while trying to ${what}.`, false, null, status);
    }
    return new ConnectorError(this.scrub(e.message), e.retryable, e.retryAfterMs, e.status, { channelFault: e.channelFault });
  }

  // ---------------------------------------------------------------- read

  /** stock_quantity per WooCommerce id, for listings grouped by where they live; untracked stock is absent. */
  private async readGroup(group: string, ids: string[], signal?: AbortSignal): Promise<Map<string, number | null>> {
    const out = new Map<string, number | null>();
    for (const part of chunks(ids, MAX_PAGE)) {
      const endpoint = group === '' ? 'products' : `products/${group}/variations`;
      const { data } = await this.call<WooProduct[]>('get', endpoint, 'read stock levels', { params: { include: part.join(','), per_page: MAX_PAGE } }, signal);
      if (!Array.isArray(data)) throw new ConnectorError('WooCommerce answered a product list that is not a list.', true);
      const asked = new Set(part);
      const stranger = data.find((p) => !asked.has(String(p?.id)));
      if (stranger) {
        // The store (or a cache or proxy in front of it) ignored `include`: what it sent is not what
        // was asked for, and an item missing from it says nothing about that item.
        throw new ConnectorError(
          `WooCommerce answered a request for ${part.length} product id(s) with product ${String(stranger?.id)}, which was not asked for: the store, or a cache or proxy in front of it, ignores the "include" parameter of ${this.url}/wp-json/wc/v3/${endpoint}. Exclude /wp-json/ from page caching (or fix the plugin that rewrites the query); stock updates are held until it answers correctly.`,
          false,
          null,
          null,
          { channelFault: true },
        );
      }
      for (const p of data) {
        const managed = p.manage_stock === true || p.manage_stock === 'parent';
        out.set(String(p.id), managed && typeof p.stock_quantity === 'number' ? p.stock_quantity : null);
      }
    }
    return out;
  }

  private async readMany(list: Ids[], signal?: AbortSignal): Promise<Map<string, number | null>> {
    const groups = new Map<string, Set<string>>();
    for (const ids of list) {
      const g = groupKey(ids);
      groups.set(g, (groups.get(g) ?? new Set()).add(ids.variationId ?? ids.productId));
    }
    const all = new Map<string, number | null>();
    for (const [g, set] of groups) for (const [k, v] of await this.readGroup(g, [...set], signal)) all.set(k, v);
    return all;
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const usable = items.map((it) => ({ it, ids: idsOf(it.ref) })).filter((x): x is { it: (typeof items)[number]; ids: Ids } => x.ids !== null && x.it.locationId === WOO_LOCATION);
    const levels = await this.readMany(usable.map((u) => u.ids), signal);
    const out: LevelReading[] = [];
    for (const { it, ids } of usable) {
      const q = levels.get(ids.variationId ?? ids.productId);
      if (typeof q === 'number') out.push({ sku: it.sku, ref: it.ref, locationId: WOO_LOCATION, available: q });
    }
    return out;
  }

  // ---------------------------------------------------------------- push

  /**
   * Absolute sets (WooCommerce offers nothing safer), narrowed on both sides: a read before the
   * write refuses a target whose level is no longer what the hub expected (`stale`, nothing
   * written), and a read after the write reports what the store shows now (`stale` if a sale
   * landed in between).
   */
  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const outcomes: (PushOutcome | undefined)[] = new Array(targets.length);
    const usable: { index: number; target: PushTarget; ids: Ids }[] = [];
    targets.forEach((target, index) => {
      const ids = idsOf(target.ref);
      if (target.locationId !== WOO_LOCATION) {
        outcomes[index] = { sku: target.sku, locationId: target.locationId, status: 'failed', message: `WooCommerce keeps one stock level per item; map this channel's location to "${WOO_LOCATION}".` };
      } else if (!ids) {
        outcomes[index] = { sku: target.sku, locationId: target.locationId, status: 'failed', message: 'This listing has no WooCommerce product id; run catalog discovery again.' };
      } else if (!Number.isInteger(target.level) || target.level < 0) {
        outcomes[index] = { sku: target.sku, locationId: target.locationId, status: 'failed', message: `WooCommerce needs a whole, non-negative level (got ${target.level}).` };
      } else {
        usable.push({ index, target, ids });
      }
    });
    const groups = new Map<string, typeof usable>();
    for (const u of usable) groups.set(groupKey(u.ids), [...(groups.get(groupKey(u.ids)) ?? []), u]);
    for (const [group, members] of groups) {
      for (const part of chunks(members, MAX_BATCH)) await this.pushPart(group, part, outcomes, signal);
    }
    return outcomes.map((o, i) => o ?? { sku: targets[i]!.sku, locationId: targets[i]!.locationId, status: 'failed', message: 'WooCommerce gave no answer for this item.' });
  }

  private async pushPart(group: string, part: { index: number; target: PushTarget; ids: Ids }[], outcomes: (PushOutcome | undefined)[], signal?: AbortSignal): Promise<void> {
    const idOf = (p: (typeof part)[number]) => p.ids.variationId ?? p.ids.productId;
    const before = await this.readGroup(group, part.map(idOf), signal);
    const write: typeof part = [];
    for (const p of part) {
      const { sku, locationId, level, expected } = p.target;
      if (!before.has(idOf(p))) {
        outcomes[p.index] = { sku, locationId, status: 'failed', message: `WooCommerce has no ${p.ids.variationId ? `variation ${p.ids.variationId} of product ${p.ids.productId}` : `product ${p.ids.productId}`}; run catalog discovery again.` };
        continue;
      }
      const now = before.get(idOf(p)) ?? null;
      // Already there: nothing moved, or the level is unknown (never read, or an earlier attempt of ours
      // got no answer and may have landed). Not when the store moved to it from a level we knew on its
      // own (a restock whose webhook was lost, a sale during an outage): that is a change to explain.
      if (now === level && (expected === null || now === expected)) outcomes[p.index] = { sku, locationId, status: 'applied', level, wrote: false };
      else if (now !== null && expected !== null && now !== expected) outcomes[p.index] = { sku, locationId, status: 'stale', observed: now };
      else write.push(p);
    }
    if (write.length === 0) return;

    const body = (p: (typeof part)[number]) => ({ id: Number(idOf(p)), manage_stock: true, stock_quantity: p.target.level });
    const base = group === '' ? 'products' : `products/${group}/variations`;
    const written: typeof part = [];
    if (write.length === 1) {
      const p = write[0]!;
      const { id, ...fields } = body(p);
      try {
        await this.call('put', `${base}/${id}`, `set the stock of ${p.target.sku}`, { data: fields }, signal);
        written.push(p);
      } catch (err) {
        // A refusal of this one item (WooCommerce does not have it, or refuses its fields) is its
        // outcome; anything about the whole store (401, 403, no route, 5xx, no answer) fails the request.
        if (!(err instanceof ConnectorError) || err.channelFault) throw err;
        outcomes[p.index] = { sku: p.target.sku, locationId: p.target.locationId, status: 'failed', message: err.message };
      }
    } else {
      type Item = { id?: number; error?: { code?: string; message?: string } };
      const { data } = await this.call<{ update?: Item[] }>('post', `${base}/batch`, `set the stock of ${write.length} items`, { data: { update: write.map(body) } }, signal);
      const answers = Array.isArray(data.update) ? data.update : [];
      write.forEach((p, i) => {
        const a = answers.find((x) => x && String(x.id) === idOf(p)) ?? answers[i];
        if (!a) outcomes[p.index] = { sku: p.target.sku, locationId: p.target.locationId, status: 'failed', message: 'WooCommerce gave no answer for this item in the batch.' };
        else if (a.error) outcomes[p.index] = { sku: p.target.sku, locationId: p.target.locationId, status: 'failed', message: this.scrub(`WooCommerce refused the change: ${a.error.message ?? a.error.code ?? 'error'}`) };
        else written.push(p);
      });
    }
    if (written.length === 0) return;
    const after = await this.readGroup(group, written.map(idOf), signal);
    for (const p of written) {
      const now = after.get(idOf(p)) ?? null;
      const { sku, locationId, level } = p.target;
      outcomes[p.index] = now === level ? { sku, locationId, status: 'applied', level } : { sku, locationId, status: 'stale', observed: now };
    }
  }

  // ---------------------------------------------------------------- hide / relist

  async setVisible(ref: ListingRef, visible: boolean, signal?: AbortSignal): Promise<void> {
    const ids = idsOf(ref);
    if (!ids) throw new ConnectorError('This listing has no WooCommerce product id; run catalog discovery again.', false);
    if (ids.variationId) {
      await this.call('put', `products/${ids.productId}/variations/${ids.variationId}`, `${visible ? 'enable' : 'disable'} variation ${ids.variationId}`, { data: { status: visible ? 'publish' : 'private' } }, signal);
    } else {
      await this.call('put', `products/${ids.productId}`, `${visible ? 'show' : 'hide'} product ${ids.productId}`, { data: { catalog_visibility: visible ? 'visible' : 'hidden' } }, signal);
    }
  }

  // ---------------------------------------------------------------- catalog

  /**
   * Every page of a list, by `page` number. Stops at the last page WooCommerce reports
   * (`X-WP-TotalPages`, else `X-WP-Total` items), or at a short page when it reports neither; a page
   * with the same items as an earlier one (a cache or proxy that ignores `page`) or more pages than
   * the guard allows is an error, never a partial list (server/connectors/paging.ts).
   */
  private async allPages(endpoint: string, what: string, signal?: AbortSignal): Promise<WooProduct[]> {
    const out: WooProduct[] = [];
    const guard = new PageGuard({ platform: 'WooCommerce', what, hint: `the store, or a cache or proxy in front of it, ignores the "page" parameter of ${this.url}/wp-json/wc/v3/${endpoint}: exclude /wp-json/ from page caching (or fix the plugin that rewrites the query)` });
    for (let page = 1; ; page++) {
      const { data, headers } = await this.call<WooProduct[]>('get', endpoint, what, { params: { per_page: this.pageSize, page } }, signal);
      if (!Array.isArray(data)) throw new ConnectorError('WooCommerce answered a product list that is not a list.', true);
      guard.page(data.map((p) => String(p?.id)));
      out.push(...data);
      const totalPages = wholeNumber(headers['x-wp-totalpages']);
      const total = wholeNumber(headers['x-wp-total']);
      if (totalPages !== null ? page >= totalPages : total !== null ? out.length >= total : data.length < this.pageSize) break;
      if (data.length === 0) break;
      guard.more();
    }
    return out;
  }

  async listCatalog(signal?: AbortSignal): Promise<PlatformListing[]> {
    const out: PlatformListing[] = [];
    const sku = (s: unknown) => (typeof s === 'string' && s.trim() !== '' ? s : null);
    for (const p of await this.allPages('products', 'list the catalog', signal)) {
      if (p.type === 'grouped' || p.type === 'external') continue; // never stocked
      const name = p.name ?? '';
      if (p.type !== 'variable') {
        out.push({ sku: sku(p.sku), title: name, ref: { productId: String(p.id), variantId: String(p.id) } });
        continue;
      }
      for (const v of await this.allPages(`products/${p.id}/variations`, `list the variations of product ${p.id}`, signal)) {
        const attrs = (v.attributes ?? []).map((a) => a.option).filter((o): o is string => typeof o === 'string' && o !== '');
        out.push({ sku: sku(v.sku), title: attrs.length > 0 ? `${name} — ${attrs.join(', ')}` : name, ref: { productId: String(p.id), variantId: String(v.id) } });
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- expand

  async getOrder(orderId: string, signal?: AbortSignal): Promise<Obj | null> {
    try {
      const { data } = await this.call<Obj>('get', `orders/${orderId}`, `read order ${orderId}`, {}, signal);
      return data;
    } catch (err) {
      // WooCommerce has no such order; a 404 of the whole API (no route) is not an answer about it.
      if (err instanceof ConnectorError && err.status === 404 && !err.channelFault) return null;
      throw err;
    }
  }
}
