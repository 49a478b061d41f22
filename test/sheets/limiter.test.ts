/**
 * The sheet's pace on a fake clock (SpacedWindowLimiter): Google allows 60 write requests per minute per user.
 */
import { SpacedWindowLimiter } from '../../server/outbox/rate-limit';

test('500 writes wanted at once go out at most 60 in any minute, spread a second apart', () => {
  const limiter = new SpacedWindowLimiter(60, 60_000);
  let now = 1_000_000;
  const sent: number[] = [];
  for (let i = 0; i < 500; i++) {
    const wait = limiter.waitMs(1, now);
    now += wait;
    expect(limiter.waitMs(1, now)).toBe(0);
    limiter.take(1, now);
    sent.push(now);
  }
  for (let i = 0, j = 0; j < sent.length; j++) {
    while (sent[j]! - sent[i]! >= 60_000) i++;
    expect(j - i + 1).toBeLessThanOrEqual(60);
  }
  // Spread, not bunched: never two writes within a second, so a burst of changes waits and batches.
  for (let k = 1; k < sent.length; k++) expect(sent[k]! - sent[k - 1]!).toBeGreaterThanOrEqual(1000);
  // …and not slower than the quota needs (5% margin for the two clocks).
  expect(sent[sent.length - 1]! - sent[0]!).toBeLessThanOrEqual(499 * 1050);
});

test('the first write of a quiet sheet goes at once', () => {
  const limiter = new SpacedWindowLimiter(60, 60_000);
  expect(limiter.waitMs(1, 5)).toBe(0);
  limiter.take(1, 5);
  expect(limiter.waitMs(1, 5)).toBe(1050);
  expect(limiter.waitMs(1, 5 + 60_000)).toBe(0);
});
