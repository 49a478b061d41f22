/**
 * Property tests of purchase order matching on a running hub (the real processor, ledger and store):
 * random purchase orders under every policy, restocks, shipments and cancellations. After every step:
 * - reservations never exceed what is on hand (available never goes below zero through them), and
 *   the ledger's reserved count is exactly what the purchase orders hold;
 * - first in, first out: no purchase order took an item while an earlier one still waits for it;
 * - cancelling releases exactly what that order had reserved, line by line.
 * The pure matcher has its own properties (test/orders/po-match.test.ts); these check the booking.
 */
import fc from 'fast-check';
import { startHub, type TestHub } from '../helpers/hub';

jest.setTimeout(300_000);

type Step =
  | { kind: 'submit'; policy: 'waitlist' | 'reject' | 'split' | 'split_waitlist'; lines: { item: number; quantity: number }[] }
  | { kind: 'restock'; item: number; quantity: number }
  | { kind: 'cancel'; po: number }
  | { kind: 'fulfil'; po: number };

const CUSTOMER: Record<string, string> = { waitlist: 'Wait Co', reject: 'Strict Co', split: 'Split Co', split_waitlist: 'Split Wait Co' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('submit' as const), policy: fc.constantFrom('waitlist' as const, 'reject' as const, 'split' as const, 'split_waitlist' as const), lines: fc.array(fc.record({ item: fc.nat(2), quantity: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 2 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('restock' as const), item: fc.nat(2), quantity: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), po: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fulfil' as const), po: fc.nat(20) }) },
);

interface PoLine { line: number; sku: string; locationId: string; ordered: number; reserved: number; fulfilled: number; waiting: number }
interface Po { id: number; number: string; status: string; lines: PoLine[] }

describe('purchase orders on a running hub (sqlite)', () => {
  let t: TestHub;
  let run = 0;
  /** Steps after which some order held stock, and cancellations that released some: the properties were not checked on empty cases only. */
  let stepsWithReservations = 0;
  let cancelsThatReleased = 0;
  beforeAll(async () => {
    t = await startHub('sqlite', { file: { purchaseOrders: { onShort: 'waitlist', customers: Object.fromEntries(Object.entries(CUSTOMER).map(([p, c]) => [c, { onShort: p }])) } } });
  });
  afterAll(() => t?.close());

  test('reservations stay within stock and match the orders, waiting orders are served in order, cancelling releases exactly what was reserved', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 3, maxLength: 3 }), fc.array(step, { minLength: 1, maxLength: 10 }), async (stock, steps) => {
        const r = ++run;
        const skus = [0, 1, 2].map((i) => `P${r}-${i}`);
        for (const [i, sku] of skus.entries()) {
          await t.api('PUT', `/v1/items/${sku}`, { title: sku });
          if (stock[i]! > 0) await t.api('POST', `/v1/items/${sku}/counts`, { counted: stock[i] });
        }
        const numbers: string[] = [];
        const level = async (sku: string) => {
          const l = (await t.api('GET', `/v1/items/${sku}`)).body.locations.find((x: { locationId: string }) => x.locationId === 'main') ?? { onHand: 0, reserved: 0 };
          return { onHand: l.onHand as number, reserved: l.reserved as number };
        };
        const pos = async (): Promise<Po[]> => Promise.all(numbers.map(async (n) => (await t.api('GET', `/v1/purchase-orders/${n}`)).body as Po));

        for (const s of steps) {
          if (s.kind === 'submit') {
            const number = `P${r}-PO${numbers.length + 1}`;
            const res = await t.api('POST', '/v1/purchase-orders', { number, customer: CUSTOMER[s.policy], lines: s.lines.map((l) => ({ sku: skus[l.item], quantity: l.quantity })) });
            expect(res.status).toBe(201);
            numbers.push(number);
          } else if (s.kind === 'restock') {
            await t.api('POST', `/v1/items/${skus[s.item]}/adjustments`, { quantity: s.quantity, reason: 'restock' });
          } else if (numbers.length > 0) {
            const number = numbers[s.po % numbers.length]!;
            const before = (await t.api('GET', `/v1/purchase-orders/${number}`)).body as Po;
            if (s.kind === 'cancel') {
              const res = await t.api('POST', `/v1/purchase-orders/${number}/cancel`, {});
              if (['cancelled', 'fulfilled', 'rejected'].includes(before.status)) expect(res.status).toBe(409);
              else {
                expect(res.status).toBe(200);
                // Exactly what this order held is released, line by line.
                for (const line of before.lines) {
                  const released = ((await t.api('GET', `/v1/items/${line.sku}/movements?limit=200`)).body.movements as { reason: string; quantity: number; idempotencyKey: string }[])
                    .filter((m) => m.reason === 'release' && m.idempotencyKey === `po:${number}:${line.line}:cancel-release`)
                    .reduce((n, m) => n - m.quantity, 0);
                  expect({ number, line: line.line, released }).toEqual({ number, line: line.line, released: line.reserved });
                }
                if (before.lines.some((l) => l.reserved > 0)) cancelsThatReleased++;
              }
            } else {
              const res = await t.api('POST', `/v1/purchase-orders/${number}/fulfil`, {});
              expect(res.status).toBe(before.lines.some((l) => l.reserved > 0) && !['cancelled', 'fulfilled', 'rejected'].includes(before.status) ? 200 : 409);
            }
          }
          await t.settle();

          const all = await pos();
          for (const sku of skus) {
            const l = await level(sku);
            // Reservations never exceed what is on hand, and the ledger holds exactly what the orders hold.
            expect({ sku, reservedWithinStock: l.reserved <= l.onHand }).toEqual({ sku, reservedWithinStock: true });
            const held = all.flatMap((p) => p.lines).filter((x) => x.sku === sku).reduce((n, x) => n + x.reserved, 0);
            expect({ sku, ledgerReserved: l.reserved }).toEqual({ sku, ledgerReserved: held });
            if (held > 0) stepsWithReservations++;
          }
          // First in, first out: while an earlier order still waits for an item, no later one has taken any of it.
          for (const [i, early] of all.entries()) {
            if (['cancelled', 'rejected', 'fulfilled'].includes(early.status)) continue;
            for (const want of early.lines.filter((x) => x.waiting > 0)) {
              for (const later of all.slice(i + 1)) {
                const took = later.lines.filter((x) => x.sku === want.sku).reduce((n, x) => n + x.reserved + x.fulfilled, 0);
                expect({ early: early.number, later: later.number, sku: want.sku, took }).toEqual({ early: early.number, later: later.number, sku: want.sku, took: 0 });
              }
            }
          }
        }
      }),
      { numRuns: 25, seed: 20261206 },
    );
    expect(stepsWithReservations).toBeGreaterThan(20);
    expect(cancelsThatReleased).toBeGreaterThan(0);
  });
});
