/**
 * "Refresh dashboard" and the daily trigger: the Dashboard tab (key figures, sales by day, by
 * channel, top items, and three embedded charts) from GET /v1/reports/dashboard?days=7, and the
 * Reorder tab from GET /v1/reorder. A second refresh rewrites in place: no stale rows, no extra
 * charts. A hub that does not answer leaves both tabs as they were.
 */
import { layoutDashboard, moneyText, parseDashboard, percentText, revenueText } from '../../appsscript/src/dashboard';
import { parseReorder, reorderRows } from '../../appsscript/src/reorder';
import { rig } from './fakes/env';
import type { FakeSheet } from './fakes/gas';

const aud = (amount: number) => [{ currency: 'AUD', amount }];

const WEEK = {
  from: '2026-11-29',
  to: '2026-12-05',
  currency: 'AUD',
  days: [
    { day: '2026-11-29', units: 12, orders: 5, returned: 1, revenue: aud(123450) },
    { day: '2026-11-30', units: 8, orders: 4, returned: 0, revenue: aud(80000) },
    { day: '2026-12-01', units: 30, orders: 11, returned: 2, revenue: [...aud(296550), { currency: 'USD', amount: 5000 }] },
  ],
  channels: [
    { channelId: 'shopify-web', name: 'Web store', units: 30, orders: 12, revenue: aud(99900) },
    { channelId: 'square-pos', name: 'Square — gallery POS', units: 20, orders: 8, revenue: aud(400100) },
  ],
  skus: [
    { sku: 'ART-2', title: null, units: 3, returned: 0, revenue: aud(30000) },
    { sku: 'ART-1', title: 'Red desert', units: 7, returned: 1, revenue: aud(70000) },
    { sku: 'ART-3', title: 'Seven Sisters', units: 7, returned: 0, revenue: aud(91000) },
  ],
  totals: { units: 50, orders: 20, returned: 3, returnsRate: 0.06, sellThrough: 0.4, revenue: [...aud(500000), { currency: 'USD', amount: 5000 }] },
};

const NEXT_WEEK = {
  from: '2026-12-06',
  to: '2026-12-12',
  currency: 'AUD',
  days: [{ day: '2026-12-06', units: 2, orders: 1, returned: 0, revenue: aud(1999) }],
  channels: [{ channelId: 'shopify-web', name: 'Web store', units: 2, orders: 1, revenue: aud(1999) }],
  skus: [{ sku: 'ART-1', title: 'Red desert', units: 2, returned: 0, revenue: aud(1999) }],
  totals: { units: 2, orders: 1, returned: 0, returnsRate: 0, sellThrough: 0.125, revenue: aud(1999) },
};

const item = (sku: string, over: Record<string, unknown>) => ({
  sku,
  title: `Title of ${sku}`,
  available: 10,
  incoming: 0,
  velocityPerDay: 0.5,
  inStockDays: 28,
  leadTimeDays: 14,
  safetyStock: 2,
  reorderPoint: 9,
  suggestedQuantity: 0,
  daysOfCover: 20,
  belowLeadTime: false,
  ...over,
});

const REORDER = {
  generatedAt: '2026-12-05T06:00:00.000Z',
  windowDays: 28,
  items: [
    item('ART-5', { daysOfCover: null, velocityPerDay: 0 }),
    item('ART-4', { daysOfCover: 40 }),
    item('ART-1', { title: 'Red desert', available: 4, velocityPerDay: 1.25, inStockDays: 26, safetyStock: 5, reorderPoint: 23, suggestedQuantity: 40, daysOfCover: 3.2, belowLeadTime: true }),
    item('ART-3', { daysOfCover: 9.04, belowLeadTime: true }),
    item('ART-2', { daysOfCover: 18.66, suggestedQuantity: 6, velocityPerDay: 0.333333 }),
  ],
};

function shop() {
  const r = rig({ now: () => new Date('2026-12-05T20:15:00.000Z') });
  r.env.ss.timeZone = 'Australia/Sydney';
  r.hub.dashboard = WEEK;
  r.hub.reorder = REORDER;
  return r;
}

const rowsOf = (sheet: FakeSheet) => sheet.values();
const charts = (sheet: FakeSheet) => sheet.charts.map((c) => c.summary());

test('the Dashboard tab gets the period, key figures and three tables from the hub', () => {
  const { env, hub, addon } = shop();
  addon.menuRefreshDashboard();
  expect(hub.dashboardQueries).toEqual(['?days=7']);
  const dash = env.ss.getSheetByName('Dashboard')!;
  const v = rowsOf(dash);
  expect(v[0]![0]).toBe('Sales dashboard: 29 Nov 2026 to 5 Dec 2026');
  expect(v[1]![0]).toBe('Refreshed 6 Dec 2026 07:15 from the hub. Amounts in AUD (sales in other currencies are shown beside them).');
  expect(v.slice(3, 10).map((r) => r.slice(0, 2))).toEqual([
    ['Key figures', ''],
    ['Units sold', 50],
    ['Orders', 20],
    ['Revenue', '5,000.00 AUD (and 50.00 USD)'],
    ['Units returned', 3],
    ['Returns rate', '6%'],
    ['Sell-through', '40%'],
  ]);
  expect(v.slice(11, 16)).toEqual([
    ['Sales by day', '', '', '', '', ''],
    ['Day', 'Units sold', 'Orders', 'Returned', 'Revenue (AUD)', 'Other currencies'],
    ['2026-11-29', 12, 5, 1, 1234.5, ''],
    ['2026-11-30', 8, 4, 0, 800, ''],
    ['2026-12-01', 30, 11, 2, 2965.5, '50.00 USD'],
  ]);
  expect(v.slice(17, 21)).toEqual([
    ['By channel', '', '', '', '', ''],
    ['Channel', 'Units sold', 'Orders', 'Revenue (AUD)', '', ''],
    ['Web store', 30, 12, 999, '', ''],
    ['Square — gallery POS', 20, 8, 4001, '', ''],
  ]);
  // Top items: most units first, then most revenue (main currency), an item without a title by its SKU.
  expect(v.slice(22)).toEqual([
    ['Top items', '', '', '', '', ''],
    ['Item', 'SKU', 'Units sold', 'Returned', 'Revenue (AUD)', ''],
    ['Seven Sisters', 'ART-3', 7, 0, 910, ''],
    ['Red desert', 'ART-1', 7, 1, 700, ''],
    ['ART-2', 'ART-2', 3, 0, 300, ''],
  ]);
  expect(dash.getRange('E14').getNumberFormat()).toBe('#,##0.00');
  expect(dash.getRange('A14').getNumberFormat()).toBe('ddd d mmm yyyy');
  expect(dash.protections.map((p) => [p.type, p.warningOnly])).toEqual([['SHEET', true]]);
  expect(env.ui.alerts).toEqual([]);
  expect(env.ss.toasts.at(-1)!.message).toMatch(/^Dashboard refreshed: 29 Nov 2026 to 5 Dec 2026, 50 units sold in 20 orders\./);
});

test('three embedded charts: units per day (line), by channel (column), top items (bar), beside the tables', () => {
  const { env, addon } = shop();
  addon.menuRefreshDashboard();
  const dash = env.ss.getSheetByName('Dashboard')!;
  expect(charts(dash)).toEqual([
    { type: 'LINE', title: 'Units sold per day', ranges: ['A13:B16'], anchor: [1, 8] },
    { type: 'COLUMN', title: 'Units sold by channel', ranges: ['A19:B21'], anchor: [21, 8] },
    { type: 'BAR', title: 'Top items by units sold', ranges: ['A24:A27', 'C24:C27'], anchor: [41, 8] },
  ]);
  expect(dash.charts.every((c) => c.numHeaders === 1)).toBe(true);
});

test('refreshing again updates the same three charts and leaves no rows of the longer week behind', () => {
  const { env, hub, addon } = shop();
  addon.menuRefreshDashboard();
  const dash = env.ss.getSheetByName('Dashboard')!;
  const ids = dash.charts.map((c) => c.getChartId());
  hub.dashboard = NEXT_WEEK;
  addon.menuRefreshDashboard();
  addon.menuRefreshDashboard();
  expect(dash.charts.map((c) => c.getChartId())).toEqual(ids);
  expect(charts(dash)).toEqual([
    { type: 'LINE', title: 'Units sold per day', ranges: ['A13:B14'], anchor: [1, 8] },
    { type: 'COLUMN', title: 'Units sold by channel', ranges: ['A17:B18'], anchor: [21, 8] },
    { type: 'BAR', title: 'Top items by units sold', ranges: ['A21:A22', 'C21:C22'], anchor: [41, 8] },
  ]);
  const v = rowsOf(dash);
  expect(v).toHaveLength(22);
  expect(v[0]![0]).toBe('Sales dashboard: 6 Dec 2026 to 12 Dec 2026');
  expect(v.slice(11, 14)).toEqual([
    ['Sales by day', '', '', '', ''],
    ['Day', 'Units sold', 'Orders', 'Returned', 'Revenue (AUD)'],
    ['2026-12-06', 2, 1, 0, 19.99],
  ]);
  expect(v.slice(20)).toEqual([
    ['Item', 'SKU', 'Units sold', 'Returned', 'Revenue (AUD)'],
    ['Red desert', 'ART-1', 2, 0, 19.99],
  ]);
  expect(dash.getLastColumn()).toBe(5); // the "Other currencies" column of last week is gone
  expect(dash.getRange('E25').getNumberFormat()).toBe(''); // and the formats under the old rows
  expect(dash.protections).toHaveLength(1);
});

test('a chart removed or copied by hand: a refresh brings back exactly our three', () => {
  const { env, addon } = shop();
  addon.menuRefreshDashboard();
  const dash = env.ss.getSheetByName('Dashboard')!;
  dash.removeChart(dash.charts[1]!);
  // a copy of the line chart, dragged elsewhere
  dash.insertChart(dash.newChart().setChartType('LINE').addRange(dash.getRange('A13:B16')).setOption('title', 'Units sold per day').setPosition(60, 1, 0, 0).build());
  expect(dash.charts).toHaveLength(3);
  addon.menuRefreshDashboard();
  expect(charts(dash).map((c) => [c.type, c.title, c.anchor])).toEqual([
    ['LINE', 'Units sold per day', [1, 8]],
    ['BAR', 'Top items by units sold', [41, 8]],
    ['COLUMN', 'Units sold by channel', [21, 8]],
  ]);
});

test('the Reorder tab: order-now items first, then by days of cover; no recent sales shown in words', () => {
  const { env, addon } = shop();
  addon.menuRefreshDashboard();
  const sheet = env.ss.getSheetByName('Reorder')!;
  expect(sheet.values()).toEqual([
    ['SKU', 'Title', 'Available', 'Incoming', 'Sold per day', 'Days of cover', 'Lead time (days)', 'Reorder point', 'Suggested order', 'Order now?'],
    ['ART-1', 'Red desert', 4, 0, 1.25, 3.2, 14, 23, 40, 'Yes'],
    ['ART-3', 'Title of ART-3', 10, 0, 0.5, 9, 14, 9, 0, 'Yes'],
    ['ART-2', 'Title of ART-2', 10, 0, 0.33, 18.7, 14, 9, 6, 'Yes'],
    ['ART-4', 'Title of ART-4', 10, 0, 0.5, 40, 14, 9, 0, 'No'],
    ['ART-5', 'Title of ART-5', 10, 0, 0, 'no recent sales', 14, 9, 0, 'No'],
  ]);
  expect(sheet.frozenRows).toBe(1);
  expect(sheet.getRange('A1').getNote()).toMatch(/sales over the last 28 days/);
  expect(env.ss.toasts.at(-1)!.message).toMatch(/Reorder refreshed: 3 of 5 items to order now/);
});

test('the Reorder table is replaced whole each time, under the same header row', () => {
  const { env, hub, addon } = shop();
  addon.menuRefreshDashboard();
  hub.reorder = { generatedAt: null, windowDays: 28, items: [item('ART-9', { suggestedQuantity: 1 })] };
  addon.menuRefreshDashboard();
  const sheet = env.ss.getSheetByName('Reorder')!;
  expect(sheet.values()).toEqual([
    ['SKU', 'Title', 'Available', 'Incoming', 'Sold per day', 'Days of cover', 'Lead time (days)', 'Reorder point', 'Suggested order', 'Order now?'],
    ['ART-9', 'Title of ART-9', 10, 0, 0.5, 20, 14, 9, 1, 'Yes'],
  ]);
});

test('a hub that does not answer or refuses leaves both tabs as they were and says so plainly', () => {
  const { env, hub, addon } = shop();
  addon.menuRefreshDashboard();
  const dash = env.ss.getSheetByName('Dashboard')!;
  const before = { dash: rowsOf(dash), charts: charts(dash), reorder: env.ss.getSheetByName('Reorder')!.values() };

  hub.readStatus = 'down';
  addon.menuRefreshDashboard();
  expect(env.ui.lastAlert()).toEqual({ title: 'Refresh dashboard', text: expect.stringMatching(/^The Dashboard and Reorder tabs were not refreshed and still show what they showed before\.\n\nThe hub at https:\/\/hub\.stock\.test did not answer/) });
  hub.readStatus = 401;
  addon.menuRefreshDashboard();
  expect(env.ui.lastAlert()!.text).toMatch(/The hub refused this sheet’s token: it is mistyped, or its credential was rotated or revoked\. Ask the supplier .*choose Connect to hub/);
  expect({ dash: rowsOf(dash), charts: charts(dash), reorder: env.ss.getSheetByName('Reorder')!.values() }).toEqual(before);

  // One read fails, the other works: that tab is refreshed, the other kept, and the alert says which.
  hub.readStatus = null;
  hub.dashboard = NEXT_WEEK;
  hub.reorder = { nothing: 'like a reorder list' };
  addon.menuRefreshDashboard();
  expect(rowsOf(dash)[0]![0]).toBe('Sales dashboard: 6 Dec 2026 to 12 Dec 2026');
  expect(env.ss.getSheetByName('Reorder')!.values()).toEqual(before.reorder);
  expect(env.ui.lastAlert()!.text).toMatch(/^Dashboard refreshed: .*\n\nThe Reorder tab was not refreshed and still shows what it showed before: The hub’s reorder list came in a form this add-on does not understand/);
});

test('not connected, or someone else’s Dashboard tab: nothing is overwritten', () => {
  const a = rig({ connected: false });
  a.addon.menuRefreshDashboard();
  expect(a.env.ui.lastAlert()!.text).toMatch(/^The Dashboard and Reorder tabs were not refreshed\. .*Connect to hub/);
  expect(a.env.ss.sheets).toEqual([]);

  const { env, addon } = shop();
  const theirs = env.ss.insertSheet('Dashboard');
  theirs.getRange('A1').setValue('Our monthly targets');
  addon.menuRefreshDashboard();
  expect(theirs.values()).toEqual([['Our monthly targets']]);
  expect(theirs.charts).toEqual([]);
  expect(env.ui.lastAlert()!.text).toMatch(/There is already a "Dashboard" tab that stockrelay did not make, so it was left alone\. Rename that tab/);
  expect(env.ss.getSheetByName('Reorder')!.values()).toHaveLength(6);
});

test('the daily trigger refreshes both tabs without any dialog, and only logs when the hub is down', () => {
  const { env, hub, addon } = shop();
  const logged = jest.spyOn(console, 'error').mockImplementation(() => {});
  try {
    addon.refreshDashboardDaily();
    expect(env.ss.getSheetByName('Dashboard')!.charts).toHaveLength(3);
    expect(env.ss.getSheetByName('Reorder')!.values()).toHaveLength(6);
    expect(logged).not.toHaveBeenCalled();

    hub.readStatus = 'down';
    const before = env.ss.getSheetByName('Dashboard')!.values();
    expect(() => addon.refreshDashboardDaily()).not.toThrow();
    expect(env.ss.getSheetByName('Dashboard')!.values()).toEqual(before);
    expect(logged).toHaveBeenCalledWith(expect.stringMatching(/^stockrelay daily refresh: The Dashboard and Reorder tabs were not refreshed.*did not answer/s));
    expect(env.ui.alerts).toEqual([]);

    const off = rig({ connected: false });
    expect(() => off.addon.refreshDashboardDaily()).not.toThrow();
    expect(off.env.ss.sheets).toEqual([]);
  } finally {
    logged.mockRestore();
  }
});

describe('pure parts', () => {
  test('money in minor units is shown exactly, each currency with its own decimals', () => {
    expect(moneyText({ currency: 'AUD', amount: 123456789 })).toBe('1,234,567.89 AUD');
    expect(moneyText({ currency: 'JPY', amount: 5000 })).toBe('5,000 JPY');
    expect(moneyText({ currency: 'KWD', amount: -1500 })).toBe('-1.500 KWD');
    expect(revenueText([], 'AUD')).toBe('0.00 AUD');
    expect(revenueText([{ currency: 'AUD', amount: 100 }, { currency: 'NZD', amount: 250 }], null)).toBe('1.00 AUD · 2.50 NZD');
    expect(percentText(0.125)).toBe('12.5%');
    expect(percentText(null)).toBe('not known yet');
  });

  test('with no main currency every table shows each currency in words', () => {
    const d = parseDashboard({ ...WEEK, currency: null });
    const l = layoutDashboard(d, 'now');
    expect(l.cells[l.days.headerRow - 1]).toEqual(['Day', 'Units sold', 'Orders', 'Returned', 'Revenue', '']);
    expect(l.cells[l.days.headerRow + 2]).toEqual(['2026-12-01', 30, 11, 2, '2,965.50 AUD, 50.00 USD', '']);
    expect(l.cells[6]).toEqual(['Revenue', '5,000.00 AUD · 50.00 USD', '', '', '', '']);
    expect(l.revenueColumns).toEqual([]);
  });

  test('an empty week and an answer of the wrong shape', () => {
    const l = layoutDashboard(parseDashboard({ from: '2026-12-06', to: '2026-12-12', currency: 'AUD', days: [], channels: [], skus: [], totals: { units: 0, orders: 0, returned: 0, returnsRate: null, sellThrough: null, revenue: [] } }), 'now');
    expect(l.cells.map((r) => r[0])).toContain('Sales by day (no sales in this period)');
    expect(l.days.rows).toBe(0);
    expect(() => parseDashboard({ days: 'x' })).toThrow(/does not understand/);
    expect(() => parseReorder([])).toThrow(/does not understand/);
    expect(reorderRows([])).toEqual([]);
  });
});
