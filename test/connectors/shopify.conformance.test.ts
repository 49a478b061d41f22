/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the Shopify emulator.
 * What is Shopify's own here: its emulator and settings, the signature header, the topic in the
 * unsigned X-Shopify-Topic header, the push mode chosen by the `pushMode` setting, Shopify's
 * published signature vector and documented payloads.
 */
import fs from 'node:fs';
import path from 'node:path';
import { definition } from '../../server/connectors/shopify';
import { ShopifyEmulator } from '../../server/connectors/shopify/emulator';
import { connectorConformance } from './conformance';
import { INVENTORY_LEVEL_SAMPLE_JSON, ORDER_CREATE_SAMPLE_JSON, REFUND_929361472 } from './fixtures/shopify-documented';

const TOKEN = 'shpat_conformance_token_0001';
const SECRET = 'shopify-conformance-app-secret';
const SHOP = 'conformance-gallery.myshopify.com';

const vectors = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../shared/specs/webhook-signature-vectors.json'), 'utf8')) as {
  shopify: { source: string; secret: string; body: string; signature: string }[];
};

connectorConformance<ShopifyEmulator>({
  definition,
  async start({ account, clock }) {
    // The cost bucket (2000 points restored at 100/s, as capabilities say) is always enforced.
    const emulator = new ShopifyEmulator({ accessToken: TOKEN, webhookSecret: SECRET, shopDomain: account === 'ours' ? SHOP : 'another-gallery.myshopify.com', ...(clock ? { clock } : {}) });
    return { emulator, baseUrl: await emulator.start() };
  },
  context: () => ({ settings: { shopDomain: SHOP, pageSize: 2 }, credentials: { accessToken: TOKEN, webhookSecret: SECRET } }),
  webhookSecretCredential: 'webhookSecret',
  signatureHeaders: ['x-shopify-hmac-sha256'],
  retopic: (d, topic) => ({ raw: d.raw, headers: { ...d.headers, 'x-shopify-topic': topic } }),
  pushMode: (mode) => ({ settings: { pushMode: mode } }),
  async moreEvents(emu, { sku, locationId }) {
    const fulfilled = await emu.sell({ sku, quantity: 1, locationId });
    await emu.fulfil({ orderId: fulfilled.orderId });
    const cancelled = await emu.sell({ sku, quantity: 1, locationId });
    await emu.cancel({ orderId: cancelled.orderId, restock: true });
    const exchanged = await emu.sell({ sku, quantity: 1, locationId });
    await emu.exchange({ orderId: exchanged.orderId, sku, quantity: 1 });
  },
  listed: (emu, sku) => emu.productStatus(sku) === 'ACTIVE',
  // shopify-app-js validate.test.ts; the topic is one the hub takes no fact from, as the body is no resource.
  vectors: vectors.shopify.map((v) => ({
    name: v.source,
    raw: v.body,
    headers: { 'x-shopify-hmac-sha256': v.signature, 'x-shopify-topic': 'shop/update', 'x-shopify-event-id': 'vector-event-1', 'x-shopify-shop-domain': SHOP },
    credentials: { webhookSecret: v.secret },
    expect: 'valid' as const,
    mustFail: [{ name: 'another secret', credentials: { webhookSecret: 'another_secret' } }],
  })),
  examples: [
    { name: 'orders/create test notification (order 820982911946154508)', topic: 'orders/create', body: JSON.parse(ORDER_CREATE_SAMPLE_JSON) as unknown, expect: ['sale'] },
    { name: 'refunds/create, shopify-app-js refund 929361472 (no_restock)', topic: 'refunds/create', body: REFUND_929361472, expect: ['refund'] },
    { name: 'inventory_levels/update reference sample (available null: untracked)', topic: 'inventory_levels/update', body: JSON.parse(INVENTORY_LEVEL_SAMPLE_JSON) as unknown, expect: [] },
    { name: 'inventory_levels/update reference sample with a level', topic: 'inventory_levels/update', body: JSON.parse(INVENTORY_LEVEL_SAMPLE_JSON.replace('"available":null', '"available":7')) as unknown, expect: ['level_observed'] },
  ],
});
