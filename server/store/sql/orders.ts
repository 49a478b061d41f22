/** The channel sales log (SQL, both dialects). */
import { sql, type Selectable } from 'kysely';
import type { Movement } from '../../core/ledger';
import type { OrderContact, OrderEventKind, OrderEventRecord, OrderLineRecord, OrderPatch, OrderQuery, OrderRecord, OrdersOps } from '../areas/orders';
import type { Database } from '../schema';
import { num, rowOf, type Conn } from './conn';

const flagsOf = (s: string): string[] => (s ? s.split(',').filter(Boolean) : []);

const flagsText = (f: string[]): string => [...new Set(f)].sort().join(',');

const toOrder = (r: Selectable<Database['orders']>): OrderRecord => ({
  id: Number(r.id),
  channelId: r.channel_id,
  externalId: r.external_id,
  number: r.number,
  currency: r.currency,
  subtotal: num(r.subtotal),
  discount: num(r.discount),
  tax: num(r.tax),
  shipping: num(r.shipping),
  total: num(r.total),
  refunded: Number(r.refunded),
  paymentStatus: r.payment_status,
  fulfilmentStatus: r.fulfilment_status,
  status: r.status,
  customerRef: r.customer_ref,
  contact: r.contact ? (JSON.parse(r.contact) as OrderContact) : null,
  flags: flagsOf(r.flags),
  placedAt: r.placed_at,
  updatedAt: r.updated_at,
  recordedAt: r.recorded_at,
});

const toLine = (r: Selectable<Database['order_lines']>): OrderLineRecord => ({
  lineId: r.line_id,
  sku: r.sku,
  title: r.title,
  quantity: r.quantity,
  unitPrice: num(r.unit_price),
  discount: Number(r.discount),
  tax: Number(r.tax),
  total: num(r.total),
  returned: r.returned,
});

const toEvent = (r: Selectable<Database['order_events']>): OrderEventRecord => ({
  id: Number(r.id),
  orderId: Number(r.order_id),
  kind: r.kind as OrderEventKind,
  externalId: r.external_id,
  currency: r.currency,
  amount: num(r.amount),
  detail: JSON.parse(r.detail) as Record<string, unknown>,
  flags: flagsOf(r.flags),
  eventId: num(r.event_id),
  occurredAt: r.occurred_at,
  recordedAt: r.recorded_at,
});

export class SqlOrders implements OrdersOps {
  constructor(private readonly c: Conn) {}

  async byExternal(channelId: string, externalId: string): Promise<OrderRecord | null> {
    return rowOf(this.c.db.selectFrom('orders').selectAll().where('channel_id', '=', channelId).where('external_id', '=', externalId), toOrder);
  }

  async get(id: number): Promise<OrderRecord | null> {
    return rowOf(this.c.db.selectFrom('orders').selectAll().where('id', '=', id), toOrder);
  }

  async insert(o: Omit<OrderRecord, 'id' | 'recordedAt' | 'updatedAt'>, now: string): Promise<OrderRecord> {
    const r = await this.c.db
      .insertInto('orders')
      .values({
        channel_id: o.channelId,
        external_id: o.externalId,
        number: o.number,
        currency: o.currency,
        subtotal: o.subtotal,
        discount: o.discount,
        tax: o.tax,
        shipping: o.shipping,
        total: o.total,
        refunded: o.refunded,
        payment_status: o.paymentStatus,
        fulfilment_status: o.fulfilmentStatus,
        status: o.status,
        customer_ref: o.customerRef,
        contact: o.contact ? JSON.stringify(o.contact) : null,
        flags: flagsText(o.flags),
        placed_at: o.placedAt,
        updated_at: now,
        recorded_at: now,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toOrder(r);
  }

  async update(id: number, patch: OrderPatch, now: string): Promise<void> {
    const set: Partial<Record<keyof Database['orders'], unknown>> = { updated_at: now };
    const map: Record<string, keyof Database['orders']> = {
      number: 'number', currency: 'currency', subtotal: 'subtotal', discount: 'discount', tax: 'tax', shipping: 'shipping', total: 'total', refunded: 'refunded',
      paymentStatus: 'payment_status', fulfilmentStatus: 'fulfilment_status', status: 'status', customerRef: 'customer_ref', placedAt: 'placed_at',
    };
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      if (k === 'flags') set.flags = flagsText(v as string[]);
      else if (k === 'contact') set.contact = v ? JSON.stringify(v) : null;
      else if (map[k]) set[map[k]] = v;
    }
    await this.c.db.updateTable('orders').set(set as never).where('id', '=', id).execute();
  }

  async lines(orderId: number): Promise<OrderLineRecord[]> {
    return (await this.c.db.selectFrom('order_lines').selectAll().where('order_id', '=', orderId).orderBy('line_id').execute()).map(toLine);
  }

  /** Adds lines not yet known and updates the priced fields of known ones; `returned` is kept. */
  async upsertLines(orderId: number, lines: Omit<OrderLineRecord, 'returned'>[]): Promise<void> {
    if (lines.length === 0) return;
    // One statement for every line; a line known already gets the newer prices, `returned` is kept.
    await this.c.db
      .insertInto('order_lines')
      .values(lines.map((l) => ({ order_id: orderId, line_id: l.lineId, sku: l.sku, title: l.title, quantity: l.quantity, unit_price: l.unitPrice, discount: l.discount, tax: l.tax, total: l.total, returned: 0 })))
      .onConflict((oc) =>
        oc.columns(['order_id', 'line_id']).doUpdateSet((eb) => ({
          // A platform that names no SKU (Square) never blanks the one the booking resolved.
          sku: sql<string | null>`coalesce(excluded.sku, order_lines.sku)`,
          title: eb.ref('excluded.title'),
          quantity: eb.ref('excluded.quantity'),
          unit_price: eb.ref('excluded.unit_price'),
          discount: eb.ref('excluded.discount'),
          tax: eb.ref('excluded.tax'),
          total: eb.ref('excluded.total'),
        })),
      )
      .execute();
  }

  async addReturned(orderId: number, lineId: string, quantity: number): Promise<void> {
    await this.c.db.updateTable('order_lines').set({ returned: sql`returned + ${quantity}` }).where('order_id', '=', orderId).where('line_id', '=', lineId).execute();
  }

  async event(orderId: number, kind: OrderEventKind, externalId: string): Promise<OrderEventRecord | null> {
    return rowOf(this.c.db.selectFrom('order_events').selectAll().where('order_id', '=', orderId).where('kind', '=', kind).where('external_id', '=', externalId), toEvent);
  }

  /** Records one step of an order; the same step again (same kind and platform id) returns the first. */
  async addEvent(e: Omit<OrderEventRecord, 'id' | 'recordedAt'>, now: string): Promise<{ event: OrderEventRecord; created: boolean }> {
    const r = await this.c.db
      .insertInto('order_events')
      .values({
        order_id: e.orderId,
        kind: e.kind,
        external_id: e.externalId,
        currency: e.currency,
        amount: e.amount,
        detail: JSON.stringify(e.detail),
        flags: flagsText(e.flags),
        event_id: e.eventId,
        occurred_at: e.occurredAt,
        recorded_at: now,
      })
      .onConflict((oc) => oc.columns(['order_id', 'kind', 'external_id']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (r) return { event: toEvent(r), created: true };
    return { event: (await this.event(e.orderId, e.kind, e.externalId))!, created: false };
  }

  async events(orderIds: number[]): Promise<OrderEventRecord[]> {
    if (orderIds.length === 0) return [];
    return (await this.c.db.selectFrom('order_events').selectAll().where('order_id', 'in', orderIds).orderBy('occurred_at').orderBy('id').execute()).map(toEvent);
  }

  /** Links movements to the order step that booked them; a movement linked already keeps its link. */
  async linkMovements(orderId: number, orderEventId: number, movementIds: number[]): Promise<void> {
    if (movementIds.length === 0) return;
    await this.c.db
      .insertInto('order_movements')
      .values(movementIds.map((id) => ({ movement_id: id, order_id: orderId, order_event_id: orderEventId })))
      .onConflict((oc) => oc.column('movement_id').doNothing())
      .execute();
  }

  /** The movements linked to these orders, with the step each belongs to. */
  async linkedMovements(orderIds: number[]): Promise<(Movement & { orderId: number; orderEventId: number })[]> {
    if (orderIds.length === 0) return [];
    const rows = await this.c.db
      .selectFrom('order_movements as om')
      .innerJoin('movements as m', 'm.id', 'om.movement_id')
      .selectAll('m')
      .select(['om.order_id', 'om.order_event_id'])
      .where('om.order_id', 'in', orderIds)
      .orderBy('m.id')
      .execute();
    return rows.map((r) => ({
      id: Number(r.id),
      idempotencyKey: r.idempotency_key,
      sku: r.sku,
      locationId: r.location_id,
      quantity: r.quantity,
      reason: r.reason as Movement['reason'],
      source: r.source as Movement['source'],
      channelId: r.channel_id,
      externalRef: r.external_ref,
      countedQuantity: r.counted_quantity,
      actor: r.actor,
      note: r.note,
      eventId: num(r.event_id),
      occurredAt: r.occurred_at,
      recordedAt: r.recorded_at,
      orderId: Number(r.order_id),
      orderEventId: Number(r.order_event_id),
    }));
  }

  /** Orders placed in [from, to), newest first, paged by id. */
  async list(q: OrderQuery): Promise<OrderRecord[]> {
    let s = this.c.db.selectFrom('orders').selectAll().orderBy('id', 'desc').limit(q.limit);
    if (q.cursor !== undefined) s = s.where('id', '<', q.cursor);
    if (q.from) s = s.where('placed_at', '>=', q.from);
    if (q.to) s = s.where('placed_at', '<', q.to);
    if (q.channelId) s = s.where('channel_id', '=', q.channelId);
    if (q.status) s = s.where('status', '=', q.status);
    if (q.paymentStatus) s = s.where('payment_status', '=', q.paymentStatus);
    if (q.sku) {
      const sku = q.sku;
      s = s.where(({ exists, selectFrom }) => exists(selectFrom('order_lines').select('order_lines.line_id').whereRef('order_lines.order_id', '=', 'orders.id').where('order_lines.sku', '=', sku)));
    }
    return (await s.execute()).map(toOrder);
  }

  async linesOf(orderIds: number[]): Promise<Map<number, OrderLineRecord[]>> {
    const out = new Map<number, OrderLineRecord[]>();
    if (orderIds.length === 0) return out;
    for (const r of await this.c.db.selectFrom('order_lines').selectAll().where('order_id', 'in', orderIds).orderBy('line_id').execute()) {
      const id = Number(r.order_id);
      out.set(id, [...(out.get(id) ?? []), toLine(r)]);
    }
    return out;
  }

  /** Steps of every order that happened in [from, to), oldest first, paged by id (for exports). */
  async listEvents(q: { from?: string | undefined; to?: string | undefined; afterId?: number | undefined; limit: number }): Promise<OrderEventRecord[]> {
    let s = this.c.db.selectFrom('order_events').selectAll().orderBy('id').limit(q.limit);
    if (q.afterId !== undefined) s = s.where('id', '>', q.afterId);
    if (q.from) s = s.where('occurred_at', '>=', q.from);
    if (q.to) s = s.where('occurred_at', '<', q.to);
    return (await s.execute()).map(toEvent);
  }

  async byIds(ids: number[]): Promise<Map<number, OrderRecord>> {
    const out = new Map<number, OrderRecord>();
    if (ids.length === 0) return out;
    for (const r of await this.c.db.selectFrom('orders').selectAll().where('id', 'in', [...new Set(ids)]).execute()) out.set(Number(r.id), toOrder(r));
    return out;
  }
}
