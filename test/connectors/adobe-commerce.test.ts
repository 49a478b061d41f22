/**
 * What is Adobe Commerce's own, beyond the conformance suite: the 2.4.8 schema check of every
 * request (and that it catches a request outside the schema), multi-source stock over several
 * sources and batches of the input limit, a single-source store's stock items, product status for
 * hide/relist, settings errors, answers the hub cannot trust (forged or malformed: a clear error,
 * nothing written, never a wrong level), the hook checks, and translation of credit memos, bundles,
 * configurables and what cannot be read.
 */
import crypto from 'node:crypto';
import { createAdobeConnector, definition } from '../../server/connectors/adobe-commerce';
import { AdobeEmulator, EMULATOR_PUBLIC_KEY } from '../../server/connectors/adobe-commerce/emulator';
import { EMULATOR_PRIVATE_KEY } from '../../server/connectors/adobe-commerce/emulator/keys';
import { translate } from '../../server/connectors/adobe-commerce/translate';
import { ConnectorError, TranslateError, type Connector, type PushTarget } from '../../server/connectors/types';
import { DOCS_ORDER_3 } from './adobe-commerce/documented';

const TOKEN = 'adobe-test-integration-token-000111';
const SECRET = 'adobe test hook secret';
const STORE = 'https://shop.example.com/';
const SOURCES = ['gallery-src', 'warehouse-src'];

let emu: AdobeEmulator;
let baseUrl: string;

const connector = (settings: Record<string, unknown> = {}, credentials: Record<string, string> = {}): Connector =>
  createAdobeConnector({ channelId: 'adobe', baseUrl, settings: { storeUrl: STORE, webhookPublicKey: EMULATOR_PUBLIC_KEY, ...settings }, credentials: { accessToken: TOKEN, webhookSecret: SECRET, ...credentials } });
const target = (sku: string, locationId: string, level: number, expected: number | null): PushTarget => ({ sku, ref: emu.listing(sku)!, locationId, level, expected, idempotencyKey: `k-${sku}-${locationId}-${level}` });
const writes = (from: number) => emu.requests.slice(from).filter((r) => emu.isStockWrite(r));

beforeAll(async () => {
  emu = new AdobeEmulator({ accessToken: TOKEN, webhookSecret: SECRET, storeUrl: STORE, sources: SOURCES });
  baseUrl = await emu.start();
});
afterEach(() => {
  emu.faults.api = {};
  emu.answerOverride = null;
});
afterAll(async () => {
  // Every request the connector sent in this file, and every answer, within the 2.4.8 schema.
  expect(emu.selfCheck()).toEqual([]);
  await emu.stop();
});

describe('the 2.4.8 schema check', () => {
  test('a request outside the schema is reported (a misspelt field, an undeclared parameter, an unknown route)', async () => {
    const probe = new AdobeEmulator({ accessToken: TOKEN, webhookSecret: SECRET });
    const url = await probe.start();
    try {
      const call = (method: string, path: string, body?: unknown) =>
        fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      probe.seed([{ sku: 'P-1', title: 'Probe', levels: { default: 1 } }]);
      await call('POST', '/rest/default/V1/inventory/source-items', { sourceItems: [{ sku: 'P-1', source_code: 'default', qty: 3 }] });
      await call('GET', '/rest/default/V1/products?searchCriteria[page_size]=2');
      await call('GET', '/rest/default/V1/no-such-thing');
      const found = probe.selfCheck().join('\n');
      expect(found).toMatch(/request POST \/rest\/default\/V1\/inventory\/source-items: body \/sourceItems\/0 must NOT have additional properties \(qty\)/);
      expect(found).toMatch(/query parameter searchCriteria\[page_size\] is not a parameter of GET \/V1\/products/);
      expect(found).toMatch(/GET \/rest\/default\/V1\/no-such-thing is not an operation/);
    } finally {
      await probe.stop();
    }
  });
});

describe('multi-source inventory', () => {
  beforeAll(() => {
    emu.seed(Array.from({ length: 25 }, (_, i) => ({ sku: `MS-${i + 1}`, title: `Multi ${i + 1}`, levels: { 'gallery-src': 10, 'warehouse-src': 4 } })));
    emu.seed([{ sku: 'MS-GALLERY-ONLY', title: 'Only at the gallery', levels: { 'gallery-src': 2 } }]);
  });

  test('each source is a location: pushes and reads name the source, and the other source is untouched', async () => {
    const c = connector();
    const outs = await c.push([target('MS-1', 'gallery-src', 7, 10), target('MS-1', 'warehouse-src', 1, 4)]);
    expect(outs.map((o) => o.status)).toEqual(['applied', 'applied']);
    expect([emu.level('MS-1', 'gallery-src'), emu.level('MS-1', 'warehouse-src'), emu.level('MS-2', 'warehouse-src')]).toEqual([7, 1, 4]);
    const read = await c.read([{ sku: 'MS-1', ref: emu.listing('MS-1')!, locationId: 'warehouse-src' }, { sku: 'MS-2', ref: emu.listing('MS-2')!, locationId: 'gallery-src' }]);
    expect(read.map((r) => [r.sku, r.locationId, r.available])).toEqual([['MS-1', 'warehouse-src', 1], ['MS-2', 'gallery-src', 10]]);
  });

  test('25 changes go in requests of at most 20 source items (the input limit), each one absolute', async () => {
    const from = emu.requests.length;
    const targets = Array.from({ length: 25 }, (_, i) => target(`MS-${i + 1}`, 'warehouse-src', 9, emu.level(`MS-${i + 1}`, 'warehouse-src')));
    const outs = await connector().push(targets);
    expect(outs.every((o) => o.status === 'applied')).toBe(true);
    const sent = writes(from).map((r) => (r.body as { sourceItems: unknown[] }).sourceItems.length);
    expect(sent).toEqual([20, 5]);
    expect((writes(from)[0]!.body as { sourceItems: unknown[] }).sourceItems[0]).toEqual({ sku: 'MS-1', source_code: 'warehouse-src', quantity: 9, status: 1 });
  });

  test('a product not assigned to the source is refused for that item, with what to do, and nothing is written', async () => {
    const from = emu.requests.length;
    const [out] = await connector().push([target('MS-GALLERY-ONLY', 'warehouse-src', 3, null)]);
    expect(out).toMatchObject({ status: 'failed', message: expect.stringMatching(/no source item for MS-GALLERY-ONLY at source "warehouse-src".*assign the product/) });
    expect(writes(from)).toEqual([]);
  });

  test('reservations: an order placed but not shipped holds units on the stock, taken from the sources in priority order; reads show what each can still sell, pushes keep the share', async () => {
    emu.seed([{ sku: 'RES-1', title: 'Reserved', levels: { 'gallery-src': 2, 'warehouse-src': 10 } }]);
    const { orderId } = await emu.sell({ sku: 'RES-1', quantity: 4, ship: false });
    const c = connector();
    const at = (locationId: string) => ({ sku: 'RES-1', ref: emu.listing('RES-1')!, locationId });
    // Salable 8 of 12: the gallery (first by priority) gives its 2, the warehouse the other 2.
    expect((await c.read([at('gallery-src'), at('warehouse-src')])).map((r) => [r.locationId, r.available])).toEqual([['gallery-src', 0], ['warehouse-src', 8]]);
    const from = emu.requests.length;
    expect(await c.push([target('RES-1', 'warehouse-src', 5, 8)])).toEqual([{ sku: 'RES-1', locationId: 'warehouse-src', status: 'applied', level: 5 }]);
    // The source keeps the 2 units its orders still hold: 5 to sell + 2 reserved.
    expect((writes(from)[0]!.body as { sourceItems: unknown[] }).sourceItems).toEqual([{ sku: 'RES-1', source_code: 'warehouse-src', quantity: 7, status: 1 }]);
    expect([emu.sourceQuantity('RES-1', 'warehouse-src'), emu.level('RES-1', 'warehouse-src')]).toEqual([7, 5]);
    // Shipped from the gallery: its source is deducted and the reservation released; the levels do not move.
    await emu.ship(orderId);
    expect((await c.read([at('gallery-src'), at('warehouse-src')])).map((r) => r.available)).toEqual([0, 5]);
  });

  test('a level of 0 is written out of stock (status 0)', async () => {
    const from = emu.requests.length;
    await connector().push([target('MS-3', 'gallery-src', 0, 10)]);
    expect((writes(from)[0]!.body as { sourceItems: unknown[] }).sourceItems).toEqual([{ sku: 'MS-3', source_code: 'gallery-src', quantity: 0, status: 0 }]);
  });
});

describe('a single-source store (inventory: single-source)', () => {
  let single: AdobeEmulator;
  let url: string;
  const c = (settings: Record<string, unknown> = {}) =>
    createAdobeConnector({ channelId: 'adobe1', baseUrl: url, settings: { storeUrl: STORE, inventory: 'single-source', ...settings }, credentials: { accessToken: TOKEN, webhookSecret: SECRET } });
  beforeAll(async () => {
    single = new AdobeEmulator({ accessToken: TOKEN, webhookSecret: SECRET });
    url = await single.start();
    single.seed([{ sku: 'SS-1', title: 'Single one', levels: { default: 10 } }, { sku: 'SS-2', title: 'Single two', levels: { default: 10 } }]);
  });
  afterAll(async () => {
    expect(single.selfCheck()).toEqual([]);
    await single.stop();
  });

  test('the default stock item and its salable quantity are read, then the item is sent back whole with qty and is_in_stock changed, then read again', async () => {
    const from = single.requests.length;
    const t = { sku: 'SS-1', ref: single.listing('SS-1')!, locationId: 'default', level: 0, expected: 10, idempotencyKey: 'k' };
    expect(await c().push([t])).toEqual([{ sku: 'SS-1', locationId: 'default', status: 'applied', level: 0 }]);
    const sent = single.requests.slice(from).map((r) => `${r.method} ${r.path}`);
    // Out of stock after the write: Magento counts nothing salable there, so no salable quantity is asked.
    expect(sent).toEqual([
      'GET /rest/default/V1/stockItems/SS-1',
      'GET /rest/default/V1/inventory/get-product-salable-quantity/SS-1/1',
      `PUT /rest/default/V1/products/SS-1/stockItems/${single.product('SS-1')!.id}`,
      'GET /rest/default/V1/stockItems/SS-1',
    ]);
    const put = single.requests.slice(from)[2]!.body as { stockItem: Record<string, unknown> };
    expect(put.stockItem).toMatchObject({ qty: 0, is_in_stock: false, manage_stock: true, use_config_backorders: true });
    expect((await c().read([{ sku: 'SS-1', ref: single.listing('SS-1')!, locationId: 'default' }])).map((r) => r.available)).toEqual([0]);
  });

  test('a level moved on the store since it was read is reported stale, not overwritten; a location other than default is refused', async () => {
    await single.setLevel({ sku: 'SS-2', locationId: 'default', available: 8 });
    const outs = await c().push([
      { sku: 'SS-2', ref: single.listing('SS-2')!, locationId: 'default', level: 5, expected: 10, idempotencyKey: 'a' },
      { sku: 'SS-2', ref: single.listing('SS-2')!, locationId: 'warehouse', level: 5, expected: 10, idempotencyKey: 'b' },
    ]);
    expect(outs).toEqual([
      { sku: 'SS-2', locationId: 'default', status: 'stale', observed: 8 },
      { sku: 'SS-2', locationId: 'warehouse', status: 'failed', message: expect.stringContaining('map this channel\'s location to "default"') },
    ]);
    expect(single.level('SS-2', 'default')).toBe(8);
  });
});

describe('a store with the Inventory (MSI) modules off (inventory: single-source)', () => {
  test('no salable quantity to ask (404 of the route): the stock item’s qty, which legacy inventory deducts at once, is the level', async () => {
    const legacy = new AdobeEmulator({ accessToken: TOKEN, webhookSecret: SECRET, msi: false });
    const url = await legacy.start();
    try {
      legacy.seed([{ sku: 'LEG-1', title: 'Legacy', levels: { default: 10 } }]);
      const c = createAdobeConnector({ channelId: 'legacy', baseUrl: url, settings: { storeUrl: STORE, inventory: 'single-source' }, credentials: { accessToken: TOKEN, webhookSecret: SECRET } });
      const item = { sku: 'LEG-1', ref: legacy.listing('LEG-1')!, locationId: 'default' };
      await legacy.sell({ sku: 'LEG-1', quantity: 3, ship: false });
      expect((await c.read([item])).map((r) => r.available)).toEqual([7]);
      expect(await c.push([{ ...item, level: 5, expected: 7, idempotencyKey: 'leg' }])).toEqual([{ sku: 'LEG-1', locationId: 'default', status: 'applied', level: 5 }]);
      expect(legacy.level('LEG-1', 'default')).toBe(5);
      // The multi-source routes are not there: a fault of the channel that says to check the modules.
      const multi = createAdobeConnector({ channelId: 'legacy', baseUrl: url, settings: { storeUrl: STORE }, credentials: { accessToken: TOKEN, webhookSecret: SECRET } });
      await expect(multi.read([item])).rejects.toMatchObject({ status: 404, channelFault: true, message: expect.stringContaining('Inventory (MSI) modules are enabled') });
      expect(legacy.selfCheck()).toEqual([]);
    } finally {
      await legacy.stop();
    }
  });
});

describe('hide and relist', () => {
  test('product status 2 hides, 1 shows again, sent to the all store code; visibility is left alone', async () => {
    emu.seed([{ sku: 'HIDE-1', title: 'Hide me', levels: { 'gallery-src': 0 } }]);
    const from = emu.requests.length;
    await connector().hide(emu.listing('HIDE-1')!);
    expect([emu.product('HIDE-1')!.status, emu.product('HIDE-1')!.visibility]).toEqual([2, 4]);
    await connector().relist(emu.listing('HIDE-1')!);
    expect(emu.product('HIDE-1')!.status).toBe(1);
    expect(emu.requests.slice(from).map((r) => [r.method, r.path, r.body])).toEqual([
      ['PUT', '/rest/all/V1/products/HIDE-1', { product: { sku: 'HIDE-1', status: 2 } }],
      ['PUT', '/rest/all/V1/products/HIDE-1', { product: { sku: 'HIDE-1', status: 1 } }],
    ]);
  });
});

describe('settings', () => {
  test.each([
    [{ inventory: 'msi' }, /inventory must be "multi-source".*or "single-source"/],
    [{ pageSize: 301 }, /pageSize must be a whole number from 1 to 300/],
    [{ storeCode: 'Default Store View' }, /storeCode must be a store view code/],
  ])('%j is refused with what to give', (settings, message) => {
    expect(() => connector(settings)).toThrow(message);
  });

  test('the definition says what a channel needs', () => {
    expect([definition.platform, definition.displayName, definition.credentials, definition.requiredSettings]).toEqual(['adobe-commerce', 'Adobe Commerce (Magento)', ['accessToken', 'webhookSecret'], ['storeUrl']]);
    expect(definition.capabilities).toMatchObject({ push: ['absolute_set'], locations: true, polled: ['orders'], maxBatch: 20, rateLimit: { kind: 'unpublished' } });
    expect(definition.sandbox).toMatchObject({ byDefault: false, locations: { gallery: 'default' } });
  });
});

describe('answers the hub cannot trust: a clear error, nothing written, never a wrong level', () => {
  beforeAll(() => emu.seed([{ sku: 'BAD-1', title: 'Bad answers', levels: { 'gallery-src': 6 } }]));

  test.each<[string, (route: string, answer: unknown) => unknown, RegExp]>([
    ['a source item list naming a SKU that was not asked for', (route, a) => (route === 'GET /V1/inventory/source-items' ? { ...(a as object), items: [{ sku: 'SOMETHING-ELSE', source_code: 'gallery-src', quantity: 99, status: 1 }], total_count: 1 } : a), /"SOMETHING-ELSE", which was not asked for/],
    ['a quantity that is not a number', (route, a) => (route === 'GET /V1/inventory/source-items' ? { ...(a as object), items: [{ sku: 'BAD-1', source_code: 'gallery-src', quantity: '6', status: 1 }], total_count: 1 } : a), /quantity of BAD-1 at gallery-src is "6", not a number/],
    ['a list without total_count', (route, a) => (route === 'GET /V1/inventory/source-items' ? { items: [] } : a), /no items and total_count/],
    ['an HTML page with status 200 (a maintenance page)', () => '<html><body>Service Temporarily Unavailable</body></html>', /not JSON.*maintenance page/],
  ])('%s', async (_what, forge, message) => {
    emu.answerOverride = forge;
    const from = emu.requests.length;
    const c = connector();
    for (const op of [() => c.push([target('BAD-1', 'gallery-src', 2, 6)]), () => c.read([{ sku: 'BAD-1', ref: emu.listing('BAD-1')!, locationId: 'gallery-src' }])]) {
      const err = await op().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConnectorError);
      expect([(err as ConnectorError).channelFault, (err as ConnectorError).message]).toEqual([true, expect.stringMatching(message)]);
    }
    expect(writes(from)).toEqual([]);
    expect(emu.level('BAD-1', 'gallery-src')).toBe(6);
  });

  test('an order list that ignored the updated_at filter or lost its ids fails the poll (nothing stored), and so does a cursor this connector did not write', async () => {
    const c = connector();
    await emu.sell({ sku: 'BAD-1', quantity: 1, locationId: 'gallery-src' });
    const { cursor } = await c.poll!('orders', null);
    const later = JSON.stringify({ ...JSON.parse(cursor), hw: '2099-01-01 00:00:00' });
    const old = (route: string, a: unknown) => (route === 'GET /V1/orders' ? { ...(a as object), items: [{ ...DOCS_ORDER_3 }], total_count: 1 } : a);
    const noId = (route: string, a: unknown) => (route === 'GET /V1/orders' ? { ...(a as object), items: [{ ...DOCS_ORDER_3, entity_id: null }], total_count: 1 } : a);
    for (const [forge, message] of [[old, /before the .* asked for: the updated_at filter was ignored/], [noId, /item 1 has no entity_id/]] as const) {
      emu.answerOverride = forge;
      await expect(c.poll!('orders', later)).rejects.toThrow(message);
    }
    emu.answerOverride = null;
    await expect(c.poll!('orders', '{"v":2}')).rejects.toThrow(/not one this connector wrote/);
  });
});

describe('hooks (verify)', () => {
  const signed = (body: object, key = EMULATOR_PRIVATE_KEY) => {
    const raw = Buffer.from(JSON.stringify(body));
    const s = crypto.createSign('SHA256');
    s.update(raw.toString('base64'));
    return { raw, headers: { 'x-adobe-commerce-webhook-signature': s.sign(key, 'base64'), 'x-webhook-token': SECRET } };
  };
  const order = { data: { order: DOCS_ORDER_3 }, store_url: STORE };

  test('a hook signed over the base64 of its body, with the token and our store, verifies as its order version', () => {
    const { raw, headers } = signed(order);
    expect(connector().verify(raw, headers)).toEqual({ valid: true, eventId: expect.stringMatching(/^order-3@2017-08-21 22:22:20~[0-9a-f]{12}$/), topic: 'observer.sales_order_save_after', occurredAt: '2017-08-21T22:22:20.000Z' });
    // Cancelled in the same second: another version, another id.
    const cancelled = signed({ ...order, data: { order: { ...DOCS_ORDER_3, state: 'canceled' } } });
    const ids = [connector().verify(raw, headers), connector().verify(cancelled.raw, cancelled.headers)].map((v) => (v.valid ? v.eventId : v.reason));
    expect(new Set(ids).size).toBe(2);
    // The same store written another way (no trailing slash, capitals in the host).
    expect(connector({ storeUrl: 'https://SHOP.example.com' }).verify(raw, headers).valid).toBe(true);
  });

  test('refused: a signature over the raw body (not its base64), a wrong token, another store, no store, no public key, a key that is not one', () => {
    const { raw, headers } = signed(order);
    const overRaw = crypto.createSign('SHA256').update(raw).sign(EMULATOR_PRIVATE_KEY, 'base64');
    expect(connector().verify(raw, { ...headers, 'x-adobe-commerce-webhook-signature': overRaw })).toMatchObject({ valid: false, refusal: 'signature' });
    expect(connector().verify(raw, { ...headers, 'x-webhook-token': 'guess' })).toMatchObject({ valid: false, refusal: 'signature' });
    const other = signed({ ...order, store_url: 'https://other.example.com/' });
    expect(connector().verify(other.raw, other.headers)).toMatchObject({ valid: false, refusal: 'account', reason: expect.stringContaining('https://other.example.com') });
    const none = signed({ data: order.data });
    expect(connector().verify(none.raw, none.headers)).toMatchObject({ valid: false, refusal: 'account' });
    expect(connector({ webhookPublicKey: undefined }).verify(raw, headers)).toMatchObject({ valid: false, refusal: 'signature', reason: expect.stringContaining('webhookPublicKey') });
    expect(connector({ webhookPublicKey: 'not a key' }).verify(raw, headers)).toMatchObject({ valid: false, refusal: 'signature' });
    const both = signed({ data: { order: DOCS_ORDER_3, creditmemo: {} }, store_url: STORE });
    expect(connector().verify(both.raw, both.headers)).toMatchObject({ valid: false, refusal: 'topic' });
  });
});

describe('translate', () => {
  const memo = (items: object[], extra: object = {}) => ({ data: { creditmemo: { entity_id: 41, order_id: 3, created_at: '2017-08-23 10:00:00', order_currency_code: 'USD', grand_total: 22, items, ...extra } } });

  test('a credit memo: one refund line per item, restocked where back_to_stock is true; the REST answer (no such field) restocks nothing', () => {
    const [withFlag] = translate('observer.sales_order_creditmemo_save_after', memo([{ entity_id: 1, order_item_id: 3, sku: 'WS12-M-Orange', product_id: 1553, qty: 1, back_to_stock: true }, { entity_id: 2, order_item_id: 4, sku: '240-LV08', qty: 1, back_to_stock: false }, { entity_id: 3, order_item_id: 5, qty: 0 }]));
    expect(withFlag).toEqual({
      type: 'refund',
      refundId: '41',
      orderId: '3',
      occurredAt: '2017-08-23T10:00:00.000Z',
      money: { currency: 'USD', amount: 2200 },
      lines: [
        { lineId: '3', sku: 'WS12-M-Orange', ref: { productId: '1553', variantId: 'WS12-M-Orange' }, quantity: 1, locationId: null, restock: true },
        { lineId: '4', sku: '240-LV08', ref: { variantId: '240-LV08' }, quantity: 1, locationId: null, restock: false },
      ],
    });
    const [polled] = translate('observer.sales_order_creditmemo_save_after', memo([{ entity_id: 1, order_item_id: 3, sku: 'WS12-M-Orange', qty: 1 }]));
    expect(polled?.type === 'refund' && polled.lines.map((l) => l.restock)).toEqual([false]);
  });

  test('the tutorial order: the simple and downloadable lines and the bundle’s three children, not the bundle line', () => {
    const [sale] = translate('observer.sales_order_save_after', { data: { order: DOCS_ORDER_3 } });
    expect(sale?.type === 'sale' && sale.lines.map((l) => [l.lineId, l.sku, l.quantity])).toEqual([
      ['3', 'WS12-M-Orange', 1],
      ['4', '240-LV08', 1],
      ['6', '24-WG082-blue', 1],
      ['7', '24-WG084', 1],
      ['8', '24-WG086', 1],
    ]);
  });

  test('the tutorial order’s money and states for the transaction log, in cents', () => {
    const [sale] = translate('observer.sales_order_save_after', { data: { order: DOCS_ORDER_3 } });
    expect(sale?.type === 'sale' && sale.order).toEqual({
      currency: 'USD',
      subtotal: 16000,
      discount: 0,
      tax: 0,
      shipping: 500,
      total: 16500,
      paymentStatus: 'pending',
      fulfilmentStatus: 'unfulfilled',
      customerRef: '3',
      contact: { name: 'Jane Doe', email: 'jdoe@example.com' },
      number: '000000003',
      placedAt: '2017-08-21T22:22:19.000Z',
      lines: [
        { lineId: '3', sku: 'WS12-M-Orange', title: 'Radiant Tee-M-Orange', quantity: 1, unitPrice: 2200, discount: 0, tax: 0, total: 2200 },
        { lineId: '4', sku: '240-LV08', title: 'Advanced Pilates & Yoga (Strength)', quantity: 1, unitPrice: 1800, discount: 0, tax: 0, total: 1800 },
        { lineId: '6', sku: '24-WG082-blue', title: 'Sprite Stasis Ball 65 cm', quantity: 1, unitPrice: 2700, discount: 0, tax: 0, total: 2700 },
        { lineId: '7', sku: '24-WG084', title: 'Sprite Foam Yoga Brick', quantity: 1, unitPrice: 500, discount: 0, tax: 0, total: 500 },
        { lineId: '8', sku: '24-WG086', title: 'Sprite Yoga Strap 8 foot', quantity: 1, unitPrice: 1700, discount: 0, tax: 0, total: 1700 },
      ],
    });
    // Unreadable money leaves the details out, never the sale.
    const [bare] = translate('observer.sales_order_save_after', { data: { order: { ...DOCS_ORDER_3, order_currency_code: 'dollars' } } });
    expect(bare?.type === 'sale' && [bare.order, bare.lines.length]).toEqual([undefined, 5]);
  });

  test('a configurable product: its parent line (with the chosen SKU) is the stock line; its child is skipped', () => {
    const order = { ...DOCS_ORDER_3, items: [{ item_id: 10, product_type: 'configurable', sku: 'MH01-XS-Black', qty_ordered: 2 }, { item_id: 11, product_type: 'simple', sku: 'MH01-XS-Black', qty_ordered: 2, parent_item_id: 10 }] };
    const [sale] = translate('observer.sales_order_save_after', { data: { order } });
    expect(sale?.type === 'sale' && sale.lines.map((l) => [l.lineId, l.quantity])).toEqual([['10', 2]]);
  });

  test.each<[string, string, unknown, RegExp]>([
    ['an order without items', 'observer.sales_order_save_after', { data: { order: { ...DOCS_ORDER_3, items: undefined } } }, /lacks entity_id, state, created_at or items/],
    ['a fractional quantity', 'observer.sales_order_save_after', { data: { order: { ...DOCS_ORDER_3, items: [{ item_id: 1, sku: 'X', qty_ordered: 1.5 }] } } }, /not a whole, non-negative quantity/],
    ['a body under another topic', 'observer.sales_order_creditmemo_save_after', { data: { order: DOCS_ORDER_3 } }, /must carry data.creditmemo/],
    ['a source item without a quantity', 'plugin.magento.inventory_api.api.source_items_save.execute', { data: { sourceItems: [{ sku: 'X', source_code: 'default' }] } }, /lacks sku, source_code or a numeric quantity/],
    ['a topic the connector does not read', 'observer.catalog_product_save_after', { data: {} }, /is not an Adobe Commerce hook this connector reads/],
  ])('%s is unreadable, never a guess', (_what, topic, body, message) => {
    expect(() => translate(topic, body)).toThrow(TranslateError);
    expect(() => translate(topic, body)).toThrow(message);
  });
});
