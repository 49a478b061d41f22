/**
 * For test/sheets/e2e.test.ts: the whole hub side in ONE child process — the hub as `npm start` runs
 * it in sandbox mode (server/start.ts: the real Square, Shopify and WooCommerce connectors against
 * their emulators, server/sandbox.ts, the demo catalog mapped and pushed) with the sheet write-back
 * switched on, writing through the real `googleapis` client into the Sheets fake
 * (test/fakes/sheets-fake.ts), which runs in the same child.
 *
 * Why a child: the add-on's UrlFetchApp fake (test/addon/fakes/sync-http.ts) blocks the test's
 * thread while it waits for the hub, so nothing the hub needs may live on that thread.
 *
 * Run as `node --import tsx test/sheets/e2e-hub.ts <sqlite|postgres>`: prints {"url": …} once the
 * sandbox is seeded, then answers JSON-line commands {id, cmd, args} with {id, ok, result|error}.
 * Imported, it exports startE2eHub(), which spawns and drives that child.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { DEMO_CATALOG } from '../../server/sandbox';
import { startStockrelay } from '../../server/start';
import { createLogger } from '../../server/log';
import { SheetsFake } from '../fakes/sheets-fake';
import { dropSchema, freshSchema, settleHub, testConfig } from '../helpers/hub';
import { CLIENT_EMAIL, LOG_HEADERS, SPREADSHEET_ID, serviceAccountKey } from './helpers';

export const E2E_CATALOG_HEADERS = [
  'SKU',
  'Title',
  'On hand · gallery',
  'On hand · warehouse',
  'My notes',
  'Available · gallery',
  'Available · warehouse',
  'Low-stock threshold',
  'Buffer',
  'Status',
  'Last synced',
  'Sync note',
];

export type Cell = string | number | boolean | null;

export interface E2eHub {
  url: string;
  /** The emulators send what they hold, the hub books and pushes it, the sheet gets every write. */
  quiesce(): Promise<void>;
  /** A sale made on the platform itself (its POS or web store): SquareEmulator/ShopifyEmulator `sell`. */
  sell(channel: string, sku: string, quantity: number, location: string): Promise<{ orderId: string }>;
  /** What each emulator itself holds for the SKU, per hub location it maps: {channel: {location: level}}. */
  emulatorLevels(sku: string): Promise<Record<string, Record<string, number | null>>>;
  /** How many API requests each emulator has received. */
  emulatorRequests(): Promise<Record<string, number>>;
  /** The Sheets fake, as staff see and handle it. */
  sheet: {
    read(tab: string): Promise<Cell[][]>;
    record(tab: string, row: number): Promise<Record<string, Cell>>;
    rowWithSku(sku: string): Promise<number>;
    sortRows(tab: string, column: number, order: 'ASCENDING' | 'DESCENDING'): Promise<void>;
    insertRows(tab: string, at: number, count: number): Promise<void>;
    /** A row staff typed, tagged by the add-on with `key` = `value` (a Purchase Orders line). */
    addTaggedRow(tab: string, cells: Cell[], key: string, value: string): Promise<void>;
    rowWithMeta(tab: string, key: string, value: string): Promise<number>;
    /** Requests the fake received (from index `from`): path, status, body, API client headers. */
    requests(from?: number): Promise<{ path: string; status: number; body: unknown; write: boolean; apiClient: string; userAgent: string }[]>;
  };
  close(): Promise<void>;
}

const ROOT = path.join(__dirname, '..', '..');

export async function startE2eHub(kind: 'sqlite' | 'postgres'): Promise<E2eHub> {
  const child = spawn(process.execPath, ['--import', 'tsx', __filename, kind], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let ready: ((url: string) => void) | null = null;
  const started = new Promise<string>((resolve, reject) => {
    ready = resolve;
    void exited.then(() => reject(new Error(`the e2e hub exited before it was ready: ${stderr}`)));
  });
  void exited.then(() => {
    for (const p of pending.values()) p.reject(new Error(`the e2e hub exited: ${stderr}`));
    pending.clear();
  });
  readline.createInterface({ input: child.stdout }).on('line', (l) => {
    let msg: any;
    try {
      msg = JSON.parse(l);
    } catch {
      return; // not ours
    }
    if (typeof msg.url === 'string' && ready) {
      ready(msg.url);
      ready = null;
      return;
    }
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(`e2e hub: ${msg.error}`));
  });
  let next = 0;
  const call = <T>(cmd: string, args: unknown = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = ++next;
      pending.set(id, { resolve, reject });
      child.stdin.write(`${JSON.stringify({ id, cmd, args })}\n`);
    });
  const url = await started;
  return {
    url,
    quiesce: () => call('quiesce'),
    sell: (channel, sku, quantity, location) => call('sell', { channel, sku, quantity, location }),
    emulatorLevels: (sku) => call('emulatorLevels', { sku }),
    emulatorRequests: () => call('emulatorRequests'),
    sheet: {
      read: (tab) => call('read', { tab }),
      record: (tab, row) => call('record', { tab, row }),
      rowWithSku: (sku) => call('rowWithSku', { sku }),
      sortRows: (tab, column, order) => call('sortRows', { tab, column, order }),
      insertRows: (tab, at, count) => call('insertRows', { tab, at, count }),
      addTaggedRow: (tab, cells, key, value) => call('addTaggedRow', { tab, cells, key, value }),
      rowWithMeta: (tab, key, value) => call('rowWithMeta', { tab, key, value }),
      requests: (from = 0) => call('requests', { from }),
    },
    async close() {
      if (child.exitCode !== null) return;
      await call('close').catch(() => undefined);
      await exited;
    },
  };
}

// ------------------------------------------------------------------------------------ the child

async function childMain(kind: 'sqlite' | 'postgres'): Promise<void> {
  // The write pace: 60 writes per 15 s (one each 250 ms) on both sides, so the test runs in seconds;
  // the fake refuses (429) anything faster.
  const quota = { requests: 60, windowMs: 15_000 };
  const fake = await SheetsFake.start({ spreadsheetId: SPREADSHEET_ID, clientEmail: CLIENT_EMAIL, publicKey: 'x', quota: { writes: quota.requests, windowMs: quota.windowMs } });
  const key = serviceAccountKey(fake.tokenUrl);
  (fake.opts as { publicKey: unknown }).publicKey = key.publicKey;
  fake.addTab('Catalog', E2E_CATALOG_HEADERS);
  for (const [tab, headers] of Object.entries(LOG_HEADERS)) fake.addTab(tab, headers);
  // The catalog as staff typed it, each row tagged with its SKU by the add-on; the hub fills in the numbers.
  for (const item of DEMO_CATALOG) fake.addRow('Catalog', [item.sku, item.title, null, null, `note ${item.sku}`], item.sku);

  const schema = kind === 'postgres' ? freshSchema('e2e') : undefined;
  const config = testConfig(
    kind,
    { sheets: { spreadsheetId: SPREADSHEET_ID, credentialsEnv: 'SHEETS_KEY', baseUrl: fake.url } },
    { PORT: '0', HOST: '127.0.0.1', SHEETS_KEY: JSON.stringify(key.json) },
  );
  const s = await startStockrelay(config, createLogger('silent'), {}, { idleMs: 50, validateResponses: true, sheets: { quota }, ...(schema ? { store: { pgSchema: schema } } : {}) });
  const sandbox = s.sandbox;
  if (!sandbox) throw new Error('the hub did not start in sandbox mode');

  async function quiesce(): Promise<void> {
    let last = '';
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      await Promise.all(sandbox!.channels.map((c) => c.emulator.flushWebhooks()));
      try {
        await settleHub(s.hub);
      } catch (err) {
        if (!/did not settle/.test((err as Error).message)) throw err; // paced sheet writes: keep waiting
      }
      const outbox = await s.hub.store.outbox.count();
      // Pushes answered "stale" and the paced sheet writes wait as pending: wait for them too.
      if (outbox.pending || outbox.working) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      const seen = JSON.stringify([sandbox!.channels.map((c) => c.emulator.requests.length), (await s.hub.store.inbox.count()).processed ?? 0, fake.requests.length]);
      if (seen === last) return;
      last = seen;
    }
    throw new Error('the sandbox and the sheet did not come to rest');
  }
  await quiesce();

  const commands: Record<string, (a: any) => unknown> = {
    quiesce: () => quiesce(),
    async sell(a: { channel: string; sku: string; quantity: number; location: string }) {
      const ch = sandbox.channels.find((c) => c.config.id === a.channel);
      if (!ch) throw new Error(`no channel ${a.channel}`);
      const theirs = ch.config.locations[a.location];
      if (!theirs) throw new Error(`${a.channel} does not sell from ${a.location}`);
      return ch.emulator.sell({ sku: a.sku, quantity: a.quantity, locationId: theirs });
    },
    emulatorLevels: (a: { sku: string }) =>
      Object.fromEntries(sandbox.channels.map((c) => [c.config.id, Object.fromEntries(Object.entries(c.config.locations).map(([ours, theirs]) => [ours, c.emulator.level(a.sku, theirs)]))])),
    emulatorRequests: () => Object.fromEntries(sandbox.channels.map((c) => [c.config.id, c.emulator.requests.length])),
    read: (a: { tab: string }) => fake.read(a.tab),
    record: (a: { tab: string; row: number }) => fake.record(a.tab, a.row),
    rowWithSku: (a: { sku: string }) => fake.rowWithMeta('Catalog', 'stockrelay.sku', a.sku),
    sortRows: (a: { tab: string; column: number; order: 'ASCENDING' | 'DESCENDING' }) => fake.sortRows(a.tab, a.column, a.order),
    insertRows: (a: { tab: string; at: number; count: number }) => fake.insertRows(a.tab, a.at, a.count),
    addTaggedRow: (a: { tab: string; cells: Cell[]; key: string; value: string }) => fake.addRow(a.tab, a.cells, undefined, { key: a.key, value: a.value }),
    rowWithMeta: (a: { tab: string; key: string; value: string }) => fake.rowWithMeta(a.tab, a.key, a.value),
    requests: (a: { from: number }) =>
      fake.requests.slice(a.from).map((q) => ({ path: q.path, status: q.status, body: q.body, write: q.write, apiClient: String(q.headers['x-goog-api-client'] ?? ''), userAgent: String(q.headers['user-agent'] ?? '') })),
  };

  const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  say({ url: s.url });
  for await (const line of readline.createInterface({ input: process.stdin })) {
    const { id, cmd, args } = JSON.parse(line) as { id: number; cmd: string; args: unknown };
    if (cmd === 'close') {
      await s.stop();
      await fake.close();
      if (schema) await dropSchema(schema);
      say({ id, ok: true, result: null });
      process.exit(0);
    }
    try {
      const fn = commands[cmd];
      if (!fn) throw new Error(`unknown command ${cmd}`);
      say({ id, ok: true, result: (await fn(args)) ?? null });
    } catch (err) {
      say({ id, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === __filename) {
  childMain(process.argv[2] === 'postgres' ? 'postgres' : 'sqlite').catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
