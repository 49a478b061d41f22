/**
 * Toast's documented webhook payloads, as its developer guide prints them (the stock webhook's
 * event pages: https://doc.toasttab.com/doc/devguide/apiStockWebhook.html), and an orders message
 * in the documented message shape (`timestamp`, `eventCategory`, `eventType`, `guid`, `details` with
 * `restaurantGuid` and `order`: https://doc.toasttab.com/doc/devguide/devOrdersWebhookRef.html).
 */
export const DOCS_LOW_QUANTITY = {
  timestamp: '2023-02-01T14:01:12.000Z',
  eventCategory: 'stock',
  eventType: 'low_quantity',
  guid: 'e445f586-081c-4a2a-bcd6-30717a48e17a',
  details: {
    itemGuid: '1e199622-ccbf-4ba8-8c37-111519dca13b',
    restaurantGuid: '3325cc58-dc6e-4e21-85f9-7de275ffe820',
    status: 'QUANTITY',
    quantity: 5.0,
    multiLocationId: '100000000171241912',
    versionId: '1e199622-ccbf-4ba8-8c37-111519dca13b',
  },
};

export const DOCS_IN_STOCK = {
  timestamp: '2023-02-01T14:01:12.000Z',
  eventCategory: 'stock',
  eventType: 'in_stock',
  guid: 'e445f586-081c-4a2a-bcd6-30717a48e17a',
  details: {
    itemGuid: '1e199622-ccbf-4ba8-8c37-111519dca13b',
    restaurantGuid: '3325cc58-dc6e-4e21-85f9-7de275ffe820',
    status: 'IN_STOCK',
    multiLocationId: '100000000171238879',
    versionId: '1e199622-ccbf-4ba8-8c37-111519dca13b',
  },
};

export const DOCS_OUT_OF_STOCK = {
  timestamp: '2023-02-01T14:01:12.000Z',
  eventCategory: 'stock',
  eventType: 'out_of_stock',
  guid: 'e445f586-081c-4a2a-bcd6-30717a48e17a',
  details: {
    itemGuid: '1e199622-ccbf-4ba8-8c37-111519dca13b',
    restaurantGuid: '3325cc58-dc6e-4e21-85f9-7de275ffe820',
    status: 'OUT_OF_STOCK',
    multiLocationId: '100000000171238879',
    versionId: '1e199622-ccbf-4ba8-8c37-111519dca13b',
  },
};

export const DOCS_ORDER_UPDATED = {
  timestamp: '2023-02-01T14:01:12.000Z',
  eventCategory: 'orders',
  eventType: 'order_updated',
  guid: '0b2d2f4e-7a55-4a7e-9d0c-2f9a3c1b7e11',
  details: {
    restaurantGuid: '3325cc58-dc6e-4e21-85f9-7de275ffe820',
    order: {
      guid: '7f1a3c0e-1b2d-4c5e-8f9a-0b1c2d3e4f50',
      entityType: 'Order',
      openedDate: '2023-02-01T14:00:00.000+0000',
      modifiedDate: '2023-02-01T14:01:12.000+0000',
      voided: false,
      checks: [
        {
          guid: '8a2b4d1f-2c3e-4d6f-9a0b-1c2d3e4f5061',
          entityType: 'Check',
          displayNumber: '12',
          voided: false,
          paymentStatus: 'CLOSED',
          amount: 25.0,
          taxAmount: 0,
          totalAmount: 25.0,
          selections: [
            { guid: '9b3c5e2a-3d4f-4e70-8b1c-2d3e4f506172', entityType: 'MenuItemSelection', item: { guid: '1e199622-ccbf-4ba8-8c37-111519dca13b', entityType: 'MenuItem' }, displayName: 'Print', quantity: 1, price: 25.0, voided: false, refundDetails: null },
          ],
          payments: [],
        },
      ],
    },
  },
};
