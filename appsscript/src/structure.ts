/**
 * Rows added to or removed from the catalog. The SKUs the hub has are kept in document properties
 * (KNOWN_KEY); the SKUs in the sheet now are compared with them and with what already waits in the
 * queue, and the difference is queued as `catalog_changed` relays (added rows with their title and
 * threshold, removed SKUs), each slice of rows followed by one `edit_batch` of the counts already
 * typed into them (the hub starts a new item at zero).
 *
 * A row is known only once the hub has it: the slice's last relay carries its SKUs, and they are
 * added to KNOWN_KEY when that relay is delivered (queue.ts). When the queue cannot hold every
 * slice (a first sync of thousands of rows while the hub is down), what does not fit is not queued,
 * the spreadsheet is marked "not synced" (NOT_SYNCED_KEY, shown by Sync now and the sidebar) and the
 * rows are queued by the next Sync now or catalog change.
 */
import { checkQuantity, readLayout, readRows, tagRow, type CatalogRow } from './catalog';
import type { Context } from './context';
import type { UserLike } from './gas';
import { KNOWN_KEY, SYNC_QUEUE_MAX, type FlushResult, type NewRelay, type QueuedRelay } from './queue';
import { readShadow, shadowKey, writeShadow } from './shadow';
import { StorageFullError } from './store';
import { CATALOG } from '../../server/shared/sheet-layout';

export { KNOWN_KEY };
/** Set while some rows of the sheet could not be queued for the hub: what Sync now and the sidebar say. */
export const NOT_SYNCED_KEY = 'stockrelay.notSynced';
/** Rows per catalog_changed (and its batch of opening counts): small enough to queue a few while the hub is down. */
export const SLICE_ROWS = 200;
/** The hub takes at most this many entries in one relay (added, removed, edits). */
const RELAY_MAX_ITEMS = 5000;
/** A sync that loops (queue what fits, send it, queue more) stops starting rounds after this long. */
const SYNC_BUDGET_MS = 4 * 60_000;

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

/** Pure: what the hub will know once everything queued is delivered (the known SKUs, then each queued effect in order). */
export function expectedKnown(known: string[], queue: QueuedRelay[]): string[] {
  const set = new Set(known);
  for (const q of queue) {
    for (const sku of q.known?.remove ?? []) set.delete(sku);
    for (const sku of q.known?.add ?? []) set.add(sku);
  }
  return [...set];
}

export interface StructureResult {
  /** SKUs new to the hub (queued now, or left for later when they did not fit). */
  added: string[];
  removed: string[];
  /** Webhook-ids of the relays queued, in order. */
  ids: string[];
  /** Rows that are new to the hub but could not be queued (the spreadsheet's storage is full). */
  notQueued: number;
  /** Set when nothing could be compared (no Catalog tab or no SKU column). */
  problem: string | null;
}

const empty = (problem: string | null = null): StructureResult => ({ added: [], removed: [], ids: [], notQueued: 0, problem });

/**
 * Queues the catalog's structural changes since the last time; `trigger` carries the editor when a
 * trigger runs it. Runs under the document lock (re-entrant) and sends nothing: call ctx.deliver()
 * once the lock is released.
 */
export function queueCatalogChanges(ctx: Context, trigger?: { user?: UserLike | undefined }): StructureResult {
  return ctx.locked(() => queueLocked(ctx, trigger));
}

function queueLocked(ctx: Context, trigger?: { user?: UserLike | undefined }): StructureResult {
  const sheet = ctx.spreadsheet().getSheetByName(CATALOG);
  if (!sheet) return empty(`There is no "${CATALOG}" tab: choose Set up sheets.`);
  const layout = readLayout(sheet);
  if (layout.sku === null) return empty(`The ${CATALOG} tab has no "SKU" column header in row 1, so no row can be matched with the hub.`);
  const rows = readRows(sheet, layout);
  const store = ctx.store();
  const outbox = ctx.outbox();
  const known = store.read<string[]>(KNOWN_KEY, []);
  const diff = diffCatalog(rows, expectedKnown(known, outbox.waiting()));
  const result: StructureResult = { added: diff.added.map((r) => r.sku), removed: diff.removed, ids: [], notQueued: 0, problem: null };
  if (diff.added.length === 0 && diff.removed.length === 0) {
    if (store.getString(NOT_SYNCED_KEY) !== null) store.deleteString(NOT_SYNCED_KEY);
    return result;
  }

  const actor = ctx.actor(trigger?.user, trigger !== undefined);
  const occurredAt = ctx.now().toISOString();
  const shadow = readShadow(store);
  let shadowChanged = false;
  const slices: CatalogRow[][] = [];
  for (let i = 0; i < diff.added.length; i += SLICE_ROWS) slices.push(diff.added.slice(i, i + SLICE_ROWS));
  if (slices.length === 0) slices.push([]); // removals only
  // Removals go with the first slice (at most RELAY_MAX_ITEMS per relay; the rest with the next ones).
  const removals: string[][] = [];
  for (let i = 0; i < diff.removed.length; i += RELAY_MAX_ITEMS) removals.push(diff.removed.slice(i, i + RELAY_MAX_ITEMS));

  let queuedRows = 0;
  for (let s = 0; s < Math.max(slices.length, removals.length); s++) {
    const slice = slices[s] ?? [];
    const removed = removals[s] ?? [];
    const relays: NewRelay[] = [];
    const parts = [slice.length ? `${slice.length} added (${preview(slice.map((r) => r.sku))})` : '', removed.length ? `${removed.length} removed (${preview(removed)})` : ''].filter(Boolean);
    const change = {
      kind: 'catalog_changed',
      origin: 'sheet',
      added: slice.map((r) => ({ sku: r.sku, ...(r.title !== null ? { title: r.title.slice(0, 500) } : {}), ...(r.threshold !== null ? { lowStockThreshold: r.threshold } : {}) })),
      removed,
      ...(actor ? { actor } : {}),
      occurredAt,
    };
    relays.push({ id: ctx.newRelayId(), kind: change.kind, body: JSON.stringify(change), summary: `Catalog: ${parts.join(', ')}` });

    // Counts typed into the new rows before (or with) their SKU.
    const edits: Record<string, unknown>[] = [];
    const seen: [string, number][] = [];
    for (const r of slice) {
      for (const o of r.onHand) {
        const q = checkQuantity(o.value, false);
        if (!q.ok || !q.value) continue;
        edits.push({ sku: r.sku, field: 'on_hand', ...(o.location ? { location: o.location } : {}), oldValue: 0, newValue: q.value, sheet: CATALOG, row: r.row });
        seen.push([shadowKey(r.sku, o.location), q.value]);
      }
    }
    for (let i = 0; i < edits.length; i += RELAY_MAX_ITEMS) {
      const chunk = edits.slice(i, i + RELAY_MAX_ITEMS);
      const batch = { kind: 'edit_batch', origin: 'sheet', edits: chunk, ...(actor ? { actor } : {}), editedAt: occurredAt };
      relays.push({ id: ctx.newRelayId(), kind: batch.kind, body: JSON.stringify(batch), summary: `Opening counts of ${chunk.length} new cell(s)` });
    }
    // The slice's rows are known once its last relay is delivered (and none of the slice was refused).
    for (const r of relays) r.group = relays[0]!.id;
    relays[relays.length - 1]!.known = { ...(slice.length ? { add: slice.map((r) => r.sku) } : {}), ...(removed.length ? { remove: removed } : {}) };

    try {
      ctx.outbox().enqueue(relays, { maxBytes: SYNC_QUEUE_MAX });
    } catch (err) {
      if (!(err instanceof StorageFullError)) throw err;
      // This slice and the ones after it wait for the next Sync now or catalog change.
      result.notQueued = diff.added.length - queuedRows;
      break;
    }
    queuedRows += slice.length;
    result.ids.push(...relays.map((r) => r.id));
    for (const r of slice) tagRow(sheet, r.row, r.sku);
    for (const [k, v] of seen) shadow[k] = v;
    shadowChanged ||= seen.length > 0;
  }
  if (shadowChanged) writeShadow(store, shadow);

  if (result.notQueued > 0) {
    store.setString(
      NOT_SYNCED_KEY,
      `${result.notQueued} row(s) of the ${CATALOG} tab are not on the hub yet: the hub did not take the rows before them, and this spreadsheet’s storage cannot hold more while it waits. Choose Sync now once the hub answers.`,
    );
  } else if (store.getString(NOT_SYNCED_KEY) !== null) store.deleteString(NOT_SYNCED_KEY);
  return result;
}

/**
 * Queues the catalog's changes and sends them, round after round while the queue empties (a big
 * catalog goes in slices: the queue never holds more than SYNC_QUEUE_MAX of it). Never called
 * while the document lock is held. Returns every round's result together, and the last flush.
 */
export function syncCatalog(ctx: Context, trigger?: { user?: UserLike | undefined }, first?: StructureResult): { structure: StructureResult; flushed: FlushResult | null } {
  const started = ctx.now().getTime();
  const total: StructureResult = first ? { ...first, ids: [...first.ids] } : empty();
  let flushed: FlushResult | null = null;
  let round = first ?? null;
  for (;;) {
    if (!round) {
      round = queueCatalogChanges(ctx, trigger);
      if (round.problem) return { structure: { ...total, problem: round.problem }, flushed };
      total.added = [...new Set([...total.added, ...round.added])];
      total.removed = [...new Set([...total.removed, ...round.removed])];
      total.ids.push(...round.ids);
      total.notQueued = round.notQueued;
    }
    const merged: FlushResult | null = ctx.deliver();
    flushed = merge(flushed, merged);
    // Go on only while the hub takes everything and rows are left over.
    if (!merged || merged.waiting > 0 || merged.busy || round.notQueued === 0 || round.ids.length === 0) break;
    if (ctx.now().getTime() - started > SYNC_BUDGET_MS) break;
    round = null;
  }
  return { structure: total, flushed };
}

function merge(a: FlushResult | null, b: FlushResult | null): FlushResult | null {
  if (!a) return b;
  if (!b) return a;
  return { delivered: a.delivered + b.delivered, failed: a.failed + b.failed, waiting: b.waiting, stoppedBecause: b.stoppedBecause, busy: b.busy, outcomes: { ...a.outcomes, ...b.outcomes } };
}

function preview(skus: string[]): string {
  return skus.length <= 3 ? skus.join(', ') : `${skus.slice(0, 3).join(', ')}, …`;
}
