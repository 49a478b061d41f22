/**
 * What happens in the emulated Commerce instance: its catalog, sources, orders and credit memos,
 * the things people do there (a sale, a cancellation, a credit memo, a stock edit in the Admin) and
 * the hooks Adobe Commerce Webhooks sends for them, signed as it signs them:
 * `x-adobe-commerce-webhook-signature` = base64 RSA-SHA256 (private key) over the base64 of the body.
 * Each hook carries the fields README.md tells the integrator to configure: `data` (the event's own
 * object) and `store_url`, plus the static `x-webhook-token` header.
 */
import crypto from 'node:crypto';
import { DEFAULT_PRICE, LoopbackEmulator, WebhookSender, unitShare, type ApiFaults, type EmulatorProduct, type SaleMoney, type WebhookFaults } from '../../emulator';
import type { ListingRef } from '../../types';
import { ADOBE_TOPICS, type AdobeTopic } from '../translate';
import { EMULATOR_PRIVATE_KEY } from './keys';
import { creditmemoBody, orderBody, reservedShares, type AdobeEmulatorOptions, type Creditmemo, type Json, type Order, type Product } from './model';

export abstract class AdobeStore extends LoopbackEmulator {
  readonly platform = 'adobe-commerce';
  readonly requests: { method: string; path: string; body: unknown; query?: Record<string, string> }[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  readonly products = new Map<string, Product>();
  readonly orders = new Map<number, Order>();
  readonly creditmemos = new Map<number, Creditmemo>();
  readonly sourceCodes: string[];
  readonly currency: string;
  readonly storeUrl: string;
  protected readonly token: string;
  protected readonly hookSecret: string;
  protected readonly privateKey: string;
  protected readonly webhooks: WebhookSender;
  private nextId = 1;
  private readonly storeClock: () => number;
  /** Whether the Inventory (MSI) modules are on; off: legacy inventory, deducted when an order is placed. */
  readonly msi: boolean;

  constructor(opts: AdobeEmulatorOptions) {
    super();
    this.token = opts.accessToken;
    this.hookSecret = opts.webhookSecret;
    this.privateKey = opts.privateKey ?? EMULATOR_PRIVATE_KEY;
    this.storeUrl = opts.storeUrl ?? 'https://shop.example.com/';
    this.sourceCodes = opts.sources && opts.sources.length > 0 ? [...opts.sources] : ['default'];
    this.currency = opts.currency ?? 'USD';
    if (opts.clock) this.clockMs = opts.clock;
    this.storeClock = opts.storeClock ?? (() => Date.now());
    this.msi = opts.msi ?? true;
    const random = opts.random ?? Math.random;
    // Adobe Commerce Webhooks calls the hook once, while the operation runs: no retries.
    this.webhooks = new WebhookSender({ url: () => this.webhookUrl, faults: () => this.faults.webhooks, random, attempts: 1 });
  }

  protected id(): number {
    return this.nextId++;
  }

  protected now(): Date {
    return new Date(this.storeClock());
  }

  locations(): string[] {
    return [...this.sourceCodes];
  }

  product(sku: string): Product | undefined {
    return this.products.get(sku);
  }

  listing(sku: string): ListingRef | null {
    const p = this.products.get(sku);
    return p ? { productId: String(p.id), variantId: p.sku } : null;
  }

  /** What the source can still sell: its quantity less its share of the reservations (what the connector reads). */
  level(sku: string, locationId: string): number | null {
    const p = this.products.get(sku);
    const s = p?.sources.get(locationId);
    if (!p || !s) return null;
    return s.quantity - (reservedShares(p, this.sourceCodes).get(locationId) ?? 0);
  }

  /** The source's own quantity (MSI source item), reservations not counted. */
  sourceQuantity(sku: string, locationId: string): number | null {
    return this.products.get(sku)?.sources.get(locationId)?.quantity ?? null;
  }

  seed(products: EmulatorProduct[]): void {
    for (const sp of products) {
      let p = this.products.get(sp.sku);
      if (!p) {
        const now = this.now();
        p = { id: this.id(), sku: sp.sku, name: sp.title, status: 1, visibility: 4, price: sp.price ?? DEFAULT_PRICE, created: now, updated: now, sources: new Map(), reserved: 0 };
        this.products.set(sp.sku, p);
      }
      for (const [source, q] of Object.entries(sp.levels)) {
        if (!this.sourceCodes.includes(source)) throw new Error(`The Adobe Commerce emulator has no source "${source}" (it has ${this.sourceCodes.join(', ')}).`);
        p.sources.set(source, { quantity: q, status: q > 0 ? 1 : 0 });
      }
    }
  }

  /** Sets source quantities (an API save, a sale's deduction, a return, an Admin edit) and sends the source items hook. */
  protected saveSourceItems(items: { sku: string; source: string; quantity: number }[], fromApi: boolean): void {
    for (const it of items) {
      const p = this.products.get(it.sku)!;
      p.sources.set(it.source, { quantity: it.quantity, status: it.quantity > 0 ? 1 : 0 });
    }
    if (items.length === 0) return;
    const sourceItems = items.map((it) => ({ sku: it.sku, source_code: it.source, quantity: it.quantity, status: it.quantity > 0 ? 1 : 0 }));
    // Without the Inventory modules there is no SourceItemsSaveInterface to hook.
    if (this.msi) this.hook('plugin.magento.inventory_api.api.source_items_save.execute', { sourceItems });
    if (fromApi) this.stockWritten(items.map((i) => i.sku));
  }

  /** One hook call as Adobe Commerce Webhooks makes it, through the fault modes. */
  protected hook(topic: AdobeTopic, data: Json): void {
    const body = JSON.stringify({ data, store_url: this.storeUrl });
    const signer = crypto.createSign('SHA256');
    signer.update(Buffer.from(body, 'utf8').toString('base64'));
    const signature = signer.sign(this.privateKey, 'base64');
    const id = crypto.createHash('sha256').update(body).digest('hex').slice(0, 16);
    this.queueWebhook({ topic, id, body, headers: { 'content-type': 'application/json', 'x-adobe-commerce-webhook-signature': signature, 'x-webhook-token': this.hookSecret } });
  }

  protected orderHook(o: Order): void {
    this.hook(ADOBE_TOPICS[0], { order: orderBody(o, this.currency) });
  }

  /** A sale at the store: the order is placed and (`ship`, the default) shipped at once, which deducts the source. */
  async sell(sale: { sku: string; quantity: number; locationId?: string; ship?: boolean } & SaleMoney): Promise<{ orderId: string }> {
    const p = this.products.get(sale.sku);
    if (!p) throw new Error(`The Adobe Commerce emulator has no product ${sale.sku}.`);
    const source = sale.locationId ?? null;
    const now = this.now();
    const id = this.id();
    const ship = sale.ship !== false;
    const price = Math.max(0, p.price - Math.floor((sale.discount ?? 0) / Math.max(1, sale.quantity)));
    const order: Order = {
      id,
      incrementId: String(100000000 + id),
      state: ship ? 'processing' : 'new',
      created: now,
      updated: now,
      items: [{ itemId: this.id(), productId: p.id, sku: p.sku, name: p.name, price, qtyOrdered: sale.quantity, qtyShipped: 0, qtyCanceled: 0, qtyRefunded: 0, source }],
      totalRefunded: 0,
    };
    this.orders.set(id, order);
    // Placing the order reserves the units on the stock; shipping deducts them from the source and
    // compensates the reservation (Magento MSI). Legacy inventory deducts the quantity at once.
    this.orderHook(order);
    if (!this.msi) {
      order.items[0]!.qtyShipped = ship ? sale.quantity : 0;
      this.saveSourceItems([{ sku: p.sku, source: 'default', quantity: (p.sources.get('default')?.quantity ?? 0) - sale.quantity }], false);
      return { orderId: String(id) };
    }
    p.reserved += sale.quantity;
    if (ship) this.shipItems(order);
    return { orderId: String(id) };
  }

  /** A shipment of every unshipped unit of an order, from the source each line was sold at. */
  async ship(orderId: string): Promise<void> {
    const o = this.orders.get(Number(orderId));
    if (!o) throw new Error(`The Adobe Commerce emulator has no order ${orderId}.`);
    this.shipItems(o);
    o.updated = this.now();
    this.orderHook(o);
  }

  /**
   * Ships what is left of each line: from the source the sale named, else as Magento's default
   * source selection (priority) does: from the sources in order, each as far as it has the goods.
   */
  private shipItems(o: Order): void {
    const saves: { sku: string; source: string; quantity: number }[] = [];
    for (const i of o.items) {
      let qty = i.qtyOrdered - i.qtyShipped - i.qtyCanceled;
      const p = this.products.get(i.sku);
      if (qty <= 0 || !p) continue;
      i.qtyShipped += qty;
      p.reserved -= qty;
      const order = i.source ? [i.source] : this.sourceCodes.filter((c) => p.sources.get(c)?.status === 1);
      order.forEach((code, n) => {
        const has = p.sources.get(code)?.quantity ?? 0;
        const take = n === order.length - 1 ? qty : Math.min(qty, Math.max(0, has));
        if (take <= 0) return;
        qty -= take;
        saves.push({ sku: i.sku, source: code, quantity: has - take });
      });
    }
    o.state = 'processing';
    this.saveSourceItems(saves, false);
  }

  /** The Admin's Cancel on an order not shipped yet: state `canceled`, the reserved units released. */
  async cancel(orderId: string): Promise<void> {
    const o = this.orders.get(Number(orderId));
    if (!o) throw new Error(`The Adobe Commerce emulator has no order ${orderId}.`);
    if (o.items.some((i) => i.qtyShipped > 0)) throw new Error(`Order ${orderId} is shipped; Magento cancels only what is not shipped or invoiced.`);
    for (const i of o.items) {
      i.qtyCanceled = i.qtyOrdered - i.qtyRefunded;
      // The compensating reservation (legacy inventory: the quantity back): the units can be sold again.
      const p = this.products.get(i.sku);
      if (p && this.msi) p.reserved -= i.qtyCanceled;
      else if (p) this.saveSourceItems([{ sku: p.sku, source: 'default', quantity: (p.sources.get('default')?.quantity ?? 0) + i.qtyCanceled }], false);
    }
    o.state = 'canceled';
    o.updated = this.now();
    this.orderHook(o);
  }

  /** A credit memo (POST /V1/order/{id}/refund, or the Admin), with "Return to Stock" or without. */
  async refund(refund: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const o = this.orders.get(Number(refund.orderId));
    if (!o) throw new Error(`The Adobe Commerce emulator has no order ${refund.orderId}.`);
    const item = o.items.find((i) => i.qtyOrdered - i.qtyRefunded - i.qtyCanceled > 0);
    if (!item) throw new Error(`Order ${refund.orderId} has nothing left to refund.`);
    if (item.qtyShipped < item.qtyOrdered) throw new Error(`Order ${refund.orderId} is not shipped; the emulator refunds shipped orders (cancel an unshipped one).`);
    const qty = Math.min(refund.quantity ?? item.qtyOrdered - item.qtyRefunded, item.qtyOrdered - item.qtyRefunded);
    const amount = unitShare(item.price * item.qtyOrdered, item.qtyOrdered, item.qtyRefunded, qty);
    const memo: Creditmemo = { id: this.id(), orderId: o.id, incrementId: String(100000000 + this.nextId), created: this.now(), items: [{ entityId: this.id(), orderItemId: item.itemId, qty, backToStock: refund.restock }], grandTotal: amount };
    this.creditmemos.set(memo.id, memo);
    item.qtyRefunded += qty;
    o.totalRefunded += amount;
    if (o.items.every((i) => i.qtyRefunded + i.qtyCanceled >= i.qtyOrdered)) o.state = 'closed';
    o.updated = this.now();
    this.hook(ADOBE_TOPICS[1], { creditmemo: creditmemoBody(memo, o, this.currency, true) });
    this.orderHook(o);
    if (refund.restock && item.qtyShipped > 0) {
      const source = item.source ?? this.sourceCodes[0]!;
      const q = this.products.get(item.sku)?.sources.get(source)?.quantity ?? 0;
      this.saveSourceItems([{ sku: item.sku, source, quantity: q + qty }], false);
    }
    return { refundId: String(memo.id) };
  }

  /** Someone edits a source's quantity in the Admin: the source items hook only. */
  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    if (!this.products.has(change.sku)) throw new Error(`The Adobe Commerce emulator has no product ${change.sku}.`);
    this.saveSourceItems([{ sku: change.sku, source: change.locationId ?? this.sourceCodes[0]!, quantity: change.available }], false);
  }

  describeWebhook(body: string): string {
    try {
      const data = ((JSON.parse(body) as Json).data ?? {}) as Json;
      if (Array.isArray(data.sourceItems)) return (data.sourceItems as Json[]).map((s) => `${String(s.sku)}@${String(s.source_code)} ${String(s.quantity)}`).join(', ');
      if (data.order) return `order ${String((data.order as Json).entity_id)} ${String((data.order as Json).state)} ${String((data.order as Json).updated_at)}`;
      if (data.creditmemo) return `credit memo ${String((data.creditmemo as Json).entity_id)}`;
      return '';
    } catch {
      return '';
    }
  }
}
