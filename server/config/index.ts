/**
 * Configuration: environment variables for where things are and secrets, and an optional config file
 * (`STOCKRELAY_CONFIG`, JSON or YAML) for locations, channels, notifications and policies.
 * Everything is checked at start; a wrong key is named in the error.
 *
 * schema.ts: the file's schema, section by section. parse.ts: reading and checking a file's text.
 * load.ts: `loadConfig`, which puts the file and the environment together (channels.ts, secrets.ts,
 * sheets.ts, polling.ts check their parts). types.ts: the checked configuration the hub runs with.
 */
export { ConfigFileSchema, PLATFORMS, TOPICS, type ConfigFile } from './schema';
export { parseConfigFile } from './parse';
export { loadConfig, type LoadedConfig } from './load';
export { DEFAULT_POLL_EVERY_MS, defaultStallAfterMs, feedSchedule } from './polling';
export { checkRelaySecret } from './secrets';
export { readServiceAccountKey } from './sheets';
export * from './types';
