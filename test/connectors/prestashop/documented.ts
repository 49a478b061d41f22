/**
 * PrestaShop payloads shaped as the webservice documents its resources (devdocs 8, "Resources":
 * orders with `associations.order_rows`, order_slip with `associations.order_slip_details`,
 * order_details with `product_quantity_reinjected`), in the JSON output (`output_format=JSON`: `id`
 * a number, other values strings). Values are ours; the field names are the documentation's.
 */
export const DOCS_ORDER = {
  id: 5,
  id_address_delivery: '5',
  id_address_invoice: '5',
  id_cart: '5',
  id_currency: '1',
  id_lang: '1',
  id_customer: '2',
  id_carrier: '2',
  current_state: '2',
  module: 'ps_checkpayment',
  date_add: '2026-11-02 10:14:03',
  date_upd: '2026-11-02 10:15:40',
  reference: 'XKBKNABJK',
  total_paid: '61.800000',
  total_paid_tax_incl: '61.800000',
  total_products_wt: '59.800000',
  total_shipping: '2.000000',
  associations: {
    order_rows: [
      { id: '11', product_id: '2', product_attribute_id: '9', product_quantity: '1', product_name: 'Printed Blouse - Size : S- Color : White', product_reference: 'demo_2', unit_price_tax_incl: '26.990000', unit_price_tax_excl: '26.990000' },
      { id: '12', product_id: '7', product_attribute_id: '0', product_quantity: '2', product_name: 'Mug The adventure begins', product_reference: 'demo_12', unit_price_tax_incl: '16.405000', unit_price_tax_excl: '16.405000' },
    ],
  },
};

export const DOCS_ORDER_SLIP_EVENT = {
  order_slip: {
    id: 3,
    id_customer: '2',
    id_order: '5',
    date_add: '2026-11-04 09:00:00',
    date_upd: '2026-11-04 09:00:00',
    associations: { order_slip_details: [{ id: '4', id_order_detail: '12', product_quantity: '1', amount_tax_excl: '16.405000', amount_tax_incl: '16.405000' }] },
  },
  order_details: [
    { id: 11, id_order: '5', product_id: '2', product_attribute_id: '9', product_reference: 'demo_2', product_quantity: '1', product_quantity_refunded: '0', product_quantity_reinjected: '0' },
    { id: 12, id_order: '5', product_id: '7', product_attribute_id: '0', product_reference: 'demo_12', product_quantity: '2', product_quantity_refunded: '1', product_quantity_reinjected: '1' },
  ],
  order_slips: [] as unknown[],
};
DOCS_ORDER_SLIP_EVENT.order_slips = [DOCS_ORDER_SLIP_EVENT.order_slip];
