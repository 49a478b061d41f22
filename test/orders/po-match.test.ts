/**
 * Purchase-order matching: readable scenarios first, then fast-check properties for the rules that
 * must always hold (never over-reserve, strict first-in-first-out on the waitlist, policies).
 */
import fc from 'fast-check';
import {
  checkPurchaseOrderInput,
  matchPurchaseOrder,
  reevaluateWaitlist,
  stockKey,
  type MatchResult,
  type PoForMatch,
  type PoLineState,
  type ShortPolicy,
} from '../../server/core/po-match';

const line = (n: number, sku: string, location: string, ordered: number, reserved = 0, dropped = 0): PoLineState => ({ line: n, sku, location, ordered, reserved, dropped });
const po = (id: number, policy: ShortPolicy, lines: PoLineState[]): PoForMatch => ({ id, number: `PO-${id}`, policy, lines });
const stock = (entries: [string, string, number][]) => new Map(entries.map(([sku, loc, n]) => [stockKey(sku, loc), n]));

describe('matchPurchaseOrder: scenarios', () => {
  const gallery = stock([
    ['ART-7', 'gallery', 1],
    ['MUG-2', 'gallery', 10],
  ]);

  test('an order that stock covers is approved and reserves everything it wants', () => {
    const r = matchPurchaseOrder(po(1, 'reject', [line(1, 'MUG-2', 'gallery', 4), line(2, 'ART-7', 'gallery', 1)]), gallery);
    expect(r).toEqual({ status: 'approved', reserve: [{ line: 1, quantity: 4 }, { line: 2, quantity: 1 }], drop: [], short: [], reason: null });
  });

  test('reject: nothing is reserved and the reason names each short line', () => {
    const r = matchPurchaseOrder(po(1, 'reject', [line(1, 'ART-7', 'gallery', 3), line(2, 'MUG-2', 'gallery', 2)]), gallery);
    expect(r.status).toBe('rejected');
    expect(r.reserve).toEqual([]);
    expect(r.short).toEqual([{ line: 1, sku: 'ART-7', location: 'gallery', wanted: 3, available: 1 }]);
    expect(r.reason).toBe('Purchase order PO-1 was rejected because there is not enough stock. ART-7 at gallery: 3 wanted, 1 available.');
  });

  test('waitlist: the whole order waits, nothing is held back for it yet', () => {
    const r = matchPurchaseOrder(po(1, 'waitlist', [line(1, 'ART-7', 'gallery', 3), line(2, 'MUG-2', 'gallery', 2)]), gallery);
    expect(r).toMatchObject({ status: 'waitlisted', reserve: [], drop: [] });
    expect(r.reason).toMatch(/waiting until it can be filled in full/);
  });

  test('split: what is there is reserved, the rest is dropped', () => {
    const r = matchPurchaseOrder(po(1, 'split', [line(1, 'ART-7', 'gallery', 3), line(2, 'MUG-2', 'gallery', 2)]), gallery);
    expect(r.status).toBe('partially_approved');
    expect(r.reserve).toEqual([{ line: 1, quantity: 1 }, { line: 2, quantity: 2 }]);
    expect(r.drop).toEqual([{ line: 1, quantity: 2 }]);
    expect(r.reason).toMatch(/the rest was dropped/);
  });

  test('split with nothing in stock at all is rejected: there is nothing to split', () => {
    const r = matchPurchaseOrder(po(1, 'split', [line(1, 'ART-7', 'warehouse', 3)]), gallery);
    expect(r).toMatchObject({ status: 'rejected', reserve: [], drop: [] });
    expect(r.reason).toMatch(/nothing to send now/);
  });

  test('split_waitlist: reserve what is there, the rest keeps waiting; with nothing there it simply waits', () => {
    const some = matchPurchaseOrder(po(1, 'split_waitlist', [line(1, 'ART-7', 'gallery', 3)]), gallery);
    expect(some).toMatchObject({ status: 'partially_approved', reserve: [{ line: 1, quantity: 1 }], drop: [] });
    expect(some.short).toEqual([{ line: 1, sku: 'ART-7', location: 'gallery', wanted: 3, available: 1 }]);
    const none = matchPurchaseOrder(po(1, 'split_waitlist', [line(1, 'ART-7', 'warehouse', 3)]), gallery);
    expect(none).toMatchObject({ status: 'waitlisted', reserve: [], drop: [] });
  });

  test('two lines naming the same item and location share its stock', () => {
    const lines = [line(1, 'MUG-2', 'gallery', 6), line(2, 'MUG-2', 'gallery', 6)];
    expect(matchPurchaseOrder(po(1, 'reject', lines), gallery).short).toEqual([{ line: 2, sku: 'MUG-2', location: 'gallery', wanted: 6, available: 4 }]);
    expect(matchPurchaseOrder(po(1, 'split', lines), gallery).reserve).toEqual([{ line: 1, quantity: 6 }, { line: 2, quantity: 4 }]);
  });

  test('negative availability (oversold) counts as none; what is already reserved or dropped is not wanted again', () => {
    const r = matchPurchaseOrder(po(1, 'split_waitlist', [line(1, 'ART-7', 'gallery', 5, 2, 1)]), stock([['ART-7', 'gallery', -4]]));
    expect(r.short).toEqual([{ line: 1, sku: 'ART-7', location: 'gallery', wanted: 2, available: 0 }]);
    expect(matchPurchaseOrder(po(1, 'reject', [line(1, 'ART-7', 'gallery', 5, 4, 1)]), new Map()).status).toBe('approved');
  });
});

describe('reevaluateWaitlist: scenarios', () => {
  test('the first order in the queue is served first, even when a later smaller one would fit', () => {
    const queue = [po(1, 'waitlist', [line(1, 'ART-7', 'gallery', 3)]), po(2, 'waitlist', [line(1, 'ART-7', 'gallery', 1)])];
    // Two arrive: not enough for PO-1, and PO-2 must not jump the queue.
    expect(reevaluateWaitlist(queue, stock([['ART-7', 'gallery', 2]]))).toEqual([]);
    // Four arrive: PO-1 is approved, and PO-2 takes the one left.
    const r = reevaluateWaitlist(queue, stock([['ART-7', 'gallery', 4]]));
    expect(r.map((x) => [x.id, x.result.status])).toEqual([
      [1, 'approved'],
      [2, 'approved'],
    ]);
  });

  test('a later order that needs other items is still served', () => {
    const queue = [po(1, 'waitlist', [line(1, 'ART-7', 'gallery', 3)]), po(2, 'waitlist', [line(1, 'MUG-2', 'gallery', 5)])];
    const r = reevaluateWaitlist(queue, stock([['ART-7', 'gallery', 2], ['MUG-2', 'gallery', 5]]));
    expect(r).toEqual([{ id: 2, result: { status: 'approved', reserve: [{ line: 1, quantity: 5 }], drop: [], short: [], reason: null } }]);
  });

  test('a whole order waiting for one item also keeps its place on its other items', () => {
    // PO-1 needs ART-7 (short) and MUG-2 (there). PO-2 wants only MUG-2 and must wait behind PO-1.
    const queue = [po(1, 'waitlist', [line(1, 'ART-7', 'gallery', 3), line(2, 'MUG-2', 'gallery', 2)]), po(2, 'split_waitlist', [line(1, 'MUG-2', 'gallery', 2)])];
    expect(reevaluateWaitlist(queue, stock([['ART-7', 'gallery', 0], ['MUG-2', 'gallery', 3]]))).toEqual([]);
  });

  test('split_waitlist orders take what they can at their turn; the held stock is explained', () => {
    const queue = [po(1, 'split_waitlist', [line(1, 'ART-7', 'gallery', 5)]), po(2, 'split_waitlist', [line(1, 'ART-7', 'gallery', 1), line(2, 'MUG-2', 'gallery', 1)])];
    const r = reevaluateWaitlist(queue, stock([['ART-7', 'gallery', 3], ['MUG-2', 'gallery', 1]]));
    expect(r[0]).toMatchObject({ id: 1, result: { status: 'partially_approved', reserve: [{ line: 1, quantity: 3 }] } });
    expect(r[1]).toMatchObject({ id: 2, result: { status: 'partially_approved', reserve: [{ line: 2, quantity: 1 }] } });
    // PO-1 took all three ART-7, so there is nothing held for it beyond that: the text just says 0 available.
    expect(r[1]?.result.reason).toContain('ART-7 at gallery: 1 wanted, 0 available.');

    const more = reevaluateWaitlist(queue, stock([['ART-7', 'gallery', 4], ['MUG-2', 'gallery', 1]]));
    expect(more[0]?.result.reserve).toEqual([{ line: 1, quantity: 4 }]);
    expect(more[1]?.result.reserve).toEqual([{ line: 2, quantity: 1 }]);
  });

  test('stock held for an earlier order is named in the later order\'s reason', () => {
    const queue = [po(1, 'waitlist', [line(1, 'ART-7', 'gallery', 5)]), po(2, 'split_waitlist', [line(1, 'ART-7', 'gallery', 2), line(2, 'MUG-2', 'gallery', 1)])];
    const [only] = reevaluateWaitlist(queue, stock([['ART-7', 'gallery', 3], ['MUG-2', 'gallery', 1]]));
    expect(only?.id).toBe(2);
    expect(only?.result.reason).toContain('ART-7 at gallery: 2 wanted, 0 available. 3 more are in stock but held for orders ahead in the queue.');
  });

  test('reject and split orders that somehow sit on the waitlist are settled by their own policy', () => {
    const queue = [po(1, 'reject', [line(1, 'ART-7', 'gallery', 5)]), po(2, 'split', [line(1, 'ART-7', 'gallery', 5)])];
    const r = reevaluateWaitlist(queue, stock([['ART-7', 'gallery', 2]]));
    expect(r.map((x) => [x.id, x.result.status, x.result.reserve, x.result.drop])).toEqual([
      [1, 'rejected', [], []],
      [2, 'partially_approved', [{ line: 1, quantity: 2 }], [{ line: 1, quantity: 3 }]],
    ]);
  });
});

describe('checkPurchaseOrderInput', () => {
  test('a good order has no problems', () => {
    expect(checkPurchaseOrderInput({ number: 'PO-1042', lines: [{ sku: 'ART-7', quantity: 2 }] })).toEqual([]);
  });

  test('each problem is its own plain sentence', () => {
    expect(checkPurchaseOrderInput({ number: ' ', lines: [] })).toEqual([
      'The purchase order needs a number, such as PO-1042.',
      'The purchase order has no lines. Add at least one item and quantity.',
    ]);
    expect(checkPurchaseOrderInput({ number: 'P'.repeat(61), lines: 'lots' })).toEqual([
      'The purchase order number is 61 characters long; it can be at most 60.',
      'The purchase order has no lines. Add at least one item and quantity.',
    ]);
    expect(checkPurchaseOrderInput({ number: 'P'.repeat(60), lines: [{ quantity: 1 }, { sku: 'A', quantity: 0 }, { sku: 'B', quantity: 2.5 }, { sku: 'C', quantity: '3' }, { sku: 'D', quantity: 1_000_000_001 }, { sku: 'E' }, null] })).toEqual([
      'Line 1 has no SKU.',
      'Line 2: the quantity must be a whole number from 1 to 1,000,000,000 (it is 0).',
      'Line 3: the quantity must be a whole number from 1 to 1,000,000,000 (it is 2.5).',
      'Line 4: the quantity must be a whole number from 1 to 1,000,000,000 (it is "3").',
      'Line 5: the quantity must be a whole number from 1 to 1,000,000,000 (it is 1000000001).',
      'Line 6: the quantity must be a whole number from 1 to 1,000,000,000 (it is missing).',
      'Line 7 is not an item with a quantity.',
    ]);
  });

  test('at most 500 lines', () => {
    const lines = (n: number) => Array.from({ length: n }, () => ({ sku: 'A', quantity: 1 }));
    expect(checkPurchaseOrderInput({ number: 'PO-1', lines: lines(500) })).toEqual([]);
    expect(checkPurchaseOrderInput({ number: 'PO-1', lines: lines(501) })).toEqual(['The purchase order has 501 lines; one order can have at most 500. Split it into several orders.']);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const SKUS = ['A', 'B', 'C'];
const LOCATIONS = ['gallery', 'warehouse'];
const KEYS = SKUS.flatMap((s) => LOCATIONS.map((l) => stockKey(s, l)));
const POLICIES: ShortPolicy[] = ['reject', 'waitlist', 'split', 'split_waitlist'];

const lineArb = fc
  .record({ sku: fc.constantFrom(...SKUS), location: fc.constantFrom(...LOCATIONS), ordered: fc.integer({ min: 1, max: 12 }), r: fc.nat(12), d: fc.nat(12), fresh: fc.boolean() })
  .map(({ sku, location, ordered, r, d, fresh }) => {
    const reserved = fresh ? 0 : Math.min(r, ordered);
    const dropped = fresh ? 0 : Math.min(d, ordered - reserved);
    return { sku, location, ordered, reserved, dropped };
  });
const poArb = (policies: ShortPolicy[]) =>
  fc.record({ policy: fc.constantFrom(...policies), lines: fc.array(lineArb, { minLength: 1, maxLength: 5 }) }).map(({ policy, lines }) => ({ policy, lines: lines.map((l, i) => ({ line: i + 1, ...l })) }));
const queueArb = (policies: ShortPolicy[]) => fc.array(poArb(policies), { minLength: 1, maxLength: 8 }).map((ps) => ps.map((p, i) => ({ id: i + 1, number: `PO-${i + 1}`, ...p })));
const availArb = fc.array(fc.integer({ min: -3, max: 20 }), { minLength: KEYS.length, maxLength: KEYS.length }).map((ns) => new Map(KEYS.map((k, i) => [k, ns[i] ?? 0])));

const wanted = (l: PoLineState) => l.ordered - l.reserved - l.dropped;
const qty = (entries: { line: number; quantity: number }[], n: number) => entries.filter((e) => e.line === n).reduce((s, e) => s + e.quantity, 0);
const keyOf = (l: PoLineState) => stockKey(l.sku, l.location);

/** Units reserved per item+location by one result. */
function reservedByKey(p: PoForMatch, r: MatchResult, into = new Map<string, number>()): Map<string, number> {
  for (const l of p.lines) into.set(keyOf(l), (into.get(keyOf(l)) ?? 0) + qty(r.reserve, l.line));
  return into;
}

/** What a PO still waits for per item+location after its result (nothing if it was settled). */
function stillWanted(p: PoForMatch, r: MatchResult | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (r && (r.status === 'approved' || r.status === 'rejected')) return out;
  if (p.policy === 'split' || p.policy === 'reject') return out;
  for (const l of p.lines) {
    const left = wanted(l) - (r ? qty(r.reserve, l.line) + qty(r.drop, l.line) : 0);
    if (left > 0) out.set(keyOf(l), (out.get(keyOf(l)) ?? 0) + left);
  }
  return out;
}

function checkWellFormed(p: PoForMatch, r: MatchResult): void {
  for (const e of [...r.reserve, ...r.drop]) expect(e.quantity).toBeGreaterThan(0);
  for (const l of p.lines) {
    expect(qty(r.reserve, l.line) + qty(r.drop, l.line)).toBeLessThanOrEqual(wanted(l));
  }
  expect(r.status === 'approved').toBe(r.short.length === 0);
  expect(r.reason === null).toBe(r.status === 'approved');
  if (r.status === 'approved') for (const l of p.lines) expect(qty(r.reserve, l.line)).toBe(wanted(l));
}

describe('matchPurchaseOrder: properties', () => {
  test('never reserves more of an item+location than is available, across all lines of the order', () => {
    fc.assert(
      fc.property(poArb(POLICIES), availArb, (p, avail) => {
        const order = { id: 1, number: 'PO-1', ...p };
        const r = matchPurchaseOrder(order, avail);
        checkWellFormed(order, r);
        for (const [k, n] of reservedByKey(order, r)) expect(n).toBeLessThanOrEqual(Math.max(0, avail.get(k) ?? 0));
      }),
    );
  });

  test('approved exactly when every item+location covers what all its lines want', () => {
    fc.assert(
      fc.property(poArb(POLICIES), availArb, (p, avail) => {
        const order = { id: 1, number: 'PO-1', ...p };
        const need = new Map<string, number>();
        for (const l of order.lines) need.set(keyOf(l), (need.get(keyOf(l)) ?? 0) + wanted(l));
        const fits = [...need].every(([k, n]) => n <= Math.max(0, avail.get(k) ?? 0));
        expect(matchPurchaseOrder(order, avail).status === 'approved').toBe(fits);
      }),
    );
  });

  test('each policy keeps its promise: reject never reserves, waitlist is all or nothing, split drops exactly the rest', () => {
    fc.assert(
      fc.property(poArb(POLICIES), availArb, (p, avail) => {
        const order = { id: 1, number: 'PO-1', ...p };
        const r = matchPurchaseOrder(order, avail);
        if (r.status === 'approved') return;
        switch (order.policy) {
          case 'reject':
          case 'waitlist':
            expect(r.status).toBe(order.policy === 'reject' ? 'rejected' : 'waitlisted');
            expect(r.reserve).toEqual([]);
            expect(r.drop).toEqual([]);
            break;
          case 'split':
            if (r.status === 'rejected') expect([r.reserve, r.drop]).toEqual([[], []]);
            else {
              expect(r.status).toBe('partially_approved');
              expect(r.reserve.length).toBeGreaterThan(0);
              for (const l of order.lines) expect(qty(r.reserve, l.line) + qty(r.drop, l.line)).toBe(wanted(l));
            }
            break;
          case 'split_waitlist':
            expect(r.drop).toEqual([]);
            expect(r.status).toBe(r.reserve.length > 0 ? 'partially_approved' : 'waitlisted');
            break;
        }
      }),
    );
  });
});

describe('reevaluateWaitlist: properties', () => {
  const waitingPolicies: ShortPolicy[] = ['waitlist', 'split_waitlist'];

  test('the round never hands out more than is available, per line never more than wanted', () => {
    fc.assert(
      fc.property(queueArb(POLICIES), availArb, (queue, avail) => {
        const out = reevaluateWaitlist(queue, avail);
        const total = new Map<string, number>();
        for (const { id, result } of out) {
          const p = queue.find((x) => x.id === id);
          if (!p) throw new Error(`unknown PO ${id}`);
          checkWellFormed(p, result);
          reservedByKey(p, result, total);
        }
        for (const [k, n] of total) expect(n).toBeLessThanOrEqual(Math.max(0, avail.get(k) ?? 0));
        // Results come in queue order, one per PO at most.
        const ids = out.map((x) => x.id);
        expect(ids).toEqual([...new Set(ids)].sort((a, b) => a - b));
      }),
    );
  });

  test('strict FIFO: if an earlier order still wants an item+location after the round, no later order reserved it', () => {
    fc.assert(
      fc.property(queueArb(POLICIES), availArb, (queue, avail) => {
        const results = new Map(reevaluateWaitlist(queue, avail).map((x) => [x.id, x.result]));
        queue.forEach((earlier, i) => {
          for (const k of stillWanted(earlier, results.get(earlier.id)).keys()) {
            for (const later of queue.slice(i + 1)) {
              const r = results.get(later.id);
              if (r) expect(reservedByKey(later, r).get(k) ?? 0).toBe(0);
            }
          }
        });
      }),
    );
  });

  test('waiting orders are only reported when they change; a whole-order waitlist is only ever approved', () => {
    fc.assert(
      fc.property(queueArb(waitingPolicies), availArb, (queue, avail) => {
        for (const { id, result } of reevaluateWaitlist(queue, avail)) {
          const p = queue.find((x) => x.id === id);
          expect(result.status === 'approved' || result.reserve.length > 0).toBe(true);
          if (p?.policy === 'waitlist') expect(result.status).toBe('approved');
        }
      }),
    );
  });

  test('the order at the head of the queue gets exactly what matching it alone would give', () => {
    fc.assert(
      fc.property(queueArb(waitingPolicies), availArb, (queue, avail) => {
        const head = queue[0];
        if (!head) return;
        const alone = matchPurchaseOrder(head, avail);
        const inRound = reevaluateWaitlist(queue, avail).find((x) => x.id === head.id)?.result;
        if (alone.status === 'waitlisted') expect(inRound).toBeUndefined();
        else expect(inRound).toEqual(alone);
      }),
    );
  });

  test('restock after restock, orders for the same single item are filled whole in submission order', () => {
    const key = stockKey('A', 'gallery');
    const queueOfA = fc.array(
      fc.record({ policy: fc.constantFrom(...waitingPolicies), sizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }) }),
      { minLength: 1, maxLength: 8 },
    );
    fc.assert(
      fc.property(queueOfA, fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 25 }), fc.nat(5), (specs, restocks, initial) => {
        let waiting: PoForMatch[] = specs.map((s, i) => po(i + 1, s.policy, s.sizes.map((n, j) => line(j + 1, 'A', 'gallery', n))));
        const all = [...waiting];
        let free = initial;
        const filledInRound = new Map<number, number>();
        const roundsLeft = [...restocks, 1000]; // a final big delivery fills everyone
        roundsLeft.forEach((arrived, round) => {
          free += arrived;
          for (const { id, result } of reevaluateWaitlist(waiting, new Map([[key, free]]))) {
            const p = waiting.find((x) => x.id === id);
            if (!p) throw new Error(`unknown PO ${id}`);
            p.lines = p.lines.map((l) => ({ ...l, reserved: l.reserved + qty(result.reserve, l.line), dropped: l.dropped + qty(result.drop, l.line) }));
            free -= result.reserve.reduce((s, e) => s + e.quantity, 0);
            expect(free).toBeGreaterThanOrEqual(0);
            if (result.status === 'approved') filledInRound.set(id, round);
          }
          waiting = waiting.filter((p) => !filledInRound.has(p.id));
          // Only the first unfilled order may hold a part; everything behind it has nothing yet.
          const [first, ...rest] = waiting;
          for (const p of rest) expect(p.lines.every((l) => l.reserved === 0)).toBe(true);
          if (first?.policy === 'waitlist') expect(first.lines.every((l) => l.reserved === 0)).toBe(true);
        });
        expect(waiting).toEqual([]);
        const rounds = all.map((p) => filledInRound.get(p.id) ?? Infinity);
        expect(rounds).toEqual([...rounds].sort((a, b) => a - b));
        for (const p of all) for (const l of p.lines) expect(l.reserved).toBe(l.ordered);
      }),
    );
  });
});
