/**
 * Payloads from Lightspeed Retail X-Series documentation, as the tests reproduce them:
 * - DOCS_INVENTORY_V1: one entry of the `inventory` array of the product.update example
 *   (https://x-series-api.lightspeedhq.com/docs/webhooks_example_payloads), the record an
 *   inventory.update carries;
 * - DOCS_RETURN_SALE_V2: the return sale of the Returns guide
 *   (https://x-series-api.lightspeedhq.com/docs/sales_returns), its first line, as
 *   /api/2.0/sales/{id}/actions/return answers it (status SAVED: parked until paid);
 * - DOCS_SALE_V1: an API 1.0 register sale as sale.update carries it ("the same as those you'll
 *   receive from API 1.0", docs "Webhooks"); the field names are those of the 1.0 register_sales
 *   resource (`register_sale_products`, `status` CLOSED, line `status` CONFIRMED). Lightspeed's own
 *   sale.update example page could not be read whole, so its exact fields are listed under "Not
 *   confirmed" in the README.
 */
export const DOCS_INVENTORY_V1 = {
  attributed_cost: '10.00',
  count: 2,
  id: '0db6c587-0bcb-c168-561d-89aba2fab7c0',
  outlet_id: '0624dbcd-ef95-11e6-e986-ecd5a64d7fa9',
  product_id: '0624dbcd-ef13-11e6-e986-fcc1c366e772',
  reorder_point: '0',
  restock_level: '0',
};

export const DOCS_RETURN_SALE_V2 = {
  id: '06bf537b-c783-11e6-f6b9-7ea7909ffedd',
  outlet_id: 'b1e04bd8-f019-11e3-a0f5-b8ca3a64f8f4',
  register_id: 'b1e198a9-f019-11e3-a0f5-b8ca3a64f8f4',
  user_id: 'b1ed6158-f019-11e3-a0f5-b8ca3a64f8f4',
  customer_id: 'b1cabb53-f019-11e3-a0f5-b8ca3a64f8f4',
  invoice_number: '1570',
  receipt_number: '1570',
  invoice_sequence: 1570,
  receipt_sequence: 1570,
  status: 'SAVED',
  note: '',
  short_code: 'ovvfkk',
  return_for: 'b8ca3a65-0183-11e4-fbb5-39f7fce5e39b',
  created_at: '2016-09-19T20:28:03+00:00',
  total_price: -200,
  total_loyalty: 0,
  total_tax: -30,
  updated_at: '2016-09-19T20:28:03+00:00',
  sale_date: '2016-09-19T20:28:03+00:00',
  deleted_at: null,
  line_items: [
    {
      id: '06bf537b-c783-11e6-f6b9-7ea7909c64b9',
      product_id: '188a87aa-06fe-11e4-a0f5-b8ca3a64f8f4',
      quantity: -1,
      price: 200,
      unit_price: 200,
      price_total: -200,
      total_price: -200,
      discount: 0,
      tax: 30,
      tax_id: 'b1d192bc-f019-11e3-a0f5-b8ca3a64f8f4',
      price_set: true,
      sequence: 1,
      note: null,
      status: 'SAVED',
      is_return: true,
    },
  ],
};

export const DOCS_SALE_V1 = {
  id: '7dbac57b-23be-11e3-a415-bc764e10976d',
  register_id: '02f65d7d-0adc-11e3-a415-bc764e10976c',
  outlet_id: '02f65d7d-0adc-11e3-a415-bc764e109761',
  user_id: '02f9bd97-0adc-11e3-a415-bc764e10976c',
  sale_date: '2013-11-14 20:41:01',
  created_at: '2013-11-14 20:41:02',
  updated_at: '2013-11-14 20:41:02',
  total_price: 260,
  total_tax: 39,
  status: 'CLOSED',
  short_code: 'of1yvp',
  invoice_number: '45',
  return_for: '',
  register_sale_products: [
    {
      id: '89edaa26-d2b7-e417-0116-b118d7543084',
      product_id: '7dbac57b-23be-11e3-a415-bc764e10976c',
      register_id: '02f65d7d-0adc-11e3-a415-bc764e10976c',
      sequence: '0',
      handle: 'SUP635OT',
      sku: 'SUP635OT',
      name: 'America 49 Light Havana',
      quantity: 1,
      price: 260,
      tax: 39,
      status: 'CONFIRMED',
    },
  ],
};
