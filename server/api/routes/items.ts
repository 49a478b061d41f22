/**
 * The catalog: items with their levels per location and per channel, their movements, and the
 * writes on them (add or change an item, adjust, count), which are booked through the inbox.
 */
import { Type } from '@sinclair/typebox';
import type { Request } from 'express';
import { REASONS, SOURCES } from '../../core/ledger';
import { ADJUSTMENT_REASONS, type Relay as RelayBody } from '../../shared/relay';
import { MAX_QUANTITY, MAX_QUANTITY_TEXT } from '../../shared/quantity';
import { locationLevelView } from '../../core/views';
import type { ItemRecord } from '../../store/types';
import { submit } from '../booking';
import type { ApiContext } from '../context';
import { AppError } from '../errors';
import { cursorOf, nextCursor, pageLimit } from '../http';
import { getRoute, listRoute, type Resource, type Route } from '../route';
import { Accepted, Nullable, Page, Timestamp, admin, adminErrors, err, idempotencyKey, json, cursor, limit, skuParam, jsonBody } from '../schemas';

const ChannelLevel = Type.Object({
  channelId: Type.String(),
  channelName: Type.String(),
  platform: Type.String(),
  channelLocationId: Type.String(),
  published: Type.Integer({ minimum: 0 }),
});

const LocationLevel = Type.Object({
  locationId: Type.String(),
  onHand: Type.Integer(),
  reserved: Type.Integer(),
  available: Type.Integer(),
  channels: Type.Array(ChannelLevel),
});

const ItemView = Type.Object(
  {
    sku: Type.String(),
    title: Nullable(Type.String()),
    lowStockThreshold: Nullable(Type.Integer()),
    status: Type.Union([Type.Literal('active'), Type.Literal('archived')]),
    onHand: Type.Integer({ description: 'Sum over locations.' }),
    available: Type.Integer({ description: 'Sum over locations.' }),
    locations: Type.Array(LocationLevel),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    archivedAt: Nullable(Timestamp),
  },
  { title: 'Item' },
);

const MovementView = Type.Object(
  {
    id: Type.Integer(),
    sku: Type.String(),
    locationId: Type.String(),
    quantity: Type.Integer(),
    reason: Type.Union(REASONS.map((r) => Type.Literal(r))),
    source: Type.Union(SOURCES.map((s) => Type.Literal(s))),
    countedQuantity: Nullable(Type.Integer()),
    channelId: Nullable(Type.String()),
    externalRef: Nullable(Type.String()),
    actor: Nullable(Type.String()),
    note: Nullable(Type.String()),
    eventId: Nullable(Type.Integer()),
    idempotencyKey: Type.String(),
    occurredAt: Timestamp,
    recordedAt: Timestamp,
  },
  { title: 'Movement' },
);

const AdjustmentRequest = Type.Object(
  {
    location: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    quantity: Type.Integer({ not: { const: 0 }, minimum: -MAX_QUANTITY, maximum: MAX_QUANTITY, description: `Units added (positive) or removed (negative); at most ${MAX_QUANTITY_TEXT} either way.` }),
    reason: Type.Union(ADJUSTMENT_REASONS.map((r) => Type.Literal(r))),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
    actor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false, title: 'AdjustmentRequest' },
);

const CountRequest = Type.Object(
  {
    location: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    counted: Type.Integer({ minimum: 0, maximum: MAX_QUANTITY, description: `Units physically counted, 0 to ${MAX_QUANTITY_TEXT}.` }),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
    actor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false, title: 'CountRequest' },
);

const ItemUpdate = Type.Object(
  {
    title: Type.Optional(Type.String({ maxLength: 500 })),
    lowStockThreshold: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_QUANTITY })),
  },
  { additionalProperties: false, title: 'ItemUpdate' },
);

/** Items as the API shows them: every configured location, with what each channel was last told. */
export async function itemViews(ctx: Pick<ApiContext, 'store' | 'config'>, items: ItemRecord[]) {
  const levels = await ctx.store.ledger.levelsFor(items.map((i) => i.sku));
  return items.map((item) => {
    const mine = levels.filter((l) => l.sku === item.sku);
    const locationIds = [...new Set([...ctx.config.locations.map((l) => l.id), ...mine.map((l) => l.locationId)])];
    const locations = locationIds.map((loc) => {
      const l = mine.find((m) => m.locationId === loc) ?? { onHand: 0, reserved: 0 };
      return locationLevelView(loc, l, ctx.config.channels);
    });
    return {
      sku: item.sku,
      title: item.title,
      lowStockThreshold: item.lowStockThreshold,
      status: item.status,
      onHand: locations.reduce((s, l) => s + l.onHand, 0),
      available: locations.reduce((s, l) => s + l.available, 0),
      locations,
      createdAt: item.createdAt,
      updatedAt: item.updatedAt,
      archivedAt: item.archivedAt,
    };
  });
}

const sku = (req: Request) => String(req.params.sku);
const unknownSku = (sku: string): [string, string] => ['unknown_sku', `SKU "${sku}" is not in the catalog.`];
/** A write on an item, booked like a relay: 200 once booked, 202 while it still waits. */
const booked = (description: string) => ({ '200': json(Accepted, description), '202': json(Accepted, 'Stored; still being booked.') });
const keyReused = { '409': err('This Idempotency-Key was used for a different request.') };

/**
 * A write on one item (at /v1/items/{sku} and `below`), its body the named schema: stored and booked
 * like a relay (`relay` builds it from the SKU, the body and the time now); `responses` as `booked` says.
 */
function itemWrite<B>(method: 'put' | 'post', below: string, summary: string, operationId: string, body: string, responses: object, relay: (sku: string, b: B, occurredAt: string) => RelayBody): Route {
  return {
    method,
    path: `/v1/items/{sku}${below}`,
    doc: { summary, operationId, security: admin, parameters: [skuParam, idempotencyKey], requestBody: jsonBody(Type.Ref(body)), responses: { ...responses, ...adminErrors } },
    handle: (ctx, req, res) => submit(ctx, req, res, relay(sku(req), req.body as B, ctx.clock().toISOString())),
  };
}

export const items: Resource = {
  name: 'items',
  schemas: { Item: ItemView, Movement: MovementView, AdjustmentRequest, CountRequest, ItemUpdate },
  routes: [
    listRoute({
      path: '/v1/items',
      summary: 'Items with their levels per location and the published level on each channel.',
      operationId: 'listItems',
      filters: [{ name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['active', 'archived'] } }],
      page: json(Page('items', Type.Ref('Item')), 'A page of items, by SKU.'),
      name: 'items',
      rows: (ctx, req, page) => ctx.store.items.list({ ...page, status: req.query.status as 'active' | 'archived' | undefined }),
      key: (i) => i.sku,
      show: itemViews,
    }),
    getRoute({
      path: '/v1/items/{sku}',
      summary: 'One item.',
      operationId: 'getItem',
      param: skuParam,
      found: json(Type.Ref('Item'), 'The item.'),
      missing: 'No such SKU.',
      get: (ctx, sku) => ctx.store.items.get(sku),
      unknown: unknownSku,
      show: async (ctx, item) => (await itemViews(ctx, [item]))[0],
    }),
    {
      method: 'get',
      path: '/v1/items/{sku}/movements',
      doc: {
        summary: 'An item’s movements, newest first.',
        operationId: 'listMovements',
        security: admin,
        parameters: [skuParam, limit, cursor],
        responses: { '200': json(Page('movements', Type.Ref('Movement')), 'A page of movements.'), '404': err('No such SKU.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        if (!(await ctx.store.items.get(sku(req)))) throw new AppError(404, ...unknownSku(sku(req)));
        const n = pageLimit(req);
        const rows = await ctx.store.ledger.listMovements(sku(req), { limit: n, cursor: cursorOf(req) });
        res.json({ movements: rows, nextCursor: nextCursor(rows, n, (m) => m.id) });
      },
    },
    itemWrite('put', '', 'Add an item to the catalog, or change its title or low-stock threshold.', 'putItem', 'ItemUpdate', booked('Booked.'), (sku, b: { title?: string; lowStockThreshold?: number }, occurredAt) => ({ kind: 'catalog_changed', added: [{ sku, ...b }], removed: [], occurredAt })),
    itemWrite('post', '/adjustments', 'Add or remove stock with a reason.', 'adjust', 'AdjustmentRequest', { ...booked('Processed (see status and results).'), ...keyReused }, (sku, b: { location?: string; quantity: number; reason: (typeof ADJUSTMENT_REASONS)[number]; note?: string; actor?: string }, occurredAt) => ({ kind: 'adjustment', sku, ...b, occurredAt })),
    itemWrite('post', '/counts', 'Record a stock count; the difference from on-hand is booked.', 'count', 'CountRequest', { ...booked('Processed (see status and results).'), ...keyReused }, (sku, b: { location?: string; counted: number; note?: string; actor?: string }, occurredAt) => ({ kind: 'count', sku, ...b, occurredAt })),
  ],
};
