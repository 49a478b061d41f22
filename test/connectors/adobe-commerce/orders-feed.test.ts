/**
 * The Adobe Commerce `orders` feed (server/connectors/adobe-commerce/orders-feed.ts) against the
 * emulator, whose store clock the test moves: where the feed starts, the overlap re-read under the
 * same event ids, a burst of orders changed in one second larger than a page, credit memos after
 * their order (each once, none from before the feed began), and the GET /V1/orders requests it
 * sends (within the 2.4.8 schema: the emulator checks them).
 */
import { createAdobeConnector } from '../../../server/connectors/adobe-commerce';
import { AdobeEmulator } from '../../../server/connectors/adobe-commerce/emulator';
import { OVERLAP_MS } from '../../../server/connectors/adobe-commerce/orders-feed';
import type { Connector, PollResult } from '../../../server/connectors/types';

const TOKEN = 'adobe-feed-token-0123456789';
let emu: AdobeEmulator;
let baseUrl: string;
let storeNow = Date.parse('2030-03-01T10:00:00.250Z');

const connector = (pageSize = 100): Connector => createAdobeConnector({ channelId: 'adobe', baseUrl, settings: { storeUrl: 'https://feed.example.com/', pageSize }, credentials: { accessToken: TOKEN, webhookSecret: 'x' } });

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
const ids = (rs: PollResult[]) => rs.flatMap((r) => r.events.map((e) => e.eventId));

beforeAll(async () => {
  emu = new AdobeEmulator({ accessToken: TOKEN, webhookSecret: 'x', storeClock: () => storeNow });
  baseUrl = await emu.start();
  emu.seed([{ sku: 'FEED-1', title: 'Feed one', levels: { default: 1000 } }]);
});
afterAll(async () => {
  expect(emu.selfCheck()).toEqual([]);
  await emu.stop();
});

test('starts where the store stands: orders already there are never emitted; a new one, and its credit memo, are, once', async () => {
  storeNow = Date.parse('2030-03-01T10:00:00.250Z');
  const old = await emu.sell({ sku: 'FEED-1', quantity: 1 });
  const c = connector();
  const start = await c.poll!('orders', null);
  expect([start.events, start.more]).toEqual([[], false]);
  // A refund of the old order, after the feed began: the order shows again, with its new credit memo.
  storeNow += 2_000;
  await emu.refund({ orderId: old.orderId, restock: false, quantity: 1 });
  const fresh = await emu.sell({ sku: 'FEED-1', quantity: 2 });
  const first = await readAll(c, start.cursor);
  const got = first.results.flatMap((r) => r.events.map((e) => [e.topic, e.eventId.replace(/~.*$/, '')]));
  expect(got).toEqual([
    ['observer.sales_order_save_after', `order-${old.orderId}@2030-03-01 10:00:02`],
    ['observer.sales_order_creditmemo_save_after', expect.stringMatching(/^creditmemo-\d+$/)],
    ['observer.sales_order_save_after', `order-${fresh.orderId}@2030-03-01 10:00:02`],
  ]);
  // Within the overlap, the same versions are read again under the same ids (the inbox drops them).
  storeNow += 1_000;
  const again = await readAll(c, first.cursor);
  expect(ids(again.results)).toEqual(ids(first.results));
  // Later, with nothing new: the window stays at the newest change read, so the same ids again, nothing more.
  storeNow += OVERLAP_MS + 2_000;
  const quiet = await readAll(c, again.cursor);
  expect(ids(quiet.results)).toEqual(ids(first.results));
  // The query: updated_at gteq the newest read less the overlap, oldest first, paged.
  const q = emu.requests.filter((r) => r.method === 'GET' && r.path === '/rest/default/V1/orders').at(-1)!.query!;
  expect(q).toMatchObject({
    'searchCriteria[filterGroups][0][filters][0][field]': 'updated_at',
    'searchCriteria[filterGroups][0][filters][0][conditionType]': 'gteq',
    'searchCriteria[filterGroups][0][filters][0][value]': '2030-03-01 09:59:52',
    'searchCriteria[sortOrders][0][field]': 'updated_at',
    'searchCriteria[sortOrders][0][direction]': 'ASC',
  });
});

test('a burst of orders changed within one overlap window, more than a page: every one is emitted, in order, once', async () => {
  storeNow += 60_000;
  const c = connector(2);
  const { cursor } = await c.poll!('orders', null);
  storeNow += 1_000;
  const made: string[] = [];
  for (let i = 0; i < 5; i++) made.push((await emu.sell({ sku: 'FEED-1', quantity: 1 })).orderId);
  const { results } = await readAll(c, cursor);
  expect(results.length).toBeGreaterThanOrEqual(3);
  const orderIds = ids(results).map((id) => /^order-(\d+)@/.exec(id)![1]);
  expect([...new Set(orderIds)]).toEqual(made);
});
