/**
 * PrestaShop (webservice, `{shop}/api/`) connector: absolute sets of `stock_availables.quantity`
 * (PUT of the whole stock_available, XML body) guarded by a read before and a read-back after, hide
 * and relist through the product's `active` (PATCH, PrestaShop 8.0+), catalog discovery over products
 * and combinations by `reference`, and three polled feeds (orders, credit slips, stock movements):
 * PrestaShop's core sends no webhooks. One stock per shop: the pseudo location `default`.
 * See README.md in this folder.
 */
import { ConnectorError, type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorDefinition } from '../types';
import { PsClient } from './client';
import { PsEmulator } from './emulator';
import { PsFeeds } from './feeds';
import { PS_LOCATION, psId } from './rows';
import { DEFAULT_CANCELLED_STATES, makeTranslate } from './translate';

export { PS_LOCATION } from './rows';

export const PS_FEEDS = ['orders', 'order_slips', 'stock_movements'] as const;

export const capabilities: ConnectorCapabilities = {
  platform: 'prestashop',
  push: ['absolute_set'],
  locations: false,
  hideRelist: {
    supported: true,
    how: 'The whole product gets active 0 (out of the shop, its page gone) and active 1 again, by PATCH of that one field (PrestaShop 8.0 and later). A combination cannot be hidden alone. Stock 0 already stops orders when the product denies orders out of stock (out_of_stock).',
  },
  webhooks: [],
  polled: [...PS_FEEDS],
  rateLimit: {
    kind: 'unpublished',
    description: 'PrestaShop has no webservice rate limit of its own; the shop\'s host or firewall may answer HTTP 429, whose Retry-After is honoured.',
  },
  // One stock_available per PUT: the webservice writes one resource per request.
  maxBatch: 1,
};

/** The order states that put stock back (setting cancelledStates: ids, or a comma-separated list). */
function cancelledStates(ctx: ConnectorContext): string[] {
  const v = ctx.settings.cancelledStates;
  if (v === undefined || v === null) return DEFAULT_CANCELLED_STATES;
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [v];
  const ids = list.map((x) => psId(typeof x === 'string' ? x.trim() : x));
  if (ids.length === 0 || ids.some((x) => x === null)) throw new ConnectorError('The PrestaShop setting cancelledStates must list order state ids (e.g. [6, 8]: Canceled and Payment error on a standard install).', false);
  return ids as string[];
}

export function createPrestaShopConnector(ctx: ConnectorContext): Connector {
  const client = new PsClient(ctx);
  const feeds = new PsFeeds(client);
  const translate = makeTranslate(cancelledStates(ctx));
  return {
    capabilities,
    // PrestaShop's core sends no webhooks: nothing that arrives at the webhook address is the shop's.
    verify: () => ({ valid: false, reason: 'PrestaShop sends no webhooks; this channel reads the shop by polling, so a delivery to its webhook address is not from the shop.', refusal: 'signature' }),
    translate: (topic, body) => translate(topic, body),
    push: (targets, signal) => client.push(targets, signal),
    read: (items, signal) => client.read(items, signal),
    hide: (ref, signal) => client.setActive(ref, false, signal),
    relist: (ref, signal) => client.setActive(ref, true, signal),
    listCatalog: (signal) => client.listCatalog(signal),
    async poll(feed, cursor, signal) {
      if (feed === 'orders') return feeds.orders(cursor, signal);
      if (feed === 'order_slips') return feeds.orderSlips(cursor, signal);
      if (feed === 'stock_movements') return feeds.stockMovements(cursor, signal);
      throw new ConnectorError(`PrestaShop has no polled feed "${feed}"; it polls: ${PS_FEEDS.join(', ')}.`, false, null, null, { channelFault: false });
    },
  };
}

export const definition: ConnectorDefinition = {
  platform: 'prestashop',
  displayName: 'PrestaShop',
  docsUrl: 'https://devdocs.prestashop-project.org/8/webservice/',
  // No webhooks, so no signature header.
  secretHeaders: [],
  /** Another online shop over the gallery's stock (PrestaShop keeps one level per shop: "default"). */
  sandbox: {
    channelId: 'prestashop',
    name: 'Online shop (PrestaShop)',
    locations: { gallery: PS_LOCATION },
    hideAtZero: false,
    byDefault: false,
    settings: () => ({}),
    createEmulator: ({ credentials }) => new PsEmulator({ webserviceKey: credentials.webserviceKey! }),
  },
  credentials: ['webserviceKey'],
  requiredSettings: [],
  capabilities,
  create: createPrestaShopConnector,
};
