/**
 * What the Zettle connector and its emulator share: the topics, the signature header, the API
 * paths and the Pusher message's signing rule. Facts and where each was confirmed: README.md.
 */
import crypto from 'node:crypto';

/** The Pusher events the hub subscribes to (pusher-api/api-reference.md, "Supported events"). */
export const ZETTLE_TOPICS = ['PurchaseCreated', 'InventoryBalanceChanged'] as const;
export type ZettleTopic = (typeof ZETTLE_TOPICS)[number];

/** The header carrying a Pusher message's signature (pusher-api/user-guides/create-subscriptions.md, step 4). */
export const SIGNATURE_HEADER = 'x-izettle-signature';

/** The message Zettle sends when a subscription is created, to check the address answers. */
export const TEST_MESSAGE = 'TestMessage';

/** The polled backstop: purchases (purchase.izettle.com `/purchases/v2`). */
export const PURCHASES_FEED = 'purchases';

/** Where each of Zettle's services lives (one host each); an emulator serves them all on one. */
export const HOSTS = {
  inventory: 'https://inventory.izettle.com',
  products: 'https://products.izettle.com',
  purchases: 'https://purchase.izettle.com',
  oauth: 'https://oauth.zettle.com',
} as const;

export const PATHS = {
  locations: '/organizations/self/locations',
  /** The balances of one location: `${PATHS.balances}/{locationUuid}`. */
  balances: '/organizations/self/inventory/locations',
  /** PUT: moves between locations. */
  inventory: '/organizations/self/inventory',
  products: '/organizations/self/products/v2',
  purchases: '/purchases/v2',
  token: '/token',
} as const;

/** The four kinds of location the inventory service keeps (inventory-api/concepts/how-inventories-work.md). */
export type LocationType = 'STORE' | 'SOLD' | 'BIN' | 'SUPPLIER';

/**
 * The signature of a Pusher message: hex HMAC-SHA256 with the subscription's signing key (UTF-8)
 * over `<timestamp>.<payload>`, where both are the strings the message carries.
 */
export function signPusher(signingKey: string, timestamp: string, payload: string): string {
  return crypto.createHmac('sha256', Buffer.from(signingKey, 'utf8')).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
}

/** A UUID (any version) as Zettle writes them, lower case. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A stable UUID-shaped id from a string (our idempotency key → the move's `externalUuid`). */
export function uuidFrom(text: string): string {
  const h = crypto.createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
