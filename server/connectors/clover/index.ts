/**
 * Clover connector: stock through `item_stocks` (absolute writes, read before and after: Clover has
 * no relative write and no compare-and-set), levels read per item, hide/relist through the item's
 * `available` (left to Clover for auto-managed items), catalog discovery over `/items`, thin webhook
 * messages (object ids only, authenticated by the static `X-Clover-Auth` code) expanded by reading
 * each order, payment and item they name, and a polled orders feed as a backstop (Clover does not
 * guarantee delivery). Clover keeps one inventory per merchant: the channel's one location is the
 * merchant id, and a business with several shops has a Clover merchant, and a channel, for each.
 * Auth: a merchant API token as a bearer token. See README.md.
 */
import { ConnectorError, type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorDefinition } from '../types';
import { CloverClient } from './client';
import { CloverFeeds } from './feeds';
import { CloverEmulator } from './emulator';
import { createTranslate } from './translate';
import { AUTH_HEADER, CLOVER_TOPICS, isVerificationPing, updatesFor, verifyCloverMessage } from './verify';

/** The sandbox's demo merchant (Clover merchant ids are 13 letters and digits). */
export const SANDBOX_MERCHANT = 'GALLERYDEMO01';

export const capabilities: ConnectorCapabilities = {
  platform: 'clover',
  push: ['absolute_set'],
  locations: true,
  hideRelist: {
    supported: true,
    how: 'The item is made unavailable (available false) and available again. An item Clover auto-manages (autoManage) is left to Clover, which makes it unavailable at zero stock and available again by itself.',
  },
  webhooks: [...CLOVER_TOPICS],
  // Clover does not guarantee that a webhook message arrives: orders are read again by modifiedTime.
  polled: ['orders'],
  rateLimit: {
    kind: 'requests_per_window',
    requests: 12,
    windowMs: 1500,
    description: 'Clover allows 16 requests a second and 5 at once per token (50 a second and 10 at once per app) and answers more with 429; the hub counts every request it makes (pushes, the reads around them, polls, fetches for webhooks) and sends at most 12 in any 1.5 s (8 a second, so that no second as Clover counts it, requests arriving late or early, holds more than 12) and never more than 5 at once.',
  },
  // Clover writes one item's stock a request (POST /item_stocks/{itemId}).
  maxBatch: 1,
};

export function createCloverConnector(ctx: ConnectorContext): Connector {
  const client = new CloverClient(ctx);
  const feeds = new CloverFeeds(client);
  const merchantId = client.merchantId;
  const translate = createTranslate(merchantId);
  const authCode = ctx.credentials.webhookAuthCode;
  return {
    capabilities,
    verify: (raw, headers) => verifyCloverMessage(raw, headers, { authCode, merchantId }),
    isPing: (raw) => isVerificationPing(raw),
    /** Messages name objects only: each order, payment (as its order) and item is read and kept beside the message. */
    async expand(_topic, body, signal) {
      if (typeof body !== 'object' || body === null || 'order' in body) return body;
      const updates = updatesFor(body, merchantId);
      if (!updates) return body;
      const fetched: Record<string, unknown> = {};
      for (const u of updates) {
        if (u.objectId in fetched) continue;
        if (u.kind === 'O') fetched[u.objectId] = await client.order(u.id, signal);
        else if (u.kind === 'P') fetched[u.objectId] = await client.orderOfPayment(u.id, signal);
        else if (u.kind === 'I') fetched[u.objectId] = await client.item(u.id, signal);
      }
      return { ...(body as Record<string, unknown>), fetched };
    },
    translate: (topic, body) => translate(topic, body),
    push: (targets, signal) => client.push(targets, signal),
    read: (items, signal) => client.read(items, signal),
    hide: (ref, signal) => client.setAvailable(ref, false, signal),
    relist: (ref, signal) => client.setAvailable(ref, true, signal),
    listCatalog: (signal) => client.listCatalog(signal),
    async poll(feed, cursor, signal) {
      if (feed === 'orders') return feeds.orders(cursor, signal);
      throw new ConnectorError(`Clover has no polled feed "${feed}"; it polls: orders.`, false, null, null, { channelFault: false });
    },
  };
}

export const definition: ConnectorDefinition = {
  platform: 'clover',
  displayName: 'Clover',
  docsUrl: 'https://docs.clover.com/dev/docs/managing-item-availability',
  kind: 'point_of_sale',
  secretHeaders: [AUTH_HEADER],
  /** The gallery's counter: one Clover merchant (a warehouse would be a second merchant, a second channel). */
  sandbox: {
    channelId: 'clover',
    name: 'Gallery counter (Clover)',
    locations: { gallery: SANDBOX_MERCHANT },
    hideAtZero: false,
    byDefault: false,
    settings: () => ({ merchantId: SANDBOX_MERCHANT }),
    createEmulator: ({ credentials, random }) =>
      new CloverEmulator({ apiToken: credentials.apiToken!, authCode: credentials.webhookAuthCode!, merchantId: SANDBOX_MERCHANT, ...(random ? { random } : {}) }),
  },
  credentials: ['apiToken', 'webhookAuthCode'],
  requiredSettings: ['merchantId'],
  settingHelp: {
    merchantId: 'the Clover merchant id (13 letters and digits, under Account & Setup → Merchants); webhook messages for any other merchant are not read, and a business with several shops has one channel per merchant',
  },
  capabilities,
  create: createCloverConnector,
};
