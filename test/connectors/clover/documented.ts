/**
 * Clover's documented webhook payloads ("Use webhooks", https://docs.clover.com/docs/webhooks): the
 * one-time verification POST, the Clover Auth Code header as the page shows it, and a message in
 * the documented format `{appId, merchants: {<merchantId>: [{objectId, type, ts}]}}` (the page
 * describes the fields; the ids here are the page's example order id and made-up app and merchant).
 */
export const DOCS_VERIFICATION = { verificationCode: 'ce7643c1-83ea-4218-abe6-da876c9c7a0a' };
export const DOCS_AUTH_CODE = '0307e264-b33a-4913-88aa-37b10014a0b8';
export const DOCS_MERCHANT = '9ZQTAJSQKZ391';
export const DOCS_ORDER_MESSAGE = {
  appId: 'DRKVCCP9SEQ6E',
  merchants: { [DOCS_MERCHANT]: [{ objectId: 'O:GHIVJT2ABCRSC', type: 'UPDATE', ts: 1537970958000 }] },
};
export const DOCS_ITEM_MESSAGE = {
  appId: 'DRKVCCP9SEQ6E',
  merchants: { [DOCS_MERCHANT]: [{ objectId: 'I:JBD7BN2GM1C5Y', type: 'UPDATE', ts: 1537970958000 }] },
};
