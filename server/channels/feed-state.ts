/**
 * The bookkeeping of a polled feed, beside the poller's schedule (poller.ts): how long a failing
 * feed waits before its next try, when a feed counts as stalled, and how a feed is shown (GET
 * /v1/channels, /metrics, the sidebar) from its stored state.
 */
import type { FeedSchedule } from '../config';
import type { FeedStateRecord } from '../store/types';
import type { ConnectedChannel } from './registry';

/** The longest wait between tries of a failing feed (or its interval, when longer). */
export const MAX_BACKOFF_MS = 15 * 60_000;
/** The longest Retry-After honoured. */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60_000;

export type FeedStatus = 'ok' | 'failing' | 'stalled' | 'starting' | 'off';

/** How one feed of one channel is doing (GET /v1/channels, /metrics, the sidebar). */
export interface FeedView {
  channelId: string;
  feed: string;
  status: FeedStatus;
  everyMs: number;
  stallAfterMs: number;
  lastPollAt: string | null;
  lastSuccessAt: string | null;
  cursorAdvancedAt: string | null;
  nextPollAt: string | null;
  /** Seconds since the feed was last read to its end without error; null before the first good read. */
  lagSeconds: number | null;
  consecutiveErrors: number;
  lastError: string | null;
  eventsStored: number;
  newestEventAt: string | null;
  /** When the hub first polled the feed. */
  startedAt: string | null;
}

/** A feed the poller polls: its channel, its name and its schedule. */
export interface PlannedFeed {
  channel: ConnectedChannel;
  feed: string;
  schedule: FeedSchedule;
}

/** The interval doubled for every failure in a row, up to 15 minutes (or the interval), never under Retry-After. */
export function backoffMs(failures: number, everyMs: number, retryAfterMs: number | null): number {
  const cap = Math.max(everyMs, MAX_BACKOFF_MS);
  const exp = Math.min(cap, everyMs * 2 ** Math.min(Math.max(0, failures - 1), 30));
  return Math.max(exp, Math.min(Math.max(0, retryAfterMs ?? 0), MAX_RETRY_AFTER_MS));
}

/** A feed not read to its end for `stallAfterMs` (since it began, before its first good read). */
export function isStalled(s: FeedStateRecord, schedule: FeedSchedule, nowMs: number): boolean {
  return nowMs - Date.parse(s.lastSuccessAt ?? s.createdAt) >= schedule.stallAfterMs;
}

/** How the feed is doing by its stored state (none yet: starting, or off), at `nowMs`. */
export function viewOf(p: PlannedFeed, s: FeedStateRecord | null, nowMs: number): FeedView {
  const base = { channelId: p.channel.config.id, feed: p.feed, everyMs: p.schedule.everyMs, stallAfterMs: p.schedule.stallAfterMs };
  if (!s) {
    return { ...base, status: p.schedule.enabled ? 'starting' : 'off', lastPollAt: null, lastSuccessAt: null, cursorAdvancedAt: null, nextPollAt: null, lagSeconds: null, consecutiveErrors: 0, lastError: null, eventsStored: 0, newestEventAt: null, startedAt: null };
  }
  const status: FeedStatus = !p.schedule.enabled
    ? 'off'
    : isStalled(s, p.schedule, nowMs)
      ? 'stalled'
      : s.consecutiveErrors > 0
        ? 'failing'
        : s.lastSuccessAt === null
          ? 'starting'
          : 'ok';
  return {
    ...base,
    status,
    lastPollAt: s.lastPollAt,
    lastSuccessAt: s.lastSuccessAt,
    cursorAdvancedAt: s.lastAdvancedAt,
    nextPollAt: s.nextPollAt,
    lagSeconds: s.lastSuccessAt ? Math.max(0, Math.round((nowMs - Date.parse(s.lastSuccessAt)) / 1000)) : null,
    consecutiveErrors: s.consecutiveErrors,
    lastError: s.lastError,
    eventsStored: s.eventsTotal,
    newestEventAt: s.newestEventAt,
    startedAt: s.createdAt,
  };
}
