/**
 * Wix Stores (REST, both catalog versions) connector. The site's catalog version is asked once
 * (GET /stores/v3/provision/version) unless the channel says: catalog V1 keeps one level per
 * variant (the pseudo location `default`) and is written with increment/decrement deltas after a
 * read; catalog V3 keeps a level per variant and location and is written by compare-and-set (each
 * inventory item's revision). Orders are Wix eCommerce orders on both; webhooks are RS256-signed
 * JWTs checked with the app's public key, and the site is the token's instanceId. Hide/relist
 * through the product's `visible`. See README.md in this folder.
 */
import crypto from 'node:crypto';
import { type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorDefinition, ConnectorError } from '../types';
import { WixHttp } from './client';
import { CatalogV1, MAX_DELTAS } from './catalog-v1';
import { CatalogV3 } from './catalog-v3';
import { WixEmulator } from './emulator';
import { EXPANDED_ORDER_KEY, REFUND_COMPLETED, WIX_TOPICS, bodyOf, translateWith } from './translate';
import { verifyWixDelivery } from './verify';

export { WIX_LOCATION_V1 } from './translate';

export const capabilities: ConnectorCapabilities = {
  platform: 'wix',
  push: ['compare_and_set'],
  locations: true,
  hideRelist: {
    supported: true,
    how: 'The whole product gets visible false (out of the store, its page gone for buyers) and visible true again; Wix shows a tracked variant at 0 as out of stock by itself.',
  },
  webhooks: [...WIX_TOPICS],
  polled: [],
  rateLimit: {
    kind: 'requests_per_window',
    requests: 3,
    windowMs: 1000,
    description: 'Wix allows an app or API key 200 requests a minute per site; the hub counts every request it makes (a push reads before it writes) and sends at most 3 a second (180 a minute), and answers a 429 by waiting.',
  },
  maxBatch: MAX_DELTAS,
};

export const INSTANCE_ID_HELP =
  'It is the id of this site\'s installation of the Wix app whose webhooks the hub receives (every Wix event names it as instanceId, and the hub refuses events for any other site). The app\'s dashboard shows it per installation; it is also in the instanceId of any event in the app\'s webhook logs.';

export function createWixConnector(ctx: ConnectorContext): Connector {
  const instanceId = typeof ctx.settings.instanceId === 'string' ? ctx.settings.instanceId.trim() : '';
  if (!instanceId) throw new ConnectorError(`The Wix channel needs the setting instanceId. ${INSTANCE_ID_HELP}`, false);
  const defaultLocation = ctx.settings.defaultLocationId;
  if (defaultLocation !== undefined && (typeof defaultLocation !== 'string' || defaultLocation.trim() === '')) throw new ConnectorError('The Wix setting defaultLocationId must be the id of the site\'s default location (catalog V3), or left out.', false);
  const http = new WixHttp(ctx);
  const v1 = new CatalogV1(http);
  const v3 = new CatalogV3(http);
  const catalog = async (signal?: AbortSignal) => ((await http.version(signal)) === 'V1' ? v1 : v3);
  // The app's public key is public: the settings may give it inline (the sandbox does), else the credential.
  const inline = typeof ctx.settings.webhookPublicKey === 'string' && ctx.settings.webhookPublicKey.trim() !== '' ? ctx.settings.webhookPublicKey : null;
  const publicKey = inline ?? ctx.credentials.webhookPublicKey;
  return {
    capabilities,
    verify: (raw, headers) => verifyWixDelivery(raw, headers, { publicKey, instanceId, ...(ctx.clock ? { clock: ctx.clock } : {}) }),
    /**
     * The token decoded into `{eventType, instanceId, event}` (already verified at the door); a
     * refund names its lines by id only, so its order is fetched (GET /ecom/v1/orders/{id}).
     */
    async expand(_topic, body, signal) {
      const decoded = bodyOf(body);
      if (!decoded) return body;
      if (decoded.eventType !== REFUND_COMPLETED || decoded[EXPANDED_ORDER_KEY]) return decoded;
      const action = (decoded.event.actionEvent as { body?: { orderId?: unknown } } | undefined)?.body;
      const orderId = typeof action?.orderId === 'string' ? action.orderId : null;
      if (!orderId) return decoded;
      const r = await http.call('GET', `/ecom/v1/orders/${encodeURIComponent(orderId)}`, undefined, 'fetch the refunded order', signal);
      return r.order ? { ...decoded, [EXPANDED_ORDER_KEY]: r.order } : decoded;
    },
    translate: (_topic, body) => translateWith(typeof defaultLocation === 'string' ? defaultLocation.trim() : null, body),
    push: async (targets, signal) => (await catalog(signal)).push(targets, signal),
    read: async (items, signal) => (await catalog(signal)).read(items, signal),
    hide: async (ref, signal) => (await catalog(signal)).setVisible(ref, false, signal),
    relist: async (ref, signal) => (await catalog(signal)).setVisible(ref, true, signal),
    listCatalog: async (signal) => (await catalog(signal)).listCatalog(signal),
  };
}

/** The emulated site's app instance: every event names it, and the sandbox channel accepts only it. */
const SANDBOX_INSTANCE = 'a0c1e5d2-7b3f-4e61-9a8c-5d4f3b2a1e00';
const SANDBOX_DEFAULT_LOCATION = 'loc-gallery-0001';
const SANDBOX_SITE = '6f1d2c3b-4a59-4e8f-b7a6-9c8d7e6f5a40';
/** The public key of each sandbox emulator, by the webhook address it was made for (a made-up credential cannot be a key pair). */
const sandboxKeys = new Map<string, string>();

export const definition: ConnectorDefinition = {
  platform: 'wix',
  displayName: 'Wix Stores',
  docsUrl: 'https://dev.wix.com/docs/api-reference/business-solutions/stores/introduction',
  // Wix signs inside the body (a JWT): no header carries a signature.
  secretHeaders: [],
  /**
   * A Wix gift shop on catalog V3 selling from the gallery: Wix's checkout takes stock from the
   * site's default location only, so that is the one location the channel publishes.
   */
  sandbox: {
    channelId: 'wix',
    name: 'Gift shop (Wix Stores)',
    locations: { gallery: SANDBOX_DEFAULT_LOCATION },
    hideAtZero: true,
    byDefault: false,
    settings: ({ webhookUrl }) => ({ siteId: SANDBOX_SITE, instanceId: SANDBOX_INSTANCE, defaultLocationId: SANDBOX_DEFAULT_LOCATION, webhookPublicKey: sandboxKeys.get(webhookUrl) ?? '' }),
    createEmulator: ({ credentials, webhookUrl, locations, random }) => {
      const keys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
      sandboxKeys.set(webhookUrl, keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());
      return new WixEmulator({ apiKey: credentials.apiKey!, siteId: SANDBOX_SITE, instanceId: SANDBOX_INSTANCE, privateKey: keys.privateKey, catalogVersion: 'V3', locations, ...(random ? { random } : {}) });
    },
  },
  credentials: ['apiKey', 'webhookPublicKey'],
  requiredSettings: ['siteId', 'instanceId'],
  settingHelp: { instanceId: INSTANCE_ID_HELP, siteId: 'It is the id of the Wix site, in the address of its dashboard (manage.wix.com/dashboard/<site id>/…).' },
  capabilities,
  create: createWixConnector,
};
