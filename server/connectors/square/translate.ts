/**
 * Pure mapping of Square webhook bodies (Square's wire JSON, snake_case) to domain facts.
 *
 * Square's order events are thin (`data.object.order_created|order_updated` carry the order id,
 * state and version, no lines) and refund events name only the order: the connector's `expand`
 * fetches the order and attaches it under `stockrelay_order` (Square's wire shape). Translate reads
 * that; an order or completed-refund event without it is unreadable (TranslateError).
 *
 * Rules (README.md, "Translation"):
 * - an order COMPLETED, or OPEN with at least one tender (paid, awaiting fulfilment), → `sale` of its
 *   catalog lines (`lineId` = line item `uid`, `ref.variantId` = `catalog_object_id`, `sku` null:
 *   Square order lines carry no SKU; `locationId` = the order's `location_id`);
 * - an order CANCELED that had tenders (it had been sold) → `cancellation`, restocked;
 *   an unpaid order cancelled was never a sale: nothing;
 * - a COMPLETED order carrying `returns[]` (Square's return order, made for every refund) →
 *   one `refund` per return: `refundId` = the return order's id, `orderId` = `source_order_id`,
 *   lines = the itemized return lines (`lineId` = return line `uid`), restocked per the channel's
 *   `restockReturns` setting (Square POS restocks itemized returns by default); custom-amount
 *   (money-only) return lines are not stock;
 * - `refund.created` / `refund.updated` with status COMPLETED → the same refund facts, from the
 *   expanded return order, so whichever event arrives first books it and the other repeats its keys;
 * - `inventory.count.updated` → one `level_observed` per IN_STOCK count;
 * - `payment.updated` COMPLETED whose order was fetched → that order's facts (as above, same keys):
 *   Square sends no order webhook for an order made in the Point of Sale app, only payment ones;
 *   without the fetched order, or with `salesFromPayments: false`, nothing.
 *
 * Money (the transaction log): the sale and the cancellation carry `order` (OrderDetails) from the
 * fetched order, a refund its `money`, read as order-money.ts says; if an amount cannot be read the
 * details are left out and the stock facts are emitted exactly as without them (a sale is never lost
 * to money).
 * order_updated: `order.updated` (change "updated") and `payment.updated` (change "paid") give one
 * for the fetched order (a sale order: it has line items; DRAFT orders aside), before the order's
 * stock facts — a sold order's sale is repeated by every event and books nothing again, so the
 * update is what tells the log the order changed; `order.created` gives one ("created") only when no
 * sale or cancellation carries the order (an unpaid OPEN order).
 */
import { withOrder } from '../money';
import { TranslateError, type ChannelFact, type FactLine, type Headers } from '../types';
import { orderDetailsOf, returnMoney } from './order-money';
import { isObj, iso, str, type Obj } from './wire';

export const SQUARE_TOPICS = ['inventory.count.updated', 'order.created', 'order.updated', 'payment.updated', 'refund.created', 'refund.updated'] as const;

/** Where `expand` attaches the fetched order (Square's wire JSON) to a thin event body. */
export const EXPANDED_ORDER_KEY = 'stockrelay_order';

export interface TranslateOptions {
  /** Whether an itemized return (a return line with a catalog variation) went back on the shelf. Default true. */
  restockReturns?: boolean;
  /** The Square locations this channel covers; facts about others are dropped. Default: all. */
  locationIds?: readonly string[] | null;
  /**
   * Whether a completed `payment.updated` whose order was fetched books that order's sale. Default
   * true: Square sends no order webhook for orders made in the Point of Sale app, only payment ones.
   */
  salesFromPayments?: boolean;
}

function when(what: string, ...candidates: unknown[]): string {
  for (const c of candidates) {
    const v = iso(c);
    if (v) return v;
  }
  throw new TranslateError(`${what} says neither when it happened nor when it was sent.`);
}

/** A line quantity: Square sends decimal strings ("2", "1.50000"); stock lines must be whole units. */
function quantityOf(v: unknown, what: string): number {
  const s = typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
  if (!/^\d+(\.\d+)?$/.test(s)) throw new TranslateError(`${what} has no readable quantity.`);
  const n = Number(s);
  if (!Number.isInteger(n)) throw new TranslateError(`${what} has a fractional quantity (${s}): measured-unit stock is not supported.`);
  return n;
}

/** A line that is stock: an itemized line naming a catalog variation (not a custom amount or gift card). */
function isStockLine(line: Obj): boolean {
  const type = line.item_type;
  if (type !== undefined && type !== null && type !== 'ITEM') return false;
  return str(line.catalog_object_id) !== null;
}

function eventObject(body: Obj, key: string, topic: string): Obj {
  const data = body.data;
  if (!isObj(data)) throw new TranslateError(`The Square ${topic} event has no data object.`);
  const object = data.object;
  if (!isObj(object) || !isObj(object[key])) throw new TranslateError(`The Square ${topic} event has no data.object.${key}.`);
  return object[key] as Obj;
}

function expandedOrder(body: Obj, orderId: string, topic: string): Obj {
  const order = body[EXPANDED_ORDER_KEY];
  if (!isObj(order)) throw new TranslateError(`The Square ${topic} event for order ${orderId} carries no lines and the order was not fetched (expand).`);
  if (str(order.id) !== orderId) throw new TranslateError(`The Square ${topic} event names order ${orderId} but the fetched order is ${String(order.id)}.`);
  return order;
}

function tendered(order: Obj): boolean {
  return Array.isArray(order.tenders) && order.tenders.length > 0;
}

function saleLines(order: Obj, orderId: string): FactLine[] {
  const items = order.line_items ?? [];
  if (!Array.isArray(items)) throw new TranslateError(`Square order ${orderId}: line_items is not a list.`);
  const locationId = str(order.location_id);
  const lines: FactLine[] = [];
  for (const [i, raw] of items.entries()) {
    if (!isObj(raw)) throw new TranslateError(`Square order ${orderId}: line ${i + 1} is not an object.`);
    if (!isStockLine(raw)) continue;
    lines.push({
      lineId: str(raw.uid) ?? `line-${i + 1}`,
      sku: null,
      ref: { variantId: str(raw.catalog_object_id)! },
      quantity: quantityOf(raw.quantity, `Square order ${orderId}: line ${i + 1}`),
      locationId,
    });
  }
  return lines;
}

function refundFacts(order: Obj, orderId: string, restock: boolean): ChannelFact[] {
  const returns = order.returns ?? [];
  if (!Array.isArray(returns)) throw new TranslateError(`Square order ${orderId}: returns is not a list.`);
  const locationId = str(order.location_id);
  const occurredAt = when(`Square return order ${orderId}`, order.created_at, order.closed_at, order.updated_at);
  const facts: ChannelFact[] = [];
  for (const [r, ret] of returns.entries()) {
    if (!isObj(ret)) throw new TranslateError(`Square order ${orderId}: return ${r + 1} is not an object.`);
    const items = ret.return_line_items ?? [];
    if (!Array.isArray(items)) throw new TranslateError(`Square order ${orderId}: return ${r + 1} has no list of return_line_items.`);
    const lines: (FactLine & { restock: boolean })[] = [];
    for (const [i, raw] of items.entries()) {
      if (!isObj(raw)) throw new TranslateError(`Square order ${orderId}: return ${r + 1} line ${i + 1} is not an object.`);
      if (!isStockLine(raw)) continue;
      lines.push({
        lineId: str(raw.uid) ?? `return-${r + 1}-line-${i + 1}`,
        sku: null,
        ref: { variantId: str(raw.catalog_object_id)! },
        quantity: quantityOf(raw.quantity, `Square order ${orderId}: return ${r + 1} line ${i + 1}`),
        locationId,
        restock,
      });
    }
    const back = returnMoney(order, ret, returns.length);
    // A custom-amount return (money only) is still a refund for the log; with no money either, nothing.
    if (lines.length === 0 && (back === null || back === undefined)) continue;
    // One return per source order; a return order returning two sales carries two returns whose
    // line uids are unique within the return order, so the keys stay distinct.
    const refundId = orderId;
    const sourceId = str(ret.source_order_id) ?? orderId;
    facts.push(back === undefined ? { type: 'refund', refundId, orderId: sourceId, occurredAt, lines } : { type: 'refund', refundId, orderId: sourceId, occurredAt, lines, money: back });
  }
  return facts;
}

/** What an order event's order_updated is called: order.created → created, order.updated → updated, payment.updated → paid. */
type OrderChange = 'created' | 'updated' | 'paid';

function orderFacts(order: Obj, orderId: string, restock: boolean, change: OrderChange): ChannelFact[] {
  const state = str(order.state);
  const facts: ChannelFact[] = [];
  // Money only for a sale order (it has line items); a pure return order is told by its refund facts.
  const saleOrder = Array.isArray(order.line_items) && order.line_items.length > 0;
  const placed = iso(order.created_at) ?? iso(order.updated_at);
  const details = saleOrder && placed ? orderDetailsOf(order, placed) : undefined;
  if (state === 'COMPLETED' || (state === 'OPEN' && tendered(order))) {
    const lines = saleLines(order, orderId);
    if (lines.length > 0) facts.push(withOrder({ type: 'sale' as const, orderId, occurredAt: when(`Square order ${orderId}`, order.created_at, order.updated_at), lines }, details));
  }
  if (state === 'CANCELED' && tendered(order)) {
    const lines = saleLines(order, orderId).map((l) => ({ ...l, restock: true }));
    if (lines.length > 0) facts.push(withOrder({ type: 'cancellation' as const, orderId, occurredAt: when(`Cancelled Square order ${orderId}`, order.closed_at, order.updated_at, order.created_at), lines }, details));
  }
  if (state === 'COMPLETED') facts.push(...refundFacts(order, orderId, restock));
  // The update first: the log compares its states with those it had before this event.
  const carried = facts.some((f) => f.type === 'sale' || f.type === 'cancellation');
  const updatedAt = iso(order.updated_at) ?? iso(order.closed_at) ?? placed;
  if (details && updatedAt && state !== 'DRAFT' && (change !== 'created' || !carried)) {
    facts.unshift({ type: 'order_updated', orderId, occurredAt: updatedAt, change, order: details });
  }
  return facts;
}

function inventoryFacts(body: Obj, topic: string): ChannelFact[] {
  const data = body.data;
  if (!isObj(data) || !isObj(data.object)) throw new TranslateError(`The Square ${topic} event has no data object.`);
  const counts = data.object.inventory_counts;
  if (!Array.isArray(counts)) throw new TranslateError(`The Square ${topic} event has no inventory_counts list.`);
  const facts: ChannelFact[] = [];
  for (const [i, c] of counts.entries()) {
    if (!isObj(c)) throw new TranslateError(`Square inventory count ${i + 1} is not an object.`);
    if (c.state !== 'IN_STOCK') continue;
    if (c.catalog_object_type !== undefined && c.catalog_object_type !== null && c.catalog_object_type !== 'ITEM_VARIATION') continue;
    const variantId = str(c.catalog_object_id);
    const locationId = str(c.location_id);
    if (!variantId || !locationId) throw new TranslateError(`Square inventory count ${i + 1} names no catalog object or no location.`);
    const q = typeof c.quantity === 'string' && /^-?\d+(\.\d+)?$/.test(c.quantity.trim()) ? Number(c.quantity) : Number.NaN;
    if (!Number.isFinite(q)) throw new TranslateError(`Square inventory count ${i + 1} has no readable quantity.`);
    // Square POS rounds decimal counts down (2.5 → 2, −2.5 → −3); so does the hub.
    facts.push({ type: 'level_observed', sku: null, ref: { variantId }, locationId, available: Math.floor(q), occurredAt: when(`Square inventory count ${i + 1}`, c.calculated_at, body.created_at) });
  }
  return facts;
}

export function createTranslate(opts: TranslateOptions = {}): (topic: string, body: unknown, headers: Headers) => ChannelFact[] {
  const restock = opts.restockReturns ?? true;
  const fromPayments = opts.salesFromPayments ?? true;
  const covered = opts.locationIds ? new Set(opts.locationIds) : null;
  /** Keeps what happened at a covered location (a line or count naming no location is kept). */
  const keep = (facts: ChannelFact[]): ChannelFact[] => {
    if (!covered) return facts;
    const here = (l: string | null) => l === null || covered.has(l);
    return facts.flatMap((f): ChannelFact[] => {
      if (f.type === 'level_observed') return here(f.locationId) ? [f] : [];
      if (f.type === 'sale') {
        const lines = f.lines.filter((l) => here(l.locationId));
        return lines.length > 0 ? [{ ...f, lines }] : [];
      }
      if (f.type === 'refund' || f.type === 'cancellation') {
        // A money-only refund has no line to place: its order was checked (coveredOrder).
        if (f.lines.length === 0) return [f];
        const lines = f.lines.filter((l) => here(l.locationId));
        return lines.length > 0 ? [{ ...f, lines }] : [];
      }
      return [f];
    });
  };
  /** An order at a location this channel covers (or naming none): its facts, order_updated included, are this channel's. */
  const coveredOrder = (order: Obj): boolean => !covered || str(order.location_id) === null || covered.has(str(order.location_id)!);
  return (topic, body) => {
    if (!isObj(body)) throw new TranslateError(`The Square ${topic} event body is not a JSON object.`);
    // The type is part of the signed body (Square sends no topic header): the topic the hub was
    // handed must be that type, so nothing outside the signature can make one event read as another.
    if (typeof body.type === 'string' && body.type.trim() !== topic) {
      throw new TranslateError(`The Square event says it is "${body.type.trim().slice(0, 100)}", not "${topic}": its facts are read only as the type its signed body names.`);
    }
    switch (topic) {
      case 'order.created':
      case 'order.updated': {
        const key = topic === 'order.created' ? 'order_created' : 'order_updated';
        const thin = eventObject(body, key, topic);
        const orderId = str(thin.order_id) ?? (isObj(body.data) ? str(body.data.id) : null);
        if (!orderId) throw new TranslateError(`The Square ${topic} event names no order.`);
        // An order at a location this channel does not cover was not fetched (expand skips it).
        if (covered && str(thin.location_id) !== null && !covered.has(str(thin.location_id)!) && !isObj(body[EXPANDED_ORDER_KEY])) return [];
        const order = expandedOrder(body, orderId, topic);
        if (!coveredOrder(order)) return [];
        return keep(orderFacts(order, orderId, restock, topic === 'order.created' ? 'created' : 'updated'));
      }
      case 'refund.created':
      case 'refund.updated': {
        const refund = eventObject(body, 'refund', topic);
        if (refund.status !== 'COMPLETED') return [];
        const orderId = str(refund.order_id);
        // A refund of a payment without an order cannot name lines: money only.
        if (!orderId) return [];
        if (covered && str(refund.location_id) !== null && !covered.has(str(refund.location_id)!) && !isObj(body[EXPANDED_ORDER_KEY])) return [];
        const order = expandedOrder(body, orderId, topic);
        if (order.state !== 'COMPLETED' || !coveredOrder(order)) return [];
        return keep(refundFacts(order, orderId, restock));
      }
      case 'payment.updated': {
        // A payment has no lines. Its order does: a Point of Sale sale sends payment events only,
        // so a completed payment whose order `expand` fetched books that order, with the same keys
        // as the order's own events (booked once, whichever comes first). Without the order: nothing.
        if (!fromPayments) return [];
        const payment = eventObject(body, 'payment', topic);
        const orderId = str(payment.order_id);
        if (payment.status !== 'COMPLETED' || !orderId || !isObj(body[EXPANDED_ORDER_KEY])) return [];
        const order = expandedOrder(body, orderId, topic);
        if (!coveredOrder(order)) return [];
        return keep(orderFacts(order, orderId, restock, 'paid'));
      }
      case 'inventory.count.updated':
        return keep(inventoryFacts(body, topic));
      default:
        return [];
    }
  };
}

/** Translation with the default policy (itemized returns restocked). */
export const translate = createTranslate();
