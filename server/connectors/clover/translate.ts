/**
 * What a verified Clover message says, in the hub's facts. Clover's messages carry object ids only
 * (`O:` orders, `P:` payments, `I:` inventory items); `expand` (index.ts) reads each object the
 * channel's merchant's updates name and keeps it beside the message (`fetched`, keyed by the
 * objectId; a payment is kept as the order it paid for, under that order's `O:` id). The orders feed
 * hands `{order}`.
 *
 * From an order (read with `expand=lineItems,payments,refunds`):
 * - an order that has been paid (`paymentState` PAID, PARTIALLY_PAID, PARTIALLY_REFUNDED, REFUNDED)
 *   is a `sale` of its line items; Clover rings one unit a line item (an item sold three times is
 *   three line items), so the hub's line is the item with the count of its line items, keyed by the
 *   order id and the item id: the same sale seen through an order message, a payment message and a
 *   poll is booked once;
 * - each of its `refunds` is a `refund` of the line items it lists, not restocked: Clover's refund
 *   does not say whether the goods went back; when the merchant puts them back, the item's stock
 *   changes and Clover sends the item's update, which the hub compares as a reported level;
 * - an order not paid yet (OPEN, or no `paymentState`) books nothing.
 * From an item (read with `expand=itemStock`): a `level_observed` of `itemStock.quantity` at the
 * merchant (Clover keeps one stock per merchant: the location id is the merchant id). The quantity is
 * a decimal that may be negative; the level is its whole units (rounded down). An item whose stock
 * is not tracked (no itemStock) reports nothing.
 */
import { TranslateError, type ChannelFact, type FactLine, type OrderDetails, type PaymentStatus } from '../types';
import { currencyOf, readOrUndefined, sum, withOrder } from '../money';
import { updatesFor } from './message';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
/** Clover's lists: `{elements: [...]}` (or absent). */
export const elements = (v: unknown): unknown[] => (isObj(v) && Array.isArray(v.elements) ? v.elements : []);
const iso = (ms: unknown): string | null => (typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null);

const SOLD = new Set(['PAID', 'PARTIALLY_PAID', 'PARTIALLY_REFUNDED', 'REFUNDED']);

/** The topic of the orders feed's events (an order read by the poll, as an order message expands to). */
export const ORDER_POLLED_TOPIC = 'orders';

function lineOf(li: Obj, orderId: string, i: number): FactLine | null {
  const lineId = text(li.id);
  if (!lineId) throw new TranslateError(`Line ${i + 1} of Clover order ${orderId} has no id.`);
  const itemId = isObj(li.item) ? text(li.item.id) : null;
  // A line with no inventory item (a custom amount) holds no stock.
  if (!itemId) return null;
  return { lineId, sku: null, ref: { productId: itemId, variantId: itemId }, quantity: 1, locationId: null };
}

/**
 * Clover rings one unit a line item: the hub's lines are the order's items, each with the number of
 * its line items (line id: the item id, the same in the sale and in every refund of the order).
 */
function grouped(itemIds: readonly string[]): FactLine[] {
  const counts = new Map<string, number>();
  for (const id of itemIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts].map(([id, quantity]) => ({ lineId: id, sku: null, ref: { productId: id, variantId: id }, quantity, locationId: null }));
}

function paymentStatus(state: unknown): PaymentStatus {
  if (state === 'PAID') return 'paid';
  if (state === 'PARTIALLY_PAID') return 'partially_paid';
  if (state === 'PARTIALLY_REFUNDED') return 'partially_refunded';
  if (state === 'REFUNDED') return 'refunded';
  if (state === 'OPEN') return 'pending';
  return 'unknown';
}

/** The order's money and states (Clover amounts are in cents); undefined when any of it cannot be read. */
export function orderDetails(order: Obj): OrderDetails | undefined {
  return readOrUndefined(() => {
    const currency = currencyOf(order.currency ?? 'USD');
    const lines = elements(order.lineItems)
      .filter(isObj)
      .map((li) => {
        const unit = typeof li.price === 'number' && Number.isInteger(li.price) ? li.price : null;
        return { lineId: text(li.id) ?? '', sku: null, title: text(li.name), quantity: 1, unitPrice: unit, discount: 0, tax: 0, total: unit ?? 0 };
      });
    const subtotal = sum(lines.map((l) => l.total));
    const total = typeof order.total === 'number' && Number.isInteger(order.total) ? order.total : subtotal;
    return {
      currency,
      subtotal,
      discount: 0,
      tax: Math.max(0, total - subtotal),
      shipping: 0,
      total,
      paymentStatus: paymentStatus(order.paymentState),
      fulfilmentStatus: 'fulfilled' as const,
      customerRef: elements(order.customers).filter(isObj).map((c) => text(c.id))[0] ?? null,
      contact: null,
      number: null,
      placedAt: iso(order.createdTime) ?? '',
      lines,
    };
  });
}

export function orderFacts(order: Obj): ChannelFact[] {
  const orderId = text(order.id);
  if (!orderId) throw new TranslateError('The Clover order has no id.');
  if (!SOLD.has(String(order.paymentState))) return [];
  if (!isObj(order.lineItems) && order.lineItems !== undefined) throw new TranslateError(`Clover order ${orderId} has line items the hub cannot read.`);
  const placedAt = iso(order.createdTime) ?? iso(order.clientCreatedTime);
  if (!placedAt) throw new TranslateError(`Clover order ${orderId} has no createdTime.`);
  const raw = elements(order.lineItems);
  /** Each line item's item id, by line item id. */
  const itemOf = new Map<string, string>();
  raw.forEach((li, i) => {
    if (!isObj(li)) throw new TranslateError(`Line ${i + 1} of Clover order ${orderId} is not a line item.`);
    const line = lineOf(li, orderId, i);
    if (line) itemOf.set(line.lineId, line.ref.variantId!);
  });
  const lines = grouped([...itemOf.values()]);
  const details = orderDetails(order);
  const facts: ChannelFact[] = [withOrder({ type: 'sale' as const, orderId, occurredAt: placedAt, lines }, details)];
  for (const r of elements(order.refunds)) {
    if (!isObj(r)) continue;
    const refundId = text(r.id);
    if (!refundId) throw new TranslateError(`A refund of Clover order ${orderId} has no id.`);
    const refunded = elements(r.lineItems)
      .filter(isObj)
      .map((li) => itemOf.get(text(li.id) ?? ''))
      .filter((id): id is string => id !== undefined);
    const refundLines = grouped(refunded).map((l) => ({ ...l, restock: false }));
    const amount = typeof r.amount === 'number' && Number.isInteger(r.amount) ? r.amount : null;
    facts.push({ type: 'refund', refundId, orderId, occurredAt: iso(r.createdTime) ?? placedAt, lines: refundLines, money: amount === null ? undefined : { currency: details?.currency ?? 'USD', amount } });
  }
  return facts;
}

export function itemFacts(item: unknown, merchantId: string, fallbackAt: string): ChannelFact[] {
  if (!isObj(item)) throw new TranslateError('The Clover item is not an item.');
  const id = text(item.id);
  if (!id) throw new TranslateError('The Clover item has no id.');
  const stock = isObj(item.itemStock) ? item.itemStock : null;
  if (!stock) return [];
  const q = stock.quantity;
  if (typeof q !== 'number' || !Number.isFinite(q)) throw new TranslateError(`The stock of Clover item ${id} has no quantity.`);
  const occurredAt = iso(stock.modifiedTime) ?? iso(item.modifiedTime) ?? fallbackAt;
  return [{ type: 'level_observed', sku: text(item.sku), ref: { productId: id, variantId: id }, locationId: merchantId, available: Math.floor(q), occurredAt }];
}

/** A message's body after `expand`: the objects it names, read from Clover (null: Clover has no such object any more). */
export interface Expanded {
  fetched: Record<string, unknown>;
}

export function createTranslate(merchantId: string): (topic: string, body: unknown) => ChannelFact[] {
  return (topic, body) => {
    if (isObj(body) && isObj(body.order) && !('merchants' in body)) return orderFacts(body.order);
    const updates = updatesFor(body, merchantId);
    if (updates === null) throw new TranslateError('The Clover message is not {appId, merchants: {…}}.');
    if (!isObj(body) || !isObj(body.fetched)) throw new TranslateError(`A Clover ${topic} message names its objects only (objectId); they must be fetched before it can be read.`);
    const fetched = body.fetched;
    const facts: ChannelFact[] = [];
    const seenOrders = new Set<string>();
    for (const u of updates) {
      const at = u.ts > 0 ? new Date(u.ts).toISOString() : new Date(0).toISOString();
      if (u.kind === 'I') {
        const item = fetched[u.objectId];
        if (item !== null && item !== undefined) facts.push(...itemFacts(item, merchantId, at));
      } else if (u.kind === 'O' || u.kind === 'P') {
        // A payment was read as its order (fetched under `P:<id>` → the order).
        const order = fetched[u.objectId];
        if (!isObj(order)) continue;
        const id = text(order.id);
        if (!id || seenOrders.has(id)) continue;
        seenOrders.add(id);
        facts.push(...orderFacts(order));
      }
    }
    return facts;
  };
}
