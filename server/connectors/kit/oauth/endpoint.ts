/**
 * The token endpoint: one channel's view of its platform's OAuth endpoints and its app's
 * credentials, the token answers read per RFC 6749 §5.1 and the refusals per §5.2, and PKCE.
 */
import crypto from 'node:crypto';
import { ConnectorError, type OAuthSpec } from '../../types';
import { CLIENT_ID, CLIENT_SECRET, type TokenRecord } from './records';

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
export function readTokenAnswer(body: unknown, grant: OAuthSpec['grant'], now: Date, opts: { tokenTypeOptional?: boolean } = {}): TokenAnswer {
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
  if (!type) {
    if (!opts.tokenTypeOptional) problems.push('it has no token_type');
  }
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

  /** The endpoint of a token source's options (the channel, its platform's spec, credentials and settings). */
  static of(o: { channelId: string; platform: string; spec: OAuthSpec; credentials: Record<string, string>; channelBaseUrl: string | null; settings: Record<string, unknown>; fetch?: typeof fetch | undefined; timeoutMs?: number | undefined }): OAuthEndpoint {
    return new OAuthEndpoint(o.channelId, o.platform, o.spec, {
      credentials: o.credentials,
      channelBaseUrl: o.channelBaseUrl,
      settings: o.settings,
      ...(o.fetch ? { fetch: o.fetch } : {}),
      ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    });
  }

  /** Hides the app's secret and any token of `params` in a message. */
  private scrub(text: string, params: Record<string, string>): string {
    let out = text;
    for (const secret of [this.clientSecret, params.refresh_token, params.code, params.code_verifier, params.assertion]) {
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

/** The assertion grant's type (RFC 7523 §2.1). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Whether a grant gets its tokens without the owner's consent page (nothing to authorise, no refresh token). */
export function withoutConsent(spec: OAuthSpec): boolean {
  return spec.grant === 'client_credentials' || spec.grant === 'jwt_bearer';
}

/**
 * The token request of a grant without consent: client_credentials with the spec's scopes, or the
 * assertion grant with the assertion from the channel's credentials. Null for authorization_code.
 */
export function grantParams(spec: OAuthSpec, credentials: Record<string, string>, where: { channelId: string; platform: string }): Record<string, string> | null {
  const scope: Record<string, string> = spec.scopes.length > 0 ? { scope: spec.scopes.join(spec.scopeSeparator ?? ' ') } : {};
  if (spec.grant === 'client_credentials') return { grant_type: 'client_credentials', ...scope };
  if (spec.grant !== 'jwt_bearer') return null;
  const name = spec.assertionCredential ?? 'assertion';
  const assertion = credentials[name];
  if (!assertion) throw new ConnectorError(`Channel "${where.channelId}" uses ${where.platform}'s assertion grant: it needs credentials.${name}, the name of the environment variable holding the key the account owner created for your app.`, false);
  return { grant_type: JWT_BEARER_GRANT, assertion, ...scope };
}

/** RFC 7636 §4.1-4.2: a verifier of 43 characters and its S256 challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier, 'ascii').digest('base64url') };
}
