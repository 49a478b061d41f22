/**
 * What happens in the emulated store, with the webhooks BigCommerce sends for it:
 * - a sale (an order placed on the storefront; with a location, a Buy Online, Pick up in Store
 *   order collected there): stock taken at once (`update_stock_behavior: order_placed`),
 *   `store/order/created` and the inventory event of each line (`…/inventory/order/updated`);
 * - a refund: with restock, a refund of the line's quantity (goods back in stock when the store's
 *   `refund_order_stock_adjustment` is on); without, a refund of an amount on the line, which moves
 *   no goods. `store/order/refund/created`, `store/order/updated`, `store/order/statusUpdated` when
 *   the status changes, and the inventory event of goods put back;
 * - a cancellation (status Cancelled): goods back when the setting is on; `store/order/updated`,
 *   `store/order/statusUpdated` and the inventory events;
 * - a change in the control panel: `store/product/inventory/updated` (or `store/sku/…`).
 */
import { applyPpm, percentPpm, unitShare, type SaleMoney } from '../../emulator';
import { BigCommerceStore } from './store';
import type { Order, Refund } from './model';

export abstract class BigCommerceStoreEvents extends BigCommerceStore {
  /** Changes one variant's level at a location and sends its inventory webhook. */
  protected changeLevel(sku: string, locationId: number, to: (now: number) => number, byOrder: boolean): void {
    const f = this.find(sku);
    if (!f) throw new Error(`The BigCommerce emulator has no SKU ${sku}.`);
    const now = f.variant.levels.get(locationId) ?? 0;
    const next = to(now);
    f.variant.levels.set(locationId, next);
    if (next !== now) this.emitInventory(f.product, f.variant, next - now, byOrder);
  }

  async sell(sale: { sku: string; quantity: number; locationId?: string } & SaleMoney): Promise<{ orderId: string }> {
    const f = this.find(sale.sku);
    if (!f) throw new Error(`The BigCommerce emulator has no SKU ${sale.sku}.`);
    const pickup = sale.locationId !== undefined ? Number(sale.locationId) : null;
    if (pickup !== null && !this.locationIds.includes(pickup)) throw new Error(`The BigCommerce emulator has no location ${sale.locationId}.`);
    // A shipped order takes its stock from the first location that has it (else the first).
    const from = pickup ?? this.locationIds.find((l) => (f.variant.levels.get(l) ?? 0) >= sale.quantity) ?? this.locationIds[0]!;
    const unitPrice = f.product.price;
    const discount = sale.discount ?? 0;
    const tax = sale.taxRate ? applyPpm(unitPrice * sale.quantity - discount, percentPpm(sale.taxRate)) : 0;
    const now = new Date(this.clockMs());
    const order: Order = {
      id: this.nextId.order++,
      statusId: 11,
      created: now,
      modified: now,
      pickupLocation: pickup,
      refunds: [],
      refunded: 0,
      lines: [{ id: this.nextId.line++, productId: f.product.id, variantId: f.variant.id, sku: sale.sku, name: f.product.name, quantity: sale.quantity, unitPrice, discount, tax, locationId: from, refunded: 0 }],
    };
    this.orders.set(order.id, order);
    this.emit('store/order/created', { type: 'order', id: order.id });
    this.changeLevel(sale.sku, from, (n) => n - sale.quantity, true);
    return { orderId: String(order.id) };
  }

  private setStatus(order: Order, statusId: number): void {
    const previous = order.statusId;
    order.modified = new Date(this.clockMs());
    this.emit('store/order/updated', { type: 'order', id: order.id });
    if (previous === statusId) return;
    order.statusId = statusId;
    this.emit('store/order/statusUpdated', { type: 'order', id: order.id, status: { previous_status_id: previous, new_status_id: statusId } });
  }

  async refund(r: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const order = this.orders.get(Number(r.orderId));
    if (!order) throw new Error(`The BigCommerce emulator has no order ${r.orderId}.`);
    const line = order.lines[0]!;
    const quantity = r.quantity ?? line.quantity - line.refunded;
    const lineTotal = line.unitPrice * line.quantity - line.discount + line.tax;
    const amount = unitShare(lineTotal, line.quantity, line.refunded, quantity);
    const refund: Refund = {
      id: this.nextId.refund++,
      orderId: order.id,
      created: new Date(this.clockMs()),
      // With restock: the units are returned (a quantity); without: money back on the line, no goods.
      items: [{ item_type: 'PRODUCT', item_id: line.id, quantity: r.restock ? quantity : null, requested_amount: this.money(amount).replace(/00$/, '') }],
      total: amount,
    };
    if (r.restock) line.refunded += quantity;
    order.refunds.push(refund);
    order.refunded += amount;
    const t = this.orderTotals(order);
    this.emit('store/order/refund/created', { type: 'order', id: order.id, refund: { refund_id: refund.id } });
    this.setStatus(order, order.refunded >= t.total ? 4 : 14);
    if (r.restock && this.refundRestocks) this.changeLevel(line.sku, this.returnLocation(order), (n) => n + quantity, true);
    return { refundId: String(refund.id) };
  }

  /** The order is cancelled in the control panel; its goods go back when the store's setting says so. */
  async cancel(orderId: string): Promise<void> {
    const order = this.orders.get(Number(orderId));
    if (!order) throw new Error(`The BigCommerce emulator has no order ${orderId}.`);
    this.setStatus(order, 5);
    if (!this.refundRestocks) return;
    for (const l of order.lines) if (l.quantity - l.refunded > 0) this.changeLevel(l.sku, this.returnLocation(order), (n) => n + l.quantity - l.refunded, true);
  }

  /** Where returned goods go back: the pickup location, or for a shipped order the first location (as the hub books a return that names none). */
  private returnLocation(order: Order): number {
    return order.pickupLocation ?? this.locationIds[0]!;
  }

  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    this.changeLevel(change.sku, change.locationId !== undefined ? Number(change.locationId) : this.locationIds[0]!, () => change.available, false);
  }
}
