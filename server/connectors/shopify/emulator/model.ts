/** The emulated shop's records, and the ids and errors its GraphQL API speaks in. */
import { gidNumber } from '../ids';

export interface ShopifyEmulatorOptions {
  accessToken: string;
  webhookSecret: string;
  shopDomain?: string;
  /** Sent in X-Shopify-API-Version on webhooks. */
  apiVersion?: string;
  /** Location ids (gids or numbers); two locations by default. */
  locations?: string[];
  /** The cost bucket; Shopify Standard is 2000 points restored at 100/s. */
  bucket?: { size: number; restorePerSecond: number };
  /** Random source for webhook faults (0 ≤ x < 1), for reproducible runs. */
  random?: () => number;
  /** The shop currency (ISO 4217), AUD by default. */
  currency?: string;
  /** Tax on every sale, in percent ("10"); none by default. */
  taxRate?: string;
  /** The clock the cost bucket refills by (ms); a test may share a fake one with the hub. */
  clock?: () => number;
}

export interface Variant {
  id: number;
  productId: number;
  inventoryItemId: number;
  sku: string | null;
  title: string;
  /** One unit, in minor units of the shop currency. */
  price: number;
}
export interface Product {
  id: number;
  title: string;
  status: 'ACTIVE' | 'DRAFT' | 'ARCHIVED' | 'UNLISTED';
}
export interface OrderLine {
  id: number;
  variantId: number;
  quantity: number;
  refunded: number;
  locationId: number;
  /** One unit, the discount on the whole line, and the tax on the whole line after the discount. */
  price: number;
  discount: number;
  tax: number;
  /** The tax rate in parts per million (0: untaxed). */
  taxPpm: number;
}
export interface Order {
  id: number;
  number: number;
  locationId: number | null;
  createdAt: string;
  updatedAt: string;
  lines: OrderLine[];
  cancelledAt: string | null;
  shipping: number;
  shippingRefunded: boolean;
  financialStatus: 'pending' | 'paid' | 'partially_refunded' | 'refunded' | 'voided';
  fulfilled: boolean;
  /** Money given back so far, and the refunds (REST bodies) the order carries. */
  refundedAmount: number;
  refunds: Json[];
}
export interface ExchangeLine {
  id: number;
  variantId: number;
  quantity: number;
  processedQuantity: number;
  /** The order lines the exchange added to the original order. */
  lineIds: number[];
}
export interface ReturnRecord {
  id: number;
  orderId: number;
  status: 'OPEN' | 'CLOSED';
  exchange: ExchangeLine[];
}

export const MAX_QUERY_COST = 1000;
export const MAX_INPUT = 250;
export const REASONS = new Set(['correction', 'cycle_count_available', 'damaged', 'movement_created', 'movement_updated', 'movement_received', 'movement_canceled', 'other', 'promotion', 'quality_control', 'received', 'reservation_created', 'reservation_deleted', 'reservation_updated', 'restock', 'safety_stock', 'shrinkage']);

export type Json = Record<string, unknown>;

export class GraphQLFailure extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export const gid = (type: string, n: number) => `gid://shopify/${type}/${n}`;
export const num = (id: unknown, type: string): number | null => {
  if (typeof id !== 'string' || !id.startsWith(`gid://shopify/${type}/`)) return null;
  const n = gidNumber(id);
  return n ? Number(n) : null;
};
