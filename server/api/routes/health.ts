/** Health, readiness, Prometheus metrics and the API document: open to all, no token. */
import { Type } from '@sinclair/typebox';
import type { ApiContext } from '../context';
import type { Resource } from '../route';
import { json } from '../schemas';

/** Sets the backlog and polled-feed gauges just before /metrics is read. */
async function refreshGauges(ctx: ApiContext): Promise<void> {
  const { store, metrics } = ctx;
  const [inbox, outbox, feeds] = await Promise.all([store.inbox.count(), store.outbox.count(), ctx.feeds?.() ?? Promise.resolve([])]);
  metrics.inboxBacklog.reset();
  for (const [k, v] of Object.entries(inbox)) metrics.inboxBacklog.set({ status: k }, v);
  metrics.outboxBacklog.reset();
  for (const [k, v] of Object.entries(outbox)) metrics.outboxBacklog.set({ status: k }, v);
  // Polled feeds (docs/polling.md): labels are channel ids and feed names from the config, never from a request.
  const nowMs = ctx.clock().getTime();
  for (const g of [metrics.feedLastPoll, metrics.feedLastSuccess, metrics.feedLag, metrics.feedConsecutiveErrors]) g.reset();
  for (const f of feeds) {
    const labels = { channel: f.channelId, feed: f.feed };
    if (f.lastPollAt) metrics.feedLastPoll.set(labels, Date.parse(f.lastPollAt) / 1000);
    if (f.lastSuccessAt) metrics.feedLastSuccess.set(labels, Date.parse(f.lastSuccessAt) / 1000);
    const since = f.lastSuccessAt ?? f.startedAt;
    if (since) metrics.feedLag.set(labels, Math.max(0, Math.round((nowMs - Date.parse(since)) / 1000)));
    metrics.feedConsecutiveErrors.set(labels, f.consecutiveErrors);
  }
}

export const health: Resource = {
  name: 'health',
  open: true,
  routes: [
    {
      method: 'get',
      path: '/healthz',
      doc: {
        summary: 'The process is alive; says whether it runs in sandbox mode.',
        operationId: 'health',
        responses: { '200': json(Type.Object({ status: Type.Literal('ok'), mode: Type.Union([Type.Literal('live'), Type.Literal('sandbox')]), message: Type.Optional(Type.String()) }), 'Alive.') },
      },
      handle: (ctx, _req, res) => {
        res.json(ctx.sandbox ? { status: 'ok', mode: 'sandbox', message: ctx.sandbox.warning } : { status: 'ok', mode: 'live' });
      },
    },
    {
      method: 'get',
      path: '/readyz',
      doc: {
        summary: 'The hub can take traffic: its database answers and it is not shutting down.',
        operationId: 'ready',
        responses: {
          '200': json(Type.Object({ status: Type.Literal('ready') }), 'Ready.'),
          '503': json(Type.Object({ status: Type.Literal('not_ready'), reason: Type.String() }), 'Not ready.'),
        },
      },
      handle: async (ctx, _req, res) => {
        if (ctx.shuttingDown()) {
          res.status(503).json({ status: 'not_ready', reason: 'The hub is shutting down.' });
          return;
        }
        try {
          await ctx.store.ping();
          res.json({ status: 'ready' });
        } catch (err) {
          ctx.log.warn({ err }, 'readiness check: store does not answer');
          res.status(503).json({ status: 'not_ready', reason: 'The database does not answer.' });
        }
      },
    },
    {
      method: 'get',
      path: '/metrics',
      doc: { summary: 'Prometheus metrics.', operationId: 'metrics', responses: { '200': { description: 'Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } } } },
      handle: async (ctx, _req, res) => {
        await refreshGauges(ctx);
        res.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
      },
    },
    {
      method: 'get',
      path: '/openapi.json',
      doc: { summary: 'This document.', operationId: 'openapi', responses: { '200': json(Type.Object({}, { additionalProperties: true }), 'OpenAPI 3.1 document.') } },
      handle: (ctx, _req, res) => {
        res.json(ctx.document);
      },
    },
  ],
};
