/**
 * The store's part for orders (the merged transaction log), customer purchase orders and supplier
 * orders (docs/orders.md). One class for both dialects, bound to the same connection or transaction
 * as the `StoreOps` it came from (`tx.orders()`), so a booking and its log rows commit together.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from './schema';
import type { Dialect } from './types';
import type { Movement } from '../core/ledger';
import type { OrderLineDetail } from '../connectors/types';

const num = (v: number | string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
const flagsOf = (s: string): string[] => (s ? s.split(',').filter(Boolean) : []);
const flagsText = (f: string[]): string => [...new Set(f)].sort().join(',');

export interface OrderContact {
  name: string | null;
  email: string | null;
}

export interface OrderRecord {
  id: number;
  channelId: string;
  externalId: string;
  number: string | null;
  /** Null while the order is known only from stock facts that carried no money. */
  currency: string | null;
  subtotal: number | null;
  discount: number | null;
  tax: number | null;
  shipping: number | null;
  total: number | null;
  /** Money refunded so far, minor units. */
  refunded: number;
  paymentStatus: string;
  fulfilmentStatus: string;
  /** open, partially_refunded, refunded, cancelled. */
  status: string;
  customerRef: string | null;
  contact: OrderContact | null;
  /** Things staff should look at: currency_not_accepted, refund_exceeds_order, return_exceeds_sold, amounts_unreadable. */
  flags: string[];
  placedAt: string;
  updatedAt: string;
  recordedAt: string;
}

/** A line as the log keeps it: the platform's priced line (total null when it sent no money). */
export interface OrderLineRecord extends Omit<OrderLineDetail, 'total'> {
  total: number | null;
  /** Units that came back (restocked or not), across every refund and return. */
  returned: number;
}

export type OrderEventKind = 'placed' | 'paid' | 'fulfilled' | 'updated' | 'refund' | 'return' | 'exchange' | 'cancellation';

export interface OrderEventRecord {
  id: number;
  orderId: number;
  kind: OrderEventKind;
  /** The platform's id for this step (the refund id; the order id for placed and cancellation). */
  externalId: string;
  currency: string | null;
  /** Money that moved in this step, minor units: the order total when placed, a refund's amount (positive). */
  amount: number | null;
  detail: Record<string, unknown>;
  flags: string[];
  /** The inbound event it came from. */
  eventId: number | null;
  occurredAt: string;
  recordedAt: string;
}

export interface PurchaseOrderLineRecord {
  line: number;
  sku: string;
  locationId: string;
  ordered: number;
  reserved: number;
  dropped: number;
  fulfilled: number;
}

export type PurchaseOrderStatus = 'approved' | 'partially_approved' | 'waitlisted' | 'rejected' | 'cancelled' | 'fulfilled' | 'partially_fulfilled';

export interface PurchaseOrderRecord {
  id: number;
  number: string;
  customer: string;
  origin: string;
  policy: string;
  status: PurchaseOrderStatus;
  reason: string | null;
  neededBy: string | null;
  note: string | null;
  actor: string | null;
  /** The sheet tab the PO came from, for the status write-back. */
  sheet: string | null;
  eventId: number | null;
  submittedAt: string;
  updatedAt: string;
  lines: PurchaseOrderLineRecord[];
}

export type SupplierOrderStatus = 'open' | 'partially_received' | 'received' | 'delayed' | 'backordered' | 'cancelled';

export interface SupplierOrderLineRecord {
  line: number;
  sku: string;
  locationId: string;
  ordered: number;
  received: number;
  expectedAt: string | null;
}

export interface SupplierOrderRecord {
  id: number;
  number: string;
  supplier: string;
  status: SupplierOrderStatus;
  expectedAt: string | null;
  onDelay: 'hide' | 'keep_listed';
  reason: string | null;
  note: string | null;
  createdAt: string;
  updatedAt: string;
  lines: SupplierOrderLineRecord[];
}

export interface OrderQuery {
  limit: number;
  cursor?: number | undefined;
  from?: string | undefined;
  to?: string | undefined;
  channelId?: string | undefined;
  sku?: string | undefined;
  status?: string | undefined;
  paymentStatus?: string | undefined;
}

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

const toPoLine = (r: Selectable<Database['purchase_order_lines']>): PurchaseOrderLineRecord => ({
  line: r.line,
  sku: r.sku,
  locationId: r.location_id,
  ordered: r.ordered,
  reserved: r.reserved,
  dropped: r.dropped,
  fulfilled: r.fulfilled,
});

const toSupplierLine = (r: Selectable<Database['supplier_order_lines']>): SupplierOrderLineRecord => ({
  line: r.line,
  sku: r.sku,
  locationId: r.location_id,
  ordered: r.ordered,
  received: r.received,
  expectedAt: r.expected_at,
});

export type OrderPatch = Partial<Omit<OrderRecord, 'id' | 'channelId' | 'externalId' | 'recordedAt'>>;

export class OrderOps {
  constructor(
    private readonly db: Kysely<Database>,
    readonly dialect: Dialect,
  ) {}

  // --- The transaction log -----------------------------------------------------------------------

  async orderByExternal(channelId: string, externalId: string): Promise<OrderRecord | null> {
    const r = await this.db.selectFrom('orders').selectAll().where('channel_id', '=', channelId).where('external_id', '=', externalId).executeTakeFirst();
    return r ? toOrder(r) : null;
  }

  async getOrder(id: number): Promise<OrderRecord | null> {
    const r = await this.db.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toOrder(r) : null;
  }

  async insertOrder(o: Omit<OrderRecord, 'id' | 'recordedAt' | 'updatedAt'>, now: string): Promise<OrderRecord> {
    const r = await this.db
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

  async updateOrder(id: number, patch: OrderPatch, now: string): Promise<void> {
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
    await this.db.updateTable('orders').set(set as never).where('id', '=', id).execute();
  }

  async orderLines(orderId: number): Promise<OrderLineRecord[]> {
    return (await this.db.selectFrom('order_lines').selectAll().where('order_id', '=', orderId).orderBy('line_id').execute()).map(toLine);
  }

  /** Adds lines not yet known and updates the priced fields of known ones; `returned` is kept. */
  async upsertOrderLines(orderId: number, lines: Omit<OrderLineRecord, 'returned'>[]): Promise<void> {
    if (lines.length === 0) return;
    // One statement for every line; a line known already gets the newer prices, `returned` is kept.
    await this.db
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
    await this.db.updateTable('order_lines').set({ returned: sql`returned + ${quantity}` }).where('order_id', '=', orderId).where('line_id', '=', lineId).execute();
  }

  async orderEvent(orderId: number, kind: OrderEventKind, externalId: string): Promise<OrderEventRecord | null> {
    const r = await this.db.selectFrom('order_events').selectAll().where('order_id', '=', orderId).where('kind', '=', kind).where('external_id', '=', externalId).executeTakeFirst();
    return r ? toEvent(r) : null;
  }

  /** Records one step of an order; the same step again (same kind and platform id) returns the first. */
  async addOrderEvent(e: Omit<OrderEventRecord, 'id' | 'recordedAt'>, now: string): Promise<{ event: OrderEventRecord; created: boolean }> {
    const r = await this.db
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
    return { event: (await this.orderEvent(e.orderId, e.kind, e.externalId))!, created: false };
  }

  async orderEvents(orderIds: number[]): Promise<OrderEventRecord[]> {
    if (orderIds.length === 0) return [];
    return (await this.db.selectFrom('order_events').selectAll().where('order_id', 'in', orderIds).orderBy('occurred_at').orderBy('id').execute()).map(toEvent);
  }

  /** Links movements to the order step that booked them; a movement linked already keeps its link. */
  async linkMovements(orderId: number, orderEventId: number, movementIds: number[]): Promise<void> {
    if (movementIds.length === 0) return;
    await this.db
      .insertInto('order_movements')
      .values(movementIds.map((id) => ({ movement_id: id, order_id: orderId, order_event_id: orderEventId })))
      .onConflict((oc) => oc.column('movement_id').doNothing())
      .execute();
  }

  /** The movements linked to these orders, with the step each belongs to. */
  async linkedMovements(orderIds: number[]): Promise<(Movement & { orderId: number; orderEventId: number })[]> {
    if (orderIds.length === 0) return [];
    const rows = await this.db
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
  async listOrders(q: OrderQuery): Promise<OrderRecord[]> {
    let s = this.db.selectFrom('orders').selectAll().orderBy('id', 'desc').limit(q.limit);
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
    for (const r of await this.db.selectFrom('order_lines').selectAll().where('order_id', 'in', orderIds).orderBy('line_id').execute()) {
      const id = Number(r.order_id);
      out.set(id, [...(out.get(id) ?? []), toLine(r)]);
    }
    return out;
  }

  /** Steps of every order that happened in [from, to), oldest first, paged by id (for exports). */
  async listOrderEvents(q: { from?: string | undefined; to?: string | undefined; afterId?: number | undefined; limit: number }): Promise<OrderEventRecord[]> {
    let s = this.db.selectFrom('order_events').selectAll().orderBy('id').limit(q.limit);
    if (q.afterId !== undefined) s = s.where('id', '>', q.afterId);
    if (q.from) s = s.where('occurred_at', '>=', q.from);
    if (q.to) s = s.where('occurred_at', '<', q.to);
    return (await s.execute()).map(toEvent);
  }

  async ordersById(ids: number[]): Promise<Map<number, OrderRecord>> {
    const out = new Map<number, OrderRecord>();
    if (ids.length === 0) return out;
    for (const r of await this.db.selectFrom('orders').selectAll().where('id', 'in', [...new Set(ids)]).execute()) out.set(Number(r.id), toOrder(r));
    return out;
  }

  // --- Audit ---------------------------------------------------------------------------------------

  /** Movements that happened in [from, to), by id, with the order step each is linked to. */
  async auditMovements(q: { from: string; to: string; afterId?: number | undefined; limit: number }): Promise<{ movement: Selectable<Database['movements']>; orderId: number | null; orderEventId: number | null }[]> {
    let s = this.db
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
    const rows = await this.db
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
    for (const r of await this.db.selectFrom('inbox').selectAll().where('id', 'in', [...new Set(ids)]).execute()) out.set(Number(r.id), r);
    return out;
  }

  // --- Reporting -----------------------------------------------------------------------------------

  /** Units sold and returned per day, channel and SKU, from the ledger, in [from, to). */
  async unitsByDay(from: string, to: string): Promise<{ day: string; channelId: string | null; source: string; sku: string; reason: string; units: number }[]> {
    const day = sql<string>`substr(occurred_at, 1, 10)`;
    const rows = await this.db
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
    const rows = await this.db
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
    const rows = await this.db
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
    const rows = await this.db.selectFrom('movements').select(['sku', 'quantity', 'reason', 'occurred_at']).where('sku', 'in', skus).where('occurred_at', '>=', from).orderBy('id').execute();
    return rows.map((r) => ({ sku: r.sku, quantity: r.quantity, reason: r.reason, occurredAt: r.occurred_at }));
  }

  // --- Purchase orders from customers ----------------------------------------------------------

  async purchaseOrder(number: string): Promise<PurchaseOrderRecord | null> {
    const r = await this.db.selectFrom('purchase_orders').selectAll().where('number', '=', number).executeTakeFirst();
    return r ? (await this.withPoLines([r]))[0]! : null;
  }

  private async withPoLines(rows: Selectable<Database['purchase_orders']>[]): Promise<PurchaseOrderRecord[]> {
    if (rows.length === 0) return [];
    const lines = await this.db.selectFrom('purchase_order_lines').selectAll().where('po_id', 'in', rows.map((r) => Number(r.id))).orderBy('line').execute();
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

  async insertPurchaseOrder(po: Omit<PurchaseOrderRecord, 'id' | 'updatedAt'>, now: string): Promise<PurchaseOrderRecord> {
    const r = await this.db
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
      await this.db.insertInto('purchase_order_lines').values({ po_id: id, line: l.line, sku: l.sku, location_id: l.locationId, ordered: l.ordered, reserved: l.reserved, dropped: l.dropped, fulfilled: l.fulfilled }).execute();
    }
    return (await this.purchaseOrder(po.number))!;
  }

  async updatePurchaseOrder(id: number, patch: { status?: PurchaseOrderStatus; reason?: string | null }, now: string): Promise<void> {
    await this.db
      .updateTable('purchase_orders')
      .set({ updated_at: now, ...(patch.status !== undefined ? { status: patch.status } : {}), ...(patch.reason !== undefined ? { reason: patch.reason } : {}) })
      .where('id', '=', id)
      .execute();
  }

  async updatePurchaseOrderLine(poId: number, line: number, patch: Partial<Pick<PurchaseOrderLineRecord, 'reserved' | 'dropped' | 'fulfilled'>>): Promise<void> {
    await this.db.updateTable('purchase_order_lines').set(patch).where('po_id', '=', poId).where('line', '=', line).execute();
  }

  /** POs still waiting for stock, first submitted first. */
  async waitingPurchaseOrders(): Promise<PurchaseOrderRecord[]> {
    const rows = await this.db.selectFrom('purchase_orders').selectAll().where('status', 'in', ['waitlisted', 'partially_approved', 'partially_fulfilled']).orderBy('id').execute();
    return this.withPoLines(rows);
  }

  async listPurchaseOrders(page: { limit: number; cursor?: number | undefined; status?: string | undefined; customer?: string | undefined }): Promise<PurchaseOrderRecord[]> {
    let s = this.db.selectFrom('purchase_orders').selectAll().orderBy('id', 'desc').limit(page.limit);
    if (page.cursor !== undefined) s = s.where('id', '<', page.cursor);
    if (page.status) s = s.where('status', '=', page.status);
    if (page.customer) s = s.where('customer', '=', page.customer);
    return this.withPoLines(await s.execute());
  }

  // --- Supplier orders ---------------------------------------------------------------------------

  async supplierOrder(number: string): Promise<SupplierOrderRecord | null> {
    const r = await this.db.selectFrom('supplier_orders').selectAll().where('number', '=', number).executeTakeFirst();
    return r ? (await this.withSupplierLines([r]))[0]! : null;
  }

  private async withSupplierLines(rows: Selectable<Database['supplier_orders']>[]): Promise<SupplierOrderRecord[]> {
    if (rows.length === 0) return [];
    const lines = await this.db.selectFrom('supplier_order_lines').selectAll().where('order_id', 'in', rows.map((r) => Number(r.id))).orderBy('line').execute();
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

  async insertSupplierOrder(o: Omit<SupplierOrderRecord, 'id' | 'createdAt' | 'updatedAt'>, now: string): Promise<SupplierOrderRecord> {
    const r = await this.db
      .insertInto('supplier_orders')
      .values({ number: o.number, supplier: o.supplier, status: o.status, expected_at: o.expectedAt, on_delay: o.onDelay, reason: o.reason, note: o.note, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (const l of o.lines) {
      await this.db.insertInto('supplier_order_lines').values({ order_id: Number(r.id), line: l.line, sku: l.sku, location_id: l.locationId, ordered: l.ordered, received: l.received, expected_at: l.expectedAt }).execute();
    }
    return (await this.supplierOrder(o.number))!;
  }

  async updateSupplierOrder(id: number, patch: { status?: SupplierOrderStatus; expectedAt?: string | null; reason?: string | null }, now: string): Promise<void> {
    await this.db
      .updateTable('supplier_orders')
      .set({
        updated_at: now,
        ...(patch.status !== undefined ? { status: patch.status } : {}),
        ...(patch.expectedAt !== undefined ? { expected_at: patch.expectedAt } : {}),
        ...(patch.reason !== undefined ? { reason: patch.reason } : {}),
      })
      .where('id', '=', id)
      .execute();
    if (patch.expectedAt !== undefined) await this.db.updateTable('supplier_order_lines').set({ expected_at: patch.expectedAt }).where('order_id', '=', id).whereRef('received', '<', 'ordered').execute();
  }

  async updateSupplierLine(orderId: number, line: number, received: number): Promise<void> {
    await this.db.updateTable('supplier_order_lines').set({ received }).where('order_id', '=', orderId).where('line', '=', line).execute();
  }

  async listSupplierOrders(page: { limit: number; cursor?: number | undefined; status?: string | undefined }): Promise<SupplierOrderRecord[]> {
    let s = this.db.selectFrom('supplier_orders').selectAll().orderBy('id', 'desc').limit(page.limit);
    if (page.cursor !== undefined) s = s.where('id', '<', page.cursor);
    if (page.status) s = s.where('status', '=', page.status);
    return this.withSupplierLines(await s.execute());
  }

  /** Units still to come per SKU from supplier orders not received or cancelled. */
  async incoming(skus?: string[]): Promise<Map<string, number>> {
    let s = this.db
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
  async openSupplierOrdersFor(sku: string): Promise<SupplierOrderRecord[]> {
    const ids = await this.db
      .selectFrom('supplier_order_lines as l')
      .innerJoin('supplier_orders as o', 'o.id', 'l.order_id')
      .select('o.id')
      .distinct()
      .where('l.sku', '=', sku)
      .where('o.status', 'not in', ['received', 'cancelled'])
      .whereRef('l.received', '<', 'l.ordered')
      .execute();
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('supplier_orders').selectAll().where('id', 'in', ids.map((r) => Number(r.id))).orderBy('id').execute();
    return this.withSupplierLines(rows);
  }

  async setListingHold(sku: string, hold: 'hide' | 'keep_listed' | null): Promise<void> {
    await this.db.updateTable('items').set({ listing_hold: hold }).where('sku', '=', sku).execute();
  }

  async setReorderSettings(sku: string, s: { leadTimeDays?: number | null; safetyStock?: number | null }): Promise<void> {
    const set: { lead_time_days?: number | null; safety_stock?: number | null } = {};
    if (s.leadTimeDays !== undefined) set.lead_time_days = s.leadTimeDays;
    if (s.safetyStock !== undefined) set.safety_stock = s.safetyStock;
    if (Object.keys(set).length > 0) await this.db.updateTable('items').set(set).where('sku', '=', sku).execute();
  }
}
