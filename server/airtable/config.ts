/**
 * The `airtable` section of the config file (docs/airtable.md): which base, which token (named by
 * environment variable, never written in the file), which tables and field names the hub writes, and
 * optionally the webhook that lets Airtable changes reach the hub without automation scripts.
 */
import { Type, type Static } from '@sinclair/typebox';

/** The default base layout: the names the hub uses when the config does not rename them. */
export const DEFAULT_FIELDS = {
  catalog: ['SKU', 'Title', 'On hand', 'Hub on hand', 'Available', 'Low stock at', 'Archived', 'Last synced', 'Sync note'],
  movements: ['Movement', 'When', 'SKU', 'Location', 'Change', 'Reason', 'From', 'Channel', 'Who', 'Note', 'Reference'],
  orders: ['Line', 'When', 'Channel', 'Order', 'SKU', 'Location', 'Quantity', 'Status', 'Note'],
  alerts: ['Alert', 'Opened', 'Severity', 'What', 'SKU', 'Location', 'Channel', 'Message', 'Status', 'Resolved'],
} as const;

export type AirtableTableKey = keyof typeof DEFAULT_FIELDS;

/** The field each table's records are matched on (upsert), so a write repeated after a lost answer changes one record. */
export const MERGE_FIELD: Record<AirtableTableKey, string> = { catalog: 'SKU', movements: 'Movement', orders: 'Line', alerts: 'Alert' };

const DEFAULT_TABLES: Record<AirtableTableKey, string> = { catalog: 'Catalog', movements: 'Movements', orders: 'Orders', alerts: 'Alerts' };

const FieldRenames = Type.Record(Type.String({ minLength: 1, maxLength: 100 }), Type.Union([Type.String({ minLength: 1, maxLength: 100 }), Type.Null()]), {
  description: 'Your field names where they differ from the default layout: { "On hand": "Qty" }. null leaves a field out (the hub does not write it).',
});

const TableSchema = (key: AirtableTableKey) =>
  Type.Union([
    Type.Object(
      {
        table: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: `The table's name or id (default ${DEFAULT_TABLES[key]}).` })),
        fields: Type.Optional(FieldRenames),
      },
      { additionalProperties: false },
    ),
    Type.Literal(false, { description: 'The hub does not write this table.' }),
  ]);

export const AirtableSection = Type.Object(
  {
    baseId: Type.String({ pattern: '^app[A-Za-z0-9]{14}$', description: 'The base the hub writes to: the app… id in its address (airtable.com/appXXXXXXXXXXXXXX/…).' }),
    tokenEnv: Type.String({
      pattern: '^[A-Z_][A-Z0-9_]*$',
      description: 'Environment variable holding a personal access token with data.records:read, data.records:write (and webhook:manage, schema.bases:read for webhooks) on this base. Secrets never go in this file.',
    }),
    endpointUrl: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', description: 'The Airtable API address; only for tests against a fake (default https://api.airtable.com).' })),
    requestsPerSecond: Type.Optional(Type.Integer({ minimum: 1, maximum: 5, description: 'Requests per second to the base (Airtable allows 5; default 5).' })),
    location: Type.Optional(Type.String({ minLength: 1, description: 'The location the Catalog table’s On hand stands for (default: the hub’s default location).' })),
    writeTitles: Type.Optional(Type.Boolean({ description: 'Also write each item’s title into the Catalog table (for a base that only mirrors the sheet; default false: titles are yours).' })),
    catalog: Type.Optional(TableSchema('catalog')),
    movements: Type.Optional(TableSchema('movements')),
    orders: Type.Optional(TableSchema('orders')),
    alerts: Type.Optional(TableSchema('alerts')),
    webhook: Type.Optional(
      Type.Object(
        {
          notificationUrl: Type.String({ format: 'uri', pattern: '^https?://', description: 'The address Airtable pings: this hub’s public address followed by /v1/airtable/webhook.' }),
        },
        { additionalProperties: false, description: 'Have the hub create and refresh an Airtable webhook on the base, so changes made in Airtable reach it without automation scripts.' },
      ),
    ),
  },
  { additionalProperties: false, description: 'Write-back to an Airtable base and, optionally, changes made there (docs/airtable.md).' },
);

export type AirtableSection = Static<typeof AirtableSection>;

export interface AirtableTable {
  table: string;
  /** Default field name → the base's field name (absent: not written). */
  fields: Map<string, string>;
}

export interface AirtableConfig {
  baseId: string;
  token: string;
  /** The environment variable the token came from (for messages; never the token). */
  tokenEnv: string;
  endpointUrl: string;
  requestsPerSecond: number;
  location: string | null;
  writeTitles: boolean;
  tables: Record<AirtableTableKey, AirtableTable | null>;
  webhook: { notificationUrl: string } | null;
}

export class AirtableConfigError extends Error {}

export function airtableConfig(s: AirtableSection | undefined, env: NodeJS.ProcessEnv, locationIds: Set<string>): AirtableConfig | null {
  if (!s) return null;
  const token = env[s.tokenEnv];
  if (!token) throw new AirtableConfigError(`Config file: airtable.tokenEnv names ${s.tokenEnv}, which is not set in the environment. Create a personal access token at airtable.com/create/tokens and put it there.`);
  if (s.location !== undefined && !locationIds.has(s.location)) throw new AirtableConfigError(`Config file: airtable.location "${s.location}" is not one of the locations.`);
  const tables = {} as Record<AirtableTableKey, AirtableTable | null>;
  for (const key of Object.keys(DEFAULT_FIELDS) as AirtableTableKey[]) {
    const t = s[key];
    if (t === false) {
      if (key === 'catalog') throw new AirtableConfigError('Config file: airtable.catalog cannot be false: the Catalog table is what the hub keeps up to date.');
      tables[key] = null;
      continue;
    }
    const renames = t?.fields ?? {};
    const known = new Set<string>(DEFAULT_FIELDS[key]);
    for (const name of Object.keys(renames)) {
      if (!known.has(name)) throw new AirtableConfigError(`Config file: airtable.${key}.fields renames "${name}", which is not one of ${DEFAULT_FIELDS[key].map((f) => `"${f}"`).join(', ')}.`);
    }
    if (renames[MERGE_FIELD[key]] === null) throw new AirtableConfigError(`Config file: airtable.${key}.fields cannot leave out "${MERGE_FIELD[key]}": records are matched on it.`);
    const fields = new Map<string, string>();
    for (const name of DEFAULT_FIELDS[key]) {
      const to = name in renames ? renames[name] : name;
      if (to !== null && to !== undefined) fields.set(name, to);
    }
    if (new Set(fields.values()).size !== fields.size) throw new AirtableConfigError(`Config file: airtable.${key}.fields gives two fields the same name.`);
    tables[key] = { table: t?.table ?? DEFAULT_TABLES[key], fields };
  }
  if (s.endpointUrl !== undefined && !URL.canParse(s.endpointUrl)) throw new AirtableConfigError('Config file: airtable.endpointUrl is not a usable URL.');
  return {
    baseId: s.baseId,
    token,
    tokenEnv: s.tokenEnv,
    endpointUrl: (s.endpointUrl ?? 'https://api.airtable.com').replace(/\/+$/, ''),
    requestsPerSecond: s.requestsPerSecond ?? 5,
    location: s.location ?? null,
    writeTitles: s.writeTitles ?? false,
    tables,
    webhook: s.webhook ? { notificationUrl: s.webhook.notificationUrl } : null,
  };
}
