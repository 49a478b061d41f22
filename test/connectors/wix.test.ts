/**
 * What is Wix's own, beyond the conformance suite: the JWT envelope and its refusals (forged,
 * another site, malformed, expired, alg none), the catalog version asked once and obeyed, a refund's
 * restock as Wix says it, an order's money, answers the connector cannot read, and the emulator's
 * rate limit (Wix's 200 requests a minute per site).
 */
import crypto from 'node:crypto';
import { definition } from '../../server/connectors/wix';
import { WixEmulator } from '../../server/connectors/wix/emulator';
import { signWixJwt, wixBody } from '../../server/connectors/wix/verify';
import { ConnectorError, TranslateError, type ChannelFact, type Connector } from '../../server/connectors/types';
import { answerOf, startHub, type TestHub } from '../helpers/hub';
import { WebhookSink } from './helpers/webhook-sink';
import { DOCUMENTED_EXAMPLES } from './wix/documented';

const API_KEY = 'IST.wix-test-api-key-0001';
const SITE = 'b1a2c3d4-0000-4000-8000-0000000000a1';
const INSTANCE = 'e1f2a3b4-0000-4000-8000-0000000000a1';
const keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const LOCS = ['loc-gallery-0001', 'loc-warehouse-0002'];

function connector(baseUrl: string, settings: Record<string, unknown> = {}, fetchFn?: typeof fetch): Connector {
  return definition.create({ channelId: 'wix', baseUrl, settings: { siteId: SITE, instanceId: INSTANCE, ...settings }, credentials: { apiKey: API_KEY, webhookPublicKey: PEM }, ...(fetchFn ? { fetch: fetchFn } : {}) });
}

/** A token as Wix would sign it, for an envelope of our choosing. */
function token(envelope: Record<string, unknown>, key: crypto.KeyObject = keys.privateKey, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(signWixJwt({ data: JSON.stringify(envelope), iat: Math.floor(Date.now() / 1000), ...extra }, key));
}
const envelope = (over: Record<string, unknown> = {}) => ({ eventType: 'wix.ecom.v1.order_approved', instanceId: INSTANCE, data: JSON.stringify({ id: 'evt-1', entityFqdn: 'wix.ecom.v1.order', slug: 'approved', actionEvent: { body: { order: {} } } }), ...over });

describe('Wix webhooks: a signed JWT checked with the app public key, for this site only', () => {
  const c = connector('http://127.0.0.1:9');

  test('a token Wix signed for this site is accepted, with the event id inside it; sent again, the same id (the inbox keeps it once)', () => {
    const raw = token(envelope());
    expect(c.verify(raw, {})).toEqual({ valid: true, eventId: 'evt-1', topic: 'wix.ecom.v1.order_approved', occurredAt: null });
    expect(c.verify(Buffer.from(raw), {})).toEqual(c.verify(raw, {}));
  });

  test.each([
    ['signed with another key (forged)', () => token(envelope(), other.privateKey), 'signature'],
    ['for another site of the same app', () => token(envelope({ instanceId: 'someone-else' })), 'account'],
    ['naming no site', () => token(envelope({ instanceId: '' })), 'account'],
    ['not a token', () => Buffer.from('{"eventType":"wix.ecom.v1.order_approved"}'), 'signature'],
    ['"alg": "none" with no signature', () => Buffer.from(`${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ data: JSON.stringify(envelope()) })).toString('base64url')}.`), 'signature'],
    ['with no eventType', () => token(envelope({ eventType: undefined })), 'signature'],
    ['expired long ago (a replay)', () => token(envelope(), keys.privateKey, { exp: Math.floor(Date.now() / 1000) - 3600 }), 'signature'],
    ['whose data is not JSON', () => Buffer.from(signWixJwt({ data: 'not json' }, keys.privateKey)), 'signature'],
  ])('a delivery %s is refused', (_name, make, refusal) => {
    expect(c.verify(make(), {})).toMatchObject({ valid: false, refusal });
  });

  test('a channel whose public key is missing or not a key refuses everything, saying what to set', () => {
    const bad = definition.create({ channelId: 'wix', baseUrl: null, settings: { siteId: SITE, instanceId: INSTANCE }, credentials: { apiKey: API_KEY, webhookPublicKey: 'not a pem' } });
    expect(bad.verify(token(envelope()), {})).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/webhookPublicKey/) });
  });

  test('a key given with its line breaks written as \\n (one line in an environment variable) works', () => {
    const oneLine = definition.create({ channelId: 'wix', baseUrl: null, settings: { siteId: SITE, instanceId: INSTANCE }, credentials: { apiKey: API_KEY, webhookPublicKey: PEM.replace(/\n/g, '\\n') } });
    expect(oneLine.verify(token(envelope()), {})).toMatchObject({ valid: true });
  });

  test('the settings a channel must give are named', () => {
    expect(() => definition.create({ channelId: 'wix', baseUrl: null, settings: { siteId: SITE }, credentials: { apiKey: API_KEY, webhookPublicKey: PEM } })).toThrow(/instanceId/);
    expect(() => definition.create({ channelId: 'wix', baseUrl: null, settings: { instanceId: INSTANCE }, credentials: { apiKey: API_KEY, webhookPublicKey: PEM } })).toThrow(/siteId/);
    expect(() => connector('http://127.0.0.1:9', { catalogVersion: 'V2' })).toThrow(/catalogVersion/);
  });
});

describe('Wix sites of either catalog version', () => {
  let sink: WebhookSink;
  let hookUrl: string;
  const started: WixEmulator[] = [];
  beforeAll(async () => {
    sink = new WebhookSink('/v1/webhooks/wix', () => 'wix');
    hookUrl = await sink.start();
  });
  afterAll(async () => {
    await Promise.all(started.map((e) => e.stop()));
    await sink.stop();
  });
  async function site(version: 'V1' | 'V3', opts: { rateLimit?: boolean; clock?: () => number } = {}) {
    const emu = new WixEmulator({ apiKey: API_KEY, siteId: SITE, instanceId: INSTANCE, privateKey: keys.privateKey, catalogVersion: version, locations: LOCS, ...opts });
    started.push(emu);
    const baseUrl = await emu.start();
    emu.subscribe(hookUrl);
    return { emu, baseUrl, loc: emu.locations()[0]! };
  }
  /** Every delivery so far, verified, expanded and translated. */
  async function facts(emu: WixEmulator, c: Connector): Promise<ChannelFact[]> {
    await emu.flushWebhooks();
    const out: ChannelFact[] = [];
    for (const r of sink.received.splice(0)) {
      const v = c.verify(r.raw, {});
      if (!v.valid) throw new Error(v.reason);
      out.push(...c.translate(v.topic, await c.expand!(v.topic, r.raw.toString('utf8')), {}));
    }
    return out;
  }

  test.each(['V1', 'V3'] as const)('a catalog %s site: the version is asked once, and only that version’s routes are used', async (version) => {
    const { emu, baseUrl, loc } = await site(version);
    emu.seed([{ sku: 'VER-1', title: 'Version', levels: { [loc]: 5 } }]);
    const c = connector(baseUrl);
    const ref = emu.listing('VER-1')!;
    await c.read([{ sku: 'VER-1', ref, locationId: loc }]);
    expect(await c.push([{ sku: 'VER-1', ref, locationId: loc, level: 3, expected: 5, idempotencyKey: 'k' }])).toEqual([{ sku: 'VER-1', locationId: loc, status: 'applied', level: 3 }]);
    const paths = emu.requests.map((r) => r.path);
    expect(paths.filter((p) => p === '/stores/v3/provision/version')).toHaveLength(1);
    if (version === 'V1') expect(paths.filter((p) => p.startsWith('/stores/v3/') && p !== '/stores/v3/provision/version')).toEqual([]);
    else expect(paths.filter((p) => /\/stores(-reader)?\/v[12]\//.test(p))).toEqual([]);
    // With the version in the settings, nobody asks.
    const before = emu.requests.length;
    await connector(baseUrl, { catalogVersion: version }).read([{ sku: 'VER-1', ref, locationId: loc }]);
    expect(emu.requests.slice(before).map((r) => r.path)).not.toContain('/stores/v3/provision/version');
  });

  test('a site without Wix Stores is said so, as a fault of the channel', async () => {
    const c = connector('http://127.0.0.1:9', {}, (async () => new Response(JSON.stringify({ catalogVersion: 'STORES_NOT_INSTALLED' }), { status: 200 })) as typeof fetch);
    await expect(c.listCatalog()).rejects.toMatchObject({ channelFault: true, message: expect.stringMatching(/not installed/) });
  });

  test('an answer the connector cannot read is an error, never a level: nothing is pushed from it', async () => {
    const answers = [{ catalogVersion: 'V3_CATALOG' }, { inventoryItems: 'none' }];
    const calls: string[] = [];
    const c = connector('http://127.0.0.1:9', {}, (async (url: string) => {
      calls.push(String(url));
      return new Response(JSON.stringify(answers.shift() ?? {}), { status: 200 });
    }) as typeof fetch);
    const err = await c.push([{ sku: 'X', ref: { productId: 'p', variantId: 'v' }, locationId: 'loc', level: 1, expected: 0, idempotencyKey: 'k' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).message).toMatch(/nothing was taken/);
    expect(calls.filter((u) => u.includes('/update'))).toEqual([]);
  });

  test.each(['V1', 'V3'] as const)('catalog %s: refunds restock what Wix says they restocked, cancellations too, and the sale carries its money', async (version) => {
    const { emu, baseUrl, loc } = await site(version);
    emu.seed([{ sku: 'MONEY-1', title: 'Ochre print', levels: { [loc]: 10 }, price: 4000 }]);
    const c = connector(baseUrl, version === 'V3' ? { defaultLocationId: loc } : {});
    const { orderId } = await emu.sell({ sku: 'MONEY-1', quantity: 3, locationId: loc, discount: 500, taxRate: '10' });
    const sale = (await facts(emu, c)).find((f) => f.type === 'sale');
    // Wix's checkout takes stock from the default location: the lines are booked there (V3), or at the one location (V1).
    expect(sale?.type === 'sale' && sale.lines.map((l) => l.locationId)).toEqual([version === 'V3' ? loc : null]);
    expect(sale?.type === 'sale' && sale.order).toMatchObject({ currency: 'AUD', discount: 500, tax: 1150, total: 12000 - 500 + 1150, paymentStatus: 'paid', fulfilmentStatus: 'unfulfilled', lines: [{ sku: 'MONEY-1', quantity: 3, unitPrice: 4000 }] });
    await emu.refund({ orderId, restock: true, quantity: 1 });
    await emu.refund({ orderId, restock: false, quantity: 1 });
    const refunds = (await facts(emu, c)).filter((f): f is Extract<ChannelFact, { type: 'refund' }> => f.type === 'refund');
    expect(refunds.map((r) => r.lines.map((l) => [l.quantity, l.restock]))).toEqual([[[1, true]], [[1, false]]]);
    expect(refunds.map((r) => r.money)).toEqual([
      { currency: 'AUD', amount: 4000 },
      { currency: 'AUD', amount: 4000 },
    ]);
    await emu.cancel(orderId, true);
    const cancel = (await facts(emu, c)).find((f) => f.type === 'cancellation');
    expect(cancel?.type === 'cancellation' && cancel.lines.map((l) => [l.sku, l.quantity, l.restock])).toEqual([['MONEY-1', 3, true]]);
  });

  test('a V3 store sells from its default location only', async () => {
    const { emu } = await site('V3');
    emu.seed([{ sku: 'WH-1', title: 'Warehouse only', levels: { [LOCS[1]!]: 4 } }]);
    await expect(emu.sell({ sku: 'WH-1', quantity: 1, locationId: LOCS[1]! })).rejects.toThrow(/default location/);
    expect(emu.level('WH-1', LOCS[1]!)).toBe(4);
  });

  test('a refund whose order cannot be fetched is not translated as nothing', () => {
    const refund = DOCUMENTED_EXAMPLES.find((e) => e.expect === 'unreadable')!;
    expect(() => connector('http://127.0.0.1:9').translate(refund.topic, refund.body, {})).toThrow(TranslateError);
  });

  test('the emulator enforces Wix’s 200 requests a minute per site: the next one is answered 429 with Retry-After', async () => {
    let now = 1_000_000;
    const { baseUrl } = await site('V3', { rateLimit: true, clock: () => now });
    const ask = () => fetch(`${baseUrl}/stores/v3/provision/version`, { headers: { authorization: API_KEY, 'wix-site-id': SITE } });
    for (let i = 0; i < 200; i++) expect((await ask()).status).toBe(200);
    const refused = await ask();
    expect([refused.status, refused.headers.get('retry-after')]).toEqual([429, '60']);
    now += 60_001;
    expect((await ask()).status).toBe(200);
  });

  test('the emulator refuses a request without the API key or for another site, in Wix’s error shape', async () => {
    const { baseUrl } = await site('V3');
    const noKey = await fetch(`${baseUrl}/stores/v3/provision/version`, { headers: { 'wix-site-id': SITE } });
    expect([noKey.status, ((await noKey.json()) as { details: { applicationError: { code: string } } }).details.applicationError.code]).toEqual([401, 'UNAUTHENTICATED']);
    const otherSite = await fetch(`${baseUrl}/stores/v3/provision/version`, { headers: { authorization: API_KEY, 'wix-site-id': 'another-site' } });
    expect(otherSite.status).toBe(403);
  });
});

describe('through the hub: a Wix V3 channel', () => {
  const LOC = LOCS[0]!;
  const SKUS = ['ART-1', 'ART-2'];
  let t: TestHub;
  let emu: WixEmulator;
  let otherSite: WixEmulator;
  let sink: WebhookSink;
  const post = async (raw: Buffer | string) => answerOf(await fetch(`${t.url}/v1/webhooks/wix`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: raw }));
  /** What the hub keeps: its events, and every SKU's movements. */
  const kept = async () => ({
    events: (await t.api('GET', '/v1/events?limit=500')).body.events as unknown[],
    movements: await Promise.all(SKUS.map(async (sku) => (await t.api('GET', `/v1/items/${sku}/movements?limit=500`)).body.movements as unknown[])),
  });
  /** Every delivery so far, sent to the hub, and the hub settled. */
  const deliver = async () => {
    const answers: { status: number; body: any }[] = [];
    for (let round = 0; round < 10; round++) {
      await emu.flushWebhooks();
      await t.settle();
      await emu.flushWebhooks();
      const next = sink.received.splice(0);
      if (next.length === 0) return answers;
      for (const r of next) answers.push(await post(r.raw));
    }
    return answers;
  };
  /** On hand at the gallery, the channel's one location. */
  const onHand = async (sku: string) => ((await t.api('GET', `/v1/items/${sku}`)).body.locations as { onHand: number }[])[0]!.onHand;

  beforeAll(async () => {
    emu = new WixEmulator({ apiKey: API_KEY, siteId: SITE, instanceId: INSTANCE, privateKey: keys.privateKey, catalogVersion: 'V3', locations: LOCS });
    otherSite = new WixEmulator({ apiKey: API_KEY, siteId: SITE, instanceId: 'another-site-instance', privateKey: keys.privateKey, catalogVersion: 'V3', locations: LOCS });
    const [url] = await Promise.all([emu.start(), otherSite.start()]);
    sink = new WebhookSink('/v1/webhooks/wix', () => 'wix');
    const hook = await sink.start();
    emu.subscribe(hook);
    otherSite.subscribe(hook);
    t = await startHub('sqlite', {
      file: {
        locations: [{ id: 'gallery', name: 'Gallery' }],
        engine: { attributionWindowMs: 3_600_000, reconcileEveryMs: 0 },
        channels: [{ id: 'wix', name: 'Wix', platform: 'wix', baseUrl: url, locations: { gallery: LOC }, hideAtZero: true, settings: { siteId: SITE, instanceId: INSTANCE, defaultLocationId: LOC }, credentials: { apiKey: 'WIX_T_KEY', webhookPublicKey: 'WIX_T_PEM' } }],
      },
      env: { WIX_T_KEY: API_KEY, WIX_T_PEM: PEM },
    });
    emu.seed(SKUS.map((sku) => ({ sku, title: sku, levels: { [LOC]: 5 } })));
    emu.seed([{ sku: 'NOT-OURS', title: 'A listing the hub does not know', levels: { [LOC]: 5 } }]);
    for (const sku of SKUS) await t.api('PUT', `/v1/items/${sku}`, { title: sku });
    expect((await t.api('POST', '/v1/channels/wix/discover')).status).toBe(200);
    for (const sku of SKUS) await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 5 });
    await deliver();
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all([emu?.stop(), otherSite?.stop(), sink?.stop()]);
  });

  test('a sale on Wix is booked once, though Wix sends it twice (created and approved) and a delivery comes again', async () => {
    await emu.sell({ sku: 'ART-1', quantity: 2, locationId: LOC });
    await emu.flushWebhooks();
    const sent = sink.received.splice(0);
    for (const r of sent) expect((await post(r.raw)).status).toBe(200);
    // The same delivery again: a duplicate, kept once.
    expect((await post(sent[0]!.raw)).body.status).toBe('duplicate');
    await deliver();
    expect(await onHand('ART-1')).toBe(3);
  });

  test('forged, another site’s, malformed and tampered deliveries are refused with 401, and nothing is kept', async () => {
    await emu.sell({ sku: 'ART-2', quantity: 1, locationId: LOC });
    await emu.flushWebhooks();
    const ours = sink.received.splice(0).map((r) => r.raw.toString('utf8'));
    const genuine = ours.find((raw) => wixBody(Buffer.from(raw))?.eventType === 'wix.ecom.v1.order_approved')!;
    otherSite.seed([{ sku: 'ART-2', title: 'ART-2', levels: { [LOC]: 5 } }]);
    await otherSite.sell({ sku: 'ART-2', quantity: 1, locationId: LOC });
    await otherSite.flushWebhooks();
    const theirs = sink.received.splice(0).map((r) => r.raw.toString('utf8'));
    const [h, p] = genuine.split('.');
    const sent = [
      ['forged (another key)', signWixJwt(JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, unknown>, other.privateKey)],
      ['another site of the same app', theirs[0]!],
      ['not a token', '{"eventType":"wix.ecom.v1.order_approved"}'],
      ['tampered (payload changed, signature kept)', `${h}.${Buffer.from('{"data":"{}"}').toString('base64url')}.${genuine.split('.')[2]}`],
      ['no signature', `${h}.${p}.`],
    ];
    const before = await kept();
    for (const [name, raw] of sent) {
      const answer = await post(raw!);
      expect([name, answer.status, answer.body.error.message]).toEqual([name, 401, expect.stringMatching(/Nothing was stored/)]);
    }
    await t.settle();
    expect(await kept()).toEqual(before);
    // The genuine ones still book.
    for (const raw of ours) expect((await post(raw)).status).toBe(200);
    await deliver();
    expect(await onHand('ART-2')).toBe(4);
  });

  test('a sale of a product not in our catalog is kept, visible as unmatched, and books nothing', async () => {
    const before = await kept();
    await emu.sell({ sku: 'NOT-OURS', quantity: 1, locationId: LOC });
    const answers = await deliver();
    const ids = answers.map((a) => a.body.eventId as string);
    const events = await Promise.all(ids.map(async (id) => (await t.api('GET', `/v1/events/${id}`)).body as { status: string }));
    expect(events.map((e) => e.status)).toContain('unmatched');
    expect((await kept()).movements).toEqual(before.movements);
  });

  test('every level is pushed; at zero the product is hidden, on restock shown again', async () => {
    await t.api('POST', '/v1/items/ART-1/adjustments', { location: 'gallery', quantity: -3, reason: 'adjustment' });
    await deliver();
    expect([emu.level('ART-1', LOC), emu.visible('ART-1')]).toEqual([0, false]);
    await t.api('POST', '/v1/items/ART-1/adjustments', { location: 'gallery', quantity: 4, reason: 'restock' });
    await deliver();
    expect([emu.level('ART-1', LOC), emu.visible('ART-1')]).toEqual([4, true]);
  });
});
