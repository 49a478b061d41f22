/**
 * Toast connector (a point of sale): menu item stock through Toast's stock API (absolute sets of
 * `QUANTITY` or `OUT_OF_STOCK`, read before and after), levels read by multiLocationId, catalog
 * discovery over the configuration API's menu items, orders from the orders webhook (`order_updated`,
 * the whole order) and stock from the stock webhook (`in_stock`, `low_quantity`, `out_of_stock`), both
 * signed with `Toast-Signature` (base64 HMAC-SHA256 of body + timestamp), and an orders feed polled
 * over `/orders/v2/ordersBulk` as a backstop. Each Toast restaurant is a location of ours (the
 * channel's `locations` map our locations to restaurant GUIDs). Auth: the Toast API client's id and
 * secret, logged in for a bearer token. See README.md.
 */
import crypto from 'node:crypto';
import { ConnectorError, type Connector, type ConnectorCapabilities, type ConnectorContext, type ConnectorDefinition, type PollResult } from '../types';
import { MAX_ITEMS, toastDate, ToastClient } from './client';
import { ToastEmulator } from './emulator';
import { expansionOf, ORDER_TOPIC, orderOf, TOAST_TOPICS, translate } from './translate';
import { SIGNATURE_HEADER, verifyToastDelivery } from './verify';

/** The sandbox's two restaurants (the gallery's counter and the warehouse's shop), made up like Toast's GUIDs. */
const sandboxGuid = (name: string): string => {
  const h = crypto.createHash('sha256').update(`stockrelay sandbox toast ${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
};
export const SANDBOX_RESTAURANTS = { gallery: sandboxGuid('gallery'), warehouse: sandboxGuid('warehouse') } as const;

/** How far back each orders poll looks again (orders modified late, clocks that differ): the inbox dedupes what it saw. */
const OVERLAP_MS = 5 * 60_000;

export const capabilities: ConnectorCapabilities = {
  platform: 'toast',
  push: ['absolute_set'],
  locations: true,
  hideRelist: {
    supported: false,
    how: 'Not offered: Toast marks a counted menu item OUT_OF_STOCK by itself when its quantity reaches 0 (it is "86ed": it cannot be ordered) and the hub pushes a count again on restock, which makes it orderable. Hiding a menu item from the menu is a menu edit the hub does not make.',
  },
  webhooks: [...TOAST_TOPICS],
  // Toast retries a webhook a few times but does not guarantee it: the orders are also polled.
  polled: ['orders'],
  rateLimit: {
    kind: 'requests_per_window',
    requests: 5,
    windowMs: 1000,
    description:
      'Toast allows 20 requests a second and 10,000 in 15 minutes per API client (globally and per API), /ordersBulk 5 a second per restaurant, and answers more with 429; the hub counts every request it makes (logins, pushes, the reads around them, order polls) and sends at most 5 a second (4,500 in 15 minutes), under every one of those windows.',
  },
  maxBatch: MAX_ITEMS,
};

/** The channel's restaurants: its mapped locations, else the `restaurantGuids` setting (comma separated). */
export function restaurantsOf(ctx: Pick<ConnectorContext, 'locations' | 'settings'>): string[] {
  const setting = typeof ctx.settings.restaurantGuids === 'string' ? ctx.settings.restaurantGuids.split(/[\s,]+/).filter((s) => s !== '') : [];
  return [...new Set([...(ctx.locations ?? []), ...setting])];
}

export function createToastConnector(ctx: ConnectorContext): Connector {
  const client = new ToastClient(ctx);
  const restaurants = restaurantsOf(ctx);
  const currency = typeof ctx.settings.currency === 'string' && ctx.settings.currency.trim() !== '' ? ctx.settings.currency.trim().toUpperCase() : 'USD';
  const now = () => (ctx.clock ?? (() => new Date()))();
  return {
    capabilities,
    verify: (raw, headers) => verifyToastDelivery(raw, headers, { secret: ctx.credentials.webhookSecret, restaurants }),
    /** An order names its items by guid at its restaurant: their stock (multiLocationId and level) is read and kept beside it. */
    async expand(topic, body, signal) {
      if (topic !== ORDER_TOPIC || expansionOf(body)) return body;
      const found = orderOf(body);
      if (!found) return body;
      const guids = new Set<string>();
      for (const c of Array.isArray(found.order.checks) ? found.order.checks : []) {
        for (const s of Array.isArray((c as { selections?: unknown }).selections) ? (c as { selections: unknown[] }).selections : []) {
          const g = (s as { item?: { guid?: unknown } } | null)?.item?.guid;
          if (typeof g === 'string' && g !== '') guids.add(g);
        }
      }
      const items = guids.size === 0 ? [] : await client.search(found.restaurant, [...guids], signal, true);
      return { ...(body as object), expanded: { items } };
    },
    translate: (topic, body) => translate(topic, body, currency),
    push: (targets, signal) => client.push(targets, signal),
    read: (items, signal) => client.read(items, signal),
    hide: () => Promise.reject(new ConnectorError('Toast listings are not hidden by the hub: Toast marks a menu item out of stock by itself at 0 (turn hideAtZero off for this channel).', false, null, null, { channelFault: false })),
    relist: () => Promise.reject(new ConnectorError('Toast listings are not relisted by the hub: a pushed count makes a menu item orderable again (turn hideAtZero off for this channel).', false, null, null, { channelFault: false })),
    listCatalog: (signal) => {
      if (restaurants.length === 0) return Promise.reject(new ConnectorError('The Toast channel maps no restaurant: give its locations (our location → Toast restaurant GUID).', false, null, null, { channelFault: true }));
      return client.listCatalog(restaurants, signal);
    },
    async poll(feed, cursor, signal): Promise<PollResult> {
      if (feed !== 'orders') throw new ConnectorError(`Toast has no polled feed "${feed}"; it polls: orders.`, false, null, null, { channelFault: false });
      const at = now().getTime();
      // The first poll starts from now: it reads the last few minutes only to learn where the orders stand.
      let hw = at;
      if (cursor !== null) {
        try {
          const c = JSON.parse(cursor) as { v?: unknown; hw?: unknown };
          hw = c.v === 1 && typeof c.hw === 'string' ? Date.parse(c.hw) : NaN;
        } catch {
          hw = NaN;
        }
      }
      if (Number.isNaN(hw)) throw new ConnectorError(`The saved position of the Toast orders feed is not one this connector wrote (${String(cursor).slice(0, 80)}); nothing was read.`, false, null, null, { channelFault: false });
      const events = [];
      let newest = hw;
      for (const restaurant of restaurants) {
        for (const order of await client.ordersModified(restaurant, new Date(hw - OVERLAP_MS), new Date(Math.max(at, hw) + 60_000), signal)) {
          const modified = typeof order.modifiedDate === 'string' && !Number.isNaN(Date.parse(order.modifiedDate)) ? order.modifiedDate : null;
          if (!modified) continue;
          newest = Math.max(newest, Date.parse(modified));
          const eventId = `order-${String(order.guid)}@${modified}`;
          events.push({ eventId, topic: ORDER_TOPIC, occurredAt: modified, body: { timestamp: modified, eventCategory: 'orders', eventType: ORDER_TOPIC, guid: eventId, details: { restaurantGuid: restaurant, order } } });
        }
      }
      events.sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));
      return { events: cursor === null ? [] : events, cursor: JSON.stringify({ v: 1, hw: new Date(newest).toISOString() }), more: false };
    },
  };
}

export const definition: ConnectorDefinition = {
  platform: 'toast',
  displayName: 'Toast',
  docsUrl: 'https://doc.toasttab.com/doc/devguide/apiStock.html',
  kind: 'point_of_sale',
  secretHeaders: [SIGNATURE_HEADER],
  /** Two Toast restaurants: the gallery's counter and the warehouse's shop. */
  sandbox: {
    channelId: 'toast',
    name: 'Gallery counter (Toast)',
    locations: { gallery: SANDBOX_RESTAURANTS.gallery, warehouse: SANDBOX_RESTAURANTS.warehouse },
    hideAtZero: false,
    byDefault: false,
    settings: () => ({ restaurantGuids: `${SANDBOX_RESTAURANTS.gallery},${SANDBOX_RESTAURANTS.warehouse}` }),
    createEmulator: ({ credentials, random }) =>
      new ToastEmulator({
        clientId: credentials.clientId!,
        clientSecret: credentials.clientSecret!,
        webhookSecret: credentials.webhookSecret!,
        restaurants: [SANDBOX_RESTAURANTS.gallery, SANDBOX_RESTAURANTS.warehouse],
        ...(random ? { random } : {}),
      }),
  },
  credentials: ['clientId', 'clientSecret', 'webhookSecret'],
  requiredSettings: [],
  capabilities,
  create: createToastConnector,
};

export { toastDate };
