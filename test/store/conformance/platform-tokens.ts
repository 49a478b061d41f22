/** Store conformance, platform tokens: versioned writes and the refresh lease (`tx.platformTokens`). */
import type { Store } from '../../../server/store/types';
import { T0, at, type OpenedStore, type Suite } from './fixtures';

export function platformTokensConformance(s: Suite): void {
  let store: Store;
  let o: OpenedStore;
  describe('platform tokens (docs/credentials-oauth.md)', () => {
    beforeEach(() => ({ store, o } = s));

    test('a write only over the version it read: the first, a stale one refused with nothing changed, a new authorisation over anything', async () => {
      expect(await store.platformTokens.get('ch')).toBeNull();
      expect(await store.platformTokens.save('ch', 'sealed-1', null, T0)).toBe(1);
      // A second first write (another process fetched too): refused, the first kept.
      expect(await store.platformTokens.save('ch', 'sealed-other', null, at(1))).toBeNull();
      expect(await store.platformTokens.save('ch', 'sealed-2', 1, at(2))).toBe(2);
      // Written over version 1 after version 2 exists: refused, version 2 kept.
      expect(await store.platformTokens.save('ch', 'sealed-stale', 1, at(3))).toBeNull();
      expect(await store.platformTokens.get('ch')).toEqual({ channelId: 'ch', sealed: 'sealed-2', version: 2, updatedAt: at(2), leaseOwner: null, leaseUntil: null });
      expect(await store.platformTokens.save('ch', 'sealed-3', 'any', at(4))).toBe(3);
      expect(await store.platformTokens.save('new', 'sealed-n', 'any', at(4))).toBe(1);
      expect(await store.platformTokens.get('ch')).toMatchObject({ sealed: 'sealed-3', version: 3 });
    });

    test('one refresh lease at a time, at the version read; renewed by its owner, taken over when it runs out, ended by the write', async () => {
      await store.platformTokens.save('ch', 'sealed-1', null, T0);
      const other = await o.second();
      try {
        expect(await store.platformTokens.claimRefresh('ch', 1, 'hub-a', at(30_000), T0)).toBe(true);
        expect(await other.platformTokens.claimRefresh('ch', 1, 'hub-b', at(31_000), at(1_000))).toBe(false);
        expect(await store.platformTokens.claimRefresh('ch', 1, 'hub-a', at(40_000), at(2_000))).toBe(true);
        expect(await other.platformTokens.get('ch')).toMatchObject({ leaseOwner: 'hub-a', leaseUntil: at(40_000), version: 1 });
        // Another process's release does not end hub-a's lease.
        await other.platformTokens.releaseRefresh('ch', 'hub-b');
        expect(await store.platformTokens.get('ch')).toMatchObject({ leaseOwner: 'hub-a' });
        // hub-a died: once its lease has run out, hub-b takes over.
        expect(await other.platformTokens.claimRefresh('ch', 1, 'hub-b', at(80_000), at(40_000))).toBe(true);
        // A claim at a version that is no longer stored fails.
        expect(await store.platformTokens.claimRefresh('ch', 0, 'hub-a', at(90_000), at(90_000))).toBe(false);
        expect(await other.platformTokens.save('ch', 'sealed-2', 1, at(41_000))).toBe(2);
        expect(await store.platformTokens.get('ch')).toMatchObject({ sealed: 'sealed-2', version: 2, leaseOwner: null, leaseUntil: null });
        expect(await store.platformTokens.claimRefresh('ch', 2, 'hub-a', at(100_000), at(42_000))).toBe(true);
        await store.platformTokens.releaseRefresh('ch', 'hub-a');
        expect(await store.platformTokens.get('ch')).toMatchObject({ version: 2, leaseOwner: null, leaseUntil: null });
        expect(await store.platformTokens.claimRefresh('missing', 1, 'hub-a', at(1), T0)).toBe(false);
      } finally {
        await other.close();
      }
    });
  });
}
