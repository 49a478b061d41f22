/**
 * The one-time authorisation of a channel whose platform uses OAuth 2.0, done by the shop owner
 * from the command line (`npm run stockrelay -- authorize --channel <id>`, docs/credentials-oauth.md):
 * the hub prints the platform's consent address (with a random `state` and a PKCE challenge), the
 * owner opens it, allows access, and pastes back the address the browser was sent to (or only the
 * code in it). The hub checks the state, exchanges the code and keeps the tokens encrypted. Works
 * whether the hub is running or not; a running hub picks the new tokens up from the store.
 */
import crypto from 'node:crypto';
import readline from 'node:readline';
import { loadConfig } from '../../config';
import { openStore } from '../../store/open';
import { connectorFor } from '../index';
import { ConnectorError, type ConnectorDefinition, type OAuthSpec } from '../types';
import { OAuthEndpoint, OAuthRefusal, TokenCipher, TokenStoreError, authorizeCommand, pkcePair, grantParams, readTokenAnswer, usesOAuth, withoutConsent, type TokenRecord, type TokenStore } from './oauth';

/** How long a printed consent address can be answered (Square's codes last 5 minutes; the owner needs time to log in). */
export const PENDING_MS = 15 * 60_000;

export interface AuthorizeChannel {
  id: string;
  platform: string;
  baseUrl: string | null;
  settings: Record<string, unknown>;
  credentials: Record<string, string>;
}

export interface AuthorizeContext {
  channel: AuthorizeChannel;
  def: ConnectorDefinition;
  store: TokenStore & { hubState: { get<T>(key: string): Promise<T | null>; set(key: string, value: unknown, now: string): Promise<void> } };
  cipher: TokenCipher;
  fetch?: typeof fetch;
  clock?: () => Date;
}

export class AuthorizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthorizeError';
  }
}

interface Pending {
  state: string;
  verifier: string | null;
  startedAt: string;
}

export interface Authorized {
  grant: OAuthSpec['grant'];
  /** Who the tokens act for, when the platform says. */
  account: string | null;
  scope: string | null;
  expiresAt: string | null;
  refreshToken: boolean;
}

const pendingKey = (channelId: string) => `oauth.pending.${channelId}`;

function endpointOf(ctx: AuthorizeContext): OAuthEndpoint {
  const { channel, def } = ctx;
  if (!def.oauth) throw new AuthorizeError(`Channel "${channel.id}" is on ${def.displayName}, which the hub connects to without OAuth: there is nothing to authorise. Its credentials come from the environment variables its config names.`);
  if (!usesOAuth(def, channel.credentials)) {
    throw new AuthorizeError(`Channel "${channel.id}" does not use OAuth: its config gives no credentials.clientId. To connect it with OAuth, map clientId${def.oauth.clientAuth === 'none' ? '' : ' and clientSecret'} to the environment variables holding your app's client id${def.oauth.clientAuth === 'none' ? '' : ' and secret'} (docs/credentials-oauth.md).`);
  }
  try {
    return new OAuthEndpoint(channel.id, def.displayName, def.oauth, { credentials: channel.credentials, channelBaseUrl: channel.baseUrl, settings: channel.settings, ...(ctx.fetch ? { fetch: ctx.fetch } : {}) });
  } catch (err) {
    if (err instanceof ConnectorError) throw new AuthorizeError(err.message);
    throw err;
  }
}

const now = (ctx: AuthorizeContext) => (ctx.clock ?? (() => new Date()))();

/** Starts an authorisation: keeps its state and PKCE verifier (sealed) and returns the consent address. */
export async function beginAuthorization(ctx: AuthorizeContext): Promise<{ url: string; expiresAt: string }> {
  const ep = endpointOf(ctx);
  if (ctx.def.oauth!.grant !== 'authorization_code') throw new AuthorizeError(`${ctx.def.displayName} gives channel "${ctx.channel.id}" its tokens from your app's own id and secret: run the command with --client-credentials.`);
  const state = crypto.randomBytes(24).toString('base64url');
  const pkce = ctx.def.oauth!.pkce ? pkcePair() : null;
  const at = now(ctx);
  const pending: Pending = { state, verifier: pkce?.verifier ?? null, startedAt: at.toISOString() };
  await ctx.store.hubState.set(pendingKey(ctx.channel.id), { sealed: ctx.cipher.seal(`oauth-pending:${ctx.channel.id}`, pending) }, at.toISOString());
  return { url: ep.consentUrl(state, pkce?.challenge ?? null), expiresAt: new Date(at.getTime() + PENDING_MS).toISOString() };
}

/** What the owner pasted: a redirect address (its query, or fragment), or a bare code. */
export function readPasted(input: string): { code: string | null; state: string | null; error: string | null; errorDescription: string | null; isAddress: boolean } {
  const text = input.trim();
  const isAddress = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) || text.startsWith('?') || /(^|[?&#])(code|state|error)=/.test(text);
  if (!isAddress) return { code: text === '' ? null : text, state: null, error: null, errorDescription: null, isAddress };
  let params: URLSearchParams;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) && URL.canParse(text)) {
    const u = new URL(text);
    params = u.searchParams.has('code') || u.searchParams.has('error') ? u.searchParams : new URLSearchParams(u.hash.replace(/^#/, ''));
  } else {
    params = new URLSearchParams(text.slice(text.search(/[?#]/) + 1 || 0));
  }
  return { code: params.get('code'), state: params.get('state'), error: params.get('error'), errorDescription: params.get('error_description'), isAddress };
}

const sameText = (a: string, b: string) => a.length === b.length && crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * Finishes the authorisation begun last for this channel with what the owner pasted (the redirect
 * address, or the code). A redirect address must carry the state printed with the consent address.
 */
export async function finishAuthorization(ctx: AuthorizeContext, pasted: string): Promise<Authorized> {
  const ep = endpointOf(ctx);
  const id = ctx.channel.id;
  const again = `Run "${authorizeCommand(id)}" again to get a new consent address.`;
  const kept = await ctx.store.hubState.get<{ sealed: string }>(pendingKey(id));
  if (!kept?.sealed) throw new AuthorizeError(`No consent address is waiting for channel "${id}". ${again}`);
  let pending: Pending;
  try {
    pending = ctx.cipher.open<Pending>(`oauth-pending:${id}`, kept.sealed, `The authorisation under way for channel "${id}"`, again);
  } catch (err) {
    if (err instanceof TokenStoreError) throw new AuthorizeError(err.message);
    throw err;
  }
  const at = now(ctx);
  if (at.getTime() - Date.parse(pending.startedAt) > PENDING_MS) throw new AuthorizeError(`The consent address printed for channel "${id}" at ${pending.startedAt} is more than ${PENDING_MS / 60_000} minutes old. ${again}`);
  const p = readPasted(pasted);
  if (p.error) {
    throw new AuthorizeError(
      p.error === 'access_denied'
        ? `${ctx.def.displayName} says access was not allowed${p.errorDescription ? ` (${p.errorDescription})` : ''}. Nothing was saved. ${again}`
        : `${ctx.def.displayName} sent back an error instead of a code: ${p.error}${p.errorDescription ? ` (${p.errorDescription})` : ''}. Nothing was saved. ${again}`,
    );
  }
  if (!p.code) throw new AuthorizeError(`That is not an address ${ctx.def.displayName} sent you back to, nor a code: it has no "code". Paste the whole address from the browser's address bar after you allowed access.`);
  if (p.isAddress) {
    // RFC 6749 §10.12: the state ties the answer to the request this hub made.
    if (p.state === null || !sameText(p.state, pending.state)) {
      throw new AuthorizeError(`That address does not answer the consent address printed last for channel "${id}" (its state does not match), so it was not used and nothing was saved. ${again}`);
    }
  }
  const params: Record<string, string> = { grant_type: 'authorization_code', code: p.code };
  if (ep.redirectUri) params.redirect_uri = ep.redirectUri;
  if (pending.verifier) params.code_verifier = pending.verifier;
  let body: unknown;
  try {
    body = await ep.request(params);
  } catch (err) {
    if (err instanceof OAuthRefusal) {
      const said = `${err.error ?? `HTTP ${err.status}`}${err.description ? `: ${err.description}` : ''}`;
      if (err.error === 'invalid_grant') throw new AuthorizeError(`${ctx.def.displayName} did not accept that code (${said}): a code works once and for a few minutes. Nothing was saved. ${again}`);
      if (err.error === 'invalid_client' || err.status === 401) throw new AuthorizeError(`${ctx.def.displayName} refused your app's credentials (${said}): check the client id and secret in the environment variables that credentials.clientId and credentials.clientSecret of channel "${id}" name. Nothing was saved.`);
      throw new AuthorizeError(`${ctx.def.displayName} refused the code (${said}). Nothing was saved. ${again}`);
    }
    if (err instanceof ConnectorError) throw new AuthorizeError(`${err.message.replace(/; it will be retried\.$/, '.')} Nothing was saved; try the same address again in a moment.`);
    throw err;
  }
  const answer = readTokenAnswer(body, 'authorization_code', at);
  const record: TokenRecord = { ...answer.record, authorisedAt: at.toISOString() };
  const setting = ctx.def.oauth!.accountSetting;
  const expected = setting ? ctx.channel.settings[setting] : undefined;
  if (record.account && typeof expected === 'string' && expected.trim() !== '' && expected.trim() !== record.account) {
    // Not saved: these tokens act for another shop than the one this channel's events come from.
    throw new AuthorizeError(
      `You allowed access to ${ctx.def.displayName} account ${record.account}, but channel "${id}" is for account ${expected.trim()} (its settings.${setting}). Nothing was saved. Sign in to ${ctx.def.displayName} as the owner of ${expected.trim()} and ${again.charAt(0).toLowerCase()}${again.slice(1)}`,
    );
  }
  // Saved first, whatever else the answer lacks: a refresh token in it may be the only one.
  await ctx.store.platformTokens.save(id, ctx.cipher.seal(`platform-tokens:${id}`, record), 'any', at.toISOString());
  await ctx.store.hubState.set(pendingKey(id), null, at.toISOString());
  if (answer.problem || !record.accessToken) throw new AuthorizeError(`${ctx.def.displayName} answered with a token the hub cannot use (${answer.problem ?? 'no access token'}).${record.refreshToken ? ' Its refresh token was saved; the hub will try it.' : ''}`);
  return { grant: 'authorization_code', account: record.account, scope: record.scope, expiresAt: record.expiresAt, refreshToken: record.refreshToken !== null };
}

/** Gets and keeps a token from the app's own id and secret (client_credentials), or from the owner's key (the assertion grant). */
export async function clientCredentialsAuthorization(ctx: AuthorizeContext): Promise<Authorized> {
  const ep = endpointOf(ctx);
  const spec = ctx.def.oauth!;
  if (!withoutConsent(spec)) throw new AuthorizeError(`${ctx.def.displayName} needs the shop owner's consent for channel "${ctx.channel.id}": run the command without --client-credentials.`);
  let body: unknown;
  try {
    body = await ep.request(grantParams(spec, ctx.channel.credentials, { channelId: ctx.channel.id, platform: ctx.def.displayName })!);
  } catch (err) {
    const check = spec.grant === 'jwt_bearer' ? `the client id and the key (credentials.${spec.assertionCredential ?? 'assertion'})` : 'the client id and secret';
    if (err instanceof OAuthRefusal) throw new AuthorizeError(`${ctx.def.displayName} refused your app's credentials for channel "${ctx.channel.id}" (${err.message}). Check ${check} in the environment variables its credentials name. Nothing was saved.`);
    if (err instanceof ConnectorError) throw new AuthorizeError(err.message);
    throw err;
  }
  const at = now(ctx);
  const answer = readTokenAnswer(body, spec.grant, at, { tokenTypeOptional: spec.tokenTypeOptional ?? false });
  if (answer.problem || !answer.record.accessToken) throw new AuthorizeError(`${ctx.def.displayName} answered with a token the hub cannot use (${answer.problem ?? 'no access token'}). Nothing was saved.`);
  const record: TokenRecord = { ...answer.record, authorisedAt: at.toISOString() };
  await ctx.store.platformTokens.save(ctx.channel.id, ctx.cipher.seal(`platform-tokens:${ctx.channel.id}`, record), 'any', at.toISOString());
  return { grant: spec.grant, account: record.account, scope: record.scope, expiresAt: record.expiresAt, refreshToken: false };
}

/** One line from `input` (the first that is not empty); null when it ends first. */
export function readLine(input: NodeJS.ReadableStream, prompt: string | null, output: NodeJS.WritableStream): Promise<string | null> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input, ...(prompt !== null ? { output, terminal: (input as { isTTY?: boolean }).isTTY === true } : {}) });
    let done = false;
    rl.on('line', (line) => {
      if (done || line.trim() === '') return;
      done = true;
      rl.close();
      // Nothing more is read: an open pipe (or terminal) must not keep the command from ending.
      (input as { unref?: () => void }).unref?.();
      resolve(line);
    });
    rl.on('close', () => {
      if (!done) resolve(null);
    });
    if (prompt !== null) rl.setPrompt(prompt);
    if (prompt !== null) rl.prompt();
  });
}

export function describeAuthorized(channelId: string, platform: string, a: Authorized): string {
  const lines = [`Channel "${channelId}" is connected to ${platform}${a.account ? ` (account ${a.account})` : ''}. Its tokens are saved encrypted in the hub's database.`];
  if (a.scope) lines.push(`Access granted: ${a.scope}.`);
  if (a.expiresAt) lines.push(`The access token lasts until ${a.expiresAt.slice(0, 16).replace('T', ' ')} UTC; the hub renews it by itself before then.`);
  if (a.grant === 'authorization_code' && !a.refreshToken && a.expiresAt) lines.push(`${platform} gave no refresh token: when the access token expires, run this command again.`);
  lines.push('A running hub uses the new tokens from its next request; no restart is needed.');
  return lines.join('\n');
}

export interface AuthorizeOptions {
  channel: string;
  code?: string | undefined;
  redirect?: string | undefined;
  clientCredentials?: boolean | undefined;
}

export interface AuthorizeIo {
  env: NodeJS.ProcessEnv;
  input: NodeJS.ReadableStream;
  /** Where the consent address, the prompt and the result are written. */
  output: NodeJS.WritableStream;
  fetch?: typeof fetch;
  clock?: () => Date;
  /** Connector definitions beside the built-in ones (as `loadConfig` takes them). */
  connectors?: ConnectorDefinition[];
}

/**
 * `stockrelay authorize`: reads the hub's config and opens its store as the hub would (the same
 * environment), then runs the step the options ask for. Resolves with what it printed last.
 */
export async function runAuthorize(o: AuthorizeOptions, io: AuthorizeIo): Promise<Authorized | null> {
  const { config } = loadConfig(io.env, io.connectors ? { connectors: io.connectors } : {});
  const channel = config.channels.find((c) => c.id === o.channel);
  if (!channel) {
    const ids = config.channels.map((c) => c.id);
    throw new AuthorizeError(`No channel "${o.channel}" in the config file${config.configFile ? ` (${config.configFile})` : ' (STOCKRELAY_CONFIG is not set)'}.${ids.length > 0 ? ` Its channels: ${ids.join(', ')}.` : ''}`);
  }
  const def = io.connectors?.find((d) => d.platform === channel.platform) ?? connectorFor(channel.platform);
  if (!def) throw new AuthorizeError(`Channel "${channel.id}" is on ${channel.platform}, which this version of the hub has no connector for.`);
  if (o.code !== undefined && o.redirect !== undefined) throw new AuthorizeError('Give --code or --redirect, not both.');
  const say = (text: string) => void io.output.write(`${text}\n`);
  const store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, pgSchema: config.pgSchema });
  try {
    const ctx: AuthorizeContext = {
      channel: { id: channel.id, platform: channel.platform, baseUrl: channel.baseUrl, settings: channel.settings, credentials: channel.credentials },
      def,
      store,
      cipher: new TokenCipher(config.credentialKey),
      ...(io.fetch ? { fetch: io.fetch } : {}),
      ...(io.clock ? { clock: io.clock } : {}),
    };
    let result: Authorized;
    if (o.clientCredentials || (def.oauth && withoutConsent(def.oauth))) {
      result = await clientCredentialsAuthorization(ctx);
    } else if (o.code !== undefined || o.redirect !== undefined) {
      result = await finishAuthorization(ctx, (o.redirect ?? o.code)!);
    } else {
      const { url } = await beginAuthorization(ctx);
      say(`To connect channel "${channel.id}" to ${def.displayName}:`);
      say('');
      say('  1. Open this address in a browser, signed in as the shop\'s owner, and allow access:');
      say('');
      say(`     ${url}`);
      say('');
      say(`  2. ${def.displayName} then sends the browser to your app's redirect address. Copy the whole address from the browser's address bar (the page itself may not load) and paste it here. The code in it works once and for a few minutes.`);
      say('');
      const line = await readLine(io.input, 'Address (or code): ', io.output);
      if (line === null) {
        say('');
        say(`Nothing was pasted. When you have the address, run: ${authorizeCommand(channel.id)} --redirect '<the address>' (within ${PENDING_MS / 60_000} minutes).`);
        throw new AuthorizeError('No address or code was given.');
      }
      result = await finishAuthorization(ctx, line);
    }
    say(describeAuthorized(channel.id, def.displayName, result));
    return result;
  } finally {
    await store.close();
  }
}
