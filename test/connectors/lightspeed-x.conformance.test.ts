/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the Lightspeed Retail
 * X-Series emulator. What is X-Series' own here: its emulator (a personal token as Bearer, the
 * documented rate limit of 300 × registers + 50 requests in 5 minutes) and settings (the store's
 * domain prefix), webhooks signed with the OAuth add-on's client_secret in `X-Signature`, the topic
 * in the signed form (`type`), absolute sets only, returns whose stock shows as levels (a return's
 * goods are counted off when not fit to sell: `restockReported: false`), voids and laybys as more
 * sale.update events, and the documented examples (test/connectors/lightspeed-x/documented.ts).
 */
import { definition } from '../../server/connectors/lightspeed-x';
import { XsEmulator } from '../../server/connectors/lightspeed-x/emulator';
import { connectorConformance } from './conformance';
import { DOCS_INVENTORY_V1, DOCS_RETURN_SALE_V2, DOCS_SALE_V1 } from './lightspeed-x/documented';

const TOKEN = 'lsxs_pt_conformance_0001';
const SECRET = 'lightspeed-x-conformance-client-secret';
const PREFIX = 'conformance-store';

connectorConformance<XsEmulator>({
  definition,
  async start({ account, rateLimited, clock }) {
    const emulator = new XsEmulator({ accessToken: TOKEN, clientSecret: SECRET, domainPrefix: account === 'ours' ? PREFIX : 'another-store', ...(rateLimited ? { rateLimit: true } : {}), ...(clock ? { clock } : {}) });
    return { emulator, baseUrl: await emulator.start() };
  },
  context: () => ({ settings: { domainPrefix: PREFIX, pageSize: 2 }, credentials: { accessToken: TOKEN, clientSecret: SECRET } }),
  webhookSecretCredential: 'clientSecret',
  signatureHeaders: ['x-signature'],
  // The type travels in the signed form: claiming another changes the signed bytes.
  retopic: (d, topic) => ({ raw: Buffer.from(d.raw.toString('utf8').replace(/(^|&)type=[^&]*/, `$1type=${encodeURIComponent(topic)}`)), headers: d.headers }),
  pushMode: () => ({}),
  moreEvents: async (emu, at) => {
    // A layby that takes the goods, paid off later; a parked sale, then voided; a closed sale voided.
    const { orderId: layby } = await emu.sell({ sku: at.sku, quantity: 1, locationId: at.locationId, status: 'LAYBY' });
    await emu.setStatus(layby, 'LAYBY_CLOSED');
    const { orderId: parked } = await emu.sell({ sku: at.sku, quantity: 1, locationId: at.locationId, status: 'SAVED' });
    await emu.setStatus(parked, 'VOIDED');
    const { orderId: closed } = await emu.sell({ sku: at.sku, quantity: 2, locationId: at.locationId });
    await emu.setStatus(closed, 'VOIDED');
  },
  restockReported: false,
  vectors: [],
  examples: [
    { name: 'sale.update: a closed register sale (API 1.0 register_sale)', topic: 'sale.update', body: DOCS_SALE_V1, expect: ['sale'] },
    { name: 'sale.update: the same sale voided', topic: 'sale.update', body: { ...DOCS_SALE_V1, status: 'VOIDED' }, expect: ['sale', 'cancellation'] },
    { name: 'sale.update: the same sale parked (SAVED)', topic: 'sale.update', body: { ...DOCS_SALE_V1, status: 'SAVED' }, expect: [] },
    { name: 'sale.update: a return (docs "Returns", closed)', topic: 'sale.update', body: { ...DOCS_RETURN_SALE_V2, status: 'CLOSED' }, expect: ['refund'] },
    { name: 'inventory.update: one outlet of the product.update example', topic: 'inventory.update', body: DOCS_INVENTORY_V1, expect: ['level_observed'] },
  ],
  checkEmulator: (emu) => expect(emu.selfCheck()).toEqual([]),
});
