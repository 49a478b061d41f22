/**
 * Webhooks from the platforms and from Airtable: the raw bytes, the sender's own signature, stored,
 * answered at once; booking happens right after (docs/inbox-outbox.md, docs/airtable.md).
 */
import { Type } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import { CONNECTORS, inWords } from '../../connectors';
import { boundedKey } from '../../core/keys';
import type { ApiContext } from '../context';
import { AppError } from '../errors';
import { rawBody } from '../http';
import type { Resource } from '../route';
import { err, json } from '../schemas';

/**
 * The platform's own x- headers are kept for translate; ours (x-stockrelay-*) are never taken from
 * the request: a delivery signed for one channel cannot name another, or a time of its choosing.
 */
function keptHeaders(req: Request, channelId: string, occurredAt: string | null | undefined): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('x-') || name.startsWith('x-stockrelay-') || /signature|hmac|auth|token|secret/i.test(name) || value === undefined) continue;
    kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  kept['x-stockrelay-channel'] = channelId;
  if (occurredAt) kept['x-stockrelay-occurred-at'] = occurredAt;
  return kept;
}

async function receiveChannelWebhook(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const { metrics, log } = ctx;
  const channelId = String(req.params.channelId);
  const ch = ctx.channels?.get(channelId);
  if (!ch) throw new AppError(404, 'unknown_channel', `No connected channel has the id "${channelId}". Check the webhook address configured on the platform.`);
  if (ctx.shuttingDown()) throw new AppError(503, 'shutting_down', 'The hub is restarting; the platform will deliver this again.');
  const raw = rawBody(req);
  const verdict = ch.connector.verify(raw, req.headers);
  if (!verdict.valid && ch.connector.isPing?.(raw, req.headers)) {
    log.info({ channel: channelId }, 'channel webhook address check answered');
    res.status(200).json({ status: 'ping', message: `${ch.config.name}: this address receives the channel's webhooks.` });
    return;
  }
  if (!verdict.valid) {
    metrics.relays.inc({ result: 'webhook_refused' });
    log.warn({ channel: channelId, reason: verdict.reason, ip: req.ip }, 'channel webhook refused: signature');
    throw new AppError(401, 'invalid_signature', `${ch.config.name}: ${verdict.reason} Nothing was stored.`);
  }
  // No platform names its event types with more than a few dozen characters; a longer one is not one of theirs.
  if (verdict.topic.length > 200) throw new AppError(400, 'unknown_topic', `${ch.config.name}: the event type is ${verdict.topic.length} characters long; no event of the platform's is. Nothing was stored.`);
  const stored = await ctx.inbox.insert(
    // The platform chooses its event ids: one too long for the inbox's key is kept hashed (server/util.ts).
    { dedupeKey: boundedKey(`channel:${channelId}:${verdict.eventId}`), source: 'channel', kind: verdict.topic, headers: keptHeaders(req, channelId, verdict.occurredAt), body: raw.toString('utf8') },
    ctx.clock().toISOString(),
  );
  if (!stored) {
    metrics.relays.inc({ result: 'webhook_duplicate' });
    // 2xx, so the platform stops retrying a delivery we already hold.
    res.status(200).json({ status: 'duplicate', message: `Event ${verdict.eventId.slice(0, 200)} was received before; it is booked once.` });
    return;
  }
  metrics.relays.inc({ result: 'webhook_accepted' });
  ctx.processor.notify(channelId);
  res.status(200).json({ status: 'received', eventId: stored.id });
}

/** Airtable's ping carries no data: its MAC is checked over the raw bytes, then the payloads are read by cursor. */
async function receiveAirtablePing(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  const hooks = ctx.airtableWebhooks;
  if (!hooks) throw new AppError(404, 'no_airtable_webhook', 'This hub has no Airtable webhook configured (airtable.webhook in the config file).');
  if (ctx.shuttingDown()) throw new AppError(503, 'shutting_down', 'The hub is restarting; Airtable will ping again.');
  const raw = rawBody(req);
  const verdict = await hooks.verifyPing(raw, req.get('x-airtable-content-mac'));
  if (!verdict.ok) {
    ctx.metrics.relays.inc({ result: 'webhook_refused' });
    ctx.log.warn({ status: verdict.status, ip: req.ip }, 'Airtable ping refused');
    throw new AppError(verdict.status, verdict.status === 401 ? 'bad_signature' : verdict.status === 400 ? 'malformed_json' : 'unknown_webhook', verdict.reason);
  }
  void hooks.pull().catch((e: unknown) => ctx.log.warn({ err: (e as Error).message }, 'Airtable payloads could not be read; the next ping or the hourly check reads them'));
  res.status(200).json({ status: 'received', message: 'Checked; the changes are read from Airtable now.' });
}

export const webhooks: Resource = {
  name: 'webhooks',
  open: true,
  routes: [
    {
      method: 'post',
      path: '/v1/airtable/webhook',
      doc: {
        summary: 'Receive Airtable’s webhook ping (the script-free way for changes in the base to reach the hub).',
        description:
          'The hub creates this webhook on the base itself when `airtable.webhook.notificationUrl` is configured (docs/airtable.md). The ping carries no data: its X-Airtable-Content-MAC is checked against the webhook’s secret, 200 is answered, and the hub then reads the payloads by cursor.',
        operationId: 'airtableWebhook',
        security: [],
        requestBody: { required: true, content: { '*/*': { schema: {} } } },
        responses: {
          '200': json(Type.Object({ status: Type.Literal('received'), message: Type.String() }), 'Checked; the payloads are read right after.'),
          '400': err('The ping is not JSON.'),
          '401': err('The MAC is missing or wrong. Nothing was read.'),
          '404': err('No Airtable webhook is configured, or the ping names another webhook.'),
          '413': err('The body is larger than 1 MiB.'),
        },
      },
      handle: receiveAirtablePing,
    },
    {
      method: 'post',
      path: '/v1/webhooks/{channelId}',
      doc: {
        summary: `Receive a webhook from a connected platform (${inWords([...CONNECTORS.values()].map((d) => d.displayName))}).`,
        description:
          'Give the platform this address for the channel. The platform’s own signature is checked over the raw body, the event is stored under the platform’s event id, and 200 is answered; booking happens right after. A delivery received before is answered 200 with status "duplicate" and booked once.',
        operationId: 'channelWebhook',
        security: [],
        parameters: [{ name: 'channelId', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: { required: true, content: { '*/*': { schema: {} } } },
        responses: {
          '200': json(Type.Object({ status: Type.Union([Type.Literal('received'), Type.Literal('duplicate'), Type.Literal('ping')]), eventId: Type.Optional(Type.Integer()), message: Type.Optional(Type.String()) }), 'Stored (or held already); "ping" for a platform’s unsigned address check (WooCommerce), which stores nothing.'),
          '401': err('The platform signature is missing or wrong. Nothing was stored.'),
          '404': err('No connected channel has this id.'),
          '413': err('The body is larger than 1 MiB.'),
        },
      },
      handle: receiveChannelWebhook,
    },
  ],
};
