/**
 * Delivers `level.push` outbox rows to a channel through its connector: the published level for one
 * item at one of our locations. Records what was pushed, hides at zero and relists on restock when
 * the channel's policy says so. (Per-channel batching and rate limiting build on this in the engine.)
 */
import { DeliveryError, type Sink } from '../outbox/dispatcher';
import type { OutboxEntry, Store } from '../store/types';
import { ConnectorError, type PushTarget } from '../connectors/types';
import type { ConnectedChannel } from './registry';

export interface LevelPush {
  sku: string;
  location: string;
  level: number;
}

export class ChannelSink implements Sink {
  readonly id: string;

  constructor(
    private readonly channel: ConnectedChannel,
    private readonly store: Store,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.id = `channel:${channel.config.id}`;
  }

  async deliver(entry: OutboxEntry, signal: AbortSignal): Promise<void> {
    const { config, connector } = this.channel;
    const push = entry.payload as LevelPush;
    const platformLocation = config.locations[push.location];
    const listing = await this.store.listingForSku(config.id, push.sku);
    // Nothing to push: the channel does not list this SKU (discovery reports it) or this location.
    if (!listing || platformLocation === undefined) return;

    const known = await this.store.getChannelLevel(config.id, push.sku, push.location);
    const expected = latest(known);
    const target: PushTarget = {
      sku: push.sku,
      ref: { productId: listing.productId, variantId: listing.variantId, ...(listing.inventoryItemId ? { inventoryItemId: listing.inventoryItemId } : {}) },
      locationId: platformLocation,
      level: push.level,
      expected,
      idempotencyKey: `stockrelay-${config.id}-${entry.id}-${expected ?? 'x'}`,
    };
    let outcome;
    try {
      [outcome] = await connector.push([target], signal);
    } catch (err) {
      if (err instanceof ConnectorError) throw new DeliveryError(`${config.name}: ${err.message}`, err.retryAfterMs, !err.retryable);
      throw err;
    }
    const now = this.clock().toISOString();
    if (!outcome) throw new DeliveryError(`${config.name} gave no answer for ${push.sku}.`);
    if (outcome.status === 'stale') {
      if (outcome.observed !== null) await this.store.recordChannelLevel(config.id, push.sku, push.location, 'observed', outcome.observed, now);
      throw new DeliveryError(`${config.name} changed ${push.sku} since we last read it (now ${outcome.observed ?? 'unknown'}); pushing again with the fresh number.`);
    }
    if (outcome.status === 'failed') throw new DeliveryError(`${config.name} refused ${push.sku}: ${outcome.message}`, null, true);
    await this.store.recordChannelLevel(config.id, push.sku, push.location, 'pushed', outcome.level, now);

    const caps = connector.capabilities.hideRelist.supported;
    if (caps && config.hideAtZero && push.level === 0 && !listing.hidden) {
      await this.wrap(() => connector.hide(target.ref, signal));
      await this.store.setListingHidden(config.id, push.sku, true, now);
    } else if (caps && config.relistOnRestock && push.level > 0 && listing.hidden) {
      await this.wrap(() => connector.relist(target.ref, signal));
      await this.store.setListingHidden(config.id, push.sku, false, now);
    }
  }

  private async wrap(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (err instanceof ConnectorError) throw new DeliveryError(`${this.channel.config.name}: ${err.message}`, err.retryAfterMs, !err.retryable);
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
