/**
 * The connector conformance suite (test/connectors/conformance.ts) run against the Toast emulator.
 * What is Toast's own here: its emulator and settings (the restaurants the channel serves, which every
 * message names), the signature over body + timestamp, the event type inside the signed body, absolute
 * sets read before and after, orders that name their items by guid only (expand reads their stock,
 * which also reports the level a sale left: Toast sends no stock message above its low-quantity
 * threshold), voids that give the count back and refunds that never do, and the documented payloads.
 * Toast publishes no signature vectors; toast.test.ts checks a message against its documented recipe.
 */
import { definition } from '../../server/connectors/toast';
import { ToastEmulator } from '../../server/connectors/toast/emulator';
import { connectorConformance } from './conformance';
import { DOCS_IN_STOCK, DOCS_LOW_QUANTITY, DOCS_ORDER_UPDATED, DOCS_OUT_OF_STOCK } from './toast/documented';

const CLIENT = 'toast-conformance-client';
const CLIENT_SECRET = 'toast-conformance-client-secret-0001';
const SECRET = 'toast-conformance-webhook-secret-0001';
const OURS = '3325cc58-dc6e-4e21-85f9-7de275ffe820';
const THEIRS = 'e4c1f40d-3247-4b8b-9891-52f445930fa3';

connectorConformance<ToastEmulator>({
  definition,
  async start({ account, rateLimited, clock }) {
    const emulator = new ToastEmulator({
      clientId: CLIENT,
      clientSecret: CLIENT_SECRET,
      webhookSecret: SECRET,
      restaurants: [account === 'ours' ? OURS : THEIRS],
      pageSize: 2,
      ...(rateLimited ? { rateLimit: true } : {}),
      ...(clock ? { clock } : {}),
    });
    return { emulator, baseUrl: await emulator.start() };
  },
  context: () => ({ settings: { restaurantGuids: OURS }, credentials: { clientId: CLIENT, clientSecret: CLIENT_SECRET, webhookSecret: SECRET } }),
  webhookSecretCredential: 'webhookSecret',
  signatureHeaders: ['toast-signature'],
  // The event type travels in the Toast-Event-Type header and in the signed body: the header is believed only when they agree.
  retopic: (d, topic) => ({ raw: d.raw, headers: { ...d.headers, 'toast-event-type': topic } }),
  pushMode: () => ({ expectedUnknown: true }),
  async moreEvents(emu, at) {
    // A manager counts 3 (low_quantity), then 0 (out_of_stock, "86ed"); an order voided whole gives its count back.
    await emu.setLevel({ sku: at.sku, locationId: at.locationId, available: 3 });
    await emu.setLevel({ sku: at.sku, locationId: at.locationId, available: 0 });
    await emu.setLevel({ sku: at.sku, locationId: at.locationId, available: 20 });
    const { orderId } = await emu.sell({ sku: at.sku, quantity: 1, locationId: at.locationId });
    await emu.voidOrder(orderId);
  },
  // Toast's refunds are money only; a void gives the count back (a cancellation, seen as the level too).
  restockReported: false,
  vectors: [],
  examples: [
    { name: 'low_quantity (the stock webhook page)', topic: 'low_quantity', body: DOCS_LOW_QUANTITY, expect: ['level_observed'] },
    { name: 'in_stock without a count (the stock webhook page)', topic: 'in_stock', body: DOCS_IN_STOCK, expect: [] },
    { name: 'out_of_stock (the stock webhook page)', topic: 'out_of_stock', body: DOCS_OUT_OF_STOCK, expect: ['level_observed'] },
    // Its items are named by guid at the restaurant only: expand reads their stock first.
    { name: 'order_updated in the documented message shape (before expand)', topic: 'order_updated', body: DOCS_ORDER_UPDATED, expect: 'unreadable' },
  ],
  checkEmulator(emu) {
    expect(emu.internalErrors).toEqual([]);
  },
});
