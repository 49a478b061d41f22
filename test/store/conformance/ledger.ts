/** Store conformance, booking (`tx.ledger`): idempotent movements, counts as deltas, levels equal to the movements. */
import fc from 'fast-check';
import type { MovementInput } from '../../../server/core/ledger';
import type { Store } from '../../../server/store/types';
import { T0, at, move, type OpenedStore, type Suite } from './fixtures';

export function ledgerConformance(s: Suite): void {
  let store: Store;
  let o: OpenedStore;
  describe('booking', () => {
    beforeEach(() => ({ store, o } = s));

    test('a movement is booked and the level projection follows', async () => {
      const r = await store.ledger.book(move({ quantity: 5 }), T0);
      expect(r.duplicate).toBe(false);
      expect(r.movement).toMatchObject({ sku: 'SKU-1', locationId: 'main', quantity: 5, reason: 'restock', recordedAt: T0 });
      expect(await store.ledger.getLevel('SKU-1', 'main')).toMatchObject({ onHand: 5, reserved: 0 });
      expect(await store.ledger.movementByKey(r.movement.idempotencyKey)).toEqual(r.movement);
    });

    test('the same idempotency key twice books once and returns the first movement, even with another quantity', async () => {
      const first = await store.ledger.book(move({ idempotencyKey: 'same', quantity: 2 }), T0);
      const again = await store.ledger.book(move({ idempotencyKey: 'same', quantity: 9 }), at(1000));
      expect(again).toEqual({ movement: first.movement, duplicate: true });
      expect((await store.ledger.getLevel('SKU-1', 'main'))!.onHand).toBe(2);
    });

    test('50 concurrent bookings with one key book exactly one movement, and all see its id', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => store.ledger.book(move({ idempotencyKey: 'race', quantity: 1 }), T0)));
      expect(new Set(results.map((r) => r.movement.id)).size).toBe(1);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect((await store.ledger.getLevel('SKU-1', 'main'))!.onHand).toBe(1);
      expect(await store.ledger.listMovements('SKU-1', { limit: 100 })).toHaveLength(1);
    });

    test('50 concurrent bookings with different keys all land: on-hand is their sum', async () => {
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.ledger.book(move({ quantity: i + 1 }), T0)));
      expect((await store.ledger.getLevel('SKU-1', 'main'))!.onHand).toBe((50 * 51) / 2);
    });

    test('an invalid movement is refused with a MovementError and books nothing', async () => {
      for (const bad of [move({ quantity: 0 }), move({ quantity: 1.5 }), move({ reason: 'gift' as never }), move({ reason: 'reservation', quantity: -1 }), move({ idempotencyKey: '' })]) {
        await expect(store.ledger.book(bad, T0)).rejects.toMatchObject({ code: expect.any(String) });
      }
      expect(await store.ledger.getLevel('SKU-1', 'main')).toBeNull();
    });

    test('a count books the difference from on-hand at that moment and records the number counted', async () => {
      await store.ledger.book(move({ quantity: 7 }), T0);
      const r = await store.ledger.bookCount({ sku: 'SKU-1', locationId: 'main', source: 'sheet', idempotencyKey: 'count-1', occurredAt: T0, counted: 4 }, T0);
      expect(r.movement).toMatchObject({ reason: 'count', quantity: -3, countedQuantity: 4 });
      expect((await store.ledger.getLevel('SKU-1', 'main'))!.onHand).toBe(4);
      const same = await store.ledger.bookCount({ sku: 'SKU-1', locationId: 'main', source: 'sheet', idempotencyKey: 'count-1', occurredAt: T0, counted: 100 }, T0);
      expect(same).toEqual({ movement: r.movement, duplicate: true });
      const zero = await store.ledger.bookCount({ sku: 'SKU-1', locationId: 'main', source: 'sheet', idempotencyKey: 'count-2', occurredAt: T0, counted: 4 }, T0);
      expect(zero.movement).toMatchObject({ quantity: 0, countedQuantity: 4 });
      await expect(store.ledger.bookCount({ sku: 'SKU-1', locationId: 'main', source: 'sheet', idempotencyKey: 'count-3', occurredAt: T0, counted: -1 }, T0)).rejects.toMatchObject({ code: 'invalid_count' });
    });

    test('counts racing with sales end where the last count says, plus the sales booked after it', async () => {
      await store.ledger.book(move({ quantity: 20 }), T0);
      const ops = Array.from({ length: 20 }, (_, i) =>
        i % 5 === 0
          ? store.ledger.bookCount({ sku: 'SKU-1', locationId: 'main', source: 'sheet', idempotencyKey: `c-${i}`, occurredAt: T0, counted: 10 }, T0)
          : store.ledger.book(move({ quantity: -1, reason: 'sale' }), T0),
      );
      await Promise.all(ops);
      const moves = (await store.ledger.listMovements('SKU-1', { limit: 100 })).reverse();
      const lastCount = moves.map((m) => m.reason).lastIndexOf('count');
      const salesAfter = moves.slice(lastCount + 1).filter((m) => m.reason === 'sale').length;
      expect((await store.ledger.getLevel('SKU-1', 'main'))!.onHand).toBe(10 - salesAfter);
      // Every count, whenever it ran, recorded the on-hand it corrected from.
      let onHand = 0;
      for (const m of moves) {
        if (m.reason === 'count') expect(onHand + m.quantity).toBe(m.countedQuantity);
        onHand += m.quantity;
      }
    });

    test('reservations and releases move reserved, not on-hand', async () => {
      await store.ledger.book(move({ quantity: 5 }), T0);
      await store.ledger.book(move({ reason: 'reservation', quantity: 2 }), T0);
      await store.ledger.book(move({ reason: 'release', quantity: -1 }), T0);
      expect(await store.ledger.getLevel('SKU-1', 'main')).toMatchObject({ onHand: 5, reserved: 1 });
    });

    test('bookAll is all or nothing: a transfer with an unknown location books neither leg', async () => {
      await store.ledger.book(move({ quantity: 5 }), T0);
      await expect(
        store.ledger.bookAll([move({ quantity: -2, reason: 'transfer' }), move({ quantity: 2, reason: 'transfer', locationId: 'nowhere' })], T0),
      ).rejects.toBeDefined();
      expect((await store.ledger.getLevel('SKU-1', 'main'))!.onHand).toBe(5);
      const [out, into] = await store.ledger.bookAll([move({ quantity: -2, reason: 'transfer' }), move({ quantity: 2, reason: 'transfer', locationId: 'back' })], T0);
      expect([out!.movement.quantity, into!.movement.quantity]).toEqual([-2, 2]);
      expect((await store.ledger.getLevel('SKU-1', 'back'))!.onHand).toBe(2);
    });

    test('a transaction that throws rolls back every booking made inside it', async () => {
      await expect(
        store.transaction(async (tx) => {
          await tx.ledger.book(move({ quantity: 3, idempotencyKey: 'inside' }), T0);
          await tx.outbox.enqueue({ sink: 's', topic: 't', payload: {} }, T0);
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.ledger.movementByKey('inside')).toBeNull();
      expect(await store.ledger.getLevel('SKU-1', 'main')).toBeNull();
      expect(await store.outbox.list({ limit: 10 })).toEqual([]);
    });

    test('the database itself refuses to update, delete or truncate a movement', async () => {
      const r = await store.ledger.book(move({ quantity: 3 }), T0);
      const upd = await o.raw(`update movements set quantity = 99 where id = ${r.movement.id}`).then((n) => `changed ${n} rows; visible: ${JSON.stringify(r.movement)}`, (e: Error) => e.message);
      expect(upd).toMatch(/append-only/);
      const del = await o.raw(`delete from movements where id = ${r.movement.id}`).then((n) => `changed ${n} rows; visible: ${JSON.stringify(r.movement)}`, (e: Error) => e.message);
      expect(del).toMatch(/append-only/);
      expect(await store.ledger.movementByKey(r.movement.idempotencyKey)).toEqual(r.movement);
    });

    test('movements page newest first by id cursor', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push((await store.ledger.book(move({ quantity: i + 1 }), T0)).movement.id);
      const page1 = await store.ledger.listMovements('SKU-1', { limit: 2 });
      expect(page1.map((m) => m.id)).toEqual([ids[4], ids[3]]);
      const page2 = await store.ledger.listMovements('SKU-1', { limit: 10, cursor: ids[3] });
      expect(page2.map((m) => m.id)).toEqual([ids[2], ids[1], ids[0]]);
      expect(await store.ledger.listMovements('SKU-2', { limit: 10 })).toEqual([]);
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
              await store.ledger.bookCount({ sku: x.sku, locationId: x.loc, source: 'sheet', idempotencyKey: key, occurredAt: T0, counted: x.counted }, T0);
            } else {
              const quantity = x.reason === 'sale' || x.reason === 'release' ? -x.q : x.q;
              await store.ledger.book(move({ sku: x.sku, locationId: x.loc, reason: x.reason as MovementInput['reason'], quantity, idempotencyKey: key }), T0);
            }
          }
          // A level row of all zeros and no row at all mean the same: nothing there.
          const strip = (ls: { sku: string; locationId: string; onHand: number; reserved: number }[]) =>
            ls.filter((l) => l.onHand !== 0 || l.reserved !== 0).map((l) => `${l.sku}@${l.locationId}=${l.onHand}/${l.reserved}`).sort();
          expect(strip(await store.ledger.levelsFor(['SKU-1', 'SKU-2']))).toEqual(strip(await store.ledger.recomputeLevels()));
        }),
        { numRuns: 15 },
      );
    });
  });
}
