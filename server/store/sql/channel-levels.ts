/** Channel levels (SQL, both dialects). */
import { sql, type Selectable } from 'kysely';
import type { ChannelLevelPatch, ChannelLevelRecord, ChannelLevelsOps } from '../areas/channel-levels';
import type { Database } from '../schema';
import type { Conn } from './conn';

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
  stray: r.stray === null || r.stray === undefined ? null : Number(r.stray),
  strayBookedDelta: r.stray_booked_delta === null || r.stray_booked_delta === undefined ? null : Number(r.stray_booked_delta),
  strayAt: r.stray_at ?? null,
  basis: r.basis ?? null,
  pushedBlind: Number(r.pushed_blind ?? 0) !== 0,
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
  stray: 'stray',
  strayBookedDelta: 'stray_booked_delta',
  strayAt: 'stray_at',
  basis: 'basis',
  pushedBlind: 'pushed_blind',
} as const;

export class SqlChannelLevels implements ChannelLevelsOps {
  constructor(private readonly c: Conn) {}

  async get(channelId: string, sku: string, locationId: string): Promise<ChannelLevelRecord | null> {
    let q = this.c.db.selectFrom('channel_levels').selectAll().where('channel_id', '=', channelId).where('sku', '=', sku).where('location_id', '=', locationId);
    // Read inside a transaction to be changed: on PostgreSQL the row stays locked until it ends, so a
    // push's answer recorded meanwhile waits for it instead of being lost or losing this update.
    // (SQLite runs one transaction at a time and other statements wait for it anyway.)
    if (this.c.dialect === 'postgres' && this.c.db.isTransaction) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? toChannelLevel(r) : null;
  }

  async record(channelId: string, sku: string, locationId: string, kind: 'pushed' | 'observed', level: number, now: string, bookedDeltaAtSend?: number, wrote = true): Promise<void> {
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
    await this.c.db
      .insertInto('channel_levels')
      .values({ channel_id: channelId, sku, location_id: locationId, pushed: null, pushed_at: null, observed: null, observed_at: null, ...values })
      .onConflict((oc) => oc.columns(['channel_id', 'sku', 'location_id']).doUpdateSet(set))
      .execute();
  }

  async list(channelId: string, skus?: string[]): Promise<ChannelLevelRecord[]> {
    let q = this.c.db.selectFrom('channel_levels').selectAll().where('channel_id', '=', channelId).orderBy('sku').orderBy('location_id');
    if (skus) {
      if (skus.length === 0) return [];
      q = q.where('sku', 'in', skus);
    }
    return (await q.execute()).map(toChannelLevel);
  }

  async update(channelId: string, sku: string, locationId: string, patch: ChannelLevelPatch): Promise<void> {
    const set: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(patch)) {
      const col = CHANNEL_LEVEL_COLUMNS[k as keyof typeof CHANNEL_LEVEL_COLUMNS];
      if (col && v !== undefined) set[col] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    }
    if (Object.keys(set).length === 0) return;
    await this.c.db
      .insertInto('channel_levels')
      .values({ channel_id: channelId, sku, location_id: locationId, pushed: null, pushed_at: null, observed: null, observed_at: null, ...set })
      .onConflict((oc) => oc.columns(['channel_id', 'sku', 'location_id']).doUpdateSet(set))
      .execute();
  }

  async discrepancies(openedBefore: string, limit: number): Promise<ChannelLevelRecord[]> {
    const rows = await this.c.db.selectFrom('channel_levels').selectAll().where('pending_since', '<=', openedBefore).orderBy('pending_since').limit(limit).execute();
    return rows.map(toChannelLevel);
  }
}
