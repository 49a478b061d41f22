/**
 * Issue #15, item 15: a paste into ONE cell has no `e.oldValue` (Apps Script gives one only for a
 * value typed into a single cell that had one). The add-on used to send that as "empty before", the
 * hub read it as 0, and a false conflict opened. Now the value the add-on last saw in the cell (the
 * saved copy) is sent whenever the event has no old value. Checked with the hub's own reading of
 * the relay (planRelay): what it will compare with its on hand.
 */
import { planRelay } from '../../server/core/relay';
import { readShadow, shadowKey, UNKNOWN_OLD_VALUE } from '../../appsscript/src/shadow';
import { ChunkedStore } from '../../appsscript/src/store';
import { pasteInto, typeInto } from './fakes/gas';
import { catalog, rig } from './fakes/env';

function synced() {
  const r = rig();
  const sheet = catalog(r.env, ['SKU', 'Title', 'On hand · gallery', 'Low-stock threshold'], [
    ['ART-0001', 'Ngayu', 4, 2],
    ['ART-0002', 'Seven Sisters', 9, ''],
  ]);
  r.addon.menuSyncNow(); // the hub has both rows, and the add-on has its copy of the counts
  r.hub.stored = [];
  return { ...r, sheet };
}

/** What the hub will expect the cell to have shown (null: it does not check). */
const expected = (body: any) => (planRelay(body, 'evt_1')[0] as { expectedOnHand: number | null }).expectedOnHand;

test('a value pasted into one On hand cell is sent with the value the cell showed, not as "empty before"', () => {
  const { env, hub, addon } = synced();
  const e = pasteInto(env, 'Catalog', 'C2', 5);
  expect(e).not.toHaveProperty('oldValue'); // what Apps Script sends for a paste
  addon.onSheetEdit(e);
  expect(hub.stored).toHaveLength(1);
  expect(hub.stored[0]!.body).toMatchObject({ kind: 'cell_edit', sku: 'ART-0001', field: 'on_hand', location: 'gallery', oldValue: 4, newValue: 5 });
  // The hub compares with 4 (what it has): no conflict. Before the fix it read 0 and opened one.
  expect(expected(hub.stored[0]!.body)).toBe(4);
  // What was kept: the copy now says 5, so the next paste is compared with it.
  expect(readShadow(new ChunkedStore(env.props))[shadowKey('ART-0001', 'gallery')]).toBe(5);
  addon.onSheetEdit(pasteInto(env, 'Catalog', 'C2', 7));
  expect(hub.stored[1]!.body).toMatchObject({ oldValue: 5, newValue: 7 });
});

test('a typed single-cell edit still uses the event’s own old value', () => {
  const { env, hub, addon, sheet } = synced();
  sheet.getRange('C3').setValue(8); // the hub's write-back of a sale, which the copy has not seen
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C3', 10));
  expect(hub.stored[0]!.body).toMatchObject({ sku: 'ART-0002', oldValue: 8, newValue: 10 });
  expect(expected(hub.stored[0]!.body)).toBe(8);
});

test('a paste into a cell the add-on never saw says the old value is unknown (the hub does not check)', () => {
  const { env, hub, addon } = rig();
  catalog(env, ['SKU', 'On hand · gallery'], [['ART-9', 3]]);
  addon.onSheetEdit(pasteInto(env, 'Catalog', 'B2', 6));
  expect(hub.stored[0]!.body).toMatchObject({ kind: 'cell_edit', oldValue: UNKNOWN_OLD_VALUE, newValue: 6 });
  expect(expected(hub.stored[0]!.body)).toBeNull();
});

test('a bad value pasted into one cell is put back from the saved copy, not emptied, and nothing is sent', () => {
  const { env, hub, addon, sheet } = synced();
  addon.onSheetEdit(pasteInto(env, 'Catalog', 'C2', 'lots'));
  expect(sheet.getRange('C2').getValue()).toBe(4);
  expect(sheet.getRange('C2').getNote()).toMatch(/"lots" is not a number of units.*put back to 4/);
  expect(hub.stored).toEqual([]);
});

test('a title or threshold pasted into one cell is set as given (their old value is not checked)', () => {
  const { env, hub, addon } = synced();
  addon.onSheetEdit(pasteInto(env, 'Catalog', 'D2', 3));
  addon.onSheetEdit(pasteInto(env, 'Catalog', 'B3', 'Seven Sisters, framed'));
  expect(hub.stored.map((s) => s.body)).toEqual([
    expect.objectContaining({ kind: 'cell_edit', field: 'low_stock_threshold', oldValue: null, newValue: 3 }),
    expect.objectContaining({ kind: 'cell_edit', field: 'title', oldValue: null, newValue: 'Seven Sisters, framed' }),
  ]);
});
