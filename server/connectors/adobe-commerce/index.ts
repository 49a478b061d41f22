/**
 * Adobe Commerce / Magento 2.4 connector: Admin REST with an integration's access token (bearer),
 * absolute stock writes (MSI source items per source, or the default stock item of a single-source
 * store) guarded by a read before and a read-back after, hide/relist through product status,
 * catalog discovery over /V1/products, orders and credit memos polled (`orders` feed), and Adobe
 * Commerce Webhooks (Adobe Commerce only, signed RSA-SHA256) where the store has them. MSI sources
 * are the hub's locations; a single-source store has the one source `default`. See README.md.
 */
import { ConnectorError, type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorDefinition } from '../types';
import { AdobeClient, DEFAULT_SOURCE, MAX_BATCH, key, type InventoryMode } from './client';
import { AdobeEmulator, EMULATOR_PUBLIC_KEY } from './emulator';
import { AdobeHttp } from './http';
import { AdobeOrdersFeed } from './orders-feed';
import { ADOBE_TOPICS, EXPANDED_LEVELS, sourceItemsOf, translate } from './translate';
import { SIGNATURE_HEADER, TOKEN_HEADER, verifyAdobeHook } from './verify';

export const capabilities: ConnectorCapabilities = {
  platform: 'adobe-commerce',
  push: ['absolute_set'],
  locations: true,
  hideRelist: {
    supported: true,
    how: 'Product status: 2 (Disabled) hides the product from the storefront, search and checkout; 1 (Enabled) shows it again. Visibility is left alone: "Not Visible Individually" would still let the product be bought through a direct link or a configurable parent, and is the setting a simple product under a configurable one must keep.',
  },
  webhooks: [...ADOBE_TOPICS],
  // Magento Open Source has no webhooks, and Adobe Commerce calls a hook once with no retry: orders
  // and their credit memos by updated_at (orders-feed.ts, docs/polling.md).
  polled: ['orders'],
  rateLimit: {
    kind: 'unpublished',
    description: 'Adobe Commerce sets no rate limit on the Admin REST API by default; the store\'s host, CDN or firewall may answer HTTP 429, whose Retry-After is honoured.',
  },
  maxBatch: MAX_BATCH,
};

const MAX_PAGE = 300;

function settingsOf(ctx: ConnectorContext): { mode: InventoryMode; pageSize: number; storeCode: string; baseUrl: string; stockId: number } {
  const s = ctx.settings;
  const mode = s.inventory ?? 'multi-source';
  if (mode !== 'multi-source' && mode !== 'single-source') throw new ConnectorError('The Adobe Commerce setting inventory must be "multi-source" (MSI sources, the default) or "single-source" (the default stock only).', false);
  const pageSize = s.pageSize ?? 100;
  if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE) throw new ConnectorError(`The Adobe Commerce setting pageSize must be a whole number from 1 to ${MAX_PAGE}.`, false);
  const storeCode = s.storeCode ?? 'default';
  if (typeof storeCode !== 'string' || !/^[a-z0-9_]{1,32}$/.test(storeCode)) throw new ConnectorError('The Adobe Commerce setting storeCode must be a store view code such as "default".', false);
  const stockId = s.stockId ?? 1;
  if (typeof stockId !== 'number' || !Number.isInteger(stockId) || stockId < 1) throw new ConnectorError('The Adobe Commerce setting stockId must be the id of the stock the channel\'s website sells from (1, the Default Stock, unless Stores > Inventory > Stocks says otherwise).', false);
  const baseUrl = ctx.baseUrl ?? (typeof s.storeUrl === 'string' ? s.storeUrl : null);
  if (!baseUrl) throw new ConnectorError('The Adobe Commerce channel needs its store address: the setting storeUrl (or baseUrl when the API is reached elsewhere).', false);
  return { mode, pageSize, storeCode, baseUrl, stockId };
}

export function createAdobeConnector(ctx: ConnectorContext): Connector {
  const { mode, pageSize, storeCode, baseUrl, stockId } = settingsOf(ctx);
  const http = new AdobeHttp(baseUrl, ctx.credentials.accessToken ?? '', storeCode, ctx.fetch ?? fetch);
  const client = new AdobeClient(http, mode, pageSize, stockId);
  const orders = new AdobeOrdersFeed(http, pageSize);
  const publicKey = typeof ctx.settings.webhookPublicKey === 'string' ? ctx.settings.webhookPublicKey : undefined;
  const storeUrl = typeof ctx.settings.storeUrl === 'string' ? ctx.settings.storeUrl : undefined;
  return {
    capabilities,
    verify: (raw, headers) => verifyAdobeHook(raw, headers, { secret: ctx.credentials.webhookSecret, publicKey, storeUrl }),
    /**
     * A source items hook says what a source holds, not what it can still sell: the levels of its
     * SKUs are read (source items less their share of the reservations, client.ts) and attached as
     * `stockrelay_levels`, which translate reports instead of the hook's quantities.
     */
    async expand(topic, body, signal) {
      const items = topic === ADOBE_TOPICS[2] ? sourceItemsOf(body) : null;
      if (!items) return body;
      const skus = items.map((i) => i.sku);
      const shown = await client.levels(skus, signal);
      const levels = items.flatMap((i) => {
        const s = shown.get(key(i.sku, i.source));
        return s ? [{ sku: i.sku, source_code: i.source, level: s.level }] : [];
      });
      return { ...(body as object), [EXPANDED_LEVELS]: levels };
    },
    translate: (topic, body) => translate(topic, body),
    push: (targets, signal) => client.push(targets, signal),
    read: (items, signal) => client.read(items, signal),
    hide: (ref, signal) => client.setEnabled(ref, false, signal),
    relist: (ref, signal) => client.setEnabled(ref, true, signal),
    listCatalog: (signal) => client.listCatalog(signal),
    async poll(feed, cursor, signal) {
      if (feed !== 'orders') throw new ConnectorError(`Adobe Commerce has no polled feed "${feed}"; it polls: orders.`, false, null, null, { channelFault: false });
      return orders.poll(cursor, signal);
    },
  };
}

/** The emulated store's address, which its hooks name (store_url). */
const SANDBOX_STORE_URL = 'https://gallery-shop.example.com/';

export const definition: ConnectorDefinition = {
  platform: 'adobe-commerce',
  displayName: 'Adobe Commerce (Magento)',
  docsUrl: 'https://developer.adobe.com/commerce/webapi/rest/',
  secretHeaders: [SIGNATURE_HEADER, TOKEN_HEADER],
  /** A Magento web shop selling what hangs in the gallery: a single-source store (its `default` source). */
  sandbox: {
    channelId: 'adobe-commerce',
    name: 'Web shop (Adobe Commerce)',
    locations: { gallery: DEFAULT_SOURCE },
    hideAtZero: false,
    byDefault: false,
    settings: () => ({ storeUrl: SANDBOX_STORE_URL, webhookPublicKey: EMULATOR_PUBLIC_KEY }),
    createEmulator: ({ credentials, locations, random }) =>
      new AdobeEmulator({ accessToken: credentials.accessToken!, webhookSecret: credentials.webhookSecret!, storeUrl: SANDBOX_STORE_URL, sources: locations, ...(random ? { random } : {}) }),
  },
  credentials: ['accessToken', 'webhookSecret'],
  requiredSettings: ['storeUrl'],
  settingHelp: {
    storeUrl: 'It is the store\'s secure base URL (Stores > Configuration > General > Web > Base URLs (Secure), e.g. https://shop.example.com/): the REST API is reached under it (unless baseUrl says otherwise) and every hook must name it in its store_url field.',
  },
  capabilities,
  create: createAdobeConnector,
};
