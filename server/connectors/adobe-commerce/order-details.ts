/**
 * An Adobe Commerce order's money and states for the transaction log (`OrderDetails`, the shared
 * meaning in ../money.ts), from the REST order (`sales-data-order-interface`): amounts are decimal
 * numbers in `order_currency_code`, turned into minor units. Magento keeps discounts negative
 * (`discount_amount` −10.00) and line `row_total` before discount and tax.
 * - order: subtotal = `subtotal` less the discount, discount = −`discount_amount`, tax = `tax_amount`,
 *   shipping = `shipping_amount`, total = `grand_total`;
 * - lines (the stock lines of the sale): unitPrice = `price`, discount = −`discount_amount`,
 *   tax = `tax_amount`, total = `row_total` less the discount;
 * - paymentStatus: refunded in full → refunded; some refunded → partially_refunded; `canceled` →
 *   voided; paid (`total_paid` ≥ `grand_total`) → paid; new, pending_payment, payment_review →
 *   pending; else unknown;
 * - fulfilmentStatus: canceled → cancelled; complete, or every unit shipped → fulfilled; some →
 *   partial; none → unfulfilled;
 * - customerRef = `customer_id` (none for a guest); contact = the customer's name and email;
 *   number = `increment_id`.
 * Anything unreadable leaves the details out; the stock facts stay as they are.
 */
import { contactOf, currencyOf, fullName, minor, minorOrZero, readOrUndefined, sum } from '../money';
import type { FulfilmentStatus, OrderDetails, OrderLineDetail, PaymentStatus } from '../types';

type Obj = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

function paymentOf(o: Obj, currency: string): PaymentStatus {
  const total = minorOrZero(o.grand_total, currency, 'grand_total');
  const refunded = minorOrZero(o.total_refunded, currency, 'total_refunded');
  if (refunded > 0) return refunded >= total ? 'refunded' : 'partially_refunded';
  if (o.state === 'canceled') return 'voided';
  if (minorOrZero(o.total_paid, currency, 'total_paid') >= total && total > 0) return 'paid';
  if (o.state === 'new' || o.state === 'pending_payment' || o.state === 'payment_review') return 'pending';
  return 'unknown';
}

function fulfilmentOf(o: Obj, items: Obj[]): FulfilmentStatus {
  if (o.state === 'canceled') return 'cancelled';
  if (o.state === 'complete') return 'fulfilled';
  const due = items.reduce((s, i) => s + Math.max(0, num(i.qty_ordered) - num(i.qty_canceled)), 0);
  const shipped = items.reduce((s, i) => s + num(i.qty_shipped), 0);
  return shipped <= 0 ? 'unfulfilled' : shipped >= due ? 'fulfilled' : 'partial';
}

/** The details of `order` for its stock lines (`lineIds`), or undefined when they cannot be read. */
export function orderDetails(order: Obj, lineIds: readonly string[], placedAt: string): OrderDetails | undefined {
  return readOrUndefined(() => {
    const currency = currencyOf(order.order_currency_code);
    const items = (Array.isArray(order.items) ? order.items : []).filter((i): i is Obj => typeof i === 'object' && i !== null);
    const lines: OrderLineDetail[] = items
      .filter((i) => lineIds.includes(String(i.item_id)))
      .map((i) => {
        const discount = Math.abs(minorOrZero(i.discount_amount, currency, 'a line discount'));
        return {
          lineId: String(i.item_id),
          sku: typeof i.sku === 'string' ? i.sku : null,
          title: typeof i.name === 'string' ? i.name : null,
          quantity: num(i.qty_ordered),
          unitPrice: i.price === undefined || i.price === null ? null : minor(i.price, currency, 'a line price'),
          discount,
          tax: minorOrZero(i.tax_amount, currency, 'a line tax'),
          total: minorOrZero(i.row_total, currency, 'a line total') - discount,
        };
      });
    const discount = Math.abs(minorOrZero(order.discount_amount, currency, 'the discount'));
    const customer = order.customer_is_guest === 1 || order.customer_id === undefined || order.customer_id === null ? null : String(order.customer_id);
    return {
      currency,
      subtotal: minor(order.subtotal, currency, 'the subtotal') - discount,
      discount,
      tax: minorOrZero(order.tax_amount, currency, 'the tax'),
      shipping: minorOrZero(order.shipping_amount, currency, 'the shipping'),
      total: sum([minor(order.grand_total, currency, 'the total')]),
      paymentStatus: paymentOf(order, currency),
      fulfilmentStatus: fulfilmentOf(order, items),
      customerRef: customer,
      contact: contactOf(fullName(order.customer_firstname, order.customer_lastname), order.customer_email),
      number: typeof order.increment_id === 'string' && order.increment_id !== '' ? order.increment_id : null,
      placedAt,
      lines,
    };
  });
}
