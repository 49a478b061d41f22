/**
 * BigCommerce's events as the translator reads them, pure: the JSON helpers, the topics, what a thin
 * event names (`subjectOf`) and what `expand` attaches to it. No HTTP here: the translator loads
 * this file, never the client's.
 */
export type Json = Record<string, unknown>;

export function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A whole number BigCommerce sent as a number (ids, quantities), or null. */
export function int(v: unknown): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
}

export const EXPANDED_KEY = 'stockrelay';

/** What expand attaches to a thin event. */
export interface Expanded {
  order?: Json;
  products?: Json[];
  refund?: Json;
  /** The store's `refund_order_stock_adjustment`, when the event needs it. */
  restocks?: boolean;
  levels?: ItemLevel[];
}

export const ORDER_TOPICS = ['store/order/created', 'store/order/updated', 'store/order/statusUpdated'] as const;
export const REFUND_TOPIC = 'store/order/refund/created';
export const PRODUCT_INVENTORY_TOPICS = ['store/product/inventory/updated', 'store/product/inventory/order/updated'] as const;
export const SKU_INVENTORY_TOPICS = ['store/sku/inventory/updated', 'store/sku/inventory/order/updated'] as const;

/** The order, refund or product an event names, by its topic and `data` (null: nothing to fetch). */
export function subjectOf(topic: string, body: unknown): { kind: 'order'; orderId: number } | { kind: 'refund'; orderId: number; refundId: number } | { kind: 'inventory'; productId: number } | null {
  if (!isObj(body) || !isObj(body.data) || body.scope !== topic) return null;
  const data = body.data;
  if ((ORDER_TOPICS as readonly string[]).includes(topic)) {
    const orderId = data.type === 'order' ? int(data.id) : null;
    return orderId !== null ? { kind: 'order', orderId } : null;
  }
  if (topic === REFUND_TOPIC) {
    const orderId = data.type === 'order' ? int(data.id) : null;
    const refundId = isObj(data.refund) ? int(data.refund.refund_id) : null;
    return orderId !== null && refundId !== null ? { kind: 'refund', orderId, refundId } : null;
  }
  const inv = isObj(data.inventory) ? data.inventory : null;
  if ((PRODUCT_INVENTORY_TOPICS as readonly string[]).includes(topic) && data.type === 'product') {
    const productId = int(inv?.product_id) ?? int(data.id);
    return productId !== null ? { kind: 'inventory', productId } : null;
  }
  if ((SKU_INVENTORY_TOPICS as readonly string[]).includes(topic) && data.type === 'sku') {
    const productId = int(inv?.product_id);
    return productId !== null ? { kind: 'inventory', productId } : null;
  }
  return null;
}

/** One variant's level at one location, as `GET /v3/inventory/items` answers. */
export interface ItemLevel {
  productId: number;
  variantId: number;
  sku: string | null;
  locationId: number;
  onHand: number;
}
