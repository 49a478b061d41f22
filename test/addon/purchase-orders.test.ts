/**
 * The Purchase Orders tab: "Send new purchase orders" checks each order (rows with the same PO
 * number), marks the ones that cannot go "Not sent" with what to fix, tags the rows of the others
 * with `stockrelay.po_line` = "<PO number>#<line>" and relays each one signed through the outbox
 * (so it waits in the spreadsheet while the hub is down). "Cancel selected purchase order" relays
 * a cancellation for the order under the cursor after asking.
 */
import { QUEUE_KEY, type QueuedRelay } from '../../appsscript/src/queue';
import { checkNeededBy, checkOrderQuantity } from '../../appsscript/src/purchase-orders';
import { ChunkedStore } from '../../appsscript/src/store';
import { rig } from './fakes/env';
import type { FakeEnv, FakeSheet } from './fakes/gas';

// The hub checks a relay's signing time against its own clock: the fixed clock is today.
const NOW = new Date();
const AT = NOW.toISOString();
const HEADERS = ['PO number', 'Customer', 'SKU', 'Quantity', 'Location', 'Needed by', 'Status', 'Reserved', 'Waiting', 'Reason', 'Updated'];
/** Midnight of a day in Sydney, as Sheets hands a date cell to the script. */
const sydneyDay = (iso: string) => new Date(new Date(`${iso}T00:00:00+11:00`).getTime());

function shop(rows: unknown[][]) {
  const r = rig({ now: () => NOW });
  r.env.ss.timeZone = 'Australia/Sydney';
  r.addon.menuSetUpSheets();
  const sheet = r.env.ss.getSheetByName('Purchase Orders')!;
  if (rows.length) sheet.getRange(2, 1, rows.length, HEADERS.length).setValues(rows.map((x) => [...x, ...new Array(HEADERS.length - x.length).fill('')]));
  r.env.ui.alerts = [];
  return { ...r, sheet };
}

/** Status, Reason of each data row. */
const statuses = (sheet: FakeSheet) => sheet.values().slice(1).map((r) => [r[6], r[9]]);
const queued = (env: FakeEnv) => new ChunkedStore(env.props).read<QueuedRelay[]>(QUEUE_KEY, []);

test('good orders are sent as one signed relay each, their rows tagged "<PO>#<line>" and marked Sent', () => {
  const { env, hub, addon, sheet } = shop([
    ['PO-1001', 'Acme Pty Ltd', 'ART-1', 3, 'gallery', sydneyDay('2026-12-24')],
    ['PO-1001', '', 'ART-2', '2', '', ''],
    ['PO-1002', 'Bobs Frames', 'ART-1', 1],
  ]);
  addon.menuSendPurchaseOrders();
  expect(hub.stored.map((s) => s.body)).toEqual([
    {
      kind: 'purchase_order',
      origin: 'sheet',
      number: 'PO-1001',
      customer: 'Acme Pty Ltd',
      lines: [
        { line: 1, sku: 'ART-1', quantity: 3, location: 'gallery' },
        { line: 2, sku: 'ART-2', quantity: 2 },
      ],
      neededBy: '2026-12-24', // the day in the spreadsheet's time zone, not the UTC day before
      sheet: 'Purchase Orders',
      actor: 'mia@gallery.example',
      submittedAt: AT,
    },
    { kind: 'purchase_order', origin: 'sheet', number: 'PO-1002', customer: 'Bobs Frames', lines: [{ line: 1, sku: 'ART-1', quantity: 1 }], sheet: 'Purchase Orders', actor: 'mia@gallery.example', submittedAt: AT },
  ]);
  expect(sheet.skuMetadata('stockrelay.po_line')).toEqual({ 2: ['PO-1001#1'], 3: ['PO-1001#2'], 4: ['PO-1002#1'] });
  expect(statuses(sheet)).toEqual([
    ['Sent', ''],
    ['Sent', ''],
    ['Sent', ''],
  ]);
  expect(sheet.values()[1]![10]).toEqual(NOW);
  expect(env.ui.lastAlert()).toEqual({ title: 'Send new purchase orders', text: expect.stringMatching(/^Sent 2 purchase orders to the hub: PO-1001, PO-1002\./) });

  // Sent rows are never sent again; the metadata follows the row when rows are sorted.
  addon.menuSendPurchaseOrders();
  expect(hub.stored).toHaveLength(2);
  expect(env.ui.lastAlert()!.text).toMatch(/^There are no new purchase orders to send/);
  sheet.sortByColumn(1, false);
  expect(sheet.skuMetadata('stockrelay.po_line')).toEqual({ 2: ['PO-1002#1'], 3: ['PO-1001#1'], 4: ['PO-1001#2'] });
});

test('an order with a bad row is not sent: its rows say "Not sent" and what to fix; the other orders go', () => {
  const { env, hub, addon, sheet } = shop([
    ['PO-2001', 'Acme Pty Ltd', 'ART-1', 'three'],
    ['PO-2002', 'Bobs Frames', 'ART-1', 2],
    ['PO-2002', 'Bobs Frames', '', 1],
    ['PO-2003', 'Carla’s Craft', 'ART-3', 4],
    ['PO-2004', '', 'ART-3', 1],
    ['PO-2005', 'Dee', 'ART-3', 0, '', 'next week'],
    ['', 'Eve', 'ART-3', 1],
  ]);
  addon.menuSendPurchaseOrders();
  expect(hub.stored.map((s) => s.body.number)).toEqual(['PO-2003']);
  const s = statuses(sheet);
  expect(s[0]).toEqual(['Not sent', 'Quantity "three" is not a number: type how many units, for example 3. Then choose “Send new purchase orders” again.']);
  expect(s[1]).toEqual(['Not sent', 'Not sent because row 4 of PO-2002 needs fixing first (SKU is empty: type the item’s SKU as in the Catalog).']);
  expect(s[2]).toEqual(['Not sent', 'SKU is empty: type the item’s SKU as in the Catalog. Then choose “Send new purchase orders” again.']);
  expect(s[3]).toEqual(['Sent', '']);
  expect(s[4]).toEqual(['Not sent', 'Customer is empty: type who PO-2004 is for. Then choose “Send new purchase orders” again.']);
  expect(s[5]![0]).toBe('Not sent');
  expect(s[5]![1]).toMatch(/^Quantity 0 must be 1 or more; Needed by "next week" is not a date/);
  expect(s[6]).toEqual(['Not sent', expect.stringMatching(/^No PO number/)]);
  // only the order that was sent carries line metadata
  expect(sheet.skuMetadata('stockrelay.po_line')).toEqual({ 5: ['PO-2003#1'] });
  const text = env.ui.lastAlert()!.text;
  expect(text).toMatch(/Sent 1 purchase order to the hub: PO-2003\./);
  expect(text).toMatch(/Not sent: PO-2001 \(Quantity "three" is not a number.*\); PO-2002 \(SKU is empty/);
  expect(text).toMatch(/the Reason column says what to fix/);

  // Fixed, then sent again: "Not sent" rows are taken again, with their lines numbered afresh.
  sheet.getRange('D2').setValue(3);
  addon.menuSendPurchaseOrders();
  expect(hub.stored.map((x) => x.body.number)).toEqual(['PO-2003', 'PO-2001']);
  expect(hub.stored[1]!.body.lines).toEqual([{ line: 1, sku: 'ART-1', quantity: 3 }]);
  expect(statuses(sheet)[0]).toEqual(['Sent', '']);
});

test('lines added under a PO number that was sent already are refused, not sent as a second order', () => {
  const { hub, addon, sheet } = shop([['PO-3001', 'Acme Pty Ltd', 'ART-1', 1]]);
  addon.menuSendPurchaseOrders();
  sheet.getRange(3, 1, 1, 4).setValues([['PO-3001', 'Acme Pty Ltd', 'ART-2', 1]]);
  addon.menuSendPurchaseOrders();
  expect(hub.stored).toHaveLength(1);
  expect(statuses(sheet)[1]).toEqual(['Not sent', expect.stringMatching(/^PO-3001 was sent already, so lines cannot be added to it: put these rows under a new PO number/)]);
});

test('with the hub down the orders wait in the spreadsheet, in order, and the minute trigger sends them', () => {
  const { env, hub, addon, sheet } = shop([
    ['PO-4001', 'Acme Pty Ltd', 'ART-1', 1],
    ['PO-4002', 'Bobs Frames', 'ART-2', 2],
  ]);
  hub.mode = 'down';
  addon.menuSendPurchaseOrders();
  expect(hub.stored).toHaveLength(0);
  expect(hub.attempts).toHaveLength(1); // once the hub has not answered, the next order queues without trying again
  const waiting = queued(env);
  expect(waiting.map((q) => JSON.parse(q.body).number)).toEqual(['PO-4001', 'PO-4002']);
  expect(queued(env).map((q) => q.summary)).toEqual(['Purchase order PO-4001 for Acme Pty Ltd (1 line)', 'Purchase order PO-4002 for Bobs Frames (1 line)']);
  expect(sheet.skuMetadata('stockrelay.po_line')).toEqual({ 2: ['PO-4001#1'], 3: ['PO-4002#1'] });
  expect(statuses(sheet)).toEqual([
    ['Sent', ''],
    ['Sent', ''],
  ]);
  expect(env.ui.lastAlert()!.text).toMatch(/^2 purchase orders are waiting \(PO-4001, PO-4002\): The hub could not take it now\. 2 changes are kept in this spreadsheet/);

  hub.mode = 'up';
  addon.flushQueue();
  expect(hub.stored.map((s) => s.body.number)).toEqual(['PO-4001', 'PO-4002']);
  expect(hub.stored.map((s) => s.id)).toEqual(waiting.map((q) => q.id));
  expect(queued(env)).toEqual([]);
});

test('the hub’s first problem is shown and kept in Reason; a refused order goes back to "Not sent"', () => {
  const { env, hub, addon, sheet } = shop([
    ['PO-5001', 'Acme Pty Ltd', 'ART-404', 1],
    ['PO-5002', 'Bobs Frames', 'ART-1', 1],
  ]);
  hub.relayAnswer = (body, eventId) =>
    body.number === 'PO-5001'
      ? { eventId, status: 'unmatched', results: [{ sku: 'ART-404', result: 'unmatched', message: 'The hub does not know the SKU ART-404: add it to the Catalog, then retry the event.' }], message: 'Stored, but something in it is unknown to the hub.' }
      : { eventId, status: 'processed', results: [{ sku: 'ART-1', result: 'booked', message: 'Reserved 1.' }], message: 'Booked.' };
  addon.menuSendPurchaseOrders();
  expect(statuses(sheet)).toEqual([
    ['Sent', 'The hub does not know the SKU ART-404: add it to the Catalog, then retry the event.'],
    ['Sent', ''],
  ]);
  expect(env.ui.lastAlert()!.text).toMatch(/The hub took PO-5001 but says: The hub does not know the SKU ART-404/);

  sheet.getRange(4, 1, 1, 4).setValues([['PO-5003', 'Carla', 'ART-1', 1]]);
  hub.mode = 400;
  addon.menuSendPurchaseOrders();
  expect(statuses(sheet)[2]).toEqual(['Not sent', expect.stringMatching(/^The hub refused the change: scripted answer 400/)]);
  expect(env.ui.lastAlert()!.text).toMatch(/The hub refused PO-5003: scripted answer 400/);
});

test('without the tab or its columns, Send says what to do', () => {
  const r = rig();
  r.addon.menuSendPurchaseOrders();
  expect(r.env.ui.lastAlert()!.text).toMatch(/There is no "Purchase Orders" tab yet: choose Set up sheets/);
  r.env.ss.insertSheet('Purchase Orders').getRange(1, 1, 1, 2).setValues([['PO number', 'SKU']]);
  r.addon.menuSendPurchaseOrders();
  expect(r.env.ui.lastAlert()!.text).toMatch(/has no "Customer", "Quantity", "Status", "Reason" column in row 1: choose Set up sheets to add them/);
});

describe('Cancel selected purchase order', () => {
  function sent() {
    const r = shop([
      ['PO-6001', 'Acme Pty Ltd', 'ART-1', 3],
      ['PO-6001', 'Acme Pty Ltd', 'ART-2', 1],
      ['PO-6002', 'Bobs Frames', 'ART-1', 1],
    ]);
    r.addon.menuSendPurchaseOrders();
    r.env.ui.alerts = [];
    return r;
  }

  test('asks, then relays the cancellation of the order under the cursor with the reason given', () => {
    const { env, hub, addon, sheet } = sent();
    env.ss.select('Purchase Orders', 'C3');
    env.ui.confirms = [true];
    env.ui.answers = ['  Customer changed their mind  '];
    addon.menuCancelPurchaseOrder();
    expect(env.ui.alerts[0]).toEqual({ title: 'Cancel purchase order', text: expect.stringMatching(/^Cancel PO-6001 for Acme Pty Ltd \(2 lines\)\?/) });
    expect(hub.stored.at(-1)!.body).toEqual({ kind: 'purchase_order_cancel', origin: 'sheet', number: 'PO-6001', actor: 'mia@gallery.example', cancelledAt: AT, reason: 'Customer changed their mind' });
    expect(statuses(sheet).map((s) => s[0])).toEqual(['Cancel sent', 'Cancel sent', 'Sent']);
    expect(env.ui.lastAlert()!.text).toMatch(/^The cancellation of PO-6001 was sent to the hub\./);

    env.ui.alerts = [];
    addon.menuCancelPurchaseOrder();
    expect(env.ui.lastAlert()!.text).toMatch(/PO-6001 is already cancelled/);
  });

  test('an empty reason is left out; No sends nothing; a row off the tab or never sent is explained', () => {
    const { env, hub, addon, sheet } = sent();
    const before = hub.stored.length;
    env.ss.select('Purchase Orders', 'A4');
    env.ui.confirms = [false];
    addon.menuCancelPurchaseOrder();
    expect(hub.stored).toHaveLength(before);
    expect(env.ui.alerts).toHaveLength(1); // the question only

    env.ui.confirms = [true];
    env.ui.answers = [''];
    addon.menuCancelPurchaseOrder();
    expect(hub.stored.at(-1)!.body).toEqual({ kind: 'purchase_order_cancel', origin: 'sheet', number: 'PO-6002', actor: 'mia@gallery.example', cancelledAt: AT });

    sheet.getRange(5, 1, 1, 4).setValues([['PO-6003', 'Carla', 'ART-1', 1]]);
    env.ss.select('Purchase Orders', 'B5');
    addon.menuCancelPurchaseOrder();
    expect(env.ui.lastAlert()!.text).toMatch(/PO-6003 was never sent to the hub/);

    env.ss.select('Purchase Orders', 'A1');
    addon.menuCancelPurchaseOrder();
    expect(env.ui.lastAlert()!.text).toMatch(/^Click a cell in a row of the Purchase Orders tab/);
    expect(hub.stored).toHaveLength(before + 1);
  });

  test('with the hub down the cancellation waits in the spreadsheet; a refusal puts the statuses back', () => {
    const { env, hub, addon, sheet } = sent();
    env.ss.select('Purchase Orders', 'A4');
    hub.mode = 'down';
    env.ui.confirms = [true];
    env.ui.answers = [''];
    addon.menuCancelPurchaseOrder();
    expect(queued(env).map((q) => JSON.parse(q.body).kind)).toEqual(['purchase_order_cancel']);
    expect(env.ui.lastAlert()!.text).toMatch(/^The cancellation of PO-6002 is kept in this spreadsheet/);
    hub.mode = 'up';
    addon.flushQueue();

    env.ss.select('Purchase Orders', 'A2');
    hub.mode = 422;
    env.ui.confirms = [true];
    env.ui.answers = ['x'];
    addon.menuCancelPurchaseOrder();
    expect(env.ui.lastAlert()!.text).toMatch(/^The hub refused to cancel PO-6001: scripted answer 422/);
    expect(statuses(sheet).map((s) => s[0])).toEqual(['Sent', 'Sent', 'Cancel sent']);
  });
});

test('quantities and dates are read as a person means them', () => {
  expect(checkOrderQuantity(3)).toEqual({ ok: true, value: 3 });
  expect(checkOrderQuantity(' 12 ')).toEqual({ ok: true, value: 12 });
  expect(checkOrderQuantity(2.5)).toMatchObject({ ok: false, reason: 'Quantity 2.5 is not a whole number of units' });
  expect(checkOrderQuantity(-1)).toMatchObject({ ok: false, reason: 'Quantity -1 must be 1 or more' });
  expect(checkOrderQuantity('')).toMatchObject({ ok: false, reason: expect.stringMatching(/^Quantity is empty/) });
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  expect(checkNeededBy('2026-12-24', iso)).toEqual({ ok: true, value: '2026-12-24' });
  expect(checkNeededBy('2026-02-30', iso)).toMatchObject({ ok: false });
  expect(checkNeededBy('', iso)).toEqual({ ok: true, value: null });
});
