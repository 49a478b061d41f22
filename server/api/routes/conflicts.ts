/**
 * Conflicts: sheet edits that met a newer change (docs/conflicts.md). Accepting or rejecting one is
 * stored as an inbound event, booked in order, and answered when booked.
 */
import { Type } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import { CONFLICT_DECISION, type ConflictDecisionBody } from '../../core/booking';
import type { Outcome } from '../../core/booking';
import type { ConflictRecord } from '../../store/types';
import { waitForOutcome } from '../booking';
import type { ApiContext } from '../context';
import { AppError } from '../errors';
import { getRoute, listRoute, type Resource } from '../route';
import { Nullable, Page, Timestamp, admin, adminErrors, err, idParam, json, jsonBody } from '../schemas';

const ConflictView = Type.Object(
  {
    id: Type.Integer(),
    key: Type.String({ description: 'The edit’s own booking key.' }),
    eventId: Nullable(Type.Integer({ description: 'The inbound event (relay) that carried the edit.' })),
    sku: Type.String(),
    locationId: Type.String(),
    sheetShowed: Nullable(Type.Integer({ description: 'What the cell showed before the edit (null: unknown).' })),
    typed: Type.Integer({ description: 'What was typed.' }),
    hubHad: Type.Integer({ description: 'The hub’s on hand when the conflict was found.' }),
    hubNow: Type.Integer({ description: 'The hub’s on hand now.' }),
    source: Type.String(),
    actor: Nullable(Type.String()),
    editedAt: Timestamp,
    foundAt: Timestamp,
    status: Type.Union([Type.Literal('open'), Type.Literal('accepted'), Type.Literal('rejected')]),
    resolvedAt: Nullable(Timestamp),
    resolvedBy: Nullable(Type.String()),
    movementId: Nullable(Type.Integer({ description: 'The count booked when it was accepted.' })),
    resolution: Nullable(Type.String({ description: 'What was done, in words.' })),
  },
  { title: 'Conflict' },
);

const ConflictDecisionRequest = Type.Object(
  {
    actor: Type.Optional(Type.String({ maxLength: 200, description: 'Who decided (an email address or a name).' })),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
    origin: Type.Optional(Type.Union([Type.Literal('sidebar'), Type.Literal('api')], { description: 'Where the decision was made; recorded as the source of the count an accept books.' })),
  },
  { additionalProperties: false, title: 'ConflictDecisionRequest' },
);

const ConflictDecided = Type.Object(
  {
    conflict: Type.Ref('Conflict'),
    eventId: Nullable(Type.Integer({ description: 'The inbound event that carried the decision; null when nothing new was stored.' })),
    message: Type.String(),
  },
  { title: 'ConflictDecided' },
);

/** Conflicts with the hub's on hand now beside what it had when each was found. */
async function conflictViews(ctx: ApiContext, rows: ConflictRecord[]) {
  const levels = await ctx.store.ledger.levelsFor([...new Set(rows.map((c) => c.sku))]);
  return rows.map((c) => ({ ...c, hubNow: levels.find((l) => l.sku === c.sku && l.locationId === c.locationId)?.onHand ?? 0 }));
}

const by = (c: ConflictRecord) => (c.resolvedBy ? ` by ${c.resolvedBy}` : '');

/** Accept or reject: stored as an inbound event, booked in order, answered when booked. */
const decide = (decision: 'accept' | 'reject') => async (ctx: ApiContext, req: Request, res: Response) => {
  const { store, clock } = ctx;
  if (ctx.shuttingDown()) throw new AppError(503, 'shutting_down', 'The hub is restarting; try again in a moment.');
  const id = Number(req.params.id);
  const b = (req.body ?? {}) as { actor?: string; note?: string; origin?: 'sidebar' | 'api' };
  const done = decision === 'accept' ? 'accepted' : 'rejected';
  const answer = async (status: number, c: ConflictRecord, eventId: number | null, message: string) => {
    res.status(status).json({ conflict: (await conflictViews(ctx, [c]))[0], eventId, message });
  };
  const before = await store.conflicts.get(id);
  if (!before) throw new AppError(404, 'unknown_conflict', `There is no conflict ${id}; nothing was changed.`);
  if (before.status === done) return answer(200, before, null, `Conflict ${id} was already ${done}${by(before)}; nothing more was done.`);
  if (before.status !== 'open') throw new AppError(409, 'conflict_decided', `Conflict ${id} was already ${before.status}${by(before)}, so it cannot be ${done} now; nothing was changed.`);
  const body: ConflictDecisionBody = { conflictId: id, decision, actor: b.actor ?? null, note: b.note ?? null, origin: b.origin ?? 'api', decidedAt: clock().toISOString() };
  const dedupeKey = `conflict:${id}:${decision}`;
  const stored = (await store.inbox.insert({ dedupeKey, source: 'api', kind: CONFLICT_DECISION, headers: { 'user-agent': req.get('user-agent') ?? '' }, body: JSON.stringify(body) }, clock().toISOString())) ?? (await store.inbox.byKey(dedupeKey));
  if (!stored) throw new AppError(409, 'busy', 'This decision is being stored by another request; try again.');
  ctx.processor.notify();
  const e = await waitForOutcome(ctx, stored.id);
  const after = (await store.conflicts.get(id))!;
  if (!e) return answer(202, after, stored.id, 'Stored; it will be booked in order in a moment.');
  if (after.status === done) return answer(200, after, stored.id, after.resolution ?? `Conflict ${id} ${done}.`);
  if (after.status !== 'open') throw new AppError(409, 'conflict_decided', `Conflict ${id} was ${after.status} meanwhile${by(after)}; nothing was changed.`);
  const why = ((e.outcome ?? null) as Outcome | null)?.results[0]?.message ?? e.status;
  throw new AppError(409, 'not_booked', `Conflict ${id} could not be ${done}: ${why}`);
};

const decisionResponses = (done: string, refused: string) => ({
  '200': json(ConflictDecided, `${done} (now, or before).`),
  '202': json(ConflictDecided, 'Stored; still being booked.'),
  '404': err('No such conflict. Nothing was changed.'),
  '409': err(refused),
  '503': err('The hub is restarting.'),
  ...adminErrors,
});
const decisionBody = jsonBody(Type.Ref('ConflictDecisionRequest'), false);

export const conflicts: Resource = {
  name: 'conflicts',
  schemas: { Conflict: ConflictView, ConflictDecisionRequest },
  routes: [
    listRoute({
      path: '/v1/conflicts',
      summary: 'Sheet edits that met a newer change (a sale landed while someone typed): open ones by default, newest first (docs/conflicts.md).',
      operationId: 'listConflicts',
      filters: [
        { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['open', 'accepted', 'rejected', 'all'], default: 'open' } },
        { name: 'sku', in: 'query', required: false, schema: { type: 'string', minLength: 1, maxLength: 120 } },
      ],
      page: json(Page('conflicts', Type.Ref('Conflict')), 'A page of conflicts.'),
      name: 'conflicts',
      rows: (ctx, req, page) => {
        const status = (req.query.status as string | undefined) ?? 'open';
        return ctx.store.conflicts.list({ ...page, status: status === 'all' ? undefined : (status as ConflictRecord['status']), sku: req.query.sku as string | undefined });
      },
      key: (c) => c.id,
      show: conflictViews,
    }),
    getRoute({
      path: '/v1/conflicts/{id}',
      summary: 'One conflict.',
      operationId: 'getConflict',
      param: idParam,
      found: json(Type.Ref('Conflict'), 'The conflict.'),
      missing: 'No such conflict.',
      get: (ctx, id) => ctx.store.conflicts.get(Number(id)),
      unknown: (id) => ['unknown_conflict', `There is no conflict ${id}.`],
      show: async (ctx, c) => (await conflictViews(ctx, [c]))[0],
    }),
    {
      method: 'post',
      path: '/v1/conflicts/{id}/accept',
      doc: {
        summary: 'Accept a conflict: the number typed is booked as the count (anything booked since the conflict was found is kept on top).',
        description: 'Booked in order with every other change. Accepting an accepted conflict again changes nothing and answers 200.',
        operationId: 'acceptConflict',
        security: admin,
        parameters: [idParam],
        requestBody: decisionBody,
        responses: decisionResponses('Accepted', 'The conflict was rejected already, or the count cannot be booked. Nothing was changed.'),
      },
      handle: decide('accept'),
    },
    {
      method: 'post',
      path: '/v1/conflicts/{id}/reject',
      doc: {
        summary: 'Reject a conflict: the hub’s number stands and is written back to the sheet; nothing is booked.',
        description: 'Rejecting a rejected conflict again changes nothing and answers 200.',
        operationId: 'rejectConflict',
        security: admin,
        parameters: [idParam],
        requestBody: decisionBody,
        responses: decisionResponses('Rejected', 'The conflict was accepted already. Nothing was changed.'),
      },
      handle: decide('reject'),
    },
  ],
};
