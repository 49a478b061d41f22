/**
 * The relay outbox. A change is sent at once when nothing is waiting; otherwise (or when the hub
 * cannot be reached) it joins the end of the queue kept in document properties, so the hub always
 * receives changes in the order they were made. Every relay keeps its webhook-id from the first
 * attempt: a resend the hub already has is answered 409 relay_replayed and counts as delivered.
 * Everything runs under the document lock: two edits a second apart cannot overtake each other.
 */
import type { LockLike } from './gas';
import type { RelayAnswer, SendOutcome } from './hub';
import { StorageFullError, type ChunkedStore } from './store';

export interface QueuedRelay {
  id: string;
  kind: string;
  /** The exact JSON sent (and signed) on every attempt. */
  body: string;
  /** A line for people: what the change was. */
  summary: string;
  queuedAt: string;
  attempts: number;
  lastError?: string;
}

export interface FailedRelay {
  id: string;
  kind: string;
  summary: string;
  status: number;
  code: string;
  message: string;
  failedAt: string;
  body: string;
}

export interface SubmitResult {
  status: 'delivered' | 'queued' | 'failed';
  /** Relays still waiting after this one was handled. */
  waiting: number;
  message: string;
  /** The hub's answer, when this relay was delivered at once. */
  answer?: RelayAnswer;
}

export interface FlushResult {
  delivered: number;
  failed: number;
  waiting: number;
  /** Why the flush stopped early (the first relay that could not be delivered). */
  stoppedBecause: string | null;
}

export const QUEUE_KEY = 'stockrelay.queue';
export const FAILED_KEY = 'stockrelay.failed';
/** Failed relays kept for the sidebar (oldest dropped first). */
export const FAILED_KEPT = 50;
const LOCK_WAIT_MS = 30_000;

export class BusyError extends Error {
  constructor() {
    super('Another change is still being sent to the hub; nothing was lost. Try again in a few seconds.');
  }
}

/** The document lock, re-entrant within one execution (a structural change relays while holding it). */
export class DocLock {
  private depth = 0;

  constructor(private readonly lock: LockLike | null) {}

  run<T>(fn: () => T): T {
    if (!this.lock) return fn(); // no document (should not happen in a bound script): nothing to serialise against
    if (this.depth === 0 && !this.lock.tryLock(LOCK_WAIT_MS)) throw new BusyError();
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      if (this.depth === 0) this.lock.releaseLock();
    }
  }
}

export type Sender = (id: string, body: string) => SendOutcome;

export class RelayOutbox {
  constructor(
    private readonly store: ChunkedStore,
    private readonly lock: DocLock,
    private readonly now: () => Date,
  ) {}

  waiting(): QueuedRelay[] {
    return this.store.read<QueuedRelay[]>(QUEUE_KEY, []);
  }

  failed(): FailedRelay[] {
    return this.store.read<FailedRelay[]>(FAILED_KEY, []);
  }

  dismissFailed(id: string | null): FailedRelay[] {
    return this.lock.run(() => {
      const left = id === null ? [] : this.failed().filter((f) => f.id !== id);
      this.store.write(FAILED_KEY, left);
      return left;
    });
  }

  /**
   * Sends one relay, or queues it behind the ones waiting. `send` is null when the hub is not
   * connected: the relay waits until it is. Throws StorageFullError (nothing stored) or BusyError.
   */
  submit(relay: { id: string; kind: string; body: string; summary: string }, send: Sender | null): SubmitResult {
    return this.lock.run(() => {
      const queue = this.waiting();
      const entry: QueuedRelay = { ...relay, queuedAt: this.now().toISOString(), attempts: 0 };
      if (queue.length > 0 || !send) {
        queue.push(entry);
        this.store.write(QUEUE_KEY, queue); // the change is safe before anything is sent
        if (!send) return { status: 'queued', waiting: queue.length, message: 'Not connected to a hub: the change is kept and will be sent once the spreadsheet is connected.' };
        const flushed = this.flushLocked(send);
        const left = this.waiting();
        if (!left.some((q) => q.id === entry.id)) {
          const failed = flushed.failed > 0 ? this.failed().find((f) => f.id === entry.id) : undefined;
          return failed
            ? { status: 'failed', waiting: left.length, message: `The hub refused the change: ${failed.message}` }
            : { status: 'delivered', waiting: left.length, message: 'Sent to the hub.' };
        }
        return { status: 'queued', waiting: left.length, message: waitingMessage(left.length) };
      }
      const outcome = send(entry.id, entry.body);
      if (outcome.result === 'delivered') return { status: 'delivered', waiting: 0, message: 'Sent to the hub.', ...(outcome.answer ? { answer: outcome.answer } : {}) };
      if (outcome.result === 'failed') {
        this.recordFailed(entry, outcome);
        return { status: 'failed', waiting: 0, message: `The hub refused the change: ${outcome.message}` };
      }
      this.store.write(QUEUE_KEY, [{ ...entry, attempts: 1, lastError: outcome.message }]);
      return { status: 'queued', waiting: 1, message: waitingMessage(1) };
    });
  }

  /** Sends what is waiting, oldest first, stopping at the first relay the hub does not take. */
  flush(send: Sender): FlushResult {
    return this.lock.run(() => this.flushLocked(send));
  }

  private flushLocked(send: Sender): FlushResult {
    const queue = this.waiting();
    const result: FlushResult = { delivered: 0, failed: 0, waiting: queue.length, stoppedBecause: null };
    while (queue.length > 0) {
      const head = queue[0]!;
      const outcome = send(head.id, head.body);
      if (outcome.result === 'retry') {
        queue[0] = { ...head, attempts: head.attempts + 1, lastError: outcome.message };
        result.stoppedBecause = outcome.message;
        break;
      }
      queue.shift();
      if (outcome.result === 'delivered') result.delivered++;
      else {
        this.recordFailed(head, outcome);
        result.failed++;
      }
      // Written after each relay: a trigger cut short by Apps Script's time limit never resends a delivered one
      // under a new id, and a resend under the same id is a replay the hub ignores.
      this.store.write(QUEUE_KEY, queue);
    }
    if (result.stoppedBecause) this.store.write(QUEUE_KEY, queue);
    result.waiting = queue.length;
    return result;
  }

  private recordFailed(entry: QueuedRelay, outcome: Extract<SendOutcome, { result: 'failed' }>): void {
    const failed = this.failed();
    failed.push({ id: entry.id, kind: entry.kind, summary: entry.summary, status: outcome.status, code: outcome.code, message: outcome.message, failedAt: this.now().toISOString(), body: entry.body });
    const kept = failed.slice(-FAILED_KEPT);
    try {
      this.store.write(FAILED_KEY, kept);
    } catch (err) {
      // Full storage: keep the newest few rather than lose the record of this one.
      if (!(err instanceof StorageFullError)) throw err;
      this.store.write(FAILED_KEY, kept.slice(-5).map((f) => ({ ...f, body: '' })));
    }
  }
}

function waitingMessage(waiting: number): string {
  const n = waiting === 1 ? '1 change is' : `${waiting} changes are`;
  return `The hub could not take it now. ${n} kept in this spreadsheet and will be sent in order every minute, or with "Sync now".`;
}
