/**
 * `npm run bench`: measures the hub as a shop would run it — `dist/server/main.js` in its own process —
 * driven from this process over loopback. Prints a table and writes bench/results/latest.json.
 *
 * First the webhook ingest (bench/ingest.ts): genuine signed Shopify webhooks accepted per second,
 * that is verified and committed, and booked per second. Then per store (SQLite always; PostgreSQL too
 * when DATABASE_URL is set):
 *   - relay ingest: signed relays answered per second, and answer latency p50/p95/p99;
 *   - booking: relays booked per second, from the first sent to the last booked;
 *   - notification: level.changed webhooks delivered to a receiver on loopback;
 *   - edit-to-webhook latency: one relay at a time on an idle hub, until its level.changed arrives;
 *   - the hub process's peak resident memory (VmHWM).
 *
 * Then the sync engine against the Shopify and WooCommerce emulators (bench/sync.ts): propagation of a
 * sale to the other channel, API calls per sale in a burst, 429s, hub CPU per sale.
 *
 * Then one slow platform (bench/slow-channel.ts): a web sale's propagation with Square answering in
 * 10 s and its thin orders being fetched, against none slow.
 *
 * Then a burst per platform (bench/burst.ts): each web store without a default sandbox channel beside
 * Shopify and WooCommerce, each enforcing its published rate limit: burst seconds, API calls and stock
 * writes per channel and SKU, 429s, and whether the ledger booked every sale once.
 *
 * Last, the gallery counter (bench/counter.ts): for each point of sale beside Shopify, the last unit of
 * a painting sold at the counter until the web store shows 0 with the listing hidden, and its return
 * until it is back.
 *
 * Settings: BENCH_RELAYS (default 5000), BENCH_CONCURRENCY (32), BENCH_SKUS (200), BENCH_LATENCY_SAMPLES (50);
 * SYNC_RATE (20), SYNC_STEADY (200), SYNC_BURST (1000), SYNC_BURST_SKUS (50); INGEST_SALES (2500), INGEST_SKUS (50),
 * INGEST_CONCURRENCY (32); SLOW_SALES (20), SLOW_LATENCY_MS (10000); BURST_SALES (1000), BURST_SKUS (50), BURST_PLATFORMS (the
 * seven web stores), BURST_TIMEOUT_MS (300000), BURST_KEEP=1 (keep the hub's store and log); COUNTER_ROUNDS (5), COUNTER_PLATFORMS (every point of sale);
 * BENCH_ONLY=ingest|relays|sync|slow|burst|counter;
 * BENCH_SYNC_PG=0 measures the sync engine on SQLite only.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { signRelay } from '../server/relay/verify';
import { hubProcessEnv, startHubProcess } from './hub-process';
import { peakRssMiB, percentile, round } from './measure';
import { benchSync, type SyncResult } from './sync';
import { benchIngest, type IngestResult } from './ingest';
import { benchSlowChannel, type SlowChannelResult } from './slow-channel';
import { benchBurst, burstRows, type BurstFailure, type BurstResult } from './burst';
import { benchCounter, type CounterFailure, type CounterResult } from './counter';

const ROOT = path.resolve(__dirname, '..', '..');
const RELAYS = Number(process.env.BENCH_RELAYS ?? 5000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const SKUS = Number(process.env.BENCH_SKUS ?? 200);
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 50);
const SECRET = `whsec_${crypto.randomBytes(32).toString('base64')}`;
const ADMIN = crypto.randomBytes(24).toString('base64url');

interface Result {
  store: string;
  relays: number;
  concurrency: number;
  ingestPerSec: number;
  ingestLatencyMs: { p50: number; p95: number; p99: number; max: number };
  bookedPerSec: number;
  webhooksDelivered: number;
  editToWebhookMs: { p50: number; p95: number; max: number };
  hubPeakRssMiB: number;
}

/** A notification receiver on loopback that remembers when each SKU last reached each level. */
function startReceiver(): Promise<{ port: number; count: () => number; waitFor: (sku: string, onHand: number) => Promise<number>; close: () => Promise<void> }> {
  let delivered = 0;
  const waiters: { sku: string; onHand: number; resolve: (t: number) => void }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const msg = JSON.parse(Buffer.concat(chunks).toString()) as { type: string; data: { sku: string; onHand: number } };
      if (msg.type === 'level.changed') {
        delivered++;
        const now = performance.now();
        for (let i = waiters.length - 1; i >= 0; i--) {
          const w = waiters[i]!;
          if (w.sku === msg.data.sku && w.onHand === msg.data.onHand) {
            waiters.splice(i, 1);
            w.resolve(now);
          }
        }
      }
      res.writeHead(204).end();
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as AddressInfo).port,
        count: () => delivered,
        waitFor: (sku, onHand) => new Promise((r) => waiters.push({ sku, onHand, resolve: r })),
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  );
}

function startHub(env: NodeJS.ProcessEnv) {
  return startHubProcess([path.join(ROOT, 'dist/server/main.js')], { cwd: ROOT, env });
}

async function call(url: string, method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(url + p, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? null : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${p} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

async function sendRelay(url: string, body: object): Promise<number> {
  const raw = JSON.stringify(body);
  const res = await fetch(`${url}/v1/relay`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...signRelay(SECRET, `msg_${crypto.randomUUID()}`, raw, new Date()) } });
  await res.arrayBuffer();
  return res.status;
}

const adjustment = (sku: string, quantity: number) => ({ kind: 'adjustment', sku, quantity, reason: 'restock', occurredAt: new Date().toISOString() });

async function benchStore(label: string, storeEnv: Record<string, string>): Promise<Result> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-bench-'));
  const receiver = await startReceiver();
  const configFile = path.join(dataDir, 'stockrelay.json');
  fs.writeFileSync(configFile, JSON.stringify({ notify: [{ id: 'bench', url: `http://127.0.0.1:${receiver.port}/hook`, topics: ['level.changed'] }] }));
  const { proc, url, exited } = await startHub(hubProcessEnv({ dataDir, configFile, relaySecret: SECRET, adminToken: ADMIN, extra: storeEnv }));
  try {
    const skus = Array.from({ length: SKUS }, (_, i) => `BENCH-${String(i).padStart(4, '0')}`);
    await sendRelay(url, { kind: 'catalog_changed', added: skus.map((sku) => ({ sku })), removed: [], occurredAt: new Date().toISOString() });
    await waitIdle(url);

    // Ingest and booking: RELAYS signed adjustments, CONCURRENCY in flight.
    const latencies: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < RELAYS) {
          const i = next++;
          const t0 = performance.now();
          const status = await sendRelay(url, adjustment(skus[i % SKUS]!, 1));
          latencies.push(performance.now() - t0);
          if (status !== 202) throw new Error(`relay ${i} answered ${status}`);
        }
      }),
    );
    const ingestSecs = (performance.now() - started) / 1000;
    await waitIdle(url);
    const bookedSecs = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);

    // Edit-to-webhook latency on an idle hub: one relay at a time until its level.changed arrives.
    const lastSku = skus[0]!;
    let onHand = (await call(url, 'GET', `/v1/items/${lastSku}`)).onHand as number;
    const e2e: number[] = [];
    for (let n = 0; n < LATENCY_SAMPLES; n++) {
      onHand += 1;
      const arrived = receiver.waitFor(lastSku, onHand);
      const t0 = performance.now();
      await sendRelay(url, adjustment(lastSku, 1));
      e2e.push((await arrived) - t0);
    }
    e2e.sort((a, b) => a - b);

    return {
      store: label,
      relays: RELAYS,
      concurrency: CONCURRENCY,
      ingestPerSec: round(RELAYS / ingestSecs),
      ingestLatencyMs: { p50: round(percentile(latencies, 50), 2), p95: round(percentile(latencies, 95), 2), p99: round(percentile(latencies, 99), 2), max: round(latencies.at(-1)!, 2) },
      bookedPerSec: round(RELAYS / bookedSecs),
      webhooksDelivered: receiver.count(),
      editToWebhookMs: { p50: round(percentile(e2e, 50), 2), p95: round(percentile(e2e, 95), 2), max: round(e2e.at(-1)!, 2) },
      hubPeakRssMiB: peakRssMiB(proc.pid!),
    };
  } finally {
    proc.kill('SIGTERM');
    await exited;
    await receiver.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Waits until no stored event is waiting to be booked. */
async function waitIdle(url: string): Promise<void> {
  for (;;) {
    const { events } = (await call(url, 'GET', '/v1/events?status=received&limit=1')) as { events: unknown[] };
    if (events.length === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Runs `fn` on a fresh PostgreSQL schema, dropped afterwards. */
async function onPostgres<T>(fn: (env: Record<string, string>) => Promise<T>): Promise<T> {
  const schema = `bench_${crypto.randomBytes(4).toString('hex')}`;
  try {
    return await fn({ DATABASE_URL: process.env.DATABASE_URL!, STOCKRELAY_PG_SCHEMA: schema });
  } finally {
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await c.connect();
    await c.query(`drop schema if exists ${schema} cascade`);
    await c.end();
  }
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY; // "ingest", "relays", "sync", "slow", "burst" or "counter"
  const results: Result[] = [];
  const ingest: IngestResult[] = [];
  if (!only || only === 'ingest') {
    ingest.push(await benchIngest('sqlite', {}));
    if (process.env.DATABASE_URL) ingest.push(await onPostgres((env) => benchIngest('postgres', env)));
  }
  const sync: SyncResult[] = [];
  if (!only || only === 'relays') {
    results.push(await benchStore('sqlite', {}));
    if (process.env.DATABASE_URL) results.push(await onPostgres((env) => benchStore('postgres', env)));
  }
  const syncFailures: { store: string; error: string }[] = [];
  // A run whose channels do not converge is a finding, not a crash: it is printed and kept in the results.
  const trySync = async (store: string, fn: () => Promise<SyncResult>) => {
    try {
      sync.push(await fn());
    } catch (err) {
      syncFailures.push({ store, error: (err as Error).message });
    }
  };
  if (!only || only === 'sync') {
    await trySync('sqlite', () => benchSync('sqlite', {}));
    if (process.env.DATABASE_URL && process.env.BENCH_SYNC_PG !== '0') await trySync('postgres', () => onPostgres((env) => benchSync('postgres', env)));
  }
  let slow: SlowChannelResult | null = null;
  if (!only || only === 'slow') slow = await benchSlowChannel();
  // Like the sync engine's, a platform whose channels do not converge is a finding kept in the results.
  let burst: { results: BurstResult[]; failures: BurstFailure[] } = { results: [], failures: [] };
  if (!only || only === 'burst') burst = await benchBurst();
  let counter: { results: CounterResult[]; failures: CounterFailure[] } = { results: [], failures: [] };
  if (!only || only === 'counter') counter = await benchCounter();
  if (!process.env.DATABASE_URL) console.log('DATABASE_URL is not set: PostgreSQL is not measured.');

  if (ingest.length > 0) {
    console.log(`Webhook ingest: ${ingest[0]!.webhooks} signed Shopify webhooks from emulator sales, ${ingest[0]!.concurrency} in flight; accepted = verified and committed.`);
    console.table(
      ingest.map((r) => ({
        store: r.store,
        'accepted/s': r.acceptedPerSec,
        'answer p50 ms': r.answerMs.p50,
        'p95 ms': r.answerMs.p95,
        'p99 ms': r.answerMs.p99,
        'booked/s': r.bookedPerSec,
        'every sale booked once': r.ledgerChecked,
        'hub CPU ms per webhook': r.hubCpuMsPerWebhook,
        'hub peak RSS MiB': r.hubPeakRssMiB,
      })),
    );
  }
  const rows = results.map((r) => ({
    store: r.store,
    'relays/s answered': r.ingestPerSec,
    'answer p50 ms': r.ingestLatencyMs.p50,
    'p95 ms': r.ingestLatencyMs.p95,
    'p99 ms': r.ingestLatencyMs.p99,
    'booked/s': r.bookedPerSec,
    'webhooks sent': r.webhooksDelivered,
    'edit→webhook p50 ms': r.editToWebhookMs.p50,
    'edit→webhook p95 ms': r.editToWebhookMs.p95,
    'hub peak RSS MiB': r.hubPeakRssMiB,
  }));
  if (rows.length > 0) console.table(rows);
  if (sync.length > 0) {
    console.log(
      `Sync engine: Shopify and WooCommerce emulators answering in ${sync[0]!.emulatorLatencyMs} ms, Shopify's cost bucket enforced; a burst is ${sync[0]!.burst.sales} sales across ${sync[0]!.burst.skus} SKUs.`,
    );
    console.table(
      sync.map((r) => ({
        store: r.store,
        'sales/s': r.steady.perSecond,
        'propagation p50 ms': r.steady.propagationMs.p50,
        'p95 ms': r.steady.propagationMs.p95,
        'p99 ms': r.steady.propagationMs.p99,
        'burst s': r.burst.seconds,
        'API calls per sale': r.burst.callsPerSale,
        'calls per channel per SKU': r.burst.callsPerChannelPerSku,
        '429 / THROTTLED': r.burst.rateLimited,
        'hub CPU ms per sale': r.hubCpuMsPerSale,
        'hub peak RSS MiB': r.hubPeakRssMiB,
      })),
    );
  }

  if (slow) {
    console.log(`One slow platform: a Shopify sale until WooCommerce shows it, ${slow.sales} sales one at a time; Square answering every call after ${slow.slowLatencyMs} ms with a thin POS order being fetched at each web sale.`);
    console.table([
      { case: 'no platform slow', 'p50 ms': slow.noneSlowMs.p50, 'p95 ms': slow.noneSlowMs.p95, 'max ms': slow.noneSlowMs.max },
      { case: `Square answering in ${slow.slowLatencyMs} ms`, 'p50 ms': slow.oneSlowMs.p50, 'p95 ms': slow.oneSlowMs.p95, 'max ms': slow.oneSlowMs.max },
    ]);
    console.log(`Square orders still being fetched when the last web sale had arrived: ${slow.squareEventsPendingAtEnd}.`);
  }
  if (burst.results.length > 0) {
    console.log(`A burst per platform: ${burst.results[0]!.sales} sales over ${burst.results[0]!.skus} SKUs across the platform, Shopify and WooCommerce, every emulator answering in 50–150 ms and enforcing its published rate limit; figures per channel (the platform / Shopify / WooCommerce), during the burst.`);
    console.table(burstRows(burst.results));
  }
  if (counter.results.length > 0) {
    console.log(`The gallery counter: the last unit of a painting sold at each point of sale's counter until Shopify shows 0 with the listing hidden, then returned there until it is back; ${counter.results[0]!.rounds} rounds, every emulator answering in 50–150 ms.`);
    console.table(
      counter.results.map((r) => ({ 'point of sale': r.platform, 'sold → gone from the web store, p50 ms': r.goneMs.p50, 'max ms': r.goneMs.max, 'returned → back, p50 ms': r.backMs.p50, 'max ms ': r.backMs.max })),
    );
  }
  for (const f of syncFailures) console.log(`Sync engine on ${f.store} FAILED: ${f.error}`);
  for (const f of counter.failures) console.log(`Gallery counter on ${f.platform} FAILED: ${f.error}`);
  for (const f of burst.failures) console.log(`Burst with ${f.platform} FAILED: ${f.error}`);
  const out = {
    at: new Date().toISOString(),
    machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memGiB: round(os.totalmem() / 2 ** 30) },
    settings: { relays: RELAYS, concurrency: CONCURRENCY, skus: SKUS, latencySamples: LATENCY_SAMPLES },
    ingest,
    results,
    sync,
    syncFailures,
    slowChannel: slow,
    burst: burst.results,
    burstFailures: burst.failures,
    counter: counter.results,
    counterFailures: counter.failures,
  };
  const dir = path.join(ROOT, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(`Written to ${path.relative(process.cwd(), path.join(dir, 'latest.json'))}`);
  // The figures are written either way; a run whose channels did not converge still fails.
  if (syncFailures.length > 0 || burst.failures.length > 0 || counter.failures.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error('bench failed:', err);
  process.exit(1);
});
