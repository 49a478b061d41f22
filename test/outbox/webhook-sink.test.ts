/**
 * The notification webhook sink as a receiver sees it: a fake receiver on 127.0.0.1 (node:http)
 * checks the Standard Webhooks signature with the `standardwebhooks` library, and answers with
 * 500, 429 + Retry-After, 410, a redirect, silence, or nothing at all (connection refused). Each
 * answer is mapped to a retryable or permanent DeliveryError with a readable message that never
 * carries a secret; through a Dispatcher (SQLite store, fake clock) the retry time is honoured.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { DispatchConfig, NotifyConfig } from '../../server/config';
import { createLogger } from '../../server/log';
import { Metrics } from '../../server/metrics';
import { Dispatcher } from '../../server/outbox/dispatcher';
import { DeliveryError } from '../../server/outbox/sink';
import { WebhookSink } from '../../server/outbox/webhook-sink';
import { openStore } from '../../server/store/open';
import type { OutboxEntry } from '../../server/store/types';
import { tempDir } from '../helpers/hub';

const SECRET = `whsec_${Buffer.from('notify-secret-for-the-webhook-sink-tests').toString('base64')}`;
const SECRET_BODY = SECRET.slice('whsec_'.length);
const OTHER = `whsec_${Buffer.from('some-other-secret-the-receiver-might-hold').toString('base64')}`;
const cfg: DispatchConfig = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, leaseMs: 5000, timeoutMs: 2000 };

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
type Reply = (res: http.ServerResponse) => void;

let server: http.Server;
let port: number;
let url: string;
let replies: Reply[] = [];
let received: Received[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const reply = replies.shift();
      if (reply) reply(res);
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
  url = `http://127.0.0.1:${port}/hooks/stock`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});
beforeEach(() => {
  replies = [];
  received = [];
});

const entry = (id: number, over: Partial<OutboxEntry> = {}): OutboxEntry => ({
  id,
  sink: 'notify:erp',
  topic: 'level.changed',
  coalesceKey: `level:A-1:main:erp`,
  payload: { sku: 'A-1', locationId: 'main', onHand: 3, reserved: 0, available: 3, channels: [] },
  status: 'working',
  attempts: 1,
  nextAttemptAt: '2026-11-22T10:00:00.000Z',
  lockedUntil: null,
  lastError: null,
  createdAt: '2026-11-22T10:00:00.000Z',
  updatedAt: '2026-11-22T10:00:00.000Z',
  ...over,
});
const notify = (over: Partial<NotifyConfig> = {}): NotifyConfig => ({ id: 'erp', url, secret: SECRET, topics: ['level.changed', 'alert.raised'], format: 'standard', ...over });

/** Delivers and returns the DeliveryError it must fail with. */
async function failure(sink: WebhookSink, e: OutboxEntry = entry(1), signal: AbortSignal = AbortSignal.timeout(5000)): Promise<DeliveryError> {
  const err = await sink.deliver(e, signal).then(
    () => null,
    (x: unknown) => x,
  );
  if (!(err instanceof DeliveryError)) throw new Error(`expected a DeliveryError, got ${String(err)}`);
  return err;
}

/** A port on 127.0.0.1 where nothing listens (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

describe('what the receiver gets', () => {
  test('a POST of {type, timestamp, data} with webhook-id, webhook-timestamp and webhook-signature that verify with the standardwebhooks library and the configured secret', async () => {
    const at = new Date();
    await new WebhookSink(notify(), () => at).deliver(entry(42), AbortSignal.timeout(5000));
    expect(received).toHaveLength(1);
    const [r] = received;
    expect(r).toMatchObject({ method: 'POST', url: '/hooks/stock' });
    expect(r!.headers['content-type']).toBe('application/json');
    expect(r!.headers['webhook-id']).toBe('msg_outbox_42');
    expect(r!.headers['webhook-timestamp']).toBe(String(Math.floor(at.getTime() / 1000)));
    expect(r!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]{40,}$/);

    const verified = new Webhook(SECRET).verify(r!.body, r!.headers as Record<string, string>);
    expect(verified).toEqual({ type: 'level.changed', timestamp: at.toISOString(), data: entry(42).payload });
    // Another secret, or a body changed on the way, does not verify.
    expect(() => new Webhook(OTHER).verify(r!.body, r!.headers as Record<string, string>)).toThrow();
    expect(() => new Webhook(SECRET).verify(r!.body.replace('"onHand":3', '"onHand":30'), r!.headers as Record<string, string>)).toThrow();
    // The secret itself never travels.
    expect(JSON.stringify(r)).not.toContain(SECRET_BODY);
  });

  test('the webhook-id is the same on every retry of one outbox row (500, 503, then 204 through a Dispatcher) and differs between rows; each attempt is signed afresh', async () => {
    const store = await openStore({ dataDir: tempDir() });
    try {
      let clock = new Date();
      const sink = new WebhookSink(notify(), () => clock);
      const d = new Dispatcher(store, [sink], cfg, createLogger('silent'), new Metrics(), () => clock, () => 0.5);
      replies = [(res) => res.writeHead(500).end(), (res) => res.writeHead(503).end()];
      await store.outbox.enqueue({ sink: sink.id, topic: 'level.changed', coalesceKey: 'level:A-1:main:erp', payload: { sku: 'A-1', onHand: 3 } }, clock.toISOString());
      for (let i = 0; i < 3; i++) {
        await d.drain();
        clock = new Date(clock.getTime() + cfg.maxDelayMs + 1000);
      }
      await store.outbox.enqueue({ sink: sink.id, topic: 'alert.raised', payload: { alert: { kind: 'low_stock' } } }, clock.toISOString());
      await d.drain();

      expect(received).toHaveLength(4);
      const ids = received.map((r) => r.headers['webhook-id']);
      const [row] = (await store.outbox.list({ limit: 10 })).sort((a, b) => a.id - b.id);
      expect(ids.slice(0, 3)).toEqual([`msg_outbox_${row!.id}`, `msg_outbox_${row!.id}`, `msg_outbox_${row!.id}`]);
      expect(ids[3]).not.toBe(ids[0]);
      expect(new Set(received.slice(0, 3).map((r) => r.headers['webhook-timestamp'])).size).toBe(3);
      for (const r of received) expect(() => new Webhook(SECRET).verify(r.body, r.headers as Record<string, string>)).not.toThrow();
      expect(await store.outbox.get(row!.id)).toMatchObject({ status: 'done', attempts: 3 });
    } finally {
      await store.close();
    }
  });

  test('without a secret configured the POST is sent unsigned, still with webhook-id and webhook-timestamp to dedupe on', async () => {
    await new WebhookSink(notify({ secret: null })).deliver(entry(1), AbortSignal.timeout(5000));
    expect(received[0]!.headers['webhook-signature']).toBeUndefined();
    expect(received[0]!.headers['webhook-id']).toBe('msg_outbox_1');
    expect(received[0]!.headers['webhook-timestamp']).toMatch(/^\d+$/);
    expect(JSON.parse(received[0]!.body)).toMatchObject({ type: 'level.changed', data: { sku: 'A-1' } });
  });

  test('format "slack": the body is Slack’s incoming-webhook {"text"}, one readable line per alert', async () => {
    const alert = { id: 7, kind: 'channel_failing', severity: 'critical', sku: null, locationId: null, channelId: 'web', message: 'Web store failed 5 times in a row (last: HTTP 503).', status: 'open', openedAt: '2026-11-23T10:00:00.000Z', resolvedAt: null };
    await new WebhookSink(notify({ secret: null, format: 'slack' })).deliver(entry(2, { topic: 'alert.raised', payload: { alert } }), AbortSignal.timeout(5000));
    expect(JSON.parse(received[0]!.body)).toEqual({ text: ':rotating_light: *stockrelay critical*: Web store failed 5 times in a row (last: HTTP 503).' });
  });
});

describe('how answers and failures are classified', () => {
  test('2xx answers (200 with a body, 202, 204) are deliveries', async () => {
    replies = [(res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks'), (res) => res.writeHead(202).end(), (res) => res.writeHead(204).end()];
    for (let i = 0; i < 3; i++) await expect(new WebhookSink(notify()).deliver(entry(i), AbortSignal.timeout(5000))).resolves.toBeUndefined();
  });

  test('500 → a retryable DeliveryError naming the host and the status, with no Retry-After', async () => {
    replies = [(res) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`internal error; we were given ${SECRET}`)];
    const e = await failure(new WebhookSink(notify()));
    expect(e).toMatchObject({ permanent: false, retryAfterMs: null });
    expect(e.message).toBe(`127.0.0.1:${port} answered HTTP 500.`);
  });

  test('429 with Retry-After: 7 → retryable with retryAfterMs 7000; an HTTP-date Retry-After is measured from the sink clock', async () => {
    const at = new Date('2026-11-22T10:00:00.000Z');
    replies = [(res) => res.writeHead(429, { 'retry-after': '7' }).end(), (res) => res.writeHead(503, { 'retry-after': new Date(at.getTime() + 90_000).toUTCString() }).end()];
    const sink = new WebhookSink(notify(), () => at);
    const a = await failure(sink);
    expect(a).toMatchObject({ permanent: false, retryAfterMs: 7000 });
    expect(a.message).toMatch(/HTTP 429/);
    const b = await failure(sink);
    expect(b).toMatchObject({ permanent: false, retryAfterMs: 90_000 });
  });

  test('429 with Retry-After: 30 through a Dispatcher: the row is not tried again before 30 s on its clock, and is delivered at 30 s', async () => {
    const store = await openStore({ dataDir: tempDir() });
    try {
      let clock = new Date('2026-11-22T10:00:00.000Z');
      const sink = new WebhookSink(notify(), () => clock);
      const d = new Dispatcher(store, [sink], cfg, createLogger('silent'), new Metrics(), () => clock, () => 0.999);
      replies = [(res) => res.writeHead(429, { 'retry-after': '30' }).end()];
      await store.outbox.enqueue({ sink: sink.id, topic: 'level.changed', payload: { sku: 'A-1' } }, clock.toISOString());
      const start = clock.getTime();
      await d.drain();
      const [row] = await store.outbox.list({ limit: 1 });
      expect(row).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.stringMatching(/HTTP 429/) });
      // Backoff alone would be at most 100 ms here; the receiver's 30 s win.
      expect(Date.parse(row!.nextAttemptAt) - start).toBe(30_000);
      clock = new Date(start + 29_999);
      expect(await d.drain()).toBe(0);
      expect(received).toHaveLength(1);
      clock = new Date(start + 30_000);
      expect(await d.drain()).toBe(1);
      expect(received).toHaveLength(2);
      expect(await store.outbox.get(row!.id)).toMatchObject({ status: 'done', attempts: 2 });
    } finally {
      await store.close();
    }
  });

  test('410 Gone → a permanent DeliveryError; through a Dispatcher the row is a dead letter after one attempt', async () => {
    replies = [(res) => res.writeHead(410).end()];
    const e = await failure(new WebhookSink(notify()));
    expect(e).toMatchObject({ permanent: true });
    expect(e.message).toBe(`127.0.0.1:${port} answered HTTP 410.`);

    const store = await openStore({ dataDir: tempDir() });
    try {
      const clock = new Date('2026-11-22T10:00:00.000Z');
      const sink = new WebhookSink(notify(), () => clock);
      replies = [(res) => res.writeHead(410).end()];
      await store.outbox.enqueue({ sink: sink.id, topic: 'level.changed', payload: {} }, clock.toISOString());
      await new Dispatcher(store, [sink], cfg, createLogger('silent'), new Metrics(), () => clock, () => 0.5).drain();
      expect(await store.outbox.list({ limit: 10, status: 'dead' })).toEqual([expect.objectContaining({ attempts: 1, lastError: `127.0.0.1:${port} answered HTTP 410.` })]);
    } finally {
      await store.close();
    }
  });

  test('4xx other than 410 (400, 404) and a redirect are retryable, not followed, and say what happened', async () => {
    replies = [(res) => res.writeHead(400).end(), (res) => res.writeHead(404).end(), (res) => res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` }).end()];
    const sink = new WebhookSink(notify());
    expect(await failure(sink)).toMatchObject({ permanent: false, message: `127.0.0.1:${port} answered HTTP 400.` });
    expect(await failure(sink)).toMatchObject({ permanent: false, message: `127.0.0.1:${port} answered HTTP 404.` });
    const redirect = await failure(sink);
    expect(redirect.permanent).toBe(false);
    expect(redirect.message).toMatch(/redirect/i);
    expect(received.map((r) => r.url)).toEqual(['/hooks/stock', '/hooks/stock', '/hooks/stock']);
  });

  test('connection refused → a retryable DeliveryError naming the host and saying the connection was refused', async () => {
    const p = await closedPort();
    const e = await failure(new WebhookSink(notify({ url: `http://127.0.0.1:${p}/hooks/stock` })));
    expect(e).toMatchObject({ permanent: false, retryAfterMs: null });
    expect(e.message).toContain(`127.0.0.1:${p}`);
    expect(e.message).toMatch(/ECONNREFUSED|refused/i);
  });

  test('a receiver that never answers: when the signal times out the sink fails retryably with "<host> did not answer in time.", and a Dispatcher (timeoutMs 200) reschedules the row with that error', async () => {
    replies = [() => undefined];
    const e = await failure(new WebhookSink(notify()), entry(1), AbortSignal.timeout(200));
    expect(e).toMatchObject({ permanent: false, retryAfterMs: null, message: `127.0.0.1:${port} did not answer in time.` });

    const store = await openStore({ dataDir: tempDir() });
    try {
      const clock = new Date('2026-11-22T10:00:00.000Z');
      const sink = new WebhookSink(notify(), () => clock);
      replies = [() => undefined];
      await store.outbox.enqueue({ sink: sink.id, topic: 'level.changed', payload: {} }, clock.toISOString());
      await new Dispatcher(store, [sink], { ...cfg, timeoutMs: 200 }, createLogger('silent'), new Metrics(), () => clock, () => 0.5).drain();
      expect(await store.outbox.list({ limit: 10 })).toEqual([expect.objectContaining({ status: 'pending', attempts: 1, lastError: `127.0.0.1:${port} did not answer in time.` })]);
    } finally {
      await store.close();
    }
  });
});

describe('no secret in error messages', () => {
  test('neither the signing secret nor credentials or a token in the URL appear in any failure message (HTTP errors, refused, timeout, a URL with user:password)', async () => {
    const p = await closedPort();
    const secrets = [SECRET, SECRET_BODY, 'hunter2-basic-password', 'tok_query_0123456789'];
    const errors: DeliveryError[] = [];
    replies = [(res) => res.writeHead(500).end(SECRET), (res) => res.writeHead(429, { 'retry-after': '1' }).end(), (res) => res.writeHead(410).end()];
    const withToken = new WebhookSink(notify({ url: `${url}?token=tok_query_0123456789` }));
    for (let i = 0; i < 3; i++) errors.push(await failure(withToken));
    errors.push(await failure(new WebhookSink(notify({ url: `http://127.0.0.1:${p}/x?token=tok_query_0123456789` }))));
    replies = [() => undefined];
    errors.push(await failure(withToken, entry(1), AbortSignal.timeout(150)));
    // fetch refuses URLs with credentials, and its own message quotes the whole URL.
    errors.push(await failure(new WebhookSink(notify({ url: `http://hookuser:hunter2-basic-password@127.0.0.1:${port}/hooks/stock` }))));
    expect(errors).toHaveLength(6);
    for (const e of errors) for (const s of secrets) expect(e.message).not.toContain(s);
    expect(errors[5]!.message).toContain(`127.0.0.1:${port}`);
  });
});
