/**
 * What happens in the emulated shop, as PrestaShop does it: an order takes its quantity from the
 * stock_available at validation and records a stock movement (reason Customer Order, with the order
 * id); a credit slip refunds units of order lines and, when the goods go back, adds them to the
 * order line's `product_quantity_reinjected` and to stock (with a movement); a cancellation
 * (state 6) puts `product_quantity` back as OrderHistory::changeIdOrderState does (no movement); an
 * edit in the back office sets the quantity and records a movement (reason Employee Edition).
 * Nothing is sent anywhere: PrestaShop's core has no webhooks, the connector polls.
 */
import { LoopbackEmulator, WebhookSender, type ApiFaults, type EmulatorProduct, type SaleMoney, type WebhookFaults } from '../../emulator';
import { PS_LOCATION } from '../rows';
import type { Combination, Movement, Order, Product, PsEmulatorOptions, Slip, Stock } from './model';

/** PS_OS_PAYMENT, PS_OS_CANCELED on a standard install. */
export const STATE_PAYMENT_ACCEPTED = 2;
export const STATE_CANCELED = 6;
/** Stock movement reasons of a standard install: customer order (−), employee edition (+/−), customer return (+). */
const REASON_ORDER = 3;
const REASON_EDIT_UP = 1;
const REASON_EDIT_DOWN = 2;
const REASON_RETURN = 4;

export abstract class PsShop extends LoopbackEmulator {
  readonly platform = 'prestashop';
  readonly requests: { method: string; path: string; body: unknown; query?: Record<string, string> }[] = [];
  faults: PsLoopbackFaults = { api: {}, webhooks: {} };
  protected readonly webhooks = new WebhookSender({ url: () => null, faults: () => this.faults.webhooks, random: Math.random, attempts: 1 });
  protected readonly products = new Map<number, Product>();
  protected readonly combinations = new Map<number, Combination>();
  protected readonly stocks = new Map<number, Stock>();
  protected readonly orders = new Map<number, Order>();
  protected readonly slips = new Map<number, Slip>();
  protected readonly movements: Movement[] = [];
  private next = { product: 1, combination: 1, stock: 1, order: 1, row: 1, slip: 1, slipLine: 1, movement: 1 };

  constructor(opts: PsEmulatorOptions) {
    super();
    if (opts.clock) this.clockMs = opts.clock;
  }

  /** The shop's clock as the webservice writes dates. */
  protected now(): string {
    return new Date(Math.floor(this.clockMs() / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
  }

  locations(): string[] {
    return [PS_LOCATION];
  }

  /** The stock row of a SKU: a product's own (attribute 0), or a combination's. */
  protected stockOf(sku: string): Stock | null {
    const combo = [...this.combinations.values()].find((c) => c.reference === sku);
    const product = combo ? null : [...this.products.values()].find((p) => p.reference === sku);
    const [idProduct, idAttribute] = combo ? [combo.idProduct, combo.id] : product ? [product.id, 0] : [0, -1];
    return [...this.stocks.values()].find((x) => x.idProduct === idProduct && x.idAttribute === idAttribute) ?? null;
  }

  protected skuOfStock(x: Stock): string {
    return x.idAttribute === 0 ? (this.products.get(x.idProduct)?.reference ?? '') : (this.combinations.get(x.idAttribute)?.reference ?? '');
  }

  listing(sku: string): { productId: string; variantId: string } | null {
    const x = this.stockOf(sku);
    return x ? { productId: String(x.idProduct), variantId: String(x.idAttribute) } : null;
  }

  /** The stock_available row of a SKU, for tests that change what the back office would. */
  stockRow(sku: string): Stock | null {
    return this.stockOf(sku);
  }

  product(sku: string): Product | null {
    const x = this.stockOf(sku);
    return x ? (this.products.get(x.idProduct) ?? null) : null;
  }

  level(sku: string, locationId: string): number | null {
    return locationId === PS_LOCATION ? (this.stockOf(sku)?.quantity ?? null) : null;
  }

  seed(products: EmulatorProduct[]): void {
    for (const p of products) {
      const existing = this.stockOf(p.sku);
      const level = p.levels[PS_LOCATION] ?? 0;
      if (existing) {
        existing.quantity = level;
        continue;
      }
      const product: Product = { id: this.next.product++, reference: p.sku, name: p.title, active: true };
      this.products.set(product.id, product);
      this.stocks.set(this.next.stock, { id: this.next.stock++, idProduct: product.id, idAttribute: 0, quantity: level, outOfStock: 2, location: '' });
    }
  }

  /** A product with combinations (one stock row each, and the product's own, which PrestaShop keeps as their sum). */
  seedCombinations(title: string, combos: { sku: string; level: number }[], reference = ''): void {
    const product: Product = { id: this.next.product++, reference, name: title, active: true };
    this.products.set(product.id, product);
    this.stocks.set(this.next.stock, { id: this.next.stock++, idProduct: product.id, idAttribute: 0, quantity: combos.reduce((n, c) => n + c.level, 0), outOfStock: 2, location: '' });
    for (const c of combos) {
      const combination: Combination = { id: this.next.combination++, idProduct: product.id, reference: c.sku };
      this.combinations.set(combination.id, combination);
      this.stocks.set(this.next.stock, { id: this.next.stock++, idProduct: product.id, idAttribute: combination.id, quantity: c.level, outOfStock: 2, location: '' });
    }
  }

  /** Moves a stock row and, when PrestaShop records one, a movement. */
  protected move(x: Stock, delta: number, m: { idOrder?: number; reason: number; record: boolean }): void {
    x.quantity += delta;
    if (x.idAttribute !== 0) {
      const own = [...this.stocks.values()].find((s) => s.idProduct === x.idProduct && s.idAttribute === 0);
      if (own) own.quantity += delta;
    }
    if (!m.record || delta === 0) return;
    this.movements.push({ id: this.next.movement++, idProduct: x.idProduct, idAttribute: x.idAttribute, reference: this.skuOfStock(x), quantity: Math.abs(delta), sign: delta > 0 ? 1 : -1, idOrder: m.idOrder ?? 0, idEmployee: m.idOrder ? 0 : 1, reason: m.reason, dateAdd: this.now() });
  }

  async sell(sale: { sku: string; quantity: number; locationId?: string } & SaleMoney): Promise<{ orderId: string }> {
    const x = this.stockOf(sale.sku);
    if (!x) throw new Error(`The PrestaShop emulator has no product ${sale.sku}.`);
    const t = this.now();
    const order: Order = { id: this.next.order++, state: STATE_PAYMENT_ACCEPTED, dateAdd: t, dateUpd: t, reference: `REF${String(this.next.order).padStart(6, '0')}`, rows: [] };
    order.rows.push({ id: this.next.row++, productId: x.idProduct, attributeId: x.idAttribute, quantity: sale.quantity, reference: sale.sku, name: this.products.get(x.idProduct)?.name ?? sale.sku, refunded: 0, reinjected: 0 });
    this.orders.set(order.id, order);
    this.move(x, -sale.quantity, { idOrder: order.id, reason: REASON_ORDER, record: true });
    return { orderId: String(order.id) };
  }

  async refund(refund: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const order = this.orders.get(Number(refund.orderId));
    if (!order) throw new Error(`The PrestaShop emulator has no order ${refund.orderId}.`);
    const t = this.now();
    const slip: Slip = { id: this.next.slip++, orderId: order.id, dateAdd: t, dateUpd: t, lines: [] };
    for (const r of order.rows) {
      const q = Math.min(refund.quantity ?? r.quantity - r.refunded, r.quantity - r.refunded);
      if (q <= 0) continue;
      slip.lines.push({ id: this.next.slipLine++, detailId: r.id, quantity: q });
      r.refunded += q;
      if (!refund.restock) continue;
      r.reinjected += q;
      const x = [...this.stocks.values()].find((s) => s.idProduct === r.productId && s.idAttribute === r.attributeId);
      if (x) this.move(x, q, { idOrder: order.id, reason: REASON_RETURN, record: true });
    }
    this.slips.set(slip.id, slip);
    order.dateUpd = t;
    return { refundId: String(slip.id) };
  }

  /** The order goes to Canceled: its quantities go back to stock (no movement, as OrderHistory does it). */
  async cancel(orderId: string): Promise<void> {
    const order = this.orders.get(Number(orderId));
    if (!order || order.state === STATE_CANCELED) return;
    order.state = STATE_CANCELED;
    order.dateUpd = this.now();
    for (const r of order.rows) {
      const x = [...this.stocks.values()].find((s) => s.idProduct === r.productId && s.idAttribute === r.attributeId);
      if (x) this.move(x, r.quantity, { reason: REASON_RETURN, record: false });
    }
  }

  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    const x = this.stockOf(change.sku);
    if (!x) throw new Error(`The PrestaShop emulator has no product ${change.sku}.`);
    const delta = change.available - x.quantity;
    this.move(x, delta, { reason: delta > 0 ? REASON_EDIT_UP : REASON_EDIT_DOWN, record: true });
  }
}

export interface PsLoopbackFaults {
  api: ApiFaults;
  webhooks: WebhookFaults;
}
