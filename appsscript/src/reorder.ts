/**
 * The Reorder tab: what to order from suppliers, from the hub's GET /v1/reorder (sales over the last
 * weeks, lead time, safety stock). The whole table is replaced each time under the same header
 * row; items to order now come first, then the ones that run out soonest.
 */
import { safeRows } from './cells';
import type { Context } from './context';
import { reportTab } from './dashboard';

export const REORDER = 'Reorder';
export const REORDER_PATH = '/v1/reorder';
export const REORDER_HEADERS = ['SKU', 'Title', 'Available', 'Incoming', 'Sold per day', 'Days of cover', 'Lead time (days)', 'Reorder point', 'Suggested order', 'Order now?'];
export const NO_RECENT_SALES = 'no recent sales';

export interface ReorderItem {
  sku: string;
  title: string | null;
  available: number;
  incoming: number;
  velocityPerDay: number;
  inStockDays: number | null;
  leadTimeDays: number;
  safetyStock: number;
  reorderPoint: number;
  suggestedQuantity: number;
  /** Null: no recent sales (the stock lasts indefinitely at the current pace). */
  daysOfCover: number | null;
  belowLeadTime: boolean;
}

export interface ReorderAnswer {
  generatedAt: string | null;
  windowDays: number | null;
  items: ReorderItem[];
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const maybe = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Pure: checks the hub's answer; throws a plain sentence when it is not what the add-on expects. */
export function parseReorder(body: unknown): ReorderAnswer {
  const b = body as Record<string, unknown> | null;
  if (!b || typeof b !== 'object' || !Array.isArray(b.items)) throw new Error('The hub’s reorder list came in a form this add-on does not understand (is the hub up to date?).');
  return {
    generatedAt: typeof b.generatedAt === 'string' ? b.generatedAt : null,
    windowDays: maybe(b.windowDays),
    items: (b.items as Record<string, unknown>[])
      .filter((i) => i && typeof i.sku === 'string' && i.sku)
      .map((i) => ({
        sku: i.sku as string,
        title: typeof i.title === 'string' && i.title ? i.title : null,
        available: num(i.available),
        incoming: num(i.incoming),
        velocityPerDay: num(i.velocityPerDay),
        inStockDays: maybe(i.inStockDays),
        leadTimeDays: num(i.leadTimeDays),
        safetyStock: num(i.safetyStock),
        reorderPoint: num(i.reorderPoint),
        suggestedQuantity: num(i.suggestedQuantity),
        daysOfCover: maybe(i.daysOfCover),
        belowLeadTime: i.belowLeadTime === true,
      })),
  };
}

export const orderNow = (i: ReorderItem) => i.belowLeadTime || i.suggestedQuantity > 0;
const round = (n: number, places: number) => Math.round(n * 10 ** places) / 10 ** places;

/** Pure: the rows of the table, order-now first, then by days of cover (no recent sales last), then SKU. */
export function reorderRows(items: ReorderItem[]): unknown[][] {
  const cover = (i: ReorderItem) => (i.daysOfCover === null ? Number.POSITIVE_INFINITY : i.daysOfCover);
  return [...items]
    .sort((a, b) => Number(orderNow(b)) - Number(orderNow(a)) || cover(a) - cover(b) || a.sku.localeCompare(b.sku))
    .map((i) => [
      i.sku,
      i.title ?? '',
      i.available,
      i.incoming,
      round(i.velocityPerDay, 2),
      i.daysOfCover === null ? NO_RECENT_SALES : round(i.daysOfCover, 1),
      i.leadTimeDays,
      i.reorderPoint,
      i.suggestedQuantity,
      orderNow(i) ? 'Yes' : 'No',
    ]);
}

export function writeReorder(c: Context, r: ReorderAnswer): { items: number; orderNow: number } {
  const sheet = reportTab(c, REORDER, (a1) => a1 === REORDER_HEADERS[0]);
  const width = REORDER_HEADERS.length;
  const rows = reorderRows(r.items);
  const last = sheet.getLastRow();
  if (last > 1) sheet.getRange(2, 1, last - 1, width).clear();
  const header = sheet.getRange(1, 1, 1, width);
  header.setValues(safeRows([REORDER_HEADERS])).setFontWeight('bold');
  const when = c.services.utilities.formatDate(c.now(), c.timeZone(), 'd MMM yyyy HH:mm');
  sheet.getRange(1, 1, 1, 1).setNote(`Refreshed from the hub ${when}${r.windowDays ? `, from sales over the last ${r.windowDays} days` : ''}. "Order now?" is Yes when the stock will not last until a new delivery arrives, or the hub suggests ordering.`);
  sheet.setFrozenRows(1);
  if (rows.length) sheet.getRange(2, 1, rows.length, width).setValues(safeRows(rows));
  return { items: rows.length, orderNow: r.items.filter(orderNow).length };
}
