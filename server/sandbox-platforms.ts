/**
 * The three platforms of the sandbox and how each emulator is made. Kept apart from sandbox.ts so the
 * list of demo channels reads in one place.
 */
import type { Emulator } from './connectors/emulator';
import type { PLATFORMS } from './config';

export interface SandboxPlatform {
  channelId: string;
  name: string;
  platform: (typeof PLATFORMS)[number];
  /** Our location id → the emulator's location id. */
  locations: Record<string, string>;
  hideAtZero: boolean;
  credentials: readonly string[];
  settings(ctx: { webhookUrl: string; baseUrl: string }): Record<string, string | number | boolean>;
  createEmulator(opts: { credentials: Record<string, string>; webhookUrl: string; locations: string[] }): Emulator;
}

export const SANDBOX_PLATFORMS: SandboxPlatform[] = [];
