/**
 * A WooCommerce store as a real HTTP server on 127.0.0.1, for tests and the sandbox. It answers the
 * REST API v3 routes this connector uses, with WooCommerce's shapes:
 * - auth as WooCommerce does it on a non-TLS request (WC_REST_Authentication): one-legged OAuth 1.0a
 *   from the query string or an `Authorization: OAuth` header, HMAC-SHA1 or HMAC-SHA256 over
 *   `METHOD&url&params` keyed by `consumer_secret&`, a 15-minute timestamp window and nonce replay
 *   check; HTTP Basic is only read over TLS, so over http it counts as no credentials. Errors are
 *   WordPress REST errors `{code, message, data:{status}}`: `woocommerce_rest_authentication_error`
 *   (bad key, signature, timestamp, nonce), `woocommerce_rest_cannot_view` / `_cannot_edit` /
 *   `_cannot_batch` (no credentials, 401);
 * - GET/PUT /products/{id}, GET /products (page, per_page ≤ 100, include, sku; X-WP-Total and
 *   X-WP-TotalPages), POST /products/batch (≤ 100 objects, else 413
 *   `woocommerce_rest_request_entity_too_large`), the same for /products/{id}/variations, and
 *   GET /orders/{id}, and GET /orders as WC_REST_CRUD_Controller answers it: `modified_after`,
 *   `modified_before` (strictly after / before, to the second), `dates_are_gmt`, `orderby` (date, id,
 *   include, title, slug, modified; ties by ID in the same direction), `order`, `per_page` (1–100),
 *   `page`, `include`, with X-WP-Total and X-WP-TotalPages; a page past the last is an empty list;
 * - webhooks for order.created, order.updated, product.updated and action.woocommerce_order_refunded,
 *   the body encoded as PHP's json_encode does (`\/`, `\uXXXX`), signed base64(HMAC-SHA256) with the
 *   HTML-entity-decoded secret, with the X-WC-Webhook-* headers; the delivery id is an md5 HMAC of
 *   webhook id + unix second, as wp_hash(id . time) is.
 * WooCommerce has no rate limit of its own: `faults.api.rateLimitNext` plays the store's host
 * answering 429 with Retry-After (a plain-text body, before WordPress runs).
 *
 * Money as the REST order carries it: decimal strings in the store currency (`currency` option, AUD
 * by default) with that currency's decimals (the store's "Number of decimals" setting, which the
 * REST `dp` defaults to): "25.00", "2500" for JPY, "25.000" for KWD. Each product or variation has a
 * price (2500 minor units unless given). A sale may carry a coupon-like fixed `discount` on its line,
 * a tax rate (`taxRate` option or per sale, in percent, prices exclusive of tax) and `shipping`
 * (untaxed): line `subtotal` = price × quantity, `total` = subtotal − discount, `subtotal_tax` and
 * `total_tax` = rate × subtotal / total rounded half up, `price` = total ÷ quantity as a float (as
 * WooCommerce computes it); order `discount_total`, `discount_tax`, `shipping_total`, `cart_tax`,
 * `total_tax` and `total` = Σ line totals + shipping + tax. A refund gives back the refunded units'
 * share of the line total and tax (partial refunds add up to the line), listed in `refunds[]` as
 * `{id, reason, total: "-…"}`.
 *
 * The store is built in layers: store.ts (state, REST shapes, webhooks), events.ts (what happens in
 * the store), and here its REST API: authentication, routes, lists and batches.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { WindowCounter, readRequest, type Emulator } from '../../emulator';
import { RestError, phpJson, rfc3986, type Json, type Order, type Product, type WooEmulatorOptions } from './model';
import { WooStoreEvents } from './events';

export { WOO_HOST_LIMIT, phpJson, type WooEmulatorOptions } from './model';

export class WooEmulator extends WooStoreEvents implements Emulator {
  /** Replaces what GET /orders answers (tests: a page the connector cannot read); null: the orders as WooCommerce lists them. */
  orderListOverride: ((orders: Json[]) => unknown) | null = null;
  protected readonly key: string;
  protected readonly secret: string;
  protected readonly batchLimit: number;
  protected readonly nonces = new Map<string, number>();
  protected readonly hostLimit: WindowCounter | null;

  constructor(opts: WooEmulatorOptions) {
    super(opts);
    this.key = opts.consumerKey;
    this.secret = opts.consumerSecret;
    this.batchLimit = opts.batchLimit ?? 100;
    this.hostLimit = opts.hostLimit ? new WindowCounter(opts.hostLimit) : null;
  }

  /** A push of stock: a write to a product or variation, one by one or in a batch (the simulation counts them). */
  isStockWrite(request: { method: string; path: string; body: unknown }): boolean {
    return request.method === 'PUT' || request.method === 'PATCH' || (request.method === 'POST' && /\/batch\/?$/.test(request.path));
  }

  /** For a simulation trace: the `stock_quantity` a product webhook carries, or an order's status. */
  describeWebhook(body: string): string {
    try {
      const b = JSON.parse(body) as Record<string, unknown>;
      if ('stock_quantity' in b) return `stock_quantity ${String(b.stock_quantity)}, date_modified_gmt ${String(b.date_modified_gmt)}`;
      if ('line_items' in b) return `order ${String(b.id)} ${String(b.status)}, date_modified_gmt ${String(b.date_modified_gmt)}`;
      return '';
    } catch {
      return '';
    }
  }

  // ------------------------------------------------------------------ HTTP

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { body, url, method } = await readRequest(req, this.baseUrl);
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const visibleQuery = Object.fromEntries(Object.entries(query).filter(([k]) => !k.startsWith('oauth_') && k !== 'consumer_secret'));
    this.requests.push({ method, path: url.pathname, body, query: visibleQuery });
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
      res.end(phpJson(payload));
    };
    const f = this.faults.api;
    if (f.latencyMs) await new Promise((r) => setTimeout(r, f.latencyMs));
    if (f.hangNext && f.hangNext > 0) {
      f.hangNext--;
      return this.hang(res);
    }
    const tooMany = (retryAfterSeconds: number) => {
      res.writeHead(429, { 'content-type': 'text/html', 'retry-after': String(retryAfterSeconds) });
      res.end('<html><head><title>429 Too Many Requests</title></head><body><h1>429 Too Many Requests</h1></body></html>');
    };
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      return tooMany(f.rateLimitNext.retryAfterSeconds);
    }
    if (this.hostLimit) {
      const at = this.clockMs();
      const admitted = this.hostLimit.admit(at);
      if (!admitted.ok) {
        const seconds = Math.max(1, Math.ceil(admitted.retryAfterMs / 1000));
        this.rateLimited.push({ at, retryAfterMs: seconds * 1000 });
        return tooMany(seconds);
      }
    }
    if (f.statusNext && f.statusNext.count > 0) {
      f.statusNext.count--;
      const status = f.statusNext.status;
      // WordPress REST errors as WooCommerce answers them: a revoked key, a key whose user may not do this, no such route.
      if (status === 401) return send(401, { code: 'woocommerce_rest_authentication_error', message: 'Consumer key is invalid.', data: { status: 401 } });
      if (status === 403) {
        return method === 'GET'
          ? send(403, { code: 'woocommerce_rest_cannot_view', message: 'Sorry, you cannot list resources.', data: { status: 403 } })
          : send(403, { code: 'woocommerce_rest_cannot_edit', message: 'Sorry, you are not allowed to edit this resource.', data: { status: 403 } });
      }
      return send(404, { code: 'rest_no_route', message: 'No route was found matching the URL and request method.', data: { status: 404 } });
    }
    const m = /^\/wp-json\/wc\/v3\/(.+?)\/?$/.exec(url.pathname);
    try {
      if (!m) throw new RestError(404, 'rest_no_route', 'No route was found matching the URL and request method.');
      const route = m[1]!;
      const authError = this.authenticate(req, method, url, query);
      if (authError) throw authError;
      if (f.failNext && f.failNext > 0) {
        f.failNext--;
        return send(500, { code: 'internal_server_error', message: '<p>There has been a critical error on this website.</p><p><a href="https://wordpress.org/documentation/article/faq-troubleshooting/">Learn more about troubleshooting WordPress.</a></p>', data: { status: 500 }, additional_errors: [] });
      }
      const out = this.route(method, route, query, body);
      const write = method === 'PUT' || method === 'PATCH' || (method === 'POST' && /\/batch\/?$/.test(route));
      if (write && f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
        f.loseWriteAnswerNext--;
        return this.hang(res);
      }
      send(200, out.body, out.headers);
    } catch (err) {
      if (err instanceof RestError) return send(err.status, { code: err.code, message: err.message, data: { status: err.status, ...(err.params ? { params: err.params } : {}) } });
      send(500, { code: 'internal_server_error', message: 'There has been a critical error on this website.', data: { status: 500 } });
    }
  }

  /** WC_REST_Authentication on a non-TLS request; null when authenticated. */
  protected authenticate(req: http.IncomingMessage, method: string, url: URL, query: Record<string, string>): RestError | null {
    const params: Record<string, string> = { ...query };
    const header = typeof req.headers.authorization === 'string' ? req.headers.authorization.trim() : '';
    if (header.startsWith('OAuth ')) {
      for (const mm of header.matchAll(/(oauth_[a-z_-]*)=(?:"([^"]*)"|([^,]*))/g)) params[mm[1]!] = decodeURIComponent((mm[2] ?? mm[3] ?? '').replace(/\+/g, ' '));
    }
    const required = ['oauth_consumer_key', 'oauth_timestamp', 'oauth_nonce', 'oauth_signature', 'oauth_signature_method'];
    const missing = required.filter((k) => !params[k]);
    if (missing.length === required.length) return this.permissionError(method, url.pathname);
    if (missing.length > 0) {
      return new RestError(401, 'woocommerce_rest_authentication_missing_parameter', `Missing OAuth parameter${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    }
    if (params.oauth_consumer_key !== this.key) return new RestError(401, 'woocommerce_rest_authentication_error', 'Consumer key is invalid.');
    const given = decodeURIComponent(params.oauth_signature!.replace(/ /g, '+'));
    const signed = Object.entries(params)
      .filter(([k]) => k !== 'oauth_signature')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`);
    const base = `${method}&${rfc3986(`${this.baseUrl}${url.pathname}`)}&${rfc3986(signed.join('&'))}`;
    const sm = params.oauth_signature_method;
    if (sm !== 'HMAC-SHA1' && sm !== 'HMAC-SHA256') return new RestError(401, 'woocommerce_rest_authentication_error', 'Invalid signature - signature method is invalid.');
    const expected = crypto.createHmac(sm === 'HMAC-SHA1' ? 'sha1' : 'sha256', `${this.secret}&`).update(base).digest('base64');
    const a = Buffer.from(expected);
    const b = Buffer.from(given);
    if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) return new RestError(401, 'woocommerce_rest_authentication_error', 'Invalid signature - provided signature does not match.');
    const ts = Number(params.oauth_timestamp);
    const now = Math.floor(Date.now() / 1000);
    if (!Number.isFinite(ts) || ts < now - 900 || ts > now + 900) return new RestError(401, 'woocommerce_rest_authentication_error', 'Invalid timestamp.');
    for (const [n, t] of this.nonces) if (t < now - 900) this.nonces.delete(n);
    if (this.nonces.has(params.oauth_nonce!)) return new RestError(401, 'woocommerce_rest_authentication_error', 'Invalid nonce - nonce has already been used.');
    this.nonces.set(params.oauth_nonce!, ts);
    return null;
  }

  /** What a WooCommerce route answers a request that carries no usable credentials. */
  protected permissionError(method: string, path: string): RestError {
    const status = 401;
    if (/\/batch\/?$/.test(path)) return new RestError(status, 'woocommerce_rest_cannot_batch', 'Sorry, you are not allowed to batch manipulate this resource.');
    if (method !== 'GET') return new RestError(status, 'woocommerce_rest_cannot_edit', 'Sorry, you are not allowed to edit this resource.');
    if (/\/\d+\/?$/.test(path)) return new RestError(status, 'woocommerce_rest_cannot_view', 'Sorry, you cannot view this resource.');
    return new RestError(status, 'woocommerce_rest_cannot_view', 'Sorry, you cannot list resources.');
  }

  protected route(method: string, route: string, query: Record<string, string>, body: unknown): { body: unknown; headers?: Record<string, string> } {
    let mm: RegExpExecArray | null;
    if (route === 'products' && method === 'GET') return this.list([...this.products.values()].filter((p) => p.type !== 'variation'), query, (p) => this.productBody(p));
    if (route === 'products/batch' && method === 'POST') return { body: this.batch(body, (item) => this.updateProduct(item.id, item)) };
    if ((mm = /^products\/(\d+)$/.exec(route))) {
      const id = Number(mm[1]);
      if (method === 'GET') {
        const p = this.products.get(id);
        if (!p) throw new RestError(404, 'woocommerce_rest_product_invalid_id', 'Invalid ID.');
        return { body: this.productBody(p) };
      }
      if (method === 'PUT' || method === 'POST' || method === 'PATCH') return { body: this.updateProduct(id, body) };
    }
    if ((mm = /^products\/(\d+)\/variations$/.exec(route)) && method === 'GET') {
      const pid = Number(mm[1]);
      return this.list([...this.products.values()].filter((p) => p.type === 'variation' && p.parentId === pid), query, (v) => this.variationBody(v));
    }
    if ((mm = /^products\/(\d+)\/variations\/batch$/.exec(route)) && method === 'POST') {
      const pid = Number(mm[1]);
      return { body: this.batch(body, (item) => this.updateVariation(pid, item.id, item)) };
    }
    if ((mm = /^products\/(\d+)\/variations\/(\d+)$/.exec(route))) {
      const pid = Number(mm[1]);
      const vid = Number(mm[2]);
      if (method === 'GET') {
        const v = this.products.get(vid);
        if (!v || v.type !== 'variation' || v.parentId !== pid) throw new RestError(404, 'woocommerce_rest_product_variation_invalid_id', 'Invalid ID.');
        return { body: this.variationBody(v) };
      }
      if (method === 'PUT' || method === 'POST' || method === 'PATCH') return { body: this.updateVariation(pid, vid, body) };
    }
    if (route === 'orders' && method === 'GET') {
      const out = this.listOrders(query);
      return this.orderListOverride ? { body: this.orderListOverride(out.body), headers: out.headers } : out;
    }
    if ((mm = /^orders\/(\d+)$/.exec(route)) && method === 'GET') {
      const o = this.orders.get(Number(mm[1]));
      if (!o) throw new RestError(404, 'woocommerce_rest_shop_order_invalid_id', 'Invalid ID.');
      return { body: this.orderBody(o) };
    }
    throw new RestError(404, 'rest_no_route', 'No route was found matching the URL and request method.');
  }

  /** GET /orders: WC_REST_CRUD_Controller::get_collection_params and prepare_objects_query. */
  protected listOrders(query: Record<string, string>): { body: Json[]; headers: Record<string, string> } {
    const invalid = (name: string, why: string) => new RestError(400, 'rest_invalid_param', `Invalid parameter(s): ${name}`, { [name]: why });
    const perPage = query.per_page === undefined ? 10 : Number(query.per_page);
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) throw invalid('per_page', 'per_page must be between 1 (inclusive) and 100 (inclusive)');
    const page = query.page === undefined ? 1 : Number(query.page);
    if (!Number.isInteger(page) || page < 1) throw invalid('page', 'page must be greater than or equal to 1');
    const orderby = query.orderby ?? 'date';
    if (!['date', 'id', 'include', 'title', 'slug', 'modified'].includes(orderby)) throw invalid('orderby', 'orderby is not one of date, id, include, title, slug, and modified.');
    const order = query.order ?? 'desc';
    if (order !== 'asc' && order !== 'desc') throw invalid('order', 'order is not one of asc and desc.');
    const flag = query.dates_are_gmt;
    if (flag !== undefined && !['true', 'false', '1', '0', ''].includes(flag)) throw invalid('dates_are_gmt', 'dates_are_gmt is not of type boolean.');
    // The site runs on UTC here, so post_modified and post_modified_gmt (and the two dates of creation) agree.
    const when = (name: string): number | null => {
      const v = query[name];
      if (v === undefined) return null;
      const m = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}(?::\d{2})?)?$/.exec(v);
      const t = m ? Date.parse(`${m[1]}T${m[2]}${m[4] ?? 'Z'}`) : NaN;
      if (Number.isNaN(t)) throw invalid(name, 'Invalid date.');
      return t;
    };
    const sec = (d: Date) => Math.floor(d.getTime() / 1000) * 1000;
    const after = when('after');
    const before = when('before');
    const modifiedAfter = when('modified_after');
    const modifiedBefore = when('modified_before');
    let items = [...this.orders.values()];
    if (query.include) {
      const ids = new Set(query.include.split(',').map((x) => Number(x.trim())));
      items = items.filter((o) => ids.has(o.id));
    }
    // WP_Date_Query: "after" and "before" are strict (not inclusive), to the second the database keeps.
    if (after !== null) items = items.filter((o) => sec(o.created) > after);
    if (before !== null) items = items.filter((o) => sec(o.created) < before);
    if (modifiedAfter !== null) items = items.filter((o) => sec(o.modified) > modifiedAfter);
    if (modifiedBefore !== null) items = items.filter((o) => sec(o.modified) < modifiedBefore);
    // orderby date / modified become "date ID" / "modified ID": ties by ID, in the same direction.
    const key = (o: Order): number => (orderby === 'modified' ? sec(o.modified) : orderby === 'date' ? sec(o.created) : o.id);
    const dir = order === 'asc' ? 1 : -1;
    items.sort((a, b) => (key(a) - key(b) || a.id - b.id) * dir);
    const total = items.length;
    const pages = Math.ceil(total / perPage);
    return { body: items.slice((page - 1) * perPage, page * perPage).map((o) => this.orderBody(o)), headers: { 'x-wp-total': String(total), 'x-wp-totalpages': String(pages) } };
  }

  protected list(all: Product[], query: Record<string, string>, shape: (p: Product) => Json): { body: unknown; headers: Record<string, string> } {
    const perPage = query.per_page === undefined ? 10 : Number(query.per_page);
    if (!Number.isInteger(perPage) || perPage < 1 || perPage > 100) {
      throw new RestError(400, 'rest_invalid_param', 'Invalid parameter(s): per_page', { per_page: 'per_page must be between 1 (inclusive) and 100 (inclusive)' });
    }
    const asked = query.page === undefined ? 1 : Number(query.page);
    if (!Number.isInteger(asked) || asked < 1) throw new RestError(400, 'rest_invalid_param', 'Invalid parameter(s): page', { page: 'page must be greater than or equal to 1' });
    // A page cache in front of the store that ignores `page` answers the first page again.
    const page = this.faults.api.ignorePaging ? 1 : asked;
    let items = all;
    if (query.include) {
      const ids = new Set(query.include.split(',').map((s) => Number(s.trim())));
      items = items.filter((p) => ids.has(p.id));
    }
    if (query.sku) {
      const skus = new Set(query.sku.split(',').map((s) => s.trim()));
      items = items.filter((p) => skus.has(p.sku));
    }
    // WooCommerce's default order: newest first (orderby=date, order=desc).
    items = [...items].sort((a, b) => b.id - a.id);
    const total = items.length;
    const pages = Math.ceil(total / perPage);
    if (total > 0 && page > pages) throw new RestError(400, 'woocommerce_rest_invalid_page_number', 'The page number requested is larger than the number of pages available.');
    return { body: items.slice((page - 1) * perPage, page * perPage).map(shape), headers: { 'x-wp-total': String(total), 'x-wp-totalpages': String(pages) } };
  }

  protected batch(body: unknown, update: (item: Json & { id: number }) => Json): Json {
    const b = (typeof body === 'object' && body !== null ? body : {}) as { create?: unknown[]; update?: unknown[]; delete?: unknown[] };
    const total = (b.create?.length ?? 0) + (b.update?.length ?? 0) + (b.delete?.length ?? 0);
    if (total > this.batchLimit) throw new RestError(413, 'woocommerce_rest_request_entity_too_large', `Unable to accept more than ${this.batchLimit} items for this request.`);
    const out: Json[] = [];
    for (const raw of b.update ?? []) {
      const item = (typeof raw === 'object' && raw !== null ? raw : {}) as Json;
      const id = Number(item.id);
      try {
        out.push(update({ ...item, id }));
      } catch (err) {
        if (!(err instanceof RestError)) throw err;
        out.push({ id: Number.isFinite(id) ? id : 0, error: { code: err.code, message: err.message, data: { status: err.status } } });
      }
    }
    return { update: out };
  }

  protected applyFields(p: Product, raw: unknown, variation: boolean): void {
    const f = (typeof raw === 'object' && raw !== null ? raw : {}) as Json;
    const bad = (name: string, why: string) => new RestError(400, 'rest_invalid_param', `Invalid parameter(s): ${name}`, { [name]: why });
    if (f.manage_stock !== undefined && typeof f.manage_stock !== 'boolean') throw bad('manage_stock', 'manage_stock is not of type boolean.');
    if (f.stock_quantity !== undefined && f.stock_quantity !== null && (typeof f.stock_quantity !== 'number' || !Number.isInteger(f.stock_quantity))) throw bad('stock_quantity', 'stock_quantity is not of type integer.');
    if (f.catalog_visibility !== undefined && (variation || !['visible', 'catalog', 'search', 'hidden'].includes(String(f.catalog_visibility)))) {
      throw bad('catalog_visibility', 'catalog_visibility is not one of visible, catalog, search, and hidden.');
    }
    if (f.status !== undefined && !['draft', 'pending', 'private', 'publish'].includes(String(f.status))) throw bad('status', 'status is not one of draft, pending, private, and publish.');
    const before = JSON.stringify([p.manageStock, p.stock, p.catalogVisibility, p.status]);
    if (typeof f.manage_stock === 'boolean') {
      p.manageStock = f.manage_stock;
      if (!p.manageStock) p.stock = null;
    }
    if (typeof f.stock_quantity === 'number' && p.manageStock) p.stock = f.stock_quantity;
    if (typeof f.catalog_visibility === 'string') p.catalogVisibility = f.catalog_visibility as Product['catalogVisibility'];
    if (typeof f.status === 'string') p.status = f.status as Product['status'];
    if (JSON.stringify([p.manageStock, p.stock, p.catalogVisibility, p.status]) !== before) {
      p.modified = this.now();
      // woocommerce_update_product / _variation → product.updated, the echo of every change, ours included.
      this.enqueue('product.updated', this.productBody(p));
      this.afterStockWrite?.(p.sku);
    }
  }

  /** Whether writes to this product are refused (`faults.api.refuseSku`): answered as an id the store no longer has. */
  protected refused(p: Product): boolean {
    const sku = this.faults.api.refuseSku;
    return typeof sku === 'string' && sku !== '' && p.sku === sku;
  }

  protected updateProduct(id: number, raw: unknown): Json {
    const p = this.products.get(id);
    if (!p || p.type === 'variation' || this.refused(p)) throw new RestError(400, 'woocommerce_rest_product_invalid_id', 'Invalid ID.');
    this.applyFields(p, raw, false);
    return this.productBody(p);
  }

  protected updateVariation(pid: number, vid: number, raw: unknown): Json {
    const v = this.products.get(vid);
    if (!v || v.type !== 'variation' || v.parentId !== pid || this.refused(v)) throw new RestError(400, 'woocommerce_rest_product_variation_invalid_id', 'Invalid ID.');
    this.applyFields(v, raw, true);
    return this.variationBody(v);
  }
}
