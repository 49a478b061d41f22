/**
 * One bound on every quantity (issue #15 item 4, docs/ledger.md "The bound on a quantity"), through
 * the hub's HTTP doors on SQLite and PostgreSQL: the sequence outside testing sent (on hand =
 * 2^53−1, then +2, then a count back to 0), the bound and the bound + 1 at every door with nothing
 * kept on refusal, a Shopify sale and level beyond the bound, a level stored out of range before
 * the bound existed (every report still answers; a count brings it back exactly), and a property
 * test that on-hand equals the sum of movements for sequences near the bound.
 */
import fc from 'fast-check';
import { sql, type Kysely } from 'kysely';
import { MovementError } from '../../server/core/ledger';
import { MAX_QUANTITY } from '../../server/shared/quantity';
import { ShopifyEmulator } from '../../server/connectors/shopify/emulator';
import type { Database } from '../../server/store/schema';
import { startHub, type StoreKind, type TestHub } from '../helpers/hub';
import { STORES } from '../helpers/stores';
import { WebhookSink, type Received } from '../connectors/helpers/webhook-sink';

const MAX = MAX_QUANTITY;
const BIG = 2 ** 53 - 1; // Number.MAX_SAFE_INTEGER, what outside testing typed
const LOC = 'gid://shopify/Location/7001';
const TOKEN = 'shpat_quantity_bounds_token_0001';
const SECRET = 'quantity-bounds-webhook-secret';
const SHOP = 'bounds.myshopify.com';
const now = () => new Date().toISOString();

describe.each<StoreKind>(STORES)('the bound on a quantity, on %s', (kind) => {
  let t: TestHub;
  let emu: ShopifyEmulator;
  let caught: WebhookSink;

  beforeAll(async () => {
    emu = new ShopifyEmulator({ accessToken: TOKEN, webhookSecret: SECRET, shopDomain: SHOP, locations: [LOC] });
    const base = await emu.start();
    caught = new WebhookSink();
    emu.subscribe(await caught.start());
    t = await startHub(kind, {
      file: {
        locations: [{ id: 'gallery', name: 'Gallery' }],
        channels: [
          {
            id: 'shop',
            name: 'Shopify',
            platform: 'shopify',
            baseUrl: base,
            locations: { gallery: LOC },
            settings: { shopDomain: SHOP },
            credentials: { accessToken: 'BOUNDS_SHOPIFY_TOKEN', webhookSecret: 'BOUNDS_SHOPIFY_SECRET' },
          },
        ],
      },
      env: { BOUNDS_SHOPIFY_TOKEN: TOKEN, BOUNDS_SHOPIFY_SECRET: SECRET },
    });
  });
  afterAll(async () => {
    await t?.close();
    await caught?.stop();
    await emu?.stop();
  });

  // --- helpers ------------------------------------------------------------------------------------
  const db = () => (t.hub.store as unknown as { db: Kysely<Database> }).db;

  /** On hand as the store keeps it and the sum of movements, both as exact decimal text. */
  async function exact(sku: string, location = 'gallery'): Promise<{ level: string; sum: string }> {
    const level = await sql<{ v: string }>`select cast(on_hand as text) as v from stock_levels where sku = ${sku} and location_id = ${location}`.execute(db());
    const sum = await sql<{ v: string }>`select cast(coalesce(sum(case when reason in ('reservation', 'release') then 0 else quantity end), 0) as text) as v from movements where sku = ${sku} and location_id = ${location}`.execute(db());
    return { level: level.rows[0]?.v ?? '0', sum: sum.rows[0]!.v };
  }

  /** Everything a refusal must leave as it was. */
  async function snapshot() {
    await t.settle();
    const movements = await sql<{ n: string | number }>`select count(*) as n from movements`.execute(db());
    const pos = await sql<{ n: string | number }>`select count(*) as n from purchase_orders`.execute(db());
    const sos = await sql<{ n: string | number }>`select count(*) as n from supplier_orders`.execute(db());
    return {
      inbox: await t.hub.store.inbox.count(),
      levels: await t.hub.store.ledger.recomputeLevels(),
      stored: await t.hub.store.ledger.levelsFor((await t.hub.store.items.list({ limit: 500 })).map((i) => i.sku)),
      items: await t.hub.store.items.list({ limit: 500 }),
      movements: Number(movements.rows[0]!.n),
      purchaseOrders: Number(pos.rows[0]!.n),
      supplierOrders: Number(sos.rows[0]!.n),
    };
  }

  async function addItem(sku: string): Promise<void> {
    const r = await t.relay({ kind: 'catalog_changed', added: [{ sku, title: sku }], removed: [], occurredAt: now() });
    expect(r.status).toBe(202);
    await t.settle();
  }

  const onHand = async (sku: string) => (await t.hub.store.ledger.getLevel(sku, 'gallery'))?.onHand ?? 0;
  const event = async (id: number) => (await t.api('GET', `/v1/events/${id}`)).body;
  const cell = (sku: string, newValue: unknown, oldValue: unknown = null, field = 'on_hand') => ({ kind: 'cell_edit', sku, field, location: 'gallery', oldValue, newValue, editedAt: now(), sheet: 'Catalog', row: 2 });

  /** Every report and listing that reads stored numbers answers 200. */
  async function reportsAnswer(): Promise<Record<string, unknown>> {
    const day = now().slice(0, 10);
    const out: Record<string, unknown> = {};
    for (const p of ['/v1/reorder', '/v1/items?limit=500', `/v1/reports/sales?from=${day}&to=${day}`, '/v1/reports/dashboard', `/v1/audit?from=${day}&to=${day}`, `/v1/audit?from=${day}&to=${day}&format=csv`, `/v1/orders/export?from=${day}&to=${day}&format=json`]) {
      const r = await t.api('GET', p);
      expect([p, r.status]).toEqual([p, 200]);
      out[p] = r.body;
    }
    expect((await t.api('POST', '/v1/reorder/check')).status).toBe(200);
    return out;
  }

  // --- the sequence outside testing sent ----------------------------------------------------------
  test('on hand = 2^53−1 typed in a cell is refused with nothing kept; +2 then books, the level equals the sum of movements, /v1/reorder answers, a count back to 0 is booked', async () => {
    await addItem('OUT-1');
    const before = await snapshot();
    for (const typed of [BIG, String(BIG)]) {
      const r = await t.relay(cell('OUT-1', typed));
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'quantity_out_of_range', message: expect.stringMatching(/9007199254740991 is more than 1,000,000,000/) });
    }
    expect(await snapshot()).toEqual(before);

    const plus = await t.relay({ kind: 'adjustment', sku: 'OUT-1', location: 'gallery', quantity: 2, reason: 'restock', occurredAt: now() });
    expect(plus.status).toBe(202);
    await t.settle();
    expect(await onHand('OUT-1')).toBe(2);
    expect(await exact('OUT-1')).toEqual({ level: '2', sum: '2' });
    const levels = await t.hub.store.ledger.recomputeLevels();
    expect(levels.find((l) => l.sku === 'OUT-1')).toMatchObject({ onHand: 2, reserved: 0 });

    const reorder = await t.api('GET', '/v1/reorder');
    expect(reorder.status).toBe(200);
    expect(reorder.body.items.find((i: { sku: string }) => i.sku === 'OUT-1')).toMatchObject({ available: 2 });

    const zero = await t.relay(cell('OUT-1', '0', 2));
    expect(zero.status).toBe(202);
    await t.settle();
    expect((await event(zero.body.eventId)).status).toBe('processed');
    expect(await exact('OUT-1')).toEqual({ level: '0', sum: '0' });
  });

  // --- a level stored before the bound existed ----------------------------------------------------
  test('a level stored out of range (2^53+1, as the old hub kept it): every report answers, a movement is refused, a count back to 0 books exactly −(2^53+1)', async () => {
    await addItem('LEGACY-1');
    const at = now();
    // What the hub before the bound stored for: cell edit 2^53−1, then +2 (written as SQL literals, exactly).
    await sql`insert into movements (idempotency_key, sku, location_id, quantity, reason, source, counted_quantity, occurred_at, recorded_at)
              values ('legacy:count', 'LEGACY-1', 'gallery', ${sql.raw(String(BIG))}, 'count', 'sheet', ${sql.raw(String(BIG))}, ${at}, ${at}),
                     ('legacy:plus', 'LEGACY-1', 'gallery', 2, 'restock', 'sidebar', null, ${at}, ${at})`.execute(db());
    await sql`insert into stock_levels (sku, location_id, on_hand, reserved, last_movement_id, updated_at) values ('LEGACY-1', 'gallery', ${sql.raw('9007199254740993')}, 0, 0, ${at})`.execute(db());
    expect(await exact('LEGACY-1')).toEqual({ level: '9007199254740993', sum: '9007199254740993' });

    const reports = await reportsAnswer();
    const row = (reports['/v1/reorder'] as { items: { sku: string; problem?: string }[] }).items.find((i) => i.sku === 'LEGACY-1');
    expect(row?.problem).toMatch(/^No suggestion for LEGACY-1: On-hand now must be a whole number of units; it is 9007199254740992\. If its stock is wrong, count it/);
    expect((await t.api('GET', '/v1/items/LEGACY-1')).status).toBe(200);
    expect((await t.api('GET', '/v1/items/LEGACY-1/movements')).status).toBe(200);

    // Any movement leaves it out of range: refused with the reason, nothing booked.
    const plus = await t.relay({ kind: 'adjustment', sku: 'LEGACY-1', location: 'gallery', quantity: 1, reason: 'restock', occurredAt: now() });
    expect(plus.status).toBe(202);
    await t.settle();
    const refused = await event(plus.body.eventId);
    expect(refused.status).toBe('rejected');
    expect(refused.results[0].message).toMatch(/LEGACY-1 at gallery: this would take on hand from .* beyond the 1,000,000,000 units .* nothing was booked/);
    expect(await exact('LEGACY-1')).toEqual({ level: '9007199254740993', sum: '9007199254740993' });

    // A count back to 0 from the sheet, showing what the hub wrote back (its old value is beyond the bound, so unknown).
    const zero = await t.relay(cell('LEGACY-1', 0, 9007199254740992));
    expect(zero.status).toBe(202);
    await t.settle();
    expect((await event(zero.body.eventId)).status).toBe('processed');
    expect(await exact('LEGACY-1')).toEqual({ level: '0', sum: '0' });
    const counted = await sql<{ q: string }>`select cast(quantity as text) as q from movements where sku = 'LEGACY-1' and reason = 'count' and counted_quantity = 0`.execute(db());
    expect(counted.rows.map((r) => r.q)).toEqual(['-9007199254740993']);

    // The report still answers; the old movement itself stays in the sales window for a while, and says so.
    const after = await t.api('GET', '/v1/reorder');
    expect(after.status).toBe(200);
    expect(after.body.items.find((i: { sku: string }) => i.sku === 'LEGACY-1').problem).toMatch(/movement \d must be a whole number of units; .* once it is older than the 28-day sales window/);
    // And from 0 it books like any other item.
    await t.api('POST', '/v1/items/LEGACY-1/counts', { location: 'gallery', counted: 5 });
    expect(await exact('LEGACY-1')).toEqual({ level: '5', sum: '5' });
  });

  test('a reserved count stored out of range does not stop a count of on hand', async () => {
    await addItem('LEGACY-2');
    const at = now();
    await sql`insert into movements (idempotency_key, sku, location_id, quantity, reason, source, counted_quantity, occurred_at, recorded_at)
              values ('legacy:reserve', 'LEGACY-2', 'gallery', ${sql.raw('3000000000')}, 'reservation', 'api', null, ${at}, ${at})`.execute(db());
    await sql`insert into stock_levels (sku, location_id, on_hand, reserved, last_movement_id, updated_at) values ('LEGACY-2', 'gallery', 0, ${sql.raw('3000000000')}, 0, ${at})`.execute(db());
    await reportsAnswer();
    const r = await t.api('POST', '/v1/items/LEGACY-2/counts', { location: 'gallery', counted: 7 });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('processed');
    expect(await t.hub.store.ledger.getLevel('LEGACY-2', 'gallery')).toMatchObject({ onHand: 7, reserved: 3_000_000_000 });
  });

  // --- the bound at each door ---------------------------------------------------------------------
  test('typed cells: text, fractions, negatives, exponents, NaN and Infinity are each refused with a reason, nothing stored', async () => {
    await addItem('TYPED-1');
    await t.api('POST', '/v1/items/TYPED-1/counts', { location: 'gallery', counted: 4 });
    const before = await snapshot();
    const cases: [unknown, RegExp][] = [
      ['twelve', /"twelve" is not a whole number/],
      ['12.5', /"12.5" is not a whole number/],
      [12.5, /"12.5" is not a whole number/],
      ['1e3', /"1e3" is not a whole number/],
      ['1E3', /"1E3" is not a whole number/],
      ['1,000', /"1,000" is not a whole number/],
      ['0x10', /"0x10" is not a whole number/],
      ['NaN', /"NaN" is not a whole number/],
      ['Infinity', /"Infinity" is not a whole number/],
      ['-3', /cannot be negative \(got -3\)/],
      [-3, /cannot be negative/],
      ['', /"" is not a whole number/],
      [null, /"null" is not a whole number/],
      ['99999999999999999999', /is more than 1,000,000,000/],
    ];
    for (const [typed, message] of cases) {
      const r = await t.relay(cell('TYPED-1', typed, 4));
      expect([typed, r.status]).toEqual([typed, 400]);
      expect(r.body.error.message).toMatch(message);
      expect(r.body.error.message).toMatch(/SKU TYPED-1, on_hand/);
    }
    // 1e400 is read by JSON as Infinity; sent raw, it is refused too.
    const inf = await t.relay(undefined, { raw: JSON.stringify(cell('TYPED-1', 0, 4)).replace('"newValue":0', '"newValue":1e400') });
    expect(inf.status).toBe(400);
    // The low-stock threshold cell takes the same rules.
    for (const typed of ['1e3', '2.5', '-1', String(MAX + 1)]) expect((await t.relay(cell('TYPED-1', typed, null, 'low_stock_threshold'))).status).toBe(400);
    // In a paste, one bad cell refuses the whole batch.
    const batch = await t.relay({ kind: 'edit_batch', edits: [{ sku: 'TYPED-1', field: 'on_hand', location: 'gallery', oldValue: 4, newValue: 5 }, { sku: 'TYPED-1', field: 'on_hand', location: 'gallery', oldValue: 5, newValue: '1e3' }], editedAt: now() });
    expect(batch.status).toBe(400);
    expect(batch.body.error.message).toMatch(/Edit 2 \(SKU TYPED-1, on_hand\): "1e3" is not a whole number/);
    expect(await snapshot()).toEqual(before);
  });

  test('relays: the bound is accepted and the bound + 1 refused (count, cell edit, adjustment, threshold, catalog, purchase order), nothing kept', async () => {
    for (const sku of ['R-COUNT', 'R-CELL', 'R-ADJ', 'R-NEG', 'R-PO']) await addItem(sku);
    const before = await snapshot();
    const refusals: [string, unknown, string][] = [
      ['count', { kind: 'count', sku: 'R-COUNT', location: 'gallery', counted: MAX + 1, occurredAt: now() }, 'invalid_relay'],
      ['cell edit (number)', cell('R-CELL', MAX + 1), 'quantity_out_of_range'],
      ['cell edit (text)', cell('R-CELL', String(MAX + 1)), 'quantity_out_of_range'],
      ['adjustment up', { kind: 'adjustment', sku: 'R-ADJ', location: 'gallery', quantity: MAX + 1, reason: 'restock', occurredAt: now() }, 'invalid_relay'],
      ['adjustment down', { kind: 'adjustment', sku: 'R-ADJ', location: 'gallery', quantity: -(MAX + 1), reason: 'adjustment', occurredAt: now() }, 'invalid_relay'],
      ['adjustment fraction', { kind: 'adjustment', sku: 'R-ADJ', location: 'gallery', quantity: 2.5, reason: 'restock', occurredAt: now() }, 'invalid_relay'],
      ['threshold', cell('R-CELL', MAX + 1, null, 'low_stock_threshold'), 'quantity_out_of_range'],
      ['catalog threshold', { kind: 'catalog_changed', added: [{ sku: 'R-CELL', lowStockThreshold: MAX + 1 }], removed: [], occurredAt: now() }, 'invalid_relay'],
      ['purchase order', { kind: 'purchase_order', number: 'PO-R-1', customer: 'Gallery shop', lines: [{ sku: 'R-PO', quantity: MAX + 1, location: 'gallery' }], submittedAt: now() }, 'invalid_relay'],
    ];
    for (const [what, body, code] of refusals) {
      const r = await t.relay(body);
      expect([what, r.status, r.body.error?.code]).toEqual([what, 400, code]);
      if (code === 'invalid_relay') expect(r.body.error.message).toMatch(/^The \w+ relay is not valid: \/\S+ must be (<=|>=) -?1000000000|must be integer/);
    }
    expect(await snapshot()).toEqual(before);

    const accepted = [
      { kind: 'count', sku: 'R-COUNT', location: 'gallery', counted: MAX, occurredAt: now() },
      cell('R-CELL', String(MAX), 0),
      cell('R-CELL', MAX, null, 'low_stock_threshold'),
      { kind: 'adjustment', sku: 'R-ADJ', location: 'gallery', quantity: MAX, reason: 'restock', occurredAt: now() },
      { kind: 'adjustment', sku: 'R-NEG', location: 'gallery', quantity: -MAX, reason: 'adjustment', occurredAt: now() },
    ];
    for (const body of accepted) {
      const r = await t.relay(body);
      expect(r.status).toBe(202);
      await t.settle();
      expect((await event(r.body.eventId)).status).toBe('processed');
    }
    expect(await Promise.all(['R-COUNT', 'R-CELL', 'R-ADJ', 'R-NEG'].map(onHand))).toEqual([MAX, MAX, MAX, -MAX]);
    expect((await t.hub.store.items.get('R-CELL'))?.lowStockThreshold).toBe(MAX);

    // At the bound, one more unit either way is refused where the level is known: stored, rejected with the reason, nothing booked.
    const atBound = await snapshot();
    for (const [sku, quantity] of [['R-ADJ', 1], ['R-NEG', -1], ['R-COUNT', 1]] as const) {
      const r = await t.relay({ kind: 'adjustment', sku, location: 'gallery', quantity, reason: quantity > 0 ? 'restock' : 'adjustment', occurredAt: now() });
      expect(r.status).toBe(202);
      await t.settle();
      const e = await event(r.body.eventId);
      expect(e.status).toBe('rejected');
      expect(e.results[0].message).toMatch(new RegExp(`${sku} at gallery: this would take on hand from ${quantity > 0 ? '' : '-'}1000000000 to ${quantity > 0 ? '' : '-'}1000000001, beyond the 1,000,000,000 units`));
    }
    const after = await snapshot();
    expect({ levels: after.levels, stored: after.stored, movements: after.movements }).toEqual({ levels: atBound.levels, stored: atBound.stored, movements: atBound.movements });
    for (const sku of ['R-COUNT', 'R-CELL', 'R-ADJ', 'R-NEG']) {
      const e = await exact(sku);
      expect(e.level).toBe(e.sum);
    }
    // A movement booked before and delivered again is still a duplicate, not a refusal.
    const once = { sku: 'R-PO', locationId: 'gallery', quantity: MAX, reason: 'restock' as const, source: 'channel' as const, idempotencyKey: 'bound:redelivered', occurredAt: now() };
    const first = await t.hub.store.ledger.book(once, now());
    expect(first.duplicate).toBe(false);
    expect(await t.hub.store.ledger.book(once, now())).toMatchObject({ duplicate: true, movement: { id: first.movement.id } });
    expect(await exact('R-PO')).toEqual({ level: String(MAX), sum: String(MAX) });
    await reportsAnswer();
  });

  test('the admin API: counts, adjustments, item thresholds and reorder settings at the bound, and refused beyond it with nothing kept', async () => {
    for (const sku of ['A-COUNT', 'A-ADJ', 'A-ITEM']) await addItem(sku);
    const before = await snapshot();
    const refusals: [string, string, unknown][] = [
      ['POST', '/v1/items/A-COUNT/counts', { location: 'gallery', counted: MAX + 1 }],
      ['POST', '/v1/items/A-COUNT/counts', { location: 'gallery', counted: -1 }],
      ['POST', '/v1/items/A-COUNT/counts', { location: 'gallery', counted: 1.5 }],
      ['POST', '/v1/items/A-COUNT/counts', { location: 'gallery', counted: '12' }],
      ['POST', '/v1/items/A-COUNT/counts', { location: 'gallery', counted: '1e3' }],
      ['POST', '/v1/items/A-COUNT/counts', { location: 'gallery', counted: true }],
      ['POST', '/v1/items/A-ADJ/adjustments', { location: 'gallery', quantity: '5', reason: 'restock' }],
      ['POST', '/v1/items/A-ADJ/adjustments', { location: 'gallery', quantity: MAX + 1, reason: 'restock' }],
      ['POST', '/v1/items/A-ADJ/adjustments', { location: 'gallery', quantity: -(MAX + 1), reason: 'adjustment' }],
      ['PUT', '/v1/items/A-ITEM', { lowStockThreshold: MAX + 1 }],
      ['PUT', '/v1/items/A-ITEM/reorder', { safetyStock: MAX + 1 }],
    ];
    for (const [method, p, body] of refusals) {
      const r = await t.api(method, p, body);
      expect([p, body, r.status, r.body.error?.code]).toEqual([p, body, 400, 'invalid_request']);
      expect(r.body.error.message).toMatch(/body\.\w+ /);
    }
    expect(await snapshot()).toEqual(before);

    expect((await t.api('POST', '/v1/items/A-COUNT/counts', { location: 'gallery', counted: MAX })).body.status).toBe('processed');
    expect((await t.api('POST', '/v1/items/A-ADJ/adjustments', { location: 'gallery', quantity: MAX, reason: 'restock' })).body.status).toBe('processed');
    expect((await t.api('PUT', '/v1/items/A-ITEM', { lowStockThreshold: MAX })).status).toBe(200);
    expect((await t.api('PUT', '/v1/items/A-ITEM/reorder', { safetyStock: MAX })).body).toMatchObject({ safetyStock: MAX });
    expect(await Promise.all(['A-COUNT', 'A-ADJ'].map(onHand))).toEqual([MAX, MAX]);

    const r = await t.api('POST', '/v1/items/A-ADJ/adjustments', { location: 'gallery', quantity: 1, reason: 'restock' });
    expect(r.body.status).toBe('rejected');
    expect(r.body.results[0].message).toMatch(/A-ADJ at gallery: this would take on hand from 1000000000 to 1000000001/);
    expect(await exact('A-ADJ')).toEqual({ level: String(MAX), sum: String(MAX) });
    await reportsAnswer();
  });

  test('purchase orders and supplier orders: a line of the bound is taken, the bound + 1 refused, nothing kept', async () => {
    for (const sku of ['PO-ITEM', 'SO-ITEM']) await addItem(sku);
    await t.api('POST', '/v1/items/PO-ITEM/counts', { location: 'gallery', counted: MAX });
    await t.settle();
    const before = await snapshot();
    const refusals: [string, unknown][] = [
      ['/v1/purchase-orders', { number: 'PO-B-1', customer: 'Big buyer', lines: [{ sku: 'PO-ITEM', quantity: MAX + 1, location: 'gallery' }] }],
      ['/v1/purchase-orders', { number: 'PO-B-1', customer: 'Big buyer', lines: [{ sku: 'PO-ITEM', quantity: 2.5, location: 'gallery' }] }],
      ['/v1/supplier-orders', { number: 'SO-B-1', supplier: 'Maker', lines: [{ sku: 'SO-ITEM', quantity: MAX + 1, location: 'gallery' }] }],
    ];
    for (const [p, body] of refusals) {
      const r = await t.api('POST', p, body);
      expect([p, r.status, r.body.error?.code]).toEqual([p, 400, 'invalid_request']);
    }
    expect(await snapshot()).toEqual(before);

    const po = await t.api('POST', '/v1/purchase-orders', { number: 'PO-B-1', customer: 'Big buyer', lines: [{ sku: 'PO-ITEM', quantity: MAX, location: 'gallery' }] });
    expect(po.status).toBeLessThan(300);
    expect(po.body.purchaseOrder).toMatchObject({ status: 'approved' });
    expect(await t.hub.store.ledger.getLevel('PO-ITEM', 'gallery')).toMatchObject({ onHand: MAX, reserved: MAX });

    const so = await t.api('POST', '/v1/supplier-orders', { number: 'SO-B-1', supplier: 'Maker', lines: [{ sku: 'SO-ITEM', quantity: MAX, location: 'gallery' }] });
    expect(so.status).toBe(201);
    const beforeReceipt = await snapshot();
    const tooMany = await t.api('POST', '/v1/supplier-orders/SO-B-1/receipts', { receiptId: 'slip-1', lines: [{ line: 1, quantity: MAX + 1 }] });
    expect([tooMany.status, tooMany.body.error?.code]).toEqual([400, 'invalid_request']);
    expect(await snapshot()).toEqual(beforeReceipt);
    const receipt = await t.api('POST', '/v1/supplier-orders/SO-B-1/receipts', { receiptId: 'slip-1', lines: [{ line: 1, quantity: MAX }] });
    expect(receipt.status).toBeLessThan(300);
    expect(await exact('SO-ITEM')).toEqual({ level: String(MAX), sum: String(MAX) });
    // One more unit received would take on hand beyond the bound: not booked, and the order not marked received.
    const extra = await t.api('POST', '/v1/supplier-orders/SO-B-1/receipts', { receiptId: 'slip-2', lines: [{ line: 1, quantity: 1 }] });
    expect([extra.status, extra.body.error?.code]).toEqual([422, 'not_received']);
    expect(extra.body.error.message).toMatch(/Receipt slip-2 line 1: the units received in all on SO-B-1 is 1000000001, beyond the 1,000,000,000 units .* Nothing was received/);
    await t.settle();
    expect(await exact('SO-ITEM')).toEqual({ level: String(MAX), sum: String(MAX) });
    expect((await t.api('GET', '/v1/supplier-orders/SO-B-1')).body.lines[0]).toMatchObject({ received: MAX });
    await reportsAnswer();
  });

  // --- channel facts ------------------------------------------------------------------------------
  async function take(): Promise<Received[]> {
    await emu.flushWebhooks();
    return caught.received.splice(0);
  }

  async function deliver(list: Received[]): Promise<number[]> {
    const ids: number[] = [];
    for (const r of list) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.headers)) if (k.startsWith('x-') || k === 'content-type') headers[k] = String(v);
      const res = await fetch(`${t.url}/v1/webhooks/shop`, { method: 'POST', body: r.raw, headers });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { eventId?: number };
      if (body.eventId !== undefined) ids.push(body.eventId);
    }
    await t.settle();
    return ids;
  }

  const topic = (r: Received) => String(r.headers['x-shopify-topic']);

  async function listed(sku: string, stock: number): Promise<void> {
    emu.seed([{ sku, title: sku, levels: { [LOC]: 0 } }]);
    await t.api('PUT', `/v1/items/${sku}`, { title: sku });
    expect((await t.api('POST', '/v1/channels/shop/discover')).status).toBe(200);
    await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: stock });
    await t.settle();
    await deliver(await take());
    expect(emu.level(sku, LOC)).toBe(stock);
  }

  const channelMovements = async (sku: string) => (await t.hub.store.ledger.listMovements(sku, { limit: 100 })).filter((m) => m.channelId === 'shop');

  test('a Shopify sale of the bound + 1 units is refused with the reason: nothing booked, nothing in the transaction log', async () => {
    await listed('CH-SALE', 5);
    const before = await exact('CH-SALE');
    await emu.sell({ sku: 'CH-SALE', quantity: MAX + 1, locationId: LOC });
    const orders = (await take()).filter((r) => topic(r).startsWith('orders/'));
    expect(orders.length).toBeGreaterThan(0);
    const ids = await deliver(orders);
    for (const id of ids) {
      const e = await event(id);
      expect(e.status).toBe('rejected');
      expect(e.results[0].message).toMatch(/Shopify reported a sale line for CH-SALE of 1000000001, which is not a whole number of units within the 1,000,000,000 .* Nothing of this event was booked/);
    }
    expect(await channelMovements('CH-SALE')).toEqual([]);
    expect(await exact('CH-SALE')).toEqual(before);
    expect((await t.api('GET', '/v1/orders?sku=CH-SALE')).body.orders).toEqual([]);
  });

  test('a Shopify level beyond the bound is refused with the reason; a sale of the bound itself is booked', async () => {
    await listed('CH-LEVEL', 3);
    await emu.setLevel({ sku: 'CH-LEVEL', locationId: LOC, available: MAX + 1 });
    const ids = await deliver(await take());
    expect(ids.length).toBe(1);
    const e = await event(ids[0]!);
    expect(e.status).toBe('rejected');
    expect(e.results[0].message).toMatch(/Shopify reported a level for its item gid:\/\/shopify\/InventoryItem\/\d+ of 1000000001, which is not a whole number of units within the 1,000,000,000/);
    expect(await t.hub.store.channelLevels.get('shop', 'CH-LEVEL', 'gallery')).toMatchObject({ observed: 3 });
    expect(await channelMovements('CH-LEVEL')).toEqual([]);

    await listed('CH-MAX', MAX);
    await emu.sell({ sku: 'CH-MAX', quantity: MAX, locationId: LOC });
    await deliver(await take());
    expect((await channelMovements('CH-MAX')).map((m) => [m.reason, m.quantity])).toEqual([['sale', -MAX]]);
    expect(await exact('CH-MAX')).toEqual({ level: '0', sum: '0' });
    await reportsAnswer();
  });

  // --- property: on hand is the sum of movements, near the bound ----------------------------------
  test('property: for any sequence of movements and counts near the bound, exactly those that keep the level in range are booked, and on hand equals the sum of movements', async () => {
    const near = fc.oneof(fc.integer({ min: MAX - 3, max: MAX }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: MAX / 2 - 2, max: MAX / 2 + 2 }));
    const op = fc.oneof(
      fc.record({ kind: fc.constant('adjust' as const), q: near, up: fc.boolean() }),
      fc.record({ kind: fc.constant('count' as const), q: fc.oneof(fc.constant(0), fc.integer({ min: MAX - 2, max: MAX })) }),
      fc.record({ kind: fc.constant('reserve' as const), q: near, up: fc.boolean() }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 8 }), async (ops) => {
        const sku = `PROP-${kind}-${++run}`;
        const model = { onHand: 0, reserved: 0 };
        await t.hub.store.items.upsert({ sku }, now());
        for (const [i, o] of ops.entries()) {
          const base = { sku, locationId: 'gallery', source: 'api' as const, idempotencyKey: `${sku}:${i}`, occurredAt: now() };
          const next = { ...model };
          let book: () => Promise<unknown>;
          if (o.kind === 'count') {
            next.onHand = o.q;
            book = () => t.hub.store.ledger.bookCount({ ...base, counted: o.q }, now());
          } else if (o.kind === 'adjust') {
            const q = o.up ? o.q : -o.q;
            next.onHand += q;
            book = () => t.hub.store.ledger.book({ ...base, quantity: q, reason: 'adjustment' }, now());
          } else {
            const q = o.up ? o.q : -o.q;
            next.reserved += q;
            book = () => t.hub.store.ledger.book({ ...base, quantity: q, reason: o.up ? 'reservation' : 'release' }, now());
          }
          const fits = Math.abs(next.onHand) <= MAX && Math.abs(next.reserved) <= MAX;
          const outcome = await book().then(
            () => 'booked',
            (err: unknown) => {
              if (!(err instanceof MovementError)) throw err;
              return err.code;
            },
          );
          expect([o, outcome]).toEqual([o, fits ? 'booked' : 'level_out_of_range']);
          if (fits) Object.assign(model, next);
        }
        const e = await exact(sku);
        expect(e).toEqual({ level: String(model.onHand), sum: String(model.onHand) });
        const stored = await t.hub.store.ledger.getLevel(sku, 'gallery');
        expect({ onHand: stored?.onHand ?? 0, reserved: stored?.reserved ?? 0 }).toEqual(model);
        const rebuilt = (await t.hub.store.ledger.recomputeLevels()).find((l) => l.sku === sku);
        expect({ onHand: rebuilt?.onHand ?? 0, reserved: rebuilt?.reserved ?? 0 }).toEqual(model);
      }),
      { numRuns: 20 },
    );
  });
});
