/**
 * For tests of a channel's pace (docs/dispatch.md, "Every request counts"): a clock that moves only
 * when slept on, and a channel's config with the defaults a test does not care about.
 */
import type { ChannelConfig } from '../../server/config';

/**
 * A clock that moves only when slept on, shared by the hub's parts and an emulator counting its
 * rate limit. A sleep lets what was already under way run first (as real time would), then moves on.
 */
export class FakeClock {
  constructor(public ms = Date.now()) {}
  readonly now = (): number => this.ms;
  readonly date = (): Date => new Date(this.ms);
  /** Moves on by `ms` at once. */
  advance(ms: number): void {
    this.ms += Math.max(0, ms);
  }
  readonly sleep = async (ms: number): Promise<void> => {
    await new Promise((r) => setImmediate(r));
    this.advance(ms);
  };
}

/** A channel at one location (`gallery`), no buffer, cap, hiding or reconciliation of its own. */
export function channelConfig(c: Pick<ChannelConfig, 'id' | 'name' | 'platform' | 'baseUrl'> & Partial<ChannelConfig>): ChannelConfig {
  return { locations: { gallery: 'default' }, buffer: 0, cap: null, hideAtZero: false, relistOnRestock: false, reconcile: 'flag', settings: {}, credentials: {}, ...c };
}
