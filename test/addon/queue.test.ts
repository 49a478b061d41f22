/**
 * The offline queue: when the hub cannot be reached (fetch throws, 5xx, 503, 429) a change is kept
 * in document properties, in chunks under the 9 KB limit, all under the document lock, and sent in
 * order by the minute trigger with the webhook-id of its first attempt. 4xx answers other than
 * 401 (the sheet's credential rotated: kept until it connects again), 409 and 429 are set aside with the hub's message; 409 relay_replayed counts as delivered.
 */
import { QUEUE_KEY, FAILED_KEY, type QueuedRelay } from '../../appsscript/src/queue';
import { ChunkedStore, STORE_BUDGET } from '../../appsscript/src/store';
import { typeInto, VALUE_LIMIT } from './fakes/gas';
import { catalog, rig } from './fakes/env';

function shop() {
  const r = rig();
  const sheet = catalog(r.env, ['SKU', 'Title', 'On hand · gallery'], [
    ['ART-0001', 'Ngayu', 4],
    ['ART-0002', 'Seven Sisters', 2],
  ]);
  return { ...r, sheet };
}

const queued = (props: { getProperty(k: string): string | null; getProperties(): Record<string, string> }) => new ChunkedStore(props as any).read<QueuedRelay[]>(QUEUE_KEY, []);

test('with the hub down, edits are kept in order and the minute trigger sends them with their first webhook-ids', () => {
  const { env, hub, addon } = shop();
  hub.mode = 'down';
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', 5));
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', 6));
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C3', 1));
  expect(hub.stored).toHaveLength(0);
  const waiting = queued(env.props);
  expect(waiting.map((q) => JSON.parse(q.body).newValue)).toEqual([5, 6, 1]);
  expect(env.ss.toasts.at(-1)!.message).toMatch(/3 changes are kept in this spreadsheet and will be sent in order/);
  // While the first is waiting, a new edit does not overtake it: only the head is tried.
  expect(hub.attempts.map((a) => a.id)).toEqual([waiting[0]!.id, waiting[0]!.id, waiting[0]!.id]);

  hub.mode = 'up';
  addon.flushQueue();
  expect(hub.stored.map((s) => s.body.newValue)).toEqual([5, 6, 1]);
  expect(hub.stored.map((s) => s.id)).toEqual(waiting.map((q) => q.id));
  expect(queued(env.props)).toEqual([]);
  expect(env.ss.toasts.at(-1)!.message).toMatch(/Sent 3 waiting change/);
});

test.each([503, 500, 502, 429])('an answer %i keeps the change for later', (status) => {
  const { env, hub, addon } = shop();
  hub.mode = status;
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', 5));
  expect(queued(env.props)).toHaveLength(1);
  expect(queued(env.props)[0]!.lastError).toMatch(String(status === 429 ? 'slow down' : status));
  hub.mode = 'up';
  addon.flushQueue();
  expect(hub.stored).toHaveLength(1);
});

test('a flush sends in order and stops at the first relay the hub does not take', () => {
  const { env, hub, addon } = shop();
  hub.mode = 'down';
  for (const n of [5, 6, 7, 8]) addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', n));
  hub.mode = 'up';
  hub.script = [202, 'down'];
  addon.flushQueue();
  expect(hub.stored.map((s) => s.body.newValue)).toEqual([5]);
  expect(queued(env.props).map((q) => JSON.parse(q.body).newValue)).toEqual([6, 7, 8]);
  expect(queued(env.props)[0]).toMatchObject({ attempts: 1, lastError: expect.stringMatching(/did not answer/) });
  addon.flushQueue();
  expect(hub.stored.map((s) => s.body.newValue)).toEqual([5, 6, 7, 8]);
});

test('a relay the hub already has (its answer was lost) is answered 409 relay_replayed and counts as delivered', () => {
  const { env, hub, addon } = shop();
  // The hub stores the relay, but the answer never arrives.
  const original = hub.handler;
  let lose = true;
  env.fetch.handler = (req) => {
    const res = original(req);
    if (lose && req.url.endsWith('/v1/relay')) {
      lose = false;
      throw new Error('Exception: Timeout: the connection was reset');
    }
    return res;
  };
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', 5));
  expect(queued(env.props)).toHaveLength(1);
  addon.flushQueue();
  expect(hub.attempts.map((a) => a.status)).toEqual([202, 409]);
  expect(hub.stored).toHaveLength(1);
  expect(queued(env.props)).toEqual([]);
  expect(new ChunkedStore(env.props).read(FAILED_KEY, [])).toEqual([]);
});

test('a 4xx refusal is set aside with the hub’s message, not retried, and shown until dismissed', () => {
  const { env, hub, addon } = shop();
  hub.script = [400];
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', 5));
  expect(env.ss.toasts.at(-1)!.message).toMatch(/The hub refused the change: scripted answer 400/);
  expect(queued(env.props)).toEqual([]);
  addon.flushQueue();
  expect(hub.attempts).toHaveLength(1);
  const q = addon.sidebarState().queue;
  expect(q.waiting).toBe(0);
  expect(q.failed).toEqual([expect.objectContaining({ status: 400, code: 'invalid_relay', message: 'scripted answer 400', summary: expect.stringContaining('ART-0001') })]);
  expect(addon.sidebarDismissFailed(q.failed[0]!.id).failed).toEqual([]);
});

test('a 401 (the sheet’s credential rotated or revoked) keeps the changes in order until the hub takes them again; so does a 409 that is not a replay', () => {
  const { env, hub, addon } = shop();
  hub.script = [409];
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', 5));
  expect(queued(env.props)).toHaveLength(1);
  // The supplier rotates the sheet's credential: the hub refuses the old relay secret.
  hub.script = [401, 401];
  addon.flushQueue();
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', 6));
  // Sent: two edits under a refused secret. Kept: both, in order, nothing set aside, and the reason says what to do.
  expect(queued(env.props).map((q) => JSON.parse(q.body).newValue)).toEqual([5, 6]);
  expect(queued(env.props)[0]!.lastError).toMatch(/rotated or revoked.*Connect to hub/);
  expect(addon.sidebarState().queue.failed).toEqual([]);
  expect(hub.stored).toEqual([]);
  // Connected again (the hub takes the relays): both go, in order.
  hub.script = [];
  addon.flushQueue();
  expect(hub.stored.map((s) => s.body.newValue)).toEqual([5, 6]);
  expect(queued(env.props)).toEqual([]);
});

test('the queue is stored in chunks under the 9 KB per-value limit, and reads back whole', () => {
  const { env, hub, addon } = shop();
  hub.mode = 'down';
  const long = 'Ngayu — Tjukurpa, ochre on bark, 1987 '.repeat(20);
  for (let i = 0; i < 40; i++) addon.onSheetEdit(typeInto(env, 'Catalog', 'B2', `${long} #${i}`));
  const keys = Object.keys(env.props.getProperties()).filter((k) => k.startsWith(`${QUEUE_KEY}#`));
  expect(keys.length).toBeGreaterThan(3);
  for (const k of keys) expect(Buffer.byteLength(env.props.getProperty(k)!, 'utf8')).toBeLessThanOrEqual(VALUE_LIMIT);
  expect(queued(env.props).map((q) => JSON.parse(q.body).newValue)).toEqual(Array.from({ length: 40 }, (_, i) => `${long} #${i}`));
  hub.mode = 'up';
  addon.flushQueue();
  expect(hub.stored).toHaveLength(40);
  // the chunks no longer needed are deleted; an empty queue leaves nothing behind (one read says so)
  expect(Object.keys(env.props.getProperties()).filter((k) => k.startsWith(`${QUEUE_KEY}#`))).toEqual([]);
  expect(queued(env.props)).toEqual([]);
});

test('every write to the queue happens under the document lock', () => {
  const { env, hub, addon } = shop();
  const unlocked: string[] = [];
  env.props.onWrite = (k) => {
    if (k.startsWith('stockrelay.') && !k.startsWith('stockrelay.hubUrl') && !env.lock.held) unlocked.push(k);
  };
  hub.mode = 'down';
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', 5));
  addon.onSheetEdit(typeInto(env, 'Catalog', 'A3', 'ART-0009'));
  hub.mode = 'up';
  addon.flushQueue();
  addon.menuSyncNow();
  expect(env.lock.acquired).toBeGreaterThan(3);
  expect(unlocked).toEqual([]);
  expect(env.lock.held).toBe(false);
});

test('when another execution holds the lock, the edit is marked NOT sent on the cell and in a toast', () => {
  const { env, hub, addon, sheet } = shop();
  env.lock.heldElsewhere = true;
  addon.onSheetEdit(typeInto(env, 'Catalog', 'C2', 5));
  expect(hub.stored).toHaveLength(0);
  expect(sheet.getRange('C2').getNote()).toMatch(/NOT sent to the hub/);
  expect(env.ss.toasts.at(-1)!.message).toMatch(/busy with another stockrelay task for 30 seconds, so this change could not be kept/);
  addon.flushQueue(); // skipped quietly while busy
});

test('when the storage is full, the edit is not dropped silently: the cell says it was not sent', () => {
  const { env, hub, addon, sheet } = shop();
  hub.mode = 'down';
  // Someone else's use of the store leaves little room.
  for (let i = 0; env.props.totalBytes() + 8100 < STORE_BUDGET - 4000; i++) env.props.setProperty(`other.${i}`, 'x'.repeat(8000));
  const before = queued(env.props).length;
  for (let i = 0; i < 20; i++) addon.onSheetEdit(typeInto(env, 'Catalog', 'B2', `title ${'y'.repeat(300)} ${i}`));
  expect(queued(env.props).length).toBeGreaterThan(before);
  expect(sheet.getRange('B2').getNote()).toMatch(/NOT sent to the hub .*storage for the add-on is full/);
  expect(env.ss.toasts.at(-1)!.message).toMatch(/storage for the add-on is full/);
});

test('not connected yet: changes wait, and go once the spreadsheet is connected', () => {
  const r = rig({ connected: false });
  catalog(r.env, ['SKU', 'On hand'], [['ART-1', 1]]);
  r.addon.onSheetEdit(typeInto(r.env, 'Catalog', 'B2', 2));
  expect(r.env.fetch.requests).toHaveLength(0);
  expect(r.env.ss.toasts.at(-1)!.message).toMatch(/Not connected to a hub/);
  expect(queued(r.env.props)).toHaveLength(1);
  r.addon.flushQueue(); // no settings: does nothing
  expect(r.env.fetch.requests).toHaveLength(0);
});
