/**
 * The outbox dispatcher on both stores (docs/inbox-outbox.md, "Dispatch"): backoff with full jitter,
 * retries counted, dead letters after maxAttempts, permanent failures and unknown sinks, coalescing
 * to the latest state, order per coalesce key (also with several dispatchers and failures), and a
 * crashed worker's lease running out. Time is a fake clock passed to the Dispatcher; nothing here
 * asserts on wall-clock timings.
 */
import fc from 'fast-check';
import { Dispatcher, MAX_RETRY_AFTER_MS, backoffMs } from '../../server/outbox/dispatcher';
import { DeliveryError, type Sink } from '../../server/outbox/sink';
import type { DispatchConfig } from '../../server/config';
import { createLogger } from '../../server/log';
import { Metrics } from '../../server/metrics';
import { openStore } from '../../server/store/open';
import type { OutboxEntry, Store } from '../../server/store/types';
import { databaseUrl, dropSchema, freshSchema, tempDir, type StoreKind } from '../helpers/hub';
import { STORES } from '../helpers/stores';

const cfg: DispatchConfig = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, leaseMs: 5000, timeoutMs: 2000 };
const silent = createLogger('silent');

describe('backoffMs', () => {
  test('a Retry-After longer than a day is honoured for a day, not for ever', () => {
    const c = { baseDelayMs: 1000, maxDelayMs: 60_000 };
    expect(backoffMs(1, c, () => 0, 10 * 365 * 24 * 3600 * 1000)).toBe(MAX_RETRY_AFTER_MS);
    expect(backoffMs(1, c, () => 0, 90_000)).toBe(90_000);
  });

  test('for any attempt, draw and settings the delay is a whole number in [0, min(max, base·2^attempt)]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 60_000 }),
        fc.integer({ min: 0, max: 3_600_000 }),
        (attempt, r, base, extra) => {
          const s = { baseDelayMs: base, maxDelayMs: base + extra };
          const d = backoffMs(attempt, s, () => r);
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** attempt));
        },
      ),
      { numRuns: 500 },
    );
  });

  test('full jitter: a draw of 0 waits 0, a draw near 1 after many attempts waits about maxDelay, and a larger draw never waits less', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, r1, r2) => {
        const [lo, hi] = r1 <= r2 ? [r1, r2] : [r2, r1];
        expect(backoffMs(attempt, cfg, () => lo)).toBeLessThanOrEqual(backoffMs(attempt, cfg, () => hi));
        expect(backoffMs(attempt, cfg, () => 0)).toBe(0);
      }),
    );
    // The cap grows with the attempts until it reaches maxDelayMs, and stays there.
    expect(backoffMs(30, cfg, () => 0.999999)).toBe(cfg.maxDelayMs - 1);
    expect(backoffMs(5000, cfg, () => 0.999999)).toBe(cfg.maxDelayMs - 1);
    expect(backoffMs(1, cfg, () => 0.999999)).toBeLessThan(backoffMs(4, cfg, () => 0.999999));
  });

  test('a Retry-After from the receiver is a floor, even above maxDelay; without one the draw decides', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.integer({ min: 0, max: 86_400_000 }), (attempt, r, retryAfter) => {
        const d = backoffMs(attempt, cfg, () => r, retryAfter);
        expect(d).toBeGreaterThanOrEqual(retryAfter);
        expect(d).toBe(Math.max(retryAfter, backoffMs(attempt, cfg, () => r)));
      }),
    );
  });
});

/** A sink that fails as scripted (one entry per call; null = succeed) and records every call. */
class ScriptedSink implements Sink {
  calls: OutboxEntry[] = [];
  delivered: { id: number; topic: string; payload: unknown }[] = [];
  constructor(
    readonly id: string,
    private readonly script: (Error | null)[] = [],
    private readonly otherwise: Error | null = null,
  ) {}
  async deliver(entry: OutboxEntry): Promise<void> {
    this.calls.push(entry);
    const f = this.script.length > 0 ? this.script.shift() : this.otherwise;
    if (f) throw f;
    this.delivered.push({ id: entry.id, topic: entry.topic, payload: entry.payload });
  }
}

describe.each<StoreKind>(STORES)('dispatcher on %s', (kind) => {
  let store: Store;
  let schema: string | undefined;
  let clock: Date;

  beforeAll(async () => {
    schema = kind === 'postgres' ? freshSchema('dispatch') : undefined;
    store = kind === 'postgres' ? await openStore({ databaseUrl: databaseUrl(), pgSchema: schema, poolSize: 4 }) : await openStore({ dataDir: tempDir() });
  });
  afterAll(async () => {
    await store?.close();
    if (schema) await dropSchema(schema);
  });

  // Every test starts from an outbox with nothing left to do: leftovers of an earlier test are
  // finished by a catch-all dispatcher far in the (fake) future, and each test then uses sinks
  // named after itself.
  let n = 0;
  let sinkName: string;
  beforeEach(async () => {
    n++;
    sinkName = `sink${n}`;
    clock = new Date(Date.UTC(2026, 10, 22, 10, n * 2));
    const ids = new Set((await store.outbox.list({ limit: 1000 })).filter((r) => r.status === 'pending' || r.status === 'working').map((r) => r.sink));
    if (ids.size > 0) {
      const sweep = new Dispatcher(store, [...ids].map((id) => new ScriptedSink(id)), cfg, silent, new Metrics(), () => new Date(clock.getTime() + 86_400_000));
      await sweep.drain();
    }
  });

  const now = () => clock.toISOString();
  const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));
  const dispatcher = (sinks: Sink[], opts: { random?: () => number; settings?: Partial<DispatchConfig>; batch?: number } = {}) =>
    new Dispatcher(store, sinks, { ...cfg, ...opts.settings }, silent, new Metrics(), () => clock, opts.random ?? (() => 0.5), 50, opts.batch ?? 20);
  const enqueue = (payload: unknown, coalesceKey: string | null = null, topic = 'level.changed', sink = sinkName) => store.outbox.enqueue({ sink, topic, coalesceKey, payload }, now());
  const rowsOf = async (sink = sinkName) => (await store.outbox.list({ limit: 1000 })).filter((r) => r.sink === sink).sort((a, b) => a.id - b.id);

  test('a sink failing twice (HTTP 500, then a thrown plain Error) then answering: delivered once, attempts 3, last error cleared', async () => {
    const sink = new ScriptedSink(sinkName, [new DeliveryError('HTTP 500'), new Error('socket hang up')]);
    const d = dispatcher([sink], { random: () => 0.999 });
    await enqueue({ n: 1 });

    expect(await d.drain()).toBe(1);
    let [row] = await rowsOf();
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 500' });
    const wait1 = Date.parse(row!.nextAttemptAt) - clock.getTime();
    expect(wait1).toBeGreaterThanOrEqual(0);
    expect(wait1).toBeLessThanOrEqual(Math.min(cfg.maxDelayMs, cfg.baseDelayMs * 2));
    // Not due yet: nothing is attempted before the backoff has passed.
    advance(wait1 - 1);
    expect(await d.drain()).toBe(0);
    advance(1);
    expect(await d.drain()).toBe(1);
    [row] = await rowsOf();
    expect(row).toMatchObject({ status: 'pending', attempts: 2, lastError: 'socket hang up' });

    advance(cfg.maxDelayMs);
    expect(await d.drain()).toBe(1);
    expect(sink.calls).toHaveLength(3);
    expect(sink.delivered).toEqual([{ id: row!.id, topic: 'level.changed', payload: { n: 1 } }]);
    expect(await store.outbox.get(row!.id)).toMatchObject({ status: 'done', attempts: 3, lastError: null, lockedUntil: null });
    // Done is done: later rounds never deliver it again.
    advance(cfg.leaseMs * 10);
    expect(await d.drain()).toBe(0);
    expect(sink.calls).toHaveLength(3);
  });

  test('a sink failing always: tried exactly maxAttempts times, then a dead letter in listOutbox({status: "dead"}) with its last error', async () => {
    const sink = new ScriptedSink(sinkName, [], new DeliveryError('HTTP 503 from the ERP'));
    const d = dispatcher([sink]);
    await enqueue({ n: 1 });
    for (let i = 0; i < cfg.maxAttempts * 3; i++) {
      await d.drain();
      advance(cfg.maxDelayMs);
    }
    expect(sink.calls.map((c) => c.attempts)).toEqual([1, 2, 3, 4]);
    const dead = (await store.outbox.list({ limit: 100, status: 'dead' })).filter((r) => r.sink === sinkName);
    expect(dead).toEqual([expect.objectContaining({ status: 'dead', attempts: cfg.maxAttempts, lastError: 'HTTP 503 from the ERP', lockedUntil: null, payload: { n: 1 } })]);
    expect(sink.delivered).toEqual([]);
  });

  test('a permanent DeliveryError (endpoint gone) makes the row a dead letter on the first attempt, with no retry', async () => {
    const sink = new ScriptedSink(sinkName, [new DeliveryError('HTTP 410: the endpoint is gone', null, true)]);
    const d = dispatcher([sink]);
    await enqueue({ n: 1 });
    await d.drain();
    advance(cfg.maxDelayMs * 100);
    await d.drain();
    expect(sink.calls).toHaveLength(1);
    expect(await rowsOf()).toEqual([expect.objectContaining({ status: 'dead', attempts: 1, lastError: 'HTTP 410: the endpoint is gone' })]);
  });

  test('a row for a sink name that is not configured is a dead letter at once whose lastError names the sink; other sinks are not asked', async () => {
    const other = new ScriptedSink(sinkName);
    const d = dispatcher([other]);
    await enqueue({ n: 1 }, null, 'level.changed', `${sinkName}-removed`);
    await d.drain();
    advance(cfg.maxDelayMs * 100);
    await d.drain();
    const [row] = await rowsOf(`${sinkName}-removed`);
    expect(row).toMatchObject({ status: 'dead', attempts: 1 });
    expect(row!.lastError).toBe(`No sink "${sinkName}-removed" is configured any more; this row cannot be delivered.`);
    expect(other.calls).toEqual([]);
  });

  test('five enqueues with one coalesce key before dispatch: one delivery with the latest payload and topic; rows without a key are never merged', async () => {
    const sink = new ScriptedSink(sinkName);
    for (let i = 1; i <= 5; i++) await enqueue({ n: i }, `level:${sinkName}:A:main`, i === 5 ? 'level.final' : 'level.changed');
    await enqueue({ other: 'B' }, `level:${sinkName}:B:main`);
    for (let i = 1; i <= 3; i++) await enqueue({ alert: i }, null, 'alert.raised');
    expect(await rowsOf()).toHaveLength(5);
    await dispatcher([sink]).drain();
    expect(sink.delivered.map((x) => [x.topic, x.payload])).toEqual([
      ['level.final', { n: 5 }],
      ['level.changed', { other: 'B' }],
      ['alert.raised', { alert: 1 }],
      ['alert.raised', { alert: 2 }],
      ['alert.raised', { alert: 3 }],
    ]);
  });

  test('a newer state enqueued while the older one is being delivered waits for it, then goes out after it (never both at once)', async () => {
    const key = `level:${sinkName}:A:main`;
    const order: string[] = [];
    let enqueued = false;
    let claimedMeanwhile: OutboxEntry[] | null = null;
    // Assertions inside a sink would only count as a failed delivery: record, check afterwards.
    const sink: Sink = {
      id: sinkName,
      deliver: async (e) => {
        order.push(`start ${JSON.stringify(e.payload)}`);
        if (!enqueued) {
          enqueued = true;
          await enqueue({ n: 2 }, key); // a booking lands while n: 1 is on the wire
          // A second dispatcher looking now must not pick n: 2 while n: 1 is in flight.
          claimedMeanwhile = await store.outbox.claim(10, cfg.leaseMs, now());
        }
        order.push(`end ${JSON.stringify(e.payload)}`);
      },
    };
    await enqueue({ n: 1 }, key);
    await dispatcher([sink]).drain();
    expect(claimedMeanwhile).toEqual([]);
    expect(order).toEqual(['start {"n":1}', 'end {"n":1}', 'start {"n":2}', 'end {"n":2}']);
    expect((await rowsOf()).map((r) => [r.status, r.payload])).toEqual([
      ['done', { n: 1 }],
      ['done', { n: 2 }],
    ]);
  });

  test('an older state that fails while a newer one waits is superseded, not retried after the newer one', async () => {
    const key = `level:${sinkName}:A:main`;
    const sink = new ScriptedSink(sinkName);
    const d = dispatcher([sink]);
    await enqueue({ n: 1 }, key);
    const [first] = await store.outbox.claim(10, cfg.leaseMs, now());
    await enqueue({ n: 2 }, key);
    expect(await store.outbox.fail(first!.id, 'HTTP 500', new Date(clock.getTime() + 10).toISOString(), now())).toBe('superseded');
    await d.drain();
    advance(cfg.maxDelayMs * 10);
    await d.drain();
    expect(sink.delivered.map((x) => x.payload)).toEqual([{ n: 2 }]);
  });

  test('per coalesce key, deliveries never overtake each other or overlap, and the last state enqueued is the last delivered (several dispatchers, random failures, bookings during deliveries, crashed workers)', async () => {
    type Op =
      | { op: 'enqueue'; key: number; during: boolean }
      | { op: 'dispatch'; workers: number }
      | { op: 'fail'; times: number }
      | { op: 'advance'; ms: number }
      | { op: 'crash' };
    const opArb: fc.Arbitrary<Op> = fc.oneof(
      { arbitrary: fc.record({ op: fc.constant('enqueue' as const), key: fc.integer({ min: 0, max: 2 }), during: fc.boolean() }), weight: 4 },
      { arbitrary: fc.record({ op: fc.constant('dispatch' as const), workers: fc.integer({ min: 1, max: 3 }) }), weight: 3 },
      { arbitrary: fc.record({ op: fc.constant('fail' as const), times: fc.integer({ min: 1, max: 3 }) }), weight: 2 },
      { arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 6000 }) }), weight: 2 },
      { arbitrary: fc.constant({ op: 'crash' as const }), weight: 1 },
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 30 }), async (ops) => {
        run++;
        const sid = `${sinkName}r${run}`;
        const keyOf = (k: number) => `level:${sid}:${k}:main`;
        const lastEnqueued = new Map<string, number>();
        const delivered = new Map<string, number[]>();
        const inFlight = new Set<string>();
        const problems: string[] = [];
        let seq = 0;
        let failures = 0;
        const pendingDuring: number[] = [];
        // Bookings happen one at a time, as the hub books (one booking lock): the state a booking
        // enqueues is the newest when it commits. Two deliveries booking at once without it could
        // commit the older state last (seq 5 reaching PostgreSQL before seq 4), which no hub does.
        let booking: Promise<void> = Promise.resolve();
        const book = (k: number): Promise<void> => {
          const next = booking.then(async () => {
            seq++;
            lastEnqueued.set(keyOf(k), seq);
            await store.outbox.enqueue({ sink: sid, topic: 'level.changed', coalesceKey: keyOf(k), payload: { seq } }, now());
          });
          booking = next.catch(() => undefined);
          return next;
        };
        const sink: Sink = {
          id: sid,
          deliver: async (e) => {
            const key = e.coalesceKey!;
            if (inFlight.has(key)) problems.push(`two deliveries of ${key} at once`);
            inFlight.add(key);
            try {
              // Let the other dispatchers run (and claim) while this delivery is on the wire.
              await new Promise((r) => setImmediate(r));
              const k = pendingDuring.shift();
              if (k !== undefined) await book(k);
              if (failures > 0) {
                failures--;
                throw new DeliveryError('HTTP 503');
              }
              const seen = delivered.get(key) ?? [];
              const value = (e.payload as { seq: number }).seq;
              if (seen.length > 0 && seen[seen.length - 1]! >= value) problems.push(`${key}: ${value} delivered after ${seen[seen.length - 1]}`);
              seen.push(value);
              delivered.set(key, seen);
            } finally {
              inFlight.delete(key);
            }
          },
        };
        const workers = [1, 2, 3].map(() => dispatcher([sink], { settings: { maxAttempts: 1000 }, batch: 2, random: Math.random }));
        for (const o of ops) {
          if (o.op === 'enqueue') {
            if (o.during) pendingDuring.push(o.key);
            else await book(o.key);
          } else if (o.op === 'dispatch') await Promise.all(workers.slice(0, o.workers).map((w) => w.runOnce()));
          else if (o.op === 'fail') failures += o.times;
          else if (o.op === 'advance') advance(o.ms);
          else await store.outbox.claim(1, cfg.leaseMs, now()); // a worker that claims and dies
        }
        // Events stop: everything still waiting, failed or abandoned goes out in the end.
        failures = 0;
        for (const k of pendingDuring.splice(0)) await book(k);
        for (let i = 0; i < 20; i++) {
          advance(cfg.leaseMs + cfg.maxDelayMs + 1);
          await Promise.all(workers.map((w) => w.drain()));
          if (!(await rowsOf(sid)).some((r) => r.status === 'pending' || r.status === 'working')) break;
        }
        expect(problems).toEqual([]);
        expect((await rowsOf(sid)).filter((r) => r.status !== 'done' && r.status !== 'superseded')).toEqual([]);
        for (const [key, last] of lastEnqueued) expect(delivered.get(key)?.at(-1)).toBe(last);
      }),
      { numRuns: 40 },
    );
  });

  test('a row claimed by a worker that crashed mid-delivery is not touched while its lease holds, then is delivered by another dispatcher, ahead of a newer state of its key', async () => {
    const key = `level:${sinkName}:A:main`;
    await enqueue({ n: 1 }, key);
    const [claimed] = await store.outbox.claim(10, cfg.leaseMs, now()); // the crashed worker
    expect(claimed).toMatchObject({ status: 'working', attempts: 1 });
    await enqueue({ n: 2 }, key);
    const sink = new ScriptedSink(sinkName);
    const d = dispatcher([sink]);

    advance(cfg.leaseMs - 1);
    expect(await d.drain()).toBe(0);
    expect(sink.calls).toEqual([]);

    advance(2);
    await d.drain();
    expect(sink.delivered.map((x) => x.payload)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(await store.outbox.get(claimed!.id)).toMatchObject({ status: 'done', attempts: 2 });
  });
});
