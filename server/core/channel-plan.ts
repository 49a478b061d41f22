/**
 * Pure: what booking a channel's facts means. A sale line becomes a `sale` movement, a refund line
 * that was restocked a `return`, a cancelled line that was restocked a `return`; each keyed by the
 * channel, the order (or refund) and the platform's line id, so the same sale delivered twice, or by
 * two different webhooks carrying the same order, is booked once. Levels a channel reports are not
 * booked here: they are recorded as observations (the engine attributes them, docs/connectors.md).
 */
import type { BookingCommand } from './relay';
import type { ChannelFact, FactLine } from './facts';
import { boundedKey } from './keys';

/** The longest `basis` a connector may hand the hub to keep (connectors/types.ts, PushTarget.basis). */
export const MAX_BASIS = 200;

/** A basis the hub keeps: a non-empty string of at most MAX_BASIS characters; anything else is none. */
export function usableBasis(v: unknown): string | null {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_BASIS ? v : null;
}

/** A fact line whose SKU and location the hub has resolved (null when it could not). */
export interface ResolvedLine {
  sku: string | null;
  location: string | null;
}

export type PlannedFact =
  | { kind: 'command'; command: BookingCommand }
  | { kind: 'unresolved'; what: string; line: FactLine }
  | { kind: 'not_booked'; sku: string | null; message: string }
  | { kind: 'observed'; sku: string | null; location: string | null; available: number; occurredAt: string | null; basis: string | null; line: Partial<FactLine> };

export interface PlanContext {
  channelId: string;
  channelName: string;
  resolve(line: Pick<FactLine, 'sku' | 'ref' | 'locationId'> & { quantity?: number; sold?: boolean }): ResolvedLine;
}

/**
 * The booking keys of a channel's lines: the ledger dedupes on them, the transaction log links by them.
 * The platform chooses the ids, so a key too long for the ledger is hashed, here and when booked alike.
 */
export const saleKey = (channelId: string, orderId: string, lineId: string) => boundedKey(`sale:${channelId}:${orderId}:${lineId}`);
export const refundKey = (channelId: string, refundId: string, lineId: string) => boundedKey(`refund:${channelId}:${refundId}:${lineId}`);
export const cancelKey = (channelId: string, orderId: string, lineId: string) => boundedKey(`cancel:${channelId}:${orderId}:${lineId}`);

export function planFacts(facts: ChannelFact[], ctx: PlanContext): PlannedFact[] {
  const out: PlannedFact[] = [];
  const line = (l: FactLine, key: string, quantity: number, reason: 'sale' | 'return', ref: string, occurredAt: string, note: string) => {
    const r = ctx.resolve(reason === 'sale' ? { ...l, sold: true } : l);
    if (!r.sku) return out.push({ kind: 'unresolved', what: `a line (platform id ${l.ref.variantId ?? l.ref.productId ?? l.lineId}${l.sku ? `, SKU "${l.sku}"` : ''}) that matches no item of the catalog`, line: l });
    if (!r.location) return out.push({ kind: 'unresolved', what: `a line for ${r.sku} at platform location "${l.locationId ?? '(none)'}", which is not mapped to one of our locations`, line: l });
    out.push({
      kind: 'command',
      command: { type: 'adjust', key, sku: r.sku, location: r.location, quantity, reason, source: 'channel', actor: null, note, occurredAt, channelId: ctx.channelId, externalRef: ref },
    });
  };
  for (const f of facts) {
    switch (f.type) {
      case 'sale':
        for (const l of f.lines) {
          if (l.quantity <= 0) continue;
          line(l, saleKey(ctx.channelId, f.orderId, l.lineId), -l.quantity, 'sale', f.orderId, f.occurredAt, `Sold on ${ctx.channelName} (order ${f.orderId}).`);
        }
        break;
      case 'refund':
        for (const l of f.lines) {
          if (l.quantity <= 0) continue;
          if (!l.restock) {
            out.push({ kind: 'not_booked', sku: ctx.resolve(l).sku ?? l.sku, message: `Refund ${f.refundId} on ${ctx.channelName} (order ${f.orderId}) without restock: money only, no stock booked.` });
            continue;
          }
          line(l, refundKey(ctx.channelId, f.refundId, l.lineId), l.quantity, 'return', f.refundId, f.occurredAt, `Returned on ${ctx.channelName} (refund ${f.refundId}, order ${f.orderId}).`);
        }
        break;
      case 'cancellation':
        for (const l of f.lines) {
          if (l.quantity <= 0) continue;
          if (!l.restock) {
            out.push({ kind: 'not_booked', sku: ctx.resolve(l).sku ?? l.sku, message: `Order ${f.orderId} cancelled on ${ctx.channelName} without restock: no stock booked.` });
            continue;
          }
          line(l, cancelKey(ctx.channelId, f.orderId, l.lineId), l.quantity, 'return', f.orderId, f.occurredAt, `Order ${f.orderId} cancelled on ${ctx.channelName}; goods back in stock.`);
        }
        break;
      case 'level_observed': {
        const r = ctx.resolve({ sku: f.sku, ref: f.ref, locationId: f.locationId });
        out.push({ kind: 'observed', sku: r.sku, location: r.location, available: f.available, occurredAt: f.occurredAt || null, basis: usableBasis(f.basis), line: { sku: f.sku, ref: f.ref, locationId: f.locationId } });
        break;
      }
      case 'listing_changed':
        out.push({ kind: 'not_booked', sku: null, message: `${f.listings.length} listing(s) changed on ${ctx.channelName}; run catalog discovery to update the SKU map.` });
        break;
    }
  }
  return out;
}
