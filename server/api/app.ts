/**
 * The hub's HTTP API. Routes are thin: they check, store an inbound event, and read views.
 * Every write goes through the inbox, so the API, the sheet and the Airtable scripts share one path.
 */
import crypto from 'node:crypto';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import express, { type NextFunction, type Request, type Response } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import type { HubConfig } from '../config';
import { ADJUSTMENT_REASONS, RelayInputError, checkRelay, Relay, type Relay as RelayBody } from '../domain/relay';
import { locationLevelView } from '../domain/views';
import type { InboxProcessor, Outcome } from '../inbox/processor';
import { InboxWriter } from '../inbox/writer';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { RelayVerifier } from '../relay/verify';
import type { Credentials } from '../credentials';
import { bearerAuth, registerCredentialRoutes } from './credential-routes';
import type { ConflictRecord, InboxEntry, ItemRecord, Store } from '../store/types';
import { CONFLICT_DECISION, type ConflictDecisionBody } from '../inbox/conflict-decision';
import { AppError } from './errors';
import { openApiDocument } from './openapi';
import { registerOrderRoutes } from './order-routes';
import { MAX_BODY_BYTES, cursorOf, nextCursor, pageLimit, parseJson, rawBody, readBody, wrap } from './http';
import type { ChannelRegistry } from '../channels/registry';
import { ConnectorError } from '../connectors/types';
import type { Sandbox } from '../sandbox';
import type { AirtableWebhooks } from '../airtable/webhooks';
import type { ReconcileReport } from '../channels/reconcile';
import type { ChannelHealth } from '../outbox/dispatcher';
import type { FeedView } from '../channels/poller';
import { Alerts } from '../alerts';
import { boundedKey, nestsDeeper, ownValue } from '../util';

export interface AppDeps {
  store: Store;
  config: Pick<HubConfig, 'adminToken' | 'channels' | 'locations'> & Partial<Pick<HubConfig, 'orders' | 'reorder'>>;
  log: Logger;
  metrics: Metrics;
  processor: InboxProcessor;
  verifier: RelayVerifier;
  /** Credentials of the sheet, Airtable bases and readers (docs/security.md); absent, only the admin token and the hub-wide relay secrets work. */
  credentials?: Credentials | null;
  clock?: () => Date;
  /** Check every response against the OpenAPI document (tests turn this on). */
  validateResponses?: boolean;
  /** True once the hub is shutting down: /readyz answers 503 and writes are refused. */
  isShuttingDown?: () => boolean;
  /** Connected channels: their webhooks are received at /v1/webhooks/{channelId}. */
  channels?: ChannelRegistry | undefined;
  /** Sandbox mode: the emulators running beside the hub (see server/sandbox.ts). */
  sandbox?: Sandbox | undefined;
  /** How long a write through the API waits for its booking before answering 202. */
  waitForBookingMs?: number;
  /** When a failing channel's pushes resume, or null when it is not suspended (docs/dispatch.md). */
  channelSuspendedUntil?: (channelId: string) => string | null;
  /** How a channel is doing: answering, failing or suspended, with its last error (docs/dispatch.md). */
  channelHealth?: (channelId: string) => ChannelHealth | null;
  /** How the polled feeds (of one channel, or all) are doing (docs/polling.md). */
  feeds?: (channelId?: string) => Promise<FeedView[]>;
  /** Stores relays and channel webhooks by group commit (server/inbox/writer.ts); one of its own when absent. */
  inboxWriter?: InboxWriter;
  /** The Airtable webhook (docs/airtable.md), when configured. */
  airtableWebhooks?: AirtableWebhooks | null;
  /** docs/reconcile.md */
  reconcile?: (opts: { channelId?: string | undefined; dryRun?: boolean | undefined }) => Promise<ReconcileReport>;
  /** The hub's one path for alerts (server/alerts.ts); absent, alerts raised through the API reach no sheet, base or subscriber. */
  alerts?: Alerts;
}


const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validateRelay = ajv.compile<RelayBody>(Relay);
/** Each relay kind's own schema, so a relay of a known kind is told what is wrong with it, not with every kind. */
const validateRelayKind = new Map(Relay.anyOf.map((s) => [String((s.properties.kind as { const: string }).const), ajv.compile(s)]));



/** The deepest nesting an event's body is shown with as JSON; a deeper one is shown as the text received. */
const MAX_SHOWN_DEPTH = 64;

function eventView(e: InboxEntry, withBody = false) {
  const outcome = (e.outcome ?? null) as (Outcome & { error?: string; waiting?: string }) | null;
  const waiting = outcome?.waiting;
  let body: unknown;
  if (withBody) {
    // Kept as received; shown as JSON only when it is JSON of a sensible depth (writing a body nested
    // 100,000 levels deep back as JSON would exhaust the stack).
    body = e.body;
    if (!nestsDeeper(e.body, MAX_SHOWN_DEPTH)) {
      try {
        body = JSON.parse(e.body);
      } catch {
        /* not JSON: the text as received */
      }
    }
  }
  return {
    id: e.id,
    source: e.source,
    kind: e.kind,
    status: e.status,
    results: outcome?.results ?? [],
    ...(outcome?.error ? { error: outcome.error } : {}),
    // A channel event came by webhook or by a poll of one of its feeds (docs/polling.md); only the hub sets this header.
    ...(e.source === 'channel' ? { via: e.headers['x-stockrelay-via'] === 'poll' ? ('poll' as const) : ('webhook' as const) } : {}),
    ...(e.status === 'received' && e.retryAt ? { retryAt: e.retryAt, ...(typeof waiting === 'string' ? { waiting } : {}) } : {}),
    // What the prepare stage found in it (docs/inbox-outbox.md), shown with the body.
    ...(withBody && e.source === 'channel' ? { facts: e.prepared === null ? null : ((JSON.parse(e.prepared) as { facts?: unknown }).facts ?? null) } : {}),
    attempts: e.attempts,
    receivedAt: e.receivedAt,
    processedAt: e.processedAt,
    ...(withBody ? { body } : {}),
  };
}

/** Two API requests are the same when they differ only in the time the hub stamped on them. */
function sameRequest(storedBody: string, relay: RelayBody): boolean {
  const strip = (r: object) => JSON.stringify({ ...r, occurredAt: undefined, editedAt: undefined });
  try {
    return strip(JSON.parse(storedBody) as object) === strip(relay);
  } catch {
    return false;
  }
}

export function createApp(deps: AppDeps): express.Express {
  const { store, log, metrics, processor, verifier } = deps;
  const clock = deps.clock ?? (() => new Date());
  const shuttingDown = deps.isShuttingDown ?? (() => false);
  const waitMs = deps.waitForBookingMs ?? 5000;
  // Relays and channel webhooks are stored by group commit: one transaction for all that arrive together.
  const inbox = deps.inboxWriter ?? new InboxWriter(store);
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  // Requests are counted by the route they matched, never by the address asked for: anything refused
  // before a route matched (401, 400, 405, 413, an address that does not exist) is counted as
  // "unrouted", so nobody can add series to /metrics, or memory to the hub, by inventing addresses.
  app.use((req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.on('finish', () => {
      const matched = (req.route as { path?: unknown } | undefined)?.path;
      const route = typeof matched === 'string' ? matched : 'unrouted';
      const seconds = end({ method: req.method, route, status: String(res.statusCode) });
      const line = { method: req.method, path: req.path.slice(0, 300), status: res.statusCode, ms: Math.round(seconds * 1000) };
      if (res.statusCode >= 500) log.error(line, 'request');
      else if (res.statusCode >= 400) log.info(line, 'request refused');
      else log.debug(line, 'request');
    });
    next();
  });
  // Every body is read here, at most 1 MiB, refused before it is read when it says it is larger.
  app.use(readBody(MAX_BODY_BYTES));

  async function itemViews(items: ItemRecord[]) {
    const levels = await store.ledger.levelsFor(items.map((i) => i.sku));
    return items.map((item) => {
      const mine = levels.filter((l) => l.sku === item.sku);
      const locationIds = [...new Set([...deps.config.locations.map((l) => l.id), ...mine.map((l) => l.locationId)])];
      const locations = locationIds.map((loc) => {
        const l = mine.find((m) => m.locationId === loc) ?? { onHand: 0, reserved: 0 };
        return locationLevelView(loc, l, deps.config.channels);
      });
      return {
        sku: item.sku,
        title: item.title,
        lowStockThreshold: item.lowStockThreshold,
        status: item.status,
        onHand: locations.reduce((s, l) => s + l.onHand, 0),
        available: locations.reduce((s, l) => s + l.available, 0),
        locations,
        createdAt: item.createdAt,
        updatedAt: item.updatedAt,
        archivedAt: item.archivedAt,
      };
    });
  }

  /** Waits until this hub (or another process sharing the store) has processed the event. */
  async function waitForOutcome(eventId: number): Promise<InboxEntry | null> {
    const deadline = Date.now() + waitMs;
    let wake: () => void = () => undefined;
    const off = processor.onProcessed((id) => {
      if (id === eventId) wake();
    });
    try {
      while (Date.now() < deadline) {
        const e = await store.inbox.get(eventId);
        if (e && e.status !== 'received') return e;
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(100, Math.max(0, deadline - Date.now())));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
      return null;
    } finally {
      off();
    }
  }

  function acceptedBody(eventId: number, e: InboxEntry | null) {
    const outcome = (e?.outcome ?? null) as Outcome | null;
    const status = e?.status ?? 'received';
    const messages: Record<string, string> = {
      received: 'Stored; it will be booked in order.',
      processed: 'Booked.',
      unmatched: 'Stored, but something in it is unknown to the hub; see results, fix, then retry the event.',
      rejected: 'Stored, but it cannot be booked; see results.',
      conflict: 'Stored, but it conflicts with a newer change; nothing was overwritten.',
      failed: 'Stored, but booking failed; see the event for the error.',
    };
    return { eventId, status, results: outcome?.results ?? [], message: messages[status] ?? status };
  }

  // --- Health, metrics, the document --------------------------------------------------------------
  app.get('/healthz', (_req, res) => {
    res.json(
      deps.sandbox
        ? { status: 'ok', mode: 'sandbox', message: deps.sandbox.warning }
        : { status: 'ok', mode: 'live' },
    );
  });
  app.get('/readyz', async (_req, res) => {
    if (shuttingDown()) {
      res.status(503).json({ status: 'not_ready', reason: 'The hub is shutting down.' });
      return;
    }
    try {
      await store.ping();
      res.json({ status: 'ready' });
    } catch (err) {
      log.warn({ err }, 'readiness check: store does not answer');
      res.status(503).json({ status: 'not_ready', reason: 'The database does not answer.' });
    }
  });
  app.get('/metrics', async (_req, res) => {
    const [inbox, outbox, feeds] = await Promise.all([store.inbox.count(), store.outbox.count(), deps.feeds?.() ?? Promise.resolve([])]);
    metrics.inboxBacklog.reset();
    for (const [k, v] of Object.entries(inbox)) metrics.inboxBacklog.set({ status: k }, v);
    metrics.outboxBacklog.reset();
    for (const [k, v] of Object.entries(outbox)) metrics.outboxBacklog.set({ status: k }, v);
    // Polled feeds (docs/polling.md): labels are channel ids and feed names from the config, never from a request.
    const nowMs = clock().getTime();
    for (const g of [metrics.feedLastPoll, metrics.feedLastSuccess, metrics.feedLag, metrics.feedConsecutiveErrors]) g.reset();
    for (const f of feeds) {
      const labels = { channel: f.channelId, feed: f.feed };
      if (f.lastPollAt) metrics.feedLastPoll.set(labels, Date.parse(f.lastPollAt) / 1000);
      if (f.lastSuccessAt) metrics.feedLastSuccess.set(labels, Date.parse(f.lastSuccessAt) / 1000);
      const since = f.lastSuccessAt ?? f.startedAt;
      if (since) metrics.feedLag.set(labels, Math.max(0, Math.round((nowMs - Date.parse(since)) / 1000)));
      metrics.feedConsecutiveErrors.set(labels, f.consecutiveErrors);
    }
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });

  // --- Signed relays: raw bytes first, signature, then JSON ----------------------------------------
  app.post('/v1/relay', async (req, res, next) => {
    try {
      if (shuttingDown()) throw new AppError(503, 'shutting_down', 'The hub is restarting; send this relay again in a moment.');
      const raw = rawBody(req);
      let verdict = verifier.verify(raw, req.headers);
      let signedBy: number | null = null;
      // Not the hub-wide relay secret: perhaps a source's own credential (docs/security.md); a revoked one is not tried.
      if (!verdict.valid && verdict.code === 'bad_signature' && deps.credentials) {
        const byCredential = await deps.credentials.verifyRelay(raw, req.headers);
        if (byCredential) {
          verdict = byCredential.verdict;
          signedBy = byCredential.credential.id;
        }
      }
      if (!verdict.valid) {
        metrics.relays.inc({ result: verdict.code });
        log.warn({ code: verdict.code, ip: req.ip }, 'relay refused: signature');
        throw new AppError(401, verdict.code, verdict.reason);
      }
      // From here on every answer, success or refusal, carries the hub's signature (docs/airtable.md).
      const send = res.send.bind(res);
      res.send = ((body?: unknown) => {
        if (typeof body === 'string') res.set(verdict.signAnswer(body, clock()));
        else if (Buffer.isBuffer(body)) res.set(verdict.signAnswer(body.toString('utf8'), clock()));
        return send(body);
      }) as typeof res.send;
      if (!req.is('application/json')) {
        metrics.relays.inc({ result: 'unsupported_media_type' });
        throw new AppError(415, 'unsupported_media_type', 'A relay must be sent as JSON (Content-Type: application/json).');
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        metrics.relays.inc({ result: 'malformed_json' });
        throw new AppError(400, 'malformed_json', `The body is not valid JSON: ${(err as Error).message}`);
      }
      if (!validateRelay(parsed)) {
        metrics.relays.inc({ result: 'invalid_relay' });
        const kind = typeof parsed === 'object' && parsed !== null ? (parsed as { kind?: unknown }).kind : undefined;
        const own = typeof kind === 'string' ? validateRelayKind.get(kind) : undefined;
        if (own && !own(parsed)) {
          const details = (own.errors ?? []).slice(0, 20).map((e) => ({ path: e.instancePath || '/', message: e.message ?? 'is not valid' }));
          throw new AppError(400, 'invalid_relay', `The ${kind} relay is not valid: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}. Nothing was stored.`, details);
        }
        const details = (validateRelay.errors ?? []).slice(0, 20).map((e) => ({ path: e.instancePath || '/', message: e.message ?? 'is not valid' }));
        throw new AppError(400, 'invalid_relay', `The relay does not match any relay kind (${[...validateRelayKind.keys()].join(', ')}); see details.`, details);
      }
      try {
        checkRelay(parsed);
      } catch (err) {
        if (err instanceof RelayInputError) {
          metrics.relays.inc({ result: err.code });
          throw new AppError(400, err.code, err.message);
        }
        throw err;
      }
      const stored = await inbox.insert(
        {
          dedupeKey: `relay:${verdict.id}`,
          source: 'relay',
          kind: parsed.kind,
          headers: { 'webhook-id': verdict.id, 'webhook-timestamp': String(verdict.timestamp), 'user-agent': req.get('user-agent') ?? '', ...(signedBy === null ? {} : { 'x-stockrelay-credential': String(signedBy) }) },
          body: raw.toString('utf8'),
        },
        clock().toISOString(),
      );
      if (!stored) {
        metrics.relays.inc({ result: 'replayed' });
        throw new AppError(409, 'relay_replayed', `A relay with webhook-id "${verdict.id}" was received before; it is booked once and not again.`);
      }
      metrics.relays.inc({ result: 'accepted' });
      processor.notify();
      res.status(202).json(acceptedBody(stored.id, null));
    } catch (err) {
      next(err);
    }
  });

  // --- Channel webhooks: raw bytes, the platform's own signature, stored, answered at once ---------
  // --- Airtable's webhook ping: MAC checked over the raw bytes, then the payloads are read by cursor --
  app.post('/v1/airtable/webhook', async (req, res, next) => {
    try {
      const hooks = deps.airtableWebhooks;
      if (!hooks) throw new AppError(404, 'no_airtable_webhook', 'This hub has no Airtable webhook configured (airtable.webhook in the config file).');
      if (shuttingDown()) throw new AppError(503, 'shutting_down', 'The hub is restarting; Airtable will ping again.');
      const raw = rawBody(req);
      const verdict = await hooks.verifyPing(raw, req.get('x-airtable-content-mac'));
      if (!verdict.ok) {
        metrics.relays.inc({ result: 'webhook_refused' });
        log.warn({ status: verdict.status, ip: req.ip }, 'Airtable ping refused');
        throw new AppError(verdict.status, verdict.status === 401 ? 'bad_signature' : verdict.status === 400 ? 'malformed_json' : 'unknown_webhook', verdict.reason);
      }
      void hooks.pull().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'Airtable payloads could not be read; the next ping or the hourly check reads them'));
      res.status(200).json({ status: 'received', message: 'Checked; the changes are read from Airtable now.' });
    } catch (err) {
      next(err);
    }
  });

  app.post('/v1/webhooks/:channelId', async (req, res, next) => {
    try {
      const channelId = String(req.params.channelId);
      const ch = deps.channels?.get(channelId);
      if (!ch) throw new AppError(404, 'unknown_channel', `No connected channel has the id "${channelId}". Check the webhook address configured on the platform.`);
      if (shuttingDown()) throw new AppError(503, 'shutting_down', 'The hub is restarting; the platform will deliver this again.');
      const raw = rawBody(req);
      const verdict = ch.connector.verify(raw, req.headers);
      if (!verdict.valid && ch.connector.isPing?.(raw, req.headers)) {
        log.info({ channel: channelId }, 'channel webhook address check answered');
        res.status(200).json({ status: 'ping', message: `${ch.config.name}: this address receives the channel's webhooks.` });
        return;
      }
      if (!verdict.valid) {
        metrics.relays.inc({ result: 'webhook_refused' });
        log.warn({ channel: channelId, reason: verdict.reason, ip: req.ip }, 'channel webhook refused: signature');
        throw new AppError(401, 'invalid_signature', `${ch.config.name}: ${verdict.reason} Nothing was stored.`);
      }
      // No platform names its event types with more than a few dozen characters; a longer one is not one of theirs.
      if (verdict.topic.length > 200) throw new AppError(400, 'unknown_topic', `${ch.config.name}: the event type is ${verdict.topic.length} characters long; no event of the platform's is. Nothing was stored.`);
      // The platform's own x- headers are kept for translate; ours (x-stockrelay-*) are never taken from
      // the request: a delivery signed for one channel cannot name another, or a time of its choosing.
      const kept: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (!name.startsWith('x-') || name.startsWith('x-stockrelay-') || /signature|hmac|auth|token|secret/i.test(name) || value === undefined) continue;
        kept[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      kept['x-stockrelay-channel'] = channelId;
      if (verdict.occurredAt) kept['x-stockrelay-occurred-at'] = verdict.occurredAt;
      const stored = await inbox.insert(
        // The platform chooses its event ids: one too long for the inbox's key is kept hashed (server/util.ts).
        { dedupeKey: boundedKey(`channel:${channelId}:${verdict.eventId}`), source: 'channel', kind: verdict.topic, headers: kept, body: raw.toString('utf8') },
        clock().toISOString(),
      );
      if (!stored) {
        metrics.relays.inc({ result: 'webhook_duplicate' });
        // 2xx, so the platform stops retrying a delivery we already hold.
        res.status(200).json({ status: 'duplicate', message: `Event ${verdict.eventId.slice(0, 200)} was received before; it is booked once.` });
        return;
      }
      metrics.relays.inc({ result: 'webhook_accepted' });
      processor.notify(channelId);
      res.status(200).json({ status: 'received', eventId: stored.id });
    } catch (err) {
      next(err);
    }
  });

  // --- Everything else: JSON, admin token, validated against the document ------------------------
  app.use(parseJson);
  app.use('/v1', bearerAuth({ adminToken: deps.config.adminToken, credentials: deps.credentials ?? null, paths: Object.keys(openApiDocument.paths), log }));
  app.use(
    OpenApiValidator.middleware({
      apiSpec: openApiDocument as never,
      // Query and path parameters are always read as their types; a body is taken as sent, so a
      // quantity given as "12", "1e3" or true is refused, not read as a number (docs/ledger.md).
      validateRequests: { allowUnknownQueryParameters: false, coerceTypes: false },
      validateResponses: deps.validateResponses ? { removeAdditional: false } : false,
      validateSecurity: false,
      ignorePaths: /^\/v1\/(relay|webhooks\/[^/]+)$/,
    }),
  );


  // --- Sandbox mode only: drive the emulators ------------------------------------------------------
  const sandboxChannel = (id: string) => {
    if (!deps.sandbox) throw new AppError(404, 'not_sandbox', 'The hub is not in sandbox mode: these calls exist only when no channel is configured.');
    const ch = deps.sandbox.channels.find((c) => c.config.id === id);
    if (!ch) throw new AppError(404, 'unknown_channel', `The sandbox has no channel "${id}"; it has ${deps.sandbox.channels.map((c) => c.config.id).join(', ')}.`);
    return ch;
  };
  app.get('/v1/sandbox', wrap(async (_req, res) => {
    if (!deps.sandbox) throw new AppError(404, 'not_sandbox', 'The hub is not in sandbox mode.');
    res.json({ channels: deps.sandbox.channels.map((c) => ({ id: c.config.id, name: c.config.name, platform: c.config.platform, emulatorUrl: c.config.baseUrl ?? '', locations: c.config.locations })) });
  }));
  app.get('/v1/sandbox/levels/:sku', wrap(async (req, res) => {
    if (!deps.sandbox) throw new AppError(404, 'not_sandbox', 'The hub is not in sandbox mode.');
    const sku = String(req.params.sku);
    const item = await store.items.get(sku);
    if (!item) throw new AppError(404, 'unknown_sku', `SKU "${sku}" is not in the catalog.`);
    const [view] = await itemViews([item]);
    res.json({
      sku,
      hub: view!.locations.map((l) => ({ locationId: l.locationId, onHand: l.onHand, available: l.available })),
      channels: deps.sandbox.channels.map((c) => ({
        channelId: c.config.id,
        name: c.config.name,
        levels: Object.entries(c.config.locations).map(([ours, theirs]) => ({ locationId: ours, level: c.emulator.level(sku, theirs) })),
      })),
    });
  }));
  app.post('/v1/sandbox/channels/:channelId/sales', wrap(async (req, res) => {
    const ch = sandboxChannel(String(req.params.channelId));
    const b = req.body as { sku: string; quantity: number; location?: string };
    // Without a location the platform decides where the order is fulfilled from (a web order), as it would.
    const theirs = b.location === undefined ? undefined : ownValue(ch.config.locations, b.location);
    if (b.location !== undefined && theirs === undefined) throw new AppError(400, 'unknown_location', `${ch.config.name} does not sell from location "${b.location}".`);
    if (Object.values(ch.config.locations).every((l) => ch.emulator.level(b.sku, l) === null)) throw new AppError(404, 'unknown_sku', `${ch.config.name} does not list "${b.sku}".`);
    const { orderId } = await ch.emulator.sell({ sku: b.sku, quantity: b.quantity, ...(theirs === undefined ? {} : { locationId: theirs }) });
    ch.lastOrders.set(b.sku, orderId);
    res.status(201).json({ orderId });
  }));
  app.post('/v1/sandbox/channels/:channelId/refunds', wrap(async (req, res) => {
    const ch = sandboxChannel(String(req.params.channelId));
    const b = req.body as { orderId?: string; sku?: string; restock: boolean; quantity?: number };
    const orderId = b.orderId ?? (b.sku ? ch.lastOrders.get(b.sku) : undefined);
    if (!orderId) throw new AppError(400, 'no_order', `Name the order to refund (orderId), or a SKU sold on ${ch.config.name} through the sandbox.`);
    let refundId: string;
    try {
      ({ refundId } = await ch.emulator.refund({ orderId, restock: b.restock, ...(b.quantity === undefined ? {} : { quantity: b.quantity }) }));
    } catch (err) {
      // The emulated platform refused (an order it does not have, more units than were sold): say why.
      const why = (err as Error).message;
      if (/has no order/.test(why)) throw new AppError(404, 'unknown_order', `${ch.config.name} has no order "${orderId}"; nothing was refunded. Refund an order the sandbox sold (its orderId), or name a SKU it sold.`);
      throw new AppError(409, 'refund_refused', `${ch.config.name} refused the refund: ${why} Nothing was refunded.`);
    }
    res.status(201).json({ refundId, orderId });
  }));

  app.get('/v1/locations', wrap(async (_req, res) => {
    res.json({ locations: await store.locations.list() });
  }));
  const channelView = (c: HubConfig['channels'][number]) => ({
    id: c.id,
    name: c.name,
    platform: c.platform,
    locations: c.locations,
    buffer: c.buffer,
    cap: c.cap,
    hideAtZero: c.hideAtZero,
    relistOnRestock: c.relistOnRestock,
    connected: deps.channels?.get(c.id) !== undefined,
    suspendedUntil: deps.channelSuspendedUntil?.(c.id) ?? null,
    health: deps.channelHealth?.(c.id) ?? null,
  });
  /** The channel as configured, its health, and its polled feeds (docs/polling.md). */
  const channelWithFeeds = (c: HubConfig['channels'][number], all: FeedView[]) => ({
    ...channelView(c),
    feeds: all
      .filter((f) => f.channelId === c.id)
      .map((f) => ({
        feed: f.feed,
        status: f.status,
        everyMs: f.everyMs,
        lastPollAt: f.lastPollAt,
        lastSuccessAt: f.lastSuccessAt,
        cursorAdvancedAt: f.cursorAdvancedAt,
        nextPollAt: f.nextPollAt,
        lagSeconds: f.lagSeconds,
        consecutiveErrors: f.consecutiveErrors,
        lastError: f.lastError,
        eventsStored: f.eventsStored,
      })),
  });
  app.get('/v1/channels', wrap(async (_req, res) => {
    const all = (await deps.feeds?.()) ?? [];
    res.json({ channels: deps.config.channels.map((c) => channelWithFeeds(c, all)) });
  }));
  app.get('/v1/channels/:channelId', wrap(async (req, res) => {
    const id = String(req.params.channelId);
    const c = deps.config.channels.find((x) => x.id === id);
    if (!c) throw new AppError(404, 'unknown_channel', `No channel has the id "${id}".`);
    res.json(channelWithFeeds(c, (await deps.feeds?.(id)) ?? []));
  }));
  const connected = (id: string) => {
    const ch = deps.channels?.get(id);
    if (!ch) {
      const known = deps.config.channels.find((c) => c.id === id);
      throw known
        ? new AppError(409, 'channel_not_connected', `Channel "${id}" uses ${known.platform}, which this hub has no connector for yet.`)
        : new AppError(404, 'unknown_channel', `No channel has the id "${id}".`);
    }
    return ch;
  };
  app.post('/v1/reconcile', wrap(async (req, res) => {
    const b = (req.body ?? {}) as { channel?: string; dryRun?: boolean };
    if (!deps.reconcile || !deps.channels || deps.channels.all().length === 0) throw new AppError(409, 'no_channels', 'No channel is connected: there is nothing to reconcile.');
    if (b.channel !== undefined) connected(b.channel);
    res.json(await deps.reconcile({ channelId: b.channel, dryRun: b.dryRun ?? false }));
  }));
  app.post('/v1/channels/:channelId/discover', wrap(async (req, res) => {
    const ch = connected(String(req.params.channelId));
    try {
      const report = await deps.channels!.discover(ch.config.id, store, () => clock().toISOString());
      res.json(report);
    } catch (err) {
      if (err instanceof ConnectorError) throw new AppError(502, 'channel_unreachable', `${ch.config.name} could not be read: ${err.message}`);
      throw err;
    }
  }));
  app.get('/v1/channels/:channelId/listings', wrap(async (req, res) => {
    const ch = connected(String(req.params.channelId));
    const [listings, levels] = await Promise.all([store.listings.list(ch.config.id), store.channelLevels.list(ch.config.id)]);
    res.json({ listings, levels });
  }));

  app.get('/v1/items', wrap(async (req, res) => {
    const limit = pageLimit(req);
    const status = req.query.status as 'active' | 'archived' | undefined;
    const items = await store.items.list({ limit, cursor: cursorOf(req), status });
    res.json({ items: await itemViews(items), nextCursor: nextCursor(items, limit, (i) => i.sku) });
  }));

  app.get('/v1/items/:sku', wrap(async (req, res) => {
    const item = await store.items.get(String(req.params.sku));
    if (!item) throw new AppError(404, 'unknown_sku', `SKU "${String(req.params.sku)}" is not in the catalog.`);
    res.json((await itemViews([item]))[0]);
  }));

  app.get('/v1/items/:sku/movements', wrap(async (req, res) => {
    const sku = String(req.params.sku);
    if (!(await store.items.get(sku))) throw new AppError(404, 'unknown_sku', `SKU "${sku}" is not in the catalog.`);
    const limit = pageLimit(req);
    const rows = await store.ledger.listMovements(sku, { limit, cursor: cursorOf(req) });
    res.json({ movements: rows, nextCursor: nextCursor(rows, limit, (m) => m.id) });
  }));

  /** Stores an API write as an inbound event (same path as relays) and waits briefly for its booking. */
  async function submit(req: Request, res: Response, relay: RelayBody) {
    if (shuttingDown()) throw new AppError(503, 'shutting_down', 'The hub is restarting; send this request again in a moment.');
    try {
      checkRelay(relay);
    } catch (err) {
      if (err instanceof RelayInputError) throw new AppError(400, err.code, err.message);
      throw err;
    }
    const key = req.get('idempotency-key');
    const body = JSON.stringify(relay);
    const dedupeKey = `api:${key ?? crypto.randomUUID()}`;
    let stored = await store.inbox.insert({ dedupeKey, source: 'api', kind: relay.kind, headers: { 'user-agent': req.get('user-agent') ?? '' }, body }, clock().toISOString());
    if (!stored) {
      // The same Idempotency-Key again: answer with the first request's outcome, if it was the same request.
      const prior = await store.inbox.byKey(dedupeKey);
      if (!prior) throw new AppError(409, 'idempotency_key_reused', 'This Idempotency-Key is in use by a request still being stored; try again.');
      if (!sameRequest(prior.body, relay)) {
        throw new AppError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used for a different request; use a new key.');
      }
      stored = { id: prior.id };
    }
    processor.notify();
    const done = await waitForOutcome(stored.id);
    res.status(done ? 200 : 202).json(acceptedBody(stored.id, done));
  }

  app.put('/v1/items/:sku', wrap(async (req, res) => {
    const b = req.body as { title?: string; lowStockThreshold?: number };
    await submit(req, res, { kind: 'catalog_changed', added: [{ sku: String(req.params.sku), ...b }], removed: [], occurredAt: clock().toISOString() });
  }));

  app.post('/v1/items/:sku/adjustments', wrap(async (req, res) => {
    const b = req.body as { location?: string; quantity: number; reason: (typeof ADJUSTMENT_REASONS)[number]; note?: string; actor?: string };
    await submit(req, res, { kind: 'adjustment', sku: String(req.params.sku), ...b, occurredAt: clock().toISOString() });
  }));

  app.post('/v1/items/:sku/counts', wrap(async (req, res) => {
    const b = req.body as { location?: string; counted: number; note?: string; actor?: string };
    await submit(req, res, { kind: 'count', sku: String(req.params.sku), ...b, occurredAt: clock().toISOString() });
  }));

  app.get('/v1/alerts', wrap(async (req, res) => {
    const limit = pageLimit(req);
    const rows = await store.alerts.list({ limit, cursor: cursorOf(req), status: req.query.status as 'open' | 'resolved' | undefined });
    res.json({ alerts: rows, nextCursor: nextCursor(rows, limit, (a) => a.id) });
  }));

  // --- Conflicts: sheet edits that met a newer change (docs/conflicts.md) ----------------------------
  async function conflictViews(rows: ConflictRecord[]) {
    const levels = await store.ledger.levelsFor([...new Set(rows.map((c) => c.sku))]);
    return rows.map((c) => ({ ...c, hubNow: levels.find((l) => l.sku === c.sku && l.locationId === c.locationId)?.onHand ?? 0 }));
  }
  app.get('/v1/conflicts', wrap(async (req, res) => {
    const limit = pageLimit(req);
    const status = (req.query.status as string | undefined) ?? 'open';
    const rows = await store.conflicts.list({ limit, cursor: cursorOf(req), status: status === 'all' ? undefined : (status as ConflictRecord['status']), sku: req.query.sku as string | undefined });
    res.json({ conflicts: await conflictViews(rows), nextCursor: nextCursor(rows, limit, (c) => c.id) });
  }));
  app.get('/v1/conflicts/:id', wrap(async (req, res) => {
    const c = await store.conflicts.get(Number(req.params.id));
    if (!c) throw new AppError(404, 'unknown_conflict', `There is no conflict ${String(req.params.id)}.`);
    res.json((await conflictViews([c]))[0]);
  }));
  /** Accept or reject: stored as an inbound event, booked in order, answered when booked. */
  const decide = (decision: 'accept' | 'reject') =>
    wrap(async (req, res) => {
      if (shuttingDown()) throw new AppError(503, 'shutting_down', 'The hub is restarting; try again in a moment.');
      const id = Number(req.params.id);
      const b = (req.body ?? {}) as { actor?: string; note?: string; origin?: 'sidebar' | 'api' };
      const done = decision === 'accept' ? 'accepted' : 'rejected';
      const answer = async (status: number, c: ConflictRecord, eventId: number | null, message: string) => {
        res.status(status).json({ conflict: (await conflictViews([c]))[0], eventId, message });
      };
      const before = await store.conflicts.get(id);
      if (!before) throw new AppError(404, 'unknown_conflict', `There is no conflict ${id}; nothing was changed.`);
      if (before.status === done) return answer(200, before, null, `Conflict ${id} was already ${done}${before.resolvedBy ? ` by ${before.resolvedBy}` : ''}; nothing more was done.`);
      if (before.status !== 'open') throw new AppError(409, 'conflict_decided', `Conflict ${id} was already ${before.status}${before.resolvedBy ? ` by ${before.resolvedBy}` : ''}, so it cannot be ${done} now; nothing was changed.`);
      const body: ConflictDecisionBody = { conflictId: id, decision, actor: b.actor ?? null, note: b.note ?? null, origin: b.origin ?? 'api', decidedAt: clock().toISOString() };
      const dedupeKey = `conflict:${id}:${decision}`;
      const stored = (await store.inbox.insert({ dedupeKey, source: 'api', kind: CONFLICT_DECISION, headers: { 'user-agent': req.get('user-agent') ?? '' }, body: JSON.stringify(body) }, clock().toISOString())) ?? (await store.inbox.byKey(dedupeKey));
      if (!stored) throw new AppError(409, 'busy', 'This decision is being stored by another request; try again.');
      processor.notify();
      const e = await waitForOutcome(stored.id);
      const after = (await store.conflicts.get(id))!;
      if (!e) return answer(202, after, stored.id, 'Stored; it will be booked in order in a moment.');
      if (after.status === done) return answer(200, after, stored.id, after.resolution ?? `Conflict ${id} ${done}.`);
      if (after.status !== 'open') throw new AppError(409, 'conflict_decided', `Conflict ${id} was ${after.status} meanwhile${after.resolvedBy ? ` by ${after.resolvedBy}` : ''}; nothing was changed.`);
      const why = ((e.outcome ?? null) as Outcome | null)?.results[0]?.message ?? e.status;
      throw new AppError(409, 'not_booked', `Conflict ${id} could not be ${done}: ${why}`);
    });
  app.post('/v1/conflicts/:id/accept', decide('accept'));
  app.post('/v1/conflicts/:id/reject', decide('reject'));

  registerCredentialRoutes(app, { credentials: deps.credentials ?? null, log });
  registerOrderRoutes(app, { store, config: deps.config, processor, clock, shuttingDown, waitForOutcome, alerts: deps.alerts ?? new Alerts([]) });

  app.get('/v1/events', wrap(async (req, res) => {
    const limit = pageLimit(req);
    const rows = await store.inbox.list({ limit, cursor: cursorOf(req), status: req.query.status as InboxEntry['status'] | undefined });
    res.json({ events: rows.map((e) => eventView(e)), nextCursor: nextCursor(rows, limit, (e) => e.id) });
  }));

  app.get('/v1/events/:id', wrap(async (req, res) => {
    const e = await store.inbox.get(Number(req.params.id));
    if (!e) throw new AppError(404, 'unknown_event', `There is no event ${String(req.params.id)}.`);
    res.json(eventView(e, true));
  }));

  app.post('/v1/events/:id/retry', wrap(async (req, res) => {
    const id = Number(req.params.id);
    const e = await store.inbox.get(id);
    if (!e) throw new AppError(404, 'unknown_event', `There is no event ${id}.`);
    if (!(await store.inbox.requeue(id))) {
      throw new AppError(409, 'not_retryable', `Event ${id} is ${e.status}; only unmatched, rejected, conflicting or failed events can be retried.`);
    }
    processor.notify();
    res.status(202).json({ eventId: id, status: 'received' });
  }));

  app.get('/v1/dead-letters', wrap(async (req, res) => {
    const limit = pageLimit(req);
    const rows = await store.outbox.list({ limit, cursor: cursorOf(req), status: 'dead' });
    res.json({
      deadLetters: rows.map((r) => ({ id: r.id, sink: r.sink, topic: r.topic, attempts: r.attempts, lastError: r.lastError, payload: r.payload, createdAt: r.createdAt, updatedAt: r.updatedAt })),
      nextCursor: nextCursor(rows, limit, (r) => r.id),
    });
  }));

  app.post('/v1/dead-letters/:id/retry', wrap(async (req, res) => {
    const id = Number(req.params.id);
    if (!(await store.outbox.retryDead(id, clock().toISOString()))) throw new AppError(404, 'unknown_dead_letter', `There is no dead letter ${id}.`);
    const row = await store.outbox.get(id);
    res.status(202).json({ id, status: row?.status ?? 'pending' });
  }));

  app.use((_req, _res, next) => next(new AppError(404, 'not_found', 'There is nothing at this address. The API is described at /openapi.json.')));

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = AppError.from(err);
    if (e.status >= 500) log.error({ err, method: req.method, path: req.path }, 'request failed');
    res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } });
  });

  return app;
}
