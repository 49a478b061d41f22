/**
 * What follows a booking besides the channel pushes and notifications: the sheet and Airtable
 * write-backs (server/sheets/, server/airtable/) subscribe here. Every call happens inside the booking's own transaction, so
 * what it enqueues in the outbox commits or rolls back with the booking (docs/inbox-outbox.md).
 */
import type { Outcome } from '../core/booking';
import type { Movement } from '../core/ledger';
import type { InboxEntry, StoreOps } from '../store/types';

export interface BookingObserver {
  /** After an inbound event was handled, before its transaction commits (announcements reach them through server/announce.ts). */
  afterEvent(tx: StoreOps, entry: InboxEntry, outcome: Outcome, now: string): Promise<void>;
}

/** The movements this event booked just now (not those it found booked before: a redelivery writes nothing twice). */
export async function bookedMovements(tx: StoreOps, entry: InboxEntry, outcome: Outcome): Promise<Movement[]> {
  const booked = new Set(outcome.results.filter((r) => r.result === 'booked' && r.movementId !== undefined).map((r) => r.movementId!));
  if (booked.size === 0) return [];
  return (await tx.ledger.movementsByEvent(entry.id)).filter((m) => booked.has(m.id));
}

/** The items whose row or record shows something this event changed (a level, a detail, a conflict). */
export function changedSkus(outcome: Outcome): string[] {
  const skus = new Set<string>();
  for (const r of outcome.results) {
    if (r.sku && (r.result === 'booked' || r.result === 'updated' || r.result === 'conflict' || r.conflictId !== undefined)) skus.add(r.sku);
  }
  return [...skus];
}
