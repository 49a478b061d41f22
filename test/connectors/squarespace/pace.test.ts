/**
 * Squarespace's limit (300 requests a minute, then a minute of 429s) with the emulator enforcing it,
 * and the hub's parts all at work on one channel at once, as in a burst of sales: the dispatcher
 * pushing levels (absolute sets read before and after they write, then deltas), the poller reading
 * both feeds (the orders, several pages in one poll, and the inventory, two pages a sweep), the order
 * fetch of every notification
 * (`expand`), and catalog discovery. Every request is counted by the channel's one pace
 * (docs/dispatch.md, "Every request counts"), so Squarespace never answers 429, and the pushes are
 * not starved by the fetches queued beside them. Time is a fake clock shared with the emulator: the
 * pace's waits advance it.
 */
import { ChannelRegistry } from '../../../server/channels/registry';
import { Poller, type FeedTurn } from '../../../server/channels/poller';
import { ChannelSink } from '../../../server/channels/sink';
import type { DispatchConfig } from '../../../server/config';
import { busiestWindow as busiest } from '../../../server/connectors/emulator';
import { SquarespaceEmulator, SQUARESPACE_LIMIT } from '../../../server/connectors/squarespace/emulator';
import { createLogger } from '../../../server/log';
import { Metrics } from '../../../server/metrics';
import { Dispatcher } from '../../../server/outbox/dispatcher';
import { openStore } from '../../../server/store/open';
import type { Store } from '../../../server/store/types';
import { tempDir } from '../../helpers/hub';
import { channelConfig, FakeClock } from '../../helpers/pace';

const KEY = 'sqsp-pace-api-key';
const SECRET = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const SITE = '5f3c3d55ac435e1a051f77b3';
/** Two pages of inventory and of products. */
const SKUS = Array.from({ length: 80 }, (_, i) => `PACE-${String(i).padStart(3, '0')}`);
/** Order notifications whose orders are fetched: alone more than Squarespace's minute allows. */
const ORDERS = 320;
const ROUNDS = 6;

let emu: SquarespaceEmulator;
let store: Store;

beforeAll(async () => {
  store = await openStore({ dataDir: tempDir('sqsp-pace-') });
});

afterAll(async () => {
  await emu?.stop();
  await store?.close();
});

test('pushes, polls, order fetches and discovery at once: every request counted, no 429, pushes not starved', async () => {
  const clock = new FakeClock();
  emu = new SquarespaceEmulator({ apiKey: KEY, webhookSecret: SECRET, websiteId: SITE, rateLimit: SQUARESPACE_LIMIT, clock: clock.now });
  const url = await emu.start();
  emu.seed(SKUS.map((sku) => ({ sku, title: sku, levels: { default: 100 } })));
  for (const sku of SKUS) await store.items.upsert({ sku, title: sku }, clock.date().toISOString());

  const config = channelConfig({ id: 'web', name: 'Squarespace', platform: 'squarespace', baseUrl: url, settings: { websiteId: SITE }, credentials: { apiKey: KEY, webhookSecret: SECRET } });
  const registry = new ChannelRegistry([config], { clock: clock.date, sleep: clock.sleep });
  const channel = registry.get('web')!;
  const silent = createLogger('silent');
  const cfg: DispatchConfig = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1000, leaseMs: 60_000, timeoutMs: 30_000 };
  const sink = new ChannelSink(channel, store, clock.date);
  const dispatcher = new Dispatcher(store, [sink], cfg, silent, new Metrics(), clock.date, () => 0.5, 50, 20, { sleep: clock.sleep });
  const poller = new Poller({
    store,
    channels: registry,
    log: silent,
    metrics: new Metrics(),
    clock: clock.date,
    defaults: { everyMs: 1000 },
    wake: () => undefined,
    raiseAlert: async () => undefined,
    sleep: (ms) => clock.sleep(ms),
  });

  // The feeds start where Squarespace stands; then the sales come in (their notifications name the
  // orders, and the orders feed will find them too: several pages in one poll).
  await poller.pollDue();
  const orderIds: string[] = [];
  for (let i = 0; i < ORDERS; i++) orderIds.push((await emu.sell({ sku: SKUS[i % 10]!, quantity: 1 })).orderId);

  const from = emu.arrivals.length;
  const started = clock.ms;
  let fetching = true;
  const finished: Record<string, number> = {};

  // Order fetches, one after another as the hub prepares one channel's notifications.
  const fetches = (async () => {
    const fetched: string[] = [];
    for (const orderId of orderIds) {
      const body = (await channel.connector.expand!('order.create', { data: { orderId } }, AbortSignal.timeout(10_000))) as { order?: { id: string } };
      fetched.push(body.order?.id ?? 'not fetched');
    }
    finished.fetches = clock.ms;
    fetching = false;
    return fetched;
  })();

  // The feeds, due every second, polled while the fetches go on.
  const polls = (async () => {
    const turns: FeedTurn[] = [];
    while (fetching) {
      const round = await poller.pollDue();
      turns.push(...round);
      if (round.length === 0) await new Promise((r) => setTimeout(r, 5));
    }
    return turns;
  })();

  // Discovery (two pages of products), then rounds of a new level for every SKU: the first round
  // sets levels never read (read, write, read back per 50), the others are deltas.
  const last = new Map<string, number>();
  const pushes = (async () => {
    await registry.discover('web', store, () => clock.date().toISOString());
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, sku] of SKUS.entries()) {
        const level = 50 + ((i + round * 7) % 40);
        last.set(sku, level);
        await store.outbox.enqueue({ sink: sink.id, topic: 'level.push', coalesceKey: `level:${sink.id}:${sku}:gallery`, payload: { sku, location: 'gallery', level } }, clock.date().toISOString());
      }
      await dispatcher.drain();
    }
    finished.pushes = clock.ms;
  })();

  const [fetched, turns] = await Promise.all([fetches, polls, pushes]);
  const arrivals = emu.arrivals.slice(from);

  // Everything was done: each order fetched, each level shown, each feed read without an error.
  expect(fetched).toEqual(orderIds);
  const rows = (await store.outbox.list({ limit: 5000 })).filter((r) => r.sink === sink.id);
  expect(rows.filter((r) => r.status !== 'done')).toEqual([]);
  expect(SKUS.filter((sku) => emu.level(sku, 'default') !== last.get(sku))).toEqual([]);
  expect(turns.filter((t) => t.error !== null)).toEqual([]);
  expect(new Set(turns.map((t) => t.feed))).toEqual(new Set(['orders', 'inventory']));

  // More requests than Squarespace takes in a minute were made, and it never refused one: the hub
  // sent at most 4 a second (240 in any minute; a request may reach the emulator a moment after
  // its turn, on the shared clock).
  expect(arrivals.length).toBeGreaterThan(SQUARESPACE_LIMIT.requests);
  expect(emu.rateLimited).toEqual([]);
  expect(busiest(arrivals, 60_000)).toBeLessThanOrEqual(240 + 4);
  expect(clock.ms - started).toBeGreaterThanOrEqual(((arrivals.length - 4) / 4) * 1000);
  // The pushes went on beside the fetches, not after them.
  expect(finished.pushes).toBeLessThan(finished.fetches!);
});
