/**
 * Graceful shutdown of the dispatcher: a receiver that never answers does not hold a stop hostage,
 * and the delivery it was making is not lost — it is due again for the next start.
 */
import { startHub } from '../helpers/hub';
import type { OutboxEntry } from '../../server/store/types';
import type { Sink } from '../../server/outbox/sink';

test('a stop cuts a hanging delivery short after the grace period and leaves its row due again', async () => {
  let started!: () => void;
  const deliveryStarted = new Promise<void>((r) => (started = r));
  const hanging: Sink = {
    id: 'notify:erp',
    deliver: (_e: OutboxEntry, signal: AbortSignal) =>
      new Promise<void>((_resolve, reject) => {
        started();
        signal.addEventListener('abort', () => reject(new Error('aborted')));
      }),
  };
  const t = await startHub('sqlite', {
    file: { notify: [{ id: 'erp', url: 'http://127.0.0.1:9/unused', topics: ['level.changed'] }], dispatch: { timeoutMs: 60_000 } },
    hub: { sinks: [hanging] },
  });
  // The configured webhook sink and our hanging one share the id; ours is registered last and wins.
  await t.api('PUT', '/v1/items/H-1', { title: 'x' });
  await t.api('POST', '/v1/items/H-1/adjustments', { quantity: 2, reason: 'restock' });
  await deliveryStarted;

  // Without the abort, this stop would wait for a delivery that never ends.
  await t.hub.stop(300);

  const { openStore } = jest.requireActual<typeof import('../../server/store/open')>('../../server/store/open');
  const store = await openStore({ dataDir: t.config.dataDir });
  try {
    const rows = await store.outbox.list({ limit: 10 });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'pending', lastError: 'Interrupted: the hub was shutting down.' });
    expect(Date.parse(rows[0]!.nextAttemptAt)).toBeLessThanOrEqual(Date.now());
  } finally {
    await store.close();
  }
});
