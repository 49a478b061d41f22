/**
 * What both catalog versions do with a push before writing: each target against the level Wix shows
 * now (read just before). Already there: applied without a write. Moved since the hub last saw it
 * (the level is not `expected`): stale, with what Wix shows, and nothing is written. Otherwise a
 * write (the change from what Wix shows now). A variant Wix does not have, or whose quantity it
 * does not track, fails alone.
 */
import type { PushOutcome, PushTarget } from '../types';

export interface Write<R> {
  index: number;
  target: PushTarget;
  /** What Wix showed when read. */
  current: number;
  /** What the version's write needs of the reading (V3: the inventory item's id and revision). */
  reading: R;
}

export interface Reading {
  quantity: number | null;
  tracked: boolean;
}

export function planWrites<R extends Reading>(targets: PushTarget[], readingOf: (t: PushTarget) => R | undefined, outcomes: (PushOutcome | undefined)[]): Write<R>[] {
  const writes: Write<R>[] = [];
  targets.forEach((target, index) => {
    // Already answered (refused before any read): left as it is.
    if (outcomes[index]) return;
    const fail = (message: string) => (outcomes[index] = { sku: target.sku, locationId: target.locationId, status: 'failed', message });
    if (!Number.isInteger(target.level) || target.level < 0) return fail(`The level ${target.level} is not a whole number of units of 0 or more.`);
    const reading = readingOf(target);
    if (!reading) return fail('Wix has no inventory for this variant at this location (deleted, or never stocked there); run catalog discovery again.');
    if (!reading.tracked || reading.quantity === null) return fail('Wix does not track the quantity of this variant ("Track inventory" is off in its product page): turn it on for the hub to set its stock.');
    const current = reading.quantity;
    // Already at the level: nothing to write — but only when that is also the level the hub
    // expected (or it expects none: a retry after a lost answer). A site that sold down to our
    // number by itself has sales whose orders have not reached the hub; taken as our write, they
    // would be counted again when the orders come (the OpenCart burst, bench/README.md).
    if (current === target.level && (target.expected === null || target.expected === current)) {
      outcomes[index] = { sku: target.sku, locationId: target.locationId, status: 'applied', level: target.level, wrote: false };
      return;
    }
    if (target.expected !== null && current !== target.expected) {
      outcomes[index] = { sku: target.sku, locationId: target.locationId, status: 'stale', observed: current };
      return;
    }
    writes.push({ index, target, current, reading });
  });
  return writes;
}

/** Every target without an outcome yet gets a failure (nothing should be left so). */
export function finish(targets: PushTarget[], outcomes: (PushOutcome | undefined)[]): PushOutcome[] {
  return targets.map((t, i) => outcomes[i] ?? { sku: t.sku, locationId: t.locationId, status: 'failed', message: 'No answer from Wix for this change.' });
}
