/**
 * What is Zettle's own (the conformance suite covers what every connector shares): the Pusher
 * signature over `<timestamp>.<payload>` and what it leaves unsigned, the documented payloads,
 * purchases read the same by webhook and by poll, refunds with and without "return to inventory",
 * exchanges, moves computed from the level the hub expected, one stock location, and settings errors.
 */
import { ConnectorError, type ChannelFact, type Connector } from '../../server/connectors/types';
import type { OutgoingWebhook } from '../../server/connectors/emulator';
import { definition } from '../../server/connectors/zettle';
import { ZettleEmulator } from '../../server/connectors/zettle/emulator';
import { signPusher } from '../../server/connectors/zettle/wire';
import { HISTORY_REFUND_OF_CUSTOM_AMOUNT, HISTORY_SALE, INVENTORY_BALANCE_CHANGED, PURCHASE_CREATED } from './zettle/examples';

const CLIENT_ID = '6adde977-c34d-4de1-99b2-f6ed3e65431a';
const API_KEY = 'eyJraWQiOiIwIiwidHlwIjoiSldUIn0.zettle-test-key';
const SIGNING_KEY = 'zLzClQLQN8yfH8aEjONeXzgJRAHR0zpD7RonFCpizujCUCectBlln0vFArTbLPYa';
const ORG = '1b84dbd0-fb65-11e7-9c34-d96d4f33e8fc';
const STORE = '1bfc07a0-fb65-11e7-8d72-68a12b957f8b';

let emu: ZettleEmulator;
let baseUrl: string;
const sent: OutgoingWebhook[] = [];

beforeAll(async () => {
  emu = new ZettleEmulator({ clientId: CLIENT_ID, apiKey: API_KEY, signingKey: SIGNING_KEY, organizationUuid: ORG, storeUuid: STORE, pageSize: 2 });
  // Catch each message as Zettle sends it (the simulation does the same).
  (emu as unknown as { dispatch: (w: OutgoingWebhook) => void }).dispatch = (w) => sent.push(w);
  baseUrl = await emu.start();
  emu.seed([
    { sku: 'ZT-1', title: 'Ochre pigment, 250 g', levels: { [STORE]: 20 } },
    { sku: 'ZT-2', title: 'Linen canvas 60×60', levels: { [STORE]: 20 } },
    { sku: 'ZT-3', title: 'Brush set', levels: { [STORE]: 20 } },
  ]);
});
afterAll(async () => emu.stop());

function connector(over: { settings?: Record<string, unknown>; credentials?: Record<string, string> } = {}): Connector {
  return definition.create({
    channelId: 'zettle-test',
    baseUrl,
    settings: { organizationUuid: ORG, oauthBaseUrl: baseUrl, ...over.settings },
    credentials: { clientId: CLIENT_ID, apiKey: API_KEY, signingKey: SIGNING_KEY, ...over.credentials },
  });
}
const take = () => sent.splice(0);
const raw = (w: OutgoingWebhook) => Buffer.from(w.body);
/** Verifies and translates every message sent since the last call. */
function facts(ws: OutgoingWebhook[]): ChannelFact[] {
  const c = connector();
  return ws.flatMap((w) => {
    const v = c.verify(raw(w), w.headers);
    if (!v.valid) throw new Error(`refused: ${v.reason}`);
    return c.translate(v.topic, JSON.parse(w.body), w.headers);
  });
}
/** A signed message of our own making, as Zettle builds one. */
function message(eventName: string, payload: unknown, over: Record<string, unknown> = {}) {
  const p = JSON.stringify(payload);
  const timestamp = '2026-12-08T00:00:00.000Z';
  const body = JSON.stringify({ organizationUuid: ORG, messageUuid: 'b3a1e2c0-b4f1-11ef-8f3e-0242ac120002', eventName, messageId: '52662705-98de-588c-810b-75d274d6fa8b', payload: p, timestamp, ...over });
  return { raw: Buffer.from(body), headers: { 'x-izettle-signature': signPusher(SIGNING_KEY, timestamp, p) } };
}

describe('the Pusher signature', () => {
  const sale = { ...PURCHASE_CREATED.payload };

  test('a message signed over <timestamp>.<payload> with the signing key verifies, naming its messageUuid and time', () => {
    const m = message('PurchaseCreated', sale);
    expect(connector().verify(m.raw, m.headers)).toEqual({ valid: true, eventId: 'b3a1e2c0-b4f1-11ef-8f3e-0242ac120002', topic: 'PurchaseCreated', occurredAt: '2026-12-08T00:00:00.000Z' });
    // Replayed as is: the same id, which the inbox answers as a duplicate.
    expect(connector().verify(Buffer.from(m.raw), { ...m.headers })).toMatchObject({ valid: true, eventId: 'b3a1e2c0-b4f1-11ef-8f3e-0242ac120002' });
  });

  test('tampered payload, another signing key, no signature, a signature in base64: refused as signature failures', () => {
    const m = message('PurchaseCreated', sale);
    const tampered = Buffer.from(m.raw.toString().replace('8300', '8301'));
    expect(connector().verify(tampered, m.headers)).toMatchObject({ valid: false, refusal: 'signature' });
    expect(connector({ credentials: { signingKey: 'another-key' } }).verify(m.raw, m.headers)).toMatchObject({ valid: false, refusal: 'signature' });
    expect(connector().verify(m.raw, {})).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringMatching(/x-izettle-signature/) });
    const b64 = Buffer.from(m.headers['x-izettle-signature'], 'hex').toString('base64');
    expect(connector().verify(m.raw, { 'x-izettle-signature': b64 })).toMatchObject({ valid: false, refusal: 'signature' });
    // The timestamp is signed too.
    expect(connector().verify(Buffer.from(m.raw.toString().replace('2026-12-08T00:00:00.000Z', '2026-12-09T00:00:00.000Z')), m.headers)).toMatchObject({ valid: false, refusal: 'signature' });
  });

  test('malformed: not JSON, a payload given as an object (nothing signed to check), no messageUuid', () => {
    expect(connector().verify(Buffer.from('not json'), { 'x-izettle-signature': 'ab' })).toMatchObject({ valid: false, refusal: 'signature' });
    const obj = Buffer.from(JSON.stringify(PURCHASE_CREATED));
    expect(connector().verify(obj, { 'x-izettle-signature': signPusher(SIGNING_KEY, 'x', JSON.stringify(PURCHASE_CREATED.payload)) })).toMatchObject({ valid: false, refusal: 'signature' });
    const noId = message('PurchaseCreated', sale, { messageUuid: undefined, messageId: undefined });
    expect(connector().verify(noId.raw, noId.headers)).toMatchObject({ valid: false, reason: expect.stringMatching(/messageUuid/) });
  });

  test('another organisation, signed with the same key, is refused as another account’s — also when only the unsigned envelope claims ours', () => {
    const theirs = { ...sale, organizationUuid: '0f60dbc0-fab5-11e7-b884-62da5a369555' };
    const m = message('PurchaseCreated', theirs);
    expect(connector().verify(m.raw, m.headers)).toMatchObject({ valid: false, refusal: 'account' });
    const envelopeOnly = message('PurchaseCreated', sale, { organizationUuid: '0f60dbc0-fab5-11e7-b884-62da5a369555' });
    expect(connector().verify(envelopeOnly.raw, envelopeOnly.headers)).toMatchObject({ valid: false, refusal: 'account' });
  });

  test('the unsigned event name is believed only when the signed payload is that event’s', () => {
    const m = message('InventoryBalanceChanged', sale);
    expect(connector().verify(m.raw, m.headers)).toMatchObject({ valid: false, refusal: 'topic' });
  });

  test('Zettle’s TestMessage (unsigned, when a subscription is created) is a ping, not an event', () => {
    const test = Buffer.from(JSON.stringify({ eventName: 'TestMessage', organizationUuid: ORG, messageId: '0f674460-fab5-11e7-a310-0002ebd6a43c', payload: { data: 'payload' } }));
    const c = connector();
    expect(c.isPing!(test, {})).toBe(true);
    expect(c.verify(test, {}).valid).toBe(false);
    const m = message('PurchaseCreated', sale);
    expect(c.isPing!(m.raw, m.headers)).toBe(false);
  });
});

describe('the documented payloads', () => {
  test('PurchaseCreated: one sale line, the product and variant named, no SKU (the payload carries none), and its money in minor units', () => {
    const [sale] = connector().translate('PurchaseCreated', PURCHASE_CREATED, {});
    expect(sale).toMatchObject({
      type: 'sale',
      orderId: '244f60a0-fb65-11e7-ae57-406959a78d8a',
      occurredAt: '2018-01-17T09:02:27.754Z',
      lines: [{ lineId: '0', sku: null, ref: { productId: '24134200-fb65-11e7-8b46-39368d314702', variantId: '24134200-fb65-11e7-8103-e11ba136a59d' }, quantity: 1, locationId: null }],
      order: { currency: 'SEK', subtotal: 8300, tax: 21, total: 8300, paymentStatus: 'paid', fulfilmentStatus: 'fulfilled', number: '6', lines: [{ lineId: '0', unitPrice: 8300, quantity: 1, total: 8300 }] },
    });
  });

  test('money that cannot be read costs no stock fact', () => {
    const [sale] = connector().translate('PurchaseCreated', { ...PURCHASE_CREATED, payload: { ...PURCHASE_CREATED.payload, currency: 'kronor' } }, {});
    expect(sale).toMatchObject({ type: 'sale', lines: [{ quantity: 1 }] });
    expect(sale && 'order' in sale).toBe(false);
  });

  test('InventoryBalanceChanged: balanceAfter is a reported level at its location', () => {
    const [f] = connector().translate('InventoryBalanceChanged', INVENTORY_BALANCE_CHANGED, {});
    expect(f).toMatchObject({ type: 'level_observed', ref: { productId: '24134200-fb65-11e7-8b46-39368d314702', variantId: '24134200-fb65-11e7-8103-e11ba136a59d' }, locationId: STORE, available: 10 });
  });

  test('/purchases/v2: the uuid form of the id, each library line at its fromLocationUuid; a refunded custom amount moves nothing', () => {
    const c = connector();
    const [sale] = c.translate('PurchaseCreated', { eventName: 'PurchaseCreated', payload: HISTORY_SALE }, {});
    expect(sale).toMatchObject({ type: 'sale', orderId: '39d8b706-358b-11eb-a896-5af628c16a84', occurredAt: '2020-12-02T17:16:20.028Z' });
    expect(sale?.type === 'sale' && sale.lines.map((l) => [l.lineId, l.quantity, l.locationId])).toEqual([
      ['0', 1, '97faeaa0-18f4-1111-adfd-a56a099d6f5a'],
      ['1', 1, '97faeaa0-18f4-11e7-adfd-a56a099d6f5a'],
    ]);
    expect(c.translate('PurchaseCreated', { eventName: 'PurchaseCreated', payload: HISTORY_REFUND_OF_CUSTOM_AMOUNT }, {})).toEqual([]);
  });

  test('a payload that cannot be read is said so, never taken as nothing', () => {
    expect(() => connector().translate('PurchaseCreated', { payload: '{not json' }, {})).toThrow(/payload/);
    expect(() => connector().translate('PurchaseCreated', { payload: { purchaseUuid: 'x', products: [{ productUuid: 'p', variantUuid: 'v', quantity: '1.5' }] } }, {})).toThrow(/whole number/);
  });
});

describe('what happens at the counter', () => {
  test('a sale, a refund returned to inventory, one that was not, and an exchange: each booked once, by webhook or by poll', async () => {
    const c = connector();
    const start = await c.poll!('purchases', null);
    take();
    const { orderId } = await emu.sell({ sku: 'ZT-1', quantity: 3, locationId: STORE });
    const saleFacts = facts(take());
    const sale = saleFacts.find((f) => f.type === 'sale');
    expect(sale).toMatchObject({ type: 'sale', orderId, lines: [{ lineId: '0', quantity: 3, locationId: STORE }] });
    expect(saleFacts.filter((f) => f.type === 'level_observed').map((f) => f.type === 'level_observed' && f.available)).toEqual([17]);

    const back = await emu.refund({ orderId, restock: true, quantity: 1 });
    const restocked = facts(take());
    expect(restocked.find((f) => f.type === 'refund')).toMatchObject({ type: 'refund', refundId: back.refundId, orderId, lines: [{ lineId: '0', quantity: 1, restock: true, locationId: STORE }], money: { currency: 'AUD', amount: 2500 } });
    expect(emu.level('ZT-1', STORE)).toBe(18);

    const kept = await emu.refund({ orderId, restock: false, quantity: 1 });
    const moneyOnly = facts(take());
    expect(moneyOnly).toEqual([expect.objectContaining({ type: 'refund', refundId: kept.refundId, lines: [expect.objectContaining({ quantity: 1, restock: false })] })]);
    expect(emu.level('ZT-1', STORE)).toBe(18);

    const swap = await emu.exchange({ orderId, back: 1, restock: true, sku: 'ZT-2', quantity: 2 });
    const exchanged = facts(take());
    expect(exchanged.filter((f) => f.type === 'refund' || f.type === 'sale').map((f) => [f.type, f.type === 'sale' || f.type === 'refund' ? f.lines.map((l) => l.quantity) : null])).toEqual([
      ['refund', [1]],
      ['sale', [2]],
    ]);
    expect([emu.level('ZT-1', STORE), emu.level('ZT-2', STORE)]).toEqual([19, 18]);

    // The backstop finds the same four purchases, with the same facts as their webhooks.
    const polled = await c.poll!('purchases', start.cursor);
    expect(polled.events.map((e) => e.topic)).toEqual(['PurchaseCreated', 'PurchaseCreated', 'PurchaseCreated', 'PurchaseCreated']);
    const byPoll = polled.events.flatMap((e) => c.translate(e.topic, e.body, {}));
    const byWebhook = [...saleFacts, ...restocked, ...moneyOnly, ...exchanged].filter((f) => f.type !== 'level_observed');
    const strip = (fs: ChannelFact[]) => fs.map((f) => ({ ...f, occurredAt: 'x' }));
    expect(strip(byPoll)).toEqual(strip(byWebhook));
    expect(swap.purchaseId).toBe(polled.events[3]!.eventId.replace('purchase:', ''));
    // Read again from its new cursor: nothing more.
    expect((await c.poll!('purchases', polled.cursor)).events).toEqual([]);
  });

  test('a count typed in the app reaches the hub as a reported level, not a booking', async () => {
    await emu.setLevel({ sku: 'ZT-3', locationId: STORE, available: 12 });
    expect(facts(take())).toEqual([expect.objectContaining({ type: 'level_observed', locationId: STORE, available: 12 })]);
  });
});

describe('pushes are moves from the level the hub expected', () => {
  const ref = (sku: string) => emu.listing(sku)!;
  const moves = () => emu.requests.filter((r) => emu.isStockWrite(r));

  test('up from SUPPLIER, down to BIN, positive amounts; the echo carries the move’s externalUuid', async () => {
    await emu.setLevel({ sku: 'ZT-3', locationId: STORE, available: 10 });
    take();
    const before = moves().length;
    const c = connector();
    expect(await c.push([{ sku: 'ZT-3', ref: ref('ZT-3'), locationId: STORE, level: 14, expected: 10, idempotencyKey: 'k-up' }])).toEqual([{ sku: 'ZT-3', locationId: STORE, status: 'applied', level: 14 }]);
    expect(await c.push([{ sku: 'ZT-3', ref: ref('ZT-3'), locationId: STORE, level: 11, expected: 14, idempotencyKey: 'k-down' }])).toEqual([{ sku: 'ZT-3', locationId: STORE, status: 'applied', level: 11 }]);
    const [up, down] = moves().slice(before).map((r) => (r.body as { changes: { fromLocationUuid: string; toLocationUuid: string; change: number }[] }).changes[0]!);
    expect([up!.toLocationUuid, up!.change, down!.fromLocationUuid, down!.change]).toEqual([STORE, 4, STORE, 3]);
    expect([up!.fromLocationUuid, down!.toLocationUuid]).toEqual([emu.loc.supplier, emu.loc.bin]);
    const echo = take().map((w) => JSON.parse(JSON.parse(w.body).payload as string) as { externalUuid?: string });
    expect(echo.every((p) => typeof p.externalUuid === 'string')).toBe(true);
  });

  test('a level that moved since the hub saw it is answered stale and nothing is written', async () => {
    await emu.sell({ sku: 'ZT-3', quantity: 1, locationId: STORE });
    take();
    const before = moves().length;
    expect(await connector().push([{ sku: 'ZT-3', ref: ref('ZT-3'), locationId: STORE, level: 15, expected: 11, idempotencyKey: 'k-stale' }])).toEqual([{ sku: 'ZT-3', locationId: STORE, status: 'stale', observed: 10 }]);
    expect(moves().length).toBe(before);
    expect(emu.level('ZT-3', STORE)).toBe(10);
  });

  test('a location other than the STORE fails that item with what to map, and changes nothing', async () => {
    const before = moves().length;
    const [out] = await connector().push([{ sku: 'ZT-3', ref: ref('ZT-3'), locationId: 'warehouse-uuid', level: 3, expected: 10, idempotencyKey: 'k-loc' }]);
    expect(out).toMatchObject({ status: 'failed', message: expect.stringContaining(STORE) });
    expect([moves().length, emu.level('ZT-3', STORE)]).toEqual([before, 10]);
    await expect(connector().read([{ sku: 'ZT-3', ref: ref('ZT-3'), locationId: 'warehouse-uuid' }])).rejects.toThrow(/STORE location/);
  });

  test('hide and relist are not offered (no storefront), with no request', async () => {
    const before = emu.requests.length;
    await expect(connector().hide(ref('ZT-3'))).rejects.toThrow(/no storefront/);
    expect(emu.requests.length).toBe(before);
  });
});

describe('settings and credentials', () => {
  test('no organizationUuid, or not a uuid: a start-up error saying where to find it', () => {
    expect(() => connector({ settings: { organizationUuid: undefined } })).toThrow(/organizationUuid.*users\/self/);
    expect(() => connector({ settings: { organizationUuid: 'my-shop' } })).toThrow(ConnectorError);
    expect(() => connector({ settings: { pageSize: 5000 } })).toThrow(/pageSize/);
  });

  test('no API key: the missing credential is named', () => {
    expect(() => connector({ credentials: { apiKey: '' } })).toThrow(/credentials\.apiKey/);
  });

  test('a token refused before its time is replaced once and the request sent again; a key revoked since is said as such', async () => {
    const other = new ZettleEmulator({ clientId: CLIENT_ID, apiKey: API_KEY, signingKey: SIGNING_KEY, organizationUuid: ORG, storeUuid: STORE });
    const url = await other.start();
    try {
      other.seed([{ sku: 'ZT-9', title: 'Palette knife', levels: { [STORE]: 3 } }]);
      const c = definition.create({ channelId: 'refused', baseUrl: url, settings: { organizationUuid: ORG, oauthBaseUrl: url }, credentials: { clientId: CLIENT_ID, apiKey: API_KEY, signingKey: SIGNING_KEY } });
      await c.listCatalog();
      const tokens = () => other.oauth.count('urn:ietf:params:oauth:grant-type:jwt-bearer');
      const before = tokens();
      other.oauth.expireAccessTokens();
      await expect(c.listCatalog()).resolves.toEqual(expect.arrayContaining([expect.objectContaining({ sku: 'ZT-9' })]));
      expect(tokens()).toBe(before + 1);
      other.revokeApiKey();
      const err = (await c.listCatalog().catch((e: unknown) => e)) as ConnectorError;
      expect(err).toBeInstanceOf(ConnectorError);
      expect([err.channelFault, err.retryable]).toEqual([true, false]);
      expect(err.message).toMatch(/revoked/);
      expect(err.message).not.toMatch(/refused the channel's access token/);
      expect(err.message).not.toContain(API_KEY);
    } finally {
      await other.stop();
    }
  });

  test('a revoked API key is a fault of the channel, its message free of secrets', async () => {
    const other = new ZettleEmulator({ clientId: CLIENT_ID, apiKey: API_KEY, signingKey: SIGNING_KEY, organizationUuid: ORG, storeUuid: STORE });
    const url = await other.start();
    try {
      other.revokeApiKey();
      const c = definition.create({ channelId: 'revoked', baseUrl: url, settings: { organizationUuid: ORG, oauthBaseUrl: url }, credentials: { clientId: CLIENT_ID, apiKey: API_KEY, signingKey: SIGNING_KEY } });
      const err = (await c.listCatalog().catch((e: unknown) => e)) as ConnectorError;
      expect(err).toBeInstanceOf(ConnectorError);
      expect([err.channelFault, err.retryable]).toEqual([true, false]);
      expect(err.message).not.toContain(API_KEY);
      expect(other.requests).toEqual([]);
    } finally {
      await other.stop();
    }
  });
});
