/**
 * Shopify (Admin GraphQL API) connector: compare-and-set pushes with `inventorySetQuantities`
 * (`changeFromQuantity`), idempotent deltas with `inventoryAdjustQuantities` as the second mode,
 * levels read through `nodes(ids:)` on InventoryLevel, hide/relist through product status, catalog
 * discovery through `productVariants`, and HMAC-signed webhooks; a `returns/process` webhook is
 * expanded with the Return (exchange line items) read through GraphQL. See README.md in this folder.
 */
import type { Connector, ConnectorCapabilities, ConnectorContext, ConnectorDefinition } from '../types';
import { MAX_BATCH, ShopifyClient } from './client';
import { ShopifyEmulator } from './emulator';
import { EXPANDED_RETURN_KEY, SHOPIFY_TOPICS, returnIdOf, translate } from './translate';
import { verifyShopifyDelivery } from './verify';

export const capabilities: ConnectorCapabilities = {
  platform: 'shopify',
  push: ['compare_and_set', 'idempotent_delta'],
  locations: true,
  hideRelist: { supported: true, how: 'productUpdate sets the product status to DRAFT (hidden from every sales channel) and back to ACTIVE; it acts on the whole product, all its variants.' },
  webhooks: [...SHOPIFY_TOPICS],
  polled: [],
  rateLimit: {
    kind: 'cost_bucket',
    restorePerSecond: 100,
    bucketSize: 2000,
    requestCost: 10,
    description: 'GraphQL Admin API calculated query cost: a leaky bucket per app and shop, restored 100 points/s on Standard (200 Advanced, 1000 Plus, 2000 Enterprise); a single query may not cost more than 1000. Each answer reports extensions.cost.throttleStatus; an empty bucket answers THROTTLED.',
  },
  maxBatch: MAX_BATCH,
};

export function createShopifyConnector(ctx: ConnectorContext): Connector {
  const client = new ShopifyClient(ctx);
  const secret = ctx.credentials.webhookSecret;
  return {
    capabilities: { ...capabilities, push: client.pushMode === 'idempotent_delta' ? ['idempotent_delta', 'compare_and_set'] : capabilities.push },
    // The signature, then the shop (X-Shopify-Shop-Domain = shopDomain), then the topic against the body.
    verify: (raw, headers) => verifyShopifyDelivery(raw, headers, { secret, shopDomain: ctx.settings.shopDomain }),
    /**
     * `returns/process` names a Return only: the Return (its exchange line items) is read with
     * `return(id:)` and attached under `stockrelay_return`. Other topics are returned unchanged; so
     * is a body naming no Return, or one Shopify does not have (translate then says it could not be read).
     */
    async expand(topic, body, signal) {
      if (topic !== 'returns/process' || typeof body !== 'object' || body === null || Array.isArray(body)) return body;
      const returnId = returnIdOf(body);
      if (!returnId) return body;
      const ret = await client.fetchReturn(returnId, signal);
      return ret ? { ...body, [EXPANDED_RETURN_KEY]: ret } : body;
    },
    translate,
    push: (targets, signal) => client.push(targets, signal),
    read: (items, signal) => client.read(items, signal),
    hide: (ref, signal) => client.setProductStatus(ref, 'DRAFT', signal),
    relist: (ref, signal) => client.setProductStatus(ref, 'ACTIVE', signal),
    listCatalog: (signal) => client.listCatalog(signal),
  };
}

const SANDBOX_SHOP = 'stockrelay-demo.myshopify.com';

export const definition: ConnectorDefinition = {
  platform: 'shopify',
  displayName: 'Shopify',
  docsUrl: 'https://shopify.dev/docs/api/admin-graphql',
  secretHeaders: ['x-shopify-hmac-sha256'],
  /**
   * The web store, shipping from the warehouse and selling gallery pieces too; it hides a product
   * that sells out (draft) and shows it again on restock.
   */
  sandbox: {
    channelId: 'shopify',
    // Shopify POS is a location of the Shopify channel, not a channel of its own: the web store
    // ships from the warehouse's Shopify location, and the gallery's is the counter running
    // Shopify POS, whose orders (source_name "pos", location_id) are booked at the gallery.
    name: 'Web store and gallery POS (Shopify)',
    locations: { warehouse: 'gid://shopify/Location/1001', gallery: 'gid://shopify/Location/1002' },
    hideAtZero: true,
    byDefault: true,
    settings: () => ({ shopDomain: SANDBOX_SHOP }),
    createEmulator: ({ credentials, locations, random }) =>
      new ShopifyEmulator({ accessToken: credentials.accessToken!, webhookSecret: credentials.webhookSecret!, shopDomain: SANDBOX_SHOP, locations, ...(random ? { random } : {}) }),
  },
  credentials: ['accessToken', 'webhookSecret'],
  requiredSettings: ['shopDomain'],
  capabilities,
  create: createShopifyConnector,
};
