/**
 * The hub's API, described once. Express validates every request against this document
 * (express-openapi-validator); the relay body is checked against the same `Relay` schema after its
 * signature is verified; tests validate every response against it.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { REASONS, SOURCES } from '../core/ledger';
import { ADJUSTMENT_REASONS, Relay } from '../shared/relay';
import { MAX_QUANTITY, MAX_QUANTITY_TEXT } from '../shared/quantity';
import { PurchaseOrderRequest, ReceiptRequest, SupplierOrderRequest, SupplierStatusRequest, orderPaths } from './orders-openapi';
import { credentialPaths, CredentialSchemas } from './credentials-openapi';
import { applyScopes } from './scopes';
import { CONNECTORS, inWords } from '../connectors';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code.' }),
      message: Type.String({ description: 'What went wrong and what to do, in plain words.' }),
      details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    }),
  },
  { title: 'Error' },
);

const ChannelLevel = Type.Object({
  channelId: Type.String(),
  channelName: Type.String(),
  platform: Type.String(),
  channelLocationId: Type.String(),
  published: Type.Integer({ minimum: 0 }),
});

const LocationLevel = Type.Object({
  locationId: Type.String(),
  onHand: Type.Integer(),
  reserved: Type.Integer(),
  available: Type.Integer(),
  channels: Type.Array(ChannelLevel),
});

export const ItemView = Type.Object(
  {
    sku: Type.String(),
    title: Nullable(Type.String()),
    lowStockThreshold: Nullable(Type.Integer()),
    status: Type.Union([Type.Literal('active'), Type.Literal('archived')]),
    onHand: Type.Integer({ description: 'Sum over locations.' }),
    available: Type.Integer({ description: 'Sum over locations.' }),
    locations: Type.Array(LocationLevel),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    archivedAt: Nullable(Timestamp),
  },
  { title: 'Item' },
);

const ListingRefView = Type.Object({ productId: Type.String(), variantId: Type.String(), inventoryItemId: Type.Optional(Type.String()) });
const PlatformListingView = Type.Object({ sku: Nullable(Type.String()), title: Type.String(), ref: ListingRefView });
export const DiscoveryReport = Type.Object(
  {
    matched: Type.Array(Type.Object({ sku: Type.String(), ref: ListingRefView, title: Type.String() })),
    unmatched: Type.Array(PlatformListingView, { description: 'Listings with no SKU, or a SKU not in the catalog.' }),
    duplicated: Type.Array(Type.Object({ sku: Type.String(), listings: Type.Array(PlatformListingView) }), { description: 'SKUs listed more than once: not mapped until fixed on the platform.' }),
    missing: Type.Array(Type.String(), { description: 'Catalog SKUs the channel does not list.' }),
  },
  { title: 'DiscoveryReport' },
);

export const MovementView = Type.Object(
  {
    id: Type.Integer(),
    sku: Type.String(),
    locationId: Type.String(),
    quantity: Type.Integer(),
    reason: Type.Union(REASONS.map((r) => Type.Literal(r))),
    source: Type.Union(SOURCES.map((s) => Type.Literal(s))),
    countedQuantity: Nullable(Type.Integer()),
    channelId: Nullable(Type.String()),
    externalRef: Nullable(Type.String()),
    actor: Nullable(Type.String()),
    note: Nullable(Type.String()),
    eventId: Nullable(Type.Integer()),
    idempotencyKey: Type.String(),
    occurredAt: Timestamp,
    recordedAt: Timestamp,
  },
  { title: 'Movement' },
);

const CommandResult = Type.Object({
  sku: Type.String(),
  location: Type.Optional(Type.String()),
  result: Type.String(),
  message: Type.String(),
  movementId: Type.Optional(Type.Integer()),
  quantity: Type.Optional(Type.Integer()),
  conflictId: Type.Optional(Type.Integer({ description: 'A sheet edit that became a conflict, or the conflict a decision was about.' })),
});

const EventStatus = Type.Union(['received', 'processed', 'unmatched', 'rejected', 'conflict', 'failed'].map((s) => Type.Literal(s)));

export const EventView = Type.Object(
  {
    id: Type.Integer(),
    source: Type.String(),
    kind: Type.String(),
    status: EventStatus,
    results: Type.Array(CommandResult),
    error: Type.Optional(Type.String()),
    via: Type.Optional(Type.Union([Type.Literal('webhook'), Type.Literal('poll')], { description: 'Channel events only: whether the platform pushed it (webhook) or the hub found it polling one of the channel’s feeds (docs/polling.md).' })),
    waiting: Type.Optional(Type.String({ description: 'Why a received event is not booked yet: its platform did not answer while the hub fetched what the event leaves out. It is tried again at retryAt.' })),
    retryAt: Type.Optional(Timestamp),
    facts: Type.Optional(
      Type.Union([Type.Array(Type.Unknown()), Type.Null()], {
        description: 'Channel events only, on GET /v1/events/{id}: the facts the hub found in the event before booking it (sales, refunds, levels reported), with what the platform had to be asked for; null until found, or when the event could not be read.',
      }),
    ),
    attempts: Type.Integer(),
    receivedAt: Timestamp,
    processedAt: Nullable(Timestamp),
    body: Type.Optional(Type.Unknown({ description: 'The event as received (only on GET /v1/events/{id}): its JSON, or the text exactly as received when it is not JSON or nests deeper than 64 levels.' })),
  },
  { title: 'Event' },
);

const Accepted = Type.Object(
  {
    eventId: Type.Integer(),
    status: EventStatus,
    results: Type.Array(CommandResult),
    message: Type.String(),
  },
  { title: 'EventAccepted' },
);

export const AlertView = Type.Object(
  {
    id: Type.Integer(),
    kind: Type.String(),
    severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
    sku: Nullable(Type.String()),
    locationId: Nullable(Type.String()),
    channelId: Nullable(Type.String({ description: 'The channel an alert is about as a whole (failing, suspended); null for stock alerts.' })),
    message: Type.String(),
    status: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
    openedAt: Timestamp,
    resolvedAt: Nullable(Timestamp),
  },
  { title: 'Alert' },
);

export const ConflictView = Type.Object(
  {
    id: Type.Integer(),
    key: Type.String({ description: 'The edit’s own booking key.' }),
    eventId: Nullable(Type.Integer({ description: 'The inbound event (relay) that carried the edit.' })),
    sku: Type.String(),
    locationId: Type.String(),
    sheetShowed: Nullable(Type.Integer({ description: 'What the cell showed before the edit (null: unknown).' })),
    typed: Type.Integer({ description: 'What was typed.' }),
    hubHad: Type.Integer({ description: 'The hub’s on hand when the conflict was found.' }),
    hubNow: Type.Integer({ description: 'The hub’s on hand now.' }),
    source: Type.String(),
    actor: Nullable(Type.String()),
    editedAt: Timestamp,
    foundAt: Timestamp,
    status: Type.Union([Type.Literal('open'), Type.Literal('accepted'), Type.Literal('rejected')]),
    resolvedAt: Nullable(Timestamp),
    resolvedBy: Nullable(Type.String()),
    movementId: Nullable(Type.Integer({ description: 'The count booked when it was accepted.' })),
    resolution: Nullable(Type.String({ description: 'What was done, in words.' })),
  },
  { title: 'Conflict' },
);

export const ConflictDecisionRequest = Type.Object(
  {
    actor: Type.Optional(Type.String({ maxLength: 200, description: 'Who decided (an email address or a name).' })),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
    origin: Type.Optional(Type.Union([Type.Literal('sidebar'), Type.Literal('api')], { description: 'Where the decision was made; recorded as the source of the count an accept books.' })),
  },
  { additionalProperties: false, title: 'ConflictDecisionRequest' },
);

const ConflictDecided = Type.Object(
  {
    conflict: Type.Ref('Conflict'),
    eventId: Nullable(Type.Integer({ description: 'The inbound event that carried the decision; null when nothing new was stored.' })),
    message: Type.String(),
  },
  { title: 'ConflictDecided' },
);

export const DeadLetterView = Type.Object(
  {
    id: Type.Integer(),
    sink: Type.String(),
    topic: Type.String(),
    attempts: Type.Integer(),
    lastError: Nullable(Type.String()),
    payload: Type.Unknown(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { title: 'DeadLetter' },
);

const Page = <T extends TSchema>(name: string, t: T) =>
  Type.Object({ [name]: Type.Array(t), nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` to get the next page; null on the last page.' })) });

const json = (schema: TSchema, description: string) => ({ description, content: { 'application/json': { schema } } });
const err = (description: string) => json(Type.Ref('Error'), description);
const limit = { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } };
const cursor = { name: 'cursor', in: 'query', required: false, schema: { type: 'string', maxLength: 200 } };
const skuParam = { name: 'sku', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 120 } };
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Send the same key again to repeat a request safely: it is booked once.',
  schema: { type: 'string', minLength: 1, maxLength: 200 },
};
const admin = [{ adminToken: [] }];
const channelParam = { name: 'channelId', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 64 } };
const adminErrors = {
  '401': err('Missing or wrong token, or the credential was revoked or rotated.'),
  '403': err('The token is a credential whose scopes do not allow this route (see `security`: the admin token, or a credential with one of the scopes listed).'),
  '400': err('The request is not valid.'),
};

export const AdjustmentRequest = Type.Object(
  {
    location: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    quantity: Type.Integer({ not: { const: 0 }, minimum: -MAX_QUANTITY, maximum: MAX_QUANTITY, description: `Units added (positive) or removed (negative); at most ${MAX_QUANTITY_TEXT} either way.` }),
    reason: Type.Union(ADJUSTMENT_REASONS.map((r) => Type.Literal(r))),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
    actor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false, title: 'AdjustmentRequest' },
);

export const CountRequest = Type.Object(
  {
    location: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })),
    counted: Type.Integer({ minimum: 0, maximum: MAX_QUANTITY, description: `Units physically counted, 0 to ${MAX_QUANTITY_TEXT}.` }),
    note: Type.Optional(Type.String({ maxLength: 1000 })),
    actor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false, title: 'CountRequest' },
);

export const ItemUpdate = Type.Object(
  {
    title: Type.Optional(Type.String({ maxLength: 500 })),
    lowStockThreshold: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_QUANTITY })),
  },
  { additionalProperties: false, title: 'ItemUpdate' },
);


/** One polled feed of a channel (docs/polling.md). */
const FeedViewSchema = Type.Object(
  {
    feed: Type.String({ description: 'The feed’s name, as the connector polls it (e.g. orders).' }),
    status: Type.Union(['ok', 'failing', 'stalled', 'starting', 'off'].map((x) => Type.Literal(x)), {
      description: 'ok: read on schedule; failing: its last polls failed (retried with backoff); stalled: not read for longer than its stall limit (an alert is open); starting: not read once yet; off: turned off in the config.',
    }),
    everyMs: Type.Integer({ minimum: 1 }),
    lastPollAt: Nullable(Timestamp),
    lastSuccessAt: Nullable(Timestamp),
    cursorAdvancedAt: Nullable(Timestamp),
    nextPollAt: Nullable(Timestamp),
    lagSeconds: Nullable(Type.Integer({ minimum: 0, description: 'Seconds since the feed was last read to its end without error; null before the first good read.' })),
    consecutiveErrors: Type.Integer({ minimum: 0 }),
    lastError: Nullable(Type.String({ description: 'What the platform answered the last failed poll, for the shop owner; never a secret.' })),
    eventsStored: Type.Integer({ minimum: 0, description: 'New events the feed brought into the inbox (those found by webhook first are not counted).' }),
  },
  { title: 'Feed' },
);

/** A channel as configured, with its health and its polled feeds. */
const ChannelViewSchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    platform: Type.String(),
    locations: Type.Record(Type.String(), Type.String()),
    buffer: Type.Integer(),
    cap: Nullable(Type.Integer()),
    hideAtZero: Type.Boolean(),
    relistOnRestock: Type.Boolean(),
    connected: Type.Boolean({ description: 'False when the hub has no connector for the platform yet. Says nothing about whether the channel answers: see health.' }),
    suspendedUntil: Nullable(Timestamp),
    health: Nullable(
      Type.Object(
        {
          status: Type.Union([Type.Literal('ok'), Type.Literal('failing'), Type.Literal('suspended')], {
            description: 'ok: answering; failing: its last requests failed (401, 403, 404, 5xx, no answer…) and are retried; suspended: pushes held until suspendedUntil, still queued (docs/dispatch.md).',
          }),
          failures: Type.Integer({ minimum: 0, description: 'Failed requests in a row: pushes, and reads such as discovery and reconciliation.' }),
          suspendedUntil: Nullable(Timestamp),
          lastError: Nullable(Type.String({ description: 'What the channel answered last time it failed, for the shop owner; never a secret.' })),
        },
        { description: 'How the channel is doing since the hub started; null when the hub has no connector for it.' },
      ),
    ),
    feeds: Type.Array(FeedViewSchema, { description: 'The feeds the hub polls on this channel (docs/polling.md); empty when its platform pushes everything by webhook.' }),
  },
  { title: 'Channel' },
);

function buildDocument() {
  const doc = {
    openapi: '3.1.0',
    info: {
      title: 'stockrelay hub',
      version: '0.1.0',
      description:
        'The hub keeps one ledger of stock for every channel a supplier sells on. Relays from the sheet add-on and Airtable scripts are signed with a relay secret (Standard Webhooks): the hub-wide one, or better the relay secret of a credential made for that source. Every other /v1 call needs a bearer token: the admin token (every route), or the token of a credential whose scope the route lists in `security` (docs/security.md).',
    },
    components: {
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'The admin token (STOCKRELAY_ADMIN_TOKEN or data/secrets.json): every route. Keep it on the supplier’s own machine.' },
        credentialToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'The token of a credential (srt_…, made with POST /v1/credentials or `npx stockrelay credentials create`). A route lists the scopes that may call it: sidebar (the sheet add-on), read (reports). A revoked or rotated token is refused from the next request on.',
        },
        relaySignature: {
          type: 'apiKey',
          in: 'header',
          name: 'webhook-signature',
          description: 'Standard Webhooks: webhook-id, webhook-timestamp and webhook-signature (v1,<base64 HMAC-SHA256 of "id.timestamp.body">) keyed by the relay secret (whsec_…).',
        },
      },
      schemas: {
        Error: ErrorBody,
        Relay,
        Item: ItemView,
        Movement: MovementView,
        Event: EventView,
        EventAccepted: Accepted,
        Alert: AlertView,
        DeadLetter: DeadLetterView,
        Conflict: ConflictView,
        ConflictDecisionRequest,
        AdjustmentRequest,
        CountRequest,
        ItemUpdate,
        DiscoveryReport,
        PurchaseOrderRequest,
        SupplierOrderRequest,
        ReceiptRequest,
        SupplierStatusRequest,
        ...CredentialSchemas,
      },
    },
    paths: {
      ...orderPaths({ json, err, limit, cursor, admin, adminErrors, idempotencyKey }),
      ...credentialPaths({ json, err, admin, adminErrors }),
      '/healthz': {
        get: {
          summary: 'The process is alive; says whether it runs in sandbox mode.',
          operationId: 'health',
          responses: { '200': json(Type.Object({ status: Type.Literal('ok'), mode: Type.Union([Type.Literal('live'), Type.Literal('sandbox')]), message: Type.Optional(Type.String()) }), 'Alive.') },
        },
      },
      '/readyz': {
        get: {
          summary: 'The hub can take traffic: its database answers and it is not shutting down.',
          operationId: 'ready',
          responses: {
            '200': json(Type.Object({ status: Type.Literal('ready') }), 'Ready.'),
            '503': json(Type.Object({ status: Type.Literal('not_ready'), reason: Type.String() }), 'Not ready.'),
          },
        },
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics.', operationId: 'metrics', responses: { '200': { description: 'Prometheus text format.', content: { 'text/plain': { schema: { type: 'string' } } } } } },
      },
      '/openapi.json': {
        get: { summary: 'This document.', operationId: 'openapi', responses: { '200': json(Type.Object({}, { additionalProperties: true }), 'OpenAPI 3.1 document.') } },
      },
      '/v1/relay': {
        post: {
          summary: 'Receive a signed relay from the sheet add-on or an Airtable script.',
          description:
            'The signature is checked over the raw body, the relay is stored, and 202 is answered; booking happens right after. The same webhook-id is never accepted twice.',
          operationId: 'relay',
          security: [{ relaySignature: [] }],
          requestBody: { required: true, content: { 'application/json': { schema: Type.Ref('Relay') } } },
          responses: {
            '202': json(Accepted, 'Stored; it will be booked in order.'),
            '400': err('Malformed JSON, a body that does not match the Relay schema, or a quantity that is not a whole number. Nothing was stored.'),
            '401': err('Missing, wrong or expired signature. Nothing was stored.'),
            '409': err('This webhook-id was received before (a replay or a duplicate). Nothing was booked again.'),
            '413': err('The body is larger than 1 MiB.'),
            '415': err('The body is not JSON.'),
          },
        },
      },
      '/v1/webhooks/{channelId}': {
        post: {
          summary: `Receive a webhook from a connected platform (${inWords([...CONNECTORS.values()].map((d) => d.displayName))}).`,
          description:
            'Give the platform this address for the channel. The platform’s own signature is checked over the raw body, the event is stored under the platform’s event id, and 200 is answered; booking happens right after. A delivery received before is answered 200 with status "duplicate" and booked once.',
          operationId: 'channelWebhook',
          security: [],
          parameters: [{ name: 'channelId', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { required: true, content: { '*/*': { schema: {} } } },
          responses: {
            '200': json(Type.Object({ status: Type.Union([Type.Literal('received'), Type.Literal('duplicate'), Type.Literal('ping')]), eventId: Type.Optional(Type.Integer()), message: Type.Optional(Type.String()) }), 'Stored (or held already); "ping" for a platform’s unsigned address check (WooCommerce), which stores nothing.'),
            '401': err('The platform signature is missing or wrong. Nothing was stored.'),
            '404': err('No connected channel has this id.'),
            '413': err('The body is larger than 1 MiB.'),
          },
        },
      },
      '/v1/airtable/webhook': {
        post: {
          summary: 'Receive Airtable’s webhook ping (the script-free way for changes in the base to reach the hub).',
          description:
            'The hub creates this webhook on the base itself when `airtable.webhook.notificationUrl` is configured (docs/airtable.md). The ping carries no data: its X-Airtable-Content-MAC is checked against the webhook’s secret, 200 is answered, and the hub then reads the payloads by cursor.',
          operationId: 'airtableWebhook',
          security: [],
          requestBody: { required: true, content: { '*/*': { schema: {} } } },
          responses: {
            '200': json(Type.Object({ status: Type.Literal('received'), message: Type.String() }), 'Checked; the payloads are read right after.'),
            '400': err('The ping is not JSON.'),
            '401': err('The MAC is missing or wrong. Nothing was read.'),
            '404': err('No Airtable webhook is configured, or the ping names another webhook.'),
            '413': err('The body is larger than 1 MiB.'),
          },
        },
      },
      '/v1/reconcile': {
        post: {
          summary: 'Reconciliation: read every channel (or one) back, compare with the published levels, explain and act on each difference.',
          description:
            'Each difference is explained (push_pending, awaiting_explanation, failed_push, missed_push, external_change, unreadable) and acted on by the channel’s `reconcile` policy (adopt, correct, flag); see docs/reconcile.md. With dryRun nothing is changed. Runs on its own every engine.reconcileEveryMs too.',
          operationId: 'reconcile',
          security: admin,
          requestBody: {
            required: false,
            content: { 'application/json': { schema: Type.Object({ channel: Type.Optional(Type.String({ minLength: 1 })), dryRun: Type.Optional(Type.Boolean()) }, { additionalProperties: false }) } },
          },
          responses: {
            '200': json(
              Type.Object({
                runId: Type.String(),
                dryRun: Type.Boolean(),
                startedAt: Timestamp,
                finishedAt: Timestamp,
                channels: Type.Array(
                  Type.Object({
                    channelId: Type.String(),
                    name: Type.String(),
                    checked: Type.Integer(),
                    notListed: Type.Array(Type.String()),
                    error: Nullable(Type.String()),
                    differences: Type.Array(
                      Type.Object({
                        sku: Type.String(),
                        location: Type.String(),
                        channelShows: Nullable(Type.Integer()),
                        published: Type.Integer(),
                        expected: Nullable(Type.Integer()),
                        explanation: Type.Union(['push_pending', 'awaiting_explanation', 'failed_push', 'missed_push', 'external_change', 'unreadable'].map((e) => Type.Literal(e))),
                        action: Type.Union(['none', 'push', 'adopt', 'flag'].map((e) => Type.Literal(e))),
                      }),
                    ),
                  }),
                ),
              }),
              'What was found, and done (or would be, in a dry run).',
            ),
            '404': err('No such channel.'),
            '409': err('No channel is connected, or the channel’s platform has no connector yet.'),
            ...adminErrors,
          },
        },
      },
      '/v1/channels/{channelId}/discover': {
        post: {
          summary: 'Catalog discovery: list the channel’s products, match them to our SKUs by SKU, and keep the map.',
          description: 'SKUs the platform lists twice, listings without a SKU or with one not in the catalog, and catalog SKUs the platform does not list are reported, never guessed at.',
          operationId: 'discoverChannel',
          security: admin,
          parameters: [channelParam],
          responses: {
            '200': json(Type.Ref('DiscoveryReport'), 'The report; matched SKUs are now mapped.'),
            '404': err('No such channel.'),
            '409': err('The channel’s platform has no connector yet.'),
            '502': err('The platform could not be read.'),
            ...adminErrors,
          },
        },
      },
      '/v1/channels/{channelId}/listings': {
        get: {
          summary: 'The channel’s SKU map, and what was last pushed to and seen on the channel per item and location.',
          operationId: 'channelListings',
          security: admin,
          parameters: [channelParam],
          responses: {
            '200': json(
              Type.Object({
                listings: Type.Array(
                  Type.Object({
                    channelId: Type.String(),
                    sku: Type.String(),
                    productId: Type.String(),
                    variantId: Type.String(),
                    inventoryItemId: Nullable(Type.String()),
                    title: Type.String(),
                    hidden: Type.Boolean(),
                    updatedAt: Timestamp,
                  }),
                ),
                levels: Type.Array(
                  Type.Object({
                    channelId: Type.String(),
                    sku: Type.String(),
                    locationId: Type.String(),
                    pushed: Nullable(Type.Integer()),
                    pushedAt: Nullable(Timestamp),
                    observed: Nullable(Type.Integer()),
                    observedAt: Nullable(Timestamp),
                  }),
                ),
              }),
              'Listings and levels.',
            ),
            '404': err('No such channel.'),
            '409': err('The channel’s platform has no connector yet.'),
            ...adminErrors,
          },
        },
      },
      '/v1/sandbox': {
        get: {
          summary: 'Sandbox mode only: the emulated channels running beside the hub.',
          operationId: 'sandbox',
          security: admin,
          responses: {
            '200': json(Type.Object({ channels: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), platform: Type.String(), emulatorUrl: Type.String(), locations: Type.Record(Type.String(), Type.String()) })) }), 'The emulated channels.'),
            '404': err('Not in sandbox mode.'),
            ...adminErrors,
          },
        },
      },
      '/v1/sandbox/levels/{sku}': {
        get: {
          summary: 'Sandbox mode only: an item’s levels in the hub and on every emulated channel.',
          operationId: 'sandboxLevels',
          security: admin,
          parameters: [skuParam],
          responses: {
            '200': json(
              Type.Object({
                sku: Type.String(),
                hub: Type.Array(Type.Object({ locationId: Type.String(), onHand: Type.Integer(), available: Type.Integer() })),
                channels: Type.Array(Type.Object({ channelId: Type.String(), name: Type.String(), levels: Type.Array(Type.Object({ locationId: Type.String(), level: Nullable(Type.Integer()) })) })),
              }),
              'Levels.',
            ),
            '404': err('Not in sandbox mode, or no such SKU.'),
            ...adminErrors,
          },
        },
      },
      '/v1/sandbox/channels/{channelId}/sales': {
        post: {
          summary: 'Sandbox mode only: make a sale on an emulated channel (as a customer or the shop’s POS would).',
          operationId: 'sandboxSale',
          security: admin,
          parameters: [channelParam],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: Type.Object({ sku: Type.String({ minLength: 1, maxLength: 120 }), quantity: Type.Integer({ minimum: 1, maximum: 1000 }), location: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })) }, { additionalProperties: false }) } },
          },
          responses: { '201': json(Type.Object({ orderId: Type.String() }), 'Sold; the platform sends its webhooks.'), '404': err('Not in sandbox mode, or unknown channel or SKU.'), ...adminErrors },
        },
      },
      '/v1/sandbox/channels/{channelId}/refunds': {
        post: {
          summary: 'Sandbox mode only: refund a sale made on an emulated channel, with or without restock.',
          operationId: 'sandboxRefund',
          security: admin,
          parameters: [channelParam],
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: Type.Object({ orderId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), sku: Type.Optional(Type.String({ minLength: 1, maxLength: 120 })), restock: Type.Boolean(), quantity: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_QUANTITY })) }, { additionalProperties: false }),
              },
            },
          },
          responses: { '201': json(Type.Object({ refundId: Type.String(), orderId: Type.String() }), 'Refunded; the platform sends its webhooks.'), '404': err('Not in sandbox mode, or unknown channel or order.'), '409': err('The emulated platform refused the refund (more units than were sold).'), ...adminErrors },
        },
      },
      '/v1/locations': {
        get: { summary: 'Locations.', operationId: 'listLocations', security: admin, responses: { '200': json(Type.Object({ locations: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })) }), 'Locations.'), ...adminErrors } },
      },
      '/v1/channels': {
        get: {
          summary: 'Channels configured, with their policies, health and polled feeds.',
          operationId: 'listChannels',
          security: admin,
          responses: {
            '200': json(
              Type.Object({
                channels: Type.Array(ChannelViewSchema),
              }),
              'Channels.',
            ),
            ...adminErrors,
          },
        },
      },
      '/v1/channels/{channelId}': {
        get: {
          summary: 'One channel: its policies, its health and its polled feeds (last poll, lag, errors).',
          operationId: 'getChannel',
          security: admin,
          parameters: [channelParam],
          responses: { '200': json(ChannelViewSchema, 'The channel.'), '404': err('No such channel.'), ...adminErrors },
        },
      },
      '/v1/items': {
        get: {
          summary: 'Items with their levels per location and the published level on each channel.',
          operationId: 'listItems',
          security: admin,
          parameters: [limit, cursor, { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['active', 'archived'] } }],
          responses: { '200': json(Page('items', Type.Ref('Item')), 'A page of items, by SKU.'), ...adminErrors },
        },
      },
      '/v1/items/{sku}': {
        get: { summary: 'One item.', operationId: 'getItem', security: admin, parameters: [skuParam], responses: { '200': json(Type.Ref('Item'), 'The item.'), '404': err('No such SKU.'), ...adminErrors } },
        put: {
          summary: 'Add an item to the catalog, or change its title or low-stock threshold.',
          operationId: 'putItem',
          security: admin,
          parameters: [skuParam, idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: Type.Ref('ItemUpdate') } } },
          responses: { '200': json(Accepted, 'Booked.'), '202': json(Accepted, 'Stored; still being booked.'), ...adminErrors },
        },
      },
      '/v1/items/{sku}/movements': {
        get: {
          summary: 'An item’s movements, newest first.',
          operationId: 'listMovements',
          security: admin,
          parameters: [skuParam, limit, cursor],
          responses: { '200': json(Page('movements', Type.Ref('Movement')), 'A page of movements.'), '404': err('No such SKU.'), ...adminErrors },
        },
      },
      '/v1/items/{sku}/adjustments': {
        post: {
          summary: 'Add or remove stock with a reason.',
          operationId: 'adjust',
          security: admin,
          parameters: [skuParam, idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: Type.Ref('AdjustmentRequest') } } },
          responses: { '200': json(Accepted, 'Processed (see status and results).'), '202': json(Accepted, 'Stored; still being booked.'), '409': err('This Idempotency-Key was used for a different request.'), ...adminErrors },
        },
      },
      '/v1/items/{sku}/counts': {
        post: {
          summary: 'Record a stock count; the difference from on-hand is booked.',
          operationId: 'count',
          security: admin,
          parameters: [skuParam, idempotencyKey],
          requestBody: { required: true, content: { 'application/json': { schema: Type.Ref('CountRequest') } } },
          responses: { '200': json(Accepted, 'Processed (see status and results).'), '202': json(Accepted, 'Stored; still being booked.'), '409': err('This Idempotency-Key was used for a different request.'), ...adminErrors },
        },
      },
      '/v1/alerts': {
        get: {
          summary: 'Alerts, newest first.',
          operationId: 'listAlerts',
          security: admin,
          parameters: [limit, cursor, { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['open', 'resolved'] } }],
          responses: { '200': json(Page('alerts', Type.Ref('Alert')), 'A page of alerts.'), ...adminErrors },
        },
      },
      '/v1/conflicts': {
        get: {
          summary: 'Sheet edits that met a newer change (a sale landed while someone typed): open ones by default, newest first (docs/conflicts.md).',
          operationId: 'listConflicts',
          security: admin,
          parameters: [
            limit,
            cursor,
            { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['open', 'accepted', 'rejected', 'all'], default: 'open' } },
            { name: 'sku', in: 'query', required: false, schema: { type: 'string', minLength: 1, maxLength: 120 } },
          ],
          responses: { '200': json(Page('conflicts', Type.Ref('Conflict')), 'A page of conflicts.'), ...adminErrors },
        },
      },
      '/v1/conflicts/{id}': {
        get: { summary: 'One conflict.', operationId: 'getConflict', security: admin, parameters: [idParam], responses: { '200': json(Type.Ref('Conflict'), 'The conflict.'), '404': err('No such conflict.'), ...adminErrors } },
      },
      '/v1/conflicts/{id}/accept': {
        post: {
          summary: 'Accept a conflict: the number typed is booked as the count (anything booked since the conflict was found is kept on top).',
          description: 'Booked in order with every other change. Accepting an accepted conflict again changes nothing and answers 200.',
          operationId: 'acceptConflict',
          security: admin,
          parameters: [idParam],
          requestBody: { required: false, content: { 'application/json': { schema: Type.Ref('ConflictDecisionRequest') } } },
          responses: {
            '200': json(ConflictDecided, 'Accepted (now, or before).'),
            '202': json(ConflictDecided, 'Stored; still being booked.'),
            '404': err('No such conflict. Nothing was changed.'),
            '409': err('The conflict was rejected already, or the count cannot be booked. Nothing was changed.'),
            '503': err('The hub is restarting.'),
            ...adminErrors,
          },
        },
      },
      '/v1/conflicts/{id}/reject': {
        post: {
          summary: 'Reject a conflict: the hub’s number stands and is written back to the sheet; nothing is booked.',
          description: 'Rejecting a rejected conflict again changes nothing and answers 200.',
          operationId: 'rejectConflict',
          security: admin,
          parameters: [idParam],
          requestBody: { required: false, content: { 'application/json': { schema: Type.Ref('ConflictDecisionRequest') } } },
          responses: {
            '200': json(ConflictDecided, 'Rejected (now, or before).'),
            '202': json(ConflictDecided, 'Stored; still being booked.'),
            '404': err('No such conflict. Nothing was changed.'),
            '409': err('The conflict was accepted already. Nothing was changed.'),
            '503': err('The hub is restarting.'),
            ...adminErrors,
          },
        },
      },
      '/v1/events': {
        get: {
          summary: 'Inbound events (relays, API calls), newest first; filter by status to see what needs attention (unmatched, rejected, conflict, failed).',
          operationId: 'listEvents',
          security: admin,
          parameters: [limit, cursor, { name: 'status', in: 'query', required: false, schema: { type: 'string', enum: ['received', 'processed', 'unmatched', 'rejected', 'conflict', 'failed'] } }],
          responses: { '200': json(Page('events', Type.Ref('Event')), 'A page of events.'), ...adminErrors },
        },
      },
      '/v1/events/{id}': {
        get: { summary: 'One inbound event, with its body.', operationId: 'getEvent', security: admin, parameters: [idParam], responses: { '200': json(Type.Ref('Event'), 'The event.'), '404': err('No such event.'), ...adminErrors } },
      },
      '/v1/events/{id}/retry': {
        post: {
          summary: 'Process an unmatched, rejected, conflicting or failed event again (for example after adding its SKU).',
          operationId: 'retryEvent',
          security: admin,
          parameters: [idParam],
          responses: { '202': json(Type.Object({ eventId: Type.Integer(), status: Type.Literal('received') }), 'Queued again.'), '404': err('No such event.'), '409': err('The event is not in a state that can be retried.'), ...adminErrors },
        },
      },
      '/v1/dead-letters': {
        get: {
          summary: 'Deliveries that failed every retry.',
          operationId: 'listDeadLetters',
          security: admin,
          parameters: [limit, cursor],
          responses: { '200': json(Page('deadLetters', Type.Ref('DeadLetter')), 'A page of dead letters.'), ...adminErrors },
        },
      },
      '/v1/dead-letters/{id}/retry': {
        post: {
          summary: 'Try a dead letter again.',
          operationId: 'retryDeadLetter',
          security: admin,
          parameters: [idParam],
          responses: { '202': json(Type.Object({ id: Type.Integer(), status: Type.String() }), 'Queued again.'), '404': err('No such dead letter.'), ...adminErrors },
        },
      },
    },
  };
  // TypeBox tags its schemas with symbols; the document served and validated is plain JSON.
  return JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
}

/** `Type.Ref('X')` produces `{$ref: 'X'}`; OpenAPI wants `#/components/schemas/X`. */
function fixRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(fixRefs);
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === '$ref' && typeof v === 'string' && !v.startsWith('#') ? `#/components/schemas/${v}` : fixRefs(v);
    }
    return out;
  }
  return node;
}

export const openApiDocument = applyScopes(fixRefs(buildDocument()) as { paths: Record<string, unknown> }) as Record<string, unknown> & { paths: Record<string, unknown>; components: { schemas: Record<string, unknown> } };
