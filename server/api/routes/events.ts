/**
 * The inbound events (relays, channel webhooks, API writes) with what booking made of them, and
 * retrying the ones that need attention once the cause is fixed.
 */
import { Type } from '@sinclair/typebox';
import type { Outcome } from '../../core/booking';
import type { InboxEntry } from '../../store/types';
import { nestsDeeper } from '../../util';
import { AppError } from '../errors';
import { getRoute, listRoute, type Resource } from '../route';
import { CommandResult, EventStatus, Nullable, Page, Timestamp, admin, adminErrors, err, idParam, json } from '../schemas';

const EventView = Type.Object(
  {
    id: Type.Integer(),
    source: Type.String(),
    kind: Type.String(),
    status: EventStatus,
    results: Type.Array(CommandResult),
    error: Type.Optional(Type.String()),
    via: Type.Optional(Type.Union([Type.Literal('webhook'), Type.Literal('poll')], { description: 'Channel events only: whether the platform pushed it (webhook) or the hub found it polling one of the channel’s feeds (docs/polling.md).' })),
    waiting: Type.Optional(Type.String({ description: 'Why a received event is not booked yet: its platform did not answer while the hub fetched what the event leaves out. It is tried again at retryAt.' })),
    retryAt: Type.Optional(Timestamp),
    facts: Type.Optional(
      Type.Union([Type.Array(Type.Unknown()), Type.Null()], {
        description: 'Channel events only, on GET /v1/events/{id}: the facts the hub found in the event before booking it (sales, refunds, levels reported), with what the platform had to be asked for; null until found, or when the event could not be read.',
      }),
    ),
    attempts: Type.Integer(),
    receivedAt: Timestamp,
    processedAt: Nullable(Timestamp),
    body: Type.Optional(Type.Unknown({ description: 'The event as received (only on GET /v1/events/{id}): its JSON, or the text exactly as received when it is not JSON or nests deeper than 64 levels.' })),
  },
  { title: 'Event' },
);

/** The deepest nesting an event's body is shown with as JSON; a deeper one is shown as the text received. */
const MAX_SHOWN_DEPTH = 64;

/**
 * Kept as received; shown as JSON only when it is JSON of a sensible depth (writing a body nested
 * 100,000 levels deep back as JSON would exhaust the stack).
 */
function shownBody(text: string): unknown {
  if (nestsDeeper(text, MAX_SHOWN_DEPTH)) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function eventView(e: InboxEntry, withBody = false) {
  const outcome = (e.outcome ?? null) as (Outcome & { error?: string; waiting?: string }) | null;
  const waiting = outcome?.waiting;
  return {
    id: e.id,
    source: e.source,
    kind: e.kind,
    status: e.status,
    results: outcome?.results ?? [],
    ...(outcome?.error ? { error: outcome.error } : {}),
    // A channel event came by webhook or by a poll of one of its feeds (docs/polling.md); only the hub sets this header.
    ...(e.source === 'channel' ? { via: e.headers['x-stockrelay-via'] === 'poll' ? ('poll' as const) : ('webhook' as const) } : {}),
    ...(e.status === 'received' && e.retryAt ? { retryAt: e.retryAt, ...(typeof waiting === 'string' ? { waiting } : {}) } : {}),
    // What the prepare stage found in it (docs/inbox-outbox.md), shown with the body.
    ...(withBody && e.source === 'channel' ? { facts: e.prepared === null ? null : ((JSON.parse(e.prepared) as { facts?: unknown }).facts ?? null) } : {}),
    attempts: e.attempts,
    receivedAt: e.receivedAt,
    processedAt: e.processedAt,
    ...(withBody ? { body: shownBody(e.body) } : {}),
  };
}

export const events: Resource = {
  name: 'events',
  schemas: { Event: EventView },
  routes: [
    listRoute({
      path: '/v1/events',
      summary: 'Inbound events (relays, API calls), newest first; filter by status to see what needs attention (unmatched, rejected, conflict, failed).',
      operationId: 'listEvents',
      filters: [{ name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['received', 'processed', 'unmatched', 'rejected', 'conflict', 'failed'] } }],
      page: json(Page('events', Type.Ref('Event')), 'A page of events.'),
      name: 'events',
      rows: (ctx, req, page) => ctx.store.inbox.list({ ...page, status: req.query.status as InboxEntry['status'] | undefined }),
      key: (e) => e.id,
      show: (_ctx, rows) => rows.map((e) => eventView(e)),
    }),
    getRoute({
      path: '/v1/events/{id}',
      summary: 'One inbound event, with its body.',
      operationId: 'getEvent',
      param: idParam,
      found: json(Type.Ref('Event'), 'The event.'),
      missing: 'No such event.',
      get: (ctx, id) => ctx.store.inbox.get(Number(id)),
      unknown: (id) => ['unknown_event', `There is no event ${id}.`],
      show: (_ctx, e) => eventView(e, true),
    }),
    {
      method: 'post',
      path: '/v1/events/{id}/retry',
      doc: {
        summary: 'Process an unmatched, rejected, conflicting or failed event again (for example after adding its SKU).',
        operationId: 'retryEvent',
        security: admin,
        parameters: [idParam],
        responses: { '202': json(Type.Object({ eventId: Type.Integer(), status: Type.Literal('received') }), 'Queued again.'), '404': err('No such event.'), '409': err('The event is not in a state that can be retried.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        const id = Number(req.params.id);
        const e = await ctx.store.inbox.get(id);
        if (!e) throw new AppError(404, 'unknown_event', `There is no event ${id}.`);
        if (!(await ctx.store.inbox.requeue(id))) {
          throw new AppError(409, 'not_retryable', `Event ${id} is ${e.status}; only unmatched, rejected, conflicting or failed events can be retried.`);
        }
        ctx.processor.notify();
        res.status(202).json({ eventId: id, status: 'received' });
      },
    },
  ],
};
