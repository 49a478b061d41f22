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
 * Grants: authorization_code (with PKCE S256, refresh tokens rotated or not), refresh_token and
 * client_credentials (RFC 6749 §4.1, §4.4, §6; RFC 7636). Token answers are read per RFC 6749 §5.1
 * (and Square's `expires_at`), errors per §5.2.
 */
import crypto from 'node:crypto';
import { ConnectorError, type ConnectorDefinition, type OAuthSpec, type TokenSource } from '../types';

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

/** What the token source needs of the store: its `platformTokens` area (server/store/areas/platform-tokens.ts). */
export interface TokenStore {
  platformTokens: {
    get(channelId: string): Promise<{ version: number; sealed: string; leaseOwner: string | null; leaseUntil: string | null } | null>;
    save(channelId: string, sealed: string, expected: number | null | 'any', now: string): Promise<number | null>;
    claimRefresh(channelId: string, version: number, owner: string, until: string, now: string): Promise<boolean>;
    releaseRefresh(channelId: string, owner: string): Promise<void>;
  };
}

// ---------------------------------------------------------------------------------------------
// Which channels use OAuth, and which credentials they need

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
  return [...own, CLIENT_ID, ...(def.oauth.clientAuth === 'none' ? [] : [CLIENT_SECRET])];
}

// ---------------------------------------------------------------------------------------------
// Encryption at rest

export class TokenStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenStoreError';
  }
}

const b64u = (b: Buffer) => b.toString('base64url');

/**
 * Seals token records with AES-256-GCM under a key derived (HKDF-SHA256, its own label) from the
 * hub's credential key, so the database alone never reveals a token. The channel id is the
 * additional authenticated data: a row copied to another channel does not open.
 */
export class TokenCipher {
  private readonly key: Buffer;
  /** Names the key without revealing it, so a row sealed under another key is told from a damaged one. */
  readonly keyId: string;

  constructor(credentialKey: string) {
    if (typeof credentialKey !== 'string' || credentialKey.length < 32) throw new TokenStoreError('The credential key must be at least 32 characters long (STOCKRELAY_CREDENTIAL_KEY).');
    this.key = Buffer.from(crypto.hkdfSync('sha256', Buffer.from(credentialKey, 'utf8'), Buffer.from('stockrelay', 'utf8'), Buffer.from('stockrelay platform tokens v1', 'utf8'), 32));
    this.keyId = crypto.createHmac('sha256', this.key).update('key id').digest('hex').slice(0, 16);
  }

  seal(label: string, value: unknown): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(label, 'utf8'));
    const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return JSON.stringify({ v: 1, alg: 'A256GCM', kid: this.keyId, iv: b64u(iv), data: b64u(data) });
  }

  /** Opens what `seal` made under the same label; `what` names it in errors, which say what to do. */
  open<T>(label: string, sealed: string, what: string, fix: string): T {
    let box: { v?: unknown; kid?: unknown; iv?: unknown; data?: unknown };
    try {
      box = JSON.parse(sealed) as typeof box;
    } catch {
      throw new TokenStoreError(`${what} are damaged: the stored value is not in the hub's format. ${fix}`);
    }
    if (box === null || typeof box !== 'object' || box.v !== 1 || typeof box.iv !== 'string' || typeof box.data !== 'string') {
      throw new TokenStoreError(`${what} are damaged: the stored value is not in the hub's format. ${fix}`);
    }
    if (box.kid !== this.keyId) {
      throw new TokenStoreError(
        `${what} were encrypted with another credential key than this hub's (STOCKRELAY_CREDENTIAL_KEY, else credentialKey in data/secrets.json, else one derived from STOCKRELAY_ADMIN_TOKEN). Give the hub its old key back, or ${fix.charAt(0).toLowerCase()}${fix.slice(1)}`,
      );
    }
    try {
      const data = Buffer.from(box.data, 'base64url');
      if (data.length < 17) throw new Error('short');
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(box.iv, 'base64url'));
      decipher.setAAD(Buffer.from(label, 'utf8'));
      decipher.setAuthTag(data.subarray(data.length - 16));
      const text = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString('utf8');
      return JSON.parse(text) as T;
    } catch {
      throw new TokenStoreError(`${what} are damaged or were changed outside the hub: they do not decrypt with this hub's key. ${fix}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The token endpoint

/** The platform refused a token request with an RFC 6749 §5.2 error. */
export class OAuthRefusal extends Error {
  constructor(
    readonly status: number,
    /** `invalid_grant`, `invalid_client`, …; null when the answer named none. */
    readonly error: string | null,
    readonly description: string | null,
  ) {
    super(`${error ?? `HTTP ${status}`}${description ? `: ${description}` : ''}`);
    this.name = 'OAuthRefusal';
  }
}

/** A token answer (RFC 6749 §5.1) read into a record; `problem` says why it cannot be used, when it cannot. */
export interface TokenAnswer {
  record: TokenRecord;
  problem: string | null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);

/** Reads a successful token answer. A refresh token in it is kept even when the rest is unusable. */
export function readTokenAnswer(body: unknown, grant: OAuthSpec['grant'], now: Date): TokenAnswer {
  const o = (body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const refreshToken = str(o.refresh_token);
  const rtExpires = str(o.refresh_token_expires_at);
  const record: TokenRecord = {
    grant,
    accessToken: null,
    tokenType: 'bearer',
    expiresAt: null,
    refreshToken,
    refreshTokenExpiresAt: rtExpires && Number.isFinite(Date.parse(rtExpires)) ? new Date(Date.parse(rtExpires)).toISOString() : null,
    scope: str(o.scope) ?? (Array.isArray(o.scopes) ? o.scopes.filter((s) => typeof s === 'string').join(' ') || null : null),
    obtainedAt: now.toISOString(),
    authorisedAt: null,
    account: str(o.merchant_id),
  };
  const problems: string[] = [];
  const access = str(o.access_token);
  if (!access) problems.push('it has no access_token');
  const type = str(o.token_type);
  // RFC 6749 §7.1: a client must not use a token whose type it does not understand.
  if (!type) problems.push('it has no token_type');
  else if (type.toLowerCase() !== 'bearer') problems.push(`its token_type is "${type.slice(0, 40)}", not bearer`);
  if (o.expires_in !== undefined && o.expires_in !== null) {
    const s = typeof o.expires_in === 'string' && /^\d+$/.test(o.expires_in.trim()) ? Number(o.expires_in) : o.expires_in;
    if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) problems.push('its expires_in is not a positive number of seconds');
    else record.expiresAt = new Date(now.getTime() + s * 1000).toISOString();
  } else if (str(o.expires_at)) {
    const t = Date.parse(o.expires_at as string);
    if (!Number.isFinite(t)) problems.push('its expires_at is not a date');
    else record.expiresAt = new Date(t).toISOString();
  }
  if (problems.length === 0) record.accessToken = access;
  return { record, problem: problems.length > 0 ? problems.join('; ') : null };
}

/** RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined and base64-encoded. */
function basicAuth(id: string, secret: string): string {
  const enc = (s: string) => new URLSearchParams({ x: s }).toString().slice(2);
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`, 'utf8').toString('base64')}`;
}

/** One channel's view of its platform's OAuth endpoints and of the app's credentials. */
export class OAuthEndpoint {
  readonly base: string;
  readonly tokenUrl: string;
  readonly authorizeUrl: string | null;
  readonly redirectUri: string | null;
  readonly clientId: string;
  private readonly clientSecret: string | null;
  private readonly fetchImpl: typeof fetch;
  /** How long one token request may take. */
  readonly timeoutMs: number;

  constructor(
    readonly channelId: string,
    readonly platform: string,
    readonly spec: OAuthSpec,
    opts: { credentials: Record<string, string>; channelBaseUrl: string | null; settings: Record<string, unknown>; fetch?: typeof fetch; timeoutMs?: number },
  ) {
    const s = opts.settings;
    const configured = typeof s.oauthBaseUrl === 'string' && s.oauthBaseUrl.trim() !== '' ? s.oauthBaseUrl.trim() : null;
    const base = configured ?? (spec.followsChannelBaseUrl && opts.channelBaseUrl ? opts.channelBaseUrl : spec.baseUrl);
    if (!/^https?:\/\/[^/\s]+/i.test(base)) throw new ConnectorError(`Channel "${channelId}": settings.oauthBaseUrl must be an http(s) address, e.g. ${spec.baseUrl}.`, false);
    this.base = base.replace(/\/+$/, '');
    const at = (p: string) => (/^https?:\/\//i.test(p) ? p : `${this.base}/${p.replace(/^\/+/, '')}`);
    this.tokenUrl = at(spec.tokenPath);
    this.authorizeUrl = spec.authorizePath ? at(spec.authorizePath) : null;
    const redirect = s.oauthRedirectUri;
    if (redirect !== undefined && (typeof redirect !== 'string' || !URL.canParse(redirect))) {
      throw new ConnectorError(`Channel "${channelId}": settings.oauthRedirectUri must be the full redirect address registered with ${platform} for your app.`, false);
    }
    this.redirectUri = typeof redirect === 'string' ? redirect : null;
    const id = opts.credentials[CLIENT_ID];
    if (!id) throw new ConnectorError(`Channel "${channelId}" uses OAuth with ${platform}: it needs credentials.${CLIENT_ID}, the name of the environment variable holding your app's client id.`, false);
    this.clientId = id;
    this.clientSecret = opts.credentials[CLIENT_SECRET] ?? null;
    if (spec.clientAuth !== 'none' && !this.clientSecret) {
      throw new ConnectorError(`Channel "${channelId}" uses OAuth with ${platform}: it needs credentials.${CLIENT_SECRET}, the name of the environment variable holding your app's client secret.`, false);
    }
    this.fetchImpl = opts.fetch ?? fetch;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** Hides the app's secret and any token of `params` in a message. */
  private scrub(text: string, params: Record<string, string>): string {
    let out = text;
    for (const secret of [this.clientSecret, params.refresh_token, params.code, params.code_verifier]) {
      if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
    }
    return out;
  }

  /**
   * One request to the token endpoint. Resolves with the answer's JSON on 2xx; throws OAuthRefusal
   * on a 4xx, ConnectorError (retryable) on a 5xx, 429, timeout or no answer.
   */
  async request(params: Record<string, string>): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const fields: Record<string, string> = { ...params };
    if (this.spec.clientAuth === 'client_secret_basic') headers.authorization = basicAuth(this.clientId, this.clientSecret!);
    else {
      fields.client_id = this.clientId;
      if (this.spec.clientAuth === 'client_secret_post') fields.client_secret = this.clientSecret!;
    }
    let body: string;
    if (this.spec.tokenRequestBody === 'json') {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(fields);
    } else {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(fields).toString();
    }
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.tokenUrl, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' });
      text = await res.text();
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      let why = timedOut ? `no answer within ${Math.round(this.timeoutMs / 1000)} s` : 'network error';
      for (let e: unknown = err, depth = 0; !timedOut && e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
        const code = (e as { code?: unknown }).code;
        if (typeof code === 'string') {
          why = code;
          break;
        }
      }
      throw new ConnectorError(`${this.platform}'s token endpoint (${this.tokenUrl}) could not be reached for channel "${this.channelId}" (${why}); it will be retried.`, true);
    }
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON: judged by the status below */
    }
    if (res.status >= 200 && res.status < 300) {
      if (json === null || typeof json !== 'object') throw new ConnectorError(`${this.platform}'s token endpoint answered ${res.status} for channel "${this.channelId}" with something that is not a token answer (not JSON).`, false, null, res.status, { channelFault: true });
      return json;
    }
    if (res.status === 429 || res.status >= 500 || res.status === 408) {
      const ra = res.headers.get('retry-after');
      const retryAfter = ra && /^\d+$/.test(ra.trim()) ? Number(ra) * 1000 : null;
      throw new ConnectorError(`${this.platform}'s token endpoint answered HTTP ${res.status} for channel "${this.channelId}"; it will be retried.`, true, retryAfter, res.status);
    }
    const o = (json !== null && typeof json === 'object' ? json : {}) as Record<string, unknown>;
    let error = str(o.error);
    let description = str(o.error_description);
    // Square answers {errors: [{code, detail}]} instead of RFC 6749's fields.
    if (!error && Array.isArray(o.errors) && o.errors.length > 0) {
      const first = o.errors[0] as Record<string, unknown>;
      error = str(first?.code);
      description = str(first?.detail);
    }
    throw new OAuthRefusal(res.status, error, description ? this.scrub(description.slice(0, 300), params) : null);
  }

  /** The consent address for an authorisation with this state (and PKCE challenge). */
  consentUrl(state: string, codeChallenge: string | null): string {
    if (!this.authorizeUrl) throw new ConnectorError(`${this.platform} has no consent page for channel "${this.channelId}": its tokens come from the app's own id and secret.`, false);
    const url = new URL(this.authorizeUrl);
    const q = url.searchParams;
    q.set('response_type', 'code');
    q.set('client_id', this.clientId);
    if (this.redirectUri) q.set('redirect_uri', this.redirectUri);
    if (this.spec.scopes.length > 0) q.set('scope', this.spec.scopes.join(this.spec.scopeSeparator ?? ' '));
    q.set('state', state);
    if (codeChallenge) {
      q.set('code_challenge', codeChallenge);
      q.set('code_challenge_method', 'S256');
    }
    for (const [k, v] of Object.entries(this.spec.authorizeParams ?? {})) q.set(k, v);
    return url.toString();
  }
}

/** RFC 7636 §4.1-4.2: a verifier of 43 characters and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier, 'ascii').digest('base64url') };
}

// ---------------------------------------------------------------------------------------------
// The token source

/** What the shop owner runs to connect a channel again. */
export const authorizeCommand = (channelId: string) => `npm run stockrelay -- authorize --channel ${channelId}`;

export interface TokenSourceOptions {
  channelId: string;
  /** The platform's name as people read it ("Square"). */
  platform: string;
  spec: OAuthSpec;
  credentials: Record<string, string>;
  channelBaseUrl: string | null;
  settings: Record<string, unknown>;
  store: TokenStore;
  cipher: TokenCipher;
  fetch?: typeof fetch;
  clock?: () => Date;
  /** This process's name in refresh leases (default: random). */
  owner?: string;
  /** How long a token request may take (default 30 s). */
  timeoutMs?: number;
  /** How long another process's refresh is waited for before its lease is taken over (default: the timeout plus 10 s). */
  leaseMs?: number;
  /** Refresh when less than this is left of the access token's life (default 5 minutes; at most half its life). */
  marginMs?: number;
  /** How often the store is looked at while another process refreshes (default 200 ms). */
  pollMs?: number;
  /**
   * Test points around the invariant: after a token answer arrived (nothing saved yet), and after
   * its tokens were committed (nothing handed out yet). test/connectors/oauth.test.ts stops a
   * process at each.
   */
  hooks?: { afterTokenAnswer?(): void | Promise<void>; afterTokenSaved?(): void | Promise<void> };
}

/** Waits for `p`, or rejects when `signal` aborts first (the shared work itself goes on for the others). */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

const addMs = (iso: string, ms: number) => new Date(Date.parse(iso) + ms).toISOString();

/** Not a failure: another process refreshed first with the same refresh token; look at the store again. */
class RetryWithStore extends Error {}

export class OAuthTokenSource implements TokenSource {
  readonly endpoint: OAuthEndpoint;
  private readonly store: TokenStore;
  private readonly cipher: TokenCipher;
  private readonly clock: () => Date;
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly marginMs: number;
  private readonly pollMs: number;
  private readonly hooks: NonNullable<TokenSourceOptions['hooks']>;
  /** The tokens last read or written, with the store's version of them. */
  private cached: { record: TokenRecord; version: number } | null = null;
  /** The refresh under way in this process, shared by every caller. */
  private inflight: Promise<string> | null = null;
  /** The platform refused the refresh token of this stored version: not asked again until the store changes. */
  private dead: { version: number; error: ConnectorError } | null = null;
  /** Token requests this source made (for tests and metrics). */
  requests = 0;

  constructor(private readonly opts: TokenSourceOptions) {
    this.endpoint = new OAuthEndpoint(opts.channelId, opts.platform, opts.spec, {
      credentials: opts.credentials,
      channelBaseUrl: opts.channelBaseUrl,
      settings: opts.settings,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    });
    this.store = opts.store;
    this.cipher = opts.cipher;
    this.clock = opts.clock ?? (() => new Date());
    this.owner = opts.owner ?? `hub-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
    this.leaseMs = opts.leaseMs ?? this.endpoint.timeoutMs + 10_000;
    this.marginMs = opts.marginMs ?? 5 * 60_000;
    this.pollMs = opts.pollMs ?? 200;
    this.hooks = opts.hooks ?? {};
  }

  private get channelId(): string {
    return this.opts.channelId;
  }

  async accessToken(signal?: AbortSignal): Promise<string> {
    const c = this.cached?.record;
    if (c?.accessToken && this.fresh(c)) return c.accessToken;
    return this.shared(null, signal);
  }

  async onUnauthorized(rejected: string, signal?: AbortSignal): Promise<string> {
    const c = this.cached?.record;
    if (c?.accessToken && c.accessToken !== rejected && this.fresh(c)) return c.accessToken;
    return this.shared(rejected, signal);
  }

  invalidate(): void {
    this.cached = null;
  }

  /** Whether the access token may still be handed out without refreshing first. */
  private fresh(r: TokenRecord): boolean {
    if (!r.accessToken) return false;
    const now = this.clock().getTime();
    if (this.opts.spec.refreshEveryMs !== undefined && now - Date.parse(r.obtainedAt) >= this.opts.spec.refreshEveryMs) return false;
    if (r.expiresAt === null) return true;
    const expires = Date.parse(r.expiresAt);
    const life = expires - Date.parse(r.obtainedAt);
    const margin = Math.min(this.marginMs, Math.max(0, life / 2));
    return expires - now > margin;
  }

  /** Not expired yet (the margin aside): still usable if a refresh ahead of expiry fails for a while. */
  private usable(r: TokenRecord): boolean {
    return r.accessToken !== null && (r.expiresAt === null || Date.parse(r.expiresAt) > this.clock().getTime());
  }

  private async shared(rejected: string | null, signal?: AbortSignal): Promise<string> {
    for (let round = 0; ; round++) {
      this.inflight ??= this.obtain(rejected).finally(() => {
        this.inflight = null;
      });
      const token = await abortable(this.inflight, signal);
      // A refresh that started before `rejected` was refused may hand it back: one more, then it is the platform's word.
      if (rejected === null || token !== rejected || round >= 1) {
        if (rejected !== null && token === rejected) {
          throw new ConnectorError(`${this.opts.platform} refuses the access token of channel "${this.channelId}" that was just issued. Check that your app still has the permissions the connector needs, or run "${authorizeCommand(this.channelId)}".`, false, null, 401);
        }
        return token;
      }
    }
  }

  private fault(message: string, status: number | null = null): ConnectorError {
    return new ConnectorError(message, false, null, status, { channelFault: true });
  }

  private open(sealed: string): TokenRecord {
    try {
      return this.cipher.open<TokenRecord>(`platform-tokens:${this.channelId}`, sealed, `The saved ${this.opts.platform} tokens of channel "${this.channelId}"`, `Run "${authorizeCommand(this.channelId)}" to connect it again.`);
    } catch (err) {
      if (err instanceof TokenStoreError) throw this.fault(err.message);
      throw err;
    }
  }

  private seal(record: TokenRecord): string {
    return this.cipher.seal(`platform-tokens:${this.channelId}`, record);
  }

  /** A valid access token: the stored one if it is fresh and not `rejected`, else a new one. */
  private async obtain(rejected: string | null): Promise<string> {
    const started = this.clock().getTime();
    for (;;) {
      const row = await this.store.platformTokens.get(this.channelId);
      if (!row) {
        if (this.opts.spec.grant === 'client_credentials') return this.request(null, null);
        throw this.fault(`Channel "${this.channelId}" is not connected to ${this.opts.platform} yet. Run "${authorizeCommand(this.channelId)}" and follow what it says.`);
      }
      const record = this.open(row.sealed);
      this.cached = { record, version: row.version };
      if (record.accessToken && record.accessToken !== rejected && this.fresh(record)) return record.accessToken;
      if (this.dead && this.dead.version === row.version) throw this.dead.error;
      const now = this.clock().toISOString();
      if (await this.store.platformTokens.claimRefresh(this.channelId, row.version, this.owner, addMs(now, this.leaseMs), now)) {
        try {
          return await this.request(record, row.version);
        } catch (err) {
          if (err instanceof RetryWithStore) continue;
          // A refresh ahead of expiry that fails for a while (the platform down) leaves the current token in use.
          if (err instanceof ConnectorError && err.retryable && record.accessToken !== rejected && this.usable(record)) return record.accessToken!;
          throw err;
        }
      }
      // Another hub process is refreshing (or just did): wait for its tokens rather than spend the same refresh token twice.
      if (this.clock().getTime() - started > this.leaseMs * 2) {
        throw new ConnectorError(`Another hub process has been refreshing the ${this.opts.platform} tokens of channel "${this.channelId}" for too long; it will be retried.`, true);
      }
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  /**
   * One token request: a refresh of `previous` (stored at `version`), or, with no previous, the
   * first client-credentials token. Saves the answer before handing out its access token.
   */
  private async request(previous: TokenRecord | null, version: number | null): Promise<string> {
    const spec = this.opts.spec;
    let params: Record<string, string>;
    if (spec.grant === 'client_credentials') {
      params = { grant_type: 'client_credentials', ...(spec.scopes.length > 0 ? { scope: spec.scopes.join(spec.scopeSeparator ?? ' ') } : {}) };
    } else if (previous?.refreshToken) {
      params = { grant_type: 'refresh_token', refresh_token: previous.refreshToken };
    } else {
      if (version !== null) await this.store.platformTokens.releaseRefresh(this.channelId, this.owner);
      throw this.fault(`${this.opts.platform} gave channel "${this.channelId}" no refresh token, and its access token has expired. Run "${authorizeCommand(this.channelId)}" to connect it again.`);
    }
    let body: unknown;
    try {
      this.requests++;
      body = await this.endpoint.request(params);
    } catch (err) {
      if (version !== null) await this.store.platformTokens.releaseRefresh(this.channelId, this.owner);
      throw await this.refused(err, version);
    }
    return this.keep(readTokenAnswer(body, spec.grant, this.clock()), previous, version);
  }

  /** A failed token request as the error to raise (after looking whether another process moved on). */
  private async refused(err: unknown, version: number | null): Promise<unknown> {
    if (!(err instanceof OAuthRefusal)) return err;
    const said = `${err.error ?? `HTTP ${err.status}`}${err.description ? `: ${err.description}` : ''}`;
    if (err.error === 'invalid_grant' && version !== null) {
      const now = await this.store.platformTokens.get(this.channelId);
      // Another process refreshed with the same token first (its lease ran out on us): use its tokens.
      if (now && now.version !== version) return new RetryWithStore();
      const e = this.fault(
        `${this.opts.platform} no longer accepts the saved authorisation of channel "${this.channelId}" (${said}): the app was disconnected in ${this.opts.platform}, the authorisation expired, or it was used elsewhere. Run "${authorizeCommand(this.channelId)}" to connect it again; its stock updates wait until then.`,
        err.status,
      );
      this.dead = { version, error: e };
      return e;
    }
    if (err.error === 'invalid_client' || err.error === 'unauthorized_client' || err.status === 401) {
      return this.fault(`${this.opts.platform} refused the app's credentials for channel "${this.channelId}" (${said}). Check the client id and secret in the environment variables its credentials.${CLIENT_ID} and credentials.${CLIENT_SECRET} name.`, err.status);
    }
    return this.fault(`${this.opts.platform}'s token endpoint refused channel "${this.channelId}" (${said}).`, err.status);
  }

  /**
   * The invariant: the answer's tokens are committed to the store before its access token leaves
   * this function. A refresh token the answer does not replace is kept.
   */
  private async keep(answer: TokenAnswer, previous: TokenRecord | null, version: number | null): Promise<string> {
    await this.hooks.afterTokenAnswer?.();
    const next: TokenRecord = {
      ...answer.record,
      refreshToken: answer.record.refreshToken ?? previous?.refreshToken ?? null,
      refreshTokenExpiresAt: answer.record.refreshToken ? answer.record.refreshTokenExpiresAt : (previous?.refreshTokenExpiresAt ?? null),
      scope: answer.record.scope ?? previous?.scope ?? null,
      authorisedAt: previous?.authorisedAt ?? null,
      account: answer.record.account ?? previous?.account ?? null,
    };
    const saved = await this.store.platformTokens.save(this.channelId, this.seal(next), version, this.clock().toISOString());
    if (saved === null) {
      // Tokens written after ours were read (a new authorisation from the CLI, another process): theirs stand.
      this.cached = null;
      return this.obtain(null);
    }
    this.cached = { record: next, version: saved };
    this.dead = null;
    await this.hooks.afterTokenSaved?.();
    if (answer.problem || !next.accessToken) {
      throw this.fault(`${this.opts.platform}'s token endpoint answered channel "${this.channelId}" with a token the hub cannot use (${answer.problem ?? 'no access token'}). Its refresh token was kept.`);
    }
    return next.accessToken;
  }
}

/**
 * A fetch that sends the channel's access token as a bearer token (RFC 6750 §2.1) and, when the
 * platform answers 401 (a token revoked or expired early), gets a fresh one and tries once more.
 * For REST connectors; a 401 on the retry is the answer.
 */
export function authorizedFetch(tokens: TokenSource, fetchImpl: typeof fetch = fetch): typeof fetch {
  return async (input, init = {}) => {
    const signal = init.signal ?? undefined;
    const send = (token: string) => {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetchImpl(input, { ...init, headers });
    };
    const token = await tokens.accessToken(signal);
    const res = await send(token);
    if (res.status !== 401) return res;
    await res.arrayBuffer().catch(() => undefined);
    return send(await tokens.onUnauthorized(token, signal));
  };
}
