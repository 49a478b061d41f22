/**
 * How the Square client (client.ts) turns a push into inventory changes: the plan (an ADJUSTMENT of
 * the difference when the hub knows the level it last saw, a PHYSICAL_COUNT otherwise), each change
 * in Square's wire shape, the occurred_at sent with each idempotency key, and which change an error
 * names.
 */
import type { PushOutcome, PushTarget } from '../types';

/** An idempotency key is remembered with its occurred_at this long (Square refuses occurred_at older than 24 h). */
const MEMO_MS = 20 * 60 * 60 * 1000;

export interface Planned {
  index: number;
  target: PushTarget;
  variationId: string;
  /** ADJUSTMENT (a delta, when the hub knows the level it last saw) or PHYSICAL_COUNT (absolute). */
  kind: 'ADJUSTMENT' | 'PHYSICAL_COUNT';
  delta: number;
}

/**
 * The changes to send for `targets`, and the outcomes already known: a target that cannot be
 * written here (no variation id, no or a disallowed location, a level that is not a whole number)
 * fails, one already at its level is applied without a write.
 */
export function planChanges(targets: PushTarget[], allowed: (locationId: string) => boolean): { outcomes: (PushOutcome | undefined)[]; planned: Planned[] } {
  const outcomes: (PushOutcome | undefined)[] = new Array(targets.length);
  const planned: Planned[] = [];
  targets.forEach((target, index) => {
    const fail = (message: string) => (outcomes[index] = { sku: target.sku, locationId: target.locationId, status: 'failed', message });
    const variationId = target.ref.variantId;
    if (typeof variationId !== 'string' || variationId === '') return fail('This listing has no Square item variation id; run catalog discovery again.');
    if (!target.locationId) return fail('No Square location id is mapped for this location.');
    if (!allowed(target.locationId)) return fail(`Square location ${target.locationId} is not one of this channel's locationIds.`);
    if (!Number.isInteger(target.level) || target.level < 0) return fail(`The level ${target.level} is not a whole number of units of 0 or more.`);
    if (target.expected !== null) {
      const delta = target.level - target.expected;
      if (!Number.isInteger(delta)) return fail(`The last seen level ${target.expected} is not a whole number.`);
      if (delta === 0) {
        outcomes[index] = { sku: target.sku, locationId: target.locationId, status: 'applied', level: target.level, wrote: false };
        return;
      }
      planned.push({ index, target, variationId, kind: 'ADJUSTMENT', delta });
    } else {
      planned.push({ index, target, variationId, kind: 'PHYSICAL_COUNT', delta: 0 });
    }
  });
  return { outcomes, planned };
}

/** One change in Square's wire shape (snake_case), as the pinned Square-Version reads it. */
export function wireChange(p: Planned, occurredAt: string): Record<string, unknown> {
  const reference_id = p.target.idempotencyKey.slice(0, 255);
  if (p.kind === 'PHYSICAL_COUNT') {
    return {
      type: 'PHYSICAL_COUNT',
      physical_count: { reference_id, catalog_object_id: p.variationId, location_id: p.target.locationId, state: 'IN_STOCK', quantity: String(p.target.level), occurred_at: occurredAt },
    };
  }
  const add = p.delta > 0;
  return {
    type: 'ADJUSTMENT',
    adjustment: {
      reference_id,
      catalog_object_id: p.variationId,
      location_id: p.target.locationId,
      from_state: add ? 'NONE' : 'IN_STOCK',
      to_state: add ? 'IN_STOCK' : 'WASTE',
      quantity: String(Math.abs(p.delta)),
      occurred_at: occurredAt,
    },
  };
}

/** The occurred_at sent with each idempotency key, so a retried request is byte-identical. */
export class SentAt {
  private readonly sent = new Map<string, { occurredAt: string; at: number }>();

  /** The occurred_at first sent with this key (so a retry is the same request), or now. */
  occurredAtFor(key: string, now: number): string {
    for (const [k, v] of this.sent) if (now - v.at > MEMO_MS) this.sent.delete(k);
    const seen = this.sent.get(key);
    if (seen) return seen.occurredAt;
    const occurredAt = new Date(now).toISOString();
    this.sent.set(key, { occurredAt, at: now });
    if (this.sent.size > 10_000) this.sent.delete(this.sent.keys().next().value as string);
    return occurredAt;
  }
}

/** The index of the change a Square error is about (`changes[3].adjustment.quantity` → 3). */
export function changeIndex(field: string | undefined): number | null {
  const m = field ? /changes\[(\d+)\]/.exec(field) : null;
  return m ? Number(m[1]) : null;
}
