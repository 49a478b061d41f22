/**
 * Square connector: contract tests through the official `square` SDK against the Square emulator on
 * 127.0.0.1 (which validates every request, answer and webhook against Square's OpenAPI document),
 * the official signature vectors, every webhook example of the spec through verify + translate, and
 * translation tests of orders, returns and counts.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { WebhooksHelper } from 'square';
import { matchCatalog } from '../../server/core/catalog-match';
import { ConnectorError, TranslateError, type ChannelFact, type Connector, type PushTarget } from '../../server/connectors/types';
import { capabilities, createSquareConnector, definition } from '../../server/connectors/square';
import { DEFAULT_SQUARE_VERSION, MAX_BATCH } from '../../server/connectors/square/client';
import { SquareEmulator } from '../../server/connectors/square/emulator';
import { SquareSpec } from '../../server/connectors/square/spec';
import { EXPANDED_ORDER_KEY, SQUARE_TOPICS, createTranslate, translate } from '../../server/connectors/square/translate';
import { signSquareWebhook, squareSignatureMatches, verifySquareWebhook } from '../../server/connectors/square/verify';
import { TOPIC_OF, WebhookSink } from './helpers/webhook-sink';

const TOKEN = 'EAAAl-square-emulator-access-token-0123456789';
const KEY = 'square-webhook-signature-key-for-tests';
const LOC1 = 'LGALLERY7Q2K9';
const LOC2 = 'LWAREHSE4M8XN';

const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../shared/specs/webhook-signature-vectors.json'), 'utf8')) as {
  square: { signatureKey: string; notificationUrl: string; body: string; signature: string; mustFailWith?: { notificationUrl?: string; signatureKey?: string } }[];
};

let emu: SquareEmulator;
let baseUrl: string;
let sink: WebhookSink;
let hookUrl: string;

function connector(
  settings: Record<string, unknown> = {},
  credentials: Record<string, string> = {},
  url: string | null = baseUrl,
  extra: { fetch?: typeof fetch; clock?: () => Date } = {},
): Connector {
  return createSquareConnector({
    channelId: 'square-pos',
    baseUrl: url,
    settings: { notificationUrl: hookUrl, merchantId: emu.merchantId, ...settings },
    credentials: { accessToken: TOKEN, webhookSignatureKey: KEY, ...credentials },
    ...extra,
  });
}

function target(sku: string, level: number, expected: number | null, locationId = LOC1, key?: string): PushTarget {
  const ref = emu.listing(sku);
  if (!ref) throw new Error(`no listing ${sku}`);
  return { sku, ref, locationId, level, expected, idempotencyKey: key ?? `t-${sku}-${locationId}-${level}-${expected ?? 'x'}` };
}

type Json = Record<string, any>;
const bodies = (p: string) => emu.requests.filter((r) => r.path === p).map((r) => r.body as Json);
const calls = () => emu.requests.map((r) => `${r.method} ${r.path}`);

/** A raw call to the emulator, bypassing the SDK (for what the connector never sends). */
async function raw(method: string, p: string, body?: unknown, token = TOKEN): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(`${baseUrl}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'square-version': DEFAULT_SQUARE_VERSION },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Json, headers: res.headers };
}

async function settle(): Promise<void> {
  await emu.flushWebhooks();
}

/** Verify a received delivery with the connector, expand it, translate it. */
async function factsOf(i: number, c: Connector = connector()): Promise<{ topic: string; facts: ChannelFact[]; body: Json }> {
  const r = sink.received[i]!;
  const v = c.verify(r.raw, r.headers as Record<string, string>);
  if (!v.valid) throw new Error(v.reason);
  const body = (await c.expand!(v.topic, JSON.parse(r.raw.toString('utf8')))) as Json;
  return { topic: v.topic, facts: c.translate(v.topic, body, r.headers as Record<string, string>), body };
}

beforeEach(async () => {
  emu = new SquareEmulator({ accessToken: TOKEN, webhookSignatureKey: KEY, locations: [LOC1, LOC2] });
  baseUrl = await emu.start();
  sink = new WebhookSink('/v1/webhooks/square-pos', TOPIC_OF.square);
  hookUrl = await sink.start();
  emu.subscribe(hookUrl);
  emu.seed([
    { sku: 'ART-001', title: 'Dot painting, small', levels: { [LOC1]: 5, [LOC2]: 2 } },
    { sku: 'ART-002', title: 'Dot painting, large', levels: { [LOC1]: 1 } },
  ]);
});

afterEach(async () => {
  await emu.flushWebhooks();
  // Every request the connector sent, every answer and every webhook of the emulator matched Square's spec.
  expect(emu.specViolations).toEqual([]);
  expect(emu.internalErrors).toEqual([]);
  await emu.stop();
  await sink.stop();
});

describe('definition', () => {
  it('declares square: accessToken + webhookSignatureKey, required notificationUrl and merchantId, deltas first, locations, 100 per batch, unpublished rate limit, the six topics, no hide/relist', () => {
    expect(definition.platform).toBe('square');
    expect(definition.credentials).toEqual(['accessToken', 'webhookSignatureKey']);
    expect(definition.requiredSettings).toEqual(['notificationUrl', 'merchantId']);
    expect(definition.settingHelp?.merchantId).toMatch(/\/v2\/merchants\/me/);
    expect(definition.capabilities).toBe(capabilities);
    expect(capabilities.push).toEqual(['idempotent_delta', 'absolute_set']);
    expect(capabilities.locations).toBe(true);
    expect(capabilities.maxBatch).toBe(100);
    expect(MAX_BATCH).toBe(100);
    expect(capabilities.rateLimit).toEqual({ kind: 'unpublished', description: expect.stringMatching(/RATE_LIMITED/) });
    expect(capabilities.webhooks).toEqual(['inventory.count.updated', 'order.created', 'order.updated', 'payment.updated', 'refund.created', 'refund.updated']);
    expect(capabilities.hideRelist.supported).toBe(false);
    expect(capabilities.hideRelist.how).toMatch(/sold out/);
  });

  it('checks its settings and credentials, naming them', () => {
    expect(() => connector({ notificationUrl: undefined })).toThrow(/notificationUrl/);
    expect(() => connector({ notificationUrl: 'not a url' })).toThrow(/notificationUrl/);
    expect(() => connector({ merchantId: undefined })).toThrow(/merchantId.*\/v2\/merchants\/me/);
    expect(() => connector({ merchantId: 'not an id!' })).toThrow(/merchantId/);
    expect(() => connector({}, { accessToken: '' })).toThrow(/accessToken/);
    expect(() => connector({ squareVersion: 'latest' })).toThrow(/squareVersion/);
    expect(() => connector({ squareVersion: '2026-09-16' })).toThrow(/location_id.*2026-07-15/);
    expect(() => connector({ locationIds: [LOC1, 7] })).toThrow(/locationIds/);
    expect(() => connector({ timeoutSeconds: 0 })).toThrow(/timeoutSeconds/);
    expect(() => connector({ restockReturns: 'yes' })).toThrow(/restockReturns/);
    expect(() => connector({ salesFromPayments: 1 })).toThrow(/salesFromPayments/);
    expect(() => connector({ locationIds: `${LOC1},${LOC2}` })).not.toThrow();
    expect(() => connector({}, {}, null)).not.toThrow();
  });

  it('the emulator loaded the OpenAPI document, whose Square-Version is the one the connector pins', () => {
    expect(emu.specLoaded).toBe(true);
    expect(SquareSpec.load()!.version).toBe(DEFAULT_SQUARE_VERSION);
    expect(SquareSpec.load()!.patched).toEqual(['CatalogModifierToggleOverrideType']);
  });

  it('every SDK request goes to {baseUrl}/v2/… with the bearer token and Square-Version 2025-08-20 (or the configured one)', async () => {
    const seen: { url: string; auth: string | null; version: string | null }[] = [];
    const spy: typeof fetch = async (input, init) => {
      const h = new Headers(init?.headers);
      seen.push({ url: String(input), auth: h.get('authorization'), version: h.get('square-version') });
      return fetch(input, init);
    };
    const c = connector({}, {}, baseUrl, { fetch: spy });
    await c.listCatalog();
    await c.push([target('ART-001', 6, 5)]);
    await connector({ squareVersion: '2025-10-16' }).read([{ sku: 'ART-001', ref: emu.listing('ART-001')!, locationId: LOC1 }]);
    expect(seen.map((s) => s.url.replace(baseUrl, ''))).toEqual(['/v2/catalog/list?types=ITEM', '/v2/inventory/changes/batch-create']);
    expect(seen.every((s) => s.auth === `Bearer ${TOKEN}` && s.version === '2025-08-20')).toBe(true);
    expect(emu.requests.map((r) => r.squareVersion)).toEqual(['2025-08-20', '2025-08-20', '2025-10-16']);
  });
});

describe('listCatalog and discovery', () => {
  it('lists every ITEM variation: SKU, "Item — Variation" title (the item name alone for "Regular"), item and variation ids', async () => {
    const { itemId, variationIds } = emu.addItem({ name: 'Bark painting', variations: [{ name: 'Framed', sku: 'ART-003' }, { name: 'Unframed', sku: 'ART-004' }] });
    emu.addListing({ sku: null, title: 'Gift wrapping' });
    const listings = await connector().listCatalog();
    expect(listings).toEqual([
      { sku: 'ART-001', title: 'Dot painting, small', ref: emu.listing('ART-001') },
      { sku: 'ART-002', title: 'Dot painting, large', ref: emu.listing('ART-002') },
      { sku: 'ART-003', title: 'Bark painting — Framed', ref: { productId: itemId, variantId: variationIds[0] } },
      { sku: 'ART-004', title: 'Bark painting — Unframed', ref: { productId: itemId, variantId: variationIds[1] } },
      { sku: null, title: 'Gift wrapping', ref: expect.objectContaining({ productId: expect.any(String) }) },
    ]);
    expect(calls()).toEqual(['GET /v2/catalog/list']);
    expect(emu.requests[0]!.query).toBe('?types=ITEM');
  });

  it('follows the cursor through every page of 100 objects (230 items → 3 requests)', async () => {
    for (let i = 0; i < 228; i++) emu.addListing({ sku: `BULK-${i}`, title: `Bulk ${i}` });
    const listings = await connector().listCatalog();
    expect(listings).toHaveLength(230);
    expect(new Set(listings.map((l) => l.sku)).size).toBe(230);
    const queries = emu.requests.map((r) => new URLSearchParams(r.query));
    expect(queries.map((q) => q.get('types'))).toEqual(['ITEM', 'ITEM', 'ITEM']);
    expect(queries[0]!.get('cursor')).toBeNull();
    expect(queries[1]!.get('cursor')).toEqual(expect.any(String));
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
  it('reads IN_STOCK counts per variation and location in one batch-retrieve; an untracked pair and an unknown location are left out', async () => {
    const a = emu.listing('ART-001')!;
    const b = emu.listing('ART-002')!;
    const readings = await connector().read([
      { sku: 'ART-001', ref: a, locationId: LOC1 },
      { sku: 'ART-001', ref: a, locationId: LOC2 },
      { sku: 'ART-002', ref: b, locationId: LOC1 },
      { sku: 'ART-002', ref: b, locationId: LOC2 },
      { sku: 'ART-001', ref: a, locationId: 'LUNKNOWN00000' },
    ]);
    expect(readings.map((r) => [r.sku, r.locationId, r.available])).toEqual([
      ['ART-001', LOC1, 5],
      ['ART-001', LOC2, 2],
      ['ART-002', LOC1, 1],
    ]);
    expect(bodies('/v2/inventory/counts/batch-retrieve')).toEqual([{ catalog_object_ids: [a.variantId, b.variantId], location_ids: [LOC1, LOC2, 'LUNKNOWN00000'], states: ['IN_STOCK'] }]);
  });

  it('follows the cursor when Square pages the counts', async () => {
    const paged = new SquareEmulator({ accessToken: TOKEN, webhookSignatureKey: KEY, locations: [LOC1, LOC2], countsPageSize: 2 });
    const url = await paged.start();
    try {
      paged.seed([{ sku: 'A', title: 'A', levels: { [LOC1]: 1, [LOC2]: 2 } }, { sku: 'B', title: 'B', levels: { [LOC1]: 3, [LOC2]: 4 } }, { sku: 'C', title: 'C', levels: { [LOC1]: 5 } }]);
      const items = ['A', 'B', 'C'].flatMap((sku) => [LOC1, LOC2].map((locationId) => ({ sku, ref: paged.listing(sku)!, locationId })));
      const readings = await connector({}, {}, url).read(items);
      expect(readings.map((r) => `${r.sku}@${r.locationId}=${r.available}`)).toEqual([`A@${LOC1}=1`, `A@${LOC2}=2`, `B@${LOC1}=3`, `B@${LOC2}=4`, `C@${LOC1}=5`]);
      expect(paged.requests.map((r) => (r.body as Json).cursor === undefined)).toEqual([true, false, false]);
      expect(paged.specViolations).toEqual([]);
    } finally {
      await paged.stop();
    }
  });

  it('reads only IN_STOCK: stock written off to WASTE by a push is not counted', async () => {
    await connector().push([target('ART-001', 2, 5)]);
    const [r] = await connector().read([{ sku: 'ART-001', ref: emu.listing('ART-001')!, locationId: LOC1 }]);
    expect(r!.available).toBe(2);
    const all = await raw('POST', '/v2/inventory/counts/batch-retrieve', { catalog_object_ids: [emu.listing('ART-001')!.variantId], location_ids: [LOC1] });
    expect(all.body.counts.map((c: Json) => [c.state, c.quantity]).sort()).toEqual([
      ['IN_STOCK', '2'],
      ['WASTE', '3'],
    ]);
  });

  it('with locationIds set, reads only those locations', async () => {
    const a = emu.listing('ART-001')!;
    const readings = await connector({ locationIds: [LOC2] }).read([
      { sku: 'ART-001', ref: a, locationId: LOC1 },
      { sku: 'ART-001', ref: a, locationId: LOC2 },
    ]);
    expect(readings.map((r) => r.locationId)).toEqual([LOC2]);
  });
});

describe('push', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('adds stock as an ADJUSTMENT NONE → IN_STOCK of level − expected, with occurred_at, reference_id, ignore_unchanged_counts and a UUID idempotency key', async () => {
    const t = target('ART-001', 9, 5);
    const before = Date.now();
    expect(await connector().push([t])).toEqual([{ sku: 'ART-001', locationId: LOC1, status: 'applied', level: 9 }]);
    expect(emu.level('ART-001', LOC1)).toBe(9);
    const [body] = bodies('/v2/inventory/changes/batch-create');
    expect(body).toEqual({
      idempotency_key: expect.stringMatching(UUID),
      changes: [{ type: 'ADJUSTMENT', adjustment: { reference_id: t.idempotencyKey, catalog_object_id: t.ref.variantId, location_id: LOC1, from_state: 'NONE', to_state: 'IN_STOCK', quantity: '4', occurred_at: expect.any(String) } }],
      ignore_unchanged_counts: true,
    });
    const at = Date.parse(body!.changes[0].adjustment.occurred_at);
    expect(at).toBeGreaterThanOrEqual(before - 5);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  it('removes stock as an ADJUSTMENT IN_STOCK → WASTE; a zero delta is applied without any request', async () => {
    const outs = await connector().push([target('ART-001', 1, 5), target('ART-002', 1, 1)]);
    expect(outs).toEqual([
      { sku: 'ART-001', locationId: LOC1, status: 'applied', level: 1 },
      { sku: 'ART-002', locationId: LOC1, status: 'applied', level: 1, wrote: false },
    ]);
    const changes = bodies('/v2/inventory/changes/batch-create')[0]!.changes as Json[];
    expect(changes).toHaveLength(1);
    expect(changes[0]!.adjustment).toMatchObject({ from_state: 'IN_STOCK', to_state: 'WASTE', quantity: '4' });
    expect(emu.level('ART-001', LOC1)).toBe(1);
    emu.requests.length = 0;
    expect(await connector().push([target('ART-002', 1, 1)])).toEqual([{ sku: 'ART-002', locationId: LOC1, status: 'applied', level: 1, wrote: false }]);
    expect(emu.requests).toEqual([]);
  });

  it('a delta composes with a sale the hub has not heard of (never overwrites it): the level ends at target − sold', async () => {
    await emu.sell({ sku: 'ART-001', quantity: 1, locationId: LOC1 });
    await connector().push([target('ART-001', 9, 5)]);
    expect(emu.level('ART-001', LOC1)).toBe(8);
  });

  it('a level never read (expected null) is set with a PHYSICAL_COUNT and read back', async () => {
    expect(await connector().push([target('ART-001', 7, null, LOC2)])).toEqual([{ sku: 'ART-001', locationId: LOC2, status: 'applied', level: 7 }]);
    expect(calls()).toEqual(['POST /v2/inventory/changes/batch-create', 'POST /v2/inventory/counts/batch-retrieve']);
    expect(bodies('/v2/inventory/changes/batch-create')[0]!.changes).toEqual([
      { type: 'PHYSICAL_COUNT', physical_count: { reference_id: expect.any(String), catalog_object_id: emu.listing('ART-001')!.variantId, location_id: LOC2, state: 'IN_STOCK', quantity: '7', occurred_at: expect.any(String) } },
    ]);
    expect(emu.level('ART-001', LOC2)).toBe(7);
  });

  it('an absolute set whose read-back differs (a sale landed in between) is reported stale with the level read', async () => {
    const saleAfterWrite: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).endsWith('/v2/inventory/changes/batch-create')) await emu.sell({ sku: 'ART-001', quantity: 1, locationId: LOC1 });
      return res;
    };
    const outs = await connector({}, {}, baseUrl, { fetch: saleAfterWrite }).push([target('ART-001', 7, null), target('ART-002', 3, null)]);
    expect(outs).toEqual([
      { sku: 'ART-001', locationId: LOC1, status: 'stale', observed: 6 },
      { sku: 'ART-002', locationId: LOC1, status: 'applied', level: 3 },
    ]);
  });

  it('mixes deltas and absolute sets in one request; 230 targets go as requests of 100, 100 and 30 changes', async () => {
    const targets: PushTarget[] = [];
    for (let i = 0; i < 230; i++) {
      emu.addListing({ sku: `B-${i}`, title: `Bulk ${i}`, levels: { [LOC1]: 0 } });
      targets.push(target(`B-${i}`, i + 1, i % 2 === 0 ? 0 : null));
    }
    const outs = await connector().push(targets);
    expect(outs.every((o) => o.status === 'applied')).toBe(true);
    const sizes = bodies('/v2/inventory/changes/batch-create').map((b) => (b.changes as unknown[]).length);
    expect(sizes).toEqual([100, 100, 30]);
    expect(new Set(bodies('/v2/inventory/changes/batch-create').map((b) => b.idempotency_key)).size).toBe(3);
    expect(emu.level('B-229', LOC1)).toBe(230);
    expect(emu.level('B-228', LOC1)).toBe(229);
  });

  it('a retried push sends the identical request (same key, same occurred_at): Square answers the first result, applies once and echoes once', async () => {
    const c = connector();
    await c.push([target('ART-002', 6, 1)]);
    await settle();
    sink.clear();
    const [again] = await c.push([target('ART-002', 6, 1)]);
    await settle();
    expect(again).toEqual({ sku: 'ART-002', locationId: LOC1, status: 'applied', level: 6 });
    const [first, second] = bodies('/v2/inventory/changes/batch-create');
    expect(second).toEqual(first);
    expect(emu.level('ART-002', LOC1)).toBe(6);
    expect(sink.received).toHaveLength(0);
  });

  it('a retry after a restart (same key, new occurred_at) is refused IDEMPOTENCY_KEY_REUSED; the connector reads back and reports applied, never applying twice', async () => {
    await connector().push([target('ART-002', 6, 1)]);
    const later = () => new Date(Date.now() + 1500);
    const [out] = await connector({}, {}, baseUrl, { clock: later }).push([target('ART-002', 6, 1)]);
    expect(out).toEqual({ sku: 'ART-002', locationId: LOC1, status: 'applied', level: 6 });
    expect(emu.level('ART-002', LOC1)).toBe(6);
    const [first, second] = bodies('/v2/inventory/changes/batch-create');
    expect(second!.idempotency_key).toBe(first!.idempotency_key);
    expect(calls()).toEqual(['POST /v2/inventory/changes/batch-create', 'POST /v2/inventory/changes/batch-create', 'POST /v2/inventory/counts/batch-retrieve']);
  });

  it('the emulator answers the same key with a different body 400 IDEMPOTENCY_KEY_REUSED, and the same body with the first answer', async () => {
    const v = emu.listing('ART-001')!.variantId;
    const change = (q: string) => ({ idempotency_key: 'k-1', changes: [{ type: 'ADJUSTMENT', adjustment: { catalog_object_id: v, location_id: LOC1, from_state: 'NONE', to_state: 'IN_STOCK', quantity: q, occurred_at: new Date().toISOString() } }] });
    const body = change('1');
    const first = await raw('POST', '/v2/inventory/changes/batch-create', body);
    const replay = await raw('POST', '/v2/inventory/changes/batch-create', body);
    const reused = await raw('POST', '/v2/inventory/changes/batch-create', change('2'));
    expect(first.status).toBe(200);
    expect(replay.body).toEqual(first.body);
    expect(reused.status).toBe(400);
    expect(reused.body.errors).toEqual([{ category: 'INVALID_REQUEST_ERROR', code: 'IDEMPOTENCY_KEY_REUSED', detail: expect.any(String), field: 'idempotency_key' }]);
    expect(emu.level('ART-001', LOC1)).toBe(6);
  });

  it('the emulator refuses more than 100 changes, an old occurred_at and a read-only state, applying nothing', async () => {
    const v = emu.listing('ART-001')!.variantId;
    const adj = (extra: Json = {}) => ({ type: 'ADJUSTMENT', adjustment: { catalog_object_id: v, location_id: LOC1, from_state: 'NONE', to_state: 'IN_STOCK', quantity: '1', occurred_at: new Date().toISOString(), ...extra } });
    const many = await raw('POST', '/v2/inventory/changes/batch-create', { idempotency_key: 'k-many', changes: Array.from({ length: 101 }, () => adj()) });
    expect([many.status, many.body.errors[0].code]).toEqual([400, 'ARRAY_LENGTH_TOO_LONG']);
    const old = await raw('POST', '/v2/inventory/changes/batch-create', { idempotency_key: 'k-old', changes: [adj(), adj({ occurred_at: '2020-01-01T00:00:00Z' })] });
    expect([old.status, old.body.errors[0].code, old.body.errors[0].field]).toEqual([400, 'INVALID_TIME', 'changes[1].adjustment.occurred_at']);
    const ro = await raw('POST', '/v2/inventory/changes/batch-create', { idempotency_key: 'k-ro', changes: [adj({ from_state: 'RESERVED_FOR_SALE', to_state: 'IN_STOCK' })] });
    expect(ro.status).toBe(400);
    expect(emu.level('ART-001', LOC1)).toBe(5);
  });

  it('an unknown variation fails that target only; the rest of the batch is sent again under a new key and applied', async () => {
    const bad: PushTarget = { ...target('ART-001', 3, 5), sku: 'GONE', ref: { productId: 'X', variantId: 'NOSUCHVARIATION000000000' } };
    const outs = await connector().push([target('ART-001', 3, 5), bad, target('ART-002', 4, 1)]);
    expect(outs).toEqual([
      { sku: 'ART-001', locationId: LOC1, status: 'applied', level: 3 },
      { sku: 'GONE', locationId: LOC1, status: 'failed', message: expect.stringMatching(/not found/) },
      { sku: 'ART-002', locationId: LOC1, status: 'applied', level: 4 },
    ]);
    const sent = bodies('/v2/inventory/changes/batch-create');
    expect(sent.map((b) => (b.changes as unknown[]).length)).toEqual([3, 2]);
    expect(sent[0]!.idempotency_key).not.toBe(sent[1]!.idempotency_key);
  });

  it('fails, without sending, a target with no variation id, one outside locationIds and a negative level', async () => {
    const a = target('ART-001', 1, 5);
    const outs = await connector({ locationIds: [LOC1] }).push([
      { ...a, ref: { productId: a.ref.productId, variantId: '' } },
      { ...a, locationId: LOC2 },
      { ...a, level: -1 },
    ]);
    expect(outs.map((o) => o.status)).toEqual(['failed', 'failed', 'failed']);
    expect(emu.requests).toEqual([]);
  });

  it('the emulator checks every request against the spec: a camelCase body is a violation answered 400', async () => {
    const res = await raw('POST', '/v2/inventory/changes/batch-create', { idempotencyKey: 'k', changes: [] });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ category: 'INVALID_REQUEST_ERROR', code: 'BAD_REQUEST' });
    expect(emu.specViolations).toEqual([{ kind: 'request', what: 'POST /v2/inventory/changes/batch-create', errors: expect.arrayContaining([expect.stringMatching(/idempotency_key/), expect.stringMatching(/additional properties \(idempotencyKey\)/)]) }]);
    const unknownQuery = await raw('GET', '/v2/catalog/list?types=ITEM&page=2');
    expect(unknownQuery.status).toBe(400);
    expect(emu.specViolations[1]!.errors).toEqual(['query parameter page is not a parameter of /v2/catalog/list']);
    emu.specViolations.length = 0;
  });
});

describe('hide and relist', () => {
  it('are not supported: a non-retryable ConnectorError saying why, and nothing is sent', async () => {
    const c = connector();
    for (const op of [c.hide, c.relist]) {
      const err = (await op(emu.listing('ART-001')!).catch((e: unknown) => e)) as ConnectorError;
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err.retryable).toBe(false);
      expect(err.message).toMatch(/sold out/);
    }
    expect(emu.requests).toEqual([]);
  });
});

describe('errors', () => {
  it('a wrong token gets Square’s 401 UNAUTHORIZED and a non-retryable ConnectorError naming the credential, never the token', async () => {
    const bad = 'EAAAl-wrong-token-value-9876543210';
    const err = (await connector({}, { accessToken: bad }).listCatalog().catch((e: unknown) => e)) as ConnectorError;
    expect(err).toBeInstanceOf(ConnectorError);
    expect([err.status, err.retryable]).toEqual([401, false]);
    expect(err.message).toMatch(/UNAUTHORIZED/);
    expect(err.message).toMatch(/accessToken/);
    expect(err.message).not.toContain(bad);
    const res = await raw('GET', '/v2/catalog/list', undefined, bad);
    expect(res.body).toEqual({ errors: [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: 'This request could not be authorized.' }] });
  });

  it('a 429 RATE_LIMITED with Retry-After: 2 is retryable with retryAfterMs 2000 (reads and pushes alike)', async () => {
    emu.faults.api.rateLimitNext = { count: 2, retryAfterSeconds: 2 };
    const e1 = (await connector().push([target('ART-001', 1, 5)]).catch((e: unknown) => e)) as ConnectorError;
    const e2 = (await connector().listCatalog().catch((e: unknown) => e)) as ConnectorError;
    for (const err of [e1, e2]) {
      expect(err).toBeInstanceOf(ConnectorError);
      expect([err.status, err.retryable, err.retryAfterMs]).toEqual([429, true, 2000]);
      expect(err.message).toMatch(/RATE_LIMITED/);
    }
    expect(emu.level('ART-001', LOC1)).toBe(5);
  });

  it('a 500 INTERNAL_SERVER_ERROR is retryable with its status; the next call succeeds', async () => {
    emu.faults.api.failNext = 1;
    const err = (await connector().read([{ sku: 'ART-001', ref: emu.listing('ART-001')!, locationId: LOC1 }]).catch((e: unknown) => e)) as ConnectorError;
    expect([err.status, err.retryable]).toEqual([500, true]);
    expect(err.message).toMatch(/INTERNAL_SERVER_ERROR/);
    expect(await connector().listCatalog()).toHaveLength(2);
  });

  it('a request Square refuses (400) naming no change is a non-retryable ConnectorError on a read and on a push: a channel fault, not a refusal of each item', async () => {
    // A fetch that spoils every body the way a broken client would (camelCase keys).
    const spoil: typeof fetch = (input, init) => fetch(input, { ...init, body: typeof init?.body === 'string' ? init.body.replace(/"catalog_object_ids"|"idempotency_key"/, '"catalogObjectIds"') : init?.body });
    const c = connector({}, {}, baseUrl, { fetch: spoil });
    const err = (await c.read([{ sku: 'ART-001', ref: emu.listing('ART-001')!, locationId: LOC1 }]).catch((e: unknown) => e)) as ConnectorError;
    expect(err).toBeInstanceOf(ConnectorError);
    expect([err.status, err.retryable]).toEqual([400, false]);
    expect(err.message).toMatch(/BAD_REQUEST/);
    const pushErr = (await c.push([target('ART-001', 9, 5), target('ART-002', 2, 1)]).catch((e: unknown) => e)) as ConnectorError;
    expect(pushErr).toBeInstanceOf(ConnectorError);
    expect([pushErr.status, pushErr.retryable, pushErr.channelFault]).toEqual([400, false, true]);
    expect(pushErr.message).toMatch(/BAD_REQUEST/);
    expect(emu.level('ART-001', LOC1)).toBe(5);
    expect(emu.specViolations.map((v) => v.what)).toEqual(['POST /v2/inventory/counts/batch-retrieve', 'POST /v2/inventory/changes/batch-create']);
    emu.specViolations.length = 0;
  });

  it('an unreachable Square is a retryable ConnectorError without a status', async () => {
    const dead = new SquareEmulator({ accessToken: TOKEN, webhookSignatureKey: KEY });
    const url = await dead.start();
    await dead.stop();
    // timeoutSeconds 1: the SDK leaves its timeout timer running after a failed fetch; keep it short.
    const err = (await connector({ timeoutSeconds: 1 }, {}, url).listCatalog().catch((e: unknown) => e)) as ConnectorError;
    expect(err).toBeInstanceOf(ConnectorError);
    expect([err.retryable, err.status]).toEqual([true, null]);
    expect(err.message).toMatch(/could not be reached.*ECONNREFUSED/);
    const pushErr = (await connector({ timeoutSeconds: 1 }, {}, url).push([target('ART-001', 1, 5)]).catch((e: unknown) => e)) as ConnectorError;
    expect([pushErr.retryable, pushErr.status]).toEqual([true, null]);
  });

  it('no answer within timeoutSeconds is a retryable ConnectorError', async () => {
    emu.faults.api.latencyMs = 1500;
    for (const run of [() => connector({ timeoutSeconds: 1 }).listCatalog(), () => connector({ timeoutSeconds: 1 }).push([target('ART-001', 9, 5)])]) {
      const err = (await run().catch((e: unknown) => e)) as ConnectorError;
      expect(err).toBeInstanceOf(ConnectorError);
      expect(err.retryable).toBe(true);
      expect(err.message).toMatch(/within 1 s/);
    }
  });

  it('an aborted call rejects with the signal’s reason (not a ConnectorError), for SDK calls and pushes; an aborted signal sends nothing', async () => {
    emu.faults.api.latencyMs = 300;
    for (const run of [(s: AbortSignal) => connector({ timeoutSeconds: 1 }).listCatalog(s), (s: AbortSignal) => connector({ timeoutSeconds: 1 }).push([target('ART-001', 9, 5)], s)]) {
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(), 50);
      const err = (await run(ctl.signal).catch((e: unknown) => e)) as Error;
      expect(err).not.toBeInstanceOf(ConnectorError);
      expect(err.name).toBe('AbortError');
    }
    const n = emu.requests.length;
    const done = new AbortController();
    done.abort();
    await expect(connector({ timeoutSeconds: 1 }).read([{ sku: 'ART-001', ref: emu.listing('ART-001')!, locationId: LOC1 }], done.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(emu.requests.length).toBe(n);
  });

  it('an aborted call leaves no timer of the SDK running, so a hub shutting down is not held for timeoutSeconds', async () => {
    // Every timer of the request timeout (30 s) armed while the calls run, and every timer cleared.
    const armed: unknown[] = [];
    const cleared = new Set<unknown>();
    const realSet = global.setTimeout;
    const realClear = global.clearTimeout;
    const setSpy = jest.spyOn(global, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const handle = realSet(fn, ms);
      if (ms === 30_000) armed.push(handle);
      return handle;
    }) as unknown as typeof setTimeout);
    const clearSpy = jest.spyOn(global, 'clearTimeout').mockImplementation(((handle: NodeJS.Timeout) => {
      cleared.add(handle);
      realClear(handle);
    }) as unknown as typeof clearTimeout);
    try {
      // Sent: SDK calls and a push to a Square that never answers, each aborted by its caller after 50 ms.
      for (const run of [(s: AbortSignal) => connector().listCatalog(s), (s: AbortSignal) => connector().push([target('ART-001', 9, 5)], s)]) {
        emu.faults.api.hangNext = 1;
        const ctl = new AbortController();
        const stop = realSet(() => ctl.abort(), 50);
        await expect(run(ctl.signal)).rejects.toMatchObject({ name: 'AbortError' });
        realClear(stop);
      }
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
    // Kept: none of them (the SDK clears its timer only when fetch resolves).
    expect(armed.length).toBe(2);
    expect(armed.filter((h) => !cleared.has(h)).length).toBe(0);
  });
});

describe('verify', () => {
  const [v1, v2, v3] = vectors.square;

  it('reproduces all three official Square vectors (square-nodejs-sdk webhooks.test.ts)', () => {
    for (const v of vectors.square) {
      expect(signSquareWebhook(v.body, v.signatureKey, v.notificationUrl)).toBe(v.signature);
      expect(squareSignatureMatches(Buffer.from(v.body), v.signature, v.signatureKey, v.notificationUrl)).toBe(true);
    }
  });

  it('the first vector verifies end to end: event id, type and time from the body', () => {
    expect(verifySquareWebhook(Buffer.from(v1!.body), { 'x-square-hmacsha256-signature': v1!.signature }, v1!.signatureKey, v1!.notificationUrl)).toEqual({
      valid: true,
      eventId: 'ac3ac95b-f97d-458c-a6e6-18981597e05f',
      topic: 'webhooks.test_notification',
      occurredAt: '2022-07-13T20:30:59.037Z',
    });
  });

  it('the mustFailWith variants fail: another notification URL, another signature key', () => {
    const f = v1!.mustFailWith!;
    const h = { 'x-square-hmacsha256-signature': v1!.signature };
    expect(verifySquareWebhook(Buffer.from(v1!.body), h, v1!.signatureKey, f.notificationUrl)).toEqual({ valid: false, reason: expect.stringMatching(/does not match/) });
    expect(verifySquareWebhook(Buffer.from(v1!.body), h, f.signatureKey, v1!.notificationUrl)).toEqual({ valid: false, reason: expect.stringMatching(/does not match/) });
    expect(verifySquareWebhook(Buffer.from(v1!.body), h, f.signatureKey, f.notificationUrl).valid).toBe(false);
  });

  it('vectors 2 and 3 are signed right but carry no event_id, so they cannot be deduplicated: refused for that reason', () => {
    for (const v of [v2!, v3!]) {
      expect(verifySquareWebhook(Buffer.from(v.body), { 'x-square-hmacsha256-signature': v.signature }, v.signatureKey, v.notificationUrl)).toEqual({ valid: false, reason: expect.stringMatching(/no event_id/) });
    }
  });

  it('agrees with the SDK’s own WebhooksHelper on the vectors', async () => {
    for (const v of vectors.square) {
      await expect(WebhooksHelper.verifySignature({ requestBody: v.body, signatureHeader: v.signature, signatureKey: v.signatureKey, notificationUrl: v.notificationUrl })).resolves.toBe(true);
    }
  });

  it('rejects a tampered body, a trailing slash on the URL, a missing or malformed header, repeated-but-different headers, no key', () => {
    const h = { 'x-square-hmacsha256-signature': v1!.signature };
    const ok = (raw: Buffer, headers: Record<string, unknown>, key = v1!.signatureKey, url = v1!.notificationUrl) => verifySquareWebhook(raw, headers as Record<string, string>, key, url).valid;
    expect(ok(Buffer.from(v1!.body.replace('MLEFBHHSJGVHD', 'MLEFBHHSJGVHE')), h)).toBe(false);
    expect(ok(Buffer.from(v1!.body), h, v1!.signatureKey, `${v1!.notificationUrl}/`)).toBe(false);
    expect(verifySquareWebhook(Buffer.from(v1!.body), {}, v1!.signatureKey, v1!.notificationUrl)).toEqual({ valid: false, reason: expect.stringMatching(/no x-square-hmacsha256-signature/) });
    expect(ok(Buffer.from(v1!.body), { 'x-square-hmacsha256-signature': 'not base64 !!' })).toBe(false);
    expect(ok(Buffer.from(v1!.body), { 'X-Square-HmacSha256-Signature': [v1!.signature, 'AAAA'] })).toBe(false);
    expect(ok(Buffer.from(v1!.body), { 'X-Square-HmacSha256-Signature': [v1!.signature] })).toBe(true);
    expect(ok(Buffer.from(v1!.body), h, '')).toBe(false);
    expect(ok(Buffer.from(v1!.body), h, v1!.signatureKey, '')).toBe(false);
    expect(ok(Buffer.alloc(0), h)).toBe(false);
  });

  it('never throws, whatever bytes and headers arrive', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.array(fc.string()), fc.constant(undefined))), (bytes, headers) => {
        const r = verifySquareWebhook(Buffer.from(bytes), headers, KEY, hookUrl);
        expect(typeof r.valid).toBe('boolean');
      }),
      { numRuns: 300 },
    );
    expect(verifySquareWebhook(null as unknown as Buffer, null as unknown as Record<string, string>, KEY, hookUrl).valid).toBe(false);
  });

  it('the connector verifies with its webhookSignatureKey over its notificationUrl setting', () => {
    const body = JSON.stringify({ merchant_id: emu.merchantId, type: 'inventory.count.updated', event_id: 'e-1', created_at: '2026-01-02T03:04:05Z', data: {} });
    const h = { 'x-square-hmacsha256-signature': signSquareWebhook(body, KEY, hookUrl) };
    expect(connector().verify(Buffer.from(body), h)).toEqual({ valid: true, eventId: 'e-1', topic: 'inventory.count.updated', occurredAt: '2026-01-02T03:04:05.000Z' });
    // Signed with the same key, for another seller of the same application: not this channel's.
    const other = body.replace(emu.merchantId, 'M');
    expect(connector().verify(Buffer.from(other), { 'x-square-hmacsha256-signature': signSquareWebhook(other, KEY, hookUrl) })).toMatchObject({ valid: false, refusal: 'account' });
    expect(connector({ notificationUrl: 'https://hub.example.com/v1/webhooks/square-pos' }).verify(Buffer.from(body), h).valid).toBe(false);
    expect(connector({}, { webhookSignatureKey: 'rotated' }).verify(Buffer.from(body), h).valid).toBe(false);
  });
});

describe('the spec’s webhook examples through verify and translate', () => {
  const spec = SquareSpec.load()!;
  const examples = spec.webhookExamples();
  const sign = (body: string) => ({ 'x-square-hmacsha256-signature': signSquareWebhook(body, KEY, 'https://hub.example.com/v1/webhooks/square-pos') });
  const verifyExample = (example: Json) => {
    const body = JSON.stringify(example);
    const v = verifySquareWebhook(Buffer.from(body), sign(body), KEY, 'https://hub.example.com/v1/webhooks/square-pos');
    if (!v.valid) throw new Error(v.reason);
    return { v, body: JSON.parse(body) as Json };
  };
  const exampleOf = (event: string) => examples.find((e) => e.event === event)!.example as Json;

  it('the spec has an example for each of the six topics (and 140 others)', () => {
    expect(examples.length).toBeGreaterThan(100);
    for (const t of SQUARE_TOPICS) expect(examples.filter((e) => e.event === t)).toHaveLength(1);
  });

  it('every example verifies once signed, and translates without crashing: the topics we do not use give no facts', () => {
    for (const { event, example } of examples) {
      const { v, body } = verifyExample(example);
      expect(v.topic).toBe(event);
      expect(v.eventId).toBe(example.event_id);
      if ((SQUARE_TOPICS as readonly string[]).includes(event)) continue;
      expect(translate(v.topic, body, {})).toEqual([]);
    }
  });

  it('inventory.count.updated example → one level observed: 10 of FGQ5JJWT2PYTHF35CKZ2DSKP at YYQR03DGCTXA4', () => {
    const { v, body } = verifyExample(exampleOf('inventory.count.updated'));
    expect(v).toEqual({ valid: true, eventId: 'df5f3813-a913-45a1-94e9-fdc3f7d5e3b6', topic: 'inventory.count.updated', occurredAt: '2019-10-29T18:38:45.455Z' });
    expect(translate(v.topic, body, {})).toEqual([{ type: 'level_observed', sku: null, ref: { variantId: 'FGQ5JJWT2PYTHF35CKZ2DSKP' }, locationId: 'YYQR03DGCTXA4', available: 10, occurredAt: '2019-10-29T18:38:45.102Z' }]);
  });

  it('order.created / order.updated examples are thin: unreadable without the order; with the fetched order, a sale (OPEN unpaid: nothing)', () => {
    for (const event of ['order.created', 'order.updated']) {
      const { v, body } = verifyExample(exampleOf(event));
      expect(() => translate(v.topic, body, {})).toThrow(TranslateError);
      const order = { id: 'eA3vssLHKJrv9H0IdJCM3gNqfdcZY', location_id: 'FPYCBCHYMXFK1', state: 'OPEN', created_at: '2020-04-16T23:14:26.129Z', line_items: [{ uid: 'L1', quantity: '2', catalog_object_id: 'VAR1', item_type: 'ITEM' }] };
      expect(spec.check('Order', order)).toEqual([]);
      expect(translate(v.topic, { ...body, [EXPANDED_ORDER_KEY]: order }, {})).toEqual([]);
      const paid = { ...order, tenders: [{ id: 'T1', type: 'CARD' }] };
      expect(translate(v.topic, { ...body, [EXPANDED_ORDER_KEY]: paid }, {})).toEqual([
        { type: 'sale', orderId: 'eA3vssLHKJrv9H0IdJCM3gNqfdcZY', occurredAt: '2020-04-16T23:14:26.129Z', lines: [{ lineId: 'L1', sku: null, ref: { variantId: 'VAR1' }, quantity: 2, locationId: 'FPYCBCHYMXFK1' }] },
      ]);
    }
  });

  it('refund.created example (PENDING) gives nothing; refund.updated example (COMPLETED) needs its return order and then gives the refund of its itemized lines', () => {
    const created = verifyExample(exampleOf('refund.created'));
    expect(translate(created.v.topic, created.body, {})).toEqual([]);
    const updated = verifyExample(exampleOf('refund.updated'));
    // The two examples share one event_id in the spec; real deliveries carry one per event.
    expect(updated.v.eventId).toBe(created.v.eventId);
    expect(() => translate(updated.v.topic, updated.body, {})).toThrow(TranslateError);
    const returnOrder = {
      id: 'haOyDuHiqtAXMk0d8pDKXpL7Jg4F',
      location_id: 'NAQ1FHV6ZJ8YV',
      state: 'COMPLETED',
      created_at: '2020-02-06T21:27:41.836Z',
      returns: [{ uid: 'R1', source_order_id: 'SALE0RDER', return_line_items: [{ uid: 'RL1', source_line_item_uid: 'L1', quantity: '1', catalog_object_id: 'VAR1', item_type: 'ITEM' }] }],
    };
    expect(spec.check('Order', returnOrder)).toEqual([]);
    expect(translate(updated.v.topic, { ...updated.body, [EXPANDED_ORDER_KEY]: returnOrder }, {})).toEqual([
      { type: 'refund', refundId: 'haOyDuHiqtAXMk0d8pDKXpL7Jg4F', orderId: 'SALE0RDER', occurredAt: '2020-02-06T21:27:41.836Z', lines: [{ lineId: 'RL1', sku: null, ref: { variantId: 'VAR1' }, quantity: 1, locationId: 'NAQ1FHV6ZJ8YV', restock: true }] },
    ]);
    const moneyOnly = { ...returnOrder, returns: [{ uid: 'R1', source_order_id: 'SALE0RDER', return_line_items: [{ uid: 'RL1', quantity: '1', item_type: 'CUSTOM_AMOUNT' }] }] };
    expect(translate(updated.v.topic, { ...updated.body, [EXPANDED_ORDER_KEY]: moneyOnly }, {})).toEqual([]);
  });

  it('payment.updated example (COMPLETED, order 03O3USaPaAaFnI6kkwB1JxGgBsUZY): nothing by itself; with its fetched order, that order’s sale (POS orders send no order events)', () => {
    const { v, body } = verifyExample(exampleOf('payment.updated'));
    expect(translate(v.topic, body, {})).toEqual([]);
    const order = { id: '03O3USaPaAaFnI6kkwB1JxGgBsUZY', location_id: 'S8GWD5R9QB376', state: 'COMPLETED', created_at: '2020-11-22T21:16:51.086Z', line_items: [{ uid: 'L1', quantity: '1', catalog_object_id: 'VAR1', item_type: 'ITEM' }], tenders: [{ id: 'hYy9pRFVxpDsO1FB05SunFWUe9JZY', type: 'CARD' }] };
    expect(spec.check('Order', order)).toEqual([]);
    const expanded = { ...body, [EXPANDED_ORDER_KEY]: order };
    expect(translate(v.topic, expanded, {})).toEqual([
      { type: 'sale', orderId: '03O3USaPaAaFnI6kkwB1JxGgBsUZY', occurredAt: '2020-11-22T21:16:51.086Z', lines: [{ lineId: 'L1', sku: null, ref: { variantId: 'VAR1' }, quantity: 1, locationId: 'S8GWD5R9QB376' }] },
    ]);
    expect(createTranslate({ salesFromPayments: false })(v.topic, expanded, {})).toEqual([]);
  });
});

describe('translate', () => {
  const event = (type: string, object: Json, order?: Json): Json => ({
    merchant_id: 'M',
    type,
    event_id: 'e',
    created_at: '2026-03-01T10:00:05Z',
    data: { type: type.replace('.', '_'), id: 'O1', object },
    ...(order ? { [EXPANDED_ORDER_KEY]: order } : {}),
  });
  const thin = (state: string) => ({ order_updated: { order_id: 'O1', location_id: 'LOC', state, version: 3 } });
  const line = (uid: string, q = '1', extra: Json = {}) => ({ uid, quantity: q, catalog_object_id: `VAR-${uid}`, item_type: 'ITEM', ...extra });
  const order = (state: string, extra: Json = {}) => ({ id: 'O1', location_id: 'LOC', state, created_at: '2026-03-01T10:00:00Z', updated_at: '2026-03-01T11:00:00Z', closed_at: '2026-03-01T11:00:00Z', line_items: [line('A', '2'), line('B')], ...extra });
  const tenders = { tenders: [{ id: 'T', type: 'CASH' }] };

  it('COMPLETED → a sale of the catalog lines at the order location; custom amounts and gift cards are not stock', () => {
    const o = order('COMPLETED', { line_items: [line('A', '2'), { uid: 'C', quantity: '1', item_type: 'CUSTOM_AMOUNT' }, line('G', '1', { item_type: 'GIFT_CARD' }), { uid: 'N', quantity: '1', name: 'ad hoc' }] });
    expect(translate('order.updated', event('order.updated', thin('COMPLETED'), o), {})).toEqual([
      { type: 'sale', orderId: 'O1', occurredAt: '2026-03-01T10:00:00.000Z', lines: [{ lineId: 'A', sku: null, ref: { variantId: 'VAR-A' }, quantity: 2, locationId: 'LOC' }] },
    ]);
  });

  it('order.created and order.updated of the same order give identical facts (same keys, booked once)', () => {
    const o = order('COMPLETED');
    const a = translate('order.created', event('order.created', { order_created: { order_id: 'O1', state: 'OPEN' } }, o), {});
    const b = translate('order.updated', event('order.updated', thin('COMPLETED'), o), {});
    expect(a).toEqual(b);
    expect(a).toHaveLength(1);
  });

  it.each([
    ['OPEN with a tender (paid, awaiting pickup)', order('OPEN', tenders), ['sale']],
    ['OPEN without tenders (not paid)', order('OPEN'), []],
    ['DRAFT', order('DRAFT', tenders), []],
    ['CANCELED after payment', order('CANCELED', tenders), ['cancellation']],
    ['CANCELED never paid', order('CANCELED'), []],
  ])('%s → %j', (_what, o, types) => {
    expect(translate('order.updated', event('order.updated', thin(String(o.state)), o), {}).map((f) => f.type)).toEqual(types);
  });

  it('a cancellation restocks every catalog line, dated when the order closed', () => {
    const [f] = translate('order.updated', event('order.updated', thin('CANCELED'), order('CANCELED', tenders)), {});
    expect(f).toEqual({ type: 'cancellation', orderId: 'O1', occurredAt: '2026-03-01T11:00:00.000Z', lines: [expect.objectContaining({ lineId: 'A', quantity: 2, restock: true }), expect.objectContaining({ lineId: 'B', quantity: 1, restock: true })] });
  });

  it('an exchange (a return order that also sells) → the sale of the new lines and the refund of the returned ones; restockReturns false keeps them off the shelf', () => {
    const o = order('COMPLETED', {
      ...tenders,
      line_items: [line('NEW')],
      returns: [{ uid: 'R', source_order_id: 'SALE', return_line_items: [{ uid: 'RL', source_line_item_uid: 'OLD', quantity: '1', catalog_object_id: 'VAR-OLD', item_type: 'ITEM' }] }],
    });
    const facts = translate('order.updated', event('order.updated', thin('COMPLETED'), o), {});
    expect(facts.map((f) => f.type)).toEqual(['sale', 'refund']);
    expect(facts[1]).toEqual({ type: 'refund', refundId: 'O1', orderId: 'SALE', occurredAt: '2026-03-01T10:00:00.000Z', lines: [{ lineId: 'RL', sku: null, ref: { variantId: 'VAR-OLD' }, quantity: 1, locationId: 'LOC', restock: true }] });
    const noRestock = createTranslate({ restockReturns: false })('order.updated', event('order.updated', thin('COMPLETED'), o), {});
    expect(noRestock[1]!.type === 'refund' && noRestock[1]!.lines[0]!.restock).toBe(false);
  });

  it('refund events: PENDING or without an order → nothing; COMPLETED → the return order’s refund, identical to the one its order event gives', () => {
    const o = order('COMPLETED', { line_items: [], returns: [{ uid: 'R', source_order_id: 'SALE', return_line_items: [{ uid: 'RL', quantity: '2', catalog_object_id: 'V', item_type: 'ITEM' }] }] });
    const refund = (status: string, orderId: string | null = 'O1', type = 'refund.updated') => event(type, { refund: { id: 'P_R', status, order_id: orderId, amount_money: { amount: 100, currency: 'AUD' } } }, o);
    expect(translate('refund.created', refund('PENDING', 'O1', 'refund.created'), {})).toEqual([]);
    expect(translate('refund.updated', refund('COMPLETED', null), {})).toEqual([]);
    const fromRefund = translate('refund.updated', refund('COMPLETED'), {});
    expect(fromRefund).toEqual(translate('order.updated', event('order.updated', thin('COMPLETED'), o), {}));
    expect(fromRefund).toHaveLength(1);
  });

  it('payment.updated: a COMPLETED payment whose order was fetched gives that order’s facts; pending, order-less or not fetched: nothing', () => {
    const o = order('COMPLETED');
    const payment = (status: string, orderId: string | null = 'O1', withOrder = true) => ({ ...event('payment.updated', { payment: { id: 'P', status, order_id: orderId } }), ...(withOrder ? { [EXPANDED_ORDER_KEY]: o } : {}) });
    expect(translate('payment.updated', payment('COMPLETED'), {})).toEqual(translate('order.updated', event('order.updated', thin('COMPLETED'), o), {}));
    expect(translate('payment.updated', payment('APPROVED'), {})).toEqual([]);
    expect(translate('payment.updated', payment('COMPLETED', null), {})).toEqual([]);
    expect(translate('payment.updated', payment('COMPLETED', 'O1', false), {})).toEqual([]);
    expect(() => translate('payment.updated', { ...payment('COMPLETED'), [EXPANDED_ORDER_KEY]: { ...o, id: 'OTHER' } }, {})).toThrow(TranslateError);
  });

  it('inventory.count.updated: IN_STOCK counts only, decimals rounded down as the POS does, negative counts kept', () => {
    const counts = [
      { catalog_object_id: 'V1', catalog_object_type: 'ITEM_VARIATION', location_id: 'L', quantity: '2.5', state: 'IN_STOCK', calculated_at: '2026-01-01T00:00:00Z' },
      { catalog_object_id: 'V1', location_id: 'L', quantity: '3', state: 'WASTE' },
      { catalog_object_id: 'V2', location_id: 'L', quantity: '-1', state: 'IN_STOCK' },
    ];
    expect(translate('inventory.count.updated', event('inventory.count.updated', { inventory_counts: counts }), {})).toEqual([
      { type: 'level_observed', sku: null, ref: { variantId: 'V1' }, locationId: 'L', available: 2, occurredAt: '2026-01-01T00:00:00.000Z' },
      { type: 'level_observed', sku: null, ref: { variantId: 'V2' }, locationId: 'L', available: -1, occurredAt: '2026-03-01T10:00:05.000Z' },
    ]);
  });

  it('with locationIds, facts at other locations are dropped (an event there that was not fetched gives nothing)', () => {
    const only = createTranslate({ locationIds: ['LOC'] });
    const counts = [
      { catalog_object_id: 'V1', location_id: 'LOC', quantity: '1', state: 'IN_STOCK' },
      { catalog_object_id: 'V1', location_id: 'ELSEWHERE', quantity: '2', state: 'IN_STOCK' },
    ];
    expect(only('inventory.count.updated', event('inventory.count.updated', { inventory_counts: counts }), {}).map((f) => f.type === 'level_observed' && f.locationId)).toEqual(['LOC']);
    expect(only('order.updated', event('order.updated', thin('COMPLETED'), order('COMPLETED')), {})).toHaveLength(1);
    expect(only('order.updated', event('order.updated', thin('COMPLETED'), { ...order('COMPLETED'), location_id: 'ELSEWHERE' }), {})).toEqual([]);
    expect(only('order.updated', event('order.updated', { order_updated: { order_id: 'O1', location_id: 'ELSEWHERE' } }), {})).toEqual([]);
  });

  it('unreadable bodies throw TranslateError; unknown topics give nothing', () => {
    const bad: [string, unknown][] = [
      ['order.updated', 'nope'],
      ['order.updated', { data: {} }],
      ['order.updated', event('order.updated', { order_updated: {} })],
      ['order.updated', event('order.updated', thin('COMPLETED'), { ...order('COMPLETED'), id: 'OTHER' })],
      ['order.updated', event('order.updated', thin('COMPLETED'), order('COMPLETED', { line_items: 'x' }))],
      ['order.updated', event('order.updated', thin('COMPLETED'), order('COMPLETED', { line_items: [line('A', 'two')] }))],
      ['order.updated', event('order.updated', thin('COMPLETED'), order('COMPLETED', { line_items: [line('A', '1.5')] }))],
      ['order.updated', event('order.updated', thin('COMPLETED'), order('COMPLETED', { created_at: undefined, updated_at: undefined }))],
      ['refund.updated', event('refund.updated', { refund: { status: 'COMPLETED', order_id: 'O1' } })],
      ['inventory.count.updated', event('inventory.count.updated', { inventory_counts: {} })],
      ['inventory.count.updated', event('inventory.count.updated', { inventory_counts: [{ state: 'IN_STOCK', quantity: '1' }] })],
      ['inventory.count.updated', event('inventory.count.updated', { inventory_counts: [{ state: 'IN_STOCK', catalog_object_id: 'V', location_id: 'L', quantity: 'lots' }] })],
    ];
    for (const [topic, body] of bad) expect(() => translate(topic, body, {})).toThrow(TranslateError);
    expect(translate('catalog.version.updated', { data: {} }, {})).toEqual([]);
    expect(translate('payment.updated', { data: { object: { payment: {} } } }, {})).toEqual([]);
  });

  it('never crashes: any JSON body gives facts or a TranslateError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SQUARE_TOPICS), fc.jsonValue(), fc.jsonValue(), (topic, object, order) => {
        for (const body of [object, event(topic, { x: object }), { ...event(topic, object as Json), [EXPANDED_ORDER_KEY]: order }]) {
          try {
            expect(Array.isArray(translate(topic, body, {}))).toBe(true);
          } catch (err) {
            expect(err).toBeInstanceOf(TranslateError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('expand', () => {
  it('fetches the order of a thin order event with BatchRetrieveOrders and attaches it in Square’s wire shape (JSON-safe)', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-001', quantity: 2, locationId: LOC1 });
    await settle();
    const { topic, body, facts } = await factsOf(0);
    expect(topic).toBe('order.created');
    expect(bodies('/v2/orders/batch-retrieve')).toEqual([{ order_ids: [orderId], location_id: LOC1 }]);
    expect(body[EXPANDED_ORDER_KEY]).toEqual(emu.order(orderId));
    expect(JSON.parse(JSON.stringify(body))).toEqual(body);
    expect(facts).toEqual([
      {
        type: 'sale',
        orderId,
        occurredAt: expect.any(String),
        lines: [{ lineId: expect.any(String), sku: null, ref: { variantId: emu.listing('ART-001')!.variantId }, quantity: 2, locationId: LOC1 }],
        order: expect.objectContaining({ currency: 'AUD', total: 5000, paymentStatus: 'paid' }),
      },
    ]);
  });

  it('leaves other topics, pending refunds and orders Square does not have unchanged (translate then says it could not read the order)', async () => {
    const c = connector();
    const payment = { type: 'payment.updated', data: { object: { payment: { id: 'P' } } } };
    expect(await c.expand!('payment.updated', payment)).toBe(payment);
    const pending = { type: 'refund.created', data: { object: { refund: { id: 'R', status: 'PENDING', order_id: 'O' } } } };
    expect(await c.expand!('refund.created', pending)).toBe(pending);
    const approved = { type: 'payment.updated', data: { object: { payment: { id: 'P', status: 'APPROVED', order_id: 'O' } } } };
    expect(await c.expand!('payment.updated', approved)).toBe(approved);
    const completed = { ...approved, data: { object: { payment: { id: 'P', status: 'COMPLETED', order_id: 'O' } } } };
    expect(await connector({ salesFromPayments: false }).expand!('payment.updated', completed)).toBe(completed);
    expect(emu.requests).toEqual([]);
    const missing = { type: 'order.updated', event_id: 'e', created_at: '2026-01-01T00:00:00Z', data: { id: 'NOPE', object: { order_updated: { order_id: 'NOPE', state: 'COMPLETED' } } } };
    const out = await c.expand!('order.updated', missing);
    expect(out).toEqual(missing);
    expect(() => c.translate('order.updated', out, {})).toThrow(/not fetched/);
  });
  it('does not fetch an order at a location outside locationIds', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-001', quantity: 1, locationId: LOC2 });
    await settle();
    const c = connector({ locationIds: [LOC1] });
    const r = sink.received[0]!;
    const body = JSON.parse(r.raw.toString('utf8')) as Json;
    expect(await c.expand!('order.created', body)).toBe(body);
    expect(c.translate('order.created', body, {})).toEqual([]);
    expect(bodies('/v2/orders/batch-retrieve')).toEqual([]);
    expect(body.data.id).toBe(orderId);
  });
});

describe('emulator behaviour and webhooks', () => {
  it('a sale sends order.created (thin, OPEN), order.updated (thin, COMPLETED), payment.updated and inventory.count.updated, all signed so the connector verifies them', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-001', quantity: 2, locationId: LOC1 });
    await settle();
    expect(sink.topics()).toEqual(['order.created', 'order.updated', 'payment.updated', 'inventory.count.updated']);
    const envelopes = sink.received.map((r) => JSON.parse(r.raw.toString('utf8')) as Json);
    expect(envelopes[0]).toEqual({
      merchant_id: emu.merchantId,
      type: 'order.created',
      event_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      created_at: expect.any(String),
      data: { type: 'order_created', id: orderId, object: { order_created: { created_at: expect.any(String), location_id: LOC1, order_id: orderId, state: 'OPEN', version: 1 } } },
    });
    expect(envelopes[1]!.data.object.order_updated).toEqual({ created_at: expect.any(String), location_id: LOC1, order_id: orderId, state: 'COMPLETED', updated_at: expect.any(String), version: 2 });
    expect(envelopes[2]!.data.object.payment).toMatchObject({ status: 'COMPLETED', order_id: orderId, location_id: LOC1 });
    const results = await Promise.all(sink.received.map((_, i) => factsOf(i)));
    const stock = (i: number) => results[i]!.facts.filter((f) => f.type !== 'order_updated');
    expect(stock(1)).toEqual(results[0]!.facts);
    expect(results[0]!.facts).toHaveLength(1);
    expect(results[0]!.facts[0]).toMatchObject({ type: 'sale', orderId, lines: [{ quantity: 2, locationId: LOC1 }] });
    // The payment names the order: the same sale again, same keys (booked once).
    expect(stock(2)).toEqual(results[0]!.facts);
    // The two updates also tell the log the order changed (never stock), before the repeated sale.
    expect(results[1]!.facts.map((f) => f.type === 'order_updated' && f.change)).toEqual(['updated', false]);
    expect(results[2]!.facts.map((f) => f.type === 'order_updated' && f.change)).toEqual(['paid', false]);
    expect(results[3]!.facts).toEqual([expect.objectContaining({ type: 'level_observed', available: 3, locationId: LOC1, ref: { variantId: emu.listing('ART-001')!.variantId } })]);
    expect(emu.level('ART-001', LOC1)).toBe(3);
    const order = emu.order(orderId)!;
    expect(order).toMatchObject({ state: 'COMPLETED', location_id: LOC1, line_items: [{ quantity: '2', catalog_object_id: emu.listing('ART-001')!.variantId, item_type: 'ITEM' }] });
  });

  it('a refund with restock makes a return order and sends refund.created (PENDING), refund.updated (COMPLETED) and the raised level', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-001', quantity: 2 });
    await settle();
    sink.clear();
    const { refundId } = await emu.refund({ orderId, restock: true, quantity: 1 });
    await settle();
    expect(sink.topics()).toEqual(['refund.created', 'refund.updated', 'inventory.count.updated']);
    const created = await factsOf(0);
    const updated = await factsOf(1);
    expect(created.facts).toEqual([]);
    const returnOrderId = String(updated.body.data.object.refund.order_id);
    expect(updated.body.data.object.refund).toMatchObject({ id: refundId, status: 'COMPLETED' });
    expect(emu.order(returnOrderId)).toMatchObject({ state: 'COMPLETED', returns: [{ source_order_id: orderId }] });
    expect(updated.facts).toEqual([
      {
        type: 'refund',
        refundId: returnOrderId,
        orderId,
        occurredAt: expect.any(String),
        lines: [{ lineId: expect.any(String), sku: null, ref: { variantId: emu.listing('ART-001')!.variantId }, quantity: 1, locationId: LOC1, restock: true }],
        money: { currency: 'AUD', amount: 2500 },
      },
    ]);
    expect((await factsOf(2)).facts).toEqual([expect.objectContaining({ type: 'level_observed', available: 4 })]);
    expect(emu.level('ART-001', LOC1)).toBe(4);
  });

  it('a refund without restock is money only: refund events, no level, a refund fact with its money and no line to book', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-002', quantity: 1 });
    await settle();
    sink.clear();
    await emu.refund({ orderId, restock: false });
    await settle();
    expect(sink.topics()).toEqual(['refund.created', 'refund.updated']);
    const updated = await factsOf(1);
    expect(updated.facts).toEqual([{ type: 'refund', refundId: String(updated.body.data.object.refund.order_id), orderId, occurredAt: expect.any(String), lines: [], money: { currency: 'AUD', amount: 2500 } }]);
    expect(emu.level('ART-002', LOC1)).toBe(0);
    await expect(emu.refund({ orderId, restock: true })).rejects.toThrow(/no 0 unit/);
  });

  it('a count in the Dashboard (setLevel) sends only inventory.count.updated; a push is echoed the same way', async () => {
    await emu.setLevel({ sku: 'ART-002', locationId: LOC2, available: 8 });
    await settle();
    expect(sink.topics()).toEqual(['inventory.count.updated']);
    expect((await factsOf(0)).facts).toEqual([expect.objectContaining({ type: 'level_observed', available: 8, locationId: LOC2 })]);
    sink.clear();
    await connector().push([target('ART-001', 11, 5), target('ART-001', 4, 2, LOC2)]);
    await settle();
    expect(sink.topics()).toEqual(['inventory.count.updated']);
    expect((await factsOf(0)).facts.map((f) => f.type === 'level_observed' && [f.locationId, f.available])).toEqual([
      [LOC1, 11],
      [LOC2, 4],
    ]);
  });

  it('webhooks are signed over the subscribed URL: a hub configured with another URL refuses them', async () => {
    await emu.setLevel({ sku: 'ART-001', available: 1 });
    await settle();
    const r = sink.received[0]!;
    expect(r.headers['x-square-hmacsha256-signature']).toBe(signSquareWebhook(r.raw, KEY, hookUrl));
    expect(connector({ notificationUrl: hookUrl.replace('127.0.0.1', 'localhost') }).verify(r.raw, r.headers as Record<string, string>).valid).toBe(false);
  });

  it('faults: drop 1 sends nothing; duplicate 1 sends each event twice with the same event_id; reorderWindow 2 sends the pair reversed', async () => {
    emu.faults.webhooks = { drop: 1 };
    await emu.setLevel({ sku: 'ART-001', available: 1 });
    await settle();
    expect(sink.received).toHaveLength(0);
    expect(emu.deliveries.map((d) => d.status)).toEqual(['dropped']);

    emu.faults.webhooks = { duplicate: 1 };
    await emu.setLevel({ sku: 'ART-001', available: 2 });
    await settle();
    const ids = sink.received.map((r) => connector().verify(r.raw, r.headers as Record<string, string>)).map((v) => (v.valid ? v.eventId : null));
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(ids[1]);
    sink.clear();

    emu.faults.webhooks = { reorderWindow: 2 };
    await emu.setLevel({ sku: 'ART-001', available: 3 });
    await emu.setLevel({ sku: 'ART-002', available: 4 });
    await settle();
    expect((await factsOf(0)).facts[0]).toMatchObject({ available: 4 });
    expect((await factsOf(1)).facts[0]).toMatchObject({ available: 3 });
  });

  it('faults: delayMs holds webhooks back and latencyMs slows API answers', async () => {
    emu.faults.webhooks = { delayMs: 150 };
    emu.faults.api = { latencyMs: 100 };
    const t0 = Date.now();
    await emu.setLevel({ sku: 'ART-001', available: 4 });
    expect(sink.received).toHaveLength(0);
    await settle();
    expect(sink.received).toHaveLength(1);
    await connector().listCatalog();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
  });

  it('a failing receiver gets the delivery retried (Square retries; the emulator tries 3 times)', async () => {
    sink.status = 500;
    await emu.setLevel({ sku: 'ART-001', available: 4 });
    await settle();
    expect(sink.received).toHaveLength(3);
    expect(sink.received.map((r) => r.headers['square-retry-number'])).toEqual(['0', '1', '2']);
    expect(emu.deliveries.map((d) => d.status)).toEqual([500, 500, 500]);
  });

  it('records every request with method, path, parsed body and Square-Version, refused ones included; GET /v2/orders/{id} answers an order or 404', async () => {
    await connector({}, { accessToken: 'bad' }).listCatalog().catch(() => undefined);
    expect(emu.requests).toEqual([{ method: 'GET', path: '/v2/catalog/list', body: null, query: '?types=ITEM', squareVersion: '2025-08-20' }]);
    const { orderId } = await emu.sell({ sku: 'ART-002', quantity: 1 });
    expect((await raw('GET', `/v2/orders/${orderId}`)).body.order.id).toBe(orderId);
    const none = await raw('GET', '/v2/orders/NOPE');
    expect([none.status, none.body.errors[0].code]).toEqual([404, 'NOT_FOUND']);
    const unknown = await raw('GET', '/v2/not-square');
    expect(unknown.status).toBe(404);
    expect(emu.specViolations.map((v) => v.what)).toEqual(['GET /v2/not-square']);
    emu.specViolations.length = 0;
  });
});
