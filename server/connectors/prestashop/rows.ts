/** What the PrestaShop connector's parts share: the pseudo location and how ids and numbers are read. */

/** PrestaShop keeps one stock per shop (stock_availables): the one pseudo location. */
export const PS_LOCATION = 'default';

/** One resource as the webservice's JSON gives it: ids as numbers, other values mostly as strings. */
export type Row = Record<string, unknown>;

/** An id as a canonical decimal string ("0" included), or null. */
export function psId(v: unknown): string | null {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  if (typeof v === 'string' && /^\d{1,15}$/.test(v.trim())) return String(Number(v.trim()));
  return null;
}

/** A whole number (negative included: PrestaShop lets stock go below zero when orders are allowed out of stock), or null. */
export function psInt(v: unknown): number | null {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d{1,15}$/.test(v.trim())) return Number(v.trim());
  return null;
}
