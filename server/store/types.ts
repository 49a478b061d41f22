/**
 * Everything the hub does with its data, by area: `tx.inbox.claim()`, `tx.outbox.enqueue()`,
 * `tx.ledger.book()`... Each area's records and operations are in ./areas/; this module composes
 * them and re-exports their types, so callers import from here. Both stores implement it (./sql/,
 * ./sql-store.ts); the conformance suite (test/store/conformance.ts) checks both, area by area.
 */
import type { AlertsOps } from './areas/alerts';
import type { ChannelLevelsOps } from './areas/channel-levels';
import type { Dialect } from './areas/common';
import type { ConflictsOps } from './areas/conflicts';
import type { CredentialsOps } from './areas/credentials';
import type { FeedsOps } from './areas/feeds';
import type { HubStateOps } from './areas/hub-state';
import type { InboxOps } from './areas/inbox';
import type { ItemsOps } from './areas/items';
import type { LedgerOps } from './areas/ledger';
import type { ListingsOps } from './areas/listings';
import type { LocationsOps } from './areas/locations';
import type { OrdersOps } from './areas/orders';
import type { OutboxOps } from './areas/outbox';
import type { PlatformTokensOps } from './areas/platform-tokens';
import type { PurchaseOrdersOps } from './areas/purchase-orders';
import type { ReportsOps } from './areas/reports';
import type { SupplierOrdersOps } from './areas/supplier-orders';

export type * from './areas/alerts';
export type * from './areas/channel-levels';
export type * from './areas/common';
export type * from './areas/conflicts';
export type * from './areas/credentials';
export * from './areas/feeds';
export type * from './areas/hub-state';
export type * from './areas/inbox';
export type * from './areas/items';
export type * from './areas/ledger';
export type * from './areas/listings';
export type * from './areas/locations';
export type * from './areas/orders';
export type * from './areas/outbox';
export type * from './areas/platform-tokens';
export type * from './areas/purchase-orders';
export type * from './areas/reports';
export type * from './areas/supplier-orders';

/**
 * The store's areas, bound to one connection or one open transaction: inside `store.transaction`,
 * every area of `tx` books in that transaction, so a booking, its inbox entry, its outbox rows and
 * its order log commit together.
 */
export interface StoreOps {
  readonly dialect: Dialect;
  /** Locations from the config file. */
  readonly locations: LocationsOps;
  /** The catalog's items and their settings. */
  readonly items: ItemsOps;
  /** Movements and the stock levels projected from them (docs/ledger.md). */
  readonly ledger: LedgerOps;
  /** Inbound events, claimed and booked in order (docs/inbox-outbox.md). */
  readonly inbox: InboxOps;
  /** Deliveries to sinks, leased and coalesced (docs/inbox-outbox.md). */
  readonly outbox: OutboxOps;
  readonly alerts: AlertsOps;
  /** Each channel's SKU → listing map. */
  readonly listings: ListingsOps;
  /** What each channel was pushed and showed, and open discrepancies (docs/attribution.md). */
  readonly channelLevels: ChannelLevelsOps;
  /** Sheet edits waiting for a decision (docs/conflicts.md). */
  readonly conflicts: ConflictsOps;
  /** Small named records kept between runs. */
  readonly hubState: HubStateOps;
  /** Credentials of sources other than the admin (docs/security.md). */
  readonly credentials: CredentialsOps;
  /** Channels' sealed OAuth tokens (docs/credentials-oauth.md). */
  readonly platformTokens: PlatformTokensOps;
  /** Polled feeds' cursors and turns (docs/polling.md). */
  readonly feeds: FeedsOps;
  /** The channel sales log (docs/orders.md). */
  readonly orders: OrdersOps;
  /** Purchase orders from customers (docs/orders.md). */
  readonly purchaseOrders: PurchaseOrdersOps;
  /** Orders to suppliers (docs/orders.md). */
  readonly supplierOrders: SupplierOrdersOps;
  /** Read-only audits and reports over the ledger and the sales log. */
  readonly reports: ReportsOps;
}

export interface Store extends StoreOps {
  migrate(): Promise<void>;
  /** Runs `fn` in one database transaction; everything it books commits or rolls back together. */
  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** A short description for logs, without credentials. */
  describe(): string;
}
