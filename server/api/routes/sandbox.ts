/**
 * Sandbox mode only: drive the emulated channels running beside the hub (server/sandbox.ts). The app
 * mounts these routes, and the document lists them, only in sandbox mode; elsewhere they do not exist.
 */
import { Type } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import { MAX_QUANTITY } from '../../shared/quantity';
import { ownValue } from '../../core/keys';
import type { ApiContext, SandboxView } from '../context';
import { AppError } from '../errors';
import type { Resource } from '../route';
import { Nullable, admin, adminErrors, channelParam, err, json, skuParam, jsonBody } from '../schemas';
import { itemViews } from './items';

/** Mounted only with a sandbox: the context has one. */
const sandboxOf = (ctx: ApiContext): SandboxView => ctx.sandbox!;

const sandboxChannel = (ctx: ApiContext, id: string) => {
  const sandbox = sandboxOf(ctx);
  const ch = sandbox.channels.find((c) => c.config.id === id);
  if (!ch) throw new AppError(404, 'unknown_channel', `The sandbox has no channel "${id}"; it has ${sandbox.channels.map((c) => c.config.id).join(', ')}.`);
  return ch;
};

async function levels(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const sku = String(req.params.sku);
  const item = await ctx.store.items.get(sku);
  if (!item) throw new AppError(404, 'unknown_sku', `SKU "${sku}" is not in the catalog.`);
  const [view] = await itemViews(ctx, [item]);
  res.json({
    sku,
    hub: view!.locations.map((l) => ({ locationId: l.locationId, onHand: l.onHand, available: l.available })),
    channels: sandboxOf(ctx).channels.map((c) => ({
      channelId: c.config.id,
      name: c.config.name,
      levels: Object.entries(c.config.locations).map(([ours, theirs]) => ({ locationId: ours, level: c.emulator.level(sku, theirs) })),
    })),
  });
}

async function sell(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const ch = sandboxChannel(ctx, String(req.params.channelId));
  const b = req.body as { sku: string; quantity: number; location?: string };
  // Without a location the platform decides where the order is fulfilled from (a web order), as it would.
  const theirs = b.location === undefined ? undefined : ownValue(ch.config.locations, b.location);
  if (b.location !== undefined && theirs === undefined) throw new AppError(400, 'unknown_location', `${ch.config.name} does not sell from location "${b.location}".`);
  if (Object.values(ch.config.locations).every((l) => ch.emulator.level(b.sku, l) === null)) throw new AppError(404, 'unknown_sku', `${ch.config.name} does not list "${b.sku}".`);
  const { orderId } = await ch.emulator.sell({ sku: b.sku, quantity: b.quantity, ...(theirs === undefined ? {} : { locationId: theirs }) });
  ch.lastOrders.set(b.sku, orderId);
  res.status(201).json({ orderId });
}

async function refund(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const ch = sandboxChannel(ctx, String(req.params.channelId));
  const b = req.body as { orderId?: string; sku?: string; restock: boolean; quantity?: number };
  const orderId = b.orderId ?? (b.sku ? ch.lastOrders.get(b.sku) : undefined);
  if (!orderId) throw new AppError(400, 'no_order', `Name the order to refund (orderId), or a SKU sold on ${ch.config.name} through the sandbox.`);
  let refundId: string;
  try {
    ({ refundId } = await ch.emulator.refund({ orderId, restock: b.restock, ...(b.quantity === undefined ? {} : { quantity: b.quantity }) }));
  } catch (e) {
    // The emulated platform refused (an order it does not have, more units than were sold): say why.
    const why = (e as Error).message;
    if (/has no order/.test(why)) throw new AppError(404, 'unknown_order', `${ch.config.name} has no order "${orderId}"; nothing was refunded. Refund an order the sandbox sold (its orderId), or name a SKU it sold.`);
    throw new AppError(409, 'refund_refused', `${ch.config.name} refused the refund: ${why} Nothing was refunded.`);
  }
  res.status(201).json({ refundId, orderId });
}

const SaleRequest = Type.Object({ sku: Type.String({ minLength: 1, maxLength: 120 }), quantity: Type.Integer({ minimum: 1, maximum: 1000 }), location: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })) }, { additionalProperties: false });
const RefundRequest = Type.Object(
  { orderId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), sku: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })), restock: Type.Boolean(), quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_QUANTITY })) },
  { additionalProperties: false },
);

export const sandbox: Resource = {
  name: 'sandbox',
  routes: [
    {
      method: 'get',
      path: '/v1/sandbox',
      doc: {
        summary: 'Sandbox mode only: the emulated channels running beside the hub.',
        operationId: 'sandbox',
        security: admin,
        responses: {
          '200': json(Type.Object({ channels: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), platform: Type.String(), emulatorUrl: Type.String(), locations: Type.Record(Type.String(), Type.String()) })) }), 'The emulated channels.'),
          ...adminErrors,
        },
      },
      handle: (ctx, _req, res) => {
        res.json({ channels: sandboxOf(ctx).channels.map((c) => ({ id: c.config.id, name: c.config.name, platform: c.config.platform, emulatorUrl: c.config.baseUrl ?? '', locations: c.config.locations })) });
      },
    },
    {
      method: 'get',
      path: '/v1/sandbox/levels/{sku}',
      doc: {
        summary: 'Sandbox mode only: an item’s levels in the hub and on every emulated channel.',
        operationId: 'sandboxLevels',
        security: admin,
        parameters: [skuParam],
        responses: {
          '200': json(
            Type.Object({
              sku: Type.String(),
              hub: Type.Array(Type.Object({ locationId: Type.String(), onHand: Type.Integer(), available: Type.Integer() })),
              channels: Type.Array(Type.Object({ channelId: Type.String(), name: Type.String(), levels: Type.Array(Type.Object({ locationId: Type.String(), level: Nullable(Type.Integer()) })) })),
            }),
            'Levels.',
          ),
          '404': err('No such SKU.'),
          ...adminErrors,
        },
      },
      handle: levels,
    },
    {
      method: 'post',
      path: '/v1/sandbox/channels/{channelId}/sales',
      doc: {
        summary: 'Sandbox mode only: make a sale on an emulated channel (as a customer or the shop’s POS would).',
        operationId: 'sandboxSale',
        security: admin,
        parameters: [channelParam],
        requestBody: jsonBody(SaleRequest),
        responses: { '201': json(Type.Object({ orderId: Type.String() }), 'Sold; the platform sends its webhooks.'), '404': err('Unknown channel or SKU.'), ...adminErrors },
      },
      handle: sell,
    },
    {
      method: 'post',
      path: '/v1/sandbox/channels/{channelId}/refunds',
      doc: {
        summary: 'Sandbox mode only: refund a sale made on an emulated channel, with or without restock.',
        operationId: 'sandboxRefund',
        security: admin,
        parameters: [channelParam],
        requestBody: jsonBody(RefundRequest),
        responses: { '201': json(Type.Object({ refundId: Type.String(), orderId: Type.String() }), 'Refunded; the platform sends its webhooks.'), '404': err('Unknown channel or order.'), '409': err('The emulated platform refused the refund (more units than were sold).'), ...adminErrors },
      },
      handle: refund,
    },
  ],
};
