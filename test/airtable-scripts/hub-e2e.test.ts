/**
 * The bundled scripts against a real hub on 127.0.0.1 (SQLite), with the real fetch and timers:
 * the hub accepts what they sign, they accept what the hub signs back, and what they send is booked.
 */
import { RELAY_SECRET, startHub, type TestHub } from '../helpers/hub';
import { buildBundles, catalog, FakeBase, FakeTable, runBundle } from './fakes';

let bundles: Record<string, string> = {};
let t: TestHub;
beforeAll(async () => {
  [bundles, t] = await Promise.all([buildBundles(), startHub('sqlite')]);
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const REC = 'recE2E0000000001';

test('a new record, a count, a button adjustment pressed twice and a sync request: each signed both ways and booked once', async () => {
  const hub = { hubUrl: t.url, relaySecret: RELAY_SECRET, actor: 'mia@gallery.example' };
  const base = catalog({ [REC]: { SKU: 'ART-E2E', Title: 'Water dreaming', 'On hand': 7, 'Low stock at': 1, 'Hub on hand': null } });

  const added = await runBundle(bundles['relay-record-change']!, { config: { ...hub, recordId: REC }, base, real: true });
  expect(added.error).toBeNull();
  expect(added.outputs).toMatchObject({ status: 'sent', eventId: expect.any(Number) });
  await t.settle();
  expect((await t.api('GET', '/v1/items/ART-E2E')).body).toMatchObject({ sku: 'ART-E2E', title: 'Water dreaming', onHand: 7, lowStockThreshold: 1 });

  // what the hub's write-back does, then a staff count on top of it
  Object.assign(base.getTable('Catalog').records.get(REC)!, { 'Hub on hand': 7, 'On hand': 9 });
  const counted = await runBundle(bundles['relay-record-change']!, { config: { ...hub, recordId: REC }, base, real: true });
  expect(counted.outputs).toMatchObject({ status: 'sent' });
  await t.settle();
  expect((await t.api('GET', '/v1/items/ART-E2E')).body.onHand).toBe(9);

  const adjustments = new FakeBase([new FakeTable('Adjustments', ['SKU', 'Quantity', 'Reason', 'Status'], { recADJE2E0000001: { SKU: 'ART-E2E', Quantity: -2, Reason: { name: 'sale' } } })]);
  const press = () => runBundle(bundles['make-adjustment']!, { config: { ...hub, recordId: 'recADJE2E0000001' }, base: adjustments, real: true });
  expect((await press()).outputs).toMatchObject({ status: 'sent' });
  expect((await press()).outputs).toMatchObject({ status: 'already sent' }); // the hub's signed 409 relay_replayed
  await t.settle();
  expect((await t.api('GET', '/v1/items/ART-E2E')).body.onHand).toBe(7);
  expect(adjustments.getTable('Adjustments').records.get('recADJE2E0000001')!.Status).toMatch(/^Sent to hub \(event \d+\)$/);

  const sync = await runBundle(bundles['request-sync']!, { config: { ...hub, skus: 'ART-E2E' }, real: true });
  expect(sync.error).toBeNull();
  expect(sync.outputs).toMatchObject({ status: 'sent' });
}, 60_000);

test('configured with a base’s own relay credential: its relays are booked and its answers checked; once revoked, the run fails saying so and nothing is booked', async () => {
  const made = await t.api('POST', '/v1/credentials', { name: 'Airtable: Gallery base', scopes: ['relay'] });
  expect(made.status).toBe(201);
  const hub = { hubUrl: t.url, relaySecret: made.body.relaySecret as string, actor: 'mia@gallery.example' };
  const REC2 = 'recE2E0000000002';
  const base = catalog({ [REC2]: { SKU: 'ART-E2E-2', Title: 'Seven sisters', 'On hand': 4, 'Low stock at': null, 'Hub on hand': null } });
  const added = await runBundle(bundles['relay-record-change']!, { config: { ...hub, recordId: REC2 }, base, real: true });
  expect(added.error).toBeNull();
  expect(added.outputs).toMatchObject({ status: 'sent' });
  await t.settle();
  expect((await t.api('GET', '/v1/items/ART-E2E-2')).body).toMatchObject({ onHand: 4 });

  expect((await t.api('DELETE', `/v1/credentials/${made.body.credential.id}`)).status).toBe(200);
  Object.assign(base.getTable('Catalog').records.get(REC2)!, { 'Hub on hand': 4, 'On hand': 6 });
  const refused = await runBundle(bundles['relay-record-change']!, { config: { ...hub, recordId: REC2 }, base, real: true });
  expect(refused.outputs).toMatchObject({ status: 'failed', message: expect.stringMatching(/The hub refused this relay’s signature: .*if it was revoked or rotated, ask the supplier for a new one/) });
  expect(JSON.stringify(refused.outputs)).not.toContain(hub.relaySecret.slice(6));
  await t.settle();
  expect((await t.api('GET', '/v1/items/ART-E2E-2')).body.onHand).toBe(4);
}, 60_000);
