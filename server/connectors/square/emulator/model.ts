/** The emulated Square account's options and records, and the errors its REST API answers with. */
import crypto from 'node:crypto';
import type { RequestWindow } from '../../emulator';

export interface SquareEmulatorOptions {
  accessToken: string;
  webhookSignatureKey: string;
  /** Square location ids; two by default. */
  locations?: string[];
  merchantId?: string;
  currency?: string;
  /** Random source for webhook faults (0 ≤ x < 1), for reproducible runs. */
  random?: () => number;
  /** Counts per BatchRetrieveInventoryCounts page when the request sets no `limit` (Square: up to 1000). */
  countsPageSize?: number;
  /** Objects per ListCatalog page (Square: 100). */
  catalogPageSize?: number;
  /** Where the OpenAPI document is; found next to the repository by default. */
  specPath?: string;
  /** Tax on every sale, in percent ("10"); none by default. */
  taxRate?: string;
  /**
   * The rate limit to enforce, per access token; none by default. Square publishes no figure, so
   * `SQUARE_EMULATED_LIMIT` is ours (see README.md, "Rate limit").
   */
  rateLimit?: RequestWindow | null;
  /** The clock the rate limit counts with (ms); a test may share a fake one with the hub. */
  clock?: () => number;
}

/**
 * Square documents no rate limit ("Square does have rate limits but we don't document the limits",
 * its developer forum); beyond one it answers 429 RATE_LIMIT_ERROR / RATE_LIMITED. This figure is the
 * emulator's own: 10 requests in any second per access token, about what forum reports were
 * limited at (some at 6 a second).
 */
export const SQUARE_EMULATED_LIMIT: RequestWindow = { requests: 10, windowMs: 1000 };

export interface Variation {
  id: string;
  itemId: string;
  name: string;
  sku: string | null;
  version: number;
  ordinal: number;
  price: number;
  updatedAt: string;
}

export interface Item {
  id: string;
  name: string;
  version: number;
  updatedAt: string;
  variationIds: string[];
}

export interface Count {
  quantity: number;
  calculatedAt: string;
}

export interface SpecViolation {
  kind: 'request' | 'response' | 'webhook';
  what: string;
  errors: string[];
}

export type Json = Record<string, unknown>;

export interface SquareErrorItem {
  category: string;
  code: string;
  detail?: string;
  field?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: SquareErrorItem[],
  ) {
    super(errors.map((e) => e.detail ?? e.code).join('; '));
  }
}

export const invalid = (code: string, detail: string, field?: string): SquareErrorItem => ({ category: 'INVALID_REQUEST_ERROR', code, detail, ...(field ? { field } : {}) });

/** States the Inventory API may move quantities from or to (the others are read-only). */
export const WRITABLE_STATES = new Set(['IN_STOCK', 'SOLD', 'NONE', 'WASTE', 'UNLINKED_RETURN']);
/** States Square keeps a count of (NONE, SOLD and UNLINKED_RETURN are not tracked). */
export const TRACKED = new Set(['IN_STOCK', 'WASTE']);
export const MAX_CHANGES = 100;
export const DAY_MS = 24 * 60 * 60 * 1000;

export function sha(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

/** A decimal string quantity (up to 5 decimals) as a number, or null. */
export function decimal(v: unknown): number | null {
  if (typeof v !== 'string' || !/^-?\d+(\.\d{1,5})?$/.test(v.trim())) return null;
  return Number(v);
}
