/**
 * The Dashboard tab: the last days of sales from the hub (GET /v1/reports/dashboard?days=7) as key
 * figures, three tables (by day, by channel, top items) and three embedded charts beside them.
 * A refresh clears what the last one wrote (columns A–F) and updates our charts in place (found by
 * their title or their fixed place), so refreshing never piles up rows or charts.
 * Amounts arrive as integers in minor units with their currency; `formatMinor` turns them into decimals.
 */
import { formatMinor, minorExponent } from '../../server/shared/money';
import { safeRows } from './cells';
import type { Context } from './context';
import type { EmbeddedChartLike, RangeLike, SheetLike } from './gas';
import { PROTECTION_PREFIX } from './setup';

export const DASHBOARD = 'Dashboard';
export const DASHBOARD_PATH = '/v1/reports/dashboard?days=7';
/** Every dashboard starts with this in A1: how a refresh knows the tab is ours to rewrite. */
export const DASHBOARD_MARK = 'Sales dashboard';
/** Our columns: A–F (tables up to six columns wide); the charts sit from column H. */
export const DASHBOARD_WIDTH = 6;
export const CHART_COLUMN = 8;
export const TOP_ITEMS = 10;

export interface Money {
  currency: string;
  amount: number;
}

export interface DashboardAnswer {
  from: string;
  to: string;
  currency: string | null;
  days: { day: string; units: number; orders: number; returned: number; revenue: Money[] }[];
  channels: { channelId: string; name: string; units: number; orders: number; revenue: Money[] }[];
  skus: { sku: string; title: string | null; units: number; returned: number; revenue: Money[] }[];
  totals: { units: number; orders: number; returned: number; returnsRate: number | null; sellThrough: number | null; revenue: Money[] };
}

/** Our three charts: kind, title (how we find them again) and fixed place. */
export const CHARTS = [
  { key: 'days', type: 'LINE', title: 'Units sold per day', row: 1 },
  { key: 'channels', type: 'COLUMN', title: 'Units sold by channel', row: 21 },
  { key: 'items', type: 'BAR', title: 'Top items by units sold', row: 41 },
] as const;

// ---------------------------------------------------------------- reading the hub's answer

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const rate = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown) => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));

function money(v: unknown): Money[] {
  if (!Array.isArray(v)) return [];
  return v
    .filter((m): m is { currency: string; amount: number } => !!m && typeof m === 'object' && typeof (m as Money).currency === 'string' && Number.isSafeInteger((m as Money).amount))
    .map((m) => ({ currency: m.currency, amount: m.amount }));
}

/** Pure: checks the hub's answer; throws a plain sentence when it is not what the add-on expects. */
export function parseDashboard(body: unknown): DashboardAnswer {
  const b = body as Record<string, unknown> | null;
  if (!b || typeof b !== 'object' || !Array.isArray(b.days) || !Array.isArray(b.channels) || !Array.isArray(b.skus) || !b.totals || typeof b.totals !== 'object') {
    throw new Error('The hub’s sales figures came in a form this add-on does not understand (is the hub up to date?).');
  }
  const t = b.totals as Record<string, unknown>;
  return {
    from: str(b.from),
    to: str(b.to),
    currency: typeof b.currency === 'string' && b.currency ? b.currency : null,
    days: (b.days as Record<string, unknown>[]).map((d) => ({ day: str(d?.day), units: num(d?.units), orders: num(d?.orders), returned: num(d?.returned), revenue: money(d?.revenue) })),
    channels: (b.channels as Record<string, unknown>[]).map((c) => ({ channelId: str(c?.channelId), name: str(c?.name) || str(c?.channelId), units: num(c?.units), orders: num(c?.orders), revenue: money(c?.revenue) })),
    skus: (b.skus as Record<string, unknown>[]).map((s) => ({ sku: str(s?.sku), title: s?.title ? str(s.title) : null, units: num(s?.units), returned: num(s?.returned), revenue: money(s?.revenue) })),
    totals: { units: num(t.units), orders: num(t.orders), returned: num(t.returned), returnsRate: rate(t.returnsRate), sellThrough: rate(t.sellThrough), revenue: money(t.revenue) },
  };
}

// ---------------------------------------------------------------- formatting

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "2026-11-29" → "29 Nov 2026" (anything else is shown as it came). */
export function dayText(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return m ? `${Number(m[3])} ${MONTHS[Number(m[2]) - 1] ?? m[2]} ${m[1]}` : iso;
}

/** "1234567.50" → "1,234,567.50". */
const grouped = (decimal: string) => decimal.replace(/^(-?)(\d+)/, (_, sign: string, int: string) => sign + int.replace(/\B(?=(\d{3})+(?!\d))/g, ','));

function safeFormat(amount: number, currency: string): string | null {
  try {
    return formatMinor(amount, currency);
  } catch {
    return null;
  }
}

/** 123450 AUD → "1,234.50 AUD". */
export function moneyText(m: Money): string {
  const f = safeFormat(m.amount, m.currency);
  return f === null ? `${m.amount} (minor units) ${m.currency}` : `${grouped(f)} ${m.currency}`;
}

/** The sum in one currency, in minor units. */
const amountIn = (list: Money[], currency: string) => list.filter((m) => m.currency === currency).reduce((s, m) => s + m.amount, 0);
const otherThan = (list: Money[], currency: string | null) => list.filter((m) => m.currency !== currency && m.amount !== 0);

/** Pure: the revenue of a table row: a number in the main currency, or each currency as text when there is none. */
export function revenueCell(list: Money[], main: string | null): number | string {
  if (main) {
    const f = safeFormat(amountIn(list, main), main);
    return f === null ? 0 : Number(f);
  }
  return list.filter((m) => m.amount !== 0).map(moneyText).join(', ');
}

/** Pure: total revenue for the key figures: the main currency first, other currencies each on their own. */
export function revenueText(list: Money[], main: string | null): string {
  const others = otherThan(list, main).map(moneyText);
  if (main) {
    const head = moneyText({ currency: main, amount: amountIn(list, main) });
    return others.length ? `${head} (and ${others.join(', ')})` : head;
  }
  return others.length ? others.join(' · ') : 'none';
}

/** 0.06 → "6%", 0.125 → "12.5%"; null → "not known yet". */
export function percentText(v: number | null): string {
  if (v === null) return 'not known yet';
  return `${Math.round(v * 1000) / 10}%`;
}

function numberFormatFor(currency: string | null): string | null {
  if (!currency) return null;
  try {
    const exp = minorExponent(currency);
    return exp === 0 ? '#,##0' : `#,##0.${'0'.repeat(exp)}`;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- the layout, pure

export interface Section {
  /** The header row of the table (its data follows). */
  headerRow: number;
  rows: number;
}

export interface DashboardLayout {
  cells: unknown[][];
  days: Section;
  channels: Section;
  items: Section;
  /** Columns (1-based) of each table's revenue, for the number format; null when shown as text. */
  revenueColumns: { section: 'days' | 'channels' | 'items'; column: number }[];
  /** Row of each key figure. */
  figures: Record<string, number>;
}

/** Pure: every cell of the dashboard, DASHBOARD_WIDTH wide, and where each table sits. */
export function layoutDashboard(d: DashboardAnswer, refreshed: string): DashboardLayout {
  const main = d.currency;
  const cells: unknown[][] = [];
  const put = (...row: unknown[]) => {
    cells.push([...row, ...new Array(Math.max(0, DASHBOARD_WIDTH - row.length)).fill('')].slice(0, DASHBOARD_WIDTH));
    return cells.length;
  };
  const revenueHeader = main ? `Revenue (${main})` : 'Revenue';
  const hasOthers = (lists: Money[][]) => main !== null && lists.some((l) => otherThan(l, main).length > 0);
  const othersCell = (l: Money[]) => otherThan(l, main).map(moneyText).join(', ');

  put(`${DASHBOARD_MARK}: ${dayText(d.from)} to ${dayText(d.to)}`);
  put(`Refreshed ${refreshed} from the hub. ${main ? `Amounts in ${main}${hasOthers([d.totals.revenue]) ? ' (sales in other currencies are shown beside them)' : ''}.` : 'Amounts are shown in each currency sold in.'}`);
  put();
  put('Key figures');
  const figures: Record<string, number> = {};
  figures['Units sold'] = put('Units sold', d.totals.units);
  figures['Orders'] = put('Orders', d.totals.orders);
  figures['Revenue'] = put('Revenue', revenueText(d.totals.revenue, main));
  figures['Returned'] = put('Units returned', d.totals.returned);
  figures['Returns rate'] = put('Returns rate', percentText(d.totals.returnsRate));
  figures['Sell-through'] = put('Sell-through', percentText(d.totals.sellThrough));
  put();

  const revenueColumns: DashboardLayout['revenueColumns'] = [];

  put(d.days.length ? 'Sales by day' : 'Sales by day (no sales in this period)');
  const dayOthers = hasOthers(d.days.map((x) => x.revenue));
  const days: Section = { headerRow: put('Day', 'Units sold', 'Orders', 'Returned', revenueHeader, ...(dayOthers ? ['Other currencies'] : [])), rows: d.days.length };
  for (const x of d.days) put(x.day, x.units, x.orders, x.returned, revenueCell(x.revenue, main), ...(dayOthers ? [othersCell(x.revenue)] : []));
  if (main) revenueColumns.push({ section: 'days', column: 5 });
  put();

  put(d.channels.length ? 'By channel' : 'By channel (no sales in this period)');
  const chOthers = hasOthers(d.channels.map((x) => x.revenue));
  const channels: Section = { headerRow: put('Channel', 'Units sold', 'Orders', revenueHeader, ...(chOthers ? ['Other currencies'] : [])), rows: d.channels.length };
  for (const x of d.channels) put(x.name, x.units, x.orders, revenueCell(x.revenue, main), ...(chOthers ? [othersCell(x.revenue)] : []));
  if (main) revenueColumns.push({ section: 'channels', column: 4 });
  put();

  const top = [...d.skus]
    .sort((a, b) => b.units - a.units || (main ? amountIn(b.revenue, main) - amountIn(a.revenue, main) : 0) || a.sku.localeCompare(b.sku))
    .slice(0, TOP_ITEMS);
  put(top.length ? `Top items${d.skus.length > TOP_ITEMS ? ` (the ${TOP_ITEMS} that sold most units)` : ''}` : 'Top items (no sales in this period)');
  const itOthers = hasOthers(top.map((x) => x.revenue));
  const items: Section = { headerRow: put('Item', 'SKU', 'Units sold', 'Returned', revenueHeader, ...(itOthers ? ['Other currencies'] : [])), rows: top.length };
  for (const x of top) put(x.title || x.sku, x.sku, x.units, x.returned, revenueCell(x.revenue, main), ...(itOthers ? [othersCell(x.revenue)] : []));
  if (main) revenueColumns.push({ section: 'items', column: 5 });

  return { cells, days, channels, items, revenueColumns, figures };
}

// ---------------------------------------------------------------- writing the tab

/** The tab is ours: new, empty, or one we wrote before. Someone else's "Dashboard" is never overwritten. */
function ownedTab(sheet: SheetLike, mark: (a1: unknown) => boolean, chartTitles: string[]): boolean {
  if (sheet.getLastRow() === 0 && sheet.getCharts().length === 0) return true;
  if (mark(sheet.getRange(1, 1, 1, 1).getValue())) return true;
  return sheet.getLastRow() === 0 && sheet.getCharts().every((c) => chartTitles.includes(String(c.getOptions().get('title') ?? '')));
}

/** Finds or creates a tab the hub's figures are written to, protected warning-only; throws when the name is taken by someone else's tab. */
export function reportTab(c: Context, name: string, mark: (a1: unknown) => boolean, chartTitles: string[] = []): SheetLike {
  const ss = c.spreadsheet();
  const sheet = ss.getSheetByName(name) ?? ss.insertSheet(name);
  if (!ownedTab(sheet, mark, chartTitles)) {
    throw new Error(`There is already a "${name}" tab that stockrelay did not make, so it was left alone. Rename that tab, then refresh again.`);
  }
  const ours = sheet.getProtections(c.services.spreadsheetApp.ProtectionType.SHEET).filter((p) => p.getDescription().startsWith(PROTECTION_PREFIX));
  if (ours.length === 0) sheet.protect().setDescription(`${PROTECTION_PREFIX} written by the hub (refreshed from it; typing here is overwritten)`).setWarningOnly(true);
  return sheet;
}

export function writeDashboard(c: Context, d: DashboardAnswer): DashboardLayout {
  const sheet = reportTab(c, DASHBOARD, (a1) => typeof a1 === 'string' && a1.startsWith(DASHBOARD_MARK), CHARTS.map((x) => x.title));
  const tz = c.timeZone();
  const layout = layoutDashboard(d, c.services.utilities.formatDate(c.now(), tz, 'd MMM yyyy HH:mm'));

  // What the last refresh wrote goes first (contents and formats), then everything is written at once.
  const lastRow = Math.max(sheet.getLastRow(), layout.cells.length);
  sheet.getRange(1, 1, lastRow, DASHBOARD_WIDTH).clear();
  sheet.getRange(1, 1, layout.cells.length, DASHBOARD_WIDTH).setValues(safeRows(layout.cells));

  sheet.getRange(1, 1, 1, 1).setFontWeight('bold');
  for (const s of [layout.days, layout.channels, layout.items]) {
    sheet.getRange(s.headerRow - 1, 1, 1, 1).setFontWeight('bold');
    sheet.getRange(s.headerRow, 1, 1, DASHBOARD_WIDTH).setFontWeight('bold');
  }
  sheet.getRange(layout.figures['Units sold']! - 1, 1, 1, 1).setFontWeight('bold');
  if (layout.days.rows) sheet.getRange(layout.days.headerRow + 1, 1, layout.days.rows, 1).setNumberFormat('ddd d mmm yyyy');
  const moneyFormat = numberFormatFor(d.currency);
  if (moneyFormat) {
    for (const r of layout.revenueColumns) {
      const s = layout[r.section];
      if (s.rows) sheet.getRange(s.headerRow + 1, r.column, s.rows, 1).setNumberFormat(moneyFormat);
    }
  }

  placeCharts(c, sheet, layout);
  return layout;
}

/** Our three charts: updated in place when they exist (by title or by their fixed place), inserted otherwise, duplicates removed. */
function placeCharts(c: Context, sheet: SheetLike, layout: DashboardLayout): void {
  const types = c.services.charts.ChartType;
  const range = (s: Section, col: number) => sheet.getRange(s.headerRow, col, s.rows + 1, 1);
  const ranges: Record<(typeof CHARTS)[number]['key'], RangeLike[]> = {
    // Day and units sit side by side: one range; the item's name and its units are columns A and C.
    days: [sheet.getRange(layout.days.headerRow, 1, layout.days.rows + 1, 2)],
    channels: [sheet.getRange(layout.channels.headerRow, 1, layout.channels.rows + 1, 2)],
    items: [range(layout.items, 1), range(layout.items, 3)],
  };
  let existing = sheet.getCharts();
  const titleOf = (ch: EmbeddedChartLike) => String(ch.getOptions().get('title') ?? '');
  const claimed = new Set<EmbeddedChartLike>();
  for (const spec of CHARTS) {
    const byTitle = existing.filter((ch) => titleOf(ch) === spec.title);
    const atPlace = existing.filter((ch) => {
      const info = ch.getContainerInfo();
      return info.getAnchorRow() === spec.row && info.getAnchorColumn() === CHART_COLUMN && !CHARTS.some((o) => o.title === titleOf(ch));
    });
    const mine = [...byTitle, ...atPlace].filter((ch) => !claimed.has(ch));
    mine.forEach((ch) => claimed.add(ch));
    const [keep, ...extra] = mine;
    for (const ch of extra) sheet.removeChart(ch);
    const builder = (keep ? keep.modify().clearRanges() : sheet.newChart()).setChartType(types[spec.type]);
    for (const r of ranges[spec.key]) builder.addRange(r);
    builder.setNumHeaders(1).setPosition(spec.row, CHART_COLUMN, 0, 0).setOption('title', spec.title).setOption('legend', { position: 'none' });
    if (keep) sheet.updateChart(builder.build());
    else sheet.insertChart(builder.build());
    existing = existing.filter((ch) => !extra.includes(ch));
  }
}
