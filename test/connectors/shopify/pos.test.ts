/**
 * Shopify POS is not a connector of its own: a Shopify channel whose POS location is mapped to one of
 * our locations books what the counter sells at that location (issue #19). Shopify says where a
 * retail order was made in the order itself: `source_name: "pos"` and `location_id`, "the physical
 * location where the order was processed … null for online orders" (REST Order; GraphQL
 * `Order.sourceName` and `Order.retailLocation`, ../shared/specs/shopify/admin_2026-04.json.gz).
 *
 * Through the hub and the Shopify emulator, on both stores, with the channel's web-store location
 * (warehouse) mapped first, so that a web order would be taken from it:
 * - a POS sale is booked at the gallery, not at the warehouse that has the stock;
 * - a web order (no location) is booked where Shopify would fulfil it from;
 * - a return at the counter with restock puts the unit back at the gallery, once;
 * - the last unit of a one-of-a-kind painting sold at the counter takes the listing down, and a
 *   return at the counter brings it back;
 * - a POS sale at a Shopify location mapped to none of ours books nothing and says which event
 *   waits for the map.
 */
import { ShopifyEmulator } from '../../../server/connectors/shopify/emulator';
import { startHub, type TestHub } from '../../helpers/hub';
import { STORES } from '../../helpers/stores';

jest.setTimeout(60_000);

const WEB = 'gid://shopify/Location/1001';
const COUNTER = 'gid://shopify/Location/1002';
/** A second shop's counter the supplier has not mapped (a pop-up at a fair). */
const POPUP = 'gid://shopify/Location/1003';
const TOKEN = 'shpat_pos_location_0001';
const HOOK = 'pos-location-webhook-secret';

type Move = { reason: string; quantity: number; locationId: string; channelId: string | null; externalRef: string | null };

describe.each(STORES)('Shopify POS as a location (%s)', (kind) => {
  let emu: ShopifyEmulator;
  let t: TestHub;

  const moves = async (sku: string): Promise<Move[]> => ((await t.api('GET', `/v1/items/${sku}/movements?limit=100`)).body.movements as Move[]).filter((m) => m.channelId === 'shop').reverse();
  const onHand = async (sku: string) => Object.fromEntries(((await t.api('GET', `/v1/items/${sku}`)).body.locations as { locationId: string; onHand: number }[]).map((l) => [l.locationId, l.onHand]));
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      await emu.flushWebhooks();
      await t.settle();
    }
  };
  /** The body of the last orders/create the hub received. */
  const lastOrderBody = async (): Promise<Record<string, unknown>> => {
    const list = (await t.api('GET', '/v1/events?limit=50')).body.events as { id: number }[];
    for (const e of list) {
      const full = (await t.api('GET', `/v1/events/${e.id}`)).body as { body: unknown };
      const body = (typeof full.body === 'string' ? JSON.parse(full.body) : full.body) as Record<string, unknown>;
      if (body && 'line_items' in body && !('refund_line_items' in body)) return body;
    }
    throw new Error('no order event received');
  };

  beforeAll(async () => {
    emu = new ShopifyEmulator({ accessToken: TOKEN, webhookSecret: HOOK, shopDomain: 'gallery-pos.myshopify.com', locations: [WEB, COUNTER, POPUP] });
    const url = await emu.start();
    emu.seed([
      { sku: 'ART-1', title: 'Seven Sisters, acrylic on linen', levels: { [WEB]: 0, [COUNTER]: 0, [POPUP]: 0 } },
      { sku: 'CRD-1', title: 'Greeting card set', levels: { [WEB]: 0, [COUNTER]: 0, [POPUP]: 0 } },
    ]);
    t = await startHub(kind, {
      file: {
        locations: [
          { id: 'gallery', name: 'Gallery counter' },
          { id: 'warehouse', name: 'Warehouse' },
        ],
        engine: { attributionWindowMs: 200, reconcileEveryMs: 0 },
        channels: [
          {
            id: 'shop',
            name: 'Shopify (web store and gallery POS)',
            platform: 'shopify',
            baseUrl: url,
            // The web store's location first: a web order names no location and is taken from it.
            locations: { warehouse: WEB, gallery: COUNTER },
            buffer: 0,
            hideAtZero: true,
            settings: { shopDomain: 'gallery-pos.myshopify.com' },
            credentials: { accessToken: 'POS_SHOP_TOKEN', webhookSecret: 'POS_SHOP_HOOK' },
          },
        ],
      },
      env: { POS_SHOP_TOKEN: TOKEN, POS_SHOP_HOOK: HOOK },
    });
    emu.subscribe(`${t.url}/v1/webhooks/shop`);
    for (const sku of ['ART-1', 'CRD-1']) expect((await t.api('PUT', `/v1/items/${sku}`, { title: sku })).status).toBeLessThan(300);
    expect((await t.api('POST', '/v1/channels/shop/discover')).status).toBe(200);
    await t.api('POST', '/v1/items/ART-1/counts', { location: 'gallery', counted: 1 });
    await t.api('POST', '/v1/items/CRD-1/counts', { location: 'gallery', counted: 5 });
    await t.api('POST', '/v1/items/CRD-1/counts', { location: 'warehouse', counted: 10 });
    // Every listing's level at every mapped location, as the sandbox pushes after discovery (the
    // painting's 0 at the warehouse too: a listing is hidden only when the hub knows it is at zero
    // at every location the channel publishes).
    await t.hub.resyncChannels();
    await settle();
    expect([emu.level('CRD-1', WEB), emu.level('CRD-1', COUNTER), emu.level('ART-1', COUNTER)]).toEqual([10, 5, 1]);
  });

  afterAll(async () => {
    await t?.close();
    await emu?.stop();
  });

  test('a sale at the counter (source_name "pos") is booked at the gallery, though the warehouse mapped first has stock', async () => {
    const { orderId } = await emu.sell({ sku: 'CRD-1', quantity: 2, locationId: COUNTER });
    await settle();
    const body = await lastOrderBody();
    expect({ source_name: body.source_name, location_id: body.location_id }).toEqual({ source_name: 'pos', location_id: 1002 });
    const sale = (await moves('CRD-1')).filter((m) => m.reason === 'sale');
    expect(sale.map((m) => [m.quantity, m.locationId, m.externalRef])).toEqual([[-2, 'gallery', orderId]]);
    expect(await onHand('CRD-1')).toMatchObject({ gallery: 3, warehouse: 10 });
    // Shopify's own level at the counter fell with the sale; its inventory webhook was explained by it.
    expect([emu.level('CRD-1', COUNTER), emu.level('CRD-1', WEB)]).toEqual([3, 10]);
    expect((await moves('CRD-1')).filter((m) => m.reason !== 'sale')).toEqual([]);
  });

  test('a web order (source_name "web", no location) is booked where Shopify takes it from: the warehouse', async () => {
    await emu.sell({ sku: 'CRD-1', quantity: 1 });
    await settle();
    const body = await lastOrderBody();
    expect({ source_name: body.source_name, location_id: body.location_id }).toEqual({ source_name: 'web', location_id: null });
    expect((await moves('CRD-1')).filter((m) => m.reason === 'sale').map((m) => [m.quantity, m.locationId])).toEqual([
      [-2, 'gallery'],
      [-1, 'warehouse'],
    ]);
    expect(await onHand('CRD-1')).toMatchObject({ gallery: 3, warehouse: 9 });
  });

  test('the last unit of a one-of-a-kind painting sold at the counter takes the listing down; a return at the counter brings it back, once', async () => {
    const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 1, locationId: COUNTER });
    await settle();
    expect(await onHand('ART-1')).toMatchObject({ gallery: 0 });
    const hidden = async () => ((await t.api('GET', '/v1/channels/shop/listings')).body.listings as { sku: string; hidden: boolean }[]).find((l) => l.sku === 'ART-1')!.hidden;
    expect(await hidden()).toBe(true);

    await emu.refund({ orderId, restock: true });
    await settle();
    expect(await onHand('ART-1')).toMatchObject({ gallery: 1 });
    expect((await moves('ART-1')).map((m) => [m.reason, m.quantity, m.locationId])).toEqual([
      ['sale', -1, 'gallery'],
      ['return', 1, 'gallery'],
    ]);
    expect(await hidden()).toBe(false);
    expect(emu.level('ART-1', COUNTER)).toBe(1);
  });

  test('a POS sale at a Shopify location mapped to none of ours books nothing and waits for the map', async () => {
    const before = { card: await moves('CRD-1'), hand: await onHand('CRD-1') };
    await emu.setLevel({ sku: 'CRD-1', locationId: POPUP, available: 4 });
    await emu.sell({ sku: 'CRD-1', quantity: 1, locationId: POPUP });
    await settle();
    // Sent: a signed orders/create with location_id 1003. Kept: the event, unmatched, naming what is missing; no movement.
    const unmatched = (await t.api('GET', '/v1/events?status=unmatched&limit=10')).body.events as { results: { result: string; message: string }[] }[];
    expect(unmatched.length).toBe(1);
    expect(unmatched[0]!.results[0]).toMatchObject({ sku: 'CRD-1', result: 'unmatched', message: expect.stringMatching(/location/i) });
    expect(await moves('CRD-1')).toEqual(before.card);
    expect(await onHand('CRD-1')).toEqual(before.hand);
  });
});
