/**
 * Accepting or rejecting a conflict (docs/conflicts.md). A decision is an inbound event like any
 * other, booked in inbox order, so it sees every sale received before it and none after.
 *
 * - accept: the number typed is taken as what was on the shelf when the conflict was found; what
 *   was booked since (sales, returns) is kept on top. A count of `typed + (hub now − hub then)` is
 *   booked, so nothing that happened after the conflict is overwritten.
 * - reject: the hub's number stands; nothing is booked and the sheet cell is written back.
 */
import type { BookingCommand } from '../domain/relay';
import type { ConflictRecord, InboxEntry, StoreOps } from '../store/types';
import type { CommandResult, Outcome } from './processor';

export const CONFLICT_DECISION = 'conflict_decision';

export interface ConflictDecisionBody {
  conflictId: number;
  decision: 'accept' | 'reject';
  actor: string | null;
  note: string | null;
  origin: 'sidebar' | 'api';
  decidedAt: string;
}

/** Pure: the count an accepted conflict books, given the hub's on hand now. */
export function acceptedCount(c: Pick<ConflictRecord, 'typed' | 'hubHad'>, hubNow: number): number {
  return Math.max(0, c.typed + (hubNow - c.hubHad));
}

const who = (actor: string | null) => (actor ? ` by ${actor}` : '');

export async function decideConflict(tx: StoreOps, entry: InboxEntry, now: string, book: (cmd: BookingCommand) => Promise<CommandResult>): Promise<Outcome> {
  const d = JSON.parse(entry.body) as ConflictDecisionBody;
  const c = await tx.conflicts.get(d.conflictId);
  if (!c) return { status: 'rejected', results: [{ sku: '', result: 'rejected', message: `There is no conflict ${d.conflictId}.` }] };
  const base = { sku: c.sku, location: c.locationId, conflictId: c.id };
  if (c.status !== 'open') {
    const same = (c.status === 'accepted') === (d.decision === 'accept');
    return {
      status: same ? 'processed' : 'rejected',
      results: [{ ...base, result: same ? 'duplicate' : 'rejected', message: `This conflict was already ${c.status}${who(c.resolvedBy)} at ${c.resolvedAt ?? 'an earlier time'}; nothing more was done.` }],
    };
  }
  if (d.decision === 'reject') {
    const level = await tx.ledger.getLevel(c.sku, c.locationId);
    const resolution = `Rejected${who(d.actor)}: the hub’s number stands (${level?.onHand ?? 0} on hand); ${c.typed} typed was not booked.${d.note ? ` ${d.note}` : ''}`;
    await tx.conflicts.resolve(c.id, { status: 'rejected', resolvedBy: d.actor, movementId: null, resolution }, now);
    return { status: 'processed', results: [{ ...base, result: 'updated', message: resolution }] };
  }
  const hubNow = (await tx.ledger.getLevel(c.sku, c.locationId))?.onHand ?? 0;
  const counted = acceptedCount(c, hubNow);
  const since = hubNow - c.hubHad;
  const why =
    since === 0
      ? `${c.typed} typed${c.actor ? ` by ${c.actor}` : ''} is taken as the count`
      : `${c.typed} typed${c.actor ? ` by ${c.actor}` : ''} is taken as the count when the conflict was found, and the ${since > 0 ? '+' : ''}${since} booked since is kept: ${counted}`;
  const r = await book({
    type: 'count',
    key: `conflict:${c.id}:accept`,
    sku: c.sku,
    location: c.locationId,
    counted,
    expectedOnHand: null,
    source: d.origin,
    actor: d.actor,
    note: `Conflict ${c.id} accepted: ${why}.${d.note ? ` ${d.note}` : ''}`,
    occurredAt: d.decidedAt,
  });
  if (r.result !== 'booked' && r.result !== 'duplicate') return { status: r.result === 'unmatched' ? 'unmatched' : 'rejected', results: [{ ...r, conflictId: c.id }] };
  const resolution = `Accepted${who(d.actor)}: ${why}.`;
  await tx.conflicts.resolve(c.id, { status: 'accepted', resolvedBy: d.actor, movementId: r.movementId ?? null, resolution }, now);
  return { status: 'processed', results: [{ ...r, conflictId: c.id, message: `${resolution} ${r.message}` }] };
}
