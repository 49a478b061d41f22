/**
 * A Shopify shop as a real HTTP server on 127.0.0.1, for tests and the sandbox. It answers the
 * Admin GraphQL operations this connector sends (POST /admin/api/{version}/graphql.json) with
 * Shopify's shapes: `X-Shopify-Access-Token` auth (401 `{"errors":"[API] Invalid API key or access
 * token ..."}`), the calculated-cost leaky bucket (`extensions.cost`, `THROTTLED` in a 200 answer),
 * `userErrors` with codes (`CHANGE_FROM_QUANTITY_STALE`, ...), the mandatory `@idempotent` directive
 * from 2026-04, and webhooks signed base64(HMAC-SHA256(secret, body)) with the X-Shopify-* headers.
 *
 * It is not a GraphQL engine: it recognises each operation by its root field and reads its
 * arguments from `variables` (the connector passes everything as variables), and answers with the
 * fields the connector selects.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { LoopbackEmulator, WebhookSender, type ApiFaults, type Emulator, type EmulatorProduct, type OutgoingWebhook, type WebhookFaults } from '../emulator';
import { DEFAULT_API_VERSION } from './client';
import { gidNumber } from './ids';
import { signShopifyWebhook } from './verify';

export interface ShopifyEmulatorOptions {
  accessToken: string;
  webhookSecret: string;
  shopDomain?: string;
  /** Sent in X-Shopify-API-Version on webhooks. */
  apiVersion?: string;
  /** Location ids (gids or numbers); two locations by default. */
  locations?: string[];
  /** The cost bucket; Shopify Standard is 2000 points restored at 100/s. */
  bucket?: { size: number; restorePerSecond: number };
  /** Random source for webhook faults (0 ≤ x < 1), for reproducible runs. */
  random?: () => number;
}

interface Variant {
  id: number;
  productId: number;
  inventoryItemId: number;
  sku: string | null;
  title: string;
}
interface Product {
  id: number;
  title: string;
  status: 'ACTIVE' | 'DRAFT' | 'ARCHIVED' | 'UNLISTED';
}
interface OrderLine {
  id: number;
  variantId: number;
  quantity: number;
  refunded: number;
  locationId: number;
}
interface Order {
  id: number;
  number: number;
  locationId: number | null;
  createdAt: string;
  lines: OrderLine[];
  cancelled: boolean;
}
interface ExchangeLine {
  id: number;
  variantId: number;
  quantity: number;
  processedQuantity: number;
  /** The order lines the exchange added to the original order. */
  lineIds: number[];
}
interface ReturnRecord {
  id: number;
  orderId: number;
  status: 'OPEN' | 'CLOSED';
  exchange: ExchangeLine[];
}

const MAX_QUERY_COST = 1000;
const MAX_INPUT = 250;
const REASONS = new Set(['correction', 'cycle_count_available', 'damaged', 'movement_created', 'movement_updated', 'movement_received', 'movement_canceled', 'other', 'promotion', 'quality_control', 'received', 'reservation_created', 'reservation_deleted', 'reservation_updated', 'restock', 'safety_stock', 'shrinkage']);

type Json = Record<string, unknown>;

class GraphQLFailure extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const gid = (type: string, n: number) => `gid://shopify/${type}/${n}`;
const num = (id: unknown, type: string): number | null => {
  if (typeof id !== 'string' || !id.startsWith(`gid://shopify/${type}/`)) return null;
  const n = gidNumber(id);
  return n ? Number(n) : null;
};

export class ShopifyEmulator extends LoopbackEmulator implements Emulator {
  readonly platform = 'shopify';
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  readonly shopDomain: string;
  /** How many calls were answered THROTTLED (the cost bucket was empty). */
  throttled = 0;

  private readonly token: string;
  private readonly secret: string;
  private readonly apiVersion: string;
  private readonly random: () => number;
  private bucketSize: number;
  private restoreRate: number;
  private available: number;
  private lastRefill = Date.now();

  private readonly locationIds: number[] = [];
  private readonly products = new Map<number, Product>();
  private readonly variants = new Map<number, Variant>();
  private readonly levels = new Map<string, number>();
  private readonly orders = new Map<number, Order>();
  private readonly returns = new Map<number, ReturnRecord>();
  private readonly idempotency = new Map<string, { hash: string; answer: Json }>();
  private readonly lastPayload = new Map<string, Json>();
  // Shopify retries a failed delivery 8 times over 4 hours; the emulator 3 times, quickly.
  protected readonly webhooks = new WebhookSender({ url: () => this.webhookUrl, faults: () => this.faults.webhooks, random: () => this.random(), attempts: 3 });
  private nextId = { product: 7_100_000_001, variant: 4_400_000_001, item: 4_500_000_001, order: 5_500_000_001, line: 13_000_000_001, refund: 900_000_001, refundLine: 1_058_000_001, group: 77_000_001, ret: 3_300_000_001, exchangeLine: 6_600_000_001 };
  private orderNumber = 1001;


  constructor(opts: ShopifyEmulatorOptions) {
    super();
    this.token = opts.accessToken;
    this.secret = opts.webhookSecret;
    this.shopDomain = opts.shopDomain ?? 'stockrelay-demo.myshopify.com';
    this.apiVersion = opts.apiVersion ?? DEFAULT_API_VERSION;
    this.random = opts.random ?? Math.random;
    this.bucketSize = opts.bucket?.size ?? 2000;
    this.restoreRate = opts.bucket?.restorePerSecond ?? 100;
    this.available = this.bucketSize;
    for (const l of opts.locations ?? ['gid://shopify/Location/1001', 'gid://shopify/Location/1002']) this.addLocation(l);
  }

  // ------------------------------------------------------------------ lifecycle


  /** Resizes the cost bucket (and fills it). */
  setBucket(size: number, restorePerSecond: number): void {
    this.bucketSize = size;
    this.restoreRate = restorePerSecond;
    this.available = size;
    this.lastRefill = Date.now();
  }

  // ------------------------------------------------------------------ catalog state

  private addLocation(l: string): number {
    const n = /^\d+$/.test(l) ? Number(l) : num(l, 'Location');
    if (n === null) throw new Error(`Not a Shopify location id: ${l}`);
    if (!this.locationIds.includes(n)) this.locationIds.push(n);
    return n;
  }

  locations(): string[] {
    return this.locationIds.map((n) => gid('Location', n));
  }

  seed(products: EmulatorProduct[]): void {
    for (const p of products) {
      const existing = [...this.variants.values()].find((v) => v.sku === p.sku);
      const v = existing ?? this.addListing({ sku: p.sku, title: p.title, levels: {} });
      for (const [loc, q] of Object.entries(p.levels)) this.levels.set(`${v.inventoryItemId}|${this.addLocation(loc)}`, q);
    }
  }

  /** Adds one product with one variant as given (an empty or repeated SKU included), without webhooks. */
  addListing(l: { sku: string | null; title: string; variantTitle?: string; levels?: Record<string, number>; status?: Product['status'] }): Variant {
    const product: Product = { id: this.nextId.product++, title: l.title, status: l.status ?? 'ACTIVE' };
    this.products.set(product.id, product);
    const v: Variant = { id: this.nextId.variant++, productId: product.id, inventoryItemId: this.nextId.item++, sku: l.sku, title: l.variantTitle ?? 'Default Title' };
    this.variants.set(v.id, v);
    for (const loc of this.locationIds) this.levels.set(`${v.inventoryItemId}|${loc}`, 0);
    for (const [loc, q] of Object.entries(l.levels ?? {})) this.levels.set(`${v.inventoryItemId}|${this.addLocation(loc)}`, q);
    return v;
  }

  /** The Shopify ids of the first variant with this SKU. */
  listing(sku: string): { productId: string; variantId: string; inventoryItemId: string } | null {
    const v = [...this.variants.values()].find((x) => x.sku === sku);
    return v ? { productId: gid('Product', v.productId), variantId: gid('ProductVariant', v.id), inventoryItemId: gid('InventoryItem', v.inventoryItemId) } : null;
  }

  productStatus(sku: string): Product['status'] | null {
    const v = [...this.variants.values()].find((x) => x.sku === sku);
    return v ? (this.products.get(v.productId)?.status ?? null) : null;
  }

  level(sku: string, locationId: string): number | null {
    const v = [...this.variants.values()].find((x) => x.sku === sku);
    const loc = /^\d+$/.test(locationId) ? Number(locationId) : num(locationId, 'Location');
    if (!v || loc === null) return null;
    return this.levels.get(`${v.inventoryItemId}|${loc}`) ?? null;
  }

  // ------------------------------------------------------------------ things that happen on the shop

  async sell(sale: { sku: string; quantity: number; locationId?: string }): Promise<{ orderId: string }> {
    const v = [...this.variants.values()].find((x) => x.sku === sale.sku);
    if (!v) throw new Error(`The emulated shop does not list SKU ${sale.sku}.`);
    const pos = sale.locationId !== undefined ? this.addLocation(sale.locationId) : null;
    // A web order is fulfilled from the first location stocking the item (Shopify's fulfillment
    // location is decided later; the order itself says nothing).
    const stockLoc = pos ?? this.locationIds.find((l) => (this.levels.get(`${v.inventoryItemId}|${l}`) ?? 0) >= sale.quantity) ?? this.locationIds[0]!;
    const now = new Date().toISOString();
    const order: Order = { id: this.nextId.order++, number: this.orderNumber++, locationId: pos, createdAt: now, cancelled: false, lines: [{ id: this.nextId.line++, variantId: v.id, quantity: sale.quantity, refunded: 0, locationId: stockLoc }] };
    this.orders.set(order.id, order);
    const key = `${v.inventoryItemId}|${stockLoc}`;
    this.levels.set(key, (this.levels.get(key) ?? 0) - sale.quantity);
    this.enqueue('orders/create', this.orderBody(order));
    this.enqueue('inventory_levels/update', this.levelBody(v.inventoryItemId, stockLoc));
    return { orderId: gid('Order', order.id) };
  }

  async refund(r: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const order = this.orders.get(num(r.orderId, 'Order') ?? Number(r.orderId));
    if (!order) throw new Error(`The emulated shop has no order ${r.orderId}.`);
    const line = order.lines[0]!;
    const quantity = r.quantity ?? line.quantity - line.refunded;
    const refund = this.makeRefund(order, [{ line, quantity }], r.restock ? 'return' : 'no_restock');
    this.enqueue('refunds/create', refund.body);
    for (const c of refund.restocked) this.enqueue('inventory_levels/update', this.levelBody(c.item, c.loc));
    return { refundId: String(refund.body.admin_graphql_api_id) };
  }

  /** Cancels an order, optionally restocking it: Shopify records the restock as a refund (`restock_type: "cancel"`). */
  async cancel(c: { orderId: string; restock: boolean }): Promise<void> {
    const order = this.orders.get(num(c.orderId, 'Order') ?? Number(c.orderId));
    if (!order) throw new Error(`The emulated shop has no order ${c.orderId}.`);
    order.cancelled = true;
    const refunds: Json[] = [];
    const restocked: { item: number; loc: number }[] = [];
    if (c.restock) {
      const refund = this.makeRefund(order, order.lines.map((line) => ({ line, quantity: line.quantity - line.refunded })), 'cancel');
      refunds.push(refund.body);
      restocked.push(...refund.restocked);
      this.enqueue('refunds/create', refund.body);
    }
    this.enqueue('orders/cancelled', { ...this.orderBody(order), cancelled_at: new Date().toISOString(), cancel_reason: 'customer', refunds });
    for (const r of restocked) this.enqueue('inventory_levels/update', this.levelBody(r.item, r.loc));
  }

  /**
   * A native exchange on an earlier order: the customer sends back units of its first line and gets
   * `quantity` of `sku` instead. As Shopify does, no new order is made: the exchange items are added
   * to the original order and kept on a Return (`exchangeLineItems`). It sends the refund of the
   * returned units (`refunds/create`, `restock_type` "return" when restocked, the default), then
   * `returns/process` naming the Return, then `inventory_levels/update` for each variant that moved.
   * The exchange item ships from the first location stocking it, as a web order does. The Return
   * is served by `return(id:)`.
   */
  async exchange(x: { orderId: string; returnQuantity?: number; restock?: boolean; sku: string; quantity: number }): Promise<{ returnId: string }> {
    const order = this.orders.get(num(x.orderId, 'Order') ?? Number(x.orderId));
    if (!order) throw new Error(`The emulated shop has no order ${x.orderId}.`);
    const line = order.lines[0]!;
    const returnQuantity = x.returnQuantity ?? line.quantity - line.refunded;
    if (returnQuantity <= 0 || returnQuantity > line.quantity - line.refunded) throw new Error(`Order ${x.orderId} has no ${returnQuantity} unit(s) left to return.`);
    const out = [...this.variants.values()].find((v) => v.sku === x.sku);
    if (!out) throw new Error(`The emulated shop does not list SKU ${x.sku}.`);
    if (!Number.isInteger(x.quantity) || x.quantity <= 0) throw new Error('An exchange sends out at least one unit.');
    const refund = this.makeRefund(order, [{ line, quantity: returnQuantity }], (x.restock ?? true) ? 'return' : 'no_restock');
    const stockLoc = this.locationIds.find((l) => (this.levels.get(`${out.inventoryItemId}|${l}`) ?? 0) >= x.quantity) ?? this.locationIds[0]!;
    const added: OrderLine = { id: this.nextId.line++, variantId: out.id, quantity: x.quantity, refunded: 0, locationId: stockLoc };
    order.lines.push(added);
    const key = `${out.inventoryItemId}|${stockLoc}`;
    this.levels.set(key, (this.levels.get(key) ?? 0) - x.quantity);
    const ret: ReturnRecord = {
      id: this.nextId.ret++,
      orderId: order.id,
      status: 'CLOSED',
      exchange: [{ id: this.nextId.exchangeLine++, variantId: out.id, quantity: x.quantity, processedQuantity: x.quantity, lineIds: [added.id] }],
    };
    this.returns.set(ret.id, ret);
    const now = new Date().toISOString();
    this.enqueue('refunds/create', refund.body);
    this.enqueue('returns/process', { id: ret.id, admin_graphql_api_id: gid('Return', ret.id), order_id: order.id, admin_graphql_api_order_id: gid('Order', order.id), status: 'closed', processed_at: now });
    for (const c of refund.restocked) this.enqueue('inventory_levels/update', this.levelBody(c.item, c.loc));
    this.enqueue('inventory_levels/update', this.levelBody(out.inventoryItemId, stockLoc));
    return { returnId: gid('Return', ret.id) };
  }

  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    const v = [...this.variants.values()].find((x) => x.sku === change.sku);
    if (!v) throw new Error(`The emulated shop does not list SKU ${change.sku}.`);
    const loc = change.locationId !== undefined ? this.addLocation(change.locationId) : this.locationIds[0]!;
    this.levels.set(`${v.inventoryItemId}|${loc}`, change.available);
    this.enqueue('inventory_levels/update', this.levelBody(v.inventoryItemId, loc));
  }

  private makeRefund(order: Order, parts: { line: OrderLine; quantity: number }[], restockType: 'return' | 'cancel' | 'no_restock'): { body: Json; restocked: { item: number; loc: number }[] } {
    const id = this.nextId.refund++;
    const now = new Date().toISOString();
    const restocked: { item: number; loc: number }[] = [];
    const lines = parts.map(({ line, quantity }) => {
      line.refunded += quantity;
      const v = this.variants.get(line.variantId)!;
      if (restockType !== 'no_restock') {
        const key = `${v.inventoryItemId}|${line.locationId}`;
        this.levels.set(key, (this.levels.get(key) ?? 0) + quantity);
        restocked.push({ item: v.inventoryItemId, loc: line.locationId });
      }
      return {
        id: this.nextId.refundLine++,
        line_item_id: line.id,
        location_id: restockType === 'no_restock' ? null : line.locationId,
        quantity,
        restock_type: restockType,
        subtotal: 0,
        total_tax: 0,
        line_item: this.lineBody(line),
      };
    });
    return {
      body: { id, admin_graphql_api_id: gid('Refund', id), order_id: order.id, created_at: now, processed_at: now, note: null, user_id: null, restock: restockType !== 'no_restock', refund_line_items: lines, transactions: [], order_adjustments: [] },
      restocked,
    };
  }

  private lineBody(line: OrderLine): Json {
    const v = this.variants.get(line.variantId)!;
    const p = this.products.get(v.productId)!;
    return {
      id: line.id,
      admin_graphql_api_id: gid('LineItem', line.id),
      variant_id: v.id,
      product_id: p.id,
      sku: v.sku ?? '',
      title: p.title,
      variant_title: v.title === 'Default Title' ? null : v.title,
      name: p.title,
      quantity: line.quantity,
      current_quantity: line.quantity - line.refunded,
      price: '0.00',
      gift_card: false,
      requires_shipping: true,
      fulfillable_quantity: line.quantity - line.refunded,
      fulfillment_status: null,
      fulfillment_service: 'manual',
      product_exists: true,
      taxable: true,
      properties: [],
      tax_lines: [],
    };
  }

  private orderBody(order: Order): Json {
    return {
      id: order.id,
      admin_graphql_api_id: gid('Order', order.id),
      name: `#${order.number}`,
      order_number: order.number,
      number: order.number - 1000,
      created_at: order.createdAt,
      updated_at: new Date().toISOString(),
      processed_at: order.createdAt,
      cancelled_at: null,
      cancel_reason: null,
      currency: 'AUD',
      financial_status: 'paid',
      fulfillment_status: null,
      location_id: order.locationId,
      source_name: order.locationId !== null ? 'pos' : 'web',
      test: true,
      line_items: order.lines.map((l) => this.lineBody(l)),
      refunds: [],
      fulfillments: [],
    };
  }

  private levelBody(item: number, loc: number): Json {
    return {
      inventory_item_id: item,
      location_id: loc,
      available: this.levels.get(`${item}|${loc}`) ?? null,
      updated_at: new Date().toISOString(),
      admin_graphql_api_id: `gid://shopify/InventoryLevel/${loc}?inventory_item_id=${item}`,
    };
  }

  // ------------------------------------------------------------------ webhooks

  /**
   * Sends the last webhook of a topic again as a new event (new X-Shopify-Event-Id and webhook id),
   * as when the same change is notified twice: the hub must book it once by its line ids.
   */
  redeliverLast(topic: string): void {
    const payload = this.lastPayload.get(topic);
    if (!payload) throw new Error(`The emulated shop has sent no ${topic} webhook yet.`);
    this.enqueue(topic, payload);
  }

  private enqueue(topic: string, payload: Json): void {
    if (!this.webhookUrl) return;
    this.lastPayload.set(topic, payload);
    const body = JSON.stringify(payload);
    const eventId = crypto.randomUUID();
    const delivery: OutgoingWebhook = {
      topic,
      id: eventId,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Shopify-Captain-Hook',
        'x-shopify-topic': topic,
        'x-shopify-hmac-sha256': signShopifyWebhook(body, this.secret),
        'x-shopify-shop-domain': this.shopDomain,
        'x-shopify-api-version': this.apiVersion,
        'x-shopify-webhook-id': crypto.randomUUID(),
        'x-shopify-event-id': eventId,
        'x-shopify-triggered-at': new Date().toISOString(),
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
    const path = (req.url ?? '/').split('?')[0]!;
    this.requests.push({ method: req.method ?? 'GET', path, body });
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(payload));
    };
    const f = this.faults.api;
    if (f.latencyMs) await new Promise((r) => setTimeout(r, f.latencyMs));

    const m = /^\/admin\/api\/(\d{4}-\d{2}|unstable)\/graphql\.json$/.exec(path);
    if (req.method !== 'POST' || !m) return send(404, { errors: 'Not Found' });
    if (req.headers['x-shopify-access-token'] !== this.token) {
      return send(401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    }
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      return send(500, { errors: 'Internal Server Error' });
    }
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      return send(429, { errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' }, { 'retry-after': String(f.rateLimitNext.retryAfterSeconds) });
    }
    const version = m[1]!;
    if (typeof body !== 'object' || body === null || typeof (body as Json).query !== 'string') {
      return send(400, { errors: { query: 'Required parameter missing or invalid' } });
    }
    const { query, variables } = body as { query: string; variables?: Json };
    try {
      send(200, this.execute(version, query, variables ?? {}));
    } catch {
      send(500, { errors: 'Internal Server Error' });
    }
  }

  private refill(): void {
    const now = Date.now();
    this.available = Math.min(this.bucketSize, this.available + ((now - this.lastRefill) / 1000) * this.restoreRate);
    this.lastRefill = now;
  }

  private throttleStatus() {
    return { maximumAvailable: this.bucketSize, currentlyAvailable: Math.floor(this.available), restoreRate: this.restoreRate };
  }

  private execute(version: string, query: string, variables: Json): Json {
    const q = query.replace(/#[^\n]*/g, '');
    const op = /\breturn\s*\(\s*id\s*:/.test(q)
      ? 'return'
      : /\binventorySetQuantities\s*\(/.test(q)
      ? 'set'
      : /\binventoryAdjustQuantities\s*\(/.test(q)
        ? 'adjust'
        : /\bproductUpdate\s*\(/.test(q)
          ? 'productUpdate'
          : /\bproductVariants\s*\(/.test(q)
            ? 'productVariants'
            : /\bnodes\s*\(/.test(q)
              ? 'nodes'
              : null;
    if (!op) return { errors: [{ message: 'The emulated shop does not implement this operation.', extensions: { code: 'undefinedField' } }] };

    let requested = 10;
    if (op === 'productVariants') requested = 2 + 3 * (typeof variables.first === 'number' ? variables.first : 0);
    if (op === 'nodes') requested = 1 + 2 * (Array.isArray(variables.ids) ? variables.ids.length : 0);
    if (requested > MAX_QUERY_COST) {
      return { errors: [{ message: `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_QUERY_COST}).`, extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: MAX_QUERY_COST } }] };
    }
    this.refill();
    if (this.available < requested) {
      this.throttled++;
      return {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
        extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: this.throttleStatus() } },
      };
    }
    this.available -= requested;
    let data: Json;
    let actual = requested;
    try {
      const key = this.idempotencyKey(q, variables);
      if ((op === 'set' || op === 'adjust') && key === null && (version === 'unstable' || version >= '2026-04')) {
        throw new GraphQLFailure(`The @idempotent directive is required for ${op === 'set' ? 'inventorySetQuantities' : 'inventoryAdjustQuantities'} from API version 2026-04.`, 'BAD_REQUEST');
      }
      if (op === 'set') data = { inventorySetQuantities: this.once(key, variables, () => this.setQuantities(version, variables.input)) };
      else if (op === 'adjust') data = { inventoryAdjustQuantities: this.once(key, variables, () => this.adjustQuantities(version, variables.input)) };
      else if (op === 'return') {
        const ret = this.returnNode(variables.id);
        actual = 1 + (ret ? 1 + (ret.exchangeLineItems as { nodes: unknown[] }).nodes.length : 0);
        data = { return: ret };
      } else if (op === 'productUpdate') data = { productUpdate: this.productUpdate(variables.product ?? variables.input) };
      else if (op === 'productVariants') {
        const page = this.productVariants(variables.first, variables.after);
        actual = 2 + 3 * page.nodes.length;
        data = { productVariants: page };
      } else {
        const nodes = this.nodes(variables.ids);
        actual = 1 + 2 * nodes.filter((n) => n !== null).length;
        data = { nodes };
      }
    } catch (err) {
      if (err instanceof GraphQLFailure) {
        return { errors: [{ message: err.message, extensions: { code: err.code } }], extensions: { cost: { requestedQueryCost: requested, actualQueryCost: requested, throttleStatus: this.throttleStatus() } } };
      }
      throw err;
    }
    this.available = Math.min(this.bucketSize, this.available + (requested - actual));
    return { data, extensions: { cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: this.throttleStatus() } } };
  }

  private idempotencyKey(q: string, variables: Json): string | null {
    const m = /@idempotent\s*\(\s*key\s*:\s*(?:"((?:[^"\\]|\\.)*)"|\$(\w+))\s*\)/.exec(q);
    if (!m) return null;
    if (m[1] !== undefined) return JSON.parse(`"${m[1]}"`) as string;
    const v = variables[m[2]!];
    return typeof v === 'string' ? v : null;
  }

  /** Same key and same arguments: the first answer again, nothing applied twice. */
  private once(key: string | null, variables: Json, run: () => Json): Json {
    if (key === null) return run();
    const hash = crypto.createHash('sha256').update(JSON.stringify(variables)).digest('hex');
    const seen = this.idempotency.get(key);
    if (seen) {
      if (seen.hash !== hash) {
        return { inventoryAdjustmentGroup: null, userErrors: [{ code: 'IDEMPOTENCY_KEY_PARAMETER_MISMATCH', field: null, message: 'The same idempotency key cannot be used with different operation parameters.' }] };
      }
      return seen.answer;
    }
    const answer = run();
    this.idempotency.set(key, { hash, answer });
    return answer;
  }

  private checkInput(input: unknown, list: 'quantities' | 'changes'): { input: Json; rows: Json[] } {
    if (typeof input !== 'object' || input === null) throw new GraphQLFailure('Variable $input of type was provided invalid value.', 'INVALID_VARIABLE');
    const rows = (input as Json)[list];
    if (!Array.isArray(rows)) throw new GraphQLFailure(`Variable $input was provided invalid value for ${list} (Expected value to not be null).`, 'INVALID_VARIABLE');
    if (rows.length > MAX_INPUT) throw new GraphQLFailure(`The input array size of ${rows.length} is greater than the maximum allowed of ${MAX_INPUT}.`, 'MAX_INPUT_SIZE_EXCEEDED');
    return { input: input as Json, rows: rows as Json[] };
  }

  private applyChanges(version: string, input: Json, rows: Json[], list: 'quantities' | 'changes'): Json {
    const errors: Json[] = [];
    const err = (i: number | null, field: string | null, code: string, message: string) => errors.push({ code, field: i === null ? ['input', ...(field ? [field] : [])] : ['input', list, String(i), ...(field ? [field] : [])], message });
    if (input.name !== 'available') err(null, 'name', 'INVALID_NAME', "The quantity name must be either 'available' or 'on_hand'.");
    if (typeof input.reason !== 'string' || !REASONS.has(input.reason)) err(null, 'reason', 'INVALID_REASON', 'The specified reason is invalid.');
    const planned: { key: string; item: number; loc: number; before: number; after: number }[] = [];
    rows.forEach((row, i) => {
      const item = num(row.inventoryItemId, 'InventoryItem');
      const loc = num(row.locationId, 'Location');
      if (item === null || ![...this.variants.values()].some((v) => v.inventoryItemId === item)) return err(i, 'inventoryItemId', 'INVALID_INVENTORY_ITEM', 'The specified inventory item could not be found.');
      if (loc === null || !this.locationIds.includes(loc)) return err(i, 'locationId', 'INVALID_LOCATION', 'The specified location could not be found.');
      const key = `${item}|${loc}`;
      const before = this.levels.get(key);
      if (before === undefined) return err(i, 'locationId', 'ITEM_NOT_STOCKED_AT_LOCATION', 'The specified inventory item is not stocked at the location.');
      if ((version === 'unstable' || version >= '2026-04') && !Object.prototype.hasOwnProperty.call(row, 'changeFromQuantity')) {
        return err(i, 'changeFromQuantity', 'INVALID_VARIABLE', 'changeFromQuantity must be given (null to skip the check).');
      }
      const cf = row.changeFromQuantity;
      if (cf !== null && cf !== undefined && cf !== before) return err(i, 'changeFromQuantity', 'CHANGE_FROM_QUANTITY_STALE', 'The changeFromQuantity value does not match persisted value.');
      const after = list === 'quantities' ? Number(row.quantity) : before + Number(row.delta);
      if (!Number.isInteger(after)) return err(i, list === 'quantities' ? 'quantity' : 'delta', 'INVALID_VARIABLE', 'Expected an integer.');
      if (list === 'quantities' && after < 0) return err(i, 'quantity', 'INVALID_QUANTITY_NEGATIVE', "The quantity can't be negative.");
      planned.push({ key, item, loc, before, after });
    });
    // A batch is applied entirely or not at all.
    if (errors.length > 0) return { inventoryAdjustmentGroup: null, userErrors: errors };
    const changes: Json[] = [];
    for (const p of planned) {
      this.levels.set(p.key, p.after);
      if (p.after !== p.before) {
        changes.push({ name: 'available', delta: p.after - p.before, quantityAfterChange: p.after, item: { id: gid('InventoryItem', p.item) }, location: { id: gid('Location', p.loc) } });
        // The echo: Shopify reports every level change, ours included.
        this.enqueue('inventory_levels/update', this.levelBody(p.item, p.loc));
      }
    }
    return { inventoryAdjustmentGroup: { id: gid('InventoryAdjustmentGroup', this.nextId.group++), changes }, userErrors: [] };
  }

  private setQuantities(version: string, raw: unknown): Json {
    const { input, rows } = this.checkInput(raw, 'quantities');
    return this.applyChanges(version, input, rows, 'quantities');
  }

  private adjustQuantities(version: string, raw: unknown): Json {
    const { input, rows } = this.checkInput(raw, 'changes');
    return this.applyChanges(version, input, rows, 'changes');
  }

  private productUpdate(raw: unknown): Json {
    const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Json;
    const id = num(input.id, 'Product');
    const product = id !== null ? this.products.get(id) : undefined;
    if (!product) return { product: null, userErrors: [{ field: ['id'], message: 'Product does not exist' }] };
    if (input.status !== undefined) {
      if (!['ACTIVE', 'DRAFT', 'ARCHIVED', 'UNLISTED'].includes(String(input.status))) throw new GraphQLFailure(`Variable $product was provided invalid value for status (Expected "${String(input.status)}" to be one of: ACTIVE, ARCHIVED, DRAFT, UNLISTED)`, 'INVALID_VARIABLE');
      product.status = input.status as Product['status'];
    }
    return { product: { id: gid('Product', product.id), status: product.status, title: product.title }, userErrors: [] };
  }

  private productVariants(first: unknown, after: unknown): { nodes: Json[]; pageInfo: Json } {
    if (typeof first !== 'number' || !Number.isInteger(first) || first < 1 || first > 250) throw new GraphQLFailure('The first argument must be between 1 and 250.', 'BAD_REQUEST');
    const all = [...this.variants.values()].sort((a, b) => a.id - b.id);
    let start = 0;
    if (typeof after === 'string') {
      let lastId: unknown;
      try {
        lastId = (JSON.parse(Buffer.from(after, 'base64').toString('utf8')) as { last_id?: unknown }).last_id;
      } catch {
        lastId = undefined;
      }
      if (typeof lastId !== 'number') throw new GraphQLFailure('Invalid cursor for current pagination sort.', 'BAD_REQUEST');
      start = all.findIndex((v) => v.id > lastId);
      if (start < 0) start = all.length;
    }
    const page = all.slice(start, start + first);
    const last = page[page.length - 1];
    return {
      nodes: page.map((v) => {
        const p = this.products.get(v.productId)!;
        return { id: gid('ProductVariant', v.id), sku: v.sku, title: v.title, product: { id: gid('Product', p.id), title: p.title }, inventoryItem: { id: gid('InventoryItem', v.inventoryItemId) } };
      }),
      pageInfo: { hasNextPage: start + first < all.length, endCursor: last ? Buffer.from(JSON.stringify({ last_id: last.id, last_value: String(last.id) })).toString('base64') : null },
    };
  }

  /** `return(id:)` with the fields the connector selects; null for an unknown Return. */
  private returnNode(id: unknown): Json | null {
    if (typeof id !== 'string') throw new GraphQLFailure('Variable $id of type ID! was provided invalid value.', 'INVALID_VARIABLE');
    const n = num(id, 'Return');
    const ret = n !== null ? this.returns.get(n) : undefined;
    if (!ret) return null;
    const order = this.orders.get(ret.orderId)!;
    return {
      id: gid('Return', ret.id),
      status: ret.status,
      order: { id: gid('Order', ret.orderId) },
      exchangeLineItems: {
        nodes: ret.exchange.map((e) => ({
          id: gid('ExchangeLineItem', e.id),
          quantity: e.quantity,
          processedQuantity: e.processedQuantity,
          variantId: gid('ProductVariant', e.variantId),
          lineItems: e.lineIds.map((lid) => {
            const l = order.lines.find((x) => x.id === lid)!;
            return { id: gid('LineItem', l.id), sku: this.variants.get(l.variantId)?.sku ?? null };
          }),
        })),
      },
    };
  }

  private nodes(ids: unknown): (Json | null)[] {
    if (!Array.isArray(ids)) throw new GraphQLFailure('Variable $ids of type [ID!]! was provided invalid value.', 'INVALID_VARIABLE');
    if (ids.length > MAX_INPUT) throw new GraphQLFailure(`The input array size of ${ids.length} is greater than the maximum allowed of ${MAX_INPUT}.`, 'MAX_INPUT_SIZE_EXCEEDED');
    return ids.map((id) => {
      const m = typeof id === 'string' ? /^gid:\/\/shopify\/InventoryLevel\/(\d+)\?inventory_item_id=(\d+)$/.exec(id) : null;
      if (!m) return null;
      const key = `${Number(m[2])}|${Number(m[1])}`;
      const q = this.levels.get(key);
      if (q === undefined) return null;
      return { id, item: { id: gid('InventoryItem', Number(m[2])) }, location: { id: gid('Location', Number(m[1])) }, quantities: [{ name: 'available', quantity: q }] };
    });
  }
}
