/** The ledger: movements and levels (SQL, both dialects). */
import { sql, type Selectable } from 'kysely';
import { MovementError, countDelta, effectOf, levelBoundError, validateMovement, type Level, type Movement, type MovementInput, type Reason, type Source } from '../../core/ledger';
import { MAX_QUANTITY, MAX_QUANTITY_TEXT } from '../../shared/quantity';
import type { Page } from '../areas/common';
import type { ItemRecord } from '../areas/items';
import type { BookResult, CountInput, LedgerOps, LevelRecord } from '../areas/ledger';
import type { Database } from '../schema';
import { rowOf, type Conn } from './conn';
import { toItem } from './items';

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

const toLevel = (r: Selectable<Database['stock_levels']>): LevelRecord => ({
  sku: r.sku,
  locationId: r.location_id,
  onHand: r.on_hand,
  reserved: r.reserved,
  updatedAt: r.updated_at,
});

export class SqlLedger implements LedgerOps {
  constructor(private readonly c: Conn) {}

  /** Runs `fn` with the ledger inside a transaction, joining the current one if there is one. */
  private inTx<T>(fn: (ops: SqlLedger) => Promise<T>): Promise<T> {
    return this.c.inTx((c) => fn(c === this.c ? this : new SqlLedger(c)));
  }

  async getLevel(sku: string, locationId: string): Promise<LevelRecord | null> {
    return rowOf(this.c.db.selectFrom('stock_levels').selectAll().where('sku', '=', sku).where('location_id', '=', locationId), toLevel);
  }

  async itemAt(sku: string, locationId: string): Promise<{ item: ItemRecord | null; level: LevelRecord | null }> {
    const r = await this.c.db
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
    const rows = await this.c.db.selectFrom('stock_levels').selectAll().where('sku', 'in', skus).orderBy('sku').orderBy('location_id').execute();
    return rows.map(toLevel);
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

  async movementByKey(key: string): Promise<Movement | null> {
    return rowOf(this.c.db.selectFrom('movements').selectAll().where('idempotency_key', '=', key), toMovement);
  }

  async listMovements(sku: string, page: Page): Promise<Movement[]> {
    let q = this.c.db.selectFrom('movements').selectAll().where('sku', '=', sku).orderBy('id', 'desc').limit(page.limit);
    if (page.cursor !== undefined) q = q.where('id', '<', Number(page.cursor));
    return (await q.execute()).map(toMovement);
  }

  async movementsByEvent(eventId: number): Promise<Movement[]> {
    return (await this.c.db.selectFrom('movements').selectAll().where('event_id', '=', eventId).orderBy('id').execute()).map(toMovement);
  }

  async recomputeLevels(): Promise<LevelRecord[]> {
    const rows = await this.c.db
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

  /** Makes sure the level row exists and locks it until the transaction ends (PostgreSQL). */
  private async lockLevel(sku: string, locationId: string, now: string): Promise<LevelRecord> {
    await this.c.db
      .insertInto('stock_levels')
      .values({ sku, location_id: locationId, on_hand: 0, reserved: 0, last_movement_id: 0, updated_at: now })
      .onConflict((oc) => oc.columns(['sku', 'location_id']).doNothing())
      .execute();
    let q = this.c.db.selectFrom('stock_levels').selectAll().where('sku', '=', sku).where('location_id', '=', locationId);
    if (this.c.dialect === 'postgres') q = q.forUpdate();
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
    else if (this.c.dialect === 'postgres') {
      // Lock the level row before the movement takes its id, so that per item and location the ids
      // follow the order in which bookings change the level: replaying movements by id then gives
      // every count the on-hand it corrected from. (SQLite has one writer, so it holds already.)
      const row = await this.c.db
        .insertInto('stock_levels')
        .values({ sku: m.sku, location_id: m.locationId, on_hand: 0, reserved: 0, last_movement_id: 0, updated_at: now })
        .onConflict((oc) => oc.columns(['sku', 'location_id']).doUpdateSet({ updated_at: sql`stock_levels.updated_at` }))
        .returning(['on_hand', 'reserved'])
        .executeTakeFirstOrThrow();
      before = { onHand: Number(row.on_hand), reserved: Number(row.reserved) };
    } else {
      const row = await this.c.db.selectFrom('stock_levels').select(['on_hand', 'reserved']).where('sku', '=', m.sku).where('location_id', '=', m.locationId).executeTakeFirst();
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
    const inserted = await this.c.db
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
    await this.c.db
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
}
