/**
 * Issue #15, item 19: the minute trigger read the whole catalog and rewrote the saved copy of the
 * counts on every run, about 13,000 property operations a day against the 50,000 a consumer
 * account has (developers.google.com/apps-script/guides/services/quotas). Now it does nothing when
 * nothing waits: one property read, no sheet read, no request. The figures docs/sheets.md gives
 * ("Quotas") are the ones counted here.
 */
import { FakeProperties, typeInto, type FakeEnv } from './fakes/gas';
import { catalog, rig } from './fakes/env';
import { furnishedRig } from './fakes/furnished';

/** Counts every call into the document's properties and every read of the spreadsheet. */
function meter(env: FakeEnv) {
  const counts = { reads: 0, writes: 0, sheetReads: 0 };
  const props = env.props as FakeProperties & Record<string, unknown>;
  for (const k of ['getProperty', 'getProperties'] as const) {
    const f = props[k].bind(props) as (...a: unknown[]) => unknown;
    (props as Record<string, unknown>)[k] = (...a: unknown[]) => (counts.reads++, f(...a));
  }
  for (const k of ['setProperty', 'setProperties', 'deleteProperty'] as const) {
    const f = props[k].bind(props) as (...a: unknown[]) => unknown;
    (props as Record<string, unknown>)[k] = (...a: unknown[]) => (counts.writes++, f(...a));
  }
  const getSheet = env.ss.getSheetByName.bind(env.ss);
  env.ss.getSheetByName = (name: string) => (counts.sheetReads++, getSheet(name));
  return {
    counts,
    reset: () => Object.assign(counts, { reads: 0, writes: 0, sheetReads: 0 }),
    total: () => counts.reads + counts.writes,
  };
}

function shop() {
  const r = rig();
  catalog(r.env, ['SKU', 'Title', 'On hand · gallery', 'On hand · warehouse'], Array.from({ length: 300 }, (_, i) => [`ART-${String(i).padStart(4, '0')}`, `Print ${i}`, i % 7, i % 3]));
  r.addon.menuInstallTriggers();
  r.addon.menuSyncNow();
  r.hub.stored = [];
  r.env.fetch.requests = [];
  return r;
}

test('the minute trigger does nothing when nothing waits: one property read, no sheet read, no request', () => {
  const { env, addon } = shop();
  const m = meter(env);
  const minute = env.scriptApp.triggers.find((t) => t.getHandlerFunction() === 'flushQueue')!;
  for (let i = 0; i < 60; i++) addon.flushQueue({ triggerUid: minute.getUniqueId() });
  expect(m.counts).toEqual({ reads: 60, writes: 0, sheetReads: 0 });
  expect(env.fetch.requests).toEqual([]);
  // A day of it: 1,440 reads, 2.9% of a consumer account's 50,000 property reads and writes.
  expect(m.total() * 24).toBe(1440);
});

test('what one change costs, sent at once: the figures docs/sheets.md gives', () => {
  const { env, hub, addon } = shop();
  const m = meter(env);
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', 5));
  expect(hub.stored).toHaveLength(1);
  const typed = m.total();
  m.reset();
  addon.sidebarAdjust({ sku: 'ART-0001', location: 'gallery', quantity: '2', reason: 'restock', note: '' });
  const adjusted = m.total();
  // docs/sheets.md, "Quotas": at most 20 property operations for a typed count (the saved copy of the
  // counts is read and written too), 15 for an adjustment from the sidebar.
  expect(typed).toBeLessThanOrEqual(20);
  expect(adjusted).toBeLessThanOrEqual(15);
  // With something waiting, the minute trigger reads the queue and the settings, sends, and removes what went.
  hub.mode = 'down';
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C3', 4));
  hub.mode = 'up';
  m.reset();
  addon.flushQueue();
  expect(hub.stored).toHaveLength(3);
  expect(m.total()).toBeLessThanOrEqual(16);
  expect(m.counts.sheetReads).toBe(0);
});

test('opening the sidebar: at most 8 property operations, 5 requests and one per channel selling the item', () => {
  const { env, addon } = furnishedRig();
  addon.menuInstallTriggers();
  const m = meter(env);
  env.fetch.requests = [];
  addon.sidebarState();
  expect(m.total()).toBeLessThanOrEqual(8);
  expect(env.fetch.requests).toHaveLength(5 + 2); // ART-0001 sells on two channels
});
