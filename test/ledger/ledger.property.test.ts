/**
 * The pure ledger core under fast-check: idempotent folding, counts as deltas, the published-level
 * policy, validation, transfers and stock alerts.
 */
import fc from 'fast-check';
import {
  REASONS,
  available,
  countDelta,
  effectOf,
  foldMovements,
  publishedLevel,
  stockAlertFor,
  transferLegs,
  validateMovement,
  type MovementInput,
  type Reason,
} from '../../server/core/ledger';

const reason = fc.constantFrom(...REASONS.filter((r) => r !== 'count'));
const signedFor = (r: Reason, q: number) => (r === 'release' || r === 'sale' ? -q : q);
const movement = fc.record({ reason, q: fc.integer({ min: 1, max: 1000 }), key: fc.integer({ min: 0, max: 20 }) }).map(({ reason: r, q, key }) => ({ reason: r, quantity: signedFor(r, q), idempotencyKey: `k${key}` }));

const base: MovementInput = { sku: 'S', locationId: 'main', quantity: 1, reason: 'restock', source: 'api', idempotencyKey: 'k', occurredAt: '2026-11-22T00:00:00.000Z' };

test('folding movements where keys repeat equals folding only the first movement of each key', () => {
  fc.assert(
    fc.property(fc.array(movement, { maxLength: 60 }), (ms) => {
      const firsts = ms.filter((m, i) => ms.findIndex((x) => x.idempotencyKey === m.idempotencyKey) === i);
      const sum = firsts.reduce((acc, m) => ({ onHand: acc.onHand + effectOf(m).onHand, reserved: acc.reserved + effectOf(m).reserved }), { onHand: 0, reserved: 0 });
      expect(foldMovements(ms)).toEqual(sum);
      // Delivering the whole list twice changes nothing.
      expect(foldMovements([...ms, ...ms])).toEqual(sum);
    }),
  );
});

test('reservations and releases move only reserved; everything else only on-hand', () => {
  fc.assert(
    fc.property(movement, (m) => {
      const e = effectOf(m);
      if (m.reason === 'reservation' || m.reason === 'release') expect(e).toEqual({ onHand: 0, reserved: m.quantity });
      else expect(e).toEqual({ onHand: m.quantity, reserved: 0 });
    }),
  );
});

test('a count booked as a delta lands exactly on the number counted', () => {
  fc.assert(
    fc.property(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: 0, max: 1e6 }), (onHand, counted) => {
      expect(onHand + countDelta(onHand, counted)).toBe(counted);
    }),
  );
});

test('the published level is clamp(available − buffer, 0, cap): never negative, never above the cap', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -1000, max: 1000 }),
      fc.integer({ min: -100, max: 500 }),
      fc.integer({ min: 0, max: 100 }),
      fc.option(fc.integer({ min: 0, max: 200 })),
      (onHand, reserved, buffer, cap) => {
        const p = publishedLevel({ onHand, reserved }, { buffer, cap });
        expect(p).toBeGreaterThanOrEqual(0);
        if (cap !== null) expect(p).toBeLessThanOrEqual(cap);
        const expected = Math.min(Math.max(available({ onHand, reserved }) - buffer, 0), cap ?? Infinity);
        expect(p).toBe(expected);
      },
    ),
  );
});

test('validation refuses what cannot be booked, with a readable reason, and accepts the rest', () => {
  const bad: [Partial<MovementInput>, string][] = [
    [{ quantity: 0 }, 'invalid_quantity'],
    [{ quantity: 2.5 }, 'invalid_quantity'],
    [{ quantity: Number.NaN }, 'invalid_quantity'],
    [{ reason: 'reservation', quantity: -1 }, 'invalid_quantity'],
    [{ reason: 'release', quantity: 1 }, 'invalid_quantity'],
    [{ reason: 'count', quantity: 3 }, 'invalid_count'],
    [{ reason: 'count', quantity: 0, countedQuantity: -2 }, 'invalid_count'],
    [{ idempotencyKey: '' }, 'invalid_key'],
    [{ idempotencyKey: 'x'.repeat(201) }, 'invalid_key'],
    [{ reason: 'theft' as Reason }, 'invalid_reason'],
  ];
  for (const [over, code] of bad) {
    const err = validateMovement({ ...base, ...over });
    expect(err?.code).toBe(code);
    expect(err?.message.length).toBeGreaterThan(10);
  }
  fc.assert(
    fc.property(movement, (m) => {
      expect(validateMovement({ ...base, ...m })).toBeNull();
    }),
  );
  expect(validateMovement({ ...base, reason: 'count', quantity: 0, countedQuantity: 0 })).toBeNull();
});

test('a transfer is two legs that cancel out across two different locations', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 10_000 }), (q) => {
      const [out, into] = transferLegs({ sku: 'S', source: 'api', occurredAt: base.occurredAt }, 't1', 'main', 'back', q);
      expect(out).toMatchObject({ locationId: 'main', quantity: -q, reason: 'transfer', idempotencyKey: 't1:out' });
      expect(into).toMatchObject({ locationId: 'back', quantity: q, reason: 'transfer', idempotencyKey: 't1:in' });
    }),
  );
  expect(() => transferLegs({ sku: 'S', source: 'api', occurredAt: base.occurredAt }, 't', 'main', 'main', 1)).toThrow(/two different locations/);
  expect(() => transferLegs({ sku: 'S', source: 'api', occurredAt: base.occurredAt }, 't', 'main', 'back', 0)).toThrow(/positive whole number/);
});

test('stock alerts: oversold below zero, out of stock at zero, low at or under the threshold, else none', () => {
  fc.assert(
    fc.property(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 20 }), fc.option(fc.integer({ min: 0, max: 30 })), (onHand, reserved, threshold) => {
      const a = onHand - reserved;
      const kind = stockAlertFor({ onHand, reserved }, threshold);
      if (a < 0) expect(kind).toBe('oversold');
      else if (a === 0) expect(kind).toBe('out_of_stock');
      else if (threshold !== null && a <= threshold) expect(kind).toBe('low_stock');
      else expect(kind).toBeNull();
    }),
  );
});
