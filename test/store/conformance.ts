/**
 * The store conformance suite: one set of tests that every store must pass, run unchanged against
 * SQLite (store.sqlite.test.ts) and PostgreSQL (store.postgres.test.ts). It states the contract of
 * `server/store/types.ts`: idempotent booking, counts as deltas, append-only movements, a projection
 * equal to the movements, the inbox claim, the outbox lease and coalescing, alerts, channel maps.
 */
import fc from 'fast-check';
import type { MovementInput } from '../../server/domain/ledger';
import type { Store } from '../../server/store/types';

export interface OpenedStore {
  store: Store;
  /** Runs one raw SQL statement on a separate connection to the same database; returns rows changed. */
  raw(statement: string): Promise<number>;
  /** A second store on the same database (another hub process). */
  second(): Promise<Store>;
  cleanup(): Promise<void>;
}

const T0 = '2026-11-22T10:00:00.000Z';
const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

let keySeq = 0;
const move = (over: Partial<MovementInput> = {}): MovementInput => ({
  sku: 'SKU-1',
  locationId: 'main',
  quantity: 1,
  reason: 'restock',
  source: 'api',
  idempotencyKey: `k-${++keySeq}-${Math.random().toString(36).slice(2)}`,
  occurredAt: T0,
  ...over,
});

export function describeStoreConformance(name: string, open: () => Promise<OpenedStore>): void {
  describe(`store conformance: ${name}`, () => {
    let o: OpenedStore;
    let store: Store;

    beforeEach(async () => {
      o = await open();
      store = o.store;
      await store.ensureLocations(
        [
          { id: 'main', name: 'Main' },
          { id: 'back', name: 'Back room' },
        ],
        T0,
      );
      await store.upsertItem({ sku: 'SKU-1', title: 'One' }, T0);
      await store.upsertItem({ sku: 'SKU-2', title: 'Two' }, T0);
    });
    afterEach(async () => {
      await o.cleanup();
    });

    describe('platform tokens (docs/credentials-oauth.md)', () => {
      test('a write only over the version it read: the first, a stale one refused with nothing changed, a new authorisation over anything', async () => {
        expect(await store.getPlatformTokens('ch')).toBeNull();
        expect(await store.savePlatformTokens('ch', 'sealed-1', null, T0)).toBe(1);
        // A second first write (another process fetched too): refused, the first kept.
        expect(await store.savePlatformTokens('ch', 'sealed-other', null, at(1))).toBeNull();
        expect(await store.savePlatformTokens('ch', 'sealed-2', 1, at(2))).toBe(2);
        // Written over version 1 after version 2 exists: refused, version 2 kept.
        expect(await store.savePlatformTokens('ch', 'sealed-stale', 1, at(3))).toBeNull();
        expect(await store.getPlatformTokens('ch')).toEqual({ channelId: 'ch', sealed: 'sealed-2', version: 2, updatedAt: at(2), leaseOwner: null, leaseUntil: null });
        expect(await store.savePlatformTokens('ch', 'sealed-3', 'any', at(4))).toBe(3);
        expect(await store.savePlatformTokens('new', 'sealed-n', 'any', at(4))).toBe(1);
        expect(await store.getPlatformTokens('ch')).toMatchObject({ sealed: 'sealed-3', version: 3 });
      });

      test('one refresh lease at a time, at the version read; renewed by its owner, taken over when it runs out, ended by the write', async () => {
        await store.savePlatformTokens('ch', 'sealed-1', null, T0);
        const other = await o.second();
        try {
          expect(await store.claimTokenRefresh('ch', 1, 'hub-a', at(30_000), T0)).toBe(true);
          expect(await other.claimTokenRefresh('ch', 1, 'hub-b', at(31_000), at(1_000))).toBe(false);
          expect(await store.claimTokenRefresh('ch', 1, 'hub-a', at(40_000), at(2_000))).toBe(true);
          expect(await other.getPlatformTokens('ch')).toMatchObject({ leaseOwner: 'hub-a', leaseUntil: at(40_000), version: 1 });
          // Another process's release does not end hub-a's lease.
          await other.releaseTokenRefresh('ch', 'hub-b');
          expect(await store.getPlatformTokens('ch')).toMatchObject({ leaseOwner: 'hub-a' });
          // hub-a died: once its lease has run out, hub-b takes over.
          expect(await other.claimTokenRefresh('ch', 1, 'hub-b', at(80_000), at(40_000))).toBe(true);
          // A claim at a version that is no longer stored fails.
          expect(await store.claimTokenRefresh('ch', 0, 'hub-a', at(90_000), at(90_000))).toBe(false);
          expect(await other.savePlatformTokens('ch', 'sealed-2', 1, at(41_000))).toBe(2);
          expect(await store.getPlatformTokens('ch')).toMatchObject({ sealed: 'sealed-2', version: 2, leaseOwner: null, leaseUntil: null });
          expect(await store.claimTokenRefresh('ch', 2, 'hub-a', at(100_000), at(42_000))).toBe(true);
          await store.releaseTokenRefresh('ch', 'hub-a');
          expect(await store.getPlatformTokens('ch')).toMatchObject({ version: 2, leaseOwner: null, leaseUntil: null });
          expect(await store.claimTokenRefresh('missing', 1, 'hub-a', at(1), T0)).toBe(false);
        } finally {
          await other.close();
        }
      });
    });

    describe('setup', () => {
      test('migrating again changes nothing, ping answers, and the description holds no password', async () => {
        await store.migrate();
        await store.ping();
        expect(await store.getItem('SKU-1')).toMatchObject({ sku: 'SKU-1', title: 'One' });
        expect(store.describe()).not.toMatch(/:[^/@:]+@/);
      });

      test('locations are created, renamed on ensure, listed by id', async () => {
        await store.ensureLocations([{ id: 'main', name: 'Main shop' }], T0);
        expect(await store.listLocations()).toEqual([
          { id: 'back', name: 'Back room' },
          { id: 'main', name: 'Main shop' },
        ]);
        expect(await store.getLocation('nowhere')).toBeNull();
      });

      test('a location asked for inside a transaction is found again after it (kept once seen), an unknown one is not kept', async () => {
        expect(await store.transaction((tx) => tx.getLocation('main'))).toEqual({ id: 'main', name: 'Main' });
        expect(await store.transaction((tx) => tx.getLocation('later'))).toBeNull();
        await store.ensureLocations([{ id: 'later', name: 'Added later' }], at(1));
        expect(await store.transaction((tx) => tx.getLocation('later'))).toEqual({ id: 'later', name: 'Added later' });
        expect(await store.getLocation('main')).toEqual({ id: 'main', name: 'Main' });
      });
    });

    describe('items', () => {
      test('an item and its level at one location are read together; none where there is none', async () => {
        await store.book({ sku: 'SKU-1', locationId: 'main', quantity: 4, reason: 'receipt', source: 'api', idempotencyKey: 'ia-1', occurredAt: T0 }, at(1));
        expect(await store.itemAt('SKU-1', 'main')).toEqual({
          item: expect.objectContaining({ sku: 'SKU-1', title: 'One', status: 'active' }),
          level: { sku: 'SKU-1', locationId: 'main', onHand: 4, reserved: 0, updatedAt: at(1) },
        });
        expect(await store.itemAt('SKU-1', 'back')).toEqual({ item: expect.objectContaining({ sku: 'SKU-1' }), level: null });
        expect(await store.itemAt('NOPE', 'main')).toEqual({ item: null, level: null });
        expect(await store.transaction((tx) => tx.itemAt('SKU-1', 'main'))).toEqual(await store.itemAt('SKU-1', 'main'));
      });

      test('upsert creates, updates only the fields given, archive hides, upsert brings it back', async () => {
        const updated = await store.upsertItem({ sku: 'SKU-1', lowStockThreshold: 3 }, at(1000));
        expect(updated).toMatchObject({ title: 'One', lowStockThreshold: 3, status: 'active', createdAt: T0, updatedAt: at(1000) });
        expect(await store.archiveItem('SKU-1', at(2000))).toMatchObject({ status: 'archived', archivedAt: at(2000) });
        expect(await store.archiveItem('NOPE', at(2000))).toBeNull();
        expect(await store.upsertItem({ sku: 'SKU-1' }, at(3000))).toMatchObject({ status: 'active', archivedAt: null, title: 'One' });
      });

      test('items page by SKU with a cursor, and filter by status', async () => {
        for (const s of ['A', 'B', 'C', 'D']) await store.upsertItem({ sku: s }, T0);
        await store.archiveItem('C', T0);
        const first = await store.listItems({ limit: 2 });
        expect(first.map((i) => i.sku)).toEqual(['A', 'B']);
        const next = await store.listItems({ limit: 10, cursor: 'B' });
        expect(next.map((i) => i.sku)).toEqual(['C', 'D', 'SKU-1', 'SKU-2']);
        expect((await store.listItems({ limit: 10, status: 'archived' })).map((i) => i.sku)).toEqual(['C']);
        expect((await store.listItems({ limit: 10, status: 'active' })).map((i) => i.sku)).not.toContain('C');
      });
    });

    describe('booking', () => {
      test('a movement is booked and the level projection follows', async () => {
        const r = await store.book(move({ quantity: 5 }), T0);
        expect(r.duplicate).toBe(false);
        expect(r.movement).toMatchObject({ sku: 'SKU-1', locationId: 'main', quantity: 5, reason: 'restock', recordedAt: T0 });
        expect(await store.getLevel('SKU-1', 'main')).toMatchObject({ onHand: 5, reserved: 0 });
        expect(await store.movementByKey(r.movement.idempotencyKey)).toEqual(r.movement);
      });

      test('the same idempotency key twice books once and returns the first movement, even with another quantity', async () => {
        const first = await store.book(move({ idempotencyKey: 'same', quantity: 2 }), T0);
        const again = await store.book(move({ idempotencyKey: 'same', quantity: 9 }), at(1000));
        expect(again).toEqual({ movement: first.movement, duplicate: true });
        expect((await store.getLevel('SKU-1', 'main'))!.onHand).toBe(2);
      });

      test('50 concurrent bookings with one key book exactly one movement, and all see its id', async () => {
        const results = await Promise.all(Array.from({ length: 50 }, () => store.book(move({ idempotencyKey: 'race', quantity: 1 }), T0)));
        expect(new Set(results.map((r) => r.movement.id)).size).toBe(1);
        expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
        expect((await store.getLevel('SKU-1', 'main'))!.onHand).toBe(1);
        expect(await store.listMovements('SKU-1', { limit: 100 })).toHaveLength(1);
      });

      test('50 concurrent bookings with different keys all land: on-hand is their sum', async () => {
        await Promise.all(Array.from({ length: 50 }, (_, i) => store.book(move({ quantity: i + 1 }), T0)));
        expect((await store.getLevel('SKU-1', 'main'))!.onHand).toBe((50 * 51) / 2);
      });

      test('an invalid movement is refused with a MovementError and books nothing', async () => {
        for (const bad of [move({ quantity: 0 }), move({ quantity: 1.5 }), move({ reason: 'gift' as never }), move({ reason: 'reservation', quantity: -1 }), move({ idempotencyKey: '' })]) {
          await expect(store.book(bad, T0)).rejects.toMatchObject({ code: expect.any(String) });
        }
        expect(await store.getLevel('SKU-1', 'main')).toBeNull();
      });

      test('a count books the difference from on-hand at that moment and records the number counted', async () => {
        await store.book(move({ quantity: 7 }), T0);
        const r = await store.bookCount({ sku: 'SKU-1', locationId: 'main', source: 'sheet', idempotencyKey: 'count-1', occurredAt: T0, counted: 4 }, T0);
        expect(r.movement).toMatchObject({ reason: 'count', quantity: -3, countedQuantity: 4 });
        expect((await store.getLevel('SKU-1', 'main'))!.onHand).toBe(4);
        const same = await store.bookCount({ sku: 'SKU-1', locationId: 'main', source: 'sheet', idempotencyKey: 'count-1', occurredAt: T0, counted: 100 }, T0);
        expect(same).toEqual({ movement: r.movement, duplicate: true });
        const zero = await store.bookCount({ sku: 'SKU-1', locationId: 'main', source: 'sheet', idempotencyKey: 'count-2', occurredAt: T0, counted: 4 }, T0);
        expect(zero.movement).toMatchObject({ quantity: 0, countedQuantity: 4 });
        await expect(store.bookCount({ sku: 'SKU-1', locationId: 'main', source: 'sheet', idempotencyKey: 'count-3', occurredAt: T0, counted: -1 }, T0)).rejects.toMatchObject({ code: 'invalid_count' });
      });

      test('counts racing with sales end where the last count says, plus the sales booked after it', async () => {
        await store.book(move({ quantity: 20 }), T0);
        const ops = Array.from({ length: 20 }, (_, i) =>
          i % 5 === 0
            ? store.bookCount({ sku: 'SKU-1', locationId: 'main', source: 'sheet', idempotencyKey: `c-${i}`, occurredAt: T0, counted: 10 }, T0)
            : store.book(move({ quantity: -1, reason: 'sale' }), T0),
        );
        await Promise.all(ops);
        const moves = (await store.listMovements('SKU-1', { limit: 100 })).reverse();
        const lastCount = moves.map((m) => m.reason).lastIndexOf('count');
        const salesAfter = moves.slice(lastCount + 1).filter((m) => m.reason === 'sale').length;
        expect((await store.getLevel('SKU-1', 'main'))!.onHand).toBe(10 - salesAfter);
        // Every count, whenever it ran, recorded the on-hand it corrected from.
        let onHand = 0;
        for (const m of moves) {
          if (m.reason === 'count') expect(onHand + m.quantity).toBe(m.countedQuantity);
          onHand += m.quantity;
        }
      });

      test('reservations and releases move reserved, not on-hand', async () => {
        await store.book(move({ quantity: 5 }), T0);
        await store.book(move({ reason: 'reservation', quantity: 2 }), T0);
        await store.book(move({ reason: 'release', quantity: -1 }), T0);
        expect(await store.getLevel('SKU-1', 'main')).toMatchObject({ onHand: 5, reserved: 1 });
      });

      test('bookAll is all or nothing: a transfer with an unknown location books neither leg', async () => {
        await store.book(move({ quantity: 5 }), T0);
        await expect(
          store.bookAll([move({ quantity: -2, reason: 'transfer' }), move({ quantity: 2, reason: 'transfer', locationId: 'nowhere' })], T0),
        ).rejects.toBeDefined();
        expect((await store.getLevel('SKU-1', 'main'))!.onHand).toBe(5);
        const [out, into] = await store.bookAll([move({ quantity: -2, reason: 'transfer' }), move({ quantity: 2, reason: 'transfer', locationId: 'back' })], T0);
        expect([out!.movement.quantity, into!.movement.quantity]).toEqual([-2, 2]);
        expect((await store.getLevel('SKU-1', 'back'))!.onHand).toBe(2);
      });

      test('a transaction that throws rolls back every booking made inside it', async () => {
        await expect(
          store.transaction(async (tx) => {
            await tx.book(move({ quantity: 3, idempotencyKey: 'inside' }), T0);
            await tx.enqueue({ sink: 's', topic: 't', payload: {} }, T0);
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await store.movementByKey('inside')).toBeNull();
        expect(await store.getLevel('SKU-1', 'main')).toBeNull();
        expect(await store.listOutbox({ limit: 10 })).toEqual([]);
      });

      test('the database itself refuses to update, delete or truncate a movement', async () => {
        const r = await store.book(move({ quantity: 3 }), T0);
        const upd = await o.raw(`update movements set quantity = 99 where id = ${r.movement.id}`).then((n) => `changed ${n} rows; visible: ${JSON.stringify(r.movement)}`, (e: Error) => e.message);
        expect(upd).toMatch(/append-only/);
        const del = await o.raw(`delete from movements where id = ${r.movement.id}`).then((n) => `changed ${n} rows; visible: ${JSON.stringify(r.movement)}`, (e: Error) => e.message);
        expect(del).toMatch(/append-only/);
        expect(await store.movementByKey(r.movement.idempotencyKey)).toEqual(r.movement);
      });

      test('movements page newest first by id cursor', async () => {
        const ids: number[] = [];
        for (let i = 0; i < 5; i++) ids.push((await store.book(move({ quantity: i + 1 }), T0)).movement.id);
        const page1 = await store.listMovements('SKU-1', { limit: 2 });
        expect(page1.map((m) => m.id)).toEqual([ids[4], ids[3]]);
        const page2 = await store.listMovements('SKU-1', { limit: 10, cursor: ids[3] });
        expect(page2.map((m) => m.id)).toEqual([ids[2], ids[1], ids[0]]);
        expect(await store.listMovements('SKU-2', { limit: 10 })).toEqual([]);
      });

      test('property: after any sequence of bookings and counts the projection equals the levels recomputed from movements', async () => {
        const op = fc.oneof(
          fc.record({ kind: fc.constant('move' as const), sku: fc.constantFrom('SKU-1', 'SKU-2'), loc: fc.constantFrom('main', 'back'), reason: fc.constantFrom('sale', 'restock', 'adjustment', 'reservation', 'release'), q: fc.integer({ min: 1, max: 9 }), key: fc.integer({ min: 0, max: 15 }) }),
          fc.record({ kind: fc.constant('count' as const), sku: fc.constantFrom('SKU-1', 'SKU-2'), loc: fc.constantFrom('main', 'back'), counted: fc.integer({ min: 0, max: 30 }), key: fc.integer({ min: 0, max: 15 }) }),
        );
        let run = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(op, { maxLength: 25 }), async (ops) => {
            run++;
            for (const x of ops) {
              const key = `p${run}-${x.key}`;
              if (x.kind === 'count') {
                await store.bookCount({ sku: x.sku, locationId: x.loc, source: 'sheet', idempotencyKey: key, occurredAt: T0, counted: x.counted }, T0);
              } else {
                const quantity = x.reason === 'sale' || x.reason === 'release' ? -x.q : x.q;
                await store.book(move({ sku: x.sku, locationId: x.loc, reason: x.reason as MovementInput['reason'], quantity, idempotencyKey: key }), T0);
              }
            }
            // A level row of all zeros and no row at all mean the same: nothing there.
            const strip = (ls: { sku: string; locationId: string; onHand: number; reserved: number }[]) =>
              ls.filter((l) => l.onHand !== 0 || l.reserved !== 0).map((l) => `${l.sku}@${l.locationId}=${l.onHand}/${l.reserved}`).sort();
            expect(strip(await store.levelsFor(['SKU-1', 'SKU-2']))).toEqual(strip(await store.recomputeLevels()));
          }),
          { numRuns: 15 },
        );
      });
    });

    describe('inbox', () => {
      const event = (key: string) => ({ dedupeKey: key, source: 'relay', kind: 'adjustment', headers: { 'webhook-id': key }, body: `{"n":"${key}"}` });

      test('an event is stored once per dedupe key; a second insert returns null', async () => {
        const first = await store.insertInbox(event('e-1'), T0);
        expect(first).toEqual({ id: expect.any(Number) });
        expect(await store.insertInbox(event('e-1'), at(5))).toBeNull();
        expect(await store.inboxByKey('e-1')).toMatchObject({ id: first!.id, status: 'received', headers: { 'webhook-id': 'e-1' }, body: '{"n":"e-1"}', attempts: 0 });
      });

      test('a batch is stored in its order, once per key: a key seen before or earlier in the batch gives null', async () => {
        const before = await store.insertInbox(event('bt-old'), T0);
        const got = await store.insertInboxBatch([event('bt-1'), event('bt-old'), event('bt-2'), event('bt-1'), event('bt-3')], at(1));
        expect(got.map((g) => (g ? 'stored' : 'duplicate'))).toEqual(['stored', 'duplicate', 'stored', 'duplicate', 'stored']);
        const ids = [got[0]!.id, got[2]!.id, got[4]!.id];
        expect(ids[0]).toBeGreaterThan(before!.id);
        expect([...ids].sort((x, y) => x - y)).toEqual(ids);
        // Kept: the first copy of each key, as sent; the earlier event untouched.
        expect(await store.inboxByKey('bt-1')).toMatchObject({ id: ids[0], status: 'received', body: '{"n":"bt-1"}', receivedAt: at(1) });
        expect(await store.inboxByKey('bt-old')).toMatchObject({ id: before!.id, receivedAt: T0 });
        expect(await store.insertInboxBatch([], at(2))).toEqual([]);
      });

      test('a batch is all or nothing: a row the database refuses stores none of the batch', async () => {
        const bad = { ...event('bt-bad'), body: null as unknown as string };
        const outcome = await store.insertInboxBatch([event('bt-ok'), bad], at(1)).then(
          (stored) => ({ stored }),
          (err: Error) => ({ error: err.message }),
        );
        expect(outcome).toEqual({ error: expect.stringMatching(/NOT NULL|null value/i) });
        expect(await store.inboxByKey('bt-ok')).toBeNull();
        expect(await store.inboxByKey('bt-bad')).toBeNull();
      });

      test('claims come oldest first, count attempts, and a finished entry is not claimed again', async () => {
        const a = await store.insertInbox(event('a'), T0);
        const b = await store.insertInbox(event('b'), T0);
        const claimed = await store.transaction(async (tx) => {
          const e = await tx.claimInbox();
          await tx.finishInbox(e!.id, 'processed', { ok: true }, at(1));
          return e;
        });
        expect(claimed).toMatchObject({ id: a!.id, attempts: 1 });
        expect(await store.getInbox(a!.id)).toMatchObject({ status: 'processed', outcome: { ok: true }, processedAt: at(1) });
        const nextOne = await store.transaction((tx) => tx.claimInbox());
        expect(nextOne!.id).toBe(b!.id);
      });

      test('an entry that waits for its platform is passed over until its time, its failed try counted, and finished without its wait', async () => {
        // Whatever earlier tests left waiting is finished first, so this test's entries are the oldest.
        for (let e = await store.transaction((tx) => tx.claimInbox()); e; e = await store.transaction((tx) => tx.claimInbox())) await store.finishInbox(e.id, 'processed', null, T0);
        const w = await store.insertInbox(event('wait-1'), T0);
        const n = await store.insertInbox(event('wait-2'), T0);
        // Its try failed (the claim was undone with its transaction): it waits until at(10).
        await store.deferInbox(w!.id, at(10), { status: 'received', waiting: 'The store answered 500.', retryAt: at(10) });
        expect(await store.getInbox(w!.id)).toMatchObject({ status: 'received', retryAt: at(10), attempts: 1, outcome: { waiting: 'The store answered 500.' } });
        // Before its time the one behind it is claimed; at its time it is claimed again.
        const before = await store.transaction(async (tx) => {
          const e = await tx.claimInbox(at(9));
          if (e) await tx.finishInbox(e.id, 'processed', null, at(9));
          return e;
        });
        expect(before!.id).toBe(n!.id);
        expect(await store.transaction((tx) => tx.claimInbox(at(9)))).toBeNull();
        const due = await store.transaction(async (tx) => {
          const e = await tx.claimInbox(at(10));
          if (e) await tx.finishInbox(e.id, 'processed', { ok: true }, at(10));
          return e;
        });
        expect(due).toMatchObject({ id: w!.id, attempts: 2 });
        expect(await store.getInbox(w!.id)).toMatchObject({ status: 'processed', retryAt: null });
      });

      test('a claim rolled back leaves the entry waiting for the next claim', async () => {
        const a = await store.insertInbox(event('rb'), T0);
        await expect(
          store.transaction(async (tx) => {
            await tx.claimInbox();
            throw new Error('crash while booking');
          }),
        ).rejects.toThrow();
        expect(await store.getInbox(a!.id)).toMatchObject({ status: 'received', attempts: 0 });
      });

      test('only one transaction at a time holds the inbox, so events are booked in the order received', async () => {
        await store.insertInbox(event('x1'), T0);
        await store.insertInbox(event('x2'), T0);
        const other = await o.second();
        try {
          let release!: () => void;
          const held = new Promise<void>((r) => (release = r));
          let firstClaimed!: () => void;
          const claimedSignal = new Promise<void>((r) => (firstClaimed = r));
          const first = store.transaction(async (tx) => {
            const e = await tx.claimInbox();
            firstClaimed();
            await held;
            await tx.finishInbox(e!.id, 'processed', null, T0);
            return e!.dedupeKey;
          });
          await claimedSignal;
          if (store.dialect === 'postgres') {
            // Another process's claim gets nothing while the first holds the inbox (advisory lock).
            expect(await other.transaction((tx) => tx.claimInbox())).toBeNull();
            release();
          } else {
            // SQLite has one writer (the hub runs one process on it): a second claim waits for the
            // first transaction to end, then takes the next entry.
            const second = store.transaction((tx) => tx.claimInbox());
            release();
            expect((await second)?.dedupeKey).toBe('x2');
          }
          expect(await first).toBe('x1');
        } finally {
          await other.close();
        }
      });

      test('list pages newest first and filters by status; requeue only for entries that need fixing', async () => {
        const ids: number[] = [];
        for (const k of ['l1', 'l2', 'l3']) ids.push((await store.insertInbox(event(k), T0))!.id);
        await store.finishInbox(ids[0]!, 'unmatched', null, T0);
        await store.finishInbox(ids[1]!, 'processed', null, T0);
        expect((await store.listInbox({ limit: 2 })).map((e) => e.id)).toEqual([ids[2], ids[1]]);
        expect((await store.listInbox({ limit: 10, cursor: ids[1] })).map((e) => e.id)).toEqual([ids[0]]);
        expect((await store.listInbox({ limit: 10, status: 'unmatched' })).map((e) => e.id)).toEqual([ids[0]]);
        expect(await store.countInbox()).toEqual({ received: 1, unmatched: 1, processed: 1 });
        expect(await store.requeueInbox(ids[1]!)).toBe(false);
        expect(await store.requeueInbox(ids[0]!)).toBe(true);
        expect(await store.getInbox(ids[0]!)).toMatchObject({ status: 'received', processedAt: null });
      });
    });

    describe('outbox', () => {
      test('a coalesce key keeps one waiting row: a newer payload replaces the waiting one', async () => {
        await store.enqueue({ sink: 's', topic: 'level.changed', coalesceKey: 'k', payload: { n: 1 } }, T0);
        await store.enqueue({ sink: 's', topic: 'level.changed', coalesceKey: 'k', payload: { n: 2 } }, at(1));
        await store.enqueue({ sink: 's', topic: 'alert.raised', payload: { a: 1 } }, at(2));
        await store.enqueue({ sink: 's', topic: 'alert.raised', payload: { a: 2 } }, at(3));
        const rows = await store.listOutbox({ limit: 10 });
        expect(rows).toHaveLength(3);
        expect(rows.find((r) => r.coalesceKey === 'k')!.payload).toEqual({ n: 2 });
      });

      test('several rows in one go: in order, one waiting row per key (the last given wins), a waiting row of the same key is replaced', async () => {
        await store.enqueue({ sink: 's', topic: 'level.push', coalesceKey: 'a', payload: { n: 0 } }, T0);
        await store.enqueueAll(
          [
            { sink: 's', topic: 'level.push', coalesceKey: 'a', payload: { n: 1 } },
            { sink: 's', topic: 'level.push', coalesceKey: 'b', payload: { n: 1 } },
            { sink: 's', topic: 'alert.raised', payload: { x: 1 } },
            { sink: 's', topic: 'level.push', coalesceKey: 'b', payload: { n: 2 } },
            { sink: 't', topic: 'alert.raised', payload: { x: 2 } },
          ],
          at(1),
        );
        await store.enqueueAll([], at(2));
        const rows = (await store.listOutbox({ limit: 10 })).sort((x, y) => x.id - y.id);
        expect(rows.map((r) => [r.sink, r.coalesceKey, r.payload])).toEqual([
          ['s', 'a', { n: 1 }],
          ['s', null, { x: 1 }],
          ['s', 'b', { n: 2 }],
          ['t', null, { x: 2 }],
        ]);
        expect(rows[0]!.updatedAt).toBe(at(1));
      });

      test('a row being delivered is not changed: a newer state queues behind it and waits until it is done', async () => {
        await store.enqueue({ sink: 's', topic: 't', coalesceKey: 'k', payload: { n: 1 } }, T0);
        const [working] = await store.claimOutbox(10, 60_000, T0);
        await store.enqueue({ sink: 's', topic: 't', coalesceKey: 'k', payload: { n: 2 } }, at(1));
        expect((await store.getOutbox(working!.id))!.payload).toEqual({ n: 1 });
        expect(await store.claimOutbox(10, 60_000, at(2))).toEqual([]);
        await store.completeOutbox(working!.id, at(3));
        const [next] = await store.claimOutbox(10, 60_000, at(4));
        expect(next!.payload).toEqual({ n: 2 });
      });

      test('claims respect the limit and the due time, and a lease that ran out makes the row due again', async () => {
        for (let i = 0; i < 3; i++) await store.enqueue({ sink: 's', topic: 't', payload: { i } }, T0);
        const batch = await store.claimOutbox(2, 1000, T0);
        expect(batch.map((r) => (r.payload as { i: number }).i)).toEqual([0, 1]);
        expect(batch[0]).toMatchObject({ status: 'working', attempts: 1, lockedUntil: at(1000) });
        const rest = await store.claimOutbox(10, 1000, at(10));
        expect(rest.map((r) => (r.payload as { i: number }).i)).toEqual([2]);
        // The worker holding the first two died; after its lease they are claimed again.
        expect(await store.claimOutbox(10, 1000, at(500))).toEqual([]);
        const again = await store.claimOutbox(10, 1000, at(1500));
        expect(again.map((r) => (r.payload as { i: number }).i)).toEqual([0, 1, 2]);
        expect(again[0]!.attempts).toBe(2);
      });

      test('a row whose worker died is delivered before the newer state of its key, never beside it', async () => {
        await store.enqueue({ sink: 's', topic: 't', coalesceKey: 'k', payload: { n: 1 } }, T0);
        await store.claimOutbox(10, 1000, T0);
        await store.enqueue({ sink: 's', topic: 't', coalesceKey: 'k', payload: { n: 2 } }, at(1));
        const [first, ...others] = await store.claimOutbox(10, 1000, at(5000));
        expect(first!.payload).toEqual({ n: 1 });
        expect(others).toEqual([]);
        await store.completeOutbox(first!.id, at(5001));
        expect((await store.claimOutbox(10, 1000, at(5002)))[0]!.payload).toEqual({ n: 2 });
      });

      test('a worker whose lease ran out can neither complete nor fail the row another worker has taken over', async () => {
        await store.enqueue({ sink: 's', topic: 't', payload: {} }, T0);
        const [slow] = await store.claimOutbox(1, 1000, T0);
        const [fresh] = await store.claimOutbox(1, 1000, at(1500));
        expect(fresh!.id).toBe(slow!.id);
        expect(await store.completeOutbox(slow!.id, at(1600), slow!.lockedUntil)).toBe(false);
        expect(await store.failOutbox(slow!.id, 'late failure', at(9000), at(1600), slow!.lockedUntil)).toBe('working');
        expect(await store.getOutbox(slow!.id)).toMatchObject({ status: 'working', lockedUntil: fresh!.lockedUntil, lastError: null });
        expect(await store.completeOutbox(fresh!.id, at(1700), fresh!.lockedUntil)).toBe(true);
        expect((await store.getOutbox(slow!.id))!.status).toBe('done');
      });

      test('a failure reschedules, a final failure makes a dead letter, and a retried dead letter is due now', async () => {
        await store.enqueue({ sink: 's', topic: 't', payload: {} }, T0);
        const [row] = await store.claimOutbox(1, 1000, T0);
        expect(await store.failOutbox(row!.id, 'HTTP 500', at(60_000), at(1))).toBe('pending');
        expect(await store.claimOutbox(1, 1000, at(30_000))).toEqual([]);
        const [again] = await store.claimOutbox(1, 1000, at(60_000));
        expect(await store.failOutbox(again!.id, 'HTTP 500 again', null, at(60_001))).toBe('dead');
        expect(await store.getOutbox(row!.id)).toMatchObject({ status: 'dead', lastError: 'HTTP 500 again', attempts: 2 });
        expect(await store.countOutbox()).toEqual({ dead: 1 });
        expect(await store.retryDead(row!.id, at(70_000))).toBe(true);
        expect(await store.retryDead(row!.id, at(70_000))).toBe(false);
        expect((await store.claimOutbox(1, 1000, at(70_000)))[0]).toMatchObject({ id: row!.id, attempts: 1 });
      });

      test('a failed row with a newer state waiting is superseded, not retried', async () => {
        await store.enqueue({ sink: 's', topic: 't', coalesceKey: 'k', payload: { n: 1 } }, T0);
        const [row] = await store.claimOutbox(1, 1000, T0);
        await store.enqueue({ sink: 's', topic: 't', coalesceKey: 'k', payload: { n: 2 } }, at(1));
        expect(await store.failOutbox(row!.id, 'timeout', at(10), at(2))).toBe('superseded');
        const [next] = await store.claimOutbox(5, 1000, at(20));
        expect(next!.payload).toEqual({ n: 2 });
      });

      test('completed rows are done and listed by status', async () => {
        await store.enqueue({ sink: 's', topic: 't', payload: {} }, T0);
        const [row] = await store.claimOutbox(1, 1000, T0);
        await store.completeOutbox(row!.id, at(1));
        expect(await store.listOutbox({ limit: 10, status: 'done' })).toHaveLength(1);
        expect(await store.listOutbox({ limit: 10, status: 'pending' })).toEqual([]);
      });
    });

    describe('alerts', () => {
      test('one open alert per kind, item and location; resolving counts; listing filters by status', async () => {
        const a = await store.openAlert({ kind: 'low_stock', severity: 'warning', sku: 'SKU-1', locationId: 'main', message: 'low' }, T0);
        expect(a).toMatchObject({ kind: 'low_stock', status: 'open', openedAt: T0 });
        expect(await store.openAlert({ kind: 'low_stock', severity: 'warning', sku: 'SKU-1', locationId: 'main', message: 'low again' }, T0)).toBeNull();
        await store.openAlert({ kind: 'low_stock', severity: 'warning', sku: 'SKU-1', locationId: 'back', message: 'low there' }, T0);
        expect(await store.resolveAlerts('SKU-1', 'main', ['low_stock', 'oversold'], at(1))).toBe(1);
        expect(await store.resolveAlerts('SKU-1', 'main', [], at(1))).toBe(0);
        expect((await store.listAlerts({ limit: 10, status: 'resolved' })).map((x) => x.locationId)).toEqual(['main']);
        expect((await store.listAlerts({ limit: 10, status: 'open' })).map((x) => x.locationId)).toEqual(['back']);
        expect(await store.openAlert({ kind: 'low_stock', severity: 'warning', sku: 'SKU-1', locationId: 'main', message: 'low once more' }, at(2))).not.toBeNull();
      });
    });

    describe('channel maps', () => {
      test('discovery replaces the SKU map, keeps hidden flags, and finds listings by any platform id', async () => {
        await store.replaceListings('web', [
          { sku: 'SKU-1', productId: 'p1', variantId: 'v1', inventoryItemId: 'i1', title: 'One' },
          { sku: 'SKU-2', productId: 'p2', variantId: 'v2', inventoryItemId: null, title: 'Two' },
        ], T0);
        await store.setListingHidden('web', 'SKU-1', true, at(1));
        await store.replaceListings('web', [{ sku: 'SKU-1', productId: 'p1', variantId: 'v1b', inventoryItemId: 'i1', title: 'One' }], at(2));
        expect(await store.listListings('web')).toEqual([expect.objectContaining({ sku: 'SKU-1', variantId: 'v1b', hidden: true })]);
        expect((await store.listingForRef('web', { variantId: 'v1b' }))?.sku).toBe('SKU-1');
        expect((await store.listingForRef('web', { inventoryItemId: 'i1' }))?.sku).toBe('SKU-1');
        expect((await store.listingForRef('web', { productId: 'p1' }))?.sku).toBe('SKU-1');
        expect(await store.listingForRef('web', { variantId: 'v2' })).toBeNull();
        expect(await store.listingForRef('other', { variantId: 'v1b' })).toBeNull();
        expect(await store.listingForSku('web', 'SKU-2')).toBeNull();
        await store.replaceListings('shop', [{ sku: 'SKU-1', productId: 'q1', variantId: 'w1', inventoryItemId: null, title: 'One' }], at(3));
        expect((await store.listingsForSku('SKU-1')).map((l) => [l.channelId, l.variantId])).toEqual([
          ['shop', 'w1'],
          ['web', 'v1b'],
        ]);
        expect(await store.listingsForSku('SKU-2')).toEqual([]);
      });

      test('what was pushed and what was seen are kept apart per channel, item and location', async () => {
        await store.recordChannelLevel('web', 'SKU-1', 'main', 'pushed', 5, T0);
        await store.recordChannelLevel('web', 'SKU-1', 'main', 'observed', 4, at(1));
        await store.recordChannelLevel('web', 'SKU-1', 'main', 'pushed', 3, at(2));
        // A push the channel applied is also what the hub now expects it to show.
        expect(await store.getChannelLevel('web', 'SKU-1', 'main')).toEqual({
          channelId: 'web',
          sku: 'SKU-1',
          locationId: 'main',
          pushed: 3,
          pushedAt: at(2),
          pushedWrote: true,
          observed: 4,
          observedAt: at(1),
          expected: 3,
          observedPlatformAt: null,
          pendingSince: null,
          pendingUp: 0,
          pendingDown: 0,
          driftDown: 0,
          driftUp: 0,
          driftThrough: null,
          bookedDelta: 0,
          pushing: null,
          pushingBookedDelta: null,
        });
        expect(await store.listChannelLevels('web', [])).toEqual([]);
        expect(await store.listChannelLevels('web', ['SKU-1'])).toHaveLength(1);
      });

      test('whether our last number there was written by us: a push found already there at another level was not; at the level we wrote, it still was', async () => {
        await store.recordChannelLevel('web', 'SKU-9', 'main', 'pushed', 5, T0);
        expect(await store.getChannelLevel('web', 'SKU-9', 'main')).toMatchObject({ pushed: 5, pushedWrote: true });
        // Found already there at the number we wrote: nothing new, still our write showing.
        await store.recordChannelLevel('web', 'SKU-9', 'main', 'pushed', 5, at(1), undefined, false);
        expect(await store.getChannelLevel('web', 'SKU-9', 'main')).toMatchObject({ pushed: 5, pushedWrote: true });
        // Found already there at another number: the channel moved there by itself.
        await store.recordChannelLevel('web', 'SKU-9', 'main', 'pushed', 2, at(2), undefined, false);
        expect(await store.getChannelLevel('web', 'SKU-9', 'main')).toMatchObject({ pushed: 2, pushedWrote: false, pushedAt: at(2) });
        await store.recordChannelLevel('web', 'SKU-9', 'main', 'pushed', 4, at(3));
        expect(await store.getChannelLevel('web', 'SKU-9', 'main')).toMatchObject({ pushed: 4, pushedWrote: true });
        await store.updateChannelLevel('web', 'SKU-9', 'main', { pushed: 1, pushedWrote: false });
        expect(await store.getChannelLevel('web', 'SKU-9', 'main')).toMatchObject({ pushed: 1, pushedWrote: false });
        // A first push that finds its level already there.
        await store.recordChannelLevel('web', 'SKU-8', 'main', 'pushed', 3, T0, undefined, false);
        expect(await store.getChannelLevel('web', 'SKU-8', 'main')).toMatchObject({ pushed: 3, pushedWrote: false });
      });

      test('attribution state: fields set one by one, discrepancies listed by age, and a push that matches the observation closes its discrepancy', async () => {
        await store.updateChannelLevel('pos', 'SKU-1', 'main', { expected: 5, observed: 3, observedPlatformAt: at(1), pendingSince: at(1) });
        await store.updateChannelLevel('pos', 'SKU-2', 'main', { expected: 2, observed: 1, pendingSince: at(5) });
        await store.updateChannelLevel('pos', 'SKU-3', 'main', { driftDown: -2, driftUp: 3, driftThrough: at(3) });
        expect(await store.getChannelLevel('pos', 'SKU-3', 'main')).toMatchObject({ driftDown: -2, driftUp: 3, driftThrough: at(3), expected: null, pendingSince: null });
        expect((await store.listDiscrepancies(at(1), 10)).map((l) => l.sku)).toEqual(['SKU-1']);
        expect((await store.listDiscrepancies(at(9), 10)).map((l) => l.sku)).toEqual(['SKU-1', 'SKU-2']);
        expect((await store.listDiscrepancies(at(9), 1)).map((l) => l.sku)).toEqual(['SKU-1']);
        // A push of another level leaves the discrepancy open; a push of the observed level closes it.
        await store.recordChannelLevel('pos', 'SKU-1', 'main', 'pushed', 4, at(6));
        expect(await store.getChannelLevel('pos', 'SKU-1', 'main')).toMatchObject({ expected: 4, pendingSince: at(1) });
        await store.recordChannelLevel('pos', 'SKU-1', 'main', 'pushed', 3, at(7));
        expect(await store.getChannelLevel('pos', 'SKU-1', 'main')).toMatchObject({ expected: 3, observed: 3, pendingSince: null });
        expect((await store.listDiscrepancies(at(9), 10)).map((l) => l.sku)).toEqual(['SKU-2']);
        await store.updateChannelLevel('pos', 'SKU-2', 'main', { pendingSince: null });
        expect(await store.listDiscrepancies(at(9), 10)).toEqual([]);
      });
    });

    describe('a push and a sale crossing (docs/attribution.md)', () => {
      test("the channel's own sales booked while a push was on its way are counted on top of the level pushed", async () => {
        await store.recordChannelLevel('web', 'SKU-1', 'main', 'pushed', 10, T0, 0);
        // The push of 9 is built (the row read: bookedDelta 0); the channel applies it; a customer then
        // buys one there, and that sale is booked before the push's answer is recorded.
        const built = await store.getChannelLevel('web', 'SKU-1', 'main');
        await store.updateChannelLevel('web', 'SKU-1', 'main', { expected: 9, bookedDelta: built!.bookedDelta - 1 });
        await store.recordChannelLevel('web', 'SKU-1', 'main', 'pushed', 9, at(1), built!.bookedDelta);
        // The channel shows 8: that is what the hub must expect, or the sale's level report reads as an edit.
        expect(await store.getChannelLevel('web', 'SKU-1', 'main')).toMatchObject({ pushed: 9, expected: 8, bookedDelta: -1 });
        // Its level report arrives (8, an open discrepancy): the next push answered closes it only when it explains it.
        await store.updateChannelLevel('web', 'SKU-1', 'main', { observed: 8, pendingSince: at(2) });
        await store.recordChannelLevel('web', 'SKU-1', 'main', 'pushed', 8, at(3), -1);
        expect(await store.getChannelLevel('web', 'SKU-1', 'main')).toMatchObject({ expected: 8, pendingSince: null });
      });

      test('a push on its way is written down before it is sent, and its answer clears it', async () => {
        await store.updateChannelLevel('web', 'SKU-2', 'main', { bookedDelta: -3, pushing: 6, pushingBookedDelta: -3 });
        expect(await store.getChannelLevel('web', 'SKU-2', 'main')).toMatchObject({ pushing: 6, pushingBookedDelta: -3 });
        await store.recordChannelLevel('web', 'SKU-2', 'main', 'pushed', 6, at(1), -3);
        expect(await store.getChannelLevel('web', 'SKU-2', 'main')).toMatchObject({ pushed: 6, expected: 6, pushing: null, pushingBookedDelta: null });
      });
    });

    describe('conflicts', () => {
      const conflict = (key: string, sku = 'SKU-1') => ({ key, eventId: 7, sku, locationId: 'main', sheetShowed: 10, typed: 12, hubHad: 8, source: 'sheet', actor: 'mia@example.com', editedAt: T0 });

      test('a conflict is stored once per edit key, even when recorded twice at once', async () => {
        const [a, b] = await Promise.all([store.recordConflict(conflict('edit-1'), at(1)), store.recordConflict(conflict('edit-1'), at(2))]);
        expect([a.created, b.created].sort()).toEqual([false, true]);
        expect(a.conflict.id).toBe(b.conflict.id);
        expect(await store.getConflict(a.conflict.id)).toEqual({ ...conflict('edit-1'), id: a.conflict.id, foundAt: a.created ? at(1) : at(2), status: 'open', resolvedAt: null, resolvedBy: null, movementId: null, resolution: null });
        expect(await store.conflictByKey('edit-1')).toEqual(await store.getConflict(a.conflict.id));
        expect(await store.conflictByKey('nope')).toBeNull();
      });

      test('a conflict is decided once; listed newest first by status and SKU', async () => {
        const one = (await store.recordConflict(conflict('e-1'), at(1))).conflict;
        const two = (await store.recordConflict(conflict('e-2', 'SKU-2'), at(2))).conflict;
        expect(await store.resolveConflict(one.id, { status: 'accepted', resolvedBy: 'owner', movementId: 5, resolution: 'Accepted.' }, at(3))).toBe(true);
        expect(await store.resolveConflict(one.id, { status: 'rejected', resolvedBy: 'someone else', movementId: null, resolution: 'Rejected.' }, at(4))).toBe(false);
        expect(await store.getConflict(one.id)).toMatchObject({ status: 'accepted', resolvedBy: 'owner', movementId: 5, resolvedAt: at(3), resolution: 'Accepted.' });
        expect((await store.listConflicts({ limit: 10 })).map((c) => c.id)).toEqual([two.id, one.id]);
        expect((await store.listConflicts({ limit: 10, status: 'open' })).map((c) => c.id)).toEqual([two.id]);
        expect((await store.listConflicts({ limit: 10, sku: 'SKU-1' })).map((c) => c.id)).toEqual([one.id]);
        expect((await store.listConflicts({ limit: 1, cursor: two.id })).map((c) => c.id)).toEqual([one.id]);
      });

      test('the movements of one event, oldest first', async () => {
        await store.book(move({ quantity: 3, eventId: 41 }), T0);
        await store.book(move({ quantity: -1, reason: 'sale', eventId: 42 }), T0);
        await store.book(move({ quantity: 2, eventId: 41 }), T0);
        expect((await store.movementsByEvent(41)).map((m) => m.quantity)).toEqual([3, 2]);
        expect(await store.movementsByEvent(43)).toEqual([]);
      });
    });

    describe('credentials', () => {
      const secrets = (n: string) => ({ tokenHash: `hash-${n}`, tokenPrefix: `srt_${n}`, relayNonce: `nonce-${n}`, relaySecretPrefix: `whsec_${n}` });

      test('a credential is stored with its scopes and prefixes, found by its token hash, and listed by id', async () => {
        const a = await store.createCredential({ name: 'Shop sheet', scopes: ['sidebar'], ...secrets('a') }, T0);
        const b = await store.createCredential({ name: 'Airtable base', scopes: ['relay'], tokenHash: null, tokenPrefix: null, relayNonce: 'nonce-b', relaySecretPrefix: 'whsec_b' }, at(1));
        expect(a).toEqual({ id: expect.any(Number), name: 'Shop sheet', scopes: ['sidebar'], tokenPrefix: 'srt_a', relaySecretPrefix: 'whsec_a', createdAt: T0, lastUsedAt: null, rotatedAt: null, revokedAt: null });
        expect(b).toMatchObject({ scopes: ['relay'], tokenPrefix: null });
        expect(await store.credentialByTokenHash('hash-a')).toEqual(a);
        expect(await store.credentialByTokenHash('hash-nobody')).toBeNull();
        expect(await store.getCredential(b.id)).toEqual(b);
        expect(await store.getCredential(b.id + 100)).toBeNull();
        expect((await store.listCredentials()).map((c) => c.name)).toEqual(['Shop sheet', 'Airtable base']);
        expect((await store.relayCredentials()).map((c) => [c.name, c.relayNonce])).toEqual([
          ['Shop sheet', 'nonce-a'],
          ['Airtable base', 'nonce-b'],
        ]);
        // Nothing secret is in what the store answers: only prefixes.
        expect(JSON.stringify(await store.listCredentials())).not.toMatch(/hash-|nonce-/);
      });

      test('two credentials cannot share a token hash or a relay nonce', async () => {
        await store.createCredential({ name: 'one', scopes: ['read'], ...secrets('same') }, T0);
        // Read as the database's message: better-sqlite3's error class comes from the first test file
        // that loaded it in this jest worker, so it is not an Error of this file's realm and
        // `rejects.toThrow()` would not recognise it (it failed so in full runs only).
        const second = await store.createCredential({ name: 'two', scopes: ['read'], ...secrets('same') }, T0).then(
          () => 'stored',
          (err: unknown) => String((err as { message?: unknown }).message ?? err),
        );
        expect(second).toMatch(/unique/i);
        expect(await store.listCredentials()).toHaveLength(1);
      });

      test('rotating replaces the hash and nonce at once; revoking keeps the first time and stops rotation; use is recorded', async () => {
        const a = await store.createCredential({ name: 'Shop sheet', scopes: ['sidebar'], ...secrets('a') }, T0);
        const rotated = await store.rotateCredential(a.id, secrets('a2'), at(5));
        expect(rotated).toMatchObject({ id: a.id, tokenPrefix: 'srt_a2', relaySecretPrefix: 'whsec_a2', rotatedAt: at(5), revokedAt: null });
        expect(await store.credentialByTokenHash('hash-a')).toBeNull();
        expect(await store.credentialByTokenHash('hash-a2')).toMatchObject({ id: a.id });
        expect((await store.relayCredentials()).map((c) => c.relayNonce)).toEqual(['nonce-a2']);

        await store.touchCredential(a.id, at(6));
        expect(await store.getCredential(a.id)).toMatchObject({ lastUsedAt: at(6) });

        expect(await store.revokeCredential(a.id, at(7))).toMatchObject({ revokedAt: at(7) });
        expect(await store.revokeCredential(a.id, at(8))).toMatchObject({ revokedAt: at(7) });
        expect(await store.revokeCredential(a.id + 100, at(8))).toBeNull();
        expect(await store.relayCredentials()).toEqual([]);
        // A revoked credential is still found by its hash (so the hub can say it was revoked) but cannot be rotated back to life.
        expect(await store.credentialByTokenHash('hash-a2')).toMatchObject({ revokedAt: at(7) });
        expect(await store.rotateCredential(a.id, secrets('a3'), at(9))).toBeNull();
        expect(await store.getCredential(a.id)).toMatchObject({ tokenPrefix: 'srt_a2', revokedAt: at(7) });
      });

      test('a revocation made through one store is seen at once by another on the same database', async () => {
        const other = await o.second();
        const a = await store.createCredential({ name: 'Shop sheet', scopes: ['sidebar'], ...secrets('x') }, T0);
        expect(await other.credentialByTokenHash('hash-x')).toMatchObject({ revokedAt: null });
        try {
          await other.revokeCredential(a.id, at(1));
          expect(await store.credentialByTokenHash('hash-x')).toMatchObject({ revokedAt: at(1) });
        } finally {
          await other.close();
        }
      });
    });
  });
}
