/**
 * The facts in a delivery of the stockrelay OpenCart extension (protocol.ts), matching what
 * OpenCart does to stock (catalog/model/checkout/order addHistory, OpenCart 4):
 * - `order.status` with `stock: "subtracted"` (the order entered the processing/complete statuses):
 *   a sale of each line whose product has `subtract` on, with the levels read after;
 * - `stock: "restored"` (it left them; OpenCart puts every such line back): a refund when the
 *   extension says the new status is a refund status, else a cancellation, each line restocked;
 * - an order may enter and leave the stock statuses more than once; `cycle` counts the entries,
 *   and each cycle's lines have their own ids, so every move is booked once;
 * - `return.status`: a return (Sales > Returns) as a refund of its product; restocked only by the
 *   units the extension put back (`restocked`);
 * - `product.updated`: the product's quantity as a reported level (compared, not booked).
 * Option values' quantities move with their product's in OpenCart; a line is booked on its product
 * only (option values carry no SKU in OpenCart).
 */
import { TranslateError, type ChannelFact, type FactLine } from '../types';
import { OC_LOCATION, OC_TOPICS, ocSku, type OcLevel } from './protocol';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An OpenCart id: a positive whole number (or its decimal string, as PHP may send it). */
export function ocId(v: unknown): string | null {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return String(v);
  if (typeof v === 'string' && /^[1-9]\d{0,18}$/.test(v.trim())) return v.trim();
  return null;
}

function wholeNumber(v: unknown, what: string, min = 0): number {
  const n = typeof v === 'string' && /^-?\d{1,12}$/.test(v.trim()) ? Number(v.trim()) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) throw new TranslateError(`${what} is not a whole number${min === 0 ? ' of 0 or more' : ''}.`);
  return n;
}

/** A product's quantity may be below zero in OpenCart (sold while at 0 with stock checkout allowed). */
const quantityOf = (v: unknown, what: string): number => wholeNumber(v, what, Number.MIN_SAFE_INTEGER);

function levelFacts(levels: unknown, occurredAt: string, what: string): ChannelFact[] {
  if (levels === undefined) return [];
  if (!Array.isArray(levels)) throw new TranslateError(`${what}: levels is not a list.`);
  return levels.flatMap((l, i): ChannelFact[] => {
    if (!isObj(l)) throw new TranslateError(`${what}: level ${i + 1} is not an object.`);
    const productId = ocId(l.product_id);
    if (!productId) throw new TranslateError(`${what}: level ${i + 1} has no product_id.`);
    // Stock OpenCart does not subtract is not tracked: its quantity says nothing.
    if (wholeNumber(l.subtract, `${what}: level ${i + 1} subtract`) !== 1) return [];
    return [{ type: 'level_observed', sku: ocSku(l as Partial<OcLevel>), ref: { productId, variantId: productId }, locationId: OC_LOCATION, available: quantityOf(l.quantity, `${what}: level ${i + 1} quantity`), occurredAt }];
  });
}

function orderLines(data: Obj, cycle: number, what: string): FactLine[] {
  if (!Array.isArray(data.products)) throw new TranslateError(`${what} has no products list.`);
  return data.products.flatMap((p, i): FactLine[] => {
    if (!isObj(p)) throw new TranslateError(`${what}: product ${i + 1} is not an object.`);
    const lineId = ocId(p.order_product_id);
    const productId = ocId(p.product_id);
    if (!lineId) throw new TranslateError(`${what}: product ${i + 1} has no order_product_id.`);
    const quantity = wholeNumber(p.quantity, `${what}: product ${i + 1} quantity`);
    if (wholeNumber(p.subtract, `${what}: product ${i + 1} subtract`) !== 1 || quantity === 0) return [];
    // A product deleted since the order (no id, no SKU) moves no stock.
    const sku = ocSku(p);
    if (!productId && !sku) return [];
    return [{ lineId: cycle === 1 ? lineId : `${lineId}#${cycle}`, sku, ref: productId ? { productId, variantId: productId } : {}, quantity, locationId: OC_LOCATION }];
  });
}

function orderFacts(data: Obj, occurredAt: string): ChannelFact[] {
  if (!isObj(data.order)) throw new TranslateError('The OpenCart order.status event has no order.');
  const orderId = ocId(data.order.order_id);
  if (!orderId) throw new TranslateError('The OpenCart order.status event names no order_id.');
  const what = `OpenCart order ${orderId}`;
  const cycle = wholeNumber(data.cycle, `${what}: cycle`, 1);
  const levels = levelFacts(data.levels, occurredAt, what);
  switch (data.stock) {
    case 'none':
      return levels;
    case 'subtracted': {
      const lines = orderLines(data, cycle, what);
      return [...(lines.length > 0 ? [{ type: 'sale' as const, orderId, occurredAt, lines }] : []), ...levels];
    }
    case 'restored': {
      const lines = orderLines(data, cycle, what).map((l) => ({ ...l, restock: true }));
      if (lines.length === 0) return levels;
      const back: ChannelFact =
        data.refund === true ? { type: 'refund', refundId: `order-${orderId}-restock-${cycle}`, orderId, occurredAt, lines } : { type: 'cancellation', orderId, occurredAt, lines };
      return [back, ...levels];
    }
    default:
      throw new TranslateError(`${what}: stock is ${JSON.stringify(data.stock)}, not subtracted, restored or none.`);
  }
}

function returnFacts(data: Obj, occurredAt: string): ChannelFact[] {
  const r = data.return;
  if (!isObj(r)) throw new TranslateError('The OpenCart return.status event has no return.');
  const returnId = ocId(r.return_id);
  const orderId = ocId(r.order_id);
  if (!returnId || !orderId) throw new TranslateError('The OpenCart return.status event names no return_id or order_id.');
  const what = `OpenCart return ${returnId}`;
  const productId = ocId(r.product_id);
  const sku = ocSku(r);
  const quantity = wholeNumber(r.quantity, `${what}: quantity`);
  const restocked = wholeNumber(data.restocked, `${what}: restocked`);
  if (restocked > quantity) throw new TranslateError(`${what} says ${restocked} units were restocked of ${quantity} returned.`);
  const levels = levelFacts(data.levels, occurredAt, what);
  if (!productId && !sku) return levels;
  const line = { lineId: productId ?? sku!, sku, ref: productId ? { productId, variantId: productId } : {}, locationId: OC_LOCATION };
  const lines = restocked > 0 ? [{ ...line, quantity: restocked, restock: true }] : [{ ...line, quantity, restock: false }];
  return [{ type: 'refund', refundId: `return-${returnId}`, orderId, occurredAt, lines }, ...levels];
}

function productFacts(data: Obj, occurredAt: string): ChannelFact[] {
  if (!isObj(data.product)) throw new TranslateError('The OpenCart product.updated event has no product.');
  return levelFacts([data.product], occurredAt, 'OpenCart product.updated');
}

export function translate(topic: string, body: unknown): ChannelFact[] {
  if (!isObj(body)) throw new TranslateError(`The OpenCart ${topic} event body is not a JSON object.`);
  if (!(OC_TOPICS as readonly string[]).includes(topic)) return [];
  // The topic is signed inside the body: one that disagrees with what the hub was told is not read.
  if (body.topic !== topic) throw new TranslateError(`The OpenCart event says it is ${JSON.stringify(body.topic)}, not ${topic}.`);
  const createdAt = wholeNumber(body.created_at, `The OpenCart ${topic} event's created_at`, 1);
  const occurredAt = new Date(createdAt * 1000).toISOString();
  if (!isObj(body.data)) throw new TranslateError(`The OpenCart ${topic} event has no data.`);
  if (topic === 'order.status') return orderFacts(body.data, occurredAt);
  if (topic === 'return.status') return returnFacts(body.data, occurredAt);
  return productFacts(body.data, occurredAt);
}
