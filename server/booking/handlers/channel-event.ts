/**
 * A verified channel event (webhook or poll), prepared before (server/inbox/prepare.ts): its facts
 * are checked, resolved to our SKUs and locations, booked, compared with the levels the channel
 * should show, and written into the transaction log (docs/orders.md).
 */
import { MAX_PLATFORM_ID, rejected, statusOf, type CommandResult, type Outcome } from '../../core/booking';
import { planFacts } from '../../core/channel-plan';
import { resolveLines, type LineToResolve } from '../../channels/registry';
import type { ChannelConfig } from '../../config';
import type { ChannelFact } from '../../connectors/types';
import { MAX_QUANTITY_TEXT, isBoundedQuantity } from '../../shared/quantity';
import { readPrepared } from '../../inbox/prepare';
import { guardReturns, recordOrderFacts } from '../../sales-log/transaction-log';
import type { InboxEntry } from '../../store/types';
import { applyCommand } from '../apply';
import { ordersConfig, type BookingContext } from '../context';
import { followUp } from '../follow-up';
import { attributeBooked, observeLevel } from './levels';

/** The alert kind each flag of the transaction log raises. */
const ORDER_FLAG_ALERT: Record<string, string> = {
  currency_not_accepted: 'order_currency',
  refund_exceeds_order: 'refund_exceeds_order',
  refund_currency_differs: 'refund_exceeds_order',
  return_exceeds_sold: 'return_exceeds_sold',
};

export async function bookChannelEvent(ctx: BookingContext, entry: InboxEntry): Promise<Outcome> {
  const channelId = entry.headers['x-stockrelay-channel'] ?? '';
  const ch = ctx.deps.channels?.get(channelId);
  if (!ch) return rejected(`Channel "${channelId}" is no longer configured; nothing was booked.`);
  // Booking only books: the facts were found before, by the prepare stage.
  const prepared = readPrepared(entry);
  if (!prepared) throw new Error(`Inbound event ${entry.id} was claimed before it was prepared.`);
  if ('rejected' in prepared) return rejected(prepared.rejected);
  // A quantity or level beyond the bound, or an id too long to keep, is refused with its reason, before anything is booked or logged.
  const beyond = factBeyondBound(prepared.facts, ch.config.name);
  if (beyond) return rejected(beyond.message, beyond.sku);
  const longId = idTooLong(prepared.facts, ch.config.name);
  if (longId) return rejected(longId);
  // A refund that would put back more than the order sold is cut to what was sold (docs/orders.md).
  const guarded = await guardReturns(ctx.tx, ch.config.id, prepared.facts);
  const results = await bookFacts(ctx, ch.config, guarded.facts);
  results.push(...(await logOrders(ctx, ch.config, guarded.facts, guarded.notes)));
  await followUp(ctx);
  return { status: statusOf(results), results };
}

/** Resolves the facts' lines and books what they say, line by line. */
async function bookFacts(ctx: BookingContext, ch: ChannelConfig, facts: ChannelFact[]): Promise<CommandResult[]> {
  const lines: LineToResolve[] = [];
  for (const f of facts) {
    if (f.type === 'sale') lines.push(...f.lines.map((l) => ({ ...l, sold: true })));
    else if (f.type === 'refund' || f.type === 'cancellation') lines.push(...f.lines);
    else if (f.type === 'level_observed') lines.push({ sku: f.sku, ref: f.ref, locationId: f.locationId });
  }
  const resolve = await resolveLines(ctx.tx, ch, lines);
  const results: CommandResult[] = [];
  for (const p of planFacts(facts, { channelId: ch.id, channelName: ch.name, resolve })) {
    if (p.kind === 'command') {
      const r = await applyCommand(ctx, p.command);
      results.push(r);
      if (r.result === 'booked' && p.command.type === 'adjust' && r.location) results.push(...(await attributeBooked(ctx, ch, p.command, r.location)));
    } else if (p.kind === 'unresolved') results.push({ sku: p.line.sku ?? '', result: 'unmatched', message: `${ch.name} reported ${p.what}. Map it (catalog discovery), then retry this event.` });
    else if (p.kind === 'not_booked') results.push({ sku: p.sku ?? '', result: 'unchanged', message: p.message });
    else if (p.sku && p.location) results.push(await observeLevel(ctx, ch, p.sku, p.location, p.available, p.occurredAt, p.basis));
    else results.push({ sku: p.sku ?? '', result: 'unchanged', message: `${ch.name} reported a level for a listing that is not mapped to our catalog; ignored.` });
  }
  return results;
}

/** The transaction log: the order's money and states, linked to what was just booked; its flags raise alerts. */
async function logOrders(ctx: BookingContext, ch: ChannelConfig, facts: ChannelFact[], notes: Parameters<typeof recordOrderFacts>[3]): Promise<CommandResult[]> {
  const { tx, deps } = ctx;
  const logged = await recordOrderFacts(tx, { channelId: ch.id, channelName: ch.name, config: ordersConfig(deps.config).orders, eventId: ctx.eventId, now: ctx.now, booked: ctx.booked }, facts, notes);
  const results: CommandResult[] = [];
  for (const n of logged.notes) {
    results.push({ sku: '', result: 'unchanged', message: n.message });
    if (n.flag) await deps.announcer.raise(tx, { kind: ORDER_FLAG_ALERT[n.flag] ?? 'order_flagged', severity: 'warning', sku: null, locationId: null, channelId: ch.id, message: n.message }, ctx.now);
  }
  for (const e of logged.created) await deps.announcer.announce(tx, { topic: 'order.recorded', payload: { orderEventId: e.id, orderId: e.orderId } }, ctx.now);
  return results;
}

/** A number a channel reported beyond the bound on a quantity (docs/ledger.md), as a sentence. */
export const beyondBound = (channel: string, what: string, sku: string | null, n: unknown) =>
  `${channel} reported ${what}${sku ? ` for ${sku}` : ''} of ${String(n)}, which is not a whole number of units within the ${MAX_QUANTITY_TEXT} the hub keeps of one item at one location. Nothing of this event was booked; check the item on ${channel}.`;

/** The order lines a fact carries (its own and its order's). */
function linesOf(f: ChannelFact): { sku: string | null; quantity: number; lineId: string }[] {
  const lines: { sku: string | null; quantity: number; lineId: string }[] = [];
  if (f.type === 'sale' || f.type === 'refund' || f.type === 'cancellation') lines.push(...f.lines);
  if ((f.type === 'sale' || f.type === 'cancellation' || f.type === 'order_updated') && f.order) lines.push(...f.order.lines);
  return lines;
}

/** The first quantity or level in a channel's facts that is not a whole number within the bound; null when all are. */
function factBeyondBound(facts: ChannelFact[], channel: string): { sku: string; message: string } | null {
  for (const f of facts) {
    if (f.type === 'level_observed') {
      const ref = f.ref.inventoryItemId ?? f.ref.variantId ?? f.ref.productId;
      if (!isBoundedQuantity(f.available)) return { sku: f.sku ?? '', message: beyondBound(channel, 'a level', f.sku ?? (ref ? `its item ${ref}` : null), f.available) };
      continue;
    }
    const bad = linesOf(f).find((l) => !isBoundedQuantity(l.quantity));
    if (bad) return { sku: bad.sku ?? '', message: beyondBound(channel, `a ${f.type === 'order_updated' ? 'sale' : f.type} line`, bad.sku, bad.quantity) };
  }
  return null;
}

function idTooLong(facts: ChannelFact[], channel: string): string | null {
  const what = (kind: string, id: string) => `${channel} sent ${kind} ${JSON.stringify(id.slice(0, 40))}… of ${id.length} characters; the hub keeps platform ids of up to ${MAX_PLATFORM_ID}. Nothing of this event was booked.`;
  for (const f of facts) {
    const ids: [string, unknown][] = [['an order id', (f as { orderId?: unknown }).orderId], ['a refund id', (f as { refundId?: unknown }).refundId]];
    for (const l of linesOf(f)) ids.push(['a line id', l.lineId]);
    for (const [kind, id] of ids) if (typeof id === 'string' && id.length > MAX_PLATFORM_ID) return what(kind, id);
  }
  return null;
}
