/**
 * The Airtable fake behaves like Airtable's Web API where the hub depends on it: the real `airtable`
 * client lists, creates, updates, upserts and deletes against it and gets Airtable's refusals (more
 * than 10 records, unknown fields, wrong types, a bad token, 5 requests per second per base); the
 * webhooks API (plain fetch) creates, lists, refreshes and deletes webhooks, signs its pings the way
 * Airtable does, and serves payloads by cursor, filtered and shaped as the official samples.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Airtable from 'airtable';
import { AirtableFake, type AirtableFakeOptions } from '../fakes/airtable-fake';

const BASE = 'appStockrelay0001';
const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const SPECS = path.join(__dirname, '../../../shared/specs/airtable');
const SAMPLES = ['Webhook.json', 'WebhookNotification.json', 'WebhookPayload.json', 'WebhookPayload.TableChanged.json'];
const sample = (name: string) => JSON.parse(fs.readFileSync(path.join(SPECS, name), 'utf8')) as Record<string, any>;

interface Rig {
  fake: AirtableFake;
  clock: { now: number };
  base: Airtable.Base;
  /** A field's id in the Stock table. */
  fld(name: string): string;
  tbl: string;
  /** A plain fetch to the fake with the token, as the hub calls the webhooks API. */
  call(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: any }>;
}

/** The fake with one base and its Stock table; the fake clock stands still until a test moves it. */
async function rig(opts: AirtableFakeOptions = {}): Promise<Rig> {
  const clock = { now: T0 };
  const fake = await AirtableFake.start({ now: () => clock.now, ...opts });
  fake.addBase(BASE, [
    {
      name: 'Stock',
      fields: [
        { name: 'SKU', type: 'singleLineText' },
        { name: 'Title', type: 'singleLineText' },
        { name: 'On hand', type: 'number' },
        { name: 'Hidden', type: 'checkbox' },
        { name: 'Last synced', type: 'dateTime' },
        { name: 'Notes', type: 'multilineText' },
      ],
    },
  ]);
  const base = new Airtable({ apiKey: fake.token, endpointUrl: fake.url, noRetryIfRateLimited: true }).base(BASE);
  const call = async (method: string, urlPath: string, body?: unknown) => {
    const res = await fetch(`${fake.url}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${fake.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  return { fake, clock, base, call, tbl: fake.tableId(BASE, 'Stock'), fld: (name) => fake.fieldId(BASE, 'Stock', name) };
}

interface Receiver {
  url: string;
  got: { raw: string; mac: string }[];
  status: number;
  hold: boolean;
  maxConcurrent: number;
  release(): void;
  close(): Promise<void>;
}

/** The hub's side of the pings: keeps the raw bytes and the MAC header, answers `status`, can hold answers. */
async function receiver(): Promise<Receiver> {
  const waiting: (() => void)[] = [];
  let concurrent = 0;
  const server = http.createServer((req, res) => {
    concurrent++;
    rx.maxConcurrent = Math.max(rx.maxConcurrent, concurrent);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      rx.got.push({ raw: Buffer.concat(chunks).toString('utf8'), mac: String(req.headers['x-airtable-content-mac']) });
      const answer = () => {
        concurrent--;
        res.writeHead(rx.status).end();
      };
      if (rx.hold) waiting.push(answer);
      else answer();
    });
  });
  const rx: Receiver = {
    url: '',
    got: [],
    status: 200,
    hold: false,
    maxConcurrent: 0,
    release: () => {
      rx.hold = false;
      waiting.splice(0).forEach((answer) => answer());
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  rx.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/airtable/ping`;
  return rx;
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

let r: Rig;
let rx: Receiver | undefined;
afterEach(async () => {
  await r?.fake.close();
  await rx?.close();
  rx = undefined;
});

describe('records through the real airtable client', () => {
  // The limiter has its own test; here the budget is wide so the frozen clock does not get in the way.
  beforeEach(async () => {
    r = await rig({ ratePerSecond: 1000 });
  });

  test('select().all() reads every page, 100 at a time with offsets, and fields[] and filterByFormula narrow it', async () => {
    for (let i = 1; i <= 230; i++) r.fake.userEdit(BASE, 'Stock', null, { SKU: `SKU-${String(i).padStart(3, '0')}`, 'On hand': i });
    const all = await r.base('Stock').select({ pageSize: 100 }).all();
    expect(all).toHaveLength(230);
    expect(all.map((x) => x.id)).toEqual(r.fake.records(BASE, 'Stock').map((x) => x.id));
    expect(all[229]!.fields).toEqual({ SKU: 'SKU-230', 'On hand': 230 });

    const pages = r.fake.requests.filter((q) => q.method === 'GET' && q.path === `/v0/${BASE}/Stock`);
    expect(pages.map((q) => q.query.pageSize)).toEqual([['100'], ['100'], ['100']]);
    expect(pages[0]!.query.offset).toBeUndefined();
    expect(pages[1]!.query.offset![0]).toMatch(/^itr[A-Za-z0-9]{14}\/rec[A-Za-z0-9]{14}$/);
    expect(pages[2]!.query.offset![0]).not.toBe(pages[1]!.query.offset![0]);

    const two = await r.base('Stock').select({ fields: ['SKU'], filterByFormula: `OR({SKU} = 'SKU-007', {SKU} = "SKU-042")` }).all();
    expect(two.map((x) => x.fields)).toEqual([{ SKU: 'SKU-007' }, { SKU: 'SKU-042' }]);
    expect(r.fake.requests.at(-1)!.query['fields[]']).toEqual(['SKU']);
    const sorted = await r.base('Stock').select({ maxRecords: 2, sort: [{ field: 'On hand', direction: 'desc' }] }).all();
    expect(sorted.map((x) => x.get('SKU'))).toEqual(['SKU-230', 'SKU-229']);

    await expect(r.base('Stock').select({ filterByFormula: `FIND('7', {SKU})` }).all()).rejects.toMatchObject({ statusCode: 422, error: 'INVALID_FILTER_BY_FORMULA' });
    await expect(r.base('Stock').select({ fields: ['Colour'] }).all()).rejects.toMatchObject({ statusCode: 422, error: 'UNKNOWN_FIELD_NAME' });
  });

  test('create, update, replace, find and destroy reach the fake and change what it holds', async () => {
    const t = r.base('Stock');
    const created = await t.create([{ fields: { SKU: 'ART-1', Title: 'Painting', 'On hand': 4 } }, { fields: { SKU: 'ART-2', 'On hand': '7', Hidden: 'true' } }], { typecast: true });
    expect(created.map((c) => c.id)).toEqual([expect.stringMatching(/^rec[A-Za-z0-9]{14}$/), expect.stringMatching(/^rec[A-Za-z0-9]{14}$/)]);
    const [one, two] = created as [Airtable.Record<Airtable.FieldSet>, Airtable.Record<Airtable.FieldSet>];
    expect(r.fake.records(BASE, 'Stock')).toEqual([
      { id: one.id, createdTime: iso(T0), fields: { SKU: 'ART-1', Title: 'Painting', 'On hand': 4 } },
      { id: two.id, createdTime: iso(T0), fields: { SKU: 'ART-2', 'On hand': 7, Hidden: true } },
    ]);
    expect(r.fake.requests.at(-1)).toMatchObject({ method: 'POST', path: `/v0/${BASE}/Stock/`, baseId: BASE, at: T0, status: 200, records: 2, body: { typecast: true } });

    // PATCH changes only what it names; an unchecked box is an empty cell, left out as Airtable does.
    const [updated] = await t.update([{ id: one.id, fields: { 'On hand': 3, Hidden: false, 'Last synced': '2026-03-02T10:15:00+01:00' } }]);
    expect(updated!.fields).toEqual({ SKU: 'ART-1', Title: 'Painting', 'On hand': 3, 'Last synced': '2026-03-02T09:15:00.000Z' });
    expect(r.fake.requests.at(-1)).toMatchObject({ method: 'PATCH', records: 1, status: 200 });
    // PUT clears every cell it does not name.
    const replaced = await t.replace(two.id, { SKU: 'ART-2', Notes: 'back room\nshelf 2' });
    expect(replaced.fields).toEqual({ SKU: 'ART-2', Notes: 'back room\nshelf 2' });
    expect((await t.find(one.id)).get('On hand')).toBe(3);

    await t.destroy([two.id]);
    expect(r.fake.requests.at(-1)).toMatchObject({ method: 'DELETE', query: { 'records[]': [two.id] }, records: 1, status: 200 });
    expect(r.fake.records(BASE, 'Stock').map((x) => x.id)).toEqual([one.id]);
    await expect(t.find(two.id)).rejects.toMatchObject({ statusCode: 404, error: 'NOT_FOUND' });
    await expect(t.update([{ id: two.id, fields: { 'On hand': 1 } }])).rejects.toMatchObject({ statusCode: 422, error: 'ROW_DOES_NOT_EXIST' });
  });

  test('performUpsert creates a record for a new SKU, updates it the next time, and refuses when two rows share the SKU', async () => {
    const upsert = (fields: Record<string, unknown>) => r.base.makeRequest({ method: 'PATCH', path: '/Stock', body: { performUpsert: { fieldsToMergeOn: ['SKU'] }, records: [{ fields }] } });
    const first = (await upsert({ SKU: 'ART-9', 'On hand': 2 })).body as { records: { id: string; fields: unknown }[]; createdRecords: string[]; updatedRecords: string[] };
    const id = first.records[0]!.id;
    expect(first).toEqual({ records: [{ id, createdTime: iso(T0), fields: { SKU: 'ART-9', 'On hand': 2 } }], createdRecords: [id], updatedRecords: [] });

    const second = (await upsert({ SKU: 'ART-9', 'On hand': 5 })).body as typeof first;
    expect(second).toEqual({ records: [{ id, createdTime: iso(T0), fields: { SKU: 'ART-9', 'On hand': 5 } }], createdRecords: [], updatedRecords: [id] });
    expect(r.fake.records(BASE, 'Stock')).toEqual([{ id, createdTime: iso(T0), fields: { SKU: 'ART-9', 'On hand': 5 } }]);

    // Two inputs with the same new SKU in one request make one record.
    const twice = (await r.base.makeRequest({ method: 'PATCH', path: '/Stock', body: { performUpsert: { fieldsToMergeOn: ['SKU'] }, records: [{ fields: { SKU: 'ART-10', 'On hand': 1 } }, { fields: { SKU: 'ART-10', Title: 'Vase' } }] } })).body as typeof first;
    expect(twice.records.map((x) => x.id)).toEqual([twice.createdRecords[0], twice.createdRecords[0]]);
    expect(twice.updatedRecords).toEqual([]);
    expect(r.fake.records(BASE, 'Stock').map((x) => x.fields)).toEqual([
      { SKU: 'ART-9', 'On hand': 5 },
      { SKU: 'ART-10', Title: 'Vase', 'On hand': 1 },
    ]);
    r.fake.userDelete(BASE, 'Stock', twice.createdRecords[0]!);

    r.fake.userEdit(BASE, 'Stock', null, { SKU: 'ART-9', 'On hand': 1 }); // someone typed the SKU twice
    await expect(upsert({ SKU: 'ART-9', 'On hand': 8 })).rejects.toMatchObject({ statusCode: 422 });
    await expect(upsert({ 'On hand': 8 })).rejects.toMatchObject({ statusCode: 422 }); // no SKU to merge on
    expect(r.fake.records(BASE, 'Stock').map((x) => x.fields['On hand'])).toEqual([5, 1]);
  });

  test('more than 10 records in a write is refused with 422 and nothing is written, nor is any part of a batch with a bad record', async () => {
    const t = r.base('Stock');
    const eleven = Array.from({ length: 11 }, (_, i) => ({ fields: { SKU: `B-${i}` } }));
    await expect(t.create(eleven)).rejects.toMatchObject({ statusCode: 422, error: 'INVALID_RECORDS' });
    expect(r.fake.requests.at(-1)).toMatchObject({ method: 'POST', records: 11, status: 422 });
    expect(r.fake.records(BASE, 'Stock')).toEqual([]);

    await expect(t.create([...eleven.slice(0, 2), { fields: { SKU: 'B-x', Colour: 'red' } }])).rejects.toMatchObject({ statusCode: 422, error: 'UNKNOWN_FIELD_NAME' });
    expect(r.fake.records(BASE, 'Stock')).toEqual([]);

    await t.create(eleven.slice(0, 10));
    const ids = r.fake.records(BASE, 'Stock').map((x) => x.id);
    expect(ids).toHaveLength(10);
    await expect(t.destroy([...ids, ids[0]!])).rejects.toMatchObject({ statusCode: 422, error: 'INVALID_RECORDS' });
    await expect(t.update(ids.concat(ids[0]!).map((id) => ({ id, fields: { 'On hand': 1 } })))).rejects.toMatchObject({ statusCode: 422, error: 'INVALID_RECORDS' });
    expect(r.fake.records(BASE, 'Stock').every((x) => x.fields['On hand'] === undefined)).toBe(true);
  });

  test('an unknown field and a value of the wrong type are refused as Airtable refuses them; typecast converts', async () => {
    const t = r.base('Stock');
    await expect(t.create([{ fields: { SKU: 'X-1', Colour: 'red' } }])).rejects.toMatchObject({ statusCode: 422, error: 'UNKNOWN_FIELD_NAME', message: 'Unknown field name: "Colour"' });
    await expect(t.create([{ fields: { SKU: 'X-1', 'On hand': '7' } }])).rejects.toMatchObject({ statusCode: 422, error: 'INVALID_VALUE_FOR_COLUMN', message: 'Field "On hand" cannot accept the provided value' });
    await expect(t.create([{ fields: { SKU: 'X-1', 'On hand': 'seven' } }], { typecast: true })).rejects.toMatchObject({ statusCode: 422, error: 'INVALID_VALUE_FOR_COLUMN' });
    await expect(t.create([{ fields: { SKU: 7 } }])).rejects.toMatchObject({ statusCode: 422, error: 'INVALID_VALUE_FOR_COLUMN' });
    expect(r.fake.records(BASE, 'Stock')).toEqual([]);
    const [ok] = await t.create([{ fields: { SKU: 'X-1', 'On hand': '7' } }], { typecast: true });
    expect(ok!.fields).toEqual({ SKU: 'X-1', 'On hand': 7 });
  });

  test('a missing or wrong token is refused with 401, an unknown table or base with 404, and a failure can be forced', async () => {
    const wrong = new Airtable({ apiKey: 'pat-wrong', endpointUrl: r.fake.url, noRetryIfRateLimited: true }).base(BASE);
    await expect(wrong('Stock').select().firstPage()).rejects.toMatchObject({ statusCode: 401, error: 'AUTHENTICATION_REQUIRED' });
    const bare = await fetch(`${r.fake.url}/v0/${BASE}/Stock`);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toEqual({ error: { type: 'AUTHENTICATION_REQUIRED', message: 'Authentication required' } });

    await expect(r.base('Nope').select().firstPage()).rejects.toMatchObject({ statusCode: 404, error: 'NOT_FOUND', message: `Could not find table Nope in application ${BASE}` });
    const other = new Airtable({ apiKey: r.fake.token, endpointUrl: r.fake.url, noRetryIfRateLimited: true }).base('appDoesNotExist01');
    await expect(other('Stock').select().firstPage()).rejects.toMatchObject({ statusCode: 404, error: 'NOT_FOUND', message: 'Could not find what you are looking for' });
    // The table can be addressed by id too.
    await expect(r.base(r.tbl).select().firstPage()).resolves.toEqual([]);

    r.fake.failNext(1, 503, /\/Stock$/);
    await expect(r.base('Stock').select().firstPage()).rejects.toMatchObject({ statusCode: 503, error: 'SERVICE_UNAVAILABLE' });
    await expect(r.base('Stock').select().firstPage()).resolves.toEqual([]);
    expect(r.fake.requests.slice(-2).map((q) => q.status)).toEqual([503, 200]);

    expect((await r.call('GET', '/v0/meta/whoami')).body).toEqual({ id: 'usrStockrelayHub01', scopes: expect.arrayContaining(['data.records:write', 'webhook:manage']) });
  });
});

describe('the rate limit: 5 requests per second per base', () => {
  test('the sixth request in a second is answered 429 with Airtable body, the client does not retry, and the base waits 30 s', async () => {
    r = await rig(); // 5 per second, the clock frozen at T0
    r.fake.addBase('appOtherBase00001', [{ name: 'Stock', fields: [{ name: 'SKU', type: 'singleLineText' }] }]);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => r.base('Stock').select({ maxRecords: 1 }).firstPage()));
    expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(5);
    const refused = results.filter((x): x is PromiseRejectedResult => x.status === 'rejected').map((x) => x.reason as unknown);
    expect(refused).toEqual(Array.from({ length: 3 }, () => expect.objectContaining({ statusCode: 429, error: 'TOO_MANY_REQUESTS' })));
    // noRetryIfRateLimited: the fake saw exactly 8 requests, 3 of them refused.
    const seen = r.fake.requests.filter((q) => q.baseId === BASE);
    expect(seen).toHaveLength(8);
    expect(seen.filter((q) => q.status === 429)).toHaveLength(3);
    expect(r.fake.rateLimited).toBe(3);
    expect(r.fake.maxRequestsInWindow(BASE)).toBe(5);

    // Another base has its own budget.
    const other = new Airtable({ apiKey: r.fake.token, endpointUrl: r.fake.url, noRetryIfRateLimited: true }).base('appOtherBase00001');
    await expect(other('Stock').select().firstPage()).resolves.toEqual([]);

    // The body Airtable sends with a 429; the webhooks API counts against the same budget.
    const raw = await r.call('GET', `/v0/bases/${BASE}/webhooks`);
    expect(raw).toEqual({ status: 429, body: { errors: [{ error: 'RATE_LIMIT_REACHED', message: 'Rate limit exceeded. Please try again later' }] } });

    // A second later the window is empty, but Airtable asks for 30 s after a 429.
    r.clock.now += 1000;
    await expect(r.base('Stock').select().firstPage()).rejects.toMatchObject({ statusCode: 429 });
    r.clock.now = T0 + 30_000;
    await expect(r.base('Stock').select().firstPage()).resolves.toEqual([]);
    expect(r.fake.rateLimited).toBe(5);
  });
});

describe('the webhooks API', () => {
  beforeEach(async () => {
    r = await rig({ ratePerSecond: 1000 });
    rx = await receiver();
  });

  const createHook = async (filters: Record<string, unknown> = {}, includes?: Record<string, unknown>, notificationUrl: string | null = rx!.url) => {
    const specification = { options: { filters: { dataTypes: ['tableData'], recordChangeScope: r.tbl, ...filters }, ...(includes ? { includes } : {}) } };
    const res = await r.call('POST', `/v0/bases/${BASE}/webhooks`, { notificationUrl, specification });
    expect(res.status).toBe(200);
    await r.fake.flushPings(); // the ping Airtable sends shortly after creation
    rx!.got.length = 0;
    return { ...(res.body as { id: string; macSecretBase64: string; expirationTime: string }), specification };
  };
  const payloads = async (id: string, query = '') => (await r.call('GET', `/v0/bases/${BASE}/webhooks/${id}/payloads${query}`)).body as { payloads: any[]; cursor: number; mightHaveMore: boolean };

  test('create answers id, secret and an expiry 7 days out; list shows the sample keys without the secret; refresh, notifications and delete work', async () => {
    const res = await r.call('POST', `/v0/bases/${BASE}/webhooks`, { notificationUrl: rx!.url, specification: { options: { filters: { dataTypes: ['tableData'], recordChangeScope: r.tbl } } } });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['expirationTime', 'id', 'macSecretBase64']);
    const { id, macSecretBase64, expirationTime } = res.body as { id: string; macSecretBase64: string; expirationTime: string };
    expect(id).toMatch(/^ach[A-Za-z0-9]{14}$/);
    expect(Buffer.from(macSecretBase64, 'base64')).toHaveLength(32);
    expect(expirationTime).toBe(iso(T0 + 7 * DAY));
    await r.fake.flushPings();
    expect(rx!.got).toHaveLength(1); // "the notification URL will get a ping shortly after this completes"

    const listed = (await r.call('GET', `/v0/bases/${BASE}/webhooks`)).body as { webhooks: Record<string, unknown>[] };
    expect(Object.keys(listed)).toEqual(['webhooks']);
    expect(listed.webhooks).toHaveLength(1);
    const hook = listed.webhooks[0]!;
    expect(Object.keys(hook).sort()).toEqual(Object.keys(sample('Webhook.json')).sort());
    expect(hook).toMatchObject({ id, notificationUrl: rx!.url, expirationTime, cursorForNextPayload: 1, isHookEnabled: true, areNotificationsEnabled: true, lastSuccessfulNotificationTime: iso(T0) });
    expect(hook.specification).toEqual({ options: { filters: { dataTypes: ['tableData'], recordChangeScope: r.tbl } } });
    expect(Object.keys(hook.lastNotificationResult as object).sort()).toEqual(Object.keys(sample('Webhook.json').lastNotificationResult).filter((k) => k !== 'error' && k !== 'willBeRetried').sort());
    expect(JSON.stringify(listed)).not.toContain(macSecretBase64);
    expect(r.fake.webhooks(BASE)).toEqual([{ id, notificationUrl: rx!.url, expirationTime, cursorForNextPayload: 1, macSecretBase64, specification: hook.specification, isHookEnabled: true }]);

    r.clock.now += DAY;
    expect(await r.call('POST', `/v0/bases/${BASE}/webhooks/${id}/refresh`)).toEqual({ status: 200, body: { expirationTime: iso(T0 + 8 * DAY) } });

    // Notifications off: payloads still pile up, no ping goes out.
    expect((await r.call('POST', `/v0/bases/${BASE}/webhooks/${id}/enableNotifications`, { enable: false })).status).toBe(200);
    r.fake.userEdit(BASE, 'Stock', null, { SKU: 'ART-1' });
    await r.fake.flushPings();
    expect(rx!.got).toHaveLength(1);
    expect((await payloads(id)).payloads).toHaveLength(1);

    // A receiver that fails: the status is recorded, and list webhooks says so.
    await r.call('POST', `/v0/bases/${BASE}/webhooks/${id}/enableNotifications`, { enable: true });
    rx!.status = 503;
    r.fake.userEdit(BASE, 'Stock', null, { SKU: 'ART-2' });
    await r.fake.flushPings();
    expect(r.fake.pings.at(-1)).toMatchObject({ webhookId: id, url: rx!.url, status: 503 });
    const failed = (await r.call('GET', `/v0/bases/${BASE}/webhooks`)).body.webhooks[0];
    expect(failed.lastNotificationResult).toMatchObject({ success: false, error: { message: 'The HTTP request returned a 503 status code instead of 200 or 204' } });
    expect(Object.keys(failed.lastNotificationResult).sort()).toEqual(Object.keys(sample('Webhook.json').lastNotificationResult).sort());

    expect(await r.call('DELETE', `/v0/bases/${BASE}/webhooks/${id}`)).toEqual({ status: 200, body: {} });
    expect((await r.call('GET', `/v0/bases/${BASE}/webhooks`)).body).toEqual({ webhooks: [] });
    expect((await r.call('GET', `/v0/bases/${BASE}/webhooks/${id}/payloads`)).status).toBe(404);
    expect((await r.call('POST', `/v0/bases/${BASE}/webhooks`, { specification: { options: { filters: { dataTypes: ['rows'] } } } })).status).toBe(422);
  });

  test('a staff edit produces a ping whose MAC verifies with the secret, and a payload readable by cursor, keyed by field ids', async () => {
    const { id, macSecretBase64 } = await createHook();
    const staff = { id: 'usrGalleryStaff01', email: 'mia@gallery.example' };
    const rec = r.fake.userEdit(BASE, 'Stock', null, { SKU: 'ART-1', 'On hand': 4 }, staff);
    await r.fake.flushPings();

    expect(rx!.got).toHaveLength(1);
    const ping = rx!.got[0]!;
    const mine = `hmac-sha256=${crypto.createHmac('sha256', Buffer.from(macSecretBase64, 'base64')).update(ping.raw).digest('hex')}`;
    expect(crypto.timingSafeEqual(Buffer.from(ping.mac), Buffer.from(mine))).toBe(true);
    expect(JSON.parse(ping.raw)).toEqual({ base: { id: BASE }, webhook: { id }, timestamp: iso(T0) });
    expect(Object.keys(JSON.parse(ping.raw))).toEqual(Object.keys(sample('WebhookNotification.json')));
    expect(r.fake.pings.at(-1)).toEqual({ webhookId: id, url: rx!.url, status: 200, body: ping.raw, mac: ping.mac });

    const first = await payloads(id, '?cursor=1');
    expect(Object.keys(first).sort()).toEqual(['cursor', 'mightHaveMore', 'payloads']);
    expect(first).toMatchObject({ cursor: 2, mightHaveMore: false });
    const p = first.payloads[0];
    const sampleKeys = Object.keys(sample('WebhookPayload.json')).filter((k) => k !== 'destroyedTableIds'); // a table-data change destroys no table
    expect(Object.keys(p).sort()).toEqual([...sampleKeys, 'changedTablesById'].sort());
    expect(p).toMatchObject({ timestamp: iso(T0), payloadFormat: 'v0', actionMetadata: { source: 'client', sourceMetadata: { user: { ...staff, permissionLevel: 'create' } } } });
    expect(Object.keys(p.actionMetadata.sourceMetadata.user).sort()).toEqual(Object.keys(sample('WebhookPayload.json').actionMetadata.sourceMetadata.user).sort());
    expect(p.changedTablesById).toEqual({ [r.tbl]: { createdRecordsById: { [rec.id]: { cellValuesByFieldId: { [r.fld('SKU')]: 'ART-1', [r.fld('On hand')]: 4 }, createdTime: rec.createdTime } } } });
    const tableSample = sample('WebhookPayload.TableChanged.json');
    expect(Object.keys(p.changedTablesById[r.tbl].createdRecordsById[rec.id]).sort()).toEqual(Object.keys(tableSample.createdRecordsById.rec00000000000000).sort());

    // The hub's own write: source publicApi with the token's user; only the changed cell by default.
    await r.base('Stock').update([{ id: rec.id, fields: { 'On hand': 3 } }]);
    await r.fake.flushPings();
    expect(rx!.got).toHaveLength(2);
    const second = (await payloads(id, '?cursor=2')).payloads[0];
    expect(second.actionMetadata).toEqual({ source: 'publicApi', sourceMetadata: { user: { id: 'usrStockrelayHub01', email: 'hub@example.com', permissionLevel: 'create' } } });
    expect(second.baseTransactionNumber).toBe(p.baseTransactionNumber + 1);
    expect(second.changedTablesById).toEqual({ [r.tbl]: { changedRecordsById: { [rec.id]: { current: { cellValuesByFieldId: { [r.fld('On hand')]: 3 } } } } } });
    for (const k of Object.keys(second.changedTablesById[r.tbl].changedRecordsById[rec.id])) expect(Object.keys(tableSample.changedRecordsById.rec00000000000001)).toContain(k);

    r.fake.userDelete(BASE, 'Stock', rec.id);
    const third = (await payloads(id, '?cursor=3')).payloads[0];
    expect(third.changedTablesById).toEqual({ [r.tbl]: { destroyedRecordIds: [rec.id] } });
    for (const k of Object.keys(third.changedTablesById[r.tbl])) expect(Object.keys(tableSample)).toContain(k);
  });

  test('payloads page by cursor and limit with mightHaveMore, and an old cursor reads the same payloads again', async () => {
    const { id } = await createHook();
    const rec = r.fake.userEdit(BASE, 'Stock', null, { SKU: 'ART-1', 'On hand': 0 });
    for (let n = 1; n <= 4; n++) r.fake.userEdit(BASE, 'Stock', rec.id, { 'On hand': n });

    const a = await payloads(id, '?cursor=1&limit=2');
    expect(a).toMatchObject({ cursor: 3, mightHaveMore: true });
    expect(a.payloads).toHaveLength(2);
    const b = await payloads(id, '?cursor=3&limit=2');
    expect(b).toMatchObject({ cursor: 5, mightHaveMore: true });
    expect(b.payloads.map((x) => x.changedTablesById[r.tbl].changedRecordsById[rec.id].current.cellValuesByFieldId[r.fld('On hand')])).toEqual([2, 3]);
    const c = await payloads(id, '?cursor=5&limit=2');
    expect(c).toMatchObject({ cursor: 6, mightHaveMore: false });
    expect(c.payloads).toHaveLength(1);
    expect(await payloads(id, '?cursor=6')).toEqual({ payloads: [], cursor: 6, mightHaveMore: false });

    expect(await payloads(id, '?cursor=1&limit=2')).toEqual(a); // kept, not consumed
    expect((await payloads(id)).payloads).toHaveLength(5); // no cursor: from 1
    expect(r.fake.webhooks(BASE)[0]!.cursorForNextPayload).toBe(6);
    expect((await r.call('GET', `/v0/bases/${BASE}/webhooks/${id}/payloads?limit=51`)).status).toBe(422);
  });

  test('fromSources picks whose changes a webhook hears: staff edits (client) or API writes (publicApi)', async () => {
    const staffOnly = await createHook({ fromSources: ['client'] });
    const apiOnly = await createHook({ fromSources: ['publicApi'] });
    await r.base('Stock').create([{ fields: { SKU: 'ART-1' } }]);
    r.fake.userEdit(BASE, 'Stock', null, { SKU: 'ART-2' });
    r.fake.userEdit(BASE, 'Stock', null, { SKU: 'ART-3' });
    await r.fake.flushPings();

    const heard = async (id: string) => (await payloads(id)).payloads.map((p) => [p.actionMetadata.source, Object.values(p.changedTablesById[r.tbl].createdRecordsById as Record<string, { cellValuesByFieldId: Record<string, string> }>)[0]!.cellValuesByFieldId[r.fld('SKU')]]);
    expect(await heard(staffOnly.id)).toEqual([
      ['client', 'ART-2'],
      ['client', 'ART-3'],
    ]);
    expect(await heard(apiOnly.id)).toEqual([['publicApi', 'ART-1']]);
    expect(new Set(rx!.got.map((g) => JSON.parse(g.raw).webhook.id))).toEqual(new Set([staffOnly.id, apiOnly.id]));
  });

  test('includes give previous and unchanged cell values; watchDataInFieldIds ignores other fields; a write that changes nothing gives no payload', async () => {
    const { id } = await createHook({ watchDataInFieldIds: [r.fld('On hand')] }, { includeCellValuesInFieldIds: 'all', includePreviousCellValues: true });
    const rec = r.fake.userEdit(BASE, 'Stock', null, { SKU: 'ART-5', Title: 'Bowl', 'On hand': 4 });
    r.fake.userEdit(BASE, 'Stock', rec.id, { Title: 'Bowl (blue)' }); // not watched
    await r.base('Stock').update([{ id: rec.id, fields: { 'On hand': 2 } }]);
    await r.base('Stock').update([{ id: rec.id, fields: { 'On hand': 2 } }]); // the same value again

    const all = (await payloads(id)).payloads;
    expect(all).toHaveLength(2);
    const change = all[1].changedTablesById[r.tbl].changedRecordsById[rec.id];
    expect(change).toEqual({
      current: { cellValuesByFieldId: { [r.fld('On hand')]: 2 } },
      previous: { cellValuesByFieldId: { [r.fld('On hand')]: 4 } },
      unchanged: { cellValuesByFieldId: { [r.fld('SKU')]: 'ART-5', [r.fld('Title')]: 'Bowl (blue)' } },
    });
    expect(Object.keys(change).sort()).toEqual(Object.keys(sample('WebhookPayload.TableChanged.json').changedRecordsById.rec00000000000001).sort());
  });

  test('a webhook nobody refreshes expires after 7 days: no payloads, no pings, old payloads readable a week more, then gone', async () => {
    const { id } = await createHook();
    r.clock.now = T0 + DAY;
    r.fake.userEdit(BASE, 'Stock', null, { SKU: 'ART-1' });
    await r.fake.flushPings();
    expect(rx!.got).toHaveLength(1);

    r.clock.now = T0 + 7 * DAY;
    expect((await r.call('GET', `/v0/bases/${BASE}/webhooks`)).body.webhooks[0]).toMatchObject({ id, isHookEnabled: false, cursorForNextPayload: 2 });
    r.fake.userEdit(BASE, 'Stock', null, { SKU: 'ART-2' });
    await r.fake.flushPings();
    expect(rx!.got).toHaveLength(1);
    expect(r.fake.webhooks(BASE)[0]).toMatchObject({ isHookEnabled: false, cursorForNextPayload: 2 });
    const kept = await payloads(id);
    expect(kept.payloads).toHaveLength(1);
    expect(kept.cursor).toBe(2);
    expect((await r.call('POST', `/v0/bases/${BASE}/webhooks/${id}/refresh`)).status).toBe(422);
    expect(r.fake.webhooks(BASE)[0]!.expirationTime).toBe(iso(T0 + 7 * DAY)); // listing did not revive it

    r.clock.now = T0 + 14 * DAY;
    expect((await r.call('GET', `/v0/bases/${BASE}/webhooks`)).body).toEqual({ webhooks: [] });
    expect((await r.call('GET', `/v0/bases/${BASE}/webhooks/${id}/payloads`)).status).toBe(404);
  });

  test('listing payloads keeps an active webhook alive for 7 more days', async () => {
    const { id } = await createHook();
    r.clock.now = T0 + 6 * DAY;
    await payloads(id);
    expect(r.fake.webhooks(BASE)[0]!.expirationTime).toBe(iso(T0 + 13 * DAY));
    r.clock.now = T0 + 12 * DAY;
    r.fake.userEdit(BASE, 'Stock', null, { SKU: 'ART-1' });
    await r.fake.flushPings();
    expect(rx!.got).toHaveLength(1);
  });

  test('pings are coalesced: one in flight per webhook, and changes meanwhile cause exactly one more', async () => {
    await createHook();
    rx!.hold = true;
    const rec = r.fake.userEdit(BASE, 'Stock', null, { SKU: 'ART-1', 'On hand': 1 });
    await until(() => rx!.got.length === 1);
    r.fake.userEdit(BASE, 'Stock', rec.id, { 'On hand': 2 });
    r.fake.userEdit(BASE, 'Stock', rec.id, { 'On hand': 3 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(rx!.got).toHaveLength(1); // the first is still unanswered
    rx!.release();
    await r.fake.flushPings();
    expect(rx!.got).toHaveLength(2);
    expect(rx!.maxConcurrent).toBe(1);
    expect(r.fake.webhooks(BASE)[0]!.cursorForNextPayload).toBe(4); // every change still has its payload
  });

  test('pings go to 127.0.0.1 only', async () => {
    const { id } = await createHook({}, undefined, 'https://hooks.example.com/airtable');
    r.fake.userEdit(BASE, 'Stock', null, { SKU: 'ART-1' });
    await r.fake.flushPings();
    expect(r.fake.pings.filter((p) => p.webhookId === id).map((p) => p.status)).toEqual([null, null]);
  });
});

test('every official sample parses, and the samples are the shapes the tests above compare with', () => {
  for (const name of SAMPLES) expect(() => sample(name)).not.toThrow();
  expect(Object.keys(sample('Webhook.json'))).toContain('cursorForNextPayload');
  expect(Object.keys(sample('WebhookNotification.json'))).toEqual(['base', 'webhook', 'timestamp']);
  expect(sample('WebhookPayload.json').payloadFormat).toBe('v0');
  expect(Object.keys(sample('WebhookPayload.TableChanged.json'))).toEqual(expect.arrayContaining(['createdRecordsById', 'changedRecordsById', 'destroyedRecordIds']));
});
