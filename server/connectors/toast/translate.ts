/**
 * What a verified Toast message says, in the hub's facts.
 *
 * Stock messages (`in_stock`, `low_quantity`, `out_of_stock`; `details` = itemGuid, multiLocationId,
 * restaurantGuid, status, quantity): a `level_observed` at the restaurant for the menu item's
 * multiLocationId — `QUANTITY` → its quantity, `OUT_OF_STOCK` → 0; an `IN_STOCK` item keeps no count
 * and reports nothing. Toast sends them when someone sets the stock in Toast (Quick Edit, Toast Web,
 * the stock API) and when an item's count dips below 5 or reaches 0: the hub compares them, never
 * books them (docs/attribution.md).
 *
 * Orders messages (`order_updated`; `details` = restaurantGuid and the whole Order). An order's
 * selections name their menu item by its guid at that restaurant only; `expand` (index.ts) adds the
 * stock of those items read from the stock API (`expanded`: their multiLocationIds and levels), which
 * names the listing and tells the hub the level the order left (Toast sends no stock message for a
 * sale above the low-quantity threshold). From the expanded Order:
 * - every selection ever rung is a `sale` line (key: order guid and selection guid), at the restaurant;
 * - a voided selection, or every selection of a voided check or order, is also a `cancellation` line
 *   with restock (Toast decrements a counted item when it is ordered and gives the count back when it
 *   is voided): sold and given back, booked once each;
 * - a refund (a selection's `refundDetails`, grouped by its refund transaction) is a `refund` of money
 *   only: Toast's refunds never put stock back;
 * - the stock read by `expand` becomes `level_observed` facts.
 */
import { TranslateError, type ChannelFact, type FactLine, type OrderDetails, type PaymentStatus } from '../types';
import { currencyOf, minor, readOrUndefined, sum, withOrder } from '../money';
import { levelOf } from './level';

export const STOCK_TOPICS = ['in_stock', 'low_quantity', 'out_of_stock'] as const;
export const ORDER_TOPIC = 'order_updated';
export const TOAST_TOPICS = [ORDER_TOPIC, ...STOCK_TOPICS] as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/**
 * What expand adds to an orders message: the stock of the order's items, read when the message came
 * (reported as of the order's modification, so that the same message always means the same).
 */
export interface Expansion {
  /** guid at the restaurant → multiLocationId, status and quantity. */
  items: { guid: string; multiLocationId: string; status: string; quantity: number | null }[];
}

export function expansionOf(body: unknown): Expansion | null {
  return isObj(body) && isObj(body.expanded) && Array.isArray(body.expanded.items) ? (body.expanded as unknown as Expansion) : null;
}

/** The restaurant and the order of an orders message. */
export function orderOf(body: unknown): { restaurant: string; order: Obj } | null {
  if (!isObj(body) || !isObj(body.details)) return null;
  const restaurant = text(body.details.restaurantGuid);
  return restaurant && isObj(body.details.order) ? { restaurant, order: body.details.order } : null;
}

interface Selection {
  lineId: string;
  itemGuid: string | null;
  quantity: number;
  voided: boolean;
  price: number | null;
  refund: { id: string; amount: number; tax: number } | null;
  title: string | null;
}

function selectionsOf(order: Obj, orderId: string): { selection: Selection; voided: boolean }[] {
  if (!Array.isArray(order.checks)) throw new TranslateError(`Toast order ${orderId} has no checks list.`);
  const out: { selection: Selection; voided: boolean }[] = [];
  for (const check of order.checks) {
    if (!isObj(check)) throw new TranslateError(`A check of Toast order ${orderId} is not a Check.`);
    if (check.deleted === true) continue;
    const checkVoided = check.voided === true || order.voided === true;
    for (const s of Array.isArray(check.selections) ? check.selections : []) {
      if (!isObj(s)) throw new TranslateError(`A selection of Toast order ${orderId} is not a Selection.`);
      const lineId = text(s.guid);
      if (!lineId) throw new TranslateError(`A selection of Toast order ${orderId} has no guid.`);
      if (typeof s.quantity !== 'number' || !Number.isFinite(s.quantity) || s.quantity < 0) throw new TranslateError(`Selection ${lineId} of Toast order ${orderId} has no quantity.`);
      const rd = isObj(s.refundDetails) ? s.refundDetails : null;
      const refundId = rd && isObj(rd.refundTransaction) ? text(rd.refundTransaction.guid) : null;
      out.push({
        selection: {
          lineId,
          itemGuid: isObj(s.item) ? text(s.item.guid) : null,
          quantity: s.quantity,
          voided: s.voided === true,
          price: typeof s.price === 'number' ? s.price : null,
          refund: rd && refundId ? { id: refundId, amount: typeof rd.refundAmount === 'number' ? rd.refundAmount : 0, tax: typeof rd.taxRefundAmount === 'number' ? rd.taxRefundAmount : 0 } : null,
          title: text(s.displayName),
        },
        voided: checkVoided || s.voided === true,
      });
    }
  }
  return out;
}

function paymentStatusOf(order: Obj): PaymentStatus {
  if (order.voided === true) return 'voided';
  const payments = (Array.isArray(order.checks) ? order.checks : []).filter(isObj).flatMap((c) => (Array.isArray(c.payments) ? c.payments.filter(isObj) : []));
  if (payments.some((p) => p.refundStatus === 'FULL') && payments.every((p) => p.refundStatus === 'FULL')) return 'refunded';
  if (payments.some((p) => p.refundStatus === 'PARTIAL' || p.refundStatus === 'FULL')) return 'partially_refunded';
  const checks = (Array.isArray(order.checks) ? order.checks : []).filter(isObj);
  if (checks.length > 0 && checks.every((c) => c.paymentStatus === 'PAID' || c.paymentStatus === 'CLOSED')) return 'paid';
  return checks.length > 0 ? 'pending' : 'unknown';
}

/** The order's money and states; undefined when any of it cannot be read (the stock facts stay). */
export function orderDetails(order: Obj, currencyCode: string): OrderDetails | undefined {
  return readOrUndefined(() => {
    const currency = currencyOf(currencyCode);
    const checks = (Array.isArray(order.checks) ? order.checks : []).filter(isObj).filter((c) => c.deleted !== true);
    const money = (v: unknown, what: string) => (typeof v === 'number' ? minor(v.toFixed(2), currency, what) : 0);
    const lines = checks.flatMap((c) => (Array.isArray(c.selections) ? c.selections.filter(isObj) : [])).map((s) => {
      const quantity = typeof s.quantity === 'number' ? s.quantity : 0;
      const total = money(s.price, 'price');
      const pre = money(s.preDiscountPrice ?? s.price, 'preDiscountPrice');
      return { lineId: text(s.guid) ?? '', sku: null, title: text(s.displayName), quantity, unitPrice: quantity > 0 ? Math.round(pre / quantity) : null, discount: Math.max(0, pre - total), tax: money(s.tax, 'tax'), total };
    });
    const subtotal = sum(checks.map((c) => money(c.amount, 'amount')));
    const tax = sum(checks.map((c) => money(c.taxAmount, 'taxAmount')));
    return {
      currency,
      subtotal,
      discount: sum(lines.map((l) => l.discount)),
      tax,
      shipping: 0,
      total: sum(checks.map((c) => money(c.totalAmount, 'totalAmount'))),
      paymentStatus: paymentStatusOf(order),
      fulfilmentStatus: order.voided === true ? 'cancelled' : 'fulfilled',
      customerRef: null,
      contact: null,
      number: checks.length > 0 && text(checks[0]!.displayNumber) ? `#${text(checks[0]!.displayNumber)}` : null,
      placedAt: text(order.openedDate) ?? text(order.createdDate) ?? '',
      lines,
    };
  });
}

function orderFacts(body: unknown, currency: string): ChannelFact[] {
  const found = orderOf(body);
  if (!found) throw new TranslateError('The Toast orders message carries no order (details.order) or no restaurant (details.restaurantGuid).');
  const { restaurant, order } = found;
  const orderId = text(order.guid);
  if (!orderId) throw new TranslateError('The Toast order has no guid.');
  const expansion = expansionOf(body);
  if (!expansion) throw new TranslateError(`Toast order ${orderId} names its menu items by their guid at the restaurant only; their stock must be read before it can be booked.`);
  const occurredAt = text(order.modifiedDate) ?? text(order.openedDate) ?? text(isObj(body) ? body.timestamp : null);
  if (!occurredAt || Number.isNaN(Date.parse(occurredAt))) throw new TranslateError(`Toast order ${orderId} has no modifiedDate.`);
  const placedAt = text(order.openedDate) ?? occurredAt;
  const byGuid = new Map(expansion.items.map((i) => [i.guid, i]));
  const line = (s: Selection): FactLine => {
    const id = s.itemGuid ? byGuid.get(s.itemGuid)?.multiLocationId : undefined;
    return { lineId: s.lineId, sku: null, ref: id ? { productId: id, variantId: id } : {}, quantity: s.quantity, locationId: restaurant };
  };
  // A selection with no menu item (an open item typed at the register) holds no stock.
  const all = selectionsOf(order, orderId).filter((x) => x.selection.itemGuid !== null);
  const details = orderDetails(order, currency);
  const facts: ChannelFact[] = [];
  if (all.length > 0) facts.push(withOrder({ type: 'sale' as const, orderId, occurredAt: placedAt, lines: all.map((x) => line(x.selection)) }, details));
  const voided = all.filter((x) => x.voided);
  if (voided.length > 0) facts.push(withOrder({ type: 'cancellation' as const, orderId, occurredAt, lines: voided.map((x) => ({ ...line(x.selection), restock: true })) }, details));
  const refunds = new Map<string, Selection[]>();
  for (const { selection } of all) if (selection.refund) refunds.set(selection.refund.id, [...(refunds.get(selection.refund.id) ?? []), selection]);
  for (const [refundId, sels] of refunds) {
    const amount = readOrUndefined(() => ({ currency: currencyOf(currency), amount: sum(sels.map((s) => minor((s.refund!.amount + s.refund!.tax).toFixed(2), currencyOf(currency), 'refundAmount'))) }));
    const lines = sels.map((s) => {
      // Toast refunds an amount, not units: the units it stands for, at the selection's price.
      const units = s.price && s.price > 0 ? Math.min(s.quantity, Math.max(1, Math.round((s.refund!.amount / s.price) * s.quantity))) : s.quantity;
      return { ...line(s), quantity: units, restock: false };
    });
    facts.push({ type: 'refund', refundId, orderId, occurredAt, lines, ...(amount ? { money: amount } : {}) });
  }
  for (const item of expansion.items) {
    const level = levelOf(item);
    if (level === null || !item.multiLocationId) continue;
    facts.push({ type: 'level_observed', sku: null, ref: { productId: item.multiLocationId, variantId: item.multiLocationId }, locationId: restaurant, available: level, occurredAt });
  }
  return facts;
}

function stockFacts(body: unknown): ChannelFact[] {
  if (!isObj(body) || !isObj(body.details)) throw new TranslateError('The Toast stock message carries no details.');
  const d = body.details;
  const id = text(d.multiLocationId);
  const restaurant = text(d.restaurantGuid);
  const status = text(d.status);
  if (!id || !restaurant || !status || !['IN_STOCK', 'OUT_OF_STOCK', 'QUANTITY'].includes(status)) throw new TranslateError('The Toast stock message has no multiLocationId, restaurantGuid or status.');
  const quantity = typeof d.quantity === 'number' && Number.isFinite(d.quantity) ? d.quantity : null;
  if (status === 'QUANTITY' && quantity === null) throw new TranslateError(`The Toast stock message for ${id} says QUANTITY without a quantity.`);
  const level = levelOf({ status, quantity });
  if (level === null) return [];
  const occurredAt = text(body.timestamp) ?? new Date(0).toISOString();
  return [{ type: 'level_observed', sku: null, ref: { productId: id, variantId: id }, locationId: restaurant, available: level, occurredAt: Number.isNaN(Date.parse(occurredAt)) ? new Date(0).toISOString() : new Date(Date.parse(occurredAt)).toISOString() }];
}

export function translate(topic: string, body: unknown, currency: string): ChannelFact[] {
  if ((STOCK_TOPICS as readonly string[]).includes(topic)) return stockFacts(body);
  if (topic === ORDER_TOPIC) return orderFacts(body, currency);
  return [];
}
