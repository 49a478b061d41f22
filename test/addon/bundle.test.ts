/**
 * What clasp pushes: `npm run build:addon` writes appsscript/dist. The built Code.js is loaded in a
 * Node `vm` with Apps Script's globals stubbed by the fakes: every entry point must be a top-level
 * function declaration (all Apps Script can call), onOpen must build the whole menu, and a trigger
 * run through the bundle must reach the hub signed. The manifest asks for the listed scopes only.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import ts from 'typescript';
import { ENTRY_POINTS, MENU_ITEMS } from '../../appsscript/src/entries';
import { OAUTH_SCOPES } from '../../appsscript/src/manifest';
import { saveSettings } from '../../appsscript/src/settings';
import { RELAY_SECRET } from '../helpers/hub';
import { fakeEnv, typeInto } from './fakes/gas';
import { catalog, HUB_URL } from './fakes/env';
import { SHEET_TOKEN, ScriptedHub } from './fakes/scripted-hub';

const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'appsscript', 'dist');
let code = '';

beforeAll(() => {
  execFileSync('npm', ['run', '--silent', 'build:addon'], { cwd: ROOT, stdio: 'pipe', timeout: 120_000 });
  code = fs.readFileSync(path.join(DIST, 'Code.js'), 'utf8');
}, 150_000);

/** Loads the bundle as Apps Script would: one global scope, the services as globals. */
function load(env: ReturnType<typeof fakeEnv>) {
  const s = env.services;
  const globals: Record<string, unknown> = {
    SpreadsheetApp: s.spreadsheetApp,
    UrlFetchApp: s.urlFetchApp,
    PropertiesService: s.propertiesService,
    LockService: s.lockService,
    ScriptApp: s.scriptApp,
    Utilities: s.utilities,
    HtmlService: s.htmlService,
    Session: s.session,
    Charts: s.charts,
  };
  const context = vm.createContext(globals);
  vm.runInContext(code, context, { filename: 'Code.js' });
  return context as Record<string, any>;
}

test('npm run build:addon writes Code.js, Sidebar.html and appsscript.json', () => {
  expect(fs.readdirSync(DIST).sort()).toEqual(expect.arrayContaining(['Code.js', 'Sidebar.html', 'appsscript.json']));
  expect(code).not.toMatch(/\brequire\(|^import |^export /m); // Apps Script has no modules
});

test('every entry point is a top-level function declaration of Code.js', () => {
  const file = ts.createSourceFile('Code.js', code, ts.ScriptTarget.ES2020, true, ts.ScriptKind.JS);
  const declared = file.statements.filter(ts.isFunctionDeclaration).map((f) => f.name?.text);
  expect(declared).toEqual([...ENTRY_POINTS]);
  // …and each one, loaded, is a function of the global scope
  const g = load(fakeEnv());
  for (const name of ENTRY_POINTS) expect(typeof g[name]).toBe('function');
  // menu items and trigger handlers all name one of them
  for (const item of MENU_ITEMS) if (item) expect(ENTRY_POINTS).toContain(item.fn);
  for (const handler of ['onSheetEdit', 'onSheetChange', 'flushQueue', 'refreshDashboardDaily']) expect(ENTRY_POINTS).toContain(handler);
  for (const name of ['menuSendPurchaseOrders', 'menuCancelPurchaseOrder', 'menuRefreshDashboard', 'refreshDashboardDaily']) expect(typeof g[name]).toBe('function');
});

test('onOpen, run from the bundle, builds the menu with every item', () => {
  const env = fakeEnv();
  const g = load(env);
  g.onOpen({ authMode: 'NONE' });
  expect(env.ui.menus).toHaveLength(1);
  const items = env.ui.menus[0]!.items;
  expect(items.filter(Boolean).map((i) => i!.caption)).toEqual([
    'Connect to hub',
    'Set up sheets',
    'Install triggers',
    'Remove triggers',
    'Open sidebar',
    'Sync now',
    'Check catalog',
    'Send new purchase orders',
    'Cancel selected purchase order',
    'Refresh dashboard',
  ]);
  for (const i of items) if (i) expect(typeof g[i.fn]).toBe('function');
});

test('an edit run through the bundle reaches the hub signed; triggers install from it; the sidebar reads through it', () => {
  const hub = new ScriptedHub();
  const env = fakeEnv({ handler: hub.handler });
  saveSettings(env.props, { hubUrl: HUB_URL, relaySecret: RELAY_SECRET, token: SHEET_TOKEN });
  catalog(env, ['SKU', 'On hand · gallery'], [['ART-0001', 4]]);
  const g = load(env);
  g.onSheetEdit(typeInto(env, 'Catalog', 'B2', '5'));
  expect(hub.stored.map((s) => s.body)).toEqual([expect.objectContaining({ kind: 'cell_edit', sku: 'ART-0001', oldValue: 4, newValue: 5 })]);
  g.menuInstallTriggers();
  g.menuInstallTriggers();
  expect(env.scriptApp.triggers.map((t) => t.getHandlerFunction()).sort()).toEqual(['flushQueue', 'onSheetChange', 'onSheetEdit', 'refreshDashboardDaily']);
  env.ss.select('Catalog', 'A2');
  const state = g.sidebarState();
  expect(state.row.sku).toBe('ART-0001');
  expect(state.triggers).toHaveLength(4);
});

test('purchase orders and the dashboard run through the bundle: money formatting and the Charts service are there', () => {
  const hub = new ScriptedHub();
  hub.dashboard = {
    from: '2026-11-29',
    to: '2026-12-05',
    currency: 'AUD',
    days: [{ day: '2026-11-29', units: 12, orders: 5, returned: 1, revenue: [{ currency: 'AUD', amount: 123450 }] }],
    channels: [{ channelId: 'shopify-web', name: 'Web store', units: 12, orders: 5, revenue: [{ currency: 'AUD', amount: 123450 }] }],
    skus: [{ sku: 'ART-1', title: 'Red desert', units: 12, returned: 1, revenue: [{ currency: 'AUD', amount: 123450 }] }],
    totals: { units: 12, orders: 5, returned: 1, returnsRate: 0.08, sellThrough: 0.4, revenue: [{ currency: 'AUD', amount: 123450 }] },
  };
  hub.reorder = { generatedAt: '2026-12-05T06:00:00.000Z', windowDays: 28, items: [] };
  const env = fakeEnv({ handler: hub.handler });
  saveSettings(env.props, { hubUrl: HUB_URL, relaySecret: RELAY_SECRET, token: SHEET_TOKEN });
  const g = load(env);
  g.menuRefreshDashboard();
  const dash = env.ss.getSheetByName('Dashboard')!;
  expect(dash.values()[6]!.slice(0, 2)).toEqual(['Revenue', '1,234.50 AUD']);
  expect(dash.charts.map((c) => c.summary().type)).toEqual(['LINE', 'COLUMN', 'BAR']);

  g.menuSetUpSheets();
  env.ss.getSheetByName('Purchase Orders')!.getRange(2, 1, 1, 4).setValues([['PO-1', 'Acme Pty Ltd', 'ART-1', 2]]);
  g.menuSendPurchaseOrders();
  expect(hub.stored.at(-1)!.body).toMatchObject({ kind: 'purchase_order', number: 'PO-1', lines: [{ line: 1, sku: 'ART-1', quantity: 2 }] });
});

test('appsscript.json: V8, the listed scopes only, no addOns section', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(DIST, 'appsscript.json'), 'utf8'));
  expect(manifest.runtimeVersion).toBe('V8');
  expect(manifest).not.toHaveProperty('addOns');
  expect([...manifest.oauthScopes].sort()).toEqual(
    [
      'https://www.googleapis.com/auth/script.container.ui',
      'https://www.googleapis.com/auth/script.external_request',
      'https://www.googleapis.com/auth/script.scriptapp',
      'https://www.googleapis.com/auth/spreadsheets.currentonly',
      'https://www.googleapis.com/auth/userinfo.email',
    ].sort(),
  );
  expect(manifest.oauthScopes).toEqual([...OAUTH_SCOPES]);
  expect(manifest.oauthScopes.some((s: string) => /\/auth\/(spreadsheets|drive)$/.test(s))).toBe(false);
});

test('Sidebar.html is one self-contained page: CSS and JS inlined, google.script.run only behind a failure handler', () => {
  const html = fs.readFileSync(path.join(DIST, 'Sidebar.html'), 'utf8');
  expect(html).not.toMatch(/inline:(css|js)/);
  expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet/i);
  expect(html).toMatch(/\.spinner\s*\{/);
  const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
  expect(script).not.toMatch(/<\/script/i);
  expect(script.match(/google\.script\.run/g)).toHaveLength(1);
  expect(script).toMatch(/google\.script\.run\.withSuccessHandler\([^)]*\)[\s\S]{0,80}\.withFailureHandler\(/);
  expect(() => new vm.Script(script)).not.toThrow();
});

test('the real Apps Script services fit the add-on’s interfaces, and the sidebar code type-checks in the browser', () => {
  // appsscript/tsconfig.json checks src/gas-types-check.ts against @types/google-apps-script
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'appsscript/tsconfig.json'], { cwd: ROOT, stdio: 'pipe', timeout: 120_000 });
}, 150_000);
