/**
 * Issue #15, items 2 and 3, on every platform, through the hub's webhook door with a real store:
 * - a delivery must be for the channel's own account (Shopify X-Shopify-Shop-Domain = shopDomain,
 *   Square merchant_id = merchantId, WooCommerce X-WC-Webhook-Source = the store's address), or it is
 *   refused (401, with the reason) and nothing is stored: not in the inbox, not in the ledger, not
 *   in the transaction log;
 * - a topic that travels outside the signature (X-Shopify-Topic, X-WC-Webhook-Topic/-Resource/-Event)
 *   cannot change what a signed body means: every genuine delivery the emulators send, resent with
 *   its genuine signature under every other topic (and a fresh delivery id, so it is not merely a
 *   duplicate), is either refused at the door with nothing stored, or stored and found to book
 *   nothing and change nothing in the transaction log. Square's type is in the signed body: changing
 *   it breaks the signature, and no header can rename the event.
 * Each swap is sent right after its genuine delivery was booked, so what the log shows is what that
 * body says.
 */
import crypto from 'node:crypto';
import { createShopifyConnector } from '../../server/connectors/shopify';
import { ShopifyEmulator } from '../../server/connectors/shopify/emulator';
import { SHOPIFY_TOPICS, translate as shopifyTranslate } from '../../server/connectors/shopify/translate';
import { normaliseShopDomain, verifyShopifyWebhook } from '../../server/connectors/shopify/verify';
import { SquareEmulator } from '../../server/connectors/square/emulator';
import { translate as squareTranslate } from '../../server/connectors/square/translate';
import { normaliseMerchantId, signSquareWebhook } from '../../server/connectors/square/verify';
import { createWooConnector } from '../../server/connectors/woocommerce';
import { WooEmulator } from '../../server/connectors/woocommerce/emulator';
import { WOO_LOCATION, WOO_TOPICS, translate as wooTranslate } from '../../server/connectors/woocommerce/translate';
import { normaliseStoreAddress } from '../../server/connectors/woocommerce/verify';
import { TranslateError } from '../../server/connectors/types';
import { startHub, testConfig, type TestHub } from '../helpers/hub';
import { TOPIC_OF, WebhookSink, type Received } from './helpers/webhook-sink';

type Json = Record<string, any>;
type Answer = { status: number; body: any };

const SKUS = ['ART-1', 'ART-2'];
/** Long enough that no level a channel reports is booked as unexplained while a test runs. */
const HOLD_LEVELS = { attributionWindowMs: 3_600_000, reconcileEveryMs: 0 };

/** Sends a caught delivery to the hub again, with some headers changed (null: left out). */
async function post(t: TestHub, channelId: string, r: Received, change: Record<string, string | null> = {}, raw: Buffer = r.raw): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if ((k.startsWith('x-') || k === 'content-type') && typeof v === 'string') headers[k] = v;
  for (const [k, v] of Object.entries(change)) {
    if (v === null) delete headers[k];
    else headers[k] = v;
  }
  const res = await fetch(`${t.url}/v1/webhooks/${channelId}`, { method: 'POST', body: raw, headers });
  return { status: res.status, body: await res.json() };
}

/** Everything a delivery could change: the inbox, the ledger (levels and movements) and the transaction log. */
async function kept(t: TestHub): Promise<{ events: Json[]; orders: Json[]; items: Json[] }> {
  const events = (await t.api('GET', '/v1/events?limit=500')).body.events as Json[];
  const orders = (await t.api('GET', '/v1/orders?limit=500')).body.orders as Json[];
  const items: Json[] = [];
  for (const sku of SKUS) {
    items.push({ sku, item: (await t.api('GET', `/v1/items/${sku}`)).body, movements: (await t.api('GET', `/v1/items/${sku}/movements?limit=500`)).body.movements });
  }
  return { events, orders, items };
}

/** Delivers every webhook the emulator sends (echoes of the hub's pushes too), each to `each`, until it sends no more. */
async function drain(emu: { flushWebhooks(): Promise<void> }, sink: WebhookSink, t: TestHub, each: (r: Received) => Promise<void>): Promise<number> {
  let n = 0;
  for (let round = 0; round < 20; round++) {
    await emu.flushWebhooks();
    await t.settle();
    await emu.flushWebhooks();
    const next = sink.received.splice(0);
    if (next.length === 0) return n;
    for (const r of next) {
      await each(r);
      n++;
    }
  }
  throw new Error('the emulator kept sending webhooks');
}

/** Level reports come after every push (echoes) and all look alike: two of each are enough to swap. */
const SWAPPED_LEVEL_REPORTS = 2;

/** A refusal at the door: 401, the reason in the answer, and nothing kept anywhere. */
async function expectRefused(t: TestHub, send: () => Promise<Answer>, reason: RegExp): Promise<void> {
  const before = await kept(t);
  const answer = await send();
  await t.settle();
  expect(answer.status).toBe(401);
  expect(answer.body.error.message).toMatch(reason);
  expect(answer.body.error.message).toMatch(/Nothing was stored/);
  expect(await kept(t)).toEqual(before);
}

/**
 * What makes two deliveries the same one: the channel, the delivery's id headers and the bytes.
 * WooCommerce's delivery id is wp_hash(webhook id . unix second), so a store that saves a product
 * twice in one second with nothing changed sends the same id and the same bytes twice: that second
 * delivery is a genuine duplicate, and the hub answers so (server/connectors/woocommerce/verify.ts).
 */
const delivered = new WeakMap<TestHub, Set<string>>();
function deliveryKey(channelId: string, r: Received): string {
  const ids = Object.entries(r.headers).filter(([k]) => k.startsWith('x-') && k.endsWith('-id')).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([channelId, ids, crypto.createHash('sha256').update(r.raw).digest('hex')]);
}

/** The genuine delivery: accepted, stored and processed (or, when it is byte for byte one sent before under the same id, answered as a duplicate and stored once). */
async function expectAccepted(t: TestHub, channelId: string, r: Received): Promise<void> {
  const seen = delivered.get(t) ?? new Set<string>();
  delivered.set(t, seen);
  const key = deliveryKey(channelId, r);
  const before = seen.has(key) ? await kept(t) : null;
  const answer = await post(t, channelId, r);
  if (before) {
    expect([answer.status, answer.body.status]).toEqual([200, 'duplicate']);
    await t.settle();
    expect(await kept(t)).toEqual(before);
    return;
  }
  seen.add(key);
  expect([answer.status, answer.body.status]).toEqual([200, 'received']);
  await t.settle();
  const ev = (await t.api('GET', `/v1/events/${answer.body.eventId}`)).body;
  expect(ev.status).toBe('processed');
}

/**
 * A genuine body and signature resent under another topic: refused at the door with nothing kept,
 * or stored and processed without booking or logging anything the state did not already hold.
 * Returns whether it was refused.
 */
async function expectSwapHarmless(t: TestHub, channelId: string, r: Received, headers: Record<string, string>, translate: (() => unknown) | null): Promise<boolean> {
  const before = await kept(t);
  const answer = await post(t, channelId, r, headers);
  await t.settle();
  const after = await kept(t);
  if (answer.status === 401) {
    expect(answer.body.error.message).toMatch(/not covered by Shopify's signature|signs the body only/);
    expect(after).toEqual(before);
    // The same body handed to translate under that topic (an event stored before this check, a
    // retried one) is refused there too: translate does not take the header's word either.
    if (translate) expect(translate).toThrow(TranslateError);
    return true;
  }
  expect([answer.status, answer.body.status]).toEqual([200, 'received']);
  const ev = (await t.api('GET', `/v1/events/${answer.body.eventId}`)).body;
  expect(ev.status).toBe('processed');
  expect(ev.results.filter((x: Json) => x.result === 'booked' || x.result === 'conflict')).toEqual([]);
  expect({ ...after, events: after.events.length }).toEqual({ ...before, events: before.events.length + 1 });
  return false;
}

const orderStates = async (t: TestHub) => ((await t.api('GET', '/v1/orders?limit=500')).body.orders as Json[]).map((o) => ({ ref: o.externalId, status: o.status, payment: o.paymentStatus, fulfilment: o.fulfilmentStatus, steps: (o.events as Json[]).map((e) => e.kind) }));

// ------------------------------------------------------------------------------------------------
describe('how accounts are compared', () => {
  it('a Shopify shop domain: case, scheme, path, port and a trailing dot do not matter', () => {
    for (const v of ['gallery-shop.myshopify.com', 'Gallery-Shop.MyShopify.com', 'https://gallery-shop.myshopify.com/', 'HTTPS://GALLERY-SHOP.MYSHOPIFY.COM/admin', 'gallery-shop.myshopify.com.', ' gallery-shop.myshopify.com:443 ']) {
      expect(normaliseShopDomain(v)).toBe('gallery-shop.myshopify.com');
    }
    expect(normaliseShopDomain('other-shop.myshopify.com')).not.toBe('gallery-shop.myshopify.com');
    for (const v of ['', '   ', 'https://', undefined, 42]) expect(normaliseShopDomain(v)).toBeNull();
  });

  it('a WooCommerce store address: scheme, case, "www.", default ports and trailing slashes do not matter; host, path and other ports do', () => {
    const same = ['https://shop.example.com/', 'http://shop.example.com', 'https://WWW.Shop.Example.com//', 'shop.example.com', 'https://shop.example.com:443/', 'http://shop.example.com:80'];
    for (const v of same) expect(normaliseStoreAddress(v)).toBe('shop.example.com');
    expect(normaliseStoreAddress('https://shop.example.com/wp/')).toBe('shop.example.com/wp');
    for (const v of ['https://shop.example.org/', 'https://shop.example.com/wp/', 'https://shop.example.com:8443/', 'https://evil.shop.example.com/']) expect(normaliseStoreAddress(v)).not.toBe('shop.example.com');
    for (const v of ['', 'ftp://shop.example.com', 'https://', null]) expect(normaliseStoreAddress(v)).toBeNull();
  });

  it('a Square merchant id: surrounding spaces and case do not matter', () => {
    expect(normaliseMerchantId(' ml7rstockrelay ')).toBe('ML7RSTOCKRELAY');
    expect(normaliseMerchantId('')).toBeNull();
    expect(normaliseMerchantId(undefined)).toBeNull();
  });

  it('a Square channel without merchantId does not start, and the error says where to find it', () => {
    const square = { id: 'pos', name: 'POS', platform: 'square', locations: { main: 'L1' }, settings: { notificationUrl: 'https://hub.example.com/v1/webhooks/pos' }, credentials: { accessToken: 'SQ_T', webhookSignatureKey: 'SQ_K' } };
    const env = { SQ_T: 'token', SQ_K: 'key' };
    expect(() => testConfig('sqlite', { channels: [square] }, env)).toThrow(/channels\.0 \(square\) needs settings\.merchantId\..*\/v2\/merchants\/me/);
    expect(() => testConfig('sqlite', { channels: [{ ...square, settings: { ...square.settings, merchantId: 'ML7RSTOCKRELAY' } }] }, env)).not.toThrow();
  });

  it('the connectors read their own account from their settings: a configured value in another spelling still matches', () => {
    const secret = 'shpat-secret';
    const shop = createShopifyConnector({ channelId: 'web', baseUrl: 'http://127.0.0.1:9', settings: { shopDomain: 'HTTPS://Gallery-Shop.MyShopify.com/' }, credentials: { accessToken: 't', webhookSecret: secret } });
    const order = '{"id":1,"admin_graphql_api_id":"gid://shopify/Order/1","line_items":[]}';
    const h = (domain: string | null) => ({
      'x-shopify-hmac-sha256': crypto.createHmac('sha256', secret).update(order).digest('base64'),
      'x-shopify-topic': 'orders/updated',
      'x-shopify-event-id': 'e1',
      ...(domain === null ? {} : { 'x-shopify-shop-domain': domain }),
    });
    expect(shop.verify(Buffer.from(order), h('gallery-shop.myshopify.com')).valid).toBe(true);
    expect(shop.verify(Buffer.from(order), h('GALLERY-SHOP.myshopify.com')).valid).toBe(true);
    expect(shop.verify(Buffer.from(order), h('other-shop.myshopify.com'))).toMatchObject({ valid: false, refusal: 'account', reason: expect.stringMatching(/other-shop\.myshopify\.com.*gallery-shop\.myshopify\.com/) });
    expect(shop.verify(Buffer.from(order), h(null))).toMatchObject({ valid: false, refusal: 'account', reason: expect.stringMatching(/names no shop/) });
    // The same header twice with two values names no one shop.
    expect(shop.verify(Buffer.from(order), { ...h(null), 'x-shopify-shop-domain': ['gallery-shop.myshopify.com', 'other-shop.myshopify.com'] })).toMatchObject({ valid: false, refusal: 'account' });
    // A bad signature is a signature refusal whatever the shop.
    expect(shop.verify(Buffer.from(order), { ...h('gallery-shop.myshopify.com'), 'x-shopify-hmac-sha256': 'AAAA' })).toMatchObject({ valid: false, refusal: 'signature' });

    const woo = (settings: Json, baseUrl: string | null) => createWooConnector({ channelId: 'woo', baseUrl, settings, credentials: { consumerKey: 'ck', consumerSecret: 'cs', webhookSecret: 'whsec' } });
    const body = '{"id":7,"status":"processing","line_items":[]}';
    const wh = (source: string | null) => ({
      'x-wc-webhook-signature': crypto.createHmac('sha256', 'whsec').update(body).digest('base64'),
      'x-wc-webhook-topic': 'order.updated',
      'x-wc-webhook-resource': 'order',
      'x-wc-webhook-event': 'updated',
      'x-wc-webhook-delivery-id': 'd1',
      ...(source === null ? {} : { 'x-wc-webhook-source': source }),
    });
    expect(woo({}, 'https://shop.example.com').verify(Buffer.from(body), wh('https://shop.example.com/')).valid).toBe(true);
    expect(woo({}, 'http://SHOP.example.com/').verify(Buffer.from(body), wh('https://www.shop.example.com/')).valid).toBe(true);
    // storeUrl (the store's own address) wins over baseUrl (where the API is reached).
    expect(woo({ storeUrl: 'https://shop.example.com' }, 'http://woo-backend.internal:8080').verify(Buffer.from(body), wh('https://shop.example.com/')).valid).toBe(true);
    expect(woo({}, 'http://woo-backend.internal:8080').verify(Buffer.from(body), wh('https://shop.example.com/'))).toMatchObject({ valid: false, refusal: 'account', reason: expect.stringMatching(/storeUrl/) });
    expect(woo({}, 'https://shop.example.com').verify(Buffer.from(body), wh(null))).toMatchObject({ valid: false, refusal: 'account', reason: expect.stringMatching(/names no store/) });
  });
});

describe('Shopify topics in translate', () => {
  const order = { id: 5, admin_graphql_api_id: 'gid://shopify/Order/5', created_at: '2026-03-01T10:00:00Z', updated_at: '2026-03-01T11:00:00Z', cancelled_at: null, currency: 'AUD', subtotal_price: '10.00', total_price: '10.00', financial_status: 'pending', fulfillment_status: null, line_items: [{ id: 9, admin_graphql_api_id: 'gid://shopify/LineItem/9', variant_id: 3, sku: 'ART-1', quantity: 1, price: '10.00' }] };
  const change = (topic: string, body: Json) => shopifyTranslate(topic, body, {}).map((f) => (f.type === 'order_updated' ? f.change : f.type));

  it('orders/paid and orders/fulfilled are called so only when the body says so; the states always come from the body', () => {
    expect(change('orders/paid', order)).toEqual(['updated']);
    expect(change('orders/paid', { ...order, financial_status: 'paid' })).toEqual(['paid']);
    expect(change('orders/fulfilled', { ...order, financial_status: 'paid' })).toEqual(['updated']);
    expect(change('orders/fulfilled', { ...order, fulfillment_status: 'fulfilled' })).toEqual(['fulfilled']);
    expect(change('orders/paid', { ...order, financial_status: 'refunded', cancelled_at: '2026-03-02T00:00:00Z' })).toEqual(['updated']);
  });

  it('a cancellation needs a cancelled order; a new order must not be cancelled; a refund, a level and a return need their own bodies', () => {
    expect(() => shopifyTranslate('orders/cancelled', order, {})).toThrow(/is an order that is not cancelled/);
    expect(change('orders/cancelled', { ...order, cancelled_at: '2026-03-02T00:00:00Z' })).toEqual(['cancellation']);
    expect(() => shopifyTranslate('orders/create', { ...order, cancelled_at: '2026-03-02T00:00:00Z' }, {})).toThrow(/cancelled at 2026-03-02T00:00:00.000Z, not a new one/);
    expect(() => shopifyTranslate('refunds/create', order, {})).toThrow(/is not a refund: it is an order \(gid:\/\/shopify\/Order\/5\)/);
    expect(() => shopifyTranslate('inventory_levels/update', order, {})).toThrow(/is not an inventory level/);
    expect(() => shopifyTranslate('returns/process', order, {})).toThrow(/is not a return/);
    const refund = { id: 7, admin_graphql_api_id: 'gid://shopify/Refund/7', order_id: 5, created_at: '2026-03-02T00:00:00Z', refund_line_items: [] };
    expect(() => shopifyTranslate('orders/create', refund, {})).toThrow(/is not an order: it is a refund/);
    expect(() => shopifyTranslate('orders/updated', { total_price: '1.00' }, {})).toThrow(/has no order id and has no line_items list/);
    // Topics the hub takes nothing from are not checked: they give nothing whatever the body.
    expect(shopifyTranslate('products/update', order, {})).toEqual([]);
  });
});

// ------------------------------------------------------------------------------------------------
describe('Shopify', () => {
  const SECRET = 'account-topic-shopify-secret';
  const TOKEN = 'shpat_account_topic_token';
  const LOC = 'gid://shopify/Location/1001';
  const OURS = 'gallery-shop.myshopify.com';
  let t: TestHub;
  let shop: ShopifyEmulator;
  let other: ShopifyEmulator;
  let sink: WebhookSink;
  let otherSink: WebhookSink;
  const connector = () => createShopifyConnector({ channelId: 'shop', baseUrl: 'http://127.0.0.1:9', settings: { shopDomain: OURS }, credentials: { accessToken: TOKEN, webhookSecret: SECRET } });

  beforeAll(async () => {
    shop = new ShopifyEmulator({ accessToken: TOKEN, webhookSecret: SECRET, shopDomain: OURS, locations: [LOC] });
    // Another shop with the same app installed: the same client secret signs its webhooks.
    other = new ShopifyEmulator({ accessToken: 'shpat_other', webhookSecret: SECRET, shopDomain: 'other-shop.myshopify.com', locations: [LOC] });
    const [shopUrl] = await Promise.all([shop.start(), other.start()]);
    sink = new WebhookSink('/v1/webhooks/shop', TOPIC_OF.shopify);
    otherSink = new WebhookSink('/v1/webhooks/shop', TOPIC_OF.shopify);
    shop.subscribe(await sink.start());
    other.subscribe(await otherSink.start());
    t = await startHub('sqlite', {
      file: {
        locations: [{ id: 'gallery', name: 'Gallery' }],
        engine: HOLD_LEVELS,
        channels: [{ id: 'shop', name: 'Shopify', platform: 'shopify', baseUrl: shopUrl, locations: { gallery: LOC }, settings: { shopDomain: OURS }, credentials: { accessToken: 'AT_SHOP_TOKEN', webhookSecret: 'AT_SHOP_SECRET' } }],
      },
      env: { AT_SHOP_TOKEN: TOKEN, AT_SHOP_SECRET: SECRET },
    });
    // Both shops list the same things under the same ids (the emulators number alike).
    for (const e of [shop, other]) e.seed(SKUS.map((sku) => ({ sku, title: sku, levels: { [LOC]: 20 } })));
    for (const sku of SKUS) await t.api('PUT', `/v1/items/${sku}`, { title: sku });
    expect((await t.api('POST', '/v1/channels/shop/discover')).status).toBe(200);
    for (const sku of SKUS) await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 20 });
    await drain(shop, sink, t, (r) => expectAccepted(t, 'shop', r));
  });

  afterAll(async () => {
    await t?.close();
    await Promise.all([shop?.stop(), other?.stop(), sink?.stop(), otherSink?.stop()]);
  });

  it('a sale on another shop with the same app, validly signed, is refused with nothing stored; so is one of ours naming another shop or none', async () => {
    await other.sell({ sku: 'ART-1', quantity: 3 });
    await other.flushWebhooks();
    const theirs = otherSink.received.splice(0);
    expect(theirs.map(TOPIC_OF.shopify)).toEqual(['orders/create', 'orders/paid', 'inventory_levels/update']);
    for (const r of theirs) {
      // Genuinely signed by the app, and for another shop.
      expect(verifyShopifyWebhook(r.raw, r.headers as Record<string, string>, SECRET).valid).toBe(true);
      expect(connector().verify(r.raw, r.headers as Record<string, string>)).toMatchObject({ valid: false, refusal: 'account' });
      await expectRefused(t, () => post(t, 'shop', r), /is for the shop other-shop\.myshopify\.com, but this channel is the shop gallery-shop\.myshopify\.com/);
    }

    await shop.sell({ sku: 'ART-1', quantity: 1 });
    await shop.flushWebhooks();
    const ours = sink.received.splice(0);
    const created = ours.find((r) => TOPIC_OF.shopify(r) === 'orders/create')!;
    await expectRefused(t, () => post(t, 'shop', created, { 'x-shopify-shop-domain': 'other-shop.myshopify.com' }), /is for the shop other-shop/);
    await expectRefused(t, () => post(t, 'shop', created, { 'x-shopify-shop-domain': null }), /names no shop/);
    // Refused ones left nothing behind, so the genuine delivery is still booked, once.
    const before = (await t.api('GET', '/v1/items/ART-1')).body.locations[0].onHand as number;
    for (const r of ours) await expectAccepted(t, 'shop', r);
    expect((await t.api('GET', '/v1/items/ART-1')).body.locations[0].onHand).toBe(before - 1);
    await drain(shop, sink, t, (r) => expectAccepted(t, 'shop', r));
  });

  it('headers of our own (x-stockrelay-*) sent with a delivery are not taken: it is booked on the channel whose address it came to', async () => {
    await shop.sell({ sku: 'ART-2', quantity: 1 });
    await shop.flushWebhooks();
    const delivered = sink.received.splice(0);
    const created = delivered.find((r) => TOPIC_OF.shopify(r) === 'orders/create')!;
    const before = (await t.api('GET', '/v1/items/ART-2')).body.locations[0].onHand as number;
    // Sent: the genuine delivery, plus headers naming another channel and a time of the sender's choosing.
    const answer = await post(t, 'shop', created, { 'x-stockrelay-channel': 'ghost', 'x-stockrelay-occurred-at': '1999-01-01T00:00:00.000Z' });
    expect([answer.status, answer.body.status]).toEqual([200, 'received']);
    await t.settle();
    // Kept: the event as this channel's, booked once on it.
    const ev = (await t.api('GET', `/v1/events/${answer.body.eventId}`)).body;
    expect(ev.status).toBe('processed');
    expect((await t.api('GET', '/v1/items/ART-2')).body.locations[0].onHand).toBe(before - 1);
    const sale = ((await t.api('GET', '/v1/items/ART-2/movements')).body.movements as Json[]).find((m) => m.reason === 'sale' && m.eventId === answer.body.eventId)!;
    expect(sale).toMatchObject({ channelId: 'shop' });
    expect(String(sale.occurredAt)).not.toMatch(/^1999/);
    for (const r of delivered) if (r !== created) await expectAccepted(t, 'shop', r);
    await drain(shop, sink, t, (r) => expectAccepted(t, 'shop', r));
  });

  it('the issue’s replay: a paid order’s genuine orders/create resent as orders/cancelled is refused; the order stays paid and open', async () => {
    const { orderId } = await shop.sell({ sku: 'ART-2', quantity: 1 });
    await shop.flushWebhooks();
    const created = sink.received.find((r) => TOPIC_OF.shopify(r) === 'orders/create')!;
    await drain(shop, sink, t, (r) => expectAccepted(t, 'shop', r));
    const logged = async () => (await orderStates(t)).find((o) => o.ref === orderId);
    expect(await logged()).toMatchObject({ status: 'open', payment: 'paid', steps: ['placed'] });
    await expectRefused(t, () => post(t, 'shop', created, { 'x-shopify-topic': 'orders/cancelled', 'x-shopify-event-id': crypto.randomUUID(), 'x-shopify-webhook-id': crypto.randomUUID() }), /says "orders\/cancelled", but the signed body is an order that is not cancelled/);
    expect(await logged()).toMatchObject({ status: 'open', payment: 'paid', steps: ['placed'] });
    expect(() => shopifyTranslate('orders/cancelled', JSON.parse(created.raw.toString('utf8')), {})).toThrow(/not cancelled/);
  });

  it('every genuine delivery resent under every other topic books nothing the body does not say and leaves the transaction log as it was', async () => {
    const kindOf = (topic: string) => (topic.startsWith('orders/') ? 'order' : topic);
    const seen = new Set<string>();
    let refused = 0;
    let stored = 0;
    let levels = 0;
    const each = async (r: Received) => {
      const genuine = TOPIC_OF.shopify(r);
      seen.add(genuine);
      await expectAccepted(t, 'shop', r);
      if (genuine === 'inventory_levels/update' && ++levels > SWAPPED_LEVEL_REPORTS) return;
      const body = JSON.parse(r.raw.toString('utf8')) as Json;
      for (const topic of SHOPIFY_TOPICS) {
        if (topic === genuine) continue;
        const wasRefused = await expectSwapHarmless(t, 'shop', r, { 'x-shopify-topic': topic, 'x-shopify-event-id': crypto.randomUUID(), 'x-shopify-webhook-id': crypto.randomUUID() }, () => shopifyTranslate(topic, body, {}));
        // A body of one resource under another resource's topic never gets past the door.
        if (kindOf(topic) !== kindOf(genuine)) expect(wasRefused).toBe(true);
        // Nothing becomes a cancellation but a cancelled order, nor a new order once cancelled.
        if (topic === 'orders/cancelled' && !body.cancelled_at) expect(wasRefused).toBe(true);
        if (topic === 'orders/create' && body.cancelled_at) expect(wasRefused).toBe(true);
        if (wasRefused) refused++;
        else stored++;
      }
    };
    const { orderId: a } = await shop.sell({ sku: 'ART-1', quantity: 2 });
    await drain(shop, sink, t, each);
    await shop.fulfil({ orderId: a });
    await drain(shop, sink, t, each);
    const { orderId: b } = await shop.sell({ sku: 'ART-1', quantity: 1 });
    await drain(shop, sink, t, each);
    await shop.refund({ orderId: b, restock: true });
    await drain(shop, sink, t, each);
    const { orderId: c } = await shop.sell({ sku: 'ART-2', quantity: 1 });
    await drain(shop, sink, t, each);
    await shop.cancel({ orderId: c, restock: true });
    await drain(shop, sink, t, each);
    const { orderId: d } = await shop.sell({ sku: 'ART-1', quantity: 1 });
    await drain(shop, sink, t, each);
    await shop.exchange({ orderId: d, sku: 'ART-2', quantity: 1 });
    await drain(shop, sink, t, each);
    // Every topic the connector takes a fact from was sent genuinely and swapped.
    expect([...seen].sort()).toEqual([...SHOPIFY_TOPICS].sort());
    expect(refused).toBeGreaterThan(stored);
    // What the log holds is what the genuine deliveries said.
    const states = await orderStates(t);
    expect(states.find((o) => o.ref === a)).toMatchObject({ status: 'open', payment: 'paid', fulfilment: 'fulfilled' });
    expect(states.find((o) => o.ref === c)).toMatchObject({ status: 'cancelled' });
    for (const o of states.filter((x) => x.ref !== c)) expect(o.steps).not.toContain('cancellation');
  }, 180_000);
});

// ------------------------------------------------------------------------------------------------
describe('Square', () => {
  const KEY = 'account-topic-square-key';
  const TOKEN = 'EAAA_account_topic_token';
  const LOC = 'LGALLERY0000';
  let t: TestHub;
  let square: SquareEmulator;
  let other: SquareEmulator;
  let sink: WebhookSink;
  let hookUrl: string;

  beforeAll(async () => {
    square = new SquareEmulator({ accessToken: TOKEN, webhookSignatureKey: KEY, locations: [LOC] });
    // Another seller who authorised the same application: its events are signed with the same key.
    other = new SquareEmulator({ accessToken: 'EAAA_other', webhookSignatureKey: KEY, locations: [LOC], merchantId: 'MOTHERSELLER01' });
    const [squareUrl] = await Promise.all([square.start(), other.start()]);
    sink = new WebhookSink('/v1/webhooks/pos', TOPIC_OF.square);
    hookUrl = await sink.start();
    square.subscribe(hookUrl);
    other.subscribe(hookUrl);
    t = await startHub('sqlite', {
      file: {
        locations: [{ id: 'gallery', name: 'Gallery' }],
        engine: HOLD_LEVELS,
        channels: [{ id: 'pos', name: 'Square', platform: 'square', baseUrl: squareUrl, locations: { gallery: LOC }, settings: { notificationUrl: hookUrl, merchantId: square.merchantId }, credentials: { accessToken: 'AT_SQ_TOKEN', webhookSignatureKey: 'AT_SQ_KEY' } }],
      },
      env: { AT_SQ_TOKEN: TOKEN, AT_SQ_KEY: KEY },
    });
    for (const e of [square, other]) e.seed(SKUS.map((sku) => ({ sku, title: sku, levels: { [LOC]: 20 } })));
    for (const sku of SKUS) await t.api('PUT', `/v1/items/${sku}`, { title: sku });
    expect((await t.api('POST', '/v1/channels/pos/discover')).status).toBe(200);
    for (const sku of SKUS) await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 20 });
    await drain(square, sink, t, (r) => expectAccepted(t, 'pos', r));
  });

  afterAll(async () => {
    await t?.close();
    await Promise.all([square?.stop(), other?.stop(), sink?.stop()]);
  });

  it('an event of another seller of the same application, validly signed, is refused with nothing stored', async () => {
    await other.sell({ sku: 'ART-1', quantity: 3 });
    await other.flushWebhooks();
    const theirs = sink.received.splice(0);
    expect(theirs.length).toBeGreaterThan(0);
    for (const r of theirs) {
      expect(JSON.parse(r.raw.toString('utf8')).merchant_id).toBe('MOTHERSELLER01');
      await expectRefused(t, () => post(t, 'pos', r), /is for merchant MOTHERSELLER01, but this channel is merchant ML7RSTOCKRELAY/);
    }
  });

  it('an event type longer than any Square sends is refused 400 with nothing stored, even when signed', async () => {
    await square.setLevel({ sku: 'ART-2', available: 18 });
    await square.flushWebhooks();
    const [r] = sink.received.splice(0);
    const body = JSON.parse(r!.raw.toString('utf8')) as Json;
    // Sent: a genuine event, its type made 300 characters long, signed with the channel's key.
    const raw = Buffer.from(JSON.stringify({ ...body, type: 'inventory.count.updated'.padEnd(300, 'x') }));
    const before = await kept(t);
    const answer = await post(t, 'pos', r!, { 'x-square-hmacsha256-signature': signSquareWebhook(raw, KEY, hookUrl) }, raw);
    await t.settle();
    // Kept: nothing (no inbox row of up to a megabyte of event type), and the reason.
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/event type is 300 characters long.*Nothing was stored/);
    expect(await kept(t)).toEqual(before);
    await expectAccepted(t, 'pos', r!);
  });

  it('an event that names no merchant is refused even when signed', async () => {
    await square.setLevel({ sku: 'ART-2', available: 19 });
    await square.flushWebhooks();
    const [r] = sink.received.splice(0);
    const body = JSON.parse(r!.raw.toString('utf8')) as Json;
    delete body.merchant_id;
    const raw = Buffer.from(JSON.stringify(body));
    const sig = signSquareWebhook(raw, KEY, hookUrl);
    await expectRefused(t, () => post(t, 'pos', r!, { 'x-square-hmacsha256-signature': sig }, raw), /names no merchant/);
    await expectAccepted(t, 'pos', r!);
  });

  it('the event type is in the signed body: changed, the signature fails; no header renames it; translate reads only the type the body names', async () => {
    const seen = new Set<string>();
    const each = async (r: Received) => {
      const body = JSON.parse(r.raw.toString('utf8')) as Json;
      const genuine = body.type as string;
      seen.add(genuine);
      for (const type of ['inventory.count.updated', 'order.created', 'order.updated', 'payment.updated', 'refund.created', 'refund.updated']) {
        if (type === genuine) continue;
        const renamed = Buffer.from(r.raw.toString('utf8').replace(`"type":"${genuine}"`, `"type":"${type}"`));
        expect(renamed.equals(r.raw)).toBe(false);
        await expectRefused(t, () => post(t, 'pos', r, {}, renamed), /does not match the notification URL and body/);
        // The genuine body handed to translate under another type is refused.
        expect(() => squareTranslate(type, body, {})).toThrow(TranslateError);
      }
      // Headers other platforms use for a topic change nothing: the first delivery is stored under
      // the body's type, the genuine one after it is the same event (a duplicate).
      const first = await post(t, 'pos', r, { 'x-shopify-topic': 'refund.updated', 'x-wc-webhook-topic': 'refund.updated', 'x-square-event-type': 'refund.updated' });
      expect([first.status, first.body.status]).toEqual([200, 'received']);
      await t.settle();
      expect((await t.api('GET', `/v1/events/${first.body.eventId}`)).body).toMatchObject({ kind: genuine, status: 'processed' });
      const again = await post(t, 'pos', r);
      expect([again.status, again.body.status]).toEqual([200, 'duplicate']);
    };
    const { orderId } = await square.sell({ sku: 'ART-1', quantity: 2 });
    await drain(square, sink, t, each);
    await square.refund({ orderId, restock: true, quantity: 1 });
    await drain(square, sink, t, each);
    expect([...seen]).toEqual(expect.arrayContaining(['order.created', 'order.updated', 'payment.updated', 'inventory.count.updated', 'refund.created', 'refund.updated']));
  });
});

// ------------------------------------------------------------------------------------------------
describe('WooCommerce', () => {
  const SECRET = 'account-topic-woo-secret';
  let t: TestHub;
  let woo: WooEmulator;
  let other: WooEmulator;
  let sink: WebhookSink;
  let otherSink: WebhookSink;

  beforeAll(async () => {
    woo = new WooEmulator({ consumerKey: 'ck_at', consumerSecret: 'cs_at', webhookSecret: SECRET });
    // Another store whose webhook was given the same secret.
    other = new WooEmulator({ consumerKey: 'ck_other', consumerSecret: 'cs_other', webhookSecret: SECRET });
    const [wooUrl] = await Promise.all([woo.start(), other.start()]);
    sink = new WebhookSink('/v1/webhooks/woo', TOPIC_OF.woocommerce);
    otherSink = new WebhookSink('/v1/webhooks/woo', TOPIC_OF.woocommerce);
    woo.subscribe(await sink.start());
    other.subscribe(await otherSink.start());
    t = await startHub('sqlite', {
      file: {
        locations: [{ id: 'gallery', name: 'Gallery' }],
        engine: HOLD_LEVELS,
        channels: [{ id: 'woo', name: 'WooCommerce', platform: 'woocommerce', baseUrl: wooUrl, locations: { gallery: WOO_LOCATION }, credentials: { consumerKey: 'AT_WOO_KEY', consumerSecret: 'AT_WOO_SECRET', webhookSecret: 'AT_WOO_HOOK' }, polling: { enabled: false } }],
      },
      env: { AT_WOO_KEY: 'ck_at', AT_WOO_SECRET: 'cs_at', AT_WOO_HOOK: SECRET },
    });
    for (const e of [woo, other]) e.seed(SKUS.map((sku) => ({ sku, title: sku, levels: { [WOO_LOCATION]: 20 } })));
    for (const sku of SKUS) await t.api('PUT', `/v1/items/${sku}`, { title: sku });
    expect((await t.api('POST', '/v1/channels/woo/discover')).status).toBe(200);
    for (const sku of SKUS) await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 20 });
    await drain(woo, sink, t, (r) => expectAccepted(t, 'woo', r));
  });

  afterAll(async () => {
    await t?.close();
    await Promise.all([woo?.stop(), other?.stop(), sink?.stop(), otherSink?.stop()]);
  });

  it('a sale on another store whose webhook has the same secret is refused with nothing stored; so is one of ours naming no store', async () => {
    await other.sell({ sku: 'ART-1', quantity: 3 });
    await other.flushWebhooks();
    const theirs = otherSink.received.splice(0);
    expect(theirs.map(TOPIC_OF.woocommerce)).toContain('order.created');
    for (const r of theirs) await expectRefused(t, () => post(t, 'woo', r), /comes from the store http:\/\/127\.0\.0\.1:\d+\/, but this channel is the store 127\.0\.0\.1:\d+/);

    await woo.sell({ sku: 'ART-1', quantity: 1 });
    await woo.flushWebhooks();
    const created = sink.received.find((r) => TOPIC_OF.woocommerce(r) === 'order.created')!;
    await expectRefused(t, () => post(t, 'woo', created, { 'x-wc-webhook-source': null }), /names no store/);
    await expectRefused(t, () => post(t, 'woo', created, { 'x-wc-webhook-source': 'https://shop.example.com/' }), /comes from the store https:\/\/shop\.example\.com\//);
    await drain(woo, sink, t, (r) => expectAccepted(t, 'woo', r));
  });

  it('the resource and event headers must be the topic’s own', async () => {
    await woo.setLevel({ sku: 'ART-2', available: 19 });
    await woo.flushWebhooks();
    const [r] = sink.received.splice(0);
    expect(TOPIC_OF.woocommerce(r!)).toBe('product.updated');
    await expectRefused(t, () => post(t, 'woo', r!, { 'x-wc-webhook-topic': 'order.updated', 'x-wc-webhook-delivery-id': crypto.randomUUID() }), /X-WC-Webhook-Resource says "product"/);
    await expectRefused(t, () => post(t, 'woo', r!, { 'x-wc-webhook-event': 'created', 'x-wc-webhook-delivery-id': crypto.randomUUID() }), /X-WC-Webhook-Event says "created"/);
    await expectAccepted(t, 'woo', r!);
  });

  it('every genuine delivery resent under every other topic books nothing the body does not say and leaves the transaction log as it was', async () => {
    const seen = new Set<string>();
    let refused = 0;
    let levels = 0;
    const each = async (r: Received) => {
      const genuine = TOPIC_OF.woocommerce(r);
      seen.add(genuine);
      await expectAccepted(t, 'woo', r);
      if (genuine === 'product.updated' && ++levels > SWAPPED_LEVEL_REPORTS) return;
      const body = JSON.parse(r.raw.toString('utf8')) as Json;
      for (const topic of WOO_TOPICS) {
        if (topic === genuine) continue;
        const [resource, event] = topic.split('.') as [string, string];
        const headers = { 'x-wc-webhook-topic': topic, 'x-wc-webhook-resource': resource, 'x-wc-webhook-event': event, 'x-wc-webhook-delivery-id': crypto.randomBytes(16).toString('hex') };
        // translate takes an order under action.woocommerce_order_refunded: it is what `expand` makes
        // of that action's payload. At the door, where the body is as sent, it is refused.
        const expanded = topic === 'action.woocommerce_order_refunded' && Array.isArray(body.line_items);
        const wasRefused = await expectSwapHarmless(t, 'woo', r, headers, expanded ? null : () => wooTranslate(topic, body, headers));
        // Only order.created ↔ order.updated carry the same body; every other swap stops at the door.
        const sameBody = genuine.startsWith('order.') && topic.startsWith('order.');
        if (!sameBody) expect(wasRefused).toBe(true);
        if (wasRefused) refused++;
      }
    };
    const { orderId: a } = await woo.sell({ sku: 'ART-1', quantity: 2 });
    await drain(woo, sink, t, each);
    await woo.setOrderStatus(a, 'completed');
    await drain(woo, sink, t, each);
    const { orderId: b } = await woo.sell({ sku: 'ART-2', quantity: 2 });
    await drain(woo, sink, t, each);
    await woo.refund({ orderId: b, restock: true, quantity: 1 });
    await drain(woo, sink, t, each);
    const { orderId: c } = await woo.sell({ sku: 'ART-1', quantity: 1 });
    await drain(woo, sink, t, each);
    await woo.setOrderStatus(c, 'cancelled');
    await drain(woo, sink, t, each);
    expect([...seen].sort()).toEqual([...WOO_TOPICS].sort());
    expect(refused).toBeGreaterThan(0);
    const states = await orderStates(t);
    expect(states.find((o) => o.ref === a)).toMatchObject({ fulfilment: 'fulfilled' });
    expect(states.find((o) => o.ref === c)).toMatchObject({ status: 'cancelled' });
    for (const o of states.filter((x) => x.ref !== c)) expect(o.steps).not.toContain('cancellation');
  }, 180_000);
});
