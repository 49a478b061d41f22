/**
 * End to end against the REAL hub (startHub('sqlite') from test/helpers/hub.ts, in a child process):
 * the add-on's UrlFetchApp fake makes real HTTP requests. A staff edit is booked; with the hub
 * stopped, two more edits wait in the spreadsheet; a hub started again on the same data receives
 * them in order when the minute trigger runs, and nothing is lost or counted twice.
 */
import { createAddon } from '../../appsscript/src/app';
import { loadSettings } from '../../appsscript/src/settings';
import { ADMIN_TOKEN, RELAY_SECRET, tempDir } from '../helpers/hub';
import { fakeEnv, typeInto } from './fakes/gas';
import { startHubProcess, type HubProcess } from './fakes/hub-process';
import { SyncHttp } from './fakes/sync-http';

jest.setTimeout(120_000);

const http = new SyncHttp(5_000);
const hubs: HubProcess[] = [];
afterAll(async () => {
  for (const h of hubs) await h.close();
  await http.close();
});

/** The sheet's own credential, made with the admin token as the supplier would with the CLI. */
async function sheetCredential(hub: HubProcess): Promise<{ relaySecret: string; token: string }> {
  const res = await fetch(hub.url + '/v1/credentials', { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Shop sheet', scopes: ['sidebar'] }) });
  expect(res.status).toBe(201);
  return (await res.json()) as { relaySecret: string; token: string };
}

async function api(hub: HubProcess, p: string): Promise<any> {
  const res = await fetch(hub.url + p, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  return { status: res.status, body: await res.json() };
}

test('a staff edit is booked by the real hub; edits made while it is down are sent in order once it is back', async () => {
  const dataDir = tempDir('sr-addon-e2e-');
  let hub = await startHubProcess(dataDir);
  hubs.push(hub);
  const env = fakeEnv({ handler: http.handler() });
  const addon = createAddon(() => env.services);

  // Connect through the menu: the admin token and the hub-wide relay secret are refused; the sheet's
  // own credential is checked by the hub (whose token, which scope, the relay secret made with it).
  env.ui.answers = [hub.url, RELAY_SECRET, ADMIN_TOKEN];
  addon.menuConnect();
  expect(env.ui.lastAlert()!.text).toMatch(/^Nothing was saved\. .*admin token/);
  const sheet1 = await sheetCredential(hub);
  env.ui.answers = [hub.url, RELAY_SECRET, sheet1.token];
  addon.menuConnect();
  expect(env.ui.lastAlert()!.text).toMatch(/^Nothing was saved\. This relay secret was not made with this token/);
  env.ui.answers = [hub.url, sheet1.relaySecret, sheet1.token];
  addon.menuConnect();
  expect(env.ui.lastAlert()!.text).toMatch(/^Connected to http:\/\/127\.0\.0\.1:\d+\./);

  // Set up sheets takes the hub's locations; a new row is typed in, SKU first.
  addon.menuSetUpSheets();
  const sheet = env.ss.getSheetByName('Catalog')!;
  expect(sheet.values()[0]).toEqual(expect.arrayContaining(['SKU', 'Title', 'On hand · gallery', 'Available · gallery']));
  addon.onSheetEdit(typeInto(env, 'Catalog', 'B2', 'Ngayu — Tjukurpa, ochre on bark'));
  addon.onSheetEdit(typeInto(env, 'Catalog', 'A2', 'ART-0001'));
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', '5'));
  await hub.settle();
  let item = await api(hub, '/v1/items/ART-0001');
  expect(item.status).toBe(200);
  expect(item.body).toMatchObject({ sku: 'ART-0001', title: 'Ngayu — Tjukurpa, ochre on bark', onHand: 5 });
  expect(item.body.locations).toEqual([expect.objectContaining({ locationId: 'gallery', onHand: 5 })]);

  // The hub goes down; two edits are made and kept.
  await hub.close();
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', '4'));
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', '6'));
  expect(env.ss.toasts.at(-1)!.message).toMatch(/2 changes are kept in this spreadsheet/);
  expect(addon.sidebarState().queue.waiting).toBe(2);
  addon.flushQueue(); // still down: nothing lost
  expect(addon.sidebarState().queue.waiting).toBe(2);

  // A hub starts again on the same data, at a new address; the sheet is pointed at it.
  hub = await startHubProcess(dataDir);
  hubs.push(hub);
  env.ui.answers = [hub.url, '', ''];
  addon.menuConnect();
  expect(loadSettings(env.props)!.hubUrl).toBe(hub.url);
  addon.flushQueue();
  expect(addon.sidebarState().queue).toMatchObject({ waiting: 0, failed: [] });
  await hub.settle();

  item = await api(hub, '/v1/items/ART-0001');
  expect(item.body.onHand).toBe(6);
  const movements = (await api(hub, '/v1/items/ART-0001/movements')).body.movements.reverse();
  expect(movements.map((m: any) => [m.quantity, m.reason, m.source, m.actor])).toEqual([
    [5, 'count', 'sheet', 'mia@gallery.example'],
    [-1, 'count', 'sheet', 'mia@gallery.example'],
    [2, 'count', 'sheet', 'mia@gallery.example'],
  ]);
  for (const status of ['conflict', 'unmatched', 'failed', 'rejected']) {
    expect((await api(hub, `/v1/events?status=${status}`)).body.events).toEqual([]);
  }

  // The sidebar, reading the real hub, shows the row's levels and its history.
  env.ss.select('Catalog', 'C2');
  const state = addon.sidebarState();
  expect(state.item.error).toBeNull();
  expect(state.item.data!.locations[0]).toMatchObject({ locationId: 'gallery', onHand: 6, available: 6 });
  expect(state.movements.data.map((m) => m.quantity)).toEqual([2, -1, 5]);
  // A sidebar adjustment is booked from the sidebar.
  expect(addon.sidebarAdjust({ sku: 'ART-0001', location: 'gallery', quantity: '-2', reason: 'adjustment', note: 'frame cracked' })).toMatchObject({ ok: true });
  await hub.settle();
  const last = (await api(hub, '/v1/items/ART-0001/movements?limit=1')).body.movements[0];
  expect(last).toMatchObject({ quantity: -2, reason: 'adjustment', source: 'sidebar', note: 'frame cracked', actor: 'mia@gallery.example' });
});

test('purchase orders typed in the sheet are matched by the real hub and the Dashboard and Reorder tabs fill from it', async () => {
  const hub = await startHubProcess(tempDir('sr-addon-po-'));
  hubs.push(hub);
  const env = fakeEnv({ handler: http.handler() });
  const addon = createAddon(() => env.services);
  const sheet2 = await sheetCredential(hub);
  env.ui.answers = [hub.url, sheet2.relaySecret, sheet2.token];
  addon.menuConnect();
  expect(env.ui.lastAlert()!.text).toMatch(/^Connected to/);
  addon.menuSetUpSheets();
  addon.onSheetEdit(typeInto(env, 'Catalog', 'A2', 'ART-0002'));
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', '2'));
  await hub.settle();

  // Two orders typed in the Purchase Orders tab: one the stock covers, one it does not (waitlisted by default).
  const po = env.ss.getSheetByName('Purchase Orders')!;
  po.getRange(2, 1, 2, 4).setValues([
    ['PO-1', 'Acme Pty Ltd', 'ART-0002', 2],
    ['PO-2', 'Bright Shop', 'ART-0002', 1],
  ]);
  addon.menuSendPurchaseOrders();
  await hub.settle();
  expect((await api(hub, '/v1/purchase-orders/PO-1')).body).toMatchObject({ status: 'approved', origin: 'sheet', lines: [{ sku: 'ART-0002', reserved: 2 }] });
  expect((await api(hub, '/v1/purchase-orders/PO-2')).body).toMatchObject({ status: 'waitlisted', lines: [{ sku: 'ART-0002', reserved: 0, waiting: 1 }] });
  expect((await api(hub, '/v1/items/ART-0002')).body).toMatchObject({ onHand: 2, available: 0 });

  // The dashboard and reorder figures come from the real hub's reports.
  addon.menuRefreshDashboard();
  expect(env.ss.toasts.at(-1)!.message).toMatch(/^Dashboard refreshed/);
  expect(env.ss.getSheetByName('Dashboard')!.getCharts()).toHaveLength(3);
  const reorder = env.ss.getSheetByName('Reorder')!.values();
  expect(reorder[0]!.slice(0, 3)).toEqual(['SKU', 'Title', 'Available']);
  expect(reorder.slice(1).map((r) => r[0])).toContain('ART-0002');
});
