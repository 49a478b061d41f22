/**
 * Per-channel dispatch (docs/dispatch.md) on both stores, on a fake clock: batches of up to the
 * platform's maxBatch in row order; a requests-per-window pace never exceeded; a 429 pauses only its
 * channel and costs the rows no attempt; a failing channel is suspended with one alert, keeps queuing
 * and coalescing (nothing becomes a dead letter), and resumes with the latest levels, resolving the
 * alert; a refusal of one entry in a batch dead-letters that entry only.
 */
import { Dispatcher } from '../../server/outbox/dispatcher';
import { DeliveryError, type EntryResult, type Sink } from '../../server/outbox/sink';
import { limiterFor, type Limiter } from '../../server/outbox/rate-limit';
import type { DispatchConfig } from '../../server/config';
import { createLogger } from '../../server/log';
import { Metrics } from '../../server/metrics';
import { openStore } from '../../server/store/open';
import type { OutboxEntry, Store } from '../../server/store/types';
import { databaseUrl, dropSchema, freshSchema, tempDir, type StoreKind } from '../helpers/hub';
import { STORES } from '../helpers/stores';

const cfg: DispatchConfig = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, leaseMs: 60_000, timeoutMs: 5000 };
const silent = createLogger('silent');

/** A channel sink that answers from a script (one answer per batch) and records each batch and when it came. */
class BatchSink implements Sink {
  readonly batches: { at: number; ids: number[]; payloads: unknown[] }[] = [];
  constructor(
    readonly id: string,
    readonly maxBatch: number,
    private readonly now: () => number,
    private readonly script: ((entries: OutboxEntry[]) => EntryResult[] | Error)[] = [],
    readonly limiter?: Limiter,
    readonly channel = { id: id.replace(/^channel:/, ''), name: `Shop ${id}` },
  ) {}
  async deliver(): Promise<void> {
    throw new Error('deliverBatch is used');
  }
  async deliverBatch(entries: OutboxEntry[]): Promise<EntryResult[]> {
    this.batches.push({ at: this.now(), ids: entries.map((e) => e.id), payloads: entries.map((e) => e.payload) });
    const step = this.script.shift();
    const r = step ? step(entries) : entries.map(() => null);
    if (r instanceof Error) throw r;
    return r;
  }
}

describe.each<StoreKind>(STORES)('per-channel dispatch on %s', (kind) => {
  let store: Store;
  let schema: string | undefined;
  let clock: number;
  let n = 0;
  let name: string;

  beforeAll(async () => {
    schema = kind === 'postgres' ? freshSchema('chdispatch') : undefined;
    store = kind === 'postgres' ? await openStore({ databaseUrl: databaseUrl(), pgSchema: schema, poolSize: 4 }) : await openStore({ dataDir: tempDir() });
  });
  afterAll(async () => {
    await store?.close();
    if (schema) await dropSchema(schema);
  });
  beforeEach(() => {
    n++;
    name = `channel:shop${n}`;
    clock = Date.UTC(2026, 10, 23, 9, n * 5);
  });

  const now = () => clock;
  const iso = () => new Date(clock).toISOString();
  const sleep = async (ms: number) => {
    clock += ms;
  };
  const dispatcher = (sinks: Sink[], opts: { suspendAfter?: number; suspendMs?: number } = {}) =>
    new Dispatcher(store, sinks, cfg, silent, new Metrics(), () => new Date(clock), () => 0.5, 50, 20, { sleep, suspendAfter: opts.suspendAfter ?? 5, suspendMs: opts.suspendMs ?? 30_000 });
  const push = (sku: string, level: number, sink = name) => store.outbox.enqueue({ sink, topic: 'level.push', coalesceKey: `level:${sink}:${sku}:gallery`, payload: { sku, location: 'gallery', level } }, iso());
  const rowsOf = async (sink = name) => (await store.outbox.list({ limit: 2000 })).filter((r) => r.sink === sink).sort((a, b) => a.id - b.id);

  test('600 level changes for a platform taking 250 per request: 3 requests, every row once, in row order', async () => {
    const sink = new BatchSink(name, 250, now);
    for (let i = 0; i < 600; i++) await push(`SKU-${String(i).padStart(4, '0')}`, i);
    await dispatcher([sink]).drain();
    expect(sink.batches.map((b) => b.ids.length)).toEqual([250, 250, 100]);
    const ids = sink.batches.flatMap((b) => b.ids);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(600);
    expect((await rowsOf()).every((r) => r.status === 'done')).toBe(true);
  });

  test('a pace of 5 requests per second is never exceeded in any one-second window', async () => {
    const sink = new BatchSink(name, 1, now, [], limiterFor({ kind: 'requests_per_window', requests: 5, windowMs: 1000, description: '5/s' }));
    for (let i = 0; i < 23; i++) await push(`SKU-${i}`, i);
    const d = dispatcher([sink]);
    // Rounds until everything is out; the limiter's waits advance the fake clock.
    for (let round = 0; round < 50 && (await rowsOf()).some((r) => r.status !== 'done'); round++) await d.drain();
    const times = sink.batches.map((b) => b.at);
    expect(times.length).toBe(23);
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(5);
    // …and it is not slower than it has to be: 23 requests at 5/s fit in a little over 4 s.
    expect(times[times.length - 1]! - times[0]!).toBeLessThanOrEqual(4000);
  });

  test('a 429 with Retry-After 2 s pauses that channel only; its rows keep their attempts and go out after the pause', async () => {
    const paced = new BatchSink(name, 100, now, [() => new DeliveryError('429 Too Many Requests', 2000, false, { rateLimited: true })]);
    const other = new BatchSink(`${name}-other`, 100, now);
    await push('A', 1);
    await push('B', 2);
    await push('C', 3, other.id);
    const d = dispatcher([paced, other]);
    await d.drain();
    expect(other.batches.length).toBe(1);
    expect(paced.batches.length).toBe(1);
    let rows = await rowsOf();
    expect(rows.map((r) => [r.status, r.attempts, r.nextAttemptAt])).toEqual([
      ['pending', 0, new Date(clock + 2000).toISOString()],
      ['pending', 0, new Date(clock + 2000).toISOString()],
    ]);
    // More work for the paused channel waits too; nothing is claimed before the pause ends.
    await push('D', 4);
    clock += 1500;
    await d.drain();
    expect(paced.batches.length).toBe(1);
    clock += 600;
    await d.drain();
    expect(paced.batches.length).toBe(2);
    expect(paced.batches[1]!.payloads.map((p) => (p as { sku: string }).sku)).toEqual(['A', 'B', 'D']);
    rows = await rowsOf();
    expect(rows.map((r) => [r.status, r.attempts])).toEqual([
      ['done', 1],
      ['done', 1],
      ['done', 1],
    ]);
    expect(await store.alerts.list({ limit: 50, status: 'open' })).not.toContainEqual(expect.objectContaining({ channelId: paced.channel.id }));
  });

  test('five failed requests suspend the channel with one alert; it keeps queuing and coalescing, nothing dies; it resumes with the latest levels and the alert is resolved', async () => {
    const down = () => new DeliveryError('HTTP 503 Service Unavailable');
    const sink = new BatchSink(name, 100, now, [down, down, down, down, down]);
    const healthy = new BatchSink(`${name}-other`, 100, now);
    const d = dispatcher([sink, healthy]);
    await push('ART-1', 5);
    for (let i = 0; i < 5; i++) {
      await d.drain();
      clock += cfg.maxDelayMs;
    }
    expect(sink.batches.length).toBe(5);
    expect(d.suspendedUntil(name)).not.toBeNull();
    let open = (await store.alerts.list({ limit: 50, status: 'open' })).filter((a) => a.channelId === sink.channel.id);
    expect(open.map((a) => [a.kind, a.severity])).toEqual([['channel_failing', 'critical']]);
    expect(open[0]!.message).toMatch(/failed 5 times in a row.*HTTP 503/);

    // While suspended: sales keep coming, the newer level replaces the waiting one, other channels go on.
    await push('ART-1', 4);
    await push('ART-2', 9);
    await push('X', 1, healthy.id);
    clock += 10_000;
    await d.drain();
    expect(sink.batches.length).toBe(5);
    expect(healthy.batches.length).toBe(1);
    const rows = await rowsOf();
    expect(rows.every((r) => r.status === 'pending')).toBe(true);
    // Past maxAttempts (4), still not a dead letter: a level push is never given up for being late.
    expect(rows[0]!.attempts).toBe(5);

    clock += 20_001;
    await d.drain();
    expect(sink.batches.length).toBe(6);
    expect(sink.batches[5]!.payloads).toEqual([
      { sku: 'ART-1', location: 'gallery', level: 4 },
      { sku: 'ART-2', location: 'gallery', level: 9 },
    ]);
    expect(d.suspendedUntil(name)).toBeNull();
    open = (await store.alerts.list({ limit: 50, status: 'open' })).filter((a) => a.channelId === sink.channel.id);
    expect(open).toEqual([]);
    const resolved = (await store.alerts.list({ limit: 50, status: 'resolved' })).filter((a) => a.channelId === sink.channel.id);
    expect(resolved.map((a) => a.kind)).toEqual(['channel_failing']);
  });

  test('a failed probe suspends again for twice as long, without a second alert', async () => {
    const down = () => new DeliveryError('connect ECONNREFUSED');
    const sink = new BatchSink(name, 100, now, [down, down, down, down, down, down]);
    const d = dispatcher([sink]);
    await push('ART-1', 1);
    for (let i = 0; i < 5; i++) {
      await d.drain();
      clock += cfg.maxDelayMs;
    }
    const first = Date.parse(d.suspendedUntil(name)!);
    clock = first + 1;
    await d.drain();
    expect(sink.batches.length).toBe(6);
    expect(Date.parse(d.suspendedUntil(name)!) - clock).toBe(60_000);
    expect((await store.alerts.list({ limit: 50, status: 'open' })).filter((a) => a.channelId === sink.channel.id).length).toBe(1);
  });

  test('one entry refused in a batch becomes a dead letter; the others are delivered', async () => {
    const sink = new BatchSink(name, 100, now, [(entries) => entries.map((e, i) => (i === 1 ? new DeliveryError(`refused ${(e.payload as { sku: string }).sku}: unknown item`, null, true) : null))]);
    await push('A', 1);
    await push('B', 2);
    await push('C', 3);
    await dispatcher([sink]).drain();
    expect((await rowsOf()).map((r) => r.status)).toEqual(['done', 'dead', 'done']);
    // The channel answered: a refusal is not an outage.
    expect((await store.alerts.list({ limit: 50, status: 'open' })).filter((a) => a.channelId === sink.channel.id)).toEqual([]);
  });

  test('a whole batch refused as "permanent" (a 401, a missing route) is a fault of the channel: rows kept, failures counted, suspended with its alert', async () => {
    // What a channel sink used to make of a whole-request 401: a permanent error for every row.
    const refused = () => new DeliveryError('Online shop: WooCommerce refused the API key (HTTP 401)', null, true);
    const sink = new BatchSink(name, 100, now, [refused, refused, refused]);
    const d = dispatcher([sink], { suspendAfter: 3 });
    await push('A', 1);
    await push('B', 2);
    for (let i = 0; i < 2; i++) {
      await d.drain();
      expect(d.health(name)).toMatchObject({ status: 'failing', failures: i + 1, lastError: expect.stringContaining('401') });
      clock += cfg.maxDelayMs;
    }
    await d.drain();
    expect(sink.batches.length).toBe(3);
    expect(d.health(name)).toMatchObject({ status: 'suspended', failures: 3, suspendedUntil: d.suspendedUntil(name) });
    expect((await rowsOf()).map((r) => [r.status, r.attempts])).toEqual([
      ['pending', 3],
      ['pending', 3],
    ]);
    const open = (await store.alerts.list({ limit: 50, status: 'open' })).filter((a) => a.channelId === sink.channel.id);
    expect(open.map((a) => a.kind)).toEqual(['channel_failing']);
    expect(open[0]!.message).toMatch(/failed 3 times in a row \(last: .*HTTP 401/);
    // It answers again: both rows go out, the alert is resolved, the health is ok.
    clock += 30_001;
    await d.drain();
    expect((await rowsOf()).map((r) => r.status)).toEqual(['done', 'done']);
    expect(d.health(name)).toEqual({ status: 'ok', failures: 0, suspendedUntil: null, lastError: null });
    expect((await store.alerts.list({ limit: 50, status: 'open' })).filter((a) => a.channelId === sink.channel.id)).toEqual([]);
  });

  test('a batch that was only paced (429) neither clears nor adds to the failures in a row', async () => {
    const down = () => new DeliveryError('HTTP 503');
    const paced = () => new DeliveryError('429', 1000, false, { rateLimited: true });
    const sink = new BatchSink(name, 100, now, [down, down, paced, down]);
    const d = dispatcher([sink], { suspendAfter: 3 });
    await push('A', 1);
    for (let i = 0; i < 3; i++) {
      await d.drain();
      clock += cfg.maxDelayMs + 1000;
    }
    expect(d.health(name)).toMatchObject({ status: 'failing', failures: 2 });
    await d.drain();
    expect(sink.batches.length).toBe(4);
    expect(d.health(name)).toMatchObject({ status: 'suspended', failures: 3 });
  });

  test('reads outside the pushes count too; a read that works clears failed reads, never failing pushes', async () => {
    const sink = new BatchSink(name, 100, now, [() => new DeliveryError('HTTP 403 write scope missing')]);
    const d = dispatcher([sink], { suspendAfter: 3 });
    // Failed discovery and reconciliation reads count against the channel…
    await d.requestFailed(name, new Error('WooCommerce refused the API key (HTTP 401)'));
    await d.requestFailed(name, new Error('WooCommerce refused the API key (HTTP 401)'));
    expect(d.health(name)).toMatchObject({ status: 'failing', failures: 2, lastError: expect.stringContaining('401') });
    // …and one that works clears them.
    await d.requestAnswered(name);
    expect(d.health(name)).toMatchObject({ status: 'ok', failures: 0 });
    // A failed push is not cleared by a read that works: a key that may read but not write.
    await push('A', 1);
    await d.drain();
    await d.requestAnswered(name);
    expect(d.health(name)).toMatchObject({ status: 'failing', failures: 1, lastError: 'HTTP 403 write scope missing' });
    await d.requestFailed(name, new Error('no answer'));
    await d.requestFailed(name, new Error('no answer'));
    expect(d.health(name)).toMatchObject({ status: 'suspended', failures: 3 });
    expect((await store.alerts.list({ limit: 50, status: 'open' })).filter((a) => a.channelId === sink.channel.id).map((a) => a.kind)).toEqual(['channel_failing']);
    // A sink that is not a channel has no health, and reads about it are ignored.
    expect(d.health('nobody')).toBeNull();
    await d.requestFailed('nobody', new Error('x'));
  });

  test('an alert left open by an earlier run of the hub is resolved by the first answer of this one', async () => {
    const sink = new BatchSink(name, 100, now);
    await store.alerts.open({ kind: 'channel_failing', severity: 'critical', sku: null, locationId: null, channelId: sink.channel.id, message: 'failed 5 times in a row' }, iso());
    await push('A', 1);
    await dispatcher([sink]).drain();
    expect((await store.alerts.list({ limit: 50, status: 'open' })).filter((a) => a.channelId === sink.channel.id)).toEqual([]);
  });
});

describe('limiters', () => {
  test("Shopify's cost bucket: 2000 points, 100/s, 10 per push — 200 pushes at once, then one every 100 ms", () => {
    const l = limiterFor({ kind: 'cost_bucket', bucketSize: 2000, restorePerSecond: 100, requestCost: 10, description: 'shopify' });
    let t = 0;
    for (let i = 0; i < 200; i++) {
      expect(l.waitMs(10, t)).toBe(0);
      l.take(10, t);
    }
    expect(l.waitMs(10, t)).toBe(100);
    t += 100;
    expect(l.waitMs(10, t)).toBe(0);
    // Refill stops at the bucket size.
    t += 3_600_000;
    l.take(10, t);
    expect(l.waitMs(2000, t)).toBe(100);
  });

  test('unpublished limits never make us wait: only the platform’s 429s do', () => {
    const l = limiterFor({ kind: 'unpublished', description: 'square' });
    for (let i = 0; i < 1000; i++) l.take(1, 0);
    expect(l.waitMs(1, 0)).toBe(0);
  });
});
