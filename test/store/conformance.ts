/**
 * The store conformance suite: one set of tests that every store must pass, run unchanged against
 * SQLite (sqlite.test.ts) and PostgreSQL (postgres.test.ts). It states the contract of
 * `server/store/types.ts`: idempotent booking, counts as deltas, append-only movements, a projection
 * equal to the movements, the inbox claim, the outbox lease and coalescing, alerts, channel maps.
 * One file per area of the store in test/store/conformance/.
 */
import { alertsConformance } from './conformance/alerts';
import { channelMapsConformance } from './conformance/channel-maps';
import { conflictsConformance } from './conformance/conflicts';
import { credentialsConformance } from './conformance/credentials';
import { T0, type OpenedStore, type Suite } from './conformance/fixtures';
import { inboxConformance } from './conformance/inbox';
import { itemsConformance } from './conformance/items';
import { ledgerConformance } from './conformance/ledger';
import { outboxConformance } from './conformance/outbox';
import { platformTokensConformance } from './conformance/platform-tokens';
import { setupConformance } from './conformance/setup';

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
