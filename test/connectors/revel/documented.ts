/**
 * Revel webhook payloads as documented: `order.finalized` carries an OrderAllInOne (orderInfo,
 * items, payments, history: developer.revelsystems.com "Webhooks"), here with the order fields of
 * Revel answers shown at docs.spojit.com and the item fields listed under "Not confirmed" in
 * server/connectors/revel/README.md; `inout.stock` carries the product's id, whether it is in
 * stock, its type and barcode (the AsyncAPI restatement of the webhook page,
 * api-evangelist/revel-systems asyncapi/revel-webhooks-asyncapi.yml, its example).
 */
export const DOCUMENTED_INOUT_STOCK = { id: 1, instock: true, type: 'product', barcode: '0123456789012' };

export const DOCUMENTED_ORDER = {
  orderInfo: {
    id: 10542,
    uuid: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
    establishment: '/enterprise/Establishment/1/',
    created_date: '2024-06-15T14:32:00',
    updated_date: '2024-06-15T14:45:00',
    closed: true,
    web_order: false,
    original_order: null,
    final_total: 31.35,
  },
  items: [
    { id: 45321, order: '/resources/Order/10542/', product: '/resources/Product/12/', quantity: 2, price: 12.5, voided_date: null },
    { id: 45322, order: '/resources/Order/10542/', product: null, quantity: 1, price: 3.5, voided_date: null },
  ],
  paymentInfo: [],
  orderHistory: [],
};
