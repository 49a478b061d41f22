/**
 * Pure: what the hub writes into the sheet, laid out by the headers the sheet has now. Columns are
 * found by header name (read as the add-on reads them: server/shared/sheet-layout.ts), so staff may
 * reorder columns or add their own; a cell the hub has nothing to say about is `null`, which the
 * Sheets API skips (it never clears a cell the hub does not own).
 */
import type { PurchaseOrderView } from '../purchase-orders/desk';
import { STATUS_TEXT } from '../purchase-orders/desk';
import { formatMinor } from '../shared/money';
import type { StoreOps } from '../store/types';
import { parseHeader, type LogColumn, type PoHubColumn } from '../shared/sheet-layout';
import type { Movement } from '../core/ledger';
import type { AlertRecord, ConflictRecord, ItemRecord, LevelRecord } from '../store/types';

export type Cell = string | number | null;

/** `2026-11-23 10:15:02 UTC`: readable in a cell, and sorts as text. */
export function sheetTime(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A1 notation for a tab name: quoted, with quotes doubled. */
export const quoteTab = (tab: string) => `'${tab.replace(/'/g, "''")}'`;

export interface CatalogRowInput {
  item: ItemRecord;
  levels: LevelRecord[];
  /** Open conflicts of the item: their On hand cell keeps what was typed, the Sync note says why. */
  conflicts: ConflictRecord[];
  defaultLocation: string;
  now: string;
}

/** The Catalog row of one item, as wide as the headers; null where the hub writes nothing. */
export function catalogRow(headers: unknown[], r: CatalogRowInput): Cell[] {
  const level = (loc: string) => r.levels.find((l) => l.locationId === loc) ?? { onHand: 0, reserved: 0 };
  const row: Cell[] = headers.map(() => null);
  const seen = new Set<string>();
  headers.forEach((h, i) => {
    const c = parseHeader(h);
    if (!c) return;
    // A header used twice: only the first is written (the add-on reads only the first, too).
    const tag = `${c.role}:${'location' in c ? (c.location ?? '') : ''}`;
    if (seen.has(tag)) return;
    seen.add(tag);
    switch (c.role) {
      case 'on_hand': {
        const loc = c.location ?? r.defaultLocation;
        // While a conflict is open the cell keeps what was typed: nothing typed is lost (docs/conflicts.md).
        if (r.conflicts.some((k) => k.locationId === loc)) return;
        row[i] = level(loc).onHand;
        return;
      }
      case 'available': {
        const l = level(c.location ?? r.defaultLocation);
        row[i] = l.onHand - l.reserved;
        return;
      }
      case 'status':
        row[i] = r.item.status;
        return;
      case 'last_synced':
        row[i] = sheetTime(r.now);
        return;
      case 'sync_note':
        row[i] = syncNote(r.conflicts);
        return;
      default:
        return;
    }
  });
  return row;
}

export function syncNote(conflicts: ConflictRecord[]): string {
  if (conflicts.length === 0) return '';
  return conflicts
    .map((c) => `Conflict at ${c.locationId}: ${c.typed} was typed over ${c.sheetShowed ?? 'an unknown number'}, but the hub has ${c.hubHad} (something sold or changed meanwhile). Accept or reject it in the sidebar (conflict ${c.id}).`)
    .join(' ');
}

/** Lays out named values under a log tab's headers (matched without regard to case). */
export function logRow(headers: unknown[], values: Partial<Record<string, Cell>>): Cell[] {
  const byName = new Map(Object.entries(values).map(([k, v]) => [k.toLowerCase(), v]));
  const used = new Set<string>();
  return headers.map((h) => {
    const k = typeof h === 'string' ? h.trim().toLowerCase() : '';
    if (!k || used.has(k) || !byName.has(k)) return null;
    used.add(k);
    return byName.get(k) ?? null;
  });
}

export function movementValues(m: Movement, channelName: string | null): Record<LogColumn<'Movements'>, Cell> {
  return {
    When: sheetTime(m.occurredAt),
    SKU: m.sku,
    Location: m.locationId,
    Change: m.quantity,
    Reason: m.reason,
    From: m.source,
    Channel: channelName ?? '',
    Who: m.actor ?? '',
    Note: m.note ?? '',
    Reference: m.externalRef ?? '',
  };
}

/** An Orders tab row: a movement fills some columns, a step of the transaction log others. */
type OrderValues = Partial<Record<LogColumn<'Orders'>, Cell>>;

const ORDER_STATUS: Record<string, string> = { sale: 'sold', return: 'returned', exchange: 'exchanged' };

/** Movements that belong in the Orders tab: a channel's order or refund. */
export const isOrderMovement = (m: Movement) => m.channelId !== null && m.externalRef !== null && m.reason in ORDER_STATUS;

export function orderValues(m: Movement, channelName: string | null): OrderValues {
  return {
    When: sheetTime(m.occurredAt),
    Channel: channelName ?? m.channelId ?? '',
    Order: m.externalRef ?? '',
    SKU: m.sku,
    Location: m.locationId,
    // Units that left (a sale) are positive; units that came back are negative.
    Quantity: -m.quantity,
    Status: ORDER_STATUS[m.reason] ?? m.reason,
    Note: m.note ?? '',
  };
}

const ALERT_WHAT: Record<string, string> = {
  out_of_stock: 'Out of stock',
  low_stock: 'Low stock',
  oversold: 'Oversold',
  channel_failing: 'Channel failing',
  drift: 'Stock changed on a channel',
  reorder: 'Reorder',
  sheet_row_missing: 'No row in the sheet',
};

export function alertValues(a: AlertRecord, channelName: string | null): Record<LogColumn<'Alerts'>, Cell> {
  return {
    Opened: sheetTime(a.openedAt),
    Severity: a.severity,
    What: ALERT_WHAT[a.kind] ?? a.kind.replace(/_/g, ' '),
    SKU: a.sku ?? '',
    Location: a.locationId ?? '',
    Channel: channelName ?? a.channelId ?? '',
    Message: a.message,
    Status: a.status,
    Resolved: sheetTime(a.resolvedAt),
  };
}

export function conflictStatus(c: ConflictRecord): string {
  if (c.status === 'open') return 'open';
  return `${c.status}${c.resolvedBy ? ` by ${c.resolvedBy}` : ''} ${sheetTime(c.resolvedAt)}`.trim();
}

export function conflictValues(c: ConflictRecord): Record<LogColumn<'Conflicts'>, Cell> {
  return {
    Found: sheetTime(c.foundAt),
    SKU: c.sku,
    Location: c.locationId,
    'Sheet showed': c.sheetShowed ?? '',
    Typed: c.typed,
    'Hub has': c.hubHad,
    Who: c.actor ?? '',
    Status: conflictStatus(c),
    Event: c.eventId ?? '',
  };
}

/** The hub-written columns of a Purchase Orders row (docs/orders.md); other cells are left as typed. */
export function purchaseOrderStatusValues(po: PurchaseOrderView, line: PurchaseOrderView['lines'][number]): Record<PoHubColumn, Cell> {
  return {
    Status: STATUS_TEXT[po.status],
    Reserved: line.reserved,
    Waiting: line.waiting,
    Reason: po.reason ?? '',
    Updated: sheetTime(po.updatedAt),
  };
}

const STEP_TEXT: Record<string, string> = { placed: 'sold', paid: 'paid', fulfilled: 'fulfilled', updated: 'updated', refund: 'refunded', return: 'returned', exchange: 'exchanged', cancellation: 'cancelled' };

/** Orders tab rows for one step of an order from the transaction log: one per line it concerns. */
export async function orderStepRows(store: StoreOps, orderId: number, orderEventId: number, channel: (id: string | null) => string | null): Promise<OrderValues[]> {
  const order = await store.orders.get(orderId);
  if (!order) return [];
  const [events, lines, moved] = await Promise.all([store.orders.events([orderId]), store.orders.lines(orderId), store.orders.linkedMovements([orderId])]);
  const step = events.find((e) => e.id === orderEventId);
  if (!step) return [];
  const cur = order.currency;
  const amount = (n: number | null) => (n === null || cur === null ? '' : formatMinor(n, cur));
  const base = {
    When: sheetTime(step.occurredAt),
    Channel: channel(order.channelId) ?? order.channelId,
    Order: order.number ?? order.externalId,
    Status: STEP_TEXT[step.kind] ?? step.kind,
    Currency: cur ?? '',
    'Order total': amount(order.total),
    Payment: order.paymentStatus,
    Fulfilment: order.fulfilmentStatus,
    Flags: [...new Set([...order.flags, ...step.flags])].join(' '),
  };
  const stepLines = (step.detail.lines as { lineId: string; quantity: number; restock?: boolean }[] | undefined) ?? [];
  if (stepLines.length === 0) return [{ ...base, SKU: '', Location: '', Quantity: '', 'Unit price': '', 'Line total': '', Amount: step.amount === null ? '' : amount(step.amount), Note: '' }];
  const out: OrderValues[] = [];
  for (const sl of stepLines) {
    const line = lines.find((l) => l.lineId === sl.lineId);
    const m = moved.find((x) => x.orderEventId === step.id && (line?.sku ? x.sku === line.sku : true));
    const back = step.kind === 'refund' || step.kind === 'return' || step.kind === 'cancellation';
    out.push({
      ...base,
      SKU: m?.sku ?? line?.sku ?? '',
      Location: m?.locationId ?? '',
      // Units that left are positive; units that came back are negative.
      Quantity: back ? -sl.quantity : sl.quantity,
      'Unit price': line ? amount(line.unitPrice) : '',
      'Line total': line && !back ? amount(line.total) : '',
      Amount: out.length === 0 && step.amount !== null ? amount(step.amount) : '',
      Note: back && sl.restock === false ? 'money only, not restocked' : (m?.note ?? ''),
    });
  }
  return out;
}
