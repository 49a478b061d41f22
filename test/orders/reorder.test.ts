/**
 * Reorder suggestions: readable examples, then fast-check properties (rates never negative, more
 * stock on the way never asks for more, in-stock days match a forward replay of the history).
 */
import fc from 'fast-check';
import { reorderWindow, suggestReorder, type ReorderInput } from '../../server/core/reorder';

const DAY = 86_400_000;
const NOW = '2026-03-10T12:00:00.000Z';
/** Midnight (UTC) of the first day of a 10-day window ending today: 1 March. */
const FIRST = Date.parse('2026-03-01T00:00:00.000Z');
const at = (day: number, hour: number) => new Date(FIRST + day * DAY + hour * 3_600_000).toISOString();
const sale = (day: number, n: number, hour = 10) => ({ occurredAt: at(day, hour), quantity: -n, reason: 'sale' });

const base: ReorderInput = { movements: [], onHandNow: 0, now: NOW, windowDays: 10, available: 0, incoming: 0, leadTimeDays: 0, safetyStock: 0, reviewDays: 0 };

describe('suggestReorder: examples', () => {
  test('a steady seller: 2 a day for 10 days, a week of lead time', () => {
    const movements = Array.from({ length: 10 }, (_, d) => sale(d, 2));
    const s = suggestReorder({ ...base, movements, onHandNow: 12, available: 12, leadTimeDays: 7, safetyStock: 3, reviewDays: 14 });
    expect(s).toEqual({
      velocityPerDay: 2,
      soldInWindow: 20,
      inStockDays: 10,
      reorderPoint: 17, // 2 × 7 + 3
      suggestedQuantity: 33, // 17 + 2 × 14 − 12
      daysOfCover: 6,
      belowLeadTime: true,
    });
    // With 20 on the way we are above the reorder point: nothing to order.
    expect(suggestReorder({ ...base, movements, onHandNow: 12, available: 12, incoming: 20, leadTimeDays: 7, safetyStock: 3, reviewDays: 14 }).suggestedQuantity).toBe(0);
  });

  test('days out of stock are left out: half a window sold out has the same rate as always in stock', () => {
    const always = suggestReorder({ ...base, movements: Array.from({ length: 10 }, (_, d) => sale(d, 3)), onHandNow: 5, available: 5 });
    // Empty from 1 to 5 March, 20 arrive on the morning of the 6th, then 3 sold a day.
    const gappy = suggestReorder({
      ...base,
      movements: [{ occurredAt: at(5, 8), quantity: 20, reason: 'receipt' }, ...[5, 6, 7, 8, 9].map((d) => sale(d, 3))],
      onHandNow: 5,
      available: 5,
    });
    expect(always).toMatchObject({ velocityPerDay: 3, inStockDays: 10, soldInWindow: 30 });
    expect(gappy).toMatchObject({ velocityPerDay: 3, inStockDays: 5, soldInWindow: 15 });
  });

  test('a day counts when stock was above zero at any moment of it', () => {
    const s = suggestReorder({
      ...base,
      windowDays: 3,
      now: at(2, 23),
      onHandNow: 0,
      movements: [
        // day 0: 1 at the start, sold at noon — in stock
        sale(0, 1, 12),
        // day 1: empty all day — out of stock
        // day 2: 2 arrive and both go five minutes later — in stock
        { occurredAt: at(2, 9), quantity: 2, reason: 'restock' },
        { occurredAt: at(2, 9.1), quantity: -2, reason: 'sale' },
      ],
    });
    expect(s.inStockDays).toBe(2);
    expect(s.velocityPerDay).toBe(1.5);
  });

  test('returns reduce net sales; reservations and releases change nothing', () => {
    const s = suggestReorder({
      ...base,
      onHandNow: 10,
      available: 6,
      movements: [sale(0, 5), { occurredAt: at(1, 10), quantity: 2, reason: 'return' }, { occurredAt: at(2, 10), quantity: 4, reason: 'reservation' }],
    });
    expect(s.soldInWindow).toBe(3);
    expect(s.velocityPerDay).toBeCloseTo(0.3, 10);
    // More returns than sales: nothing sold, never a negative rate.
    const back = suggestReorder({ ...base, onHandNow: 10, movements: [sale(0, 1), { occurredAt: at(1, 10), quantity: 4, reason: 'return' }] });
    expect(back).toMatchObject({ soldInWindow: 0, velocityPerDay: 0 });
  });

  test('no sales: no rate, no cover figure, nothing to order', () => {
    const s = suggestReorder({ ...base, onHandNow: 4, available: 4, leadTimeDays: 5, reviewDays: 7, movements: [{ occurredAt: at(3, 10), quantity: 4, reason: 'restock' }] });
    expect(s).toEqual({ velocityPerDay: 0, soldInWindow: 0, inStockDays: 7, reorderPoint: 0, suggestedQuantity: 0, daysOfCover: null, belowLeadTime: false });
  });

  test('movements outside the window are ignored', () => {
    const s = suggestReorder({ ...base, onHandNow: 10, movements: [sale(-1, 50), sale(0, 5), { occurredAt: '2026-03-11T00:00:00.000Z', quantity: -9, reason: 'sale' }] });
    expect(s.soldInWindow).toBe(5);
    expect(reorderWindow(NOW, 10)).toEqual({ from: '2026-03-01T00:00:00.000Z', to: NOW });
  });

  test('floating-point dust does not add a unit: 0.1 a day over 30 days of lead time is 3', () => {
    const s = suggestReorder({ ...base, movements: [sale(0, 1)], onHandNow: 5, available: 5, leadTimeDays: 30 });
    expect(s.velocityPerDay).toBeCloseTo(0.1, 12);
    expect(s.reorderPoint).toBe(3);
  });

  test('inputs that make no sense are refused in plain words', () => {
    expect(() => suggestReorder({ ...base, leadTimeDays: -1 })).toThrow(new RangeError('The lead time must be zero or more days; it is -1.'));
    expect(() => suggestReorder({ ...base, windowDays: 0 })).toThrow(new RangeError('The sales window must be at least one day; it is 0.'));
    expect(() => suggestReorder({ ...base, windowDays: 2.5 })).toThrow(new RangeError('The sales window must be a whole number of days; it is 2.5.'));
    expect(() => suggestReorder({ ...base, onHandNow: 1.5 })).toThrow(new RangeError('On-hand now must be a whole number of units; it is 1.5.'));
    expect(() => suggestReorder({ ...base, safetyStock: -2 })).toThrow(new RangeError('Safety stock cannot be below zero; it is -2.'));
    expect(() => suggestReorder({ ...base, incoming: 0.5 })).toThrow(RangeError);
    expect(() => suggestReorder({ ...base, now: 'tomorrow' })).toThrow(new RangeError('The current time "tomorrow" is not a date that can be read.'));
    expect(() => suggestReorder({ ...base, movements: [{ occurredAt: at(0, 1), quantity: -0.5, reason: 'sale' }] })).toThrow(new RangeError('The quantity of movement 1 must be a whole number of units; it is -0.5.'));
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const REASONS = ['sale', 'return', 'exchange', 'restock', 'receipt', 'count', 'adjustment', 'transfer', 'reservation', 'release'];

const inputArb = fc.integer({ min: 1, max: 21 }).chain((windowDays) => {
  const nowMs = Date.parse('2026-06-15T00:00:00.000Z') + 17 * 3_600_000;
  const fromMs = Math.floor(nowMs / DAY) * DAY - (windowDays - 1) * DAY;
  return fc.record({
    windowDays: fc.constant(windowDays),
    now: fc.constant(new Date(nowMs).toISOString()),
    movements: fc.array(
      fc.record({
        occurredAt: fc.integer({ min: fromMs - DAY, max: nowMs + DAY }).map((t) => new Date(t).toISOString()),
        quantity: fc.integer({ min: -8, max: 8 }),
        reason: fc.constantFrom(...REASONS),
      }),
      { maxLength: 40 },
    ),
    onHandNow: fc.integer({ min: -5, max: 40 }),
    available: fc.integer({ min: -5, max: 40 }),
    incoming: fc.nat(60),
    leadTimeDays: fc.integer({ min: 0, max: 30 }),
    safetyStock: fc.nat(20),
    reviewDays: fc.integer({ min: 0, max: 30 }),
  });
});

describe('suggestReorder: properties', () => {
  test('rate, suggestion and in-stock days stay in range; below-lead-time agrees with days of cover', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const s = suggestReorder(input);
        expect(s.velocityPerDay).toBeGreaterThanOrEqual(0);
        expect(s.soldInWindow).toBeGreaterThanOrEqual(0);
        expect(s.suggestedQuantity).toBeGreaterThanOrEqual(0);
        expect(Number.isInteger(s.suggestedQuantity)).toBe(true);
        expect(s.inStockDays).toBeGreaterThanOrEqual(0);
        expect(s.inStockDays).toBeLessThanOrEqual(input.windowDays);
        expect(s.daysOfCover === null).toBe(s.velocityPerDay === 0);
        expect(s.belowLeadTime).toBe(s.daysOfCover !== null && s.daysOfCover < input.leadTimeDays);
        if (input.available + input.incoming > s.reorderPoint) expect(s.suggestedQuantity).toBe(0);
      }),
    );
  });

  test('more stock on the way never raises the suggestion', () => {
    fc.assert(
      fc.property(inputArb, fc.nat(50), (input, extra) => {
        expect(suggestReorder({ ...input, incoming: input.incoming + extra }).suggestedQuantity).toBeLessThanOrEqual(suggestReorder(input).suggestedQuantity);
      }),
    );
  });

  test('in-stock days match a forward replay of the window, day by day', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const { from, to } = reorderWindow(input.now, input.windowDays);
        const fromMs = Date.parse(from);
        const toMs = Date.parse(to);
        const moves = input.movements
          .map((m, i) => ({ t: Date.parse(m.occurredAt), q: m.quantity, reason: m.reason, i }))
          .filter((m) => m.t >= fromMs && m.t <= toMs && m.reason !== 'reservation' && m.reason !== 'release')
          .sort((a, b) => a.t - b.t || a.i - b.i);
        let level = input.onHandNow - moves.reduce((s, m) => s + m.q, 0);
        let days = 0;
        for (let d = 0; d < input.windowDays; d++) {
          let inStock = level > 0;
          for (const m of moves.filter((x) => Math.floor((x.t - fromMs) / DAY) === d)) {
            level += m.q;
            inStock ||= level > 0;
          }
          if (inStock) days++;
        }
        expect(level).toBe(input.onHandNow);
        expect(suggestReorder(input).inStockDays).toBe(days);
      }),
    );
  });
});
