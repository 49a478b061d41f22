/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the Squarespace
 * emulator. What is Squarespace's own here: its emulator and settings (the site id every notification
 * names), the signature over the body with the hex-decoded secret, the topic inside the signed body,
 * deltas when the last level is known and absolute sets when it is not, levels that come only from the
 * polled inventory feed (Squarespace has no stock notification), refunds that never say whether goods
 * went back, and the documented notification examples. Squarespace publishes no signature vectors;
 * squarespace.test.ts checks a delivery against its documented recipe instead.
 */
import { definition } from '../../server/connectors/squarespace';
import { SQUARESPACE_LIMIT, SquarespaceEmulator } from '../../server/connectors/squarespace/emulator';
import { connectorConformance } from './conformance';
import { DOCS_ORDER_CREATE, DOCS_ORDER_UPDATE } from './squarespace/documented';

const KEY = 'sqsp-conformance-api-key-0001';
const SECRET = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const SITE = '5f3c3d55ac435e1a051f77b3';

connectorConformance<SquarespaceEmulator>({
  definition,
  async start({ account, rateLimited, clock }) {
    const emulator = new SquarespaceEmulator({
      apiKey: KEY,
      webhookSecret: SECRET,
      websiteId: account === 'ours' ? SITE : '60aa0000000000000000beef',
      pageSize: 2,
      ...(rateLimited ? { rateLimit: SQUARESPACE_LIMIT } : {}),
      ...(clock ? { clock } : {}),
    });
    return { emulator, baseUrl: await emulator.start() };
  },
  context: () => ({ settings: { websiteId: SITE }, credentials: { apiKey: KEY, webhookSecret: SECRET } }),
  webhookSecretCredential: 'webhookSecret',
  signatureHeaders: ['squarespace-signature'],
  // The topic is inside the signed body: claiming another one changes the bytes.
  retopic: (d, topic) => ({ raw: Buffer.from(d.raw.toString('utf8').replace(/"topic":"[^"]*"/, `"topic":${JSON.stringify(topic)}`)), headers: d.headers }),
  pushMode: (mode) => (mode === 'absolute_set' ? { expectedUnknown: true } : {}),
  async moreEvents(emu, at) {
    const fulfilled = await emu.sell({ sku: at.sku, quantity: 1, locationId: at.locationId });
    await emu.fulfill(fulfilled.orderId);
    const cancelled = await emu.sell({ sku: at.sku, quantity: 1, locationId: at.locationId });
    await emu.cancel(cancelled.orderId, true);
  },
  listed: (emu, sku) => emu.visible(sku),
  levelFeed: 'inventory',
  restockReported: false,
  vectors: [],
  examples: [
    // Thin: the order is fetched by expand; unexpanded, translate cannot read it.
    { name: 'order.create, the documented notification (before expand)', topic: 'order.create', body: DOCS_ORDER_CREATE, expect: 'unreadable' },
    { name: 'order.update FULFILLED, the documented notification (before expand)', topic: 'order.update', body: DOCS_ORDER_UPDATE, expect: 'unreadable' },
  ],
  checkEmulator(emu) {
    expect(emu.internalErrors).toEqual([]);
  },
});
