/**
 * The first seed's story, for every point of sale (`kind: 'point_of_sale'` in the registry), as a
 * gallery owner tries it with `STOCKRELAY_SANDBOX=<pos>,shopify npm start`: the last unit of a
 * one-of-a-kind painting sold at the gallery counter leaves the web store (Shopify shows 0 and the
 * listing is hidden), and a return at the counter with restock brings it back (Shopify shows 1 and
 * the listing is shown again). Booked once each, from the counter's channel, at the gallery: the
 * return as a `return`, or as an adjustment from the counter where its refunds never say whether the
 * goods went back.
 *
 * How long each takes is measured by the benchmark (`BENCH_ONLY=counter npm run bench`,
 * bench/counter.ts), not asserted here.
 */
import { pointsOfSale } from '../../server/connectors';
import { startStockrelay, type Started } from '../../server/start';
import { createLogger } from '../../server/log';
import type { Movement } from '../../server/core/ledger';
import { testConfig } from '../helpers/hub';
import { callAdmin } from './admin-api';

const COUNTERS = pointsOfSale()
  .filter((d) => d.sandbox)
  .map((d) => d.platform);
/** Seven Sisters, acrylic on linen: one, at the gallery. */
const PAINTING = 'ART-0001';

jest.setTimeout(120_000);

describe.each(COUNTERS)('the gallery counter on %s, the web store on Shopify', (platform) => {
  let s: Started;
  let counter = '';
  let shop = '';

  const api = (method: string, p: string, body?: unknown) => callAdmin(s.url, method, p, body);

  async function state(): Promise<{ hub: number | null; web: number | null; counter: number | null; hidden: boolean; waiting: boolean }> {
    const v = (await api('GET', `/v1/sandbox/levels/${PAINTING}`)).body as { hub: { locationId: string; available: number }[]; channels: { channelId: string; levels: { locationId: string; level: number | null }[] }[] };
    const at = (id: string) => v.channels.find((c) => c.channelId === id)?.levels.find((l) => l.locationId === 'gallery')?.level ?? null;
    const listing = ((await api('GET', `/v1/channels/${shop}/listings`)).body.listings as { sku: string; hidden: boolean }[]).find((l) => l.sku === PAINTING)!;
    const waiting = ((await api('GET', '/v1/events?status=received&limit=1')).body.events as unknown[]).length > 0;
    return { hub: v.hub.find((l) => l.locationId === 'gallery')?.available ?? null, web: at(shop), counter: at(counter), hidden: listing.hidden, waiting };
  }

  /** Waits until the painting is `n` in the hub, at the counter and on the web store, hidden at 0, with nothing left to book. */
  async function settlesAt(n: number, what: string): Promise<void> {
    let last = null;
    for (let i = 0; i < 1200; i++) {
      await Promise.all(s.sandbox!.channels.map((c) => c.emulator.flushWebhooks()));
      last = await state();
      if (last.hub === n && last.web === n && last.counter === n && last.hidden === (n === 0) && !last.waiting) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${platform}: ${what} never came to rest with the painting at ${n}: ${JSON.stringify(last)}`);
  }

  const movements = async (): Promise<Movement[]> => (await api('GET', `/v1/items/${PAINTING}/movements?limit=50`)).body.movements as Movement[];

  beforeAll(async () => {
    const env = { PORT: '0', HOST: '127.0.0.1', STOCKRELAY_SANDBOX: `${platform},shopify` };
    const config = testConfig('sqlite', { engine: { pollEveryMs: 1000, attributionWindowMs: 1500 }, dispatch: { baseDelayMs: 20, maxDelayMs: 200 } }, env);
    s = await startStockrelay(config, createLogger('silent'), { STOCKRELAY_SANDBOX: env.STOCKRELAY_SANDBOX }, { idleMs: 50, validateResponses: true });
    counter = s.sandbox!.channels.find((c) => c.config.platform === platform)!.config.id;
    shop = s.sandbox!.channels.find((c) => c.config.platform === 'shopify')!.config.id;
    await settlesAt(1, 'the first push');
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('the last unit sold at the counter leaves the web store; a return at the counter brings it back; each booked once', async () => {
    const before = (await movements()).length;
    const sale = await api('POST', `/v1/sandbox/channels/${counter}/sales`, { sku: PAINTING, quantity: 1, location: 'gallery' });
    expect(sale.status).toBe(201);
    await settlesAt(0, 'the sale at the counter');

    const refund = await api('POST', `/v1/sandbox/channels/${counter}/refunds`, { orderId: sale.body.orderId, restock: true });
    expect(refund.status).toBe(201);
    await settlesAt(1, 'the return at the counter');

    // The return: a `return` where the refund says the goods went back; where a point of sale's
    // refunds never say (Clover, Lightspeed X-Series), the counter's level rising, booked from that
    // channel as an adjustment once the attribution window found no order to explain it.
    const booked = (await movements()).slice(0, (await movements()).length - before).reverse();
    expect(booked.map((m) => [m.reason === 'adjustment' ? 'return' : m.reason, m.quantity, m.locationId, m.channelId])).toEqual([
      ['sale', -1, 'gallery', counter],
      ['return', 1, 'gallery', counter],
    ]);
  });
});
