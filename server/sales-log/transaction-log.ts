/**
 * The merged transaction log (docs/orders.md): every order, payment, refund, return, exchange and
 * cancellation a channel reports, normalised and kept with the movements it caused. Called by the
 * inbox processor inside the booking's own transaction, so the log never shows a sale the ledger
 * does not have, nor misses one it has.
 */
import type { OrdersConfig } from '../config';
import type { ChannelFact, FactLine, OrderDetails } from '../connectors/types';
import type { OrderEventKind, OrderEventRecord, OrderLineRecord, OrderRecord, StoreOps } from '../store/types';
import type { Movement } from '../core/ledger';
import { cancelKey, refundKey, saleKey } from '../core/channel-plan';

export interface LogContext {
  channelId: string;
  channelName: string;
  config: OrdersConfig;
  /** The inbound event being handled. */
  eventId: number;
  now: string;
  /** What handling this event booked or found booked so far, by idempotency key (the processor keeps it). */
  booked: ReadonlyMap<string, Movement>;
}

export interface LogNote {
  orderRef: string;
  message: string;
  /** Something staff should look at: raises an alert. */
  flag: string | null;
}

export interface LogResult {
  /** Order steps recorded for the first time by this event. */
  created: OrderEventRecord[];
  notes: LogNote[];
}


/**
 * A refund or cancellation that would put back more units of a line than the order sold (less what
 * already came back) is cut to what was sold before anything is booked, and flagged. Lines of
 * orders the log does not know yet pass unchanged: there is nothing to check them against.
 */
export async function guardReturns(tx: StoreOps, channelId: string, facts: ChannelFact[]): Promise<{ facts: ChannelFact[]; notes: LogNote[] }> {
  const notes: LogNote[] = [];
  const out: ChannelFact[] = [];
  for (const f of facts) {
    if (f.type !== 'refund' && f.type !== 'cancellation') {
      out.push(f);
      continue;
    }
    const order = await tx.orders.byExternal(channelId, f.orderId);
    if (!order) {
      out.push(f);
      continue;
    }
    const lines = new Map((await tx.orders.lines(order.id)).map((l) => [l.lineId, l]));
    // Units this fact's lines would put back, per order line, counting several lines of one fact.
    const taking = new Map<string, number>();
    const kept: (FactLine & { restock: boolean })[] = [];
    for (const l of f.lines) {
      const known = orderLineOf(lines, l.lineId);
      const key = f.type === 'refund' ? refundKey(channelId, f.refundId, l.lineId) : cancelKey(channelId, f.orderId, l.lineId);
      // Already booked (a redelivery): booking dedupes it, nothing to check.
      if (!known || !l.restock || (await tx.ledger.movementByKey(key))) {
        kept.push(l);
        continue;
      }
      const left = known.quantity - known.returned - (taking.get(known.lineId) ?? 0);
      const allowed = Math.max(0, Math.min(l.quantity, left));
      taking.set(known.lineId, (taking.get(known.lineId) ?? 0) + allowed);
      if (allowed < l.quantity) {
        notes.push({
          orderRef: f.orderId,
          flag: 'return_exceeds_sold',
          message: `${f.type === 'refund' ? `Refund ${f.refundId}` : 'The cancellation'} of order ${f.orderId} on the channel puts back ${l.quantity} of line ${l.lineId}${known.sku ? ` (${known.sku})` : ''}, but only ${left < 0 ? 0 : left} of the ${known.quantity} sold are still out; ${allowed} booked back to stock.`,
        });
      }
      kept.push({ ...l, quantity: allowed });
    }
    out.push({ ...f, lines: kept });
  }
  return { facts: out, notes };
}

/**
 * The order line a refund line is about: the same id, or the line its id extends (WooCommerce
 * restock lines are `<item>:restock:<n>`).
 */
export function orderLineOf<T extends { lineId: string }>(lines: Map<string, T>, lineId: string): T | undefined {
  return lines.get(lineId) ?? lines.get(lineId.split(':')[0]!);
}

const ORDER_STATUS_AFTER_REFUND = (refunded: number, total: number | null) => (total !== null && refunded >= total ? 'refunded' : 'partially_refunded');

/** Records what `facts` say about orders; returns the steps recorded for the first time. */
export async function recordOrderFacts(tx: StoreOps, ctx: LogContext, facts: ChannelFact[], earlier: LogNote[] = []): Promise<LogResult> {
  const log = new OrderLogWriter(tx, ctx, earlier);
  for (const f of facts) {
    if (f.type === 'sale') await log.sale(f);
    else if (f.type === 'refund') await log.refund(f);
    else if (f.type === 'cancellation') await log.cancellation(f);
    else if (f.type === 'order_updated') await log.orderUpdated(f);
  }
  // Flags found before booking (a refund cut to what was sold) are kept on their orders.
  const flagged = new Map<string, string[]>();
  for (const n of earlier) if (n.flag) flagged.set(n.orderRef, [...(flagged.get(n.orderRef) ?? []), n.flag]);
  for (const [ref, flags] of flagged) {
    const order = await tx.orders.byExternal(ctx.channelId, ref);
    if (order) await tx.orders.update(order.id, { flags: [...order.flags, ...flags] }, ctx.now);
  }
  return { created: log.created, notes: log.notes };
}

type FactOf<T extends ChannelFact['type']> = Extract<ChannelFact, { type: T }>;

const lineDetail = (ls: FactLine[]) => ({ lines: ls.map((l) => ({ lineId: l.lineId, quantity: l.quantity })) });

/** One event's writes to the transaction log: a step per fact, linked to the movements it booked. */
class OrderLogWriter {
  readonly created: OrderEventRecord[] = [];
  readonly notes: LogNote[];

  constructor(
    private readonly tx: StoreOps,
    private readonly ctx: LogContext,
    earlier: LogNote[],
  ) {
    this.notes = [...earlier];
  }

  /** What this event booked is at hand; a key booked by an earlier delivery is looked up on its own. */
  private async movementFor(key: string): Promise<Movement | null> {
    return this.ctx.booked.get(key) ?? (await this.tx.ledger.movementByKey(key));
  }

  /** Adds a step to the order (once per kind and id) and links the movements booked under `keys`. */
  private async add(order: OrderRecord, kind: OrderEventKind, externalId: string, occurredAt: string, currency: string | null, amount: number | null, detail: Record<string, unknown>, keys: string[], flags: string[] = []) {
    const { event, created: isNew } = await this.tx.orders.addEvent({ orderId: order.id, kind, externalId, currency, amount, detail, flags, eventId: this.ctx.eventId, occurredAt }, this.ctx.now);
    const ids: number[] = [];
    for (const key of keys) {
      const m = await this.movementFor(key);
      if (m) ids.push(m.id);
    }
    await this.tx.orders.linkMovements(order.id, event.id, ids);
    if (isNew) this.created.push(event);
    return { event, isNew };
  }

  private async knownLines(orderId: number): Promise<Map<string, OrderLineRecord>> {
    return new Map((await this.tx.orders.lines(orderId)).map((l) => [l.lineId, l]));
  }

  async sale(f: FactOf<'sale'>): Promise<void> {
    const { tx, ctx } = this;
    const { order, isNew } = await ensureOrder(tx, ctx, f.orderId, f.occurredAt, f.order, this.notes);
    const known = isNew ? new Map<string, OrderLineRecord>() : await this.knownLines(order.id);
    const fresh = f.lines.filter((l) => !known.has(l.lineId));
    // Our SKU as the booking resolved it (a Square line names a catalog object, not a SKU).
    const skus = new Map<string, string>();
    for (const l of known.values()) if (l.sku) skus.set(l.lineId, l.sku);
    for (const l of fresh) {
      const m = await this.movementFor(saleKey(ctx.channelId, f.orderId, l.lineId));
      if (m) skus.set(l.lineId, m.sku);
    }
    // The same lines again (a redelivery, an update repeating the order): only newer prices to keep.
    if (fresh.length === 0) {
      if (f.order) await tx.orders.upsertLines(order.id, linesOf(f.lines, f.order, skus));
      return;
    }
    await tx.orders.upsertLines(order.id, linesOf(f.order ? f.lines : fresh, f.order, skus));
    const keys = fresh.map((l) => saleKey(ctx.channelId, f.orderId, l.lineId));
    const placed = await this.add(order, 'placed', f.orderId, f.order?.placedAt ?? f.occurredAt, f.order?.currency ?? null, f.order?.total ?? null, lineDetail(fresh), keys);
    // New lines on an order placed before: what an exchange adds (Shopify returns/process).
    if (!placed.isNew) await this.add(order, 'exchange', `lines:${fresh.map((l) => l.lineId).sort().join(',')}`, f.occurredAt, null, null, lineDetail(fresh), keys);
  }

  async refund(f: FactOf<'refund'>): Promise<void> {
    const { tx, ctx } = this;
    const { order } = await ensureOrder(tx, ctx, f.orderId, f.occurredAt, undefined, this.notes);
    const restocked = f.lines.filter((l) => l.restock && l.quantity > 0);
    const kind: OrderEventKind = restocked.length > 0 ? 'return' : 'refund';
    const prior = await tx.orders.event(order.id, kind, f.refundId);
    const flags = prior ? [] : this.refundFlags(f, order);
    // money null: the platform says nothing went back; undefined: it did not say how much.
    const amount = f.money === null ? 0 : (f.money?.amount ?? null);
    const currency = f.money === null ? order.currency : (f.money?.currency ?? null);
    const detail = { lines: f.lines.map((l) => ({ lineId: l.lineId, quantity: l.quantity, restock: l.restock })) };
    const step = await this.add(order, kind, f.refundId, f.occurredAt, currency, amount, detail, restocked.map((l) => refundKey(ctx.channelId, f.refundId, l.lineId)), flags);
    if (prior || !step.isNew) return;
    await this.markReturned(order, f);
    const refunded = order.refunded + (amount ?? 0);
    await tx.orders.update(order.id, { refunded, status: order.status === 'cancelled' ? 'cancelled' : ORDER_STATUS_AFTER_REFUND(refunded, order.total), ...(flags.length ? { flags: [...order.flags, ...flags] } : {}) }, ctx.now);
  }

  /** A refund in another currency than its order, or beyond what the order took: flagged, with a note. */
  private refundFlags(f: FactOf<'refund'>, order: OrderRecord): string[] {
    if (!f.money) return [];
    if (order.currency && f.money.currency !== order.currency) {
      this.notes.push({ orderRef: f.orderId, flag: 'refund_currency_differs', message: `Refund ${f.refundId} of order ${f.orderId} is in ${f.money.currency}, the order in ${order.currency}.` });
      return ['refund_currency_differs'];
    }
    if (order.total !== null && order.refunded + f.money.amount > order.total) {
      this.notes.push({
        orderRef: f.orderId,
        flag: 'refund_exceeds_order',
        message: `Refund ${f.refundId} of order ${f.orderId} (${f.money.amount} in minor units) brings the refunds to more than the order's total (${order.total}); check it on the channel.`,
      });
      return ['refund_exceeds_order'];
    }
    return [];
  }

  /** The units a refund sends back, counted on the order lines they were sold on. */
  private async markReturned(order: OrderRecord, f: FactOf<'refund'>): Promise<void> {
    const known = await this.knownLines(order.id);
    for (const l of f.lines) {
      if (l.quantity <= 0) continue;
      // Square names a return line by its own id: its booking's SKU finds the order line.
      let line = orderLineOf(known, l.lineId);
      if (!line) {
        const sku = (await this.movementFor(refundKey(this.ctx.channelId, f.refundId, l.lineId)))?.sku ?? l.sku;
        const same = [...known.values()].filter((x) => sku !== null && x.sku === sku);
        if (same.length === 1) line = same[0];
      }
      if (line) await this.tx.orders.addReturned(order.id, line.lineId, l.quantity);
    }
  }

  async cancellation(f: FactOf<'cancellation'>): Promise<void> {
    const { tx, ctx } = this;
    const { order } = await ensureOrder(tx, ctx, f.orderId, f.occurredAt, f.order, this.notes);
    const prior = await tx.orders.event(order.id, 'cancellation', f.orderId);
    const detail = { lines: f.lines.map((l) => ({ lineId: l.lineId, quantity: l.quantity, restock: l.restock })) };
    await this.add(order, 'cancellation', f.orderId, f.occurredAt, f.order?.currency ?? order.currency, null, detail, f.lines.filter((l) => l.restock).map((l) => cancelKey(ctx.channelId, f.orderId, l.lineId)));
    if (prior) return;
    const known = await this.knownLines(order.id);
    for (const l of f.lines) if (l.restock && l.quantity > 0) await tx.orders.addReturned(order.id, orderLineOf(known, l.lineId)?.lineId ?? l.lineId, l.quantity);
    await tx.orders.update(order.id, { status: 'cancelled', fulfilmentStatus: 'cancelled', ...(f.order ? { paymentStatus: f.order.paymentStatus } : {}) }, ctx.now);
  }

  async orderUpdated(f: FactOf<'order_updated'>): Promise<void> {
    const { tx, ctx } = this;
    const { order, before } = await ensureOrder(tx, ctx, f.orderId, f.occurredAt, f.order, this.notes);
    // Newer prices for lines a sale recorded; lines themselves come only from sale facts, so a
    // line first seen here is still recorded as sold (or exchanged) when its sale fact comes.
    if (before && f.order.lines.length > 0) {
      const known = await this.knownLines(order.id);
      const priced = linesOf([], { ...f.order, lines: f.order.lines.filter((l) => known.has(l.lineId)) }, new Map([...known].flatMap(([id, l]) => (l.sku ? [[id, l.sku] as [string, string]] : []))));
      await tx.orders.upsertLines(order.id, priced);
    }
    const was = before ?? { paymentStatus: 'unknown', fulfilmentStatus: 'unknown' };
    if (f.order.paymentStatus === 'paid' && was.paymentStatus !== 'paid') await this.add(order, 'paid', 'paid', f.occurredAt, f.order.currency, f.order.total, { change: f.change }, []);
    else if (f.order.fulfilmentStatus === 'fulfilled' && was.fulfilmentStatus !== 'fulfilled') await this.add(order, 'fulfilled', 'fulfilled', f.occurredAt, null, null, { change: f.change }, []);
    else if (before && (f.order.paymentStatus !== was.paymentStatus || f.order.fulfilmentStatus !== was.fulfilmentStatus)) {
      await this.add(order, 'updated', `${f.order.paymentStatus}/${f.order.fulfilmentStatus}`, f.occurredAt, null, null, { change: f.change, paymentStatus: f.order.paymentStatus, fulfilmentStatus: f.order.fulfilmentStatus }, []);
    }
  }
}

/**
 * The order as the log keeps it, created on first sight (from a sale, or from a refund that came
 * first). `before`: the order as it was, when it was known already.
 */
async function ensureOrder(tx: StoreOps, ctx: LogContext, orderId: string, occurredAt: string, details: OrderDetails | undefined, notes: LogNote[]): Promise<{ order: OrderRecord; isNew: boolean; before: OrderRecord | null }> {
  const existing = await tx.orders.byExternal(ctx.channelId, orderId);
  const flags: string[] = [];
  if (details && ctx.config.currencies.length > 0 && !ctx.config.currencies.includes(details.currency) && !existing?.flags.includes('currency_not_accepted')) {
    flags.push('currency_not_accepted');
    notes.push({
      orderRef: orderId,
      flag: 'currency_not_accepted',
      message: `Order ${details.number ?? orderId} on ${ctx.channelName} is in ${details.currency}, which is not one of your currencies (${ctx.config.currencies.join(', ')}). Its stock was booked; its money is kept apart in reports until you check it.`,
    });
  }
  const money = details
    ? {
        number: details.number,
        currency: details.currency,
        subtotal: details.subtotal,
        discount: details.discount,
        tax: details.tax,
        shipping: details.shipping,
        total: details.total,
        paymentStatus: details.paymentStatus,
        fulfilmentStatus: details.fulfilmentStatus,
        customerRef: details.customerRef,
        contact: ctx.config.keepContactDetails ? details.contact : null,
      }
    : null;
  if (existing) {
    // A later event may bring the money an earlier one lacked, or newer states; the first placed time stays.
    if (!money || existing.status === 'cancelled') return { order: existing, isNew: false, before: existing };
    const patch = { ...money, ...(flags.length ? { flags: [...existing.flags, ...flags] } : {}) };
    const changed = Object.entries(patch).some(([k, v]) => JSON.stringify(v) !== JSON.stringify((existing as unknown as Record<string, unknown>)[k]));
    if (!changed) return { order: existing, isNew: false, before: existing };
    await tx.orders.update(existing.id, patch, ctx.now);
    return { order: { ...existing, ...patch, updatedAt: ctx.now }, isNew: false, before: existing };
  }
  const order = await tx.orders.insert(
    {
      channelId: ctx.channelId,
      externalId: orderId,
      number: money?.number ?? null,
      currency: money?.currency ?? null,
      subtotal: money?.subtotal ?? null,
      discount: money?.discount ?? null,
      tax: money?.tax ?? null,
      shipping: money?.shipping ?? null,
      total: money?.total ?? null,
      refunded: 0,
      paymentStatus: money?.paymentStatus ?? 'unknown',
      fulfilmentStatus: money?.fulfilmentStatus ?? 'unknown',
      status: 'open',
      customerRef: money?.customerRef ?? null,
      contact: money?.contact ?? null,
      flags,
      placedAt: details?.placedAt ?? occurredAt,
    },
    ctx.now,
  );
  return { order, isNew: true, before: null };
}

/** The priced lines: from the order details where the platform sent them, else quantities only. */
function linesOf(lines: FactLine[], details: OrderDetails | undefined, resolved: Map<string, string> = new Map()): Omit<OrderLineRecord, 'returned'>[] {
  const priced = new Map((details?.lines ?? []).map((l) => [l.lineId, l]));
  const out = new Map<string, Omit<OrderLineRecord, 'returned'>>();
  for (const l of lines) {
    const p = priced.get(l.lineId);
    out.set(l.lineId, { lineId: l.lineId, sku: resolved.get(l.lineId) ?? p?.sku ?? l.sku, title: p?.title ?? null, quantity: l.quantity, unitPrice: p?.unitPrice ?? null, discount: p?.discount ?? 0, tax: p?.tax ?? 0, total: p?.total ?? null });
  }
  for (const p of priced.values()) {
    if (!out.has(p.lineId)) out.set(p.lineId, { lineId: p.lineId, sku: resolved.get(p.lineId) ?? p.sku, title: p.title, quantity: p.quantity, unitPrice: p.unitPrice, discount: p.discount, tax: p.tax, total: p.total });
  }
  return [...out.values()];
}
