/**
 * A push sent again without an expected level (docs/attribution.md, "Our number still showing").
 * When the answer to a push is lost, the hub does not know whether the channel shows that push or
 * the level before it, so the retry goes without an expected level: the connector reads the channel
 * and sets our number over whatever it finds. On Shopify that is a compare-and-set against the level
 * just read — sales made there whose orders have not reached the hub included. When those orders
 * come, the shop still shows our number: that is our write crossing them, not a count typed in the
 * shop (the OpenCart burst of bench/README.md found it on Shopify, booked as +2).
 * Through the real hub, the Shopify connector and its emulator, with a short dispatch timeout.
 */
import { ShopifyEmulator } from '../../server/connectors/shopify/emulator';
import type { Movement } from '../../server/core/ledger';
import type { TestHub } from '../helpers/hub';
import type { WebhookSink } from '../connectors/helpers/webhook-sink';
import { deliveries, startShopifyHub } from './helpers/woo-deliveries';

const TOKEN = 'shpat_blind_retry_test_token_0001';
const SECRET = 'blind-retry-test-webhook-secret';
const LOC = 'gid://shopify/Location/2002';
const WINDOW = 1500;

let t: TestHub;
let emu: ShopifyEmulator;
let caught: WebhookSink;

beforeAll(async () => {
  emu = new ShopifyEmulator({ accessToken: TOKEN, webhookSecret: SECRET, shopDomain: 'blind.myshopify.com', locations: [LOC], bucket: { size: 20_000, restorePerSecond: 1_000 } });
  ({ t, caught } = await startShopifyHub(emu, { token: TOKEN, secret: SECRET, shopDomain: 'blind.myshopify.com', loc: LOC }, { engine: { attributionWindowMs: WINDOW, reconcileEveryMs: 0 }, dispatch: { timeoutMs: 400, baseDelayMs: 50, maxDelayMs: 200 } }));
});
afterAll(async () => {
  await t?.close();
  await caught?.stop();
  await emu?.stop();
});

const { take, deliver, deliverAll, item } = deliveries(() => t, () => emu, () => caught, { channelId: 'shop', loc: LOC, skuPrefix: 'BLIND' });

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`waited in vain for: ${what}`);
}

const level = (sku: string) => emu.level(sku, LOC);
const onHand = async (sku: string) => (await t.api('GET', `/v1/items/${sku}`)).body.locations.find((l: { locationId: string }) => l.locationId === 'gallery').onHand as number;
const movements = async (sku: string) => ((await t.api('GET', `/v1/items/${sku}/movements?limit=100`)).body.movements as Movement[]).reverse();

test('sent: a count of 9 whose push lands unanswered, two shop sales held back, a count of 8 whose push (expecting nothing) sets 8 over them, then their orders; kept: the two sales once, nothing booked as a change made on Shopify, and the shop back at 6', async () => {
  const sku = await item(10);

  // The shop applies our 9 but its answer never comes: the hub gives up after 400 ms.
  emu.faults.api.loseWriteAnswerNext = 1;
  await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 9 });
  await until('the shop to show 9', () => level(sku) === 9);
  // Two sales in the shop meanwhile; their webhooks are held back.
  await emu.sell({ sku, quantity: 1, locationId: LOC });
  await emu.sell({ sku, quantity: 1, locationId: LOC });
  expect(level(sku)).toBe(7);
  const held = await take();
  expect(held.some((r) => String(r.headers['x-shopify-topic']) === 'orders/create')).toBe(true);
  // Counted 8: the push knows no expected level (the last answer was lost), reads 7 and sets 8 over the two sales.
  await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 8 });
  await until('the shop to show 8', () => level(sku) === 8);
  await t.settle();
  await deliverAll();

  // Now the orders (and the level reports of the sales) arrive.
  await deliver(held);
  await new Promise((r) => setTimeout(r, WINDOW + 100));
  await t.settle();
  await deliverAll();
  await new Promise((r) => setTimeout(r, WINDOW + 100));
  await t.settle();
  await deliverAll();

  const moves = (await movements(sku)).map((m) => [m.reason, m.channelId, m.quantity]);
  expect(moves).toEqual([
    ['count', null, 10],
    ['count', null, -1],
    ['count', null, -1],
    ['sale', 'shop', -1],
    ['sale', 'shop', -1],
  ]);
  expect(await onHand(sku)).toBe(6);
  await until('the shop to show 6', () => level(sku) === 6);
});
