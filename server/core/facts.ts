/**
 * What the platforms report, in the hub's words: the facts a connector's pure `translate` finds in
 * a verified event (sales, refunds, cancellations, order changes, levels, listings) and a platform's
 * listings. The rules (channel-plan.ts, catalog-match.ts, the transaction log) read only these shapes;
 * connectors re-export them from server/connectors/types.ts.
 */

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
 * the order's currency (server/shared/money.ts `toMinor`), never a float.
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
  /**
   * `basis`: what the level stands on, where two changes can cancel out in it (opaque, the
   * connector's own); kept and handed back with the next push (PushTarget.basis).
   */
  | { type: 'level_observed'; sku: string | null; ref: Partial<ListingRef>; locationId: string | null; available: number; occurredAt: string; basis?: string }
  | { type: 'listing_changed'; listings: PlatformListing[]; occurredAt: string };
