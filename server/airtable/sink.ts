/**
 * The Airtable write-back, as a sink of the outbox (docs/airtable.md): durable, coalesced per item
 * like every delivery, retried for ever, suspended with an alert after repeated failures. One batch
 * of outbox rows becomes a few upserts of at most 10 records each (Airtable's limit per request),
 * each waiting its turn under the base's pace (5 requests per second); after a 429 the whole base
 * waits the 30 s Airtable asks for.
 *
 * Every write is an upsert on a key field (SKU, or the movement's, order line's or alert's id), so a
 * write repeated after a lost answer changes the same record instead of adding a second one.
 */
import type { Movement } from '../core/ledger';
import type { Logger } from '../log';
import { DeliveryError, notSentInTime, type EntryResult, type Sink } from '../outbox/sink';
import { SpacedWindowLimiter, type Limiter } from '../outbox/rate-limit';
import { alertValues, isOrderMovement, movementValues, orderValues, syncNote, type Cell } from '../sheets/rows';
import type { AlertRecord, OutboxEntry, Store } from '../store/types';
import { chunks } from '../util';
import type { AirtableApi, Fields } from './client';
import { MERGE_FIELD, type AirtableConfig, type AirtableTableKey } from './config';

export const AIRTABLE_SINK = 'airtable';
export type AirtableTopic = 'airtable.record' | 'airtable.movement' | 'airtable.order' | 'airtable.alert';
const TOPICS: AirtableTopic[] = ['airtable.record', 'airtable.movement', 'airtable.order', 'airtable.alert'];

/** Airtable's own limit on records per write request. */
export const RECORDS_PER_REQUEST = 10;
/** After a 429 Airtable asks for 30 s of quiet before the next request. */
export const RATE_LIMIT_PAUSE_MS = 30_000;

export interface AirtableSinkOptions {
  clock?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  log?: Logger | null;
  channelNames?: Map<string, string>;
  defaultLocation: string;
  maxBatch?: number;
  /** Requests per window; defaults to the config's requestsPerSecond per second. */
  quota?: { requests: number; windowMs: number };
}

export class AirtableSink implements Sink {
  readonly id = AIRTABLE_SINK;
  readonly maxBatch: number;
  readonly limiter: Limiter;
  readonly pace: SpacedWindowLimiter;
  /** Retried for ever and suspended with an alert like a channel: a movement record must not be dropped. */
  readonly channel = { id: 'airtable', name: 'The Airtable base' };
  /** Write requests sent (tests and the economy figures). */
  requests = 0;
  private readonly clock: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly names: Map<string, string>;
  private readonly location: string;

  constructor(
    private readonly cfg: AirtableConfig,
    private readonly store: Store,
    private readonly api: AirtableApi,
    private readonly opts: AirtableSinkOptions,
  ) {
    // Airtable counts requests as they arrive; ours leave on our clock, and a slow one followed by a
    // quick one can land closer together than they left: the window is kept 20% longer than a second.
    const quota = opts.quota ?? { requests: cfg.requestsPerSecond, windowMs: 1000 };
    this.pace = new SpacedWindowLimiter(quota.requests, quota.windowMs, 0.2);
    this.limiter = this.pace.dispatcherView();
    // 50 rows: a few requests of 10, done in about a second at Airtable's pace, well inside a batch's time limit.
    this.maxBatch = opts.maxBatch ?? 50;
    this.clock = opts.clock ?? (() => new Date());
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.names = opts.channelNames ?? new Map();
    this.location = cfg.location ?? opts.defaultLocation;
  }

  async deliver(entry: OutboxEntry, signal: AbortSignal): Promise<void> {
    const [r] = await this.deliverBatch([entry], signal);
    if (r) throw r;
  }

  async deliverBatch(entries: OutboxEntry[], signal: AbortSignal): Promise<EntryResult[]> {
    const results: EntryResult[] = entries.map((e) => (TOPICS.includes(e.topic as AirtableTopic) ? null : new DeliveryError(`The Airtable write-back does not know "${e.topic}".`, null, true)));
    let stopped: DeliveryError | null = null;
    const now = this.clock().toISOString();

    const send = async (key: AirtableTableKey, ks: number[], build: (k: number) => Promise<Fields | null>) => {
      const table = this.cfg.tables[key];
      if (ks.length === 0) return;
      if (!table) return; // the config leaves this table out: nothing to write, delivered.
      // One record per key value: a batch naming one item twice writes it once.
      const byKey = new Map<string, { fields: Fields; ks: number[] }>();
      for (const k of ks) {
        const fields = await build(k);
        if (!fields) continue;
        const keyValue = String(fields[table.fields.get(MERGE_FIELD[key])!]);
        const seen = byKey.get(keyValue);
        if (seen) seen.ks.push(k);
        else byKey.set(keyValue, { fields, ks: [k] });
      }
      for (const chunk of chunks([...byKey.values()], RECORDS_PER_REQUEST)) {
        const chunkKs = chunk.flatMap((g) => g.ks);
        if (stopped) {
          for (const k of chunkKs) results[k] = stopped;
          continue;
        }
        try {
          if (!(await this.pace.waitTurn(() => this.clock().getTime(), this.sleep, signal))) throw notSentInTime();
          this.requests++;
          await this.api.upsert(table.table, table.fields.get(MERGE_FIELD[key])!, chunk.map((g) => g.fields));
        } catch (err) {
          const e = this.deliveryError(err, table.table);
          for (const k of chunkKs) results[k] = e;
          // Airtable asked for quiet, or refuses the token or the base: nothing more from this batch.
          if (e.flags.rateLimited || (err as { statusCode?: number }).statusCode === 401 || (err as { statusCode?: number }).statusCode === 403) stopped = e;
        }
      }
    };
    const of = (topic: AirtableTopic) => entries.flatMap((e, k) => (e.topic === topic ? [k] : []));
    const channel = (id: string | null) => (id ? (this.names.get(id) ?? id) : null);

    // Catalog records: the latest numbers, read now (rows are coalesced per SKU in the outbox).
    const recordKs = of('airtable.record');
    const skus = [...new Set(recordKs.map((k) => (entries[k]!.payload as { sku: string }).sku))];
    const [levels, open] = skus.length > 0 ? await Promise.all([this.store.ledger.levelsFor(skus), this.store.conflicts.list({ limit: 1000, status: 'open' })]) : [[], []];
    const catalog = this.cfg.tables.catalog!;
    await send('catalog', recordKs, async (k) => {
      const sku = (entries[k]!.payload as { sku: string }).sku;
      const item = await this.store.items.get(sku);
      if (!item) return null;
      const level = levels.find((l) => l.sku === sku && l.locationId === this.location) ?? { onHand: 0, reserved: 0 };
      const conflicts = open.filter((c) => c.sku === sku && c.locationId === this.location);
      const archived = item.status === 'archived';
      const values: Record<string, Cell | boolean> = {
        SKU: sku,
        // An archived item's Hub on hand is cleared: unticking Archived then reads as a new record to the
        // automation script, which adds the item back (airtable-scripts/src/record-change.ts).
        'Hub on hand': archived ? null : level.onHand,
        Available: level.onHand - level.reserved,
        'Last synced': now,
        'Sync note': syncNote(conflicts),
      };
      // While a conflict is open, On hand keeps what was typed (docs/conflicts.md); the note says why.
      if (conflicts.length === 0 && !archived) values['On hand'] = level.onHand;
      if (this.cfg.writeTitles && item.title !== null) values.Title = item.title;
      // Only ever ticked by the hub: unticking is left to people, so a write-back crossing their tick cannot undo it.
      if (archived) values.Archived = true;
      return mapFields(catalog.fields, values);
    });

    const movementFields = (key: 'movements' | 'orders', k: number) => {
      const m = (entries[k]!.payload as { movement: Movement }).movement;
      const t = this.cfg.tables[key];
      if (!t) return null;
      const values = key === 'movements' ? { Movement: String(m.id), ...movementValues(m, channel(m.channelId)), When: m.occurredAt } : isOrderMovement(m) ? { Line: String(m.id), ...orderValues(m, channel(m.channelId)), When: m.occurredAt } : null;
      return values ? mapFields(t.fields, values) : null;
    };
    await send('movements', of('airtable.movement'), async (k) => movementFields('movements', k));
    await send('orders', of('airtable.order'), async (k) => movementFields('orders', k));
    await send('alerts', of('airtable.alert'), async (k) => {
      const a = (entries[k]!.payload as { alert: AlertRecord }).alert;
      const t = this.cfg.tables.alerts;
      if (!t) return null;
      return mapFields(t.fields, { Alert: String(a.id), ...alertValues(a, channel(a.channelId)), Opened: a.openedAt, Resolved: a.resolvedAt ?? null });
    });
    return results;
  }

  /** Any failure in words a shop owner can act on; never the token. */
  private deliveryError(err: unknown, table: string): DeliveryError {
    if (err instanceof DeliveryError) return err;
    const e = err as { statusCode?: unknown; error?: unknown; message?: unknown };
    const status = typeof e.statusCode === 'number' ? e.statusCode : null;
    const said = typeof e.message === 'string' && e.message ? ` Airtable said: ${scrub(e.message)}` : '';
    const base = this.cfg.baseId;
    if (status === 429) return new DeliveryError(`Airtable asked the hub to slow down (429); writing to the base resumes in 30 s.${said}`, RATE_LIMIT_PAUSE_MS, false, { rateLimited: true });
    if (status === 401) return new DeliveryError(`Airtable refused the token in ${this.cfg.tokenEnv} (401): it was revoked or mistyped. Create a new personal access token and restart the hub.${said}`);
    if (status === 403) return new DeliveryError(`The token in ${this.cfg.tokenEnv} may not write to base ${base} (403): give it the data.records:write scope and access to this base.${said}`);
    if (status === 404) return new DeliveryError(`Airtable has no table "${table}" in base ${base}, or the token cannot see it (404): check airtable.baseId and the table names in the config file.${said}`);
    if (status === 422) return new DeliveryError(`Airtable refused the records for table "${table}" (422): a field is missing or of another type. Add the fields of docs/airtable.md, or rename them under airtable.*.fields in the config file.${said}`);
    if (status !== null) return new DeliveryError(`Airtable answered HTTP ${status} for table "${table}".${said}`);
    const code = typeof e.error === 'string' ? e.error : null;
    return new DeliveryError(`The Airtable write-back failed: ${code === 'CONNECTION_ERROR' ? 'cannot reach Airtable' : scrub(String(e.message ?? err))}.`);
  }
}

function scrub(s: string): string {
  return s.replace(/pat[A-Za-z0-9]{10,}\.[A-Za-z0-9]+/g, '[redacted]').replace(/Bearer\s+\S+/gi, 'Bearer [redacted]');
}

/** Default field names → the base's names; fields the config leaves out are not sent. */
function mapFields(fields: Map<string, string>, values: Record<string, Cell | boolean>): Fields {
  const out: Fields = {};
  for (const [name, v] of Object.entries(values)) {
    const to = fields.get(name);
    if (to !== undefined) out[to] = v === '' ? null : v;
  }
  return out;
}

