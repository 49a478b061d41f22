/**
 * Delivers `level.push` outbox rows to a channel through its connector: the published level for one
 * item at one of our locations. Rows are pushed in batches of up to the platform's `maxBatch`, at the
 * platform's pace (docs/dispatch.md). Records what was pushed, hides at zero and relists on restock
 * when the channel's policy says so.
 */
import crypto from 'node:crypto';
import { DeliveryError, type EntryResult, type Sink } from '../outbox/sink';
import type { Limiter } from '../outbox/rate-limit';
import type { OutboxEntry, Store } from '../store/types';
import { ConnectorError, type PushOutcome, type PushTarget } from '../connectors/types';
import type { ConnectedChannel } from './registry';
import { observe, stateOf } from '../core/attribution';
import { feedSchedule } from '../config/polling';
import { usableBasis } from '../core/channel-plan';

export interface LevelPush {
  sku: string;
  location: string;
  level: number;
  /** Set while a supplier order for the item is late: hide at zero, or keep listed (docs/orders.md). */
  hold?: 'hide' | 'keep_listed';
}

/**
 * A connector error as the dispatcher understands it: pacing (429), a fault of the channel (kept,
 * retried with backoff, counted towards suspension and the alert), or a refusal of this one item (a
 * dead letter of that item). `wholeRequest`: the error failed a request carrying every item of the
 * batch, so it cannot be about one of them; such a failure is always the channel's (docs/dispatch.md).
 */
export function deliveryErrorOf(name: string, err: ConnectorError, wholeRequest = false): DeliveryError {
  const paced = err.retryable && (err.status === 429 || (err.retryAfterMs !== null && err.status !== null && err.status < 500));
  const itemRefused = !wholeRequest && !err.channelFault;
  return new DeliveryError(`${name}: ${err.message}`, err.retryAfterMs, itemRefused, { rateLimited: paced });
}

/**
 * A push sent earlier that never got any answer (a crash, a timeout): it may have landed. A later
 * attempt that the platform answers with "not applied" (an error, stale, refused) says nothing about
 * the earlier one, so its record is put back rather than cleared (simulation seed 20037,
 * docs/attribution.md "A push whose answer was lost").
 */
type Unanswered = { pushing: number | null; pushingBookedDelta: number | null };

/** A row of the batch that goes into the request: `k` is its place in the batch. */
interface PendingPush {
  k: number;
  push: LevelPush;
  target: PushTarget;
  hidden: boolean;
  bookedDelta: number;
  unanswered: Unanswered;
  /** The last push recorded for this row went without an expected level. */
  wasBlind: boolean;
}

/** Eight hex characters that change whenever the channel's last answer or report about a row changes. */
function answeredMark(known: { observedAt: string | null; pushedAt: string | null } | null): string {
  return crypto.createHash('sha256').update(`${known?.observedAt ?? ''}|${known?.pushedAt ?? ''}`).digest('hex').slice(0, 8);
}


/**
 * What a push's answer says its level stands on, to keep (PushTarget.basis); nothing when it says
 * nothing usable, or when the basis the hub holds is no longer the one the push was sent with: a
 * report booked while the push was out is as new as the answer or newer, and putting an older basis
 * back would make the next push wait for a change its feed has already reported (docs/attribution.md).
 */
export function keptBasis(o: PushOutcome, sent: string | null, held: string | null): { basis?: string } {
  const basis = o.status === 'failed' ? null : usableBasis(o.basis);
  return held === sent && basis !== null ? { basis } : {};
}
export class ChannelSink implements Sink {
  readonly id: string;
  readonly maxBatch: number;
  readonly limiter: Limiter;
  readonly channel: { id: string; name: string };

  constructor(
    private readonly connected: ConnectedChannel,
    private readonly store: Store,
    private readonly clock: () => Date = () => new Date(),
    private readonly attributionWindowMs = 15_000,
    /** The hub's polling defaults (`engine.pollEveryMs`), for a push that waits for a feed. */
    private readonly pollDefaults: { everyMs?: number | undefined } = {},
  ) {
    this.id = `channel:${connected.config.id}`;
    this.channel = { id: connected.config.id, name: connected.config.name };
    this.maxBatch = Math.max(1, connected.connector.capabilities.maxBatch);
    // The channel's own limiter, shared with its poller (docs/polling.md): never one of the sink's own.
    this.limiter = connected.limiter;
  }

  async deliver(entry: OutboxEntry, signal: AbortSignal): Promise<void> {
    const [r] = await this.deliverBatch([entry], signal);
    if (r) throw r;
  }

  async deliverBatch(entries: OutboxEntry[], signal: AbortSignal): Promise<EntryResult[]> {
    const results: EntryResult[] = entries.map(() => null);
    const pending: PendingPush[] = [];
    for (const [k, entry] of entries.entries()) {
      const p = await this.prepare(k, entry, signal, results);
      if (p) pending.push(p);
    }
    if (pending.length === 0) return results;
    const outcomes = await this.send(pending, signal);
    await this.settle(pending, outcomes, signal, results);
    return results;
  }

  /**
   * One row before the request: what to send, or null when nothing is (not listed, waiting for an
   * explanation, or already shown); `results[k]` says why a row waits or failed.
   */
  private async prepare(k: number, entry: OutboxEntry, signal: AbortSignal, results: EntryResult[]): Promise<PendingPush | null> {
    const { config } = this.connected;
    const push = entry.payload as LevelPush;
    const platformLocation = config.locations[push.location];
    const listing = await this.store.listings.forSku(config.id, push.sku);
    // Nothing to push: the channel does not list this SKU (discovery reports it) or this location.
    if (!listing || platformLocation === undefined) return null;
    // A newer level for this item was queued while this row waited to be sent (a slow channel, a
    // large backlog): this one is out of date. Sent anyway it would set the channel to a number the
    // hub has moved past, and a compare-and-set would even accept it (docs/attribution.md, "A level
    // overtaken in the queue"). The newer row carries it; this one is set aside as superseded.
    if (entry.coalesceKey !== null) {
      const latest = await this.store.outbox.latestFor(entry.coalesceKey);
      if (latest && latest.id > entry.id) {
        results[k] = new DeliveryError(`A newer level for ${push.sku} is queued for ${config.name}; this older one is not sent.`, 0, false, { benign: true });
        return null;
      }
    }
    const known = await this.store.channelLevels.get(config.id, push.sku, push.location);
    if (known?.pendingSince) {
      // The channel reported a level nobody has explained yet: pushing now would overwrite it
      // before we know whether it was a sale or an edit there (docs/attribution.md).
      // Looked at again shortly: the order that explains it usually comes within a second.
      const left = Math.min(250, Math.max(50, this.attributionWindowMs - (this.clock().getTime() - Date.parse(known.pendingSince))));
      results[k] = new DeliveryError(`${config.name} reported a level for ${push.sku} that is not explained yet; this update waits for it.`, left, false, { benign: true });
      return null;
    }
    // The channel itself confirmed it shows this level already: nothing to send. It is recorded
    // as pushed all the same, as a push the platform answers "already there" is: our number is
    // what the channel shows now, and the number it showed after an earlier push of ours is no
    // longer one it can come back to without changing on its own (docs/attribution.md, "Our
    // number still showing").
    if (known && known.expected === push.level && known.observed === push.level) {
      if (known.pushed !== push.level) await this.store.channelLevels.update(config.id, push.sku, push.location, { pushed: push.level, pushedAt: this.clock().toISOString(), pushedWrote: false });
      // The level stays, but a supplier's delay may still change whether the listing shows.
      if (this.visibilityChange(push, listing.hidden)) {
        const ref = { productId: listing.productId, variantId: listing.variantId, ...(listing.inventoryItemId ? { inventoryItemId: listing.inventoryItemId } : {}) };
        try {
          await this.hideOrRelist(push, ref, listing.hidden, signal);
        } catch (err) {
          results[k] = err as Error;
        }
      }
      return null;
    }
    // After a push left without any answer (a crash, a timeout) the hub does not know whether the
    // channel shows that push or the level before it, so the level is unknown: the connector reads it
    // first or sets it absolutely. A delta computed from the old level would be applied twice if the
    // first one landed (simulation seed 21879: Square's adjustment sent again under a new key).
    const expected = known && known.pushing !== null ? null : (known?.expected ?? latest(known));
    return {
      k,
      push,
      hidden: listing.hidden,
      bookedDelta: known?.bookedDelta ?? 0,
      wasBlind: known?.pushedBlind ?? false,
      unanswered: { pushing: known?.pushing ?? null, pushingBookedDelta: known?.pushingBookedDelta ?? null },
      target: {
        sku: push.sku,
        ref: { productId: listing.productId, variantId: listing.variantId, ...(listing.inventoryItemId ? { inventoryItemId: listing.inventoryItemId } : {}) },
        locationId: platformLocation,
        level: push.level,
        expected,
        // The same while nothing was answered (a retry after a lost answer is the same request);
        // new once the channel answered anything about this row (a stale refusal, an applied push),
        // since a platform returns the first answer again for a key it has seen: a push refused as
        // stale and sent again under its old key would be refused forever (simulation seed 23058).
        idempotencyKey: `stockrelay-${config.id}-${entry.id}-${expected ?? 'x'}-${answeredMark(known)}`,
        basis: known?.basis ?? null,
      },
    };
  }

  /** The request for the whole batch, written down first as possibly landing; a failure of it fails every row. */
  private async send(pending: PendingPush[], signal: AbortSignal): Promise<PushOutcome[]> {
    const { config, connector } = this.connected;
    // Written before the request: if its answer is lost, the level the channel then reports tells
    // whether it landed (docs/attribution.md, "A push whose answer was lost").
    // An earlier attempt still without an answer may yet be applied by the platform, after this one:
    // it is kept as a stray write, so the number it would leave is known for ours (docs/attribution.md,
    // "A write that lands after a later one").
    // One transaction for the whole batch: one commit, not one per row.
    const at = this.clock().toISOString();
    await this.store.transaction(async (tx) => {
      for (const p of pending) {
        const earlier = p.unanswered.pushing === null ? {} : { stray: p.unanswered.pushing, strayBookedDelta: p.unanswered.pushingBookedDelta, strayAt: at };
        await tx.channelLevels.update(config.id, p.push.sku, p.push.location, { pushing: p.push.level, pushingBookedDelta: p.bookedDelta, ...earlier });
      }
    });
    try {
      return await connector.push(
        pending.map((p) => p.target),
        signal,
      );
    } catch (err) {
      // The platform answered with an error: the push did not land. Only a push left without any
      // answer (a timeout, a dropped connection, a crash) stays written down as possibly landed.
      if (err instanceof ConnectorError && err.status !== null) {
        await this.store.transaction(async (tx) => {
          for (const p of pending) await tx.channelLevels.update(config.id, p.push.sku, p.push.location, p.unanswered);
        });
      }
      // The push request failed as a whole (401, 403, a missing route, 5xx, no answer, a refusal
      // naming no item): a channel fault, never a dead letter; the dispatcher keeps the rows.
      if (err instanceof ConnectorError) throw deliveryErrorOf(config.name, err, true);
      throw err;
    }
  }

  /** Each row by the platform's answer for it: recorded as pushed, put back as stale, or refused. */
  private async settle(pending: PendingPush[], outcomes: PushOutcome[], signal: AbortSignal, results: EntryResult[]): Promise<void> {
    const { config } = this.connected;
    const now = this.clock().toISOString();
    for (const p of pending) {
      const outcome = outcomes.find((o) => o.sku === p.target.sku && o.locationId === p.target.locationId);
      if (!outcome) {
        results[p.k] = new DeliveryError(`${config.name} gave no answer for ${p.push.sku}.`);
        continue;
      }
      if (outcome.status === 'stale') {
        // The channel moved since we last knew its level: a sale there whose order has not reached
        // us, or an edit. It is treated as a level the channel reported (docs/attribution.md): if
        // nothing explains it within the window it is booked as a change made there, and only then
        // is our number pushed — never over a sale the channel made.
        if (outcome.observed !== null) {
          const observed = outcome.observed;
          // Read and written in one transaction: a booking of the inbox cannot come in between.
          await this.store.transaction(async (tx) => {
            const known = await tx.channelLevels.get(config.id, p.push.sku, p.push.location);
            const { state } = observe(stateOf(known), observed, null, now);
            await tx.channelLevels.update(config.id, p.push.sku, p.push.location, { expected: state.expected, observed: state.observed, observedAt: now, pendingSince: state.pendingSince, pendingUp: state.pendingUp, pendingDown: state.pendingDown, ...p.unanswered, ...keptBasis(outcome, p.target.basis ?? null, known?.basis ?? null) });
          });
        } else {
          await this.store.channelLevels.update(config.id, p.push.sku, p.push.location, p.unanswered);
        }
        // A change the channel's polled feed has still to report is worth waiting for, not asking about again at once.
        const waitMs = outcome.untilFeed ? feedSchedule(config, outcome.untilFeed, this.pollDefaults).everyMs : 50;
        results[p.k] = new DeliveryError(`${config.name} changed ${p.push.sku} since we last read it (now ${outcome.observed ?? 'unknown'}); this update waits until that change is explained or booked.`, waitMs, false, { benign: true });
        continue;
      }
      if (outcome.status === 'failed') {
        await this.store.channelLevels.update(config.id, p.push.sku, p.push.location, p.unanswered);
        results[p.k] = new DeliveryError(`${config.name} refused ${p.push.sku}: ${outcome.message}`, null, true);
        continue;
      }
      await this.store.channelLevels.record(config.id, p.push.sku, p.push.location, 'pushed', outcome.level, now, p.bookedDelta, outcome.wrote !== false);
      // A push sent without an expected level, that wrote, set the level over whatever the channel
      // showed, sales not yet booked included: kept, so that our number showing after those sales'
      // orders is taken for that write crossing them (docs/attribution.md, "Our number still showing").
      const blind = p.target.expected === null && outcome.wrote !== false;
      if (typeof outcome.basis === 'string' || blind !== p.wasBlind) {
        await this.store.transaction(async (tx) => {
          const known = await tx.channelLevels.get(config.id, p.push.sku, p.push.location);
          await tx.channelLevels.update(config.id, p.push.sku, p.push.location, { ...keptBasis(outcome, p.target.basis ?? null, known?.basis ?? null), pushedBlind: blind });
        });
      }
      try {
        await this.hideOrRelist(p.push, p.target.ref, p.hidden, signal);
      } catch (err) {
        results[p.k] = err as Error;
      }
    }
  }

  /**
   * Whether the listing should be hidden or shown again at this level. The channel's own policy
   * decides, unless a late supplier order holds the item (docs/orders.md): `hide` hides it at zero
   * even where the channel keeps zero-stock listings, `keep_listed` keeps it shown (and shows it
   * again) even where the channel hides at zero.
   */
  private visibilityChange(push: LevelPush, hidden: boolean): 'hide' | 'relist' | null {
    const { config, connector } = this.connected;
    if (!connector.capabilities.hideRelist.supported) return null;
    const hideAtZero = push.hold === 'hide' ? true : push.hold === 'keep_listed' ? false : config.hideAtZero;
    if (push.level === 0 && !hidden && hideAtZero) return 'hide';
    if (!hidden) return null;
    if (push.level === 0) return push.hold === 'keep_listed' ? 'relist' : null;
    // Back in stock: relisted by the channel's policy; a listing only a hold could have hidden comes back too.
    return config.relistOnRestock || !config.hideAtZero ? 'relist' : null;
  }

  private async hideOrRelist(push: LevelPush, ref: PushTarget['ref'], hidden: boolean, signal: AbortSignal): Promise<void> {
    const { config, connector } = this.connected;
    const now = () => this.clock().toISOString();
    const change = this.visibilityChange(push, hidden);
    // A listing is hidden only when it is at zero at every location of the channel we publish to
    // (the platforms hide a whole product, not one location's stock).
    if (change === 'hide' && (await this.zeroEverywhereElse(push))) {
      await this.wrap(() => connector.hide(ref, signal));
      await this.store.listings.setHidden(config.id, push.sku, true, now());
    } else if (change === 'relist') {
      await this.wrap(() => connector.relist(ref, signal));
      await this.store.listings.setHidden(config.id, push.sku, false, now());
    }
  }

  private async zeroEverywhereElse(push: LevelPush): Promise<boolean> {
    const { config } = this.connected;
    for (const ours of Object.keys(config.locations)) {
      if (ours === push.location) continue;
      const level = latest(await this.store.channelLevels.get(config.id, push.sku, ours));
      if (level === null || level > 0) return false;
    }
    return true;
  }

  private async wrap(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof ConnectorError) throw deliveryErrorOf(this.connected.config.name, err);
      throw err;
    }
  }
}

/** The newer of what we pushed and what we saw on the channel. */
function latest(l: { pushed: number | null; pushedAt: string | null; observed: number | null; observedAt: string | null } | null): number | null {
  if (!l) return null;
  if (l.observed === null) return l.pushed;
  if (l.pushed === null) return l.observed;
  return (l.observedAt ?? '') > (l.pushedAt ?? '') ? l.observed : l.pushed;
}
