/**
 * Lightspeed Retail (R-Series) connector (API V3, `https://api.lightspeedapp.com/API/V3/Account/{accountID}/`):
 * absolute sets of an item's per-shop `qoh` (ItemShops) guarded by a read before and a read-back
 * after, hide and relist through the item's `publishToEcom`, catalog discovery over items by their
 * `customSku` (setting `skuField`), and two polled feeds, sales and item shops, by time stamp:
 * R-Series sends no webhooks. Shops (shopID) are the locations. OAuth 2.0 through the kit's
 * credentials component; every request paced by the account's leaky bucket (a write costs ten reads).
 * See README.md in this folder.
 */
import { ConnectorError, type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorDefinition } from '../types';
import { LsClient } from './client';
import { LsEmulator } from './emulator';
import { LS_FEEDS, LsFeeds } from './feeds';
import { BUCKET_SIZE, DRIP_PER_SECOND, LsHttp, PLATFORM, WRITE_COST } from './http';
import { SKU_FIELDS, type SkuField } from './rows';
import { makeTranslate } from './translate';

/**
 * The capabilities for an account's bucket (60 units draining 1 a second unless the account shows a
 * larger one in `X-LS-API-Bucket-Level`, given as settings `bucketSize` and `dripPerSecond`). A push
 * is sized to fit a full bucket: one read and its writes (ten units each), so it never waits on the
 * pace for longer than the bucket takes to drain once.
 */
export function capabilitiesFor(bucketSize = BUCKET_SIZE, dripPerSecond = DRIP_PER_SECOND): ConnectorCapabilities {
  return {
    platform: 'lightspeed-r',
    push: ['absolute_set'],
    locations: true,
    hideRelist: {
      supported: true,
      how: 'The item is unpublished from the online store (publishToEcom false) and published again (true). It stays sellable at the counter: archiving would take it out of the register and the reports.',
    },
    webhooks: [],
    polled: [...LS_FEEDS],
    rateLimit: {
      kind: 'leaky_bucket',
      bucketSize,
      dripPerSecond,
      writeCost: WRITE_COST,
      description: `A leaky bucket per account: ${bucketSize} units, draining ${dripPerSecond} a second; a GET pours 1 unit, a PUT, POST or DELETE ${WRITE_COST}. Every request is paced within it, so the API never answers 429 to our own pace.`,
    },
    // One read of the push's items, then one write per item: as many as a full bucket takes.
    maxBatch: Math.max(1, Math.floor((bucketSize - 1) / WRITE_COST)),
  };
}

export const capabilities: ConnectorCapabilities = capabilitiesFor();

function bucketSetting(ctx: ConnectorContext, name: string, fallback: number, min: number, max: number): number {
  const v = ctx.settings[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new ConnectorError(`The ${PLATFORM} setting ${name} must be a number from ${min} to ${max} (the account's bucket as the X-LS-API-Bucket-Level and X-LS-API-Drip-Rate headers show it; ${fallback} by default).`, false);
  return v;
}

function skuField(ctx: ConnectorContext): SkuField {
  const v = ctx.settings.skuField ?? 'customSku';
  if (typeof v !== 'string' || !(SKU_FIELDS as readonly string[]).includes(v)) throw new ConnectorError(`The ${PLATFORM} setting skuField must be one of ${SKU_FIELDS.join(', ')} (the item field that holds your SKU; customSku by default).`, false);
  return v as SkuField;
}

export function createLightspeedRConnector(ctx: ConnectorContext): Connector {
  const field = skuField(ctx);
  const client = new LsClient(new LsHttp(ctx), field);
  const feeds = new LsFeeds(client);
  const translate = makeTranslate(field);
  const size = bucketSetting(ctx, 'bucketSize', BUCKET_SIZE, WRITE_COST + 1, 100_000);
  const drip = bucketSetting(ctx, 'dripPerSecond', DRIP_PER_SECOND, 0.1, 1_000);
  const caps = size === BUCKET_SIZE && drip === DRIP_PER_SECOND ? capabilities : capabilitiesFor(size, drip);
  return {
    capabilities: caps,
    // R-Series sends no webhooks: nothing that arrives at the webhook address is the account's.
    verify: () => ({ valid: false, reason: `${PLATFORM} sends no webhooks; this channel reads the account by polling, so a delivery to its webhook address is not from Lightspeed.`, refusal: 'signature' }),
    translate: (topic, body) => translate(topic, body),
    push: (targets, signal) => client.push(targets, signal),
    read: (items, signal) => client.read(items, signal),
    hide: (ref, signal) => client.setPublished(ref, false, signal),
    relist: (ref, signal) => client.setPublished(ref, true, signal),
    listCatalog: (signal) => client.listCatalog(signal),
    async poll(feed, cursor, signal) {
      if (feed === 'sales') return feeds.sales(cursor, signal);
      if (feed === 'item_shops') return feeds.itemShops(cursor, signal);
      throw new ConnectorError(`${PLATFORM} has no polled feed "${feed}"; it polls: ${LS_FEEDS.join(', ')}.`, false, null, null, { channelFault: false });
    },
  };
}

/**
 * The sandbox's account and its two shops. Its bucket is a larger account's (300 units, 10 a second):
 * the demo polls every feed often, and the documented default (60, 1 a second) would keep a supplier
 * trying it waiting minutes for the first push.
 */
const SANDBOX_ACCOUNT = '181220';
export const SANDBOX_BUCKET = { size: 300, drip: 10 };

export const definition: ConnectorDefinition = {
  platform: 'lightspeed-r',
  displayName: PLATFORM,
  docsUrl: 'https://developers.lightspeedhq.com/retail/introduction/introduction/',
  kind: 'point_of_sale',
  // No webhooks, so no signature header.
  secretHeaders: [],
  /** The gallery's counter and the warehouse as two R-Series shops of one account. */
  sandbox: {
    channelId: 'lightspeed-r',
    name: 'Counter POS (Lightspeed Retail R-Series)',
    locations: { gallery: '1', warehouse: '2' },
    hideAtZero: false,
    byDefault: false,
    settings: () => ({ accountId: SANDBOX_ACCOUNT, bucketSize: SANDBOX_BUCKET.size, dripPerSecond: SANDBOX_BUCKET.drip }),
    createEmulator: ({ credentials, locations }) => new LsEmulator({ accountId: SANDBOX_ACCOUNT, accessToken: credentials.accessToken!, shops: locations, bucketReported: SANDBOX_BUCKET }),
  },
  credentials: ['accessToken'],
  requiredSettings: ['accountId'],
  settingHelp: {
    accountId: 'It is the account number of the Lightspeed Retail (R-Series) account: the digits after /Account/ in API addresses (GET https://api.lightspeedapp.com/API/V3/Account.json answers it).',
  },
  /**
   * Lightspeed's OAuth (2024 onwards): consent at cloud.lightspeedapp.com/auth/oauth/authorize, the
   * token endpoint at /auth/oauth/token with the client id and secret in the form body; each refresh
   * answers a new refresh token (taken as rotating: the kit stores it before the access token is
   * used). A channel given `accessToken` instead (a token managed outside the hub) does without.
   */
  oauth: {
    grant: 'authorization_code',
    baseUrl: 'https://cloud.lightspeedapp.com',
    authorizePath: '/auth/oauth/authorize',
    tokenPath: '/auth/oauth/token',
    scopes: ['employee:inventory', 'employee:register_read'],
    scopeSeparator: ' ',
    clientAuth: 'client_secret_post',
    pkce: false,
    rotatesRefreshTokens: true,
    replaces: ['accessToken'],
    optional: true,
  },
  capabilities,
  create: createLightspeedRConnector,
};
