/**
 * What a relay means for the ledger (the relays' shapes are in server/shared/relay.ts): `checkRelay`
 * refuses what the schema cannot, `planRelay` is the pure mapper from a relay to the commands the
 * processor books.
 */
import type { Reason, Source } from './ledger';
import { MAX_QUANTITY, MAX_QUANTITY_TEXT } from '../shared/quantity';
import type { Edit, Relay } from '../shared/relay';

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
