/**
 * A channel's pace, by the platform's own rate-limit model (docs/dispatch.md). The dispatcher asks
 * how long a request of a given cost would have to wait, and takes the cost when it sends. Time is
 * passed in, so the simulation and the tests run it on a fake clock.
 */
import type { RateLimitModel } from '../connectors/types';

export interface Limiter {
  /** Milliseconds until a request of this cost may be sent (0: now). */
  waitMs(cost: number, nowMs: number): number;
  /** Records a request of this cost sent now. */
  take(cost: number, nowMs: number): void;
  /** What one request to the platform costs in this model's unit (every request counts: docs/dispatch.md). */
  readonly requestCost: number;
  /**
   * What one request with this HTTP method costs, where the model charges by method (a leaky bucket
   * whose writes cost more than reads); absent: `requestCost` for every request.
   */
  costOf?(method: string): number;
  readonly description: string;
}

/** Points refilled continuously up to a cap (Shopify's cost bucket, a leaky bucket). */
class BucketLimiter implements Limiter {
  private tokens: number;
  private at: number | null = null;
  constructor(
    private readonly size: number,
    private readonly perSecond: number,
    readonly requestCost: number,
    readonly description: string,
    /** A request's cost by its method (a leaky bucket whose writes cost more); absent: `requestCost`. */
    readonly costOf?: (method: string) => number,
  ) {
    this.tokens = size;
  }
  private refill(nowMs: number): void {
    if (this.at !== null && nowMs > this.at) this.tokens = Math.min(this.size, this.tokens + ((nowMs - this.at) / 1000) * this.perSecond);
    if (this.at === null || nowMs > this.at) this.at = nowMs;
  }
  waitMs(cost: number, nowMs: number): number {
    this.refill(nowMs);
    const need = Math.min(cost, this.size) - this.tokens;
    return need <= 0 ? 0 : Math.ceil((need / this.perSecond) * 1000);
  }
  take(cost: number, nowMs: number): void {
    this.refill(nowMs);
    this.tokens -= Math.min(cost, this.size);
  }
}

/** At most `requests` in any window of `windowMs` (BigCommerce, Airtable's 5 per second). */
class WindowLimiter implements Limiter {
  private readonly sent: number[] = [];
  readonly requestCost = 1;
  constructor(
    private readonly requests: number,
    private readonly windowMs: number,
    readonly description: string,
  ) {}
  private prune(nowMs: number): void {
    while (this.sent.length > 0 && this.sent[0]! <= nowMs - this.windowMs) this.sent.shift();
  }
  waitMs(_cost: number, nowMs: number): number {
    this.prune(nowMs);
    if (this.sent.length < this.requests) return 0;
    return this.sent[this.sent.length - this.requests]! + this.windowMs - nowMs;
  }
  take(_cost: number, nowMs: number): void {
    this.prune(nowMs);
    this.sent.push(nowMs);
  }
}

/** The platform publishes no pace: send at will, and let its 429s (with Retry-After) slow us. */
class NoLimiter implements Limiter {
  readonly requestCost = 1;
  constructor(readonly description: string) {}
  waitMs(): number {
    return 0;
  }
  take(): void {}
}

/** Methods that read: one unit of a leaky bucket whose writes cost more. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function limiterFor(model: RateLimitModel): Limiter {
  switch (model.kind) {
    case 'cost_bucket':
      return new BucketLimiter(model.bucketSize, model.restorePerSecond, model.requestCost ?? 10, model.description);
    case 'leaky_bucket': {
      const writeCost = model.writeCost ?? 1;
      return new BucketLimiter(model.bucketSize, model.dripPerSecond, 1, model.description, (method) => (READS.has(method.toUpperCase()) ? 1 : writeCost));
    }
    case 'requests_per_window':
      return new WindowLimiter(model.requests, model.windowMs, model.description);
    case 'unpublished':
      return new NoLimiter(model.description);
  }
}

/**
 * The pace of writes to one Google spreadsheet (60 a minute) or one Airtable base (5 a second): at most
 * `requests` in any window, and never two closer than window / requests, so the allowance is spread
 * over the window (a burst of changes waits a moment and goes as one batch) rather than spent at its
 * start. The window is kept `margin` longer than the quota's, because our clock and the service's
 * count do not agree to the millisecond (a request sent on time may arrive late, the next one early).
 * Time is passed in (fake clocks in tests).
 *
 * Such a sink takes each request's turn itself, right before sending it (`waitTurn`), so two batches
 * in flight at once still keep the pace; the dispatcher only looks (`dispatcherView`) to decide
 * whether to claim rows now.
 */
export class SpacedWindowLimiter implements Limiter {
  readonly requestCost = 1;
  readonly description: string;
  private readonly sent: number[] = [];
  private readonly spacingMs: number;
  private readonly windowMs: number;

  constructor(
    readonly requests: number,
    quotaWindowMs: number,
    margin = 0.05,
  ) {
    this.windowMs = Math.ceil(quotaWindowMs * (1 + margin));
    this.spacingMs = Math.ceil(this.windowMs / requests);
    this.description = `${requests} requests per ${quotaWindowMs / 1000} s, one every ${this.spacingMs} ms at most`;
  }

  private prune(nowMs: number): void {
    while (this.sent.length > 0 && this.sent[0]! <= nowMs - this.windowMs) this.sent.shift();
  }

  waitMs(_cost: number, nowMs: number): number {
    this.prune(nowMs);
    const last = this.sent[this.sent.length - 1];
    const spacing = last === undefined ? 0 : last + this.spacingMs - nowMs;
    const window = this.sent.length < this.requests ? 0 : this.sent[this.sent.length - this.requests]! + this.windowMs - nowMs;
    return Math.max(0, spacing, window);
  }

  take(_cost: number, nowMs: number): void {
    this.prune(nowMs);
    this.sent.push(nowMs);
  }

  /** Waits for the next request's turn and takes it; false (turn not taken) when `signal` ended the wait. */
  async waitTurn(nowMs: () => number, sleep: (ms: number) => Promise<void>, signal?: AbortSignal): Promise<boolean> {
    for (let wait = this.waitMs(1, nowMs()); wait > 0; wait = this.waitMs(1, nowMs())) await sleep(wait);
    if (signal?.aborted) return false;
    this.take(1, nowMs());
    return true;
  }

  /** What the dispatcher sees: how long the next request would wait. It takes nothing; the sink does. */
  dispatcherView(): Limiter {
    return { requestCost: 1, description: this.description, waitMs: (cost, nowMs) => this.waitMs(cost, nowMs), take: () => undefined };
  }
}
