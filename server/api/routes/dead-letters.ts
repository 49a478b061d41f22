/** Deliveries to the sheet, Airtable, subscribers or channels that failed every retry, and retrying them. */
import { Type } from '@sinclair/typebox';
import { AppError } from '../errors';
import { listRoute, type Resource } from '../route';
import { Nullable, Page, Timestamp, admin, adminErrors, err, idParam, json } from '../schemas';

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
    listRoute({
      path: '/v1/dead-letters',
      summary: 'Deliveries that failed every retry.',
      operationId: 'listDeadLetters',
      page: json(Page('deadLetters', Type.Ref('DeadLetter')), 'A page of dead letters.'),
      name: 'deadLetters',
      rows: (ctx, _req, page) => ctx.store.outbox.list({ ...page, status: 'dead' }),
      key: (r) => r.id,
      show: (_ctx, rows) => rows.map((r) => ({ id: r.id, sink: r.sink, topic: r.topic, attempts: r.attempts, lastError: r.lastError, payload: r.payload, createdAt: r.createdAt, updatedAt: r.updatedAt })),
    }),
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
