/**
 * Zettle (PayPal Zettle) connector: a point of sale with one tracked stock location per organisation
 * (its STORE). Stock is moved between locations, never set: a push reads the STORE balance and moves
 * the difference from SUPPLIER or to BIN, only when the balance is the one the hub expected
 * (client.ts says how a sale at the counter is kept). Purchases and balance changes arrive as
 * Pusher webhooks signed with the subscription's signing key; purchases are also polled as a
 * backstop. Tokens: the assertion grant with the API key the merchant created for the app. Zettle
 * has no storefront to hide a listing from. See README.md in this folder.
 */
import { ConnectorError, type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorDefinition, type OAuthSpec } from '../types';
import { MAX_BATCH, ZettleClient } from './client';
import { ZettleEmulator } from './emulator';
import { translateZettle } from './translate';
import { isZettleTestMessage, verifyZettleDelivery } from './verify';
import { HOSTS, PATHS, PURCHASES_FEED, SIGNATURE_HEADER, ZETTLE_TOPICS } from './wire';

const NO_HIDE =
  'Not offered: Zettle is a point of sale with no storefront for buyers to browse, so there is nothing to hide a product from. At zero the POS shows the product as out of stock and staff can still ring it up; a supplier who also sells online hides the listing on the web store, not here.';

export const capabilities: ConnectorCapabilities = {
  platform: 'zettle',
  push: ['idempotent_delta', 'absolute_set'],
  locations: true,
  hideRelist: { supported: false, how: NO_HIDE },
  webhooks: [...ZETTLE_TOPICS],
  polled: [PURCHASES_FEED],
  rateLimit: {
    kind: 'requests_per_window',
    requests: 4,
    windowMs: 1250,
    description: 'Zettle\'s Inventory API allows 4 requests a second by default, measured as an average over a short period (HTTP 429 beyond it); the hub sends every request of the channel at most 4 in any 1.25 s (3.2 a second), so that requests arriving a little late or early never make 5 in a second as Zettle counts it.',
  },
  maxBatch: MAX_BATCH,
};

/** The assertion grant of a self-hosted app (oauth-api/user-guides/set-up-app-authorisation/set-up-authorisation-assertion-grant.md). */
export const ZETTLE_OAUTH: OAuthSpec = {
  grant: 'jwt_bearer',
  assertionCredential: 'apiKey',
  baseUrl: HOSTS.oauth,
  tokenPath: PATHS.token,
  scopes: [],
  clientAuth: 'none',
  rotatesRefreshTokens: false,
  tokenRequestBody: 'form',
  // Zettle answers {access_token, expires_in} only.
  tokenTypeOptional: true,
};

export const ORGANIZATION_HELP =
  'It is the uuid of the Zettle organisation whose API key this channel uses; every Zettle event names it (organizationUuid) and the hub refuses events for any other. Read it as "organizationUuid" from GET https://oauth.zettle.com/users/self with a token of the channel, or from any event in your webhook logs.';

export function createZettleConnector(ctx: ConnectorContext): Connector {
  const client = new ZettleClient(ctx, ZETTLE_OAUTH);
  const signingKey = ctx.credentials.signingKey;
  const unsupported = async (): Promise<void> => {
    throw new ConnectorError(`Zettle products are not hidden or relisted by stockrelay. ${NO_HIDE}`, false);
  };
  return {
    capabilities,
    verify: (raw, headers) => verifyZettleDelivery(raw, headers, { signingKey, organizationUuid: client.organizationUuid }),
    isPing: (raw) => isZettleTestMessage(raw),
    translate: translateZettle,
    push: (targets, signal) => client.push(targets, signal),
    read: (items, signal) => client.read(items, signal),
    hide: unsupported,
    relist: unsupported,
    listCatalog: (signal) => client.listCatalog(signal),
    poll: (feed, cursor, signal) => client.poll(feed, cursor, signal),
  };
}

/** The emulated organisation: every event names it, and the channel accepts only its own. */
const SANDBOX_ORGANIZATION = '5e0a1c2d-3b4f-11ef-9a7c-0242ac120002';
/** Its STORE location. */
const SANDBOX_STORE = '6f1b2d3e-4c5a-11ef-8b6d-0242ac120002';

export const definition: ConnectorDefinition = {
  platform: 'zettle',
  displayName: 'Zettle',
  docsUrl: 'https://developer.zettle.com/docs/api',
  kind: 'point_of_sale',
  secretHeaders: [SIGNATURE_HEADER],
  /**
   * The gallery's card reader and till: Zettle keeps one stock location per organisation, mapped to
   * the gallery. No storefront, so nothing to hide.
   */
  sandbox: {
    channelId: 'zettle',
    name: 'Gallery counter (Zettle)',
    locations: { gallery: SANDBOX_STORE },
    hideAtZero: false,
    byDefault: false,
    settings: ({ baseUrl }) => ({ organizationUuid: SANDBOX_ORGANIZATION, oauthBaseUrl: baseUrl }),
    createEmulator: ({ credentials, random }) =>
      new ZettleEmulator({ clientId: credentials.clientId!, apiKey: credentials.apiKey!, signingKey: credentials.signingKey!, organizationUuid: SANDBOX_ORGANIZATION, storeUuid: SANDBOX_STORE, ...(random ? { random } : {}) }),
  },
  credentials: ['clientId', 'apiKey', 'signingKey'],
  oauth: ZETTLE_OAUTH,
  requiredSettings: ['organizationUuid'],
  settingHelp: { organizationUuid: ORGANIZATION_HELP },
  capabilities,
  create: createZettleConnector,
};
