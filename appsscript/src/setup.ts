/**
 * "Set up sheets": the Catalog, Movements, Orders, Alerts, Conflicts and Purchase Orders tabs with their headers,
 * validation on the quantity columns and warning-only protection on what the hub writes.
 * Running it again changes nothing that is already right: missing headers are added at the end,
 * staff's own columns and any column order are kept, protections are not doubled.
 */
import { readLayout, readRows, tagAllRows } from './catalog';
import { safeRows } from './cells';
import type { Context } from './context';
import type { SheetLike } from './gas';
import { readPoLayout, samePoHeader } from './purchase-orders';
import { shadowFromRows, writeShadow } from './shadow';
import { availableHeader, CATALOG, catalogHeaders, COMPUTED_ROLES, HEADER_ROW, LOG_TABS, onHandHeader, parseHeader, PO_HEADERS, PO_HUB_COLUMNS, PURCHASE_ORDERS, QUANTITY_ROLES } from '../../server/shared/sheet-layout';

export const PROTECTION_PREFIX = 'stockrelay:';
const COMPUTED_DESCRIPTION = `${PROTECTION_PREFIX} written by the hub`;
const QUANTITY_HELP = 'A whole number of units, 0 or more.';

export interface SetupReport {
  created: string[];
  headersAdded: Record<string, string[]>;
  locations: string[];
  rowsTagged: number;
  notes: string[];
}

function ensureSheet(ctx: Context, name: string, report: SetupReport): SheetLike {
  const ss = ctx.spreadsheet();
  const existing = ss.getSheetByName(name);
  if (existing) return existing;
  report.created.push(name);
  return ss.insertSheet(name);
}

/** Adds the headers that are missing (by meaning, not position) at the end of row 1. */
function ensureHeaders(sheet: SheetLike, wanted: readonly string[], same: (a: unknown, b: string) => boolean): string[] {
  const last = sheet.getLastColumn();
  const have = last > 0 ? (sheet.getRange(HEADER_ROW, 1, 1, last).getValues()[0] ?? []) : [];
  // Trailing empty header cells are reused.
  let end = have.length;
  while (end > 0 && (have[end - 1] === '' || have[end - 1] === null)) end--;
  const missing = wanted.filter((w) => !have.slice(0, end).some((h) => same(h, w)));
  if (missing.length > 0) sheet.getRange(HEADER_ROW, end + 1, 1, missing.length).setValues(safeRows([missing]));
  const width = end + missing.length;
  if (width > 0) sheet.getRange(HEADER_ROW, 1, 1, width).setFontWeight('bold');
  sheet.setFrozenRows(HEADER_ROW);
  return missing;
}

const sameHeader = (a: unknown, b: string) => {
  const pa = parseHeader(a);
  const pb = parseHeader(b);
  if (pa && pb) return JSON.stringify(pa) === JSON.stringify(pb);
  return typeof a === 'string' && a.trim().toLowerCase() === b.toLowerCase();
};

/** The hub's locations when connected; else the ones the sheet already names; else "main". */
function locationsFor(ctx: Context, sheet: SheetLike | null, report: SetupReport): string[] {
  const hub = ctx.hub();
  if (hub) {
    try {
      const res = hub.get<{ locations: { id: string }[] }>('/v1/locations');
      if (res.locations.length > 0) return res.locations.map((l) => l.id);
    } catch (err) {
      report.notes.push(`The hub’s locations could not be read (${err instanceof Error ? err.message : String(err)}); the columns already in the sheet were kept.`);
    }
  }
  if (sheet) {
    const named = readLayout(sheet).onHand.map((o) => o.location).filter((l): l is string => l !== null);
    if (named.length > 0) return named;
  }
  return ['main'];
}

export function setUpSheets(ctx: Context): SetupReport {
  const report: SetupReport = { created: [], headersAdded: {}, locations: [], rowsTagged: 0, notes: [] };
  const ss = ctx.spreadsheet();
  const locations = locationsFor(ctx, ss.getSheetByName(CATALOG), report);
  report.locations = locations;

  const catalog = ensureSheet(ctx, CATALOG, report);
  // A catalog with a plain "On hand" column (one location) keeps it; per-location columns are added otherwise.
  const layoutBefore = readLayout(catalog);
  const plainOnHand = layoutBefore.onHand.some((o) => o.location === null);
  const wanted = catalogHeaders(locations).filter((h) => !(plainOnHand && locations.length === 1 && (h === onHandHeader(locations[0]!) || h === availableHeader(locations[0]!))));
  const added = ensureHeaders(catalog, wanted, sameHeader);
  if (added.length) report.headersAdded[CATALOG] = added;

  const layout = readLayout(catalog);
  const rows = Math.max(catalog.getMaxRows() - HEADER_ROW, 1);
  const rule = ctx.services.spreadsheetApp.newDataValidation().requireNumberGreaterThanOrEqualTo(0).setAllowInvalid(false).setHelpText(QUANTITY_HELP).build();

  // Protections: ours are removed and laid again on the columns where they are now.
  for (const p of catalog.getProtections(ctx.services.spreadsheetApp.ProtectionType.RANGE)) {
    if (p.getDescription().startsWith(PROTECTION_PREFIX)) p.remove();
  }
  for (const [col, c] of layout.columns) {
    const body = catalog.getRange(HEADER_ROW + 1, col, rows, 1);
    if (QUANTITY_ROLES.includes(c.role)) body.setDataValidation(rule);
    if (COMPUTED_ROLES.includes(c.role)) {
      catalog.getRange(HEADER_ROW, col, rows + 1, 1).protect().setDescription(`${COMPUTED_DESCRIPTION} (${c.role.replace('_', ' ')})`).setWarningOnly(true);
    }
  }

  for (const [name, headers] of Object.entries(LOG_TABS)) {
    const sheet = ensureSheet(ctx, name, report);
    const more = ensureHeaders(sheet, headers, sameHeader);
    if (more.length) report.headersAdded[name] = more;
    const mine = sheet.getProtections(ctx.services.spreadsheetApp.ProtectionType.SHEET).filter((p) => p.getDescription().startsWith(PROTECTION_PREFIX));
    if (mine.length === 0) sheet.protect().setDescription(COMPUTED_DESCRIPTION).setWarningOnly(true);
    else mine.slice(1).forEach((p) => p.remove());
  }

  // Purchase Orders: staff type the orders; the hub writes Status, Reserved, Waiting, Reason and Updated.
  const po = ensureSheet(ctx, PURCHASE_ORDERS, report);
  const poAdded = ensureHeaders(po, PO_HEADERS, samePoHeader);
  if (poAdded.length) report.headersAdded[PURCHASE_ORDERS] = poAdded;
  for (const p of po.getProtections(ctx.services.spreadsheetApp.ProtectionType.RANGE)) {
    if (p.getDescription().startsWith(PROTECTION_PREFIX)) p.remove();
  }
  const poLayout = readPoLayout(po);
  const poRows = Math.max(po.getMaxRows() - HEADER_ROW, 1);
  const poFields = { Status: poLayout.status, Reserved: poLayout.reserved, Waiting: poLayout.waiting, Reason: poLayout.reason, Updated: poLayout.updated } as Record<string, number | undefined>;
  for (const header of PO_HUB_COLUMNS) {
    const col = poFields[header];
    if (col !== undefined) po.getRange(HEADER_ROW, col, poRows + 1, 1).protect().setDescription(`${COMPUTED_DESCRIPTION} (${header})`).setWarningOnly(true);
  }

  ctx.locked(() => {
    const data = readRows(catalog, layout);
    report.rowsTagged = tagAllRows(catalog, data);
    writeShadow(ctx.store(), shadowFromRows(data));
  });
  return report;
}

export function describeSetup(r: SetupReport): string {
  const parts: string[] = [];
  parts.push(r.created.length ? `Created the ${r.created.join(', ')} tab${r.created.length > 1 ? 's' : ''}.` : 'All tabs were there already.');
  const added = Object.entries(r.headersAdded).map(([tab, h]) => `${tab}: ${h.join(', ')}`);
  if (added.length) parts.push(`Added columns — ${added.join('; ')}.`);
  parts.push(`Locations: ${r.locations.join(', ')}.`);
  if (r.rowsTagged) parts.push(`${r.rowsTagged} row(s) now carry their SKU for the hub.`);
  parts.push(...r.notes);
  return parts.join(' ');
}
