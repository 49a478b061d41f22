/**
 * Issue #15, item 18: with a hub that hangs, each edit used to hold the document lock for the whole
 * request (about 60 s, UrlFetchApp's wait); other edits gave up after 30 s and were not queued.
 * Now every change is queued first (the lock is held only for that write) and sent outside the lock.
 * The hang is played as Apps Script would: while the first edit's request waits, a second edit runs
 * in another execution; then the request times out.
 */
import { QUEUE_KEY, type QueuedRelay } from '../../appsscript/src/queue';
import { ChunkedStore } from '../../appsscript/src/store';
import { inExecution, pasteInto, typeInto, type FakeEnv, type HttpHandler } from './fakes/gas';
import { catalog, rig } from './fakes/env';

const queued = (env: FakeEnv) => new ChunkedStore(env.props).read<QueuedRelay[]>(QUEUE_KEY, []);

function shop() {
  const r = rig();
  const sheet = catalog(r.env, ['SKU', 'Title', 'On hand · gallery'], [
    ['ART-0001', 'Ngayu', 4],
    ['ART-0002', 'Seven Sisters', 2],
  ]);
  r.addon.menuSyncNow();
  r.hub.stored = [];
  r.hub.attempts = [];
  return { ...r, sheet };
}

test('an edit made while another one waits on a hanging hub is queued at once, in order, and nothing is dropped', () => {
  const { env, hub, addon, sheet } = shop();
  const answer = env.fetch.handler;
  let hangs = 0;
  const lockHeldDuringRequest: boolean[] = [];
  const hanging: HttpHandler = (req) => {
    if (!req.url.endsWith('/v1/relay')) return answer(req);
    lockHeldDuringRequest.push(env.lock.held);
    if (hangs++ === 0) {
      // Meanwhile, Sam types into the next row: another execution of the edit trigger.
      inExecution(env, () => addon.onSheetEdit(typeInto(env, 'Catalog', 'C3', 3)));
    }
    throw new Error(`Exception: Timeout: ${req.url}`); // what UrlFetchApp says after waiting for a hub that never answers
  };
  env.fetch.handler = hanging;

  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', 5));

  // Nobody waited for the document lock, and it was never held while a request was under way.
  expect(env.lock.waitedMs).toEqual([]);
  expect(lockHeldDuringRequest).toEqual([false]);
  // Both edits are kept, in the order they were made; the second was not tried while the first was being sent.
  expect(queued(env).map((q) => JSON.parse(q.body))).toEqual([
    expect.objectContaining({ kind: 'cell_edit', sku: 'ART-0001', oldValue: 4, newValue: 5 }),
    expect.objectContaining({ kind: 'cell_edit', sku: 'ART-0002', oldValue: 2, newValue: 3 }),
  ]);
  expect(queued(env)[0]).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/did not answer \(Timeout/) });
  expect(sheet.getRange('C3').getNote()).toBe(''); // no "NOT sent" note
  expect(env.ss.toasts.map((t) => t.message)).toContainEqual(expect.stringMatching(/another change is being sent to the hub right now, and this one follows it in order/));

  // The hub answers again: the minute trigger sends both, in order, with their first webhook-ids.
  const ids = queued(env).map((q) => q.id);
  env.fetch.handler = answer;
  addon.flushQueue();
  expect(hub.stored.map((s) => [s.id, s.body.newValue])).toEqual([
    [ids[0], 5],
    [ids[1], 3],
  ]);
  expect(queued(env)).toEqual([]);
});

test('no relay is ever sent while the document lock is held: edits, pastes, new rows, the sidebar, purchase orders, Sync now, the minute trigger', () => {
  const { env, hub, addon } = shop();
  const answer = env.fetch.handler;
  const heldAt: string[] = [];
  env.fetch.handler = (req) => {
    if (req.url.endsWith('/v1/relay') && env.lock.held) heldAt.push(JSON.parse(req.body).kind);
    return answer(req);
  };
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', 6));
  addon.onSheetEdit(pasteInto(env, 'Catalog', 'C2:C3', [[7], [1]]));
  addon.onSheetEdit(pasteInto(env, 'Catalog', 'A4:C4', [['ART-0003', 'Water Dreaming', 2]]));
  addon.sidebarAdjust({ sku: 'ART-0001', location: 'gallery', quantity: '-1', reason: 'adjustment', note: '' });
  const po = env.ss.insertSheet('Purchase Orders');
  po.getRange(1, 1, 2, 7).setValues([
    ['PO number', 'Customer', 'SKU', 'Quantity', 'Location', 'Needed by', 'Status'],
    ['PO-1', 'Acme', 'ART-0001', 1, 'gallery', '', ''],
  ]);
  po.getRange(1, 8, 1, 1).setValues([['Reason']]);
  addon.menuSendPurchaseOrders();
  env.ss.select('Purchase Orders', 'A2');
  env.ui.confirms = [true];
  env.ui.answers = ['customer changed their mind'];
  addon.menuCancelPurchaseOrder();
  hub.mode = 'down';
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C3', 2));
  hub.mode = 'up';
  addon.flushQueue();
  addon.menuSyncNow();
  expect(hub.stored.map((s) => s.body.kind)).toEqual(['cell_edit', 'edit_batch', 'catalog_changed', 'edit_batch', 'adjustment', 'purchase_order', 'purchase_order_cancel', 'cell_edit']);
  expect(heldAt).toEqual([]);
});
