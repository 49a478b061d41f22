/**
 * The attribution window of a channel level discrepancy ended (docs/attribution.md): the channel is
 * read back, and what nobody explained is booked as a change made on the channel, or cleared, or
 * our number is sent again when our update crossed a sale.
 */
import { changedOnChannelSince, landedLevel, stateOf, strayLevels, windowEnded } from '../../core/attribution';
import type { ConnectedChannel } from '../../channels/registry';
import { ATTRIBUTION_WINDOW, statusOf, type Outcome } from '../../core/booking';
import { MAX_QUANTITY_TEXT, isBoundedQuantity } from '../../shared/quantity';
import type { ChannelLevelRecord, InboxEntry, Store } from '../../store/types';
import { ownValue } from '../../core/keys';
import { applyCommand } from '../apply';
import { attributionWindowMs, type BookingContext, type BookingDeps } from '../context';
import { followUp, listedOn, pushesFor } from '../follow-up';


interface WindowEvent {
  channelId: string;
  sku: string;
  location: string;
  pendingSince: string;
}

/**
 * Turns channel level discrepancies whose attribution window has ended into engine events, booked
 * in inbox order like everything else (deduped: one per discrepancy). Returns how many were added.
 */
export async function openEndedWindows(store: Store, deps: BookingDeps): Promise<number> {
  if (!deps.channels) return 0;
  const due = await store.channelLevels.discrepancies(new Date(deps.clock().getTime() - attributionWindowMs(deps.config)).toISOString(), 100);
  let added = 0;
  for (const d of due) {
    const body: WindowEvent = { channelId: d.channelId, sku: d.sku, location: d.locationId, pendingSince: d.pendingSince! };
    const stored = await store.inbox.insert(
      { dedupeKey: `engine:window:${d.channelId}:${d.sku}:${d.locationId}:${d.pendingSince}`, source: 'engine', kind: ATTRIBUTION_WINDOW, headers: {}, body: JSON.stringify(body) },
      deps.clock().toISOString(),
    );
    if (stored) added++;
  }
  return added;
}

export async function bookWindowEnd(ctx: BookingContext, entry: InboxEntry): Promise<Outcome> {
  const { tx } = ctx;
  const w = JSON.parse(entry.body) as WindowEvent;
  const ch = ctx.deps.channels?.get(w.channelId);
  const record = await tx.channelLevels.get(w.channelId, w.sku, w.location);
  if (!ch || !record || record.pendingSince !== w.pendingSince) {
    return { status: 'processed', results: [{ sku: w.sku, location: w.location, result: 'unchanged', message: 'Explained before its window ended; nothing to book.' }] };
  }
  const { read, readNote } = await readBack(ctx, ch, w, record);
  // After the read, which may take a while: what is written below happened now.
  const now = ctx.deps.clock().toISOString();
  // A push whose answer was lost (a crash, a timeout) and that landed: the channel shows our number.
  const landed = landedLevel(record);
  const actual = read ?? record.observed;
  if (landed !== null && actual === landed) {
    await tx.channelLevels.update(w.channelId, w.sku, w.location, { expected: landed, observed: actual, pendingSince: null, pendingUp: 0, pendingDown: 0, pushed: record.pushing, pushedAt: now, pushedWrote: true, pushing: null, pushingBookedDelta: null });
    return { status: 'processed', results: [{ sku: w.sku, location: w.location, result: 'unchanged', message: `${ch.config.name} shows ${actual}, the number we sent it (its answer never reached us); nothing to book.` }] };
  }
  // An earlier push of ours whose answer never came, applied by the platform after a later one: the
  // channel shows our old number. Not a change made there: nothing is booked, our number goes again.
  if (actual !== null && strayLevels(record, now).includes(actual)) {
    await tx.channelLevels.update(w.channelId, w.sku, w.location, { expected: actual, observed: actual, pendingSince: null, pendingUp: 0, pendingDown: 0, stray: null, strayBookedDelta: null, strayAt: null });
    await sendOurNumberAgain(ctx, w, now);
    return { status: 'processed', results: [{ sku: w.sku, location: w.location, result: 'unchanged', message: `${ch.config.name} shows ${actual}, a number we sent it earlier whose answer never came, applied after a later update of ours; nothing to book, our current number is sent again.` }] };
  }
  const before = stateOf(record);
  const { book, repush, state } = windowEnded(before, read, now, (await changedSincePush(ctx, ch, w, record)) ? null : record.pushed);
  await tx.channelLevels.update(w.channelId, w.sku, w.location, { expected: state.expected, observed: state.observed, pendingSince: state.pendingSince, pendingUp: state.pendingUp, pendingDown: state.pendingDown, driftDown: state.driftDown, driftUp: state.driftUp, driftThrough: state.driftThrough });
  if (repush) {
    await sendOurNumberAgain(ctx, w, now);
    return {
      status: 'processed',
      results: [{ sku: w.sku, location: w.location, result: 'unchanged', message: `${ch.config.name} still shows ${state.observed}, the number we last sent it, although sales were booked since (our update crossed one of them); our current number is sent again.` }],
    };
  }
  if (book === null && state.driftUp > before.driftUp) {
    const message = `${ch.config.name} went down by ${before.driftDown - state.driftDown} and up by ${state.driftUp - before.driftUp} and shows ${state.observed}, as expected: nothing to book now; kept as changes made there, so that the order of a sale among them, when it comes, is not counted twice.`;
    return { status: 'processed', results: [{ sku: w.sku, location: w.location, result: 'unchanged', message }] };
  }
  if (book === null) {
    return { status: 'processed', results: [{ sku: w.sku, location: w.location, result: 'unchanged', message: `${ch.config.name} shows ${state.observed ?? 'no level'}, as expected after all${readNote}; nothing to book.` }] };
  }
  const r = await applyCommand(ctx, {
    type: 'adjust',
    key: `drift:${w.channelId}:${w.sku}:${w.location}:${w.pendingSince}`,
    sku: w.sku,
    location: w.location,
    quantity: book,
    reason: 'adjustment',
    source: 'channel',
    actor: null,
    note: `${ch.config.name} shows ${state.expected} where ${before.expected} was expected, and no order or refund explains it: booked as a change made on ${ch.config.name} (a count or an edit there)${readNote}.`,
    occurredAt: now,
    channelId: w.channelId,
  });
  await followUp(ctx);
  return { status: statusOf([r]), results: [r] };
}

/** Queues the hub's current level for every channel listing the item here: our number, sent again. */
async function sendOurNumberAgain(ctx: BookingContext, w: WindowEvent, now: string): Promise<void> {
  const { item, level } = await ctx.tx.ledger.itemAt(w.sku, w.location);
  await ctx.tx.outbox.enqueueAll(pushesFor(ctx.deps.channels, await listedOn(ctx.tx, w.sku), w.sku, w.location, level ?? { onHand: 0, reserved: 0 }, item?.listingHold ?? null), now);
}

/** The channel's level read back now; null (with the reason in `readNote`) when it cannot be read or is beyond the bound. */
async function readBack(ctx: BookingContext, ch: ConnectedChannel, w: WindowEvent, record: ChannelLevelRecord): Promise<{ read: number | null; readNote: string }> {
  // A level that came with a basis was reported change by change, in order, as it happened (a
  // stream of changes, or a push that found it): not an echo that a dropped later one could have made
  // stale. A read would only add a figure in which two later changes can cancel out (a sale not yet
  // booked and the return this window is about: simulation seed 219 over
  // shopify,salesforce-commerce-cloud), so the report stands; the later changes come as reports too.
  if (record.basis !== null) return { read: null, readNote: '' };
  const listing = await ctx.tx.listings.forSku(ch.config.id, w.sku);
  const platformLocation = ownValue(ch.config.locations, w.location);
  if (!listing || platformLocation === undefined) return { read: null, readNote: '' };
  try {
    const ref = { productId: listing.productId, variantId: listing.variantId, ...(listing.inventoryItemId ? { inventoryItemId: listing.inventoryItemId } : {}) };
    const got = await ch.connector.read([{ sku: w.sku, ref, locationId: platformLocation }], AbortSignal.timeout(10_000));
    const read = got.find((g) => g.sku === w.sku && g.locationId === platformLocation)?.available ?? null;
    if (read !== null && !isBoundedQuantity(read)) {
      return { read: null, readNote: ` (${ch.config.name} read back ${read}, beyond the ${MAX_QUANTITY_TEXT} units the hub keeps; the level it reported was used)` };
    }
    return { read, readNote: '' };
  } catch (err) {
    return { read: null, readNote: ` (${ch.config.name} could not be read: ${(err as Error).message}; the level it reported was used)` };
  }
}

/**
 * Whether the channel may have changed on its own since our last push. Still showing our last
 * number means our update crossed sales made before it landed, unless the channel changed on its
 * own since (a count there plus a sale can come back to that number). Only an absolute write can
 * land over a sale: a compare-and-set that finds the channel moved is refused, a delta composes with
 * the sale, and a push that found our number already there wrote nothing. Otherwise our number
 * showing after sales were booked means something else raised it by as much (a count typed there and
 * a sale before our compare-and-set push: simulation seed 20205; a late order of a sale the store's
 * level already held when our push found it there: seed 21585), and that change is booked.
 */
async function changedSincePush(ctx: BookingContext, ch: ConnectedChannel, w: WindowEvent, record: ChannelLevelRecord): Promise<boolean> {
  // A push sent without an expected level (first, or after a lost answer) is an absolute set whatever
  // the platform. With an expected level, a connector that can write a delta or a compare-and-set
  // writes that (connectors/types.ts, ConnectorCapabilities.push); only one that cannot writes
  // absolutely, and only then can its write have crossed a sale. Squarespace's delta composed with
  // a return the owner put back, and its level then showing our last target was not our write
  // landing over a sale (simulation seed 63471 over every web store).
  const absoluteOnly = !ch.connector.capabilities.push.some((m) => m === 'idempotent_delta' || m === 'compare_and_set');
  const canCross = (absoluteOnly || record.pushedBlind) && record.pushedWrote;
  return !canCross || (record.pushedAt !== null && changedOnChannelSince(await ctx.tx.ledger.listMovements(w.sku, { limit: 50 }), w.channelId, w.location, record.pushedAt));
}
