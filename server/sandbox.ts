/**
 * Sandbox mode: what `npm start` runs when the config names no channel. The emulators of the chosen
 * platforms (STOCKRELAY_SANDBOX; three by default) run beside the hub on
 * 127.0.0.1 with a demo catalog of artworks and supplies across two locations, one channel each, so
 * a newcomer can watch a sale at the "gallery POS" leave the "web store" in a second
 * (`npm run stockrelay -- simulate --help`). Nothing here talks to a real platform.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import type { ChannelConfig, HubConfig } from './config';
import type { Emulator } from './connectors/emulator';
import type { ChannelRegistry } from './channels/registry';
import type { Logger } from './log';
import type { Store } from './store/types';
import { SANDBOX_PLATFORMS, type SandboxPlatform } from './sandbox-platforms';
import { inWords } from './connectors';

export const DEMO_LOCATIONS = [
  { id: 'gallery', name: 'Gallery (counter and walls)' },
  { id: 'warehouse', name: 'Warehouse' },
];

/** A dozen things a small gallery and art-supply shop sells: one-of-a-kind works and everyday supplies. */
export const DEMO_CATALOG: { sku: string; title: string; lowStockThreshold: number | null; stock: Record<string, number> }[] = [
  { sku: 'ART-0001', title: 'Seven Sisters, acrylic on linen, 120×90', lowStockThreshold: null, stock: { gallery: 1 } },
  { sku: 'ART-0002', title: 'Bush Tucker Dreaming, acrylic on canvas, 60×60', lowStockThreshold: null, stock: { gallery: 1 } },
  { sku: 'ART-0003', title: 'River Country, ochre on bark, 80×40', lowStockThreshold: null, stock: { gallery: 1 } },
  { sku: 'ART-0004', title: 'Salt Lake at Dusk, limited print 3/25', lowStockThreshold: 2, stock: { gallery: 3, warehouse: 9 } },
  { sku: 'ART-0005', title: 'Honey Ant Story, limited print 11/50', lowStockThreshold: 2, stock: { gallery: 2, warehouse: 14 } },
  { sku: 'CRD-0101', title: 'Greeting card set, 6 designs', lowStockThreshold: 10, stock: { gallery: 24, warehouse: 120 } },
  { sku: 'BRU-0201', title: 'Sable round brush, size 4', lowStockThreshold: 5, stock: { gallery: 12, warehouse: 60 } },
  { sku: 'BRU-0202', title: 'Flat hog brush, 25 mm', lowStockThreshold: 5, stock: { gallery: 8, warehouse: 40 } },
  { sku: 'PNT-0301', title: 'Acrylic paint, yellow ochre, 250 ml', lowStockThreshold: 6, stock: { gallery: 10, warehouse: 48 } },
  { sku: 'PNT-0302', title: 'Acrylic paint, burnt sienna, 250 ml', lowStockThreshold: 6, stock: { gallery: 7, warehouse: 36 } },
  { sku: 'CNV-0401', title: 'Stretched cotton canvas, 60×60', lowStockThreshold: 3, stock: { gallery: 4, warehouse: 25 } },
  { sku: 'BK-0501', title: 'Catalogue: Desert Painters 2026', lowStockThreshold: 5, stock: { gallery: 15, warehouse: 80 } },
];

export interface SandboxChannel {
  config: ChannelConfig;
  emulator: Emulator;
  /** The last sale made through the sandbox per SKU, so `simulate return` can refund it. */
  lastOrders: Map<string, string>;
}

/**
 * What seeding needs of the hub (server/hub.ts's `Hub` has it): its store, the admin token the API
 * expects, discovery and the resync. Named here so the sandbox does not import the hub that runs it.
 */
export interface SandboxHub {
  store: Store;
  readonly adminToken: string;
  channels: Pick<ChannelRegistry, 'discover'>;
  resyncChannels(): Promise<number>;
}

export interface Sandbox {
  channels: SandboxChannel[];
  /** What the hub says at start and on /health: which emulators run, and that nothing reaches a real shop. */
  warning: string;
  /** Seeds the emulators and (once) the hub's catalog, maps SKUs, and pushes every level. */
  seed(hub: SandboxHub, hubUrl: string): Promise<void>;
  stop(): Promise<void>;
}

/** A free port on 127.0.0.1, for a hub that was asked to listen on port 0 in sandbox mode. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** The sandbox's warning, naming the platforms it runs. */
export function sandboxWarning(platforms: readonly SandboxPlatform[]): string {
  const first = platforms[0]!;
  const loc = Object.keys(first.locations)[0] ?? 'gallery';
  return `SANDBOX MODE: no channel is configured (STOCKRELAY_CONFIG), so the hub runs against built-in emulators of ${inWords(platforms.map((p) => p.displayName))} with a demo catalog. Nothing reaches a real shop. Try: npm run stockrelay -- simulate sale --channel ${first.channelId} --sku ART-0001${loc === 'gallery' ? '' : ` --location ${loc}`}`;
}

/**
 * Starts the chosen platforms' emulators and returns the config the hub should run with: demo
 * locations and one channel per emulator, with credentials made up for this run (never written anywhere).
 */
export async function startSandbox(
  config: HubConfig,
  hubPort: number,
  log: Logger,
  platforms: readonly SandboxPlatform[] = SANDBOX_PLATFORMS,
): Promise<{ sandbox: Sandbox; config: HubConfig }> {
  const hubBase = `http://127.0.0.1:${hubPort}`;
  const channels: SandboxChannel[] = [];
  for (const p of platforms) channels.push(await startChannel(p, hubBase, log));

  const sandbox: Sandbox = {
    channels,
    warning: sandboxWarning(platforms),
    async seed(hub, hubUrl) {
      const now = () => new Date().toISOString();
      for (const ch of channels) {
        ch.emulator.seed(
          DEMO_CATALOG.map((item) => ({
            sku: item.sku,
            title: item.title,
            levels: Object.fromEntries(Object.entries(ch.config.locations).map(([, theirs]) => [theirs, 0])),
          })),
        );
        ch.emulator.subscribe(`${hubUrl}/v1/webhooks/${ch.config.id}`);
      }
      // The hub's own catalog is seeded once; after a restart the ledger (in the data folder) is kept.
      const fresh = (await hub.store.items.list({ limit: 1 })).length === 0;
      if (fresh) await seedHubCatalog(hubUrl, hub.adminToken);
      for (const ch of channels) await hub.channels.discover(ch.config.id, hub.store, now);
      await hub.resyncChannels();
    },
    async stop() {
      await Promise.all(channels.map((c) => c.emulator.stop()));
    },
  };
  return {
    sandbox,
    config: { ...config, port: hubPort, locations: DEMO_LOCATIONS, defaultLocation: 'gallery', channels: channels.map((c) => c.config) },
  };
}

/** One platform's emulator, started on a free port and subscribed to the hub, and its channel's config. */
async function startChannel(p: SandboxPlatform, hubBase: string, log: Logger): Promise<SandboxChannel> {
  const credentials = Object.fromEntries(p.credentials.map((name) => [name, `sandbox-${name}-${crypto.randomBytes(12).toString('hex')}`]));
  const webhookUrl = `${hubBase}/v1/webhooks/${p.channelId}`;
  const emulator = p.createEmulator({ credentials, webhookUrl, locations: Object.values(p.locations) });
  const baseUrl = await emulator.start(0);
  emulator.subscribe(webhookUrl);
  const channel: SandboxChannel = {
    config: {
      id: p.channelId,
      name: p.name,
      platform: p.platform,
      locations: Object.fromEntries(Object.entries(p.locations).filter((e): e is [string, string] => typeof e[1] === 'string')),
      buffer: 0,
      cap: null,
      hideAtZero: p.hideAtZero,
      relistOnRestock: p.hideAtZero,
      reconcile: 'adopt',
      baseUrl,
      settings: p.settings({ webhookUrl, baseUrl }),
      credentials,
    },
    emulator,
    lastOrders: new Map(),
  };
  log.info({ channel: p.channelId, platform: p.platform, emulator: baseUrl }, `sandbox: ${p.name} emulator on ${baseUrl}`);
  return channel;
}

/** The demo catalog and its opening stock, entered through the hub's API as a shop owner would. */
async function seedHubCatalog(hubUrl: string, token: string): Promise<void> {
  const call = async (method: string, path: string, body: unknown) => {
    let res: Response;
    try {
      res = await fetch(hubUrl + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    } catch (err) {
      // Node's fetch, like a browser, refuses a few ports (the Fetch standard's "bad ports", such as 1720 or 6000).
      if ((err as { cause?: { message?: string } }).cause?.message === 'bad port') {
        throw new Error(`The sandbox cannot use port ${new URL(hubUrl).port}: web browsers and the sandbox's own channels refuse to connect to it. Start the hub on another port (PORT=8080, for example).`);
      }
      throw err;
    }
    if (res.status >= 300) throw new Error(`sandbox seeding: ${method} ${path} answered ${res.status}: ${await res.text()}`);
  };
  for (const item of DEMO_CATALOG) {
    await call('PUT', `/v1/items/${item.sku}`, { title: item.title, ...(item.lowStockThreshold === null ? {} : { lowStockThreshold: item.lowStockThreshold }) });
  }
  for (const item of DEMO_CATALOG) {
    for (const [location, counted] of Object.entries(item.stock)) {
      await call('POST', `/v1/items/${item.sku}/counts`, { location, counted, note: 'sandbox opening stock' });
    }
  }
}

export type { SandboxPlatform };
