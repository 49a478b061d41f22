/**
 * `loadConfig`: the environment and the config file, read and checked in one pass at start. The
 * sections are checked in the order a reader finds them in the file (locations, channels, notify),
 * then the secrets and the settings of the environment; the first problem found is the error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AirtableConfigError, airtableConfig } from '../airtable/config';
import { SandboxChoiceError, chooseSandbox } from '../connectors';
import type { ConnectorDefinition } from '../connectors/types';
import { channelConfigs, notifyConfigs } from './channels';
import { parseConfigFile } from './parse';
import { pollingDefaults } from './polling';
import { PLATFORMS, type ConfigFile } from './schema';
import { hubSecrets } from './secrets';
import { sheetsConfig } from './sheets';
import { ConfigError, type DispatchConfig, type HubConfig } from './types';

function intFromEnv(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const v = env[key];
  if (v === undefined || v === '') return fallback;
  const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${key} must be a whole number from ${min} to ${max}, got "${v}".`);
  return n;
}


function withConfigError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof AirtableConfigError) throw new ConfigError(err.message);
    throw err;
  }
}

export interface LoadedConfig {
  config: HubConfig;
  /** Things worth telling the operator at start (never a secret's value). */
  notices: string[];
}

/**
 * `opts.connectors`: platforms beyond the registry's that this hub is built with (`createHub`'s
 * `connectors`; tests give an in-test platform this way).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, opts: { connectors?: readonly ConnectorDefinition[] } = {}): LoadedConfig {
  const extra = opts.connectors ?? [];
  const platforms = [...new Set([...PLATFORMS, ...extra.map((d) => d.platform)])];
  const notices: string[] = [];
  const dataDir = path.resolve(env.STOCKRELAY_DATA_DIR || './data');
  const configFile = env.STOCKRELAY_CONFIG || undefined;
  const file: ConfigFile = configFile ? readConfigFile(configFile, platforms) : {};

  const { locations, locationIds, defaultLocation } = checkLocations(file);
  const channels = channelConfigs(file, env, locationIds, extra);
  const notify = notifyConfigs(file, env);
  const { relaySecrets, adminToken, credentialKey } = hubSecrets(env, dataDir, notices);
  checkSandboxChoice(env);
  const pgSchema = pgSchemaFrom(env);
  if (adminToken.length < 16) throw new ConfigError('STOCKRELAY_ADMIN_TOKEN must be at least 16 characters long.');
  const dispatch = dispatchConfig(file);

  return {
    config: {
      port: intFromEnv(env, 'PORT', 8080, 0, 65535),
      host: env.HOST || '0.0.0.0',
      dataDir,
      databaseUrl: env.DATABASE_URL || undefined,
      pgSchema,
      configFile,
      relaySecrets,
      adminToken,
      credentialKey,
      logLevel: env.LOG_LEVEL || 'info',
      locations,
      defaultLocation,
      channels,
      notify,
      defaultLowStockThreshold: file.alerts?.defaultLowStockThreshold ?? null,
      attributionWindowMs: file.engine?.attributionWindowMs ?? 15_000,
      reconcileEveryMs: file.engine?.reconcileEveryMs ?? 15 * 60_000,
      fetchTimeoutMs: file.engine?.fetchTimeoutMs ?? 10_000,
      polling: pollingDefaults(file.engine?.pollEveryMs, file.engine?.pollStallAfterMs),
      dispatch,
      sheets: sheetsConfig(file, env),
      airtable: withConfigError(() => airtableConfig(file.airtable, env, locationIds)),
      ...ordersSections(file),
    },
    notices,
  };
}

function readConfigFile(configFile: string, platforms: readonly string[]): ConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(configFile, 'utf8');
  } catch (err) {
    throw new ConfigError(`STOCKRELAY_CONFIG names ${configFile}, which cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseConfigFile(text, configFile, platforms);
}

/** The locations (one called main when none are given) and the default one, which must be among them. */
function checkLocations(file: ConfigFile): { locations: HubConfig['locations']; locationIds: Set<string>; defaultLocation: string } {
  const locations = file.locations ?? [{ id: 'main', name: 'Main' }];
  const locationIds = new Set(locations.map((l) => l.id));
  if (locationIds.size !== locations.length) throw new ConfigError('Config file: two locations share the same id.');
  const defaultLocation = file.defaultLocation ?? locations[0]!.id;
  if (!locationIds.has(defaultLocation)) throw new ConfigError(`Config file: defaultLocation "${defaultLocation}" is not one of the locations (${[...locationIds].join(', ')}).`);
  return { locations, locationIds, defaultLocation };
}

/** The sandbox's platforms are checked at start, like everything else; server/start.ts uses them. */
function checkSandboxChoice(env: NodeJS.ProcessEnv): void {
  try {
    chooseSandbox(env.STOCKRELAY_SANDBOX);
  } catch (err) {
    if (err instanceof SandboxChoiceError) throw new ConfigError(err.message);
    throw err;
  }
}

function pgSchemaFrom(env: NodeJS.ProcessEnv): string | undefined {
  const pgSchema = env.STOCKRELAY_PG_SCHEMA || undefined;
  if (pgSchema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(pgSchema)) {
    throw new ConfigError(`STOCKRELAY_PG_SCHEMA must be a lower-case PostgreSQL name (letters, digits and _, not starting with a digit), got "${pgSchema}".`);
  }
  return pgSchema;
}

function dispatchConfig(file: ConfigFile): DispatchConfig {
  const d = file.dispatch ?? {};
  const dispatch: DispatchConfig = {
    maxAttempts: d.maxAttempts ?? 8,
    baseDelayMs: d.baseDelayMs ?? 1000,
    maxDelayMs: d.maxDelayMs ?? 10 * 60_000,
    leaseMs: d.leaseMs ?? 60_000,
    timeoutMs: d.timeoutMs ?? 10_000,
    suspendAfter: d.suspendAfter ?? 5,
    suspendMs: d.suspendMs ?? 30_000,
  };
  if (dispatch.maxDelayMs < dispatch.baseDelayMs) throw new ConfigError('Config file: dispatch.maxDelayMs must not be smaller than dispatch.baseDelayMs.');
  return dispatch;
}

/** The transaction log, purchase orders, supplier orders and reorder suggestions, with their defaults. */
function ordersSections(file: ConfigFile): Pick<HubConfig, 'orders' | 'purchaseOrders' | 'supplierOrders' | 'reorder'> {
  return {
    orders: { currencies: file.orders?.currencies ?? [], keepContactDetails: file.orders?.keepContactDetails ?? false },
    purchaseOrders: { onShort: file.purchaseOrders?.onShort ?? 'waitlist', customers: file.purchaseOrders?.customers ?? {} },
    supplierOrders: { onDelay: file.supplierOrders?.onDelay ?? 'keep_listed' },
    reorder: {
      windowDays: file.reorder?.windowDays ?? 28,
      leadTimeDays: file.reorder?.leadTimeDays ?? 14,
      safetyStock: file.reorder?.safetyStock ?? 0,
      reviewDays: file.reorder?.reviewDays ?? 14,
      checkEveryMs: file.reorder?.checkEveryMs ?? 60 * 60_000,
    },
  };
}
