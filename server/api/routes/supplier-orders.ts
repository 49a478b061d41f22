/**
 * Supplier orders (docs/orders.md): the purchase orders a supplier's own business sent its suppliers,
 * stock on its way in; their receipts are booked, their delays can hide or keep listings.
 */
import crypto from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import type { ApiContext } from '../context';
import { AppError } from '../errors';
import { getRoute, listRoute, type Resource } from '../route';
import { admin, adminErrors, err, idempotencyKey, jsonBody } from '../schemas';
import { DateOnly, Location, Sku, Units, checkLines, digest, firstProblem, numberParam, numericCursor, ok, q, submitDesk } from './order-desk';

const SupplierOrderRequest = Type.Object(
  {
    number: Type.String({ minLength: 1, maxLength: 60 }),
    supplier: Type.String({ minLength: 1, maxLength: 200 }),
    expectedAt: Type.Optional(DateOnly),
    onDelay: Type.Optional(Type.Union([Type.Literal('hide'), Type.Literal('keep_listed')], { description: 'What listings of its items do at zero while this order is late (default: the config’s).' })),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
    lines: Type.Array(
      Type.Object({ sku: Sku, quantity: Units, location: Type.Optional(Location), expectedAt: Type.Optional(DateOnly) }, { additionalProperties: false }),
      { minItems: 1, maxItems: 500 },
    ),
  },
  { additionalProperties: false, title: 'SupplierOrderRequest' },
);

const ReceiptRequest = Type.Object(
  {
    receiptId: Type.String({ minLength: 1, maxLength: 100, description: 'Your id for this delivery (the packing slip number): the same id again is booked once.' }),
    lines: Type.Array(
      Type.Object({ line: Type.Optional(Type.Integer({ minimum: 1 })), sku: Type.Optional(Sku), quantity: Units }, { additionalProperties: false }),
      { minItems: 1, maxItems: 500 },
    ),
    actor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false, title: 'ReceiptRequest' },
);

const SupplierStatusRequest = Type.Object(
  {
    status: Type.Union([Type.Literal('open'), Type.Literal('delayed'), Type.Literal('backordered'), Type.Literal('cancelled')]),
    expectedAt: Type.Optional(DateOnly),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false, title: 'SupplierStatusRequest' },
);

const supplierOrder = (ctx: ApiContext, number: string) => ctx.store.supplierOrders.get(number);

async function create(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const b = req.body as { number: string; supplier: string; lines: { sku: string; quantity: number; location?: string }[] };
  if (await supplierOrder(ctx, b.number)) throw new AppError(409, 'duplicate_supplier_order', `Supplier order ${b.number} already exists; nothing was added.`);
  await checkLines(ctx, b.lines, 'nothing was stored');
  const { eventId, entry, outcome } = await submitDesk(ctx, req, 'supplier_order', `supplier:${b.number}:${digest(b)}`, b);
  const order = await supplierOrder(ctx, b.number);
  if (!entry) return void res.status(202).json({ eventId, supplierOrder: order, message: 'Stored; it will be added in a moment.' });
  if (!order) throw new AppError(422, 'not_accepted', firstProblem(outcome) ?? 'The supplier order was not added.');
  res.status(201).json({ eventId, supplierOrder: order, message: outcome?.results[0]?.message ?? 'Added.' });
}

async function receive(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const number = String(req.params.number);
  const b = req.body as { receiptId: string; lines: { line?: number; sku?: string; quantity: number }[]; actor?: string };
  if (!(await supplierOrder(ctx, number))) throw new AppError(404, 'unknown_supplier_order', `There is no supplier order ${number}; nothing was received.`);
  const { eventId, entry, outcome } = await submitDesk(ctx, req, 'supplier_receipt', `receipt:${number}:${b.receiptId}`, { ...b, number, receivedAt: ctx.clock().toISOString(), origin: 'api' });
  const order = await supplierOrder(ctx, number);
  if (!entry) return void res.status(202).json({ eventId, supplierOrder: order, message: 'Stored; it will be booked in a moment.' });
  const problem = firstProblem(outcome);
  if (problem) throw new AppError(422, 'not_received', problem);
  res.json({ eventId, supplierOrder: order, results: outcome?.results ?? [], message: 'Received.' });
}

async function updateStatus(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const number = String(req.params.number);
  const b = req.body as { status: string; expectedAt?: string; reason?: string };
  if (!(await supplierOrder(ctx, number))) throw new AppError(404, 'unknown_supplier_order', `There is no supplier order ${number}; nothing was changed.`);
  const key = req.get('idempotency-key') ?? crypto.randomUUID();
  const { eventId, entry, outcome } = await submitDesk(ctx, req, 'supplier_status', `supplier-status:${number}:${key}`, { ...b, number });
  const order = await supplierOrder(ctx, number);
  if (!entry) return void res.status(202).json({ eventId, supplierOrder: order, message: 'Stored; it will be applied in a moment.' });
  const problem = firstProblem(outcome);
  if (problem) throw new AppError(409, 'not_changed', problem);
  res.json({ eventId, supplierOrder: order, message: outcome?.results[0]?.message ?? 'Updated.' });
}

export const supplierOrders: Resource = {
  name: 'supplier-orders',
  schemas: { SupplierOrderRequest, ReceiptRequest, SupplierStatusRequest },
  routes: [
    {
      method: 'post',
      path: '/v1/supplier-orders',
      doc: {
        summary: 'A purchase order you sent a supplier: stock on its way in.',
        operationId: 'createSupplierOrder',
        security: admin,
        requestBody: jsonBody(Type.Ref('SupplierOrderRequest')),
        responses: { '201': ok('SupplierOrderAnswer', 'Added.'), '202': ok('SupplierOrderAccepted', 'Stored.'), '409': err('A supplier order with this number exists.'), '422': err('An unknown SKU or location: nothing stored.'), ...adminErrors },
      },
      handle: create,
    },
    listRoute({
      path: '/v1/supplier-orders',
      summary: 'Supplier orders, newest first.',
      operationId: 'listSupplierOrders',
      filters: [{ name: 'status', in: 'query', required: false, schema: { type: 'string', maxLength: 40 } }],
      page: ok('SupplierOrderPage', 'A page of supplier orders.'),
      name: 'supplierOrders',
      rows: (ctx, req, page) => ctx.store.supplierOrders.list({ limit: page.limit, cursor: numericCursor(page.cursor), status: q(req, 'status') }),
      key: (r) => r.id,
    }),
    getRoute({
      path: '/v1/supplier-orders/{number}',
      summary: 'One supplier order.',
      operationId: 'getSupplierOrder',
      param: numberParam,
      found: ok('SupplierOrder', 'The supplier order.'),
      missing: 'No such supplier order.',
      get: supplierOrder,
      unknown: (number) => ['unknown_supplier_order', `There is no supplier order ${number}.`],
    }),
    {
      method: 'post',
      path: '/v1/supplier-orders/{number}/receipts',
      doc: {
        summary: 'Goods of a supplier order arrived: booked as receipts, once per receipt id.',
        operationId: 'receiveSupplierOrder',
        security: admin,
        parameters: [numberParam],
        requestBody: jsonBody(Type.Ref('ReceiptRequest')),
        responses: { '200': ok('ReceiptAnswer', 'Received.'), '202': ok('ReceiptAccepted', 'Stored.'), '404': err('No such supplier order.'), '422': err('A line the order does not have.'), ...adminErrors },
      },
      handle: receive,
    },
    {
      method: 'post',
      path: '/v1/supplier-orders/{number}/status',
      doc: {
        summary: 'The supplier says the order is delayed, backordered, back on track or cancelled; a new expected date may come with it.',
        operationId: 'updateSupplierOrder',
        security: admin,
        parameters: [numberParam, idempotencyKey],
        requestBody: jsonBody(Type.Ref('SupplierStatusRequest')),
        responses: { '200': ok('SupplierStatusAnswer', 'Updated.'), '202': ok('SupplierStatusAccepted', 'Stored.'), '404': err('No such supplier order.'), '409': err('Already received or cancelled.'), ...adminErrors },
      },
      handle: updateStatus,
    },
  ],
};
