/**
 * The emulated shop's state: its locations, products and variants, levels, orders and returns, the
 * REST bodies its webhooks carry (orders, lines, refunds, levels, in the shop currency), and the
 * signed webhooks themselves. What happens on the shop is in events.ts; its API in index.ts.
 */
import crypto from 'node:crypto';
import { formatMinor } from '../../../shared/money';
import { DEFAULT_PRICE, LoopbackEmulator, WebhookSender, percentPpm, type ApiFaults, type EmulatorProduct, type OutgoingWebhook, type WebhookFaults } from '../../emulator';
import { DEFAULT_API_VERSION } from '../client';
import { signShopifyWebhook } from '../verify';
import { gid, num, type Json, type Order, type OrderLine, type Product, type ReturnRecord, type ShopifyEmulatorOptions, type Variant } from './model';

export abstract class ShopifyShop extends LoopbackEmulator {
  readonly platform = 'shopify';
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  readonly shopDomain: string;
  protected readonly token: string;
  protected readonly secret: string;
  protected readonly apiVersion: string;
  protected readonly random: () => number;

  protected readonly locationIds: number[] = [];
  protected readonly products = new Map<number, Product>();
  protected readonly variants = new Map<number, Variant>();
  protected readonly levels = new Map<string, number>();
  protected readonly orders = new Map<number, Order>();
  protected readonly returns = new Map<number, ReturnRecord>();
  protected readonly lastPayload = new Map<string, Json>();
  // Shopify retries a failed delivery 8 times over 4 hours; the emulator 3 times, quickly.
  protected readonly webhooks = new WebhookSender({ url: () => this.webhookUrl, faults: () => this.faults.webhooks, random: () => this.random(), attempts: 3 });
  protected nextId = { product: 7_100_000_001, variant: 4_400_000_001, item: 4_500_000_001, order: 5_500_000_001, line: 13_000_000_001, refund: 900_000_001, refundLine: 1_058_000_001, group: 77_000_001, ret: 3_300_000_001, exchangeLine: 6_600_000_001 };
  protected orderNumber = 1001;
  readonly currency: string;
  protected readonly taxPpm: number;

  constructor(opts: ShopifyEmulatorOptions) {
    super();
    this.token = opts.accessToken;
    this.secret = opts.webhookSecret;
    this.shopDomain = opts.shopDomain ?? 'stockrelay-demo.myshopify.com';
    this.apiVersion = opts.apiVersion ?? DEFAULT_API_VERSION;
    this.random = opts.random ?? Math.random;
    if (opts.clock) this.clockMs = opts.clock;
    this.currency = opts.currency ?? 'AUD';
    this.taxPpm = opts.taxRate !== undefined ? percentPpm(opts.taxRate) : 0;
    for (const l of opts.locations ?? ['gid://shopify/Location/1001', 'gid://shopify/Location/1002']) this.addLocation(l);
  }

  // ------------------------------------------------------------------ catalog state

  protected addLocation(l: string): number {
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

  protected fmt(amount: number): string {
    return formatMinor(amount, this.currency);
  }

  /** An amount as Shopify's `*_set`: the same in shop and presentment money (one currency here). */
  protected set(amount: number): Json {
    const money = { amount: this.fmt(amount), currency_code: this.currency };
    return { shop_money: money, presentment_money: { ...money } };
  }

  protected totals(order: Order): { lineItems: number; discounts: number; subtotal: number; tax: number; total: number } {
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

  protected lineBody(line: OrderLine): Json {
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

  protected orderOf(line: OrderLine): Order | undefined {
    for (const o of this.orders.values()) if (o.lines.includes(line)) return o;
    return undefined;
  }

  protected orderBody(order: Order): Json {
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

  protected levelBody(item: number, loc: number): Json {
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

  protected enqueue(topic: string, payload: Json): void {
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

}
