import type { Movement, MovementInput } from '../domain/ledger';
import type { InboxStatus, OutboxStatus } from './schema';
import type { OrderOps } from './order-ops';

export type Dialect = 'sqlite' | 'postgres';
export type { InboxStatus, OutboxStatus };

export interface LocationRecord {
  id: string;
  name: string;
}

export interface ItemRecord {
  sku: string;
  title: string | null;
  lowStockThreshold: number | null;
  /** Days from ordering to receiving, for reorder suggestions (null: the config's default). */
  leadTimeDays: number | null;
  /** Units to keep in hand beyond expected sales during the lead time (null: the config's default). */
  safetyStock: number | null;
  /** Set while a supplier order for the item is late: what its listings do at zero (docs/orders.md). */
  listingHold: 'hide' | 'keep_listed' | null;
  status: 'active' | 'archived';
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
}

export interface LevelRecord {
  sku: string;
  locationId: string;
  onHand: number;
  reserved: number;
  updatedAt: string;
}

export interface InboxEntry {
  id: number;
  dedupeKey: string;
  source: string;
  kind: string;
  headers: Record<string, string>;
  body: string;
  status: InboxStatus;
  outcome: unknown;
  attempts: number;
  receivedAt: string;
  processedAt: string | null;
  /** Set while the entry waits for its platform to answer again: not claimed before then. */
  retryAt: string | null;
  /**
   * A channel event's facts, found before booking (the prepare stage, docs/inbox-outbox.md): JSON
   * of `{facts}` or `{rejected: reason}`; null until prepared. A channel event is booked only once
   * prepared; other events need no preparing.
   */
  prepared: string | null;
}

export interface OutboxEntry {
  id: number;
  sink: string;
  topic: string;
  coalesceKey: string | null;
  payload: unknown;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: string;
  lockedUntil: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface AlertRecord {
  id: number;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  sku: string | null;
  locationId: string | null;
  /** The channel an alert is about as a whole (failing, suspended); null for stock alerts. */
  channelId: string | null;
  message: string;
  status: 'open' | 'resolved';
  openedAt: string;
  resolvedAt: string | null;
}

export interface ChannelListingRecord {
  channelId: string;
  sku: string;
  productId: string;
  variantId: string;
  inventoryItemId: string | null;
  title: string;
  hidden: boolean;
  updatedAt: string;
}

/** What we last pushed to a channel and last saw on it, for one item at one of our locations. */
export interface ChannelLevelRecord {
  channelId: string;
  sku: string;
  locationId: string;
  pushed: number | null;
  pushedAt: string | null;
  /** Whether `pushed` was written by us (true), or found already showing on the channel (false). */
  pushedWrote: boolean;
  observed: number | null;
  observedAt: string | null;
  /** The level the hub believes the channel shows (docs/attribution.md). */
  expected: number | null;
  /** The platform's own time of the newest observation. */
  observedPlatformAt: string | null;
  /** Set while an observation differs from `expected` and waits for its explanation. */
  pendingSince: string | null;
  /**
   * While a discrepancy is open: the rises (≥ 0) and falls (≤ 0) the channel's reports went through
   * since it opened, less what orders booked meanwhile explained. When the window books the net
   * change they become its drift by direction (a count and a sale in one window: seed 41466).
   */
  pendingUp: number;
  pendingDown: number;
  /**
   * Level changes of the channel booked as unexplained and not yet matched to an order, by direction:
   * decreases (≤ 0, a late sale can explain them) and increases (≥ 0, a late restock can).
   */
  driftDown: number;
  driftUp: number;
  /** Running sum of the stock changes booked from this channel here (its sales, its restocks). */
  bookedDelta: number;
  /** A push sent whose answer has not been recorded (null: none): the level sent, and bookedDelta then. */
  pushing: number | null;
  pushingBookedDelta: number | null;
  /** The time the drift was last booked; only orders made by then can explain it. */
  driftThrough: string | null;
}

export type ChannelLevelPatch = Partial<Omit<ChannelLevelRecord, 'channelId' | 'sku' | 'locationId'>>;

/** A sheet edit whose old value no longer matched the hub, kept until someone decides (docs/conflicts.md). */
export interface ConflictRecord {
  id: number;
  /** The edit's own booking key: the same edit found again is the same conflict. */
  key: string;
  eventId: number | null;
  sku: string;
  locationId: string;
  /** What the cell showed before the edit (null: unknown). */
  sheetShowed: number | null;
  /** What was typed. */
  typed: number;
  /** The hub's on hand when the conflict was found. */
  hubHad: number;
  source: string;
  actor: string | null;
  editedAt: string;
  foundAt: string;
  status: 'open' | 'accepted' | 'rejected';
  resolvedAt: string | null;
  resolvedBy: string | null;
  /** The count booked when it was accepted. */
  movementId: number | null;
  /** What was done, in words. */
  resolution: string | null;
}

export type ConflictInput = Pick<ConflictRecord, 'key' | 'eventId' | 'sku' | 'locationId' | 'sheetShowed' | 'typed' | 'hubHad' | 'source' | 'actor' | 'editedAt'>;

/**
 * A credential one source uses instead of the admin token (docs/security.md). The store keeps only a
 * hash of its token and the nonce its relay secret is derived from; neither secret itself.
 */
export interface CredentialRecord {
  id: number;
  name: string;
  scopes: string[];
  /** The first characters of the token, to tell credentials apart; null when it has no token. */
  tokenPrefix: string | null;
  /** The first characters of the relay secret; null when it does not relay. */
  relaySecretPrefix: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  rotatedAt: string | null;
  revokedAt: string | null;
}

/** What a credential's secrets are checked against: the token's hash and the relay secret's nonce. */
export interface CredentialSecrets {
  tokenHash: string | null;
  tokenPrefix: string | null;
  relayNonce: string | null;
  relaySecretPrefix: string | null;
}

/** A channel's OAuth 2.0 tokens as stored: sealed (encrypted), never in clear (docs/credentials-oauth.md). */
export interface PlatformTokenRow {
  channelId: string;
  sealed: string;
  /** Bumped by every write. */
  version: number;
  updatedAt: string;
  /** The hub process refreshing the tokens now, and until when its claim holds (null: nobody). */
  leaseOwner: string | null;
  leaseUntil: string | null;
}

export interface BookResult {
  movement: Movement;
  /** True when the idempotency key was already booked: `movement` is the first booking, unchanged. */
  duplicate: boolean;
}

export interface CountInput extends Omit<MovementInput, 'quantity' | 'reason' | 'countedQuantity'> {
  counted: number;
}

/** A row for the outbox (docs/inbox-outbox.md). */
export interface OutboxInput {
  sink: string;
  topic: string;
  coalesceKey?: string | null;
  payload: unknown;
}

export interface Page {
  limit: number;
  /** Return rows with an id (or key) strictly before / after this cursor. */
  cursor?: string | number | undefined;
}

/** Everything the hub does with its data. Both stores implement it; `test/store/conformance.ts` checks both. */
export interface StoreOps {
  readonly dialect: Dialect;
  /** Orders, purchase orders and supplier orders, in the same connection or transaction (docs/orders.md). */
  orders(): OrderOps;

  ensureLocations(locations: LocationRecord[], now: string): Promise<void>;
  listLocations(): Promise<LocationRecord[]>;
  getLocation(id: string): Promise<LocationRecord | null>;

  getItem(sku: string): Promise<ItemRecord | null>;
  /** Creates the item, or updates the given fields; an archived item becomes active again. */
  upsertItem(item: { sku: string; title?: string | null; lowStockThreshold?: number | null; leadTimeDays?: number | null; safetyStock?: number | null }, now: string): Promise<ItemRecord>;
  archiveItem(sku: string, now: string): Promise<ItemRecord | null>;
  /** Ordered by SKU; `cursor` is the last SKU of the previous page. */
  listItems(page: Page & { status?: 'active' | 'archived' | undefined }): Promise<ItemRecord[]>;

  getLevel(sku: string, locationId: string): Promise<LevelRecord | null>;
  /** The item and its level at one location, read together (null where there is none). */
  itemAt(sku: string, locationId: string): Promise<{ item: ItemRecord | null; level: LevelRecord | null }>;
  levelsFor(skus: string[]): Promise<LevelRecord[]>;
  /** Books one movement; the same idempotency key twice books once and returns the first. */
  book(input: MovementInput, now: string): Promise<BookResult>;
  /** Books several movements in one transaction (a transfer's two legs). */
  bookAll(inputs: MovementInput[], now: string): Promise<BookResult[]>;
  /** Books an absolute count as the delta from on-hand at this moment, recording the count. */
  bookCount(input: CountInput, now: string): Promise<BookResult>;
  movementByKey(key: string): Promise<Movement | null>;
  /** Newest first; `cursor` is the id of the last movement of the previous page. */
  listMovements(sku: string, page: Page): Promise<Movement[]>;
  /** Levels recomputed from the movements alone, to check the projection against. */
  recomputeLevels(): Promise<LevelRecord[]>;

  /** Stores a raw inbound event; null when its dedupe key was seen before (a replay or duplicate). */
  insertInbox(e: { dedupeKey: string; source: string; kind: string; headers: Record<string, string>; body: string }, now: string): Promise<{ id: number } | null>;
  /**
   * Stores several raw inbound events in one transaction (one commit, one fsync), in the order given,
   * so their ids follow that order. For each: its id, or null when its dedupe key was seen before,
   * including earlier in the same batch. All or nothing: on an error none is stored.
   */
  insertInboxBatch(events: { dedupeKey: string; source: string; kind: string; headers: Record<string, string>; body: string }[], now: string): Promise<({ id: number } | null)[]>;
  /**
   * Inside a transaction: locks and returns the oldest entry waiting to be processed and ready to
   * book (a channel event once prepared). With `now`, an entry that waits for its platform
   * (`retryAt` later than now) is passed over until then.
   */
  claimInbox(now?: string): Promise<InboxEntry | null>;
  /**
   * Channel events not yet prepared, oldest first, due at `now` (not waiting for their platform);
   * with `channelId`, only that channel's (stored under `channel:<id>:`).
   */
  unpreparedInbox(now: string, limit: number, channelId?: string): Promise<InboxEntry[]>;
  /** Keeps what preparing an entry found; false when it was prepared (or finished) meanwhile, e.g. by another hub process. */
  setPrepared(id: number, prepared: string): Promise<boolean>;
  /** Leaves an entry whose try failed waiting (status `received`) until `retryAt`, with why in its outcome; the try is counted. */
  deferInbox(id: number, retryAt: string, outcome: unknown): Promise<void>;
  finishInbox(id: number, status: InboxStatus, outcome: unknown, now: string): Promise<void>;
  getInbox(id: number): Promise<InboxEntry | null>;
  inboxByKey(dedupeKey: string): Promise<InboxEntry | null>;
  listInbox(page: Page & { status?: InboxStatus | undefined }): Promise<InboxEntry[]>;
  /** Puts an unmatched, rejected, conflicting or failed entry back in the queue (a channel event is prepared again). */
  requeueInbox(id: number): Promise<boolean>;
  countInbox(): Promise<Record<string, number>>;

  /** Adds a row to the outbox; with a coalesce key, replaces the payload of the row still waiting. */
  enqueue(e: OutboxInput, now: string): Promise<void>;
  /** Several rows at once, in this order, as `enqueue` would add them one by one. */
  enqueueAll(entries: OutboxInput[], now: string): Promise<void>;
  /** Claims up to `limit` due rows for `leaseMs`; a row whose lease ran out is due again. */
  claimOutbox(limit: number, leaseMs: number, now: string, filter?: { sinks?: string[]; excludeSinks?: string[] }): Promise<OutboxEntry[]>;
  /**
   * Marks the row delivered. With `lease` (the `lockedUntil` of the claim), only while that claim
   * still holds the row; false when it no longer did (its lease ran out and another worker took it).
   */
  completeOutbox(id: number, now: string, lease?: string | null): Promise<boolean>;
  /**
   * Reschedules the row at `retryAt`, or makes it a dead letter when `retryAt` is null. With `lease`,
   * only while that claim still holds the row; otherwise nothing changes and the current status is returned.
   * `refundAttempt`: the receiver only asked us to wait (429); the attempt the claim counted is given back.
   */
  failOutbox(id: number, error: string, retryAt: string | null, now: string, lease?: string | null, opts?: { refundAttempt?: boolean }): Promise<OutboxStatus>;
  listOutbox(page: Page & { status?: OutboxStatus | undefined }): Promise<OutboxEntry[]>;
  getOutbox(id: number): Promise<OutboxEntry | null>;
  /** Puts a dead letter back in the queue, due now. */
  retryDead(id: number, now: string): Promise<boolean>;
  countOutbox(): Promise<Record<string, number>>;
  /** The newest outbox row with this coalesce key, whatever its status. */
  latestOutboxFor(coalesceKey: string): Promise<OutboxEntry | null>;

  /** Opens an alert unless one of the same kind is already open for the item, location and channel. */
  openAlert(a: { kind: string; severity: AlertRecord['severity']; sku: string | null; locationId: string | null; channelId?: string | null; message: string }, now: string): Promise<AlertRecord | null>;
  /** Resolves the open alerts of these kinds about a channel as a whole; returns how many. */
  resolveChannelAlerts(channelId: string, kinds: string[], now: string): Promise<number>;
  /** Resolves open alerts of these kinds for the item and location; returns how many. */
  resolveAlerts(sku: string, locationId: string | null, kinds: string[], now: string): Promise<number>;
  listAlerts(page: Page & { status?: 'open' | 'resolved' | undefined }): Promise<AlertRecord[]>;

  /** Replaces a channel's SKU → listing map with the result of catalog discovery (hidden flags kept). */
  replaceListings(channelId: string, listings: { sku: string; productId: string; variantId: string; inventoryItemId: string | null; title: string }[], now: string): Promise<void>;
  listListings(channelId: string): Promise<ChannelListingRecord[]>;
  listingForSku(channelId: string, sku: string): Promise<ChannelListingRecord | null>;
  /** The item's listings on every channel. */
  listingsForSku(sku: string): Promise<ChannelListingRecord[]>;
  /** Finds the listing by the most specific platform id given: variant, then inventory item, then product (if unique). */
  listingForRef(channelId: string, ref: { productId?: string | undefined; variantId?: string | undefined; inventoryItemId?: string | undefined }): Promise<ChannelListingRecord | null>;
  setListingHidden(channelId: string, sku: string, hidden: boolean, now: string): Promise<void>;
  getChannelLevel(channelId: string, sku: string, locationId: string): Promise<ChannelLevelRecord | null>;
  /** Records the level we set on the channel (`pushed`) or saw there (`observed`). */
  /**
   * A push the channel applied (`pushed`) or a level it showed (`observed`). For a push,
   * `bookedDeltaAtSend` is the row's `bookedDelta` read when the push was built: the channel's own
   * sales and restocks booked since then happened on top of the pushed level, so expected becomes
   * `level + (bookedDelta now − bookedDeltaAtSend)`.
   */
  /** `wrote`: false when a push found the level already there and wrote nothing (docs/attribution.md). */
  recordChannelLevel(channelId: string, sku: string, locationId: string, kind: 'pushed' | 'observed', level: number, now: string, bookedDeltaAtSend?: number, wrote?: boolean): Promise<void>;
  listChannelLevels(channelId: string, skus?: string[]): Promise<ChannelLevelRecord[]>;
  /** Sets these fields of a channel level row (creating it). */
  updateChannelLevel(channelId: string, sku: string, locationId: string, patch: ChannelLevelPatch): Promise<void>;
  /** Channel levels with a discrepancy open since `openedBefore` or earlier. */
  listDiscrepancies(openedBefore: string, limit: number): Promise<ChannelLevelRecord[]>;

  /** The movements one inbound event booked, oldest first. */
  movementsByEvent(eventId: number): Promise<Movement[]>;
  /** Stores a conflict; the same key again returns the one stored first (`created` false). */
  recordConflict(c: ConflictInput, now: string): Promise<{ conflict: ConflictRecord; created: boolean }>;
  getConflict(id: number): Promise<ConflictRecord | null>;
  /** A small named record kept between runs (JSON), or null. */
  getState<T>(key: string): Promise<T | null>;
  setState(key: string, value: unknown, now: string): Promise<void>;
  conflictByKey(key: string): Promise<ConflictRecord | null>;
  /** Newest first; `cursor` is the id of the last conflict of the previous page. */
  listConflicts(page: Page & { status?: ConflictRecord['status'] | undefined; sku?: string | undefined }): Promise<ConflictRecord[]>;
  /** Stores a new credential (its token's hash and its relay nonce, never the secrets). */
  createCredential(c: { name: string; scopes: string[] } & CredentialSecrets, now: string): Promise<CredentialRecord>;
  /** Every credential, revoked ones too, by id. */
  listCredentials(): Promise<CredentialRecord[]>;
  getCredential(id: number): Promise<CredentialRecord | null>;
  /** The credential whose token has this hash, revoked or not; null when none has. */
  credentialByTokenHash(tokenHash: string): Promise<CredentialRecord | null>;
  /** The credentials not revoked that relay, with the nonce their relay secret is derived from. */
  relayCredentials(): Promise<(CredentialRecord & { relayNonce: string })[]>;
  /** New secrets for a credential not revoked; null when it is unknown or revoked. The old ones stop at once. */
  rotateCredential(id: number, secrets: CredentialSecrets, now: string): Promise<CredentialRecord | null>;
  /** Revokes a credential (the first revocation's time is kept); null when it is unknown. */
  revokeCredential(id: number, now: string): Promise<CredentialRecord | null>;
  /** Records that the credential was used now. */
  touchCredential(id: number, now: string): Promise<void>;
  /** A channel's stored OAuth tokens, or null when it has none. */
  getPlatformTokens(channelId: string): Promise<PlatformTokenRow | null>;
  /**
   * Writes a channel's sealed tokens and ends any refresh lease, committed when it returns. Only if
   * the stored version is still `expected` (null: no row yet; 'any': whatever is stored, for a new
   * authorisation). Returns the new version, or null when another write came first (nothing changed).
   */
  savePlatformTokens(channelId: string, sealed: string, expected: number | null | 'any', now: string): Promise<number | null>;
  /**
   * Claims the right to refresh a channel's tokens until `until`, if they are still at `version` and
   * nobody else holds an unexpired claim (`owner` may renew its own). False when not claimed.
   */
  claimTokenRefresh(channelId: string, version: number, owner: string, until: string, now: string): Promise<boolean>;
  /** Ends `owner`'s claim, if it still holds one; the tokens are not changed. */
  releaseTokenRefresh(channelId: string, owner: string): Promise<void>;
  /** Closes an open conflict; false when it was not open (already decided). */
  resolveConflict(id: number, r: { status: 'accepted' | 'rejected'; resolvedBy: string | null; movementId: number | null; resolution: string }, now: string): Promise<boolean>;

  // --- Polled feeds (docs/polling.md) ---------------------------------------------------------------
  getFeedState(channelId: string, feed: string): Promise<FeedStateRecord | null>;
  /** Every feed's state (of one channel, or all), by channel and feed. */
  listFeedStates(channelId?: string): Promise<FeedStateRecord[]>;
  /**
   * Takes a feed's turn: creates its row if there is none and, in one statement, claims it when it is
   * due (`next_poll_at` unset or not after `now`), moving `next_poll_at` to `leaseUntil` and
   * `last_poll_at` to `now`. Null when it is not due or another hub process holds it.
   */
  claimFeed(channelId: string, feed: string, now: string, leaseUntil: string): Promise<FeedStateRecord | null>;
  /**
   * One page of a poll, in one transaction: the events into the inbox (as verified webhooks: a dedupe
   * key seen before is skipped) and the feed's cursor moved from `fromCursor` to `cursor`, the poll
   * counted as a success, `next_poll_at` set. Only if the stored cursor is still `fromCursor`:
   * otherwise (another process moved it) it throws `FeedMovedError` and nothing is stored.
   * Returns, per event, its inbox id or null when it was stored before.
   */
  commitPolledPage(page: PolledPage): Promise<({ id: number } | null)[]>;
  /** A failed poll: counted, its reason kept, due again at `nextPollAt`; the cursor is not touched. */
  recordFeedFailure(channelId: string, feed: string, error: string, now: string, nextPollAt: string): Promise<FeedStateRecord | null>;
}

/** An inbound event as the inbox stores it. */
export interface InboxInput {
  dedupeKey: string;
  source: string;
  kind: string;
  headers: Record<string, string>;
  body: string;
}

export interface PolledPage {
  channelId: string;
  feed: string;
  /** The cursor the poll asked from; the page commits only if it is still the stored one. */
  fromCursor: string | null;
  cursor: string;
  events: InboxInput[];
  /** The platform's time of the newest event of the page, if it says. */
  newestEventAt: string | null;
  now: string;
  /** When the feed is due again: the end of the lease while the platform has more, else the next turn. */
  nextPollAt: string;
  /** False for a page of a turn that goes on: the turn is counted as read to its end only on the last page. */
  last: boolean;
}

/** Where one polled feed of one channel stands (table channel_feeds). */
export interface FeedStateRecord {
  channelId: string;
  feed: string;
  cursor: string | null;
  createdAt: string;
  /** When the hub last asked the platform (the start of the last turn). */
  lastPollAt: string | null;
  /** When a turn last read the feed to its end without error. */
  lastSuccessAt: string | null;
  /** When the cursor last moved. */
  lastAdvancedAt: string | null;
  newestEventAt: string | null;
  consecutiveErrors: number;
  lastError: string | null;
  nextPollAt: string | null;
  /** New inbox events the feed produced, and failed polls, since the row was made. */
  eventsTotal: number;
  errorsTotal: number;
  updatedAt: string;
}

/** `commitPolledPage` found the feed's cursor moved by someone else since the poll began: nothing was stored. */
export class FeedMovedError extends Error {
  constructor(channelId: string, feed: string) {
    super(`The ${feed} feed of channel "${channelId}" was moved on by another poll meanwhile; this page was not stored (it will be read again from where the feed now stands).`);
    this.name = 'FeedMovedError';
  }
}

export interface Store extends StoreOps {
  migrate(): Promise<void>;
  /** Runs `fn` in one database transaction; everything it books commits or rolls back together. */
  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** A short description for logs, without credentials. */
  describe(): string;
}
