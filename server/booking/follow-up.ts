/**
 * The one step after every event's booking: for every item × location whose numbers may have
 * changed, waiting purchase orders are served, stock alerts are raised or resolved, the new level is
 * announced, and every channel listing the item gets a push (coalesced per item and location).
 */
import { publishedLevel, stockAlertFor, type StockAlertKind } from '../core/ledger';
import { locationLevelView } from '../core/views';
import { reevaluate } from '../purchase-orders/desk';
import type { OutboxInput, Store, StoreOps } from '../store/types';
import type { ChannelRegistry } from '../channels/registry';
import { STOCK_ALERT_KINDS } from './apply';
import type { BookingContext } from './context';
import { deskFor } from './desk';

const ALERT_TEXT: Record<StockAlertKind, { severity: 'warning' | 'critical'; text: (sku: string, loc: string, available: number) => string }> = {
  oversold: { severity: 'critical', text: (s, l, a) => `${s} is oversold at ${l}: ${-a} more sold or reserved than on hand.` },
  out_of_stock: { severity: 'warning', text: (s, l) => `${s} is out of stock at ${l}.` },
  low_stock: { severity: 'warning', text: (s, l, a) => `${s} is running low at ${l}: ${a} available.` },
};

/** Alerts, announcements and outbox rows for every item × location the event touched. */
export async function followUp(ctx: BookingContext): Promise<void> {
  const { tx, now, deps } = ctx;
  const raised = [...ctx.touched.values()].filter((t) => t.raised);
  if (raised.length > 0) {
    // Stock that came back serves the purchase orders waiting for it, first in, first out; the
    // reservations are booked as part of the same event.
    await reevaluate(deskFor(ctx), new Set(raised.map((t) => t.sku)));
  }
  const listings = new Map<string, Set<string>>();
  const pushes: OutboxInput[] = [];
  for (const { sku, location } of ctx.touched.values()) {
    const found = await tx.ledger.itemAt(sku, location);
    const level = found.level ?? { onHand: 0, reserved: 0 };
    await stockAlerts(ctx, sku, location, level, found.item?.lowStockThreshold ?? deps.config.defaultLowStockThreshold);
    const view = locationLevelView(location, level, deps.config.channels);
    await deps.announcer.announce(tx, { topic: 'level.changed', coalesceKey: `level:${sku}:${location}`, payload: { sku, ...view, at: now } }, now);
    if (!listings.has(sku)) listings.set(sku, await listedOn(tx, sku));
    pushes.push(...pushesFor(deps.channels, listings.get(sku)!, sku, location, level, found.item?.listingHold ?? null));
  }
  await tx.outbox.enqueueAll(pushes, now);
}

/** Raises the stock alert the level calls for (oversold, out of stock, low), and resolves the others. */
async function stockAlerts(ctx: BookingContext, sku: string, location: string, level: { onHand: number; reserved: number }, threshold: number | null): Promise<void> {
  const { tx, now } = ctx;
  const kind = stockAlertFor(level, threshold);
  await tx.alerts.resolve(sku, location, STOCK_ALERT_KINDS.filter((k) => k !== kind), now);
  if (!kind) return;
  const view = locationLevelView(location, level, []);
  let message = ALERT_TEXT[kind].text(sku, location, view.available);
  if (kind === 'oversold') message += await ordersInvolved(ctx, sku, location);
  await ctx.deps.announcer.raise(tx, { kind, severity: ALERT_TEXT[kind].severity, sku, locationId: location, message }, now);
}

/** For an oversold alert: the latest sales of the item at that location, with their channel and order. */
async function ordersInvolved(ctx: BookingContext, sku: string, location: string): Promise<string> {
  const recent = (await ctx.tx.ledger.listMovements(sku, { limit: 20 })).filter((m) => m.locationId === location && m.reason === 'sale').slice(0, 5);
  if (recent.length === 0) return '';
  const names = new Map(ctx.deps.config.channels.map((c) => [c.id, c.name]));
  const list = recent.map((m) => `${m.externalRef ? `order ${m.externalRef}` : `movement ${m.id}`} (${m.channelId ? (names.get(m.channelId) ?? m.channelId) : m.source}, ${-m.quantity} at ${m.occurredAt})`);
  return ` Latest sales: ${list.join('; ')}.`;
}

/** The channels that list the item. */
export async function listedOn(tx: StoreOps, sku: string): Promise<Set<string>> {
  return new Set((await tx.listings.allForSku(sku)).map((l) => l.channelId));
}

/** One `level.push` per connected channel that lists the item (`listedOn`) at this location, coalesced per item and location. */
export function pushesFor(channels: ChannelRegistry | null, listedOn: Set<string>, sku: string, location: string, level: { onHand: number; reserved: number }, hold: 'hide' | 'keep_listed' | null): OutboxInput[] {
  const out: OutboxInput[] = [];
  for (const ch of channels?.all() ?? []) {
    if (!Object.hasOwn(ch.config.locations, location) || !listedOn.has(ch.config.id)) continue;
    const published = publishedLevel(level, { buffer: ch.config.buffer, cap: ch.config.cap });
    // `hold`: a late supplier order decides what the listing does at zero (docs/orders.md).
    out.push({ sink: `channel:${ch.config.id}`, topic: 'level.push', coalesceKey: `push:${ch.config.id}:${sku}:${location}`, payload: { sku, location, level: published, ...(hold ? { hold } : {}) } });
  }
  return out;
}

/**
 * Queues a push of the current published level of every listed item, on every channel, at every
 * mapped location: after catalog discovery, or when a channel may have drifted. Returns how many.
 */
export async function pushEveryListing(store: Store, channels: ChannelRegistry | null, now: () => string): Promise<number> {
  let queued = 0;
  for (const ch of channels?.all() ?? []) {
    const listings = await store.listings.list(ch.config.id);
    for (let i = 0; i < listings.length; i += 200) {
      const slice = listings.slice(i, i + 200);
      await store.transaction(async (tx) => {
        const levels = await tx.ledger.levelsFor(slice.map((l) => l.sku));
        const pushes: OutboxInput[] = [];
        for (const listing of slice) {
          const hold = (await tx.items.get(listing.sku))?.listingHold ?? null;
          for (const location of Object.keys(ch.config.locations)) {
            const level = levels.find((l) => l.sku === listing.sku && l.locationId === location) ?? { onHand: 0, reserved: 0 };
            pushes.push(...pushesFor(channels, new Set([ch.config.id]), listing.sku, location, level, hold));
          }
        }
        await tx.outbox.enqueueAll(pushes, now());
        queued += pushes.length;
      });
    }
  }
  return queued;
}
