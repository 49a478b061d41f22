/**
 * Polling (docs/polling.md) through the whole hub, against the WooCommerce emulator and its `orders`
 * feed: a sale whose webhook was lost is booked through polling exactly once; the same sale by
 * webhook and by poll is booked once; a crash between a poll and its commit reads the page again and
 * books once; a page's events and cursor commit together or not at all; the overlap re-reads without
 * storing again; backoff after a 5xx and a 429 with Retry-After; the stall alert raised and resolved;
 * /metrics and the channel API show last poll, lag and errors; a page the connector cannot read
 * changes nothing. SQLite and PostgreSQL. Then: pushes and polls of one channel share its pace; the
 * poller starts and stops with the hub; the config's polling section is checked.
 *
 * The hub runs on a clock the test moves (`ahead` ms past the wall clock); the poller and the
 * dispatcher are driven by hand (`poller.pollDue()`, `dispatcher.drain()`), except in the start/stop
 * test; the booking worker runs, and `settle()` waits for it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FEED_LEASE_MS } from '../../server/channels/poller';
import { MAX_CURSOR_LENGTH } from '../../server/channels/poll-page';
import { definition as wooDefinition } from '../../server/connectors/woocommerce';
import { WooEmulator } from '../../server/connectors/woocommerce/emulator';
import { WOO_LOCATION } from '../../server/connectors/woocommerce/translate';
import type { Connector, ConnectorDefinition } from '../../server/connectors/types';
import { createHub, type Hub, type HubOptions } from '../../server/hub';
import { createLogger } from '../../server/log';
import { FeedMovedError, type Store } from '../../server/store/types';
import { ADMIN_TOKEN, answerOf, dropSchema, freshSchema, startHub, testConfig, type StoreKind } from '../helpers/hub';
import { STORES } from '../helpers/stores';

jest.setTimeout(120_000);

const CK = 'ck_poll0123456789abcdef0123456789abcdef0';
const CS = 'cs_poll89abcdef0123456789abcdef0123456789';
const HOOK = 'polling webhook secret';
const ENV = { W_KEY: CK, W_SECRET: CS, W_HOOK: HOOK };
const EVERY = 60_000;
const SKUS = ['ART-1', 'ART-2', 'ART-3', 'ART-4', 'ART-5', 'ART-6'];

const channel = (baseUrl: string, extra: object = {}) => ({
  id: 'woo',
  name: 'Web shop',
  platform: 'woocommerce',
  baseUrl,
  locations: { gallery: WOO_LOCATION },
  credentials: { consumerKey: 'W_KEY', consumerSecret: 'W_SECRET', webhookSecret: 'W_HOOK' },
  ...extra,
});

interface Rig {
  hub: Hub;
  store: Store;
  emu: WooEmulator;
  url: string;
  /** The hub's clock runs this many ms ahead of the wall clock. */
  ahead: number;
  now(): number;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  settle(): Promise<void>;
  onHand(sku: string): Promise<number | undefined>;
  close(): Promise<void>;
}

async function rig(kind: StoreKind, opts: { channel?: object; hub?: Partial<HubOptions> } = {}): Promise<Rig> {
  const r = { ahead: 0 } as Rig;
  // The store keeps time with the hub: moving the hub's clock on moves the store's (its orders' dates).
  const emu = new WooEmulator({ consumerKey: CK, consumerSecret: CS, webhookSecret: HOOK, clock: () => Date.now() + r.ahead });
  const base = await emu.start(0);
  const config = testConfig(
    kind,
    { locations: [{ id: 'gallery', name: 'Gallery' }], engine: { reconcileEveryMs: 0, attributionWindowMs: 3_600_000 }, channels: [channel(base, { polling: { everyMs: EVERY }, ...opts.channel })] },
    ENV,
  );
  const schema = kind === 'postgres' ? freshSchema('poll') : undefined;
  const hub = await createHub({ config, log: createLogger(config.logLevel), clock: () => new Date(Date.now() + r.ahead), validateResponses: true, idleMs: 50, store: schema ? { pgSchema: schema } : {}, ...opts.hub });
  // The app and the booking worker (so writes through the API are answered once booked); the
  // poller and the dispatcher run only when the test says.
  hub.processor.start();
  const server = http.createServer(hub.app);
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  emu.subscribe(`${url}/v1/webhooks/woo`);
  Object.assign(r, {
    hub,
    store: hub.store,
    emu,
    url,
    now: () => Date.now() + r.ahead,
    async api(method: string, path: string, body?: unknown) {
      return answerOf(await fetch(url + path, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }));
    },
    async settle() {
      for (let i = 0; i < 30; i++) {
        await emu.flushWebhooks();
        const n = (await hub.processor.drain()) + (await hub.dispatcher.drain());
        await emu.flushWebhooks();
        if (n === 0 && !(await hub.store.inbox.count()).received) return;
      }
      throw new Error('the hub did not settle');
    },
    async onHand(sku: string) {
      return (await hub.store.ledger.getLevel(sku, 'gallery'))?.onHand;
    },
    async close() {
      await hub.stop(100);
      server.closeAllConnections();
      await new Promise<void>((res) => server.close(() => res()));
      await emu.stop();
      if (schema) await dropSchema(schema);
    },
  });
  return r;
}

/** Seeds the store and the catalog, maps them, and counts 20 of each. */
async function stock(r: Rig): Promise<void> {
  r.emu.seed(SKUS.map((sku) => ({ sku, title: sku, levels: { [WOO_LOCATION]: 20 } })));
  for (const sku of SKUS) expect((await r.api('PUT', `/v1/items/${sku}`, { title: sku })).status).toBe(200);
  expect((await r.api('POST', '/v1/channels/woo/discover')).status).toBe(200);
  for (const sku of SKUS) await r.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 20 });
  await r.settle();
}

describe.each<StoreKind>(STORES)('polling on %s', (kind) => {
  let r: Rig;
  /** Moves the hub's clock on (one interval by default) and polls what is due. */
  const poll = async (ms = EVERY + 1) => {
    r.ahead += ms;
    return r.hub.poller.pollDue();
  };
  const feed = async () => (await r.store.feeds.get('woo', 'orders'))!;
  const saleMoves = async (sku: string, orderId: string) => (await r.store.ledger.listMovements(sku, { limit: 200 })).filter((m) => m.idempotencyKey.startsWith(`sale:woo:${orderId}:`));
  const inboxCount = async () => Object.values(await r.store.inbox.count()).reduce((a, b) => a + b, 0);
  const polledKey = (orderId: string) => `channel:woo:order-${orderId}@${String(r.emu.order(orderId)!.date_modified_gmt)}`;
  let lostOrder = '';

  beforeAll(async () => {
    r = await rig(kind);
    await stock(r);
    // The first poll only records where the store stands.
    const [first] = await r.hub.poller.pollDue();
    expect(first).toMatchObject({ channelId: 'woo', feed: 'orders', pages: 1, stored: 0, error: null });
    expect((await feed()).cursor).not.toBeNull();
  });
  afterAll(() => r?.close());

  test('a sale whose webhook is lost is found by polling and booked exactly once', async () => {
    r.emu.faults.webhooks.drop = 1;
    const { orderId } = await r.emu.sell({ sku: 'ART-1', quantity: 2 });
    lostOrder = orderId;
    await r.settle();
    expect(await r.onHand('ART-1')).toBe(20);
    // Not due before its interval: nothing asked.
    const asked = r.emu.requests.length;
    expect(await r.hub.poller.pollDue()).toEqual([]);
    expect(r.emu.requests.length).toBe(asked);

    const [turn] = await poll();
    expect(turn).toMatchObject({ stored: 1, error: null });
    await r.settle();
    expect(await r.onHand('ART-1')).toBe(18);
    expect(await saleMoves('ART-1', orderId)).toHaveLength(1);
    // Stored as a verified webhook is, marked as polled; the event view says so.
    const entry = (await r.store.inbox.byKey(polledKey(orderId)))!;
    expect(entry).toMatchObject({ source: 'channel', kind: 'order.updated', status: 'processed' });
    expect(entry.headers).toMatchObject({ 'x-stockrelay-channel': 'woo', 'x-stockrelay-via': 'poll', 'x-stockrelay-feed': 'orders' });
    expect((await r.api('GET', `/v1/events/${entry.id}`)).body).toMatchObject({ source: 'channel', via: 'poll', status: 'processed' });

    // Polled again a minute later: the overlap reads the order again; nothing new is stored or booked.
    const [again] = await poll();
    expect(again).toMatchObject({ stored: 0, error: null });
    await r.settle();
    expect(await r.onHand('ART-1')).toBe(18);
    expect(await saleMoves('ART-1', orderId)).toHaveLength(1);
    r.emu.faults.webhooks.drop = 0;
  });

  test('an order changed later (its webhook lost too) is stored again under its new version and books nothing twice', async () => {
    r.emu.faults.webhooks.drop = 1;
    await r.emu.setOrderStatus(lostOrder, 'completed');
    const [turn] = await poll();
    expect(turn).toMatchObject({ stored: 1, error: null });
    await r.settle();
    expect(await r.onHand('ART-1')).toBe(18);
    expect(await saleMoves('ART-1', lostOrder)).toHaveLength(1);
    r.emu.faults.webhooks.drop = 0;
  });

  test('the same sale delivered by webhook and found by a poll is booked once', async () => {
    const { orderId } = await r.emu.sell({ sku: 'ART-2', quantity: 1 });
    await r.settle();
    expect(await r.onHand('ART-2')).toBe(19);
    const [turn] = await poll();
    expect(turn).toMatchObject({ stored: 1, error: null });
    await r.settle();
    expect(await r.onHand('ART-2')).toBe(19);
    expect(await saleMoves('ART-2', orderId)).toHaveLength(1);
    // Both are in the inbox, each with where it came from.
    const events = (await r.api('GET', '/v1/events?limit=200')).body.events as { source: string; via?: string; status: string }[];
    const channelEvents = events.filter((e) => e.source === 'channel');
    expect(channelEvents.some((e) => e.via === 'webhook')).toBe(true);
    expect(channelEvents.some((e) => e.via === 'poll')).toBe(true);
  });

  test('a crash between a poll and its commit leaves the cursor and the inbox as they were; after the lease the page is read again and booked once', async () => {
    r.emu.faults.webhooks.drop = 1;
    const { orderId } = await r.emu.sell({ sku: 'ART-3', quantity: 3 });
    const before = await feed();
    const entries = await inboxCount();
    const feeds = r.store.feeds as unknown as Record<string, unknown>;
    // The process dies after reading the page: nothing of the commit happens, and nothing is recorded.
    feeds.commitPage = () => Promise.reject(new Error('the hub process died between the poll and its commit'));
    feeds.recordFailure = () => Promise.reject(new Error('the hub process is gone'));
    try {
      const [turn] = await poll();
      expect(turn!.error).toMatch(/died between the poll and its commit/);
    } finally {
      delete feeds.commitPage;
      delete feeds.recordFailure;
    }
    const after = await feed();
    expect(after.cursor).toBe(before.cursor);
    expect(after.consecutiveErrors).toBe(before.consecutiveErrors);
    expect(await inboxCount()).toBe(entries);
    expect(await r.store.inbox.byKey(polledKey(orderId))).toBeNull();
    expect(await r.onHand('ART-3')).toBe(20);
    // The dead process's lease holds the feed until it ends: nobody polls it meanwhile.
    const asked = r.emu.requests.length;
    expect(await poll(FEED_LEASE_MS - 1000)).toEqual([]);
    expect(r.emu.requests.length).toBe(asked);
    // Then the same page is read again from the same cursor, stored, and booked once.
    const [turn] = await poll(2000);
    expect(turn).toMatchObject({ stored: 1, error: null });
    await r.settle();
    expect(await r.onHand('ART-3')).toBe(17);
    expect(await saleMoves('ART-3', orderId)).toHaveLength(1);
    r.emu.faults.webhooks.drop = 0;
  });

  test('a page commits with its cursor or not at all: a cursor moved meanwhile, or one the database refuses, leaves neither the events nor the cursor', async () => {
    const state = await feed();
    const now = new Date(r.now()).toISOString();
    const event = { dedupeKey: 'channel:woo:order-999999@2030-01-01T00:00:00', source: 'channel', kind: 'order.updated', headers: { 'x-stockrelay-channel': 'woo', 'x-stockrelay-via': 'poll' }, body: '{"id":999999}' };
    const page = { channelId: 'woo', feed: 'orders', events: [event], newestEventAt: null, now, nextPollAt: now, last: true };
    // Sent: one event and a new cursor, from a cursor that is no longer the stored one.
    const notStored = `${state.cursor ?? ''} (another process moved it since)`;
    expect(notStored).not.toBe(state.cursor);
    await expect(r.store.feeds.commitPage({ ...page, fromCursor: notStored, cursor: 'moved' })).rejects.toBeInstanceOf(FeedMovedError);
    // Sent: from the stored cursor, but a cursor longer than the column allows (the events were inserted first).
    // (Read by the database's message: better-sqlite3's error class is not jest's Error, test/api/credentials.test.ts.)
    const refused = await r.store.feeds.commitPage({ ...page, fromCursor: state.cursor, cursor: 'x'.repeat(MAX_CURSOR_LENGTH + 1) }).then(
      () => null,
      (err: unknown) => err as { message?: unknown },
    );
    expect(String(refused?.message)).toMatch(/check constraint/i);
    // Kept: no event, the same cursor.
    expect(await r.store.inbox.byKey(event.dedupeKey)).toBeNull();
    expect(await feed()).toMatchObject({ cursor: state.cursor, eventsTotal: state.eventsTotal });
    // A long cursor within the bound is kept whole (Squarespace's inventory feed remembers one level
    // per variant: 4,271 characters at 100 variants outgrew the 4,000 of migration 0017).
    const long = JSON.stringify({ v: 1, q: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`variant-${String(i).padStart(30, '0')}`, i])) });
    expect(long.length).toBeGreaterThan(100_000);
    await r.store.feeds.commitPage({ ...page, events: [], fromCursor: state.cursor, cursor: long });
    expect((await feed()).cursor).toBe(long);
    // Put back, for the tests that follow.
    await r.store.feeds.commitPage({ ...page, events: [], fromCursor: long, cursor: state.cursor! });
    expect((await feed()).cursor).toBe(state.cursor);
  });

  test('one hub process at a time holds a feed: of two claims made at once, one wins; the lease ends it', async () => {
    const now = r.now();
    const claim = (at: number) => r.store.feeds.claim('woo', 'probe', new Date(at).toISOString(), new Date(at + FEED_LEASE_MS).toISOString());
    const both = await Promise.all([claim(now), claim(now)]);
    expect(both.filter((c) => c !== null)).toHaveLength(1);
    expect(await claim(now + FEED_LEASE_MS - 1)).toBeNull();
    expect(await claim(now + FEED_LEASE_MS)).toMatchObject({ channelId: 'woo', feed: 'probe', cursor: null });
  });

  test('a page the connector cannot read gives a clear error and changes nothing; the next good poll books the sale', async () => {
    r.emu.faults.webhooks.drop = 1;
    const { orderId } = await r.emu.sell({ sku: 'ART-4', quantity: 1 });
    const before = await feed();
    const entries = await inboxCount();
    // Sent by the store: orders without their modification time.
    r.emu.orderListOverride = (orders) => orders.map((o) => ({ ...o, date_modified_gmt: null }));
    const [turn] = await poll();
    expect(turn!.error).toMatch(/^WooCommerce answered an order list the hub cannot read: order \d+ has no date_modified_gmt\. Nothing of it was stored\./);
    // Kept: the cursor, the inbox, the level; the error is on the feed for people to see.
    const after = await feed();
    expect(after).toMatchObject({ cursor: before.cursor, consecutiveErrors: 1, lastError: turn!.error, lastSuccessAt: before.lastSuccessAt });
    expect(await inboxCount()).toBe(entries);
    expect(await r.onHand('ART-4')).toBe(20);
    const view = (await r.api('GET', '/v1/channels/woo')).body;
    expect(view.feeds).toEqual([expect.objectContaining({ feed: 'orders', status: 'failing', consecutiveErrors: 1, lastError: turn!.error })]);
    r.emu.orderListOverride = null;
    const [next] = await poll();
    expect(next).toMatchObject({ stored: 1, error: null });
    await r.settle();
    expect(await r.onHand('ART-4')).toBe(19);
    expect(await saleMoves('ART-4', orderId)).toHaveLength(1);
    expect(await feed()).toMatchObject({ consecutiveErrors: 0, lastError: null });
    r.emu.faults.webhooks.drop = 0;
  });

  test('backoff: the interval doubles for each failure in a row (a 5xx), a 429 waits as long as its Retry-After says, then the feed reads again', async () => {
    const waited = async () => {
      const s = await feed();
      return Date.parse(s.nextPollAt!) - Date.parse(s.lastPollAt!);
    };
    r.emu.faults.api.failNext = 1;
    let [turn] = await poll();
    expect(turn!.error).toMatch(/HTTP 500/);
    expect(await waited()).toBeGreaterThanOrEqual(EVERY);
    expect(await waited()).toBeLessThan(EVERY + 1000);
    // Not tried again before then.
    const asked = r.emu.requests.length;
    expect(await poll(EVERY / 2)).toEqual([]);
    expect(r.emu.requests.length).toBe(asked);
    r.emu.faults.api.failNext = 1;
    [turn] = await poll(EVERY / 2 + 1);
    expect(turn!.error).toMatch(/HTTP 500/);
    expect(await waited()).toBeGreaterThanOrEqual(2 * EVERY);
    expect(await waited()).toBeLessThan(2 * EVERY + 1000);
    // The host asks for 15 minutes: longer than the backoff (4 minutes), so honoured.
    r.emu.faults.api.rateLimitNext = { count: 1, retryAfterSeconds: 900 };
    [turn] = await poll(2 * EVERY + 1);
    expect(turn!.error).toMatch(/HTTP 429.*retry in 900 s/);
    expect(await waited()).toBeGreaterThanOrEqual(900_000);
    expect(await waited()).toBeLessThan(901_000);
    expect((await feed()).consecutiveErrors).toBe(3);
    expect(await poll(4 * EVERY)).toEqual([]);
    [turn] = await poll(900_000 - 4 * EVERY + 1);
    expect(turn).toMatchObject({ error: null });
    expect(await feed()).toMatchObject({ consecutiveErrors: 0, lastError: null });
  });

  test('a feed not read for its stall limit raises one feed_stalled alert about the channel; it is resolved when the feed reads again', async () => {
    const stalled = async () => ((await r.api('GET', '/v1/alerts?status=open&limit=100')).body.alerts as { kind: string; channelId: string | null; severity: string; message: string }[]).filter((a) => a.kind === 'feed_stalled');
    expect(await stalled()).toEqual([]);
    r.emu.faults.api.failNext = 1000;
    let rounds = 0;
    while ((await stalled()).length === 0 && rounds < 20) {
      await poll();
      rounds++;
    }
    r.emu.faults.api.failNext = 0;
    // Five intervals (5 minutes) without a good read.
    expect(rounds).toBeGreaterThanOrEqual(5);
    expect(rounds).toBeLessThanOrEqual(6);
    const [alert] = await stalled();
    expect(alert).toMatchObject({ channelId: 'woo', severity: 'warning' });
    expect(alert!.message).toMatch(/^Web shop: its orders are checked every 60 s but the list has not been read for \d+ min .*HTTP 500/);
    // Raised once, however many rounds go by.
    await poll();
    expect(await stalled()).toHaveLength(1);
    expect((await r.api('GET', '/v1/channels/woo')).body.feeds[0].status).toBe('stalled');
    // Reads again (once its backoff is over): the alert is resolved.
    const due = Date.parse((await feed()).nextPollAt!) - r.now() + 1;
    const [turn] = await poll(Math.max(1, due));
    expect(turn).toMatchObject({ error: null });
    expect(await stalled()).toEqual([]);
    const resolved = (await r.api('GET', '/v1/alerts?status=resolved&limit=100')).body.alerts as { kind: string }[];
    expect(resolved.some((a) => a.kind === 'feed_stalled')).toBe(true);
    expect((await r.api('GET', '/v1/channels/woo')).body.feeds[0].status).toBe('ok');
  });

  test('/metrics and the channel API show each feed: last poll, lag, errors, events', async () => {
    await poll();
    const s = await feed();
    const text = await (await fetch(`${r.url}/metrics`)).text();
    const metric = (name: string) => {
      const m = new RegExp(`^${name}\\{channel="woo",feed="orders"\\} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : null;
    };
    expect(metric('stockrelay_feed_last_poll_timestamp_seconds')).toBe(Date.parse(s.lastPollAt!) / 1000);
    expect(metric('stockrelay_feed_last_success_timestamp_seconds')).toBe(Date.parse(s.lastSuccessAt!) / 1000);
    expect(metric('stockrelay_feed_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(metric('stockrelay_feed_lag_seconds')).toBeLessThan(60);
    expect(metric('stockrelay_feed_consecutive_errors')).toBe(0);
    // Failed polls of the tests above (the crash, a bad page, two 500s, a 429, the stall's rounds).
    expect(metric('stockrelay_feed_errors_total')).toBeGreaterThanOrEqual(8);
    // New events: the lost sale, its change, the sale also sent by webhook, the crash's and the bad page's sales.
    expect(metric('stockrelay_feed_events_total')).toBeGreaterThanOrEqual(5);

    const one = await r.api('GET', '/v1/channels/woo');
    expect(one.status).toBe(200);
    expect(one.body.feeds).toEqual([
      {
        feed: 'orders',
        status: 'ok',
        everyMs: EVERY,
        lastPollAt: s.lastPollAt,
        lastSuccessAt: s.lastSuccessAt,
        cursorAdvancedAt: s.lastAdvancedAt,
        nextPollAt: s.nextPollAt,
        lagSeconds: expect.any(Number),
        consecutiveErrors: 0,
        lastError: null,
        eventsStored: s.eventsTotal,
      },
    ]);
    expect(s.eventsTotal).toBeGreaterThanOrEqual(5);
    const all = await r.api('GET', '/v1/channels');
    expect(all.body.channels.map((c: { id: string; feeds: unknown[] }) => [c.id, c.feeds.length])).toEqual([['woo', 1]]);
    expect((await r.api('GET', '/v1/channels/nope')).status).toBe(404);
  });
});

describe('pushes and polls of one channel', () => {
  test('take turns from the channel’s one pace, request by request: together they never exceed it', async () => {
    const WINDOW = 500;
    const calls: { what: 'push' | 'poll'; at: number }[] = [];
    // The WooCommerce connector as is (its axios client takes each request's turn with
    // `requestTurn`), declared with a tight pace (2 requests in any 500 ms), one item per push, and
    // its calls timed.
    const paced: ConnectorDefinition = {
      ...wooDefinition,
      capabilities: { ...wooDefinition.capabilities, maxBatch: 1, rateLimit: { kind: 'requests_per_window', requests: 2, windowMs: WINDOW, description: '2 per 500 ms (test)' } },
      create(ctx) {
        const real = wooDefinition.create(ctx);
        const c: Connector = Object.create(real) as Connector;
        return Object.assign(c, {
          capabilities: paced.capabilities,
          push: (targets: Parameters<Connector['push']>[0], signal?: AbortSignal) => {
            calls.push({ what: 'push', at: Date.now() });
            return real.push(targets, signal);
          },
          poll: (feed: string, cursor: string | null, signal?: AbortSignal) => {
            calls.push({ what: 'poll', at: Date.now() });
            return real.poll!(feed, cursor, signal);
          },
        });
      },
    };
    const r = await rig('sqlite', { channel: { settings: { pageSize: 1 } }, hub: { connectors: [paced] } });
    try {
      await stock(r);
      await r.hub.poller.pollDue();
      // Five sales the webhooks lose (five pages of one order), and a level change of every item (six pushes).
      r.emu.faults.webhooks.drop = 1;
      for (let i = 0; i < 5; i++) await r.emu.sell({ sku: SKUS[i]!, quantity: 1 });
      for (const sku of SKUS) await r.api('POST', `/v1/items/${sku}/adjustments`, { location: 'gallery', quantity: 5, reason: 'restock' });
      await r.hub.processor.drain();
      calls.length = 0;
      // Every turn the channel's pace gives, on the hub's clock.
      const pace = r.hub.channels.get('woo')!.pace!;
      const turns: number[] = [];
      const take = pace.limiter.take.bind(pace.limiter);
      pace.limiter.take = (cost, nowMs) => {
        turns.push(nowMs);
        take(cost, nowMs);
      };
      const from = r.emu.arrivals.length;
      r.ahead += EVERY + 1;
      await Promise.all([r.hub.dispatcher.drain(), r.hub.poller.pollDue()]);
      const pushes = calls.filter((c) => c.what === 'push').length;
      const polls = calls.filter((c) => c.what === 'poll').length;
      expect(pushes).toBeGreaterThanOrEqual(6);
      expect(polls).toBeGreaterThanOrEqual(5);
      // Every request that reached WooCommerce took a turn (a push is a read and a write), and in
      // any 500 ms there were at most two turns, pushes and polls together. (A pace counting calls,
      // not requests, lets a push's read and write through beside a poll.)
      expect(r.emu.arrivals.length - from).toBe(turns.length);
      expect(turns.length).toBeGreaterThanOrEqual(2 * 6 + 5);
      const tooClose = turns.slice(2).map((t, i) => t - turns[i]!).filter((gap) => gap < WINDOW);
      expect(tooClose).toEqual([]);
      // And they did run at the same time: each started before the other had finished.
      const span = (w: string) => calls.filter((c) => c.what === w).map((c) => c.at);
      expect(Math.min(...span('poll'))).toBeLessThan(Math.max(...span('push')));
      expect(Math.min(...span('push'))).toBeLessThan(Math.max(...span('poll')));
    } finally {
      await r.close();
    }
  });
});

describe('the poller with the hub', () => {
  test('starts with the hub, finds a lost sale on its own, and stops cleanly with a poll in flight', async () => {
    const emu = new WooEmulator({ consumerKey: CK, consumerSecret: CS, webhookSecret: HOOK });
    const base = await emu.start(0);
    const t = await startHub('sqlite', {
      file: { locations: [{ id: 'gallery', name: 'Gallery' }], engine: { reconcileEveryMs: 0, pollEveryMs: 1000 }, channels: [channel(base)] },
      env: ENV,
    });
    try {
      emu.subscribe(`${t.url}/v1/webhooks/woo`);
      emu.seed([{ sku: 'ART-1', title: 'ART-1', levels: { [WOO_LOCATION]: 20 } }]);
      await t.api('PUT', '/v1/items/ART-1', { title: 'ART-1' });
      expect((await t.api('POST', '/v1/channels/woo/discover')).status).toBe(200);
      await t.api('POST', '/v1/items/ART-1/counts', { location: 'gallery', counted: 20 });
      const until = async (what: string, ok: () => Promise<boolean>) => {
        for (let i = 0; i < 400; i++) {
          if (await ok()) return;
          await new Promise((res) => setTimeout(res, 50));
        }
        throw new Error(`gave up waiting: ${what}`);
      };
      await until('the first poll', async () => ((await t.hub.store.feeds.get('woo', 'orders'))?.cursor ?? null) !== null);
      emu.faults.webhooks.drop = 1;
      await emu.sell({ sku: 'ART-1', quantity: 4 });
      await until('the lost sale to be booked', async () => (await t.hub.store.ledger.getLevel('ART-1', 'gallery'))?.onHand === 16);
      // A poll under way when the hub stops: it is cut short, nothing of it is committed.
      emu.faults.api.latencyMs = 2_000;
      const asked = emu.requests.length;
      await until('a poll in flight', async () => emu.requests.slice(asked).some((q) => q.path.endsWith('/orders')));
      const cursor = (await t.hub.store.feeds.get('woo', 'orders'))!.cursor;
      await t.hub.poller.stop();
      emu.faults.api.latencyMs = 0;
      expect((await t.hub.store.feeds.get('woo', 'orders'))!.cursor).toBe(cursor);
      // Stopped: no further poll (a push of the hub's may still be on its way; it is not a poll).
      const polls = () => emu.requests.filter((q) => q.method === 'GET' && q.path.endsWith('/orders')).length;
      const after = polls();
      await new Promise((res) => setTimeout(res, 1500));
      expect(polls()).toBe(after);
    } finally {
      emu.faults.api.latencyMs = 0;
      await t.close();
      await emu.stop();
    }
  });
});

describe('the polling section of the config', () => {
  const base = 'http://127.0.0.1:9';
  const load = (extra: object, engine: object = {}) => () => testConfig('sqlite', { locations: [{ id: 'gallery', name: 'Gallery' }], engine, channels: [channel(base, extra)] }, ENV);

  test('a feed the connector does not poll is refused, naming the feeds it polls', () => {
    expect(load({ polling: { feeds: { refunds: { everyMs: 5000 } } } })).toThrow('Config file: channels.0.polling.feeds names "refunds", which the woocommerce connector does not poll; it polls: orders.');
  });

  test('a stall limit shorter than the interval is refused with the reason', () => {
    expect(load({ polling: { everyMs: 120_000, stallAfterMs: 60_000 } })).toThrow(/channels\.0\.polling\.stallAfterMs \(60000\) is shorter than channels\.0\.polling\.everyMs \(120000\)/);
    expect(load({}, { pollEveryMs: 120_000, pollStallAfterMs: 60_000 })).toThrow(/engine\.pollStallAfterMs \(60000\) is shorter than engine\.pollEveryMs \(120000\)/);
  });

  test('an interval under a second is refused; a valid section is kept as written', () => {
    expect(load({ polling: { everyMs: 10 } })).toThrow(/polling\/everyMs|everyMs/);
    const ok = load({ polling: { everyMs: 30_000, feeds: { orders: { enabled: false } } } })();
    expect(ok.channels[0]!.polling).toEqual({ everyMs: 30_000, feeds: { orders: { enabled: false } } });
    expect(ok.polling).toEqual({ everyMs: 60_000, stallAfterMs: undefined });
  });
});
