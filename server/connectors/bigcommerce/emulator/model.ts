/**
 * The emulated BigCommerce store's vocabulary: products and variants with stock per location,
 * orders, refunds and the store's inventory settings, and the options an emulator is made with.
 */
import type { RequestWindow } from '../../emulator';

export type Json = Record<string, unknown>;

/** BigCommerce's quota on Standard and Plus plans: 150 requests per 30 s window, shared by every app (api-rate-limits.mdx). */
export const BIGCOMMERCE_STANDARD_LIMIT: RequestWindow = { requests: 150, windowMs: 30_000 };
/** The quota the emulator reports when no limit is enforced (as a store on an unlimited rate plan). */
export const UNENFORCED_QUOTA = 100_000;
/** The most items one adjustment request may carry (inventory.v3.yml). */
export const ADJUSTMENT_LIMIT = 2000;

export interface Variant {
  id: number;
  /** The v2 SKU id of a variant with options; null for a base variant. */
  skuId: number | null;
  sku: string;
  /** The option label ("Large") of a variant with options; null for a base variant. */
  option: string | null;
  purchasingDisabled: boolean;
  /** Units on hand per location id. */
  levels: Map<number, number>;
}

export interface Product {
  id: number;
  name: string;
  sku: string;
  /** `product`: one base variant holds the stock; `variant`: each variant with options does. */
  tracking: 'product' | 'variant';
  isVisible: boolean;
  /** Price of one unit in minor units. */
  price: number;
  baseVariantId: number;
  variants: Variant[];
}

export interface OrderLine {
  id: number;
  productId: number;
  variantId: number;
  sku: string;
  name: string;
  quantity: number;
  /** Minor units. */
  unitPrice: number;
  discount: number;
  tax: number;
  /** Where its stock was taken from (and went back to). */
  locationId: number;
  refunded: number;
}

export interface Refund {
  id: number;
  orderId: number;
  created: Date;
  items: { item_type: 'PRODUCT'; item_id: number; quantity: number | null; requested_amount: string }[];
  /** Minor units. */
  total: number;
}

export interface Order {
  id: number;
  statusId: number;
  created: Date;
  modified: Date;
  lines: OrderLine[];
  /** The pickup location of a Buy Online, Pick up in Store order; null for a shipped order. */
  pickupLocation: number | null;
  refunds: Refund[];
  /** Minor units refunded so far. */
  refunded: number;
}

/** Order status ids and names (GET /v2/order_statuses). */
export const STATUS_NAMES: Record<number, string> = {
  0: 'Incomplete',
  1: 'Pending',
  2: 'Shipped',
  3: 'Partially Shipped',
  4: 'Refunded',
  5: 'Cancelled',
  6: 'Declined',
  7: 'Awaiting Payment',
  8: 'Awaiting Pickup',
  9: 'Awaiting Shipment',
  10: 'Completed',
  11: 'Awaiting Fulfillment',
  12: 'Manual Verification Required',
  13: 'Disputed',
  14: 'Partially Refunded',
};

export interface BigCommerceEmulatorOptions {
  storeHash: string;
  /** The store API account's access token the store accepts (X-Auth-Token). */
  accessToken: string;
  /** The app's client secret, with which webhooks are signed. */
  clientSecret: string;
  /** Location ids (numbers as text); `['1']` (the default location) when not given. */
  locations?: string[];
  /** Enforce this quota (the emulated plan); none by default. */
  rateLimit?: RequestWindow;
  /** The clock the quota counts with, in ms. */
  clock?: () => number;
  random?: () => number;
  /** ISO 4217 currency of the store (USD by default). */
  currency?: string;
  /** Whether refunded and cancelled goods go back in stock (`refund_order_stock_adjustment`, on by default). */
  refundRestocks?: boolean;
  /** The numeric store id webhooks carry as `store_id`. */
  storeId?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`);
  }
}

/** A v3 error answer (application/problem+json style). */
export function v3Error(status: number, title: string, errors: Json = {}): ApiError {
  return new ApiError(status, { status, title, type: 'https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes', errors });
}

/** A v2 error answer: a list of `{status, message}`. */
export function v2Error(status: number, message: string): ApiError {
  return new ApiError(status, [{ status, message }]);
}
