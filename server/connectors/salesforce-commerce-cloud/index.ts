/**
 * Salesforce Commerce Cloud (B2C Commerce) connector: stock as Omnichannel Inventory availability
 * records per location (absolute on-hand through batch update, read before and after; reads of
 * available to fulfil), orders polled from the admin Orders API, OCI's changes polled from its
 * deltas stream, catalog discovery through product search, and hide/relist through the product's
 * site-specific online flag. Account Manager client-credentials tokens. B2C Commerce sends no
 * webhooks. See README.md in this folder.
 */
import { ConnectorError, type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorDefinition } from '../types';
import { listCatalog, setOnline } from './catalog';
import { PLATFORM, SfccClient } from './client';
import { SfccEmulator } from './emulator';
import { LevelsFeed, OrdersFeed } from './feeds';
import { MAX_BATCH, OciInventory } from './inventory';
import { translate } from './translate';

export const capabilities: ConnectorCapabilities = {
  platform: 'salesforce-commerce-cloud',
  push: ['absolute_set'],
  locations: true,
  hideRelist: {
    supported: true,
    how: "The product's onlineFlag for the channel's site is set false (offline: not shown, not sold on that site) and true again, through the admin Products API (PATCH products/{id}). Other sites of the realm keep their own flag.",
  },
  webhooks: [],
  // B2C Commerce sends no webhooks for orders or stock: orders by modification time, and
  // Omnichannel Inventory's stream of changes (feeds.ts, docs/polling.md).
  polled: ['orders', 'levels'],
  rateLimit: {
    kind: 'unpublished',
    description:
      'Salesforce publishes no request limit for the admin Orders and Products APIs or Omnichannel Inventory (only SLAS: 24,000 a minute per tenant on production). Rate limits answer HTTP 429 and load shedding HTTP 503 (sfdc_load_status THROTTLE at 90 % capacity); the Retry-After of either is honoured.',
  },
  maxBatch: MAX_BATCH,
};

export function createSfccConnector(ctx: ConnectorContext): Connector {
  const client = new SfccClient(ctx);
  const inventory = new OciInventory(client);
  const feeds = { orders: new OrdersFeed(client), levels: new LevelsFeed(client) };
  return {
    capabilities,
    // No webhooks: nothing that arrives at the webhook door can be this platform's.
    verify: () => ({ valid: false, refusal: 'signature', reason: `${PLATFORM} sends no webhooks; its orders and stock changes are polled. This delivery was not sent by it.` }),
    translate: (topic, body) => translate(topic, body, ctx.locations ?? []),
    push: (targets, signal) => inventory.push(targets, signal),
    read: (items, signal) => inventory.read(items, signal),
    hide: (ref, signal) => setOnline(client, ref, false, signal),
    relist: (ref, signal) => setOnline(client, ref, true, signal),
    listCatalog: (signal) => listCatalog(client, signal),
    async poll(feed, cursor, signal) {
      if (feed !== 'orders' && feed !== 'levels') throw new ConnectorError(`${PLATFORM} has no polled feed "${feed}"; it polls: orders, levels.`, false, null, null, { channelFault: false });
      return feeds[feed].poll(cursor, signal);
    },
  };
}

/** The emulated realm of the sandbox. */
const SANDBOX = { organizationId: 'f_ecom_zzrl_001', tenantGroupId: 'stockrelay_demo_group', siteId: 'GalleryShop' };

export const definition: ConnectorDefinition = {
  platform: 'salesforce-commerce-cloud',
  displayName: PLATFORM,
  docsUrl: 'https://developer.salesforce.com/docs/commerce/commerce-api/references',
  secretHeaders: [],
  /** A B2C Commerce storefront selling from the gallery's store and the warehouse, with OCI locations of its own. */
  sandbox: {
    channelId: 'salesforce-commerce-cloud',
    name: 'Flagship store (Salesforce Commerce Cloud)',
    locations: { gallery: 'gallery-store', warehouse: 'warehouse-dc' },
    hideAtZero: false,
    byDefault: false,
    // The emulator answers Account Manager's token requests at its own address too.
    settings: ({ baseUrl }) => ({ ...SANDBOX, oauthBaseUrl: baseUrl }),
    createEmulator: ({ credentials, locations }) => new SfccEmulator({ clientId: credentials.clientId!, clientSecret: credentials.clientSecret!, ...SANDBOX, locations }),
  },
  credentials: ['clientId', 'clientSecret'],
  requiredSettings: ['organizationId', 'tenantGroupId', 'siteId'],
  settingHelp: {
    organizationId: 'It is f_ecom_ followed by the realm and instance, e.g. f_ecom_zzxy_prd: Business Manager → Administration → Site Development → Salesforce Commerce API Settings.',
    tenantGroupId: 'It is the Omnichannel Inventory tenant group id, which OCI uses in place of the organization id (Salesforce Commerce API Settings, or your OCI implementation details).',
    siteId: 'It is the id of the storefront site whose orders and online flags this channel reads and sets, e.g. RefArch.',
  },
  capabilities,
  create: createSfccConnector,
};
