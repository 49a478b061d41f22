/**
 * The token source: one per channel, handing out a valid access token and refreshing it ahead of
 * expiry, the new refresh token written to the store before its access token is used (index.ts
 * says why); and `authorizedFetch`, which sends it.
 */
import crypto from 'node:crypto';
import { ConnectorError, type OAuthSpec, type TokenSource } from '../../types';
import { TokenStoreError, type TokenCipher } from './cipher';
import { OAuthEndpoint, OAuthRefusal, grantParams, readTokenAnswer, withoutConsent, type TokenAnswer } from './endpoint';
import { CLIENT_ID, CLIENT_SECRET, type TokenRecord, type TokenStore } from './records';

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
export function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
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
    this.endpoint = OAuthEndpoint.of(opts);
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
        if (withoutConsent(this.opts.spec)) return this.request(null, null);
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
   * first token of a grant without consent (client credentials, an assertion), which also gets every
   * later one. Saves the answer before handing out its access token.
   */
  private async request(previous: TokenRecord | null, version: number | null): Promise<string> {
    const spec = this.opts.spec;
    let params: Record<string, string>;
    let direct: Record<string, string> | null;
    try {
      direct = grantParams(spec, this.opts.credentials, { channelId: this.channelId, platform: this.opts.platform });
    } catch (err) {
      // A missing credential: the lease taken for this request is given back, so other hub processes do not wait it out.
      if (version !== null) await this.store.platformTokens.releaseRefresh(this.channelId, this.owner);
      throw err;
    }
    if (direct) {
      params = direct;
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
    return this.keep(readTokenAnswer(body, spec.grant, this.clock(), { tokenTypeOptional: spec.tokenTypeOptional ?? false }), previous, version);
  }

  /** A failed token request as the error to raise (after looking whether another process moved on). */
  private async refused(err: unknown, version: number | null): Promise<unknown> {
    if (!(err instanceof OAuthRefusal)) return err;
    const said = `${err.error ?? `HTTP ${err.status}`}${err.description ? `: ${err.description}` : ''}`;
    if (err.error === 'invalid_grant' && this.opts.spec.grant === 'jwt_bearer') {
      // The assertion itself is refused: the key was revoked by the account owner, or is not one.
      const name = this.opts.spec.assertionCredential ?? 'assertion';
      const e = this.fault(
        `${this.opts.platform} no longer accepts the key of channel "${this.channelId}" (${said}): the account owner revoked it, or the environment variable its credentials.${name} names holds another. Ask the owner for a new key, put it in that variable and restart the hub; its stock updates wait until then.`,
        err.status,
      );
      // Asked once per stored version, as a dead refresh token is: not again on every call.
      if (version !== null) this.dead = { version, error: e };
      return e;
    }
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
 * One request sent with `token` and, when the platform answers 401 (a token revoked or expired
 * early) and the channel has a token source, once more with a fresh token from it (a 401 on the
 * retry is the answer; the source's own refusal, a revoked key, is thrown). `discard` lets go of the
 * refused answer. Gives the answer and the token it was sent with.
 */
export async function retryUnauthorized<T extends { status: number }>(
  tokens: TokenSource | null | undefined,
  token: string,
  send: (token: string) => Promise<T>,
  signal?: AbortSignal,
  discard?: (refused: T) => Promise<unknown>,
): Promise<{ answer: T; token: string }> {
  const answer = await send(token);
  if (answer.status !== 401 || !tokens) return { answer, token };
  await discard?.(answer);
  const fresh = await tokens.onUnauthorized(token, signal);
  return { answer: await send(fresh), token: fresh };
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
    const { answer } = await retryUnauthorized(tokens, await tokens.accessToken(signal), send, signal, (res) => res.arrayBuffer().catch(() => undefined));
    return answer;
  };
}
