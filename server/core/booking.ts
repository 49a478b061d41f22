/**
 * What booking one inbound event produces, shared by the booking engine (server/booking/), the
 * order desks, the API and the write-backs. Pure types and one rule; nothing here reads or writes.
 */

/** Where an inbound event stands: waiting, booked, or set aside with its reason (docs/inbox-outbox.md). */
export type EventStatus = 'received' | 'processed' | 'unmatched' | 'rejected' | 'conflict' | 'failed';

/** What one command of an event did. */
export type CommandResult = {
  sku: string;
  location?: string;
  result: 'booked' | 'duplicate' | 'updated' | 'unchanged' | 'unmatched' | 'rejected' | 'conflict';
  message: string;
  movementId?: number;
  quantity?: number;
  /** A sheet edit that became a conflict, or a conflict decided (docs/conflicts.md). */
  conflictId?: number;
};

/** What booking an event came to: its status and what each of its commands did. */
export interface Outcome {
  status: EventStatus;
  results: CommandResult[];
}

/** The worst result decides the event's status: something to fix first, then something to decide. */
export function statusOf(results: CommandResult[]): EventStatus {
  if (results.some((r) => r.result === 'unmatched')) return 'unmatched';
  if (results.some((r) => r.result === 'conflict')) return 'conflict';
  if (results.some((r) => r.result === 'rejected')) return 'rejected';
  return 'processed';
}

/** An outcome of one refusal: nothing of the event was booked, for this reason. */
export function rejected(message: string, sku = ''): Outcome {
  return { status: 'rejected', results: [{ sku, result: 'rejected', message }] };
}

/** Inbound events of the order desks (docs/orders.md), stored by the API with source `api`. */
export const ORDER_DESK_KINDS = ['purchase_order', 'purchase_order_cancel', 'purchase_order_fulfil', 'supplier_order', 'supplier_receipt', 'supplier_status'] as const;

/** The event a decision on a conflict is stored as (docs/conflicts.md). */
export const CONFLICT_DECISION = 'conflict_decision';

/**
 * The longest platform id (order, refund, line) the hub books. The transaction log indexes them, and
 * PostgreSQL refuses an index entry of a few kilobytes: an event carrying a longer one would be retried
 * forever. Platforms use ids of a few dozen characters; a longer one is refused with its reason.
 */
export const MAX_PLATFORM_ID = 200;

/** The body of a conflict decision event. */
export interface ConflictDecisionBody {
  conflictId: number;
  decision: 'accept' | 'reject';
  actor: string | null;
  note: string | null;
  origin: 'sidebar' | 'api';
  decidedAt: string;
}

/** The count an accepted conflict books, given the hub's on hand now: the number typed, plus what was booked since the conflict was found. */
export function acceptedCount(c: { typed: number; hubHad: number }, hubNow: number): number {
  return Math.max(0, c.typed + (hubNow - c.hubHad));
}

/** Events the hub stores for itself (source `engine`): an attribution window that ended, a level reconciliation read. */
export const ATTRIBUTION_WINDOW = 'attribution_window';
export const RECONCILE_OBSERVED = 'reconcile_observed';
