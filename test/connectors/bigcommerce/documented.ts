/**
 * BigCommerce's documented webhook callbacks and API answers, as the tests feed them to translate.
 * Written from BigCommerce's reference (bigcommerce/docs @24f580c: reference/webhooks.v3.yml,
 * reference/webhooks/callbacks/data/*.json, reference/orders.v3.yml `RefundID_Get` example,
 * reference/orders.v2.oas2.yml `orderProductsCollection_Resp` example), field for field where the
 * tests need them; that repository has no licence file, so its files are cited, not copied.
 */
import type { DocumentedExample } from '../conformance';

/** The callback envelope every example shares (`producer` carries the store hash). */
const envelope = (scope: string, data: Record<string, unknown>, hash = '352e4afc6dd3fc85ea26bfdf3f91852604d57528') => ({
  created_at: 1561482670,
  store_id: '1025646',
  producer: 'stores/{store_hash}',
  scope,
  hash,
  data,
});

export const ORDER_CREATED = envelope('store/order/created', { type: 'order', id: 250 });
export const ORDER_STATUS_UPDATED = envelope('store/order/statusUpdated', { type: 'order', id: 250, status: { previous_status_id: 1, new_status_id: 11 } });
/** callbacks/data/store_order_refund_created.json */
export const REFUND_CREATED = { scope: 'store/order/refund/created', store_id: '1025646', data: { type: 'order', id: 250, refund: { refund_id: 3 } }, hash: 'cb07cdbdda8b1965e812693d5988154807eeed02', created_at: 1561479923, producer: 'stores/{store_hash}' };
/** callbacks/data/store_product_inventory_updated.json */
export const PRODUCT_INVENTORY_UPDATED = { scope: 'store/product/inventory/updated', store_id: '1025646', data: { type: 'product', id: 167, inventory: { product_id: 167, method: 'absolute', value: 100000000 } }, hash: 'cba9eef399fbd6d384489bca6cacad24794b1086', created_at: 1561478843, producer: 'stores/{store_hash}' };
export const SKU_INVENTORY_UPDATED = envelope('store/sku/inventory/updated', { type: 'sku', id: 461, inventory: { product_id: 167, method: 'absolute', value: 2, variant_id: 509 } });

/** orders.v3.yml `RefundID_Get` example: refund 12 of order 180, one unit of order product 87. */
export const DOCS_REFUND_12 = {
  id: 12,
  order_id: 180,
  user_id: 0,
  created: '2022-06-16T16:44:15+00:00',
  reason: 'Customer requires a refund.',
  total_amount: 50,
  total_tax: 5,
  uses_merchant_override_values: false,
  payments: [{ id: 13, provider_id: 'storecredit', amount: 50, offline: true, is_declined: false, declined_message: '' }],
  items: [{ item_type: 'PRODUCT', item_id: 87, quantity: 1, requested_amount: null }],
};

/** An order product as orders.v2.oas2.yml's example gives one (id 65, SKU S-ORAN), renumbered 87 to be refund 12's line. */
export const DOCS_ORDER_PRODUCT_87 = {
  id: 87,
  order_id: 180,
  product_id: 77,
  variant_id: 99,
  order_address_id: 51,
  name: 'Fog Linen Chambray Towel - Beige Stripe',
  sku: 'S-ORAN',
  type: 'physical',
  base_price: '55.9900',
  price_ex_tax: '55.9900',
  price_inc_tax: '65.2300',
  total_ex_tax: '55.9900',
  total_inc_tax: '65.2300',
  total_tax: '9.2400',
  quantity: 1,
  is_refunded: false,
  quantity_refunded: 0,
  applied_discounts: [{ id: 'manual-discount', amount: '1.5900', name: 'Manual Discount', code: null, target: 'order' }],
};

const refundExpanded = { ...REFUND_CREATED, data: { type: 'order', id: 180, refund: { refund_id: 12 } }, stockrelay: { refund: DOCS_REFUND_12, products: [DOCS_ORDER_PRODUCT_87], restocks: true } };

export const DOCUMENTED_EXAMPLES: DocumentedExample[] = [
  // Thin: the order, the refund or the levels are fetched by expand; unexpanded, translate cannot read them.
  { name: 'store/order/created (webhooks.v3.yml)', topic: 'store/order/created', body: ORDER_CREATED, expect: 'unreadable' },
  { name: 'store/order/statusUpdated (https-webhook-overview.mdx)', topic: 'store/order/statusUpdated', body: ORDER_STATUS_UPDATED, expect: 'unreadable' },
  { name: 'store/order/refund/created (callbacks/data)', topic: 'store/order/refund/created', body: REFUND_CREATED, expect: 'unreadable' },
  { name: 'store/product/inventory/updated (callbacks/data)', topic: 'store/product/inventory/updated', body: PRODUCT_INVENTORY_UPDATED, expect: 'unreadable' },
  { name: 'store/sku/inventory/updated (webhooks.v3.yml)', topic: 'store/sku/inventory/updated', body: SKU_INVENTORY_UPDATED, expect: 'unreadable' },
  { name: 'store/order/refund/created with the documented refund 12 and its order line', topic: 'store/order/refund/created', body: refundExpanded, expect: ['refund'] },
];
