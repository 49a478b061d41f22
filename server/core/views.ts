/**
 * Views of the ledger's numbers: what a location holds and what each channel mapped to it shows.
 */
import { available, publishedLevel, type Level } from './ledger';
import { ownValue } from './keys';

/** A channel as the rules see it: the config's `ChannelConfig` is this and more. */
export interface ChannelMapping {
  id: string;
  name: string;
  /** A platform with a connector (`PLATFORMS` in server/config/). */
  platform: string;
  /** Our location id → the channel's own id for it. */
  locations: Record<string, string>;
  buffer: number;
  cap: number | null;
}

export interface ChannelLevel {
  channelId: string;
  channelName: string;
  platform: string;
  /** The channel's own id for this location. */
  channelLocationId: string;
  /** What the channel should show: clamp(available − buffer, 0, cap). */
  published: number;
}

export interface LocationLevelView {
  locationId: string;
  onHand: number;
  reserved: number;
  available: number;
  channels: ChannelLevel[];
}

/** Pure: a location's numbers and what each channel mapped to that location should show. */
export function locationLevelView(locationId: string, level: Level, channels: ChannelMapping[]): LocationLevelView {
  return {
    locationId,
    onHand: level.onHand,
    reserved: level.reserved,
    available: available(level),
    channels: channels
      .filter((c) => Object.hasOwn(c.locations, locationId))
      .map((c) => ({
        channelId: c.id,
        channelName: c.name,
        platform: c.platform,
        channelLocationId: ownValue(c.locations, locationId)!,
        published: publishedLevel(level, { buffer: c.buffer, cap: c.cap }),
      })),
  };
}
