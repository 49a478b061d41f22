/**
 * A Revel Systems instance as a real HTTP server on 127.0.0.1 (server/connectors/emulator.ts says
 * what every emulator offers). What is Revel's own here:
 * - auth: `API-AUTHENTICATION: <key>:<secret>` (or `api_key` and `api_secret` in the query); 401
 *   otherwise;
 * - Tastypie lists (`meta` with `limit`, `offset`, `next`, `previous`, `total_count`; `objects`),
 *   `limit` 20 by default, filters `field=value` and `field__gte=`, `order_by` (`-` for descending);
 *   foreign keys as resource URIs (`/resources/Product/12/`, `/enterprise/Establishment/1/`);
 * - products enterprise-wide, one CurrentStock record per product and establishment;
 * - a sale at the counter finalizes an order and sends `order.finalized` with the OrderAllInOne
 *   body; a return is an order of its own with negative quantities naming the order it returns; a
 *   product whose stock runs out (or comes back) sends `inout.stock`; a count typed in the
 *   Management Console sends nothing else;
 * - deliveries carry `X-Revel-Signature` (hex HMAC-SHA1 of the body with the shared secret),
 *   `X-Revel-Instance`, `X-Revel-Event-Type` and `X-Revel-Establishment-Id`;
 * - a rate limit of its own: Revel publishes none, so the emulator assumes 6 requests a second per
 *   instance (README, "Not confirmed") and answers 429 with Retry-After beyond it;
 * - errors: a JSON `{"error": "…"}` for a refused request or a missing record, an HTML page for a
 *   route that is not there or a server error, as Django answers.
 */
import type http from 'node:http';
import {
  commonApiFault,
  LoopbackEmulator,
  WebhookSender,
  WindowCounter,
  type ApiFaults,
  type EmulatorProduct,
  type RequestWindow,
  type SaleMoney,
  type WebhookFaults,
} from '../../emulator';
import type { ListingRef } from '../../types';
import { tastypieList } from './tastypie';
import {
  establishmentUri,
  idOf,
  INOUT_STOCK,
  ORDER_FINALIZED,
  ORDERS_PATH,
  orderUri,
  PRODUCT_PATH,
  productUri,
  revelDate,
  STOCK_PATH,
  stockUri,
  type Row,
} from '../wire';
import { revelSignature } from '../verify';

/** The rate limit the emulator enforces: an assumption, Revel publishes none (the connector paces at 4 a second). */
export const REVEL_EMULATED_LIMIT: RequestWindow = { requests: 6, windowMs: 1000 };

interface Product {
  id: number;
  name: string;
  sku: string;
  barcode: string;
  active: boolean;
  displayOnline: boolean;
  price: number;
  updated: string;
}

interface Stock {
  id: number;
  product: number;
  establishment: number;
  quantity: number;
  updated: string;
}

interface Item {
  id: number;
  product: number;
  quantity: number;
  price: number;
  returnedToInventory?: boolean;
  voided?: string;
}

interface Order {
  id: number;
  establishment: number;
  created: string;
  updated: string;
  originalOrder: number | null;
  items: Item[];
}

export interface RevelEmulatorOptions {
  apiKey: string;
  apiSecret: string;
  webhookSecret: string;
  /** The instance name (subdomain) every delivery names. */
  instance: string;
  /** Establishment ids (numbers as strings); default "1" and "2". */
  locations?: string[];
  /** Objects a list page holds when `limit` is not given (Revel: 20). */
  defaultLimit?: number;
  rateLimit?: RequestWindow;
  clock?: () => number;
  random?: () => number;
}

export class RevelEmulator extends LoopbackEmulator {
  readonly platform = 'revel';
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  protected readonly webhooks: WebhookSender;
  private readonly products = new Map<number, Product>();
  private readonly stock = new Map<number, Stock>();
  private readonly orders = new Map<number, Order>();
  private readonly establishments: number[];
  private readonly limiter: WindowCounter | null;
  private readonly problems: string[] = [];
  private nextId = { product: 100, stock: 500, order: 9000, item: 70000 };
  private lastStamp = 0;

  constructor(private readonly opts: RevelEmulatorOptions) {
    super();
    this.establishments = (opts.locations ?? ['1', '2']).map((l) => {
      const id = Number(idOf(l));
      if (!Number.isSafeInteger(id)) throw new Error(`A Revel establishment id is a number, not "${l}".`);
      return id;
    });
    this.limiter = opts.rateLimit ? new WindowCounter(opts.rateLimit) : null;
    if (opts.clock) this.clockMs = opts.clock;
    this.webhooks = new WebhookSender({ url: () => this.webhookUrl, faults: () => this.faults.webhooks, random: opts.random ?? Math.random, attempts: 3 });
  }

  // ------------------------------------------------------------------ the Emulator interface

  locations(): string[] {
    return this.establishments.map(String);
  }

  /** A date as Revel writes it, strictly later than every one written before (microseconds apart). */
  private stamp(): string {
    const micros = Math.max(Date.now() * 1000, this.lastStamp + 1);
    this.lastStamp = micros;
    return revelDate(Math.floor(micros / 1000), micros % 1000);
  }

  private productBySku(sku: string): Product | null {
    for (const p of this.products.values()) if (p.sku === sku) return p;
    return null;
  }

  private stockOf(product: number, establishment: number): Stock | null {
    for (const s of this.stock.values()) if (s.product === product && s.establishment === establishment) return s;
    return null;
  }

  listing(sku: string): ListingRef | null {
    const p = this.productBySku(sku);
    return p ? { productId: String(p.id), variantId: String(p.id) } : null;
  }

  product(sku: string): { displayOnline: boolean; active: boolean } | null {
    const p = this.productBySku(sku);
    return p ? { displayOnline: p.displayOnline, active: p.active } : null;
  }

  seed(products: EmulatorProduct[]): void {
    for (const e of products) {
      let p = this.productBySku(e.sku);
      if (!p) {
        p = { id: ++this.nextId.product, name: e.title, sku: e.sku, barcode: `0${String(this.nextId.product).padStart(12, '0')}`, active: true, displayOnline: true, price: e.price ?? 2500, updated: this.stamp() };
        this.products.set(p.id, p);
      }
      for (const [loc, qty] of Object.entries(e.levels)) {
        const est = this.establishment(loc);
        const s = this.stockOf(p.id, est);
        if (s) {
          s.quantity = qty;
          s.updated = this.stamp();
        } else {
          const row = { id: ++this.nextId.stock, product: p.id, establishment: est, quantity: qty, updated: this.stamp() };
          this.stock.set(row.id, row);
        }
      }
    }
  }

  private establishment(locationId: string | undefined): number {
    const est = locationId === undefined ? this.establishments[0]! : Number(idOf(locationId));
    if (!this.establishments.includes(est)) throw new Error(`This Revel instance has no establishment "${locationId}"; it has ${this.establishments.join(', ')}.`);
    return est;
  }

  level(sku: string, locationId: string): number | null {
    const p = this.productBySku(sku);
    const est = Number(idOf(locationId));
    const s = p ? this.stockOf(p.id, est) : null;
    return s ? s.quantity : null;
  }

  /** Changes a stock record and sends `inout.stock` when the product runs out or comes back. */
  private move(s: Stock, to: number): void {
    const was = s.quantity;
    s.quantity = to;
    s.updated = this.stamp();
    if ((was > 0) !== (to > 0)) {
      const p = this.products.get(s.product)!;
      this.send(INOUT_STOCK, { id: p.id, instock: to > 0, type: 'product', barcode: p.barcode }, s.establishment);
    }
  }

  async sell(sale: { sku: string; quantity: number; locationId?: string } & SaleMoney): Promise<{ orderId: string }> {
    const p = this.productBySku(sale.sku);
    if (!p) throw new Error(`The Revel emulator has no product ${sale.sku}.`);
    const est = this.establishment(sale.locationId);
    const s = this.stockOf(p.id, est);
    const when = this.stamp();
    const order: Order = { id: ++this.nextId.order, establishment: est, created: when, updated: when, originalOrder: null, items: [{ id: ++this.nextId.item, product: p.id, quantity: sale.quantity, price: p.price }] };
    this.orders.set(order.id, order);
    if (s) this.move(s, s.quantity - sale.quantity);
    this.send(ORDER_FINALIZED, this.orderBody(order), est);
    return { orderId: String(order.id) };
  }

  /** A return at the counter: an order of its own, negative quantities, naming the order it returns. */
  async refund(refund: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const original = this.orders.get(Number(refund.orderId));
    if (!original) throw new Error(`The Revel emulator has no order ${refund.orderId}.`);
    const item = original.items.find((i) => i.quantity > 0)!;
    const quantity = refund.quantity ?? item.quantity;
    const when = this.stamp();
    const ret: Order = { id: ++this.nextId.order, establishment: original.establishment, created: when, updated: when, originalOrder: original.id, items: [{ id: ++this.nextId.item, product: item.product, quantity: -quantity, price: item.price, returnedToInventory: refund.restock }] };
    this.orders.set(ret.id, ret);
    const s = this.stockOf(item.product, original.establishment);
    if (refund.restock && s) this.move(s, s.quantity + quantity);
    this.send(ORDER_FINALIZED, this.orderBody(ret), ret.establishment);
    return { refundId: String(ret.id) };
  }

  /** An exchange at the counter: one order that takes back units of an earlier sale and sells another product. */
  async exchange(x: { orderId: string; returnQuantity: number; sku: string; quantity: number }): Promise<{ orderId: string }> {
    const original = this.orders.get(Number(x.orderId));
    const p = this.productBySku(x.sku);
    if (!original || !p) throw new Error(`The Revel emulator has no order ${x.orderId} or no product ${x.sku}.`);
    const back = original.items.find((i) => i.quantity > 0)!;
    const when = this.stamp();
    const o: Order = { id: ++this.nextId.order, establishment: original.establishment, created: when, updated: when, originalOrder: original.id, items: [
      { id: ++this.nextId.item, product: back.product, quantity: -x.returnQuantity, price: back.price, returnedToInventory: true },
      { id: ++this.nextId.item, product: p.id, quantity: x.quantity, price: p.price },
    ] };
    this.orders.set(o.id, o);
    for (const i of o.items) {
      const s = this.stockOf(i.product, o.establishment);
      if (s) this.move(s, s.quantity - i.quantity);
    }
    this.send(ORDER_FINALIZED, this.orderBody(o), o.establishment);
    return { orderId: String(o.id) };
  }

  /** A manager voids a finalized order's items: their stock goes back and the order's updated_date moves; no webhook is documented for it. */
  voidOrder(orderId: string): void {
    const o = this.orders.get(Number(orderId));
    if (!o) throw new Error(`The Revel emulator has no order ${orderId}.`);
    o.updated = this.stamp();
    for (const i of o.items.filter((it) => it.quantity > 0 && !it.voided)) {
      i.voided = o.updated;
      const s = this.stockOf(i.product, o.establishment);
      if (s) this.move(s, s.quantity + i.quantity);
    }
  }

  /** A count typed in the Management Console (or at the counter): the record changes; only a run-out or restock is announced. */
  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    const p = this.productBySku(change.sku);
    if (!p) throw new Error(`The Revel emulator has no product ${change.sku}.`);
    const est = this.establishment(change.locationId);
    let s = this.stockOf(p.id, est);
    if (!s) {
      s = { id: ++this.nextId.stock, product: p.id, establishment: est, quantity: 0, updated: this.stamp() };
      this.stock.set(s.id, s);
    }
    this.move(s, change.available);
  }

  isStockWrite(r: { method: string; path: string }): boolean {
    return r.method === 'PATCH' && r.path.startsWith(STOCK_PATH);
  }

  selfCheck(): string[] {
    return [...this.problems];
  }

  describeWebhook(body: string): string {
    try {
      const b = JSON.parse(body) as Row;
      if (typeof b.instock === 'boolean') return `product ${String(b.id)} ${b.instock ? 'in stock' : 'out of stock'}`;
      const info = b.orderInfo as Row | undefined;
      const items = (b.items as Row[] | undefined) ?? [];
      return info ? `order ${String(info.id)} ${items.map((i) => `${String(i.product)} × ${String(i.quantity)}`).join(', ')}` : '';
    } catch {
      return '';
    }
  }

  // ------------------------------------------------------------------ webhooks

  private orderBody(o: Order): Row {
    return {
      orderInfo: {
        id: o.id,
        uuid: `00000000-0000-4000-8000-${String(o.id).padStart(12, '0')}`,
        establishment: establishmentUri(o.establishment),
        created_date: o.created,
        updated_date: o.updated,
        closed: true,
        web_order: false,
        original_order: o.originalOrder === null ? null : orderUri(o.originalOrder),
        final_total: o.items.reduce((sum, i) => sum + (i.price * i.quantity) / 100, 0),
      },
      items: o.items.map((i) => ({
        id: i.id,
        order: orderUri(o.id),
        product: productUri(i.product),
        product_name_override: this.products.get(i.product)?.name ?? '',
        quantity: i.quantity,
        price: i.price / 100,
        voided_date: i.voided ?? null,
        ...(i.quantity < 0 ? { returned_to_inventory: i.returnedToInventory ?? true } : {}),
      })),
      paymentInfo: [],
      orderHistory: [],
    };
  }

  private send(topic: string, body: Row, establishment: number): void {
    const raw = JSON.stringify(body);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-revel-signature': revelSignature(this.opts.webhookSecret, raw),
      'x-revel-instance': this.opts.instance,
      'x-revel-event-type': topic,
      'x-revel-establishment-id': String(establishment),
    };
    this.queueWebhook({ topic, id: `${topic}-${this.lastStamp}`, body: raw, headers });
  }

  // ------------------------------------------------------------------ the API

  private json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? '' : JSON.stringify(body));
  }

  private html(res: http.ServerResponse, status: number, text: string): void {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html><html><body><h1>${text}</h1></body></html>`);
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://revel.local');
      const method = req.method ?? 'GET';
      let body: unknown = null;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      this.requests.push({ method, path: url.pathname, body });
      const f = this.faults.api;
      const common = await commonApiFault(f);
      if (common === 'hang') return void (await this.hang(res));
      if (common === 404) return this.html(res, 404, 'Not Found');
      if (common === 401) return this.json(res, 401, { error: 'Authentication credentials were not provided or are not valid.' });
      if (common === 403) return this.json(res, 403, { error: 'You do not have permission to perform this action.' });
      if (f.rateLimitNext && f.rateLimitNext.count > 0) {
        f.rateLimitNext.count--;
        this.rateLimited.push({ at: this.clockMs(), retryAfterMs: f.rateLimitNext.retryAfterSeconds * 1000 });
        return this.json(res, 429, { error: 'Too many requests.' }, { 'retry-after': String(f.rateLimitNext.retryAfterSeconds) });
      }
      if (this.limiter) {
        const ok = this.limiter.admit(this.clockMs());
        if (!ok.ok) {
          const secs = Math.max(1, Math.ceil(ok.retryAfterMs / 1000));
          this.rateLimited.push({ at: this.clockMs(), retryAfterMs: secs * 1000 });
          return this.json(res, 429, { error: 'Too many requests.' }, { 'retry-after': String(secs) });
        }
      }
      if (f.failNext && f.failNext > 0) {
        f.failNext--;
        return this.html(res, 500, 'Server Error (500)');
      }
      const given = req.headers['api-authentication'];
      const auth = typeof given === 'string' ? given : `${url.searchParams.get('api_key') ?? ''}:${url.searchParams.get('api_secret') ?? ''}`;
      if (auth !== `${this.opts.apiKey}:${this.opts.apiSecret}`) return this.json(res, 401, { error: 'Authentication credentials were not provided or are not valid.' });
      await this.route(method, url, body, res);
    } catch (err) {
      this.problems.push(`The Revel emulator failed answering a request: ${(err as Error).message}`);
      if (!res.headersSent) this.html(res, 500, 'Server Error (500)');
    }
  }

  private async route(method: string, url: URL, body: unknown, res: http.ServerResponse): Promise<void> {
    const path = url.pathname;
    const one = /^\/resources\/(Product|CurrentStock)\/(\d+)\/$/.exec(path);
    if (method === 'GET' && path === PRODUCT_PATH) return this.list(res, url, [...this.products.values()].map((p) => this.productRow(p)));
    if (method === 'GET' && path === STOCK_PATH) return this.list(res, url, [...this.stock.values()].map((s) => this.stockRow(s)));
    if (method === 'GET' && path === ORDERS_PATH) return this.list(res, url, [...this.orders.values()].map((o) => this.orderBody(o)), (r) => r.orderInfo as Row);
    if (one && method === 'GET') {
      const row = one[1] === 'Product' ? this.products.get(Number(one[2])) : this.stock.get(Number(one[2]));
      if (!row) return this.json(res, 404, { error: `${one[1]} matching query does not exist.` });
      return this.json(res, 200, one[1] === 'Product' ? this.productRow(row as Product) : this.stockRow(row as Stock));
    }
    if (one && method === 'PATCH') {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) return this.json(res, 400, { error: 'The request body must be a JSON object.' });
      const b = body as Row;
      if (one[1] === 'Product') {
        const p = this.products.get(Number(one[2]));
        if (!p) return this.json(res, 404, { error: 'Product matching query does not exist.' });
        if (b.display_online !== undefined && typeof b.display_online !== 'boolean') return this.json(res, 400, { error: 'display_online must be true or false.' });
        if (typeof b.display_online === 'boolean') p.displayOnline = b.display_online;
        if (typeof b.active === 'boolean') p.active = b.active;
        p.updated = this.stamp();
        return this.json(res, 202, this.productRow(p));
      }
      const s = this.stock.get(Number(one[2]));
      if (!s) return this.json(res, 404, { error: 'CurrentStock matching query does not exist.' });
      const q = b.quantity_in_hand;
      if (typeof q !== 'number' || !Number.isFinite(q)) return this.json(res, 400, { error: 'quantity_in_hand must be a number.' });
      const sku = this.products.get(s.product)?.sku ?? null;
      if (this.faults.api.refuseSku && sku === this.faults.api.refuseSku) return this.json(res, 404, { error: 'CurrentStock matching query does not exist.' });
      this.move(s, q);
      this.stockWritten([sku]);
      const f = this.faults.api;
      if (f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
        f.loseWriteAnswerNext--;
        return void (await this.hang(res));
      }
      return this.json(res, 202, this.stockRow(s));
    }
    if (/^\/resources\/(Product|CurrentStock|OrderAllInOne)\//.test(path)) return this.json(res, 405, { error: `Method ${method} is not allowed here.` });
    this.problems.push(`The connector asked for ${method} ${path}, which this Revel emulator does not serve.`);
    return this.html(res, 404, 'Not Found');
  }

  private productRow(p: Product): Row {
    return { id: p.id, resource_uri: productUri(p.id), name: p.name, sku: p.sku, barcode: p.barcode, active: p.active, display_online: p.displayOnline, price: p.price / 100, establishment: null, updated_date: p.updated };
  }

  private stockRow(s: Stock): Row {
    return { id: s.id, resource_uri: stockUri(s.id), product: productUri(s.product), establishment: establishmentUri(s.establishment), quantity_in_hand: s.quantity, quantity_in_layaway: 0, updated_date: s.updated };
  }

  private list(res: http.ServerResponse, url: URL, rows: Row[], fieldsOf: (r: Row) => Row = (r) => r): void {
    const { status, body, problems } = tastypieList(url, rows, fieldsOf, { defaultLimit: this.opts.defaultLimit ?? 20, ignorePaging: this.faults.api.ignorePaging === true });
    this.problems.push(...problems);
    this.json(res, status, body);
  }
}
