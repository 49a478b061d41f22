/**
 * The OpenAPI paths of the order desks, reports and exports (server/api/order-routes.ts,
 * docs/orders.md). Merged into the hub's document by server/api/openapi.ts.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { PurchaseOrderFields } from '../shared/relay';
import { MAX_QUANTITY, MAX_QUANTITY_TEXT } from '../shared/quantity';

export interface DocHelpers {
  json(schema: TSchema, description: string): unknown;
  err(description: string): unknown;
  limit: unknown;
  cursor: unknown;
  admin: unknown;
  adminErrors: Record<string, unknown>;
  idempotencyKey: unknown;
}

const Sku = Type.String({ minLength: 1, maxLength: 120 });
const Location = Type.String({ minLength: 1, maxLength: 120 });
const DateOnly = Type.String({ format: 'date' });
const Units = Type.Integer({ minimum: 1, maximum: MAX_QUANTITY, description: `Units: a whole number from 1 to ${MAX_QUANTITY_TEXT}.` });
const Any = (title: string, description: string) => Type.Object({}, { additionalProperties: true, title, description });

export const PurchaseOrderRequest = Type.Object(PurchaseOrderFields, { additionalProperties: false, title: 'PurchaseOrderRequest', description: 'A purchase order from a customer.' });

export const SupplierOrderRequest = Type.Object(
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

export const ReceiptRequest = Type.Object(
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

export const SupplierStatusRequest = Type.Object(
  {
    status: Type.Union([Type.Literal('open'), Type.Literal('delayed'), Type.Literal('backordered'), Type.Literal('cancelled')]),
    expectedAt: Type.Optional(DateOnly),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  { additionalProperties: false, title: 'SupplierStatusRequest' },
);

const numberParam = { name: 'number', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 60 } };
const dateQuery = (name: string, required: boolean, description: string) => ({ name, in: 'query', required, description, schema: { type: 'string', minLength: 10, maxLength: 40 } });

export function orderPaths(h: DocHelpers): Record<string, unknown> {
  const ok = (title: string, description: string) => h.json(Any(title, description), description);
  const csvOrJson = (description: string) => ({ description, content: { 'text/csv': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } } });
  const range = [dateQuery('from', false, 'Start (YYYY-MM-DD or ISO time), included.'), dateQuery('to', false, 'End; a date includes that whole day.')];
  return {
    '/v1/orders': {
      get: {
        summary: 'The merged transaction log: orders from every channel with their lines, steps (placed, paid, refunds, returns, cancellation) and the movements they caused; newest first.',
        operationId: 'listOrders',
        security: h.admin,
        parameters: [
          h.limit,
          h.cursor,
          ...range,
          { name: 'channel', in: 'query', required: false, schema: { type: 'string', maxLength: 120 } },
          { name: 'sku', in: 'query', required: false, schema: { type: 'string', maxLength: 120 } },
          { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['open', 'partially_refunded', 'refunded', 'cancelled'] } },
          { name: 'payment', in: 'query', required: false, schema: { type: 'string', maxLength: 40 } },
        ],
        responses: { '200': ok('OrderPage', 'A page of orders; amounts are integers in minor units of `currency`.'), ...h.adminErrors },
      },
    },
    '/v1/orders/export': {
      get: {
        summary: 'Every order step in a period, oldest first, as CSV (default) or JSON, for the accounts (docs/orders.md).',
        operationId: 'exportOrders',
        security: h.admin,
        parameters: [...range, { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['csv', 'json'] } }],
        responses: { '200': csvOrJson('The export.'), ...h.adminErrors },
      },
    },
    '/v1/orders/{id}': {
      get: {
        summary: 'One order of the transaction log.',
        operationId: 'getOrder',
        security: h.admin,
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
        responses: { '200': ok('Order', 'The order.'), '404': h.err('No such order.'), ...h.adminErrors },
      },
    },
    '/v1/audit': {
      get: {
        summary: 'Audit export: opening levels, every movement in the period with the inbound event that caused it, closing levels (docs/orders.md).',
        operationId: 'auditExport',
        security: h.admin,
        parameters: [
          dateQuery('from', true, 'Start (YYYY-MM-DD or ISO time), included.'),
          dateQuery('to', true, 'End; a date includes that whole day.'),
          { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['json', 'csv'] } },
          { name: 'bodies', in: 'query', required: false, description: 'JSON only: include each event’s raw body as received.', schema: { type: 'string', enum: ['true', 'false'] } },
        ],
        responses: { '200': csvOrJson('The audit export.'), ...h.adminErrors },
      },
    },
    '/v1/purchase-orders': {
      post: {
        summary: 'A purchase order from a customer: matched against available stock by your policy (approve and reserve, reject, or waitlist).',
        operationId: 'submitPurchaseOrder',
        security: h.admin,
        requestBody: { required: true, content: { 'application/json': { schema: Type.Ref('PurchaseOrderRequest') } } },
        responses: {
          '201': ok('PurchaseOrderAnswer', 'Stored and matched; see its status.'),
          '202': ok('PurchaseOrderAccepted', 'Stored; matched in a moment.'),
          '409': h.err('A purchase order with this number exists.'),
          '422': h.err('An unknown SKU or location: nothing stored.'),
          ...h.adminErrors,
        },
      },
      get: {
        summary: 'Purchase orders, newest first.',
        operationId: 'listPurchaseOrders',
        security: h.admin,
        parameters: [h.limit, h.cursor, { name: 'status', in: 'query', required: false, schema: { type: 'string', maxLength: 40 } }, { name: 'customer', in: 'query', required: false, schema: { type: 'string', maxLength: 200 } }],
        responses: { '200': ok('PurchaseOrderPage', 'A page of purchase orders.'), ...h.adminErrors },
      },
    },
    '/v1/purchase-orders/{number}': {
      get: { summary: 'One purchase order.', operationId: 'getPurchaseOrder', security: h.admin, parameters: [numberParam], responses: { '200': ok('PurchaseOrder', 'The purchase order.'), '404': h.err('No such purchase order.'), ...h.adminErrors } },
    },
    '/v1/purchase-orders/{number}/cancel': {
      post: {
        summary: 'Cancel a purchase order: what it reserved is released, and waiting orders are served from it.',
        operationId: 'cancelPurchaseOrder',
        security: h.admin,
        parameters: [numberParam],
        requestBody: { required: false, content: { 'application/json': { schema: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1000 })), actor: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }) } } },
        responses: { '200': ok('PurchaseOrderCancelled', 'Cancelled.'), '202': ok('PurchaseOrderCancelAccepted', 'Stored.'), '404': h.err('No such purchase order.'), '409': h.err('Already cancelled, fulfilled or rejected.'), ...h.adminErrors },
      },
    },
    '/v1/purchase-orders/{number}/fulfil': {
      post: {
        summary: 'The reserved goods of a purchase order shipped: the reservations become sales.',
        operationId: 'fulfilPurchaseOrder',
        security: h.admin,
        parameters: [numberParam, h.idempotencyKey],
        requestBody: { required: false, content: { 'application/json': { schema: Type.Object({ actor: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }) } } },
        responses: { '200': ok('PurchaseOrderShipped', 'Shipped.'), '202': ok('PurchaseOrderShipAccepted', 'Stored.'), '404': h.err('No such purchase order.'), '409': h.err('Nothing reserved to ship.'), ...h.adminErrors },
      },
    },
    '/v1/supplier-orders': {
      post: {
        summary: 'A purchase order you sent a supplier: stock on its way in.',
        operationId: 'createSupplierOrder',
        security: h.admin,
        requestBody: { required: true, content: { 'application/json': { schema: Type.Ref('SupplierOrderRequest') } } },
        responses: { '201': ok('SupplierOrderAnswer', 'Added.'), '202': ok('SupplierOrderAccepted', 'Stored.'), '409': h.err('A supplier order with this number exists.'), '422': h.err('An unknown SKU or location: nothing stored.'), ...h.adminErrors },
      },
      get: {
        summary: 'Supplier orders, newest first.',
        operationId: 'listSupplierOrders',
        security: h.admin,
        parameters: [h.limit, h.cursor, { name: 'status', in: 'query', required: false, schema: { type: 'string', maxLength: 40 } }],
        responses: { '200': ok('SupplierOrderPage', 'A page of supplier orders.'), ...h.adminErrors },
      },
    },
    '/v1/supplier-orders/{number}': {
      get: { summary: 'One supplier order.', operationId: 'getSupplierOrder', security: h.admin, parameters: [numberParam], responses: { '200': ok('SupplierOrder', 'The supplier order.'), '404': h.err('No such supplier order.'), ...h.adminErrors } },
    },
    '/v1/supplier-orders/{number}/receipts': {
      post: {
        summary: 'Goods of a supplier order arrived: booked as receipts, once per receipt id.',
        operationId: 'receiveSupplierOrder',
        security: h.admin,
        parameters: [numberParam],
        requestBody: { required: true, content: { 'application/json': { schema: Type.Ref('ReceiptRequest') } } },
        responses: { '200': ok('ReceiptAnswer', 'Received.'), '202': ok('ReceiptAccepted', 'Stored.'), '404': h.err('No such supplier order.'), '422': h.err('A line the order does not have.'), ...h.adminErrors },
      },
    },
    '/v1/supplier-orders/{number}/status': {
      post: {
        summary: 'The supplier says the order is delayed, backordered, back on track or cancelled; a new expected date may come with it.',
        operationId: 'updateSupplierOrder',
        security: h.admin,
        parameters: [numberParam, h.idempotencyKey],
        requestBody: { required: true, content: { 'application/json': { schema: Type.Ref('SupplierStatusRequest') } } },
        responses: { '200': ok('SupplierStatusAnswer', 'Updated.'), '202': ok('SupplierStatusAccepted', 'Stored.'), '404': h.err('No such supplier order.'), '409': h.err('Already received or cancelled.'), ...h.adminErrors },
      },
    },
    '/v1/reports/sales': {
      get: {
        summary: 'Sales by day, channel and SKU, returns rate and sell-through for a period.',
        operationId: 'salesReport',
        security: h.admin,
        parameters: [dateQuery('from', true, 'First day (YYYY-MM-DD).'), dateQuery('to', true, 'Last day, included (YYYY-MM-DD).')],
        responses: { '200': ok('SalesReport', 'The report; money in minor units per currency.'), ...h.adminErrors },
      },
    },
    '/v1/reports/dashboard': {
      get: {
        summary: 'The last days at a glance, for the sheet’s Dashboard tab.',
        operationId: 'dashboard',
        security: h.admin,
        parameters: [{ name: 'days', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 366, default: 7 } }],
        responses: { '200': ok('Dashboard', 'The dashboard figures.'), ...h.adminErrors },
      },
    },
    '/v1/reorder': {
      get: { summary: 'Reorder suggestions for every item: sales rate, reorder point, suggested quantity and days of cover.', operationId: 'reorder', security: h.admin, responses: { '200': ok('ReorderReport', 'The suggestions, those to order now first.'), ...h.adminErrors } },
    },
    '/v1/reorder/check': {
      post: { summary: 'Check days of cover against lead times now and raise reorder alerts.', operationId: 'checkReorder', security: h.admin, responses: { '200': ok('ReorderCheck', 'How many alerts were opened.'), ...h.adminErrors } },
    },
    '/v1/items/{sku}/reorder': {
      put: {
        summary: 'An item’s lead time and safety stock (null: the config’s default).',
        operationId: 'setReorderSettings',
        security: h.admin,
        parameters: [{ name: 'sku', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 120 } }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: Type.Object(
                { leadTimeDays: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 365 }), Type.Null()])), safetyStock: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: MAX_QUANTITY }), Type.Null()])) },
                { additionalProperties: false },
              ),
            },
          },
        },
        responses: { '200': ok('ReorderSettings', 'Saved.'), '404': h.err('No such item.'), ...h.adminErrors },
      },
    },
  };
}
