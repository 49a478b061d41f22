/**
 * Revel Systems (REST API, `https://<subdomain>.revelup.com/resources/`) connector: a point of sale
 * whose establishments are our locations. Absolute sets of a product's `quantity_in_hand` at an
 * establishment (CurrentStock), read before and read back after; hide and relist through the
 * product's `display_online`; discovery over active products by `sku`; the `order.finalized` and
 * `inout.stock` webhooks, signed with HMAC-SHA1; and two polled feeds, `orders` (Revel does not
 * promise delivery) and `inventory` (a count typed at the counter sends no webhook).
 * See README.md in this folder.
 */
import { ConnectorError, type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorDefinition } from '../types';
import { RevelClient } from './client';
import { RevelEmulator } from './emulator';
import { RevelFeeds } from './feeds';
import { instanceOf } from './http';
import { EXPANDED_STOCK_KEY, translateRevel } from './translate';
import { verifyRevel, isRevelPing } from './verify';
import { idOf, INOUT_STOCK, isRow, REVEL_TOPICS } from './wire';

export const REVEL_FEEDS = ['orders', 'inventory'] as const;

/**
 * Revel publishes no rate limit. The connector paces itself at 4 requests a second (an assumption,
 * README "Limits"), below the 6 a second its emulator enforces, and honours a 429's Retry-After.
 */
export const REVEL_PACE = { requests: 4, windowMs: 1000 };

export const capabilities: ConnectorCapabilities = {
  platform: 'revel',
  push: ['absolute_set'],
  locations: true,
  hideRelist: {
    supported: true,
    how: 'Revel sells at the counter and, where the owner uses it, through Revel online ordering: the product gets display_online false (gone from online ordering) and true again. The counter keeps selling it; the product stays active.',
  },
  webhooks: [...REVEL_TOPICS],
  polled: [...REVEL_FEEDS],
  rateLimit: {
    kind: 'requests_per_window',
    requests: REVEL_PACE.requests,
    windowMs: REVEL_PACE.windowMs,
    description: 'Revel publishes no API rate limit; the hub assumes one and sends at most 4 requests a second per channel, and waits out any 429 for its Retry-After.',
  },
  // One stock record per PATCH: the connector writes one record per request.
  maxBatch: 1,
};

export function createRevelConnector(ctx: ConnectorContext): Connector {
  const instance = instanceOf(ctx);
  const secret = ctx.credentials.webhookSecret;
  if (!secret) throw new ConnectorError('The Revel channel needs the credential webhookSecret: the shared secret Revel gave when your webhooks were set up.', false);
  const client = new RevelClient(ctx);
  const feeds = new RevelFeeds(client, ctx.locations ?? []);
  return {
    capabilities,
    verify: (raw, headers) => verifyRevel(raw, headers, secret, instance),
    isPing: (raw, headers) => isRevelPing(raw, headers),
    async expand(topic, body, signal) {
      if (topic !== INOUT_STOCK || !isRow(body) || Array.isArray(body[EXPANDED_STOCK_KEY])) return body;
      if (body.type !== undefined && body.type !== 'product') return body;
      const product = idOf(body.id);
      if (!product) return body;
      return { ...body, [EXPANDED_STOCK_KEY]: await client.stockOfProduct(product, signal) };
    },
    translate: (topic, body) => translateRevel(topic, body),
    push: (targets, signal) => client.push(targets, signal),
    read: (items, signal) => client.read(items, signal),
    hide: (ref, signal) => client.setOnline(ref, false, signal),
    relist: (ref, signal) => client.setOnline(ref, true, signal),
    listCatalog: (signal) => client.listCatalog(signal),
    async poll(feed, cursor, signal) {
      if (feed === 'orders' || feed === 'inventory') return feeds.poll(feed, cursor, signal);
      throw new ConnectorError(`Revel has no polled feed "${feed}"; it polls: ${REVEL_FEEDS.join(', ')}.`, false, null, null, { channelFault: false });
    },
  };
}

/** The emulated Revel instance: every delivery names it (X-Revel-Instance) and the channel accepts only its own. */
const SANDBOX_INSTANCE = 'gallery-sandbox';

export const definition: ConnectorDefinition = {
  platform: 'revel',
  displayName: 'Revel Systems',
  docsUrl: 'https://developer.revelsystems.com/revelsystems/docs/webhooks',
  kind: 'point_of_sale',
  secretHeaders: ['x-revel-signature', 'api-authentication'],
  /** The gallery's counter and the warehouse shop as two Revel establishments; online ordering is not hidden at zero. */
  sandbox: {
    channelId: 'revel',
    name: 'Gallery POS (Revel Systems)',
    locations: { gallery: '1', warehouse: '2' },
    hideAtZero: false,
    byDefault: false,
    settings: () => ({ subdomain: SANDBOX_INSTANCE }),
    createEmulator: ({ credentials, locations, random }) =>
      new RevelEmulator({ apiKey: credentials.apiKey!, apiSecret: credentials.apiSecret!, webhookSecret: credentials.webhookSecret!, instance: SANDBOX_INSTANCE, locations, ...(random ? { random } : {}) }),
  },
  credentials: ['apiKey', 'apiSecret', 'webhookSecret'],
  requiredSettings: ['subdomain'],
  settingHelp: { subdomain: 'the name before .revelup.com in the address of your Revel Management Console, e.g. "mygallery" for https://mygallery.revelup.com; Revel names it in every webhook (X-Revel-Instance).' },
  capabilities,
  create: createRevelConnector,
};
