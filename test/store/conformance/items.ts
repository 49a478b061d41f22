/** Store conformance, items (`tx.items`), and an item read with its level (`tx.ledger.itemAt`). */
import type { Store } from '../../../server/store/types';
import { T0, at, type Suite } from './fixtures';

export function itemsConformance(s: Suite): void {
  let store: Store;
  describe('items', () => {
    beforeEach(() => ({ store } = s));

    test('an item and its level at one location are read together; none where there is none', async () => {
      await store.ledger.book({ sku: 'SKU-1', locationId: 'main', quantity: 4, reason: 'receipt', source: 'api', idempotencyKey: 'ia-1', occurredAt: T0 }, at(1));
      expect(await store.ledger.itemAt('SKU-1', 'main')).toEqual({
        item: expect.objectContaining({ sku: 'SKU-1', title: 'One', status: 'active' }),
        level: { sku: 'SKU-1', locationId: 'main', onHand: 4, reserved: 0, updatedAt: at(1) },
      });
      expect(await store.ledger.itemAt('SKU-1', 'back')).toEqual({ item: expect.objectContaining({ sku: 'SKU-1' }), level: null });
      expect(await store.ledger.itemAt('NOPE', 'main')).toEqual({ item: null, level: null });
      expect(await store.transaction((tx) => tx.ledger.itemAt('SKU-1', 'main'))).toEqual(await store.ledger.itemAt('SKU-1', 'main'));
    });

    test('upsert creates, updates only the fields given, archive hides, upsert brings it back', async () => {
      const updated = await store.items.upsert({ sku: 'SKU-1', lowStockThreshold: 3 }, at(1000));
      expect(updated).toMatchObject({ title: 'One', lowStockThreshold: 3, status: 'active', createdAt: T0, updatedAt: at(1000) });
      expect(await store.items.archive('SKU-1', at(2000))).toMatchObject({ status: 'archived', archivedAt: at(2000) });
      expect(await store.items.archive('NOPE', at(2000))).toBeNull();
      expect(await store.items.upsert({ sku: 'SKU-1' }, at(3000))).toMatchObject({ status: 'active', archivedAt: null, title: 'One' });
    });

    test('items page by SKU with a cursor, and filter by status', async () => {
      for (const s of ['A', 'B', 'C', 'D']) await store.items.upsert({ sku: s }, T0);
      await store.items.archive('C', T0);
      const first = await store.items.list({ limit: 2 });
      expect(first.map((i) => i.sku)).toEqual(['A', 'B']);
      const next = await store.items.list({ limit: 10, cursor: 'B' });
      expect(next.map((i) => i.sku)).toEqual(['C', 'D', 'SKU-1', 'SKU-2']);
      expect((await store.items.list({ limit: 10, status: 'archived' })).map((i) => i.sku)).toEqual(['C']);
      expect((await store.items.list({ limit: 10, status: 'active' })).map((i) => i.sku)).not.toContain('C');
    });
  });
}
