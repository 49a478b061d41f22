/**
 * The gallery counter (issue #19): for every point of sale with a sandbox emulator (or those of
 * COUNTER_PLATFORMS=a,b), the sandbox as `STOCKRELAY_SANDBOX=<pos>,shopify npm start` runs it (the
 * hub in this process on its embedded store), every emulator answering each API call after 50–150 ms.
 * COUNTER_ROUNDS times (default 5), one at a time: the last unit of the one-of-a-kind painting
 * (ART-0001) is sold at the gallery counter, and then returned there with restock. Measured from the
 * sale (or return) on the point of sale's emulator until Shopify, the web store, shows 0 with the
 * listing hidden (or 1 with it shown again).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pointsOfSale } from '../server/connectors';
import { loadConfig } from '../server/config';
import { createLogger } from '../server/log';
import { startStockrelay, type Started } from '../server/start';
import { percentile, realisticLatency, round, sleep } from './measure';

const ROUNDS = Number(process.env.COUNTER_ROUNDS ?? 5);
const PAINTING = 'ART-0001';

export interface CounterResult {
  platform: string;
  rounds: number;
  /** Sale at the counter → Shopify shows 0 and the listing is hidden. */
  goneMs: { p50: number; max: number };
  /** Return at the counter → Shopify shows 1 and the listing is shown. */
  backMs: { p50: number; max: number };
}

export interface CounterFailure {
  platform: string;
  error: string;
}

async function start(platform: string): Promise<Started> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-bench-counter-'));
  const configFile = path.join(dir, 'stockrelay.json');
  fs.writeFileSync(configFile, JSON.stringify({ engine: { reconcileEveryMs: 0 } }));
  const env = { STOCKRELAY_DATA_DIR: dir, STOCKRELAY_CONFIG: configFile, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', STOCKRELAY_SANDBOX: `${platform},shopify` };
  const { config } = loadConfig(env);
  return startStockrelay(config, createLogger('silent'), { STOCKRELAY_SANDBOX: env.STOCKRELAY_SANDBOX }, { idleMs: 50 });
}

async function waitFor(cond: () => Promise<boolean> | boolean, what: string, limitMs = 60_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`counter bench: ${what} never happened within ${limitMs / 1000} s`);
    await sleep(2);
  }
}

async function measure(platform: string): Promise<CounterResult> {
  const s = await start(platform);
  try {
    const pos = s.sandbox!.channels.find((c) => c.config.platform === platform)!;
    const web = s.sandbox!.channels.find((c) => c.config.platform === 'shopify')!;
    const webAt = web.config.locations.gallery!;
    const counterAt = pos.config.locations.gallery!;
    const hidden = async () => (await s.hub.store.listings.forSku(web.config.id, PAINTING))?.hidden ?? false;
    const quiet = async () => !(await s.hub.store.inbox.count()).received && !(await s.hub.store.outbox.count()).pending;
    await waitFor(async () => web.emulator.level(PAINTING, webAt) === 1 && pos.emulator.level(PAINTING, counterAt) === 1 && (await quiet()), 'the opening levels on both channels');
    for (const c of s.sandbox!.channels) realisticLatency(c.emulator);
    const gone: number[] = [];
    const back: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      let t0 = performance.now();
      const { orderId } = await pos.emulator.sell({ sku: PAINTING, quantity: 1, locationId: counterAt });
      await waitFor(async () => web.emulator.level(PAINTING, webAt) === 0 && (await hidden()), `round ${i + 1}: the painting leaving the web store`);
      gone.push(performance.now() - t0);
      if (process.env.COUNTER_TRACE) console.log(`${platform} round ${i + 1}: gone in ${Math.round(gone.at(-1)!)} ms`);
      await waitFor(quiet, `round ${i + 1}: the hub at rest after the sale`);
      t0 = performance.now();
      await pos.emulator.refund({ orderId, restock: true });
      await waitFor(async () => web.emulator.level(PAINTING, webAt) === 1 && !(await hidden()), `round ${i + 1}: the painting back on the web store`);
      back.push(performance.now() - t0);
      await waitFor(quiet, `round ${i + 1}: the hub at rest after the return`);
    }
    const stats = (ms: number[]) => {
      const sorted = [...ms].sort((a, b) => a - b);
      return { p50: round(percentile(sorted, 50)), max: round(sorted.at(-1)!) };
    };
    return { platform, rounds: ROUNDS, goneMs: stats(gone), backMs: stats(back) };
  } finally {
    await s.stop();
  }
}

/** Every point of sale in turn; one that never settles is a finding kept beside the others' figures. */
export async function benchCounter(): Promise<{ results: CounterResult[]; failures: CounterFailure[] }> {
  const chosen = process.env.COUNTER_PLATFORMS?.split(',').map((p) => p.trim()).filter(Boolean);
  const platforms = pointsOfSale()
    .filter((d) => d.sandbox && (!chosen || chosen.includes(d.platform)))
    .map((d) => d.platform);
  const results: CounterResult[] = [];
  const failures: CounterFailure[] = [];
  for (const platform of platforms) {
    try {
      results.push(await measure(platform));
    } catch (err) {
      failures.push({ platform, error: (err as Error).message });
    }
  }
  return { results, failures };
}
