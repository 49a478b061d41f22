/** Hub state (SQL, both dialects). */
import type { HubStateOps } from '../areas/hub-state';
import type { Conn } from './conn';

export class SqlHubState implements HubStateOps {
  constructor(private readonly c: Conn) {}

  async get<T>(key: string): Promise<T | null> {
    const r = await this.c.db.selectFrom('hub_state').select('value').where('key', '=', key).executeTakeFirst();
    return r ? (JSON.parse(r.value) as T) : null;
  }

  async set(key: string, value: unknown, now: string): Promise<void> {
    const text = JSON.stringify(value);
    await this.c.db
      .insertInto('hub_state')
      .values({ key, value: text, updated_at: now })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: text, updated_at: now }))
      .execute();
  }
}
