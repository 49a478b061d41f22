/**
 * An OAuth 2.0 authorisation server as a real HTTP server on 127.0.0.1, for the tests and the
 * emulators of platforms that use OAuth (docs/credentials-oauth.md). It behaves as RFC 6749 and the
 * OAuth 2.0 Security BCP (RFC 9700) describe:
 *
 * - `GET /authorize`: consents at once (or refuses, when told to) and redirects to the client's
 *   redirect address with `code` and `state` (RFC 6749 §4.1.2), or with `error` (§4.1.2.1).
 *   PKCE: only S256 challenges (RFC 7636 §4.3).
 * - `POST /token` (form or JSON body): `authorization_code` (single use, 10 minutes; a second use
 *   revokes the tokens the code gave, §4.1.2), `refresh_token` and `client_credentials`; client
 *   authentication by HTTP Basic or by `client_secret` in the body, never both (§2.3.1). Errors per
 *   §5.2, answers per §5.1 with `Cache-Control: no-store`.
 * - Refresh tokens rotate (by default): every refresh answers a new one and the one presented stops
 *   working. **Reuse of a rotated-out refresh token is refused with `invalid_grant` and revokes the
 *   whole family** (its current refresh token and every access token issued from it), as RFC 9700
 *   §4.14.2 describes: the server cannot tell the legitimate client from an attacker, so it stops
 *   both and the owner must authorise again. No grace period for a lost answer.
 * - Access tokens can be made to expire before their `expires_in` (`expireAccessTokens`), as real
 *   platforms revoke them early.
 * - `GET /resource`: a protected resource; `checkBearer` does the same check for platform emulators
 *   (RFC 6750 §3: 401 with `WWW-Authenticate: Bearer error="invalid_token"`).
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { closeServer, listenOnLoopback, loopbackUrl } from '../emulator';

export interface OAuthClientRegistration {
  clientId: string;
  /** Absent: a public client (PKCE, no secret; no client_credentials). */
  clientSecret?: string;
  /** Registered redirect addresses; the first is used when a request gives none. */
  redirectUris?: string[];
  /** Assertions this client may present with the JWT assertion grant (RFC 7523 §2.1; Zettle: the API keys merchants created for the app). */
  assertions?: string[];
}

export interface OAuthEmulatorOptions {
  clients: OAuthClientRegistration[];
  /** Lifetime of an access token, in seconds (expires_in). Default 3600. */
  accessTokenTtlSeconds?: number;
  /** Every refresh answers a new refresh token and the old one stops (default true). */
  rotateRefreshTokens?: boolean;
  /** Scopes granted when a request asks for none. */
  defaultScope?: string;
  /** Where the consent page and the token endpoint are (default /authorize and /token; Square: /oauth2/authorize, /oauth2/token). */
  paths?: { authorize: string; token: string };
  /** Non-secret fields added to every token answer of a consent (Square: merchant_id). */
  answerFields?: Record<string, string>;
  /** Answers of the assertion grant carry only access_token and expires_in, as Zettle's do (no token_type). */
  bareAssertionAnswers?: boolean;
  clock?: () => Date;
}

export interface TokenRequestRecord {
  grant: string | null;
  clientId: string | null;
  status: number;
  error: string | null;
}

interface Family {
  id: string;
  clientId: string;
  scope: string;
  /** The one refresh token that works now (null: none, or the family is revoked). */
  current: string | null;
  revoked: boolean;
}

interface AccessToken {
  clientId: string;
  /** The assertion it was issued for (the assertion grant). */
  assertion?: string;
  family: string | null;
  scope: string;
  expiresAt: number;
}

interface Code {
  clientId: string;
  redirectUri: string | null;
  challenge: string | null;
  scope: string;
  expiresAt: number;
  used: boolean;
  /** The family the code's exchange started, to revoke on a second use. */
  family: string | null;
}

type Json = Record<string, unknown>;

/** Answers a token request with an error (RFC 6749 §5.2) and records it. */
type TokenFailure = (status: number, error: string, description: string, headers?: Record<string, string>) => void;

export type BearerCheck = { ok: true; clientId: string; scope: string; family: string | null } | { ok: false; status: 401; error: 'invalid_token' | 'invalid_request'; description: string };

export class OAuthEmulator {
  private server: http.Server | null = null;
  private readonly clients: Map<string, OAuthClientRegistration>;
  private readonly ttl: number;
  private readonly rotate: boolean;
  private readonly clock: () => Date;
  private readonly codes = new Map<string, Code>();
  private readonly families = new Map<string, Family>();
  /** Every refresh token ever issued, to its family (a used one stays here, to recognise reuse). */
  private readonly refreshTokens = new Map<string, string>();
  private readonly accessTokens = new Map<string, AccessToken>();
  /** What the consent page does: allow, or refuse as the owner clicking "Deny" would. */
  consent: 'allow' | 'deny' = 'allow';
  /** The next token requests answered with this HTTP status (a 5xx outage), counted down. */
  readonly faults = { tokenStatus: 503, failNextTokenRequests: 0 };
  readonly tokenRequests: TokenRequestRecord[] = [];
  /** Refresh tokens presented after they had been rotated out (each one revoked its family). */
  readonly reuses: string[] = [];
  /** Called with the bearer token of each `/resource` request before it is answered. */
  onResource: ((token: string | null) => void | Promise<void>) | null = null;

  constructor(private readonly opts: OAuthEmulatorOptions) {
    this.clients = new Map(opts.clients.map((c) => [c.clientId, c]));
    this.ttl = opts.accessTokenTtlSeconds ?? 3600;
    this.rotate = opts.rotateRefreshTokens ?? true;
    this.clock = opts.clock ?? (() => new Date());
  }

  get url(): string {
    if (!this.server) throw new Error('The OAuth emulator is not started.');
    return loopbackUrl(this.server);
  }

  async start(port = 0): Promise<string> {
    this.server = await listenOnLoopback((req, res) => void this.handle(req, res), port);
    return this.url;
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
    this.server = null;
  }

  /** Makes every access token issued so far expire now, whatever its expires_in said. */
  expireAccessTokens(): void {
    const now = this.clock().getTime();
    for (const t of this.accessTokens.values()) t.expiresAt = Math.min(t.expiresAt, now);
  }

  /** The account owner revokes a key given to the assertion grant: it and the tokens it got stop working. */
  revokeAssertion(assertion: string): void {
    for (const c of this.clients.values()) if (c.assertions) c.assertions = c.assertions.filter((a) => a !== assertion);
    for (const [token, t] of this.accessTokens) if (t.assertion === assertion) this.accessTokens.delete(token);
  }

  /** Revokes every grant: the owner disconnected the app on the platform. */
  revokeAll(): void {
    for (const f of this.families.values()) this.revokeFamily(f.id);
  }

  /** Token requests made with this grant type. */
  count(grant: string): number {
    return this.tokenRequests.filter((r) => r.grant === grant).length;
  }

  /** Whether `refreshToken` would be accepted now. */
  refreshTokenWorks(refreshToken: string): boolean {
    const f = this.families.get(this.refreshTokens.get(refreshToken) ?? '');
    return !!f && !f.revoked && f.current === refreshToken;
  }

  /** Checks an `Authorization` header's bearer token, for the emulators of platforms. */
  checkBearer(authorization: string | string[] | undefined): BearerCheck {
    const header = Array.isArray(authorization) ? authorization[0] : authorization;
    const m = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(header?.trim() ?? '');
    if (!m) return { ok: false, status: 401, error: 'invalid_request', description: 'no bearer token' };
    const t = this.accessTokens.get(m[1]!);
    if (!t) return { ok: false, status: 401, error: 'invalid_token', description: 'unknown token' };
    if (t.family && this.families.get(t.family)?.revoked) return { ok: false, status: 401, error: 'invalid_token', description: 'the token was revoked' };
    if (t.expiresAt <= this.clock().getTime()) return { ok: false, status: 401, error: 'invalid_token', description: 'the token expired' };
    return { ok: true, clientId: t.clientId, scope: t.scope, family: t.family };
  }

  private revokeFamily(id: string): void {
    const f = this.families.get(id);
    if (!f) return;
    f.revoked = true;
    f.current = null;
    for (const [token, t] of this.accessTokens) if (t.family === id) this.accessTokens.delete(token);
  }

  private random(prefix: string): string {
    return `${prefix}${crypto.randomBytes(24).toString('base64url')}`;
  }

  /**
   * Answers one request to the authorisation server; a platform emulator whose token endpoint
   * shares its address (Zettle's, Lightspeed R-Series', Salesforce Commerce Cloud's) hands it the
   * requests for those paths.
   */
  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const paths = this.opts.paths ?? { authorize: '/authorize', token: '/token' };
      if (req.method === 'GET' && url.pathname === paths.authorize) return this.authorize(url, res);
      if (url.pathname === paths.token) {
        if (req.method !== 'POST') return this.send(res, 405, { error: 'invalid_request', error_description: 'POST only' });
        return await this.token(req, res);
      }
      if (url.pathname === '/resource') return await this.resource(req, res);
      this.send(res, 404, { error: 'not_found' });
    } catch (err) {
      if (!res.headersSent) this.send(res, 500, { error: 'server_error', error_description: (err as Error).message });
    }
  }

  private send(res: http.ServerResponse, status: number, body: Json, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', pragma: 'no-cache', ...headers });
    res.end(JSON.stringify(body));
  }

  private authorize(url: URL, res: http.ServerResponse): void {
    const q = url.searchParams;
    const client = this.clients.get(q.get('client_id') ?? '');
    // RFC 6749 §4.1.2.1: without a valid client and redirect address, say so here and never redirect.
    if (!client) return this.send(res, 400, { error: 'invalid_request', error_description: 'unknown client_id' });
    const given = q.get('redirect_uri');
    if (given !== null && !(client.redirectUris ?? []).includes(given)) return this.send(res, 400, { error: 'invalid_request', error_description: 'redirect_uri is not registered' });
    const redirect = given ?? client.redirectUris?.[0];
    if (!redirect) return this.send(res, 400, { error: 'invalid_request', error_description: 'no redirect_uri' });
    const back = (params: Record<string, string>) => {
      const to = new URL(redirect);
      for (const [k, v] of Object.entries(params)) to.searchParams.set(k, v);
      const state = q.get('state');
      if (state !== null) to.searchParams.set('state', state);
      res.writeHead(302, { location: to.toString() });
      res.end();
    };
    if (q.get('response_type') !== 'code') return back({ error: 'unsupported_response_type' });
    const challenge = q.get('code_challenge');
    const method = q.get('code_challenge_method') ?? 'plain';
    if (challenge !== null && method !== 'S256') return back({ error: 'invalid_request', error_description: 'only S256 code challenges are accepted' });
    if (challenge !== null && !/^[A-Za-z0-9\-._~]{43,128}$/.test(challenge)) return back({ error: 'invalid_request', error_description: 'code_challenge is malformed' });
    if (!client.clientSecret && challenge === null) return back({ error: 'invalid_request', error_description: 'a public client must send a PKCE code_challenge' });
    if (this.consent === 'deny') return back({ error: 'access_denied', error_description: 'The owner did not allow access.' });
    const code = this.random('code_');
    this.codes.set(code, {
      clientId: client.clientId,
      redirectUri: given,
      challenge,
      scope: q.get('scope') ?? this.opts.defaultScope ?? '',
      expiresAt: this.clock().getTime() + 10 * 60_000,
      used: false,
      family: null,
    });
    back({ code });
  }

  private async readBody(req: http.IncomingMessage): Promise<Record<string, string> | null> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === 'application/x-www-form-urlencoded') {
      const params = new URLSearchParams(text);
      const out: Record<string, string> = {};
      for (const [k, v] of params) {
        // RFC 6749 §3.2: parameters must not be repeated.
        if (k in out) return null;
        out[k] = v;
      }
      return out;
    }
    if (type === 'application/json') {
      try {
        const o = JSON.parse(text) as unknown;
        if (o === null || typeof o !== 'object' || Array.isArray(o)) return null;
        return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
      } catch {
        return null;
      }
    }
    return null;
  }

  private async token(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const record: TokenRequestRecord = { grant: null, clientId: null, status: 200, error: null };
    this.tokenRequests.push(record);
    const fail = (status: number, error: string, description: string, headers: Record<string, string> = {}) => {
      record.status = status;
      record.error = error;
      this.send(res, status, { error, error_description: description }, headers);
    };
    const p = await this.readBody(req);
    if (this.faults.failNextTokenRequests > 0) {
      this.faults.failNextTokenRequests--;
      return fail(this.faults.tokenStatus, 'temporarily_unavailable', 'The server is down for a moment.');
    }
    if (!p) return fail(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded (or JSON), with no repeated parameter');
    record.grant = p.grant_type ?? null;

    // Client authentication (RFC 6749 §2.3.1): HTTP Basic or the body, never both.
    const basic = /^Basic ([A-Za-z0-9+/=]+)$/.exec(String(req.headers.authorization ?? ''));
    let clientId: string | null = p.client_id ?? null;
    let secret: string | null = p.client_secret ?? null;
    if (basic) {
      if (secret !== null) return fail(400, 'invalid_request', 'the client authenticated twice (Basic and client_secret)');
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      const dec = (s: string) => new URLSearchParams(`x=${s}`).get('x') ?? '';
      const id = dec(decoded.slice(0, i));
      if (i < 0 || (clientId !== null && clientId !== id)) return fail(400, 'invalid_request', 'client_id differs from the Basic credentials');
      clientId = id;
      secret = dec(decoded.slice(i + 1));
    }
    const client = clientId ? this.clients.get(clientId) : undefined;
    record.clientId = clientId;
    const challenge: Record<string, string> = basic ? { 'www-authenticate': 'Basic realm="token"' } : {};
    if (!client) return fail(401, 'invalid_client', 'unknown client', challenge);
    if (client.clientSecret !== undefined) {
      const ok = secret !== null && secret.length === client.clientSecret.length && crypto.timingSafeEqual(Buffer.from(secret), Buffer.from(client.clientSecret));
      if (!ok) return fail(401, 'invalid_client', 'client authentication failed', challenge);
    } else if (secret !== null) {
      return fail(401, 'invalid_client', 'a public client has no secret');
    }

    const now = this.clock().getTime();
    switch (p.grant_type) {
      case 'authorization_code':
        return this.codeGrant(res, p, client, now, fail);
      case 'refresh_token':
        return this.refreshGrant(res, p, client, fail);
      case 'client_credentials': {
        if (client.clientSecret === undefined) return fail(400, 'unauthorized_client', 'a public client cannot use client_credentials');
        const token = this.random('at_');
        const scope = p.scope ?? this.opts.defaultScope ?? '';
        this.accessTokens.set(token, { clientId: client.clientId, family: null, scope, expiresAt: now + this.ttl * 1000 });
        return this.send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: this.ttl, ...(scope ? { scope } : {}) });
      }
      case 'urn:ietf:params:oauth:grant-type:jwt-bearer': {
        // RFC 7523 §2.1 and §3.1: the assertion is the grant; an unknown or revoked one is invalid_grant.
        const assertion = p.assertion;
        if (!assertion) return fail(400, 'invalid_request', 'assertion is missing');
        if (!(client.assertions ?? []).includes(assertion)) return fail(400, 'invalid_grant', 'the assertion is not valid or was revoked');
        const token = this.random('at_');
        const scope = p.scope ?? this.opts.defaultScope ?? '';
        this.accessTokens.set(token, { clientId: client.clientId, assertion, family: null, scope, expiresAt: now + this.ttl * 1000 });
        return this.send(res, 200, this.opts.bareAssertionAnswers ? { access_token: token, expires_in: this.ttl } : { access_token: token, token_type: 'Bearer', expires_in: this.ttl, ...(scope ? { scope } : {}) });
      }
      case undefined:
        return fail(400, 'invalid_request', 'grant_type is missing');
      default:
        return fail(400, 'unsupported_grant_type', `grant_type ${p.grant_type} is not supported`);
    }
  }

  /** RFC 6749 §4.1.3: a code for tokens, once; PKCE checked when the code was asked for with a challenge. */
  private codeGrant(res: http.ServerResponse, p: Record<string, string>, client: OAuthClientRegistration, now: number, fail: TokenFailure): void {
    const code = p.code ? this.codes.get(p.code) : undefined;
    if (!code || code.clientId !== client.clientId) return fail(400, 'invalid_grant', 'unknown authorization code');
    if (code.used) {
      if (code.family) this.revokeFamily(code.family);
      return fail(400, 'invalid_grant', 'the authorization code was already used; the tokens it gave are revoked');
    }
    code.used = true;
    if (code.expiresAt <= now) return fail(400, 'invalid_grant', 'the authorization code expired');
    if (code.redirectUri !== null && p.redirect_uri !== code.redirectUri) return fail(400, 'invalid_grant', 'redirect_uri does not match the authorization request');
    if (code.challenge !== null) {
      const verifier = p.code_verifier ?? '';
      if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) return fail(400, 'invalid_grant', 'code_verifier is missing or malformed');
      if (crypto.createHash('sha256').update(verifier, 'ascii').digest('base64url') !== code.challenge) return fail(400, 'invalid_grant', 'code_verifier does not match the code_challenge');
    }
    const family: Family = { id: this.random('fam_'), clientId: client.clientId, scope: code.scope, current: null, revoked: false };
    this.families.set(family.id, family);
    code.family = family.id;
    return this.issue(res, family, true);
  }

  /** RFC 6749 §6: a refresh token for new tokens; a rotated-out one revokes the whole family. */
  private refreshGrant(res: http.ServerResponse, p: Record<string, string>, client: OAuthClientRegistration, fail: TokenFailure): void {
    const presented = p.refresh_token ?? '';
    const family = this.families.get(this.refreshTokens.get(presented) ?? '');
    if (!family || family.clientId !== client.clientId) return fail(400, 'invalid_grant', 'unknown refresh token');
    if (family.revoked) return fail(400, 'invalid_grant', 'the refresh token was revoked');
    if (family.current !== presented) {
      // RFC 9700 §4.14.2: a rotated-out token used again; the server cannot tell who is legitimate.
      this.reuses.push(presented);
      this.revokeFamily(family.id);
      return fail(400, 'invalid_grant', 'the refresh token was already used; every token of this authorisation is revoked');
    }
    return this.issue(res, family, this.rotate);
  }

  /** Answers a new access token for `family`, with a new refresh token when `newRefresh`. */
  private issue(res: http.ServerResponse, family: Family, newRefresh: boolean): void {
    const access = this.random('at_');
    this.accessTokens.set(access, { clientId: family.clientId, family: family.id, scope: family.scope, expiresAt: this.clock().getTime() + this.ttl * 1000 });
    const body: Json = { access_token: access, token_type: 'Bearer', expires_in: this.ttl, ...(family.scope ? { scope: family.scope } : {}), ...(this.opts.answerFields ?? {}) };
    if (newRefresh) {
      const refresh = this.random('rt_');
      this.refreshTokens.set(refresh, family.id);
      family.current = refresh;
      body.refresh_token = refresh;
    }
    this.send(res, 200, body);
  }

  private async resource(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const header = req.headers.authorization;
    const token = /^Bearer (.+)$/.exec(String(header ?? ''))?.[1] ?? null;
    if (this.onResource) await this.onResource(token);
    const check = this.checkBearer(header);
    if (!check.ok) {
      return this.send(res, 401, { error: check.error, error_description: check.description }, { 'www-authenticate': `Bearer error="${check.error}", error_description="${check.description}"` });
    }
    this.send(res, 200, { ok: true, client: check.clientId, scope: check.scope });
  }
}
