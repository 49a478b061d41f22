/**
 * A simulation scenario is a pure function of its seed and its channels: the catalog, the opening
 * stock and the whole list of operations are drawn before anything runs. Operations refer to things
 * by position (the k-th sale made on a channel) and are skipped when they no longer make sense (a
 * shrunk list), so any sub-list of a scenario is itself a valid scenario.
 *
 * The channels come from the connector registry (channels.ts): one per platform, named by its
 * sandbox channel id (`shopify`, `square`, `woocommerce`), with the locations of ours it publishes.
 * Nothing here names a platform.
 */
import { Prng } from './prng';

export const LOCATIONS = ['gallery', 'warehouse'] as const;
export type LocationId = (typeof LOCATIONS)[number];
/** A channel's id in the simulation: its platform's sandbox channel id (`shopify`, `woocommerce`). */
export type ChannelId = string;

/** One channel a scenario can act on: its id and the locations of ours it publishes (in `LOCATIONS` order). */
export interface SimChannel {
  id: ChannelId;
  locations: readonly LocationId[];
}

export interface WebhookFaultMode {
  /** Probability a webhook is never sent (the emulator's `faults.webhooks.drop`). */
  drop: number;
  /** Probability a webhook is sent twice (`faults.webhooks.duplicate`). */
  duplicate: number;
  /** Webhooks held and sent in reverse order, this many at a time (`faults.webhooks.reorderWindow`; 0: off). */
  reorderWindow: number;
  /** Probability the harness holds a webhook back and delivers it a few operations later. */
  delay: number;
}

/** Every operation comes `dt` ms of virtual time after the one before (people are not 1 ms apart). */
export type Op = { dt?: number } & OpBody;

type OpBody =
  /** A sale made on the platform (its POS or web store), of `qty` at our location `loc`; skipped when the channel shows less. */
  | { op: 'sell'; channel: ChannelId; sku: string; loc: LocationId; qty: number }
  /** A refund of the k-th sale made on `channel` (modulo the number made), with or without restock. */
  | { op: 'refund'; channel: ChannelId; sale: number; restock: boolean; partial: boolean }
  /** Stock booked through a signed relay (a receipt, a loss…): a delta, valid at any time. */
  | { op: 'adjust'; sku: string; loc: LocationId; qty: number; reason: 'receipt' | 'adjustment' | 'restock' }
  /** After quiescence: a staff edit of on-hand in the sheet (cell_edit, with the old value the sheet showed; `stale` sends a wrong old value, which must become a conflict). */
  | { op: 'sheetEdit'; sku: string; loc: LocationId; counted: number; stale: boolean }
  /** After quiescence: a stock count relayed by the add-on (kind count, absolute). */
  | { op: 'count'; sku: string; loc: LocationId; counted: number }
  /** After quiescence: someone types a level into the platform's own dashboard. */
  | { op: 'platformCount'; channel: ChannelId; sku: string; loc: LocationId; counted: number }
  /** Webhook faults of one platform from now on. */
  | { op: 'webhookFaults'; channel: ChannelId; mode: WebhookFaultMode }
  /** The next `count` API calls of the platform answer 429 with Retry-After. */
  | { op: 'rateLimit'; channel: ChannelId; count: number; retryAfterSeconds: number }
  /** The next `calls` API calls of the platform answer 5xx (an outage). */
  | { op: 'outage'; channel: ChannelId; calls: number }
  /** Time passes (attribution windows end, retries come due). */
  | { op: 'advance'; ms: number }
  /** Webhooks the harness held back are delivered now (in the order they were held, or reversed). */
  | { op: 'release'; reverse: boolean }
  /**
   * The engine crashes and is reopened on the same data:
   * - `ingest`: the pending webhooks are acknowledged (stored) and the hub dies before booking them;
   * - `booking`: it dies inside the booking transaction of the `at`-th event it processes next;
   * - `push`: it dies right after `channel` applied a push and before the hub recorded it.
   */
  | { op: 'crash'; kind: 'ingest' | 'booking' | 'push'; at: number; channel: ChannelId }
  /** Everything delivered, time let pass until nothing is due, one reconciliation, and the invariants checked. */
  | { op: 'quiesce' };

export interface Scenario {
  seed: number;
  /** The channels it runs over, in registry order; operations name only these. */
  channels: SimChannel[];
  skus: string[];
  /** Opening stock per SKU and location. */
  stock: Record<string, Record<LocationId, number>>;
  ops: Op[];
}

export interface ScenarioOptions {
  /** Operations to draw (besides the quiescence points the generator inserts). */
  ops?: number;
  skus?: number;
}

const NO_FAULTS: WebhookFaultMode = { drop: 0, duplicate: 0, reorderWindow: 0, delay: 0 };

/**
 * The scenario of `seed` over `channels`. The draws depend on the channels' number and order only
 * through `pick`, so the same seed over the same channels is the same scenario on every machine.
 */
export function generate(seed: number, channels: readonly SimChannel[], opts: ScenarioOptions = {}): Scenario {
  if (channels.length === 0) throw new Error('A simulation scenario needs at least one channel.');
  for (const c of channels) {
    if (c.locations.length === 0) throw new Error(`Channel ${c.id} publishes none of our locations (${LOCATIONS.join(', ')}); the simulation cannot sell there.`);
  }
  const r = new Prng(seed, 1);
  const nSkus = opts.skus ?? r.int(2, 3);
  const skus = Array.from({ length: nSkus }, (_, i) => `SIM-${i + 1}`);
  const stock: Scenario['stock'] = {};
  for (const sku of skus) stock[sku] = { gallery: r.int(0, 4), warehouse: r.int(0, 5) };
  const total = opts.ops ?? r.int(20, 40);
  const ops: Op[] = [];
  const sku = () => r.pick(skus);
  const pickChannel = () => r.pick(channels);
  const channel = () => pickChannel().id;
  // How rough this run is: some seeds are calm, some stormy.
  const storm = r.next();
  const faultMode = (): WebhookFaultMode =>
    r.chance(0.25 + storm * 0.5)
      ? {
          drop: r.chance(0.5) ? r.pick([0.1, 0.25, 0.5]) : 0,
          duplicate: r.chance(0.5) ? r.pick([0.2, 0.5]) : 0,
          reorderWindow: r.chance(0.5) ? r.pick([2, 3, 5]) : 0,
          delay: r.chance(0.5) ? r.pick([0.2, 0.4]) : 0,
        }
      : NO_FAULTS;
  for (const c of channels) ops.push({ op: 'webhookFaults', channel: c.id, mode: faultMode() });

  for (let i = 0; i < total; i++) {
    const kind = r.weighted<Op['op']>([
      ['sell', 34],
      ['refund', 8],
      ['adjust', 7],
      ['sheetEdit', 3],
      ['count', 2],
      ['platformCount', 2],
      ['webhookFaults', 4],
      ['rateLimit', 3],
      ['outage', 3],
      ['advance', 7],
      ['release', 5],
      ['crash', 4],
      ['quiesce', 4],
    ]);
    // Think time before it: mostly a moment, sometimes seconds (longer than an attribution window).
    const dt = r.weighted<[number, number]>([
      [[20, 300], 6],
      [[300, 1500], 3],
      [[1500, 4000], 1],
    ]);
    const at = ops.length;
    switch (kind) {
      case 'sell': {
        const c = pickChannel();
        ops.push({ op: 'sell', channel: c.id, sku: sku(), loc: r.pick(c.locations), qty: r.weighted([[1, 6], [2, 2], [3, 1]]) });
        break;
      }
      case 'refund':
        ops.push({ op: 'refund', channel: channel(), sale: r.int(0, 7), restock: r.chance(0.6), partial: r.chance(0.25) });
        break;
      case 'adjust':
        ops.push({ op: 'adjust', sku: sku(), loc: r.pick(LOCATIONS), qty: r.pick([-2, -1, 1, 2, 3, 5]), reason: r.pick(['receipt', 'adjustment', 'restock'] as const) });
        break;
      case 'sheetEdit':
        ops.push({ op: 'sheetEdit', sku: sku(), loc: r.pick(LOCATIONS), counted: r.int(0, 6), stale: r.chance(0.3) });
        break;
      case 'count':
        ops.push({ op: 'count', sku: sku(), loc: r.pick(LOCATIONS), counted: r.int(0, 6) });
        break;
      case 'platformCount': {
        const c = pickChannel();
        ops.push({ op: 'platformCount', channel: c.id, sku: sku(), loc: r.pick(c.locations), counted: r.int(0, 6) });
        break;
      }
      case 'webhookFaults':
        ops.push({ op: 'webhookFaults', channel: channel(), mode: faultMode() });
        break;
      case 'rateLimit':
        ops.push({ op: 'rateLimit', channel: channel(), count: r.int(1, 3), retryAfterSeconds: r.int(1, 3) });
        break;
      case 'outage':
        ops.push({ op: 'outage', channel: channel(), calls: r.int(1, 8) });
        break;
      case 'advance':
        ops.push({ op: 'advance', ms: r.pick([50, 300, 1_000, 2_500, 6_000]) });
        break;
      case 'release':
        ops.push({ op: 'release', reverse: r.chance(0.5) });
        break;
      case 'crash':
        ops.push({ op: 'crash', kind: r.pick(['ingest', 'booking', 'push'] as const), at: r.int(1, 3), channel: channel() });
        break;
      case 'quiesce':
        ops.push({ op: 'quiesce' });
        break;
    }
    if (ops.length > at) ops[at]!.dt = r.int(dt[0], dt[1]);
  }
  return { seed, channels: channels.map((c) => ({ id: c.id, locations: [...c.locations] })), skus, stock, ops };
}

/** One line per operation, for a failing seed's report. */
export function describeOp(op: Op): string {
  const { op: name, dt, ...rest } = op;
  return `${dt !== undefined ? `+${dt}ms ` : ''}${name} ${JSON.stringify(rest)}`;
}
