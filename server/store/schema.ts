import type { Generated } from 'kysely';

/**
 * Table shapes shared by the SQLite and PostgreSQL stores. Timestamps are ISO-8601 UTC strings
 * (`Date.toISOString()`), identical in both stores and ordered correctly as text.
 */
export interface Database {
  locations: { id: string; name: string; created_at: string };
  items: {
    sku: string;
    title: string | null;
    low_stock_threshold: number | null;
    lead_time_days: number | null;
    safety_stock: number | null;
    /** What a late supplier order asks of the listings at zero: 'hide', 'keep_listed', or null. */
    listing_hold: string | null;
    status: 'active' | 'archived';
    created_at: string;
    updated_at: string;
    archived_at: string | null;
  };
  movements: {
    id: Generated<number>;
    idempotency_key: string;
    sku: string;
    location_id: string;
    quantity: number;
    reason: string;
    source: string;
    channel_id: string | null;
    external_ref: string | null;
    counted_quantity: number | null;
    actor: string | null;
    note: string | null;
    event_id: number | null;
    occurred_at: string;
    recorded_at: string;
  };
  stock_levels: {
    sku: string;
    location_id: string;
    on_hand: number;
    reserved: number;
    last_movement_id: number;
    updated_at: string;
  };
  inbox: {
    id: Generated<number>;
    dedupe_key: string;
    source: string;
    kind: string;
    headers: string;
    body: string;
    status: InboxStatus;
    outcome: string | null;
    attempts: number;
    received_at: string;
    processed_at: string | null;
    retry_at: Generated<string | null>;
    prepared: Generated<string | null>;
  };
  outbox: {
    id: Generated<number>;
    sink: string;
    topic: string;
    coalesce_key: string | null;
    payload: string;
    status: OutboxStatus;
    attempts: number;
    next_attempt_at: string;
    locked_until: string | null;
    last_error: string | null;
    created_at: string;
    updated_at: string;
  };
  alerts: {
    id: Generated<number>;
    kind: string;
    severity: string;
    sku: string | null;
    location_id: string | null;
    channel_id: string | null;
    message: string;
    status: 'open' | 'resolved';
    opened_at: string;
    resolved_at: string | null;
  };
  channel_listings: {
    channel_id: string;
    sku: string;
    product_id: string;
    variant_id: string;
    inventory_item_id: string | null;
    title: string;
    hidden: number;
    updated_at: string;
  };
  channel_levels: {
    channel_id: string;
    sku: string;
    location_id: string;
    pushed: number | null;
    pushed_at: string | null;
    observed: number | null;
    observed_at: string | null;
    expected: number | null;
    observed_platform_at: string | null;
    pending_since: string | null;
    drift: Generated<number>;
    drift_up: Generated<number>;
    pending_up: Generated<number>;
    pending_down: Generated<number>;
    pushed_wrote: Generated<number>;
    drift_through: string | null;
    booked_delta: Generated<number>;
    pushing: number | null;
    pushing_booked_delta: number | null;
    stray: number | null;
    stray_booked_delta: number | null;
    stray_at: string | null;
    basis: string | null;
    pushed_blind: Generated<number>;
  };
  conflicts: {
    id: Generated<number>;
    key: string;
    event_id: number | null;
    sku: string;
    location_id: string;
    sheet_showed: number | null;
    typed: number;
    hub_had: number;
    source: string;
    actor: string | null;
    edited_at: string;
    found_at: string;
    status: 'open' | 'accepted' | 'rejected';
    resolved_at: string | null;
    resolved_by: string | null;
    movement_id: number | null;
    resolution: string | null;
  };
  hub_state: {
    key: string;
    value: string;
    updated_at: string;
  };
  /** Where each polled feed stands (docs/polling.md, migration 0017). */
  channel_feeds: {
    channel_id: string;
    feed: string;
    cursor: string | null;
    created_at: string;
    last_poll_at: string | null;
    last_success_at: string | null;
    last_advanced_at: string | null;
    newest_event_at: string | null;
    consecutive_errors: number;
    last_error: string | null;
    next_poll_at: string | null;
    events_total: number | string;
    errors_total: number | string;
    updated_at: string;
  };
  orders: {
    id: Generated<number>;
    channel_id: string;
    external_id: string;
    number: string | null;
    currency: string | null;
    subtotal: number | string | null;
    discount: number | string | null;
    tax: number | string | null;
    shipping: number | string | null;
    total: number | string | null;
    refunded: number | string;
    payment_status: string;
    fulfilment_status: string;
    status: string;
    customer_ref: string | null;
    contact: string | null;
    flags: string;
    placed_at: string;
    updated_at: string;
    recorded_at: string;
  };
  order_lines: {
    order_id: number | string;
    line_id: string;
    sku: string | null;
    title: string | null;
    quantity: number;
    unit_price: number | string | null;
    discount: number | string;
    tax: number | string;
    total: number | string | null;
    returned: number;
  };
  order_events: {
    id: Generated<number>;
    order_id: number | string;
    kind: string;
    external_id: string;
    currency: string | null;
    amount: number | string | null;
    detail: string;
    flags: string;
    event_id: number | string | null;
    occurred_at: string;
    recorded_at: string;
  };
  order_movements: {
    movement_id: number | string;
    order_id: number | string;
    order_event_id: number | string;
  };
  purchase_orders: {
    id: Generated<number>;
    number: string;
    customer: string;
    origin: string;
    policy: string;
    status: string;
    reason: string | null;
    needed_by: string | null;
    note: string | null;
    actor: string | null;
    sheet: string | null;
    event_id: number | string | null;
    submitted_at: string;
    updated_at: string;
  };
  purchase_order_lines: {
    po_id: number | string;
    line: number;
    sku: string;
    location_id: string;
    ordered: number;
    reserved: number;
    dropped: number;
    fulfilled: number;
  };
  supplier_orders: {
    id: Generated<number>;
    number: string;
    supplier: string;
    status: string;
    expected_at: string | null;
    on_delay: string;
    reason: string | null;
    note: string | null;
    created_at: string;
    updated_at: string;
  };
  supplier_order_lines: {
    order_id: number | string;
    line: number;
    sku: string;
    location_id: string;
    ordered: number;
    received: number;
    expected_at: string | null;
  };
  credentials: {
    id: Generated<number>;
    name: string;
    /** JSON array of scope names. */
    scopes: string;
    /** SHA-256 (hex) of the bearer token; null for a relay-only credential. */
    token_hash: string | null;
    token_prefix: string | null;
    /** Random; with the hub's credential key it gives the relay secret. Null: this credential does not relay. */
    relay_nonce: string | null;
    relay_secret_prefix: string | null;
    created_at: string;
    last_used_at: string | null;
    rotated_at: string | null;
    revoked_at: string | null;
  };
  /** A channel's OAuth 2.0 tokens, encrypted (docs/credentials-oauth.md); never in clear. */
  platform_tokens: {
    channel_id: string;
    /** AES-256-GCM under a key derived from the hub's credential key, bound to the channel id. */
    sealed: string;
    /** Counts every write, so a refresh never overwrites tokens written after it read them. */
    version: number | string;
    updated_at: string;
    /** The hub process refreshing the tokens now, and until when its claim holds. */
    lease_owner: string | null;
    lease_until: string | null;
  };
}

export type InboxStatus = 'received' | 'processed' | 'unmatched' | 'rejected' | 'conflict' | 'failed';
export type OutboxStatus = 'pending' | 'working' | 'done' | 'dead' | 'superseded';
