/**
 * Relays: what the sheet add-on and the Airtable scripts send the hub. The schemas here are the
 * single source: the OpenAPI document publishes them and the relay route validates against them.
 * `planRelay` is the pure mapper from a relay to the commands the processor books.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Reason, Source } from './ledger';
import { MAX_QUANTITY, MAX_QUANTITY_TEXT } from '../shared/quantity';

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

/** What booking a relay means, step by step; the processor carries it out in one transaction. */
export type BookingCommand =
  | { type: 'count'; key: string; sku: string; location: string | null; counted: number; expectedOnHand: number | null; source: Source; actor: string | null; note: string | null; occurredAt: string }
  | {
      type: 'adjust';
      key: string;
      sku: string;
      location: string | null;
      quantity: number;
      reason: Reason;
      source: Source;
      actor: string | null;
      note: string | null;
      occurredAt: string;
      /** Set when a channel reported it: which channel, and its order or refund id. */
      channelId?: string;
      externalRef?: string;
    }
  | { type: 'set_item'; sku: string; title?: string | null; lowStockThreshold?: number | null }
  | { type: 'add_item'; sku: string; title?: string; lowStockThreshold?: number }
  | { type: 'archive_item'; sku: string };

/** A booking step, or a sync request (books nothing: the current numbers go again to every channel and write-back). */
export type Command = BookingCommand | { type: 'resync'; skus: string[] | null; reconcile: boolean };

export class RelayInputError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a quantity typed into a cell: a whole number from 0 to MAX_QUANTITY written in digits (a
 * sign allowed), or an error that says why not. Text that is not plain digits ("1e3", "12.5",
 * "1,000", "NaN", "Infinity") is refused rather than guessed at.
 */
export function parseQuantityCell(value: string | number | null, what: string): number {
  const text = typeof value === 'string' ? value.trim() : value;
  const n = typeof text === 'number' ? text : text === null || text === '' ? NaN : /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n)) {
    throw new RelayInputError('invalid_quantity', `${what}: "${String(value)}" is not a whole number. Type a number of units in digits, like 12.`);
  }
  if (n < 0) throw new RelayInputError('invalid_quantity', `${what}: a stock count cannot be negative (got ${String(value)}).`);
  if (n > MAX_QUANTITY) {
    throw new RelayInputError('quantity_out_of_range', `${what}: ${String(value)} is more than ${MAX_QUANTITY_TEXT}, the most the hub keeps of one item at one location. Check the number; nothing was changed.`);
  }
  return n;
}

/** The old value the editor saw; an empty cell counts as zero, anything unreadable as unknown. */
function parseOldQuantity(value: string | number | null): number | null {
  if (value === null || value === '') return 0;
  try {
    return parseQuantityCell(value, 'old value');
  } catch {
    return null;
  }
}

/**
 * Checks what the schema cannot (a quantity typed as text) before anything is stored.
 * Throws RelayInputError; the caller answers 400 and stores nothing.
 */
export function checkRelay(relay: Relay): void {
  if (relay.kind === 'purchase_order') {
    const seen = new Set<number>();
    relay.lines.forEach((l, i) => {
      const n = l.line ?? i + 1;
      if (seen.has(n)) throw new RelayInputError('duplicate_line', `Purchase order ${relay.number} has line ${n} twice; number each line once.`);
      seen.add(n);
    });
    return;
  }
  const edits: Edit[] = relay.kind === 'cell_edit' ? [relay] : relay.kind === 'edit_batch' ? relay.edits : [];
  edits.forEach((e, i) => {
    const where = relay.kind === 'edit_batch' ? `Edit ${i + 1} (SKU ${e.sku}, ${e.field})` : `SKU ${e.sku}, ${e.field}`;
    if (e.field === 'on_hand') parseQuantityCell(e.newValue, where);
    if (e.field === 'low_stock_threshold' && e.newValue !== null && e.newValue !== '') parseQuantityCell(e.newValue, where);
  });
}

function editCommand(e: Edit, key: string, relay: { origin?: Source | undefined; actor?: string | undefined; editedAt: string }): Command {
  const source: Source = relay.origin ?? 'sheet';
  switch (e.field) {
    case 'on_hand':
      return {
        type: 'count',
        key,
        sku: e.sku,
        location: e.location ?? null,
        counted: parseQuantityCell(e.newValue, `SKU ${e.sku}`),
        expectedOnHand: parseOldQuantity(e.oldValue),
        source,
        actor: relay.actor ?? null,
        note: e.sheet ? `edited in ${e.sheet}${e.row ? ` row ${e.row}` : ''}${e.record ? ` record ${e.record}` : ''}` : null,
        occurredAt: relay.editedAt,
      };
    case 'low_stock_threshold':
      return { type: 'set_item', sku: e.sku, lowStockThreshold: e.newValue === null || e.newValue === '' ? null : parseQuantityCell(e.newValue, `SKU ${e.sku}`) };
    case 'title':
      return { type: 'set_item', sku: e.sku, title: e.newValue === null ? null : String(e.newValue) };
  }
}

/**
 * Pure: the commands a relay stands for. `key` is the event's dedupe key; `source` overrides the
 * relay's own origin (a change made through the hub's API is recorded as `api`).
 */
export function planRelay(input: Relay, key: string, source?: Source): Command[] {
  const relay = source ? { ...input, origin: source } : input;
  switch (relay.kind) {
    case 'cell_edit':
      return [editCommand(relay, key, relay)];
    case 'edit_batch':
      return relay.edits.map((e, i) => editCommand(e, `${key}:${i}`, relay));
    case 'adjustment':
      return [
        {
          type: 'adjust',
          key,
          sku: relay.sku,
          location: relay.location ?? null,
          quantity: relay.quantity,
          reason: relay.reason,
          source: relay.origin ?? 'sidebar',
          actor: relay.actor ?? null,
          note: relay.note ?? null,
          occurredAt: relay.occurredAt,
        },
      ];
    case 'count':
      return [
        {
          type: 'count',
          key,
          sku: relay.sku,
          location: relay.location ?? null,
          counted: relay.counted,
          expectedOnHand: null,
          source: relay.origin ?? 'sheet',
          actor: relay.actor ?? null,
          note: relay.note ?? null,
          occurredAt: relay.occurredAt,
        },
      ];
    case 'catalog_changed':
      return [
        // Only the fields given are set: adding a row back does not wipe a title kept in the hub.
        ...relay.added.map((a): Command => ({ type: 'add_item', sku: a.sku, ...(a.title !== undefined ? { title: a.title } : {}), ...(a.lowStockThreshold !== undefined ? { lowStockThreshold: a.lowStockThreshold } : {}) })),
        ...relay.removed.map((sku): Command => ({ type: 'archive_item', sku })),
      ];
    case 'sync_request':
      return [{ type: 'resync', skus: relay.skus ? [...new Set(relay.skus)] : null, reconcile: relay.reconcile ?? false }];
    case 'purchase_order':
    case 'purchase_order_cancel':
      // Purchase orders are matched, not booked line by line (server/purchase-orders/desk.ts).
      throw new RelayInputError('not_a_stock_change', 'A purchase order is handled by the purchase order desk, not as a stock change.');
  }
}
