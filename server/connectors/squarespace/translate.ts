/**
 * What a verified Squarespace event says, in the hub's facts. Squarespace's order notifications are
 * thin (`data.orderId`, and for `order.update` what changed: FULFILLED, REFUNDED, CANCELED,
 * MARKED_PENDING, EMAIL_UPDATED); `expand` (index.ts) fetches the order and hands `translate` the
 * notification with the Order beside it (`order`). The orders feed hands the same shape.
 *
 * From an Order:
 * - every order that is not canceled is a `sale` of its line items (booking key from the order id and
 *   the line item id, so a sale seen again by another notification or a poll is booked once), with
 *   the order's money and states;
 * - a CANCELED order is its sale (the stock left when it was placed) and a `cancellation` whose lines
 *   are not restocked: the Orders API does not say whether "Restock inventory" was ticked; if it was,
 *   the inventory feed sees the level come back, and the hub attributes that rise to the channel;
 * - a refund (`refundedTotal` > 0) is carried in the order's payment status: the Orders API gives the
 *   amount refunded so far, not which lines or whether goods went back (Squarespace's "Issue refund"
 *   never restocks), so nothing is booked for it.
 * The inventory feed's items become `level_observed` at the pseudo location `default`.
 */
import { TranslateError, type ChannelFact, type FactLine, type FulfilmentStatus, type OrderDetails, type PaymentStatus } from '../types';
import { contactOf, currencyOf, fullName, minor, minorOrZero, readOrUndefined, sum, withOrder } from '../money';

/** Squarespace keeps one stock level per variant: the hub's one pseudo location. */
export const SQUARESPACE_LOCATION = 'default';
/** The webhook topics the connector subscribes to (Webhook Subscriptions API). */
export const SQUARESPACE_TOPICS = ['order.create', 'order.update'] as const;
/** The topic of the inventory feed's events (not a Squarespace topic: Squarespace has no inventory webhook). */
export const INVENTORY_TOPIC = 'inventory.polled';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** The order a notification was expanded with, or that the orders feed read. */
export function orderOf(body: unknown): Obj | null {
  return isObj(body) && isObj(body.order) ? body.order : null;
}

function linesOf(order: Obj, orderId: string): FactLine[] {
  if (!Array.isArray(order.lineItems)) throw new TranslateError(`Squarespace order ${orderId} has no lineItems list.`);
  const out: FactLine[] = [];
  order.lineItems.forEach((li: unknown, i) => {
    if (!isObj(li)) throw new TranslateError(`Line ${i + 1} of Squarespace order ${orderId} is not a line item.`);
    const lineId = text(li.id);
    const q = li.quantity;
    if (!lineId) throw new TranslateError(`Line ${i + 1} of Squarespace order ${orderId} has no id.`);
    if (typeof q !== 'number' || !Number.isInteger(q) || q < 0) throw new TranslateError(`Line ${lineId} of Squarespace order ${orderId} has no whole quantity.`);
    const variantId = text(li.variantId);
    const productId = text(li.productId);
    const sku = text(li.sku);
    // A line with neither a variant nor a SKU (a donation-like custom line) holds no stock.
    if (!variantId && !sku) return;
    out.push({ lineId, sku, ref: { ...(productId ? { productId } : {}), ...(variantId ? { variantId } : {}) }, quantity: q, locationId: null });
  });
  return out;
}

function statuses(order: Obj, currency: string, total: number): { payment: PaymentStatus; fulfilment: FulfilmentStatus } {
  const refunded = minorOrZero(isObj(order.refundedTotal) ? order.refundedTotal.value : null, currency, 'refundedTotal');
  const payment: PaymentStatus = refunded <= 0 ? 'paid' : refunded >= total ? 'refunded' : 'partially_refunded';
  const f = order.fulfillmentStatus;
  const fulfilment: FulfilmentStatus = f === 'PENDING' ? 'unfulfilled' : f === 'FULFILLED' ? 'fulfilled' : f === 'CANCELED' ? 'cancelled' : 'unknown';
  return { payment, fulfilment };
}

const money = (m: unknown, currency: string, what: string) => minorOrZero(isObj(m) ? m.value : null, currency, what);

/** The order's money and states; undefined when any of it cannot be read (the stock facts stay). */
export function orderDetails(order: Obj): OrderDetails | undefined {
  return readOrUndefined(() => {
    const grand = isObj(order.grandTotal) ? order.grandTotal : null;
    const currency = currencyOf(grand?.currency);
    const total = minor(grand?.value, currency, 'grandTotal');
    const { payment, fulfilment } = statuses(order, currency, total);
    const lines = (Array.isArray(order.lineItems) ? order.lineItems : []).filter(isObj).map((li) => {
      const quantity = typeof li.quantity === 'number' ? li.quantity : 0;
      const unit = isObj(li.unitPricePaid) ? minor(li.unitPricePaid.value, currency, 'unitPricePaid') : null;
      const lineTotal = unit === null ? 0 : unit * quantity;
      const title = text(li.productName);
      return { lineId: text(li.id) ?? '', sku: text(li.sku), title, quantity, unitPrice: unit, discount: 0, tax: 0, total: lineTotal };
    });
    const billing = isObj(order.billingAddress) ? order.billingAddress : {};
    return {
      currency,
      subtotal: money(order.subtotal, currency, 'subtotal') || sum(lines.map((l) => l.total)),
      discount: money(order.discountTotal, currency, 'discountTotal'),
      tax: money(order.taxTotal, currency, 'taxTotal'),
      shipping: money(order.shippingTotal, currency, 'shippingTotal'),
      total,
      paymentStatus: payment,
      fulfilmentStatus: fulfilment,
      customerRef: text(order.customerId),
      contact: contactOf(fullName(billing.firstName, billing.lastName), order.customerEmail),
      number: order.orderNumber === undefined || order.orderNumber === null ? null : `#${String(order.orderNumber)}`,
      placedAt: text(order.createdOn) ?? '',
      lines,
    };
  });
}

function orderFacts(order: Obj): ChannelFact[] {
  const orderId = text(order.id);
  if (!orderId) throw new TranslateError('The Squarespace order has no id.');
  const occurredAt = text(order.modifiedOn) ?? text(order.createdOn);
  if (!occurredAt || Number.isNaN(Date.parse(occurredAt))) throw new TranslateError(`Squarespace order ${orderId} has no modifiedOn date.`);
  const lines = linesOf(order, orderId);
  const details = orderDetails(order);
  const placedAt = text(order.createdOn) ?? occurredAt;
  const facts: ChannelFact[] = [withOrder({ type: 'sale' as const, orderId, occurredAt: placedAt, lines }, details)];
  if (order.fulfillmentStatus === 'CANCELED') {
    facts.push(withOrder({ type: 'cancellation' as const, orderId, occurredAt, lines: lines.map((l) => ({ ...l, restock: false })) }, details));
  }
  return facts;
}

function inventoryFacts(body: unknown): ChannelFact[] {
  if (!isObj(body) || !isObj(body.item)) throw new TranslateError('The Squarespace inventory event carries no inventory item.');
  const item = body.item;
  const variantId = text(item.variantId);
  const q = item.quantity;
  if (!variantId || typeof q !== 'number' || !Number.isInteger(q)) throw new TranslateError('The Squarespace inventory item has no variantId or no whole quantity.');
  const occurredAt = text(body.observedAt) ?? new Date(0).toISOString();
  return [{ type: 'level_observed', sku: text(item.sku), ref: { variantId }, locationId: SQUARESPACE_LOCATION, available: q, occurredAt }];
}

export function translate(topic: string, body: unknown): ChannelFact[] {
  if (topic === INVENTORY_TOPIC) return inventoryFacts(body);
  if (topic !== 'order.create' && topic !== 'order.update') return [];
  const order = orderOf(body);
  if (!order) {
    throw new TranslateError(`A Squarespace ${topic} notification names its order only (data.orderId); the order must be fetched before it can be read.`);
  }
  return orderFacts(order);
}
