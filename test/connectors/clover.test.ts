/**
 * What is Clover's own (the conformance suite, clover.conformance.test.ts, checks the rest): the
 * static X-Clover-Auth code on the documented values (good, a wrong code, none, another merchant,
 * the same message again, malformed, a message naming several merchants, the verification POST),
 * orders read through expand (sales, the same sale through a payment message and a poll booked under
 * the same keys, refunds with and without the goods back, an order Clover no longer has), items as
 * reported levels (decimal and negative quantities), auto-managed items, the connector's settings
 * and requests (User-Agent, the merchant in the path), and the orders feed.
 */
import crypto from 'node:crypto';
import { createCloverConnector, definition } from '../../server/connectors/clover';
import { CloverEmulator } from '../../server/connectors/clover/emulator';
import { verifyCloverMessage, isVerificationPing } from '../../server/connectors/clover/verify';
import { ConnectorError, TranslateError, type ChannelFact, type Connector, type PushTarget } from '../../server/connectors/types';
import { WebhookSink } from './helpers/webhook-sink';
import { DOCS_AUTH_CODE, DOCS_MERCHANT, DOCS_ORDER_MESSAGE, DOCS_VERIFICATION } from './clover/documented';

const TOKEN = 'clover-test-token-0001';
const M = DOCS_MERCHANT;

let emu: CloverEmulator;
let baseUrl: string;
let sink: WebhookSink;

const connector = (over: { settings?: Record<string, unknown>; credentials?: Record<string, string>; fetch?: typeof fetch } = {}): Connector =>
  createCloverConnector({ channelId: 'clover', baseUrl, settings: { merchantId: M, pageSize: 2, ...over.settings }, credentials: { apiToken: TOKEN, webhookAuthCode: DOCS_AUTH_CODE, ...over.credentials }, ...(over.fetch ? { fetch: over.fetch } : {}) });
const target = (sku: string, level: number, expected: number | null): PushTarget => ({ sku, ref: emu.listing(sku)!, locationId: M, level, expected, idempotencyKey: `k-${sku}-${level}` });

/** Every message the emulator sent since the last call, verified, expanded and translated. */
async function received(c = connector()): Promise<{ topic: string; facts: ChannelFact[] }[]> {
  await emu.flushWebhooks();
  const out: { topic: string; facts: ChannelFact[] }[] = [];
  for (const r of sink.received.splice(0)) {
    const v = c.verify(r.raw, r.headers);
    if (!v.valid) throw new Error(`refused: ${v.reason}`);
    const body = JSON.parse(r.raw.toString('utf8')) as unknown;
    out.push({ topic: v.topic, facts: c.translate(v.topic, await c.expand!(v.topic, body), {}) });
  }
  return out;
}
const all = (got: { facts: ChannelFact[] }[]) => got.flatMap((g) => g.facts);

beforeAll(async () => {
  sink = new WebhookSink('/v1/webhooks/clover');
  const url = await sink.start();
  emu = new CloverEmulator({ apiToken: TOKEN, authCode: DOCS_AUTH_CODE, merchantId: M });
  baseUrl = await emu.start();
  emu.subscribe(url);
  emu.seed(['CL-1', 'CL-2', 'CL-3'].map((sku) => ({ sku, title: `Print ${sku}`, levels: { [M]: 10 } })));
});
afterAll(async () => {
  await emu.stop();
  await sink.stop();
});

describe('X-Clover-Auth, on the documented values', () => {
  const raw = Buffer.from(JSON.stringify(DOCS_ORDER_MESSAGE));
  const v = (body: Buffer, headers: Record<string, string | string[]>, authCode: string | undefined = DOCS_AUTH_CODE, merchantId: string | null = M) => verifyCloverMessage(body, headers, { authCode, merchantId });

  test('the documented auth code on a message naming the channel\'s merchant verifies; its id is the same when it comes again, another message has another', () => {
    const first = v(raw, { 'x-clover-auth': DOCS_AUTH_CODE });
    expect(first).toEqual({ valid: true, eventId: expect.stringMatching(/^clover-/), topic: 'orders', occurredAt: new Date(1537970958000).toISOString() });
    expect(v(Buffer.from(raw), { 'X-Clover-Auth': DOCS_AUTH_CODE })).toEqual(first);
    const later = JSON.stringify({ ...DOCS_ORDER_MESSAGE, merchants: { [M]: [{ objectId: 'O:GHIVJT2ABCRSC', type: 'UPDATE', ts: 1537970959000 }] } });
    expect(v(Buffer.from(later), { 'x-clover-auth': DOCS_AUTH_CODE })).toMatchObject({ valid: true });
    expect((v(Buffer.from(later), { 'x-clover-auth': DOCS_AUTH_CODE }) as { eventId: string }).eventId).not.toBe((first as { eventId: string }).eventId);
  });

  test('refused as not Clover\'s: another code, the code with a character changed, none, the channel without its code', () => {
    expect(v(raw, { 'x-clover-auth': crypto.randomUUID() })).toMatchObject({ valid: false, refusal: 'signature' });
    expect(v(raw, { 'x-clover-auth': DOCS_AUTH_CODE.replace(/8$/, '9') })).toMatchObject({ valid: false, refusal: 'signature' });
    expect(v(raw, {})).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/No X-Clover-Auth/) });
    expect(v(raw, { 'x-clover-auth': DOCS_AUTH_CODE }, '')).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/no webhookAuthCode/) });
    // The header given twice with different values counts as absent.
    expect(v(raw, { 'x-clover-auth': [DOCS_AUTH_CODE, 'other'] })).toMatchObject({ valid: false, refusal: 'signature' });
  });

  test('with the right code, but for another merchant, for none, or for a channel without its merchantId: refused as another account\'s', () => {
    const other = Buffer.from(JSON.stringify({ ...DOCS_ORDER_MESSAGE, merchants: { OTHERMERCHNT1: DOCS_ORDER_MESSAGE.merchants[M] } }));
    expect(v(other, { 'x-clover-auth': DOCS_AUTH_CODE })).toMatchObject({ valid: false, refusal: 'account', reason: expect.stringMatching(/OTHERMERCHNT1, not this channel's merchant 9ZQTAJSQKZ391/) });
    expect(v(Buffer.from(JSON.stringify({ appId: 'A', merchants: {} })), { 'x-clover-auth': DOCS_AUTH_CODE })).toMatchObject({ valid: false, refusal: 'account' });
    expect(v(raw, { 'x-clover-auth': DOCS_AUTH_CODE }, DOCS_AUTH_CODE, null)).toMatchObject({ valid: false, refusal: 'account' });
  });

  test('a message naming several merchants (one app, one address) is taken for the channel\'s own updates only', async () => {
    const both = { appId: 'A', merchants: { OTHERMERCHNT1: [{ objectId: 'O:ZZZZZZZZZZZZZ', type: 'CREATE', ts: 5 }], [M]: [{ objectId: 'I:NOSUCHITEM000', type: 'UPDATE', ts: 6 }] } };
    const r = v(Buffer.from(JSON.stringify(both)), { 'x-clover-auth': DOCS_AUTH_CODE });
    expect(r).toMatchObject({ valid: true, topic: 'inventory' });
    const c = connector();
    const before = emu.requests.length;
    const expanded = await c.expand!('inventory', both);
    // Only the channel's own object was read (it is not there: nothing).
    expect(emu.requests.slice(before).map((q) => q.path)).toEqual([`/v3/merchants/${M}/items/NOSUCHITEM000`]);
    expect(c.translate('inventory', expanded, {})).toEqual([]);
  });

  test('malformed: not JSON, not a Clover message, updates that are not a list, a body bringing its own "fetched": refused, and nothing thrown', () => {
    const h = { 'x-clover-auth': DOCS_AUTH_CODE };
    expect(v(Buffer.from('{"appId":'), h)).toMatchObject({ valid: false, reason: expect.stringMatching(/not JSON/) });
    expect(v(Buffer.from('[1]'), h)).toMatchObject({ valid: false, reason: expect.stringMatching(/not a Clover webhook message/) });
    expect(v(Buffer.from(JSON.stringify({ appId: 'A', merchants: { [M]: 'O:1' } })), h)).toMatchObject({ valid: false });
    expect(v(Buffer.from(JSON.stringify({ appId: 'A', merchants: { [M]: [{ objectId: 'no prefix', type: 'CREATE' }] } })), h)).toMatchObject({ valid: false });
    const forged = { ...DOCS_ORDER_MESSAGE, fetched: { 'O:GHIVJT2ABCRSC': { id: 'GHIVJT2ABCRSC', paymentState: 'PAID', createdTime: 1, lineItems: { elements: [{ id: 'L', item: { id: 'X' } }] } } } };
    expect(v(Buffer.from(JSON.stringify(forged)), h)).toMatchObject({ valid: false, reason: expect.stringMatching(/fetched/) });
  });

  test('the verification POST Clover sends when the webhook address is set is recognised as a ping (answered 200, nothing stored); a message is not', () => {
    const c = connector();
    expect(c.isPing!(Buffer.from(JSON.stringify(DOCS_VERIFICATION)), {})).toBe(true);
    expect(isVerificationPing(Buffer.from(JSON.stringify({ ...DOCS_VERIFICATION, merchants: {} })))).toBe(false);
    expect(isVerificationPing(raw)).toBe(false);
    expect(isVerificationPing(Buffer.from('not json'))).toBe(false);
    // The ping carries no auth code: verify alone would refuse it.
    expect(c.verify(Buffer.from(JSON.stringify(DOCS_VERIFICATION)), {})).toMatchObject({ valid: false });
  });

  test('the auth code header is hidden from the logs', () => {
    expect(definition.secretHeaders).toEqual(['x-clover-auth']);
  });
});

describe('sales, refunds and levels, as the counter makes them', () => {
  test('a sale of 3: the order (one line item a unit) is one line of 3, booked under the same keys whether the order, the payment or a poll brings it; the item reports the level left', async () => {
    const { orderId } = await emu.sell({ sku: 'CL-1', quantity: 3 });
    const got = await received();
    expect(got.map((g) => g.topic)).toEqual(['orders', 'payments', 'inventory']);
    const sales = all(got).filter((f) => f.type === 'sale');
    expect(sales).toHaveLength(2);
    const item = emu.listing('CL-1')!;
    for (const s of sales) expect(s).toMatchObject({ type: 'sale', orderId, lines: [{ lineId: item.variantId, sku: null, ref: item, quantity: 3, locationId: null }], order: { paymentStatus: 'paid', total: 3 * 2500, currency: 'USD' } });
    expect(sales[0]).toEqual(sales[1]);
    expect(all(got).filter((f) => f.type === 'level_observed')).toEqual([expect.objectContaining({ sku: 'CL-1', ref: item, locationId: M, available: 7 })]);
    const order = await connector().expand!('orders', { order: 'kept as it is' });
    expect(order).toEqual({ order: 'kept as it is' });
  });

  test('refunds: one line item back on the shelf, then one not: two refunds, never restocked by the order; the level that came back is reported by the item', async () => {
    const { orderId } = await emu.sell({ sku: 'CL-2', quantity: 2 });
    await received();
    await emu.refund({ orderId, restock: true, quantity: 1 });
    let got = await received();
    const item = emu.listing('CL-2')!;
    let refunds = all(got).filter((f) => f.type === 'refund');
    expect(refunds).toEqual([expect.objectContaining({ orderId, lines: [expect.objectContaining({ lineId: item.variantId, quantity: 1, restock: false })], money: { currency: 'USD', amount: 2500 } })]);
    expect(all(got).filter((f) => f.type === 'level_observed').map((f) => (f as { available: number }).available)).toEqual([9]);
    await emu.refund({ orderId, restock: false, quantity: 1 });
    got = await received();
    refunds = all(got).filter((f) => f.type === 'refund');
    // The order repeats its first refund (same id: booked once) and adds the second.
    expect(new Set(refunds.map((f) => (f as { refundId: string }).refundId)).size).toBe(2);
    expect(all(got).filter((f) => f.type === 'level_observed')).toEqual([]);
    expect(all(got).find((f) => f.type === 'sale')).toMatchObject({ order: { paymentStatus: 'refunded' } });
  });

  test('an order Clover no longer has (deleted) and an order not paid yet book nothing', () => {
    const c = connector();
    const body = { ...DOCS_ORDER_MESSAGE, merchants: { [M]: DOCS_ORDER_MESSAGE.merchants[DOCS_MERCHANT] } };
    expect(c.translate('orders', { ...body, fetched: { 'O:GHIVJT2ABCRSC': null } }, {})).toEqual([]);
    expect(c.translate('orders', { order: { id: 'OPEN0000000001', paymentState: 'OPEN', createdTime: 1, lineItems: { elements: [{ id: 'L1', item: { id: 'I1' } }] } } }, {})).toEqual([]);
    // A custom amount (no item) is not stock.
    expect(c.translate('orders', { order: { id: 'PAID0000000001', paymentState: 'PAID', createdTime: 1, lineItems: { elements: [{ id: 'L1', name: 'Gift wrap', price: 300 }] } } }, {})).toEqual([
      expect.objectContaining({ type: 'sale', lines: [] }),
    ]);
  });

  test('a message not yet expanded cannot be read; neither can an order without an id or a line without one', () => {
    const c = connector();
    expect(() => c.translate('orders', DOCS_ORDER_MESSAGE, {})).toThrow(TranslateError);
    expect(() => c.translate('orders', { order: { paymentState: 'PAID' } }, {})).toThrow(/no id/);
    expect(() => c.translate('orders', { order: { id: 'X', paymentState: 'PAID', createdTime: 1, lineItems: { elements: [{ item: { id: 'I' } }] } } }, {})).toThrow(/has no id/);
  });

  test('a count typed at the counter, a decimal one and one below zero: reported as whole units, never booked by the connector', async () => {
    const c = connector();
    const seen: [string, number][] = [];
    for (const available of [4, 2.5, -1]) {
      await emu.setLevel({ sku: 'CL-3', available });
      // The message names the item only: what is read is the level Clover shows when it is read.
      seen.push(...all(await received(c)).map((f): [string, number] => [f.type, (f as { available: number }).available]));
    }
    expect(seen).toEqual([
      ['level_observed', 4],
      ['level_observed', 2],
      ['level_observed', -1],
    ]);
    expect((await c.read([{ sku: 'CL-3', ref: emu.listing('CL-3')!, locationId: M }])).map((r) => r.available)).toEqual([-1]);
    await emu.setLevel({ sku: 'CL-3', available: 10 });
    await received(c);
  });
});

describe('pushes, hiding and settings', () => {
  test('a push writes quantity through item_stocks with the User-Agent, for the channel\'s merchant; a level on another location is refused without a request', async () => {
    const c = connector({ settings: { userAgent: 'GalleryStock/2.1 (counter sync)' } });
    const before = emu.requests.length;
    expect(await c.push([target('CL-1', 5, 7)])).toEqual([{ sku: 'CL-1', locationId: M, status: 'applied', level: 5 }]);
    expect(emu.requests.slice(before).map((r) => `${r.method} ${r.path} ${JSON.stringify(r.body)}`)).toEqual([
      `GET /v3/merchants/${M}/item_stocks/${emu.listing('CL-1')!.variantId} null`,
      `POST /v3/merchants/${M}/item_stocks/${emu.listing('CL-1')!.variantId} {"quantity":5}`,
      `GET /v3/merchants/${M}/item_stocks/${emu.listing('CL-1')!.variantId} null`,
    ]);
    const n = emu.requests.length;
    expect(await c.push([{ ...target('CL-1', 3, 5), locationId: 'warehouse' }])).toEqual([{ sku: 'CL-1', locationId: 'warehouse', status: 'failed', message: expect.stringMatching(/one stock per merchant/) }]);
    expect(emu.requests.length).toBe(n);
    expect(emu.level('CL-1', M)).toBe(5);
    await received();
  });

  test('Clover refuses a request without a User-Agent, and a token used for another merchant', async () => {
    const id = emu.listing('CL-1')!.variantId;
    const noUa = await fetch(`${baseUrl}/v3/merchants/${M}/item_stocks/${id}`, { headers: { authorization: `Bearer ${TOKEN}`, 'user-agent': '' } });
    expect(noUa.status).toBe(400);
    expect(await noUa.json()).toEqual({ message: 'The User-Agent header is required.' });
    const err = await connector({ settings: { merchantId: 'OTHERMERCHNT1' } })
      .read([{ sku: 'CL-1', ref: emu.listing('CL-1')!, locationId: 'OTHERMERCHNT1' }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).message).not.toContain(TOKEN);
    expect((err as ConnectorError).channelFault).toBe(true);
  });

  test('hide and relist write `available`, but leave an auto-managed item to Clover (which hides it at zero itself)', async () => {
    const c = connector();
    const ref = emu.listing('CL-2')!;
    await c.hide(ref);
    expect(emu.visible('CL-2')).toBe(false);
    await c.relist(ref);
    expect(emu.visible('CL-2')).toBe(true);
    emu.setAutoManage('CL-2', true);
    const before = emu.requests.length;
    await c.hide(ref);
    // One read, no write: Clover manages it.
    expect(emu.requests.slice(before).map((r) => r.method)).toEqual(['GET']);
    expect(emu.visible('CL-2')).toBe(true);
    await emu.setLevel({ sku: 'CL-2', available: 0 });
    expect(emu.visible('CL-2')).toBe(false);
    await emu.setLevel({ sku: 'CL-2', available: 3 });
    expect(emu.visible('CL-2')).toBe(true);
    emu.setAutoManage('CL-2', false);
    await received();
  });

  test('settings errors name what to fix, and nothing is sent', () => {
    const make = (settings: Record<string, unknown>, credentials: Record<string, string> = { apiToken: TOKEN, webhookAuthCode: 'x' }) => () => createCloverConnector({ channelId: 'c', baseUrl, settings, credentials });
    expect(make({})).toThrow(/merchantId must be the merchant's id/);
    expect(make({ merchantId: 'not a merchant!' })).toThrow(/merchantId/);
    expect(make({ merchantId: M }, { webhookAuthCode: 'x' })).toThrow(/needs the credential apiToken/);
    expect(make({ merchantId: M, userAgent: ' ' })).toThrow(/userAgent must be text/);
    expect(make({ merchantId: M, pageSize: 5000 })).toThrow(/pageSize must be a whole number from 1 to 1000/);
    expect(make({ merchantId: M, timeoutMs: 5 })).toThrow(/timeoutMs/);
    expect(() => createCloverConnector({ channelId: 'c', baseUrl: 'ftp:nowhere', settings: { merchantId: M }, credentials: { apiToken: TOKEN } })).toThrow(/is not an address/);
  });
});

describe('the orders feed', () => {
  test('the first poll only learns what is there; a sale after it shows once with its order, read by modifiedTime; a cursor not ours is refused', async () => {
    const c = connector();
    const first = await c.poll!('orders', null);
    expect(first.events).toEqual([]);
    const before = emu.requests.length;
    const { orderId } = await emu.sell({ sku: 'CL-3', quantity: 1 });
    const next = await c.poll!('orders', first.cursor);
    const mine = next.events.filter((e) => (e.body as { order: { id: string } }).order.id === orderId);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.topic).toBe('orders');
    expect(c.translate('orders', mine[0]!.body, {})).toEqual([expect.objectContaining({ type: 'sale', orderId })]);
    const q = emu.requests.slice(before).find((r) => r.path === `/v3/merchants/${M}/orders`);
    expect(q).toBeDefined();
    // The same version read again from the same cursor has the same event id (stored once).
    expect((await c.poll!('orders', first.cursor)).events.find((e) => e.eventId === mine[0]!.eventId)).toBeDefined();
    await expect(c.poll!('orders', 'not json')).rejects.toThrow(/not one this connector wrote/);
    await expect(c.poll!('levels', null)).rejects.toThrow(/no polled feed "levels"/);
    await received();
  });
});
