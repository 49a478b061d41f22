/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the Clover emulator.
 * What is Clover's own here: its emulator and settings (the merchant every message names), the
 * static `X-Clover-Auth` code that authenticates the sender but signs nothing of the body (a changed
 * body may verify, and must then mean nothing Clover had not said: the connector reads every object
 * a message names back from the API), the topic made from the kinds of object a message names
 * (claiming another is changing the objectId's prefix), absolute sets read before and after,
 * refunds that never say whether goods went back (the item's stock update says it), and the
 * documented message format. Clover publishes no signature vectors: there is no signature.
 */
import { definition } from '../../server/connectors/clover';
import { CLOVER_LIMIT, CloverEmulator } from '../../server/connectors/clover/emulator';
import { connectorConformance } from './conformance';
import { DOCS_ITEM_MESSAGE, DOCS_MERCHANT, DOCS_ORDER_MESSAGE } from './clover/documented';

const TOKEN = 'clover-conformance-token-0001';
const AUTH = '0307e264-b33a-4913-88aa-37b10014a0b8';
const PREFIX: Record<string, string> = { orders: 'O', payments: 'P', inventory: 'I' };

connectorConformance<CloverEmulator>({
  definition,
  async start({ account, rateLimited, clock }) {
    const emulator = new CloverEmulator({
      apiToken: TOKEN,
      authCode: AUTH,
      merchantId: account === 'ours' ? DOCS_MERCHANT : 'OTHERMERCHNT1',
      ...(rateLimited ? { rateLimit: CLOVER_LIMIT } : {}),
      ...(clock ? { clock } : {}),
    });
    return { emulator, baseUrl: await emulator.start() };
  },
  context: () => ({ settings: { merchantId: DOCS_MERCHANT, pageSize: 2 }, credentials: { apiToken: TOKEN, webhookAuthCode: AUTH } }),
  webhookSecretCredential: 'webhookAuthCode',
  signatureHeaders: ['x-clover-auth'],
  // The topic is made from the objectIds' prefixes: claiming another changes them.
  retopic: (d, topic) => ({ raw: Buffer.from(d.raw.toString('utf8').replace(/"objectId":"[A-Z]+:/g, `"objectId":"${PREFIX[topic] ?? 'X'}:`)), headers: d.headers }),
  bodySigned: false,
  pushMode: () => ({}),
  listed: (emu, sku) => emu.visible(sku),
  restockReported: false,
  vectors: [],
  examples: [
    // Thin: the order and the item are read by expand; unexpanded, translate cannot read them.
    { name: 'an order update in the documented message format (before expand)', topic: 'orders', body: DOCS_ORDER_MESSAGE, expect: 'unreadable' },
    { name: 'an inventory item update in the documented message format (before expand)', topic: 'inventory', body: DOCS_ITEM_MESSAGE, expect: 'unreadable' },
  ],
  checkEmulator(emu) {
    expect(emu.internalErrors).toEqual([]);
  },
});
