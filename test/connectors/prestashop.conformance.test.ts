/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the PrestaShop
 * emulator. What is PrestaShop's own here: its emulator (the webservice key as HTTP Basic user) and
 * settings, no webhooks at all (the suite reads what the shop "sends" from the polled feeds: orders,
 * credit slips, stock movements), absolute sets only, hide/relist through the product's `active`, and
 * the order of the webservice documentation's examples (test/connectors/prestashop/documented.ts).
 */
import { definition } from '../../server/connectors/prestashop';
import { PS_HOST_LIMIT, PsEmulator } from '../../server/connectors/prestashop/emulator';
import { connectorConformance } from './conformance';
import { DOCS_ORDER, DOCS_ORDER_SLIP_EVENT } from './prestashop/documented';

const KEY = 'UCCLLQ9N2ARSHWCXLT74KUKSSK34BFKX';

connectorConformance<PsEmulator>({
  definition,
  async start({ rateLimited, clock }) {
    const emulator = new PsEmulator({ webserviceKey: KEY, ...(rateLimited ? { hostLimit: PS_HOST_LIMIT } : {}), ...(clock ? { clock } : {}) });
    return { emulator, baseUrl: await emulator.start() };
  },
  context: () => ({ settings: { pageSize: 2 }, credentials: { webserviceKey: KEY } }),
  webhookSecretCredential: null,
  signatureHeaders: [],
  retopic: (d) => d,
  pushMode: () => ({}),
  moreEvents: async (emu, at) => {
    // A cancellation: the order's state becomes Canceled and its quantity goes back.
    const { orderId } = await emu.sell({ sku: at.sku, quantity: 1 });
    await emu.cancel(orderId);
  },
  listed: (emu, sku) => emu.product(sku)?.active === true,
  vectors: [],
  examples: [
    { name: 'order, as the webservice answers it (payment accepted)', topic: 'order', body: DOCS_ORDER, expect: ['sale'] },
    { name: 'order, cancelled (state 6)', topic: 'order', body: { ...DOCS_ORDER, current_state: '6' }, expect: ['sale', 'cancellation'] },
    { name: 'order_slip with its order lines (one unit refunded, put back)', topic: 'order_slip', body: DOCS_ORDER_SLIP_EVENT, expect: ['refund'] },
  ],
  checkEmulator: (emu) => expect(emu.selfCheck()).toEqual([]),
});
