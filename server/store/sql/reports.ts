/** Audits and reports (SQL, both dialects). */
import { sql, type Selectable } from 'kysely';
import type { ReportsOps } from '../areas/reports';
import type { Database } from '../schema';
import { num, type Conn } from './conn';

export class SqlReports implements ReportsOps {
  constructor(private readonly c: Conn) {}

  /** Movements that happened in [from, to), by id, with the order step each is linked to. */
  async auditMovements(q: { from: string; to: string; afterId?: number | undefined; limit: number }): Promise<{ movement: Selectable<Database['movements']>; orderId: number | null; orderEventId: number | null }[]> {
    let s = this.c.db
      .selectFrom('movements as m')
      .leftJoin('order_movements as om', 'om.movement_id', 'm.id')
      .selectAll('m')
      .select(['om.order_id', 'om.order_event_id'])
      .where('m.occurred_at', '>=', q.from)
      .where('m.occurred_at', '<', q.to)
      .orderBy('m.id')
      .limit(q.limit);
    if (q.afterId !== undefined) s = s.where('m.id', '>', q.afterId);
    const rows = await s.execute();
    return rows.map((r) => {
      const { order_id, order_event_id, ...movement } = r;
      return { movement: movement as Selectable<Database['movements']>, orderId: num(order_id), orderEventId: num(order_event_id) };
    });
  }

  /** On hand and reserved per item and location from the movements that happened before `at`. */
  async levelsAt(at: string): Promise<{ sku: string; locationId: string; onHand: number; reserved: number }[]> {
    const rows = await this.c.db
      .selectFrom('movements')
      .select(['sku', 'location_id'])
      .select(sql<number | string>`sum(case when reason in ('reservation', 'release') then 0 else quantity end)`.as('on_hand'))
      .select(sql<number | string>`sum(case when reason in ('reservation', 'release') then quantity else 0 end)`.as('reserved'))
      .where('occurred_at', '<', at)
      .groupBy(['sku', 'location_id'])
      .orderBy('sku')
      .orderBy('location_id')
      .execute();
    return rows.map((r) => ({ sku: r.sku, locationId: r.location_id, onHand: Number(r.on_hand), reserved: Number(r.reserved) }));
  }

  async inboxEvents(ids: number[]): Promise<Map<number, Selectable<Database['inbox']>>> {
    const out = new Map<number, Selectable<Database['inbox']>>();
    if (ids.length === 0) return out;
    for (const r of await this.c.db.selectFrom('inbox').selectAll().where('id', 'in', [...new Set(ids)]).execute()) out.set(Number(r.id), r);
    return out;
  }

  /** Units sold and returned per day, channel and SKU, from the ledger, in [from, to). */
  async unitsByDay(from: string, to: string): Promise<{ day: string; channelId: string | null; source: string; sku: string; reason: string; units: number }[]> {
    const day = sql<string>`substr(occurred_at, 1, 10)`;
    const rows = await this.c.db
      .selectFrom('movements')
      .select([day.as('day'), 'channel_id', 'source', 'sku', 'reason'])
      .select(sql<number | string>`sum(quantity)`.as('units'))
      .where('occurred_at', '>=', from)
      .where('occurred_at', '<', to)
      .where('reason', 'in', ['sale', 'return', 'exchange', 'receipt', 'restock'])
      .groupBy([day, 'channel_id', 'source', 'sku', 'reason'])
      .execute();
    return rows.map((r) => ({ day: r.day, channelId: r.channel_id, source: r.source, sku: r.sku, reason: r.reason, units: Number(r.units) }));
  }

  /** Order money per day, channel and currency in [from, to): totals placed and refunds. */
  async moneyByDay(from: string, to: string): Promise<{ day: string; channelId: string; currency: string; kind: string; amount: number; count: number }[]> {
    const day = sql<string>`substr(e.occurred_at, 1, 10)`;
    const rows = await this.c.db
      .selectFrom('order_events as e')
      .innerJoin('orders as o', 'o.id', 'e.order_id')
      .select([day.as('day'), 'o.channel_id', 'e.currency', 'e.kind'])
      .select(sql<number | string>`sum(e.amount)`.as('amount'))
      .select(sql<number | string>`count(*)`.as('count'))
      .where('e.occurred_at', '>=', from)
      .where('e.occurred_at', '<', to)
      .where('e.kind', 'in', ['placed', 'refund', 'cancellation'])
      .where('e.currency', 'is not', null)
      .groupBy([day, 'o.channel_id', 'e.currency', 'e.kind'])
      .execute();
    return rows.map((r) => ({ day: r.day, channelId: r.channel_id, currency: r.currency!, kind: r.kind, amount: Number(r.amount ?? 0), count: Number(r.count) }));
  }

  /** Line revenue per SKU and currency for orders placed in [from, to). */
  async revenueBySku(from: string, to: string): Promise<{ sku: string; currency: string; amount: number }[]> {
    const rows = await this.c.db
      .selectFrom('order_lines as l')
      .innerJoin('orders as o', 'o.id', 'l.order_id')
      .select(['l.sku', 'o.currency'])
      .select(sql<number | string>`sum(l.total)`.as('amount'))
      .where('o.placed_at', '>=', from)
      .where('o.placed_at', '<', to)
      .where('o.currency', 'is not', null)
      .where('l.sku', 'is not', null)
      .where('l.total', 'is not', null)
      .groupBy(['l.sku', 'o.currency'])
      .execute();
    return rows.map((r) => ({ sku: r.sku!, currency: r.currency!, amount: Number(r.amount ?? 0) }));
  }

  /** Every movement of these items that happened in [from, to), oldest first (for sales history). */
  async movementsOfSince(skus: string[], from: string): Promise<{ sku: string; quantity: number; reason: string; occurredAt: string }[]> {
    if (skus.length === 0) return [];
    const rows = await this.c.db.selectFrom('movements').select(['sku', 'quantity', 'reason', 'occurred_at']).where('sku', 'in', skus).where('occurred_at', '>=', from).orderBy('id').execute();
    return rows.map((r) => ({ sku: r.sku, quantity: r.quantity, reason: r.reason, occurredAt: r.occurred_at }));
  }
}
