/**
 * Sheet rows found by their developer metadata, never by row number (docs/sheets.md): Catalog rows
 * tagged with their SKU by the add-on, purchase-order lines, conflicts. They are written in one
 * request whatever the Sheets API does about a tag no row carries; a Catalog row that cannot be
 * found is reported with an alert, resolved once the row is written.
 */
import type { AlertInput } from '../announce';
import type { Store } from '../store/types';
import type { SheetsApi } from './client';
import type { Cell } from './rows';

/** The alert for a SKU whose Catalog row carries no tag the write-back can find. */
export const ROW_MISSING_ALERT = 'sheet_row_missing';

export interface MetadataLookup {
  metadataKey: string;
  metadataValue: string;
  locationType: 'ROW';
}
/** A row to write, found by its developer metadata (a DataFilterValueRange). */
export interface ByMetadata {
  dataFilter: { developerMetadataLookup: MetadataLookup };
  majorDimension: 'ROWS';
  values: Cell[][];
}
const lookupKey = (l: { metadataKey?: string | null; metadataValue?: string | null } | null | undefined) => `${l?.metadataKey ?? ''}\u0000${l?.metadataValue ?? ''}`;

export function trimNulls(row: Cell[]): Cell[] {
  let end = row.length;
  while (end > 0 && row[end - 1] === null) end--;
  return row.slice(0, end);
}

/** `row`, to be written where the row tagged `metadataKey` = `metadataValue` is. */
export const tagged = (metadataKey: string, metadataValue: string, row: Cell[]): ByMetadata => ({ dataFilter: { developerMetadataLookup: { metadataKey, metadataValue, locationType: 'ROW' } }, majorDimension: 'ROWS', values: [row] });

/**
 * Writes rows found by their developer metadata; returns the lookups that no row carries, and
 * every other row is written whatever the Sheets API does about those. What it answers for a
 * lookup that matches no row is not documented (docs/sheets.md, "Rows no tag finds"): an entry
 * without `updatedRange` or no entry at all are read from the answer; a 400 for the whole request
 * is followed by one `developerMetadata.search` (a read) for the lookups that do match a row, and
 * those are written again alone. A 400 while every lookup matches is a real refusal, reported.
 */
export async function writeByMetadata(api: SheetsApi, spreadsheetId: string, data: ByMetadata[], write: <T>(fn: () => Promise<T>) => Promise<T>, opts: { signal: AbortSignal; retry: boolean }): Promise<MetadataLookup[]> {
  const send = async (part: ByMetadata[]): Promise<MetadataLookup[]> => {
    const res = await write(() => api.spreadsheets.values.batchUpdateByDataFilter({ spreadsheetId, requestBody: { valueInputOption: 'RAW', data: part } }, opts));
    const found = new Set((res.data.responses ?? []).filter((r) => r.updatedRange).map((r) => lookupKey(r.dataFilter?.developerMetadataLookup)));
    return part.map((d) => d.dataFilter.developerMetadataLookup).filter((l) => !found.has(lookupKey(l)));
  };
  try {
    return await send(data);
  } catch (err) {
    if ((err as { response?: { status?: unknown } }).response?.status !== 400) throw err;
    const lookups = data.map((d) => d.dataFilter.developerMetadataLookup);
    const res = await api.spreadsheets.developerMetadata.search({ spreadsheetId, requestBody: { dataFilters: lookups.map((l) => ({ developerMetadataLookup: l })) } }, opts);
    const matched = new Set((res.data.matchedDeveloperMetadata ?? []).map((m) => lookupKey(m.developerMetadata)));
    const missing = lookups.filter((l) => !matched.has(lookupKey(l)));
    if (missing.length === 0) throw err;
    const rest = data.filter((d) => matched.has(lookupKey(d.dataFilter.developerMetadataLookup)));
    return rest.length > 0 ? [...missing, ...(await send(rest))] : missing;
  }
}

/** The alert for each Catalog row that cannot be found, raised once while open. */
export class RowMissingAlerts {
  /** SKUs whose Catalog row could not be found, with their alert open (see `openAlerts`). */
  private open: Set<string> | null = null;

  constructor(
    private readonly store: Store,
    private readonly raiseAlert: ((alert: AlertInput) => Promise<unknown>) | undefined,
    private readonly clock: () => Date,
  ) {}

  /** An alert for each SKU whose Catalog row cannot be found (once while open); resolved once its row is written. */
  async report(tab: string, missing: string[], written: string[]): Promise<void> {
    if (missing.length === 0 && written.length === 0) return;
    const open = await this.openAlerts();
    const now = this.clock().toISOString();
    for (const sku of missing) {
      await this.raiseAlert?.({
        kind: ROW_MISSING_ALERT,
        severity: 'warning',
        sku,
        locationId: null,
        message: `No row of the ${tab} tab carries SKU ${sku}, so the hub could not write its numbers there (every other row was written). If the sheet has a row for ${sku}, choose stockrelay › Sync now to tag it; if not, add a row with that SKU. The row is filled at the item's next change.`,
      });
    }
    for (const sku of missing) open.add(sku);
    // Only SKUs with such an alert open are resolved: no query for a row written as usual.
    for (const sku of written) {
      if (!open.has(sku)) continue;
      await this.store.alerts.resolve(sku, null, [ROW_MISSING_ALERT], now);
      open.delete(sku);
    }
  }

  /** The SKUs with a row-missing alert open: read once (alerts an earlier run of the hub left open), then kept here. */
  private async openAlerts(): Promise<Set<string>> {
    if (this.open) return this.open;
    const open = new Set<string>();
    let cursor: number | undefined;
    for (;;) {
      const page = await this.store.alerts.list({ limit: 500, status: 'open', ...(cursor === undefined ? {} : { cursor }) });
      for (const a of page) if (a.kind === ROW_MISSING_ALERT && a.sku) open.add(a.sku);
      if (page.length < 500) break;
      cursor = page[page.length - 1]!.id;
    }
    this.open = open;
    return open;
  }
}
