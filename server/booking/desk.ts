/**
 * What the order desks (purchase orders, supplier orders: server/purchase-orders/) are handed to book with:
 * the event's transaction, a way to book a command, to announce a purchase order and to mark an item
 * for the follow-up. The desks decide; booking goes through the same path as every other event.
 */
import type { Desk } from '../purchase-orders/desk';
import type { SupplierDesk } from '../purchase-orders/supplier-orders';
import { applyCommand } from './apply';
import { ordersConfig, touchItem, type BookingContext } from './context';

export function deskFor(ctx: BookingContext): Desk & SupplierDesk {
  const { deps, tx, now } = ctx;
  return {
    tx,
    now,
    eventId: ctx.eventId,
    config: { ...ordersConfig(deps.config), defaultLocation: deps.config.defaultLocation },
    book: (cmd) => applyCommand(ctx, cmd),
    announce: (view) => deps.announcer.announce(tx, { topic: 'purchase_order.changed', payload: { purchaseOrder: view, at: now } }, now),
    touch: (sku) => touchItem(ctx, sku),
  };
}
