/**
 * Configuration: environment variables for where things are and secrets, and an optional config file
 * (`STOCKRELAY_CONFIG`, JSON or YAML) for locations, channels, notifications and policies.
 * Everything is checked at start; a wrong key is named in the error.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { AirtableConfigError, AirtableSection, airtableConfig, type AirtableConfig } from './airtable/config';
import { PLATFORM_NAMES, SandboxChoiceError, chooseSandbox, connectorFor } from './connectors';
import type { ConnectorDefinition } from './connectors/types';
import type { ChannelMapping } from './core/views';
import { requiredCredentials } from './connectors/kit/oauth';

const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' });

/** The platforms a channel may name: those with a connector (server/connectors/index.ts). Planned ones are listed in docs/connectors.md. */
export const PLATFORMS: readonly string[] = PLATFORM_NAMES;

const ShortPolicySchema = Type.Union([Type.Literal('reject'), Type.Literal('waitlist'), Type.Literal('split'), Type.Literal('split_waitlist')], {
  description: 'When a purchase order cannot be filled whole from available stock: reject it (with the reason), waitlist it whole (first in, first out), split (reserve what is there, drop the rest), or split_waitlist (reserve what is there, the rest waits). Default waitlist.',
});

export const TOPICS = ['level.changed', 'alert.raised', 'purchase_order.changed'] as const;

const PollEveryMs = Type.Integer({ minimum: 1000, maximum: 86_400_000, description: 'How often a polled feed is read, in ms (docs/polling.md): from 1 s to a day. Default 60 000 (a minute).' });
const PollStallAfterMs = Type.Integer({
  minimum: 1000,
  maximum: 7 * 86_400_000,
  description: 'A feed not read successfully for this long raises a feed_stalled alert (docs/polling.md). Default five intervals, at least 5 minutes; never less than the interval.',
});
const ChannelPollingSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'false: do not poll this channel at all (its webhooks still work).' })),
    everyMs: Type.Optional(PollEveryMs),
    stallAfterMs: Type.Optional(PollStallAfterMs),
    feeds: Type.Optional(
      Type.Record(
        Type.String({ minLength: 1, maxLength: 64 }),
        Type.Object({ enabled: Type.Optional(Type.Boolean()), everyMs: Type.Optional(PollEveryMs), stallAfterMs: Type.Optional(PollStallAfterMs) }, { additionalProperties: false }),
        { description: 'Per feed the connector polls (its capabilities.polled), e.g. {"orders": {"everyMs": 120000}}.' },
      ),
    ),
  },
  { additionalProperties: false, description: 'How the feeds this channel’s platform is polled for are read (docs/polling.md).' },
);

/** The config file's schema; `platforms`: the names a channel may give (the registry's, and a test's own). */
function configFileSchema(platforms: readonly string[]) {
  return Type.Object(
    {
      locations: Type.Optional(
        Type.Array(Type.Object({ id: Id, name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }), { minItems: 1 }),
      ),
      defaultLocation: Type.Optional(Id),
      channels: Type.Optional(
        Type.Array(
          Type.Object(
            {
              id: Id,
              name: Type.String({ minLength: 1, maxLength: 200 }),
              platform: Type.Union(platforms.map((p) => Type.Literal(p)), { description: 'The platform: one with a connector in this version of the hub (docs/connectors.md lists those planned).' }),
              locations: Type.Record(Type.String(), Type.String({ minLength: 1 }), { description: 'Our location id → the platform’s location id.' }),
              buffer: Type.Optional(Type.Integer({ minimum: 0 })),
              cap: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
              hideAtZero: Type.Optional(Type.Boolean({ description: 'Hide the listing when its published level reaches zero.' })),
              relistOnRestock: Type.Optional(Type.Boolean({ description: 'Show a hidden listing again when stock comes back.' })),
              reconcile: Type.Optional(
                Type.Union([Type.Literal('adopt'), Type.Literal('correct'), Type.Literal('flag')], {
                  description: 'What reconciliation does with a level changed on the platform that nobody explains: adopt it as an adjustment from this channel (default), correct the channel to our number, or only flag it (docs/reconcile.md).',
                }),
              ),
              baseUrl: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', description: 'The platform API address; for the platform’s sandbox, or an emulator.' })),
              settings: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), { description: 'Platform settings (shop domain, API version, notification URL, …).' })),
              credentials: Type.Optional(
                Type.Record(Type.String(), Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$' }), { description: 'Credential name → the environment variable that holds it. Secrets never go in this file.' }),
              ),
              polling: Type.Optional(ChannelPollingSchema),
            },
            { additionalProperties: false },
          ),
        ),
      ),
      notify: Type.Optional(
        Type.Array(
          Type.Object(
            {
              id: Id,
              url: Type.String({ format: 'uri', pattern: '^https?://' }),
              secretEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$', description: 'Environment variable holding the whsec_ secret used to sign deliveries.' })),
              topics: Type.Array(Type.Union(TOPICS.map((t) => Type.Literal(t))), { minItems: 1 }),
              format: Type.Optional(
                Type.Union([Type.Literal('standard'), Type.Literal('slack')], {
                  description: 'standard (default): signed JSON {type, timestamp, data}. slack: {"text": "…"} for a Slack (or Mattermost, Teams-compatible) incoming webhook URL; alert.raised only makes sense there.',
                }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
      ),
      engine: Type.Optional(
        Type.Object(
          {
            reconcileEveryMs: Type.Optional(
              Type.Integer({ minimum: 0, description: 'How often every channel is read back and compared (docs/reconcile.md); 0 turns the schedule off. Default 15 minutes.' }),
            ),
            attributionWindowMs: Type.Optional(
              Type.Integer({ minimum: 0, maximum: 3_600_000, description: 'How long a level a channel reports may wait for the order that explains it before it is booked as a change made on that channel (docs/attribution.md).' }),
            ),
            pollEveryMs: Type.Optional(PollEveryMs),
            pollStallAfterMs: Type.Optional(PollStallAfterMs),
            fetchTimeoutMs: Type.Optional(
              Type.Integer({ minimum: 1000, maximum: 120_000, description: 'How long the hub waits for a platform when it fetches what a webhook leaves out (a Square order, a Shopify return) before the event waits and is tried again. Default 10 seconds.' }),
            ),
          },
          { additionalProperties: false },
        ),
      ),
      orders: Type.Optional(
        Type.Object(
          {
            currencies: Type.Optional(
              Type.Array(Type.String({ pattern: '^[A-Z]{3}$' }), {
                minItems: 1,
                uniqueItems: true,
                description: 'The currencies you sell in (ISO 4217, e.g. ["AUD"]); the first is your main one for reports. An order in another currency is kept but flagged, and an alert is raised. Leave out to accept any.',
              }),
            ),
            keepContactDetails: Type.Optional(
              Type.Boolean({ description: 'Keep the buyer’s name and email in the transaction log (default false: only the platform’s customer id is kept). Card data is never kept.' }),
            ),
          },
          { additionalProperties: false, description: 'The merged transaction log (docs/orders.md).' },
        ),
      ),
      purchaseOrders: Type.Optional(
        Type.Object(
          {
            onShort: Type.Optional(ShortPolicySchema),
            customers: Type.Optional(
              Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Type.Object({ onShort: ShortPolicySchema }, { additionalProperties: false }), {
                description: 'A different policy for some customers, by the customer name as it appears on their purchase orders.',
              }),
            ),
          },
          { additionalProperties: false, description: 'Purchase orders from your customers (docs/orders.md): what happens when stock is short.' },
        ),
      ),
      supplierOrders: Type.Optional(
        Type.Object(
          {
            onDelay: Type.Optional(
              Type.Union([Type.Literal('hide'), Type.Literal('keep_listed')], {
                description: 'When a supplier marks an order delayed or backordered, items of it that are out of stock are hidden on every channel that can hide (hide), or kept listed even where the channel hides at zero (keep_listed). Default keep_listed. Each supplier order may say otherwise.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
      ),
      reorder: Type.Optional(
        Type.Object(
          {
            windowDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 365, description: 'Days of sales history the sales rate is taken from (default 28). Days an item was out of stock are left out.' })),
            leadTimeDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365, description: 'Days from ordering to receiving, for items that do not set their own (default 14).' })),
            safetyStock: Type.Optional(Type.Integer({ minimum: 0, description: 'Units kept in hand beyond the expected sales during the lead time, for items that do not set their own (default 0).' })),
            reviewDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365, description: 'Days of sales a suggested order should cover beyond the reorder point (default 14).' })),
            checkEveryMs: Type.Optional(Type.Integer({ minimum: 0, description: 'How often the hub checks days of cover against lead time and raises reorder alerts (default 1 hour; 0: only when asked).' })),
          },
          { additionalProperties: false, description: 'Reorder suggestions (docs/orders.md).' },
        ),
      ),
      alerts: Type.Optional(Type.Object({ defaultLowStockThreshold: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])) }, { additionalProperties: false })),
      sheets: Type.Optional(
        Type.Object(
          {
            spreadsheetId: Type.String({ pattern: '^[A-Za-z0-9_-]{10,200}$', description: 'The Google Sheet the hub writes back to: the long id in its address, between /d/ and /edit.' }),
            credentialsEnv: Type.Optional(
              Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$', description: 'Environment variable holding the service account key (its JSON, or the path of its .json file). Secrets never go in this file.' }),
            ),
            credentialsFile: Type.Optional(Type.String({ minLength: 1, description: 'Path of the service account key file (.json), kept outside the repository. Use this or credentialsEnv.' })),
            baseUrl: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', description: 'The Sheets API address; only for tests against a fake (default https://sheets.googleapis.com/).' })),
            tokenUrl: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', description: 'Google’s OAuth token address; only for tests against a fake (default: the key’s token_uri).' })),
            tabs: Type.Optional(
              Type.Object(
                {
                  catalog: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
                  movements: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
                  orders: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
                  alerts: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
                  conflicts: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
                  purchaseOrders: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
                },
                { additionalProperties: false, description: 'Tab names, when yours differ from Catalog, Movements, Orders, Alerts, Conflicts and Purchase Orders.' },
              ),
            ),
            writesPerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 60, description: 'Write requests per minute to the sheet (Google allows 60 per minute per user; default 60).' })),
          },
          { additionalProperties: false, description: 'Write-back to the Google Sheet through the Sheets API, as a service account the sheet is shared with (docs/sheets.md).' },
        ),
      ),
      airtable: Type.Optional(AirtableSection),
      dispatch: Type.Optional(
        Type.Object(
          {
            maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
            baseDelayMs: Type.Optional(Type.Integer({ minimum: 1 })),
            maxDelayMs: Type.Optional(Type.Integer({ minimum: 1 })),
            leaseMs: Type.Optional(Type.Integer({ minimum: 1000 })),
            timeoutMs: Type.Optional(Type.Integer({ minimum: 100 })),
            suspendAfter: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Failed requests in a row before a channel is suspended (and an alert raised).' })),
            suspendMs: Type.Optional(Type.Integer({ minimum: 1000, description: 'First suspension of a failing channel; doubles on every failed try, up to 15 minutes.' })),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  );
}
export const ConfigFileSchema = configFileSchema(PLATFORMS);
export type ConfigFile = Static<typeof ConfigFileSchema>;

/** A channel's settings: where it maps our locations and how much it shows (`ChannelMapping`, what the rules read), and more. */
export interface ChannelConfig extends ChannelMapping {
  hideAtZero: boolean;
  relistOnRestock: boolean;
  /** docs/reconcile.md: adopt, correct or flag a change made on the platform. */
  reconcile: 'adopt' | 'correct' | 'flag';
  baseUrl: string | null;
  settings: Record<string, string | number | boolean>;
  /** Credential values read from the environment. Never logged, never returned by the API. */
  credentials: Record<string, string>;
  /** How the channel's polled feeds are read (docs/polling.md); absent: the hub's defaults. */
  polling?: ChannelPolling;
}

/** One polled feed's schedule (docs/polling.md). */
export interface FeedSchedule {
  enabled: boolean;
  everyMs: number;
  /** No successful poll for this long raises the `feed_stalled` alert. */
  stallAfterMs: number;
}

/** A channel's `polling` section as written: whatever it leaves out comes from `engine`. */
export interface ChannelPolling {
  enabled?: boolean;
  everyMs?: number;
  stallAfterMs?: number;
  feeds?: Record<string, { enabled?: boolean; everyMs?: number; stallAfterMs?: number }>;
}

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

export interface NotifyConfig {
  id: string;
  url: string;
  secret: string | null;
  topics: (typeof TOPICS)[number][];
  format: 'standard' | 'slack';
}

export interface DispatchConfig {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  leaseMs: number;
  timeoutMs: number;
  /** Failed requests in a row before a channel is suspended (docs/dispatch.md). */
  suspendAfter?: number;
  suspendMs?: number;
}

/** A Google service account key, as read from its .json file. Never logged, never returned by the API. */
export interface ServiceAccountKey {
  clientEmail: string;
  privateKey: string;
  privateKeyId: string | null;
  tokenUri: string | null;
}

export interface SheetsConfig {
  spreadsheetId: string;
  credentials: ServiceAccountKey;
  baseUrl: string | null;
  tokenUrl: string | null;
  tabs: { catalog: string; movements: string; orders: string; alerts: string; conflicts: string; purchaseOrders: string };
  writesPerMinute: number;
}

export interface HubConfig {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  /** PostgreSQL schema for the hub's tables (STOCKRELAY_PG_SCHEMA); the connection's own when unset. */
  pgSchema: string | undefined;
  configFile: string | undefined;
  /** One or more whsec_ secrets; several are accepted while a secret is being rotated. */
  relaySecrets: string[];
  adminToken: string;
  /**
   * The key each credential's relay secret is derived from (docs/security.md): STOCKRELAY_CREDENTIAL_KEY,
   * else `credentialKey` in data/secrets.json, else derived from the admin token.
   */
  credentialKey: string;
  logLevel: string;
  locations: { id: string; name: string }[];
  defaultLocation: string;
  channels: ChannelConfig[];
  notify: NotifyConfig[];
  defaultLowStockThreshold: number | null;
  /** docs/attribution.md: how long an unexplained channel level waits for its order. */
  attributionWindowMs: number;
  /** docs/reconcile.md: 0 = only on demand. */
  reconcileEveryMs: number;
  /** docs/inbox-outbox.md "Prepare, then book": how long a fetch for a thin event may take. */
  fetchTimeoutMs: number;
  /** docs/polling.md: the hub's defaults for every polled feed (`engine.pollEveryMs`, `engine.pollStallAfterMs`). */
  polling?: { everyMs: number; stallAfterMs: number | undefined };
  dispatch: DispatchConfig;
  /** Write-back to the Google Sheet (docs/sheets.md); null when not configured. */
  sheets: SheetsConfig | null;
  /** Write-back to an Airtable base, and its webhook (docs/airtable.md); null when not configured. */
  airtable: AirtableConfig | null;
  orders: OrdersConfig;
  purchaseOrders: PurchaseOrdersConfig;
  supplierOrders: { onDelay: 'hide' | 'keep_listed' };
  reorder: ReorderConfig;
}

export type ShortPolicy = 'reject' | 'waitlist' | 'split' | 'split_waitlist';

export interface OrdersConfig {
  /** Accepted currencies, main first; empty: any. */
  currencies: string[];
  keepContactDetails: boolean;
}

export interface PurchaseOrdersConfig {
  onShort: ShortPolicy;
  customers: Record<string, { onShort: ShortPolicy }>;
}

export interface ReorderConfig {
  windowDays: number;
  leadTimeDays: number;
  safetyStock: number;
  reviewDays: number;
  checkEveryMs: number;
}

export class ConfigError extends Error {}

/**
 * A channel's `polling` section, checked against what its connector polls: a feed it does not poll,
 * or an alert that would come before the first chance to poll, is refused with the reason.
 */
function checkPolling(p: ChannelPolling, where: string, polled: readonly string[] | null, platform: string): ChannelPolling {
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

function pollingDefaults(everyMs: number | undefined, stallAfterMs: number | undefined): { everyMs: number; stallAfterMs: number | undefined } {
  const every = everyMs ?? DEFAULT_POLL_EVERY_MS;
  if (stallAfterMs !== undefined && stallAfterMs < every) {
    throw new ConfigError(`Config file: engine.pollStallAfterMs (${stallAfterMs}) is shorter than engine.pollEveryMs (${every}): every feed would be called stalled before it is due again. Give at least ${every}.`);
  }
  return { everyMs: every, stallAfterMs };
}

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validators = new Map<string, ValidateFunction>([[PLATFORMS.join(','), ajv.compile(ConfigFileSchema)]]);
function validatorFor(platforms: readonly string[]): ValidateFunction {
  const key = platforms.join(',');
  let v = validators.get(key);
  if (!v) validators.set(key, (v = ajv.compile(configFileSchema(platforms))));
  return v;
}

function describeError(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
  if (e.keyword === 'additionalProperties') return `${where}: unknown key "${String(e.params.additionalProperty)}"`;
  if (e.keyword === 'enum' || e.keyword === 'const') return `${where}: must be one of ${JSON.stringify(e.params.allowedValues ?? e.params.allowedValue)}`;
  return `${where}: ${e.message ?? 'is not valid'}`;
}

/** Parses and checks a config file's text; `name` is used in messages. */
export function parseConfigFile(text: string, name: string, platforms: readonly string[] = PLATFORMS): ConfigFile {
  const validateFile = validatorFor(platforms);
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(name) ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Config file ${name} cannot be read: ${(err as Error).message}`);
  }
  if (raw === null || raw === undefined) raw = {};
  if (!validateFile(raw)) {
    const seen = new Set<string>();
    const errors = (validateFile.errors ?? []).filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'union');
    // A value that must be one of several (a union of constants) is one mistake, said once.
    const allowed = new Map<string, unknown[]>();
    for (const e of errors) if (e.keyword === 'const') allowed.set(e.instancePath, [...(allowed.get(e.instancePath) ?? []), e.params.allowedValue]);
    const lines = errors
      .map((e) => {
        if (e.keyword !== 'const') return describeError(e);
        const where = e.instancePath.slice(1).replace(/\//g, '.');
        const values = allowed.get(e.instancePath)!;
        if (/^channels\.\d+\.platform$/.test(where)) {
          const given = where.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], raw);
          return `${where}: ${JSON.stringify(given)} has no connector in this hub; it connects ${values.join(', ')} (docs/connectors.md lists the platforms planned)`;
        }
        return `${where}: must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
      })
      .filter((l) => (seen.has(l) ? false : (seen.add(l), true)));
    throw new ConfigError(`Config file ${name} has ${lines.length === 1 ? 'a problem' : 'problems'}:\n  - ${lines.join('\n  - ')}`);
  }
  return raw as ConfigFile;
}

function intFromEnv(env: NodeJS.ProcessEnv, key: string, fallback: number, min: number, max: number): number {
  const v = env[key];
  if (v === undefined || v === '') return fallback;
  const n = /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${key} must be a whole number from ${min} to ${max}, got "${v}".`);
  return n;
}

interface Secrets {
  relaySecret: string;
  adminToken: string;
  /** Added on the first start of a hub version that has credentials (docs/security.md). */
  credentialKey: string;
}

const newCredentialKey = () => crypto.randomBytes(32).toString('base64url');

/**
 * When no secrets are given in the environment, the hub makes its own on first start and keeps them
 * in `<data dir>/secrets.json` (readable by the owner only; the data folder is git-ignored).
 */
function localSecrets(dataDir: string): Secrets & { file: string; created: boolean } {
  const file = path.resolve(dataDir, 'secrets.json');
  if (fs.existsSync(file)) {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Secrets>;
    if (typeof s.relaySecret !== 'string' || typeof s.adminToken !== 'string') throw new ConfigError(`${file} is damaged: it needs "relaySecret" and "adminToken".`);
    if (typeof s.credentialKey !== 'string' || s.credentialKey.length < 32) {
      s.credentialKey = newCredentialKey();
      fs.writeFileSync(file, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
    }
    return { relaySecret: s.relaySecret, adminToken: s.adminToken, credentialKey: s.credentialKey, file, created: false };
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secrets: Secrets = {
    relaySecret: `whsec_${crypto.randomBytes(32).toString('base64')}`,
    adminToken: crypto.randomBytes(24).toString('base64url'),
    credentialKey: newCredentialKey(),
  };
  fs.writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600 });
  return { ...secrets, file, created: true };
}

export function checkRelaySecret(secret: string, name: string): string {
  const m = /^whsec_([A-Za-z0-9+/=]+)$/.exec(secret);
  if (!m || Buffer.from(m[1] ?? '', 'base64').length < 24) {
    throw new ConfigError(`${name} must look like "whsec_" followed by at least 24 random bytes in base64 (for example the output of: node -e "console.log('whsec_'+require('crypto').randomBytes(32).toString('base64'))").`);
  }
  return secret;
}

/**
 * Reads a service account key: JSON text, or the path of a .json file. Messages name where it came
 * from, never what it holds.
 */
export function readServiceAccountKey(value: string, where: string): ServiceAccountKey {
  let text = value.trim();
  if (!text.startsWith('{')) {
    try {
      text = fs.readFileSync(text, 'utf8');
    } catch (err) {
      throw new ConfigError(`${where} names a key file that cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}). Give the path of the .json key of the service account, or the key itself.`);
    }
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new ConfigError(`${where}: the service account key is not valid JSON. Download the key again (Google Cloud console › IAM › Service accounts › Keys › Add key › JSON).`);
  }
  if (raw === null || typeof raw !== 'object' || raw.type !== 'service_account') throw new ConfigError(`${where}: this is not a service account key (its "type" should be "service_account").`);
  const email = raw.client_email;
  const key = raw.private_key;
  if (typeof email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(email)) throw new ConfigError(`${where}: the service account key has no client_email.`);
  if (typeof key !== 'string' || !key.includes('PRIVATE KEY')) throw new ConfigError(`${where}: the service account key has no private_key.`);
  return { clientEmail: email, privateKey: key, privateKeyId: typeof raw.private_key_id === 'string' ? raw.private_key_id : null, tokenUri: typeof raw.token_uri === 'string' ? raw.token_uri : null };
}

function sheetsConfig(file: ConfigFile, env: NodeJS.ProcessEnv): SheetsConfig | null {
  const s = file.sheets;
  if (!s) return null;
  if ((s.credentialsEnv === undefined) === (s.credentialsFile === undefined)) throw new ConfigError('Config file: sheets needs exactly one of credentialsEnv (the environment variable holding the service account key) and credentialsFile (the path of its .json file).');
  let credentials: ServiceAccountKey;
  if (s.credentialsEnv !== undefined) {
    const v = env[s.credentialsEnv];
    if (!v) throw new ConfigError(`Config file: sheets.credentialsEnv names ${s.credentialsEnv}, which is not set in the environment.`);
    credentials = readServiceAccountKey(v, s.credentialsEnv);
  } else {
    credentials = readServiceAccountKey(s.credentialsFile!.trim().startsWith('{') ? `./${s.credentialsFile!}` : s.credentialsFile!, 'sheets.credentialsFile');
  }
  for (const k of ['baseUrl', 'tokenUrl'] as const) {
    if (s[k] !== undefined && !URL.canParse(s[k])) throw new ConfigError(`Config file: sheets.${k} is not a usable URL (it needs a host).`);
  }
  const t = s.tabs ?? {};
  const tabs = { catalog: t.catalog ?? 'Catalog', movements: t.movements ?? 'Movements', orders: t.orders ?? 'Orders', alerts: t.alerts ?? 'Alerts', conflicts: t.conflicts ?? 'Conflicts', purchaseOrders: t.purchaseOrders ?? 'Purchase Orders' };
  if (new Set(Object.values(tabs)).size !== 6) throw new ConfigError('Config file: sheets.tabs names the same tab twice.');
  return { spreadsheetId: s.spreadsheetId, credentials, baseUrl: s.baseUrl ?? null, tokenUrl: s.tokenUrl ?? null, tabs, writesPerMinute: s.writesPerMinute ?? 60 };
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
  let file: ConfigFile = {};
  if (configFile) {
    let text: string;
    try {
      text = fs.readFileSync(configFile, 'utf8');
    } catch (err) {
      throw new ConfigError(`STOCKRELAY_CONFIG names ${configFile}, which cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    file = parseConfigFile(text, configFile, platforms);
  }

  const locations = file.locations ?? [{ id: 'main', name: 'Main' }];
  const locationIds = new Set(locations.map((l) => l.id));
  if (locationIds.size !== locations.length) throw new ConfigError('Config file: two locations share the same id.');
  const defaultLocation = file.defaultLocation ?? locations[0]!.id;
  if (!locationIds.has(defaultLocation)) throw new ConfigError(`Config file: defaultLocation "${defaultLocation}" is not one of the locations (${[...locationIds].join(', ')}).`);

  const channels: ChannelConfig[] = (file.channels ?? []).map((c, i) => {
    for (const ours of Object.keys(c.locations)) {
      if (!locationIds.has(ours)) throw new ConfigError(`Config file: channels.${i}.locations names location "${ours}", which is not declared under locations.`);
    }
    const credentials: Record<string, string> = {};
    for (const [name, envName] of Object.entries(c.credentials ?? {})) {
      const v = env[envName];
      if (!v) throw new ConfigError(`Config file: channels.${i}.credentials.${name} names ${envName}, which is not set in the environment.`);
      credentials[name] = v;
    }
    // The schema's "uri" format lets through addresses no client can use, such as "http://".
    if (c.baseUrl !== undefined && !URL.canParse(c.baseUrl)) throw new ConfigError(`Config file: channels.${i}.baseUrl is not a usable URL (it needs a host).`);
    const settings = c.settings ?? {};
    const def = extra.find((d) => d.platform === c.platform) ?? connectorFor(c.platform);
    if (def) {
      // A channel that uses OAuth (docs/credentials-oauth.md) names the app's client id and secret instead of a token.
      for (const name of requiredCredentials(def, credentials)) {
        if (!(name in credentials)) throw new ConfigError(`Config file: channels.${i} (${c.platform}) needs credentials.${name}: the name of the environment variable holding it.`);
      }
      for (const name of def.requiredSettings) {
        if (settings[name] === undefined || settings[name] === '') {
          const help = def.settingHelp?.[name];
          throw new ConfigError(`Config file: channels.${i} (${c.platform}) needs settings.${name}.${help ? ` ${help}` : ''}`);
        }
      }
    }
    return {
      id: c.id,
      name: c.name,
      platform: c.platform,
      locations: c.locations,
      buffer: c.buffer ?? 0,
      cap: c.cap ?? null,
      hideAtZero: c.hideAtZero ?? false,
      relistOnRestock: c.relistOnRestock ?? c.hideAtZero ?? false,
      reconcile: c.reconcile ?? 'adopt',
      baseUrl: c.baseUrl ?? null,
      settings,
      credentials,
      ...(c.polling ? { polling: checkPolling(c.polling, `channels.${i}`, def?.capabilities.polled ?? null, c.platform) } : {}),
    };
  });
  if (new Set(channels.map((c) => c.id)).size !== channels.length) throw new ConfigError('Config file: two channels share the same id.');

  const notify: NotifyConfig[] = (file.notify ?? []).map((n, i) => {
    if (!URL.canParse(n.url)) throw new ConfigError(`Config file: notify.${i}.url is not a usable URL (it needs a host).`);
    let secret: string | null = null;
    if (n.secretEnv) {
      const v = env[n.secretEnv];
      if (!v) throw new ConfigError(`Config file: notify.${i}.secretEnv names ${n.secretEnv}, which is not set in the environment.`);
      secret = checkRelaySecret(v, n.secretEnv);
    }
    return { id: n.id, url: n.url, secret, topics: n.topics, format: n.format ?? 'standard' };
  });

  let relaySecrets: string[];
  let adminToken: string;
  let credentialKey: string | undefined = env.STOCKRELAY_CREDENTIAL_KEY || undefined;
  if (credentialKey !== undefined && credentialKey.length < 32) throw new ConfigError('STOCKRELAY_CREDENTIAL_KEY must be at least 32 characters long (for example the output of: node -e "console.log(require(\'crypto\').randomBytes(32).toString(\'base64url\'))").');
  if (env.STOCKRELAY_RELAY_SECRET && env.STOCKRELAY_ADMIN_TOKEN) {
    relaySecrets = env.STOCKRELAY_RELAY_SECRET.split(',').map((s) => checkRelaySecret(s.trim(), 'STOCKRELAY_RELAY_SECRET'));
    adminToken = env.STOCKRELAY_ADMIN_TOKEN;
    if (credentialKey === undefined) {
      // Deterministic, so a hub without a data folder of its own keeps its credentials' relay secrets across restarts.
      credentialKey = crypto.createHmac('sha256', adminToken).update('stockrelay credential key v1').digest('base64url');
      notices.push('No STOCKRELAY_CREDENTIAL_KEY in the environment: the relay secrets of credentials are derived from the admin token, so changing STOCKRELAY_ADMIN_TOKEN changes them too. Set STOCKRELAY_CREDENTIAL_KEY to keep them apart (docs/security.md).');
    }
  } else {
    const local = localSecrets(dataDir);
    relaySecrets = env.STOCKRELAY_RELAY_SECRET ? env.STOCKRELAY_RELAY_SECRET.split(',').map((s) => checkRelaySecret(s.trim(), 'STOCKRELAY_RELAY_SECRET')) : [local.relaySecret];
    adminToken = env.STOCKRELAY_ADMIN_TOKEN || local.adminToken;
    credentialKey ??= local.credentialKey;
    const fromFile = [env.STOCKRELAY_RELAY_SECRET ? null : 'the relay secret', env.STOCKRELAY_ADMIN_TOKEN ? null : 'the admin token'].filter(Boolean).join(' and ');
    const missing = [env.STOCKRELAY_RELAY_SECRET ? null : 'STOCKRELAY_RELAY_SECRET', env.STOCKRELAY_ADMIN_TOKEN ? null : 'STOCKRELAY_ADMIN_TOKEN'].filter(Boolean).join(' and ');
    notices.push(
      local.created
        ? `No ${missing} in the environment: using ${fromFile} generated in ${local.file}.${env.STOCKRELAY_RELAY_SECRET ? '' : ' Keep them on this machine: give the sheet and each Airtable base a credential of its own instead (npx stockrelay credentials create --help).'}`
        : `Using ${fromFile} kept in ${local.file}.`,
    );
  }
  // The sandbox's platforms are checked at start, like everything else; server/start.ts uses them.
  try {
    chooseSandbox(env.STOCKRELAY_SANDBOX);
  } catch (err) {
    if (err instanceof SandboxChoiceError) throw new ConfigError(err.message);
    throw err;
  }
  const pgSchema = env.STOCKRELAY_PG_SCHEMA || undefined;
  if (pgSchema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(pgSchema)) {
    throw new ConfigError(`STOCKRELAY_PG_SCHEMA must be a lower-case PostgreSQL name (letters, digits and _, not starting with a digit), got "${pgSchema}".`);
  }

  if (adminToken.length < 16) throw new ConfigError('STOCKRELAY_ADMIN_TOKEN must be at least 16 characters long.');

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
    },
    notices,
  };
}
