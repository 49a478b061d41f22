/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the WooCommerce
 * emulator. What is WooCommerce's own here: its emulator (OAuth 1.0a over http) and settings, the
 * signature header, the topic in the unsigned X-WC-Webhook-Topic / -Resource / -Event headers,
 * absolute sets only, and the REST API docs' order example. WooCommerce publishes no signature
 * vectors; its deliveries are checked against WC_Webhook::generate_signature in woocommerce.test.ts.
 */
import { definition } from '../../server/connectors/woocommerce';
import { WOO_HOST_LIMIT, WooEmulator } from '../../server/connectors/woocommerce/emulator';
import { connectorConformance } from './conformance';
import { DOCS_ORDER_727 } from './fixtures/woocommerce-documented';

const CK = 'ck_conformance0123456789abcdef0123456789ab';
const CS = 'cs_conformance0123456789abcdef0123456789ab';
const SECRET = 'woocommerce conformance webhook secret';

connectorConformance<WooEmulator>({
  definition,
  async start({ rateLimited, clock }) {
    // Another store is another WordPress site, at its own address, whose webhook got the same secret.
    const emulator = new WooEmulator({ consumerKey: CK, consumerSecret: CS, webhookSecret: SECRET, ...(rateLimited ? { hostLimit: WOO_HOST_LIMIT } : {}), ...(clock ? { clock } : {}) });
    return { emulator, baseUrl: await emulator.start() };
  },
  context: () => ({ settings: { pageSize: 2 }, credentials: { consumerKey: CK, consumerSecret: CS, webhookSecret: SECRET } }),
  webhookSecretCredential: 'webhookSecret',
  signatureHeaders: ['x-wc-webhook-signature'],
  retopic: (d, topic) => {
    const [resource, ...event] = topic.split('.');
    return { raw: d.raw, headers: { ...d.headers, 'x-wc-webhook-topic': topic, 'x-wc-webhook-resource': resource!, 'x-wc-webhook-event': event.join('.') } };
  },
  pushMode: () => ({}),
  listed: (emu, sku) => emu.product(sku)?.catalogVisibility === 'visible',
  vectors: [],
  examples: [
    { name: 'order.created, the REST API docs’ order 727 (processing)', topic: 'order.created', body: DOCS_ORDER_727, expect: ['sale'] },
    { name: 'order.updated, order 727 completed', topic: 'order.updated', body: { ...DOCS_ORDER_727, status: 'completed' }, expect: ['sale'] },
    { name: 'order.updated, order 727 pending payment (no stock moved)', topic: 'order.updated', body: { ...DOCS_ORDER_727, status: 'pending' }, expect: [] },
    { name: 'action.woocommerce_order_refunded as WooCommerce sends it (order 727, before expand)', topic: 'action.woocommerce_order_refunded', body: { action: 'woocommerce_order_refunded', arg: 727 }, expect: [] },
  ],
});
