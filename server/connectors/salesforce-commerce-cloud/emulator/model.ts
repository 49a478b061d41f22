/** The emulated B2C Commerce realm's options and records, and the errors it answers with. */
import type { RequestWindow } from '../../emulator';

export type Json = Record<string, unknown>;

export interface SfccEmulatorOptions {
  /** The Account Manager API client of the channel. */
  clientId: string;
  clientSecret: string;
  /** `f_ecom_<realm>_<instance>`, as the B2C Commerce API names the organization. */
  organizationId: string;
  /** Omnichannel Inventory's tenant group (it stands in for the organization id in OCI paths). */
  tenantGroupId: string;
  siteId: string;
  /** OCI location ids (two by default). */
  locations?: string[];
  /** The site's inventory list id, the OCI location group its web orders reserve from (default `sandbox-site-group`). */
  inventoryListId?: string;
  /** ISO 4217 currency of the site (AUD by default). */
  currency?: string;
  /** Tax on every sale, in percent ("10"); none by default. */
  taxRate?: string;
  /** Most records an OCI batch update takes (100 by default; README.md, "Not confirmed"). */
  batchLimit?: number;
  /** A limit on API requests per client, answered 429 with Retry-After; none by default (`SFCC_EMULATED_LIMIT`). */
  rateLimit?: RequestWindow | null;
  /** The clock the rate limit counts with (ms); a test may share a fake one with the hub. */
  clock?: () => number;
  /** Lifetime of an Account Manager access token, in seconds (1799, as Account Manager answers, by default). */
  accessTokenTtlSeconds?: number;
}

/**
 * Salesforce publishes no request limit for the admin Orders and Products APIs or for Omnichannel
 * Inventory (the load-shedding page lists SLAS only: 24,000 requests a minute per tenant on
 * production, 500 elsewhere); the emulator's stated figure, enforced when asked, is 10 requests a
 * second, answered 429 with Retry-After as SCAPI does.
 */
export const SFCC_EMULATED_LIMIT: RequestWindow = { requests: 10, windowMs: 1000 };

export const DEFAULT_LOCATIONS = ['gallery-store', 'warehouse-dc'];

/** One OCI inventory record: a SKU at a location. */
export interface OciRecord {
  sku: string;
  location: string;
  onHand: number;
  reserved: number;
  safetyStockCount: number;
  /** When the on-hand figure was last set (an update with an earlier effectiveDate is refused). */
  effectiveDate: string;
}

/** Available to fulfil: on hand less what orders reserved and the safety stock. */
export const atf = (r: OciRecord): number => r.onHand - r.reserved - r.safetyStockCount;

export interface Product {
  id: string;
  name: string;
  /** Price of one unit in minor units. */
  price: number;
  onlineFlag: Record<string, boolean>;
  searchable: Record<string, boolean>;
  creationDate: string;
  lastModified: string;
}

export interface OrderLine {
  itemId: string;
  productId: string;
  productName: string;
  quantity: number;
  /** Minor units. */
  basePrice: number;
  discount: number;
  tax: number;
  taxRate: number;
  /** Where the order's reservation of this line was taken. */
  location: string;
  /**
   * The line's `inventoryId` as B2C Commerce shows it: the location's id when the order named
   * where to take the stock from (a store pickup), else the site's inventory list (its OCI location group).
   */
  inventoryId: string;
}

export interface Order {
  orderNo: string;
  status: 'created' | 'new' | 'completed' | 'cancelled' | 'failed';
  creationDate: number;
  lastModified: number;
  currency: string;
  lines: OrderLine[];
  email: string;
  customerName: string;
}

/** A change of one OCI record, in the order OCI made them (the deltas feed reads these). */
export interface Delta {
  seq: number;
  record: OciRecord;
}

/** An SCAPI error answer (RFC 7807 problem details, `application/problem+json`). */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly slug: string,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }

  body(): Json {
    return { title: this.title, type: `https://api.commercecloud.salesforce.com/documentation/error/v1/errors/${this.slug}`, detail: this.detail };
  }
}

/** Minor units → the decimal number the B2C Commerce API answers with (two decimals). */
export const decimal = (minor: number): number => Math.round(minor) / 100;
