/** The emulated store's options and records, the REST errors it answers with, and PHP's encodings. */
import type { RequestWindow } from '../../emulator';

export interface WooEmulatorOptions {
  consumerKey: string;
  consumerSecret: string;
  webhookSecret: string;
  /** Random source for webhook faults (0 ≤ x < 1), for reproducible runs. */
  random?: () => number;
  /** The batch limit (WooCommerce's default, filter woocommerce_rest_batch_items_limit, is 100). */
  batchLimit?: number;
  /** The store currency (ISO 4217), AUD by default. */
  currency?: string;
  /** Tax on every sale, in percent ("10"); none by default. */
  taxRate?: string;
  /**
   * A limit the store's host enforces in front of WordPress (WooCommerce has none of its own), per
   * client; none by default. `WOO_HOST_LIMIT` is a typical figure (see README.md, "Rate limit").
   */
  hostLimit?: RequestWindow | null;
  /** The clock the host limit counts with (ms); a test may share a fake one with the hub. */
  clock?: () => number;
}

/**
 * WooCommerce documents no limit for the REST API; its one documented figure is the Store API's
 * optional limit, 25 requests in any 10 seconds (off by default). A host or firewall in front of a
 * store often enforces something like it, answering 429 with Retry-After and a body of its own.
 */
export const WOO_HOST_LIMIT: RequestWindow = { requests: 25, windowMs: 10_000 };

export type ProductType = 'simple' | 'variable' | 'variation' | 'grouped' | 'external';

export interface Product {
  id: number;
  type: ProductType;
  parentId: number;
  name: string;
  sku: string;
  manageStock: boolean;
  stock: number | null;
  catalogVisibility: 'visible' | 'catalog' | 'search' | 'hidden';
  status: 'publish' | 'private' | 'draft' | 'pending';
  attributes: { name: string; option: string }[];
  created: Date;
  modified: Date;
  /** One unit, in minor units of the store currency. */
  price: number;
}

export interface Meta {
  id: number;
  key: string;
  value: string;
}

export interface OrderLine {
  id: number;
  productId: number;
  quantity: number;
  /** One unit, the fixed discount on the line, the tax rate (parts per million; 0 untaxed). */
  price: number;
  discount: number;
  taxPpm: number;
  meta: Meta[];
}

export interface Refund {
  id: number;
  created: Date;
  reason: string;
  lines: { id: number; orderLineId: number; quantity: number }[];
  restocked: boolean;
  /** What went back to the buyer, in minor units. */
  amount: number;
}

export interface Order {
  id: number;
  status: string;
  created: Date;
  modified: Date;
  paid: Date | null;
  lines: OrderLine[];
  refunds: Refund[];
  shipping: number;
}

export type Json = Record<string, unknown>;

export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly params?: Json,
  ) {
    super(message);
  }
}

export const WEBHOOK_TOPICS = ['order.created', 'order.updated', 'product.updated', 'action.woocommerce_order_refunded'] as const;
export const REDUCING = new Set(['processing', 'completed', 'on-hold']);

/** "2026-03-01T10:00:00": WooCommerce's REST dates (the site runs on UTC here, so local = GMT). */
export function wooDate(d: Date | null): string | null {
  return d ? d.toISOString().slice(0, 19) : null;
}

/** PHP json_encode without flags: slashes and every non-ASCII character escaped. */
export function phpJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\//g, '\\/')
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** RFC 3986 encoding, as PHP rawurlencode. */
export function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
