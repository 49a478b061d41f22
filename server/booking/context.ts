/**
 * What every handler of the booking engine works with: the hub's settings and parts it needs
 * (`BookingDeps`, one per engine) and what one event's booking gathers as it goes (`BookingContext`,
 * one per event, inside that event's transaction).
 */
import type { Announcer } from '../announce';
import type { ChannelRegistry } from '../channels/registry';
import type { HubConfig } from '../config';
import type { Movement } from '../core/ledger';
import type { Metrics } from '../metrics';
import type { StoreOps } from '../store/types';

export type BookingConfig = Pick<HubConfig, 'defaultLocation' | 'channels' | 'notify' | 'defaultLowStockThreshold'> &
  Partial<Pick<HubConfig, 'orders' | 'purchaseOrders' | 'supplierOrders'>> & { attributionWindowMs?: number; fetchTimeoutMs?: number };

export type OrdersConfig = Pick<HubConfig, 'orders' | 'purchaseOrders' | 'supplierOrders'>;

const DEFAULT_ORDERS: OrdersConfig = {
  orders: { currencies: [], keepContactDetails: false },
  purchaseOrders: { onShort: 'waitlist', customers: {} },
  supplierOrders: { onDelay: 'keep_listed' },
};

/** The hub's parts booking uses; the same for every event. */
export interface BookingDeps {
  config: BookingConfig;
  channels: ChannelRegistry | null;
  /** The one way to tell the sheet, Airtable and the notification webhooks (server/announce.ts). */
  announcer: Announcer;
  metrics: Metrics;
  clock: () => Date;
  /** What a sync request asking for a reconciliation calls, after its booking commits (docs/reconcile.md). */
  reconcileRequested: (() => void) | null;
}

/** An item and location whose numbers may have changed; `raised`: some stock became available. */
export interface Touched {
  sku: string;
  location: string;
  raised?: boolean;
}

/** One event's booking, in its transaction. */
export interface BookingContext {
  readonly deps: BookingDeps;
  readonly tx: StoreOps;
  readonly eventId: number;
  /** The time of this booking (ISO 8601): every row it writes carries it. */
  readonly now: string;
  /** Every item × location whose numbers may have changed: followed up once, at the end (./follow-up.ts). */
  readonly touched: Map<string, Touched>;
  /** The movements this event booked or found booked, by idempotency key (for the transaction log). */
  readonly booked: Map<string, Movement>;
}

export function bookingContext(deps: BookingDeps, tx: StoreOps, eventId: number): BookingContext {
  return { deps, tx, eventId, now: deps.clock().toISOString(), touched: new Map(), booked: new Map() };
}

/** The order desks' settings, with their defaults. */
export function ordersConfig(config: BookingConfig): OrdersConfig {
  return { orders: config.orders ?? DEFAULT_ORDERS.orders, purchaseOrders: config.purchaseOrders ?? DEFAULT_ORDERS.purchaseOrders, supplierOrders: config.supplierOrders ?? DEFAULT_ORDERS.supplierOrders };
}

/** Marks an item at a location for the follow-up; `raised` once stays raised. */
export function touch(ctx: BookingContext, sku: string, location: string, raised = false): void {
  const key = `${sku}\u0000${location}`;
  ctx.touched.set(key, { sku, location, raised: raised || (ctx.touched.get(key)?.raised ?? false) });
}

/** Marks an item at every location it has stock records at (a detail of the item changed). */
export async function touchItem(ctx: BookingContext, sku: string): Promise<void> {
  for (const l of await ctx.tx.ledger.levelsFor([sku])) ctx.touched.set(`${sku}\u0000${l.locationId}`, { sku, location: l.locationId });
}

/** How long a channel level discrepancy waits for the order or refund that explains it (docs/attribution.md). */
export const attributionWindowMs = (config: BookingConfig): number => config.attributionWindowMs ?? 15_000;
