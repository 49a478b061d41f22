/**
 * Lightspeed Retail X-Series events as domain facts. Two shapes of the same things arrive:
 * - webhooks carry API 1.0 objects (docs "Webhooks": "the same as those you'll receive from API
 *   1.0"): a sale's lines are `register_sale_products`, an inventory record's level is `count`;
 * - the polled feeds carry API 2.0 objects: a sale's lines are `line_items`, an inventory record's
 *   level is `inventory_level` (or `current_amount`).
 * Which sale statuses take stock (docs "Sales › Statuses"): CLOSED and the ONACCOUNT, LAYBY,
 * delivery, pickup and service statuses, pending or closed; SAVED (parked) and OPEN take none;
 * VOIDED puts every line back. A sale's positive lines are booked as a sale once (keys from the sale
 * and line ids); a VOIDED sale is the same sale and its cancellation with restock, so a void books
 * its return once whatever the hub saw before. Negative lines (a return, or the returned half of an
 * exchange) are a refund without restock: what came back to the shelf reaches the hub as the level
 * X-Series reports (inventory.update and the inventory feed), observed through the attribution
 * window (README, "Events").
 */
import { TranslateError, type ChannelFact, type FactLine, type Headers } from '../types';

export const XS_TOPICS = ['sale.update', 'inventory.update'] as const;
export type XsTopic = (typeof XS_TOPICS)[number];

/** Statuses whose lines left the shelf (docs "Sales › Statuses"). */
export const STOCK_TAKING = new Set(['CLOSED', 'ONACCOUNT', 'ONACCOUNT_CLOSED', 'LAYBY', 'LAYBY_CLOSED', 'AWAITING_DISPATCH', 'AWAITING_PICKUP', 'DISPATCHED_CLOSED', 'PICKED_UP_CLOSED', 'SERVICE', 'SERVICE_CLOSED']);
/** Statuses that take nothing yet: a parked or open sale. */
export const NOT_YET = new Set(['SAVED', 'OPEN']);
/** The 2.0 `state` (docs "States and attributes") where a sale gives no legacy `status`. */
const STATE_STATUS: Record<string, string> = { closed: 'CLOSED', pending: 'ONACCOUNT', parked: 'SAVED', voided: 'VOIDED' };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : typeof v === 'number' && Number.isFinite(v) ? String(v) : null);

/**
 * A time the payload gives, as ISO 8601 (X-Series 1.0 writes "2016-07-18 08:04:05", UTC), else the
 * time the hub was given with the event; '' when neither says (an inventory record names no time:
 * the hub then orders its reports by arrival, docs/attribution.md).
 */
function timeOf(body: Obj, headers: Headers): string {
  for (const k of ['updated_at', 'sale_date', 'created_at']) {
    const v = str(body[k]);
    if (!v) continue;
    const iso = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(v) ? `${v.replace(' ', 'T')}Z` : v;
    const ms = Date.parse(iso);
    if (Number.isFinite(ms)) return new Date(ms).toISOString();
  }
  const h = headers['x-stockrelay-occurred-at'];
  if (typeof h === 'string' && Number.isFinite(Date.parse(h))) return new Date(Date.parse(h)).toISOString();
  return '';
}

/** A whole quantity; X-Series writes quantities as numbers or strings ("1", -2.0). */
function wholeOf(v: unknown, what: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n) || !Number.isInteger(n)) throw new TranslateError(`${what} is not a whole number (${JSON.stringify(v)}); the hub books whole units only.`);
  return n;
}

/** The sale's status: the legacy `status`, else the 2.0 `state`. */
export function saleStatus(sale: Obj): string | null {
  const s = str(sale.status);
  if (s) return s.toUpperCase();
  const st = str(sale.state);
  return st ? (STATE_STATUS[st.toLowerCase()] ?? st.toUpperCase()) : null;
}

/** The lines of a sale in either shape. */
function linesOf(sale: Obj): Obj[] | null {
  const lines = Array.isArray(sale.register_sale_products) ? sale.register_sale_products : Array.isArray(sale.line_items) ? sale.line_items : null;
  if (!lines) return null;
  return lines.filter(isObj);
}

export function translateSale(sale: Obj, headers: Headers): ChannelFact[] {
  const id = str(sale.id);
  if (!id) throw new TranslateError('This X-Series sale has no id; nothing was booked.');
  const status = saleStatus(sale);
  if (!status) throw new TranslateError(`X-Series sale ${id} has no status; nothing was booked.`);
  const lines = linesOf(sale);
  if (!lines) throw new TranslateError(`X-Series sale ${id} has no lines (register_sale_products or line_items); nothing was booked.`);
  if (NOT_YET.has(status)) return [];
  const occurredAt = timeOf(sale, headers);
  if (!occurredAt) throw new TranslateError(`X-Series sale ${id} names no time (sale_date, created_at or updated_at); nothing was booked.`);
  const voided = status === 'VOIDED';
  if (!voided && !STOCK_TAKING.has(status)) throw new TranslateError(`X-Series sale ${id} has the status ${status}, which the hub does not know whether it takes stock; nothing was booked.`);
  const outlet = str(sale.outlet_id);
  const out: FactLine[] = [];
  const back: FactLine[] = [];
  lines.forEach((l, i) => {
    const lineId = str(l.id) ?? String(i + 1);
    const productId = str(l.product_id);
    const quantity = wholeOf(l.quantity, `Line ${lineId} of X-Series sale ${id}: its quantity`);
    if (quantity === 0) return;
    const line: FactLine = { lineId, sku: str(l.sku), ref: productId ? { productId, variantId: productId } : {}, quantity: Math.abs(quantity), locationId: outlet };
    if (!productId && !line.sku) throw new TranslateError(`Line ${lineId} of X-Series sale ${id} names no product; nothing was booked.`);
    (quantity > 0 ? out : back).push(line);
  });
  const facts: ChannelFact[] = [];
  if (out.length > 0) facts.push({ type: 'sale', orderId: id, occurredAt, lines: out });
  if (voided) {
    if (out.length > 0) facts.push({ type: 'cancellation', orderId: id, occurredAt, lines: out.map((l) => ({ ...l, restock: true })) });
  } else if (back.length > 0) {
    facts.push({ type: 'refund', refundId: id, orderId: str(sale.return_for) ?? id, occurredAt, lines: back.map((l) => ({ ...l, restock: false })) });
  }
  return facts;
}

/** One inventory record (1.0 webhook or 2.0 feed) as the level it reports. */
export function translateInventory(rec: Obj, headers: Headers): ChannelFact[] {
  const productId = str(rec.product_id) ?? (isObj(rec.product) ? str(rec.product.id) : null);
  const outlet = str(rec.outlet_id);
  if (!productId || !outlet) throw new TranslateError('This X-Series inventory record names no product_id or outlet_id; nothing was taken from it.');
  const raw = rec.count ?? rec.inventory_level ?? rec.current_amount;
  const available = wholeOf(raw, `The X-Series inventory of product ${productId} at outlet ${outlet}`);
  const sku = str(rec.sku) ?? (isObj(rec.product) ? str(rec.product.sku) : null);
  return [{ type: 'level_observed', sku, ref: { productId, variantId: productId }, locationId: outlet, available, occurredAt: timeOf(rec, headers) }];
}

/** X-Series webhook types the hub takes no facts from (a retailer may send them to the same address). */
const NOT_READ = new Set(['product.update', 'customer.update', 'register_closure.create', 'consignment.send', 'consignment.receive']);

/** A webhook's form (`payload=<JSON>&…`) as its payload object; anything else as it is. */
function unform(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  const payload = new URLSearchParams(body).getAll('payload');
  if (payload.length !== 1) throw new TranslateError('This X-Series delivery is not a form with one field "payload"; nothing was taken from it.');
  try {
    return JSON.parse(payload[0]!) as unknown;
  } catch {
    throw new TranslateError('The "payload" of this X-Series delivery is not JSON; nothing was taken from it.');
  }
}

export function translate(topic: string, raw: unknown, headers: Headers): ChannelFact[] {
  if (NOT_READ.has(topic)) return [];
  const body = unform(raw);
  if (!isObj(body)) throw new TranslateError(`An X-Series ${topic} event whose payload is not an object; nothing was taken from it.`);
  if (topic === 'sale.update') return translateSale(body, headers);
  if (topic === 'inventory.update') return translateInventory(body, headers);
  throw new TranslateError(`The hub does not read X-Series ${topic} events (it reads ${XS_TOPICS.join(' and ')}).`);
}

/** What a payload is, from its shape: a sale has lines, an inventory record a product, an outlet and a count. */
export function shapeOf(body: unknown): XsTopic | null {
  if (!isObj(body)) return null;
  if (Array.isArray(body.register_sale_products) || Array.isArray(body.line_items)) return 'sale.update';
  if ((str(body.product_id) || isObj(body.product)) && str(body.outlet_id) && (body.count !== undefined || body.inventory_level !== undefined || body.current_amount !== undefined)) return 'inventory.update';
  return null;
}
