/**
 * OpenCart connector. Core OpenCart (3.x and 4.x) offers no stock API and no webhooks, so the
 * connector speaks to the stockrelay extension in ./extension/ (OpenCart 4.0.2.0 and later):
 * compare-and-set on a product's (or option value's) quantity, an absolute set with a read-back
 * when the hub never read the level, hide/relist through the product status, the catalog in pages,
 * signed order, return and product events, and the same events as a polled feed for what a
 * delivery lost. OpenCart has no locations: the one pseudo location is `default`. See README.md.
 */
import type { Connector, ConnectorCapabilities, ConnectorContext, ConnectorDefinition } from '../types';
import { ConnectorError } from '../types';
import { OcClient } from './client';
import { OcEmulator } from './emulator';
import { OC_LOCATION, OC_MAX_BATCH, OC_TOPICS, HEADER } from './protocol';
import { OcStock } from './stock';
import { translate } from './translate';
import { verifyOcDelivery } from './verify';

export { OC_LOCATION } from './protocol';

export const capabilities: ConnectorCapabilities = {
  platform: 'opencart',
  push: ['compare_and_set', 'absolute_set'],
  locations: false,
  hideRelist: { supported: true, how: 'The product status: Disabled (0) hides it from the shop, Enabled (1) shows it again. An option value cannot be hidden alone: its product is.' },
  webhooks: [...OC_TOPICS],
  // The extension keeps every event it sends in its own log: a delivery the hub missed is found there.
  polled: ['events'],
  rateLimit: {
    kind: 'unpublished',
    description: 'OpenCart has no API rate limit of its own; the store\'s host or firewall may answer HTTP 429, whose Retry-After is honoured.',
  },
  maxBatch: OC_MAX_BATCH,
};

const DEFAULT_MAX_AGE_SECONDS = 300;

export function createOcConnector(ctx: ConnectorContext): Connector {
  const client = new OcClient(ctx);
  const stock = new OcStock(client);
  const storeUrl = typeof ctx.settings.storeUrl === 'string' && ctx.settings.storeUrl.trim() !== '' ? ctx.settings.storeUrl : ctx.baseUrl;
  const maxAge = ctx.settings.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS;
  if (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0) throw new ConnectorError('The OpenCart setting maxAgeSeconds must be a whole number of seconds (0: no age check).', false);
  const clock = ctx.clock ?? (() => new Date());
  return {
    capabilities,
    verify: (raw, headers) => verifyOcDelivery(raw, headers, { secret: ctx.credentials.webhookSecret, storeUrl, maxAgeSeconds: maxAge, now: clock }),
    translate: (topic, body) => translate(topic, body),
    push: (targets, signal) => stock.push(targets, signal),
    read: (items, signal) => stock.read(items, signal),
    hide: (ref, signal) => stock.setStatus(ref, false, signal),
    relist: (ref, signal) => stock.setStatus(ref, true, signal),
    listCatalog: (signal) => stock.listCatalog(signal),
    async poll(feed, cursor, signal) {
      if (feed !== 'events') throw new ConnectorError(`OpenCart has no polled feed "${feed}"; it polls: events.`, false, null, null, { channelFault: false });
      return stock.poll(cursor, signal);
    },
  };
}

export const definition: ConnectorDefinition = {
  platform: 'opencart',
  displayName: 'OpenCart',
  // Core OpenCart documents no stock API: the connector was built from its source, and the extension in ./extension/.
  docsUrl: 'https://github.com/opencart/opencart',
  secretHeaders: [HEADER.signature, HEADER.key],
  /** A third web shop over the gallery's stock (OpenCart keeps one quantity per product: "default"). */
  sandbox: {
    channelId: 'opencart',
    name: 'Web shop (OpenCart)',
    locations: { gallery: OC_LOCATION },
    hideAtZero: true,
    byDefault: false,
    settings: () => ({}),
    createEmulator: ({ credentials, random }) => new OcEmulator({ apiKey: credentials.apiKey!, webhookSecret: credentials.webhookSecret!, ...(random ? { random } : {}) }),
  },
  credentials: ['apiKey', 'webhookSecret'],
  requiredSettings: [],
  capabilities,
  create: createOcConnector,
};
