/**
 * OAuth 2.0 credentials for every connector (docs/credentials-oauth.md): a `TokenSource` per channel
 * that hands out a valid access token, refreshes it ahead of expiry (one refresh shared by every
 * caller of the process, and by every hub process on the database), and keeps the tokens encrypted
 * in the store.
 *
 * The invariant it protects: a token answer's new refresh token is written to the store, and the
 * write committed, before its access token is handed to anyone. A platform that rotates refresh
 * tokens stops accepting the old one as soon as it answers; a hub that used the new access token
 * first and crashed before saving would hold only a dead refresh token, and the shop owner would
 * have to authorise again. `test/connectors/oauth.test.ts` kills a process on both sides of the
 * write to show it.
 *
 * Grants: authorization_code (with PKCE S256, refresh tokens rotated or not), refresh_token,
 * client_credentials and the JWT assertion grant (RFC 6749 §4.1, §4.4, §6; RFC 7636; RFC 7523 §2.1). Token answers are read per RFC 6749 §5.1
 *
 * records.ts: what the store keeps, and which channels use OAuth. cipher.ts: the seal. endpoint.ts:
 * the platform's token endpoint. token-source.ts: the `TokenSource` and `authorizedFetch`.
 */
export { CLIENT_ID, CLIENT_SECRET, requiredCredentials, usesOAuth, type TokenRecord, type TokenStore } from './records';
export { TokenCipher, TokenStoreError } from './cipher';
export { JWT_BEARER_GRANT, OAuthEndpoint, OAuthRefusal, grantParams, pkcePair, readTokenAnswer, withoutConsent, type TokenAnswer } from './endpoint';
export { DirectTokenSource, type DirectTokenOptions } from './direct';
export { OAuthTokenSource, abortable, authorizeCommand, authorizedFetch, retryUnauthorized, type TokenSourceOptions } from './token-source';
