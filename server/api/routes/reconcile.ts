/** Reconciliation on demand: read the channels back and explain each difference (docs/reconcile.md). */
import { Type } from '@sinclair/typebox';
import { AppError } from '../errors';
import type { Resource } from '../route';
import { Nullable, Timestamp, admin, adminErrors, err, json } from '../schemas';
import { connected } from './channels';

const Difference = Type.Object({
  sku: Type.String(),
  location: Type.String(),
  channelShows: Nullable(Type.Integer()),
  published: Type.Integer(),
  expected: Nullable(Type.Integer()),
  explanation: Type.Union(['push_pending', 'awaiting_explanation', 'failed_push', 'missed_push', 'external_change', 'unreadable'].map((e) => Type.Literal(e))),
  action: Type.Union(['none', 'push', 'adopt', 'flag'].map((e) => Type.Literal(e))),
});

const Report = Type.Object({
  runId: Type.String(),
  dryRun: Type.Boolean(),
  startedAt: Timestamp,
  finishedAt: Timestamp,
  channels: Type.Array(
    Type.Object({
      channelId: Type.String(),
      name: Type.String(),
      checked: Type.Integer(),
      notListed: Type.Array(Type.String()),
      error: Nullable(Type.String()),
      differences: Type.Array(Difference),
    }),
  ),
});

export const reconcile: Resource = {
  name: 'reconcile',
  routes: [
    {
      method: 'post',
      path: '/v1/reconcile',
      doc: {
        summary: 'Reconciliation: read every channel (or one) back, compare with the published levels, explain and act on each difference.',
        description:
          'Each difference is explained (push_pending, awaiting_explanation, failed_push, missed_push, external_change, unreadable) and acted on by the channel’s `reconcile` policy (adopt, correct, flag); see docs/reconcile.md. With dryRun nothing is changed. Runs on its own every engine.reconcileEveryMs too.',
        operationId: 'reconcile',
        security: admin,
        requestBody: {
          required: false,
          content: { 'application/json': { schema: Type.Object({ channel: Type.Optional(Type.String({ minLength: 1 })), dryRun: Type.Optional(Type.Boolean()) }, { additionalProperties: false }) } },
        },
        responses: {
          '200': json(Report, 'What was found, and done (or would be, in a dry run).'),
          '404': err('No such channel.'),
          '409': err('No channel is connected, or the channel’s platform has no connector yet.'),
          ...adminErrors,
        },
      },
      handle: async (ctx, req, res) => {
        const b = (req.body ?? {}) as { channel?: string; dryRun?: boolean };
        if (!ctx.reconcile || !ctx.channels || ctx.channels.all().length === 0) throw new AppError(409, 'no_channels', 'No channel is connected: there is nothing to reconcile.');
        if (b.channel !== undefined) connected(ctx, b.channel);
        res.json(await ctx.reconcile({ channelId: b.channel, dryRun: b.dryRun ?? false }));
      },
    },
  ],
};
