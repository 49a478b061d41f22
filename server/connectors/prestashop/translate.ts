/**
 * What the PrestaShop events mean (the bodies the polled feeds store, feeds.ts):
 * - `order`: the order as the webservice answers it. PrestaShop takes the ordered quantity from
 *   stock when the order is validated, whatever its first state, so every order is a sale of its
 *   `order_rows`; an order whose `current_state` is Canceled or Payment error (the shop's
 *   PS_OS_CANCELED and PS_OS_ERROR, 6 and 8 on a standard install; setting `cancelledStates`) is also
 *   a cancellation that restocks, as OrderHistory::changeIdOrderState puts `product_quantity` back.
 *   The state Refunded moves no stock, so it is no fact of ours;
 * - `order_slip`: a credit slip (a refund). PrestaShop does not say on the slip whether the goods went
 *   back to stock; it counts what did on the order line (`product_quantity_reinjected`). Those units are
 *   given to the order's slips in the order they were made, earliest first: this slip restocks what is
 *   left of them after the earlier slips, up to its own quantity;
 * - `stock_movement`: a movement of stock and the level its product or combination shows now: a
 *   level observed (the hub compares it, never books it as it is), with its basis `mvt:<read_through>`
 *   when the body says up to which movement the feed had read (rows.ts, psBasis).
 * A body that does not have what its topic needs is a TranslateError, never read as nothing happened.
 */
import { TranslateError, type ChannelFact, type FactLine } from '../types';
import { PS_LOCATION, psBasis, psId, psInt, type Row } from './rows';

export const PS_TOPICS = ['order', 'order_slip', 'stock_movement'] as const;

/** PS_OS_CANCELED and PS_OS_ERROR on a standard install. */
export const DEFAULT_CANCELLED_STATES = ['6', '8'];

const obj = (v: unknown): Row | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Row) : null);

function need<T>(v: T | null | undefined, what: string): T {
  if (v === null || v === undefined) throw new TranslateError(`This PrestaShop ${what}; nothing was booked from it.`);
  return v;
}

/** The shop's `Y-m-d H:i:s` as an ISO time (the shop's own clock, written as UTC). */
function when(v: unknown): string {
  return typeof v === 'string' && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(v) ? `${v.replace(' ', 'T')}.000Z` : new Date(0).toISOString();
}

const skuOf = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v : null);
const refOf = (product: unknown, attribute: unknown) => ({ productId: need(psId(product), 'line names no product'), variantId: psId(attribute) ?? '0' });

function orderFacts(body: unknown, cancelled: readonly string[]): ChannelFact[] {
  const order = need(obj(body), 'order is not an object');
  const orderId = need(psId(order.id), 'order has no id');
  const rows = obj(order.associations)?.order_rows;
  if (!Array.isArray(rows)) throw new TranslateError(`PrestaShop order ${orderId} came without its order_rows; nothing was booked from it.`);
  const lines: FactLine[] = rows.map((r, i) => {
    const row = need(obj(r), `order ${orderId} line ${i + 1} is not an object`);
    const quantity = psInt(row.product_quantity);
    if (quantity === null || quantity < 0) throw new TranslateError(`PrestaShop order ${orderId} line ${i + 1} has no quantity; nothing was booked from it.`);
    return { lineId: need(psId(row.id), `order ${orderId} line ${i + 1} has no id`), sku: skuOf(row.product_reference), ref: refOf(row.product_id, row.product_attribute_id), quantity, locationId: PS_LOCATION };
  });
  const occurredAt = when(order.date_add);
  const facts: ChannelFact[] = [{ type: 'sale', orderId, occurredAt, lines }];
  const state = psId(order.current_state);
  if (state !== null && cancelled.includes(state)) facts.push({ type: 'cancellation', orderId, occurredAt: when(order.date_upd), lines: lines.map((l) => ({ ...l, restock: true })) });
  return facts;
}

/** Units of one order line restocked by this slip: the line's reinjected units, given to the order's slips earliest first. */
function restockedBy(slipId: string, detailId: string, reinjected: number, slips: Row[]): number {
  let left = reinjected;
  const ordered = slips.map((s) => ({ id: psId(s.id), s })).filter((x): x is { id: string; s: Row } => x.id !== null).sort((a, b) => Number(a.id) - Number(b.id));
  for (const { id, s } of ordered) {
    const details = obj(s.associations)?.order_slip_details;
    const units = (Array.isArray(details) ? details : []).reduce((n: number, d) => n + (psId(obj(d)?.id_order_detail) === detailId ? Math.max(0, psInt(obj(d)?.product_quantity) ?? 0) : 0), 0);
    const take = Math.min(units, left);
    if (id === slipId) return take;
    left -= take;
  }
  return 0;
}

function slipFacts(body: unknown): ChannelFact[] {
  const b = need(obj(body), 'credit slip event is not an object');
  const slip = need(obj(b.order_slip), 'credit slip event has no order_slip');
  const slipId = need(psId(slip.id), 'credit slip has no id');
  const orderId = need(psId(slip.id_order), `credit slip ${slipId} names no order`);
  const details = obj(slip.associations)?.order_slip_details;
  if (!Array.isArray(details) || !Array.isArray(b.order_details) || !Array.isArray(b.order_slips)) throw new TranslateError(`PrestaShop credit slip ${slipId} came without its lines or its order's lines; nothing was booked from it.`);
  const orderDetails = b.order_details as unknown[];
  const lines: (FactLine & { restock: boolean })[] = [];
  details.forEach((d, i) => {
    const line = need(obj(d), `credit slip ${slipId} line ${i + 1} is not an object`);
    const detailId = need(psId(line.id_order_detail), `credit slip ${slipId} line ${i + 1} names no order line`);
    const quantity = psInt(line.product_quantity);
    if (quantity === null || quantity < 0) throw new TranslateError(`PrestaShop credit slip ${slipId} line ${i + 1} has no quantity; nothing was booked from it.`);
    const od = need(orderDetails.map(obj).find((x) => x !== null && psId(x.id) === detailId), `credit slip ${slipId} refunds order line ${detailId}, which its order does not have`);
    const base = { sku: skuOf(od.product_reference), ref: refOf(od.product_id, od.product_attribute_id), locationId: PS_LOCATION };
    const back = Math.min(quantity, restockedBy(slipId, detailId, Math.max(0, psInt(od.product_quantity_reinjected) ?? 0), b.order_slips as Row[]));
    if (back > 0) lines.push({ lineId: detailId, ...base, quantity: back, restock: true });
    if (quantity - back > 0) lines.push({ lineId: `${detailId}-kept`, ...base, quantity: quantity - back, restock: false });
  });
  return [{ type: 'refund', refundId: slipId, orderId, occurredAt: when(slip.date_add), lines }];
}

function movementFacts(body: unknown): ChannelFact[] {
  const b = need(obj(body), 'stock movement event is not an object');
  const mvt = need(obj(b.stock_movement), 'stock movement event has no stock_movement');
  if (b.stock_available === null) return []; // the product is gone: no level to report
  const stock = need(obj(b.stock_available), 'stock movement event has no stock_available');
  const available = psInt(stock.quantity);
  if (available === null) throw new TranslateError(`PrestaShop stock_available ${String(stock.id)} has no whole quantity (${JSON.stringify(stock.quantity)}); no level was taken from it.`);
  // The level stands on every movement the feed had read with it (rows.ts psBasis): kept by the hub
  // and handed back with the next push, which waits while a later movement of the item is unreported.
  const through = psId(b.read_through);
  const basis = through !== null && Number(through) >= (Number(psId(mvt.id)) || 0) ? { basis: psBasis(Number(through)) } : {};
  return [{ type: 'level_observed', sku: skuOf(mvt.reference), ref: refOf(stock.id_product, stock.id_product_attribute), locationId: PS_LOCATION, available, occurredAt: when(mvt.date_add), ...basis }];
}

export function makeTranslate(cancelledStates: readonly string[]): (topic: string, body: unknown) => ChannelFact[] {
  return (topic, body) => {
    if (topic === 'order') return orderFacts(body, cancelledStates);
    if (topic === 'order_slip') return slipFacts(body);
    if (topic === 'stock_movement') return movementFacts(body);
    throw new TranslateError(`PrestaShop sends no event "${topic}"; the connector reads ${PS_TOPICS.join(', ')}.`);
  };
}
