/**
 * The emulated OpenCart store's state and what happens in it, as OpenCart 4 and the stockrelay
 * extension do it: orders taking stock when they enter the processing/complete statuses and giving
 * it back when they leave them (catalog/model/checkout/order addHistory: products and option values
 * whose `subtract` is on), returns restocked by the extension, products edited in the admin; each
 * followed by the extension's signed delivery, logged in its events feed first. Its routes are in
 * index.ts.
 */
import { DEFAULT_PRICE, LoopbackEmulator, WebhookSender, type ApiFaults, type EmulatorProduct, type SaleMoney, type WebhookFaults } from '../../emulator';
import { HEADER, OC_LOCATION, type OcLevel, type OcOrderProduct, type OcTopic } from '../protocol';
import { signOc } from '../signing';
import {
  DEFAULT_COMPLETE,
  DEFAULT_PROCESSING,
  ORDER_STATUS,
  REFUND_STATUSES,
  RESTOCK_RETURN_STATUSES,
  RETURN_STATUS,
  STATUS,
  stockStatuses,
  versionAtLeast,
  type LoggedEvent,
  type OcEmulatorOptions,
  type Order,
  type Product,
  type Return,
} from './model';

export abstract class OcStoreState extends LoopbackEmulator {
  readonly platform = 'opencart';
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  /** The extension's events log (oc_stockrelay_event): what the events feed lists. */
  readonly events: LoggedEvent[] = [];
  protected readonly products = new Map<number, Product>();
  protected readonly orders = new Map<number, Order>();
  protected readonly returns = new Map<number, Return>();
  protected readonly webhookSecret: string;
  protected readonly random: () => number;
  protected readonly version: string;
  /** The statuses in which an order holds stock. */
  protected readonly holding: Set<number>;
  // The extension posts once, right after the change (a lost delivery is in the events feed).
  protected readonly webhooks = new WebhookSender({ url: () => this.webhookUrl, faults: () => this.faults.webhooks, random: () => this.random(), attempts: 1 });
  protected nextId = { product: 40, pov: 200, order: 1, orderProduct: 1, ret: 1 };

  constructor(opts: OcEmulatorOptions) {
    super();
    this.webhookSecret = opts.webhookSecret;
    this.random = opts.random ?? Math.random;
    this.version = opts.version ?? '4.1.0.4';
    this.holding = stockStatuses(this.version, opts.processingStatuses ?? DEFAULT_PROCESSING, opts.completeStatuses ?? DEFAULT_COMPLETE);
    if (opts.clock) this.clockMs = opts.clock;
  }

  /** The store's address as the extension names it (HTTP_SERVER, with its slash). */
  get storeUrl(): string {
    return `${this.baseUrl}/`;
  }

  locations(): string[] {
    return [OC_LOCATION];
  }

  seed(products: EmulatorProduct[]): void {
    for (const p of products) {
      const q = p.levels[OC_LOCATION] ?? Object.values(p.levels)[0] ?? 0;
      const existing = this.bySku(p.sku);
      if (existing) {
        existing.quantity = q;
        if (p.price !== undefined) existing.price = p.price;
      } else {
        this.addProduct({ sku: p.sku, name: p.title, quantity: q, ...(p.price !== undefined ? { price: p.price } : {}) });
      }
    }
  }

  /** Adds a product (Catalog > Products > Add) without an event; `options`: option values with their own quantities. */
  addProduct(p: { sku: string; name: string; quantity: number; model?: string; subtract?: number; price?: number; options?: { name: string; quantity: number; subtract?: number }[] }): Product {
    const prod: Product = {
      id: this.nextId.product++,
      sku: p.sku,
      model: p.model ?? `M-${p.sku}`,
      name: p.name,
      quantity: p.quantity,
      subtract: p.subtract ?? 1,
      status: 1,
      price: p.price ?? DEFAULT_PRICE,
      options: (p.options ?? []).map((o) => ({ id: this.nextId.pov++, name: o.name, quantity: o.quantity, subtract: o.subtract ?? 1 })),
    };
    this.products.set(prod.id, prod);
    return prod;
  }

  bySku(sku: string): Product | undefined {
    return [...this.products.values()].find((p) => p.sku === sku || (p.sku === '' && p.model === sku));
  }

  product(sku: string): Product | undefined {
    return this.bySku(sku);
  }

  listing(sku: string): { productId: string; variantId: string } | null {
    const p = this.bySku(sku);
    return p ? { productId: String(p.id), variantId: String(p.id) } : null;
  }

  level(sku: string, locationId: string): number | null {
    const p = this.bySku(sku);
    return p && locationId === OC_LOCATION ? p.quantity : null;
  }

  order(orderId: string): Order | undefined {
    return this.orders.get(Number(orderId));
  }

  // ------------------------------------------------------------------ what happens in the store

  /** A checkout: the order gets the default order status (Pending, one of the stock statuses by default). */
  async sell(sale: { sku: string; quantity: number; locationId?: string; optionValueIds?: number[] } & SaleMoney): Promise<{ orderId: string }> {
    const p = this.bySku(sale.sku);
    if (!p) throw new Error(`The emulated OpenCart store does not list SKU ${sale.sku}.`);
    const order: Order = { id: this.nextId.order++, statusId: 0, cycle: 0, lines: [{ id: this.nextId.orderProduct++, productId: p.id, quantity: sale.quantity, optionValueIds: sale.optionValueIds ?? [] }] };
    this.orders.set(order.id, order);
    await this.addOrderHistory(String(order.id), STATUS.pending);
    return { orderId: String(order.id) };
  }

  /**
   * A refund as an OpenCart shop does it: the whole order, restocked, by moving it to Refunded
   * (OpenCart puts the stock back); part of it, or without restocking, by a product return
   * (Sales > Returns) completed, which the extension restocks only when the goods are unopened.
   */
  async refund(r: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const order = this.orders.get(Number(r.orderId));
    if (!order) throw new Error(`The emulated OpenCart store has no order ${r.orderId}.`);
    const units = order.lines.reduce((n, l) => n + l.quantity, 0);
    if (r.restock && (r.quantity === undefined || r.quantity >= units)) {
      await this.addOrderHistory(r.orderId, STATUS.refunded);
      return { refundId: `order-${order.id}-restock-${order.cycle}` };
    }
    const line = order.lines[0]!;
    const ret: Return = { id: this.nextId.ret++, orderId: order.id, productId: line.productId, quantity: Math.min(r.quantity ?? line.quantity, line.quantity), opened: r.restock ? 0 : 1, statusId: 1, restocked: false };
    this.returns.set(ret.id, ret);
    await this.addReturnHistory(ret.id, RESTOCK_RETURN_STATUSES[0]!);
    return { refundId: `return-${ret.id}` };
  }

  /** Staff save the product in the admin with another quantity: the extension reports product.updated. */
  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    const p = this.bySku(change.sku);
    if (!p) throw new Error(`The emulated OpenCart store does not list SKU ${change.sku}.`);
    p.quantity = change.available;
    this.emit('product.updated', { product: { ...this.levelOf(p), name: p.name, status: p.status } });
  }

  /** catalog/model/checkout/order addHistory, then the extension's after-event. */
  async addOrderHistory(orderId: string, statusId: number): Promise<void> {
    const order = this.orders.get(Number(orderId));
    if (!order) throw new Error(`The emulated OpenCart store has no order ${orderId}.`);
    const previous = order.statusId;
    const was = this.holding.has(previous);
    const is = this.holding.has(statusId);
    const stock = !was && is ? 'subtracted' : was && !is ? 'restored' : 'none';
    if (stock !== 'none') this.moveStock(order, stock === 'subtracted' ? -1 : 1);
    if (stock === 'subtracted') order.cycle++;
    order.statusId = statusId;
    this.emit('order.status', this.orderData(order, previous, stock, order.lines));
  }

  /** The data of an order.status event: what moving from `previous` to the order's status did, for these lines. */
  protected orderData(order: Order, previous: number, stock: 'subtracted' | 'restored' | 'none', lines: Order['lines']): unknown {
    const statusId = order.statusId;
    return {
      order: { order_id: order.id, store_id: 0, order_status_id: statusId, order_status: ORDER_STATUS[statusId] ?? '', previous_status_id: previous, currency_code: 'AUD' },
      stock,
      cycle: Math.max(order.cycle, 1),
      refund: stock === 'restored' && REFUND_STATUSES.includes(statusId),
      products: lines.map((l) => this.orderProduct(l)),
      levels: this.levelsOf(lines.map((l) => l.productId)),
    };
  }

  /**
   * An order edited in the admin (4.x: through the catalog API's order confirm): editOrder voids the
   * order with a direct addHistory call (Voided on 4.1, status 0 on 4.0; no event fires for it) and
   * replaces its lines; the extension's editOrder events report the stock the void gave back with the
   * old lines; then the API's addHistory puts the order back in its status, taking the new lines.
   */
  async editOrder(orderId: string, lines: { sku: string; quantity: number }[]): Promise<void> {
    const order = this.orders.get(Number(orderId));
    if (!order) throw new Error(`The emulated OpenCart store has no order ${orderId}.`);
    const previous = order.statusId;
    const oldLines = order.lines;
    if (previous !== 0) {
      order.statusId = versionAtLeast(this.version, '4.1.0.0') ? STATUS.voided : 0;
      if (this.holding.has(previous) && !this.holding.has(order.statusId)) {
        this.moveStock(order, 1);
        this.emit('order.status', this.orderData(order, previous, 'restored', oldLines));
      }
    }
    order.lines = lines.map((l) => {
      const p = this.bySku(l.sku);
      if (!p) throw new Error(`The emulated OpenCart store does not list SKU ${l.sku}.`);
      return { id: this.nextId.orderProduct++, productId: p.id, quantity: l.quantity, optionValueIds: [] };
    });
    await this.addOrderHistory(orderId, previous);
  }

  /**
   * An order deleted in the admin (4.x: through the catalog API): deleteOrder voids it first, on 4.1
   * through the model (an addHistory event), on 4.0 with a direct call the extension's deleteOrder
   * events report instead; then the order is gone.
   */
  async deleteOrder(orderId: string): Promise<void> {
    const order = this.orders.get(Number(orderId));
    if (!order) throw new Error(`The emulated OpenCart store has no order ${orderId}.`);
    if (versionAtLeast(this.version, '4.1.0.0')) {
      await this.addOrderHistory(orderId, STATUS.voided);
    } else if (this.holding.has(order.statusId)) {
      const previous = order.statusId;
      this.moveStock(order, 1);
      order.statusId = 0;
      this.emit('order.status', this.orderData(order, previous, 'restored', order.lines));
    }
    this.orders.delete(order.id);
  }

  /** admin/model/sale/returns addHistory, then the extension: an unopened return of an order still holding stock is restocked once, at a restocking status. */
  async addReturnHistory(returnId: number, statusId: number): Promise<void> {
    const ret = this.returns.get(returnId)!;
    ret.statusId = statusId;
    const order = this.orders.get(ret.orderId);
    let restocked = 0;
    const p = this.products.get(ret.productId);
    if (!ret.restocked && ret.opened === 0 && RESTOCK_RETURN_STATUSES.includes(statusId) && order && this.holding.has(order.statusId) && p) {
      ret.restocked = true;
      restocked = ret.quantity;
      if (p.subtract === 1) p.quantity += restocked;
    }
    this.emit('return.status', {
      return: { return_id: ret.id, order_id: ret.orderId, product_id: ret.productId, product: p?.name ?? '', model: p?.model ?? '', sku: p?.sku ?? '', quantity: ret.quantity, opened: ret.opened, return_status_id: statusId, return_status: RETURN_STATUS[statusId] ?? '' },
      restocked,
      levels: this.levelsOf([ret.productId]),
    });
  }

  protected moveStock(order: Order, sign: 1 | -1): void {
    for (const l of order.lines) {
      const p = this.products.get(l.productId);
      if (!p) continue;
      if (p.subtract === 1) p.quantity += sign * l.quantity;
      for (const o of p.options) if (l.optionValueIds.includes(o.id) && o.subtract === 1) o.quantity += sign * l.quantity;
    }
  }

  protected orderProduct(l: Order['lines'][number]): OcOrderProduct {
    const p = this.products.get(l.productId);
    return {
      order_product_id: l.id,
      product_id: l.productId,
      master_id: 0,
      name: p?.name ?? '',
      model: p?.model ?? '',
      sku: p?.sku ?? '',
      quantity: l.quantity,
      subtract: p?.subtract ?? 0,
      options: (p?.options ?? []).filter((o) => l.optionValueIds.includes(o.id)).map((o) => ({ product_option_value_id: o.id, name: 'Option', value: o.name })),
    };
  }

  protected levelOf(p: Product): OcLevel {
    return { product_id: p.id, sku: p.sku, model: p.model, quantity: p.quantity, subtract: p.subtract };
  }

  protected levelsOf(productIds: number[]): OcLevel[] {
    return [...new Set(productIds)].flatMap((id) => {
      const p = this.products.get(id);
      return p ? [this.levelOf(p)] : [];
    });
  }

  /** The extension: logs the event (its sequence number is its id), then posts it signed. */
  protected emit(topic: OcTopic, data: unknown): void {
    const seq = this.events.length + 1;
    const body = { id: `evt_${seq}`, topic, created_at: Math.floor(Date.now() / 1000), store: { url: this.storeUrl, id: 0 }, data };
    const raw = JSON.stringify(body);
    this.events.push({ seq, body: JSON.parse(raw) as Record<string, unknown>, raw });
    this.queueWebhook({
      topic,
      id: body.id,
      body: raw,
      headers: {
        'content-type': 'application/json',
        'user-agent': `stockrelay-opencart/1 (OpenCart ${this.version})`,
        [HEADER.eventId]: body.id,
        [HEADER.topic]: topic,
        [HEADER.timestamp]: String(body.created_at),
        [HEADER.signature]: signOc(raw, this.webhookSecret),
      },
    });
  }
}
