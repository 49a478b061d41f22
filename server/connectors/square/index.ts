/**
 * Square (REST API, official `square` SDK) connector: idempotent deltas (ADJUSTMENT changes with an
 * idempotency key) and, for a level never read, absolute PHYSICAL_COUNT sets followed by a
 * read-back; levels read with BatchRetrieveInventoryCounts; catalog discovery over ITEM objects
 * and their variations; thin order and refund webhooks expanded by fetching the order; webhooks
 * signed over the notification URL and body. No hide/relist (see `capabilities.hideRelist`).
 * See README.md in this folder.
 */
import { ConnectorError, type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorDefinition } from '../types';
import { DEFAULT_BASE_URL, MAX_BATCH, SquareConnectorClient } from './client';
import { SquareEmulator } from './emulator';
import { EXPANDED_ORDER_KEY, SQUARE_TOPICS, createTranslate } from './translate';
import { normaliseMerchantId, verifySquareDelivery } from './verify';

const NO_HIDE =
  'Not supported. Square marks a tracked variation sold out by itself when its count reaches 0 and lifts it on restock (ItemVariationLocationOverrides.sold_out is read-only: writes are ignored), so the POS and Square Online already stop selling it. The only real "hide" is archiving the whole item (CatalogItem.is_archived) through UpsertCatalogObject, which replaces the entire item with its variations, needs the current version and can drop fields a client does not know: too destructive to do automatically.';

export const capabilities: ConnectorCapabilities = {
  platform: 'square',
  push: ['idempotent_delta', 'absolute_set'],
  locations: true,
  hideRelist: { supported: false, how: NO_HIDE },
  webhooks: [...SQUARE_TOPICS],
  polled: [],
  rateLimit: {
    kind: 'unpublished',
    description: 'Square publishes no fixed quota; bursts are answered HTTP 429 with error code RATE_LIMITED (Retry-After honoured when sent). Back off with jitter.',
  },
  maxBatch: MAX_BATCH,
};

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The order a thin event is about, and its location when the event says. */
function orderOf(topic: string, body: unknown, salesFromPayments: boolean): { orderId: string; locationId: string | null } | null {
  if (!isObj(body) || !isObj(body.data) || !isObj(body.data.object)) return null;
  const object = body.data.object;
  const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
  if (topic === 'order.created' || topic === 'order.updated') {
    const thin = object[topic === 'order.created' ? 'order_created' : 'order_updated'];
    if (!isObj(thin)) return null;
    const orderId = str(thin.order_id) ?? str(body.data.id);
    return orderId ? { orderId, locationId: str(thin.location_id) } : null;
  }
  if (topic === 'payment.updated' && salesFromPayments) {
    const payment = object.payment;
    if (!isObj(payment) || payment.status !== 'COMPLETED') return null;
    const orderId = str(payment.order_id);
    return orderId ? { orderId, locationId: str(payment.location_id) } : null;
  }
  if (topic === 'refund.created' || topic === 'refund.updated') {
    const refund = object.refund;
    // Only a completed refund becomes a fact; a pending one needs no fetch.
    if (!isObj(refund) || refund.status !== 'COMPLETED') return null;
    const orderId = str(refund.order_id);
    return orderId ? { orderId, locationId: str(refund.location_id) } : null;
  }
  return null;
}

/** What settings.merchantId is and where to find it (Square shows it on no dashboard). */
export const MERCHANT_ID_HELP =
  'It is the id of the Square seller account this channel\'s access token belongs to; every Square event names it (merchant_id) and the hub refuses events for any other. Square shows it on no dashboard: read it with `curl https://connect.squareup.com/v2/merchants/me -H "Authorization: Bearer <access token>"` (the "id" of "merchant"), or from the merchant_id of an event in the Developer Console\'s webhook logs.';

export function createSquareConnector(ctx: ConnectorContext): Connector {
  const merchantId = normaliseMerchantId(ctx.settings.merchantId);
  if (!merchantId || !/^[A-Z0-9_-]{1,64}$/.test(merchantId)) throw new ConnectorError(`The Square channel needs the setting merchantId. ${MERCHANT_ID_HELP}`, false);
  const client = new SquareConnectorClient(ctx);
  const signatureKey = ctx.credentials.webhookSignatureKey;
  const translate = createTranslate({ restockReturns: client.restockReturns, locationIds: client.locationIds, salesFromPayments: client.salesFromPayments });
  const unsupported = async (): Promise<void> => {
    throw new ConnectorError(`Square listings are not hidden or relisted by stockrelay. ${NO_HIDE}`, false);
  };
  return {
    capabilities,
    // The signature over URL + body, then the account: the signed merchant_id must be merchantId.
    verify: (raw, headers) => verifySquareDelivery(raw, headers, { signatureKey, notificationUrl: client.notificationUrl, merchantId }),
    /**
     * Order and refund events are thin, and a completed payment names its order: the order (lines,
     * returns, tenders) is fetched with BatchRetrieveOrders and attached under `stockrelay_order`. Other topics, pending refunds,
     * bodies that name no order and orders at a location outside `locationIds` are returned
     * unchanged; an order Square does not have leaves the body unchanged too, and translate then
     * says the order could not be read.
     */
    async expand(topic, body, signal) {
      const which = orderOf(topic, body, client.salesFromPayments);
      if (!which || !isObj(body)) return body;
      // An order at a location this channel does not cover gives no facts: no need to fetch it.
      if (which.locationId !== null && client.locationIds !== null && !client.locationIds.includes(which.locationId)) return body;
      const order = await client.fetchOrder(which.orderId, which.locationId, signal);
      return order ? { ...body, [EXPANDED_ORDER_KEY]: order } : body;
    },
    translate,
    push: (targets, signal) => client.push(targets, signal),
    read: (items, signal) => client.read(items, signal),
    hide: unsupported,
    relist: unsupported,
    listCatalog: (signal) => client.listCatalog(signal),
  };
}

/** The emulated Square seller: every event names it (merchant_id) and the channel accepts only its own. */
const SANDBOX_MERCHANT = 'ML7RSTOCKRELAY';

export const definition: ConnectorDefinition = {
  platform: 'square',
  displayName: 'Square',
  docsUrl: 'https://developer.squareup.com/reference/square',
  kind: 'point_of_sale',
  secretHeaders: ['x-square-hmacsha256-signature', 'x-square-signature'],
  /**
   * The gallery's point of sale, with a register at the gallery and one at the warehouse shop.
   * Square cannot hide a listing, so it never does. Square signs over the notification URL: it must
   * be byte for byte the address webhooks are sent to.
   */
  sandbox: {
    channelId: 'square',
    name: 'Gallery POS (Square)',
    locations: { gallery: 'LGALLERY7Q2K9', warehouse: 'LWAREHSE4M8XN' },
    hideAtZero: false,
    byDefault: true,
    settings: ({ webhookUrl }) => ({ notificationUrl: webhookUrl, merchantId: SANDBOX_MERCHANT }),
    createEmulator: ({ credentials, locations, random }) =>
      new SquareEmulator({ accessToken: credentials.accessToken!, webhookSignatureKey: credentials.webhookSignatureKey!, locations, merchantId: SANDBOX_MERCHANT, ...(random ? { random } : {}) }),
  },
  credentials: ['accessToken', 'webhookSignatureKey'],
  /**
   * OAuth instead of an access token, when the channel's credentials name clientId and clientSecret
   * (docs/credentials-oauth.md). Square's code flow: the secret in the JSON body of ObtainToken
   * (POST /oauth2/token), a refresh token that is not rotated and does not expire, access tokens of
   * 30 days renewed every 7 days or less as Square recommends. (Square's PKCE flow, whose refresh
   * tokens are single-use, is for apps that cannot keep a secret; the hub can.)
   */
  oauth: {
    grant: 'authorization_code',
    baseUrl: DEFAULT_BASE_URL,
    followsChannelBaseUrl: true,
    authorizePath: '/oauth2/authorize',
    tokenPath: '/oauth2/token',
    scopes: ['ITEMS_READ', 'INVENTORY_READ', 'INVENTORY_WRITE', 'ORDERS_READ', 'PAYMENTS_READ'],
    scopeSeparator: ' ',
    clientAuth: 'client_secret_post',
    pkce: false,
    rotatesRefreshTokens: false,
    tokenRequestBody: 'json',
    // Square asks the owner to log in even with a session open, so the right seller account consents.
    authorizeParams: { session: 'false' },
    refreshEveryMs: 7 * 24 * 3_600_000,
    replaces: ['accessToken'],
    optional: true,
    accountSetting: 'merchantId',
  },
  requiredSettings: ['notificationUrl', 'merchantId'],
  settingHelp: { merchantId: MERCHANT_ID_HELP },
  capabilities,
  create: createSquareConnector,
};
