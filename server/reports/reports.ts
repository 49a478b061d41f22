/**
 * What the hub tells about orders and stock over time (docs/orders.md): the transaction log as a
 * page or an export, the audit export, sales reports, the dashboard and reorder suggestions.
 * Reads only; every figure comes from the ledger and the log.
 */
import crypto from 'node:crypto';
import type { Announcer } from '../announce';
import type { HubConfig } from '../config';
import type { OrderQuery, OrderRecord, Store, StoreOps } from '../store/types';
import { formatMinor } from '../shared/money';
import { nextCursor } from '../api/http';
import { reorderWindow, suggestReorder, type ReorderSuggestion } from '../core/reorder';

export interface Money {
  currency: string;
  amount: number;
}

const addMoney = (list: Money[], currency: string, amount: number) => {
  const m = list.find((x) => x.currency === currency);
  if (m) m.amount += amount;
  else list.push({ currency, amount });
};

/** Orders with their lines, steps and linked movements, for the API. */
export async function orderPage(store: StoreOps, q: OrderQuery) {
  const orders = await store.orders.list(q);
  return { orders: await expandOrders(store, orders), nextCursor: nextCursor(orders, q.limit, (o) => o.id) };
}

export async function expandOrders(store: StoreOps, orders: OrderRecord[]) {
  const ids = orders.map((o) => o.id);
  const [lines, events, movements] = await Promise.all([store.orders.linesOf(ids), store.orders.events(ids), store.orders.linkedMovements(ids)]);
  return orders.map((o) => ({
    ...o,
    lines: lines.get(o.id) ?? [],
    events: events.filter((e) => e.orderId === o.id).map((e) => ({ ...e, movementIds: movements.filter((m) => m.orderEventId === e.id).map((m) => m.id) })),
    movements: movements.filter((m) => m.orderId === o.id).map(({ orderId: _o, orderEventId, ...m }) => ({ ...m, orderEventId })),
  }));
}

/** A CSV field: quoted when needed; a leading =, +, - or @ is prefixed so a spreadsheet never runs it. */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  let s = String(v);
  if (/^[=+\-@\t\r]/.test(s) && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const csvLine = (fields: unknown[]) => `${fields.map(csvField).join(',')}\r\n`;

const money = (amount: number | null, currency: string | null) => (amount === null || currency === null ? '' : formatMinor(amount, currency));

export const TRANSACTION_CSV_HEADER = [
  'occurred_at', 'channel', 'order_id', 'order_number', 'step', 'step_id', 'currency', 'amount', 'amount_minor', 'order_subtotal', 'order_discount', 'order_tax', 'order_shipping', 'order_total', 'order_refunded',
  'payment_status', 'fulfilment_status', 'order_status', 'customer_ref', 'lines', 'movement_ids', 'flags', 'inbound_event',
];

/** Every step of every order in [from, to), oldest first, one CSV row or JSON object each; streamed by page. */
export async function* transactionExport(store: Store, range: { from?: string | undefined; to?: string | undefined }, format: 'csv' | 'json'): AsyncGenerator<string> {
  if (format === 'csv') yield csvLine(TRANSACTION_CSV_HEADER);
  else yield '{"transactions":[';
  let afterId: number | undefined;
  let first = true;
  for (;;) {
    const events = await store.orders.listEvents({ ...range, afterId, limit: 500 });
    if (events.length === 0) break;
    afterId = events[events.length - 1]!.id;
    const orders = await store.orders.byIds(events.map((e) => e.orderId));
    const moved = await store.orders.linkedMovements([...orders.keys()]);
    const lines = await store.orders.linesOf([...orders.keys()]);
    for (const e of events) {
      const o = orders.get(e.orderId)!;
      const movementIds = moved.filter((m) => m.orderEventId === e.id).map((m) => m.id);
      const stepLines = ((e.detail.lines as { lineId: string; quantity: number; restock?: boolean }[] | undefined) ?? []).map((l) => {
        const known = lines.get(o.id)?.find((x) => x.lineId === l.lineId);
        return { ...l, sku: known?.sku ?? null, unitPrice: known?.unitPrice ?? null };
      });
      if (format === 'csv') {
        yield csvLine([
          e.occurredAt, o.channelId, o.externalId, o.number, e.kind, e.externalId, e.currency ?? o.currency, money(e.amount, e.currency ?? o.currency), e.amount,
          money(o.subtotal, o.currency), money(o.discount, o.currency), money(o.tax, o.currency), money(o.shipping, o.currency), money(o.total, o.currency), money(o.refunded, o.currency),
          o.paymentStatus, o.fulfilmentStatus, o.status, o.customerRef,
          stepLines.map((l) => `${l.sku ?? l.lineId} x${l.quantity}${l.restock === false ? ' (not restocked)' : ''}`).join('; '),
          movementIds.join(' '), [...new Set([...o.flags, ...e.flags])].join(' '), e.eventId,
        ]);
      } else {
        const { contact: _contact, ...order } = o;
        yield `${first ? '' : ','}${JSON.stringify({ ...e, lines: stepLines, movementIds, order })}`;
        first = false;
      }
    }
    if (events.length < 500) break;
  }
  if (format === 'json') yield ']}';
}

export const AUDIT_CSV_HEADER = [
  'movement_id', 'occurred_at', 'recorded_at', 'sku', 'location', 'quantity', 'reason', 'source', 'channel', 'external_ref', 'counted', 'actor', 'note', 'idempotency_key',
  'order_id', 'order_step_id', 'event_id', 'event_source', 'event_kind', 'event_dedupe_key', 'event_received_at', 'event_sha256',
];

/**
 * The audit export for [from, to): opening levels at `from`, every movement in between with the
 * inbound event that caused it (its raw body's SHA-256, so the stored original can be matched),
 * and closing levels. Opening + movements = closing, per item and location.
 */
export async function* auditExport(store: Store, range: { from: string; to: string }, format: 'csv' | 'json', withBodies: boolean): AsyncGenerator<string> {
  const opening = await store.reports.levelsAt(range.from);
  const closing = await store.reports.levelsAt(range.to);
  if (format === 'csv') {
    yield `# stockrelay audit export from ${range.from} to ${range.to}; opening and closing levels: GET /v1/audit?format=json\r\n`;
    yield csvLine(AUDIT_CSV_HEADER);
  } else {
    yield `{"from":${JSON.stringify(range.from)},"to":${JSON.stringify(range.to)},"opening":${JSON.stringify(opening)},"movements":[`;
  }
  let afterId: number | undefined;
  let first = true;
  for (;;) {
    const rows = await store.reports.auditMovements({ ...range, afterId, limit: 500 });
    if (rows.length === 0) break;
    afterId = Number(rows[rows.length - 1]!.movement.id);
    const events = await store.reports.inboxEvents(rows.map((r) => r.movement.event_id).filter((id) => id !== null).map(Number));
    for (const r of rows) {
      const m = r.movement;
      const e = m.event_id !== null ? events.get(Number(m.event_id)) : undefined;
      const digest = e ? crypto.createHash('sha256').update(e.body).digest('hex') : null;
      if (format === 'csv') {
        yield csvLine([
          m.id, m.occurred_at, m.recorded_at, m.sku, m.location_id, m.quantity, m.reason, m.source, m.channel_id, m.external_ref, m.counted_quantity, m.actor, m.note, m.idempotency_key,
          r.orderId, r.orderEventId, m.event_id, e?.source, e?.kind, e?.dedupe_key, e?.received_at, digest,
        ]);
      } else {
        const event = e ? { id: Number(e.id), source: e.source, kind: e.kind, dedupeKey: e.dedupe_key, receivedAt: e.received_at, status: e.status, sha256: digest, ...(withBodies ? { body: e.body } : {}) } : null;
        yield `${first ? '' : ','}${JSON.stringify({
          id: Number(m.id), occurredAt: m.occurred_at, recordedAt: m.recorded_at, sku: m.sku, locationId: m.location_id, quantity: m.quantity, reason: m.reason, source: m.source, channelId: m.channel_id,
          externalRef: m.external_ref, countedQuantity: m.counted_quantity, actor: m.actor, note: m.note, idempotencyKey: m.idempotency_key, orderId: r.orderId, orderStepId: r.orderEventId, event,
        })}`;
        first = false;
      }
    }
    if (rows.length < 500) break;
  }
  if (format === 'json') yield `],"closing":${JSON.stringify(closing)}}`;
}

const DAY = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Sales by day, channel and SKU for [from, to) (whole UTC days), with returns rate and sell-through. */
export async function salesReport(store: Store, config: Pick<HubConfig, 'channels' | 'orders'>, from: string, to: string) {
  const [units, moneyRows, revenue, opening, items] = await Promise.all([store.reports.unitsByDay(from, to), store.reports.moneyByDay(from, to), store.reports.revenueBySku(from, to), store.reports.levelsAt(from), allItems(store)]);
  const names = new Map(config.channels.map((c) => [c.id, c.name]));
  const channelKey = (u: { channelId: string | null; source: string }) => u.channelId ?? u.source;
  const days = new Map<string, { day: string; units: number; orders: number; returned: number; revenue: Money[] }>();
  for (let t = Date.parse(`${from.slice(0, 10)}T00:00:00Z`); t < Date.parse(to); t += DAY) days.set(dayOf(t), { day: dayOf(t), units: 0, orders: 0, returned: 0, revenue: [] });
  const channels = new Map<string, { channelId: string; name: string; units: number; orders: number; returned: number; revenue: Money[] }>();
  const skus = new Map<string, { sku: string; title: string | null; units: number; returned: number; revenue: Money[] }>();
  const ch = (id: string) => channels.get(id) ?? channels.set(id, { channelId: id, name: names.get(id) ?? id, units: 0, orders: 0, returned: 0, revenue: [] }).get(id)!;
  const sk = (sku: string) => skus.get(sku) ?? skus.set(sku, { sku, title: items.get(sku) ?? null, units: 0, returned: 0, revenue: [] }).get(sku)!;
  let sold = 0;
  let returned = 0;
  let received = 0;
  for (const u of units) {
    const d = days.get(u.day);
    if (u.reason === 'sale') {
      sold += -u.units;
      if (d) d.units += -u.units;
      ch(channelKey(u)).units += -u.units;
      sk(u.sku).units += -u.units;
    } else if (u.reason === 'return') {
      returned += u.units;
      if (d) d.returned += u.units;
      ch(channelKey(u)).returned += u.units;
      sk(u.sku).returned += u.units;
    } else if (u.reason === 'receipt' || u.reason === 'restock') {
      received += u.units;
    }
  }
  const totalsRevenue: Money[] = [];
  let orders = 0;
  for (const m of moneyRows) {
    const d = days.get(m.day);
    const sign = m.kind === 'placed' ? 1 : -1;
    if (m.kind === 'cancellation') continue;
    if (m.kind === 'placed') {
      orders += m.count;
      if (d) d.orders += m.count;
      ch(m.channelId).orders += m.count;
    }
    if (d) addMoney(d.revenue, m.currency, sign * m.amount);
    addMoney(ch(m.channelId).revenue, m.currency, sign * m.amount);
    addMoney(totalsRevenue, m.currency, sign * m.amount);
  }
  for (const r of revenue) addMoney(sk(r.sku).revenue, r.currency, r.amount);
  const openingUnits = opening.reduce((n, l) => n + Math.max(0, l.onHand), 0);
  const main = config.orders.currencies[0] ?? totalsRevenue.sort((a, b) => b.amount - a.amount)[0]?.currency ?? null;
  return {
    from: from.slice(0, 10),
    to: dayOf(Date.parse(to) - 1),
    currency: main,
    days: [...days.values()],
    channels: [...channels.values()].sort((a, b) => b.units - a.units),
    skus: [...skus.values()].sort((a, b) => b.units - a.units || a.sku.localeCompare(b.sku)),
    totals: {
      units: sold,
      orders,
      returned,
      /** Units returned per unit sold in the period. */
      returnsRate: sold > 0 ? round(returned / sold, 4) : 0,
      /** Units sold over units available to sell (on hand at the start plus received during the period). */
      sellThrough: openingUnits + received > 0 ? round(sold / (openingUnits + received), 4) : 0,
      revenue: totalsRevenue,
    },
  };
}

const round = (x: number, places: number) => Math.round(x * 10 ** places) / 10 ** places;

async function allItems(store: Store): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  for (let cursor: string | undefined; ; ) {
    const page = await store.items.list({ limit: 500, cursor });
    for (const i of page) out.set(i.sku, i.title);
    if (page.length < 500) break;
    cursor = page[page.length - 1]!.sku;
  }
  return out;
}

/** The last `days` whole UTC days up to and including today. */
export function lastDays(now: Date, days: number): { from: string; to: string } {
  const end = Math.floor(now.getTime() / DAY) * DAY + DAY;
  return { from: new Date(end - days * DAY).toISOString(), to: new Date(end).toISOString() };
}

/** The dashboard the add-on draws: the sales report of the last `days` days, top 10 items. */
export async function dashboard(store: Store, config: Pick<HubConfig, 'channels' | 'orders'>, now: Date, days: number) {
  const { from, to } = lastDays(now, days);
  const r = await salesReport(store, config, from, to);
  return { ...r, skus: r.skus.slice(0, 10) };
}

export interface ReorderRow extends ReorderSuggestion {
  sku: string;
  title: string | null;
  available: number;
  incoming: number;
  leadTimeDays: number;
  safetyStock: number;
  /** Why this item has no suggestion (a number stored before the bound on quantities, docs/ledger.md). */
  problem?: string;
}

/** Reorder suggestions for every active item, those to order now first. */
export async function reorderReport(store: Store, config: Pick<HubConfig, 'reorder'>, now: Date): Promise<{ generatedAt: string; windowDays: number; items: ReorderRow[] }> {
  const { windowDays } = config.reorder;
  const nowIso = now.toISOString();
  const { from } = reorderWindow(nowIso, windowDays);
  const rows: ReorderRow[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await store.items.list({ limit: 500, cursor, status: 'active' });
    const skus = page.map((i) => i.sku);
    const [levels, moves, incoming] = await Promise.all([store.ledger.levelsFor(skus), store.reports.movementsOfSince(skus, from), store.supplierOrders.incoming(skus)]);
    for (const item of page) {
      const mine = levels.filter((l) => l.sku === item.sku);
      const onHand = mine.reduce((n, l) => n + l.onHand, 0);
      const available = mine.reduce((n, l) => n + l.onHand - l.reserved, 0);
      const leadTimeDays = item.leadTimeDays ?? config.reorder.leadTimeDays;
      const safetyStock = item.safetyStock ?? config.reorder.safetyStock;
      let s: ReorderSuggestion & { problem?: string };
      try {
        s = suggestReorder({
          movements: moves.filter((m) => m.sku === item.sku),
          onHandNow: onHand,
          now: nowIso,
          windowDays,
          available,
          incoming: incoming.get(item.sku) ?? 0,
          leadTimeDays,
          safetyStock,
          reviewDays: config.reorder.reviewDays,
        });
      } catch (err) {
        // One item's unreadable numbers (say, a level stored before the bound existed) cost that item
        // its suggestion, never the whole report its answer.
        if (!(err instanceof RangeError)) throw err;
        s = { velocityPerDay: 0, soldInWindow: 0, inStockDays: 0, reorderPoint: 0, suggestedQuantity: 0, daysOfCover: null, belowLeadTime: false, problem: `No suggestion for ${item.sku}: ${err.message} If its stock is wrong, count it; a number stored before the hub bounded quantities (docs/ledger.md) stops counting here once it is older than the ${windowDays}-day sales window.` };
      }
      rows.push({ sku: item.sku, title: item.title, available, incoming: incoming.get(item.sku) ?? 0, leadTimeDays, safetyStock, ...s });
    }
    if (page.length < 500) break;
    cursor = page[page.length - 1]!.sku;
  }
  const orderNow = (r: ReorderRow) => r.belowLeadTime || r.suggestedQuantity > 0;
  rows.sort((a, b) => Number(orderNow(b)) - Number(orderNow(a)) || (a.daysOfCover ?? Infinity) - (b.daysOfCover ?? Infinity) || a.sku.localeCompare(b.sku));
  return { generatedAt: nowIso, windowDays, items: rows };
}

/**
 * Raises a `reorder` alert for every item whose days of cover fell below its lead time, and
 * resolves it once cover is back (stock arrived, or sales slowed). Returns the alerts opened.
 * Each goes through the hub's one path for alerts (server/announce.ts): the sheet, Airtable and the
 * `alert.raised` subscribers get it, from the hourly check and from POST /v1/reorder/check alike.
 */
export async function checkReorder(store: Store, config: Pick<HubConfig, 'reorder'>, now: Date, alerts: Pick<Announcer, 'raise'>): Promise<number> {
  const report = await reorderReport(store, config, now);
  let opened = 0;
  const at = now.toISOString();
  // One transaction for the whole check: one commit, however many items.
  await store.transaction(async (tx) => {
    for (const r of report.items) {
      if (r.belowLeadTime) {
        const message = `${r.sku}${r.title ? ` (${r.title})` : ''} has about ${r.daysOfCover ?? 0} days of stock left at ${r.velocityPerDay}/day, less than its ${r.leadTimeDays}-day lead time.${r.incoming > 0 ? ` ${r.incoming} are on order.` : ''} Suggested order: ${r.suggestedQuantity}.`;
        if (await alerts.raise(tx, { kind: 'reorder', severity: 'warning', sku: r.sku, locationId: null, message }, at)) opened++;
      } else {
        await tx.alerts.resolve(r.sku, null, ['reorder'], at);
      }
    }
  });
  return opened;
}

