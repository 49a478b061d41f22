/**
 * WooCommerce (REST API v3) connector: absolute `stock_quantity` sets (the only write WooCommerce
 * offers) guarded by a read before and a read-back after, batches of up to 100, hide/relist through
 * catalog visibility (variations: enabled/disabled), catalog discovery over products and their
 * variations, and HMAC-signed webhooks. WooCommerce has no locations: the one pseudo location is
 * `default`. See README.md in this folder.
 */
import { ConnectorError, type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorDefinition } from '../types';
import { MAX_BATCH, WooClient } from './client';
import { WooOrdersFeed } from './orders-feed';
import { WooEmulator } from './emulator';
import { WOO_LOCATION, WOO_TOPICS, translate, wooId } from './translate';
import { isWooPing, verifyWooDelivery } from './verify';

export { WOO_LOCATION } from './translate';

export const capabilities: ConnectorCapabilities = {
  platform: 'woocommerce',
  push: ['absolute_set'],
  locations: false,
  hideRelist: {
    supported: true,
    how: 'A simple product gets catalog_visibility "hidden" (out of the shop and search; still reachable by its link) and "visible" again; a variation is disabled (status "private") and enabled (status "publish"). Stock 0 with manage_stock already makes an item out of stock and unpurchasable.',
  },
  webhooks: [...WOO_TOPICS],
  // A backstop to the order webhooks, which WooCommerce sends once and disables after repeated
  // failures: orders by modification time (orders-feed.ts, docs/polling.md).
  polled: ['orders'],
  rateLimit: {
    kind: 'unpublished',
    description: 'WooCommerce has no REST rate limit of its own; the store\'s host or firewall may answer HTTP 429, whose Retry-After is honoured. Failed webhook deliveries are not retried by WooCommerce (the webhook is disabled after more than 5 consecutive failures), so reconciliation reads matter.',
  },
  maxBatch: MAX_BATCH,
};

export function createWooConnector(ctx: ConnectorContext): Connector {
  const client = new WooClient(ctx);
  const orders = new WooOrdersFeed(client);
  const secret = ctx.credentials.webhookSecret;
  // The store's own address: what WordPress sends as X-WC-Webhook-Source. The storeUrl setting when
  // given (the API may be reached at another address, baseUrl), else baseUrl.
  const storeAddress = typeof ctx.settings.storeUrl === 'string' && ctx.settings.storeUrl.trim() !== '' ? ctx.settings.storeUrl : ctx.baseUrl;
  return {
    capabilities,
    // The signature, then the store (X-WC-Webhook-Source = storeUrl, else baseUrl), then the topic against the body.
    verify: (raw, headers) => verifyWooDelivery(raw, headers, { secret, storeUrl: storeAddress }),
    isPing: isWooPing,
    /** action.woocommerce_order_refunded carries only {action, arg: order id}: fetch the order. */
    async expand(topic, body, signal) {
      if (topic !== 'action.woocommerce_order_refunded' || typeof body !== 'object' || body === null) return body;
      const orderId = wooId((body as { arg?: unknown }).arg);
      if (!orderId) return body;
      return (await client.getOrder(orderId, signal)) ?? body;
    },
    translate,
    push: (targets, signal) => client.push(targets, signal),
    read: (items, signal) => client.read(items, signal),
    hide: (ref, signal) => client.setVisible(ref, false, signal),
    relist: (ref, signal) => client.setVisible(ref, true, signal),
    listCatalog: (signal) => client.listCatalog(signal),
    /** `orders`: each order modified after the cursor, as the order.updated webhook would carry it. */
    async poll(feed, cursor, signal) {
      if (feed !== 'orders') throw new ConnectorError(`WooCommerce has no polled feed "${feed}"; it polls: orders.`, false, null, null, { channelFault: false });
      return orders.poll(cursor, signal);
    },
  };
}

export const definition: ConnectorDefinition = {
  platform: 'woocommerce',
  displayName: 'WooCommerce',
  docsUrl: 'https://woocommerce.github.io/woocommerce-rest-api-docs/',
  secretHeaders: ['x-wc-webhook-signature'],
  /**
   * A second online shop that sells what hangs in the gallery (WooCommerce keeps one stock level
   * per item: its pseudo location "default").
   */
  sandbox: {
    channelId: 'woocommerce',
    name: 'Online shop (WooCommerce)',
    locations: { gallery: WOO_LOCATION },
    hideAtZero: false,
    byDefault: true,
    settings: () => ({}),
    createEmulator: ({ credentials, random }) =>
      new WooEmulator({ consumerKey: credentials.consumerKey!, consumerSecret: credentials.consumerSecret!, webhookSecret: credentials.webhookSecret!, ...(random ? { random } : {}) }),
  },
  credentials: ['consumerKey', 'consumerSecret', 'webhookSecret'],
  requiredSettings: [],
  capabilities,
  create: createWooConnector,
};
