/**
 * A write of ours that lands late (docs/attribution.md, "A write that lands after a later one").
 * The hub gives up on a push after `dispatch.timeoutMs`, but the platform may still apply that
 * request afterwards — after the retry that superseded it. On a platform that sets levels absolutely
 * (WooCommerce) the store then shows our older number. That is not a change made in the store: it
 * must not be booked (the sync benchmark, under load, booked it as +1: a unit that does not exist,
 * offered on every channel). Through the real hub, the WooCommerce connector and its emulator, with
 * a loopback proxy in front of the emulator that holds one stock write until the test releases it.
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { WooEmulator } from '../../server/connectors/woocommerce/emulator';
import { WOO_LOCATION } from '../../server/connectors/woocommerce/translate';
import type { Movement } from '../../server/core/ledger';
import { tempDir, type TestHub } from '../helpers/hub';
import { definition as wooDefinition } from '../../server/connectors/woocommerce';
import { ChannelSink } from '../../server/channels/sink';
import { limiterFor } from '../../server/outbox/rate-limit';
import { openStore } from '../../server/store/open';
import type { Store } from '../../server/store/types';
import type { ChannelConfig } from '../../server/config';
import type { WebhookSink } from '../connectors/helpers/webhook-sink';
import { startWooHub, wooDeliveries } from './helpers/woo-deliveries';

/**
 * WooCommerce, with one thing more: once armed, the next stock write is taken in and held, unanswered,
 * until the test releases it; then the store applies it (its answer goes nowhere: the hub gave up).
 */
class HoldingWoo extends WooEmulator {
  private armed = false;
  private heldWrite: (() => Promise<void>) | null = null;

  holdNextWrite(): void {
    this.armed = true;
  }

  get holding(): boolean {
    return this.heldWrite !== null;
  }

  async release(): Promise<void> {
    const apply = this.heldWrite;
    this.heldWrite = null;
    await apply?.();
  }

  protected override async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    // The same request again, readable once more, for the emulator's own handling.
    const again = Object.assign(Readable.from(raw.length ? [raw] : []), { url: req.url, method: req.method, headers: req.headers }) as unknown as http.IncomingMessage;
    let body: unknown = null;
    try {
      body = raw.length ? JSON.parse(raw.toString('utf8')) : null;
    } catch {
      body = raw.toString('utf8');
    }
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (this.armed && this.isStockWrite({ method: (req.method ?? 'GET').toUpperCase(), path, body })) {
      this.armed = false;
      this.heldWrite = () => super.handle(again, new http.ServerResponse(again));
      return; // no answer: the hub's request times out
    }
    return super.handle(again, res);
  }
}

const KEY = 'ck_late_write';
const SECRET = 'cs_late_write';
const HOOK = 'late-write-woo-webhook-secret';
const WINDOW = 1500;
const TIMEOUT = 400;

let t: TestHub;
let woo: HoldingWoo;
let caught: WebhookSink;

beforeAll(async () => {
  woo = new HoldingWoo({ consumerKey: KEY, consumerSecret: SECRET, webhookSecret: HOOK });
  ({ t, caught } = await startWooHub(woo, { key: KEY, secret: SECRET, hook: HOOK }, { engine: { attributionWindowMs: WINDOW, reconcileEveryMs: 0 }, dispatch: { timeoutMs: TIMEOUT, baseDelayMs: 50, maxDelayMs: 200 } }));
});
afterAll(async () => {
  await t?.close();
  await caught?.stop();
  await woo?.stop();
});

const level = (sku: string) => woo.level(sku, WOO_LOCATION);
const onHand = async (sku: string) => (await t.api('GET', `/v1/items/${sku}`)).body.locations.find((l: { locationId: string }) => l.locationId === 'gallery').onHand as number;
const fromWoo = async (sku: string) => ((await t.api('GET', `/v1/items/${sku}/movements?limit=100`)).body.movements as Movement[]).filter((m) => m.channelId === 'woo');

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`waited in vain for: ${what}`);
}

const { deliverAll, item } = wooDeliveries(() => t, () => woo, () => caught, 'LATE');

/** Counted 9 in the sheet: the hub sends 9, which the store takes in and holds unanswered; counted 8 meanwhile: the retry reads the store (still 10) and writes 8. */
async function nineHeldThenEight(sku: string): Promise<void> {
  woo.holdNextWrite();
  await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 9 });
  await until('the write of 9 to be held', () => woo.holding);
  await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 8 });
  await until('WooCommerce to show 8', () => level(sku) === 8);
  await t.settle();
}

test('our write of 9 lands after the retry that wrote 8: the store shows 9, nothing is booked from it, and 8 is sent again', async () => {
  const sku = await item(10);
  await nineHeldThenEight(sku);
  // Now the old request reaches the store: WooCommerce applies 9 and sends its product.updated.
  await woo.release();
  expect(level(sku)).toBe(9);
  await deliverAll();
  await new Promise((r) => setTimeout(r, WINDOW + 100));
  await t.settle();
  await deliverAll();
  await t.settle();
  // Sent: counts of 10, 9 and 8 in the sheet; kept: 8 on hand, nothing booked as a change made on WooCommerce, and the store back at 8.
  expect(await fromWoo(sku)).toEqual([]);
  expect(await onHand(sku)).toBe(8);
  await until('WooCommerce to show 8 again', () => level(sku) === 8);
});

test('a count typed in the store that is not a number of ours is still booked, with a write of ours left unanswered before', async () => {
  const sku = await item(10);
  await nineHeldThenEight(sku);
  await deliverAll();
  // Someone counts 12 in the WooCommerce admin: not a number the hub ever sent.
  await woo.setLevel({ sku, available: 12 });
  await deliverAll();
  await new Promise((r) => setTimeout(r, WINDOW + 100));
  await t.settle();
  await deliverAll();
  expect((await fromWoo(sku)).map((m) => [m.reason, m.quantity])).toEqual([['adjustment', 4]]);
  expect(await onHand(sku)).toBe(12);
  await woo.release();
});

/**
 * A queued level overtaken while it waited (docs/attribution.md, "A level overtaken in the queue").
 * The dispatcher takes a channel's rows in batches; a row taken while its channel is slow can wait
 * tens of seconds before it is sent, and meanwhile a newer level for the same item is queued behind
 * it. Sending the old one anyway sets the channel to a number the hub has moved past — with
 * compare-and-set it even succeeds, the check being against what the channel shows now — and the
 * channel's report of it reads as a change made there (the sync benchmark on a loaded machine: a row
 * of 9996 sent 32 s after it was queued, when 9986 was already queued, booked as +6 from Shopify).
 */
describe('a queued level overtaken while it waited', () => {
  let store: Store;
  let shop: WooEmulator;
  let base: string;

  beforeAll(async () => {
    store = await openStore({ dataDir: tempDir('overtaken-') });
    shop = new WooEmulator({ consumerKey: KEY, consumerSecret: SECRET, webhookSecret: HOOK });
    base = await shop.start();
  });
  afterAll(async () => {
    await store?.close();
    await shop?.stop();
  });

  test('is not sent: the newer level goes instead, and the channel never shows the old number', async () => {
    const connector = wooDefinition.create({ channelId: 'held', baseUrl: base, settings: {}, credentials: { consumerKey: KEY, consumerSecret: SECRET, webhookSecret: HOOK } });
    const config: ChannelConfig = { id: 'held', name: 'WooCommerce', platform: 'woocommerce', locations: { gallery: WOO_LOCATION }, buffer: 0, cap: null, hideAtZero: false, relistOnRestock: false, reconcile: 'flag', baseUrl: base, settings: {}, credentials: {} };
    const sink = new ChannelSink({ config, connector, limiter: limiterFor(connector.capabilities.rateLimit) }, store);
    shop.seed([{ sku: 'OVERTAKEN', title: 'OVERTAKEN', levels: { [WOO_LOCATION]: 10 } }]);
    const ref = shop.listing('OVERTAKEN')!;
    await store.listings.replace('held', [{ sku: 'OVERTAKEN', productId: ref.productId, variantId: ref.variantId, inventoryItemId: null, title: 'OVERTAKEN' }], new Date().toISOString());
    await store.channelLevels.record('held', 'OVERTAKEN', 'gallery', 'pushed', 10, new Date().toISOString());
    const enqueue = (level: number) => store.outbox.enqueue({ sink: sink.id, topic: 'level.push', coalesceKey: 'push:held:OVERTAKEN:gallery', payload: { sku: 'OVERTAKEN', location: 'gallery', level } }, new Date().toISOString());
    // 9 is queued and taken for delivery; before it goes out, 8 is queued behind it.
    await enqueue(9);
    const [taken] = await store.outbox.claim(10, 60_000, new Date().toISOString(), { sinks: [sink.id] });
    expect(taken!.payload).toMatchObject({ level: 9 });
    await enqueue(8);
    const writes = () => shop.requests.filter((r) => shop.isStockWrite(r)).length;
    const before = writes();
    const [result] = await sink.deliverBatch([taken!], new AbortController().signal);
    // Kept: no write to the store, and the row is set aside for the newer one (the dispatcher marks it superseded).
    expect(result).toBeInstanceOf(Error);
    expect(writes()).toBe(before);
    expect(shop.level('OVERTAKEN', WOO_LOCATION)).toBe(10);
    expect(await store.outbox.fail(taken!.id, (result as Error).message, new Date().toISOString(), new Date().toISOString(), taken!.lockedUntil)).toBe('superseded');
    // The newer row is delivered as usual.
    const [next] = await store.outbox.claim(10, 60_000, new Date().toISOString(), { sinks: [sink.id] });
    expect(next!.payload).toMatchObject({ level: 8 });
    expect(await sink.deliverBatch([next!], new AbortController().signal)).toEqual([null]);
    expect(shop.level('OVERTAKEN', WOO_LOCATION)).toBe(8);
  });
});
