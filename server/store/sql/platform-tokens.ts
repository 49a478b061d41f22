/** Platform tokens (SQL, both dialects). */
import { sql } from 'kysely';
import type { PlatformTokenRow, PlatformTokensOps } from '../areas/platform-tokens';
import type { Conn } from './conn';

export class SqlPlatformTokens implements PlatformTokensOps {
  constructor(private readonly c: Conn) {}

  async get(channelId: string): Promise<PlatformTokenRow | null> {
    const r = await this.c.db.selectFrom('platform_tokens').selectAll().where('channel_id', '=', channelId).executeTakeFirst();
    return r
      ? { channelId: r.channel_id, sealed: r.sealed, version: Number(r.version), updatedAt: r.updated_at, leaseOwner: r.lease_owner, leaseUntil: r.lease_until }
      : null;
  }

  async save(channelId: string, sealed: string, expected: number | null | 'any', now: string): Promise<number | null> {
    const fresh = { channel_id: channelId, sealed, version: 1, updated_at: now, lease_owner: null, lease_until: null };
    if (expected === null) {
      const r = await this.c.db.insertInto('platform_tokens').values(fresh).onConflict((oc) => oc.column('channel_id').doNothing()).returning('version').executeTakeFirst();
      return r ? Number(r.version) : null;
    }
    if (expected === 'any') {
      const r = await this.c.db
        .insertInto('platform_tokens')
        .values(fresh)
        .onConflict((oc) => oc.column('channel_id').doUpdateSet({ sealed, version: sql`platform_tokens.version + 1`, updated_at: now, lease_owner: null, lease_until: null }))
        .returning('version')
        .executeTakeFirstOrThrow();
      return Number(r.version);
    }
    const r = await this.c.db
      .updateTable('platform_tokens')
      .set({ sealed, version: sql`version + 1`, updated_at: now, lease_owner: null, lease_until: null })
      .where('channel_id', '=', channelId)
      .where('version', '=', expected)
      .returning('version')
      .executeTakeFirst();
    return r ? Number(r.version) : null;
  }

  async claimRefresh(channelId: string, version: number, owner: string, until: string, now: string): Promise<boolean> {
    const r = await this.c.db
      .updateTable('platform_tokens')
      .set({ lease_owner: owner, lease_until: until })
      .where('channel_id', '=', channelId)
      .where('version', '=', version)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now), eb('lease_owner', '=', owner)]))
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async releaseRefresh(channelId: string, owner: string): Promise<void> {
    await this.c.db.updateTable('platform_tokens').set({ lease_owner: null, lease_until: null }).where('channel_id', '=', channelId).where('lease_owner', '=', owner).execute();
  }
}
