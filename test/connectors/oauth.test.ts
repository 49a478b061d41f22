/**
 * OAuth 2.0 credentials (server/connectors/kit/oauth.ts, docs/credentials-oauth.md) against the
 * emulated authorisation server (server/connectors/kit/oauth-emulator.ts), a real HTTP server on
 * 127.0.0.1 that rotates refresh tokens, refuses a reused one (revoking its whole family) and can
 * expire access tokens before their expires_in. Every store-backed case runs on SQLite and
 * PostgreSQL.
 *
 * The crash cases run a real process (test/helpers/oauth-child.ts) and kill it with SIGKILL: after
 * the store committed a refresh answer and before the access token was used, and while the new
 * token is being used; a new process then still works with the stored refresh token. Killed between
 * the token answer and its save, the new process is locked out: what would happen to every crash
 * during use if the hub used a new token before saving it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ChannelRegistry } from '../../server/channels/registry';
import { beginAuthorization, clientCredentialsAuthorization, finishAuthorization, readPasted, runAuthorize, type AuthorizeContext } from '../../server/connectors/kit/oauth-authorize';
import { OAuthEmulator } from '../../server/connectors/kit/oauth-emulator';
import { closeServer, listenOnLoopback, loopbackUrl } from '../../server/connectors/emulator';
import { OAuthEndpoint, OAuthRefusal, OAuthTokenSource, TokenCipher, authorizedFetch, readTokenAnswer, requiredCredentials, type TokenRecord } from '../../server/connectors/kit/oauth';
import { definition as squareDefinition } from '../../server/connectors/square';
import { SquareEmulator } from '../../server/connectors/square/emulator';
import { ConnectorError, type Connector, type ConnectorDefinition, type OAuthSpec } from '../../server/connectors/types';
import { loadConfig } from '../../server/config';
import { openStore } from '../../server/store/open';
import type { Store } from '../../server/store/types';
import { databaseUrl, dropSchema, freshSchema, tempDir, type StoreKind } from '../helpers/hub';
import { STORES } from '../helpers/stores';

const ROOT = path.resolve(__dirname, '../..');
const KEY = 'test-credential-key-0123456789-abcdefghijklmnop';
const OTHER_KEY = 'another-credential-key-9876543210-zyxwvutsrqpon';
const CLIENT = { clientId: 'stockrelay-app', clientSecret: 'app-secret-5f2b9c7e11d04aa8' };
const REDIRECT = 'https://hub.example.com/oauth/callback';
const CHANNEL = 'demo';
const TTL = 3600;

const SPEC: OAuthSpec = {
  grant: 'authorization_code',
  baseUrl: 'https://auth.example.invalid',
  authorizePath: '/authorize',
  tokenPath: '/token',
  scopes: ['inventory.read', 'inventory.write'],
  clientAuth: 'client_secret_basic',
  pkce: true,
  rotatesRefreshTokens: true,
};

function unsupported(): never {
  throw new ConnectorError('not part of the OAuth demo platform', false);
}

/** A platform whose only API call is the emulator's protected resource, through the channel's TokenSource. */
function demoDefinition(spec: OAuthSpec): ConnectorDefinition {
  return {
    platform: 'oauth-demo',
    displayName: 'Demo',
    docsUrl: 'https://example.invalid/docs',
    secretHeaders: [],
    credentials: [],
    requiredSettings: [],
    oauth: spec,
    capabilities: { platform: 'oauth-demo', push: ['absolute_set'], locations: false, hideRelist: { supported: false, how: 'no' }, webhooks: [], polled: [], rateLimit: { kind: 'unpublished', description: 'none' }, maxBatch: 1 },
    create(ctx): Connector {
      const tokens = ctx.tokens;
      return {
        capabilities: this.capabilities,
        verify: () => ({ valid: false, reason: 'no webhooks' }),
        translate: () => [],
        push: unsupported,
        read: unsupported,
        hide: unsupported,
        relist: unsupported,
        async listCatalog(signal) {
          if (!tokens) throw new ConnectorError('this channel has no OAuth tokens', false);
          const res = await authorizedFetch(tokens)(`${String(ctx.settings.oauthBaseUrl)}/resource`, signal ? { signal } : {});
          if (res.status !== 200) throw new ConnectorError(`resource answered ${res.status}`, false, null, res.status);
          return [{ sku: 'DEMO-1', title: 'Demo listing', ref: { productId: 'p1', variantId: 'v1' } }];
        },
      };
    },
  };
}

/** A clock the emulator and the hub share, moved by the tests. */
function testClock() {
  let now = Date.parse('2026-12-01T10:00:00.000Z');
  return { clock: () => new Date(now), advance: (ms: number) => void (now += ms), set: (iso: string) => void (now = Date.parse(iso)) };
}

interface Opened {
  store: Store;
  second(): Promise<Store>;
  /** The platform_tokens rows as the database holds them. */
  rawRows(): Promise<Record<string, unknown>[]>;
  raw(statement: string): Promise<void>;
  storeOptions: { dataDir?: string; databaseUrl?: string; pgSchema?: string };
  cleanup(): Promise<void>;
}

async function openFor(kind: StoreKind): Promise<Opened> {
  const extra: Store[] = [];
  if (kind === 'sqlite') {
    const dataDir = tempDir('sr-oauth-');
    const store = await openStore({ dataDir });
    const file = path.join(dataDir, 'stockrelay.sqlite');
    const run = <T>(fn: (db: Database.Database) => T): T => {
      const db = new Database(file);
      try {
        return fn(db);
      } finally {
        db.close();
      }
    };
    return {
      store,
      storeOptions: { dataDir },
      async second() {
        const s = await openStore({ dataDir });
        extra.push(s);
        return s;
      },
      rawRows: async () => run((db) => db.prepare('select * from platform_tokens').all() as Record<string, unknown>[]),
      raw: async (statement) => void run((db) => db.prepare(statement).run()),
      async cleanup() {
        for (const s of extra) await s.close();
        await store.close();
      },
    };
  }
  const schema = freshSchema('oauth');
  const url = databaseUrl();
  const store = await openStore({ databaseUrl: url, pgSchema: schema });
  const query = async (statement: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(statement)).rows as Record<string, unknown>[];
    } finally {
      await c.end();
    }
  };
  return {
    store,
    storeOptions: { databaseUrl: url, pgSchema: schema },
    async second() {
      const s = await openStore({ databaseUrl: url, pgSchema: schema });
      extra.push(s);
      return s;
    },
    rawRows: () => query(`select * from ${schema}.platform_tokens`),
    raw: async (statement) => void (await query(statement.replace(/platform_tokens/g, `${schema}.platform_tokens`))),
    async cleanup() {
      for (const s of extra) await s.close();
      await store.close();
      await dropSchema(schema);
    },
  };
}

/** Opens the consent address as a browser would and returns where the emulator sent it. */
async function consent(url: string): Promise<string> {
  const res = await fetch(url, { redirect: 'manual' });
  await res.arrayBuffer();
  expect(res.status).toBe(302);
  return res.headers.get('location')!;
}

describe.each<StoreKind>(STORES)('OAuth credentials on %s', (kind) => {
  let o: Opened;
  let emu: OAuthEmulator;
  let t: ReturnType<typeof testClock>;
  const cipher = new TokenCipher(KEY);

  beforeEach(async () => {
    t = testClock();
    emu = new OAuthEmulator({ clients: [{ ...CLIENT, redirectUris: [REDIRECT] }], accessTokenTtlSeconds: TTL, clock: t.clock, defaultScope: 'inventory.read inventory.write' });
    await emu.start();
    o = await openFor(kind);
  });
  afterEach(async () => {
    await emu.stop();
    await o.cleanup();
  });

  const settings = () => ({ oauthBaseUrl: emu.url, oauthRedirectUri: REDIRECT });
  const authCtx = (spec: OAuthSpec = SPEC, store: Store = o.store): AuthorizeContext => ({
    channel: { id: CHANNEL, platform: 'oauth-demo', baseUrl: null, settings: settings(), credentials: { ...CLIENT } },
    def: demoDefinition(spec),
    store,
    cipher,
    clock: t.clock,
  });
  const source = (over: Partial<ConstructorParameters<typeof OAuthTokenSource>[0]> = {}) =>
    new OAuthTokenSource({ channelId: CHANNEL, platform: 'Demo', spec: SPEC, credentials: { ...CLIENT }, channelBaseUrl: null, settings: settings(), store: o.store, cipher, clock: t.clock, pollMs: 10, ...over });
  const stored = async (store: Store = o.store) => {
    const row = await store.platformTokens.get(CHANNEL);
    return row ? { version: row.version, record: cipher.open<TokenRecord>(`platform-tokens:${CHANNEL}`, row.sealed, 'tokens', 'fix') } : null;
  };
  /** The shop owner's one-time authorisation: consent address, browser, redirect address pasted back. */
  const authorise = async () => {
    const { url } = await beginAuthorization(authCtx());
    return finishAuthorization(authCtx(), await consent(url));
  };
  const resource = (tokens: OAuthTokenSource) => authorizedFetch(tokens)(`${emu.url}/resource`);

  test('authorisation: the consent address carries state and a PKCE S256 challenge; the redirect address is exchanged and the tokens kept', async () => {
    const { url } = await beginAuthorization(authCtx());
    const q = new URL(url).searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe(CLIENT.clientId);
    expect(q.get('redirect_uri')).toBe(REDIRECT);
    expect(q.get('scope')).toBe('inventory.read inventory.write');
    expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const done = await finishAuthorization(authCtx(), await consent(url));
    expect(done).toMatchObject({ grant: 'authorization_code', refreshToken: true, scope: 'inventory.read inventory.write' });
    const s = await stored();
    expect(s?.version).toBe(1);
    expect(s?.record).toMatchObject({ grant: 'authorization_code', tokenType: 'bearer', expiresAt: new Date(t.clock().getTime() + TTL * 1000).toISOString() });
    expect(emu.refreshTokenWorks(s!.record.refreshToken!)).toBe(true);
    // The emulator checked the code verifier against the challenge (it refuses a mismatch), and the resource takes the token.
    expect(emu.tokenRequests).toEqual([{ grant: 'authorization_code', clientId: CLIENT.clientId, status: 200, error: null }]);
    expect((await resource(source())).status).toBe(200);
    expect(emu.count('refresh_token')).toBe(0);
  });

  test('rotation: a refresh replaces the refresh token in the store, and the old one no longer works', async () => {
    await authorise();
    const before = (await stored())!;
    t.advance((TTL - 60) * 1000);
    const tokens = source();
    const access = await tokens.accessToken();
    const after = (await stored())!;
    expect(emu.count('refresh_token')).toBe(1);
    expect(after.version).toBe(before.version + 1);
    expect(after.record.accessToken).toBe(access);
    expect(after.record.accessToken).not.toBe(before.record.accessToken);
    expect(after.record.refreshToken).not.toBe(before.record.refreshToken);
    expect(emu.refreshTokenWorks(before.record.refreshToken!)).toBe(false);
    expect(emu.refreshTokenWorks(after.record.refreshToken!)).toBe(true);
    // The lease of the refresh ended with the write.
    expect(await o.store.platformTokens.get(CHANNEL)).toMatchObject({ leaseOwner: null, leaseUntil: null });
  });

  test('a platform that does not rotate: the answer has no refresh token and the one stored keeps working', async () => {
    const still = new OAuthEmulator({ clients: [{ ...CLIENT, redirectUris: [REDIRECT] }], accessTokenTtlSeconds: TTL, clock: t.clock, rotateRefreshTokens: false });
    await still.start();
    try {
      const spec = { ...SPEC, rotatesRefreshTokens: false };
      const ctx = { ...authCtx(spec), channel: { ...authCtx(spec).channel, settings: { oauthBaseUrl: still.url, oauthRedirectUri: REDIRECT } } };
      const { url } = await beginAuthorization(ctx);
      await finishAuthorization(ctx, await consent(url));
      const first = (await stored())!.record.refreshToken!;
      const tokens = source({ spec, settings: { oauthBaseUrl: still.url } });
      for (let i = 0; i < 3; i++) {
        t.advance(TTL * 1000);
        await tokens.accessToken();
      }
      expect(still.count('refresh_token')).toBe(3);
      expect((await stored())!.record.refreshToken).toBe(first);
      expect(still.refreshTokenWorks(first)).toBe(true);
    } finally {
      await still.stop();
    }
  });

  test('a reused refresh token is refused and revokes the family: a clear channel fault that names the authorize command, asked once', async () => {
    await authorise();
    const old = (await stored())!.record.refreshToken!;
    t.advance(TTL * 1000);
    const tokens = source();
    await tokens.accessToken();
    // Someone presents the rotated-out refresh token (a stolen copy, a restored backup): refused, and
    // the server revokes every token of the authorisation (RFC 9700 §4.14.2).
    const ep = new OAuthEndpoint(CHANNEL, 'Demo', SPEC, { credentials: { ...CLIENT }, channelBaseUrl: null, settings: settings() });
    await expect(ep.request({ grant_type: 'refresh_token', refresh_token: old })).rejects.toMatchObject({ status: 400, error: 'invalid_grant' });
    expect(emu.reuses).toEqual([old]);
    // The hub's own refresh token died with the family: its next refresh is refused.
    t.advance(TTL * 1000);
    const err = await tokens.accessToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ retryable: false, channelFault: true });
    expect((err as Error).message).toContain('Demo no longer accepts the saved authorisation of channel "demo" (invalid_grant');
    expect((err as Error).message).toContain('npm run stockrelay -- authorize --channel demo');
    const refreshes = emu.count('refresh_token');
    // Asked again: the same answer from memory, without spending another request on a dead token.
    await expect(tokens.accessToken()).rejects.toThrow('authorize --channel demo');
    expect(emu.count('refresh_token')).toBe(refreshes);
    // Authorised again (the store's version moves on): the same token source works again.
    await authorise();
    expect((await resource(tokens)).status).toBe(200);
  });

  test('an access token expired early: the 401 brings one refresh, and the retried request succeeds', async () => {
    await authorise();
    const tokens = source();
    expect((await resource(tokens)).status).toBe(200);
    emu.expireAccessTokens();
    const seen: (string | null)[] = [];
    emu.onResource = (token) => void seen.push(token);
    const res = await resource(tokens);
    expect(res.status).toBe(200);
    expect(emu.count('refresh_token')).toBe(1);
    expect(seen).toHaveLength(2);
    expect(seen[1]).not.toBe(seen[0]);
    expect(seen[1]).toBe((await stored())!.record.accessToken);
  });

  test('concurrent callers share one refresh, in one process and across two hub processes on the same database', async () => {
    await authorise();
    t.advance(TTL * 1000);
    const tokens = source();
    const many = await Promise.all(Array.from({ length: 12 }, () => tokens.accessToken()));
    expect(new Set(many).size).toBe(1);
    expect(emu.count('refresh_token')).toBe(1);

    // Two processes (two stores, two token sources) whose tokens expire at the same moment.
    t.advance(TTL * 1000);
    const other = source({ store: await o.second(), owner: 'hub-b' });
    const [a, b] = await Promise.all([source({ owner: 'hub-a' }).accessToken(), other.accessToken()]);
    expect(a).toBe(b);
    expect(emu.count('refresh_token')).toBe(2);
    expect(emu.reuses).toEqual([]);
  });

  test('refresh ahead of expiry: within the margin a new token is fetched while the old one still works; before it, none', async () => {
    await authorise();
    const first = (await stored())!.record.accessToken!;
    const tokens = source({ marginMs: 5 * 60_000 });
    t.advance((TTL - 301) * 1000);
    expect(await tokens.accessToken()).toBe(first);
    expect(emu.count('refresh_token')).toBe(0);
    t.advance(2000);
    const next = await tokens.accessToken();
    expect(next).not.toBe(first);
    expect(emu.count('refresh_token')).toBe(1);
    expect(emu.checkBearer(`Bearer ${first}`).ok).toBe(true);
  });

  test('a refresh ahead of expiry that fails (5xx) keeps the current token; after expiry the failure is retryable', async () => {
    await authorise();
    const first = (await stored())!.record.accessToken!;
    const tokens = source();
    t.advance((TTL - 60) * 1000);
    emu.faults.failNextTokenRequests = 1;
    expect(await tokens.accessToken()).toBe(first);
    expect(emu.tokenRequests.at(-1)).toMatchObject({ status: 503 });
    t.advance(120_000);
    emu.faults.failNextTokenRequests = 1;
    await expect(tokens.accessToken()).rejects.toMatchObject({ retryable: true, channelFault: true });
    // The refresh token was not spent by the failed request: the next try works.
    expect(await tokens.accessToken()).not.toBe(first);
  });

  test('client credentials: fetched, kept and shared through the store, fetched again on expiry; no consent address', async () => {
    const spec: OAuthSpec = { grant: 'client_credentials', baseUrl: 'https://auth.example.invalid', tokenPath: '/token', scopes: ['inventory.read'], clientAuth: 'client_secret_post', rotatesRefreshTokens: false };
    const tokens = source({ spec });
    const first = await tokens.accessToken();
    expect(emu.tokenRequests).toEqual([{ grant: 'client_credentials', clientId: CLIENT.clientId, status: 200, error: null }]);
    expect((await stored())!.record).toMatchObject({ grant: 'client_credentials', accessToken: first, refreshToken: null, scope: 'inventory.read' });
    // Another process finds it in the store.
    expect(await source({ spec, store: await o.second() }).accessToken()).toBe(first);
    expect(emu.count('client_credentials')).toBe(1);
    t.advance(TTL * 1000);
    expect(await tokens.accessToken()).not.toBe(first);
    expect(emu.count('client_credentials')).toBe(2);
    // The CLI's --client-credentials does the same and overwrites.
    const done = await clientCredentialsAuthorization(authCtx(spec));
    expect(done).toMatchObject({ grant: 'client_credentials', refreshToken: false });
    await expect(beginAuthorization(authCtx(spec))).rejects.toThrow('--client-credentials');
  });

  test('a wrong client secret: a channel fault that names the credentials to check, nothing stored', async () => {
    await authorise();
    const before = await o.store.platformTokens.get(CHANNEL);
    t.advance(TTL * 1000);
    const err = await source({ credentials: { ...CLIENT, clientSecret: 'not-the-secret' } }).accessToken().catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false, channelFault: true, status: 401 });
    expect((err as Error).message).toContain('refused the app\'s credentials for channel "demo" (invalid_client');
    expect((err as Error).message).toContain('credentials.clientSecret');
    expect((err as Error).message).not.toContain('not-the-secret');
    const after = await o.store.platformTokens.get(CHANNEL);
    expect(after).toMatchObject({ version: before!.version, sealed: before!.sealed, leaseOwner: null });
  });

  test('not authorised yet: a clear channel fault, and no request to the platform', async () => {
    const err = await source().accessToken().catch((e: unknown) => e);
    expect(err).toMatchObject({ retryable: false, channelFault: true });
    expect((err as Error).message).toBe('Channel "demo" is not connected to Demo yet. Run "npm run stockrelay -- authorize --channel demo" and follow what it says.');
    expect(emu.tokenRequests).toEqual([]);
  });

  test('encrypted at rest: the raw row holds no token; a wrong key or a changed row is a clear error and changes nothing', async () => {
    await authorise();
    const tokens = source();
    t.advance(TTL * 1000);
    await tokens.accessToken();
    const record = (await stored())!.record;
    const rows = await o.rawRows();
    expect(rows).toHaveLength(1);
    const text = JSON.stringify(rows);
    for (const secret of [record.accessToken!, record.refreshToken!, CLIENT.clientSecret, record.accessToken!.slice(3, 15), record.refreshToken!.slice(3, 15)]) expect(text).not.toContain(secret);
    expect(JSON.parse(String(rows[0]!.sealed))).toMatchObject({ v: 1, alg: 'A256GCM', kid: cipher.keyId });

    // The hub started with another credential key: told so, nothing sent, nothing written.
    const before = await o.store.platformTokens.get(CHANNEL);
    const wrong = source({ cipher: new TokenCipher(OTHER_KEY) });
    const err = await wrong.accessToken().catch((e: unknown) => e);
    expect(err).toMatchObject({ channelFault: true, retryable: false });
    expect((err as Error).message).toContain('were encrypted with another credential key than this hub\'s (STOCKRELAY_CREDENTIAL_KEY');
    expect((err as Error).message).toContain('authorize --channel demo');
    expect(await o.store.platformTokens.get(CHANNEL)).toEqual(before);

    // A row copied to another channel does not open there (the channel id is authenticated).
    expect(() => cipher.open(`platform-tokens:other`, before!.sealed, 'The saved Demo tokens of channel "other"', 'Run it.')).toThrow('damaged or were changed outside the hub');

    // One character of the ciphertext changed in the database: damaged, not garbage.
    const box = JSON.parse(before!.sealed) as { data: string };
    const flipped = box.data.slice(0, 10) + (box.data[10] === 'A' ? 'B' : 'A') + box.data.slice(11);
    await o.raw(`update platform_tokens set sealed = '${before!.sealed.replace(box.data, flipped)}'`);
    const e2 = await source().accessToken().catch((e: unknown) => e);
    expect((e2 as Error).message).toBe('The saved Demo tokens of channel "demo" are damaged or were changed outside the hub: they do not decrypt with this hub\'s key. Run "npm run stockrelay -- authorize --channel demo" to connect it again.');
  });

  test('the registry gives a channel that uses OAuth its token source; a 401 in a connector call refreshes once', async () => {
    await authorise();
    const def = demoDefinition(SPEC);
    const config = loadConfig(
      { STOCKRELAY_DATA_DIR: tempDir(), STOCKRELAY_RELAY_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`, STOCKRELAY_ADMIN_TOKEN: 'test-admin-token-0123456789', DEMO_ID: CLIENT.clientId, DEMO_SECRET: CLIENT.clientSecret, STOCKRELAY_CONFIG: writeConfig({ channels: [{ id: CHANNEL, name: 'Demo', platform: 'oauth-demo', locations: { main: 'x' }, settings: settings(), credentials: { clientId: 'DEMO_ID', clientSecret: 'DEMO_SECRET' } }] }) },
      { connectors: [def] },
    ).config;
    const registry = new ChannelRegistry(config.channels, { definitions: [def], clock: t.clock, tokens: { store: o.store, cipher } });
    const connector = registry.get(CHANNEL)!.connector;
    expect(await connector.listCatalog()).toHaveLength(1);
    emu.expireAccessTokens();
    expect(await connector.listCatalog()).toHaveLength(1);
    expect(emu.count('refresh_token')).toBe(1);
  });
});

/** Collects what a stream prints; `waitFor` resolves once a line matches. */
function collector(stream: NodeJS.ReadableStream) {
  let text = '';
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  stream.on('data', (chunk: Buffer | string) => {
    text += chunk.toString();
    for (const w of [...waiters]) {
      const m = text.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  return {
    text: () => text,
    waitFor: (re: RegExp) =>
      new Promise<RegExpMatchArray>((resolve) => {
        const m = text.match(re);
        if (m) resolve(m);
        else waiters.push({ re, resolve });
      }),
  };
}

const CONSENT_LINE = /^ {5}(http\S+)$/m;

describe.each<StoreKind>(STORES)('stockrelay authorize on %s', (kind) => {
  let o: Opened;
  let emu: OAuthEmulator;
  const cipher = new TokenCipher(KEY);
  const def = demoDefinition(SPEC);

  beforeEach(async () => {
    emu = new OAuthEmulator({ clients: [{ ...CLIENT, redirectUris: [REDIRECT] }], accessTokenTtlSeconds: TTL, defaultScope: 'inventory.read inventory.write' });
    await emu.start();
    o = await openFor(kind);
  });
  afterEach(async () => {
    await emu.stop();
    await o.cleanup();
  });

  /** The hub's environment: its config file, database and credential key, and the app's id and secret. */
  const hubEnv = (channel: Record<string, unknown> = {}): NodeJS.ProcessEnv => ({
    ...(o.storeOptions.dataDir ? { STOCKRELAY_DATA_DIR: o.storeOptions.dataDir } : { STOCKRELAY_DATA_DIR: tempDir(), DATABASE_URL: o.storeOptions.databaseUrl!, STOCKRELAY_PG_SCHEMA: o.storeOptions.pgSchema! }),
    STOCKRELAY_RELAY_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
    STOCKRELAY_ADMIN_TOKEN: 'test-admin-token-0123456789',
    STOCKRELAY_CREDENTIAL_KEY: KEY,
    DEMO_ID: CLIENT.clientId,
    DEMO_SECRET: CLIENT.clientSecret,
    STOCKRELAY_CONFIG: writeConfig({
      channels: [{ id: CHANNEL, name: 'Demo shop', platform: 'oauth-demo', locations: { main: 'x' }, settings: { oauthBaseUrl: emu.url, oauthRedirectUri: REDIRECT }, credentials: { clientId: 'DEMO_ID', clientSecret: 'DEMO_SECRET' }, ...channel }],
    }),
  });
  const stored = async () => {
    const row = await o.store.platformTokens.get(CHANNEL);
    return row ? cipher.open<TokenRecord>(`platform-tokens:${CHANNEL}`, row.sealed, 'tokens', 'fix') : null;
  };
  /** Runs the command as the CLI does; `input` is what the shop owner types. */
  const run = (opts: { code?: string; redirect?: string }, env = hubEnv()) => {
    const input = new PassThrough();
    const output = new PassThrough();
    const out = collector(output);
    const done = runAuthorize({ channel: CHANNEL, ...opts }, { env, input, output, connectors: [def] });
    return { input, out, done };
  };

  test('asked for the address: the owner pastes the redirect address, the state is checked and the tokens are kept', async () => {
    const r = run({});
    const url = (await r.out.waitFor(CONSENT_LINE))[1]!;
    expect(r.out.text()).toContain('Open this address in a browser, signed in as the shop\'s owner, and allow access');
    r.input.write(`${await consent(url)}\n`);
    await expect(r.done).resolves.toMatchObject({ grant: 'authorization_code', refreshToken: true });
    expect(r.out.text()).toContain('Channel "demo" is connected to Demo. Its tokens are saved encrypted in the hub\'s database.');
    expect(r.out.text()).not.toContain((await stored())!.accessToken!);
    expect(emu.count('authorization_code')).toBe(1);
  });

  test('an address that answers another consent (wrong state) is refused and nothing is saved; the right one still works', async () => {
    const r = run({});
    const url = (await r.out.waitFor(CONSENT_LINE))[1]!;
    const location = await consent(url);
    const forged = new URL(location);
    forged.searchParams.set('state', 'not-the-state-this-hub-printed');
    r.input.write(`${forged.toString()}\n`);
    await expect(r.done).rejects.toThrow('That address does not answer the consent address printed last for channel "demo" (its state does not match), so it was not used and nothing was saved.');
    // Sent: the forged address. Kept: no tokens, and no token request was made with its code.
    expect(await o.store.platformTokens.get(CHANNEL)).toBeNull();
    expect(emu.tokenRequests).toEqual([]);
    // The consent printed is still waiting: the real redirect address, given on the command line, completes it.
    await expect(run({ redirect: location }).done).resolves.toMatchObject({ refreshToken: true });
    expect(await stored()).toMatchObject({ grant: 'authorization_code' });
  });

  test('nothing pasted: it says how to finish later; then only the code, with --code', async () => {
    const r = run({});
    const url = (await r.out.waitFor(CONSENT_LINE))[1]!;
    r.input.end();
    await expect(r.done).rejects.toThrow('No address or code was given.');
    expect(r.out.text()).toContain("Nothing was pasted. When you have the address, run: npm run stockrelay -- authorize --channel demo --redirect '<the address>' (within 15 minutes).");
    const code = new URL(await consent(url)).searchParams.get('code')!;
    await expect(run({ code }).done).resolves.toMatchObject({ refreshToken: true });
    expect(await stored()).toMatchObject({ grant: 'authorization_code', scope: 'inventory.read inventory.write' });
    // The same code again: refused by the platform (a code works once), and the tokens it gave are revoked there.
    const before = await o.store.platformTokens.get(CHANNEL);
    const again = run({});
    const url2 = (await again.out.waitFor(CONSENT_LINE))[1]!;
    again.input.write(`${code}\n`);
    await expect(again.done).rejects.toThrow('Demo did not accept that code (invalid_grant: the authorization code was already used; the tokens it gave are revoked): a code works once and for a few minutes. Nothing was saved.');
    expect(await o.store.platformTokens.get(CHANNEL)).toEqual(before);
    expect(url2).not.toBe(url);
  });

  test('the owner denies access: said so, nothing saved', async () => {
    emu.consent = 'deny';
    const r = run({});
    const url = (await r.out.waitFor(CONSENT_LINE))[1]!;
    r.input.write(`${await consent(url)}\n`);
    await expect(r.done).rejects.toThrow('Demo says access was not allowed (The owner did not allow access.). Nothing was saved.');
    expect(await o.store.platformTokens.get(CHANNEL)).toBeNull();
  });

  test('a channel without OAuth, an unknown channel: clear errors', async () => {
    await expect(runAuthorize({ channel: 'nope' }, { env: hubEnv(), input: new PassThrough(), output: new PassThrough(), connectors: [def] })).rejects.toThrow('No channel "nope" in the config file');
    await expect(run({ redirect: 'https://hub.example.com/cb?code=x&state=y' }).done).rejects.toThrow('No consent address is waiting for channel "demo".');
  });

  test('the real command, for a Square channel: consent address with session=false, the answer\'s merchant checked against settings.merchantId', async () => {
    const square = new OAuthEmulator({ clients: [{ ...CLIENT, redirectUris: [REDIRECT] }], paths: { authorize: '/oauth2/authorize', token: '/oauth2/token' }, answerFields: { merchant_id: 'MLGALLERY01' } });
    await square.start();
    try {
      const env = {
        ...hubEnv(),
        STOCKRELAY_CONFIG: writeConfig({
          channels: [
            {
              id: 'square-pos',
              name: 'Gallery POS',
              platform: 'square',
              baseUrl: square.url,
              locations: { main: 'L1' },
              settings: { notificationUrl: 'https://hub.example.com/v1/webhooks/square-pos', merchantId: 'MLGALLERY01', oauthRedirectUri: REDIRECT },
              credentials: { clientId: 'DEMO_ID', clientSecret: 'DEMO_SECRET', webhookSignatureKey: 'DEMO_SECRET' },
            },
            {
              id: 'square-other',
              name: 'Another seller',
              platform: 'square',
              baseUrl: square.url,
              locations: { main: 'L1' },
              settings: { notificationUrl: 'https://hub.example.com/v1/webhooks/square-other', merchantId: 'MLOTHER02', oauthRedirectUri: REDIRECT },
              credentials: { clientId: 'DEMO_ID', clientSecret: 'DEMO_SECRET', webhookSignatureKey: 'DEMO_SECRET' },
            },
          ],
        }),
      };
      const cli = (channel: string) => {
        // Only this hub's environment: a DATABASE_URL of the test run must not reach the SQLite variant.
        const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|STOCKRELAY_)/.test(k)));
        const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'authorize', '--channel', channel], { cwd: ROOT, env: { ...inherited, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
        const out = collector(child.stdout);
        const err = collector(child.stderr);
        children.add(child);
        const exited = new Promise<number | null>((resolve) => child.on('close', (code) => (children.delete(child), resolve(code))));
        /** The consent address it prints, or a failure saying what it printed instead if it exits first. */
        const consentUrl = () =>
          Promise.race([out.waitFor(CONSENT_LINE).then((m) => m[1]!), exited.then((code) => Promise.reject(new Error(`the command exited (${code}) without a consent address: ${out.text()} ${err.text()}`)))]);
        return { child, out, err, exited, consentUrl };
      };
      const ok = cli('square-pos');
      const url = new URL(await ok.consentUrl());
      expect(url.pathname).toBe('/oauth2/authorize');
      expect(Object.fromEntries(url.searchParams)).toMatchObject({ client_id: CLIENT.clientId, scope: 'ITEMS_READ INVENTORY_READ INVENTORY_WRITE ORDERS_READ PAYMENTS_READ', session: 'false', redirect_uri: REDIRECT });
      expect(url.searchParams.has('code_challenge')).toBe(false);
      ok.child.stdin.write(`${await consent(url.toString())}\n`);
      expect(await ok.exited).toBe(0);
      expect(ok.out.text()).toContain('Channel "square-pos" is connected to Square (account MLGALLERY01).');
      const row = await o.store.platformTokens.get('square-pos');
      expect(cipher.open<TokenRecord>('platform-tokens:square-pos', row!.sealed, 't', 'f')).toMatchObject({ account: 'MLGALLERY01', refreshToken: expect.any(String) });

      // Consent given by another seller than the channel's: refused, nothing saved, exit 1.
      const wrong = cli('square-other');
      const url2 = await wrong.consentUrl();
      wrong.child.stdin.write(`${await consent(url2)}\n`);
      expect(await wrong.exited).toBe(1);
      expect(wrong.err.text()).toContain('You allowed access to Square account MLGALLERY01, but channel "square-other" is for account MLOTHER02 (its settings.merchantId). Nothing was saved.');
      expect(await o.store.platformTokens.get('square-other')).toBeNull();
    } finally {
      await square.stop();
    }
  }, 120_000);
});

describe('Square with OAuth instead of an access token', () => {
  const GATEWAY_TOKEN = 'EAAAsquare-emulator-own-token';
  const LOC = 'LGALLERY7Q2K9';
  let oauth: OAuthEmulator;
  let square: SquareEmulator;
  let gateway: http.Server;
  let o: Opened;
  const cipher = new TokenCipher(KEY);

  beforeEach(async () => {
    oauth = new OAuthEmulator({ clients: [{ ...CLIENT, redirectUris: [REDIRECT] }], paths: { authorize: '/oauth2/authorize', token: '/oauth2/token' }, answerFields: { merchant_id: 'MLGALLERY01' } });
    await oauth.start();
    square = new SquareEmulator({ accessToken: GATEWAY_TOKEN, webhookSignatureKey: 'sig-key', locations: [LOC], merchantId: 'MLGALLERY01' });
    const squareUrl = await square.start();
    square.seed([{ sku: 'ART-001', title: 'Dot painting, small', levels: { [LOC]: 5 } }]);
    // Square's API behind a gateway that accepts the OAuth tokens the authorisation server issued
    // (as Square does) and answers 401 in Square's shape otherwise.
    gateway = await listenOnLoopback((req, res) => {
      const check = oauth.checkBearer(req.headers.authorization);
      if (!check.ok) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: check.description }] }));
        return;
      }
      const headers = { ...req.headers, authorization: `Bearer ${GATEWAY_TOKEN}` };
      delete headers.host;
      const forward = http.request(`${squareUrl}${req.url ?? '/'}`, { method: req.method ?? 'GET', headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(forward);
    });
    o = await openFor('sqlite');
  });
  afterEach(async () => {
    await closeServer(gateway);
    await square.stop();
    await oauth.stop();
    await o.cleanup();
  });

  test('consent once, then reads and pushes through the OAuth token; an early expiry costs one refresh; a revoked app is a clear fault', async () => {
    const channel = {
      id: 'square-pos',
      platform: 'square',
      baseUrl: loopbackUrl(gateway),
      settings: { notificationUrl: 'https://hub.example.com/v1/webhooks/square-pos', merchantId: 'MLGALLERY01', oauthBaseUrl: oauth.url, oauthRedirectUri: REDIRECT },
      credentials: { ...CLIENT, webhookSignatureKey: 'sig-key' },
    };
    const ctx: AuthorizeContext = { channel, def: squareDefinition, store: o.store, cipher };
    const { url } = await beginAuthorization(ctx);
    await finishAuthorization(ctx, await consent(url));
    // The code flow: the secret went in the JSON body (client_secret_post), and the refresh token does not rotate.
    expect(oauth.tokenRequests).toEqual([{ grant: 'authorization_code', clientId: CLIENT.clientId, status: 200, error: null }]);

    const registry = new ChannelRegistry(
      [{ ...channel, name: 'Gallery POS', platform: 'square', locations: { gallery: LOC }, buffer: 0, cap: null, hideAtZero: false, relistOnRestock: false, reconcile: 'adopt' }],
      { tokens: { store: o.store, cipher } },
    );
    const c = registry.get('square-pos')!.connector;
    const listings = await c.listCatalog();
    expect(listings.map((l) => l.sku)).toEqual(['ART-001']);
    const ref = listings[0]!.ref;

    oauth.expireAccessTokens();
    expect(await c.push([{ sku: 'ART-001', ref, locationId: LOC, level: 4, expected: 5, idempotencyKey: 'oauth-push-1' }])).toEqual([{ sku: 'ART-001', locationId: LOC, status: 'applied', level: 4 }]);
    expect(oauth.count('refresh_token')).toBe(1);
    expect(square.level('ART-001', LOC)).toBe(4);

    oauth.expireAccessTokens();
    expect(await c.read([{ sku: 'ART-001', ref, locationId: LOC }])).toEqual([expect.objectContaining({ sku: 'ART-001', available: 4 })]);
    expect(oauth.count('refresh_token')).toBe(2);

    // The owner disconnects the app in Square: the next refresh is refused, and the channel says what to do.
    oauth.revokeAll();
    const err = await c.listCatalog().catch((e: unknown) => e);
    expect(err).toMatchObject({ channelFault: true, retryable: false });
    expect((err as Error).message).toContain('Square no longer accepts the saved authorisation of channel "square-pos" (invalid_grant');
    expect((err as Error).message).toContain('npm run stockrelay -- authorize --channel square-pos');
    expect(square.level('ART-001', LOC)).toBe(4);
    // Every request that reached Square's emulator matched Square's published spec.
    expect(square.specViolations).toEqual([]);
  });
});

/** Runs test/helpers/oauth-child.ts; `onLine` sees each line it prints (and may kill it). */
function runChild(
  settings: object,
  onLine: (line: string, child: ChildProcess) => void = () => undefined,
  onSpawn: (child: ChildProcess) => void = () => undefined,
): Promise<{ lines: string[]; code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/oauth-child.ts'], { cwd: ROOT, env: { ...process.env, OAUTH_CHILD: JSON.stringify(settings) }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  onSpawn(child);
  const lines: string[] = [];
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    rest += chunk.toString();
    for (let i = rest.indexOf('\n'); i >= 0; i = rest.indexOf('\n')) {
      const line = rest.slice(0, i);
      rest = rest.slice(i + 1);
      lines.push(line);
      onLine(line, child);
    }
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  return new Promise((resolve) =>
    // 'close', not 'exit': every line the process wrote before it died has been read by then.
    child.on('close', (code, signal) => {
      children.delete(child);
      if (code !== 0 && signal === null && lines.length === 0) lines.push(`stderr ${stderr}`);
      resolve({ lines, code, signal });
    }),
  );
}

/** Every child this file started, killed if a test fails before it exits. */
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

describe.each<StoreKind>(STORES)('a hub process killed around a refresh, on %s', (kind) => {
  let o: Opened;
  let emu: OAuthEmulator;
  const cipher = new TokenCipher(KEY);

  beforeEach(async () => {
    emu = new OAuthEmulator({ clients: [{ ...CLIENT, redirectUris: [REDIRECT] }], accessTokenTtlSeconds: TTL });
    await emu.start();
    o = await openFor(kind);
    // The owner authorised the channel; then its access token was revoked early, so the next use refreshes.
    const ctx: AuthorizeContext = { channel: { id: CHANNEL, platform: 'oauth-demo', baseUrl: null, settings: { oauthBaseUrl: emu.url, oauthRedirectUri: REDIRECT }, credentials: { ...CLIENT } }, def: demoDefinition(SPEC), store: o.store, cipher };
    const { url } = await beginAuthorization(ctx);
    await finishAuthorization(ctx, await consent(url));
    emu.expireAccessTokens();
  });
  afterEach(async () => {
    await emu.stop();
    await o.cleanup();
  });

  const stored = async () => cipher.open<TokenRecord>(`platform-tokens:${CHANNEL}`, (await o.store.platformTokens.get(CHANNEL))!.sealed, 'tokens', 'fix');
  const settings = (stopAt: 'answer' | 'saved' | null) => ({
    store: o.storeOptions,
    channelId: CHANNEL,
    spec: SPEC,
    oauthBaseUrl: emu.url,
    credentials: CLIENT,
    credentialKey: KEY,
    resourceUrl: `${emu.url}/resource`,
    stopAt,
    // A killed process's claim on the refresh runs out quickly, so the next one need not wait long.
    leaseMs: 1500,
  });
  /** A new process after the crash, with its access token revoked again so that it must spend the stored refresh token. */
  const nextProcess = async () => {
    emu.expireAccessTokens();
    return runChild(settings(null));
  };

  test('killed after the new tokens were committed and before the access token was used: the next process works', async () => {
    const old = await stored();
    const first = await runChild(settings('saved'), (line, child) => {
      if (line === 'saved') child.kill('SIGKILL');
    });
    expect(first).toMatchObject({ lines: ['answer', 'saved'], signal: 'SIGKILL' });
    const kept = await stored();
    expect(kept.refreshToken).not.toBe(old.refreshToken);
    expect(emu.refreshTokenWorks(kept.refreshToken!)).toBe(true);
    const second = await nextProcess();
    expect(second).toMatchObject({ lines: ['answer', 'saved', 'used 200'], code: 0 });
    expect(emu.reuses).toEqual([]);
  }, 120_000);

  test('killed while using the new access token (the platform had it): the next process works', async () => {
    const old = await stored();
    let killed: Promise<unknown> | null = null;
    let child: ChildProcess | null = null;
    // The platform receives the new token and the process dies before any answer reaches it.
    emu.onResource = async (token) => {
      if (token !== old.accessToken && child && !killed) {
        killed = new Promise((resolve) => child!.once('exit', resolve));
        child.kill('SIGKILL');
        await killed;
      }
    };
    const first = await runChild(settings(null), undefined, (c) => void (child = c));
    // `answer` and `saved` were printed before the token was used; `used` never was.
    expect(first).toMatchObject({ lines: ['answer', 'saved'], signal: 'SIGKILL' });
    expect(killed).not.toBeNull();
    emu.onResource = null;
    const second = await nextProcess();
    expect(second).toMatchObject({ lines: ['answer', 'saved', 'used 200'], code: 0 });
    expect(emu.reuses).toEqual([]);
  }, 120_000);

  test('killed between the token answer and its save: the next process is locked out, which is why nothing is used before the save', async () => {
    const old = await stored();
    const first = await runChild(settings('answer'), (line, child) => {
      if (line === 'answer') child.kill('SIGKILL');
    });
    expect(first).toMatchObject({ lines: ['answer'], signal: 'SIGKILL' });
    // The platform rotated the refresh token when it answered; the store still holds the old one.
    expect((await stored()).refreshToken).toBe(old.refreshToken);
    expect(emu.refreshTokenWorks(old.refreshToken!)).toBe(false);
    const second = await nextProcess();
    expect(second.code).toBe(1);
    expect(second.lines).toHaveLength(1);
    expect(second.lines[0]).toContain('error Demo no longer accepts the saved authorisation of channel "demo" (invalid_grant');
    expect(second.lines[0]).toContain('Run "npm run stockrelay -- authorize --channel demo" to connect it again');
    expect(emu.reuses).toEqual([old.refreshToken]);
  }, 120_000);
});

function writeConfig(file: object): string {
  const dir = tempDir('sr-oauth-cfg-');
  const p = path.join(dir, 'stockrelay.json');
  fs.writeFileSync(p, JSON.stringify(file));
  return p;
}

describe('token answers and the config', () => {
  const now = new Date('2026-12-01T10:00:00.000Z');

  test('RFC 6749 §5.1 answers, Square\'s expires_at, and answers that cannot be used (their refresh token kept)', () => {
    expect(readTokenAnswer({ access_token: 'a', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r', scope: 's t' }, 'authorization_code', now)).toEqual({
      problem: null,
      record: expect.objectContaining({ accessToken: 'a', tokenType: 'bearer', expiresAt: '2026-12-01T11:00:00.000Z', refreshToken: 'r', scope: 's t' }),
    });
    expect(readTokenAnswer({ access_token: 'a', token_type: 'bearer', expires_at: '2026-12-31T00:00:00Z', merchant_id: 'ML1', refresh_token: 'r' }, 'authorization_code', now).record).toMatchObject({ expiresAt: '2026-12-31T00:00:00.000Z', account: 'ML1' });
    expect(readTokenAnswer({ access_token: 'a', token_type: 'bearer', expires_in: '60' }, 'client_credentials', now).record.expiresAt).toBe('2026-12-01T10:01:00.000Z');
    // A token type the hub does not understand must not be used (RFC 6749 §7.1); the new refresh token is still kept.
    const mac = readTokenAnswer({ access_token: 'a', token_type: 'mac', expires_in: 60, refresh_token: 'r2' }, 'authorization_code', now);
    expect(mac).toMatchObject({ problem: 'its token_type is "mac", not bearer', record: { accessToken: null, refreshToken: 'r2' } });
    expect(readTokenAnswer({ token_type: 'bearer', expires_in: -5 }, 'authorization_code', now).problem).toBe('it has no access_token; its expires_in is not a positive number of seconds');
  });

  test('pasted answers: a redirect address, its fragment, a bare code, an error', () => {
    expect(readPasted(' https://hub.example.com/cb?code=abc&state=xyz ')).toEqual({ code: 'abc', state: 'xyz', error: null, errorDescription: null, isAddress: true });
    expect(readPasted('https://hub.example.com/cb#code=abc&state=xyz')).toMatchObject({ code: 'abc', state: 'xyz' });
    expect(readPasted('sq0cgb-abc_123')).toEqual({ code: 'sq0cgb-abc_123', state: null, error: null, errorDescription: null, isAddress: false });
    expect(readPasted('https://hub.example.com/cb?error=access_denied&state=xyz')).toMatchObject({ code: null, error: 'access_denied', state: 'xyz' });
  });

  test('a channel that uses OAuth maps clientId and clientSecret instead of what OAuth replaces', () => {
    const square = { credentials: ['accessToken', 'webhookSignatureKey'], oauth: { ...SPEC, replaces: ['accessToken'], optional: true, clientAuth: 'client_secret_post' as const } };
    expect(requiredCredentials(square, { accessToken: 'x' })).toEqual(['accessToken', 'webhookSignatureKey']);
    expect(requiredCredentials(square, { clientId: 'x' })).toEqual(['webhookSignatureKey', 'clientId', 'clientSecret']);
    expect(requiredCredentials({ credentials: [], oauth: { ...SPEC, clientAuth: 'none' } }, {})).toEqual(['clientId']);
  });

  test('the token endpoint\'s refusals are read per RFC 6749 §5.2 and Square\'s errors list', async () => {
    const bodies = [
      { status: 400, body: { error: 'invalid_grant', error_description: 'expired' }, want: { error: 'invalid_grant', description: 'expired' } },
      { status: 401, body: { errors: [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: 'bad client' }] }, want: { error: 'UNAUTHORIZED', description: 'bad client' } },
    ];
    for (const b of bodies) {
      // A token endpoint on 127.0.0.1 that answers with the platform's documented error shape.
      const server = await listenOnLoopback((_req, res) => {
        res.writeHead(b.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(b.body));
      });
      try {
        const ep = new OAuthEndpoint('c', 'Demo', SPEC, { credentials: { ...CLIENT }, channelBaseUrl: null, settings: { oauthBaseUrl: loopbackUrl(server) } });
        const err = await ep.request({ grant_type: 'refresh_token', refresh_token: 'r' }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(OAuthRefusal);
        expect(err).toMatchObject({ status: b.status, ...b.want });
      } finally {
        await closeServer(server);
      }
    }
  });
});
