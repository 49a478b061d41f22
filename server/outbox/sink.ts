/**
 * What a sink is: the contract between the dispatcher (dispatcher.ts) and each place it delivers
 * outbox rows to (a channel, the sheet, Airtable, a notification webhook), and the error a sink
 * answers a failed delivery with, saying whether and when to retry.
 */
import type { OutboxEntry } from '../store/types';
import type { Limiter } from './rate-limit';

/** A failed delivery, as the dispatcher retries it (or not). */
export class DeliveryError extends Error {
  constructor(
    message: string,
    /** The receiver asked us to wait at least this long (Retry-After). */
    readonly retryAfterMs: number | null = null,
    /** Retrying cannot help (the receiver said the endpoint is gone): dead-letter at once. */
    readonly permanent = false,
    readonly flags: {
      /** The receiver is pacing us (429, THROTTLED): pause the sink, give the attempt back. */
      rateLimited?: boolean;
      /** Not a failure of the receiver (a compare-and-set found a newer level): retry soon, do not count it against the channel. */
      benign?: boolean;
    } = {},
  ) {
    super(message);
  }
}

/** A paced sink's request whose turn never came: the hub was stopping, or the batch's time ran out. */
export function notSentInTime(): DeliveryError {
  return new DeliveryError('Not sent: the hub was shutting down, or the batch ran out of time while waiting its turn.');
}

/** A sink's answer for one entry of a batch: null when delivered. */
export type EntryResult = Error | null;

export interface Sink {
  readonly id: string;
  deliver(entry: OutboxEntry, signal: AbortSignal): Promise<void>;
  /**
   * Optional: delivers several rows in one request (at most `maxBatch`), answering per entry, in
   * order. Throwing fails the whole batch with that error.
   */
  deliverBatch?(entries: OutboxEntry[], signal: AbortSignal): Promise<EntryResult[]>;
  readonly maxBatch?: number;
  /** The receiver's pace (docs/dispatch.md); absent: no pace of our own. */
  readonly limiter?: Limiter;
  /**
   * A sales channel: its rows are level pushes, retried for ever on retryable errors (never dead
   * letters), and the channel is suspended with an alert after repeated failures.
   */
  readonly channel?: { id: string; name: string };
}
