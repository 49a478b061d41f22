/**
 * What the Revel connector, its translation and its emulator share about Revel's wire format: the
 * resource paths, how a foreign key arrives (Revel's REST API, built on Django Tastypie, gives a
 * related object as its resource URI — `"/enterprise/Establishment/1/"`, `"/resources/Product/12/"` —
 * and sometimes as the bare id), how a date arrives (`"2024-06-15T14:32:00"`, no zone), the topics,
 * and the webhook signature (hex HMAC-SHA1 of the body with the shared secret Revel hands the
 * partner at webhook setup).
 */

/** The webhook events this connector uses (Revel's event codes, developer.revelsystems.com "Webhooks"). */
export const ORDER_FINALIZED = 'order.finalized';
export const INOUT_STOCK = 'inout.stock';
export const REVEL_TOPICS = [ORDER_FINALIZED, INOUT_STOCK] as const;
/** The topic of a stock row found by the `inventory` feed (ours: Revel sends no webhook with a count). */
export const INVENTORY_TOPIC = 'inventory.level';

export const PRODUCT_PATH = '/resources/Product/';
export const STOCK_PATH = '/resources/CurrentStock/';
export const ORDERS_PATH = '/resources/OrderAllInOne/';

/** The header names Revel's deliveries carry (lower case). */
export const SIGNATURE_HEADER = 'x-revel-signature';
export const INSTANCE_HEADER = 'x-revel-instance';
export const EVENT_TYPE_HEADER = 'x-revel-event-type';
export const ESTABLISHMENT_HEADER = 'x-revel-establishment-id';

/** The body Revel's readiness test posts when a webhook is set up (event type `ping`). */
export const PING_BODY = { ping: 'pong' };

/**
 * The id in a foreign key: `12`, `"12"`, or a resource URI ending in it (`"/resources/Product/12/"`);
 * null for anything else.
 */
export function idOf(v: unknown): string | null {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v !== 'string') return null;
  const m = /^(?:\/[A-Za-z]+\/[A-Za-z]+\/)?(\d{1,18})\/?$/.exec(v.trim());
  return m ? String(Number(m[1])) : null;
}

export const productUri = (id: string | number) => `${PRODUCT_PATH}${id}/`;
export const establishmentUri = (id: string | number) => `/enterprise/Establishment/${id}/`;
export const stockUri = (id: string | number) => `${STOCK_PATH}${id}/`;
export const orderUri = (id: string | number) => `/resources/Order/${id}/`;

/**
 * A Revel date as an ISO instant: Revel writes them without a zone (`2024-06-15T14:32:00`, with or
 * without fractions of a second); they are read as UTC (README, "Not confirmed"). Null when unreadable.
 */
export function isoOf(v: unknown): string | null {
  if (typeof v !== 'string' || v.trim() === '') return null;
  const s = v.trim();
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(s) ? s : `${s}Z`;
  const ms = Date.parse(zoned.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** A Revel date as it writes them, from an instant in ms plus microseconds: `2026-12-08T00:51:25.123456`. */
export function revelDate(ms: number, micros = 0): string {
  return `${new Date(ms).toISOString().slice(0, 23)}${String(micros % 1000).padStart(3, '0')}`;
}

export type Row = Record<string, unknown>;

export function isRow(v: unknown): v is Row {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
