/**
 * Which platforms a simulation runs over, from the connector registry (server/connectors/index.ts):
 * every platform whose connector brings sandbox wiring (`ConnectorDefinition.sandbox`: an emulator,
 * its locations, its settings) can be simulated, with no change here or in the harness. A channel of
 * the simulation is named by its wiring's `channelId` (for the platforms so far, the platform name).
 */
import { inWords, sandboxCapable, type SandboxPlatform } from '../../server/connectors';
import { LOCATIONS, type SimChannel } from './scenario';

export type { SandboxPlatform };

export class ChannelChoiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChannelChoiceError';
  }
}

/**
 * The platforms named by `choice`, in registry order (so `square,shopify` and `shopify,square` are
 * the same selection, and draw the same scenarios): unset, empty or `default`: the sandbox's default
 * set; `all`: every platform with sandbox wiring; else platform names or channel ids, comma-separated
 * or as a list. An unknown name is an error naming the choices.
 */
export function chooseChannels(choice?: string | readonly string[]): SandboxPlatform[] {
  const all = sandboxCapable();
  const names = (typeof choice === 'string' ? choice.split(',') : (choice ?? [])).map((s) => s.trim().toLowerCase()).filter((s) => s !== '');
  if (names.length === 0 || (names.length === 1 && names[0] === 'default')) return all.filter((p) => p.byDefault);
  if (names.length === 1 && names[0] === 'all') return all;
  const picked = new Set<SandboxPlatform>();
  for (const name of names) {
    const p = all.find((x) => x.platform === name || x.channelId === name);
    if (!p) {
      throw new ChannelChoiceError(
        `--channels names "${name}", which the simulation cannot run. It runs ${inWords(all.map((x) => x.platform))} (the platforms whose connector brings an emulator): give a comma-separated list of them, "all", or "default" (${all.filter((x) => x.byDefault).map((x) => x.platform).join(',')}).`,
      );
    }
    picked.add(p);
  }
  return all.filter((p) => picked.has(p));
}

/** The platform of a simulation channel id, or an error naming the ones there are. */
export function platformOf(channelId: string): SandboxPlatform {
  const all = sandboxCapable();
  const p = all.find((x) => x.channelId === channelId);
  if (!p) throw new ChannelChoiceError(`The scenario names channel "${channelId}", which no connector's sandbox wiring provides (there are ${all.map((x) => x.channelId).join(', ')}).`);
  return p;
}

/** A platform as the scenario generator sees it: its channel id and the locations of ours it publishes. */
export function simChannel(p: SandboxPlatform): SimChannel {
  return { id: p.channelId, locations: LOCATIONS.filter((l) => p.locations[l] !== undefined) };
}

/** Whether these channel ids are the default selection (then a reproduce command need not name them). */
export function isDefaultSelection(channelIds: readonly string[]): boolean {
  const def = chooseChannels().map((p) => p.channelId);
  return def.length === channelIds.length && def.every((id, i) => channelIds[i] === id);
}

/**
 * Where a platform's seeded random sources start: its position in the registry, not in the
 * selection, so a platform's webhook faults draw the same numbers whichever others run beside it.
 * (The first ten platforms use streams 11–20 and 21–30; the first three have used 11–13 and
 * 21–23 since the harness began, so their runs did not change. The scenario itself draws from stream 1.)
 */
export function randomStreams(p: SandboxPlatform): { webhookFaults: number; delays: number } {
  const i = sandboxCapable().findIndex((x) => x.platform === p.platform);
  return i < 10 ? { webhookFaults: 11 + i, delays: 21 + i } : { webhookFaults: 1000 + 2 * i, delays: 1001 + 2 * i };
}
