/**
 * The connected channels: one connector per configured channel whose platform the hub supports,
 * plus the work every channel shares (catalog discovery, resolving a platform line to our SKU).
 */
import type { ChannelConfig } from '../config';
import { connectorFor } from '../connectors';
import { matchCatalog } from '../core/catalog-match';
import { OAuthTokenSource, usesOAuth, type TokenCipher, type TokenStore } from '../connectors/kit/oauth';
import { ConnectorError, type Connector, type ConnectorDefinition, type DiscoveryReport, type FactLine } from '../connectors/types';
import { pacedRequests, RequestPace } from '../connectors/kit/pace';
import { limiterFor, type Limiter } from '../outbox/rate-limit';
import type { StoreOps } from '../store/types';

export interface ConnectedChannel {
  config: ChannelConfig;
  connector: Connector;
  /**
   * The channel's one pace, by its platform's rate-limit model, as the dispatcher (ChannelSink) and
   * the poller (server/channels/poller.ts) see it: they wait on it before a push or a poll, and take a
   * request's cost from it per call. For a channel of the registry every HTTP request its connector
   * makes takes its own turn (`pace`), in order, so this is the pace's `callerView()`, which neither
   * waits nor takes (docs/dispatch.md, "Every request counts"). A channel built by hand with
   * `limiterFor(…)` is paced per call.
   */
  limiter: Limiter;
  /** The pace every request of the connector takes its turn from (channels of the registry). */
  pace?: RequestPace;
}

/** How a request to a channel outside its pushes went: null when answered, else its error. */
export type RequestListener = (channelId: string, error: Error | null) => Promise<void> | void;

/** Connector calls that are requests outside the push path; pushes, hides and relists are the dispatcher's. */
const WATCHED = new Set<string | symbol>(['read', 'listCatalog', 'expand', 'poll']);

/**
 * Whether a failed call says the channel is failing: a connector error (every one of these calls is
 * a request for the whole channel, so even a refusal is the channel's), or no answer in time. A 429
 * is the platform pacing us, not a fault; a bug of ours is not the channel's either.
 */
function channelFault(err: unknown): err is Error {
  if (err instanceof ConnectorError) return err.status !== 429;
  return err instanceof Error && err.name === 'TimeoutError';
}

export class ChannelRegistry {
  private readonly channels = new Map<string, ConnectedChannel>();
  private readonly listeners: RequestListener[] = [];

  constructor(
    configs: ChannelConfig[],
    opts: {
      fetch?: typeof fetch;
      clock?: () => Date;
      /** Waits on `clock` while a request waits for its turn (a fake clock's sleep advances it). */
      sleep?: (ms: number) => Promise<void>;
      definitions?: ConnectorDefinition[];
      /** Where channels using OAuth keep their tokens, and the key they are sealed with (docs/credentials-oauth.md). */
      tokens?: { store: TokenStore; cipher: TokenCipher };
    } = {},
  ) {
    for (const config of configs) {
      const def = opts.definitions?.find((d) => d.platform === config.platform) ?? connectorFor(config.platform);
      if (!def) continue;
      const tokens =
        def.oauth && opts.tokens && usesOAuth(def, config.credentials)
          ? new OAuthTokenSource({
              channelId: config.id,
              platform: def.displayName,
              spec: def.oauth,
              credentials: config.credentials,
              channelBaseUrl: config.baseUrl,
              settings: config.settings,
              store: opts.tokens.store,
              cipher: opts.tokens.cipher,
              ...(opts.fetch ? { fetch: opts.fetch } : {}),
              ...(opts.clock ? { clock: opts.clock } : {}),
            })
          : null;
      // Every request the connector makes takes its turn from the channel's one pace: pushes, polls,
      // reads, order fetches, each page of a listing. The pace is built from the connector's own
      // rate-limit model (a setting may change it), so it is set once the connector exists; no
      // request is made while a connector is created. A client that does not send through `fetch`
      // takes its turns with `requestTurn`. Token requests (above) are not the platform's API.
      let pace: RequestPace | null = null;
      const connector = def.create({
        channelId: config.id,
        baseUrl: config.baseUrl,
        settings: config.settings,
        locations: Object.values(config.locations),
        credentials: config.credentials,
        ...pacedRequests(
          () => pace,
          () => opts.fetch ?? globalThis.fetch,
        ),
        ...(opts.clock ? { clock: opts.clock } : {}),
        ...(tokens ? { tokens } : {}),
      });
      const clock = opts.clock ?? (() => new Date());
      pace = new RequestPace(limiterFor(connector.capabilities.rateLimit), () => clock().getTime(), opts.sleep);
      this.channels.set(config.id, { config, connector: this.watch(config.id, connector), limiter: pace.callerView(), pace });
    }
  }

  /**
   * Hears how every read of a channel outside its pushes goes: catalog discovery, reconciliation
   * reads, the read after an attribution window, a thin event's order fetch, a poll of one of its
   * feeds (docs/polling.md). The hub feeds it to
   * the dispatcher, so a channel refusing those (401, 403, 404, 5xx, no answer) counts towards its
   * suspension and alert as a failed push does (docs/dispatch.md). Listeners run after the call, on
   * their own: a listener never delays or fails the call (and never runs inside its transaction).
   */
  onRequest(listener: RequestListener): void {
    this.listeners.push(listener);
  }

  private tell(channelId: string, error: Error | null): void {
    for (const l of this.listeners) {
      void Promise.resolve()
        .then(() => l(channelId, error))
        .catch(() => undefined);
    }
  }

  /** The connector, with its reads reported to the listeners; every other property is the connector's own. */
  private watch(channelId: string, connector: Connector): Connector {
    return new Proxy(connector, {
      get: (target, prop) => {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        if (!WATCHED.has(prop)) return (value as (...a: unknown[]) => unknown).bind(target);
        return async (...args: unknown[]) => {
          try {
            const out: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            this.tell(channelId, null);
            return out;
          } catch (err) {
            if (channelFault(err)) this.tell(channelId, err);
            throw err;
          }
        };
      },
    });
  }

  get(id: string): ConnectedChannel | undefined {
    return this.channels.get(id);
  }

  all(): ConnectedChannel[] {
    return [...this.channels.values()];
  }

  /** Lists the channel's catalog, matches it to our SKUs and keeps the map; returns the report. */
  async discover(id: string, store: StoreOps, now: () => string, signal?: AbortSignal): Promise<DiscoveryReport> {
    const ch = this.channels.get(id);
    if (!ch) throw new Error(`Channel "${id}" is not connected.`);
    // A listing that cannot be read whole (a refusal, a paging loop the guard stopped) throws here,
    // before anything is replaced: the map keeps what the last complete discovery found.
    const listings = await ch.connector.listCatalog(signal);
    const report = matchCatalog(await activeSkus(store), listings);
    await store.listings.replace(
      id,
      report.matched.map((m) => ({ sku: m.sku, productId: m.ref.productId, variantId: m.ref.variantId, inventoryItemId: m.ref.inventoryItemId ?? null, title: m.title })),
      now(),
    );
    return report;
  }
}

/** Every active SKU of our catalog, by pages of 500 in SKU order; a page that does not move on is a store fault. */
export async function activeSkus(store: Pick<StoreOps, 'items'>): Promise<string[]> {
  const out: string[] = [];
  for (let cursor: string | undefined; ; ) {
    const page = await store.items.list({ limit: 500, status: 'active', ...(cursor === undefined ? {} : { cursor }) });
    out.push(...page.map((i) => i.sku));
    if (page.length < 500) return out;
    const next = page.at(-1)!.sku;
    if (cursor !== undefined && next <= cursor) throw new Error(`The store answered the catalog page after "${cursor}" with items up to "${next}", which does not move on; stopped reading.`);
    cursor = next;
  }
}

/** Our location for a platform location id, by the channel's location map. */
export function ourLocation(channel: ChannelConfig, platformLocationId: string | null): string | null {
  const mapped = Object.entries(channel.locations);
  if (platformLocationId === null) return mapped[0]?.[0] ?? null;
  return mapped.find(([, theirs]) => theirs === platformLocationId)?.[0] ?? null;
}

export type LineToResolve = Pick<FactLine, 'sku' | 'ref' | 'locationId'> & { quantity?: number; sold?: boolean };

/**
 * Resolves fact lines to our SKUs (by the listing map, else by SKU when it is in the catalog) and
 * locations. A sale that does not say where it was fulfilled from (a web order on a channel with
 * several locations) is booked where the platform would have taken it: the first of the channel's
 * mapped locations, in config order, with the quantity available; else the first one.
 */
export async function resolveLines(
  tx: StoreOps,
  channel: ChannelConfig,
  lines: LineToResolve[],
): Promise<(line: LineToResolve) => { sku: string | null; location: string | null }> {
  const keyOf = (l: LineToResolve) => JSON.stringify([l.sku, l.ref.productId, l.ref.variantId, l.ref.inventoryItemId, l.locationId, l.sold ? (l.quantity ?? 0) : null]);
  const resolved = new Map<string, { sku: string | null; location: string | null }>();
  const mapped = Object.keys(channel.locations);
  for (const l of lines) {
    const k = keyOf(l);
    if (resolved.has(k)) continue;
    let sku: string | null = null;
    const listing = await tx.listings.forRef(channel.id, l.ref);
    if (listing) sku = listing.sku;
    else if (l.sku && (await tx.items.get(l.sku))) sku = l.sku;
    let location = ourLocation(channel, l.locationId);
    if (l.locationId === null && l.sold && sku && mapped.length > 1) {
      for (const ours of mapped) {
        const level = await tx.ledger.getLevel(sku, ours);
        if (level && level.onHand - level.reserved >= (l.quantity ?? 1)) {
          location = ours;
          break;
        }
      }
    }
    resolved.set(k, { sku, location });
  }
  return (l) => resolved.get(keyOf(l)) ?? { sku: null, location: null };
}
