import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './types';

/**
 * Versioned migrations, one list for both stores. A migration never changes once released: add a
 * new one. Kysely's Migrator records which ran (table `kysely_migration`) and runs them in a lock.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;

function migrations(dialect: Dialect): Record<string, Migration> {
  const idColumn = (db: AnyDb, table: string) =>
    dialect === 'postgres'
      ? db.schema.createTable(table).addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
      : db.schema.createTable(table).addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  return {
    '0001_ledger_inbox_outbox': {
      async up(db: AnyDb) {
        await db.schema
          .createTable('locations')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('created_at', 'text', (c) => c.notNull())
          .execute();

        await db.schema
          .createTable('items')
          .addColumn('sku', 'text', (c) => c.primaryKey())
          .addColumn('title', 'text')
          .addColumn('low_stock_threshold', 'integer')
          .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'archived')`))
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('archived_at', 'text')
          .execute();

        await idColumn(db, 'movements')
          .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
          .addColumn('sku', 'text', (c) => c.notNull().references('items.sku'))
          .addColumn('location_id', 'text', (c) => c.notNull().references('locations.id'))
          .addColumn('quantity', 'integer', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('channel_id', 'text')
          .addColumn('external_ref', 'text')
          .addColumn('counted_quantity', 'integer')
          .addColumn('actor', 'text')
          .addColumn('note', 'text')
          .addColumn('event_id', 'bigint')
          .addColumn('occurred_at', 'text', (c) => c.notNull())
          .addColumn('recorded_at', 'text', (c) => c.notNull())
          .addCheckConstraint('movements_quantity_nonzero', sql`quantity <> 0 or reason = 'count'`)
          .addCheckConstraint('movements_count_recorded', sql`reason <> 'count' or counted_quantity >= 0`)
          .execute();
        await sql`create index movements_by_item on movements (sku, id)`.execute(db);
        await sql`create index movements_by_event on movements (event_id)`.execute(db);

        await db.schema
          .createTable('stock_levels')
          .addColumn('sku', 'text', (c) => c.notNull().references('items.sku'))
          .addColumn('location_id', 'text', (c) => c.notNull().references('locations.id'))
          .addColumn('on_hand', 'integer', (c) => c.notNull())
          .addColumn('reserved', 'integer', (c) => c.notNull())
          .addColumn('last_movement_id', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('stock_levels_pk', ['sku', 'location_id'])
          .execute();

        await idColumn(db, 'inbox')
          .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('headers', 'text', (c) => c.notNull())
          .addColumn('body', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('outcome', 'text')
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('received_at', 'text', (c) => c.notNull())
          .addColumn('processed_at', 'text')
          .execute();
        await sql`create index inbox_by_status on inbox (status, id)`.execute(db);

        await idColumn(db, 'outbox')
          .addColumn('sink', 'text', (c) => c.notNull())
          .addColumn('topic', 'text', (c) => c.notNull())
          .addColumn('coalesce_key', 'text')
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', 'text', (c) => c.notNull())
          .addColumn('locked_until', 'text')
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        await sql`create index outbox_due on outbox (status, next_attempt_at, id)`.execute(db);
        // One pending row per coalesce key: a newer booking replaces the payload of the waiting row.
        await sql`create unique index outbox_one_pending_per_key on outbox (coalesce_key) where status = 'pending'`.execute(db);

        await idColumn(db, 'alerts')
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('severity', 'text', (c) => c.notNull())
          .addColumn('sku', 'text')
          .addColumn('location_id', 'text')
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('opened_at', 'text', (c) => c.notNull())
          .addColumn('resolved_at', 'text')
          .execute();
        await sql`create index alerts_by_status on alerts (status, id)`.execute(db);

        // Movements are append-only: no code path may update or delete one, and the database refuses too.
        const refusal = 'movements are append-only: book a correcting movement instead';
        if (dialect === 'postgres') {
          await sql
            .raw(
              `create function stockrelay_movements_append_only() returns trigger language plpgsql as $$
               begin raise exception '${refusal}'; end $$`,
            )
            .execute(db);
          await sql`create trigger movements_append_only before update or delete on movements
                    for each row execute function stockrelay_movements_append_only()`.execute(db);
          await sql`create trigger movements_no_truncate before truncate on movements
                    for each statement execute function stockrelay_movements_append_only()`.execute(db);
        } else {
          await sql
            .raw(`create trigger movements_no_update before update on movements begin select raise(abort, '${refusal}'); end`)
            .execute(db);
          await sql
            .raw(`create trigger movements_no_delete before delete on movements begin select raise(abort, '${refusal}'); end`)
            .execute(db);
        }
      },
    },
    '0002_channel_listings_and_levels': {
      async up(db: AnyDb) {
        // Which platform listing stands for which SKU on each channel, found by catalog discovery.
        await db.schema
          .createTable('channel_listings')
          .addColumn('channel_id', 'text', (c) => c.notNull())
          .addColumn('sku', 'text', (c) => c.notNull())
          .addColumn('product_id', 'text', (c) => c.notNull())
          .addColumn('variant_id', 'text', (c) => c.notNull())
          .addColumn('inventory_item_id', 'text')
          .addColumn('title', 'text', (c) => c.notNull())
          .addColumn('hidden', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('channel_listings_pk', ['channel_id', 'sku'])
          .execute();
        await sql`create index channel_listings_by_variant on channel_listings (channel_id, variant_id)`.execute(db);
        await sql`create index channel_listings_by_inventory_item on channel_listings (channel_id, inventory_item_id)`.execute(db);

        // What we last pushed to, and last saw on, each channel per item and location.
        await db.schema
          .createTable('channel_levels')
          .addColumn('channel_id', 'text', (c) => c.notNull())
          .addColumn('sku', 'text', (c) => c.notNull())
          .addColumn('location_id', 'text', (c) => c.notNull())
          .addColumn('pushed', 'integer')
          .addColumn('pushed_at', 'text')
          .addColumn('observed', 'integer')
          .addColumn('observed_at', 'text')
          .addPrimaryKeyConstraint('channel_levels_pk', ['channel_id', 'sku', 'location_id'])
          .execute();
      },
    },
    '0003_alert_channel': {
      async up(db: AnyDb) {
        // Alerts about a channel as a whole (failing, suspended) name it; stock alerts leave it null.
        await db.schema.alterTable('alerts').addColumn('channel_id', 'text').execute();
      },
    },
    '0004_channel_level_attribution': {
      async up(db: AnyDb) {
        // What the hub believes each channel shows, the newest observation by the platform's clock,
        // an open discrepancy, and unexplained drift already booked (docs/attribution.md).
        await db.schema.alterTable('channel_levels').addColumn('expected', 'integer').execute();
        await db.schema.alterTable('channel_levels').addColumn('observed_platform_at', 'text').execute();
        await db.schema.alterTable('channel_levels').addColumn('pending_since', 'text').execute();
        await db.schema.alterTable('channel_levels').addColumn('drift', 'integer', (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.alterTable('channel_levels').addColumn('drift_through', 'text').execute();
        await sql`create index channel_levels_pending on channel_levels (pending_since)`.execute(db);
      },
    },
    '0005_channel_level_booked_delta': {
      async up(db: AnyDb) {
        // The running sum of the stock changes booked from each channel at each location (its sales
        // and restocks): a push's answer is recorded as the level pushed plus what the channel sold
        // while the push was on its way (docs/attribution.md, "A push and a sale crossing").
        await db.schema.alterTable('channel_levels').addColumn('booked_delta', 'integer', (c) => c.notNull().defaultTo(0)).execute();
        // A push on its way: the level sent and booked_delta then, written before the request and
        // cleared by a definite answer. If the answer is lost (a crash, a timeout) and the channel then
        // reports exactly that level, the push landed: nothing to book (docs/attribution.md).
        await db.schema.alterTable('channel_levels').addColumn('pushing', 'integer').execute();
        await db.schema.alterTable('channel_levels').addColumn('pushing_booked_delta', 'integer').execute();
      },
    },
    '0006_conflicts': {
      async up(db: AnyDb) {
        // A sheet edit whose old value no longer matched the hub: kept, with both numbers, until
        // someone accepts or rejects it (docs/conflicts.md). `key` is the edit's own booking key.
        await idColumn(db, 'conflicts')
          .addColumn('key', 'text', (c) => c.notNull().unique())
          .addColumn('event_id', 'bigint')
          .addColumn('sku', 'text', (c) => c.notNull())
          .addColumn('location_id', 'text', (c) => c.notNull())
          .addColumn('sheet_showed', 'integer')
          .addColumn('typed', 'integer', (c) => c.notNull())
          .addColumn('hub_had', 'integer', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('actor', 'text')
          .addColumn('edited_at', 'text', (c) => c.notNull())
          .addColumn('found_at', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'accepted', 'rejected')`))
          .addColumn('resolved_at', 'text')
          .addColumn('resolved_by', 'text')
          .addColumn('movement_id', 'bigint')
          .addColumn('resolution', 'text')
          .execute();
        await sql`create index conflicts_by_status on conflicts (status, id)`.execute(db);
        await sql`create index conflicts_by_item on conflicts (sku, location_id, status)`.execute(db);
      },
    },
    '0007_hub_state': {
      async up(db: AnyDb) {
        // Small named records the hub keeps between runs: the Airtable webhook it created, its MAC
        // secret and the cursor of the next payload to read (docs/airtable.md). Written in the same
        // transaction as the events read, so a restart neither skips nor repeats a payload.
        await db.schema
          .createTable('hub_state')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
      },
    },
    '0008_orders_purchase_orders': {
      async up(db: AnyDb) {
        // The merged transaction log (docs/orders.md): one row per channel order, its priced lines,
        // what happened to it (placed, paid, refunded, cancelled…) and the movements each step booked.
        // Money is integer minor units with the currency, never a float.
        await idColumn(db, 'orders')
          .addColumn('channel_id', 'text', (c) => c.notNull())
          .addColumn('external_id', 'text', (c) => c.notNull())
          .addColumn('number', 'text')
          .addColumn('currency', 'text')
          .addColumn('subtotal', 'bigint')
          .addColumn('discount', 'bigint')
          .addColumn('tax', 'bigint')
          .addColumn('shipping', 'bigint')
          .addColumn('total', 'bigint')
          .addColumn('refunded', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('payment_status', 'text', (c) => c.notNull())
          .addColumn('fulfilment_status', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('customer_ref', 'text')
          .addColumn('contact', 'text')
          .addColumn('flags', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('placed_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('recorded_at', 'text', (c) => c.notNull())
          .addUniqueConstraint('orders_channel_external', ['channel_id', 'external_id'])
          .execute();
        await sql`create index orders_by_placed on orders (placed_at, id)`.execute(db);
        await db.schema
          .createTable('order_lines')
          .addColumn('order_id', 'bigint', (c) => c.notNull().references('orders.id'))
          .addColumn('line_id', 'text', (c) => c.notNull())
          .addColumn('sku', 'text')
          .addColumn('title', 'text')
          .addColumn('quantity', 'integer', (c) => c.notNull())
          .addColumn('unit_price', 'bigint')
          .addColumn('discount', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('tax', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('total', 'bigint')
          .addColumn('returned', 'integer', (c) => c.notNull().defaultTo(0))
          .addPrimaryKeyConstraint('order_lines_pk', ['order_id', 'line_id'])
          .execute();
        await sql`create index order_lines_by_sku on order_lines (sku, order_id)`.execute(db);
        await idColumn(db, 'order_events')
          .addColumn('order_id', 'bigint', (c) => c.notNull().references('orders.id'))
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('external_id', 'text', (c) => c.notNull())
          .addColumn('currency', 'text')
          .addColumn('amount', 'bigint')
          .addColumn('detail', 'text', (c) => c.notNull())
          .addColumn('flags', 'text', (c) => c.notNull().defaultTo(''))
          .addColumn('event_id', 'bigint')
          .addColumn('occurred_at', 'text', (c) => c.notNull())
          .addColumn('recorded_at', 'text', (c) => c.notNull())
          .addUniqueConstraint('order_events_once', ['order_id', 'kind', 'external_id'])
          .execute();
        await sql`create index order_events_by_time on order_events (occurred_at, id)`.execute(db);
        await db.schema
          .createTable('order_movements')
          .addColumn('movement_id', 'bigint', (c) => c.primaryKey())
          .addColumn('order_id', 'bigint', (c) => c.notNull().references('orders.id'))
          .addColumn('order_event_id', 'bigint', (c) => c.notNull().references('order_events.id'))
          .execute();
        await sql`create index order_movements_by_order on order_movements (order_id)`.execute(db);

        // Purchase orders from customers (B2B): matched against available stock by policy.
        await idColumn(db, 'purchase_orders')
          .addColumn('number', 'text', (c) => c.notNull().unique())
          .addColumn('customer', 'text', (c) => c.notNull())
          .addColumn('origin', 'text', (c) => c.notNull())
          .addColumn('policy', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('needed_by', 'text')
          .addColumn('note', 'text')
          .addColumn('actor', 'text')
          .addColumn('sheet', 'text')
          .addColumn('event_id', 'bigint')
          .addColumn('submitted_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        await sql`create index purchase_orders_by_status on purchase_orders (status, id)`.execute(db);
        await db.schema
          .createTable('purchase_order_lines')
          .addColumn('po_id', 'bigint', (c) => c.notNull().references('purchase_orders.id'))
          .addColumn('line', 'integer', (c) => c.notNull())
          .addColumn('sku', 'text', (c) => c.notNull())
          .addColumn('location_id', 'text', (c) => c.notNull())
          .addColumn('ordered', 'integer', (c) => c.notNull())
          .addColumn('reserved', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('dropped', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('fulfilled', 'integer', (c) => c.notNull().defaultTo(0))
          .addPrimaryKeyConstraint('purchase_order_lines_pk', ['po_id', 'line'])
          .execute();

        // Purchase orders to suppliers (stock on its way in).
        await idColumn(db, 'supplier_orders')
          .addColumn('number', 'text', (c) => c.notNull().unique())
          .addColumn('supplier', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('expected_at', 'text')
          .addColumn('on_delay', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('note', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('supplier_order_lines')
          .addColumn('order_id', 'bigint', (c) => c.notNull().references('supplier_orders.id'))
          .addColumn('line', 'integer', (c) => c.notNull())
          .addColumn('sku', 'text', (c) => c.notNull())
          .addColumn('location_id', 'text', (c) => c.notNull())
          .addColumn('ordered', 'integer', (c) => c.notNull())
          .addColumn('received', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('expected_at', 'text')
          .addPrimaryKeyConstraint('supplier_order_lines_pk', ['order_id', 'line'])
          .execute();
        await sql`create index supplier_order_lines_by_sku on supplier_order_lines (sku)`.execute(db);

        // Reorder settings per item, and what a late supplier order asks of the listings.
        await db.schema.alterTable('items').addColumn('lead_time_days', 'integer').execute();
        await db.schema.alterTable('items').addColumn('safety_stock', 'integer').execute();
        await db.schema.alterTable('items').addColumn('listing_hold', 'text').execute();
      },
    },
    '0009_listings_by_sku': {
      // Every booking asks which channels list the item (one query for all channels).
      async up(db) {
        await sql`create index channel_listings_by_sku on channel_listings (sku)`.execute(db);
      },
    },
    '0010_credentials': {
      // One credential per source (the sheet, an Airtable base, a report reader): what it may do, and
      // only a SHA-256 of its bearer token (never the token). Its relay secret is not stored either:
      // it is derived from the hub's credential key and the random `relay_nonce` (docs/security.md).
      async up(db: AnyDb) {
        await idColumn(db, 'credentials')
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('scopes', 'text', (c) => c.notNull())
          .addColumn('token_hash', 'text', (c) => c.unique())
          .addColumn('token_prefix', 'text')
          .addColumn('relay_nonce', 'text', (c) => c.unique())
          .addColumn('relay_secret_prefix', 'text')
          .addColumn('created_at', 'text', (c) => c.notNull())
          .addColumn('last_used_at', 'text')
          .addColumn('rotated_at', 'text')
          .addColumn('revoked_at', 'text')
          .execute();
      },
    },
    '0011_quantities_64bit': {
      // Stock numbers in 64-bit integers on PostgreSQL too, as SQLite's INTEGER always was: a count
      // that brings back a level stored before the bound existed (docs/ledger.md) books the whole
      // difference, and a number a channel reports is kept as it came, to be refused with a reason.
      async up(db: AnyDb) {
        if (dialect !== 'postgres') return;
        await sql`alter table movements alter column quantity type bigint, alter column counted_quantity type bigint`.execute(db);
        await sql`alter table stock_levels alter column on_hand type bigint, alter column reserved type bigint`.execute(db);
        await sql`alter table conflicts alter column sheet_showed type bigint, alter column typed type bigint, alter column hub_had type bigint`.execute(db);
        await sql`alter table channel_levels
                    alter column pushed type bigint, alter column observed type bigint, alter column expected type bigint,
                    alter column drift type bigint, alter column booked_delta type bigint,
                    alter column pushing type bigint, alter column pushing_booked_delta type bigint`.execute(db);
      },
    },
    '0012_channel_level_drift_sides': {
      // Unexplained changes kept apart by direction: a late order can explain only a decrease, a late
      // restock only an increase, and a count of +5 followed by a lost sale of 1 must not net to +4 and
      // leave the sale unexplainable (simulation seed 20652, docs/attribution.md). `drift` keeps the
      // decreases (≤ 0), `drift_up` the increases (≥ 0).
      async up(db: AnyDb) {
        await db.schema.alterTable('channel_levels').addColumn('drift_up', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull().defaultTo(0)).execute();
        await sql`update channel_levels set drift_up = drift, drift = 0 where drift > 0`.execute(db);
      },
    },
    '0013_channel_level_pushed_wrote': {
      // Whether the last number of ours the channel is known to show was written by us (1), or found
      // already there (0: the channel had moved to it on its own, by sales and counts the hub booked).
      // Only a write can land over a sale; a push that wrote nothing crossed nothing (simulation seed
      // 21585, docs/attribution.md "Our number still showing"). Rows from before: taken as written.
      async up(db: AnyDb) {
        await db.schema.alterTable('channel_levels').addColumn('pushed_wrote', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      },
    },
    '0014_inbox_retry_at': {
      // A channel event whose platform did not answer while the hub fetched what the event leaves out
      // (a thin webhook, an outage, a 429) waits until then, instead of being set aside as failed after
      // five quick tries: an event answered 2xx is booked, however long the platform is down
      // (docs/inbox-outbox.md, "An event that waits for its platform").
      async up(db: AnyDb) {
        await db.schema.alterTable('inbox').addColumn('retry_at', 'text').execute();
      },
    },
    '0015_inbox_prepared': {
      // A channel event's facts, found before booking: a thin event's missing parts are fetched from
      // the platform outside the booking transaction, so a slow platform holds only its own channel's
      // events, never the inbox (docs/inbox-outbox.md, "Prepare, then book").
      async up(db: AnyDb) {
        await db.schema.alterTable('inbox').addColumn('prepared', 'text').execute();
      },
    },
    '0016_platform_tokens': {
      // Each channel's OAuth 2.0 tokens, encrypted with a key derived from the hub's credential key
      // (never in clear), with a version every write bumps and the lease of the one hub process
      // refreshing them, so two processes never spend the same refresh token (docs/credentials-oauth.md).
      async up(db: AnyDb) {
        await db.schema
          .createTable('platform_tokens')
          .addColumn('channel_id', 'text', (c) => c.primaryKey())
          .addColumn('sealed', 'text', (c) => c.notNull())
          .addColumn('version', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'text', (c) => c.notNull())
          .addColumn('lease_owner', 'text')
          .addColumn('lease_until', 'text')
          .execute();
      },
    },
    '0017_channel_feeds': {
      // Where each polled feed of each channel stands (docs/polling.md): its cursor, moved in the same
      // transaction as the inbox rows it produced, when it was last polled, read without error and
      // advanced, its errors, and when it is due (also the lease of the one hub process polling it).
      // A cursor is the connector's own text, bounded so a platform cannot grow a row without end.
      async up(db: AnyDb) {
        await createChannelFeeds(db, dialect, 'channel_feeds', 4000);
      },
    },
    '0018_channel_level_pending_moves': {
      // The rises and falls a channel's reports go through while a discrepancy is open, so that a
      // window holding both a count and a sale books its net change as drift of each direction, and
      // the sale's late order is recognised (simulation seed 41466, docs/attribution.md).
      async up(db: AnyDb) {
        const n = dialect === 'postgres' ? 'bigint' : 'integer';
        await db.schema.alterTable('channel_levels').addColumn('pending_up', n, (c) => c.notNull().defaultTo(0)).execute();
        await db.schema.alterTable('channel_levels').addColumn('pending_down', n, (c) => c.notNull().defaultTo(0)).execute();
      },
    },
    '0019_channel_level_stray': {
      // A push of ours the channel never answered, followed by a later one: the platform may still
      // apply the first after the second (a request it took in before the hub gave up). Kept, with the
      // channel's bookedDelta then and when it was superseded, so the number it would leave showing is
      // known for our own and never booked as a change made there (docs/attribution.md, "A write
      // that lands after a later one").
      async up(db: AnyDb) {
        const n = dialect === 'postgres' ? 'bigint' : 'integer';
        await db.schema.alterTable('channel_levels').addColumn('stray', n).execute();
        await db.schema.alterTable('channel_levels').addColumn('stray_booked_delta', n).execute();
        await db.schema.alterTable('channel_levels').addColumn('stray_at', 'text').execute();
      },
    },
    '0020_channel_level_basis': {
      // What a channel's level stands on where two changes can cancel out in it (Salesforce OCI's
      // on hand and reserved behind available to fulfil), handed back with the next push so that an
      // absolute write never replaces stock the hub has not been told of (docs/attribution.md, "The
      // same number, other stock").
      async up(db: AnyDb) {
        await db.schema.alterTable('channel_levels').addColumn('basis', 'text').execute();
      },
    },
    '0021_channel_level_pushed_blind': {
      // Whether the last push the channel applied went without an expected level (after a lost
      // answer): then the connector set the level over whatever it found, and our number showing
      // after sales were booked may be that write crossing them, as for an absolute set.
      async up(db: AnyDb) {
        await db.schema.alterTable('channel_levels').addColumn('pushed_blind', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      },
    },
    '0022_channel_feeds_longer_cursor': {
      // A cursor that remembers one level per variant (Squarespace's inventory feed: its API has no
      // change stream) outgrew 4,000 characters at about 90 variants; the bound is now 1,000,000
      // (poll-page.ts, MAX_CURSOR_LENGTH), still a bound. SQLite cannot change a column's check: the
      // table is made anew and its rows copied; PostgreSQL swaps the constraint.
      async up(db: AnyDb) {
        if (dialect === 'postgres') {
          await sql`alter table channel_feeds drop constraint if exists channel_feeds_cursor_check`.execute(db);
          await sql`alter table channel_feeds add constraint channel_feeds_cursor_check check (cursor is null or length(cursor) <= 1000000)`.execute(db);
          return;
        }
        await createChannelFeeds(db, dialect, 'channel_feeds_new', 1_000_000);
        await sql`insert into channel_feeds_new select * from channel_feeds`.execute(db);
        await db.schema.dropTable('channel_feeds').execute();
        await db.schema.alterTable('channel_feeds_new').renameTo('channel_feeds').execute();
      },
    },
  };
}

/** The table where each polled feed stands, with its cursor bounded to `maxCursor` characters. */
async function createChannelFeeds(db: AnyDb, dialect: Dialect, table: string, maxCursor: number): Promise<void> {
  const count = dialect === 'postgres' ? 'bigint' : 'integer';
  await db.schema
    .createTable(table)
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('feed', 'text', (c) => c.notNull())
    .addColumn('cursor', 'text', (c) => c.check(sql`cursor is null or length(cursor) <= ${sql.lit(maxCursor)}`))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_poll_at', 'text')
    .addColumn('last_success_at', 'text')
    .addColumn('last_advanced_at', 'text')
    .addColumn('newest_event_at', 'text')
    .addColumn('consecutive_errors', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('next_poll_at', 'text')
    .addColumn('events_total', count, (c) => c.notNull().defaultTo(0))
    .addColumn('errors_total', count, (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('channel_feeds_pk', ['channel_id', 'feed'])
    .execute();
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: () => Promise.resolve(migrations(dialect)) };
}
