/**
 * Pure translation of Revel events into the hub's facts.
 * - `order.finalized` (webhook, and the `orders` feed): an OrderAllInOne body (`orderInfo`, `items`,
 *   payments, history). Each item with a positive quantity is a sale line at the order's
 *   establishment; an item with a negative quantity is a returned line (a refund whose id is the
 *   order's; the order it returns is `orderInfo.original_order` when Revel says, else this one),
 *   put back on the shelf unless the item says `returned_to_inventory: false`; an order with both is
 *   an exchange. A voided item (`voided_date` set) is a sale line and a cancellation line with
 *   restock: whichever of them arrives, the two keys net to nothing, once.
 * - `inout.stock` (webhook): the product's stock status changed. It carries no count, so `expand`
 *   reads the product's stock records (`stock`) and each becomes a reported level.
 * - `inventory.level` (the `inventory` feed): one stock record, a reported level.
 * Reported levels are compared with what the hub expects, never booked blindly (docs/attribution.md).
 */
import { TranslateError, type ChannelFact, type FactLine } from '../types';
import { idOf, INOUT_STOCK, INVENTORY_TOPIC, isoOf, isRow, ORDER_FINALIZED, type Row } from './wire';

/** Where `expand` puts the stock records it read for an `inout.stock` event. */
export const EXPANDED_STOCK_KEY = 'stockrelay_stock';

const refOf = (productId: string) => ({ productId, variantId: productId });

function quantityOf(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && Number.isInteger(n) ? n : null;
}

function levelFact(row: Row, fallbackAt: string): ChannelFact {
  const product = idOf(row.product);
  const est = idOf(row.establishment);
  const q = row.quantity_in_hand;
  const n = typeof q === 'number' ? q : typeof q === 'string' && q.trim() !== '' ? Number(q) : NaN;
  if (!product || !est || !Number.isFinite(n)) throw new TranslateError(`A Revel stock record without a product, an establishment or a quantity_in_hand (${JSON.stringify(row).slice(0, 200)}).`);
  return { type: 'level_observed', sku: null, ref: refOf(product), locationId: est, available: Math.floor(n), occurredAt: isoOf(row.updated_date) ?? fallbackAt };
}

function translateOrder(body: unknown): ChannelFact[] {
  if (!isRow(body) || !isRow(body.orderInfo) || !Array.isArray(body.items)) throw new TranslateError('A Revel order.finalized body without orderInfo and items.');
  const info = body.orderInfo;
  const orderId = idOf(info.id);
  if (!orderId) throw new TranslateError('A Revel order without an id in orderInfo.');
  const est = idOf(info.establishment);
  const occurredAt = isoOf(info.updated_date) ?? isoOf(info.created_date);
  if (!occurredAt) throw new TranslateError(`Revel order ${orderId} has no readable updated_date or created_date.`);
  const sold: FactLine[] = [];
  const voided: (FactLine & { restock: boolean })[] = [];
  const returned: (FactLine & { restock: boolean })[] = [];
  for (const [i, item] of body.items.entries()) {
    if (!isRow(item)) throw new TranslateError(`Item ${i + 1} of Revel order ${orderId} is not an object.`);
    const lineId = idOf(item.id);
    const product = idOf(item.product);
    const quantity = quantityOf(item.quantity);
    if (!lineId || quantity === null) throw new TranslateError(`Item ${i + 1} of Revel order ${orderId} has no id or no whole quantity.`);
    // An item that is not a product (a custom amount, a gift card sale) moves no stock.
    if (!product || quantity === 0) continue;
    const line: FactLine = { lineId, sku: typeof item.product_sku === 'string' && item.product_sku !== '' ? item.product_sku : null, ref: refOf(product), quantity: Math.abs(quantity), locationId: est };
    if (quantity > 0) {
      sold.push(line);
      if (item.voided_date !== null && item.voided_date !== undefined && item.voided_date !== '') voided.push({ ...line, restock: true });
    } else {
      returned.push({ ...line, restock: item.returned_to_inventory !== false });
    }
  }
  const facts: ChannelFact[] = [];
  if (sold.length > 0) facts.push({ type: 'sale', orderId, occurredAt, lines: sold });
  if (voided.length > 0) facts.push({ type: 'cancellation', orderId, occurredAt, lines: voided });
  if (returned.length > 0) facts.push({ type: 'refund', refundId: orderId, orderId: idOf(info.original_order) ?? orderId, occurredAt, lines: returned });
  return facts;
}

export function translateRevel(topic: string, body: unknown): ChannelFact[] {
  if (topic === ORDER_FINALIZED) return translateOrder(body);
  if (topic === INVENTORY_TOPIC) {
    if (!isRow(body)) throw new TranslateError('A Revel stock record that is not an object.');
    return [levelFact(body, new Date(0).toISOString())];
  }
  if (topic === INOUT_STOCK) {
    if (!isRow(body) || typeof body.instock !== 'boolean') throw new TranslateError('A Revel inout.stock body without instock.');
    // A modifier or an ingredient ran out: nothing the hub keeps stock of.
    if (body.type !== undefined && body.type !== 'product') return [];
    const rows = body[EXPANDED_STOCK_KEY];
    if (!Array.isArray(rows)) throw new TranslateError('A Revel inout.stock event carries no count: it is read once its stock records are fetched (expand).');
    const at = typeof body.stockrelay_read_at === 'string' ? body.stockrelay_read_at : new Date(0).toISOString();
    return rows.map((r) => {
      if (!isRow(r)) throw new TranslateError('A Revel stock record that is not an object.');
      return levelFact(r, at);
    });
  }
  // Customers, reward cards, menus, timesheets, integration changes: nothing about stock.
  return [];
}
