/**
 * The last on-hand value the add-on saw in each cell (SKU and location), kept in document
 * properties. Apps Script gives an old value only for a value typed into one cell (`e.oldValue`);
 * for a paste — even into one cell — or any edit without one, the hub is told the value from here,
 * so a sale that landed meanwhile turns the paste into a conflict instead of being overwritten.
 * Taken from the sheet by "Set up sheets", "Sync now" and the daily trigger (not every minute: that
 * cost a quarter of a consumer account's property quota), and updated by every edit queued.
 */
import type { CatalogRow } from './catalog';
import { checkQuantity } from './catalog';
import type { ChunkedStore } from './store';
import { StorageFullError } from './store';

export const SHADOW_KEY = 'stockrelay.shadow';
/** What the hub is told when the old value is unknown: it reads as "unknown" and checks nothing. */
export const UNKNOWN_OLD_VALUE = 'unknown';
/** Above this the shadow is not kept (a very large catalog): pastes then send UNKNOWN_OLD_VALUE. */
export const SHADOW_MAX_BYTES = 150 * 1024;

export type Shadow = Record<string, number>;

export const shadowKey = (sku: string, location: string | null) => `${sku}\u0001${location ?? ''}`;

export function readShadow(store: ChunkedStore): Shadow {
  return store.read<Shadow>(SHADOW_KEY, {});
}

/** Saves the shadow; silently drops it when it is too big to keep (only pastes lose their old values). */
export function writeShadow(store: ChunkedStore, shadow: Shadow): void {
  const size = JSON.stringify(shadow).length;
  try {
    if (size > SHADOW_MAX_BYTES) store.remove(SHADOW_KEY);
    else store.write(SHADOW_KEY, shadow);
  } catch (err) {
    if (!(err instanceof StorageFullError)) throw err;
    store.remove(SHADOW_KEY); // the queue needs the room more than the shadow does
  }
}

/** The shadow as the sheet shows it now. */
export function shadowFromRows(rows: CatalogRow[]): Shadow {
  const shadow: Shadow = {};
  for (const r of rows) {
    if (!r.sku) continue;
    for (const o of r.onHand) {
      const q = checkQuantity(o.value, false);
      if (q.ok && q.value !== null) shadow[shadowKey(r.sku, o.location)] = q.value;
    }
  }
  return shadow;
}
