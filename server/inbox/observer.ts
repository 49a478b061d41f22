/**
 * What follows a booking besides the channel pushes and notifications: the sheet write-back
 * (server/sheets/) subscribes here. Every call happens inside the booking's own transaction, so
 * what it enqueues in the outbox commits or rolls back with the booking (docs/inbox-outbox.md).
 */
import type { InboxEntry, StoreOps } from '../store/types';
import type { Outcome } from './processor';

export interface BookingObserver {
  /** After an inbound event was handled, before its transaction commits. */
  afterEvent(tx: StoreOps, entry: InboxEntry, outcome: Outcome, now: string): Promise<void>;
  /** Every level change and alert the processor announces (the same as the notification webhooks get). */
  announced(tx: StoreOps, topic: 'level.changed' | 'alert.raised', payload: unknown, now: string): Promise<void>;
}
