/** Purchase orders from customers (SQL, both dialects). */
import type { Selectable } from 'kysely';
import type { PurchaseOrderLineRecord, PurchaseOrderRecord, PurchaseOrderStatus, PurchaseOrdersOps } from '../areas/purchase-orders';
import type { Database } from '../schema';
import { num, orderLineOf, rowOf, type Conn } from './conn';

const toPoLine = (r: Selectable<Database['purchase_order_lines']>): PurchaseOrderLineRecord => ({ ...orderLineOf(r), reserved: r.reserved, dropped: r.dropped, fulfilled: r.fulfilled });

export class SqlPurchaseOrders implements PurchaseOrdersOps {
  constructor(private readonly c: Conn) {}

  async get(number: string): Promise<PurchaseOrderRecord | null> {
    return rowOf(this.c.db.selectFrom('purchase_orders').selectAll().where('number', '=', number), async (r) => (await this.withLines([r]))[0]!);
  }

  async insert(po: Omit<PurchaseOrderRecord, 'id' | 'updatedAt'>, now: string): Promise<PurchaseOrderRecord> {
    const r = await this.c.db
      .insertInto('purchase_orders')
      .values({
        number: po.number,
        customer: po.customer,
        origin: po.origin,
        policy: po.policy,
        status: po.status,
        reason: po.reason,
        needed_by: po.neededBy,
        note: po.note,
        actor: po.actor,
        sheet: po.sheet,
        event_id: po.eventId,
        submitted_at: po.submittedAt,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const id = Number(r.id);
    for (const l of po.lines) {
      await this.c.db.insertInto('purchase_order_lines').values({ po_id: id, line: l.line, sku: l.sku, location_id: l.locationId, ordered: l.ordered, reserved: l.reserved, dropped: l.dropped, fulfilled: l.fulfilled }).execute();
    }
    return (await this.get(po.number))!;
  }

  async update(id: number, patch: { status?: PurchaseOrderStatus; reason?: string | null }, now: string): Promise<void> {
    await this.c.db
      .updateTable('purchase_orders')
      .set({ updated_at: now, ...(patch.status !== undefined ? { status: patch.status } : {}), ...(patch.reason !== undefined ? { reason: patch.reason } : {}) })
      .where('id', '=', id)
      .execute();
  }

  async updateLine(poId: number, line: number, patch: Partial<Pick<PurchaseOrderLineRecord, 'reserved' | 'dropped' | 'fulfilled'>>): Promise<void> {
    await this.c.db.updateTable('purchase_order_lines').set(patch).where('po_id', '=', poId).where('line', '=', line).execute();
  }

  /** POs still waiting for stock, first submitted first. */
  async waiting(): Promise<PurchaseOrderRecord[]> {
    const rows = await this.c.db.selectFrom('purchase_orders').selectAll().where('status', 'in', ['waitlisted', 'partially_approved', 'partially_fulfilled']).orderBy('id').execute();
    return this.withLines(rows);
  }

  async list(page: { limit: number; cursor?: number | undefined; status?: string | undefined; customer?: string | undefined }): Promise<PurchaseOrderRecord[]> {
    let s = this.c.db.selectFrom('purchase_orders').selectAll().orderBy('id', 'desc').limit(page.limit);
    if (page.cursor !== undefined) s = s.where('id', '<', page.cursor);
    if (page.status) s = s.where('status', '=', page.status);
    if (page.customer) s = s.where('customer', '=', page.customer);
    return this.withLines(await s.execute());
  }

  private async withLines(rows: Selectable<Database['purchase_orders']>[]): Promise<PurchaseOrderRecord[]> {
    if (rows.length === 0) return [];
    const lines = await this.c.db.selectFrom('purchase_order_lines').selectAll().where('po_id', 'in', rows.map((r) => Number(r.id))).orderBy('line').execute();
    return rows.map((r) => ({
      id: Number(r.id),
      number: r.number,
      customer: r.customer,
      origin: r.origin,
      policy: r.policy,
      status: r.status as PurchaseOrderStatus,
      reason: r.reason,
      neededBy: r.needed_by,
      note: r.note,
      actor: r.actor,
      sheet: r.sheet,
      eventId: num(r.event_id),
      submittedAt: r.submitted_at,
      updatedAt: r.updated_at,
      lines: lines.filter((l) => Number(l.po_id) === Number(r.id)).map(toPoLine),
    }));
  }
}
