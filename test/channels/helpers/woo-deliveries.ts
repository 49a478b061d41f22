/**
 * A test hub with one channel whose webhooks the test catches and delivers itself, in the order it
 * chooses: the harness of the attribution, late-write and blind-retry tests. WooCommerce (`woo`)
 * and Shopify (`shop`), each at the hub's `gallery`.
 */
import type { Emulator } from '../../../server/connectors/emulator';
import type { ShopifyEmulator } from '../../../server/connectors/shopify/emulator';
import type { WooEmulator } from '../../../server/connectors/woocommerce/emulator';
import { WOO_LOCATION } from '../../../server/connectors/woocommerce/translate';
import { startHub, type TestHub } from '../../helpers/hub';
import { TOPIC_OF, WebhookSink, type Received } from '../../connectors/helpers/webhook-sink';

/**
 * Starts the store (already made with these credentials), a catcher for its webhooks, and a SQLite
 * hub with one channel `woo` on it; `file` adds to the hub's config file (engine, dispatch).
 */
export async function startWooHub(woo: WooEmulator, creds: { key: string; secret: string; hook: string }, file: Record<string, unknown>): Promise<{ t: TestHub; caught: WebhookSink }> {
  const base = await woo.start();
  const caught = new WebhookSink('/v1/webhooks/woo', TOPIC_OF.woocommerce);
  woo.subscribe(await caught.start());
  const t = await startHub('sqlite', {
    file: {
      locations: [{ id: 'gallery', name: 'Gallery' }],
      ...file,
      channels: [{ id: 'woo', name: 'WooCommerce', platform: 'woocommerce', baseUrl: base, locations: { gallery: WOO_LOCATION }, credentials: { consumerKey: 'TEST_WOO_KEY', consumerSecret: 'TEST_WOO_SECRET', webhookSecret: 'TEST_WOO_HOOK' } }],
    },
    env: { TEST_WOO_KEY: creds.key, TEST_WOO_SECRET: creds.secret, TEST_WOO_HOOK: creds.hook },
  });
  return { t, caught };
}

/**
 * The same for Shopify: the shop (already made with this token, secret, domain and one location
 * `loc`), a catcher for its webhooks, and a SQLite hub with one channel `shop` on it.
 */
export async function startShopifyHub(emu: ShopifyEmulator, creds: { token: string; secret: string; shopDomain: string; loc: string }, file: Record<string, unknown>): Promise<{ t: TestHub; caught: WebhookSink }> {
  const base = await emu.start();
  const caught = new WebhookSink();
  emu.subscribe(await caught.start());
  const t = await startHub('sqlite', {
    file: {
      locations: [{ id: 'gallery', name: 'Gallery' }],
      ...file,
      channels: [
        {
          id: 'shop',
          name: 'Shopify',
          platform: 'shopify',
          baseUrl: base,
          locations: { gallery: creds.loc },
          settings: { shopDomain: creds.shopDomain },
          credentials: { accessToken: 'TEST_SHOPIFY_TOKEN', webhookSecret: 'TEST_SHOPIFY_SECRET' },
        },
      ],
    },
    env: { TEST_SHOPIFY_TOKEN: creds.token, TEST_SHOPIFY_SECRET: creds.secret },
  });
  return { t, caught };
}

/** Catching and delivering one channel's webhooks (`channelId`, its platform location `loc`), and new items on it. */
export function deliveries(hub: () => TestHub, emu: () => Emulator, caught: () => WebhookSink, opts: { channelId: string; loc: string; skuPrefix: string }) {
  let n = 0;
  /** What the platform has sent since the last look, caught and not delivered. */
  async function take(): Promise<Received[]> {
    await emu().flushWebhooks();
    return caught().received.splice(0);
  }
  /** These deliveries, in this order, to the hub's webhook door; then the hub settles. */
  async function deliver(list: Received[]): Promise<void> {
    const t = hub();
    for (const r of list) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.headers)) if (k.startsWith('x-') || k === 'content-type') headers[k] = String(v);
      const res = await fetch(`${t.url}/v1/webhooks/${opts.channelId}`, { method: 'POST', body: r.raw, headers });
      expect(res.status).toBe(200);
    }
    await t.settle();
  }
  /** Everything the platform sends, delivered as it comes, until it sends nothing more. */
  async function deliverAll(): Promise<number> {
    let total = 0;
    for (let i = 0; i < 20; i++) {
      const got = await take();
      if (got.length === 0) return total;
      total += got.length;
      await deliver(got);
    }
    throw new Error('the platform kept sending');
  }
  /** A new item, listed on the platform, counted `stock` in the hub and shown so by the platform. */
  async function item(stock: number): Promise<string> {
    const t = hub();
    const sku = `${opts.skuPrefix}-${++n}`;
    emu().seed([{ sku, title: sku, levels: { [opts.loc]: 0 } }]);
    await t.api('PUT', `/v1/items/${sku}`, { title: sku });
    expect((await t.api('POST', `/v1/channels/${opts.channelId}/discover`)).status).toBe(200);
    await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: stock });
    await t.settle();
    await deliverAll();
    expect(emu().level(sku, opts.loc)).toBe(stock);
    return sku;
  }
  return { take, deliver, deliverAll, item };
}

export function wooDeliveries(hub: () => TestHub, woo: () => WooEmulator, caught: () => WebhookSink, skuPrefix: string) {
  return deliveries(hub, woo, caught, { channelId: 'woo', loc: WOO_LOCATION, skuPrefix });
}
