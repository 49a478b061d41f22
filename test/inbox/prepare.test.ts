/**
 * Prepare, then book (docs/inbox-outbox.md): a channel event's missing parts are fetched from its
 * platform before booking, outside the booking transaction, each channel on its own. A platform that
 * answers slowly holds its own channel's events and nothing else.
 *
 * The proof runs the sandbox (Square, Shopify and WooCommerce emulators, the hub's workers running)
 * with Square answering every API call after 9 s (the hub waits up to 10 s for a fetch): a sale at
 * the Square POS sends a thin `order.created` whose order must be fetched; right after, a sale on
 * Shopify is booked and reaches WooCommerce and Shopify while Square's order is still being fetched,
 * and Square's sale is booked afterwards, once, with its lines. The order of events is what is
 * checked, not a time. (`npm run bench` prints the same in milliseconds.)
 */
import { createLogger } from '../../server/log';
import { startStockrelay, type Started } from '../../server/start';
import type { InboxEntry } from '../../server/store/types';
import { testConfig } from '../helpers/hub';

jest.setTimeout(120_000);

let s: Started;

beforeAll(async () => {
  s = await startStockrelay(testConfig('sqlite'), createLogger('silent'), {}, { idleMs: 50 });
  // The demo levels pushed at start-up have landed everywhere.
  const ch = (id: string) => s.sandbox!.channels.find((c) => c.config.id === id)!;
  for (let i = 0; i < 600 && ch('woocommerce').emulator.level('CRD-0101', 'default') !== 24; i++) await new Promise((r) => setTimeout(r, 50));
});

afterAll(async () => {
  await s?.stop();
});

const channel = (id: string) => s.sandbox!.channels.find((c) => c.config.id === id)!;
const entries = async (): Promise<InboxEntry[]> => s.hub.store.inbox.list({ limit: 200 });
async function until(what: string, cond: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

test('a sale on Shopify reaches WooCommerce while Square’s thin order is still being fetched; Square’s sale books afterwards, once', async () => {
  const square = channel('square');
  const shopify = channel('shopify');
  const woo = channel('woocommerce');
  const before = new Set((await entries()).map((e) => e.id));

  // Square now answers every call after 9 s. A sale at its gallery register sends order.created
  // (thin: the order's lines must be fetched) and the level webhooks.
  square.emulator.faults.api.latencyMs = 9000;
  await square.emulator.sell({ sku: 'ART-0001', quantity: 1, locationId: square.config.locations.gallery! });
  await square.emulator.flushWebhooks();
  const squareOrder = async () => (await entries()).find((e) => !before.has(e.id) && e.dedupeKey.startsWith('channel:square:') && e.kind === 'order.created');
  await until('Square’s order.created is stored', async () => (await squareOrder()) !== undefined);
  const squareEventId = (await squareOrder())!.id;

  // Then a card set sells on the web store, from the gallery's stock (24 there).
  await shopify.emulator.sell({ sku: 'CRD-0101', quantity: 2, locationId: shopify.config.locations.gallery! });
  await shopify.emulator.flushWebhooks();

  // WooCommerce and Shopify show 22 while Square's order is still unprepared and unbooked.
  await until('WooCommerce shows the web store’s sale', () => woo.emulator.level('CRD-0101', 'default') === 22);
  const squareNow = (await s.hub.store.inbox.get(squareEventId))!;
  expect(squareNow.status).toBe('received');
  expect(squareNow.prepared).toBeNull();
  const shopSale = (await entries()).find((e) => !before.has(e.id) && e.dedupeKey.startsWith('channel:shopify:') && e.kind === 'orders/create')!;
  expect(shopSale.status).toBe('processed');
  expect(shopSale.id).toBeGreaterThan(squareEventId);
  // The hub booked the web sale: 24 − 2 at the gallery.
  const item = (await s.hub.store.items.get('CRD-0101'))!;
  expect(item).toBeDefined();
  const gallery = (await s.hub.store.ledger.levelsFor(['CRD-0101'])).find((l) => l.locationId === 'gallery')!;
  expect(gallery.onHand).toBe(22);

  // Square's order arrives after its 9 s, is prepared with its lines and booked: the artwork is gone everywhere.
  await until('Square’s sale is booked', async () => (await s.hub.store.inbox.get(squareEventId))!.status === 'processed');
  const booked = (await s.hub.store.inbox.get(squareEventId))!;
  expect(JSON.parse(booked.prepared!)).toMatchObject({ facts: [{ type: 'sale', lines: [{ quantity: 1 }] }] });
  expect(Date.parse(booked.processedAt!)).toBeGreaterThan(Date.parse(shopSale.processedAt!));
  // Staff see what the hub found in the event, the fetched lines included.
  const view = (await (await fetch(`${s.url}/v1/events/${squareEventId}`, { headers: { authorization: `Bearer ${s.config.adminToken}` } })).json()) as { facts: unknown };
  expect(view.facts).toMatchObject([{ type: 'sale', lines: [{ quantity: 1 }] }]);
  const art = (await s.hub.store.ledger.levelsFor(['ART-0001'])).find((l) => l.locationId === 'gallery')!;
  expect(art.onHand).toBe(0);
  square.emulator.faults.api.latencyMs = 0;
  await until('the web store hides the sold artwork', () => shopify.emulator.level('ART-0001', shopify.config.locations.gallery!) === 0);
  // Booked once, whatever the fetch and its webhooks did.
  const movements = (await s.hub.store.ledger.listMovements('ART-0001', { limit: 50 })).filter((m) => m.reason === 'sale');
  expect(movements).toHaveLength(1);
});

describe('a platform slower than the hub waits for a fetch', () => {
  let t: Started;
  beforeAll(async () => {
    // The hub waits 1 s for a fetch here (engine.fetchTimeoutMs; 10 s by default).
    t = await startStockrelay(testConfig('sqlite', { engine: { fetchTimeoutMs: 1000 } }), createLogger('silent'), {}, { idleMs: 50 });
  });
  afterAll(async () => {
    await t?.stop();
  });

  test('an event whose fetch times out waits for its platform; the other channels go on; it is booked once the platform answers', async () => {
    const s = t;
    const channel = (id: string) => s.sandbox!.channels.find((c) => c.config.id === id)!;
    const entries = async (): Promise<InboxEntry[]> => s.hub.store.inbox.list({ limit: 200 });
    const square = channel('square');
    const woo = channel('woocommerce');
    const before = new Set((await entries()).map((e) => e.id));
    // Longer than the hub waits for a fetch: the try fails, the event waits, and is tried again.
    square.emulator.faults.api.latencyMs = 1500;
    await square.emulator.sell({ sku: 'BRU-0201', quantity: 1, locationId: square.config.locations.gallery! });
    await square.emulator.flushWebhooks();
    const order = async () => (await entries()).find((e) => !before.has(e.id) && e.dedupeKey.startsWith('channel:square:') && e.kind === 'order.created');
    await until('Square’s order.created is stored', async () => (await order()) !== undefined);
    const id = (await order())!.id;
    await until('the fetch gave up and the event waits', async () => (await s.hub.store.inbox.get(id))!.retryAt !== null);
    const waiting = (await s.hub.store.inbox.get(id))!;
    expect(waiting.status).toBe('received');
    expect(waiting.prepared).toBeNull();
    expect(JSON.stringify(waiting.outcome)).toMatch(/tried again at/);

    // Meanwhile a WooCommerce sale books and reaches the web store.
    await woo.emulator.sell({ sku: 'PNT-0301', quantity: 1 });
    await woo.emulator.flushWebhooks();
    await until('Shopify shows the WooCommerce sale', () => channel('shopify').emulator.level('PNT-0301', channel('shopify').config.locations.gallery!) === 9);
    expect((await s.hub.store.inbox.get(id))!.status).toBe('received');

    // Square answers again: the waiting event is prepared and booked.
    square.emulator.faults.api.latencyMs = 0;
    await until('Square’s sale is booked', async () => (await s.hub.store.inbox.get(id))!.status === 'processed');
    const gallery = (await s.hub.store.ledger.levelsFor(['BRU-0201'])).find((l) => l.locationId === 'gallery')!;
    expect(gallery.onHand).toBe(11);
  });
});
