/**
 * A slow platform holds only its own channel (docs/inbox-outbox.md, "Prepare, then book"). The
 * sandbox (Square, Shopify and WooCommerce emulators, the hub in this process on its embedded store)
 * measures a web-store sale's propagation: a sale on Shopify until WooCommerce shows it, SLOW_SALES
 * times (default 20), one at a time:
 *   - with every platform answering at once;
 *   - with Square answering every API call after SLOW_LATENCY_MS (default 10,000 ms; the hub waits up
 *     to 15 s for a fetch here) and a sale at the Square POS just before each web sale, so a thin
 *     Square order is being fetched whenever the web sale arrives.
 * Before the prepare stage, the second case waited for each Square fetch: about 10 s per sale.
 */
import { createLogger } from '../server/log';
import { loadConfig } from '../server/config';
import { startStockrelay, type Started } from '../server/start';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { percentile, round, sleep } from './measure';

const SALES = Number(process.env.SLOW_SALES ?? 20);
const LATENCY = Number(process.env.SLOW_LATENCY_MS ?? 10_000);

export interface SlowChannelResult {
  sales: number;
  slowLatencyMs: number;
  noneSlowMs: { p50: number; p95: number; max: number };
  oneSlowMs: { p50: number; p95: number; max: number };
  /** Square sales still being fetched when the last web sale had reached WooCommerce. */
  squareEventsPendingAtEnd: number;
}

async function start(): Promise<Started> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-bench-slow-'));
  const configFile = path.join(dir, 'stockrelay.json');
  fs.writeFileSync(configFile, JSON.stringify({ engine: { fetchTimeoutMs: 15_000, reconcileEveryMs: 0 } }));
  const { config } = loadConfig({ STOCKRELAY_DATA_DIR: dir, STOCKRELAY_CONFIG: configFile, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
  return startStockrelay(config, createLogger('silent'), {}, { idleMs: 50 });
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  const until = Date.now() + 60_000;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`slow-channel bench: ${what} never happened`);
    await sleep(2);
  }
}

async function run(slow: boolean): Promise<{ ms: number[]; pending: number }> {
  const s = await start();
  try {
    const ch = (id: string) => s.sandbox!.channels.find((c) => c.config.id === id)!;
    const [square, shopify, woo] = [ch('square'), ch('shopify'), ch('woocommerce')];
    await waitFor(() => woo.emulator.level('CNV-0401', 'default') === 4, 'the opening levels reaching WooCommerce');
    // Supplies enough for every sale: a restock through the API, then wait for WooCommerce.
    await fetch(`${s.url}/v1/items/CNV-0401/counts`, { method: 'POST', headers: { authorization: `Bearer ${s.config.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ location: 'gallery', counted: 10_000 }) });
    await waitFor(() => woo.emulator.level('CNV-0401', 'default') === 10_000 && shopify.emulator.level('CNV-0401', shopify.config.locations.gallery!) === 10_000, 'the restock reaching WooCommerce and Shopify');
    await fetch(`${s.url}/v1/items/BRU-0202/counts`, { method: 'POST', headers: { authorization: `Bearer ${s.config.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ location: 'gallery', counted: 10_000 }) });
    await waitFor(() => square.emulator.level('BRU-0202', square.config.locations.gallery!) === 10_000, 'the restock reaching Square');
    // The echo of the restock push may still wait for its attribution window (docs/attribution.md):
    // the web sales are measured from a quiet start.
    const quiet = async () => {
      for (const c of [shopify, woo, square]) {
        const known = await s.hub.store.channelLevels.get(c.config.id, 'CNV-0401', 'gallery');
        if (known?.pendingSince) return false;
      }
      return true;
    };
    for (let i = 0; i < 30_000 && !(await quiet()); i += 50) await sleep(50);
    if (slow) square.emulator.faults.api.latencyMs = LATENCY;
    const ms: number[] = [];
    let level = 10_000;
    for (let i = 0; i < SALES; i++) {
      if (slow) {
        await square.emulator.sell({ sku: 'BRU-0202', quantity: 1, locationId: square.config.locations.gallery! });
        await square.emulator.flushWebhooks();
      }
      const t0 = performance.now();
      await shopify.emulator.sell({ sku: 'CNV-0401', quantity: 1, locationId: shopify.config.locations.gallery! });
      level -= 1;
      await waitFor(() => woo.emulator.level('CNV-0401', 'default') === level, `web sale ${i + 1} reaching WooCommerce`);
      ms.push(performance.now() - t0);
      if (process.env.SLOW_TRACE) console.log(`sale ${i + 1}: ${Math.round(ms.at(-1)!)} ms`);
    }
    const pending = (await s.hub.store.inbox.list({ limit: 1000, status: 'received' })).filter((e) => e.dedupeKey.startsWith('channel:square:') && e.prepared === null).length;
    return { ms: ms.sort((a, b) => a - b), pending };
  } finally {
    await s.stop();
  }
}

export async function benchSlowChannel(): Promise<SlowChannelResult> {
  const stats = (ms: number[]) => ({ p50: round(percentile(ms, 50)), p95: round(percentile(ms, 95)), max: round(ms.at(-1)!) });
  const none = await run(false);
  const one = await run(true);
  return { sales: SALES, slowLatencyMs: LATENCY, noneSlowMs: stats(none.ms), oneSlowMs: stats(one.ms), squareEventsPendingAtEnd: one.pending };
}
