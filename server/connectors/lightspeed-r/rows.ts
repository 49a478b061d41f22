
/** The topics of the two polled feeds' events (R-Series sends no webhooks). */
export const SALE_TOPIC = 'sale';
export const ITEM_SHOP_TOPIC = 'item_shop';
/**
 * How Lightspeed Retail (R-Series) API V3 writes its JSON, read in one place:
 * - every value is a string: ids ("12"), quantities ("5"), booleans ("true"/"false");
 * - a relation or list holds an array when it has several records, a bare object when it has one,
 *   and is left out when it has none (`{"Item": {...}}` for a single result, `{"ItemShops": {"ItemShop": [...]}}`);
 * - times are ISO 8601 with an offset, to the second: "2026-12-07T13:54:11+00:00".
 */
export type Row = Record<string, unknown>;

export const obj = (v: unknown): Row | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Row) : null);

/** The records of a list or relation: an array, a single object, or none. */
export function listOf(v: unknown): Row[] {
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) return v.map(obj).filter((r): r is Row => r !== null);
  const one = obj(v);
  return one ? [one] : [];
}

/** An id as Lightspeed writes it: a string (or number) of digits; null otherwise. */
export function lsId(v: unknown): string | null {
  const s = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : typeof v === 'string' ? v.trim() : '';
  return /^\d+$/.test(s) ? String(Number(s)) : null;
}

/** A whole number written as a string ("5", "-2", "5.0"); null otherwise. */
export function lsInt(v: unknown): number | null {
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  if (!/^-?\d+(\.0+)?$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/** "true"/"false" (or a JSON boolean). */
export const lsBool = (v: unknown): boolean => v === true || v === 'true' || v === '1';

/** A Lightspeed time stamp as ms; null when it is not one. */
export function lsMs(v: unknown): number | null {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(v.trim())) return null;
  const t = Date.parse(v.trim());
  return Number.isNaN(t) ? null : t;
}

/** ms as Lightspeed writes a time stamp (UTC, to the second). */
export function lsTime(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}+00:00`;
}

/** The all-shops summary record every item has beside its shops' own (shopID 0): never a location. */
export const SUMMARY_SHOP = '0';

/** The SKU fields an item has; the channel's `skuField` names the one that holds our SKU. */
export const SKU_FIELDS = ['customSku', 'systemSku', 'manufacturerSku', 'upc', 'ean'] as const;
export type SkuField = (typeof SKU_FIELDS)[number];

export function skuOf(item: Row | null, field: SkuField): string | null {
  const v = item?.[field];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** A listing's ids: R-Series keeps stock per item (a matrix's variants are items of their own). */
export const refOfItem = (itemID: string) => ({ productId: itemID, variantId: itemID });

/**
 * What a level stands on (docs/attribution.md, "The same number, other stock"): the `timeStamp` of
 * its ItemShop record, which every change of the record moves (a count, a sale, our own write). A
 * push sent with it finds a record whose time stamp has moved on as changed behind its figure.
 */
export function lsBasis(timeStampMs: number): string {
  return `ts:${timeStampMs}`;
}
/** A basis this connector wrote, read back; null for anything else (then the push is checked on the figure alone). */
export function readLsBasis(basis: string | null | undefined): number | null {
  const m = typeof basis === 'string' ? /^ts:(\d{1,15})$/.exec(basis) : null;
  return m ? Number(m[1]) : null;
}
