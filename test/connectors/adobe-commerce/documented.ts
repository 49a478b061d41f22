/**
 * Payloads from Adobe's own documentation, for the translate tests. The order is order 3 of the REST
 * "Order processing tutorial", Step 7 (AdobeDocs/commerce-webapi,
 * src/pages/rest/tutorials/orders/order-create-order.md: GET /V1/orders/3), cut to the order's ids,
 * state and dates and, per item, the fields the connector reads (item_id, product_id, product_type,
 * sku, qty_*, parent_item_id); amounts and addresses are left out. It holds a simple product, a
 * downloadable one, and a bundle whose three simple children carry `parent_item_id: 5`.
 */
import type { DocumentedExample } from '../conformance';

const item = (item_id: number, product_id: number, product_type: string, sku: string, name: string, price: number, extra: Record<string, unknown> = {}) => ({
  item_id,
  order_id: 3,
  product_id,
  product_type,
  sku,
  name,
  price,
  row_total: price,
  discount_amount: 0,
  tax_amount: 0,
  qty_canceled: 0,
  qty_invoiced: 0,
  qty_ordered: 1,
  qty_refunded: 0,
  qty_shipped: 0,
  created_at: '2017-08-21 22:22:19',
  updated_at: '2017-08-21 22:22:19',
  ...extra,
});

/** GET /V1/orders/3 of the tutorial (state new, status pending), trimmed as said above. */
export const DOCS_ORDER_3 = {
  base_currency_code: 'USD',
  base_grand_total: 165,
  created_at: '2017-08-21 22:22:19',
  customer_email: 'jdoe@example.com',
  customer_firstname: 'Jane',
  customer_id: 3,
  customer_is_guest: 0,
  customer_lastname: 'Doe',
  discount_amount: 0,
  entity_id: 3,
  grand_total: 165,
  increment_id: '000000003',
  order_currency_code: 'USD',
  shipping_amount: 5,
  state: 'new',
  status: 'pending',
  store_id: 1,
  subtotal: 160,
  tax_amount: 0,
  total_due: 165,
  total_qty_ordered: 4,
  updated_at: '2017-08-21 22:22:20',
  items: [
    item(3, 1553, 'simple', 'WS12-M-Orange', 'Radiant Tee-M-Orange', 22),
    item(4, 49, 'downloadable', '240-LV08', 'Advanced Pilates & Yoga (Strength)', 18),
    item(5, 51, 'bundle', '24-WG080-24-WG084-24-WG088-24-WG082-blue-24-WG086', 'Sprite Yoga Companion Kit', 68),
    item(6, 29, 'simple', '24-WG082-blue', 'Sprite Stasis Ball 65 cm', 27, { parent_item_id: 5 }),
    item(7, 21, 'simple', '24-WG084', 'Sprite Foam Yoga Brick', 5, { parent_item_id: 5 }),
    item(8, 34, 'simple', '24-WG086', 'Sprite Yoga Strap 8 foot', 17, { parent_item_id: 5 }),
  ],
};

/** The same order cancelled from the Admin before it shipped (every line's qty_canceled = qty_ordered). */
export const DOCS_ORDER_3_CANCELED = {
  ...DOCS_ORDER_3,
  state: 'canceled',
  status: 'canceled',
  updated_at: '2017-08-22 09:00:00',
  items: DOCS_ORDER_3.items.map((i) => ({ ...i, qty_canceled: 1, updated_at: '2017-08-22 09:00:00' })),
};

export const ADOBE_EXAMPLES: DocumentedExample[] = [
  { name: 'observer.sales_order_save_after, the REST tutorial’s order 3 (new)', topic: 'observer.sales_order_save_after', body: { data: { order: DOCS_ORDER_3 } }, expect: ['sale'] },
  { name: 'observer.sales_order_save_after, order 3 cancelled', topic: 'observer.sales_order_save_after', body: { data: { order: DOCS_ORDER_3_CANCELED } }, expect: ['sale', 'cancellation'] },
];
