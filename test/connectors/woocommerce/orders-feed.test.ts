/**
 * The WooCommerce `orders` feed (server/connectors/woocommerce/orders-feed.ts, docs/polling.md)
 * against the emulator, whose store clock the test moves: GET /orders answered as WooCommerce's
 * CRUD controller does (modified_after strict and to the second, orderby=modified with ties by ID,
 * X-WP-Total / X-WP-TotalPages), where the feed starts, the overlap re-read under the same event ids,
 * a burst of orders modified within one overlap window larger than a page, and stores that answer
 * what the feed cannot use.
 */
import { createWooConnector } from '../../../server/connectors/woocommerce';
import { WooClient } from '../../../server/connectors/woocommerce/client';
import { WooEmulator } from '../../../server/connectors/woocommerce/emulator';
import { OVERLAP_MS } from '../../../server/connectors/woocommerce/orders-feed';
import { translate } from '../../../server/connectors/woocommerce/translate';
import { ConnectorError, type Connector, type PollResult } from '../../../server/connectors/types';

const CK = 'ck_feed0123456789abcdef0123456789abcdef012';
const CS = 'cs_feed89abcdef0123456789abcdef0123456789a';

let emu: WooEmulator;
let baseUrl: string;
/** The store's clock, in ms; moved by the tests. */
let storeNow = Date.parse('2030-03-01T10:00:00.250Z');

const connector = (pageSize = 100): Connector => createWooConnector({ channelId: 'woo', baseUrl, settings: { pageSize }, credentials: { consumerKey: CK, consumerSecret: CS, webhookSecret: 'x' } });
const orderQueries = () => emu.requests.filter((r) => r.method === 'GET' && r.path === '/wp-json/wc/v3/orders').map((r) => r.query);

async function readAll(c: Connector, from: string | null): Promise<{ cursor: string; results: PollResult[] }> {
  const results: PollResult[] = [];
  let cursor = from;
  for (let i = 0; i < 50; i++) {
    const r = await c.poll!('orders', cursor);
    results.push(r);
    cursor = r.cursor;
    if (!r.more) return { cursor, results };
  }
  throw new Error('the feed still had more after 50 pages');
}

beforeAll(async () => {
  emu = new WooEmulator({ consumerKey: CK, consumerSecret: CS, webhookSecret: 'x', clock: () => storeNow });
  baseUrl = await emu.start(0);
  emu.seed([{ sku: 'FEED-1', title: 'Feed one', levels: { default: 1000 } }]);
});
afterAll(() => emu.stop());

describe('the emulator answers GET /orders as WooCommerce does', () => {
  test('modified_after is strict and to the second, orderby=modified sorts with ties by id, and the paging headers count what matched', async () => {
    storeNow = Date.parse('2030-03-01T09:00:00.100Z');
    const a = await emu.sell({ sku: 'FEED-1', quantity: 1 });
    storeNow = Date.parse('2030-03-01T09:00:05.900Z');
    const b = await emu.sell({ sku: 'FEED-1', quantity: 1 });
    const c = await emu.sell({ sku: 'FEED-1', quantity: 1 });
    // Unsigned: WooCommerce refuses to list orders without credentials.
    expect((await fetch(`${baseUrl}/wp-json/wc/v3/orders?per_page=5`)).status).toBe(401);

    const list = async (params: Record<string, string | number>) => {
      const client = new WooClient({ channelId: 'woo', baseUrl, settings: {}, credentials: { consumerKey: CK, consumerSecret: CS } });
      const res = await client.call<{ id: number; date_modified_gmt: string }[]>('get', 'orders', 'list orders', { params });
      return { ids: res.data.map((o) => String(o.id)), total: res.headers['x-wp-total'], pages: res.headers['x-wp-totalpages'] };
    };
    const after = { modified_after: '2030-03-01T09:00:00', dates_are_gmt: 'true', orderby: 'modified', order: 'asc' };
    // Order a was modified at 09:00:00 (to the second): not after 09:00:00.
    expect((await list({ ...after, per_page: 10 })).ids).toEqual([b.orderId, c.orderId]);
    expect((await list({ ...after, modified_after: '2030-03-01T08:59:59', per_page: 10 })).ids).toEqual([a.orderId, b.orderId, c.orderId]);
    // b and c share their second: by id, in the direction asked.
    expect((await list({ ...after, order: 'desc', per_page: 10 })).ids).toEqual([c.orderId, b.orderId]);
    expect(await list({ ...after, modified_after: '2030-03-01T08:59:59', per_page: 2, page: 2 })).toEqual({ ids: [c.orderId], total: '3', pages: '2' });
    // Past the last page: an empty list, the same totals.
    expect(await list({ ...after, modified_after: '2030-03-01T08:59:59', per_page: 2, page: 3 })).toEqual({ ids: [], total: '3', pages: '2' });
    // What WordPress refuses: a sort it does not know, a date that is not one, per_page over 100.
    const refused: Record<string, string | number>[] = [{ orderby: 'date_modified' }, { modified_after: 'yesterday' }, { per_page: 101 }, { order: 'up' }];
    for (const bad of refused) {
      await expect(list({ ...after, ...bad })).rejects.toThrow(/HTTP 400.*rest_invalid_param/);
    }
  });
});

describe('the orders feed', () => {
  test('starts where the store stands: the first poll reads nothing, orders already there are never emitted, a new one in the same second is', async () => {
    storeNow = Date.parse('2030-03-01T10:00:00.250Z');
    const old = await emu.sell({ sku: 'FEED-1', quantity: 1 });
    const c = connector();
    const first = await c.poll!('orders', null);
    expect(first.events).toEqual([]);
    expect(first.more).toBe(false);
    // A sale in the very second of the newest order at the start: after the start, so emitted.
    storeNow += 500;
    const fresh = await emu.sell({ sku: 'FEED-1', quantity: 2 });
    const { results } = await readAll(c, first.cursor);
    const ids = results.flatMap((r) => r.events.map((e) => e.eventId));
    expect(ids).toEqual([`order-${fresh.orderId}@2030-03-01T10:00:00`]);
    expect(ids.join()).not.toContain(`order-${old.orderId}@`);
    const ev = results[0]!.events[0]!;
    expect(ev.topic).toBe('order.updated');
    expect(ev.occurredAt).toBe('2030-03-01T10:00:00.000Z');
    // translate reads the polled body exactly as it reads the webhook's.
    const facts = translate(ev.topic, ev.body, {});
    expect(facts.find((f) => f.type === 'sale')).toMatchObject({ orderId: fresh.orderId, lines: [{ quantity: 2 }] });
    // The request: modified after the newest time minus the overlap, in GMT, by modification time.
    expect(orderQueries().at(-1)).toMatchObject({ modified_after: '2030-03-01T09:59:50', dates_are_gmt: 'true', orderby: 'modified', order: 'asc', per_page: '100', page: '1' });
    expect(OVERLAP_MS).toBe(10_000);
  });

  test('the overlap reads again what was read, under the same event ids; a changed order comes again under a new one', async () => {
    storeNow = Date.parse('2030-03-01T11:00:00.000Z');
    const c = connector();
    const start = await readAll(c, (await c.poll!('orders', null)).cursor);
    storeNow += 2000;
    const { orderId } = await emu.sell({ sku: 'FEED-1', quantity: 1 });
    const one = await readAll(c, start.cursor);
    const firstIds = one.results.flatMap((r) => r.events.map((e) => e.eventId));
    expect(firstIds).toEqual([`order-${orderId}@2030-03-01T11:00:02`]);
    // Polled again 3 s later: inside the overlap, the same order under the same id (the inbox drops it).
    storeNow += 3000;
    const again = await readAll(c, one.cursor);
    expect(again.results.flatMap((r) => r.events.map((e) => e.eventId))).toEqual(firstIds);
    // Completed in the dashboard: a new version, a new id.
    await emu.setOrderStatus(orderId, 'completed');
    const changed = await readAll(c, again.cursor);
    expect(changed.results.flatMap((r) => r.events.map((e) => e.eventId))).toEqual([`order-${orderId}@2030-03-01T11:00:05`]);
    // The window is anchored to the newest order seen, not to the time of the poll: with no newer
    // order, a poll a minute later reads that version again (the inbox drops it), and nothing else.
    storeNow += 60_000;
    expect((await readAll(c, changed.cursor)).results.flatMap((r) => r.events.map((e) => e.eventId))).toEqual([`order-${orderId}@2030-03-01T11:00:05`]);
  });

  test('a burst larger than a page within one overlap window is read whole, page by page, each order once per version', async () => {
    storeNow = Date.parse('2030-03-01T12:00:00.000Z');
    const c = connector(2);
    const start = (await c.poll!('orders', null)).cursor;
    // Seven orders within four seconds (a bulk action), then two spread later.
    const burst: string[] = [];
    storeNow += 1000;
    for (let i = 0; i < 7; i++) {
      if (i % 2 === 1) storeNow += 500;
      burst.push((await emu.sell({ sku: 'FEED-1', quantity: 1 })).orderId);
    }
    storeNow += 20_000;
    const late1 = (await emu.sell({ sku: 'FEED-1', quantity: 1 })).orderId;
    storeNow += 20_000;
    const late2 = (await emu.sell({ sku: 'FEED-1', quantity: 1 })).orderId;
    const { results } = await readAll(c, start);
    const seen = new Set(results.flatMap((r) => r.events.map((e) => e.eventId.split('@')[0]!)));
    expect([...seen].sort()).toEqual([...burst, late1, late2].map((id) => `order-${id}`).sort());
    // Every page but the last said there was more, and the cursor moved every time.
    expect(results.slice(0, -1).every((r) => r.more)).toBe(true);
    expect(new Set(results.map((r) => r.cursor)).size).toBe(results.length);
  });

  test('a store that ignores modified_after, sorts otherwise, or answers no list or no dates: a clear error, nothing emitted', async () => {
    storeNow = Date.parse('2030-03-01T13:00:00.000Z');
    const c = connector();
    const cursor = (await c.poll!('orders', null)).cursor;
    storeNow += 1000;
    await emu.sell({ sku: 'FEED-1', quantity: 1 });
    storeNow += 1000;
    await emu.sell({ sku: 'FEED-1', quantity: 1 });
    const cases: [string, (orders: Record<string, unknown>[]) => unknown, RegExp][] = [
      ['an old order', (orders) => [{ ...orders[0]!, date_modified_gmt: '2020-01-01T00:00:00' }, ...orders.slice(1)], /ignores "modified_after".*5\.8/],
      ['the wrong order', (orders) => [...orders].reverse(), /not in order of modification/],
      ['no list', () => ({ orders: [] }), /cannot read: it is not a list/],
      ['no date', (orders) => orders.map((o) => ({ ...o, date_modified_gmt: null })), /has no date_modified_gmt/],
    ];
    for (const [what, override, error] of cases) {
      emu.orderListOverride = override;
      const e = await c.poll!('orders', cursor).catch((err: unknown) => err);
      expect([what, e instanceof ConnectorError ? e.message : String(e)]).toEqual([what, expect.stringMatching(error)]);
    }
    emu.orderListOverride = null;
    // A cursor this connector did not write.
    await expect(c.poll!('orders', '{"v":9}')).rejects.toThrow(/saved position of the WooCommerce orders feed is not one this connector wrote/);
    await expect(c.poll!('refunds', null)).rejects.toThrow(/no polled feed "refunds"; it polls: orders/);
    // The feed still reads from the same cursor once the store answers properly.
    expect((await readAll(c, cursor)).results.flatMap((r) => r.events)).toHaveLength(2);
  });
});
