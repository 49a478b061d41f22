/** Alerts the hub raised (low stock, failing channels, stalled feeds, reorder…), newest first. */
import { Type } from '@sinclair/typebox';
import { listRoute, type Resource } from '../route';
import { Nullable, Page, Timestamp, json } from '../schemas';

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
    listRoute({
      path: '/v1/alerts',
      summary: 'Alerts, newest first.',
      operationId: 'listAlerts',
      filters: [{ name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['open', 'resolved'] } }],
      page: json(Page('alerts', Type.Ref('Alert')), 'A page of alerts.'),
      name: 'alerts',
      rows: (ctx, req, page) => ctx.store.alerts.list({ ...page, status: req.query.status as 'open' | 'resolved' | undefined }),
      key: (a) => a.id,
    }),
  ],
};
