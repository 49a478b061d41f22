/**
 * Pure mapping of what the polled feeds find to domain facts. B2C Commerce sends no webhooks; the
 * topics are this connector's names for the two things it reads:
 * - `order.modified`: an order exactly as the admin Orders API answers it (`Order`,
 *   orders-oas-v1-public.yaml), found by the `orders` feed;
 * - `availability.changed`: `{record, readAt}`, one Omnichannel Inventory delta record and when the
 *   `levels` feed read it.
 *
 * Orders. The product id is the SKU (the spec: "ProductId: the id (SKU) of the product"); a line's
 * id is its `itemId`. A line's `inventoryId` is the inventory list it takes stock from: with OCI,
 * an OCI location's id when the order said where (a store pickup), else the site's location group.
 * A line whose inventoryId is one of the channel's mapped locations is booked there; any other
 * (the group, or none) names no location, and the hub books it where the platform would take the
 * stock from (server/channels/registry.ts, resolveLines).
 * - status `new`, `completed` → a `sale` of every product line (B2C Commerce reserves stock when
 *   the order is created, and `new` is a placed order);
 * - status `cancelled` → the same `sale` and a `cancellation` that restocks every line: cancelling
 *   releases the order's reservation. The pair nets to zero whatever was booked before (an order
 *   found first when already cancelled books nothing in the end), and the same body read again
 *   gives the same keys;
 * - `created` (not placed yet) and `failed` (never placed; its reservation released) → nothing.
 * Returns and refunds: the Orders API shows none (a return is handled in the merchant's order
 * management; `oms-status-events` only takes them in). A return that puts goods back raises OCI's
 * on-hand, which the `levels` feed reports as a level; no refund is booked from an order.
 * A line whose quantity is not a whole number, or that has no itemId, makes the order unreadable
 * (TranslateError): nothing of it is booked rather than a wrong quantity.
 *
 * Money (the transaction log), amounts as decimal numbers in the order's currency, to minor units:
 * subtotal = Σ line `priceAfterOrderDiscount`, discount = Σ (`netPrice` − `priceAfterOrderDiscount`; `grossPrice`
 * when the order's `taxation` is gross, as its prices then include tax),
 * tax = `taxTotal`, shipping = `shippingTotal`, total = `orderTotal`; line unitPrice = `basePrice`,
 * tax = `adjustedTax` (else `tax`), total = `priceAfterOrderDiscount`. paymentStatus paid → paid,
 * part_paid → partially_paid, not_paid → pending (voided once cancelled); shippingStatus shipped →
 * fulfilled, part_shipped → partial, not_shipped → unfulfilled; cancelled → cancelled.
 */
import { contactOf, currencyOf, minor, minorOrZero, readOrUndefined, sum, withOrder } from '../money';
import { TranslateError, type ChannelFact, type FactLine, type FulfilmentStatus, type OrderDetails, type PaymentStatus } from '../types';
import { basisOf, readOciRecord, skuOf } from './oci-records';

export const ORDER_TOPIC = 'order.modified';
export const LEVEL_TOPIC = 'availability.changed';

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function date(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

interface Line {
  raw: Json;
  fact: FactLine;
}

function linesOf(order: Json, what: string, locations: ReadonlySet<string>): Line[] {
  if (!Array.isArray(order.productItems)) throw new TranslateError(`${what} has no productItems list.`);
  return order.productItems.map((raw: unknown, i) => {
    if (!isObj(raw)) throw new TranslateError(`${what}: product item ${i + 1} is not an object.`);
    const itemId = raw.itemId;
    if (typeof itemId !== 'string' || itemId === '') throw new TranslateError(`${what}: product item ${i + 1} has no itemId, so it could not be booked exactly once.`);
    const productId = typeof raw.productId === 'string' && raw.productId.trim() !== '' ? raw.productId.trim() : null;
    const q = raw.quantity;
    if (typeof q !== 'number' || !Number.isInteger(q) || q < 0) throw new TranslateError(`${what}: product item ${itemId} has no whole, non-negative quantity (${JSON.stringify(q)}).`);
    const locationId = typeof raw.inventoryId === 'string' && locations.has(raw.inventoryId) ? raw.inventoryId : null;
    return { raw, fact: { lineId: itemId, sku: productId, ref: productId ? { productId, variantId: productId } : {}, quantity: q, locationId } };
  });
}

function paymentOf(order: Json, cancelled: boolean): PaymentStatus {
  if (order.paymentStatus === 'paid') return 'paid';
  if (order.paymentStatus === 'part_paid') return 'partially_paid';
  if (order.paymentStatus === 'not_paid') return cancelled ? 'voided' : 'pending';
  return 'unknown';
}

function fulfilmentOf(order: Json, cancelled: boolean): FulfilmentStatus {
  if (cancelled) return 'cancelled';
  if (order.shippingStatus === 'shipped') return 'fulfilled';
  if (order.shippingStatus === 'part_shipped') return 'partial';
  if (order.shippingStatus === 'not_shipped') return 'unfulfilled';
  return 'unknown';
}

export function orderDetailsOf(order: Json, lines: Line[], cancelled: boolean, placedAt: string): OrderDetails | undefined {
  return readOrUndefined(() => {
    const currency = currencyOf(order.currency, 'The B2C Commerce order currency');
    const details = lines.map(({ raw, fact }, i) => {
      const what = `B2C Commerce order line ${i + 1}`;
      // Prices follow the site's taxation: without tax when it is net, with tax when gross.
      const before = order.taxation === 'gross' ? raw.grossPrice : raw.netPrice;
      const price = minor(before, currency, `${what}: ${order.taxation === 'gross' ? 'grossPrice' : 'netPrice'}`);
      const total = minor(raw.priceAfterOrderDiscount ?? raw.priceAfterItemDiscount ?? before, currency, `${what}: priceAfterOrderDiscount`);
      return {
        lineId: fact.lineId,
        sku: fact.sku,
        title: typeof raw.productName === 'string' && raw.productName !== '' ? raw.productName : null,
        quantity: fact.quantity,
        unitPrice: raw.basePrice === undefined ? null : minor(raw.basePrice, currency, `${what}: basePrice`),
        discount: price - total,
        tax: minorOrZero(raw.adjustedTax ?? raw.tax, currency, `${what}: tax`),
        total,
      };
    });
    const info = isObj(order.customerInfo) ? order.customerInfo : {};
    return {
      currency,
      subtotal: sum(details.map((d) => d.total)),
      discount: sum(details.map((d) => d.discount)),
      tax: minorOrZero(order.taxTotal, currency, 'B2C Commerce taxTotal'),
      shipping: minorOrZero(order.shippingTotal, currency, 'B2C Commerce shippingTotal'),
      total: minor(order.orderTotal, currency, 'B2C Commerce orderTotal'),
      paymentStatus: paymentOf(order, cancelled),
      fulfilmentStatus: fulfilmentOf(order, cancelled),
      customerRef: typeof info.customerNo === 'string' && info.customerNo !== '' ? info.customerNo : null,
      contact: contactOf(info.customerName, info.email),
      number: null,
      placedAt,
      lines: details,
    };
  });
}

export function orderFacts(order: unknown, locations: ReadonlySet<string> = new Set()): ChannelFact[] {
  if (!isObj(order)) throw new TranslateError('The B2C Commerce order is not a JSON object.');
  const orderId = typeof order.orderNo === 'string' && order.orderNo.trim() !== '' ? order.orderNo.trim() : null;
  if (!orderId) throw new TranslateError('The B2C Commerce order has no orderNo.');
  const what = `B2C Commerce order ${orderId}`;
  const status = order.status;
  if (typeof status !== 'string') throw new TranslateError(`${what} has no status.`);
  if (status === 'created' || status === 'failed') return [];
  if (status !== 'new' && status !== 'completed' && status !== 'cancelled') throw new TranslateError(`${what} has the status "${status.slice(0, 40)}", which this connector does not know.`);
  const created = date(order.creationDate);
  const modified = date(order.lastModified) ?? created;
  if (!created || !modified) throw new TranslateError(`${what} says neither when it was created nor when it was modified (creationDate, lastModified).`);
  const lines = linesOf(order, what, locations);
  const cancelled = status === 'cancelled';
  const details = orderDetailsOf(order, lines, cancelled, date(order.placeDate) ?? created);
  const facts: ChannelFact[] = [];
  if (details) facts.push({ type: 'order_updated', orderId, occurredAt: modified, change: 'updated', order: details });
  facts.push(withOrder({ type: 'sale' as const, orderId, occurredAt: created, lines: lines.map((l) => l.fact) }, details));
  if (cancelled) facts.push(withOrder({ type: 'cancellation' as const, orderId, occurredAt: modified, lines: lines.map((l) => ({ ...l.fact, restock: true })) }, details));
  return facts;
}

/** One OCI delta record: the level available to fulfil at its location. */
export function levelFacts(body: unknown): ChannelFact[] {
  if (!isObj(body) || !isObj(body.record)) throw new TranslateError('The Omnichannel Inventory change has no record.');
  const readAt = date(body.readAt);
  if (!readAt) throw new TranslateError('The Omnichannel Inventory change does not say when it was read (readAt).');
  let record: ReturnType<typeof readOciRecord>;
  try {
    record = readOciRecord(body.record, 'the change');
  } catch (err) {
    throw new TranslateError(err instanceof Error ? err.message : String(err));
  }
  if (!record.location) throw new TranslateError(`The Omnichannel Inventory change of ${record.sku} names no location.`);
  const ref = { productId: record.sku, variantId: record.sku };
  return [{ type: 'level_observed', sku: skuOf(ref), ref, locationId: record.location, available: record.level.atf, occurredAt: readAt, basis: basisOf(record.level) }];
}

/** `locations`: the OCI location ids the channel maps to ours (its config's `locations` values). */
export function translate(topic: string, body: unknown, locations: readonly string[] = []): ChannelFact[] {
  if (topic === ORDER_TOPIC) return orderFacts(body, new Set(locations));
  if (topic === LEVEL_TOPIC) return levelFacts(body);
  return [];
}
