/**
 * Pure mapping of WooCommerce webhook bodies (REST v3 shapes: the order or product exactly as
 * GET /wc/v3/orders/{id} or /wc/v3/products/{id} would answer) to domain facts.
 *
 * Ids: WooCommerce ids are integers; they leave as decimal strings. A simple product is
 * `{productId: "<id>", variantId: "<id>"}`, a variation `{productId: "<parent_id>", variantId:
 * "<variation id>"}` (an order line's `variation_id` is 0 for a simple product). WooCommerce has no
 * locations: every fact carries the pseudo location `default` (WOO_LOCATION).
 *
 * Orders (order.created, order.updated, and action.woocommerce_order_refunded once `expand` has
 * fetched the order):
 * - status processing / completed / on-hold / refunded → a `sale` of every stock line (WooCommerce
 *   reduces stock when an order reaches processing, completed or on-hold). The same order sent
 *   again, in any of these statuses, translates identically (line ids = order item ids, time =
 *   date_created_gmt), so it is booked once.
 * - status cancelled → the `sale` again plus a `cancellation` that restocks what WooCommerce put
 *   back: WooCommerce restores the stock it had reduced (and deletes the line's `_reduced_stock`
 *   meta) when an order is cancelled. A cancelled body no longer says whether stock had ever been
 *   reduced (an unpaid order cancelled from pending never was), so the pair is sent together: the
 *   sale (a no-op if already booked) and the cancellation net to zero whatever happened before. A
 *   line that still has `_reduced_stock` was not restored (a filter stopped it): no restock. Units
 *   already restocked by refunds are not restocked again.
 * - restocks by refunds: WooCommerce does not say per refund whether its items were restocked
 *   (`api_restock` is write-only; the order's `refunds[]` gives only id, reason and total). What it
 *   keeps is a running count per order line, the item meta `_restock_refunded_items`. That count
 *   becomes a `refund` fact with one line per restocked unit (`<item id>:restock:<n>`, quantity 1)
 *   under the stable refund id `order-<id>-refund-restocks`: whichever order.updated arrives, in
 *   any order, each unit is booked exactly once. A refund without restock changes no count and
 *   books nothing (money only).
 * - pending, failed, checkout-draft, trash: no facts.
 *
 * Products (product.updated): a level observed (`stock_quantity`) when the product or variation
 * manages stock; nothing otherwise. The emulator and WooCommerce send this after every stock change,
 * ours included (the echo).
 */
import { TranslateError, type ChannelFact, type FactLine, type Headers, type ListingRef } from '../types';

export const WOO_LOCATION = 'default';
export const WOO_TOPICS = ['order.created', 'order.updated', 'product.updated', 'action.woocommerce_order_refunded'] as const;

const SOLD = new Set(['processing', 'completed', 'on-hold', 'refunded']);

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A positive integer id (numbers or numeric strings), as a string; null for 0, missing or junk. */
export function wooId(v: unknown): string | null {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return String(v);
  if (typeof v === 'string' && /^[1-9]\d*$/.test(v.trim())) return v.trim();
  return null;
}

/** WooCommerce `*_gmt` dates have no zone ("2017-03-22T16:28:02"): they are UTC. */
function gmt(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const v = value.trim();
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/.test(v) ? v : `${v}Z`;
  const t = Date.parse(withZone);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

function when(what: string, ...candidates: unknown[]): string {
  for (const c of candidates) {
    const v = gmt(c);
    if (v) return v;
  }
  throw new TranslateError(`${what} says neither when it was created nor when it was modified (date_created_gmt / date_modified_gmt).`);
}

function skuOf(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** An item meta value as a whole number (WooCommerce stores meta as strings), or 0. */
function metaCount(line: Obj, key: string): number {
  const meta = Array.isArray(line.meta_data) ? line.meta_data : [];
  for (const m of meta) {
    if (!isObj(m) || m.key !== key) continue;
    const n = typeof m.value === 'number' ? m.value : typeof m.value === 'string' ? Number(m.value.trim()) : NaN;
    return Number.isFinite(n) ? Math.max(0, Math.trunc(n)) : 0;
  }
  return 0;
}

interface StockLine {
  raw: Obj;
  id: string;
  line: FactLine;
}

function stockLines(order: Obj, what: string): StockLine[] {
  const items = order.line_items;
  if (!Array.isArray(items)) throw new TranslateError(`${what} has no line_items list.`);
  const out: StockLine[] = [];
  for (const [i, raw] of items.entries()) {
    if (!isObj(raw)) throw new TranslateError(`${what}: line ${i + 1} is not an object.`);
    const productId = wooId(raw.product_id);
    const sku = skuOf(raw.sku);
    // A line whose product was deleted (product_id 0) and has no SKU cannot be stock.
    if (!productId && !sku) continue;
    const id = wooId(raw.id);
    if (!id) throw new TranslateError(`${what}: line ${i + 1} has no id.`);
    const q = raw.quantity;
    if (typeof q !== 'number' || !Number.isInteger(q) || q < 0) throw new TranslateError(`${what}: line ${i + 1} has no whole, non-negative quantity.`);
    const ref: Partial<ListingRef> = {};
    const variationId = wooId(raw.variation_id);
    if (productId) ref.productId = productId;
    if (variationId ?? productId) ref.variantId = (variationId ?? productId)!;
    out.push({ raw, id, line: { lineId: id, sku, ref, quantity: q, locationId: WOO_LOCATION } });
  }
  return out;
}

function orderFacts(order: Obj): ChannelFact[] {
  const orderId = wooId(order.id);
  if (!orderId) throw new TranslateError('The WooCommerce order has no id.');
  const what = `WooCommerce order ${orderId}`;
  if (typeof order.status !== 'string') throw new TranslateError(`${what} has no status.`);
  const status = order.status.startsWith('wc-') ? order.status.slice(3) : order.status;
  const cancelled = status === 'cancelled';
  if (!SOLD.has(status) && !cancelled) return [];
  const lines = stockLines(order, what);
  if (lines.length === 0) return [];
  const created = when(what, order.date_created_gmt, order.date_created);
  const facts: ChannelFact[] = [{ type: 'sale', orderId, occurredAt: created, lines: lines.map((l) => l.line) }];

  const restockLines: (FactLine & { restock: boolean })[] = [];
  for (const l of lines) {
    const units = Math.min(metaCount(l.raw, '_restock_refunded_items'), l.line.quantity);
    for (let n = 1; n <= units; n++) restockLines.push({ ...l.line, lineId: `${l.id}:restock:${n}`, quantity: 1, restock: true });
  }
  if (restockLines.length > 0) {
    facts.push({ type: 'refund', refundId: `order-${orderId}-refund-restocks`, orderId, occurredAt: when(what, order.date_modified_gmt, order.date_modified, order.date_created_gmt), lines: restockLines });
  }

  if (cancelled) {
    const cancelLines = lines
      .map((l) => {
        const left = l.line.quantity - Math.min(metaCount(l.raw, '_restock_refunded_items'), l.line.quantity);
        return { ...l.line, quantity: left, restock: metaCount(l.raw, '_reduced_stock') === 0 };
      })
      .filter((l) => l.quantity > 0);
    if (cancelLines.length > 0) facts.push({ type: 'cancellation', orderId, occurredAt: when(what, order.date_modified_gmt, order.date_modified, order.date_created_gmt), lines: cancelLines });
  }
  return facts;
}

function productFacts(p: Obj): ChannelFact[] {
  const id = wooId(p.id);
  if (!id) throw new TranslateError('The WooCommerce product has no id.');
  const managed = p.manage_stock === true || p.manage_stock === 'parent';
  if (!managed || p.stock_quantity === null || p.stock_quantity === undefined) return [];
  const q = p.stock_quantity;
  if (typeof q !== 'number' || !Number.isInteger(q)) throw new TranslateError(`WooCommerce product ${id} has no whole stock_quantity.`);
  const parent = p.type === 'variation' ? wooId(p.parent_id) : null;
  if (p.type === 'variation' && !parent) throw new TranslateError(`WooCommerce variation ${id} names no parent product.`);
  return [
    {
      type: 'level_observed',
      sku: skuOf(p.sku),
      ref: { productId: parent ?? id, variantId: id },
      locationId: WOO_LOCATION,
      available: q,
      occurredAt: when(`WooCommerce product ${id}`, p.date_modified_gmt, p.date_modified, p.date_created_gmt),
    },
  ];
}

export function translate(topic: string, body: unknown, _headers: Headers): ChannelFact[] {
  if (!isObj(body)) throw new TranslateError(`The WooCommerce ${topic} event body is not a JSON object.`);
  switch (topic) {
    case 'order.created':
    case 'order.updated':
    case 'order.restored':
      return orderFacts(body);
    case 'action.woocommerce_order_refunded':
      // The action payload is only {action, arg: order id}; `expand` replaces it with the order.
      if (!Array.isArray(body.line_items) && 'arg' in body) return [];
      return orderFacts(body);
    case 'product.updated':
      return productFacts(body);
    default:
      return [];
  }
}
