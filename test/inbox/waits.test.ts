/**
 * An event that waits for its platform (docs/inbox-outbox.md): a WooCommerce refund webhook carries
 * only the order's id, so the hub fetches the order while it books it. While the store answers 500
 * (an outage longer than the five quick tries that used to set such an event aside as `failed`) the
 * event waits with growing pauses, the events behind it are booked, and once the store answers the
 * refund is booked once. Found by the simulation (seed 22999). SQLite and PostgreSQL.
 */
import { WooEmulator } from '../../server/connectors/woocommerce/emulator';
import { WOO_LOCATION } from '../../server/connectors/woocommerce/translate';
import { MAX_WAIT_FOR_PLATFORM_MS } from '../../server/inbox/prepare';
import { startHub, type StoreKind, type TestHub } from '../helpers/hub';
import { STORES } from '../helpers/stores';
import { TOPIC_OF, WebhookSink, type Received } from '../connectors/helpers/webhook-sink';

jest.setTimeout(120_000);

const SECRET = 'inbox-waits-woo-secret';

describe.each<StoreKind>(STORES)('an event whose platform does not answer waits on %s', (kind) => {
  let t: TestHub;
  let woo: WooEmulator;
  let sink: WebhookSink;
  /** The hub's clock runs ahead of the wall clock by this much: the test lets the event's pauses pass. */
  let ahead = 0;

  beforeAll(async () => {
    woo = new WooEmulator({ consumerKey: 'ck_wait', consumerSecret: 'cs_wait', webhookSecret: SECRET });
    const url = await woo.start();
    sink = new WebhookSink('/v1/webhooks/woo', TOPIC_OF.woocommerce);
    woo.subscribe(await sink.start());
    t = await startHub(kind, {
      file: {
        locations: [{ id: 'gallery', name: 'Gallery' }],
        engine: { attributionWindowMs: 3_600_000, reconcileEveryMs: 0 },
        channels: [{ id: 'woo', name: 'WooCommerce', platform: 'woocommerce', baseUrl: url, locations: { gallery: WOO_LOCATION }, credentials: { consumerKey: 'W_KEY', consumerSecret: 'W_SECRET', webhookSecret: 'W_HOOK' } }],
      },
      env: { W_KEY: 'ck_wait', W_SECRET: 'cs_wait', W_HOOK: SECRET },
      hub: { clock: () => new Date(Date.now() + ahead) },
    });
    woo.seed([{ sku: 'ART-1', title: 'Ngayu', levels: { [WOO_LOCATION]: 5 } }, { sku: 'ART-2', title: 'Seven Sisters', levels: { [WOO_LOCATION]: 5 } }]);
    for (const sku of ['ART-1', 'ART-2']) await t.api('PUT', `/v1/items/${sku}`, { title: sku });
    expect((await t.api('POST', '/v1/channels/woo/discover')).status).toBe(200);
    for (const sku of ['ART-1', 'ART-2']) await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: 5 });
    await deliverAll();
  });

  afterAll(async () => {
    await t?.close();
    await woo?.stop();
    await sink?.stop();
  });

  async function post(r: Received): Promise<{ status: string; eventId?: number }> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(r.headers)) if ((k.startsWith('x-') || k === 'content-type') && typeof v === 'string') headers[k] = v;
    const res = await fetch(`${t.url}/v1/webhooks/woo`, { method: 'POST', body: r.raw, headers });
    expect(res.status).toBe(200);
    return (await res.json()) as { status: string; eventId?: number };
  }
  async function deliverAll(): Promise<void> {
    for (let round = 0; round < 10; round++) {
      await woo.flushWebhooks();
      await t.settle();
      const next = sink.received.splice(0);
      if (next.length === 0) return;
      for (const r of next) await post(r);
    }
  }
  const onHand = async (sku: string) => (await t.api('GET', `/v1/items/${sku}`)).body.locations[0].onHand as number;
  const event = async (id: number) => (await t.api('GET', `/v1/events/${id}`)).body as { status: string; waiting?: string; retryAt?: string; attempts: number };

  test('a refund fetched during an outage of 30 calls waits, the events behind it book, and it is booked once the store answers; never failed', async () => {
    const { orderId } = await woo.sell({ sku: 'ART-1', quantity: 1 });
    await deliverAll();
    expect(await onHand('ART-1')).toBe(4);

    // The store goes down for the next 30 requests; the buyer's refund (with restock) is made before.
    await woo.refund({ orderId, restock: true, quantity: 1 });
    await woo.flushWebhooks();
    const sent = sink.received.splice(0);
    const thin = sent.find((r) => TOPIC_OF.woocommerce(r) === 'action.woocommerce_order_refunded')!;
    expect(thin).toBeDefined();
    woo.faults.api.failNext = 30;
    const refund = await post(thin);
    expect(refund.status).toBe('received');
    await t.settle();
    // Kept: the event, waiting, with why and until when; not failed, nothing booked from it yet.
    let e = await event(refund.eventId!);
    expect(e.status).toBe('received');
    expect(e.waiting).toMatch(/WooCommerce.*500.*tried again at/);
    expect(Date.parse(e.retryAt!)).toBeGreaterThan(Date.now() + ahead);
    expect(await onHand('ART-1')).toBe(4);

    // An event behind it (a count of an item the web store does not list, so nothing else calls the
    // store meanwhile) is booked.
    await t.api('PUT', '/v1/items/ART-9', { title: 'Counter only' });
    const count = await t.api('POST', '/v1/items/ART-9/counts', { location: 'gallery', counted: 7 });
    expect(count.body.status).toBe('processed');
    expect(await onHand('ART-9')).toBe(7);

    // Time passes: each try costs the store one request, the pauses grow, and the event never fails.
    const pauses: number[] = [];
    for (let round = 0; round < 60 && e.status === 'received'; round++) {
      const wait = Date.parse(e.retryAt!) - (Date.now() + ahead);
      pauses.push(wait);
      ahead += Math.max(0, wait) + 1;
      await t.settle();
      e = await event(refund.eventId!);
      expect(e.status).not.toBe('failed');
    }
    expect(e.status).toBe('processed');
    expect(e.attempts).toBeGreaterThan(5);
    expect(Math.max(...pauses)).toBeLessThanOrEqual(MAX_WAIT_FOR_PLATFORM_MS);
    expect(pauses.at(-1)!).toBeGreaterThan(pauses[0]!);
    // The refund's restock booked once.
    expect(await onHand('ART-1')).toBe(5);
    for (const r of sent) if (r !== thin) await post(r);
    await deliverAll();
    expect(await onHand('ART-1')).toBe(5);
    const returns = ((await t.api('GET', '/v1/items/ART-1/movements')).body.movements as { reason: string }[]).filter((m) => m.reason === 'return');
    expect(returns).toHaveLength(1);
  });
});
