/**
 * Squarespace Commerce connector: the Inventory API's adjustments (idempotent increments and
 * decrements when the last level is known, `setFiniteOperations` read before and after when it is
 * not), levels read by variant id, hide/relist through the product's `isVisible`, catalog discovery
 * over the Products API, thin order notifications (`order.create`, `order.update`, HMAC-SHA256 hex
 * in `Squarespace-Signature`) expanded by fetching the order, and two polled feeds: orders (a
 * backstop) and inventory (Squarespace sends no stock notification). Squarespace keeps one level per
 * variant: the pseudo location `default`. Auth: an API key as a bearer token. See README.md.
 */
import crypto from 'node:crypto';
import { ConnectorError, type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorDefinition } from '../types';
import { MAX_OPERATIONS, SquarespaceClient } from './client';
import { SquarespaceFeeds } from './feeds';
import { SquarespaceEmulator } from './emulator';
import { SQUARESPACE_LOCATION, SQUARESPACE_TOPICS, translate } from './translate';
import { SIGNATURE_HEADER, verifySquarespaceDelivery } from './verify';

export { SQUARESPACE_LOCATION } from './translate';

/** The sandbox site's id, made up like Squarespace's 24-hex-digit ids. */
const SANDBOX_WEBSITE = crypto.createHash('sha256').update('stockrelay sandbox squarespace').digest('hex').slice(0, 24);


export const capabilities: ConnectorCapabilities = {
  platform: 'squarespace',
  push: ['idempotent_delta', 'absolute_set'],
  locations: false,
  hideRelist: {
    supported: true,
    how: 'The product is made not visible (isVisible false, "Hidden" on its product page) and visible again; Squarespace hides a whole product, not one variant. A variant at 0 is already shown as sold out.',
  },
  webhooks: [...SQUARESPACE_TOPICS],
  // Orders: a backstop to the notifications. Inventory: Squarespace sends nothing when stock changes.
  polled: ['orders', 'inventory'],
  rateLimit: {
    kind: 'requests_per_window',
    requests: 4,
    windowMs: 1000,
    description: 'Squarespace allows 300 requests a minute ("an equivalent bandwidth of five requests per second") and answers more with 429 and a one-minute cool-down; the hub counts every request it makes (pushes, the reads around them, polls, order fetches) and sends at most 4 a second (240 a minute).',
  },
  maxBatch: MAX_OPERATIONS,
};

export function createSquarespaceConnector(ctx: ConnectorContext): Connector {
  const client = new SquarespaceClient(ctx);
  const feeds = new SquarespaceFeeds(client);
  const websiteId = typeof ctx.settings.websiteId === 'string' && ctx.settings.websiteId.trim() !== '' ? ctx.settings.websiteId.trim() : null;
  const secret = ctx.credentials.webhookSecret;
  return {
    capabilities,
    verify: (raw, headers) => verifySquarespaceDelivery(raw, headers, { secret, websiteId }),
    /** Order notifications carry the order id only: the order is fetched and kept beside the notification. */
    async expand(topic, body, signal) {
      if (topic !== 'order.create' && topic !== 'order.update') return body;
      if (typeof body !== 'object' || body === null || 'order' in body) return body;
      const data = (body as { data?: { orderId?: unknown } }).data;
      const orderId = typeof data?.orderId === 'string' && data.orderId !== '' ? data.orderId : null;
      if (!orderId) return body;
      const order = await client.getOrder(orderId, signal);
      return order ? { ...body, order } : body;
    },
    translate: (topic, body) => translate(topic, body),
    push: (targets, signal) => client.push(targets, signal),
    read: (items, signal) => client.read(items, signal),
    hide: (ref, signal) => client.setVisible(ref, false, signal),
    relist: (ref, signal) => client.setVisible(ref, true, signal),
    listCatalog: (signal) => client.listCatalog(signal),
    async poll(feed, cursor, signal) {
      if (feed === 'orders') return feeds.orders(cursor, signal);
      if (feed === 'inventory') return feeds.inventory(cursor, signal);
      throw new ConnectorError(`Squarespace has no polled feed "${feed}"; it polls: orders, inventory.`, false, null, null, { channelFault: false });
    },
  };
}

export const definition: ConnectorDefinition = {
  platform: 'squarespace',
  displayName: 'Squarespace Commerce',
  docsUrl: 'https://developers.squarespace.com/commerce-apis/making-requests',
  secretHeaders: [SIGNATURE_HEADER],
  /** A Squarespace site that sells what hangs in the gallery (one level per variant: "default"). */
  sandbox: {
    channelId: 'squarespace',
    name: 'Online shop (Squarespace)',
    locations: { gallery: SQUARESPACE_LOCATION },
    hideAtZero: false,
    byDefault: false,
    settings: () => ({ websiteId: SANDBOX_WEBSITE }),
    createEmulator: ({ credentials, random }) =>
      new SquarespaceEmulator({ apiKey: credentials.apiKey!, webhookSecret: credentials.webhookSecret!, websiteId: SANDBOX_WEBSITE, ...(random ? { random } : {}) }),
  },
  credentials: ['apiKey', 'webhookSecret'],
  requiredSettings: ['websiteId'],
  settingHelp: {
    websiteId: 'the id of your Squarespace site, as its webhook notifications carry it ("websiteId"); the notifications of any other site are refused',
  },
  capabilities,
  create: createSquarespaceConnector,
};
