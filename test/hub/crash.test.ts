/**
 * Crash safety of the whole hub process: a burst of 1,000 signed relays, the hub killed with SIGKILL
 * twice — once mid-burst and once while it is working through the backlog after a restart — and the
 * sender resending whatever it did not get a 2xx for (as the add-on's queue does), plus some it did.
 *
 * What must hold afterwards: every relay the hub answered 2xx for is booked exactly once, every relay
 * resent after a failure is booked exactly once, a resent relay that was already stored is answered
 * 409 relay_replayed, the level projection equals the movements, and the latest level of every item
 * reached the notification receiver. Runs on both stores, against the real `server/main.ts`.
 *
 * Alone it takes about 20 s a store; with the whole suite and other work on two cores, several times
 * that. So every wait ends on the event it waits for (the hub's "listening" line, its exit, the
 * receiver's deliveries) within a generous deadline that names what did not happen, and the test's
 * own timeout (TEST_TIMEOUT_MS) leaves room for a loaded machine. A hub left running by a failure is
 * killed after the test, so jest never hangs on it.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { hubProcessEnv, startHubProcess, type HubProcess } from '../../bench/hub-process';
import { signRelay } from '../../server/relay/verify';
import { openStore } from '../../server/store/open';
import { ADMIN_TOKEN, RELAY_SECRET, databaseUrl, dropSchema, freshSchema, tempDir, type StoreKind } from '../helpers/hub';
import { STORES } from '../helpers/stores';

const TOTAL = 1000;
const SKUS = 10;
const CONCURRENCY = 16;
const ROOT = path.resolve(__dirname, '..', '..');

/** A start through tsx takes about 2 s alone; far longer while other suites compete for the cores. */
const START_WITHIN_MS = 120_000;
/** From the last relay sent to the last level delivered: seconds alone. */
const SETTLE_WITHIN_MS = 150_000;
/** Three starts, two kills, 2,050 relays and the checks: about 20 s alone, 300 s leaves room for a machine many times slower. */
const TEST_TIMEOUT_MS = 300_000;

/** Every hub this file started, so none outlives a failed test. */
const children = new Set<HubProcess>();
/** False once a test has ended: a start still under way then (a test that timed out) is killed at once. */
let accepting = false;

/** Starts `server/main.ts` as its own process and waits for the line that says where it listens. */
async function startChild(env: NodeJS.ProcessEnv): Promise<HubProcess> {
  const hub = await startHubProcess(['--import', 'tsx', 'server/main.ts'], { cwd: ROOT, env, timeoutMs: START_WITHIN_MS });
  if (!accepting) {
    hub.proc.kill('SIGKILL');
    throw new Error('the test had already ended when this hub came up');
  }
  children.add(hub);
  void hub.exited.then(() => children.delete(hub));
  return hub;
}

/** Resolves with the exit code, or fails naming `what` when the process has not ended within `ms`. */
async function exitWithin(hub: HubProcess, what: string, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the hub did not exit within ${ms / 1000} s after ${what}`)), ms);
  });
  try {
    return await Promise.race([hub.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

function relayBody(i: number): string {
  return JSON.stringify({ kind: 'adjustment', sku: `CR-${i % SKUS}`, quantity: 1, reason: 'restock', note: `crash test relay ${i}`, occurredAt: new Date().toISOString() });
}

/** Sends relay `i`; resolves with the HTTP status, or 0 when no answer came (connection refused or cut). */
async function sendRelay(url: string, i: number): Promise<number> {
  const body = relayBody(i);
  const headers = { 'content-type': 'application/json', ...signRelay(RELAY_SECRET, `msg_crash_${i}`, body, new Date()) };
  try {
    const res = await fetch(`${url}/v1/relay`, { method: 'POST', body, headers });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

async function api(url: string, p: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url + p, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
    body: init.body ? JSON.stringify(init.body) : null,
  });
  return { status: res.status, body: await res.json() };
}

/**
 * Sends the given relays with a few in flight at a time; calls `onAck` after each 2xx and stops
 * handing out new ones once `stop()` says so. Returns the status of every relay that was sent.
 */
async function burst(url: string, ids: number[], onAck: (acked: number) => void, stop: () => boolean): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  let acked = 0;
  const worker = async () => {
    while (next < ids.length && !stop()) {
      const i = ids[next++]!;
      const status = await sendRelay(url, i);
      statuses.set(i, status);
      if (status >= 200 && status < 300) onAck(++acked);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return statuses;
}

/**
 * Waits until `check` holds, looking again each time `changed` fires (no polling), and fails with
 * `describe()` when `ms` passes first or when `check` throws (a state that can never come right).
 */
function waitFor(what: string, check: () => boolean, changed: { on(fn: () => void): () => void }, describe: () => string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let off = () => undefined as void;
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${ms / 1000} s waiting until ${what}: ${describe()}`));
    }, ms);
    const look = () => {
      let ok = false;
      let failed: Error | undefined;
      try {
        ok = check();
      } catch (err) {
        failed = err as Error;
      }
      if (!ok && !failed) return;
      clearTimeout(timer);
      off();
      if (failed) reject(failed);
      else resolve();
    };
    off = changed.on(look);
    look();
  });
}

describe.each<StoreKind>(STORES)('crash safety on %s', (kind) => {
  const dataDir = tempDir('sr-crash-');
  const schema = kind === 'postgres' ? freshSchema('crash') : undefined;
  /** The level.changed payloads the receiver got for each SKU, in the order they came. */
  const delivered = new Map<string, number[]>();
  /** Called on every delivery: what waits on deliveries looks again then. */
  const listeners = new Set<() => void>();
  const deliveries = { on: (fn: () => void) => (listeners.add(fn), () => void listeners.delete(fn)) };
  let receiver: http.Server;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const msg = JSON.parse(body) as { type: string; data: { sku: string; onHand: number } };
        if (msg.type === 'level.changed') delivered.set(msg.data.sku, [...(delivered.get(msg.data.sku) ?? []), msg.data.onHand]);
        res.writeHead(204).end();
        for (const fn of listeners) fn();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    const port = (receiver.address() as AddressInfo).port;
    const configFile = path.join(dataDir, 'stockrelay.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        notify: [{ id: 'erp', url: `http://127.0.0.1:${port}/hook`, topics: ['level.changed'] }],
        // A short lease, so a delivery cut off by the kill is retried soon after the restart.
        dispatch: { leaseMs: 1500, baseDelayMs: 50, maxDelayMs: 500 },
      }),
    );
    env = hubProcessEnv({
      dataDir,
      configFile,
      relaySecret: RELAY_SECRET,
      adminToken: ADMIN_TOKEN,
      extra: kind === 'postgres' ? { DATABASE_URL: databaseUrl(), STOCKRELAY_PG_SCHEMA: schema } : {},
    });
  });

  beforeEach(() => {
    accepting = true;
  });

  afterEach(async () => {
    // A failed test may leave a hub running: kill it, or jest waits for it forever.
    accepting = false;
    await Promise.all([...children].map((c) => (c.proc.kill('SIGKILL'), c.exited)));
  });

  afterAll(async () => {
    await new Promise<void>((r) => receiver.close(() => r()));
    if (schema) await dropSchema(schema);
  });

  test('1,000 relays, two SIGKILLs, resends: every relay booked exactly once and the latest levels delivered', async () => {
    const all = Array.from({ length: TOTAL }, (_, i) => i);
    const ackedAt = new Map<number, string>();
    const record = (statuses: Map<number, number>, phase: string) => {
      // A 409 relay_replayed means the hub had stored it before the answer was lost: it counts as delivered.
      for (const [i, s] of statuses) if (((s >= 200 && s < 300) || s === 409) && !ackedAt.has(i)) ackedAt.set(i, phase);
    };
    // How long each step took (printed with CRASH_TEST_VERBOSE=1), to see what a loaded machine slows down.
    const took: Record<string, number> = {};
    let mark = Date.now();
    const step = (name: string) => {
      took[name] = Date.now() - mark;
      mark = Date.now();
    };

    // Run 1: create the items, then the burst; killed without warning after 300 acknowledgements.
    let hub = await startChild(env);
    step('start 1');
    for (let s = 0; s < SKUS; s++) expect((await api(hub.url, `/v1/items/CR-${s}`, { method: 'PUT', body: { title: `Crash ${s}` } })).status).toBe(200);
    let killed = false;
    const first = await burst(hub.url, all, (n) => {
      if (n === 300 && !killed) {
        killed = true;
        hub.proc.kill('SIGKILL');
      }
    }, () => killed);
    await exitWithin(hub, 'the first SIGKILL', 30_000);
    record(first, 'first');
    expect(killed).toBe(true);
    step('burst 1');

    // Run 2: the sender resends everything it has no 2xx for; killed again while it is catching up.
    hub = await startChild(env);
    step('start 2');
    const backlog1 = (await api(hub.url, '/v1/events?status=received&limit=100')).body.events.length;
    const unacked = all.filter((i) => !ackedAt.has(i));
    killed = false;
    const second = await burst(hub.url, unacked, (n) => {
      if (n === 150 && !killed) {
        killed = true;
        hub.proc.kill('SIGKILL');
      }
    }, () => killed);
    await exitWithin(hub, 'the second SIGKILL', 30_000);
    record(second, 'second');
    step('burst 2');

    // Run 3: resend the rest, and 50 that were already acknowledged (a sender that lost the answer).
    hub = await startChild(env);
    step('start 3');
    const rest = all.filter((i) => !ackedAt.has(i));
    const third = await burst(hub.url, rest, () => undefined, () => false);
    record(third, 'third');
    expect([...third].filter(([, s]) => s !== 202 && s !== 409)).toEqual([]);
    const again = [...ackedAt.keys()].filter((_, n) => n % 20 === 0).slice(0, 50);
    const replays = await burst(hub.url, again, () => undefined, () => false);
    expect([...replays.values()].every((s) => s === 409)).toBe(true);
    expect(ackedAt.size).toBe(TOTAL);
    step('burst 3 and replays');

    // Everything stored gets processed and the receiver gets each item's final level. Every relay adds
    // one, so an item's level reaches its total only once all its relays are booked: the receiver's
    // deliveries say when that is, and a level beyond the total (a relay booked twice) fails at once.
    const expected = new Map<string, number>();
    for (const i of all) expected.set(`CR-${i % SKUS}`, (expected.get(`CR-${i % SKUS}`) ?? 0) + 1);
    await waitFor(
      'the latest level of every item is delivered',
      () => {
        for (const [sku, total] of expected) {
          const over = delivered.get(sku)?.find((n) => n > total);
          if (over !== undefined) throw new Error(`${sku} was delivered at ${over}, beyond the ${total} relays sent for it: a relay was booked twice`);
        }
        return [...expected].every(([sku, total]) => delivered.get(sku)?.includes(total) ?? false);
      },
      deliveries,
      () => JSON.stringify(Object.fromEntries([...expected.keys()].map((sku) => [sku, delivered.get(sku)?.slice(-3) ?? []]))),
      SETTLE_WITHIN_MS,
    );
    step('settle');
    expect((await api(hub.url, '/v1/events?status=received&limit=1')).body.events).toEqual([]);
    const items = (await api(hub.url, '/v1/items?limit=100')).body.items as { sku: string; onHand: number }[];
    expect(Object.fromEntries(items.map((it) => [it.sku, it.onHand]))).toEqual(Object.fromEntries(expected));

    hub.proc.kill('SIGTERM');
    expect(await exitWithin(hub, 'SIGTERM (a clean stop)', 60_000)).toBe(0);
    step('stop');

    // Straight from the store: one processed event and one movement per relay, projection == movements.
    const store = await openStore(kind === 'postgres' ? { databaseUrl: databaseUrl(), pgSchema: schema } : { dataDir });
    try {
      // One read of the whole inbox rather than a thousand: the same check, far less waiting under load.
      const relays = (await store.inbox.list({ limit: TOTAL * 2 })).filter((e) => e.dedupeKey.startsWith('relay:msg_crash_'));
      expect(relays).toHaveLength(TOTAL);
      expect(new Set(relays.map((e) => e.dedupeKey))).toEqual(new Set(all.map((i) => `relay:msg_crash_${i}`)));
      expect(relays.filter((e) => e.status !== 'processed').map((e) => `${e.dedupeKey} ${e.status}`)).toEqual([]);
      const notes = new Map<string, number>();
      for (let s = 0; s < SKUS; s++) {
        const moves = await store.ledger.listMovements(`CR-${s}`, { limit: 1000 });
        for (const m of moves) notes.set(m.note ?? '', (notes.get(m.note ?? '') ?? 0) + 1);
      }
      expect(notes.size).toBe(TOTAL);
      expect([...notes.values()].every((n) => n === 1)).toBe(true);
      const byKey = (l: { sku: string; locationId: string }) => `${l.sku}@${l.locationId}`;
      const projected = (await store.ledger.levelsFor(Array.from({ length: SKUS }, (_, s) => `CR-${s}`))).map((l) => [byKey(l), l.onHand, l.reserved]);
      const recomputed = (await store.ledger.recomputeLevels()).map((l) => [byKey(l), l.onHand, l.reserved]);
      expect(new Set(projected.map(String))).toEqual(new Set(recomputed.map(String)));
    } finally {
      await store.close();
    }
    step('store checks');
    if (process.env.CRASH_TEST_VERBOSE) {
      const phases = [...ackedAt.values()].reduce<Record<string, number>>((acc, p) => ((acc[p] = (acc[p] ?? 0) + 1), acc), {});
      console.log({ kind, backlogAfterFirstKill: backlog1, phases, third: [...third.values()].filter((s) => s === 409).length, tookMs: took });
    }
  }, TEST_TIMEOUT_MS);
});
