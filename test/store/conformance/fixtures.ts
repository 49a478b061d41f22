/** What every area of the store conformance suite shares: the store under test and small builders. */
import type { MovementInput } from '../../../server/core/ledger';
import type { Store } from '../../../server/store/types';

export interface OpenedStore {
  store: Store;
  /** Runs one raw SQL statement on a separate connection to the same database; returns rows changed. */
  raw(statement: string): Promise<number>;
  /** A second store on the same database (another hub process). */
  second(): Promise<Store>;
  cleanup(): Promise<void>;
}

/** The store opened for the current test (set in `beforeEach` by describeStoreConformance). */
export interface Suite {
  o: OpenedStore;
  store: Store;
}

export const T0 = '2026-11-22T10:00:00.000Z';
export const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

let keySeq = 0;
export const move = (over: Partial<MovementInput> = {}): MovementInput => ({
  sku: 'SKU-1',
  locationId: 'main',
  quantity: 1,
  reason: 'restock',
  source: 'api',
  idempotencyKey: `k-${++keySeq}-${Math.random().toString(36).slice(2)}`,
  occurredAt: T0,
  ...over,
});
