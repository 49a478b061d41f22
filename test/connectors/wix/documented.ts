/**
 * Wix events in the shapes Wix documents (the envelope of "About the Structure of Webhooks"; the
 * fields of the Order Approved, Order Canceled, Order Transactions Refund Completed and Inventory
 * Variants Changed reference pages). Wix's reference pages list the fields but carry no full example
 * bodies in the material this was built from: these are written from those field lists, with
 * made-up ids. What each must mean is given beside it.
 */
import type { DocumentedExample } from '../conformance';
import { ORDER_APPROVED, ORDER_CANCELED, REFUND_COMPLETED, V1_INVENTORY_CHANGED } from '../../../server/connectors/wix/translate';

const INSTANCE = 'e1f2a3b4-0000-4000-8000-00000000c0f1';

export const DOCUMENTED_ORDER = {
  id: '5e8a4b1c-2d3f-4a5b-8c7d-1e2f3a4b5c6d',
  number: '10042',
  status: 'APPROVED',
  paymentStatus: 'PAID',
  fulfillmentStatus: 'NOT_FULFILLED',
  currency: 'USD',
  createdDate: '2026-03-02T10:15:00.000Z',
  buyerInfo: { contactId: '7c1d2e3f-0000-4000-8000-000000000001', email: 'jo@example.com' },
  lineItems: [
    {
      id: '00000000-0000-0000-0000-000000000001',
      productName: { original: 'Ochre print' },
      catalogReference: { catalogItemId: '9a8b7c6d-0000-4000-8000-000000000001', appId: '215238eb-22a5-4c36-9e7b-e7c08025e04e', options: { variantId: '00000000-0000-0000-0000-000000000000' } },
      quantity: 2,
      physicalProperties: { sku: 'PRINT-OCHRE', shippable: true },
      price: { amount: '40.00', formattedAmount: '$40.00' },
      totalDiscount: { amount: '0', formattedAmount: '$0.00' },
      taxDetails: { totalTax: { amount: '8.00', formattedAmount: '$8.00' } },
      totalPriceAfterTax: { amount: '88.00', formattedAmount: '$88.00' },
    },
  ],
  priceSummary: { subtotal: { amount: '80.00' }, shipping: { amount: '0' }, tax: { amount: '8.00' }, discount: { amount: '0' }, total: { amount: '88.00' } },
};

const event = (eventType: string, data: Record<string, unknown>) => ({ eventType, instanceId: INSTANCE, event: data });
const domain = (fqdn: string, slug: string, entityId: string, rest: Record<string, unknown>) => ({ id: `evt-${slug}-0001`, entityFqdn: fqdn, slug, entityId, eventTime: '2026-03-02T10:15:01.000Z', triggeredByAnonymizeRequest: false, ...rest });

export const DOCUMENTED_EXAMPLES: DocumentedExample[] = [
  { name: 'Order Approved (a paid order of 2 units)', topic: ORDER_APPROVED, body: event(ORDER_APPROVED, domain('wix.ecom.v1.order', 'approved', DOCUMENTED_ORDER.id, { actionEvent: { body: { order: DOCUMENTED_ORDER } } })), expect: ['sale'] },
  {
    name: 'Order Canceled, items restocked',
    topic: ORDER_CANCELED,
    body: event(ORDER_CANCELED, domain('wix.ecom.v1.order', 'canceled', DOCUMENTED_ORDER.id, { actionEvent: { body: { order: { ...DOCUMENTED_ORDER, status: 'CANCELED' }, restockAllItems: true, sendOrderCanceledEmail: false } } })),
    expect: ['cancellation'],
  },
  {
    name: 'Order Transactions Refund Completed, before its order is fetched (lines by id only)',
    topic: REFUND_COMPLETED,
    body: event(REFUND_COMPLETED, domain('wix.ecom.v1.order_transactions', 'refund_completed', DOCUMENTED_ORDER.id, { actionEvent: { body: { orderId: DOCUMENTED_ORDER.id, refund: { id: 'r-0001', details: { items: [{ lineItemId: '00000000-0000-0000-0000-000000000001', quantity: 1 }] } }, sideEffects: { restockInfo: { type: 'ALL_ITEMS' } } } } })),
    expect: 'unreadable',
  },
  {
    name: 'Inventory Variants Changed (catalog V1, legacy: no event id)',
    topic: V1_INVENTORY_CHANGED,
    body: event(V1_INVENTORY_CHANGED, { inventoryItemId: 'inv-0001', productId: '9a8b7c6d-0000-4000-8000-000000000001', variants: [{ id: '00000000-0000-0000-0000-000000000000', oldValue: { quantity: 5, inStock: true }, newValue: { quantity: 3, inStock: true } }], updatedDate: '2026-03-02T10:15:02.000Z' }),
    expect: ['level_observed'],
  },
];
