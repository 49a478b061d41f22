/**
 * Lightspeed Retail (R-Series) API V3 records as the API writes them in JSON (every value a string,
 * a relation of one record a bare object), in the shapes of the API reference's Sale, SaleLine and
 * ItemShop (developers.lightspeedhq.com/retail/endpoints/…). The values are ours.
 */
export const DOCS_SALE = {
  saleID: '27',
  timeStamp: '2026-12-07T14:05:11+00:00',
  createTime: '2026-12-07T14:04:02+00:00',
  completeTime: '2026-12-07T14:05:11+00:00',
  completed: 'true',
  archived: 'false',
  voided: 'false',
  referenceNumber: '',
  shopID: '1',
  registerID: '1',
  employeeID: '1',
  SaleLines: {
    SaleLine: {
      saleLineID: '51',
      createTime: '2026-12-07T14:04:02+00:00',
      timeStamp: '2026-12-07T14:05:11+00:00',
      unitQuantity: '2',
      unitPrice: '45',
      isLayaway: 'false',
      isWorkorder: 'false',
      isSpecialOrder: 'false',
      itemID: '12',
      saleID: '27',
      shopID: '1',
      parentSaleLineID: '0',
      Item: { itemID: '12', systemSku: '210000000012', customSku: 'DOT-PAINTING-7', description: 'Dot painting, 40 × 60', archived: 'false', publishToEcom: 'true' },
    },
  },
};

export const DOCS_SALE_EVENT = { Sale: DOCS_SALE, parents: {} as Record<string, string> };

export const DOCS_RETURN_EVENT = {
  Sale: {
    ...DOCS_SALE,
    saleID: '31',
    timeStamp: '2026-12-08T09:12:40+00:00',
    completeTime: '2026-12-08T09:12:40+00:00',
    SaleLines: { SaleLine: { ...DOCS_SALE.SaleLines.SaleLine, saleLineID: '60', saleID: '31', unitQuantity: '-1', parentSaleLineID: '51' } },
  },
  parents: { '51': '27' },
};

export const DOCS_ITEM_SHOP_EVENT = {
  ItemShop: {
    itemShopID: '34',
    qoh: '7',
    sellable: '7',
    backorder: '0',
    itemID: '12',
    shopID: '1',
    timeStamp: '2026-12-07T14:05:11+00:00',
    Item: { itemID: '12', systemSku: '210000000012', customSku: 'DOT-PAINTING-7', description: 'Dot painting, 40 × 60', archived: 'false', publishToEcom: 'true' },
  },
};
