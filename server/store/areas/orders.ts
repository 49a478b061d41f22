/** The channel sales log: orders, their lines and steps, linked to the movements they booked (docs/orders.md). */
import type { OrderLineDetail } from '../../connectors/types';
import type { Movement } from '../../core/ledger';

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

export type OrderPatch = Partial<Omit<OrderRecord, 'id' | 'channelId' | 'externalId' | 'recordedAt'>>;

export interface OrdersOps {
  byExternal(channelId: string, externalId: string): Promise<OrderRecord | null>;
  get(id: number): Promise<OrderRecord | null>;
  insert(o: Omit<OrderRecord, 'id' | 'recordedAt' | 'updatedAt'>, now: string): Promise<OrderRecord>;
  update(id: number, patch: OrderPatch, now: string): Promise<void>;
  lines(orderId: number): Promise<OrderLineRecord[]>;
  /** Adds lines not yet known and updates the priced fields of known ones; `returned` is kept. */
  upsertLines(orderId: number, lines: Omit<OrderLineRecord, 'returned'>[]): Promise<void>;
  addReturned(orderId: number, lineId: string, quantity: number): Promise<void>;
  event(orderId: number, kind: OrderEventKind, externalId: string): Promise<OrderEventRecord | null>;
  /** Records one step of an order; the same step again (same kind and platform id) returns the first. */
  addEvent(e: Omit<OrderEventRecord, 'id' | 'recordedAt'>, now: string): Promise<{ event: OrderEventRecord; created: boolean }>;
  events(orderIds: number[]): Promise<OrderEventRecord[]>;
  /** Links movements to the order step that booked them; a movement linked already keeps its link. */
  linkMovements(orderId: number, orderEventId: number, movementIds: number[]): Promise<void>;
  /** The movements linked to these orders, with the step each belongs to. */
  linkedMovements(orderIds: number[]): Promise<(Movement & { orderId: number; orderEventId: number })[]>;
  /** Orders placed in [from, to), newest first, paged by id. */
  list(q: OrderQuery): Promise<OrderRecord[]>;
  linesOf(orderIds: number[]): Promise<Map<number, OrderLineRecord[]>>;
  /** Steps of every order that happened in [from, to), oldest first, paged by id (for exports). */
  listEvents(q: { from?: string | undefined; to?: string | undefined; afterId?: number | undefined; limit: number }): Promise<OrderEventRecord[]>;
  byIds(ids: number[]): Promise<Map<number, OrderRecord>>;
}
