/**
 * The sync engine measured end to end: the hub as its own process (built JavaScript, as `npm start`
 * runs it) with two channels on the Shopify and WooCommerce emulators in this process, each answering
 * every API call after 50–150 ms (uniform) and enforcing its rate-limit model (Shopify's cost bucket:
 * 2000 points, 100/s). Measures:
 *   - propagation: a sale made on one emulator → the other channel shows the new level, p50/p95/p99,
 *     under a steady SYNC_RATE sales per second (default 20) for SYNC_STEADY sales (default 200);
 *   - economy: a burst of SYNC_BURST sales (default 1,000) across SYNC_BURST_SKUS SKUs (default 50)
 *     on both channels: platform API calls per sale until every channel shows the hub's level, and
 *     how many calls the platforms answered 429 / THROTTLED;
 *   - engine overhead: hub CPU time per booked sale during the burst, and the hub's peak memory.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ShopifyEmulator } from '../server/connectors/shopify/emulator';
import { WooEmulator } from '../server/connectors/woocommerce/emulator';
import { WOO_LOCATION } from '../server/connectors/woocommerce/translate';
import { hubClient, hubProcessEnv, startHubProcess } from './hub-process';
import { converged as convergedOn, keepHubErrors, type BenchChannel } from './converge';
import { cpuMs, peakRssMiB, percentile, realisticLatency, round, sleep } from './measure';

const ROOT = path.resolve(__dirname, '..', '..');
const RATE = Number(process.env.SYNC_RATE ?? 20);
const STEADY = Number(process.env.SYNC_STEADY ?? 200);
const BURST = Number(process.env.SYNC_BURST ?? 1000);
const BURST_SKUS = Number(process.env.SYNC_BURST_SKUS ?? 50);
const START_LEVEL = 10_000;
const SHOP_LOC = 'gid://shopify/Location/1001';

export interface SyncResult {
  store: string;
  emulatorLatencyMs: string;
  steady: { sales: number; perSecond: number; propagationMs: { p50: number; p95: number; p99: number; max: number } };
  burst: { sales: number; skus: number; seconds: number; apiCalls: Record<string, number>; callsPerSale: number; callsPerChannelPerSku: number; rateLimited: number };
  hubCpuMsPerSale: number;
  hubPeakRssMiB: number;
}

export async function benchSync(label: string, storeEnv: Record<string, string>): Promise<SyncResult> {
  const secret = `whsec_${crypto.randomBytes(32).toString('base64')}`;
  const admin = crypto.randomBytes(24).toString('base64url');
  const creds = { SHOP_TOKEN: `shpat_${crypto.randomBytes(12).toString('hex')}`, SHOP_HOOK: crypto.randomBytes(16).toString('hex'), WOO_KEY: `ck_${crypto.randomBytes(12).toString('hex')}`, WOO_SECRET: `cs_${crypto.randomBytes(12).toString('hex')}`, WOO_HOOK: crypto.randomBytes(16).toString('hex') };
  const shop = new ShopifyEmulator({ accessToken: creds.SHOP_TOKEN, webhookSecret: creds.SHOP_HOOK, shopDomain: 'bench.myshopify.com', locations: [SHOP_LOC] });
  const woo = new WooEmulator({ consumerKey: creds.WOO_KEY, consumerSecret: creds.WOO_SECRET, webhookSecret: creds.WOO_HOOK });
  const [shopUrl, wooUrl] = await Promise.all([shop.start(), woo.start()]);
  const channels: BenchChannel[] = [
    { id: 'shop', emu: shop, loc: SHOP_LOC },
    { id: 'woo', emu: woo, loc: WOO_LOCATION },
  ];

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-bench-sync-'));
  const configFile = path.join(dataDir, 'stockrelay.json');
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      locations: [{ id: 'gallery', name: 'Gallery' }],
      engine: { reconcileEveryMs: 0 },
      channels: [
        { id: 'shop', name: 'Shopify', platform: 'shopify', baseUrl: shopUrl, locations: { gallery: SHOP_LOC }, settings: { shopDomain: 'bench.myshopify.com' }, credentials: { accessToken: 'SHOP_TOKEN', webhookSecret: 'SHOP_HOOK' } },
        { id: 'woo', name: 'WooCommerce', platform: 'woocommerce', baseUrl: wooUrl, locations: { gallery: WOO_LOCATION }, credentials: { consumerKey: 'WOO_KEY', consumerSecret: 'WOO_SECRET', webhookSecret: 'WOO_HOOK' } },
      ],
    }),
  );
  const { proc, url, exited } = await startHubProcess([path.join(ROOT, 'dist/server/main.js')], {
    cwd: ROOT,
    env: hubProcessEnv({ dataDir, configFile, relaySecret: secret, adminToken: admin, extra: { ...storeEnv, ...creds } }),
  });
  const hubErrors = keepHubErrors(proc);
  const { call, relay, waitBooked } = hubClient(url, admin, secret);
  const converged = (skus: string[], level: (sku: string) => number, ms: number) => convergedOn(channels, call, skus, level, ms);

  try {
    for (const c of channels) c.emu.subscribe(`${url}/v1/webhooks/${c.id}`);
    const steadySkus = Array.from({ length: STEADY }, (_, i) => `STEADY-${String(i).padStart(4, '0')}`);
    const burstSkus = Array.from({ length: BURST_SKUS }, (_, i) => `BURST-${String(i).padStart(3, '0')}`);
    const all = [...steadySkus, ...burstSkus];
    for (const c of channels) c.emu.seed(all.map((sku) => ({ sku, title: sku, levels: { [c.loc]: 0 } })));
    const at = new Date().toISOString();
    await relay({ kind: 'catalog_changed', added: all.map((sku) => ({ sku, title: sku })), removed: [], occurredAt: at });
    // The catalog must be booked before discovery can match it.
    await waitBooked();
    for (const c of channels) await call('POST', `/v1/channels/${c.id}/discover`);
    await relay({ kind: 'edit_batch', editedAt: at, actor: 'bench', edits: all.map((sku) => ({ sku, field: 'on_hand', location: 'gallery', oldValue: 0, newValue: START_LEVEL })) });
    await converged(all, () => START_LEVEL, 120_000);
    // The channels echo every push of the setup back (one webhook per SKU and channel, 2 × 250): the
    // steady phase starts once the hub has booked them, so it measures sales, not the setup's backlog.
    for (const c of channels) await c.emu.flushWebhooks();
    await waitBooked();
    for (const c of channels) realisticLatency(c.emu);

    // Steady: RATE sales per second, each of its own SKU, alternating channels; timed until the
    // other channel shows the new level.
    const waits: Promise<number>[] = [];
    const t0 = performance.now();
    for (let i = 0; i < STEADY; i++) {
      const due = t0 + (i * 1000) / RATE;
      const now = performance.now();
      if (due > now) await sleep(due - now);
      const seller = channels[i % 2]!;
      const other = channels[(i + 1) % 2]!;
      const sku = steadySkus[i]!;
      const start = performance.now();
      await seller.emu.sell({ sku, quantity: 1, locationId: seller.loc });
      waits.push(
        (async () => {
          for (;;) {
            if (other.emu.level(sku, other.loc) === START_LEVEL - 1) return performance.now() - start;
            if (performance.now() - start > 60_000) throw new Error(`${sku} never reached ${other.id}`);
            await sleep(2);
          }
        })(),
      );
    }
    const propagation = (await Promise.all(waits)).sort((a, b) => a - b);
    const steadySecs = (performance.now() - t0) / 1000;

    // Burst: BURST sales across BURST_SKUS SKUs on both channels, as fast as they come.
    const before = { shop: shop.requests.length, woo: woo.requests.length, throttled: shop.throttled };
    const cpu0 = cpuMs(proc.pid!);
    const sold = new Map<string, number>();
    const b0 = performance.now();
    for (let i = 0; i < BURST; i++) {
      const sku = burstSkus[i % BURST_SKUS]!;
      sold.set(sku, (sold.get(sku) ?? 0) + 1);
      const seller = channels[Math.floor(i / BURST_SKUS) % 2]!;
      await seller.emu.sell({ sku, quantity: 1, locationId: seller.loc });
    }
    await converged(burstSkus, (s) => START_LEVEL - (sold.get(s) ?? 0), 300_000);
    const burstSecs = (performance.now() - b0) / 1000;
    const cpu = cpuMs(proc.pid!) - cpu0;
    const calls = { shop: shop.requests.length - before.shop, woo: woo.requests.length - before.woo };
    const total = calls.shop + calls.woo;

    return {
      store: label,
      emulatorLatencyMs: '50–150 (uniform, per call)',
      steady: {
        sales: STEADY,
        perSecond: round(STEADY / steadySecs),
        propagationMs: { p50: round(percentile(propagation, 50)), p95: round(percentile(propagation, 95)), p99: round(percentile(propagation, 99)), max: round(propagation.at(-1)!) },
      },
      burst: { sales: BURST, skus: BURST_SKUS, seconds: round(burstSecs, 2), apiCalls: calls, callsPerSale: round(total / BURST, 3), callsPerChannelPerSku: round(total / (BURST_SKUS * channels.length), 2), rateLimited: shop.throttled - before.throttled },
      hubCpuMsPerSale: round(cpu / BURST, 2),
      hubPeakRssMiB: peakRssMiB(proc.pid!),
    };
  } catch (err) {
    if (hubErrors.length > 0) console.error(`The hub's last errors:\n${hubErrors.slice(-10).join('\n')}`);
    throw err;
  } finally {
    proc.kill('SIGTERM');
    await exited;
    await Promise.all([shop.stop(), woo.stop()]);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
