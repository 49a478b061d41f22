/**
 * Lightspeed Retail X-Series (formerly Vend) connector: a point of sale with stock per outlet.
 * Pushes are absolute sets of an outlet's `current_amount` (PUT /api/2.1/products/{id}), read before
 * and read back; levels and discovery through API 2.0; `sale.update` and `inventory.update` webhooks
 * (form-encoded, JSON in `payload`, signed with the OAuth add-on's client_secret), and, because X-Series
 * does not guarantee their delivery, the `sales` and `inventory` feeds polled by version as a backstop.
 * No hide/relist (see `capabilities.hideRelist`). See README.md in this folder.
 */
import { ConnectorError, type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorDefinition, type RateLimitModel } from '../types';
import { XS_FEEDS, XsClient } from './client';
import { XsEmulator, XS_SANDBOX } from './emulator';
import { domainPrefixOf } from './http';
import { wholeSetting } from '../kit/settings';
import { XS_TOPICS, translate } from './translate';
import { SIGNATURE_HEADER, verifyXsDelivery } from './verify';

const NO_HIDE =
  'Not offered. An X-Series product made inactive disappears from the register too, so the shop could no longer sell what is on its shelf; and a tracked product at 0 already shows as out of stock at the register and in the web store X-Series feeds. Staff can mark a product inactive in Catalog → Products themselves.';

/**
 * The documented limit (docs "Rate Limiting"): 300 × registers + 50 requests in a 5-minute window,
 * per retailer per application. The hub paces at 90% of it, leaving room for a request of staff's
 * own tools under the same add-on.
 */
export function rateLimitFor(registers: number): RateLimitModel {
  const documented = 300 * registers + 50;
  return {
    kind: 'requests_per_window',
    requests: Math.floor(documented * 0.9),
    windowMs: 300_000,
    description: `Lightspeed X-Series allows 300 requests per register plus 50 (${documented} with ${registers} register${registers === 1 ? '' : 's'}) in 5 minutes per retailer and application, and answers 429 with an HTTP-date Retry-After beyond it; paced at 90% of that (${Math.floor(documented * 0.9)}), every request counted.`,
  };
}

export const capabilities: ConnectorCapabilities = {
  platform: 'lightspeed-x',
  push: ['absolute_set'],
  locations: true,
  hideRelist: { supported: false, how: NO_HIDE },
  webhooks: [...XS_TOPICS],
  polled: [...XS_FEEDS],
  rateLimit: rateLimitFor(1),
  // One product's outlet per PUT: a push target is one SKU at one outlet.
  maxBatch: 1,
};

/** What settings.domainPrefix is. */
export const DOMAIN_PREFIX_HELP =
  'It is the first part of the store\'s address: "gallery" for https://gallery.retail.lightspeed.app (or https://gallery.vendhq.com; then also give host: vendhq.com). Webhooks that name another store are refused.';

export function createLightspeedXConnector(ctx: ConnectorContext): Connector {
  const domainPrefix = domainPrefixOf(ctx);
  const registers = wholeSetting(ctx, 'Lightspeed X-Series', 'registers', 1, 1, 1000);
  const retailerId = ctx.settings.retailerId;
  if (retailerId !== undefined && (typeof retailerId !== 'string' || !/^[0-9a-f-]{8,64}$/i.test(retailerId))) {
    throw new ConnectorError('The Lightspeed X-Series setting retailerId must be the store\'s retailer id (a UUID, as in the retailer_id of its products), or left out.', false);
  }
  const client = new XsClient(ctx);
  const unsupported = async (): Promise<void> => {
    throw new ConnectorError(`Lightspeed X-Series listings are not hidden or relisted by stockrelay. ${NO_HIDE}`, false);
  };
  return {
    capabilities: { ...capabilities, rateLimit: rateLimitFor(registers) },
    verify: (raw, headers) => verifyXsDelivery(raw, headers, { clientSecret: ctx.credentials.clientSecret, domainPrefix, retailerId: typeof retailerId === 'string' ? retailerId.toLowerCase() : null }),
    translate: (topic, body, headers) => translate(topic, body, headers),
    push: (targets, signal) => client.push(targets, signal),
    read: (items, signal) => client.read(items, signal),
    hide: unsupported,
    relist: unsupported,
    listCatalog: (signal) => client.listCatalog(signal),
    poll: (feed, cursor, signal) => client.poll(feed, cursor, signal),
  };
}

export const definition: ConnectorDefinition = {
  platform: 'lightspeed-x',
  displayName: 'Lightspeed Retail (X-Series)',
  docsUrl: 'https://x-series-api.lightspeedhq.com/docs/introduction',
  kind: 'point_of_sale',
  secretHeaders: [SIGNATURE_HEADER],
  /** The gallery's till and the warehouse shop's, as two outlets of one X-Series store. */
  sandbox: {
    channelId: 'lightspeed-x',
    name: 'Gallery POS (Lightspeed X-Series)',
    locations: { gallery: XS_SANDBOX.outlets[0], warehouse: XS_SANDBOX.outlets[1] },
    hideAtZero: false,
    byDefault: false,
    settings: () => ({ domainPrefix: XS_SANDBOX.domainPrefix, registers: 2 }),
    createEmulator: ({ credentials, random }) =>
      new XsEmulator({ accessToken: credentials.accessToken!, clientSecret: credentials.clientSecret!, domainPrefix: XS_SANDBOX.domainPrefix, registers: 2, ...(random ? { random } : {}) }),
  },
  credentials: ['accessToken', 'clientSecret'],
  /**
   * OAuth instead of a personal token, when the channel's credentials name clientId (an add-on
   * registered at developers.retail.lightspeed.app): the consent page on secure.retail.lightspeed.app,
   * the token endpoint on the store's own address (give the channel baseUrl
   * https://<domainPrefix>.retail.lightspeed.app), the secret in the form body.
   */
  oauth: {
    grant: 'authorization_code',
    baseUrl: 'https://secure.retail.lightspeed.app',
    followsChannelBaseUrl: true,
    authorizePath: 'https://secure.retail.lightspeed.app/connect',
    tokenPath: '/api/1.0/token',
    scopes: ['products:read', 'products:write', 'inventory:read', 'inventory:write', 'sales:read', 'webhooks'],
    scopeSeparator: ' ',
    clientAuth: 'client_secret_post',
    pkce: false,
    rotatesRefreshTokens: true,
    tokenRequestBody: 'form',
    replaces: ['accessToken'],
    optional: true,
  },
  requiredSettings: ['domainPrefix'],
  settingHelp: { domainPrefix: DOMAIN_PREFIX_HELP },
  capabilities,
  create: createLightspeedXConnector,
};
