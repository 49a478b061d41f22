/** Deliveries to the sheet, Airtable, subscribers or channels that failed every retry, and retrying them. */
import { Type } from '@sinclair/typebox';
import { AppError } from '../errors';
import { cursorOf, nextCursor, pageLimit } from '../http';
import type { Resource } from '../route';
import { Nullable, Page, Timestamp, admin, adminErrors, cursor, err, idParam, json, limit } from '../schemas';

const DeadLetterView = Type.Object(
  {
    id: Type.Integer(),
    sink: Type.String(),
    topic: Type.String(),
    attempts: Type.Integer(),
    lastError: Nullable(Type.String()),
    payload: Type.Unknown(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'DeadLetter' },
);

export const deadLetters: Resource = {
  name: 'dead-letters',
  schemas: { DeadLetter: DeadLetterView },
  routes: [
    {
      method: 'get',
      path: '/v1/dead-letters',
      doc: {
        summary: 'Deliveries that failed every retry.',
        operationId: 'listDeadLetters',
        security: admin,
        parameters: [limit, cursor],
        responses: { '200': json(Page('deadLetters', Type.Ref('DeadLetter')), 'A page of dead letters.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        const n = pageLimit(req);
        const rows = await ctx.store.outbox.list({ limit: n, cursor: cursorOf(req), status: 'dead' });
        res.json({
          deadLetters: rows.map((r) => ({ id: r.id, sink: r.sink, topic: r.topic, attempts: r.attempts, lastError: r.lastError, payload: r.payload, createdAt: r.createdAt, updatedAt: r.updatedAt })),
          nextCursor: nextCursor(rows, n, (r) => r.id),
        });
      },
    },
    {
      method: 'post',
      path: '/v1/dead-letters/{id}/retry',
      doc: {
        summary: 'Try a dead letter again.',
        operationId: 'retryDeadLetter',
        security: admin,
        parameters: [idParam],
        responses: { '202': json(Type.Object({ id: Type.Integer(), status: Type.String() }), 'Queued again.'), '404': err('No such dead letter.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        const id = Number(req.params.id);
        if (!(await ctx.store.outbox.retryDead(id, ctx.clock().toISOString()))) throw new AppError(404, 'unknown_dead_letter', `There is no dead letter ${id}.`);
        const row = await ctx.store.outbox.get(id);
        res.status(202).json({ id, status: row?.status ?? 'pending' });
      },
    },
  ],
};
