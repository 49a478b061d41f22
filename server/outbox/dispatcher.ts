/**
 * Drains the outbox: claims due rows, hands each to its sink, and records the result. Failures are
 * retried with exponential backoff and full jitter; after `maxAttempts` a row becomes a dead letter
 * (docs/inbox-outbox.md).
 */
import type { DispatchConfig } from '../config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import { Announcer, type AlertInput } from '../announce';
import type { OutboxEntry, Store } from '../store/types';
import { idle } from '../util';
import { DeliveryError, type EntryResult, type Sink } from './sink';

export interface DispatcherOptions {
  /** Waits this long; a fake clock's sleep advances it. */
  sleep?: (ms: number) => Promise<void>;
  /** Failed batches in a row before a channel is suspended. */
  suspendAfter?: number;
  /** First suspension; doubles on every failed probe. */
  suspendMs?: number;
  maxSuspendMs?: number;
  /** A sink whose limiter would make its next request wait longer than this is not claimed this round. */
  maxPaceWaitMs?: number;
  /** Raises an alert through the hub's one way to announce (server/announce.ts); without it, the alert is only opened. */
  raiseAlert?: (alert: AlertInput) => Promise<void>;
}

interface SinkState {
  pausedUntil: number;
  failures: number;
  suspendedUntil: number;
  suspensions: number;
  alerted: boolean;
  /** The last failure that counted against the channel, for its health; null once it answers. */
  lastError: string | null;
  /** Whether the failures counted now include a failed push (a read that works does not clear those). */
  pushFailing: boolean;
  /** Whether an alert left open by an earlier run of the hub was looked for (on the first answer). */
  staleChecked: boolean;
}

/** How a channel (or a sink treated like one) is doing, for `GET /v1/channels`. */
export interface ChannelHealth {
  /** ok: answering; failing: its last requests failed (still tried); suspended: held until `suspendedUntil`. */
  status: 'ok' | 'failing' | 'suspended';
  /** Failed requests in a row (pushes, and reads such as discovery and reconciliation). */
  failures: number;
  suspendedUntil: string | null;
  lastError: string | null;
}

export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/** Full jitter: a random delay between 0 and the exponential cap, never below what the receiver asked. */
export function backoffMs(attempt: number, cfg: Pick<DispatchConfig, 'baseDelayMs' | 'maxDelayMs'>, random: () => number, retryAfterMs: number | null = null): number {
  const cap = Math.min(cfg.maxDelayMs, cfg.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.floor(random() * cap);
  // A receiver may ask for a pause, but not for one longer than a day.
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
}

export class Dispatcher {
  private readonly sinks = new Map<string, Sink>();
  private readonly state = new Map<string, SinkState>();
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly inFlight = new AbortController();
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly suspendAfter: number;
  private readonly suspendMs: number;
  private readonly maxSuspendMs: number;
  private readonly maxPaceWaitMs: number;
  private readonly raiseAlert: (alert: AlertInput) => Promise<void>;

  constructor(
    private readonly store: Store,
    sinks: Sink[],
    private readonly cfg: DispatchConfig,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly clock: () => Date = () => new Date(),
    private readonly random: () => number = Math.random,
    private readonly idleMs = 500,
    private readonly batchSize = 20,
    opts: DispatcherOptions = {},
  ) {
    for (const s of sinks) {
      this.sinks.set(s.id, s);
      this.state.set(s.id, { pausedUntil: 0, failures: 0, suspendedUntil: 0, suspensions: 0, alerted: false, lastError: null, pushFailing: false, staleChecked: false });
    }
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.suspendAfter = opts.suspendAfter ?? 5;
    this.suspendMs = opts.suspendMs ?? 30_000;
    this.maxSuspendMs = opts.maxSuspendMs ?? 15 * 60_000;
    this.maxPaceWaitMs = opts.maxPaceWaitMs ?? 2_000;
    this.raiseAlert = opts.raiseAlert ?? (async (a) => void (await store.transaction((tx) => new Announcer([]).raise(tx, a, this.clock().toISOString()))));
  }

  /** Whether a sink's rows are held back now (paused by a 429, suspended, or too far ahead of its pace). */
  private held(sink: Sink, nowMs: number): boolean {
    const st = this.state.get(sink.id)!;
    if (st.pausedUntil > nowMs || st.suspendedUntil > nowMs) return true;
    return sink.limiter ? sink.limiter.waitMs(sink.limiter.requestCost, nowMs) > this.maxPaceWaitMs : false;
  }

  /** When a suspended channel is tried again, or null when it is not suspended. */
  suspendedUntil(sinkId: string): string | null {
    const st = this.state.get(sinkId);
    return st && st.suspendedUntil > this.clock().getTime() ? new Date(st.suspendedUntil).toISOString() : null;
  }

  /** A channel's health, or null for a sink that is not a channel (or not configured). */
  health(sinkId: string): ChannelHealth | null {
    const sink = this.sinks.get(sinkId);
    const st = this.state.get(sinkId);
    if (!sink?.channel || !st) return null;
    const suspendedUntil = this.suspendedUntil(sinkId);
    return { status: suspendedUntil ? 'suspended' : st.failures > 0 ? 'failing' : 'ok', failures: st.failures, suspendedUntil, lastError: st.lastError };
  }

  /**
   * A request to a channel outside its pushes (catalog discovery, a reconciliation read, a read
   * after an attribution window, fetching a thin event's order) failed for a reason of the channel:
   * it counts towards suspension and the alert like a failed push (docs/dispatch.md).
   */
  async requestFailed(sinkId: string, err: Error): Promise<void> {
    const sink = this.sinks.get(sinkId);
    if (!sink?.channel) return;
    await this.channelFailed(sink, err instanceof DeliveryError ? err : new DeliveryError(err.message), false);
  }

  /**
   * A request to a channel outside its pushes was answered. It clears failures of other reads, not
   * failing pushes: a key that may read but not write still fails every push.
   */
  async requestAnswered(sinkId: string): Promise<void> {
    const sink = this.sinks.get(sinkId);
    const st = this.state.get(sinkId);
    if (!sink?.channel || !st || st.pushFailing) return;
    if (st.failures > 0 || st.alerted) await this.channelAnswered(sink);
  }

  /** Sinks with a delivery in flight: not claimed for again until it ends, so each sink's rows stay in order. */
  private readonly busy = new Map<string, Promise<void>>();
  private pendingWake = false;

  /**
   * Claims and delivers one round of due rows; returns how many were attempted. Sinks that take
   * batches get their own claim (up to two batches' worth); the rest share one claim. Sinks are
   * delivered concurrently, each one's rows in order. With `wait` (draining by hand) the round ends
   * when its deliveries end; the running hub does not wait, so a slow sink (a platform answering in
   * 10 s) never holds another sink's next round: a sink with a delivery in flight is just skipped.
   */
  async runOnce(wait = true): Promise<number> {
    const nowMs = this.clock().getTime();
    const now = new Date(nowMs).toISOString();
    const held = [...this.sinks.values()].filter((s) => this.busy.has(s.id) || this.held(s, nowMs)).map((s) => s.id);
    for (const id of this.busy.keys()) if (!held.includes(id)) held.push(id);
    const batching = [...this.sinks.values()].filter((s) => s.deliverBatch && !held.includes(s.id));
    const work: Promise<unknown>[] = [];
    let total = 0;
    // Each sink's deliveries start as soon as its rows are claimed and run beside the next claims;
    // a failure of one (the store stumbling) is logged and never left unhandled: its rows stay
    // claimed until their lease runs out and are delivered then.
    const run = (sink: Sink | undefined, rows: OutboxEntry[], id: string) => {
      const p = this.deliverRows(sink, rows, id)
        .catch((err: unknown) => this.log.error({ err, sink: id }, 'delivering a batch failed; its rows are retried when their lease ends'))
        .finally(() => {
          this.busy.delete(id);
          // The sink may have more due: the next round can claim for it now.
          this.notify();
        });
      this.busy.set(id, p);
      work.push(p);
    };
    for (const sink of batching) {
      const rows = await this.store.outbox.claim(Math.max(1, sink.maxBatch ?? 1) * 2, this.cfg.leaseMs, now, { sinks: [sink.id] });
      total += rows.length;
      if (rows.length > 0) run(sink, rows, sink.id);
    }
    const others = await this.store.outbox.claim(this.batchSize, this.cfg.leaseMs, now, { excludeSinks: [...held, ...batching.map((s) => s.id)] });
    total += others.length;
    const bySink = new Map<string, OutboxEntry[]>();
    for (const e of others) bySink.set(e.sink, [...(bySink.get(e.sink) ?? []), e]);
    for (const [id, rows] of bySink) run(this.sinks.get(id), rows, id);
    if (wait) await Promise.all(work);
    return total;
  }

  /** Runs until nothing is due now. */
  async drain(): Promise<number> {
    let total = 0;
    for (let n = await this.runOnce(); n > 0; n = await this.runOnce()) total += n;
    return total;
  }

  private async deliverRows(sink: Sink | undefined, rows: OutboxEntry[], id = sink?.id ?? ''): Promise<void> {
    const now = () => this.clock().toISOString();
    if (!sink) {
      for (const entry of rows) {
        await this.store.outbox.fail(entry.id, `No sink "${id}" is configured any more; this row cannot be delivered.`, null, now());
        this.metrics.deliveries.inc({ sink: id, result: 'dead' });
      }
      return;
    }
    const size = sink.deliverBatch ? Math.max(1, sink.maxBatch ?? 1) : 1;
    for (let i = 0; i < rows.length; i += size) {
      const batch = rows.slice(i, i + size);
      if (this.inFlight.signal.aborted || this.held(sink, this.clock().getTime())) {
        // Shutting down, or a 429 / suspension came in while this round was under way: put the rest back.
        for (const entry of rows.slice(i)) {
          const st = this.state.get(sink.id)!;
          const at = new Date(Math.max(this.clock().getTime(), st.pausedUntil, st.suspendedUntil)).toISOString();
          await this.store.outbox.fail(entry.id, this.inFlight.signal.aborted ? 'Not attempted: the hub was shutting down.' : 'Held back: the channel is paused.', at, now(), entry.lockedUntil, { refundAttempt: true });
        }
        return;
      }
      await this.deliverBatch(sink, batch);
    }
  }

  private async deliverBatch(sink: Sink, batch: OutboxEntry[]): Promise<void> {
    const now = () => this.clock().toISOString();
    if (sink.limiter) {
      // Looked at again after every wait: a limiter may be shared (a channel built by hand, with
      // its poller), and the turn taken meanwhile. The take follows the last look synchronously, so
      // no other request can slip in between. A channel of the registry paces each of its requests
      // itself (docs/dispatch.md, "Every request counts"): its limiter here neither waits nor takes.
      for (let wait = sink.limiter.waitMs(sink.limiter.requestCost, this.clock().getTime()); wait > 0; wait = sink.limiter.waitMs(sink.limiter.requestCost, this.clock().getTime())) {
        await this.sleep(wait);
      }
      sink.limiter.take(sink.limiter.requestCost, this.clock().getTime());
    }
    const timeout = AbortSignal.timeout(this.cfg.timeoutMs);
    const signal = AbortSignal.any([timeout, this.inFlight.signal]);
    let results: EntryResult[];
    try {
      if (sink.deliverBatch) {
        results = await sink.deliverBatch(batch, signal);
        if (results.length !== batch.length) throw new DeliveryError(`The sink answered ${results.length} results for ${batch.length} rows.`);
      } else {
        await sink.deliver(batch[0]!, signal);
        results = [null];
      }
    } catch (err) {
      let e = err as Error;
      if (!this.inFlight.signal.aborted && timeout.aborted && !(err instanceof DeliveryError)) e = new DeliveryError(`No answer within ${this.cfg.timeoutMs} ms.`);
      // A channel's whole batch failed (the request carrying every row of it): that is the channel's
      // fault, whatever it said, never a refusal of each row. Its rows are kept and retried.
      if (sink.channel && e instanceof DeliveryError && e.permanent) e = new DeliveryError(e.message, e.retryAfterMs, false, e.flags);
      results = batch.map(() => e);
    }

    const st = this.state.get(sink.id)!;
    let delivered = 0;
    /** Some entry got an answer about itself (delivered, refused, or to be sent again with fresh numbers). */
    let answered = false;
    let failed: DeliveryError | null = null;
    for (const [k, entry] of batch.entries()) {
      const r = results[k] ?? null;
      if (r === null) {
        delivered++;
        answered = true;
        if (!(await this.store.outbox.complete(entry.id, now(), entry.lockedUntil))) {
          this.log.warn({ sink: entry.sink, outbox: entry.id }, 'delivered after the lease ran out; another worker had taken the row over');
        }
        this.metrics.deliveries.inc({ sink: entry.sink, result: 'delivered' });
        continue;
      }
      if (this.inFlight.signal.aborted) {
        // Cut short by a shutdown, not a failure of the receiver: due again at once, after the restart.
        await this.store.outbox.fail(entry.id, 'Interrupted: the hub was shutting down.', now(), now(), entry.lockedUntil, { refundAttempt: true });
        continue;
      }
      const e = r instanceof DeliveryError ? r : new DeliveryError(r.message);
      if (e.flags.rateLimited) {
        const until = this.clock().getTime() + Math.min(Math.max(e.retryAfterMs ?? 1000, 0), MAX_RETRY_AFTER_MS);
        st.pausedUntil = Math.max(st.pausedUntil, until);
        await this.store.outbox.fail(entry.id, e.message, new Date(st.pausedUntil).toISOString(), now(), entry.lockedUntil, { refundAttempt: true });
        this.metrics.deliveries.inc({ sink: entry.sink, result: 'paced' });
        this.log.info({ sink: entry.sink, outbox: entry.id, until: new Date(st.pausedUntil).toISOString() }, 'receiver asked us to slow down; paused');
        continue;
      }
      if (!e.permanent && !e.flags.benign) failed = e;
      else answered = true;
      const forever = sink.channel !== undefined && !e.permanent;
      const giveUp = e.permanent || (!forever && entry.attempts >= this.cfg.maxAttempts);
      // A benign retry (fresh numbers, or waiting for an explanation) comes back when the sink says.
      const delay = e.flags.benign && e.retryAfterMs !== null ? e.retryAfterMs : backoffMs(e.flags.benign ? 1 : entry.attempts, this.cfg, this.random, e.retryAfterMs);
      const retryAt = giveUp ? null : new Date(this.clock().getTime() + delay).toISOString();
      const status = await this.store.outbox.fail(entry.id, e.message, retryAt, now(), entry.lockedUntil, e.flags.benign ? { refundAttempt: true } : {});
      this.metrics.deliveries.inc({ sink: entry.sink, result: status === 'dead' ? 'dead' : 'failed' });
      const line = { sink: entry.sink, outbox: entry.id, attempt: entry.attempts, status, retryAt, error: e.message };
      if (status === 'dead') this.log.error(line, 'delivery gave up: dead letter');
      else if (e.flags.benign) this.log.info(line, 'delivery will be tried again with fresh numbers');
      else this.log.warn(line, 'delivery failed; will retry');
    }

    if (!sink.channel) return;
    // Delivered anything, or every entry got an answer of its own (a refusal of one item, a newer
    // level): the channel works. Nothing delivered and a fault of the channel: it counts against it.
    // Only paced or interrupted by a shutdown: neither.
    if (failed !== null && delivered === 0) await this.channelFailed(sink, failed, true);
    else if (answered) await this.channelAnswered(sink);
  }

  private async channelAnswered(sink: Sink): Promise<void> {
    const st = this.state.get(sink.id)!;
    const was = st.alerted;
    st.failures = 0;
    st.suspensions = 0;
    st.suspendedUntil = 0;
    st.lastError = null;
    st.pushFailing = false;
    if (was || !st.staleChecked) {
      // The first answer after a start also closes an alert an earlier run of the hub left open.
      st.staleChecked = true;
      st.alerted = false;
      await this.store.alerts.resolveForChannel(sink.channel!.id, ['channel_failing'], this.clock().toISOString());
      if (was) this.log.info({ channel: sink.channel!.id }, `${sink.channel!.name} answers again: pushes resumed`);
    }
  }

  private async channelFailed(sink: Sink, e: DeliveryError, push: boolean): Promise<void> {
    const st = this.state.get(sink.id)!;
    st.failures++;
    st.lastError = e.message;
    if (push) st.pushFailing = true;
    // A failed probe after a suspension suspends again at once, for twice as long.
    if (st.failures < this.suspendAfter && st.suspensions === 0) return;
    const ms = Math.min(this.maxSuspendMs, this.suspendMs * 2 ** st.suspensions);
    st.suspensions++;
    st.suspendedUntil = this.clock().getTime() + ms;
    const until = new Date(st.suspendedUntil).toISOString();
    this.log.error({ channel: sink.channel!.id, failures: st.failures, until, error: e.message }, `${sink.channel!.name} keeps failing: pushes suspended, still queued`);
    if (!st.alerted) {
      st.alerted = true;
      await this.raiseAlert({
        kind: 'channel_failing',
        severity: 'critical',
        sku: null,
        locationId: null,
        channelId: sink.channel!.id,
        message: `${sink.channel!.name} failed ${st.failures} times in a row (last: ${e.message}). Its stock updates are held and kept up to date meanwhile; the hub tries again on its own and sends the latest levels when it answers.`,
      });
    }
  }

  notify(): void {
    this.pendingWake = true;
    this.wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        this.pendingWake = false;
        try {
          if ((await this.runOnce(false)) > 0) continue;
        } catch (err) {
          this.log.error({ err }, 'dispatcher cannot reach the store; retrying');
        }
        if (!this.running) break;
        if (this.pendingWake) continue;
        await idle(this.idleMs, (wake) => (this.wake = wake));
      }
    })();
  }

  /**
   * Stops taking new rows. Deliveries in flight get `graceMs` to finish; after that they are cut
   * short and their rows are due again at once, for the next start (or another hub process).
   */
  async stop(graceMs = 5000): Promise<void> {
    this.running = false;
    this.wake?.();
    if (this.loop) {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
      // The loop ends at once; the deliveries it started end on their own, or are cut short.
      const finished = this.loop.then(() => Promise.all([...this.busy.values()])).then(() => 'done' as const);
      if ((await Promise.race([finished, grace])) === 'late') this.inFlight.abort();
      clearTimeout(timer);
      await this.loop;
      await Promise.all([...this.busy.values()]);
    }
    this.loop = null;
  }
}
