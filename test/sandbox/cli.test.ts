/**
 * Sandbox mode and the `stockrelay` CLI, end to end with a stand-in emulator: `simulate sale` makes a
 * sale on the emulated POS, whose signed webhook the hub books, and whose new level the hub pushes
 * to the emulated web store; the CLI prints both before and after. (The three real emulators plug
 * into the same Sandbox shape, issue #3.)
 */
import crypto from 'node:crypto';
import { buildCli } from '../../server/cli';
import type { Emulator, EmulatorProduct } from '../../server/connectors/emulator';
import type { ChannelFact, Connector, ConnectorDefinition } from '../../server/connectors/types';
import type { Sandbox, SandboxChannel } from '../../server/sandbox';
import type { ChannelConfig } from '../../server/config';
import { ADMIN_TOKEN, startHub, type TestHub } from '../helpers/hub';

const KEY = 'sandbox-channel-key-0123456789';

/** A platform in memory: levels per SKU and location; a sale posts a signed webhook to the hub. */
class StandInEmulator implements Emulator {
  readonly platform = 'other';
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  faults = { api: {}, webhooks: {} };
  private hook = '';
  private orders = 0;
  private readonly stock = new Map<string, number>();
  constructor(private readonly loc: string) {}
  async start() {
    return 'http://127.0.0.1:9';
  }
  async stop() {}
  subscribe(url: string) {
    this.hook = url;
  }
  seed(products: EmulatorProduct[]) {
    for (const p of products) for (const [l, n] of Object.entries(p.levels)) this.stock.set(`${p.sku}@${l}`, n);
  }
  locations() {
    return [this.loc];
  }
  level(sku: string, locationId: string) {
    return this.stock.get(`${sku}@${locationId}`) ?? null;
  }
  set(sku: string, locationId: string, n: number) {
    this.stock.set(`${sku}@${locationId}`, n);
  }
  async sell(sale: { sku: string; quantity: number; locationId?: string }) {
    const orderId = `order-${++this.orders}`;
    const loc = sale.locationId ?? this.loc;
    this.set(sale.sku, loc, (this.level(sale.sku, loc) ?? 0) - sale.quantity);
    const facts: ChannelFact[] = [{ type: 'sale', orderId, occurredAt: new Date().toISOString(), lines: [{ lineId: '1', sku: sale.sku, ref: {}, quantity: sale.quantity, locationId: loc }] }];
    const raw = JSON.stringify(facts);
    const res = await fetch(this.hook, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', 'x-event-id': orderId, 'x-signature': crypto.createHmac('sha256', KEY).update(raw).digest('base64') } });
    if (res.status !== 200) throw new Error(`hub answered ${res.status}`);
    return { orderId };
  }
  async refund() {
    return { refundId: 'r-1' };
  }
  async setLevel() {}
  async flushWebhooks() {}
}

function definition(emulators: Map<string, StandInEmulator>): ConnectorDefinition {
  const capabilities: Connector['capabilities'] = {
    platform: 'other',
    push: ['absolute_set'],
    locations: true,
    hideRelist: { supported: false, how: 'not offered' },
    webhooks: ['facts'],
    polled: [],
    rateLimit: { kind: 'unpublished', description: 'none' },
    maxBatch: 50,
  };
  return {
    platform: 'other',
    displayName: 'In-test platform',
    docsUrl: 'https://example.invalid/docs',
    secretHeaders: [],
    credentials: [],
    requiredSettings: [],
    capabilities,
    create: (ctx) => {
      const emu = emulators.get(ctx.channelId)!;
      return {
        capabilities,
        verify(raw, headers) {
          const sig = crypto.createHmac('sha256', KEY).update(raw).digest('base64');
          return headers['x-signature'] === sig ? { valid: true, eventId: String(headers['x-event-id']), topic: 'facts', occurredAt: null } : { valid: false, reason: 'Bad signature.' };
        },
        translate: (_t, body) => body as ChannelFact[],
        async push(targets) {
          for (const t of targets) emu.set(t.sku, t.locationId, t.level);
          return targets.map((t) => ({ sku: t.sku, locationId: t.locationId, status: 'applied' as const, level: t.level }));
        },
        read: async () => [],
        hide: async () => undefined,
        relist: async () => undefined,
        listCatalog: async () => [{ sku: 'ART-1', title: 'Seven Sisters', ref: { productId: 'p1', variantId: 'v1' } }],
      };
    },
  };
}

describe('sandbox mode and the CLI', () => {
  let t: TestHub;
  const emulators = new Map([
    ['pos', new StandInEmulator('POS-GALLERY')],
    ['web', new StandInEmulator('WEB-GALLERY')],
  ]);
  const channelConfigs: Omit<ChannelConfig, 'credentials' | 'settings' | 'baseUrl' | 'relistOnRestock' | 'reconcile'>[] = [
    { id: 'pos', name: 'Gallery POS', platform: 'other', locations: { main: 'POS-GALLERY' }, buffer: 0, cap: null, hideAtZero: false },
    { id: 'web', name: 'Web store', platform: 'other', locations: { main: 'WEB-GALLERY' }, buffer: 0, cap: null, hideAtZero: false },
  ];

  beforeAll(async () => {
    const channels: SandboxChannel[] = channelConfigs.map((c) => ({
      config: { ...c, credentials: {}, settings: {}, baseUrl: null, relistOnRestock: false, reconcile: 'adopt' },
      emulator: emulators.get(c.id)!,
      lastOrders: new Map(),
    }));
    const sandbox: Sandbox = { channels, warning: 'SANDBOX MODE: in-test emulators. Nothing reaches a real shop.', seed: async () => undefined, stop: async () => undefined };
    t = await startHub('sqlite', { file: { channels: channelConfigs }, hub: { sandbox, connectors: [definition(emulators)] } });
    for (const [id, emu] of emulators) {
      emu.subscribe(`${t.url}/v1/webhooks/${id}`);
      emu.seed([{ sku: 'ART-1', title: 'Seven Sisters', levels: { [emu.locations()[0]!]: 0 } }]);
    }
    await t.api('PUT', '/v1/items/ART-1', { title: 'Seven Sisters' });
    await t.api('POST', '/v1/items/ART-1/counts', { counted: 3 });
    for (const id of emulators.keys()) expect((await t.api('POST', `/v1/channels/${id}/discover`)).status).toBe(200);
    expect(await t.hub.resyncChannels()).toBe(2);
    await t.settle();
  });
  afterAll(() => t.close());

  test('health says sandbox mode in plain words', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(await res.json()).toMatchObject({ status: 'ok', mode: 'sandbox', message: expect.stringContaining('Nothing reaches a real shop') });
  });

  test('in sandbox mode the document served lists the sandbox routes', async () => {
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/v1/sandbox')).sort()).toEqual(['/v1/sandbox', '/v1/sandbox/channels/{channelId}/refunds', '/v1/sandbox/channels/{channelId}/sales', '/v1/sandbox/levels/{sku}']);
  });

  test('after discovery and a resync every emulated channel shows the hub’s level', async () => {
    const res = await t.api('GET', '/v1/sandbox/levels/ART-1');
    expect(res.body).toEqual({
      sku: 'ART-1',
      hub: [{ locationId: 'main', onHand: 3, available: 3 }],
      channels: [
        { channelId: 'pos', name: 'Gallery POS', levels: [{ locationId: 'main', level: 3 }] },
        { channelId: 'web', name: 'Web store', levels: [{ locationId: 'main', level: 3 }] },
      ],
    });
  });

  test('simulate sale on the POS: booked once in the hub, the web store follows, and the CLI prints before and after', async () => {
    const out: string[] = [];
    const spy = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    try {
      await buildCli().parseAsync(['node', 'stockrelay', '--hub', t.url, '--token', ADMIN_TOKEN, 'simulate', 'sale', '--channel', 'pos', '--sku', 'ART-1', '--quantity', '2']);
    } finally {
      spy.mockRestore();
    }
    const text = out.join('\n');
    expect(text).toMatch(/Sold 2 × ART-1 on pos \(order order-1\)\. Every channel followed in \d+ ms/);
    expect(text).toMatch(/hub \(available\)\s+main\s+3\s+1/);
    expect(text).toMatch(/Web store\s+main\s+3\s+1/);
    expect(emulators.get('web')!.level('ART-1', 'WEB-GALLERY')).toBe(1);
    const moves = (await t.api('GET', '/v1/items/ART-1/movements')).body.movements.filter((m: { reason: string }) => m.reason === 'sale');
    expect(moves).toEqual([expect.objectContaining({ quantity: -2, channelId: 'pos', externalRef: 'order-1' })]);
  });

  test('the CLI says plainly what is wrong: an unknown channel, a hub that is not there', async () => {
    const errors: string[] = [];
    const run = (args: string[]) => buildCli().exitOverride().parseAsync(['node', 'stockrelay', ...args]).catch((e: Error) => void errors.push(e.message));
    await run(['--hub', t.url, '--token', ADMIN_TOKEN, 'simulate', 'sale', '--channel', 'etsy', '--sku', 'ART-1']);
    await run(['--hub', 'http://127.0.0.1:1', '--token', ADMIN_TOKEN, 'levels', '--sku', 'ART-1']);
    expect(errors[0]).toMatch(/The sandbox has no channel "etsy"; it has pos, web\./);
    expect(errors[1]).toMatch(/The hub does not answer at http:\/\/127\.0\.0\.1:1/);
  });

  test('without an admin token the CLI says so, even though the hub answers', async () => {
    const saved = { token: process.env.STOCKRELAY_ADMIN_TOKEN, dir: process.env.STOCKRELAY_DATA_DIR };
    delete process.env.STOCKRELAY_ADMIN_TOKEN;
    process.env.STOCKRELAY_DATA_DIR = '/nonexistent-stockrelay-data';
    try {
      const err = await buildCli().exitOverride().parseAsync(['node', 'stockrelay', '--hub', t.url, 'levels', '--sku', 'ART-1']).then(() => null, (e: Error) => e);
      expect(err?.message).toMatch(/^No admin token: pass --token, set STOCKRELAY_ADMIN_TOKEN/);
    } finally {
      if (saved.token !== undefined) process.env.STOCKRELAY_ADMIN_TOKEN = saved.token;
      if (saved.dir !== undefined) process.env.STOCKRELAY_DATA_DIR = saved.dir;
      else delete process.env.STOCKRELAY_DATA_DIR;
    }
  });
});

test('against a hub that is not in sandbox mode the CLI says so: the hub has no sandbox routes', async () => {
  const live = await startHub('sqlite');
  try {
    const err = await buildCli().exitOverride().parseAsync(['node', 'stockrelay', '--hub', live.url, '--token', ADMIN_TOKEN, 'levels', '--sku', 'ART-1']).then(() => null, (e: Error) => e);
    expect(err?.message).toBe('The hub is not in sandbox mode: these calls exist only when no channel is configured.');
  } finally {
    await live.close();
  }
});
