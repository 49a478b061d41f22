/**
 * The channels configured: their policies, health and polled feeds; catalog discovery; and what the
 * hub last pushed to and saw on each (docs/channels.md, docs/polling.md).
 */
import { Type } from '@sinclair/typebox';
import type { HubConfig } from '../../config';
import type { FeedView } from '../../channels/feed-state';
import { ConnectorError } from '../../connectors/types';
import type { ApiContext } from '../context';
import { AppError } from '../errors';
import type { Resource } from '../route';
import { Nullable, Timestamp, admin, adminErrors, channelParam, err, json } from '../schemas';

/** One polled feed of a channel (docs/polling.md). */
const FeedViewSchema = Type.Object(
  {
    feed: Type.String({ description: 'The feed’s name, as the connector polls it (e.g. orders).' }),
    status: Type.Union(['ok', 'failing', 'stalled', 'starting', 'off'].map((x) => Type.Literal(x)), {
      description: 'ok: read on schedule; failing: its last polls failed (retried with backoff); stalled: not read for longer than its stall limit (an alert is open); starting: not read once yet; off: turned off in the config.',
    }),
    everyMs: Type.Integer({ minimum: 1 }),
    lastPollAt: Nullable(Timestamp),
    lastSuccessAt: Nullable(Timestamp),
    cursorAdvancedAt: Nullable(Timestamp),
    nextPollAt: Nullable(Timestamp),
    lagSeconds: Nullable(Type.Integer({ minimum: 0, description: 'Seconds since the feed was last read to its end without error; null before the first good read.' })),
    consecutiveErrors: Type.Integer({ minimum: 0 }),
    lastError: Nullable(Type.String({ description: 'What the platform answered the last failed poll, for the shop owner; never a secret.' })),
    eventsStored: Type.Integer({ minimum: 0, description: 'New events the feed brought into the inbox (those found by webhook first are not counted).' }),
  },
  { title: 'Feed' },
);

/** A channel as configured, with its health and its polled feeds. */
const ChannelViewSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    platform: Type.String(),
    locations: Type.Record(Type.String(), Type.String()),
    buffer: Type.Integer(),
    cap: Nullable(Type.Integer()),
    hideAtZero: Type.Boolean(),
    relistOnRestock: Type.Boolean(),
    connected: Type.Boolean({ description: 'False when the hub has no connector for the platform yet. Says nothing about whether the channel answers: see health.' }),
    suspendedUntil: Nullable(Timestamp),
    health: Nullable(
      Type.Object(
        {
          status: Type.Union([Type.Literal('ok'), Type.Literal('failing'), Type.Literal('suspended')], {
            description: 'ok: answering; failing: its last requests failed (401, 403, 404, 5xx, no answer…) and are retried; suspended: pushes held until suspendedUntil, still queued (docs/dispatch.md).',
          }),
          failures: Type.Integer({ minimum: 0, description: 'Failed requests in a row: pushes, and reads such as discovery and reconciliation.' }),
          suspendedUntil: Nullable(Timestamp),
          lastError: Nullable(Type.String({ description: 'What the channel answered last time it failed, for the shop owner; never a secret.' })),
        },
        { description: 'How the channel is doing since the hub started; null when the hub has no connector for it.' },
      ),
    ),
    feeds: Type.Array(FeedViewSchema, { description: 'The feeds the hub polls on this channel (docs/polling.md); empty when its platform pushes everything by webhook.' }),
  },
  { title: 'Channel' },
);

const ListingRefView = Type.Object({ productId: Type.String(), variantId: Type.String(), inventoryItemId: Type.Optional(Type.String()) });
const PlatformListingView = Type.Object({ sku: Nullable(Type.String()), title: Type.String(), ref: ListingRefView });
const DiscoveryReport = Type.Object(
  {
    matched: Type.Array(Type.Object({ sku: Type.String(), ref: ListingRefView, title: Type.String() })),
    unmatched: Type.Array(PlatformListingView, { description: 'Listings with no SKU, or a SKU not in the catalog.' }),
    duplicated: Type.Array(Type.Object({ sku: Type.String(), listings: Type.Array(PlatformListingView) }), { description: 'SKUs listed more than once: not mapped until fixed on the platform.' }),
    missing: Type.Array(Type.String(), { description: 'Catalog SKUs the channel does not list.' }),
  },
  { title: 'DiscoveryReport' },
);

const ListingsAnswer = Type.Object({
  listings: Type.Array(
    Type.Object({
      channelId: Type.String(),
      sku: Type.String(),
      productId: Type.String(),
      variantId: Type.String(),
      inventoryItemId: Nullable(Type.String()),
      title: Type.String(),
      hidden: Type.Boolean(),
      updatedAt: Timestamp,
    }),
  ),
  levels: Type.Array(
    Type.Object({
      channelId: Type.String(),
      sku: Type.String(),
      locationId: Type.String(),
      pushed: Nullable(Type.Integer()),
      pushedAt: Nullable(Timestamp),
      observed: Nullable(Type.Integer()),
      observedAt: Nullable(Timestamp),
    }),
  ),
});

/** The channel as configured, its health, and its polled feeds (docs/polling.md). */
function channelView(ctx: ApiContext, c: HubConfig['channels'][number], all: FeedView[]) {
  return {
    id: c.id,
    name: c.name,
    platform: c.platform,
    locations: c.locations,
    buffer: c.buffer,
    cap: c.cap,
    hideAtZero: c.hideAtZero,
    relistOnRestock: c.relistOnRestock,
    connected: ctx.channels?.get(c.id) !== undefined,
    suspendedUntil: ctx.channelSuspendedUntil?.(c.id) ?? null,
    health: ctx.channelHealth?.(c.id) ?? null,
    feeds: all
      .filter((f) => f.channelId === c.id)
      .map((f) => ({
        feed: f.feed,
        status: f.status,
        everyMs: f.everyMs,
        lastPollAt: f.lastPollAt,
        lastSuccessAt: f.lastSuccessAt,
        cursorAdvancedAt: f.cursorAdvancedAt,
        nextPollAt: f.nextPollAt,
        lagSeconds: f.lagSeconds,
        consecutiveErrors: f.consecutiveErrors,
        lastError: f.lastError,
        eventsStored: f.eventsStored,
      })),
  };
}

/** A channel the hub has a connector for: 404 for an unknown id, 409 for a platform without a connector yet. */
export function connected(ctx: ApiContext, id: string) {
  const ch = ctx.channels?.get(id);
  if (!ch) {
    const known = ctx.config.channels.find((c) => c.id === id);
    throw known
      ? new AppError(409, 'channel_not_connected', `Channel "${id}" uses ${known.platform}, which this hub has no connector for yet.`)
      : new AppError(404, 'unknown_channel', `No channel has the id "${id}".`);
  }
  return ch;
}

export const channels: Resource = {
  name: 'channels',
  schemas: { DiscoveryReport },
  routes: [
    {
      method: 'get',
      path: '/v1/channels',
      doc: {
        summary: 'Channels configured, with their policies, health and polled feeds.',
        operationId: 'listChannels',
        security: admin,
        responses: { '200': json(Type.Object({ channels: Type.Array(ChannelViewSchema) }), 'Channels.'), ...adminErrors },
      },
      handle: async (ctx, _req, res) => {
        const all = (await ctx.feeds?.()) ?? [];
        res.json({ channels: ctx.config.channels.map((c) => channelView(ctx, c, all)) });
      },
    },
    {
      method: 'get',
      path: '/v1/channels/{channelId}',
      doc: {
        summary: 'One channel: its policies, its health and its polled feeds (last poll, lag, errors).',
        operationId: 'getChannel',
        security: admin,
        parameters: [channelParam],
        responses: { '200': json(ChannelViewSchema, 'The channel.'), '404': err('No such channel.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        const id = String(req.params.channelId);
        const c = ctx.config.channels.find((x) => x.id === id);
        if (!c) throw new AppError(404, 'unknown_channel', `No channel has the id "${id}".`);
        res.json(channelView(ctx, c, (await ctx.feeds?.(id)) ?? []));
      },
    },
    {
      method: 'post',
      path: '/v1/channels/{channelId}/discover',
      doc: {
        summary: 'Catalog discovery: list the channel’s products, match them to our SKUs by SKU, and keep the map.',
        description: 'SKUs the platform lists twice, listings without a SKU or with one not in the catalog, and catalog SKUs the platform does not list are reported, never guessed at.',
        operationId: 'discoverChannel',
        security: admin,
        parameters: [channelParam],
        responses: {
          '200': json(Type.Ref('DiscoveryReport'), 'The report; matched SKUs are now mapped.'),
          '404': err('No such channel.'),
          '409': err('The channel’s platform has no connector yet.'),
          '502': err('The platform could not be read.'),
          ...adminErrors,
        },
      },
      handle: async (ctx, req, res) => {
        const ch = connected(ctx, String(req.params.channelId));
        try {
          res.json(await ctx.channels!.discover(ch.config.id, ctx.store, () => ctx.clock().toISOString()));
        } catch (e) {
          if (e instanceof ConnectorError) throw new AppError(502, 'channel_unreachable', `${ch.config.name} could not be read: ${e.message}`);
          throw e;
        }
      },
    },
    {
      method: 'get',
      path: '/v1/channels/{channelId}/listings',
      doc: {
        summary: 'The channel’s SKU map, and what was last pushed to and seen on the channel per item and location.',
        operationId: 'channelListings',
        security: admin,
        parameters: [channelParam],
        responses: { '200': json(ListingsAnswer, 'Listings and levels.'), '404': err('No such channel.'), '409': err('The channel’s platform has no connector yet.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        const ch = connected(ctx, String(req.params.channelId));
        const [listings, levels] = await Promise.all([ctx.store.listings.list(ch.config.id), ctx.store.channelLevels.list(ch.config.id)]);
        res.json({ listings, levels });
      },
    },
  ],
};
