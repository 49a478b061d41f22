/**
 * A BigCommerce store as a real HTTP server on 127.0.0.1, for tests and the sandbox. It answers,
 * under `/stores/{store_hash}`, the routes the connector uses, in BigCommerce's shapes:
 * - `GET /v3/catalog/products` (`include=variants`, `page`, `limit` ≤ 250, `meta.pagination`),
 *   `PUT /v3/catalog/products/{id}` (`is_visible`), `PUT /v3/catalog/products/{id}/variants/{id}`
 *   (`purchasing_disabled`);
 * - `GET /v3/inventory/items` (`product_id:in`, `variant_id:in`, `location_id:in`, paged),
 *   `PUT /v3/inventory/adjustments/absolute`, `POST /v3/inventory/adjustments/relative` (≤ 2,000
 *   items, each with `location_id`, one of `product_id` / `variant_id` / `sku`, and `quantity`; an
 *   item of a product tracked by product must be named by `product_id`, as BigCommerce's 422 says);
 *   answered `{transaction_id}`; a 422 refuses the whole request and names the item;
 * - `GET /v2/orders/{id}` (`include=consignments&consignment_structure=object`),
 *   `GET /v2/orders/{id}/products`, `GET /v3/orders/{id}/payment_actions/refunds`,
 *   `GET /v3/settings/inventory`.
 * Auth is the `X-Auth-Token` of the store API account (401 otherwise); every answer carries the
 * `X-Rate-Limit-*` headers of the store's quota, a fixed window of `rateLimit` (150 per 30 s on
 * Standard and Plus plans), enforced with 429 when the emulator is made with one. Errors are v3
 * `{status, title, type, errors}` or v2 `[{status, message}]`.
 */
import http from 'node:http';
import crypto from 'node:crypto';
import { commonApiFault, type Emulator, type RequestWindow } from '../../emulator';
import { ADJUSTMENT_LIMIT, ApiError, UNENFORCED_QUOTA, v2Error, v3Error, type BigCommerceEmulatorOptions, type Json, type Product, type Variant } from './model';
import { BigCommerceStoreEvents } from './events';

export { BIGCOMMERCE_STANDARD_LIMIT, type BigCommerceEmulatorOptions } from './model';

type Query = Record<string, string>;

function ids(v: string | undefined): number[] | null {
  if (v === undefined || v === '') return null;
  return v.split(',').map((s) => Number(s.trim())).filter((n) => Number.isSafeInteger(n));
}

export class BigCommerceEmulator extends BigCommerceStoreEvents implements Emulator {
  private readonly token: string;
  private readonly quota: RequestWindow;
  private readonly enforced: boolean;
  /** SKUs whose stock was never set by an absolute adjustment: BigCommerce refuses relative ones for them (422). */
  readonly neverCounted = new Set<string>();
  private windowStart: number | null = null;
  private used = 0;

  constructor(opts: BigCommerceEmulatorOptions) {
    super(opts);
    this.token = opts.accessToken;
    this.enforced = opts.rateLimit !== undefined;
    this.quota = opts.rateLimit ?? { requests: UNENFORCED_QUOTA, windowMs: 30_000 };
  }

  /** A push of stock: an inventory adjustment (the simulation counts them). */
  isStockWrite(request: { method: string; path: string }): boolean {
    return /\/v3\/inventory\/adjustments\/(absolute|relative)$/.test(request.path);
  }

  /** Counts a request in the store's quota window; the headers every answer carries, and whether it is refused. */
  private admit(): { headers: Record<string, string>; refused: boolean } {
    const now = this.clockMs();
    if (this.windowStart === null || now >= this.windowStart + this.quota.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    const refused = this.enforced && this.used >= this.quota.requests;
    if (!refused) this.used++;
    const resetMs = this.windowStart + this.quota.windowMs - now;
    if (refused) this.rateLimited.push({ at: now, retryAfterMs: resetMs });
    return {
      refused,
      headers: {
        'x-rate-limit-time-window-ms': String(this.quota.windowMs),
        'x-rate-limit-time-reset-ms': String(resetMs),
        'x-rate-limit-requests-quota': String(this.quota.requests),
        'x-rate-limit-requests-left': String(Math.max(0, this.quota.requests - this.used)),
      },
    };
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    let badJson = false;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      badJson = true;
    }
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    const query: Query = Object.fromEntries(url.searchParams);
    this.requests.push({ method, path: url.pathname, body, query });
    let rate: Record<string, string> = {};
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': status >= 400 && !Array.isArray(payload) ? 'application/problem+json' : 'application/json', ...rate });
      res.end(JSON.stringify(payload));
    };
    const fault = await commonApiFault(this.faults.api);
    if (fault === 'hang') return this.hang(res);
    const f = this.faults.api;
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      rate = { 'x-rate-limit-time-window-ms': '30000', 'x-rate-limit-time-reset-ms': String(f.rateLimitNext.retryAfterSeconds * 1000), 'x-rate-limit-requests-quota': String(this.quota.requests), 'x-rate-limit-requests-left': '0' };
      return send(429, { status: 429, title: 'Too many requests', type: 'https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes', errors: {} });
    }
    const admitted = this.admit();
    rate = admitted.headers;
    if (admitted.refused) return send(429, { status: 429, title: 'Too many requests', type: 'https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes', errors: {} });
    if (fault === 401) return send(401, { status: 401, title: 'Unauthorized: the access token was revoked.', type: '', errors: {} });
    if (fault === 403) return send(403, { status: 403, title: 'You don’t have a required scope to access the endpoint', type: '', errors: {} });
    if (fault === 404) return send(404, { status: 404, title: 'Not Found', type: '', errors: {} });
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      return send(500, { status: 500, title: 'Internal Server Error', type: '', errors: {} });
    }
    if (req.headers['x-auth-token'] !== this.token) return send(401, { status: 401, title: 'Unauthorized', type: '', errors: {} });
    try {
      if (badJson) throw v3Error(400, 'The request body is not valid JSON.');
      const answer = await this.route(method, url.pathname, query, body, res);
      if (answer === undefined) return; // the answer was lost on purpose
      send(200, answer);
    } catch (err) {
      if (err instanceof ApiError) return send(err.status, err.body);
      send(500, { status: 500, title: `Emulator error: ${(err as Error).message}`, type: '', errors: {} });
    }
  }

  private async route(method: string, path: string, query: Query, body: unknown, res: http.ServerResponse): Promise<unknown> {
    const prefix = `/stores/${this.storeHash}`;
    if (!path.startsWith(`${prefix}/`)) throw v3Error(404, 'Not Found');
    const p = path.slice(prefix.length);
    let m: RegExpExecArray | null;
    if (method === 'GET' && p === '/v3/catalog/products') return this.listProducts(query);
    if (method === 'PUT' && (m = /^\/v3\/catalog\/products\/(\d+)$/.exec(p))) return this.updateProduct(Number(m[1]), body);
    if (method === 'PUT' && (m = /^\/v3\/catalog\/products\/(\d+)\/variants\/(\d+)$/.exec(p))) return this.updateVariant(Number(m[1]), Number(m[2]), body);
    if (method === 'GET' && p === '/v3/inventory/items') return this.inventoryItems(query);
    if ((method === 'PUT' && p === '/v3/inventory/adjustments/absolute') || (method === 'POST' && p === '/v3/inventory/adjustments/relative')) {
      const answer = this.adjust(p.endsWith('absolute') ? 'absolute' : 'relative', body);
      const f = this.faults.api;
      if (f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
        f.loseWriteAnswerNext--;
        await this.hang(res);
        return undefined;
      }
      return answer;
    }
    if (method === 'GET' && (m = /^\/v2\/orders\/(\d+)$/.exec(p))) return this.orderJson(this.orderOf(Number(m[1])), query.include?.split(',').includes('consignments') === true && query.consignment_structure === 'object');
    if (method === 'GET' && (m = /^\/v2\/orders\/(\d+)\/products$/.exec(p))) {
      const o = this.orderOf(Number(m[1]));
      return this.page(o.lines.map((l) => this.orderLineJson(o, l)), query, 50).data;
    }
    if (method === 'GET' && (m = /^\/v3\/orders\/(\d+)\/payment_actions\/refunds$/.exec(p))) return { data: this.orderOf(Number(m[1])).refunds.map((r) => this.refundJson(r)), meta: {} };
    if (method === 'GET' && p === '/v3/settings/inventory') {
      return { data: { product_out_of_stock_behavior: 'do_nothing', option_out_of_stock_behavior: 'do_nothing', update_stock_behavior: 'order_placed', edit_order_stock_adjustment: true, refund_order_stock_adjustment: this.refundRestocks, stock_level_display: 'dont_show' }, meta: {} };
    }
    throw v3Error(404, 'Not Found');
  }

  private orderOf(id: number) {
    const o = this.orders.get(id);
    if (!o) throw v2Error(404, 'The requested resource was not found.');
    return o;
  }

  /** One page of a list (`ignorePaging`: always the first, still saying there is more). */
  private page<T>(all: T[], query: Query, defaultLimit: number): { data: T[]; meta: Json } {
    const limit = Math.min(250, Math.max(1, Number(query.limit) || defaultLimit));
    const asked = Math.max(1, Number(query.page) || 1);
    const page = this.faults.api.ignorePaging ? 1 : asked;
    const totalPages = Math.max(1, Math.ceil(all.length / limit)) + (this.faults.api.ignorePaging ? 1 : 0);
    const data = all.slice((page - 1) * limit, page * limit);
    return { data, meta: { pagination: { total: all.length, count: data.length, per_page: limit, current_page: page, total_pages: totalPages, links: {} } } };
  }

  private listProducts(query: Query): unknown {
    const withVariants = (query.include ?? '').split(',').includes('variants');
    return this.page([...this.products.values()].map((p) => this.productJson(p, withVariants)), query, 50);
  }

  private productOf(id: number): Product {
    const p = this.products.get(id);
    if (!p) throw v3Error(404, 'The requested product was not found.');
    return p;
  }

  private updateProduct(id: number, body: unknown): unknown {
    const p = this.productOf(id);
    if (typeof body !== 'object' || body === null) throw v3Error(422, 'The request body must be a product object.');
    const b = body as Json;
    if ('is_visible' in b) {
      if (typeof b.is_visible !== 'boolean') throw v3Error(422, 'JSON data is missing or invalid', { is_visible: 'is_visible must be a boolean' });
      p.isVisible = b.is_visible;
    }
    return { data: this.productJson(p, false), meta: {} };
  }

  private updateVariant(productId: number, variantId: number, body: unknown): unknown {
    const p = this.productOf(productId);
    const v = p.variants.find((x) => x.id === variantId);
    if (!v) throw v3Error(404, 'The requested variant was not found.');
    const b = typeof body === 'object' && body !== null ? (body as Json) : {};
    if ('purchasing_disabled' in b) {
      if (typeof b.purchasing_disabled !== 'boolean') throw v3Error(422, 'JSON data is missing or invalid', { purchasing_disabled: 'purchasing_disabled must be a boolean' });
      v.purchasingDisabled = b.purchasing_disabled;
    }
    return { data: this.variantJson(p, v), meta: {} };
  }

  private inventoryItems(query: Query): unknown {
    const products = ids(query['product_id:in']);
    const variants = ids(query['variant_id:in']);
    const locations = ids(query['location_id:in']);
    const skus = query['sku:in']?.split(',') ?? null;
    const items: Json[] = [];
    for (const p of this.products.values()) {
      if (products && !products.includes(p.id)) continue;
      for (const v of this.stockedVariants(p)) {
        if ((variants && !variants.includes(v.id)) || (skus && !skus.includes(v.sku))) continue;
        items.push(this.inventoryItemJson(p, v, locations));
      }
    }
    return this.page(items, query, 50);
  }

  /** The variant an adjustment item names, checked as BigCommerce checks the tracking mode. */
  private itemOf(item: Json, index: number): { product: Product; variant: Variant } {
    const named = ['product_id', 'variant_id', 'sku'].filter((k) => item[k] !== undefined);
    if (named.length !== 1) throw v3Error(422, 'Payload contains invalid fields', { [`items.${index}`]: 'One of sku, product_id or variant_id is required.' });
    for (const p of this.products.values()) {
      for (const v of this.stockedVariants(p)) {
        const match = item.product_id !== undefined ? p.id === item.product_id : item.variant_id !== undefined ? v.id === item.variant_id || (p.tracking === 'product' && p.variants.some((x) => x.id === item.variant_id)) : v.sku === item.sku;
        if (!match) continue;
        if (p.tracking === 'product' && item.variant_id !== undefined) throw v3Error(422, `[Item with variant_id ${String(item.variant_id)} is tracked by product, please update stock by product id]`);
        if (p.tracking === 'variant' && item.product_id !== undefined) throw v3Error(422, `[Item with product_id ${String(item.product_id)} is tracked by variant, please update stock by variant id]`);
        if (this.faults.api.refuseSku === v.sku) throw v3Error(422, `Items with identity: [${named[0]} ${String(item[named[0]!])}] were not found`);
        return { product: p, variant: v };
      }
    }
    throw v3Error(422, `Items with identity: [${named[0]} ${String(item[named[0]!])}] were not found`);
  }

  /** An absolute or relative adjustment: every item checked first, then all applied (one transaction). */
  private adjust(kind: 'absolute' | 'relative', body: unknown): unknown {
    const items = typeof body === 'object' && body !== null && Array.isArray((body as Json).items) ? ((body as Json).items as unknown[]) : null;
    if (!items || items.length === 0) throw v3Error(422, 'Payload contains invalid fields', { items: 'items is required.' });
    if (items.length > ADJUSTMENT_LIMIT) throw v3Error(422, `Payload contains invalid fields`, { items: `No more than ${ADJUSTMENT_LIMIT} items are allowed.` });
    const planned = items.map((raw, i) => {
      const item = typeof raw === 'object' && raw !== null ? (raw as Json) : {};
      if (typeof item.location_id !== 'number' || !this.locationIds.includes(item.location_id)) throw v3Error(422, 'Payload contains invalid fields', { [`items.${i}.location_id`]: 'Location does not exist.' });
      if (typeof item.quantity !== 'number' || !Number.isSafeInteger(item.quantity)) throw v3Error(422, 'Payload contains invalid fields', { [`items.${i}.quantity`]: 'quantity must be an integer.' });
      if (kind === 'absolute' && item.quantity < 0) throw v3Error(422, 'Payload contains invalid fields', { [`items.${i}.quantity`]: 'quantity must not be negative.' });
      return { ...this.itemOf(item, i), location: item.location_id, quantity: item.quantity };
    });
    const uncounted = kind === 'relative' ? planned.find((x) => this.neverCounted.has(x.variant.sku)) : undefined;
    if (uncounted) {
      const named = uncounted.product.tracking === 'product' ? `product_id ${uncounted.product.id}` : `variant_id ${uncounted.variant.id}`;
      throw v3Error(422, `Items with identity: [${named}] requires absolute adjustment before relative`);
    }
    const written: string[] = [];
    for (const x of planned) {
      if (kind === 'absolute') this.neverCounted.delete(x.variant.sku);
      const now = x.variant.levels.get(x.location) ?? 0;
      const next = kind === 'absolute' ? x.quantity : now + x.quantity;
      x.variant.levels.set(x.location, next);
      if (next !== now) this.emitInventory(x.product, x.variant, next - now, false);
      written.push(x.variant.sku);
    }
    this.stockWritten(written);
    return { transaction_id: crypto.randomUUID() };
  }
}
