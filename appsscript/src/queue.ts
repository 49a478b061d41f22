/**
 * The relay outbox. Every change is first written to the end of the queue kept in document
 * properties (under the document lock, which is held for that write only), and only then sent,
 * outside the document lock, oldest first. So the hub always receives changes in the order they
 * were made, and a hub that hangs never holds up another edit: the edit is already safe in the
 * spreadsheet before anything is sent.
 *
 * One execution sends at a time: the sender holds the script lock (LockService.getScriptLock)
 * while it works through the queue, and an execution that finds it taken leaves its change queued
 * for the one already sending (which goes on until the queue is empty) or for the minute trigger.
 * Every relay keeps its webhook-id from the first attempt: a resend the hub already has is answered
 * 409 relay_replayed and counts as delivered.
 *
 * A relay can carry what becomes true once the hub has it (`known`: SKUs the hub now knows, or no
 * longer knows): it is applied when the relay is delivered, never before (docs/sheets.md).
 */
import type { LockLike } from './gas';
import type { RelayAnswer, SendOutcome } from './hub';
import { StorageFullError, utf8Length, type ChunkedStore } from './store';

/** What becomes true once the hub has a relay: SKUs added to or removed from what the hub knows. */
export interface KnownEffect {
  add?: string[];
  remove?: string[];
}

export interface NewRelay {
  id: string;
  kind: string;
  /** The exact JSON sent (and signed) on every attempt. */
  body: string;
  /** A line for people: what the change was. */
  summary: string;
  known?: KnownEffect;
  /** Relays that stand or fall together (a catalog slice and its opening counts): one refused, the rest are not sent. */
  group?: string;
}

export interface QueuedRelay extends NewRelay {
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
  /** The hub's answer, when this relay was delivered. */
  answer?: RelayAnswer;
}

/** What happened to one relay in a flush. */
export type Delivery = { status: 'delivered'; answer?: RelayAnswer } | { status: 'failed'; message: string };

export interface FlushResult {
  delivered: number;
  failed: number;
  waiting: number;
  /** Why the flush stopped early (the first relay that could not be delivered). */
  stoppedBecause: string | null;
  /** Another execution was sending: nothing was sent by this one (what waits goes in order after it). */
  busy: boolean;
  /** Relays delivered or refused by this flush, by id. */
  outcomes: Record<string, Delivery>;
}

export const QUEUE_KEY = 'stockrelay.queue';
export const FAILED_KEY = 'stockrelay.failed';
/** The SKUs the hub has (a relay that adds them was delivered): what a catalog change is compared with. */
export const KNOWN_KEY = 'stockrelay.knownSkus';
/** Failed relays kept for the sidebar (oldest dropped first). */
export const FAILED_KEPT = 50;
/** How long an execution waits for the document lock (held only while a property is read or written). */
const LOCK_WAIT_MS = 30_000;
/** A flush stops starting new sends after this long, well inside Apps Script's 6 minutes per execution. */
export const FLUSH_BUDGET_MS = 4 * 60_000;

export class BusyError extends Error {
  constructor() {
    super('The spreadsheet was busy with another stockrelay task for 30 seconds, so this change could not be kept. Type it again in a moment.');
  }
}

/** The document lock, re-entrant within one execution (a structural change queues while holding it). */
export class DocLock {
  private depth = 0;

  constructor(private readonly lock: LockLike | null) {}

  /** True while this execution holds the lock. */
  get held(): boolean {
    return this.depth > 0;
  }

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

/** A queue entry's size in the store (JSON inside JSON: the body's quotes are escaped). */
export function queuedBytes(entries: QueuedRelay[]): number {
  return utf8Length(JSON.stringify(entries));
}

export class RelayOutbox {
  constructor(
    private readonly store: ChunkedStore,
    private readonly lock: DocLock,
    /** The script lock: one sender at a time. Null where there is none (then sending is not serialised). */
    private readonly sendLock: LockLike | null,
    private readonly now: () => Date,
  ) {}

  /** What waits, oldest first. Reading an empty queue costs one property read. */
  waiting(): QueuedRelay[] {
    return this.store.read<QueuedRelay[]>(QUEUE_KEY, []);
  }

  /** True when something waits: one property read, nothing else. */
  hasWaiting(): boolean {
    return Number(this.store.getString(`${QUEUE_KEY}#n`) ?? '0') > 0;
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
   * Puts relays at the end of the queue, all or none, under the document lock. Throws
   * StorageFullError (nothing stored) when they do not fit, or when `maxBytes` is given and the
   * queue would grow past it; BusyError when the lock cannot be had.
   */
  enqueue(relays: NewRelay[], opts: { maxBytes?: number } = {}): QueuedRelay[] {
    if (relays.length === 0) return [];
    return this.lock.run(() => {
      const queue = this.waiting();
      const at = this.now().toISOString();
      const added = relays.map((r): QueuedRelay => ({ ...r, queuedAt: at, attempts: 0 }));
      const next = [...queue, ...added];
      if (opts.maxBytes !== undefined && queuedBytes(next) > opts.maxBytes) throw new StorageFullError(queuedBytes(next));
      this.store.write(QUEUE_KEY, next);
      return added;
    });
  }

  /**
   * Sends what is waiting, oldest first, outside the document lock, stopping at the first relay the
   * hub does not take (it stays at the head with its webhook-id). Never called while this execution
   * holds the document lock. When another execution is sending, returns at once with `busy`.
   */
  flush(send: Sender): FlushResult {
    if (this.lock.held) throw new Error('stockrelay: relays are never sent while the document lock is held (queue them, release the lock, then flush).');
    const result: FlushResult = { delivered: 0, failed: 0, waiting: 0, stoppedBecause: null, busy: false, outcomes: {} };
    const started = this.now().getTime();
    for (let round = 0; round < 3; round++) {
      if (this.sendLock && !this.sendLock.tryLock(0)) {
        result.busy = result.delivered + result.failed === 0;
        break;
      }
      try {
        this.sendAll(send, result, started);
      } finally {
        this.sendLock?.releaseLock();
      }
      // A change queued while this execution was finishing found the send lock taken: look once more.
      result.waiting = this.waiting().length;
      if (result.stoppedBecause || result.waiting === 0) return result;
    }
    result.waiting = this.waiting().length;
    return result;
  }

  private sendAll(send: Sender, result: FlushResult, started: number): void {
    for (;;) {
      if (this.now().getTime() - started > FLUSH_BUDGET_MS) {
        result.stoppedBecause = 'stockrelay stopped sending for now to stay inside Apps Script’s time limit; the rest goes in a minute.';
        return;
      }
      // Read under the lock (held for the read only): a queue being written by another execution is never half-read.
      const head = this.lock.run(() => this.waiting()[0]);
      if (!head) return;
      const outcome = send(head.id, head.body);
      const stop = this.lock.run(() => {
        // Only the sender removes from the head; others only append. Re-read: the tail may have grown.
        const queue = this.waiting();
        const i = queue.findIndex((q) => q.id === head.id);
        if (i < 0) return false; // dismissed meanwhile (should not happen)
        if (outcome.result === 'retry') {
          queue[i] = { ...queue[i]!, attempts: queue[i]!.attempts + 1, lastError: outcome.message };
          this.writeQueue(queue);
          result.stoppedBecause = outcome.message;
          return true;
        }
        queue.splice(i, 1);
        if (outcome.result === 'delivered') {
          result.delivered++;
          result.outcomes[head.id] = outcome.answer ? { status: 'delivered', answer: outcome.answer } : { status: 'delivered' };
          if (head.known) this.applyKnown(head.known);
        } else {
          this.recordFailed(head, outcome);
          // The rest of its group goes no further: its rows are sent again, whole, by the next sync.
          if (head.group) for (let j = queue.length - 1; j >= 0; j--) if (queue[j]!.group === head.group) queue.splice(j, 1);
          result.failed++;
          result.outcomes[head.id] = { status: 'failed', message: outcome.message };
        }
        // Written after each relay: a run cut short by Apps Script's time limit never resends a delivered one
        // under a new id, and a resend under the same id is a replay the hub ignores.
        this.writeQueue(queue);
        return false;
      });
      if (stop) return;
    }
  }

  /** Writes the queue; an empty queue leaves no property behind (so "is anything waiting?" is one read). */
  private writeQueue(queue: QueuedRelay[]): void {
    if (queue.length === 0) this.store.remove(QUEUE_KEY);
    else this.store.write(QUEUE_KEY, queue);
  }

  private applyKnown(effect: KnownEffect): void {
    const known = new Set(this.store.read<string[]>(KNOWN_KEY, []));
    for (const sku of effect.remove ?? []) known.delete(sku);
    for (const sku of effect.add ?? []) known.add(sku);
    this.store.write(KNOWN_KEY, [...known]);
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

/** What to tell about one relay after a flush (or without one, when not connected). */
export function resultFor(id: string, flushed: FlushResult | null, waitingWhenNotConnected = 0): SubmitResult {
  const waiting = flushed?.waiting ?? waitingWhenNotConnected;
  const outcome = flushed?.outcomes[id];
  if (outcome?.status === 'delivered') return { status: 'delivered', waiting, message: 'Sent to the hub.', ...(outcome.answer ? { answer: outcome.answer } : {}) };
  if (outcome?.status === 'failed') return { status: 'failed', waiting, message: `The hub refused the change: ${outcome.message}` };
  if (!flushed) return { status: 'queued', waiting, message: NOT_CONNECTED_QUEUED };
  if (flushed.busy) return { status: 'queued', waiting, message: busyMessage(waiting) };
  return { status: 'queued', waiting, message: waitingMessage(waiting) };
}

export const NOT_CONNECTED_QUEUED = 'Not connected to a hub: the change is kept and will be sent once the spreadsheet is connected.';

export function waitingMessage(waiting: number): string {
  const n = waiting === 1 ? '1 change is' : `${waiting} changes are`;
  return `The hub could not take it now. ${n} kept in this spreadsheet and will be sent in order every minute, or with "Sync now".`;
}

function busyMessage(waiting: number): string {
  const n = waiting === 1 ? '1 change is' : `${waiting} changes are`;
  return `Kept: another change is being sent to the hub right now, and this one follows it in order. ${n} waiting in this spreadsheet.`;
}

/** A catalog sync may fill the queue up to this much, so ordinary edits always find room after it. */
export const SYNC_QUEUE_MAX = 250 * 1024;
