/**
 * Staff edits in the Catalog tab reach the hub as the relays it expects: one cell → cell_edit,
 * a paste → one edit_batch, a new or removed row → catalog_changed; a bad count is put back with
 * a note and a toast and nothing is relayed. Relays are checked by the hub's own verifier.
 */
import { readShadow, shadowKey, UNKNOWN_OLD_VALUE } from '../../appsscript/src/shadow';
import { ChunkedStore } from '../../appsscript/src/store';
import { KNOWN_KEY } from '../../appsscript/src/structure';
import { typeInto } from './fakes/gas';
import { catalog, rig } from './fakes/env';

const HEADERS = ['Title', 'On hand · gallery', 'SKU', 'Our notes', 'On hand · warehouse', 'Low-stock threshold', 'Available · gallery'];

function stocked() {
  const r = rig();
  const sheet = catalog(r.env, HEADERS, [
    ['Ngayu — ochre on bark', 4, 'ART-0001', 'framed', 2, 1],
    ['Seven Sisters', 0, 'ART-0002', '', 5, ''],
    ['Water Dreaming', 9, 'ART-0003', '', 0, 2],
  ]);
  return { ...r, sheet };
}

/** Sync once so the add-on knows the rows and their counts, then forget what the hub got. */
function synced() {
  const r = stocked();
  r.addon.menuSyncNow();
  r.hub.stored = [];
  r.hub.attempts = [];
  r.env.ss.toasts = [];
  return r;
}

test('a single on-hand edit relays one signed cell_edit with SKU, location, old and new value, found by header name', () => {
  const { env, hub, addon } = stocked();
  addon.onSheetEdit(typeInto(env, 'Catalog', 'B2', '7'));
  expect(hub.stored).toHaveLength(1);
  const { id, body } = hub.stored[0]!;
  expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
  expect(body).toEqual({
    kind: 'cell_edit',
    origin: 'sheet',
    sku: 'ART-0001',
    field: 'on_hand',
    location: 'gallery',
    oldValue: 4,
    newValue: 7,
    actor: 'mia@gallery.example',
    editedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    sheet: 'Catalog',
    row: 2,
  });
  // the second location's column, further right and after a column of the staff's own
  addon.onSheetEdit(typeInto(env, 'Catalog', 'E4', 3));
  expect(hub.stored[1]!.body).toMatchObject({ sku: 'ART-0003', location: 'warehouse', oldValue: 0, newValue: 3, row: 4 });
});

test('columns are found by their headers wherever staff move them', () => {
  const { env, hub, addon } = rig();
  catalog(env, ['Our notes', 'sku', 'ON HAND - gallery', 'title'], [['', 'ART-9', 1, 'Moved about']]);
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', '2'));
  expect(hub.stored[0]!.body).toMatchObject({ kind: 'cell_edit', sku: 'ART-9', location: 'gallery', oldValue: 1, newValue: 2 });
  addon.onSheetEdit(typeInto(env, 'Catalog', 'D2', 'Moved about, twice'));
  expect(hub.stored[1]!.body).toMatchObject({ kind: 'cell_edit', sku: 'ART-9', field: 'title', oldValue: 'Moved about', newValue: 'Moved about, twice' });
});

test('a paste over several cells relays ONE edit_batch, with the old values the add-on last saw', () => {
  const { env, hub, addon, sheet } = synced();
  addon.onSheetEdit(
    typeInto(env, 'Catalog', 'B2:B4', [[5], [1], [8]]),
  );
  expect(hub.stored).toHaveLength(1);
  const { body } = hub.stored[0]!;
  expect(body.kind).toBe('edit_batch');
  expect(body.origin).toBe('sheet');
  expect(body.actor).toBe('mia@gallery.example');
  expect(body.edits).toEqual([
    { sku: 'ART-0001', field: 'on_hand', location: 'gallery', oldValue: 4, newValue: 5, sheet: 'Catalog', row: 2 },
    { sku: 'ART-0002', field: 'on_hand', location: 'gallery', oldValue: 0, newValue: 1, sheet: 'Catalog', row: 3 },
    { sku: 'ART-0003', field: 'on_hand', location: 'gallery', oldValue: 9, newValue: 8, sheet: 'Catalog', row: 4 },
  ]);
  // the next paste is compared with what this one set
  addon.onSheetEdit(typeInto(env, 'Catalog', 'B2:B3', [[6], [1]]));
  expect(hub.stored[1]!.body.edits).toEqual([{ sku: 'ART-0001', field: 'on_hand', location: 'gallery', oldValue: 5, newValue: 6, sheet: 'Catalog', row: 2 }]);
  expect(sheet.getRange('B3').getValue()).toBe(1);
});

test('a paste into cells the add-on has never seen tells the hub the old value is unknown', () => {
  const { env, hub, addon } = stocked();
  addon.onSheetEdit(typeInto(env, 'Catalog', 'B2:B3', [[5], [6]]));
  expect(hub.stored[0]!.body.edits.map((e: any) => e.oldValue)).toEqual([UNKNOWN_OLD_VALUE, UNKNOWN_OLD_VALUE]);
});

test.each([
  ['text', 'twelve', /"twelve" is not a number of units/],
  ['a fraction', '2.5', /fraction/],
  ['a negative count', '-3', /negative/],
  ['an emptied count', '', /emptied; type 0/],
])('%s typed into a quantity cell is put back, with a note and a toast, and nothing is relayed', (_what, typed, reason) => {
  const { env, hub, addon, sheet } = stocked();
  addon.onSheetEdit(typeInto(env, 'Catalog', 'B2', typed));
  expect(sheet.getRange('B2').getValue()).toBe(4);
  expect(sheet.getRange('B2').getNote()).toMatch(reason);
  expect(sheet.getRange('B2').getNote()).toMatch(/^stockrelay: not sent to the hub .*put back to 4/);
  expect(env.ss.toasts.at(-1)!.message).toMatch(/B2 was put back/);
  expect(env.fetch.requests).toHaveLength(0);
  expect(hub.attempts).toHaveLength(0);
  // a good number afterwards is relayed, and clears the add-on's note
  addon.onSheetEdit(typeInto(env, 'Catalog', 'B2', '6'));
  expect(hub.stored.map((s) => s.body.newValue)).toEqual([6]);
  expect(sheet.getRange('B2').getNote()).toBe('');
});

test('a bad threshold is put back too; an emptied threshold is relayed as empty', () => {
  const { env, hub, addon, sheet } = stocked();
  addon.onSheetEdit(typeInto(env, 'Catalog', 'F2', 'lots'));
  expect(sheet.getRange('F2').getValue()).toBe(1);
  expect(hub.stored).toHaveLength(0);
  addon.onSheetEdit(typeInto(env, 'Catalog', 'F2', ''));
  expect(hub.stored[0]!.body).toMatchObject({ kind: 'cell_edit', field: 'low_stock_threshold', oldValue: 1, newValue: null });
});

test('in a paste, bad cells are put back from the last values seen and the good ones go in the batch', () => {
  const { env, hub, addon, sheet } = synced();
  addon.onSheetEdit(typeInto(env, 'Catalog', 'B2:B4', [['x'], [3], [-1]]));
  expect(sheet.getRange('B2').getValue()).toBe(4);
  expect(sheet.getRange('B4').getValue()).toBe(9);
  expect(sheet.getRange('B2').getNote()).toMatch(/not a number/);
  expect(sheet.getRange('B4').getNote()).toMatch(/negative/);
  expect(hub.stored).toHaveLength(1);
  expect(hub.stored[0]!.body.edits).toEqual([{ sku: 'ART-0002', field: 'on_hand', location: 'gallery', oldValue: 0, newValue: 3, sheet: 'Catalog', row: 3 }]);
  expect(env.ss.toasts.at(-1)!.message).toMatch(/2 cells were put back/);
});

test('typing the same number again, or editing a column of the staff’s own or another tab, relays nothing', () => {
  const { env, hub, addon } = stocked();
  env.ss.insertSheet('Notes').getRange('A1').setValue('hello');
  addon.onSheetEdit(typeInto(env, 'Catalog', 'B2', '4'));
  addon.onSheetEdit(typeInto(env, 'Catalog', 'D2', 'unframed'));
  addon.onSheetEdit(typeInto(env, 'Notes', 'A2', '12'));
  addon.onSheetEdit(typeInto(env, 'Catalog', 'G2', '4')); // a computed column: the hub writes it
  expect(env.fetch.requests).toHaveLength(0);
  expect(hub.stored).toHaveLength(0);
});

test('a SKU typed into a new row tags the row and relays catalog_changed, then its counts as opening counts', () => {
  const { env, hub, addon, sheet } = synced();
  typeInto(env, 'Catalog', 'A5', 'Emu Dreaming');
  typeInto(env, 'Catalog', 'B5', 3);
  typeInto(env, 'Catalog', 'F5', 1);
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C5', 'ART-0004'));
  expect(sheet.skuMetadata()[5]).toEqual(['ART-0004']);
  expect(hub.stored.map((s) => s.body.kind)).toEqual(['catalog_changed', 'edit_batch']);
  expect(hub.stored[0]!.body).toMatchObject({ kind: 'catalog_changed', origin: 'sheet', added: [{ sku: 'ART-0004', title: 'Emu Dreaming', lowStockThreshold: 1 }], removed: [], actor: 'mia@gallery.example' });
  expect(hub.stored[1]!.body.edits).toEqual([{ sku: 'ART-0004', field: 'on_hand', location: 'gallery', oldValue: 0, newValue: 3, sheet: 'Catalog', row: 5 }]);
  const store = new ChunkedStore(env.props);
  expect(store.read<string[]>(KNOWN_KEY, [])).toContain('ART-0004');
  expect(readShadow(store)[shadowKey('ART-0004', 'gallery')]).toBe(3);
  // a later count on that row is an ordinary edit
  addon.onSheetEdit(typeInto(env, 'Catalog', 'B5', 2));
  expect(hub.stored[2]!.body).toMatchObject({ kind: 'cell_edit', sku: 'ART-0004', oldValue: 3, newValue: 2 });
});

test('a pasted block of new rows relays one catalog_changed and one batch of opening counts', () => {
  const { env, hub, addon } = synced();
  addon.onSheetEdit(
    typeInto(env, 'Catalog', 'A5:C6', [
      ['New one', 2, 'ART-0005'],
      ['New two', 0, 'ART-0006'],
    ]),
  );
  expect(hub.stored.map((s) => s.body.kind)).toEqual(['catalog_changed', 'edit_batch']);
  expect(hub.stored[0]!.body.added.map((a: any) => a.sku)).toEqual(['ART-0005', 'ART-0006']);
  expect(hub.stored[1]!.body.edits).toEqual([{ sku: 'ART-0005', field: 'on_hand', location: 'gallery', oldValue: 0, newValue: 2, sheet: 'Catalog', row: 5 }]);
});

test('a removed row relays catalog_changed with its SKU; inserting rows and sorting relay nothing and metadata follows the rows', () => {
  const { hub, addon, sheet } = synced();
  expect(sheet.skuMetadata()).toEqual({ 2: ['ART-0001'], 3: ['ART-0002'], 4: ['ART-0003'] });

  sheet.insertRowsBefore(2, 2);
  addon.onSheetChange({ changeType: 'INSERT_ROW' });
  sheet.sortByColumn(3, false);
  addon.onSheetChange({ changeType: 'OTHER' });
  expect(hub.stored).toHaveLength(0);
  expect(sheet.skuMetadata()).toEqual({ 2: ['ART-0003'], 3: ['ART-0002'], 4: ['ART-0001'] });
  for (const [row, [sku]] of Object.entries(sheet.skuMetadata())) expect(sheet.getRange(Number(row), 3, 1, 1).getValue()).toBe(sku);

  sheet.deleteRows(3);
  addon.onSheetChange({ changeType: 'REMOVE_ROW' });
  expect(hub.stored).toHaveLength(1);
  expect(hub.stored[0]!.body).toMatchObject({ kind: 'catalog_changed', added: [], removed: ['ART-0002'] });
  addon.onSheetChange({ changeType: 'REMOVE_ROW' });
  expect(hub.stored).toHaveLength(1); // compared again: nothing new
});

test('clearing a SKU removes the item and its metadata; a catalog without a SKU header relays nothing', () => {
  const { env, hub, addon, sheet } = synced();
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C3', ''));
  expect(hub.stored[0]!.body).toMatchObject({ kind: 'catalog_changed', removed: ['ART-0002'] });
  expect(sheet.skuMetadata()[3]).toBeUndefined();

  sheet.getRange('C1').setValue('Code');
  addon.onSheetChange({ changeType: 'REMOVE_ROW' });
  addon.onSheetEdit(typeInto(env, 'Catalog', 'B2', '1'));
  expect(hub.stored).toHaveLength(1);
});

test('an edit whose event carries no editor is relayed without an actor, never as the person who installed the trigger', () => {
  const { env, hub, addon } = stocked();
  const e = typeInto(env, 'Catalog', 'B2', '7');
  delete e.user;
  addon.onSheetEdit(e);
  expect(hub.stored[0]!.body).not.toHaveProperty('actor');
  // from the sidebar, the person using it is the actor
  addon.sidebarAdjust({ sku: 'ART-0001', location: 'gallery', quantity: '1', reason: 'restock', note: '' });
  expect(hub.stored[1]!.body.actor).toBe('mia@gallery.example');
});

test('a pasted block of many new rows tags every row and relays them in one catalog_changed', () => {
  const { env, hub, addon, sheet } = synced();
  const rows = Array.from({ length: 25 }, (_, i) => [`Print ${i}`, i % 3, `PRN-${String(i).padStart(3, '0')}`]);
  addon.onSheetEdit(typeInto(env, 'Catalog', 'A5:C29', rows));
  const meta = sheet.skuMetadata();
  for (let i = 0; i < 25; i++) expect(meta[5 + i]).toEqual([`PRN-${String(i).padStart(3, '0')}`]);
  expect(meta[2]).toEqual(['ART-0001']);
  expect(hub.stored.map((s) => s.body.kind)).toEqual(['catalog_changed', 'edit_batch']);
  expect(hub.stored[0]!.body.added).toHaveLength(25);
  expect(hub.stored[1]!.body.edits).toHaveLength(rows.filter((r) => r[1] !== 0).length);
});
