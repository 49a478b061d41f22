/** What we last pushed to each channel and last saw there, and the discrepancies between (docs/attribution.md). */

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
  /**
   * A push that got no answer and was superseded by a later attempt (null: none): the level it sent,
   * bookedDelta then, and when the later attempt went out. The platform may still apply it after
   * the later one; the number it would leave showing is ours, never a change made there.
   */
  stray: number | null;
  strayBookedDelta: number | null;
  strayAt: string | null;
  /**
   * What the channel's level last stood on, as its connector put it (null: nothing said), from a
   * level it reported change by change or a push it answered; handed back with the next push
   * (PushTarget.basis). Opaque to the hub (docs/attribution.md, "The same number, other stock").
   */
  basis: string | null;
  /**
   * The last push the channel applied was sent without an expected level (after a push whose
   * answer was lost): whatever the platform's write, the connector set the level over what it
   * found, sales not yet booked included — an absolute set in effect (docs/attribution.md, "Our
   * number still showing").
   */
  pushedBlind: boolean;
  /** The time the drift was last booked; only orders made by then can explain it. */
  driftThrough: string | null;
}

export type ChannelLevelPatch = Partial<Omit<ChannelLevelRecord, 'channelId' | 'sku' | 'locationId'>>;

export interface ChannelLevelsOps {
  get(channelId: string, sku: string, locationId: string): Promise<ChannelLevelRecord | null>;
  /**
   * Records the level we set on the channel (`pushed`: a push the channel applied) or saw there
   * (`observed`). For a push, `bookedDeltaAtSend` is the row's `bookedDelta` read when the push was
   * built: the channel's own sales and restocks booked since then happened on top of the pushed
   * level, so expected becomes `level + (bookedDelta now − bookedDeltaAtSend)`.
   * `wrote`: false when a push found the level already there and wrote nothing (docs/attribution.md).
   */
  record(channelId: string, sku: string, locationId: string, kind: 'pushed' | 'observed', level: number, now: string, bookedDeltaAtSend?: number, wrote?: boolean): Promise<void>;
  list(channelId: string, skus?: string[]): Promise<ChannelLevelRecord[]>;
  /** Sets these fields of a channel level row (creating it). */
  update(channelId: string, sku: string, locationId: string, patch: ChannelLevelPatch): Promise<void>;
  /** Channel levels with a discrepancy open since `openedBefore` or earlier. */
  discrepancies(openedBefore: string, limit: number): Promise<ChannelLevelRecord[]>;
}
