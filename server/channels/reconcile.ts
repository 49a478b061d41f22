/**
 * Reconciliation (docs/reconcile.md): read every channel's levels back, compare them with the
 * published levels, explain each difference and act on it by the channel's policy — or, in a dry
 * run, only say what would be done.
 */
import crypto from 'node:crypto';
import { publishedLevel } from '../core/ledger';
import { Announcer, type AlertInput } from '../announce';
import type { Store } from '../store/types';
import { activeSkus, type ChannelRegistry, type ConnectedChannel } from './registry';
import { changedOnChannelSince, strayLevels } from '../core/attribution';

export type Explanation = 'push_pending' | 'awaiting_explanation' | 'failed_push' | 'missed_push' | 'external_change' | 'unreadable';
export type Action = 'none' | 'push' | 'adopt' | 'flag';

export interface Difference {
  sku: string;
  location: string;
  /** What the channel shows (null when it gave no level for this item there). */
  channelShows: number | null;
  published: number;
  /** What the hub believed the channel shows. */
  expected: number | null;
  explanation: Explanation;
  action: Action;
}

export interface ChannelReport {
  channelId: string;
  name: string;
  checked: number;
  differences: Difference[];
  /** Catalog items the channel does not list. */
  notListed: string[];
  error: string | null;
}

export interface ReconcileReport {
  runId: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  channels: ChannelReport[];
}

export interface ReconcileDeps {
  store: Store;
  channels: ChannelRegistry;
  clock: () => Date;
  /** Wakes the processor and the dispatcher after work was queued. */
  wake: () => void;
  /** Raises an alert through the hub's one way to announce (server/announce.ts); without it, the alert is only opened. */
  raiseAlert?: (alert: AlertInput) => Promise<void>;
}

const pushKey = (channelId: string, sku: string, location: string) => `push:${channelId}:${sku}:${location}`;

export async function reconcile(deps: ReconcileDeps, opts: { channelId?: string | undefined; dryRun?: boolean | undefined } = {}): Promise<ReconcileReport> {
  const dryRun = opts.dryRun ?? false;
  const runId = `${deps.clock().toISOString()}-${crypto.randomBytes(3).toString('hex')}`;
  const startedAt = deps.clock().toISOString();
  const channels = deps.channels.all().filter((c) => opts.channelId === undefined || c.config.id === opts.channelId);
  const reports: ChannelReport[] = [];
  for (const ch of channels) reports.push(await reconcileChannel(deps, ch, runId, dryRun));
  if (!dryRun) deps.wake();
  return { runId, dryRun, startedAt, finishedAt: deps.clock().toISOString(), channels: reports };
}

async function reconcileChannel(deps: ReconcileDeps, ch: ConnectedChannel, runId: string, dryRun: boolean): Promise<ChannelReport> {
  const { store } = deps;
  const cfg = ch.config;
  const report: ChannelReport = { channelId: cfg.id, name: cfg.name, checked: 0, differences: [], notListed: [], error: null };
  const listings = await store.listings.list(cfg.id);
  const listed = new Set(listings.map((l) => l.sku));
  report.notListed = (await activeSkus(store)).filter((s) => !listed.has(s));
  const size = Math.max(1, ch.connector.capabilities.maxBatch);
  const wanted = wantedReadings(listings, cfg);
  for (let i = 0; i < wanted.length; i += size) {
    const slice = wanted.slice(i, i + size);
    let readings;
    try {
      readings = await ch.connector.read(
        slice.map((w) => w.item),
        AbortSignal.timeout(30_000),
      );
    } catch (err) {
      report.error = `${cfg.name} could not be read: ${(err as Error).message}`;
      return report;
    }
    const levels = await store.ledger.levelsFor([...new Set(slice.map((w) => w.sku))]);
    for (const w of slice) {
      report.checked++;
      const level = levels.find((l) => l.sku === w.sku && l.locationId === w.location) ?? { onHand: 0, reserved: 0 };
      const published = publishedLevel(level, { buffer: cfg.buffer, cap: cfg.cap });
      const shows = readings.find((r) => r.sku === w.sku && r.locationId === w.item.locationId)?.available ?? null;
      await checkListing(deps, cfg, w, { shows, published }, runId, dryRun, report);
    }
  }
  return report;
}

type Listing = Awaited<ReturnType<Store['listings']['list']>>[number];
type Wanted = ReturnType<typeof wantedReadings>[number];
type ChannelConfig = ConnectedChannel['config'];

/** Every listing at every location the channel maps: what to read back, by our names and the platform's. */
function wantedReadings(listings: Listing[], cfg: ChannelConfig) {
  const locations = Object.entries(cfg.locations);
  return listings.flatMap((l) =>
    locations.map(([ours, theirs]) => ({
      sku: l.sku,
      location: ours,
      item: { sku: l.sku, ref: { productId: l.productId, variantId: l.variantId, ...(l.inventoryItemId ? { inventoryItemId: l.inventoryItemId } : {}) }, locationId: theirs },
    })),
  );
}

/** One listing read back: a match resolves its drift alert; a difference is explained, reported and acted on. */
async function checkListing(deps: ReconcileDeps, cfg: ChannelConfig, w: Wanted, seen: { shows: number | null; published: number }, runId: string, dryRun: boolean, report: ChannelReport): Promise<void> {
  const { store } = deps;
  const { shows, published } = seen;
  const now = () => deps.clock().toISOString();
  const known = await store.channelLevels.get(cfg.id, w.sku, w.location);
  if (shows === published) {
    if (!dryRun) await store.alerts.resolve(w.sku, w.location, [`drift:${cfg.id}`], now());
    return;
  }
  const explanation = await explain(store, cfg, w, shows, known, now());
  let action: Action = 'none';
  if (explanation === 'failed_push' || explanation === 'missed_push') action = 'push';
  else if (explanation === 'external_change') action = cfg.reconcile === 'correct' ? 'push' : cfg.reconcile === 'adopt' ? 'adopt' : 'flag';
  report.differences.push({ sku: w.sku, location: w.location, channelShows: shows, published, expected: known?.expected ?? null, explanation, action });
  if (dryRun) return;

  if (action === 'push') {
    // What we read is what the channel shows now: the push compares against it, not our old belief.
    if (shows !== null) await store.channelLevels.update(cfg.id, w.sku, w.location, { expected: shows, observed: shows, observedAt: now() });
    await store.outbox.enqueue({ sink: `channel:${cfg.id}`, topic: 'level.push', coalesceKey: pushKey(cfg.id, w.sku, w.location), payload: { sku: w.sku, location: w.location, level: published } }, now());
  } else if (action === 'adopt' && shows !== null) {
    // Treated as a level the channel reported: the attribution window, a confirming read, then booked once.
    await store.inbox.insert(
      {
        dedupeKey: `engine:reconcile:${runId}:${cfg.id}:${w.sku}:${w.location}`,
        source: 'engine',
        kind: 'reconcile_observed',
        headers: {},
        body: JSON.stringify({ channelId: cfg.id, sku: w.sku, location: w.location, level: shows }),
      },
      now(),
    );
  }
  if (explanation !== 'push_pending' && explanation !== 'awaiting_explanation') {
    await raiseAlert(deps, {
      kind: `drift:${cfg.id}`,
      severity: 'warning',
      sku: w.sku,
      locationId: w.location,
      channelId: cfg.id,
      message: `${cfg.name} shows ${shows ?? 'no level'} for ${w.sku} at ${w.location} where ${published} is published (${EXPLAIN[explanation]}); ${ACT[action]}.`,
    });
  }
}

/** Through the hub's one way to announce (server/announce.ts); without it, the alert is only opened. */
async function raiseAlert(deps: ReconcileDeps, a: AlertInput): Promise<void> {
  if (deps.raiseAlert) return deps.raiseAlert(a);
  await deps.store.transaction((tx) => new Announcer([]).raise(tx, a, deps.clock().toISOString()));
}

/** Why the channel shows something other than the published level (docs/reconcile.md). */
async function explain(store: Store, cfg: ChannelConfig, w: Wanted, shows: number | null, known: Awaited<ReturnType<Store['channelLevels']['get']>>, now: string): Promise<Explanation> {
  const last = await store.outbox.latestFor(pushKey(cfg.id, w.sku, w.location));
  if (shows === null) return 'unreadable';
  if (last && (last.status === 'pending' || last.status === 'working')) return 'push_pending';
  if (known?.pendingSince) return 'awaiting_explanation';
  if (last?.status === 'dead') return 'failed_push';
  // Showing what we last pushed is a missed push only if the channel did not change on its own since.
  if (known && (shows === known.expected || (shows === known.pushed && !changedOnChannelSince(await store.ledger.listMovements(w.sku, { limit: 50 }), cfg.id, w.location, known.pushedAt)))) return 'missed_push';
  // An earlier update of ours, never answered, that the platform applied after a later one.
  if (known && strayLevels(known, now).includes(shows)) return 'missed_push';
  return 'external_change';
}

const EXPLAIN: Record<Explanation, string> = {
  push_pending: 'an update is on its way',
  awaiting_explanation: 'it reported this level and the hub is waiting for the order that explains it',
  failed_push: 'our last update to it failed',
  missed_push: 'it shows what we last sent, and a later update did not reach it',
  external_change: 'changed on the platform: a sale whose notice was lost, or an edit there',
  unreadable: 'it gave no level for this item there',
};

const ACT: Record<Action, string> = {
  none: 'nothing to do',
  push: 'our number is sent again',
  adopt: 'its number is taken as an adjustment from the channel after the attribution window',
  flag: 'flagged only, by the channel’s policy',
};
