/** The checked configuration the hub runs with, as `loadConfig` returns it. */
import type { AirtableConfig } from '../airtable/config';
import type { ChannelMapping } from '../core/views';
import type { TOPICS } from './schema';

/** A channel's settings: where it maps our locations and how much it shows (`ChannelMapping`, what the rules read), and more. */
export interface ChannelConfig extends ChannelMapping {
  hideAtZero: boolean;
  relistOnRestock: boolean;
  /** docs/reconcile.md: adopt, correct or flag a change made on the platform. */
  reconcile: 'adopt' | 'correct' | 'flag';
  baseUrl: string | null;
  settings: Record<string, string | number | boolean>;
  /** Credential values read from the environment. Never logged, never returned by the API. */
  credentials: Record<string, string>;
  /** How the channel's polled feeds are read (docs/polling.md); absent: the hub's defaults. */
  polling?: ChannelPolling;
}

/** One polled feed's schedule (docs/polling.md). */
export interface FeedSchedule {
  enabled: boolean;
  everyMs: number;
  /** No successful poll for this long raises the `feed_stalled` alert. */
  stallAfterMs: number;
}

/** A channel's `polling` section as written: whatever it leaves out comes from `engine`. */
export interface ChannelPolling {
  enabled?: boolean;
  everyMs?: number;
  stallAfterMs?: number;
  feeds?: Record<string, { enabled?: boolean; everyMs?: number; stallAfterMs?: number }>;
}

export interface NotifyConfig {
  id: string;
  url: string;
  secret: string | null;
  topics: (typeof TOPICS)[number][];
  format: 'standard' | 'slack';
}

export interface DispatchConfig {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  leaseMs: number;
  timeoutMs: number;
  /** Failed requests in a row before a channel is suspended (docs/dispatch.md). */
  suspendAfter?: number;
  suspendMs?: number;
}

/** A Google service account key, as read from its .json file. Never logged, never returned by the API. */
export interface ServiceAccountKey {
  clientEmail: string;
  privateKey: string;
  privateKeyId: string | null;
  tokenUri: string | null;
}

export interface SheetsConfig {
  spreadsheetId: string;
  credentials: ServiceAccountKey;
  baseUrl: string | null;
  tokenUrl: string | null;
  tabs: { catalog: string; movements: string; orders: string; alerts: string; conflicts: string; purchaseOrders: string };
  writesPerMinute: number;
}

export interface HubConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** PostgreSQL schema for the hub's tables (STOCKRELAY_PG_SCHEMA); the connection's own when unset. */
  pgSchema: string | undefined;
  configFile: string | undefined;
  /** One or more whsec_ secrets; several are accepted while a secret is being rotated. */
  relaySecrets: string[];
  adminToken: string;
  /**
   * The key each credential's relay secret is derived from (docs/security.md): STOCKRELAY_CREDENTIAL_KEY,
   * else `credentialKey` in data/secrets.json, else derived from the admin token.
   */
  credentialKey: string;
  logLevel: string;
  locations: { id: string; name: string }[];
  defaultLocation: string;
  channels: ChannelConfig[];
  notify: NotifyConfig[];
  defaultLowStockThreshold: number | null;
  /** docs/attribution.md: how long an unexplained channel level waits for its order. */
  attributionWindowMs: number;
  /** docs/reconcile.md: 0 = only on demand. */
  reconcileEveryMs: number;
  /** docs/inbox-outbox.md "Prepare, then book": how long a fetch for a thin event may take. */
  fetchTimeoutMs: number;
  /** docs/polling.md: the hub's defaults for every polled feed (`engine.pollEveryMs`, `engine.pollStallAfterMs`). */
  polling?: { everyMs: number; stallAfterMs: number | undefined };
  dispatch: DispatchConfig;
  /** Write-back to the Google Sheet (docs/sheets.md); null when not configured. */
  sheets: SheetsConfig | null;
  /** Write-back to an Airtable base, and its webhook (docs/airtable.md); null when not configured. */
  airtable: AirtableConfig | null;
  orders: OrdersConfig;
  purchaseOrders: PurchaseOrdersConfig;
  supplierOrders: { onDelay: 'hide' | 'keep_listed' };
  reorder: ReorderConfig;
}

export type ShortPolicy = 'reject' | 'waitlist' | 'split' | 'split_waitlist';

export interface OrdersConfig {
  /** Accepted currencies, main first; empty: any. */
  currencies: string[];
  keepContactDetails: boolean;
}

export interface PurchaseOrdersConfig {
  onShort: ShortPolicy;
  customers: Record<string, { onShort: ShortPolicy }>;
}

export interface ReorderConfig {
  windowDays: number;
  leadTimeDays: number;
  safetyStock: number;
  reviewDays: number;
  checkEveryMs: number;
}

export class ConfigError extends Error {}
