/**
 * Webhook ingest measured end to end: genuine signed Shopify webhooks (`orders/create`,
 * `orders/paid` and `inventory_levels/update`, made by sales on the Shopify emulator and captured), sent to the hub
 * process INGEST_CONCURRENCY at a time (default 32). Measures:
 *   - accepted/s: webhooks answered 200 "received", i.e. verified and durably stored (the hub answers
 *     only after the commit that holds the event);
 *   - the answer latency p50/p95/p99;
 *   - booked/s: until every stored event has been booked (the sales deducted, the level reports
 *     attributed), with the emulator answering the hub's pushes in 50–150 ms;
 *   - a check that the ledger deducted every sale once.
 * INGEST_SALES (default 2,500 sales, so 7,500 webhooks) across INGEST_SKUS SKUs (default 50).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ShopifyEmulator } from '../server/connectors/shopify/emulator';
import { hubClient, hubProcessEnv, startHubProcess } from './hub-process';
import { cpuMs, peakRssMiB, percentile, realisticLatency, round, sleep } from './measure';

const ROOT = path.resolve(__dirname, '..', '..');
const SALES = Number(process.env.INGEST_SALES ?? 2500);
const SKUS = Number(process.env.INGEST_SKUS ?? 50);
const CONCURRENCY = Number(process.env.INGEST_CONCURRENCY ?? 32);
const START_LEVEL = 100_000;
const SHOP_LOC = 'gid://shopify/Location/1001';

export interface IngestResult {
  store: string;
  webhooks: number;
  concurrency: number;
  acceptedPerSec: number;
  answerMs: { p50: number; p95: number; p99: number; max: number };
  bookedPerSec: number;
  ledgerChecked: boolean;
  hubCpuMsPerWebhook: number;
  /** This process's CPU time per webhook sent: it shares the machine's cores with the hub. */
  senderCpuMsPerWebhook: number;
  hubPeakRssMiB: number;
}

/** A loopback server that keeps every webhook the emulator sends it. */
async function capture(): Promise<{ url: string; got: { headers: Record<string, string>; body: string }[]; close: () => Promise<void> }> {
  const got: { headers: Record<string, string>; body: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection') headers[k] = v;
      got.push({ headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export async function benchIngest(label: string, storeEnv: Record<string, string>): Promise<IngestResult> {
  const secret = `whsec_${crypto.randomBytes(32).toString('base64')}`;
  const admin = crypto.randomBytes(24).toString('base64url');
  const creds = { SHOP_TOKEN: `shpat_${crypto.randomBytes(12).toString('hex')}`, SHOP_HOOK: crypto.randomBytes(16).toString('hex') };
  const shop = new ShopifyEmulator({ accessToken: creds.SHOP_TOKEN, webhookSecret: creds.SHOP_HOOK, shopDomain: 'bench.myshopify.com', locations: [SHOP_LOC] });
  const shopUrl = await shop.start();
  const sink = await capture();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sr-bench-ingest-'));
  const configFile = path.join(dataDir, 'stockrelay.json');
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      locations: [{ id: 'gallery', name: 'Gallery' }],
      engine: { reconcileEveryMs: 0 },
      channels: [
        { id: 'shop', name: 'Shopify', platform: 'shopify', baseUrl: shopUrl, locations: { gallery: SHOP_LOC }, settings: { shopDomain: 'bench.myshopify.com' }, credentials: { accessToken: 'SHOP_TOKEN', webhookSecret: 'SHOP_HOOK' } },
      ],
    }),
  );
  const { proc, url, exited } = await startHubProcess([path.join(ROOT, 'dist/server/main.js')], {
    cwd: ROOT,
    env: hubProcessEnv({ dataDir, configFile, relaySecret: secret, adminToken: admin, extra: { ...storeEnv, ...creds } }),
  });
  const { call, relay, waitBooked } = hubClient(url, admin, secret);

  try {
    // The catalog on both sides, the starting level booked and pushed.
    const skus = Array.from({ length: SKUS }, (_, i) => `INGEST-${String(i).padStart(3, '0')}`);
    shop.seed(skus.map((sku) => ({ sku, title: sku, levels: { [SHOP_LOC]: START_LEVEL } })));
    const at = new Date().toISOString();
    await relay({ kind: 'catalog_changed', added: skus.map((sku) => ({ sku, title: sku })), removed: [], occurredAt: at });
    await waitBooked();
    await call('POST', '/v1/channels/shop/discover');
    await relay({ kind: 'edit_batch', editedAt: at, actor: 'bench', edits: skus.map((sku) => ({ sku, field: 'on_hand', location: 'gallery', oldValue: 0, newValue: START_LEVEL })) });
    await waitBooked();

    // The hub's first pushes (and their echoes) are over before the capture starts.
    for (let seen = -1; seen !== shop.requests.length; ) {
      seen = shop.requests.length;
      await sleep(1000);
    }

    // The webhooks: made by real sales on the emulator, captured, then sent to the hub.
    shop.subscribe(sink.url);
    for (let i = 0; i < SALES; i++) await shop.sell({ sku: skus[i % SKUS]!, quantity: 1, locationId: SHOP_LOC });
    // Each paid sale: orders/create, orders/paid and inventory_levels/update.
    const perSale = 3;
    for (let i = 0; sink.got.length < SALES * perSale && i < 3000; i++) {
      await shop.flushWebhooks();
      await sleep(10);
    }
    if (sink.got.length !== SALES * perSale) throw new Error(`the emulator sent ${sink.got.length} webhooks, not ${SALES * perSale}`);
    shop.subscribe(`${url}/v1/webhooks/shop`);
    realisticLatency(shop);

    const deliveries = sink.got;
    const latencies: number[] = [];
    // The sender is node:http with kept-alive connections: lighter than fetch, so the measure is the hub's.
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const target = new URL(`${url}/v1/webhooks/shop`);
    const post = (d: { headers: Record<string, string>; body: string }) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ agent, host: target.hostname, port: target.port, path: target.pathname, method: 'POST', headers: { ...d.headers, 'content-length': Buffer.byteLength(d.body) } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(d.body);
      });
    const senderCpu0 = process.cpuUsage();
    const cpu0 = cpuMs(proc.pid!);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < deliveries.length) {
          const d = deliveries[next++]!;
          const s = performance.now();
          const res = await post(d);
          latencies.push(performance.now() - s);
          if (res.status !== 200 || (JSON.parse(res.body) as { status?: string }).status !== 'received') throw new Error(`a webhook was answered ${res.status} ${res.body}`);
        }
      }),
    );
    const acceptSecs = (performance.now() - t0) / 1000;
    const sender = process.cpuUsage(senderCpu0);
    agent.destroy();
    await waitBooked();
    const bookSecs = (performance.now() - t0) / 1000;
    const cpu = cpuMs(proc.pid!) - cpu0;
    latencies.sort((a, b) => a - b);

    // Every sale deducted exactly once: the ledger's on hand is the start less what was sold.
    const perSku = Math.floor(SALES / SKUS);
    for (const [i, sku] of skus.entries()) {
      const want = START_LEVEL - perSku - (i < SALES % SKUS ? 1 : 0);
      const item = (await call('GET', `/v1/items/${sku}`)) as { onHand: number };
      if (item.onHand !== want) throw new Error(`${sku}: the ledger has ${item.onHand} on hand, expected ${want}`);
    }

    return {
      store: label,
      webhooks: deliveries.length,
      concurrency: CONCURRENCY,
      acceptedPerSec: round(deliveries.length / acceptSecs),
      answerMs: { p50: round(percentile(latencies, 50), 2), p95: round(percentile(latencies, 95), 2), p99: round(percentile(latencies, 99), 2), max: round(latencies.at(-1)!, 2) },
      bookedPerSec: round(deliveries.length / bookSecs),
      ledgerChecked: true,
      hubCpuMsPerWebhook: round(cpu / deliveries.length, 2),
      senderCpuMsPerWebhook: round((sender.user + sender.system) / 1000 / deliveries.length, 2),
      hubPeakRssMiB: peakRssMiB(proc.pid!),
    };
  } finally {
    proc.kill('SIGTERM');
    await exited;
    await shop.stop();
    await sink.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
