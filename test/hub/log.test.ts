/**
 * Logs never carry a secret (DESIGN.md invariant 6). First the logger alone (createLogger writing
 * to an in-memory stream): a value at every path of REDACT_PATHS is replaced. Then a whole hub on
 * each store, logging at debug level into a buffer, fed signed and forged relays, admin calls with
 * the right and a wrong token, and notifications that fail (one to a receiver answering 500 first,
 * one to a URL with user:password in it): no line holds the relay secret, the admin token, a
 * notification secret, a URL password, or any webhook-signature value that was sent or received.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { REDACT_PATHS, createLogger } from '../../server/log';
import { signRelay } from '../../server/relay/verify';
import { ADMIN_TOKEN, RELAY_SECRET, databaseUrl, startHub, type StoreKind } from '../helpers/hub';
import { STORES } from '../helpers/stores';

const FORGED_SECRET = `whsec_${Buffer.from('a-secret-the-hub-does-not-know-01234567').toString('base64')}`;
const NOTIFY_SECRET = `whsec_${Buffer.from('notify-secret-for-the-log-tests-01234567').toString('base64')}`;
const URL_PASSWORD = 'basic-auth-pa55word-in-url';
const WRONG_TOKEN = 'wrong-admin-token-0123456789';

/** A pino destination keeping every line in memory. */
function capture() {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, dest, text: () => lines.join('\n') };
}

/** The keys of a pino redaction path: `a.b`, `*.c`, `headers["webhook-signature"]`. */
function keysOf(p: string): string[] {
  return [...p.matchAll(/\["([^"]+)"\]|([^.[\]]+)/g)].map((m) => (m[1] ?? m[2]!) === '*' ? 'ctx' : (m[1] ?? m[2]!));
}

function nest(keys: string[], leaf: unknown): Record<string, unknown> {
  return keys.reduceRight<unknown>((inner, k) => ({ [k]: inner }), leaf) as Record<string, unknown>;
}

function at(obj: unknown, keys: string[]): unknown {
  return keys.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], obj);
}

describe('createLogger', () => {
  test.each(REDACT_PATHS.map((p) => [p]))('a secret string at %s is written as "[redacted]"', (p) => {
    const { lines, dest, text } = capture();
    const log = createLogger('debug', dest);
    const secret = `s3cret-${crypto.randomBytes(8).toString('hex')}`;
    const keys = keysOf(p);
    log.info({ ...nest(keys, secret), beside: 'kept' }, 'a line');
    expect(lines).toHaveLength(1);
    expect(text()).not.toContain(secret);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(at(line, keys)).toBe('[redacted]');
    expect(line).toMatchObject({ beside: 'kept', msg: 'a line', service: 'stockrelay' });
  });

  test('whole objects and arrays at those paths are redacted too: credentials maps, relaySecrets lists, a child logger’s bindings', () => {
    const { dest, text, lines } = capture();
    const log = createLogger('debug', dest);
    log.info({ channel: { id: 'web', credentials: { accessToken: 'shpat_tok_0001' } }, relaySecrets: [RELAY_SECRET, FORGED_SECRET] }, 'objects');
    log.child({ part: 'x', adminToken: ADMIN_TOKEN }).warn({ req: { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'webhook-signature': 'v1,c2lnbmF0dXJlLXZhbHVl' } } }, 'child');
    log.info({ config: { databaseUrl: 'postgres://stock:db-pa55@127.0.0.1/db', adminToken: ADMIN_TOKEN, relaySecrets: [RELAY_SECRET] } }, 'config slice');
    for (const s of ['shpat_tok_0001', RELAY_SECRET.slice(6), FORGED_SECRET.slice(6), ADMIN_TOKEN, 'c2lnbmF0dXJlLXZhbHVl', 'db-pa55']) expect(text()).not.toContain(s);
    const [a, b, c] = lines.map((l) => JSON.parse(l) as any);
    expect(a.channel).toEqual({ id: 'web', credentials: '[redacted]' });
    expect(a.relaySecrets).toBe('[redacted]');
    expect(b.req.headers).toEqual({ authorization: '[redacted]', 'webhook-signature': '[redacted]' });
    expect(c.config).toEqual({ databaseUrl: '[redacted]', adminToken: '[redacted]', relaySecrets: '[redacted]' });
  });

  test('a whole hub config logged by mistake shows no notify secret, channel credential, relay secret, admin token or credential key', () => {
    const lines: string[] = [];
    const log = createLogger('info', { write: (l: string) => void lines.push(l) } as never);
    const config = {
      relaySecrets: ['whsec_top'],
      adminToken: 'admin-top-secret-123',
      credentialKey: 'credential-key-top-secret-0123456789',
      notify: [{ id: 'erp', url: 'https://erp.example/h', secret: 'whsec_notify' }],
      channels: [{ id: 'web', credentials: { accessToken: 'shpat_channel' } }],
    };
    log.info({ config }, 'config');
    log.info({ wrapper: { config } }, 'nested');
    const out = lines.join('');
    for (const secret of ['whsec_top', 'admin-top-secret-123', 'credential-key-top-secret-0123456789', 'whsec_notify', 'shpat_channel']) expect(out).not.toContain(secret);
  });

  test('the level is honoured: debug lines are dropped at info, nothing is written at silent', () => {
    const info = capture();
    createLogger('info', info.dest).debug('hidden');
    createLogger('info', info.dest).info('shown');
    expect(info.lines.map((l) => JSON.parse(l).msg)).toEqual(['shown']);
    const silent = capture();
    createLogger('silent', silent.dest).error({ secret: 'x' }, 'never');
    expect(silent.lines).toEqual([]);
  });
});

describe.each<StoreKind>(STORES)('a whole hub at debug level on %s', (kind) => {
  test('signed and forged relays, admin calls with the right and a wrong token, and failing notifications leave no secret and no signature value in any log line', async () => {
    const sentSignatures: string[] = [];
    let erpCalls = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const sig = req.headers['webhook-signature'];
        if (typeof sig === 'string') sentSignatures.push(...sig.split(' ').map((s) => s.slice(s.indexOf(',') + 1)));
        // The first delivery fails, so the dispatcher logs a retry.
        res.writeHead(erpCalls++ === 0 ? 500 : 204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;

    const { lines, dest, text } = capture();
    // On PostgreSQL, a password in DATABASE_URL (trust authentication lets it through unchecked).
    const dbUrl = kind === 'postgres' ? databaseUrl().replace(/^postgres(ql)?:\/\/([^:@/]+)@/, `postgres://$2:${URL_PASSWORD}-db@`) : undefined;
    const t = await startHub(kind, {
      file: {
        notify: [
          { id: 'erp', url: `http://127.0.0.1:${port}/erp`, secretEnv: 'ERP_HOOK_SECRET', topics: ['level.changed', 'alert.raised'] },
          { id: 'basic', url: `http://hook:${URL_PASSWORD}@127.0.0.1:${port}/basic`, topics: ['level.changed'] },
        ],
        dispatch: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      },
      env: { ERP_HOOK_SECRET: NOTIFY_SECRET, ...(dbUrl ? { DATABASE_URL: dbUrl } : {}) },
      hub: { log: createLogger('debug', dest) },
    });
    const relaySignatures: string[] = [];
    const signedRelay = async (body: unknown, secret = RELAY_SECRET) => {
      const id = `msg_${crypto.randomUUID()}`;
      const when = new Date();
      relaySignatures.push(signRelay(secret, id, JSON.stringify(body), when)['webhook-signature']!.slice(3));
      return t.relay(body, { id, at: when, secret });
    };
    try {
      expect((await signedRelay({ kind: 'catalog_changed', added: [{ sku: 'LOG-1', lowStockThreshold: 5 }], removed: [], occurredAt: new Date().toISOString() })).status).toBe(202);
      expect((await signedRelay({ kind: 'adjustment', sku: 'LOG-1', quantity: 3, reason: 'restock', occurredAt: new Date().toISOString() })).status).toBe(202);
      expect((await signedRelay({ kind: 'adjustment', sku: 'LOG-1', quantity: 3, reason: 'restock', occurredAt: new Date().toISOString() }, FORGED_SECRET)).status).toBe(401);
      expect((await t.api('PUT', '/v1/items/LOG-2', { title: 'Via the API' })).status).toBe(200);
      expect((await t.api('GET', '/v1/items')).status).toBe(200);
      expect((await t.api('GET', '/v1/items', undefined, { authorization: `Bearer ${WRONG_TOKEN}` })).status).toBe(401);
      for (let i = 0; i < 100; i++) {
        await t.settle();
        if ((await t.hub.store.outbox.list({ limit: 10, status: 'dead' })).length > 0 && erpCalls >= 2) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      // The ERP got signed deliveries (one refused, then accepted); the URL with a password never worked.
      expect(erpCalls).toBeGreaterThanOrEqual(2);
      expect(sentSignatures.length).toBeGreaterThanOrEqual(2);
      expect((await t.hub.store.outbox.list({ limit: 10, status: 'dead' })).map((r) => r.sink)).toContain('notify:basic');
      expect(t.hub.store.describe()).not.toContain(URL_PASSWORD);
    } finally {
      await t.close();
      await new Promise<void>((r) => server.close(() => r()));
    }

    const out = text();
    // The things that did happen were logged, at debug level included.
    const msgs = lines.map((l) => JSON.parse(l) as { level: number; msg: string; error?: string });
    expect(msgs.some((m) => m.msg === 'relay refused: signature')).toBe(true);
    expect(msgs.some((m) => m.msg === 'request refused')).toBe(true);
    expect(msgs.some((m) => m.msg === 'inbound event processed' && m.level === 20)).toBe(true);
    expect(msgs.some((m) => m.msg === 'delivery failed; will retry' && /HTTP 500/.test(m.error ?? ''))).toBe(true);
    expect(msgs.some((m) => m.msg === 'delivery gave up: dead letter')).toBe(true);
    // And none of the secrets did.
    const secrets = [RELAY_SECRET.slice(6), FORGED_SECRET.slice(6), NOTIFY_SECRET.slice(6), ADMIN_TOKEN, WRONG_TOKEN, URL_PASSWORD, ...relaySignatures, ...sentSignatures];
    expect(relaySignatures).toHaveLength(3);
    for (const s of secrets) expect(out).not.toContain(s);
    expect(out).not.toMatch(/v1,[A-Za-z0-9+/=]{40,}/);
  });
});
