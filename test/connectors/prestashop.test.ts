/**
 * PrestaShop connector: contract tests against the PrestaShop emulator on 127.0.0.1 (what the
 * webservice is sent and what it keeps), the platform's own translations (cancellation restock,
 * credit slips and reinjected units, movements), answers the connector cannot read, settings, and
 * the feeds through the hub: a polled sale, refund and cancellation booked once, an order for a
 * product not in our catalog held as unmatched, and a level change pushed as an absolute set.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectorError, TranslateError, type Connector, type PushTarget } from '../../server/connectors/types';
import { createPrestaShopConnector } from '../../server/connectors/prestashop';
import { PsEmulator } from '../../server/connectors/prestashop/emulator';
import { makeTranslate } from '../../server/connectors/prestashop/translate';
import { readXmlResource, xmlResource } from '../../server/connectors/prestashop/xml';
import { createHub, type Hub } from '../../server/hub';
import { createLogger } from '../../server/log';
import { ADMIN_TOKEN, answerOf, testConfig } from '../helpers/hub';
import { DOCS_ORDER, DOCS_ORDER_SLIP_EVENT } from './prestashop/documented';

jest.setTimeout(60_000);

const KEY = 'ZR92FNY5UFRERNI3O9Z5QDHWKTP3YIIT';
const LOC = 'default';
let emu: PsEmulator;
let baseUrl: string;

function connector(settings: Record<string, unknown> = {}, credentials: Record<string, string> = { webserviceKey: KEY }, url: string | null = baseUrl): Connector {
  return createPrestaShopConnector({ channelId: 'ps', baseUrl: url, settings, credentials });
}
function target(sku: string, level: number, expected: number | null): PushTarget {
  const ref = emu.listing(sku);
  if (!ref) throw new Error(`no listing ${sku}`);
  return { sku, ref, locationId: LOC, level, expected, idempotencyKey: `t-${sku}-${level}` };
}
async function failure(p: Promise<unknown>): Promise<ConnectorError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(ConnectorError);
  return e as ConnectorError;
}
/** Polls a feed until it has nothing more. */
async function drain(c: Connector, feed: string, cursor: string | null) {
  const events: { eventId: string; topic: string; body: unknown }[] = [];
  let at = cursor;
  for (let i = 0; i < 20; i++) {
    const r = await c.poll!(feed, at);
    events.push(...r.events);
    at = r.cursor;
    if (!r.more) break;
  }
  return { events, cursor: at! };
}

/** A shop on 127.0.0.1 for each test, with two products: ART-001 at 5 and ART-002 at 1. */
function withTwoPaintings(): void {
  beforeEach(async () => {
    emu = new PsEmulator({ webserviceKey: KEY });
    baseUrl = await emu.start();
    emu.seed([
      { sku: 'ART-001', title: 'Dot painting, small', levels: { [LOC]: 5 } },
      { sku: 'ART-002', title: 'Dot painting, large', levels: { [LOC]: 1 } },
    ]);
  });
  afterEach(() => emu.stop());
}

describe('the PrestaShop webservice as the connector uses it', () => {
  withTwoPaintings();

  test('the key travels as the Basic user name, never in the address; every answer is asked for in JSON; a wrong key is a fault of the channel that does not show the key', async () => {
    await connector().read([{ sku: 'ART-001', ref: emu.listing('ART-001')!, locationId: LOC }]);
    for (const r of emu.requests) expect([r.query?.output_format, 'ws_key' in (r.query ?? {})]).toEqual(['JSON', false]);
    const wrong = 'WRONGKEYWRONGKEYWRONGKEYWRONGKEY';
    const e = await failure(connector({}, { webserviceKey: wrong }).listCatalog());
    expect([e.status, e.channelFault, e.retryable]).toEqual([401, true, false]);
    expect(e.message).not.toContain(wrong);
    expect(emu.selfCheck()).toEqual([]);
  });

  test('a push sends the whole stock_available as read, in XML, with the new quantity: what buyers may do at zero and the shelf location are kept', async () => {
    const row = emu.stockRow('ART-001')!;
    row.outOfStock = 1;
    row.location = 'Rack A-3';
    // No movement yet in the shop: the level written stands on movement 0.
    expect(await connector().push([target('ART-001', 3, 5)])).toEqual([{ sku: 'ART-001', locationId: LOC, status: 'applied', level: 3, basis: 'mvt:0' }]);
    const put = emu.requests.filter((r) => r.method === 'PUT');
    expect(put.map((r) => r.path)).toEqual([`/api/stock_availables/${row.id}`]);
    expect(readXmlResource(String(put[0]!.body))).toEqual({
      node: 'stock_available',
      fields: { id: String(row.id), id_product: String(row.idProduct), id_product_attribute: '0', id_shop: '1', id_shop_group: '0', quantity: '3', depends_on_stock: '0', out_of_stock: '1', location: 'Rack A-3' },
    });
    expect([row.quantity, row.outOfStock, row.location]).toEqual([3, 1, 'Rack A-3']);
    // The newest movement (the basis), the level before, the write, the level read back.
    expect(emu.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /api/stock_movements', `GET /api/stock_availables`, `PUT /api/stock_availables/${row.id}`, 'GET /api/stock_availables']);
  });

  test('combinations are the listings of a product that has them: discovered by their reference, read and pushed alone', async () => {
    emu.seedCombinations('Tote bag', [{ sku: 'BAG-RED', level: 4 }, { sku: 'BAG-BLUE', level: 6 }], 'BAG');
    const listings = await connector({ pageSize: 2 }).listCatalog();
    expect(listings.map((l) => l.sku)).toEqual(['ART-001', 'ART-002', 'BAG-RED', 'BAG-BLUE']);
    expect(listings[2]!.ref).toEqual(emu.listing('BAG-RED'));
    expect(listings[2]!.ref.variantId).not.toBe('0');
    expect(await connector().push([target('BAG-RED', 2, 4)])).toEqual([{ sku: 'BAG-RED', locationId: LOC, status: 'applied', level: 2, basis: 'mvt:0' }]);
    const read = await connector().read(['BAG-RED', 'BAG-BLUE'].map((sku) => ({ sku, ref: emu.listing(sku)!, locationId: LOC })));
    expect(read.map((r) => [r.sku, r.available])).toEqual([['BAG-RED', 2], ['BAG-BLUE', 6]]);
  });

  test('a stock_available that depends on advanced stock management is refused for that item, and nothing is written', async () => {
    emu.stockRow('ART-002')!.dependsOnStock = true;
    const [out, ok] = await connector().push([target('ART-002', 9, 1), target('ART-001', 4, 5)]);
    expect(out).toMatchObject({ sku: 'ART-002', status: 'failed', message: expect.stringMatching(/advanced stock management/) });
    expect(ok).toMatchObject({ sku: 'ART-001', status: 'applied' });
    expect(emu.level('ART-002', LOC)).toBe(1);
  });

  test('hide and relist send only active, by PATCH; a 1.7 shop (no PATCH) is told to turn hideAtZero off, and nothing changes', async () => {
    await connector().hide(emu.listing('ART-001')!);
    expect(emu.product('ART-001')!.active).toBe(false);
    expect(readXmlResource(String(emu.requests.at(-1)!.body))).toEqual({ node: 'product', fields: { id: emu.listing('ART-001')!.productId, active: '0' } });
    await connector().relist(emu.listing('ART-001')!);
    expect(emu.product('ART-001')!.active).toBe(true);

    const old = new PsEmulator({ webserviceKey: KEY, patch: false });
    const oldUrl = await old.start();
    try {
      old.seed([{ sku: 'ART-001', title: 'x', levels: { [LOC]: 0 } }]);
      const e = await failure(connector({}, { webserviceKey: KEY }, oldUrl).hide(old.listing('ART-001')!));
      expect([e.status, e.channelFault]).toEqual([405, true]);
      expect(e.message).toMatch(/PrestaShop 8\.0 or later.*hideAtZero/);
      expect(old.product('ART-001')!.active).toBe(true);
    } finally {
      await old.stop();
    }
  });

  test('a combination at zero hides its product only when no other combination of it has stock left', async () => {
    emu.seedCombinations('Tote bag', [{ sku: 'BAG-RED', level: 0 }, { sku: 'BAG-BLUE', level: 6 }], 'BAG');
    await connector().hide(emu.listing('BAG-RED')!);
    expect(emu.product('BAG-RED')!.active).toBe(true);
    expect(emu.requests.some((r) => r.method === 'PATCH')).toBe(false);
    await emu.setLevel({ sku: 'BAG-BLUE', available: 0 });
    await connector().hide(emu.listing('BAG-RED')!);
    expect(emu.product('BAG-BLUE')!.active).toBe(false);
  });

  test('a level the connector cannot read is an error, never a level: sent {quantity:"n/a"}, nothing read and nothing pushed', async () => {
    emu.answerOverride = (resource, answer) => {
      if (resource !== 'stock_availables' || Array.isArray(answer)) return answer;
      const a = answer as { stock_availables: Record<string, unknown>[] };
      return { stock_availables: a.stock_availables.map((r) => ({ ...r, quantity: 'n/a' })) };
    };
    const e = await failure(connector().read([{ sku: 'ART-001', ref: emu.listing('ART-001')!, locationId: LOC }]));
    expect(e.message).toMatch(/without a whole quantity/);
    await failure(connector().push([target('ART-001', 2, 5)]));
    expect(emu.requests.some((r) => r.method === 'PUT')).toBe(false);
    expect(emu.level('ART-001', LOC)).toBe(5);
    // A list that is not the webservice's shape either.
    emu.answerOverride = () => ({ products: 'nothing' });
    expect((await failure(connector().listCatalog())).message).toMatch(/cannot read/);
  });

  test('the orders feed starts where the shop stands, finds a new sale once, and reads it again under the same event id', async () => {
    await emu.sell({ sku: 'ART-001', quantity: 1 });
    const c = connector({ pageSize: 2 });
    const start = await c.poll!('orders', null);
    expect(start.events).toEqual([]);
    const { orderId } = await emu.sell({ sku: 'ART-002', quantity: 1 });
    const first = await drain(c, 'orders', start.cursor);
    expect(first.events.map((e) => (e.body as { id: number }).id)).toEqual([Number(orderId)]);
    // The overlap reads it again: the same id, which the inbox drops.
    const again = await drain(c, 'orders', first.cursor);
    expect(again.events.map((e) => e.eventId)).toEqual(first.events.map((e) => e.eventId));
  });

  test('a burst of orders in one second, more than a page, is read whole across pages, and so are the stock movements it made', async () => {
    const c = connector({ pageSize: 2 });
    const orders = await c.poll!('orders', null);
    const moves = await c.poll!('stock_movements', null);
    const sold: string[] = [];
    for (let i = 0; i < 5; i++) sold.push((await emu.sell({ sku: 'ART-001', quantity: 1 })).orderId);
    const got = await drain(c, 'orders', orders.cursor);
    expect([...new Set(got.events.map((e) => String((e.body as { id: number }).id)))].sort()).toEqual([...sold].sort());
    const levels = await drain(c, 'stock_movements', moves.cursor);
    expect(levels.events).toHaveLength(5);
    expect(new Set(levels.events.map((e) => e.eventId)).size).toBe(5);
    // Nothing new: the next poll of movements finds nothing.
    expect((await c.poll!('stock_movements', levels.cursor)).events).toEqual([]);
  });

  test('an order list the connector cannot read stores nothing and keeps the cursor: sent an order without date_upd', async () => {
    const c = connector();
    const start = await c.poll!('orders', null);
    await emu.sell({ sku: 'ART-001', quantity: 1 });
    emu.answerOverride = (resource, answer) => (resource === 'orders' && !Array.isArray(answer) ? { orders: (answer as { orders: object[] }).orders.map((o) => ({ ...o, date_upd: undefined })) } : answer);
    const e = await failure(c.poll!('orders', start.cursor));
    expect([e.channelFault, e.message]).toEqual([true, expect.stringMatching(/has no date_upd.*Nothing of it was stored/)]);
    emu.answerOverride = null;
    expect((await drain(c, 'orders', start.cursor)).events).toHaveLength(1);
    expect((await failure(c.poll!('orders', '{"v":1}'))).channelFault).toBe(false);
  });

  test('settings the connector cannot work with are named', () => {
    expect(() => connector({}, {})).toThrow(/webserviceKey/);
    expect(() => connector({}, { webserviceKey: KEY }, null)).toThrow(/shop address/);
    expect(() => connector({ pageSize: 0 })).toThrow(/pageSize/);
    expect(() => connector({ cancelledStates: ['six'] })).toThrow(/cancelledStates/);
    expect(() => connector({ cancelledStates: '6, 8' })).not.toThrow();
  });
});

describe('a write never wipes out an edit the figure does not show', () => {
  // An edit in the back office (+1) and a sale (−1) bring the quantity back to what the hub expects;
  // a push checked on the figure alone would write over the edit before the stock_movements feed
  // reported it (simulation seed 62341 over every web store).
  withTwoPaintings();

  test('sent: a push of 4 expecting 5 on the basis of movement 0, after an edit to 6 and a sale back to 5; kept: the shop untouched, the push waits for the stock_movements feed', async () => {
    const c = connector();
    const { cursor } = await c.poll!('stock_movements', null);
    expect(await c.push([target('ART-001', 5, 5)])).toEqual([{ sku: 'ART-001', locationId: LOC, status: 'applied', level: 5, wrote: false, basis: 'mvt:0' }]);
    await emu.setLevel({ sku: 'ART-001', available: 6 });
    await emu.sell({ sku: 'ART-001', quantity: 1 });
    expect(emu.level('ART-001', LOC)).toBe(5);
    const puts = () => emu.requests.filter((r) => r.method === 'PUT').length;
    expect(await c.push([{ ...target('ART-001', 4, 5), basis: 'mvt:0' }])).toEqual([{ sku: 'ART-001', locationId: LOC, status: 'stale', observed: null, untilFeed: 'stock_movements' }]);
    expect(puts()).toBe(0);
    expect(emu.level('ART-001', LOC)).toBe(5);
    // The feed reports both movements with the level read after them, on the basis of the last one read.
    const polled = await drain(c, 'stock_movements', cursor);
    const facts = polled.events.flatMap((e) => c.translate(e.topic, e.body, {}));
    expect(facts.map((f) => (f.type === 'level_observed' ? [f.available, f.basis] : f.type))).toEqual([
      [5, 'mvt:2'],
      [5, 'mvt:2'],
    ]);
    // Handed back, that basis lets the push through; a movement of another product does not hold it back.
    await emu.sell({ sku: 'ART-002', quantity: 1 });
    expect(await c.push([{ ...target('ART-001', 4, 5), basis: 'mvt:2' }])).toEqual([{ sku: 'ART-001', locationId: LOC, status: 'applied', level: 4, basis: 'mvt:3' }]);
    expect(emu.level('ART-001', LOC)).toBe(4);
  });

  test('a level that moved with no basis to go by is compared on the figure, as before, and answered with what it stands on', async () => {
    await emu.setLevel({ sku: 'ART-001', available: 8 });
    expect(await connector().push([target('ART-001', 4, 5)])).toEqual([{ sku: 'ART-001', locationId: LOC, status: 'stale', observed: 8, basis: 'mvt:1' }]);
    expect(emu.level('ART-001', LOC)).toBe(8);
  });

  test('a busy shop: the push reads the movements back from the newest, at most ten pages, whatever the age of its basis', async () => {
    const c = connector({ pageSize: 2 });
    // An edit and a sale of ART-001 (movements 1 and 2), then 30 movements of ART-002.
    await emu.setLevel({ sku: 'ART-001', available: 6 });
    await emu.sell({ sku: 'ART-001', quantity: 1 });
    for (let i = 0; i < 30; i++) await emu.setLevel({ sku: 'ART-002', available: i % 2 === 0 ? 2 : 1 });
    const reads = () => emu.requests.filter((r) => r.path === '/api/stock_movements').length;
    // Sent on the basis of movement 0: ART-001 moved in movements 1 and 2, older than the newest 20
    // read (ten pages of two): taken as reported long since, and written on the figure.
    expect(await c.push([{ ...target('ART-001', 4, 5), basis: 'mvt:0' }])).toEqual([{ sku: 'ART-001', locationId: LOC, status: 'applied', level: 4, basis: 'mvt:32' }]);
    expect(reads()).toBe(10);
    // An edit and a sale among the newest: found on the first page, and nothing is written.
    await emu.setLevel({ sku: 'ART-001', available: 5 });
    await emu.sell({ sku: 'ART-001', quantity: 1 });
    expect(emu.level('ART-001', LOC)).toBe(4);
    expect(await c.push([{ ...target('ART-001', 3, 4), basis: 'mvt:0' }])).toEqual([{ sku: 'ART-001', locationId: LOC, status: 'stale', observed: null, untilFeed: 'stock_movements' }]);
    expect(emu.level('ART-001', LOC)).toBe(4);
  });

  test('a basis this connector did not write is not taken for one: the push is checked on the figure alone', async () => {
    expect(await connector().push([{ ...target('ART-001', 4, 5), basis: 'oci:5/0' }])).toEqual([{ sku: 'ART-001', locationId: LOC, status: 'applied', level: 4, basis: 'mvt:0' }]);
    expect(emu.level('ART-001', LOC)).toBe(4);
  });
});

describe('what PrestaShop events mean', () => {
  const translate = makeTranslate(['6', '8']);

  test('an order is a sale of its rows; Canceled or Payment error also restocks them; Refunded moves nothing more', () => {
    const [sale] = translate('order', DOCS_ORDER);
    expect(sale).toMatchObject({ type: 'sale', orderId: '5', lines: [{ lineId: '11', sku: 'demo_2', ref: { productId: '2', variantId: '9' }, quantity: 1 }, { lineId: '12', sku: 'demo_12', ref: { productId: '7', variantId: '0' }, quantity: 2 }] });
    expect(translate('order', { ...DOCS_ORDER, current_state: '8' }).map((f) => f.type)).toEqual(['sale', 'cancellation']);
    expect(translate('order', { ...DOCS_ORDER, current_state: '7' }).map((f) => f.type)).toEqual(['sale']);
    expect(makeTranslate(['42'])('order', { ...DOCS_ORDER, current_state: '42' }).map((f) => f.type)).toEqual(['sale', 'cancellation']);
  });

  test('a credit slip restocks the reinjected units, given to the order’s slips earliest first', () => {
    const slip = (id: number, q: number) => ({ id, id_order: '5', date_add: '2026-11-04 09:00:00', associations: { order_slip_details: [{ id: String(id), id_order_detail: '12', product_quantity: String(q) }] } });
    const event = (s: ReturnType<typeof slip>, all: ReturnType<typeof slip>[], reinjected: number) => ({ order_slip: s, order_slips: all, order_details: [{ ...DOCS_ORDER_SLIP_EVENT.order_details[1], product_quantity_reinjected: String(reinjected) }] });
    const lines = (e: unknown) => (translate('order_slip', e)[0] as { lines: { lineId: string; quantity: number; restock: boolean }[] }).lines.map((l) => [l.lineId, l.quantity, l.restock]);
    expect(lines(DOCS_ORDER_SLIP_EVENT)).toEqual([['12', 1, true]]);
    // One unit back to stock, then one refunded without: the second slip restocks nothing.
    const [a, b] = [slip(1, 1), slip(2, 1)];
    expect(lines(event(a, [a], 1))).toEqual([['12', 1, true]]);
    expect(lines(event(b, [a, b], 1))).toEqual([['12-kept', 1, false]]);
    // Two units on one slip, one of them back.
    const c = slip(3, 2);
    expect(lines(event(c, [c], 1))).toEqual([['12', 1, true], ['12-kept', 1, false]]);
  });

  test('a stock movement reports the level its product shows; a product that is gone reports none', () => {
    const mvt = { id: 9, id_product: '7', id_product_attribute: '0', reference: 'demo_12', date_add: '2026-11-04 09:00:00' };
    expect(translate('stock_movement', { stock_movement: mvt, stock_available: { id: 3, id_product: '7', id_product_attribute: '0', quantity: '14' } })).toEqual([
      { type: 'level_observed', sku: 'demo_12', ref: { productId: '7', variantId: '0' }, locationId: LOC, available: 14, occurredAt: '2026-11-04T09:00:00.000Z' },
    ]);
    expect(translate('stock_movement', { stock_movement: mvt, stock_available: null })).toEqual([]);
  });

  test('bodies without what their topic needs are refused, never read as nothing happened', () => {
    const noRows = { ...DOCS_ORDER, associations: {} };
    expect(() => translate('order', noRows)).toThrow(TranslateError);
    expect(() => translate('order', { ...DOCS_ORDER, associations: { order_rows: [{ id: '1', product_id: '2', product_quantity: 'two' }] } })).toThrow(/no quantity/);
    expect(() => translate('order_slip', { ...DOCS_ORDER_SLIP_EVENT, order_details: [] })).toThrow(/does not have/);
    expect(() => translate('stock_movement', { stock_movement: {}, stock_available: { quantity: '1.5' } })).toThrow(/no whole quantity/);
    expect(() => translate('order.updated', DOCS_ORDER)).toThrow(TranslateError);
  });

  test('the XML written keeps any text inside CDATA (a ]]> split in two sections), and only flat resources are read back', () => {
    const xml = xmlResource('stock_available', { id: 1, location: 'a]]>b <c>' });
    expect(readXmlResource(xml)).toEqual({ node: 'stock_available', fields: { id: '1', location: 'a]]>b <c>' } });
    expect(xml).toContain('<location><![CDATA[a]]]]><![CDATA[>b <c>]]></location>');
    expect(readXmlResource(xmlResource('product', { id: 3, active: 0 }))).toEqual({ node: 'product', fields: { id: '3', active: '0' } });
    expect(readXmlResource('{"product":{"id":3}}')).toBeNull();
  });
});

describe('through the hub: polled feeds booked once, unmatched kept, levels pushed', () => {
  let hub: Hub;
  let server: http.Server;
  let url: string;
  let shop: PsEmulator;
  const api = async (method: string, path: string, body?: unknown) =>
    answerOf(await fetch(url + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));
  const settle = async () => {
    for (let i = 0; i < 30; i++) if ((await hub.processor.drain()) + (await hub.dispatcher.drain()) === 0 && !(await hub.store.inbox.count()).received) return;
  };
  const onHand = async (sku: string) => (await hub.store.ledger.getLevel(sku, 'gallery'))?.onHand;
  let ahead = 0;
  const poll = async () => {
    ahead += 61_000;
    await hub.poller.pollDue();
    await settle();
  };

  beforeAll(async () => {
    shop = new PsEmulator({ webserviceKey: KEY });
    const base = await shop.start();
    shop.seed(['ART-1', 'ART-2'].map((sku) => ({ sku, title: sku, levels: { [LOC]: 20 } })));
    shop.seed([{ sku: 'NOT-OURS', title: 'Sold only on the shop', levels: { [LOC]: 3 } }]);
    const config = testConfig(
      'sqlite',
      { locations: [{ id: 'gallery', name: 'Gallery' }], engine: { reconcileEveryMs: 0 }, channels: [{ id: 'ps', name: 'PrestaShop', platform: 'prestashop', baseUrl: base, locations: { gallery: LOC }, credentials: { webserviceKey: 'PS_KEY' } }] },
      { PS_KEY: KEY },
    );
    hub = await createHub({ config, log: createLogger(config.logLevel), clock: () => new Date(Date.now() + ahead), idleMs: 50 });
    hub.processor.start();
    server = http.createServer(hub.app);
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const sku of ['ART-1', 'ART-2']) expect((await api('PUT', `/v1/items/${sku}`, { title: sku })).status).toBe(200);
    expect((await api('POST', '/v1/channels/ps/discover')).status).toBe(200);
    for (const sku of ['ART-1', 'ART-2']) await api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 20 });
    await settle();
    await poll(); // every feed records where the shop stands
  });
  afterAll(async () => {
    await hub?.stop(100);
    server?.closeAllConnections();
    await new Promise<void>((res) => server?.close(() => res()));
    await shop?.stop();
  });

  test('a sale, its refund with restock and a cancellation found by polling are each booked once', async () => {
    const { orderId } = await shop.sell({ sku: 'ART-1', quantity: 3 });
    await poll();
    expect(await onHand('ART-1')).toBe(17);
    await shop.refund({ orderId, restock: true, quantity: 1 });
    await poll();
    expect(await onHand('ART-1')).toBe(18);
    const second = await shop.sell({ sku: 'ART-2', quantity: 2 });
    await poll();
    await shop.cancel(second.orderId);
    await poll();
    await poll(); // the overlap reads the same versions again: dropped by the inbox
    expect([await onHand('ART-1'), await onHand('ART-2')]).toEqual([18, 20]);
    const moves = await hub.store.ledger.listMovements('ART-2', { limit: 50 });
    expect(moves.filter((m) => m.idempotencyKey.includes(`:ps:${second.orderId}:`)).map((m) => m.idempotencyKey.split(':')[0]).sort()).toEqual(['cancel', 'sale']);
  });

  test('an order for a product not in our catalog is kept visible as unmatched, and nothing is booked', async () => {
    const before = await onHand('ART-1');
    await shop.sell({ sku: 'NOT-OURS', quantity: 1 });
    await poll();
    const events = (await api('GET', '/v1/events?status=unmatched')).body;
    const list = (Array.isArray(events) ? events : events.events) as { status: string }[];
    expect(list.length).toBeGreaterThan(0);
    expect(await onHand('ART-1')).toBe(before);
  });

  test('a count in the hub is pushed as an absolute set, read before and after', async () => {
    await api('POST', '/v1/items/ART-2/counts', { location: 'gallery', counted: 11 });
    await settle();
    expect(shop.level('ART-2', LOC)).toBe(11);
    expect(shop.selfCheck()).toEqual([]);
  });
});
