/**
 * The channel framework, platform-independent: a channel webhook is verified by its connector,
 * stored under the platform's event id and booked once; level changes are pushed to every channel
 * that lists the item, at the published level; hide at zero and relist on restock; catalog discovery.
 * The platform here is a small in-test connector ("other") so that this suite checks the hub's part
 * only; each real platform has its own suite under test/connectors/.
 */
import crypto from 'node:crypto';
import type { ChannelFact, Connector, ConnectorDefinition, PlatformListing, PushOutcome, PushTarget } from '../../server/connectors/types';
import { matchCatalog } from '../../server/core/catalog-match';
import { startHub, type StoreKind, type TestHub } from '../helpers/hub';
import { STORES } from '../helpers/stores';

const CHANNEL_SECRET = 'channel-secret-for-tests-0123456789';

/** A platform double: HMAC-signed JSON webhooks whose body is the list of facts; levels kept in memory. */
class FakePlatform {
  levels = new Map<string, number>();
  hidden = new Set<string>();
  pushes: PushTarget[] = [];
  failNextPush = 0;
  listings: PlatformListing[] = [
    { sku: 'ART-1', title: 'Desert bloom', ref: { productId: 'p1', variantId: 'v1' } },
    { sku: 'ART-2', title: 'River map', ref: { productId: 'p2', variantId: 'v2' } },
    { sku: 'DUP', title: 'Copy one', ref: { productId: 'p3', variantId: 'v3' } },
    { sku: 'DUP', title: 'Copy two', ref: { productId: 'p4', variantId: 'v4' } },
    { sku: '', title: 'No SKU', ref: { productId: 'p5', variantId: 'v5' } },
  ];

  definition(): ConnectorDefinition {
    return definitionFor(this);
  }
}

function definitionFor(platform: FakePlatform): ConnectorDefinition {
  const connector: Connector = {
    capabilities: {
      platform: 'other',
      push: ['absolute_set'],
      locations: true,
      hideRelist: { supported: true, how: 'a flag' },
      webhooks: ['facts'],
      polled: [],
      rateLimit: { kind: 'unpublished', description: 'none' },
      maxBatch: 10,
    },
    verify(raw, headers) {
      const sig = headers['x-fake-signature'];
      const id = headers['x-fake-event-id'];
      if (typeof sig !== 'string' || typeof id !== 'string') return { valid: false, reason: 'The signature header is missing.' };
      const expected = crypto.createHmac('sha256', CHANNEL_SECRET).update(raw).digest('base64');
      if (sig.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(sig), Buffer.from(expected))) return { valid: false, reason: 'The signature does not match.' };
      return { valid: true, eventId: id, topic: 'facts', occurredAt: null };
    },
    translate(_topic, body) {
      return body as ChannelFact[];
    },
    async push(targets) {
      if (platform.failNextPush > 0) {
        platform.failNextPush--;
        const { ConnectorError } = jest.requireActual<typeof import('../../server/connectors/types')>('../../server/connectors/types');
        throw new ConnectorError('The platform is down (503).', true, 10, 503);
      }
      return targets.map((t): PushOutcome => {
        platform.pushes.push(t);
        platform.levels.set(`${t.sku}@${t.locationId}`, t.level);
        return { sku: t.sku, locationId: t.locationId, status: 'applied', level: t.level };
      });
    },
    async read() {
      return [];
    },
    async hide(ref) {
      platform.hidden.add(ref.variantId);
    },
    async relist(ref) {
      platform.hidden.delete(ref.variantId);
    },
    async listCatalog() {
      return platform.listings;
    },
  };
  return { platform: 'other', displayName: 'In-test platform', docsUrl: 'https://example.invalid/docs', secretHeaders: ['x-test-signature'], credentials: ['secret'], requiredSettings: [], capabilities: connector.capabilities, create: () => connector };
}

const sale = (orderId: string, sku: string, quantity: number, lineId = 'l1', locationId: string | null = 'GAL'): ChannelFact => ({
  type: 'sale',
  orderId,
  occurredAt: new Date().toISOString(),
  lines: [{ lineId, sku, ref: {}, quantity, locationId }],
});

describe.each<StoreKind>(STORES)('channels on %s', (kind) => {
  let t: TestHub;
  let platform: FakePlatform;

  const webhook = (body: unknown, opts: { id?: string; secret?: string; signature?: string | null } = {}) => {
    const raw = JSON.stringify(body);
    const sig = crypto.createHmac('sha256', opts.secret ?? CHANNEL_SECRET).update(raw).digest('base64');
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-fake-event-id': opts.id ?? crypto.randomUUID() };
    if (opts.signature !== null) headers['x-fake-signature'] = opts.signature ?? sig;
    return fetch(`${t.url}/v1/webhooks/gallery`, { method: 'POST', body: raw, headers }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
  };
  const onHand = async (sku: string, loc = 'gallery') => ((await t.api('GET', `/v1/items/${sku}`)).body.locations as any[]).find((l) => l.locationId === loc)?.onHand;

  beforeEach(async () => {
    platform = new FakePlatform();
    t = await startHub(kind, {
      file: {
        locations: [
          { id: 'gallery', name: 'Gallery' },
          { id: 'warehouse', name: 'Warehouse' },
        ],
        channels: [{ id: 'gallery', name: 'Gallery POS', platform: 'other', locations: { gallery: 'GAL' }, buffer: 1, cap: 5, hideAtZero: true, credentials: { secret: 'FAKE_CHANNEL_SECRET' } }],
      },
      env: { FAKE_CHANNEL_SECRET: CHANNEL_SECRET },
      hub: { connectors: [platform.definition()] },
    });
    for (const sku of ['ART-1', 'ART-2', 'DUP', 'ONLY-OURS']) await t.api('PUT', `/v1/items/${sku}`, { title: sku });
    await t.api('POST', '/v1/items/ART-1/counts', { location: 'gallery', counted: 10 });
    const report = await t.api('POST', '/v1/channels/gallery/discover');
    expect(report.status).toBe(200);
    await t.settle();
  });
  afterEach(() => t.close());

  test('discovery maps SKUs listed once and reports duplicated, unmatched and missing ones', async () => {
    const report = await t.api('POST', '/v1/channels/gallery/discover');
    expect(report.body.matched.map((m: any) => m.sku)).toEqual(['ART-1', 'ART-2']);
    expect(report.body.duplicated).toEqual([{ sku: 'DUP', listings: platform.listings.filter((l) => l.sku === 'DUP') }]);
    expect(report.body.unmatched.map((l: any) => l.title)).toEqual(['No SKU']);
    expect(report.body.missing).toEqual(['ONLY-OURS']);
    const listings = await t.api('GET', '/v1/channels/gallery/listings');
    expect(listings.body.listings.map((l: any) => [l.sku, l.variantId])).toEqual([
      ['ART-1', 'v1'],
      ['ART-2', 'v2'],
    ]);
  });

  test('the channel list shows policies and whether a connector is there, never credentials', async () => {
    const res = await t.api('GET', '/v1/channels');
    expect(res.body.channels).toEqual([
      { id: 'gallery', name: 'Gallery POS', platform: 'other', locations: { gallery: 'GAL' }, buffer: 1, cap: 5, hideAtZero: true, relistOnRestock: true, connected: true, suspendedUntil: null, health: { status: 'ok', failures: 0, suspendedUntil: null, lastError: null }, feeds: [] },
    ]);
    expect(JSON.stringify(res.body)).not.toContain(CHANNEL_SECRET);
  });

  test('a forged, unsigned or wrongly keyed webhook is refused with 401 and nothing is stored', async () => {
    for (const opts of [{ signature: null }, { signature: 'AAAA' }, { secret: 'another-secret' }]) {
      const res = await webhook([sale('o-1', 'ART-1', 1)], opts);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('invalid_signature');
    }
    expect((await t.api('GET', '/v1/events?limit=100')).body.events.filter((e: any) => e.source === 'channel')).toEqual([]);
    expect(await onHand('ART-1')).toBe(10);
  });

  test('a webhook for an unknown channel is 404 and stores nothing', async () => {
    const res = await fetch(`${t.url}/v1/webhooks/nope`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('unknown_channel');
  });

  test('a sale is booked once, whether the delivery repeats or the order comes again under a new event id', async () => {
    const first = await webhook([sale('o-1', 'ART-1', 2)], { id: 'evt-1' });
    expect(first).toEqual({ status: 200, body: { status: 'received', eventId: expect.any(Number) } });
    const again = await webhook([sale('o-1', 'ART-1', 2)], { id: 'evt-1' });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('duplicate');
    await webhook([sale('o-1', 'ART-1', 2)], { id: 'evt-2' });
    await t.settle();
    expect(await onHand('ART-1')).toBe(8);
    const moves = (await t.api('GET', '/v1/items/ART-1/movements')).body.movements.filter((m: any) => m.reason === 'sale');
    expect(moves).toHaveLength(1);
    expect(moves[0]).toMatchObject({ quantity: -2, source: 'channel', channelId: 'gallery', externalRef: 'o-1', locationId: 'gallery' });
  });

  test('a refund with restock puts stock back; without restock it books nothing but says so', async () => {
    await webhook([sale('o-2', 'ART-1', 3)]);
    const refund = (restock: boolean, refundId: string): ChannelFact => ({
      type: 'refund',
      refundId,
      orderId: 'o-2',
      occurredAt: new Date().toISOString(),
      lines: [{ lineId: 'l1', sku: 'ART-1', ref: {}, quantity: 1, locationId: 'GAL', restock }],
    });
    await webhook([refund(true, 'r-1')]);
    const noRestock = await webhook([refund(false, 'r-2')]);
    await t.settle();
    expect(await onHand('ART-1')).toBe(8);
    const ev = await t.api('GET', `/v1/events/${noRestock.body.eventId}`);
    expect(ev.body.status).toBe('processed');
    expect(ev.body.results[0]).toMatchObject({ result: 'unchanged', message: expect.stringContaining('without restock') });
  });

  test('a line for a SKU the hub does not know is held as unmatched, and nothing is booked', async () => {
    const res = await webhook([sale('o-3', 'NOT-OURS', 1)]);
    await t.settle();
    const ev = await t.api('GET', `/v1/events/${res.body.eventId}`);
    expect(ev.body.status).toBe('unmatched');
    expect(await onHand('ART-1')).toBe(10);
  });

  test('a sale found by the platform variant id (no SKU on the line) is booked to the mapped SKU', async () => {
    await webhook([{ type: 'sale', orderId: 'o-4', occurredAt: new Date().toISOString(), lines: [{ lineId: 'x', sku: null, ref: { variantId: 'v1' }, quantity: 1, locationId: 'GAL' }] }]);
    await t.settle();
    expect(await onHand('ART-1')).toBe(9);
  });

  test('a level the channel reports is recorded as observed, not booked', async () => {
    await webhook([{ type: 'level_observed', sku: 'ART-1', ref: { variantId: 'v1' }, locationId: 'GAL', available: 4, occurredAt: new Date().toISOString() }]);
    await t.settle();
    expect(await onHand('ART-1')).toBe(10);
    const levels = (await t.api('GET', '/v1/channels/gallery/listings')).body.levels;
    expect(levels.find((l: any) => l.sku === 'ART-1')).toMatchObject({ observed: 4, locationId: 'gallery' });
  });

  test('a level change is pushed to the channel at clamp(available − buffer, 0, cap), coalesced, and recorded', async () => {
    platform.pushes = [];
    await t.api('POST', '/v1/items/ART-1/adjustments', { location: 'gallery', quantity: -7, reason: 'adjustment' });
    await t.settle();
    // 10 − 7 = 3 available, buffer 1 → 2 (cap 5 does not bite).
    expect(platform.levels.get('ART-1@GAL')).toBe(2);
    const last = platform.pushes.at(-1)!;
    expect(last).toMatchObject({ sku: 'ART-1', locationId: 'GAL', level: 2, ref: { productId: 'p1', variantId: 'v1' } });
    const levels = (await t.api('GET', '/v1/channels/gallery/listings')).body.levels;
    expect(levels.find((l: any) => l.sku === 'ART-1')).toMatchObject({ pushed: 2 });
    // A warehouse change is not this channel's business: no push.
    const before = platform.pushes.length;
    await t.api('POST', '/v1/items/ART-1/adjustments', { location: 'warehouse', quantity: 5, reason: 'restock' });
    await t.settle();
    expect(platform.pushes.length).toBe(before);
  });

  test('at zero the listing is hidden; on restock it is shown again', async () => {
    await t.api('POST', '/v1/items/ART-1/counts', { location: 'gallery', counted: 1 });
    await t.settle();
    expect(platform.levels.get('ART-1@GAL')).toBe(0);
    expect(platform.hidden.has('v1')).toBe(true);
    await t.api('POST', '/v1/items/ART-1/adjustments', { location: 'gallery', quantity: 4, reason: 'restock' });
    await t.settle();
    expect(platform.levels.get('ART-1@GAL')).toBe(4);
    expect(platform.hidden.has('v1')).toBe(false);
  });

  test('a late supplier order decides what the listing does at zero: kept listed while late (keep_listed), hidden by the channel policy once back on track', async () => {
    const created = await t.api('POST', '/v1/supplier-orders', { number: 'SUP-9', supplier: 'Frame Co', expectedAt: '2026-12-20', onDelay: 'keep_listed', lines: [{ sku: 'ART-1', quantity: 5, location: 'gallery' }] });
    expect(created.status).toBe(201);
    const late = await t.api('POST', '/v1/supplier-orders/SUP-9/status', { status: 'delayed', expectedAt: '2027-01-10', reason: 'kiln broke' });
    expect(late.status).toBe(200);
    // Sold down to the channel's buffer: the channel shows 0, but buyers still see the listing.
    await t.api('POST', '/v1/items/ART-1/counts', { location: 'gallery', counted: 1 });
    await t.settle();
    expect(platform.levels.get('ART-1@GAL')).toBe(0);
    expect(platform.hidden.has('v1')).toBe(false);
    // The supplier is back on track: the hold is lifted and the channel's own policy (hide at zero) applies.
    await t.api('POST', '/v1/supplier-orders/SUP-9/status', { status: 'open' });
    await t.settle();
    expect(platform.hidden.has('v1')).toBe(true);
    // Goods arrive: booked as a receipt, and the listing is shown again with the new level.
    const received = await t.api('POST', '/v1/supplier-orders/SUP-9/receipts', { receiptId: 'slip-9', lines: [{ line: 1, quantity: 5 }] });
    expect(received.status).toBe(200);
    await t.settle();
    expect(platform.levels.get('ART-1@GAL')).toBe(5);
    expect(platform.hidden.has('v1')).toBe(false);
    expect((await t.api('GET', '/v1/supplier-orders/SUP-9')).body).toMatchObject({ status: 'received', lines: [{ received: 5 }] });
  });

  test('a push that fails is retried by the outbox and lands', async () => {
    platform.failNextPush = 1;
    await t.api('POST', '/v1/items/ART-1/adjustments', { location: 'gallery', quantity: -1, reason: 'adjustment' });
    for (let i = 0; i < 50 && platform.levels.get('ART-1@GAL') !== 5; i++) {
      await t.settle();
      await new Promise((r) => setTimeout(r, 50));
    }
    // 9 available − 1 buffer = 8, capped at 5.
    expect(platform.levels.get('ART-1@GAL')).toBe(5);
    expect(platform.failNextPush).toBe(0);
  });
});

test('matchCatalog: trims SKUs, never maps an empty or duplicated SKU', () => {
  const l = (sku: string | null, id: string): PlatformListing => ({ sku, title: id, ref: { productId: id, variantId: id } });
  const r = matchCatalog(['A', 'B', 'C'], [l(' A ', '1'), l('B', '2'), l('B', '3'), l(null, '4'), l('Z', '5')]);
  expect(r.matched).toEqual([{ sku: 'A', ref: { productId: '1', variantId: '1' }, title: '1' }]);
  expect(r.duplicated.map((d) => d.sku)).toEqual(['B']);
  expect(r.unmatched.map((u) => u.ref.productId)).toEqual(['4', '5']);
  expect(r.missing).toEqual(['C']);
});
