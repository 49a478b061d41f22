/**
 * The merged transaction log (docs/orders.md): every order, payment, refund, return, exchange and
 * cancellation a channel reports, normalised and kept with the movements it caused. Called by the
 * inbox processor inside the booking's own transaction, so the log never shows a sale the ledger
 * does not have, nor misses one it has.
 */
import type { OrdersConfig } from '../config';
import type { ChannelFact, FactLine, OrderDetails } from '../connectors/types';
import type { OrderEventKind, OrderEventRecord, OrderLineRecord, OrderOps, OrderRecord } from '../store/order-ops';
import type { StoreOps } from '../store/types';

export interface LogContext {
  channelId: string;
  channelName: string;
  config: OrdersConfig;
  /** The inbound event being handled. */
  eventId: number;
  now: string;
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

/** The booking keys planFacts gives each line (server/channels/plan.ts): the log links movements by them. */
export const saleKey = (channelId: string, orderId: string, lineId: string) => `sale:${channelId}:${orderId}:${lineId}`;
export const refundKey = (channelId: string, refundId: string, lineId: string) => `refund:${channelId}:${refundId}:${lineId}`;
export const cancelKey = (channelId: string, orderId: string, lineId: string) => `cancel:${channelId}:${orderId}:${lineId}`;

/**
 * A refund or cancellation that would put back more units of a line than the order sold (less what
 * already came back) is cut to what was sold before anything is booked, and flagged. Lines of
 * orders the log does not know yet pass unchanged: there is nothing to check them against.
 */
export async function guardReturns(tx: StoreOps, channelId: string, facts: ChannelFact[]): Promise<{ facts: ChannelFact[]; notes: LogNote[] }> {
  const ops = tx.orders();
  const notes: LogNote[] = [];
  const out: ChannelFact[] = [];
  for (const f of facts) {
    if (f.type !== 'refund' && f.type !== 'cancellation') {
      out.push(f);
      continue;
    }
    const order = await ops.orderByExternal(channelId, f.orderId);
    if (!order) {
      out.push(f);
      continue;
    }
    const lines = new Map((await ops.orderLines(order.id)).map((l) => [l.lineId, l]));
    // Units this fact's lines would put back, per order line, counting several lines of one fact.
    const taking = new Map<string, number>();
    const kept: (FactLine & { restock: boolean })[] = [];
    for (const l of f.lines) {
      const known = orderLineOf(lines, l.lineId);
      const key = f.type === 'refund' ? refundKey(channelId, f.refundId, l.lineId) : cancelKey(channelId, f.orderId, l.lineId);
      // Already booked (a redelivery): booking dedupes it, nothing to check.
      if (!known || !l.restock || (await tx.movementByKey(key))) {
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
  const ops = tx.orders();
  const created: OrderEventRecord[] = [];
  const notes: LogNote[] = [...earlier];
  const flagged = new Map<string, string[]>();
  for (const n of earlier) if (n.flag) flagged.set(n.orderRef, [...(flagged.get(n.orderRef) ?? []), n.flag]);

  const add = async (order: OrderRecord, kind: OrderEventKind, externalId: string, occurredAt: string, currency: string | null, amount: number | null, detail: Record<string, unknown>, keys: string[], flags: string[] = []) => {
    const { event, created: isNew } = await ops.addOrderEvent({ orderId: order.id, kind, externalId, currency, amount, detail, flags, eventId: ctx.eventId, occurredAt }, ctx.now);
    for (const key of keys) {
      const m = await tx.movementByKey(key);
      if (m) await ops.linkMovement(order.id, event.id, m.id);
    }
    if (isNew) created.push(event);
    return event;
  };

  for (const f of facts) {
    switch (f.type) {
      case 'sale': {
        const { order, isNew } = await ensureOrder(ops, ctx, f.orderId, f.occurredAt, f.order, notes);
        const before = isNew ? new Set<string>() : new Set((await ops.orderLines(order.id)).map((l) => l.lineId));
        // Our SKU as the booking resolved it (a Square line names a catalog object, not a SKU).
        const resolved = new Map<string, string>();
        for (const l of f.lines) {
          const m = await tx.movementByKey(saleKey(ctx.channelId, f.orderId, l.lineId));
          if (m) resolved.set(l.lineId, m.sku);
        }
        await ops.upsertOrderLines(order.id, linesOf(f.lines, f.order, resolved));
        const keys = f.lines.map((l) => saleKey(ctx.channelId, f.orderId, l.lineId));
        const placed = await ops.orderEvent(order.id, 'placed', f.orderId);
        if (!placed) {
          await add(order, 'placed', f.orderId, f.order?.placedAt ?? f.occurredAt, f.order?.currency ?? null, f.order?.total ?? null, { lines: f.lines.map((l) => ({ lineId: l.lineId, quantity: l.quantity })) }, keys);
        } else {
          const added = f.lines.filter((l) => !before.has(l.lineId));
          // New lines on an order already placed: what an exchange adds (Shopify returns/process).
          if (added.length > 0) {
            await add(order, 'exchange', `lines:${added.map((l) => l.lineId).sort().join(',')}`, f.occurredAt, null, null, { lines: added.map((l) => ({ lineId: l.lineId, quantity: l.quantity })) }, added.map((l) => saleKey(ctx.channelId, f.orderId, l.lineId)));
          } else {
            for (const key of keys) {
              const m = await tx.movementByKey(key);
              if (m) await ops.linkMovement(order.id, placed.id, m.id);
            }
          }
        }
        break;
      }
      case 'refund': {
        const { order } = await ensureOrder(ops, ctx, f.orderId, f.occurredAt, undefined, notes);
        const restocked = f.lines.filter((l) => l.restock && l.quantity > 0);
        const kind: OrderEventKind = restocked.length > 0 ? 'return' : 'refund';
        const prior = await ops.orderEvent(order.id, kind, f.refundId);
        const flags: string[] = [];
        // money null: the platform says nothing went back; undefined: it did not say how much.
        const amount = f.money === null ? 0 : (f.money?.amount ?? null);
        if (!prior && f.money) {
          if (order.currency && f.money.currency !== order.currency) {
            flags.push('refund_currency_differs');
            notes.push({ orderRef: f.orderId, flag: 'refund_currency_differs', message: `Refund ${f.refundId} of order ${f.orderId} is in ${f.money.currency}, the order in ${order.currency}.` });
          } else if (order.total !== null && order.refunded + f.money.amount > order.total) {
            flags.push('refund_exceeds_order');
            notes.push({
              orderRef: f.orderId,
              flag: 'refund_exceeds_order',
              message: `Refund ${f.refundId} of order ${f.orderId} (${f.money.amount} in minor units) brings the refunds to more than the order's total (${order.total}); check it on the channel.`,
            });
          }
        }
        const event = await add(
          order,
          kind,
          f.refundId,
          f.occurredAt,
          f.money === null ? order.currency : (f.money?.currency ?? null),
          amount,
          { lines: f.lines.map((l) => ({ lineId: l.lineId, quantity: l.quantity, restock: l.restock })) },
          restocked.map((l) => refundKey(ctx.channelId, f.refundId, l.lineId)),
          flags,
        );
        if (!prior && created.includes(event)) {
          const known = new Map((await ops.orderLines(order.id)).map((x) => [x.lineId, x]));
          for (const l of f.lines) if (l.quantity > 0) await ops.addReturned(order.id, orderLineOf(known, l.lineId)?.lineId ?? l.lineId, l.quantity);
          const refunded = order.refunded + (amount ?? 0);
          await ops.updateOrder(order.id, { refunded, status: order.status === 'cancelled' ? 'cancelled' : ORDER_STATUS_AFTER_REFUND(refunded, order.total), ...(flags.length ? { flags: [...order.flags, ...flags] } : {}) }, ctx.now);
        }
        break;
      }
      case 'cancellation': {
        const { order } = await ensureOrder(ops, ctx, f.orderId, f.occurredAt, f.order, notes);
        const prior = await ops.orderEvent(order.id, 'cancellation', f.orderId);
        await add(order, 'cancellation', f.orderId, f.occurredAt, f.order?.currency ?? order.currency, null, { lines: f.lines.map((l) => ({ lineId: l.lineId, quantity: l.quantity, restock: l.restock })) }, f.lines.filter((l) => l.restock).map((l) => cancelKey(ctx.channelId, f.orderId, l.lineId)));
        if (!prior) {
          const known = new Map((await ops.orderLines(order.id)).map((x) => [x.lineId, x]));
          for (const l of f.lines) if (l.restock && l.quantity > 0) await ops.addReturned(order.id, orderLineOf(known, l.lineId)?.lineId ?? l.lineId, l.quantity);
          await ops.updateOrder(order.id, { status: 'cancelled', fulfilmentStatus: 'cancelled', ...(f.order ? { paymentStatus: f.order.paymentStatus } : {}) }, ctx.now);
        }
        break;
      }
      case 'order_updated': {
        const prior = await ops.orderByExternal(ctx.channelId, f.orderId);
        const { order } = await ensureOrder(ops, ctx, f.orderId, f.occurredAt, f.order, notes);
        await ops.upsertOrderLines(order.id, linesOf([], f.order));
        const was = prior ?? { paymentStatus: 'unknown', fulfilmentStatus: 'unknown' };
        if (f.order.paymentStatus === 'paid' && was.paymentStatus !== 'paid') await add(order, 'paid', 'paid', f.occurredAt, f.order.currency, f.order.total, { change: f.change }, []);
        else if (f.order.fulfilmentStatus === 'fulfilled' && was.fulfilmentStatus !== 'fulfilled') await add(order, 'fulfilled', 'fulfilled', f.occurredAt, null, null, { change: f.change }, []);
        else if (prior && (f.order.paymentStatus !== was.paymentStatus || f.order.fulfilmentStatus !== was.fulfilmentStatus)) {
          await add(order, 'updated', `${f.order.paymentStatus}/${f.order.fulfilmentStatus}`, f.occurredAt, null, null, { change: f.change, paymentStatus: f.order.paymentStatus, fulfilmentStatus: f.order.fulfilmentStatus }, []);
        }
        break;
      }
      default:
        break;
    }
  }
  for (const [ref, flags] of flagged) {
    const order = await ops.orderByExternal(ctx.channelId, ref);
    if (order) await ops.updateOrder(order.id, { flags: [...order.flags, ...flags] }, ctx.now);
  }
  return { created, notes };
}

/** The order as the log keeps it, created on first sight (from a sale, or from a refund that came first). */
async function ensureOrder(ops: OrderOps, ctx: LogContext, orderId: string, occurredAt: string, details: OrderDetails | undefined, notes: LogNote[]): Promise<{ order: OrderRecord; isNew: boolean }> {
  const existing = await ops.orderByExternal(ctx.channelId, orderId);
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
    if (money && existing.status !== 'cancelled') {
      await ops.updateOrder(existing.id, { ...money, ...(flags.length ? { flags: [...existing.flags, ...flags] } : {}) }, ctx.now);
      return { order: (await ops.getOrder(existing.id))!, isNew: false };
    }
    return { order: existing, isNew: false };
  }
  const order = await ops.insertOrder(
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
  return { order, isNew: true };
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
    if (!out.has(p.lineId)) out.set(p.lineId, { lineId: p.lineId, sku: p.sku, title: p.title, quantity: p.quantity, unitPrice: p.unitPrice, discount: p.discount, tax: p.tax, total: p.total });
  }
  return [...out.values()];
}
