/**
 * The sheet write-back, as a sink of the outbox (docs/sheets.md, "What the hub writes"): durable,
 * coalesced and retried like every other delivery. One batch of outbox rows becomes at most four
 * write requests, each paced by the sheet's limiter:
 *   1. new conflicts: one `spreadsheets.batchUpdate` that inserts their rows at the top of the
 *      Conflicts tab and tags each with developer metadata `stockrelay.conflict` = its id;
 *   2. Catalog rows, purchase-order lines and conflict statuses: one `values.batchUpdateByDataFilter`,
 *      each row found by its developer metadata (`stockrelay.sku`, put there by the add-on), never
 *      by row number (tagged-rows.ts);
 *   3–5. Movements, Orders, Alerts: one `values.append` each.
 * Values are sent RAW: text stays text (a note starting with "=" never becomes a formula).
 */
import type { SheetsConfig } from '../config';
import type { Movement } from '../core/ledger';
import type { Logger } from '../log';
import { DeliveryError, notSentInTime, type EntryResult, type Sink } from '../outbox/sink';
import { SpacedWindowLimiter, type Limiter } from '../outbox/rate-limit';
import { parseRetryAfter } from '../util';
import type { AlertRecord, OutboxEntry, Store } from '../store/types';
import type { AlertInput } from '../announce';
import { PO_LINE_METADATA_KEY, SKU_METADATA_KEY } from '../shared/sheet-layout';
import type { SheetsApi } from './client';
import { RowMissingAlerts, tagged, trimNulls, writeByMetadata, type ByMetadata } from './tagged-rows';
import { alertValues, catalogRow, conflictStatus, conflictValues, logRow, movementValues, orderStepRows, orderValues, purchaseOrderStatusValues, quoteTab, type Cell } from './rows';
import type { PurchaseOrderView } from '../purchase-orders/desk';

export const SHEETS_SINK = 'sheets';
export const CONFLICT_METADATA_KEY = 'stockrelay.conflict';

const SHEET_TOPICS = ['sheet.row', 'sheet.movement', 'sheet.order', 'sheet.alert', 'sheet.conflict', 'sheet.conflict_status', 'sheet.po'] as const;
export type SheetTopic = (typeof SHEET_TOPICS)[number];

interface Layout {
  sheetIds: Map<string, number>;
  headers: Map<string, unknown[]>;
  readAt: number;
}

/** One batch being written: its rows, the tabs' layout, and the paced write every request goes through. */
interface Batch {
  entries: OutboxEntry[];
  layout: Layout;
  write: <T>(fn: () => Promise<T>) => Promise<T>;
  opts: { signal: AbortSignal; retry: boolean };
}

/** A log tab's header row; a tab that is gone or has no header cannot be written to. */
function headersOf(layout: Layout, tab: string): unknown[] {
  const h = layout.headers.get(tab);
  if (!layout.sheetIds.has(tab) || !h || h.length === 0) throw missingTab(tab);
  return h;
}

export interface SheetsSinkOptions {
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  log?: Logger | null;
  /** Write requests per window; defaults to the config's writesPerMinute per 60 s. */
  quota?: { requests: number; windowMs: number };
  maxBatch?: number;
  /** Channel id → name, for the Channel columns. */
  channelNames?: Map<string, string>;
  defaultLocation: string;
  /** How long the tabs' headers are trusted before being read again. */
  layoutTtlMs?: number;
  /** The hub's one path for alerts (server/announce.ts): a Catalog row that cannot be found is reported with it. */
  raiseAlert?: (alert: AlertInput) => Promise<unknown>;
}

const LAYOUT_TTL_MS = 5 * 60_000;
const MAX_THROTTLE_MS = 64_000;

/** Anything in an error that looks like a token or a signed assertion is blanked. */
const scrubSecrets = (s: string) => s.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, '[redacted]').replace(/ya29\.[\w.-]+/g, '[redacted]').replace(/Bearer\s+\S+/gi, 'Bearer [redacted]');

export class SheetsSink implements Sink {
  readonly id = SHEETS_SINK;
  readonly maxBatch: number;
  /**
   * What the dispatcher sees of the pace: it does not claim rows while the next write would wait
   * long, and waits before a batch; the sink itself takes each write's turn, right before sending it.
   */
  readonly limiter: Limiter;
  readonly pace: SpacedWindowLimiter;
  /**
   * Treated like a sales channel by the dispatcher: its rows are retried for ever (never dead
   * letters: a Movements row must not be dropped because the sheet was unshared for an afternoon),
   * and after repeated failures it is suspended with an alert that says why.
   */
  readonly channel = { id: 'google-sheet', name: 'The Google Sheet' };
  /** Write requests sent (for the tests and the metrics of API economy). */
  writes = 0;
  private layout: Layout | null = null;
  /** Failures about the whole spreadsheet (sign-in, sharing, its id): the rest of a batch would fail the same way. */
  private readonly wholeSheet = new WeakSet<DeliveryError>();
  private throttled = 0;
  private readonly clock: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly log: Logger | null;
  private readonly names: Map<string, string>;
  /** Catalog rows that could not be found, with their alert. */
  private readonly rowsMissing: RowMissingAlerts;

  constructor(
    private readonly cfg: SheetsConfig,
    private readonly store: Store,
    private readonly api: SheetsApi,
    private readonly opts: SheetsSinkOptions,
  ) {
    const quota = opts.quota ?? { requests: cfg.writesPerMinute, windowMs: 60_000 };
    this.pace = new SpacedWindowLimiter(quota.requests, quota.windowMs);
    this.limiter = this.pace.dispatcherView();
    this.maxBatch = opts.maxBatch ?? 500;
    this.clock = opts.clock ?? (() => new Date());
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.log = opts.log ?? null;
    this.names = opts.channelNames ?? new Map();
    this.rowsMissing = new RowMissingAlerts(store, opts.raiseAlert, this.clock);
  }

  async deliver(entry: OutboxEntry, signal: AbortSignal): Promise<void> {
    const [r] = await this.deliverBatch([entry], signal);
    if (r) throw r;
  }

  async deliverBatch(entries: OutboxEntry[], signal: AbortSignal): Promise<EntryResult[]> {
    const results: EntryResult[] = entries.map(() => null);
    let layout: Layout;
    try {
      layout = await this.readLayout(signal);
    } catch (err) {
      const e = this.deliveryError(err);
      return entries.map(() => e);
    }
    // Every write waits its turn; the turn is taken with no wait between the last look and the send,
    // so two batches in flight at once (two hub loops) still keep the pace.
    const write = async <T>(fn: () => Promise<T>): Promise<T> => {
      if (!(await this.pace.waitTurn(() => this.clock().getTime(), this.sleep, signal))) throw notSentInTime();
      this.writes++;
      const r = await fn();
      this.throttled = 0;
      return r;
    };
    let stopped: DeliveryError | null = null;
    const step = async (topics: SheetTopic[], fn: (ks: number[]) => Promise<void>) => {
      const ks = entries.flatMap((e, k) => (topics.includes(e.topic as SheetTopic) ? [k] : []));
      if (ks.length === 0) return;
      if (stopped) {
        for (const k of ks) results[k] = stopped;
        return;
      }
      try {
        await fn(ks);
      } catch (err) {
        const e = this.deliveryError(err);
        for (const k of ks) if (results[k] === null) results[k] = e;
        // Google asked us to slow down, or refuses the whole spreadsheet: nothing more is sent from this batch.
        if (e.flags.rateLimited || this.wholeSheet.has(e)) stopped = e;
      }
    };
    const b: Batch = { entries, layout, write, opts: { signal, retry: false } };
    await step(['sheet.conflict'], (ks) => this.insertConflicts(b, ks));
    await step(['sheet.row', 'sheet.conflict_status', 'sheet.po'], (ks) => this.updateTaggedRows(b, ks));
    await step(['sheet.movement'], (ks) => this.appendMovements(b, ks));
    await step(['sheet.order'], (ks) => this.appendOrders(b, ks));
    await step(['sheet.alert'], (ks) => this.appendAlerts(b, ks));

    // A topic this sink does not know: refused for good, so it shows as a dead letter.
    entries.forEach((e, k) => {
      if (!(SHEET_TOPICS as readonly string[]).includes(e.topic)) results[k] = new DeliveryError(`The sheet write-back does not know "${e.topic}".`, null, true);
    });
    return results;
  }

  /** New conflicts: inserted at the top of the Conflicts tab, newest first, each row tagged with its id. */
  private async insertConflicts({ entries, layout, write, opts }: Batch, ks: number[]): Promise<void> {
    const { tabs, spreadsheetId } = this.cfg;
    const conflicts = (await Promise.all(ks.map((k) => this.store.conflicts.get((entries[k]!.payload as { conflictId: number }).conflictId)))).filter((c) => c !== null);
    if (conflicts.length === 0) return;
    const sheetId = this.tab(layout, tabs.conflicts);
    const headers = layout.headers.get(tabs.conflicts) ?? [];
    // Newest first, right under the header row; each row tagged with its conflict's id.
    conflicts.sort((a, b) => b.id - a.id);
    const rows = conflicts.map((c) => ({ values: logRow(headers, conflictValues(c)).map(cellData) }));
    await write(() =>
      this.api.spreadsheets.batchUpdate(
        {
          spreadsheetId,
          requestBody: {
            requests: [
              { insertDimension: { range: { sheetId, dimension: 'ROWS', startIndex: 1, endIndex: 1 + rows.length }, inheritFromBefore: false } },
              { updateCells: { start: { sheetId, rowIndex: 1, columnIndex: 0 }, rows, fields: 'userEnteredValue' } },
              ...conflicts.map((c, i) => ({
                createDeveloperMetadata: {
                  developerMetadata: { metadataKey: CONFLICT_METADATA_KEY, metadataValue: String(c.id), visibility: 'DOCUMENT', location: { dimensionRange: { sheetId, dimension: 'ROWS', startIndex: 1 + i, endIndex: 2 + i } } },
                },
              })),
            ],
          },
        },
        opts,
      ),
    );
  }

  /** Catalog rows, purchase-order lines and conflict statuses: one write, each row found by its tag. */
  private async updateTaggedRows(b: Batch, ks: number[]): Promise<void> {
    const { entries } = b;
    const rowKs = ks.filter((k) => entries[k]!.topic === 'sheet.row');
    const statusKs = ks.filter((k) => entries[k]!.topic === 'sheet.conflict_status');
    const poKs = ks.filter((k) => entries[k]!.topic === 'sheet.po');
    const data: ByMetadata[] = [];
    if (poKs.length > 0) data.push(...this.purchaseOrderRows(b, poKs));
    const now = this.clock().toISOString();
    if (rowKs.length > 0) data.push(...(await this.catalogRows(b, rowKs, now)));
    if (statusKs.length > 0) data.push(...(await this.conflictStatusRows(b, statusKs)));
    if (data.length === 0) return;
    const missing = await writeByMetadata(this.api, this.cfg.spreadsheetId, data, b.write, b.opts);
    // A row the add-on has not tagged yet ("Sync now" tags every row) is written on its next change;
    // a Catalog row is reported with an alert, and the alert resolved once its row is written.
    const catalogMissing = missing.filter((l) => l.metadataKey === SKU_METADATA_KEY).map((l) => l.metadataValue);
    const written = data.map((d) => d.dataFilter.developerMetadataLookup).filter((l) => l.metadataKey === SKU_METADATA_KEY && !catalogMissing.includes(l.metadataValue)).map((l) => l.metadataValue);
    if (missing.length > 0) this.log?.info({ sink: this.id, untagged: missing.slice(0, 20).map((l) => l.metadataValue), count: missing.length }, 'no sheet row carries these ids yet; written on their next change');
    await this.rowsMissing.report(this.cfg.tabs.catalog, catalogMissing, written);
  }

  private purchaseOrderRows({ entries, layout }: Batch, poKs: number[]): ByMetadata[] {
    const { tabs } = this.cfg;
    const data: ByMetadata[] = [];
    const headers = headersOf(layout, tabs.purchaseOrders);
    for (const k of poKs) {
      const po = (entries[k]!.payload as { purchaseOrder: PurchaseOrderView }).purchaseOrder;
      for (const line of po.lines) {
        const row = trimNulls(logRow(headers, purchaseOrderStatusValues(po, line)));
        if (row.length > 0) data.push(tagged(PO_LINE_METADATA_KEY, `${po.number}#${line.line}`, row));
      }
    }
    return data;
  }

  private async catalogRows({ entries, layout }: Batch, rowKs: number[], now: string): Promise<ByMetadata[]> {
    const { tabs } = this.cfg;
    const data: ByMetadata[] = [];
    const headers = headersOf(layout, tabs.catalog);
    const skus = [...new Set(rowKs.map((k) => (entries[k]!.payload as { sku: string }).sku))];
    const [levels, open] = await Promise.all([this.store.ledger.levelsFor(skus), this.store.conflicts.list({ limit: 1000, status: 'open' })]);
    for (const sku of skus) {
      const item = await this.store.items.get(sku);
      if (!item) continue;
      const row = trimNulls(catalogRow(headers, { item, levels: levels.filter((l) => l.sku === sku), conflicts: open.filter((c) => c.sku === sku), defaultLocation: this.opts.defaultLocation, now }));
      if (row.length === 0) continue;
      data.push(tagged(SKU_METADATA_KEY, sku, row));
    }
    return data;
  }

  private async conflictStatusRows({ entries, layout }: Batch, statusKs: number[]): Promise<ByMetadata[]> {
    const { tabs } = this.cfg;
    const data: ByMetadata[] = [];
    const headers = layout.headers.get(tabs.conflicts) ?? [];
    for (const k of statusKs) {
      const c = await this.store.conflicts.get((entries[k]!.payload as { conflictId: number }).conflictId);
      if (!c) continue;
      const row = trimNulls(logRow(headers, { Status: conflictStatus(c) }));
      if (row.length > 0) data.push(tagged(CONFLICT_METADATA_KEY, String(c.id), row));
    }
    return data;
  }

  private async appendMovements(b: Batch, ks: number[]): Promise<void> {
    const tab = this.cfg.tabs.movements;
    const h = headersOf(b.layout, tab);
    await this.append(b, tab, ks.map((k) => { const m = (b.entries[k]!.payload as { movement: Movement }).movement; return logRow(h, movementValues(m, this.channelName(m.channelId))); }));
  }

  private async appendOrders(b: Batch, ks: number[]): Promise<void> {
    const tab = this.cfg.tabs.orders;
    const h = headersOf(b.layout, tab);
    const channel = (id: string | null) => this.channelName(id);
    const rows: Cell[][] = [];
    for (const k of ks) {
      const p = b.entries[k]!.payload as { movement?: Movement; orderEventId?: number; orderId?: number };
      if (p.movement) rows.push(logRow(h, orderValues(p.movement, channel(p.movement.channelId))));
      else if (p.orderEventId !== undefined && p.orderId !== undefined) {
        for (const values of await orderStepRows(this.store, p.orderId, p.orderEventId, channel)) rows.push(logRow(h, values));
      }
    }
    await this.append(b, tab, rows);
  }

  private async appendAlerts(b: Batch, ks: number[]): Promise<void> {
    const tab = this.cfg.tabs.alerts;
    const h = headersOf(b.layout, tab);
    await this.append(b, tab, ks.map((k) => { const a = (b.entries[k]!.payload as { alert: AlertRecord }).alert; return logRow(h, alertValues(a, this.channelName(a.channelId))); }));
  }

  private async append({ write, opts }: Batch, tab: string, rows: Cell[][]): Promise<void> {
    if (rows.length === 0) return;
    await write(() =>
      this.api.spreadsheets.values.append(
        { spreadsheetId: this.cfg.spreadsheetId, range: `${quoteTab(tab)}!A1`, valueInputOption: 'RAW', insertDataOption: 'INSERT_ROWS', requestBody: { majorDimension: 'ROWS', values: rows } },
        opts,
      ),
    );
  }

  private channelName(id: string | null): string | null {
    return id ? (this.names.get(id) ?? id) : null;
  }

  private tab(layout: Layout, name: string): number {
    const id = layout.sheetIds.get(name);
    if (id === undefined || (layout.headers.get(name) ?? []).length === 0) throw missingTab(name);
    return id;
  }

  /** The tabs and their header rows: two reads, kept for a few minutes. */
  private async readLayout(signal: AbortSignal): Promise<Layout> {
    const now = this.clock().getTime();
    if (this.layout && now - this.layout.readAt < (this.opts.layoutTtlMs ?? LAYOUT_TTL_MS)) return this.layout;
    const { spreadsheetId, tabs } = this.cfg;
    const opts = { signal, retry: false };
    const meta = await this.api.spreadsheets.get({ spreadsheetId, fields: 'sheets.properties(sheetId,title)' }, opts);
    const sheetIds = new Map<string, number>();
    for (const s of meta.data.sheets ?? []) if (s.properties?.title && typeof s.properties.sheetId === 'number') sheetIds.set(s.properties.title, s.properties.sheetId);
    const present = Object.values(tabs).filter((t) => sheetIds.has(t));
    const headers = new Map<string, unknown[]>();
    if (present.length > 0) {
      const got = await this.api.spreadsheets.values.batchGet({ spreadsheetId, ranges: present.map((t) => `${quoteTab(t)}!1:1`), majorDimension: 'ROWS' }, opts);
      present.forEach((t, i) => headers.set(t, (got.data.valueRanges?.[i]?.values?.[0] as unknown[] | undefined) ?? []));
    }
    this.layout = { sheetIds, headers, readAt: now };
    return this.layout;
  }

  /** Any failure as the dispatcher understands it, in words a shop owner can act on; never a secret. */
  private deliveryError(err: unknown): DeliveryError {
    if (err instanceof DeliveryError) return err;
    const e = this.describe(err);
    const status = (err as { response?: { status?: unknown } }).response?.status;
    if (status === 401 || status === 403 || status === 404 || typeof ((err as { response?: { data?: { error?: unknown } } }).response?.data?.error) === 'string') this.wholeSheet.add(e);
    return e;
  }

  private describe(err: unknown): DeliveryError {
    const e = err as { status?: number; code?: string | number; message?: string; response?: { status?: number; data?: unknown; headers?: unknown } };
    const status = typeof e.response?.status === 'number' ? e.response.status : typeof e.status === 'number' ? e.status : null;
    const data = e.response?.data as { error?: { message?: unknown } | string; error_description?: unknown } | undefined;
    const google = typeof data?.error === 'object' && typeof data.error?.message === 'string' ? data.error.message : typeof data?.error_description === 'string' ? data.error_description : null;
    const said = google ? ` Google said: ${scrubSecrets(google)}` : '';
    const email = this.cfg.credentials.clientEmail;
    if (typeof data?.error === 'string') {
      // Google's token endpoint refused to sign the service account in (invalid_grant: a deleted key…).
      return new DeliveryError(`Google refused to sign in the service account ${email} (${scrubSecrets(data.error)}${google ? `: ${scrubSecrets(google)}` : ''}): check that its key is still active (Google Cloud console › IAM › Service accounts › Keys).`);
    }
    if (status === 429) {
      this.throttled++;
      const after = retryAfterMs(e.response?.headers, this.clock().getTime());
      const ms = after ?? Math.min(MAX_THROTTLE_MS, 1000 * 2 ** (this.throttled - 1));
      return new DeliveryError(`Google Sheets asked the hub to slow down (429); writing resumes in ${Math.ceil(ms / 1000)} s.${said}`, ms, false, { rateLimited: true });
    }
    if (status === 400) this.layout = null;
    if (status === 400) return new DeliveryError(`Google Sheets refused the write (400).${said} Check that the tabs are set up (stockrelay › Set up sheets).`);
    if (status === 401) {
      // The access token was refused (revoked, or the key was replaced): the next attempt signs in afresh.
      const auth = (this.api as { context?: { _options?: { auth?: unknown } } }).context?._options?.auth;
      if (auth && typeof auth === 'object' && 'credentials' in auth) {
        const held = auth as { credentials: { expiry_date?: number | null } };
        held.credentials = { ...held.credentials, expiry_date: 1 };
      }
      return new DeliveryError(`Google refused the service account ${email} (401): check its key.${said}`);
    }
    if (status === 403) return new DeliveryError(`The service account ${email} may not edit the spreadsheet (403): share the sheet with that address as an Editor.${said}`);
    if (status === 404) return new DeliveryError(`Google Sheets has no spreadsheet ${this.cfg.spreadsheetId} (404): check sheets.spreadsheetId in the config file.${said}`);
    if (status !== null) return new DeliveryError(`Google Sheets answered HTTP ${status}.${said}`, retryAfterMs(e.response?.headers, this.clock().getTime()));
    // No HTTP answer: the token exchange failed (its message is Google's), or the network did.
    const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
    const code = typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code) ? e.code : typeof cause?.code === 'string' && /^E[A-Z]+$/.test(cause.code) ? cause.code : null;
    const what = code ? `cannot reach Google (${code})` : scrubSecrets(e.message ?? 'unknown error') + (typeof cause?.message === 'string' ? ` (${scrubSecrets(cause.message)})` : '');
    return new DeliveryError(`The sheet write-back failed: ${what}.`);
  }
}

/** Retry-After from a gaxios answer's headers (a Headers object, or a plain record in older versions). */
function retryAfterMs(headers: unknown, nowMs: number): number | null {
  if (!headers) return null;
  const h = headers as { get?: (k: string) => string | null } & Record<string, unknown>;
  return parseRetryAfter(typeof h.get === 'function' ? h.get('retry-after') : (h['retry-after'] as string | undefined), nowMs);
}

function missingTab(tab: string): DeliveryError {
  return new DeliveryError(`The sheet has no “${tab}” tab with its headers: open the sheet and choose stockrelay › Set up sheets.`);
}

function cellData(v: Cell): { userEnteredValue?: { stringValue: string } | { numberValue: number } } {
  if (v === null) return {};
  return typeof v === 'number' ? { userEnteredValue: { numberValue: v } } : { userEnteredValue: { stringValue: v } };
}
