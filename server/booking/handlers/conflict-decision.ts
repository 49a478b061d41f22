/**
 * Accepting or rejecting a conflict (docs/conflicts.md). A decision is an inbound event like any
 * other, booked in inbox order, so it sees every sale received before it and none after.
 *
 * - accept: the number typed is taken as what was on the shelf when the conflict was found; what
 *   was booked since (sales, returns) is kept on top. A count of `typed + (hub now − hub then)` is
 *   booked, so nothing that happened after the conflict is overwritten.
 * - reject: the hub's number stands; nothing is booked and the sheet cell is written back.
 */
import { acceptedCount, rejected, type ConflictDecisionBody, type Outcome } from '../../core/booking';
import type { InboxEntry } from '../../store/types';
import { applyCommand } from '../apply';
import type { BookingContext } from '../context';
import { followUp } from '../follow-up';

const who = (actor: string | null) => (actor ? ` by ${actor}` : '');

export async function bookConflictDecision(ctx: BookingContext, entry: InboxEntry): Promise<Outcome> {
  const outcome = await decide(ctx, JSON.parse(entry.body) as ConflictDecisionBody);
  await followUp(ctx);
  return outcome;
}

async function decide(ctx: BookingContext, d: ConflictDecisionBody): Promise<Outcome> {
  const { tx, now } = ctx;
  const c = await tx.conflicts.get(d.conflictId);
  if (!c) return rejected(`There is no conflict ${d.conflictId}.`);
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
  const r = await applyCommand(ctx, {
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
