/** The store conformance suite against the embedded SQLite store (a fresh file per test). */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '../../server/store/open';
import { describeStoreConformance } from './conformance';
import { tempDir } from '../helpers/hub';

describeStoreConformance('SQLite', async () => {
  const dataDir = tempDir('sr-store-');
  const store = await openStore({ dataDir });
  const others: { close(): Promise<void> }[] = [];
  return {
    store,
    async raw(statement) {
      const db = new Database(path.join(dataDir, 'stockrelay.sqlite'));
      try {
        return db.prepare(statement).run().changes;
      } finally {
        db.close();
      }
    },
    async second() {
      const s = await openStore({ dataDir });
      others.push(s);
      return s;
    },
    async cleanup() {
      await store.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
});
