/**
 * Purchase orders from customers and orders to suppliers, from the API or the sheet (docs/orders.md):
 * the desks (server/purchase-orders/) decide, and what they book goes through the same path as every event.
 */
import { rejected, statusOf, type CommandResult, type Outcome } from '../../core/booking';
import type { Source } from '../../core/ledger';
import type { Relay } from '../../shared/relay';

/** A purchase order typed in the sheet, or its cancellation. */
type SheetOrder = Extract<Relay, { kind: 'purchase_order' | 'purchase_order_cancel' }>;
import { cancelPurchaseOrder, fulfilPurchaseOrder, submitPurchaseOrder, type PurchaseOrderInput } from '../../purchase-orders/desk';
import { createSupplierOrder, receiveSupplierOrder, updateSupplierOrderStatus, type ReceiptInput, type StatusInput, type SupplierOrderInput } from '../../purchase-orders/supplier-orders';
import type { InboxEntry } from '../../store/types';
import type { BookingContext } from '../context';
import { deskFor } from '../desk';
import { followUp } from '../follow-up';

/** `relay`: a purchase order typed in the sheet (a relay); without it, the entry is one of the API's order desk kinds. */
export async function bookOrderDesk(ctx: BookingContext, entry: InboxEntry, relay?: SheetOrder): Promise<Outcome> {
  let results: CommandResult[];
  try {
    results = relay ? await fromSheet(ctx, relay) : await fromApi(ctx, entry);
  } catch (err) {
    if (err instanceof SyntaxError) return rejected(`The request cannot be read: ${err.message}`);
    throw err;
  }
  await followUp(ctx);
  return { status: statusOf(results), results };
}

async function fromSheet(ctx: BookingContext, relay: SheetOrder): Promise<CommandResult[]> {
  const desk = deskFor(ctx);
  if (relay.kind === 'purchase_order') return submitPurchaseOrder(desk, { ...relay, origin: relay.origin ?? 'sheet', submittedAt: relay.submittedAt });
  return cancelPurchaseOrder(desk, { number: relay.number, reason: relay.reason, actor: relay.actor, origin: relay.origin ?? 'sheet' });
}

async function fromApi(ctx: BookingContext, entry: InboxEntry): Promise<CommandResult[]> {
  const desk = deskFor(ctx);
  const body = JSON.parse(entry.body) as Record<string, unknown>;
  const origin = (body.origin as Source | undefined) ?? 'api';
  switch (entry.kind) {
    case 'purchase_order':
      return submitPurchaseOrder(desk, { ...(body as unknown as PurchaseOrderInput), origin });
    case 'purchase_order_cancel':
      return cancelPurchaseOrder(desk, { number: String(body.number), reason: body.reason as string | undefined, actor: body.actor as string | undefined, origin });
    case 'purchase_order_fulfil':
      return fulfilPurchaseOrder(desk, { number: String(body.number), actor: body.actor as string | undefined, origin });
    case 'supplier_order':
      return createSupplierOrder(desk, body as unknown as SupplierOrderInput);
    case 'supplier_receipt':
      return receiveSupplierOrder(desk, body as unknown as ReceiptInput, origin);
    default:
      return updateSupplierOrderStatus(desk, body as unknown as StatusInput);
  }
}
