/** Rows waiting to be delivered to a sink, leased, retried and coalesced (docs/inbox-outbox.md). */
import type { Page } from './common';
import type { OutboxStatus } from '../schema';

export type { OutboxStatus };

export interface OutboxEntry {
  id: number;
  sink: string;
  topic: string;
  coalesceKey: string | null;
  payload: unknown;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: string;
  lockedUntil: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A row for the outbox (docs/inbox-outbox.md). */
export interface OutboxInput {
  sink: string;
  topic: string;
  coalesceKey?: string | null;
  payload: unknown;
}

export interface OutboxOps {
  /** Adds a row to the outbox; with a coalesce key, replaces the payload of the row still waiting. */
  enqueue(e: OutboxInput, now: string): Promise<void>;
  /** Several rows at once, in this order, as `enqueue` would add them one by one. */
  enqueueAll(entries: OutboxInput[], now: string): Promise<void>;
  /** Claims up to `limit` due rows for `leaseMs`; a row whose lease ran out is due again. */
  claim(limit: number, leaseMs: number, now: string, filter?: { sinks?: string[]; excludeSinks?: string[] }): Promise<OutboxEntry[]>;
  /**
   * Marks the row delivered. With `lease` (the `lockedUntil` of the claim), only while that claim
   * still holds the row; false when it no longer did (its lease ran out and another worker took it).
   */
  complete(id: number, now: string, lease?: string | null): Promise<boolean>;
  /**
   * Reschedules the row at `retryAt`, or makes it a dead letter when `retryAt` is null. With `lease`,
   * only while that claim still holds the row; otherwise nothing changes and the current status is returned.
   * `refundAttempt`: the receiver only asked us to wait (429); the attempt the claim counted is given back.
   */
  fail(id: number, error: string, retryAt: string | null, now: string, lease?: string | null, opts?: { refundAttempt?: boolean }): Promise<OutboxStatus>;
  list(page: Page & { status?: OutboxStatus | undefined }): Promise<OutboxEntry[]>;
  get(id: number): Promise<OutboxEntry | null>;
  /** Puts a dead letter back in the queue, due now. */
  retryDead(id: number, now: string): Promise<boolean>;
  count(): Promise<Record<string, number>>;
  /** The newest outbox row with this coalesce key, whatever its status. */
  latestFor(coalesceKey: string): Promise<OutboxEntry | null>;
}
