/**
 * BigCommerce (REST management API, `fetch`) connector: stock through the v3 Inventory API per
 * location (relative adjustments when the hub knows the level, read first; absolute ones with a
 * read-back when it does not), hide at zero with product `is_visible` (or a variant's
 * `purchasing_disabled`), catalog discovery over products and their variants, thin webhooks
 * expanded by fetching the order, refund or levels, Standard Webhooks signatures keyed by the app's
 * client secret, and the store's request quota. See README.md in this folder.
 */
import { ConnectorError, type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorDefinition, type RateLimitModel } from '../types';
import { setVisible, listCatalog } from './catalog';
import { BigCommerceEmulator } from './emulator';
import { expandEvent } from './expand';
import { BigCommerceHttp, normaliseStoreHash } from './http';
import { MAX_BATCH, pushAbsolute, pushRelative, readLevels } from './levels';
import { BIGCOMMERCE_TOPICS, translate } from './translate';
import { verifyBigCommerceDelivery } from './verify';

/** The quota of Standard and Plus plans (api-rate-limits.mdx); Pro stores have 450. */
const DEFAULT_QUOTA = 150;
/** BigCommerce caps `limit` at 250 on its lists. */
const MAX_PAGE = 250;

/**
 * The pace of the hub's requests to a store whose quota is `quota` requests per 30 s. Every request
 * is counted (pushes, their reads, order and level fetches: docs/dispatch.md, "Every request
 * counts"), and the quota is shared by every app on the store, so the hub takes at most 80 % of it,
 * spread over the window (a few a second), so that no request waits long for its turn.
 */
export function rateLimitFor(quota: number): RateLimitModel {
  const share = quota * 0.8;
  const requests = Math.max(1, Math.floor(share / 30));
  const windowMs = Math.ceil((requests * 30_000) / share);
  const pace = windowMs === 1000 ? `${requests} a second` : `${requests} every ${windowMs / 1000} s`;
  return {
    kind: 'requests_per_window',
    requests,
    windowMs,
    description: `BigCommerce gives each store a quota of ${quota} requests per 30 s (X-Rate-Limit-Requests-Quota), shared by every app on the store; the hub counts every request it makes and sends at most ${pace} (80 % of the quota), and waits for X-Rate-Limit-Time-Reset-Ms when a 429 or Requests-Left 0 says the quota is spent.`,
  };
}

export const capabilities: ConnectorCapabilities = {
  platform: 'bigcommerce',
  push: ['idempotent_delta', 'absolute_set'],
  locations: true,
  hideRelist: {
    supported: true,
    how: 'A product tracked by product: is_visible false ↔ true (PUT /v3/catalog/products/{id}); a variant of a product with options: purchasing_disabled true ↔ false on the variant, so the product\'s other variants stay on sale. The store-wide "out of stock" setting (product_out_of_stock_behavior) is not changed: it is the merchant\'s and applies to every product.',
  },
  webhooks: [...BIGCOMMERCE_TOPICS],
  polled: [],
  rateLimit: rateLimitFor(DEFAULT_QUOTA),
  maxBatch: MAX_BATCH,
};

export const STORE_HASH_HELP =
  'It is the short code in the store\'s API path (https://api.bigcommerce.com/stores/{store_hash}/v3/) shown when a store API account is created, and in the control panel\'s address (store-{store_hash}.mybigcommerce.com). Every BigCommerce webhook names it (producer "stores/{store_hash}") and the hub refuses webhooks for any other store.';

function setting(ctx: ConnectorContext, name: string, fallback: number, min: number, max: number): number {
  const v = ctx.settings[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConnectorError(`The BigCommerce setting ${name} must be a whole number from ${min} to ${max}.`, false);
  return v;
}

export function createBigCommerceConnector(ctx: ConnectorContext): Connector {
  const storeHash = normaliseStoreHash(ctx.settings.storeHash);
  if (!storeHash) throw new ConnectorError(`The BigCommerce channel needs the setting storeHash. ${STORE_HASH_HELP}`, false);
  const http = new BigCommerceHttp(ctx, storeHash);
  const pageSize = setting(ctx, 'pageSize', MAX_PAGE, 1, MAX_PAGE);
  const quota = setting(ctx, 'requestsPer30s', DEFAULT_QUOTA, 2, 100_000);
  const clientSecret = ctx.credentials.clientSecret;
  return {
    capabilities: { ...capabilities, rateLimit: rateLimitFor(quota) },
    verify: (raw, headers) => verifyBigCommerceDelivery(raw, headers, { clientSecret, storeHash }),
    expand: (topic, body, signal) => expandEvent(http, topic, body, pageSize, signal),
    translate,
    async push(targets, signal) {
      const known = targets.filter((t) => t.expected !== null);
      const unknown = targets.filter((t) => t.expected === null);
      const done = new Map([...(known.length > 0 ? await pushRelative(http, known, pageSize, signal) : []), ...(unknown.length > 0 ? await pushAbsolute(http, unknown, pageSize, signal) : [])]);
      return targets.map((t) => done.get(t) ?? { sku: t.sku, locationId: t.locationId, status: 'failed', message: 'BigCommerce gave no answer for this item.' });
    },
    read: (items, signal) => readLevels(http, items, pageSize, signal),
    hide: (ref, signal) => setVisible(http, ref, false, signal),
    relist: (ref, signal) => setVisible(http, ref, true, signal),
    listCatalog: (signal) => listCatalog(http, pageSize, signal),
  };
}

/** The emulated store: its hash is in every API path and every webhook (producer). */
const SANDBOX_STORE = 'gallery7q';

export const definition: ConnectorDefinition = {
  platform: 'bigcommerce',
  displayName: 'BigCommerce',
  docsUrl: 'https://developer.bigcommerce.com/docs/rest-management/inventory',
  secretHeaders: ['webhook-signature'],
  /** The gallery's BigCommerce web store, with pickup at the gallery (location 1) and the warehouse (location 2). */
  sandbox: {
    channelId: 'bigcommerce',
    name: 'Web store (BigCommerce)',
    locations: { gallery: '1', warehouse: '2' },
    hideAtZero: true,
    byDefault: false,
    settings: () => ({ storeHash: SANDBOX_STORE }),
    createEmulator: ({ credentials, locations, random }) =>
      new BigCommerceEmulator({ storeHash: SANDBOX_STORE, accessToken: credentials.accessToken!, clientSecret: credentials.clientSecret!, locations, ...(random ? { random } : {}) }),
  },
  credentials: ['accessToken', 'clientSecret'],
  requiredSettings: ['storeHash'],
  settingHelp: { storeHash: STORE_HASH_HELP },
  capabilities,
  create: createBigCommerceConnector,
};
