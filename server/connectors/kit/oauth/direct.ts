/**
 * Tokens held in memory only, for grants that need no consent and give no refresh token
 * (client_credentials, the JWT assertion grant): every token comes from the channel's own
 * credentials, so there is nothing to keep across restarts. A connector uses it when the hub gives
 * it no `TokenSource` (its tests, a tool run outside the hub); inside the hub the stored
 * `OAuthTokenSource` does the same through the store.
 */
import { ConnectorError, type TokenSource } from '../../types';
import { OAuthEndpoint, OAuthRefusal, grantParams, readTokenAnswer, withoutConsent } from './endpoint';
import { abortable } from './token-source';
import type { TokenSourceOptions } from './token-source';

/** What the stored source takes, less the store: nothing is kept. */
export type DirectTokenOptions = Pick<TokenSourceOptions, 'channelId' | 'platform' | 'spec' | 'credentials' | 'channelBaseUrl' | 'settings' | 'fetch' | 'clock' | 'timeoutMs'>;

export class DirectTokenSource implements TokenSource {
  private readonly endpoint: OAuthEndpoint;
  private readonly clock: () => Date;
  private cached: { token: string; expiresAt: number | null; obtainedAt: number } | null = null;
  private inflight: Promise<string> | null = null;
  /** Token requests made (for tests). */
  requests = 0;

  constructor(private readonly opts: DirectTokenOptions) {
    if (!withoutConsent(opts.spec)) throw new ConnectorError(`${opts.platform} needs the owner's consent for channel "${opts.channelId}": its tokens cannot be fetched from its credentials alone.`, false);
    this.endpoint = OAuthEndpoint.of(opts);
    // The assertion or client credentials must be there before any request is made.
    grantParams(opts.spec, opts.credentials, { channelId: opts.channelId, platform: opts.platform });
    this.clock = opts.clock ?? (() => new Date());
  }

  async accessToken(signal?: AbortSignal): Promise<string> {
    const c = this.cached;
    if (c && this.fresh(c)) return c.token;
    return this.fetchShared(signal);
  }

  async onUnauthorized(rejected: string, signal?: AbortSignal): Promise<string> {
    const c = this.cached;
    if (c && c.token !== rejected && this.fresh(c)) return c.token;
    this.cached = null;
    return this.fetchShared(signal);
  }

  invalidate(): void {
    this.cached = null;
  }

  /** Fresh while more than 5 minutes (at most half its life) are left. */
  private fresh(c: { expiresAt: number | null; obtainedAt: number }): boolean {
    if (c.expiresAt === null) return true;
    const margin = Math.min(5 * 60_000, Math.max(0, (c.expiresAt - c.obtainedAt) / 2));
    return c.expiresAt - this.clock().getTime() > margin;
  }

  private async fetchShared(signal?: AbortSignal): Promise<string> {
    this.inflight ??= this.fetchToken().finally(() => (this.inflight = null));
    // A caller that gives up stops waiting at once; the shared request goes on for the others.
    return abortable(this.inflight, signal);
  }

  private async fetchToken(): Promise<string> {
    const { spec, platform, channelId } = this.opts;
    let body: unknown;
    try {
      this.requests++;
      body = await this.endpoint.request(grantParams(spec, this.opts.credentials, { channelId, platform })!);
    } catch (err) {
      if (!(err instanceof OAuthRefusal)) throw err;
      const said = `${err.error ?? `HTTP ${err.status}`}${err.description ? `: ${err.description}` : ''}`;
      const which = spec.grant === 'jwt_bearer' ? `the key in credentials.${spec.assertionCredential ?? 'assertion'} (revoked by the account owner, or not theirs) and the client id` : 'the client id and secret';
      throw new ConnectorError(`${platform} refused the credentials of channel "${channelId}" (${said}): check ${which}.`, false, null, err.status === 400 ? 401 : err.status, { channelFault: true });
    }
    const now = this.clock();
    const answer = readTokenAnswer(body, spec.grant, now, { tokenTypeOptional: spec.tokenTypeOptional ?? false });
    if (!answer.record.accessToken) throw new ConnectorError(`${platform}'s token endpoint answered channel "${channelId}" with a token the hub cannot use (${answer.problem ?? 'no access token'}).`, false, null, null, { channelFault: true });
    this.cached = { token: answer.record.accessToken, expiresAt: answer.record.expiresAt ? Date.parse(answer.record.expiresAt) : null, obtainedAt: now.getTime() };
    return answer.record.accessToken;
  }
}
