/** The inbox (SQL, both dialects). */
import { sql, type Selectable } from 'kysely';
import type { Page } from '../areas/common';
import type { InboxEntry, InboxInput, InboxOps, InboxStatus } from '../areas/inbox';
import type { Database } from '../schema';
import { rowOf, type Conn } from './conn';

/** Advisory lock class for the inbox ("stoc" as an int4); the second key is the schema, so hubs in different schemas never wait on each other. */
const INBOX_LOCK_CLASS = 0x73746f63;

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

export class SqlInbox implements InboxOps {
  constructor(private readonly c: Conn) {}

  async insert(e: InboxInput, now: string): Promise<{ id: number } | null> {
    const r = await this.c.db
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

  async insertBatch(events: InboxInput[], now: string): Promise<({ id: number } | null)[]> {
    if (events.length === 0) return [];
    // A key given twice in one batch is stored once, for its first occurrence.
    const firstAt = new Map<string, number>();
    events.forEach((e, i) => {
      if (!firstAt.has(e.dedupeKey)) firstAt.set(e.dedupeKey, i);
    });
    const unique = events.filter((e, i) => firstAt.get(e.dedupeKey) === i);
    const ids = new Map<string, number>();
    return this.c.inTx(async (tx) => {
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

  async claim(now?: string): Promise<InboxEntry | null> {
    // One statement: the oldest waiting entry, its attempt counted. The status is checked again on
    // the row itself, so an entry another hub finished meanwhile is not taken. An entry waiting for
    // its platform is passed over until its time.
    let q = this.c.db
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
    if (this.c.dialect === 'postgres') {
      // Events are booked strictly in the order received (a count or a sheet edit depends on what came
      // before), so one transaction at a time, in any hub process, holds the inbox. The lock ends with
      // the transaction; it is tried only on the entry found, last, so an empty inbox takes no lock.
      q = q.where(sql<boolean>`pg_try_advisory_xact_lock(${INBOX_LOCK_CLASS}::int4, hashtext(current_schema()))`);
    }
    const r = await q.returningAll().executeTakeFirst();
    return r ? toInbox(r) : null;
  }

  async unprepared(now: string, limit: number, channelId?: string): Promise<InboxEntry[]> {
    let q = this.c.db
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
    const r = await this.c.db.updateTable('inbox').set({ prepared, retry_at: null }).where('id', '=', id).where('status', '=', 'received').where('prepared', 'is', null).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async defer(id: number, retryAt: string, outcome: unknown): Promise<void> {
    // The claim's count of this try was undone with its transaction: counted here.
    await this.c.db.updateTable('inbox').set({ retry_at: retryAt, outcome: JSON.stringify(outcome), attempts: sql`attempts + 1` }).where('id', '=', id).where('status', '=', 'received').execute();
  }

  async finish(id: number, status: InboxStatus, outcome: unknown, now: string): Promise<void> {
    await this.c.db
      .updateTable('inbox')
      .set({ status, outcome: outcome === undefined ? null : JSON.stringify(outcome), processed_at: now, retry_at: null })
      .where('id', '=', id)
      .execute();
  }

  async get(id: number): Promise<InboxEntry | null> {
    return rowOf(this.c.db.selectFrom('inbox').selectAll().where('id', '=', id), toInbox);
  }

  async byKey(dedupeKey: string): Promise<InboxEntry | null> {
    return rowOf(this.c.db.selectFrom('inbox').selectAll().where('dedupe_key', '=', dedupeKey), toInbox);
  }

  async list(page: Page & { status?: InboxStatus | undefined }): Promise<InboxEntry[]> {
    let q = this.c.db.selectFrom('inbox').selectAll().orderBy('id', 'desc').limit(page.limit);
    if (page.cursor !== undefined) q = q.where('id', '<', Number(page.cursor));
    if (page.status) q = q.where('status', '=', page.status);
    return (await q.execute()).map(toInbox);
  }

  async requeue(id: number): Promise<boolean> {
    const r = await this.c.db
      .updateTable('inbox')
      .set({ status: 'received', processed_at: null, retry_at: null, prepared: null })
      .where('id', '=', id)
      .where('status', 'in', ['unmatched', 'rejected', 'conflict', 'failed'])
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async count(): Promise<Record<string, number>> {
    const rows = await this.c.db.selectFrom('inbox').select(['status']).select((eb) => eb.fn.countAll<number>().as('n')).groupBy('status').execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
}
