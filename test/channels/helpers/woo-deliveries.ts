/**
 * A test hub with one WooCommerce channel (`woo`, at the hub's `gallery`), whose webhooks the test
 * catches and delivers itself, in the order it chooses: the harness of the attribution and
 * late-write tests.
 */
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

export function wooDeliveries(hub: () => TestHub, woo: () => WooEmulator, caught: () => WebhookSink, skuPrefix: string) {
  let n = 0;
  /** What the store has sent since the last look, caught and not delivered. */
  async function take(): Promise<Received[]> {
    await woo().flushWebhooks();
    return caught().received.splice(0);
  }
  /** These deliveries, in this order, to the hub's webhook door; then the hub settles. */
  async function deliver(list: Received[]): Promise<void> {
    const t = hub();
    for (const r of list) {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(r.headers)) if (k.startsWith('x-') || k === 'content-type') headers[k] = String(v);
      const res = await fetch(`${t.url}/v1/webhooks/woo`, { method: 'POST', body: r.raw, headers });
      expect(res.status).toBe(200);
    }
    await t.settle();
  }
  /** Everything the store sends, delivered as it comes, until it sends nothing more. */
  async function deliverAll(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      const got = await take();
      if (got.length === 0) return;
      await deliver(got);
    }
    throw new Error('the store kept sending');
  }
  /** A new item, listed on the store, counted `stock` in the hub and shown so by the store. */
  async function item(stock: number): Promise<string> {
    const t = hub();
    const sku = `${skuPrefix}-${++n}`;
    woo().seed([{ sku, title: sku, levels: { [WOO_LOCATION]: 0 } }]);
    await t.api('PUT', `/v1/items/${sku}`, { title: sku });
    expect((await t.api('POST', '/v1/channels/woo/discover')).status).toBe(200);
    await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: stock });
    await t.settle();
    await deliverAll();
    expect(woo().level(sku, WOO_LOCATION)).toBe(stock);
    return sku;
  }
  return { take, deliver, deliverAll, item };
}
