/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the BigCommerce
 * emulator. What is BigCommerce's own here: its emulator and settings (the store hash), the Standard
 * Webhooks signature keyed by the app's client secret, the topic inside the signed body (`scope`),
 * relative adjustments when the last level is known and absolute ones when it is not, more events
 * (a product tracked by variant, whose events are `store/sku/…`; a cancellation) and the webhook
 * examples of BigCommerce's reference (webhooks.v3.yml, the callback data files), which are thin:
 * unexpanded, translate cannot read them. BigCommerce publishes no signature vectors of its own;
 * verify is checked against the Standard Webhooks library in bigcommerce.test.ts.
 */
import { definition } from '../../server/connectors/bigcommerce';
import { BIGCOMMERCE_STANDARD_LIMIT, BigCommerceEmulator } from '../../server/connectors/bigcommerce/emulator';
import { connectorConformance } from './conformance';
import { DOCUMENTED_EXAMPLES } from './bigcommerce/documented';

const TOKEN = 'bc-conformance-access-token-0001';
const SECRET = 'bc-conformance-client-secret-0001';
const STORE = 'confstore1';

connectorConformance<BigCommerceEmulator>({
  definition,
  async start({ account, rateLimited, clock }) {
    const emulator = new BigCommerceEmulator({
      storeHash: account === 'ours' ? STORE : 'otherstore2',
      accessToken: TOKEN,
      clientSecret: SECRET,
      ...(rateLimited ? { rateLimit: BIGCOMMERCE_STANDARD_LIMIT } : {}),
      ...(clock ? { clock } : {}),
    });
    return { emulator, baseUrl: await emulator.start() };
  },
  context: () => ({ settings: { storeHash: STORE, pageSize: 2 }, credentials: { accessToken: TOKEN, clientSecret: SECRET } }),
  webhookSecretCredential: 'clientSecret',
  signatureHeaders: ['webhook-signature'],
  // The scope is inside the signed body: claiming another one changes the bytes.
  retopic: (d, topic) => ({ raw: Buffer.from(d.raw.toString('utf8').replace(/"scope":"[^"]*"/, `"scope":${JSON.stringify(topic)}`)), headers: d.headers }),
  pushMode: (mode) => (mode === 'absolute_set' ? { expectedUnknown: true } : {}),
  async moreEvents(emu, at) {
    // A product with sizes, tracked by variant: its sales and edits send store/sku/… events.
    if (!emu.find('CONF-SIZE-L')) {
      emu.seedVariants({ sku: 'CONF-SIZES', title: 'Conformance sizes', variants: [{ sku: 'CONF-SIZE-L', option: 'Large', levels: { [at.locationId]: 5 } }] });
    }
    const { orderId } = await emu.sell({ sku: 'CONF-SIZE-L', quantity: 1, locationId: at.locationId });
    await emu.setLevel({ sku: 'CONF-SIZE-L', locationId: at.locationId, available: 9 });
    await emu.cancel(orderId);
    const second = await emu.sell({ sku: at.sku, quantity: 1, locationId: at.locationId });
    await emu.cancel(second.orderId);
  },
  listed: (emu, sku) => emu.listed(sku),
  vectors: [],
  examples: DOCUMENTED_EXAMPLES,
});
