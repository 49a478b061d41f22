/**
 * The API of the transaction log, purchase orders, supplier orders, reports and reorder
 * (docs/orders.md). Writes are stored as inbound events and booked in order by the processor, like
 * every other change; reads come straight from the store.
 */
import crypto from 'node:crypto';
import type express from 'express';
import type { Request, Response } from 'express';
import type { Alerts } from '../alerts';
import type { HubConfig } from '../config';
import type { InboxEntry, Store } from '../store/types';
import type { InboxProcessor, Outcome } from '../inbox/processor';
import { AppError } from './errors';
import { auditExport, checkReorder, dashboard, expandOrders, orderPage, reorderReport, salesReport, transactionExport } from '../orders/reports';
import { viewOf } from '../orders/purchase-orders';
import { cursorOf, nextCursor, pageLimit, wrap } from './http';

export interface OrderRouteDeps {
  store: Store;
  config: Pick<HubConfig, 'locations' | 'channels'> & Partial<Pick<HubConfig, 'orders' | 'reorder'>>;
  processor: InboxProcessor;
  clock: () => Date;
  shuttingDown: () => boolean;
  waitForOutcome(eventId: number): Promise<InboxEntry | null>;
  /** The hub's one path for alerts (server/alerts.ts): a reorder alert reaches the sheet, Airtable and the subscribers. */
  alerts: Pick<Alerts, 'raise'>;
}

const q = (req: Request, name: string) => (typeof req.query[name] === 'string' && req.query[name] !== '' ? (req.query[name] as string) : undefined);
const digest = (v: unknown) => crypto.createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 32);

/** A date (YYYY-MM-DD, the start of that UTC day) or a full timestamp, as an ISO string. */
function instant(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(ms)) throw new AppError(400, 'bad_date', `${name} "${value}" is not a date; use YYYY-MM-DD or an ISO 8601 time.`);
  return new Date(ms).toISOString();
}

/** `to` given as a date means the whole of that day. */
function until(value: string | undefined): string | undefined {
  if (value !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(Date.parse(`${value}T00:00:00Z`) + 86_400_000).toISOString();
  return instant(value, 'to');
}

async function stream(res: Response, parts: AsyncGenerator<string>): Promise<void> {
  for await (const part of parts) {
    if (!res.write(part)) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}

export function registerOrderRoutes(app: express.Express, deps: OrderRouteDeps): void {
  const { store, processor, clock } = deps;
  const config = {
    ...deps.config,
    orders: deps.config.orders ?? { currencies: [], keepContactDetails: false },
    reorder: deps.config.reorder ?? { windowDays: 28, leadTimeDays: 14, safetyStock: 0, reviewDays: 14, checkEveryMs: 0 },
  };

  /** Stores a desk request as an inbound event and waits briefly for its booking. */
  async function submitDesk(req: Request, kind: string, dedupeKey: string, body: unknown): Promise<{ eventId: number; entry: InboxEntry | null; outcome: Outcome | null }> {
    if (deps.shuttingDown()) throw new AppError(503, 'shutting_down', 'The hub is restarting; send this request again in a moment.');
    const stored = (await store.inbox.insert({ dedupeKey, source: 'api', kind, headers: { 'user-agent': req.get('user-agent') ?? '' }, body: JSON.stringify(body) }, clock().toISOString())) ?? (await store.inbox.byKey(dedupeKey));
    if (!stored) throw new AppError(409, 'busy', 'The same request is being stored by another call; try again.');
    processor.notify();
    const entry = await deps.waitForOutcome(stored.id);
    return { eventId: stored.id, entry, outcome: (entry?.outcome ?? null) as Outcome | null };
  }

  const firstProblem = (o: Outcome | null) => o?.results.find((r) => r.result === 'rejected' || r.result === 'unmatched')?.message;

  async function unknownSkus(skus: string[]): Promise<string[]> {
    const missing: string[] = [];
    for (const sku of new Set(skus)) {
      const item = await store.items.get(sku);
      if (!item || item.status !== 'active') missing.push(sku);
    }
    return missing;
  }

  function checkLocations(lines: { location?: string | undefined }[]) {
    const known = new Set(config.locations.map((l) => l.id));
    const bad = [...new Set(lines.map((l) => l.location).filter((l): l is string => l !== undefined && !known.has(l)))];
    if (bad.length > 0) throw new AppError(422, 'unknown_location', `Location${bad.length > 1 ? 's' : ''} ${bad.map((b) => `"${b}"`).join(', ')} ${bad.length > 1 ? 'are' : 'is'} not known to the hub; nothing was stored.`);
  }

  // --- The transaction log ------------------------------------------------------------------------
  app.get('/v1/orders', wrap(async (req, res) => {
    const cursor = cursorOf(req);
    res.json(
      await orderPage(store, {
        limit: pageLimit(req),
        cursor: cursor !== undefined ? Number(cursor) : undefined,
        from: instant(q(req, 'from'), 'from'),
        to: until(q(req, 'to')),
        channelId: q(req, 'channel'),
        sku: q(req, 'sku'),
        status: q(req, 'status'),
        paymentStatus: q(req, 'payment'),
      }),
    );
  }));

  app.get('/v1/orders/export', wrap(async (req, res) => {
    const format = q(req, 'format') === 'json' ? 'json' : 'csv';
    const range = { from: instant(q(req, 'from'), 'from'), to: until(q(req, 'to')) };
    res.status(200);
    res.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="transactions-${(range.from ?? 'start').slice(0, 10)}-${(range.to ?? 'now').slice(0, 10)}.${format}"`);
    await stream(res, transactionExport(store, range, format));
  }));

  app.get('/v1/orders/:id', wrap(async (req, res) => {
    const order = await store.orders.get(Number(req.params.id));
    if (!order) throw new AppError(404, 'unknown_order', `There is no order ${String(req.params.id)} in the transaction log.`);
    res.json((await expandOrders(store, [order]))[0]);
  }));

  app.get('/v1/audit', wrap(async (req, res) => {
    const from = instant(q(req, 'from'), 'from');
    const to = until(q(req, 'to'));
    if (!from || !to) throw new AppError(400, 'range_required', 'Give the period to audit: from and to (YYYY-MM-DD or ISO 8601 times).');
    if (from >= to) throw new AppError(400, 'bad_range', '"from" must be before "to".');
    const format = q(req, 'format') === 'csv' ? 'csv' : 'json';
    res.status(200);
    res.setHeader('Content-Type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');
    res.setHeader('Content-Disposition', `attachment; filename="audit-${from.slice(0, 10)}-${to.slice(0, 10)}.${format}"`);
    await stream(res, auditExport(store, { from, to }, format, q(req, 'bodies') === 'true'));
  }));

  // --- Purchase orders from customers ------------------------------------------------------------
  const poView = async (number: string) => {
    const po = await store.purchaseOrders.get(number);
    return po ? viewOf(po) : null;
  };

  app.post('/v1/purchase-orders', wrap(async (req, res) => {
    const b = req.body as { number: string; customer: string; lines: { line?: number; sku: string; quantity: number; location?: string }[]; neededBy?: string; note?: string; actor?: string };
    const body = { ...b, origin: 'api', submittedAt: clock().toISOString() };
    const existing = await poView(b.number);
    if (existing) {
      throw new AppError(409, 'duplicate_po_number', `Purchase order ${b.number} already exists (${existing.status}, from ${existing.customer}); nothing was reserved. Give a new order a new number.`);
    }
    const missing = await unknownSkus(b.lines.map((l) => l.sku));
    if (missing.length > 0) throw new AppError(422, 'unknown_sku', `${missing.map((s) => `"${s}"`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not in the catalog; nothing was stored or reserved.`);
    checkLocations(b.lines);
    const { eventId, entry, outcome } = await submitDesk(req, 'purchase_order', `po:${b.number}:${digest(b)}`, body);
    const po = await poView(b.number);
    if (!entry) return void res.status(202).json({ eventId, purchaseOrder: po, message: 'Stored; it will be matched against stock in a moment.' });
    if (!po) throw new AppError(422, 'not_accepted', firstProblem(outcome) ?? 'The purchase order was not accepted; nothing was reserved.');
    res.status(201).json({ eventId, purchaseOrder: po, message: outcome?.results[0]?.message ?? po.status });
  }));

  app.get('/v1/purchase-orders', wrap(async (req, res) => {
    const limit = pageLimit(req);
    const cursor = cursorOf(req);
    const rows = await store.purchaseOrders.list({ limit, cursor: cursor !== undefined ? Number(cursor) : undefined, status: q(req, 'status'), customer: q(req, 'customer') });
    res.json({ purchaseOrders: rows.map(viewOf), nextCursor: nextCursor(rows, limit, (r) => r.id) });
  }));

  app.get('/v1/purchase-orders/:number', wrap(async (req, res) => {
    const po = await poView(String(req.params.number));
    if (!po) throw new AppError(404, 'unknown_po', `There is no purchase order ${String(req.params.number)}.`);
    res.json(po);
  }));

  app.post('/v1/purchase-orders/:number/cancel', wrap(async (req, res) => {
    const number = String(req.params.number);
    const b = (req.body ?? {}) as { reason?: string; actor?: string };
    const before = await poView(number);
    if (!before) throw new AppError(404, 'unknown_po', `There is no purchase order ${number}; nothing was cancelled.`);
    if (before.status === 'cancelled') throw new AppError(409, 'already_cancelled', `Purchase order ${number} was already cancelled (${before.reason ?? 'no reason given'}); nothing more was released.`);
    if (before.status === 'fulfilled' || before.status === 'rejected') throw new AppError(409, 'cannot_cancel', `Purchase order ${number} is ${before.status}, so it cannot be cancelled; nothing was changed.`);
    const { eventId, entry, outcome } = await submitDesk(req, 'purchase_order_cancel', `po-cancel:${number}`, { number, ...b, origin: 'api' });
    const po = await poView(number);
    if (!entry) return void res.status(202).json({ eventId, purchaseOrder: po, message: 'Stored; it will be cancelled in a moment.' });
    if (po?.status !== 'cancelled') throw new AppError(409, 'cannot_cancel', firstProblem(outcome) ?? `Purchase order ${number} could not be cancelled.`);
    res.json({ eventId, purchaseOrder: po, message: outcome?.results[0]?.message ?? 'Cancelled.' });
  }));

  app.post('/v1/purchase-orders/:number/fulfil', wrap(async (req, res) => {
    const number = String(req.params.number);
    const b = (req.body ?? {}) as { actor?: string };
    const before = await poView(number);
    if (!before) throw new AppError(404, 'unknown_po', `There is no purchase order ${number}; nothing was shipped.`);
    if (!before.lines.some((l) => l.reserved > 0)) throw new AppError(409, 'nothing_reserved', `Purchase order ${number} is ${before.status} and has nothing reserved to ship; nothing was booked.`);
    const key = req.get('idempotency-key') ?? `${before.lines.map((l) => l.fulfilled).join('.')}`;
    const { eventId, entry, outcome } = await submitDesk(req, 'purchase_order_fulfil', `po-fulfil:${number}:${key}`, { number, ...b, origin: 'api' });
    const po = await poView(number);
    if (!entry) return void res.status(202).json({ eventId, purchaseOrder: po, message: 'Stored; it will be booked in a moment.' });
    const problem = firstProblem(outcome);
    if (problem) throw new AppError(409, 'not_shipped', problem);
    res.json({ eventId, purchaseOrder: po, message: `Shipped: ${(outcome?.results ?? []).filter((r) => r.result === 'booked').length / 2} line(s) booked as sales.` });
  }));

  // --- Supplier orders ----------------------------------------------------------------------------
  app.post('/v1/supplier-orders', wrap(async (req, res) => {
    const b = req.body as { number: string; supplier: string; lines: { sku: string; quantity: number; location?: string }[] };
    if (await store.supplierOrders.get(b.number)) throw new AppError(409, 'duplicate_supplier_order', `Supplier order ${b.number} already exists; nothing was added.`);
    const missing = await unknownSkus(b.lines.map((l) => l.sku));
    if (missing.length > 0) throw new AppError(422, 'unknown_sku', `${missing.map((s) => `"${s}"`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not in the catalog; nothing was stored.`);
    checkLocations(b.lines);
    const { eventId, entry, outcome } = await submitDesk(req, 'supplier_order', `supplier:${b.number}:${digest(b)}`, b);
    const order = await store.supplierOrders.get(b.number);
    if (!entry) return void res.status(202).json({ eventId, supplierOrder: order, message: 'Stored; it will be added in a moment.' });
    if (!order) throw new AppError(422, 'not_accepted', firstProblem(outcome) ?? 'The supplier order was not added.');
    res.status(201).json({ eventId, supplierOrder: order, message: outcome?.results[0]?.message ?? 'Added.' });
  }));

  app.get('/v1/supplier-orders', wrap(async (req, res) => {
    const limit = pageLimit(req);
    const cursor = cursorOf(req);
    const rows = await store.supplierOrders.list({ limit, cursor: cursor !== undefined ? Number(cursor) : undefined, status: q(req, 'status') });
    res.json({ supplierOrders: rows, nextCursor: nextCursor(rows, limit, (r) => r.id) });
  }));

  app.get('/v1/supplier-orders/:number', wrap(async (req, res) => {
    const order = await store.supplierOrders.get(String(req.params.number));
    if (!order) throw new AppError(404, 'unknown_supplier_order', `There is no supplier order ${String(req.params.number)}.`);
    res.json(order);
  }));

  app.post('/v1/supplier-orders/:number/receipts', wrap(async (req, res) => {
    const number = String(req.params.number);
    const b = req.body as { receiptId: string; lines: { line?: number; sku?: string; quantity: number }[]; actor?: string };
    if (!(await store.supplierOrders.get(number))) throw new AppError(404, 'unknown_supplier_order', `There is no supplier order ${number}; nothing was received.`);
    const { eventId, entry, outcome } = await submitDesk(req, 'supplier_receipt', `receipt:${number}:${b.receiptId}`, { ...b, number, receivedAt: clock().toISOString(), origin: 'api' });
    const order = await store.supplierOrders.get(number);
    if (!entry) return void res.status(202).json({ eventId, supplierOrder: order, message: 'Stored; it will be booked in a moment.' });
    const problem = firstProblem(outcome);
    if (problem) throw new AppError(422, 'not_received', problem);
    res.json({ eventId, supplierOrder: order, results: outcome?.results ?? [], message: 'Received.' });
  }));

  app.post('/v1/supplier-orders/:number/status', wrap(async (req, res) => {
    const number = String(req.params.number);
    const b = req.body as { status: string; expectedAt?: string; reason?: string };
    if (!(await store.supplierOrders.get(number))) throw new AppError(404, 'unknown_supplier_order', `There is no supplier order ${number}; nothing was changed.`);
    const key = req.get('idempotency-key') ?? crypto.randomUUID();
    const { eventId, entry, outcome } = await submitDesk(req, 'supplier_status', `supplier-status:${number}:${key}`, { ...b, number });
    const order = await store.supplierOrders.get(number);
    if (!entry) return void res.status(202).json({ eventId, supplierOrder: order, message: 'Stored; it will be applied in a moment.' });
    const problem = firstProblem(outcome);
    if (problem) throw new AppError(409, 'not_changed', problem);
    res.json({ eventId, supplierOrder: order, message: outcome?.results[0]?.message ?? 'Updated.' });
  }));

  // --- Reports and reorder ---------------------------------------------------------------------
  app.get('/v1/reports/sales', wrap(async (req, res) => {
    const from = instant(q(req, 'from'), 'from');
    const to = until(q(req, 'to'));
    if (!from || !to) throw new AppError(400, 'range_required', 'Give the period: from and to (YYYY-MM-DD).');
    if (from >= to) throw new AppError(400, 'bad_range', '"from" must be before "to".');
    res.json(await salesReport(store, config, from, to));
  }));

  app.get('/v1/reports/dashboard', wrap(async (req, res) => {
    res.json(await dashboard(store, config, clock(), Number(req.query.days ?? 7)));
  }));

  app.get('/v1/reorder', wrap(async (_req, res) => {
    res.json(await reorderReport(store, config, clock()));
  }));

  app.post('/v1/reorder/check', wrap(async (_req, res) => {
    const opened = await checkReorder(store, config, clock(), deps.alerts);
    res.json({ opened, message: `${opened} new reorder alert${opened === 1 ? '' : 's'}.` });
  }));

  app.put('/v1/items/:sku/reorder', wrap(async (req, res) => {
    const sku = String(req.params.sku);
    const b = req.body as { leadTimeDays?: number | null; safetyStock?: number | null };
    const item = await store.items.get(sku);
    if (!item) throw new AppError(404, 'unknown_sku', `SKU "${sku}" is not in the catalog.`);
    await store.items.setReorderSettings(sku, b);
    const after = (await store.items.get(sku))!;
    res.json({ sku, leadTimeDays: after.leadTimeDays, safetyStock: after.safetyStock });
  }));
}
