/** Store conformance, the inbox (`tx.inbox`): dedupe, the claim in order, preparing, deferring, requeueing. */
import type { Store } from '../../../server/store/types';
import { T0, at, type OpenedStore, type Suite } from './fixtures';

export function inboxConformance(s: Suite): void {
  let store: Store;
  let o: OpenedStore;
  describe('inbox', () => {
    beforeEach(() => ({ store, o } = s));

    const event = (key: string) => ({ dedupeKey: key, source: 'relay', kind: 'adjustment', headers: { 'webhook-id': key }, body: `{"n":"${key}"}` });

    test('an event is stored once per dedupe key; a second insert returns null', async () => {
      const first = await store.inbox.insert(event('e-1'), T0);
      expect(first).toEqual({ id: expect.any(Number) });
      expect(await store.inbox.insert(event('e-1'), at(5))).toBeNull();
      expect(await store.inbox.byKey('e-1')).toMatchObject({ id: first!.id, status: 'received', headers: { 'webhook-id': 'e-1' }, body: '{"n":"e-1"}', attempts: 0 });
    });

    test('a batch is stored in its order, once per key: a key seen before or earlier in the batch gives null', async () => {
      const before = await store.inbox.insert(event('bt-old'), T0);
      const got = await store.inbox.insertBatch([event('bt-1'), event('bt-old'), event('bt-2'), event('bt-1'), event('bt-3')], at(1));
      expect(got.map((g) => (g ? 'stored' : 'duplicate'))).toEqual(['stored', 'duplicate', 'stored', 'duplicate', 'stored']);
      const ids = [got[0]!.id, got[2]!.id, got[4]!.id];
      expect(ids[0]).toBeGreaterThan(before!.id);
      expect([...ids].sort((x, y) => x - y)).toEqual(ids);
      // Kept: the first copy of each key, as sent; the earlier event untouched.
      expect(await store.inbox.byKey('bt-1')).toMatchObject({ id: ids[0], status: 'received', body: '{"n":"bt-1"}', receivedAt: at(1) });
      expect(await store.inbox.byKey('bt-old')).toMatchObject({ id: before!.id, receivedAt: T0 });
      expect(await store.inbox.insertBatch([], at(2))).toEqual([]);
    });

    test('a batch is all or nothing: a row the database refuses stores none of the batch', async () => {
      const bad = { ...event('bt-bad'), body: null as unknown as string };
      const outcome = await store.inbox.insertBatch([event('bt-ok'), bad], at(1)).then(
        (stored) => ({ stored }),
        (err: Error) => ({ error: err.message }),
      );
      expect(outcome).toEqual({ error: expect.stringMatching(/NOT NULL|null value/i) });
      expect(await store.inbox.byKey('bt-ok')).toBeNull();
      expect(await store.inbox.byKey('bt-bad')).toBeNull();
    });

    test('claims come oldest first, count attempts, and a finished entry is not claimed again', async () => {
      const a = await store.inbox.insert(event('a'), T0);
      const b = await store.inbox.insert(event('b'), T0);
      const claimed = await store.transaction(async (tx) => {
        const e = await tx.inbox.claim();
        await tx.inbox.finish(e!.id, 'processed', { ok: true }, at(1));
        return e;
      });
      expect(claimed).toMatchObject({ id: a!.id, attempts: 1 });
      expect(await store.inbox.get(a!.id)).toMatchObject({ status: 'processed', outcome: { ok: true }, processedAt: at(1) });
      const nextOne = await store.transaction((tx) => tx.inbox.claim());
      expect(nextOne!.id).toBe(b!.id);
    });

    test('an entry that waits for its platform is passed over until its time, its failed try counted, and finished without its wait', async () => {
      // Whatever earlier tests left waiting is finished first, so this test's entries are the oldest.
      for (let e = await store.transaction((tx) => tx.inbox.claim()); e; e = await store.transaction((tx) => tx.inbox.claim())) await store.inbox.finish(e.id, 'processed', null, T0);
      const w = await store.inbox.insert(event('wait-1'), T0);
      const n = await store.inbox.insert(event('wait-2'), T0);
      // Its try failed (the claim was undone with its transaction): it waits until at(10).
      await store.inbox.defer(w!.id, at(10), { status: 'received', waiting: 'The store answered 500.', retryAt: at(10) });
      expect(await store.inbox.get(w!.id)).toMatchObject({ status: 'received', retryAt: at(10), attempts: 1, outcome: { waiting: 'The store answered 500.' } });
      // Before its time the one behind it is claimed; at its time it is claimed again.
      const before = await store.transaction(async (tx) => {
        const e = await tx.inbox.claim(at(9));
        if (e) await tx.inbox.finish(e.id, 'processed', null, at(9));
        return e;
      });
      expect(before!.id).toBe(n!.id);
      expect(await store.transaction((tx) => tx.inbox.claim(at(9)))).toBeNull();
      const due = await store.transaction(async (tx) => {
        const e = await tx.inbox.claim(at(10));
        if (e) await tx.inbox.finish(e.id, 'processed', { ok: true }, at(10));
        return e;
      });
      expect(due).toMatchObject({ id: w!.id, attempts: 2 });
      expect(await store.inbox.get(w!.id)).toMatchObject({ status: 'processed', retryAt: null });
    });

    test('a claim rolled back leaves the entry waiting for the next claim', async () => {
      const a = await store.inbox.insert(event('rb'), T0);
      await expect(
        store.transaction(async (tx) => {
          await tx.inbox.claim();
          throw new Error('crash while booking');
        }),
      ).rejects.toThrow();
      expect(await store.inbox.get(a!.id)).toMatchObject({ status: 'received', attempts: 0 });
    });

    test('only one transaction at a time holds the inbox, so events are booked in the order received', async () => {
      await store.inbox.insert(event('x1'), T0);
      await store.inbox.insert(event('x2'), T0);
      const other = await o.second();
      try {
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let firstClaimed!: () => void;
        const claimedSignal = new Promise<void>((r) => (firstClaimed = r));
        const first = store.transaction(async (tx) => {
          const e = await tx.inbox.claim();
          firstClaimed();
          await held;
          await tx.inbox.finish(e!.id, 'processed', null, T0);
          return e!.dedupeKey;
        });
        await claimedSignal;
        if (store.dialect === 'postgres') {
          // Another process's claim gets nothing while the first holds the inbox (advisory lock).
          expect(await other.transaction((tx) => tx.inbox.claim())).toBeNull();
          release();
        } else {
          // SQLite has one writer (the hub runs one process on it): a second claim waits for the
          // first transaction to end, then takes the next entry.
          const second = store.transaction((tx) => tx.inbox.claim());
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
      for (const k of ['l1', 'l2', 'l3']) ids.push((await store.inbox.insert(event(k), T0))!.id);
      await store.inbox.finish(ids[0]!, 'unmatched', null, T0);
      await store.inbox.finish(ids[1]!, 'processed', null, T0);
      expect((await store.inbox.list({ limit: 2 })).map((e) => e.id)).toEqual([ids[2], ids[1]]);
      expect((await store.inbox.list({ limit: 10, cursor: ids[1] })).map((e) => e.id)).toEqual([ids[0]]);
      expect((await store.inbox.list({ limit: 10, status: 'unmatched' })).map((e) => e.id)).toEqual([ids[0]]);
      expect(await store.inbox.count()).toEqual({ received: 1, unmatched: 1, processed: 1 });
      expect(await store.inbox.requeue(ids[1]!)).toBe(false);
      expect(await store.inbox.requeue(ids[0]!)).toBe(true);
      expect(await store.inbox.get(ids[0]!)).toMatchObject({ status: 'received', processedAt: null });
    });
  });
}
