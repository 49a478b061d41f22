/**
 * The inbox processor books waiting events several per transaction (docs/inbox-outbox.md, "Batches").
 * A failure inside a batch must undo the whole batch and must not be charged to the events that did
 * nothing wrong: they are tried again one per transaction, in order, and only the failing event is
 * counted and, after five tries, set aside as `failed`.
 */
import fs from 'node:fs';
import { InboxProcessor } from '../../server/booking/worker';
import { createLogger } from '../../server/log';
import { Metrics } from '../../server/metrics';
import { openStore } from '../../server/store/open';
import type { Store, StoreOps } from '../../server/store/types';
import { testConfig, tempDir } from '../helpers/hub';

const NOW = '2026-11-23T10:00:00.000Z';

/** A store whose transactions fail whenever they book stock for `sku` (a disk hiccup on one event). */
function failingOn(store: Store, sku: string): Store {
  const wrapLedger = (ledger: StoreOps['ledger']): StoreOps['ledger'] =>
    new Proxy(ledger, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop === 'book') {
          return async (input: { sku: string }, now: string) => {
            if (input.sku === sku) throw new Error(`the disk hiccuped while booking ${sku}`);
            return (v as (i: unknown, n: string) => Promise<unknown>).call(target, input, now);
          };
        }
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  const wrapTx = (tx: StoreOps): StoreOps =>
    new Proxy(tx, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (prop === 'ledger') return wrapLedger(target.ledger);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'transaction') return <T>(fn: (tx: StoreOps) => Promise<T>) => target.transaction((tx) => fn(wrapTx(tx)));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const relayEvent = (id: string, relay: object) => ({ dedupeKey: `relay:${id}`, source: 'relay', kind: (relay as { kind: string }).kind, headers: { 'webhook-id': id }, body: JSON.stringify(relay) });
const adjust = (sku: string, quantity: number) => ({ kind: 'adjustment', sku, quantity, reason: 'receipt', occurredAt: NOW });

test('a failure in a batch undoes it; the others are booked in order, and only the failing event is set aside', async () => {
  const dir = tempDir('sr-batch-');
  const store = await openStore({ dataDir: dir });
  try {
    const config = testConfig('sqlite');
    await store.locations.ensure([{ id: config.defaultLocation, name: 'Main' }], NOW);
    // What was sent: the catalog, then three adjustments, the middle one for the SKU whose booking fails.
    const ids = await store.inbox.insertBatch(
      [
        relayEvent('cat', { kind: 'catalog_changed', added: [{ sku: 'A' }, { sku: 'BOOM' }, { sku: 'C' }], removed: [], occurredAt: NOW }),
        relayEvent('a', adjust('A', 2)),
        relayEvent('boom', adjust('BOOM', 3)),
        relayEvent('c', adjust('C', 4)),
      ],
      NOW,
    );
    const processor = new InboxProcessor(failingOn(store, 'BOOM'), config, createLogger('silent'), new Metrics(), () => new Date(NOW), 10, null, { max: 50, ms: 1000 });
    let rounds = 0;
    while (await processor.processNext()) if (++rounds > 50) throw new Error('the processor did not finish');

    // What was kept: A and C booked once each; BOOM booked nothing and is set aside after five tries.
    const levels = await store.ledger.levelsFor(['A', 'BOOM', 'C']);
    const onHand = Object.fromEntries(levels.map((l) => [l.sku, l.onHand]));
    expect(onHand).toMatchObject({ A: 2, C: 4 });
    expect(onHand.BOOM ?? 0).toBe(0);
    // (A claim's attempt count is undone with its transaction; the processor counts the tries itself.)
    expect(await store.inbox.get(ids[2]!.id)).toMatchObject({ status: 'failed', outcome: { error: 'the disk hiccuped while booking BOOM' } });
    expect(await store.inbox.get(ids[1]!.id)).toMatchObject({ status: 'processed' });
    expect(await store.inbox.get(ids[3]!.id)).toMatchObject({ status: 'processed' });
    expect((await store.ledger.listMovements('A', { limit: 10 })).length).toBe(1);
    expect((await store.ledger.listMovements('C', { limit: 10 })).length).toBe(1);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 30_000);
