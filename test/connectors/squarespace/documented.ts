/**
 * Squarespace's documented notification payloads, as "Order create" and "Order update"
 * (https://developers.squarespace.com/webhooks/events/order-create, …/order-update) show them, with
 * the page's comments taken out so that they are JSON.
 */
export const DOCS_ORDER_CREATE = {
  id: '5c2ba184b63ed3cb411ce2b1',
  websiteId: '5f3c3d55ac435e1a051f77b3',
  subscriptionId: '5f3c2155d947844beedda991',
  topic: 'order.create',
  createdOn: '2020-04-22T22:18+00:00',
  data: { orderId: '5f3c39ce69e11e796f19990e' },
};

export const DOCS_ORDER_UPDATE = {
  id: '5c2ba184b63ed3cb411ce2b1',
  websiteId: '5f3c3d55ac435e1a051f77b3',
  subscriptionId: '5f3c2155d947844beedda991',
  topic: 'order.update',
  createdOn: '2020-04-22T22:18+00:00',
  data: { orderId: '5f3c39ce69e11e796f19990e', update: 'FULFILLED' },
};

/** The site the documented notifications name. */
export const DOCS_WEBSITE_ID = DOCS_ORDER_CREATE.websiteId;
