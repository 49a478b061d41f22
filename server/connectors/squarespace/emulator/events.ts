/**
 * What happens on the Squarespace site itself, and the notifications it sends: a sale (order.create),
 * a refund (order.update REFUNDED: money only; "Issue refund" never restocks, so a refund "with
 * restock" is the refund plus the owner adding the units back by hand in Inventory, which sends no
 * notification), a cancellation (order.update CANCELED, with or without "Restock inventory"), a
 * fulfilment (order.update FULFILLED), and a stock edit in the dashboard (no notification at all).
 * Notifications are `{id, websiteId, subscriptionId, topic, createdOn, data}` with
 * `Squarespace-Signature` = hex HMAC-SHA256 of the body keyed with the hex-decoded secret, and
 * `User-Agent: Squarespace/1.0`.
 */
import { DEFAULT_PRICE, LoopbackEmulator, WebhookSender, type ApiFaults, type EmulatorProduct, type WebhookFaults } from '../../emulator';
import type { ListingRef } from '../../types';
import { signSquarespace } from '../verify';
import { SQUARESPACE_LOCATION } from '../translate';
import { sqspId, variantUuid, type Order, type Product, type SquarespaceEmulatorOptions, type Variant } from './model';

export abstract class SquarespaceSite extends LoopbackEmulator {
  readonly platform = 'squarespace';
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  protected readonly products = new Map<string, Product>();
  protected readonly bySku = new Map<string, Variant>();
  protected readonly orders = new Map<string, Order>();
  protected readonly webhooks: WebhookSender;
  protected readonly currency: string;
  protected readonly subscriptionId = sqspId();
  private orderNumber = 1000;
  private lastStamp = 0;

  constructor(protected readonly opts: SquarespaceEmulatorOptions) {
    super();
    if (opts.clock) this.clockMs = opts.clock;
    this.currency = opts.currency ?? 'AUD';
    const random = opts.random ?? Math.random;
    this.webhooks = new WebhookSender({ url: () => this.webhookUrl, faults: () => this.faults.webhooks, random, attempts: 3 });
  }

  /** A modification time later than any before (Squarespace's modifiedOn, to the millisecond). */
  protected stamp(): string {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return new Date(this.lastStamp).toISOString();
  }

  locations(): string[] {
    return [SQUARESPACE_LOCATION];
  }

  seed(products: EmulatorProduct[]): void {
    for (const p of products) {
      const quantity = p.levels[SQUARESPACE_LOCATION] ?? Object.values(p.levels)[0] ?? 0;
      const known = this.bySku.get(p.sku);
      if (known) {
        known.quantity = quantity;
        continue;
      }
      const product: Product = { id: sqspId(), name: p.title, isVisible: true, variants: [], modifiedOn: this.stamp() };
      const variant: Variant = { id: variantUuid(), productId: product.id, sku: p.sku, quantity, unlimited: false, price: p.price ?? DEFAULT_PRICE };
      product.variants.push(variant);
      this.products.set(product.id, product);
      this.bySku.set(p.sku, variant);
    }
  }

  level(sku: string, locationId: string): number | null {
    const v = this.bySku.get(sku);
    return v && locationId === SQUARESPACE_LOCATION && !v.unlimited ? v.quantity : null;
  }

  listing(sku: string): ListingRef | null {
    const v = this.bySku.get(sku);
    return v ? { productId: v.productId, variantId: v.id } : null;
  }

  /** Whether buyers see the product of this SKU. */
  visible(sku: string): boolean {
    const v = this.bySku.get(sku);
    return v ? this.products.get(v.productId)!.isVisible : false;
  }

  /** Makes a variant's stock unlimited (tests). */
  setUnlimited(sku: string, unlimited: boolean): void {
    const v = this.bySku.get(sku);
    if (v) v.unlimited = unlimited;
  }

  order(orderId: string): Order | undefined {
    return this.orders.get(orderId);
  }

  async sell(sale: { sku: string; quantity: number; locationId?: string }): Promise<{ orderId: string }> {
    const v = this.bySku.get(sale.sku);
    if (!v) throw new Error(`The Squarespace emulator has no variant ${sale.sku}.`);
    if (!v.unlimited) v.quantity -= sale.quantity;
    const product = this.products.get(v.productId)!;
    const now = this.stamp();
    const order: Order = {
      id: sqspId(),
      orderNumber: ++this.orderNumber,
      createdOn: now,
      modifiedOn: now,
      fulfillmentStatus: 'PENDING',
      lines: [{ id: sqspId(), variantId: v.id, productId: v.productId, sku: v.sku, productName: product.name, quantity: sale.quantity, unitPrice: v.price }],
      refunded: 0,
      customerEmail: 'buyer@example.com',
    };
    this.orders.set(order.id, order);
    this.notify('order.create', { orderId: order.id });
    return { orderId: order.id };
  }

  /** "Issue refund": money back; with `restock`, the owner then adds the units back in Inventory (no notification). */
  async refund(refund: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const order = this.mustOrder(refund.orderId);
    const line = order.lines[0]!;
    const quantity = refund.quantity ?? line.quantity;
    order.refunded += line.unitPrice * quantity;
    order.modifiedOn = this.stamp();
    if (refund.restock) {
      const v = this.bySku.get(line.sku);
      if (v && !v.unlimited) v.quantity += quantity;
    }
    this.notify('order.update', { orderId: order.id, update: 'REFUNDED' });
    return { refundId: `${order.id}:${order.refunded}` };
  }

  /** "Cancel order": a full refund, the order CANCELED, the units back when "Restock inventory" stays ticked. */
  async cancel(orderId: string, restock: boolean): Promise<void> {
    const order = this.mustOrder(orderId);
    order.fulfillmentStatus = 'CANCELED';
    order.refunded = order.lines.reduce((s, l) => s + l.unitPrice * l.quantity, 0);
    order.modifiedOn = this.stamp();
    if (restock) {
      for (const l of order.lines) {
        const v = this.bySku.get(l.sku);
        if (v && !v.unlimited) v.quantity += l.quantity;
      }
    }
    this.notify('order.update', { orderId, update: 'CANCELED' });
  }

  async fulfill(orderId: string): Promise<void> {
    const order = this.mustOrder(orderId);
    order.fulfillmentStatus = 'FULFILLED';
    order.modifiedOn = this.stamp();
    this.notify('order.update', { orderId, update: 'FULFILLED' });
  }

  /** Stock edited in Squarespace's Inventory panel: no notification (Squarespace has no inventory topic). */
  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    const v = this.bySku.get(change.sku);
    if (!v) throw new Error(`The Squarespace emulator has no variant ${change.sku}.`);
    v.quantity = change.available;
    v.unlimited = false;
  }

  private mustOrder(orderId: string): Order {
    const order = this.orders.get(orderId);
    if (!order) throw new Error(`The Squarespace emulator has no order ${orderId}.`);
    return order;
  }

  /** The body of a notification of this site (or another, for tests), signed as Squarespace signs it. */
  notification(topic: string, data: Record<string, unknown>, websiteId = this.opts.websiteId): { body: string; headers: Record<string, string> } {
    const body = JSON.stringify({ id: sqspId(), websiteId, subscriptionId: this.subscriptionId, topic, createdOn: new Date(this.clockMs()).toISOString(), data });
    return { body, headers: { 'content-type': 'application/json', 'user-agent': 'Squarespace/1.0', 'squarespace-signature': signSquarespace(body, this.opts.webhookSecret) } };
  }

  protected notify(topic: string, data: Record<string, unknown>): void {
    const { body, headers } = this.notification(topic, data);
    this.queueWebhook({ topic, id: (JSON.parse(body) as { id: string }).id, body, headers });
  }

  /** For a simulation trace: what a notification says. */
  describeWebhook(body: string): string {
    try {
      const b = JSON.parse(body) as { topic?: string; data?: { orderId?: string; update?: string } };
      return `${b.topic ?? '?'} order ${b.data?.orderId ?? '?'}${b.data?.update ? ` ${b.data.update}` : ''}`;
    } catch {
      return '';
    }
  }
}
