/**
 * The pace of writes to one spreadsheet: Google allows 60 write requests per minute per user. At
 * most `requests` in any window of `windowMs`, and never two closer than `windowMs / requests`, so
 * the allowance is spread over the minute (a burst of changes waits a second and goes as one batch)
 * rather than spent in the first second. The window is kept 5% longer than the quota's, because the
 * hub's clock and Google's count do not agree to the millisecond (a request sent on time may arrive
 * late, the next one early). Time is passed in (fake clocks in tests).
 */
import type { Limiter } from '../outbox/rate-limit';

export class SheetsLimiter implements Limiter {
  readonly requestCost = 1;
  readonly description: string;
  private readonly sent: number[] = [];
  private readonly spacingMs: number;
  private readonly windowMs: number;

  constructor(
    readonly requests: number,
    quotaWindowMs: number,
  ) {
    this.windowMs = Math.ceil(quotaWindowMs * 1.05);
    this.spacingMs = Math.ceil(this.windowMs / requests);
    this.description = `${requests} write requests per ${quotaWindowMs / 1000} s, one every ${this.spacingMs} ms at most`;
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
}
