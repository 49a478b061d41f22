/** Store conformance, credentials (`tx.credentials`). */
import type { Store } from '../../../server/store/types';
import { T0, at, type OpenedStore, type Suite } from './fixtures';

export function credentialsConformance(s: Suite): void {
  let store: Store;
  let o: OpenedStore;
  describe('credentials', () => {
    beforeEach(() => ({ store, o } = s));

    const secrets = (n: string) => ({ tokenHash: `hash-${n}`, tokenPrefix: `srt_${n}`, relayNonce: `nonce-${n}`, relaySecretPrefix: `whsec_${n}` });

    test('a credential is stored with its scopes and prefixes, found by its token hash, and listed by id', async () => {
      const a = await store.credentials.create({ name: 'Shop sheet', scopes: ['sidebar'], ...secrets('a') }, T0);
      const b = await store.credentials.create({ name: 'Airtable base', scopes: ['relay'], tokenHash: null, tokenPrefix: null, relayNonce: 'nonce-b', relaySecretPrefix: 'whsec_b' }, at(1));
      expect(a).toEqual({ id: expect.any(Number), name: 'Shop sheet', scopes: ['sidebar'], tokenPrefix: 'srt_a', relaySecretPrefix: 'whsec_a', createdAt: T0, lastUsedAt: null, rotatedAt: null, revokedAt: null });
      expect(b).toMatchObject({ scopes: ['relay'], tokenPrefix: null });
      expect(await store.credentials.byTokenHash('hash-a')).toEqual(a);
      expect(await store.credentials.byTokenHash('hash-nobody')).toBeNull();
      expect(await store.credentials.get(b.id)).toEqual(b);
      expect(await store.credentials.get(b.id + 100)).toBeNull();
      expect((await store.credentials.list()).map((c) => c.name)).toEqual(['Shop sheet', 'Airtable base']);
      expect((await store.credentials.relaying()).map((c) => [c.name, c.relayNonce])).toEqual([
        ['Shop sheet', 'nonce-a'],
        ['Airtable base', 'nonce-b'],
      ]);
      // Nothing secret is in what the store answers: only prefixes.
      expect(JSON.stringify(await store.credentials.list())).not.toMatch(/hash-|nonce-/);
    });

    test('two credentials cannot share a token hash or a relay nonce', async () => {
      await store.credentials.create({ name: 'one', scopes: ['read'], ...secrets('same') }, T0);
      // Read as the database's message: better-sqlite3's error class comes from the first test file
      // that loaded it in this jest worker, so it is not an Error of this file's realm and
      // `rejects.toThrow()` would not recognise it (it failed so in full runs only).
      const second = await store.credentials.create({ name: 'two', scopes: ['read'], ...secrets('same') }, T0).then(
        () => 'stored',
        (err: unknown) => String((err as { message?: unknown }).message ?? err),
      );
      expect(second).toMatch(/unique/i);
      expect(await store.credentials.list()).toHaveLength(1);
    });

    test('rotating replaces the hash and nonce at once; revoking keeps the first time and stops rotation; use is recorded', async () => {
      const a = await store.credentials.create({ name: 'Shop sheet', scopes: ['sidebar'], ...secrets('a') }, T0);
      const rotated = await store.credentials.rotate(a.id, secrets('a2'), at(5));
      expect(rotated).toMatchObject({ id: a.id, tokenPrefix: 'srt_a2', relaySecretPrefix: 'whsec_a2', rotatedAt: at(5), revokedAt: null });
      expect(await store.credentials.byTokenHash('hash-a')).toBeNull();
      expect(await store.credentials.byTokenHash('hash-a2')).toMatchObject({ id: a.id });
      expect((await store.credentials.relaying()).map((c) => c.relayNonce)).toEqual(['nonce-a2']);

      await store.credentials.touch(a.id, at(6));
      expect(await store.credentials.get(a.id)).toMatchObject({ lastUsedAt: at(6) });

      expect(await store.credentials.revoke(a.id, at(7))).toMatchObject({ revokedAt: at(7) });
      expect(await store.credentials.revoke(a.id, at(8))).toMatchObject({ revokedAt: at(7) });
      expect(await store.credentials.revoke(a.id + 100, at(8))).toBeNull();
      expect(await store.credentials.relaying()).toEqual([]);
      // A revoked credential is still found by its hash (so the hub can say it was revoked) but cannot be rotated back to life.
      expect(await store.credentials.byTokenHash('hash-a2')).toMatchObject({ revokedAt: at(7) });
      expect(await store.credentials.rotate(a.id, secrets('a3'), at(9))).toBeNull();
      expect(await store.credentials.get(a.id)).toMatchObject({ tokenPrefix: 'srt_a2', revokedAt: at(7) });
    });

    test('a revocation made through one store is seen at once by another on the same database', async () => {
      const other = await o.second();
      const a = await store.credentials.create({ name: 'Shop sheet', scopes: ['sidebar'], ...secrets('x') }, T0);
      expect(await other.credentials.byTokenHash('hash-x')).toMatchObject({ revokedAt: null });
      try {
        await other.credentials.revoke(a.id, at(1));
        expect(await store.credentials.byTokenHash('hash-x')).toMatchObject({ revokedAt: at(1) });
      } finally {
        await other.close();
      }
    });
  });
}
