/**
 * A Squarespace channel through the hub, with its emulator: the notifications at the hub's door
 * (a sale booked once, a replay answered as a duplicate, forged, another site's and malformed ones
 * refused with nothing stored, a sale of a product not in the catalog kept as unmatched), the orders
 * feed finding a sale whose notification was lost (booked once, also when polled again), the
 * inventory feed reporting a level nobody told the hub about, and a count pushed to Squarespace.
 */
import { SquarespaceEmulator } from '../../../server/connectors/squarespace/emulator';
import { signSquarespace } from '../../../server/connectors/squarespace/verify';
import { startHub, type TestHub } from '../../helpers/hub';
import { WebhookSink, type Received } from '../helpers/webhook-sink';

type Json = Record<string, any>;
const KEY = 'sqsp-hub-api-key';
const SECRET = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const SITE = '5f3c3d55ac435e1a051f77b3';
const SKUS = ['ART-1', 'ART-2'];

let t: TestHub;
let emu: SquarespaceEmulator;
let other: SquarespaceEmulator;
let sink: WebhookSink;
/** The hub's clock runs this far ahead of the wall clock (polls fall due when it moves on). */
let ahead = 0;

async function post(r: Received, raw: Buffer = r.raw, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const h: Record<string, string> = { 'content-type': 'application/json', 'squarespace-signature': String(r.headers['squarespace-signature'] ?? ''), ...headers };
  const res = await fetch(`${t.url}/v1/webhooks/web`, { method: 'POST', body: raw, headers: h });
  return { status: res.status, body: await res.json() };
}

async function kept(): Promise<{ events: Json[]; movements: Json[][]; orders: Json[] }> {
  const events = (await t.api('GET', '/v1/events?limit=500')).body.events as Json[];
  const orders = (await t.api('GET', '/v1/orders?limit=500')).body.orders as Json[];
  const movements: Json[][] = [];
  for (const sku of SKUS) movements.push((await t.api('GET', `/v1/items/${sku}/movements?limit=500`)).body.movements as Json[]);
  return { events, movements, orders };
}

async function caught(e: SquarespaceEmulator): Promise<Received[]> {
  await e.flushWebhooks();
  return sink.received.splice(0);
}

/** An item's sale movements, oldest first. */
const saleMovements = async (sku: string) => ((await t.api('GET', `/v1/items/${sku}/movements?limit=500`)).body.movements as Json[]).filter((m) => m.reason === 'sale').reverse();

async function pollAll(): Promise<void> {
  ahead += 120_000;
  await t.hub.poller.pollDue();
  await t.settle();
}

beforeAll(async () => {
  emu = new SquarespaceEmulator({ apiKey: KEY, webhookSecret: SECRET, websiteId: SITE });
  other = new SquarespaceEmulator({ apiKey: 'other-key', webhookSecret: SECRET, websiteId: '60aa0000000000000000beef' });
  const [url] = await Promise.all([emu.start(), other.start()]);
  sink = new WebhookSink('/v1/webhooks/web', () => 'squarespace');
  const hook = await sink.start();
  emu.subscribe(hook);
  other.subscribe(hook);
  t = await startHub('sqlite', {
    file: {
      locations: [{ id: 'gallery', name: 'Gallery' }],
      engine: { attributionWindowMs: 3_600_000, reconcileEveryMs: 0 },
      channels: [{ id: 'web', name: 'Squarespace', platform: 'squarespace', baseUrl: url, locations: { gallery: 'default' }, settings: { websiteId: SITE }, credentials: { apiKey: 'T_SQSP_KEY', webhookSecret: 'T_SQSP_SECRET' } }],
    },
    env: { T_SQSP_KEY: KEY, T_SQSP_SECRET: SECRET },
    hub: { clock: () => new Date(Date.now() + ahead) },
  });
  for (const e of [emu, other]) e.seed([...SKUS, 'NOT-OURS'].map((sku) => ({ sku, title: sku, levels: { default: 20 } })));
  for (const sku of SKUS) await t.api('PUT', `/v1/items/${sku}`, { title: sku });
  const discovered = await t.api('POST', '/v1/channels/web/discover');
  expect(discovered.status).toBe(200);
  for (const sku of SKUS) await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 20 });
  await t.settle();
  // The feeds start where Squarespace stands.
  await pollAll();
});

afterAll(async () => {
  await t?.close();
  await Promise.all([emu?.stop(), other?.stop(), sink?.stop()]);
});

test('discovery maps the catalog\'s SKUs and reports the one that is not ours', async () => {
  const again = (await t.api('POST', '/v1/channels/web/discover')).body;
  expect(again.matched.map((m: Json) => m.sku).sort()).toEqual(SKUS);
  expect(again.unmatched.map((u: Json) => u.sku)).toEqual(['NOT-OURS']);
});

test('a sale is booked once; the same notification again is a duplicate', async () => {
  await emu.sell({ sku: 'ART-1', quantity: 2 });
  const [r] = await caught(emu);
  const first = await post(r!);
  expect([first.status, first.body.status]).toEqual([200, 'received']);
  await t.settle();
  expect((await t.api('GET', `/v1/events/${first.body.eventId}`)).body.status).toBe('processed');
  const again = await post(r!);
  expect([again.status, again.body.status]).toEqual([200, 'duplicate']);
  await t.settle();
  expect((await saleMovements('ART-1')).map((m) => m.quantity)).toEqual([-2]);
});

test('forged, another site\'s and malformed notifications are refused at the door with nothing stored', async () => {
  await emu.sell({ sku: 'ART-2', quantity: 1 });
  const [genuine] = await caught(emu);
  await other.sell({ sku: 'ART-2', quantity: 3 });
  const [theirs] = await caught(other);
  const before = await kept();
  // Sent: the genuine body with one byte changed; kept: nothing.
  const tampered = Buffer.from(genuine!.raw.toString('utf8').replace('order.create', 'order.update'));
  const refusals = [
    await post(genuine!, tampered),
    await post(genuine!, genuine!.raw, { 'squarespace-signature': '0'.repeat(64) }),
    await post(theirs!),
    // Signed with the channel's secret, but not JSON.
    await post(genuine!, Buffer.from('{"id":"x",'), { 'squarespace-signature': signSquarespace('{"id":"x",', SECRET) }),
  ];
  for (const a of refusals) expect([a.status, a.body.error.message]).toEqual([401, expect.stringMatching(/Nothing was stored/)]);
  expect(refusals[2]!.body.error.message).toMatch(/site 60aa0000000000000000beef/);
  await t.settle();
  expect(await kept()).toEqual(before);
  // The genuine one still books.
  expect((await post(genuine!)).status).toBe(200);
  await t.settle();
  expect((await saleMovements('ART-2')).map((m) => m.quantity)).toEqual([-1]);
});

test('a sale of a product not in the catalog is kept, visible as unmatched, and books nothing', async () => {
  await emu.sell({ sku: 'NOT-OURS', quantity: 1 });
  const [r] = await caught(emu);
  const a = await post(r!);
  await t.settle();
  const ev = (await t.api('GET', `/v1/events/${a.body.eventId}`)).body;
  expect(ev.status).toBe('unmatched');
  expect(JSON.stringify(ev.results)).toContain('NOT-OURS');
});

test('a sale whose notification was lost is found by the orders feed and booked once, also when polled again', async () => {
  emu.faults.webhooks.drop = 1;
  const { orderId } = await emu.sell({ sku: 'ART-2', quantity: 4 });
  expect(await caught(emu)).toEqual([]);
  emu.faults.webhooks.drop = 0;
  await pollAll();
  await pollAll();
  const sales = await saleMovements('ART-2');
  expect(sales.map((m) => m.quantity)).toEqual([-1, -4]);
  // Booked from the polled order (the body the feed stored is the order itself).
  const polled = ((await t.api('GET', '/v1/events?limit=500')).body.events as Json[]).filter((e) => e.via === 'poll' && e.kind === 'order.update');
  const bodies = await Promise.all(polled.map(async (e) => (await t.api('GET', `/v1/events/${e.id}`)).body.body));
  expect(bodies.some((b) => b?.order?.id === orderId)).toBe(true);
});

test('a stock edit on Squarespace (no notification) is reported by the inventory feed', async () => {
  await emu.setLevel({ sku: 'ART-1', available: 25 });
  await pollAll();
  const events = ((await t.api('GET', '/v1/events?limit=500')).body.events as Json[]).filter((e) => e.kind === 'inventory.polled');
  expect(events.length).toBeGreaterThan(0);
  expect(events.every((e) => e.via === 'poll')).toBe(true);
});

test('a count in the hub is pushed to Squarespace', async () => {
  await t.api('POST', '/v1/items/ART-2/counts', { location: 'gallery', counted: 9 });
  await t.settle();
  expect(emu.level('ART-2', 'default')).toBe(9);
});
