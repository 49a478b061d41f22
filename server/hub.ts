/**
 * Builds a whole hub from its config: store, inbox processor, dispatcher, sinks and the HTTP app.
 * `main.ts` runs one; tests build as many as they like on ephemeral ports.
 */
import { checkReorder } from './reports/reports';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import { createApp } from './api/app';
import type { HubConfig } from './config';
import { InboxProcessor } from './booking/worker';
import { InboxWriter } from './inbox/writer';
import type { Logger } from './log';
import { Metrics } from './metrics';
import { Dispatcher } from './outbox/dispatcher';
import type { Sink } from './outbox/sink';
import { WebhookSink } from './outbox/webhook-sink';
import { RelayVerifier } from './relay/verify';
import { Credentials } from './credentials';
import { openStore, type StoreOptions } from './store/open';
import { ChannelRegistry } from './channels/registry';
import { TokenCipher } from './connectors/kit/oauth';
import { ChannelSink } from './channels/sink';
import { Poller } from './channels/poller';
import { reconcile, type ReconcileDeps, type ReconcileReport } from './channels/reconcile';
import { Announcer, type AlertInput } from './announce';
import type { ConnectorDefinition } from './connectors/types';
import type { Sandbox } from './sandbox';
import { createSheetsApi, type SheetsApi } from './sheets/client';
import { SheetsSink } from './sheets/sink';
import { SheetWriteBack } from './sheets/write-back';
import type { Store } from './store/types';
import { createAirtableApi, type AirtableApi } from './airtable/client';
import { AirtableSink } from './airtable/sink';
import { AirtableWriteBack } from './airtable/write-back';
import { AirtableWebhooks } from './airtable/webhooks';

export interface HubOptions {
  config: HubConfig;
  log: Logger;
  clock?: () => Date;
  /**
   * How a request waiting for its channel's pace waits (docs/dispatch.md, "Every request counts"):
   * real time by default. The simulation, whose time stands still, passes a wait that only yields:
   * with the clock not moving the turn is then given, and no seed waits in real time.
   */
  paceSleep?: (ms: number) => Promise<void>;
  random?: () => number;
  metrics?: Metrics;
  /** Extra store options (tests pass a PostgreSQL schema of their own). */
  store?: Partial<StoreOptions>;
  validateResponses?: boolean;
  /** Extra sinks beside the configured notification webhooks. */
  sinks?: Sink[];
  idleMs?: number;
  /** Sandbox mode: emulators running beside the hub (server/sandbox.ts). */
  sandbox?: Sandbox;
  /** Connector definitions beside the built-in ones (a platform of your own, or a test double). */
  connectors?: ConnectorDefinition[];
  /** The sheet write-back's client and pace, for tests (a tighter quota than Google's to prove it is kept). */
  sheets?: { api?: SheetsApi; quota?: { requests: number; windowMs: number }; maxBatch?: number };
  /** The Airtable write-back's client and pace, for tests. */
  airtable?: { api?: AirtableApi; quota?: { requests: number; windowMs: number }; refreshEveryMs?: number };
}

export interface Hub {
  store: Store;
  /** The admin token the API expects (the sandbox seeds through the API with it). */
  readonly adminToken: string;
  /** Queues a push of every listed item's current level to every channel; returns how many. */
  resyncChannels(): Promise<number>;
  /** The sheet write-back (docs/sheets.md), when the config file has a `sheets` section. */
  sheets: SheetsSink | null;
  /** The Airtable write-back (docs/airtable.md), when the config file has an `airtable` section. */
  airtable: AirtableSink | null;
  /** The Airtable webhook (created, refreshed, read by cursor), when `airtable.webhook` is configured. */
  airtableWebhooks: AirtableWebhooks | null;
  /** Reads every channel (or one) back and acts on the differences (docs/reconcile.md). */
  reconcile(opts?: { channelId?: string | undefined; dryRun?: boolean | undefined }): Promise<ReconcileReport>;
  channels: ChannelRegistry;
  processor: InboxProcessor;
  dispatcher: Dispatcher;
  /** Polls the feeds of channels whose platforms push nothing, or as a backstop (docs/polling.md); `pollDue()` drives it by hand. */
  poller: Poller;
  metrics: Metrics;
  app: ReturnType<typeof createApp>;
  /** Starts the workers and listens; resolves with the bound address. */
  listen(port: number, host: string): Promise<{ url: string; server: http.Server }>;
  /** Stops taking requests, lets in-flight ones finish, stops the workers, closes the store. */
  stop(graceMs?: number): Promise<void>;
}

export async function createHub(opts: HubOptions): Promise<Hub> {
  const { config, log } = opts;
  const clock = opts.clock ?? (() => new Date());
  const metrics = opts.metrics ?? new Metrics();
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, pgSchema: config.pgSchema, ...opts.store });
  await store.locations.ensure(config.locations, clock().toISOString());

  const channels = new ChannelRegistry(config.channels, { clock, ...(opts.paceSleep ? { sleep: opts.paceSleep } : {}), tokens: { store, cipher: new TokenCipher(config.credentialKey) }, ...(opts.connectors ? { definitions: opts.connectors } : {}) });
  const processor = new InboxProcessor(store, config, log.child({ part: 'inbox' }), metrics, clock, opts.idleMs ?? 1000, channels);
  const writeBack = config.sheets ? new SheetWriteBack(config) : null;
  // A Catalog row that cannot be found is an alert like any other (`raiseAlert` is set up below).
  const sheets = createSheetsSink(opts, store, writeBack, clock, (a) => raiseAlert(a));
  if (writeBack) processor.observeBookings(writeBack);
  const { airtableBack, airtable, airtableWebhooks } = createAirtable(opts, store, processor, clock);
  const sinks: Sink[] = [
    ...config.notify.map((n) => new WebhookSink(n, clock)),
    ...channels.all().map((ch) => new ChannelSink(ch, store, clock, config.attributionWindowMs, config.polling)),
    ...(sheets ? [sheets] : []),
    ...(airtable ? [airtable] : []),
    ...(opts.sinks ?? []),
  ];
  // One way to announce (server/announce.ts): every alert, level, purchase order and order reaches
  // the sheet, Airtable and the notification webhooks subscribed to it, whoever announced it.
  const announcer = new Announcer(config.notify);
  if (writeBack) announcer.to(writeBack);
  if (airtableBack) announcer.to(airtableBack);
  processor.announceThrough(announcer);
  /** Alerts the dispatcher and reconciliation raise: opened and announced in one transaction. */
  const raiseAlert = async (a: AlertInput): Promise<void> => {
    await store.transaction((tx) => announcer.raise(tx, a, clock().toISOString()));
  };
  const dispatcher = new Dispatcher(store, sinks, config.dispatch, log.child({ part: 'outbox' }), metrics, clock, opts.random ?? Math.random, opts.idleMs ?? 500, 20, {
    ...(config.dispatch.suspendAfter ? { suspendAfter: config.dispatch.suspendAfter } : {}),
    ...(config.dispatch.suspendMs ? { suspendMs: config.dispatch.suspendMs } : {}),
    raiseAlert,
  });
  processor.onProcessed(() => dispatcher.notify());
  // Reads of a channel outside its pushes (discovery, reconciliation, attribution reads, order
  // fetches) count towards its health too: a channel refusing them is failing (docs/dispatch.md).
  channels.onRequest((id, err) => (err ? dispatcher.requestFailed(`channel:${id}`, err) : dispatcher.requestAnswered(`channel:${id}`)));
  const poller = createPoller(config, store, channels, processor, raiseAlert, log, metrics, clock);

  const state = { shuttingDown: false, server: null as http.Server | null, reconcileTimer: null as NodeJS.Timeout | null, reorderTimer: null as NodeJS.Timeout | null };
  const runReconcile = reconcileRunner({ store, channels, clock, wake: () => { processor.notify(); dispatcher.notify(); }, raiseAlert });
  processor.onReconcileRequested(() => {
    runReconcile().catch((err: unknown) => log.error({ err }, 'reconciliation asked for by a sync request failed'));
  });
  const inboxWriter = new InboxWriter(store);
  processor.yieldWhile(() => inboxWriter.arriving());
  const app = createHubApp(opts, { inboxWriter, store, metrics, processor, channels, dispatcher, poller, announcer, airtableWebhooks, clock, runReconcile, isShuttingDown: () => state.shuttingDown });

  return {
    store,
    sheets,
    airtable,
    airtableWebhooks,
    adminToken: config.adminToken,
    reconcile: runReconcile,
    async resyncChannels() {
      const n = await processor.resyncChannels();
      dispatcher.notify();
      return n;
    },
    channels,
    processor,
    dispatcher,
    poller,
    metrics,
    app,
    listen(port, host) {
      processor.start();
      dispatcher.start();
      poller.start();
      airtableWebhooks?.start();
      startSchedules(state, { config, store, channels, announcer, log, clock, runReconcile });
      return listenOn(app, port, host, (s) => (state.server = s));
    },
    async stop(graceMs = 10_000) {
      state.shuttingDown = true;
      stopSchedules(state);
      if (state.server) await closeServer(state.server, graceMs);
      await airtableWebhooks?.stop();
      await poller.stop();
      await processor.stop();
      await dispatcher.stop(Math.min(graceMs, 5000));
      await store.close();
    },
  };
}

interface HubParts {
  inboxWriter: InboxWriter;
  store: Store;
  metrics: Metrics;
  processor: InboxProcessor;
  channels: ChannelRegistry;
  dispatcher: Dispatcher;
  poller: Poller;
  announcer: Announcer;
  airtableWebhooks: AirtableWebhooks | null;
  clock: () => Date;
  runReconcile: RunReconcile;
  isShuttingDown: () => boolean;
}

/** The HTTP API over the hub's parts (server/api/app.ts). */
function createHubApp(opts: HubOptions, p: HubParts): ReturnType<typeof createApp> {
  const { config, log } = opts;
  return createApp({
    inboxWriter: p.inboxWriter,
    store: p.store,
    config,
    log: log.child({ part: 'api' }),
    metrics: p.metrics,
    processor: p.processor,
    verifier: new RelayVerifier(config.relaySecrets),
    credentials: new Credentials(p.store, config.credentialKey, p.clock),
    channels: p.channels,
    sandbox: opts.sandbox,
    clock: p.clock,
    validateResponses: opts.validateResponses ?? false,
    isShuttingDown: p.isShuttingDown,
    channelSuspendedUntil: (id) => p.dispatcher.suspendedUntil(`channel:${id}`),
    channelHealth: (id) => p.dispatcher.health(`channel:${id}`),
    feeds: (id) => p.poller.views(id),
    reconcile: (o) => p.runReconcile(o),
    airtableWebhooks: p.airtableWebhooks,
    announcer: p.announcer,
  });
}

/** The sheet write-back's sink (docs/sheets.md), when the config file has a `sheets` section. */
function createSheetsSink(opts: HubOptions, store: Store, writeBack: SheetWriteBack | null, clock: () => Date, raiseAlert: (a: AlertInput) => Promise<unknown>): SheetsSink | null {
  const { config, log } = opts;
  if (!config.sheets || !writeBack) return null;
  return new SheetsSink(config.sheets, store, opts.sheets?.api ?? createSheetsApi(config.sheets), {
    clock,
    log: log.child({ part: 'sheets' }),
    channelNames: writeBack.channelNames(),
    defaultLocation: config.defaultLocation,
    raiseAlert,
    ...(opts.sheets?.quota ? { quota: opts.sheets.quota } : {}),
    ...(opts.sheets?.maxBatch ? { maxBatch: opts.sheets.maxBatch } : {}),
  });
}

/** The Airtable write-back, its sink and its webhook (docs/airtable.md), as far as the config sets them up. */
function createAirtable(opts: HubOptions, store: Store, processor: InboxProcessor, clock: () => Date): { airtableBack: AirtableWriteBack | null; airtable: AirtableSink | null; airtableWebhooks: AirtableWebhooks | null } {
  const { config, log } = opts;
  const airtableBack = config.airtable ? new AirtableWriteBack(config.airtable) : null;
  const airtableApi = config.airtable ? (opts.airtable?.api ?? createAirtableApi(config.airtable)) : null;
  const airtable =
    config.airtable && airtableApi
      ? new AirtableSink(config.airtable, store, airtableApi, {
          clock,
          log: log.child({ part: 'airtable' }),
          channelNames: new Map(config.channels.map((c) => [c.id, c.name])),
          defaultLocation: config.defaultLocation,
          ...(opts.airtable?.quota ? { quota: opts.airtable.quota } : {}),
        })
      : null;
  if (airtableBack) processor.observeBookings(airtableBack);
  const airtableWebhooks =
    config.airtable?.webhook && airtableApi && airtable
      ? new AirtableWebhooks(config.airtable, airtableApi, store, { clock, log: log.child({ part: 'airtable-webhook' }), pace: airtable.pace, wake: () => processor.notify(), ...(opts.airtable?.refreshEveryMs ? { refreshEveryMs: opts.airtable.refreshEveryMs } : {}) })
      : null;
  return { airtableBack, airtable, airtableWebhooks };
}

function createPoller(config: HubConfig, store: Store, channels: ChannelRegistry, processor: InboxProcessor, raiseAlert: (a: AlertInput) => Promise<void>, log: Logger, metrics: Metrics, clock: () => Date): Poller {
  return new Poller({
    store,
    channels,
    log: log.child({ part: 'poller' }),
    metrics,
    clock,
    defaults: { everyMs: config.polling?.everyMs, stallAfterMs: config.polling?.stallAfterMs },
    wake: () => processor.notify(),
    raiseAlert,
    timeoutMs: config.dispatch.timeoutMs,
  });
}

type RunReconcile = (opts?: { channelId?: string | undefined; dryRun?: boolean | undefined }) => Promise<ReconcileReport>;

/** One reconciliation at a time: a second request while one runs gets the same report. */
function reconcileRunner(deps: ReconcileDeps): RunReconcile {
  let reconciling: Promise<ReconcileReport> | null = null;
  return (opts = {}) => {
    if (reconciling && !opts.dryRun && opts.channelId === undefined) return reconciling;
    const run = reconcile(deps, opts);
    if (!opts.dryRun && opts.channelId === undefined) {
      reconciling = run;
      void run.finally(() => (reconciling = null)).catch(() => undefined);
    }
    return run;
  };
}

/** The scheduled reconciliation (docs/reconcile.md) and reorder check (docs/orders.md), each started once. */
function startSchedules(
  state: { reconcileTimer: NodeJS.Timeout | null; reorderTimer: NodeJS.Timeout | null },
  d: { config: HubConfig; store: Store; channels: ChannelRegistry; announcer: Announcer; log: Logger; clock: () => Date; runReconcile: RunReconcile },
): void {
  const { config, log } = d;
  if (config.reconcileEveryMs > 0 && d.channels.all().length > 0 && !state.reconcileTimer) {
    state.reconcileTimer = setInterval(() => {
      d.runReconcile()
        .then((r) => {
          const found = r.channels.reduce((n, c) => n + c.differences.length, 0);
          log.info({ part: 'reconcile', checked: r.channels.reduce((n, c) => n + c.checked, 0), differences: found, errors: r.channels.filter((c) => c.error).map((c) => c.error) }, 'reconciliation done');
        })
        .catch((err: unknown) => log.error({ err }, 'reconciliation failed'));
    }, config.reconcileEveryMs);
    state.reconcileTimer.unref();
  }
  // Days of cover against lead time (docs/orders.md): a reorder alert, wherever alerts are shown.
  if (config.reorder.checkEveryMs > 0 && !state.reorderTimer) {
    // One check at a time: a check still running when the next is due (a slow database) is not
    // joined by a second, which would find the same alert not yet open and open it twice.
    let checking = false;
    state.reorderTimer = setInterval(() => {
      if (checking) return;
      checking = true;
      checkReorder(d.store, config, d.clock(), d.announcer)
        .then((opened) => log.info({ part: 'reorder', opened }, 'reorder check done'))
        .catch((err: unknown) => log.error({ err }, 'reorder check failed'))
        .finally(() => (checking = false));
    }, config.reorder.checkEveryMs);
    state.reorderTimer.unref();
  }
}

function stopSchedules(state: { reconcileTimer: NodeJS.Timeout | null; reorderTimer: NodeJS.Timeout | null }): void {
  if (state.reconcileTimer) clearInterval(state.reconcileTimer);
  state.reconcileTimer = null;
  if (state.reorderTimer) clearInterval(state.reorderTimer);
  state.reorderTimer = null;
}

/** Listens with the API; `onServer` gets the server at once, so a stop during start can close it. */
function listenOn(app: ReturnType<typeof createApp>, port: number, host: string, onServer: (s: http.Server) => void): Promise<{ url: string; server: http.Server }> {
  return new Promise((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => {
      if (err) return reject(err);
      const addr = s.address() as AddressInfo;
      const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve({ url: `http://${shownHost}:${addr.port}`, server: s });
    });
    s.keepAliveTimeout = 5000;
    onServer(s);
  });
}

/** Stops taking requests and lets in-flight ones finish, for at most `graceMs`. */
async function closeServer(s: http.Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => s.close(() => resolve()));
  s.closeIdleConnections();
  const timer = setTimeout(() => s.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
}
