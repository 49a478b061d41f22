/** Stops the PostgreSQL server test/global-setup.ts started, if it did, and removes the run's temporary folder. */
import fs from 'node:fs';
import type { RunningPostgres } from './helpers/machine';
import { POSTGRES_KEY } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const pg = (globalThis as Record<string, unknown>)[POSTGRES_KEY] as RunningPostgres | undefined;
  if (pg) {
    await pg.stop();
    delete (globalThis as Record<string, unknown>)[POSTGRES_KEY];
  }
  const dir = process.env.STOCKRELAY_TEST_TMP;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
