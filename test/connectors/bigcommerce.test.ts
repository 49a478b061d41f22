/**
 * What is BigCommerce's own, beyond the conformance suite: the Standard Webhooks signature keyed by
 * the client secret (the scheme's published vector, and an HMAC computed without the library), the
 * store check, replays; the adjustment requests as BigCommerce documents them (product_id for a
 * product tracked by product, variant_id for one tracked by variant, numeric location ids); hiding a
 * variant; orders picked up at a location or shipped, their money, cancellations and refunds with
 * the store's refund_order_stock_adjustment; answers the connector cannot read; the store's quota.
 */
import crypto from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { createBigCommerceConnector, definition } from '../../server/connectors/bigcommerce';
import { BigCommerceEmulator } from '../../server/connectors/bigcommerce/emulator';
import { signBigCommerceWebhook } from '../../server/connectors/bigcommerce/verify';
import { ConnectorError, TranslateError, type ChannelFact, type Connector } from '../../server/connectors/types';
import { WebhookSink } from './helpers/webhook-sink';

const TOKEN = 'bc-test-access-token';
const SECRET = 'bc-test-client-secret';
const STORE = 'teststore9';

let emu: BigCommerceEmulator;
let baseUrl: string;
let sink: WebhookSink;

const connector = (settings: Record<string, unknown> = {}, over: Partial<Parameters<typeof createBigCommerceConnector>[0]> = {}): Connector =>
  createBigCommerceConnector({ channelId: 'web', baseUrl, settings: { storeHash: STORE, ...settings }, credentials: { accessToken: TOKEN, clientSecret: SECRET }, ...over });

/** Every delivery so far, verified, expanded and translated. */
async function received(c = connector()): Promise<{ topic: string; facts: ChannelFact[] }[]> {
  await emu.flushWebhooks();
  const out: { topic: string; facts: ChannelFact[] }[] = [];
  for (const r of sink.received.splice(0)) {
    const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Array.isArray(v) ? v[0]! : String(v)]));
    const v = c.verify(r.raw, headers);
    if (!v.valid) throw new Error(v.reason);
    out.push({ topic: v.topic, facts: c.translate(v.topic, await c.expand!(v.topic, JSON.parse(r.raw.toString('utf8'))), headers) });
  }
  return out;
}

beforeAll(async () => {
  sink = new WebhookSink('/v1/webhooks/web');
  const url = await sink.start();
  emu = new BigCommerceEmulator({ storeHash: STORE, accessToken: TOKEN, clientSecret: SECRET, locations: ['1', '2'] });
  baseUrl = await emu.start();
  emu.subscribe(url);
  emu.seed([{ sku: 'ART-1', title: 'Print', levels: { '1': 10, '2': 4 } }]);
  emu.seedVariants({ sku: 'TEE', title: 'Tee', variants: [{ sku: 'TEE-S', option: 'Small', levels: { '1': 3 } }, { sku: 'TEE-L', option: 'Large', levels: { '1': 6 } }] });
});

afterEach(async () => {
  emu.faults.api = {};
  emu.refundRestocks = true;
  await emu.flushWebhooks();
  sink.received.splice(0);
});

afterAll(async () => {
  await emu?.stop();
  await sink?.stop();
});

describe('signature (Standard Webhooks keyed by the client secret)', () => {
  const body = JSON.stringify({ created_at: 1561482670, store_id: '1', producer: `stores/${STORE}`, scope: 'store/order/created', hash: 'abcdef0123456789', data: { type: 'order', id: 250 } });

  test('the scheme: the Standard Webhooks published vector, and BigCommerce’s key is the client secret’s own bytes', () => {
    // The scheme's reference vector, through the library the connector uses.
    expect(new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').sign('msg_p5jXN8AQM9LWM0D4loKWxJek', new Date(1614265330_000), '{"test": 2432232314}')).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    // The same without the library: base64 HMAC-SHA256 of "id.timestamp.body" keyed by the client secret as text.
    const at = new Date();
    const h = signBigCommerceWebhook(SECRET, 'msg_1', at, body);
    const ts = String(Math.floor(at.getTime() / 1000));
    expect(h).toEqual({ 'webhook-id': 'msg_1', 'webhook-timestamp': ts, 'webhook-signature': `v1,${crypto.createHmac('sha256', SECRET).update(`msg_1.${ts}.${body}`).digest('base64')}` });
    expect(connector().verify(Buffer.from(body), h)).toEqual({ valid: true, eventId: 'store/order/created#abcdef0123456789', topic: 'store/order/created', occurredAt: '2019-06-25T17:11:10.000Z' });
  });

  test('refused: a replay from 10 minutes ago, a body altered, another store, a store named nowhere, a body without hash (nothing is stored for any)', () => {
    const c = connector();
    const old = signBigCommerceWebhook(SECRET, 'msg_2', new Date(Date.now() - 600_000), body);
    expect(c.verify(Buffer.from(body), old)).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/more than 5 minutes/) });
    const now = signBigCommerceWebhook(SECRET, 'msg_3', new Date(), body);
    expect(c.verify(Buffer.from(body.replace('250', '251')), now)).toMatchObject({ valid: false, refusal: 'signature' });
    const other = body.replace(`stores/${STORE}`, 'stores/elsewhere1');
    expect(c.verify(Buffer.from(other), signBigCommerceWebhook(SECRET, 'msg_4', new Date(), other))).toMatchObject({ valid: false, refusal: 'account', reason: expect.stringContaining('store elsewhere1') });
    const nobody = body.replace(`"producer":"stores/${STORE}",`, '');
    expect(c.verify(Buffer.from(nobody), signBigCommerceWebhook(SECRET, 'msg_5', new Date(), nobody))).toMatchObject({ valid: false, refusal: 'account' });
    const noHash = body.replace('"hash":"abcdef0123456789",', '');
    expect(c.verify(Buffer.from(noHash), signBigCommerceWebhook(SECRET, 'msg_6', new Date(), noHash))).toMatchObject({ valid: false, reason: expect.stringMatching(/no hash/) });
    expect(createBigCommerceConnector({ channelId: 'web', baseUrl, settings: { storeHash: STORE }, credentials: { accessToken: TOKEN } }).verify(Buffer.from(body), now)).toMatchObject({ valid: false, reason: expect.stringMatching(/clientSecret/) });
  });
});

describe('settings', () => {
  test('a channel without storeHash, or with a quota out of range, is refused with what to give', () => {
    expect(() => createBigCommerceConnector({ channelId: 'web', baseUrl, settings: {}, credentials: { accessToken: TOKEN, clientSecret: SECRET } })).toThrow(/needs the setting storeHash\. It is the short code/);
    expect(() => connector({ requestsPer30s: 1 })).toThrow(/requestsPer30s must be a whole number from 2/);
    // Every request counted, 80 % of the quota, a few a second.
    expect(connector({ requestsPer30s: 450 }).capabilities.rateLimit).toMatchObject({ kind: 'requests_per_window', requests: 12, windowMs: 1000 });
    expect(definition.capabilities.rateLimit).toMatchObject({ requests: 4, windowMs: 1000 });
    expect(connector({ requestsPer30s: 2 }).capabilities.rateLimit).toMatchObject({ requests: 1, windowMs: 18_750 });
  });
});

describe('stock', () => {
  test('adjustments name a product tracked by product by product_id and a variant by variant_id, at numeric locations; a relative one is sent only when the store shows the level expected', async () => {
    const c = connector();
    const art = emu.listing('ART-1')!;
    const tee = emu.listing('TEE-L')!;
    const before = emu.requests.length;
    const outs = await c.push([
      { sku: 'ART-1', ref: art, locationId: '2', level: 7, expected: 4, idempotencyKey: 'k1' },
      { sku: 'TEE-L', ref: tee, locationId: '1', level: 2, expected: 6, idempotencyKey: 'k2' },
      { sku: 'ART-1', ref: art, locationId: '1', level: 1, expected: 9, idempotencyKey: 'k3' },
    ]);
    expect(outs).toEqual([
      { sku: 'ART-1', locationId: '2', status: 'applied', level: 7 },
      { sku: 'TEE-L', locationId: '1', status: 'applied', level: 2 },
      // The store shows 10, not 9: nothing written.
      { sku: 'ART-1', locationId: '1', status: 'stale', observed: 10 },
    ]);
    const writes = emu.requests.slice(before).filter((r) => emu.isStockWrite(r));
    expect(writes.map((r) => [r.method, r.path, (r.body as { items: unknown[] }).items])).toEqual([
      [
        'POST',
        `/stores/${STORE}/v3/inventory/adjustments/relative`,
        [
          { location_id: 2, product_id: Number(art.productId), quantity: 3 },
          { location_id: 1, variant_id: Number(tee.variantId), quantity: -4 },
        ],
      ],
    ]);
    expect([emu.level('ART-1', '2'), emu.level('TEE-L', '1'), emu.level('ART-1', '1')]).toEqual([7, 2, 10]);
  });

  test('an item BigCommerce never counted refuses a relative change (422): it is set absolutely instead and read back', async () => {
    emu.seed([{ sku: 'NEW-1', title: 'New print', levels: { '1': 0 } }]);
    emu.neverCounted.add('NEW-1');
    const before = emu.requests.length;
    const outs = await connector().push([{ sku: 'NEW-1', ref: emu.listing('NEW-1')!, locationId: '1', level: 5, expected: 0, idempotencyKey: 'n1' }]);
    expect(outs).toEqual([{ sku: 'NEW-1', locationId: '1', status: 'applied', level: 5 }]);
    expect(emu.requests.slice(before).filter((r) => emu.isStockWrite(r)).map((r) => r.path.split('/').pop())).toEqual(['relative', 'absolute']);
    expect([emu.level('NEW-1', '1'), emu.neverCounted.has('NEW-1')]).toEqual([5, false]);
  });

  test('a request refused for one item, then for another: each fails alone (or is set absolutely), the rest lands', async () => {
    emu.seed([{ sku: 'R-A', title: 'A', levels: { '1': 0 } }, { sku: 'R-B', title: 'B', levels: { '1': 2 } }, { sku: 'R-C', title: 'C', levels: { '1': 2 } }]);
    emu.neverCounted.add('R-A');
    emu.faults.api.refuseSku = 'R-B';
    const t = (sku: string, level: number, expected: number) => ({ sku, ref: emu.listing(sku)!, locationId: '1', level, expected, idempotencyKey: `r-${sku}` });
    const outs = await connector().push([t('R-A', 3, 0), t('R-B', 4, 2), t('R-C', 5, 2)]);
    expect(outs.map((o) => [o.sku, o.status])).toEqual([
      ['R-A', 'applied'],
      ['R-B', 'failed'],
      ['R-C', 'applied'],
    ]);
    expect(['R-A', 'R-B', 'R-C'].map((sku) => emu.level(sku, '1'))).toEqual([3, 2, 5]);
  });

  test('an inventory answer the connector cannot read is an error, never a level', async () => {
    const broken: typeof fetch = async () => new Response(JSON.stringify({ data: [{ identity: { product_id: 1, variant_id: 2 }, locations: [{ location_id: 1, total_inventory_onhand: 'lots' }] }], meta: {} }), { status: 200 });
    const c = connector({}, { fetch: broken });
    const err = await c.read([{ sku: 'ART-1', ref: emu.listing('ART-1')!, locationId: '1' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).message).toMatch(/cannot read .*no level was taken/);
    const html: typeof fetch = async () => new Response('<html>maintenance</html>', { status: 200 });
    await expect(connector({}, { fetch: html }).read([{ sku: 'ART-1', ref: emu.listing('ART-1')!, locationId: '1' }])).rejects.toThrow(/without JSON/);
  });

  test('the store’s quota: when an answer says none is left, the next request waits until it is refreshed instead of meeting a 429', async () => {
    const limited = new BigCommerceEmulator({ storeHash: STORE, accessToken: TOKEN, clientSecret: SECRET, rateLimit: { requests: 2, windowMs: 400 } });
    const url = await limited.start();
    try {
      limited.seed([{ sku: 'Q-1', title: 'Quota', levels: { '1': 1 } }]);
      const c = createBigCommerceConnector({ channelId: 'q', baseUrl: url, settings: { storeHash: STORE }, credentials: { accessToken: TOKEN, clientSecret: SECRET } });
      const item = [{ sku: 'Q-1', ref: limited.listing('Q-1')!, locationId: '1' }];
      for (let i = 0; i < 3; i++) expect((await c.read(item)).map((r) => r.available)).toEqual([1]);
      expect(limited.rateLimited).toEqual([]);
      expect(limited.arrivals[2]! - limited.arrivals[0]!).toBeGreaterThanOrEqual(300);
    } finally {
      await limited.stop();
    }
  });
});

describe('catalog, hide and relist', () => {
  test('a product with options lists its variants; hiding one disables its purchase and leaves the others on sale', async () => {
    const listings = await connector().listCatalog();
    expect(listings.filter((l) => l.sku?.startsWith('TEE')).map((l) => [l.sku, l.title, l.ref.inventoryItemId])).toEqual([
      ['TEE-S', 'Tee — Small', `variant_id:${emu.listing('TEE-S')!.variantId}`],
      ['TEE-L', 'Tee — Large', `variant_id:${emu.listing('TEE-L')!.variantId}`],
    ]);
    await connector().hide(emu.listing('TEE-S')!);
    expect([emu.listed('TEE-S'), emu.listed('TEE-L'), emu.product('TEE-S')!.isVisible]).toEqual([false, true, true]);
    await connector().relist(emu.listing('TEE-S')!);
    expect(emu.listed('TEE-S')).toBe(true);
  });
});

describe('orders and refunds', () => {
  test('a pickup order names its location, a shipped one none; its money is read in minor units', async () => {
    const picked = await emu.sell({ sku: 'ART-1', quantity: 2, locationId: '2', discount: 300, taxRate: '10' });
    const shipped = await emu.sell({ sku: 'TEE-L', quantity: 1 });
    const sales = (await received()).flatMap((g) => g.facts).filter((f): f is Extract<ChannelFact, { type: 'sale' }> => f.type === 'sale');
    const p = sales.find((s) => s.orderId === picked.orderId)!;
    expect(p.lines.map((l) => [l.sku, l.quantity, l.locationId])).toEqual([['ART-1', 2, '2']]);
    // 2 × 25.00 − 3.00 = 47.00, tax 10 % = 4.70.
    expect(p.order).toMatchObject({ currency: 'USD', subtotal: 4700, discount: 300, tax: 470, total: 5170, paymentStatus: 'paid', fulfilmentStatus: 'unfulfilled' });
    expect(sales.find((s) => s.orderId === shipped.orderId)!.lines.map((l) => [l.sku, l.locationId])).toEqual([['TEE-L', null]]);
    // Goods of a pickup order come back where they were collected, and the refund says so.
    const before = emu.level('ART-1', '2')!;
    await emu.refund({ orderId: picked.orderId, restock: true, quantity: 1 });
    const refund = (await received()).flatMap((g) => g.facts).find((f) => f.type === 'refund');
    expect(refund?.type === 'refund' && refund.lines.map((l) => [l.sku, l.quantity, l.locationId, l.restock])).toEqual([['ART-1', 1, '2', true]]);
    expect(emu.level('ART-1', '2')).toBe(before + 1);
  });

  test('refunds and cancellations restock as the store’s refund_order_stock_adjustment says; a refund of an amount moves no goods', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 3, locationId: '1' });
    await received();
    const refunds = async () => (await received()).flatMap((g) => g.facts).filter((f): f is Extract<ChannelFact, { type: 'refund' }> => f.type === 'refund');
    await emu.refund({ orderId, restock: true, quantity: 1 });
    expect((await refunds()).map((r) => r.lines.map((l) => [l.quantity, l.restock]))).toEqual([[[1, true]]]);
    await emu.refund({ orderId, restock: false, quantity: 1 });
    expect((await refunds()).map((r) => r.lines)).toEqual([[]]);
    emu.refundRestocks = false;
    const levelBefore = emu.level('ART-1', '1');
    await emu.refund({ orderId, restock: true, quantity: 1 });
    expect((await refunds()).map((r) => r.lines.map((l) => [l.quantity, l.restock]))).toEqual([[[1, false]]]);
    expect(emu.level('ART-1', '1')).toBe(levelBefore);
    const second = await emu.sell({ sku: 'ART-1', quantity: 2, locationId: '1' });
    await received();
    emu.refundRestocks = true;
    await emu.cancel(second.orderId);
    const cancelled = (await received()).flatMap((g) => g.facts).filter((f) => f.type === 'cancellation');
    // Two order events carry the cancellation (updated, statusUpdated): the same order and lines, booked once by key.
    expect(cancelled.map((f) => f.type === 'cancellation' && [f.orderId, f.lines.map((l) => [l.quantity, l.restock])])).toEqual([
      [second.orderId, [[2, true]]],
      [second.orderId, [[2, true]]],
    ]);
  });

  test('a refund the store does not list is left unexpanded, and translate says it cannot read it', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 1, locationId: '1' });
    await received();
    const body = { scope: 'store/order/refund/created', store_id: '1', producer: `stores/${STORE}`, hash: 'ffff0000ffff0000', created_at: 1, data: { type: 'order', id: Number(orderId), refund: { refund_id: 999 } } };
    const c = connector();
    const expanded = await c.expand!('store/order/refund/created', body);
    expect(expanded).toEqual(body);
    expect(() => c.translate('store/order/refund/created', expanded, {})).toThrow(TranslateError);
  });
});
