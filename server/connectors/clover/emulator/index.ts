/**
 * A Clover merchant's REST API as a real HTTP server on 127.0.0.1, for tests and the sandbox:
 * - `Authorization: Bearer <token>` (401 `{"message": "401 Unauthorized"}` otherwise) and a
 *   `User-Agent` on every request (400 without one, as Clover since April 2026);
 * - GET/POST /v3/merchants/{mId}/item_stocks/{itemId} (`quantity`, a decimal; `stockCount` is its
 *   rounded copy), GET /items (`expand=itemStock`, `limit`, `offset`), GET/POST /items/{id}
 *   (`available`), GET /orders (`filter=modifiedTime>=…`, `expand`, `limit`, `offset`), GET
 *   /orders/{id}, GET /payments/{id}; another merchant's path is answered 401, as Clover answers a
 *   token used for a merchant it was not issued for;
 * - with `rateLimit`: 16 requests a second and 5 at once per token, then 429 (`X-RateLimit-tokenLimit`,
 *   or `X-RateLimit-tokenConcurrentLimit` with `Retry-After`);
 * - webhook messages `{appId, merchants: {<mId>: [{objectId, type, ts}]}}` with `X-Clover-Auth`: a
 *   sale sends its order (O: CREATE), its payment (P: CREATE) and the item's stock change (I:
 *   UPDATE, stock counted down after each sale as with "Update item count after each sale"); a
 *   refund sends the order's update, and when the goods go back, the item's; a stock edit at the
 *   counter, a push of ours and a change of `available` send the item's update.
 */
import http from 'node:http';
import { commonApiFault, readRequest, DEFAULT_PRICE, LoopbackEmulator, WebhookSender, WindowCounter, type ApiFaults, type Emulator, type EmulatorProduct, type WebhookFaults } from '../../emulator';
import type { ListingRef } from '../../types';
import { ApiRefusal, cloverId, errorJson, itemJson, orderJson, stockJson, type CloverEmulatorOptions, type Item, type Json, type Order } from './model';

export { CLOVER_LIMIT, type CloverEmulatorOptions } from './model';

const bad = (message: string) => new ApiRefusal(400, errorJson(message));

export class CloverEmulator extends LoopbackEmulator implements Emulator {
  readonly platform = 'clover';
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  /** What the emulator itself got wrong while answering (a simulation fails on any). */
  readonly internalErrors: string[] = [];
  protected readonly webhooks: WebhookSender;
  private readonly items = new Map<string, Item>();
  private readonly bySku = new Map<string, Item>();
  private readonly orders = new Map<string, Order>();
  private readonly payments = new Map<string, string>();
  private readonly window: WindowCounter | null;
  private inFlight = 0;
  private lastStamp = 0;
  private readonly currency: string;
  private readonly appId: string;

  constructor(private readonly opts: CloverEmulatorOptions) {
    super();
    if (opts.clock) this.clockMs = opts.clock;
    this.currency = opts.currency ?? 'USD';
    this.appId = opts.appId ?? 'STOCKRELAYAPP';
    this.window = opts.rateLimit ? new WindowCounter(opts.rateLimit.window) : null;
    this.webhooks = new WebhookSender({ url: () => this.webhookUrl, faults: () => this.faults.webhooks, random: opts.random ?? Math.random, attempts: 3 });
  }

  /** A time later than any before, in ms (Clover's times are epoch milliseconds). */
  private stamp(): number {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return this.lastStamp;
  }

  locations(): string[] {
    return [this.opts.merchantId];
  }

  seed(products: EmulatorProduct[]): void {
    for (const p of products) {
      const quantity = p.levels[this.opts.merchantId] ?? Object.values(p.levels)[0] ?? 0;
      const known = this.bySku.get(p.sku);
      if (known) {
        known.quantity = quantity;
        continue;
      }
      const item: Item = { id: cloverId(), name: p.title, sku: p.sku, price: p.price ?? DEFAULT_PRICE, available: true, autoManage: false, quantity, modifiedTime: this.stamp() };
      this.items.set(item.id, item);
      this.bySku.set(p.sku, item);
    }
  }

  level(sku: string, locationId: string): number | null {
    const i = this.bySku.get(sku);
    return i && locationId === this.opts.merchantId && i.quantity !== null ? i.quantity : null;
  }

  listing(sku: string): ListingRef | null {
    const i = this.bySku.get(sku);
    return i ? { productId: i.id, variantId: i.id } : null;
  }

  /** Whether the item of this SKU can be ordered. */
  visible(sku: string): boolean {
    return this.bySku.get(sku)?.available ?? false;
  }

  /** Turns Clover's auto-manage on or off for an item (tests). */
  setAutoManage(sku: string, on: boolean): void {
    const i = this.mustItem(sku);
    i.autoManage = on;
  }

  order(orderId: string): Order | undefined {
    return this.orders.get(orderId);
  }

  isStockWrite(request: { method: string; path: string }): boolean {
    return request.method === 'POST' && /\/item_stocks\/[^/]+$/.test(request.path);
  }

  selfCheck(): string[] {
    return [...this.internalErrors];
  }

  // ---------------------------------------------------------------- what happens at the counter

  private mustItem(sku: string): Item {
    const i = this.bySku.get(sku);
    if (!i) throw new Error(`The Clover emulator has no item ${sku}.`);
    return i;
  }

  private stockChanged(item: Item, by: number): void {
    if (item.quantity === null) return;
    item.quantity += by;
    item.modifiedTime = this.stamp();
    if (item.autoManage) item.available = item.quantity > 0;
  }

  async sell(sale: { sku: string; quantity: number; locationId?: string }): Promise<{ orderId: string }> {
    const item = this.mustItem(sale.sku);
    const now = this.stamp();
    const order: Order = {
      id: cloverId(),
      createdTime: now,
      modifiedTime: now,
      paymentState: 'PAID',
      // Clover rings one unit a line item.
      lineItems: Array.from({ length: sale.quantity }, () => ({ id: cloverId(), itemId: item.id, name: item.name, price: item.price, refunded: false })),
      paymentId: cloverId(),
      refunds: [],
    };
    this.orders.set(order.id, order);
    this.payments.set(order.paymentId, order.id);
    this.stockChanged(item, -sale.quantity);
    this.notify([{ objectId: `O:${order.id}`, type: 'CREATE' }]);
    this.notify([{ objectId: `P:${order.paymentId}`, type: 'CREATE' }]);
    this.notify([{ objectId: `I:${item.id}`, type: 'UPDATE' }]);
    return { orderId: order.id };
  }

  /** A refund of line items (all not yet refunded, or `quantity` of them); `restock`: the units go back into stock. */
  async refund(refund: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const order = this.orders.get(refund.orderId);
    if (!order) throw new Error(`The Clover emulator has no order ${refund.orderId}.`);
    const open = order.lineItems.filter((l) => !l.refunded);
    const lines = open.slice(0, refund.quantity ?? open.length);
    for (const l of lines) l.refunded = true;
    const r = { id: cloverId(), paymentId: order.paymentId, amount: lines.reduce((s, l) => s + l.price, 0), createdTime: this.stamp(), lineItemIds: lines.map((l) => l.id) };
    order.refunds.push(r);
    order.paymentState = order.lineItems.every((l) => l.refunded) ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
    order.modifiedTime = this.stamp();
    this.notify([{ objectId: `O:${order.id}`, type: 'UPDATE' }]);
    if (refund.restock) {
      for (const itemId of new Set(lines.map((l) => l.itemId))) {
        const item = this.items.get(itemId);
        if (!item) continue;
        this.stockChanged(item, lines.filter((l) => l.itemId === itemId).length);
        this.notify([{ objectId: `I:${item.id}`, type: 'UPDATE' }]);
      }
    }
    return { refundId: r.id };
  }

  /** Stock counted and typed at the counter (Inventory app): the item's update. */
  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    const item = this.mustItem(change.sku);
    item.quantity = change.available;
    item.modifiedTime = this.stamp();
    if (item.autoManage) item.available = item.quantity > 0;
    this.notify([{ objectId: `I:${item.id}`, type: 'UPDATE' }]);
  }

  /** The body and headers of a message of this merchant (or another, for tests), as Clover sends it. */
  message(updates: { objectId: string; type: string }[], merchantId = this.opts.merchantId): { body: string; headers: Record<string, string> } {
    const ts = this.clockMs();
    const body = JSON.stringify({ appId: this.appId, merchants: { [merchantId]: updates.map((u) => ({ ...u, ts })) } });
    return { body, headers: { 'content-type': 'application/json', 'x-clover-auth': this.opts.authCode } };
  }

  private notify(updates: { objectId: string; type: string }[]): void {
    const { body, headers } = this.message(updates);
    this.queueWebhook({ topic: updates.map((u) => u.objectId.split(':')[0]).join('+'), id: `${updates[0]!.objectId}@${this.stamp()}`, body, headers });
  }

  describeWebhook(body: string): string {
    try {
      const b = JSON.parse(body) as { merchants?: Record<string, { objectId?: string; type?: string }[]> };
      return Object.values(b.merchants ?? {})
        .flat()
        .map((u) => `${u.type ?? '?'} ${u.objectId ?? '?'}`)
        .join(', ');
    } catch {
      return '';
    }
  }

  // ---------------------------------------------------------------- the API

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { method, url, body } = await readRequest(req, this.baseUrl);
    this.requests.push({ method, path: url.pathname, body });
    const send = (status: number, payload: Json | null, headers: Record<string, string> = {}) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(payload === null ? '' : JSON.stringify(payload));
    };
    // In flight from its arrival until its answer (or until the caller gives up on a hung one).
    this.inFlight++;
    try {
      const early = await this.gate(req);
      if (early === 'hang') return await this.hang(res);
      if (early) return send(early.status, early.body, early.headers);
      if (typeof body === 'string') throw bad('The request body is not JSON.');
      const answer = await this.route(method, url, body);
      if (answer === 'hang') return await this.hang(res);
      send(200, answer);
    } catch (err) {
      if (err instanceof ApiRefusal) return send(err.status, err.body, err.headers);
      this.internalErrors.push(`${method} ${url.pathname}: ${(err as Error).message}`);
      send(500, errorJson('Internal Server Error'));
    } finally {
      this.inFlight--;
    }
  }

  /** Faults, the rate limits and the headers every request needs, before any route. */
  private async gate(req: http.IncomingMessage): Promise<'hang' | { status: number; body: Json; headers: Record<string, string> } | null> {
    const f = this.faults.api;
    // Counted on arrival: the concurrent limit sees the requests the latency holds too.
    const crowded = this.opts.rateLimit ? this.inFlight > this.opts.rateLimit.concurrent : false;
    const common = await commonApiFault({ ...f, statusNext: undefined });
    if (common === 'hang') {
      f.hangNext = Math.max(0, (f.hangNext ?? 0) - 1);
      return 'hang';
    }
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      return { status: 429, body: errorJson('Too Many Requests'), headers: { 'retry-after': String(f.rateLimitNext.retryAfterSeconds), 'x-ratelimit-tokenlimit': '16' } };
    }
    if (this.opts.rateLimit) {
      const at = this.clockMs();
      if (crowded) {
        this.rateLimited.push({ at, retryAfterMs: 1000 });
        return { status: 429, body: errorJson('Too Many Requests'), headers: { 'retry-after': '1', 'x-ratelimit-tokenconcurrentlimit': String(this.opts.rateLimit.concurrent) } };
      }
      if (this.window && !this.window.admit(at).ok) {
        this.rateLimited.push({ at, retryAfterMs: null });
        return { status: 429, body: errorJson('Too Many Requests'), headers: { 'x-ratelimit-tokenlimit': String(this.opts.rateLimit.window.requests) } };
      }
    }
    if (f.statusNext && f.statusNext.count > 0) {
      f.statusNext.count--;
      const s = f.statusNext.status;
      return { status: s, body: errorJson(s === 401 ? '401 Unauthorized' : s === 403 ? '403 Forbidden' : '404 Not Found'), headers: {} };
    }
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      return { status: 500, body: errorJson('Internal Server Error'), headers: {} };
    }
    if (req.headers.authorization !== `Bearer ${this.opts.apiToken}`) return { status: 401, body: errorJson('401 Unauthorized'), headers: {} };
    if (!req.headers['user-agent']) return { status: 400, body: errorJson('The User-Agent header is required.'), headers: {} };
    return null;
  }

  private async route(method: string, url: URL, body: unknown): Promise<'hang' | Json> {
    const m = /^\/v3\/merchants\/([^/]+)(\/.*)$/.exec(url.pathname);
    if (!m) throw new ApiRefusal(404, errorJson('404 Not Found'));
    // A token is issued for one merchant.
    if (decodeURIComponent(m[1]!) !== this.opts.merchantId) throw new ApiRefusal(401, errorJson('401 Unauthorized'));
    const p = m[2]!;
    const q = url.searchParams;
    const expand = new Set((q.get('expand') ?? '').split(',').filter((s) => s !== ''));
    let r: RegExpExecArray | null;
    if ((r = /^\/item_stocks\/([^/]+)$/.exec(p))) {
      const item = this.items.get(decodeURIComponent(r[1]!));
      if (!item) throw new ApiRefusal(404, errorJson(`Item ${decodeURIComponent(r[1]!)} not found`));
      if (method === 'GET') {
        if (item.quantity === null) throw new ApiRefusal(404, errorJson(`Item stock for ${item.id} not found`));
        return stockJson(item);
      }
      if (method === 'POST') return this.writeStock(item, body);
    }
    if (method === 'GET' && p === '/items') return this.page(q, [...this.items.values()].map((i) => itemJson(i, expand.has('itemStock'), this.baseUrl, this.opts.merchantId)));
    if ((r = /^\/items\/([^/]+)$/.exec(p))) {
      const item = this.items.get(decodeURIComponent(r[1]!));
      if (!item) throw new ApiRefusal(404, errorJson(`Item ${decodeURIComponent(r[1]!)} not found`));
      if (method === 'GET') return itemJson(item, expand.has('itemStock'), this.baseUrl, this.opts.merchantId);
      if (method === 'POST') return this.updateItem(item, body);
    }
    if (method === 'GET' && p === '/orders') return this.page(q, this.orderList(q).map((o) => orderJson(o, expand, this.currency, this.baseUrl, this.opts.merchantId)));
    if (method === 'GET' && (r = /^\/orders\/([^/]+)$/.exec(p))) {
      const o = this.orders.get(decodeURIComponent(r[1]!));
      if (!o) throw new ApiRefusal(404, errorJson(`Order ${decodeURIComponent(r[1]!)} not found`));
      return orderJson(o, expand, this.currency, this.baseUrl, this.opts.merchantId);
    }
    if (method === 'GET' && (r = /^\/payments\/([^/]+)$/.exec(p))) {
      const id = decodeURIComponent(r[1]!);
      const orderId = this.payments.get(id);
      const o = orderId ? this.orders.get(orderId) : undefined;
      if (!o) throw new ApiRefusal(404, errorJson(`Payment ${id} not found`));
      return { id, order: { id: o.id }, amount: o.lineItems.reduce((s, l) => s + l.price, 0), result: 'SUCCESS', createdTime: o.createdTime, modifiedTime: o.modifiedTime };
    }
    throw new ApiRefusal(404, errorJson('404 Not Found'));
  }

  /** `limit` (default 100, at most 1000) and `offset`; `ignorePaging` answers the first page for any offset. */
  private page(q: URLSearchParams, all: Json[]): Json {
    const limit = q.get('limit') === null ? 100 : Number(q.get('limit'));
    const offset = q.get('offset') === null ? 0 : Number(q.get('offset'));
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw bad('limit must be a whole number from 1 to 1000.');
    if (!Number.isInteger(offset) || offset < 0) throw bad('offset must be a whole number of at least 0.');
    const from = this.faults.api.ignorePaging ? 0 : offset;
    return { elements: all.slice(from, from + limit), href: `${this.baseUrl}?limit=${limit}` };
  }

  /** `filter=modifiedTime>=N` (and `>`, `<=`, `<`), several filters all applying. */
  private orderList(q: URLSearchParams): Order[] {
    const tests: ((o: Order) => boolean)[] = [];
    for (const f of q.getAll('filter')) {
      const m = /^modifiedTime(>=|<=|>|<|=)(\d+)$/.exec(f);
      if (!m) throw bad(`Invalid filter: ${f}`);
      const n = Number(m[2]);
      const op = m[1];
      tests.push((o) => (op === '>=' ? o.modifiedTime >= n : op === '<=' ? o.modifiedTime <= n : op === '>' ? o.modifiedTime > n : op === '<' ? o.modifiedTime < n : o.modifiedTime === n));
    }
    return [...this.orders.values()].filter((o) => tests.every((t) => t(o))).sort((a, b) => b.createdTime - a.createdTime);
  }

  private writeStock(item: Item, body: unknown): 'hang' | Json {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('The body is not an item stock.');
    const b = body as Json;
    const q = b.quantity ?? b.stockCount;
    if (typeof q !== 'number' || !Number.isFinite(q)) throw bad('quantity must be a number.');
    if (item.sku === this.faults.api.refuseSku) throw new ApiRefusal(404, errorJson(`Item ${item.id} not found`));
    item.quantity = q;
    item.modifiedTime = this.stamp();
    if (item.autoManage) item.available = q > 0;
    this.stockWritten([item.sku]);
    this.notify([{ objectId: `I:${item.id}`, type: 'UPDATE' }]);
    const f = this.faults.api;
    if (f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
      f.loseWriteAnswerNext--;
      return 'hang';
    }
    return stockJson(item);
  }

  private updateItem(item: Item, body: unknown): Json {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('The body is not an item.');
    const b = body as Json;
    if ('available' in b) {
      if (typeof b.available !== 'boolean') throw bad('available is a boolean.');
      item.available = b.available;
    }
    if ('autoManage' in b) {
      if (typeof b.autoManage !== 'boolean') throw bad('autoManage is a boolean.');
      item.autoManage = b.autoManage;
    }
    item.modifiedTime = this.stamp();
    this.notify([{ objectId: `I:${item.id}`, type: 'UPDATE' }]);
    return itemJson(item, false, this.baseUrl, this.opts.merchantId);
  }
}
