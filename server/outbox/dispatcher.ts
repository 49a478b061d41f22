/**
 * Drains the outbox: claims due rows, hands each to its sink, and records the result. Failures are
 * retried with exponential backoff and full jitter; after `maxAttempts` a row becomes a dead letter
 * (docs/inbox-outbox.md).
 */
import type { DispatchConfig } from '../config';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { OutboxEntry, Store } from '../store/types';

export class DeliveryError extends Error {
  constructor(
    message: string,
    /** The receiver asked us to wait at least this long (Retry-After). */
    readonly retryAfterMs: number | null = null,
    /** Retrying cannot help (the receiver said the endpoint is gone): dead-letter at once. */
    readonly permanent = false,
  ) {
    super(message);
  }
}

export interface Sink {
  readonly id: string;
  deliver(entry: OutboxEntry, signal: AbortSignal): Promise<void>;
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
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly inFlight = new AbortController();

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
  ) {
    for (const s of sinks) this.sinks.set(s.id, s);
  }

  /** Claims and delivers one batch of due rows; returns how many were attempted. */
  async runOnce(): Promise<number> {
    const batch = await this.store.claimOutbox(this.batchSize, this.cfg.leaseMs, this.clock().toISOString());
    for (const entry of batch) {
      if (this.inFlight.signal.aborted) {
        await this.store.failOutbox(entry.id, 'Not attempted: the hub was shutting down.', this.clock().toISOString(), this.clock().toISOString());
        continue;
      }
      await this.deliver(entry);
    }
    return batch.length;
  }

  /** Runs until nothing is due now. */
  async drain(): Promise<number> {
    let total = 0;
    for (let n = await this.runOnce(); n > 0; n = await this.runOnce()) total += n;
    return total;
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    const sink = this.sinks.get(entry.sink);
    const now = () => this.clock().toISOString();
    if (!sink) {
      await this.store.failOutbox(entry.id, `No sink "${entry.sink}" is configured any more; this row cannot be delivered.`, null, now());
      this.metrics.deliveries.inc({ sink: entry.sink, result: 'dead' });
      return;
    }
    const timeout = AbortSignal.timeout(this.cfg.timeoutMs);
    try {
      await sink.deliver(entry, AbortSignal.any([timeout, this.inFlight.signal]));
      if (!(await this.store.completeOutbox(entry.id, now(), entry.lockedUntil))) {
        this.log.warn({ sink: entry.sink, outbox: entry.id }, 'delivered after the lease ran out; another worker had taken the row over');
      }
      this.metrics.deliveries.inc({ sink: entry.sink, result: 'delivered' });
    } catch (err) {
      if (this.inFlight.signal.aborted) {
        // Cut short by a shutdown, not a failure of the receiver: due again at once, after the restart.
        await this.store.failOutbox(entry.id, 'Interrupted: the hub was shutting down.', now(), now(), entry.lockedUntil);
        return;
      }
      const e = err instanceof DeliveryError ? err : new DeliveryError(timeout.aborted ? `No answer within ${this.cfg.timeoutMs} ms.` : (err as Error).message);
      const giveUp = e.permanent || entry.attempts >= this.cfg.maxAttempts;
      const retryAt = giveUp ? null : new Date(this.clock().getTime() + backoffMs(entry.attempts, this.cfg, this.random, e.retryAfterMs)).toISOString();
      const status = await this.store.failOutbox(entry.id, e.message, retryAt, now(), entry.lockedUntil);
      this.metrics.deliveries.inc({ sink: entry.sink, result: status === 'dead' ? 'dead' : 'failed' });
      const line = { sink: entry.sink, outbox: entry.id, attempt: entry.attempts, status, retryAt, error: e.message };
      if (status === 'dead') this.log.error(line, 'delivery gave up: dead letter');
      else this.log.warn(line, 'delivery failed; will retry');
    }
  }

  notify(): void {
    this.wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          if ((await this.runOnce()) > 0) continue;
        } catch (err) {
          this.log.error({ err }, 'dispatcher cannot reach the store; retrying');
        }
        if (!this.running) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.idleMs);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.wake = null;
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
      if ((await Promise.race([this.loop.then(() => 'done' as const), grace])) === 'late') this.inFlight.abort();
      clearTimeout(timer);
      await this.loop;
    }
    this.loop = null;
  }
}
