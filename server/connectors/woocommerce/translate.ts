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
 *
 * Money (the transaction log). Amounts are decimal strings in the order's `currency`, with the
 * store's number of decimals (the REST `dp` default is `wc_get_price_decimals()`), turned into minor
 * units by `toMinor`; a line's `price` is a raw float (line total ÷ quantity) and is not read. The
 * sale and the cancellation carry `order`; if an amount cannot be read it is left out and the stock
 * facts stay exactly as without it (a sale is never lost to money). Fields:
 * - order: subtotal = Σ line `total` (after discounts, before tax: WooCommerce keeps line totals
 *   without tax even when prices are entered with tax), discount = `discount_total`, tax =
 *   `total_tax` (cart and shipping tax), shipping = `shipping_total`, total = `total`;
 * - line: unitPrice = `subtotal` ÷ quantity when it divides exactly (else null: WooCommerce keeps no
 *   unit price), discount = `subtotal` − `total`, tax = `total_tax`, total = `total`; every line is
 *   listed, `lineId` = the order item id as in the sale;
 * - refunds: WooCommerce's order body lists each refund as `{id, reason, total: "-5.00"}`: each gives
 *   a refund fact of its own, `refundId` = the refund's id, no lines (the restocked units are the
 *   separate `order-<id>-refund-restocks` fact above, which carries no money), `money` = −total, dated
 *   with the order's `date_modified_gmt` (the body has no refund date; a later delivery carries a
 *   later one, the log keeps the first);
 * - paymentStatus: refunds reaching `total` or status refunded → refunded; some refunds →
 *   partially_refunded; completed → paid; processing or on-hold → paid with `date_paid`, else
 *   pending (cash on delivery is processing before it is paid); pending, checkout-draft → pending;
 *   cancelled, failed → voided (no money was taken); others → unknown;
 * - fulfilmentStatus: completed → fulfilled; cancelled → cancelled; refunded → returned when every
 *   unit was restocked (`_restock_refunded_items`), else unknown; processing, on-hold, pending,
 *   failed → unfulfilled; others → unknown;
 * - customerRef = `customer_id` (0 = guest → null); contact = billing first and last name and
 *   billing email; number = `number` when it differs from the id.
 * order_updated: order.updated (and the refunded action, once expanded) gives one ("updated") for an
 * order whose money can be read, first, before the repeated stock facts (which book nothing again);
 * order.created gives one ("created") only when no sale carries the order (pending, failed).
 * checkout-draft and trash orders give none.
 *
 * The X-WC-Webhook-* headers are not signed: a body that is not what its topic says is refused
 * (`wooTopicDisagreement`, also checked at the door by `verifyWooDelivery`).
 */
import { contactOf, currencyOf, fullName, minor, minorOrZero, readOrUndefined, sum, withOrder, MoneyUnreadable } from '../money';
import { TranslateError, headerValue, type ChannelFact, type FactLine, type FulfilmentStatus, type Headers, type ListingRef, type OrderDetails, type OrderLineDetail, type PaymentStatus } from '../types';

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

/** Statuses whose order is not (yet) an order anyone placed: no order_updated. */
const NOT_PLACED = new Set(['checkout-draft', 'trash', 'auto-draft']);

/** Money given back so far: the sum of the order's `refunds[].total` (negative strings), as a positive amount. */
function refundedOf(order: Obj, currency: string): number {
  const refunds = Array.isArray(order.refunds) ? order.refunds : [];
  return sum(refunds.map((r, k) => Math.abs(minor(isObj(r) ? r.total : undefined, currency, `WooCommerce refund ${k + 1}`))));
}

function paymentOf(order: Obj, status: string, currency: string, total: number): PaymentStatus {
  const refunded = refundedOf(order, currency);
  if (status === 'refunded' || (refunded > 0 && refunded >= total)) return 'refunded';
  if (refunded > 0) return 'partially_refunded';
  const paid = gmt(order.date_paid_gmt) ?? gmt(order.date_paid);
  switch (status) {
    case 'completed':
      return 'paid';
    case 'processing':
    case 'on-hold':
      return paid ? 'paid' : 'pending';
    case 'pending':
    case 'checkout-draft':
      return 'pending';
    case 'cancelled':
    case 'failed':
      return 'voided';
    default:
      return 'unknown';
  }
}

function fulfilmentOf(order: Obj, status: string): FulfilmentStatus {
  switch (status) {
    case 'completed':
      return 'fulfilled';
    case 'cancelled':
      return 'cancelled';
    case 'refunded': {
      const items = (Array.isArray(order.line_items) ? order.line_items : []).filter(isObj);
      const back = items.length > 0 && items.every((l) => typeof l.quantity === 'number' && metaCount(l, '_restock_refunded_items') >= l.quantity);
      return back ? 'returned' : 'unknown';
    }
    case 'processing':
    case 'on-hold':
    case 'pending':
    case 'failed':
      return 'unfulfilled';
    default:
      return 'unknown';
  }
}

function lineDetail(raw: unknown, i: number, currency: string): OrderLineDetail {
  const what = `WooCommerce order line ${i + 1}`;
  if (!isObj(raw)) throw new MoneyUnreadable(what);
  const lineId = wooId(raw.id);
  const quantity = raw.quantity;
  if (!lineId || typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 0) throw new MoneyUnreadable(what);
  const subtotal = minor(raw.subtotal, currency, `${what}: subtotal`);
  const total = minor(raw.total, currency, `${what}: total`);
  return {
    lineId,
    sku: skuOf(raw.sku),
    title: typeof raw.name === 'string' && raw.name !== '' ? raw.name : null,
    quantity,
    // WooCommerce keeps no unit price: the line subtotal ÷ quantity when it divides exactly.
    unitPrice: quantity > 0 && subtotal % quantity === 0 ? subtotal / quantity : null,
    discount: subtotal - total,
    tax: minorOrZero(raw.total_tax, currency, `${what}: total_tax`),
    total,
  };
}

/** The money and states of a REST order body, or undefined when an amount cannot be read. */
export function orderDetailsOf(order: Obj, status: string, fallbackAt: string): OrderDetails | undefined {
  return readOrUndefined(() => {
    const currency = currencyOf(order.currency, 'The WooCommerce order currency');
    const total = minor(order.total, currency, 'WooCommerce total');
    const lines = (Array.isArray(order.line_items) ? order.line_items : []).map((raw, i) => lineDetail(raw, i, currency));
    const billing = isObj(order.billing) ? order.billing : {};
    const id = wooId(order.id);
    const number = typeof order.number === 'string' && order.number.trim() !== '' && order.number.trim() !== id ? order.number.trim() : null;
    return {
      currency,
      subtotal: sum(lines.map((l) => l.total)),
      discount: minorOrZero(order.discount_total, currency, 'WooCommerce discount_total'),
      tax: minorOrZero(order.total_tax, currency, 'WooCommerce total_tax'),
      shipping: minorOrZero(order.shipping_total, currency, 'WooCommerce shipping_total'),
      total,
      paymentStatus: paymentOf(order, status, currency, total),
      fulfilmentStatus: fulfilmentOf(order, status),
      customerRef: wooId(order.customer_id),
      contact: contactOf(fullName(billing.first_name, billing.last_name), billing.email),
      number,
      placedAt: gmt(order.date_created_gmt) ?? gmt(order.date_created) ?? fallbackAt,
      lines,
    };
  });
}

/** One money-only refund fact per entry of the order's `refunds[]` whose amount can be read. */
function refundMoneyFacts(order: Obj, orderId: string, currency: string, occurredAt: string): ChannelFact[] {
  const facts: ChannelFact[] = [];
  for (const r of Array.isArray(order.refunds) ? order.refunds : []) {
    if (!isObj(r)) continue;
    const refundId = wooId(r.id);
    const amount = readOrUndefined(() => Math.abs(minor(r.total, currency, `WooCommerce refund ${String(r.id)}`)));
    if (refundId && amount !== undefined) facts.push({ type: 'refund', refundId, orderId, occurredAt, lines: [], money: { currency, amount } });
  }
  return facts;
}

function orderFacts(order: Obj, change: 'created' | 'updated'): ChannelFact[] {
  const orderId = wooId(order.id);
  if (!orderId) throw new TranslateError('The WooCommerce order has no id.');
  const what = `WooCommerce order ${orderId}`;
  if (typeof order.status !== 'string') throw new TranslateError(`${what} has no status.`);
  const status = order.status.startsWith('wc-') ? order.status.slice(3) : order.status;
  const cancelled = status === 'cancelled';
  // When the order last changed: what its order_updated and refunds are dated with.
  const modified = gmt(order.date_modified_gmt) ?? gmt(order.date_modified) ?? gmt(order.date_created_gmt) ?? gmt(order.date_created);
  /** The stock facts with the money ones around them: the order_updated first, the refunds' money last. */
  const withMoneyFacts = (stock: ChannelFact[], details: OrderDetails | undefined): ChannelFact[] => {
    if (!details || !modified || NOT_PLACED.has(status)) return stock;
    const carried = stock.some((f) => f.type === 'sale' || f.type === 'cancellation');
    // The update first: the log compares its states with those it had before this event.
    const update: ChannelFact[] = change === 'updated' || !carried ? [{ type: 'order_updated', orderId, occurredAt: modified, change, order: details }] : [];
    return [...update, ...stock, ...refundMoneyFacts(order, orderId, details.currency, modified)];
  };
  const readDetails = (at: string | null) => (at ? orderDetailsOf(order, status, at) : undefined);
  if (!SOLD.has(status) && !cancelled) return withMoneyFacts([], readDetails(modified));
  const lines = stockLines(order, what);
  if (lines.length === 0) return withMoneyFacts([], readDetails(modified));
  const created = when(what, order.date_created_gmt, order.date_created);
  const details = readDetails(created);
  const facts: ChannelFact[] = [withOrder({ type: 'sale' as const, orderId, occurredAt: created, lines: lines.map((l) => l.line) }, details)];

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
    if (cancelLines.length > 0) {
      const occurredAt = when(what, order.date_modified_gmt, order.date_modified, order.date_created_gmt);
      facts.push(withOrder({ type: 'cancellation' as const, orderId, occurredAt, lines: cancelLines }, details));
    }
  }
  return withMoneyFacts(facts, details);
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

const ORDER_TOPICS = new Set(['order.created', 'order.updated', 'order.restored']);
const PRODUCT_TOPICS = new Set(['product.created', 'product.updated', 'product.restored']);

/**
 * Why a delivery is not what its `X-WC-Webhook-Topic` says, or null when it is (or when the topic is
 * one the hub takes no fact from, or the body is not a JSON object: translate refuses that).
 * WooCommerce signs the body only; its X-WC-Webhook-* headers are not signed, so a genuine body
 * resent under another topic must not become another fact. Every genuine delivery keeps these
 * (WC_Webhook::deliver and ::build_payload, plugins/woocommerce/includes/class-wc-webhook.php):
 * - X-WC-Webhook-Resource and -Event, when sent, are the topic's two parts (`order` and `created`
 *   of `order.created`; `action` and the hook name of `action.<hook>`);
 * - `order.*`: the body is the order as /wc/v3/orders/{id} answers it (a `line_items` list);
 * - `product.*`: the product as /wc/v3/products/{id} answers it (`manage_stock` or
 *   `stock_quantity`, no `line_items`);
 * - `action.<hook>`: `{action: "<hook>", arg: …}`; with `afterExpand` (translate, once `expand`
 *   has fetched the order of action.woocommerce_order_refunded) an order body is accepted too.
 * `order.created` and `order.updated` carry the same order body: what they book comes from the
 * body's status and lines, never from which of the two the header names.
 */
export function wooTopicDisagreement(topic: string, body: unknown, headers: Headers, opts: { afterExpand?: boolean } = {}): string | null {
  const [resource = '', event = ''] = topic.split('.');
  const said = (what: string) =>
    `The X-WC-Webhook-Topic header says "${topic}", but ${what}. WooCommerce signs the body only, not its headers, so the hub takes a fact only when the body shows it.`;
  const namedResource = headerValue(headers, 'x-wc-webhook-resource');
  if (namedResource !== null && namedResource !== resource) return said(`X-WC-Webhook-Resource says "${namedResource.slice(0, 100)}"`);
  const namedEvent = headerValue(headers, 'x-wc-webhook-event');
  if (namedEvent !== null && namedEvent !== event) return said(`X-WC-Webhook-Event says "${namedEvent.slice(0, 100)}"`);
  if (!isObj(body)) return null;
  const isOrder = Array.isArray(body.line_items);
  if (ORDER_TOPICS.has(topic)) return isOrder ? null : said('the signed body is not an order (it has no line_items list)');
  if (PRODUCT_TOPICS.has(topic)) {
    return !('line_items' in body) && ('manage_stock' in body || 'stock_quantity' in body) ? null : said(`the signed body is not a product (${isOrder ? 'it is an order' : 'it has neither manage_stock nor stock_quantity'})`);
  }
  if (resource === 'action') {
    if (body.action === event && 'arg' in body) return null;
    if (opts.afterExpand && topic === 'action.woocommerce_order_refunded' && isOrder) return null;
    return said(`the signed body is not the payload of the action ${event.slice(0, 100)} ({"action": "${event.slice(0, 100)}", "arg": …})`);
  }
  return null;
}

export function translate(topic: string, body: unknown, headers: Headers): ChannelFact[] {
  if (!isObj(body)) throw new TranslateError(`The WooCommerce ${topic} event body is not a JSON object.`);
  const disagreement = wooTopicDisagreement(topic, body, headers, { afterExpand: true });
  if (disagreement) throw new TranslateError(disagreement);
  switch (topic) {
    case 'order.created':
      return orderFacts(body, 'created');
    case 'order.updated':
    case 'order.restored':
      return orderFacts(body, 'updated');
    case 'action.woocommerce_order_refunded':
      // The action payload is only {action, arg: order id}; `expand` replaces it with the order.
      if (!Array.isArray(body.line_items) && 'arg' in body) return [];
      return orderFacts(body, 'updated');
    case 'product.updated':
      return productFacts(body);
    default:
      return [];
  }
}
