/**
 * What is Squarespace's own (the conformance suite, squarespace.conformance.test.ts, checks the
 * rest): the signature recipe of "Verifying notifications" on the documented payloads, the
 * notifications refused at the verify step, orders translated (sales, cancellations, refunds that
 * book nothing), the connector's settings and requests (User-Agent, Idempotency-Key), answers the
 * connector cannot read, unlimited stock, a decrement below zero, the emulator's rate limit with its
 * cool-down, and the two polled feeds.
 */
import { checkPollResult, MAX_CURSOR_LENGTH } from '../../server/channels/poll-page';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { createSquarespaceConnector } from '../../server/connectors/squarespace';
import { idempotencyKey } from '../../server/connectors/squarespace/client';
import { SQUARESPACE_LIMIT, SquarespaceEmulator } from '../../server/connectors/squarespace/emulator';
import { translate } from '../../server/connectors/squarespace/translate';
import { signSquarespace, verifySquarespaceDelivery } from '../../server/connectors/squarespace/verify';
import { ConnectorError, TranslateError, type Connector, type PolledEvent, type PushTarget } from '../../server/connectors/types';
import { DOCS_ORDER_CREATE, DOCS_ORDER_UPDATE, DOCS_WEBSITE_ID } from './squarespace/documented';

const KEY = 'sqsp-test-api-key-0001';
const SECRET = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const SITE = DOCS_WEBSITE_ID;

let emu: SquarespaceEmulator;
let baseUrl: string;

const connector = (over: { settings?: Record<string, unknown>; credentials?: Record<string, string>; fetch?: typeof fetch } = {}): Connector =>
  createSquarespaceConnector({ channelId: 'sqsp', baseUrl, settings: { websiteId: SITE, ...over.settings }, credentials: { apiKey: KEY, webhookSecret: SECRET, ...over.credentials }, ...(over.fetch ? { fetch: over.fetch } : {}) });

const target = (sku: string, level: number, expected: number | null, key = `k-${sku}-${level}-${expected}`): PushTarget => ({ sku, ref: emu.listing(sku)!, locationId: 'default', level, expected, idempotencyKey: key });

beforeAll(async () => {
  emu = new SquarespaceEmulator({ apiKey: KEY, webhookSecret: SECRET, websiteId: SITE, pageSize: 2 });
  baseUrl = await emu.start();
  emu.seed(['SQ-1', 'SQ-2', 'SQ-3'].map((sku) => ({ sku, title: `Print ${sku}`, levels: { default: 10 } })));
});
afterAll(() => emu.stop());

describe('the signature, as "Verifying notifications" computes it', () => {
  const raw = JSON.stringify(DOCS_ORDER_CREATE);
  const sign = (body: string, secret = SECRET) => crypto.createHmac('sha256', Buffer.from(secret, 'hex')).update(body).digest('hex');
  const headers = (sig: string) => ({ 'squarespace-signature': sig });

  test('hex HMAC-SHA256 of the raw body keyed with the hex-decoded secret: the documented Node example and the documented OpenSSL command agree', () => {
    const openssl = execFileSync('openssl', ['sha256', '-mac', 'hmac', '-macopt', `hexkey:${SECRET}`], { input: raw }).toString('utf8').trim().split(/\s+/).pop();
    expect(signSquarespace(raw, SECRET)).toBe(sign(raw));
    expect(openssl).toBe(sign(raw));
    expect(verifySquarespaceDelivery(Buffer.from(raw), headers(sign(raw)), { secret: SECRET, websiteId: SITE })).toEqual({ valid: true, eventId: DOCS_ORDER_CREATE.id, topic: 'order.create', occurredAt: DOCS_ORDER_CREATE.createdOn });
  });

  test('refused, each with its reason: tampered, another secret, the secret used as text, base64 instead of hex, no signature', () => {
    const v = (body: string, h: Record<string, string>, secret = SECRET) => verifySquarespaceDelivery(Buffer.from(body), h, { secret, websiteId: SITE });
    expect(v(raw.replace('5f3c39ce', '5f3c39cf'), headers(sign(raw)))).toMatchObject({ valid: false, refusal: 'signature' });
    expect(v(raw, headers(sign(raw, 'ff'.repeat(32))))).toMatchObject({ valid: false, refusal: 'signature' });
    expect(v(raw, headers(crypto.createHmac('sha256', SECRET).update(raw).digest('hex')))).toMatchObject({ valid: false, refusal: 'signature' });
    expect(v(raw, headers(crypto.createHmac('sha256', Buffer.from(SECRET, 'hex')).update(raw).digest('base64')))).toMatchObject({ valid: false, refusal: 'signature' });
    expect(v(raw, {})).toMatchObject({ valid: false, refusal: 'signature', reason: 'No Squarespace-Signature header.' });
    expect(v(raw, headers(sign(raw)), '')).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/no webhookSecret/) });
  });

  test('signed, but for another site, or naming none, or without an id, or not JSON: refused', () => {
    const signed = (body: unknown) => {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      return verifySquarespaceDelivery(Buffer.from(text), headers(sign(text)), { secret: SECRET, websiteId: SITE });
    };
    expect(signed({ ...DOCS_ORDER_CREATE, websiteId: '60aa0000000000000000beef' })).toMatchObject({ valid: false, refusal: 'account', reason: expect.stringMatching(/site 60aa0000000000000000beef, not this channel's site 5f3c3d55ac435e1a051f77b3/) });
    const { websiteId: _w, ...noSite } = DOCS_ORDER_CREATE;
    expect(signed(noSite)).toMatchObject({ valid: false, refusal: 'account' });
    const { id: _i, ...noId } = DOCS_ORDER_CREATE;
    expect(signed(noId)).toMatchObject({ valid: false, reason: expect.stringMatching(/no id/) });
    expect(signed('{"id":')).toMatchObject({ valid: false, reason: expect.stringMatching(/not JSON/) });
    expect(signed('[1,2]')).toMatchObject({ valid: false });
    // A channel without its site id cannot check any notification.
    expect(verifySquarespaceDelivery(Buffer.from(raw), headers(sign(raw)), { secret: SECRET, websiteId: null })).toMatchObject({ valid: false, refusal: 'account' });
  });

  test('the emulator signs its notifications the same way, with Squarespace\'s User-Agent', () => {
    const n = emu.notification('order.update', { orderId: 'x', update: 'FULFILLED' });
    expect(n.headers['squarespace-signature']).toBe(sign(n.body));
    expect(n.headers['user-agent']).toBe('Squarespace/1.0');
    expect(connector().verify(Buffer.from(n.body), n.headers)).toMatchObject({ valid: true, topic: 'order.update' });
  });
});

describe('orders, in the hub\'s facts', () => {
  const expanded = async (topic: 'order.create' | 'order.update', orderId: string) => {
    const c = connector();
    return c.translate(topic, await c.expand!(topic, { ...DOCS_ORDER_UPDATE, topic, data: { orderId } }), {});
  };

  test('a sale: its line with the variant, product and SKU, the order\'s money and states', async () => {
    const { orderId } = await emu.sell({ sku: 'SQ-1', quantity: 2 });
    const facts = await expanded('order.create', orderId);
    expect(facts).toHaveLength(1);
    const sale = facts[0]!;
    expect(sale).toMatchObject({ type: 'sale', orderId, lines: [{ sku: 'SQ-1', quantity: 2, locationId: null, ref: emu.listing('SQ-1') }] });
    expect(sale.type === 'sale' && sale.order).toMatchObject({ currency: 'AUD', total: 5000, subtotal: 5000, paymentStatus: 'paid', fulfilmentStatus: 'unfulfilled', number: expect.stringMatching(/^#\d+$/), contact: { name: 'Ada Buyer', email: 'buyer@example.com' } });
    await emu.setLevel({ sku: 'SQ-1', available: 10 });
  });

  test('a refund books nothing (the Orders API says neither which lines nor whether goods went back): the same sale, the payment status moved', async () => {
    const { orderId } = await emu.sell({ sku: 'SQ-1', quantity: 2 });
    await emu.refund({ orderId, restock: false, quantity: 1 });
    const partly = await expanded('order.update', orderId);
    expect(partly.map((f) => f.type)).toEqual(['sale']);
    expect(partly[0]!.type === 'sale' && partly[0]!.order?.paymentStatus).toBe('partially_refunded');
    await emu.refund({ orderId, restock: false, quantity: 1 });
    const whole = await expanded('order.update', orderId);
    expect(whole[0]!.type === 'sale' && whole[0]!.order?.paymentStatus).toBe('refunded');
    // The same booking key as the sale first seen: booked once.
    expect(whole[0]!.type === 'sale' && whole[0]!.lines[0]!.lineId).toBe(partly[0]!.type === 'sale' && partly[0]!.lines[0]!.lineId);
    await emu.setLevel({ sku: 'SQ-1', available: 10 });
  });

  test('a cancellation: the sale, and a cancellation not restocked (whether "Restock inventory" was ticked is not in the API)', async () => {
    const { orderId } = await emu.sell({ sku: 'SQ-2', quantity: 3 });
    await emu.cancel(orderId, true);
    const facts = await expanded('order.update', orderId);
    expect(facts.map((f) => f.type)).toEqual(['sale', 'cancellation']);
    expect(facts[1]).toMatchObject({ type: 'cancellation', orderId, lines: [{ sku: 'SQ-2', quantity: 3, restock: false }] });
    expect(facts[1]!.type === 'cancellation' && facts[1]!.order?.fulfilmentStatus).toBe('cancelled');
    // The units did come back on Squarespace: the inventory feed reports it (below).
    expect(emu.level('SQ-2', 'default')).toBe(10);
  });

  test('what cannot be read is an error, never a sale of nothing', () => {
    expect(() => translate('order.create', DOCS_ORDER_CREATE)).toThrow(TranslateError);
    expect(() => translate('order.update', { order: { id: 'o1', modifiedOn: '2026-01-01T00:00:00Z' } })).toThrow(/no lineItems/);
    expect(() => translate('order.update', { order: { id: 'o1', modifiedOn: '2026-01-01T00:00:00Z', lineItems: [{ id: 'l1', sku: 'A', quantity: 'two' }] } })).toThrow(/no whole quantity/);
    expect(() => translate('order.update', { order: { id: 'o1', lineItems: [] } })).toThrow(/no modifiedOn/);
    // A line of something that holds no stock (no variant, no SKU) is left out; unreadable money drops the details only.
    const facts = translate('order.update', { order: { id: 'o1', createdOn: '2026-01-01T00:00:00Z', modifiedOn: '2026-01-01T00:00:00Z', lineItems: [{ id: 'l1', quantity: 1 }, { id: 'l2', sku: 'NOT-OURS', quantity: 1 }], grandTotal: { currency: 'AUD', value: 'lots' } } });
    expect(facts).toEqual([{ type: 'sale', orderId: 'o1', occurredAt: '2026-01-01T00:00:00Z', lines: [{ lineId: 'l2', sku: 'NOT-OURS', ref: {}, quantity: 1, locationId: null }] }]);
    expect(translate('extension.uninstall', {})).toEqual([]);
  });
});

describe('the connector\'s requests and what it cannot read', () => {
  test('settings it cannot use are refused at start, naming them', () => {
    expect(() => connector({ credentials: { apiKey: '' } })).toThrow(/credential apiKey/);
    expect(() => connector({ settings: { userAgent: '  ' } })).toThrow(/userAgent/);
    expect(() => connector({ settings: { timeoutMs: 5 } })).toThrow(/timeoutMs/);
  });

  test('every request carries the bearer key and a User-Agent; Squarespace (the emulator) refuses one without', async () => {
    const seen: Headers[] = [];
    const spy: typeof fetch = async (input, init) => {
      seen.push(new Headers(init?.headers));
      return fetch(input, init);
    };
    await connector({ fetch: spy }).read([{ sku: 'SQ-3', ref: emu.listing('SQ-3')!, locationId: 'default' }]);
    expect(seen[0]!.get('authorization')).toBe(`Bearer ${KEY}`);
    expect(seen[0]!.get('user-agent')).toMatch(/^stockrelay/);
    const bare = await fetch(`${baseUrl}/1.0/commerce/inventory`, { headers: { authorization: `Bearer ${KEY}`, 'user-agent': '' } });
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ type: 'INVALID_REQUEST_ERROR', message: expect.stringMatching(/User-Agent/) });
  });

  test('the Idempotency-Key is what Squarespace accepts, the same for the same operations, another for others', () => {
    const a = idempotencyKey(['hub-key-1:set:4']);
    expect(a).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(idempotencyKey(['hub-key-1:set:4'])).toBe(a);
    expect(idempotencyKey(['hub-key-1:set:5'])).not.toBe(a);
  });

  test('an answer the connector cannot read is a clear error of the channel, never a level', async () => {
    const lying: typeof fetch = async () => new Response(JSON.stringify({ inventory: [{ variantId: emu.listing('SQ-3')!.variantId, quantity: 'many' }] }), { status: 200 });
    const err = await connector({ fetch: lying }).read([{ sku: 'SQ-3', ref: emu.listing('SQ-3')!, locationId: 'default' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).message).toMatch(/cannot read.*Nothing was taken from it/);
    expect((err as ConnectorError).channelFault).toBe(true);
    const html: typeof fetch = async () => new Response('<html>maintenance</html>', { status: 200 });
    await expect(connector({ fetch: html }).listCatalog()).rejects.toThrow(/without JSON/);
  });

  test('an unlimited variant is neither read nor written; a decrement below zero is answered with the level Squarespace shows', async () => {
    emu.setUnlimited('SQ-3', true);
    const c = connector();
    expect(await c.read([{ sku: 'SQ-3', ref: emu.listing('SQ-3')!, locationId: 'default' }])).toEqual([]);
    expect(await c.push([target('SQ-3', 4, null)])).toEqual([{ sku: 'SQ-3', locationId: 'default', status: 'failed', message: expect.stringMatching(/unlimited stock/) }]);
    emu.setUnlimited('SQ-3', false);
    await emu.setLevel({ sku: 'SQ-3', available: 2 });
    // The hub thinks 10 and wants 3: a decrement of 7 from 2. Refused by Squarespace, answered stale with 2.
    expect(await c.push([target('SQ-3', 3, 10), target('SQ-2', 11, 10)])).toEqual([
      { sku: 'SQ-3', locationId: 'default', status: 'stale', observed: 2 },
      { sku: 'SQ-2', locationId: 'default', status: 'applied', level: 11 },
    ]);
    expect([emu.level('SQ-3', 'default'), emu.level('SQ-2', 'default')]).toEqual([2, 11]);
    expect(await c.push([{ ...target('SQ-2', 5, 11), locationId: 'gallery' }])).toEqual([{ sku: 'SQ-2', locationId: 'gallery', status: 'failed', message: expect.stringMatching(/"default"/) }]);
    await emu.setLevel({ sku: 'SQ-2', available: 10 });
    await emu.setLevel({ sku: 'SQ-3', available: 10 });
  });
});

describe('the emulator\'s rate limit', () => {
  test('300 requests a minute; the next is refused, and so is every one for a minute after it', async () => {
    let now = 1_000_000;
    const limited = new SquarespaceEmulator({ apiKey: KEY, webhookSecret: SECRET, websiteId: SITE, rateLimit: SQUARESPACE_LIMIT, clock: () => now });
    const url = await limited.start();
    try {
      const get = () => fetch(`${url}/1.0/commerce/inventory`, { headers: { authorization: `Bearer ${KEY}`, 'user-agent': 'test' } }).then((r) => r.status);
      for (let i = 0; i < 300; i++) expect(await get()).toBe(200);
      expect(await get()).toBe(429);
      now += 59_000;
      expect(await get()).toBe(429);
      now += 1_001;
      expect(await get()).toBe(200);
      // The connector's reading of a 429 without Retry-After: the one-minute cool-down.
      now = limited.rateLimited[0]!.at;
      const c = createSquarespaceConnector({ channelId: 'x', baseUrl: url, settings: { websiteId: SITE }, credentials: { apiKey: KEY, webhookSecret: SECRET } });
      const refused = await c.listCatalog().catch((e: unknown) => e);
      expect(refused).toMatchObject({ status: 429, retryable: true, retryAfterMs: 60_000 });
    } finally {
      await limited.stop();
    }
  });
});

describe('the polled feeds', () => {
  test('orders: the first poll emits nothing already there; a new order, its change and a re-read keep one id per version', async () => {
    const c = connector();
    const before = await emu.sell({ sku: 'SQ-1', quantity: 1 });
    const start = await c.poll!('orders', null);
    expect(start.events).toEqual([]);
    const { orderId } = await emu.sell({ sku: 'SQ-1', quantity: 1 });
    const one = await c.poll!('orders', start.cursor);
    expect(one.events.map((e) => e.eventId)).toEqual([`order-${orderId}@${emu.order(orderId)!.modifiedOn}`]);
    expect(one.events[0]!.topic).toBe('order.update');
    expect(translate(one.events[0]!.topic, one.events[0]!.body)[0]).toMatchObject({ type: 'sale', orderId });
    // Read again from the same cursor: the same ids (the inbox drops them).
    expect((await c.poll!('orders', start.cursor)).events.map((e) => e.eventId)).toEqual(one.events.map((e) => e.eventId));
    await emu.fulfill(orderId);
    const two = await c.poll!('orders', one.cursor);
    expect(two.events.map((e) => e.eventId)).toContain(`order-${orderId}@${emu.order(orderId)!.modifiedOn}`);
    expect(JSON.stringify(two.events)).not.toContain(before.orderId);
    await expect(c.poll!('orders', 'not a cursor')).rejects.toThrow(/not one this connector wrote/);
    await emu.setLevel({ sku: 'SQ-1', available: 10 });
  });

  test('inventory of 300 variants: the position it keeps (one level a variant, over 4,000 characters, which the hub refused before migration 0022) is one the hub keeps whole', async () => {
    emu.seed(Array.from({ length: 300 }, (_, i) => ({ sku: `SQ-MANY-${i}`, title: `Print ${i}`, levels: { default: i % 7 } })));
    const c = connector();
    let cursor: string | null = null;
    for (let sweeps = 0; sweeps < 2; ) {
      const r = checkPollResult(await c.poll!('inventory', cursor), cursor, 'Squarespace inventory');
      cursor = r.cursor;
      if (!r.more) sweeps++;
    }
    expect(cursor!.length).toBeGreaterThan(4000);
    expect(cursor!.length).toBeLessThan(MAX_CURSOR_LENGTH);
    await emu.setLevel({ sku: 'SQ-MANY-299', available: 40 });
    const events: PolledEvent[] = [];
    for (;;) {
      const r = checkPollResult(await c.poll!('inventory', cursor), cursor, 'Squarespace inventory');
      events.push(...r.events);
      cursor = r.cursor;
      if (!r.more) break;
    }
    expect(events.flatMap((e) => c.translate(e.topic, e.body, {})).map((f) => (f.type === 'level_observed' ? [f.sku, f.available] : f.type))).toEqual([['SQ-MANY-299', 40]]);
  });

  test('inventory: a page a call; a changed level is reported, the same level again in a later sweep is reported again, a new variant is remembered only', async () => {
    const c = connector();
    /** Polls from `from` to the end of a sweep. */
    const sweep = async (from: string | null) => {
      let cursor = from;
      const events: PolledEvent[] = [];
      let calls = 0;
      for (;;) {
        const r = await c.poll!('inventory', cursor);
        calls++;
        events.push(...r.events);
        cursor = r.cursor;
        if (!r.more) return { events, cursor: r.cursor, calls };
      }
    };
    const start = await sweep(null);
    expect(start.events).toEqual([]);
    // Two a page in this emulator: one call per page.
    expect(start.calls).toBeGreaterThanOrEqual(2);
    await emu.setLevel({ sku: 'SQ-1', available: 7 });
    emu.seed([{ sku: 'SQ-NEW', title: 'New print', levels: { default: 4 } }]);
    const one = await sweep(start.cursor);
    expect(one.events.flatMap((e) => c.translate(e.topic, e.body, {}))).toEqual([{ type: 'level_observed', sku: 'SQ-1', ref: { variantId: emu.listing('SQ-1')!.variantId }, locationId: 'default', available: 7, occurredAt: expect.any(String) }]);
    // Read again from the same cursor: the same id.
    expect((await sweep(start.cursor)).events.map((e) => e.eventId)).toEqual(one.events.map((e) => e.eventId));
    await emu.setLevel({ sku: 'SQ-1', available: 10 });
    const two = await sweep(one.cursor);
    await emu.setLevel({ sku: 'SQ-1', available: 7 });
    const three = await sweep(two.cursor);
    // 7 again, in a later sweep: a new id, so the inbox keeps it.
    expect(three.events).toHaveLength(1);
    expect(three.events[0]!.eventId).not.toBe(one.events[0]!.eventId);
    await emu.setLevel({ sku: 'SQ-1', available: 10 });
    // A server that gives back the cursor it was asked with is stopped, and nothing is taken.
    emu.faults.api.ignorePaging = true;
    try {
      const first = await c.poll!('inventory', three.cursor);
      await expect(c.poll!('inventory', first.cursor)).rejects.toThrow(/ignores "cursor"/);
    } finally {
      emu.faults.api.ignorePaging = false;
    }
  });
});
