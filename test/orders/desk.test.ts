/**
 * Issue 7's proof on a running hub (both stores): the merged transaction log, customer purchase
 * orders matched by policy with the sheet row written back, supplier orders, reorder and reports,
 * and the bad input the issue lists. The channel is the test connector of test/sheets/helpers.ts:
 * its signed webhook carries the domain facts a platform connector would translate, money included.
 */
import crypto from 'node:crypto';
import type { ChannelFact, OrderDetails } from '../../server/connectors/types';
import { CHANNEL_SECRET, sheetRig, type SheetRig } from '../sheets/helpers';
import { WebhookSink } from '../connectors/helpers/webhook-sink';
import { STORES } from '../helpers/stores';

jest.setTimeout(120_000);

const PO_TAB = 'Purchase Orders';
/** Times relative to now, so the reports' windows (last 7 and 28 days) hold them whenever this runs. */
const DAY = 86_400_000;
const daysAgo = (days: number, hour: number) => new Date(Math.floor(Date.now() / DAY) * DAY - days * DAY + hour * 3_600_000).toISOString();
const dateAgo = (days: number) => daysAgo(days, 0).slice(0, 10);

function order(id: string, lines: { lineId: string; sku: string; quantity: number; unit: number }[], currency = 'AUD'): OrderDetails {
  const subtotal = lines.reduce((n, l) => n + l.unit * l.quantity, 0);
  const tax = Math.round(subtotal / 10);
  return {
    currency,
    subtotal,
    discount: 0,
    tax,
    shipping: 0,
    total: subtotal + tax,
    paymentStatus: 'paid',
    fulfilmentStatus: 'unfulfilled',
    customerRef: 'cust-42',
    contact: { name: 'Kim Buyer', email: 'kim@example.com' },
    number: `#${id}`,
    placedAt: daysAgo(5, 10),
    lines: lines.map((l) => ({ lineId: l.lineId, sku: l.sku, title: `Painting ${l.sku}`, quantity: l.quantity, unitPrice: l.unit, discount: 0, tax: Math.round((l.unit * l.quantity) / 10), total: l.unit * l.quantity })),
  };
}

describe.each(STORES)('orders, purchase orders and reorder on %s', (kind) => {
  let rig: SheetRig;
  /** The supplier's ERP, subscribed to purchase order changes. */
  const erp = new WebhookSink('/hooks/po', () => 'purchase_order.changed');
  beforeAll(async () => {
    const url = await erp.start();
    rig = await sheetRig(kind, {
      skus: ['ART-1', 'ART-2', 'ART-3', 'ART-4'],
      stock: 5,
      file: {
        orders: { currencies: ['AUD'] },
        purchaseOrders: { onShort: 'waitlist', customers: { 'Strict Co': { onShort: 'reject' }, 'Split Co': { onShort: 'split_waitlist' } } },
        notify: [{ id: 'erp', url, topics: ['purchase_order.changed'] }],
      },
    });
  });
  afterAll(async () => {
    await rig?.close();
    await erp.stop();
  });
  const erpSaw = (number: string) =>
    erp.received.map((r) => JSON.parse(r.raw.toString('utf8')) as { type: string; data: { purchaseOrder: { number: string; status: string } } }).filter((m) => m.data.purchaseOrder.number === number).map((m) => `${m.type} ${m.data.purchaseOrder.status}`);

  async function webhook(facts: ChannelFact[]): Promise<void> {
    const raw = JSON.stringify(facts);
    const res = await fetch(`${rig.t.url}/v1/webhooks/pos`, {
      method: 'POST',
      body: raw,
      headers: { 'content-type': 'application/json', 'x-fake-event-id': crypto.randomUUID(), 'x-fake-signature': crypto.createHmac('sha256', CHANNEL_SECRET).update(raw).digest('base64') },
    });
    expect(res.status).toBe(200);
    await rig.settle();
  }
  const api = (method: string, p: string, body?: unknown) => rig.t.api(method, p, body);
  const level = async (sku: string) => (await api('GET', `/v1/items/${sku}`)).body.locations.find((l: { locationId: string }) => l.locationId === 'gallery') as { onHand: number; reserved: number; available: number };

  test('an order with a partial refund and restock appears once in the log, amounts exact, with both movements linked; exports and the Orders tab carry it', async () => {
    const details = order('1001', [{ lineId: 'l1', sku: 'ART-1', quantity: 2, unit: 12_550 }]);
    const sale: ChannelFact = { type: 'sale', orderId: '1001', occurredAt: daysAgo(5, 10), lines: [{ lineId: 'l1', sku: 'ART-1', ref: {}, quantity: 2, locationId: 'GAL' }], order: details };
    await webhook([sale]);
    await webhook([sale]); // the same sale delivered again
    const refund: ChannelFact = { type: 'refund', refundId: 'r-1', orderId: '1001', occurredAt: daysAgo(4, 9), lines: [{ lineId: 'l1', sku: 'ART-1', ref: {}, quantity: 1, locationId: 'GAL', restock: true }], money: { currency: 'AUD', amount: 13_805 } };
    await webhook([refund]);

    expect((await level('ART-1')).onHand).toBe(4);
    const page = await api('GET', '/v1/orders?sku=ART-1');
    expect(page.status).toBe(200);
    const mine = page.body.orders.filter((o: { externalId: string }) => o.externalId === '1001');
    expect(mine).toHaveLength(1);
    const o = mine[0];
    expect(o).toMatchObject({ channelId: 'pos', number: '#1001', currency: 'AUD', subtotal: 25_100, tax: 2_510, total: 27_610, refunded: 13_805, status: 'partially_refunded', paymentStatus: 'paid', customerRef: 'cust-42', contact: null });
    expect(o.lines).toEqual([expect.objectContaining({ lineId: 'l1', sku: 'ART-1', quantity: 2, unitPrice: 12_550, total: 25_100, returned: 1 })]);
    expect(o.events.map((e: { kind: string }) => e.kind)).toEqual(['placed', 'return']);
    expect(o.movements.map((m: { reason: string; quantity: number }) => [m.reason, m.quantity])).toEqual([['sale', -2], ['return', 1]]);
    expect(o.events[0].movementIds).toEqual([o.movements[0].id]);
    expect(o.events[1].movementIds).toEqual([o.movements[1].id]);

    const csv = await fetch(`${rig.t.url}/v1/orders/export?from=${dateAgo(5)}&to=${dateAgo(4)}&format=csv`, { headers: { authorization: `Bearer ${rig.t.config.adminToken}` } });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const rows = (await csv.text()).trim().split('\r\n');
    expect(rows[0]).toMatch(/^occurred_at,channel,order_id/);
    const lines1001 = rows.filter((r) => r.includes(',1001,'));
    expect(lines1001).toHaveLength(2);
    expect(lines1001[0]).toContain(',placed,1001,AUD,276.10,27610,');
    expect(lines1001[1]).toContain(',return,r-1,AUD,138.05,13805,');

    // The sheet's Orders tab: one row for the sale, one for the return, with the order's number.
    const tab = rig.fake.read('Orders').slice(1).filter((r) => r[2] === '#1001');
    expect(tab.map((r) => [r[3], r[5], r[6]])).toEqual([['ART-1', 2, 'sold'], ['ART-1', -1, 'returned']]);
  });

  test('the audit export ties every stock number to its source: opening + movements = closing, each with its event', async () => {
    const res = await api('GET', '/v1/audit?from=2000-01-01&to=2100-01-01');
    expect(res.status).toBe(200);
    const audit = res.body as { opening: { sku: string; onHand: number }[]; closing: { sku: string; locationId: string; onHand: number }[]; movements: { sku: string; quantity: number; reason: string; event: { id: number; sha256: string } | null; orderId: number | null }[] };
    expect(audit.opening).toEqual([]);
    for (const c of audit.closing) {
      const sum = audit.movements.filter((m) => m.sku === c.sku && !['reservation', 'release'].includes(m.reason)).reduce((n, m) => n + m.quantity, 0);
      expect({ sku: c.sku, onHand: sum }).toEqual({ sku: c.sku, onHand: c.onHand });
      expect(c.onHand).toBe((await level(c.sku)).onHand);
    }
    // Every movement names the event that caused it, with a digest of its stored body.
    for (const m of audit.movements) expect(m.event).toEqual(expect.objectContaining({ id: expect.any(Number), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }));
    expect(audit.movements.filter((m) => m.orderId !== null).length).toBeGreaterThanOrEqual(2);
    const bad = await api('GET', `/v1/audit?from=${dateAgo(1)}&to=${dateAgo(5)}`);
    expect(bad.status).toBe(400);
  });

  test('a PO that cannot be filled is waitlisted; a restock on the channel approves it and the sheet row shows "Approved"', async () => {
    // ART-2: 5 on hand. Staff type PO-7 for 8 in the Purchase Orders tab; the add-on tags the row and relays it.
    rig.fake.addRow(PO_TAB, ['PO-7', 'Acme Pty Ltd', 'ART-2', 8, 'gallery'], undefined, { key: 'stockrelay.po_line', value: 'PO-7#1' });
    const sent = await rig.t.relay({ kind: 'purchase_order', origin: 'sheet', number: 'PO-7', customer: 'Acme Pty Ltd', lines: [{ line: 1, sku: 'ART-2', quantity: 8, location: 'gallery' }], sheet: PO_TAB, submittedAt: new Date().toISOString() });
    expect(sent.status).toBeLessThan(300);
    await rig.settle();
    let po = (await api('GET', '/v1/purchase-orders/PO-7')).body;
    expect(po).toMatchObject({ status: 'waitlisted', lines: [{ sku: 'ART-2', ordered: 8, reserved: 0, waiting: 8 }] });
    expect(await level('ART-2')).toMatchObject({ onHand: 5, reserved: 0 });
    let row = rig.fake.record(PO_TAB, rig.fake.read(PO_TAB).findIndex((r) => r[0] === 'PO-7'));
    expect(row).toMatchObject({ Status: 'Waitlisted', Reserved: 0, Waiting: 8 });

    // A later, smaller PO for the same item does not jump the queue.
    const later = await api('POST', '/v1/purchase-orders', { number: 'PO-8', customer: 'Small Shop', lines: [{ sku: 'ART-2', quantity: 1 }] });
    expect(later.status).toBe(201);
    expect(later.body.purchaseOrder.status).toBe('waitlisted');

    // One unit comes back (6 on hand): enough for PO-8 alone, but PO-7 came first and still waits for
    // ART-2, so PO-8 stays behind it. Served newest first, PO-8 would take the unit here.
    await webhook([{ type: 'refund', refundId: 'r-2000', orderId: '2000', occurredAt: daysAgo(3, 10), lines: [{ lineId: 'a', sku: 'ART-2', ref: {}, quantity: 1, locationId: 'GAL', restock: true }], money: null }]);
    await rig.settle();
    expect((await api('GET', '/v1/purchase-orders/PO-7')).body).toMatchObject({ status: 'waitlisted', lines: [{ reserved: 0, waiting: 8 }] });
    expect((await api('GET', '/v1/purchase-orders/PO-8')).body).toMatchObject({ status: 'waitlisted', lines: [{ reserved: 0, waiting: 1 }] });
    expect(await level('ART-2')).toMatchObject({ onHand: 6, reserved: 0, available: 6 });

    // A customer returns 3 more of ART-2 on the channel, restocked: 9 on hand, and PO-7 (8) comes first.
    await webhook([{ type: 'refund', refundId: 'r-2001', orderId: '2001', occurredAt: daysAgo(3, 11), lines: [{ lineId: 'a', sku: 'ART-2', ref: {}, quantity: 3, locationId: 'GAL', restock: true }], money: null }]);
    await rig.settle();
    po = (await api('GET', '/v1/purchase-orders/PO-7')).body;
    expect(po).toMatchObject({ status: 'approved', lines: [{ reserved: 8, waiting: 0 }] });
    expect((await api('GET', '/v1/purchase-orders/PO-8')).body).toMatchObject({ status: 'approved', lines: [{ reserved: 1 }] });
    expect(await level('ART-2')).toMatchObject({ onHand: 9, reserved: 9, available: 0 });
    row = rig.fake.record(PO_TAB, rig.fake.read(PO_TAB).findIndex((r) => r[0] === 'PO-7'));
    expect(row).toMatchObject({ 'PO number': 'PO-7', Customer: 'Acme Pty Ltd', SKU: 'ART-2', Quantity: 8, Status: 'Approved', Reserved: 8, Waiting: 0 });
    // The outgoing webhook got each status change.
    await rig.settle();
    expect(erpSaw('PO-7')).toEqual(['purchase_order.changed waitlisted', 'purchase_order.changed approved']);

    // Shipping PO-7 turns its reservation into a sale; cancelling PO-8 releases exactly its one unit, once.
    const shipped = await api('POST', '/v1/purchase-orders/PO-7/fulfil', {});
    expect(shipped.status).toBe(200);
    expect(shipped.body.purchaseOrder.status).toBe('fulfilled');
    expect(await level('ART-2')).toMatchObject({ onHand: 1, reserved: 1 });
    const cancel = await api('POST', '/v1/purchase-orders/PO-8/cancel', { reason: 'changed their mind' });
    expect(cancel.status).toBe(200);
    expect(await level('ART-2')).toMatchObject({ onHand: 1, reserved: 0, available: 1 });
    const again = await api('POST', '/v1/purchase-orders/PO-8/cancel', {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_cancelled');
    await rig.settle();
    expect(erpSaw('PO-8')).toEqual(['purchase_order.changed waitlisted', 'purchase_order.changed approved', 'purchase_order.changed cancelled']);
    expect(await level('ART-2')).toMatchObject({ onHand: 1, reserved: 0 });
  });

  test('policies: reject with the reason, split and wait for the rest', async () => {
    const strict = await api('POST', '/v1/purchase-orders', { number: 'PO-S1', customer: 'Strict Co', lines: [{ sku: 'ART-3', quantity: 9 }] });
    expect(strict.status).toBe(201);
    expect(strict.body.purchaseOrder).toMatchObject({ status: 'rejected', reason: expect.stringContaining('ART-3 at gallery: 9 wanted, 5 available') });
    expect(await level('ART-3')).toMatchObject({ onHand: 5, reserved: 0 });

    const split = await api('POST', '/v1/purchase-orders', { number: 'PO-S2', customer: 'Split Co', lines: [{ sku: 'ART-3', quantity: 7 }] });
    expect(split.body.purchaseOrder).toMatchObject({ status: 'partially_approved', lines: [{ reserved: 5, waiting: 2 }] });
    await api('POST', '/v1/items/ART-3/adjustments', { location: 'gallery', quantity: 3, reason: 'restock' });
    await rig.settle();
    expect((await api('GET', '/v1/purchase-orders/PO-S2')).body).toMatchObject({ status: 'approved', lines: [{ reserved: 7, waiting: 0 }] });
    expect(await level('ART-3')).toMatchObject({ onHand: 8, reserved: 7, available: 1 });
  });

  test('bad input: unknown SKU, zero quantity, duplicate number; each refused with a reason and nothing reserved', async () => {
    const before = await level('ART-4');
    const unknown = await api('POST', '/v1/purchase-orders', { number: 'PO-X1', customer: 'Acme', lines: [{ sku: 'NOPE-1', quantity: 1 }] });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.message).toContain('"NOPE-1" is not in the catalog');
    expect((await api('GET', '/v1/purchase-orders/PO-X1')).status).toBe(404);
    const zero = await api('POST', '/v1/purchase-orders', { number: 'PO-X2', customer: 'Acme', lines: [{ sku: 'ART-4', quantity: 0 }] });
    expect(zero.status).toBe(400);
    const negative = await api('POST', '/v1/purchase-orders', { number: 'PO-X2', customer: 'Acme', lines: [{ sku: 'ART-4', quantity: -3 }] });
    expect(negative.status).toBe(400);
    const ok = await api('POST', '/v1/purchase-orders', { number: 'PO-X3', customer: 'Acme', lines: [{ sku: 'ART-4', quantity: 1 }] });
    expect(ok.body.purchaseOrder.status).toBe('approved');
    const dup = await api('POST', '/v1/purchase-orders', { number: 'PO-X3', customer: 'Someone else', lines: [{ sku: 'ART-4', quantity: 2 }] });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('duplicate_po_number');
    expect(await level('ART-4')).toMatchObject({ onHand: before.onHand, reserved: before.reserved + 1 });
    // From the sheet, an unknown SKU comes back as the row's status; the number stays free.
    const viaSheet = await rig.t.relay({ kind: 'purchase_order', origin: 'sheet', number: 'PO-X4', customer: 'Acme', lines: [{ sku: 'NOPE-2', quantity: 1 }], submittedAt: new Date().toISOString() });
    await rig.settle();
    expect(viaSheet.status).toBeLessThan(300);
    const event = (await api('GET', `/v1/events/${viaSheet.body.eventId}`)).body;
    expect(event).toMatchObject({ status: 'rejected', results: [{ result: 'rejected', message: expect.stringContaining('"NOPE-2" is not in the catalog') }] });
    expect((await api('GET', '/v1/purchase-orders/PO-X4')).status).toBe(404);
  });

  test('a refund larger than the order, and an order in a currency the supplier does not use, are flagged; stock is not over-returned', async () => {
    await webhook([{ type: 'sale', orderId: '3001', occurredAt: daysAgo(2, 10), lines: [{ lineId: 'l1', sku: 'ART-4', ref: {}, quantity: 1, locationId: 'GAL' }], order: order('3001', [{ lineId: 'l1', sku: 'ART-4', quantity: 1, unit: 1000 }]) }]);
    const afterSale = await level('ART-4');
    await webhook([{ type: 'refund', refundId: 'r-3001', orderId: '3001', occurredAt: daysAgo(2, 11), lines: [{ lineId: 'l1', sku: 'ART-4', ref: {}, quantity: 3, locationId: 'GAL', restock: true }], money: { currency: 'AUD', amount: 5000 } }]);
    // Only the one unit sold comes back.
    expect((await level('ART-4')).onHand).toBe(afterSale.onHand + 1);
    const o = (await api('GET', '/v1/orders?channel=pos')).body.orders.find((x: { externalId: string }) => x.externalId === '3001');
    expect(o.flags).toEqual(expect.arrayContaining(['refund_exceeds_order', 'return_exceeds_sold']));

    await webhook([{ type: 'sale', orderId: '3002', occurredAt: daysAgo(2, 12), lines: [{ lineId: 'l1', sku: 'ART-4', ref: {}, quantity: 1, locationId: 'GAL' }], order: order('3002', [{ lineId: 'l1', sku: 'ART-4', quantity: 1, unit: 900 }], 'USD') }]);
    const usd = (await api('GET', '/v1/orders?channel=pos')).body.orders.find((x: { externalId: string }) => x.externalId === '3002');
    expect(usd).toMatchObject({ currency: 'USD', flags: ['currency_not_accepted'] });
    const alerts = (await api('GET', '/v1/alerts?status=open')).body.alerts.map((a: { kind: string }) => a.kind);
    expect(alerts).toEqual(expect.arrayContaining(['order_currency', 'refund_exceeds_order']));
  });

  test('supplier orders: receipts are booked once, a delay holds the listing, reorder suggests and the dashboard reports', async () => {
    const created = await api('POST', '/v1/supplier-orders', { number: 'SUP-1', supplier: 'Paper Mill', expectedAt: dateAgo(-14), onDelay: 'hide', lines: [{ sku: 'ART-1', quantity: 10 }] });
    expect(created.status).toBe(201);
    const delayed = await api('POST', '/v1/supplier-orders/SUP-1/status', { status: 'backordered', expectedAt: dateAgo(-40), reason: 'mill closed' });
    expect(delayed.status).toBe(200);
    expect(delayed.body.supplierOrder).toMatchObject({ status: 'backordered', expectedAt: dateAgo(-40) });
    expect((await rig.t.hub.store.items.get('ART-1'))!.listingHold).toBe('hide');
    const before = (await level('ART-1')).onHand;
    for (let i = 0; i < 2; i++) {
      const r = await api('POST', '/v1/supplier-orders/SUP-1/receipts', { receiptId: 'slip-1', lines: [{ sku: 'ART-1', quantity: 6 }] });
      expect(r.status).toBe(200);
    }
    expect((await level('ART-1')).onHand).toBe(before + 6);
    const reorder = (await api('GET', '/v1/reorder')).body;
    const art1 = reorder.items.find((i: { sku: string }) => i.sku === 'ART-1');
    expect(art1).toMatchObject({ incoming: 4, leadTimeDays: 14 });
    const dash = (await api('GET', '/v1/reports/dashboard?days=7')).body;
    expect(dash.currency).toBe('AUD');
    expect(dash.days).toHaveLength(7);
    expect(dash.totals.units).toBeGreaterThan(0);
    const unknown = await api('POST', '/v1/supplier-orders', { number: 'SUP-2', supplier: 'X', lines: [{ sku: 'NOPE', quantity: 1 }] });
    expect(unknown.status).toBe(422);

    // ART-4 sold in the last days; with a 60-day lead time its stock will not last until a new delivery.
    const set = await api('PUT', '/v1/items/ART-4/reorder', { leadTimeDays: 60, safetyStock: 1 });
    expect(set.body).toEqual({ sku: 'ART-4', leadTimeDays: 60, safetyStock: 1 });
    const art4 = (await api('GET', '/v1/reorder')).body.items.find((i: { sku: string }) => i.sku === 'ART-4');
    expect(art4).toMatchObject({ leadTimeDays: 60, safetyStock: 1, belowLeadTime: true });
    expect(art4.velocityPerDay).toBeGreaterThan(0);
    expect(art4.suggestedQuantity).toBeGreaterThan(0);
    const check = await api('POST', '/v1/reorder/check');
    expect(check.body.opened).toBeGreaterThanOrEqual(1);
    const reorderAlerts = (await api('GET', '/v1/alerts?status=open')).body.alerts.filter((a: { kind: string; sku: string }) => a.kind === 'reorder' && a.sku === 'ART-4');
    expect(reorderAlerts).toEqual([expect.objectContaining({ message: expect.stringContaining('less than its 60-day lead time') })]);
    // Checked again, the same alert stays open once.
    expect((await api('POST', '/v1/reorder/check')).body.opened).toBe(0);
  });
});
