/**
 * The store conformance suite against PostgreSQL, each test in a fresh schema. Needs DATABASE_URL
 * (.ci/run sets it); without it these tests fail, they are never skipped.
 */
import pg from 'pg';
import { openStore } from '../../server/store/open';
import { describeStoreConformance } from './conformance';
import { databaseUrl, dropSchema, freshSchema } from '../helpers/hub';

describeStoreConformance('PostgreSQL', async () => {
  const schema = freshSchema('store');
  const store = await openStore({ databaseUrl: databaseUrl(), pgSchema: schema, poolSize: 8 });
  return {
    store,
    async raw(statement) {
      const c = new pg.Client({ connectionString: databaseUrl(), options: `-c search_path=${schema}` });
      await c.connect();
      try {
        return (await c.query(statement)).rowCount ?? 0;
      } finally {
        await c.end();
      }
    },
    second: () => openStore({ databaseUrl: databaseUrl(), pgSchema: schema, poolSize: 2 }),
    async cleanup() {
      await store.close();
      await dropSchema(schema);
    },
  };
});
