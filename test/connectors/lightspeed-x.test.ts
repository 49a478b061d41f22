/**
 * What is Lightspeed Retail X-Series' own (the conformance suite, lightspeed-x.conformance.test.ts,
 * checks the rest): the X-Signature check on the form-encoded deliveries (good in hex and base64,
 * tampered, wrong key, missing, malformed, another store, replayed), the documented payloads
 * translated, the sale statuses that take stock (parked, layby, void booked once), returns with and
 * without the goods back, exchanges, the HTTP-date Retry-After read against the answer's Date, the
 * polled feeds' start, and the settings errors.
 */
import crypto from 'node:crypto';
import { meaning } from './conformance';
import { createLightspeedXConnector, definition, rateLimitFor } from '../../server/connectors/lightspeed-x';
import { XsEmulator } from '../../server/connectors/lightspeed-x/emulator';
import { retryAfterOf } from '../../server/connectors/lightspeed-x/http';
import { translate } from '../../server/connectors/lightspeed-x/translate';
import { signXs, verifyXsDelivery } from '../../server/connectors/lightspeed-x/verify';
import { ConnectorError, TranslateError, type ChannelFact, type Connector } from '../../server/connectors/types';
import { parseRetryAfter } from '../../server/util';
import { startHub } from '../helpers/hub';
import { WebhookSink } from './helpers/webhook-sink';
import { DOCS_INVENTORY_V1, DOCS_RETURN_SALE_V2, DOCS_SALE_V1 } from './lightspeed-x/documented';

const TOKEN = 'lsxs_pt_test_token_0001';
const SECRET = 'lightspeed-x-test-client-secret';
const PREFIX = 'test-store';

let emu: XsEmulator;
let baseUrl: string;
let sink: WebhookSink;

const connector = (over: { settings?: Record<string, unknown>; credentials?: Record<string, string> } = {}): Connector =>
  createLightspeedXConnector({ channelId: 'lsx', baseUrl, settings: { domainPrefix: PREFIX, pageSize: 2, ...over.settings }, credentials: { accessToken: TOKEN, clientSecret: SECRET, ...over.credentials } });

const form = (type: string, payload: unknown, extra: Record<string, string> = {}) => new URLSearchParams({ type, domain_prefix: PREFIX, environment: 'prod', ...extra, payload: JSON.stringify(payload) }).toString();
const signed = (body: string, secret = SECRET, enc: 'hex' | 'base64' = 'hex') => ({
  'content-type': 'application/x-www-form-urlencoded',
  'x-signature': `signature=${crypto.createHmac('sha256', secret).update(body).digest(enc)},algorithm=HMAC-SHA256`,
});
const verify = (body: string, headers: Record<string, string>, o: { retailerId?: string | null } = {}) => verifyXsDelivery(Buffer.from(body), headers, { clientSecret: SECRET, domainPrefix: PREFIX, retailerId: o.retailerId ?? null });

/** Every delivery the emulator sent so far, verified and translated (a forged one fails the test). */
async function received(): Promise<{ topic: string; facts: ChannelFact[] }[]> {
  await emu.flushWebhooks();
  const c = connector();
  return sink.received.splice(0).map((r) => {
    const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));
    const v = c.verify(r.raw, headers);
    if (!v.valid) throw new Error(v.reason);
    return { topic: v.topic, facts: c.translate(v.topic, r.raw.toString('utf8'), headers) };
  });
}
const of = <T extends ChannelFact['type']>(got: { facts: ChannelFact[] }[], type: T) => got.flatMap((g) => g.facts).filter((f): f is Extract<ChannelFact, { type: T }> => f.type === type);

beforeAll(async () => {
  sink = new WebhookSink('/v1/webhooks/lsx');
  const url = await sink.start();
  emu = new XsEmulator({ accessToken: TOKEN, clientSecret: SECRET, domainPrefix: PREFIX });
  baseUrl = await emu.start();
  emu.subscribe(url);
  emu.seed(['LS-1', 'LS-2', 'LS-3', 'LS-4'].map((sku) => ({ sku, title: `Print ${sku}`, levels: { [emu.locations()[0]!]: 10, [emu.locations()[1]!]: 4 } })));
});
afterAll(async () => {
  await emu.stop();
  await sink.stop();
});

describe('X-Signature on the form-encoded deliveries', () => {
  const body = form('sale.update', DOCS_SALE_V1);

  test('HMAC-SHA256 of the raw form bytes keyed with the client secret, in hex or base64: valid, the topic from the signed type, the time from the payload', () => {
    for (const enc of ['hex', 'base64'] as const) {
      expect(verify(body, signed(body, SECRET, enc))).toEqual({ valid: true, eventId: expect.stringMatching(/^sale\.update:[A-Za-z0-9_-]{32}$/), topic: 'sale.update', occurredAt: '2013-11-14T20:41:02.000Z' });
    }
    expect(signXs(body, SECRET)).toBe(crypto.createHmac('sha256', SECRET).update(body).digest('hex'));
  });

  test('replayed: the same bytes give the same event id (the inbox stores it once), another delivery another id', () => {
    const a = verify(body, signed(body));
    const again = verify(body, signed(body));
    const other = form('sale.update', { ...DOCS_SALE_V1, status: 'VOIDED' });
    expect(again).toEqual(a);
    expect(verify(other, signed(other))).toMatchObject({ valid: true });
    expect((verify(other, signed(other)) as { eventId: string }).eventId).not.toBe((a as { eventId: string }).eventId);
  });

  test('refused as signature: tampered, another key, missing, malformed, another algorithm, the payload signed instead of the body, no secret', () => {
    const tampered = body.replace('CLOSED', 'VOIDED');
    expect(verify(tampered, signed(body))).toMatchObject({ valid: false, refusal: 'signature' });
    expect(verify(body, signed(body, 'another-secret'))).toMatchObject({ valid: false, refusal: 'signature' });
    expect(verify(body, { 'content-type': 'application/x-www-form-urlencoded' })).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/no X-Signature/) });
    expect(verify(body, { 'x-signature': 'deadbeef' })).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/not "signature=/) });
    const sig = signed(body)['x-signature'];
    expect(verify(body, { 'x-signature': sig.replace('HMAC-SHA256', 'HMAC-SHA1') })).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/HMAC-SHA1/) });
    const payloadOnly = crypto.createHmac('sha256', SECRET).update(JSON.stringify(DOCS_SALE_V1)).digest('hex');
    expect(verify(body, { 'x-signature': `signature=${payloadOnly},algorithm=HMAC-SHA256` })).toMatchObject({ valid: false, refusal: 'signature' });
    expect(verifyXsDelivery(Buffer.from(body), signed(body), { clientSecret: undefined, domainPrefix: PREFIX, retailerId: null })).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/no clientSecret/) });
  });

  test('signed but malformed: not a form with a JSON object in "payload" is refused, and translate says what it cannot read', () => {
    for (const bad of ['{"id":1}', 'payload=%7Bnot-json', 'payload=%5B1%2C2%5D', 'type=sale.update', `payload=${encodeURIComponent('{}')}&payload=${encodeURIComponent('{}')}`]) {
      expect([bad, verify(bad, signed(bad)).valid]).toEqual([bad, false]);
    }
    expect(() => translate('sale.update', 'payload=%7Bnot-json', {})).toThrow(TranslateError);
    expect(() => translate('sale.update', { ...DOCS_SALE_V1, register_sale_products: [{ id: 'l1', product_id: 'p', quantity: 1.5 }] }, {})).toThrow(/not a whole number/);
    expect(() => translate('sale.update', { ...DOCS_SALE_V1, status: 'MYSTERY' }, {})).toThrow(/MYSTERY/);
  });

  test('another store, signed with the same secret: refused as account (domain_prefix; retailer_id when the channel names its own)', () => {
    const theirs = form('sale.update', DOCS_SALE_V1, { domain_prefix: 'another-store' });
    expect(verify(theirs, signed(theirs))).toMatchObject({ valid: false, refusal: 'account', reason: expect.stringMatching(/another-store/) });
    const retailer = form('sale.update', { ...DOCS_SALE_V1, retailer_id: '0624dbcd-ef95-11e6-e986-ecd5a63e28e2' });
    expect(verify(retailer, signed(retailer), { retailerId: '0624dbcd-ef95-11e6-e986-ecd5a63e28e2' })).toMatchObject({ valid: true });
    expect(verify(retailer, signed(retailer), { retailerId: '11111111-ef95-11e6-e986-ecd5a63e28e2' })).toMatchObject({ valid: false, refusal: 'account' });
    const upper = form('sale.update', { ...DOCS_SALE_V1, retailer_id: '0624DBCD-EF95-11E6-E986-ECD5A63E28E2' });
    expect(verify(upper, signed(upper), { retailerId: '0624dbcd-ef95-11e6-e986-ecd5a63e28e2' })).toMatchObject({ valid: true });
  });

  test('a type that disagrees with the payload is refused as topic; without a type the payload says what it is; other X-Series types give no facts', () => {
    const lying = form('inventory.update', DOCS_SALE_V1);
    expect(verify(lying, signed(lying))).toMatchObject({ valid: false, refusal: 'topic' });
    const untyped = new URLSearchParams({ payload: JSON.stringify(DOCS_INVENTORY_V1) }).toString();
    expect(verify(untyped, signed(untyped))).toMatchObject({ valid: true, topic: 'inventory.update' });
    const product = form('product.update', { id: 'p1', name: 'Balm', inventory: [] });
    expect(verify(product, signed(product))).toMatchObject({ valid: true, topic: 'product.update' });
    expect(translate('product.update', product, {})).toEqual([]);
  });
});

describe('documented payloads', () => {
  test('a closed 1.0 register sale: one sale line, the product id and SKU, at the sale\'s outlet', () => {
    expect(translate('sale.update', DOCS_SALE_V1, {})).toEqual([
      { type: 'sale', orderId: DOCS_SALE_V1.id, occurredAt: '2013-11-14T20:41:02.000Z', lines: [{ lineId: '89edaa26-d2b7-e417-0116-b118d7543084', sku: 'SUP635OT', ref: { productId: '7dbac57b-23be-11e3-a415-bc764e10976c', variantId: '7dbac57b-23be-11e3-a415-bc764e10976c' }, quantity: 1, locationId: DOCS_SALE_V1.outlet_id }] },
    ]);
  });

  test('the Returns guide\'s return: parked (SAVED) nothing yet; closed, a refund of the original sale without restock', () => {
    expect(translate('sale.update', DOCS_RETURN_SALE_V2, {})).toEqual([]);
    const [refund] = translate('sale.update', { ...DOCS_RETURN_SALE_V2, status: 'CLOSED' }, {});
    expect(refund).toMatchObject({ type: 'refund', refundId: DOCS_RETURN_SALE_V2.id, orderId: DOCS_RETURN_SALE_V2.return_for, lines: [{ quantity: 1, restock: false, locationId: DOCS_RETURN_SALE_V2.outlet_id }] });
    // The 2.0 state alone says the same as the legacy status.
    const { status: _s, ...stateOnly } = DOCS_RETURN_SALE_V2;
    expect(translate('sale.update', { ...stateOnly, state: 'closed' }, {})).toEqual([refund]);
  });

  test('the inventory record of the product.update example: the level at its outlet, with no platform time (it names none)', () => {
    expect(translate('inventory.update', DOCS_INVENTORY_V1, {})).toEqual([
      { type: 'level_observed', sku: null, ref: { productId: DOCS_INVENTORY_V1.product_id, variantId: DOCS_INVENTORY_V1.product_id }, locationId: DOCS_INVENTORY_V1.outlet_id, available: 2, occurredAt: '' },
    ]);
  });
});

describe('sales at the register', () => {
  const gallery = () => emu.locations()[0]!;

  test('a sale takes stock at its outlet; a return puts it back, seen as the level (the refund books no restock); a return not fit to sell leaves the level', async () => {
    const { orderId } = await emu.sell({ sku: 'LS-1', quantity: 3, locationId: gallery() });
    let got = await received();
    expect(of(got, 'sale').map((s) => [s.orderId, s.lines.map((l) => [l.sku, l.quantity, l.locationId])])).toEqual([[orderId, [['LS-1', 3, gallery()]]]]);
    expect(of(got, 'level_observed').map((l) => l.available)).toEqual([7]);

    await emu.refund({ orderId, restock: true, quantity: 1 });
    got = await received();
    expect(of(got, 'refund').map((r) => [r.orderId, r.lines.map((l) => [l.quantity, l.restock])])).toEqual([[orderId, [[1, false]]]]);
    expect(of(got, 'level_observed').map((l) => l.available)).toEqual([8]);

    await emu.refund({ orderId, restock: false, quantity: 1 });
    got = await received();
    expect(of(got, 'refund').flatMap((r) => r.lines.filter((l) => l.restock))).toEqual([]);
    expect(emu.level('LS-1', gallery())).toBe(8);
    expect(of(got, 'level_observed').map((l) => l.available)).toEqual([9, 8]);
  });

  test('an exchange is one sale: a refund of what came back and a sale of what went out, booked by its own line ids', async () => {
    const { orderId } = await emu.sell({ sku: 'LS-2', quantity: 1, locationId: gallery() });
    await received();
    const { saleId } = await emu.exchange({ orderId, backQuantity: 1, outSku: 'LS-3', outQuantity: 1 });
    const got = await received();
    const sale = got.find((g) => g.topic === 'sale.update')!;
    expect(sale.facts.map((f) => f.type)).toEqual(['sale', 'refund']);
    expect(of([sale], 'sale')[0]).toMatchObject({ orderId: saleId, lines: [{ sku: 'LS-3', quantity: 1 }] });
    expect(of([sale], 'refund')[0]).toMatchObject({ orderId, refundId: saleId, lines: [{ sku: 'LS-2', quantity: 1, restock: false }] });
    expect([emu.level('LS-2', gallery()), emu.level('LS-3', gallery())]).toEqual([10, 9]);
  });

  test('a void puts the units back once: the voided sale books its sale and its cancellation, the same keys however often it comes', async () => {
    const { orderId } = await emu.sell({ sku: 'LS-4', quantity: 2, locationId: gallery() });
    const sold = await received();
    await emu.setStatus(orderId, 'VOIDED');
    const voided = await received();
    expect(emu.level('LS-4', gallery())).toBe(10);
    const saleMeaning = [...meaning(sold.flatMap((g) => g.facts))].filter((m) => m.startsWith('book'));
    const voidMeaning = [...meaning(voided.flatMap((g) => g.facts))].filter((m) => m.startsWith('book'));
    // The sale's booking again (the hub books it once) and the return of its units once.
    expect(voidMeaning.filter((m) => !saleMeaning.includes(m))).toEqual([expect.stringMatching(new RegExp(`^book cancel:.*:${orderId}:.* 2$`))]);
    expect(of(voided, 'cancellation')).toHaveLength(1);
    expect(of(voided, 'level_observed').map((l) => l.available)).toEqual([10]);
  });

  test('a parked sale takes nothing until it is closed; a layby takes the goods when made and nothing more when paid off', async () => {
    const { orderId: parked } = await emu.sell({ sku: 'LS-4', quantity: 1, locationId: gallery(), status: 'SAVED' });
    let got = await received();
    expect(got.flatMap((g) => g.facts)).toEqual([]);
    expect(emu.level('LS-4', gallery())).toBe(10);
    await emu.setStatus(parked, 'CLOSED');
    got = await received();
    expect(of(got, 'sale').map((s) => s.orderId)).toEqual([parked]);
    expect(emu.level('LS-4', gallery())).toBe(9);

    const { orderId: layby } = await emu.sell({ sku: 'LS-4', quantity: 1, locationId: gallery(), status: 'LAYBY' });
    const made = await received();
    await emu.setStatus(layby, 'LAYBY_CLOSED');
    const paid = await received();
    expect(emu.level('LS-4', gallery())).toBe(8);
    expect(meaning(of(paid, 'sale'))).toEqual(meaning(of(made, 'sale')));
    expect(of(paid, 'level_observed')).toEqual([]);
  });
});

describe('polled feeds', () => {
  test('the first read starts at the end of the store\'s history (nothing old is booked); then each new sale at each version', async () => {
    const c = connector();
    let cursor: string | null = null;
    let events = 0;
    for (let i = 0; i < 50; i++) {
      const r = await c.poll!('sales', cursor);
      events += r.events.length;
      cursor = r.cursor;
      if (!r.more) break;
    }
    expect([events, cursor]).toEqual([0, expect.stringMatching(/^v1:\d+$/)]);
    const { orderId } = await emu.sell({ sku: 'LS-1', quantity: 1, locationId: emu.locations()[1]! });
    await emu.setStatus(orderId, 'VOIDED');
    await received();
    const r = await c.poll!('sales', cursor);
    expect(r.events.map((e) => e.topic)).toEqual(['sale.update']);
    expect(r.events[0]!.eventId).toMatch(new RegExp(`^sales:${orderId}:v\\d+$`));
    expect(c.translate('sale.update', r.events[0]!.body, {}).map((f) => f.type)).toEqual(['sale', 'cancellation']);
  });

  test('a cursor this connector did not write is refused, nothing read; an unknown feed too', async () => {
    const before = emu.requests.length;
    await expect(connector().poll!('sales', '{"page":2}')).rejects.toThrow(/not one this connector wrote/);
    await expect(connector().poll!('orders', null)).rejects.toThrow(/no polled feed "orders"/);
    expect(emu.requests.length).toBe(before);
  });
});

describe('Retry-After as an HTTP-date', () => {
  const headers = (h: Record<string, string>) => ({ get: (n: string) => h[n.toLowerCase()] ?? null });

  test('read against the answer\'s Date, whatever the local clock says; seconds as they are; the hub\'s parser reads dates against now', () => {
    const date = 'Wed, 15 Jul 2020 15:04:00 GMT';
    expect(retryAfterOf(headers({ date, 'retry-after': 'Wed, 15 Jul 2020 15:04:05 GMT' }), Date.parse('2030-01-01T00:00:00Z'))).toBe(5000);
    expect(retryAfterOf(headers({ 'retry-after': '7' }))).toBe(7000);
    expect(retryAfterOf(headers({ 'retry-after': 'Wed, 15 Jul 2020 15:04:05 GMT' }), Date.parse('2020-07-15T15:04:03Z'))).toBe(2000);
    expect(retryAfterOf(headers({}))).toBeNull();
    expect(parseRetryAfter('Wed, 15 Jul 2020 15:04:05 GMT', Date.parse('2020-07-15T15:04:01Z'))).toBe(4000);
  });

  test('the store\'s 429 over its limit: the wait it names reaches the caller, with the documented body', async () => {
    let now = Date.parse('2026-12-08T10:00:00.400Z');
    const limited = new XsEmulator({ accessToken: TOKEN, clientSecret: SECRET, domainPrefix: PREFIX, registers: 1, rateLimit: true, clock: () => now });
    const url = await limited.start();
    try {
      limited.seed([{ sku: 'RL-1', title: 'RL-1', levels: { [limited.locations()[0]!]: 1 } }]);
      const c = createLightspeedXConnector({ channelId: 'lsx', baseUrl: url, settings: { domainPrefix: PREFIX }, credentials: { accessToken: TOKEN, clientSecret: SECRET } });
      const item = [{ sku: 'RL-1', ref: limited.listing('RL-1')!, locationId: limited.locations()[0]! }];
      for (let i = 0; i < 350; i++) await c.read(item);
      now += 1000;
      const err = (await c.read(item).catch((e: unknown) => e)) as ConnectorError;
      expect([err.status, err.retryable, err.channelFault]).toEqual([429, true, true]);
      // The first request (10:00:00.4) leaves the window at 10:05:00.4: the whole second after it,
      // 10:05:01, is 300 s after the answer's Date (10:00:01).
      expect(err.retryAfterMs).toBe(300_000);
      expect(limited.rateLimited).toHaveLength(1);
      const res = await fetch(`${url}/api/2.0/products`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect([res.status, await res.json(), res.headers.get('date'), res.headers.get('retry-after')]).toEqual([
        429,
        { error: 'Too Many Requests', message: 'Rate limiting enforced' },
        'Tue, 08 Dec 2026 10:00:01 GMT',
        'Tue, 08 Dec 2026 10:05:01 GMT',
      ]);
    } finally {
      await limited.stop();
    }
  });
});

describe('settings', () => {
  test('each bad setting is named at start, before any request is sent', () => {
    const before = emu.requests.length;
    const make = (settings: Record<string, unknown>, credentials: Record<string, string> = { accessToken: TOKEN, clientSecret: SECRET }) => () => createLightspeedXConnector({ channelId: 'lsx', baseUrl, settings, credentials });
    expect(make({})).toThrow(/needs the setting domainPrefix/);
    expect(make({ domainPrefix: 'https://gallery.retail.lightspeed.app' })).toThrow(/domainPrefix/);
    expect(make({ domainPrefix: PREFIX, registers: 0 })).toThrow(/registers must be a whole number from 1/);
    expect(make({ domainPrefix: PREFIX, host: 'example.com' })).toThrow(/host must be one of retail\.lightspeed\.app, vendhq\.com/);
    expect(make({ domainPrefix: PREFIX, pageSize: 500 })).toThrow(/pageSize must be a whole number from 1 to 200/);
    expect(make({ domainPrefix: PREFIX, retailerId: 'store 1' })).toThrow(/retailerId/);
    expect(make({ domainPrefix: PREFIX }, { clientSecret: SECRET })).toThrow(/credential accessToken/);
    expect(emu.requests.length).toBe(before);
  });

  test('the address follows the domain prefix and host; the pace follows the registers', () => {
    expect(definition.requiredSettings).toEqual(['domainPrefix']);
    expect(rateLimitFor(1)).toMatchObject({ kind: 'requests_per_window', requests: 315, windowMs: 300_000 });
    expect(rateLimitFor(3)).toMatchObject({ requests: 855 });
    const c = createLightspeedXConnector({ channelId: 'lsx', baseUrl: null, settings: { domainPrefix: 'Gallery', registers: 3 }, credentials: { accessToken: TOKEN, clientSecret: SECRET } });
    expect(c.capabilities.rateLimit).toMatchObject({ requests: 855 });
    expect(definition.secretHeaders).toEqual(['x-signature']);
  });
});

describe('through the hub\'s webhook door', () => {
  jest.setTimeout(60_000);

  test('unsigned (a webhook added by hand under /setup/api), wrongly keyed or another store\'s: 401 and nothing stored; signed: stored once, the sale booked once', async () => {
    const store = new XsEmulator({ accessToken: TOKEN, clientSecret: SECRET, domainPrefix: PREFIX });
    const url = await store.start();
    const outlet = store.locations()[0]!;
    store.seed([{ sku: 'HUB-1', title: 'HUB-1', levels: { [outlet]: 10 } }]);
    const t = await startHub('sqlite', {
      file: {
        locations: [{ id: 'gallery', name: 'Gallery' }],
        channels: [{ id: 'pos', name: 'Gallery POS (X-Series)', platform: 'lightspeed-x', baseUrl: url, locations: { gallery: outlet }, settings: { domainPrefix: PREFIX }, credentials: { accessToken: 'LSX_TOKEN', clientSecret: 'LSX_SECRET' } }],
      },
      env: { LSX_TOKEN: TOKEN, LSX_SECRET: SECRET },
    });
    try {
      await t.api('PUT', '/v1/items/HUB-1', { title: 'HUB-1' });
      await t.api('POST', '/v1/items/HUB-1/counts', { location: 'gallery', counted: 10 });
      expect((await t.api('POST', '/v1/channels/pos/discover')).body.matched.map((m: { sku: string }) => m.sku)).toEqual(['HUB-1']);
      const sale = { ...DOCS_SALE_V1, outlet_id: outlet, register_sale_products: [{ ...DOCS_SALE_V1.register_sale_products[0]!, product_id: store.listing('HUB-1')!.productId, sku: 'HUB-1', quantity: 2 }] };
      const body = form('sale.update', sale);
      const post = (headers: Record<string, string>, raw = body) => fetch(`${t.url}/v1/webhooks/pos`, { method: 'POST', body: raw, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } }).then(async (r) => ({ status: r.status, body: (await r.json()) as { status?: string; error?: { code: string; message: string } } }));
      const theirs = form('sale.update', sale, { domain_prefix: 'another-store' });
      for (const [raw, headers] of [[body, {}], [body, signed(body, 'another-secret')], [theirs, signed(theirs)]] as const) {
        const res = await post(headers, raw);
        expect([res.status, res.body.error?.code]).toEqual([401, 'invalid_signature']);
      }
      const events = async () => ((await t.api('GET', '/v1/events?limit=100')).body.events as { source: string }[]).filter((e) => e.source === 'channel' && (e as { kind?: string }).kind === 'sale.update');
      expect(await events()).toEqual([]);
      expect((await post(signed(body))).body.status).toBe('received');
      expect((await post(signed(body))).body.status).toBe('duplicate');
      await t.settle();
      const onHand = ((await t.api('GET', '/v1/items/HUB-1')).body.locations as { locationId: string; onHand: number }[]).find((l) => l.locationId === 'gallery')?.onHand;
      expect([await events().then((e) => e.length), onHand]).toEqual([1, 8]);
    } finally {
      await t.close();
      await store.stop();
    }
  });
});
