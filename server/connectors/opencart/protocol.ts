/**
 * What the stockrelay OpenCart extension (./extension/, PHP) and this connector say to each other:
 * its routes, headers, topics and bodies, and the signature. Core OpenCart has no stock API and no
 * webhooks (README.md, "Confirmed in the platform's documentation"), so this is the extension's own
 * protocol, version 1; the emulator speaks exactly this, and the PHP code in ./extension/ writes it.
 *
 * Requests to the store: `GET|POST {store}/index.php?route=extension/stockrelay/module/stockrelay.<method>`
 * with the header `X-Stockrelay-Key: <api key>` and JSON bodies; answers are JSON, errors
 * `{"error": {"code", "message"}}` with an HTTP status.
 *
 * Deliveries to the hub: `POST` of a JSON body `{id, topic, created_at, store: {url, id}, data}` with
 * `X-Stockrelay-Event-Id`, `X-Stockrelay-Topic`, `X-Stockrelay-Timestamp` (copies of `id`, `topic`,
 * `created_at`, which are signed inside the body) and `X-Stockrelay-Signature: sha256=<hex>`, the
 * HMAC-SHA256 of the raw body with the shared webhook secret.
 */

/** The route prefix of the extension's catalog controller (OpenCart 4.0.2+ route syntax, `.` before the method). */
export const ROUTE_PREFIX = 'extension/stockrelay/module/stockrelay';
export type OcMethod = 'catalog' | 'levels' | 'set' | 'status' | 'events';

export const HEADER = {
  key: 'x-stockrelay-key',
  eventId: 'x-stockrelay-event-id',
  topic: 'x-stockrelay-topic',
  timestamp: 'x-stockrelay-timestamp',
  signature: 'x-stockrelay-signature',
} as const;

/** Topics the extension sends (and lists in its events feed). */
export const OC_TOPICS = ['order.status', 'return.status', 'product.updated'] as const;
export type OcTopic = (typeof OC_TOPICS)[number];

/** The pseudo location: OpenCart keeps one quantity per product (and per option value). */
export const OC_LOCATION = 'default';

/** Most changes in one `set` request, and most products in one `catalog` page (the extension refuses more). */
export const OC_MAX_BATCH = 100;
export const OC_MAX_PAGE = 100;

/** The part of a listing ref naming an option value: `pov-<product_option_value_id>`; a product's own is its product id. */
export const OPTION_PREFIX = 'pov-';

/** How a store names itself in a delivery: its address (HTTP_SERVER) and the store id of the order (0: the default store). */
export interface OcStore {
  url: string;
  id: number;
}

/** One quantity after the event, as the extension reads it back from `oc_product`. */
export interface OcLevel {
  product_id: number;
  sku: string;
  model: string;
  quantity: number;
  subtract: number;
}

export interface OcOrderProduct {
  order_product_id: number;
  product_id: number;
  /** OpenCart 4 variants: the master product, whose quantity OpenCart moves as well (0: none). */
  master_id: number;
  name: string;
  model: string;
  /** The product's `sku` now (oc_order_product keeps `model` only). */
  sku: string;
  quantity: number;
  /** The product's `subtract` flag (1: OpenCart moves its quantity with orders). */
  subtract: number;
  options: { product_option_value_id: number; name: string; value: string }[];
}

/** `order.status`: an order got a history entry (model checkout/order addHistory ran). */
export interface OcOrderStatusData {
  order: { order_id: number; store_id: number; order_status_id: number; order_status: string; previous_status_id: number; currency_code: string };
  /** What OpenCart did to stock with this change: took it (entered the stock statuses), gave it back (left them), or nothing. */
  stock: 'subtracted' | 'restored' | 'none';
  /** How many times this order has taken stock so far (1 on the first entry, 2 if it entered again after leaving). */
  cycle: number;
  refund: boolean;
  products: OcOrderProduct[];
  levels: OcLevel[];
}

/** `return.status`: a product return (Sales > Returns) got a history entry. */
export interface OcReturnStatusData {
  return: { return_id: number; order_id: number; product_id: number; product: string; model: string; sku: string; quantity: number; opened: number; return_status_id: number; return_status: string };
  /** Units this change put back on the shelf (the extension restocks an unopened return once, at a restocking status); 0: none. */
  restocked: number;
  levels: OcLevel[];
}

/** `product.updated`: a product was saved in the admin (Catalog > Products). */
export interface OcProductUpdatedData {
  product: OcLevel & { name: string; status: number };
}

export interface OcDelivery<T = unknown> {
  id: string;
  topic: OcTopic;
  /** Unix seconds. */
  created_at: number;
  store: OcStore;
  data: T;
}

/** A product as the `catalog` route lists it, with its option values. */
export interface OcCatalogProduct {
  product_id: number;
  sku: string;
  model: string;
  name: string;
  quantity: number;
  subtract: number;
  status: number;
  options: { product_option_value_id: number; name: string; quantity: number; subtract: number }[];
}

/** One quantity the `set` route is asked to write; `expected`: compare-and-set (written only if the quantity is still that). */
export interface OcChange {
  product_id: number;
  product_option_value_id: number;
  quantity: number;
  expected?: number;
}

/**
 * `unchanged`: the quantity already is the one asked for and, with `expected`, the one expected too;
 * nothing was written. `stale`: with `expected`, the quantity is another (even the one asked for:
 * the shop got there by itself); nothing was written.
 */
export type OcSetResult = { product_id: number; product_option_value_id: number } & (
  | { result: 'applied' | 'unchanged' | 'stale'; quantity: number }
  | { result: 'not_found' }
);

/** The listing SKU of a product: its `sku` when filled in, else its `model` (which OpenCart requires). */
export function ocSku(p: { sku?: unknown; model?: unknown }): string | null {
  for (const v of [p.sku, p.model]) if (typeof v === 'string' && v.trim() !== '') return v.trim();
  return null;
}
