/**
 * The menu: connecting (checked, kept in document properties, never in cells), setting up the
 * tabs (idempotent), installing triggers (installing twice leaves one of each), Sync now and
 * Check catalog.
 */
import { MENU_ITEMS } from '../../appsscript/src/entries';
import { credentialProblem } from '../../appsscript/src/app';
import { KEYS, checkHubUrl, checkRelaySecret, checkToken, loadSettings, saveSettings } from '../../appsscript/src/settings';
import { readShadow, shadowKey } from '../../appsscript/src/shadow';
import { ChunkedStore } from '../../appsscript/src/store';
import { ADMIN_TOKEN, RELAY_SECRET } from '../helpers/hub';
import { FakeValidation, type FakeSheet } from './fakes/gas';
import { catalog, HUB_URL, rig } from './fakes/env';
import { SHEET_TOKEN } from './fakes/scripted-hub';

test('onOpen and onInstall build the stockrelay menu with every item, in order', () => {
  const { env, addon } = rig({ connected: false });
  addon.onOpen({});
  addon.onInstall({});
  expect(env.ui.menus).toHaveLength(2);
  const items = env.ui.menus[0]!.items;
  expect(items.map((i) => i?.caption ?? '—')).toEqual([
    'Connect to hub',
    'Set up sheets',
    '—',
    'Install triggers',
    'Remove triggers',
    '—',
    'Open sidebar',
    'Sync now',
    'Check catalog',
    '—',
    'Send new purchase orders',
    'Cancel selected purchase order',
    '—',
    'Refresh dashboard',
  ]);
  for (const i of items) if (i) expect(typeof (addon as any)[i.fn]).toBe('function');
  expect(items).toEqual(MENU_ITEMS.map((m) => (m ? { caption: m.caption, fn: m.fn } : null)));
});

describe('Connect to hub', () => {
  test('checks the address, secret and token, and says plainly what is wrong', () => {
    expect(checkHubUrl('stock.example.com')).toMatchObject({ ok: false, message: expect.stringMatching(/not a web address/) });
    expect(checkHubUrl('http://stock.example.com')).toMatchObject({ ok: false, message: expect.stringMatching(/must start with https:\/\//) });
    expect(checkHubUrl('https://user:pw@stock.example.com')).toMatchObject({ ok: false, message: expect.stringMatching(/passwords/) });
    expect(checkHubUrl(' https://Stock.Example.com/ ')).toEqual({ ok: true, value: 'https://stock.example.com' });
    expect(checkHubUrl('http://127.0.0.1:8080', 'this machine')).toEqual({ ok: true, value: 'http://127.0.0.1:8080' });
    expect(checkRelaySecret('abc123')).toMatchObject({ ok: false, message: expect.stringMatching(/should start with "whsec_"/) });
    expect(checkRelaySecret('whsec_c2hvcnQ=')).toMatchObject({ ok: false, message: expect.stringMatching(/too short/) });
    expect(checkRelaySecret(` ${RELAY_SECRET} `)).toEqual({ ok: true, value: RELAY_SECRET });
    expect(checkToken('srt_short')).toMatchObject({ ok: false, message: expect.stringMatching(/shorter than the hub makes them/) });
    expect(checkToken('srt_has a space in it, see')).toMatchObject({ ok: false, message: expect.stringMatching(/space/) });
    expect(checkToken(`Bearer ${SHEET_TOKEN}`)).toEqual({ ok: true, value: SHEET_TOKEN });
    // The hub's admin token is never taken: every editor could read it from the document properties.
    expect(checkToken(ADMIN_TOKEN)).toMatchObject({ ok: false, message: expect.stringMatching(/Do not paste the hub’s admin token here.*npx stockrelay credentials create --name "Shop sheet" --scope sidebar/) });
  });

  test('a mistyped value saves nothing and the dialog says why', () => {
    const { env, addon } = rig({ connected: false });
    env.ui.answers = ['https://hub.stock.test', 'not-a-secret'];
    addon.menuConnect();
    expect(env.ui.lastAlert()).toEqual({ title: 'Connect to hub', text: expect.stringMatching(/^Nothing was saved\. The relay secret should start with "whsec_"/) });
    expect(loadSettings(env.props)).toBeNull();
    expect(env.props.getProperty(KEYS.hubUrl)).toBeNull();
  });

  test('good values are tried against the hub, then kept in document properties and in no cell', () => {
    const { env, hub, addon } = rig({ connected: false });
    catalog(env, ['SKU', 'On hand'], [['A-1', 1]]);
    env.ui.answers = [HUB_URL + '/', RELAY_SECRET, SHEET_TOKEN];
    addon.menuConnect();
    expect(env.ui.lastAlert()!.text).toMatch(/^Connected to https:\/\/hub\.stock\.test\./);
    expect(loadSettings(env.props)).toEqual({ hubUrl: HUB_URL, relaySecret: RELAY_SECRET, token: SHEET_TOKEN });
    // The dialog says what to make on the hub's machine, and that the admin token stays there.
    expect(env.ui.prompts[1]!.text).toMatch(/admin token stays on the hub’s machine.*\nnpx stockrelay credentials create --name "Shop sheet" --scope sidebar\n/s);
    expect(env.ui.prompts[2]!.text).toMatch(/starts with "srt_".*Never the hub’s admin token/);
    // the secret was proven by a signed relay the hub accepted, which changes nothing
    expect(hub.stored).toEqual([{ id: expect.any(String), body: expect.objectContaining({ kind: 'catalog_changed', added: [], removed: [] }) }]);
    const everyCell = env.ss.sheets.flatMap((s) => s.values().flat().map(String));
    expect(everyCell.some((v) => v.includes('whsec_') || v.includes(SHEET_TOKEN))).toBe(false);
  });

  test('a token or secret the hub refuses is not saved; a hub that does not answer is saved with a warning', () => {
    const a = rig({ connected: false });
    a.env.ui.answers = [HUB_URL, RELAY_SECRET, `srt_${'w'.repeat(43)}`];
    a.addon.menuConnect();
    expect(a.env.ui.lastAlert()!.text).toMatch(/Nothing was saved\. The hub refused this sheet’s token: it is mistyped, or its credential was rotated or revoked\. Ask the supplier/);
    expect(loadSettings(a.env.props)).toBeNull();

    const b = rig({ connected: false });
    // Another secret that starts like the credential's (the hub shows the first characters): the signature tells them apart.
    b.env.ui.answers = [HUB_URL, `whsec_${Buffer.from('stockrelay-another-secret-0123456789').toString('base64')}`, SHEET_TOKEN];
    b.addon.menuConnect();
    expect(b.env.ui.lastAlert()!.text).toMatch(/Nothing was saved\. The hub refused the relay secret: The signature does not match/);
    expect(loadSettings(b.env.props)).toBeNull();

    const c = rig({ connected: false });
    c.hub.readStatus = 'down';
    c.env.ui.answers = [HUB_URL, RELAY_SECRET, SHEET_TOKEN];
    c.addon.menuConnect();
    expect(c.env.ui.lastAlert()!.text).toMatch(/^Saved, but the hub did not answer/);
    expect(loadSettings(c.env.props)).not.toBeNull();
  });

  test('connecting again keeps the saved secret and token when left empty; Cancel changes nothing', () => {
    const { env, addon } = rig();
    env.ui.answers = [null];
    addon.menuConnect();
    expect(env.ui.alerts).toHaveLength(0);
    env.ui.answers = ['https://other.stock.test', '', ''];
    addon.menuConnect();
    expect(loadSettings(env.props)).toEqual({ hubUrl: 'https://other.stock.test', relaySecret: RELAY_SECRET, token: SHEET_TOKEN });
    expect(env.ui.prompts[1]!.text).toMatch(/Leave empty to keep/);
  });

  test('the admin token, a credential without scope sidebar, or a relay secret of another credential is refused and nothing is saved', () => {
    const a = rig({ connected: false });
    a.env.ui.answers = [HUB_URL, RELAY_SECRET, ADMIN_TOKEN];
    a.addon.menuConnect();
    expect(a.env.ui.lastAlert()!.text).toMatch(/^Nothing was saved\. This is not a credential’s token .*Do not paste the hub’s admin token here/);
    expect(loadSettings(a.env.props)).toBeNull();
    expect(a.hub.stored).toEqual([]);

    // A relay secret that is not the credential's (the hub-wide one, say) is refused before anything is sent.
    const b = rig({ connected: false });
    b.env.ui.answers = [HUB_URL, `whsec_${Buffer.from('the-hub-wide-relay-secret-0123456789').toString('base64')}`, SHEET_TOKEN];
    b.addon.menuConnect();
    expect(b.env.ui.lastAlert()!.text).toMatch(/^Nothing was saved\. This relay secret was not made with this token \(credential 1, "Shop sheet", has one starting whsec_c3Rv…\)/);
    expect(loadSettings(b.env.props)).toBeNull();
    expect(b.hub.stored).toEqual([]);

    // What the hub says about the token decides: the admin token (should it ever look like a credential's), or the wrong scope.
    expect(credentialProblem({ kind: 'admin', credential: null }, RELAY_SECRET)).toMatch(/^That is the hub’s admin token, which can change everything and must stay on the hub’s machine/);
    expect(credentialProblem({ kind: 'credential', credential: { id: 4, name: 'Report', scopes: ['read'], relaySecretPrefix: null } }, RELAY_SECRET)).toMatch(/^Credential 4 \("Report"\) has scope read, which cannot adjust stock/);
    expect(credentialProblem({ kind: 'credential', credential: { id: 5, name: 'Sheet', scopes: ['sidebar'], relaySecretPrefix: RELAY_SECRET.slice(0, 10) } }, RELAY_SECRET)).toBeNull();
  });

  test('a sheet connected with the admin token by an older version keeps working until it connects again with a credential, which removes the admin token', () => {
    const { env, hub, addon } = rig({ connected: false });
    env.props.setProperties({ [KEYS.hubUrl]: HUB_URL, [KEYS.relaySecret]: RELAY_SECRET, [KEYS.legacyAdminToken]: ADMIN_TOKEN });
    expect(loadSettings(env.props)).toEqual({ hubUrl: HUB_URL, relaySecret: RELAY_SECRET, token: ADMIN_TOKEN });
    // Leaving the token empty does not keep the admin token.
    env.ui.answers = ['', '', ''];
    addon.menuConnect();
    expect(env.ui.lastAlert()!.text).toMatch(/^Nothing was saved\. Paste the token of this sheet’s credential/);
    expect(env.props.getProperty(KEYS.legacyAdminToken)).toBe(ADMIN_TOKEN);
    env.ui.answers = ['', '', SHEET_TOKEN];
    addon.menuConnect();
    expect(env.ui.lastAlert()!.text).toMatch(/^Connected to/);
    expect(env.props.getProperty(KEYS.legacyAdminToken)).toBeNull();
    expect(Object.values(env.props.getProperties())).not.toContain(ADMIN_TOKEN);
    expect(hub.stored).toHaveLength(1);
    saveSettings(env.props, loadSettings(env.props)!);
    expect(env.props.getProperty(KEYS.token)).toBe(SHEET_TOKEN);
  });
});

describe('Set up sheets', () => {
  const protections = (s: FakeSheet) => s.protections.map((p) => `${p.type} ${p.range.getA1Notation()} ${p.description} warning=${p.warningOnly}`).sort();

  test('creates the six tabs with headers from the hub’s locations, validation and protected computed columns', () => {
    const { env, hub, addon } = rig();
    hub.locations = [
      { id: 'gallery', name: 'Gallery' },
      { id: 'warehouse', name: 'Warehouse' },
    ];
    addon.menuSetUpSheets();
    expect(env.ss.sheets.map((s) => s.getName())).toEqual(['Catalog', 'Movements', 'Orders', 'Alerts', 'Conflicts', 'Purchase Orders']);
    const cat = env.ss.getSheetByName('Catalog')!;
    expect(cat.values()[0]).toEqual(['SKU', 'Title', 'On hand · gallery', 'On hand · warehouse', 'Available · gallery', 'Available · warehouse', 'Low-stock threshold', 'Buffer', 'Status', 'Last synced', 'Sync note']);
    expect(cat.frozenRows).toBe(1);
    for (const col of ['C', 'D', 'G', 'H']) {
      const v = cat.getRange(`${col}2`).getDataValidation() as FakeValidation;
      expect(v).toMatchObject({ criteria: 'NUMBER_GREATER_THAN_OR_EQUAL_TO', args: [0], allowInvalid: false });
      expect(cat.getRange(`${col}1000`).getDataValidation()).toBe(v);
      expect(cat.getRange(`${col}1`).getDataValidation()).toBeNull();
    }
    expect(cat.getRange('A2').getDataValidation()).toBeNull();
    const ranges = cat.protections.map((p) => p.range.getA1Notation()).sort();
    expect(ranges).toEqual(['E1:E1000', 'F1:F1000', 'I1:I1000', 'J1:J1000', 'K1:K1000']);
    expect(cat.protections.every((p) => p.warningOnly && p.description.startsWith('stockrelay:'))).toBe(true);
    for (const tab of ['Movements', 'Orders', 'Alerts', 'Conflicts']) {
      const s = env.ss.getSheetByName(tab)!;
      expect(s.values()[0]!.length).toBeGreaterThan(5);
      expect(protections(s)).toEqual([expect.stringMatching(/^SHEET .* stockrelay: written by the hub warning=true$/)]);
    }
    // Purchase Orders: staff type the order columns; the hub's columns are protected warning-only, one range each.
    const po = env.ss.getSheetByName('Purchase Orders')!;
    expect(po.values()[0]).toEqual(['PO number', 'Customer', 'SKU', 'Quantity', 'Location', 'Needed by', 'Status', 'Reserved', 'Waiting', 'Reason', 'Updated']);
    expect(po.frozenRows).toBe(1);
    expect(protections(po)).toEqual([
      'RANGE G1:G1000 stockrelay: written by the hub (Status) warning=true',
      'RANGE H1:H1000 stockrelay: written by the hub (Reserved) warning=true',
      'RANGE I1:I1000 stockrelay: written by the hub (Waiting) warning=true',
      'RANGE J1:J1000 stockrelay: written by the hub (Reason) warning=true',
      'RANGE K1:K1000 stockrelay: written by the hub (Updated) warning=true',
    ]);
    expect(env.ui.lastAlert()!.text).toMatch(/Created the Catalog, Movements, Orders, Alerts, Conflicts, Purchase Orders tabs/);
  });

  test('a Purchase Orders tab of the staff’s own keeps its columns; the missing ones are added and protected where they are', () => {
    const { env, addon } = rig();
    const po = env.ss.insertSheet('Purchase Orders');
    po.getRange(1, 1, 2, 5).setValues([
      ['Customer', 'PO Number', 'sku', 'Qty', 'Our notes'],
      ['Acme Pty Ltd', 'PO-1', 'ART-1', 2, 'rush'],
    ]);
    addon.menuSetUpSheets();
    expect(po.values()[0]).toEqual(['Customer', 'PO Number', 'sku', 'Qty', 'Our notes', 'Location', 'Needed by', 'Status', 'Reserved', 'Waiting', 'Reason', 'Updated']);
    expect(po.values()[1]).toEqual(['Acme Pty Ltd', 'PO-1', 'ART-1', 2, 'rush', '', '', '', '', '', '', '']);
    expect(protections(po).map((p) => p.split(' ')[1])).toEqual(['H1:H1000', 'I1:I1000', 'J1:J1000', 'K1:K1000', 'L1:L1000']);
    addon.menuSetUpSheets();
    expect(po.protections).toHaveLength(5);
  });

  test('running it again changes nothing; staff’s own columns and order are kept and rows get their SKU metadata', () => {
    const { env, addon } = rig();
    catalog(env, ['Title', 'SKU', 'Our notes', 'On hand · gallery'], [
      ['Ngayu', 'ART-0001', 'framed', 4],
      ['Seven Sisters', 'ART-0002', '', 2],
    ]);
    addon.menuSetUpSheets();
    const cat = env.ss.getSheetByName('Catalog')!;
    const first = { headers: cat.values()[0], protections: env.ss.sheets.map(protections), meta: cat.skuMetadata() };
    expect(first.headers).toEqual(['Title', 'SKU', 'Our notes', 'On hand · gallery', 'Available · gallery', 'Low-stock threshold', 'Buffer', 'Status', 'Last synced', 'Sync note']);
    expect(first.meta).toEqual({ 2: ['ART-0001'], 3: ['ART-0002'] });
    addon.menuSetUpSheets();
    addon.menuSetUpSheets();
    expect(cat.values()[0]).toEqual(first.headers);
    expect(env.ss.sheets.map(protections)).toEqual(first.protections);
    expect(cat.skuMetadata()).toEqual(first.meta);
    expect(env.ss.sheets).toHaveLength(6);
    expect(env.ui.lastAlert()!.text).toMatch(/^All tabs were there already\. Locations: gallery\.$/);
    expect(readShadow(new ChunkedStore(env.props))).toEqual({ [shadowKey('ART-0001', 'gallery')]: 4, [shadowKey('ART-0002', 'gallery')]: 2 });
  });

  test('without a hub, the locations the sheet names are kept (or "main" for a new sheet)', () => {
    const { env, addon } = rig({ connected: false });
    addon.menuSetUpSheets();
    expect(env.ss.getSheetByName('Catalog')!.values()[0]).toContain('On hand · main');
  });
});

describe('triggers', () => {
  test('installing twice leaves exactly one onEdit, one onChange, one one-minute timer and one daily refresh; removing leaves none', () => {
    const { env, addon } = rig();
    env.ss.timeZone = 'Australia/Sydney';
    addon.menuInstallTriggers();
    expect(env.ui.lastAlert()!.text).toMatch(/Dashboard and Reorder tabs are refreshed every morning/);
    addon.menuInstallTriggers();
    const t = env.scriptApp.triggers.map((x) => `${x.getHandlerFunction()} ${x.type} ${x.source ?? ''} ${x.minutes ?? ''}`.trim()).sort();
    expect(t).toEqual(['flushQueue CLOCK  1', 'onSheetChange ON_CHANGE ss_fake_1', 'onSheetEdit ON_EDIT ss_fake_1', 'refreshDashboardDaily CLOCK']);
    expect(env.scriptApp.triggers.find((x) => x.getHandlerFunction() === 'refreshDashboardDaily')).toMatchObject({ days: 1, hour: 6, timeZone: 'Australia/Sydney', minutes: null });
    expect(env.ui.lastAlert()!.text).toMatch(/^All triggers were installed already\./);
    addon.menuRemoveTriggers();
    expect(env.scriptApp.triggers).toEqual([]);
    addon.menuRemoveTriggers();
    expect(env.ui.lastAlert()!.text).toMatch(/no stockrelay triggers to remove/);
  });

  test('duplicates left by an older version are cleaned up; other triggers are left alone', () => {
    const { env, addon } = rig();
    env.scriptApp.newTrigger('onSheetEdit').forSpreadsheet('ss_fake_1').onEdit().create();
    env.scriptApp.newTrigger('onSheetEdit').forSpreadsheet('ss_fake_1').onEdit().create();
    env.scriptApp.newTrigger('myOwnReport').timeBased().everyMinutes(30).create();
    addon.menuInstallTriggers();
    expect(env.scriptApp.count('onSheetEdit')).toBe(1);
    expect(env.scriptApp.count('onSheetChange')).toBe(1);
    expect(env.scriptApp.count('flushQueue')).toBe(1);
    expect(env.scriptApp.count('refreshDashboardDaily')).toBe(1);
    expect(env.scriptApp.count('myOwnReport')).toBe(1);
    addon.menuRemoveTriggers();
    expect(env.scriptApp.triggers.map((x) => x.getHandlerFunction())).toEqual(['myOwnReport']);
  });

  test('the trigger handlers and the sidebar function are entry points of the add-on', () => {
    const { env, addon } = rig();
    addon.menuInstallTriggers();
    for (const t of env.scriptApp.triggers) expect(typeof (addon as any)[t.getHandlerFunction()]).toBe('function');
    addon.menuOpenSidebar();
    expect(env.htmlFiles).toEqual(['Sidebar']);
    expect(env.ui.sidebars).toHaveLength(1);
  });
});

describe('Sync now and Check catalog', () => {
  test('Sync now sends what is waiting first, then the rows the hub does not know, and tags every row', () => {
    const { env, hub, addon } = rig();
    const sheet = catalog(env, ['SKU', 'Title', 'On hand · gallery'], [
      ['ART-0001', 'Ngayu', 4],
      ['ART-0002', 'Seven Sisters', 0],
    ]);
    hub.mode = 'down';
    addon.sidebarAdjust({ sku: 'ART-0001', location: 'gallery', quantity: '-1', reason: 'adjustment', note: 'frame cracked' });
    hub.mode = 'up';
    addon.menuSyncNow();
    expect(hub.stored.map((s) => s.body.kind)).toEqual(['adjustment', 'catalog_changed', 'edit_batch']);
    expect(hub.stored[1]!.body.added).toEqual([
      { sku: 'ART-0001', title: 'Ngayu' },
      { sku: 'ART-0002', title: 'Seven Sisters' },
    ]);
    expect(hub.stored[2]!.body.edits).toEqual([{ sku: 'ART-0001', field: 'on_hand', location: 'gallery', oldValue: 0, newValue: 4, sheet: 'Catalog', row: 2 }]);
    expect(sheet.skuMetadata()).toEqual({ 2: ['ART-0001'], 3: ['ART-0002'] });
    expect(env.ui.lastAlert()!.text).toMatch(/Sent 1 waiting change/);
    addon.menuSyncNow();
    expect(hub.stored).toHaveLength(3);
    expect(env.ui.lastAlert()!.text).toMatch(/The hub already knows every row/);
  });

  test('Sync now with the hub still down sends no new rows ahead of the waiting changes', () => {
    const { env, hub, addon } = rig();
    catalog(env, ['SKU', 'On hand'], [['ART-1', 1]]);
    hub.mode = 'down';
    addon.sidebarAdjust({ sku: 'ART-1', location: '', quantity: '2', reason: 'restock', note: '' });
    addon.menuSyncNow();
    expect(env.ui.lastAlert()!.text).toMatch(/1 change\(s\) are still waiting: .*did not answer/);
    expect(hub.stored).toHaveLength(0);
  });

  test('Check catalog reports empty and duplicate SKUs, unreadable counts and items no channel lists', () => {
    const { env, hub, addon } = rig();
    catalog(env, ['SKU', 'Title', 'On hand · gallery'], [
      ['ART-0001', 'Ngayu', 4],
      ['', 'No code yet', 2],
      ['ART-0001', 'Copy of Ngayu', 1],
      ['ART-0003', 'Water Dreaming', 'lots'],
    ]);
    hub.channels = [{ id: 'shopify-web', name: 'Web store', platform: 'shopify', connected: true, suspendedUntil: null }];
    hub.listings['shopify-web'] = { listings: [{ sku: 'ART-0001' }], levels: [] };
    addon.menuCheckCatalog();
    const text = env.ui.lastAlert()!.text;
    expect(text).toMatch(/3 row\(s\) with a SKU, 2 distinct SKU\(s\)/);
    expect(text).toMatch(/Rows with data but no SKU \(not sent to the hub\): 3\./);
    expect(text).toMatch(/SKU ART-0001 is on rows 2, 4: only row 2 is used/);
    expect(text).toMatch(/row 5 \(gallery\): "lots" is not a number of units/);
    expect(text).toMatch(/Not listed on any channel yet \(1\): ART-0003/);
    expect(env.fetch.relays()).toEqual([]);
  });

  test('Check catalog on a clean catalog says so', () => {
    const { env, addon } = rig();
    catalog(env, ['SKU', 'On hand · gallery'], [['ART-1', 1]]);
    addon.menuCheckCatalog();
    expect(env.ui.lastAlert()!.text).toMatch(/No problems found\./);
  });
});

test('a menu item that fails says why in a dialog instead of Apps Script’s generic error', () => {
  const { env, addon } = rig();
  env.services.spreadsheetApp.getActiveSpreadsheet = () => null;
  addon.menuSetUpSheets();
  expect(env.ui.lastAlert()).toEqual({ title: 'Set up sheets', text: expect.stringMatching(/No spreadsheet is open/) });
});
