/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the Revel Systems
 * emulator. What is Revel's own here: the API key and secret, the instance name (subdomain) every
 * delivery names, the hex HMAC-SHA1 signature over the body, the event type in an unsigned header
 * (believed only when the signed body agrees), absolute sets read before and after, the `orders`
 * and `inventory` feeds (a count typed at the counter shows only there), `inout.stock` sent when a
 * product runs out or comes back, and the payloads documented for its webhooks (test/connectors/revel/documented.ts).
 */
import { definition } from '../../server/connectors/revel';
import { REVEL_EMULATED_LIMIT, RevelEmulator } from '../../server/connectors/revel/emulator';
import { revelSignature } from '../../server/connectors/revel/verify';
import { connectorConformance } from './conformance';
import { DOCUMENTED_INOUT_STOCK, DOCUMENTED_ORDER } from './revel/documented';

const KEY = 'revel-conformance-api-key';
const API_SECRET = 'revel-conformance-api-secret';
const WEBHOOK_SECRET = 'revel conformance webhook secret';
const INSTANCE = 'conformance-gallery';

const signed = (body: string, instance = INSTANCE, topic = 'order.finalized') => ({
  'x-revel-signature': revelSignature(WEBHOOK_SECRET, body),
  'x-revel-instance': instance,
  'x-revel-event-type': topic,
});

const orderRaw = JSON.stringify(DOCUMENTED_ORDER);

connectorConformance<RevelEmulator>({
  definition,
  async start({ account, rateLimited, clock }) {
    const emulator = new RevelEmulator({
      apiKey: KEY,
      apiSecret: API_SECRET,
      webhookSecret: WEBHOOK_SECRET,
      instance: account === 'ours' ? INSTANCE : 'another-restaurant',
      ...(rateLimited ? { rateLimit: REVEL_EMULATED_LIMIT } : {}),
      ...(clock ? { clock } : {}),
    });
    return { emulator, baseUrl: await emulator.start() };
  },
  context: () => ({ settings: { subdomain: INSTANCE, pageSize: 2 }, credentials: { apiKey: KEY, apiSecret: API_SECRET, webhookSecret: WEBHOOK_SECRET } }),
  webhookSecretCredential: 'webhookSecret',
  signatureHeaders: ['x-revel-signature'],
  // The event type travels in an unsigned header.
  retopic: (d, topic) => ({ raw: d.raw, headers: { ...d.headers, 'x-revel-event-type': topic } }),
  pushMode: () => ({}),
  // A product sold out at the counter, and counted back in: the two inout.stock deliveries.
  async moreEvents(emu, { sku, locationId }) {
    await emu.setLevel({ sku, locationId, available: 1 });
    await emu.sell({ sku, quantity: 1, locationId });
  },
  listed: (emu, sku) => emu.product(sku)?.displayOnline === true,
  levelFeed: 'inventory',
  // Revel publishes no test vectors; these are deliveries signed as its webhook page describes.
  vectors: [
    {
      name: 'an order.finalized delivery signed with the shared secret',
      raw: orderRaw,
      headers: signed(orderRaw),
      settings: { subdomain: INSTANCE },
      credentials: { webhookSecret: WEBHOOK_SECRET },
      expect: 'valid',
      mustFail: [{ name: 'another secret', credentials: { webhookSecret: `${WEBHOOK_SECRET}x` } }],
    },
    {
      name: 'the same delivery naming another Revel instance',
      raw: orderRaw,
      headers: signed(orderRaw, 'someone-else'),
      settings: { subdomain: INSTANCE },
      credentials: { webhookSecret: WEBHOOK_SECRET },
      expect: { refusal: 'account', reason: /someone-else/ },
    },
  ],
  examples: [
    { name: 'order.finalized (OrderAllInOne, as the emulator and the webhook page shape it)', topic: 'order.finalized', body: DOCUMENTED_ORDER, expect: ['sale'] },
    // The documented stock status carries no count: unexpanded, it cannot be read.
    { name: 'inout.stock (the AsyncAPI restatement\'s example)', topic: 'inout.stock', body: DOCUMENTED_INOUT_STOCK, expect: 'unreadable' },
    { name: 'ping (readiness test)', topic: 'ping', body: { ping: 'pong' }, expect: [] },
  ],
  checkEmulator(emu) {
    expect(emu.selfCheck()).toEqual([]);
  },
});
