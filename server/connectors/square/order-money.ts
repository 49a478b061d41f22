/**
 * The money and states of a fetched Square order and of its returns, for the transaction log
 * (translate.ts carries them on the facts).
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
 */
import { contactOf, currencyOf, readOrUndefined, sum, MoneyUnreadable } from '../money';
import type { FulfilmentStatus, OrderDetails, OrderLineDetail, PaymentStatus, RefundMoney } from '../types';
import { isObj, iso, str, type Obj } from './wire';

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
export function returnMoney(order: Obj, ret: Obj, returns: number): RefundMoney | null | undefined {
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
