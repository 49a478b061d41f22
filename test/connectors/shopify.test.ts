/**
 * Shopify connector: contract tests against the Shopify emulator on 127.0.0.1, signature tests with
 * Shopify's own vector, and translation tests from Shopify's documented payloads.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { matchCatalog } from '../../server/core/catalog-match';
import { ConnectorError, TranslateError, type Connector, type PushTarget } from '../../server/connectors/types';
import { definition, createShopifyConnector } from '../../server/connectors/shopify';
import { ShopifyEmulator } from '../../server/connectors/shopify/emulator';
import { EXPANDED_RETURN_KEY, translate } from '../../server/connectors/shopify/translate';
import { signShopifyWebhook, verifyShopifyWebhook } from '../../server/connectors/shopify/verify';
import { WebhookSink } from './helpers/webhook-sink';
import { INVENTORY_LEVEL_SAMPLE_JSON, ORDER_CREATE_SAMPLE_JSON, REFUND_929361472 } from './fixtures/shopify-documented';

const TOKEN = 'shpat_emulator_token_0123456789';
const SECRET = 'shopify-app-client-secret-for-tests';
const LOC1 = 'gid://shopify/Location/1001';
const LOC2 = 'gid://shopify/Location/1002';

const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../shared/specs/webhook-signature-vectors.json'), 'utf8')) as {
  shopify: { secret: string; body: string; signature: string }[];
};

let emu: ShopifyEmulator;
let baseUrl: string;
let sink: WebhookSink;

function connector(settings: Record<string, unknown> = {}, credentials: Record<string, string> = {}, url: string | null = baseUrl): Connector {
  return createShopifyConnector({
    channelId: 'shopify-web',
    baseUrl: url,
    settings: { shopDomain: 'gallery-shop.myshopify.com', ...settings },
    credentials: { accessToken: TOKEN, webhookSecret: SECRET, ...credentials },
  });
}

function target(sku: string, level: number, expected: number | null, locationId = LOC1): PushTarget {
  const ref = emu.listing(sku);
  if (!ref) throw new Error(`no listing ${sku}`);
  return { sku, ref, locationId, level, expected, idempotencyKey: `t-${sku}-${locationId}-${level}-${expected ?? 'x'}` };
}

function graphqlCalls(): { query: string; variables: Record<string, unknown> }[] {
  return emu.requests.map((r) => r.body as { query: string; variables: Record<string, unknown> });
}

async function settle(): Promise<void> {
  await emu.flushWebhooks();
}

beforeEach(async () => {
  emu = new ShopifyEmulator({ accessToken: TOKEN, webhookSecret: SECRET, shopDomain: 'gallery-shop.myshopify.com', locations: [LOC1, LOC2] });
  baseUrl = await emu.start();
  sink = new WebhookSink();
  emu.subscribe(await sink.start());
  emu.seed([
    { sku: 'ART-001', title: 'Dot painting, small', levels: { [LOC1]: 5, [LOC2]: 2 } },
    { sku: 'ART-002', title: 'Dot painting, large', levels: { [LOC1]: 1 } },
  ]);
});

afterEach(async () => {
  await emu.flushWebhooks();
  await emu.stop();
  await sink.stop();
});

describe('definition', () => {
  it('declares platform shopify, credentials accessToken + webhookSecret, required setting shopDomain, CAS first, 250 per batch', () => {
    expect(definition.platform).toBe('shopify');
    expect(definition.credentials).toEqual(['accessToken', 'webhookSecret']);
    expect(definition.requiredSettings).toEqual(['shopDomain']);
    expect(definition.capabilities.push).toEqual(['compare_and_set', 'idempotent_delta']);
    expect(definition.capabilities.maxBatch).toBe(250);
    expect(definition.capabilities.rateLimit.kind).toBe('cost_bucket');
    expect(definition.capabilities.webhooks).toEqual(['orders/create', 'orders/paid', 'orders/fulfilled', 'orders/updated', 'orders/cancelled', 'refunds/create', 'inventory_levels/update', 'returns/process']);
  });

  it('refuses an API version older than 2026-01 and a malformed one, naming the setting', () => {
    expect(() => connector({ apiVersion: '2025-10' })).toThrow(/2026-01 or later/);
    expect(() => connector({ apiVersion: 'latest' })).toThrow(/apiVersion/);
    expect(() => connector({ shopDomain: '' })).toThrow(/shopDomain/);
  });

  it('sends the official client request to {baseUrl}/admin/api/{apiVersion}/graphql.json with the token header, default version 2026-04', async () => {
    await connector().read([{ sku: 'ART-001', ref: emu.listing('ART-001')!, locationId: LOC1 }]);
    await connector({ apiVersion: '2026-07' }).read([{ sku: 'ART-001', ref: emu.listing('ART-001')!, locationId: LOC1 }]);
    expect(emu.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /admin/api/2026-04/graphql.json', 'POST /admin/api/2026-07/graphql.json']);
  });
});

describe('listCatalog and discovery', () => {
  it('pages through every productVariants page with after = endCursor (5 variants, pageSize 2 → 3 requests)', async () => {
    emu.addListing({ sku: 'ART-003', title: 'Bark painting', variantTitle: 'Framed' });
    emu.addListing({ sku: null, title: 'Gift wrapping' });
    emu.addListing({ sku: 'ART-004', title: 'Carving' });
    const listings = await connector({ pageSize: 2 }).listCatalog();
    expect(listings.map((l) => l.sku)).toEqual(['ART-001', 'ART-002', 'ART-003', null, 'ART-004']);
    expect(listings[2]!.title).toBe('Bark painting — Framed');
    expect(listings[0]!.ref).toEqual(emu.listing('ART-001'));
    const calls = graphqlCalls();
    expect(calls).toHaveLength(3);
    expect(calls[0]!.variables).toEqual({ first: 2, after: null });
    expect(typeof calls[1]!.variables.after).toBe('string');
  });

  it('lists 262 variants in two pages of 250 by default', async () => {
    for (let i = 0; i < 260; i++) emu.addListing({ sku: `BULK-${i}`, title: `Bulk ${i}` });
    const listings = await connector().listCatalog();
    expect(listings).toHaveLength(262);
    expect(emu.requests).toHaveLength(2);
  });

  it('matchCatalog maps unique SKUs and reports empty, unknown, duplicated and missing SKUs', async () => {
    emu.addListing({ sku: 'ART-002', title: 'Dot painting, large (copy)' });
    emu.addListing({ sku: '', title: 'Custom commission' });
    emu.addListing({ sku: 'NOT-OURS', title: 'Consignment piece' });
    const report = matchCatalog(['ART-001', 'ART-002', 'ART-009'], await connector().listCatalog());
    expect(report.matched).toEqual([{ sku: 'ART-001', ref: emu.listing('ART-001'), title: 'Dot painting, small' }]);
    expect(report.duplicated.map((d) => [d.sku, d.listings.length])).toEqual([['ART-002', 2]]);
    expect(report.unmatched.map((l) => l.sku)).toEqual([null, 'NOT-OURS']);
    expect(report.missing).toEqual(['ART-009']);
  });
});

describe('read', () => {
  it('reads available per item and location in one nodes(ids:) call of InventoryLevel ids; unknown locations are left out', async () => {
    const c = connector();
    const a = emu.listing('ART-001')!;
    const readings = await c.read([
      { sku: 'ART-001', ref: a, locationId: LOC1 },
      { sku: 'ART-001', ref: a, locationId: LOC2 },
      { sku: 'ART-002', ref: emu.listing('ART-002')!, locationId: LOC1 },
      { sku: 'ART-001', ref: a, locationId: 'gid://shopify/Location/9999' },
    ]);
    expect(readings.map((r) => [r.sku, r.locationId, r.available])).toEqual([
      ['ART-001', LOC1, 5],
      ['ART-001', LOC2, 2],
      ['ART-002', LOC1, 1],
    ]);
    expect(emu.requests).toHaveLength(1);
    const ids = graphqlCalls()[0]!.variables.ids as string[];
    expect(ids[0]).toBe(`gid://shopify/InventoryLevel/1001?inventory_item_id=${a.inventoryItemId.split('/').pop()}`);
  });
});

describe('push (compare-and-set with inventorySetQuantities)', () => {
  it('sets available with changeFromQuantity = expected, reason correction and an @idempotent key; the shop keeps the new level', async () => {
    const [out] = await connector().push([target('ART-001', 9, 5)]);
    expect(out).toEqual({ sku: 'ART-001', locationId: LOC1, status: 'applied', level: 9 });
    expect(emu.level('ART-001', LOC1)).toBe(9);
    const call = graphqlCalls()[0]!;
    expect(call.query).toMatch(/inventorySetQuantities\(input: \$input\) @idempotent\(key: "[0-9a-f-]{36}"\)/);
    const input = call.variables.input as { name: string; reason: string; quantities: Record<string, unknown>[] };
    expect(input.name).toBe('available');
    expect(input.reason).toBe('correction');
    expect(input.quantities).toEqual([{ inventoryItemId: emu.listing('ART-001')!.inventoryItemId, locationId: LOC1, quantity: 9, changeFromQuantity: 5 }]);
  });

  it('answers stale with the level observed now when the shop changed since we read it, keeps the shop level, and still applies the rest of the batch', async () => {
    await emu.setLevel({ sku: 'ART-001', locationId: LOC1, available: 3 });
    const outs = await connector().push([target('ART-001', 9, 5), target('ART-002', 4, 1)]);
    expect(outs).toEqual([
      { sku: 'ART-001', locationId: LOC1, status: 'stale', observed: 3 },
      { sku: 'ART-002', locationId: LOC1, status: 'applied', level: 4 },
    ]);
    expect(emu.level('ART-001', LOC1)).toBe(3);
    expect(emu.level('ART-002', LOC1)).toBe(4);
  });

  it('reads first when expected is null and uses that reading as changeFromQuantity (never a blind set)', async () => {
    const [out] = await connector().push([target('ART-001', 7, null, LOC2)]);
    expect(out).toEqual({ sku: 'ART-001', locationId: LOC2, status: 'applied', level: 7 });
    const calls = graphqlCalls();
    expect(calls[0]!.query).toMatch(/nodes\(ids: \$ids\)/);
    expect((calls[1]!.variables.input as { quantities: { changeFromQuantity: number }[] }).quantities[0]!.changeFromQuantity).toBe(2);
  });

  it('splits 300 targets into requests of 250 and 50 quantities', async () => {
    const targets: PushTarget[] = [];
    for (let i = 0; i < 300; i++) {
      emu.addListing({ sku: `B-${i}`, title: `Bulk ${i}` });
      targets.push(target(`B-${i}`, i + 1, 0));
    }
    const outs = await connector().push(targets);
    expect(outs.every((o) => o.status === 'applied')).toBe(true);
    const sizes = graphqlCalls().map((c) => (c.variables.input as { quantities: unknown[] }).quantities.length);
    expect(sizes).toEqual([250, 50]);
    expect(emu.level('B-299', LOC1)).toBe(300);
  });

  it('a retried push with the same targets reuses the idempotency key: the shop applies it once and echoes once', async () => {
    const c = connector();
    await c.push([target('ART-002', 6, 1)]);
    await settle();
    sink.clear();
    const [again] = await c.push([target('ART-002', 6, 1)]);
    await settle();
    expect(again).toEqual({ sku: 'ART-002', locationId: LOC1, status: 'applied', level: 6 });
    const keys = graphqlCalls().map((c2) => /key: "([^"]+)"/.exec(c2.query)![1]);
    expect(keys[0]).toBe(keys[1]);
    expect(sink.received).toHaveLength(0);
  });

  it('fails a target without an inventory item id, and one at a location where the item is not stocked, without sending them', async () => {
    const ref = emu.listing('ART-001')!;
    const outs = await connector().push([
      { sku: 'ART-001', ref: { productId: ref.productId, variantId: ref.variantId }, locationId: LOC1, level: 1, expected: 5, idempotencyKey: 'k1' },
      { ...target('ART-001', 1, null), locationId: 'gid://shopify/Location/4242' },
    ]);
    expect(outs.map((o) => o.status)).toEqual(['failed', 'failed']);
    expect(emu.requests.filter((r) => JSON.stringify(r.body).includes('inventorySetQuantities'))).toHaveLength(0);
  });

  it('idempotent_delta mode sends inventoryAdjustQuantities with delta = level − expected and an @idempotent key', async () => {
    const c = connector({ pushMode: 'idempotent_delta' });
    expect(c.capabilities.push[0]).toBe('idempotent_delta');
    const [out] = await c.push([target('ART-001', 2, 5)]);
    expect(out).toEqual({ sku: 'ART-001', locationId: LOC1, status: 'applied', level: 2 });
    const call = graphqlCalls()[0]!;
    expect(call.query).toMatch(/inventoryAdjustQuantities\(input: \$input\) @idempotent\(key: "/);
    expect((call.variables.input as { changes: unknown[] }).changes).toEqual([{ inventoryItemId: emu.listing('ART-001')!.inventoryItemId, locationId: LOC1, delta: -3, changeFromQuantity: 5 }]);
    expect(emu.level('ART-001', LOC1)).toBe(2);
  });

  it('the emulator refuses a 2026-04 inventorySetQuantities without @idempotent (mandatory from 2026-04)', async () => {
    const res = await fetch(`${baseUrl}/admin/api/2026-04/graphql.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': TOKEN },
      body: JSON.stringify({ query: 'mutation S($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }', variables: { input: { name: 'available', reason: 'correction', quantities: [] } } }),
    });
    const body = (await res.json()) as { errors?: { message: string }[] };
    expect(body.errors?.[0]?.message).toMatch(/@idempotent/);
  });
});

describe('hide and relist', () => {
  it('hide sets the product to DRAFT and relist back to ACTIVE through productUpdate(product: {id, status})', async () => {
    const c = connector();
    const ref = emu.listing('ART-001')!;
    await c.hide(ref);
    expect(emu.productStatus('ART-001')).toBe('DRAFT');
    await c.relist(ref);
    expect(emu.productStatus('ART-001')).toBe('ACTIVE');
    expect(graphqlCalls()[0]!.variables).toEqual({ product: { id: ref.productId, status: 'DRAFT' } });
  });

  it('hide of an unknown product is a non-retryable ConnectorError carrying Shopify’s userError', async () => {
    const err = await connector().hide({ productId: 'gid://shopify/Product/1', variantId: 'gid://shopify/ProductVariant/1' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect((err as ConnectorError).retryable).toBe(false);
    expect((err as ConnectorError).message).toMatch(/Product does not exist/);
    // A refusal of that one product: a dead letter of the item, not a fault of the channel.
    expect((err as ConnectorError).channelFault).toBe(false);
  });
});

describe('errors', () => {
  it('a userError about the whole inventory change (no quantity named) is a fault of the channel, not a refusal of each item; nothing is applied', async () => {
    // A client that spoils the request's reason, as a broken build would: Shopify names ["input","reason"].
    const spoil: typeof fetch = (input, init) => fetch(input, { ...init, body: typeof init?.body === 'string' ? init.body.replace('"reason":"correction"', '"reason":"no-such-reason"') : init?.body });
    const c = createShopifyConnector({ channelId: 'shopify-web', baseUrl, settings: { shopDomain: 'gallery-shop.myshopify.com' }, credentials: { accessToken: TOKEN, webhookSecret: SECRET }, fetch: spoil });
    const err = (await c.push([target('ART-001', 9, 5), target('ART-002', 2, 1)]).catch((e: unknown) => e)) as ConnectorError;
    expect(err).toBeInstanceOf(ConnectorError);
    expect([err.retryable, err.channelFault]).toEqual([false, true]);
    expect(err.message).toMatch(/^Shopify refused the whole inventory change \(INVALID_REASON: The specified reason is invalid\.\); no item was changed\.$/);
    expect(emu.level('ART-001', LOC1)).toBe(5);
  });

  it('a 401 and a 404 of a request are faults of the channel', async () => {
    const err = (await connector({}, { accessToken: 'shpat_wrong_token_value' }).push([target('ART-001', 9, 5)]).catch((e: unknown) => e)) as ConnectorError;
    expect([err.status, err.channelFault]).toEqual([401, true]);
    const notHere = (await connector({}, {}, `${baseUrl}/nothing-here`).listCatalog().catch((e: unknown) => e)) as ConnectorError;
    expect(notHere.status).toBe(404);
    expect(notHere.channelFault).toBe(true);
  });

  it('a wrong token gets Shopify’s 401 and a non-retryable ConnectorError that does not repeat the token', async () => {
    const err = (await connector({}, { accessToken: 'shpat_wrong_token_value' }).listCatalog().catch((e: unknown) => e)) as ConnectorError;
    expect(err).toBeInstanceOf(ConnectorError);
    expect([err.status, err.retryable]).toEqual([401, false]);
    expect(err.message).not.toContain('shpat_wrong_token_value');
    expect(err.message).toMatch(/accessToken/);
  });

  // A 5xx, a 429 with its Retry-After, 401/403/404 and no answer, on every kind of request: the
  // conformance suite (shopify.conformance.test.ts).

  it('an empty cost bucket answers THROTTLED (HTTP 200, extensions.cost) and becomes retryable with the wait the deficit needs', async () => {
    emu.setBucket(20, 10);
    // A page of 10 variants costs 2 + 3 × 10 = 32 points > 20 available: short by 12 at 10/s → 1.2 s.
    const err = (await connector({ pageSize: 10 }).listCatalog().catch((e: unknown) => e)) as ConnectorError;
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBeGreaterThanOrEqual(1100);
    expect(err.retryAfterMs).toBeLessThanOrEqual(1200);
    const raw = await fetch(`${baseUrl}/admin/api/2026-04/graphql.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': TOKEN },
      body: JSON.stringify({ query: 'query($first: Int!) { productVariants(first: $first) { nodes { id } } }', variables: { first: 10 } }),
    });
    expect(raw.status).toBe(200);
    expect(await raw.json()).toEqual({
      errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
      extensions: { cost: { requestedQueryCost: 32, actualQueryCost: null, throttleStatus: { maximumAvailable: 20, currentlyAvailable: expect.any(Number), restoreRate: 10 } } },
    });
  });

  it('every answer reports the bucket in extensions.cost; the actual cost of a short page is refunded', async () => {
    const res = await fetch(`${baseUrl}/admin/api/2026-04/graphql.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': TOKEN },
      body: JSON.stringify({ query: 'query($first: Int!) { productVariants(first: $first) { nodes { id } } }', variables: { first: 250 } }),
    });
    const body = (await res.json()) as { extensions: { cost: { requestedQueryCost: number; actualQueryCost: number; throttleStatus: { currentlyAvailable: number } } } };
    expect(body.extensions.cost.requestedQueryCost).toBe(752);
    expect(body.extensions.cost.actualQueryCost).toBe(8);
    expect(body.extensions.cost.throttleStatus.currentlyAvailable).toBeGreaterThanOrEqual(1992);
  });

  it('an unreachable shop is a retryable ConnectorError', async () => {
    const dead = new ShopifyEmulator({ accessToken: TOKEN, webhookSecret: SECRET });
    const url = await dead.start();
    await dead.stop();
    const err = (await connector({}, {}, url).listCatalog().catch((e: unknown) => e)) as ConnectorError;
    expect(err).toBeInstanceOf(ConnectorError);
    expect([err.retryable, err.status]).toEqual([true, null]);
  });
});

describe('verify', () => {
  const headersFor = (body: string, secret: string) => ({
    'x-shopify-hmac-sha256': signShopifyWebhook(body, secret),
    'x-shopify-topic': 'orders/create',
    'x-shopify-event-id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
    'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    'x-shopify-triggered-at': '2026-11-22T10:00:00.123Z',
    'x-shopify-shop-domain': 'gallery-shop.myshopify.com',
  });

  it('accepts Shopify’s published vector (shopify-app-js validate.test.ts) and returns event id, topic and time', () => {
    const v = vectors.shopify[0]!;
    const r = verifyShopifyWebhook(Buffer.from(v.body), { 'X-Shopify-Hmac-Sha256': v.signature, 'X-Shopify-Topic': 'orders/create', 'X-Shopify-Event-Id': 'evt-1' }, v.secret);
    expect(r).toEqual({ valid: true, eventId: 'evt-1', topic: 'orders/create', occurredAt: null });
    expect(signShopifyWebhook(v.body, v.secret)).toBe(v.signature);
  });

  it('falls back to X-Shopify-Webhook-Id when there is no event id, and reads X-Shopify-Triggered-At', () => {
    const body = '{"id":1}';
    const h: Record<string, string> = headersFor(body, SECRET);
    delete h['x-shopify-event-id'];
    expect(verifyShopifyWebhook(Buffer.from(body), h, SECRET)).toEqual({ valid: true, eventId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043', topic: 'orders/create', occurredAt: '2026-11-22T10:00:00.123Z' });
  });

  it('rejects a tampered body, a wrong key, a missing signature, garbage and repeated-but-different headers', () => {
    const v = vectors.shopify[0]!;
    const h = { 'x-shopify-hmac-sha256': v.signature, 'x-shopify-topic': 'orders/create', 'x-shopify-event-id': 'e' };
    expect(verifyShopifyWebhook(Buffer.from('{"foo": "baz"}'), h, v.secret).valid).toBe(false);
    expect(verifyShopifyWebhook(Buffer.from(v.body), h, 'another_secret').valid).toBe(false);
    expect(verifyShopifyWebhook(Buffer.from(v.body), { ...h, 'x-shopify-hmac-sha256': undefined }, v.secret)).toEqual({ valid: false, reason: expect.stringMatching(/no X-Shopify-Hmac-Sha256/) });
    expect(verifyShopifyWebhook(Buffer.from(v.body), { ...h, 'x-shopify-hmac-sha256': 'not base64 !!' }, v.secret).valid).toBe(false);
    expect(verifyShopifyWebhook(Buffer.from(v.body), { ...h, 'x-shopify-hmac-sha256': [v.signature, 'AAAA'] }, v.secret).valid).toBe(false);
    expect(verifyShopifyWebhook(Buffer.from(v.body), { ...h, 'x-shopify-hmac-sha256': [v.signature] }, v.secret).valid).toBe(true);
    expect(verifyShopifyWebhook(Buffer.alloc(0), h, v.secret).valid).toBe(false);
    expect(verifyShopifyWebhook(Buffer.from(v.body), h, '').valid).toBe(false);
  });

  it('never throws, whatever bytes and headers arrive', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.array(fc.string()), fc.constant(undefined))), (bytes, headers) => {
        const r = verifyShopifyWebhook(Buffer.from(bytes), headers, SECRET);
        expect(typeof r.valid).toBe('boolean');
      }),
      { numRuns: 300 },
    );
    expect(verifyShopifyWebhook(null as unknown as Buffer, null as unknown as Record<string, string>, SECRET).valid).toBe(false);
  });

  it('the connector verifies with its webhookSecret credential', () => {
    const body = '{"id":2,"line_items":[]}';
    expect(connector().verify(Buffer.from(body), headersFor(body, SECRET)).valid).toBe(true);
    expect(connector({}, { webhookSecret: 'rotated' }).verify(Buffer.from(body), headersFor(body, SECRET)).valid).toBe(false);
  });
});

describe('translate (documented payloads)', () => {
  // Shopify's "send test notification" orders/create sample (test/connectors/fixtures/shopify-documented.ts).
  const orderJson = ORDER_CREATE_SAMPLE_JSON;

  it('orders/create (test notification sample) → one sale per stock line, ids taken exactly from admin_graphql_api_id', () => {
    const facts = translate('orders/create', JSON.parse(orderJson), {});
    expect(facts).toEqual([
      {
        type: 'sale',
        orderId: 'gid://shopify/Order/820982911946154508',
        occurredAt: '2022-01-01T00:00:00.000Z',
        lines: [
          { lineId: 'gid://shopify/LineItem/487817672276298554', sku: 'SKU2006-001', ref: { productId: expect.stringMatching(/^gid:\/\/shopify\/Product\//) }, quantity: 1, locationId: null },
          { lineId: 'gid://shopify/LineItem/976318377106520349', sku: 'SKU2006-020', ref: { productId: expect.stringMatching(/^gid:\/\/shopify\/Product\//) }, quantity: 1, locationId: null },
        ],
      },
    ]);
  });

  it('the same order delivered twice translates identically (stable line ids), and a POS order carries its location', () => {
    expect(translate('orders/create', JSON.parse(orderJson), {})).toEqual(translate('orders/create', JSON.parse(orderJson), {}));
    const pos = { ...JSON.parse(orderJson), location_id: 1001 };
    const [sale] = translate('orders/create', pos, {});
    expect(sale?.type === 'sale' && sale.lines.map((l) => l.locationId)).toEqual([LOC1, LOC1]);
  });

  it('custom items and gift cards are not stock lines', () => {
    const o = JSON.parse(orderJson);
    o.line_items.push({ id: 5, variant_id: null, sku: '', quantity: 1, title: 'Tip' }, { id: 6, variant_id: 77, sku: 'GIFT', quantity: 1, gift_card: true });
    const [sale] = translate('orders/create', o, {});
    expect(sale?.type === 'sale' && sale.lines).toHaveLength(2);
  });

  // shopify-app-js REST resources test (2025-04 Refund): refund 929361472, restock_type "no_restock".
  const refundDoc = REFUND_929361472;

  it('refunds/create (shopify-app-js refund 929361472, no_restock) → refund line kept but not restocked', () => {
    expect(translate('refunds/create', refundDoc, {})).toEqual([
      {
        type: 'refund',
        refundId: 'gid://shopify/Refund/929361472',
        orderId: 'gid://shopify/Order/450789469',
        occurredAt: '2025-04-02T16:38:34.000Z',
        lines: [{ lineId: 'gid://shopify/RefundLineItem/1058498320', sku: 'IPOD2008RED', ref: { productId: 'gid://shopify/Product/632910392', variantId: 'gid://shopify/ProductVariant/49148385' }, quantity: 1, locationId: null, restock: false }],
      },
    ]);
  });

  it.each([
    ['return', true],
    ['cancel', true],
    ['legacy_restock', true],
    ['no_restock', false],
  ])('refund line restock_type %s → restock %s', (restockType, restock) => {
    const body = { ...refundDoc, refund_line_items: [{ ...refundDoc.refund_line_items[0]!, restock_type: restockType, location_id: 1002 }] };
    const [f] = translate('refunds/create', body, {});
    expect(f?.type === 'refund' && f.lines[0]!.restock).toBe(restock);
    expect(f?.type === 'refund' && f.lines[0]!.locationId).toBe(LOC2);
  });

  it('inventory_levels/update (webhook reference sample, available null = untracked) gives no fact; with a number, a level observed at the gid location', () => {
    const sample = INVENTORY_LEVEL_SAMPLE_JSON;
    expect(translate('inventory_levels/update', JSON.parse(sample), {})).toEqual([]);
    const tracked = JSON.parse(sample.replace('"available":null', '"available":7'));
    expect(translate('inventory_levels/update', tracked, {})).toEqual([
      { type: 'level_observed', sku: null, ref: { inventoryItemId: 'gid://shopify/InventoryItem/271878346596884015' }, locationId: 'gid://shopify/Location/24826418', available: 7, occurredAt: '2022-01-01T00:00:00.000Z' },
    ]);
  });

  it('orders/cancelled → a cancellation that never restocks, plus the embedded restock refund translated exactly as refunds/create would', () => {
    const refund = { ...refundDoc, order_id: undefined, refund_line_items: [{ ...refundDoc.refund_line_items[0]!, restock_type: 'cancel', location_id: 1001 }] };
    const cancelled = { ...JSON.parse(orderJson), cancelled_at: '2022-01-02T10:00:00Z', refunds: [refund] };
    const facts = translate('orders/cancelled', cancelled, {});
    expect(facts.map((f) => f.type)).toEqual(['cancellation', 'refund']);
    expect(facts[0]!.type === 'cancellation' && facts[0]!.lines.every((l) => !l.restock)).toBe(true);
    const fromRefundTopic = translate('refunds/create', { ...refund, order_id: '820982911946154508' }, {});
    expect(facts[1]).toEqual({ ...fromRefundTopic[0]!, orderId: 'gid://shopify/Order/820982911946154508' });
  });

  it('unreadable bodies throw TranslateError; unknown topics give no facts', () => {
    expect(() => translate('orders/create', 'nope', {})).toThrow(TranslateError);
    expect(() => translate('orders/create', { id: 1, created_at: '2026-01-01T00:00:00Z' }, {})).toThrow(TranslateError);
    expect(() => translate('refunds/create', { order_id: 1 }, {})).toThrow(TranslateError);
    expect(() => translate('inventory_levels/update', { inventory_item_id: 1, location_id: 2, available: 'many' }, {})).toThrow(TranslateError);
    expect(translate('products/update', { id: 1 }, {})).toEqual([]);
  });
});

describe('translate returns/process (native exchanges)', () => {
  // The webhook names the Return; `expand` attaches the Return as GraphQL answers it.
  const webhook = { id: 3300000042, admin_graphql_api_id: 'gid://shopify/Return/3300000042', order_id: 450789469 };
  const headers = { 'x-shopify-triggered-at': '2026-03-02T10:00:00Z' };
  const theReturn = (nodes: unknown[]) => ({ id: 'gid://shopify/Return/3300000042', status: 'CLOSED', order: { id: 'gid://shopify/Order/450789469' }, exchangeLineItems: { nodes } });
  const exchangeLine = { id: 'gid://shopify/ExchangeLineItem/6600000007', quantity: 2, processedQuantity: 2, variantId: 'gid://shopify/ProductVariant/808950810', lineItems: [{ id: 'gid://shopify/LineItem/1300000099', sku: 'IPOD2008BLUE' }] };

  it('the exchanged-out items of the Return are a sale on the original order: variant ref, SKU, processedQuantity, exchange line id, no location', () => {
    expect(translate('returns/process', { ...webhook, [EXPANDED_RETURN_KEY]: theReturn([exchangeLine]) }, headers)).toEqual([
      {
        type: 'sale',
        orderId: 'gid://shopify/Order/450789469',
        occurredAt: '2026-03-02T10:00:00.000Z',
        lines: [{ lineId: 'gid://shopify/ExchangeLineItem/6600000007', sku: 'IPOD2008BLUE', ref: { variantId: 'gid://shopify/ProductVariant/808950810' }, quantity: 2, locationId: null }],
      },
    ]);
  });

  it('a redelivery translates identically (stable line ids, so the hub books once)', () => {
    const body = () => JSON.parse(JSON.stringify({ ...webhook, [EXPANDED_RETURN_KEY]: theReturn([exchangeLine]) })) as unknown;
    const a = translate('returns/process', body(), headers);
    const b = translate('returns/process', body(), { 'x-shopify-triggered-at': '2026-03-02T11:30:00Z' });
    expect(b.map((f) => (f.type === 'sale' ? [f.orderId, f.lines] : null))).toEqual(a.map((f) => (f.type === 'sale' ? [f.orderId, f.lines] : null)));
  });

  it('quantity is processedQuantity when given (0 → no line), else quantity; one line per exchange line item', () => {
    const lines = [
      { ...exchangeLine, id: 'gid://shopify/ExchangeLineItem/1', processedQuantity: 1 },
      { ...exchangeLine, id: 'gid://shopify/ExchangeLineItem/2', processedQuantity: 0 },
      { id: 'gid://shopify/ExchangeLineItem/3', quantity: 3, variantId: 'gid://shopify/ProductVariant/5', lineItems: [] },
    ];
    const [sale] = translate('returns/process', { ...webhook, [EXPANDED_RETURN_KEY]: theReturn(lines) }, headers);
    expect(sale).toMatchObject({ type: 'sale', lines: [{ lineId: 'gid://shopify/ExchangeLineItem/1', quantity: 1 }, { lineId: 'gid://shopify/ExchangeLineItem/3', quantity: 3, sku: null, ref: { variantId: 'gid://shopify/ProductVariant/5' } }] });
  });

  it('a return without exchange items (a plain return: its units come through refunds/create) and custom exchange items give no facts', () => {
    expect(translate('returns/process', { ...webhook, [EXPANDED_RETURN_KEY]: theReturn([]) }, headers)).toEqual([]);
    const custom = { id: 'gid://shopify/ExchangeLineItem/9', quantity: 1, processedQuantity: 1, variantId: null, lineItems: [{ id: 'gid://shopify/LineItem/9', sku: null }] };
    expect(translate('returns/process', { ...webhook, [EXPANDED_RETURN_KEY]: theReturn([custom]) }, headers)).toEqual([]);
  });

  it('a webhook whose Return was not fetched, or a Return that is unreadable, throws TranslateError', () => {
    expect(() => translate('returns/process', webhook, headers)).toThrow(TranslateError);
    expect(() => translate('returns/process', webhook, headers)).toThrow(/gid:\/\/shopify\/Return\/3300000042 could not be read/);
    expect(() => translate('returns/process', { ...webhook, [EXPANDED_RETURN_KEY]: { ...theReturn([]), exchangeLineItems: { nodes: 'x' } } }, headers)).toThrow(TranslateError);
    expect(() => translate('returns/process', { ...webhook, [EXPANDED_RETURN_KEY]: theReturn([{ ...exchangeLine, id: null }]) }, headers)).toThrow(TranslateError);
    expect(() => translate('returns/process', { ...webhook, [EXPANDED_RETURN_KEY]: theReturn([{ ...exchangeLine, processedQuantity: -1 }]) }, headers)).toThrow(TranslateError);
    expect(() => translate('returns/process', { [EXPANDED_RETURN_KEY]: { ...theReturn([exchangeLine]), order: null } }, headers)).toThrow(/names no order/);
  });
});

describe('emulator webhooks', () => {
  function facts(i: number) {
    const r = sink.received[i]!;
    const v = connector().verify(r.raw, r.headers as Record<string, string>);
    if (!v.valid) throw new Error(v.reason);
    return translate(v.topic, JSON.parse(r.raw.toString('utf8')), r.headers as Record<string, string>);
  }

  it('a POS sale of 2 × ART-001 sends signed orders/create, orders/paid and inventory_levels/update that verify and translate to the sale, the payment and the new level', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-001', quantity: 2, locationId: LOC1 });
    await settle();
    expect(sink.topics()).toEqual(['orders/create', 'orders/paid', 'inventory_levels/update']);
    const h = sink.received[0]!.headers;
    expect(h['x-shopify-shop-domain']).toBe('gallery-shop.myshopify.com');
    expect(h['x-shopify-api-version']).toBe('2026-04');
    expect(h['x-shopify-webhook-id']).toBeDefined();
    const [sale] = facts(0);
    expect(sale).toMatchObject({ type: 'sale', orderId, lines: [{ sku: 'ART-001', quantity: 2, locationId: LOC1, ref: { variantId: emu.listing('ART-001')!.variantId } }] });
    expect(facts(1)).toEqual([expect.objectContaining({ type: 'order_updated', orderId, change: 'paid' })]);
    expect(facts(2)).toEqual([expect.objectContaining({ type: 'level_observed', available: 3, locationId: LOC1, ref: { inventoryItemId: emu.listing('ART-001')!.inventoryItemId } })]);
    expect(emu.level('ART-001', LOC1)).toBe(3);
  });

  it('a refund with restock sends refunds/create (restock_type return) and the level; without restock only the refund', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-001', quantity: 2 });
    await emu.refund({ orderId, restock: true, quantity: 1 });
    await emu.refund({ orderId, restock: false, quantity: 1 });
    await settle();
    expect(sink.topics()).toEqual(['orders/create', 'orders/paid', 'inventory_levels/update', 'refunds/create', 'inventory_levels/update', 'refunds/create']);
    expect(facts(3)).toEqual([expect.objectContaining({ type: 'refund', orderId, lines: [expect.objectContaining({ sku: 'ART-001', quantity: 1, restock: true, locationId: LOC1 })] })]);
    expect(facts(5)).toEqual([expect.objectContaining({ type: 'refund', lines: [expect.objectContaining({ restock: false, locationId: null })] })]);
    expect(emu.level('ART-001', LOC1)).toBe(4);
  });

  it('a cancellation with restock sends refunds/create and orders/cancelled that translate to the same restock refund', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-002', quantity: 1 });
    await emu.cancel({ orderId, restock: true });
    await settle();
    expect(sink.topics()).toEqual(['orders/create', 'orders/paid', 'inventory_levels/update', 'refunds/create', 'orders/cancelled', 'inventory_levels/update']);
    const refund = facts(3)[0]!;
    const cancelled = facts(4);
    expect(cancelled[1]).toEqual(refund);
    expect(emu.level('ART-002', LOC1)).toBe(1);
  });

  it('a dashboard edit (setLevel) sends only inventory_levels/update', async () => {
    await emu.setLevel({ sku: 'ART-002', locationId: LOC2, available: 8 });
    await settle();
    expect(sink.topics()).toEqual(['inventory_levels/update']);
    expect(facts(0)).toEqual([expect.objectContaining({ type: 'level_observed', available: 8, locationId: LOC2 })]);
  });

  it('a push is echoed back as inventory_levels/update with the pushed level', async () => {
    await connector().push([target('ART-001', 11, 5)]);
    await settle();
    expect(sink.topics()).toEqual(['inventory_levels/update']);
    expect(facts(0)).toEqual([expect.objectContaining({ type: 'level_observed', available: 11, locationId: LOC1 })]);
  });

  it('faults: drop 1 sends nothing; duplicate 1 sends each event twice with the same event id; reorderWindow 2 sends the pair reversed', async () => {
    emu.faults.webhooks = { drop: 1 };
    await emu.setLevel({ sku: 'ART-001', available: 1 });
    await settle();
    expect(sink.received).toHaveLength(0);

    emu.faults.webhooks = { duplicate: 1 };
    await emu.setLevel({ sku: 'ART-001', available: 2 });
    await settle();
    expect(sink.received.map((r) => r.headers['x-shopify-event-id'])).toEqual([sink.received[0]!.headers['x-shopify-event-id'], sink.received[0]!.headers['x-shopify-event-id']]);
    sink.clear();

    emu.faults.webhooks = { reorderWindow: 2 };
    // An unpaid order: orders/create and the level only (no orders/paid), so the window holds exactly the pair.
    await emu.sell({ sku: 'ART-001', quantity: 1, paid: false });
    await settle();
    expect(sink.topics()).toEqual(['inventory_levels/update', 'orders/create']);
  });

  it('faults: delayMs holds webhooks back and latencyMs slows API answers', async () => {
    emu.faults.webhooks = { delayMs: 150 };
    emu.faults.api = { latencyMs: 100 };
    const t0 = Date.now();
    await emu.setLevel({ sku: 'ART-001', available: 4 });
    expect(sink.received).toHaveLength(0);
    await settle();
    expect(sink.received).toHaveLength(1);
    await connector().read([{ sku: 'ART-001', ref: emu.listing('ART-001')!, locationId: LOC1 }]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
  });

  it('an exchange sends refunds/create for the returned units, returns/process, and both levels; expand reads the Return and translate gives the sale', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-001', quantity: 2 });
    await settle();
    sink.clear();
    const { returnId } = await emu.exchange({ orderId, returnQuantity: 1, sku: 'ART-002', quantity: 1 });
    await settle();
    expect([...sink.topics()].sort()).toEqual(['inventory_levels/update', 'inventory_levels/update', 'refunds/create', 'returns/process']);
    const byTopic = (t: string) => sink.received.map((_, i) => i).filter((i) => sink.topics()[i] === t);
    expect(facts(byTopic('refunds/create')[0]!)).toEqual([expect.objectContaining({ type: 'refund', orderId, lines: [expect.objectContaining({ sku: 'ART-001', quantity: 1, restock: true, locationId: LOC1 })] })]);
    // The returns/process webhook verifies like any other and names the Return; expand fetches it through GraphQL.
    const r = sink.received[byTopic('returns/process')[0]!]!;
    const c = connector();
    const v = c.verify(r.raw, r.headers as Record<string, string>);
    expect(v).toMatchObject({ valid: true, topic: 'returns/process' });
    const body = JSON.parse(r.raw.toString('utf8')) as Record<string, unknown>;
    expect(body.admin_graphql_api_id).toBe(returnId);
    // Unexpanded, the body alone does not say what went out.
    expect(() => translate('returns/process', body, r.headers as Record<string, string>)).toThrow(TranslateError);
    const expanded = await c.expand!('returns/process', body);
    const sale = c.translate('returns/process', expanded, r.headers as Record<string, string>);
    expect(sale).toEqual([{ type: 'sale', orderId, occurredAt: expect.any(String), lines: [{ lineId: expect.stringMatching(/^gid:\/\/shopify\/ExchangeLineItem\/\d+$/), sku: 'ART-002', ref: { variantId: emu.listing('ART-002')!.variantId }, quantity: 1, locationId: null }] }]);
    expect(graphqlCalls().at(-1)).toEqual({ query: expect.stringContaining('return(id: $id)'), variables: { id: returnId } });
    // A redelivery is fetched and translated the same.
    expect(c.translate('returns/process', await c.expand!('returns/process', body), r.headers as Record<string, string>)).toEqual(sale);
    const levels = byTopic('inventory_levels/update').map((i) => facts(i)[0]);
    expect(levels).toEqual(expect.arrayContaining([
      expect.objectContaining({ type: 'level_observed', available: 4, locationId: LOC1, ref: { inventoryItemId: emu.listing('ART-001')!.inventoryItemId } }),
      expect.objectContaining({ type: 'level_observed', available: 0, locationId: LOC1, ref: { inventoryItemId: emu.listing('ART-002')!.inventoryItemId } }),
    ]));
    expect(emu.level('ART-001', LOC1)).toBe(4);
    expect(emu.level('ART-002', LOC1)).toBe(0);
  });

  it('expand leaves other topics alone; an unknown Return stays unexpanded and translate says it could not be read', async () => {
    const c = connector();
    const order = { id: 1 };
    expect(await c.expand!('orders/create', order)).toBe(order);
    expect(emu.requests).toHaveLength(0);
    const body = { id: 999, admin_graphql_api_id: 'gid://shopify/Return/999', order_id: 1 };
    const same = await c.expand!('returns/process', body);
    expect(same).toEqual(body);
    expect(() => c.translate('returns/process', same, { 'x-shopify-triggered-at': '2026-03-02T10:00:00Z' })).toThrow(TranslateError);
  });

  it('an exchange without restock refunds without restocking and still sends the exchanged item out', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-001', quantity: 1 });
    await emu.exchange({ orderId, restock: false, sku: 'ART-002', quantity: 1 });
    await settle();
    expect(emu.level('ART-001', LOC1)).toBe(4);
    expect(emu.level('ART-002', LOC1)).toBe(0);
    const refundAt = sink.topics().indexOf('refunds/create');
    expect(facts(refundAt)).toEqual([expect.objectContaining({ type: 'refund', lines: [expect.objectContaining({ restock: false, quantity: 1 })] })]);
  });

  it('records every API request with method, path and parsed body, including refused ones', async () => {
    await connector({}, { accessToken: 'bad' }).listCatalog().catch(() => undefined);
    expect(emu.requests).toEqual([{ method: 'POST', path: '/admin/api/2026-04/graphql.json', body: expect.objectContaining({ query: expect.stringContaining('productVariants') }) }]);
  });
});
