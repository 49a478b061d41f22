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
 *
 * Money, as the REST order webhooks carry it: amounts are decimal strings in the shop currency
 * (`currency` option, AUD by default) with that currency's decimals ("25.00", "2500" for JPY,
 * "25.000" for KWD), and every `*_set` repeats them as shop and presentment money. Each variant has a
 * price (2500 minor units unless given); a sale may carry a fixed line `discount` (a
 * `discount_allocations` entry; the deprecated `total_discount` stays "0.00", as Shopify sends it),
 * a tax rate (`taxRate` option or per sale, in percent; tax = (price × quantity − discount) × rate,
 * rounded half up, per line, prices exclusive of tax) and `shipping` (untaxed). The order totals are
 * the sums of its lines: `total_line_items_price`, `total_discounts`, `subtotal_price` (after
 * discounts), `total_tax`, `total_shipping_price_set`, `total_price` = subtotal + tax + shipping.
 * A refund's `transactions` give back the refunded units' share of the line (net of discount) and of
 * its tax, split so that partial refunds add up to the line exactly; a cancellation with restock also
 * gives back the shipping. A paid order sends `orders/paid` after `orders/create`; `fulfil` sends
 * `orders/fulfilled` and `orders/updated`.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { formatMinor } from '../../shared/money';
import { DEFAULT_PRICE, LoopbackEmulator, commonApiFault, WebhookSender, applyPpm, percentPpm, unitShare, type ApiFaults, type Emulator, type EmulatorProduct, type OutgoingWebhook, type SaleMoney, type WebhookFaults } from '../emulator';
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
  /** The shop currency (ISO 4217), AUD by default. */
  currency?: string;
  /** Tax on every sale, in percent ("10"); none by default. */
  taxRate?: string;
  /** The clock the cost bucket refills by (ms); a test may share a fake one with the hub. */
  clock?: () => number;
}

interface Variant {
  id: number;
  productId: number;
  inventoryItemId: number;
  sku: string | null;
  title: string;
  /** One unit, in minor units of the shop currency. */
  price: number;
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
  /** One unit, the discount on the whole line, and the tax on the whole line after the discount. */
  price: number;
  discount: number;
  tax: number;
  /** The tax rate in parts per million (0: untaxed). */
  taxPpm: number;
}
interface Order {
  id: number;
  number: number;
  locationId: number | null;
  createdAt: string;
  updatedAt: string;
  lines: OrderLine[];
  cancelledAt: string | null;
  shipping: number;
  shippingRefunded: boolean;
  financialStatus: 'pending' | 'paid' | 'partially_refunded' | 'refunded' | 'voided';
  fulfilled: boolean;
  /** Money given back so far, and the refunds (REST bodies) the order carries. */
  refundedAmount: number;
  refunds: Json[];
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
  private lastRefill: number;

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
  readonly currency: string;
  private readonly taxPpm: number;


  constructor(opts: ShopifyEmulatorOptions) {
    super();
    this.token = opts.accessToken;
    this.secret = opts.webhookSecret;
    this.shopDomain = opts.shopDomain ?? 'stockrelay-demo.myshopify.com';
    this.apiVersion = opts.apiVersion ?? DEFAULT_API_VERSION;
    this.random = opts.random ?? Math.random;
    if (opts.clock) this.clockMs = opts.clock;
    this.lastRefill = this.clockMs();
    this.bucketSize = opts.bucket?.size ?? 2000;
    this.restoreRate = opts.bucket?.restorePerSecond ?? 100;
    this.available = this.bucketSize;
    this.currency = opts.currency ?? 'AUD';
    this.taxPpm = opts.taxRate !== undefined ? percentPpm(opts.taxRate) : 0;
    for (const l of opts.locations ?? ['gid://shopify/Location/1001', 'gid://shopify/Location/1002']) this.addLocation(l);
  }

  // ------------------------------------------------------------------ lifecycle


  /** Resizes the cost bucket (and fills it). */
  setBucket(size: number, restorePerSecond: number): void {
    this.bucketSize = size;
    this.restoreRate = restorePerSecond;
    this.available = size;
    this.lastRefill = this.clockMs();
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
      const v = existing ?? this.addListing({ sku: p.sku, title: p.title, levels: {}, ...(p.price !== undefined ? { price: p.price } : {}) });
      if (p.price !== undefined) v.price = p.price;
      for (const [loc, q] of Object.entries(p.levels)) this.levels.set(`${v.inventoryItemId}|${this.addLocation(loc)}`, q);
    }
  }

  /** Adds one product with one variant as given (an empty or repeated SKU included), without webhooks. */
  addListing(l: { sku: string | null; title: string; variantTitle?: string; levels?: Record<string, number>; status?: Product['status']; price?: number }): Variant {
    const product: Product = { id: this.nextId.product++, title: l.title, status: l.status ?? 'ACTIVE' };
    this.products.set(product.id, product);
    const v: Variant = { id: this.nextId.variant++, productId: product.id, inventoryItemId: this.nextId.item++, sku: l.sku, title: l.variantTitle ?? 'Default Title', price: l.price ?? DEFAULT_PRICE };
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

  /**
   * A sale: `discount` (minor units, on the line), `taxRate` (percent; the shop's when not given),
   * `shipping` (minor units, web orders) and `paid: false` (a pending payment: no `orders/paid`).
   */
  async sell(sale: { sku: string; quantity: number; locationId?: string; shipping?: number; paid?: boolean } & SaleMoney): Promise<{ orderId: string }> {
    const v = [...this.variants.values()].find((x) => x.sku === sale.sku);
    if (!v) throw new Error(`The emulated shop does not list SKU ${sale.sku}.`);
    const pos = sale.locationId !== undefined ? this.addLocation(sale.locationId) : null;
    // A web order is fulfilled from the first location stocking the item (Shopify's fulfillment
    // location is decided later; the order itself says nothing).
    const stockLoc = pos ?? this.locationIds.find((l) => (this.levels.get(`${v.inventoryItemId}|${l}`) ?? 0) >= sale.quantity) ?? this.locationIds[0]!;
    const now = new Date().toISOString();
    const taxPpm = sale.taxRate !== undefined ? percentPpm(sale.taxRate) : this.taxPpm;
    const paid = sale.paid ?? true;
    const order: Order = {
      id: this.nextId.order++,
      number: this.orderNumber++,
      locationId: pos,
      createdAt: now,
      updatedAt: now,
      cancelledAt: null,
      shipping: sale.shipping ?? 0,
      shippingRefunded: false,
      financialStatus: paid ? 'paid' : 'pending',
      fulfilled: false,
      refundedAmount: 0,
      refunds: [],
      lines: [this.newLine(v, sale.quantity, stockLoc, sale.discount ?? 0, taxPpm)],
    };
    this.orders.set(order.id, order);
    const key = `${v.inventoryItemId}|${stockLoc}`;
    this.levels.set(key, (this.levels.get(key) ?? 0) - sale.quantity);
    this.enqueue('orders/create', this.orderBody(order));
    if (paid) this.enqueue('orders/paid', this.orderBody(order));
    this.enqueue('inventory_levels/update', this.levelBody(v.inventoryItemId, stockLoc));
    return { orderId: gid('Order', order.id) };
  }

  private newLine(v: Variant, quantity: number, locationId: number, discount: number, taxPpm: number): OrderLine {
    const net = v.price * quantity - discount;
    if (discount < 0 || net < 0) throw new Error(`A discount of ${discount} does not fit a line of ${v.price * quantity}.`);
    return { id: this.nextId.line++, variantId: v.id, quantity, refunded: 0, locationId, price: v.price, discount, tax: applyPpm(net, taxPpm), taxPpm };
  }

  /** Marks every line fulfilled: `orders/fulfilled` then `orders/updated`, as Shopify sends them. */
  async fulfil(f: { orderId: string }): Promise<void> {
    const order = this.orders.get(num(f.orderId, 'Order') ?? Number(f.orderId));
    if (!order) throw new Error(`The emulated shop has no order ${f.orderId}.`);
    order.fulfilled = true;
    order.updatedAt = new Date().toISOString();
    this.enqueue('orders/fulfilled', this.orderBody(order));
    this.enqueue('orders/updated', this.orderBody(order));
  }

  /** The order as the shop keeps it (REST shape), for tests. */
  order(orderId: string): Json | null {
    const order = this.orders.get(num(orderId, 'Order') ?? Number(orderId));
    return order ? this.orderBody(order) : null;
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
    order.cancelledAt = new Date().toISOString();
    order.updatedAt = order.cancelledAt;
    const restocked: { item: number; loc: number }[] = [];
    if (c.restock) {
      // The cancellation's refund gives back what is left of the order, shipping included.
      const refund = this.makeRefund(order, order.lines.map((line) => ({ line, quantity: line.quantity - line.refunded })), 'cancel', true);
      restocked.push(...refund.restocked);
      this.enqueue('refunds/create', refund.body);
    }
    // An order cancelled before it was paid: Shopify voids the payment it was waiting for.
    if (order.financialStatus === 'pending') order.financialStatus = 'voided';
    this.enqueue('orders/cancelled', { ...this.orderBody(order), cancel_reason: 'customer' });
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
    const added = this.newLine(out, x.quantity, stockLoc, 0, this.taxPpm);
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

  /** A push of stock: an `inventorySetQuantities` or `inventoryAdjustQuantities` mutation (the simulation counts them). */
  isStockWrite(request: { method: string; path: string; body: unknown }): boolean {
    const query = (request.body as { query?: unknown } | null)?.query;
    return typeof query === 'string' && /inventory(Set|Adjust)Quantities/.test(query);
  }

  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    const v = [...this.variants.values()].find((x) => x.sku === change.sku);
    if (!v) throw new Error(`The emulated shop does not list SKU ${change.sku}.`);
    const loc = change.locationId !== undefined ? this.addLocation(change.locationId) : this.locationIds[0]!;
    this.levels.set(`${v.inventoryItemId}|${loc}`, change.available);
    this.enqueue('inventory_levels/update', this.levelBody(v.inventoryItemId, loc));
  }

  private makeRefund(order: Order, parts: { line: OrderLine; quantity: number }[], restockType: 'return' | 'cancel' | 'no_restock', withShipping = false): { body: Json; restocked: { item: number; loc: number }[] } {
    const id = this.nextId.refund++;
    const now = new Date().toISOString();
    const restocked: { item: number; loc: number }[] = [];
    let back = 0;
    const lines = parts.map(({ line, quantity }) => {
      // The refunded units' share of the line (net of its discount) and of its tax.
      const subtotal = unitShare(line.price * line.quantity - line.discount, line.quantity, line.refunded, quantity);
      const tax = unitShare(line.tax, line.quantity, line.refunded, quantity);
      back += subtotal + tax;
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
        // REST sends these two as JSON numbers.
        subtotal: Number(this.fmt(subtotal)),
        total_tax: Number(this.fmt(tax)),
        subtotal_set: this.set(subtotal),
        total_tax_set: this.set(tax),
        line_item: this.lineBody(line),
      };
    });
    const adjustments: Json[] = [];
    if (withShipping && order.shipping > 0 && !order.shippingRefunded) {
      order.shippingRefunded = true;
      back += order.shipping;
      adjustments.push({ id: this.nextId.refundLine++, order_id: order.id, refund_id: id, amount: this.fmt(-order.shipping), tax_amount: this.fmt(0), kind: 'shipping_refund', reason: 'Shipping refund', amount_set: this.set(-order.shipping), tax_amount_set: this.set(0) });
    }
    const transactions: Json[] = [];
    if (back > 0 && order.financialStatus !== 'pending' && order.financialStatus !== 'voided') {
      const txId = this.nextId.refundLine++;
      transactions.push({ id: txId, admin_graphql_api_id: gid('OrderTransaction', txId), order_id: order.id, kind: 'refund', gateway: 'manual', status: 'success', message: null, created_at: now, processed_at: now, test: true, amount: this.fmt(back), currency: this.currency });
      order.refundedAmount += back;
      order.financialStatus = order.refundedAmount >= this.totals(order).total ? 'refunded' : 'partially_refunded';
    }
    order.updatedAt = now;
    const body: Json = { id, admin_graphql_api_id: gid('Refund', id), order_id: order.id, created_at: now, processed_at: now, note: null, user_id: null, restock: restockType !== 'no_restock', refund_line_items: lines, transactions, order_adjustments: adjustments };
    order.refunds.push(body);
    return { body, restocked };
  }

  private fmt(amount: number): string {
    return formatMinor(amount, this.currency);
  }

  /** An amount as Shopify's `*_set`: the same in shop and presentment money (one currency here). */
  private set(amount: number): Json {
    const money = { amount: this.fmt(amount), currency_code: this.currency };
    return { shop_money: money, presentment_money: { ...money } };
  }

  private totals(order: Order): { lineItems: number; discounts: number; subtotal: number; tax: number; total: number } {
    let lineItems = 0;
    let discounts = 0;
    let tax = 0;
    for (const l of order.lines) {
      lineItems += l.price * l.quantity;
      discounts += l.discount;
      tax += l.tax;
    }
    const subtotal = lineItems - discounts;
    return { lineItems, discounts, subtotal, tax, total: subtotal + tax + order.shipping };
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
      price: this.fmt(line.price),
      price_set: this.set(line.price),
      total_discount: this.fmt(0),
      total_discount_set: this.set(0),
      discount_allocations: line.discount > 0 ? [{ amount: this.fmt(line.discount), amount_set: this.set(line.discount), discount_application_index: 0 }] : [],
      gift_card: false,
      requires_shipping: true,
      fulfillable_quantity: this.orderOf(line)?.fulfilled ? 0 : line.quantity - line.refunded,
      fulfillment_status: this.orderOf(line)?.fulfilled ? 'fulfilled' : null,
      fulfillment_service: 'manual',
      product_exists: true,
      taxable: line.taxPpm > 0,
      properties: [],
      tax_lines: line.taxPpm > 0 ? [{ title: 'Tax', price: this.fmt(line.tax), price_set: this.set(line.tax), rate: line.taxPpm / 1_000_000, channel_liable: false }] : [],
    };
  }

  private orderOf(line: OrderLine): Order | undefined {
    for (const o of this.orders.values()) if (o.lines.includes(line)) return o;
    return undefined;
  }

  private orderBody(order: Order): Json {
    const t = this.totals(order);
    const taxPpm = order.lines.find((l) => l.taxPpm > 0)?.taxPpm ?? 0;
    const discounted = order.lines.find((l) => l.discount > 0);
    // A web order has a customer; a POS sale here is a walk-in.
    const customer = order.locationId === null ? { id: 207119551, admin_graphql_api_id: 'gid://shopify/Customer/207119551', email: 'sam.buyer@example.com', first_name: 'Sam', last_name: 'Buyer', currency: this.currency } : null;
    return {
      id: order.id,
      admin_graphql_api_id: gid('Order', order.id),
      name: `#${order.number}`,
      order_number: order.number,
      number: order.number - 1000,
      email: customer?.email ?? '',
      contact_email: customer?.email ?? null,
      created_at: order.createdAt,
      updated_at: order.updatedAt,
      processed_at: order.createdAt,
      cancelled_at: order.cancelledAt,
      cancel_reason: null,
      currency: this.currency,
      presentment_currency: this.currency,
      taxes_included: false,
      total_line_items_price: this.fmt(t.lineItems),
      total_line_items_price_set: this.set(t.lineItems),
      total_discounts: this.fmt(t.discounts),
      total_discounts_set: this.set(t.discounts),
      subtotal_price: this.fmt(t.subtotal),
      subtotal_price_set: this.set(t.subtotal),
      total_tax: this.fmt(t.tax),
      total_tax_set: this.set(t.tax),
      total_shipping_price_set: this.set(order.shipping),
      total_price: this.fmt(t.total),
      total_price_set: this.set(t.total),
      tax_lines: taxPpm > 0 ? [{ title: 'Tax', price: this.fmt(t.tax), price_set: this.set(t.tax), rate: taxPpm / 1_000_000, channel_liable: false }] : [],
      discount_applications: discounted ? [{ target_type: 'line_item', type: 'manual', value: this.fmt(discounted.discount), value_type: 'fixed_amount', allocation_method: 'one', target_selection: 'explicit', title: 'Discount', description: 'Discount' }] : [],
      financial_status: order.financialStatus,
      fulfillment_status: order.fulfilled ? 'fulfilled' : null,
      location_id: order.locationId,
      source_name: order.locationId !== null ? 'pos' : 'web',
      test: true,
      customer,
      line_items: order.lines.map((l) => this.lineBody(l)),
      shipping_lines: order.shipping > 0 ? [{ id: order.id, title: 'Standard', code: 'Standard', source: 'shopify', price: this.fmt(order.shipping), price_set: this.set(order.shipping), discounted_price: this.fmt(order.shipping), discounted_price_set: this.set(order.shipping), tax_lines: [], discount_allocations: [] }] : [],
      refunds: order.refunds,
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
    const fault = await commonApiFault(f);
    if (fault === 'hang') return this.hang(res);
    if (fault !== null) {
      // Shopify's own bodies (https://shopify.dev/docs/api/usage/response-codes).
      const status = fault;
      if (status === 401) return send(401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
      if (status === 403) return send(403, { errors: '[API] This action requires merchant approval for write_inventory scope.' });
      return send(404, { errors: 'Not Found' });
    }

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
      const answer = this.execute(version, query, variables ?? {});
      if (f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0 && /\binventory(Set|Adjust)Quantities\s*\(/.test(query)) {
        f.loseWriteAnswerNext--;
        return this.hang(res);
      }
      send(200, answer);
    } catch {
      send(500, { errors: 'Internal Server Error' });
    }
  }

  private refill(): void {
    const now = this.clockMs();
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
      this.rateLimited.push({ at: this.clockMs(), retryAfterMs: Math.ceil(((requested - this.available) / this.restoreRate) * 1000) });
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
      const refused = this.faults.api.refuseSku;
      if (before === undefined || (refused && [...this.variants.values()].some((v) => v.inventoryItemId === item && v.sku === refused))) {
        return err(i, 'locationId', 'ITEM_NOT_STOCKED_AT_LOCATION', 'The specified inventory item is not stocked at the location.');
      }
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
    const written: (string | null)[] = [];
    for (const p of planned) {
      this.levels.set(p.key, p.after);
      written.push([...this.variants.values()].find((v) => v.inventoryItemId === p.item)?.sku ?? null);
      if (p.after !== p.before) {
        changes.push({ name: 'available', delta: p.after - p.before, quantityAfterChange: p.after, item: { id: gid('InventoryItem', p.item) }, location: { id: gid('Location', p.loc) } });
        // The echo: Shopify reports every level change, ours included.
        this.enqueue('inventory_levels/update', this.levelBody(p.item, p.loc));
      }
    }
    this.stockWritten(written);
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
    // A cache in front of the shop that ignores the cursor answers the first page again.
    if (typeof after === 'string' && !this.faults.api.ignorePaging) {
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
