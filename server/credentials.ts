/**
 * Credentials: one per source (the sheet add-on, an Airtable base, a reader of reports), each able to
 * do only what that source needs, instead of the hub's admin token (docs/security.md).
 *
 * - A bearer token (`srt_…`, scopes `sidebar` and `read`): the store keeps only its SHA-256. Tokens are
 *   32 random bytes, so a plain hash is enough: nothing can be guessed from it.
 * - A relay secret (`whsec_…`, scopes `sidebar` and `relay`), to sign relays as the hub-wide relay
 *   secret does: the hub must know it to check an HMAC, so it is derived from the hub's credential key
 *   (kept on the supplier's machine, never in the database) and a random nonce kept in the store.
 *   Someone who reads the database learns neither.
 *
 * Every request looks its credential up in the store, so a revocation or a rotation made through the
 * API, the CLI or another hub process sharing the database counts from the next request on.
 */
import crypto from 'node:crypto';
import { RelayVerifier, type VerifyResult } from './relay/verify';
import type { CredentialRecord, CredentialSecrets, Store } from './store/types';

export const CREDENTIAL_SCOPES = ['sidebar', 'relay', 'read'] as const;
export type CredentialScope = (typeof CREDENTIAL_SCOPES)[number];

/** What each scope is for, in the words the CLI and the API document use. */
export const SCOPE_HELP: Record<CredentialScope, string> = {
  sidebar:
    'for the Google Sheets add-on: read levels, movements, alerts, conflicts and purchase orders, adjust and count stock, decide conflicts, send and cancel purchase orders, and sign the sheet’s relays. Comes with a token and a relay secret.',
  relay: 'for an Airtable base (or any script that relays changes): send signed relays and nothing else. Comes with a relay secret only.',
  read: 'for a report or dashboard: read levels, movements, alerts, conflicts and purchase orders, change nothing. Comes with a token only.',
};

/** Scopes that come with a bearer token, and scopes that come with a relay secret. */
const TOKEN_SCOPES: readonly CredentialScope[] = ['sidebar', 'read'];
const RELAY_SCOPES: readonly CredentialScope[] = ['sidebar', 'relay'];

export const TOKEN_PREFIX = 'srt_';
/** How much of a secret is shown in lists: enough to tell two apart, far too little to use. */
const SHOWN = 10;

export const hashToken = (token: string): string => crypto.createHash('sha256').update(token, 'utf8').digest('hex');

export interface IssuedCredential {
  credential: CredentialRecord;
  /** The bearer token, shown once; null when the scopes need none. */
  token: string | null;
  /** The relay secret, shown once; null when the scopes do not relay. */
  relaySecret: string | null;
}

export type TokenCheck = { ok: true; credential: CredentialRecord } | { ok: false; revoked: CredentialRecord | null };

export class CredentialError extends Error {
  constructor(
    readonly code: 'unknown_credential' | 'credential_revoked' | 'invalid_credential',
    message: string,
  ) {
    super(message);
  }
}

export class Credentials {
  /** When each credential's use was last written, so a busy source writes it about once a minute. */
  private readonly touched = new Map<number, number>();
  /** Verifiers by relay nonce (a derived secret is checked many times; deriving it is not free). */
  private readonly verifiers = new Map<string, RelayVerifier>();

  constructor(
    private readonly store: Store,
    /** The hub's credential key (HubConfig.credentialKey). */
    private readonly key: string,
    private readonly clock: () => Date = () => new Date(),
    private readonly touchEveryMs = 60_000,
  ) {
    if (key.length < 32) throw new Error('The credential key must be at least 32 characters long.');
  }

  /** The relay secret of the credential whose nonce this is. */
  relaySecret(nonce: string): string {
    return `whsec_${crypto.createHmac('sha256', this.key).update(`stockrelay relay secret v1:${nonce}`).digest('base64')}`;
  }

  private issue(scopes: CredentialScope[]): { secrets: CredentialSecrets; token: string | null; relaySecret: string | null } {
    const token = scopes.some((s) => TOKEN_SCOPES.includes(s)) ? TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url') : null;
    const relayNonce = scopes.some((s) => RELAY_SCOPES.includes(s)) ? crypto.randomBytes(32).toString('base64url') : null;
    const relaySecret = relayNonce === null ? null : this.relaySecret(relayNonce);
    return {
      token,
      relaySecret,
      secrets: {
        tokenHash: token === null ? null : hashToken(token),
        tokenPrefix: token === null ? null : token.slice(0, SHOWN),
        relayNonce,
        relaySecretPrefix: relaySecret === null ? null : relaySecret.slice(0, SHOWN),
      },
    };
  }

  /** Checks a name and scopes given by a person; throws CredentialError saying what to fix. */
  static check(name: string, scopes: string[]): CredentialScope[] {
    if (name.trim() === '' || name.length > 100) throw new CredentialError('invalid_credential', 'Give the credential a name of 1 to 100 characters that says where it is used, like "Shop sheet" or "Airtable: Gallery base".');
    const bad = scopes.filter((s) => !(CREDENTIAL_SCOPES as readonly string[]).includes(s));
    if (bad.length > 0 || scopes.length === 0) {
      throw new CredentialError('invalid_credential', `Choose the scope from ${CREDENTIAL_SCOPES.join(', ')}${bad.length ? ` ("${bad.join('", "')}" is not one)` : ''}.`);
    }
    return [...new Set(scopes)] as CredentialScope[];
  }

  async create(name: string, scopes: string[]): Promise<IssuedCredential> {
    const checked = Credentials.check(name, scopes);
    const { secrets, token, relaySecret } = this.issue(checked);
    const credential = await this.store.credentials.create({ name: name.trim(), scopes: checked, ...secrets }, this.clock().toISOString());
    return { credential, token, relaySecret };
  }

  list(): Promise<CredentialRecord[]> {
    return this.store.credentials.list();
  }

  /** New token and relay secret for the credential; the old ones stop working at once. */
  async rotate(id: number): Promise<IssuedCredential> {
    const before = await this.store.credentials.get(id);
    if (!before) throw new CredentialError('unknown_credential', `There is no credential ${id}; nothing was changed. "npx stockrelay credentials list" shows them.`);
    if (before.revokedAt) throw new CredentialError('credential_revoked', `Credential ${id} ("${before.name}") was revoked at ${before.revokedAt}; a revoked credential stays revoked. Create a new one instead.`);
    const { secrets, token, relaySecret } = this.issue(before.scopes as CredentialScope[]);
    const credential = await this.store.credentials.rotate(id, secrets, this.clock().toISOString());
    if (!credential) throw new CredentialError('credential_revoked', `Credential ${id} ("${before.name}") was revoked meanwhile; nothing was changed.`);
    return { credential, token, relaySecret };
  }

  /** Revokes the credential; `already` when it was revoked before. */
  async revoke(id: number): Promise<{ credential: CredentialRecord; already: boolean }> {
    const before = await this.store.credentials.get(id);
    if (!before) throw new CredentialError('unknown_credential', `There is no credential ${id}; nothing was changed. "npx stockrelay credentials list" shows them.`);
    const credential = (await this.store.credentials.revoke(id, this.clock().toISOString()))!;
    this.touched.delete(id);
    return { credential, already: before.revokedAt !== null };
  }

  /** The credential a bearer token belongs to, if it is one of ours and not revoked. */
  async authenticate(token: string): Promise<TokenCheck> {
    if (!token.startsWith(TOKEN_PREFIX)) return { ok: false, revoked: null };
    const found = await this.store.credentials.byTokenHash(hashToken(token));
    if (!found) return { ok: false, revoked: null };
    if (found.revokedAt) return { ok: false, revoked: found };
    await this.touch(found.id);
    return { ok: true, credential: found };
  }

  /**
   * Checks a relay against the relay secret of every credential not revoked. Returns the verdict and
   * the credential that signed it, or null when none did.
   */
  async verifyRelay(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): Promise<{ verdict: Extract<VerifyResult, { valid: true }>; credential: CredentialRecord } | null> {
    const candidates = await this.store.credentials.relaying();
    for (const c of candidates) {
      let verifier = this.verifiers.get(c.relayNonce);
      if (!verifier) {
        if (this.verifiers.size >= 1000) this.verifiers.clear();
        verifier = new RelayVerifier([this.relaySecret(c.relayNonce)]);
        this.verifiers.set(c.relayNonce, verifier);
      }
      const verdict = verifier.verify(rawBody, headers);
      if (verdict.valid) {
        await this.touch(c.id);
        const { relayNonce: _nonce, ...credential } = c;
        return { verdict, credential };
      }
    }
    return null;
  }

  private async touch(id: number): Promise<void> {
    const now = this.clock();
    const last = this.touched.get(id);
    if (last !== undefined && now.getTime() - last < this.touchEveryMs) return;
    this.touched.set(id, now.getTime());
    await this.store.credentials.touch(id, now.toISOString());
  }
}

/** What a list shows of a credential: never a secret, only the first characters of each. */
export function credentialView(c: CredentialRecord) {
  return {
    id: c.id,
    name: c.name,
    scopes: c.scopes,
    status: c.revokedAt ? ('revoked' as const) : ('active' as const),
    tokenPrefix: c.tokenPrefix,
    relaySecretPrefix: c.relaySecretPrefix,
    createdAt: c.createdAt,
    lastUsedAt: c.lastUsedAt,
    rotatedAt: c.rotatedAt,
    revokedAt: c.revokedAt,
  };
}
