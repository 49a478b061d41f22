/**
 * `npm run simulate -- [--channels shopify,square,…|all] [--seeds N] [--from N] [--seed N] [--store sqlite|postgres] [--shrink] [--trace]`
 *
 * Runs the deterministic simulation for seeds from..from+N-1 (default 1..100), prints one line per
 * failing seed with the command that reproduces it, and a summary. `--channels` picks the platforms
 * (any whose connector brings an emulator; default: the sandbox's default set; `all`: every one).
 * `--seed N` runs one seed;
 * `--trace` prints its operations as they run (and, at the end, every event and movement);
 * `--shrink` shrinks a failing seed's operations and writes them to <tmp>/simulation-seed-<N>-shrunk.json,
 * which `--seed N --ops <file>` runs again.
 * Exits 1 when any seed fails.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChannelChoiceError, chooseChannels } from './channels';
import { formatFailure, reproduceCommand, runSeed, type RunResult, type StoreKind } from './harness';
import type { Op } from './scenario';
import { shrink } from './shrink';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

function int(name: string, fallback: number): number {
  const v = arg(name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new Error(`--${name} needs a whole number, got "${v}"`);
  return Number(v);
}

async function main(): Promise<number> {
  const store = (arg('store') ?? 'sqlite') as StoreKind;
  if (store !== 'sqlite' && store !== 'postgres') throw new Error('--store is sqlite or postgres');
  const one = arg('seed');
  const from = one !== undefined ? int('seed', 1) : int('from', 1);
  const count = one !== undefined ? 1 : int('seeds', 100);
  const trace = flag('trace');
  const channelsArg = arg('channels');
  if (process.argv.includes('--channels') && (channelsArg === undefined || channelsArg.startsWith('--'))) throw new ChannelChoiceError('--channels needs a comma-separated list of platforms (shopify,square), "all" or "default".');
  const channels = chooseChannels(channelsArg).map((p) => p.channelId);
  const started = performance.now();
  const failures: RunResult[] = [];
  const totals = { ops: 0, sales: 0, oversells: 0, crashes: 0, webhooks: 0, pushes: 0 };
  let slowest = { seed: 0, ms: 0 };
  for (let seed = from; seed < from + count; seed++) {
    const opsFile = arg('ops');
    const r = await runSeed(seed, { store, trace, channels, ...(opsFile ? { ops: JSON.parse(fs.readFileSync(opsFile, 'utf8')) as Op[] } : {}), ...(process.env.SIM_LOG_LEVEL ? { logLevel: process.env.SIM_LOG_LEVEL } : {}) });
    totals.ops += r.stats.ops;
    totals.sales += r.stats.sales;
    totals.oversells += r.stats.oversells;
    totals.crashes += r.stats.crashes;
    totals.webhooks += r.stats.webhooksDelivered;
    totals.pushes += r.stats.pushes;
    if (r.wallMs > slowest.ms) slowest = { seed, ms: r.wallMs };
    if (count === 1) console.log(`seed ${seed}: ${r.ok ? "ok" : "FAILED"} in ${r.wallMs} ms, fingerprint ${r.fingerprint} ${JSON.stringify(r.stats)}`);
    if (!r.ok) {
      failures.push(r);
      if (flag('shrink')) {
        console.log(`seed ${seed} failed; shrinking…`);
        const s = await shrink(r, { store }, 200, (l) => console.log(l));
        const file = path.join(os.tmpdir(), `simulation-seed-${seed}-shrunk.json`);
        fs.writeFileSync(file, JSON.stringify(s.ops, null, 1) + '\n');
        console.log(formatFailure(s.result, { ops: s.ops, from: r.scenario.ops.length, file }));
      } else {
        console.log(formatFailure(r));
      }
    } else if (count > 1 && (seed - from + 1) % 100 === 0) {
      console.log(`… ${seed - from + 1} seeds, ${failures.length} failed, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    }
  }
  const secs = (performance.now() - started) / 1000;
  console.log(
    `\nsimulation on ${store} over ${channels.join(', ')}: ${count} seed(s) from ${from}, ${count - failures.length} passed, ${failures.length} failed, ${secs.toFixed(1)} s (${((secs * 1000) / count).toFixed(0)} ms a seed, slowest seed ${slowest.seed}: ${slowest.ms} ms)`,
  );
  console.log(`  ${totals.ops} operations, ${totals.sales} sales, ${totals.oversells} oversells, ${totals.crashes} crashes, ${totals.webhooks} webhooks delivered, ${totals.pushes} pushes`);
  for (const f of failures) console.log(`  FAILED seed ${f.seed}: ${reproduceCommand(f)}`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // A wrong flag is said in one line; anything else with its stack.
    console.error(err instanceof ChannelChoiceError || (err instanceof Error && err.message.startsWith('--')) ? err.message : err);
    process.exit(2);
  },
);
