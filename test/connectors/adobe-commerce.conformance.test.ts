/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the Adobe Commerce
 * emulator. What is Adobe Commerce's own here: its emulator (every request and answer checked
 * against the 2.4.8 Admin REST schema, ../shared/specs/adobe-commerce/), the integration token, the
 * hook secret header beside the RSA-SHA256 signature over the base64 of the body, the topic given by
 * what the signed body carries (`data.order`, `data.creditmemo`, `data.sourceItems`), the store named
 * by the signed `store_url`, and absolute sets only. Adobe publishes no signature vectors (its page
 * shows a public key and verification code, no signed example).
 */
import { definition } from '../../server/connectors/adobe-commerce';
import { ADOBE_HOST_LIMIT, AdobeEmulator, EMULATOR_PUBLIC_KEY } from '../../server/connectors/adobe-commerce/emulator';
import { DATA_KEY, type AdobeTopic } from '../../server/connectors/adobe-commerce/translate';
import { connectorConformance } from './conformance';
import { ADOBE_EXAMPLES } from './adobe-commerce/documented';

const TOKEN = 'conformance-integration-token-0123456789';
const SECRET = 'adobe commerce conformance hook secret';
const STORE = 'https://conformance-shop.example.com/';
/** Every emulator the suite started (ours, another store's, the rate-limited one): each is checked against the schema. */
const started: AdobeEmulator[] = [];

connectorConformance<AdobeEmulator>({
  definition,
  async start({ account, rateLimited, clock }) {
    // Another store is another Commerce instance at its own address, whose hooks got the same secret and key pair.
    const emulator = new AdobeEmulator({
      accessToken: TOKEN,
      webhookSecret: SECRET,
      storeUrl: account === 'ours' ? STORE : 'https://another-shop.example.com/',
      ...(rateLimited ? { hostLimit: ADOBE_HOST_LIMIT } : {}),
      ...(clock ? { clock } : {}),
    });
    started.push(emulator);
    return { emulator, baseUrl: await emulator.start() };
  },
  context: () => ({ settings: { storeUrl: STORE, webhookPublicKey: EMULATOR_PUBLIC_KEY, pageSize: 2 }, credentials: { accessToken: TOKEN, webhookSecret: SECRET } }),
  webhookSecretCredential: 'webhookSecret',
  signatureHeaders: ['x-adobe-commerce-webhook-signature', 'x-webhook-token'],
  // The topic is what the signed body carries: claiming another one changes the bytes.
  retopic: (d, topic) => {
    const text = d.raw.toString('utf8').replace(/^\{"data":\{"(order|creditmemo|sourceItems)":/, `{"data":{"${DATA_KEY[topic as AdobeTopic] ?? topic}":`);
    return { raw: Buffer.from(text), headers: d.headers };
  },
  pushMode: () => ({}),
  async moreEvents(emu, at) {
    // An order placed and cancelled before it shipped.
    const { orderId } = await emu.sell({ sku: at.sku, quantity: 1, locationId: at.locationId, ship: false });
    await emu.cancel(orderId);
  },
  listed: (emu, sku) => emu.product(sku)?.status === 1,
  vectors: [],
  examples: ADOBE_EXAMPLES,
  checkEmulator(emu) {
    // No request the connector sent, and no answer, broke the 2.4.8 schema: on any emulator of the suite.
    expect(started).toContain(emu);
    expect(started.flatMap((e) => e.selfCheck())).toEqual([]);
  },
});
