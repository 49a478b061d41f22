/**
 * A platform for tests of the hub's own parts (relays, the API's views of a channel): it takes every
 * push as sent and sends no webhooks, so what is tested is the hub, not a platform. Given to the hub
 * the way a real connector is (`createHub({ connectors })`); the config then accepts its name.
 */
import type { ConnectorDefinition } from '../../server/connectors/types';

export function acceptingPlatform(platform: string, displayName = 'Test platform'): ConnectorDefinition {
  const capabilities = {
    platform,
    push: ['absolute_set' as const],
    locations: true,
    hideRelist: { supported: false, how: 'not offered' },
    webhooks: [],
    polled: [],
    rateLimit: { kind: 'unpublished' as const, description: 'none' },
    maxBatch: 50,
  };
  return {
    platform,
    displayName,
    docsUrl: 'https://example.invalid/docs',
    secretHeaders: [],
    credentials: [],
    requiredSettings: [],
    capabilities,
    create: () => ({
      capabilities,
      verify: () => ({ valid: false, reason: `${displayName} sends no webhooks.` }),
      translate: () => [],
      push: async (targets) => targets.map((t) => ({ sku: t.sku, locationId: t.locationId, status: 'applied' as const, level: t.level })),
      read: async () => [],
      hide: async () => undefined,
      relist: async () => undefined,
      listCatalog: async () => [],
    }),
  };
}
