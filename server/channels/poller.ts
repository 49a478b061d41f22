/**
 * Polls every feed a channel's connector declares (`capabilities.polled`) on its schedule and stores
 * what it finds in the inbox exactly as verified webhooks are stored (docs/polling.md).
 *
 * Invariants kept:
 * - a page's events and the cursor after them are committed in one transaction
 *   (`StoreOps.feeds.commitPage`): the cursor never passes an event that is not stored, and a poll cut
 *   short anywhere before the commit is read again from the old cursor; the inbox's dedupe key drops
 *   what was stored before (by webhook, or by the overlap of an earlier poll);
 * - one hub process at a time polls a feed (`feeds.claim`, a lease renewed with every page);
 * - every request of the channel — each page of a poll, its pushes, its order fetches — takes its turn
 *   from the channel's one pace (connectors/kit/pace.ts), so together they stay within the
 *   platform's rate limit;
 * - a feed that cannot be read is retried with backoff (the platform's Retry-After honoured) and,
 *   after `stallAfterMs` without a good read, raises one `feed_stalled` alert about the channel
 *   through the hub's one alert path; the alert is resolved when the channel's feeds read again.
 *
 * Time is the hub's clock; `pollDue()` does one round and is what the simulation and tests call. The
 * worker (`start`) only calls it in a loop. A page is checked and turned into inbox events by
 * poll-page.ts; a feed's backoff, stall and view are in feed-state.ts.
 */
import { feedSchedule, type FeedSchedule } from '../config';
import { ConnectorError } from '../connectors/types';
import type { AlertInput } from '../announce';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { FeedMovedError, type FeedStateRecord, type Store } from '../store/types';
import { backoffMs, isStalled, viewOf, type FeedView, type PlannedFeed } from './feed-state';
import { PollDataError, checkPollResult, inboxEvent } from './poll-page';
import type { ChannelRegistry, ConnectedChannel } from './registry';

/** Pages read in one turn of a feed; the rest comes on the next turn, right after the other feeds. */
export const MAX_PAGES_PER_TURN = 20;
/** A feed polled by a process that dies is due again after this long. */
export const FEED_LEASE_MS = 2 * 60_000;

/** What one turn of one feed did. */
export interface FeedTurn {
  channelId: string;
  feed: string;
  pages: number;
  /** New inbox events (not counting those stored before). */
  stored: number;
  /** Why the turn failed, or null. */
  error: string | null;
}

export interface PollerOptions {
  store: Store;
  channels: ChannelRegistry;
  log: Logger;
  metrics: Metrics;
  clock: () => Date;
  /** The hub's defaults (`engine.pollEveryMs`, `engine.pollStallAfterMs`). */
  defaults?: { everyMs?: number | undefined; stallAfterMs?: number | undefined } | undefined;
  /** Wakes the inbox processor after new events were stored. */
  wake: () => void;
  /** Raises an alert through the hub's one alert path (server/announce.ts). */
  raiseAlert: (alert: AlertInput) => Promise<void>;
  /** How long one poll request may take. */
  timeoutMs?: number;
  leaseMs?: number;
  maxPagesPerTurn?: number;
  /** The longest the worker sleeps between rounds. */
  idleMs?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

const iso = (ms: number) => new Date(ms).toISOString();

export class Poller {
  private readonly o: Required<Omit<PollerOptions, 'defaults' | 'sleep'>> & Pick<PollerOptions, 'defaults'>;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly plan: PlannedFeed[] = [];
  private running = false;
  private loop: Promise<void> | null = null;
  private stopping = new AbortController();
  private wakeLoop: (() => void) | null = null;
  private round: Promise<FeedTurn[]> | null = null;

  constructor(opts: PollerOptions) {
    this.o = {
      store: opts.store,
      channels: opts.channels,
      log: opts.log,
      metrics: opts.metrics,
      clock: opts.clock,
      defaults: opts.defaults,
      wake: opts.wake,
      raiseAlert: opts.raiseAlert,
      timeoutMs: opts.timeoutMs ?? 30_000,
      leaseMs: opts.leaseMs ?? FEED_LEASE_MS,
      maxPagesPerTurn: opts.maxPagesPerTurn ?? MAX_PAGES_PER_TURN,
      idleMs: opts.idleMs ?? 1000,
    };
    this.sleep = opts.sleep ?? abortableSleep;
    for (const channel of opts.channels.all()) {
      const feeds = channel.connector.capabilities.polled ?? [];
      if (feeds.length === 0) continue;
      if (typeof channel.connector.poll !== 'function') {
        opts.log.error({ channel: channel.config.id, feeds }, `${channel.config.name}: its connector declares polled feeds (${feeds.join(', ')}) but cannot poll; they are not read`);
        continue;
      }
      for (const feed of feeds) this.plan.push({ channel, feed, schedule: feedSchedule(channel.config, feed, opts.defaults ?? {}) });
    }
  }

  /** The feeds this hub polls (or would, when enabled), in config order. */
  feeds(): { channelId: string; feed: string; schedule: FeedSchedule }[] {
    return this.plan.map((p) => ({ channelId: p.channel.config.id, feed: p.feed, schedule: p.schedule }));
  }

  /** How every polled feed (of one channel, or all) is doing, by the hub's clock. */
  async views(channelId?: string): Promise<FeedView[]> {
    const planned = this.plan.filter((p) => channelId === undefined || p.channel.config.id === channelId);
    if (planned.length === 0) return [];
    const states = new Map((await this.o.store.feeds.list(channelId)).map((s) => [`${s.channelId}\u0000${s.feed}`, s]));
    const nowMs = this.o.clock().getTime();
    return planned.map((p) => viewOf(p, states.get(`${p.channel.config.id}\u0000${p.feed}`) ?? null, nowMs));
  }

  /**
   * One round: every enabled feed that is due by the hub's clock (and not held by another hub
   * process) is polled, one after another in config order, each until the platform has no more or
   * the turn's page budget is spent. Feeds that are not due are only checked for a stall.
   */
  pollDue(): Promise<FeedTurn[]> {
    // One round at a time in this process: a second caller waits for the one under way.
    if (this.round) return this.round;
    const r = this.runRound().finally(() => {
      if (this.round === r) this.round = null;
    });
    this.round = r;
    return r;
  }

  private async runRound(): Promise<FeedTurn[]> {
    const turns: FeedTurn[] = [];
    for (const p of this.plan) {
      if (!p.schedule.enabled || this.stopping.signal.aborted) continue;
      const now = this.o.clock().getTime();
      const claimed = await this.o.store.feeds.claim(p.channel.config.id, p.feed, iso(now), iso(now + this.o.leaseMs));
      if (claimed) {
        turns.push(await this.turn(p, claimed));
      } else {
        const state = await this.o.store.feeds.get(p.channel.config.id, p.feed);
        if (state) await this.checkStall(p, state);
      }
    }
    return turns;
  }

  /** When the next feed is due, by the stored states (for the worker's sleep). */
  private async nextDueMs(): Promise<number | null> {
    const states = new Map((await this.o.store.feeds.list()).map((s) => [`${s.channelId}\u0000${s.feed}`, s]));
    let next: number | null = null;
    for (const p of this.plan) {
      if (!p.schedule.enabled) continue;
      const s = states.get(`${p.channel.config.id}\u0000${p.feed}`);
      const at = s?.nextPollAt ? Date.parse(s.nextPollAt) : 0;
      next = next === null ? at : Math.min(next, at);
    }
    return next;
  }

  private async turn(p: PlannedFeed, state: FeedStateRecord): Promise<FeedTurn> {
    const { channel, feed, schedule } = p;
    const channelId = channel.config.id;
    const where = `${channel.config.name} (its ${feed} feed)`;
    const out: FeedTurn = { channelId, feed, pages: 0, stored: 0, error: null };
    let cursor = state.cursor;
    try {
      for (;;) {
        if (!(await this.takeTurn(channel))) return out; // stopping: the lease runs out, the feed is read again then
        const signal = AbortSignal.any([AbortSignal.timeout(this.o.timeoutMs), this.stopping.signal]);
        let raw: unknown;
        try {
          raw = await channel.connector.poll!(feed, cursor, signal);
        } catch (err) {
          if (this.stopping.signal.aborted) return out;
          if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) throw new ConnectorError(`${where} did not answer within ${this.o.timeoutMs} ms; it will be polled again.`, true);
          throw err;
        }
        const page = checkPollResult(raw, cursor, where);
        out.pages++;
        const nowMs = this.o.clock().getTime();
        const goOn = page.more && out.pages < this.o.maxPagesPerTurn;
        const stored = await this.o.store.feeds.commitPage({
          channelId,
          feed,
          fromCursor: cursor,
          cursor: page.cursor,
          events: page.events.map((e) => inboxEvent(channelId, feed, e)),
          newestEventAt: newest(page.events.map((e) => e.occurredAt)),
          now: iso(nowMs),
          // More now: still ours while we read on (the lease renewed); a budget spent: due again at
          // once, after the other feeds; the end of the feed: its next turn.
          nextPollAt: iso(goOn ? nowMs + this.o.leaseMs : page.more ? nowMs : nowMs + schedule.everyMs),
          last: !page.more,
        });
        const added = stored.filter((s) => s !== null).length;
        out.stored += added;
        if (added > 0) {
          this.o.metrics.feedEvents.inc({ channel: channelId, feed }, added);
          this.o.wake();
        }
        cursor = page.cursor;
        if (!page.more) {
          // Read to its end: a stall alert about this channel is over, unless another feed of it is still stalled.
          await this.resolveStall(p);
          return out;
        }
        if (!goOn) return out;
      }
    } catch (err) {
      if (err instanceof FeedMovedError) {
        this.o.log.info({ channel: channelId, feed }, err.message);
        out.error = err.message;
        return out;
      }
      const message = errorText(err);
      out.error = message;
      const failures = state.consecutiveErrors + 1;
      const nowMs = this.o.clock().getTime();
      const delay = backoffMs(failures, schedule.everyMs, err instanceof ConnectorError ? err.retryAfterMs : null);
      this.o.metrics.feedErrors.inc({ channel: channelId, feed });
      const level = err instanceof ConnectorError || err instanceof PollDataError ? 'warn' : 'error';
      this.o.log[level]({ channel: channelId, feed, failures, retryAt: iso(nowMs + delay), error: message }, 'polling a feed failed; the cursor stays where it was');
      try {
        const after = await this.o.store.feeds.recordFailure(channelId, feed, message, iso(nowMs), iso(nowMs + delay));
        if (after) await this.checkStall(p, after);
      } catch (storeErr) {
        // The store is not answering either: the lease runs out and the feed is polled again then.
        this.o.log.error({ err: storeErr, channel: channelId, feed }, 'the failure of a poll could not be recorded');
      }
      return out;
    }
  }

  /**
   * Waits for the channel's next turn under its rate limit and takes it; false when stopping. A
   * channel of the registry paces each request itself (its limiter here neither waits nor takes);
   * one built by hand is paced per poll call.
   */
  private async takeTurn(channel: ConnectedChannel): Promise<boolean> {
    const l = channel.limiter;
    // Looked at again after every wait: the channel's pushes take turns from the same limiter.
    for (let wait = l.waitMs(l.requestCost, this.o.clock().getTime()); wait > 0; wait = l.waitMs(l.requestCost, this.o.clock().getTime())) {
      if (this.stopping.signal.aborted) return false;
      await this.sleep(wait, this.stopping.signal);
    }
    if (this.stopping.signal.aborted) return false;
    l.take(l.requestCost, this.o.clock().getTime());
    return true;
  }

  private async checkStall(p: PlannedFeed, s: FeedStateRecord): Promise<void> {
    const nowMs = this.o.clock().getTime();
    if (!p.schedule.enabled || !isStalled(s, p.schedule, nowMs)) return;
    const since = s.lastSuccessAt ?? s.createdAt;
    const minutes = Math.max(1, Math.round((nowMs - Date.parse(since)) / 60_000));
    const what = s.lastSuccessAt ? `has not been read for ${minutes} min (last read ${s.lastSuccessAt})` : `has not been read once in the ${minutes} min since polling began`;
    await this.o.raiseAlert({
      kind: 'feed_stalled',
      severity: 'warning',
      sku: null,
      locationId: null,
      channelId: p.channel.config.id,
      message: `${p.channel.config.name}: its ${p.feed} are checked every ${Math.round(p.schedule.everyMs / 1000)} s but the list ${what}${s.lastError ? `; last answer: ${s.lastError}` : ''}. Sales it would have found are not booked until it reads again; the hub keeps trying on its own.`,
    });
  }

  private async resolveStall(p: PlannedFeed): Promise<void> {
    const channelId = p.channel.config.id;
    const nowMs = this.o.clock().getTime();
    const others = this.plan.filter((q) => q !== p && q.channel.config.id === channelId && q.schedule.enabled);
    if (others.length > 0) {
      const states = await this.o.store.feeds.list(channelId);
      for (const q of others) {
        const s = states.find((x) => x.feed === q.feed);
        if (s && isStalled(s, q.schedule, nowMs)) return;
      }
    }
    await this.o.store.alerts.resolveForChannel(channelId, ['feed_stalled'], iso(nowMs));
  }

  start(): void {
    if (this.running || this.plan.every((p) => !p.schedule.enabled)) return;
    this.running = true;
    this.stopping = new AbortController();
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.pollDue();
        } catch (err) {
          this.o.log.error({ err }, 'the poller cannot reach the store; retrying');
        }
        if (!this.running) break;
        let waitMs = this.o.idleMs;
        try {
          const next = await this.nextDueMs();
          if (next !== null) waitMs = Math.min(this.o.idleMs, Math.max(10, next - this.o.clock().getTime()));
        } catch {
          /* the store is not answering: look again after idleMs */
        }
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(t);
            this.wakeLoop = null;
            resolve();
          };
          const t = setTimeout(done, waitMs);
          this.wakeLoop = done;
        });
      }
    })();
  }

  /** Wakes the worker to look for due feeds at once (after the round under way, if any). */
  notify(): void {
    this.wakeLoop?.();
  }

  /**
   * Stops: no new poll starts, a request in flight is cut short (its page is not committed; the
   * feed's lease runs out and it is read again from the same cursor), the loop ends.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    this.wakeLoop?.();
    if (this.loop) await this.loop;
    if (this.round) await this.round.catch(() => undefined);
    this.loop = null;
  }
}

function newest(times: (string | null)[]): string | null {
  let best: number | null = null;
  for (const t of times) {
    const ms = t ? Date.parse(t) : NaN;
    if (!Number.isNaN(ms) && (best === null || ms > best)) best = ms;
  }
  return best === null ? null : iso(best);
}

function errorText(err: unknown): string {
  if (err instanceof ConnectorError || err instanceof PollDataError) return err.message;
  return `unexpected: ${err instanceof Error ? err.message : String(err)}`;
}

