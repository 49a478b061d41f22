/**
 * What every area's SQL implementation is built on: one connection (or one open transaction) of one
 * store, in one dialect. An area that needs several statements to hold together runs them through
 * `inTx`, which joins the transaction it is already in.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Dialect } from '../areas/common';
import type { LocationRecord } from '../areas/locations';
import type { Database } from '../schema';

/**
 * What every connection and transaction of one store shares: the locations seen so far. Locations
 * come from the config file and are never removed, so one that exists once stays; only names can
 * change, at startup (locations.ensure). Saves a query on every booking.
 */
export interface Shared {
  locations: Map<string, LocationRecord>;
}

export class Conn {
  constructor(
    readonly db: Kysely<Database>,
    readonly dialect: Dialect,
    readonly shared: Shared = { locations: new Map() },
  ) {}

  /** Runs `fn` inside a transaction, joining the current one if there is one. */
  inTx<T>(fn: (c: Conn) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    return this.db.transaction().execute((trx: Transaction<Database>) => fn(new Conn(trx, this.dialect, this.shared)));
  }
}

/** The one row a query finds, as its record (`map`); null when it finds none. */
export async function rowOf<R, T>(query: { executeTakeFirst(): Promise<R | undefined> }, map: (r: R) => T | Promise<T>): Promise<T | null> {
  const r = await query.executeTakeFirst();
  return r ? map(r) : null;
}

/** The columns every order line has, a customer's (purchase_order_lines) or a supplier's (supplier_order_lines). */
export const orderLineOf = (r: { line: number; sku: string; location_id: string; ordered: number }) => ({ line: r.line, sku: r.sku, locationId: r.location_id, ordered: r.ordered });

export const addMs = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** A unique index refused a write: PostgreSQL 23505, SQLite SQLITE_CONSTRAINT_UNIQUE. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** A nullable number column as a number. */
export const num = (v: number | string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
