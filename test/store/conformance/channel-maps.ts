/** Store conformance, channel maps: listings (`tx.listings`) and channel levels (`tx.channelLevels`), with a push and a sale crossing. */
import type { Store } from '../../../server/store/types';
import { T0, at, type Suite } from './fixtures';

export function channelMapsConformance(s: Suite): void {
  let store: Store;
  describe('channel maps', () => {
    beforeEach(() => ({ store } = s));

    test('discovery replaces the SKU map, keeps hidden flags, and finds listings by any platform id', async () => {
      await store.listings.replace('web', [
        { sku: 'SKU-1', productId: 'p1', variantId: 'v1', inventoryItemId: 'i1', title: 'One' },
        { sku: 'SKU-2', productId: 'p2', variantId: 'v2', inventoryItemId: null, title: 'Two' },
      ], T0);
      await store.listings.setHidden('web', 'SKU-1', true, at(1));
      await store.listings.replace('web', [{ sku: 'SKU-1', productId: 'p1', variantId: 'v1b', inventoryItemId: 'i1', title: 'One' }], at(2));
      expect(await store.listings.list('web')).toEqual([expect.objectContaining({ sku: 'SKU-1', variantId: 'v1b', hidden: true })]);
      expect((await store.listings.forRef('web', { variantId: 'v1b' }))?.sku).toBe('SKU-1');
      expect((await store.listings.forRef('web', { inventoryItemId: 'i1' }))?.sku).toBe('SKU-1');
      expect((await store.listings.forRef('web', { productId: 'p1' }))?.sku).toBe('SKU-1');
      expect(await store.listings.forRef('web', { variantId: 'v2' })).toBeNull();
      expect(await store.listings.forRef('other', { variantId: 'v1b' })).toBeNull();
      expect(await store.listings.forSku('web', 'SKU-2')).toBeNull();
      await store.listings.replace('shop', [{ sku: 'SKU-1', productId: 'q1', variantId: 'w1', inventoryItemId: null, title: 'One' }], at(3));
      expect((await store.listings.allForSku('SKU-1')).map((l) => [l.channelId, l.variantId])).toEqual([
        ['shop', 'w1'],
        ['web', 'v1b'],
      ]);
      expect(await store.listings.allForSku('SKU-2')).toEqual([]);
    });

    test('what was pushed and what was seen are kept apart per channel, item and location', async () => {
      await store.channelLevels.record('web', 'SKU-1', 'main', 'pushed', 5, T0);
      await store.channelLevels.record('web', 'SKU-1', 'main', 'observed', 4, at(1));
      await store.channelLevels.record('web', 'SKU-1', 'main', 'pushed', 3, at(2));
      // A push the channel applied is also what the hub now expects it to show.
      expect(await store.channelLevels.get('web', 'SKU-1', 'main')).toEqual({
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
        stray: null,
        strayBookedDelta: null,
        strayAt: null,
        basis: null,
        pushedBlind: false,
      });
      expect(await store.channelLevels.list('web', [])).toEqual([]);
      expect(await store.channelLevels.list('web', ['SKU-1'])).toHaveLength(1);
    });

    test('whether our last number there was written by us: a push found already there at another level was not; at the level we wrote, it still was', async () => {
      await store.channelLevels.record('web', 'SKU-9', 'main', 'pushed', 5, T0);
      expect(await store.channelLevels.get('web', 'SKU-9', 'main')).toMatchObject({ pushed: 5, pushedWrote: true });
      // Found already there at the number we wrote: nothing new, still our write showing.
      await store.channelLevels.record('web', 'SKU-9', 'main', 'pushed', 5, at(1), undefined, false);
      expect(await store.channelLevels.get('web', 'SKU-9', 'main')).toMatchObject({ pushed: 5, pushedWrote: true });
      // Found already there at another number: the channel moved there by itself.
      await store.channelLevels.record('web', 'SKU-9', 'main', 'pushed', 2, at(2), undefined, false);
      expect(await store.channelLevels.get('web', 'SKU-9', 'main')).toMatchObject({ pushed: 2, pushedWrote: false, pushedAt: at(2) });
      await store.channelLevels.record('web', 'SKU-9', 'main', 'pushed', 4, at(3));
      expect(await store.channelLevels.get('web', 'SKU-9', 'main')).toMatchObject({ pushed: 4, pushedWrote: true });
      await store.channelLevels.update('web', 'SKU-9', 'main', { pushed: 1, pushedWrote: false });
      expect(await store.channelLevels.get('web', 'SKU-9', 'main')).toMatchObject({ pushed: 1, pushedWrote: false });
      // A first push that finds its level already there.
      await store.channelLevels.record('web', 'SKU-8', 'main', 'pushed', 3, T0, undefined, false);
      expect(await store.channelLevels.get('web', 'SKU-8', 'main')).toMatchObject({ pushed: 3, pushedWrote: false });
    });

    test('attribution state: fields set one by one, discrepancies listed by age, and a push that matches the observation closes its discrepancy', async () => {
      await store.channelLevels.update('pos', 'SKU-1', 'main', { expected: 5, observed: 3, observedPlatformAt: at(1), pendingSince: at(1) });
      await store.channelLevels.update('pos', 'SKU-2', 'main', { expected: 2, observed: 1, pendingSince: at(5) });
      await store.channelLevels.update('pos', 'SKU-3', 'main', { driftDown: -2, driftUp: 3, driftThrough: at(3) });
      expect(await store.channelLevels.get('pos', 'SKU-3', 'main')).toMatchObject({ driftDown: -2, driftUp: 3, driftThrough: at(3), expected: null, pendingSince: null });
      expect((await store.channelLevels.discrepancies(at(1), 10)).map((l) => l.sku)).toEqual(['SKU-1']);
      expect((await store.channelLevels.discrepancies(at(9), 10)).map((l) => l.sku)).toEqual(['SKU-1', 'SKU-2']);
      expect((await store.channelLevels.discrepancies(at(9), 1)).map((l) => l.sku)).toEqual(['SKU-1']);
      // A push of another level leaves the discrepancy open; a push of the observed level closes it.
      await store.channelLevels.record('pos', 'SKU-1', 'main', 'pushed', 4, at(6));
      expect(await store.channelLevels.get('pos', 'SKU-1', 'main')).toMatchObject({ expected: 4, pendingSince: at(1) });
      await store.channelLevels.record('pos', 'SKU-1', 'main', 'pushed', 3, at(7));
      expect(await store.channelLevels.get('pos', 'SKU-1', 'main')).toMatchObject({ expected: 3, observed: 3, pendingSince: null });
      expect((await store.channelLevels.discrepancies(at(9), 10)).map((l) => l.sku)).toEqual(['SKU-2']);
      await store.channelLevels.update('pos', 'SKU-2', 'main', { pendingSince: null });
      expect(await store.channelLevels.discrepancies(at(9), 10)).toEqual([]);
    });
  });

  describe('a push and a sale crossing (docs/attribution.md)', () => {
    beforeEach(() => ({ store } = s));

    test("the channel's own sales booked while a push was on its way are counted on top of the level pushed", async () => {
      await store.channelLevels.record('web', 'SKU-1', 'main', 'pushed', 10, T0, 0);
      // The push of 9 is built (the row read: bookedDelta 0); the channel applies it; a customer then
      // buys one there, and that sale is booked before the push's answer is recorded.
      const built = await store.channelLevels.get('web', 'SKU-1', 'main');
      await store.channelLevels.update('web', 'SKU-1', 'main', { expected: 9, bookedDelta: built!.bookedDelta - 1 });
      await store.channelLevels.record('web', 'SKU-1', 'main', 'pushed', 9, at(1), built!.bookedDelta);
      // The channel shows 8: that is what the hub must expect, or the sale's level report reads as an edit.
      expect(await store.channelLevels.get('web', 'SKU-1', 'main')).toMatchObject({ pushed: 9, expected: 8, bookedDelta: -1 });
      // Its level report arrives (8, an open discrepancy): the next push answered closes it only when it explains it.
      await store.channelLevels.update('web', 'SKU-1', 'main', { observed: 8, pendingSince: at(2) });
      await store.channelLevels.record('web', 'SKU-1', 'main', 'pushed', 8, at(3), -1);
      expect(await store.channelLevels.get('web', 'SKU-1', 'main')).toMatchObject({ expected: 8, pendingSince: null });
    });

    test('a push on its way is written down before it is sent, and its answer clears it', async () => {
      await store.channelLevels.update('web', 'SKU-2', 'main', { bookedDelta: -3, pushing: 6, pushingBookedDelta: -3 });
      expect(await store.channelLevels.get('web', 'SKU-2', 'main')).toMatchObject({ pushing: 6, pushingBookedDelta: -3 });
      await store.channelLevels.record('web', 'SKU-2', 'main', 'pushed', 6, at(1), -3);
      expect(await store.channelLevels.get('web', 'SKU-2', 'main')).toMatchObject({ pushed: 6, expected: 6, pushing: null, pushingBookedDelta: null });
    });

    test('a push left unanswered and superseded is kept as a stray write when its answer clears the later one', async () => {
      await store.channelLevels.update('web', 'SKU-3', 'main', { bookedDelta: -2, pushing: 7, pushingBookedDelta: -2, stray: 9, strayBookedDelta: -1, strayAt: at(1) });
      await store.channelLevels.record('web', 'SKU-3', 'main', 'pushed', 7, at(2), -2);
      expect(await store.channelLevels.get('web', 'SKU-3', 'main')).toMatchObject({ pushed: 7, pushing: null, stray: 9, strayBookedDelta: -1, strayAt: at(1) });
      await store.channelLevels.update('web', 'SKU-3', 'main', { stray: null, strayBookedDelta: null, strayAt: null });
      expect(await store.channelLevels.get('web', 'SKU-3', 'main')).toMatchObject({ stray: null, strayBookedDelta: null, strayAt: null });
    });

    test('what a level stands on (basis) is kept as the connector said it, through a push recorded and a level seen, until said again', async () => {
      await store.channelLevels.update('oci', 'SKU-4', 'main', { basis: 'oci:11/1' });
      await store.channelLevels.record('oci', 'SKU-4', 'main', 'pushed', 10, at(1), 0);
      await store.channelLevels.record('oci', 'SKU-4', 'main', 'observed', 9, at(2));
      expect(await store.channelLevels.get('oci', 'SKU-4', 'main')).toMatchObject({ pushed: 10, observed: 9, basis: 'oci:11/1' });
      await store.channelLevels.update('oci', 'SKU-4', 'main', { basis: 'oci:10/1', pushedBlind: true });
      expect((await store.channelLevels.list('oci', ['SKU-4']))[0]).toMatchObject({ basis: 'oci:10/1', pushedBlind: true });
      await store.channelLevels.update('oci', 'SKU-4', 'main', { pushedBlind: false });
      expect(await store.channelLevels.get('oci', 'SKU-4', 'main')).toMatchObject({ pushedBlind: false });
    });
  });
}
