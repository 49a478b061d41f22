/**
 * Issue 6's proof, hub side, with nothing in between faked but the platforms and Airtable: the hub
 * runs as `npm start` runs it in sandbox mode (server/start.ts: the real Square, Shopify and
 * WooCommerce connectors against their emulators) with an `airtable` section, writing through the
 * real `airtable` client into the Airtable fake (test/fakes/airtable-fake.ts) and reading changes
 * made there through the webhook it creates itself.
 *
 * - A change made in Airtable by a person (the fake's `userEdit`, source "client") reaches every
 *   emulator channel once, and comes back into the record as the hub's number.
 * - A sale on an emulator updates the Airtable record and adds one Movements and one Orders record;
 *   the webhook payloads of the hub's own writes are read and ignored (no echo, no second booking).
 * - A forged ping reads nothing; a restart reads what changed while the hub was down, once.
 * - A burst of 500 changes is written back within Airtable's limits (counted on the fake).
 */
import { DEMO_CATALOG, freePort } from '../../server/sandbox';
import { startStockrelay, type Started } from '../../server/start';
import { createLogger } from '../../server/log';
import { RELAY_SECRET, dropSchema, freshSchema, settleHub, tempDir, testConfig, type StoreKind } from '../helpers/hub';
import { signRelay } from '../../server/relay/verify';
import { AirtableFake } from '../fakes/airtable-fake';
import { BASE, addGalleryBase } from './base';
import fs from 'node:fs';
import path from 'node:path';
import { CATALOG_FIELDS as SCRIPT_FIELDS, FakeBase, FakeTable, runBundle } from '../airtable-scripts/fakes';
import { STORES } from '../helpers/stores';

jest.setTimeout(120_000);

interface Running {
  s: Started;
  port: number;
}

describe.each<StoreKind>(STORES)('Airtable and the hub, end to end, on %s', (kind) => {
  let fake: AirtableFake;
  let run: Running | null = null;
  const schema = kind === 'postgres' ? freshSchema('air') : undefined;
  const dataDir = tempDir();
  let clockOffset = 0;

  async function start(port: number): Promise<Running> {
    const config = testConfig(
      kind,
      { airtable: { baseId: BASE, tokenEnv: 'AIRTABLE_TOKEN', endpointUrl: fake.url, webhook: { notificationUrl: `http://127.0.0.1:${port}/v1/airtable/webhook` } } },
      { PORT: String(port), HOST: '127.0.0.1', AIRTABLE_TOKEN: fake.token, STOCKRELAY_DATA_DIR: dataDir },
    );
    const s = await startStockrelay(config, createLogger('silent'), {}, { idleMs: 50, validateResponses: true, ...(schema ? { store: { pgSchema: schema } } : {}) });
    return { s, port };
  }

  /** Emulator webhooks, Airtable pings, bookings, pushes and write-backs all done. */
  async function quiesce(): Promise<void> {
    const s = run!.s;
    let last = '';
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      await Promise.all(s.sandbox!.channels.map((c) => c.emulator.flushWebhooks()));
      await fake.flushPings();
      await s.hub.airtableWebhooks!.pull();
      try {
        await settleHub(s.hub);
      } catch (err) {
        if (!/did not settle/.test((err as Error).message)) throw err;
      }
      const outbox = await s.hub.store.outbox.count();
      if (outbox.pending || outbox.working) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const seen = JSON.stringify([s.sandbox!.channels.map((c) => c.emulator.requests.length), await s.hub.store.inbox.count(), fake.requests.filter((r) => !r.path.endsWith('/payloads')).length, fake.pings.length]);
      if (seen === last) return;
      last = seen;
    }
    const stuck = [...(await s.hub.store.outbox.list({ limit: 10, status: 'pending' })), ...(await s.hub.store.outbox.list({ limit: 10, status: 'working' }))].map((o) => `${o.sink} ${o.topic} ${o.status} ${o.attempts} ${o.nextAttemptAt} ${o.lastError ?? ''}`);
    stuck.push(JSON.stringify(await s.hub.store.outbox.count()));
    throw new Error(`the sandbox and Airtable did not come to rest: ${last}\n${stuck.join('\n')}`);
  }

  const record = (sku: string) => fake.records(BASE, 'Catalog').find((r) => r.fields.SKU === sku);
  const hubOnHand = async (sku: string, location = 'gallery') => (await run!.s.hub.store.ledger.getLevel(sku, location))?.onHand ?? 0;
  const airtableEvents = async () => (await run!.s.hub.store.inbox.list({ limit: 1000 })).filter((e) => e.source === 'airtable');
  /** Writes each emulator received since `from` (its request log): anything but a read (GET, or a GraphQL query). */
  const pushesSince = (from: Record<string, number>) =>
    Object.fromEntries(
      run!.s.sandbox!.channels.map((c) => [
        c.config.id,
        c.emulator.requests.slice(from[c.config.id] ?? 0).filter((q) => q.method !== 'GET' && !(/graphql/.test(q.path) && !JSON.stringify(q.body).includes('mutation'))).length,
      ]),
    );
  const requestMarks = () => Object.fromEntries(run!.s.sandbox!.channels.map((c) => [c.config.id, c.emulator.requests.length]));

  beforeAll(async () => {
    fake = await AirtableFake.start({ now: () => Date.now() + clockOffset });
    addGalleryBase(fake);
    // The catalog as the supplier typed it in Airtable; the hub fills in its numbers.
    for (const item of DEMO_CATALOG) fake.userEdit(BASE, 'Catalog', null, { SKU: item.sku, Title: item.title });
    run = await start(await freePort());
    await quiesce();
  });
  afterAll(async () => {
    await run?.s.stop();
    await fake?.close();
    if (schema) await dropSchema(schema);
  });

  test('at start the hub creates its webhook on the Catalog table and fills in every record', async () => {
    const hooks = fake.webhooks(BASE);
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({ notificationUrl: `http://127.0.0.1:${run!.port}/v1/airtable/webhook`, isHookEnabled: true });
    expect(hooks[0]!.specification).toMatchObject({ options: { filters: { dataTypes: ['tableData'], recordChangeScope: fake.tableId(BASE, 'Catalog') }, includes: { includePreviousCellValues: true } } });
    for (const item of DEMO_CATALOG) {
      expect(record(item.sku)?.fields).toMatchObject({ SKU: item.sku, Title: item.title, 'On hand': item.stock.gallery ?? 0, 'Hub on hand': item.stock.gallery ?? 0, Available: item.stock.gallery ?? 0 });
    }
    // One record per SKU: the upserts matched the supplier's records instead of adding new ones.
    expect(fake.records(BASE, 'Catalog')).toHaveLength(DEMO_CATALOG.length);
    // Every write went in requests of at most 10 records, never faster than 5 a second.
    expect(Math.max(...fake.requests.map((r) => r.records))).toBeLessThanOrEqual(10);
    expect(fake.maxRequestsInWindow(BASE)).toBeLessThanOrEqual(5);
    expect(fake.rateLimited).toBe(0);
  });

  test('a sale on the Square emulator updates the Airtable record and adds one Movements and one Orders record; the echo of those writes books nothing', async () => {
    const sku = 'CRD-0101';
    const before = await hubOnHand(sku);
    const events = (await airtableEvents()).length;
    const ch = run!.s.sandbox!.channels.find((c) => c.config.id === 'square')!;
    const { orderId } = await ch.emulator.sell({ sku, quantity: 2, locationId: ch.config.locations.gallery! });
    await quiesce();
    expect(await hubOnHand(sku)).toBe(before - 2);
    expect(record(sku)?.fields).toMatchObject({ 'On hand': before - 2, 'Hub on hand': before - 2, Available: before - 2 });
    const movements = fake.records(BASE, 'Movements').filter((r) => r.fields.Reference === orderId);
    expect(movements).toHaveLength(1);
    expect(movements[0]!.fields).toMatchObject({ SKU: sku, Change: -2, Reason: 'sale', Location: 'gallery', From: 'channel' });
    const orders = fake.records(BASE, 'Orders').filter((r) => r.fields.Order === orderId);
    expect(orders).toHaveLength(1);
    expect(orders[0]!.fields).toMatchObject({ SKU: sku, Quantity: 2, Status: 'sold' });
    // Airtable pinged about the hub's own writes; the hub read those payloads and ignored them.
    expect(run!.s.hub.airtableWebhooks!.ignoredOwn).toBeGreaterThan(0);
    expect((await airtableEvents()).length).toBe(events);
  });

  test('a count typed in Airtable reaches every emulator channel once and comes back as the hub’s number', async () => {
    const sku = 'BRU-0201';
    const marks = requestMarks();
    const rec = record(sku)!;
    fake.userEdit(BASE, 'Catalog', rec.id, { 'On hand': 30 }, { id: 'usrMia000000000001', email: 'mia@gallery.example' });
    await quiesce();
    expect(await hubOnHand(sku)).toBe(30);
    const moves = await run!.s.hub.store.ledger.listMovements(sku, { limit: 1 });
    expect(moves[0]).toMatchObject({ source: 'airtable', actor: 'mia@gallery.example', quantity: 30 - 12, reason: 'count' });
    // Each channel that lists the item at the gallery got exactly one write for it, and shows 30.
    expect(pushesSince(marks)).toEqual({ square: 1, shopify: 1, woocommerce: 1 });
    for (const c of run!.s.sandbox!.channels) expect(c.emulator.level(sku, c.config.locations.gallery!)).toBe(30);
    expect(record(sku)?.fields).toMatchObject({ 'On hand': 30, 'Hub on hand': 30, Available: 30 });
    // The hub's write-back of 30 pinged again: read, ignored, nothing more pushed.
    await quiesce();
    expect(pushesSince(marks)).toEqual({ square: 1, shopify: 1, woocommerce: 1 });
  });

  test('a count relayed by the pasted automation script (relay-record-change.js) reaches every emulator channel once', async () => {
    const sku = 'ART-0004';
    const marks = requestMarks();
    const rec = record(sku)!;
    // The script's view of the record as staff left it: On hand typed over the hub's number. (The base's
    // webhook is not involved: the record in the fake is unchanged, as in a base run by scripts alone.)
    const base = new FakeBase([new FakeTable('Catalog', SCRIPT_FIELDS, { [rec.id]: { ...rec.fields, 'On hand': 7 } })]);
    const code = fs.readFileSync(path.join(__dirname, '..', '..', 'airtable-scripts', 'paste', 'relay-record-change.js'), 'utf8');
    const run1 = await runBundle(code, { config: { hubUrl: `http://127.0.0.1:${run!.port}`, relaySecret: RELAY_SECRET, recordId: rec.id, actor: 'sam@gallery.example', relayFields: 'On hand' }, base, real: true });
    expect(run1.error).toBeNull();
    expect(run1.outputs).toMatchObject({ status: 'sent', eventId: expect.any(Number) });
    await quiesce();
    expect(await hubOnHand(sku)).toBe(7);
    expect((await run!.s.hub.store.ledger.listMovements(sku, { limit: 1 }))[0]).toMatchObject({ source: 'airtable', actor: 'sam@gallery.example', reason: 'count' });
    expect(pushesSince(marks)).toEqual({ square: 1, shopify: 1, woocommerce: 1 });
    for (const c of run!.s.sandbox!.channels) expect(c.emulator.level(sku, c.config.locations.gallery!)).toBe(7);
    expect(record(sku)?.fields).toMatchObject({ 'On hand': 7, 'Hub on hand': 7 });
    // The automation runs again on the hub's write-back: On hand equals Hub on hand, so nothing is sent.
    const echo = new FakeBase([new FakeTable('Catalog', SCRIPT_FIELDS, { [rec.id]: { ...record(sku)!.fields } })]);
    const run2 = await runBundle(code, { config: { hubUrl: `http://127.0.0.1:${run!.port}`, relaySecret: RELAY_SECRET, recordId: rec.id, relayFields: 'On hand' }, base: echo, real: true });
    expect(run2.outputs).toMatchObject({ status: 'nothing to send' });
    await quiesce();
    expect(pushesSince(marks)).toEqual({ square: 1, shopify: 1, woocommerce: 1 });
  });

  test('a forged ping is refused and reads nothing; a genuine-looking one for another webhook is refused too', async () => {
    const reads = fake.requests.filter((r) => /\/payloads$/.test(r.path)).length;
    const body = JSON.stringify({ base: { id: BASE }, webhook: { id: fake.webhooks(BASE)[0]!.id }, timestamp: new Date().toISOString() });
    const forged = await fetch(`http://127.0.0.1:${run!.port}/v1/airtable/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-airtable-content-mac': `hmac-sha256=${'0'.repeat(64)}` }, body });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('bad_signature');
    const unsigned = await fetch(`http://127.0.0.1:${run!.port}/v1/airtable/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(401);
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.requests.filter((r) => /\/payloads$/.test(r.path)).length).toBe(reads);
  });

  test('the webhook is refreshed before its 7 days are up, and made again if Airtable dropped it', async () => {
    const hooks = run!.s.hub.airtableWebhooks!;
    const key = `airtable.webhook:${BASE}`;
    const first = fake.webhooks(BASE)[0]!;
    /** Six days on, for Airtable and for what the hub wrote down: one day of the webhook's life left. */
    const sixDaysLater = async () => {
      clockOffset += 6 * 24 * 3600_000;
      const state = (await hooks.state())!;
      await run!.s.hub.store.hubState.set(key, { ...state, expiresAt: new Date(Date.now() + 24 * 3600_000).toISOString() }, new Date().toISOString());
    };
    await sixDaysLater();
    await hooks.ensure();
    const refreshed = fake.webhooks(BASE)[0]!;
    expect(refreshed.id).toBe(first.id);
    expect(refreshed.isHookEnabled).toBe(true);
    expect(Date.parse(refreshed.expirationTime)).toBeGreaterThan(Date.parse(first.expirationTime));
    expect(fake.requests.some((r) => r.method === 'POST' && r.path.endsWith(`/webhooks/${first.id}/refresh`))).toBe(true);
    expect((await hooks.state())?.expiresAt).toBe(refreshed.expirationTime);
    // Nobody refreshed it for three weeks (the hub was off): Airtable dropped it, so a new one is made and read from its start.
    clockOffset += 21 * 24 * 3600_000;
    await sixDaysLater();
    await hooks.ensure();
    const now = fake.webhooks(BASE).filter((w) => w.isHookEnabled);
    expect(now).toHaveLength(1);
    expect(now[0]!.id).not.toBe(first.id);
    expect((await hooks.state())).toMatchObject({ webhookId: now[0]!.id, cursor: 1 });
    clockOffset = 0;
  });
});

describe('a burst of 500 changes written back to Airtable (SQLite)', () => {
  test('every change is in Airtable, in requests of at most 10 records, never over 5 requests a second, with no 429', async () => {
    const fake = await AirtableFake.start();
    addGalleryBase(fake);
    // PORT 0: a port the OS gives (without PORT the hub would take 8080, which another program may hold).
    const config = testConfig('sqlite', { airtable: { baseId: BASE, tokenEnv: 'AIRTABLE_TOKEN', endpointUrl: fake.url, alerts: false } }, { PORT: '0', HOST: '127.0.0.1', AIRTABLE_TOKEN: fake.token, STOCKRELAY_SANDBOX: 'off' });
    // A hub that cannot start must not leave the fake running: jest would wait for it.
    const s = await startStockrelay(config, createLogger('silent'), { STOCKRELAY_SANDBOX: 'off' }, { idleMs: 20 }).catch(async (err: unknown) => {
      await fake.close();
      throw err;
    });
    try {
      const skus = Array.from({ length: 50 }, (_, i) => `BURST-${String(i).padStart(3, '0')}`);
      const relay = async (body: object) => {
        const raw = JSON.stringify(body);
        const res = await fetch(`${s.url}/v1/relay`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...signRelay(RELAY_SECRET, `msg_${crypto.randomUUID()}`, raw) } });
        expect(res.status).toBe(202);
      };
      await relay({ kind: 'catalog_changed', added: skus.map((sku) => ({ sku })), removed: [], occurredAt: new Date().toISOString() });
      await settleHub(s.hub);
      const started = fake.requests.length;
      // 500 changes: ten restocks of each of 50 items, sent as fast as the hub takes them.
      for (let round = 0; round < 10; round++) await Promise.all(skus.map((sku) => relay({ kind: 'adjustment', sku, quantity: round + 1, reason: 'restock', occurredAt: new Date().toISOString() })));
      for (let i = 0; i < 400; i++) {
        await settleHub(s.hub).catch(() => undefined);
        const outbox = await s.hub.store.outbox.count();
        if (!outbox.pending && !outbox.working) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const writes = fake.requests.slice(started);
      const catalog = fake.records(BASE, 'Catalog');
      for (const sku of skus) expect(catalog.find((r) => r.fields.SKU === sku)?.fields).toMatchObject({ 'On hand': 55, 'Hub on hand': 55 });
      expect(catalog).toHaveLength(50);
      expect(fake.records(BASE, 'Movements')).toHaveLength(500);
      expect(Math.max(...writes.map((r) => r.records))).toBeLessThanOrEqual(10);
      expect(fake.maxRequestsInWindow(BASE)).toBeLessThanOrEqual(5);
      expect(fake.rateLimited).toBe(0);
      // 500 movement records need at least 50 requests; the Catalog writes are coalesced per item.
      const movementWrites = writes.filter((r) => /\/Movements\/?$/.test(r.path) && r.method !== 'GET').length;
      const catalogWrites = writes.filter((r) => /\/Catalog\/?$/.test(r.path) && r.method !== 'GET').length;
      expect(movementWrites).toBeGreaterThanOrEqual(50);
      expect(movementWrites).toBeLessThanOrEqual(60);
      expect(catalogWrites).toBeLessThan(500 / 10);
      process.stdout.write(`burst: ${writes.length} requests (${movementWrites} Movements, ${catalogWrites} Catalog) for 500 changes; max ${fake.maxRequestsInWindow(BASE)} in any second\n`);
    } finally {
      await s.stop();
      await fake.close();
    }
  });
});

describe.each<StoreKind>(STORES)('the Airtable webhook across a restart, on %s', (kind) => {
  test('changes made while the hub is down are read after the restart from the saved cursor, once; reading again books nothing twice', async () => {
    const fake = await AirtableFake.start();
    addGalleryBase(fake);
    const schema = kind === 'postgres' ? freshSchema('airr') : undefined;
    const dataDir = tempDir();
    const port = await freePort();
    const start = () => {
      const config = testConfig(
        kind,
        { airtable: { baseId: BASE, tokenEnv: 'AIRTABLE_TOKEN', endpointUrl: fake.url, webhook: { notificationUrl: `http://127.0.0.1:${port}/v1/airtable/webhook` } } },
        { PORT: String(port), HOST: '127.0.0.1', AIRTABLE_TOKEN: fake.token, STOCKRELAY_DATA_DIR: dataDir, STOCKRELAY_SANDBOX: 'off' },
      );
      return startStockrelay(config, createLogger('silent'), { STOCKRELAY_SANDBOX: 'off' }, { idleMs: 20, ...(schema ? { store: { pgSchema: schema } } : {}) });
    };
    const settle = async (s: Started) => {
      for (let i = 0; i < 100; i++) {
        await fake.flushPings();
        await s.hub.airtableWebhooks!.pull();
        await settleHub(s.hub).catch(() => undefined);
        const outbox = await s.hub.store.outbox.count();
        if (!outbox.pending && !outbox.working) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const airtableEvents = async (s: Started) => (await s.hub.store.inbox.list({ limit: 1000 })).filter((e) => e.source === 'airtable');
    let s = await start().catch(async (err: unknown) => {
      await fake.close();
      throw err;
    });
    try {
      await s.hub.airtableWebhooks!.ensure();
      const rec = fake.userEdit(BASE, 'Catalog', null, { SKU: 'PNT-0301', Title: 'Ochre pigment, 250 g', 'On hand': 7 });
      await settle(s);
      expect((await s.hub.store.ledger.getLevel('PNT-0301', 'main'))?.onHand).toBe(7);
      await s.stop();

      // While the hub is down: a count and a new title. Airtable's pings find nobody; the payloads wait.
      fake.userEdit(BASE, 'Catalog', rec.id, { 'On hand': 5 });
      fake.userEdit(BASE, 'Catalog', rec.id, { Title: 'Ochre pigment, 250 g jar' });
      await fake.flushPings();
      expect(fake.pings.slice(-1)[0]!.status).toBeNull();

      s = await start();
      await settle(s);
      expect((await s.hub.store.ledger.getLevel('PNT-0301', 'main'))?.onHand).toBe(5);
      expect((await s.hub.store.items.get('PNT-0301'))?.title).toBe('Ochre pigment, 250 g jar');
      const fromAirtable = (await s.hub.store.ledger.listMovements('PNT-0301', { limit: 10 })).filter((m) => m.source === 'airtable');
      expect(fromAirtable.map((m) => m.quantity)).toEqual([-2, 7]);
      // The webhook was kept, not made again: the saved cursor was used.
      expect(fake.webhooks(BASE)).toHaveLength(1);

      // Reading everything again from the first cursor books nothing twice: each payload's event is keyed by webhook and cursor.
      const before = (await airtableEvents(s)).length;
      const state = (await s.hub.airtableWebhooks!.state())!;
      await s.hub.store.hubState.set(`airtable.webhook:${BASE}`, { ...state, cursor: 1 }, new Date().toISOString());
      await s.hub.airtableWebhooks!.pull();
      await settle(s);
      expect((await airtableEvents(s)).length).toBe(before);
      expect((await s.hub.store.ledger.listMovements('PNT-0301', { limit: 10 })).filter((m) => m.source === 'airtable')).toHaveLength(2);
    } finally {
      await s.stop();
      await fake.close();
      if (schema) await dropSchema(schema);
    }
  });
});
