/**
 * The one shape every platform connector has. A connector lives in `server/connectors/<platform>/`
 * and exports a `ConnectorDefinition`; the hub knows platforms only through this file.
 * See docs/connectors.md for how to add one.
 */

/** How a connector can change a level on the platform, safest first. */
export type PushMode =
  /** The platform refuses the write if the level is no longer what we last saw (Shopify `changeFromQuantity`). */
  | 'compare_and_set'
  /** A relative change with an idempotency key, safe to retry (Square ADJUSTMENT, BigCommerce relative). */
  | 'idempotent_delta'
  /** An absolute value, last writer wins; always followed by a read-back (WooCommerce `stock_quantity`). */
  | 'absolute_set';

export type RateLimitModel =
  /** `requestCost`: points one push request is charged (Shopify: about 10 for an inventory mutation). */
  | { kind: 'cost_bucket'; restorePerSecond: number; bucketSize: number; requestCost?: number; description: string }
  | { kind: 'requests_per_window'; requests: number; windowMs: number; description: string }
  | { kind: 'leaky_bucket'; dripPerSecond: number; bucketSize: number; description: string }
  /** The platform publishes no limit: back off on 429 only. */
  | { kind: 'unpublished'; description: string };

export interface ConnectorCapabilities {
  platform: string;
  /** Push modes this connector uses, safest first; the first one is used when it applies. */
  push: PushMode[];
  /** Whether the platform keeps stock per location. */
  locations: boolean;
  /** Whether a listing can be hidden at zero and relisted on restock, and how. */
  hideRelist: { supported: boolean; how: string };
  /** Platform topics that arrive by webhook, and the ones that must be polled. */
  webhooks: string[];
  polled: string[];
  rateLimit: RateLimitModel;
  /** Most level changes in one push request. */
  maxBatch: number;
}

/** The platform's ids for one sellable thing (a variant). */
export interface ListingRef {
  productId: string;
  variantId: string;
  /** Where the platform keeps stock on a separate object (Shopify InventoryItem). */
  inventoryItemId?: string | undefined;
}

/** One sellable thing as the platform lists it. */
export interface PlatformListing {
  sku: string | null;
  title: string;
  ref: ListingRef;
}

export interface DiscoveryReport {
  /** Our SKU → the platform's ids, for every SKU listed exactly once. */
  matched: { sku: string; ref: ListingRef; title: string }[];
  /** Listings whose SKU is empty or not in our catalog. */
  unmatched: PlatformListing[];
  /** SKUs the platform lists more than once: not mapped until staff fix them. */
  duplicated: { sku: string; listings: PlatformListing[] }[];
  /** Our SKUs the platform does not list. */
  missing: string[];
}

export type Headers = Record<string, string | string[] | undefined>;

export type VerifyResult =
  | {
      valid: true;
      /** The platform's own id for this delivery or event; the inbox dedupes on it. */
      eventId: string;
      /** The platform's topic or event type, e.g. `orders/create`, `inventory.count.updated`. */
      topic: string;
      /** When the platform says the event happened, if it says. */
      occurredAt: string | null;
    }
  | {
      valid: false;
      reason: string;
      /**
       * What was wrong, when the connector says: `signature` (not signed with this channel's secret),
       * `account` (signed, but for another shop, merchant or store than this channel's, or naming
       * none), `topic` (signed, but the unsigned topic header does not match what the body is).
       */
      refusal?: 'signature' | 'account' | 'topic';
    };

/** A line of a sale, refund or cancellation, identified as the platform identifies it. */
export interface FactLine {
  /** The platform's line id, stable across redeliveries; part of the booking's idempotency key. */
  lineId: string;
  sku: string | null;
  ref: Partial<ListingRef>;
  quantity: number;
  /** The platform's location id, when the platform says where. */
  locationId: string | null;
}

export type PaymentStatus = 'pending' | 'authorized' | 'paid' | 'partially_paid' | 'partially_refunded' | 'refunded' | 'voided' | 'unknown';
export type FulfilmentStatus = 'unfulfilled' | 'partial' | 'fulfilled' | 'returned' | 'cancelled' | 'unknown';

/**
 * One line of an order as the platform prices it. Every amount is an integer in the minor unit of
 * the order's currency (server/orders/money.ts `toMinor`), never a float.
 */
export interface OrderLineDetail {
  /** The same id as the sale fact's `FactLine.lineId`. */
  lineId: string;
  sku: string | null;
  title: string | null;
  quantity: number;
  /** Price of one unit before discounts; null when the platform gives none (a custom amount). */
  unitPrice: number | null;
  /** Discounts taken off this line, as a positive amount. */
  discount: number;
  tax: number;
  /** What the line costs the buyer after discounts (tax as the platform counts it in its line total). */
  total: number;
}

/**
 * What a platform says about an order beyond stock: its money and its states, normalised. Kept in
 * the hub's transaction log (docs/orders.md). No card data ever; `contact` is filled only with what
 * the platform sends, and the hub drops it unless the supplier turned contact details on.
 */
export interface OrderDetails {
  /** ISO 4217, e.g. "AUD". */
  currency: string;
  /** Goods after line discounts, before shipping and tax (tax included only where the platform's prices include it). */
  subtotal: number;
  discount: number;
  tax: number;
  shipping: number;
  total: number;
  paymentStatus: PaymentStatus;
  fulfilmentStatus: FulfilmentStatus;
  /** The platform's customer id, or null for a walk-in / guest. */
  customerRef: string | null;
  contact: { name: string | null; email: string | null } | null;
  /** The platform's order number as staff see it ("#1001"), when it differs from the id. */
  number: string | null;
  placedAt: string;
  lines: OrderLineDetail[];
}

/** Money of a refund: how much went back to the buyer, in minor units of `currency`. */
export interface RefundMoney {
  currency: string;
  amount: number;
}

/** Domain facts a connector's pure `translate` finds in one verified event. */
export type ChannelFact =
  /** `order`: the order's money and states, when the event carries them. */
  | { type: 'sale'; orderId: string; occurredAt: string; lines: FactLine[]; order?: OrderDetails | undefined }
  /**
   * Money refunded; `restock` says per line whether the goods went back on the shelf. `money`: how
   * much went back; null when the platform says nothing did, undefined when it does not say.
   */
  | { type: 'refund'; refundId: string; orderId: string; occurredAt: string; lines: (FactLine & { restock: boolean })[]; money?: RefundMoney | null | undefined }
  | { type: 'cancellation'; orderId: string; occurredAt: string; lines: (FactLine & { restock: boolean })[]; order?: OrderDetails | undefined }
  /**
   * An order changed without moving stock (paid, fulfilled, edited): only the transaction log takes
   * it. `change` names what happened, e.g. "paid", "fulfilled", "updated".
   */
  | { type: 'order_updated'; orderId: string; occurredAt: string; change: string; order: OrderDetails }
  /** The platform reports a level (after a sale, a push of ours, or someone's edit on the platform). */
  | { type: 'level_observed'; sku: string | null; ref: Partial<ListingRef>; locationId: string | null; available: number; occurredAt: string }
  | { type: 'listing_changed'; listings: PlatformListing[]; occurredAt: string };

export interface PushTarget {
  sku: string;
  ref: ListingRef;
  /** The platform's location id. */
  locationId: string;
  /** The level the channel should show. */
  level: number;
  /** The level we last saw on the channel, for compare-and-set and for deltas; null if never read. */
  expected: number | null;
  /** Stable for this target, so a retried push is not applied twice. */
  idempotencyKey: string;
}

export type PushOutcome =
  /** `wrote: false`: the channel already showed the level and nothing was written (absent: written). */
  | { sku: string; locationId: string; status: 'applied'; level: number; wrote?: false }
  /** Compare-and-set refused: the channel's level moved since we read it; `observed` is what it is now. */
  | { sku: string; locationId: string; status: 'stale'; observed: number | null }
  | { sku: string; locationId: string; status: 'failed'; message: string };

export interface LevelReading {
  sku: string;
  ref: ListingRef;
  locationId: string;
  available: number;
}

/** HTTP answers that refuse what was asked rather than who asked or where: not a channel fault by themselves. */
const REFUSALS_OF_THE_REQUEST = new Set([400, 409, 410, 422]);

/**
 * A connector call that failed; `retryable` says whether trying the same request again at once may
 * help. `channelFault` says whether the failure is the channel's rather than one item's: its
 * credentials, its permissions, its address or route, its availability (401, 403, 404 of a route,
 * 5xx, 429, no answer) — the dispatcher then keeps the pushes, retries with backoff, suspends the
 * channel and raises an alert (docs/dispatch.md). Not a channel fault: a refusal of what was asked
 * (400, 409, 422, a missing item, a check of ours before sending), which dead-letters that item only.
 */
export class ConnectorError extends Error {
  readonly channelFault: boolean;

  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs: number | null = null,
    readonly status: number | null = null,
    opts: { channelFault?: boolean } = {},
  ) {
    super(message);
    this.name = 'ConnectorError';
    this.channelFault = opts.channelFault ?? (retryable || (status !== null && !REFUSALS_OF_THE_REQUEST.has(status)));
  }
}

export interface Connector {
  readonly capabilities: ConnectorCapabilities;
  /** Checks a webhook delivery over its raw bytes; never throws on bad input. */
  verify(raw: Buffer, headers: Headers): VerifyResult;
  /**
   * Optional: whether an unverified delivery is the platform's address check (WooCommerce posts an
   * unsigned `webhook_id=N` when a webhook is saved and warns the owner unless it gets a 2xx). A
   * ping is answered 200 and nothing is stored; it must carry no event.
   */
  isPing?(raw: Buffer, headers: Headers): boolean;
  /**
   * Optional, for platforms whose webhooks are thin (a Square order event carries no line items):
   * fetches what `translate` needs and returns the body to translate instead. Called by the inbox
   * processor just before `translate`; return the body unchanged when nothing is missing.
   */
  expand?(topic: string, body: unknown, signal?: AbortSignal): Promise<unknown>;
  /** Pure: the facts in one verified event. Throws `TranslateError` on a body it cannot read. */
  translate(topic: string, body: unknown, headers: Headers): ChannelFact[];
  /** Sets levels on the platform with the safest mode it offers; one outcome per target. */
  push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]>;
  /** Reads the platform's levels, for reconciliation and after absolute sets. */
  read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]>;
  /** Hides the listing from buyers (at zero), and shows it again (on restock). */
  hide(ref: ListingRef, signal?: AbortSignal): Promise<void>;
  relist(ref: ListingRef, signal?: AbortSignal): Promise<void>;
  /** Every listing on the platform, for catalog discovery (see `matchCatalog`). */
  listCatalog(signal?: AbortSignal): Promise<PlatformListing[]>;
}

export class TranslateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TranslateError';
  }
}

/** What a connector is built from: its channel's settings and secrets, already checked. */
export interface ConnectorContext {
  channelId: string;
  /** The platform's API address; the connector's default when the config gives none. */
  baseUrl: string | null;
  /** Platform settings from the config file (shop domain, API version, notification URL, …). */
  settings: Record<string, unknown>;
  /** Secrets read from the environment variables the config names. Never logged. */
  credentials: Record<string, string>;
  fetch?: typeof fetch;
  clock?: () => Date;
}

export interface ConnectorDefinition {
  platform: string;
  /** Credential names the config must map to environment variables, e.g. `accessToken`. */
  credentials: readonly string[];
  /** Settings the config must give, e.g. `shopDomain`; checked at start. */
  requiredSettings: readonly string[];
  /** Optional: for a required setting, what it is and where to find it (added to the start-up error). */
  settingHelp?: Readonly<Record<string, string>>;
  capabilities: ConnectorCapabilities;
  create(ctx: ConnectorContext): Connector;
}

/** One header value, case-insensitive; a header given twice with different values counts as absent. */
export function headerValue(headers: Headers | null | undefined, name: string): string | null {
  if (!headers || typeof headers !== 'object') return null;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    if (typeof value === 'string') return value.trim();
    if (Array.isArray(value)) {
      const distinct = [...new Set(value.filter((v): v is string => typeof v === 'string').map((v) => v.trim()))];
      return distinct.length === 1 ? distinct[0]! : null;
    }
    return null;
  }
  return null;
}
