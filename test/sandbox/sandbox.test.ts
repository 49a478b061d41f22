/**
 * What a newcomer gets from `npm start` with no channel configured: the hub beside the emulators of
 * every sandbox platform, the demo catalog mapped and pushed. And the promise of the product, end to
 * end through the real connectors and emulators, for every pair of channels: a sale on one channel
 * is booked once and reaches every other channel once; a refund with restock brings it back; a refund
 * without restock books nothing to stock; the platforms' echo webhooks start no push loop.
 */
import http from 'node:http';
import { DEMO_CATALOG } from '../../server/sandbox';
import { SANDBOX_PLATFORMS } from '../../server/sandbox-platforms';
import { startStockrelay, type Started } from '../../server/start';
import { createLogger } from '../../server/log';
import type { Movement } from '../../server/core/ledger';
import { settleHub, testConfig } from '../helpers/hub';
import { callAdmin } from './admin-api';
import { WebhookSink } from '../connectors/helpers/webhook-sink';
import type { SquareEmulator } from '../../server/connectors/square/emulator';
import type { ShopifyEmulator } from '../../server/connectors/shopify/emulator';

let s: Started;
/** The shop's Slack channel: alerts arrive here as {"text"}. */
let ops: WebhookSink;
const slackLines = () => ops.received.map((r) => (JSON.parse(r.raw.toString('utf8')) as { text: string }).text);

const api = (method: string, p: string, body?: unknown) => callAdmin(s.url, method, p, body);

/** Lets every emulator send what it holds and the hub book and push it, until nothing moves any more. */
async function quiesce(): Promise<void> {
  let last = -1;
  for (let i = 0; i < 200; i++) {
    await Promise.all(s.sandbox!.channels.map((c) => c.emulator.flushWebhooks()));
    await settleHub(s.hub);
    // A push answered "stale" (the platform moved since we read it) is tried again shortly: wait for it.
    if ((await s.hub.store.outbox.count()).pending) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const seen = s.sandbox!.channels.reduce((n, c) => n + c.emulator.requests.length, 0) + ((await s.hub.store.inbox.count()).processed ?? 0);
    if (seen === last) return;
    last = seen;
  }
  const open: unknown[] = [];
  for (const c of s.sandbox!.channels) open.push(...(await s.hub.store.channelLevels.list(c.config.id)).filter((l) => l.pendingSince));
  const waiting = (await s.hub.store.outbox.list({ limit: 20, status: 'pending' })).map((r) => [r.sink, r.payload, r.lastError]);
  throw new Error(`the sandbox did not come to rest: ${JSON.stringify({ open, waiting })}`);
}

type Levels = { hub: Record<string, number>; channels: Record<string, Record<string, number | null>> };

async function levels(sku: string): Promise<Levels> {
  const r = await api('GET', `/v1/sandbox/levels/${sku}`);
  expect(r.status).toBe(200);
  const body = r.body as { hub: { locationId: string; available: number }[]; channels: { channelId: string; levels: { locationId: string; level: number | null }[] }[] };
  return {
    hub: Object.fromEntries(body.hub.map((l) => [l.locationId, l.available])),
    channels: Object.fromEntries(body.channels.map((c) => [c.channelId, Object.fromEntries(c.levels.map((l) => [l.locationId, l.level]))])),
  };
}

/** Every channel shows the hub's available level at every location it maps (buffer 0 in the sandbox). */
function expectChannelsFollow(v: Levels): void {
  for (const [channel, byLocation] of Object.entries(v.channels)) {
    for (const [location, level] of Object.entries(byLocation)) {
      expect({ channel, location, level }).toEqual({ channel, location, level: Math.max(0, v.hub[location] ?? 0) });
    }
  }
}

async function movements(sku: string): Promise<Movement[]> {
  const r = await api('GET', `/v1/items/${sku}/movements?limit=500`);
  expect(r.status).toBe(200);
  return r.body.movements as Movement[];
}

beforeAll(async () => {
  // Short backoff and suspension, so the outage test below runs in a second or two.
  ops = new WebhookSink();
  const opsUrl = await ops.start();
  const config = testConfig(
    'sqlite',
    { dispatch: { baseDelayMs: 20, maxDelayMs: 200, suspendAfter: 3, suspendMs: 1000 }, notify: [{ id: 'ops', url: opsUrl, topics: ['alert.raised'], format: 'slack' }] },
    { PORT: '0', HOST: '127.0.0.1' },
  );
  s = await startStockrelay(config, createLogger('silent'), {}, { idleMs: 50, validateResponses: true });
  await quiesce();
});

afterAll(async () => {
  await s?.stop();
  await ops?.stop();
});

const CHANNELS = SANDBOX_PLATFORMS.map((p) => p.channelId);

describe('npm start with no channel configured', () => {
  it('runs the hub in sandbox mode beside an emulator of every sandbox platform', async () => {
    const health = await fetch(`${s.url}/healthz`).then((r) => r.json());
    expect(health).toMatchObject({ mode: 'sandbox' });
    const channels = await api('GET', '/v1/channels');
    expect(channels.body.channels.map((c: { id: string; platform: string; connected: boolean }) => [c.id, c.platform, c.connected])).toEqual(
      SANDBOX_PLATFORMS.map((p) => [p.channelId, p.platform, true]),
    );
    // The made-up credentials are never shown.
    expect(JSON.stringify(channels.body)).not.toMatch(/sandbox-(accessToken|webhookSecret|consumerSecret|webhookSignatureKey)-/);
  });

  it('maps the whole demo catalog on every channel and pushes every level', async () => {
    for (const id of CHANNELS) {
      const listings = await api('GET', `/v1/channels/${id}/listings`);
      expect(listings.status).toBe(200);
      expect(listings.body.listings.map((l: { sku: string }) => l.sku).sort()).toEqual(DEMO_CATALOG.map((i) => i.sku).sort());
    }
    for (const item of DEMO_CATALOG) {
      const v = await levels(item.sku);
      for (const [location, counted] of Object.entries(item.stock)) expect(v.hub[location]).toBe(counted);
      expectChannelsFollow(v);
    }
  });
});

describe.each(CHANNELS)('a sale on %s', (seller) => {
  const others = CHANNELS.filter((c) => c !== seller);
  const sku = 'CRD-0101';

  it(`is booked once and reaches ${others.join(' and ')} once; a refund with restock brings it back`, async () => {
    const before = await levels(sku);
    const movesBefore = (await movements(sku)).length;
    const pushesBefore = Object.fromEntries(s.sandbox!.channels.map((c) => [c.config.id, c.emulator.requests.length]));

    const sale = await api('POST', `/v1/sandbox/channels/${seller}/sales`, { sku, quantity: 2, location: 'gallery' });
    expect(sale.status).toBe(201);
    await quiesce();

    const after = await levels(sku);
    expect(after.hub.gallery).toBe(before.hub.gallery! - 2);
    expect(after.hub.warehouse).toBe(before.hub.warehouse);
    expectChannelsFollow(after);
    const booked = (await movements(sku)).slice(0, (await movements(sku)).length - movesBefore);
    expect(booked.map((m) => [m.reason, m.quantity, m.locationId, m.channelId])).toEqual([['sale', -2, 'gallery', seller]]);
    // Every other channel was written to; the seller's own echo of the new level changed nothing more.
    for (const c of others) expect(s.sandbox!.channels.find((x) => x.config.id === c)!.emulator.requests.length).toBeGreaterThan(pushesBefore[c]!);

    const refund = await api('POST', `/v1/sandbox/channels/${seller}/refunds`, { orderId: sale.body.orderId, restock: true });
    expect(refund.status).toBe(201);
    await quiesce();

    const back = await levels(sku);
    expect(back.hub).toEqual(before.hub);
    expectChannelsFollow(back);
    const all = await movements(sku);
    // Newest first: the sale, then the return (one movement, or one per unit where the platform
    // reports restocks as a running count, as WooCommerce does).
    const returned = all.slice(0, all.length - movesBefore - 1);
    expect(returned.length).toBeGreaterThanOrEqual(1);
    expect(returned.every((m) => m.reason === 'return' && m.locationId === 'gallery' && m.channelId === seller)).toBe(true);
    expect(returned.reduce((n, m) => n + m.quantity, 0)).toBe(2);
  });

  it('a refund without restock gives money back and moves no stock anywhere', async () => {
    const sale = await api('POST', `/v1/sandbox/channels/${seller}/sales`, { sku, quantity: 1, location: 'gallery' });
    await quiesce();
    const sold = await levels(sku);
    const moves = (await movements(sku)).length;
    const refund = await api('POST', `/v1/sandbox/channels/${seller}/refunds`, { orderId: sale.body.orderId, restock: false });
    expect(refund.status).toBe(201);
    await quiesce();
    expect(await levels(sku)).toEqual(sold);
    expect((await movements(sku)).length).toBe(moves);
  });
});

describe('the one-of-a-kind artwork', () => {
  it('sold on one channel leaves every channel, and is back on every channel after a return', async () => {
    const sku = 'ART-0002';
    const seller = CHANNELS[0]!;
    const sale = await api('POST', `/v1/sandbox/channels/${seller}/sales`, { sku, quantity: 1 });
    expect(sale.status).toBe(201);
    await quiesce();
    const gone = await levels(sku);
    expect(gone.hub.gallery).toBe(0);
    expectChannelsFollow(gone);
    // Channels that hide at zero took the listing down.
    const hiding = s.sandbox!.channels.filter((c) => c.config.hideAtZero).map((c) => c.config.id);
    for (const id of hiding) {
      const listing = (await api('GET', `/v1/channels/${id}/listings`)).body.listings.find((l: { sku: string }) => l.sku === sku);
      expect({ id, hidden: listing.hidden }).toEqual({ id, hidden: true });
    }
    await api('POST', `/v1/sandbox/channels/${seller}/refunds`, { orderId: sale.body.orderId, restock: true });
    await quiesce();
    const back = await levels(sku);
    expect(back.hub.gallery).toBe(1);
    expectChannelsFollow(back);
    for (const id of hiding) {
      const listing = (await api('GET', `/v1/channels/${id}/listings`)).body.listings.find((l: { sku: string }) => l.sku === sku);
      expect({ id, hidden: listing.hidden }).toEqual({ id, hidden: false });
    }
  });

  it('echoes of our own pushes start no loop: at rest, nothing more is sent to any platform', async () => {
    await quiesce();
    const counts = s.sandbox!.channels.map((c) => c.emulator.requests.length);
    const processed = (await s.hub.store.inbox.count()).processed ?? 0;
    await new Promise((r) => setTimeout(r, 300));
    await quiesce();
    expect(s.sandbox!.channels.map((c) => c.emulator.requests.length)).toEqual(counts);
    expect((await s.hub.store.inbox.count()).processed ?? 0).toBe(processed);
  });
});

describe('the gallery counter on Shopify POS', () => {
  it('sells the last painting there: a Shopify POS order (source_name "pos", the gallery’s Shopify location) booked at the gallery, gone from every other channel; a return at the counter brings it back', async () => {
    const shopify = s.sandbox!.channels.find((c) => c.config.platform === 'shopify')!;
    const sku = 'ART-0001';
    expect((await levels(sku)).hub.gallery).toBe(1);
    const sale = await api('POST', `/v1/sandbox/channels/${shopify.config.id}/sales`, { sku, quantity: 1, location: 'gallery' });
    expect(sale.status).toBe(201);
    await quiesce();

    // What Shopify sent: an order made at the POS, at the location the channel maps to the gallery.
    const events = (await api('GET', '/v1/events?limit=50')).body.events as { id: number; source: string }[];
    const orders: Record<string, unknown>[] = [];
    for (const e of events) {
      const body = (await api('GET', `/v1/events/${e.id}`)).body.body as Record<string, unknown> | string;
      const parsed = (typeof body === 'string' ? JSON.parse(body) : body) as Record<string, unknown>;
      if (parsed && parsed.admin_graphql_api_id === sale.body.orderId) orders.push(parsed);
    }
    expect(orders.length).toBeGreaterThan(0);
    expect(orders.every((o) => o.source_name === 'pos' && `gid://shopify/Location/${String(o.location_id)}` === shopify.config.locations.gallery)).toBe(true);

    const gone = await levels(sku);
    expect(gone.hub.gallery).toBe(0);
    expectChannelsFollow(gone);
    const sold = (await movements(sku)).filter((m) => m.channelId === shopify.config.id);
    expect(sold.map((m) => [m.reason, m.quantity, m.locationId])).toEqual([['sale', -1, 'gallery']]);

    await api('POST', `/v1/sandbox/channels/${shopify.config.id}/refunds`, { orderId: sale.body.orderId, restock: true });
    await quiesce();
    const back = await levels(sku);
    expect(back.hub.gallery).toBe(1);
    expectChannelsFollow(back);
    expect((await movements(sku)).filter((m) => m.channelId === shopify.config.id).map((m) => [m.reason, m.quantity, m.locationId])).toEqual([
      ['return', 1, 'gallery'],
      ['sale', -1, 'gallery'],
    ]);
  });
});

describe('a channel that goes down', () => {
  it('is suspended with an alert while the others carry on, keeps its updates queued, and catches up when it answers again', async () => {
    const sku = 'PNT-0301';
    const victim = s.sandbox!.channels.find((c) => c.config.id === 'woocommerce')!;
    const seller = CHANNELS.find((c) => c !== victim.config.id)!;
    await quiesce();
    const before = await levels(sku);
    victim.emulator.faults.api.failNext = 1_000_000;

    // From the moment the channel is suspended its queued updates are due and held back, so the hub
    // cannot settle: these waits tolerate that (what is checked below is what counts).
    const settleWhileDown = () => settleHub(s.hub).catch((err: Error) => {
      if (!/did not settle/.test(err.message)) throw err;
    });
    for (let i = 0; i < 3; i++) {
      await api('POST', `/v1/sandbox/channels/${seller}/sales`, { sku, quantity: 1, location: 'gallery' });
      await Promise.all(s.sandbox!.channels.map((c) => c.emulator.flushWebhooks()));
      await settleWhileDown();
    }
    // Wait for the failures to add up to a suspension.
    let view: { id: string; suspendedUntil: string | null }[] = [];
    for (let i = 0; i < 100; i++) {
      await settleWhileDown();
      view = (await api('GET', '/v1/channels')).body.channels;
      if (view.find((c) => c.id === 'woocommerce')!.suspendedUntil) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(view.find((c) => c.id === 'woocommerce')!.suspendedUntil).not.toBeNull();
    const alerts = (await api('GET', '/v1/alerts?status=open')).body.alerts as { kind: string; channelId: string | null; message: string }[];
    expect(alerts.filter((a) => a.kind === 'channel_failing').map((a) => a.channelId)).toEqual(['woocommerce']);
    // …and it reached the shop's Slack channel.
    await settleWhileDown();
    expect(slackLines().filter((l) => l.includes('Online shop (WooCommerce) failed'))).toEqual([expect.stringMatching(/^:rotating_light: \*stockrelay critical\*: Online shop \(WooCommerce\) failed 3 times in a row/)]);
    // The other channels followed every sale; the one that is down still shows the old level.
    const during = await levels(sku);
    expect(during.hub.gallery).toBe(before.hub.gallery! - 3);
    for (const c of CHANNELS.filter((c) => c !== 'woocommerce')) expect(during.channels[c]!.gallery).toBe(during.hub.gallery);
    expect(during.channels.woocommerce!.gallery).toBe(before.hub.gallery);
    // Nothing was given up.
    expect((await api('GET', '/v1/dead-letters')).body.deadLetters ?? []).toEqual([]);

    victim.emulator.faults.api.failNext = 0;
    for (let i = 0; i < 200; i++) {
      // While the channel is still suspended its queued updates are due and held back, so the hub
      // cannot settle yet: keep waiting (the level checked below is what counts).
      await settleHub(s.hub).catch(() => undefined);
      if ((await levels(sku)).channels.woocommerce!.gallery === during.hub.gallery) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await quiesce();
    expectChannelsFollow(await levels(sku));
    const after = (await api('GET', '/v1/alerts?status=open')).body.alerts as { kind: string }[];
    expect(after.filter((a) => a.kind === 'channel_failing')).toEqual([]);
    expect((await api('GET', '/v1/channels')).body.channels.find((c: { id: string }) => c.id === 'woocommerce').suspendedUntil).toBeNull();
  });
});

describe('the one-off piece sold on two channels at the same moment', () => {
  it('is oversold by one, physically unavoidably; the alert names both orders and reaches Slack', async () => {
    const sku = 'ART-0003';
    const [a, b] = [CHANNELS[0]!, CHANNELS[1]!];
    // Both sales happen before either platform's webhook reaches the hub.
    const first = await api('POST', `/v1/sandbox/channels/${a}/sales`, { sku, quantity: 1, location: 'gallery' });
    const second = await api('POST', `/v1/sandbox/channels/${b}/sales`, { sku, quantity: 1, location: 'gallery' });
    expect([first.status, second.status]).toEqual([201, 201]);
    await quiesce();
    expect((await levels(sku)).hub.gallery).toBe(-1);
    const oversold = ((await api('GET', '/v1/alerts?status=open')).body.alerts as { kind: string; sku: string; message: string }[]).find((x) => x.kind === 'oversold' && x.sku === sku)!;
    expect(oversold.message).toContain(`order ${first.body.orderId}`);
    expect(oversold.message).toContain(`order ${second.body.orderId}`);
    expect(slackLines().some((l) => l.includes(`${sku} is oversold at gallery`))).toBe(true);
  });
});

describe('an exchange at the gallery POS', () => {
  it('is a return plus a sale: the returned brush goes back on the shelf, the other leaves, once each, on every channel', async () => {
    const square = s.sandbox!.channels.find((c) => c.config.platform === 'square')!;
    const emu = square.emulator as SquareEmulator;
    const [back, out] = ['BRU-0201', 'BRU-0202'];
    const sale = await api('POST', `/v1/sandbox/channels/${square.config.id}/sales`, { sku: back, quantity: 2, location: 'gallery' });
    expect(sale.status).toBe(201);
    await quiesce();
    const before = { back: await levels(back), out: await levels(out) };
    const moves = { back: (await movements(back)).length, out: (await movements(out)).length };

    // The customer brings one sable brush back and takes a flat brush instead (paying the difference).
    await emu.exchange({ orderId: sale.body.orderId, returnQuantity: 1, sku: out, quantity: 1 });
    await quiesce();

    const after = { back: await levels(back), out: await levels(out) };
    expect(after.back.hub.gallery).toBe(before.back.hub.gallery! + 1);
    expect(after.out.hub.gallery).toBe(before.out.hub.gallery! - 1);
    expect(after.back.hub.warehouse).toBe(before.back.hub.warehouse);
    expectChannelsFollow(after.back);
    expectChannelsFollow(after.out);
    // One return and one sale, both from the same Square order event; the count webhook that followed
    // (both variations at once) was explained by them and booked nothing more.
    const returned = (await movements(back)).slice(0, (await movements(back)).length - moves.back);
    const sold = (await movements(out)).slice(0, (await movements(out)).length - moves.out);
    expect(returned.map((m) => [m.reason, m.quantity, m.locationId, m.channelId])).toEqual([['return', 1, 'gallery', square.config.id]]);
    expect(sold.map((m) => [m.reason, m.quantity, m.locationId, m.channelId])).toEqual([['sale', -1, 'gallery', square.config.id]]);
    expect(returned[0]!.eventId).toBe(sold[0]!.eventId);
  });
});

describe('an exchange on the web store', () => {
  it('is a return plus a sale: the returned brush goes back on the shelf, the exchanged one leaves, once each, on every channel; the level webhooks book nothing more', async () => {
    const shopify = s.sandbox!.channels.find((c) => c.config.platform === 'shopify')!;
    const emu = shopify.emulator as ShopifyEmulator;
    const [back, out] = ['BRU-0201', 'BRU-0202'];
    // A web order (no location): Shopify ships it from the first location stocking it, the hub books it there too.
    const sale = await api('POST', `/v1/sandbox/channels/${shopify.config.id}/sales`, { sku: back, quantity: 2 });
    expect(sale.status).toBe(201);
    await quiesce();
    const soldFrom = (await movements(back))[0]!;
    expect([soldFrom.reason, soldFrom.quantity, soldFrom.channelId]).toEqual(['sale', -2, shopify.config.id]);
    const before = { back: await levels(back), out: await levels(out) };
    const moves = { back: (await movements(back)).length, out: (await movements(out)).length };
    const inboxBefore = (await s.hub.store.inbox.count()).processed ?? 0;

    // Shopify native exchange: one sable brush comes back (restocked), a flat brush goes out on the same order.
    await emu.exchange({ orderId: sale.body.orderId, returnQuantity: 1, sku: out, quantity: 1 });
    await quiesce();

    const after = { back: await levels(back), out: await levels(out) };
    const returned = (await movements(back)).slice(0, (await movements(back)).length - moves.back);
    const sold = (await movements(out)).slice(0, (await movements(out)).length - moves.out);
    expect(returned.map((m) => [m.reason, m.quantity, m.locationId, m.channelId])).toEqual([['return', 1, soldFrom.locationId, shopify.config.id]]);
    expect(sold).toHaveLength(1);
    expect(sold.map((m) => [m.reason, m.quantity, m.channelId])).toEqual([['sale', -1, shopify.config.id]]);
    const outAt = sold[0]!.locationId;
    expect(after.back.hub[soldFrom.locationId]).toBe(before.back.hub[soldFrom.locationId]! + 1);
    expect(after.out.hub[outAt]).toBe(before.out.hub[outAt]! - 1);
    for (const loc of Object.keys(before.back.hub).filter((l) => l !== soldFrom.locationId)) expect(after.back.hub[loc]).toBe(before.back.hub[loc]);
    for (const loc of Object.keys(before.out.hub).filter((l) => l !== outAt)) expect(after.out.hub[loc]).toBe(before.out.hub[loc]);
    // Shopify's own levels agree with the hub where the units moved.
    const shopLoc = (ours: string) => shopify.config.locations[ours]!;
    expect(emu.level(back, shopLoc(soldFrom.locationId))).toBe(after.back.hub[soldFrom.locationId]);
    expect(emu.level(out, shopLoc(outAt))).toBe(after.out.hub[outAt]);
    expectChannelsFollow(after.back);
    expectChannelsFollow(after.out);
    // refunds/create, returns/process and the two level webhooks all reached the hub and were processed.
    expect(emu.deliveries.filter((d) => d.topic === 'returns/process').map((d) => d.status)).toEqual([200]);
    expect(((await s.hub.store.inbox.count()).processed ?? 0) - inboxBefore).toBeGreaterThanOrEqual(4);
    // No adjustment: the level webhooks were explained by the return and the sale, none waits for an explanation.
    expect([...returned, ...sold].some((m) => m.reason !== 'return' && m.reason !== 'sale')).toBe(false);
    const shopLevels = await s.hub.store.channelLevels.list(shopify.config.id, [back, out]);
    expect(shopLevels.filter((l) => l.pendingSince !== null || l.driftDown !== 0 || l.driftUp !== 0).map((l) => [l.sku, l.locationId, l.observed, l.expected, l.driftDown, l.driftUp])).toEqual([]);

    // The same returns/process notified again (a new event id) books nothing more: same exchange line id.
    emu.redeliverLast('returns/process');
    await quiesce();
    expect(emu.deliveries.filter((d) => d.topic === 'returns/process').map((d) => d.status)).toEqual([200, 200]);
    expect((await movements(out)).length).toBe(moves.out + 1);
    expect((await movements(back)).length).toBe(moves.back + 1);
    expect(await levels(out)).toEqual(after.out);
  });
});

describe('what the platforms received', () => {
  it("every request the Square connector sent in these tests matched Square's OpenAPI document", () => {
    const square = s.sandbox!.channels.find((c) => c.config.platform === 'square')!.emulator as SquareEmulator;
    expect(square.specLoaded).toBe(true);
    expect(square.requests.length).toBeGreaterThan(0);
    expect(square.specViolations).toEqual([]);
    expect(square.internalErrors).toEqual([]);
  });
});

/** The Fetch standard's "bad ports" above 1023 (no privileges needed to listen on them). */
const BAD_PORTS = [1719, 1720, 1723, 2049, 3659, 4045, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6697, 10080];

/** The first bad port nothing on this machine listens on now. */
async function freeBadPort(): Promise<number> {
  for (const port of BAD_PORTS) {
    const server = http.createServer();
    const free = await new Promise<boolean>((resolve) => server.once('error', () => resolve(false)).listen(port, '127.0.0.1', () => resolve(true)));
    if (free) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return port;
    }
  }
  throw new Error(`Every one of the Fetch standard's bad ports (${BAD_PORTS.join(', ')}) is in use on this machine.`);
}

describe('a port the sandbox cannot use', () => {
  it('stops with a message naming the port and what to do, and leaves nothing running', async () => {
    // One of the Fetch standard's "bad ports", which Node's fetch, like a browser, refuses to connect
    // to: the first of them that is free on this machine now, so a busy machine does not fail the test.
    const port = await freeBadPort();
    const config = testConfig('sqlite', {}, { PORT: String(port), HOST: '127.0.0.1' });
    const err = await startStockrelay(config, createLogger('silent'), {}, { idleMs: 50 }).then(
      async (started) => {
        await started.stop();
        return null;
      },
      (e: Error) => e,
    );
    expect(err?.message).toBe(`The sandbox cannot use port ${port}: web browsers and the sandbox's own channels refuse to connect to it. Start the hub on another port (PORT=8080, for example).`);
    // The hub let go of the port: something else can listen on it now.
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
