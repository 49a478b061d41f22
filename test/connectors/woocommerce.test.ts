/**
 * WooCommerce connector: contract tests against the WooCommerce emulator on 127.0.0.1 through the
 * official @woocommerce/woocommerce-rest-api client (OAuth 1.0a over http), signature tests following
 * WC_Webhook::generate_signature, and translation tests from the REST API docs' order example.
 */
import crypto from 'node:crypto';
import fc from 'fast-check';
import WooCommerceRestApi from '@woocommerce/woocommerce-rest-api';
import { matchCatalog } from '../../server/core/catalog-match';
import { ConnectorError, TranslateError, type ChannelFact, type Connector, type PushTarget } from '../../server/connectors/types';
import { definition, createWooConnector } from '../../server/connectors/woocommerce';
import { WooEmulator, phpJson } from '../../server/connectors/woocommerce/emulator';
import { translate } from '../../server/connectors/woocommerce/translate';
import { isWooPing, signWooWebhook, verifyWooWebhook, wpSpecialcharsDecode } from '../../server/connectors/woocommerce/verify';
import { TOPIC_OF, WebhookSink } from './helpers/webhook-sink';
import { DOCS_ORDER_727 } from './fixtures/woocommerce-documented';

const CK = 'ck_0123456789abcdef0123456789abcdef01234567';
const CS = 'cs_89abcdef0123456789abcdef0123456789abcdef';
const WHSEC = 'gallery webhook secret';
const LOC = 'default';

let emu: WooEmulator;
let baseUrl: string;
let sink: WebhookSink;
let sinkAddress: string;

function connector(credentials: Record<string, string> = {}, settings: Record<string, unknown> = {}, url: string | null = baseUrl): Connector {
  return createWooConnector({ channelId: 'woo-web', baseUrl: url, settings, credentials: { consumerKey: CK, consumerSecret: CS, webhookSecret: WHSEC, ...credentials } });
}

function rawApi(secret = CS): WooCommerceRestApi {
  return new WooCommerceRestApi({ url: baseUrl, consumerKey: CK, consumerSecret: secret, version: 'wc/v3', axiosConfig: { validateStatus: () => true, proxy: false } });
}

function target(sku: string, level: number, expected: number | null): PushTarget {
  const ref = emu.listing(sku);
  if (!ref) throw new Error(`no listing ${sku}`);
  return { sku, ref, locationId: LOC, level, expected, idempotencyKey: `t-${sku}-${level}` };
}

const calls = () => emu.requests.map((r) => `${r.method} ${r.path.replace('/wp-json/wc/v3', '')}`);

beforeEach(async () => {
  emu = new WooEmulator({ consumerKey: CK, consumerSecret: CS, webhookSecret: WHSEC });
  baseUrl = await emu.start();
  sink = new WebhookSink('/v1/webhooks/woo-web', TOPIC_OF.woocommerce);
  sinkAddress = await sink.start();
  emu.subscribe(sinkAddress);
  emu.seed([
    { sku: 'ART-001', title: 'Dot painting, small', levels: { [LOC]: 5 } },
    { sku: 'ART-002', title: 'Dot painting, large', levels: { [LOC]: 1 } },
  ]);
});

afterEach(async () => {
  await emu.flushWebhooks();
  await emu.stop();
  await sink.stop();
});

describe('definition', () => {
  it('declares woocommerce: credentials consumerKey/consumerSecret/webhookSecret, no required settings, absolute_set only, no locations, 100 per batch, unpublished rate limit', () => {
    expect(definition.platform).toBe('woocommerce');
    expect(definition.credentials).toEqual(['consumerKey', 'consumerSecret', 'webhookSecret']);
    expect(definition.requiredSettings).toEqual([]);
    expect(definition.capabilities.push).toEqual(['absolute_set']);
    expect(definition.capabilities.locations).toBe(false);
    expect(definition.capabilities.maxBatch).toBe(100);
    expect(definition.capabilities.rateLimit.kind).toBe('unpublished');
    expect(definition.capabilities.webhooks).toEqual(['order.created', 'order.updated', 'product.updated', 'action.woocommerce_order_refunded']);
    expect(emu.locations()).toEqual(['default']);
  });

  it('needs a store address and both API credentials; pageSize is 1–100', () => {
    expect(() => connector({}, {}, null)).toThrow(/baseUrl \(or the setting storeUrl\)/);
    expect(() => connector({ consumerKey: '' })).toThrow(/consumerKey/);
    expect(() => connector({ consumerSecret: '' })).toThrow(/consumerSecret/);
    expect(() => connector({}, { pageSize: 101 })).toThrow(/pageSize/);
    expect(() => connector({}, { storeUrl: baseUrl }, null)).not.toThrow();
  });
});

describe('auth (the library over http signs OAuth 1.0a; the emulator checks it as WC_REST_Authentication does)', () => {
  it('the library sends oauth_* query parameters with HMAC-SHA256 and the emulator accepts them', async () => {
    const res = (await rawApi().get('products', { per_page: 1 })) as { status: number; config: { url: string; params: Record<string, string> } };
    expect(res.status).toBe(200);
    expect(Object.keys(res.config.params)).toEqual(expect.arrayContaining(['oauth_consumer_key', 'oauth_nonce', 'oauth_signature', 'oauth_signature_method', 'oauth_timestamp', 'oauth_version']));
    expect(res.config.params.oauth_signature_method).toBe('HMAC-SHA256');
    expect(res.config.params.oauth_consumer_key).toBe(CK);
    expect(JSON.stringify(res.config)).not.toContain(CS);
  });

  it('a request signed by hand (HMAC-SHA1, RFC 5849 base string) is accepted; the same nonce again is refused', async () => {
    const url = `${baseUrl}/wp-json/wc/v3/products`;
    const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const params: Record<string, string> = { oauth_consumer_key: CK, oauth_nonce: 'abcdef0123456789abcdef0123456789', oauth_signature_method: 'HMAC-SHA1', oauth_timestamp: String(Math.floor(Date.now() / 1000)), per_page: '5' };
    const norm = Object.keys(params).sort().map((k) => `${enc(k)}=${enc(params[k]!)}`).join('&');
    const sig = crypto.createHmac('sha1', `${CS}&`).update(`GET&${enc(url)}&${enc(norm)}`).digest('base64');
    const q = new URLSearchParams({ ...params, oauth_signature: sig }).toString();
    const ok = await fetch(`${url}?${q}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-wp-total')).toBe('2');
    const replay = await fetch(`${url}?${q}`);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toEqual({ code: 'woocommerce_rest_authentication_error', message: 'Invalid nonce - nonce has already been used.', data: { status: 401 } });
  });

  it('HTTP Basic over plain http is not read (WooCommerce reads it only over TLS): 401 woocommerce_rest_cannot_view', async () => {
    const res = await fetch(`${baseUrl}/wp-json/wc/v3/products`, { headers: { authorization: `Basic ${Buffer.from(`${CK}:${CS}`).toString('base64')}` } });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 'woocommerce_rest_cannot_view', message: 'Sorry, you cannot list resources.', data: { status: 401 } });
    const put = await fetch(`${baseUrl}/wp-json/wc/v3/products/batch`, { method: 'POST' });
    expect(((await put.json()) as { code: string }).code).toBe('woocommerce_rest_cannot_batch');
  });
});

describe('listCatalog and discovery', () => {
  it('pages by X-WP-TotalPages through products and the variations of variable products; grouped and external products are skipped', async () => {
    const tee = emu.addVariable({ name: 'Tee', variations: [{ sku: 'TEE-S', option: 'S', stock: 2 }, { sku: 'TEE-M', option: 'M', stock: 0 }, { sku: '', option: 'L', stock: 1 }] });
    emu.addProduct({ sku: 'GIFT', name: 'Gift set', type: 'grouped' });
    emu.addProduct({ sku: 'ART-003', name: 'Bark painting', stock: 4 });
    const listings = await connector({}, { pageSize: 2 }).listCatalog();
    // Newest first, as WooCommerce lists (orderby date desc).
    expect(listings.map((l) => l.sku)).toEqual(['ART-003', null, 'TEE-M', 'TEE-S', 'ART-002', 'ART-001']);
    expect(listings.find((l) => l.sku === 'TEE-S')).toEqual({ sku: 'TEE-S', title: 'Tee — S', ref: { productId: String(tee.parent.id), variantId: String(tee.variations[0]!.id) } });
    expect(listings.find((l) => l.sku === 'ART-001')!.ref).toEqual(emu.listing('ART-001'));
    expect(calls()).toEqual(['GET /products', 'GET /products', 'GET /products', `GET /products/${tee.parent.id}/variations`, `GET /products/${tee.parent.id}/variations`]);
    expect(emu.requests.map((r) => r.query.page)).toEqual(['1', '2', '3', '1', '2']);
  });

  it('lists 232 products in three pages of 100 by default', async () => {
    for (let i = 0; i < 230; i++) emu.addProduct({ sku: `BULK-${i}`, name: `Bulk ${i}`, stock: 1 });
    expect(await connector().listCatalog()).toHaveLength(232);
    expect(emu.requests.map((r) => [r.query.per_page, r.query.page])).toEqual([['100', '1'], ['100', '2'], ['100', '3']]);
  });

  it('matchCatalog maps unique SKUs and reports empty, unknown, duplicated and missing SKUs', async () => {
    emu.addProduct({ sku: 'ART-002', name: 'Dot painting, large (copy)', stock: 1 });
    emu.addProduct({ sku: '', name: 'Custom commission', stock: 1 });
    emu.addProduct({ sku: 'NOT-OURS', name: 'Consignment piece', stock: 1 });
    const report = matchCatalog(['ART-001', 'ART-002', 'ART-009'], await connector().listCatalog());
    expect(report.matched).toEqual([{ sku: 'ART-001', ref: emu.listing('ART-001'), title: 'Dot painting, small' }]);
    expect(report.duplicated.map((d) => [d.sku, d.listings.length])).toEqual([['ART-002', 2]]);
    expect(report.unmatched.map((l) => l.sku).sort()).toEqual(['NOT-OURS', null].sort());
    expect(report.missing).toEqual(['ART-009']);
  });
});

describe('read', () => {
  it('reads stock_quantity with one include= list per products collection / parent; unmanaged stock and other locations are left out', async () => {
    const tee = emu.addVariable({ name: 'Tee', variations: [{ sku: 'TEE-S', option: 'S', stock: 2 }, { sku: 'TEE-M', option: 'M', stock: null }] });
    const c = connector();
    const readings = await c.read([
      { sku: 'ART-001', ref: emu.listing('ART-001')!, locationId: LOC },
      { sku: 'ART-002', ref: emu.listing('ART-002')!, locationId: LOC },
      { sku: 'TEE-S', ref: emu.listing('TEE-S')!, locationId: LOC },
      { sku: 'TEE-M', ref: emu.listing('TEE-M')!, locationId: LOC },
      { sku: 'ART-001', ref: emu.listing('ART-001')!, locationId: 'warehouse' },
    ]);
    expect(readings.map((r) => [r.sku, r.available])).toEqual([['ART-001', 5], ['ART-002', 1], ['TEE-S', 2]]);
    expect(calls()).toEqual(['GET /products', `GET /products/${tee.parent.id}/variations`]);
    expect(emu.requests[0]!.query).toEqual({ include: `${emu.listing('ART-001')!.productId},${emu.listing('ART-002')!.productId}`, per_page: '100' });
  });
});

describe('push (absolute set, read before and read back after)', () => {
  it('one target: reads, PUTs /products/{id} {manage_stock: true, stock_quantity}, reads back, reports applied with the level read back', async () => {
    const id = emu.listing('ART-001')!.productId;
    const [out] = await connector().push([target('ART-001', 9, 5)]);
    expect(out).toEqual({ sku: 'ART-001', locationId: LOC, status: 'applied', level: 9 });
    expect(emu.level('ART-001', LOC)).toBe(9);
    expect(calls()).toEqual(['GET /products', `PUT /products/${id}`, 'GET /products']);
    expect(emu.requests[1]!.body).toEqual({ manage_stock: true, stock_quantity: 9 });
  });

  it('the store moved since the hub read it (expected 5, store 3): stale with observed 3, nothing written', async () => {
    await emu.setLevel({ sku: 'ART-001', available: 3 });
    const outs = await connector().push([target('ART-001', 9, 5), target('ART-002', 4, 1)]);
    expect(outs).toEqual([
      { sku: 'ART-001', locationId: LOC, status: 'stale', observed: 3 },
      { sku: 'ART-002', locationId: LOC, status: 'applied', level: 4 },
    ]);
    expect(emu.level('ART-001', LOC)).toBe(3);
    expect(calls().filter((c) => c.startsWith('PUT') || c.startsWith('POST'))).toEqual([`PUT /products/${emu.listing('ART-002')!.productId}`]);
  });

  it('a sale landing between our write and the read-back: stale with the level read back (store keeps the sale)', async () => {
    emu.afterStockWrite = (sku) => {
      emu.afterStockWrite = null;
      void emu.sell({ sku, quantity: 1 });
    };
    const [out] = await connector().push([target('ART-001', 9, 5)]);
    expect(out).toEqual({ sku: 'ART-001', locationId: LOC, status: 'stale', observed: 8 });
    expect(emu.level('ART-001', LOC)).toBe(8);
  });

  it('a push of an unknown level (an earlier attempt got no answer) that is already there is applied without writing again; expected null writes without a compare', async () => {
    const c = connector();
    await c.push([target('ART-002', 6, 1)]);
    const before = emu.requests.length;
    // Nothing written: the hub records that this number of ours was found there, not written over a sale.
    expect(await c.push([target('ART-002', 6, null)])).toEqual([{ sku: 'ART-002', locationId: LOC, status: 'applied', level: 6, wrote: false }]);
    expect(calls().slice(before)).toEqual(['GET /products']);
    // Known to have been 1: the store showing 6 now moved on its own (a sale or a restock there), a change to explain.
    expect(await c.push([target('ART-002', 6, 1)])).toEqual([{ sku: 'ART-002', locationId: LOC, status: 'stale', observed: 6 }]);
    expect(await c.push([target('ART-002', 2, null)])).toEqual([{ sku: 'ART-002', locationId: LOC, status: 'applied', level: 2 }]);
  });

  it('a first push finding the store already at its level, but moved there from the level we knew, is stale: the store changed on its own (simulation seeds 22, 51)', async () => {
    // We knew 3; a restock on the store (its webhook lost) made it 4, which is also what we now publish.
    await emu.setLevel({ sku: 'ART-001', available: 4 });
    const before = emu.requests.length;
    expect(await connector().push([target('ART-001', 4, 3)])).toEqual([{ sku: 'ART-001', locationId: LOC, status: 'stale', observed: 4 }]);
    expect(emu.requests.slice(before).map((r) => r.method)).toEqual(['GET']);
  });

  it('250 simple targets go as POST /products/batch of 100, 100 and 50 updates; all applied', async () => {
    const targets: PushTarget[] = [];
    for (let i = 0; i < 250; i++) {
      emu.addProduct({ sku: `B-${i}`, name: `Bulk ${i}`, stock: 0 });
      targets.push(target(`B-${i}`, i + 1, 0));
    }
    const outs = await connector().push(targets);
    expect(outs.every((o) => o.status === 'applied')).toBe(true);
    const batches = emu.requests.filter((r) => r.path.endsWith('/products/batch')).map((r) => (r.body as { update: unknown[] }).update.length);
    expect(batches).toEqual([100, 100, 50]);
    expect((emu.requests.find((r) => r.path.endsWith('/batch'))!.body as { update: unknown[] }).update[0]).toEqual({ id: Number(emu.listing('B-0')!.productId), manage_stock: true, stock_quantity: 1 });
    expect(emu.level('B-249', LOC)).toBe(250);
  });

  it('variations go to /products/{pid}/variations/batch; a single one to PUT /products/{pid}/variations/{vid}', async () => {
    const tee = emu.addVariable({ name: 'Tee', variations: [{ sku: 'TEE-S', option: 'S', stock: 2 }, { sku: 'TEE-M', option: 'M', stock: 1 }] });
    const outs = await connector().push([target('TEE-S', 7, 2), target('TEE-M', 8, 1)]);
    expect(outs.map((o) => o.status)).toEqual(['applied', 'applied']);
    expect(calls()).toEqual([`GET /products/${tee.parent.id}/variations`, `POST /products/${tee.parent.id}/variations/batch`, `GET /products/${tee.parent.id}/variations`]);
    emu.requests.length = 0;
    await connector().push([target('TEE-S', 3, 7)]);
    expect(calls()).toContain(`PUT /products/${tee.parent.id}/variations/${tee.variations[0]!.id}`);
    expect([emu.level('TEE-S', LOC), emu.level('TEE-M', LOC)]).toEqual([3, 8]);
  });

  it('fails, without writing, a target at another location, a negative level, and a product the store does not have', async () => {
    const outs = await connector().push([
      { ...target('ART-001', 1, 5), locationId: 'warehouse' },
      target('ART-001', -1, 5),
      { sku: 'GONE', ref: { productId: '99999', variantId: '99999' }, locationId: LOC, level: 1, expected: null, idempotencyKey: 'g' },
    ]);
    expect(outs.map((o) => o.status)).toEqual(['failed', 'failed', 'failed']);
    expect(outs[2]).toMatchObject({ message: expect.stringMatching(/no product 99999/) });
    expect(calls().filter((c) => !c.startsWith('GET'))).toEqual([]);
  });

  it('the emulator answers a batch over 100 with 413 woocommerce_rest_request_entity_too_large, and an unknown id inside a batch with a per-item error', async () => {
    const tooMany = (await rawApi().post('products/batch', { update: Array.from({ length: 101 }, (_, i) => ({ id: i + 1 })) })) as { status: number; data: unknown };
    expect(tooMany.status).toBe(413);
    expect(tooMany.data).toEqual({ code: 'woocommerce_rest_request_entity_too_large', message: 'Unable to accept more than 100 items for this request.', data: { status: 413 } });
    const mixed = (await rawApi().post('products/batch', { update: [{ id: 99999, stock_quantity: 1 }] })) as { data: { update: unknown[] } };
    expect(mixed.data.update).toEqual([{ id: 99999, error: { code: 'woocommerce_rest_product_invalid_id', message: 'Invalid ID.', data: { status: 400 } } }]);
  });
});

describe('hide and relist', () => {
  it('a simple product: catalog_visibility hidden, then visible', async () => {
    const c = connector();
    const ref = emu.listing('ART-001')!;
    await c.hide(ref);
    expect(emu.product('ART-001')!.catalogVisibility).toBe('hidden');
    await c.relist(ref);
    expect(emu.product('ART-001')!.catalogVisibility).toBe('visible');
    expect(emu.requests.map((r) => r.body)).toEqual([{ catalog_visibility: 'hidden' }, { catalog_visibility: 'visible' }]);
  });

  it('a variation: disabled (status private), then enabled (status publish)', async () => {
    emu.addVariable({ name: 'Tee', variations: [{ sku: 'TEE-S', option: 'S', stock: 2 }] });
    await connector().hide(emu.listing('TEE-S')!);
    expect(emu.product('TEE-S')!.status).toBe('private');
    await connector().relist(emu.listing('TEE-S')!);
    expect(emu.product('TEE-S')!.status).toBe('publish');
  });

  it('hiding an unknown product is a non-retryable ConnectorError carrying WooCommerce’s code', async () => {
    const err = (await connector().hide({ productId: '4242', variantId: '4242' }).catch((e: unknown) => e)) as ConnectorError;
    expect(err).toBeInstanceOf(ConnectorError);
    expect([err.status, err.retryable]).toEqual([400, false]);
    expect(err.message).toMatch(/woocommerce_rest_product_invalid_id: Invalid ID\./);
    // A refusal of that one item (a dead letter of its push), not a fault of the channel.
    expect(err.channelFault).toBe(false);
  });
});

describe('errors', () => {
  it('a wrong consumer key: 401 "Consumer key is invalid.", not retryable, and the message names neither key nor secret', async () => {
    const err = (await connector({ consumerKey: 'ck_wrong_key_value' }).listCatalog().catch((e: unknown) => e)) as ConnectorError;
    expect(err).toBeInstanceOf(ConnectorError);
    expect([err.status, err.retryable, err.channelFault]).toEqual([401, false, true]);
    expect(err.message).toMatch(/Consumer key is invalid/);
    expect(err.message).not.toContain('ck_wrong_key_value');
    expect(err.message).not.toContain(CS);
  });

  it('a wrong consumer secret: 401 invalid signature', async () => {
    const err = (await connector({ consumerSecret: 'cs_wrong' }).read([{ sku: 'ART-001', ref: emu.listing('ART-001')!, locationId: LOC }]).catch((e: unknown) => e)) as ConnectorError;
    expect([err.status, err.retryable]).toEqual([401, false]);
    expect(err.message).toMatch(/Invalid signature - provided signature does not match/);
    expect(err.message).not.toContain('cs_wrong');
  });

  it('a 500 (WordPress critical error) is retryable with its status; the next call works', async () => {
    emu.faults.api.failNext = 1;
    const err = (await connector().listCatalog().catch((e: unknown) => e)) as ConnectorError;
    expect([err.status, err.retryable]).toEqual([500, true]);
    expect(err.message).toMatch(/critical error/);
    expect((await connector().listCatalog()).length).toBe(2);
  });

  // The host's 429 (HTML body, Retry-After) on every kind of request: the conformance suite (woocommerce.conformance.test.ts).

  it('a wrong store path is 404 rest_no_route, not retryable; per_page 101 is refused by the emulator as WordPress does', async () => {
    const err = (await connector({}, {}, `${baseUrl}/shop`).listCatalog().catch((e: unknown) => e)) as ConnectorError;
    expect([err.status, err.retryable, err.channelFault]).toEqual([404, false, true]);
    expect(err.message).toMatch(/^The WooCommerce REST API v3 was not found at .*\/shop\/wp-json\/wc\/v3 \(HTTP 404\) \(rest_no_route: No route was found/);
    // A push to a store whose API is not there is refused as a whole: the channel's fault, never each item's.
    const pushErr = (await connector({}, {}, `${baseUrl}/shop`).push([target('ART-001', 1, 5)]).catch((e: unknown) => e)) as ConnectorError;
    expect([pushErr.status, pushErr.channelFault]).toEqual([404, true]);
    const res = (await rawApi().get('products', { per_page: 101 })) as { status: number; data: { code: string } };
    expect([res.status, res.data.code]).toEqual([400, 'rest_invalid_param']);
  });

  it('an unreachable store is a retryable ConnectorError without status', async () => {
    const dead = new WooEmulator({ consumerKey: CK, consumerSecret: CS, webhookSecret: WHSEC });
    const url = await dead.start();
    await dead.stop();
    const err = (await connector({}, {}, url).listCatalog().catch((e: unknown) => e)) as ConnectorError;
    expect(err).toBeInstanceOf(ConnectorError);
    expect([err.retryable, err.status]).toEqual([true, null]);
  });
});

describe('verify', () => {
  const body = '{"id":727,"status":"processing"}';
  const headersFor = (raw: string, secret: string, deliveryId = '9f2c7e1b5d0a4c3e8b6f1a2d3c4e5f60') => ({
    'x-wc-webhook-signature': signWooWebhook(raw, secret),
    'x-wc-webhook-topic': 'order.created',
    'x-wc-webhook-resource': 'order',
    'x-wc-webhook-event': 'created',
    'x-wc-webhook-id': '12',
    'x-wc-webhook-delivery-id': deliveryId,
    'x-wc-webhook-source': 'https://gallery.example.com/',
  });

  it('accepts base64(HMAC-SHA256(secret, raw body)) computed independently; event id = delivery id + body digest', () => {
    const sig = crypto.createHmac('sha256', 'test_secret').update(body).digest('base64');
    const { 'x-wc-webhook-signature': _drop, ...rest } = headersFor(body, 'x');
    const r = verifyWooWebhook(Buffer.from(body), { ...rest, 'X-WC-Webhook-Signature': sig }, 'test_secret');
    expect(r).toEqual({ valid: true, eventId: `9f2c7e1b5d0a4c3e8b6f1a2d3c4e5f60.${crypto.createHash('sha256').update(body).digest('hex').slice(0, 16)}`, topic: 'order.created', occurredAt: null });
  });

  it('decodes HTML entities in the secret as wp_specialchars_decode does: a secret stored as "sec&amp;ret" signs with "sec&ret"', () => {
    const stored = 'sec&amp;ret&#039;s';
    const sig = crypto.createHmac('sha256', "sec&ret's").update(body).digest('base64');
    const h = { ...headersFor(body, 'x'), 'x-wc-webhook-signature': sig };
    expect(signWooWebhook(body, stored)).toBe(sig);
    expect(verifyWooWebhook(Buffer.from(body), h, stored).valid).toBe(true);
    expect(verifyWooWebhook(Buffer.from(body), h, "sec&ret's").valid).toBe(true);
    const literal = crypto.createHmac('sha256', stored).update(body).digest('base64');
    expect(verifyWooWebhook(Buffer.from(body), { ...h, 'x-wc-webhook-signature': literal }, stored).valid).toBe(false);
    expect(wpSpecialcharsDecode('&amp;lt; &lt; &#x3C; &quot;')).toBe('&lt; < < "');
  });

  it('two different events with the same delivery id (same webhook, same second) get different event ids; a redelivery the same', () => {
    const other = '{"id":728,"status":"processing"}';
    const a = verifyWooWebhook(Buffer.from(body), headersFor(body, WHSEC), WHSEC);
    const b = verifyWooWebhook(Buffer.from(other), headersFor(other, WHSEC), WHSEC);
    const again = verifyWooWebhook(Buffer.from(body), headersFor(body, WHSEC), WHSEC);
    expect(a.valid && b.valid && again.valid).toBe(true);
    if (a.valid && b.valid && again.valid) {
      expect(a.eventId).not.toBe(b.eventId);
      expect(again.eventId).toBe(a.eventId);
    }
  });

  it('rejects a tampered body, a wrong secret, a missing or garbled signature, repeated-but-different headers, an empty body, a missing delivery id', () => {
    const h = headersFor(body, WHSEC);
    expect(verifyWooWebhook(Buffer.from(body.replace('727', '728')), h, WHSEC).valid).toBe(false);
    expect(verifyWooWebhook(Buffer.from(body), h, 'another secret').valid).toBe(false);
    expect(verifyWooWebhook(Buffer.from(body), { ...h, 'x-wc-webhook-signature': undefined }, WHSEC)).toEqual({ valid: false, reason: expect.stringMatching(/no X-WC-Webhook-Signature/) });
    expect(verifyWooWebhook(Buffer.from(body), { ...h, 'x-wc-webhook-signature': 'not base64 !!' }, WHSEC).valid).toBe(false);
    expect(verifyWooWebhook(Buffer.from(body), { ...h, 'x-wc-webhook-signature': [h['x-wc-webhook-signature'], 'AAAA'] }, WHSEC).valid).toBe(false);
    expect(verifyWooWebhook(Buffer.from(body), { ...h, 'x-wc-webhook-signature': [h['x-wc-webhook-signature']] }, WHSEC).valid).toBe(true);
    expect(verifyWooWebhook(Buffer.alloc(0), h, WHSEC).valid).toBe(false);
    expect(verifyWooWebhook(Buffer.from(body), { ...h, 'x-wc-webhook-delivery-id': undefined }, WHSEC).valid).toBe(false);
    expect(verifyWooWebhook(Buffer.from(body), h, '').valid).toBe(false);
    // The unsigned ping WooCommerce sends when a webhook is created.
    expect(verifyWooWebhook(Buffer.from('webhook_id=12'), {}, WHSEC).valid).toBe(false);
  });

  it('recognises only the unsigned webhook_id ping as an address check (answered 200, nothing stored)', () => {
    expect(isWooPing(Buffer.from('webhook_id=12'), { 'content-type': 'application/x-www-form-urlencoded' })).toBe(true);
    // A signed delivery, an event header, another body or a long id is not a ping.
    expect(isWooPing(Buffer.from('webhook_id=12'), { 'x-wc-webhook-signature': 'AAAA' })).toBe(false);
    expect(isWooPing(Buffer.from('webhook_id=12'), { 'x-wc-webhook-topic': 'order.created' })).toBe(false);
    expect(isWooPing(Buffer.from('webhook_id=12&x=1'), {})).toBe(false);
    expect(isWooPing(Buffer.from('{"webhook_id":12}'), {})).toBe(false);
    expect(isWooPing(Buffer.from(`webhook_id=${'9'.repeat(30)}`), {})).toBe(false);
  });

  it('never throws, whatever bytes and headers arrive', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.array(fc.string()), fc.constant(undefined))), fc.string(), (bytes, headers, secret) => {
        expect(typeof verifyWooWebhook(Buffer.from(bytes), headers, secret).valid).toBe('boolean');
      }),
      { numRuns: 300 },
    );
    expect(verifyWooWebhook(null as unknown as Buffer, null as unknown as Record<string, string>, WHSEC).valid).toBe(false);
  });

  it('the connector verifies with its webhookSecret credential', () => {
    const order = '{"id":727,"status":"processing","line_items":[]}';
    const store = { storeUrl: 'https://gallery.example.com' };
    expect(connector({}, store).verify(Buffer.from(order), headersFor(order, WHSEC)).valid).toBe(true);
    expect(connector({ webhookSecret: 'rotated' }, store).verify(Buffer.from(order), headersFor(order, WHSEC)).valid).toBe(false);
  });
});

describe('translate (documented payloads)', () => {
  // The REST API docs' "Create an order" example, order 727 (test/connectors/fixtures/woocommerce-documented.ts).
  const docOrder = DOCS_ORDER_727;

  const saleOfDoc: ChannelFact = {
    type: 'sale',
    orderId: '727',
    occurredAt: '2017-03-22T19:28:02.000Z',
    lines: [
      { lineId: '315', sku: null, ref: { productId: '93', variantId: '93' }, quantity: 2, locationId: 'default' },
      { lineId: '316', sku: 'Bar3', ref: { productId: '22', variantId: '23' }, quantity: 1, locationId: 'default' },
    ],
  };

  it('order.created (docs order 727, processing) → one sale; ids from the line items, time from date_created_gmt (UTC)', () => {
    expect(translate('order.created', docOrder, {})).toEqual([saleOfDoc]);
  });

  it('the same order as order.updated, completed or on-hold, or sent twice, translates to the identical sale; pending and failed give nothing', () => {
    for (const status of ['processing', 'completed', 'on-hold']) expect(translate('order.updated', { ...docOrder, status }, {})).toEqual([saleOfDoc]);
    expect(translate('order.created', { ...docOrder, status: 'pending' }, {})).toEqual([]);
    expect(translate('order.updated', { ...docOrder, status: 'failed' }, {})).toEqual([]);
  });

  it('a refund that restocked 1 of line 315 (_restock_refunded_items = 1) → the sale plus one restocked unit under a stable refund id', () => {
    const refunded = {
      ...docOrder,
      date_modified_gmt: '2017-03-23T10:00:00',
      refunds: [{ id: 726, reason: '', total: '-3.00' }],
      line_items: [{ ...docOrder.line_items[0]!, meta_data: [{ id: 9001, key: '_reduced_stock', value: '1' }, { id: 9002, key: '_restock_refunded_items', value: '1' }] }, docOrder.line_items[1]!],
    };
    const facts = translate('order.updated', refunded, {});
    expect(facts).toEqual([
      saleOfDoc,
      {
        type: 'refund',
        refundId: 'order-727-refund-restocks',
        orderId: '727',
        occurredAt: '2017-03-23T10:00:00.000Z',
        lines: [{ lineId: '315:restock:1', sku: null, ref: { productId: '93', variantId: '93' }, quantity: 1, locationId: 'default', restock: true }],
      },
    ]);
    // A later refund restocking the second unit adds unit 2 and keeps unit 1's key.
    const later = { ...refunded, line_items: [{ ...refunded.line_items[0]!, meta_data: [{ id: 9002, key: '_restock_refunded_items', value: '2' }] }, docOrder.line_items[1]!] };
    const lines = (translate('order.updated', later, {})[1] as Extract<ChannelFact, { type: 'refund' }>).lines.map((l) => l.lineId);
    expect(lines).toEqual(['315:restock:1', '315:restock:2']);
  });

  it('cancelled → the sale, and a cancellation restocking what was not already restocked; a line still holding _reduced_stock is not restocked', () => {
    const cancelled = {
      ...docOrder,
      status: 'cancelled',
      line_items: [{ ...docOrder.line_items[0]!, meta_data: [{ id: 9002, key: '_restock_refunded_items', value: '1' }] }, { ...docOrder.line_items[1]!, meta_data: [{ id: 9003, key: '_reduced_stock', value: '1' }] }],
    };
    const facts = translate('order.updated', cancelled, {});
    expect(facts.map((f) => f.type)).toEqual(['sale', 'refund', 'cancellation']);
    const c = facts[2] as Extract<ChannelFact, { type: 'cancellation' }>;
    expect(c.lines.map((l) => [l.lineId, l.quantity, l.restock])).toEqual([['315', 1, true], ['316', 1, false]]);
  });

  it('product.updated → the level observed (variation: parent and variation ids); unmanaged stock gives nothing', () => {
    const product = { id: 93, type: 'simple', parent_id: 0, sku: 'WOO-1', manage_stock: true, stock_quantity: 7, date_modified_gmt: '2017-03-22T19:30:00' };
    expect(translate('product.updated', product, {})).toEqual([{ type: 'level_observed', sku: 'WOO-1', ref: { productId: '93', variantId: '93' }, locationId: 'default', available: 7, occurredAt: '2017-03-22T19:30:00.000Z' }]);
    expect(translate('product.updated', { ...product, id: 23, type: 'variation', parent_id: 22 }, {})[0]).toMatchObject({ ref: { productId: '22', variantId: '23' } });
    expect(translate('product.updated', { ...product, manage_stock: false, stock_quantity: null }, {})).toEqual([]);
  });

  it('the thin action.woocommerce_order_refunded body gives nothing until expanded; unreadable bodies throw TranslateError; unknown topics give nothing', () => {
    expect(translate('action.woocommerce_order_refunded', { action: 'woocommerce_order_refunded', arg: 727 }, {})).toEqual([]);
    expect(translate('action.woocommerce_order_refunded', docOrder, {})).toEqual([saleOfDoc]);
    expect(() => translate('order.created', 'nope', {})).toThrow(TranslateError);
    expect(() => translate('order.created', { id: 1, status: 'processing' }, {})).toThrow(TranslateError);
    expect(() => translate('order.created', { ...docOrder, line_items: [{ id: 1, product_id: 2, quantity: 'two' }] }, {})).toThrow(TranslateError);
    expect(() => translate('product.updated', { id: 1, manage_stock: true, stock_quantity: 'many' }, {})).toThrow(TranslateError);
    expect(translate('coupon.updated', { id: 1 }, {})).toEqual([]);
  });
});

describe('emulator webhooks', () => {
  async function facts(i: number, c: Connector = connector()): Promise<ChannelFact[]> {
    const r = sink.received[i]!;
    const v = c.verify(r.raw, r.headers as Record<string, string>);
    if (!v.valid) throw new Error(v.reason);
    const body = await c.expand!(v.topic, JSON.parse(r.raw.toString('utf8')));
    return c.translate(v.topic, body, r.headers as Record<string, string>);
  }

  it('a sale of 2 × ART-001 sends signed order.created and product.updated that verify and translate to the sale and the new level', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-001', quantity: 2 });
    await emu.flushWebhooks();
    expect(sink.topics()).toEqual(['order.created', 'product.updated']);
    const h = sink.received[0]!.headers;
    expect([h['x-wc-webhook-resource'], h['x-wc-webhook-event'], h['x-wc-webhook-source']]).toEqual(['order', 'created', `${baseUrl}/`]);
    expect(h['x-wc-webhook-delivery-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(await facts(0)).toEqual([expect.objectContaining({ type: 'sale', orderId, lines: [expect.objectContaining({ sku: 'ART-001', quantity: 2, ref: emu.listing('ART-001') })] })]);
    expect(await facts(1)).toEqual([expect.objectContaining({ type: 'level_observed', sku: 'ART-001', available: 3 })]);
    expect(emu.level('ART-001', LOC)).toBe(3);
  });

  it('two sales in the same second share the X-WC-Webhook-Delivery-ID (wp_hash of webhook id + second) but not the event id', async () => {
    let first = 0;
    let second = 0;
    for (let attempt = 0; attempt < 5 && first === second; attempt++) {
      sink.clear();
      // Stay inside one wall-clock second.
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
      await emu.sell({ sku: 'ART-001', quantity: 1 });
      await emu.sell({ sku: 'ART-002', quantity: 1 });
      await emu.flushWebhooks();
      const created = sink.received.filter((r) => r.headers['x-wc-webhook-topic'] === 'order.created');
      first = created.length;
      second = new Set(created.map((r) => r.headers['x-wc-webhook-delivery-id'])).size;
    }
    expect([first, second]).toEqual([2, 1]);
    const created = sink.received.filter((r) => r.headers['x-wc-webhook-topic'] === 'order.created');
    const ids = created.map((r) => {
      const v = connector().verify(r.raw, r.headers as Record<string, string>);
      return v.valid ? v.eventId : null;
    });
    expect(new Set(ids).size).toBe(2);
  });

  it('bodies are encoded as PHP json_encode does (escaped slashes), and the signature is over those exact bytes', async () => {
    await emu.sell({ sku: 'ART-001', quantity: 1 });
    await emu.flushWebhooks();
    const raw = sink.received[0]!.raw.toString('utf8');
    expect(raw).toContain('http:\\/\\/127.0.0.1');
    expect(phpJson({ a: 'é/' })).toBe('{"a":"\\u00e9\\/"}');
    expect(connector().verify(sink.received[0]!.raw, sink.received[0]!.headers as Record<string, string>).valid).toBe(true);
  });

  it('a webhook secret containing &amp; signs with the decoded secret; the hub configured with either spelling verifies', async () => {
    const e2 = new WooEmulator({ consumerKey: CK, consumerSecret: CS, webhookSecret: 'a&amp;b' });
    const e2Url = await e2.start();
    e2.subscribe(sinkAddress);
    e2.seed([{ sku: 'X', title: 'X', levels: { default: 1 } }]);
    await e2.setLevel({ sku: 'X', available: 4 });
    await e2.flushWebhooks();
    await e2.stop();
    const r = sink.received[0]!;
    expect(r.headers['x-wc-webhook-signature']).toBe(crypto.createHmac('sha256', 'a&b').update(r.raw).digest('base64'));
    expect(connector({ webhookSecret: 'a&amp;b' }, {}, e2Url).verify(r.raw, r.headers as Record<string, string>).valid).toBe(true);
    expect(connector({ webhookSecret: 'a&b' }, {}, e2Url).verify(r.raw, r.headers as Record<string, string>).valid).toBe(true);
  });

  it('a refund with restock sends product.updated, order.updated (with _restock_refunded_items) and the action webhook, which expand fetches; without restock no unit is booked', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-001', quantity: 2 });
    await emu.flushWebhooks();
    sink.clear();
    await emu.refund({ orderId, restock: true, quantity: 1 });
    await emu.flushWebhooks();
    expect(sink.topics()).toEqual(['product.updated', 'order.updated', 'action.woocommerce_order_refunded']);
    expect(JSON.parse(sink.received[2]!.raw.toString('utf8'))).toEqual({ action: 'woocommerce_order_refunded', arg: Number(orderId) });
    const viaOrder = await facts(1);
    const viaAction = await facts(2);
    expect(viaAction).toEqual(viaOrder);
    const restocks = viaOrder.find((f) => f.type === 'refund' && f.refundId === `order-${orderId}-refund-restocks`);
    expect(restocks).toEqual(expect.objectContaining({ type: 'refund', orderId, lines: [expect.objectContaining({ sku: 'ART-001', quantity: 1, restock: true })] }));
    expect(emu.level('ART-001', LOC)).toBe(4);
    sink.clear();
    await emu.refund({ orderId, restock: false, quantity: 1 });
    await emu.flushWebhooks();
    expect(sink.topics()).toEqual(['order.updated', 'action.woocommerce_order_refunded']);
    const after = await facts(0);
    // The update, the sale again, the restocked unit (still one), and each refund's money on its own.
    expect(after.map((f) => f.type)).toEqual(['order_updated', 'sale', 'refund', 'refund', 'refund']);
    expect((after[2] as Extract<ChannelFact, { type: 'refund' }>).lines).toHaveLength(1);
    expect(after.slice(3).map((f) => f.type === 'refund' && [f.lines.length, f.money])).toEqual([
      [0, { currency: 'AUD', amount: 2500 }],
      [0, { currency: 'AUD', amount: 2500 }],
    ]);
    expect(emu.level('ART-001', LOC)).toBe(4);
  });

  it('cancelling a processing order puts the stock back and translates to sale + restocking cancellation (net zero)', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-002', quantity: 1 });
    await emu.setOrderStatus(orderId, 'cancelled');
    await emu.flushWebhooks();
    expect(sink.topics()).toEqual(['order.created', 'product.updated', 'product.updated', 'order.updated']);
    const f = await facts(3);
    expect(f.map((x) => x.type)).toEqual(['order_updated', 'sale', 'cancellation']);
    expect((f[2] as Extract<ChannelFact, { type: 'cancellation' }>).lines).toEqual([expect.objectContaining({ quantity: 1, restock: true })]);
    expect(f[0]).toMatchObject({ type: 'order_updated', change: 'updated', order: { paymentStatus: 'voided', fulfilmentStatus: 'cancelled' } });
    expect(emu.level('ART-002', LOC)).toBe(1);
  });

  it('a dashboard edit (setLevel) sends only product.updated; a push is echoed as product.updated with the pushed level', async () => {
    await emu.setLevel({ sku: 'ART-002', available: 8 });
    await connector().push([target('ART-001', 11, 5)]);
    await emu.flushWebhooks();
    expect(sink.topics()).toEqual(['product.updated', 'product.updated']);
    expect(await facts(0)).toEqual([expect.objectContaining({ type: 'level_observed', sku: 'ART-002', available: 8 })]);
    expect(await facts(1)).toEqual([expect.objectContaining({ type: 'level_observed', sku: 'ART-001', available: 11 })]);
  });

  it('faults: drop 1 sends nothing; duplicate 1 sends the same delivery twice (same event id); reorderWindow 2 reverses the pair', async () => {
    emu.faults.webhooks = { drop: 1 };
    await emu.setLevel({ sku: 'ART-001', available: 1 });
    await emu.flushWebhooks();
    expect(sink.received).toHaveLength(0);
    expect(emu.deliveries.map((d) => d.status)).toEqual(['dropped']);

    emu.faults.webhooks = { duplicate: 1 };
    await emu.setLevel({ sku: 'ART-001', available: 2 });
    await emu.flushWebhooks();
    const ids = sink.received.map((r) => {
      const v = connector().verify(r.raw, r.headers as Record<string, string>);
      return v.valid ? v.eventId : null;
    });
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBeNull();
    expect(ids[0]).toBe(ids[1]);
    sink.clear();

    emu.faults.webhooks = { reorderWindow: 2 };
    await emu.sell({ sku: 'ART-001', quantity: 1 });
    await emu.flushWebhooks();
    expect(sink.topics()).toEqual(['product.updated', 'order.created']);
  });

  it('faults: delayMs holds webhooks back and latencyMs slows API answers', async () => {
    emu.faults.webhooks = { delayMs: 150 };
    emu.faults.api = { latencyMs: 100 };
    const t0 = Date.now();
    await emu.setLevel({ sku: 'ART-001', available: 4 });
    expect(sink.received).toHaveLength(0);
    await emu.flushWebhooks();
    expect(sink.received).toHaveLength(1);
    await connector().read([{ sku: 'ART-001', ref: emu.listing('ART-001')!, locationId: LOC }]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
  });

  it('records every API request with method, path, parsed body and query (without oauth_*), including refused ones', async () => {
    await connector({ consumerSecret: 'cs_bad' }).push([target('ART-001', 1, null)]).catch(() => undefined);
    expect(emu.requests).toEqual([{ method: 'GET', path: '/wp-json/wc/v3/products', body: null, query: { include: emu.listing('ART-001')!.productId, per_page: '100' } }]);
  });
});
