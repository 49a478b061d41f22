/**
 * The ledger's pure core: no I/O, no clock. See docs/ledger.md.
 */
import { MAX_QUANTITY, MAX_QUANTITY_TEXT } from '../shared/quantity';

export const REASONS = [
  'sale',
  'return',
  'exchange',
  'restock',
  'receipt',
  'count',
  'adjustment',
  'transfer',
  'reservation',
  'release',
] as const;
export type Reason = (typeof REASONS)[number];

export const SOURCES = ['channel', 'sheet', 'sidebar', 'airtable', 'api'] as const;
export type Source = (typeof SOURCES)[number];

/** What a caller asks to book. */
export interface MovementInput {
  sku: string;
  locationId: string;
  quantity: number;
  reason: Reason;
  source: Source;
  idempotencyKey: string;
  occurredAt: string;
  channelId?: string | null;
  externalRef?: string | null;
  actor?: string | null;
  note?: string | null;
  countedQuantity?: number | null;
  eventId?: number | null;
}

/** A booked movement, as the store keeps it. */
export interface Movement extends Required<Omit<MovementInput, 'channelId' | 'externalRef' | 'actor' | 'note' | 'countedQuantity' | 'eventId'>> {
  id: number;
  channelId: string | null;
  externalRef: string | null;
  actor: string | null;
  note: string | null;
  countedQuantity: number | null;
  eventId: number | null;
  recordedAt: string;
}

export interface Level {
  onHand: number;
  reserved: number;
}

export const ZERO_LEVEL: Level = Object.freeze({ onHand: 0, reserved: 0 });

export function available(level: Level): number {
  return level.onHand - level.reserved;
}

/** Which bucket a movement changes, and by how much. */
export function effectOf(m: Pick<MovementInput, 'reason' | 'quantity'>): Level {
  if (m.reason === 'reservation' || m.reason === 'release') return { onHand: 0, reserved: m.quantity };
  return { onHand: m.quantity, reserved: 0 };
}

export function applyMovement(level: Level, m: Pick<MovementInput, 'reason' | 'quantity'>): Level {
  const e = effectOf(m);
  return { onHand: level.onHand + e.onHand, reserved: level.reserved + e.reserved };
}

/** Sum of movements, keeping only the first movement for each idempotency key. */
export function foldMovements(movements: Iterable<Pick<MovementInput, 'reason' | 'quantity' | 'idempotencyKey'>>): Level {
  const seen = new Set<string>();
  let level: Level = ZERO_LEVEL;
  for (const m of movements) {
    if (seen.has(m.idempotencyKey)) continue;
    seen.add(m.idempotencyKey);
    level = applyMovement(level, m);
  }
  return level;
}

/** A stock count is booked as the difference from on-hand at the moment of booking. */
export function countDelta(currentOnHand: number, counted: number): number {
  return counted - currentOnHand;
}

export interface ChannelPolicy {
  /** Units held back from this channel. */
  buffer: number;
  /** Most units ever shown on this channel; null for no cap. */
  cap: number | null;
}

/** clamp(available − buffer, 0, cap): what a channel should show. */
export function publishedLevel(level: Level, policy: ChannelPolicy): number {
  const raw = available(level) - policy.buffer;
  const floored = Math.max(0, raw);
  return policy.cap === null ? floored : Math.min(floored, policy.cap);
}

export class MovementError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Returns null when the movement may be booked, else the reason it may not. */
export function validateMovement(m: MovementInput): MovementError | null {
  // A count's quantity is the difference the store works out from the level it holds (exactly, in SQL).
  if (m.reason === 'count' ? !Number.isInteger(m.quantity) : !Number.isSafeInteger(m.quantity)) {
    return new MovementError('invalid_quantity', `Quantity must be a whole number, got ${String(m.quantity)}.`);
  }
  if (m.reason !== 'count' && Math.abs(m.quantity) > MAX_QUANTITY) {
    return new MovementError('quantity_out_of_range', `A movement of ${m.quantity} units is beyond the ${MAX_QUANTITY_TEXT} units the hub keeps of one item at one location; nothing was booked. Check the number.`);
  }
  if (m.quantity === 0 && m.reason !== 'count') {
    return new MovementError('invalid_quantity', 'Quantity must not be zero: a movement of nothing changes nothing.');
  }
  if (m.reason === 'reservation' && m.quantity < 0) {
    return new MovementError('invalid_quantity', 'A reservation holds stock back, so its quantity must be positive.');
  }
  if (m.reason === 'release' && m.quantity > 0) {
    return new MovementError('invalid_quantity', 'A release gives reserved stock back, so its quantity must be negative.');
  }
  if (m.reason === 'count') {
    if (m.countedQuantity === null || m.countedQuantity === undefined || !Number.isSafeInteger(m.countedQuantity) || m.countedQuantity < 0) {
      return new MovementError('invalid_count', 'A stock count must be a whole number of zero or more.');
    }
    if (m.countedQuantity > MAX_QUANTITY) {
      return new MovementError('quantity_out_of_range', `A count of ${m.countedQuantity} is beyond the ${MAX_QUANTITY_TEXT} units the hub keeps of one item at one location; nothing was booked. Check the number.`);
    }
  }
  if (!m.idempotencyKey || m.idempotencyKey.length > 200) {
    return new MovementError('invalid_key', 'Every movement needs an idempotency key of at most 200 characters.');
  }
  if (!(REASONS as readonly string[]).includes(m.reason)) {
    return new MovementError('invalid_reason', `Unknown reason "${m.reason}". Use one of: ${REASONS.join(', ')}.`);
  }
  return null;
}

/**
 * Null when a movement that takes `before` to `after` keeps every bucket it changes (`changes`)
 * within ±MAX_QUANTITY, else why it may not be booked. A bucket it does not change is not looked at,
 * so a count brings a level stored out of range (before the bound existed) back whatever the rest
 * holds. (Which buckets change is said, not worked out from the numbers: beyond 2^53 a JavaScript
 * number cannot tell n from n + 1.)
 */
export function levelBoundError(at: { sku: string; locationId: string }, before: Level, after: Level, changes: { onHand: boolean; reserved: boolean }): MovementError | null {
  const over = (name: string, from: number, to: number) =>
    new MovementError(
      'level_out_of_range',
      `${at.sku} at ${at.locationId}: this would take ${name} from ${from} to ${to}, beyond the ${MAX_QUANTITY_TEXT} units the hub keeps of one item at one location; nothing was booked. Check the number; if the stock itself is wrong, count it.`,
    );
  if (changes.onHand && !(Math.abs(after.onHand) <= MAX_QUANTITY)) return over('on hand', before.onHand, after.onHand);
  if (changes.reserved && !(Math.abs(after.reserved) <= MAX_QUANTITY)) return over('reserved', before.reserved, after.reserved);
  return null;
}

/** A transfer is two movements booked together. */
export function transferLegs(
  base: Omit<MovementInput, 'locationId' | 'quantity' | 'reason' | 'idempotencyKey'>,
  key: string,
  from: string,
  to: string,
  quantity: number,
): [MovementInput, MovementInput] {
  if (!Number.isSafeInteger(quantity) || quantity <= 0 || quantity > MAX_QUANTITY) {
    throw new MovementError('invalid_quantity', `A transfer moves a positive whole number of units, at most ${MAX_QUANTITY_TEXT}.`);
  }
  if (from === to) throw new MovementError('invalid_transfer', 'A transfer needs two different locations.');
  return [
    { ...base, locationId: from, quantity: -quantity, reason: 'transfer', idempotencyKey: `${key}:out` },
    { ...base, locationId: to, quantity, reason: 'transfer', idempotencyKey: `${key}:in` },
  ];
}

export type StockAlertKind = 'oversold' | 'out_of_stock' | 'low_stock';

/** The stock alert an item × location is in, if any. Oversold beats out of stock beats low. */
export function stockAlertFor(level: Level, lowStockThreshold: number | null): StockAlertKind | null {
  const a = available(level);
  if (a < 0) return 'oversold';
  if (a === 0) return 'out_of_stock';
  if (lowStockThreshold !== null && a <= lowStockThreshold) return 'low_stock';
  return null;
}
