/**
 * The emulated Commerce instance's options and records, the REST shapes it answers with (the
 * 2.4.8 Admin REST schema's `catalog-data-product-interface`, `inventory-api-data-source-item-interface`,
 * `catalog-inventory-data-stock-item-interface`, `sales-data-order-interface`,
 * `sales-data-creditmemo-interface`) and Magento's error answers.
 */
import type { RequestWindow } from '../../emulator';
import { magentoDate } from '../translate';

export { magentoDate, magentoMs } from '../translate';

export type Json = Record<string, unknown>;

export interface AdobeEmulatorOptions {
  /** The integration's access token (System > Extensions > Integrations), sent as a bearer token. */
  accessToken: string;
  /** The value of the static header every hook of ours is configured to carry (README.md, "Events"). */
  webhookSecret: string;
  /** The store's secure base URL, which the hooks send as `store_url` (`web/secure/base_url`). */
  storeUrl?: string;
  /** The webhook signing key (PEM); the emulator's own pair by default. */
  privateKey?: string;
  /** MSI source codes; `['default']` (a single-source store) by default. */
  sources?: string[];
  /** The store currency (ISO 4217), USD by default. */
  currency?: string;
  /** A limit the host enforces in front of Magento (Commerce has none of its own); none by default. */
  hostLimit?: RequestWindow | null;
  /** The clock the host limit counts with (ms). */
  clock?: () => number;
  /** The store's own clock (ms), for the dates on orders and credit memos; the wall clock by default. */
  storeClock?: () => number;
  /**
   * Web API input limits (Stores > Configuration > Services > Web Api Limits): at most this many
   * entities in one list input (Adobe's default when the limits are on: 20); 20 by default here, the
   * stricter case. null: off (Commerce's own default).
   */
  inputLimit?: number | null;
  /**
   * Whether the Inventory (MSI) modules are on (the default). Off, the store has only the legacy
   * stock item of its default source: no /V1/inventory routes, and an order deducts the quantity
   * when it is placed (no reservations).
   */
  msi?: boolean;
  /** Random source for webhook faults. */
  random?: () => number;
}

/**
 * Adobe Commerce sets no REST rate limit by default; a host, CDN or firewall in front of it often
 * does (Adobe Commerce on cloud puts Fastly in front). The emulator's stand-in figure for such a
 * host when a test asks for one: 25 requests in any 10 seconds, answered 429 with Retry-After.
 */
export const ADOBE_HOST_LIMIT: RequestWindow = { requests: 25, windowMs: 10_000 };

export interface Product {
  id: number;
  sku: string;
  name: string;
  /** 1 enabled, 2 disabled (Magento\Catalog\Model\Product\Attribute\Source\Status). */
  status: 1 | 2;
  /** 1 not visible individually, 2 catalog, 3 search, 4 catalog and search. */
  visibility: 1 | 2 | 3 | 4;
  /** One unit, in minor units. */
  price: number;
  created: Date;
  updated: Date;
  /** Quantity per source code (MSI source items); `default` is the single source. */
  sources: Map<string, { quantity: number; status: 0 | 1 }>;
  /** Units held by reservations on the default stock (orders placed, not yet shipped or cancelled). */
  reserved: number;
}

/**
 * The reserved units of a product, taken from its sources in priority order (Magento's default
 * source selection takes from the first source that has the goods): what each source can still sell
 * is its quantity less its share. The connector reads levels the same way (client.ts).
 */
export function reservedShares(p: Product, priority: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  let left = Math.max(0, p.reserved);
  for (const code of priority) {
    const s = p.sources.get(code);
    if (!s || s.status !== 1) continue;
    const take = Math.min(left, Math.max(0, s.quantity));
    out.set(code, take);
    left -= take;
  }
  return out;
}

/** What Magento's GetProductSalableQty answers for the default stock: the in-stock sources' quantities less reservations. */
export function salableQty(p: Product, priority: readonly string[]): number {
  let sum = 0;
  for (const code of priority) {
    const s = p.sources.get(code);
    if (s && s.status === 1) sum += s.quantity;
  }
  return sum - p.reserved;
}

export interface OrderItem {
  itemId: number;
  productId: number;
  sku: string;
  name: string;
  price: number;
  qtyOrdered: number;
  qtyShipped: number;
  qtyCanceled: number;
  qtyRefunded: number;
  /** The source the sale named (a pickup point, a store's register); null: Magento's source selection decides at shipment. */
  source: string | null;
}

export interface Order {
  id: number;
  incrementId: string;
  state: 'new' | 'processing' | 'complete' | 'closed' | 'canceled';
  created: Date;
  updated: Date;
  items: OrderItem[];
  totalRefunded: number;
}

export interface Creditmemo {
  id: number;
  orderId: number;
  incrementId: string;
  created: Date;
  items: { entityId: number; orderItemId: number; qty: number; backToStock: boolean }[];
  grandTotal: number;
}

/** A Magento REST error: the status and the `error-response` body. */
export class MagentoError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Json = { message },
  ) {
    super(message);
  }
}

/** Minor units as the decimal number Magento answers (prices are decimal(20,4) numbers in JSON). */
export const money = (minor: number): number => minor / 100;

export function productBody(p: Product): Json {
  return {
    id: p.id,
    sku: p.sku,
    name: p.name,
    attribute_set_id: 4,
    price: money(p.price),
    status: p.status,
    visibility: p.visibility,
    type_id: 'simple',
    created_at: magentoDate(p.created),
    updated_at: magentoDate(p.updated),
    extension_attributes: { website_ids: [1] },
    product_links: [],
    options: [],
    media_gallery_entries: [],
    tier_prices: [],
    custom_attributes: [],
  };
}

/** The legacy stock item of the default stock (`cataloginventory_stock_item`), from the `default` source. */
export function stockItemBody(p: Product): Json {
  const s = p.sources.get('default');
  const qty = s?.quantity ?? 0;
  return {
    item_id: p.id,
    product_id: p.id,
    stock_id: 1,
    qty,
    is_in_stock: (s?.status ?? 0) === 1,
    is_qty_decimal: false,
    show_default_notification_message: false,
    use_config_min_qty: true,
    min_qty: 0,
    use_config_min_sale_qty: 1,
    min_sale_qty: 1,
    use_config_max_sale_qty: true,
    max_sale_qty: 10000,
    use_config_backorders: true,
    backorders: 0,
    use_config_notify_stock_qty: true,
    notify_stock_qty: 1,
    use_config_qty_increments: true,
    qty_increments: 0,
    use_config_enable_qty_inc: true,
    enable_qty_increments: false,
    use_config_manage_stock: true,
    manage_stock: true,
    low_stock_date: null,
    is_decimal_divided: false,
    stock_status_changed_auto: 0,
  };
}

export function orderBody(o: Order, currency: string): Json {
  const total = o.items.reduce((s, i) => s + i.price * i.qtyOrdered, 0);
  const qty = o.items.reduce((s, i) => s + i.qtyOrdered, 0);
  return {
    entity_id: o.id,
    increment_id: o.incrementId,
    state: o.state,
    status: o.state === 'new' ? 'pending' : o.state,
    created_at: magentoDate(o.created),
    updated_at: magentoDate(o.updated),
    store_id: 1,
    customer_email: 'buyer@example.com',
    customer_is_guest: 1,
    order_currency_code: currency,
    base_currency_code: currency,
    grand_total: money(total),
    base_grand_total: money(total),
    subtotal: money(total),
    total_qty_ordered: qty,
    total_refunded: money(o.totalRefunded),
    items: o.items.map((i) => ({
      item_id: i.itemId,
      order_id: o.id,
      product_id: i.productId,
      product_type: 'simple',
      sku: i.sku,
      name: i.name,
      price: money(i.price),
      row_total: money(i.price * i.qtyOrdered),
      qty_ordered: i.qtyOrdered,
      qty_shipped: i.qtyShipped,
      qty_canceled: i.qtyCanceled,
      qty_refunded: i.qtyRefunded,
      created_at: magentoDate(o.created),
      updated_at: magentoDate(o.updated),
    })),
  };
}

/** A credit memo as GET /V1/creditmemos answers it; `backToStock` adds what the hook payload carries beside it. */
export function creditmemoBody(c: Creditmemo, order: Order, currency: string, backToStock: boolean): Json {
  return {
    entity_id: c.id,
    order_id: c.orderId,
    increment_id: c.incrementId,
    state: 2,
    created_at: magentoDate(c.created),
    updated_at: magentoDate(c.created),
    order_currency_code: currency,
    grand_total: money(c.grandTotal),
    base_grand_total: money(c.grandTotal),
    items: c.items.map((ci) => {
      const oi = order.items.find((i) => i.itemId === ci.orderItemId)!;
      return {
        entity_id: ci.entityId,
        parent_id: c.id,
        order_item_id: ci.orderItemId,
        product_id: oi.productId,
        sku: oi.sku,
        name: oi.name,
        qty: ci.qty,
        price: money(oi.price),
        base_price: money(oi.price),
        base_cost: 0,
        row_total: money(oi.price * ci.qty),
        ...(backToStock ? { back_to_stock: ci.backToStock } : {}),
      };
    }),
  };
}
