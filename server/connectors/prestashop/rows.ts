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

/**
 * What a level stands on (PushTarget.basis, docs/attribution.md "The same number, other stock"): the
 * newest stock movement of the shop read with it, `mvt:<id>`. A quantity can come back to the figure
 * the hub expects after two changes (an edit +1 and a sale −1) that the stock_movements feed has not
 * yet reported; the figure alone would let a push write over the edit. A movement of the item after
 * the basis says the record moved behind the figure.
 */
export function psBasis(movementId: number): string {
  return `mvt:${movementId}`;
}
/** A basis this connector wrote, read back; null for anything else (then the push is checked on the figure alone). */
export function readPsBasis(basis: string | null | undefined): number | null {
  const m = typeof basis === 'string' ? /^mvt:(\d{1,15})$/.exec(basis) : null;
  return m ? Number(m[1]) : null;
}
