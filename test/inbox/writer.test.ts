/**
 * Group commit of the inbox (server/inbox/writer.ts): events that arrive together share one
 * transaction, each is answered only after its transaction committed, ids follow arrival order,
 * and a batch the database refuses is retried one event at a time so only the bad event fails.
 */
import fs from 'node:fs';
import { InboxWriter, type InboxEvent } from '../../server/inbox/writer';
import { openStore } from '../../server/store/open';
import type { Store } from '../../server/store/types';
import { tempDir } from '../helpers/hub';

const event = (key: string): InboxEvent => ({ dedupeKey: key, source: 'channel', kind: 'orders/create', headers: { 'x-shopify-event-id': key }, body: `{"id":"${key}"}` });
const NOW = '2026-11-23T10:00:00.000Z';

describe('inbox group commit on SQLite', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = tempDir('sr-writer-');
    store = await openStore({ dataDir: dir });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('300 events sent at once are all stored, in the order sent, in far fewer transactions', async () => {
    const writer = new InboxWriter(store);
    const keys = Array.from({ length: 300 }, (_, i) => `ev-${i}`);
    const got = await Promise.all(keys.map((k) => writer.insert(event(k), NOW)));
    expect(got.every((g) => g !== null)).toBe(true);
    const ids = got.map((g) => g!.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(writer.stats.events).toBe(300);
    // The first event starts a transaction alone; the other 299 arrive while it commits.
    expect(writer.stats.batches).toBeLessThanOrEqual(3);
    const stored = await store.inbox.list({ limit: 500, status: 'received' });
    expect(stored).toHaveLength(300);
  });

  test('a duplicate, in the same burst or later, is answered null and stored once', async () => {
    const writer = new InboxWriter(store);
    const got = await Promise.all(['a', 'b', 'a', 'c', 'b'].map((k) => writer.insert(event(k), NOW)));
    expect(got.map((g) => (g ? 'stored' : 'duplicate'))).toEqual(['stored', 'stored', 'duplicate', 'stored', 'duplicate']);
    expect(await writer.insert(event('a'), NOW)).toBeNull();
    expect(await store.inbox.list({ limit: 50 })).toHaveLength(3);
  });

  test('one event the database refuses fails alone; the rest of its batch is stored', async () => {
    const writer = new InboxWriter(store);
    // What was sent: three events, the middle one with no body (the inbox's body column is NOT NULL).
    const bad = { ...event('bad'), body: null as unknown as string };
    const results = await Promise.allSettled([writer.insert(event('ok-1'), NOW), writer.insert(bad, NOW), writer.insert(event('ok-2'), NOW)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // What was kept: the two good events, not the bad one.
    expect((await store.inbox.list({ limit: 50 })).map((e) => e.dedupeKey).sort()).toEqual(['ok-1', 'ok-2']);
  });
});

test('an event is answered only after the transaction holding it has committed', async () => {
  const commits: string[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const fake = {
    inbox: {
      async insert(e: InboxEvent) {
        commits.push([e.dedupeKey]);
        return { id: commits.length };
      },
      async insertBatch(events: InboxEvent[]) {
        await gate;
        commits.push(events.map((e) => e.dedupeKey));
        return events.map((_, i) => ({ id: 100 + i }));
      },
    },
  };
  const writer = new InboxWriter(fake as unknown as Store);
  let answered = false;
  const p = writer.insert(event('x'), NOW).then((r) => {
    answered = true;
    return r;
  });
  await new Promise((r) => setTimeout(r, 20));
  expect(answered).toBe(false);
  release();
  expect(await p).toEqual({ id: 100 });
  expect(commits).toEqual([['x']]);
  await writer.idle();
});
