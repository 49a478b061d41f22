/**
 * The config file's schema (JSON or YAML, `STOCKRELAY_CONFIG`): one TypeBox schema per section, so
 * each section reads on its own and the whole is composed at the end.
 */
import { Type, type Static } from '@sinclair/typebox';
import { AirtableSection } from '../airtable/config';
import { PLATFORM_NAMES } from '../connectors';

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

const LocationsSchema = Type.Array(Type.Object({ id: Id, name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }), { minItems: 1 });

/** One channel: a shop on a platform, its locations, its listing rules and its credentials. */
function channelSchema(platforms: readonly string[]) {
  return Type.Object(
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
  );
}

/** A webhook the hub notifies of level changes, alerts and purchase-order changes. */
const NotifySchema = Type.Object(
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
);

/** How the booking engine paces reconciliation, attribution, polling and fetches. */
const EngineSchema = Type.Object(
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
);

const OrdersSchema = Type.Object(
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
);

const PurchaseOrdersSchema = Type.Object(
  {
    onShort: Type.Optional(ShortPolicySchema),
    customers: Type.Optional(
      Type.Record(Type.String({ minLength: 1, maxLength: 200 }), Type.Object({ onShort: ShortPolicySchema }, { additionalProperties: false }), {
        description: 'A different policy for some customers, by the customer name as it appears on their purchase orders.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Purchase orders from your customers (docs/orders.md): what happens when stock is short.' },
);

const SupplierOrdersSchema = Type.Object(
  {
    onDelay: Type.Optional(
      Type.Union([Type.Literal('hide'), Type.Literal('keep_listed')], {
        description: 'When a supplier marks an order delayed or backordered, items of it that are out of stock are hidden on every channel that can hide (hide), or kept listed even where the channel hides at zero (keep_listed). Default keep_listed. Each supplier order may say otherwise.',
      }),
    ),
  },
  { additionalProperties: false },
);

const ReorderSchema = Type.Object(
  {
    windowDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 365, description: 'Days of sales history the sales rate is taken from (default 28). Days an item was out of stock are left out.' })),
    leadTimeDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365, description: 'Days from ordering to receiving, for items that do not set their own (default 14).' })),
    safetyStock: Type.Optional(Type.Integer({ minimum: 0, description: 'Units kept in hand beyond the expected sales during the lead time, for items that do not set their own (default 0).' })),
    reviewDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365, description: 'Days of sales a suggested order should cover beyond the reorder point (default 14).' })),
    checkEveryMs: Type.Optional(Type.Integer({ minimum: 0, description: 'How often the hub checks days of cover against lead time and raises reorder alerts (default 1 hour; 0: only when asked).' })),
  },
  { additionalProperties: false, description: 'Reorder suggestions (docs/orders.md).' },
);

const SheetsSchema = Type.Object(
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
);

/** How the outbox retries, and when it suspends a failing channel (docs/dispatch.md). */
const DispatchSchema = Type.Object(
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
);

/** The config file's schema; `platforms`: the names a channel may give (the registry's, and a test's own). */
export function configFileSchema(platforms: readonly string[]) {
  return Type.Object(
    {
      locations: Type.Optional(LocationsSchema),
      defaultLocation: Type.Optional(Id),
      channels: Type.Optional(Type.Array(channelSchema(platforms))),
      notify: Type.Optional(Type.Array(NotifySchema)),
      engine: Type.Optional(EngineSchema),
      orders: Type.Optional(OrdersSchema),
      purchaseOrders: Type.Optional(PurchaseOrdersSchema),
      supplierOrders: Type.Optional(SupplierOrdersSchema),
      reorder: Type.Optional(ReorderSchema),
      alerts: Type.Optional(Type.Object({ defaultLowStockThreshold: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])) }, { additionalProperties: false })),
      sheets: Type.Optional(SheetsSchema),
      airtable: Type.Optional(AirtableSection),
      dispatch: Type.Optional(DispatchSchema),
    },
    { additionalProperties: false },
  );
}
export const ConfigFileSchema = configFileSchema(PLATFORMS);
export type ConfigFile = Static<typeof ConfigFileSchema>;
