/** Store conformance, the outbox (`tx.outbox`): leases, retries, dead letters and coalescing. */
import type { Store } from '../../../server/store/types';
import { T0, at, type Suite } from './fixtures';

export function outboxConformance(s: Suite): void {
  let store: Store;
  describe('outbox', () => {
    beforeEach(() => ({ store } = s));

    test('a coalesce key keeps one waiting row: a newer payload replaces the waiting one', async () => {
      await store.outbox.enqueue({ sink: 's', topic: 'level.changed', coalesceKey: 'k', payload: { n: 1 } }, T0);
      await store.outbox.enqueue({ sink: 's', topic: 'level.changed', coalesceKey: 'k', payload: { n: 2 } }, at(1));
      await store.outbox.enqueue({ sink: 's', topic: 'alert.raised', payload: { a: 1 } }, at(2));
      await store.outbox.enqueue({ sink: 's', topic: 'alert.raised', payload: { a: 2 } }, at(3));
      const rows = await store.outbox.list({ limit: 10 });
      expect(rows).toHaveLength(3);
      expect(rows.find((r) => r.coalesceKey === 'k')!.payload).toEqual({ n: 2 });
    });

    test('several rows in one go: in order, one waiting row per key (the last given wins), a waiting row of the same key is replaced', async () => {
      await store.outbox.enqueue({ sink: 's', topic: 'level.push', coalesceKey: 'a', payload: { n: 0 } }, T0);
      await store.outbox.enqueueAll(
        [
          { sink: 's', topic: 'level.push', coalesceKey: 'a', payload: { n: 1 } },
          { sink: 's', topic: 'level.push', coalesceKey: 'b', payload: { n: 1 } },
          { sink: 's', topic: 'alert.raised', payload: { x: 1 } },
          { sink: 's', topic: 'level.push', coalesceKey: 'b', payload: { n: 2 } },
          { sink: 't', topic: 'alert.raised', payload: { x: 2 } },
        ],
        at(1),
      );
      await store.outbox.enqueueAll([], at(2));
      const rows = (await store.outbox.list({ limit: 10 })).sort((x, y) => x.id - y.id);
      expect(rows.map((r) => [r.sink, r.coalesceKey, r.payload])).toEqual([
        ['s', 'a', { n: 1 }],
        ['s', null, { x: 1 }],
        ['s', 'b', { n: 2 }],
        ['t', null, { x: 2 }],
      ]);
      expect(rows[0]!.updatedAt).toBe(at(1));
    });

    test('a row being delivered is not changed: a newer state queues behind it and waits until it is done', async () => {
      await store.outbox.enqueue({ sink: 's', topic: 't', coalesceKey: 'k', payload: { n: 1 } }, T0);
      const [working] = await store.outbox.claim(10, 60_000, T0);
      await store.outbox.enqueue({ sink: 's', topic: 't', coalesceKey: 'k', payload: { n: 2 } }, at(1));
      expect((await store.outbox.get(working!.id))!.payload).toEqual({ n: 1 });
      expect(await store.outbox.claim(10, 60_000, at(2))).toEqual([]);
      await store.outbox.complete(working!.id, at(3));
      const [next] = await store.outbox.claim(10, 60_000, at(4));
      expect(next!.payload).toEqual({ n: 2 });
    });

    test('claims respect the limit and the due time, and a lease that ran out makes the row due again', async () => {
      for (let i = 0; i < 3; i++) await store.outbox.enqueue({ sink: 's', topic: 't', payload: { i } }, T0);
      const batch = await store.outbox.claim(2, 1000, T0);
      expect(batch.map((r) => (r.payload as { i: number }).i)).toEqual([0, 1]);
      expect(batch[0]).toMatchObject({ status: 'working', attempts: 1, lockedUntil: at(1000) });
      const rest = await store.outbox.claim(10, 1000, at(10));
      expect(rest.map((r) => (r.payload as { i: number }).i)).toEqual([2]);
      // The worker holding the first two died; after its lease they are claimed again.
      expect(await store.outbox.claim(10, 1000, at(500))).toEqual([]);
      const again = await store.outbox.claim(10, 1000, at(1500));
      expect(again.map((r) => (r.payload as { i: number }).i)).toEqual([0, 1, 2]);
      expect(again[0]!.attempts).toBe(2);
    });

    test('a row whose worker died is delivered before the newer state of its key, never beside it', async () => {
      await store.outbox.enqueue({ sink: 's', topic: 't', coalesceKey: 'k', payload: { n: 1 } }, T0);
      await store.outbox.claim(10, 1000, T0);
      await store.outbox.enqueue({ sink: 's', topic: 't', coalesceKey: 'k', payload: { n: 2 } }, at(1));
      const [first, ...others] = await store.outbox.claim(10, 1000, at(5000));
      expect(first!.payload).toEqual({ n: 1 });
      expect(others).toEqual([]);
      await store.outbox.complete(first!.id, at(5001));
      expect((await store.outbox.claim(10, 1000, at(5002)))[0]!.payload).toEqual({ n: 2 });
    });

    test('a worker whose lease ran out can neither complete nor fail the row another worker has taken over', async () => {
      await store.outbox.enqueue({ sink: 's', topic: 't', payload: {} }, T0);
      const [slow] = await store.outbox.claim(1, 1000, T0);
      const [fresh] = await store.outbox.claim(1, 1000, at(1500));
      expect(fresh!.id).toBe(slow!.id);
      expect(await store.outbox.complete(slow!.id, at(1600), slow!.lockedUntil)).toBe(false);
      expect(await store.outbox.fail(slow!.id, 'late failure', at(9000), at(1600), slow!.lockedUntil)).toBe('working');
      expect(await store.outbox.get(slow!.id)).toMatchObject({ status: 'working', lockedUntil: fresh!.lockedUntil, lastError: null });
      expect(await store.outbox.complete(fresh!.id, at(1700), fresh!.lockedUntil)).toBe(true);
      expect((await store.outbox.get(slow!.id))!.status).toBe('done');
    });

    test('a failure reschedules, a final failure makes a dead letter, and a retried dead letter is due now', async () => {
      await store.outbox.enqueue({ sink: 's', topic: 't', payload: {} }, T0);
      const [row] = await store.outbox.claim(1, 1000, T0);
      expect(await store.outbox.fail(row!.id, 'HTTP 500', at(60_000), at(1))).toBe('pending');
      expect(await store.outbox.claim(1, 1000, at(30_000))).toEqual([]);
      const [again] = await store.outbox.claim(1, 1000, at(60_000));
      expect(await store.outbox.fail(again!.id, 'HTTP 500 again', null, at(60_001))).toBe('dead');
      expect(await store.outbox.get(row!.id)).toMatchObject({ status: 'dead', lastError: 'HTTP 500 again', attempts: 2 });
      expect(await store.outbox.count()).toEqual({ dead: 1 });
      expect(await store.outbox.retryDead(row!.id, at(70_000))).toBe(true);
      expect(await store.outbox.retryDead(row!.id, at(70_000))).toBe(false);
      expect((await store.outbox.claim(1, 1000, at(70_000)))[0]).toMatchObject({ id: row!.id, attempts: 1 });
    });

    test('a failed row with a newer state waiting is superseded, not retried', async () => {
      await store.outbox.enqueue({ sink: 's', topic: 't', coalesceKey: 'k', payload: { n: 1 } }, T0);
      const [row] = await store.outbox.claim(1, 1000, T0);
      await store.outbox.enqueue({ sink: 's', topic: 't', coalesceKey: 'k', payload: { n: 2 } }, at(1));
      expect(await store.outbox.fail(row!.id, 'timeout', at(10), at(2))).toBe('superseded');
      const [next] = await store.outbox.claim(5, 1000, at(20));
      expect(next!.payload).toEqual({ n: 2 });
    });

    test('completed rows are done and listed by status', async () => {
      await store.outbox.enqueue({ sink: 's', topic: 't', payload: {} }, T0);
      const [row] = await store.outbox.claim(1, 1000, T0);
      await store.outbox.complete(row!.id, at(1));
      expect(await store.outbox.list({ limit: 10, status: 'done' })).toHaveLength(1);
      expect(await store.outbox.list({ limit: 10, status: 'pending' })).toEqual([]);
    });
  });
}
