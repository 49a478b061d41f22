/**
 * Credentials (issue #15 item 10, docs/security.md), through HTTP on a started hub: each source gets
 * a credential that can do only what it needs. A sidebar credential reads, adjusts, decides
 * conflicts and sends purchase orders, and is refused every other route; a relay credential relays
 * and nothing else; revoking and rotating count from the next request, without a restart; no token
 * or relay secret reaches a log or a list. Every route of the OpenAPI document has a decided scope.
 */
import { Writable } from 'node:stream';
import { buildCli } from '../../server/cli';
import { openApiDocument } from '../../server/api/openapi';
import { ROUTE_SCOPES } from '../../server/api/scopes';
import { createLogger } from '../../server/log';
import { RelayVerifier, signRelay } from '../../server/relay/verify';
import { ADMIN_TOKEN, RELAY_SECRET, startHub, type TestHub } from '../helpers/hub';

jest.setTimeout(60_000);

/** Everything the hub logged, at debug level. */
const logged: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, cb) {
    logged.push(chunk.toString('utf8'));
    cb();
  },
});

let t: TestHub;
beforeAll(async () => {
  t = await startHub('sqlite', {
    file: { locations: [{ id: 'gallery', name: 'Gallery' }] },
    hub: { log: createLogger('debug', sink) },
  });
  for (const sku of ['ART-1', 'ART-2']) expect((await t.api('PUT', `/v1/items/${sku}`, { title: `Work ${sku}` })).status).toBe(200);
  expect((await t.api('POST', '/v1/items/ART-1/counts', { location: 'gallery', counted: 10 })).status).toBe(200);
});
afterAll(async () => {
  await t.close();
});

/** Every secret the hub handed out in this file: none may appear in a log or a list. */
const handedOut: string[] = [];

interface Issued {
  id: number;
  token: string | null;
  relaySecret: string | null;
}

async function create(name: string, scopes: string[]): Promise<Issued> {
  const res = await t.api('POST', '/v1/credentials', { name, scopes });
  expect(res.status).toBe(201);
  const { credential, token, relaySecret } = res.body as { credential: { id: number }; token: string | null; relaySecret: string | null };
  for (const s of [token, relaySecret]) if (s) handedOut.push(s);
  return { id: credential.id, token, relaySecret };
}

async function as(token: string | null, method: string, p: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(t.url + p, {
    method,
    headers: { ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* keep the text */
  }
  return { status: res.status, body: parsed };
}

const level = async (sku: string) => (await t.api('GET', `/v1/items/${sku}`)).body.locations.find((l: { locationId: string }) => l.locationId === 'gallery').onHand as number;
const eventCount = async () => Object.values(await t.hub.store.inbox.count()).reduce((a, b) => a + b, 0);

describe('what each credential can do', () => {
  test('a sidebar credential reads levels, movements, alerts and conflicts, adjusts, decides a conflict, sends a purchase order, and relays the sheet’s edits', async () => {
    const c = await create('Shop sheet', ['sidebar']);
    expect(c.token).toMatch(/^srt_[A-Za-z0-9_-]{43}$/);
    expect(c.relaySecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    expect(await as(c.token, 'GET', '/v1/whoami')).toMatchObject({ status: 200, body: { kind: 'credential', credential: { id: c.id, name: 'Shop sheet', scopes: ['sidebar'] } } });
    expect((await as(c.token, 'GET', '/v1/items/ART-1')).body).toMatchObject({ sku: 'ART-1', onHand: 10 });
    expect((await as(c.token, 'GET', '/v1/items/ART-1/movements')).status).toBe(200);
    expect((await as(c.token, 'GET', '/v1/alerts?status=open')).status).toBe(200);
    expect((await as(c.token, 'GET', '/v1/locations')).body).toEqual({ locations: [{ id: 'gallery', name: 'Gallery' }] });

    // Adjust: booked, and the level follows.
    const adj = await as(c.token, 'POST', '/v1/items/ART-1/adjustments', { location: 'gallery', quantity: -2, reason: 'adjustment', note: 'frame cracked', actor: 'mia' });
    expect(adj).toMatchObject({ status: 200, body: { status: 'processed' } });
    expect(await level('ART-1')).toBe(8);

    // A cell edit signed with the credential's relay secret, typed over an old number: a conflict.
    const raw = JSON.stringify({ kind: 'cell_edit', origin: 'sheet', sku: 'ART-1', field: 'on_hand', location: 'gallery', oldValue: 10, newValue: 12, actor: 'mia', editedAt: new Date().toISOString(), sheet: 'Catalog', row: 2 });
    const relayed = await t.relay(undefined, { raw, secret: c.relaySecret! });
    expect(relayed.status).toBe(202);
    await t.settle();
    const conflicts = await as(c.token, 'GET', '/v1/conflicts');
    expect(conflicts.body.conflicts).toEqual([expect.objectContaining({ sku: 'ART-1', typed: 12, hubHad: 8, status: 'open' })]);
    const stored = await t.hub.store.inbox.get(relayed.body.eventId);
    expect(stored!.headers).toMatchObject({ 'x-stockrelay-credential': String(c.id) });

    // Decide it: the count typed is booked.
    const decided = await as(c.token, 'POST', `/v1/conflicts/${conflicts.body.conflicts[0].id}/accept`, { actor: 'mia', origin: 'sidebar' });
    expect(decided).toMatchObject({ status: 200, body: { conflict: { status: 'accepted' } } });
    expect(await level('ART-1')).toBe(12);

    // A purchase order: stored, and read back.
    const po = await as(c.token, 'POST', '/v1/purchase-orders', { number: 'PO-C1', customer: 'Acme Pty Ltd', lines: [{ sku: 'ART-1', quantity: 2 }] });
    expect(po.status).toBe(201);
    expect((await as(c.token, 'GET', '/v1/purchase-orders/PO-C1')).body).toMatchObject({ number: 'PO-C1', lines: [expect.objectContaining({ sku: 'ART-1', ordered: 2 })] });
  });

  test('a sidebar credential is refused the supplier’s routes with 403, and nothing is changed', async () => {
    const c = await create('Shop sheet 2', ['sidebar']);
    expect((await as(c.token, 'GET', '/v1/whoami')).status).toBe(200); // used once, so its last use is set before
    const before = { events: await eventCount(), credentials: (await t.api('GET', '/v1/credentials')).body, item: (await t.api('GET', '/v1/items/ART-2')).body };
    const refused = [
      ['GET', '/v1/events', undefined],
      ['GET', '/v1/credentials', undefined],
      ['POST', '/v1/credentials', { name: 'mine now', scopes: ['sidebar'] }],
      ['DELETE', `/v1/credentials/${c.id}`, undefined],
      ['POST', `/v1/credentials/${c.id}/rotate`, undefined],
      ['PUT', '/v1/items/ART-2', { title: 'Renamed by an editor' }],
      ['PUT', '/v1/items/ART-2/reorder', { leadTimeDays: 3 }],
      ['POST', '/v1/reconcile', {}],
      ['GET', '/v1/orders/export', undefined],
      ['GET', '/v1/reports/sales', undefined],
      ['GET', '/v1/dead-letters', undefined],
    ] as const;
    for (const [method, p, body] of refused) {
      const res = await as(c.token, method, p, body);
      expect({ route: `${method} ${p}`, status: res.status, code: res.body.error?.code }).toEqual({ route: `${method} ${p}`, status: 403, code: 'forbidden' });
      expect(res.body.error.message).toMatch(/may not call .*only the admin token may.*Nothing was changed\./);
    }
    expect({ events: await eventCount(), credentials: (await t.api('GET', '/v1/credentials')).body, item: (await t.api('GET', '/v1/items/ART-2')).body }).toEqual(before);
  });

  test('a relay credential relays (its answer signed with its own secret) and can do nothing else', async () => {
    const c = await create('Airtable: Gallery base', ['relay']);
    expect(c.token).toBeNull();
    const raw = JSON.stringify({ kind: 'adjustment', origin: 'airtable', sku: 'ART-2', location: 'gallery', quantity: 3, reason: 'restock', occurredAt: new Date().toISOString() });
    const id = 'airtable-adj-rec1';
    const res = await fetch(t.url + '/v1/relay', { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...signRelay(c.relaySecret!, id, raw) } });
    const text = await res.text();
    expect(res.status).toBe(202);
    // The Airtable scripts check the answer with the secret they hold: the credential's.
    const answer = new RelayVerifier([c.relaySecret!]).verify(Buffer.from(text), Object.fromEntries(res.headers));
    expect(answer.valid).toBe(true);
    expect(new RelayVerifier([RELAY_SECRET]).verify(Buffer.from(text), Object.fromEntries(res.headers)).valid).toBe(false);
    await t.settle();
    expect(await level('ART-2')).toBe(3);

    // Its relay secret is no bearer token.
    const before = await eventCount();
    for (const [method, p] of [['GET', '/v1/items/ART-2'], ['GET', '/v1/whoami'], ['POST', '/v1/items/ART-2/adjustments']] as const) {
      expect((await as(c.relaySecret, method, p, method === 'POST' ? { quantity: 1, reason: 'restock' } : undefined)).status).toBe(401);
    }
    expect(await eventCount()).toBe(before);
    expect((await t.api('GET', '/v1/credentials')).body.credentials).toContainEqual(expect.objectContaining({ id: c.id, scopes: ['relay'], tokenPrefix: null, relaySecretPrefix: c.relaySecret!.slice(0, 10), lastUsedAt: expect.any(String) }));
  });

  test('a read credential reads and changes nothing', async () => {
    const c = await create('Weekly report', ['read']);
    expect(c.relaySecret).toBeNull();
    expect((await as(c.token, 'GET', '/v1/items/ART-1')).status).toBe(200);
    expect((await as(c.token, 'GET', '/v1/reorder')).status).toBe(200);
    const before = await level('ART-1');
    const res = await as(c.token, 'POST', '/v1/items/ART-1/adjustments', { location: 'gallery', quantity: 5, reason: 'restock' });
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: expect.stringMatching(/needs a credential with scope sidebar/) } } });
    expect(await level('ART-1')).toBe(before);
  });
});

/**
 * The scope of every route, written out here independently of server/api/scopes.ts: a route added
 * to the document without a decision fails the first test below until it is listed in both.
 */
const EXPECTED: Record<string, string[]> = {
  'GET /v1/whoami': ['sidebar', 'read'],
  'GET /v1/locations': ['sidebar', 'read'],
  'GET /v1/channels': ['sidebar', 'read'],
  'GET /v1/channels/{channelId}': ['sidebar', 'read'],
  'GET /v1/channels/{channelId}/listings': ['sidebar', 'read'],
  'GET /v1/items': ['sidebar', 'read'],
  'GET /v1/items/{sku}': ['sidebar', 'read'],
  'GET /v1/items/{sku}/movements': ['sidebar', 'read'],
  'GET /v1/alerts': ['sidebar', 'read'],
  'GET /v1/conflicts': ['sidebar', 'read'],
  'GET /v1/conflicts/{id}': ['sidebar', 'read'],
  'GET /v1/purchase-orders': ['sidebar', 'read'],
  'GET /v1/purchase-orders/{number}': ['sidebar', 'read'],
  'GET /v1/reports/dashboard': ['sidebar', 'read'],
  'GET /v1/reorder': ['sidebar', 'read'],
  'POST /v1/items/{sku}/adjustments': ['sidebar'],
  'POST /v1/items/{sku}/counts': ['sidebar'],
  'POST /v1/conflicts/{id}/accept': ['sidebar'],
  'POST /v1/conflicts/{id}/reject': ['sidebar'],
  'POST /v1/purchase-orders': ['sidebar'],
  'POST /v1/purchase-orders/{number}/cancel': ['sidebar'],
  'PUT /v1/items/{sku}': [],
  'PUT /v1/items/{sku}/reorder': [],
  'POST /v1/reorder/check': [],
  'POST /v1/purchase-orders/{number}/fulfil': [],
  'POST /v1/reconcile': [],
  'POST /v1/channels/{channelId}/discover': [],
  'GET /v1/sandbox': [],
  'GET /v1/sandbox/levels/{sku}': [],
  'POST /v1/sandbox/channels/{channelId}/sales': [],
  'POST /v1/sandbox/channels/{channelId}/refunds': [],
  'GET /v1/events': [],
  'GET /v1/events/{id}': [],
  'POST /v1/events/{id}/retry': [],
  'GET /v1/dead-letters': [],
  'POST /v1/dead-letters/{id}/retry': [],
  'GET /v1/orders': [],
  'GET /v1/orders/export': [],
  'GET /v1/orders/{id}': [],
  'GET /v1/audit': [],
  'POST /v1/supplier-orders': [],
  'GET /v1/supplier-orders': [],
  'GET /v1/supplier-orders/{number}': [],
  'POST /v1/supplier-orders/{number}/receipts': [],
  'POST /v1/supplier-orders/{number}/status': [],
  'GET /v1/reports/sales': [],
  'GET /v1/credentials': [],
  'POST /v1/credentials': [],
  'POST /v1/credentials/{id}/rotate': [],
  'DELETE /v1/credentials/{id}': [],
};

/** The routes that take no bearer token: signed by other means, or open to all. */
const NOT_BEARER = ['POST /v1/relay', 'POST /v1/webhooks/{channelId}', 'POST /v1/airtable/webhook', 'GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /openapi.json'];

function operations(): { key: string; method: string; path: string; security: Record<string, string[]>[] | undefined }[] {
  const out = [];
  for (const [path, item] of Object.entries(openApiDocument.paths)) {
    for (const [method, op] of Object.entries(item as Record<string, { security?: Record<string, string[]>[] }>)) {
      if (!['get', 'put', 'post', 'delete', 'patch'].includes(method)) continue;
      out.push({ key: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, security: op.security });
    }
  }
  return out;
}

describe('every route has a decided scope', () => {
  test('each operation of the OpenAPI document is either signed/open or has a scope decided in server/api/scopes.ts, and the document says it', () => {
    const undecided: string[] = [];
    for (const op of operations()) {
      if (NOT_BEARER.includes(op.key)) {
        expect({ key: op.key, bearer: op.security?.some((s) => 'adminToken' in s) ?? false }).toEqual({ key: op.key, bearer: false });
        continue;
      }
      if (!(op.key in EXPECTED) || !(op.key in ROUTE_SCOPES)) {
        undecided.push(op.key);
        continue;
      }
      expect({ key: op.key, scopes: [...ROUTE_SCOPES[op.key]!] }).toEqual({ key: op.key, scopes: EXPECTED[op.key] });
      expect({ key: op.key, security: op.security }).toEqual({ key: op.key, security: [{ adminToken: [] }, ...EXPECTED[op.key]!.map((s) => ({ credentialToken: [s] }))] });
    }
    // A new route: decide who may call it in server/api/scopes.ts (ROUTE_SCOPES) and list it in EXPECTED above.
    expect(undecided).toEqual([]);
    // Nothing listed that the document does not have.
    const documented = new Set(operations().map((o) => o.key));
    expect(Object.keys(ROUTE_SCOPES).filter((k) => !documented.has(k))).toEqual([]);
    expect(Object.keys(EXPECTED).filter((k) => !documented.has(k))).toEqual([]);
  });

  test('through HTTP, each credential is let through exactly the routes its scope lists, the admin token through all, and a refusal changes nothing', async () => {
    const sidebar = await create('Route check: sheet', ['sidebar']);
    const read = await create('Route check: report', ['read']);
    const fill = (p: string) => p.replace('{sku}', 'NOPE-404').replace('{id}', '999999').replace('{channelId}', 'nope').replace('{number}', 'PO-404');
    const before = { events: await eventCount(), credentials: (await t.api('GET', '/v1/credentials')).body.credentials.length };
    const wrong: string[] = [];
    for (const op of operations()) {
      if (NOT_BEARER.includes(op.key)) continue;
      const allowed = EXPECTED[op.key] ?? [];
      const body = ['POST', 'PUT', 'PATCH'].includes(op.method) ? {} : undefined;
      for (const [scope, token] of [['sidebar', sidebar.token], ['read', read.token]] as const) {
        const res = await as(token, op.method, fill(op.path), body);
        const through = res.status !== 401 && res.status !== 403;
        if (through !== allowed.includes(scope)) wrong.push(`${scope} ${op.key}: ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
        if (!through && res.status === 403) expect(res.body.error.code).toBe('forbidden');
      }
    }
    expect(wrong).toEqual([]);
    expect({ events: await eventCount(), credentials: (await t.api('GET', '/v1/credentials')).body.credentials.length }).toEqual(before);
    // The admin token goes through every route (answered by the route itself, never 401 or 403).
    for (const op of operations()) {
      if (NOT_BEARER.includes(op.key)) continue;
      const body = ['POST', 'PUT', 'PATCH'].includes(op.method) ? (op.key === 'POST /v1/credentials' ? { name: '', scopes: [] } : {}) : undefined;
      const res = await as(ADMIN_TOKEN, op.method, fill(op.path), body);
      if (res.status === 401 || res.status === 403) wrong.push(`admin ${op.key}: ${res.status}`);
    }
    expect(wrong).toEqual([]);
  });

  test('an address the document does not have, or a route written differently, is the admin token’s alone', async () => {
    const c = await create('Odd addresses', ['sidebar']);
    expect((await as(c.token, 'GET', '/v1/no-such-thing')).status).toBe(403);
    expect((await as(ADMIN_TOKEN, 'GET', '/v1/no-such-thing')).status).toBe(404);
    // Express routes these to GET /v1/events (case-insensitive, trailing slash): still refused.
    for (const p of ['/v1/EVENTS', '/v1/events/', '/V1/Events?limit=1']) expect({ p, status: (await as(c.token, 'GET', p)).status }).toEqual({ p, status: 403 });
    // And to the routes it may call, however written.
    expect((await as(c.token, 'GET', '/v1/Items/ART-1/')).status).toBe(200);
  });
});

describe('tokens that are missing or wrong, revocation and rotation', () => {
  test('no token, another scheme, or a wrong token: 401 saying what to send', async () => {
    for (const headers of [{} as Record<string, string>, { authorization: `Basic ${ADMIN_TOKEN}` }, { authorization: 'Bearer ' }, { authorization: `Bearer ${ADMIN_TOKEN}x` }, { authorization: `Bearer srt_${'A'.repeat(43)}` }, { authorization: `Bearer ${RELAY_SECRET}` }]) {
      const res = await as(null, 'GET', '/v1/items/ART-1', undefined, headers);
      expect(res).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', message: expect.stringMatching(/Authorization: Bearer <token>.*credentials create/) } } });
    }
  });

  test('revoking counts from the next request, for the token and the relay secret, without a restart; others keep working', async () => {
    const gone = await create('Old laptop sheet', ['sidebar']);
    const stays = await create('Office sheet', ['sidebar']);
    expect((await as(gone.token, 'GET', '/v1/items/ART-1')).status).toBe(200);
    const revoked = await t.api('DELETE', `/v1/credentials/${gone.id}`);
    expect(revoked).toMatchObject({ status: 200, body: { credential: { id: gone.id, status: 'revoked', revokedAt: expect.any(String) }, message: expect.stringMatching(/is revoked/) } });

    const res = await as(gone.token, 'GET', '/v1/items/ART-1');
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'credential_revoked', message: expect.stringMatching(/"Old laptop sheet".*was revoked at/) } } });
    const before = await eventCount();
    const relayed = await t.relay({ kind: 'adjustment', sku: 'ART-1', location: 'gallery', quantity: 1, reason: 'restock', occurredAt: new Date().toISOString() }, { secret: gone.relaySecret! });
    expect(relayed).toMatchObject({ status: 401, body: { error: { code: 'bad_signature' } } });
    expect(await eventCount()).toBe(before);

    expect((await as(stays.token, 'GET', '/v1/items/ART-1')).status).toBe(200);
    expect((await t.relay({ kind: 'sync_request', requestedAt: new Date().toISOString() }, { secret: stays.relaySecret! })).status).toBe(202);
    // The hub-wide relay secret is untouched.
    expect((await t.relay({ kind: 'sync_request', requestedAt: new Date().toISOString() })).status).toBe(202);

    // Revoking again says so and changes nothing; a revoked credential cannot be rotated back.
    expect((await t.api('DELETE', `/v1/credentials/${gone.id}`)).body).toMatchObject({ credential: { revokedAt: revoked.body.credential.revokedAt }, message: expect.stringMatching(/already revoked/) });
    expect(await t.api('POST', `/v1/credentials/${gone.id}/rotate`)).toMatchObject({ status: 409, body: { error: { code: 'credential_revoked' } } });
    expect(await t.api('DELETE', '/v1/credentials/999999')).toMatchObject({ status: 404, body: { error: { code: 'unknown_credential' } } });
  });

  test('a revocation written to the database by someone else (another hub process, the CLI) counts at once too', async () => {
    const c = await create('Shared database', ['sidebar']);
    expect((await as(c.token, 'GET', '/v1/whoami')).status).toBe(200);
    await t.hub.store.credentials.revoke(c.id, new Date().toISOString());
    expect((await as(c.token, 'GET', '/v1/whoami')).status).toBe(401);
    expect((await t.relay({ kind: 'sync_request', requestedAt: new Date().toISOString() }, { secret: c.relaySecret! })).status).toBe(401);
  });

  test('rotating: the old token and relay secret stop, the new ones work, the id and name stay', async () => {
    const c = await create('Rotating sheet', ['sidebar']);
    const r = await t.api('POST', `/v1/credentials/${c.id}/rotate`);
    expect(r).toMatchObject({ status: 200, body: { credential: { id: c.id, name: 'Rotating sheet', status: 'active', rotatedAt: expect.any(String) }, token: expect.stringMatching(/^srt_/), relaySecret: expect.stringMatching(/^whsec_/) } });
    handedOut.push(r.body.token, r.body.relaySecret);
    expect(r.body.token).not.toBe(c.token);
    expect(r.body.relaySecret).not.toBe(c.relaySecret);

    expect(await as(c.token, 'GET', '/v1/items/ART-1')).toMatchObject({ status: 401, body: { error: { code: 'unauthorized', message: expect.stringMatching(/rotated/) } } });
    expect((await as(r.body.token, 'GET', '/v1/items/ART-1')).status).toBe(200);
    const before = await eventCount();
    expect((await t.relay({ kind: 'sync_request', requestedAt: new Date().toISOString() }, { secret: c.relaySecret! })).status).toBe(401);
    expect(await eventCount()).toBe(before);
    expect((await t.relay({ kind: 'sync_request', requestedAt: new Date().toISOString() }, { secret: r.body.relaySecret })).status).toBe(202);
    expect(await t.api('POST', '/v1/credentials/999999/rotate')).toMatchObject({ status: 404, body: { error: { code: 'unknown_credential' } } });
  });

  test('a credential needs a name and a known scope; nothing is made otherwise', async () => {
    const before = (await t.api('GET', '/v1/credentials')).body.credentials.length;
    expect((await t.api('POST', '/v1/credentials', { name: 'x', scopes: ['admin'] })).status).toBe(400);
    expect((await t.api('POST', '/v1/credentials', { name: 'x', scopes: [] })).status).toBe(400);
    expect((await t.api('POST', '/v1/credentials', { name: '   ', scopes: ['read'] })).body).toMatchObject({ error: { code: 'invalid_credential', message: expect.stringMatching(/Give the credential a name/) } });
    expect((await t.api('GET', '/v1/credentials')).body.credentials.length).toBe(before);
  });
});

describe('the CLI', () => {
  async function cli(...args: string[]): Promise<{ out: string; error: string | null }> {
    const out: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    let error: string | null = null;
    try {
      await buildCli()
        .exitOverride()
        .configureOutput({ writeOut: (s) => void out.push(s), writeErr: (s) => void out.push(s) })
        .parseAsync(['node', 'stockrelay', '--hub', t.url, '--token', ADMIN_TOKEN, ...args]);
    } catch (err) {
      error = (err as Error).message;
    } finally {
      spy.mockRestore();
    }
    return { out: out.join('\n'), error };
  }

  test('create prints the secrets once and where to paste them; list shows only their first characters; rotate and revoke work at once', async () => {
    const made = await cli('credentials', 'create', '--name', 'CLI sheet', '--scope', 'sidebar');
    expect(made.error).toBeNull();
    const token = /Token: +(srt_\S+)/.exec(made.out)![1]!;
    const secret = /Relay secret: +(whsec_\S+)/.exec(made.out)![1]!;
    handedOut.push(token, secret);
    expect(made.out).toMatch(/Copy them now/);
    expect(made.out).toMatch(/Connect to hub, and paste the relay secret and the token/);
    const id = Number(/credential (\d+) "CLI sheet"/.exec(made.out)![1]);
    expect((await as(token, 'GET', '/v1/items/ART-1')).status).toBe(200);

    const listed = await cli('credentials', 'list');
    expect(listed.out).toMatch(new RegExp(`${id} +CLI sheet +sidebar +active +${token.slice(0, 10)}… +${secret.slice(0, 10).replace(/[+/]/g, '\\$&')}…`));
    for (const s of handedOut) expect(listed.out).not.toContain(s);

    const rotated = await cli('credentials', 'rotate', String(id));
    expect(rotated.out).toMatch(/Rotated credential \d+ "CLI sheet"/);
    const newToken = /Token: +(srt_\S+)/.exec(rotated.out)![1]!;
    handedOut.push(newToken, /Relay secret: +(whsec_\S+)/.exec(rotated.out)![1]!);
    expect((await as(token, 'GET', '/v1/items/ART-1')).status).toBe(401);
    expect((await as(newToken, 'GET', '/v1/items/ART-1')).status).toBe(200);

    expect((await cli('credentials', 'revoke', String(id))).out).toMatch(/is revoked: its token and relay secret are refused from now on/);
    expect((await as(newToken, 'GET', '/v1/items/ART-1')).status).toBe(401);

    const relay = await cli('credentials', 'create', '--name', 'CLI base', '--scope', 'relay');
    expect(relay.out).toMatch(/relaySecret input variable/);
    expect(relay.out).not.toMatch(/Token:/);
    handedOut.push(/Relay secret: +(whsec_\S+)/.exec(relay.out)![1]!);
  });

  test('a scope that does not exist is refused saying which exist; help explains each scope', async () => {
    const before = (await t.api('GET', '/v1/credentials')).body.credentials.length;
    expect((await cli('credentials', 'create', '--name', 'x', '--scope', 'admin')).error).toMatch(/--scope must be one of sidebar, relay, read, not "admin"/);
    expect((await t.api('GET', '/v1/credentials')).body.credentials.length).toBe(before);
    const out: string[] = [];
    const command = buildCli().commands.find((c) => c.name() === 'credentials')!;
    command.configureOutput({ writeOut: (s) => void out.push(s) });
    command.outputHelp();
    const help = { out: out.join('') };
    expect(help.out).toMatch(/sidebar +for the Google Sheets add-on/);
    expect(help.out).toMatch(/relay +for an Airtable base/);
    expect(help.out).toMatch(/No restart is needed/);
  });
});

test('no token or relay secret handed out appears in any log line or list answer', async () => {
  expect(handedOut.length).toBeGreaterThan(10);
  const list = JSON.stringify((await t.api('GET', '/v1/credentials')).body);
  const logs = logged.join('');
  expect(logs).toMatch(/credential created/);
  for (const s of [...handedOut, ADMIN_TOKEN]) {
    expect(list).not.toContain(s);
    expect(logs).not.toContain(s);
    expect(logs).not.toContain(s.slice(6, 30));
  }
});
