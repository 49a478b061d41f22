/**
 * Zettle's REST services for one channel: the inventory service (locations, balances, moves), the
 * product library (catalog discovery) and the purchase service (the polled backstop), each request
 * sent through `ctx.fetch` (the channel's pace) with the channel's access token.
 *
 * A push is a move between locations, never an absolute write (Zettle has none): the hub's target
 * level is reached by reading the STORE balance and moving the difference, from SUPPLIER when it is
 * higher and to BIN when it is lower. Made safe against a sale at the counter:
 * - the move is computed from a level read just before, and only when that level is the one the hub
 *   expected (its last seen); otherwise nothing is written and the push answers `stale` with what
 *   Zettle shows;
 * - a level already at the target is not written again (a retry after a lost answer writes nothing);
 * - a sale landing between the read and the move composes with it (both are moves), and the balance
 *   Zettle answers after the move (`returnBalanceForLocationUuid`) is compared with the target: any
 *   difference is answered `stale` with that balance, so the hub looks again.
 */
import { parseRetryAfter } from '../../util';
import { sendJson } from '../json-request';
import { PageGuard } from '../paging';
import { DirectTokenSource, retryUnauthorized } from '../kit/oauth';
import { wholeSetting } from '../kit/settings';
import { ConnectorError, TranslateError, type ConnectorContext, type LevelReading, type ListingRef, type OAuthSpec, type PlatformListing, type PollResult, type PushOutcome, type PushTarget, type TokenSource } from '../types';
import { normaliseOrganization } from './verify';
import { HOSTS, PATHS, PURCHASES_FEED, uuidFrom, type LocationType } from './wire';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** Most moves in one PUT (not published by Zettle; see README, "Not confirmed"). */
export const MAX_BATCH = 50;
const PLATFORM = 'Zettle';
type Service = 'inventory' | 'products' | 'purchases';

/** What a channel's organisation keeps: the one tracked STORE and the virtual locations moves go through. */
export interface Locations {
  store: string;
  supplier: string;
  bin: string;
  sold: string | null;
}

const key = (productId: string, variantId: string) => `${productId.toLowerCase()}/${variantId.toLowerCase()}`;

/** The balances in an answer of the inventory service: `{variants: [{productUuid, variantUuid, balance}]}`. */
function balancesOf(body: unknown, what: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!isObj(body) || !Array.isArray(body.variants)) throw new ConnectorError(`${PLATFORM} answered ${what} without a list of variants; nothing was taken from it.`, false, null, null, { channelFault: true });
  for (const v of body.variants) {
    if (!isObj(v)) continue;
    const p = str(v.productUuid);
    const q = str(v.variantUuid);
    const n = typeof v.balance === 'number' ? v.balance : typeof v.balance === 'string' ? Number(v.balance) : NaN;
    if (p && q && Number.isFinite(n)) out.set(key(p, q), n);
  }
  return out;
}

export class ZettleClient {
  readonly organizationUuid: string;
  private readonly bases: Record<Service, string>;
  private readonly fetchImpl: typeof fetch;
  private readonly tokens: TokenSource;
  private readonly timeoutMs: number;
  private readonly pageSize: number;
  private readonly clock: () => Date;
  private readonly secrets: string[];
  private locationsCache: Locations | null = null;

  constructor(ctx: ConnectorContext, spec: OAuthSpec) {
    const org = normaliseOrganization(ctx.settings.organizationUuid);
    if (!org) throw new ConnectorError(`The Zettle channel "${ctx.channelId}" needs the setting organizationUuid: the uuid of the Zettle organisation (every Zettle event names it, and the hub refuses events for any other). Read it from GET https://oauth.zettle.com/users/self with the channel's token, or from the organizationUuid of an event.`, false);
    this.organizationUuid = org;
    const base = ctx.baseUrl?.trim().replace(/\/+$/, '') ?? null;
    if (base !== null && !/^https?:\/\/[^/\s]+/i.test(base)) throw new ConnectorError(`The Zettle channel "${ctx.channelId}" has a baseUrl that is not an http(s) address.`, false);
    this.bases = base ? { inventory: base, products: base, purchases: base } : { inventory: HOSTS.inventory, products: HOSTS.products, purchases: HOSTS.purchases };
    this.fetchImpl = ctx.fetch ?? fetch;
    this.clock = ctx.clock ?? (() => new Date());
    this.timeoutMs = wholeSetting(ctx, PLATFORM, 'timeoutMs', 30_000, 100, 600_000);
    this.pageSize = wholeSetting(ctx, PLATFORM, 'pageSize', 100, 1, 1000);
    this.tokens =
      ctx.tokens ??
      new DirectTokenSource({ channelId: ctx.channelId, platform: PLATFORM, spec, credentials: ctx.credentials, channelBaseUrl: ctx.baseUrl, settings: ctx.settings, clock: this.clock, timeoutMs: this.timeoutMs });
    this.secrets = [ctx.credentials.apiKey ?? '', ctx.credentials.signingKey ?? ''].filter((s) => s.length >= 4);
  }

  private scrub(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join('[redacted]');
    return out;
  }

  /** One request; the answer's JSON and headers on 2xx, else a ConnectorError. */
  async call(service: Service, method: 'GET' | 'PUT', path: string, what: string, body?: unknown, signal?: AbortSignal): Promise<{ json: unknown; headers: Headers }> {
    signal?.throwIfAborted();
    const url = /^https?:\/\//.test(path) ? path : `${this.bases[service]}${path}`;
    // A token refused (revoked, or expired early): once more with a fresh one; a revoked key's refusal is thrown.
    const { answer: res } = await retryUnauthorized(
      this.tokens,
      await this.tokens.accessToken(signal),
      (token) => sendJson(this.fetchImpl, { platform: PLATFORM, method, url, headers: { authorization: `Bearer ${token}` }, body, what, timeoutMs: this.timeoutMs, signal }),
      signal,
    );
    if (res.status >= 200 && res.status < 300) return res;
    throw this.failure(res.status, res.json, res.headers, what);
  }

  private failure(status: number, body: unknown, headers: Headers, what: string): ConnectorError {
    const b = isObj(body) ? body : {};
    const said = [str(b.errorType), str(b.developerMessage)].filter(Boolean).join(': ').slice(0, 300);
    const detail = said ? ` (${this.scrub(said)})` : '';
    if (status === 429) {
      const retryAfter = parseRetryAfter(headers.get('retry-after'), this.clock().getTime());
      return new ConnectorError(`${PLATFORM} asked the hub to slow down (HTTP 429) while trying to ${what}; it will be retried.`, true, retryAfter, 429);
    }
    if (status >= 500) return new ConnectorError(`${PLATFORM} answered HTTP ${status} while trying to ${what}${detail}; it will be retried.`, true, null, status);
    if (status === 401) return new ConnectorError(`${PLATFORM} refused the channel's access token while trying to ${what}${detail}: check that the API key was not revoked in Zettle (my.zettle.com → Integrations) and that it carries the scopes READ:PRODUCT, WRITE:PRODUCT and READ:PURCHASE.`, false, null, 401);
    if (status === 403) return new ConnectorError(`${PLATFORM} does not allow this channel to ${what}${detail}: the API key lacks a scope (READ:PRODUCT, WRITE:PRODUCT, READ:PURCHASE).`, false, null, 403);
    if (status === 404) return new ConnectorError(`${PLATFORM} answered 404 while trying to ${what}${detail}: check the channel's baseUrl, or the item is gone.`, false, null, 404);
    return new ConnectorError(`${PLATFORM} refused to ${what} (HTTP ${status})${detail}.`, false, null, status);
  }

  // ---------------------------------------------------------------- locations and balances

  /** The organisation's STORE and virtual locations (read once per connector). */
  async locations(signal?: AbortSignal): Promise<Locations> {
    if (this.locationsCache) return this.locationsCache;
    const { json } = await this.call('inventory', 'GET', PATHS.locations, 'read the inventory locations', undefined, signal);
    if (!Array.isArray(json)) throw new ConnectorError(`${PLATFORM} answered the list of inventory locations with something else; nothing was taken from it.`, false, null, null, { channelFault: true });
    const of = (type: LocationType) => json.filter((l): l is Obj => isObj(l) && l.type === type).map((l) => str(l.uuid)).filter((u): u is string => u !== null);
    const [stores, suppliers, bins, solds] = [of('STORE'), of('SUPPLIER'), of('BIN'), of('SOLD')];
    if (stores.length !== 1 || suppliers.length < 1 || bins.length < 1) {
      throw new ConnectorError(`${PLATFORM} lists ${stores.length} STORE location(s), ${suppliers.length} SUPPLIER and ${bins.length} BIN: the hub needs exactly one STORE and the SUPPLIER and BIN locations. Turn on inventory tracking for at least one product in Zettle, which creates them.`, false, null, null, { channelFault: true });
    }
    this.locationsCache = { store: stores[0]!, supplier: suppliers[0]!, bin: bins[0]!, sold: solds[0] ?? null };
    return this.locationsCache;
  }

  /** Every tracked balance of the STORE location (a variant Zettle does not list is at 0). */
  async balances(store: string, signal?: AbortSignal): Promise<Map<string, number>> {
    const { json } = await this.call('inventory', 'GET', `${PATHS.balances}/${encodeURIComponent(store)}`, 'read the stock balances', undefined, signal);
    return balancesOf(json, 'the read of the stock balances');
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    if (items.length === 0) return [];
    const locs = await this.locations(signal);
    const stray = items.find((i) => i.locationId !== locs.store);
    if (stray) throw this.notStore(stray.locationId, locs);
    const now = await this.balances(locs.store, signal);
    return items.map((i) => ({ sku: i.sku, ref: i.ref, locationId: i.locationId, available: now.get(key(i.ref.productId, i.ref.variantId)) ?? 0 }));
  }

  private notStore(locationId: string, locs: Locations): ConnectorError {
    return new ConnectorError(`Zettle keeps stock in one place per organisation, its STORE location ${locs.store}; this channel maps a location to "${locationId.slice(0, 60)}". Map exactly one of your locations to ${locs.store}.`, false);
  }

  // ---------------------------------------------------------------- push

  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    if (targets.length === 0) return [];
    if (targets.length > MAX_BATCH) throw new ConnectorError(`At most ${MAX_BATCH} Zettle levels are pushed at once; ${targets.length} were given.`, false);
    const locs = await this.locations(signal);
    const outcomes = new Map<PushTarget, PushOutcome>();
    const valid = targets.filter((t) => {
      if (t.locationId === locs.store) return true;
      outcomes.set(t, { sku: t.sku, locationId: t.locationId, status: 'failed', message: this.notStore(t.locationId, locs).message });
      return false;
    });
    if (valid.length > 0) {
      const now = await this.balances(locs.store, signal);
      const moves: { t: PushTarget; change: Obj }[] = [];
      for (const t of valid) {
        const current = now.get(key(t.ref.productId, t.ref.variantId)) ?? 0;
        // Moved since the hub last saw it (a sale, a count, or our own write whose answer was lost): nothing is written.
        if (t.expected !== null && current !== t.expected) outcomes.set(t, { sku: t.sku, locationId: t.locationId, status: 'stale', observed: current });
        else if (current === t.level) outcomes.set(t, { sku: t.sku, locationId: t.locationId, status: 'applied', level: t.level, wrote: false });
        else {
          const up = t.level > current;
          moves.push({
            t,
            change: { productUuid: t.ref.productId, variantUuid: t.ref.variantId, fromLocationUuid: up ? locs.supplier : locs.store, toLocationUuid: up ? locs.store : locs.bin, change: Math.abs(t.level - current) },
          });
        }
      }
      if (moves.length > 0) {
        for (const [t, o] of await this.move(moves, locs.store, signal)) outcomes.set(t, o);
      }
    }
    return targets.map((t) => outcomes.get(t)!);
  }

  /** One PUT of every move; when Zettle refuses the batch, one PUT per move, so a refused item fails alone. */
  private async move(moves: { t: PushTarget; change: Obj }[], store: string, signal?: AbortSignal): Promise<Map<PushTarget, PushOutcome>> {
    const out = new Map<PushTarget, PushOutcome>();
    const send = async (batch: typeof moves) => {
      const body = { changes: batch.map((m) => m.change), returnBalanceForLocationUuid: store, externalUuid: uuidFrom(batch.map((m) => m.t.idempotencyKey).join('\u0000')) };
      const { json } = await this.call('inventory', 'PUT', PATHS.inventory, `move stock of ${batch.length === 1 ? batch[0]!.t.sku : `${batch.length} items`}`, body, signal);
      const after = balancesOf(json, 'the stock move');
      for (const { t } of batch) {
        const level = after.get(key(t.ref.productId, t.ref.variantId)) ?? 0;
        // A move from the level the hub expected is a delta: a sale landing with it is the counter's,
        // and the hub books it from its own event. A level never read before is an absolute set:
        // the balance Zettle answers is its read-back, and any difference is said.
        if (t.expected !== null || level === t.level) out.set(t, { sku: t.sku, locationId: t.locationId, status: 'applied', level: t.level });
        else out.set(t, { sku: t.sku, locationId: t.locationId, status: 'stale', observed: level });
      }
    };
    try {
      await send(moves);
    } catch (err) {
      if (!(err instanceof ConnectorError) || err.channelFault || moves.length === 1) {
        if (err instanceof ConnectorError && !err.channelFault && moves.length === 1) {
          out.set(moves[0]!.t, { sku: moves[0]!.t.sku, locationId: moves[0]!.t.locationId, status: 'failed', message: err.message });
          return out;
        }
        throw err;
      }
      for (const m of moves) {
        try {
          await send([m]);
        } catch (e) {
          if (!(e instanceof ConnectorError) || e.channelFault) throw e;
          out.set(m.t, { sku: m.t.sku, locationId: m.t.locationId, status: 'failed', message: e.message });
        }
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- catalog

  async listCatalog(signal?: AbortSignal): Promise<PlatformListing[]> {
    const guard = new PageGuard({ platform: PLATFORM, what: 'list the product library', hint: `the server at ${this.bases.products} ignores the "cursor" of the Link header (a proxy or cache in front of the API?)` });
    const out: PlatformListing[] = [];
    let next: string | null = `${PATHS.products}?limit=${this.pageSize}`;
    while (next) {
      const { json, headers } = await this.call('products', 'GET', next, 'list the product library', undefined, signal);
      if (!Array.isArray(json)) throw new ConnectorError(`${PLATFORM} answered the product library with something other than a list; nothing was taken from it.`, false, null, null, { channelFault: true });
      const link = /<([^>]+)>\s*;\s*rel="?next"?/i.exec(headers.get('link') ?? '');
      const cursor = link ? new URL(link[1]!, this.bases.products).searchParams.get('cursor') : null;
      guard.page(json.map((p) => (isObj(p) ? String(p.uuid) : '')), cursor);
      for (const p of json) {
        if (!isObj(p) || !str(p.uuid) || !Array.isArray(p.variants)) continue;
        for (const v of p.variants) {
          if (!isObj(v) || !str(v.uuid)) continue;
          const title = [str(p.name), str(v.name)].filter(Boolean).join(' — ');
          out.push({ sku: str(v.sku), title: title || String(p.uuid), ref: { productId: str(p.uuid)!, variantId: str(v.uuid)! } });
        }
      }
      next = link ? link[1]! : null;
      if (next && /^https?:\/\//.test(next)) {
        const u = new URL(next);
        next = `${u.pathname}${u.search}`;
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- purchases (polled)

  /**
   * The purchases after `cursor`, oldest first. The cursor is Zettle's `lastPurchaseHash` (a
   * purchase's time and id), or `start:<ISO time>` before any purchase was seen; the first poll
   * (cursor null) only records where the feed stands.
   */
  async poll(feed: string, cursor: string | null, signal?: AbortSignal): Promise<PollResult> {
    if (feed !== PURCHASES_FEED) throw new ConnectorError(`Zettle has no polled feed "${feed}" (only ${PURCHASES_FEED}).`, false);
    if (cursor === null) {
      const { json } = await this.call('purchases', 'GET', `${PATHS.purchases}?limit=1&descending=true`, 'read where the purchases stand', undefined, signal);
      const last = isObj(json) ? str(json.lastPurchaseHash) : null;
      return { events: [], cursor: last ?? `start:${this.clock().toISOString()}`, more: false };
    }
    const q = new URLSearchParams({ limit: String(this.pageSize), descending: 'false' });
    if (cursor.startsWith('start:')) q.set('startDate', cursor.slice(6));
    else q.set('lastPurchaseHash', cursor);
    const { json } = await this.call('purchases', 'GET', `${PATHS.purchases}?${q}`, 'read new purchases', undefined, signal);
    if (!isObj(json) || !Array.isArray(json.purchases)) throw new ConnectorError(`${PLATFORM} answered the purchase history without a purchases list; nothing was taken from it.`, false, null, null, { channelFault: true });
    const events = json.purchases.map((p: unknown) => {
      if (!isObj(p)) throw new TranslateError('A Zettle purchase is not an object.');
      const id = str(p.purchaseUUID1) ?? str(p.purchaseUuid) ?? str(p.purchaseUUID);
      if (!id) throw new ConnectorError(`${PLATFORM} listed a purchase without an id; nothing was taken from this page.`, false, null, null, { channelFault: true });
      return {
        eventId: `purchase:${id}`,
        topic: 'PurchaseCreated',
        body: { eventName: 'PurchaseCreated', organizationUuid: this.organizationUuid, payload: p },
        occurredAt: typeof p.timestamp === 'string' ? p.timestamp : null,
      };
    });
    const last = str(json.lastPurchaseHash);
    return { events, cursor: events.length > 0 && last ? last : cursor, more: events.length >= this.pageSize };
  }
}
