/**
 * A Lightspeed Retail X-Series store as a real HTTP server on 127.0.0.1, for the tests and the sandbox:
 * - auth: `Authorization: Bearer <personal token>`; otherwise 401;
 * - API 2.0 lists paged by `version` (`after`, `page_size` at most 200, answer `{data, version: {min, max}}`):
 *   products, sales, inventory; a product's inventory records (`/api/2.0/products/{id}/inventory`);
 *   PUT `/api/2.1/products/{id}` with `details.inventory[{outlet_id, current_amount}]` (docs
 *   "Inventory Updates"); anything else 404;
 * - the rate limit when asked (`rateLimit`): 300 × registers + 50 requests in 5 minutes, with
 *   `X-RateLimit-Limit` / `X-RateLimit-Remaining` on every answer and a 429 `{"error":"Too Many
 *   Requests","message":"Rate limiting enforced"}` with an HTTP-date `Retry-After` beyond it (docs
 *   "Rate Limiting");
 * - webhooks as X-Series sends them to an OAuth add-on: a form-encoded POST, the object as JSON in
 *   `payload` (API 1.0 shapes), `domain_prefix` and `environment` beside it, signed `X-Signature:
 *   signature=<hex>,algorithm=HMAC-SHA256` with the add-on's client_secret; `sale.update` for every
 *   sale, return and void, `inventory.update` for every level change (a sale, a return, a count typed
 *   at the counter, a push of ours).
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { LoopbackEmulator, WebhookSender, WindowCounter, commonApiFault, readRequest, type ApiFaults, type Emulator, type EmulatorProduct, type SaleMoney, type WebhookFaults } from '../../emulator';
import type { ListingRef } from '../../types';
import { signXs } from '../verify';

/** The sandbox store: its domain prefix and its two outlets (the gallery's and the warehouse shop's). */
export const XS_SANDBOX = {
  domainPrefix: 'gallery-demo',
  outlets: ['06e35f89-3e9f-11ee-f0c4-0a5d6c2e0001', '06e35f89-3e9f-11ee-f0c4-0a5d6c2e0002'] as [string, string],
} as const;

export interface XsEmulatorOptions {
  accessToken: string;
  /** The OAuth add-on's client_secret, which signs its webhooks. */
  clientSecret: string;
  domainPrefix: string;
  /** Outlet ids; the sandbox's two by default. */
  outlets?: string[];
  registers?: number;
  /** Enforce the documented rate limit, counted on `clock`. */
  rateLimit?: boolean;
  clock?: () => number;
  random?: () => number;
}

interface Product {
  id: string;
  sku: string;
  name: string;
  version: number;
  levels: Map<string, { id: string; level: number; version: number }>;
}

interface SaleLine {
  id: string;
  productId: string;
  quantity: number;
  price: number;
}

interface Sale {
  id: string;
  outletId: string;
  registerId: string;
  status: string;
  returnFor: string | null;
  invoice: number;
  createdAt: string;
  updatedAt: string;
  version: number;
  lines: SaleLine[];
}

type Obj = Record<string, unknown>;

class XsError extends Error {
  constructor(
    readonly status: number,
    readonly body: Obj,
  ) {
    super(String(body.error));
  }
}

/** 1.0 dates: "2016-07-18 08:04:05" (UTC). */
const v1Date = (iso: string) => iso.slice(0, 19).replace('T', ' ');

export class XsEmulator extends LoopbackEmulator implements Emulator {
  readonly platform = 'lightspeed-x';
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  readonly retailerId: string;
  protected readonly webhooks: WebhookSender;
  private readonly opts: XsEmulatorOptions;
  private readonly outletIds: string[];
  private readonly products = new Map<string, Product>();
  private readonly bySku = new Map<string, string>();
  private readonly sales = new Map<string, Sale>();
  private readonly limit: WindowCounter;
  private readonly enforce: boolean;
  private readonly problems: string[] = [];
  private version = 1000;
  private ids = 0;
  private invoices = 0;

  constructor(opts: XsEmulatorOptions) {
    super();
    this.opts = opts;
    this.outletIds = opts.outlets ?? [...XS_SANDBOX.outlets];
    this.retailerId = this.uuid('retailer', opts.domainPrefix.length + 1);
    if (opts.clock) this.clockMs = opts.clock;
    this.limit = new WindowCounter({ requests: 300 * (opts.registers ?? 1) + 50, windowMs: 300_000 });
    this.enforce = opts.rateLimit === true;
    const random = opts.random ?? Math.random;
    this.webhooks = new WebhookSender({ url: () => this.webhookUrl, faults: () => this.faults.webhooks, random, attempts: 3 });
  }

  /** An id shaped like X-Series' UUIDs, from a counter (deterministic for the simulation). */
  private uuid(kind: string, n = ++this.ids): string {
    const tag = crypto.createHash('sha256').update(`${this.opts?.domainPrefix ?? ''}:${kind}`).digest('hex').slice(0, 8);
    return `${tag}-0000-11ee-f0c4-${n.toString(16).padStart(12, '0')}`;
  }

  private nextVersion(): number {
    this.version += 1 + (this.version % 3);
    return this.version;
  }

  private nowIso(): string {
    return new Date(this.clockMs()).toISOString().replace(/\.\d{3}Z$/, '+00:00');
  }

  // ------------------------------------------------------------------ the Emulator interface

  locations(): string[] {
    return [...this.outletIds];
  }

  seed(products: EmulatorProduct[]): void {
    for (const s of products) {
      let p = this.productBySku(s.sku);
      if (!p) {
        p = { id: this.uuid('product'), sku: s.sku, name: s.title, version: this.nextVersion(), levels: new Map() };
        for (const o of this.outletIds) p.levels.set(o, { id: this.uuid('inventory'), level: 0, version: this.nextVersion() });
        this.products.set(p.id, p);
        this.bySku.set(s.sku, p.id);
      }
      for (const [outlet, level] of Object.entries(s.levels)) {
        const rec = p.levels.get(outlet);
        if (!rec) throw new Error(`The X-Series emulator has no outlet ${outlet}.`);
        rec.level = level;
        rec.version = this.nextVersion();
      }
    }
  }

  private productBySku(sku: string): Product | null {
    const id = this.bySku.get(sku);
    return id ? (this.products.get(id) ?? null) : null;
  }

  level(sku: string, locationId: string): number | null {
    return this.productBySku(sku)?.levels.get(locationId)?.level ?? null;
  }

  listing(sku: string): ListingRef | null {
    const p = this.productBySku(sku);
    return p ? { productId: p.id, variantId: p.id } : null;
  }

  /** A sale at the register (CLOSED unless `status` says otherwise: SAVED parks it, LAYBY and ONACCOUNT take the goods). */
  async sell(sale: { sku: string; quantity: number; locationId?: string; status?: string } & SaleMoney): Promise<{ orderId: string }> {
    const p = this.productBySku(sale.sku);
    if (!p) throw new Error(`The X-Series emulator has no product ${sale.sku}.`);
    const outletId = sale.locationId ?? this.outletIds[0]!;
    const s = this.newSale(outletId, sale.status ?? 'CLOSED', null, [{ id: this.uuid('line'), productId: p.id, quantity: sale.quantity, price: 25 }]);
    this.sendSale(s);
    if (s.status !== 'SAVED') this.moveStock(s, -1);
    return { orderId: s.id };
  }

  /** A return of an earlier sale: a new sale with negative quantities (`return_for`); the goods go back on the shelf, and without restock are then counted off as damaged. */
  async refund(refund: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const orig = this.sales.get(refund.orderId);
    if (!orig) throw new Error(`The X-Series emulator has no sale ${refund.orderId}.`);
    const first = orig.lines.find((l) => l.quantity > 0);
    if (!first) throw new Error(`Sale ${refund.orderId} has nothing to return.`);
    const q = refund.quantity ?? first.quantity;
    const r = this.newSale(orig.outletId, 'CLOSED', orig.id, [{ id: this.uuid('line'), productId: first.productId, quantity: -q, price: first.price }]);
    this.sendSale(r);
    this.moveStock(r, -1);
    if (!refund.restock) {
      // Not fit to sell again: staff count it off at once (an inventory count), as X-Series puts every return back first.
      const p = this.products.get(first.productId)!;
      this.setRecord(p, orig.outletId, p.levels.get(orig.outletId)!.level - q);
    }
    return { refundId: r.id };
  }

  /** An exchange at the register: one sale returning `back` units of one product and selling `out` of another. */
  async exchange(x: { orderId: string; backQuantity: number; outSku: string; outQuantity: number }): Promise<{ saleId: string }> {
    const orig = this.sales.get(x.orderId)!;
    const first = orig.lines.find((l) => l.quantity > 0)!;
    const out = this.productBySku(x.outSku)!;
    const s = this.newSale(orig.outletId, 'CLOSED', orig.id, [
      { id: this.uuid('line'), productId: first.productId, quantity: -x.backQuantity, price: first.price },
      { id: this.uuid('line'), productId: out.id, quantity: x.outQuantity, price: 25 },
    ]);
    this.sendSale(s);
    this.moveStock(s, -1);
    return { saleId: s.id };
  }

  /** Changes a sale's status (a layby paid off, a parked sale closed, a sale voided), moving stock as X-Series does. */
  async setStatus(saleId: string, status: string): Promise<void> {
    const s = this.sales.get(saleId);
    if (!s) throw new Error(`The X-Series emulator has no sale ${saleId}.`);
    const tookStock = s.status !== 'SAVED' && s.status !== 'VOIDED';
    s.status = status;
    s.updatedAt = this.nowIso();
    s.version = this.nextVersion();
    this.sendSale(s);
    if (status === 'VOIDED' && tookStock) this.moveStock(s, +1);
    else if (status !== 'VOIDED' && status !== 'SAVED' && !tookStock) this.moveStock(s, -1);
  }

  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    const p = this.productBySku(change.sku);
    if (!p) throw new Error(`The X-Series emulator has no product ${change.sku}.`);
    this.setRecord(p, change.locationId ?? this.outletIds[0]!, change.available);
  }

  isStockWrite(request: { method: string; path: string }): boolean {
    return request.method === 'PUT' && /^\/api\/2\.1\/products\//.test(request.path);
  }

  selfCheck(): string[] {
    return [...this.problems];
  }

  describeWebhook(body: string): string {
    const fields = new URLSearchParams(body);
    try {
      const p = JSON.parse(fields.get('payload') ?? 'null') as Obj;
      if (fields.get('type') === 'inventory.update') return `${String((p.product as Obj | undefined)?.sku)} @${String(p.outlet_id).slice(-4)} = ${String(p.count)}`;
      const lines = (p.register_sale_products as Obj[]) ?? [];
      return `sale ${String(p.id).slice(-6)} ${String(p.status)}: ${lines.map((l) => `${String(l.sku)}×${String(l.quantity)}`).join(', ')}`;
    } catch {
      return '';
    }
  }

  // ------------------------------------------------------------------ the store

  private newSale(outletId: string, status: string, returnFor: string | null, lines: SaleLine[]): Sale {
    const now = this.nowIso();
    const s: Sale = { id: this.uuid('sale'), outletId, registerId: this.uuid('register', this.outletIds.indexOf(outletId) + 1), status, returnFor, invoice: ++this.invoices, createdAt: now, updatedAt: now, version: this.nextVersion(), lines };
    this.sales.set(s.id, s);
    return s;
  }

  /** Every line's stock moves by `sign` × its quantity (−1: a sale takes, a return's negative line gives back). */
  private moveStock(s: Sale, sign: 1 | -1): void {
    for (const l of s.lines) {
      const p = this.products.get(l.productId)!;
      this.setRecord(p, s.outletId, p.levels.get(s.outletId)!.level + sign * l.quantity);
    }
  }

  private setRecord(p: Product, outletId: string, level: number): void {
    const rec = p.levels.get(outletId);
    if (!rec) throw new Error(`The X-Series emulator has no outlet ${outletId}.`);
    rec.level = level;
    rec.version = this.nextVersion();
    this.queue('inventory.update', this.inventoryV1(p, outletId));
  }

  private saleV1(s: Sale): Obj {
    return {
      id: s.id,
      outlet_id: s.outletId,
      register_id: s.registerId,
      retailer_id: this.retailerId,
      status: s.status,
      invoice_number: String(s.invoice),
      return_for: s.returnFor ?? '',
      sale_date: v1Date(s.createdAt),
      created_at: v1Date(s.createdAt),
      updated_at: v1Date(s.updatedAt),
      register_sale_products: s.lines.map((l, i) => {
        const p = this.products.get(l.productId)!;
        return { id: l.id, product_id: p.id, register_id: s.registerId, sequence: String(i), handle: p.sku, sku: p.sku, name: p.name, quantity: l.quantity, price: l.price, status: 'CONFIRMED' };
      }),
    };
  }

  private sale20(s: Sale): Obj {
    return {
      id: s.id,
      outlet_id: s.outletId,
      register_id: s.registerId,
      status: s.status,
      state: s.status === 'VOIDED' ? 'voided' : s.status === 'SAVED' ? 'parked' : s.status.endsWith('CLOSED') || s.status === 'CLOSED' ? 'closed' : 'pending',
      invoice_number: String(s.invoice),
      return_for: s.returnFor,
      created_at: s.createdAt,
      updated_at: s.updatedAt,
      sale_date: s.createdAt,
      deleted_at: null,
      version: s.version,
      line_items: s.lines.map((l) => ({ id: l.id, product_id: l.productId, quantity: l.quantity, price: l.price, is_return: l.quantity < 0, status: 'CONFIRMED' })),
    };
  }

  private inventoryV1(p: Product, outletId: string): Obj {
    const rec = p.levels.get(outletId)!;
    return { id: rec.id, product_id: p.id, outlet_id: outletId, count: rec.level, reorder_point: '0', restock_level: '0', retailer_id: this.retailerId, product: { id: p.id, sku: p.sku, handle: p.sku, name: p.name } };
  }

  private inventory20(p: Product, outletId: string): Obj {
    const rec = p.levels.get(outletId)!;
    return { id: rec.id, outlet_id: outletId, product_id: p.id, inventory_level: rec.level, current_amount: rec.level, reorder_point: 0, reorder_amount: 0, average_cost: 0, deleted_at: null, version: rec.version };
  }

  private sendSale(s: Sale): void {
    this.queue('sale.update', this.saleV1(s));
  }

  private queue(type: string, payload: Obj): void {
    const body = new URLSearchParams({ type, domain_prefix: this.opts.domainPrefix, environment: 'prod', payload: JSON.stringify(payload) }).toString();
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-signature': `signature=${signXs(body, this.opts.clientSecret)},algorithm=HMAC-SHA256`, 'user-agent': 'Lightspeed Retail (X-Series) webhooks' };
    this.queueWebhook({ topic: type, id: crypto.createHash('sha256').update(body).digest('hex').slice(0, 16), body, headers });
  }

  // ------------------------------------------------------------------ HTTP

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { url, method, body } = await readRequest(req, this.baseUrl);
    this.requests.push({ method, path: url.pathname, body });
    const nowMs = this.clockMs();
    const served = Math.floor(nowMs / 1000) * 1000;
    const send = (status: number, payload: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', date: new Date(served).toUTCString(), ...extra });
      res.end(JSON.stringify(payload));
    };
    const tooMany = (seconds: number) => send(429, { error: 'Too Many Requests', message: 'Rate limiting enforced' }, { 'retry-after': new Date(served + seconds * 1000).toUTCString() });
    const f = this.faults.api;
    const common = await commonApiFault(f);
    if (common === 'hang') return this.hang(res);
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      return tooMany(f.rateLimitNext.retryAfterSeconds);
    }
    if (this.enforce) {
      const admitted = this.limit.admit(nowMs);
      if (!admitted.ok) {
        // Whole seconds from the answer's Date, covering the wait from now.
        const seconds = Math.max(1, Math.ceil((admitted.retryAfterMs + (nowMs - served)) / 1000));
        this.rateLimited.push({ at: nowMs, retryAfterMs: seconds * 1000 - (nowMs - served) });
        return tooMany(seconds);
      }
    }
    const rate = { 'x-ratelimit-limit': String(this.limit.limit.requests), 'x-ratelimit-remaining': String(Math.max(0, this.limit.limit.requests - this.arrivals.filter((a) => a > nowMs - 300_000).length)) };
    if (common === 401) return send(401, { error: 'Unauthorized', message: 'The access token is invalid or has expired.' });
    if (common === 403) return send(403, { error: 'Forbidden', message: 'The token has no access to this resource.' });
    if (common === 404) return send(404, { error: 'Not Found', message: 'The requested URL was not found on this server.' });
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      return send(500, { error: 'Internal Server Error' });
    }
    if (req.headers.authorization !== `Bearer ${this.opts.accessToken}`) return send(401, { error: 'Unauthorized', message: 'The access token is invalid or has expired.' });
    try {
      const got = await this.route(method, url, body, res);
      if (got === 'hang') return;
      send(200, got, rate);
    } catch (err) {
      if (err instanceof XsError) return send(err.status, err.body, rate);
      this.problems.push(`${method} ${url.pathname} failed inside the emulator: ${String(err)}`);
      send(500, { error: 'Internal Server Error' });
    }
  }

  /** A 2.0 collection after `after`, by version, `page_size` at a time (ignorePaging: always the first page). */
  private page(rows: Obj[], url: URL): Obj {
    const after = this.faults.api.ignorePaging ? 0 : Number(url.searchParams.get('after') ?? '0');
    const size = Number(url.searchParams.get('page_size') ?? '100');
    if (!Number.isInteger(after) || after < 0) throw new XsError(400, { error: 'Bad Request', message: 'after must be a non-negative integer' });
    if (!Number.isInteger(size) || size < 1 || size > 200) throw new XsError(400, { error: 'Bad Request', message: 'page_size must be between 1 and 200' });
    const data = rows
      .filter((r) => (r.version as number) > after)
      .sort((a, b) => (a.version as number) - (b.version as number))
      .slice(0, size);
    return { data, version: data.length > 0 ? { min: data[0]!.version, max: data[data.length - 1]!.version } : { min: null, max: null } };
  }

  private async route(method: string, url: URL, body: unknown, res: http.ServerResponse): Promise<unknown> {
    const path = url.pathname;
    const notFound = (what: string) => new XsError(404, { error: 'Entity not found', message: `${what} not found` });
    if (method === 'GET' && path === '/api/2.0/products') {
      return this.page([...this.products.values()].map((p) => ({ id: p.id, sku: p.sku, name: p.name, variant_name: p.name, handle: p.sku, is_active: true, has_inventory: true, deleted_at: null, version: p.version })), url);
    }
    if (method === 'GET' && path === '/api/2.0/sales') return this.page([...this.sales.values()].map((s) => this.sale20(s)), url);
    if (method === 'GET' && path === '/api/2.0/inventory') return this.page([...this.products.values()].flatMap((p) => this.outletIds.map((o) => this.inventory20(p, o))), url);
    let m = /^\/api\/2\.0\/products\/([^/]+)\/inventory$/.exec(path);
    if (method === 'GET' && m) {
      const p = this.products.get(decodeURIComponent(m[1]!));
      if (!p) throw notFound(`Product ${m[1]}`);
      return { data: this.outletIds.map((o) => this.inventory20(p, o)) };
    }
    m = /^\/api\/2\.1\/products\/([^/]+)$/.exec(path);
    if (method === 'PUT' && m) {
      const p = this.products.get(decodeURIComponent(m[1]!));
      if (!p || this.faults.api.refuseSku === p.sku) throw notFound(`Product ${m[1]}`);
      const inv = (body as { details?: { inventory?: unknown } } | null)?.details?.inventory;
      if (!Array.isArray(inv) || inv.length === 0) {
        this.problems.push(`PUT ${path} without details.inventory: the connector sent ${JSON.stringify(body).slice(0, 200)}.`);
        throw new XsError(422, { error: 'Unprocessable Entity', message: 'details.inventory is required' });
      }
      const changes: [string, number][] = [];
      for (const e of inv as Obj[]) {
        const outlet = typeof e.outlet_id === 'string' ? e.outlet_id : '';
        if (!p.levels.has(outlet)) throw new XsError(422, { error: 'Unprocessable Entity', message: `outlet_id ${outlet} is not an outlet of this retailer` });
        if (typeof e.current_amount !== 'number' || !Number.isFinite(e.current_amount)) throw new XsError(422, { error: 'Unprocessable Entity', message: 'current_amount must be a number' });
        changes.push([outlet, e.current_amount]);
      }
      for (const [outlet, amount] of changes) this.setRecord(p, outlet, amount);
      this.stockWritten([p.sku]);
      const f = this.faults.api;
      if (f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
        f.loseWriteAnswerNext--;
        await this.hang(res);
        return 'hang';
      }
      return { data: { id: p.id, sku: p.sku, name: p.name, version: p.version } };
    }
    throw new XsError(404, { error: 'Not Found', message: 'The requested URL was not found on this server.' });
  }
}
