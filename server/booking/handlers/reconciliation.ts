/**
 * Reconciliation read a level nobody explains (docs/reconcile.md): treated as if the channel had
 * reported it, through the same attribution rules.
 */
import { rejected, type Outcome } from '../../core/booking';
import { isBoundedQuantity } from '../../shared/quantity';
import type { InboxEntry } from '../../store/types';
import type { BookingContext } from '../context';
import { beyondBound } from './channel-event';
import { observeLevel } from './levels';


export async function bookReconciledLevel(ctx: BookingContext, entry: InboxEntry): Promise<Outcome> {
  const b = JSON.parse(entry.body) as { channelId: string; sku: string; location: string; level: number };
  const ch = ctx.deps.channels?.get(b.channelId);
  if (!ch) return rejected(`Channel "${b.channelId}" is no longer configured.`, b.sku);
  if (!isBoundedQuantity(b.level)) return rejected(beyondBound(ch.config.name, 'a level', b.sku, b.level), b.sku);
  const r = await observeLevel(ctx, ch.config, b.sku, b.location, b.level, null);
  return { status: 'processed', results: [r] };
}
