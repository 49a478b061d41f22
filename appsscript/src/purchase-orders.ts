/**
 * The Purchase Orders tab: purchase orders from business customers, one row per line; rows with
 * the same PO number form one order (lines 1, 2, … in row order). "Send new purchase orders" checks
 * each order, marks the ones that cannot go with "Not sent" and what to fix, tags every row of the
 * others with developer metadata `stockrelay.po_line` = "<PO number>#<line>" (the hub finds the rows
 * by it when it writes Status back, never by row number) and relays each order, signed, through the
 * outbox (so it waits in the spreadsheet while the hub is down). "Cancel selected purchase order"
 * relays a cancellation for the order under the cursor.
 */
import { skuOf } from './catalog';
import { safeCell } from './cells';
import type { Context } from './context';
import type { RangeLike, SheetLike } from './gas';
import { relayProblem } from './hub';
import { resultFor } from './queue';
import { HEADER_ROW, PO_LINE_METADATA_KEY, PURCHASE_ORDERS } from '../../server/shared/sheet-layout';
import type { PurchaseOrderCancelRelay as HubPurchaseOrderCancelRelay, PurchaseOrderRelay as HubPurchaseOrderRelay } from '../../server/shared/relay';

export const STATUS_SENT = 'Sent';
export const STATUS_NOT_SENT = 'Not sent';
export const STATUS_CANCEL_SENT = 'Cancel sent';
/** Orders sent per run: each is one request to the hub, and Apps Script stops a run after 6 minutes. */
export const MAX_ORDERS_PER_RUN = 50;
const MAX_QUANTITY = 1_000_000;
const SEND_AGAIN = 'choose “Send new purchase orders” again';

type Field = 'number' | 'customer' | 'sku' | 'quantity' | 'location' | 'neededBy' | 'status' | 'reserved' | 'waiting' | 'reason' | 'updated';

const FIELD_OF: Record<string, Field> = {
  'po number': 'number',
  'po no': 'number',
  'po no.': 'number',
  'po #': 'number',
  po: 'number',
  customer: 'customer',
  sku: 'sku',
  quantity: 'quantity',
  qty: 'quantity',
  location: 'location',
  'needed by': 'neededBy',
  status: 'status',
  reserved: 'reserved',
  waiting: 'waiting',
  reason: 'reason',
  updated: 'updated',
};

/** Pure: the same column of the Purchase Orders tab ("Qty" is "Quantity", "PO #" is "PO number"). */
export function samePoHeader(a: unknown, b: string): boolean {
  const fa = FIELD_OF[norm(a)];
  return fa !== undefined ? fa === FIELD_OF[norm(b)] : norm(a) === norm(b);
}

export type PoLayout = Partial<Record<Field, number>> & { lastColumn: number };

const norm = (v: unknown) => (typeof v === 'string' ? v.trim().replace(/\s+/g, ' ').toLowerCase() : '');

/** Pure: which column holds what, by header name (the first of a repeated header counts). */
export function poLayoutFromHeaders(headers: unknown[]): PoLayout {
  const layout: PoLayout = { lastColumn: headers.length };
  headers.forEach((h, i) => {
    const f = FIELD_OF[norm(h)];
    if (f && layout[f] === undefined) layout[f] = i + 1;
  });
  return layout;
}

export function readPoLayout(sheet: SheetLike): PoLayout {
  const last = sheet.getLastColumn();
  return poLayoutFromHeaders(last > 0 ? (sheet.getRange(HEADER_ROW, 1, 1, last).getValues()[0] ?? []) : []);
}

export interface PoRow {
  row: number;
  number: string;
  customer: string;
  sku: string;
  quantity: unknown;
  location: string;
  neededBy: unknown;
  status: string;
  /** Something is typed in one of the order's own columns (not the hub's). */
  hasData: boolean;
}

const text = (v: unknown) => (v instanceof Date ? '' : skuOf(v));

export function readPoRows(sheet: SheetLike, layout: PoLayout): PoRow[] {
  const last = sheet.getLastRow();
  if (last <= HEADER_ROW || layout.lastColumn < 1) return [];
  const values = sheet.getRange(HEADER_ROW + 1, 1, last - HEADER_ROW, layout.lastColumn).getValues();
  return values.map((cells, i) => {
    const at = (f: Field) => (layout[f] === undefined ? '' : cells[layout[f]! - 1]);
    const own: Field[] = ['number', 'customer', 'sku', 'quantity', 'location', 'neededBy'];
    return {
      row: HEADER_ROW + 1 + i,
      number: text(at('number')),
      customer: text(at('customer')),
      sku: text(at('sku')),
      quantity: at('quantity'),
      location: text(at('location')),
      neededBy: at('neededBy'),
      status: text(at('status')),
      hasData: own.some((f) => {
        const v = at(f);
        return v !== '' && v !== null && v !== undefined && !(typeof v === 'string' && v.trim() === '');
      }),
    };
  });
}

/** Pure: a quantity ordered: a whole number of units, 1 or more. */
export function checkOrderQuantity(value: unknown): { ok: true; value: number } | { ok: false; reason: string } {
  if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) return { ok: false, reason: 'Quantity is empty: type how many units the customer wants' };
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^[+-]?\d+(\.\d+)?$/.test(value.trim())) n = Number(value.trim());
  else return { ok: false, reason: `Quantity "${value instanceof Date ? 'a date' : String(value)}" is not a number: type how many units, for example 3` };
  if (!Number.isFinite(n)) return { ok: false, reason: `Quantity "${String(value)}" is not a number: type how many units, for example 3` };
  if (!Number.isInteger(n)) return { ok: false, reason: `Quantity ${n} is not a whole number of units` };
  if (n < 1) return { ok: false, reason: `Quantity ${n} must be 1 or more` };
  if (n > MAX_QUANTITY) return { ok: false, reason: `Quantity ${n} is more than the hub accepts on one line` };
  return { ok: true, value: n };
}

/** Pure-ish: the "Needed by" cell as an ISO date (a date cell is midnight in the spreadsheet's time zone). */
export function checkNeededBy(value: unknown, toIsoDate: (d: Date) => string): { ok: true; value: string | null } | { ok: false; reason: string } {
  if (value === null || value === undefined || value === '' || (typeof value === 'string' && value.trim() === '')) return { ok: true, value: null };
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? { ok: false, reason: 'Needed by is not a date' } : { ok: true, value: toIsoDate(value) };
  const s = String(value).trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m) {
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3])) return { ok: true, value: s };
  }
  return { ok: false, reason: `Needed by "${s}" is not a date: type a date such as 2026-12-24, or leave it empty` };
}

export interface PoLine {
  line: number;
  sku: string;
  quantity: number;
  location?: string;
}

/** The relay the tab sends: the hub's shape (types only: no TypeBox in the bundle), as the tab fills it. */
export interface PurchaseOrderRelay extends HubPurchaseOrderRelay {
  kind: 'purchase_order';
  origin: 'sheet';
  number: string;
  customer: string;
  lines: PoLine[];
  neededBy?: string;
  sheet: string;
  actor?: string;
  submittedAt: string;
}

export interface CheckedOrder {
  number: string;
  rows: number[];
  /** Null when the order can be sent; else what to write in each row's Reason. */
  problems: Map<number, string> | null;
  customer: string;
  lines: PoLine[];
  neededBy: string | null;
}

/** Ends a sentence with a full stop when it has none. */
const stop = (s: string) => (/[.!?]$/.test(s.trim()) ? s.trim() : `${s.trim()}.`);
const isUnsent = (status: string) => status === '' || status.toLowerCase() === STATUS_NOT_SENT.toLowerCase();
const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Pure: the orders to send, checked. Rows whose Status is empty (or "Not sent", never sent) are
 * taken; rows of an order that was sent already are refused (lines cannot be added to it).
 */
export function checkOrders(rows: PoRow[], toIsoDate: (d: Date) => string): { orders: CheckedOrder[]; orphans: Map<number, string> } {
  const sentBefore = new Set(rows.filter((r) => r.number && !isUnsent(r.status)).map((r) => r.number));
  const orphans = new Map<number, string>();
  const groups = new Map<string, PoRow[]>();
  for (const r of rows) {
    if (!isUnsent(r.status) || !r.hasData) continue;
    if (!r.number) {
      orphans.set(r.row, `No PO number: type the purchase order’s number (rows with the same number form one order), then ${SEND_AGAIN}.`);
      continue;
    }
    groups.set(r.number, [...(groups.get(r.number) ?? []), r]);
  }

  const orders: CheckedOrder[] = [];
  for (const [number, group] of groups) {
    const own = new Map<number, string[]>();
    const orderProblems: string[] = [];
    const add = (row: number, p: string) => own.set(row, [...(own.get(row) ?? []), p]);
    const lines: PoLine[] = [];
    const dates = new Set<string>();
    if (sentBefore.has(number)) orderProblems.push(`${number} was sent already, so lines cannot be added to it: put these rows under a new PO number`);
    group.forEach((r, i) => {
      if (!r.sku) add(r.row, 'SKU is empty: type the item’s SKU as in the Catalog');
      const q = checkOrderQuantity(r.quantity);
      if (!q.ok) add(r.row, q.reason);
      const d = checkNeededBy(r.neededBy, toIsoDate);
      if (!d.ok) add(r.row, d.reason);
      else if (d.value) dates.add(d.value);
      if (r.sku && q.ok) lines.push({ line: i + 1, sku: r.sku, quantity: q.value, ...(r.location ? { location: r.location } : {}) });
    });
    const customers = [...new Set(group.map((r) => r.customer).filter(Boolean))];
    if (customers.length === 0) orderProblems.push(`Customer is empty: type who ${number} is for`);
    if (customers.length > 1) orderProblems.push(`the rows of ${number} name different customers (${customers.join(', ')}): one purchase order is for one customer`);
    if (dates.size > 1) orderProblems.push(`the rows of ${number} have different Needed by dates (${[...dates].join(', ')}): give the order one date`);

    const rowsOf = group.map((r) => r.row);
    if (own.size === 0 && orderProblems.length === 0) {
      orders.push({ number, rows: rowsOf, problems: null, customer: customers[0]!, lines, neededBy: dates.size === 1 ? [...dates][0]! : null });
      continue;
    }
    const problems = new Map<number, string>();
    const firstBad = group.find((r) => own.has(r.row));
    for (const r of group) {
      const mine = [...(own.get(r.row) ?? []), ...orderProblems];
      if (mine.length) problems.set(r.row, `${mine.map(sentence).join('; ')}. Then ${SEND_AGAIN}.`);
      else problems.set(r.row, `Not sent because row ${firstBad!.row} of ${number} needs fixing first (${own.get(firstBad!.row)![0]}).`);
    }
    orders.push({ number, rows: rowsOf, problems, customer: customers[0] ?? '', lines, neededBy: null });
  }
  return { orders, orphans };
}

// ---------------------------------------------------------------- writing to the tab

/** Writes one column's cells for the given rows, one request per run of adjacent rows. */
function writeColumn(sheet: SheetLike, col: number | undefined, values: Map<number, unknown>): void {
  if (col === undefined || values.size === 0) return;
  const rows = [...values.keys()].sort((a, b) => a - b);
  let start = 0;
  for (let i = 1; i <= rows.length; i++) {
    if (i < rows.length && rows[i] === rows[i - 1]! + 1) continue;
    const run = rows.slice(start, i);
    sheet.getRange(run[0]!, col, run.length, 1).setValues(run.map((r) => [safeCell(values.get(r))]));
    start = i;
  }
}

function writeRows(sheet: SheetLike, layout: PoLayout, rows: number[], cells: Partial<Record<Field, unknown>>): void {
  for (const [f, v] of Object.entries(cells) as [Field, unknown][]) writeColumn(sheet, layout[f], new Map(rows.map((r) => [r, v])));
}

function writeReasons(sheet: SheetLike, layout: PoLayout, reasons: Map<number, string>, now: Date): void {
  const rows = [...reasons.keys()];
  writeColumn(sheet, layout.status, new Map(rows.map((r) => [r, STATUS_NOT_SENT])));
  writeColumn(sheet, layout.reason, reasons);
  writeColumn(sheet, layout.updated, new Map(rows.map((r) => [r, now])));
}

const rowRange = (sheet: SheetLike, row: number): RangeLike => sheet.getRange(`${row}:${row}`);

/** Tags the order's rows "<number>#<line>"; tags left by an earlier attempt of the same order are removed first. */
function tagOrder(sheet: SheetLike, number: string, rows: number[]): void {
  const prefix = `${number}#`;
  const rowSet = new Set(rows);
  for (const m of sheet.createDeveloperMetadataFinder().withKey(PO_LINE_METADATA_KEY).find()) {
    const at = m.getLocation().getRow()?.getRow();
    if ((m.getValue() ?? '').startsWith(prefix) || (at !== undefined && rowSet.has(at))) m.remove();
  }
  rows.forEach((row, i) => rowRange(sheet, row).addDeveloperMetadata(PO_LINE_METADATA_KEY, `${number}#${i + 1}`));
}

/** The rows' Status cells as they are now (another person may have sent the same order meanwhile). */
function statusesNow(sheet: SheetLike, layout: PoLayout, rows: number[]): string[] {
  return rows.map((r) => text(sheet.getRange(r, layout.status!, 1, 1).getValue()));
}

// ---------------------------------------------------------------- Send new purchase orders

export interface SendReport {
  sent: string[];
  queued: string[];
  notSent: { number: string; why: string }[];
  refused: { number: string; message: string }[];
  /** Orders the hub took but had something to say about (unknown SKU, …). */
  flagged: { number: string; message: string }[];
  left: number;
  /** Why nothing could be done at all (no tab, no column). */
  problem: string | null;
  queuedMessage: string | null;
}

function missingColumns(layout: PoLayout): string[] {
  const need: [Field, string][] = [
    ['number', 'PO number'],
    ['customer', 'Customer'],
    ['sku', 'SKU'],
    ['quantity', 'Quantity'],
    ['status', 'Status'],
    ['reason', 'Reason'],
  ];
  return need.filter(([f]) => layout[f] === undefined).map(([, h]) => h);
}

export function sendPurchaseOrders(c: Context): SendReport {
  const report: SendReport = { sent: [], queued: [], notSent: [], refused: [], flagged: [], left: 0, problem: null, queuedMessage: null };
  const ss = c.spreadsheet();
  const sheet = ss.getSheetByName(PURCHASE_ORDERS);
  if (!sheet) return { ...report, problem: `There is no "${PURCHASE_ORDERS}" tab yet: choose Set up sheets, then type one row per line of each order.` };
  const layout = readPoLayout(sheet);
  const missing = missingColumns(layout);
  if (missing.length) return { ...report, problem: `The ${PURCHASE_ORDERS} tab has no ${missing.map((m) => `"${m}"`).join(', ')} column in row 1: choose Set up sheets to add ${missing.length > 1 ? 'them' : 'it'}.` };

  const tz = c.timeZone();
  const toIsoDate = (d: Date) => c.services.utilities.formatDate(d, tz, 'yyyy-MM-dd');
  const { orders, orphans } = checkOrders(readPoRows(sheet, layout), toIsoDate);
  const now = c.now();

  const bad = orders.filter((o) => o.problems);
  c.locked(() => {
    const reasons = new Map(orphans);
    for (const o of bad) for (const [row, why] of o.problems!) reasons.set(row, why);
    writeReasons(sheet, layout, reasons, now);
  });
  for (const o of bad) {
    const first = o.rows.map((r) => o.problems!.get(r)!).find((w) => !w.startsWith('Not sent because')) ?? '';
    report.notSent.push({ number: o.number, why: first.replace(/\. Then .*$/, '') });
  }
  for (const row of orphans.keys()) report.notSent.push({ number: `row ${row}`, why: 'no PO number' });

  const good = orders.filter((o) => !o.problems);
  report.left = Math.max(0, good.length - MAX_ORDERS_PER_RUN);
  const actor = c.actor();

  // Each order is queued (and its rows marked Sent) under the document lock; they are sent after it.
  const queued: { order: CheckedOrder; id: string }[] = [];
  for (const o of good.slice(0, MAX_ORDERS_PER_RUN)) {
    const body: PurchaseOrderRelay = {
      kind: 'purchase_order',
      origin: 'sheet',
      number: o.number,
      customer: o.customer,
      lines: o.lines,
      ...(o.neededBy ? { neededBy: o.neededBy } : {}),
      sheet: PURCHASE_ORDERS,
      ...(actor ? { actor } : {}),
      submittedAt: now.toISOString(),
    };
    const id = c.locked((): string | null => {
      if (!statusesNow(sheet, layout, o.rows).every(isUnsent)) return null; // sent meanwhile from another window
      const relayId = c.newRelayId();
      c.outbox().enqueue([{ id: relayId, kind: body.kind, body: JSON.stringify(body), summary: `Purchase order ${o.number} for ${o.customer} (${o.lines.length} line${o.lines.length === 1 ? '' : 's'})` }]);
      tagOrder(sheet, o.number, o.rows);
      // Status before it is sent: the hub may write its own status back before this execution ends.
      writeRows(sheet, layout, o.rows, { status: STATUS_SENT, reason: '', updated: now });
      return relayId;
    });
    if (id) queued.push({ order: o, id });
  }

  const flushed = c.deliver();
  const waiting = flushed ? flushed.waiting : c.outbox().waiting().length;
  for (const { order: o, id } of queued) {
    const result = resultFor(id, flushed, waiting);
    if (result.status === 'failed') c.locked(() => writeRows(sheet, layout, o.rows, { status: STATUS_NOT_SENT, reason: `${stop(result.message)} Fix it, then ${SEND_AGAIN}.` }));
    if (result.status === 'delivered') {
      report.sent.push(o.number);
      const problem = relayProblem(result.answer);
      if (problem) {
        report.flagged.push({ number: o.number, message: problem });
        c.locked(() => writeRows(sheet, layout, o.rows, { reason: problem }));
      }
    } else if (result.status === 'queued') {
      report.queued.push(o.number);
      report.queuedMessage = result.message;
    } else report.refused.push({ number: o.number, message: result.message.replace(/^The hub refused the change: /, '') });
  }
  return report;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

export function describeSend(r: SendReport): string {
  if (r.problem) return r.problem;
  const lines: string[] = [];
  if (r.sent.length) lines.push(`Sent ${plural(r.sent.length, 'purchase order', 'purchase orders')} to the hub: ${r.sent.join(', ')}. Their Status, Reserved and Waiting columns are filled in by the hub.`);
  for (const f of r.flagged) lines.push(`The hub took ${f.number} but says: ${f.message}`);
  if (r.queued.length) lines.push(`${plural(r.queued.length, 'purchase order is', 'purchase orders are')} waiting (${r.queued.join(', ')}): ${r.queuedMessage ?? 'the hub could not take them now.'}`);
  for (const f of r.refused) lines.push(`The hub refused ${f.number}: ${f.message} Its rows are marked "${STATUS_NOT_SENT}".`);
  if (r.notSent.length) lines.push(`Not sent: ${r.notSent.map((n) => `${n.number} (${n.why})`).join('; ')}. Fix the rows marked "${STATUS_NOT_SENT}" (the Reason column says what to fix), then ${SEND_AGAIN}.`);
  if (r.left) lines.push(`${plural(r.left, 'more purchase order was', 'more purchase orders were')} left for next time: ${SEND_AGAIN}.`);
  if (!lines.length) return `There are no new purchase orders to send: every row of the ${PURCHASE_ORDERS} tab already has a Status. Type new orders in rows with an empty Status, then ${SEND_AGAIN}.`;
  return lines.join('\n\n');
}

// ---------------------------------------------------------------- Cancel selected purchase order

export interface PurchaseOrderCancelRelay extends HubPurchaseOrderCancelRelay {
  kind: 'purchase_order_cancel';
  origin: 'sheet';
  number: string;
  actor?: string;
  cancelledAt: string;
  reason?: string;
}

const SELECT_FIRST = `Click a cell in a row of the ${PURCHASE_ORDERS} tab (any line of the order), then choose “Cancel selected purchase order”.`;

/** Asks, then relays the cancellation of the order under the cursor. Returns what to tell the user (null: they changed their mind). */
export function cancelSelectedPurchaseOrder(c: Context): string | null {
  const ss = c.spreadsheet();
  const range = ss.getActiveRange();
  const sheet = range?.getSheet();
  if (!range || !sheet || sheet.getName() !== PURCHASE_ORDERS || range.getRow() <= HEADER_ROW) return SELECT_FIRST;
  const layout = readPoLayout(sheet);
  if (layout.number === undefined || layout.status === undefined) return `The ${PURCHASE_ORDERS} tab has no "PO number" or "Status" column in row 1: choose Set up sheets.`;
  const rows = readPoRows(sheet, layout);
  const number = rows.find((r) => r.row === range.getRow())?.number ?? '';
  if (!number) return `Row ${range.getRow()} has no PO number. ${SELECT_FIRST}`;
  const mine = rows.filter((r) => r.number === number);
  if (mine.every((r) => isUnsent(r.status))) return `${number} was never sent to the hub, so there is nothing to cancel there. To drop it, delete its rows.`;
  if (mine.some((r) => /^cancel/i.test(r.status))) return `${number} is already cancelled (or its cancellation is on its way to the hub). Nothing was sent.`;

  const ui = c.services.spreadsheetApp.getUi();
  const customer = mine.find((r) => r.customer)?.customer;
  const sure = ui.alert(
    'Cancel purchase order',
    `Cancel ${number}${customer ? ` for ${customer}` : ''} (${plural(mine.length, 'line', 'lines')})?\n\nThe hub releases the stock it set aside for this order and stops waiting for stock for it.`,
    ui.ButtonSet.YES_NO,
  );
  if (sure !== ui.Button.YES) return null;
  const asked = ui.prompt('Cancel purchase order', `Why is ${number} cancelled? (optional: the note is kept with the order at the hub)`, ui.ButtonSet.OK_CANCEL);
  if (asked.getSelectedButton() !== ui.Button.OK) return `${number} was not cancelled.`;
  const reason = asked.getResponseText().trim().slice(0, 1000);

  const actor = c.actor();
  const body: PurchaseOrderCancelRelay = {
    kind: 'purchase_order_cancel',
    origin: 'sheet',
    number,
    ...(actor ? { actor } : {}),
    cancelledAt: c.now().toISOString(),
    ...(reason ? { reason } : {}),
  };
  const rowNumbers = mine.map((r) => r.row);
  const { id, before } = c.locked(() => {
    const was = statusesNow(sheet, layout, rowNumbers);
    const relayId = c.newRelayId();
    c.outbox().enqueue([{ id: relayId, kind: body.kind, body: JSON.stringify(body), summary: `Cancel purchase order ${number}` }]);
    writeRows(sheet, layout, rowNumbers, { status: STATUS_CANCEL_SENT, updated: c.now() });
    return { id: relayId, before: was };
  });
  const flushed = c.deliver();
  const result = resultFor(id, flushed, flushed ? flushed.waiting : c.outbox().waiting().length);
  if (result.status === 'failed') c.locked(() => writeColumn(sheet, layout.status, new Map(rowNumbers.map((row, i) => [row, before[i]]))));
  if (result.status === 'failed') return `The hub refused to cancel ${number}: ${stop(result.message.replace(/^The hub refused the change: /, ''))} Nothing was changed.`;
  if (result.status === 'queued') return `The cancellation of ${number} is kept in this spreadsheet and sent as soon as the hub answers. ${result.message}`;
  const problem = relayProblem(result.answer);
  return problem ? `The hub received the cancellation of ${number} but says: ${problem}` : `The cancellation of ${number} was sent to the hub. Its rows show "${STATUS_CANCEL_SENT}" until the hub writes back.`;
}
