import { Kysely, Migrator, sql, type Selectable, type Transaction } from 'kysely';
import { MovementError, countDelta, effectOf, levelBoundError, validateMovement, type Level, type Movement, type MovementInput, type Reason, type Source } from '../core/ledger';
import { MAX_QUANTITY, MAX_QUANTITY_TEXT } from '../shared/quantity';
import { migrationProvider } from './migrations';
import { OrderOps } from './order-ops';
import type { Database } from './schema';
import type {
  AlertRecord,
  ChannelLevelPatch,
  BookResult,
  ChannelLevelRecord,
  ChannelListingRecord,
  ConflictInput,
  ConflictRecord,
  CountInput,
  CredentialRecord,
  CredentialSecrets,
  Dialect,
  InboxEntry,
  InboxStatus,
  ItemRecord,
  LevelRecord,
  LocationRecord,
  OutboxEntry,
  OutboxInput,
  PlatformTokenRow,
  OutboxStatus,
  Page,
  Store,
  StoreOps,
  FeedStateRecord,
  PolledPage,
} from './types';
import { FeedMovedError } from './types';

const toItem = (r: Selectable<Database['items']>): ItemRecord => ({
  sku: r.sku,
  title: r.title,
  lowStockThreshold: r.low_stock_threshold,
  leadTimeDays: r.lead_time_days ?? null,
  safetyStock: r.safety_stock ?? null,
  listingHold: (r.listing_hold ?? null) as ItemRecord['listingHold'],
  status: r.status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  archivedAt: r.archived_at,
});

const toMovement = (r: Selectable<Database['movements']>): Movement => ({
  id: Number(r.id),
  idempotencyKey: r.idempotency_key,
  sku: r.sku,
  locationId: r.location_id,
  quantity: r.quantity,
  reason: r.reason as Reason,
  source: r.source as Source,
  channelId: r.channel_id,
  externalRef: r.external_ref,
  countedQuantity: r.counted_quantity,
  actor: r.actor,
  note: r.note,
  eventId: r.event_id === null ? null : Number(r.event_id),
  occurredAt: r.occurred_at,
  recordedAt: r.recorded_at,
});

const toListing = (r: Selectable<Database['channel_listings']>): ChannelListingRecord => ({
  channelId: r.channel_id,
  sku: r.sku,
  productId: r.product_id,
  variantId: r.variant_id,
  inventoryItemId: r.inventory_item_id,
  title: r.title,
  hidden: Number(r.hidden) === 1,
  updatedAt: r.updated_at,
});

const toChannelLevel = (r: Selectable<Database['channel_levels']>): ChannelLevelRecord => ({
  channelId: r.channel_id,
  sku: r.sku,
  locationId: r.location_id,
  pushed: r.pushed,
  pushedAt: r.pushed_at,
  pushedWrote: Number(r.pushed_wrote ?? 1) !== 0,
  observed: r.observed,
  observedAt: r.observed_at,
  expected: r.expected ?? null,
  observedPlatformAt: r.observed_platform_at ?? null,
  pendingSince: r.pending_since ?? null,
  pendingUp: Number(r.pending_up ?? 0),
  pendingDown: Number(r.pending_down ?? 0),
  driftDown: Number(r.drift ?? 0),
  driftUp: Number(r.drift_up ?? 0),
  driftThrough: r.drift_through ?? null,
  bookedDelta: Number(r.booked_delta ?? 0),
  pushing: r.pushing ?? null,
  pushingBookedDelta: r.pushing_booked_delta ?? null,
});

const CHANNEL_LEVEL_COLUMNS = {
  pushed: 'pushed',
  pushedAt: 'pushed_at',
  pushedWrote: 'pushed_wrote',
  observed: 'observed',
  observedAt: 'observed_at',
  expected: 'expected',
  observedPlatformAt: 'observed_platform_at',
  pendingSince: 'pending_since',
  pendingUp: 'pending_up',
  pendingDown: 'pending_down',
  driftDown: 'drift',
  driftUp: 'drift_up',
  driftThrough: 'drift_through',
  bookedDelta: 'booked_delta',
  pushing: 'pushing',
  pushingBookedDelta: 'pushing_booked_delta',
} as const;

const toLevel = (r: Selectable<Database['stock_levels']>): LevelRecord => ({
  sku: r.sku,
  locationId: r.location_id,
  onHand: r.on_hand,
  reserved: r.reserved,
  updatedAt: r.updated_at,
});

const toInbox = (r: Selectable<Database['inbox']>): InboxEntry => ({
  id: Number(r.id),
  dedupeKey: r.dedupe_key,
  source: r.source,
  kind: r.kind,
  headers: JSON.parse(r.headers) as Record<string, string>,
  body: r.body,
  status: r.status,
  outcome: r.outcome === null ? null : (JSON.parse(r.outcome) as unknown),
  attempts: r.attempts,
  receivedAt: r.received_at,
  processedAt: r.processed_at,
  retryAt: r.retry_at ?? null,
  prepared: r.prepared ?? null,
});

const toOutbox = (r: Selectable<Database['outbox']>): OutboxEntry => ({
  id: Number(r.id),
  sink: r.sink,
  topic: r.topic,
  coalesceKey: r.coalesce_key,
  payload: JSON.parse(r.payload) as unknown,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lockedUntil: r.locked_until,
  lastError: r.last_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toAlert = (r: Selectable<Database['alerts']>): AlertRecord => ({
  id: Number(r.id),
  kind: r.kind,
  severity: r.severity as AlertRecord['severity'],
  sku: r.sku,
  locationId: r.location_id,
  channelId: r.channel_id ?? null,
  message: r.message,
  status: r.status as AlertRecord['status'],
  openedAt: r.opened_at,
  resolvedAt: r.resolved_at,
});

const toConflict = (r: Selectable<Database['conflicts']>): ConflictRecord => ({
  id: Number(r.id),
  key: r.key,
  eventId: r.event_id === null ? null : Number(r.event_id),
  sku: r.sku,
  locationId: r.location_id,
  sheetShowed: r.sheet_showed,
  typed: r.typed,
  hubHad: r.hub_had,
  source: r.source,
  actor: r.actor,
  editedAt: r.edited_at,
  foundAt: r.found_at,
  status: r.status,
  resolvedAt: r.resolved_at,
  resolvedBy: r.resolved_by,
  movementId: r.movement_id === null ? null : Number(r.movement_id),
  resolution: r.resolution,
});

const toFeedState = (r: Selectable<Database['channel_feeds']>): FeedStateRecord => ({
  channelId: r.channel_id,
  feed: r.feed,
  cursor: r.cursor,
  createdAt: r.created_at,
  lastPollAt: r.last_poll_at,
  lastSuccessAt: r.last_success_at,
  lastAdvancedAt: r.last_advanced_at,
  newestEventAt: r.newest_event_at,
  consecutiveErrors: Number(r.consecutive_errors),
  lastError: r.last_error,
  nextPollAt: r.next_poll_at,
  eventsTotal: Number(r.events_total),
  errorsTotal: Number(r.errors_total),
  updatedAt: r.updated_at,
});

const toCredential = (r: Selectable<Database['credentials']>): CredentialRecord => ({
  id: Number(r.id),
  name: r.name,
  scopes: JSON.parse(r.scopes) as string[],
  tokenPrefix: r.token_prefix,
  relaySecretPrefix: r.relay_secret_prefix,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  rotatedAt: r.rotated_at,
  revokedAt: r.revoked_at,
});

/** Advisory lock class for the inbox ("stoc" as an int4); the second key is the schema, so hubs in different schemas never wait on each other. */
const INBOX_LOCK_CLASS = 0x73746f63;

const addMs = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** The operations, bound either to the whole database or to one open transaction. */
/**
 * What every connection and transaction of one store shares: the locations seen so far. Locations
 * come from the config file and are never removed, so one that exists once stays; only names can
 * change, at startup (ensureLocations). Saves a query on every booking.
 */
interface Shared {
  locations: Map<string, LocationRecord>;
}

class SqlOps implements StoreOps {
  constructor(
    protected readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    protected readonly shared: Shared = { locations: new Map() },
  ) {}

  orders(): OrderOps {
    return new OrderOps(this.db, this.dialect);
  }

  /** Runs `fn` inside a transaction, joining the current one if there is one. */
  protected inTx<T>(fn: (ops: SqlOps) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    return this.db.transaction().execute((trx: Transaction<Database>) => fn(new SqlOps(trx, this.dialect, this.shared)));
  }

  async ensureLocations(locations: LocationRecord[], now: string): Promise<void> {
    for (const l of locations) {
      await this.db
        .insertInto('locations')
        .values({ id: l.id, name: l.name, created_at: now })
        .onConflict((oc) => oc.column('id').doUpdateSet({ name: l.name }))
        .execute();
      this.shared.locations.delete(l.id);
    }
  }

  async listLocations(): Promise<LocationRecord[]> {
    return this.db.selectFrom('locations').select(['id', 'name']).orderBy('id').execute();
  }

  async getLocation(id: string): Promise<LocationRecord | null> {
    const known = this.shared.locations.get(id);
    if (known) return known;
    const r = (await this.db.selectFrom('locations').select(['id', 'name']).where('id', '=', id).executeTakeFirst()) ?? null;
    // Only ensureLocations writes locations, at startup and outside any booking's transaction, so a
    // location read here is committed (and cannot be undone later).
    if (r) this.shared.locations.set(id, r);
    return r;
  }

  async getItem(sku: string): Promise<ItemRecord | null> {
    const r = await this.db.selectFrom('items').selectAll().where('sku', '=', sku).executeTakeFirst();
    return r ? toItem(r) : null;
  }

  async upsertItem(item: { sku: string; title?: string | null; lowStockThreshold?: number | null; leadTimeDays?: number | null; safetyStock?: number | null }, now: string): Promise<ItemRecord> {
    const update: Partial<Database['items']> = { status: 'active', archived_at: null, updated_at: now };
    if (item.title !== undefined) update.title = item.title;
    if (item.lowStockThreshold !== undefined) update.low_stock_threshold = item.lowStockThreshold;
    if (item.leadTimeDays !== undefined) update.lead_time_days = item.leadTimeDays;
    if (item.safetyStock !== undefined) update.safety_stock = item.safetyStock;
    const r = await this.db
      .insertInto('items')
      .values({
        sku: item.sku,
        title: item.title ?? null,
        low_stock_threshold: item.lowStockThreshold ?? null,
        lead_time_days: item.leadTimeDays ?? null,
        safety_stock: item.safetyStock ?? null,
        listing_hold: null,
        status: 'active',
        created_at: now,
        updated_at: now,
        archived_at: null,
      })
      .onConflict((oc) => oc.column('sku').doUpdateSet(update))
      .returningAll()
      .executeTakeFirstOrThrow();
    return toItem(r);
  }

  async archiveItem(sku: string, now: string): Promise<ItemRecord | null> {
    const r = await this.db
      .updateTable('items')
      .set({ status: 'archived', archived_at: now, updated_at: now })
      .where('sku', '=', sku)
      .where('status', '=', 'active')
      .returningAll()
      .executeTakeFirst();
    return r ? toItem(r) : this.getItem(sku);
  }

  async listItems(page: Page & { status?: 'active' | 'archived' | undefined }): Promise<ItemRecord[]> {
    let q = this.db.selectFrom('items').selectAll().orderBy('sku').limit(page.limit);
    if (page.cursor !== undefined) q = q.where('sku', '>', String(page.cursor));
    if (page.status) q = q.where('status', '=', page.status);
    return (await q.execute()).map(toItem);
  }

  async getLevel(sku: string, locationId: string): Promise<LevelRecord | null> {
    const r = await this.db.selectFrom('stock_levels').selectAll().where('sku', '=', sku).where('location_id', '=', locationId).executeTakeFirst();
    return r ? toLevel(r) : null;
  }

  async itemAt(sku: string, locationId: string): Promise<{ item: ItemRecord | null; level: LevelRecord | null }> {
    const r = await this.db
      .selectFrom('items as i')
      .leftJoin('stock_levels as l', (j) => j.onRef('l.sku', '=', 'i.sku').on('l.location_id', '=', locationId))
      .selectAll('i')
      .select(['l.on_hand', 'l.reserved', 'l.updated_at as level_updated_at'])
      .where('i.sku', '=', sku)
      .executeTakeFirst();
    // No item row (never in the catalog): its level, if any, is still asked for on its own.
    if (!r) return { item: null, level: await this.getLevel(sku, locationId) };
    const level = r.on_hand === null ? null : { sku, locationId, onHand: r.on_hand, reserved: r.reserved ?? 0, updatedAt: r.level_updated_at ?? '' };
    return { item: toItem(r), level };
  }

  async levelsFor(skus: string[]): Promise<LevelRecord[]> {
    if (skus.length === 0) return [];
    const rows = await this.db.selectFrom('stock_levels').selectAll().where('sku', 'in', skus).orderBy('sku').orderBy('location_id').execute();
    return rows.map(toLevel);
  }

  async movementByKey(key: string): Promise<Movement | null> {
    const r = await this.db.selectFrom('movements').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
    return r ? toMovement(r) : null;
  }

  book(input: MovementInput, now: string): Promise<BookResult> {
    const invalid = validateMovement(input);
    if (invalid) return Promise.reject(invalid);
    return this.inTx((ops) => ops.insertMovement(input, now));
  }

  bookAll(inputs: MovementInput[], now: string): Promise<BookResult[]> {
    for (const m of inputs) {
      const invalid = validateMovement(m);
      if (invalid) return Promise.reject(invalid);
    }
    return this.inTx(async (ops) => {
      const results: BookResult[] = [];
      for (const m of inputs) results.push(await ops.insertMovement(m, now));
      return results;
    });
  }

  bookCount(input: CountInput, now: string): Promise<BookResult> {
    if (!Number.isSafeInteger(input.counted) || input.counted < 0) {
      return Promise.reject(new MovementError('invalid_count', 'A stock count must be a whole number of zero or more.'));
    }
    if (input.counted > MAX_QUANTITY) {
      return Promise.reject(new MovementError('quantity_out_of_range', `A count of ${input.counted} is beyond the ${MAX_QUANTITY_TEXT} units the hub keeps of one item at one location; nothing was booked. Check the number.`));
    }
    return this.inTx(async (ops) => {
      const existing = await ops.movementByKey(input.idempotencyKey);
      if (existing) return { movement: existing, duplicate: true };
      const level = await ops.lockLevel(input.sku, input.locationId, now);
      const { counted, ...rest } = input;
      // The quantity here is for validation; the store books counted − on hand exactly (insertMovement).
      const movement: MovementInput = { ...rest, reason: 'count', quantity: countDelta(level.onHand, counted), countedQuantity: counted };
      const invalid = validateMovement(movement);
      if (invalid) throw invalid;
      return ops.insertMovement(movement, now, { counted, level });
    });
  }

  /** Makes sure the level row exists and locks it until the transaction ends (PostgreSQL). */
  private async lockLevel(sku: string, locationId: string, now: string): Promise<LevelRecord> {
    await this.db
      .insertInto('stock_levels')
      .values({ sku, location_id: locationId, on_hand: 0, reserved: 0, last_movement_id: 0, updated_at: now })
      .onConflict((oc) => oc.columns(['sku', 'location_id']).doNothing())
      .execute();
    let q = this.db.selectFrom('stock_levels').selectAll().where('sku', '=', sku).where('location_id', '=', locationId);
    if (this.dialect === 'postgres') q = q.forUpdate();
    return toLevel(await q.executeTakeFirstOrThrow());
  }

  /**
   * Books one movement and moves its level, unless the level would leave ±MAX_QUANTITY (then it
   * throws before writing anything; a key booked before is still answered as a duplicate).
   * `count`: a stock count over the level read (and locked) by bookCount; its quantity is worked out
   * in SQL as counted − on hand and on hand is set to counted, so both stay exact whatever was stored.
   */
  private async insertMovement(m: MovementInput, now: string, count?: { counted: number; level: Level }): Promise<BookResult> {
    let before: Level;
    if (count) before = count.level;
    else if (this.dialect === 'postgres') {
      // Lock the level row before the movement takes its id, so that per item and location the ids
      // follow the order in which bookings change the level: replaying movements by id then gives
      // every count the on-hand it corrected from. (SQLite has one writer, so it holds already.)
      const row = await this.db
        .insertInto('stock_levels')
        .values({ sku: m.sku, location_id: m.locationId, on_hand: 0, reserved: 0, last_movement_id: 0, updated_at: now })
        .onConflict((oc) => oc.columns(['sku', 'location_id']).doUpdateSet({ updated_at: sql`stock_levels.updated_at` }))
        .returning(['on_hand', 'reserved'])
        .executeTakeFirstOrThrow();
      before = { onHand: Number(row.on_hand), reserved: Number(row.reserved) };
    } else {
      const row = await this.db.selectFrom('stock_levels').select(['on_hand', 'reserved']).where('sku', '=', m.sku).where('location_id', '=', m.locationId).executeTakeFirst();
      before = { onHand: Number(row?.on_hand ?? 0), reserved: Number(row?.reserved ?? 0) };
    }
    const e = effectOf(m);
    const after: Level = count ? { onHand: count.counted, reserved: before.reserved } : { onHand: before.onHand + e.onHand, reserved: before.reserved + e.reserved };
    const beyond = levelBoundError(m, before, after, count ? { onHand: true, reserved: false } : { onHand: e.onHand !== 0, reserved: e.reserved !== 0 });
    if (beyond) {
      const first = await this.movementByKey(m.idempotencyKey);
      if (first) return { movement: first, duplicate: true };
      throw beyond;
    }
    // Whole numbers are bound as integers: SQLite would take a JavaScript number for a float.
    const int = (n: number) => sql<number>`cast(${n} as integer)`;
    const inserted = await this.db
      .insertInto('movements')
      .values({
        idempotency_key: m.idempotencyKey,
        sku: m.sku,
        location_id: m.locationId,
        quantity: count ? sql<number>`${int(count.counted)} - (select on_hand from stock_levels where sku = ${m.sku} and location_id = ${m.locationId})` : m.quantity,
        reason: m.reason,
        source: m.source,
        channel_id: m.channelId ?? null,
        external_ref: m.externalRef ?? null,
        counted_quantity: m.countedQuantity ?? null,
        actor: m.actor ?? null,
        note: m.note ?? null,
        event_id: m.eventId ?? null,
        occurred_at: m.occurredAt,
        recorded_at: now,
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!inserted) {
      const first = await this.movementByKey(m.idempotencyKey);
      if (!first) throw new Error(`movement ${m.idempotencyKey} conflicted but cannot be read back`);
      return { movement: first, duplicate: true };
    }
    const movement = toMovement(inserted);
    await this.db
      .insertInto('stock_levels')
      .values({ sku: m.sku, location_id: m.locationId, on_hand: count ? count.counted : e.onHand, reserved: e.reserved, last_movement_id: movement.id, updated_at: now })
      .onConflict((oc) =>
        oc.columns(['sku', 'location_id']).doUpdateSet({
          on_hand: count ? int(count.counted) : sql`stock_levels.on_hand + ${int(e.onHand)}`,
          reserved: sql`stock_levels.reserved + ${int(e.reserved)}`,
          last_movement_id: movement.id,
          updated_at: now,
        }),
      )
      .execute();
    return { movement, duplicate: false };
  }

  async listMovements(sku: string, page: Page): Promise<Movement[]> {
    let q = this.db.selectFrom('movements').selectAll().where('sku', '=', sku).orderBy('id', 'desc').limit(page.limit);
    if (page.cursor !== undefined) q = q.where('id', '<', Number(page.cursor));
    return (await q.execute()).map(toMovement);
  }

  async recomputeLevels(): Promise<LevelRecord[]> {
    const rows = await this.db
      .selectFrom('movements')
      .select(['sku', 'location_id'])
      .select(sql<number>`coalesce(sum(case when reason in ('reservation', 'release') then 0 else quantity end), 0)`.as('on_hand'))
      .select(sql<number>`coalesce(sum(case when reason in ('reservation', 'release') then quantity else 0 end), 0)`.as('reserved'))
      .groupBy(['sku', 'location_id'])
      .orderBy('sku')
      .orderBy('location_id')
      .execute();
    return rows.map((r) => ({ sku: r.sku, locationId: r.location_id, onHand: Number(r.on_hand), reserved: Number(r.reserved), updatedAt: '' }));
  }

  async insertInbox(
    e: { dedupeKey: string; source: string; kind: string; headers: Record<string, string>; body: string },
    now: string,
  ): Promise<{ id: number } | null> {
    const r = await this.db
      .insertInto('inbox')
      .values({
        dedupe_key: e.dedupeKey,
        source: e.source,
        kind: e.kind,
        headers: JSON.stringify(e.headers),
        body: e.body,
        status: 'received',
        outcome: null,
        attempts: 0,
        received_at: now,
        processed_at: null,
      })
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    return r ? { id: Number(r.id) } : null;
  }

  async insertInboxBatch(
    events: { dedupeKey: string; source: string; kind: string; headers: Record<string, string>; body: string }[],
    now: string,
  ): Promise<({ id: number } | null)[]> {
    if (events.length === 0) return [];
    // A key given twice in one batch is stored once, for its first occurrence.
    const firstAt = new Map<string, number>();
    events.forEach((e, i) => {
      if (!firstAt.has(e.dedupeKey)) firstAt.set(e.dedupeKey, i);
    });
    const unique = events.filter((e, i) => firstAt.get(e.dedupeKey) === i);
    const ids = new Map<string, number>();
    return this.inTx(async (tx) => {
      const db = tx.db;
      // Rows of one statement get ids in the order of its VALUES list; chunks keep each statement
      // under both dialects' limits on bound parameters.
      for (let i = 0; i < unique.length; i += 100) {
        const rows = await db
          .insertInto('inbox')
          .values(
            unique.slice(i, i + 100).map((e) => ({
              dedupe_key: e.dedupeKey,
              source: e.source,
              kind: e.kind,
              headers: JSON.stringify(e.headers),
              body: e.body,
              status: 'received' as const,
              outcome: null,
              attempts: 0,
              received_at: now,
              processed_at: null,
            })),
          )
          .onConflict((oc) => oc.column('dedupe_key').doNothing())
          .returning(['id', 'dedupe_key'])
          .execute();
        for (const r of rows) ids.set(r.dedupe_key, Number(r.id));
      }
      return events.map((e, i) => (firstAt.get(e.dedupeKey) === i && ids.has(e.dedupeKey) ? { id: ids.get(e.dedupeKey)! } : null));
    });
  }

  async claimInbox(now?: string): Promise<InboxEntry | null> {
    // One statement: the oldest waiting entry, its attempt counted. The status is checked again on
    // the row itself, so an entry another hub finished meanwhile is not taken. An entry waiting for
    // its platform is passed over until its time.
    let q = this.db
      .updateTable('inbox')
      .set({ attempts: sql`attempts + 1` })
      .where('id', '=', (eb) => {
        let next = eb
          .selectFrom('inbox')
          .select('id')
          .where('status', '=', 'received')
          // A channel event is booked once prepared (its thin parts fetched, its facts found).
          .where((w) => w.or([w('source', '<>', 'channel'), w('prepared', 'is not', null)]));
        if (now !== undefined) next = next.where((w) => w.or([w('retry_at', 'is', null), w('retry_at', '<=', now)]));
        return next.orderBy('id').limit(1);
      })
      .where('status', '=', 'received');
    if (this.dialect === 'postgres') {
      // Events are booked strictly in the order received (a count or a sheet edit depends on what came
      // before), so one transaction at a time, in any hub process, holds the inbox. The lock ends with
      // the transaction; it is tried only on the entry found, last, so an empty inbox takes no lock.
      q = q.where(sql<boolean>`pg_try_advisory_xact_lock(${INBOX_LOCK_CLASS}::int4, hashtext(current_schema()))`);
    }
    const r = await q.returningAll().executeTakeFirst();
    return r ? toInbox(r) : null;
  }

  async unpreparedInbox(now: string, limit: number, channelId?: string): Promise<InboxEntry[]> {
    let q = this.db
      .selectFrom('inbox')
      .selectAll()
      .where('status', '=', 'received')
      .where('source', '=', 'channel')
      .where('prepared', 'is', null)
      .where((w) => w.or([w('retry_at', 'is', null), w('retry_at', '<=', now)]));
    if (channelId !== undefined) {
      const prefix = `channel:${channelId}:`;
      q = q.where(sql<string>`substr(dedupe_key, 1, ${prefix.length})`, '=', prefix);
    }
    return (await q.orderBy('id').limit(limit).execute()).map(toInbox);
  }

  async setPrepared(id: number, prepared: string): Promise<boolean> {
    const r = await this.db.updateTable('inbox').set({ prepared, retry_at: null }).where('id', '=', id).where('status', '=', 'received').where('prepared', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async deferInbox(id: number, retryAt: string, outcome: unknown): Promise<void> {
    // The claim's count of this try was undone with its transaction: counted here.
    await this.db.updateTable('inbox').set({ retry_at: retryAt, outcome: JSON.stringify(outcome), attempts: sql`attempts + 1` }).where('id', '=', id).where('status', '=', 'received').execute();
  }

  async finishInbox(id: number, status: InboxStatus, outcome: unknown, now: string): Promise<void> {
    await this.db
      .updateTable('inbox')
      .set({ status, outcome: outcome === undefined ? null : JSON.stringify(outcome), processed_at: now, retry_at: null })
      .where('id', '=', id)
      .execute();
  }

  async getInbox(id: number): Promise<InboxEntry | null> {
    const r = await this.db.selectFrom('inbox').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toInbox(r) : null;
  }

  async inboxByKey(dedupeKey: string): Promise<InboxEntry | null> {
    const r = await this.db.selectFrom('inbox').selectAll().where('dedupe_key', '=', dedupeKey).executeTakeFirst();
    return r ? toInbox(r) : null;
  }

  async listInbox(page: Page & { status?: InboxStatus | undefined }): Promise<InboxEntry[]> {
    let q = this.db.selectFrom('inbox').selectAll().orderBy('id', 'desc').limit(page.limit);
    if (page.cursor !== undefined) q = q.where('id', '<', Number(page.cursor));
    if (page.status) q = q.where('status', '=', page.status);
    return (await q.execute()).map(toInbox);
  }

  async requeueInbox(id: number): Promise<boolean> {
    const r = await this.db
      .updateTable('inbox')
      .set({ status: 'received', processed_at: null, retry_at: null, prepared: null })
      .where('id', '=', id)
      .where('status', 'in', ['unmatched', 'rejected', 'conflict', 'failed'])
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async countInbox(): Promise<Record<string, number>> {
    const rows = await this.db.selectFrom('inbox').select(['status']).select((eb) => eb.fn.countAll<number>().as('n')).groupBy('status').execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async enqueue(e: OutboxInput, now: string): Promise<void> {
    await this.enqueueAll([e], now);
  }

  async enqueueAll(entries: OutboxInput[], now: string): Promise<void> {
    // One statement for all. Two rows of the same key in one statement cannot both meet the waiting
    // row, so only the last of them is kept (the newest state), as separate calls would leave it.
    const last = new Map<string, number>();
    entries.forEach((e, i) => e.coalesceKey && last.set(e.coalesceKey, i));
    const rows = entries
      .filter((e, i) => !e.coalesceKey || last.get(e.coalesceKey) === i)
      .map((e) => ({
        sink: e.sink,
        topic: e.topic,
        coalesce_key: e.coalesceKey ?? null,
        payload: JSON.stringify(e.payload),
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: now,
        locked_until: null,
        last_error: null,
        created_at: now,
        updated_at: now,
      }));
    if (rows.length === 0) return;
    await this.db
      .insertInto('outbox')
      .values(rows)
      // The predicate is a literal: SQLite matches it against the partial index's own text.
      .onConflict((oc) =>
        oc
          .column('coalesce_key')
          .where(sql<boolean>`status = 'pending'`)
          .doUpdateSet((eb) => ({ payload: eb.ref('excluded.payload'), topic: eb.ref('excluded.topic'), updated_at: eb.ref('excluded.updated_at') })),
      )
      .execute();
  }

  claimOutbox(limit: number, leaseMs: number, now: string, filter: { sinks?: string[]; excludeSinks?: string[] } = {}): Promise<OutboxEntry[]> {
    const exclude = filter.excludeSinks ?? [];
    if (filter.sinks && filter.sinks.length === 0) return Promise.resolve([]);
    return this.inTx(async (ops) => {
      const db = ops.db;
      let q = db
        .selectFrom('outbox as o')
        .select('o.id')
        .where((eb) =>
          eb.or([
            eb.and([eb('o.status', '=', 'pending'), eb('o.next_attempt_at', '<=', now)]),
            eb.and([eb('o.status', '=', 'working'), eb('o.locked_until', '<', now)]),
          ]),
        )
        // Never deliver a newer state of a key while an older one is still on its way (or due again
        // after its worker died), and never two rows of one key at once.
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('outbox as w')
                .select('w.id')
                .whereRef('w.coalesce_key', '=', 'o.coalesce_key')
                .whereRef('w.id', '<>', 'o.id')
                .where((eb) =>
                  eb.or([
                    eb.and([eb('w.status', '=', 'working'), eb('w.locked_until', '>=', now)]),
                    eb.and([eb('w.id', '<', eb.ref('o.id')), eb('w.status', 'in', ['pending', 'working'])]),
                  ]),
                ),
            ),
          ),
        )
        .orderBy('o.id')
        .limit(limit);
      if (exclude.length > 0) q = q.where('o.sink', 'not in', exclude);
      if (filter.sinks) q = q.where('o.sink', 'in', filter.sinks);
      if (ops.dialect === 'postgres') q = q.forUpdate().skipLocked();
      const ids = (await q.execute()).map((r) => r.id);
      if (ids.length === 0) return [];
      const rows = await db
        .updateTable('outbox')
        .set({ status: 'working', locked_until: addMs(now, leaseMs), attempts: sql`attempts + 1`, updated_at: now })
        .where('id', 'in', ids)
        .returningAll()
        .execute();
      return rows.map(toOutbox).sort((a, b) => a.id - b.id);
    });
  }

  async completeOutbox(id: number, now: string, lease?: string | null): Promise<boolean> {
    let q = this.db.updateTable('outbox').set({ status: 'done', locked_until: null, last_error: null, updated_at: now }).where('id', '=', id);
    if (lease) q = q.where('status', '=', 'working').where('locked_until', '=', lease);
    return Number((await q.executeTakeFirst()).numUpdatedRows) > 0;
  }

  async failOutbox(id: number, error: string, retryAt: string | null, now: string, lease?: string | null, opts: { refundAttempt?: boolean } = {}): Promise<OutboxStatus> {
    // A newer state of the same key may be enqueued between our look and our update (PostgreSQL,
    // read committed): the one-pending-per-key index then refuses the update. Looking again finds
    // that newer row, and this one is superseded.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.failOutboxOnce(id, error, retryAt, now, lease, opts);
      } catch (err) {
        if (attempt >= 3 || !isUniqueViolation(err)) throw err;
      }
    }
  }

  private failOutboxOnce(id: number, error: string, retryAt: string | null, now: string, lease: string | null | undefined, opts: { refundAttempt?: boolean }): Promise<OutboxStatus> {
    return this.inTx(async (ops) => {
      const row = await ops.db.selectFrom('outbox').select(['coalesce_key', 'status', 'locked_until']).where('id', '=', id).executeTakeFirst();
      // A worker whose lease ran out while it was busy no longer owns the row: another one may be
      // delivering it now. Leave it alone.
      if (lease && row && (row.status !== 'working' || row.locked_until !== lease)) return row.status;
      let status: OutboxStatus = retryAt === null ? 'dead' : 'pending';
      if (row?.coalesce_key) {
        const newer = await ops.db
          .selectFrom('outbox')
          .select('id')
          .where('coalesce_key', '=', row.coalesce_key)
          .where('status', '=', 'pending')
          .where('id', '<>', id)
          .executeTakeFirst();
        // A newer state is already waiting: it will be delivered instead of this one.
        if (newer) status = 'superseded';
      }
      await ops.db
        .updateTable('outbox')
        .set({
          status,
          next_attempt_at: retryAt ?? now,
          locked_until: null,
          last_error: error.slice(0, 2000),
          updated_at: now,
          ...(opts.refundAttempt ? { attempts: sql<number>`case when attempts > 0 then attempts - 1 else 0 end` } : {}),
        })
        .where('id', '=', id)
        .execute();
      return status;
    });
  }

  async latestOutboxFor(coalesceKey: string): Promise<OutboxEntry | null> {
    const r = await this.db.selectFrom('outbox').selectAll().where('coalesce_key', '=', coalesceKey).orderBy('id', 'desc').limit(1).executeTakeFirst();
    return r ? toOutbox(r) : null;
  }

  async listOutbox(page: Page & { status?: OutboxStatus | undefined }): Promise<OutboxEntry[]> {
    let q = this.db.selectFrom('outbox').selectAll().orderBy('id', 'desc').limit(page.limit);
    if (page.cursor !== undefined) q = q.where('id', '<', Number(page.cursor));
    if (page.status) q = q.where('status', '=', page.status);
    return (await q.execute()).map(toOutbox);
  }

  async getOutbox(id: number): Promise<OutboxEntry | null> {
    const r = await this.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toOutbox(r) : null;
  }

  retryDead(id: number, now: string): Promise<boolean> {
    return this.inTx(async (ops) => {
      const row = await ops.db.selectFrom('outbox').select(['coalesce_key']).where('id', '=', id).where('status', '=', 'dead').executeTakeFirst();
      if (!row) return false;
      if (row.coalesce_key) {
        const newer = await ops.db.selectFrom('outbox').select('id').where('coalesce_key', '=', row.coalesce_key).where('status', '=', 'pending').executeTakeFirst();
        if (newer) {
          // The waiting row already carries a newer state; this one is no longer worth sending.
          await ops.db.updateTable('outbox').set({ status: 'superseded', updated_at: now }).where('id', '=', id).execute();
          return true;
        }
      }
      await ops.db.updateTable('outbox').set({ status: 'pending', attempts: 0, next_attempt_at: now, updated_at: now }).where('id', '=', id).execute();
      return true;
    });
  }

  async countOutbox(): Promise<Record<string, number>> {
    const rows = await this.db.selectFrom('outbox').select(['status']).select((eb) => eb.fn.countAll<number>().as('n')).groupBy('status').execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async openAlert(
    a: { kind: string; severity: AlertRecord['severity']; sku: string | null; locationId: string | null; channelId?: string | null; message: string },
    now: string,
  ): Promise<AlertRecord | null> {
    const channelId = a.channelId ?? null;
    let q = this.db.selectFrom('alerts').select('id').where('status', '=', 'open').where('kind', '=', a.kind);
    q = a.sku === null ? q.where('sku', 'is', null) : q.where('sku', '=', a.sku);
    q = a.locationId === null ? q.where('location_id', 'is', null) : q.where('location_id', '=', a.locationId);
    q = channelId === null ? q.where('channel_id', 'is', null) : q.where('channel_id', '=', channelId);
    if (await q.executeTakeFirst()) return null;
    const r = await this.db
      .insertInto('alerts')
      .values({ kind: a.kind, severity: a.severity, sku: a.sku, location_id: a.locationId, channel_id: channelId, message: a.message, status: 'open', opened_at: now, resolved_at: null })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toAlert(r);
  }

  async resolveAlerts(sku: string, locationId: string | null, kinds: string[], now: string): Promise<number> {
    if (kinds.length === 0) return 0;
    let q = this.db.updateTable('alerts').set({ status: 'resolved', resolved_at: now }).where('status', '=', 'open').where('sku', '=', sku).where('kind', 'in', kinds);
    q = locationId === null ? q.where('location_id', 'is', null) : q.where('location_id', '=', locationId);
    return Number((await q.executeTakeFirst()).numUpdatedRows);
  }

  async resolveChannelAlerts(channelId: string, kinds: string[], now: string): Promise<number> {
    if (kinds.length === 0) return 0;
    const r = await this.db
      .updateTable('alerts')
      .set({ status: 'resolved', resolved_at: now })
      .where('status', '=', 'open')
      .where('channel_id', '=', channelId)
      .where('sku', 'is', null)
      .where('kind', 'in', kinds)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async listAlerts(page: Page & { status?: 'open' | 'resolved' | undefined }): Promise<AlertRecord[]> {
    let q = this.db.selectFrom('alerts').selectAll().orderBy('id', 'desc').limit(page.limit);
    if (page.cursor !== undefined) q = q.where('id', '<', Number(page.cursor));
    if (page.status) q = q.where('status', '=', page.status);
    return (await q.execute()).map(toAlert);
  }

  replaceListings(
    channelId: string,
    listings: { sku: string; productId: string; variantId: string; inventoryItemId: string | null; title: string }[],
    now: string,
  ): Promise<void> {
    return this.inTx(async (tx) => {
      const keep = listings.map((l) => l.sku);
      let del = tx.db.deleteFrom('channel_listings').where('channel_id', '=', channelId);
      if (keep.length > 0) del = del.where('sku', 'not in', keep);
      await del.execute();
      for (const l of listings) {
        await tx.db
          .insertInto('channel_listings')
          .values({ channel_id: channelId, sku: l.sku, product_id: l.productId, variant_id: l.variantId, inventory_item_id: l.inventoryItemId, title: l.title, hidden: 0, updated_at: now })
          .onConflict((oc) =>
            oc.columns(['channel_id', 'sku']).doUpdateSet({ product_id: l.productId, variant_id: l.variantId, inventory_item_id: l.inventoryItemId, title: l.title, updated_at: now }),
          )
          .execute();
      }
    });
  }

  async listListings(channelId: string): Promise<ChannelListingRecord[]> {
    return (await this.db.selectFrom('channel_listings').selectAll().where('channel_id', '=', channelId).orderBy('sku').execute()).map(toListing);
  }

  async listingForSku(channelId: string, sku: string): Promise<ChannelListingRecord | null> {
    const r = await this.db.selectFrom('channel_listings').selectAll().where('channel_id', '=', channelId).where('sku', '=', sku).executeTakeFirst();
    return r ? toListing(r) : null;
  }

  async listingsForSku(sku: string): Promise<ChannelListingRecord[]> {
    return (await this.db.selectFrom('channel_listings').selectAll().where('sku', '=', sku).orderBy('channel_id').execute()).map(toListing);
  }

  async listingForRef(channelId: string, ref: { productId?: string | undefined; variantId?: string | undefined; inventoryItemId?: string | undefined }): Promise<ChannelListingRecord | null> {
    const by = async (column: 'variant_id' | 'inventory_item_id' | 'product_id', value: string) => {
      const rows = await this.db.selectFrom('channel_listings').selectAll().where('channel_id', '=', channelId).where(column, '=', value).limit(2).execute();
      return rows.length === 1 ? toListing(rows[0]!) : null;
    };
    if (ref.variantId) return by('variant_id', ref.variantId);
    if (ref.inventoryItemId) return by('inventory_item_id', ref.inventoryItemId);
    if (ref.productId) return by('product_id', ref.productId);
    return null;
  }

  async setListingHidden(channelId: string, sku: string, hidden: boolean, now: string): Promise<void> {
    await this.db.updateTable('channel_listings').set({ hidden: hidden ? 1 : 0, updated_at: now }).where('channel_id', '=', channelId).where('sku', '=', sku).execute();
  }

  async getChannelLevel(channelId: string, sku: string, locationId: string): Promise<ChannelLevelRecord | null> {
    let q = this.db.selectFrom('channel_levels').selectAll().where('channel_id', '=', channelId).where('sku', '=', sku).where('location_id', '=', locationId);
    // Read inside a transaction to be changed: on PostgreSQL the row stays locked until it ends, so a
    // push's answer recorded meanwhile waits for it instead of being lost or losing this update.
    // (SQLite runs one transaction at a time and other statements wait for it anyway.)
    if (this.dialect === 'postgres' && this.db.isTransaction) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? toChannelLevel(r) : null;
  }

  async recordChannelLevel(channelId: string, sku: string, locationId: string, kind: 'pushed' | 'observed', level: number, now: string, bookedDeltaAtSend?: number, wrote = true): Promise<void> {
    // A push the channel applied is what it showed then: the expected level follows it, plus the
    // channel's own sales and restocks booked since the push was built (they happened on top of it).
    // Its echo may have been booked first: a discrepancy the push explains is closed with it.
    // One statement, so nothing booked meanwhile can slip between the read and the write.
    const expected = bookedDeltaAtSend === undefined ? sql<number>`${level}` : sql<number>`${level} + channel_levels.booked_delta - ${bookedDeltaAtSend}`;
    const set =
      kind === 'pushed'
        ? {
            pushed: level,
            pushed_at: now,
            // Found already there at the number we last wrote: still our write showing; at another number: the channel moved there itself.
            pushed_wrote: wrote ? 1 : sql<number>`case when channel_levels.pushed = ${level} then channel_levels.pushed_wrote else 0 end`,
            expected,
            pushing: null,
            pushing_booked_delta: null,
            pending_since: sql<string | null>`case when channel_levels.observed = ${expected} then null else channel_levels.pending_since end`,
            pending_up: sql<number>`case when channel_levels.observed = ${expected} then 0 else channel_levels.pending_up end`,
            pending_down: sql<number>`case when channel_levels.observed = ${expected} then 0 else channel_levels.pending_down end`,
          }
        : { observed: level, observed_at: now };
    const values = kind === 'pushed' ? { pushed: level, pushed_at: now, pushed_wrote: wrote ? 1 : 0, expected: level } : { observed: level, observed_at: now };
    await this.db
      .insertInto('channel_levels')
      .values({ channel_id: channelId, sku, location_id: locationId, pushed: null, pushed_at: null, observed: null, observed_at: null, ...values })
      .onConflict((oc) => oc.columns(['channel_id', 'sku', 'location_id']).doUpdateSet(set))
      .execute();
  }

  async updateChannelLevel(channelId: string, sku: string, locationId: string, patch: ChannelLevelPatch): Promise<void> {
    const set: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(patch)) {
      const col = CHANNEL_LEVEL_COLUMNS[k as keyof typeof CHANNEL_LEVEL_COLUMNS];
      if (col && v !== undefined) set[col] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    }
    if (Object.keys(set).length === 0) return;
    await this.db
      .insertInto('channel_levels')
      .values({ channel_id: channelId, sku, location_id: locationId, pushed: null, pushed_at: null, observed: null, observed_at: null, ...set })
      .onConflict((oc) => oc.columns(['channel_id', 'sku', 'location_id']).doUpdateSet(set))
      .execute();
  }

  async listDiscrepancies(openedBefore: string, limit: number): Promise<ChannelLevelRecord[]> {
    const rows = await this.db.selectFrom('channel_levels').selectAll().where('pending_since', '<=', openedBefore).orderBy('pending_since').limit(limit).execute();
    return rows.map(toChannelLevel);
  }

  async movementsByEvent(eventId: number): Promise<Movement[]> {
    return (await this.db.selectFrom('movements').selectAll().where('event_id', '=', eventId).orderBy('id').execute()).map(toMovement);
  }

  async recordConflict(c: ConflictInput, now: string): Promise<{ conflict: ConflictRecord; created: boolean }> {
    const r = await this.db
      .insertInto('conflicts')
      .values({
        key: c.key,
        event_id: c.eventId,
        sku: c.sku,
        location_id: c.locationId,
        sheet_showed: c.sheetShowed,
        typed: c.typed,
        hub_had: c.hubHad,
        source: c.source,
        actor: c.actor,
        edited_at: c.editedAt,
        found_at: now,
        status: 'open',
        resolved_at: null,
        resolved_by: null,
        movement_id: null,
        resolution: null,
      })
      .onConflict((oc) => oc.column('key').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (r) return { conflict: toConflict(r), created: true };
    const first = await this.db.selectFrom('conflicts').selectAll().where('key', '=', c.key).executeTakeFirstOrThrow();
    return { conflict: toConflict(first), created: false };
  }

  async getState<T>(key: string): Promise<T | null> {
    const r = await this.db.selectFrom('hub_state').select('value').where('key', '=', key).executeTakeFirst();
    return r ? (JSON.parse(r.value) as T) : null;
  }

  async setState(key: string, value: unknown, now: string): Promise<void> {
    const text = JSON.stringify(value);
    await this.db
      .insertInto('hub_state')
      .values({ key, value: text, updated_at: now })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: text, updated_at: now }))
      .execute();
  }

  async getConflict(id: number): Promise<ConflictRecord | null> {
    const r = await this.db.selectFrom('conflicts').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toConflict(r) : null;
  }

  async conflictByKey(key: string): Promise<ConflictRecord | null> {
    const r = await this.db.selectFrom('conflicts').selectAll().where('key', '=', key).executeTakeFirst();
    return r ? toConflict(r) : null;
  }

  async listConflicts(page: Page & { status?: ConflictRecord['status'] | undefined; sku?: string | undefined }): Promise<ConflictRecord[]> {
    let q = this.db.selectFrom('conflicts').selectAll().orderBy('id', 'desc').limit(page.limit);
    if (page.cursor !== undefined) q = q.where('id', '<', Number(page.cursor));
    if (page.status) q = q.where('status', '=', page.status);
    if (page.sku !== undefined) q = q.where('sku', '=', page.sku);
    return (await q.execute()).map(toConflict);
  }

  async createCredential(c: { name: string; scopes: string[] } & CredentialSecrets, now: string): Promise<CredentialRecord> {
    const r = await this.db
      .insertInto('credentials')
      .values({
        name: c.name,
        scopes: JSON.stringify(c.scopes),
        token_hash: c.tokenHash,
        token_prefix: c.tokenPrefix,
        relay_nonce: c.relayNonce,
        relay_secret_prefix: c.relaySecretPrefix,
        created_at: now,
        last_used_at: null,
        rotated_at: null,
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toCredential(r);
  }

  async listCredentials(): Promise<CredentialRecord[]> {
    return (await this.db.selectFrom('credentials').selectAll().orderBy('id').execute()).map(toCredential);
  }

  async getCredential(id: number): Promise<CredentialRecord | null> {
    const r = await this.db.selectFrom('credentials').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toCredential(r) : null;
  }

  async credentialByTokenHash(tokenHash: string): Promise<CredentialRecord | null> {
    const r = await this.db.selectFrom('credentials').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return r ? toCredential(r) : null;
  }

  async relayCredentials(): Promise<(CredentialRecord & { relayNonce: string })[]> {
    const rows = await this.db.selectFrom('credentials').selectAll().where('revoked_at', 'is', null).where('relay_nonce', 'is not', null).orderBy('id').execute();
    return rows.map((r) => ({ ...toCredential(r), relayNonce: r.relay_nonce! }));
  }

  async rotateCredential(id: number, secrets: CredentialSecrets, now: string): Promise<CredentialRecord | null> {
    const r = await this.db
      .updateTable('credentials')
      .set({ token_hash: secrets.tokenHash, token_prefix: secrets.tokenPrefix, relay_nonce: secrets.relayNonce, relay_secret_prefix: secrets.relaySecretPrefix, rotated_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    return r ? toCredential(r) : null;
  }

  async revokeCredential(id: number, now: string): Promise<CredentialRecord | null> {
    await this.db.updateTable('credentials').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
    return this.getCredential(id);
  }

  async touchCredential(id: number, now: string): Promise<void> {
    await this.db.updateTable('credentials').set({ last_used_at: now }).where('id', '=', id).execute();
  }

  async getPlatformTokens(channelId: string): Promise<PlatformTokenRow | null> {
    const r = await this.db.selectFrom('platform_tokens').selectAll().where('channel_id', '=', channelId).executeTakeFirst();
    return r
      ? { channelId: r.channel_id, sealed: r.sealed, version: Number(r.version), updatedAt: r.updated_at, leaseOwner: r.lease_owner, leaseUntil: r.lease_until }
      : null;
  }

  async savePlatformTokens(channelId: string, sealed: string, expected: number | null | 'any', now: string): Promise<number | null> {
    const fresh = { channel_id: channelId, sealed, version: 1, updated_at: now, lease_owner: null, lease_until: null };
    if (expected === null) {
      const r = await this.db.insertInto('platform_tokens').values(fresh).onConflict((oc) => oc.column('channel_id').doNothing()).returning('version').executeTakeFirst();
      return r ? Number(r.version) : null;
    }
    if (expected === 'any') {
      const r = await this.db
        .insertInto('platform_tokens')
        .values(fresh)
        .onConflict((oc) => oc.column('channel_id').doUpdateSet({ sealed, version: sql`platform_tokens.version + 1`, updated_at: now, lease_owner: null, lease_until: null }))
        .returning('version')
        .executeTakeFirstOrThrow();
      return Number(r.version);
    }
    const r = await this.db
      .updateTable('platform_tokens')
      .set({ sealed, version: sql`version + 1`, updated_at: now, lease_owner: null, lease_until: null })
      .where('channel_id', '=', channelId)
      .where('version', '=', expected)
      .returning('version')
      .executeTakeFirst();
    return r ? Number(r.version) : null;
  }

  async claimTokenRefresh(channelId: string, version: number, owner: string, until: string, now: string): Promise<boolean> {
    const r = await this.db
      .updateTable('platform_tokens')
      .set({ lease_owner: owner, lease_until: until })
      .where('channel_id', '=', channelId)
      .where('version', '=', version)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now), eb('lease_owner', '=', owner)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async releaseTokenRefresh(channelId: string, owner: string): Promise<void> {
    await this.db.updateTable('platform_tokens').set({ lease_owner: null, lease_until: null }).where('channel_id', '=', channelId).where('lease_owner', '=', owner).execute();
  }

  async resolveConflict(id: number, r: { status: 'accepted' | 'rejected'; resolvedBy: string | null; movementId: number | null; resolution: string }, now: string): Promise<boolean> {
    const res = await this.db
      .updateTable('conflicts')
      .set({ status: r.status, resolved_at: now, resolved_by: r.resolvedBy, movement_id: r.movementId, resolution: r.resolution })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  // --- Polled feeds (docs/polling.md) -----------------------------------------------------------------

  async getFeedState(channelId: string, feed: string): Promise<FeedStateRecord | null> {
    const r = await this.db.selectFrom('channel_feeds').selectAll().where('channel_id', '=', channelId).where('feed', '=', feed).executeTakeFirst();
    return r ? toFeedState(r) : null;
  }

  async listFeedStates(channelId?: string): Promise<FeedStateRecord[]> {
    let q = this.db.selectFrom('channel_feeds').selectAll().orderBy('channel_id').orderBy('feed');
    if (channelId !== undefined) q = q.where('channel_id', '=', channelId);
    return (await q.execute()).map(toFeedState);
  }

  async claimFeed(channelId: string, feed: string, now: string, leaseUntil: string): Promise<FeedStateRecord | null> {
    await this.db
      .insertInto('channel_feeds')
      .values({ channel_id: channelId, feed, cursor: null, created_at: now, consecutive_errors: 0, events_total: 0, errors_total: 0, updated_at: now })
      .onConflict((oc) => oc.columns(['channel_id', 'feed']).doNothing())
      .execute();
    // One statement: due, and nobody's lease still running (ISO times compare as text).
    const r = await this.db
      .updateTable('channel_feeds')
      .set({ next_poll_at: leaseUntil, last_poll_at: now, updated_at: now })
      .where('channel_id', '=', channelId)
      .where('feed', '=', feed)
      .where((w) => w.or([w('next_poll_at', 'is', null), w('next_poll_at', '<=', now)]))
      .returningAll()
      .executeTakeFirst();
    return r ? toFeedState(r) : null;
  }

  commitPolledPage(page: PolledPage): Promise<({ id: number } | null)[]> {
    return this.inTx(async (tx) => {
      // The events first, then the cursor, compare-and-set: if the cursor moved meanwhile, the throw
      // below rolls the events back with it, so neither is kept.
      const stored = await tx.insertInboxBatch(page.events, page.now);
      const added = stored.filter((s) => s !== null).length;
      const res = await tx.db
        .updateTable('channel_feeds')
        .set({
          cursor: page.cursor,
          ...(page.cursor !== page.fromCursor ? { last_advanced_at: page.now } : {}),
          ...(page.newestEventAt !== null ? { newest_event_at: sql<string>`case when newest_event_at is null or newest_event_at < ${page.newestEventAt} then ${page.newestEventAt} else newest_event_at end` } : {}),
          ...(page.last ? { last_success_at: page.now, consecutive_errors: 0, last_error: null } : {}),
          next_poll_at: page.nextPollAt,
          events_total: sql<number>`events_total + ${sql.lit(added)}`,
          updated_at: page.now,
        })
        .where('channel_id', '=', page.channelId)
        .where('feed', '=', page.feed)
        .where((w) => (page.fromCursor === null ? w('cursor', 'is', null) : w('cursor', '=', page.fromCursor)))
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) throw new FeedMovedError(page.channelId, page.feed);
      return stored;
    });
  }

  async recordFeedFailure(channelId: string, feed: string, error: string, now: string, nextPollAt: string): Promise<FeedStateRecord | null> {
    const r = await this.db
      .updateTable('channel_feeds')
      .set({
        consecutive_errors: sql<number>`consecutive_errors + 1`,
        errors_total: sql<number>`errors_total + 1`,
        last_error: error.slice(0, 2000),
        next_poll_at: nextPollAt,
        updated_at: now,
      })
      .where('channel_id', '=', channelId)
      .where('feed', '=', feed)
      .returningAll()
      .executeTakeFirst();
    return r ? toFeedState(r) : null;
  }

  async listChannelLevels(channelId: string, skus?: string[]): Promise<ChannelLevelRecord[]> {
    let q = this.db.selectFrom('channel_levels').selectAll().where('channel_id', '=', channelId).orderBy('sku').orderBy('location_id');
    if (skus) {
      if (skus.length === 0) return [];
      q = q.where('sku', 'in', skus);
    }
    return (await q.execute()).map(toChannelLevel);
  }
}

/** A unique index refused a write: PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE. */
function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** PostgreSQL: a schema (3F000) or table (42P01) that disappeared while the catalog was being read. */
function isVanishedObject(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '3F000' || code === '42P01';
}

export class SqlStore extends SqlOps implements Store {
  constructor(
    db: Kysely<Database>,
    dialect: Dialect,
    private readonly description: string,
    /** PostgreSQL: the schema the store lives in, so the migrator never mistakes another schema's tables for ours. */
    private readonly schema?: string,
  ) {
    super(db, dialect);
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: migrationProvider(this.dialect), ...(this.schema ? { migrationTableSchema: this.schema } : {}) });
    let { error, results } = await migrator.migrateToLatest();
    // Kysely looks for its own tables across every schema of the database; another application
    // dropping one of its schemas at that very moment makes the lookup fail (undefined schema or
    // table). Nothing of ours ran: look again.
    for (let tries = 0; error && tries < 3 && isVanishedObject(error); tries++) {
      await new Promise((r) => setTimeout(r, 50 * (tries + 1)));
      ({ error, results } = await migrator.migrateToLatest());
    }
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`Database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    return this.inTx(fn);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  describe(): string {
    return this.description;
  }
}
