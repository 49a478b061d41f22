/**
 * A Square seller account as a real HTTP server on 127.0.0.1, for tests and the sandbox. It answers
 * the REST operations this connector uses, in Square's wire shapes (snake_case JSON):
 * - POST /v2/inventory/changes/batch-create: ADJUSTMENT (NONE → IN_STOCK adds, IN_STOCK → WASTE or
 *   SOLD removes) and PHYSICAL_COUNT (IN_STOCK) changes, at most 100, all or nothing,
 *   `ignore_unchanged_counts`, `occurred_at` required and within 24 h, and idempotency as Square
 *   documents it: the same key with the same body answers the first result again and applies
 *   nothing; the same key with another body is refused (400 IDEMPOTENCY_KEY_REUSED);
 * - POST /v2/inventory/counts/batch-retrieve: filters by catalog object, location, state and
 *   `updated_after`, newest `calculated_at` first, `limit` and an opaque `cursor`;
 * - GET /v2/catalog/list: `types` (comma-separated, case-insensitive), 100 objects a page, `cursor`;
 * - POST /v2/orders/batch-retrieve and GET /v2/orders/{order_id}.
 * Bearer-token auth (401 UNAUTHORIZED in Square's `{errors: [{category, code, detail}]}` shape).
 *
 * Every request is validated against Square's OpenAPI document (`../shared/specs/square/openapi.json`,
 * see spec.ts): an invalid one is answered 400 and recorded in `specViolations`, and so is every
 * answer and webhook body of the emulator itself that does not match the spec.
 *
 * Things happen as on Square: `sell` makes a COMPLETED order (a tender, lines with uid,
 * catalog_object_id and quantity) and sends `order.created`, `order.updated`, `payment.updated` and
 * `inventory.count.updated`; `refund` makes a return order (Square makes one for every refund) with
 * `returns[]` and sends `refund.created` (PENDING) and `refund.updated` (COMPLETED), and, when the
 * goods go back on the shelf, `inventory.count.updated`; `setLevel` and every applied push send
 * `inventory.count.updated`. Webhooks are `{merchant_id, type, event_id, created_at, data:{type, id,
 * object}}`, signed base64(HMAC-SHA256(signature key, notification URL + body)) in
 * `x-square-hmacsha256-signature`, the notification URL being the one given to `subscribe`.
 *
 * Money is Square's Money objects (`{amount, currency}`, amount in the currency's minor unit; the
 * `currency` option, AUD by default). A variation has a price (2500 unless given); a sale may carry a
 * fixed line discount (`discounts[]` FIXED_AMOUNT, LINE_ITEM scope, `applied_discounts` on the line)
 * and a tax rate (`taxRate` option or per sale, in percent: an ADDITIVE LINE_ITEM tax in `taxes[]`,
 * `applied_taxes` on the line, tax = (gross − discount) × rate rounded half up). The line carries
 * `base_price_money`, `variation_total_price_money` = `gross_sales_money` = price × quantity,
 * `total_discount_money`, `total_tax_money` and `total_money` = gross − discount + tax; the order its
 * sums, `net_amount_due_money` 0 and one tender for its total. A refund gives back the returned
 * units' share of the line's `total_money` (split so partial refunds add up to the line), in the
 * return order's `return_amounts` and `refunds[].amount_money`.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { DEFAULT_PRICE, LoopbackEmulator, commonApiFault, WebhookSender, WindowCounter, applyPpm, percentPpm, unitShare, type ApiFaults, type Emulator, type EmulatorProduct, type OutgoingWebhook, type RequestWindow, type SaleMoney, type WebhookFaults } from '../emulator';
import { DEFAULT_SQUARE_VERSION } from './client';
import { SquareSpec, findSpecPath, type MatchedOperation } from './spec';
import { SIGNATURE_HEADER, signSquareWebhook } from './verify';

export interface SquareEmulatorOptions {
  accessToken: string;
  webhookSignatureKey: string;
  /** Square location ids; two by default. */
  locations?: string[];
  merchantId?: string;
  currency?: string;
  /** Random source for webhook faults (0 ≤ x < 1), for reproducible runs. */
  random?: () => number;
  /** Counts per BatchRetrieveInventoryCounts page when the request sets no `limit` (Square: up to 1000). */
  countsPageSize?: number;
  /** Objects per ListCatalog page (Square: 100). */
  catalogPageSize?: number;
  /** Where the OpenAPI document is; found next to the repository by default. */
  specPath?: string;
  /** Tax on every sale, in percent ("10"); none by default. */
  taxRate?: string;
  /**
   * The rate limit to enforce, per access token; none by default. Square publishes no figure, so
   * `SQUARE_EMULATED_LIMIT` is ours (see README.md, "Rate limit").
   */
  rateLimit?: RequestWindow | null;
  /** The clock the rate limit counts with (ms); a test may share a fake one with the hub. */
  clock?: () => number;
}

/**
 * Square documents no rate limit ("Square does have rate limits but we don't document the limits",
 * its developer forum); beyond one it answers 429 RATE_LIMIT_ERROR / RATE_LIMITED. This figure is the
 * emulator's own: 10 requests in any second per access token, about what forum reports were
 * limited at (some at 6 a second).
 */
export const SQUARE_EMULATED_LIMIT: RequestWindow = { requests: 10, windowMs: 1000 };

interface Variation {
  id: string;
  itemId: string;
  name: string;
  sku: string | null;
  version: number;
  ordinal: number;
  price: number;
  updatedAt: string;
}

interface Item {
  id: string;
  name: string;
  version: number;
  updatedAt: string;
  variationIds: string[];
}

interface Count {
  quantity: number;
  calculatedAt: string;
}


export interface SpecViolation {
  kind: 'request' | 'response' | 'webhook';
  what: string;
  errors: string[];
}

type Json = Record<string, unknown>;

interface SquareErrorItem {
  category: string;
  code: string;
  detail?: string;
  field?: string;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errors: SquareErrorItem[],
  ) {
    super(errors.map((e) => e.detail ?? e.code).join('; '));
  }
}

const invalid = (code: string, detail: string, field?: string): SquareErrorItem => ({ category: 'INVALID_REQUEST_ERROR', code, detail, ...(field ? { field } : {}) });

/** States the Inventory API may move quantities from or to (the others are read-only). */
const WRITABLE_STATES = new Set(['IN_STOCK', 'SOLD', 'NONE', 'WASTE', 'UNLINKED_RETURN']);
/** States Square keeps a count of (NONE, SOLD and UNLINKED_RETURN are not tracked). */
const TRACKED = new Set(['IN_STOCK', 'WASTE']);
const MAX_CHANGES = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

function sha(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

/** A decimal string quantity (up to 5 decimals) as a number, or null. */
function decimal(v: unknown): number | null {
  if (typeof v !== 'string' || !/^-?\d+(\.\d{1,5})?$/.test(v.trim())) return null;
  return Number(v);
}

export class SquareEmulator extends LoopbackEmulator implements Emulator {
  readonly platform = 'square';
  readonly requests: { method: string; path: string; body: unknown; query: string; squareVersion: string | null }[] = [];
  readonly specViolations: SpecViolation[] = [];
  /** Bugs of the emulator itself (an exception while answering), for tests to assert empty. */
  readonly internalErrors: string[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  readonly merchantId: string;
  /** Whether the OpenAPI document was found (without it nothing can be validated). */
  readonly specLoaded: boolean;

  private readonly token: string;
  private readonly signatureKey: string;
  readonly currency: string;
  private readonly taxRate: string | null;
  private readonly random: () => number;
  private readonly countsPageSize: number;
  private readonly catalogPageSize: number;
  private readonly spec: SquareSpec | null;
  private readonly salt = crypto.randomBytes(8).toString('hex');
  private seq = 0;
  private readonly locationIds: string[] = [];
  private readonly items = new Map<string, Item>();
  private readonly variations = new Map<string, Variation>();
  /** `variation|location|state` → count. */
  private readonly counts = new Map<string, Count>();
  private readonly orders = new Map<string, Json>();
  /** Units returned so far per `order|line uid`. */
  private readonly returned = new Map<string, number>();
  private readonly idempotency = new Map<string, { hash: string; answer: Json }>();
  private readonly limit: WindowCounter | null;
  protected readonly webhooks = new WebhookSender({
    url: () => this.webhookUrl,
    faults: () => this.faults.webhooks,
    random: () => this.random(),
    // Square retries a failed delivery with backoff for up to 24 hours; the emulator 3 times, quickly.
    attempts: 3,
    headersFor: (w, attempt) => ({ ...w.headers, 'square-retry-number': String(attempt) }),
  });


  constructor(opts: SquareEmulatorOptions) {
    super();
    this.token = opts.accessToken;
    this.signatureKey = opts.webhookSignatureKey;
    this.merchantId = opts.merchantId ?? 'ML7RSTOCKRELAY';
    this.currency = opts.currency ?? 'AUD';
    this.taxRate = opts.taxRate ?? null;
    if (this.taxRate !== null) percentPpm(this.taxRate);
    this.random = opts.random ?? Math.random;
    this.countsPageSize = opts.countsPageSize ?? 1000;
    this.catalogPageSize = opts.catalogPageSize ?? 100;
    this.spec = SquareSpec.load(opts.specPath ?? findSpecPath());
    this.specLoaded = this.spec !== null;
    this.limit = opts.rateLimit ? new WindowCounter(opts.rateLimit) : null;
    if (opts.clock) this.clockMs = opts.clock;
    for (const l of opts.locations ?? ['LGALLERY7Q2K9', 'LWAREHSE4M8XN']) this.addLocation(l);
  }

  // ------------------------------------------------------------------ lifecycle


  // ------------------------------------------------------------------ ids and time

  private id(length: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'): string {
    const h = sha(`${this.salt}:${this.seq++}`);
    let out = '';
    for (let i = 0; out.length < length; i++) out += alphabet[parseInt(h.slice((i * 2) % 60, ((i * 2) % 60) + 2), 16) % alphabet.length];
    return out;
  }

  private orderId(): string {
    return this.id(27, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
  }

  private uid(): string {
    return this.id(22, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
  }

  private now(): string {
    return new Date().toISOString();
  }

  private money(amount: number): Json {
    return { amount, currency: this.currency };
  }

  // ------------------------------------------------------------------ catalog state

  private addLocation(l: string): string {
    if (!this.locationIds.includes(l)) this.locationIds.push(l);
    return l;
  }

  locations(): string[] {
    return [...this.locationIds];
  }

  /** Adds one item with its variations (an empty or repeated SKU included), without webhooks. */
  addItem(spec: { name: string; variations: { name?: string; sku: string | null; levels?: Record<string, number>; price?: number }[] }): { itemId: string; variationIds: string[] } {
    const at = this.now();
    const item: Item = { id: this.id(24), name: spec.name, version: Date.now(), updatedAt: at, variationIds: [] };
    this.items.set(item.id, item);
    spec.variations.forEach((v, i) => {
      const variation: Variation = { id: this.id(24), itemId: item.id, name: v.name ?? 'Regular', sku: v.sku, version: item.version, ordinal: i, price: v.price ?? DEFAULT_PRICE, updatedAt: at };
      this.variations.set(variation.id, variation);
      item.variationIds.push(variation.id);
      for (const [loc, q] of Object.entries(v.levels ?? {})) this.setCount(variation.id, this.addLocation(loc), 'IN_STOCK', q, at);
    });
    return { itemId: item.id, variationIds: [...item.variationIds] };
  }

  /** One item with one variation ("Regular" unless named), as Shopify's `addListing`. */
  addListing(l: { sku: string | null; title: string; variationName?: string; levels?: Record<string, number>; price?: number }): { itemId: string; variationId: string } {
    const { itemId, variationIds } = this.addItem({ name: l.title, variations: [{ name: l.variationName ?? 'Regular', sku: l.sku, ...(l.levels ? { levels: l.levels } : {}), ...(l.price !== undefined ? { price: l.price } : {}) }] });
    return { itemId, variationId: variationIds[0]! };
  }

  seed(products: EmulatorProduct[]): void {
    for (const p of products) {
      const existing = this.variationBySku(p.sku);
      if (existing) {
        for (const [loc, q] of Object.entries(p.levels)) this.setCount(existing.id, this.addLocation(loc), 'IN_STOCK', q, this.now());
        if (p.price !== undefined) existing.price = p.price;
      } else {
        this.addItem({ name: p.title, variations: [{ sku: p.sku, levels: p.levels, ...(p.price !== undefined ? { price: p.price } : {}) }] });
      }
    }
  }

  private variationBySku(sku: string): Variation | undefined {
    return [...this.variations.values()].find((v) => v.sku === sku);
  }

  /** The Square ids of the first variation with this SKU: the item (`productId`) and the variation (`variantId`). */
  listing(sku: string): { productId: string; variantId: string } | null {
    const v = this.variationBySku(sku);
    return v ? { productId: v.itemId, variantId: v.id } : null;
  }

  level(sku: string, locationId: string): number | null {
    const v = this.variationBySku(sku);
    if (!v) return null;
    return this.counts.get(`${v.id}|${locationId}|IN_STOCK`)?.quantity ?? null;
  }

  /** The order as Square keeps it (wire JSON), for tests. */
  order(orderId: string): Json | null {
    const o = this.orders.get(orderId);
    return o ? (JSON.parse(JSON.stringify(o)) as Json) : null;
  }

  private setCount(variationId: string, locationId: string, state: string, quantity: number, at: string): void {
    this.counts.set(`${variationId}|${locationId}|${state}`, { quantity, calculatedAt: at });
  }

  private countBody(variationId: string, locationId: string, state = 'IN_STOCK'): Json {
    const c = this.counts.get(`${variationId}|${locationId}|${state}`);
    return {
      catalog_object_id: variationId,
      catalog_object_type: 'ITEM_VARIATION',
      state,
      location_id: locationId,
      quantity: String(c?.quantity ?? 0),
      calculated_at: c?.calculatedAt ?? this.now(),
    };
  }

  private variationObject(v: Variation): Json {
    return {
      type: 'ITEM_VARIATION',
      id: v.id,
      updated_at: v.updatedAt,
      version: v.version,
      is_deleted: false,
      present_at_all_locations: true,
      item_variation_data: {
        item_id: v.itemId,
        name: v.name,
        ...(v.sku !== null ? { sku: v.sku } : {}),
        ordinal: v.ordinal,
        pricing_type: 'FIXED_PRICING',
        price_money: this.money(v.price),
        track_inventory: true,
        sellable: true,
        stockable: true,
      },
    };
  }

  private itemObject(item: Item): Json {
    return {
      type: 'ITEM',
      id: item.id,
      updated_at: item.updatedAt,
      version: item.version,
      is_deleted: false,
      present_at_all_locations: true,
      item_data: {
        name: item.name,
        product_type: 'REGULAR',
        variations: item.variationIds.map((id) => this.variationObject(this.variations.get(id)!)),
      },
    };
  }

  // ------------------------------------------------------------------ things that happen on Square

  /**
   * A sale at the POS (or online, paid): a COMPLETED order, the stock moved IN_STOCK → SOLD. A fixed
   * line `discount` (minor units) and a `taxRate` (percent; the emulator's when not given) are optional.
   */
  async sell(sale: { sku: string; quantity: number; locationId?: string } & SaleMoney): Promise<{ orderId: string }> {
    const v = this.variationBySku(sale.sku);
    if (!v) throw new Error(`The emulated Square account does not list SKU ${sale.sku}.`);
    const locationId =
      sale.locationId !== undefined ? this.addLocation(sale.locationId) : (this.locationIds.find((l) => (this.counts.get(`${v.id}|${l}|IN_STOCK`)?.quantity ?? 0) >= sale.quantity) ?? this.locationIds[0]!);
    const at = this.now();
    const id = this.orderId();
    const paymentId = this.orderId();
    const priced = this.pricedLine(v, sale.quantity, sale.discount ?? 0, sale.taxRate ?? this.taxRate);
    const total = priced.total;
    const order: Json = {
      id,
      location_id: locationId,
      source: { name: 'Square Point of Sale' },
      line_items: [priced.line],
      ...(priced.taxes.length > 0 ? { taxes: priced.taxes } : {}),
      ...(priced.discounts.length > 0 ? { discounts: priced.discounts } : {}),
      tenders: [{ id: paymentId, location_id: locationId, transaction_id: id, created_at: at, amount_money: this.money(total), type: 'CARD', payment_id: paymentId }],
      created_at: at,
      updated_at: at,
      closed_at: at,
      state: 'COMPLETED',
      version: 2,
      total_money: this.money(total),
      total_tax_money: this.money(priced.tax),
      total_discount_money: this.money(priced.discount),
      total_tip_money: this.money(0),
      total_service_charge_money: this.money(0),
      net_amount_due_money: this.money(0),
    };
    this.orders.set(id, order);
    const key = `${v.id}|${locationId}|IN_STOCK`;
    this.setCount(v.id, locationId, 'IN_STOCK', (this.counts.get(key)?.quantity ?? 0) - sale.quantity, at);
    this.announceCompleted(id, locationId, at, { id: paymentId, amount: total }, [v.id]);
    return { orderId: id };
  }

  /**
   * An itemized line as Square prices it, with the order-level tax and discount it references:
   * gross = price × quantity, tax = (gross − discount) × rate (ADDITIVE, rounded half up),
   * total = gross − discount + tax.
   */
  private pricedLine(v: Variation, quantity: number, discount: number, taxRate: string | null): { line: Json; taxes: Json[]; discounts: Json[]; tax: number; discount: number; total: number } {
    const gross = v.price * quantity;
    if (discount < 0 || discount > gross) throw new Error(`A discount of ${discount} does not fit a line of ${gross}.`);
    const tax = taxRate !== null ? applyPpm(gross - discount, percentPpm(taxRate)) : 0;
    const total = gross - discount + tax;
    const taxes: Json[] = taxRate !== null ? [{ uid: this.uid(), name: 'Tax', percentage: taxRate, type: 'ADDITIVE', scope: 'LINE_ITEM', applied_money: this.money(tax) }] : [];
    const discounts: Json[] = discount > 0 ? [{ uid: this.uid(), name: 'Discount', type: 'FIXED_AMOUNT', amount_money: this.money(discount), applied_money: this.money(discount), scope: 'LINE_ITEM' }] : [];
    const line: Json = {
      uid: this.uid(),
      name: this.items.get(v.itemId)!.name,
      quantity: String(quantity),
      catalog_object_id: v.id,
      catalog_version: v.version,
      variation_name: v.name,
      item_type: 'ITEM',
      ...(taxes.length > 0 ? { applied_taxes: taxes.map((t) => ({ uid: this.uid(), tax_uid: t.uid, applied_money: this.money(tax) })) } : {}),
      ...(discounts.length > 0 ? { applied_discounts: discounts.map((d) => ({ uid: this.uid(), discount_uid: d.uid, applied_money: this.money(discount) })) } : {}),
      base_price_money: this.money(v.price),
      variation_total_price_money: this.money(gross),
      gross_sales_money: this.money(gross),
      total_tax_money: this.money(tax),
      total_discount_money: this.money(discount),
      total_money: this.money(total),
    };
    return { line, taxes, discounts, tax, discount, total };
  }

  /** The share of an order line's money that `quantity` returned units carry, after `before` units already came back. */
  private returnedShare(line: Json, before: number, quantity: number): { total: number; tax: number; discount: number } {
    const sold = Number(line.quantity);
    const amount = (k: string) => (typeof (line[k] as Json | undefined)?.amount === 'number' ? ((line[k] as Json).amount as number) : 0);
    return {
      total: unitShare(amount('total_money'), sold, before, quantity),
      tax: unitShare(amount('total_tax_money'), sold, before, quantity),
      discount: unitShare(amount('total_discount_money'), sold, before, quantity),
    };
  }

  /** The webhooks of an order completed at the POS: the order's, its card payment's, and the counts that moved. */
  private announceCompleted(id: string, locationId: string, at: string, payment: { id: string; amount: number } | null, moved: string[]): void {
    this.emit('order.created', { type: 'order_created', id, object: { order_created: { created_at: at, location_id: locationId, order_id: id, state: 'OPEN', version: 1 } } });
    this.emit('order.updated', { type: 'order_updated', id, object: { order_updated: { created_at: at, location_id: locationId, order_id: id, state: 'COMPLETED', updated_at: at, version: 2 } } });
    if (payment) {
      const money = this.money(payment.amount);
      const body: Json = { id: payment.id, created_at: at, updated_at: at, amount_money: money, total_money: money, approved_money: money, status: 'COMPLETED', source_type: 'CARD', location_id: locationId, order_id: id, receipt_number: payment.id.slice(0, 4), version_token: this.uid() };
      this.emit('payment.updated', { type: 'payment', id: payment.id, object: { payment: body } });
    }
    this.emit('inventory.count.updated', { type: 'inventory_counts', id: crypto.randomUUID(), object: { inventory_counts: moved.map((v) => this.countBody(v, locationId)) } });
  }

  /**
   * A refund of an earlier sale. Square records every refund as a return order (`returns[]`, the
   * refund in `refunds[]`) and the payment refund names that order. With restock, the return is
   * itemized (the variation, SOLD → RETURNED_BY_CUSTOMER → IN_STOCK, as the POS does by default);
   * without, it is a custom-amount (money only) refund, the one kind of return whose order shows that
   * nothing went back on the shelf.
   */
  async refund(r: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const order = this.orders.get(r.orderId);
    if (!order) throw new Error(`The emulated Square account has no order ${r.orderId}.`);
    const line = (order.line_items as Json[] | undefined)?.find((l) => l.item_type === 'ITEM');
    if (!line) throw new Error(`Order ${r.orderId} has no itemized line to refund.`);
    const lineKey = `${r.orderId}|${String(line.uid)}`;
    const sold = Number(line.quantity);
    const before = this.returned.get(lineKey) ?? 0;
    const quantity = r.quantity ?? sold - before;
    if (quantity <= 0 || quantity + before > sold) throw new Error(`Order ${r.orderId} has no ${quantity} unit(s) left to refund.`);
    this.returned.set(lineKey, before + quantity);
    const share = this.returnedShare(line, before, quantity);
    const v = this.variations.get(String(line.catalog_object_id))!;
    const locationId = String(order.location_id);
    const tender = (order.tenders as Json[])[0]!;
    const at = this.now();
    const amount = share.total;
    const returnOrderId = this.orderId();
    const refundId = `${String(tender.payment_id)}_${this.id(49, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789')}`;
    const returnLine: Json = r.restock
      ? {
          uid: this.uid(),
          source_line_item_uid: line.uid,
          name: line.name,
          quantity: String(quantity),
          catalog_object_id: v.id,
          catalog_version: v.version,
          variation_name: v.name,
          item_type: 'ITEM',
          base_price_money: this.money(v.price),
          variation_total_price_money: this.money(v.price * quantity),
          gross_return_money: this.money(v.price * quantity),
          total_tax_money: this.money(share.tax),
          total_discount_money: this.money(share.discount),
          total_money: this.money(amount),
        }
      : { uid: this.uid(), name: 'Custom Amount', quantity: '1', item_type: 'CUSTOM_AMOUNT', base_price_money: this.money(amount), total_money: this.money(amount) };
    this.orders.set(returnOrderId, {
      id: returnOrderId,
      location_id: locationId,
      source: { name: 'Square Point of Sale' },
      returns: [{ uid: this.uid(), source_order_id: r.orderId, return_line_items: [returnLine] }],
      return_amounts: { total_money: this.money(amount), tax_money: this.money(r.restock ? share.tax : 0), discount_money: this.money(r.restock ? share.discount : 0), tip_money: this.money(0), service_charge_money: this.money(0) },
      refunds: [{ id: refundId, location_id: locationId, transaction_id: r.orderId, tender_id: tender.id, created_at: at, reason: 'Returned goods', amount_money: this.money(amount), status: 'APPROVED' }],
      created_at: at,
      updated_at: at,
      closed_at: at,
      state: 'COMPLETED',
      version: 1,
      total_money: this.money(0),
    });
    const refund: Json = { id: refundId, status: 'PENDING', location_id: locationId, amount_money: this.money(amount), payment_id: tender.payment_id, order_id: returnOrderId, reason: 'Returned goods', created_at: at, updated_at: at };
    this.emit('refund.created', { type: 'refund', id: refundId, object: { refund } });
    this.emit('refund.updated', { type: 'refund', id: refundId, object: { refund: { ...refund, status: 'COMPLETED', updated_at: this.now() } } });
    if (r.restock) {
      const key = `${v.id}|${locationId}|IN_STOCK`;
      this.setCount(v.id, locationId, 'IN_STOCK', (this.counts.get(key)?.quantity ?? 0) + quantity, this.now());
      this.emit('inventory.count.updated', { type: 'inventory_counts', id: crypto.randomUUID(), object: { inventory_counts: [this.countBody(v.id, locationId)] } });
    }
    return { refundId };
  }

  /**
   * An exchange at the POS: the customer brings back units of an earlier sale and takes another item.
   * Square makes one COMPLETED order that both returns (`returns[]`, itemized, restocked by default)
   * and sells (`line_items`), paid for the difference; it sends that order's webhooks, the payment's
   * and one `inventory.count.updated` per variation that moved.
   */
  async exchange(x: { orderId: string; returnQuantity?: number; restock?: boolean; sku: string; quantity: number }): Promise<{ orderId: string }> {
    const source = this.orders.get(x.orderId);
    if (!source) throw new Error(`The emulated Square account has no order ${x.orderId}.`);
    const line = (source.line_items as Json[] | undefined)?.find((l) => l.item_type === 'ITEM');
    if (!line) throw new Error(`Order ${x.orderId} has no itemized line to exchange.`);
    const lineKey = `${x.orderId}|${String(line.uid)}`;
    const returnQuantity = x.returnQuantity ?? Number(line.quantity) - (this.returned.get(lineKey) ?? 0);
    if (returnQuantity <= 0 || returnQuantity + (this.returned.get(lineKey) ?? 0) > Number(line.quantity)) throw new Error(`Order ${x.orderId} has no ${returnQuantity} unit(s) left to return.`);
    const out = this.variationBySku(x.sku);
    if (!out) throw new Error(`The emulated Square account does not list SKU ${x.sku}.`);
    const returnedBefore = this.returned.get(lineKey) ?? 0;
    this.returned.set(lineKey, returnedBefore + returnQuantity);
    const back = this.variations.get(String(line.catalog_object_id))!;
    const locationId = String(source.location_id);
    const at = this.now();
    const id = this.orderId();
    // The returned units' share of what was paid for them is the credit; the new line is priced as a sale.
    const credit = this.returnedShare(line, returnedBefore, returnQuantity);
    const priced = this.pricedLine(out, x.quantity, 0, this.taxRate);
    const total = priced.total;
    const due = Math.max(0, total - credit.total);
    const paymentId = this.orderId();
    const order: Json = {
      id,
      location_id: locationId,
      source: { name: 'Square Point of Sale' },
      line_items: [priced.line],
      ...(priced.taxes.length > 0 ? { taxes: priced.taxes } : {}),
      returns: [
        {
          uid: this.uid(),
          source_order_id: x.orderId,
          return_line_items: [
            {
              uid: this.uid(),
              source_line_item_uid: line.uid,
              name: line.name,
              quantity: String(returnQuantity),
              catalog_object_id: back.id,
              catalog_version: back.version,
              variation_name: back.name,
              item_type: 'ITEM',
              base_price_money: this.money(back.price),
              total_tax_money: this.money(credit.tax),
              total_discount_money: this.money(credit.discount),
              total_money: this.money(credit.total),
            },
          ],
        },
      ],
      return_amounts: { total_money: this.money(credit.total), tax_money: this.money(credit.tax), discount_money: this.money(credit.discount), tip_money: this.money(0), service_charge_money: this.money(0) },
      net_amounts: { total_money: this.money(total - credit.total), tax_money: this.money(priced.tax - credit.tax), discount_money: this.money(-credit.discount), tip_money: this.money(0), service_charge_money: this.money(0) },
      ...(due > 0 ? { tenders: [{ id: paymentId, location_id: locationId, transaction_id: id, created_at: at, amount_money: this.money(due), type: 'CARD', payment_id: paymentId }] } : {}),
      created_at: at,
      updated_at: at,
      closed_at: at,
      state: 'COMPLETED',
      version: 2,
      total_money: this.money(total),
      total_tax_money: this.money(priced.tax),
      total_discount_money: this.money(0),
      total_tip_money: this.money(0),
      total_service_charge_money: this.money(0),
      net_amount_due_money: this.money(0),
    };
    this.orders.set(id, order);
    const outKey = `${out.id}|${locationId}|IN_STOCK`;
    this.setCount(out.id, locationId, 'IN_STOCK', (this.counts.get(outKey)?.quantity ?? 0) - x.quantity, at);
    if (x.restock ?? true) {
      const backKey = `${back.id}|${locationId}|IN_STOCK`;
      this.setCount(back.id, locationId, 'IN_STOCK', (this.counts.get(backKey)?.quantity ?? 0) + returnQuantity, at);
    }
    this.announceCompleted(id, locationId, at, due > 0 ? { id: paymentId, amount: due } : null, [out.id, ...((x.restock ?? true) && back.id !== out.id ? [back.id] : [])]);
    return { orderId: id };
  }

  /** Someone counts stock in the Square Dashboard: only `inventory.count.updated`. */
  /** A push of stock: a BatchChangeInventory request (the simulation counts them). */
  isStockWrite(request: { method: string; path: string; body: unknown }): boolean {
    return request.method === 'POST' && request.path === '/v2/inventory/changes/batch-create';
  }


  /** The emulator's own errors while answering, and requests it received that Square's spec refuses. */
  selfCheck(): string[] {
    return [
      ...this.internalErrors.slice(0, 3).map((e) => `Square emulator error: ${e}`),
      ...this.specViolations.filter((v) => v.kind === 'request').slice(0, 3).map((v) => `request to Square outside its spec: ${v.what}: ${v.errors.join(', ')}`),
    ];
  }

  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    const v = this.variationBySku(change.sku);
    if (!v) throw new Error(`The emulated Square account does not list SKU ${change.sku}.`);
    const loc = change.locationId !== undefined ? this.addLocation(change.locationId) : this.locationIds[0]!;
    this.setCount(v.id, loc, 'IN_STOCK', change.available, this.now());
    this.emit('inventory.count.updated', { type: 'inventory_counts', id: crypto.randomUUID(), object: { inventory_counts: [this.countBody(v.id, loc)] } });
  }

  // ------------------------------------------------------------------ webhooks

  private emit(type: string, data: Json): void {
    const eventId = crypto.randomUUID();
    const payload: Json = { merchant_id: this.merchantId, type, event_id: eventId, created_at: this.now(), data };
    if (this.spec) {
      const schema = this.spec.webhookSchema(type);
      const errors = schema ? this.spec.check(schema, payload) : [`no event schema for ${type}`];
      if (errors.length > 0) this.specViolations.push({ kind: 'webhook', what: type, errors });
    }
    const url = this.webhookUrl;
    if (!url) return;
    const body = JSON.stringify(payload);
    const delivery: OutgoingWebhook = {
      topic: type,
      id: eventId,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Square Connect v2',
        'square-environment': 'Sandbox',
        'square-initial-delivery-timestamp': new Date().toISOString(),
        'square-retry-number': '0',
        [SIGNATURE_HEADER]: signSquareWebhook(body, this.signatureKey, url),
      },
    };
    this.queueWebhook(delivery);
  }


  // ------------------------------------------------------------------ HTTP

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    let body: unknown = null;
    let json = true;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
      json = false;
    }
    const version = typeof req.headers['square-version'] === 'string' ? req.headers['square-version'] : null;
    this.requests.push({ method, path: url.pathname, body, query: url.search, squareVersion: version });

    let match: MatchedOperation | null = null;
    let requestErrors: string[] = [];
    if (!json) requestErrors = ['the body is not JSON'];
    else if (this.spec) ({ match, errors: requestErrors } = this.spec.validateRequest(method, url.pathname, url.searchParams, body, raw.length > 0));
    if (requestErrors.length > 0) this.specViolations.push({ kind: 'request', what: `${method} ${url.pathname}${url.search}`, errors: requestErrors });

    const send = (status: number, payload: Json, headers: Record<string, string> = {}) => {
      if (this.spec) {
        const errors = match ? this.spec.validateResponse(match, status, payload) : status >= 400 ? this.spec.checkErrorBody(payload) : [];
        if (errors.length > 0) this.specViolations.push({ kind: 'response', what: `${status} to ${method} ${url.pathname}`, errors });
      }
      res.writeHead(status, { 'content-type': 'application/json', 'square-version': version ?? DEFAULT_SQUARE_VERSION, ...headers });
      res.end(JSON.stringify(payload));
    };

    const f = this.faults.api;
    const fault = await commonApiFault(f);
    if (fault === 'hang') return this.hang(res);
    if (fault !== null) {
      // Square's error shape and codes (https://developer.squareup.com/docs/build-basics/handling-errors).
      const status = fault;
      if (status === 401) return send(401, { errors: [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: 'This request could not be authorized.' }] });
      if (status === 403) {
        return send(403, { errors: [{ category: 'AUTHENTICATION_ERROR', code: 'INSUFFICIENT_SCOPES', detail: 'The merchant has not given your application sufficient permissions to do that. The merchant must authorize your application for the following scopes: [INVENTORY_WRITE]' }] });
      }
      return send(404, { errors: [{ category: 'INVALID_REQUEST_ERROR', code: 'NOT_FOUND', detail: 'Resource not found.' }] });
    }
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return send(401, { errors: [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: 'This request could not be authorized.' }] });
    }
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      return send(500, { errors: [{ category: 'API_ERROR', code: 'INTERNAL_SERVER_ERROR', detail: 'An internal error has occurred, and the API was unable to service your request.' }] });
    }
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      return send(429, { errors: [{ category: 'RATE_LIMIT_ERROR', code: 'RATE_LIMITED', detail: 'Rate limit exceeded.' }] }, { 'retry-after': String(f.rateLimitNext.retryAfterSeconds) });
    }
    if (this.limit) {
      const at = this.clockMs();
      const admitted = this.limit.admit(at);
      if (!admitted.ok) {
        // Square's documentation says nothing of a Retry-After on its 429s: none is sent here.
        this.rateLimited.push({ at, retryAfterMs: null });
        return send(429, { errors: [{ category: 'RATE_LIMIT_ERROR', code: 'RATE_LIMITED', detail: 'This request was rate limited. Please retry later.' }] });
      }
    }
    if (!json) return send(400, { errors: [invalid('BAD_REQUEST', 'The request body is not valid JSON.')] });
    if (!match && this.spec) return send(404, { errors: [invalid('NOT_FOUND', `Resource not found: ${method} ${url.pathname}`)] });
    if (requestErrors.length > 0) return send(400, { errors: requestErrors.slice(0, 10).map((e) => invalid('BAD_REQUEST', e)) });

    try {
      const route = match?.template ?? url.pathname;
      const b = (body ?? {}) as Json;
      if (method === 'POST' && route === '/v2/inventory/changes/batch-create') {
        const answer = this.batchChange(b);
        if (f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
          f.loseWriteAnswerNext--;
          return this.hang(res);
        }
        return send(200, answer);
      }
      if (method === 'POST' && route === '/v2/inventory/counts/batch-retrieve') return send(200, this.batchCounts(b));
      if (method === 'GET' && route === '/v2/catalog/list') return send(200, this.listCatalog(url.searchParams));
      if (method === 'POST' && route === '/v2/orders/batch-retrieve') return send(200, this.batchOrders(b));
      if (method === 'GET' && (route === '/v2/orders/{order_id}' || /^\/v2\/orders\/[^/]+$/.test(route))) {
        const id = match?.pathParams.order_id ?? decodeURIComponent(url.pathname.split('/').pop()!);
        const order = this.orders.get(id);
        if (!order) throw new ApiError(404, [invalid('NOT_FOUND', `Order \`${id}\` not found.`)]);
        return send(200, { order });
      }
      return send(404, { errors: [invalid('NOT_FOUND', `The emulator does not implement ${method} ${url.pathname}.`)] });
    } catch (err) {
      if (err instanceof ApiError) return send(err.status, { errors: err.errors });
      this.internalErrors.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
      return send(500, { errors: [{ category: 'API_ERROR', code: 'INTERNAL_SERVER_ERROR', detail: 'An internal error has occurred.' }] });
    }
  }

  // ------------------------------------------------------------------ inventory

  private batchChange(body: Json): Json {
    const key = String(body.idempotency_key);
    const hash = sha(JSON.stringify(body));
    const seen = this.idempotency.get(key);
    if (seen) {
      if (seen.hash !== hash) throw new ApiError(400, [invalid('IDEMPOTENCY_KEY_REUSED', 'The idempotency key can only be retried with the same request data.', 'idempotency_key')]);
      return seen.answer;
    }
    const changes = (Array.isArray(body.changes) ? body.changes : []) as Json[];
    if (changes.length > MAX_CHANGES) throw new ApiError(400, [invalid('ARRAY_LENGTH_TOO_LONG', `At most ${MAX_CHANGES} changes may be sent in one request; got ${changes.length}.`, 'changes')]);
    const ignoreUnchanged = body.ignore_unchanged_counts !== false;
    const errors: SquareErrorItem[] = [];
    const planned: { variationId: string; locationId: string; apply: (at: string) => Json | null }[] = [];
    const nowMs = Date.now();
    changes.forEach((change, i) => {
      const type = change.type;
      const part = type === 'ADJUSTMENT' ? (change.adjustment as Json | undefined) : type === 'PHYSICAL_COUNT' ? (change.physical_count as Json | undefined) : undefined;
      const field = `changes[${i}].${type === 'ADJUSTMENT' ? 'adjustment' : 'physical_count'}`;
      if (type !== 'ADJUSTMENT' && type !== 'PHYSICAL_COUNT') return errors.push(invalid('INVALID_ENUM_VALUE', `The emulator supports ADJUSTMENT and PHYSICAL_COUNT changes, not ${String(type)}.`, `changes[${i}].type`));
      if (!part) return errors.push(invalid('MISSING_REQUIRED_PARAMETER', `A ${type} change needs its ${type === 'ADJUSTMENT' ? 'adjustment' : 'physical_count'}.`, field));
      const variationId = typeof part.catalog_object_id === 'string' ? part.catalog_object_id : '';
      const locationId = typeof part.location_id === 'string' ? part.location_id : '';
      const refused = this.faults.api.refuseSku;
      if (!this.variations.has(variationId) || (refused && this.variations.get(variationId)!.sku === refused)) {
        return errors.push(invalid('INVALID_VALUE', `Item variation with catalog object ID \`${variationId}\` not found.`, `${field}.catalog_object_id`));
      }
      if (!this.locationIds.includes(locationId)) return errors.push(invalid('INVALID_LOCATION', `Location \`${locationId}\` not found.`, `${field}.location_id`));
      if (typeof part.occurred_at !== 'string') return errors.push(invalid('MISSING_REQUIRED_PARAMETER', 'occurred_at is required.', `${field}.occurred_at`));
      const when = Date.parse(part.occurred_at);
      if (Number.isNaN(when) || when < nowMs - DAY_MS || when > nowMs + 60_000) return errors.push(invalid('INVALID_TIME', 'occurred_at must be an RFC 3339 time within the last 24 hours and not in the future.', `${field}.occurred_at`));
      const q = decimal(part.quantity);
      if (type === 'PHYSICAL_COUNT') {
        if (part.state !== 'IN_STOCK') return errors.push(invalid('INVALID_ENUM_VALUE', 'The emulator supports physical counts of state IN_STOCK only.', `${field}.state`));
        if (q === null || q < 0) return errors.push(invalid('INVALID_VALUE', 'quantity must be a decimal string of 0 or more.', `${field}.quantity`));
        const k = `${variationId}|${locationId}|IN_STOCK`;
        planned.push({
          variationId,
          locationId,
          apply: (at) => {
            const before = this.counts.get(k)?.quantity;
            if (ignoreUnchanged && before === q) return null;
            this.setCount(variationId, locationId, 'IN_STOCK', q, at);
            return { type: 'PHYSICAL_COUNT', physical_count: { id: this.id(24), reference_id: part.reference_id, catalog_object_id: variationId, catalog_object_type: 'ITEM_VARIATION', state: 'IN_STOCK', location_id: locationId, quantity: String(q), occurred_at: part.occurred_at, created_at: at } };
          },
        });
        return;
      }
      const from = String(part.from_state);
      const to = String(part.to_state);
      if (!WRITABLE_STATES.has(from) || !WRITABLE_STATES.has(to) || from === to) return errors.push(invalid('INVALID_VALUE', `The Inventory API cannot move quantities from ${from} to ${to}.`, `${field}.to_state`));
      if (q === null || q <= 0) return errors.push(invalid('INVALID_VALUE', 'quantity must be a decimal string greater than 0.', `${field}.quantity`));
      planned.push({
        variationId,
        locationId,
        apply: (at) => {
          for (const s of [from, to]) {
            if (!TRACKED.has(s)) continue;
            const k = `${variationId}|${locationId}|${s}`;
            this.setCount(variationId, locationId, s, (this.counts.get(k)?.quantity ?? 0) + (s === to ? q : -q), at);
          }
          return { type: 'ADJUSTMENT', adjustment: { id: this.id(24), reference_id: part.reference_id, from_state: from, to_state: to, location_id: locationId, catalog_object_id: variationId, catalog_object_type: 'ITEM_VARIATION', quantity: String(q), occurred_at: part.occurred_at, created_at: at } };
        },
      });
    });
    // A batch is applied entirely or not at all; its changes apply in order, so two changes of one
    // count compose.
    if (errors.length > 0) throw new ApiError(400, errors);
    const at = this.now();
    const applied: Json[] = [];
    const before = new Map<string, number | undefined>();
    for (const p of planned) before.set(`${p.variationId}|${p.locationId}`, before.get(`${p.variationId}|${p.locationId}`) ?? this.counts.get(`${p.variationId}|${p.locationId}|IN_STOCK`)?.quantity);
    for (const p of planned) {
      const c = p.apply(at);
      if (c) applied.push(JSON.parse(JSON.stringify(c, (_k, v: unknown) => (v === undefined || v === null ? undefined : v))) as Json);
    }
    const referenced = [...new Set(planned.map((p) => `${p.variationId}|${p.locationId}`))];
    const counts = referenced.map((r) => {
      const [v, l] = r.split('|') as [string, string];
      return this.countBody(v, l);
    });
    const answer: Json = { counts, changes: applied };
    this.idempotency.set(key, { hash, answer });
    // The echo: Square reports every count change, ours included.
    const changed = counts.filter((c) => before.get(`${String(c.catalog_object_id)}|${String(c.location_id)}`) !== Number(c.quantity));
    if (changed.length > 0) this.emit('inventory.count.updated', { type: 'inventory_counts', id: crypto.randomUUID(), object: { inventory_counts: changed } });
    this.stockWritten(planned.map((p) => this.variations.get(p.variationId)?.sku ?? null));
    return answer;
  }

  private cursor(offset: number, query: unknown): string {
    return Buffer.from(JSON.stringify({ o: offset, q: sha(JSON.stringify(query)).slice(0, 16) })).toString('base64url');
  }

  private offsetOf(cursor: unknown, query: unknown): number {
    // A proxy that ignores the cursor answers the first page again.
    if (cursor === undefined || cursor === null || cursor === '' || this.faults.api.ignorePaging) return 0;
    try {
      const c = JSON.parse(Buffer.from(String(cursor), 'base64url').toString('utf8')) as { o?: unknown; q?: unknown };
      if (typeof c.o === 'number' && Number.isInteger(c.o) && c.o >= 0 && c.q === sha(JSON.stringify(query)).slice(0, 16)) return c.o;
    } catch {
      // fall through
    }
    throw new ApiError(400, [invalid('INVALID_CURSOR', 'The cursor is not valid for this request.', 'cursor')]);
  }

  private batchCounts(body: Json): Json {
    const ids = Array.isArray(body.catalog_object_ids) ? new Set(body.catalog_object_ids as string[]) : null;
    const locs = Array.isArray(body.location_ids) ? new Set(body.location_ids as string[]) : null;
    const states = Array.isArray(body.states) ? new Set(body.states as string[]) : null;
    const after = typeof body.updated_after === 'string' ? Date.parse(body.updated_after) : null;
    const limit = typeof body.limit === 'number' ? body.limit : this.countsPageSize;
    const query = { ...body, cursor: undefined, limit: undefined };
    const all = [...this.counts.entries()]
      .map(([k, c]) => {
        const [variationId, locationId, state] = k.split('|') as [string, string, string];
        return { variationId, locationId, state, c };
      })
      .filter((x) => (!ids || ids.has(x.variationId)) && (!locs || locs.has(x.locationId)) && (!states || states.has(x.state)) && (after === null || Date.parse(x.c.calculatedAt) > after))
      // Newest calculated_at first, as Square documents.
      .sort((a, b) => b.c.calculatedAt.localeCompare(a.c.calculatedAt) || `${a.variationId}|${a.locationId}|${a.state}`.localeCompare(`${b.variationId}|${b.locationId}|${b.state}`));
    const start = this.offsetOf(body.cursor, query);
    const page = all.slice(start, start + limit);
    const out: Json = { counts: page.map((x) => this.countBody(x.variationId, x.locationId, x.state)) };
    if (start + limit < all.length) out.cursor = this.cursor(start + limit, query);
    return out;
  }

  // ------------------------------------------------------------------ catalog

  private listCatalog(params: URLSearchParams): Json {
    const typesParam = params.get('types');
    const types = typesParam ? new Set(typesParam.split(',').map((t) => t.trim().toUpperCase())) : new Set(['ITEM']);
    const objects: Json[] = [];
    for (const item of this.items.values()) {
      if (types.has('ITEM')) objects.push(this.itemObject(item));
      if (types.has('ITEM_VARIATION')) for (const id of item.variationIds) objects.push(this.variationObject(this.variations.get(id)!));
    }
    const query = { types: [...types].sort() };
    const start = this.offsetOf(params.get('cursor'), query);
    const out: Json = { objects: objects.slice(start, start + this.catalogPageSize) };
    if (start + this.catalogPageSize < objects.length) out.cursor = this.cursor(start + this.catalogPageSize, query);
    return out;
  }

  // ------------------------------------------------------------------ orders

  private batchOrders(body: Json): Json {
    const ids = (body.order_ids as string[]) ?? [];
    if (ids.length > 100) throw new ApiError(400, [invalid('ARRAY_LENGTH_TOO_LONG', 'At most 100 orders can be retrieved per request.', 'order_ids')]);
    const location = typeof body.location_id === 'string' ? body.location_id : null;
    // Unknown ids are ignored rather than refused, as Square documents.
    const orders = ids.map((id) => this.orders.get(id)).filter((o): o is Json => o !== undefined && (location === null || o.location_id === location));
    return { orders };
  }
}
