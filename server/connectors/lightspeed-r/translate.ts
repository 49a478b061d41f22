/**
 * What the Lightspeed Retail (R-Series) events mean (the bodies the polled feeds store, feeds.ts):
 * - `sale`: `{Sale, parents}`. Stock moves when a sale is completed (`completed` "true"): a line
 *   with a positive `unitQuantity` takes that many from its shop (`shopID`), a line with a negative
 *   one is a return that puts them back (R-Series returns restock; a refund of money alone, through
 *   Financial Services, is no sale and moves no stock). So a completed sale is a `sale` of its
 *   positive lines and a `refund` (restocked) of its negative ones, against the sale the returned line
 *   came from (`parents`), else itself; an exchange is both. A sale not completed (open, a quote, a
 *   layaway) moves nothing. A completed sale voided (`voided` "true") puts its sold lines back (a
 *   `cancellation` that restocks) and takes its returned lines out again (a `sale` under
 *   `void-<saleID>`): each booked once, whatever order the versions are read in, since the keys come
 *   from the sale and its lines. Lines with no item (`itemID` 0: a fee, a gift card) move no stock;
 * - `item_shop`: one shop's record of an item, `qoh` now: a level observed (the hub compares it, never
 *   books it as it is), with its basis `ts:<timeStamp>` (rows.ts, lsBasis). The all-shops summary
 *   (shopID 0) is never one.
 * A body that does not have what its topic needs is a TranslateError, never read as nothing happened.
 */
import { TranslateError, type ChannelFact, type FactLine } from '../types';
import { ITEM_SHOP_TOPIC, listOf, lsBasis, lsBool, lsId, lsInt, lsMs, obj, refOfItem, SALE_TOPIC, skuOf, SUMMARY_SHOP, type SkuField } from './rows';

export const LS_TOPICS = [SALE_TOPIC, ITEM_SHOP_TOPIC] as const;

function need<T>(v: T | null | undefined, what: string): T {
  if (v === null || v === undefined) throw new TranslateError(`This Lightspeed Retail (R-Series) ${what}; nothing was booked from it.`);
  return v;
}

function when(v: unknown): string {
  const t = lsMs(v);
  return new Date(t ?? 0).toISOString();
}

function saleFacts(body: unknown, skuField: SkuField): ChannelFact[] {
  const b = need(obj(body), 'sale event is not an object');
  const sale = need(obj(b.Sale), 'sale event has no Sale');
  const saleID = need(lsId(sale.saleID), 'sale has no saleID');
  if (!lsBool(sale.completed)) return [];
  const shopID = need(lsId(sale.shopID), `sale ${saleID} names no shop`);
  const parents = obj(b.parents) ?? {};
  const occurredAt = when(sale.completeTime ?? sale.timeStamp);
  const sold: FactLine[] = [];
  const returned: (FactLine & { restock: boolean; from: string })[] = [];
  listOf(obj(sale.SaleLines)?.SaleLine).forEach((line, i) => {
    const lineId = need(lsId(line.saleLineID), `sale ${saleID} line ${i + 1} has no saleLineID`);
    const itemID = lsId(line.itemID);
    const quantity = lsInt(line.unitQuantity);
    if (quantity === null) throw new TranslateError(`Lightspeed Retail (R-Series) sale ${saleID} line ${lineId} has no whole unitQuantity (${JSON.stringify(line.unitQuantity)}); nothing was booked from it.`);
    if (!itemID || itemID === '0' || quantity === 0) return;
    const base = { lineId, sku: skuOf(obj(line.Item), skuField), ref: refOfItem(itemID), locationId: lsId(line.shopID) && lsId(line.shopID) !== SUMMARY_SHOP ? lsId(line.shopID)! : shopID };
    if (quantity > 0) sold.push({ ...base, quantity });
    else {
      const parent = lsId(line.parentSaleLineID);
      const from = parent ? lsId(parents[parent]) : null;
      returned.push({ ...base, quantity: -quantity, restock: true, from: from ?? saleID });
    }
  });
  const facts: ChannelFact[] = [];
  if (sold.length > 0) facts.push({ type: 'sale', orderId: saleID, occurredAt, lines: sold });
  // One refund per sale the returned lines came from (a return may gather lines of several sales).
  for (const from of [...new Set(returned.map((r) => r.from))]) {
    facts.push({ type: 'refund', refundId: saleID, orderId: from, occurredAt, lines: returned.filter((r) => r.from === from).map(({ from: _from, ...l }) => l) });
  }
  if (lsBool(sale.voided)) {
    const at = when(sale.timeStamp);
    if (sold.length > 0) facts.push({ type: 'cancellation', orderId: saleID, occurredAt: at, lines: sold.map((l) => ({ ...l, restock: true })) });
    if (returned.length > 0) facts.push({ type: 'sale', orderId: `void-${saleID}`, occurredAt: at, lines: returned.map(({ from: _from, restock: _restock, ...l }) => l) });
  }
  return facts;
}

function itemShopFacts(body: unknown, skuField: SkuField): ChannelFact[] {
  const b = need(obj(body), 'item shop event is not an object');
  const row = need(obj(b.ItemShop), 'item shop event has no ItemShop');
  const itemID = need(lsId(row.itemID), 'ItemShop names no item');
  const shopID = need(lsId(row.shopID), `ItemShop of item ${itemID} names no shop`);
  if (shopID === SUMMARY_SHOP) return [];
  const available = lsInt(row.qoh);
  if (available === null) throw new TranslateError(`Lightspeed Retail (R-Series) ItemShop ${String(row.itemShopID)} has no whole qoh (${JSON.stringify(row.qoh)}); no level was taken from it.`);
  // The level stands on the record as of its time stamp: kept by the hub and handed back with the
  // next push, which waits while the record has moved on since (client.ts).
  const t = lsMs(row.timeStamp);
  return [{ type: 'level_observed', sku: skuOf(obj(row.Item), skuField), ref: refOfItem(itemID), locationId: shopID, available, occurredAt: when(row.timeStamp), ...(t !== null ? { basis: lsBasis(t) } : {}) }];
}

export function makeTranslate(skuField: SkuField): (topic: string, body: unknown) => ChannelFact[] {
  return (topic, body) => {
    if (topic === SALE_TOPIC) return saleFacts(body, skuField);
    if (topic === ITEM_SHOP_TOPIC) return itemShopFacts(body, skuField);
    throw new TranslateError(`Lightspeed Retail (R-Series) has no event "${topic}"; the connector reads ${LS_TOPICS.join(', ')}.`);
  };
}
