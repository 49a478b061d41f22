/**
 * The purchase order desk (docs/orders.md): customers' purchase orders matched against available
 * stock by policy, with reservations booked in the ledger. Runs inside the inbox processor's
 * transaction, so a reservation and the PO's new status commit together or not at all.
 */
import type { PurchaseOrdersConfig, ShortPolicy } from '../config';
import type { BookingCommand } from '../core/relay';
import type { Source } from '../core/ledger';
import type { CommandResult } from '../core/booking';
import type { PurchaseOrderLineRecord, PurchaseOrderRecord, PurchaseOrderStatus, StoreOps } from '../store/types';
import { checkPurchaseOrderInput, matchPurchaseOrder, reevaluateWaitlist, stockKey, type MatchResult, type PoForMatch } from '../core/po-match';

export interface PurchaseOrderInput {
  number: string;
  customer: string;
  lines: { line?: number | undefined; sku: string; quantity: number; location?: string | undefined }[];
  neededBy?: string | undefined;
  note?: string | undefined;
  actor?: string | undefined;
  origin: Source;
  sheet?: string | undefined;
  submittedAt: string;
}

export interface Desk {
  tx: StoreOps;
  now: string;
  eventId: number;
  config: { purchaseOrders: PurchaseOrdersConfig; defaultLocation: string };
  /** Books one movement through the processor (which also schedules the follow-up of the item). */
  book(cmd: Extract<BookingCommand, { type: 'adjust' }>): Promise<CommandResult>;
  /** Tells the write-backs and the outgoing webhook that a PO changed (or was refused unstored). */
  announce(view: PurchaseOrderView): Promise<void>;
}

export interface PurchaseOrderLineView extends PurchaseOrderLineRecord {
  /** Units still waiting for stock. */
  waiting: number;
}

/** A PO as the API, the sheet and the webhook show it. */
export interface PurchaseOrderView extends Omit<PurchaseOrderRecord, 'lines' | 'id'> {
  id: number | null;
  lines: PurchaseOrderLineView[];
  /** False for a PO refused before it was stored (unknown SKU…): its number is still free. */
  stored: boolean;
}

export const STATUS_TEXT: Record<PurchaseOrderStatus, string> = {
  approved: 'Approved',
  partially_approved: 'Partly approved',
  waitlisted: 'Waitlisted',
  rejected: 'Rejected',
  cancelled: 'Cancelled',
  fulfilled: 'Fulfilled',
  partially_fulfilled: 'Partly fulfilled',
};

const wantedOf = (l: PurchaseOrderLineRecord) => Math.max(0, l.ordered - l.reserved - l.dropped - l.fulfilled);

export function viewOf(po: PurchaseOrderRecord): PurchaseOrderView {
  const terminal = po.status === 'cancelled' || po.status === 'rejected';
  return { ...po, stored: true, lines: po.lines.map((l) => ({ ...l, waiting: terminal ? 0 : wantedOf(l) })) };
}

export function policyFor(config: PurchaseOrdersConfig, customer: string): ShortPolicy {
  // The customer is named by whoever sent the order: never a property inherited from Object.prototype.
  return (Object.hasOwn(config.customers, customer) ? config.customers[customer]?.onShort : undefined) ?? config.onShort;
}

/** The status the lines stand for, once a PO is neither cancelled nor rejected. */
function derivedStatus(lines: PurchaseOrderLineRecord[]): PurchaseOrderStatus {
  const wanted = lines.reduce((n, l) => n + wantedOf(l), 0);
  const reserved = lines.reduce((n, l) => n + l.reserved, 0);
  const fulfilled = lines.reduce((n, l) => n + l.fulfilled, 0);
  const dropped = lines.reduce((n, l) => n + l.dropped, 0);
  if (wanted === 0) {
    if (reserved === 0 && fulfilled > 0) return 'fulfilled';
    return dropped > 0 ? 'partially_approved' : 'approved';
  }
  return reserved > 0 || fulfilled > 0 ? 'partially_approved' : 'waitlisted';
}

const forMatch = (po: PurchaseOrderRecord): PoForMatch => ({
  id: po.id,
  number: po.number,
  policy: po.policy as ShortPolicy,
  // Units shipped count as covered: the matcher wants ordered − covered − dropped.
  lines: po.lines.map((l) => ({ line: l.line, sku: l.sku, location: l.locationId, ordered: l.ordered, reserved: l.reserved + l.fulfilled, dropped: l.dropped })),
});

async function availability(tx: StoreOps, keys: { sku: string; location: string }[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const levels = await tx.ledger.levelsFor([...new Set(keys.map((k) => k.sku))]);
  for (const k of keys) {
    const l = levels.find((x) => x.sku === k.sku && x.locationId === k.location);
    out.set(stockKey(k.sku, k.location), l ? l.onHand - l.reserved : 0);
  }
  return out;
}

/** Books the reservations and drops a match decided, and stores the PO's new state. */
async function apply(desk: Desk, po: PurchaseOrderRecord, result: MatchResult, reason: string | null): Promise<PurchaseOrderRecord> {
  const lines = po.lines.map((l) => ({ ...l }));
  for (const r of result.reserve) {
    const line = lines.find((l) => l.line === r.line)!;
    const after = line.reserved + line.fulfilled + r.quantity;
    const booked = await desk.book({
      type: 'adjust',
      key: `po:${po.number}:${line.line}:reserve:${after}`,
      sku: line.sku,
      location: line.locationId,
      quantity: r.quantity,
      reason: 'reservation',
      source: (po.origin as Source) ?? 'api',
      actor: po.actor,
      note: `Reserved for purchase order ${po.number} (${po.customer}), line ${line.line}.`,
      occurredAt: desk.now,
      externalRef: po.number,
    });
    if (booked.result !== 'booked' && booked.result !== 'duplicate') throw new Error(`Reserving for purchase order ${po.number} failed: ${booked.message}`);
    line.reserved += r.quantity;
    await desk.tx.purchaseOrders.updateLine(po.id, line.line, { reserved: line.reserved });
  }
  for (const d of result.drop) {
    const line = lines.find((l) => l.line === d.line)!;
    line.dropped += d.quantity;
    await desk.tx.purchaseOrders.updateLine(po.id, line.line, { dropped: line.dropped });
  }
  const status = result.status === 'rejected' ? 'rejected' : derivedStatus(lines);
  await desk.tx.purchaseOrders.update(po.id, { status, reason }, desk.now);
  const after = { ...po, lines, status, reason, updatedAt: desk.now };
  await desk.announce(viewOf(after));
  return after;
}

/** The PO as submitted, nothing reserved yet: stored as it is, or shown refused without being stored. */
function submitted(input: PurchaseOrderInput, desk: Desk, status: PurchaseOrderStatus, reason: string | null): Omit<PurchaseOrderRecord, 'id' | 'updatedAt'> {
  return {
    number: input.number,
    customer: input.customer,
    origin: input.origin,
    policy: policyFor(desk.config.purchaseOrders, input.customer),
    status,
    reason,
    neededBy: input.neededBy ?? null,
    note: input.note ?? null,
    actor: input.actor ?? null,
    sheet: input.sheet ?? null,
    eventId: desk.eventId,
    submittedAt: input.submittedAt,
    lines: input.lines.map((l, i) => ({ line: l.line ?? i + 1, sku: l.sku, locationId: l.location ?? desk.config.defaultLocation, ordered: l.quantity, reserved: 0, dropped: 0, fulfilled: 0 })),
  };
}

function refusedView(input: PurchaseOrderInput, desk: Desk, reason: string): PurchaseOrderView {
  const po = submitted(input, desk, 'rejected', reason);
  return { ...po, id: null, updatedAt: desk.now, stored: false, lines: po.lines.map((l) => ({ ...l, waiting: 0 })) };
}

/** A new purchase order: checked, stored, matched against what the waitlist leaves, and booked. */
export async function submitPurchaseOrder(desk: Desk, input: PurchaseOrderInput): Promise<CommandResult[]> {
  const { tx } = desk;
  const existing = await tx.purchaseOrders.get(input.number);
  if (existing) {
    return [{ sku: '', result: 'rejected', message: `Purchase order ${input.number} already exists (${STATUS_TEXT[existing.status].toLowerCase()}, from ${existing.customer}); nothing was reserved. Give a new order a new number.` }];
  }
  // Input the schema cannot judge: unknown items and locations. Refused unstored, so the number stays free.
  const problems = checkPurchaseOrderInput({ number: input.number, lines: input.lines });
  for (const [i, l] of input.lines.entries()) {
    const item = await tx.items.get(l.sku);
    if (!item) problems.push(`Line ${l.line ?? i + 1}: SKU "${l.sku}" is not in the catalog.`);
    else if (item.status === 'archived') problems.push(`Line ${l.line ?? i + 1}: SKU "${l.sku}" was removed from the catalog.`);
    const location = l.location ?? desk.config.defaultLocation;
    if (!(await tx.locations.get(location))) problems.push(`Line ${l.line ?? i + 1}: location "${location}" is not known to the hub.`);
  }
  if (problems.length > 0) {
    const reason = `Not accepted: ${problems.join(' ')} Nothing was reserved; fix the order and send it again.`;
    await desk.announce(refusedView(input, desk, reason));
    return [{ sku: input.lines[0]?.sku ?? '', result: 'rejected', message: reason }];
  }

  // Orders already waiting come first: serve them from what is there before this one is matched.
  await reevaluate(desk);
  const waiting = await tx.purchaseOrders.waiting();
  const heldKeys = new Set<string>();
  for (const w of waiting) for (const l of w.lines) if (wantedOf(l) > 0) heldKeys.add(stockKey(l.sku, l.locationId));

  const po = await tx.purchaseOrders.insert(submitted(input, desk, 'waitlisted', null), desk.now);
  const avail = await availability(tx, po.lines.map((l) => ({ sku: l.sku, location: l.locationId })));
  // Strict first in, first out: stock an earlier waiting order still wants is not this order's.
  for (const key of heldKeys) if (avail.has(key)) avail.set(key, 0);
  const result = matchPurchaseOrder(forMatch(po), avail);
  const after = await apply(desk, po, result, result.reason);
  return [
    {
      sku: po.lines[0]!.sku,
      result: result.status === 'rejected' ? 'rejected' : 'updated',
      message: `Purchase order ${po.number}: ${STATUS_TEXT[after.status].toLowerCase()}${after.reason ? `. ${after.reason}` : '.'}`,
    },
  ];
}

/** After stock came back: waiting orders are served first in, first out. Returns how many changed. */
export async function reevaluate(desk: Desk, touchedSkus?: Set<string>): Promise<number> {
  const waiting = (await desk.tx.purchaseOrders.waiting()).filter((po) => po.lines.some((l) => wantedOf(l) > 0));
  if (waiting.length === 0) return 0;
  if (touchedSkus && !waiting.some((po) => po.lines.some((l) => wantedOf(l) > 0 && touchedSkus.has(l.sku)))) return 0;
  const keys = waiting.flatMap((po) => po.lines.map((l) => ({ sku: l.sku, location: l.locationId })));
  const avail = await availability(desk.tx, keys);
  let changed = 0;
  for (const { id, result } of reevaluateWaitlist(waiting.map(forMatch), avail)) {
    const po = waiting.find((p) => p.id === id)!;
    if (result.reserve.length === 0 && result.drop.length === 0 && result.status !== 'rejected') continue;
    await apply(desk, po, result, result.status === 'approved' ? null : result.reason);
    changed++;
  }
  return changed;
}

/** Cancels a PO: every unit it reserved is released; what it waited for is no longer wanted. */
export async function cancelPurchaseOrder(desk: Desk, input: { number: string; reason?: string | undefined; actor?: string | undefined; origin: Source }): Promise<CommandResult[]> {
  const po = await desk.tx.purchaseOrders.get(input.number);
  if (!po) return [{ sku: '', result: 'rejected', message: `There is no purchase order ${input.number}; nothing was cancelled.` }];
  if (po.status === 'cancelled') return [{ sku: '', result: 'unchanged', message: `Purchase order ${po.number} was already cancelled; nothing more was released.` }];
  if (po.status === 'fulfilled' || po.status === 'rejected') return [{ sku: '', result: 'rejected', message: `Purchase order ${po.number} is ${STATUS_TEXT[po.status].toLowerCase()}, so it cannot be cancelled; nothing was changed.` }];
  const lines = po.lines.map((l) => ({ ...l }));
  let released = 0;
  for (const line of lines) {
    if (line.reserved <= 0) continue;
    const booked = await desk.book({
      type: 'adjust',
      key: `po:${po.number}:${line.line}:cancel-release`,
      sku: line.sku,
      location: line.locationId,
      quantity: -line.reserved,
      reason: 'release',
      source: input.origin,
      actor: input.actor ?? null,
      note: `Released: purchase order ${po.number} (${po.customer}) cancelled${input.reason ? ` (${input.reason})` : ''}.`,
      occurredAt: desk.now,
      externalRef: po.number,
    });
    if (booked.result !== 'booked' && booked.result !== 'duplicate') throw new Error(`Releasing purchase order ${po.number} failed: ${booked.message}`);
    released += line.reserved;
    line.reserved = 0;
    await desk.tx.purchaseOrders.updateLine(po.id, line.line, { reserved: 0 });
  }
  const reason = `Cancelled${input.actor ? ` by ${input.actor}` : ''}${input.reason ? `: ${input.reason}` : ''}.`;
  await desk.tx.purchaseOrders.update(po.id, { status: 'cancelled', reason }, desk.now);
  await desk.announce(viewOf({ ...po, lines, status: 'cancelled', reason, updatedAt: desk.now }));
  return [{ sku: po.lines[0]!.sku, result: 'updated', message: `Purchase order ${po.number} cancelled; ${released} reserved unit${released === 1 ? '' : 's'} released.` }];
}

/**
 * The goods of a PO left the building: its reservations become sales. Units still waiting keep
 * waiting (the PO stays partly approved until they ship too).
 */
export async function fulfilPurchaseOrder(desk: Desk, input: { number: string; actor?: string | undefined; origin: Source }): Promise<CommandResult[]> {
  const po = await desk.tx.purchaseOrders.get(input.number);
  if (!po) return [{ sku: '', result: 'rejected', message: `There is no purchase order ${input.number}; nothing was shipped.` }];
  if (po.status === 'cancelled' || po.status === 'rejected' || po.status === 'fulfilled') {
    return [{ sku: '', result: 'rejected', message: `Purchase order ${po.number} is ${STATUS_TEXT[po.status].toLowerCase()}; nothing was shipped.` }];
  }
  const shipping = po.lines.filter((l) => l.reserved > 0);
  if (shipping.length === 0) return [{ sku: '', result: 'rejected', message: `Purchase order ${po.number} has nothing reserved yet (${STATUS_TEXT[po.status].toLowerCase()}); nothing was shipped.` }];
  const lines = po.lines.map((l) => ({ ...l }));
  const results: CommandResult[] = [];
  for (const line of lines) {
    if (line.reserved <= 0) continue;
    const shipped = line.fulfilled + line.reserved;
    const common = { type: 'adjust' as const, sku: line.sku, location: line.locationId, source: input.origin, actor: input.actor ?? null, occurredAt: desk.now, externalRef: po.number };
    for (const step of [
      { ...common, key: `po:${po.number}:${line.line}:ship:${shipped}:release`, quantity: -line.reserved, reason: 'release' as const, note: `Shipped on purchase order ${po.number}: reservation released.` },
      { ...common, key: `po:${po.number}:${line.line}:ship:${shipped}:sale`, quantity: -line.reserved, reason: 'sale' as const, note: `Shipped on purchase order ${po.number} (${po.customer}).` },
    ]) {
      const r = await desk.book(step);
      if (r.result !== 'booked' && r.result !== 'duplicate') throw new Error(`Shipping purchase order ${po.number} failed: ${r.message}`);
      results.push(r);
    }
    line.fulfilled = shipped;
    line.reserved = 0;
    await desk.tx.purchaseOrders.updateLine(po.id, line.line, { reserved: 0, fulfilled: shipped });
  }
  const status = derivedStatus(lines);
  await desk.tx.purchaseOrders.update(po.id, { status }, desk.now);
  await desk.announce(viewOf({ ...po, lines, status, updatedAt: desk.now }));
  return results;
}
