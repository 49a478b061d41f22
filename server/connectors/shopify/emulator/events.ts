/**
 * What happens on the emulated shop: sales (web and POS), fulfilment, refunds, cancellations,
 * native exchanges and level changes made in the admin, each with the webhooks Shopify sends for it.
 */
import { applyPpm, percentPpm, unitShare, type SaleMoney } from '../../emulator';
import { gid, num, type Json, type Order, type OrderLine, type ReturnRecord, type Variant } from './model';
import { ShopifyShop } from './shop';

export abstract class ShopifyShopEvents extends ShopifyShop {
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

  protected newLine(v: Variant, quantity: number, locationId: number, discount: number, taxPpm: number): OrderLine {
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

  protected makeRefund(order: Order, parts: { line: OrderLine; quantity: number }[], restockType: 'return' | 'cancel' | 'no_restock', withShipping = false): { body: Json; restocked: { item: number; loc: number }[] } {
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

}
