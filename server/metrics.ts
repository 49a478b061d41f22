import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The hub's Prometheus metrics, in a registry of its own so several hubs can live in one test process. */
export class Metrics {
  readonly registry = new Registry();
  readonly relays = new Counter({ name: 'stockrelay_relays_total', help: 'Relays received, by result.', labelNames: ['result'], registers: [this.registry] });
  readonly inboxProcessed = new Counter({ name: 'stockrelay_inbox_processed_total', help: 'Inbound events processed, by final status.', labelNames: ['status'], registers: [this.registry] });
  readonly movements = new Counter({ name: 'stockrelay_movements_booked_total', help: 'Movements booked in the ledger, by reason.', labelNames: ['reason'], registers: [this.registry] });
  readonly deliveries = new Counter({ name: 'stockrelay_outbox_deliveries_total', help: 'Outbox delivery attempts, by sink and result.', labelNames: ['sink', 'result'], registers: [this.registry] });
  readonly httpDuration = new Histogram({
    name: 'stockrelay_http_request_duration_seconds',
    help: 'HTTP request duration, by method, matched route ("unrouted" for anything refused before a route matched) and status code.',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly inboxBacklog = new Gauge({ name: 'stockrelay_inbox_entries', help: 'Inbound events by status.', labelNames: ['status'], registers: [this.registry] });
  readonly outboxBacklog = new Gauge({ name: 'stockrelay_outbox_entries', help: 'Outbox rows by status (dead = dead letters).', labelNames: ['status'], registers: [this.registry] });
  // Polled feeds (docs/polling.md), per channel and feed. The gauges are read from the store at each
  // scrape (every hub process sees the same); the counters are this process's since it started.
  readonly feedEvents = new Counter({ name: 'stockrelay_feed_events_total', help: 'New inbox events stored by polling, by channel and feed.', labelNames: ['channel', 'feed'], registers: [this.registry] });
  readonly feedErrors = new Counter({ name: 'stockrelay_feed_errors_total', help: 'Polls that failed, by channel and feed.', labelNames: ['channel', 'feed'], registers: [this.registry] });
  readonly feedLastPoll = new Gauge({ name: 'stockrelay_feed_last_poll_timestamp_seconds', help: 'When the feed was last polled (Unix seconds).', labelNames: ['channel', 'feed'], registers: [this.registry] });
  readonly feedLastSuccess = new Gauge({ name: 'stockrelay_feed_last_success_timestamp_seconds', help: 'When the feed was last read to its end without error (Unix seconds).', labelNames: ['channel', 'feed'], registers: [this.registry] });
  readonly feedLag = new Gauge({ name: 'stockrelay_feed_lag_seconds', help: 'Seconds since the feed was last read to its end without error (since polling began, before the first good read).', labelNames: ['channel', 'feed'], registers: [this.registry] });
  readonly feedConsecutiveErrors = new Gauge({ name: 'stockrelay_feed_consecutive_errors', help: 'Failed polls in a row.', labelNames: ['channel', 'feed'], registers: [this.registry] });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'stockrelay_' });
  }
}
