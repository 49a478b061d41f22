/** Polled feeds: where each channel's feeds stand, and a page committed with its events (docs/polling.md). */
import type { InboxInput } from './inbox';

export interface PolledPage {
  channelId: string;
  feed: string;
  /** The cursor the poll asked from; the page commits only if it is still the stored one. */
  fromCursor: string | null;
  cursor: string;
  events: InboxInput[];
  /** The platform's time of the newest event of the page, if it says. */
  newestEventAt: string | null;
  now: string;
  /** When the feed is due again: the end of the lease while the platform has more, else the next turn. */
  nextPollAt: string;
  /** False for a page of a turn that goes on: the turn is counted as read to its end only on the last page. */
  last: boolean;
}

/** Where one polled feed of one channel stands (table channel_feeds). */
export interface FeedStateRecord {
  channelId: string;
  feed: string;
  cursor: string | null;
  createdAt: string;
  /** When the hub last asked the platform (the start of the last turn). */
  lastPollAt: string | null;
  /** When a turn last read the feed to its end without error. */
  lastSuccessAt: string | null;
  /** When the cursor last moved. */
  lastAdvancedAt: string | null;
  newestEventAt: string | null;
  consecutiveErrors: number;
  lastError: string | null;
  nextPollAt: string | null;
  /** New inbox events the feed produced, and failed polls, since the row was made. */
  eventsTotal: number;
  errorsTotal: number;
  updatedAt: string;
}

/** `feeds.commitPage` found the feed's cursor moved by someone else since the poll began: nothing was stored. */
export class FeedMovedError extends Error {
  constructor(channelId: string, feed: string) {
    super(`The ${feed} feed of channel "${channelId}" was moved on by another poll meanwhile; this page was not stored (it will be read again from where the feed now stands).`);
    this.name = 'FeedMovedError';
  }
}

export interface FeedsOps {
  get(channelId: string, feed: string): Promise<FeedStateRecord | null>;
  /** Every feed's state (of one channel, or all), by channel and feed. */
  list(channelId?: string): Promise<FeedStateRecord[]>;
  /**
   * Takes a feed's turn: creates its row if there is none and, in one statement, claims it when it is
   * due (`next_poll_at` unset or not after `now`), moving `next_poll_at` to `leaseUntil` and
   * `last_poll_at` to `now`. Null when it is not due or another hub process holds it.
   */
  claim(channelId: string, feed: string, now: string, leaseUntil: string): Promise<FeedStateRecord | null>;
  /**
   * One page of a poll, in one transaction: the events into the inbox (as verified webhooks: a dedupe
   * key seen before is skipped) and the feed's cursor moved from `fromCursor` to `cursor`, the poll
   * counted as a success, `next_poll_at` set. Only if the stored cursor is still `fromCursor`:
   * otherwise (another process moved it) it throws `FeedMovedError` and nothing is stored.
   * Returns, per event, its inbox id or null when it was stored before.
   */
  commitPage(page: PolledPage): Promise<({ id: number } | null)[]>;
  /** A failed poll: counted, its reason kept, due again at `nextPollAt`; the cursor is not touched. */
  recordFailure(channelId: string, feed: string, error: string, now: string, nextPollAt: string): Promise<FeedStateRecord | null>;
}
