/**
 * Pure mapping of verified Wix events to domain facts. The body is what `expand` made of the
 * delivery: `{eventType, instanceId, event}` (the JWT envelope with its JSON strings parsed; a raw
 * token is decoded the same way), plus, for a refund, the order under `stockrelay_order`. What an
 * event means is read from the signed `eventType` inside it, never from the topic it was stored
 * under.
 *
 * Orders are Wix eCommerce orders (the same on catalog V1 and V3 sites):
 * - `wix.ecom.v1.order_created` (`createdEvent.entity`, only once its `status` is APPROVED) and
 *   `wix.ecom.v1.order_approved` (`actionEvent.body.order`): a `sale` of every line, keyed by the
 *   order id and the line id, so the two events book it once;
 * - `wix.ecom.v1.order_canceled` (`actionEvent.body.order`, `restockAllItems`): a `cancellation`,
 *   restocking every line when Wix put the items back;
 * - `wix.ecom.v1.order_transactions_refund_completed` (`actionEvent.body`: `orderId`, `refund`
 *   with `details.items[{lineItemId, quantity}]`, `sideEffects.restockInfo`): a `refund`, lines
 *   restocked as `restockInfo` says (`ALL_ITEMS`, `SOME_ITEMS` with its items, `NO_ITEMS`); the
 *   refund names lines only by id, so the order fetched by `expand` gives their SKUs and ids.
 * Inventory (the echo of our pushes, of sales and of edits in the dashboard):
 * - catalog V1 `com.wix.ecommerce.inventory.api.v1.InventoryVariantsChanged`: a level per variant
 *   whose `newValue.quantity` is given, at the pseudo location `default`;
 * - catalog V3 `wix.stores.catalog.v3.inventory_item_updated` (`updatedEvent.currentEntity`): the
 *   inventory item's `quantity` at its `locationId`, when it tracks quantity.
 */
import { TranslateError, type ChannelFact, type FactLine, type OrderDetails, type OrderLineDetail, type PaymentStatus, type FulfilmentStatus } from '../types';
import { contactOf, currencyOf, minor, minorOrZero, readOrUndefined, sum, withOrder } from '../money';
import { obj, str, type Obj } from './json';
import { wixBody, type WixBody } from './body';

export const WIX_LOCATION_V1 = 'default';
export const ORDER_CREATED = 'wix.ecom.v1.order_created';
export const ORDER_APPROVED = 'wix.ecom.v1.order_approved';
export const ORDER_CANCELED = 'wix.ecom.v1.order_canceled';
export const REFUND_COMPLETED = 'wix.ecom.v1.order_transactions_refund_completed';
export const V1_INVENTORY_CHANGED = 'com.wix.ecommerce.inventory.api.v1.InventoryVariantsChanged';
export const V3_INVENTORY_UPDATED = 'wix.stores.catalog.v3.inventory_item_updated';
export const WIX_TOPICS = [ORDER_CREATED, ORDER_APPROVED, ORDER_CANCELED, REFUND_COMPLETED, V1_INVENTORY_CHANGED, V3_INVENTORY_UPDATED] as const;
/** Where `expand` puts the order a refund is about. */
export const EXPANDED_ORDER_KEY = 'stockrelay_order';

function count(v: unknown): number | null {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : null;
}
function when(v: unknown): string | null {
  const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** The event of a body: a decoded envelope, or a raw token decoded the same way. */
export function bodyOf(body: unknown): (WixBody & Obj) | null {
  if (typeof body === 'string') return wixBody(Buffer.from(body, 'utf8')) as (WixBody & Obj) | null;
  const b = obj(body);
  if (!b || typeof b.eventType !== 'string' || !obj(b.event)) return null;
  return b as WixBody & Obj;
}

/** The order an order event carries (created or action), or null. */
function orderIn(eventType: string, event: Obj): Obj | null {
  if (eventType === ORDER_CREATED) return obj(obj(event.createdEvent)?.entity);
  return obj(obj(obj(event.actionEvent)?.body)?.order);
}

function lineOf(li: Obj, where: string, locationId: string | null): FactLine {
  const id = str(li.id);
  const quantity = count(li.quantity);
  if (!id || quantity === null) throw new TranslateError(`A line of the Wix ${where} has no id or quantity.`);
  const ref = obj(li.catalogReference);
  const productId = str(ref?.catalogItemId);
  const variantId = str(obj(ref?.options)?.variantId);
  return {
    lineId: id,
    sku: str(obj(li.physicalProperties)?.sku),
    ref: { ...(productId ? { productId } : {}), ...(variantId ? { variantId } : {}) },
    quantity,
    locationId,
  };
}

function linesOf(order: Obj, where: string, locationId: string | null): FactLine[] {
  const items = order.lineItems;
  if (!Array.isArray(items)) throw new TranslateError(`The Wix ${where} has no lineItems.`);
  return items.map((li) => {
    const o = obj(li);
    if (!o) throw new TranslateError(`A line of the Wix ${where} is not an object.`);
    return lineOf(o, where, locationId);
  });
}

const PAYMENT: Record<string, PaymentStatus> = {
  PAID: 'paid',
  NOT_PAID: 'pending',
  PENDING: 'pending',
  PARTIALLY_PAID: 'partially_paid',
  PARTIALLY_REFUNDED: 'partially_refunded',
  FULLY_REFUNDED: 'refunded',
  CANCELED: 'voided',
  DECLINED: 'voided',
  PENDING_MERCHANT: 'pending',
  AUTHORIZED: 'authorized',
};
const FULFILMENT: Record<string, FulfilmentStatus> = { NOT_FULFILLED: 'unfulfilled', FULFILLED: 'fulfilled', PARTIALLY_FULFILLED: 'partial' };

const amount = (v: unknown): unknown => obj(v)?.amount;

/** The order's money and states (OrderDetails), or undefined when any of it cannot be read. */
function detailsOf(order: Obj): OrderDetails | undefined {
  return readOrUndefined(() => {
    const currency = currencyOf(order.currency);
    const ps = obj(order.priceSummary) ?? {};
    const lines: OrderLineDetail[] = (order.lineItems as unknown[]).map((raw) => {
      const li = obj(raw)!;
      const quantity = count(li.quantity) ?? 0;
      const total = minor(amount(li.totalPriceAfterTax), currency, 'A line total');
      return {
        lineId: String(li.id),
        sku: str(obj(li.physicalProperties)?.sku),
        title: str(obj(li.productName)?.original),
        quantity,
        unitPrice: minor(amount(li.price), currency, 'A unit price'),
        discount: minorOrZero(amount(li.totalDiscount), currency, 'A line discount'),
        tax: minorOrZero(amount(obj(li.taxDetails)?.totalTax), currency, 'A line tax'),
        total,
      };
    });
    sum(lines.map((l) => l.total));
    const cancelled = order.status === 'CANCELED';
    const buyer = obj(order.buyerInfo);
    const contact = obj(obj(order.billingInfo)?.contactDetails);
    return {
      currency,
      subtotal: minor(amount(ps.subtotal), currency, 'The subtotal') - minorOrZero(amount(ps.discount), currency, 'The discount'),
      discount: minorOrZero(amount(ps.discount), currency, 'The discount'),
      tax: minorOrZero(amount(ps.tax), currency, 'The tax'),
      shipping: minorOrZero(amount(ps.shipping), currency, 'The shipping'),
      total: minor(amount(ps.total), currency, 'The total'),
      paymentStatus: PAYMENT[String(order.paymentStatus)] ?? 'unknown',
      fulfilmentStatus: cancelled ? 'cancelled' : (FULFILMENT[String(order.fulfillmentStatus)] ?? 'unknown'),
      customerRef: str(buyer?.contactId),
      contact: contactOf([str(contact?.firstName), str(contact?.lastName)].filter(Boolean).join(' '), buyer?.email),
      number: str(order.number),
      placedAt: when(order.createdDate) ?? new Date(0).toISOString(),
      lines,
    };
  });
}

function orderFacts(eventType: string, event: Obj, at: string, loc: string | null): ChannelFact[] {
  const order = orderIn(eventType, event);
  if (!order) throw new TranslateError(`The Wix ${eventType} event carries no order.`);
  const orderId = str(order.id);
  if (!orderId) throw new TranslateError(`The order of the Wix ${eventType} event has no id.`);
  const placed = when(order.createdDate) ?? at;
  if (eventType === ORDER_CANCELED) {
    const restock = obj(obj(event.actionEvent)?.body)?.restockAllItems === true;
    const lines = linesOf(order, 'canceled order', loc).map((l) => ({ ...l, restock }));
    return [withOrder({ type: 'cancellation' as const, orderId, occurredAt: at, lines }, detailsOf(order))];
  }
  // An order waiting for approval (INITIALIZED) has not taken stock yet; its order_approved will.
  if (order.status !== 'APPROVED') return [];
  return [withOrder({ type: 'sale' as const, orderId, occurredAt: placed, lines: linesOf(order, 'order', loc) }, detailsOf(order))];
}

function refundFacts(body: Obj, event: Obj, at: string, loc: string | null): ChannelFact[] {
  const action = obj(obj(event.actionEvent)?.body);
  const refund = obj(action?.refund);
  const orderId = str(action?.orderId);
  const refundId = str(refund?.id);
  if (!action || !refund || !orderId || !refundId) throw new TranslateError('The Wix refund event names no order or refund.');
  const order = obj(body[EXPANDED_ORDER_KEY]);
  if (!order || str(order.id) !== orderId) throw new TranslateError(`The Wix refund ${refundId} names its lines by id only, and order ${orderId} was not fetched.`);
  const byId = new Map(linesOf(order, 'order', loc).map((l) => [l.lineId, l]));
  const restockInfo = obj(obj(action.sideEffects)?.restockInfo);
  const restockType = str(restockInfo?.type) ?? 'NO_ITEMS';
  const restocked = new Map<string, number>();
  for (const raw of Array.isArray(restockInfo?.items) ? restockInfo.items : []) {
    const it = obj(raw);
    const id = str(it?.lineItemId);
    if (id) restocked.set(id, count(it?.quantity) ?? 0);
  }
  const items = Array.isArray(obj(refund.details)?.items) ? (obj(refund.details)!.items as unknown[]) : [];
  const lines = items.flatMap((raw) => {
    const it = obj(raw);
    const id = str(it?.lineItemId);
    const quantity = count(it?.quantity);
    const line = id ? byId.get(id) : undefined;
    if (!line || quantity === null || quantity === 0) throw new TranslateError(`The Wix refund ${refundId} names a line its order does not have.`);
    const back = restockType === 'ALL_ITEMS' ? quantity : restockType === 'SOME_ITEMS' ? Math.min(quantity, restocked.get(line.lineId) ?? 0) : 0;
    const out: (FactLine & { restock: boolean })[] = [];
    if (back > 0) out.push({ ...line, quantity: back, restock: true });
    if (quantity - back > 0) out.push({ ...line, lineId: `${line.lineId}:kept`, quantity: quantity - back, restock: false });
    return out;
  });
  const money = readOrUndefined(() => {
    const currency = currencyOf(order.currency);
    return { currency, amount: minor(amount(obj(refund.summary)?.refunded), currency, 'The refunded amount') };
  });
  return [{ type: 'refund', refundId, orderId, occurredAt: when(refund.createdDate) ?? at, lines, ...(money ? { money } : {}) }];
}

function levelFacts(eventType: string, event: Obj, at: string): ChannelFact[] {
  if (eventType === V1_INVENTORY_CHANGED) {
    const productId = str(event.productId);
    const variants = Array.isArray(event.variants) ? event.variants : [];
    return variants.flatMap((raw) => {
      const v = obj(raw);
      const q = count(obj(v?.newValue)?.quantity);
      const variantId = str(v?.id);
      if (!variantId || q === null) return [];
      return [{ type: 'level_observed' as const, sku: null, ref: { ...(productId ? { productId } : {}), variantId }, locationId: WIX_LOCATION_V1, available: q, occurredAt: at }];
    });
  }
  const item = obj(obj(event.updatedEvent)?.currentEntity);
  if (!item) throw new TranslateError('The Wix inventory item event carries no inventory item.');
  const q = count(item.quantity);
  const variantId = str(item.variantId);
  const productId = str(item.productId);
  if (item.trackQuantity !== true || q === null || !variantId) return [];
  const sku = str(obj(item.product)?.variantSku);
  return [{ type: 'level_observed', sku, ref: { ...(productId ? { productId } : {}), variantId }, locationId: str(item.locationId), available: q, occurredAt: at }];
}

/** The entity and action each standard event names inside itself (`entityFqdn`, `slug`). */
const NAMED: Record<string, [string, string]> = {
  [ORDER_CREATED]: ['wix.ecom.v1.order', 'created'],
  [ORDER_APPROVED]: ['wix.ecom.v1.order', 'approved'],
  [ORDER_CANCELED]: ['wix.ecom.v1.order', 'canceled'],
  [REFUND_COMPLETED]: ['wix.ecom.v1.order_transactions', 'refund_completed'],
  [V3_INVENTORY_UPDATED]: ['wix.stores.catalog.v3.inventory_item', 'updated'],
};

/**
 * The facts in one verified Wix event; a body it cannot read is a TranslateError, never nothing.
 * `defaultLocationId`: the Wix location storefront orders take stock from (catalog V3: the site's
 * default location); order lines name no location of their own, so they are booked there.
 */
export function translateWith(defaultLocationId: string | null, raw: unknown): ChannelFact[] {
  const body = bodyOf(raw);
  if (!body) throw new TranslateError('The Wix event cannot be read: it is neither a Wix token nor its decoded envelope.');
  const event = body.event as Obj;
  const at = when(event.eventTime ?? event.updatedDate) ?? new Date(0).toISOString();
  // A standard event names its entity and action itself: an eventType that disagrees is not Wix's.
  const named = NAMED[body.eventType];
  if (named && (event.entityFqdn !== named[0] || event.slug !== named[1])) {
    throw new TranslateError(`The Wix event says it is ${body.eventType}, but its entityFqdn and slug (${String(event.entityFqdn)}, ${String(event.slug)}) say otherwise.`);
  }
  switch (body.eventType) {
    case ORDER_CREATED:
    case ORDER_APPROVED:
    case ORDER_CANCELED:
      return orderFacts(body.eventType, event, at, defaultLocationId);
    case REFUND_COMPLETED:
      return refundFacts(body, event, at, defaultLocationId);
    case V1_INVENTORY_CHANGED:
    case V3_INVENTORY_UPDATED:
      return levelFacts(body.eventType, event, at);
    default:
      return [];
  }
}

/** Translation with no default location: order lines name none (a V1 site, or a channel that maps one location). */
export function translate(_topic: string, raw: unknown): ChannelFact[] {
  return translateWith(null, raw);
}
