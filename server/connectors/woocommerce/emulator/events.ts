/**
 * What happens in the emulated store: sales, order status changes (stock reduced and restored as
 * WooCommerce does), refunds and stock edited in wp-admin, each with the webhooks the store sends.
 */
import { percentPpm, unitShare, type SaleMoney } from '../../emulator';
import { REDUCING, type Order, type Product, type Refund } from './model';
import { WooStore } from './store';

export abstract class WooStoreEvents extends WooStore {
  // ------------------------------------------------------------------ things that happen in the store

  protected changeStock(p: Product, delta: number): void {
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
  protected reduceStock(order: Order): Product[] {
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

  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    const p = this.bySku(change.sku);
    if (!p) throw new Error(`The emulated store does not list SKU ${change.sku}.`);
    p.manageStock = true;
    p.stock = change.available;
    p.modified = this.now();
    this.enqueue('product.updated', this.productBody(p));
  }

}
