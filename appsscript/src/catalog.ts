/**
 * The Catalog tab, read by header name: staff may reorder columns or add their own, and the
 * add-on still finds SKU, Title, "On hand · <location>", "Available · <location>", Low-stock
 * threshold, Buffer, Status, Last synced and Sync note. Each row carries developer metadata
 * `stockrelay.sku` = its SKU, which follows the row when it is sorted or rows are inserted above it.
 */
import type { SheetLike } from './gas';
import { HEADER_ROW, SKU_METADATA_KEY, parseHeader, type Column } from '../../server/shared/sheet-layout';

export interface Layout {
  /** 1-based column number → what it holds (only the columns the add-on knows). */
  columns: Map<number, Column>;
  /** The SKU column, or null when there is none (then nothing can be relayed). */
  sku: number | null;
  title: number | null;
  threshold: number | null;
  onHand: { column: number; location: string | null }[];
  lastColumn: number;
}

export function layoutFromHeaders(headers: unknown[]): Layout {
  const columns = new Map<number, Column>();
  const layout: Layout = { columns, sku: null, title: null, threshold: null, onHand: [], lastColumn: headers.length };
  headers.forEach((h, i) => {
    const c = parseHeader(h);
    if (!c) return;
    const col = i + 1;
    // A header used twice: the first one counts, so a copy of a column never relays twice.
    if (c.role !== 'on_hand' && c.role !== 'available' && [...columns.values()].some((x) => x.role === c.role)) return;
    if (c.role === 'on_hand' && layout.onHand.some((o) => o.location === c.location)) return;
    columns.set(col, c);
    if (c.role === 'sku') layout.sku = col;
    if (c.role === 'title') layout.title = col;
    if (c.role === 'threshold') layout.threshold = col;
    if (c.role === 'on_hand') layout.onHand.push({ column: col, location: c.location });
  });
  return layout;
}

export function readLayout(sheet: SheetLike): Layout {
  const last = sheet.getLastColumn();
  if (last < 1) return layoutFromHeaders([]);
  return layoutFromHeaders(sheet.getRange(HEADER_ROW, 1, 1, last).getValues()[0] ?? []);
}

/** A SKU as typed: text, trimmed; a number typed as a SKU reads as its digits. */
export function skuOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  return String(value).trim();
}

export type QuantityCheck = { ok: true; value: number | null } | { ok: false; reason: string };

/**
 * Pure: reads a count typed into a quantity cell. Whole numbers of zero or more; an empty cell is
 * allowed only where `emptyAllowed` (a threshold or buffer may be blank, an on-hand count may not).
 */
export function checkQuantity(value: unknown, emptyAllowed: boolean): QuantityCheck {
  if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) {
    return emptyAllowed ? { ok: true, value: null } : { ok: false, reason: 'the cell was emptied; type 0 if none are left' };
  }
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^[+-]?\d+(\.0+)?$/.test(value.trim())) n = Number(value.trim());
  else if (typeof value === 'string' && /^[+-]?(\d+\.\d*|\.\d+|\d+\s*\/\s*\d+)$/.test(value.trim())) return { ok: false, reason: `"${value}" is a fraction; stock is counted in whole units` };
  else if (typeof value === 'boolean') return { ok: false, reason: `${value ? 'TRUE' : 'FALSE'} is not a number of units` };
  else return { ok: false, reason: `"${String(value)}" is not a number of units` };
  if (!Number.isFinite(n)) return { ok: false, reason: `"${String(value)}" is not a number of units` };
  if (!Number.isInteger(n)) return { ok: false, reason: `${n} is a fraction; stock is counted in whole units` };
  if (n < 0) return { ok: false, reason: `${n} is negative; a count of stock is zero or more (use the sidebar to remove stock with a reason)` };
  if (n > 100_000_000) return { ok: false, reason: `${n} is more than the hub accepts` };
  return { ok: true, value: n };
}

export interface CatalogRow {
  row: number;
  sku: string;
  title: string | null;
  threshold: number | null;
  /** Location (null: the hub's default) → the value in the cell, as read. */
  onHand: { location: string | null; column: number; value: unknown }[];
  /** True when some cell of the row holds something (a row without SKU but with data is suspicious). */
  hasData: boolean;
}

export function readRows(sheet: SheetLike, layout: Layout): CatalogRow[] {
  const last = sheet.getLastRow();
  if (last <= HEADER_ROW || layout.lastColumn < 1) return [];
  const values = sheet.getRange(HEADER_ROW + 1, 1, last - HEADER_ROW, layout.lastColumn).getValues();
  return values.map((cells, i) => rowFromValues(HEADER_ROW + 1 + i, cells, layout));
}

export function rowFromValues(row: number, cells: unknown[], layout: Layout): CatalogRow {
  const at = (col: number | null) => (col === null ? null : cells[col - 1]);
  const title = at(layout.title);
  const threshold = checkQuantity(at(layout.threshold), true);
  return {
    row,
    sku: skuOf(at(layout.sku)),
    title: title === null || title === undefined || title === '' ? null : String(title),
    threshold: threshold.ok ? threshold.value : null,
    onHand: layout.onHand.map((o) => ({ location: o.location, column: o.column, value: cells[o.column - 1] })),
    hasData: cells.some((c) => c !== '' && c !== null && c !== undefined),
  };
}

/** Whole-row range for developer metadata on a row. */
const rowRange = (sheet: SheetLike, row: number) => sheet.getRange(`${row}:${row}`);

/** Puts `stockrelay.sku` = sku on the row (or removes it when the SKU is empty); one entry per row. */
export function tagRow(sheet: SheetLike, row: number, sku: string): void {
  const mine = rowRange(sheet, row)
    .getDeveloperMetadata()
    .filter((m) => m.getKey() === SKU_METADATA_KEY);
  if (!sku) {
    mine.forEach((m) => m.remove());
    return;
  }
  const [first, ...extra] = mine;
  extra.forEach((m) => m.remove());
  if (!first) rowRange(sheet, row).addDeveloperMetadata(SKU_METADATA_KEY, sku);
  else if (first.getValue() !== sku) first.setValue(sku);
}

/** Tags every row of the catalog in one pass; returns how many rows were changed. */
export function tagAllRows(sheet: SheetLike, rows: CatalogRow[]): number {
  const byRow = new Map<number, { value: string | null; entries: { remove(): void; setValue(v: string): unknown }[] }>();
  for (const m of sheet.createDeveloperMetadataFinder().withKey(SKU_METADATA_KEY).find()) {
    const r = m.getLocation().getRow();
    if (!r) continue;
    const row = r.getRow();
    const e = byRow.get(row) ?? { value: m.getValue(), entries: [] };
    e.entries.push(m);
    byRow.set(row, e);
  }
  let changed = 0;
  const seen = new Set<number>();
  for (const r of rows) {
    seen.add(r.row);
    const e = byRow.get(r.row);
    const ok = r.sku ? e && e.entries.length === 1 && e.value === r.sku : !e;
    if (ok) continue;
    changed++;
    if (e && r.sku) {
      e.entries.slice(1).forEach((m) => m.remove());
      e.entries[0]!.setValue(r.sku);
    } else if (e) e.entries.forEach((m) => m.remove());
    else rowRange(sheet, r.row).addDeveloperMetadata(SKU_METADATA_KEY, r.sku);
  }
  // Metadata on rows past the end of the data (rows emptied at the bottom).
  for (const [row, e] of byRow) {
    if (!seen.has(row) && row > HEADER_ROW) {
      e.entries.forEach((m) => m.remove());
      changed++;
    }
  }
  return changed;
}
