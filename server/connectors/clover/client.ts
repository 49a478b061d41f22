/**
 * The Clover connector's calls (README.md says which page of Clover's documentation each follows),
 * all under `/v3/merchants/{mId}`:
 * - levels: GET /item_stocks/{itemId} (`quantity`, a decimal that may be negative);
 * - pushes: absolute only (Clover has no relative stock write and no compare-and-set): GET
 *   /item_stocks/{itemId} first (a level that moved since the hub read it is answered stale, one
 *   already there is not written), POST /item_stocks/{itemId} `{"quantity": n}`, then read back (a
 *   sale landing in between is reported stale). One item a request: Clover writes one item's stock
 *   at a time;
 * - hide/relist: POST /items/{itemId} `{"available": false|true}`, unless the item is auto-managed
 *   (`autoManage`: Clover makes it unavailable at zero and available again itself);
 * - catalog discovery: GET /items?expand=itemStock, `limit` and `offset`;
 * - expand: GET /orders/{id}?expand=lineItems,payments,refunds, GET /payments/{id} (its order), GET
 *   /items/{id}?expand=itemStock.
 */
import { ConnectorError, type ConnectorContext, type LevelReading, type ListingRef, type PlatformListing, type PushOutcome, type PushTarget } from '../types';
import { PageGuard } from '../paging';
import { CLOVER_API, CloverHttp, DEFAULT_USER_AGENT } from './http';

export const ORDER_EXPAND = 'lineItems,payments,refunds';
/** Items a catalog page asks for (Clover's `limit`; its default is 100). */
export const DEFAULT_PAGE_SIZE = 100;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function unreadable(what: string, why: string): ConnectorError {
  return new ConnectorError(`Clover answered ${what} the hub cannot read: ${why}. Nothing was taken from it.`, false, null, null, { channelFault: true });
}

const gone = (err: unknown): boolean => err instanceof ConnectorError && !err.channelFault && err.status === 404;

/** The hub's level for a Clover quantity: whole units, rounded down (a quantity may be a decimal). */
export const wholeUnits = (q: number): number => Math.floor(q);

export class CloverClient {
  readonly http: CloverHttp;
  readonly merchantId: string;
  readonly pageSize: number;

  constructor(ctx: ConnectorContext) {
    const merchantId = typeof ctx.settings.merchantId === 'string' ? ctx.settings.merchantId.trim() : '';
    if (!/^[A-Za-z0-9]{1,32}$/.test(merchantId)) throw new ConnectorError('The Clover setting merchantId must be the merchant\'s id (13 letters and digits, shown under Account & Setup → Merchants).', false);
    const token = ctx.credentials.apiToken;
    if (!token) throw new ConnectorError('The Clover channel needs the credential apiToken (a merchant API token with Inventory read/write, Orders read and Payments read).', false);
    const base = (ctx.baseUrl ?? CLOVER_API).trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/i.test(base)) throw new ConnectorError(`The Clover channel's baseUrl "${base}" is not an address (https://api.clover.com, https://api.eu.clover.com, https://apisandbox.dev.clover.com).`, false);
    const ua = ctx.settings.userAgent ?? DEFAULT_USER_AGENT;
    if (typeof ua !== 'string' || ua.trim() === '') throw new ConnectorError('The Clover setting userAgent must be text naming your application (Clover refuses requests without a User-Agent).', false);
    const timeoutMs = ctx.settings.timeoutMs ?? 30_000;
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 100) throw new ConnectorError('The Clover setting timeoutMs must be a whole number of milliseconds (at least 100).', false);
    const pageSize = ctx.settings.pageSize ?? DEFAULT_PAGE_SIZE;
    if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new ConnectorError('The Clover setting pageSize must be a whole number from 1 to 1000.', false);
    this.merchantId = merchantId;
    this.pageSize = pageSize;
    this.http = new CloverHttp({ baseUrl: base, merchantId, token, userAgent: ua.trim(), timeoutMs, fetch: ctx.fetch ?? fetch });
  }

  // ---------------------------------------------------------------- levels

  /** An item's stock quantity; null when Clover has no stock for it (not tracked, or no such item). */
  async stock(itemId: string, signal?: AbortSignal): Promise<number | null> {
    try {
      const data = await this.http.send({ method: 'GET', path: `/item_stocks/${encodeURIComponent(itemId)}`, what: `read the stock of item ${itemId}`, ids: [itemId] }, signal);
      if (!isObj(data) || typeof data.quantity !== 'number' || !Number.isFinite(data.quantity)) throw unreadable(`the stock of item ${itemId}`, 'it has no numeric "quantity"');
      return data.quantity;
    } catch (err) {
      if (gone(err)) return null;
      throw err;
    }
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const out: LevelReading[] = [];
    for (const it of items) {
      if (it.locationId !== this.merchantId || !it.ref.variantId) continue;
      const q = await this.stock(it.ref.variantId, signal);
      if (q !== null) out.push({ sku: it.sku, ref: it.ref, locationId: it.locationId, available: wholeUnits(q) });
    }
    return out;
  }

  // ---------------------------------------------------------------- push

  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const out: PushOutcome[] = [];
    for (const t of targets) out.push(await this.pushOne(t, signal));
    return out;
  }

  private async pushOne(t: PushTarget, signal?: AbortSignal): Promise<PushOutcome> {
    const { sku, locationId, level, expected } = t;
    const itemId = t.ref.variantId;
    if (locationId !== this.merchantId) return { sku, locationId, status: 'failed', message: `Clover keeps one stock per merchant; map this channel's location to the merchant id "${this.merchantId}" (a second shop is a second Clover merchant: a channel of its own).` };
    if (!itemId) return { sku, locationId, status: 'failed', message: 'This listing has no Clover item id; run catalog discovery again.' };
    if (!Number.isInteger(level) || level < 0) return { sku, locationId, status: 'failed', message: `The level to write must be a whole number of at least 0 (got ${level}).` };
    const before = await this.stock(itemId, signal);
    if (before === null) return { sku, locationId, status: 'failed', message: `Clover has no stock for item ${itemId} (not tracked, or the item is gone); turn on stock tracking for it, or run catalog discovery again.` };
    // A level that moved since the hub read it is the merchant's or a sale's: never written over.
    if (expected !== null && wholeUnits(before) !== expected) return { sku, locationId, status: 'stale', observed: wholeUnits(before) };
    if (wholeUnits(before) === level) return { sku, locationId, status: 'applied', level, wrote: false };
    try {
      await this.http.send({ method: 'POST', path: `/item_stocks/${encodeURIComponent(itemId)}`, what: `set the stock of ${sku}`, body: { quantity: level }, ids: [itemId] }, signal);
    } catch (err) {
      if (err instanceof ConnectorError && !err.channelFault) return { sku, locationId, status: 'failed', message: err.message };
      throw err;
    }
    const after = await this.stock(itemId, signal);
    return after !== null && wholeUnits(after) === level ? { sku, locationId, status: 'applied', level } : { sku, locationId, status: 'stale', observed: after === null ? null : wholeUnits(after) };
  }

  // ---------------------------------------------------------------- hide / relist

  async item(itemId: string, signal?: AbortSignal): Promise<Obj | null> {
    try {
      const data = await this.http.send({ method: 'GET', path: `/items/${encodeURIComponent(itemId)}`, what: `read item ${itemId}`, query: [['expand', 'itemStock']], ids: [itemId] }, signal);
      if (!isObj(data) || typeof data.id !== 'string') throw unreadable(`item ${itemId}`, 'it is not an item');
      return data;
    } catch (err) {
      if (gone(err)) return null;
      throw err;
    }
  }

  /**
   * Makes the item unavailable (or available). An auto-managed item is left to Clover, which makes
   * it unavailable at zero and available again when stock comes back; writing over it would undo a
   * merchant's own "unavailable".
   */
  async setAvailable(ref: ListingRef, available: boolean, signal?: AbortSignal): Promise<void> {
    const itemId = ref.variantId;
    if (!itemId) throw new ConnectorError('This listing has no Clover item id; run catalog discovery again.', false, null, null, { channelFault: false });
    const item = await this.item(itemId, signal);
    if (!item) throw new ConnectorError(`Clover has no item ${itemId}; run catalog discovery again.`, false, null, 404, { channelFault: false });
    if (item.autoManage === true || item.available === available) return;
    await this.http.send({ method: 'POST', path: `/items/${encodeURIComponent(itemId)}`, what: `${available ? 'make available' : 'make unavailable'} item ${itemId}`, body: { available }, ids: [itemId] }, signal);
  }

  // ---------------------------------------------------------------- catalog

  async listCatalog(signal?: AbortSignal): Promise<PlatformListing[]> {
    const out: PlatformListing[] = [];
    const guard = new PageGuard({ platform: 'Clover', what: 'list the catalog', hint: `the server at ${this.http.baseUrl} ignores the "offset" parameter of /items (a proxy or cache in front of the API?)` });
    for (let offset = 0; ; offset += this.pageSize) {
      const data = await this.http.send({ method: 'GET', path: '/items', what: 'list the catalog', query: [['expand', 'itemStock'], ['limit', String(this.pageSize)], ['offset', String(offset)]] }, signal);
      if (!isObj(data) || !Array.isArray(data.elements)) throw unreadable('an item list', 'there is no "elements" list');
      guard.page(data.elements.map((i: unknown) => (isObj(i) ? String(i.id) : JSON.stringify(i))));
      for (const i of data.elements) {
        if (!isObj(i) || typeof i.id !== 'string') throw unreadable('an item list', 'an element is not an item with an id');
        const sku = typeof i.sku === 'string' && i.sku.trim() !== '' ? i.sku.trim() : null;
        out.push({ sku, title: typeof i.name === 'string' ? i.name : '', ref: { productId: i.id, variantId: i.id } });
      }
      if (data.elements.length < this.pageSize) return out;
      guard.more();
    }
  }

  // ---------------------------------------------------------------- expand

  /** The order with its line items, payments and refunds; null when Clover has no such order. */
  async order(orderId: string, signal?: AbortSignal): Promise<Obj | null> {
    try {
      const data = await this.http.send({ method: 'GET', path: `/orders/${encodeURIComponent(orderId)}`, what: `read order ${orderId}`, query: [['expand', ORDER_EXPAND]], ids: [orderId] }, signal);
      if (!isObj(data) || typeof data.id !== 'string') throw unreadable(`order ${orderId}`, 'it is not an order');
      return data;
    } catch (err) {
      if (gone(err)) return null;
      throw err;
    }
  }

  /** The order a payment paid for; null when Clover has no such payment (or it names no order). */
  async orderOfPayment(paymentId: string, signal?: AbortSignal): Promise<Obj | null> {
    let payment: unknown;
    try {
      payment = await this.http.send({ method: 'GET', path: `/payments/${encodeURIComponent(paymentId)}`, what: `read payment ${paymentId}`, ids: [paymentId] }, signal);
    } catch (err) {
      if (gone(err)) return null;
      throw err;
    }
    if (!isObj(payment) || typeof payment.id !== 'string') throw unreadable(`payment ${paymentId}`, 'it is not a payment');
    const orderId = isObj(payment.order) && typeof payment.order.id === 'string' ? payment.order.id : null;
    return orderId ? this.order(orderId, signal) : null;
  }
}
