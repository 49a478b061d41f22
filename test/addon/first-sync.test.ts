/**
 * Issue #15, item 17: a first "Sync now" of 3,000 rows × 2 locations while the hub was down did not
 * fit the queue; the rows were still marked known, the next Sync now said the hub knew every row,
 * and the hub ended with 3,000 items at 0. Now a row is known only once the hub has it (the relay
 * that carries it was delivered), what the queue cannot hold is said, the sheet stays "not synced"
 * until every row is on the hub, and the opening counts all arrive.
 */
import { QUEUE_KEY, SYNC_QUEUE_MAX, queuedBytes, type QueuedRelay } from '../../appsscript/src/queue';
import { ChunkedStore } from '../../appsscript/src/store';
import { KNOWN_KEY, NOT_SYNCED_KEY } from '../../appsscript/src/structure';
import { typeInto, type FakeEnv } from './fakes/gas';
import { catalog, rig } from './fakes/env';

jest.setTimeout(60_000);

const ROWS = 3000;
const sku = (i: number) => `PRN-${String(i).padStart(5, '0')}`;
const store = (env: FakeEnv) => new ChunkedStore(env.props);
const queued = (env: FakeEnv) => store(env).read<QueuedRelay[]>(QUEUE_KEY, []);

function bigCatalog() {
  const r = rig();
  const rows = Array.from({ length: ROWS }, (_, i) => [sku(i), `Limited print no. ${i}, giclée on cotton rag`, 1 + (i % 9), i % 4]);
  const sheet = catalog(r.env, ['SKU', 'Title', 'On hand · gallery', 'On hand · warehouse'], rows);
  return { ...r, sheet, rows };
}

/** What the hub was told, per SKU: added at all, and the opening count of each location. */
function hubView(stored: { body: any }[]) {
  const added = new Set<string>();
  const counts = new Map<string, number>();
  for (const { body } of stored) {
    if (body.kind === 'catalog_changed') for (const a of body.added) added.add(a.sku);
    if (body.kind === 'edit_batch') for (const e of body.edits) counts.set(`${e.sku}@${e.location}`, e.newValue);
    if (body.kind === 'cell_edit') counts.set(`${body.sku}@${body.location}`, body.newValue);
  }
  return { added, counts };
}

test('a first Sync now of 3,000 rows × 2 locations with the hub down: nothing is marked known, what does not fit is said, and everything arrives once the hub is back', () => {
  const { env, hub, addon, rows } = bigCatalog();
  hub.mode = 'down';
  addon.menuSyncNow();
  let said = env.ui.lastAlert()!.text;
  expect(said).toMatch(/NOT fully synced/);
  expect(said).toMatch(/could not even be kept in the spreadsheet while the hub does not answer/);
  expect(said).not.toMatch(/knows every row/);
  // Not a single row counts as known: the hub has none of them.
  expect(store(env).read<string[]>(KNOWN_KEY, [])).toEqual([]);
  expect(store(env).getString(NOT_SYNCED_KEY)).toMatch(/row\(s\) of the Catalog tab are not on the hub yet/);
  expect(addon.sidebarState().notSynced).toMatch(/not on the hub yet/);
  // The sync took only its share of the queue: an edit typed now is still kept.
  expect(queuedBytes(queued(env))).toBeLessThanOrEqual(SYNC_QUEUE_MAX);
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', 7));
  expect(JSON.parse(queued(env).at(-1)!.body)).toMatchObject({ kind: 'cell_edit', sku: sku(0), newValue: 7 });

  // Sync now again, hub still down: it does not claim the hub knows every row.
  addon.menuSyncNow();
  said = env.ui.lastAlert()!.text;
  expect(said).toMatch(/still waiting/);
  expect(said).toMatch(/not fully synced/);
  expect(said).not.toMatch(/knows every row/);

  // The hub is back: the minute trigger sends what waits, then the rows that did not fit, slice by slice.
  hub.mode = 'up';
  addon.flushQueue();
  const { added, counts } = hubView(hub.stored);
  expect(added.size).toBe(ROWS);
  for (const [i, r] of rows.entries()) {
    const gallery = i === 0 ? 1 : (r[2] as number); // row 2's opening count, then the 7 typed over it
    expect(counts.get(`${sku(i)}@gallery`)).toBe(i === 0 ? 7 : gallery);
    if ((r[3] as number) > 0) expect(counts.get(`${sku(i)}@warehouse`)).toBe(r[3]);
  }
  // The typed 7 reached the hub after PRN-00000's opening count, not before it.
  const order = hub.stored.flatMap((s) => (s.body.kind === 'edit_batch' ? s.body.edits : s.body.kind === 'cell_edit' ? [s.body] : [])).filter((e: any) => e.sku === sku(0) && e.location === 'gallery');
  expect(order.map((e: any) => e.newValue)).toEqual([1, 7]);
  expect(store(env).read<string[]>(KNOWN_KEY, []).length).toBe(ROWS);
  expect(store(env).getString(NOT_SYNCED_KEY)).toBeNull();
  expect(queued(env)).toEqual([]);

  addon.menuSyncNow();
  expect(env.ui.lastAlert()!.text).toMatch(/The hub already knows every row/);
  expect(addon.sidebarState().notSynced).toBeNull();
});

test('with the hub up, a first sync of 3,000 rows goes in slices and says the hub has every row', () => {
  const { env, hub, addon } = bigCatalog();
  addon.menuSyncNow();
  expect(env.ui.lastAlert()!.text).toMatch(/Catalog: 3000 new row\(s\) and 0 removed SKU\(s\) sent; the hub has every row now/);
  const { added } = hubView(hub.stored);
  expect(added.size).toBe(ROWS);
  // Every relay stayed within what the hub takes in one request (5,000 entries).
  for (const s of hub.stored) expect(s.body.added?.length ?? s.body.edits?.length ?? 0).toBeLessThanOrEqual(5000);
  expect(store(env).read<string[]>(KNOWN_KEY, []).length).toBe(ROWS);
});

test('a row is known only once the hub has it: a refused catalog change leaves its rows unknown, and they go again', () => {
  const { env, hub, addon } = rig();
  catalog(env, ['SKU', 'On hand · gallery'], [['ART-1', 2]]);
  hub.script = [400];
  addon.menuSyncNow();
  expect(store(env).read<string[]>(KNOWN_KEY, [])).toEqual([]);
  expect(env.ui.lastAlert()!.text).toMatch(/refused/);
  addon.menuSyncNow();
  expect(hub.stored.map((s) => s.body.kind)).toEqual(['catalog_changed', 'edit_batch']);
  expect(store(env).read<string[]>(KNOWN_KEY, [])).toEqual(['ART-1']);
});
