/**
 * The dispatcher and the notification webhook sink: retries with backoff and full jitter, dead
 * letters, permanent failures, coalescing, order per key, lease expiry after a crashed worker; the
 * signed notification as a receiver sees it; and the whole path end to end through the API.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { DeliveryError, Dispatcher, backoffMs, type Sink } from '../server/outbox/dispatcher';
import { WebhookSink } from '../server/outbox/webhook-sink';
import { createLogger } from '../server/log';
import { Metrics } from '../server/metrics';
import { openStore } from '../server/store/open';
import type { OutboxEntry, Store } from '../server/store/types';
import { databaseUrl, dropSchema, freshSchema, startHub, tempDir, type StoreKind } from './helpers/hub';

const NOTIFY_SECRET = `whsec_${Buffer.from('notify-secret-for-the-outbox-tests-0123').toString('base64')}`;
const cfg = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, leaseMs: 5000, timeoutMs: 2000 };
const silent = createLogger('silent');

test('backoff is full jitter: between 0 and min(max, base × 2^(attempt−1)), never below Retry-After', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), fc.option(fc.integer({ min: 0, max: 5000 })), (attempt, r, retryAfter) => {
      const cap = Math.min(cfg.maxDelayMs, cfg.baseDelayMs * 2 ** (attempt - 1));
      const d = backoffMs(attempt, cfg, () => r, retryAfter);
      expect(d).toBeGreaterThanOrEqual(retryAfter ?? 0);
      expect(d).toBeLessThanOrEqual(Math.max(cap, retryAfter ?? 0));
    }),
  );
  // Not a constant: different random draws give different delays.
  expect(new Set([0.1, 0.5, 0.9].map((r) => backoffMs(5, cfg, () => r)))).toHaveProperty('size', 3);
});

/** A sink that fails as told and records what it delivered. */
class ScriptedSink implements Sink {
  delivered: unknown[] = [];
  constructor(
    readonly id: string,
    private failures: (Error | null)[] = [],
  ) {}
  async deliver(entry: OutboxEntry): Promise<void> {
    const f = this.failures.shift();
    if (f) throw f;
    this.delivered.push(entry.payload);
  }
}

describe.each<StoreKind>(['sqlite', 'postgres'])('dispatcher on %s', (kind) => {
  let store: Store;
  let schema: string | undefined;
  let clock: Date;

  beforeEach(async () => {
    schema = kind === 'postgres' ? freshSchema('disp') : undefined;
    store = kind === 'postgres' ? await openStore({ databaseUrl: databaseUrl(), pgSchema: schema }) : await openStore({ dataDir: tempDir() });
    clock = new Date('2026-11-22T10:00:00.000Z');
  });
  afterEach(async () => {
    await store.close();
    if (schema) await dropSchema(schema);
  });

  const dispatcher = (sinks: Sink[]) => new Dispatcher(store, sinks, cfg, silent, new Metrics(), () => clock, () => 0.5);
  const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));

  test('a receiver failing twice then answering gets the row once, after two backoffs', async () => {
    const sink = new ScriptedSink('s', [new DeliveryError('HTTP 500'), new Error('socket hang up')]);
    const d = dispatcher([sink]);
    await store.enqueue({ sink: 's', topic: 't', payload: { n: 1 } }, clock.toISOString());
    await d.drain();
    const [row] = await store.listOutbox({ limit: 1 });
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lastError: 'HTTP 500' });
    // Full jitter at random 0.5: half of base × 2^0.
    expect(Date.parse(row!.nextAttemptAt) - clock.getTime()).toBe(50);
    advance(50);
    await d.drain();
    expect((await store.getOutbox(row!.id))!.lastError).toBe('socket hang up');
    advance(1000);
    await d.drain();
    expect(sink.delivered).toEqual([{ n: 1 }]);
    expect(await store.getOutbox(row!.id)).toMatchObject({ status: 'done', attempts: 3 });
  });

  test('a receiver that never recovers turns the row into a dead letter after maxAttempts', async () => {
    const sink = new ScriptedSink('s', Array.from({ length: 10 }, () => new DeliveryError('HTTP 503')));
    const d = dispatcher([sink]);
    await store.enqueue({ sink: 's', topic: 't', payload: {} }, clock.toISOString());
    for (let i = 0; i < 10; i++) {
      await d.drain();
      advance(2000);
    }
    expect(await store.listOutbox({ limit: 10, status: 'dead' })).toEqual([expect.objectContaining({ attempts: cfg.maxAttempts, lastError: 'HTTP 503' })]);
    expect(sink.delivered).toEqual([]);
  });

  test('a permanent failure is a dead letter at once; an unknown sink too, with a reason', async () => {
    const d = dispatcher([new ScriptedSink('s', [new DeliveryError('HTTP 410: gone', null, true)])]);
    await store.enqueue({ sink: 's', topic: 't', payload: {} }, clock.toISOString());
    await store.enqueue({ sink: 'removed', topic: 't', payload: {} }, clock.toISOString());
    await d.drain();
    const dead = await store.listOutbox({ limit: 10, status: 'dead' });
    expect(dead.map((r) => [r.sink, r.attempts])).toEqual([
      ['removed', 1],
      ['s', 1],
    ]);
    expect(dead[0]!.lastError).toMatch(/No sink "removed" is configured/);
  });

  test('states queued for one key before dispatch are delivered once, latest only', async () => {
    const sink = new ScriptedSink('s');
    for (let n = 1; n <= 5; n++) await store.enqueue({ sink: 's', topic: 't', coalesceKey: 'level:A', payload: { n } }, clock.toISOString());
    await dispatcher([sink]).drain();
    expect(sink.delivered).toEqual([{ n: 5 }]);
  });

  test('per key, states are delivered in order, even when a newer one arrives while an older one fails', async () => {
    const sink = new ScriptedSink('s', [new DeliveryError('HTTP 500')]);
    const d = dispatcher([sink]);
    await store.enqueue({ sink: 's', topic: 't', coalesceKey: 'k', payload: { n: 1 } }, clock.toISOString());
    await store.enqueue({ sink: 's', topic: 't', coalesceKey: 'other', payload: { other: true } }, clock.toISOString());
    const [first] = await store.claimOutbox(1, cfg.leaseMs, clock.toISOString());
    await store.enqueue({ sink: 's', topic: 't', coalesceKey: 'k', payload: { n: 2 } }, clock.toISOString());
    // The first fails while n: 2 waits: it is superseded, and n: 2 goes out.
    await store.failOutbox(first!.id, 'HTTP 500', clock.toISOString(), clock.toISOString());
    await d.drain();
    advance(2000);
    await d.drain();
    expect(sink.delivered.filter((p) => (p as { n?: number }).n !== undefined)).toEqual([{ n: 2 }]);
    expect((await store.getOutbox(first!.id))!.status).toBe('superseded');
  });

  test('a row claimed by a worker that died is delivered by another dispatcher after its lease', async () => {
    await store.enqueue({ sink: 's', topic: 't', payload: { n: 1 } }, clock.toISOString());
    await store.claimOutbox(10, cfg.leaseMs, clock.toISOString()); // the crashed worker
    const sink = new ScriptedSink('s');
    const d = dispatcher([sink]);
    await d.drain();
    expect(sink.delivered).toEqual([]);
    advance(cfg.leaseMs + 1);
    await d.drain();
    expect(sink.delivered).toEqual([{ n: 1 }]);
  });
});

describe('notification webhook sink', () => {
  let server: http.Server;
  let url: string;
  let replies: ((res: http.ServerResponse) => void)[] = [];
  let received: { headers: http.IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        const reply = replies.shift();
        if (reply) reply(res);
        else res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    replies = [];
    received = [];
  });

  const entry = (id: number): OutboxEntry => ({
    id,
    sink: 'notify:erp',
    topic: 'level.changed',
    coalesceKey: null,
    payload: { sku: 'A', onHand: 3 },
    status: 'working',
    attempts: 1,
    nextAttemptAt: '',
    lockedUntil: null,
    lastError: null,
    createdAt: '',
    updatedAt: '',
  });
  const sink = () => new WebhookSink({ id: 'erp', url, secret: NOTIFY_SECRET, topics: ['level.changed'] });

  test('the delivery is signed so that the receiver verifies it with the standardwebhooks library, and the id is stable across retries', async () => {
    await sink().deliver(entry(7), AbortSignal.timeout(2000));
    await sink().deliver(entry(7), AbortSignal.timeout(2000));
    const [a, b] = received;
    const verified = new Webhook(NOTIFY_SECRET).verify(a!.body, a!.headers as Record<string, string>) as { type: string; data: unknown };
    expect(verified).toMatchObject({ type: 'level.changed', data: { sku: 'A', onHand: 3 } });
    expect(a!.headers['webhook-id']).toBe('msg_outbox_7');
    expect(b!.headers['webhook-id']).toBe('msg_outbox_7');
    expect(() => new Webhook(`whsec_${Buffer.from('another-secret-entirely-0123456789').toString('base64')}`).verify(a!.body, a!.headers as Record<string, string>)).toThrow();
  });

  test('500 is worth retrying, 429 carries its Retry-After, 410 is permanent; no secret in the message', async () => {
    replies = [(res) => res.writeHead(500).end(), (res) => res.writeHead(429, { 'retry-after': '7' }).end(), (res) => res.writeHead(410).end()];
    const errs: DeliveryError[] = [];
    for (let i = 0; i < 3; i++) errs.push(await sink().deliver(entry(1), AbortSignal.timeout(2000)).then(() => { throw new Error('should fail'); }, (e: DeliveryError) => e));
    expect(errs.map((e) => [e.permanent, e.retryAfterMs])).toEqual([
      [false, null],
      [false, 7000],
      [true, null],
    ]);
    expect(errs[0]!.message).toMatch(/HTTP 500/);
    for (const e of errs) expect(e.message).not.toContain(NOTIFY_SECRET.slice(6, 20));
  });

  test('a receiver that is not there is a retryable failure that names the host', async () => {
    const gone = new WebhookSink({ id: 'erp', url: 'http://127.0.0.1:9/hook', secret: NOTIFY_SECRET, topics: ['level.changed'] });
    const e = await gone.deliver(entry(1), AbortSignal.timeout(2000)).catch((x: DeliveryError) => x);
    expect(e).toBeInstanceOf(DeliveryError);
    expect((e as DeliveryError).permanent).toBe(false);
    expect((e as DeliveryError).message).toMatch(/Cannot reach 127\.0\.0\.1:9/);
  });
});

describe.each<StoreKind>(['sqlite', 'postgres'])('notifications end to end on %s', (kind) => {
  test('a booking notifies level.changed and alert.raised; a dead letter shows in the API and its retry delivers', async () => {
    let fail = true;
    const got: { type: string; data: any }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        if (fail) return void res.writeHead(503).end();
        got.push(new Webhook(NOTIFY_SECRET).verify(body, req.headers as Record<string, string>) as { type: string; data: any });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    const t = await startHub(kind, {
      file: { notify: [{ id: 'erp', url: hookUrl, secretEnv: 'ERP_HOOK_SECRET', topics: ['level.changed', 'alert.raised'] }], dispatch: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 } },
      env: { ERP_HOOK_SECRET: NOTIFY_SECRET },
    });
    try {
      await t.api('PUT', '/v1/items/N-1', { title: 'Notified', lowStockThreshold: 2 });
      await t.api('POST', '/v1/items/N-1/adjustments', { quantity: 2, reason: 'restock' });
      for (let i = 0; i < 100; i++) {
        await t.settle();
        if ((await t.api('GET', '/v1/dead-letters')).body.deadLetters.length >= 2) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const dead = (await t.api('GET', '/v1/dead-letters')).body.deadLetters as { id: number; topic: string; lastError: string }[];
      expect(dead.map((d) => d.topic).sort()).toEqual(['alert.raised', 'level.changed']);
      expect(dead[0]!.lastError).toMatch(/HTTP 503/);

      fail = false;
      for (const d of dead) expect((await t.api('POST', `/v1/dead-letters/${d.id}/retry`)).status).toBeLessThan(300);
      for (let i = 0; i < 100 && got.length < 2; i++) {
        await t.settle();
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(got.find((g) => g.type === 'level.changed')!.data).toMatchObject({ sku: 'N-1', locationId: 'main', onHand: 2, available: 2 });
      expect(got.find((g) => g.type === 'alert.raised')!.data.alert).toMatchObject({ kind: 'low_stock', sku: 'N-1' });
      expect((await t.api('GET', '/v1/dead-letters')).body.deadLetters).toEqual([]);
    } finally {
      await t.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
