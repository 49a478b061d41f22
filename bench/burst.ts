/**
 * A burst per platform (issue #18): for each platform whose connector brings a sandbox emulator and
 * that the sandbox does not run by default (or those of BURST_PLATFORMS=a,b), its emulator beside
 * Shopify's and WooCommerce's, each built from its sandbox wiring, answering every API call after
 * 50–150 ms and enforcing the rate limit its platform publishes (see `LIMITS`); the hub as its own
 * process on a fresh SQLite store with the three channels, BURST_SKUS SKUs (50) at 10,000 in the
 * gallery on all three. Then BURST_SALES sales (1,000) over those SKUs, spread over the three
 * channels as fast as they come, until every channel shows the hub's level for every SKU. Measures,
 * per channel: the API calls the hub made during the burst, the stock writes among them, and the
 * requests the emulator refused for its rate limit (429, Shopify's THROTTLED); and whether the
 * ledger booked every sale once (on hand = start − sales).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sandboxCapable, type SandboxPlatform } from '../server/connectors';
import { busiestWindow, WindowCounter, type Emulator } from '../server/connectors/emulator';
import { BIGCOMMERCE_STANDARD_LIMIT } from '../server/connectors/bigcommerce/emulator';
import { SQUARESPACE_LIMIT } from '../server/connectors/squarespace/emulator';
import { WIX_RATE_LIMIT } from '../server/connectors/wix/emulator';
import { CLOVER_LIMIT } from '../server/connectors/clover/emulator/model';
import { REVEL_EMULATED_LIMIT } from '../server/connectors/revel/emulator';
import { ZETTLE_LIMIT } from '../server/connectors/zettle/emulator';
import { TOAST_LIMITS } from '../server/connectors/toast/emulator';
import { SANDBOX_BUCKET as LS_SANDBOX_BUCKET } from '../server/connectors/lightspeed-r';
import { converged, keepHubErrors, type BenchChannel } from './converge';
import { hubClient, hubProcessEnv, startHubProcess } from './hub-process';
import { realisticLatency, round, sleep } from './measure';

const ROOT = path.resolve(__dirname, '..', '..');
const SALES = Number(process.env.BURST_SALES ?? 1000);
const SKUS = Number(process.env.BURST_SKUS ?? 50);
const TIMEOUT_MS = Number(process.env.BURST_TIMEOUT_MS ?? 300_000);
const POLL_EVERY_MS = 1000;
const START_LEVEL = 10_000;
/** BURST_KEEP=1: keep the hub's data folder (its SQLite store), its log and what each emulator was asked. */
const KEEP = process.env.BURST_KEEP === '1';
/** The two platforms every run has beside the one measured. */
const ALONGSIDE = ['shopify', 'woocommerce'];

/**
 * How each emulator is made to enforce the limit its platform publishes. The sandbox wiring builds
 * emulators without one and has no way to ask for it, so the option the emulator's constructor
 * takes is set on the instance here, under the same name; a renamed field fails the run rather than
 * measuring without a limit. Platforms not listed publish none (`unpublished`: WooCommerce, Adobe
 * Commerce, PrestaShop, Salesforce Commerce Cloud, OpenCart) and their emulators refuse nothing.
 */
const LIMITS: Record<string, { what: string; enforce: (emu: Emulator) => void }> = {
  shopify: { what: 'cost bucket, 2000 points restored at 100/s (always on)', enforce: () => undefined },
  bigcommerce: { what: '150 requests per 30 s window', enforce: (e) => setOption(e, { enforced: true, quota: BIGCOMMERCE_STANDARD_LIMIT }) },
  wix: { what: '200 requests a minute', enforce: (e) => setOption(e, { limit: new WindowCounter(WIX_RATE_LIMIT) }) },
  squarespace: { what: '300 requests a minute, then a one-minute cool-down', enforce: (e) => setOption(e, { limit: new WindowCounter(SQUARESPACE_LIMIT) }) },
  // The points of sale (issue #19). Clover counts requests a second and requests at once per token.
  clover: {
    what: '16 requests a second and 5 at once',
    enforce: (e) => setOption(e, { window: new WindowCounter(CLOVER_LIMIT.window), opts: { ...(e as unknown as { opts: object }).opts, rateLimit: CLOVER_LIMIT } }),
  },
  // 300 requests per register + 50 in 5 minutes, for the registers the sandbox's store says it has.
  'lightspeed-x': {
    what: `${300 * xsSandboxRegisters() + 50} requests in 5 minutes (${xsSandboxRegisters()} registers)`,
    enforce: (e) => setOption(e, { limit: new WindowCounter({ requests: 300 * xsSandboxRegisters() + 50, windowMs: 300_000 }), enforce: true }),
  },
  // The sandbox's account declares a larger bucket than the documented default (60 units, 1 a second), as a busy account's is.
  'lightspeed-r': { what: `leaky bucket of ${LS_SANDBOX_BUCKET.size} units draining ${LS_SANDBOX_BUCKET.drip} a second, a write 10 units`, enforce: (e) => setOption(e, { bucketLimit: LS_SANDBOX_BUCKET }) },
  zettle: { what: '4 requests a second', enforce: (e) => setOption(e, { limit: new WindowCounter(ZETTLE_LIMIT) }) },
  // Revel publishes none: the emulator's assumed 6 a second (the connector paces at 4).
  revel: { what: '6 requests a second (assumed: Revel publishes none)', enforce: (e) => setOption(e, { limiter: new WindowCounter(REVEL_EMULATED_LIMIT) }) },
  toast: {
    what: '20 requests a second and 10,000 in 15 minutes, /ordersBulk 5 a second per restaurant',
    enforce: (e) => setOption(e, { limits: { global: [new WindowCounter(TOAST_LIMITS.perSecond), new WindowCounter(TOAST_LIMITS.per15Minutes)], ordersBulk: new Map() } }),
  },
};

/** The registers the Lightspeed X-Series sandbox store says it has (its wiring's `registers` setting). */
function xsSandboxRegisters(): number {
  return Number(sandboxCapable().find((p) => p.platform === 'lightspeed-x')!.settings({ webhookUrl: '', baseUrl: '' }).registers);
}

function setOption(emu: Emulator, fields: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(fields)) {
    if (!(name in emu)) throw new Error(`the ${emu.platform} emulator has no field "${name}": how it is told to enforce its rate limit has changed (bench/burst.ts, LIMITS)`);
    (emu as unknown as Record<string, unknown>)[name] = value;
  }
}

/** Figures of one channel during the burst. */
export interface BurstChannelFigures {
  platform: string;
  rateLimit: string;
  apiCalls: number;
  callsPerSku: number;
  stockWrites: number;
  stockWritesPerSku: number;
  /** Requests refused for the rate limit during the burst (429, THROTTLED). */
  rateLimited: number;
  /** The same over the whole run, setup included. */
  rateLimitedWholeRun: number;
  /** The most requests that reached the emulator in any one minute of the burst (when it records arrivals). */
  peakPerMinute: number | null;
  /** The burst's requests by method and route, ids replaced by `{id}`. */
  byRoute: Record<string, number>;
}

/** A request's route with its ids left out: `GET /1.0/commerce/orders/{id}`. */
function routeOf(r: { method: string; path: string }): string {
  return `${r.method} ${r.path
    .split('/')
    .map((seg) => (/^(?=.*\d)[0-9a-f-]{8,}(,[0-9a-f-]{8,})*$/i.test(seg) || /^\d+$/.test(seg) ? '{id}' : seg))
    .join('/')}`;
}


export interface BurstResult {
  platform: string;
  sales: number;
  skus: number;
  seconds: number;
  channels: Record<string, BurstChannelFigures>;
  /** Every SKU's on hand is start − its sales, and every channel still shows it once the hub is quiet. */
  ledgerExact: boolean;
  ledgerOff: string[];
}

export interface BurstFailure {
  platform: string;
  error: string;
}

/** The platforms measured: BURST_PLATFORMS, else every platform with sandbox wiring not run by default. */
export function burstPlatforms(): SandboxPlatform[] {
  const all = sandboxCapable();
  const chosen = (process.env.BURST_PLATFORMS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (chosen.length === 0) return all.filter((p) => !p.byDefault);
  return chosen.map((name) => {
    const p = all.find((x) => x.platform === name || x.channelId === name);
    if (!p) throw new Error(`BURST_PLATFORMS names "${name}", which has no sandbox emulator; the choices: ${all.map((x) => x.platform).join(', ')}`);
    return p;
  });
}

export async function benchBurst(): Promise<{ results: BurstResult[]; failures: BurstFailure[] }> {
  const results: BurstResult[] = [];
  const failures: BurstFailure[] = [];
  for (const p of burstPlatforms()) {
    const t0 = performance.now();
    console.error(`burst: ${p.platform} beside ${ALONGSIDE.join(' and ')}…`);
    try {
      results.push(await burstOn(p));
    } catch (err) {
      failures.push({ platform: p.platform, error: (err as Error).message });
    }
    console.error(`burst: ${p.platform} ${failures.at(-1)?.platform === p.platform ? 'FAILED' : 'done'} in ${round((performance.now() - t0) / 1000)} s`);
  }
  return { results, failures };
}

/** `BURST_WIX_API_KEY`: the environment variable that carries one made-up credential to the hub. */
const envName = (channelId: string, name: string) => `BURST_${`${channelId}_${name}`.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()}`;

interface Started {
  channel: BenchChannel;
  config: Record<string, unknown>;
  env: Record<string, string>;
}

/** One platform's emulator from its sandbox wiring, its limit enforced, started, with the SKUs at 0 in the gallery. */
async function startChannel(p: SandboxPlatform, skus: string[]): Promise<Started> {
  const loc = p.locations.gallery;
  if (!loc) throw new Error(`the ${p.platform} sandbox wiring publishes no gallery location`);
  const credentials = Object.fromEntries(p.credentials.map((name) => [name, crypto.randomBytes(16).toString('hex')]));
  // Where the emulator sends webhooks is known once the hub listens (subscribe); until then a
  // placeholder, which is also the key a platform signing over its address is wired by.
  const webhookUrl = `http://127.0.0.1:9/v1/webhooks/${p.channelId}`;
  const emu = p.createEmulator({ credentials, webhookUrl, locations: [loc] });
  LIMITS[p.platform]?.enforce(emu);
  const baseUrl = await emu.start(0);
  emu.seed(skus.map((sku) => ({ sku, title: sku, levels: { [loc]: 0 } })));
  return {
    channel: { id: p.channelId, emu, loc },
    config: {
      id: p.channelId,
      name: p.displayName,
      platform: p.platform,
      baseUrl,
      locations: { gallery: loc },
      settings: p.settings({ webhookUrl, baseUrl }),
      credentials: Object.fromEntries(p.credentials.map((name) => [name, envName(p.channelId, name)])),
    },
    env: Object.fromEntries(p.credentials.map((name) => [envName(p.channelId, name), credentials[name]!])),
  };
}

async function burstOn(p: SandboxPlatform): Promise<BurstResult> {
  const all = sandboxCapable();
  const platforms = [p, ...ALONGSIDE.filter((name) => name !== p.platform).map((name) => all.find((x) => x.platform === name)!)];
  const skus = Array.from({ length: SKUS }, (_, i) => `BURST-${String(i).padStart(3, '0')}`);
  const started: Started[] = [];
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-bench-burst-'));
  try {
    for (const x of platforms) started.push(await startChannel(x, skus));
    const channels = started.map((s) => s.channel);
    const configFile = path.join(dataDir, 'stockrelay.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({ locations: [{ id: 'gallery', name: 'Gallery' }], engine: { reconcileEveryMs: 0, pollEveryMs: POLL_EVERY_MS }, channels: started.map((s) => s.config) }),
    );
    const secret = `whsec_${crypto.randomBytes(32).toString('base64')}`;
    const admin = crypto.randomBytes(24).toString('base64url');
    const extra = Object.assign({}, ...started.map((s) => s.env)) as Record<string, string>;
    const { proc, url, exited } = await startHubProcess([path.join(ROOT, 'dist/server/main.js')], { cwd: ROOT, env: hubProcessEnv({ dataDir, configFile, relaySecret: secret, adminToken: admin, extra }) });
    const hubErrors = keepHubErrors(proc);
    if (KEEP) proc.stdout!.pipe(fs.createWriteStream(path.join(dataDir, 'hub.log')));
    try {
      return await measure(p.platform, channels, hubClient(url, admin, secret), url, skus);
    } catch (err) {
      const refused = channels.map((c) => `${c.id} ${c.emu.rateLimited?.length ?? 0}`).join(', ');
      throw new Error(`${(err as Error).message} [refused for the rate limit over the run: ${refused}] [the hub's last errors: ${hubErrors.slice(-10).join(' || ') || 'none'}]`);
    } finally {
      // A hub that does not stop within 10 s of SIGTERM (one stuck busy, say) is killed.
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
  } finally {
    await Promise.all(started.map((s) => s.channel.emu.stop()));
    if (KEEP) {
      // What each emulator was asked, in order, for tracing a SKU through the run.
      for (const s of started) fs.writeFileSync(path.join(dataDir, `${s.channel.id}.requests.json`), JSON.stringify(s.channel.emu.requests));
      console.error(`burst: ${p.platform}: the hub's store, its log and the emulators' requests are kept in ${dataDir}`);
    } else fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

type Hub = ReturnType<typeof hubClient>;

/** Waits until the hub has booked what the channels sent back: webhooks flushed, two polls come due, nothing left to book. */
async function quiet(channels: BenchChannel[], hub: Hub): Promise<void> {
  await Promise.all(channels.map((c) => c.emu.flushWebhooks()));
  await sleep(2 * POLL_EVERY_MS + 500);
  await Promise.all(channels.map((c) => c.emu.flushWebhooks()));
  await hub.waitBooked();
}

/** Lists the SKUs, sets them to START_LEVEL through the hub, and waits until all three channels show it and the echoes are booked. */
async function setUp(channels: BenchChannel[], hub: Hub, skus: string[], url: string): Promise<void> {
  for (const c of channels) c.emu.subscribe(`${url}/v1/webhooks/${c.id}`);
  const at = new Date().toISOString();
  await hub.relay({ kind: 'catalog_changed', added: skus.map((sku) => ({ sku, title: sku })), removed: [], occurredAt: at });
  await hub.waitBooked();
  for (const c of channels) await hub.call('POST', `/v1/channels/${c.id}/discover`);
  await hub.relay({ kind: 'edit_batch', editedAt: at, actor: 'bench', edits: skus.map((sku) => ({ sku, field: 'on_hand', location: 'gallery', oldValue: 0, newValue: START_LEVEL })) });
  await converged(channels, hub.call, skus, () => START_LEVEL, TIMEOUT_MS);
  await quiet(channels, hub);
}

async function measure(platform: string, channels: BenchChannel[], hub: Hub, url: string, skus: string[]): Promise<BurstResult> {
  await setUp(channels, hub, skus, url);
  for (const c of channels) realisticLatency(c.emu);
  const before = channels.map((c) => ({ requests: c.emu.requests.length, refused: c.emu.rateLimited?.length ?? 0, arrivals: c.emu.arrivals?.length ?? 0 }));
  const sold = new Map<string, number>();
  const t0 = performance.now();
  for (let i = 0; i < SALES; i++) {
    const sku = skus[i % SKUS]!;
    sold.set(sku, (sold.get(sku) ?? 0) + 1);
    const seller = channels[Math.floor(i / SKUS) % channels.length]!;
    await seller.emu.sell({ sku, quantity: 1, locationId: seller.loc });
  }
  const level = (sku: string) => START_LEVEL - (sold.get(sku) ?? 0);
  await converged(channels, hub.call, skus, level, TIMEOUT_MS);
  const seconds = (performance.now() - t0) / 1000;
  const figures: Record<string, BurstChannelFigures> = {};
  channels.forEach((c, i) => {
    const during = c.emu.requests.slice(before[i]!.requests);
    const writes = during.filter((r) => c.emu.isStockWrite?.(r) ?? false).length;
    const byRoute: Record<string, number> = {};
    for (const r of during) byRoute[routeOf(r)] = (byRoute[routeOf(r)] ?? 0) + 1;
    const refused = c.emu.rateLimited?.length ?? 0;
    figures[c.id] = {
      platform: c.emu.platform,
      rateLimit: LIMITS[c.emu.platform]?.what ?? 'none published: none enforced',
      apiCalls: during.length,
      callsPerSku: round(during.length / SKUS, 2),
      stockWrites: writes,
      stockWritesPerSku: round(writes / SKUS, 2),
      rateLimited: refused - before[i]!.refused,
      rateLimitedWholeRun: refused,
      peakPerMinute: c.emu.arrivals ? busiestWindow(c.emu.arrivals.slice(before[i]!.arrivals), 60_000) : null,
      byRoute,
    };
  });
  // The ledger once the hub is quiet: every sale booked once, and every channel still at the hub's level.
  await quiet(channels, hub);
  const ledgerOff: string[] = [];
  for (const sku of skus) {
    const item = (await hub.call('GET', `/v1/items/${sku}`)) as { onHand: number };
    const shown = channels.filter((c) => c.emu.level(sku, c.loc) !== level(sku)).map((c) => `${c.id} ${c.emu.level(sku, c.loc)}`);
    if (item.onHand !== level(sku) || shown.length > 0) ledgerOff.push(`${sku}: on hand ${item.onHand}, want ${level(sku)}${shown.length > 0 ? `; ${shown.join(', ')}` : ''}`);
  }
  return { platform, sales: SALES, skus: SKUS, seconds: round(seconds, 2), channels: figures, ledgerExact: ledgerOff.length === 0, ledgerOff: ledgerOff.slice(0, 10) };
}

/** One row per platform: the measured platform's figure first, then Shopify's, then WooCommerce's. */
export function burstRows(results: BurstResult[]): Record<string, string | number | boolean>[] {
  const three = (r: BurstResult, f: (c: BurstChannelFigures) => number) => Object.values(r.channels).map(f).join(' / ');
  return results.map((r) => ({
    platform: r.platform,
    'burst s': r.seconds,
    'API calls (it / Shopify / Woo)': three(r, (c) => c.apiCalls),
    'calls per SKU': three(r, (c) => c.callsPerSku),
    'stock writes per SKU': three(r, (c) => c.stockWritesPerSku),
    '429 / THROTTLED': three(r, (c) => c.rateLimited),
    'ledger exact': r.ledgerExact,
  }));
}
