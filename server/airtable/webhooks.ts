/**
 * Airtable webhooks: the script-free way for changes made in the base to reach the hub
 * (docs/airtable.md, "Webhooks").
 *
 * - The hub creates one webhook on the base, watching the Catalog table's editable fields, and
 *   refreshes it well before Airtable's 7-day expiry (checked every hour by default).
 * - Airtable's ping carries no data: the hub checks its `X-Airtable-Content-MAC` with the webhook's
 *   MAC secret, answers at once, then reads the payloads by cursor.
 * - The payloads read are stored as inbox events, and the cursor after them is saved, in one
 *   transaction: a restart neither skips nor repeats a payload (dedupe keys name the webhook and the
 *   payload's cursor, so even a replayed page books once).
 * - Changes the hub made itself (its write-back, through the API with its own token) are ignored by
 *   `actionMetadata.source` = publicApi and the token's user; so are changes to fields the hub owns.
 */
import crypto from 'node:crypto';
import type { Logger } from '../log';
import type { Relay } from '../shared/relay';
import type { SpacedWindowLimiter } from '../outbox/rate-limit';
import type { Store } from '../store/types';
import { AirtableHttpError, type AirtableApi } from './client';
import { MAX_PAGES } from '../connectors/paging';
import type { AirtableConfig } from './config';

/** Refresh when less than this is left of the webhook's life (Airtable gives 7 days). */
const REFRESH_WHEN_LEFT_MS = 3 * 24 * 3600_000;
const PAGE = 50;

interface WebhookState {
  webhookId: string;
  macSecretBase64: string;
  notificationUrl: string;
  /** The cursor of the next payload to read. */
  cursor: number;
  expiresAt: string;
  tableId: string;
  /** Default field name → the base's field id. */
  fieldIds: Record<string, string>;
  /** The user the hub's token acts as: its own writes carry it. */
  userId: string | null;
}

interface TableSchema {
  id: string;
  name: string;
  fields: { id: string; name: string; type?: string }[];
}

type Cells = Record<string, unknown>;
interface Payload {
  timestamp?: string;
  actionMetadata?: { source?: string; sourceMetadata?: { user?: { id?: string; email?: string; name?: string } } };
  changedTablesById?: Record<
    string,
    {
      createdRecordsById?: Record<string, { cellValuesByFieldId?: Cells; createdTime?: string }>;
      changedRecordsById?: Record<string, { current?: { cellValuesByFieldId?: Cells }; previous?: { cellValuesByFieldId?: Cells }; unchanged?: { cellValuesByFieldId?: Cells } }>;
      destroyedRecordIds?: string[];
    }
  >;
}

/** The Catalog fields people edit, which the webhook watches. */
const WATCHED = ['SKU', 'On hand', 'Title', 'Low stock at', 'Archived'];

export type PingVerdict = { ok: true } | { ok: false; status: number; reason: string };

export class AirtableWebhooks {
  private timer: NodeJS.Timeout | null = null;
  private pulling: Promise<number> | null = null;
  private again = false;
  private ensuring: Promise<void> | null = null;
  private readonly key: string;
  private readonly clock: () => Date;
  private readonly log: Logger | null;
  /** Payloads turned into events (tests, metrics). */
  payloadsRead = 0;
  ignoredOwn = 0;

  constructor(
    private readonly cfg: AirtableConfig,
    private readonly api: AirtableApi,
    private readonly store: Store,
    private readonly opts: { clock?: () => Date; log?: Logger | null; pace: SpacedWindowLimiter; wake: () => void; refreshEveryMs?: number },
  ) {
    this.key = `airtable.webhook:${cfg.baseId}`;
    this.clock = opts.clock ?? (() => new Date());
    this.log = opts.log ?? null;
  }

  /** Makes sure the webhook exists and is fresh, reads what was missed, and checks again every hour. */
  start(): void {
    if (this.timer) return;
    const tick = () => {
      this.ensure()
        .then(() => this.pull())
        .catch((err: unknown) => this.log?.warn({ err: describe(err) }, 'the Airtable webhook could not be checked; trying again later'));
    };
    tick();
    this.timer = setInterval(tick, this.opts.refreshEveryMs ?? 3600_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([this.pulling, this.ensuring]);
  }

  async state(): Promise<WebhookState | null> {
    return this.store.hubState.get<WebhookState>(this.key);
  }

  /** Creates the webhook if the hub has none (or the address changed), refreshes it when its end nears. */
  ensure(): Promise<void> {
    this.ensuring ??= this.doEnsure().finally(() => (this.ensuring = null));
    return this.ensuring;
  }

  private async doEnsure(): Promise<void> {
    const webhook = this.cfg.webhook;
    if (!webhook) return;
    const schema = await this.schema();
    const userId = await this.call<{ id?: string }>('GET', '/v0/meta/whoami').then((w) => w.id ?? null);
    const state = await this.state();
    const nowMs = this.clock().getTime();
    if (state && state.notificationUrl === webhook.notificationUrl && state.tableId === schema.tableId) {
      const fresh = { ...state, fieldIds: schema.fieldIds, userId };
      if (Date.parse(state.expiresAt) - nowMs > REFRESH_WHEN_LEFT_MS) {
        await this.store.hubState.set(this.key, fresh, this.clock().toISOString());
        return;
      }
      try {
        const r = await this.call<{ expirationTime?: string }>('POST', `/v0/bases/${this.cfg.baseId}/webhooks/${state.webhookId}/refresh`);
        await this.store.hubState.set(this.key, { ...fresh, expiresAt: r.expirationTime ?? state.expiresAt }, this.clock().toISOString());
        this.log?.info({ webhookId: state.webhookId, expiresAt: r.expirationTime }, 'Airtable webhook refreshed');
        return;
      } catch (err) {
        if (!(err instanceof AirtableHttpError) || (err.statusCode !== 404 && err.statusCode !== 422)) throw err;
        // Expired (422) or deleted (404) on Airtable's side: made again below. What changed meanwhile is found by the next reconciliation.
        this.log?.warn({ webhookId: state.webhookId }, 'the Airtable webhook was gone (expired or deleted); creating a new one');
      }
    } else if (state) {
      // The address or the table changed: the old webhook is removed so Airtable stops pinging it.
      await this.call('DELETE', `/v0/bases/${this.cfg.baseId}/webhooks/${state.webhookId}`).catch(() => undefined);
    }
    const created = await this.call<{ id: string; macSecretBase64: string; expirationTime: string }>('POST', `/v0/bases/${this.cfg.baseId}/webhooks`, {
      notificationUrl: webhook.notificationUrl,
      specification: {
        options: {
          filters: { dataTypes: ['tableData'], recordChangeScope: schema.tableId, watchDataInFieldIds: WATCHED.flatMap((f) => (schema.fieldIds[f] ? [schema.fieldIds[f]] : [])) },
          includes: { includeCellValuesInFieldIds: Object.values(schema.fieldIds), includePreviousCellValues: true },
        },
      },
    });
    await this.store.hubState.set(
      this.key,
      { webhookId: created.id, macSecretBase64: created.macSecretBase64, notificationUrl: webhook.notificationUrl, cursor: 1, expiresAt: created.expirationTime, tableId: schema.tableId, fieldIds: schema.fieldIds, userId } satisfies WebhookState,
      this.clock().toISOString(),
    );
    this.log?.info({ webhookId: created.id, expiresAt: created.expirationTime }, 'Airtable webhook created');
  }

  /** The Catalog table's id and its fields' ids, by the names the config gives them. */
  private async schema(): Promise<{ tableId: string; fieldIds: Record<string, string> }> {
    const catalog = this.cfg.tables.catalog!;
    const got = await this.call<{ tables?: TableSchema[] }>('GET', `/v0/meta/bases/${this.cfg.baseId}/tables`);
    const table = (got.tables ?? []).find((t) => t.id === catalog.table || t.name === catalog.table);
    if (!table) throw new Error(`Base ${this.cfg.baseId} has no table "${catalog.table}" (or the token lacks schema.bases:read): check airtable.catalog.table.`);
    const fieldIds: Record<string, string> = {};
    for (const [name, theirs] of catalog.fields) {
      const f = table.fields.find((x) => x.name === theirs || x.id === theirs);
      if (f) fieldIds[name] = f.id;
    }
    if (!fieldIds.SKU) throw new Error(`Table "${table.name}" has no field "${catalog.fields.get('SKU')}": the hub finds items by it.`);
    return { tableId: table.id, fieldIds };
  }

  /** Checks a ping: the MAC over its exact bytes, with the secret of the webhook it names. */
  async verifyPing(raw: Buffer, macHeader: string | undefined): Promise<PingVerdict> {
    const state = await this.state();
    if (!state) return { ok: false, status: 404, reason: 'The hub has no Airtable webhook yet; it creates one at start.' };
    const m = /^hmac-sha256=([0-9a-f]{64})$/i.exec((macHeader ?? '').trim());
    if (!m) return { ok: false, status: 401, reason: 'The ping has no X-Airtable-Content-MAC header of the form hmac-sha256=<hex>.' };
    const expected = crypto.createHmac('sha256', Buffer.from(state.macSecretBase64, 'base64')).update(raw).digest();
    const given = Buffer.from(m[1]!, 'hex');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
      return { ok: false, status: 401, reason: 'The ping’s X-Airtable-Content-MAC does not match the webhook’s secret; it was not sent by Airtable for this hub’s webhook.' };
    }
    let body: { webhook?: { id?: unknown }; base?: { id?: unknown } };
    try {
      body = JSON.parse(raw.toString('utf8')) as typeof body;
    } catch {
      return { ok: false, status: 400, reason: 'The ping is not JSON.' };
    }
    if (body.webhook?.id !== state.webhookId || body.base?.id !== this.cfg.baseId) return { ok: false, status: 404, reason: 'The ping names another webhook or base than the one this hub created.' };
    return { ok: true };
  }

  /** Reads every payload after the saved cursor; one run at a time (a ping during a run makes one more). */
  pull(): Promise<number> {
    if (this.pulling) {
      this.again = true;
      return this.pulling;
    }
    const run = async () => {
      let n = 0;
      do {
        this.again = false;
        n += await this.pullAll();
      } while (this.again);
      return n;
    };
    this.pulling = run().finally(() => (this.pulling = null));
    return this.pulling;
  }

  private async pullAll(): Promise<number> {
    let total = 0;
    // Airtable's cursor moves on by the payloads it gives; one that does not (an answer that ignores
    // `cursor`) would be read for ever, so it is an error; and one pull reads at most MAX_PAGES pages
    // (server/connectors/paging.ts), the rest on the next ping, from the saved cursor.
    for (let pages = 1; ; pages++) {
      const state = await this.state();
      if (!state) return total;
      const page = await this.call<{ payloads?: Payload[]; cursor?: number; mightHaveMore?: boolean }>(
        'GET',
        `/v0/bases/${this.cfg.baseId}/webhooks/${state.webhookId}/payloads?cursor=${state.cursor}&limit=${PAGE}`,
      );
      const payloads = page.payloads ?? [];
      const next = typeof page.cursor === 'number' ? page.cursor : state.cursor + payloads.length;
      if (payloads.length > 0 && !(next > state.cursor)) {
        throw new Error(`Airtable answered ${payloads.length} payload(s) from cursor ${state.cursor} with the next cursor ${String(page.cursor)}, which does not move on; stopped reading so as not to read them again for ever. The next ping tries again.`);
      }
      const now = this.clock().toISOString();
      await this.store.transaction(async (tx) => {
        for (const [i, p] of payloads.entries()) {
          const at = state.cursor + i;
          for (const [j, relay] of this.relaysOf(p, state).entries()) {
            await tx.inbox.insert(
              { dedupeKey: `airtable:${state.webhookId}:${at}:${j}`, source: 'airtable', kind: relay.kind, headers: { 'airtable-webhook': state.webhookId, 'airtable-cursor': String(at) }, body: JSON.stringify(relay) },
              now,
            );
          }
        }
        // Advanced in the same transaction as the events: a crash before the commit reads the page again.
        await tx.hubState.set(this.key, { ...state, cursor: next }, now);
      });
      total += payloads.length;
      this.payloadsRead += payloads.length;
      if (payloads.length > 0) this.opts.wake();
      if (!page.mightHaveMore || payloads.length === 0) return total;
      if (pages >= MAX_PAGES) return total;
    }
  }

  /** The relays one payload stands for: Catalog records created or changed by someone other than the hub. */
  relaysOf(p: Payload, state: WebhookState): Relay[] {
    const meta = p.actionMetadata;
    if (meta?.source === 'publicApi' && state.userId !== null && meta.sourceMetadata?.user?.id === state.userId) {
      this.ignoredOwn++;
      return [];
    }
    const changes = p.changedTablesById?.[state.tableId];
    if (!changes) return [];
    const ids = state.fieldIds;
    const name = (cells: Cells | undefined, field: string): unknown => (ids[field] && cells ? cells[ids[field]] : undefined);
    const actor = meta?.sourceMetadata?.user?.email ?? meta?.sourceMetadata?.user?.name ?? (meta?.source ? `Airtable (${meta.source})` : undefined);
    const at = p.timestamp && !Number.isNaN(Date.parse(p.timestamp)) ? new Date(p.timestamp).toISOString() : this.clock().toISOString();
    const table = this.cfg.tables.catalog!.table;
    const location = this.cfg.location ?? undefined;
    const added: { sku: string; title?: string; lowStockThreshold?: number }[] = [];
    const removed: string[] = [];
    const edits: Extract<Relay, { kind: 'edit_batch' }>['edits'] = [];
    const text = (v: unknown) => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '');
    const cell = (v: unknown): string | number | null => (v === undefined || v === null ? null : typeof v === 'number' || typeof v === 'string' ? v : JSON.stringify(v).slice(0, 1000));
    const edit = (sku: string, record: string, field: 'on_hand' | 'title' | 'low_stock_threshold', oldValue: unknown, newValue: unknown) =>
      edits.push({ sku, field, oldValue: cell(oldValue), newValue: cell(newValue), sheet: table, record, ...(location && field === 'on_hand' ? { location } : {}) });

    for (const [record, r] of Object.entries(changes.createdRecordsById ?? {})) {
      const cells = r.cellValuesByFieldId;
      const sku = text(name(cells, 'SKU'));
      if (!sku || name(cells, 'Archived') === true) continue;
      const title = name(cells, 'Title');
      const low = name(cells, 'Low stock at');
      added.push({ sku, ...(typeof title === 'string' && title ? { title } : {}), ...(typeof low === 'number' && Number.isInteger(low) && low >= 0 ? { lowStockThreshold: low } : {}) });
      const onHand = name(cells, 'On hand');
      if (onHand !== undefined && onHand !== null && onHand !== '') edit(sku, record, 'on_hand', null, onHand);
    }
    for (const [record, r] of Object.entries(changes.changedRecordsById ?? {})) {
      const cur = r.current?.cellValuesByFieldId;
      const prev = r.previous?.cellValuesByFieldId;
      const same = r.unchanged?.cellValuesByFieldId;
      const sku = text(name(cur, 'SKU') ?? name(same, 'SKU'));
      if (!sku) continue;
      const has = (field: string) => ids[field] !== undefined && cur !== undefined && ids[field] in cur;
      const archived = has('Archived') ? name(cur, 'Archived') === true : name(same, 'Archived') === true;
      if (has('Archived')) {
        if (archived) removed.push(sku);
        else added.push({ sku });
      } else if (has('SKU') && !text(name(prev, 'SKU')) && !archived) {
        // A SKU typed into a record that had none: the item joins the catalog.
        added.push({ sku });
      }
      if (archived) continue;
      if (has('On hand')) {
        const before = ids['On hand'] && prev && ids['On hand'] in prev ? name(prev, 'On hand') : (name(same, 'Hub on hand') ?? null);
        const now = name(cur, 'On hand');
        // On hand and Hub on hand changed together to one number: the hub's own write-back (seen here
        // when the token's user could not be learnt), never a person, who only types On hand.
        const hubsOwn = has('Hub on hand') && name(cur, 'Hub on hand') === now;
        if (!hubsOwn) edit(sku, record, 'on_hand', before ?? null, now ?? null);
      }
      if (has('Title')) edit(sku, record, 'title', null, name(cur, 'Title') ?? null);
      if (has('Low stock at')) edit(sku, record, 'low_stock_threshold', null, name(cur, 'Low stock at') ?? null);
    }
    if ((changes.destroyedRecordIds ?? []).length > 0) {
      this.log?.info({ records: changes.destroyedRecordIds!.slice(0, 20) }, 'records deleted in Airtable; items are kept in the hub (tick Archived to remove an item from the catalog)');
    }
    const relays: Relay[] = [];
    const base = { origin: 'airtable' as const, ...(actor ? { actor: actor.slice(0, 200) } : {}) };
    if (added.length > 0 || removed.length > 0) relays.push({ kind: 'catalog_changed', ...base, added, removed, occurredAt: at });
    if (edits.length > 0) relays.push({ kind: 'edit_batch', ...base, edits, editedAt: at });
    return relays;
  }

  /** A webhook-API call, in its turn under the base's pace. */
  private async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    await this.opts.pace.waitTurn(() => this.clock().getTime(), (ms) => new Promise((r) => setTimeout(r, ms)));
    return this.api.call<T>(method, path, body);
  }
}

function describe(err: unknown): string {
  if (err instanceof AirtableHttpError) return `Airtable answered ${err.statusCode} (${err.error}): ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
