/**
 * Which stores the tests run on, decided here and nowhere else: both by default (what `npm test`
 * and CI run), or the ones STOCKRELAY_TEST_STORES names, comma-separated (`npm run test:fast` sets
 * it to `sqlite`, so a run needs no PostgreSQL). Suites that run on each store iterate `STORES`;
 * test/global-setup.ts starts a PostgreSQL only when the list holds it.
 */
export type StoreKind = 'sqlite' | 'postgres';

const ALL: readonly StoreKind[] = ['sqlite', 'postgres'];

/** The stores this run tests, read from the environment at the time of the call. */
export function testStores(env: NodeJS.ProcessEnv = process.env): readonly StoreKind[] {
  const given = env.STOCKRELAY_TEST_STORES?.trim();
  if (!given) return ALL;
  const names = given.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(ALL as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) {
    throw new Error(`STOCKRELAY_TEST_STORES is a comma-separated list of ${ALL.join(', ')}; got "${given}"`);
  }
  return ALL.filter((k) => names.includes(k));
}

/** The stores of this run, for `describe.each(STORES)`. */
export const STORES: readonly StoreKind[] = testStores();
