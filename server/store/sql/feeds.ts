/** Polled feeds (SQL, both dialects). */
import { sql, type Selectable } from 'kysely';
import { FeedMovedError, type FeedStateRecord, type FeedsOps, type PolledPage } from '../areas/feeds';
import type { Database } from '../schema';
import { rowOf, type Conn } from './conn';
import { SqlInbox } from './inbox';

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

export class SqlFeeds implements FeedsOps {
  constructor(private readonly c: Conn) {}

  async get(channelId: string, feed: string): Promise<FeedStateRecord | null> {
    return rowOf(this.c.db.selectFrom('channel_feeds').selectAll().where('channel_id', '=', channelId).where('feed', '=', feed), toFeedState);
  }

  async list(channelId?: string): Promise<FeedStateRecord[]> {
    let q = this.c.db.selectFrom('channel_feeds').selectAll().orderBy('channel_id').orderBy('feed');
    if (channelId !== undefined) q = q.where('channel_id', '=', channelId);
    return (await q.execute()).map(toFeedState);
  }

  async claim(channelId: string, feed: string, now: string, leaseUntil: string): Promise<FeedStateRecord | null> {
    await this.c.db
      .insertInto('channel_feeds')
      .values({ channel_id: channelId, feed, cursor: null, created_at: now, consecutive_errors: 0, events_total: 0, errors_total: 0, updated_at: now })
      .onConflict((oc) => oc.columns(['channel_id', 'feed']).doNothing())
      .execute();
    // One statement: due, and nobody's lease still running (ISO times compare as text).
    const r = await this.c.db
      .updateTable('channel_feeds')
      .set({ next_poll_at: leaseUntil, last_poll_at: now, updated_at: now })
      .where('channel_id', '=', channelId)
      .where('feed', '=', feed)
      .where((w) => w.or([w('next_poll_at', 'is', null), w('next_poll_at', '<=', now)]))
      .returningAll()
      .executeTakeFirst();
    return r ? toFeedState(r) : null;
  }

  commitPage(page: PolledPage): Promise<({ id: number } | null)[]> {
    return this.c.inTx(async (tx) => {
      // The events first, then the cursor, compare-and-set: if the cursor moved meanwhile, the throw
      // below rolls the events back with it, so neither is kept.
      const stored = await new SqlInbox(tx).insertBatch(page.events, page.now);
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

  async recordFailure(channelId: string, feed: string, error: string, now: string, nextPollAt: string): Promise<FeedStateRecord | null> {
    const r = await this.c.db
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
}
