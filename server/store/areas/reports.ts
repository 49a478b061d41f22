/** Read-only views over the ledger and the sales log, for audits and reports (docs/orders.md). */
import type { Selectable } from 'kysely';
import type { Database } from '../schema';

export interface ReportsOps {
  /** Movements that happened in [from, to), by id, with the order step each is linked to. */
  auditMovements(q: { from: string; to: string; afterId?: number | undefined; limit: number }): Promise<{ movement: Selectable<Database['movements']>; orderId: number | null; orderEventId: number | null }[]>;
  /** On hand and reserved per item and location from the movements that happened before `at`. */
  levelsAt(at: string): Promise<{ sku: string; locationId: string; onHand: number; reserved: number }[]>;
  inboxEvents(ids: number[]): Promise<Map<number, Selectable<Database['inbox']>>>;
  /** Units sold and returned per day, channel and SKU, from the ledger, in [from, to). */
  unitsByDay(from: string, to: string): Promise<{ day: string; channelId: string | null; source: string; sku: string; reason: string; units: number }[]>;
  /** Order money per day, channel and currency in [from, to): totals placed and refunds. */
  moneyByDay(from: string, to: string): Promise<{ day: string; channelId: string; currency: string; kind: string; amount: number; count: number }[]>;
  /** Line revenue per SKU and currency for orders placed in [from, to). */
  revenueBySku(from: string, to: string): Promise<{ sku: string; currency: string; amount: number }[]>;
  /** Every movement of these items that happened in [from, to), oldest first (for sales history). */
  movementsOfSince(skus: string[], from: string): Promise<{ sku: string; quantity: number; reason: string; occurredAt: string }[]>;
}
