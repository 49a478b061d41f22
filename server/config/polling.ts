/** Polling schedules (docs/polling.md): the defaults, one feed's schedule, and the checks of a channel's `polling` section. */
import { ConfigError, type ChannelConfig, type ChannelPolling, type FeedSchedule } from './types';

/** Every feed is polled once a minute unless the config says otherwise. */
export const DEFAULT_POLL_EVERY_MS = 60_000;

/** A feed not read for five of its intervals (and at least five minutes) is stalled. */
export function defaultStallAfterMs(everyMs: number): number {
  return Math.max(5 * everyMs, 5 * 60_000);
}

/** The schedule of one feed: the feed's own settings, else the channel's, else the hub's (`engine`). */
export function feedSchedule(channel: Pick<ChannelConfig, 'polling'>, feed: string, hub: { everyMs?: number | undefined; stallAfterMs?: number | undefined } = {}): FeedSchedule {
  const own = channel.polling?.feeds?.[feed];
  const everyMs = own?.everyMs ?? channel.polling?.everyMs ?? hub.everyMs ?? DEFAULT_POLL_EVERY_MS;
  const stallAfterMs = own?.stallAfterMs ?? channel.polling?.stallAfterMs ?? hub.stallAfterMs ?? defaultStallAfterMs(everyMs);
  return { enabled: channel.polling?.enabled !== false && own?.enabled !== false, everyMs, stallAfterMs: Math.max(stallAfterMs, everyMs) };
}

/**
 * A channel's `polling` section, checked against what its connector polls: a feed it does not poll,
 * or an alert that would come before the first chance to poll, is refused with the reason.
 */
export function checkPolling(p: ChannelPolling, where: string, polled: readonly string[] | null, platform: string): ChannelPolling {
  const feeds = Object.keys(p.feeds ?? {});
  if (polled !== null) {
    for (const f of feeds) {
      if (!polled.includes(f)) {
        throw new ConfigError(
          `Config file: ${where}.polling.feeds names "${f}", which the ${platform} connector does not poll; ${polled.length > 0 ? `it polls: ${polled.join(', ')}` : 'it polls no feed (its webhooks bring everything)'}.`,
        );
      }
    }
  }
  const check = (at: string, every: number | undefined, stall: number | undefined) => {
    if (every !== undefined && stall !== undefined && stall < every) {
      throw new ConfigError(`Config file: ${at}.stallAfterMs (${stall}) is shorter than ${at}.everyMs (${every}): a feed would be called stalled before it is due again. Give a stallAfterMs of at least ${every}.`);
    }
  };
  check(`${where}.polling`, p.everyMs, p.stallAfterMs);
  for (const [f, o] of Object.entries(p.feeds ?? {})) check(`${where}.polling.feeds.${f}`, o.everyMs ?? p.everyMs, o.stallAfterMs ?? p.stallAfterMs);
  return p;
}

export function pollingDefaults(everyMs: number | undefined, stallAfterMs: number | undefined): { everyMs: number; stallAfterMs: number | undefined } {
  const every = everyMs ?? DEFAULT_POLL_EVERY_MS;
  if (stallAfterMs !== undefined && stallAfterMs < every) {
    throw new ConfigError(`Config file: engine.pollStallAfterMs (${stallAfterMs}) is shorter than engine.pollEveryMs (${every}): every feed would be called stalled before it is due again. Give at least ${every}.`);
  }
  return { everyMs: every, stallAfterMs };
}
