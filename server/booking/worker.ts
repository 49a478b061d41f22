/**
 * The booking engine's worker: takes prepared inbound events from the inbox in order and books each
 * in one transaction (several per transaction in a batch) through `bookEntry` (./route.ts), then
 * lets the observers (the sheet and Airtable write-backs) add their outbox rows before the commit
 * (docs/inbox-outbox.md). It also turns ended attribution windows into events.
 */
import { Announcer } from '../announce';
import type { ChannelRegistry } from '../channels/registry';
import { ConnectorError } from '../connectors/types';
import type { Outcome } from '../core/booking';
import { Preparer, waitForPlatform } from '../inbox/prepare';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { InboxEntry, Store, StoreOps } from '../store/types';
import { bookingContext, type BookingConfig, type BookingDeps } from './context';
import { pushEveryListing } from './follow-up';
import { openEndedWindows } from './handlers/attribution-window';
import type { BookingObserver } from './observer';
import { idle } from '../util';
import { bookEntry } from './route';

export class InboxProcessor {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private pendingWake = false;
  /** Unexpected errors per entry; after a few the entry is set aside as `failed` so the queue moves on. */
  private readonly errors = new Map<number, number>();
  private readonly listeners = new Set<(eventId: number) => void>();
  private readonly observers: BookingObserver[] = [];
  private readonly deps: BookingDeps;
  /** Entries still to be tried one per transaction after a batch failed. */
  private singles = 0;
  /**
   * The stage before booking: fetches what a channel event leaves out and finds its facts. Runs in
   * loops of its own (one per channel) while the hub runs; driven by hand, `processNext` runs it first.
   */
  readonly preparer: Preparer;
  /**
   * SQLite runs each statement on the hub's own thread, so a batch holds it from start to commit;
   * PostgreSQL gives it back at every statement, and answering webhooks goes on in between.
   */
  private get blocksThread(): boolean {
    return this.store.dialect === 'sqlite';
  }
  /** True while webhooks and relays are arriving (a burst): booking on SQLite then leaves the thread half the time. */
  private busy: () => boolean = () => false;

  constructor(
    private readonly store: Store,
    config: BookingConfig,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly clock: () => Date = () => new Date(),
    private readonly idleMs = 1000,
    channels: ChannelRegistry | null = null,
    private readonly batch: { max: number; ms: number } = { max: 50, ms: 25 },
  ) {
    // Until the hub hands it its own (`announceThrough`), announcements reach the notification webhooks only.
    this.deps = { config, channels, announcer: new Announcer(config.notify), metrics, clock, reconcileRequested: null };
    this.preparer = new Preparer(store, channels, log.child({ stage: 'prepare' }), clock, () => this.wakeUp(), { idleMs, ...(config.fetchTimeoutMs ? { timeoutMs: config.fetchTimeoutMs } : {}) });
  }

  /** Follows every booking inside its transaction (the sheet and Airtable write-backs). */
  observeBookings(observer: BookingObserver): void {
    this.observers.push(observer);
  }

  /** The hub's one way to announce (server/announce.ts): alerts, levels, purchase orders, orders. */
  announceThrough(announcer: Announcer): void {
    this.deps.announcer = announcer;
  }

  /** What a sync request asking for a reconciliation calls (the hub runs one; docs/reconcile.md). */
  onReconcileRequested(fn: () => void): void {
    this.deps.reconcileRequested = fn;
  }

  /** Calls `fn` with the id of every event this processor finishes; returns a function to stop listening. */
  onProcessed(fn: (eventId: number) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * While `busy()` is true, each batch is followed by a pause as long as the CPU time it took, so answering
   * the platforms (which give up after a few seconds and deliver again) keeps at least half of the
   * hub's thread during a burst; booking catches up when it is over (docs/inbox-outbox.md).
   */
  yieldWhile(busy: () => boolean): void {
    this.busy = busy;
  }

  /**
   * Processes the oldest waiting entries, in order, several in one transaction (one commit for all;
   * on SQLite, one fsync): up to `batch.max` entries, or fewer once `batch.ms` of work is spent.
   * False when nothing was waiting. If anything in the batch fails, nothing of it is kept and its
   * entries are tried again one per transaction, so only the failing entry counts a failure.
   */
  async processNext(): Promise<boolean> {
    // Driven by hand (tests, the simulation): what is waiting is prepared first, in order.
    if (!this.preparer.started) await this.preparer.prepareDue();
    if (this.batch.max <= 1 || this.singles > 0) {
      if (this.singles > 0) this.singles--;
      return this.processOne();
    }
    let claimed = 0;
    try {
      const started = performance.now();
      const done = await this.store.transaction(async (tx) => {
        const out: { entry: InboxEntry; outcome: Outcome }[] = [];
        while (out.length < this.batch.max && (out.length === 0 || performance.now() - started < this.batch.ms)) {
          const entry = await tx.inbox.claim(this.now());
          if (!entry) break;
          claimed++;
          out.push({ entry, outcome: await this.book(tx, entry) });
        }
        return out;
      });
      for (const d of done) this.finished(d.entry, d.outcome);
      return done.length > 0;
    } catch (err) {
      if (claimed === 0) throw err;
      this.log.warn({ err, entries: claimed }, 'a batch of inbound events failed and was undone; trying them one at a time');
      this.singles = claimed;
      return true;
    }
  }

  /** Books one claimed entry, lets the observers follow, and records its outcome: all in `tx`. */
  private async book(tx: StoreOps, entry: InboxEntry): Promise<Outcome> {
    const outcome = await bookEntry(bookingContext(this.deps, tx, entry.id), entry);
    for (const o of this.observers) await o.afterEvent(tx, entry, outcome, this.now());
    await tx.inbox.finish(entry.id, outcome.status, outcome, this.now());
    return outcome;
  }

  private finished(entry: InboxEntry, outcome: Outcome): void {
    this.errors.delete(entry.id);
    this.metrics.inboxProcessed.inc({ status: outcome.status });
    this.emit(entry.id);
    const level = outcome.status === 'processed' ? 'debug' : 'info';
    this.log[level]({ event: entry.id, kind: entry.kind, status: outcome.status, results: outcome.results }, 'inbound event processed');
  }

  /** Processes the oldest waiting entry alone in its transaction; false when there was none. */
  private async processOne(): Promise<boolean> {
    let claimed: { id: number; attempts: number } | null = null;
    try {
      const done = await this.store.transaction(async (tx) => {
        const entry = await tx.inbox.claim(this.now());
        if (!entry) return null;
        claimed = { id: entry.id, attempts: entry.attempts };
        return { entry, outcome: await this.book(tx, entry) };
      });
      if (!done) return false;
      this.finished(done.entry, done.outcome);
      return true;
    } catch (err) {
      if (claimed === null) throw err;
      await this.failed(claimed, err);
      return true;
    }
  }

  /** An entry booked alone failed: it waits for its platform, is tried again, or after five tries is set aside. */
  private async failed(claimed: { id: number; attempts: number }, err: unknown): Promise<void> {
    if (err instanceof ConnectorError) {
      // The platform did not answer while the hub fetched what the event leaves out (an outage, a
      // 429, a credential it refuses): the event waits, with growing pauses, and the events behind
      // it go on. It is never set aside as failed for the platform's sake (docs/inbox-outbox.md).
      this.errors.delete(claimed.id);
      const retryAt = new Date(Date.parse(this.now()) + waitForPlatform(err, claimed.attempts)).toISOString();
      await this.store.inbox.defer(claimed.id, retryAt, { status: 'received', results: [], waiting: `${err.message} The event waits and is tried again at ${retryAt}.`, retryAt });
      this.log.warn({ event: claimed.id, retryAt, err: err.message }, 'inbound event waits for its platform');
      return;
    }
    const n = (this.errors.get(claimed.id) ?? 0) + 1;
    this.errors.set(claimed.id, n);
    this.log.error({ err, event: claimed.id, tries: n }, 'processing an inbound event failed');
    if (n >= 5) {
      this.errors.delete(claimed.id);
      await this.store.inbox.finish(claimed.id, 'failed', { status: 'failed', error: (err as Error).message, results: [] }, this.now());
      this.metrics.inboxProcessed.inc({ status: 'failed' });
      this.emit(claimed.id);
    } else {
      // Give a platform or database that stumbled a moment before the same entry is tried again.
      await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** (n - 1))));
    }
  }

  private emit(eventId: number): void {
    for (const fn of this.listeners) fn(eventId);
  }

  /** Prepares and processes everything waiting now; returns how many entries were booked. */
  async drain(): Promise<number> {
    let n = 0;
    for (;;) {
      await this.preparer.prepareDue();
      while (await this.processNext()) n++;
      if ((await this.openWindows()) === 0) return n;
    }
  }

  /** Turns channel level discrepancies whose attribution window has ended into events (docs/attribution.md); returns how many. */
  openWindows(): Promise<number> {
    return openEndedWindows(this.store, this.deps);
  }

  /** Queues a push of every listed item's current level to every channel (after discovery, or when a channel may have drifted). */
  resyncChannels(): Promise<number> {
    return pushEveryListing(this.store, this.deps.channels, () => this.now());
  }

  /**
   * Tells a running processor that new work arrived (channel events are prepared first; with
   * `channelId`, only that channel's prepare loop looks).
   */
  notify(channelId?: string): void {
    this.preparer.notify(channelId);
    this.wakeUp();
  }

  /** Wakes the booking loop only (an event became ready to book). */
  private wakeUp(): void {
    this.pendingWake = true;
    this.wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.preparer.start();
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.pendingWake = false;
      if (await this.turn()) continue;
      if (!this.running || this.pendingWake) continue;
      await idle(this.idleMs, (wake) => (this.wake = wake));
    }
  }

  /** One turn of the loop: a batch booked, or ended windows turned into events; false when there was nothing to do. */
  private async turn(): Promise<boolean> {
    try {
      // The thread time a batch costs.
      const cpu = process.cpuUsage();
      const worked = await this.processNext();
      if (worked && this.blocksThread && this.busy()) {
        const used = process.cpuUsage(cpu);
        await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, (used.user + used.system) / 1000))));
      }
      if (worked) return true;
    } catch (err) {
      this.log.error({ err }, 'inbox processor cannot reach the store; retrying');
    }
    try {
      if ((await this.openWindows()) > 0) return true;
    } catch (err) {
      this.log.error({ err }, 'inbox processor cannot look for channel discrepancies; retrying');
    }
    return false;
  }

  /** Stops after the entry in hand (if any) is finished. */
  async stop(): Promise<void> {
    await this.preparer.stop();
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }

  private now(): string {
    return this.clock().toISOString();
  }
}
