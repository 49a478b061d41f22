/**
 * What happens on the emulated Square account: sales, refunds (with their return orders),
 * exchanges and counts made in the Dashboard, each with the webhooks Square sends for it.
 */
import crypto from 'node:crypto';
import { applyPpm, percentPpm, unitShare, type SaleMoney } from '../../emulator';
import type { Json, Variation } from './model';
import { SquareAccount } from './account';

export abstract class SquareAccountEvents extends SquareAccount {
  // ------------------------------------------------------------------ things that happen on Square

  /**
   * A sale at the POS (or online, paid): a COMPLETED order, the stock moved IN_STOCK → SOLD. A fixed
   * line `discount` (minor units) and a `taxRate` (percent; the emulator's when not given) are optional.
   */
  async sell(sale: { sku: string; quantity: number; locationId?: string } & SaleMoney): Promise<{ orderId: string }> {
    const v = this.variationBySku(sale.sku);
    if (!v) throw new Error(`The emulated Square account does not list SKU ${sale.sku}.`);
    const locationId =
      sale.locationId !== undefined ? this.addLocation(sale.locationId) : (this.locationIds.find((l) => (this.counts.get(`${v.id}|${l}|IN_STOCK`)?.quantity ?? 0) >= sale.quantity) ?? this.locationIds[0]!);
    const at = this.now();
    const id = this.orderId();
    const paymentId = this.orderId();
    const priced = this.pricedLine(v, sale.quantity, sale.discount ?? 0, sale.taxRate ?? this.taxRate);
    const total = priced.total;
    const order: Json = {
      id,
      location_id: locationId,
      source: { name: 'Square Point of Sale' },
      line_items: [priced.line],
      ...(priced.taxes.length > 0 ? { taxes: priced.taxes } : {}),
      ...(priced.discounts.length > 0 ? { discounts: priced.discounts } : {}),
      tenders: [{ id: paymentId, location_id: locationId, transaction_id: id, created_at: at, amount_money: this.money(total), type: 'CARD', payment_id: paymentId }],
      created_at: at,
      updated_at: at,
      closed_at: at,
      state: 'COMPLETED',
      version: 2,
      total_money: this.money(total),
      total_tax_money: this.money(priced.tax),
      total_discount_money: this.money(priced.discount),
      total_tip_money: this.money(0),
      total_service_charge_money: this.money(0),
      net_amount_due_money: this.money(0),
    };
    this.orders.set(id, order);
    const key = `${v.id}|${locationId}|IN_STOCK`;
    this.setCount(v.id, locationId, 'IN_STOCK', (this.counts.get(key)?.quantity ?? 0) - sale.quantity, at);
    this.announceCompleted(id, locationId, at, { id: paymentId, amount: total }, [v.id]);
    return { orderId: id };
  }

  /**
   * An itemized line as Square prices it, with the order-level tax and discount it references:
   * gross = price × quantity, tax = (gross − discount) × rate (ADDITIVE, rounded half up),
   * total = gross − discount + tax.
   */
  protected pricedLine(v: Variation, quantity: number, discount: number, taxRate: string | null): { line: Json; taxes: Json[]; discounts: Json[]; tax: number; discount: number; total: number } {
    const gross = v.price * quantity;
    if (discount < 0 || discount > gross) throw new Error(`A discount of ${discount} does not fit a line of ${gross}.`);
    const tax = taxRate !== null ? applyPpm(gross - discount, percentPpm(taxRate)) : 0;
    const total = gross - discount + tax;
    const taxes: Json[] = taxRate !== null ? [{ uid: this.uid(), name: 'Tax', percentage: taxRate, type: 'ADDITIVE', scope: 'LINE_ITEM', applied_money: this.money(tax) }] : [];
    const discounts: Json[] = discount > 0 ? [{ uid: this.uid(), name: 'Discount', type: 'FIXED_AMOUNT', amount_money: this.money(discount), applied_money: this.money(discount), scope: 'LINE_ITEM' }] : [];
    const line: Json = {
      uid: this.uid(),
      name: this.items.get(v.itemId)!.name,
      quantity: String(quantity),
      catalog_object_id: v.id,
      catalog_version: v.version,
      variation_name: v.name,
      item_type: 'ITEM',
      ...(taxes.length > 0 ? { applied_taxes: taxes.map((t) => ({ uid: this.uid(), tax_uid: t.uid, applied_money: this.money(tax) })) } : {}),
      ...(discounts.length > 0 ? { applied_discounts: discounts.map((d) => ({ uid: this.uid(), discount_uid: d.uid, applied_money: this.money(discount) })) } : {}),
      base_price_money: this.money(v.price),
      variation_total_price_money: this.money(gross),
      gross_sales_money: this.money(gross),
      total_tax_money: this.money(tax),
      total_discount_money: this.money(discount),
      total_money: this.money(total),
    };
    return { line, taxes, discounts, tax, discount, total };
  }

  /** The share of an order line's money that `quantity` returned units carry, after `before` units already came back. */
  protected returnedShare(line: Json, before: number, quantity: number): { total: number; tax: number; discount: number } {
    const sold = Number(line.quantity);
    const amount = (k: string) => (typeof (line[k] as Json | undefined)?.amount === 'number' ? ((line[k] as Json).amount as number) : 0);
    return {
      total: unitShare(amount('total_money'), sold, before, quantity),
      tax: unitShare(amount('total_tax_money'), sold, before, quantity),
      discount: unitShare(amount('total_discount_money'), sold, before, quantity),
    };
  }

  /** The webhooks of an order completed at the POS: the order's, its card payment's, and the counts that moved. */
  protected announceCompleted(id: string, locationId: string, at: string, payment: { id: string; amount: number } | null, moved: string[]): void {
    this.emit('order.created', { type: 'order_created', id, object: { order_created: { created_at: at, location_id: locationId, order_id: id, state: 'OPEN', version: 1 } } });
    this.emit('order.updated', { type: 'order_updated', id, object: { order_updated: { created_at: at, location_id: locationId, order_id: id, state: 'COMPLETED', updated_at: at, version: 2 } } });
    if (payment) {
      const money = this.money(payment.amount);
      const body: Json = { id: payment.id, created_at: at, updated_at: at, amount_money: money, total_money: money, approved_money: money, status: 'COMPLETED', source_type: 'CARD', location_id: locationId, order_id: id, receipt_number: payment.id.slice(0, 4), version_token: this.uid() };
      this.emit('payment.updated', { type: 'payment', id: payment.id, object: { payment: body } });
    }
    this.emit('inventory.count.updated', { type: 'inventory_counts', id: crypto.randomUUID(), object: { inventory_counts: moved.map((v) => this.countBody(v, locationId)) } });
  }

  /**
   * A refund of an earlier sale. Square records every refund as a return order (`returns[]`, the
   * refund in `refunds[]`) and the payment refund names that order. With restock, the return is
   * itemized (the variation, SOLD → RETURNED_BY_CUSTOMER → IN_STOCK, as the POS does by default);
   * without, it is a custom-amount (money only) refund, the one kind of return whose order shows that
   * nothing went back on the shelf.
   */
  async refund(r: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const order = this.orders.get(r.orderId);
    if (!order) throw new Error(`The emulated Square account has no order ${r.orderId}.`);
    const line = (order.line_items as Json[] | undefined)?.find((l) => l.item_type === 'ITEM');
    if (!line) throw new Error(`Order ${r.orderId} has no itemized line to refund.`);
    const lineKey = `${r.orderId}|${String(line.uid)}`;
    const sold = Number(line.quantity);
    const before = this.returned.get(lineKey) ?? 0;
    const quantity = r.quantity ?? sold - before;
    if (quantity <= 0 || quantity + before > sold) throw new Error(`Order ${r.orderId} has no ${quantity} unit(s) left to refund.`);
    this.returned.set(lineKey, before + quantity);
    const share = this.returnedShare(line, before, quantity);
    const v = this.variations.get(String(line.catalog_object_id))!;
    const locationId = String(order.location_id);
    const tender = (order.tenders as Json[])[0]!;
    const at = this.now();
    const amount = share.total;
    const returnOrderId = this.orderId();
    const refundId = `${String(tender.payment_id)}_${this.id(49, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')}`;
    const returnLine: Json = r.restock
      ? {
          uid: this.uid(),
          source_line_item_uid: line.uid,
          name: line.name,
          quantity: String(quantity),
          catalog_object_id: v.id,
          catalog_version: v.version,
          variation_name: v.name,
          item_type: 'ITEM',
          base_price_money: this.money(v.price),
          variation_total_price_money: this.money(v.price * quantity),
          gross_return_money: this.money(v.price * quantity),
          total_tax_money: this.money(share.tax),
          total_discount_money: this.money(share.discount),
          total_money: this.money(amount),
        }
      : { uid: this.uid(), name: 'Custom Amount', quantity: '1', item_type: 'CUSTOM_AMOUNT', base_price_money: this.money(amount), total_money: this.money(amount) };
    this.orders.set(returnOrderId, {
      id: returnOrderId,
      location_id: locationId,
      source: { name: 'Square Point of Sale' },
      returns: [{ uid: this.uid(), source_order_id: r.orderId, return_line_items: [returnLine] }],
      return_amounts: { total_money: this.money(amount), tax_money: this.money(r.restock ? share.tax : 0), discount_money: this.money(r.restock ? share.discount : 0), tip_money: this.money(0), service_charge_money: this.money(0) },
      refunds: [{ id: refundId, location_id: locationId, transaction_id: r.orderId, tender_id: tender.id, created_at: at, reason: 'Returned goods', amount_money: this.money(amount), status: 'APPROVED' }],
      created_at: at,
      updated_at: at,
      closed_at: at,
      state: 'COMPLETED',
      version: 1,
      total_money: this.money(0),
    });
    const refund: Json = { id: refundId, status: 'PENDING', location_id: locationId, amount_money: this.money(amount), payment_id: tender.payment_id, order_id: returnOrderId, reason: 'Returned goods', created_at: at, updated_at: at };
    this.emit('refund.created', { type: 'refund', id: refundId, object: { refund } });
    this.emit('refund.updated', { type: 'refund', id: refundId, object: { refund: { ...refund, status: 'COMPLETED', updated_at: this.now() } } });
    if (r.restock) {
      const key = `${v.id}|${locationId}|IN_STOCK`;
      this.setCount(v.id, locationId, 'IN_STOCK', (this.counts.get(key)?.quantity ?? 0) + quantity, this.now());
      this.emit('inventory.count.updated', { type: 'inventory_counts', id: crypto.randomUUID(), object: { inventory_counts: [this.countBody(v.id, locationId)] } });
    }
    return { refundId };
  }

  /**
   * An exchange at the POS: the customer brings back units of an earlier sale and takes another item.
   * Square makes one COMPLETED order that both returns (`returns[]`, itemized, restocked by default)
   * and sells (`line_items`), paid for the difference; it sends that order's webhooks, the payment's
   * and one `inventory.count.updated` per variation that moved.
   */
  async exchange(x: { orderId: string; returnQuantity?: number; restock?: boolean; sku: string; quantity: number }): Promise<{ orderId: string }> {
    const source = this.orders.get(x.orderId);
    if (!source) throw new Error(`The emulated Square account has no order ${x.orderId}.`);
    const line = (source.line_items as Json[] | undefined)?.find((l) => l.item_type === 'ITEM');
    if (!line) throw new Error(`Order ${x.orderId} has no itemized line to exchange.`);
    const lineKey = `${x.orderId}|${String(line.uid)}`;
    const returnQuantity = x.returnQuantity ?? Number(line.quantity) - (this.returned.get(lineKey) ?? 0);
    if (returnQuantity <= 0 || returnQuantity + (this.returned.get(lineKey) ?? 0) > Number(line.quantity)) throw new Error(`Order ${x.orderId} has no ${returnQuantity} unit(s) left to return.`);
    const out = this.variationBySku(x.sku);
    if (!out) throw new Error(`The emulated Square account does not list SKU ${x.sku}.`);
    const returnedBefore = this.returned.get(lineKey) ?? 0;
    this.returned.set(lineKey, returnedBefore + returnQuantity);
    const back = this.variations.get(String(line.catalog_object_id))!;
    const locationId = String(source.location_id);
    const at = this.now();
    const id = this.orderId();
    // The returned units' share of what was paid for them is the credit; the new line is priced as a sale.
    const credit = this.returnedShare(line, returnedBefore, returnQuantity);
    const priced = this.pricedLine(out, x.quantity, 0, this.taxRate);
    const total = priced.total;
    const due = Math.max(0, total - credit.total);
    const paymentId = this.orderId();
    const order: Json = {
      id,
      location_id: locationId,
      source: { name: 'Square Point of Sale' },
      line_items: [priced.line],
      ...(priced.taxes.length > 0 ? { taxes: priced.taxes } : {}),
      returns: [
        {
          uid: this.uid(),
          source_order_id: x.orderId,
          return_line_items: [
            {
              uid: this.uid(),
              source_line_item_uid: line.uid,
              name: line.name,
              quantity: String(returnQuantity),
              catalog_object_id: back.id,
              catalog_version: back.version,
              variation_name: back.name,
              item_type: 'ITEM',
              base_price_money: this.money(back.price),
              total_tax_money: this.money(credit.tax),
              total_discount_money: this.money(credit.discount),
              total_money: this.money(credit.total),
            },
          ],
        },
      ],
      return_amounts: { total_money: this.money(credit.total), tax_money: this.money(credit.tax), discount_money: this.money(credit.discount), tip_money: this.money(0), service_charge_money: this.money(0) },
      net_amounts: { total_money: this.money(total - credit.total), tax_money: this.money(priced.tax - credit.tax), discount_money: this.money(-credit.discount), tip_money: this.money(0), service_charge_money: this.money(0) },
      ...(due > 0 ? { tenders: [{ id: paymentId, location_id: locationId, transaction_id: id, created_at: at, amount_money: this.money(due), type: 'CARD', payment_id: paymentId }] } : {}),
      created_at: at,
      updated_at: at,
      closed_at: at,
      state: 'COMPLETED',
      version: 2,
      total_money: this.money(total),
      total_tax_money: this.money(priced.tax),
      total_discount_money: this.money(0),
      total_tip_money: this.money(0),
      total_service_charge_money: this.money(0),
      net_amount_due_money: this.money(0),
    };
    this.orders.set(id, order);
    const outKey = `${out.id}|${locationId}|IN_STOCK`;
    this.setCount(out.id, locationId, 'IN_STOCK', (this.counts.get(outKey)?.quantity ?? 0) - x.quantity, at);
    if (x.restock ?? true) {
      const backKey = `${back.id}|${locationId}|IN_STOCK`;
      this.setCount(back.id, locationId, 'IN_STOCK', (this.counts.get(backKey)?.quantity ?? 0) + returnQuantity, at);
    }
    this.announceCompleted(id, locationId, at, due > 0 ? { id: paymentId, amount: due } : null, [out.id, ...((x.restock ?? true) && back.id !== out.id ? [back.id] : [])]);
    return { orderId: id };
  }

  /** Someone counts stock in the Square Dashboard: only `inventory.count.updated`. */
  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    const v = this.variationBySku(change.sku);
    if (!v) throw new Error(`The emulated Square account does not list SKU ${change.sku}.`);
    const loc = change.locationId !== undefined ? this.addLocation(change.locationId) : this.locationIds[0]!;
    this.setCount(v.id, loc, 'IN_STOCK', change.available, this.now());
    this.emit('inventory.count.updated', { type: 'inventory_counts', id: crypto.randomUUID(), object: { inventory_counts: [this.countBody(v.id, loc)] } });
  }
}
