/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the Lightspeed Retail
 * (R-Series) emulator. What is R-Series's own here: its emulator (a bearer token for one account; the
 * leaky bucket of 60 units draining 1 a second, a write costing 10, enforced when rate-limited),
 * no webhooks at all (the suite reads what the account "sends" from the polled feeds: sales and item
 * shops), absolute sets only, hide/relist through `publishToEcom`, and the shapes of the API's
 * answers (test/connectors/lightspeed-r/documented.ts).
 */
import { definition } from '../../server/connectors/lightspeed-r';
import { LS_BUCKET, LsEmulator } from '../../server/connectors/lightspeed-r/emulator';
import { connectorConformance } from './conformance';
import { DOCS_ITEM_SHOP_EVENT, DOCS_RETURN_EVENT, DOCS_SALE_EVENT } from './lightspeed-r/documented';

const TOKEN = 'ls-conformance-access-token-8c1f';
const ACCOUNT = '104455';

connectorConformance<LsEmulator>({
  definition,
  async start({ account, rateLimited, clock }) {
    // Another account: a token of its own account, the same secret nowhere (R-Series sends nothing to verify).
    const emulator = new LsEmulator({ accountId: account === 'ours' ? ACCOUNT : '204455', accessToken: TOKEN, ...(rateLimited ? { bucket: LS_BUCKET } : {}), ...(clock ? { clock } : {}) });
    return { emulator, baseUrl: await emulator.start() };
  },
  context: () => ({ settings: { accountId: ACCOUNT, pageSize: 2 }, credentials: { accessToken: TOKEN } }),
  webhookSecretCredential: null,
  signatureHeaders: [],
  retopic: (d) => d,
  pushMode: () => ({}),
  moreEvents: async (emu, at) => {
    // An exchange at the register, a sale left open then completed, and a void of a completed sale.
    const { orderId } = await emu.sell({ sku: at.sku, quantity: 2, locationId: at.locationId });
    await emu.exchange({ orderId, quantity: 1, sku: at.sku });
    const { saleId } = await emu.open({ sku: at.sku, quantity: 1, locationId: at.locationId });
    await emu.complete(saleId);
    await emu.void(orderId);
  },
  listed: (emu, sku) => emu.item(sku)?.publishToEcom === true,
  vectors: [],
  examples: [
    { name: 'a completed sale with its lines (SaleLines, SaleLines.Item)', topic: 'sale', body: DOCS_SALE_EVENT, expect: ['sale'] },
    { name: 'the same sale voided', topic: 'sale', body: { ...DOCS_SALE_EVENT, Sale: { ...DOCS_SALE_EVENT.Sale, voided: 'true' } }, expect: ['sale', 'cancellation'] },
    { name: 'the same sale still open (not completed)', topic: 'sale', body: { ...DOCS_SALE_EVENT, Sale: { ...DOCS_SALE_EVENT.Sale, completed: 'false' } }, expect: [] },
    { name: 'a return of one unit of that sale', topic: 'sale', body: DOCS_RETURN_EVENT, expect: ['refund'] },
    { name: 'an ItemShop record (qoh at one shop)', topic: 'item_shop', body: DOCS_ITEM_SHOP_EVENT, expect: ['level_observed'] },
  ],
  checkEmulator: (emu) => expect(emu.selfCheck()).toEqual([]),
});
