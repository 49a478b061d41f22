/**
 * The merged transaction log of every channel's orders, its export for the accounts, and the audit
 * export (docs/orders.md). Reads only: orders are booked from the channels' events.
 */
import { auditExport, expandOrders, orderPage, transactionExport } from '../../reports/reports';
import { AppError } from '../errors';
import { cursorOf, pageLimit } from '../http';
import { getRoute, type Resource } from '../route';
import { admin, adminErrors, cursor, limit } from '../schemas';
import { csvOrJson, dateQuery, instant, numericCursor, ok, q, stream, until } from './order-desk';

const range = [dateQuery('from', false, 'Start (YYYY-MM-DD or ISO time), included.'), dateQuery('to', false, 'End; a date includes that whole day.')];
const contentType = (format: 'csv' | 'json') => (format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8');

export const orders: Resource = {
  name: 'orders',
  routes: [
    {
      method: 'get',
      path: '/v1/orders',
      doc: {
        summary: 'The merged transaction log: orders from every channel with their lines, steps (placed, paid, refunds, returns, cancellation) and the movements they caused; newest first.',
        operationId: 'listOrders',
        security: admin,
        parameters: [
          limit,
          cursor,
          ...range,
          { name: 'channel', in: 'query', required: false, schema: { type: 'string', maxLength: 120 } },
          { name: 'sku', in: 'query', required: false, schema: { type: 'string', maxLength: 120 } },
          { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['open', 'partially_refunded', 'refunded', 'cancelled'] } },
          { name: 'payment', in: 'query', required: false, schema: { type: 'string', maxLength: 40 } },
        ],
        responses: { '200': ok('OrderPage', 'A page of orders; amounts are integers in minor units of `currency`.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        res.json(
          await orderPage(ctx.store, {
            limit: pageLimit(req),
            cursor: numericCursor(cursorOf(req)),
            from: instant(q(req, 'from'), 'from'),
            to: until(q(req, 'to')),
            channelId: q(req, 'channel'),
            sku: q(req, 'sku'),
            status: q(req, 'status'),
            paymentStatus: q(req, 'payment'),
          }),
        );
      },
    },
    {
      method: 'get',
      path: '/v1/orders/export',
      doc: {
        summary: 'Every order step in a period, oldest first, as CSV (default) or JSON, for the accounts (docs/orders.md).',
        operationId: 'exportOrders',
        security: admin,
        parameters: [...range, { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['csv', 'json'] } }],
        responses: { '200': csvOrJson('The export.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        const format = q(req, 'format') === 'json' ? 'json' : 'csv';
        const period = { from: instant(q(req, 'from'), 'from'), to: until(q(req, 'to')) };
        res.status(200);
        res.setHeader('Content-Type', contentType(format));
        res.setHeader('Content-Disposition', `attachment; filename="transactions-${(period.from ?? 'start').slice(0, 10)}-${(period.to ?? 'now').slice(0, 10)}.${format}"`);
        await stream(res, transactionExport(ctx.store, period, format));
      },
    },
    getRoute({
      path: '/v1/orders/{id}',
      summary: 'One order of the transaction log.',
      operationId: 'getOrder',
      param: { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } },
      found: ok('Order', 'The order.'),
      missing: 'No such order.',
      get: (ctx, id) => ctx.store.orders.get(Number(id)),
      unknown: (id) => ['unknown_order', `There is no order ${id} in the transaction log.`],
      show: async (ctx, order) => (await expandOrders(ctx.store, [order]))[0],
    }),
    {
      method: 'get',
      path: '/v1/audit',
      doc: {
        summary: 'Audit export: opening levels, every movement in the period with the inbound event that caused it, closing levels (docs/orders.md).',
        operationId: 'auditExport',
        security: admin,
        parameters: [
          dateQuery('from', true, 'Start (YYYY-MM-DD or ISO time), included.'),
          dateQuery('to', true, 'End; a date includes that whole day.'),
          { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['json', 'csv'] } },
          { name: 'bodies', in: 'query', required: false, description: 'JSON only: include each event’s raw body as received.', schema: { type: 'string', enum: ['true', 'false'] } },
        ],
        responses: { '200': csvOrJson('The audit export.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        const from = instant(q(req, 'from'), 'from');
        const to = until(q(req, 'to'));
        if (!from || !to) throw new AppError(400, 'range_required', 'Give the period to audit: from and to (YYYY-MM-DD or ISO 8601 times).');
        if (from >= to) throw new AppError(400, 'bad_range', '"from" must be before "to".');
        const format = q(req, 'format') === 'csv' ? 'csv' : 'json';
        res.status(200);
        res.setHeader('Content-Type', contentType(format));
        res.setHeader('Content-Disposition', `attachment; filename="audit-${from.slice(0, 10)}-${to.slice(0, 10)}.${format}"`);
        await stream(res, auditExport(ctx.store, { from, to }, format, q(req, 'bodies') === 'true'));
      },
    },
  ],
};
