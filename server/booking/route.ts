/**
 * Which handler books an inbound event: one per kind of event, each in ./handlers/.
 *
 *   channel        a platform's webhook or poll, prepared      → channel-event.ts
 *   engine         an attribution window that ended            → attribution-window.ts
 *   engine         a level reconciliation read                 → reconciliation.ts
 *   api            a decision on a conflict                    → conflict-decision.ts
 *   api            a purchase order or supplier order          → order-desk.ts
 *   sheet/airtable/api  an edit, a catalog change, a sync       → relay.ts
 *
 * Every handler books through ./apply.ts and ends with the one follow-up step (./follow-up.ts).
 */
import { ATTRIBUTION_WINDOW, CONFLICT_DECISION, ORDER_DESK_KINDS, RECONCILE_OBSERVED, type Outcome } from '../core/booking';
import type { InboxEntry } from '../store/types';
import type { BookingContext } from './context';
import { bookWindowEnd } from './handlers/attribution-window';
import { bookChannelEvent } from './handlers/channel-event';
import { bookConflictDecision } from './handlers/conflict-decision';
import { bookOrderDesk } from './handlers/order-desk';
import { bookReconciledLevel } from './handlers/reconciliation';
import { bookRelay } from './handlers/relay';

export function bookEntry(ctx: BookingContext, entry: InboxEntry): Promise<Outcome> {
  if (entry.source === 'channel') return bookChannelEvent(ctx, entry);
  if (entry.source === 'engine' && entry.kind === ATTRIBUTION_WINDOW) return bookWindowEnd(ctx, entry);
  if (entry.source === 'engine' && entry.kind === RECONCILE_OBSERVED) return bookReconciledLevel(ctx, entry);
  if (entry.source === 'api' && entry.kind === CONFLICT_DECISION) return bookConflictDecision(ctx, entry);
  if (entry.source === 'api' && (ORDER_DESK_KINDS as readonly string[]).includes(entry.kind)) return bookOrderDesk(ctx, entry);
  return bookRelay(ctx, entry);
}
