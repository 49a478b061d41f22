/** The outbox (SQL, both dialects). */
import { sql, type Selectable } from 'kysely';
import type { Page } from '../areas/common';
import type { OutboxEntry, OutboxInput, OutboxOps, OutboxStatus } from '../areas/outbox';
import type { Database } from '../schema';
import { addMs, isUniqueViolation, rowOf, type Conn } from './conn';

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

export class SqlOutbox implements OutboxOps {
  constructor(private readonly c: Conn) {}

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
    await this.c.db
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

  claim(limit: number, leaseMs: number, now: string, filter: { sinks?: string[]; excludeSinks?: string[] } = {}): Promise<OutboxEntry[]> {
    const exclude = filter.excludeSinks ?? [];
    if (filter.sinks && filter.sinks.length === 0) return Promise.resolve([]);
    return this.c.inTx(async (ops) => {
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

  async complete(id: number, now: string, lease?: string | null): Promise<boolean> {
    let q = this.c.db.updateTable('outbox').set({ status: 'done', locked_until: null, last_error: null, updated_at: now }).where('id', '=', id);
    if (lease) q = q.where('status', '=', 'working').where('locked_until', '=', lease);
    return Number((await q.executeTakeFirst()).numUpdatedRows) > 0;
  }

  async fail(id: number, error: string, retryAt: string | null, now: string, lease?: string | null, opts: { refundAttempt?: boolean } = {}): Promise<OutboxStatus> {
    // A newer state of the same key may be enqueued between our look and our update (PostgreSQL,
    // read committed): the one-pending-per-key index then refuses the update. Looking again finds
    // that newer row, and this one is superseded.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.failOnce(id, error, retryAt, now, lease, opts);
      } catch (err) {
        if (attempt >= 3 || !isUniqueViolation(err)) throw err;
      }
    }
  }

  async list(page: Page & { status?: OutboxStatus | undefined }): Promise<OutboxEntry[]> {
    let q = this.c.db.selectFrom('outbox').selectAll().orderBy('id', 'desc').limit(page.limit);
    if (page.cursor !== undefined) q = q.where('id', '<', Number(page.cursor));
    if (page.status) q = q.where('status', '=', page.status);
    return (await q.execute()).map(toOutbox);
  }

  async get(id: number): Promise<OutboxEntry | null> {
    return rowOf(this.c.db.selectFrom('outbox').selectAll().where('id', '=', id), toOutbox);
  }

  retryDead(id: number, now: string): Promise<boolean> {
    return this.c.inTx(async (ops) => {
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

  async count(): Promise<Record<string, number>> {
    const rows = await this.c.db.selectFrom('outbox').select(['status']).select((eb) => eb.fn.countAll<number>().as('n')).groupBy('status').execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async latestFor(coalesceKey: string): Promise<OutboxEntry | null> {
    return rowOf(this.c.db.selectFrom('outbox').selectAll().where('coalesce_key', '=', coalesceKey).orderBy('id', 'desc').limit(1), toOutbox);
  }

  private failOnce(id: number, error: string, retryAt: string | null, now: string, lease: string | null | undefined, opts: { refundAttempt?: boolean }): Promise<OutboxStatus> {
    return this.c.inTx(async (ops) => {
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
}
