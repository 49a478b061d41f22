/**
 * A Wix site with Wix Stores as a real HTTP server on 127.0.0.1, for tests and the sandbox, running
 * catalog V1 or V3 (`catalogVersion`). It answers, with an API key (`Authorization`) and the site
 * (`wix-site-id`):
 * - GET /stores/v3/provision/version;
 * - V1: POST /stores/v1/products/query (offset paging, `totalResults`), PATCH /stores/v1/products/{id},
 *   POST /stores-reader/v2/inventoryItems/query, POST /stores/v2/inventoryItems/increment and
 *   /decrement (all or nothing: an unknown or refused variant refuses the request);
 * - V3: POST /stores/v3/products/query (cursor paging), GET and PATCH /stores/v3/products/{id}
 *   (revision checked), POST /stores/v3/inventory-items/query (cursor paging),
 *   POST /stores/v3/bulk/inventory-items/update (per item results; a stale revision fails that item);
 * - GET /ecom/v1/orders/{id}.
 * Errors in Wix's shape `{message, details:{applicationError:{code, description}}}`; the rate limit
 * Wix publishes (200 requests a minute per site) when `rateLimit` is on, answered 429 with
 * Retry-After. Sales, refunds, cancellations and dashboard edits send the webhooks Wix sends
 * (model.ts), and so does every write of ours (the echo).
 */
import http from 'node:http';
import { WindowCounter, commonApiFault, readRequest, type Emulator, type SaleMoney } from '../../emulator';
import { WIX_RATE_LIMIT, WixApiError, WixSite, type Json, type Product, type WixEmulatorOptions } from './model';

export { WIX_RATE_LIMIT, V1_DEFAULT_VARIANT, type WixEmulatorOptions } from './model';

type Route = { status?: number; body: Json; write?: boolean };
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});

export class WixEmulator extends WixSite implements Emulator {
  private readonly limit: WindowCounter | null;
  private readonly pageSize: number;

  constructor(opts: WixEmulatorOptions) {
    super(opts);
    this.limit = opts.rateLimit ? new WindowCounter(WIX_RATE_LIMIT) : null;
    this.pageSize = opts.pageSize ?? 100;
  }

  isStockWrite(r: { method: string; path: string }): boolean {
    return r.method === 'POST' && /\/(increment|decrement|bulk\/inventory-items\/update)$/.test(r.path);
  }

  selfCheck(): string[] {
    return [...this.internalErrors];
  }

  describeWebhook(body: string): string {
    try {
      const payload = JSON.parse(Buffer.from(body.split('.')[1] ?? '', 'base64url').toString('utf8')) as { data: string };
      return String((JSON.parse(payload.data) as { eventType?: unknown }).eventType ?? '');
    } catch {
      return '';
    }
  }

  // ------------------------------------------------------------------ what happens on the site

  private product(sku: string): Product {
    const p = this.bySku.get(sku);
    if (!p) throw new Error(`The Wix emulator has no product with SKU ${sku}.`);
    return p;
  }

  async sell(sale: { sku: string; quantity: number; locationId?: string } & SaleMoney): Promise<{ orderId: string }> {
    // Wix's checkout takes stock from the site's default location only (catalog V3).
    const loc = this.locationIds[0]!;
    if (sale.locationId !== undefined && sale.locationId !== loc) throw new Error(`A Wix store sells from its default location (${loc}) only, not from ${sale.locationId}.`);
    return { orderId: this.placeOrder(this.product(sale.sku), sale.quantity, loc, sale).id };
  }

  async refund(r: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const o = this.orders.get(r.orderId);
    if (!o) throw new Error(`The Wix emulator has no order ${r.orderId}.`);
    return { refundId: this.refundOrder(o, r.restock, r.quantity) };
  }

  /** The order is canceled in the dashboard, with or without putting its items back. */
  async cancel(orderId: string, restock: boolean): Promise<void> {
    const o = this.orders.get(orderId);
    if (!o) throw new Error(`The Wix emulator has no order ${orderId}.`);
    this.cancelOrder(o, restock);
  }

  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    this.changeLevel(this.product(change.sku), change.locationId ?? this.locationIds[0]!, change.available, false);
  }

  // ------------------------------------------------------------------ HTTP

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { body, url, method } = await readRequest(req, this.baseUrl);
    this.requests.push({ method, path: url.pathname, body });
    const send = (status: number, payload: Json, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    const fault = await commonApiFault(this.faults.api);
    if (fault === 'hang') return this.hang(res);
    if (fault === 401) return send(401, new WixApiError(401, 'UNAUTHENTICATED: the API key is invalid or was revoked', 'UNAUTHENTICATED').body());
    if (fault === 403) return send(403, new WixApiError(403, 'PERMISSION_DENIED: the identity lacks the permission this method needs', 'PERMISSION_DENIED').body());
    if (fault === 404) return send(404, { message: 'Not Found', details: {} });
    const f = this.faults.api;
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      return send(429, new WixApiError(429, 'Too many requests', 'TOO_MANY_REQUESTS').body(), { 'retry-after': String(f.rateLimitNext.retryAfterSeconds) });
    }
    if (this.limit) {
      const at = this.clockMs();
      const admitted = this.limit.admit(at);
      if (!admitted.ok) {
        const seconds = Math.max(1, Math.ceil(admitted.retryAfterMs / 1000));
        this.rateLimited.push({ at, retryAfterMs: seconds * 1000 });
        return send(429, new WixApiError(429, 'Too many requests', 'TOO_MANY_REQUESTS').body(), { 'retry-after': String(seconds) });
      }
    }
    if (req.headers.authorization !== this.opts.apiKey) return send(401, new WixApiError(401, 'UNAUTHENTICATED: the API key is invalid or was revoked', 'UNAUTHENTICATED').body());
    if (req.headers['wix-site-id'] !== this.opts.siteId) return send(403, new WixApiError(403, 'PERMISSION_DENIED: the API key does not belong to the account that owns this site', 'PERMISSION_DENIED').body());
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      return send(500, new WixApiError(500, 'Internal error', 'INTERNAL').body());
    }
    try {
      const out = this.route(method, url.pathname, obj(body));
      if (out.write && f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
        f.loseWriteAnswerNext--;
        return this.hang(res);
      }
      send(out.status ?? 200, out.body);
    } catch (err) {
      if (err instanceof WixApiError) return send(err.status, err.body());
      this.internalErrors.push(`${method} ${url.pathname}: ${String(err)}`);
      send(500, new WixApiError(500, 'Internal error', 'INTERNAL').body());
    }
  }

  private route(method: string, path: string, body: Json): Route {
    if (method === 'GET' && path === '/stores/v3/provision/version') return { body: { catalogVersion: `${this.version}_CATALOG` } };
    let m: RegExpExecArray | null;
    if (method === 'GET' && (m = /^\/ecom\/v1\/orders\/([^/]+)$/.exec(path))) {
      const o = this.orders.get(decodeURIComponent(m[1]!));
      if (!o) throw new WixApiError(404, 'Order not found', 'ORDER_NOT_FOUND');
      return { body: { order: this.orderBody(o) } };
    }
    const v1 = path.startsWith('/stores/v1/') || path.startsWith('/stores/v2/') || path.startsWith('/stores-reader/v2/');
    const v3 = path.startsWith('/stores/v3/');
    if ((v1 && this.version !== 'V1') || (v3 && this.version !== 'V3')) {
      throw new WixApiError(428, `This site runs catalog ${this.version}; ${path} is a method of the other catalog version.`, 'CATALOG_VERSION_MISMATCH');
    }
    if (v1) return this.routeV1(method, path, body);
    if (v3) return this.routeV3(method, path, body);
    throw new WixApiError(404, 'Not Found');
  }

  /** The page of `all` from `offset` (a cache that ignores paging answers the first again). */
  private page<T>(all: T[], offset: number): T[] {
    const from = this.faults.api.ignorePaging ? 0 : offset;
    return all.slice(from, from + this.pageSize);
  }

  private limitOf(paging: Json): number {
    const limit = paging.limit === undefined ? this.pageSize : Number(paging.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new WixApiError(400, 'paging.limit must be from 1 to 100', 'INVALID_ARGUMENT');
    return Math.min(limit, this.pageSize);
  }

  private routeV1(method: string, path: string, body: Json): Route {
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/stores/v1/products/query') {
      const paging = obj(obj(body.query).paging);
      this.limitOf(paging);
      const all = [...this.products.values()];
      const page = this.page(all, Number(paging.offset ?? 0));
      const products = page.map((p) => ({
        id: p.id,
        name: p.name,
        sku: p.sku,
        visible: p.visible,
        manageVariants: false,
        stock: { trackInventory: true, inStock: (this.item(p, 'default')?.quantity ?? 0) > 0, quantity: this.item(p, 'default')?.quantity ?? 0 },
        ...(body.includeVariants === true ? { variants: [{ id: p.variantId, choices: {}, variant: { sku: p.sku, visible: true }, stock: { trackQuantity: true, quantity: this.item(p, 'default')?.quantity ?? 0, inStock: true } }] } : {}),
      }));
      return { body: { products, metadata: { items: products.length, offset: Number(paging.offset ?? 0) }, totalResults: all.length } };
    }
    if (method === 'PATCH' && (m = /^\/stores\/v1\/products\/([^/]+)$/.exec(path))) {
      const p = this.products.get(decodeURIComponent(m[1]!));
      if (!p) throw new WixApiError(404, 'Product not found', 'PRODUCT_NOT_FOUND');
      const visible = obj(body.product).visible;
      if (typeof visible === 'boolean') p.visible = visible;
      return { body: { product: { id: p.id, name: p.name, visible: p.visible } } };
    }
    if (method === 'POST' && path === '/stores-reader/v2/inventoryItems/query') return this.queryInventoryV1(body);
    if (method === 'POST' && (path === '/stores/v2/inventoryItems/increment' || path === '/stores/v2/inventoryItems/decrement')) {
      const up = path.endsWith('increment');
      const data = (up ? body.incrementData : body.decrementData) as unknown;
      if (!Array.isArray(data) || data.length === 0) throw new WixApiError(400, `${up ? 'incrementData' : 'decrementData'} is required`, 'INVALID_ARGUMENT');
      // All or nothing: every variant is checked before any is changed.
      const changes = data.map((raw) => {
        const d = obj(raw);
        const p = this.products.get(String(d.productId));
        const by = Number(up ? d.incrementBy : d.decrementBy);
        if (!p || p.variantId !== d.variantId || this.faults.api.refuseSku === p.sku) throw new WixApiError(404, `Product ${String(d.productId)} not found`, 'PRODUCT_NOT_FOUND');
        if (!Number.isInteger(by) || by < 1) throw new WixApiError(400, `${up ? 'incrementBy' : 'decrementBy'} must be a positive whole number`, 'INVALID_ARGUMENT');
        return { p, by };
      });
      for (const c of changes) this.changeLevel(c.p, 'default', this.item(c.p, 'default')!.quantity + (up ? c.by : -c.by), true);
      return { body: {}, write: true };
    }
    throw new WixApiError(404, 'Not Found');
  }

  private queryInventoryV1(body: Json): Route {
    const query = obj(body.query);
    const paging = obj(query.paging);
    this.limitOf(paging);
    let filter: Json = {};
    try {
      filter = typeof query.filter === 'string' ? obj(JSON.parse(query.filter)) : obj(query.filter);
    } catch {
      throw new WixApiError(400, 'filter is not valid JSON', 'INVALID_ARGUMENT');
    }
    const ids = obj(filter.productId).$in;
    const all = [...this.products.values()].filter((p) => !Array.isArray(ids) || ids.includes(p.id));
    const page = this.page(all, Number(paging.offset ?? 0));
    const inventoryItems = page.map((p) => {
      const it = this.item(p, 'default')!;
      return { id: it.id, productId: p.id, externalId: p.id, trackQuantity: true, variants: [{ variantId: p.variantId, inStock: it.quantity > 0, quantity: it.quantity }], lastUpdated: this.now() };
    });
    return { body: { inventoryItems, metadata: { items: inventoryItems.length, offset: Number(paging.offset ?? 0) }, totalResults: all.length } };
  }

  /** A cursor page: the cursor is the offset, as opaque to the caller as Wix's. */
  private cursorPage<T>(all: T[], paging: Json): { items: T[]; pagingMetadata: Json } {
    const limit = this.limitOf(paging);
    const cursor = typeof paging.cursor === 'string' ? paging.cursor : null;
    const offset = cursor ? Number(Buffer.from(cursor, 'base64url').toString('utf8')) : 0;
    if (!Number.isInteger(offset) || offset < 0) throw new WixApiError(400, 'cursor is invalid', 'INVALID_CURSOR');
    const from = this.faults.api.ignorePaging ? 0 : offset;
    const items = all.slice(from, from + limit);
    const hasNext = this.faults.api.ignorePaging ? true : from + limit < all.length;
    return { items, pagingMetadata: { count: items.length, cursors: hasNext ? { next: Buffer.from(String(from + limit)).toString('base64url') } : {}, hasNext } };
  }

  private routeV3(method: string, path: string, body: Json): Route {
    let m: RegExpExecArray | null;
    if (method === 'POST' && path === '/stores/v3/products/query') {
      const { items, pagingMetadata } = this.cursorPage([...this.products.values()], obj(obj(body.query).cursorPaging));
      return { body: { products: items.map((p) => this.productV3(p)), pagingMetadata } };
    }
    if ((m = /^\/stores\/v3\/products\/([^/]+)$/.exec(path))) {
      const p = this.products.get(decodeURIComponent(m[1]!));
      if (!p) throw new WixApiError(404, 'Product not found', 'PRODUCT_NOT_FOUND');
      if (method === 'GET') return { body: { product: this.productV3(p) } };
      if (method === 'PATCH') {
        const given = obj(body.product);
        if (String(given.revision) !== String(p.revision)) throw new WixApiError(409, 'The product was changed since its revision was read', 'REVISION_MISMATCH');
        if (typeof given.visible === 'boolean') p.visible = given.visible;
        p.revision++;
        return { body: { product: this.productV3(p) } };
      }
    }
    if (method === 'POST' && path === '/stores/v3/inventory-items/query') {
      const query = obj(body.query);
      const filter = obj(query.filter);
      const variants = obj(filter.variantId).$in;
      const locations = obj(filter.locationId).$in;
      const all = [...this.products.values()].flatMap((p) => this.locationIds.filter((l) => this.item(p, l) && (!Array.isArray(variants) || variants.includes(p.variantId)) && (!Array.isArray(locations) || locations.includes(l))).map((l) => this.itemBody(p, l)));
      const { items, pagingMetadata } = this.cursorPage(all, obj(query.cursorPaging));
      return { body: { inventoryItems: items, pagingMetadata } };
    }
    if (method === 'POST' && path === '/stores/v3/bulk/inventory-items/update') return this.bulkUpdate(body);
    throw new WixApiError(404, 'Not Found');
  }

  private productV3(p: Product): Json {
    return { id: p.id, revision: String(p.revision), name: p.name, visible: p.visible, productType: 'PHYSICAL', variantsInfo: { variants: [{ id: p.variantId, sku: p.sku, visible: true, choices: [] }] } };
  }

  private bulkUpdate(body: Json): Route {
    const list = body.inventoryItems;
    if (!Array.isArray(list) || list.length === 0 || list.length > 1000) throw new WixApiError(400, 'inventoryItems must hold 1 to 1000 items', 'INVALID_ARGUMENT');
    const results = list.map((raw, originalIndex) => {
      const given = obj(obj(raw).inventoryItem);
      const found = [...this.products.values()].flatMap((p) => this.locationIds.filter((l) => this.item(p, l)?.id === given.id).map((l) => ({ p, l })))[0];
      const fail = (code: string, description: string) => ({ itemMetadata: { id: given.id ?? null, originalIndex, success: false, error: { code, description } } });
      if (!found || this.faults.api.refuseSku === found.p.sku) return fail('INVENTORY_ITEM_NOT_FOUND', 'Inventory item not found');
      const it = this.item(found.p, found.l)!;
      if (String(given.revision) !== String(it.revision)) return fail('REVISION_MISMATCH', 'The inventory item was changed since its revision was read');
      if (typeof given.quantity !== 'number' || !Number.isInteger(given.quantity)) return fail('INVALID_ARGUMENT', 'quantity must be a whole number');
      this.changeLevel(found.p, found.l, given.quantity, true);
      return { itemMetadata: { id: it.id, originalIndex, success: true } };
    });
    const ok = results.filter((r) => r.itemMetadata.success).length;
    return { body: { results, bulkActionMetadata: { totalSuccesses: ok, totalFailures: results.length - ok, undetailedFailures: 0 } }, write: true };
  }
}
