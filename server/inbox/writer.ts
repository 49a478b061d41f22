/**
 * Group commit for the inbox (docs/inbox-outbox.md, "Storing many events at once").
 *
 * Every webhook and relay is answered only after it is durably stored. Stored one by one, each
 * answer waits for its own commit (on SQLite with `synchronous = FULL`, its own fsync), which caps
 * ingest at the disk's flush rate. The writer stores, in one transaction, every event that arrived
 * in the same turn of the event loop or while the previous transaction was committing: at low load a
 * batch is one event and waits for nothing; under a burst, one fsync carries dozens of events.
 *
 * Invariant kept: an event is acknowledged only once the transaction holding it has committed, and
 * its id (the order in which it is booked) follows the order in which its request reached the
 * writer. A failed batch is retried one event at a time, so one bad event fails alone.
 */
import type { Store } from '../store/types';

export interface InboxEvent {
  dedupeKey: string;
  source: string;
  kind: string;
  headers: Record<string, string>;
  body: string;
}

interface Pending {
  event: InboxEvent;
  now: string;
  resolve: (stored: { id: number } | null) => void;
  reject: (err: unknown) => void;
}

export class InboxWriter {
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;
  /** Batches written and events they held, for the metrics and the benchmark. */
  readonly stats = { batches: 0, events: 0, largest: 0 };
  private lastArrival = -Infinity;

  constructor(
    private readonly store: Pick<Store, 'inbox'>,
    private readonly maxBatch = 500,
  ) {}

  /** Stores one event; resolves once it is committed (null when its dedupe key was seen before). */
  insert(event: InboxEvent, now: string): Promise<{ id: number } | null> {
    this.lastArrival = performance.now();
    return new Promise((resolve, reject) => {
      this.queue.push({ event, now, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.running) return;
    // Started after the I/O of this turn of the event loop: every request read in the same turn
    // joins the batch (a transaction on SQLite runs to its commit without giving the loop back).
    this.running = new Promise<void>((r) => setImmediate(r))
      .then(() => this.run())
      .finally(() => {
        this.running = null;
        // An event handed over while the last batch was being answered starts the next one.
        if (this.queue.length > 0) this.schedule();
      });
  }

  /** True when an event arrived in the last `ms` milliseconds: a burst is under way. */
  arriving(ms = 100): boolean {
    return performance.now() - this.lastArrival < ms;
  }

  /** Resolves when everything handed to the writer so far is committed or has failed. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.stats.batches += 1;
      this.stats.events += batch.length;
      this.stats.largest = Math.max(this.stats.largest, batch.length);
      // One timestamp per batch: its events were stored in the same instant.
      const now = batch[batch.length - 1]!.now;
      try {
        const stored = await this.store.inbox.insertBatch(
          batch.map((p) => p.event),
          now,
        );
        batch.forEach((p, i) => p.resolve(stored[i] ?? null));
      } catch {
        // Nothing of the batch was stored; each event is tried alone so only a bad one fails.
        for (const p of batch) {
          try {
            p.resolve(await this.store.inbox.insert(p.event, p.now));
          } catch (err) {
            p.reject(err);
          }
        }
      }
    }
  }
}
