/**
 * Reorder suggestions from one item's sales history. Pure: the caller reads the movements and the
 * current counts, and passes `now` in.
 *
 * The window is `windowDays` whole UTC days ending with today (the day that contains `now`, counted
 * up to `now`). Use `reorderWindow` to read exactly those movements; anything outside is ignored.
 */

export interface DayHistoryInput {
  movements: { occurredAt: string; quantity: number; reason: string }[];
  onHandNow: number;
  now: string;
  windowDays: number;
}

export interface ReorderInput extends DayHistoryInput {
  available: number;
  incoming: number;
  leadTimeDays: number;
  safetyStock: number;
  reviewDays: number;
}

export interface ReorderSuggestion {
  velocityPerDay: number;
  soldInWindow: number;
  inStockDays: number;
  reorderPoint: number;
  suggestedQuantity: number;
  daysOfCover: number | null;
  belowLeadTime: boolean;
}

const DAY_MS = 86_400_000;
/** Ten years: more history than that says nothing about next month, and bounds the work. */
const MAX_WINDOW_DAYS = 3660;

/** Reasons that move stock between reserved and available; on-hand stays the same. */
const NOT_ON_HAND = new Set(['reservation', 'release']);

/** First and last instant of the window for `now`, as ISO strings (both ends included). */
export function reorderWindow(now: string, windowDays: number): { from: string; to: string } {
  const nowMs = parseNow(now);
  checkWindow(windowDays);
  return { from: new Date(windowStartMs(nowMs, windowDays)).toISOString(), to: new Date(nowMs).toISOString() };
}

function windowStartMs(nowMs: number, windowDays: number): number {
  const todayStart = Math.floor(nowMs / DAY_MS) * DAY_MS;
  return todayStart - (windowDays - 1) * DAY_MS;
}

function parseNow(now: string): number {
  const ms = Date.parse(now);
  if (!Number.isFinite(ms)) throw new RangeError(`The current time "${now}" is not a date that can be read.`);
  return ms;
}

function checkWindow(windowDays: number): void {
  if (!Number.isInteger(windowDays)) throw new RangeError(`The sales window must be a whole number of days; it is ${windowDays}.`);
  if (windowDays < 1) throw new RangeError(`The sales window must be at least one day; it is ${windowDays}.`);
  if (windowDays > MAX_WINDOW_DAYS) throw new RangeError(`The sales window can be at most ${MAX_WINDOW_DAYS} days; it is ${windowDays}.`);
}

function checkWholeUnits(label: string, n: number, atLeastZero: boolean): void {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${label} must be a whole number of units; it is ${n}.`);
  if (atLeastZero && n < 0) throw new RangeError(`${label} cannot be below zero; it is ${n}.`);
}

function checkDays(label: string, n: number): void {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${label} must be zero or more days; it is ${n}.`);
}

/** ceil that forgives floating-point dust: 0.1 × 30 is 3.0000000000000004 and must stay 3. */
function ceilUnits(x: number): number {
  return Math.ceil(x - 1e-9) + 0; // + 0 turns −0 into 0
}

export function suggestReorder(input: ReorderInput): ReorderSuggestion {
  const nowMs = parseNow(input.now);
  checkWindow(input.windowDays);
  checkDays('The lead time', input.leadTimeDays);
  checkDays('The review period', input.reviewDays);
  checkWholeUnits('On-hand now', input.onHandNow, false);
  checkWholeUnits('Available stock', input.available, false);
  checkWholeUnits('Incoming stock', input.incoming, true);
  checkWholeUnits('Safety stock', input.safetyStock, true);

  const windowDays = input.windowDays;
  const fromMs = windowStartMs(nowMs, windowDays);
  const inWindow: { t: number; quantity: number; reason: string }[] = [];
  input.movements.forEach((m, i) => {
    const t = Date.parse(m.occurredAt);
    if (!Number.isFinite(t)) throw new RangeError(`Movement ${i + 1} has a date that cannot be read ("${m.occurredAt}").`);
    checkWholeUnits(`The quantity of movement ${i + 1}`, m.quantity, false);
    if (t >= fromMs && t <= nowMs) inWindow.push({ t, quantity: m.quantity, reason: m.reason });
  });

  // Units sold, net of returns; a window with more returns than sales sold nothing.
  let sold = 0;
  let returned = 0;
  for (const m of inWindow) {
    if (m.reason === 'sale') sold += -m.quantity; // sales are booked negative
    else if (m.reason === 'return') returned += m.quantity;
  }
  const soldInWindow = Math.max(0, sold - returned);

  const inStockDays = countInStockDays(inWindow, input.onHandNow, fromMs, windowDays);
  const velocityPerDay = inStockDays > 0 ? soldInWindow / inStockDays : 0;

  const reorderPoint = ceilUnits(velocityPerDay * input.leadTimeDays + input.safetyStock);
  const position = input.available + input.incoming; // what we have and what is on its way
  const suggestedQuantity = position <= reorderPoint ? Math.max(0, ceilUnits(reorderPoint + velocityPerDay * input.reviewDays - position)) : 0;
  // Oversold stock (available below zero) covers no days rather than a negative number of them.
  const daysOfCover = velocityPerDay > 0 ? Math.round((Math.max(0, input.available) / velocityPerDay) * 10) / 10 : null;
  const belowLeadTime = daysOfCover !== null && daysOfCover < input.leadTimeDays;

  return { velocityPerDay, soldInWindow, inStockDays, reorderPoint, suggestedQuantity, daysOfCover, belowLeadTime };
}

/**
 * Walk on-hand backwards from `onHandNow`, one UTC day at a time. A day is in stock when on-hand was
 * above zero at any moment of it: at its start or after any of its movements. A day that sold out
 * at noon counts; a day that began empty and got a delivery counts; a day empty throughout does not,
 * so stockouts do not drag the daily rate down.
 */
function countInStockDays(movements: { t: number; quantity: number; reason: string }[], onHandNow: number, fromMs: number, windowDays: number): number {
  const byDay: { t: number; quantity: number }[][] = Array.from({ length: windowDays }, () => []);
  for (const m of movements) {
    if (NOT_ON_HAND.has(m.reason)) continue;
    byDay[Math.floor((m.t - fromMs) / DAY_MS)]?.push(m);
  }
  let level = onHandNow; // on-hand at the end of the day being looked at
  let days = 0;
  for (let d = windowDays - 1; d >= 0; d--) {
    // Same-instant movements keep the order they were given in.
    const ofDay = (byDay[d] ?? []).map((m, i) => ({ ...m, i })).sort((a, b) => a.t - b.t || a.i - b.i);
    let inStock = false;
    for (let k = ofDay.length - 1; k >= 0; k--) {
      if (level > 0) inStock = true; // level right after movement k
      level -= ofDay[k]?.quantity ?? 0;
    }
    if (level > 0) inStock = true; // level at the start of the day
    if (inStock) days++;
  }
  return days;
}
