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
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { formatMinor } from '../../shared/money';
import { DEFAULT_PRICE, LoopbackEmulator, WebhookSender, WindowCounter, applyPpm, percentPpm, unitShare, type ApiFaults, type Emulator, type EmulatorProduct, type OutgoingWebhook, type RequestWindow, type SaleMoney, type WebhookFaults } from '../emulator';
import { WOO_LOCATION } from './translate';
import { signWooWebhook } from './verify';

export interface WooEmulatorOptions {
  consumerKey: string;
  consumerSecret: string;
  webhookSecret: string;
  /** Random source for webhook faults (0 ≤ x < 1), for reproducible runs. */
  random?: () => number;
  /** The batch limit (WooCommerce's default, filter woocommerce_rest_batch_items_limit, is 100). */
  batchLimit?: number;
  /** The store currency (ISO 4217), AUD by default. */
  currency?: string;
  /** Tax on every sale, in percent ("10"); none by default. */
  taxRate?: string;
  /**
   * A limit the store's host enforces in front of WordPress (WooCommerce has none of its own), per
   * client; none by default. `WOO_HOST_LIMIT` is a typical figure (see README.md, "Rate limit").
   */
  hostLimit?: RequestWindow | null;
  /** The clock the host limit counts with (ms); a test may share a fake one with the hub. */
  clock?: () => number;
}

/**
 * WooCommerce documents no limit for the REST API; its one documented figure is the Store API's
 * optional limit, 25 requests in any 10 seconds (off by default). A host or firewall in front of a
 * store often enforces something like it, answering 429 with Retry-After and a body of its own.
 */
export const WOO_HOST_LIMIT: RequestWindow = { requests: 25, windowMs: 10_000 };

type ProductType = 'simple' | 'variable' | 'variation' | 'grouped' | 'external';

interface Product {
  id: number;
  type: ProductType;
  parentId: number;
  name: string;
  sku: string;
  manageStock: boolean;
  stock: number | null;
  catalogVisibility: 'visible' | 'catalog' | 'search' | 'hidden';
  status: 'publish' | 'private' | 'draft' | 'pending';
  attributes: { name: string; option: string }[];
  created: Date;
  modified: Date;
  /** One unit, in minor units of the store currency. */
  price: number;
}

interface Meta {
  id: number;
  key: string;
  value: string;
}

interface OrderLine {
  id: number;
  productId: number;
  quantity: number;
  /** One unit, the fixed discount on the line, the tax rate (parts per million; 0 untaxed). */
  price: number;
  discount: number;
  taxPpm: number;
  meta: Meta[];
}

interface Refund {
  id: number;
  created: Date;
  reason: string;
  lines: { id: number; orderLineId: number; quantity: number }[];
  restocked: boolean;
  /** What went back to the buyer, in minor units. */
  amount: number;
}

interface Order {
  id: number;
  status: string;
  created: Date;
  modified: Date;
  paid: Date | null;
  lines: OrderLine[];
  refunds: Refund[];
  shipping: number;
}


type Json = Record<string, unknown>;

class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly params?: Json,
  ) {
    super(message);
  }
}

const WEBHOOK_TOPICS = ['order.created', 'order.updated', 'product.updated', 'action.woocommerce_order_refunded'] as const;
const REDUCING = new Set(['processing', 'completed', 'on-hold']);

/** "2026-03-01T10:00:00": WooCommerce's REST dates (the site runs on UTC here, so local = GMT). */
function wooDate(d: Date | null): string | null {
  return d ? d.toISOString().slice(0, 19) : null;
}

/** PHP json_encode without flags: slashes and every non-ASCII character escaped. */
export function phpJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** RFC 3986 encoding, as PHP rawurlencode. */
function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export class WooEmulator extends LoopbackEmulator implements Emulator {
  readonly platform = 'woocommerce';
  readonly requests: { method: string; path: string; body: unknown; query: Record<string, string> }[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  /** Replaces what GET /orders answers (tests: a page the connector cannot read); null: the orders as WooCommerce lists them. */
  orderListOverride: ((orders: Json[]) => unknown) | null = null;

  private readonly key: string;
  private readonly secret: string;
  private readonly webhookSecret: string;
  private readonly random: () => number;
  private readonly batchLimit: number;
  private readonly salt = crypto.randomBytes(16).toString('hex');
  private readonly webhookIds = new Map<string, number>();
  private readonly products = new Map<number, Product>();
  private readonly orders = new Map<number, Order>();
  private readonly nonces = new Map<string, number>();
  private readonly hostLimit: WindowCounter | null;
  // WooCommerce sends once and does not retry a failed delivery (it counts failures and disables the webhook after more than 5 in a row).
  protected readonly webhooks = new WebhookSender({ url: () => this.webhookUrl, faults: () => this.faults.webhooks, random: () => this.random(), attempts: 1 });
  private nextId = { post: 100, item: 1000, meta: 5000, webhook: 1 };
  readonly currency: string;
  private readonly taxRate: string | null;
  /** The store's clock (WooEmulatorOptions.clock). */
  private readonly now: () => Date;

  constructor(opts: WooEmulatorOptions) {
    super();
    this.key = opts.consumerKey;
    this.secret = opts.consumerSecret;
    this.webhookSecret = opts.webhookSecret;
    this.random = opts.random ?? Math.random;
    this.batchLimit = opts.batchLimit ?? 100;
    this.currency = opts.currency ?? 'AUD';
    this.taxRate = opts.taxRate ?? null;
    // The store's clock (`clock`, else the wall clock): when its orders and products are created and modified.
    const clock = opts.clock;
    this.now = clock ? () => new Date(clock()) : () => new Date();
    if (this.taxRate !== null) percentPpm(this.taxRate);
    this.hostLimit = opts.hostLimit ? new WindowCounter(opts.hostLimit) : null;
    if (opts.clock) this.clockMs = opts.clock;
  }

  // ------------------------------------------------------------------ lifecycle

  /** Creates one active webhook per topic the connector uses, all delivering to this URL. */
  override subscribe(url: string): void {
    super.subscribe(url);
    for (const t of WEBHOOK_TOPICS) if (!this.webhookIds.has(t)) this.webhookIds.set(t, this.nextId.webhook++);
  }

  // ------------------------------------------------------------------ catalog state

  locations(): string[] {
    return [WOO_LOCATION];
  }

  seed(products: EmulatorProduct[]): void {
    for (const p of products) {
      const q = p.levels[WOO_LOCATION] ?? Object.values(p.levels)[0];
      const existing = this.bySku(p.sku);
      if (existing) {
        if (q !== undefined) {
          existing.manageStock = true;
          existing.stock = q;
        }
        if (p.price !== undefined) existing.price = p.price;
      } else {
        this.addProduct({ sku: p.sku, name: p.title, stock: q ?? null, ...(p.price !== undefined ? { price: p.price } : {}) });
      }
    }
  }

  /** Adds a product (simple unless said otherwise) without webhooks. */
  addProduct(p: { sku: string; name: string; stock?: number | null; type?: Exclude<ProductType, 'variation'>; catalogVisibility?: Product['catalogVisibility']; price?: number }): Product {
    const now = this.now();
    const prod: Product = {
      id: this.nextId.post++,
      type: p.type ?? 'simple',
      parentId: 0,
      name: p.name,
      sku: p.sku,
      manageStock: p.stock !== null && p.stock !== undefined,
      stock: p.stock ?? null,
      catalogVisibility: p.catalogVisibility ?? 'visible',
      status: 'publish',
      attributes: [],
      created: now,
      modified: now,
      price: p.price ?? DEFAULT_PRICE,
    };
    this.products.set(prod.id, prod);
    return prod;
  }

  /** Adds a variable product and its variations (each with its own SKU and stock). */
  addVariable(p: { name: string; sku?: string; attribute?: string; variations: { sku: string; option: string; stock?: number | null; price?: number }[] }): { parent: Product; variations: Product[] } {
    const parent = this.addProduct({ sku: p.sku ?? '', name: p.name, stock: null, type: 'variable' });
    const variations = p.variations.map((v) => {
      const now = this.now();
      const prod: Product = {
        id: this.nextId.post++,
        type: 'variation',
        parentId: parent.id,
        name: `${p.name} - ${v.option}`,
        sku: v.sku,
        manageStock: v.stock !== null && v.stock !== undefined,
        stock: v.stock ?? null,
        catalogVisibility: 'visible',
        status: 'publish',
        attributes: [{ name: p.attribute ?? 'Size', option: v.option }],
        created: now,
        modified: now,
        price: v.price ?? DEFAULT_PRICE,
      };
      this.products.set(prod.id, prod);
      return prod;
    });
    return { parent, variations };
  }

  private bySku(sku: string): Product | undefined {
    return [...this.products.values()].find((p) => p.sku === sku && p.type !== 'variable');
  }

  /** The connector's ids for the first product or variation with this SKU. */
  listing(sku: string): { productId: string; variantId: string } | null {
    const p = this.bySku(sku);
    if (!p) return null;
    return p.type === 'variation' ? { productId: String(p.parentId), variantId: String(p.id) } : { productId: String(p.id), variantId: String(p.id) };
  }

  product(sku: string): Readonly<Product> | null {
    return this.bySku(sku) ?? null;
  }

  level(sku: string, locationId: string): number | null {
    if (locationId !== WOO_LOCATION) return null;
    return this.bySku(sku)?.stock ?? null;
  }

  order(orderId: string): Json | null {
    const o = this.orders.get(Number(orderId));
    return o ? this.orderBody(o) : null;
  }

  // ------------------------------------------------------------------ things that happen in the store

  private changeStock(p: Product, delta: number): void {
    if (!p.manageStock || p.stock === null) return;
    p.stock += delta;
    p.modified = this.now();
  }

  /**
   * A checkout (or a manual order) in the store. Status processing by default; processing,
   * completed and on-hold reduce stock (and record `_reduced_stock` on the line), pending does not.
   */
  async sell(sale: { sku: string; quantity: number; locationId?: string; status?: 'processing' | 'completed' | 'on-hold' | 'pending'; shipping?: number } & SaleMoney): Promise<{ orderId: string }> {
    const p = this.bySku(sale.sku);
    if (!p) throw new Error(`The emulated store does not list SKU ${sale.sku}.`);
    const now = this.now();
    const status = sale.status ?? 'processing';
    const discount = sale.discount ?? 0;
    if (discount < 0 || discount > p.price * sale.quantity) throw new Error(`A discount of ${discount} does not fit a line of ${p.price * sale.quantity}.`);
    const rate = sale.taxRate ?? this.taxRate;
    const order: Order = {
      id: this.nextId.post++,
      status,
      created: now,
      modified: now,
      paid: status === 'processing' || status === 'completed' ? now : null,
      lines: [{ id: this.nextId.item++, productId: p.id, quantity: sale.quantity, price: p.price, discount, taxPpm: rate !== null ? percentPpm(rate) : 0, meta: [] }],
      refunds: [],
      shipping: sale.shipping ?? 0,
    };
    this.orders.set(order.id, order);
    const touched = REDUCING.has(status) ? this.reduceStock(order) : [];
    this.enqueue('order.created', this.orderBody(order));
    for (const t of touched) this.enqueue('product.updated', this.productBody(t));
    return { orderId: String(order.id) };
  }

  /** wc_reduce_stock_levels: each managed line loses its quantity and records `_reduced_stock`. */
  private reduceStock(order: Order): Product[] {
    const touched: Product[] = [];
    for (const l of order.lines) {
      const p = this.products.get(l.productId);
      if (!p || !p.manageStock || l.meta.some((m) => m.key === '_reduced_stock')) continue;
      this.changeStock(p, -l.quantity);
      l.meta.push({ id: this.nextId.meta++, key: '_reduced_stock', value: String(l.quantity) });
      touched.push(p);
    }
    return touched;
  }

  /** Moves an order to another status as the dashboard would, reducing or restoring stock as WooCommerce does. */
  async setOrderStatus(orderId: string, status: 'processing' | 'completed' | 'on-hold' | 'cancelled'): Promise<void> {
    const order = this.orders.get(Number(orderId));
    if (!order) throw new Error(`The emulated store has no order ${orderId}.`);
    let touched: Product[] = [];
    if (status === 'cancelled') {
      // wc_increase_stock_levels: put back what is still reduced, and forget `_reduced_stock`.
      for (const l of order.lines) {
        const m = l.meta.find((x) => x.key === '_reduced_stock');
        const p = this.products.get(l.productId);
        if (!m || !p) continue;
        this.changeStock(p, Number(m.value));
        l.meta = l.meta.filter((x) => x !== m);
        touched.push(p);
      }
    } else if (REDUCING.has(status)) {
      touched = this.reduceStock(order);
    }
    if ((status === 'processing' || status === 'completed') && !order.paid) order.paid = this.now();
    order.status = status;
    order.modified = this.now();
    for (const t of touched) this.enqueue('product.updated', this.productBody(t));
    this.enqueue('order.updated', this.orderBody(order));
  }

  /** A refund from the order screen (wc_create_refund), with or without "Restock refunded items". */
  async refund(r: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const order = this.orders.get(Number(r.orderId));
    if (!order) throw new Error(`The emulated store has no order ${r.orderId}.`);
    const line = order.lines[0]!;
    const refunded = order.refunds.reduce((n, x) => n + x.lines.filter((l) => l.orderLineId === line.id).reduce((a, l) => a + l.quantity, 0), 0);
    const quantity = r.quantity ?? line.quantity - refunded;
    // The refunded units' share of the line total and of its tax.
    const m = this.lineMoney(line);
    const amount = unitShare(m.total, line.quantity, refunded, quantity) + unitShare(m.totalTax, line.quantity, refunded, quantity);
    const refund: Refund = { id: this.nextId.post++, created: this.now(), reason: '', restocked: r.restock, lines: [{ id: this.nextId.item++, orderLineId: line.id, quantity }], amount };
    order.refunds.push(refund);
    const touched: Product[] = [];
    if (r.restock) {
      // wc_restock_refunded_items: only a line whose stock was reduced, of a product managing stock.
      const reduced = line.meta.find((m) => m.key === '_reduced_stock');
      const p = this.products.get(line.productId);
      if (reduced && p && p.manageStock) {
        this.changeStock(p, quantity);
        reduced.value = String(Number(reduced.value) - quantity);
        const tally = line.meta.find((m) => m.key === '_restock_refunded_items');
        if (tally) tally.value = String(Number(tally.value) + quantity);
        else line.meta.push({ id: this.nextId.meta++, key: '_restock_refunded_items', value: String(quantity) });
        touched.push(p);
      }
    }
    if (refunded + quantity >= line.quantity) order.status = 'refunded';
    order.modified = this.now();
    for (const t of touched) this.enqueue('product.updated', this.productBody(t));
    this.enqueue('order.updated', this.orderBody(order));
    this.enqueue('action.woocommerce_order_refunded', { action: 'woocommerce_order_refunded', arg: order.id });
    return { refundId: String(refund.id) };
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

  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    const p = this.bySku(change.sku);
    if (!p) throw new Error(`The emulated store does not list SKU ${change.sku}.`);
    p.manageStock = true;
    p.stock = change.available;
    p.modified = this.now();
    this.enqueue('product.updated', this.productBody(p));
  }

  // ------------------------------------------------------------------ REST shapes

  private stockStatus(p: Product): string {
    if (!p.manageStock || p.stock === null) return 'instock';
    return p.stock > 0 ? 'instock' : 'outofstock';
  }

  /** The product as /wc/v3/products/{id} answers it (variations included, type "variation"). */
  productBody(p: Product): Json {
    return {
      id: p.id,
      name: p.name,
      slug: p.name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
      permalink: `${this.baseUrl}/product/${p.id}/`,
      date_created: wooDate(p.created),
      date_created_gmt: wooDate(p.created),
      date_modified: wooDate(p.modified),
      date_modified_gmt: wooDate(p.modified),
      type: p.type,
      status: p.status,
      featured: false,
      catalog_visibility: p.catalogVisibility,
      description: '',
      short_description: '',
      sku: p.sku,
      price: this.fmt(p.price),
      regular_price: this.fmt(p.price),
      sale_price: '',
      purchasable: true,
      manage_stock: p.manageStock,
      stock_quantity: p.manageStock ? p.stock : null,
      stock_status: this.stockStatus(p),
      backorders: 'no',
      parent_id: p.parentId,
      attributes: p.type === 'variation' ? p.attributes.map((a) => ({ id: 0, name: a.name, option: a.option })) : [],
      variations: p.type === 'variable' ? [...this.products.values()].filter((v) => v.parentId === p.id).map((v) => v.id) : [],
      meta_data: [],
    };
  }

  /** A variation as /wc/v3/products/{pid}/variations/{id} answers it. */
  variationBody(v: Product): Json {
    return {
      id: v.id,
      date_created: wooDate(v.created),
      date_created_gmt: wooDate(v.created),
      date_modified: wooDate(v.modified),
      date_modified_gmt: wooDate(v.modified),
      description: '',
      permalink: `${this.baseUrl}/product/${v.parentId}/?attribute_size=${encodeURIComponent(v.attributes[0]?.option ?? '')}`,
      sku: v.sku,
      price: this.fmt(v.price),
      regular_price: this.fmt(v.price),
      status: v.status,
      purchasable: v.status === 'publish',
      manage_stock: v.manageStock,
      stock_quantity: v.manageStock ? v.stock : null,
      stock_status: this.stockStatus(v),
      backorders: 'no',
      attributes: v.attributes.map((a) => ({ id: 0, name: a.name, option: a.option })),
      name: v.name,
      parent_id: v.parentId,
      meta_data: [],
    };
  }

  private fmt(amount: number): string {
    return formatMinor(amount, this.currency);
  }

  /** A line as WooCommerce totals it: subtotal before the discount, total after, and the tax on each. */
  private lineMoney(l: OrderLine): { subtotal: number; subtotalTax: number; total: number; totalTax: number } {
    const subtotal = l.price * l.quantity;
    const total = subtotal - l.discount;
    return { subtotal, subtotalTax: applyPpm(subtotal, l.taxPpm), total, totalTax: applyPpm(total, l.taxPpm) };
  }

  private orderBody(o: Order): Json {
    const lines = o.lines.map((l) => ({ l, m: this.lineMoney(l) }));
    const itemsTotal = lines.reduce((n, x) => n + x.m.total, 0);
    const discount = lines.reduce((n, x) => n + x.l.discount, 0);
    const cartTax = lines.reduce((n, x) => n + x.m.totalTax, 0);
    const discountTax = lines.reduce((n, x) => n + x.m.subtotalTax - x.m.totalTax, 0);
    const taxPpm = o.lines.find((l) => l.taxPpm > 0)?.taxPpm ?? 0;
    const total = itemsTotal + o.shipping + cartTax;
    return {
      id: o.id,
      parent_id: 0,
      status: o.status,
      currency: this.currency,
      version: '9.9.0',
      prices_include_tax: false,
      date_created: wooDate(o.created),
      date_modified: wooDate(o.modified),
      discount_total: this.fmt(discount),
      discount_tax: this.fmt(discountTax),
      shipping_total: this.fmt(o.shipping),
      shipping_tax: this.fmt(0),
      cart_tax: this.fmt(cartTax),
      total: this.fmt(total),
      total_tax: this.fmt(cartTax),
      customer_id: 0,
      order_key: `wc_order_${o.id}`,
      billing: { first_name: 'Sam', last_name: 'Buyer', email: 'sam@example.com' },
      shipping: {},
      payment_method: 'stripe',
      payment_method_title: 'Stripe',
      created_via: 'checkout',
      date_paid: wooDate(o.paid),
      date_completed: null,
      cart_hash: '',
      number: String(o.id),
      meta_data: [],
      line_items: lines.map(({ l, m }) => {
        const p = this.products.get(l.productId);
        const isVar = p?.type === 'variation';
        return {
          id: l.id,
          name: p?.name ?? 'Deleted product',
          product_id: p ? (isVar ? p.parentId : p.id) : 0,
          variation_id: isVar ? p.id : 0,
          quantity: l.quantity,
          tax_class: '',
          subtotal: this.fmt(m.subtotal),
          subtotal_tax: this.fmt(m.subtotalTax),
          total: this.fmt(m.total),
          total_tax: this.fmt(m.totalTax),
          taxes: l.taxPpm > 0 ? [{ id: 1, total: this.fmt(m.totalTax), subtotal: this.fmt(m.subtotalTax) }] : [],
          meta_data: l.meta.map((x) => ({ id: x.id, key: x.key, value: x.value, display_key: x.key, display_value: x.value })),
          sku: p?.sku ?? null,
          // WooCommerce's own arithmetic: get_total() / get_quantity(), a PHP float.
          price: l.quantity ? Number(this.fmt(m.total)) / l.quantity : 0,
          image: { id: '', src: '' },
          parent_name: isVar ? (this.products.get(p.parentId)?.name ?? null) : null,
        };
      }),
      tax_lines: taxPpm > 0 ? [{ id: 1, rate_code: `${this.currency}-TAX-1`, rate_id: 1, label: 'Tax', compound: false, tax_total: this.fmt(cartTax), shipping_tax_total: this.fmt(0), rate_percent: taxPpm / 10_000, meta_data: [] }] : [],
      shipping_lines: o.shipping > 0 ? [{ id: o.id * 10 + 1, method_title: 'Flat rate', method_id: 'flat_rate', instance_id: '1', total: this.fmt(o.shipping), total_tax: this.fmt(0), taxes: [], meta_data: [] }] : [],
      fee_lines: [],
      coupon_lines: discount > 0 ? [{ id: o.id * 10 + 2, code: 'discount', discount: this.fmt(discount), discount_tax: this.fmt(discountTax), meta_data: [] }] : [],
      refunds: o.refunds.map((r) => ({ id: r.id, reason: r.reason, total: `-${this.fmt(r.amount)}` })),
      payment_url: `${this.baseUrl}/checkout/order-pay/${o.id}/`,
      is_editable: false,
      needs_payment: false,
      needs_processing: true,
      date_created_gmt: wooDate(o.created),
      date_modified_gmt: wooDate(o.modified),
      date_completed_gmt: null,
      date_paid_gmt: wooDate(o.paid),
      currency_symbol: '$',
    };
  }

  // ------------------------------------------------------------------ webhooks

  private enqueue(topic: (typeof WEBHOOK_TOPICS)[number], payload: Json): void {
    const url = this.webhookUrl;
    const webhookId = this.webhookIds.get(topic);
    if (!url || webhookId === undefined) return;
    const body = phpJson(payload).trim();
    const [resource, event] = topic.split('.') as [string, string];
    // wp_hash($webhook_id . strtotime('now')): an md5 HMAC, the same within one second.
    const deliveryId = crypto.createHmac('md5', this.salt).update(`${webhookId}${Math.floor(Date.now() / 1000)}`).digest('hex');
    const delivery: OutgoingWebhook = {
      topic,
      id: deliveryId,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'WooCommerce/9.9.0 Hookshot (WordPress/6.8.1)',
        'x-wc-webhook-source': `${this.baseUrl}/`,
        'x-wc-webhook-topic': topic,
        'x-wc-webhook-resource': resource,
        'x-wc-webhook-event': event,
        'x-wc-webhook-signature': signWooWebhook(body, this.webhookSecret),
        'x-wc-webhook-id': String(webhookId),
        'x-wc-webhook-delivery-id': deliveryId,
      },
    };
    this.queueWebhook(delivery);
  }

  // ------------------------------------------------------------------ HTTP

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
    }
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = (req.method ?? 'GET').toUpperCase();
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
  private authenticate(req: http.IncomingMessage, method: string, url: URL, query: Record<string, string>): RestError | null {
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
  private permissionError(method: string, path: string): RestError {
    const status = 401;
    if (/\/batch\/?$/.test(path)) return new RestError(status, 'woocommerce_rest_cannot_batch', 'Sorry, you are not allowed to batch manipulate this resource.');
    if (method !== 'GET') return new RestError(status, 'woocommerce_rest_cannot_edit', 'Sorry, you are not allowed to edit this resource.');
    if (/\/\d+\/?$/.test(path)) return new RestError(status, 'woocommerce_rest_cannot_view', 'Sorry, you cannot view this resource.');
    return new RestError(status, 'woocommerce_rest_cannot_view', 'Sorry, you cannot list resources.');
  }

  private route(method: string, route: string, query: Record<string, string>, body: unknown): { body: unknown; headers?: Record<string, string> } {
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
  private listOrders(query: Record<string, string>): { body: Json[]; headers: Record<string, string> } {
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

  private list(all: Product[], query: Record<string, string>, shape: (p: Product) => Json): { body: unknown; headers: Record<string, string> } {
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

  private batch(body: unknown, update: (item: Json & { id: number }) => Json): Json {
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

  private applyFields(p: Product, raw: unknown, variation: boolean): void {
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
  private refused(p: Product): boolean {
    const sku = this.faults.api.refuseSku;
    return typeof sku === 'string' && sku !== '' && p.sku === sku;
  }

  private updateProduct(id: number, raw: unknown): Json {
    const p = this.products.get(id);
    if (!p || p.type === 'variation' || this.refused(p)) throw new RestError(400, 'woocommerce_rest_product_invalid_id', 'Invalid ID.');
    this.applyFields(p, raw, false);
    return this.productBody(p);
  }

  private updateVariation(pid: number, vid: number, raw: unknown): Json {
    const v = this.products.get(vid);
    if (!v || v.type !== 'variation' || v.parentId !== pid || this.refused(v)) throw new RestError(400, 'woocommerce_rest_product_variation_invalid_id', 'Invalid ID.');
    this.applyFields(v, raw, true);
    return this.variationBody(v);
  }
}
