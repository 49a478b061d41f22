/**
 * Adobe Commerce through the real hub (SQLite): the emulator's hooks go to the hub's webhook door and
 * its orders feed is polled by the hub's poller, so each sale, credit memo, cancellation and Admin
 * stock edit may arrive twice (a hook and a poll, or two polls over the overlap). Each is booked
 * once, under the platform's ids (order entity_id + updated_at, credit memo entity_id, order item
 * ids in the booking keys); an order for a product not in our catalog stays visible as unmatched.
 *
 * The hub runs on a clock the test moves (`ahead` ms past the wall clock); the poller and the
 * dispatcher are driven by hand (`poller.pollDue()`, `dispatcher.drain()`) and the booking worker
 * runs: nothing waits on a timer.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { EMULATOR_PUBLIC_KEY, AdobeEmulator } from '../../../server/connectors/adobe-commerce/emulator';
import { createHub, type Hub } from '../../../server/hub';
import { createLogger } from '../../../server/log';
import { ADMIN_TOKEN, answerOf, testConfig } from '../../helpers/hub';

jest.setTimeout(120_000);

const TOKEN = 'adobe-hub-integration-token-0123';
const HOOK = 'adobe hub hook secret';
const STORE = 'https://hub-shop.example.com/';
const SKUS = ['AC-1', 'AC-2', 'AC-3'];
const WINDOW = 5_000;
const EVERY = 60_000;

let emu: AdobeEmulator;
let hub: Hub;
let server: http.Server;
let url = '';
let ahead = 0;

type Movement = { idempotencyKey: string; quantity: number; reason: string };
const api = async (method: string, path: string, body?: unknown) =>
  answerOf(await fetch(url + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));
const movements = async (sku: string) => (await api('GET', `/v1/items/${sku}/movements?limit=200`)).body.movements as Movement[];
const keyed = async (sku: string, prefix: string) => (await movements(sku)).filter((m) => m.idempotencyKey.startsWith(prefix));
const onHand = async (sku: string) => (await api('GET', `/v1/items/${sku}`)).body.locations.find((l: { locationId: string }) => l.locationId === 'gallery').onHand as number;
const events = async (status?: string) => (await api('GET', `/v1/events?limit=500${status ? `&status=${status}` : ''}`)).body.events as { id: number; kind: string; status: string; via?: string }[];

/** Hooks sent and answered, every due event booked, every due push delivered, until nothing moves. */
async function settle(): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await emu.flushWebhooks();
    const n = (await hub.processor.drain()) + (await hub.dispatcher.drain());
    await emu.flushWebhooks();
    if (n === 0 && !(await hub.store.inbox.count()).received) return;
  }
  throw new Error('the hub did not settle');
}

/** One interval on, the orders feed polled, and everything settled. */
async function poll(): Promise<void> {
  ahead += EVERY + 1;
  const done = await hub.poller.pollDue();
  expect(done.length).toBeGreaterThan(0);
  await settle();
}

beforeAll(async () => {
  emu = new AdobeEmulator({ accessToken: TOKEN, webhookSecret: HOOK, storeUrl: STORE });
  const base = await emu.start();
  emu.seed([...SKUS, 'NOT-OURS'].map((sku) => ({ sku, title: sku, levels: { default: 20 } })));
  const config = testConfig(
    'sqlite',
    {
      locations: [{ id: 'gallery', name: 'Gallery' }],
      engine: { attributionWindowMs: WINDOW, reconcileEveryMs: 0 },
      channels: [
        {
          id: 'adobe',
          name: 'Web shop (Adobe Commerce)',
          platform: 'adobe-commerce',
          baseUrl: base,
          locations: { gallery: 'default' },
          settings: { storeUrl: STORE, webhookPublicKey: EMULATOR_PUBLIC_KEY },
          credentials: { accessToken: 'AC_TOKEN', webhookSecret: 'AC_HOOK' },
          polling: { everyMs: EVERY },
        },
      ],
    },
    { AC_TOKEN: TOKEN, AC_HOOK: HOOK },
  );
  hub = await createHub({ config, log: createLogger(config.logLevel), clock: () => new Date(Date.now() + ahead), validateResponses: true, idleMs: 50 });
  hub.processor.start();
  server = http.createServer(hub.app);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  emu.subscribe(`${url}/v1/webhooks/adobe`);
  for (const sku of SKUS) expect((await api('PUT', `/v1/items/${sku}`, { title: sku })).status).toBeLessThan(300);
  const found = await api('POST', '/v1/channels/adobe/discover');
  expect(found.status).toBe(200);
  expect(found.body.unmatched.map((l: { sku: string }) => l.sku)).toEqual(['NOT-OURS']);
  for (const sku of SKUS) await api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 20 });
  await settle();
  // The feed starts where the store stands.
  await poll();
});

afterAll(async () => {
  // Every request the connector sent through the hub, and every answer, within the 2.4.8 schema.
  expect(emu?.selfCheck()).toEqual([]);
  await hub?.stop(100);
  server?.closeAllConnections();
  await new Promise<void>((res) => (server ? server.close(() => res()) : res()));
  await emu?.stop();
});

test('a sale sent by hook and found again by the poll is booked once', async () => {
  const { orderId } = await emu.sell({ sku: 'AC-1', quantity: 2 });
  await settle();
  await poll();
  await poll();
  expect((await keyed('AC-1', `sale:adobe:${orderId}:`)).map((m) => m.quantity)).toEqual([-2]);
  expect(await onHand('AC-1')).toBe(18);
  expect(emu.level('AC-1', 'default')).toBe(18);
  const kinds = (await events()).filter((e) => e.kind === 'observer.sales_order_save_after').map((e) => e.via);
  expect(kinds).toContain('webhook');
});

test('a credit memo with Return to Stock books the return once (hook, then the poll that cannot say restock)', async () => {
  const { orderId } = await emu.sell({ sku: 'AC-1', quantity: 2 });
  await settle();
  const { refundId } = await emu.refund({ orderId, restock: true, quantity: 1 });
  await settle();
  await poll();
  await poll();
  expect((await keyed('AC-1', `refund:adobe:${refundId}:`)).map((m) => [m.reason, m.quantity])).toEqual([['return', 1]]);
  expect(await onHand('AC-1')).toBe(17);
  expect(emu.level('AC-1', 'default')).toBe(17);
});

test('with the hooks lost, the poll alone books a sale (reserved, not shipped) and its cancellation once each', async () => {
  emu.faults.webhooks.drop = 1;
  try {
    const { orderId } = await emu.sell({ sku: 'AC-2', quantity: 3, ship: false });
    await poll();
    expect(await onHand('AC-2')).toBe(17);
    // The store still holds 20 in its source; 3 are reserved: it can sell 17, as the hub says.
    expect([emu.sourceQuantity('AC-2', 'default'), emu.level('AC-2', 'default')]).toEqual([20, 17]);
    // Cancelled at once, most likely in the same second (Magento's dates are to the second): a new version all the same.
    await emu.cancel(orderId);
    await poll();
    await poll();
    expect((await keyed('AC-2', `sale:adobe:${orderId}:`)).map((m) => m.quantity)).toEqual([-3]);
    expect((await keyed('AC-2', `cancel:adobe:${orderId}:`)).map((m) => m.quantity)).toEqual([3]);
    expect(await onHand('AC-2')).toBe(20);
    expect((await events()).filter((e) => e.kind === 'observer.sales_order_save_after' && e.via === 'poll').length).toBeGreaterThanOrEqual(2);
    expect((await movements('AC-2')).filter((m) => m.reason === 'adjustment')).toEqual([]);
  } finally {
    emu.faults.webhooks.drop = 0;
  }
});

test('an order for a product not in our catalog is kept as unmatched, and nothing is booked', async () => {
  const before = await Promise.all(SKUS.map(onHand));
  await emu.sell({ sku: 'NOT-OURS', quantity: 1 });
  await settle();
  await poll();
  const unmatched = await events('unmatched');
  expect(unmatched.filter((e) => e.kind === 'observer.sales_order_save_after').length).toBeGreaterThanOrEqual(1);
  expect(await Promise.all(SKUS.map(onHand))).toEqual(before);
});

test('a stock edit in the Admin is booked once, as an adjustment attributed to the channel', async () => {
  await emu.setLevel({ sku: 'AC-3', locationId: 'default', available: 25 });
  await settle();
  // Nobody's order explains it: once the attribution window is over, a read confirms it and it is booked.
  ahead += WINDOW + 1;
  await settle();
  await poll();
  expect(await onHand('AC-3')).toBe(25);
  expect((await movements('AC-3')).filter((m) => m.reason === 'adjustment').map((m) => m.quantity)).toEqual([5]);
});
