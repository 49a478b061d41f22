/** Sales reports, the dashboard, and reorder suggestions with each item's lead time and safety stock (docs/orders.md). */
import { Type } from '@sinclair/typebox';
import { MAX_QUANTITY } from '../../shared/quantity';
import { checkReorder, dashboard, reorderReport, salesReport } from '../../reports/reports';
import { AppError } from '../errors';
import type { Resource } from '../route';
import { admin, adminErrors, err, jsonBody } from '../schemas';
import { dateQuery, instant, ok, orderConfig, q, until } from './order-desk';

const ReorderSettings = Type.Object(
  { leadTimeDays: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 365 }), Type.Null()])), safetyStock: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: MAX_QUANTITY }), Type.Null()])) },
  { additionalProperties: false },
);

export const reports: Resource = {
  name: 'reports',
  routes: [
    {
      method: 'get',
      path: '/v1/reports/sales',
      doc: {
        summary: 'Sales by day, channel and SKU, returns rate and sell-through for a period.',
        operationId: 'salesReport',
        security: admin,
        parameters: [dateQuery('from', true, 'First day (YYYY-MM-DD).'), dateQuery('to', true, 'Last day, included (YYYY-MM-DD).')],
        responses: { '200': ok('SalesReport', 'The report; money in minor units per currency.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        const from = instant(q(req, 'from'), 'from');
        const to = until(q(req, 'to'));
        if (!from || !to) throw new AppError(400, 'range_required', 'Give the period: from and to (YYYY-MM-DD).');
        if (from >= to) throw new AppError(400, 'bad_range', '"from" must be before "to".');
        res.json(await salesReport(ctx.store, orderConfig(ctx), from, to));
      },
    },
    {
      method: 'get',
      path: '/v1/reports/dashboard',
      doc: {
        summary: 'The last days at a glance, for the sheet’s Dashboard tab.',
        operationId: 'dashboard',
        security: admin,
        parameters: [{ name: 'days', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 366, default: 7 } }],
        responses: { '200': ok('Dashboard', 'The dashboard figures.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        res.json(await dashboard(ctx.store, orderConfig(ctx), ctx.clock(), Number(req.query.days ?? 7)));
      },
    },
    {
      method: 'get',
      path: '/v1/reorder',
      doc: { summary: 'Reorder suggestions for every item: sales rate, reorder point, suggested quantity and days of cover.', operationId: 'reorder', security: admin, responses: { '200': ok('ReorderReport', 'The suggestions, those to order now first.'), ...adminErrors } },
      handle: async (ctx, _req, res) => {
        res.json(await reorderReport(ctx.store, orderConfig(ctx), ctx.clock()));
      },
    },
    {
      method: 'post',
      path: '/v1/reorder/check',
      doc: { summary: 'Check days of cover against lead times now and raise reorder alerts.', operationId: 'checkReorder', security: admin, responses: { '200': ok('ReorderCheck', 'How many alerts were opened.'), ...adminErrors } },
      handle: async (ctx, _req, res) => {
        // The hub's one path for alerts (server/announce.ts): a reorder alert reaches the sheet, Airtable and the subscribers.
        const opened = await checkReorder(ctx.store, orderConfig(ctx), ctx.clock(), ctx.announcer);
        res.json({ opened, message: `${opened} new reorder alert${opened === 1 ? '' : 's'}.` });
      },
    },
    {
      method: 'put',
      path: '/v1/items/{sku}/reorder',
      doc: {
        summary: 'An item’s lead time and safety stock (null: the config’s default).',
        operationId: 'setReorderSettings',
        security: admin,
        parameters: [{ name: 'sku', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 120 } }],
        requestBody: jsonBody(ReorderSettings),
        responses: { '200': ok('ReorderSettings', 'Saved.'), '404': err('No such item.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        const sku = String(req.params.sku);
        const b = req.body as { leadTimeDays?: number | null; safetyStock?: number | null };
        const item = await ctx.store.items.get(sku);
        if (!item) throw new AppError(404, 'unknown_sku', `SKU "${sku}" is not in the catalog.`);
        await ctx.store.items.setReorderSettings(sku, b);
        const after = (await ctx.store.items.get(sku))!;
        res.json({ sku, leadTimeDays: after.leadTimeDays, safetyStock: after.safetyStock });
      },
    },
  ],
};
