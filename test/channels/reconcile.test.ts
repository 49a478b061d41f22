/**
 * Reconciliation (docs/reconcile.md) through the hub and the WooCommerce and Shopify emulators: a
 * sale whose webhooks were all lost is found and adopted once (policy adopt); a count typed on the
 * platform with its webhook lost is overwritten (policy correct); an update still on its way is left
 * alone; a dry run changes nothing; after one reconciliation every channel shows its published level.
 */
import { ShopifyEmulator } from '../../server/connectors/shopify/emulator';
import { WooEmulator } from '../../server/connectors/woocommerce/emulator';
import { WOO_LOCATION } from '../../server/connectors/woocommerce/translate';
import type { Movement } from '../../server/core/ledger';
import { startHub, type TestHub } from '../helpers/hub';

const SHOP_LOC = 'gid://shopify/Location/1001';
const WINDOW = 200;
let t: TestHub;
let shop: ShopifyEmulator;
let woo: WooEmulator;

beforeAll(async () => {
  shop = new ShopifyEmulator({ accessToken: 'shpat_reconcile_token_0001', webhookSecret: 'reconcile-shop-secret', shopDomain: 'reconcile.myshopify.com', locations: [SHOP_LOC] });
  woo = new WooEmulator({ consumerKey: 'ck_reconcile', consumerSecret: 'cs_reconcile', webhookSecret: 'reconcile-woo-secret' });
  const [shopUrl, wooUrl] = await Promise.all([shop.start(), woo.start()]);
  t = await startHub('sqlite', {
    file: {
      locations: [{ id: 'gallery', name: 'Gallery' }],
      engine: { attributionWindowMs: WINDOW, reconcileEveryMs: 0 },
      channels: [
        { id: 'woo', name: 'WooCommerce', platform: 'woocommerce', baseUrl: wooUrl, locations: { gallery: WOO_LOCATION }, reconcile: 'adopt', credentials: { consumerKey: 'R_WOO_KEY', consumerSecret: 'R_WOO_SECRET', webhookSecret: 'R_WOO_HOOK' } },
        { id: 'shop', name: 'Shopify', platform: 'shopify', baseUrl: shopUrl, locations: { gallery: SHOP_LOC }, reconcile: 'correct', settings: { shopDomain: 'reconcile.myshopify.com' }, credentials: { accessToken: 'R_SHOP_TOKEN', webhookSecret: 'R_SHOP_HOOK' } },
      ],
    },
    env: { R_WOO_KEY: 'ck_reconcile', R_WOO_SECRET: 'cs_reconcile', R_WOO_HOOK: 'reconcile-woo-secret', R_SHOP_TOKEN: 'shpat_reconcile_token_0001', R_SHOP_HOOK: 'reconcile-shop-secret' },
  });
  woo.subscribe(`${t.url}/v1/webhooks/woo`);
  shop.subscribe(`${t.url}/v1/webhooks/shop`);
  const skus = ['REC-1', 'REC-2', 'REC-3'];
  woo.seed(skus.map((sku) => ({ sku, title: sku, levels: { [WOO_LOCATION]: 0 } })));
  shop.seed(skus.map((sku) => ({ sku, title: sku, levels: { [SHOP_LOC]: 0 } })));
  for (const sku of skus) await t.api('PUT', `/v1/items/${sku}`, { title: sku });
  await t.api('PUT', '/v1/items/NOT-LISTED', { title: 'Only in the sheet' });
  for (const c of ['woo', 'shop']) expect((await t.api('POST', `/v1/channels/${c}/discover`)).status).toBe(200);
  for (const sku of skus) await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 5 });
  await quiesce();
});

afterAll(async () => {
  await t?.close();
  await Promise.all([shop?.stop(), woo?.stop()]);
});

async function quiesce(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.all([shop.flushWebhooks(), woo.flushWebhooks()]);
    await t.settle();
  }
}

type Report = { channels: { channelId: string; checked: number; notListed: string[]; error: string | null; differences: { sku: string; channelShows: number | null; published: number; explanation: string; action: string }[] }[] };
const run = async (body: object = {}) => {
  const r = await t.api('POST', '/v1/reconcile', body);
  expect(r.status).toBe(200);
  return r.body as Report;
};
const of = (r: Report, id: string) => r.channels.find((c) => c.channelId === id)!;
const onHand = async (sku: string) => (await t.api('GET', `/v1/items/${sku}`)).body.locations[0].onHand as number;
const movements = async (sku: string) => (await t.api('GET', `/v1/items/${sku}/movements?limit=100`)).body.movements as Movement[];
const openDrift = async () => ((await t.api('GET', '/v1/alerts?status=open')).body.alerts as { kind: string; sku: string }[]).filter((a) => a.kind.startsWith('drift:'));

test('with every channel in step: everything checked, nothing different, the unlisted item reported', async () => {
  const r = await run();
  for (const id of ['woo', 'shop']) {
    expect(of(r, id)).toMatchObject({ checked: 3, differences: [], error: null, notListed: ['NOT-LISTED'] });
  }
});

test('a sale on WooCommerce whose webhooks were all lost: a dry run only reports it; the real run adopts it once and the other channel follows', async () => {
  woo.faults.webhooks.drop = 1;
  await woo.sell({ sku: 'REC-1', quantity: 2 });
  await woo.flushWebhooks();
  woo.faults.webhooks.drop = 0;
  expect(await onHand('REC-1')).toBe(5);

  const dry = await run({ dryRun: true });
  expect(of(dry, 'woo').differences).toEqual([{ sku: 'REC-1', location: 'gallery', channelShows: 3, published: 5, expected: 5, explanation: 'external_change', action: 'adopt' }]);
  await quiesce();
  expect(await onHand('REC-1')).toBe(5);
  expect(await openDrift()).toEqual([]);

  const real = await run();
  expect(of(real, 'woo').differences.map((d) => [d.sku, d.action])).toEqual([['REC-1', 'adopt']]);
  expect((await openDrift()).map((a) => a.sku)).toEqual(['REC-1']);
  await quiesce();
  await new Promise((r) => setTimeout(r, WINDOW + 50));
  await quiesce();
  expect(await onHand('REC-1')).toBe(3);
  expect((await movements('REC-1')).filter((m) => m.channelId === 'woo').map((m) => [m.reason, m.quantity])).toEqual([['adjustment', -2]]);
  expect(shop.level('REC-1', SHOP_LOC)).toBe(3);

  // The next reconciliation finds everything in step and resolves the alert.
  const again = await run();
  expect(again.channels.flatMap((c) => c.differences)).toEqual([]);
  expect(await openDrift()).toEqual([]);
  // Adopted once: a second run did not book it again.
  expect(await onHand('REC-1')).toBe(3);
});

test('a count typed on Shopify with its webhook lost, on a channel whose policy is "correct": our number is put back', async () => {
  shop.faults.webhooks.drop = 1;
  await shop.setLevel({ sku: 'REC-2', locationId: SHOP_LOC, available: 40 });
  await shop.flushWebhooks();
  shop.faults.webhooks.drop = 0;
  const r = await run();
  expect(of(r, 'shop').differences).toEqual([{ sku: 'REC-2', location: 'gallery', channelShows: 40, published: 5, expected: 5, explanation: 'external_change', action: 'push' }]);
  await quiesce();
  expect(shop.level('REC-2', SHOP_LOC)).toBe(5);
  expect(await onHand('REC-2')).toBe(5);
  expect((await run()).channels.flatMap((c) => c.differences)).toEqual([]);
});

test('an update still on its way is left alone; once it lands, one reconciliation finds every channel at its published level', async () => {
  // The pushes are queued but not sent yet.
  await t.hub.dispatcher.stop();
  await t.api('POST', '/v1/items/REC-3/adjustments', { location: 'gallery', quantity: 4, reason: 'receipt' });
  await t.hub.processor.drain();
  const r = await run();
  for (const id of ['woo', 'shop']) {
    expect(of(r, id).differences).toEqual([expect.objectContaining({ sku: 'REC-3', channelShows: 5, published: 9, explanation: 'push_pending', action: 'none' })]);
  }
  t.hub.dispatcher.start();
  await quiesce();
  expect([woo.level('REC-3', WOO_LOCATION), shop.level('REC-3', SHOP_LOC)]).toEqual([9, 9]);
  const after = await run();
  expect(after.channels.flatMap((c) => c.differences)).toEqual([]);
});

test('bad requests: an unknown channel, or a body with a typo, are refused and change nothing', async () => {
  expect((await t.api('POST', '/v1/reconcile', { channel: 'nope' })).status).toBe(404);
  expect((await t.api('POST', '/v1/reconcile', { dryrun: true })).status).toBe(400);
});

test('a lost sale booked as a change made on the channel, then a lost refund with restock bringing it back to our old number: adopted, not pushed over (simulation seed 70)', async () => {
  await t.api('PUT', '/v1/items/REC-4', { title: 'REC-4' });
  woo.seed([{ sku: 'REC-4', title: 'REC-4', levels: { [WOO_LOCATION]: 0 } }]);
  shop.seed([{ sku: 'REC-4', title: 'REC-4', levels: { [SHOP_LOC]: 0 } }]);
  for (const c of ['woo', 'shop']) expect((await t.api('POST', `/v1/channels/${c}/discover`)).status).toBe(200);
  await t.api('POST', '/v1/items/REC-4/counts', { location: 'gallery', counted: 5 });
  await quiesce();
  // A sale whose webhooks are all lost: found by reconciliation and booked as a change made there.
  woo.faults.webhooks.drop = 1;
  const { orderId } = await woo.sell({ sku: 'REC-4', quantity: 1 });
  await woo.flushWebhooks();
  woo.faults.webhooks.drop = 0;
  await run();
  await quiesce();
  await new Promise((r) => setTimeout(r, WINDOW + 50));
  await quiesce();
  expect(await onHand('REC-4')).toBe(4);
  // The buyer brings it back; that refund's webhooks are lost too. The shop shows 5, the number we pushed first.
  woo.faults.webhooks.drop = 1;
  await woo.refund({ orderId, restock: true });
  await woo.flushWebhooks();
  woo.faults.webhooks.drop = 0;
  expect(woo.level('REC-4', WOO_LOCATION)).toBe(5);
  const r = await run();
  expect(of(r, 'woo').differences).toEqual([expect.objectContaining({ sku: 'REC-4', channelShows: 5, published: 4, explanation: 'external_change', action: 'adopt' })]);
  await quiesce();
  await new Promise((r) => setTimeout(r, WINDOW + 50));
  await quiesce();
  expect(await onHand('REC-4')).toBe(5);
  expect([woo.level('REC-4', WOO_LOCATION), shop.level('REC-4', SHOP_LOC)]).toEqual([5, 5]);
});
