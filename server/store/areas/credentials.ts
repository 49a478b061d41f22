/** Credentials a source uses instead of the admin token (docs/security.md). */

/**
 * A credential one source uses instead of the admin token (docs/security.md). The store keeps only a
 * hash of its token and the nonce its relay secret is derived from; neither secret itself.
 */
export interface CredentialRecord {
  id: number;
  name: string;
  scopes: string[];
  /** The first characters of the token, to tell credentials apart; null when it has no token. */
  tokenPrefix: string | null;
  /** The first characters of the relay secret; null when it does not relay. */
  relaySecretPrefix: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  rotatedAt: string | null;
  revokedAt: string | null;
}

/** What a credential's secrets are checked against: the token's hash and the relay secret's nonce. */
export interface CredentialSecrets {
  tokenHash: string | null;
  tokenPrefix: string | null;
  relayNonce: string | null;
  relaySecretPrefix: string | null;
}

export interface CredentialsOps {
  /** Stores a new credential (its token's hash and its relay nonce, never the secrets). */
  create(c: { name: string; scopes: string[] } & CredentialSecrets, now: string): Promise<CredentialRecord>;
  /** Every credential, revoked ones too, by id. */
  list(): Promise<CredentialRecord[]>;
  get(id: number): Promise<CredentialRecord | null>;
  /** The credential whose token has this hash, revoked or not; null when none has. */
  byTokenHash(tokenHash: string): Promise<CredentialRecord | null>;
  /** The credentials not revoked that relay, with the nonce their relay secret is derived from. */
  relaying(): Promise<(CredentialRecord & { relayNonce: string })[]>;
  /** New secrets for a credential not revoked; null when it is unknown or revoked. The old ones stop at once. */
  rotate(id: number, secrets: CredentialSecrets, now: string): Promise<CredentialRecord | null>;
  /** Revokes a credential (the first revocation's time is kept); null when it is unknown. */
  revoke(id: number, now: string): Promise<CredentialRecord | null>;
  /** Records that the credential was used now. */
  touch(id: number, now: string): Promise<void>;
}
