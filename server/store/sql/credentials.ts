/** Credentials (SQL, both dialects). */
import type { Selectable } from 'kysely';
import type { CredentialRecord, CredentialSecrets, CredentialsOps } from '../areas/credentials';
import type { Database } from '../schema';
import { rowOf, type Conn } from './conn';

const toCredential = (r: Selectable<Database['credentials']>): CredentialRecord => ({
  id: Number(r.id),
  name: r.name,
  scopes: JSON.parse(r.scopes) as string[],
  tokenPrefix: r.token_prefix,
  relaySecretPrefix: r.relay_secret_prefix,
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  rotatedAt: r.rotated_at,
  revokedAt: r.revoked_at,
});

export class SqlCredentials implements CredentialsOps {
  constructor(private readonly c: Conn) {}

  async create(c: { name: string; scopes: string[] } & CredentialSecrets, now: string): Promise<CredentialRecord> {
    const r = await this.c.db
      .insertInto('credentials')
      .values({
        name: c.name,
        scopes: JSON.stringify(c.scopes),
        token_hash: c.tokenHash,
        token_prefix: c.tokenPrefix,
        relay_nonce: c.relayNonce,
        relay_secret_prefix: c.relaySecretPrefix,
        created_at: now,
        last_used_at: null,
        rotated_at: null,
        revoked_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toCredential(r);
  }

  async list(): Promise<CredentialRecord[]> {
    return (await this.c.db.selectFrom('credentials').selectAll().orderBy('id').execute()).map(toCredential);
  }

  async get(id: number): Promise<CredentialRecord | null> {
    return rowOf(this.c.db.selectFrom('credentials').selectAll().where('id', '=', id), toCredential);
  }

  async byTokenHash(tokenHash: string): Promise<CredentialRecord | null> {
    return rowOf(this.c.db.selectFrom('credentials').selectAll().where('token_hash', '=', tokenHash), toCredential);
  }

  async relaying(): Promise<(CredentialRecord & { relayNonce: string })[]> {
    const rows = await this.c.db.selectFrom('credentials').selectAll().where('revoked_at', 'is', null).where('relay_nonce', 'is not', null).orderBy('id').execute();
    return rows.map((r) => ({ ...toCredential(r), relayNonce: r.relay_nonce! }));
  }

  async rotate(id: number, secrets: CredentialSecrets, now: string): Promise<CredentialRecord | null> {
    const r = await this.c.db
      .updateTable('credentials')
      .set({ token_hash: secrets.tokenHash, token_prefix: secrets.tokenPrefix, relay_nonce: secrets.relayNonce, relay_secret_prefix: secrets.relaySecretPrefix, rotated_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .returningAll()
      .executeTakeFirst();
    return r ? toCredential(r) : null;
  }

  async revoke(id: number, now: string): Promise<CredentialRecord | null> {
    await this.c.db.updateTable('credentials').set({ revoked_at: now }).where('id', '=', id).where('revoked_at', 'is', null).execute();
    return this.get(id);
  }

  async touch(id: number, now: string): Promise<void> {
    await this.c.db.updateTable('credentials').set({ last_used_at: now }).where('id', '=', id).execute();
  }
}
