/**
 * Pure mapping of what Adobe Commerce sends (a hook configured as README.md says, or an event the
 * orders feed builds from the REST answers) to domain facts. Every body is `{data: {<object>}}`:
 * - `observer.sales_order_save_after` — `data.order`, a `sales-data-order-interface`. Every state
 *   but `canceled` is a `sale` of each line (Magento reserves the units when the order is placed,
 *   whatever the payment does next); `canceled` is that sale again plus a `cancellation` of each
 *   line's `qty_canceled`, restocked (Magento releases the reservation): the pair nets to zero
 *   whatever was booked before. Stock lines: a configurable product's parent line (it carries the
 *   chosen simple product's SKU; its child line is skipped) and a bundle's children (the bundle
 *   line itself keeps no stock), as the REST tutorial's order 3 shows them.
 *   Line id = `item_id`, order id = `entity_id`, time = `created_at`.
 * - `observer.sales_order_creditmemo_save_after` — `data.creditmemo`, a credit memo: a `refund`
 *   keyed by its `entity_id`, one line per item with a quantity (line id = `order_item_id`, so the
 *   booking key names the order line), restocked when the item says `back_to_stock: true` (the
 *   "Return to Stock" box, or `arguments.return_to_stock_items` of POST /V1/order/{id}/refund). The
 *   REST answer of a credit memo (what the orders feed reads) has no such field: a polled credit
 *   memo restocks nothing, and the returned units show as a raised source quantity (README.md).
 * - `plugin.magento.inventory_api.api.source_items_save.execute` — `data.sourceItems`, the source
 *   items saved (MSI SourceItemsSaveInterface::execute: an Admin edit, a shipment's deduction, a
 *   return, our own push): a `level_observed` of each, at its `source_code`: the level `expand`
 *   read (what the source can still sell, reservations counted) when it is there, else the saved
 *   quantity.
 * Anything else, or a body missing what its topic needs, is a TranslateError: never a guess.
 */
import { toMinor, isCurrencyCode } from '../../shared/money';
import { readOrUndefined, withOrder } from '../money';
import { orderDetails } from './order-details';
import { TranslateError, type ChannelFact, type FactLine } from '../types';

export const ADOBE_TOPICS = [
  'observer.sales_order_save_after',
  'observer.sales_order_creditmemo_save_after',
  'plugin.magento.inventory_api.api.source_items_save.execute',
] as const;
export type AdobeTopic = (typeof ADOBE_TOPICS)[number];

/** The key under `data` each topic's object travels in. */
export const DATA_KEY: Record<AdobeTopic, string> = {
  'observer.sales_order_save_after': 'order',
  'observer.sales_order_creditmemo_save_after': 'creditmemo',
  'plugin.magento.inventory_api.api.source_items_save.execute': 'sourceItems',
};

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A Magento id: a positive integer (or its decimal string), as a string. */
export function magentoId(v: unknown): string | null {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return String(v);
  if (typeof v === 'string' && /^[1-9]\d{0,18}$/.test(v.trim())) return v.trim();
  return null;
}

/** "2026-03-01 10:00:00": Magento's dates, UTC, to the second. */
export function magentoDate(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

/** A Magento date ("YYYY-MM-DD HH:MM:SS", UTC) in ms, or null. */
export function magentoMs(v: unknown): number | null {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(v.trim())) return null;
  const t = Date.parse(`${v.trim().replace(' ', 'T')}Z`);
  return Number.isNaN(t) ? null : t;
}

/** "YYYY-MM-DD HH:MM:SS" (UTC, Magento's format) → ISO 8601, or null. */
export function magentoIso(v: unknown): string | null {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(v.trim())) return null;
  const t = Date.parse(`${v.trim().replace(' ', 'T')}Z`);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

function wholeQty(v: unknown, what: string): number {
  const n = typeof v === 'string' && /^\d+(\.0+)?$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new TranslateError(`${what} is not a whole, non-negative quantity (${JSON.stringify(v)}).`);
  return n;
}

function sku(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v : null;
}

/** The object a topic carries under `data`, or a TranslateError naming what is missing. */
function payload(topic: string, body: unknown): unknown {
  if (!(ADOBE_TOPICS as readonly string[]).includes(topic)) throw new TranslateError(`"${topic}" is not an Adobe Commerce hook this connector reads (${ADOBE_TOPICS.join(', ')}).`);
  const key = DATA_KEY[topic as AdobeTopic];
  if (!isObj(body) || !isObj(body.data) || !(key in body.data)) throw new TranslateError(`An Adobe Commerce ${topic} body must carry data.${key}.`);
  return body.data[key];
}

function orderFacts(order: unknown): ChannelFact[] {
  if (!isObj(order)) throw new TranslateError('data.order is not an order.');
  const orderId = magentoId(order.entity_id);
  const state = typeof order.state === 'string' ? order.state : null;
  const occurredAt = magentoIso(order.created_at);
  if (!orderId || !state || !occurredAt || !Array.isArray(order.items)) throw new TranslateError('The order lacks entity_id, state, created_at or items.');
  const lines: (FactLine & { canceled: number })[] = [];
  const typeOf = new Map(order.items.filter(isObj).map((it) => [magentoId(it.item_id), it.product_type]));
  for (const [i, raw] of order.items.entries()) {
    if (!isObj(raw)) throw new TranslateError(`Order ${orderId}: item ${i + 1} is not an order item.`);
    // A bundle's stock is its children's; a configurable's is on the parent line (the child's SKU).
    if (raw.product_type === 'bundle') continue;
    const parent = magentoId(raw.parent_item_id);
    if (parent && (typeOf.get(parent) ?? (isObj(raw.parent_item) ? raw.parent_item.product_type : undefined)) !== 'bundle') continue;
    const lineId = magentoId(raw.item_id);
    if (!lineId) throw new TranslateError(`Order ${orderId}: item ${i + 1} has no item_id.`);
    const quantity = wholeQty(raw.qty_ordered, `Order ${orderId} item ${lineId}: qty_ordered`);
    const canceled = raw.qty_canceled === undefined || raw.qty_canceled === null ? 0 : wholeQty(raw.qty_canceled, `Order ${orderId} item ${lineId}: qty_canceled`);
    if (quantity === 0) continue;
    const productId = magentoId(raw.product_id);
    const s = sku(raw.sku);
    lines.push({ lineId, sku: s, ref: { ...(productId ? { productId } : {}), ...(s ? { variantId: s } : {}) }, quantity, locationId: null, canceled: Math.min(canceled, quantity) });
  }
  const details = orderDetails(order, lines.map((l) => l.lineId), occurredAt);
  const sale: ChannelFact = withOrder({ type: 'sale' as const, orderId, occurredAt, lines: lines.map(({ canceled: _c, ...l }) => l) }, details);
  if (state !== 'canceled') return [sale];
  const cancelled = lines.filter((l) => l.canceled > 0).map(({ canceled, ...l }) => ({ ...l, quantity: canceled, restock: true }));
  return [sale, withOrder({ type: 'cancellation' as const, orderId, occurredAt: magentoIso(order.updated_at) ?? occurredAt, lines: cancelled }, details)];
}

function refundFacts(memo: unknown): ChannelFact[] {
  if (!isObj(memo)) throw new TranslateError('data.creditmemo is not a credit memo.');
  const refundId = magentoId(memo.entity_id);
  const orderId = magentoId(memo.order_id);
  const occurredAt = magentoIso(memo.created_at);
  if (!refundId || !orderId || !occurredAt || !Array.isArray(memo.items)) throw new TranslateError('The credit memo lacks entity_id, order_id, created_at or items.');
  const lines: (FactLine & { restock: boolean })[] = [];
  for (const [i, raw] of memo.items.entries()) {
    if (!isObj(raw)) throw new TranslateError(`Credit memo ${refundId}: item ${i + 1} is not a credit memo item.`);
    const lineId = magentoId(raw.order_item_id);
    if (!lineId) throw new TranslateError(`Credit memo ${refundId}: item ${i + 1} has no order_item_id.`);
    const quantity = wholeQty(raw.qty, `Credit memo ${refundId} item ${lineId}: qty`);
    if (quantity === 0) continue;
    const productId = magentoId(raw.product_id);
    const s = sku(raw.sku);
    lines.push({ lineId, sku: s, ref: { ...(productId ? { productId } : {}), ...(s ? { variantId: s } : {}) }, quantity, locationId: null, restock: raw.back_to_stock === true });
  }
  const currency = memo.order_currency_code;
  const total = memo.grand_total;
  // Money never costs a refund its stock facts: unreadable, it is left out.
  const money = readOrUndefined(() => (isCurrencyCode(currency) && typeof total === 'number' && total >= 0 ? { currency, amount: toMinor(total, currency) } : undefined));
  return [{ type: 'refund', refundId, orderId, occurredAt, lines, ...(money ? { money } : {}) }];
}

/** A source item save says no time: `occurredAt` is empty (the hub then takes the time it arrived). */
function levelFacts(items: unknown, body: Obj): ChannelFact[] {
  if (!Array.isArray(items)) throw new TranslateError('data.sourceItems is not a list of source items.');
  const read = body[EXPANDED_LEVELS];
  if (Array.isArray(read)) {
    // The levels read when the event was prepared (index.ts, expand): what each source can still sell.
    return read.map((r, i) => {
      if (!isObj(r) || typeof r.sku !== 'string' || typeof r.source_code !== 'string' || typeof r.level !== 'number' || !Number.isInteger(r.level)) throw new TranslateError(`Read level ${i + 1} is not one the connector wrote.`);
      return { type: 'level_observed', sku: r.sku, ref: { variantId: r.sku }, locationId: r.source_code, available: r.level, occurredAt: '' };
    });
  }
  return items.map((raw, i) => {
    if (!isObj(raw)) throw new TranslateError(`Source item ${i + 1} is not a source item.`);
    const s = sku(raw.sku);
    const source = typeof raw.source_code === 'string' && raw.source_code !== '' ? raw.source_code : null;
    const q = raw.quantity;
    if (!s || !source || typeof q !== 'number' || !Number.isFinite(q)) throw new TranslateError(`Source item ${i + 1} lacks sku, source_code or a numeric quantity.`);
    return { type: 'level_observed', sku: s, ref: { variantId: s }, locationId: source, available: Math.floor(q), occurredAt: '' };
  });
}

/** Where `expand` puts the levels it read for a source items hook. */
export const EXPANDED_LEVELS = 'stockrelay_levels';

/** The SKUs and sources a source items hook names, or null when the body is not one. */
export function sourceItemsOf(body: unknown): { sku: string; source: string }[] | null {
  const items = isObj(body) && isObj(body.data) ? body.data.sourceItems : null;
  if (!Array.isArray(items)) return null;
  const out = items.filter(isObj).flatMap((i) => (typeof i.sku === 'string' && i.sku !== '' && typeof i.source_code === 'string' && i.source_code !== '' ? [{ sku: i.sku, source: i.source_code }] : []));
  return out.length > 0 ? out : null;
}

/** The facts in one verified Adobe Commerce event. */
export function translate(topic: string, body: unknown): ChannelFact[] {
  const obj = payload(topic, body);
  if (topic === ADOBE_TOPICS[0]) return orderFacts(obj);
  if (topic === ADOBE_TOPICS[1]) return refundFacts(obj);
  return levelFacts(obj, body as Obj);
}
