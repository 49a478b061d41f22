/**
 * Reading a Shopify webhook body (REST JSON shape): objects, ids as gids, times, SKUs. Shared by
 * the stock facts (translate.ts) and the money of the transaction log (order-money.ts).
 */
import { toGid } from './ids';

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The object's gid: its `admin_graphql_api_id` when it is one of `type` (exact even past 2^53), else one made of `idField`. */
export function gidFrom(o: Obj, type: Parameters<typeof toGid>[0], idField = 'id'): string | null {
  const api = o.admin_graphql_api_id;
  if (typeof api === 'string' && api.startsWith(`gid://shopify/${type}/`)) return api;
  return toGid(type, o[idField]);
}

/** A readable time as ISO 8601 UTC, or null. */
export function iso(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : new Date(t).toISOString();
}

/** A SKU given and not blank, trimmed; else null. */
export function skuOf(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}
