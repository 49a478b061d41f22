/**
 * Staff edits in the Catalog tab (the installable onEdit trigger).
 * - One cell: a `cell_edit` with the SKU, the old and the new value. The old value is the event's
 *   `oldValue` when Apps Script gives one (a value typed into one cell); a paste, even into one
 *   cell, has none, and then the value the add-on last saw in that cell is sent (shadow.ts).
 * - A paste, fill-down or any multi-cell edit: one `edit_batch` (split past 5,000 cells).
 * - A SKU typed, pasted or cleared: the row's metadata follows, and a `catalog_changed` is relayed.
 * - Text, a fraction, a negative or an emptied count in a quantity cell: the old value is put back,
 *   a note on the cell and a toast say why, and nothing is relayed for that cell.
 * Everything is queued first, under the document lock; it is sent after the lock is released.
 */
import { checkQuantity, readLayout, readRows, rowFromValues, tagAllRows, tagRow } from './catalog';
import { safeCell } from './cells';
import type { Context } from './context';
import type { EditEvent, RangeLike } from './gas';
import { BusyError, resultFor, type FlushResult, type SubmitResult } from './queue';
import { UNKNOWN_OLD_VALUE, readShadow, shadowKey, writeShadow } from './shadow';
import { StorageFullError } from './store';
import { queueCatalogChanges, syncCatalog, type StructureResult } from './structure';
import { CATALOG, HEADER_ROW, type Column } from '../../server/shared/sheet-layout';

/** Notes the add-on writes start with this, so it can clear its own and leave the staff's alone. */
export const NOTE_PREFIX = 'stockrelay: ';
const BATCH_MAX = 5000;

export interface EditOutcome {
  relayed: SubmitResult[];
  rejected: { a1: string; reason: string }[];
  structure: StructureResult | null;
  /** What happened to the catalog relays queued with this edit (in order). */
  structureSubmits: SubmitResult[];
  ignored: string | null;
}

type Field = 'on_hand' | 'title' | 'low_stock_threshold';

interface PendingEdit {
  sku: string;
  field: Field;
  location: string | null;
  oldValue: string | number | null;
  newValue: string | number | null;
  row: number;
}

const fieldOf = (c: Column | undefined): Field | null =>
  c?.role === 'on_hand' ? 'on_hand' : c?.role === 'title' ? 'title' : c?.role === 'threshold' ? 'low_stock_threshold' : null;

const isQuantity = (c: Column | undefined) => c?.role === 'on_hand' || c?.role === 'threshold' || c?.role === 'buffer';

/** A cell value as the hub reads it: numbers stay numbers, empty is null, the rest is text. */
function cellValue(v: unknown): string | number | null {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'number') return v;
  if (v instanceof Date) return v.toISOString();
  return String(v).slice(0, 1000);
}

function stamp(ctx: Context): string {
  return ctx.now().toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

/** Handles one onEdit event. */
export function handleEdit(ctx: Context, e: EditEvent): EditOutcome {
  const outcome: EditOutcome = { relayed: [], rejected: [], structure: null, structureSubmits: [], ignored: null };
  const range = e.range;
  const sheet = range.getSheet();
  if (sheet.getName() !== CATALOG) return { ...outcome, ignored: 'not the Catalog tab' };
  const layout = readLayout(sheet);
  const firstRow = Math.max(range.getRow(), HEADER_ROW + 1);
  const lastRow = range.getRow() + range.getNumRows() - 1;
  if (lastRow < firstRow) return { ...outcome, ignored: 'header row' };
  if (layout.sku === null) return { ...outcome, ignored: 'no SKU column' };
  const firstCol = range.getColumn();
  const lastCol = firstCol + range.getNumColumns() - 1;

  let editIds: string[] = [];
  try {
    ctx.locked(() => {
      const single = range.getNumRows() === 1 && range.getNumColumns() === 1;
      // Apps Script gives an old value only for a value typed into one cell that had one.
      const typedOld = single && e.oldValue !== undefined;
      const rowsRange = sheet.getRange(firstRow, 1, lastRow - firstRow + 1, layout.lastColumn);
      const rowValues = rowsRange.getValues();
      const store = ctx.store();
      const shadow = readShadow(store);
      const pending: PendingEdit[] = [];
      const toTag: { row: number; sku: string }[] = [];
      let skuTouched = false;

      for (let r = firstRow; r <= lastRow; r++) {
        const cells = rowValues[r - firstRow]!;
        const row = rowFromValues(r, cells, layout);
        for (let c = firstCol; c <= Math.min(lastCol, layout.lastColumn); c++) {
          const column = layout.columns.get(c);
          if (!column) continue;
          if (column.role === 'sku') {
            skuTouched = true;
            toTag.push({ row: r, sku: row.sku });
            continue;
          }
          const newRaw = cells[c - 1];
          const onHandLocation = column.role === 'on_hand' ? column.location : null;
          const known = column.role === 'on_hand' && row.sku ? shadow[shadowKey(row.sku, onHandLocation)] : undefined;
          const oldRaw: unknown = typedOld ? e.oldValue : known;

          if (isQuantity(column)) {
            // An emptied count is a mistake only on a row that still has its SKU (clearing a whole row is not).
            const emptyAllowed = column.role !== 'on_hand' || !row.sku;
            const q = checkQuantity(newRaw, emptyAllowed);
            if (!q.ok) {
              const cell = sheet.getRange(r, c, 1, 1);
              putBack(ctx, cell, oldRaw, q.reason);
              outcome.rejected.push({ a1: cell.getA1Notation(), reason: q.reason });
              continue;
            }
            if (single) clearOwnNote(range);
          }
          const field = fieldOf(column);
          if (!field || !row.sku) continue;
          const newValue = field === 'title' ? cellValue(newRaw) : (checkQuantity(newRaw, true) as { value: number | null }).value;
          let oldValue: string | number | null;
          if (field === 'on_hand') oldValue = typedOld ? oldQuantity(e.oldValue) : (known ?? UNKNOWN_OLD_VALUE);
          else if (typedOld) oldValue = field === 'title' ? cellValue(e.oldValue) : oldQuantity(e.oldValue);
          else oldValue = null; // titles and thresholds are set as given; their old value is not checked
          if (field === 'on_hand' && newValue === oldValue) continue; // typed the same number again
          pending.push({ sku: row.sku, field, location: onHandLocation, oldValue, newValue, row: r });
        }
      }

      // Row metadata follows the SKU: row by row for a few, in one pass over the catalog for a big paste.
      if (toTag.length > 10) tagAllRows(sheet, readRows(sheet, layout));
      else toTag.forEach((t) => tagRow(sheet, t.row, t.sku));

      // New or renamed SKUs first: the hub must know an item before it books a count for it.
      if (skuTouched) outcome.structure = queueCatalogChanges(ctx, { user: e.user });
      const justAdded = new Set(outcome.structure?.added ?? []);
      // A new row's title and threshold travel with catalog_changed, its counts as opening counts.
      const edits = pending.filter((p) => !justAdded.has(p.sku));

      if (edits.length > 0) {
        const actor = ctx.actor(e.user, true);
        const editedAt = ctx.now().toISOString();
        const one = (p: PendingEdit) => ({
          sku: p.sku,
          field: p.field,
          ...(p.location ? { location: p.location } : {}),
          oldValue: p.oldValue,
          newValue: p.newValue,
          sheet: CATALOG,
          row: p.row,
        });
        const relays: { id: string; kind: string; body: string; summary: string }[] = [];
        if (single && edits.length === 1) {
          const p = edits[0]!;
          const body = { kind: 'cell_edit', origin: 'sheet', ...one(p), ...(actor ? { actor } : {}), editedAt };
          relays.push({ id: ctx.newRelayId(), kind: body.kind, body: JSON.stringify(body), summary: `${p.sku}: ${label(p)} ${show(p.oldValue)} → ${show(p.newValue)} (row ${p.row})` });
        } else {
          for (let i = 0; i < edits.length; i += BATCH_MAX) {
            const chunk = edits.slice(i, i + BATCH_MAX);
            const body = { kind: 'edit_batch', origin: 'sheet', edits: chunk.map(one), ...(actor ? { actor } : {}), editedAt };
            relays.push({ id: ctx.newRelayId(), kind: body.kind, body: JSON.stringify(body), summary: `${chunk.length} cell(s) pasted in rows ${chunk[0]!.row}–${chunk[chunk.length - 1]!.row}` });
          }
        }
        ctx.outbox().enqueue(relays);
        editIds = relays.map((r) => r.id);
        // The queue keeps the order: the next paste is compared with what this one set.
        for (const p of edits) if (p.field === 'on_hand' && typeof p.newValue === 'number') shadow[shadowKey(p.sku, p.location)] = p.newValue;
        writeShadow(store, shadow);
      }
    });
  } catch (err) {
    if (err instanceof BusyError || err instanceof StorageFullError) {
      const note = `${NOTE_PREFIX}this change was NOT sent to the hub (${stamp(ctx)}): ${err.message}`;
      range.setNote(note);
      ctx.toast(err.message, 15);
      return { ...outcome, ignored: err.message };
    }
    throw err;
  }

  // Sent outside the lock: a hub that hangs holds up nobody else's change.
  let flushed: FlushResult | null;
  if (outcome.structure && !outcome.structure.problem) {
    const synced = syncCatalog(ctx, { user: e.user }, outcome.structure);
    outcome.structure = synced.structure;
    flushed = synced.flushed;
  } else flushed = ctx.deliver();
  const waiting = flushed ? flushed.waiting : ctx.outbox().waiting().length;
  outcome.structureSubmits = (outcome.structure?.ids ?? []).map((id) => resultFor(id, flushed, waiting));
  outcome.relayed = editIds.map((id) => resultFor(id, flushed, waiting));
  tell(ctx, outcome);
  return outcome;
}

function oldQuantity(v: unknown): number | null | string {
  const q = checkQuantity(v, true);
  return q.ok ? q.value : cellValue(v);
}

function label(p: PendingEdit): string {
  return p.field === 'on_hand' ? `on hand${p.location ? ` · ${p.location}` : ''}` : p.field === 'title' ? 'title' : 'low-stock threshold';
}

const show = (v: unknown) => (v === null ? '(empty)' : String(v));

function putBack(ctx: Context, cell: RangeLike, oldRaw: unknown, reason: string): void {
  const old = oldRaw === undefined || oldRaw === null ? '' : oldRaw;
  cell.setValue(safeCell(old));
  cell.setNote(`${NOTE_PREFIX}not sent to the hub (${stamp(ctx)}): ${reason}. The cell was put back to ${old === '' ? 'empty' : String(old)}.`);
}

function clearOwnNote(cell: RangeLike): void {
  const note = cell.getNote();
  if (note && note.startsWith(NOTE_PREFIX)) cell.setNote(null);
}

function tell(ctx: Context, o: EditOutcome): void {
  const lines: string[] = [];
  if (o.rejected.length === 1) lines.push(`${o.rejected[0]!.a1} was put back: ${o.rejected[0]!.reason}.`);
  else if (o.rejected.length > 1) lines.push(`${o.rejected.length} cells were put back (see their notes): ${o.rejected[0]!.reason}, …`);
  const submits = [...o.structureSubmits, ...o.relayed];
  const failed = submits.find((s) => s.status === 'failed');
  const queued = submits.filter((s) => s.status === 'queued').pop();
  if (failed) lines.push(failed.message);
  else if (queued) lines.push(queued.message);
  if (o.structure?.problem) lines.push(o.structure.problem);
  if (o.structure?.notQueued) lines.push(`${o.structure.notQueued} new row(s) are not on the hub yet (the spreadsheet is full while the hub does not answer): choose Sync now once it answers.`);
  if (lines.length) ctx.toast(lines.join(' '), 10);
}
