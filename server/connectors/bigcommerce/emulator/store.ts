/**
 * The emulated store's state: products and variants with stock per location, orders and refunds,
 * the inventory settings; the REST shapes they are answered in (v3 catalog and inventory, v2
 * orders with money as 4-decimal strings); and its webhooks, thin and signed with the Standard
 * Webhooks scheme keyed by the app's client secret. What happens in the store is in events.ts, its
 * REST API in index.ts.
 */
import crypto from 'node:crypto';
import { formatMinor } from '../../../shared/money';
import { DEFAULT_PRICE, LoopbackEmulator, WebhookSender, type ApiFaults, type EmulatorProduct, type WebhookFaults } from '../../emulator';
import type { ListingRef } from '../../types';
import { signBigCommerceWebhook } from '../verify';
import { STATUS_NAMES, type BigCommerceEmulatorOptions, type Json, type Order, type OrderLine, type Product, type Refund, type Variant } from './model';

export abstract class BigCommerceStore extends LoopbackEmulator {
  readonly platform = 'bigcommerce';
  readonly requests: { method: string; path: string; body: unknown; query: Record<string, string> }[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  readonly storeHash: string;
  readonly currency: string;
  /** `refund_order_stock_adjustment` of the store's inventory settings. */
  refundRestocks: boolean;
  protected readonly clientSecret: string;
  protected readonly storeId: string;
  protected readonly random: () => number;
  protected readonly locationIds: number[];
  protected readonly products = new Map<number, Product>();
  protected readonly orders = new Map<number, Order>();
  protected nextId = { product: 100, variant: 500, sku: 900, order: 1000, line: 5000, refund: 1, event: 1 };
  // BigCommerce retries a failed delivery (60 s, 180 s, … in production; quickly here).
  protected readonly webhooks = new WebhookSender({ url: () => this.webhookUrl, faults: () => this.faults.webhooks, random: () => this.random(), attempts: 3 });

  constructor(opts: BigCommerceEmulatorOptions) {
    super();
    this.storeHash = opts.storeHash.toLowerCase();
    this.clientSecret = opts.clientSecret;
    this.storeId = opts.storeId ?? '1001';
    this.random = opts.random ?? Math.random;
    this.currency = opts.currency ?? 'USD';
    this.refundRestocks = opts.refundRestocks ?? true;
    const locs = (opts.locations ?? ['1']).map((l) => Number(l));
    if (locs.length === 0 || locs.some((l) => !Number.isSafeInteger(l) || l < 1)) throw new Error('BigCommerce location ids are whole numbers from 1.');
    this.locationIds = locs;
    if (opts.clock) this.clockMs = opts.clock;
  }

  // ------------------------------------------------------------------ catalog state

  locations(): string[] {
    return this.locationIds.map(String);
  }

  /** The product and variant holding this SKU's stock. */
  find(sku: string): { product: Product; variant: Variant } | null {
    for (const product of this.products.values()) {
      for (const variant of product.variants) {
        if (product.tracking === 'product' ? variant.id === product.baseVariantId && product.sku === sku : variant.option !== null && variant.sku === sku) return { product, variant };
      }
    }
    return null;
  }

  product(sku: string): Product | null {
    return this.find(sku)?.product ?? null;
  }

  /** The ids catalog discovery maps this SKU to. */
  listing(sku: string): ListingRef | null {
    const f = this.find(sku);
    if (!f) return null;
    const inventoryItemId = f.product.tracking === 'product' ? `product_id:${f.product.id}` : `variant_id:${f.variant.id}`;
    return { productId: String(f.product.id), variantId: String(f.variant.id), inventoryItemId };
  }

  /** Whether shoppers can buy this SKU: its product is visible and (for a variant) purchasing is not disabled. */
  listed(sku: string): boolean {
    const f = this.find(sku);
    return !!f && f.product.isVisible && !f.variant.purchasingDisabled;
  }

  level(sku: string, locationId: string): number | null {
    const f = this.find(sku);
    if (!f) return null;
    return f.variant.levels.get(Number(locationId)) ?? null;
  }

  private newLevels(levels: Record<string, number>): Map<number, number> {
    return new Map(this.locationIds.map((l) => [l, levels[String(l)] ?? 0]));
  }

  /** Creates products tracked by product (or replaces their levels) without webhooks. */
  seed(products: EmulatorProduct[]): void {
    for (const p of products) {
      const found = this.find(p.sku);
      if (found) {
        for (const [loc, q] of Object.entries(p.levels)) found.variant.levels.set(Number(loc), q);
        continue;
      }
      const id = this.nextId.product++;
      const base: Variant = { id: this.nextId.variant++, skuId: null, sku: p.sku, option: null, purchasingDisabled: false, levels: this.newLevels(p.levels) };
      this.products.set(id, { id, name: p.title, sku: p.sku, tracking: 'product', isVisible: true, price: p.price ?? DEFAULT_PRICE, baseVariantId: base.id, variants: [base] });
    }
  }

  /** Creates a product tracked by variant: one variant with options per SKU (e.g. sizes), without webhooks. */
  seedVariants(p: { sku: string; title: string; variants: { sku: string; option: string; levels: Record<string, number> }[]; price?: number }): Product {
    const id = this.nextId.product++;
    const base: Variant = { id: this.nextId.variant++, skuId: null, sku: p.sku, option: null, purchasingDisabled: false, levels: this.newLevels({}) };
    const variants = p.variants.map((v): Variant => ({ id: this.nextId.variant++, skuId: this.nextId.sku++, sku: v.sku, option: v.option, purchasingDisabled: false, levels: this.newLevels(v.levels) }));
    const product: Product = { id, name: p.title, sku: p.sku, tracking: 'variant', isVisible: true, price: p.price ?? DEFAULT_PRICE, baseVariantId: base.id, variants: [base, ...variants] };
    this.products.set(id, product);
    return product;
  }

  // ------------------------------------------------------------------ REST shapes

  protected money(minor: number): string {
    return `${formatMinor(minor, this.currency)}00`;
  }

  protected variantJson(p: Product, v: Variant): Json {
    const onHand = [...v.levels.values()].reduce((a, b) => a + b, 0);
    return {
      id: v.id,
      product_id: p.id,
      sku: v.sku,
      sku_id: v.skuId,
      price: null,
      calculated_price: p.price / 100,
      purchasing_disabled: v.purchasingDisabled,
      purchasing_disabled_message: v.purchasingDisabled ? 'Sold out' : '',
      inventory_level: onHand,
      option_values: v.option === null ? [] : [{ id: v.id * 10, label: v.option, option_id: 1, option_display_name: 'Option' }],
    };
  }

  protected productJson(p: Product, withVariants: boolean): Json {
    const base = p.variants.find((v) => v.id === p.baseVariantId)!;
    const stocked = p.tracking === 'product' ? [base] : p.variants.filter((v) => v.option !== null);
    return {
      id: p.id,
      name: p.name,
      type: 'physical',
      sku: p.sku,
      price: p.price / 100,
      is_visible: p.isVisible,
      inventory_tracking: p.tracking,
      inventory_level: stocked.reduce((a, v) => a + [...v.levels.values()].reduce((x, y) => x + y, 0), 0),
      base_variant_id: p.baseVariantId,
      ...(withVariants ? { variants: p.variants.map((v) => this.variantJson(p, v)) } : {}),
    };
  }

  /** One entry of GET /v3/inventory/items: a variant that holds stock, with its levels per location. */
  protected inventoryItemJson(p: Product, v: Variant, locations: number[] | null): Json {
    return {
      identity: { sku: v.sku, variant_id: v.id, product_id: p.id, sku_id: v.skuId },
      locations: [...v.levels.entries()]
        .filter(([loc]) => locations === null || locations.includes(loc))
        .map(([loc, q]) => ({
          location_id: loc,
          location_code: `BC-LOCATION-${loc}`,
          location_name: loc === 1 ? 'Default location' : `Location ${loc}`,
          available_to_sell: q,
          total_inventory_onhand: q,
          location_enabled: true,
          settings: { safety_stock: 0, is_in_stock: true, warning_level: 0, bin_picking_number: '' },
        })),
    };
  }

  /** The variants that hold stock: the base variant of a product tracked by product, the option variants of one tracked by variant. */
  protected stockedVariants(p: Product): Variant[] {
    return p.tracking === 'product' ? p.variants.filter((v) => v.id === p.baseVariantId) : p.variants.filter((v) => v.option !== null);
  }

  protected orderTotals(o: Order): { subtotal: number; discount: number; tax: number; total: number } {
    const subtotal = o.lines.reduce((a, l) => a + l.unitPrice * l.quantity, 0);
    const discount = o.lines.reduce((a, l) => a + l.discount, 0);
    const tax = o.lines.reduce((a, l) => a + l.tax, 0);
    return { subtotal, discount, tax, total: subtotal - discount + tax };
  }

  protected orderJson(o: Order, consignments: boolean): Json {
    const t = this.orderTotals(o);
    const paid = o.refunded === 0 ? 'captured' : o.refunded >= t.total ? 'refunded' : 'partially refunded';
    const json: Json = {
      id: o.id,
      customer_id: 0,
      date_created: o.created.toUTCString().replace('GMT', '+0000'),
      date_modified: o.modified.toUTCString().replace('GMT', '+0000'),
      status_id: o.statusId,
      status: STATUS_NAMES[o.statusId] ?? 'Unknown',
      subtotal_ex_tax: this.money(t.subtotal),
      subtotal_inc_tax: this.money(t.subtotal + t.tax),
      subtotal_tax: this.money(t.tax),
      shipping_cost_ex_tax: this.money(0),
      shipping_cost_inc_tax: this.money(0),
      total_ex_tax: this.money(t.total - t.tax),
      total_inc_tax: this.money(t.total),
      total_tax: this.money(t.tax),
      is_tax_inclusive_pricing: false,
      items_total: o.lines.reduce((a, l) => a + l.quantity, 0),
      payment_method: 'Credit Card',
      payment_status: o.statusId === 5 ? 'void' : paid,
      refunded_amount: this.money(o.refunded),
      currency_code: this.currency,
      discount_amount: this.money(t.discount),
      coupon_discount: this.money(0),
      billing_address: { first_name: 'Ada', last_name: 'Shopper', email: 'ada@example.com' },
      products: { url: `${this.baseUrl}/stores/${this.storeHash}/v2/orders/${o.id}/products`, resource: `/orders/${o.id}/products` },
    };
    if (consignments) {
      const lineItems = (ids: number[]) => ids.map((id) => ({ url: `${this.baseUrl}/stores/${this.storeHash}/v2/orders/${o.id}/products/${id}`, resource: `/orders/${o.id}/products/${id}` }));
      json.consignments =
        o.pickupLocation !== null
          ? { pickups: [{ id: o.id, pickup_method_id: 1, pickup_method_display_name: 'Pick Up', location: { id: o.pickupLocation, name: `Location ${o.pickupLocation}`, code: `LOCATION-${o.pickupLocation}` }, line_items: lineItems(o.lines.map((l) => l.id)) }], shipping: [] }
          : { pickups: [], shipping: [{ id: o.id, line_items: lineItems(o.lines.map((l) => l.id)) }] };
    }
    return json;
  }

  protected orderLineJson(o: Order, l: OrderLine): Json {
    return {
      id: l.id,
      order_id: o.id,
      product_id: l.productId,
      variant_id: l.variantId,
      name: l.name,
      sku: l.sku,
      type: 'physical',
      base_price: this.money(l.unitPrice),
      price_ex_tax: this.money(l.unitPrice),
      price_inc_tax: this.money(l.unitPrice + Math.floor(l.tax / Math.max(1, l.quantity))),
      base_total: this.money(l.unitPrice * l.quantity),
      total_ex_tax: this.money(l.unitPrice * l.quantity),
      total_inc_tax: this.money(l.unitPrice * l.quantity + l.tax),
      total_tax: this.money(l.tax),
      quantity: l.quantity,
      is_refunded: l.refunded >= l.quantity,
      quantity_refunded: l.refunded,
      quantity_shipped: 0,
      applied_discounts: l.discount > 0 ? [{ id: 'manual-discount', amount: this.money(l.discount), name: 'Manual Discount', code: null, target: 'order' }] : [],
      product_options: [],
    };
  }

  protected refundJson(r: Refund): Json {
    return { id: r.id, order_id: r.orderId, user_id: 0, created: r.created.toISOString().replace(/\.\d{3}Z$/, '+00:00'), reason: 'Refund', total_amount: r.total / 100, total_tax: 0, uses_merchant_override_values: false, payments: [{ id: r.id, provider_id: 'storecredit', amount: r.total / 100, offline: true, is_declined: false, declined_message: '' }], items: r.items };
  }

  // ------------------------------------------------------------------ webhooks

  /** Queues one thin webhook, as BigCommerce sends it: `{created_at, store_id, producer, scope, hash, data}`, signed. */
  protected emit(scope: string, data: Json): void {
    const seq = this.nextId.event++;
    const created = Math.floor(Date.now() / 1000);
    const hash = crypto.createHash('sha1').update(`${this.storeHash}:${scope}:${seq}:${JSON.stringify(data)}`).digest('hex');
    const body = JSON.stringify({ created_at: created, store_id: this.storeId, producer: `stores/${this.storeHash}`, scope, hash, data });
    const id = `msg_${crypto.createHash('sha256').update(`${hash}:${seq}`).digest('hex').slice(0, 27)}`;
    const headers = { 'content-type': 'application/json', ...signBigCommerceWebhook(this.clientSecret, id, new Date(created * 1000), body) };
    this.queueWebhook({ topic: scope, id, body, headers });
  }

  /** The inventory webhook of one variant's change: product events for a product tracked by product, SKU events otherwise. */
  protected emitInventory(p: Product, v: Variant, change: number, byOrder: boolean): void {
    const method = byOrder ? 'relative' : 'absolute';
    if (p.tracking === 'product') {
      this.emit(byOrder ? 'store/product/inventory/order/updated' : 'store/product/inventory/updated', { type: 'product', id: p.id, inventory: { product_id: p.id, method, value: change } });
    } else {
      this.emit(byOrder ? 'store/sku/inventory/order/updated' : 'store/sku/inventory/updated', { type: 'sku', id: v.skuId, inventory: { product_id: p.id, method, value: change, variant_id: v.id } });
    }
  }

  /** For a simulation trace: what a webhook says, in a few words. */
  describeWebhook(body: string): string {
    try {
      const b = JSON.parse(body) as { scope?: string; data?: { id?: unknown; inventory?: { value?: unknown } } };
      return `${b.scope ?? '?'} ${String(b.data?.id)}${b.data?.inventory ? ` change ${String(b.data.inventory.value)}` : ''}`;
    } catch {
      return '';
    }
  }
}
