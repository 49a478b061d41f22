/**
 * The store conformance suite: one set of tests that every store must pass, run unchanged against
 * SQLite (store.sqlite.test.ts) and PostgreSQL (store.postgres.test.ts). It states the contract of
 * `server/store/types.ts`: idempotent booking, counts as deltas, append-only movements, a projection
 * equal to the movements, the inbox claim, the outbox lease and coalescing, alerts, channel maps.
 * One file per area of the store in test/store/conformance/.
 */
import { alertsConformance } from './store/conformance/alerts';
import { channelMapsConformance } from './store/conformance/channel-maps';
import { conflictsConformance } from './store/conformance/conflicts';
import { credentialsConformance } from './store/conformance/credentials';
import { T0, type OpenedStore, type Suite } from './store/conformance/fixtures';
import { inboxConformance } from './store/conformance/inbox';
import { itemsConformance } from './store/conformance/items';
import { ledgerConformance } from './store/conformance/ledger';
import { outboxConformance } from './store/conformance/outbox';
import { platformTokensConformance } from './store/conformance/platform-tokens';
import { setupConformance } from './store/conformance/setup';

export type { OpenedStore };

export function describeStoreConformance(name: string, open: () => Promise<OpenedStore>): void {
  describe(`store conformance: ${name}`, () => {
    const s = {} as Suite;

    beforeEach(async () => {
      s.o = await open();
      s.store = s.o.store;
      await s.store.locations.ensure(
        [
          { id: 'main', name: 'Main' },
          { id: 'back', name: 'Back room' },
        ],
        T0,
      );
      await s.store.items.upsert({ sku: 'SKU-1', title: 'One' }, T0);
      await s.store.items.upsert({ sku: 'SKU-2', title: 'Two' }, T0);
    });
    afterEach(async () => {
      await s.o.cleanup();
    });

    platformTokensConformance(s);
    setupConformance(s);
    itemsConformance(s);
    ledgerConformance(s);
    inboxConformance(s);
    outboxConformance(s);
    alertsConformance(s);
    channelMapsConformance(s);
    conflictsConformance(s);
    credentialsConformance(s);
  });
}
