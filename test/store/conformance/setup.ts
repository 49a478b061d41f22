/** Store conformance, the store itself (migrate, ping, describe) and its locations (`tx.locations`). */
import type { Store } from '../../../server/store/types';
import { T0, at, type Suite } from './fixtures';

export function setupConformance(s: Suite): void {
  let store: Store;
  describe('setup', () => {
    beforeEach(() => ({ store } = s));

    test('migrating again changes nothing, ping answers, and the description holds no password', async () => {
      await store.migrate();
      await store.ping();
      expect(await store.items.get('SKU-1')).toMatchObject({ sku: 'SKU-1', title: 'One' });
      expect(store.describe()).not.toMatch(/:[^/@:]+@/);
    });

    test('locations are created, renamed on ensure, listed by id', async () => {
      await store.locations.ensure([{ id: 'main', name: 'Main shop' }], T0);
      expect(await store.locations.list()).toEqual([
        { id: 'back', name: 'Back room' },
        { id: 'main', name: 'Main shop' },
      ]);
      expect(await store.locations.get('nowhere')).toBeNull();
    });

    test('a location asked for inside a transaction is found again after it (kept once seen), an unknown one is not kept', async () => {
      expect(await store.transaction((tx) => tx.locations.get('main'))).toEqual({ id: 'main', name: 'Main' });
      expect(await store.transaction((tx) => tx.locations.get('later'))).toBeNull();
      await store.locations.ensure([{ id: 'later', name: 'Added later' }], at(1));
      expect(await store.transaction((tx) => tx.locations.get('later'))).toEqual({ id: 'later', name: 'Added later' });
      expect(await store.locations.get('main')).toEqual({ id: 'main', name: 'Main' });
    });
  });
}
