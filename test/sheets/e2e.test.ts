/**
 * Issue 5's end-to-end proof, with nothing in between faked but the platforms and Google:
 *
 * (a) "A sale on an emulator channel appears in the right Catalog row and in Movements, after the
 *     rows were sorted." The hub runs as `npm start` runs it in sandbox mode (test/sheets/e2e-hub.ts:
 *     server/start.ts with the real Square, Shopify and WooCommerce connectors against their
 *     emulators) with the write-back on, writing through the real `googleapis` client into the Sheets
 *     fake. The test sorts the fake's Catalog and inserts rows, then a sale is made on the Square
 *     emulator itself (SquareEmulator `sell`, at its gallery register). What is SENT: the emulator's
 *     own signed webhooks to /v1/webhooks/square. What is KEPT: one sale movement on the hub; the
 *     new level pushed to Shopify and WooCommerce; in the sheet, the row carrying the SKU's developer
 *     metadata (wherever the sort put it) with the new numbers, every other row untouched, one
 *     Movements row and one Orders row.
 *
 * (b) "A staff edit reaches every channel." Driven through the real add-on (createAddon from
 *     appsscript/src/app.ts with the Apps Script fakes of test/addon/fakes/gas.ts, its UrlFetchApp
 *     making real, blocking HTTP requests through SyncHttp to the hub in the child process). The
 *     add-on's spreadsheet is an in-memory fake separate from the Sheets fake the hub writes to: it
 *     is loaded with the Catalog exactly as the hub wrote it (standing for the one Google Sheet both
 *     would share), connected and set up from the menu, and a staff member types a count. What is
 *     SENT: one signed `cell_edit` relay (origin "sheet", the old value the cell showed and the new
 *     one). What is KEPT: a count movement by that person; every emulator (Square, Shopify,
 *     WooCommerce) holds the hub's new available level for that SKU and location, the other location
 *     untouched; the write-back shows the new level in the SKU's Catalog row and a Movements row.
 *
 * (c) Issue 7: "a PO that cannot be filled is waitlisted, a restock on an emulator channel approves
 *     it and the sheet row shows Approved; an order with a partial refund and restock appears once in
 *     the log with both movements linked". What is SENT: a signed `purchase_order` relay as the
 *     add-on sends it (its row tagged `stockrelay.po_line`), then a refund with restock made on the
 *     Square emulator. What is KEPT: the PO waitlisted while nothing is available, then approved with
 *     the returned unit reserved (available 0 on every channel); the row's Status "Approved"; the
 *     Square order once in the transaction log with its sale and return movements.
 *
 * SQLite and PostgreSQL each run the whole story on a fresh hub.
 */
import { createAddon } from '../../appsscript/src/app';
import { ADMIN_TOKEN, RELAY_SECRET } from '../helpers/hub';
import { signRelay } from '../../server/relay/verify';
import { fakeEnv, typeInto } from '../addon/fakes/gas';
import { SyncHttp } from '../addon/fakes/sync-http';
import { E2E_CATALOG_HEADERS, startE2eHub, type Cell, type E2eHub } from './e2e-hub';
import { STORES } from '../helpers/stores';

jest.setTimeout(120_000);

const http = new SyncHttp(10_000);
afterAll(() => http.close());

const col = (header: string) => E2E_CATALOG_HEADERS.indexOf(header);
const letter = (i: number) => String.fromCharCode(65 + i);

describe.each(STORES)('the sheet, the hub and the emulator channels, end to end, on %s', (kind) => {
  let h: E2eHub;
  beforeAll(async () => {
    h = await startE2eHub(kind);
  });
  afterAll(() => h?.close());

  async function api(method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(h.url + p, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
  async function hubLevels(sku: string): Promise<Record<string, { onHand: number; available: number }>> {
    const r = await api('GET', `/v1/items/${sku}`);
    expect(r.status).toBe(200);
    return Object.fromEntries((r.body.locations as { locationId: string; onHand: number; available: number }[]).map((l) => [l.locationId, { onHand: l.onHand, available: l.available }]));
  }
  /** Every emulator holds the hub's available level at every location it maps. */
  async function expectEveryChannelFollows(sku: string): Promise<void> {
    const hub = await hubLevels(sku);
    const held = await h.emulatorLevels(sku);
    expect(Object.keys(held).sort()).toEqual(['shopify', 'square', 'woocommerce']);
    for (const [channel, byLocation] of Object.entries(held)) {
      for (const [location, level] of Object.entries(byLocation)) {
        expect({ channel, location, level }).toEqual({ channel, location, level: Math.max(0, hub[location]!.available) });
      }
    }
  }

  test('(a) a sale on the Square emulator lands in the right Catalog row after staff sorted and inserted rows, and in Movements and Orders', async () => {
    const sku = 'CRD-0101';
    await h.quiesce();
    const original = await h.sheet.rowWithSku(sku);
    expect(await h.sheet.record('Catalog', original)).toMatchObject({ SKU: sku, 'On hand · gallery': 24, 'On hand · warehouse': 120, 'Available · gallery': 24, 'My notes': `note ${sku}`, Status: 'active' });
    expect(await hubLevels(sku)).toEqual({ gallery: { onHand: 24, available: 24 }, warehouse: { onHand: 120, available: 120 } });
    await expectEveryChannelFollows(sku);

    // Staff sort the catalog by title, descending, and insert three empty rows near the top.
    await h.sheet.sortRows('Catalog', col('Title'), 'DESCENDING');
    await h.sheet.insertRows('Catalog', 2, 3);
    const moved = await h.sheet.rowWithSku(sku);
    expect(moved).not.toBe(original);
    const snapshot = await h.sheet.read('Catalog');
    expect(snapshot[moved]![col('SKU')]).toBe(sku);
    const requestsBefore = (await h.sheet.requests()).length;
    const pushesBefore = await h.emulatorRequests();

    // The sale, made on the platform itself: Square's emulator records the order, changes its own
    // count and sends its signed webhooks to the hub.
    const { orderId } = await h.sell('square', sku, 2, 'gallery');
    await h.quiesce();

    // Booked once, from Square's webhook, and pushed to the other channels.
    expect(await hubLevels(sku)).toEqual({ gallery: { onHand: 22, available: 22 }, warehouse: { onHand: 120, available: 120 } });
    const moves = (await api('GET', `/v1/items/${sku}/movements?limit=5`)).body.movements as { quantity: number; reason: string; locationId: string; channelId: string | null; source: string }[];
    expect(moves[0]).toMatchObject({ quantity: -2, reason: 'sale', locationId: 'gallery', channelId: 'square' });
    expect(moves[1]!.reason).not.toBe('sale');
    const event = (await api('GET', `/v1/events/${(moves[0] as unknown as { eventId: number }).eventId}`)).body;
    // The movement came from Square's own order webhook (Square's body, for this order at the gallery register).
    expect(event).toMatchObject({ source: 'channel', kind: 'order.created', status: 'processed', results: [{ sku, location: 'gallery', result: 'booked', quantity: -2 }] });
    expect(event.body).toMatchObject({ type: 'order.created', data: { object: { order_created: { order_id: orderId, location_id: 'LGALLERY7Q2K9' } } } });
    // …and signed: a copy of it under a new event id with a wrong signature is refused and books nothing.
    const forged = await fetch(`${h.url}/v1/webhooks/square`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-square-hmacsha256-signature': 'AAAA' }, body: JSON.stringify({ ...event.body, event_id: 'forged-1' }) });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('invalid_signature');
    await h.quiesce();
    expect((await hubLevels(sku)).gallery).toEqual({ onHand: 22, available: 22 });
    await expectEveryChannelFollows(sku);
    const pushesAfter = await h.emulatorRequests();
    for (const other of ['shopify', 'woocommerce']) expect(pushesAfter[other]).toBeGreaterThan(pushesBefore[other]!);

    // The sheet: the row carrying the SKU's metadata is where the sort left it, and it was written.
    const row = await h.sheet.rowWithSku(sku);
    expect(row).toBe(moved);
    expect(await h.sheet.record('Catalog', row)).toMatchObject({
      SKU: sku,
      Title: 'Greeting card set, 6 designs',
      'On hand · gallery': 22,
      'Available · gallery': 22,
      'On hand · warehouse': 120,
      'Available · warehouse': 120,
      'My notes': `note ${sku}`,
      Status: 'active',
      'Sync note': '',
    });
    expect((await h.sheet.record('Catalog', row))['Last synced']).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    const after = await h.sheet.read('Catalog');
    expect(after.length).toBe(snapshot.length);
    after.forEach((cells, i) => {
      if (i !== row) expect({ i, cells }).toEqual({ i, cells: snapshot[i] });
    });
    expect(after.slice(2, 5)).toEqual([[], [], []]); // the inserted rows stay empty

    // Movements and Orders: one row each for this order.
    const sale = (await h.sheet.read('Movements')).slice(1).filter((m) => m[9] === orderId);
    expect(sale).toEqual([[expect.stringMatching(/ UTC$/), sku, 'gallery', -2, 'sale', 'channel', 'Gallery POS (Square)', '', expect.stringContaining(orderId), orderId]]);
    const orders = (await h.sheet.read('Orders')).slice(1).filter((o) => o[2] === orderId);
    expect(orders).toEqual([[expect.stringMatching(/ UTC$/), 'Gallery POS (Square)', orderId, sku, 'gallery', 2, 'sold', expect.stringContaining(orderId)]]);

    // Through the real googleapis client, by developer metadata, never by row number.
    const since = await h.sheet.requests(requestsBefore);
    const byFilter = since.filter((q) => q.path.endsWith('/values:batchUpdateByDataFilter'));
    expect(byFilter.length).toBeGreaterThan(0);
    const lookups = byFilter.flatMap((q) => (q.body as { data: { dataFilter: { developerMetadataLookup?: object; a1Range?: string } }[] }).data.map((d) => d.dataFilter));
    expect(lookups).toContainEqual({ developerMetadataLookup: { metadataKey: 'stockrelay.sku', metadataValue: sku, locationType: 'ROW' } });
    expect(lookups.filter((f) => f.developerMetadataLookup === undefined)).toEqual([]);
    for (const q of since.filter((x) => x.path.startsWith('/v4/'))) {
      expect(q.apiClient).toMatch(/gdcl\/\d+/);
      expect(q.userAgent).toMatch(/google-api-nodejs-client/);
    }
    expect(since.filter((q) => q.status >= 400)).toEqual([]);

    // What Square sent: its signed webhooks, verified and processed (none refused or left over).
    for (const status of ['failed', 'unmatched', 'conflict', 'rejected', 'received']) {
      expect({ status, events: (await api('GET', `/v1/events?status=${status}`)).body.events }).toEqual({ status, events: [] });
    }
  });

  test('(b) a staff edit typed in the add-on’s Catalog reaches every channel and comes back in the Catalog row', async () => {
    const sku = 'PNT-0302';
    await h.quiesce();
    expect(await hubLevels(sku)).toEqual({ gallery: { onHand: 7, available: 7 }, warehouse: { onHand: 36, available: 36 } });
    await expectEveryChannelFollows(sku);

    // The add-on's spreadsheet holds the Catalog as the hub wrote it, row for row, including the rows
    // (a) sorted and inserted: it stands for the one Google Sheet both would share.
    const env = fakeEnv({ handler: http.handler() });
    const addon = createAddon(() => env.services);
    const grid = await h.sheet.read('Catalog');
    const width = E2E_CATALOG_HEADERS.length;
    const catalog = env.ss.insertSheet('Catalog');
    catalog.getRange(1, 1, grid.length, width).setValues(grid.map((cells) => Array.from({ length: width }, (_, i) => (cells[i] ?? '') as Cell)));

    // The sheet connects with a credential of its own, made with the admin token as the CLI would.
    const made = await api('POST', '/v1/credentials', { name: 'Shop sheet', scopes: ['sidebar'] });
    expect(made.status).toBe(201);
    env.ui.answers = [h.url, made.body.relaySecret, made.body.token];
    addon.menuConnect();
    expect(env.ui.lastAlert()!.text).toMatch(/^Connected to http:\/\/127\.0\.0\.1:\d+\./);
    addon.menuSetUpSheets();
    expect(catalog.values()[0]).toEqual(E2E_CATALOG_HEADERS); // the layout was already right: nothing added
    const addonRow = catalog.values().findIndex((cells) => cells[col('SKU')] === sku) + 1;
    expect(addonRow).toBeGreaterThan(1);
    expect(addonRow - 1).toBe(await h.sheet.rowWithSku(sku)); // the same row in both (0-based in the fake)
    expect(catalog.skuMetadata()[addonRow]).toEqual([sku]);
    expect(catalog.getRange(`${letter(col('On hand · gallery'))}${addonRow}`).getValue()).toBe(7);
    expect(await h.sheet.record('Catalog', addonRow - 1)).toMatchObject({ SKU: sku, 'On hand · gallery': 7, 'Available · gallery': 7 });

    // Mia counts the shelf: 11 tubes at the gallery, not 7.
    const relaysBefore = env.fetch.relays().length;
    const movementsBefore = (await h.sheet.read('Movements')).length;
    const pushesBefore = await h.emulatorRequests();
    addon.onSheetEdit(typeInto(env, 'Catalog', `${letter(col('On hand · gallery'))}${addonRow}`, '11'));

    // What was sent: one signed cell_edit, with the old value the cell showed.
    const sent = env.fetch.relays().slice(relaysBefore);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.id).toMatch(/\S/);
    expect(sent[0]!.body).toMatchObject({ kind: 'cell_edit', sku, field: 'on_hand', location: 'gallery', oldValue: 7, newValue: 11, actor: 'mia@gallery.example', sheet: 'Catalog', origin: 'sheet' });
    const relayRequest = env.fetch.requests.filter((r) => r.url.endsWith('/v1/relay')).at(-1)!;
    expect(relayRequest.headers['webhook-signature']).toMatch(/^v1,/);
    expect(addon.sidebarState().queue).toMatchObject({ waiting: 0, failed: [] });

    await h.quiesce();

    // What was kept: a count by Mia from the sheet, the difference booked.
    expect(await hubLevels(sku)).toEqual({ gallery: { onHand: 11, available: 11 }, warehouse: { onHand: 36, available: 36 } });
    const last = (await api('GET', `/v1/items/${sku}/movements?limit=1`)).body.movements[0];
    expect(last).toMatchObject({ quantity: 4, reason: 'count', locationId: 'gallery', source: 'sheet', actor: 'mia@gallery.example' });

    // Every channel: each emulator's own level is the hub's new one (warehouse untouched).
    const held = await h.emulatorLevels(sku);
    expect(held).toEqual({ square: { gallery: 11, warehouse: 36 }, shopify: { warehouse: 36, gallery: 11 }, woocommerce: { gallery: 11 } });
    await expectEveryChannelFollows(sku);
    const pushesAfter = await h.emulatorRequests();
    for (const channel of ['square', 'shopify', 'woocommerce']) expect({ channel, more: pushesAfter[channel]! > pushesBefore[channel]! }).toEqual({ channel, more: true });

    // The write-back: the SKU's Catalog row shows it, and Movements has the count.
    const row = await h.sheet.rowWithSku(sku);
    expect(await h.sheet.record('Catalog', row)).toMatchObject({ SKU: sku, 'On hand · gallery': 11, 'Available · gallery': 11, 'On hand · warehouse': 36, 'Sync note': '' });
    const added = (await h.sheet.read('Movements')).slice(movementsBefore);
    expect(added).toEqual([[expect.stringMatching(/ UTC$/), sku, 'gallery', 4, 'count', 'sheet', '', 'mia@gallery.example', `edited in Catalog row ${addonRow}`]]);
    for (const status of ['failed', 'unmatched', 'conflict', 'rejected', 'received']) {
      expect({ status, events: (await api('GET', `/v1/events?status=${status}`)).body.events }).toEqual({ status, events: [] });
    }
  });

  test('(c) a purchase order that cannot be filled waits; a restock on the Square emulator approves it and its sheet row shows "Approved"; the order is once in the log with both movements', async () => {
    const sku = 'ART-0002'; // one of a kind, at the gallery
    await h.quiesce();
    // Sold at the gallery register (the sandbox drives Square's emulator, which sends its own webhooks).
    const sold = await api('POST', '/v1/sandbox/channels/square/sales', { sku, quantity: 1, location: 'gallery' });
    expect(sold.status).toBe(201);
    await h.quiesce();
    expect((await hubLevels(sku)).gallery).toEqual({ onHand: 0, available: 0 });

    // A customer's purchase order typed in the Purchase Orders tab; the add-on tags the row and relays it, signed.
    await h.sheet.addTaggedRow('Purchase Orders', ['PO-E2E-1', 'Acme Pty Ltd', sku, 1, 'gallery'], 'stockrelay.po_line', 'PO-E2E-1#1');
    const raw = JSON.stringify({ kind: 'purchase_order', origin: 'sheet', number: 'PO-E2E-1', customer: 'Acme Pty Ltd', lines: [{ line: 1, sku, quantity: 1, location: 'gallery' }], sheet: 'Purchase Orders', submittedAt: new Date().toISOString() });
    const relayed = await fetch(`${h.url}/v1/relay`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...signRelay(RELAY_SECRET, `msg_${Date.now()}`, raw, new Date()) } });
    expect(relayed.status).toBeLessThan(300);
    await h.quiesce();
    const row = await h.sheet.rowWithMeta('Purchase Orders', 'stockrelay.po_line', 'PO-E2E-1#1');
    expect(await h.sheet.record('Purchase Orders', row)).toMatchObject({ 'PO number': 'PO-E2E-1', Status: 'Waitlisted', Reserved: 0, Waiting: 1 });

    // The buyer brings the painting back at the gallery: a refund with restock on Square's emulator.
    const back = await api('POST', '/v1/sandbox/channels/square/refunds', { sku, restock: true });
    expect(back.status).toBe(201);
    await h.quiesce();

    // Back on hand, at once reserved for the waiting purchase order: no channel offers it to anyone else.
    expect((await hubLevels(sku)).gallery).toEqual({ onHand: 1, available: 0 });
    expect((await api('GET', '/v1/purchase-orders/PO-E2E-1')).body).toMatchObject({ status: 'approved', lines: [{ sku, reserved: 1, waiting: 0 }] });
    expect(await h.sheet.record('Purchase Orders', row)).toMatchObject({ 'PO number': 'PO-E2E-1', Customer: 'Acme Pty Ltd', SKU: sku, Status: 'Approved', Reserved: 1, Waiting: 0 });
    await expectEveryChannelFollows(sku);

    // The Square order is one entry of the transaction log, with its sale and its return linked.
    const orders = (await api('GET', `/v1/orders?channel=square&sku=${sku}`)).body.orders as { externalId: string; lines: unknown[]; currency: string; total: number; refunded: number; status: string; events: { kind: string; amount: number | null }[]; movements: { reason: string; quantity: number }[] }[];
    const mine = orders.filter((o) => o.externalId === sold.body.orderId);
    expect(mine).toHaveLength(1);
    // Square's money, in cents as Square sends it: the whole order refunded.
    expect(mine[0]).toMatchObject({ currency: 'AUD', status: 'refunded', lines: [{ sku, quantity: 1, returned: 1 }] });
    expect(mine[0]!.total).toBeGreaterThan(0);
    expect(mine[0]!.refunded).toBe(mine[0]!.total);
    expect(mine[0]!.events.map((e) => e.amount)).toEqual([mine[0]!.total, mine[0]!.total]);
    expect(mine[0]!.events.map((e) => e.kind)).toEqual(['placed', 'return']);
    expect(mine[0]!.movements.map((m) => [m.reason, m.quantity])).toEqual([['sale', -1], ['return', 1]]);
  });
});
