/**
 * Pure mapping of Shopify webhook bodies (REST JSON shape, numeric ids) to domain facts. Ids leave
 * as gids (`gid://shopify/...`), the same spelling `listCatalog` and `read` use. Where Shopify gives
 * an `admin_graphql_api_id` it is preferred: it carries the exact digits even when a 64-bit numeric
 * id has been rounded by JSON.parse.
 *
 * Topics: orders/create → sale; refunds/create → refund (per line: restocked or not);
 * orders/cancelled → cancellation (lines not restocked, see below) plus the restock refunds the
 * cancelled order carries; inventory_levels/update → level_observed. Other topics give no facts.
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
import { TranslateError, type ChannelFact, type FactLine, type Headers, type ListingRef } from '../types';
import { toGid } from './ids';
import { headerValue } from '../types';

export const SHOPIFY_TOPICS = ['orders/create', 'orders/cancelled', 'refunds/create', 'inventory_levels/update', 'returns/process'] as const;

/** Where `expand` attaches the Return (Admin GraphQL shape) fetched for a `returns/process` webhook. */
export const EXPANDED_RETURN_KEY = 'stockrelay_return';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function gidFrom(o: Obj, type: Parameters<typeof toGid>[0], idField = 'id'): string | null {
  const api = o.admin_graphql_api_id;
  if (typeof api === 'string' && api.startsWith(`gid://shopify/${type}/`)) return api;
  return toGid(type, o[idField]);
}

function iso(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

function when(headers: Headers, ...candidates: unknown[]): string {
  for (const c of candidates) {
    const v = iso(c);
    if (v) return v;
  }
  const h = iso(headerValue(headers, 'x-shopify-triggered-at'));
  if (h) return h;
  throw new TranslateError('The Shopify event says neither when it happened nor when it was sent.');
}

function quantityOf(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new TranslateError(`${what} has no whole, non-negative quantity.`);
  return v;
}

function skuOf(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
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
  if (lines.length === 0) return null;
  return { type: 'refund', refundId, orderId, occurredAt: when(headers, refund.created_at, refund.processed_at), lines };
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

export function translate(topic: string, body: unknown, headers: Headers): ChannelFact[] {
  if (!isObj(body)) throw new TranslateError(`The Shopify ${topic} event body is not a JSON object.`);
  switch (topic) {
    case 'orders/create': {
      const orderId = orderIdOf(body, 'The Shopify order');
      const lines = saleLines(body, `Shopify order ${orderId}`);
      if (lines.length === 0) return [];
      return [{ type: 'sale', orderId, occurredAt: when(headers, body.created_at, body.processed_at), lines }];
    }
    case 'orders/cancelled': {
      const orderId = orderIdOf(body, 'The cancelled Shopify order');
      const facts: ChannelFact[] = [];
      const lines = saleLines(body, `Cancelled Shopify order ${orderId}`).map((l) => ({ ...l, restock: false }));
      if (lines.length > 0) facts.push({ type: 'cancellation', orderId, occurredAt: when(headers, body.cancelled_at, body.updated_at), lines });
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
