/**
 * Pure translation of a BigCommerce event, once `expand` fetched what it is about, into facts:
 * - an order (`store/order/created|updated|statusUpdated`): a sale of its lines, whatever event
 *   carries it (the booking keys come from the order and its lines, so it is booked once); a
 *   cancelled order (status 5) a cancellation, restocked when the store's
 *   `refund_order_stock_adjustment` is on; an incomplete (0) or declined (6) order nothing;
 * - `store/order/refund/created`: a refund of the quantities it names (`item_type` PRODUCT with a
 *   quantity), restocked when `refund_order_stock_adjustment` is on; a refund of an amount only
 *   moves no goods;
 * - an inventory event: the level of each of its variants at each location (`total_inventory_onhand`).
 * A line's location is its pickup consignment's location; a shipped line names none (the hub books
 * it where a web order takes its stock).
 */
import { TranslateError, type ChannelFact, type FactLine, type Headers, type OrderDetails, type OrderLineDetail, type PaymentStatus, type FulfilmentStatus } from '../types';
import { contactOf, currencyOf, minor, minorOrZero, readOrUndefined, sum } from '../money';
import { EXPANDED_KEY, ORDER_TOPICS, PRODUCT_INVENTORY_TOPICS, REFUND_TOPIC, SKU_INVENTORY_TOPICS, int, isObj, subjectOf, type Expanded, type Json } from './events';
import type { ItemLevel } from './levels';

export const BIGCOMMERCE_TOPICS = [...ORDER_TOPICS, REFUND_TOPIC, ...PRODUCT_INVENTORY_TOPICS, ...SKU_INVENTORY_TOPICS] as const;

/** BigCommerce's order status ids (GET /v2/order_statuses). */
const STATUS = { incomplete: 0, shipped: 2, partiallyShipped: 3, refunded: 4, cancelled: 5, declined: 6, awaitingPayment: 7, completed: 10, partiallyRefunded: 14 } as const;

function whenOf(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return new Date(v * 1000).toISOString();
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  return null;
}

function expandedOf(body: Json): Expanded {
  const x = body[EXPANDED_KEY];
  return isObj(x) ? (x as Expanded) : {};
}

/** Order product id → the pickup location it is collected at, from the order's consignments. */
function pickupLocations(order: Json): Map<string, string> {
  const out = new Map<string, string>();
  const pickups = isObj(order.consignments) && Array.isArray(order.consignments.pickups) ? order.consignments.pickups : [];
  for (const p of pickups) {
    const loc = isObj(p) && isObj(p.location) ? int(p.location.id) : null;
    if (loc === null || !isObj(p) || !Array.isArray(p.line_items)) continue;
    for (const li of p.line_items) {
      const id = isObj(li) ? (int(li.id) ?? (typeof li.resource === 'string' ? Number(/\/products\/(\d+)$/.exec(li.resource)?.[1] ?? Number.NaN) : null)) : null;
      if (id !== null && Number.isSafeInteger(id)) out.set(String(id), String(loc));
    }
  }
  return out;
}

/** A line of the order's products as a fact line; null for a line that is not a catalog product (a custom product, id 0). */
function lineOf(p: Json, where: Map<string, string>): FactLine | null {
  const id = int(p.id);
  const productId = int(p.product_id);
  const quantity = int(p.quantity);
  if (id === null || quantity === null) throw new TranslateError('A BigCommerce order line has no id or quantity.');
  if (productId === null || productId === 0) return null;
  const variantId = int(p.variant_id);
  const sku = typeof p.sku === 'string' && p.sku.trim() !== '' ? p.sku.trim() : null;
  return { lineId: String(id), sku, ref: { productId: String(productId), ...(variantId !== null && variantId > 0 ? { variantId: String(variantId) } : {}) }, quantity, locationId: where.get(String(id)) ?? null };
}

function paymentOf(order: Json): PaymentStatus {
  const s = typeof order.payment_status === 'string' ? order.payment_status.toLowerCase() : '';
  const byName: Record<string, PaymentStatus> = { captured: 'paid', authorized: 'authorized', refunded: 'refunded', 'partially refunded': 'partially_refunded', void: 'voided', pending: 'pending' };
  if (byName[s]) return byName[s];
  const status = int(order.status_id);
  if (status === STATUS.refunded) return 'refunded';
  if (status === STATUS.partiallyRefunded) return 'partially_refunded';
  if (status === STATUS.awaitingPayment) return 'pending';
  return 'unknown';
}

function fulfilmentOf(status: number | null): FulfilmentStatus {
  if (status === STATUS.shipped || status === STATUS.completed) return 'fulfilled';
  if (status === STATUS.partiallyShipped) return 'partial';
  if (status === STATUS.cancelled) return 'cancelled';
  if (status === STATUS.refunded) return 'returned';
  return status === null ? 'unknown' : 'unfulfilled';
}

/** The order's money and states; undefined when an amount cannot be read (the stock facts stand). */
function detailsOf(order: Json, products: Json[], lines: FactLine[]): OrderDetails | undefined {
  return readOrUndefined(() => {
    const c = currencyOf(order.currency_code);
    const inc = order.is_tax_inclusive_pricing === true;
    const kept = new Set(lines.map((l) => l.lineId));
    const detail: OrderLineDetail[] = products
      .filter((p) => kept.has(String(p.id)))
      .map((p) => {
        const discount = sum((Array.isArray(p.applied_discounts) ? p.applied_discounts.filter(isObj) : []).map((d) => minorOrZero(d.amount, c, 'A line discount')));
        return {
          lineId: String(p.id),
          sku: typeof p.sku === 'string' && p.sku !== '' ? p.sku : null,
          title: typeof p.name === 'string' ? p.name : null,
          quantity: int(p.quantity) ?? 0,
          unitPrice: minor(p.base_price, c, 'A unit price'),
          discount,
          tax: minorOrZero(p.total_tax, c, 'A line tax'),
          total: minor(inc ? p.total_inc_tax : p.total_ex_tax, c, 'A line total') - discount,
        };
      });
    // BigCommerce's subtotal is before discounts (total = subtotal − discounts + shipping + tax); the hub's is after them.
    const discount = minorOrZero(order.discount_amount, c, 'The discount') + minorOrZero(order.coupon_discount, c, 'The coupon discount');
    return {
      currency: c,
      subtotal: minor(inc ? order.subtotal_inc_tax : order.subtotal_ex_tax, c, 'The subtotal') - discount,
      discount,
      tax: minorOrZero(order.total_tax, c, 'The tax'),
      shipping: minorOrZero(inc ? order.shipping_cost_inc_tax : order.shipping_cost_ex_tax, c, 'The shipping'),
      total: minor(order.total_inc_tax, c, 'The total'),
      paymentStatus: paymentOf(order),
      fulfilmentStatus: fulfilmentOf(int(order.status_id)),
      customerRef: int(order.customer_id) ? String(order.customer_id) : null,
      contact: isObj(order.billing_address) ? contactOf([order.billing_address.first_name, order.billing_address.last_name].filter((s) => typeof s === 'string' && s !== '').join(' ') || null, order.billing_address.email) : null,
      number: null,
      placedAt: whenOf(order.date_created) ?? new Date(0).toISOString(),
      lines: detail,
    };
  });
}

function orderFacts(x: Expanded, occurredAt: string): ChannelFact[] {
  const order = x.order;
  if (!order || !Array.isArray(x.products)) throw new TranslateError('This BigCommerce order event carries only the order id and its order was not fetched: it cannot be read as it stands.');
  const orderId = int(order.id);
  const status = int(order.status_id);
  if (orderId === null || status === null) throw new TranslateError('The BigCommerce order has no id or status_id.');
  if (status === STATUS.incomplete || status === STATUS.declined) return [];
  const where = pickupLocations(order);
  const lines = x.products.filter(isObj).flatMap((p) => lineOf(p, where) ?? []);
  const details = detailsOf(order, x.products, lines);
  const at = whenOf(order.date_created) ?? occurredAt;
  if (status === STATUS.cancelled) {
    if (typeof x.restocks !== 'boolean') throw new TranslateError('The cancelled BigCommerce order came without the store’s inventory settings, so it cannot tell whether the goods went back in stock.');
    return [{ type: 'cancellation', orderId: String(orderId), occurredAt: whenOf(order.date_modified) ?? occurredAt, lines: lines.map((l) => ({ ...l, restock: x.restocks! })), ...(details ? { order: details } : {}) }];
  }
  return [{ type: 'sale', orderId: String(orderId), occurredAt: at, lines, ...(details ? { order: details } : {}) }];
}

function refundFacts(x: Expanded, orderId: number, occurredAt: string): ChannelFact[] {
  const refund = x.refund;
  if (!refund || !Array.isArray(x.products) || typeof x.restocks !== 'boolean') throw new TranslateError('This BigCommerce refund event carries only the refund id and the refund was not fetched: it cannot be read as it stands.');
  const refundId = int(refund.id);
  if (refundId === null || !Array.isArray(refund.items)) throw new TranslateError('The BigCommerce refund has no id or items.');
  const byId = new Map(x.products.filter(isObj).map((p) => [String(p.id), p]));
  const where = x.order ? pickupLocations(x.order) : new Map<string, string>();
  const lines: (FactLine & { restock: boolean })[] = [];
  for (const item of refund.items.filter(isObj)) {
    const quantity = int(item.quantity);
    if (item.item_type !== 'PRODUCT' || quantity === null || quantity <= 0) continue;
    const product = byId.get(String(item.item_id));
    if (!product) throw new TranslateError(`The BigCommerce refund ${refundId} names order line ${String(item.item_id)}, which order ${orderId} does not have.`);
    const line = lineOf(product, where);
    if (line) lines.push({ ...line, quantity, restock: x.restocks });
  }
  return [{ type: 'refund', refundId: String(refundId), orderId: String(orderId), occurredAt: whenOf(refund.created) ?? occurredAt, lines }];
}

function levelFacts(levels: ItemLevel[], variantId: number | null, occurredAt: string): ChannelFact[] {
  return levels
    .filter((l) => variantId === null || l.variantId === variantId)
    .map((l) => ({ type: 'level_observed' as const, sku: l.sku, ref: { productId: String(l.productId), variantId: String(l.variantId) }, locationId: String(l.locationId), available: l.onHand, occurredAt }));
}

export function translate(topic: string, body: unknown, _headers: Headers): ChannelFact[] {
  if (!(BIGCOMMERCE_TOPICS as readonly string[]).includes(topic)) return [];
  const subject = subjectOf(topic, body);
  if (!subject || !isObj(body)) throw new TranslateError(`This BigCommerce ${topic} event does not name what it is about in the way BigCommerce documents it (scope and data).`);
  const x = expandedOf(body);
  const occurredAt = whenOf(body.created_at) ?? new Date(0).toISOString();
  if (subject.kind === 'order') return orderFacts(x, occurredAt);
  if (subject.kind === 'refund') return refundFacts(x, subject.orderId, occurredAt);
  if (!Array.isArray(x.levels)) throw new TranslateError(`This BigCommerce ${topic} event names the product but not its levels per location, and they were not fetched: it cannot be read as it stands.`);
  const data = body.data as Json;
  const variantId = (SKU_INVENTORY_TOPICS as readonly string[]).includes(topic) && isObj(data.inventory) ? int(data.inventory.variant_id) : null;
  return levelFacts(x.levels, variantId, occurredAt);
}
