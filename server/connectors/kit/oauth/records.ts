/** What the store keeps of a channel's tokens, and which channels get their tokens through OAuth. */
import type { ConnectorDefinition, OAuthSpec } from '../../types';

/** What the store keeps for a channel, inside the seal. */
export interface TokenRecord {
  grant: OAuthSpec['grant'];
  /** Null when the last answer carried a refresh token but no usable access token. */
  accessToken: string | null;
  tokenType: string;
  /** When the access token expires; null when the platform did not say (used until it is refused). */
  expiresAt: string | null;
  refreshToken: string | null;
  refreshTokenExpiresAt: string | null;
  /** The scopes granted, as the platform said them (RFC 6749 §5.1), when it did. */
  scope: string | null;
  /** When this access token was obtained. */
  obtainedAt: string;
  /** When the shop owner last authorised (the authorisation code was exchanged). */
  authorisedAt: string | null;
  /** Who the tokens act for, when the platform says (Square: merchant_id); not a secret. */
  account: string | null;
}

/** What the token source needs of the store (server/store/types.ts implements it). */
export interface TokenStore {
  platformTokens: {
    get(channelId: string): Promise<{ version: number; sealed: string; leaseOwner: string | null; leaseUntil: string | null } | null>;
    save(channelId: string, sealed: string, expected: number | null | 'any', now: string): Promise<number | null>;
    claimRefresh(channelId: string, version: number, owner: string, until: string, now: string): Promise<boolean>;
    releaseRefresh(channelId: string, owner: string): Promise<void>;
  };
}

/** The credentials of the app at the token endpoint, as named in a channel's `credentials`. */
export const CLIENT_ID = 'clientId';
export const CLIENT_SECRET = 'clientSecret';

/** Whether a channel of this platform with these credentials gets its tokens through OAuth. */
export function usesOAuth(def: Pick<ConnectorDefinition, 'oauth'>, credentials: Record<string, unknown>): boolean {
  if (!def.oauth) return false;
  return !def.oauth.optional || CLIENT_ID in credentials;
}

/** The credential names a channel must map: the definition's, with OAuth's in place of those it replaces. */
export function requiredCredentials(def: Pick<ConnectorDefinition, 'oauth' | 'credentials'>, credentials: Record<string, unknown>): string[] {
  if (!def.oauth || !usesOAuth(def, credentials)) return [...def.credentials];
  const replaced = new Set(def.oauth.replaces ?? []);
  const own = def.credentials.filter((c) => !replaced.has(c));
  const assertion = def.oauth.grant === 'jwt_bearer' ? [def.oauth.assertionCredential ?? 'assertion'] : [];
  return [...new Set([...own, CLIENT_ID, ...(def.oauth.clientAuth === 'none' ? [] : [CLIENT_SECRET]), ...assertion])];
}
