/**
 * What is Toast's own (the conformance suite, toast.conformance.test.ts, checks the rest): the
 * signature recipe of "Message signing" (body + timestamp, base64) and the messages refused at the
 * verify step (tampered, wrong key, missing, another restaurant, a header that disagrees, replayed,
 * malformed); the documented stock payloads; orders translated after expand (sales, voids given back,
 * refunds of money only, booked once each); two restaurants as two locations; the login and its
 * token; the settings; the emulator's rate limits; the orders feed.
 */
import crypto from 'node:crypto';
import { planFacts } from '../../server/core/channel-plan';
import { createToastConnector } from '../../server/connectors/toast';
import { ToastEmulator } from '../../server/connectors/toast/emulator';
import { LOGIN_PATH, ToastHttp } from '../../server/connectors/toast/http';
import { translate } from '../../server/connectors/toast/translate';
import { signToast, verifyToastDelivery } from '../../server/connectors/toast/verify';
import { ConnectorError, TranslateError, type ChannelFact, type Connector, type PushTarget } from '../../server/connectors/types';
import { DOCS_IN_STOCK, DOCS_LOW_QUANTITY, DOCS_ORDER_UPDATED, DOCS_OUT_OF_STOCK } from './toast/documented';

const CLIENT = 'toast-test-client';
const CLIENT_SECRET = 'toast-test-client-secret-0001';
const ORDERS_SECRET = 'toast-orders-subscription-secret';
const STOCK_SECRET = 'toast-stock-subscription-secret';
const GALLERY = '3325cc58-dc6e-4e21-85f9-7de275ffe820';
const WAREHOUSE = 'e4c1f40d-3247-4b8b-9891-52f445930fa3';
const ELSEWHERE = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';

let emu: ToastEmulator;
let baseUrl: string;

const connector = (over: { settings?: Record<string, unknown>; credentials?: Record<string, string>; locations?: string[]; baseUrl?: string | null } = {}): Connector =>
  createToastConnector({
    channelId: 'toast',
    baseUrl: over.baseUrl === undefined ? baseUrl : over.baseUrl,
    settings: { ...over.settings },
    locations: over.locations ?? [GALLERY, WAREHOUSE],
    credentials: { clientId: CLIENT, clientSecret: CLIENT_SECRET, webhookSecret: `${ORDERS_SECRET} ${STOCK_SECRET}`, ...over.credentials },
  });

const target = (sku: string, locationId: string, level: number, expected: number | null): PushTarget => ({ sku, ref: emu.listing(sku)!, locationId, level, expected, idempotencyKey: `k-${sku}-${level}` });

/** The messages sent since the last call, caught at the emulator's dispatch step. */
const sent: { body: string; headers: Record<string, string> }[] = [];
const take = () => sent.splice(0);

/** Verified, expanded and translated as the hub does it. */
async function read(c: Connector, m: { body: string; headers: Record<string, string> }): Promise<ChannelFact[]> {
  const v = c.verify(Buffer.from(m.body), m.headers);
  if (!v.valid) throw new Error(v.reason);
  const body = JSON.parse(m.body) as unknown;
  return c.translate(v.topic, await c.expand!(v.topic, body), m.headers);
}

/** What would be booked: key → quantity. */
function booked(facts: ChannelFact[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of planFacts(facts, { channelId: 'toast', channelName: 'Toast', resolve: () => ({ sku: 'SKU', location: 'gallery' }) })) {
    if (p.kind === 'command' && p.command.type === 'adjust') out[p.command.key] = p.command.quantity;
  }
  return out;
}

beforeAll(async () => {
  emu = new ToastEmulator({ clientId: CLIENT, clientSecret: CLIENT_SECRET, webhookSecret: ORDERS_SECRET, stockWebhookSecret: STOCK_SECRET, restaurants: [GALLERY, WAREHOUSE], pageSize: 2 });
  baseUrl = await emu.start();
  (emu as unknown as { dispatch: (w: { body: string; headers: Record<string, string> }) => void }).dispatch = (w) => sent.push({ body: w.body, headers: w.headers });
  emu.seed(['TO-1', 'TO-2', 'TO-3'].map((sku) => ({ sku, title: `Print ${sku}`, levels: { [GALLERY]: 10, [WAREHOUSE]: 4 } })));
});
afterAll(() => emu.stop());
beforeEach(() => {
  take();
  emu.faults.api = {};
});

describe('the signature, as "Message signing" computes it', () => {
  const raw = JSON.stringify(DOCS_LOW_QUANTITY);
  // The documented Java recipe: HMAC-SHA256 keyed with the secret's bytes over body + timestamp, printed as base64.
  const sign = (body: string, timestamp: string, secret = STOCK_SECRET) => crypto.createHmac('sha256', secret).update(`${body}${timestamp}`, 'utf8').digest('base64');
  const h = (sig: string, extra: Record<string, string> = {}) => ({ 'toast-signature': sig, 'toast-event-type': 'low_quantity', 'toast-restaurant-external-id': GALLERY, ...extra });
  const v = (body: string, headers: Record<string, string>, opts: { secret?: string; restaurants?: string[] } = {}) =>
    verifyToastDelivery(Buffer.from(body), headers, { secret: opts.secret ?? `${ORDERS_SECRET} ${STOCK_SECRET}`, restaurants: opts.restaurants ?? [GALLERY] });

  test('base64 HMAC-SHA256 of the body followed by the message timestamp: the documented payload verifies, with its guid and event type', () => {
    expect(signToast(raw, DOCS_LOW_QUANTITY.timestamp, STOCK_SECRET)).toBe(sign(raw, DOCS_LOW_QUANTITY.timestamp));
    expect(v(raw, h(sign(raw, DOCS_LOW_QUANTITY.timestamp)))).toEqual({ valid: true, eventId: DOCS_LOW_QUANTITY.guid, topic: 'low_quantity', occurredAt: '2023-02-01T14:01:12.000Z' });
    // Each subscription's secret works: the orders one too.
    expect(v(raw, h(sign(raw, DOCS_LOW_QUANTITY.timestamp, ORDERS_SECRET)))).toMatchObject({ valid: true });
  });

  test('refused as signature failures, each with its reason: tampered, another key, the body alone, hex instead of base64, missing, no secret', () => {
    const good = sign(raw, DOCS_LOW_QUANTITY.timestamp);
    expect(v(raw.replace('"quantity":5', '"quantity":50'), h(good))).toMatchObject({ valid: false, refusal: 'signature' });
    expect(v(raw, h(sign(raw, DOCS_LOW_QUANTITY.timestamp, 'another-secret')))).toMatchObject({ valid: false, refusal: 'signature' });
    expect(v(raw, h(crypto.createHmac('sha256', STOCK_SECRET).update(raw).digest('base64')))).toMatchObject({ valid: false, refusal: 'signature' });
    expect(v(raw, h(crypto.createHmac('sha256', STOCK_SECRET).update(`${raw}${DOCS_LOW_QUANTITY.timestamp}`).digest('hex')))).toMatchObject({ valid: false, refusal: 'signature' });
    expect(v(raw, { 'toast-event-type': 'low_quantity' })).toMatchObject({ valid: false, refusal: 'signature', reason: 'No Toast-Signature header.' });
    expect(v(raw, h(good), { secret: '' })).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/no webhookSecret/) });
  });

  test('another restaurant, a restaurant header that disagrees, and a channel with no restaurant are refused as account failures', () => {
    const good = sign(raw, DOCS_LOW_QUANTITY.timestamp);
    expect(v(raw, h(good), { restaurants: [WAREHOUSE] })).toMatchObject({ valid: false, refusal: 'account', reason: expect.stringContaining(GALLERY) });
    expect(v(raw, h(good, { 'toast-restaurant-external-id': WAREHOUSE }), { restaurants: [GALLERY, WAREHOUSE] })).toMatchObject({ valid: false, refusal: 'account' });
    expect(v(raw, h(good), { restaurants: [] })).toMatchObject({ valid: false, refusal: 'account' });
    const none = JSON.stringify({ ...DOCS_LOW_QUANTITY, details: { ...DOCS_LOW_QUANTITY.details, restaurantGuid: undefined } });
    expect(v(none, h(sign(none, DOCS_LOW_QUANTITY.timestamp)))).toMatchObject({ valid: false, refusal: 'account' });
  });

  test('a Toast-Event-Type header that disagrees with the signed eventType is refused as a topic failure; none at all is believed from the body', () => {
    const good = sign(raw, DOCS_LOW_QUANTITY.timestamp);
    expect(v(raw, h(good, { 'toast-event-type': 'in_stock' }))).toMatchObject({ valid: false, refusal: 'topic' });
    const { 'toast-event-type': _t, ...bare } = h(good);
    expect(v(raw, bare)).toMatchObject({ valid: true, topic: 'low_quantity' });
  });

  test('replayed: the same message again verifies to the same event id, which the inbox keeps once', () => {
    const good = h(sign(raw, DOCS_LOW_QUANTITY.timestamp));
    const first = v(raw, good);
    expect(v(raw, { ...good, 'toast-attempt-number': '2' })).toEqual(first);
  });

  test('malformed: not JSON, no timestamp, no guid, no event type; never throws', () => {
    expect(v('not json', h('x'))).toMatchObject({ valid: false, refusal: 'signature' });
    const noTs = JSON.stringify({ ...DOCS_LOW_QUANTITY, timestamp: undefined });
    expect(v(noTs, h('x'))).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/no timestamp/) });
    const noGuid = JSON.stringify({ ...DOCS_LOW_QUANTITY, guid: '' });
    expect(v(noGuid, h(sign(noGuid, DOCS_LOW_QUANTITY.timestamp)))).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/no guid/) });
    const noType = JSON.stringify({ ...DOCS_LOW_QUANTITY, eventType: undefined });
    expect(v(noType, h(sign(noType, DOCS_LOW_QUANTITY.timestamp)))).toMatchObject({ valid: false, refusal: 'topic' });
    expect(verifyToastDelivery(Buffer.from([0xff, 0x00]), { 'toast-signature': ['a', 'b'] }, { secret: STOCK_SECRET, restaurants: [GALLERY] }).valid).toBe(false);
  });
});

describe('the documented stock payloads', () => {
  test('low_quantity is the level it names, out_of_stock is 0, in_stock without a count is nothing, at the restaurant, for the multiLocationId', () => {
    expect(translate('low_quantity', DOCS_LOW_QUANTITY, 'USD')).toEqual([
      { type: 'level_observed', sku: null, ref: { productId: '100000000171241912', variantId: '100000000171241912' }, locationId: '3325cc58-dc6e-4e21-85f9-7de275ffe820', available: 5, occurredAt: '2023-02-01T14:01:12.000Z' },
    ]);
    expect(translate('out_of_stock', DOCS_OUT_OF_STOCK, 'USD')).toMatchObject([{ type: 'level_observed', available: 0 }]);
    expect(translate('in_stock', DOCS_IN_STOCK, 'USD')).toEqual([]);
  });

  test('a fractional count (half a cake) is read down to whole units; a QUANTITY without a quantity and a body without details are refused', () => {
    const half = { ...DOCS_LOW_QUANTITY, details: { ...DOCS_LOW_QUANTITY.details, quantity: 2.5 } };
    expect(translate('low_quantity', half, 'USD')).toMatchObject([{ available: 2 }]);
    expect(() => translate('low_quantity', { ...DOCS_LOW_QUANTITY, details: { ...DOCS_LOW_QUANTITY.details, quantity: undefined } }, 'USD')).toThrow(TranslateError);
    expect(() => translate('in_stock', { eventType: 'in_stock' }, 'USD')).toThrow(TranslateError);
  });

  test('an order names its items by guid only: unexpanded it cannot be read', () => {
    expect(() => translate('order_updated', DOCS_ORDER_UPDATED, 'USD')).toThrow(/must be read/);
  });
});

describe('orders at the counter', () => {
  test('a sale is booked once at its restaurant, names the listing by multiLocationId, and reports the level it left', async () => {
    const c = connector();
    const { orderId } = await emu.sell({ sku: 'TO-1', quantity: 2, locationId: GALLERY });
    const [m] = take();
    const facts = await read(c, m!);
    const sale = facts.find((f) => f.type === 'sale');
    const sel = emu.order(orderId)!.selections[0]!;
    expect(sale).toMatchObject({ type: 'sale', orderId, lines: [{ lineId: sel.guid, quantity: 2, locationId: GALLERY, ref: emu.listing('TO-1') }] });
    expect(sale?.type === 'sale' && sale.order).toMatchObject({ currency: 'USD', total: 5000, paymentStatus: 'paid' });
    expect(facts.filter((f) => f.type === 'level_observed')).toMatchObject([{ available: 8, locationId: GALLERY, ref: emu.listing('TO-1') }]);
    expect(booked(facts)).toEqual({ [`sale:toast:${orderId}:${sel.guid}`]: -2 });
    // The same message again (a retry): the same facts, the same keys.
    expect(await read(c, m!)).toEqual(facts);
  });

  test('a void gives the count back: the order carries the sale and a cancellation with restock, booked once each; a refund of money puts nothing back', async () => {
    const c = connector();
    const { orderId } = await emu.sell({ sku: 'TO-2', quantity: 1, locationId: GALLERY });
    const sel = emu.order(orderId)!.selections[0]!.guid;
    take();
    await emu.refund({ orderId, restock: true });
    expect(emu.level('TO-2', GALLERY)).toBe(10);
    const voided = await read(c, take().find((m) => m.body.includes('order_updated'))!);
    expect(booked(voided)).toEqual({ [`sale:toast:${orderId}:${sel}`]: -1, [`cancel:toast:${orderId}:${sel}`]: 1 });

    const second = await emu.sell({ sku: 'TO-2', quantity: 2, locationId: GALLERY });
    take();
    const { refundId } = await emu.refund({ orderId: second.orderId, restock: false, quantity: 1 });
    expect(emu.level('TO-2', GALLERY)).toBe(8);
    const refunded = await read(c, take().find((m) => m.body.includes('order_updated'))!);
    const refund = refunded.find((f) => f.type === 'refund');
    expect(refund).toMatchObject({ type: 'refund', refundId, lines: [{ quantity: 1, restock: false }], money: { currency: 'USD', amount: 2500 } });
    // Only the sale is booked: the refund of money moves no stock.
    expect(Object.keys(booked(refunded))).toEqual([`sale:toast:${second.orderId}:${emu.order(second.orderId)!.selections[0]!.guid}`]);
  });

  test('a voided order gives every count back; a count typed by the manager is a reported level, not a booking', async () => {
    const c = connector();
    const { orderId } = await emu.sell({ sku: 'TO-3', quantity: 3, locationId: WAREHOUSE });
    expect(emu.level('TO-3', WAREHOUSE)).toBe(1);
    take();
    await emu.voidOrder(orderId);
    const facts = await read(c, take().find((m) => m.body.includes('order_updated'))!);
    expect(facts.find((f) => f.type === 'cancellation')).toMatchObject({ lines: [{ quantity: 3, restock: true, locationId: WAREHOUSE }] });
    expect(emu.level('TO-3', WAREHOUSE)).toBe(4);

    await emu.setLevel({ sku: 'TO-3', locationId: WAREHOUSE, available: 9 });
    const [count] = take();
    expect(count!.headers['toast-event-type']).toBe('in_stock');
    const observed = await read(c, count!);
    expect(observed).toMatchObject([{ type: 'level_observed', available: 9, locationId: WAREHOUSE }]);
    expect(booked(observed)).toEqual({});
  });
});

describe('stock at two restaurants', () => {
  test('a push writes each restaurant in its own request, naming it, with QUANTITY or OUT_OF_STOCK at 0; both read back', async () => {
    const before = emu.requests.length;
    const out = await connector().push([target('TO-1', GALLERY, 0, null), target('TO-1', WAREHOUSE, 7, null)]);
    expect(out).toEqual([
      { sku: 'TO-1', locationId: GALLERY, status: 'applied', level: 0 },
      { sku: 'TO-1', locationId: WAREHOUSE, status: 'applied', level: 7 },
    ]);
    const writes = emu.requests.slice(before).filter((r) => r.method === 'PUT');
    expect(writes.map((w) => w.body)).toEqual([[{ multiLocationId: emu.listing('TO-1')!.variantId, status: 'OUT_OF_STOCK' }], [{ multiLocationId: emu.listing('TO-1')!.variantId, status: 'QUANTITY', quantity: 7 }]]);
    expect(emu.stock('TO-1', GALLERY)).toMatchObject({ status: 'OUT_OF_STOCK', quantity: null });
    expect((await connector().read([{ sku: 'TO-1', ref: emu.listing('TO-1')!, locationId: WAREHOUSE }])).map((r) => r.available)).toEqual([7]);
  });

  test('an item Toast keeps no count of (In Stock) is neither read nor written: the push fails with what to do, and nothing changes', async () => {
    await emu.markInStock('TO-2', WAREHOUSE);
    take();
    const before = emu.requests.filter((r) => r.method === 'PUT').length;
    const [out] = await connector().push([target('TO-2', WAREHOUSE, 5, null)]);
    expect(out).toMatchObject({ status: 'failed', message: expect.stringMatching(/set a quantity for it once in Toast/) });
    expect(emu.requests.filter((r) => r.method === 'PUT').length).toBe(before);
    expect(emu.stock('TO-2', WAREHOUSE)).toMatchObject({ status: 'IN_STOCK', quantity: null });
    expect(await connector().read([{ sku: 'TO-2', ref: emu.listing('TO-2')!, locationId: WAREHOUSE }])).toEqual([]);
  });

  test('catalog discovery lists an item shared by both restaurants once, by multiLocationId', async () => {
    const listings = await connector().listCatalog();
    expect(listings.filter((l) => l.sku === 'TO-1')).toEqual([{ sku: 'TO-1', title: 'Print TO-1', ref: emu.listing('TO-1') }]);
  });
});

describe('the login', () => {
  test('one login serves many requests; a token Toast stops taking is dropped and the next request logs in again', async () => {
    const c = connector();
    const logins = () => emu.requests.filter((r) => r.path === '/authentication/v1/authentication/login').length;
    const before = logins();
    await c.read([{ sku: 'TO-1', ref: emu.listing('TO-1')!, locationId: GALLERY }]);
    await c.read([{ sku: 'TO-1', ref: emu.listing('TO-1')!, locationId: WAREHOUSE }]);
    expect(logins() - before).toBe(1);
    expect(emu.requests.filter((r) => r.path === '/authentication/v1/authentication/login').at(-1)!.body).toEqual({ clientId: CLIENT, clientSecret: CLIENT_SECRET, userAccessType: 'TOAST_MACHINE_CLIENT' });
    emu.revokeTokens();
    const err = await c.read([{ sku: 'TO-1', ref: emu.listing('TO-1')!, locationId: GALLERY }]).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 401, channelFault: true, retryable: false });
    await c.read([{ sku: 'TO-1', ref: emu.listing('TO-1')!, locationId: GALLERY }]);
    expect(logins() - before).toBe(2);
  });

  test('a caller that gives up while the shared login is under way fails no other caller', async () => {
    let logins = 0;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const fake: typeof fetch = async (input, init) => {
      if (new URL(String(input)).pathname === LOGIN_PATH) {
        logins++;
        // The login answers once released, or fails when its request is aborted.
        await new Promise<void>((resolve, reject) => {
          void released.then(resolve);
          init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error));
        });
        return new Response(JSON.stringify({ token: { accessToken: 'shared-token', expiresIn: 3600 }, status: 'SUCCESS' }), { status: 200 });
      }
      return new Response(JSON.stringify({ auth: (init?.headers as Record<string, string>).authorization }), { status: 200 });
    };
    const http = new ToastHttp({ baseUrl: 'https://toast.test', clientId: CLIENT, clientSecret: CLIENT_SECRET, timeoutMs: 10_000, fetch: fake, clock: () => Date.now() });
    const call = { method: 'GET' as const, path: '/stock/v1/inventory', restaurant: GALLERY, what: 'read the stock' };
    const first = new AbortController();
    const a = http.send(call, first.signal);
    const b = http.send(call);
    await new Promise((r) => setImmediate(r));
    expect(logins).toBe(1);
    first.abort(new Error('the first caller gave up'));
    await expect(a).rejects.toThrow('the first caller gave up');
    release();
    await expect(b).resolves.toMatchObject({ status: 200, data: { auth: 'Bearer shared-token' } });
    expect(logins).toBe(1);
  });

  test('a wrong client secret is a fault of the channel that says which credentials to check, and never shows the secret', async () => {
    const err = await connector({ credentials: { clientSecret: 'not-the-secret-at-all' } }).read([{ sku: 'TO-1', ref: emu.listing('TO-1')!, locationId: GALLERY }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ status: 401, channelFault: true, message: expect.stringMatching(/clientId and clientSecret/) });
    expect((err as Error).message).not.toContain('not-the-secret-at-all');
  });
});

describe('settings', () => {
  test('no baseUrl (Toast issues hostnames privately), no client credentials, or a bad timeout: a clear error, and no request', () => {
    const before = emu.requests.length;
    expect(() => connector({ baseUrl: null })).toThrow(/needs its baseUrl: the API hostname Toast issued to you/);
    expect(() => connector({ credentials: { clientSecret: '' } })).toThrow(/clientId and clientSecret/);
    expect(() => connector({ settings: { timeoutMs: 'soon' } })).toThrow(/timeoutMs/);
    expect(emu.requests.length).toBe(before);
  });

  test('a channel with no restaurant refuses discovery with what to configure, and every message as another account’s', async () => {
    const c = connector({ locations: [] });
    await expect(c.listCatalog()).rejects.toThrow(/maps no restaurant/);
    await emu.setLevel({ sku: 'TO-1', locationId: GALLERY, available: 6 });
    const [m] = take();
    expect(c.verify(Buffer.from(m!.body), m!.headers)).toMatchObject({ valid: false, refusal: 'account' });
    // Kept: the restaurants named by the restaurantGuids setting count too.
    expect(connector({ locations: [], settings: { restaurantGuids: `${ELSEWHERE}, ${GALLERY}` } }).verify(Buffer.from(m!.body), m!.headers)).toMatchObject({ valid: true });
  });
});

describe('the orders feed', () => {
  test('starts from now; then each order modified since shows once per modification, expanded and translated like the webhook', async () => {
    const c = connector();
    const start = await c.poll!('orders', null);
    expect(start.events).toEqual([]);
    const { orderId } = await emu.sell({ sku: 'TO-1', quantity: 1, locationId: WAREHOUSE });
    const next = await c.poll!('orders', start.cursor);
    const mine = next.events.filter((e) => e.eventId.startsWith(`order-${orderId}@`));
    expect(mine).toHaveLength(1);
    const facts = c.translate(mine[0]!.topic, await c.expand!(mine[0]!.topic, mine[0]!.body), {});
    expect(facts.find((f) => f.type === 'sale')).toMatchObject({ orderId, lines: [{ quantity: 1, locationId: WAREHOUSE }] });
    await expect(c.poll!('orders', 'not a cursor')).rejects.toThrow(/not one this connector wrote/);
  });
});

describe('the emulator’s rate limits', () => {
  test('more than 20 requests in a second are answered 429 with Retry-After; /ordersBulk allows 5 a second per restaurant', async () => {
    let now = 1_000_000;
    const limited = new ToastEmulator({ clientId: CLIENT, clientSecret: CLIENT_SECRET, webhookSecret: ORDERS_SECRET, restaurants: [GALLERY, WAREHOUSE], rateLimit: true, clock: () => now });
    const url = await limited.start();
    try {
      limited.seed([{ sku: 'RL-1', title: 'RL', levels: { [GALLERY]: 3 } }]);
      const c = createToastConnector({ channelId: 't', baseUrl: url, settings: {}, locations: [GALLERY, WAREHOUSE], credentials: { clientId: CLIENT, clientSecret: CLIENT_SECRET, webhookSecret: ORDERS_SECRET } });
      const item = { sku: 'RL-1', ref: limited.listing('RL-1')!, locationId: GALLERY };
      for (let i = 0; i < 19; i++) await c.read([item]); // the login and 19 reads: 20
      const err = await c.read([item]).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 429, retryable: true, retryAfterMs: 1000 });
      now += 1000;
      expect(limited.rateLimited).toHaveLength(1);
      // Each poll reads both restaurants: one /ordersBulk request each. Five a second are taken, the sixth refused.
      const cursor = (await c.poll!('orders', null)).cursor;
      for (let i = 0; i < 4; i++) await c.poll!('orders', cursor);
      const more = await c.poll!('orders', cursor).catch((e: unknown) => e);
      expect(more).toMatchObject({ status: 429, retryable: true });
      expect(limited.rateLimited).toHaveLength(2);
    } finally {
      await limited.stop();
    }
  });
});
