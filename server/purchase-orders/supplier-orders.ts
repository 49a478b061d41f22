/**
 * Supplier orders: stock on its way in (docs/orders.md). Receiving books receipts in the ledger;
 * a supplier's delay or backorder moves the expected date and, by policy, decides what the
 * item's listings do while it is out of stock (hide, or keep listed) through the item's hold.
 */
import type { BookingCommand } from '../core/relay';
import type { Source } from '../core/ledger';
import { MAX_QUANTITY_TEXT, quantityProblem } from '../shared/quantity';
import type { CommandResult } from '../core/booking';
import type { StoreOps, SupplierOrderRecord, SupplierOrderStatus } from '../store/types';

export interface SupplierOrderInput {
  number: string;
  supplier: string;
  expectedAt?: string | undefined;
  onDelay?: 'hide' | 'keep_listed' | undefined;
  note?: string | undefined;
  lines: { sku: string; quantity: number; location?: string | undefined; expectedAt?: string | undefined }[];
}

export interface ReceiptInput {
  number: string;
  receiptId: string;
  lines: { line?: number | undefined; sku?: string | undefined; quantity: number }[];
  actor?: string | undefined;
  receivedAt: string;
}

export interface StatusInput {
  number: string;
  status: 'open' | 'delayed' | 'backordered' | 'cancelled';
  expectedAt?: string | undefined;
  reason?: string | undefined;
}

export interface SupplierDesk {
  tx: StoreOps;
  now: string;
  config: { defaultLocation: string; supplierOrders: { onDelay: 'hide' | 'keep_listed' } };
  book(cmd: Extract<BookingCommand, { type: 'adjust' }>): Promise<CommandResult>;
  /** The item's listings must be pushed again (its hold changed). */
  touch(sku: string): Promise<void>;
}

const LATE: SupplierOrderStatus[] = ['delayed', 'backordered'];

/** What a late supplier order asks of an item's listings at zero: the strictest of its late orders. */
export async function refreshHold(desk: SupplierDesk, sku: string): Promise<void> {
  const late = (await desk.tx.supplierOrders.openFor(sku)).filter((o) => LATE.includes(o.status));
  const hold = late.length === 0 ? null : late.some((o) => o.onDelay === 'hide') ? 'hide' : 'keep_listed';
  const item = await desk.tx.items.get(sku);
  if (!item || item.listingHold === hold) return;
  await desk.tx.items.setListingHold(sku, hold);
  await desk.touch(sku);
}

export async function createSupplierOrder(desk: SupplierDesk, input: SupplierOrderInput): Promise<CommandResult[]> {
  const existing = await desk.tx.supplierOrders.get(input.number);
  if (existing) return [{ sku: '', result: 'rejected', message: `Supplier order ${input.number} already exists (${existing.status}, from ${existing.supplier}); nothing was added.` }];
  const problems: string[] = [];
  for (const [i, l] of input.lines.entries()) {
    const units = quantityProblem(l.quantity, `Line ${i + 1}: the quantity`, 1);
    if (units) problems.push(units);
    if (!(await desk.tx.items.get(l.sku))) problems.push(`Line ${i + 1}: SKU "${l.sku}" is not in the catalog.`);
    const location = l.location ?? desk.config.defaultLocation;
    if (!(await desk.tx.locations.get(location))) problems.push(`Line ${i + 1}: location "${location}" is not known to the hub.`);
  }
  if (problems.length > 0) return [{ sku: input.lines[0]?.sku ?? '', result: 'rejected', message: `Supplier order ${input.number} not added: ${problems.join(' ')}` }];
  await desk.tx.supplierOrders.insert(
    {
      number: input.number,
      supplier: input.supplier,
      status: 'open',
      expectedAt: input.expectedAt ?? null,
      onDelay: input.onDelay ?? desk.config.supplierOrders.onDelay,
      reason: null,
      note: input.note ?? null,
      lines: input.lines.map((l, i) => ({ line: i + 1, sku: l.sku, locationId: l.location ?? desk.config.defaultLocation, ordered: l.quantity, received: 0, expectedAt: l.expectedAt ?? input.expectedAt ?? null })),
    },
    desk.now,
  );
  return [{ sku: input.lines[0]!.sku, result: 'updated', message: `Supplier order ${input.number} from ${input.supplier} added: ${input.lines.reduce((n, l) => n + l.quantity, 0)} units expected${input.expectedAt ? ` by ${input.expectedAt}` : ''}.` }];
}

function statusAfterReceipt(o: SupplierOrderRecord): SupplierOrderStatus {
  const all = o.lines.every((l) => l.received >= l.ordered);
  if (all) return 'received';
  if (LATE.includes(o.status)) return o.status;
  return o.lines.some((l) => l.received > 0) ? 'partially_received' : 'open';
}

/** Goods arrived: each line's units are booked as a receipt, once per receipt id. */
export async function receiveSupplierOrder(desk: SupplierDesk, input: ReceiptInput, origin: Source): Promise<CommandResult[]> {
  const order = await desk.tx.supplierOrders.get(input.number);
  if (!order) return [{ sku: '', result: 'rejected', message: `There is no supplier order ${input.number}; nothing was received.` }];
  if (order.status === 'cancelled') return [{ sku: '', result: 'rejected', message: `Supplier order ${input.number} was cancelled; nothing was received. Add the goods as a restock instead.` }];
  const results: CommandResult[] = [];
  const plan: { line: SupplierOrderRecord['lines'][number]; quantity: number }[] = [];
  for (const [i, r] of input.lines.entries()) {
    const line = r.line !== undefined ? order.lines.find((l) => l.line === r.line) : order.lines.find((l) => l.sku === r.sku && l.received < l.ordered) ?? order.lines.find((l) => l.sku === r.sku);
    if (!line) return [{ sku: r.sku ?? '', result: 'rejected', message: `Receipt ${input.receiptId} line ${i + 1}: supplier order ${input.number} has no ${r.line !== undefined ? `line ${r.line}` : `line for SKU "${r.sku ?? ''}"`}; nothing was received.` }];
    const units = quantityProblem(r.quantity, `Receipt ${input.receiptId} line ${i + 1}: the quantity`, 1) ?? quantityProblem(line.received + r.quantity, `Receipt ${input.receiptId} line ${i + 1}: the units received in all on ${input.number}`);
    if (units) return [{ sku: line.sku, result: 'rejected', message: `${units} Nothing was received (at most ${MAX_QUANTITY_TEXT} per line).` }];
    plan.push({ line, quantity: r.quantity });
  }
  for (const [i, p] of plan.entries()) {
    const r = await desk.book({
      type: 'adjust',
      key: `receipt:${order.number}:${input.receiptId}:${i + 1}`,
      sku: p.line.sku,
      location: p.line.locationId,
      quantity: p.quantity,
      reason: 'receipt',
      source: origin,
      actor: input.actor ?? null,
      note: `Received on supplier order ${order.number} (${order.supplier}), receipt ${input.receiptId}.`,
      occurredAt: input.receivedAt,
      externalRef: order.number,
    });
    results.push(r);
    if (r.result === 'booked') {
      p.line.received += p.quantity;
      await desk.tx.supplierOrders.updateLine(order.id, p.line.line, p.line.received);
      if (p.line.received > p.line.ordered) results.push({ sku: p.line.sku, result: 'unchanged', message: `${p.line.sku}: ${p.line.received} received against ${p.line.ordered} ordered on ${order.number}; the extra units were booked too.` });
    }
  }
  const status = statusAfterReceipt(order);
  if (status !== order.status) await desk.tx.supplierOrders.update(order.id, { status }, desk.now);
  for (const sku of new Set(order.lines.map((l) => l.sku))) await refreshHold(desk, sku);
  return results;
}

/** The supplier says the order is late, on its way again, or will not come. */
export async function updateSupplierOrderStatus(desk: SupplierDesk, input: StatusInput): Promise<CommandResult[]> {
  const order = await desk.tx.supplierOrders.get(input.number);
  if (!order) return [{ sku: '', result: 'rejected', message: `There is no supplier order ${input.number}; nothing was changed.` }];
  if (order.status === 'received' || order.status === 'cancelled') return [{ sku: '', result: 'rejected', message: `Supplier order ${input.number} is already ${order.status}; nothing was changed.` }];
  const status: SupplierOrderStatus = input.status === 'open' ? (order.lines.some((l) => l.received > 0) ? 'partially_received' : 'open') : input.status;
  await desk.tx.supplierOrders.update(order.id, { status, ...(input.expectedAt !== undefined ? { expectedAt: input.expectedAt } : {}), reason: input.reason ?? null }, desk.now);
  for (const sku of new Set(order.lines.map((l) => l.sku))) await refreshHold(desk, sku);
  const what = LATE.includes(status)
    ? `${status}${input.expectedAt ? `, now expected ${input.expectedAt}` : ''}; items of it that run out are ${order.onDelay === 'hide' ? 'hidden on channels that can hide' : 'kept listed'}`
    : status;
  return [{ sku: order.lines[0]?.sku ?? '', result: 'updated', message: `Supplier order ${order.number}: ${what}.` }];
}
