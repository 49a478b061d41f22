/** Channels' OAuth 2.0 tokens, sealed, with a refresh lease (docs/credentials-oauth.md). */

/** A channel's OAuth 2.0 tokens as stored: sealed (encrypted), never in clear (docs/credentials-oauth.md). */
export interface PlatformTokenRow {
  channelId: string;
  sealed: string;
  /** Bumped by every write. */
  version: number;
  updatedAt: string;
  /** The hub process refreshing the tokens now, and until when its claim holds (null: nobody). */
  leaseOwner: string | null;
  leaseUntil: string | null;
}

/** The OAuth kit's TokenStore (server/connectors/kit/oauth/) is this area. */
export interface PlatformTokensOps {
  /** A channel's stored OAuth tokens, or null when it has none. */
  get(channelId: string): Promise<PlatformTokenRow | null>;
  /**
   * Writes a channel's sealed tokens and ends any refresh lease, committed when it returns. Only if
   * the stored version is still `expected` (null: no row yet; 'any': whatever is stored, for a new
   * authorisation). Returns the new version, or null when another write came first (nothing changed).
   */
  save(channelId: string, sealed: string, expected: number | null | 'any', now: string): Promise<number | null>;
  /**
   * Claims the right to refresh a channel's tokens until `until`, if they are still at `version` and
   * nobody else holds an unexpired claim (`owner` may renew its own). False when not claimed.
   */
  claimRefresh(channelId: string, version: number, owner: string, until: string, now: string): Promise<boolean>;
  /** Ends `owner`'s claim, if it still holds one; the tokens are not changed. */
  releaseRefresh(channelId: string, owner: string): Promise<void>;
}
