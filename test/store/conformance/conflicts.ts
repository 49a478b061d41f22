/** Store conformance, conflicts (`tx.conflicts`), and the movements of one event (`tx.ledger.movementsByEvent`). */
import type { Store } from '../../../server/store/types';
import { T0, at, move, type Suite } from './fixtures';

export function conflictsConformance(s: Suite): void {
  let store: Store;
  describe('conflicts', () => {
    beforeEach(() => ({ store } = s));

    const conflict = (key: string, sku = 'SKU-1') => ({ key, eventId: 7, sku, locationId: 'main', sheetShowed: 10, typed: 12, hubHad: 8, source: 'sheet', actor: 'mia@example.com', editedAt: T0 });

    test('a conflict is stored once per edit key, even when recorded twice at once', async () => {
      const [a, b] = await Promise.all([store.conflicts.record(conflict('edit-1'), at(1)), store.conflicts.record(conflict('edit-1'), at(2))]);
      expect([a.created, b.created].sort()).toEqual([false, true]);
      expect(a.conflict.id).toBe(b.conflict.id);
      expect(await store.conflicts.get(a.conflict.id)).toEqual({ ...conflict('edit-1'), id: a.conflict.id, foundAt: a.created ? at(1) : at(2), status: 'open', resolvedAt: null, resolvedBy: null, movementId: null, resolution: null });
      expect(await store.conflicts.byKey('edit-1')).toEqual(await store.conflicts.get(a.conflict.id));
      expect(await store.conflicts.byKey('nope')).toBeNull();
    });

    test('a conflict is decided once; listed newest first by status and SKU', async () => {
      const one = (await store.conflicts.record(conflict('e-1'), at(1))).conflict;
      const two = (await store.conflicts.record(conflict('e-2', 'SKU-2'), at(2))).conflict;
      expect(await store.conflicts.resolve(one.id, { status: 'accepted', resolvedBy: 'owner', movementId: 5, resolution: 'Accepted.' }, at(3))).toBe(true);
      expect(await store.conflicts.resolve(one.id, { status: 'rejected', resolvedBy: 'someone else', movementId: null, resolution: 'Rejected.' }, at(4))).toBe(false);
      expect(await store.conflicts.get(one.id)).toMatchObject({ status: 'accepted', resolvedBy: 'owner', movementId: 5, resolvedAt: at(3), resolution: 'Accepted.' });
      expect((await store.conflicts.list({ limit: 10 })).map((c) => c.id)).toEqual([two.id, one.id]);
      expect((await store.conflicts.list({ limit: 10, status: 'open' })).map((c) => c.id)).toEqual([two.id]);
      expect((await store.conflicts.list({ limit: 10, sku: 'SKU-1' })).map((c) => c.id)).toEqual([one.id]);
      expect((await store.conflicts.list({ limit: 1, cursor: two.id })).map((c) => c.id)).toEqual([one.id]);
    });

    test('the movements of one event, oldest first', async () => {
      await store.ledger.book(move({ quantity: 3, eventId: 41 }), T0);
      await store.ledger.book(move({ quantity: -1, reason: 'sale', eventId: 42 }), T0);
      await store.ledger.book(move({ quantity: 2, eventId: 41 }), T0);
      expect((await store.ledger.movementsByEvent(41)).map((m) => m.quantity)).toEqual([3, 2]);
      expect(await store.ledger.movementsByEvent(43)).toEqual([]);
    });
  });
}
