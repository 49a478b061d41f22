/** Supplier orders (SQL, both dialects). */
import { sql, type Selectable } from 'kysely';
import type { SupplierOrderLineRecord, SupplierOrderRecord, SupplierOrderStatus, SupplierOrdersOps } from '../areas/supplier-orders';
import type { Database } from '../schema';
import { orderLineOf, rowOf, type Conn } from './conn';

const toSupplierLine = (r: Selectable<Database['supplier_order_lines']>): SupplierOrderLineRecord => ({ ...orderLineOf(r), received: r.received, expectedAt: r.expected_at });

export class SqlSupplierOrders implements SupplierOrdersOps {
  constructor(private readonly c: Conn) {}

  async get(number: string): Promise<SupplierOrderRecord | null> {
    return rowOf(this.c.db.selectFrom('supplier_orders').selectAll().where('number', '=', number), async (r) => (await this.withLines([r]))[0]!);
  }

  async insert(o: Omit<SupplierOrderRecord, 'id' | 'createdAt' | 'updatedAt'>, now: string): Promise<SupplierOrderRecord> {
    const r = await this.c.db
      .insertInto('supplier_orders')
      .values({ number: o.number, supplier: o.supplier, status: o.status, expected_at: o.expectedAt, on_delay: o.onDelay, reason: o.reason, note: o.note, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (const l of o.lines) {
      await this.c.db.insertInto('supplier_order_lines').values({ order_id: Number(r.id), line: l.line, sku: l.sku, location_id: l.locationId, ordered: l.ordered, received: l.received, expected_at: l.expectedAt }).execute();
    }
    return (await this.get(o.number))!;
  }

  async update(id: number, patch: { status?: SupplierOrderStatus; expectedAt?: string | null; reason?: string | null }, now: string): Promise<void> {
    await this.c.db
      .updateTable('supplier_orders')
      .set({
        updated_at: now,
        ...(patch.status !== undefined ? { status: patch.status } : {}),
        ...(patch.expectedAt !== undefined ? { expected_at: patch.expectedAt } : {}),
        ...(patch.reason !== undefined ? { reason: patch.reason } : {}),
      })
      .where('id', '=', id)
      .execute();
    if (patch.expectedAt !== undefined) await this.c.db.updateTable('supplier_order_lines').set({ expected_at: patch.expectedAt }).where('order_id', '=', id).whereRef('received', '<', 'ordered').execute();
  }

  async updateLine(orderId: number, line: number, received: number): Promise<void> {
    await this.c.db.updateTable('supplier_order_lines').set({ received }).where('order_id', '=', orderId).where('line', '=', line).execute();
  }

  async list(page: { limit: number; cursor?: number | undefined; status?: string | undefined }): Promise<SupplierOrderRecord[]> {
    let s = this.c.db.selectFrom('supplier_orders').selectAll().orderBy('id', 'desc').limit(page.limit);
    if (page.cursor !== undefined) s = s.where('id', '<', page.cursor);
    if (page.status) s = s.where('status', '=', page.status);
    return this.withLines(await s.execute());
  }

  /** Units still to come per SKU from supplier orders not received or cancelled. */
  async incoming(skus?: string[]): Promise<Map<string, number>> {
    let s = this.c.db
      .selectFrom('supplier_order_lines as l')
      .innerJoin('supplier_orders as o', 'o.id', 'l.order_id')
      .select('l.sku')
      .select(sql<number | string>`sum(l.ordered - l.received)`.as('coming'))
      .where('o.status', 'not in', ['received', 'cancelled'])
      .whereRef('l.received', '<', 'l.ordered')
      .groupBy('l.sku');
    if (skus) {
      if (skus.length === 0) return new Map();
      s = s.where('l.sku', 'in', skus);
    }
    return new Map((await s.execute()).map((r) => [r.sku, Number(r.coming)]));
  }

  /** The supplier orders still open for an item: what decides its listing hold. */
  async openFor(sku: string): Promise<SupplierOrderRecord[]> {
    const ids = await this.c.db
      .selectFrom('supplier_order_lines as l')
      .innerJoin('supplier_orders as o', 'o.id', 'l.order_id')
      .select('o.id')
      .distinct()
      .where('l.sku', '=', sku)
      .where('o.status', 'not in', ['received', 'cancelled'])
      .whereRef('l.received', '<', 'l.ordered')
      .execute();
    if (ids.length === 0) return [];
    const rows = await this.c.db.selectFrom('supplier_orders').selectAll().where('id', 'in', ids.map((r) => Number(r.id))).orderBy('id').execute();
    return this.withLines(rows);
  }

  private async withLines(rows: Selectable<Database['supplier_orders']>[]): Promise<SupplierOrderRecord[]> {
    if (rows.length === 0) return [];
    const lines = await this.c.db.selectFrom('supplier_order_lines').selectAll().where('order_id', 'in', rows.map((r) => Number(r.id))).orderBy('line').execute();
    return rows.map((r) => ({
      id: Number(r.id),
      number: r.number,
      supplier: r.supplier,
      status: r.status as SupplierOrderStatus,
      expectedAt: r.expected_at,
      onDelay: r.on_delay as 'hide' | 'keep_listed',
      reason: r.reason,
      note: r.note,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      lines: lines.filter((l) => Number(l.order_id) === Number(r.id)).map(toSupplierLine),
    }));
  }
}
