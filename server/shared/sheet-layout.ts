/**
 * The sheet's layout: what the add-on (appsscript/src) and the hub's write-back (server/sheets) both
 * read and write, so both agree on it by construction. Tab names, the headers of each tab, what a
 * Catalog header means, and the developer metadata keys that tag rows (they follow a row when staff
 * sort or insert rows; neither side ever finds a row by its number).
 *
 * Pure and without imports: the add-on bundle carries it to Apps Script.
 */

export const CATALOG = 'Catalog';
export const SKU_METADATA_KEY = 'stockrelay.sku';
export const HEADER_ROW = 1;
/** The separator in "On hand · gallery"; "-", ":" and "|" are read too. */
export const DOT = '·';

export type Column =
  | { role: 'sku' }
  | { role: 'title' }
  | { role: 'on_hand'; location: string | null }
  | { role: 'available'; location: string | null }
  | { role: 'threshold' }
  | { role: 'buffer' }
  | { role: 'status' }
  | { role: 'last_synced' }
  | { role: 'sync_note' };

export type Role = Column['role'];

/** Columns the hub writes: protected (warning only) and never relayed. */
export const COMPUTED_ROLES: readonly Role[] = ['available', 'status', 'last_synced', 'sync_note'];
/** Columns holding a count of units: whole numbers, zero or more. */
export const QUANTITY_ROLES: readonly Role[] = ['on_hand', 'threshold', 'buffer'];

export function onHandHeader(location: string): string {
  return `On hand ${DOT} ${location}`;
}

export function availableHeader(location: string): string {
  return `Available ${DOT} ${location}`;
}

/** The fixed headers of a new Catalog, around the per-location ones. */
export function catalogHeaders(locations: string[]): string[] {
  return ['SKU', 'Title', ...locations.map(onHandHeader), ...locations.map(availableHeader), 'Low-stock threshold', 'Buffer', 'Status', 'Last synced', 'Sync note'];
}

const norm = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();

/** Pure: what a header cell names, or null for a column of the staff's own. */
export function parseHeader(text: unknown): Column | null {
  if (typeof text !== 'string') return null;
  const h = norm(text);
  if (!h) return null;
  const perLocation = /^(on hand|available)(?:\s*[·:|\-–—]\s*(.+))?$/.exec(h);
  if (perLocation) {
    // Keep the location as typed (trimmed): it is the hub's location id.
    const raw = /^[^·:|\-–—]*[·:|\-–—]\s*(.+)$/.exec(String(text).trim());
    const location = perLocation[2] ? raw![1]!.trim() : null;
    return perLocation[1] === 'on hand' ? { role: 'on_hand', location } : { role: 'available', location };
  }
  switch (h) {
    case 'sku':
      return { role: 'sku' };
    case 'title':
      return { role: 'title' };
    case 'low-stock threshold':
    case 'low stock threshold':
      return { role: 'threshold' };
    case 'buffer':
      return { role: 'buffer' };
    case 'status':
      return { role: 'status' };
    case 'last synced':
      return { role: 'last_synced' };
    case 'sync note':
      return { role: 'sync_note' };
    default:
      return null;
  }
}

/** The Purchase Orders tab: customers' purchase orders, one row per line (docs/orders.md). */
export const PURCHASE_ORDERS = 'Purchase Orders';
export const PO_HEADERS = ['PO number', 'Customer', 'SKU', 'Quantity', 'Location', 'Needed by', 'Status', 'Reserved', 'Waiting', 'Reason', 'Updated'];
/** Columns the hub writes back (the add-on writes Status, Reason and Updated when it sends). */
export const PO_HUB_COLUMNS = ['Status', 'Reserved', 'Waiting', 'Reason', 'Updated'] as const;
export type PoHubColumn = (typeof PO_HUB_COLUMNS)[number];
/** `stockrelay.po_line` = "<PO number>#<line>" on each row of a sent order. */
export const PO_LINE_METADATA_KEY = 'stockrelay.po_line';

/** The tabs the hub appends to, with their headers; people read them, the hub writes them. */
export const LOG_TABS = {
  Movements: ['When', 'SKU', 'Location', 'Change', 'Reason', 'From', 'Channel', 'Who', 'Note', 'Reference'],
  Orders: ['When', 'Channel', 'Order', 'SKU', 'Location', 'Quantity', 'Status', 'Note', 'Unit price', 'Line total', 'Amount', 'Currency', 'Order total', 'Payment', 'Fulfilment', 'Flags'],
  Alerts: ['Opened', 'Severity', 'What', 'SKU', 'Location', 'Channel', 'Message', 'Status', 'Resolved'],
  Conflicts: ['Found', 'SKU', 'Location', 'Sheet showed', 'Typed', 'Hub has', 'Who', 'Status', 'Event'],
} as const;
export type LogTab = keyof typeof LOG_TABS;
/** A header of a log tab: the hub's rows name their values by these, so a value under no header does not compile. */
export type LogColumn<T extends LogTab> = (typeof LOG_TABS)[T][number];
