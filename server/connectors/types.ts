/**
 * The one shape every platform connector has. A connector lives in `server/connectors/<platform>/`
 * and exports a `ConnectorDefinition`; the hub knows platforms only through this file.
 * See docs/connectors.md for how to add one.
 */
import type { Emulator } from './emulator';
import type { ChannelFact, ListingRef, PlatformListing } from '../core/facts';

/** The vocabulary of what a connector reports (server/core/facts.ts), here too so a connector needs one file. */
export type { ListingRef, PlatformListing, DiscoveryReport, FactLine, PaymentStatus, FulfilmentStatus, OrderLineDetail, OrderDetails, RefundMoney, ChannelFact } from '../core/facts';

/** How a connector can change a level on the platform, safest first. */
export type PushMode =
  /** The platform refuses the write if the level is no longer what we last saw (Shopify `changeFromQuantity`). */
  | 'compare_and_set'
  /** A relative change with an idempotency key, safe to retry (Square ADJUSTMENT, BigCommerce relative). */
  | 'idempotent_delta'
  /** An absolute value, last writer wins; always followed by a read-back (WooCommerce `stock_quantity`). */
  | 'absolute_set';

export type RateLimitModel =
  /** `requestCost`: points one request is charged (Shopify: about 10 for an inventory mutation); every request the connector makes is charged (docs/dispatch.md). */
  | { kind: 'cost_bucket'; restorePerSecond: number; bucketSize: number; requestCost?: number; description: string }
  | { kind: 'requests_per_window'; requests: number; windowMs: number; description: string }
  /**
   * A leaky bucket of `bucketSize` units draining `dripPerSecond` units a second; a read (GET, HEAD)
   * pours 1 unit, a write (PUT, POST, PATCH, DELETE) `writeCost` units (1 when not given: Lightspeed
   * Retail R-Series counts 10).
   */
  | { kind: 'leaky_bucket'; dripPerSecond: number; bucketSize: number; writeCost?: number; description: string }
  /** The platform publishes no limit: back off on 429 only. */
  | { kind: 'unpublished'; description: string };

export interface ConnectorCapabilities {
  platform: string;
  /**
   * Push modes this connector uses, safest first; the first one is used when it applies. A
   * connector that has `compare_and_set` or `idempotent_delta` writes `absolute_set` only for a
   * target without an expected level: the hub takes any other write of it for one that cannot have
   * landed over a sale (booking/handlers/attribution-window.ts, changedSincePush).
   */
  push: PushMode[];
  /** Whether the platform keeps stock per location. */
  locations: boolean;
  /** Whether a listing can be hidden at zero and relisted on restock, and how. */
  hideRelist: { supported: boolean; how: string };
  /** Platform topics that arrive by webhook. */
  webhooks: string[];
  /**
   * Feeds the hub polls (`Connector.poll`), for what the platform does not push or as a backstop
   * to its webhooks; each name is a feed the connector's `poll` answers.
   */
  polled: string[];
  rateLimit: RateLimitModel;
  /** Most level changes in one push request. */
  maxBatch: number;
}

export type Headers = Record<string, string | string[] | undefined>;

export type VerifyResult =
  | {
      valid: true;
      /** The platform's own id for this delivery or event; the inbox dedupes on it. */
      eventId: string;
      /** The platform's topic or event type, e.g. `orders/create`, `inventory.count.updated`. */
      topic: string;
      /** When the platform says the event happened, if it says. */
      occurredAt: string | null;
    }
  | {
      valid: false;
      reason: string;
      /**
       * What was wrong, when the connector says: `signature` (not signed with this channel's secret),
       * `account` (signed, but for another shop, merchant or store than this channel's, or naming
       * none), `topic` (signed, but the unsigned topic header does not match what the body is).
       */
      refusal?: 'signature' | 'account' | 'topic';
    };

export interface PushTarget {
  sku: string;
  ref: ListingRef;
  /** The platform's location id. */
  locationId: string;
  /** The level the channel should show. */
  level: number;
  /** The level we last saw on the channel, for compare-and-set and for deltas; null if never read. */
  expected: number | null;
  /** Stable for this target, so a retried push is not applied twice. */
  idempotencyKey: string;
  /**
   * What the channel's level stood on when the hub last learnt of it, as this connector said
   * (`level_observed.basis`, or `basis` in a push's answer); null or absent: nothing said.
   */
  basis?: string | null;
}

export type PushOutcome =
  /** `wrote: false`: the channel already showed the level and nothing was written (absent: written). */
  | { sku: string; locationId: string; status: 'applied'; level: number; wrote?: false; basis?: string }
  /**
   * Compare-and-set refused: the channel's level moved since we read it; `observed` is what it is now.
   * `untilFeed`: the move is one that polled feed of the connector has still to report (the level
   * shows no difference, but the stock behind it changed); the hub tries again once that feed is
   * next due, not at once. `basis` (applied or stale): what the level now stands on (PushTarget.basis).
   */
  | { sku: string; locationId: string; status: 'stale'; observed: number | null; untilFeed?: string; basis?: string }
  | { sku: string; locationId: string; status: 'failed'; message: string };

export interface LevelReading {
  sku: string;
  ref: ListingRef;
  locationId: string;
  available: number;
}

/** HTTP answers that refuse what was asked rather than who asked or where: not a channel fault by themselves. */
const REFUSALS_OF_THE_REQUEST = new Set([400, 409, 410, 422]);

/**
 * A connector call that failed; `retryable` says whether trying the same request again at once may
 * help. `channelFault` says whether the failure is the channel's rather than one item's: its
 * credentials, its permissions, its address or route, its availability (401, 403, 404 of a route,
 * 5xx, 429, no answer) — the dispatcher then keeps the pushes, retries with backoff, suspends the
 * channel and raises an alert (docs/dispatch.md). Not a channel fault: a refusal of what was asked
 * (400, 409, 422, a missing item, a check of ours before sending), which dead-letters that item only.
 */
export class ConnectorError extends Error {
  readonly channelFault: boolean;

  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs: number | null = null,
    readonly status: number | null = null,
    opts: { channelFault?: boolean } = {},
  ) {
    super(message);
    this.name = 'ConnectorError';
    this.channelFault = opts.channelFault ?? (retryable || (status !== null && !REFUSALS_OF_THE_REQUEST.has(status)));
  }
}

export interface Connector {
  readonly capabilities: ConnectorCapabilities;
  /** Checks a webhook delivery over its raw bytes; never throws on bad input. */
  verify(raw: Buffer, headers: Headers): VerifyResult;
  /**
   * Optional: whether an unverified delivery is the platform's address check (WooCommerce posts an
   * unsigned `webhook_id=N` when a webhook is saved and warns the owner unless it gets a 2xx). A
   * ping is answered 200 and nothing is stored; it must carry no event.
   */
  isPing?(raw: Buffer, headers: Headers): boolean;
  /**
   * Optional, for platforms whose webhooks are thin (a Square order event carries no line items):
   * fetches what `translate` needs and returns the body to translate instead. Called by the inbox
   * processor just before `translate`; return the body unchanged when nothing is missing.
   */
  expand?(topic: string, body: unknown, signal?: AbortSignal): Promise<unknown>;
  /** Pure: the facts in one verified event. Throws `TranslateError` on a body it cannot read. */
  translate(topic: string, body: unknown, headers: Headers): ChannelFact[];
  /** Sets levels on the platform with the safest mode it offers; one outcome per target. */
  push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]>;
  /** Reads the platform's levels, for reconciliation and after absolute sets. */
  read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]>;
  /** Hides the listing from buyers (at zero), and shows it again (on restock). */
  hide(ref: ListingRef, signal?: AbortSignal): Promise<void>;
  relist(ref: ListingRef, signal?: AbortSignal): Promise<void>;
  /** Every listing on the platform, for catalog discovery (see `matchCatalog`). */
  listCatalog(signal?: AbortSignal): Promise<PlatformListing[]>;
  /**
   * Optional, for each feed in `capabilities.polled`: the events after `cursor` (null: from where
   * the feed should start), oldest first, and the cursor to ask from next time. The hub stores the
   * events in the inbox exactly as verified webhooks (same dedupe on `eventId`) and the new cursor in
   * the same transaction (docs/polling.md).
   */
  poll?(feed: string, cursor: string | null, signal?: AbortSignal): Promise<PollResult>;
}

/** One event a polled feed found, as the inbox keeps a verified webhook. */
export interface PolledEvent {
  /** The platform's id for this event (for an order: its id and its modification time), so a re-read is not stored twice. */
  eventId: string;
  /** The topic `translate` reads it as (the webhook topic the platform would have sent). */
  topic: string;
  body: unknown;
  occurredAt: string | null;
}

export interface PollResult {
  events: PolledEvent[];
  /** Where the next poll starts; the connector keeps its own overlap inside it. */
  cursor: string;
  /** True when the platform has more right now (the hub polls again at once, paced). */
  more: boolean;
}

export class TranslateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TranslateError';
  }
}

/** What a connector is built from: its channel's settings and secrets, already checked. */
export interface ConnectorContext {
  channelId: string;
  /** The platform's API address; the connector's default when the config gives none. */
  baseUrl: string | null;
  /** Platform settings from the config file (shop domain, API version, notification URL, …). */
  settings: Record<string, unknown>;
  /**
   * The platform's location ids this channel maps to ours (the values of its config's `locations`),
   * for a connector whose orders name a location only sometimes and must tell one apart.
   */
  locations?: readonly string[];
  /** Secrets read from the environment variables the config names. Never logged. */
  credentials: Record<string, string>;
  /**
   * How to send a request to the platform. In the hub it is the channel's paced fetch: each request
   * waits for its turn under the platform's rate limit and is counted (docs/dispatch.md, "Every
   * request counts"), so a client should send every request through it.
   */
  fetch?: typeof fetch;
  /**
   * Takes one request's turn from the channel's pace, for a client that does not send through
   * `fetch` (WooCommerce's axios): called right before each request. Absent outside the hub.
   */
  requestTurn?: (signal?: AbortSignal) => Promise<void>;
  clock?: () => Date;
  /**
   * The channel's OAuth 2.0 access tokens, when its platform's definition has `oauth` and the channel
   * uses it (docs/credentials-oauth.md); absent otherwise.
   */
  tokens?: TokenSource;
}

/**
 * A channel's OAuth 2.0 access token, always valid when handed out: refreshed ahead of expiry, one
 * refresh shared by every caller (server/connectors/kit/oauth/).
 */
export interface TokenSource {
  /** A valid access token; refreshes first when it is about to expire. */
  accessToken(signal?: AbortSignal): Promise<string>;
  /**
   * The platform answered 401 to a request carrying `rejected`: a token to retry that request with
   * once (refreshed, unless another caller already replaced `rejected`).
   */
  onUnauthorized(rejected: string, signal?: AbortSignal): Promise<string>;
  /** Forgets the token held in memory: the next call reads the store again. */
  invalidate(): void;
}

/**
 * How a platform hands out OAuth 2.0 tokens (RFC 6749), for connectors whose channels are
 * authorised once by the shop owner (`stockrelay authorize`) and then refresh on their own, or
 * that get tokens with the app's own id and secret (docs/credentials-oauth.md). A channel using it
 * maps the credentials `clientId` and (unless `clientAuth` is `none`) `clientSecret`.
 */
export interface OAuthSpec {
  /**
   * `authorization_code`: one consent, then refresh tokens; `client_credentials`: the app's id and
   * secret get each token; `jwt_bearer`: the JWT assertion grant (RFC 7523 §2.1) — an assertion the
   * account owner issued once (Zettle's API key) gets each token, no consent page, no refresh token.
   */
  grant: 'authorization_code' | 'client_credentials' | 'jwt_bearer';
  /** `jwt_bearer` only: the credential holding the assertion (Zettle: `apiKey`). */
  assertionCredential?: string;
  /** The token answer may leave out `token_type` (Zettle's assertion grant answers only access_token and expires_in); it is then read as bearer. */
  tokenTypeOptional?: boolean;
  /** Where the OAuth endpoints live. A channel's `settings.oauthBaseUrl` overrides it (a platform sandbox, an emulator). */
  baseUrl: string;
  /** The channel's `baseUrl`, when it gives one, is the OAuth base too (Square: sandbox and production differ by host). */
  followsChannelBaseUrl?: boolean;
  /** The consent page (authorization_code only) and the token endpoint: paths under the base, or absolute addresses. */
  authorizePath?: string;
  tokenPath: string;
  scopes: readonly string[];
  /** How scopes are joined in the consent address (RFC 6749 §3.3: one space). */
  scopeSeparator?: string;
  /** How the app proves who it is at the token endpoint (RFC 6749 §2.3.1); `none`: a public client, PKCE only. */
  clientAuth: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** Send a PKCE S256 challenge (RFC 7636) with the consent request and its verifier with the code. */
  pkce?: boolean;
  /** Each refresh answer carries a new refresh token and the old one stops working. */
  rotatesRefreshTokens: boolean;
  /** The token request's body: `form` (RFC 6749, the default) or `json` (Square's ObtainToken). */
  tokenRequestBody?: 'form' | 'json';
  /** Extra query parameters of the consent address. */
  authorizeParams?: Readonly<Record<string, string>>;
  /** Refresh at least this often, even while the access token is valid (Square: every 7 days or less). */
  refreshEveryMs?: number;
  /** Credentials of the definition a channel using OAuth does not need (Square: accessToken). */
  replaces?: readonly string[];
  /** OAuth is one way among others: a channel uses it only when its credentials name `clientId`. */
  optional?: boolean;
  /**
   * The channel setting naming the platform account (Square: `merchantId`): an authorisation whose
   * answer names another account (Square's `merchant_id`) is refused, so a channel never acts on
   * a shop that is not its own.
   */
  accountSetting?: string;
}

/**
 * How the sandbox (`npm start` with no channel configured, docs/connectors.md) runs this platform:
 * its emulator, wired as one demo channel over the demo locations `gallery` and `warehouse`.
 */
export interface SandboxWiring {
  /** The demo channel's id (also its name in STOCKRELAY_SANDBOX and in `simulate --channel`). */
  channelId: string;
  /** What staff see, e.g. "Web store (Shopify)". */
  name: string;
  /** Demo location (`gallery`, `warehouse`) → the emulator's location id; at least one. */
  locations: Partial<Record<'gallery' | 'warehouse', string>>;
  hideAtZero: boolean;
  /** Whether the sandbox runs it when STOCKRELAY_SANDBOX does not name platforms (three do). */
  byDefault: boolean;
  /** The channel's platform settings for the emulator (`webhookUrl`: where the emulator sends webhooks). */
  settings(ctx: { webhookUrl: string; baseUrl: string }): Record<string, string | number | boolean>;
  /**
   * A new emulator; `credentials` are made up for this run under the definition's credential names.
   * `random`: where its webhook faults draw from (the simulation passes a seeded one; default Math.random).
   */
  createEmulator(opts: { credentials: Record<string, string>; webhookUrl: string; locations: string[]; random?: () => number }): Emulator;
}

export interface ConnectorDefinition {
  /** The name the config file uses (`platform: shopify`). */
  platform: string;
  /** The platform as staff know it: "Shopify". */
  displayName: string;
  /** The platform's developer documentation this connector was built from. */
  docsUrl: string;
  /**
   * Where the platform sells: at a counter (`point_of_sale`: Square, Lightspeed, Clover, …) or online
   * (`web_store`, the default). The gallery scenario (a counter sale leaving the web store) runs for
   * every point of sale; nothing in the engine depends on it.
   */
  kind?: 'point_of_sale' | 'web_store';
  /**
   * Request headers that carry a signature or secret on this platform's webhooks (lower case); the
   * logs never show their values.
   */
  secretHeaders: readonly string[];
  /** Optional: the platform's emulator in the sandbox. */
  sandbox?: SandboxWiring;
  /** Credential names the config must map to environment variables, e.g. `accessToken`. */
  credentials: readonly string[];
  /** Settings the config must give, e.g. `shopDomain`; checked at start. */
  requiredSettings: readonly string[];
  /** Optional: for a required setting, what it is and where to find it (added to the start-up error). */
  settingHelp?: Readonly<Record<string, string>>;
  /** Optional: how the platform hands out OAuth 2.0 tokens (docs/credentials-oauth.md). */
  oauth?: OAuthSpec;
  capabilities: ConnectorCapabilities;
  create(ctx: ConnectorContext): Connector;
}

/** One header value, case-insensitive; a header given twice with different values counts as absent. */
export function headerValue(headers: Headers | null | undefined, name: string): string | null {
  if (!headers || typeof headers !== 'object') return null;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== wanted) continue;
    if (typeof value === 'string') return value.trim();
    if (Array.isArray(value)) {
      const distinct = [...new Set(value.filter((v): v is string => typeof v === 'string').map((v) => v.trim()))];
      return distinct.length === 1 ? distinct[0]! : null;
    }
    return null;
  }
  return null;
}
