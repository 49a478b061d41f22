/**
 * Salesforce Commerce Cloud connector: what is B2C Commerce's own, against its emulator on 127.0.0.1
 * (Account Manager tokens, OCI records, the admin Orders and Products APIs) — settings errors, the
 * token request, load shedding and rate limits, the reservation and safety-stock arithmetic of an
 * absolute on-hand set, OCI's ordering by effectiveDate and idempotency by actionRequestId, answers
 * the connector cannot read (each a clear error, no level taken, the feed's position kept), the
 * money of the Orders API's documented example, and the whole hub booking polled orders: a sale
 * once, a cancellation's restock, an order for a product the catalog lacks kept as unmatched.
 * Every request the connector sent on a path Salesforce's OpenAPI files describe is checked against
 * them; the last test says there was no violation, and which operations the files do not cover.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CONNECTORS } from '../../server/connectors';
import { ConnectorError, TranslateError, type Connector, type PushTarget } from '../../server/connectors/types';
import { definition } from '../../server/connectors/salesforce-commerce-cloud';
import { SfccEmulator } from '../../server/connectors/salesforce-commerce-cloud/emulator';
import { orderJson } from '../../server/connectors/salesforce-commerce-cloud/emulator/routes';
import { ORDER_TOPIC, LEVEL_TOPIC, translate } from '../../server/connectors/salesforce-commerce-cloud/translate';
import { onHandMoved, readBasis } from '../../server/connectors/salesforce-commerce-cloud/inventory';
import { createHub, type Hub } from '../../server/hub';
import { createLogger } from '../../server/log';
import { ADMIN_TOKEN, answerOf, testConfig } from '../helpers/hub';
import { documentedOrder } from './salesforce-commerce-cloud/documented';

jest.setTimeout(60_000);

const CLIENT_ID = 'b2c-test-api-client';
const CLIENT_SECRET = 'b2c-test-client-secret-0123';
const REALM = { organizationId: 'f_ecom_zzts_prd', tenantGroupId: 'test_group', siteId: 'GallerySite' };
const emulators: SfccEmulator[] = [];
let emu: SfccEmulator;
let baseUrl: string;
let loc: string;

async function startEmulator(over: Partial<ConstructorParameters<typeof SfccEmulator>[0]> = {}): Promise<{ e: SfccEmulator; url: string }> {
  const e = new SfccEmulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...REALM, ...over });
  emulators.push(e);
  return { e, url: await e.start() };
}

function connector(settings: Record<string, unknown> = {}, credentials: Record<string, string> = {}, extra: { fetch?: typeof fetch; url?: string } = {}): Connector {
  const url = extra.url ?? baseUrl;
  return definition.create({
    channelId: 'b2c',
    baseUrl: url,
    settings: { ...REALM, oauthBaseUrl: url, pageSize: 2, ...settings },
    credentials: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...credentials },
    ...(extra.fetch ? { fetch: extra.fetch } : {}),
  });
}

function target(sku: string, level: number, expected: number | null, key = `t-${sku}-${level}`): PushTarget {
  return { sku, ref: { productId: sku, variantId: sku }, locationId: loc, level, expected, idempotencyKey: key };
}

/** A fetch that hands the connector `change(answer)` instead of what the emulator answered, for URLs matching `path`. */
function tampering(path: RegExp, change: (answer: Record<string, unknown>) => unknown): typeof fetch {
  return async (input, init) => {
    const res = await fetch(input, init);
    if (!path.test(String(input)) || res.status !== 200) return res;
    const body = change((await res.json()) as Record<string, unknown>);
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
  };
}

/** An Account Manager token for `scope`, asked as the API client would (client credentials, HTTP Basic). */
async function tokenFor(url: string, scope: string): Promise<string> {
  const res = await fetch(`${url}/dwsso/oauth2/access_token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function rejection(p: Promise<unknown>): Promise<ConnectorError | TranslateError | Error> {
  return p.then(
    (v) => {
      throw new Error(`expected a failure, got ${JSON.stringify(v)}`);
    },
    (e: Error) => e,
  );
}

beforeEach(async () => {
  ({ e: emu, url: baseUrl } = await startEmulator());
  loc = emu.locations()[0]!;
  emu.seed([
    { sku: 'ART-1', title: 'Dot painting', levels: { [loc]: 10 } },
    { sku: 'ART-2', title: 'Bark painting', levels: { [loc]: 4 } },
  ]);
});

afterEach(async () => {
  await emu.stop();
});

describe('definition and settings', () => {
  test('registered under salesforce-commerce-cloud, polled (no webhooks), sandbox off by default over gallery and warehouse', () => {
    expect(CONNECTORS.get('salesforce-commerce-cloud')).toBe(definition);
    expect(definition.displayName).toBe('Salesforce Commerce Cloud');
    expect(definition.capabilities).toMatchObject({ push: ['absolute_set'], locations: true, webhooks: [], polled: ['orders', 'levels'], rateLimit: { kind: 'unpublished' } });
    expect(definition.sandbox).toMatchObject({ byDefault: false, locations: { gallery: expect.any(String), warehouse: expect.any(String) } });
  });

  test.each([
    ['no organizationId', { organizationId: undefined }, /organizationId must be f_ecom_/],
    ['an organizationId that is not f_ecom_<realm>_<instance>', { organizationId: 'zzts_prd' }, /organizationId must be f_ecom_/],
    ['no tenantGroupId', { tenantGroupId: undefined }, /tenantGroupId/],
    ['no siteId', { siteId: '' }, /siteId/],
    ['a pageSize over 200', { pageSize: 500 }, /pageSize must be a whole number from 1 to 200/],
    ['a shortCode that is not eight characters', { shortCode: 'abc' }, /shortCode must be the eight-character/],
  ])('%s is refused at start with what to set', (_name, over, message) => {
    expect(() => connector(over)).toThrow(message);
  });

  test('without baseUrl the API address is the realm short code’s; without either, the error says where to find it', () => {
    expect(() => definition.create({ channelId: 'b2c', baseUrl: null, settings: { ...REALM }, credentials: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } })).toThrow(/needs the setting shortCode/);
    expect(() => definition.create({ channelId: 'b2c', baseUrl: null, settings: { ...REALM, shortCode: 'kv7kzm78' }, credentials: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } })).not.toThrow();
  });

  test('verify refuses anything at the webhook door: B2C Commerce sends no webhooks', () => {
    expect(connector().verify(Buffer.from(JSON.stringify(documentedOrder())), {})).toMatchObject({ valid: false, reason: expect.stringMatching(/sends no webhooks/) });
  });
});

describe('Account Manager tokens', () => {
  test('one client-credentials token, asked with HTTP Basic and the tenant scope, serves every call', async () => {
    const sent: { url: string; headers: Headers; body: string }[] = [];
    const recording: typeof fetch = async (input, init) => {
      if (String(input).includes('/dwsso/')) sent.push({ url: String(input), headers: new Headers(init?.headers), body: String(init?.body) });
      return fetch(input, init);
    };
    const c = connector({}, {}, { fetch: recording });
    await c.read([{ sku: 'ART-1', ref: { productId: 'ART-1', variantId: 'ART-1' }, locationId: loc }]);
    await c.listCatalog();
    await c.poll!('orders', null);
    expect(emu.accountManager.tokenRequests).toEqual([{ grant: 'client_credentials', clientId: CLIENT_ID, status: 200, error: null }]);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toBe(`${baseUrl}/dwsso/oauth2/access_token`);
    expect(sent[0]!.headers.get('authorization')).toBe(`Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`);
    expect(Object.fromEntries(new URLSearchParams(sent[0]!.body))).toEqual({ grant_type: 'client_credentials', scope: 'SALESFORCE_COMMERCE_API:zzts_prd sfcc.orders sfcc.products.rw sfcc.inventory.availability.rw' });
    // The emulator refuses a token whose scope does not name the tenant, as the API does.
    const narrow = await tokenFor(baseUrl, 'sfcc.orders');
    const refused = await fetch(`${baseUrl}/checkout/orders/v1/organizations/${REALM.organizationId}/orders?siteId=${REALM.siteId}`, { headers: { authorization: `Bearer ${narrow}` } });
    expect([refused.status, ((await refused.json()) as { detail: string }).detail]).toEqual([403, expect.stringContaining('SALESFORCE_COMMERCE_API:zzts_prd')]);
  });

  test('a wrong client secret is a fault of the channel naming the credentials to check, never the secret', async () => {
    const err = await rejection(connector({}, { clientSecret: 'not-the-secret-0000' }).listCatalog());
    expect(err).toBeInstanceOf(ConnectorError);
    expect([(err as ConnectorError).status, (err as ConnectorError).channelFault, (err as ConnectorError).retryable]).toEqual([401, true, false]);
    expect(err.message).toMatch(/clientId and clientSecret/);
    expect(err.message).not.toContain('not-the-secret-0000');
  });

  test('a token the API refuses (expired early) fails that call as 401; the next call gets a new token and works', async () => {
    const c = connector();
    await c.listCatalog();
    emu.accountManager.expireAccessTokens();
    const err = await rejection(c.listCatalog());
    expect((err as ConnectorError).status).toBe(401);
    expect((await c.listCatalog()).map((l) => l.sku)).toEqual(['ART-1', 'ART-2']);
    expect(emu.accountManager.tokenRequests).toHaveLength(2);
  });
});

describe('load shedding and rate limits', () => {
  test('a 503 of load shedding is retried after its Retry-After, and says so', async () => {
    emu.faults.api.loadShedNext = { count: 1, retryAfterSeconds: 7 };
    const err = (await rejection(connector().read([{ sku: 'ART-1', ref: { productId: 'ART-1', variantId: 'ART-1' }, locationId: loc }]))) as ConnectorError;
    expect([err.status, err.retryable, err.channelFault, err.retryAfterMs]).toEqual([503, true, true, 7000]);
    expect(err.message).toMatch(/shedding load .*THROTTLE/);
  });

  test('a 429 carries its Retry-After to the dispatcher', async () => {
    emu.faults.api.rateLimitNext = { count: 1, retryAfterSeconds: 3 };
    const err = (await rejection(connector().poll!('levels', null))) as ConnectorError;
    expect([err.status, err.retryable, err.retryAfterMs]).toEqual([429, true, 3000]);
  });
});

describe('push: absolute on-hand in Omnichannel Inventory', () => {
  test('open reservations and safety stock stay: on-hand is written as level + reserved + safety stock', async () => {
    await emu.sell({ sku: 'ART-1', quantity: 3, locationId: loc });
    emu.realm.put({ ...emu.realm.record('ART-1', loc)!, safetyStockCount: 2 });
    // Available to fulfil: 10 − 3 reserved − 2 safety = 5.
    expect(emu.level('ART-1', loc)).toBe(5);
    expect(await connector().push([target('ART-1', 8, 5)])).toEqual([{ sku: 'ART-1', locationId: loc, status: 'applied', level: 8, basis: 'oci:13/3' }]);
    expect(emu.realm.record('ART-1', loc)).toMatchObject({ onHand: 13, reserved: 3, safetyStockCount: 2 });
    const sent = emu.requests.find((r) => r.path.endsWith('/batch-update'))!.body as { records: Record<string, unknown>[] };
    expect(sent.records).toEqual([{ actionRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/), stockKeepingUnit: 'ART-1', locationIdentifier: loc, onHand: 13, effectiveDate: expect.any(String) }]);
  });

  test('the same write sent again (same actionRequestId) is applied once by OCI', async () => {
    const c = connector();
    await c.push([target('ART-2', 9, 4)]);
    const sent = emu.requests.find((r) => r.path.endsWith('/batch-update'))!.body;
    await emu.sell({ sku: 'ART-2', quantity: 1, locationId: loc });
    // Replayed by hand, as a retry after a lost answer would be: OCI answers it done and changes nothing.
    const token = await tokenFor(baseUrl, 'SALESFORCE_COMMERCE_API:zzts_prd sfcc.inventory.availability.rw');
    const again = await fetch(`${baseUrl}/inventory/availability/v1/organizations/${REALM.tenantGroupId}/availability-records/actions/batch-update`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(sent) });
    expect(((await again.json()) as { errors: unknown[] }).errors).toEqual([]);
    expect(emu.level('ART-2', loc)).toBe(8);
  });

  test('an update older than what OCI holds (effectiveDate) is refused for that record only', async () => {
    emu.realm.put({ ...emu.realm.record('ART-1', loc)!, effectiveDate: new Date(Date.now() + 3_600_000).toISOString() });
    const out = await connector().push([target('ART-1', 6, 10), target('ART-2', 2, 4)]);
    expect(out).toEqual([
      { sku: 'ART-1', locationId: loc, status: 'failed', message: expect.stringMatching(/STALE_EFFECTIVE_DATE/) },
      { sku: 'ART-2', locationId: loc, status: 'applied', level: 2, basis: 'oci:2/0' },
    ]);
    expect([emu.level('ART-1', loc), emu.level('ART-2', loc)]).toEqual([10, 2]);
  });

  test('a level that is not a whole number, or a listing without a product id, fails that item with no request', async () => {
    const before = emu.requests.length;
    const out = await connector().push([{ ...target('ART-1', 2.5, 10) }, { ...target('ART-2', 3, 4), ref: { productId: '', variantId: '' } }]);
    expect(out.map((o) => o.status)).toEqual(['failed', 'failed']);
    expect(emu.requests.length).toBe(before);
  });
});

describe('a write never wipes out stock the available figure does not show', () => {
  // A sale (reserved + 1) and a return put back on the shelf (on hand + 1) leave OCI's available to
  // fulfil where it was; a write checked on that figure alone would overwrite the return before the
  // hub heard of it (simulation seeds 29 and 190 with shopify,salesforce-commerce-cloud).
  test('sent: a push expecting 10, on the basis of on hand 10 and nothing reserved, after a sale and a return; kept: OCI untouched, the push waits for the levels feed', async () => {
    const c = connector();
    const { cursor } = await c.poll!('levels', null);
    const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 1, locationId: loc });
    await emu.refund({ orderId, restock: true, quantity: 1 });
    expect(emu.realm.record('ART-1', loc)).toMatchObject({ onHand: 11, reserved: 1 });
    expect(emu.level('ART-1', loc)).toBe(10);
    const writes = () => emu.requests.filter((r) => r.path.endsWith('/batch-update')).length;
    expect(await c.push([{ ...target('ART-1', 9, 10), basis: 'oci:10/0' }])).toEqual([{ sku: 'ART-1', locationId: loc, status: 'stale', observed: null, untilFeed: 'levels' }]);
    expect(writes()).toBe(0);
    expect(emu.realm.record('ART-1', loc)).toMatchObject({ onHand: 11, reserved: 1 });
    // The feed reports both changes, each with its basis; booked, the last one is what the next push carries.
    const polled = await c.poll!('levels', cursor);
    const facts = polled.events.flatMap((e) => c.translate(e.topic, e.body, {}));
    expect(facts.map((f) => (f.type === 'level_observed' ? [f.available, f.basis] : f.type))).toEqual([
      [9, 'oci:10/1'],
      [10, 'oci:11/1'],
    ]);
    expect(await c.push([{ ...target('ART-1', 10, 10, 'again'), basis: 'oci:11/1' }])).toEqual([{ sku: 'ART-1', locationId: loc, status: 'applied', level: 10, wrote: false }]);
    expect(await c.push([{ ...target('ART-1', 9, 10, 'after'), basis: 'oci:11/1' }])).toEqual([{ sku: 'ART-1', locationId: loc, status: 'applied', level: 9, basis: 'oci:10/1' }]);
    expect(emu.realm.record('ART-1', loc)).toMatchObject({ onHand: 10, reserved: 1 });
  });

  test('a record that moved since its basis (sent: expecting 10 on the basis 10/0; kept: OCI at 11/3 after a return and two sales) is not written, and no folded figure is handed over', async () => {
    const c = connector();
    const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 1, locationId: loc });
    await emu.refund({ orderId, restock: true, quantity: 1 });
    await emu.sell({ sku: 'ART-1', quantity: 2, locationId: loc });
    // ATF 8: a return (+1) and three sales (−3) fold into −2, which the hub would take for one change.
    expect(emu.level('ART-1', loc)).toBe(8);
    expect(await c.push([{ ...target('ART-1', 12, 10), basis: 'oci:10/0' }])).toEqual([{ sku: 'ART-1', locationId: loc, status: 'stale', observed: null, untilFeed: 'levels' }]);
    expect(emu.realm.record('ART-1', loc)).toMatchObject({ onHand: 11, reserved: 3 });
    // Without a basis the hub knows nothing of the stock behind the figure: the figure is compared, as before.
    expect(await c.push([target('ART-1', 12, 10)])).toEqual([{ sku: 'ART-1', locationId: loc, status: 'stale', observed: 8, basis: 'oci:11/3' }]);
  });

  test('a shipment (on hand and reserved falling together), a sale alone, or no basis at all does not hold a push back', async () => {
    const c = connector();
    await emu.sell({ sku: 'ART-2', quantity: 1, locationId: loc });
    expect(await c.push([{ ...target('ART-2', 2, 3), basis: 'oci:4/0' }])).toEqual([{ sku: 'ART-2', locationId: loc, status: 'applied', level: 2, basis: 'oci:3/1' }]);
    const r = emu.realm.record('ART-2', loc)!;
    emu.realm.put({ ...r, onHand: r.onHand - 1, reserved: r.reserved - 1 });
    expect(await c.push([{ ...target('ART-2', 1, 2, 'next'), basis: 'oci:3/1' }])).toEqual([{ sku: 'ART-2', locationId: loc, status: 'applied', level: 1, basis: 'oci:1/0' }]);
    emu.realm.put({ ...emu.realm.record('ART-2', loc)!, onHand: 5 });
    expect(await c.push([{ ...target('ART-2', 3, 5, 'unknown'), basis: null }])).toEqual([{ sku: 'ART-2', locationId: loc, status: 'applied', level: 3, basis: 'oci:3/0' }]);
    // A basis another connector wrote, or a damaged one, says nothing: checked on the available figure alone.
    expect(readBasis('shopify:7')).toBeNull();
    expect(readBasis('oci:3/x')).toBeNull();
    expect(readBasis('oci:12.5/2')).toEqual({ onHand: 12.5, reserved: 2 });
  });

  test('onHandMoved: a restock or a count moves it; a shipment or a sale does not', () => {
    const rec = (onHand: number, reserved: number) => ({ onHand, reserved });
    expect(onHandMoved(rec(10, 0), rec(11, 1))).toBe(true);
    expect(onHandMoved(rec(10, 0), rec(12, 0))).toBe(true);
    expect(onHandMoved(rec(10, 2), rec(9, 1))).toBe(false);
    expect(onHandMoved(rec(10, 0), rec(10, 1))).toBe(false);
    expect(onHandMoved(rec(10, 2), rec(8, 2))).toBe(true);
  });
});

describe('where an order takes its stock: the line’s inventoryId', () => {
  test('a line whose inventoryId is a mapped OCI location is booked there; the site’s location group, or none, names no location', async () => {
    const { orderId: pickup } = await emu.sell({ sku: 'ART-1', quantity: 1, locationId: loc });
    const { orderId: web } = await emu.sell({ sku: 'ART-2', quantity: 1 });
    const order = (no: string) => orderJson(emu.realm, emu.realm.orders.get(no)!);
    const lineLocations = (no: string, mapped: string[]) => translate(ORDER_TOPIC, order(no), mapped).flatMap((f) => (f.type === 'sale' ? f.lines.map((l) => l.locationId) : []));
    expect(order(pickup)).toMatchObject({ productItems: [{ inventoryId: loc }] });
    expect(lineLocations(pickup, [loc, 'other-store'])).toEqual([loc]);
    expect(lineLocations(pickup, ['other-store'])).toEqual([null]);
    expect(order(web)).toMatchObject({ productItems: [{ inventoryId: 'sandbox-site-group' }] });
    expect(lineLocations(web, [loc])).toEqual([null]);
  });
});

describe('hide and relist: the site’s onlineFlag', () => {
  test('hide takes the product offline on the channel’s site only; relist brings it back', async () => {
    emu.product('ART-1')!.onlineFlag.OtherSite = true;
    await connector().hide({ productId: 'ART-1', variantId: 'ART-1' });
    expect(emu.product('ART-1')!.onlineFlag).toEqual({ [REALM.siteId]: false, OtherSite: true });
    await connector().relist({ productId: 'ART-1', variantId: 'ART-1' });
    expect(emu.product('ART-1')!.onlineFlag).toEqual({ [REALM.siteId]: true, OtherSite: true });
    expect(emu.requests.filter((r) => r.method === 'PATCH').map((r) => r.body)).toEqual([
      { id: 'ART-1', onlineFlag: { [REALM.siteId]: false } },
      { id: 'ART-1', onlineFlag: { [REALM.siteId]: true } },
    ]);
  });

  test('a product B2C Commerce does not have is a refusal of that item, not of the channel', async () => {
    const err = (await rejection(connector().hide({ productId: 'GONE-1', variantId: 'GONE-1' }))) as ConnectorError;
    expect([err.status, err.channelFault, err.retryable]).toEqual([404, false, false]);
    expect(err.message).toMatch(/Product Not Found.*run catalog discovery again/);
  });
});

describe('answers the connector cannot read: a clear error, nothing taken', () => {
  const item = { sku: 'ART-1', ref: { productId: 'ART-1', variantId: 'ART-1' }, locationId: '' };

  test('an availability record without atf (sent: ART-1 at the location; kept: no reading at all)', async () => {
    const f = tampering(/get-availability/, (a) => ({ locations: (a.locations as { id: string; records: Record<string, unknown>[] }[]).map((l) => ({ ...l, records: l.records.map(({ atf: _atf, ...r }) => r) })) }));
    const err = await rejection(connector({}, {}, { fetch: f }).read([{ ...item, locationId: loc }]));
    expect([err instanceof ConnectorError, (err as ConnectorError).channelFault, err.message]).toEqual([true, true, expect.stringMatching(/no numeric onHand and atf.*No level was taken/)]);
  });

  test('an availability answer for a SKU that was not asked for (a cache answering another request) is refused, never read as ours', async () => {
    const f = tampering(/get-availability/, (a) => ({ locations: (a.locations as { id: string; records: Record<string, unknown>[] }[]).map((l) => ({ ...l, records: l.records.map((r) => ({ ...r, sku: 'SOMEONE-ELSE' })) })) }));
    const err = await rejection(connector({}, {}, { fetch: f }).push([target('ART-1', 3, 10)]));
    expect(err.message).toMatch(/SKU SOMEONE-ELSE, which was not asked for/);
    // Nothing was written.
    expect(emu.level('ART-1', loc)).toBe(10);
  });

  test('a batch update answer without its records list: the push fails as a whole, and the read-back of the next try decides', async () => {
    const f = tampering(/batch-update/, () => ({ status: 'ok' }));
    const err = await rejection(connector({}, {}, { fetch: f }).push([target('ART-2', 1, 4)]));
    expect([(err as ConnectorError).channelFault, err.message]).toEqual([true, expect.stringMatching(/batch update answer has no records list/)]);
    // The write had landed; the next push finds the level already there.
    expect(await connector().push([target('ART-2', 1, 4)])).toEqual([{ sku: 'ART-2', locationId: loc, status: 'stale', observed: 1, basis: 'oci:1/0' }]);
  });

  test('an order list with an order that has no lastModified: the poll fails and its position does not move', async () => {
    const c = connector({}, {}, { fetch: tampering(/\/orders\?/, (a) => ({ data: (a.data as Record<string, unknown>[]).map(({ lastModified: _m, ...o }) => o) })) });
    const start = await connector().poll!('orders', null);
    await emu.sell({ sku: 'ART-1', quantity: 1, locationId: loc });
    const err = await rejection(c.poll!('orders', start.cursor));
    expect([(err as ConnectorError).channelFault, err.message]).toEqual([true, expect.stringMatching(/has no lastModified\. Nothing of it was stored/)]);
    // The same position read properly finds the order.
    expect((await connector().poll!('orders', start.cursor)).events).toHaveLength(1);
  });

  test('a saved feed position the connector did not write is refused, nothing read', async () => {
    const before = emu.requests.length;
    await expect(connector().poll!('orders', '{"from":"yesterday"}')).rejects.toThrow(/not one this connector wrote/);
    expect(emu.requests.length).toBe(before);
  });

  test('an order line of 1.5 units, or without itemId, makes the order unreadable rather than booked wrong', () => {
    const order = documentedOrder();
    const items = order.productItems as Record<string, unknown>[];
    expect(() => translate(ORDER_TOPIC, { ...order, productItems: [{ ...items[0], quantity: 1.5 }] })).toThrow(TranslateError);
    expect(() => translate(ORDER_TOPIC, { ...order, productItems: [{ ...items[0], itemId: undefined }] })).toThrow(/no itemId/);
    expect(() => translate(ORDER_TOPIC, { ...order, status: 'shipped_somewhere' })).toThrow(/does not know/);
  });

  test('an OCI change without a location, or with a fractional level, is unreadable', () => {
    const record = { sku: 'ART-1', location: loc, onHand: 5, reserved: 0, safetyStockCount: 0, atf: 5, effectiveDate: new Date().toISOString() };
    expect(translate(LEVEL_TOPIC, { record, readAt: new Date().toISOString() })).toMatchObject([{ type: 'level_observed', sku: 'ART-1', locationId: loc, available: 5 }]);
    expect(() => translate(LEVEL_TOPIC, { record: { ...record, location: undefined }, readAt: new Date().toISOString() })).toThrow(/names no location/);
    expect(() => translate(LEVEL_TOPIC, { record: { ...record, atf: 4.5 }, readAt: new Date().toISOString() })).toThrow(TranslateError);
  });
});

describe('the Orders API’s documented order (OrderGet, orders-oas-v1-public.yaml)', () => {
  test('its money: net taxation, 99.00 of goods, 25.99 shipping, 5.25 tax, 110.24 in all', () => {
    const [updated, sale] = translate(ORDER_TOPIC, documentedOrder());
    expect(sale).toMatchObject({ type: 'sale', orderId: '00000410', lines: [{ lineId: '3390171e44271bad9c36592049', sku: '701643632930', quantity: 1, locationId: null }] });
    expect(updated).toMatchObject({
      type: 'order_updated',
      order: {
        currency: 'USD',
        subtotal: 9900,
        discount: 0,
        tax: 525,
        shipping: 2599,
        total: 11024,
        paymentStatus: 'pending',
        fulfilmentStatus: 'unfulfilled',
        customerRef: '0002352',
        contact: { name: 'Max Mustermann', email: 'no-reply@salesforce.com' },
        lines: [{ unitPrice: 9900, tax: 495, total: 9900 }],
      },
    });
  });
});

describe('through the hub: polled orders and OCI changes booked', () => {
  /** The attribution window (docs/attribution.md): how long an unexplained level waits for its order. */
  const WINDOW = 30_000;
  let hub: Hub;
  let server: http.Server;
  /** The hub's clock runs this far ahead of the wall clock; moving it on makes the feeds due. */
  let ahead = 0;
  let url: string;
  const api = async (method: string, path: string, body?: unknown) =>
    answerOf(await fetch(url + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));
  const settle = async () => {
    for (let i = 0; i < 30; i++) if ((await hub.processor.drain()) + (await hub.dispatcher.drain()) === 0 && !(await hub.store.inbox.count()).received) return;
  };
  const onHand = async (sku: string) => (await hub.store.ledger.getLevel(sku, 'gallery'))?.onHand;

  beforeEach(async () => {
    const config = testConfig(
      'sqlite',
      {
        locations: [{ id: 'gallery', name: 'Gallery' }],
        engine: { reconcileEveryMs: 0, attributionWindowMs: WINDOW },
        channels: [{ id: 'b2c', name: 'Flagship store', platform: 'salesforce-commerce-cloud', baseUrl, locations: { gallery: loc }, settings: { ...REALM, oauthBaseUrl: baseUrl }, credentials: { clientId: 'B2C_ID', clientSecret: 'B2C_SECRET' } }],
      },
      { B2C_ID: CLIENT_ID, B2C_SECRET: CLIENT_SECRET },
    );
    ahead = 0;
    hub = await createHub({ config, log: createLogger(config.logLevel), clock: () => new Date(Date.now() + ahead), validateResponses: true, idleMs: 50 });
    hub.processor.start();
    server = http.createServer(hub.app);
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const sku of ['ART-1', 'ART-2']) expect((await api('PUT', `/v1/items/${sku}`, { title: sku })).status).toBe(200);
    expect((await api('POST', '/v1/channels/b2c/discover')).status).toBe(200);
    for (const sku of ['ART-1', 'ART-2']) await api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 10 });
    await settle();
    await hub.poller.pollDue();
  });

  afterEach(async () => {
    await hub.stop(100);
    server.closeAllConnections();
    await new Promise<void>((res) => server.close(() => res()));
  });

  const pollAgain = async () => {
    ahead += 61_000;
    return hub.poller.pollDue();
  };

  test('a sale is booked once (read twice by the overlap), its cancellation restocks, and an order for a product not in the catalog is kept as unmatched', async () => {
    emu.seed([{ sku: 'NOT-OURS', title: 'Someone else’s print', levels: { [loc]: 3 } }]);
    const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 2, locationId: loc });
    const { orderId: stranger } = await emu.sell({ sku: 'NOT-OURS', quantity: 1, locationId: loc });
    await pollAgain();
    await settle();
    expect(await onHand('ART-1')).toBe(8);
    // The hub's level is what the channel shows (available to fulfil: 10 on hand, 2 reserved).
    expect(emu.level('ART-1', loc)).toBe(8);
    await pollAgain();
    await settle();
    expect(await onHand('ART-1')).toBe(8);
    // The stranger's order is kept, visible and retryable, and books nothing.
    const unmatched = await hub.store.inbox.list({ limit: 100, status: 'unmatched' });
    expect(unmatched).toHaveLength(1);
    expect(JSON.stringify((await api('GET', `/v1/events/${unmatched[0]!.id}`)).body)).toContain(stranger);
    expect(unmatched[0]!.headers).toMatchObject({ 'x-stockrelay-via': 'poll', 'x-stockrelay-feed': 'orders' });

    await emu.cancel(orderId);
    await pollAgain();
    await settle();
    expect(await onHand('ART-1')).toBe(10);
    expect(emu.level('ART-1', loc)).toBe(10);
  });

  test('the reservation OCI reports for a sale is explained by the order; an edit in OCI and a return that restocks are booked once, as the channel’s', async () => {
    const moves = async () => (await hub.store.ledger.listMovements('ART-2', { limit: 50 })).filter((m) => m.channelId === 'b2c').map((m) => [m.reason, m.quantity]).reverse();
    await emu.sell({ sku: 'ART-2', quantity: 3, locationId: loc });
    await pollAgain();
    await settle();
    ahead += WINDOW + 1000;
    await pollAgain();
    await settle();
    // The order and the level it moved: one sale, nothing else.
    expect(await moves()).toEqual([['sale', -3]]);
    expect(await onHand('ART-2')).toBe(7);

    // Someone raises on-hand in Business Manager (ATF 7 → 12): seen by the levels feed, booked after the window.
    await emu.setLevel({ sku: 'ART-2', locationId: loc, available: 12 });
    await pollAgain();
    await settle();
    expect(await onHand('ART-2')).toBe(7);
    ahead += WINDOW + 1000;
    await pollAgain();
    await settle();
    expect(await onHand('ART-2')).toBe(12);
    // A return restocks one unit in OCI; the Orders API says nothing of it.
    const { orderId } = await emu.sell({ sku: 'ART-2', quantity: 1, locationId: loc });
    await pollAgain();
    await settle();
    await emu.refund({ orderId, restock: true, quantity: 1 });
    await pollAgain();
    await settle();
    ahead += WINDOW + 1000;
    await pollAgain();
    await settle();
    expect(await onHand('ART-2')).toBe(12);
    expect(await moves()).toEqual([['sale', -3], ['adjustment', 5], ['sale', -1], ['adjustment', 1]]);
    // Polled again: nothing more.
    await pollAgain();
    await settle();
    expect((await moves()).length).toBe(4);
    expect(emu.level('ART-2', loc)).toBe(12);
  });
});

describe('Salesforce’s OpenAPI files', () => {
  test('the emulator answers a request outside them 400 and records it (sent: limit=500 to getOrders, whose maximum is 200)', async () => {
    const own = new SfccEmulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, ...REALM });
    const url = await own.start();
    try {
      const token = await tokenFor(url, 'SALESFORCE_COMMERCE_API:zzts_prd sfcc.orders');
      const res = await fetch(`${url}/checkout/orders/v1/organizations/${REALM.organizationId}/orders?siteId=${REALM.siteId}&limit=500`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(400);
      expect(own.specViolations).toEqual([{ kind: 'request', what: expect.stringContaining('limit=500'), errors: [expect.stringMatching(/query parameter limit: .*must be <= 200/)] }]);
    } finally {
      await own.stop();
    }
  });

  test('every request the connector sent in these tests, and every answer, kept to them where they describe the path; OCI is in none of them', () => {
    expect(emulators.length).toBeGreaterThan(10);
    expect(emulators.flatMap((e) => e.specViolations)).toEqual([]);
    const covered = new Set(emulators.flatMap((e) => [...e.covered.keys()]));
    expect([...covered].sort()).toEqual([
      'GET /organizations/{organizationId}/orders',
      'PATCH /organizations/{organizationId}/products/{productId}',
      'POST /organizations/{organizationId}/product-search',
    ]);
    const uncovered = new Set(emulators.flatMap((e) => [...e.uncovered.keys()]));
    expect([...uncovered].every((op) => op.includes('/inventory/availability/v1/'))).toBe(true);
  });
});
