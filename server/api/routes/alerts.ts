/** Alerts the hub raised (low stock, failing channels, stalled feeds, reorder…), newest first. */
import { Type } from '@sinclair/typebox';
import { cursorOf, nextCursor, pageLimit } from '../http';
import type { Resource } from '../route';
import { Nullable, Page, Timestamp, admin, adminErrors, cursor, json, limit } from '../schemas';

const AlertView = Type.Object(
  {
    id: Type.Integer(),
    kind: Type.String(),
    severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
    sku: Nullable(Type.String()),
    locationId: Nullable(Type.String()),
    channelId: Nullable(Type.String({ description: 'The channel an alert is about as a whole (failing, suspended); null for stock alerts.' })),
    message: Type.String(),
    status: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
    openedAt: Timestamp,
    resolvedAt: Nullable(Timestamp),
  },
  { title: 'Alert' },
);

export const alerts: Resource = {
  name: 'alerts',
  schemas: { Alert: AlertView },
  routes: [
    {
      method: 'get',
      path: '/v1/alerts',
      doc: {
        summary: 'Alerts, newest first.',
        operationId: 'listAlerts',
        security: admin,
        parameters: [limit, cursor, { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['open', 'resolved'] } }],
        responses: { '200': json(Page('alerts', Type.Ref('Alert')), 'A page of alerts.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        const n = pageLimit(req);
        const rows = await ctx.store.alerts.list({ limit: n, cursor: cursorOf(req), status: req.query.status as 'open' | 'resolved' | undefined });
        res.json({ alerts: rows, nextCursor: nextCursor(rows, n, (a) => a.id) });
      },
    },
  ],
};
