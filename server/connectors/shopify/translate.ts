/**
 * Pure mapping of Shopify webhook bodies (REST JSON shape, numeric ids) to domain facts. Ids leave
 * as gids (`gid://shopify/...`), the same spelling `listCatalog` and `read` use. Where Shopify gives
 * an `admin_graphql_api_id` it is preferred: it carries the exact digits even when a 64-bit numeric
 * id has been rounded by JSON.parse.
 *
 * Topics: orders/create → sale; refunds/create → refund (per line: restocked or not);
 * orders/cancelled → cancellation (lines not restocked, see below) plus the restock refunds the
 * cancelled order carries; inventory_levels/update → level_observed; orders/paid, orders/fulfilled
 * and orders/updated → order_updated (never stock: an order edit that adds or removes items is not
 * booked from orders/updated; the level webhooks and reconciliation see it). Other topics give no facts.
 * The topic header is not signed: a body that is not what its topic says is refused
 * (`shopifyTopicDisagreement`, also checked at the door by `verifyShopifyDelivery`).
 *
 * Money (the transaction log): sale, cancellation and order_updated carry `order` (OrderDetails),
 * refund carries `money`, read as order-money.ts says. If any amount cannot be read the details are
 * left out and the stock facts are emitted exactly as without money: a sale is never lost to a money field.
 * An orders/create or orders/cancelled with no stock line gives order_updated ("created",
 * "cancelled") instead, so the log still gets the order.
 *
 * Cancellations: Shopify records the restock of a cancelled order as a refund whose lines have
 * `restock_type: "cancel"`, sent as `refunds/create` and also embedded in the `orders/cancelled` body
 * (`refunds[]`). Both translate to the same refund fact (same refund id, same line ids), so the hub
 * books the restock once whichever arrives first; the cancellation fact itself never restocks.
 *
 * Exchanges: a native exchange updates the original order and keeps its items on the Return
 * (`exchangeLineItems`). The returned units arrive as `refunds/create` like any return; for the
 * units going out, the connector's `expand` fetches the Return named by a `returns/process` webhook
 * (GraphQL shape) and attaches it under `stockrelay_return`; it translates to a `sale` on the
 * original order, one line per exchange line item (its gid is the line id, so a redelivery books
 * once), with no location (as a web order: the hub books it where the platform would take it).
 */
import { withOrder } from '../money';
import { TranslateError, headerValue, type ChannelFact, type FactLine, type Headers, type ListingRef } from '../types';
import { toGid } from './ids';
import { orderDetailsOf, refundMoneyOf } from './order-money';
import { gidFrom, isObj, iso, skuOf, type Obj } from './rest-body';

export const SHOPIFY_TOPICS = ['orders/create', 'orders/paid', 'orders/fulfilled', 'orders/updated', 'orders/cancelled', 'refunds/create', 'inventory_levels/update', 'returns/process'] as const;

/** Where `expand` attaches the Return (Admin GraphQL shape) fetched for a `returns/process` webhook. */
export const EXPANDED_RETURN_KEY = 'stockrelay_return';

/** The first readable time among the candidates, else the delivery's X-Shopify-Triggered-At, else null. */
function timeOf(headers: Headers, ...candidates: unknown[]): string | null {
  for (const c of candidates) {
    const v = iso(c);
    if (v) return v;
  }
  return iso(headerValue(headers, 'x-shopify-triggered-at'));
}

function when(headers: Headers, ...candidates: unknown[]): string {
  const t = timeOf(headers, ...candidates);
  if (t) return t;
  throw new TranslateError('The Shopify event says neither when it happened nor when it was sent.');
}

/** An order_updated for the order body, or none when its money or its time cannot be read (nothing to log). */
function orderUpdate(body: Obj, orderId: string, change: string, at: string | null): ChannelFact[] {
  if (!at) return [];
  const order = orderDetailsOf(body, at);
  return order ? [{ type: 'order_updated', orderId, occurredAt: at, change, order }] : [];
}

function quantityOf(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new TranslateError(`${what} has no whole, non-negative quantity.`);
  return v;
}

function refOf(line: Obj): Partial<ListingRef> {
  const ref: Partial<ListingRef> = {};
  const variant = toGid('ProductVariant', line.variant_id);
  const product = toGid('Product', line.product_id);
  if (product) ref.productId = product;
  if (variant) ref.variantId = variant;
  return ref;
}

/** Lines that cannot be stock: custom items (no variant, no SKU), gift cards, tips. */
function isStockLine(line: Obj): boolean {
  if (line.gift_card === true) return false;
  return line.variant_id !== null && line.variant_id !== undefined ? true : skuOf(line.sku) !== null;
}

function saleLines(order: Obj, what: string): FactLine[] {
  const items = order.line_items;
  if (!Array.isArray(items)) throw new TranslateError(`${what} has no line_items list.`);
  const locationId = toGid('Location', order.location_id);
  const lines: FactLine[] = [];
  for (const [i, raw] of items.entries()) {
    if (!isObj(raw)) throw new TranslateError(`${what}: line ${i + 1} is not an object.`);
    if (!isStockLine(raw)) continue;
    const lineId = gidFrom(raw, 'LineItem');
    if (!lineId) throw new TranslateError(`${what}: line ${i + 1} has no id.`);
    lines.push({ lineId, sku: skuOf(raw.sku), ref: refOf(raw), quantity: quantityOf(raw.quantity, `${what}: line ${i + 1}`), locationId });
  }
  return lines;
}

function orderIdOf(order: Obj, what: string): string {
  const id = gidFrom(order, 'Order');
  if (!id) throw new TranslateError(`${what} has no order id.`);
  return id;
}

const RESTOCKING = new Set(['return', 'cancel', 'legacy_restock']);

function refundFact(refund: Obj, headers: Headers, fallbackOrderId: string | null): ChannelFact | null {
  const refundId = gidFrom(refund, 'Refund');
  if (!refundId) throw new TranslateError('The Shopify refund has no id.');
  const orderId = toGid('Order', refund.order_id) ?? fallbackOrderId;
  if (!orderId) throw new TranslateError(`Shopify refund ${refundId} names no order.`);
  const rlis = refund.refund_line_items ?? [];
  if (!Array.isArray(rlis)) throw new TranslateError(`Shopify refund ${refundId}: refund_line_items is not a list.`);
  const legacyRestock = refund.restock === true;
  const lines: (FactLine & { restock: boolean })[] = [];
  for (const [i, raw] of rlis.entries()) {
    if (!isObj(raw)) throw new TranslateError(`Shopify refund ${refundId}: line ${i + 1} is not an object.`);
    const item = isObj(raw.line_item) ? raw.line_item : {};
    if (isObj(raw.line_item) && !isStockLine(item)) continue;
    const lineId = gidFrom(raw, 'RefundLineItem') ?? toGid('LineItem', raw.line_item_id);
    if (!lineId) throw new TranslateError(`Shopify refund ${refundId}: line ${i + 1} has no id.`);
    const type = typeof raw.restock_type === 'string' ? raw.restock_type.toLowerCase() : null;
    const restock = type !== null ? RESTOCKING.has(type) : legacyRestock;
    const ref = refOf(item);
    lines.push({
      lineId,
      sku: skuOf(item.sku),
      ref,
      quantity: quantityOf(raw.quantity, `Shopify refund ${refundId}: line ${i + 1}`),
      locationId: toGid('Location', raw.location_id),
      restock,
    });
  }
  const money = refundMoneyOf(refund);
  // A refund that moved money but no stock (shipping, an adjustment, custom items) is kept for the log.
  if (lines.length === 0 && (money === null || money === undefined)) return null;
  const occurredAt = when(headers, refund.created_at, refund.processed_at);
  return money === undefined ? { type: 'refund', refundId, orderId, occurredAt, lines } : { type: 'refund', refundId, orderId, occurredAt, lines, money };
}

function levelFact(body: Obj, headers: Headers): ChannelFact[] {
  // `available` is null when the item does not track inventory: nothing to observe.
  if (body.available === null || body.available === undefined) return [];
  if (typeof body.available !== 'number' || !Number.isInteger(body.available)) {
    throw new TranslateError('The Shopify inventory level has no whole available quantity.');
  }
  let inventoryItemId = toGid('InventoryItem', body.inventory_item_id);
  let locationId = toGid('Location', body.location_id);
  const api = typeof body.admin_graphql_api_id === 'string' ? body.admin_graphql_api_id : '';
  const m = /^gid:\/\/shopify\/InventoryLevel\/(\d+)\?inventory_item_id=(\d+)$/.exec(api);
  if (m) {
    locationId = `gid://shopify/Location/${m[1]!}`;
    inventoryItemId = `gid://shopify/InventoryItem/${m[2]!}`;
  }
  if (!inventoryItemId || !locationId) throw new TranslateError('The Shopify inventory level names no inventory item or no location.');
  return [
    {
      type: 'level_observed',
      sku: null,
      ref: { inventoryItemId },
      locationId,
      available: body.available,
      occurredAt: when(headers, body.updated_at),
    },
  ];
}

/** The Return a `returns/process` webhook is about: its `admin_graphql_api_id`, else its numeric `id`. */
export function returnIdOf(body: unknown): string | null {
  return isObj(body) ? gidFrom(body, 'Return') : null;
}

/**
 * The exchanged-out units of a processed Return (GraphQL shape: `{ id, order { id },
 * exchangeLineItems { nodes { id quantity processedQuantity variantId lineItems { id sku } } } }`) as
 * a sale on the original order. Quantity: `processedQuantity` when given (0 → no line), else `quantity`.
 */
function exchangeFact(body: Obj, headers: Headers): ChannelFact[] {
  const ret = body[EXPANDED_RETURN_KEY];
  const named = returnIdOf(body) ?? 'named by the webhook';
  if (!isObj(ret)) throw new TranslateError(`The Shopify return ${named} could not be read (the Return was not fetched or Shopify does not have it).`);
  const returnId = typeof ret.id === 'string' && ret.id !== '' ? ret.id : named;
  const order = isObj(ret.order) ? ret.order : {};
  const orderId = toGid('Order', order.id) ?? toGid('Order', body.order_id);
  if (!orderId) throw new TranslateError(`Shopify return ${returnId} names no order.`);
  const conn = ret.exchangeLineItems;
  const items: unknown = isObj(conn) ? conn.nodes : (conn ?? []);
  if (!Array.isArray(items)) throw new TranslateError(`Shopify return ${returnId}: exchangeLineItems is not a list.`);
  const lines: FactLine[] = [];
  for (const [i, raw] of items.entries()) {
    const what = `Shopify return ${returnId}: exchange line ${i + 1}`;
    if (!isObj(raw)) throw new TranslateError(`${what} is not an object.`);
    const lineId = toGid('ExchangeLineItem', raw.id);
    if (!lineId) throw new TranslateError(`${what} has no id.`);
    const quantity = raw.processedQuantity !== null && raw.processedQuantity !== undefined ? quantityOf(raw.processedQuantity, what) : quantityOf(raw.quantity, what);
    if (quantity === 0) continue;
    const orderLines = Array.isArray(raw.lineItems) ? raw.lineItems.filter(isObj) : [];
    const sku = orderLines.map((l) => skuOf(l.sku)).find((x) => x !== null) ?? null;
    const variantId = toGid('ProductVariant', raw.variantId);
    // A custom item (no variant, no SKU) is not stock.
    if (!variantId && !sku) continue;
    lines.push({ lineId, sku, ref: variantId ? { variantId } : {}, quantity, locationId: null });
  }
  if (lines.length === 0) return [];
  return [{ type: 'sale', orderId, occurredAt: when(headers, body.processed_at, body.updated_at), lines }];
}

/**
 * What a webhook body is, by its `admin_graphql_api_id` (Order, Refund, InventoryLevel, Return), else
 * by the fields only that resource has: `line_items` (an order), `refund_line_items` (a refund),
 * `inventory_item_id` + `location_id` + `available` (an inventory level).
 */
type BodyKind = 'order' | 'refund' | 'inventory level' | 'return' | 'other';

const KIND_BY_GID: readonly (readonly [string, BodyKind])[] = [
  ['gid://shopify/Order/', 'order'],
  ['gid://shopify/Refund/', 'refund'],
  ['gid://shopify/InventoryLevel/', 'inventory level'],
  ['gid://shopify/Return/', 'return'],
];

function bodyKind(body: Obj): BodyKind {
  const api = body.admin_graphql_api_id;
  if (typeof api === 'string' && api !== '') return KIND_BY_GID.find(([prefix]) => api.startsWith(prefix))?.[1] ?? 'other';
  if (Array.isArray(body.line_items)) return 'order';
  if (Array.isArray(body.refund_line_items)) return 'refund';
  if ('inventory_item_id' in body && 'location_id' in body && 'available' in body) return 'inventory level';
  return 'other';
}

/** The topics whose body is an order (REST shape). */
const ORDER_TOPICS = new Set(['orders/create', 'orders/paid', 'orders/fulfilled', 'orders/updated', 'orders/cancelled']);

/**
 * Why the body of a delivery is not what its `X-Shopify-Topic` says, or null when it is (or when the
 * topic is one the hub takes no fact from, or the body is not a JSON object: translate refuses that).
 * The topic header is not covered by Shopify's HMAC (only the body is), so a genuine body resent
 * under another topic must not become another fact. The rules are the ones every genuine delivery
 * keeps (README.md, "Topic and account checks"):
 * - `orders/*`: an order (Order gid or `line_items`, an order id and a `line_items` list);
 *   `orders/cancelled` also has a `cancelled_at` date, `orders/create` has none (an order is not
 *   created cancelled; a cancelled order resent as new must not book its sale);
 * - `refunds/create`: a refund (Refund gid or `refund_line_items`) with a `refund_line_items` list
 *   and an `order_id`;
 * - `inventory_levels/update`: an inventory level (InventoryLevel gid, or `inventory_item_id`,
 *   `location_id` and `available`);
 * - `returns/process`: not an order, refund or level (a Return gid when it has one).
 * `orders/paid` and `orders/fulfilled` move no stock: their order_updated takes the order's states
 * from the body, and is called "paid" / "fulfilled" only when the body says so (`changeOf`).
 */
export function shopifyTopicDisagreement(topic: string, body: unknown): string | null {
  if (!isObj(body)) return null;
  const kind = bodyKind(body);
  const api = typeof body.admin_graphql_api_id === 'string' && body.admin_graphql_api_id !== '' ? body.admin_graphql_api_id : null;
  const isA = kind === 'other' ? 'is not a resource the hub knows' : `is ${kind === 'order' || kind === 'inventory level' ? 'an' : 'a'} ${kind}`;
  const said = (what: string) =>
    `The X-Shopify-Topic header says "${topic}", but the signed body ${what}. The topic header is not covered by Shopify's signature, so the hub takes a fact only when the body shows it.`;
  if (ORDER_TOPICS.has(topic)) {
    const missing: string[] = [];
    if (kind !== 'order') missing.push(`${isA}${api ? ` (${api})` : ''}`);
    if (!gidFrom(body, 'Order')) missing.push('has no order id');
    if (!Array.isArray(body.line_items)) missing.push('has no line_items list');
    if (missing.length > 0) return said(`is not an order: it ${missing.join(' and ')}`);
    const cancelledAt = iso(body.cancelled_at);
    if (topic === 'orders/cancelled' && !cancelledAt) return said('is an order that is not cancelled (its cancelled_at is empty)');
    if (topic === 'orders/create' && cancelledAt) return said(`is an order cancelled at ${cancelledAt}, not a new one`);
    return null;
  }
  if (topic === 'refunds/create') {
    if (kind !== 'refund' || !Array.isArray(body.refund_line_items) || body.order_id === undefined || body.order_id === null) {
      return said(`is not a refund: it ${kind === 'refund' ? 'has no refund_line_items list or no order_id' : `${isA}${api ? ` (${api})` : ''}`}`);
    }
    return null;
  }
  if (topic === 'inventory_levels/update') return kind === 'inventory level' ? null : said(`is not an inventory level: it ${isA}${api ? ` (${api})` : ''}`);
  if (topic === 'returns/process') return kind === 'return' || (kind === 'other' && !api) ? null : said(`is not a return: it ${isA}${api ? ` (${api})` : ''}`);
  return null;
}

/** The financial statuses of an order that has been paid (and maybe refunded since). */
const PAID_STATUSES = new Set(['paid', 'partially_refunded', 'refunded']);

/**
 * What an order_updated from an update topic is called: "paid" / "fulfilled" only when the body
 * shows it (a paid financial_status / fulfillment_status "fulfilled", and not cancelled), else
 * "updated". The order's states themselves always come from the body.
 */
function changeOf(topic: string, body: Obj): string {
  if (iso(body.cancelled_at)) return 'updated';
  const financial = typeof body.financial_status === 'string' ? body.financial_status.toLowerCase() : '';
  if (topic === 'orders/paid' && PAID_STATUSES.has(financial)) return 'paid';
  if (topic === 'orders/fulfilled' && body.fulfillment_status === 'fulfilled') return 'fulfilled';
  return 'updated';
}

export function translate(topic: string, body: unknown, headers: Headers): ChannelFact[] {
  if (!isObj(body)) throw new TranslateError(`The Shopify ${topic} event body is not a JSON object.`);
  const disagreement = shopifyTopicDisagreement(topic, body);
  if (disagreement) throw new TranslateError(disagreement);
  switch (topic) {
    case 'orders/create': {
      const orderId = orderIdOf(body, 'The Shopify order');
      const lines = saleLines(body, `Shopify order ${orderId}`);
      if (lines.length === 0) return orderUpdate(body, orderId, 'created', timeOf(headers, body.created_at, body.processed_at));
      const occurredAt = when(headers, body.created_at, body.processed_at);
      return [withOrder({ type: 'sale' as const, orderId, occurredAt, lines }, orderDetailsOf(body, occurredAt))];
    }
    case 'orders/paid':
    case 'orders/fulfilled':
    case 'orders/updated': {
      // No stock moves here; an order whose money cannot be read gives nothing (the next order event carries it again).
      const orderId = orderIdOf(body, `The Shopify ${topic} order`);
      return orderUpdate(body, orderId, changeOf(topic, body), timeOf(headers, body.updated_at, body.processed_at, body.created_at));
    }
    case 'orders/cancelled': {
      const orderId = orderIdOf(body, 'The cancelled Shopify order');
      const facts: ChannelFact[] = [];
      const lines = saleLines(body, `Cancelled Shopify order ${orderId}`).map((l) => ({ ...l, restock: false }));
      if (lines.length > 0) {
        const occurredAt = when(headers, body.cancelled_at, body.updated_at);
        facts.push(withOrder({ type: 'cancellation' as const, orderId, occurredAt, lines }, orderDetailsOf(body, occurredAt)));
      } else {
        facts.push(...orderUpdate(body, orderId, 'cancelled', timeOf(headers, body.cancelled_at, body.updated_at)));
      }
      const refunds = Array.isArray(body.refunds) ? body.refunds : [];
      for (const r of refunds) {
        if (!isObj(r)) throw new TranslateError(`Cancelled Shopify order ${orderId}: a refund is not an object.`);
        const f = refundFact(r, headers, orderId);
        if (f) facts.push(f);
      }
      return facts;
    }
    case 'refunds/create': {
      const f = refundFact(body, headers, null);
      return f ? [f] : [];
    }
    case 'inventory_levels/update':
      return levelFact(body, headers);
    case 'returns/process':
      return exchangeFact(body, headers);
    default:
      return [];
  }
}
