/**
 * Rows added to or removed from the catalog. The SKUs last relayed are kept in document properties;
 * the SKUs in the sheet now are compared with them, and the difference is relayed as one
 * `catalog_changed` (added rows with their title and threshold, removed SKUs). Counts already typed
 * into a new row follow as one `edit_batch` (the hub starts a new item at zero).
 */
import { CATALOG, checkQuantity, readLayout, readRows, tagRow, type CatalogRow } from './catalog';
import type { Context } from './context';
import type { UserLike } from './gas';
import type { SubmitResult } from './queue';
import { readShadow, shadowKey, writeShadow } from './shadow';

export const KNOWN_KEY = 'stockrelay.knownSkus';

export interface CatalogDiff {
  added: CatalogRow[];
  removed: string[];
}

/** Pure: which SKUs are new to the hub and which are gone. Duplicate SKUs count once (first row). */
export function diffCatalog(rows: CatalogRow[], known: string[] | null): CatalogDiff {
  const knownSet = new Set(known ?? []);
  const current = new Map<string, CatalogRow>();
  for (const r of rows) if (r.sku && !current.has(r.sku)) current.set(r.sku, r);
  return {
    added: [...current.values()].filter((r) => !knownSet.has(r.sku)),
    removed: [...knownSet].filter((sku) => !current.has(sku)),
  };
}

export interface StructureResult {
  added: string[];
  removed: string[];
  submits: SubmitResult[];
  /** Set when nothing could be compared (no Catalog tab or no SKU column). */
  problem: string | null;
}

/**
 * Relays the catalog's structural changes since the last time; `trigger` carries the editor when a trigger runs it.
 * Returns what was relayed. The known list is updated only once the change is delivered or queued.
 */
export function relayCatalogChanges(ctx: Context, trigger?: { user?: UserLike | undefined }): StructureResult {
  return ctx.locked(() => relayCatalogChangesLocked(ctx, trigger));
}

function relayCatalogChangesLocked(ctx: Context, trigger?: { user?: UserLike | undefined }): StructureResult {
  const sheet = ctx.spreadsheet().getSheetByName(CATALOG);
  if (!sheet) return { added: [], removed: [], submits: [], problem: `There is no "${CATALOG}" tab: choose Set up sheets.` };
  const layout = readLayout(sheet);
  if (layout.sku === null) return { added: [], removed: [], submits: [], problem: `The ${CATALOG} tab has no "SKU" column header in row 1, so no row can be matched with the hub.` };
  const rows = readRows(sheet, layout);
  const store = ctx.store();
  const known = store.read<string[] | null>(KNOWN_KEY, null);
  const diff = diffCatalog(rows, known);
  const result: StructureResult = { added: diff.added.map((r) => r.sku), removed: diff.removed, submits: [], problem: null };
  if (diff.added.length === 0 && diff.removed.length === 0) return result;

  for (const r of diff.added) tagRow(sheet, r.row, r.sku);
  const actor = ctx.actor(trigger?.user, trigger !== undefined);
  const occurredAt = ctx.now().toISOString();
  const body = {
    kind: 'catalog_changed',
    origin: 'sheet',
    added: diff.added.map((r) => ({ sku: r.sku, ...(r.title !== null ? { title: r.title.slice(0, 500) } : {}), ...(r.threshold !== null ? { lowStockThreshold: r.threshold } : {}) })),
    removed: diff.removed,
    ...(actor ? { actor } : {}),
    occurredAt,
  };
  const parts = [diff.added.length ? `${diff.added.length} added (${preview(diff.added.map((r) => r.sku))})` : '', diff.removed.length ? `${diff.removed.length} removed (${preview(diff.removed)})` : ''].filter(Boolean);
  const submit = ctx.relay(body, `Catalog: ${parts.join(', ')}`);
  result.submits.push(submit);
  if (submit.status === 'failed') return result;

  const current = [...new Set(rows.map((r) => r.sku).filter(Boolean))];
  store.write(KNOWN_KEY, current);

  // Counts typed into the new rows before (or with) their SKU.
  const shadow = readShadow(store);
  const edits: Record<string, unknown>[] = [];
  for (const r of diff.added) {
    for (const o of r.onHand) {
      const q = checkQuantity(o.value, false);
      if (!q.ok || !q.value) continue;
      edits.push({ sku: r.sku, field: 'on_hand', ...(o.location ? { location: o.location } : {}), oldValue: 0, newValue: q.value, sheet: CATALOG, row: r.row });
      shadow[shadowKey(r.sku, o.location)] = q.value;
    }
  }
  for (let i = 0; i < edits.length; i += 5000) {
    const chunk = edits.slice(i, i + 5000);
    result.submits.push(ctx.relay({ kind: 'edit_batch', origin: 'sheet', edits: chunk, ...(actor ? { actor } : {}), editedAt: occurredAt }, `Opening counts of ${chunk.length} new cell(s)`));
  }
  if (edits.length) writeShadow(store, shadow);
  return result;
}

function preview(skus: string[]): string {
  return skus.length <= 3 ? skus.join(', ') : `${skus.slice(0, 3).join(', ')}, …`;
}
