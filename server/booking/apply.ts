/**
 * One booking command, applied inside the event's transaction: an item added, changed or removed,
 * or a movement (a count, a sale, a restock, a reservation) booked once under its idempotency key.
 * A count typed over a number that changed meanwhile becomes a conflict (docs/conflicts.md).
 */
import type { CommandResult } from '../core/booking';
import { MovementError, type StockAlertKind } from '../core/ledger';
import type { BookingCommand } from '../core/relay';
import type { ItemRecord } from '../store/types';
import { boundedKey } from '../core/keys';
import { touch, touchItem, type BookingContext } from './context';

export const STOCK_ALERT_KINDS: StockAlertKind[] = ['oversold', 'out_of_stock', 'low_stock'];

type ItemCommand = Extract<BookingCommand, { type: 'add_item' | 'archive_item' | 'set_item' }>;
type MovementCommand = Exclude<BookingCommand, ItemCommand>;

export async function applyCommand(ctx: BookingContext, command: BookingCommand): Promise<CommandResult> {
  // A booking key is built from an id someone else chose (a webhook-id, an Idempotency-Key, a
  // platform's order and line ids) and the prefixes and suffixes booking adds: past the ledger's
  // 200 characters it is hashed (server/util.ts), so whatever a door accepted is booked once.
  const cmd: BookingCommand = 'key' in command ? { ...command, key: boundedKey(command.key) } : command;
  if (cmd.type === 'add_item') return addItem(ctx, cmd);
  const item = await ctx.tx.items.get(cmd.sku);
  if (cmd.type === 'archive_item') return archiveItem(ctx, cmd, item);
  if (!item) return { sku: cmd.sku, result: 'unmatched', message: `SKU "${cmd.sku}" is not in the catalog. Add it to the catalog, then retry this event.` };
  if (item.status === 'archived') {
    return { sku: cmd.sku, result: 'rejected', message: `SKU "${cmd.sku}" was removed from the catalog on ${item.archivedAt ?? 'an earlier date'}; nothing was booked.` };
  }
  if (cmd.type === 'set_item') return setItem(ctx, cmd, item);
  return bookMovement(ctx, cmd);
}

async function addItem(ctx: BookingContext, cmd: Extract<BookingCommand, { type: 'add_item' }>): Promise<CommandResult> {
  const before = await ctx.tx.items.get(cmd.sku);
  await ctx.tx.items.upsert({ sku: cmd.sku, title: cmd.title, lowStockThreshold: cmd.lowStockThreshold }, ctx.now);
  await touchItem(ctx, cmd.sku);
  return { sku: cmd.sku, result: 'updated', message: before?.status === 'archived' ? 'Item back in the catalog.' : before ? 'Item details updated.' : 'Item added to the catalog.' };
}

async function archiveItem(ctx: BookingContext, cmd: Extract<BookingCommand, { type: 'archive_item' }>, item: ItemRecord | null): Promise<CommandResult> {
  if (!item) return { sku: cmd.sku, result: 'unchanged', message: 'No such item in the catalog; nothing to remove.' };
  if (item.status === 'archived') return { sku: cmd.sku, result: 'unchanged', message: 'Item was already removed.' };
  await ctx.tx.items.archive(cmd.sku, ctx.now);
  for (const l of await ctx.tx.ledger.levelsFor([cmd.sku])) await ctx.tx.alerts.resolve(cmd.sku, l.locationId, STOCK_ALERT_KINDS, ctx.now);
  return { sku: cmd.sku, result: 'updated', message: 'Item removed from the catalog; its history is kept.' };
}

async function setItem(ctx: BookingContext, cmd: Extract<BookingCommand, { type: 'set_item' }>, item: ItemRecord): Promise<CommandResult> {
  // Setting what is already there changes nothing and writes nothing back (an Airtable automation
  // sends the title with every change of a record; its echo must end here).
  const same = (!('title' in cmd) || cmd.title === item.title) && (!('lowStockThreshold' in cmd) || cmd.lowStockThreshold === item.lowStockThreshold);
  if (same) return { sku: cmd.sku, result: 'unchanged', message: 'Item details were already so.' };
  await ctx.tx.items.upsert({ sku: cmd.sku, ...('title' in cmd ? { title: cmd.title } : {}), ...('lowStockThreshold' in cmd ? { lowStockThreshold: cmd.lowStockThreshold } : {}) }, ctx.now);
  await touchItem(ctx, cmd.sku);
  return { sku: cmd.sku, result: 'updated', message: 'Item details updated.' };
}

async function bookMovement(ctx: BookingContext, cmd: MovementCommand): Promise<CommandResult> {
  const { tx } = ctx;
  const location = cmd.location ?? ctx.deps.config.defaultLocation;
  if (!(await tx.locations.get(location))) {
    return { sku: cmd.sku, location, result: 'unmatched', message: `Location "${location}" is not known to the hub. Declare it in the config file, then retry this event.` };
  }
  // A count is checked first: booked again, it must not become a conflict. Any other movement's
  // booking finds its own key already booked (one statement fewer on every sale).
  if (cmd.type === 'count') {
    const existing = await tx.ledger.movementByKey(cmd.key);
    if (existing) {
      ctx.booked.set(existing.idempotencyKey, existing);
      return { sku: cmd.sku, location, result: 'duplicate', message: 'Already booked.', movementId: existing.id, quantity: existing.quantity };
    }
  }
  const fromChannel = cmd.type === 'adjust' && cmd.channelId ? { channelId: cmd.channelId, externalRef: cmd.externalRef ?? null } : {};
  const base = { sku: cmd.sku, locationId: location, source: cmd.source, idempotencyKey: cmd.key, occurredAt: cmd.occurredAt, actor: cmd.actor, note: cmd.note, eventId: ctx.eventId, ...fromChannel };
  try {
    let booked;
    if (cmd.type === 'count') {
      const refused = cmd.expectedOnHand !== null ? await countRefused(ctx, cmd, location) : null;
      if (refused) return refused;
      booked = await tx.ledger.bookCount({ ...base, counted: cmd.counted }, ctx.now);
    } else {
      booked = await tx.ledger.book({ ...base, quantity: cmd.quantity, reason: cmd.reason }, ctx.now);
    }
    const m = booked.movement;
    ctx.booked.set(m.idempotencyKey, m);
    if (booked.duplicate) return { sku: cmd.sku, location, result: 'duplicate', message: 'Already booked.', movementId: m.id, quantity: m.quantity };
    // Stock that became available may serve a waiting purchase order (the follow-up); a sale cannot.
    touch(ctx, cmd.sku, location, (m.reason === 'release' && m.quantity < 0) || (m.reason !== 'reservation' && m.reason !== 'release' && m.quantity > 0));
    ctx.deps.metrics.movements.inc({ reason: m.reason });
    return {
      sku: cmd.sku,
      location,
      result: 'booked',
      message: cmd.type === 'count' ? `Counted ${cmd.counted}; booked ${m.quantity >= 0 ? '+' : ''}${m.quantity}.` : `Booked ${cmd.quantity >= 0 ? '+' : ''}${cmd.quantity}.`,
      movementId: m.id,
      quantity: m.quantity,
    };
  } catch (err) {
    if (err instanceof MovementError) return { sku: cmd.sku, location, result: 'rejected', message: err.message };
    throw err;
  }
}

/**
 * A count typed over a number: refused when that edit was a conflict decided since, and recorded as
 * a conflict when the hub's number changed meanwhile; null when it may be booked (docs/conflicts.md).
 */
async function countRefused(ctx: BookingContext, cmd: Extract<BookingCommand, { type: 'count' }>, location: string): Promise<CommandResult | null> {
  const { tx } = ctx;
  // An edit that was a conflict and has been decided since is not booked again.
  const decided = await tx.conflicts.byKey(cmd.key);
  if (decided && decided.status !== 'open') {
    return { sku: cmd.sku, location, result: 'unchanged', conflictId: decided.id, message: `This edit was conflict ${decided.id}, ${decided.status} since; nothing more to book.` };
  }
  const current = (await tx.ledger.getLevel(cmd.sku, location))?.onHand ?? 0;
  if (current === cmd.expectedOnHand) return null;
  const { conflict } = await tx.conflicts.record(
    { key: cmd.key, eventId: ctx.eventId, sku: cmd.sku, locationId: location, sheetShowed: cmd.expectedOnHand!, typed: cmd.counted, hubHad: current, source: cmd.source, actor: cmd.actor, editedAt: cmd.occurredAt },
    ctx.now,
  );
  return {
    sku: cmd.sku,
    location,
    result: 'conflict',
    conflictId: conflict.id,
    message: `The cell showed ${cmd.expectedOnHand} when it was changed to ${cmd.counted}, but the hub has ${current} on hand now (something sold or changed meanwhile). Nothing was overwritten: choose which number is right (conflict ${conflict.id}).`,
  };
}
