/** Store conformance, alerts (`tx.alerts`): one open per kind, item, location and channel. */
import type { Store } from '../../../server/store/types';
import { T0, at, type Suite } from './fixtures';

export function alertsConformance(s: Suite): void {
  let store: Store;
  describe('alerts', () => {
    beforeEach(() => ({ store } = s));

    test('one open alert per kind, item and location; resolving counts; listing filters by status', async () => {
      const a = await store.alerts.open({ kind: 'low_stock', severity: 'warning', sku: 'SKU-1', locationId: 'main', message: 'low' }, T0);
      expect(a).toMatchObject({ kind: 'low_stock', status: 'open', openedAt: T0 });
      expect(await store.alerts.open({ kind: 'low_stock', severity: 'warning', sku: 'SKU-1', locationId: 'main', message: 'low again' }, T0)).toBeNull();
      await store.alerts.open({ kind: 'low_stock', severity: 'warning', sku: 'SKU-1', locationId: 'back', message: 'low there' }, T0);
      expect(await store.alerts.resolve('SKU-1', 'main', ['low_stock', 'oversold'], at(1))).toBe(1);
      expect(await store.alerts.resolve('SKU-1', 'main', [], at(1))).toBe(0);
      expect((await store.alerts.list({ limit: 10, status: 'resolved' })).map((x) => x.locationId)).toEqual(['main']);
      expect((await store.alerts.list({ limit: 10, status: 'open' })).map((x) => x.locationId)).toEqual(['back']);
      expect(await store.alerts.open({ kind: 'low_stock', severity: 'warning', sku: 'SKU-1', locationId: 'main', message: 'low once more' }, at(2))).not.toBeNull();
    });
  });
}
