/**
 * What is Revel's own (the conformance suite runs the rest, revel.conformance.test.ts):
 * - the definition and its settings: a channel without what it needs does not start, and says why;
 * - the webhook door: X-Revel-Signature (hex HMAC-SHA1 of the body) good, tampered, wrong key,
 *   missing; the instance named in X-Revel-Instance (wrong, missing); the unsigned event type
 *   against the signed body; malformed bodies; the readiness ping; the same delivery twice;
 * - translation of the documented payloads and of what the counter does: sales, returns with and
 *   without restock, exchanges, voided items;
 * - the polled feeds: a count typed at the counter reported as a level, a lost order found;
 * - through the hub: a sale delivered twice, and found again by the orders feed, booked once;
 *   returns with and without restock; an exchange; a void; forged, other-instance and malformed
 *   deliveries refused with nothing stored; the ping answered and nothing stored.
 */
import { ConnectorError, TranslateError, type ChannelFact, type Connector } from '../../server/connectors/types';
import { createRevelConnector, definition } from '../../server/connectors/revel';
import { RevelEmulator } from '../../server/connectors/revel/emulator';
import { EXPANDED_STOCK_KEY, translateRevel } from '../../server/connectors/revel/translate';
import { revelSignature } from '../../server/connectors/revel/verify';
import { startHub, type TestHub } from '../helpers/hub';
import { deliveryHeaders, webhookDoor } from './helpers/door';
import { WebhookSink, type Received } from './helpers/webhook-sink';
import { DOCUMENTED_INOUT_STOCK, DOCUMENTED_ORDER } from './revel/documented';

const KEY = 'revel-test-api-key-0123';
const API_SECRET = 'revel-test-api-secret-0123';
const HOOK = 'revel test webhook secret 0123456789';
const INSTANCE = 'test-gallery';
type Json = Record<string, any>;

const creds = { apiKey: KEY, apiSecret: API_SECRET, webhookSecret: HOOK };
function connectorAt(url: string | null, settings: Json = {}): Connector {
  return createRevelConnector({ channelId: 'rv', baseUrl: url, settings: { subdomain: INSTANCE, pageSize: 2, ...settings }, credentials: creds });
}
const headersOf = deliveryHeaders;
const topicOf = (r: Received) => String(r.headers['x-revel-event-type']);
const signedHeaders = (raw: string, over: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  'x-revel-signature': revelSignature(HOOK, raw),
  'x-revel-instance': INSTANCE,
  'x-revel-event-type': 'order.finalized',
  ...over,
});

describe('definition and settings', () => {
  it('is registered as a point of sale, with its signature and API headers hidden from logs', () => {
    expect(definition.platform).toBe('revel');
    expect(definition.displayName).toBe('Revel Systems');
    expect(definition.kind).toBe('point_of_sale');
    expect(definition.secretHeaders).toEqual(expect.arrayContaining(['x-revel-signature', 'api-authentication']));
    expect(definition.capabilities.webhooks).toEqual(['order.finalized', 'inout.stock']);
    expect(definition.capabilities.polled).toEqual(['orders', 'inventory']);
    expect(definition.sandbox?.byDefault).toBe(false);
  });

  it('a channel without a subdomain, with a malformed one, without its credentials, or with a page size out of range does not start, and says what to give', () => {
    const make = (settings: Json, credentials: Json = creds) => () => createRevelConnector({ channelId: 'rv', baseUrl: null, settings, credentials });
    // Sent: no subdomain. Kept: nothing, a clear error.
    expect(make({})).toThrow(/setting subdomain: the name before \.revelup\.com/);
    expect(make({ subdomain: 'https://x.revelup.com' })).toThrow(/setting subdomain/);
    expect(make({ subdomain: INSTANCE }, { apiKey: KEY, webhookSecret: HOOK })).toThrow(/apiKey and apiSecret/);
    expect(make({ subdomain: INSTANCE }, { apiKey: KEY, apiSecret: API_SECRET })).toThrow(/webhookSecret/);
    expect(make({ subdomain: INSTANCE, pageSize: 0 })).toThrow(/pageSize must be a whole number from 1 to 1000/);
    expect(make({ subdomain: INSTANCE, pageSize: 'ten' })).toThrow(/pageSize/);
    for (const f of [make({}), make({ subdomain: INSTANCE }, {})]) {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ConnectorError);
        expect((e as ConnectorError).retryable).toBe(false);
      }
    }
  });
});

describe('the webhook door (verify)', () => {
  const c = connectorAt('http://127.0.0.1:1');
  const raw = JSON.stringify(DOCUMENTED_ORDER);

  it('a delivery signed with the shared secret and naming this instance is taken, under the same id every time it is sent', () => {
    const v = c.verify(Buffer.from(raw), signedHeaders(raw));
    expect(v).toMatchObject({ valid: true, topic: 'order.finalized', occurredAt: '2024-06-15T14:45:00.000Z' });
    expect(c.verify(Buffer.from(raw), signedHeaders(raw))).toEqual(v);
    // The signature is not case-sensitive hex.
    expect(c.verify(Buffer.from(raw), signedHeaders(raw, { 'x-revel-signature': revelSignature(HOOK, raw).toUpperCase() }))).toEqual(v);
  });

  it('tampered, wrongly keyed and unsigned deliveries are refused as signature failures', () => {
    const tampered = raw.replace('"quantity":2', '"quantity":1');
    expect(c.verify(Buffer.from(tampered), signedHeaders(raw))).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/does not match/) });
    expect(c.verify(Buffer.from(raw), signedHeaders(raw, { 'x-revel-signature': revelSignature('another secret', raw) }))).toMatchObject({ valid: false, refusal: 'signature' });
    const { 'x-revel-signature': _gone, ...unsigned } = signedHeaders(raw);
    expect(c.verify(Buffer.from(raw), unsigned)).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/no X-Revel-Signature/) });
    expect(c.verify(Buffer.from(raw), signedHeaders(raw, { 'x-revel-signature': 'not-hex' }))).toMatchObject({ valid: false, refusal: 'signature' });
  });

  it('a genuine delivery for another Revel instance, or naming none, is refused as another account’s', () => {
    expect(c.verify(Buffer.from(raw), signedHeaders(raw, { 'x-revel-instance': 'another-restaurant' }))).toMatchObject({ valid: false, refusal: 'account', reason: expect.stringMatching(/"another-restaurant", not this channel's \("test-gallery"\)/) });
    const { 'x-revel-instance': _gone, ...none } = signedHeaders(raw);
    expect(c.verify(Buffer.from(raw), none)).toMatchObject({ valid: false, refusal: 'account' });
    // The instance name is compared without regard to case.
    expect(c.verify(Buffer.from(raw), signedHeaders(raw, { 'x-revel-instance': 'Test-Gallery' })).valid).toBe(true);
  });

  it('an event type the signed body does not bear out is refused; malformed signed bodies are refused', () => {
    expect(c.verify(Buffer.from(raw), signedHeaders(raw, { 'x-revel-event-type': 'inout.stock' }))).toMatchObject({ valid: false, refusal: 'topic' });
    const stock = JSON.stringify(DOCUMENTED_INOUT_STOCK);
    expect(c.verify(Buffer.from(stock), signedHeaders(stock, { 'x-revel-event-type': 'order.finalized' }))).toMatchObject({ valid: false, refusal: 'topic' });
    expect(c.verify(Buffer.from(stock), signedHeaders(stock, { 'x-revel-event-type': 'inout.stock' })).valid).toBe(true);
    // No event type: the body says which.
    const { 'x-revel-event-type': _t, ...untyped } = signedHeaders(stock);
    expect(c.verify(Buffer.from(stock), untyped)).toMatchObject({ valid: true, topic: 'inout.stock' });
    for (const bad of ['not json', '[1,2]', '"order"']) expect(c.verify(Buffer.from(bad), signedHeaders(bad))).toMatchObject({ valid: false });
  });

  it('the readiness test is a ping, never an event; anything else is not a ping', () => {
    const ping = '{"ping": "pong"}';
    const h = { 'x-revel-event-type': 'ping', 'x-revel-signature': revelSignature(HOOK, ping) };
    expect(c.verify(Buffer.from(ping), { ...h, 'x-revel-instance': INSTANCE }).valid).toBe(false);
    expect(c.isPing!(Buffer.from(ping), h)).toBe(true);
    expect(c.isPing!(Buffer.from('{"ping":"pong","orderInfo":{}}'), h)).toBe(false);
    expect(c.isPing!(Buffer.from(raw), signedHeaders(raw))).toBe(false);
  });
});

describe('translation', () => {
  const lines = (facts: ChannelFact[], type: ChannelFact['type']) => facts.filter((f) => f.type === type).flatMap((f) => ('lines' in f ? f.lines : []));

  it('the documented order: a sale of 2 of product 12 at establishment 1; an item that is no product moves nothing', () => {
    const facts = translateRevel('order.finalized', DOCUMENTED_ORDER);
    expect(facts).toEqual([
      { type: 'sale', orderId: '10542', occurredAt: '2024-06-15T14:45:00.000Z', lines: [{ lineId: '45321', sku: null, ref: { productId: '12', variantId: '12' }, quantity: 2, locationId: '1' }] },
    ]);
  });

  it('a return names the order it returns; restocked unless the item says it did not go back; an exchange is a return and a sale', () => {
    const ret = { ...DOCUMENTED_ORDER, orderInfo: { ...DOCUMENTED_ORDER.orderInfo, id: 10600, original_order: '/resources/Order/10542/' }, items: [{ id: 46000, product: '/resources/Product/12/', quantity: -1, voided_date: null, returned_to_inventory: true }] };
    expect(translateRevel('order.finalized', ret)).toEqual([
      { type: 'refund', refundId: '10600', orderId: '10542', occurredAt: '2024-06-15T14:45:00.000Z', lines: [{ lineId: '46000', sku: null, ref: { productId: '12', variantId: '12' }, quantity: 1, locationId: '1', restock: true }] },
    ]);
    const wasted = { ...ret, items: [{ ...ret.items[0]!, returned_to_inventory: false }] };
    expect(lines(translateRevel('order.finalized', wasted), 'refund')).toEqual([expect.objectContaining({ quantity: 1, restock: false })]);
    const exchange = { ...ret, items: [...ret.items, { id: 46001, product: 13, quantity: 1, voided_date: null }] };
    const facts = translateRevel('order.finalized', exchange);
    expect(facts.map((f) => f.type)).toEqual(['sale', 'refund']);
    expect(lines(facts, 'sale')).toEqual([expect.objectContaining({ lineId: '46001', ref: { productId: '13', variantId: '13' }, quantity: 1 })]);
  });

  it('a voided item is its sale and its cancellation with restock (the two keys net to nothing, whichever comes first)', () => {
    const voided = { ...DOCUMENTED_ORDER, items: [{ ...DOCUMENTED_ORDER.items[0]!, voided_date: '2024-06-15T14:50:00' }] };
    const facts = translateRevel('order.finalized', voided);
    expect(facts.map((f) => f.type)).toEqual(['sale', 'cancellation']);
    expect(lines(facts, 'cancellation')).toEqual([expect.objectContaining({ lineId: '45321', quantity: 2, restock: true })]);
  });

  it('inout.stock carries no count: unexpanded it is unreadable; expanded, each stock record is a level; modifiers give nothing', () => {
    expect(() => translateRevel('inout.stock', DOCUMENTED_INOUT_STOCK)).toThrow(TranslateError);
    const rows = [
      { id: 5, product: '/resources/Product/1/', establishment: '/enterprise/Establishment/1/', quantity_in_hand: 0, updated_date: '2024-06-15T14:45:00.123456' },
      { id: 6, product: '/resources/Product/1/', establishment: '/enterprise/Establishment/2/', quantity_in_hand: 4, updated_date: '2024-06-15T14:40:00' },
    ];
    expect(translateRevel('inout.stock', { ...DOCUMENTED_INOUT_STOCK, [EXPANDED_STOCK_KEY]: rows })).toEqual([
      { type: 'level_observed', sku: null, ref: { productId: '1', variantId: '1' }, locationId: '1', available: 0, occurredAt: '2024-06-15T14:45:00.123Z' },
      { type: 'level_observed', sku: null, ref: { productId: '1', variantId: '1' }, locationId: '2', available: 4, occurredAt: '2024-06-15T14:40:00.000Z' },
    ]);
    expect(translateRevel('inout.stock', { ...DOCUMENTED_INOUT_STOCK, type: 'modifier' })).toEqual([]);
  });

  it('bodies without what their topic needs are refused, never read as nothing happened', () => {
    expect(() => translateRevel('order.finalized', { items: [] })).toThrow(TranslateError);
    expect(() => translateRevel('order.finalized', { ...DOCUMENTED_ORDER, items: [{ id: 1, product: 12, quantity: 'two' }] })).toThrow(/no whole quantity/);
    expect(() => translateRevel('order.finalized', { ...DOCUMENTED_ORDER, orderInfo: { id: 1 } })).toThrow(/updated_date/);
    expect(() => translateRevel('inventory.level', { id: 5, product: null, quantity_in_hand: 2 })).toThrow(TranslateError);
    expect(translateRevel('customer.updated', { id: 1 })).toEqual([]);
  });
});

describe('the polled feeds', () => {
  let emu: RevelEmulator;
  let url: string;
  beforeAll(async () => {
    emu = new RevelEmulator({ apiKey: KEY, apiSecret: API_SECRET, webhookSecret: HOOK, instance: INSTANCE });
    url = await emu.start();
    emu.seed(['FEED-1', 'FEED-2', 'FEED-3'].map((sku) => ({ sku, title: sku, levels: { '1': 10, '2': 5 } })));
  });
  afterAll(() => emu.stop());

  it('a count typed at the counter is reported by the inventory feed as a level, once, at its establishment; unmapped establishments are left out', async () => {
    const c = createRevelConnector({ channelId: 'rv', baseUrl: url, settings: { subdomain: INSTANCE, pageSize: 2 }, credentials: creds, locations: ['1'] });
    const start = await c.poll!('inventory', null);
    expect(start.events).toEqual([]);
    await emu.setLevel({ sku: 'FEED-2', locationId: '1', available: 7 });
    await emu.setLevel({ sku: 'FEED-2', locationId: '2', available: 1 });
    const got = await c.poll!('inventory', start.cursor);
    const facts = got.events.flatMap((e) => c.translate(e.topic, e.body, {}));
    expect(facts).toEqual([expect.objectContaining({ type: 'level_observed', ref: emu.listing('FEED-2'), locationId: '1', available: 7 })]);
    const again = await c.poll!('inventory', got.cursor);
    expect(again.events).toEqual([]);
  });

  it('an order whose webhook was lost is found by the orders feed, with the same booking keys; a void later is found too', async () => {
    emu.faults.webhooks.drop = 1;
    const c = connectorAt(url);
    const start = await c.poll!('orders', null);
    const { orderId } = await emu.sell({ sku: 'FEED-3', quantity: 2, locationId: '1' });
    emu.faults.webhooks = {};
    const found = await c.poll!('orders', start.cursor);
    const facts = found.events.flatMap((e) => c.translate(e.topic, e.body, {}));
    expect(facts).toEqual([expect.objectContaining({ type: 'sale', orderId, lines: [expect.objectContaining({ quantity: 2, locationId: '1' })] })]);
    emu.voidOrder(orderId);
    const voided = await c.poll!('orders', found.cursor);
    expect(voided.events.flatMap((e) => c.translate(e.topic, e.body, {})).map((f) => f.type)).toEqual(['sale', 'cancellation']);
    expect(emu.level('FEED-3', '1')).toBe(10);
  });

  it('a cursor it did not write is refused with a clear error, and nothing is read', async () => {
    const before = emu.requests.length;
    await expect(connectorAt(url).poll!('orders', '{"since":5}')).rejects.toThrow(/not one this connector wrote/);
    await expect(connectorAt(url).poll!('stock', null)).rejects.toThrow(/no polled feed "stock"/);
    expect(emu.requests.length).toBe(before);
  });
});

describe('through the hub’s webhook door', () => {
  const SKUS = ['ART-1', 'ART-2', 'ART-3', 'ART-4'];
  let t: TestHub;
  let emu: RevelEmulator;
  let other: RevelEmulator;
  let sink: WebhookSink;
  let ahead = 0;

  const { post, kept, refused } = webhookDoor(() => t, 'rv', SKUS);
  const onHand = async (sku: string) => (await t.api('GET', `/v1/items/${sku}`)).body.locations.find((l: Json) => l.locationId === 'gallery').onHand as number;
  const moves = async (sku: string) => ((await t.api('GET', `/v1/items/${sku}/movements?limit=50`)).body.movements as Json[]).map((m) => `${m.reason} ${m.quantity}`);
  const caught = async (e: RevelEmulator, topic = 'order.finalized') => {
    await e.flushWebhooks();
    return sink.received.splice(0).filter((r) => topicOf(r) === topic);
  };
  const deliverAll = async (e: RevelEmulator) => {
    for (const r of await caught(e)) expect((await post(r.raw, headersOf(r))).status).toBe(200);
    await t.settle();
  };

  beforeAll(async () => {
    emu = new RevelEmulator({ apiKey: KEY, apiSecret: API_SECRET, webhookSecret: HOOK, instance: INSTANCE });
    other = new RevelEmulator({ apiKey: KEY, apiSecret: API_SECRET, webhookSecret: HOOK, instance: 'another-restaurant' });
    const [rvUrl] = await Promise.all([emu.start(), other.start()]);
    sink = new WebhookSink('/v1/webhooks/rv', topicOf);
    const sinkUrl = await sink.start();
    emu.subscribe(sinkUrl);
    other.subscribe(sinkUrl);
    t = await startHub('sqlite', {
      file: {
        locations: [{ id: 'gallery', name: 'Gallery' }],
        engine: { attributionWindowMs: 3_600_000, reconcileEveryMs: 0, pollEveryMs: 3_600_000 },
        channels: [{ id: 'rv', name: 'Revel', platform: 'revel', baseUrl: rvUrl, locations: { gallery: '1' }, settings: { subdomain: INSTANCE }, credentials: { apiKey: 'RV_KEY', apiSecret: 'RV_SECRET', webhookSecret: 'RV_HOOK' } }],
      },
      env: { RV_KEY: KEY, RV_SECRET: API_SECRET, RV_HOOK: HOOK },
      hub: { clock: () => new Date(Date.now() + ahead) },
    });
    for (const e of [emu, other]) e.seed(SKUS.map((sku) => ({ sku, title: sku, levels: { '1': 20 } })));
    for (const sku of SKUS) await t.api('PUT', `/v1/items/${sku}`, { title: sku });
    expect((await t.api('POST', '/v1/channels/rv/discover')).status).toBe(200);
    for (const sku of SKUS) await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 20 });
    await t.settle();
    ahead += 3_700_000;
    await t.hub.poller.pollDue(); // each feed notes where Revel stands
    await t.settle();
    sink.received.splice(0);
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([emu?.stop(), other?.stop(), sink?.stop()]);
  });

  it('a sale delivered twice, and found again by the orders feed, is booked once', async () => {
    await emu.sell({ sku: 'ART-1', quantity: 2, locationId: '1' });
    const [sale] = await caught(emu);
    expect((await post(sale!.raw, headersOf(sale!))).body.status).toBe('received');
    expect((await post(sale!.raw, headersOf(sale!))).body.status).toBe('duplicate');
    await t.settle();
    ahead += 3_700_000;
    await t.hub.poller.pollDue();
    await t.settle();
    expect(await onHand('ART-1')).toBe(18);
    expect((await moves('ART-1')).filter((m) => m.startsWith('sale'))).toEqual(['sale -2']);
  });

  it('a return with restock puts the unit back once; a return without restock books nothing', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-2', quantity: 2, locationId: '1' });
    await deliverAll(emu);
    await emu.refund({ orderId, restock: true, quantity: 1 });
    const [ret] = await caught(emu);
    expect((await post(ret!.raw, headersOf(ret!))).body.status).toBe('received');
    expect((await post(ret!.raw, headersOf(ret!))).body.status).toBe('duplicate');
    await t.settle();
    expect(await onHand('ART-2')).toBe(19);
    await emu.refund({ orderId, restock: false, quantity: 1 });
    await deliverAll(emu);
    expect(await onHand('ART-2')).toBe(19);
    expect((await moves('ART-2')).filter((m) => !m.startsWith('count')).sort()).toEqual(['return 1', 'sale -2']);
  });

  it('an exchange at the counter books the return and the new sale once each; a voided order gives its stock back once', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-3', quantity: 1, locationId: '1' });
    await deliverAll(emu);
    await emu.exchange({ orderId, returnQuantity: 1, sku: 'ART-4', quantity: 1 });
    await deliverAll(emu);
    expect([await onHand('ART-3'), await onHand('ART-4')]).toEqual([20, 19]);
    const sold = await emu.sell({ sku: 'ART-4', quantity: 3, locationId: '1' });
    await deliverAll(emu);
    expect(await onHand('ART-4')).toBe(16);
    // Voided later in the Management Console: no webhook, the orders feed finds it.
    emu.voidOrder(sold.orderId);
    ahead += 3_700_000;
    await t.hub.poller.pollDue();
    await t.settle();
    ahead += 3_700_000;
    await t.hub.poller.pollDue();
    await t.settle();
    expect(await onHand('ART-4')).toBe(19);
    expect((await moves('ART-4')).filter((m) => !m.startsWith('count')).sort()).toEqual(['return 3', 'sale -1', 'sale -3']);
  });

  it('forged, other-instance and malformed deliveries are refused with nothing stored; the readiness ping is answered and nothing stored', async () => {
    await emu.sell({ sku: 'ART-1', quantity: 1, locationId: '1' });
    const [genuine] = await caught(emu);
    const h = headersOf(genuine!);
    const text = genuine!.raw.toString('utf8');
    // Forged: one unit became five, or signed with a guess.
    await refused(Buffer.from(text.replace('"quantity":1', '"quantity":5')), h, /does not match the body/);
    await refused(genuine!.raw, { ...h, 'x-revel-signature': revelSignature('a guess', genuine!.raw) }, /does not match the body/);
    const { 'x-revel-signature': _s, ...unsigned } = h;
    await refused(genuine!.raw, unsigned, /no X-Revel-Signature/);
    // Another Revel client of the same partner secret.
    await other.sell({ sku: 'ART-1', quantity: 1, locationId: '1' });
    const [theirs] = await caught(other);
    await refused(theirs!.raw, headersOf(theirs!), /"another-restaurant", not this channel's/);
    // Malformed: signed, but not JSON; an event type the body does not bear out.
    await refused(Buffer.from('not json'), { ...h, 'x-revel-signature': revelSignature(HOOK, 'not json') }, /not a JSON object/);
    await refused(genuine!.raw, { ...h, 'x-revel-event-type': 'inout.stock' }, /says it is "inout.stock"/);
    // The readiness test.
    const before = await kept();
    const ping = await post(Buffer.from('{"ping": "pong"}'), { 'content-type': 'application/json', 'x-revel-event-type': 'ping', 'x-revel-signature': revelSignature(HOOK, '{"ping": "pong"}') });
    expect([ping.status, ping.body.status]).toEqual([200, 'ping']);
    expect(await kept()).toEqual(before);
    // The genuine one still books once.
    expect((await post(genuine!.raw, h)).body.status).toBe('received');
    await t.settle();
    expect(await onHand('ART-1')).toBe(17);
  });
});
