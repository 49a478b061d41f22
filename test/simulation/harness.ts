/**
 * The deterministic simulation (docs/simulation.md): from one seed, the real hub (real store, real
 * connectors) and the emulators of the chosen platforms (any with sandbox wiring in the connector
 * registry; channels.ts) in this process on 127.0.0.1 are driven through a generated scenario of
 * sales, refunds, sheet edits, counts, webhook faults, 429s, outages and crashes; afterwards the
 * invariants of ../shared/DESIGN.md are checked against what the harness did. The harness knows
 * platforms only through their sandbox wiring and the `Emulator` interface: it names none.
 *
 * What makes a run reproducible:
 * - the scenario is drawn whole from the seed before anything runs (scenario.ts);
 * - time is virtual (vclock.ts): it stands still while the harness acts and moves only when it says;
 * - the hub's workers are not started: the harness runs the inbox processor and the outbox
 *   dispatcher itself (`drain`) at explicit settle points, so nothing happens behind its back;
 * - the emulators' webhooks are caught as they are sent (in the order each platform sends them) and
 *   delivered over HTTP by the harness, one at a time, with the emulators' own faults (drop,
 *   duplicate, reorder) drawing from seeded random sources, and delays decided by the harness;
 * - the dispatcher's jitter source is a constant (its calls interleave across channels).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, type HubConfig } from '../../server/config';
import type { Emulator } from '../../server/connectors/emulator';
import type { Movement } from '../../server/core/ledger';
import { createHub, type Hub } from '../../server/hub';
import { createLogger } from '../../server/log';
import { signRelay } from '../../server/relay/verify';
import type { Store, StoreOps } from '../../server/store/types';
import { ChannelChoiceError, chooseChannels, isDefaultSelection, platformOf, randomStreams, simChannel, type SandboxPlatform } from './channels';
import { Prng } from './prng';
import { LOCATIONS, describeOp, generate, type ChannelId, type LocationId, type Op, type Scenario } from './scenario';
import { VirtualClock } from './vclock';

const RELAY_SECRET = `whsec_${Buffer.from('stockrelay-simulation-relay-secret-0123456789').toString('base64')}`;
const ADMIN_TOKEN = 'simulation-admin-token-0123456789';
/** Virtual attribution window: how long an unexplained level waits for its order. */
export const WINDOW_MS = 2_000;
/**
 * How often the hub polls each feed, in virtual time. The harness drives the poller by hand
 * (`pollDue`) in every round of settling, and before every checkpoint lets the feeds come due
 * until they find nothing new: a platform that sends no webhooks (PrestaShop, Salesforce Commerce
 * Cloud, Adobe Commerce) is swept through its feeds, as the hub runs it.
 */
export const POLL_EVERY_MS = 5_000;
const LEASE_MS = 1_000;
const START = '2026-11-23T10:00:00.000Z';

/** Where each emulator "sends" its webhooks: never fetched (the harness catches them), but some platforms sign over it. */
const hookUrl = (ch: ChannelId) => `http://127.0.0.1:9/v1/webhooks/${ch}`;

/** The environment variable the simulation's config names for one credential: `SIM_SHOPIFY_ACCESS_TOKEN`. */
function credentialEnv(channelId: string, name: string): string {
  const words = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[^A-Za-z0-9]+/g, '_').toUpperCase();
  return `SIM_${words(channelId)}_${words(name)}`;
}

/** A credential made up for the simulation: the same every run, so a seed reproduces. */
function credentialValue(channelId: string, name: string): string {
  return `simulation-${channelId}-${name}-0123456789abcdef`;
}

/** What a simulation needs of a channel's emulator beyond the interface's required part (docs/simulation.md). */
function checkEmulator(ch: ChannelId, emu: Emulator): void {
  if (typeof emu.isStockWrite !== 'function') {
    throw new Error(`The ${ch} emulator does not say which of its requests write stock (Emulator.isStockWrite); the simulation needs it to count pushes (docs/simulation.md).`);
  }
  if (typeof (emu as unknown as { dispatch?: unknown }).dispatch !== 'function') {
    throw new Error(`The ${ch} emulator has no dispatch step to catch webhooks at (extend LoopbackEmulator); the simulation needs it (docs/simulation.md).`);
  }
}

export type StoreKind = 'sqlite' | 'postgres';

export interface RunOptions {
  store?: StoreKind;
  /**
   * The platforms to run over (`runSeed` only; `runScenario` takes the scenario's): platform names
   * or channel ids, a comma-separated string or a list, `all`, or unset for the sandbox's default set.
   */
  channels?: string | readonly string[];
  /** PostgreSQL address (default: DATABASE_URL). */
  databaseUrl?: string;
  /** Run this list of operations instead of the seed's own (shrinking). */
  ops?: Op[];
  /** Pino level for the hub (default silent). */
  logLevel?: string;
  /** Print each operation as it runs. */
  trace?: boolean;
  /**
   * For the harness's own test: books one adjustment the model does not know about, so the ledger
   * check must report it (a check that cannot fail proves nothing).
   */
  sabotage?: boolean;
}

export interface RunStats {
  ops: number;
  skipped: number;
  sales: number;
  refunds: number;
  oversells: number;
  /** Oversells the hub could not see: a later increase was booked before the sale, so its ledger never went below zero. */
  oversellsUnseen: number;
  webhooksDelivered: number;
  webhooksHeld: number;
  crashes: number;
  pushes: number;
  checkpoints: number;
  virtualMs: number;
}

export interface RunResult {
  seed: number;
  store: StoreKind;
  ok: boolean;
  violations: string[];
  scenario: Scenario;
  stats: RunStats;
  /** A digest of everything the run booked (movements, in order, without the platforms' random ids) and its stats: equal for equal runs. */
  fingerprint: string;
  wallMs: number;
}

class CrashSignal extends Error {
  constructor(readonly where: string) {
    super(`simulated crash: ${where}`);
  }
}

interface CaughtWebhook {
  topic: string;
  body: string;
  headers: Record<string, string>;
}

interface SaleRecord {
  channel: ChannelId;
  orderId: string;
  sku: string;
  loc: LocationId;
  qty: number;
  refunded: number;
  step: number;
}

interface RelayRecord {
  id: string;
  eventId: number;
  step: number;
  kind: string;
  /** What the booking must be: one movement of this quantity, a count to this number, or a conflict. */
  expect: { kind: 'delta'; qty: number } | { kind: 'count'; counted: number } | { kind: 'conflict' };
}

/**
 * What opens a window in which a channel may show more than is on hand, by step, for judging
 * oversells: a physical decrease, or a channel's own restock of a return while the item is
 * oversold (it shows the returned units, on hand stays below zero, until our number reaches it).
 */
interface Decrease {
  step: number;
  sku: string;
  loc: LocationId;
  what: string;
}

interface Oversell {
  step: number;
  channel: ChannelId;
  sku: string;
  loc: LocationId;
  qty: number;
  before: number;
  lastQuiescence: number;
}

/** What a crash op arms, until it fires. */
type Armed = { kind: 'booking'; left: number } | { kind: 'push'; channel: ChannelId } | null;

interface StoreControl {
  armed: Armed;
  dead: boolean;
  onCrash: ((where: string) => void) | null;
}

/**
 * Instruments the hub's store in place (the processor, dispatcher and sinks hold the same object):
 * once `dead`, every call throws, as if the process had gone; an armed crash fires inside the booking
 * transaction (which then rolls back) or right after a channel applied a push, before the hub wrote
 * down that it did.
 */
function instrumentStore(store: Store, ctl: StoreControl): { close: () => Promise<void> } {
  const realClose = store.close.bind(store);
  const die = (where: string): never => {
    ctl.dead = true;
    ctl.armed = null;
    ctl.onCrash?.(where);
    throw new CrashSignal(where);
  };
  /** One area's calls (`inbox.finish`...), checked against what is armed. */
  const guardArea = <T extends object>(target: T, area: string, inTx: boolean): T =>
    new Proxy(target, {
      get(obj, prop, receiver) {
        const v = Reflect.get(obj, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        const fn = v as (...a: unknown[]) => unknown;
        const name = `${area}.${String(prop)}`;
        return (...args: unknown[]) => {
          if (ctl.dead) throw new CrashSignal('the hub is down');
          const armed = ctl.armed;
          if (inTx && name === 'inbox.finish' && armed?.kind === 'booking') {
            if (--armed.left <= 0) die('inside a booking transaction');
          }
          if (name === 'channelLevels.record' && armed?.kind === 'push' && args[0] === armed.channel && args[3] === 'pushed') {
            die(`after ${armed.channel} applied a push, before the hub recorded it`);
          }
          if (name === 'outbox.claim' && armed?.kind === 'push') {
            // While a push crash is armed only that channel's rows are taken, so what the crash cuts off is the same every run.
            const filter = (args[3] ?? {}) as { sinks?: string[] };
            if (!filter.sinks || !filter.sinks.includes(`channel:${armed.channel}`)) return Promise.resolve([]);
          }
          return fn.apply(obj, args);
        };
      },
    });
  const isArea = (v: unknown): v is object => typeof v === 'object' && v !== null;
  /** A transaction's areas, guarded as they are taken. */
  const guardTx = (tx: StoreOps): StoreOps =>
    new Proxy(tx, {
      get(obj, prop, receiver) {
        const v = Reflect.get(obj, prop, receiver) as unknown;
        return isArea(v) ? guardArea(v, String(prop), true) : v;
      },
    });
  // Replace the areas and the methods on the instance itself: everything in the hub holds this object.
  for (const name of Object.keys(store)) {
    const v = (store as unknown as Record<string, unknown>)[name];
    if (isArea(v) && name !== 'conn') Object.defineProperty(store, name, { value: guardArea(v, name, false), writable: true, configurable: true });
  }
  const seen = new Set<string>();
  for (let proto: object | null = Object.getPrototypeOf(store) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || seen.has(name)) continue;
      const desc = Object.getOwnPropertyDescriptor(proto, name);
      if (!desc || typeof desc.value !== 'function') continue;
      seen.add(name);
      const fn = desc.value as (...a: unknown[]) => unknown;
      const wrapped = (...args: unknown[]) => {
        if (ctl.dead) throw new CrashSignal('the hub is down');
        if (name === 'transaction') {
          const cb = args[0] as (tx: StoreOps) => Promise<unknown>;
          return fn.call(store, (tx: StoreOps) => cb(guardTx(tx)));
        }
        return fn.apply(store, args);
      };
      Object.defineProperty(store, name, { value: wrapped, writable: true, configurable: true });
    }
  }
  return { close: realClose };
}

/** Push requests in an emulator's request log (the emulator says which requests write stock). */
function pushRequests(emu: Emulator): number {
  return emu.requests.filter((r) => emu.isStockWrite!(r)).length;
}

/** The scenario of `seed` over the chosen platforms (the sandbox's default set unless `channels` says). */
export function scenarioFor(seed: number, channels?: string | readonly string[]): Scenario {
  return generate(seed, chooseChannels(channels).map(simChannel));
}

/**
 * Every operation names a channel of the scenario, and each sale or platform count a location that
 * channel publishes; else an error saying which operation (an `--ops` file from another selection).
 */
function checkOps(scenario: Scenario): void {
  const byId = new Map(scenario.channels.map((c) => [c.id, c]));
  scenario.ops.forEach((op, i) => {
    if (!('channel' in op)) return;
    const c = byId.get(op.channel);
    if (!c) throw new ChannelChoiceError(`Operation ${i} (${describeOp(op)}) names channel "${op.channel}", which this run does not have: it runs ${scenario.channels.map((x) => x.id).join(', ')}. Give the same --channels as the run that wrote the operations.`);
    if ((op.op === 'sell' || op.op === 'platformCount') && !c.locations.includes(op.loc)) {
      throw new ChannelChoiceError(`Operation ${i} (${describeOp(op)}) is at ${op.loc}, which channel ${op.channel} does not publish (it publishes ${c.locations.join(', ')}).`);
    }
  });
}

export async function runSeed(seed: number, opts: RunOptions = {}): Promise<RunResult> {
  const scenario = scenarioFor(seed, opts.channels);
  if (opts.ops) scenario.ops = opts.ops;
  return runScenario(scenario, opts);
}

export async function runScenario(scenario: Scenario, opts: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const kind: StoreKind = opts.store ?? 'sqlite';
  const { seed } = scenario;
  checkOps(scenario);
  const platforms: SandboxPlatform[] = scenario.channels.map((c) => platformOf(c.id));
  const CHANNELS: ChannelId[] = platforms.map((p) => p.channelId);
  const platformFor = new Map(platforms.map((p) => [p.channelId, p]));
  /** Our location → the platform's, per channel (from its sandbox wiring). */
  const platformLoc = (ch: ChannelId, loc: LocationId): string | undefined => platformFor.get(ch)!.locations[loc];
  const clock = new VirtualClock(START);
  const violations: string[] = [];
  const stats: RunStats = { ops: 0, skipped: 0, sales: 0, refunds: 0, oversells: 0, oversellsUnseen: 0, webhooksDelivered: 0, webhooksHeld: 0, crashes: 0, pushes: 0, checkpoints: 0, virtualMs: 0 };
  const fail = (msg: string) => {
    if (violations.length < 50) violations.push(msg);
  };

  const dataDir = fs.mkdtempSync(path.join(process.env.STOCKRELAY_TEST_TMP ?? os.tmpdir(), 'sr-sim-'));
  const databaseUrl = kind === 'postgres' ? (opts.databaseUrl ?? process.env.DATABASE_URL) : undefined;
  if (kind === 'postgres' && !databaseUrl) throw new Error('The PostgreSQL simulation needs DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test).');
  const pgSchema = kind === 'postgres' ? `sim_${seed}_${process.pid}_${Math.floor(started * 1000) % 1_000_000}` : undefined;

  const emulators: Record<ChannelId, Emulator> = {};
  const caught: Record<ChannelId, CaughtWebhook[]> = Object.fromEntries(CHANNELS.map((c) => [c, []]));
  let hub: Hub | null = null;
  let server: http.Server | null = null;
  let hubUrl = '';
  let closeStore: (() => Promise<void>) | null = null;
  const ctl: StoreControl = { armed: null, dead: false, onCrash: null };
  let crashed: Promise<never> = new Promise<never>(() => undefined);
  const digest = crypto.createHash('sha256');

  clock.install();
  try {
    // --- the platforms --------------------------------------------------------------------------
    const faultRandom = (stream: number) => {
      const r = new Prng(seed, stream);
      return () => r.next();
    };
    // Each platform from its sandbox wiring, with credentials made up (the same every run) under
    // its definition's names, and its webhook faults drawing from a seeded stream of its own.
    const credentials: Record<ChannelId, Record<string, string>> = {};
    const baseUrls: Record<ChannelId, string> = {};
    for (const p of platforms) {
      const ch = p.channelId;
      credentials[ch] = Object.fromEntries(p.credentials.map((name) => [name, credentialValue(ch, name)]));
      const emu = p.createEmulator({
        credentials: credentials[ch],
        webhookUrl: hookUrl(ch),
        locations: LOCATIONS.flatMap((l) => p.locations[l] ?? []),
        random: faultRandom(randomStreams(p).webhookFaults),
      });
      checkEmulator(ch, emu);
      emulators[ch] = emu;
      baseUrls[ch] = await emu.start(0);
      emu.subscribe(hookUrl(ch));
      // Catch each webhook as the platform sends it, in its order; the harness delivers it.
      Object.defineProperty(emu, 'dispatch', { value: (d: CaughtWebhook) => caught[ch]!.push(d), configurable: true });
      const published = scenario.channels.find((c) => c.id === ch)!.locations;
      emu.seed(scenario.skus.map((sku) => ({ sku, title: sku, levels: Object.fromEntries(published.map((l) => [platformLoc(ch, l)!, 0])) })));
    }

    // --- the hub ----------------------------------------------------------------------------------
    const configFile = path.join(dataDir, 'stockrelay.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({
        locations: LOCATIONS.map((id) => ({ id, name: id })),
        engine: { attributionWindowMs: WINDOW_MS, reconcileEveryMs: 0, pollEveryMs: POLL_EVERY_MS },
        dispatch: { baseDelayMs: 100, maxDelayMs: 2_000, leaseMs: LEASE_MS, timeoutMs: 10_000, suspendAfter: 3, suspendMs: 1_000 },
        channels: platforms.map((p) => ({
          id: p.channelId,
          name: p.displayName,
          platform: p.platform,
          baseUrl: baseUrls[p.channelId],
          locations: Object.fromEntries(scenario.channels.find((c) => c.id === p.channelId)!.locations.map((l) => [l, platformLoc(p.channelId, l)!])),
          settings: p.settings({ webhookUrl: hookUrl(p.channelId), baseUrl: baseUrls[p.channelId]! }),
          credentials: Object.fromEntries(p.credentials.map((name) => [name, credentialEnv(p.channelId, name)])),
        })),
      }),
    );
    const config: HubConfig = loadConfig({
      STOCKRELAY_DATA_DIR: dataDir,
      STOCKRELAY_CONFIG: configFile,
      STOCKRELAY_RELAY_SECRET: RELAY_SECRET,
      STOCKRELAY_ADMIN_TOKEN: ADMIN_TOKEN,
      LOG_LEVEL: opts.logLevel ?? 'silent',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      ...Object.fromEntries(platforms.flatMap((p) => p.credentials.map((name) => [credentialEnv(p.channelId, name), credentials[p.channelId]![name]!]))),
    }).config;

    const open = async () => {
      ctl.dead = false;
      ctl.armed = null;
      crashed = new Promise<never>((_, reject) => {
        ctl.onCrash = (where) => reject(new CrashSignal(where));
      });
      crashed.catch(() => undefined);
      hub = await createHub({
        config,
        log: createLogger(config.logLevel),
        clock: () => clock.date(),
        // Time stands still while the hub works: a request over its channel's pace is let through
        // after a yield rather than held in real time (the emulators here enforce no pace of their own).
        paceSleep: () => new Promise<void>((r) => setImmediate(r)),
        random: () => 0.5,
        idleMs: 50,
        ...(pgSchema ? { store: { pgSchema } } : {}),
      });
      closeStore = instrumentStore(hub.store, ctl).close;
      const s = http.createServer(hub.app);
      s.keepAliveTimeout = 1000;
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
      server = s;
      hubUrl = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    };
    /** The process dies: no more requests answered, nothing more written. */
    const kill = async () => {
      ctl.dead = true;
      const s = server;
      server = null;
      if (s) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
      if (closeStore) await closeStore();
      closeStore = null;
      hub = null;
    };
    const H = (): Hub => {
      if (!hub) throw new Error('no hub running');
      return hub;
    };
    /** Waits for a worker step, or for the crash that cuts it short. */
    const step = async <T>(p: Promise<T>): Promise<T> => {
      p.catch(() => undefined);
      return Promise.race([p, crashed]);
    };

    // --- the model: what the harness did ------------------------------------------------------------
    const physical = new Map<string, number>();
    const key = (sku: string, loc: LocationId) => `${sku}@${loc}`;
    const phys = (sku: string, loc: LocationId) => physical.get(key(sku, loc)) ?? 0;
    const sales: SaleRecord[] = [];
    const relays: RelayRecord[] = [];
    const decreases: Decrease[] = [];
    const oversells: Oversell[] = [];
    const acked: { ch: ChannelId; topic: string; eventId: number; step: number }[] = [];
    const held: { ch: ChannelId; d: CaughtWebhook }[] = [];
    const delayProb: Record<ChannelId, number> = Object.fromEntries(CHANNELS.map((c) => [c, 0]));
    const delayRng: Record<ChannelId, Prng> = Object.fromEntries(platforms.map((p) => [p.channelId, new Prng(seed, randomStreams(p).delays)]));
    let lastQuiescence = -1;
    let stepNo = -1;
    let relayN = 0;

    // --- delivery and settling -------------------------------------------------------------------------
    const post = async (ch: ChannelId, d: CaughtWebhook): Promise<void> => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(d.headers)) if (k !== 'content-length' && k !== 'host') headers[k] = v;
      clock.advance(1);
      const res = await fetch(`${hubUrl}/v1/webhooks/${ch}`, { method: 'POST', headers, body: d.body });
      const body = (await res.json().catch(() => ({}))) as { status?: string; eventId?: number };
      stats.webhooksDelivered++;
      if (res.status !== 200) return fail(`step ${stepNo}: ${ch} webhook ${d.topic} answered ${res.status} ${JSON.stringify(body)}`);
      if (body.status === 'received' && typeof body.eventId === 'number') acked.push({ ch, topic: d.topic, eventId: body.eventId, step: stepNo });
      const about = opts.trace ? (emulators[ch]!.describeWebhook?.(d.body) ?? '') : '';
      if (opts.trace) console.log(`    ${clock.iso()} ${ch} webhook ${d.topic}${about ? ` ${about}` : ''} → ${body.status ?? res.status}${typeof body.eventId === 'number' ? ` (event ${body.eventId})` : ''}`);
    };
    /** Hands over what the platforms sent since last time; some are held back (delayed) by the fault mode. */
    const pump = async (holdBack = true): Promise<number> => {
      let n = 0;
      for (const ch of CHANNELS) {
        await emulators[ch]!.flushWebhooks();
        const got = caught[ch]!.splice(0);
        for (const d of got) {
          if (holdBack && delayProb[ch]! > 0 && delayRng[ch]!.chance(delayProb[ch]!)) {
            held.push({ ch, d });
            stats.webhooksHeld++;
            continue;
          }
          await post(ch, d);
          n++;
        }
      }
      return n;
    };
    /** One round of the poller: the feeds due now are read; returns how many new events they stored. */
    /** Every feed the hub has polled, by `channel/feed`. */
    const feedsSeen = new Set<string>();
    const pollRound = async (): Promise<{ stored: number; clean: string[] }> => {
      const turns = await step(H().poller.pollDue());
      for (const t of turns) feedsSeen.add(`${t.channelId}/${t.feed}`);
      return { stored: turns.reduce((n, t) => n + t.stored, 0), clean: turns.filter((t) => t.error === null && t.stored === 0).map((t) => `${t.channelId}/${t.feed}`) };
    };
    const pollFeeds = async (): Promise<number> => (await pollRound()).stored;
    /**
     * Lets every feed come due until each has been read and found nothing new since anything was
     * last found (a platform whose sales only a feed shows). A feed that failed (a 429 left over
     * from a rateLimit step) or was not due (in its back-off) found nothing because it did not look:
     * time moves on until it is read (simulation seed 313 over shopify,salesforce-commerce-cloud: an
     * order found only after the end's checkpoint, its feed still backing off from a 429).
     */
    const catchUpFeeds = async (): Promise<void> => {
      const clean = new Set<string>();
      for (let i = 0; i < 40; i++) {
        clock.advance(POLL_EVERY_MS + 1);
        const r = await pollRound();
        if (r.stored > 0) clean.clear();
        for (const f of r.clean) clean.add(f);
        if (r.stored === 0 && [...feedsSeen].every((f) => clean.has(f))) return;
        await settle();
      }
    };
    const settle = async (holdBack = true): Promise<void> => {
      for (let i = 0; i < 200; i++) {
        const delivered = await pump(holdBack);
        clock.advance(1);
        const processed = await step(H().processor.drain());
        clock.advance(1);
        const dispatched = await step(H().dispatcher.drain());
        clock.advance(1);
        const polled = await pollFeeds();
        if (delivered === 0 && processed === 0 && dispatched === 0 && polled === 0 && CHANNELS.every((c) => caught[c]!.length === 0)) return;
      }
      fail(`step ${stepNo}: the hub did not settle within 200 rounds (a push loop?)`);
      throw new Error('unsettled');
    };
    const releaseHeld = async (reverse: boolean) => {
      const list = held.splice(0);
      if (reverse) list.reverse();
      for (const h of list) await post(h.ch, h.d);
    };
    /** The earliest virtual time at which something is due: a retry, a lease, an attribution window, a suspension. */
    const nextDue = async (): Promise<number | null> => {
      const h = H();
      const now = clock.now();
      const times: number[] = [];
      for (const r of await h.store.outbox.list({ limit: 1000, status: 'pending' })) {
        const at = Date.parse(r.nextAttemptAt);
        // A row for a channel the dispatcher has paused (a 429's cool-down, a run of outages) is due
        // when the pause ends, not every 250 ms until then (seed 64138: Squarespace paused 2 minutes).
        const paused = h.dispatcher.suspendedUntil(r.sink);
        const due = at > now ? at : now + 250;
        times.push(paused ? Math.max(due, Date.parse(paused)) : due);
      }
      for (const r of await h.store.outbox.list({ limit: 1000, status: 'working' })) if (r.lockedUntil) times.push(Date.parse(r.lockedUntil));
      // Events waiting for their platform to answer again (a thin event fetched during an outage).
      for (const e of await h.store.inbox.list({ limit: 1000, status: 'received' })) if (e.retryAt) times.push(Date.parse(e.retryAt));
      for (const ch of CHANNELS) {
        for (const l of await h.store.channelLevels.list(ch)) if (l.pendingSince) times.push(Date.parse(l.pendingSince) + WINDOW_MS);
        const until = h.dispatcher.suspendedUntil(`channel:${ch}`);
        if (until) times.push(Date.parse(until));
      }
      const due = times.filter((t) => Number.isFinite(t));
      return due.length === 0 ? null : Math.max(now + 1, Math.min(...due));
    };
    /** Delivers everything, and lets time pass until nothing is due. */
    const quiesce = async (): Promise<void> => {
      for (let i = 0; i < 300; i++) {
        await releaseHeld(false);
        await settle();
        if (held.length > 0) continue;
        const next = await nextDue();
        if (next === null) return;
        clock.advanceTo(next + 1);
      }
      fail(`step ${stepNo}: the hub never became quiet (300 rounds of letting time pass)`);
      throw new Error('unquiet');
    };
    const relay = async (body: Record<string, unknown>, expect: RelayRecord['expect']): Promise<void> => {
      const id = `msg_sim_${seed}_${++relayN}`;
      const raw = JSON.stringify(body);
      clock.advance(1);
      const res = await fetch(`${hubUrl}/v1/relay`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', ...signRelay(RELAY_SECRET, id, raw, clock.date()) } });
      const answer = (await res.json()) as { eventId?: number };
      if (res.status !== 202 || typeof answer.eventId !== 'number') return fail(`step ${stepNo}: relay ${String(body.kind)} answered ${res.status} ${JSON.stringify(answer)}`);
      relays.push({ id, eventId: answer.eventId, step: stepNo, kind: String(body.kind), expect });
    };
    const onHand = async (sku: string, loc: LocationId): Promise<number> => (await H().store.ledger.getLevel(sku, loc))?.onHand ?? 0;

    /** Quiescence, one reconciliation, quiescence: then every channel must show its published level, and the ledger the harness's numbers. */
    const checkpoint = async (label: string): Promise<void> => {
      stats.checkpoints++;
      for (const ch of CHANNELS) emulators[ch]!.faults.api = {};
      await quiesce();
      await catchUpFeeds();
      await quiesce();
      const report = await H().reconcile();
      for (const c of report.channels) if (c.error) fail(`${label}: reconciliation of ${c.channelId} failed: ${c.error}`);
      await quiesce();
      for (const sku of scenario.skus) {
        for (const loc of LOCATIONS) {
          const hubHas = await onHand(sku, loc);
          if (hubHas !== phys(sku, loc)) fail(`${label}: ${sku}@${loc} on hand is ${hubHas} in the ledger, ${phys(sku, loc)} by what happened (initial + receipts − sales + restocked returns ± adjustments)`);
          const published = Math.max(0, hubHas);
          for (const ch of CHANNELS) {
            const theirs = platformLoc(ch, loc);
            if (theirs === undefined) continue;
            const shows = emulators[ch]!.level(sku, theirs);
            if (shows !== published) fail(`${label}: ${ch} shows ${String(shows)} for ${sku}@${loc}, published level is ${published}`);
          }
        }
      }
      lastQuiescence = stepNo;
    };

    /** Runs `fn`; when the armed crash fires inside, the hub is killed and reopened on the same data, and settled. */
    const withCrash = async (fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        if (!(err instanceof CrashSignal)) throw err;
        stats.crashes++;
        if (opts.trace) console.log(`    crash: ${err.where}`);
        await kill();
        await open();
        await settle();
      } finally {
        if (ctl.armed) ctl.armed = null;
      }
    };

    // --- opening: catalog, listings, opening stock ------------------------------------------------------
    await open();
    await relay({ kind: 'catalog_changed', added: scenario.skus.map((sku) => ({ sku, title: sku })), removed: [], occurredAt: clock.iso() }, { kind: 'delta', qty: 0 });
    relays.pop();
    await settle();
    for (const ch of CHANNELS) await H().channels.discover(ch, H().store, () => clock.iso());
    for (const sku of scenario.skus) {
      for (const loc of LOCATIONS) {
        const counted = scenario.stock[sku]![loc];
        await relay({ kind: 'count', sku, location: loc, counted, occurredAt: clock.iso() }, { kind: 'count', counted });
        physical.set(key(sku, loc), counted);
      }
    }
    await checkpoint('opening');
    if (opts.sabotage) {
      await relay({ kind: 'adjustment', sku: scenario.skus[0]!, location: 'gallery', quantity: 1, reason: 'adjustment', note: 'sabotage: not in the model', occurredAt: clock.iso() }, { kind: 'delta', qty: 1 });
      await settle();
    }
    const pushesAtStart = CHANNELS.map((c) => pushRequests(emulators[c]!)).reduce((a, b) => a + b, 0);

    // --- the scenario -----------------------------------------------------------------------------------
    for (const [i, op] of scenario.ops.entries()) {
      stepNo = i;
      stats.ops++;
      if (opts.trace) console.log(`  ${i}: ${describeOp(op)}`);
      clock.advance(op.dt ?? 1);
      switch (op.op) {
        case 'sell': {
          const emu = emulators[op.channel]!;
          const theirs = platformLoc(op.channel, op.loc)!;
          const shows = emu.level(op.sku, theirs) ?? 0;
          // A shop does not sell what it shows as gone.
          if (shows < op.qty) {
            stats.skipped++;
            break;
          }
          const before = phys(op.sku, op.loc);
          if (before < op.qty) {
            oversells.push({ step: i, channel: op.channel, sku: op.sku, loc: op.loc, qty: op.qty, before, lastQuiescence });
            stats.oversells++;
          }
          const { orderId } = await emu.sell({ sku: op.sku, quantity: op.qty, locationId: theirs });
          physical.set(key(op.sku, op.loc), before - op.qty);
          sales.push({ channel: op.channel, orderId, sku: op.sku, loc: op.loc, qty: op.qty, refunded: 0, step: i });
          decreases.push({ step: i, sku: op.sku, loc: op.loc, what: `sale on ${op.channel}` });
          stats.sales++;
          await withCrash(() => settle());
          break;
        }
        case 'refund': {
          const mine = sales.filter((s) => s.channel === op.channel);
          const s = mine.length > 0 ? mine[op.sale % mine.length]! : null;
          if (!s || s.qty - s.refunded <= 0) {
            stats.skipped++;
            break;
          }
          const q = op.partial && s.qty - s.refunded > 1 ? 1 : s.qty - s.refunded;
          await emulators[op.channel]!.refund({ orderId: s.orderId, restock: op.restock, quantity: q });
          s.refunded += q;
          if (op.restock) {
            // Oversold before (on hand below zero, the channel at 0): the channel now shows q where
            // fewer are there, until our number reaches it; a sale there meanwhile is unavoidable.
            if (phys(s.sku, s.loc) < 0) decreases.push({ step: i, sku: s.sku, loc: s.loc, what: `restock on ${op.channel} while oversold` });
            physical.set(key(s.sku, s.loc), phys(s.sku, s.loc) + q);
          }
          stats.refunds++;
          await withCrash(() => settle());
          break;
        }
        case 'adjust':
          await relay({ kind: 'adjustment', sku: op.sku, location: op.loc, quantity: op.qty, reason: op.reason, note: `simulation step ${i}`, occurredAt: clock.iso() }, { kind: 'delta', qty: op.qty });
          physical.set(key(op.sku, op.loc), phys(op.sku, op.loc) + op.qty);
          if (op.qty < 0) decreases.push({ step: i, sku: op.sku, loc: op.loc, what: 'adjustment relayed' });
          await withCrash(() => settle());
          break;
        case 'sheetEdit': {
          await checkpoint(`before step ${i} (sheet edit)`);
          const old = phys(op.sku, op.loc);
          // An oversold cell shows a negative number, which the hub cannot take as the old value (it books the edit).
          if (old < 0) {
            stats.skipped++;
            break;
          }
          await relay(
            { kind: 'cell_edit', sku: op.sku, field: 'on_hand', location: op.loc, oldValue: op.stale ? old + 1 : old, newValue: op.counted, actor: 'staff@gallery.example', editedAt: clock.iso(), sheet: 'Catalog', row: 2 },
            op.stale ? { kind: 'conflict' } : { kind: 'count', counted: op.counted },
          );
          if (!op.stale) {
            if (op.counted < old) decreases.push({ step: i, sku: op.sku, loc: op.loc, what: 'sheet edit' });
            physical.set(key(op.sku, op.loc), op.counted);
          }
          await withCrash(() => settle());
          break;
        }
        case 'count': {
          await checkpoint(`before step ${i} (count)`);
          if (op.counted < phys(op.sku, op.loc)) decreases.push({ step: i, sku: op.sku, loc: op.loc, what: 'count' });
          await relay({ kind: 'count', sku: op.sku, location: op.loc, counted: op.counted, occurredAt: clock.iso() }, { kind: 'count', counted: op.counted });
          physical.set(key(op.sku, op.loc), op.counted);
          await withCrash(() => settle());
          break;
        }
        case 'platformCount': {
          await checkpoint(`before step ${i} (count on ${op.channel})`);
          if (phys(op.sku, op.loc) < 0) {
            stats.skipped++;
            break;
          }
          if (op.counted < phys(op.sku, op.loc)) decreases.push({ step: i, sku: op.sku, loc: op.loc, what: `count typed on ${op.channel}` });
          await emulators[op.channel]!.setLevel({ sku: op.sku, locationId: platformLoc(op.channel, op.loc)!, available: op.counted });
          physical.set(key(op.sku, op.loc), op.counted);
          await withCrash(() => settle());
          break;
        }
        case 'webhookFaults': {
          const { delay, ...mode } = op.mode;
          emulators[op.channel]!.faults.webhooks = { drop: mode.drop, duplicate: mode.duplicate, reorderWindow: mode.reorderWindow };
          delayProb[op.channel] = delay;
          break;
        }
        case 'rateLimit': {
          // A platform may cap its runs of faults (Emulator.faultRunLimit, docs/simulation.md "What a connector's emulator must offer").
          const emu = emulators[op.channel]!;
          emu.faults.api.rateLimitNext = { count: Math.min(op.count, emu.faultRunLimit ?? Infinity), retryAfterSeconds: op.retryAfterSeconds };
          break;
        }
        case 'outage': {
          const emu = emulators[op.channel]!;
          emu.faults.api.failNext = Math.min(op.calls, emu.faultRunLimit ?? Infinity);
          break;
        }
        case 'advance':
          clock.advance(op.ms);
          await withCrash(() => settle());
          break;
        case 'release':
          await releaseHeld(op.reverse);
          await withCrash(() => settle());
          break;
        case 'crash':
          if (op.kind === 'ingest') {
            // Everything waiting is acknowledged (stored in the inbox), then the hub dies before booking any of it.
            await pump(false);
            await releaseHeld(false);
            stats.crashes++;
            await kill();
            await open();
            await settle();
          } else {
            ctl.armed = op.kind === 'booking' ? { kind: 'booking', left: op.at } : { kind: 'push', channel: op.channel };
            await withCrash(() => settle());
          }
          break;
        case 'quiesce':
          await checkpoint(`quiescence at step ${i}`);
          break;
      }
    }

    // --- the end: quiescence plus one reconciliation, then the invariants -----------------------------------
    stepNo = scenario.ops.length;
    await checkpoint('the end');
    const h = H();
    const pushesBefore = CHANNELS.map((c) => pushRequests(emulators[c]!));
    stats.pushes = pushesBefore.reduce((a, b) => a + b, 0) - pushesAtStart;
    const movementsBefore = (await Promise.all(scenario.skus.map((s) => h.store.ledger.listMovements(s, { limit: 10_000 })))).flat().length;
    // Nothing more happens: time passes, everything is delivered; no push, no booking may follow.
    clock.advance(WINDOW_MS * 3);
    await quiesce();
    const pushesAfter = CHANNELS.map((c) => pushRequests(emulators[c]!));
    CHANNELS.forEach((c, k) => {
      if (pushesAfter[k] !== pushesBefore[k]) fail(`no push loops: ${c} received ${pushesAfter[k]! - pushesBefore[k]!} push(es) after quiescence`);
    });
    const movements: Movement[] = (await Promise.all(scenario.skus.map((s) => h.store.ledger.listMovements(s, { limit: 10_000 })))).flat().sort((a, b) => a.id - b.id);
    if (opts.trace) {
      const entries = await h.store.inbox.list({ limit: 10_000 });
      for (const e of entries.sort((a, b) => a.id - b.id)) {
        const results = ((e.outcome as { results?: { sku: string; location?: string; result: string; message: string }[] } | null)?.results ?? []).map((r) => `${r.sku}@${r.location ?? ''} ${r.result}: ${r.message}`);
        console.log(`    event ${e.id} ${e.source}/${e.kind} ${e.status}${results.length ? `\n      ${results.join('\n      ')}` : ''}`);
      }
      for (const m of movements) console.log(`    movement ${m.id} event ${m.eventId}: ${m.sku}@${m.locationId} ${m.quantity >= 0 ? '+' : ''}${m.quantity} ${m.reason} ${m.channelId ?? m.source} ${m.externalRef ?? ''} — ${m.note ?? ''}`);
    }
    for (const m of movements) digest.update(`${m.eventId}|${m.sku}|${m.locationId}|${m.quantity}|${m.reason}|${m.channelId ?? m.source}|${m.countedQuantity ?? ''}\n`);
    if (movements.length !== movementsBefore) fail(`after quiescence ${movements.length - movementsBefore} more movement(s) were booked`);
    // Bounded: a push per channel for every change the hub saw, a few times over for retries.
    const bound = 6 * (scenario.ops.length + stats.webhooksDelivered + relays.length) + 50;
    if (stats.pushes > bound) fail(`no push loops: ${stats.pushes} pushes for ${scenario.ops.length} operations (bound ${bound})`);

    // Every acknowledged event booked exactly once.
    const counts = await h.store.inbox.count();
    for (const s of ['received', 'failed', 'unmatched', 'rejected'] as const) if (counts[s]) fail(`inbox: ${counts[s]} event(s) left ${s}`);
    for (const a of acked) {
      const e = await h.store.inbox.get(a.eventId);
      if (!e || e.status !== 'processed') fail(`${a.ch} webhook ${a.topic} (event ${a.eventId}, acknowledged at step ${a.step}) is ${e?.status ?? 'missing'}, not processed`);
    }
    for (const r of relays) {
      const e = await h.store.inbox.get(r.eventId);
      const moves = await h.store.ledger.movementsByEvent(r.eventId);
      const want = r.expect;
      if (want.kind === 'conflict') {
        if (e?.status !== 'conflict' || moves.length !== 0) fail(`relay ${r.kind} of step ${r.step} should be a conflict with nothing booked; it is ${e?.status} with ${moves.length} movement(s)`);
      } else if (e?.status !== 'processed' || moves.length !== 1) {
        fail(`relay ${r.kind} of step ${r.step} should have booked one movement; it is ${e?.status} with ${moves.length}`);
      } else if (want.kind === 'delta' && moves[0]!.quantity !== want.qty) {
        fail(`relay ${r.kind} of step ${r.step} booked ${moves[0]!.quantity}, not ${want.qty}`);
      } else if (want.kind === 'count' && moves[0]!.countedQuantity !== want.counted) {
        fail(`relay ${r.kind} of step ${r.step} counted ${String(moves[0]!.countedQuantity)}, not ${want.counted}`);
      }
    }
    // No sale booked twice, and none that did not happen.
    const saleKeys = new Map<string, number>();
    for (const m of movements) {
      if (m.reason !== 'sale' || m.source !== 'channel') continue;
      saleKeys.set(m.idempotencyKey, (saleKeys.get(m.idempotencyKey) ?? 0) + 1);
      const ch = m.channelId as ChannelId;
      const match = sales.find((s) => s.channel === ch && s.sku === m.sku && s.loc === m.locationId && m.externalRef !== null && (s.orderId === m.externalRef || s.orderId.endsWith(`/${m.externalRef}`) || m.externalRef.endsWith(`/${s.orderId}`)));
      if (!match) fail(`a sale movement (${m.idempotencyKey}, ${m.quantity} ${m.sku}@${m.locationId}) matches no sale made on ${ch}`);
      else if (-m.quantity !== match.qty) fail(`sale ${m.idempotencyKey} booked ${-m.quantity}, the order was for ${match.qty}`);
    }
    for (const [k, n] of saleKeys) if (n > 1) fail(`sale ${k} booked ${n} times`);
    // The projection is the sum of the movements.
    const projected = new Map((await h.store.ledger.levelsFor(scenario.skus)).map((l) => [`${l.sku}@${l.locationId}`, l.onHand]));
    for (const l of await h.store.ledger.recomputeLevels()) {
      if (!scenario.skus.includes(l.sku)) continue;
      if ((projected.get(`${l.sku}@${l.locationId}`) ?? 0) !== l.onHand) fail(`projection of ${l.sku}@${l.locationId} is ${projected.get(`${l.sku}@${l.locationId}`)}, the movements sum to ${l.onHand}`);
    }
    // Outbox: nothing dead, nothing stuck.
    const outbox = await h.store.outbox.count();
    if (outbox.dead) fail(`outbox: ${outbox.dead} dead letter(s)`);
    if (outbox.working) fail(`outbox: ${outbox.working} row(s) still in hand`);

    // Oversells: every one inside a propagation window, and each one the hub saw raised an alert.
    for (const o of oversells) {
      const other = decreases.find((d) => d.sku === o.sku && d.loc === o.loc && d.step >= o.lastQuiescence && d.step < o.step);
      if (!other) fail(`avoidable oversell at step ${o.step}: ${o.channel} sold ${o.qty} × ${o.sku}@${o.loc} with ${o.before} left, and nothing took stock there since the last quiescence (step ${o.lastQuiescence})`);
    }
    const alerts = await h.store.alerts.list({ limit: 10_000 });
    const running = new Map<string, number>();
    const negatives = new Set<string>();
    for (let k = 0; k < movements.length; ) {
      const ev = movements[k]!.eventId;
      const touched = new Set<string>();
      for (; k < movements.length && movements[k]!.eventId === ev; k++) {
        const m = movements[k]!;
        const mk = `${m.sku}@${m.locationId}`;
        running.set(mk, (running.get(mk) ?? 0) + m.quantity);
        touched.add(mk);
      }
      for (const mk of touched) {
        if ((running.get(mk) ?? 0) >= 0) continue;
        negatives.add(mk);
        const [sku, loc] = mk.split('@');
        if (!alerts.some((a) => a.kind === 'oversold' && a.sku === sku && a.locationId === loc)) fail(`${mk} went to ${running.get(mk)} (event ${ev}) and no 'oversold' alert was raised`);
      }
    }
    // A physical oversell is visible to the hub only if its ledger, in booking order, goes below zero
    // (checked above). When a later delivery or receipt is booked before the late sale, it never does:
    // counted, not a violation (docs/simulation.md).
    for (const o of oversells) {
      if (alerts.some((a) => a.kind === 'oversold' && a.sku === o.sku && a.locationId === o.loc)) continue;
      if (negatives.has(`${o.sku}@${o.loc}`)) fail(`oversell at step ${o.step} (${o.sku}@${o.loc}) raised no 'oversold' alert`);
      else stats.oversellsUnseen++;
    }

    // The emulators themselves saw nothing malformed (their own errors, requests outside the platform's spec).
    for (const c of CHANNELS) for (const problem of emulators[c]!.selfCheck?.() ?? []) fail(`${c} emulator: ${problem}`);
  } catch (err) {
    if (!(err instanceof Error && (err.message === 'unsettled' || err.message === 'unquiet'))) fail(`the run stopped: ${(err as Error).stack ?? String(err)}`);
  } finally {
    stats.virtualMs = clock.now() - Date.parse(START);
    try {
      ctl.dead = true;
      const s = server as http.Server | null;
      if (s) {
        s.closeAllConnections();
        await new Promise<void>((r) => s.close(() => r()));
      }
      const close = closeStore as (() => Promise<void>) | null;
      if (close) await close();
      for (const ch of CHANNELS) await emulators[ch]?.stop();
    } finally {
      clock.uninstall();
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (pgSchema && databaseUrl) {
        const c = new pg.Client({ connectionString: databaseUrl });
        await c.connect();
        await c.query(`drop schema if exists ${pgSchema} cascade`).finally(() => c.end());
      }
    }
  }
  digest.update(JSON.stringify({ ...stats, virtualMs: stats.virtualMs }));
  return { seed, store: kind, ok: violations.length === 0, violations, scenario, stats, fingerprint: digest.digest('hex').slice(0, 16), wallMs: Math.round(performance.now() - started) };
}

/** The one line that reruns a seed exactly (naming its channels unless they are the default set). */
export function reproduceCommand(r: Pick<RunResult, 'seed' | 'store' | 'scenario'>): string {
  const ids = r.scenario.channels.map((c) => c.id);
  return `npm run simulate -- --seed ${r.seed}${isDefaultSelection(ids) ? '' : ` --channels ${ids.join(',')}`}${r.store === 'postgres' ? ' --store postgres' : ''} --trace`;
}

/** A failing run as text: the seed, how to run it again, what broke, and the operations. */
export function formatFailure(r: RunResult, shrunk?: { ops: Op[]; from: number; file: string }): string {
  const ops = shrunk?.ops ?? r.scenario.ops;
  return [
    `SIMULATION FAILED: seed ${r.seed} on ${r.store} over ${r.scenario.channels.map((c) => c.id).join(', ')}`,
    `  reproduce: ${reproduceCommand(r)}${shrunk ? `  (shrunk: ${reproduceCommand(r)} --ops ${shrunk.file})` : ''}`,
    ...r.violations.map((v) => `  - ${v}`),
    `  opening stock: ${JSON.stringify(r.scenario.stock)}`,
    `  operations${shrunk ? ` (shrunk from ${shrunk.from} to ${ops.length})` : ''}:`,
    ...ops.map((op, i) => `    ${i}: ${describeOp(op)}`),
  ].join('\n');
}
