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
 * Money (the transaction log). Square amounts are Money objects `{amount, currency}` already in the
 * currency's minor unit (cents, yen, fils): taken as they are, never scaled. The sale and the
 * cancellation carry `order` (OrderDetails) from the fetched order; if an amount cannot be read the
 * details are left out and the stock facts are emitted exactly as without them (a sale is never lost
 * to money). Fields:
 * - order: currency = `total_money.currency` (every Money of the order must share it), `total_money`,
 *   `total_tax_money`, `total_discount_money`; subtotal = Σ lines (`gross_sales_money` −
 *   `total_discount_money`): after discounts, before additive tax (inclusive tax stays inside, as
 *   Square prices it); shipping = 0: the Orders API has no shipping amount (a shipping fee is a
 *   service charge or a custom line, and is in `total` only, or in `subtotal` as a line);
 * - line: unitPrice = `base_price_money` (null when absent), discount = `total_discount_money`, tax =
 *   `total_tax_money`, total = `total_money` (after discounts, additive tax included, as Square counts
 *   it); every line is listed (custom amounts and gift cards too), `lineId` = `uid` as in the sale;
 * - refund money: what the return order's `refunds[]` (not REJECTED or FAILED) gave back for that
 *   return's source order (`transaction_id`; all of them when the order has one return); none →
 *   `money: null` (an exchange paid by credit moved no money); no `refunds` list → unknown
 *   (undefined). A return with money but no itemized line (a custom amount) is a refund fact with
 *   no lines.
 * - paymentStatus: no tender → pending (CANCELED: voided); a card tender AUTHORIZED → authorized;
 *   every card tender VOIDED → voided; CANCELED with tenders → voided; refunds listed on the order
 *   itself (APPROVED or PENDING) reaching the total → refunded, below it → partially_refunded;
 *   `net_amount_due_money` above 0 → partially_paid (without it: tenders short of the total);
 *   else paid. Square records a later refund on a separate return order, so a sale order itself
 *   rarely says refunded: the refund facts carry that.
 * - fulfilmentStatus: CANCELED → cancelled; with fulfillments (CANCELED and FAILED ones aside when
 *   others exist): all COMPLETED → fulfilled, some → partial, all CANCELED/FAILED → cancelled, else
 *   unfulfilled; without fulfillments: COMPLETED → fulfilled (handed over at the counter), OPEN →
 *   unfulfilled, else unknown.
 * - customerRef = `customer_id`; contact = the first fulfillment recipient's `display_name` and
 *   `email_address` (a counter sale has none: null); number = null (Square orders have no number
 *   staff see besides the receipt number of the payment). Nothing about cards is read besides a
 *   card tender's status.
 * order_updated: `order.updated` (change "updated") and `payment.updated` (change "paid") give one
 * for the fetched order (a sale order: it has line items; DRAFT orders aside), before the order's
 * stock facts — a sold order's sale is repeated by every event and books nothing again, so the
 * update is what tells the log the order changed; `order.created` gives one ("created") only when no
 * sale or cancellation carries the order (an unpaid OPEN order).
 */
import { contactOf, currencyOf, readOrUndefined, sum, withOrder, MoneyUnreadable } from '../money';
import { TranslateError, type ChannelFact, type FactLine, type FulfilmentStatus, type Headers, type OrderDetails, type OrderLineDetail, type PaymentStatus, type RefundMoney } from '../types';

export const SQUARE_TOPICS = ['inventory.count.updated', 'order.created', 'order.updated', 'payment.updated', 'refund.created', 'refund.updated'] as const;

/** Where `expand` attaches the fetched order (Square's wire JSON) to a thin event body. */
export const EXPANDED_ORDER_KEY = 'stockrelay_order';

type Obj = Record<string, unknown>;

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

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

function iso(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
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

/** A Square Money object's amount (minor units already) in `currency`; anything else is unreadable. */
function money(v: unknown, currency: string, what: string): number {
  if (!isObj(v)) throw new MoneyUnreadable(what);
  const a = v.amount;
  const amount = typeof a === 'number' ? a : typeof a === 'string' && /^-?\d+$/.test(a.trim()) ? Number(a) : NaN;
  if (!Number.isSafeInteger(amount)) throw new MoneyUnreadable(what);
  if (v.currency !== currency) throw new MoneyUnreadable(`${what} (in ${String(v.currency)}, not ${currency})`);
  return amount;
}

function moneyOrZero(v: unknown, currency: string, what: string): number {
  return v === null || v === undefined ? 0 : money(v, currency, what);
}

/** Line item quantity for the details: a decimal string ("2", "1.5") as a number. */
function detailQuantity(v: unknown, what: string): number {
  const s = typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '';
  if (!/^\d+(\.\d+)?$/.test(s)) throw new MoneyUnreadable(what);
  return Number(s);
}

function lineDetail(raw: unknown, i: number, currency: string): { line: OrderLineDetail; net: number } {
  const what = `Square order line ${i + 1}`;
  if (!isObj(raw)) throw new MoneyUnreadable(what);
  const quantity = detailQuantity(raw.quantity, `${what}: quantity`);
  const unitPrice = raw.base_price_money === undefined || raw.base_price_money === null ? null : money(raw.base_price_money, currency, `${what}: base_price_money`);
  const discount = moneyOrZero(raw.total_discount_money, currency, `${what}: total_discount_money`);
  const tax = moneyOrZero(raw.total_tax_money, currency, `${what}: total_tax_money`);
  const total = money(raw.total_money, currency, `${what}: total_money`);
  // Gross: what Square reports, else base price × a whole quantity.
  let gross: number;
  if (isObj(raw.gross_sales_money)) gross = money(raw.gross_sales_money, currency, `${what}: gross_sales_money`);
  else if (isObj(raw.variation_total_price_money)) gross = money(raw.variation_total_price_money, currency, `${what}: variation_total_price_money`);
  else if (unitPrice !== null && Number.isInteger(quantity)) gross = unitPrice * quantity;
  else throw new MoneyUnreadable(`${what}: gross_sales_money`);
  const title = str(raw.name) ?? str(raw.variation_name);
  return { line: { lineId: str(raw.uid) ?? `line-${i + 1}`, sku: null, title, quantity, unitPrice, discount, tax, total }, net: gross - discount };
}

function paymentOf(order: Obj, currency: string, total: number): PaymentStatus {
  const state = str(order.state);
  const tenders = Array.isArray(order.tenders) ? order.tenders.filter(isObj) : [];
  if (tenders.length === 0) return state === 'CANCELED' ? 'voided' : 'pending';
  const cardStates = tenders.map((t) => (isObj(t.card_details) ? str(t.card_details.status) : null)).filter((x): x is string => x !== null);
  if (cardStates.includes('AUTHORIZED')) return 'authorized';
  if (cardStates.length === tenders.length && cardStates.every((c) => c === 'VOIDED')) return 'voided';
  if (state === 'CANCELED') return 'voided';
  const refunds = Array.isArray(order.refunds) ? order.refunds.filter(isObj).filter((r) => r.status === 'APPROVED' || r.status === 'PENDING') : [];
  const refunded = sum(refunds.map((r, k) => money(r.amount_money, currency, `Square refund ${k + 1}`)));
  if (refunded > 0) return refunded >= total ? 'refunded' : 'partially_refunded';
  if (isObj(order.net_amount_due_money)) return money(order.net_amount_due_money, currency, 'Square net_amount_due_money') > 0 ? 'partially_paid' : 'paid';
  const tendered = sum(tenders.map((t, k) => moneyOrZero(t.amount_money, currency, `Square tender ${k + 1}`)));
  return tendered < total ? 'partially_paid' : 'paid';
}

function fulfilmentOf(order: Obj): FulfilmentStatus {
  const state = str(order.state);
  if (state === 'CANCELED') return 'cancelled';
  const all = (Array.isArray(order.fulfillments) ? order.fulfillments.filter(isObj) : []).map((f) => str(f.state));
  if (all.length === 0) return state === 'COMPLETED' ? 'fulfilled' : state === 'OPEN' ? 'unfulfilled' : 'unknown';
  const live = all.filter((f) => f !== 'CANCELED' && f !== 'FAILED');
  if (live.length === 0) return 'cancelled';
  const done = live.filter((f) => f === 'COMPLETED').length;
  return done === live.length ? 'fulfilled' : done > 0 ? 'partial' : 'unfulfilled';
}

/** The first fulfillment recipient's name and email, as the order gives them. */
function contactFrom(order: Obj): OrderDetails['contact'] {
  for (const f of Array.isArray(order.fulfillments) ? order.fulfillments : []) {
    if (!isObj(f)) continue;
    for (const key of ['shipment_details', 'pickup_details', 'delivery_details']) {
      const d = f[key];
      if (isObj(d) && isObj(d.recipient)) return contactOf(d.recipient.display_name, d.recipient.email_address);
    }
  }
  return null;
}

/** The money and states of a fetched Square order, or undefined when an amount cannot be read. */
export function orderDetailsOf(order: Obj, fallbackAt: string): OrderDetails | undefined {
  return readOrUndefined(() => {
    const currency = currencyOf(isObj(order.total_money) ? order.total_money.currency : undefined, 'The Square order currency');
    const total = money(order.total_money, currency, 'Square total_money');
    const read = (Array.isArray(order.line_items) ? order.line_items : []).map((raw, i) => lineDetail(raw, i, currency));
    return {
      currency,
      subtotal: sum(read.map((r) => r.net)),
      discount: moneyOrZero(order.total_discount_money, currency, 'Square total_discount_money'),
      tax: moneyOrZero(order.total_tax_money, currency, 'Square total_tax_money'),
      shipping: 0,
      total,
      paymentStatus: paymentOf(order, currency, total),
      fulfilmentStatus: fulfilmentOf(order),
      customerRef: str(order.customer_id),
      contact: contactFrom(order),
      number: null,
      placedAt: iso(order.created_at) ?? fallbackAt,
      lines: read.map((r) => r.line),
    };
  });
}

/**
 * What a return order gave back for one of its returns: its `refunds[]` (not REJECTED or FAILED)
 * for that return's source order (`transaction_id`), all of them when the order has one return.
 * None → null (nothing went back); no `refunds` list or an unreadable amount → undefined.
 */
function returnMoney(order: Obj, ret: Obj, returns: number): RefundMoney | null | undefined {
  if (!Array.isArray(order.refunds)) return undefined;
  const refunds = order.refunds;
  return readOrUndefined(() => {
    const live = refunds.filter(isObj).filter((r) => r.status !== 'REJECTED' && r.status !== 'FAILED');
    const mine = returns === 1 ? live : live.filter((r) => str(r.transaction_id) !== null && str(r.transaction_id) === str(ret.source_order_id));
    if (mine.length === 0) return null;
    const currency = currencyOf(isObj(mine[0]!.amount_money) ? mine[0]!.amount_money.currency : undefined, 'The Square refund currency');
    return { currency, amount: sum(mine.map((r, k) => money(r.amount_money, currency, `Square refund ${k + 1}`))) };
  });
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
