/**
 * The SQL store, for SQLite and PostgreSQL alike: the areas of `StoreOps` (one class each in ./sql/)
 * bound to one connection or transaction, and the façade that opens transactions and migrates.
 */
import { Migrator, sql, type Kysely } from 'kysely';
import type { Dialect } from './areas/common';
import { migrationProvider } from './migrations';
import type { Database } from './schema';
import { SqlAlerts } from './sql/alerts';
import { SqlChannelLevels } from './sql/channel-levels';
import { SqlConflicts } from './sql/conflicts';
import { Conn } from './sql/conn';
import { SqlCredentials } from './sql/credentials';
import { SqlFeeds } from './sql/feeds';
import { SqlHubState } from './sql/hub-state';
import { SqlInbox } from './sql/inbox';
import { SqlItems } from './sql/items';
import { SqlLedger } from './sql/ledger';
import { SqlListings } from './sql/listings';
import { SqlLocations } from './sql/locations';
import { SqlOrders } from './sql/orders';
import { SqlOutbox } from './sql/outbox';
import { SqlPlatformTokens } from './sql/platform-tokens';
import { SqlPurchaseOrders } from './sql/purchase-orders';
import { SqlReports } from './sql/reports';
import { SqlSupplierOrders } from './sql/supplier-orders';
import type { Store, StoreOps } from './types';

/** Every area, bound to one connection or one open transaction (`conn`). */
class SqlOps implements StoreOps {
  readonly dialect: Dialect;
  readonly locations: SqlLocations;
  readonly items: SqlItems;
  readonly ledger: SqlLedger;
  readonly inbox: SqlInbox;
  readonly outbox: SqlOutbox;
  readonly alerts: SqlAlerts;
  readonly listings: SqlListings;
  readonly channelLevels: SqlChannelLevels;
  readonly conflicts: SqlConflicts;
  readonly hubState: SqlHubState;
  readonly credentials: SqlCredentials;
  readonly platformTokens: SqlPlatformTokens;
  readonly feeds: SqlFeeds;
  readonly orders: SqlOrders;
  readonly purchaseOrders: SqlPurchaseOrders;
  readonly supplierOrders: SqlSupplierOrders;
  readonly reports: SqlReports;

  constructor(protected readonly conn: Conn) {
    this.dialect = conn.dialect;
    this.locations = new SqlLocations(conn);
    this.items = new SqlItems(conn);
    this.ledger = new SqlLedger(conn);
    this.inbox = new SqlInbox(conn);
    this.outbox = new SqlOutbox(conn);
    this.alerts = new SqlAlerts(conn);
    this.listings = new SqlListings(conn);
    this.channelLevels = new SqlChannelLevels(conn);
    this.conflicts = new SqlConflicts(conn);
    this.hubState = new SqlHubState(conn);
    this.credentials = new SqlCredentials(conn);
    this.platformTokens = new SqlPlatformTokens(conn);
    this.feeds = new SqlFeeds(conn);
    this.orders = new SqlOrders(conn);
    this.purchaseOrders = new SqlPurchaseOrders(conn);
    this.supplierOrders = new SqlSupplierOrders(conn);
    this.reports = new SqlReports(conn);
  }
}

/** PostgreSQL: a schema (3F000) or table (42P01) that disappeared while the catalog was being read. */
function isVanishedObject(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '3F000' || code === '42P01';
}

export class SqlStore extends SqlOps implements Store {
  constructor(
    db: Kysely<Database>,
    dialect: Dialect,
    private readonly description: string,
    /** PostgreSQL: the schema the store lives in, so the migrator never mistakes another schema's tables for ours. */
    private readonly schema?: string,
  ) {
    super(new Conn(db, dialect));
  }

  private get db(): Kysely<Database> {
    return this.conn.db;
  }

  async migrate(): Promise<void> {
    const migrator = new Migrator({ db: this.db, provider: migrationProvider(this.conn.dialect), ...(this.schema ? { migrationTableSchema: this.schema } : {}) });
    let { error, results } = await migrator.migrateToLatest();
    // Kysely looks for its own tables across every schema of the database; another application
    // dropping one of its schemas at that very moment makes the lookup fail (undefined schema or
    // table). Nothing of ours ran: look again.
    for (let tries = 0; error && tries < 3 && isVanishedObject(error); tries++) {
      await new Promise((r) => setTimeout(r, 50 * (tries + 1)));
      ({ error, results } = await migrator.migrateToLatest());
    }
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`Database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    return this.conn.inTx((c) => fn(c === this.conn ? this : new SqlOps(c)));
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  describe(): string {
    return this.description;
  }
}
