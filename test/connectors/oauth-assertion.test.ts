/**
 * The JWT assertion grant (RFC 7523 §2.1) in the kit's credentials component: an assertion the
 * account owner issued once (Zettle's API key) gets each access token, with no consent page and no
 * refresh token. Against the emulated authorisation server on 127.0.0.1, answering as Zettle does
 * (`{access_token, expires_in}`, no token_type).
 */
import { DirectTokenSource, JWT_BEARER_GRANT, OAuthTokenSource, TokenCipher, readTokenAnswer, requiredCredentials, type TokenRecord } from '../../server/connectors/kit/oauth';
import { clientCredentialsAuthorization } from '../../server/connectors/kit/oauth-authorize';
import { OAuthEmulator } from '../../server/connectors/kit/oauth-emulator';
import { closeServer, listenOnLoopback, loopbackUrl } from '../../server/connectors/emulator';
import { ConnectorError, type ConnectorDefinition, type OAuthSpec } from '../../server/connectors/types';
import { definition as zettle } from '../../server/connectors/zettle';
import { openStore } from '../../server/store/open';
import type { Store } from '../../server/store/types';
import { tempDir } from '../helpers/hub';

const CLIENT_ID = 'a3f1c2d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const API_KEY = 'eyJraWQiOiIwIiwidHlwIjoiSldUIn0.assertion-test-key.sig';
const KEY = 'test-credential-key-0123456789-abcdefghijklmnop';
const CHANNEL = 'till';
const SPEC: OAuthSpec = { grant: 'jwt_bearer', assertionCredential: 'apiKey', baseUrl: 'https://oauth.example.invalid', tokenPath: '/token', scopes: [], clientAuth: 'none', rotatesRefreshTokens: false, tokenTypeOptional: true };

describe('the JWT assertion grant (RFC 7523) in the credentials component', () => {
  let emu: OAuthEmulator;
  let store: Store;
  const cipher = new TokenCipher(KEY);
  const credentials = () => ({ clientId: CLIENT_ID, apiKey: API_KEY });
  const settings = () => ({ oauthBaseUrl: emu.url });

  beforeEach(async () => {
    emu = new OAuthEmulator({ clients: [{ clientId: CLIENT_ID, assertions: [API_KEY] }], accessTokenTtlSeconds: 7200, bareAssertionAnswers: true });
    await emu.start();
    store = await openStore({ dataDir: tempDir('oauth-assertion-') });
  });
  afterEach(async () => {
    await emu.stop();
    await store.close();
  });

  test('a channel needs the client id and the assertion, and no client secret', () => {
    const def = { oauth: SPEC, credentials: ['signingKey'] } as Pick<ConnectorDefinition, 'oauth' | 'credentials'>;
    expect(requiredCredentials(def, {}).sort()).toEqual(['apiKey', 'clientId', 'signingKey']);
    expect(requiredCredentials(zettle, {}).sort()).toEqual(['apiKey', 'clientId', 'signingKey']);
  });

  test('the stored token source gets its first token with the assertion, keeps it sealed, and gets the next one the same way', async () => {
    const tokens = new OAuthTokenSource({ channelId: CHANNEL, platform: 'Zettle', spec: SPEC, credentials: credentials(), channelBaseUrl: null, settings: settings(), store, cipher });
    const first = await tokens.accessToken();
    expect(emu.checkBearer(`Bearer ${first}`)).toMatchObject({ ok: true, clientId: CLIENT_ID });
    expect(emu.tokenRequests).toEqual([{ grant: JWT_BEARER_GRANT, clientId: CLIENT_ID, status: 200, error: null }]);
    const row = await store.platformTokens.get(CHANNEL);
    const record = cipher.open<TokenRecord>(`platform-tokens:${CHANNEL}`, row!.sealed, 'tokens', 'fix');
    // Zettle's answer has no token_type: read as bearer; no refresh token to keep.
    expect(record).toMatchObject({ grant: 'jwt_bearer', accessToken: first, tokenType: 'bearer', refreshToken: null });
    expect(row!.sealed).not.toContain(API_KEY);
    // The token expires early: the platform's 401 gets a new one from the same assertion.
    emu.expireAccessTokens();
    const second = await tokens.onUnauthorized(first);
    expect(second).not.toBe(first);
    expect(emu.count(JWT_BEARER_GRANT)).toBe(2);
  });

  test('a key the owner revoked is a fault of the channel that says what to do and shows no secret, and nothing usable is stored', async () => {
    emu.revokeAssertion(API_KEY);
    const tokens = new OAuthTokenSource({ channelId: CHANNEL, platform: 'Zettle', spec: SPEC, credentials: credentials(), channelBaseUrl: null, settings: settings(), store, cipher });
    const err = (await tokens.accessToken().catch((e: unknown) => e)) as ConnectorError;
    expect(err).toBeInstanceOf(ConnectorError);
    expect([err.channelFault, err.retryable]).toEqual([true, false]);
    expect(err.message).toMatch(/credentials\.apiKey/);
    expect(err.message).not.toContain(API_KEY);
    expect(await store.platformTokens.get(CHANNEL)).toBeNull();
  });

  test('a key revoked after tokens were stored is asked about once per stored version, not on every call', async () => {
    const tokens = new OAuthTokenSource({ channelId: CHANNEL, platform: 'Zettle', spec: SPEC, credentials: credentials(), channelBaseUrl: null, settings: settings(), store, cipher });
    const first = await tokens.accessToken();
    emu.revokeAssertion(API_KEY);
    emu.expireAccessTokens();
    const calls = emu.tokenRequests.length;
    const one = (await tokens.onUnauthorized(first).catch((e: unknown) => e)) as ConnectorError;
    const two = (await tokens.onUnauthorized(first).catch((e: unknown) => e)) as ConnectorError;
    expect([one, two].map((e) => [e instanceof ConnectorError, e.channelFault])).toEqual([
      [true, true],
      [true, true],
    ]);
    expect(two.message).toBe(one.message);
    // Sent: one assertion, refused. Kept: the refusal, answered from memory to the next caller.
    expect(emu.tokenRequests.length - calls).toBe(1);
  });

  test('an in-memory source: a caller that gives up stops waiting at once, and the others still get the token', async () => {
    // A token endpoint that holds its answer until told: the caller's abort must not wait for it.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const slow = await listenOnLoopback((_req, res) => {
      void held.then(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'held-token', expires_in: 7200 })));
    });
    try {
      const tokens = new DirectTokenSource({ channelId: CHANNEL, platform: 'Zettle', spec: SPEC, credentials: credentials(), channelBaseUrl: null, settings: { oauthBaseUrl: loopbackUrl(slow) } });
      const quitting = new AbortController();
      const first = tokens.accessToken(quitting.signal);
      const second = tokens.accessToken();
      quitting.abort(new Error('the caller gave up'));
      // Rejected while the token request is still unanswered.
      await expect(first).rejects.toThrow('the caller gave up');
      release();
      await expect(second).resolves.toBe('held-token');
    } finally {
      release();
      await closeServer(slow);
    }
  });

  test('a channel without the assertion is told which credential is missing, before any request', () => {
    expect(() => new DirectTokenSource({ channelId: CHANNEL, platform: 'Zettle', spec: SPEC, credentials: { clientId: CLIENT_ID }, channelBaseUrl: null, settings: { oauthBaseUrl: 'http://127.0.0.1:9' } })).toThrow(/credentials\.apiKey/);
    expect(emu.tokenRequests).toEqual([]);
  });

  test('the in-memory source (a connector outside the hub) shares one request between callers and renews on a 401', async () => {
    const tokens = new DirectTokenSource({ channelId: CHANNEL, platform: 'Zettle', spec: SPEC, credentials: credentials(), channelBaseUrl: null, settings: settings() });
    const [a, b] = await Promise.all([tokens.accessToken(), tokens.accessToken()]);
    expect(a).toBe(b);
    expect(emu.count(JWT_BEARER_GRANT)).toBe(1);
    const c = await tokens.onUnauthorized(a);
    expect(c).not.toBe(a);
    expect(emu.count(JWT_BEARER_GRANT)).toBe(2);
  });

  test('`authorize --client-credentials` fetches and keeps a token with the assertion', async () => {
    const result = await clientCredentialsAuthorization({
      channel: { id: CHANNEL, platform: 'zettle', baseUrl: null, settings: { ...settings(), organizationUuid: '1b84dbd0-fb65-11e7-9c34-d96d4f33e8fc' }, credentials: { ...credentials(), signingKey: 'k' } },
      def: zettle,
      store,
      cipher,
    });
    expect(result).toMatchObject({ grant: 'jwt_bearer', refreshToken: false });
    expect(emu.count(JWT_BEARER_GRANT)).toBe(1);
  });

  test('an answer without token_type is refused unless the platform is known to leave it out', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    expect(readTokenAnswer({ access_token: 'x', expires_in: 7200 }, 'jwt_bearer', now).problem).toMatch(/no token_type/);
    expect(readTokenAnswer({ access_token: 'x', expires_in: 7200 }, 'jwt_bearer', now, { tokenTypeOptional: true })).toMatchObject({ problem: null, record: { accessToken: 'x', expiresAt: '2026-01-01T02:00:00.000Z' } });
  });
});
