/**
 * The hub's own HTTP API: admin token, paging, writes through the inbox with Idempotency-Key,
 * health, metrics and the OpenAPI document. Every response checked here is also checked against
 * the document by an independent validator (test/helpers/spec.ts), and the app validates its own
 * responses in tests (validateResponses).
 */
import type { AddressInfo } from 'node:net';
import { createApp } from '../../server/api/app';
import { createHub } from '../../server/hub';
import { createLogger } from '../../server/log';
import { Metrics } from '../../server/metrics';
import { RelayVerifier, signRelay } from '../../server/relay/verify';
import { assertMatchesSpec } from '../helpers/spec';
import { ADMIN_TOKEN, RELAY_SECRET, startHub, type StoreKind, type TestHub } from '../helpers/hub';
import { acceptingPlatform } from '../helpers/test-platform';
import { STORES } from '../helpers/stores';

/** A point of sale that takes every push: the API's views of a channel, without a platform behind it. */
const POS = acceptingPlatform('test-pos', 'Test POS');

describe.each<StoreKind>(STORES)('hub API on %s', (kind) => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startHub(kind, { file: { locations: [{ id: 'gallery', name: 'Gallery' }], channels: [{ id: 'pos', name: 'Counter — gallery POS', platform: 'test-pos', locations: { gallery: 'L1' } }] }, hub: { connectors: [POS] } });
  });
  afterAll(() => t?.close());

  const call = async (method: string, path: string, template: string, body?: unknown, headers?: Record<string, string>) => {
    const r = await t.api(method, path, body, headers);
    assertMatchesSpec(method, template, r.status, r.body);
    return r;
  };

  test('admin calls without the token, or with a wrong one, are refused with 401 and a readable message', async () => {
    const none = await fetch(`${t.url}/v1/items`);
    expect(none.status).toBe(401);
    const body = (await none.json()) as any;
    assertMatchesSpec('GET', '/v1/items', 401, body);
    expect(body.error).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/admin token/) });
    const wrong = await t.api('GET', '/v1/items', undefined, { authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(wrong.body)).not.toContain(ADMIN_TOKEN);
  });

  test('an item is added, adjusted and counted through the API, and its movements page newest first', async () => {
    const put = await call('PUT', '/v1/items/DVD-42', '/v1/items/{sku}', { title: 'Walkabout (1971), DVD', lowStockThreshold: 2 });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ status: 'processed' });
    for (let i = 0; i < 5; i++) {
      const a = await call('POST', '/v1/items/DVD-42/adjustments', '/v1/items/{sku}/adjustments', { quantity: 3, reason: 'receipt', note: `box ${i}`, actor: 'api-test' });
      expect(a.status).toBe(200);
      expect(a.body.results[0]).toMatchObject({ result: 'booked', quantity: 3 });
    }
    const c = await call('POST', '/v1/items/DVD-42/counts', '/v1/items/{sku}/counts', { counted: 12, location: 'gallery' });
    expect(c.body.results[0]).toMatchObject({ result: 'booked', quantity: -3 });

    const item = await call('GET', '/v1/items/DVD-42', '/v1/items/{sku}');
    expect(item.body).toMatchObject({ sku: 'DVD-42', title: 'Walkabout (1971), DVD', onHand: 12, available: 12, lowStockThreshold: 2 });
    expect(item.body.locations[0].channels).toEqual([{ channelId: 'pos', channelName: 'Counter — gallery POS', platform: 'test-pos', channelLocationId: 'L1', published: 12 }]);

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: any } = await call('GET', `/v1/items/DVD-42/movements?limit=4${cursor ? `&cursor=${cursor}` : ''}`, '/v1/items/{sku}/movements');
      seen.push(...page.body.movements.map((m: any) => m.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(6);
    expect([...seen].sort((a, b) => b - a)).toEqual(seen);
    expect(new Set(seen).size).toBe(6);
  });

  test('the same Idempotency-Key books once and answers with the first outcome; reused for another request it is refused', async () => {
    await t.api('PUT', '/v1/items/KEY-1', { title: 'Idempotent' });
    const headers = { 'idempotency-key': 'order-7781-line-1' };
    const first = await call('POST', '/v1/items/KEY-1/adjustments', '/v1/items/{sku}/adjustments', { quantity: -1, reason: 'sale' }, headers);
    const again = await call('POST', '/v1/items/KEY-1/adjustments', '/v1/items/{sku}/adjustments', { quantity: -1, reason: 'sale' }, headers);
    expect(again.body.eventId).toBe(first.body.eventId);
    expect((await t.hub.store.ledger.getLevel('KEY-1', 'gallery'))?.onHand).toBe(-1);
    const other = await call('POST', '/v1/items/KEY-1/adjustments', '/v1/items/{sku}/adjustments', { quantity: -5, reason: 'sale' }, headers);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect((await t.hub.store.ledger.getLevel('KEY-1', 'gallery'))?.onHand).toBe(-1);
  });

  test('selling below zero raises an oversold alert, visible through the API, resolved by a restock', async () => {
    await t.api('PUT', '/v1/items/ONE-OF-A-KIND', { title: 'Bark painting' });
    await t.api('POST', '/v1/items/ONE-OF-A-KIND/adjustments', { quantity: 1, reason: 'receipt' });
    await t.api('POST', '/v1/items/ONE-OF-A-KIND/adjustments', { quantity: -2, reason: 'sale' });
    const open = await call('GET', '/v1/alerts?status=open', '/v1/alerts');
    const alert = open.body.alerts.find((a: any) => a.sku === 'ONE-OF-A-KIND');
    expect(alert).toMatchObject({ kind: 'oversold', severity: 'critical', locationId: 'gallery', message: expect.stringMatching(/oversold/) });
    await t.api('POST', '/v1/items/ONE-OF-A-KIND/adjustments', { quantity: 3, reason: 'restock' });
    const after = await call('GET', '/v1/alerts?status=open', '/v1/alerts');
    expect(after.body.alerts.find((a: any) => a.sku === 'ONE-OF-A-KIND')).toBeUndefined();
  });

  test('bad API input is refused with a stable code and changes nothing', async () => {
    await t.api('PUT', '/v1/items/SAFE-1', { title: 'Safe' });
    const before = await t.hub.store.ledger.recomputeLevels();
    const cases: [string, unknown, number, string][] = [
      ['/v1/items/SAFE-1/adjustments', { quantity: 'ten', reason: 'restock' }, 400, 'invalid_request'],
      ['/v1/items/SAFE-1/adjustments', { quantity: 2.5, reason: 'restock' }, 400, 'invalid_request'],
      ['/v1/items/SAFE-1/adjustments', { quantity: 2, reason: 'because' }, 400, 'invalid_request'],
      ['/v1/items/SAFE-1/adjustments', { quantity: 2, reason: 'restock', surprise: true }, 400, 'invalid_request'],
      ['/v1/items/SAFE-1/counts', { counted: -1 }, 400, 'invalid_request'],
    ];
    for (const [path, body, status, code] of cases) {
      const r = await t.api('POST', path, body);
      expect([path, r.status, r.body.error?.code]).toEqual([path, status, code]);
      expect(r.body.error.message).toMatch(/not valid/);
    }
    const malformed = await fetch(`${t.url}/v1/items/SAFE-1/adjustments`, { method: 'POST', body: '{"quantity": 1,', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' } });
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as any).error.code).toBe('malformed_json');
    const big = await fetch(`${t.url}/v1/items/SAFE-1/adjustments`, { method: 'POST', body: JSON.stringify({ quantity: 1, reason: 'restock', note: 'x'.repeat(1100 * 1024) }), headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' } });
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).error.code).toBe('body_too_large');
    const unknown = await call('GET', '/v1/items/NO-SUCH-SKU', '/v1/items/{sku}');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('unknown_sku');
    const nowhere = await t.api('GET', '/v1/nowhere');
    expect(nowhere.status).toBe(404);
    expect(await t.hub.store.ledger.recomputeLevels()).toEqual(before);
  });

  test('items page by SKU with a cursor, without gaps or repeats', async () => {
    for (const sku of ['P-1', 'P-2', 'P-3', 'P-4', 'P-5']) await t.api('PUT', `/v1/items/${sku}`, { title: sku });
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: any } = await call('GET', `/v1/items?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, '/v1/items');
      all.push(...page.body.items.map((i: any) => i.sku));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(all).toEqual([...all].sort());
    expect(new Set(all).size).toBe(all.length);
    expect(all).toEqual(expect.arrayContaining(['P-1', 'P-2', 'P-3', 'P-4', 'P-5', 'DVD-42']));
  });

  test('events can be listed by status and a processed event cannot be retried', async () => {
    const list = await call('GET', '/v1/events?status=processed&limit=3', '/v1/events');
    expect(list.body.events.length).toBe(3);
    const retry = await call('POST', `/v1/events/${list.body.events[0].id}/retry`, '/v1/events/{id}/retry');
    expect(retry.status).toBe(409);
    expect(retry.body.error.code).toBe('not_retryable');
    const missing = await call('GET', '/v1/events/999999', '/v1/events/{id}');
    expect(missing.status).toBe(404);
  });

  test('health, readiness, metrics and the OpenAPI document are served', async () => {
    expect((await call('GET', '/healthz', '/healthz')).body).toEqual({ status: 'ok', mode: 'live' });
    expect((await call('GET', '/readyz', '/readyz')).body).toEqual({ status: 'ready' });
    const metrics = await fetch(`${t.url}/metrics`);
    const text = await metrics.text();
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    expect(text).toMatch(/stockrelay_inbox_processed_total\{status="processed"\} \d+/);
    expect(text).toMatch(/stockrelay_movements_booked_total\{reason="receipt"\} \d+/);
    expect(text).toMatch(/stockrelay_inbox_entries\{status="processed"\} \d+/);
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/relay', '/v1/items', '/v1/items/{sku}/movements', '/v1/alerts', '/v1/dead-letters', '/metrics']));
    const dead = await call('GET', '/v1/dead-letters', '/v1/dead-letters');
    expect(dead.body).toEqual({ deadLetters: [], nextCursor: null });
  });

  test('outside sandbox mode the sandbox routes do not exist: 404 as any unknown address, and the document served does not list them', async () => {
    for (const [method, path] of [['GET', '/v1/sandbox'], ['GET', '/v1/sandbox/levels/DVD-42'], ['POST', '/v1/sandbox/channels/pos/sales'], ['POST', '/v1/sandbox/channels/pos/refunds']] as const) {
      const res = await t.api(method, path, method === 'POST' ? { sku: 'DVD-42', quantity: 1, restock: true } : undefined);
      expect({ path, status: res.status, code: res.body.error.code, message: res.body.error.message }).toEqual({
        path,
        status: 404,
        code: 'not_found',
        message: 'There is nothing at this address. The API is described at /openapi.json.',
      });
    }
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as any;
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/v1/sandbox'))).toEqual([]);
  });
});

test('while the hub is shutting down, /readyz answers 503 and relays and writes are refused with a retry hint', async () => {
  const t = await startHub('sqlite');
  await t.api('PUT', '/v1/items/S-1', { title: 'x' });
  let shuttingDown = false;
  const app = createApp({
    store: t.hub.store,
    config: t.config,
    log: createLogger('silent'),
    metrics: new Metrics(),
    processor: t.hub.processor,
    verifier: new RelayVerifier(t.config.relaySecrets),
    isShuttingDown: () => shuttingDown,
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    shuttingDown = true;
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    assertMatchesSpec('GET', '/readyz', 503, await ready.json());
    const body = JSON.stringify({ kind: 'adjustment', sku: 'S-1', quantity: 1, reason: 'restock', occurredAt: new Date().toISOString() });
    const relay = await fetch(`${base}/v1/relay`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...signRelay(RELAY_SECRET, 'msg_during_shutdown', body) } });
    expect(relay.status).toBe(503);
    expect(((await relay.json()) as any).error).toMatchObject({ code: 'shutting_down', message: expect.stringMatching(/again/) });
    expect(await t.hub.store.inbox.byKey('relay:msg_during_shutdown')).toBeNull();
  } finally {
    server.close();
    await t.close();
  }
});

test('stopping the hub loses nothing it accepted: a relay answered 202 is booked, before or after a restart', async () => {
  const t = await startHub('sqlite');
  await t.api('PUT', '/v1/items/S-2', { title: 'x' });
  const accepted = await Promise.all(
    Array.from({ length: 20 }, (_, i) => t.relay({ kind: 'adjustment', sku: 'S-2', quantity: 1, reason: 'restock', occurredAt: new Date().toISOString() }, { id: `msg_stop_${i}` })),
  );
  expect(accepted.every((r) => r.status === 202)).toBe(true);
  await t.hub.stop(2000);
  await expect(fetch(`${t.url}/healthz`)).rejects.toThrow();
  // A new hub on the same data books whatever was still waiting, and nothing twice.
  const again = await createHub({ config: t.config, log: createLogger('silent') });
  await again.processor.drain();
  expect((await again.store.ledger.getLevel('S-2', 'main'))?.onHand).toBe(20);
  expect(await again.store.ledger.recomputeLevels()).toEqual([{ sku: 'S-2', locationId: 'main', onHand: 20, reserved: 0, updatedAt: '' }]);
  await again.stop();
});
