/**
 * Matching customer purchase orders (B2B) against stock. Pure: the caller reads availability and
 * the lines' current state from the store, and books what comes back (reservations, drops and the
 * new status) in one transaction.
 */
import { MAX_QUANTITY, MAX_QUANTITY_TEXT } from '../shared/quantity';

export type ShortPolicy = 'reject' | 'waitlist' | 'split' | 'split_waitlist';

/** key of an item at a location */
export const stockKey = (sku: string, location: string) => `${sku}\u0000${location}`;

export interface PoLineState {
  line: number;
  sku: string;
  location: string;
  ordered: number;
  reserved: number;
  /* units no longer wanted: dropped by a split, cancelled */
  dropped: number;
}

export interface PoForMatch {
  id: number;
  number: string;
  policy: ShortPolicy;
  lines: PoLineState[];
}

export interface LineShort {
  line: number;
  sku: string;
  location: string;
  wanted: number;
  /** what this line could take at its turn (after earlier lines of the same order took theirs) */
  available: number;
}

export interface MatchResult {
  status: 'approved' | 'partially_approved' | 'waitlisted' | 'rejected';
  reserve: { line: number; quantity: number }[]; // units to reserve now (only quantity > 0 entries)
  drop: { line: number; quantity: number }[]; // units given up (split: the part not available)
  short: LineShort[]; // lines still not fully covered after this match
  reason: string | null; // plain sentence for reject / waitlist / split, null when approved
}

/** What one line asks for and what it can get at this match. */
interface Take {
  line: PoLineState;
  key: string;
  wanted: number;
  got: number;
  /** units in stock that this order may not touch because an order ahead of it in the queue waits for them */
  heldForEarlier: number;
}

/** Whole units from a number that may be negative, fractional or missing: negative availability is 0. */
function units(n: number | undefined): number {
  return n !== undefined && Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function wantedOf(line: PoLineState): number {
  return Math.max(0, units(line.ordered) - units(line.reserved) - units(line.dropped));
}

/**
 * Hand out availability to the lines in line order. Lines naming the same item+location draw on
 * the same count, so together they never take more than there is. Keys in `held` count as empty.
 */
function allocate(po: PoForMatch, available: ReadonlyMap<string, number>, held: ReadonlySet<string> = new Set()): Take[] {
  const left = new Map<string, number>();
  return po.lines.map((line) => {
    const key = stockKey(line.sku, line.location);
    const isHeld = held.has(key);
    const free = left.get(key) ?? (isHeld ? 0 : units(available.get(key)));
    const wanted = wantedOf(line);
    const got = Math.min(wanted, free);
    left.set(key, free - got);
    return { line, key, wanted, got, heldForEarlier: isHeld ? units(available.get(key)) : 0 };
  });
}

function positive(entries: { line: number; quantity: number }[]): { line: number; quantity: number }[] {
  return entries.filter((e) => e.quantity > 0);
}

function describe(t: Take): string {
  const { sku, location } = t.line;
  let text = `${sku} at ${location}: ${t.wanted} wanted, ${t.got} available.`;
  if (t.heldForEarlier > 0) {
    text += t.heldForEarlier === 1 ? ' 1 more is in stock but held for an order ahead in the queue.' : ` ${t.heldForEarlier} more are in stock but held for orders ahead in the queue.`;
  }
  return text;
}

/** Apply the order's policy to what its lines can get. */
function decide(po: PoForMatch, takes: Take[]): MatchResult {
  const shortTakes = takes.filter((t) => t.got < t.wanted);
  if (shortTakes.length === 0) {
    return { status: 'approved', reserve: positive(takes.map((t) => ({ line: t.line.line, quantity: t.wanted }))), drop: [], short: [], reason: null };
  }
  const short = shortTakes.map((t) => ({ line: t.line.line, sku: t.line.sku, location: t.line.location, wanted: t.wanted, available: t.got }));
  const detail = shortTakes.map(describe).join(' ');
  const reserve = positive(takes.map((t) => ({ line: t.line.line, quantity: t.got })));
  const n = po.number;

  switch (po.policy) {
    case 'reject':
      return { status: 'rejected', reserve: [], drop: [], short, reason: `Purchase order ${n} was rejected because there is not enough stock. ${detail}` };
    case 'waitlist':
      // All or nothing: reserving part of it now would hold stock other orders could use.
      return { status: 'waitlisted', reserve: [], drop: [], short, reason: `Purchase order ${n} is waiting until it can be filled in full. ${detail}` };
    case 'split':
      if (reserve.length === 0) {
        return { status: 'rejected', reserve: [], drop: [], short, reason: `Purchase order ${n} was rejected because none of what it still needs is in stock, so there is nothing to send now. ${detail}` };
      }
      return {
        status: 'partially_approved',
        reserve,
        drop: positive(shortTakes.map((t) => ({ line: t.line.line, quantity: t.wanted - t.got }))),
        short,
        reason: `Purchase order ${n} was filled with what is in stock and the rest was dropped. ${detail}`,
      };
    case 'split_waitlist':
      if (reserve.length === 0) {
        return { status: 'waitlisted', reserve: [], drop: [], short, reason: `Purchase order ${n} is waiting for stock. ${detail}` };
      }
      return { status: 'partially_approved', reserve, drop: [], short, reason: `Purchase order ${n} was partly filled with what is in stock; the rest waits for a restock. ${detail}` };
    default:
      throw new RangeError(`Purchase order ${n} has an unknown shortage policy "${String(po.policy)}".`);
  }
}

/**
 * Match one purchase order against availability per item+location (on-hand − reserved; missing or
 * negative counts as 0). Every line coverable → approved; otherwise the order's policy decides.
 */
export function matchPurchaseOrder(po: PoForMatch, available: ReadonlyMap<string, number>): MatchResult {
  return decide(po, allocate(po, available));
}

/**
 * One round over the waitlist after stock changed. `waiting` is in submission order. Each order is
 * matched at its turn against what earlier orders left, and strict first-in-first-out holds per
 * item+location: once an order still wants an item+location after its turn, no later order may
 * reserve it in this round, so small later orders cannot starve a big earlier one. Later orders
 * that need other items are still served.
 *
 * Returns one entry per order whose state changes (it reserves something, is approved, or — for a
 * `reject`/`split` order that should not be waiting — is settled by its own policy). Orders that
 * keep waiting exactly as they were are left out.
 */
export function reevaluateWaitlist(waiting: PoForMatch[], available: ReadonlyMap<string, number>): { id: number; result: MatchResult }[] {
  const left = new Map<string, number>(); // running availability, filled in as keys come up
  const freeNow = (key: string) => left.get(key) ?? units(available.get(key));
  const held = new Set<string>(); // keys an earlier order still waits for
  const changed: { id: number; result: MatchResult }[] = [];

  for (const po of waiting) {
    const snapshot = new Map<string, number>();
    for (const line of po.lines) {
      const key = stockKey(line.sku, line.location);
      snapshot.set(key, freeNow(key));
    }
    const takes = allocate(po, snapshot, held);
    const result = decide(po, takes);
    const reserving = result.status === 'approved' || result.status === 'partially_approved';
    // A split order gives up what it could not get; approved and rejected orders want nothing more.
    const stillWaiting = result.status === 'waitlisted' || (result.status === 'partially_approved' && po.policy !== 'split');

    for (const t of takes) {
      const taken = reserving ? t.got : 0;
      left.set(t.key, freeNow(t.key) - taken);
      if (stillWaiting && t.wanted - taken > 0) held.add(t.key);
    }
    if (result.status !== 'waitlisted') changed.push({ id: po.id, result });
  }
  return changed;
}

const MAX_NUMBER_LENGTH = 60;
const MAX_LINES = 500;

/**
 * Problems with a submitted purchase order, as sentences for the person who sent it; empty when it
 * looks fine. Lines are `{ sku, quantity }` objects. Whether a SKU exists is checked by the caller.
 */
export function checkPurchaseOrderInput(input: { number: unknown; lines: unknown }): string[] {
  const problems: string[] = [];
  const number = typeof input.number === 'string' ? input.number.trim() : '';
  if (number === '') problems.push('The purchase order needs a number, such as PO-1042.');
  else if (number.length > MAX_NUMBER_LENGTH) problems.push(`The purchase order number is ${number.length} characters long; it can be at most ${MAX_NUMBER_LENGTH}.`);

  const lines = input.lines;
  if (!Array.isArray(lines) || lines.length === 0) {
    problems.push('The purchase order has no lines. Add at least one item and quantity.');
    return problems;
  }
  if (lines.length > MAX_LINES) problems.push(`The purchase order has ${lines.length} lines; one order can have at most ${MAX_LINES}. Split it into several orders.`);

  lines.forEach((raw: unknown, i) => {
    const at = `Line ${i + 1}`;
    if (typeof raw !== 'object' || raw === null) {
      problems.push(`${at} is not an item with a quantity.`);
      return;
    }
    const { sku, quantity } = raw as { sku?: unknown; quantity?: unknown };
    if (typeof sku !== 'string' || sku.trim() === '') problems.push(`${at} has no SKU.`);
    if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY) {
      const shown = typeof quantity === 'number' ? String(quantity) : quantity === undefined || quantity === null || quantity === '' ? 'missing' : JSON.stringify(quantity) ?? 'not a number';
      problems.push(`${at}: the quantity must be a whole number from 1 to ${MAX_QUANTITY_TEXT} (it is ${shown}).`);
    }
  });
  return problems;
}
