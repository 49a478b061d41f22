/**
 * Reading Square's wire JSON (snake_case), as webhooks carry it and the client fetches orders:
 * objects, strings given, times. Shared by the facts (translate.ts) and their money (order-money.ts).
 */

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string given and not blank, trimmed; else null. */
export function str(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** A readable time as ISO 8601 UTC, or null. */
export function iso(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}
