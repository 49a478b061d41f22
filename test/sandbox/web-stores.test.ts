/**
 * Every platform beyond the sandbox's default three, in the sandbox beside Shopify, as a supplier
 * tries it with `STOCKRELAY_SANDBOX=<platform>,shopify npm start`: a sale on it is booked once and
 * reaches Shopify; a sale on Shopify reaches it; a refund with restock on it brings the stock back
 * everywhere. Platforms that send no webhooks are read by the hub's poller (every second here), and
 * one whose refunds never say whether goods went back shows the restock as its level, booked from
 * that channel after the attribution window.
 */
import { connectorFor, sandboxCapable } from '../../server/connectors';
import { startStockrelay, type Started } from '../../server/start';
import { createLogger } from '../../server/log';
import type { Movement } from '../../server/core/ledger';
import { testConfig } from '../helpers/hub';
import { callAdmin } from './admin-api';

const PLATFORMS = sandboxCapable()
  .filter((p) => !p.byDefault)
  .map((p) => p.platform);
const SKU = 'CRD-0101';

type Levels = { hub: Record<string, number>; channels: Record<string, Record<string, number | null>> };

describe.each(PLATFORMS)('%s in the sandbox beside Shopify', (platform) => {
  let s: Started;
  let ch = '';
  let shop = '';

  const api = (method: string, p: string, body?: unknown) => callAdmin(s.url, method, p, body);

  async function levels(): Promise<Levels> {
    const body = (await api('GET', `/v1/sandbox/levels/${SKU}`)).body as { hub: { locationId: string; available: number }[]; channels: { channelId: string; levels: { locationId: string; level: number | null }[] }[] };
    return {
      hub: Object.fromEntries(body.hub.map((l) => [l.locationId, l.available])),
      channels: Object.fromEntries(body.channels.map((c) => [c.channelId, Object.fromEntries(c.levels.map((l) => [l.locationId, l.level]))])),
    };
  }

  /** Every channel shows the hub's level at every location it publishes. */
  const follows = (v: Levels) => Object.values(v.channels).every((byLocation) => Object.entries(byLocation).every(([loc, level]) => level === Math.max(0, v.hub[loc] ?? 0)));

  /** Nothing the platforms sent waits to be booked (the echoes of the hub's pushes too: a platform whose webhooks are thin is read for each, at its pace). */
  const booked = async () => ((await api('GET', '/v1/events?status=received&limit=1')).body.events as unknown[]).length === 0;

  /** Waits until the hub's gallery level is `gallery`, every channel shows the hub's levels and every event is booked (polls, pushes and windows take their time). */
  async function reaches(gallery: number, what: string): Promise<Levels> {
    let last: Levels | null = null;
    for (let i = 0; i < 600; i++) {
      await Promise.all(s.sandbox!.channels.map((c) => c.emulator.flushWebhooks()));
      last = await levels();
      if (last.hub.gallery === gallery && follows(last) && (await booked())) return last;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${platform}: ${what} never came to rest at ${gallery}: ${JSON.stringify(last)}`);
  }

  const movements = async (): Promise<Movement[]> => (await api('GET', `/v1/items/${SKU}/movements?limit=500`)).body.movements as Movement[];

  beforeAll(async () => {
    const config = testConfig('sqlite', { engine: { pollEveryMs: 1000, attributionWindowMs: 1500 }, dispatch: { baseDelayMs: 20, maxDelayMs: 200 } }, { PORT: '0', HOST: '127.0.0.1', STOCKRELAY_SANDBOX: `${platform},shopify` });
    s = await startStockrelay(config, createLogger('silent'), { STOCKRELAY_SANDBOX: `${platform},shopify` }, { idleMs: 50, validateResponses: true });
    ch = s.sandbox!.channels.find((c) => c.config.platform === platform)!.config.id;
    shop = s.sandbox!.channels.find((c) => c.config.platform === 'shopify')!.config.id;
  });
  afterAll(async () => {
    await s?.stop();
  });

  it(`runs the ${connectorFor(platform)!.displayName} emulator beside Shopify, with the demo catalog mapped and pushed`, async () => {
    expect(s.sandbox!.channels.map((c) => c.config.platform).sort()).toEqual([platform, 'shopify'].sort());
    const start = await levels();
    await reaches(start.hub.gallery!, 'the first push');
  });

  it('a sale on it is booked once and reaches Shopify; a sale on Shopify reaches it; a refund with restock brings the stock back everywhere', async () => {
    const start = await reaches((await levels()).hub.gallery!, 'the start');
    const moves = (await movements()).length;

    const sale = await api('POST', `/v1/sandbox/channels/${ch}/sales`, { sku: SKU, quantity: 2, location: 'gallery' });
    expect(sale.status).toBe(201);
    await reaches(start.hub.gallery! - 2, `a sale of 2 on ${platform}`);
    const sold = (await movements()).slice(0, (await movements()).length - moves);
    expect(sold.map((m) => [m.reason, m.quantity, m.locationId, m.channelId])).toEqual([['sale', -2, 'gallery', ch]]);

    const counter = await api('POST', `/v1/sandbox/channels/${shop}/sales`, { sku: SKU, quantity: 1, location: 'gallery' });
    expect(counter.status).toBe(201);
    await reaches(start.hub.gallery! - 3, 'a sale of 1 on Shopify');

    const refund = await api('POST', `/v1/sandbox/channels/${ch}/refunds`, { orderId: sale.body.orderId, restock: true });
    expect(refund.status).toBe(201);
    await reaches(start.hub.gallery! - 1, `a refund of 2 with restock on ${platform}`);
    // The goods back, from that channel: as returns, or (where its refunds never say) as its level rising.
    const back = (await movements()).slice(0, (await movements()).length - moves - 2);
    expect(back.every((m) => (m.reason === 'return' || m.reason === 'adjustment') && m.channelId === ch && m.locationId === 'gallery')).toBe(true);
    expect(back.reduce((n, m) => n + m.quantity, 0)).toBe(2);
  });
});
