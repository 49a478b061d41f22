/**
 * Purchase orders from customers (docs/orders.md): matched against available stock by the policy
 * (approve and reserve, reject, or waitlist), cancelled, and fulfilled when the goods ship.
 */
import { Type } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import { PurchaseOrderFields } from '../../shared/relay';
import { viewOf } from '../../purchase-orders/desk';
import type { ApiContext } from '../context';
import { AppError } from '../errors';
import { getRoute, listRoute, type Resource } from '../route';
import { admin, adminErrors, err, idempotencyKey, jsonBody } from '../schemas';
import { checkLines, digest, firstProblem, numberParam, numericCursor, ok, q, submitDesk } from './order-desk';

const PurchaseOrderRequest = Type.Object(PurchaseOrderFields, { additionalProperties: false, title: 'PurchaseOrderRequest', description: 'A purchase order from a customer.' });

const poView = async (ctx: ApiContext, number: string) => {
  const po = await ctx.store.purchaseOrders.get(number);
  return po ? viewOf(po) : null;
};

async function submitPurchaseOrder(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const b = req.body as { number: string; customer: string; lines: { line?: number; sku: string; quantity: number; location?: string }[]; neededBy?: string; note?: string; actor?: string };
  const body = { ...b, origin: 'api', submittedAt: ctx.clock().toISOString() };
  const existing = await poView(ctx, b.number);
  if (existing) {
    throw new AppError(409, 'duplicate_po_number', `Purchase order ${b.number} already exists (${existing.status}, from ${existing.customer}); nothing was reserved. Give a new order a new number.`);
  }
  await checkLines(ctx, b.lines, 'nothing was stored or reserved');
  const { eventId, entry, outcome } = await submitDesk(ctx, req, 'purchase_order', `po:${b.number}:${digest(b)}`, body);
  const po = await poView(ctx, b.number);
  if (!entry) return void res.status(202).json({ eventId, purchaseOrder: po, message: 'Stored; it will be matched against stock in a moment.' });
  if (!po) throw new AppError(422, 'not_accepted', firstProblem(outcome) ?? 'The purchase order was not accepted; nothing was reserved.');
  res.status(201).json({ eventId, purchaseOrder: po, message: outcome?.results[0]?.message ?? po.status });
}

async function cancel(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const number = String(req.params.number);
  const b = (req.body ?? {}) as { reason?: string; actor?: string };
  const before = await poView(ctx, number);
  if (!before) throw new AppError(404, 'unknown_po', `There is no purchase order ${number}; nothing was cancelled.`);
  if (before.status === 'cancelled') throw new AppError(409, 'already_cancelled', `Purchase order ${number} was already cancelled (${before.reason ?? 'no reason given'}); nothing more was released.`);
  if (before.status === 'fulfilled' || before.status === 'rejected') throw new AppError(409, 'cannot_cancel', `Purchase order ${number} is ${before.status}, so it cannot be cancelled; nothing was changed.`);
  const { eventId, entry, outcome } = await submitDesk(ctx, req, 'purchase_order_cancel', `po-cancel:${number}`, { number, ...b, origin: 'api' });
  const po = await poView(ctx, number);
  if (!entry) return void res.status(202).json({ eventId, purchaseOrder: po, message: 'Stored; it will be cancelled in a moment.' });
  if (po?.status !== 'cancelled') throw new AppError(409, 'cannot_cancel', firstProblem(outcome) ?? `Purchase order ${number} could not be cancelled.`);
  res.json({ eventId, purchaseOrder: po, message: outcome?.results[0]?.message ?? 'Cancelled.' });
}

async function fulfil(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const number = String(req.params.number);
  const b = (req.body ?? {}) as { actor?: string };
  const before = await poView(ctx, number);
  if (!before) throw new AppError(404, 'unknown_po', `There is no purchase order ${number}; nothing was shipped.`);
  if (!before.lines.some((l) => l.reserved > 0)) throw new AppError(409, 'nothing_reserved', `Purchase order ${number} is ${before.status} and has nothing reserved to ship; nothing was booked.`);
  const key = req.get('idempotency-key') ?? `${before.lines.map((l) => l.fulfilled).join('.')}`;
  const { eventId, entry, outcome } = await submitDesk(ctx, req, 'purchase_order_fulfil', `po-fulfil:${number}:${key}`, { number, ...b, origin: 'api' });
  const po = await poView(ctx, number);
  if (!entry) return void res.status(202).json({ eventId, purchaseOrder: po, message: 'Stored; it will be booked in a moment.' });
  const problem = firstProblem(outcome);
  if (problem) throw new AppError(409, 'not_shipped', problem);
  res.json({ eventId, purchaseOrder: po, message: `Shipped: ${(outcome?.results ?? []).filter((r) => r.result === 'booked').length / 2} line(s) booked as sales.` });
}

export const purchaseOrders: Resource = {
  name: 'purchase-orders',
  schemas: { PurchaseOrderRequest },
  routes: [
    {
      method: 'post',
      path: '/v1/purchase-orders',
      doc: {
        summary: 'A purchase order from a customer: matched against available stock by your policy (approve and reserve, reject, or waitlist).',
        operationId: 'submitPurchaseOrder',
        security: admin,
        requestBody: jsonBody(Type.Ref('PurchaseOrderRequest')),
        responses: {
          '201': ok('PurchaseOrderAnswer', 'Stored and matched; see its status.'),
          '202': ok('PurchaseOrderAccepted', 'Stored; matched in a moment.'),
          '409': err('A purchase order with this number exists.'),
          '422': err('An unknown SKU or location: nothing stored.'),
          ...adminErrors,
        },
      },
      handle: submitPurchaseOrder,
    },
    listRoute({
      path: '/v1/purchase-orders',
      summary: 'Purchase orders, newest first.',
      operationId: 'listPurchaseOrders',
      filters: [{ name: 'status', in: 'query', required: false, schema: { type: 'string', maxLength: 40 } }, { name: 'customer', in: 'query', required: false, schema: { type: 'string', maxLength: 200 } }],
      page: ok('PurchaseOrderPage', 'A page of purchase orders.'),
      name: 'purchaseOrders',
      rows: (ctx, req, page) => ctx.store.purchaseOrders.list({ limit: page.limit, cursor: numericCursor(page.cursor), status: q(req, 'status'), customer: q(req, 'customer') }),
      key: (r) => r.id,
      show: (_ctx, rows) => rows.map(viewOf),
    }),
    getRoute({
      path: '/v1/purchase-orders/{number}',
      summary: 'One purchase order.',
      operationId: 'getPurchaseOrder',
      param: numberParam,
      found: ok('PurchaseOrder', 'The purchase order.'),
      missing: 'No such purchase order.',
      get: poView,
      unknown: (number) => ['unknown_po', `There is no purchase order ${number}.`],
    }),
    {
      method: 'post',
      path: '/v1/purchase-orders/{number}/cancel',
      doc: {
        summary: 'Cancel a purchase order: what it reserved is released, and waiting orders are served from it.',
        operationId: 'cancelPurchaseOrder',
        security: admin,
        parameters: [numberParam],
        requestBody: jsonBody(Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1000 })), actor: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }), false),
        responses: { '200': ok('PurchaseOrderCancelled', 'Cancelled.'), '202': ok('PurchaseOrderCancelAccepted', 'Stored.'), '404': err('No such purchase order.'), '409': err('Already cancelled, fulfilled or rejected.'), ...adminErrors },
      },
      handle: cancel,
    },
    {
      method: 'post',
      path: '/v1/purchase-orders/{number}/fulfil',
      doc: {
        summary: 'The reserved goods of a purchase order shipped: the reservations become sales.',
        operationId: 'fulfilPurchaseOrder',
        security: admin,
        parameters: [numberParam, idempotencyKey],
        requestBody: jsonBody(Type.Object({ actor: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }), false),
        responses: { '200': ok('PurchaseOrderShipped', 'Shipped.'), '202': ok('PurchaseOrderShipAccepted', 'Stored.'), '404': err('No such purchase order.'), '409': err('Nothing reserved to ship.'), ...adminErrors },
      },
      handle: fulfil,
    },
  ],
};
