/**
 * The one bound on a quantity of stock (docs/ledger.md, "The bound on a quantity"). Every door that
 * takes a number of units (relays and cell edits, the API, purchase and supplier orders, the facts
 * and levels channels report) and every level the ledger keeps stays within ±MAX_QUANTITY.
 *
 * Pure and without imports, so the add-on bundle can share it.
 */

/**
 * 1,000,000,000 units: Shopify's own ceiling for an inventory quantity; every level in range and
 * every movement between two such levels (at most 2,000,000,000) fits a 32-bit integer; and sums
 * of millions of movements stay exact in a JavaScript number.
 */
export const MAX_QUANTITY = 1_000_000_000;

/** The bound as people read it: "1,000,000,000". */
export const MAX_QUANTITY_TEXT = '1,000,000,000';

/** A whole number of units from −MAX_QUANTITY to MAX_QUANTITY. */
export function isBoundedQuantity(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && Math.abs(n) <= MAX_QUANTITY;
}

/**
 * Why `n` is not a quantity `what` may hold (a whole number from `min` to MAX_QUANTITY), as a
 * sentence for a shop owner; null when it is one.
 */
export function quantityProblem(n: unknown, what: string, min = -MAX_QUANTITY): string | null {
  if (typeof n !== 'number' || !Number.isFinite(n)) return `${what} must be a whole number of units; it is ${JSON.stringify(n) ?? String(n)}.`;
  if (!Number.isInteger(n)) return `${what} must be a whole number of units; ${n} is a fraction.`;
  if (n > MAX_QUANTITY || n < -MAX_QUANTITY) return `${what} is ${n}, beyond the ${MAX_QUANTITY_TEXT} units the hub keeps of one item at one location.`;
  if (n < min) return `${what} must be ${min} or more; it is ${n}.`;
  return null;
}
