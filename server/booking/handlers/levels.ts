/**
 * Levels a channel shows, against what the hub expects it to show (docs/attribution.md): a report
 * is explained (our push, a sale already booked), adopted, or waits for its attribution window;
 * a sale booked after the channel's own level already moved is not counted twice.
 */
import type { CommandResult } from '../../core/booking';
import { bookedOnChannel, observe, stateOf } from '../../core/attribution';
import type { ChannelConfig } from '../../config';
import type { BookingCommand } from '../../core/relay';
import { applyCommand } from '../apply';
import { attributionWindowMs, type BookingContext } from '../context';

/** A level the channel reports: compared with what we expect it to show. */
export async function observeLevel(ctx: BookingContext, ch: ChannelConfig, sku: string, location: string, available: number, platformAt: string | null, basis: string | null = null): Promise<CommandResult> {
  const { tx, now } = ctx;
  // A report equal to what a push whose answer never came would show is not taken for that push
  // here: it waits like any other, and the window's read decides (simulation seeds 306, 330, 489).
  const { verdict, state } = observe(stateOf(await tx.channelLevels.get(ch.id, sku, location)), available, platformAt, now, basis !== null);
  if (verdict !== 'stale') {
    await tx.channelLevels.update(ch.id, sku, location, { expected: state.expected, observed: state.observed, observedAt: now, observedPlatformAt: state.observedPlatformAt, pendingSince: state.pendingSince, pendingUp: state.pendingUp, pendingDown: state.pendingDown, ...(basis !== null ? { basis } : {}) });
  }
  const message = {
    stale: `${ch.name} reported ${available}, older than a level it reported since; ignored.`,
    adopted: `${ch.name} shows ${available}; taken as its current level.`,
    explained: `${ch.name} shows ${available}, as expected (our own update, or a sale already booked); nothing to do.`,
    unexplained: `${ch.name} shows ${available} where ${state.expected} was expected; waiting up to ${Math.round(attributionWindowMs(ctx.deps.config) / 1000)} s for the order or refund that explains it before booking it as a change made on ${ch.name}.`,
  }[verdict];
  return { sku, location, result: 'unchanged', message };
}

/**
 * A sale or restock from a channel was booked: the channel changed its own count. If that change
 * was already booked as unexplained drift (the order came late), the movement is reversed so stock
 * moves once.
 */
export async function attributeBooked(ctx: BookingContext, ch: ChannelConfig, cmd: Extract<BookingCommand, { type: 'adjust' }>, location: string): Promise<CommandResult[]> {
  const { tx } = ctx;
  const record = await tx.channelLevels.get(ch.id, cmd.sku, location);
  if (!record) return [];
  const { reverse, state } = bookedOnChannel(stateOf(record), cmd.quantity, cmd.occurredAt);
  // A change already booked as drift moved expected then; a new one is counted for the pushes in flight.
  await tx.channelLevels.update(ch.id, cmd.sku, location, { expected: state.expected, pendingSince: state.pendingSince, pendingUp: state.pendingUp, pendingDown: state.pendingDown, driftDown: state.driftDown, driftUp: state.driftUp, ...(reverse ? {} : { bookedDelta: record.bookedDelta + cmd.quantity }) });
  if (!reverse) return [];
  const r = await applyCommand(ctx, {
    type: 'adjust',
    key: `reattributed:${cmd.key}`,
    sku: cmd.sku,
    location,
    quantity: -cmd.quantity,
    reason: 'adjustment',
    source: 'channel',
    actor: null,
    note: `Already counted: ${ch.name} reported this change of its stock before the order arrived, and it was booked then as a change made on ${ch.name}.`,
    occurredAt: cmd.occurredAt,
    channelId: ch.id,
    ...(cmd.externalRef ? { externalRef: cmd.externalRef } : {}),
  });
  return [r];
}
