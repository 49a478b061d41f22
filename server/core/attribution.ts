/**
 * Pure: what a level a channel reports, a movement booked from that channel, and the end of an
 * attribution window mean for what the hub believes the channel shows (docs/attribution.md).
 * No store, no clock of its own: the inbox processor applies the answers inside its transaction.
 */

export interface AttributionState {
  /** The level the hub believes the channel shows; null when it never pushed nor saw one. */
  expected: number | null;
  /** The last level the channel reported. */
  observed: number | null;
  /** The platform's time of that report. */
  observedPlatformAt: string | null;
  /** When the open discrepancy was first seen; null when none is open. */
  pendingSince: string | null;
  /**
   * While a discrepancy is open, the rises (≥ 0) and falls (≤ 0) the channel's reports went through
   * since it opened, less what orders booked meanwhile explained: a count and a sale inside one
   * window net to one change, and the sale's late order must still be recognised (seed 41466).
   */
  pendingUp: number;
  pendingDown: number;
  /**
   * Unexplained changes booked from this channel and not yet matched to an order, kept by direction:
   * `driftDown` the decreases (≤ 0: a late sale explains them), `driftUp` the increases (≥ 0: a late
   * restock). Summed into one number, a count of +5 and a lost sale of 1 would net to +4 and the sale's
   * late order could no longer be recognised (simulation seed 20652).
   */
  driftDown: number;
  driftUp: number;
  /** The platform's time of the observation the drift was last booked from: only orders made by then can explain it. */
  driftThrough: string | null;
}

export const EMPTY_STATE: AttributionState = { expected: null, observed: null, observedPlatformAt: null, pendingSince: null, pendingUp: 0, pendingDown: 0, driftDown: 0, driftUp: 0, driftThrough: null };

/** Adds one move of the channel's level to the open discrepancy's rises or falls. */
function moved(state: AttributionState, from: number | null, to: number): Pick<AttributionState, 'pendingUp' | 'pendingDown'> {
  const d = from === null ? 0 : to - from;
  return d < 0 ? { pendingUp: state.pendingUp, pendingDown: state.pendingDown + d } : { pendingUp: state.pendingUp + d, pendingDown: state.pendingDown };
}

const CLOSED = { pendingSince: null, pendingUp: 0, pendingDown: 0 } as const;

export type ObservationVerdict =
  /** Older, by the platform's clock, than a report we already hold: ignored. */
  | 'stale'
  /** First sight of this level: adopted as what the channel shows. */
  | 'adopted'
  /** Equal to what we expected (our push echoed, or a sale already booked): nothing to do. */
  | 'explained'
  /** Different from what we expected: waiting for its explanation. */
  | 'unexplained';

/** A level the channel reported, at the platform's time `platformAt` (null when it gives none). */
export function observe(state: AttributionState, level: number, platformAt: string | null, now: string, changeByChange = false): { verdict: ObservationVerdict; state: AttributionState } {
  if (platformAt && state.observedPlatformAt && Date.parse(platformAt) < Date.parse(state.observedPlatformAt)) {
    return { verdict: 'stale', state };
  }
  const seen = { ...state, observed: level, observedPlatformAt: platformAt ?? state.observedPlatformAt };
  if (state.expected === null) return { verdict: 'adopted', state: { ...seen, expected: level, ...CLOSED } };
  if (level === state.expected) {
    // Reported change by change (`changeByChange`: a stream of the platform's changes, in order), a
    // fall and a rise that bring the level back to what we expected are two changes, not noise: a
    // sale whose order has not come and a return put back on the shelf. The discrepancy stays open
    // with both, so that the order, when it comes, leaves the rise to be booked (docs/attribution.md,
    // "The same number, other stock").
    if (changeByChange && state.pendingSince !== null) {
      const m = moved(state, state.observed ?? state.expected, level);
      if (m.pendingUp > 0 && m.pendingDown < 0) return { verdict: 'unexplained', state: { ...seen, ...m } };
    }
    return { verdict: 'explained', state: { ...seen, ...CLOSED } };
  }
  // The move since the last report of this discrepancy (or, opening it, since what we expected).
  const from = state.pendingSince === null ? state.expected : (state.observed ?? state.expected);
  const base = state.pendingSince === null ? { ...state, pendingUp: 0, pendingDown: 0 } : state;
  return { verdict: 'unexplained', state: { ...seen, pendingSince: state.pendingSince ?? now, ...moved(base, from, level) } };
}

/**
 * A sale (negative) or restock (positive) made on this channel at `occurredAt` and booked now: the
 * platform changed its own count by `delta`. When that change was already booked as unexplained
 * drift — the order came after its window ended, and it was made before the level the drift was
 * booked from — the caller books the movement and a reversal of it.
 */
export function bookedOnChannel(state: AttributionState, delta: number, occurredAt: string | null): { reverse: boolean; state: AttributionState } {
  const side = delta < 0 ? state.driftDown : state.driftUp;
  const explainsDrift =
    delta !== 0 &&
    Math.abs(side) >= Math.abs(delta) &&
    (state.driftThrough === null || occurredAt === null || Date.parse(occurredAt) <= Date.parse(state.driftThrough));
  if (explainsDrift) {
    return { reverse: true, state: delta < 0 ? { ...state, driftDown: state.driftDown - delta } : { ...state, driftUp: state.driftUp - delta } };
  }
  const expected = state.expected === null ? null : state.expected + delta;
  const settled = state.pendingSince !== null && expected !== null && expected === state.observed;
  if (settled) return { reverse: false, state: { ...state, expected, ...CLOSED } };
  // An order booked while a discrepancy is open explains that much of its moves in its direction.
  const explained = state.pendingSince === null ? {} : delta < 0 ? { pendingDown: Math.min(0, state.pendingDown - delta) } : { pendingUp: Math.max(0, state.pendingUp - delta) };
  return { reverse: false, state: { ...state, expected, ...explained } };
}

/**
 * The window of an open discrepancy ended and the channel's level was read (`read`, null when it
 * could not be read for this item) at `now`. Returns the unexplained change to book (null: nothing),
 * and whether the channel needs our number again.
 *
 * A channel that shows exactly the level we last pushed to it has not changed since: our
 * expectation moved because of sales booked after that push. On a platform without compare-and-set
 * (WooCommerce) that is our own write landing over a sale made between our read and our write; the
 * sale is already booked from its order, so nothing is booked and the channel is sent our number.
 * `lastPushed` is the last number of ours the channel is known to show (a push it applied, or one
 * the sink found already there: then a sale it reported on top of our push has moved it on), and the
 * caller passes null once the channel is known to have changed on its own since (changedOnChannelSince).
 */
export function windowEnded(state: AttributionState, read: number | null, now: string, lastPushed: number | null = null): { book: number | null; repush: boolean; state: AttributionState } {
  if (state.pendingSince === null) return { book: null, repush: false, state };
  const actual = read ?? state.observed;
  if (read === null && actual !== null && actual === state.expected && state.pendingUp > 0 && state.pendingDown < 0) {
    // Back where we expected after a fall and a rise that no order explained, reported change by
    // change (observe): nothing to book net, but both are kept as drift, so that a late order of the
    // sale in it is recognised as already counted (and the rise stays booked).
    return { book: null, repush: false, state: { ...state, ...CLOSED, observed: actual, driftDown: state.driftDown + state.pendingDown, driftUp: state.driftUp + state.pendingUp, driftThrough: now } };
  }
  if (actual === null || state.expected === null || actual === state.expected) {
    return { book: null, repush: false, state: { ...state, ...CLOSED, ...(actual !== null ? { observed: actual } : {}) } };
  }
  if (actual === lastPushed) {
    return { book: null, repush: true, state: { ...state, expected: actual, observed: actual, ...CLOSED } };
  }
  const change = actual - state.expected;
  // The net change is booked once; as drift it is kept by direction, as the reports went: falls
  // (at least as deep as they were seen, or as the change) and the rises that make up the rest, so a
  // late order of a sale made inside the window is recognised even when a count there outweighed it.
  const falls = moved(state, state.observed ?? state.expected, actual).pendingDown;
  const down = Math.min(falls, change, 0);
  const up = change - down;
  return { book: change, repush: false, state: { ...state, expected: actual, observed: actual, ...CLOSED, driftDown: state.driftDown + down, driftUp: state.driftUp + up, driftThrough: now } };
}

/**
 * Whether the channel changed its own count after our last push to it (at `pushedAt`): a sale, a
 * return or an adjustment booked from that channel, at that location, made after the push. Until it
 * has, a channel still showing the number we pushed has not moved since (our update may have crossed
 * sales made before it landed); once it has, showing our number again is a coincidence of changes
 * made there — a count typed in its dashboard and a sale, a lost sale and a restocked refund — and
 * proves nothing (simulation seeds 70 and 76, docs/simulation.md).
 *
 * This can prove "after", never "before": a platform's order time may be in whole seconds
 * (WooCommerce's `date_created_gmt`: a sale 200 ms after our push carries the second before it) and
 * need not be when its stock moved (WooCommerce reduces stock at payment). A sale the channel itself
 * reported on top of our push is known otherwise: the sink then records the channel's confirmed
 * level as our last push (simulation seed 512, docs/attribution.md).
 */
export function changedOnChannelSince(
  movements: readonly { channelId: string | null; locationId: string; reason: string; occurredAt: string }[],
  channelId: string,
  location: string,
  pushedAt: string | null,
): boolean {
  if (pushedAt === null) return false;
  const after = Date.parse(pushedAt);
  return movements.some((m) => m.channelId === channelId && m.locationId === location && (m.reason === 'sale' || m.reason === 'return' || m.reason === 'adjustment') && Date.parse(m.occurredAt) > after);
}

/**
 * The level a push sent but never answered (a crash, a timeout) would make the channel show now: the
 * level sent plus the channel's own sales and restocks booked since. Null when no push is on its way.
 */
export function landedLevel(r: { pushing: number | null; pushingBookedDelta: number | null; bookedDelta: number }): number | null {
  return r.pushing === null ? null : r.pushing + r.bookedDelta - (r.pushingBookedDelta ?? r.bookedDelta);
}

/**
 * How long a push left without an answer, and superseded by a later one, may still land: a platform
 * applies a request it took in within seconds or minutes of the caller giving up, not hours later.
 * Past this, a channel showing that number again is not taken for it.
 */
export const STRAY_WRITE_MS = 10 * 60_000;

/**
 * The levels a push that got no answer, and was superseded by a later attempt, can leave the channel
 * showing when the platform applies it after the later one (docs/attribution.md, "A write that lands
 * after a later one"): the level it sent, if it landed after the channel's own sales and restocks
 * booked since, or that level plus them, if it landed before them. Empty when there is none, or it
 * was superseded longer than `STRAY_WRITE_MS` ago.
 */
export function strayLevels(r: { stray: number | null; strayBookedDelta: number | null; strayAt: string | null; bookedDelta: number }, now: string): number[] {
  if (r.stray === null || r.strayAt === null || Date.parse(now) - Date.parse(r.strayAt) > STRAY_WRITE_MS) return [];
  const since = r.bookedDelta - (r.strayBookedDelta ?? r.bookedDelta);
  return since === 0 ? [r.stray] : [r.stray, r.stray + since];
}

/** The attribution fields of a stored channel level row. */
export function stateOf(
  r: { expected: number | null; observed: number | null; observedPlatformAt: string | null; pendingSince: string | null; pendingUp: number; pendingDown: number; driftDown: number; driftUp: number; driftThrough: string | null } | null,
): AttributionState {
  return r
    ? { expected: r.expected, observed: r.observed, observedPlatformAt: r.observedPlatformAt, pendingSince: r.pendingSince, pendingUp: r.pendingUp, pendingDown: r.pendingDown, driftDown: r.driftDown, driftUp: r.driftUp, driftThrough: r.driftThrough }
    : EMPTY_STATE;
}
