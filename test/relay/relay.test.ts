/**
 * Signed relays, the way the sheet add-on and the Airtable scripts send them: what is accepted and
 * booked, and every kind of bad input — each answered clearly, with nothing stored or booked.
 */
import { signRelay } from '../../server/relay/verify';
import { RELAY_SECRET, startHub, type StoreKind, type TestHub } from '../helpers/hub';
import { acceptingPlatform } from '../helpers/test-platform';
import { STORES } from '../helpers/stores';

const OTHER_SECRET = `whsec_${Buffer.from('a-different-secret-that-the-hub-does-not-know').toString('base64')}`;
const ROTATED_SECRET = `whsec_${Buffer.from('the-previous-relay-secret-still-accepted').toString('base64')}`;
const now = () => new Date().toISOString();
const adjust = (sku: string, quantity: number, extra: object = {}) => ({ kind: 'adjustment', sku, quantity, reason: 'restock', occurredAt: now(), ...extra });

/** The whole state that bad input must leave untouched. */
async function snapshot(t: TestHub) {
  await t.settle();
  return {
    inbox: await t.hub.store.inbox.count(),
    levels: await t.hub.store.ledger.recomputeLevels(),
    movements: (await t.hub.store.ledger.listMovements('ART-1', { limit: 1000 })).length,
  };
}

describe.each<StoreKind>(STORES)('relays on %s', (kind) => {
  let t: TestHub;

  beforeAll(async () => {
    t = await startHub(kind, {
      file: { locations: [{ id: 'gallery', name: 'Gallery' }, { id: 'warehouse', name: 'Warehouse' }], channels: [{ id: 'web', name: 'Web shop', platform: 'other', locations: { gallery: 'gid://shopify/Location/1' }, buffer: 1, cap: 5 }] },
      hub: { connectors: [acceptingPlatform('other', 'Web shop platform')] },
      env: { STOCKRELAY_RELAY_SECRET: `${RELAY_SECRET},${ROTATED_SECRET}` },
    });
    const r = await t.relay({ kind: 'catalog_changed', added: [{ sku: 'ART-1', title: 'Seven Sisters, acrylic on linen' }, { sku: 'ART-2' }, { sku: 'GONE-1' }], removed: [], occurredAt: now() });
    expect(r.status).toBe(202);
    expect((await t.relay(adjust('ART-1', 4))).status).toBe(202);
    await t.settle();
  });
  afterAll(() => t?.close());

  test('an adjustment is stored, answered 202, then booked once with its source and reason', async () => {
    const r = await t.relay(adjust('ART-2', 3, { origin: 'sidebar', actor: 'mia@gallery.example', note: 'found in the back room' }));
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({ status: 'received', eventId: expect.any(Number) });
    await t.settle();
    const ev = await t.api('GET', `/v1/events/${r.body.eventId}`);
    expect(ev.body).toMatchObject({ status: 'processed', source: 'relay', kind: 'adjustment' });
    const mv = await t.api('GET', '/v1/items/ART-2/movements');
    expect(mv.body.movements).toHaveLength(1);
    expect(mv.body.movements[0]).toMatchObject({ quantity: 3, reason: 'restock', source: 'sidebar', actor: 'mia@gallery.example', locationId: 'gallery', note: 'found in the back room' });
  });

  test('the item view shows on-hand per location and the published level per channel (buffer 1, cap 5)', async () => {
    await t.relay(adjust('ART-2', 10, { location: 'gallery' }));
    await t.relay(adjust('ART-2', 2, { location: 'warehouse' }));
    await t.settle();
    const item = (await t.api('GET', '/v1/items/ART-2')).body;
    const gallery = item.locations.find((l: any) => l.locationId === 'gallery');
    expect(gallery).toMatchObject({ onHand: 13, available: 13, channels: [{ channelId: 'web', published: 5 }] });
    expect(item.locations.find((l: any) => l.locationId === 'warehouse')).toMatchObject({ onHand: 2, channels: [] });
    expect(item.onHand).toBe(15);
  });

  test('a single-cell edit of on-hand is booked as the difference, with the count recorded', async () => {
    const r = await t.relay({ kind: 'cell_edit', sku: 'ART-1', field: 'on_hand', location: 'gallery', oldValue: 4, newValue: '7', actor: 'sam', editedAt: now(), sheet: 'Catalog', row: 3 });
    expect(r.status).toBe(202);
    await t.settle();
    const [m] = (await t.api('GET', '/v1/items/ART-1/movements?limit=1')).body.movements;
    expect(m).toMatchObject({ reason: 'count', quantity: 3, countedQuantity: 7, source: 'sheet', actor: 'sam' });
    expect((await t.hub.store.ledger.getLevel('ART-1', 'gallery'))?.onHand).toBe(7);
  });

  test('a cell edit whose old value no longer matches the hub becomes a conflict and overwrites nothing', async () => {
    const before = await t.hub.store.ledger.getLevel('ART-1', 'gallery');
    const r = await t.relay({ kind: 'cell_edit', sku: 'ART-1', field: 'on_hand', location: 'gallery', oldValue: 2, newValue: 9, editedAt: now() });
    await t.settle();
    const ev = (await t.api('GET', `/v1/events/${r.body.eventId}`)).body;
    expect(ev.status).toBe('conflict');
    expect(ev.results[0].message).toMatch(/showed 2 .* hub has 7 on hand/);
    expect(await t.hub.store.ledger.getLevel('ART-1', 'gallery')).toEqual(before);
  });

  test('a paste (edit batch) books each edit; an unknown SKU in it is kept as unmatched and booked after the SKU is added', async () => {
    const r = await t.relay({
      kind: 'edit_batch',
      editedAt: now(),
      edits: [
        { sku: 'ART-2', field: 'on_hand', location: 'warehouse', oldValue: 2, newValue: 5 },
        { sku: 'NEW-9', field: 'on_hand', location: 'warehouse', oldValue: null, newValue: 1 },
        { sku: 'ART-2', field: 'low_stock_threshold', oldValue: null, newValue: '3' },
      ],
    });
    expect(r.status).toBe(202);
    await t.settle();
    let ev = (await t.api('GET', `/v1/events/${r.body.eventId}`)).body;
    expect(ev.status).toBe('unmatched');
    expect(ev.results.map((x: any) => x.result)).toEqual(['booked', 'unmatched', 'updated']);
    expect(ev.results[1].message).toMatch(/NEW-9.*not in the catalog/);
    expect((await t.api('GET', '/v1/events?status=unmatched')).body.events.map((e: any) => e.id)).toContain(r.body.eventId);
    expect((await t.hub.store.ledger.getLevel('ART-2', 'warehouse'))?.onHand).toBe(5);
    expect((await t.hub.store.items.get('ART-2'))?.lowStockThreshold).toBe(3);

    // Add the SKU, retry the event: the missing edit is booked, the others are not booked again.
    expect((await t.api('PUT', '/v1/items/NEW-9', { title: 'New print' })).status).toBe(200);
    expect((await t.api('POST', `/v1/events/${r.body.eventId}/retry`)).status).toBe(202);
    await t.settle();
    ev = (await t.api('GET', `/v1/events/${r.body.eventId}`)).body;
    expect(ev.status).toBe('processed');
    // The threshold set the first time is already so: nothing is written again.
    expect(ev.results.map((x: any) => x.result)).toEqual(['duplicate', 'booked', 'unchanged']);
    expect((await t.hub.store.ledger.getLevel('ART-2', 'warehouse'))?.onHand).toBe(5);
    expect((await t.hub.store.ledger.getLevel('NEW-9', 'warehouse'))?.onHand).toBe(1);
  });

  test('a stock count books the delta from on-hand at that moment', async () => {
    const before = (await t.hub.store.ledger.getLevel('ART-2', 'gallery'))!.onHand;
    await t.relay({ kind: 'count', sku: 'ART-2', location: 'gallery', counted: 4, occurredAt: now() });
    await t.settle();
    const [m] = (await t.api('GET', '/v1/items/ART-2/movements?limit=1')).body.movements;
    expect(m).toMatchObject({ reason: 'count', quantity: 4 - before, countedQuantity: 4 });
  });

  test('a relay signed with the previous secret is still accepted while it is being rotated', async () => {
    const r = await t.relay(adjust('ART-1', 1), { secret: ROTATED_SECRET });
    expect(r.status).toBe(202);
  });

  describe('bad input: a clear answer, nothing stored, nothing booked', () => {
    const cases: [string, () => Promise<{ status: number; body: any }>, number, string][] = [
      ['an unsigned relay', () => t.relay(adjust('ART-1', 1), { headers: { 'webhook-signature': '' } }), 401, 'missing_signature'],
      ['a relay signed with a secret the hub does not know', () => t.relay(adjust('ART-1', 1), { secret: OTHER_SECRET }), 401, 'bad_signature'],
      [
        'a relay whose body was changed after signing',
        async () => {
          const good = JSON.stringify(adjust('ART-1', 1));
          const headers = signRelay(RELAY_SECRET, 'msg_tampered', good);
          const res = await fetch(`${t.url}/v1/relay`, { method: 'POST', body: good.replace('"quantity":1', '"quantity":100'), headers: { 'content-type': 'application/json', ...headers } });
          return { status: res.status, body: await res.json() };
        },
        401,
        'bad_signature',
      ],
      ['a relay signed 10 minutes ago (expired)', () => t.relay(adjust('ART-1', 1), { at: new Date(Date.now() - 10 * 60_000) }), 401, 'stale_timestamp'],
      ['a relay dated 10 minutes in the future', () => t.relay(adjust('ART-1', 1), { at: new Date(Date.now() + 10 * 60_000) }), 401, 'stale_timestamp'],
      ['malformed JSON, correctly signed', () => t.relay(null, { raw: '{"kind":"adjustment","sku":' }), 400, 'malformed_json'],
      ['a body over 1 MiB', () => t.relay(null, { raw: JSON.stringify({ ...adjust('ART-1', 1), note: 'x'.repeat(1024 * 1024 + 10) }) }), 413, 'body_too_large'],
      ['a fractional quantity (1.5)', () => t.relay(adjust('ART-1', 1.5)), 400, 'invalid_relay'],
      ['a quantity sent as text ("five")', () => t.relay(adjust('ART-1', 'five' as unknown as number)), 400, 'invalid_relay'],
      ['a zero adjustment', () => t.relay(adjust('ART-1', 0)), 400, 'invalid_relay'],
      ['a negative stock count', () => t.relay({ kind: 'count', sku: 'ART-1', counted: -2, occurredAt: now() }), 400, 'invalid_relay'],
      ['text typed into an on-hand cell', () => t.relay({ kind: 'cell_edit', sku: 'ART-1', field: 'on_hand', oldValue: 7, newValue: 'twelve', editedAt: now() }), 400, 'invalid_quantity'],
      ['a fraction typed into an on-hand cell', () => t.relay({ kind: 'cell_edit', sku: 'ART-1', field: 'on_hand', oldValue: 7, newValue: '2.5', editedAt: now() }), 400, 'invalid_quantity'],
      ['a negative number typed into an on-hand cell', () => t.relay({ kind: 'cell_edit', sku: 'ART-1', field: 'on_hand', oldValue: 7, newValue: -3, editedAt: now() }), 400, 'invalid_quantity'],
      [
        'one bad cell in a paste (the whole paste is refused)',
        () => t.relay({ kind: 'edit_batch', editedAt: now(), edits: [{ sku: 'ART-1', field: 'on_hand', oldValue: 7, newValue: 8 }, { sku: 'ART-2', field: 'on_hand', oldValue: 1, newValue: 'lots' }] }),
        400,
        'invalid_quantity',
      ],
      ['an unknown relay kind', () => t.relay({ kind: 'teleport', sku: 'ART-1', occurredAt: now() }), 400, 'invalid_relay'],
      ['a relay that is not JSON', () => t.relay(null, { raw: 'sku=ART-1&quantity=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type'],
    ];

    test.each(cases)('%s', async (_what, send, status, code) => {
      const before = await snapshot(t);
      const r = await send();
      expect(r.status).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(r.body.error.message.length).toBeGreaterThan(20);
      expect(JSON.stringify(r.body)).not.toContain(RELAY_SECRET);
      expect(await snapshot(t)).toEqual(before);
    });

    test('a replayed relay (same webhook-id) is refused with 409 and booked once', async () => {
      const body = adjust('ART-1', 2);
      const first = await t.relay(body, { id: 'msg_replay_1' });
      expect(first.status).toBe(202);
      await t.settle();
      const before = await snapshot(t);
      const again = await t.relay(body, { id: 'msg_replay_1' });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('relay_replayed');
      expect(await snapshot(t)).toEqual(before);
      expect(await t.hub.store.ledger.movementByKey('relay:msg_replay_1')).toMatchObject({ quantity: 2 });
    });

    test('two identical relays racing: one is accepted, the other refused, one movement', async () => {
      const body = adjust('ART-1', 1);
      const results = await Promise.all(Array.from({ length: 8 }, () => t.relay(body, { id: 'msg_race_1' })));
      expect(results.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409, 409, 409, 409]);
      await t.settle();
      const moves = (await t.api('GET', '/v1/items/ART-1/movements?limit=500')).body.movements.filter((m: any) => m.idempotencyKey === 'relay:msg_race_1');
      expect(moves).toHaveLength(1);
    });

    test('a relay for an unknown SKU is kept as unmatched, not dropped, and books nothing', async () => {
      const before = await t.hub.store.ledger.recomputeLevels();
      const r = await t.relay(adjust('NOPE-404', 5));
      expect(r.status).toBe(202);
      await t.settle();
      const ev = (await t.api('GET', `/v1/events/${r.body.eventId}`)).body;
      expect(ev).toMatchObject({ status: 'unmatched', body: { sku: 'NOPE-404', quantity: 5 } });
      expect(ev.results[0].message).toMatch(/not in the catalog/);
      expect(await t.hub.store.ledger.recomputeLevels()).toEqual(before);
      expect((await t.api('GET', '/readyz')).status).toBe(200);
    });

    test('a relay for an unknown location is kept as unmatched and books nothing', async () => {
      const before = await t.hub.store.ledger.recomputeLevels();
      const r = await t.relay(adjust('ART-1', 5, { location: 'attic' }));
      await t.settle();
      const ev = (await t.api('GET', `/v1/events/${r.body.eventId}`)).body;
      expect(ev.status).toBe('unmatched');
      expect(ev.results[0].message).toMatch(/Location "attic"/);
      expect(await t.hub.store.ledger.recomputeLevels()).toEqual(before);
    });

    test('a relay for an item removed from the catalog is rejected with the reason and books nothing', async () => {
      await t.relay(adjust('GONE-1', 3));
      await t.relay({ kind: 'catalog_changed', added: [], removed: ['GONE-1'], occurredAt: now() });
      await t.settle();
      expect((await t.hub.store.items.get('GONE-1'))?.status).toBe('archived');
      const before = await t.hub.store.ledger.recomputeLevels();
      const r = await t.relay(adjust('GONE-1', 1));
      await t.settle();
      const ev = (await t.api('GET', `/v1/events/${r.body.eventId}`)).body;
      expect(ev.status).toBe('rejected');
      expect(ev.results[0].message).toMatch(/GONE-1.*removed from the catalog/);
      expect(await t.hub.store.ledger.recomputeLevels()).toEqual(before);
      // Its history is kept.
      expect((await t.api('GET', '/v1/items/GONE-1/movements')).body.movements).toHaveLength(1);
    });
  });
});
