/**
 * The money and states of a Shopify order or refund, for the transaction log (translate.ts carries
 * them on the facts).
 *
 * Money (the transaction log): sale, cancellation and order_updated carry `order` (OrderDetails)
 * read from the REST order body; refund carries `money`. Amounts are decimal strings in the shop
 * currency (`currency`; "25.00" AUD, "23600" JPY) turned into minor units by `toMinor`. If any of
 * them cannot be read the details are left out (`order` undefined) and the stock facts are emitted
 * exactly as without money: a sale is never lost to a money field. Fields read:
 * - order: `subtotal_price` (after discounts, before shipping and tax; tax inside when
 *   `taxes_included`), `total_discounts`, `total_tax`, shipping = `total_shipping_price_set.shop_money`
 *   (else the sum of `shipping_lines[].price`), `total_price`; the original amounts, not the
 *   `current_*` ones (refunds reach the log as refund facts);
 * - line: `price` (one unit, before discounts), discount = sum of `discount_allocations[].amount`
 *   (the deprecated `total_discount` when there are none), tax = sum of `tax_lines[].price`,
 *   total = price × quantity − discount (Shopify gives no line total; tax outside unless the prices
 *   include it). Every line is listed, custom items and gift cards included, so the lines add up to
 *   the order; `lineId` is the same LineItem gid the sale fact uses;
 * - refund: the sum of `transactions[]` of kind `refund` that did not fail (status success or
 *   pending), in their `currency`; a refund with no such transaction moved no money (`money: null`);
 *   without a `transactions` list it is unknown (undefined). `refund_line_items[].subtotal` is the
 *   goods' share only (no shipping, no tax) and is not what went back to the buyer. A refund with
 *   money but no stock line (shipping only, an order adjustment, custom items) is still a refund fact,
 *   with no lines.
 * - states: `financial_status` → PaymentStatus: pending, authorized, partially_paid, paid,
 *   partially_refunded, refunded, voided map to themselves; expired (an authorization never
 *   captured) → voided; anything else → unknown. `fulfillment_status` → FulfilmentStatus: null →
 *   unfulfilled, partial → partial, fulfilled → fulfilled, restocked ("every line item restocked and
 *   the order canceled") → cancelled, others → unknown; a `cancelled_at` date → cancelled.
 * - `customerRef` = the customer's gid; `contact` = the customer's first and last name (else the
 *   billing address name) and the order's `email` (else `contact_email`, else the customer's email);
 *   `number` = `name` ("#1001"). Nothing about payment cards is read.
 */
import { contactOf, currencyOf, fullName, minor, minorOrZero, readOrUndefined, sum, MoneyUnreadable } from '../money';
import type { FulfilmentStatus, OrderDetails, OrderLineDetail, PaymentStatus, RefundMoney } from '../types';
import { gidFrom, isObj, iso, skuOf, type Obj } from './rest-body';

/** financial_status → PaymentStatus (see the comment above). */
const PAYMENT: Record<string, PaymentStatus> = {
  pending: 'pending',
  authorized: 'authorized',
  partially_paid: 'partially_paid',
  paid: 'paid',
  partially_refunded: 'partially_refunded',
  refunded: 'refunded',
  voided: 'voided',
  // An authorization not captured before it lapsed: no money was taken.
  expired: 'voided',
};

function paymentOf(order: Obj): PaymentStatus {
  const status = typeof order.financial_status === 'string' ? order.financial_status.toLowerCase() : '';
  return Object.hasOwn(PAYMENT, status) ? PAYMENT[status]! : 'unknown';
}

function fulfilmentOf(order: Obj): FulfilmentStatus {
  if (iso(order.cancelled_at)) return 'cancelled';
  const f = order.fulfillment_status;
  if (f === null || f === undefined) return 'unfulfilled';
  if (f === 'partial') return 'partial';
  if (f === 'fulfilled') return 'fulfilled';
  if (f === 'restocked') return 'cancelled';
  return 'unknown';
}

/** A `*_set` amount in shop money (`{shop_money: {amount, currency_code}}`), or null when absent. */
function shopMoney(set: unknown, currency: string, what: string): number | null {
  if (!isObj(set) || !isObj(set.shop_money)) return null;
  const code = set.shop_money.currency_code;
  if (code !== undefined && code !== currency) throw new MoneyUnreadable(`${what} (in ${String(code)}, not ${currency})`);
  return minor(set.shop_money.amount, currency, what);
}

function lineDetail(raw: unknown, i: number, currency: string): OrderLineDetail {
  const what = `Shopify order line ${i + 1}`;
  if (!isObj(raw)) throw new MoneyUnreadable(what);
  const lineId = gidFrom(raw, 'LineItem');
  const quantity = raw.quantity;
  if (!lineId || typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 0) throw new MoneyUnreadable(what);
  const unitPrice = minor(raw.price, currency, `${what}: price`);
  const allocations = Array.isArray(raw.discount_allocations) ? raw.discount_allocations : [];
  const discount =
    allocations.length > 0
      ? sum(allocations.map((a, k) => minor(isObj(a) ? a.amount : undefined, currency, `${what}: discount allocation ${k + 1}`)))
      : minorOrZero(raw.total_discount, currency, `${what}: total_discount`);
  const taxLines = Array.isArray(raw.tax_lines) ? raw.tax_lines : [];
  const tax = sum(taxLines.map((t, k) => minor(isObj(t) ? t.price : undefined, currency, `${what}: tax line ${k + 1}`)));
  const title = typeof raw.name === 'string' && raw.name !== '' ? raw.name : typeof raw.title === 'string' && raw.title !== '' ? raw.title : null;
  return { lineId, sku: skuOf(raw.sku), title, quantity, unitPrice, discount, tax, total: sum([unitPrice * quantity, -discount]) };
}

/**
 * The money and states of a REST order body, or undefined when an amount cannot be read (the
 * stock facts are emitted without it). `placedAt` falls back to the fact's time.
 */
export function orderDetailsOf(order: Obj, fallbackAt: string): OrderDetails | undefined {
  return readOrUndefined(() => {
    const currency = currencyOf(order.currency, 'The Shopify order currency');
    const items = Array.isArray(order.line_items) ? order.line_items : [];
    const shippingLines = Array.isArray(order.shipping_lines) ? order.shipping_lines : [];
    const shipping =
      shopMoney(order.total_shipping_price_set, currency, 'Shopify total_shipping_price_set') ??
      sum(shippingLines.map((l, k) => minor(isObj(l) ? l.price : undefined, currency, `Shopify shipping line ${k + 1}`)));
    const customer = isObj(order.customer) ? order.customer : null;
    const billing = isObj(order.billing_address) ? order.billing_address : {};
    const email = [order.email, order.contact_email, customer?.email].find((e) => typeof e === 'string' && e.trim() !== '');
    const name = typeof order.name === 'string' && order.name.trim() !== '' ? order.name.trim() : order.order_number !== undefined && order.order_number !== null ? String(order.order_number) : null;
    return {
      currency,
      subtotal: minor(order.subtotal_price, currency, 'Shopify subtotal_price'),
      discount: minorOrZero(order.total_discounts, currency, 'Shopify total_discounts'),
      tax: minorOrZero(order.total_tax, currency, 'Shopify total_tax'),
      shipping,
      total: minor(order.total_price, currency, 'Shopify total_price'),
      paymentStatus: paymentOf(order),
      fulfilmentStatus: fulfilmentOf(order),
      customerRef: customer ? gidFrom(customer, 'Customer') : null,
      contact: contactOf(fullName(customer?.first_name, customer?.last_name) ?? billing.name, email),
      number: name,
      placedAt: iso(order.created_at) ?? iso(order.processed_at) ?? fallbackAt,
      lines: items.map((raw, i) => lineDetail(raw, i, currency)),
    };
  });
}

/**
 * What a refund gave back: the sum of its `refund` transactions that did not fail, in their
 * currency; null when it has none (nothing went back: a restock-only refund); undefined when there
 * is no transactions list or an amount cannot be read.
 */
export function refundMoneyOf(refund: Obj): RefundMoney | null | undefined {
  const txs = refund.transactions;
  if (!Array.isArray(txs)) return undefined;
  return readOrUndefined(() => {
    const back = txs.filter((t): t is Obj => isObj(t) && t.kind === 'refund' && t.status !== 'failure' && t.status !== 'error');
    if (back.length === 0) return null;
    const currency = currencyOf(back[0]!.currency, 'The Shopify refund transaction currency');
    if (back.some((t) => t.currency !== currency)) throw new MoneyUnreadable('Shopify refund transactions in more than one currency');
    return { currency, amount: sum(back.map((t, k) => minor(t.amount, currency, `Shopify refund transaction ${k + 1}`))) };
  });
}
