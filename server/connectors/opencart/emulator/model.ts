/** The emulated OpenCart store's options, records and the rules of OpenCart it follows. */
import type { RequestWindow } from '../../emulator';

export interface OcEmulatorOptions {
  /** The key the stockrelay extension's routes accept (X-Stockrelay-Key). */
  apiKey: string;
  /** The shared secret the extension signs its deliveries with. */
  webhookSecret: string;
  /** Random source for webhook faults (0 ≤ x < 1), for reproducible runs. */
  random?: () => number;
  /**
   * The OpenCart version to behave as (default 4.1.0.4). 4.1.0.0 to 4.1.0.3 join the processing and
   * complete statuses with PHP's `+` (keys, not values), which the extension mirrors.
   */
  version?: string;
  /** `config_processing_status` and `config_complete_status` (OpenCart's defaults when not given). */
  processingStatuses?: number[];
  completeStatuses?: number[];
  /**
   * A limit the store's host enforces in front of PHP (OpenCart has none of its own), per client;
   * none by default. `OC_HOST_LIMIT` is a typical figure.
   */
  hostLimit?: RequestWindow | null;
  /** The clock the host limit counts with (ms); a test may share a fake one with the hub. */
  clock?: () => number;
}

/** A typical shared-hosting limit in front of a PHP shop (no figure is published for OpenCart): 25 requests in 10 s. */
export const OC_HOST_LIMIT: RequestWindow = { requests: 25, windowMs: 10_000 };

/** OpenCart 4's default order statuses (install/opencart-en-gb.sql). */
export const ORDER_STATUS: Record<number, string> = {
  1: 'Pending',
  2: 'Processing',
  3: 'Shipped',
  5: 'Complete',
  7: 'Canceled',
  8: 'Denied',
  9: 'Canceled Reversal',
  10: 'Failed',
  11: 'Refunded',
  12: 'Reversed',
  13: 'Chargeback',
  14: 'Expired',
  15: 'Processed',
  16: 'Voided',
};
export const STATUS = { pending: 1, processing: 2, complete: 5, canceled: 7, refunded: 11, voided: 16 } as const;
/** Defaults of config_processing_status and config_complete_status in OpenCart 3.0 and 4.x. */
export const DEFAULT_PROCESSING = [5, 1, 2, 12, 3];
export const DEFAULT_COMPLETE = [5, 3];
/** Return statuses (oc_return_status) and the one the extension restocks at by default. */
export const RETURN_STATUS: Record<number, string> = { 1: 'Pending', 2: 'Awaiting Products', 3: 'Complete' };
export const RESTOCK_RETURN_STATUSES = [3];
/** Order statuses the extension reports a restore at as a refund (its setting; Refunded by default). */
export const REFUND_STATUSES = [11];

/** Whether `version` (a.b.c.d) is at least `min`. */
export function versionAtLeast(version: string, min: string): boolean {
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

/**
 * The statuses in which an order holds stock, as catalog/model/checkout/order addHistory computes
 * them: array_merge(processing, complete); 4.1.0.0–4.1.0.3 use `processing + complete` (a union by
 * array key, so the first complete statuses are dropped when processing has as many entries).
 */
export function stockStatuses(version: string, processing: number[], complete: number[]): Set<number> {
  const plus = versionAtLeast(version, '4.1.0.0') && !versionAtLeast(version, '4.1.0.4');
  return new Set(plus ? [...processing, ...complete.slice(processing.length)] : [...processing, ...complete]);
}

export interface OptionValue {
  id: number;
  name: string;
  quantity: number;
  subtract: number;
}

export interface Product {
  id: number;
  sku: string;
  model: string;
  name: string;
  quantity: number;
  subtract: number;
  status: number;
  price: number;
  options: OptionValue[];
}

export interface OrderLine {
  id: number;
  productId: number;
  quantity: number;
  optionValueIds: number[];
}

export interface Order {
  id: number;
  statusId: number;
  lines: OrderLine[];
  /** How many times the order has taken stock (entered the stock statuses). */
  cycle: number;
}

export interface Return {
  id: number;
  orderId: number;
  productId: number;
  quantity: number;
  opened: number;
  statusId: number;
  restocked: boolean;
}

export interface LoggedEvent {
  seq: number;
  body: Record<string, unknown>;
  raw: string;
}
