/**
 * The prepare stage (docs/inbox-outbox.md, "Prepare, then book"): before a channel event is booked,
 * what its webhook leaves out is fetched from the platform (`Connector.expand`: a Square order, a
 * Shopify return) and the event is translated to facts, which are kept with the inbox entry. The
 * booking then only books: it never waits on a platform, so one slow or failing platform holds its
 * own channel's events and nothing else.
 *
 * Invariants:
 * - a channel's events are prepared one after another in arrival order, each channel on its own,
 *   so a channel never overtakes itself (an event waiting for its platform is passed over, as before);
 * - what an event was prepared into is kept once (`inbox.setPrepared` only where nothing is yet), so two hub
 *   processes preparing the same event agree, and booking reads the same facts after a crash;
 * - nothing is booked here: an event that cannot be read is prepared into its reason, and booking
 *   rejects it with that reason in its outcome, as it always did.
 */
import { ConnectorError, TranslateError, type ChannelFact } from '../connectors/types';
import type { ChannelRegistry } from '../channels/registry';
import type { Logger } from '../log';
import type { InboxEntry, Store } from '../store/types';
import { idle } from '../util';

/** How long a platform may take to answer a fetch for a thin event, per try. */
export const PREPARE_TIMEOUT_MS = 10_000;
/** Longest pause before an event whose platform does not answer is tried again. */
export const MAX_WAIT_FOR_PLATFORM_MS = 5 * 60_000;

/** What an entry was prepared into: its facts, or why it cannot be read. */
export type Prepared = { facts: ChannelFact[] } | { rejected: string };

export function readPrepared(entry: InboxEntry): Prepared | null {
  return entry.prepared === null ? null : (JSON.parse(entry.prepared) as Prepared);
}

/** The pause before the next try of an event whose platform did not answer (its `attempts` so far). */
export function waitForPlatform(err: ConnectorError, attempts: number): number {
  return Math.max(err.retryAfterMs ?? 0, Math.min(MAX_WAIT_FOR_PLATFORM_MS, 1000 * 2 ** Math.min(20, Math.max(0, attempts - 1))));
}

/** A stored delivery as the connector reads it: its JSON, or its text when it is not JSON (Wix sends a bare JWT). */
function bodyOf(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export class Preparer {
  private running = false;
  /** One loop per channel, so one channel's slow platform never holds another's events. */
  private readonly loops = new Map<string, { wake: (() => void) | null; pending: boolean; done: Promise<void> }>();
  private readonly idleMs: number;

  constructor(
    private readonly store: Store,
    private readonly channels: ChannelRegistry | null,
    private readonly log: Logger,
    private readonly clock: () => Date,
    /** Called when an event becomes ready to book (the processor's `notify`). */
    private readonly ready: () => void,
    opts: { idleMs?: number; timeoutMs?: number } = {},
  ) {
    this.idleMs = opts.idleMs ?? 1000;
    this.timeoutMs = opts.timeoutMs ?? PREPARE_TIMEOUT_MS;
  }

  private readonly timeoutMs: number;
  /** Aborts fetches in flight when the hub stops. */
  private abort = new AbortController();

  /**
   * Prepares every channel event due now, channel by channel, and returns how many it prepared or
   * set waiting. For callers that drive the hub by hand (tests, the simulation); a running hub
   * prepares in its per-channel loops (`start`).
   */
  async prepareDue(): Promise<number> {
    let n = 0;
    for (;;) {
      const batch = await this.store.inbox.unprepared(this.clock().toISOString(), 100);
      if (batch.length === 0) return n;
      for (const entry of batch) {
        await this.prepareOne(entry);
        n++;
      }
    }
  }

  /** Prepares one channel's events due now, oldest first; how many were handled. */
  async prepareChannel(channelId: string): Promise<number> {
    let n = 0;
    for (;;) {
      const batch = await this.store.inbox.unprepared(this.clock().toISOString(), 50, channelId);
      if (batch.length === 0) return n;
      for (const entry of batch) {
        if (!this.running && this.loops.size > 0) return n;
        await this.prepareOne(entry);
        n++;
      }
    }
  }

  /** Fetches and translates one event and keeps the result; a platform that does not answer leaves the event waiting. */
  async prepareOne(entry: InboxEntry): Promise<void> {
    const channelId = entry.headers['x-stockrelay-channel'] ?? '';
    const ch = this.channels?.get(channelId);
    let prepared: Prepared;
    if (!ch) {
      prepared = { rejected: `Channel "${channelId}" is no longer configured; nothing was booked.` };
    } else {
      const timeout = AbortSignal.timeout(this.timeoutMs);
      try {
        let body = bodyOf(entry.body);
        if (ch.connector.expand) body = await ch.connector.expand(entry.kind, body, AbortSignal.any([this.abort.signal, timeout]));
        prepared = { facts: ch.connector.translate(entry.kind, body, entry.headers) };
      } catch (thrown) {
        // The hub is stopping: the event stays as it was and is prepared after the restart.
        if (this.abort.signal.aborted) return;
        // Our own deadline, however the connector passed it on, is the platform not answering.
        const err =
          timeout.aborted && !(thrown instanceof ConnectorError)
            ? new ConnectorError(`${ch.config.name} did not answer within ${Math.round(this.timeoutMs / 1000)} s while the hub fetched what the event leaves out.`, true)
            : thrown;
        if (err instanceof ConnectorError) {
          // The platform did not answer while the hub fetched what the event leaves out (an outage, a
          // 429, a credential it refuses): the event waits, with growing pauses, and is never set
          // aside as failed for the platform's sake (docs/inbox-outbox.md).
          const attempts = entry.attempts + 1;
          const retryAt = new Date(this.clock().getTime() + waitForPlatform(err, attempts)).toISOString();
          await this.store.inbox.defer(entry.id, retryAt, { status: 'received', results: [], waiting: `${err.message} The event waits and is tried again at ${retryAt}.`, retryAt });
          this.log.warn({ event: entry.id, channel: channelId, retryAt, err: err.message }, 'inbound event waits for its platform');
          return;
        }
        const why = err instanceof TranslateError || err instanceof SyntaxError ? err.message : `unexpected: ${(err as Error).message}`;
        prepared = { rejected: `The ${ch.config.name} event "${entry.kind}" cannot be read: ${why}` };
      }
    }
    if (await this.store.inbox.setPrepared(entry.id, JSON.stringify(prepared))) this.ready();
  }

  /** Tells the running loops that events arrived (for one channel, or every channel). */
  notify(channelId?: string): void {
    for (const [id, loop] of this.loops) {
      if (channelId !== undefined && id !== channelId) continue;
      loop.pending = true;
      loop.wake?.();
    }
  }

  start(): void {
    if (this.running || !this.channels) return;
    this.running = true;
    this.abort = new AbortController();
    for (const id of this.channels.all().map((c) => c.config.id)) {
      const loop: { wake: (() => void) | null; pending: boolean; done: Promise<void> } = { wake: null, pending: true, done: Promise.resolve() };
      loop.done = (async () => {
        while (this.running) {
          loop.pending = false;
          try {
            await this.prepareChannel(id);
          } catch (err) {
            this.log.error({ err, channel: id }, 'preparing inbound events failed (the store did not answer); retrying');
          }
          if (!this.running || loop.pending) continue;
          await idle(this.idleMs, (wake) => (loop.wake = wake));
        }
      })();
      this.loops.set(id, loop);
    }
  }

  get started(): boolean {
    return this.running;
  }

  /** Stops the loops; an event being fetched is left unprepared and prepared again after a restart. */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    for (const loop of this.loops.values()) loop.wake?.();
    await Promise.all([...this.loops.values()].map((l) => l.done));
    this.loops.clear();
  }
}
