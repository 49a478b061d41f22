/**
 * The Wix site the emulator keeps: products with one variant each, inventory (per variant on a
 * catalog V1 site; per variant and location on V3, each item with its revision), eCommerce orders
 * and their refunds, and the webhooks Wix sends about them, signed as Wix signs them (an RS256 JWT
 * whose payload's `data` is the JSON string `{eventType, instanceId, data, identity}`).
 */
import crypto from 'node:crypto';
import { DEFAULT_PRICE, LoopbackEmulator, WebhookSender, applyPpm, percentPpm, type ApiFaults, type EmulatorProduct, type SaleMoney, type WebhookFaults } from '../../emulator';
import type { ListingRef } from '../../types';
import { signWixJwt } from '../verify';
import { ORDER_APPROVED, ORDER_CANCELED, ORDER_CREATED, REFUND_COMPLETED, V1_INVENTORY_CHANGED, V3_INVENTORY_UPDATED, WIX_LOCATION_V1 } from '../translate';

export type Json = Record<string, unknown>;

export interface WixEmulatorOptions {
  apiKey: string;
  siteId: string;
  /** The app instance every event names. */
  instanceId: string;
  /** The app's private key: webhooks are signed with it (the channel checks with the public key). */
  privateKey: crypto.KeyObject;
  catalogVersion: 'V1' | 'V3';
  /** V3 location ids (the first is the default location, where storefront orders take stock). */
  locations?: string[];
  /** Items per page of queries (for tests: 2). */
  pageSize?: number;
  /** Enforce Wix's 200 requests a minute per site. */
  rateLimit?: boolean;
  clock?: () => number;
  random?: () => number;
}

/** Wix's published limit: 200 requests a minute per site (app instance). */
export const WIX_RATE_LIMIT = { requests: 200, windowMs: 60_000 };
/** The variant id Wix gives a V1 product without options. */
export const V1_DEFAULT_VARIANT = '00000000-0000-0000-0000-000000000000';

export interface Product {
  id: string;
  name: string;
  sku: string;
  variantId: string;
  visible: boolean;
  revision: number;
  price: number;
}

export interface Item {
  id: string;
  revision: number;
  quantity: number;
}

export interface OrderLine {
  id: string;
  product: Product;
  quantity: number;
  locationId: string;
  /** Units refunded so far. */
  refunded: number;
}

export interface Order {
  id: string;
  number: string;
  status: 'APPROVED' | 'CANCELED';
  paymentStatus: string;
  createdDate: string;
  lines: OrderLine[];
  tax: number;
  discount: number;
  refunded: number;
}

const money = (minor: number) => ({ amount: (minor / 100).toFixed(2), formattedAmount: `A$${(minor / 100).toFixed(2)}` });

export class WixApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
  ) {
    super(message);
  }
  body(): Json {
    return { message: this.message, details: this.code ? { applicationError: { code: this.code, description: this.message, data: {} } } : {} };
  }
}

export abstract class WixSite extends LoopbackEmulator {
  readonly platform = 'wix';
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  readonly version: 'V1' | 'V3';
  /** Every request the emulator could not answer as Wix would (a bug of its own). */
  readonly internalErrors: string[] = [];
  protected readonly products = new Map<string, Product>();
  protected readonly bySku = new Map<string, Product>();
  /** Inventory per `variant|location`. */
  protected readonly items = new Map<string, Item>();
  protected readonly orders = new Map<string, Order>();
  protected readonly locationIds: string[];
  protected readonly webhooks: WebhookSender;
  private orderNumber = 10000;

  constructor(protected readonly opts: WixEmulatorOptions) {
    super();
    this.version = opts.catalogVersion;
    this.locationIds = opts.catalogVersion === 'V1' ? [WIX_LOCATION_V1] : (opts.locations ?? ['loc-default-0001']);
    if (opts.clock) this.clockMs = opts.clock;
    this.webhooks = new WebhookSender({ url: () => this.webhookUrl, faults: () => this.faults.webhooks, random: opts.random ?? Math.random, attempts: 3 });
  }

  locations(): string[] {
    return [...this.locationIds];
  }

  seed(products: EmulatorProduct[]): void {
    for (const p of products) {
      let prod = this.bySku.get(p.sku);
      if (!prod) {
        const id = crypto.randomUUID();
        prod = { id, name: p.title, sku: p.sku, variantId: this.version === 'V1' ? V1_DEFAULT_VARIANT : crypto.randomUUID(), visible: true, revision: 1, price: p.price ?? DEFAULT_PRICE };
        this.products.set(id, prod);
        this.bySku.set(p.sku, prod);
      }
      for (const [loc, q] of Object.entries(p.levels)) {
        if (!this.locationIds.includes(loc)) continue;
        const key = `${prod.id}:${prod.variantId}|${loc}`;
        const it = this.items.get(key) ?? { id: crypto.randomUUID(), revision: 0, quantity: 0 };
        it.quantity = q;
        it.revision++;
        this.items.set(key, it);
      }
    }
  }

  /** The inventory of a product's variant at a location. */
  protected item(p: Product, loc: string): Item | undefined {
    return this.items.get(`${p.id}:${p.variantId}|${loc}`);
  }

  level(sku: string, locationId: string): number | null {
    const p = this.bySku.get(sku);
    return p ? (this.item(p, locationId)?.quantity ?? null) : null;
  }

  listing(sku: string): ListingRef | null {
    const p = this.bySku.get(sku);
    return p ? { productId: p.id, variantId: p.variantId } : null;
  }

  /** Whether buyers see the product. */
  visible(sku: string): boolean {
    return this.bySku.get(sku)?.visible ?? false;
  }

  protected now(): string {
    return new Date().toISOString();
  }

  // ------------------------------------------------------------------ webhooks

  /** One event as Wix sends it: a JWT signed with the app's key, the body as plain text. */
  protected emit(eventType: string, event: Json): void {
    const data = JSON.stringify({ eventType, instanceId: this.opts.instanceId, data: JSON.stringify(event), identity: JSON.stringify({ identityType: 'APP' }) });
    const body = signWixJwt({ data, iat: Math.floor(Date.now() / 1000) }, this.opts.privateKey);
    this.queueWebhook({ topic: eventType, id: typeof event.id === 'string' ? event.id : crypto.createHash('sha256').update(data).digest('hex'), body, headers: { 'content-type': 'text/plain' } });
  }

  /** A standard (domain) event's fields. */
  protected domain(fqdn: string, slug: string, entityId: string, rest: Json): Json {
    return { id: crypto.randomUUID(), entityFqdn: fqdn, slug, entityId, eventTime: this.now(), triggeredByAnonymizeRequest: false, ...rest };
  }

  /** The inventory event after a change of `p` at `loc` (V1: legacy Inventory Variants Changed; V3: inventory item updated). */
  protected inventoryEvent(p: Product, loc: string, before: number): void {
    const it = this.item(p, loc)!;
    if (this.version === 'V1') {
      this.emit(V1_INVENTORY_CHANGED, {
        inventoryItemId: it.id,
        productId: p.id,
        variants: [{ id: p.variantId, oldValue: { quantity: before, inStock: before > 0 }, newValue: { quantity: it.quantity, inStock: it.quantity > 0 } }],
        updatedDate: this.now(),
      });
    } else {
      this.emit(V3_INVENTORY_UPDATED, this.domain('wix.stores.catalog.v3.inventory_item', 'updated', it.id, { updatedEvent: { currentEntity: this.itemBody(p, loc) } }));
    }
  }

  /** Sets a level and sends its event; the hook lets a test land a sale right after a write. */
  protected changeLevel(p: Product, loc: string, quantity: number, byApi: boolean): void {
    const it = this.item(p, loc)!;
    const before = it.quantity;
    it.quantity = quantity;
    it.revision++;
    this.inventoryEvent(p, loc, before);
    if (byApi) this.afterStockWrite?.(p.sku);
  }

  itemBody(p: Product, loc: string): Json {
    const it = this.item(p, loc)!;
    return { id: it.id, revision: String(it.revision), variantId: p.variantId, productId: p.id, locationId: loc, trackQuantity: true, quantity: it.quantity, inStock: it.quantity > 0, availabilityStatus: it.quantity > 0 ? 'IN_STOCK' : 'OUT_OF_STOCK', product: { name: p.name } };
  }

  // ------------------------------------------------------------------ orders

  orderBody(o: Order): Json {
    const lines = o.lines.map((l) => {
      const gross = l.product.price * l.quantity;
      return {
        id: l.id,
        productName: { original: l.product.name },
        catalogReference: { catalogItemId: l.product.id, appId: '215238eb-22a5-4c36-9e7b-e7c08025e04e', options: { variantId: l.product.variantId } },
        quantity: l.quantity,
        physicalProperties: { sku: l.product.sku, shippable: true },
        price: money(l.product.price),
        totalDiscount: money(o.discount),
        taxDetails: { totalTax: money(o.tax) },
        totalPriceAfterTax: money(gross - o.discount + o.tax),
      };
    });
    const subtotal = o.lines.reduce((s, l) => s + l.product.price * l.quantity, 0);
    return {
      id: o.id,
      number: o.number,
      status: o.status,
      paymentStatus: o.paymentStatus,
      fulfillmentStatus: 'NOT_FULFILLED',
      currency: 'AUD',
      createdDate: o.createdDate,
      buyerInfo: { contactId: 'c0ffee00-0000-4000-8000-000000000001', email: 'buyer@example.com' },
      lineItems: lines,
      priceSummary: { subtotal: money(subtotal), shipping: money(0), tax: money(o.tax), discount: money(o.discount), total: money(subtotal - o.discount + o.tax) },
    };
  }

  protected placeOrder(p: Product, quantity: number, loc: string, m: SaleMoney): Order {
    const it = this.item(p, loc);
    if (!it) throw new Error(`The Wix emulator has no inventory of ${p.sku} at ${loc}.`);
    const discount = m.discount ?? 0;
    const tax = m.taxRate ? applyPpm(p.price * quantity - discount, percentPpm(m.taxRate)) : 0;
    const order: Order = { id: crypto.randomUUID(), number: String(++this.orderNumber), status: 'APPROVED', paymentStatus: 'PAID', createdDate: this.now(), lines: [{ id: crypto.randomUUID(), product: p, quantity, locationId: loc, refunded: 0 }], tax, discount, refunded: 0 };
    this.orders.set(order.id, order);
    this.changeLevel(p, loc, it.quantity - quantity, false);
    const body = this.orderBody(order);
    this.emit(ORDER_CREATED, this.domain('wix.ecom.v1.order', 'created', order.id, { createdEvent: { entity: body } }));
    this.emit(ORDER_APPROVED, this.domain('wix.ecom.v1.order', 'approved', order.id, { actionEvent: { body: { order: body } } }));
    return order;
  }

  protected refundOrder(o: Order, restock: boolean, quantity: number | undefined): string {
    const line = o.lines[0]!;
    const q = Math.min(quantity ?? line.quantity - line.refunded, line.quantity - line.refunded);
    if (q <= 0) throw new Error(`Order ${o.id} has nothing left to refund.`);
    line.refunded += q;
    const amount = line.product.price * q;
    o.refunded += amount;
    o.paymentStatus = line.refunded >= line.quantity ? 'FULLY_REFUNDED' : 'PARTIALLY_REFUNDED';
    if (restock) this.changeLevel(line.product, line.locationId, this.item(line.product, line.locationId)!.quantity + q, false);
    const refundId = crypto.randomUUID();
    const refund = {
      id: refundId,
      createdDate: this.now(),
      details: { items: [{ lineItemId: line.id, quantity: q }], shippingIncluded: false },
      summary: { requestedRefund: money(amount), refunded: money(amount) },
      transactions: [{ paymentId: crypto.randomUUID(), amount: money(amount), refundStatus: 'SUCCEEDED' }],
    };
    const sideEffects = { restockInfo: restock ? { type: 'SOME_ITEMS', items: [{ lineItemId: line.id, quantity: q }] } : { type: 'NO_ITEMS' }, sendOrderRefundedEmail: false };
    this.emit(REFUND_COMPLETED, this.domain('wix.ecom.v1.order_transactions', 'refund_completed', o.id, { actionEvent: { body: { orderId: o.id, refund, sideEffects } } }));
    return refundId;
  }

  protected cancelOrder(o: Order, restock: boolean): void {
    o.status = 'CANCELED';
    if (restock) for (const l of o.lines) this.changeLevel(l.product, l.locationId, this.item(l.product, l.locationId)!.quantity + l.quantity - l.refunded, false);
    this.emit(ORDER_CANCELED, this.domain('wix.ecom.v1.order', 'canceled', o.id, { actionEvent: { body: { order: this.orderBody(o), restockAllItems: restock, sendOrderCanceledEmail: false } } }));
  }
}
