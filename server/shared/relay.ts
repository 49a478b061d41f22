/**
 * Relays: what the sheet add-on and the Airtable scripts send the hub (POST /v1/relay). The schemas
 * here are the single source: the OpenAPI document publishes them, the relay route validates against
 * them, and the add-on takes their types (types only: a value import would put TypeBox in its bundle).
 */
import { Type, type Static } from '@sinclair/typebox';
import { MAX_QUANTITY, MAX_QUANTITY_TEXT } from './quantity';

const Sku = Type.String({ minLength: 1, maxLength: 120, description: 'The item’s SKU, as in the catalog.' });
const LocationId = Type.String({ minLength: 1, maxLength: 120, description: 'Where the stock sits; may be left out when the hub has one location.' });
const Actor = Type.String({ maxLength: 200, description: 'Who made the change (an email address or a name).' });
const When = Type.String({ format: 'date-time', description: 'When the change was made (ISO 8601).' });
const Note = Type.String({ maxLength: 1000 });
const CellValue = Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Null()]);
const Origin = Type.Union([Type.Literal('sheet'), Type.Literal('sidebar'), Type.Literal('airtable')], {
  description: 'Where the change was made; recorded as the movement’s source.',
});

/** Fields of the catalog a relay may change. */
export const EDITABLE_FIELDS = ['on_hand', 'low_stock_threshold', 'title'] as const;
export type EditableField = (typeof EDITABLE_FIELDS)[number];

const EditFields = {
  sku: Sku,
  field: Type.Union(EDITABLE_FIELDS.map((f) => Type.Literal(f)), { description: 'Which column was edited.' }),
  location: Type.Optional(LocationId),
  oldValue: CellValue,
  newValue: CellValue,
  sheet: Type.Optional(Type.String({ maxLength: 200, description: 'The tab (or Airtable table) the edit was made in.' })),
  row: Type.Optional(Type.Integer({ minimum: 1 })),
  record: Type.Optional(Type.String({ maxLength: 40, description: 'The Airtable record id, when the edit was made in Airtable.' })),
};

export const CellEditRelay = Type.Object(
  {
    kind: Type.Literal('cell_edit'),
    origin: Type.Optional(Origin),
    ...EditFields,
    actor: Type.Optional(Actor),
    editedAt: When,
  },
  { additionalProperties: false, title: 'CellEditRelay', description: 'One cell edited in the catalog.' },
);

export const EditBatchRelay = Type.Object(
  {
    kind: Type.Literal('edit_batch'),
    origin: Type.Optional(Origin),
    edits: Type.Array(Type.Object(EditFields, { additionalProperties: false }), { minItems: 1, maxItems: 5000 }),
    actor: Type.Optional(Actor),
    editedAt: When,
  },
  { additionalProperties: false, title: 'EditBatchRelay', description: 'Several cells changed at once (a paste, a fill-down).' },
);

export const ADJUSTMENT_REASONS = ['adjustment', 'restock', 'receipt', 'return', 'sale', 'exchange'] as const;

export const AdjustmentRelay = Type.Object(
  {
    kind: Type.Literal('adjustment'),
    origin: Type.Optional(Origin),
    sku: Sku,
    location: Type.Optional(LocationId),
    quantity: Type.Integer({ not: { const: 0 }, minimum: -MAX_QUANTITY, maximum: MAX_QUANTITY, description: `Units added (positive) or removed (negative); at most ${MAX_QUANTITY_TEXT} either way.` }),
    reason: Type.Union(ADJUSTMENT_REASONS.map((r) => Type.Literal(r))),
    note: Type.Optional(Note),
    actor: Type.Optional(Actor),
    occurredAt: When,
  },
  { additionalProperties: false, title: 'AdjustmentRelay', description: 'Stock added or removed on purpose, with a reason.' },
);

export const CountRelay = Type.Object(
  {
    kind: Type.Literal('count'),
    origin: Type.Optional(Origin),
    sku: Sku,
    location: Type.Optional(LocationId),
    counted: Type.Integer({ minimum: 0, maximum: MAX_QUANTITY, description: `Units physically counted, 0 to ${MAX_QUANTITY_TEXT}.` }),
    note: Type.Optional(Note),
    actor: Type.Optional(Actor),
    occurredAt: When,
  },
  { additionalProperties: false, title: 'CountRelay', description: 'A stock count: the number on the shelf.' },
);

export const CatalogChangedRelay = Type.Object(
  {
    kind: Type.Literal('catalog_changed'),
    origin: Type.Optional(Origin),
    added: Type.Array(
      Type.Object(
        {
          sku: Sku,
          title: Type.Optional(Type.String({ maxLength: 500 })),
          lowStockThreshold: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_QUANTITY })),
        },
        { additionalProperties: false },
      ),
      { maxItems: 5000 },
    ),
    removed: Type.Array(Sku, { maxItems: 5000 }),
    actor: Type.Optional(Actor),
    occurredAt: When,
  },
  { additionalProperties: false, title: 'CatalogChangedRelay', description: 'Rows added to or removed from the catalog.' },
);

export const SyncRequestRelay = Type.Object(
  {
    kind: Type.Literal('sync_request'),
    origin: Type.Optional(Origin),
    skus: Type.Optional(Type.Array(Sku, { minItems: 1, maxItems: 5000, description: 'Only these items; every listed item when left out.' })),
    reconcile: Type.Optional(Type.Boolean({ description: 'Also read every channel back and act on the differences (docs/reconcile.md).' })),
    actor: Type.Optional(Actor),
    requestedAt: When,
  },
  {
    additionalProperties: false,
    title: 'SyncRequestRelay',
    description: 'Asks the hub to send its current numbers again: to every channel, to the sheet and to Airtable. Books nothing.',
  },
);

const PoNumber = Type.String({ minLength: 1, maxLength: 60, description: 'The purchase order’s number, unique among your purchase orders.' });
const PoCustomer = Type.String({ minLength: 1, maxLength: 200, description: 'Who ordered: the customer’s name or account.' });

/** One line of a customer's purchase order. */
export const PurchaseOrderLine = Type.Object(
  {
    line: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'Line number; lines are numbered 1, 2, … in the order given when left out.' })),
    sku: Sku,
    quantity: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY, description: `Units ordered: a whole number from 1 to ${MAX_QUANTITY_TEXT}.` }),
    location: Type.Optional(LocationId),
  },
  { additionalProperties: false },
);

/** What a customer's purchase order says, however it arrives (API, sheet tab, connector). */
export const PurchaseOrderFields = {
  number: PoNumber,
  customer: PoCustomer,
  lines: Type.Array(PurchaseOrderLine, { minItems: 1, maxItems: 500 }),
  neededBy: Type.Optional(Type.String({ format: 'date', description: 'When the customer needs the goods (YYYY-MM-DD).' })),
  note: Type.Optional(Note),
  actor: Type.Optional(Actor),
};

export const PurchaseOrderRelay = Type.Object(
  {
    kind: Type.Literal('purchase_order'),
    origin: Type.Optional(Origin),
    ...PurchaseOrderFields,
    sheet: Type.Optional(Type.String({ maxLength: 200, description: 'The tab the purchase order was typed in; its rows get the status back.' })),
    submittedAt: When,
  },
  { additionalProperties: false, title: 'PurchaseOrderRelay', description: 'A purchase order from a customer, to be matched against available stock (docs/orders.md).' },
);

export const PurchaseOrderCancelRelay = Type.Object(
  {
    kind: Type.Literal('purchase_order_cancel'),
    origin: Type.Optional(Origin),
    number: PoNumber,
    reason: Type.Optional(Note),
    actor: Type.Optional(Actor),
    cancelledAt: When,
  },
  { additionalProperties: false, title: 'PurchaseOrderCancelRelay', description: 'Cancels a customer’s purchase order: what it reserved is released.' },
);

export const Relay = Type.Union([CellEditRelay, EditBatchRelay, AdjustmentRelay, CountRelay, CatalogChangedRelay, SyncRequestRelay, PurchaseOrderRelay, PurchaseOrderCancelRelay], {
  title: 'Relay',
  description: 'A change relayed by the sheet add-on or an Airtable script, signed with the relay secret.',
});

export type Relay = Static<typeof Relay>;
export type PurchaseOrderRelay = Static<typeof PurchaseOrderRelay>;
export type PurchaseOrderCancelRelay = Static<typeof PurchaseOrderCancelRelay>;
export const isPurchaseOrderRelay = (r: Relay): r is PurchaseOrderRelay | PurchaseOrderCancelRelay => r.kind === 'purchase_order' || r.kind === 'purchase_order_cancel';
export type CellEditRelay = Static<typeof CellEditRelay>;
export type Edit = Static<typeof EditBatchRelay>['edits'][number];
