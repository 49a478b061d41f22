/**
 * The Square connector's calls to the Square REST API through the official `square` SDK (v46,
 * `SquareClient`): inventory changes and counts (planned and shaped in changes.ts), the catalog list
 * and orders. Every request carries the channel's `Square-Version` (default: the version of the
 * OpenAPI document the emulator checks against) and the call's AbortSignal; the SDK's own retries
 * are off (the hub's dispatcher retries). Every failure becomes a ConnectorError that says whether a
 * retry may help and never contains the access token.
 */
import { SquareClient, SquareError, serialization } from 'square';
import {
  ConnectorError,
  type ConnectorContext,
  type LevelReading,
  type ListingRef,
  type PlatformListing,
  type PushOutcome,
  type PushTarget,
  type TokenSource,
} from '../types';
import { chunks, requestKey } from '../../util';
import { PageGuard } from '../paging';
import { SentAt, changeIndex, planChanges, wireChange, type Planned } from './changes';
import { squareFailure, squareHttpFailure, type FailureContext, type SquareErrorBody } from './errors';

export const DEFAULT_BASE_URL = 'https://connect.squareup.com';
/** The Square-Version of `../shared/specs/square/openapi.json`, which the emulator checks requests against. */
export const DEFAULT_SQUARE_VERSION = '2025-08-20';
/** Square-Version from which InventoryAdjustment.location_id is retired (from/to_location_id instead). */
export const LOCATION_ID_RETIRED = '2026-07-15';
/** BatchChangeInventory takes at most 100 changes per request. */
export const MAX_BATCH = 100;
/** Catalog object ids per BatchRetrieveInventoryCounts request (kept well under Square's limits). */
const READ_CHUNK = 100;

/** `locationIds` as a list (YAML list or "A,B"), or null for every location. */
function locationList(v: unknown): string[] | null {
  if (v === undefined || v === null || v === '') return null;
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : null;
  if (!list || list.some((x) => typeof x !== 'string' || x.trim() === '')) {
    throw new ConnectorError('The Square setting locationIds must be a list of Square location ids (or one comma-separated string).', false);
  }
  return (list as string[]).map((x) => x.trim());
}

/**
 * The SDK arms a timer of `timeoutInSeconds` for every request and clears it only when fetch
 * resolves: a request the caller aborted (the dispatcher's timeout, a hub shutting down) kept its
 * timer — and the process — alive for up to 30 s. An aborted fetch is answered here with an empty
 * 499 instead, so the SDK clears its timer; the call then rethrows the caller's abort reason as
 * before. The SDK's own timeout (reason "timeout") still rejects, so it is reported as a timeout.
 */
function releaseAborted(base: typeof fetch): typeof fetch {
  return async (input, init) => {
    try {
      return await base(input, init);
    } catch (err) {
      const signal = init?.signal;
      if (signal?.aborted && signal.reason !== 'timeout') return new Response(null, { status: 499, statusText: 'Client Closed Request' });
      throw err;
    }
  };
}

export class SquareConnectorClient {
  readonly squareVersion: string;
  readonly notificationUrl: string;
  readonly locationIds: string[] | null;
  readonly restockReturns: boolean;
  readonly salesFromPayments: boolean;
  private readonly client: SquareClient;
  /** The personal access token; empty when the channel uses OAuth (`tokens`). */
  private readonly token: string;
  /** The channel's OAuth tokens (docs/credentials-oauth.md), when it uses OAuth instead of an access token. */
  private readonly tokens: TokenSource | null;
  private readonly channelId: string;
  /** The OAuth access token handed to the SDK last, to name in a 401. */
  private lastToken: string | null = null;
  private readonly timeoutSeconds: number;
  private readonly clock: () => Date;
  /** occurred_at sent with each idempotency key, so a retried request is byte-identical. */
  private readonly sentAt = new SentAt();

  constructor(ctx: ConnectorContext) {
    const token = ctx.credentials.accessToken ?? '';
    if (!token && !ctx.tokens) throw new ConnectorError('The Square channel needs the credential accessToken (a personal access token or OAuth token with INVENTORY_READ, INVENTORY_WRITE, ITEMS_READ and ORDERS_READ).', false);
    const url = ctx.settings.notificationUrl;
    if (typeof url !== 'string' || !/^https?:\/\/[^/\s]+/i.test(url.trim())) {
      throw new ConnectorError('The Square channel needs the setting notificationUrl: the exact webhook URL configured in the Square Developer Dashboard (Square signs it with each body).', false);
    }
    const version = ctx.settings.squareVersion ?? DEFAULT_SQUARE_VERSION;
    if (typeof version !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(version)) throw new ConnectorError(`The Square setting squareVersion must be a date like ${DEFAULT_SQUARE_VERSION}.`, false);
    if (version >= LOCATION_ID_RETIRED) {
      throw new ConnectorError(`The Square setting squareVersion ${version} is too new for this connector: it writes inventory adjustments with location_id, which Square retired in ${LOCATION_ID_RETIRED} (use ${DEFAULT_SQUARE_VERSION}).`, false);
    }
    const timeout = ctx.settings.timeoutSeconds ?? 30;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 1 || timeout > 600) throw new ConnectorError('The Square setting timeoutSeconds must be a number of seconds from 1 to 600.', false);
    const restock = ctx.settings.restockReturns ?? true;
    if (typeof restock !== 'boolean') throw new ConnectorError('The Square setting restockReturns must be true or false.', false);
    const fromPayments = ctx.settings.salesFromPayments ?? true;
    if (typeof fromPayments !== 'boolean') throw new ConnectorError('The Square setting salesFromPayments must be true or false.', false);
    const base = (ctx.baseUrl ?? DEFAULT_BASE_URL).trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^/\s]+/i.test(base)) throw new ConnectorError('The Square channel baseUrl must be an http(s) address, e.g. https://connect.squareup.com.', false);

    this.token = token;
    this.tokens = ctx.tokens ?? null;
    this.channelId = ctx.channelId;
    const tokens = this.tokens;
    // Kept exactly as configured: the signature covers these bytes (only surrounding spaces go).
    this.notificationUrl = url.trim();
    this.squareVersion = version;
    this.locationIds = locationList(ctx.settings.locationIds);
    this.restockReturns = restock;
    this.salesFromPayments = fromPayments;
    this.timeoutSeconds = timeout;
    this.clock = ctx.clock ?? (() => new Date());
    this.client = new SquareClient({
      token: tokens
        ? async () => {
            this.lastToken = await tokens.accessToken();
            return this.lastToken;
          }
        : token,
      baseUrl: base,
      timeoutInSeconds: timeout,
      maxRetries: 0,
      logging: { silent: true },
      fetch: releaseAborted(ctx.fetch ?? fetch),
    });
  }

  private options(signal?: AbortSignal): SquareClient.RequestOptions {
    return { maxRetries: 0, headers: { 'Square-Version': this.squareVersion }, ...(signal ? { abortSignal: signal } : {}) };
  }

  private scrub(msg: string): string {
    let out = msg;
    for (const t of [this.token, this.lastToken]) if (t) out = out.split(t).join('[redacted]');
    return out;
  }

  /** After a 401 with OAuth: a fresh token for one more try (false: not an OAuth channel, or already tried). */
  private async renewAfter401(status: number | undefined, tried: boolean, signal?: AbortSignal): Promise<boolean> {
    if (!this.tokens || tried || status !== 401) return false;
    await this.tokens.onUnauthorized(this.lastToken ?? '', signal);
    return true;
  }

  /** The guard of one paged listing (server/connectors/paging.ts). */
  private pageGuard(what: string, endpoint: string): PageGuard {
    return new PageGuard({ platform: 'Square', what, hint: `Square, or a proxy in front of the channel's baseUrl, does not follow the "cursor" of ${endpoint}` });
  }

  /** One SDK call; every failure becomes a ConnectorError (an abort is rethrown as the signal's reason). */
  private async call<T>(what: string, run: () => Promise<T>, signal?: AbortSignal, tried = false): Promise<T> {
    signal?.throwIfAborted();
    try {
      const out = await run();
      signal?.throwIfAborted();
      return out;
    } catch (err) {
      signal?.throwIfAborted();
      // An OAuth token revoked or expired early: refresh once and try again.
      if (err instanceof SquareError && (await this.renewAfter401(err.statusCode, tried, signal))) return this.call(what, run, signal, true);
      throw this.failure(err, what);
    }
  }

  /** Any failure of a call as a ConnectorError (server/connectors/square/errors.ts). */
  failure(err: unknown, what: string): ConnectorError {
    return squareFailure(err, what, this.failureContext());
  }

  private httpFailure(status: number, errors: SquareErrorBody[], retryAfterHeader: string | null, what: string): ConnectorError {
    return squareHttpFailure(status, errors, retryAfterHeader, what, this.failureContext());
  }

  private failureContext(): FailureContext {
    return { timeoutSeconds: this.timeoutSeconds, channelId: this.channelId, oauth: this.tokens !== null, scrub: (m) => this.scrub(m) };
  }

  /**
   * POST /v2/inventory/changes/batch-create through the SDK's passthrough `fetch` (its auth, base
   * URL, timeout and abort), with the body in Square's wire shape of the pinned Square-Version: the
   * SDK's typed model (API 2026-09-16) no longer has `InventoryAdjustment.location_id`, retired in
   * 2026-07-15, which the pinned version requires. Resolves with Square's errors on a 4xx.
   */
  private async batchChange(body: Record<string, unknown>, signal?: AbortSignal, tried = false): Promise<{ ok: true } | { ok: false; status: number; errors: SquareErrorBody[]; error: ConnectorError }> {
    const what = 'change inventory';
    signal?.throwIfAborted();
    let res: Response;
    let text: string;
    try {
      res = await this.client.fetch(
        '/v2/inventory/changes/batch-create',
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
        { maxRetries: 0, headers: { 'Square-Version': this.squareVersion }, ...(signal ? { abortSignal: signal } : {}) },
      );
      text = await res.text();
    } catch (err) {
      signal?.throwIfAborted();
      throw this.failure(err, what);
    }
    signal?.throwIfAborted();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    const errors = typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { errors?: unknown }).errors) ? ((parsed as { errors: SquareErrorBody[] }).errors ?? []) : [];
    if (res.ok) {
      if (parsed === null || typeof parsed !== 'object') throw new ConnectorError('Square answered the inventory change without JSON.', true, null, res.status);
      return { ok: true };
    }
    // Square refuses a request with a bad token before applying anything: the same body again is safe.
    if (await this.renewAfter401(res.status, tried, signal)) return this.batchChange(body, signal, true);
    return { ok: false, status: res.status, errors, error: this.httpFailure(res.status, errors, res.headers.get('retry-after'), what) };
  }

  private locationAllowed(locationId: string): boolean {
    return this.locationIds === null || this.locationIds.includes(locationId);
  }

  // ---------------------------------------------------------------- read

  /** IN_STOCK quantity per `variation|location`, for the given variations at the given locations. */
  private async readMap(variationIds: string[], locationIds: string[], signal?: AbortSignal): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const locs = [...new Set(locationIds)];
    for (const part of chunks([...new Set(variationIds)], READ_CHUNK)) {
      await this.call(
        'read inventory counts',
        async () => {
          let page = await this.client.inventory.batchGetCounts({ catalogObjectIds: part, locationIds: locs, states: ['IN_STOCK'] }, this.options(signal));
          const guard = this.pageGuard('read inventory counts', 'BatchRetrieveInventoryCounts');
          for (;;) {
            guard.page(
              page.data.map((c) => `${c.catalogObjectId}|${c.locationId}|${c.state}|${c.calculatedAt ?? ''}`),
              page.hasNextPage() ? page.response.cursor : null,
            );
            for (const c of page.data) {
              if (c.state !== 'IN_STOCK' || !c.catalogObjectId || !c.locationId) continue;
              const q = Number(c.quantity);
              if (Number.isFinite(q)) out.set(`${c.catalogObjectId}|${c.locationId}`, Math.floor(q));
            }
            if (!page.hasNextPage()) break;
            guard.more();
            page = await page.getNextPage();
          }
        },
        signal,
      );
    }
    return out;
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const usable = items.filter((it) => typeof it.ref.variantId === 'string' && it.ref.variantId !== '' && this.locationAllowed(it.locationId));
    if (usable.length === 0) return [];
    const levels = await this.readMap(
      usable.map((u) => u.ref.variantId),
      usable.map((u) => u.locationId),
      signal,
    );
    const out: LevelReading[] = [];
    for (const it of usable) {
      const q = levels.get(`${it.ref.variantId}|${it.locationId}`);
      // A variation with no count at a location is not tracked there: left out, as Square leaves it out.
      if (q !== undefined) out.push({ sku: it.sku, ref: it.ref, locationId: it.locationId, available: q });
    }
    return out;
  }

  // ---------------------------------------------------------------- push

  /**
   * Idempotent deltas first: a target whose last seen level is known becomes an ADJUSTMENT of
   * level − expected (NONE → IN_STOCK to add, IN_STOCK → WASTE to remove; zero: nothing sent). A target
   * never read becomes a PHYSICAL_COUNT (absolute) followed by a read-back. Up to 100 changes per
   * request, one idempotency key per request derived from the targets' keys and the exact changes.
   */
  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const { outcomes, planned } = planChanges(targets, (locationId) => this.locationAllowed(locationId));
    for (const part of chunks(planned, MAX_BATCH)) await this.sendChanges(part, outcomes, signal);
    return outcomes.map((o, i) => o ?? { sku: targets[i]!.sku, locationId: targets[i]!.locationId, status: 'failed', message: 'No answer from Square for this change.' });
  }

  private async sendChanges(part: Planned[], outcomes: (PushOutcome | undefined)[], signal?: AbortSignal): Promise<void> {
    let rest = part;
    const readBack: Planned[] = [];
    for (let round = 0; rest.length > 0 && round < 3; round++) {
      const key = requestKey([
        'stockrelay-square-push',
        rest.map((p) => p.target.idempotencyKey),
        rest.map((p) => [p.kind, p.variationId, p.target.locationId, p.kind === 'ADJUSTMENT' ? p.delta : p.target.level]),
      ]);
      const occurredAt = this.sentAt.occurredAtFor(key, this.clock().getTime());
      const answer = await this.batchChange({ idempotency_key: key, changes: rest.map((p) => wireChange(p, occurredAt)), ignore_unchanged_counts: true }, signal);
      if (!answer.ok) {
        if (answer.status !== 400) throw answer.error;
        const errors = answer.errors;
        if (errors.some((e) => e.code === 'IDEMPOTENCY_KEY_REUSED')) {
          // This key was used before with another occurred_at (a retry after a restart): the first
          // request was applied or refused; what Square shows now tells which.
          readBack.push(...rest);
          rest = [];
          break;
        }
        const refused = new Map<number, string>();
        for (const e of errors) {
          const i = changeIndex(e.field);
          if (i !== null && i < rest.length) refused.set(i, `${e.code ?? 'ERROR'}${e.detail ? `: ${e.detail}` : ''}`);
        }
        if (refused.size === 0) {
          // Refused as a whole, naming no change: nothing was applied and no item was refused. A fault
          // of the channel, not a dead letter for every item: kept, retried, alerted if it lasts.
          throw new ConnectorError(answer.error.message, false, null, answer.status, { channelFault: true });
        }
        rest.forEach((p, i) => {
          const msg = refused.get(i);
          if (msg !== undefined) outcomes[p.index] = { sku: p.target.sku, locationId: p.target.locationId, status: 'failed', message: `Square refused the change: ${msg}` };
        });
        // Square applies a batch all or nothing: the others are sent again, under a new key.
        rest = rest.filter((_, i) => !refused.has(i));
        continue;
      }
      for (const p of rest) {
        if (p.kind === 'PHYSICAL_COUNT') readBack.push(p);
        else outcomes[p.index] = { sku: p.target.sku, locationId: p.target.locationId, status: 'applied', level: p.target.level };
      }
      rest = [];
    }
    for (const p of rest) outcomes[p.index] = { sku: p.target.sku, locationId: p.target.locationId, status: 'failed', message: 'Square kept refusing the batch this change was in.' };
    if (readBack.length === 0) return;
    // An absolute count is last-writer-wins: read it back, and report a level that differs (a sale
    // landed at the same moment) as stale rather than as applied.
    const now = await this.readMap(
      readBack.map((p) => p.variationId),
      readBack.map((p) => p.target.locationId),
      signal,
    );
    for (const p of readBack) {
      const observed = now.get(`${p.variationId}|${p.target.locationId}`) ?? null;
      outcomes[p.index] =
        observed === p.target.level ? { sku: p.target.sku, locationId: p.target.locationId, status: 'applied', level: p.target.level } : { sku: p.target.sku, locationId: p.target.locationId, status: 'stale', observed };
    }
  }

  // ---------------------------------------------------------------- catalog

  async listCatalog(signal?: AbortSignal): Promise<PlatformListing[]> {
    const out: PlatformListing[] = [];
    await this.call(
      'list the catalog',
      async () => {
        let page = await this.client.catalog.list({ types: 'ITEM' }, this.options(signal));
        const guard = this.pageGuard('list the catalog', 'ListCatalog');
        for (;;) {
          guard.page(
            page.data.map((obj) => String(obj.id)),
            page.hasNextPage() ? page.response.cursor : null,
          );
          for (const obj of page.data) {
            if (obj.type !== 'ITEM' || obj.isDeleted) continue;
            const itemName = obj.itemData?.name?.trim() ?? '';
            for (const v of obj.itemData?.variations ?? []) {
              if (v.type !== 'ITEM_VARIATION' || v.isDeleted) continue;
              const data = v.itemVariationData;
              const variationName = data?.name?.trim() ?? '';
              const sku = data?.sku?.trim() ?? '';
              out.push({
                sku: sku !== '' ? sku : null,
                title: variationName !== '' && variationName !== 'Regular' ? `${itemName} — ${variationName}` : itemName,
                ref: { productId: obj.id, variantId: v.id },
              });
            }
          }
          if (!page.hasNextPage()) break;
          guard.more();
          page = await page.getNextPage();
        }
      },
      signal,
    );
    return out;
  }

  // ---------------------------------------------------------------- orders

  /** The order in Square's wire JSON (snake_case, as webhooks carry it), or null if Square has none with this id. */
  async fetchOrder(orderId: string, locationId: string | null, signal?: AbortSignal): Promise<Record<string, unknown> | null> {
    const res = await this.call('fetch an order', () => this.client.orders.batchGet({ orderIds: [orderId], ...(locationId ? { locationId } : {}) }, this.options(signal)), signal);
    const order = (res.orders ?? []).find((o) => o.id === orderId);
    if (!order) return null;
    const wire = serialization.Order.jsonOrThrow(order, { unrecognizedObjectKeys: 'passthrough', omitUndefined: true, skipValidation: true });
    // Through JSON once, so 64-bit numbers (catalog_version) are plain numbers like a webhook body's.
    return JSON.parse(JSON.stringify(wire, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))) as Record<string, unknown>;
  }
}
