/**
 * The connected channels: one connector per configured channel whose platform the hub supports,
 * plus the work every channel shares (catalog discovery, resolving a platform line to our SKU).
 */
import type { ChannelConfig } from '../config';
import { connectorFor } from '../connectors';
import { matchCatalog } from '../connectors/catalog';
import type { Connector, ConnectorDefinition, DiscoveryReport, FactLine } from '../connectors/types';
import type { StoreOps } from '../store/types';

export interface ConnectedChannel {
  config: ChannelConfig;
  connector: Connector;
}

export class ChannelRegistry {
  private readonly channels = new Map<string, ConnectedChannel>();

  constructor(configs: ChannelConfig[], opts: { fetch?: typeof fetch; clock?: () => Date; definitions?: ConnectorDefinition[] } = {}) {
    for (const config of configs) {
      const def = opts.definitions?.find((d) => d.platform === config.platform) ?? connectorFor(config.platform);
      if (!def) continue;
      const connector = def.create({
        channelId: config.id,
        baseUrl: config.baseUrl,
        settings: config.settings,
        credentials: config.credentials,
        ...(opts.fetch ? { fetch: opts.fetch } : {}),
        ...(opts.clock ? { clock: opts.clock } : {}),
      });
      this.channels.set(config.id, { config, connector });
    }
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
    const listings = await ch.connector.listCatalog(signal);
    const ours: string[] = [];
    for (let cursor: string | undefined; ; ) {
      const page = await store.listItems({ limit: 500, cursor, status: 'active' });
      ours.push(...page.map((i) => i.sku));
      if (page.length < 500) break;
      cursor = page.at(-1)!.sku;
    }
    const report = matchCatalog(ours, listings);
    await store.replaceListings(
      id,
      report.matched.map((m) => ({ sku: m.sku, productId: m.ref.productId, variantId: m.ref.variantId, inventoryItemId: m.ref.inventoryItemId ?? null, title: m.title })),
      now(),
    );
    return report;
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
    const listing = await tx.listingForRef(channel.id, l.ref);
    if (listing) sku = listing.sku;
    else if (l.sku && (await tx.getItem(l.sku))) sku = l.sku;
    let location = ourLocation(channel, l.locationId);
    if (l.locationId === null && l.sold && sku && mapped.length > 1) {
      for (const ours of mapped) {
        const level = await tx.getLevel(sku, ours);
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
