/**
 * Pure: the facts in one Zettle event. A webhook body is the Pusher message (its `payload` a JSON
 * string, or an object as in the documentation's examples); a polled purchase is wrapped in the same
 * shape by the connector. Purchases are read the same way from both paths, so a sale delivered by
 * webhook and found again by a poll gives the same booking keys:
 * - the purchase id is the UUID form (`purchaseUuid` in the event, `purchaseUUID1` in
 *   `/purchases/v2`), a line id its position in `products`;
 * - lines with a positive quantity are a sale, taken from their `fromLocationUuid` (the STORE);
 * - lines with a negative quantity are a refund (`refund: true`, the original purchase in
 *   `refundsPurchaseUUID1` / `refundsPurchaseUuid`): restocked when the line says where the goods went
 *   back (`toLocationUuid`), not restocked when it names no location; a purchase with both is an
 *   exchange: the refund of what came back and the sale of what went out;
 * - lines that are not library products (custom amounts, no variant) move no stock and are skipped.
 * `InventoryBalanceChanged` reports `balanceAfter` as levels: compared by the hub, never booked.
 * Money: Zettle's amounts are integers of the currency's minor unit (`unitPrice`, `amount`,
 * `vatAmount`), prices including VAT; a sale carries the purchase's details for the transaction
 * log, a refund how much went back. Money that cannot be read never costs the stock facts.
 */
import { MoneyUnreadable, currencyOf, readOrUndefined, sum, withOrder } from '../money';
import { TranslateError, type ChannelFact, type FactLine, type Headers, type OrderDetails, type RefundMoney } from '../types';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** The event's payload, whether the message carries it as a JSON string (as Zettle sends it) or as an object. */
export function payloadOf(body: unknown): Obj {
  if (!isObj(body)) throw new TranslateError('A Zettle event must be a JSON object (the Pusher message).');
  const p = body.payload;
  if (isObj(p)) return p;
  if (typeof p === 'string') {
    try {
      const o = JSON.parse(p) as unknown;
      if (isObj(o)) return o;
    } catch {
      /* below */
    }
  }
  throw new TranslateError('The Zettle message has no readable payload.');
}

/** A Zettle time: ISO 8601 with or without a colon in the offset, or epoch milliseconds. */
function isoOf(...candidates: unknown[]): string | null {
  for (const v of candidates) {
    if (typeof v === 'number' && Number.isFinite(v)) return new Date(v).toISOString();
    if (typeof v === 'string') {
      const t = Date.parse(v.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
      if (Number.isFinite(t)) return new Date(t).toISOString();
    }
  }
  return null;
}

function quantityOf(v: unknown, what: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+(\.0+)?$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw new TranslateError(`${what} has a quantity that is not a whole number (${JSON.stringify(v)?.slice(0, 30)}).`);
  return n;
}

/** A whole amount in minor units (Zettle's money is never a decimal). */
function whole(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new MoneyUnreadable(what);
  return v;
}

/** The details of a purchase's sale lines (a POS sale is paid and handed over at once). */
function saleDetails(p: Obj, lines: { line: Obj; lineId: string; quantity: number }[], exchange: boolean, placedAt: string): OrderDetails {
  const currency = currencyOf(p.currency);
  const details = lines.map(({ line, lineId, quantity }) => {
    const gross = whole(line.unitPrice, 'A unit price') * quantity;
    const discount = typeof line.discountValue === 'number' ? whole(line.discountValue, 'A discount') : 0;
    return { lineId, sku: str(line.sku), title: [str(line.name), str(line.variantName)].filter(Boolean).join(' — ') || null, quantity, unitPrice: whole(line.unitPrice, 'A unit price'), discount, tax: 0, total: gross - discount };
  });
  const subtotal = sum(details.map((d) => d.total));
  return {
    currency,
    subtotal,
    discount: sum(details.map((d) => d.discount)),
    // VAT is inside Zettle's prices; an exchange's purchase totals both ways, so its own VAT is not this sale's.
    tax: exchange ? 0 : whole(p.vatAmount ?? 0, 'The VAT amount'),
    shipping: 0,
    total: exchange ? subtotal : whole(p.amount, 'The amount'),
    paymentStatus: 'paid',
    fulfilmentStatus: 'fulfilled',
    customerRef: null,
    contact: null,
    number: typeof p.purchaseNumber === 'number' ? String(p.purchaseNumber) : null,
    placedAt,
    lines: details,
  };
}

/** What a refund gave back: the returned lines at their prices (an exchange's purchase also sells). */
function refundMoney(p: Obj, lines: { line: Obj; quantity: number }[], exchange: boolean): RefundMoney {
  const currency = currencyOf(p.currency);
  const amount = exchange ? sum(lines.map(({ line, quantity }) => whole(line.unitPrice, 'A unit price') * quantity)) : Math.abs(whole(p.amount, 'The amount'));
  return { currency, amount };
}

/** A purchase (the PurchaseCreated payload, or one of `/purchases/v2`) as facts. */
export function purchaseFacts(p: Obj, fallbackTime: string | null): ChannelFact[] {
  const id = str(p.purchaseUuid) ?? str(p.purchaseUUID1);
  if (!id) throw new TranslateError('The Zettle purchase names no purchaseUuid.');
  if (!Array.isArray(p.products)) throw new TranslateError(`Zettle purchase ${id} has no products list.`);
  const occurredAt = isoOf(p.timestamp, p.created) ?? fallbackTime ?? new Date(0).toISOString();
  const sold: FactLine[] = [];
  const back: (FactLine & { restock: boolean })[] = [];
  const soldLines: { line: Obj; lineId: string; quantity: number }[] = [];
  const backLines: { line: Obj; quantity: number }[] = [];
  p.products.forEach((line: unknown, i) => {
    if (!isObj(line)) throw new TranslateError(`Line ${i} of Zettle purchase ${id} is not an object.`);
    const productId = str(line.productUuid);
    const variantId = str(line.variantUuid);
    if (!productId || !variantId || line.libraryProduct === false) return;
    const q = quantityOf(line.quantity, `Line ${i} of Zettle purchase ${id}`);
    if (q === 0) return;
    const base = { lineId: String(i), sku: str(line.sku), ref: { productId, variantId }, quantity: Math.abs(q) };
    if (q > 0) {
      sold.push({ ...base, locationId: str(line.fromLocationUuid) });
      soldLines.push({ line, lineId: base.lineId, quantity: q });
    } else {
      const to = str(line.toLocationUuid);
      back.push({ ...base, locationId: to, restock: to !== null });
      backLines.push({ line, quantity: -q });
    }
  });
  const facts: ChannelFact[] = [];
  const exchange = back.length > 0 && sold.length > 0;
  if (back.length > 0) {
    const original = str(p.refundsPurchaseUuid) ?? str(p.refundsPurchaseUUID1) ?? id;
    const money = readOrUndefined(() => refundMoney(p, backLines, exchange));
    facts.push({ type: 'refund', refundId: id, orderId: original, occurredAt, lines: back, ...(money ? { money } : {}) });
  }
  if (sold.length > 0) facts.push(withOrder({ type: 'sale' as const, orderId: id, occurredAt, lines: sold }, readOrUndefined(() => saleDetails(p, soldLines, exchange, occurredAt))));
  return facts;
}

/** `balanceAfter` of an InventoryBalanceChanged payload as reported levels. */
export function balanceFacts(p: Obj, occurredAt: string): ChannelFact[] {
  if (!Array.isArray(p.balanceAfter)) throw new TranslateError('The Zettle balance change has no balanceAfter list.');
  return p.balanceAfter.map((b: unknown, i): ChannelFact => {
    if (!isObj(b)) throw new TranslateError(`Entry ${i} of balanceAfter is not an object.`);
    const productId = str(b.productUuid);
    const variantId = str(b.variantUuid);
    if (!productId || !variantId) throw new TranslateError(`Entry ${i} of balanceAfter names no product and variant.`);
    const available = quantityOf(b.balance, `Entry ${i} of balanceAfter`);
    return { type: 'level_observed', sku: null, ref: { productId, variantId }, locationId: str(b.locationUuid), available, occurredAt };
  });
}

export function translateZettle(topic: string, body: unknown, _headers: Headers): ChannelFact[] {
  if (topic !== 'PurchaseCreated' && topic !== 'InventoryBalanceChanged') return [];
  const p = payloadOf(body);
  const when = isObj(body) ? isoOf(body.timestamp) : null;
  if (topic === 'PurchaseCreated') return purchaseFacts(p, when);
  return balanceFacts(p, when ?? new Date(0).toISOString());
}
