/** Inbound events, stored before they are answered and booked in order (docs/inbox-outbox.md). */
import type { Page } from './common';
import type { InboxStatus } from '../schema';

export type { InboxStatus };

export interface InboxEntry {
  id: number;
  dedupeKey: string;
  source: string;
  kind: string;
  headers: Record<string, string>;
  body: string;
  status: InboxStatus;
  outcome: unknown;
  attempts: number;
  receivedAt: string;
  processedAt: string | null;
  /** Set while the entry waits for its platform to answer again: not claimed before then. */
  retryAt: string | null;
  /**
   * A channel event's facts, found before booking (the prepare stage, docs/inbox-outbox.md): JSON
   * of `{facts}` or `{rejected: reason}`; null until prepared. A channel event is booked only once
   * prepared; other events need no preparing.
   */
  prepared: string | null;
}

/** An inbound event as the inbox stores it. */
export interface InboxInput {
  dedupeKey: string;
  source: string;
  kind: string;
  headers: Record<string, string>;
  body: string;
}

export interface InboxOps {
  /** Stores a raw inbound event; null when its dedupe key was seen before (a replay or duplicate). */
  insert(e: InboxInput, now: string): Promise<{ id: number } | null>;
  /**
   * Stores several raw inbound events in one transaction (one commit, one fsync), in the order given,
   * so their ids follow that order. For each: its id, or null when its dedupe key was seen before,
   * including earlier in the same batch. All or nothing: on an error none is stored.
   */
  insertBatch(events: InboxInput[], now: string): Promise<({ id: number } | null)[]>;
  /**
   * Inside a transaction: locks and returns the oldest entry waiting to be processed and ready to
   * book (a channel event once prepared). With `now`, an entry that waits for its platform
   * (`retryAt` later than now) is passed over until then.
   */
  claim(now?: string): Promise<InboxEntry | null>;
  /**
   * Channel events not yet prepared, oldest first, due at `now` (not waiting for their platform);
   * with `channelId`, only that channel's (stored under `channel:<id>:`).
   */
  unprepared(now: string, limit: number, channelId?: string): Promise<InboxEntry[]>;
  /** Keeps what preparing an entry found; false when it was prepared (or finished) meanwhile, e.g. by another hub process. */
  setPrepared(id: number, prepared: string): Promise<boolean>;
  /** Leaves an entry whose try failed waiting (status `received`) until `retryAt`, with why in its outcome; the try is counted. */
  defer(id: number, retryAt: string, outcome: unknown): Promise<void>;
  finish(id: number, status: InboxStatus, outcome: unknown, now: string): Promise<void>;
  get(id: number): Promise<InboxEntry | null>;
  byKey(dedupeKey: string): Promise<InboxEntry | null>;
  list(page: Page & { status?: InboxStatus | undefined }): Promise<InboxEntry[]>;
  /** Puts an unmatched, rejected, conflicting or failed entry back in the queue (a channel event is prepared again). */
  requeue(id: number): Promise<boolean>;
  count(): Promise<Record<string, number>>;
}
