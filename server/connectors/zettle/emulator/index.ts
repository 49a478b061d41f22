/**
 * A Zettle organisation as a real HTTP server on 127.0.0.1, for tests and the sandbox. It serves,
 * on one address, what Zettle serves on four hosts:
 * - oauth.zettle.com `POST /token`: the assertion grant (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`,
 *   `client_id`, the API key as `assertion`), answering `{access_token, expires_in: 7200}`; a key
 *   the owner revoked is `invalid_grant` (the kit's OAuthEmulator does the work);
 * - inventory.izettle.com: `GET /organizations/self/locations` (STORE, SUPPLIER, BIN, SOLD),
 *   `GET /organizations/self/inventory/locations/{uuid}` (the variants with a balance other than 0),
 *   `PUT /organizations/self/inventory` (moves between locations, positive amounts only, all or
 *   nothing, answering the balances of `returnBalanceForLocationUuid` after the move);
 * - products.izettle.com `GET /organizations/self/products/v2` (paged with `limit` and a `cursor`
 *   in a `Link: <…>; rel="next"` header, as Inventory V3 pages);
 * - purchase.izettle.com `GET /purchases/v2` (`lastPurchaseHash`, `startDate`, `limit`, `descending`).
 * Every API request needs a bearer token the token endpoint issued. Errors are `{errorType,
 * developerMessage}`. The rate limit, when asked for, is Inventory V3's 4 requests a second (429, no
 * Retry-After). Token requests are another service's and count in neither.
 *
 * Things happen as in the Zettle app: `sell` is a purchase (STORE → SOLD) and sends `PurchaseCreated`
 * and `InventoryBalanceChanged`; `refund` is a purchase with negative quantities referring to the
 * original; with "Return item to inventory" the goods go back (SOLD → STORE, the line naming both
 * locations, and a balance change), without it the line names no location and nothing moves;
 * `exchange` is one purchase that takes goods back and sells others; `setLevel` is a count typed in
 * the app (a move of the difference) and every move through the API sends `InventoryBalanceChanged`.
 * Pusher messages are `{organizationUuid, messageUuid, eventName, messageId, payload: "<JSON>",
 * timestamp}`, signed hex HMAC-SHA256(signing key, `<timestamp>.<payload>`) in `X-iZettle-Signature`,
 * retried when not answered 2xx.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import { commonApiFault, LoopbackEmulator, readJsonBody, WebhookSender, WindowCounter, type ApiFaults, type Emulator, type EmulatorProduct, type RequestWindow, type SaleMoney, type WebhookFaults } from '../../emulator';
import { OAuthEmulator } from '../../kit/oauth-emulator';
import type { ListingRef } from '../../types';
import { PATHS, SIGNATURE_HEADER, signPusher } from '../wire';
import { ApiError, hashOf, purchaseEvent, purchaseHistory, v1uuid, type Json, type Purchase, type PurchaseLine, type Variant } from './model';


/** Inventory V3's published default: 4 requests a second. */
export const ZETTLE_LIMIT: RequestWindow = { requests: 4, windowMs: 1000 };

export interface ZettleEmulatorOptions {
  clientId: string;
  apiKey: string;
  signingKey: string;
  organizationUuid: string;
  /** The STORE location's uuid (random when not given). */
  storeUuid?: string;
  /** Products and purchases a page (default 100). */
  pageSize?: number;
  rateLimit?: RequestWindow;
  clock?: () => number;
  random?: () => number;
  currency?: string;
}

export class ZettleEmulator extends LoopbackEmulator implements Emulator {
  readonly platform = 'zettle';
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  readonly requests: { method: string; path: string; body: unknown; query?: string }[] = [];
  readonly internalErrors: string[] = [];
  protected readonly webhooks: WebhookSender;
  readonly oauth: OAuthEmulator;
  readonly organizationUuid: string;
  readonly loc: { store: string; supplier: string; bin: string; sold: string };
  private readonly variants = new Map<string, Variant>();
  private readonly bySku = new Map<string, string>();
  private readonly balance = new Map<string, number>();
  private readonly purchases: Purchase[] = [];
  private readonly limit: WindowCounter | null;
  private readonly pageSize: number;
  private seq = 0;
  private purchaseNumber = 0;
  private lastAt = 0;

  constructor(private readonly opts: ZettleEmulatorOptions) {
    super();
    this.organizationUuid = opts.organizationUuid;
    this.loc = { store: opts.storeUuid ?? v1uuid(), supplier: v1uuid(), bin: v1uuid(), sold: v1uuid() };
    this.oauth = new OAuthEmulator({ clients: [{ clientId: opts.clientId, assertions: [opts.apiKey] }], accessTokenTtlSeconds: 7200, bareAssertionAnswers: true });
    this.webhooks = new WebhookSender({ url: () => this.webhookUrl, faults: () => this.faults.webhooks, random: opts.random ?? Math.random, attempts: 3 });
    this.limit = opts.rateLimit ? new WindowCounter(opts.rateLimit) : null;
    this.pageSize = opts.pageSize ?? 100;
    if (opts.clock) this.clockMs = opts.clock;
  }

  // ------------------------------------------------------------------ the Emulator interface

  locations(): string[] {
    return [this.loc.store];
  }

  listing(sku: string): ListingRef | null {
    const v = this.variants.get(this.bySku.get(sku) ?? '');
    return v ? { productId: v.productUuid, variantId: v.variantUuid } : null;
  }

  level(sku: string, locationId: string): number | null {
    const id = this.bySku.get(sku);
    if (!id || locationId !== this.loc.store) return null;
    return this.balance.get(id) ?? 0;
  }

  seed(products: EmulatorProduct[]): void {
    for (const p of products) {
      let id = this.bySku.get(p.sku);
      if (!id) {
        id = v1uuid();
        this.variants.set(id, { productUuid: v1uuid(), variantUuid: id, sku: p.sku, name: p.title, price: p.price ?? 2500 });
        this.bySku.set(p.sku, id);
      }
      this.balance.set(id, p.levels[this.loc.store] ?? Object.values(p.levels)[0] ?? 0);
    }
  }

  isStockWrite(request: { method: string; path: string; body: unknown }): boolean {
    return request.method === 'PUT' && request.path === PATHS.inventory;
  }

  selfCheck(): string[] {
    return this.internalErrors.slice(0, 3).map((e) => `Zettle emulator error: ${e}`);
  }

  describeWebhook(body: string): string {
    try {
      const m = JSON.parse(body) as Json;
      const p = JSON.parse(String(m.payload)) as Json;
      if (m.eventName === 'InventoryBalanceChanged') return `balance ${(p.balanceAfter as Json[]).map((b) => b.balance).join(',')}`;
      if (m.eventName === 'PurchaseCreated') return `purchase ${String(p.purchaseUuid).slice(0, 8)} ${(p.products as Json[]).map((l) => l.quantity).join(',')}`;
    } catch {
      /* nothing to say */
    }
    return '';
  }

  /** The account owner revokes the API key: tokens stop working and the key gets no new ones. */
  revokeApiKey(): void {
    this.oauth.revokeAssertion(this.opts.apiKey);
  }

  // ------------------------------------------------------------------ what happens in the Zettle app

  private variantOf(sku: string): Variant {
    const v = this.variants.get(this.bySku.get(sku) ?? '');
    if (!v) throw new Error(`The Zettle emulator has no product with SKU ${sku}.`);
    return v;
  }

  private now(): number {
    this.lastAt = Math.max(Date.now(), this.lastAt + 1);
    return this.lastAt;
  }

  async sell(sale: { sku: string; quantity: number; locationId?: string } & SaleMoney): Promise<{ orderId: string }> {
    if (sale.locationId !== undefined && sale.locationId !== this.loc.store) throw new Error(`Zettle sells only from its STORE location ${this.loc.store}.`);
    const v = this.variantOf(sale.sku);
    const before = this.snapshot([v.variantUuid]);
    this.balance.set(v.variantUuid, (this.balance.get(v.variantUuid) ?? 0) - sale.quantity);
    const p = this.record([{ productUuid: v.productUuid, variantUuid: v.variantUuid, quantity: sale.quantity, unitPrice: v.price, name: v.name, from: this.loc.store, to: this.loc.sold }], null);
    this.sendPurchase(p);
    this.sendBalances(before, null);
    return { orderId: p.uuid };
  }

  /** Units of the original's line still not refunded. */
  private unrefunded(original: Purchase, variantUuid: string): number {
    const sold = original.lines.filter((l) => l.variantUuid === variantUuid && l.quantity > 0).reduce((a, l) => a + l.quantity, 0);
    const back = this.purchases.filter((p) => p.refundOf === original.uuid).flatMap((p) => p.lines).filter((l) => l.variantUuid === variantUuid && l.quantity < 0).reduce((a, l) => a - l.quantity, 0);
    return sold - back;
  }

  async refund(refund: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const original = this.purchases.find((p) => p.uuid === refund.orderId && p.refundOf === null);
    if (!original) throw new Error(`The Zettle emulator has no purchase ${refund.orderId}.`);
    const line = original.lines.find((l) => l.quantity > 0)!;
    const q = refund.quantity ?? this.unrefunded(original, line.variantUuid);
    if (q <= 0 || q > this.unrefunded(original, line.variantUuid)) throw new Error(`Purchase ${refund.orderId} has not ${q} units left to refund.`);
    const before = this.snapshot([line.variantUuid]);
    if (refund.restock) this.balance.set(line.variantUuid, (this.balance.get(line.variantUuid) ?? 0) + q);
    const p = this.record([{ ...line, quantity: -q, from: refund.restock ? this.loc.sold : null, to: refund.restock ? this.loc.store : null }], original.uuid);
    original.refundedBy.push(p.uuid);
    this.sendPurchase(p);
    if (refund.restock) this.sendBalances(before, null);
    return { refundId: p.uuid };
  }

  /** An exchange at the counter: `back` units of the original come back (restocked or not), `quantity` of `sku` go out, in one purchase. */
  async exchange(x: { orderId: string; back: number; restock: boolean; sku: string; quantity: number }): Promise<{ purchaseId: string }> {
    const original = this.purchases.find((p) => p.uuid === x.orderId && p.refundOf === null);
    if (!original) throw new Error(`The Zettle emulator has no purchase ${x.orderId}.`);
    const line = original.lines.find((l) => l.quantity > 0)!;
    const out = this.variantOf(x.sku);
    const before = this.snapshot([line.variantUuid, out.variantUuid]);
    if (x.restock) this.balance.set(line.variantUuid, (this.balance.get(line.variantUuid) ?? 0) + x.back);
    this.balance.set(out.variantUuid, (this.balance.get(out.variantUuid) ?? 0) - x.quantity);
    const p = this.record(
      [
        { ...line, quantity: -x.back, from: x.restock ? this.loc.sold : null, to: x.restock ? this.loc.store : null },
        { productUuid: out.productUuid, variantUuid: out.variantUuid, quantity: x.quantity, unitPrice: out.price, name: out.name, from: this.loc.store, to: this.loc.sold },
      ],
      original.uuid,
    );
    original.refundedBy.push(p.uuid);
    this.sendPurchase(p);
    this.sendBalances(before, null);
    return { purchaseId: p.uuid };
  }

  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    if (change.locationId !== undefined && change.locationId !== this.loc.store) throw new Error(`Zettle keeps stock only at its STORE location ${this.loc.store}.`);
    const v = this.variantOf(change.sku);
    const before = this.snapshot([v.variantUuid]);
    this.balance.set(v.variantUuid, change.available);
    this.sendBalances(before, null);
  }

  private record(lines: PurchaseLine[], refundOf: string | null): Purchase {
    const p: Purchase = { uuid: v1uuid(), at: this.now(), seq: ++this.seq, number: ++this.purchaseNumber, lines, refundOf, refundedBy: [] };
    this.purchases.push(p);
    return p;
  }

  private snapshot(ids: string[]): Map<string, number> {
    return new Map([...new Set(ids)].map((id) => [id, this.balance.get(id) ?? 0]));
  }

  // ------------------------------------------------------------------ wire shapes

  private message(eventName: string, payload: Json): void {
    const body: Json = { organizationUuid: this.organizationUuid, messageUuid: v1uuid(), eventName, messageId: crypto.randomUUID(), payload: JSON.stringify(payload), timestamp: new Date(this.now()).toISOString() };
    const signature = signPusher(this.opts.signingKey, body.timestamp as string, body.payload as string);
    this.queueWebhook({ topic: eventName, id: body.messageUuid as string, body: JSON.stringify(body), headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signature } });
  }

  private sendPurchase(p: Purchase): void {
    this.message('PurchaseCreated', purchaseEvent(p, this.organizationUuid, this.opts.currency ?? 'AUD'));
  }

  /** InventoryBalanceChanged for the variants of `before` whose balance changed (externalUuid of the move, when one was given). */
  private sendBalances(before: Map<string, number>, externalUuid: string | null): void {
    const changed = [...before].filter(([id, b]) => (this.balance.get(id) ?? 0) !== b);
    if (changed.length === 0) return;
    const entry = (id: string, balance: number) => ({ organizationUuid: this.organizationUuid, locationUuid: this.loc.store, productUuid: this.variants.get(id)!.productUuid, variantUuid: id, balance: String(balance) });
    this.message('InventoryBalanceChanged', {
      organizationUuid: this.organizationUuid,
      ...(externalUuid ? { externalUuid } : {}),
      balanceBefore: changed.map(([id, b]) => entry(id, b)),
      balanceAfter: changed.map(([id]) => entry(id, this.balance.get(id) ?? 0)),
    });
  }

  // ------------------------------------------------------------------ HTTP

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === PATHS.token || url.pathname === '/authorize') {
      // oauth.zettle.com is another service: its requests count in neither the API's log nor its rate limit.
      this.arrivals.pop();
      return this.oauth.handle(req, res);
    }
    const method = req.method ?? 'GET';
    const { body, json } = await readJsonBody(req);
    this.requests.push({ method, path: url.pathname, body, query: url.search });
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    const error = (status: number, errorType: string, developerMessage: string, headers: Record<string, string> = {}) => send(status, { errorType, developerMessage }, headers);
    try {
      const f = this.faults.api;
      const fault = await commonApiFault(f);
      if (fault === 'hang') return this.hang(res);
      if (fault === 401) return error(401, 'UNAUTHORIZED', 'The access token is not valid.');
      if (fault === 403) return error(403, 'FORBIDDEN', 'The access token lacks the scope WRITE:PRODUCT.');
      if (fault === 404) return error(404, 'NOT_FOUND', 'Not found.');
      const bearer = this.oauth.checkBearer(req.headers.authorization);
      if (!bearer.ok) return error(401, 'UNAUTHORIZED', bearer.description, { 'www-authenticate': `Bearer error="${bearer.error}"` });
      if (f.failNext && f.failNext > 0) {
        f.failNext--;
        return error(500, 'INTERNAL_ERROR', 'Something went wrong.');
      }
      if (f.rateLimitNext && f.rateLimitNext.count > 0) {
        f.rateLimitNext.count--;
        return error(429, 'TOO_MANY_REQUESTS', 'Rate limit exceeded.', { 'retry-after': String(f.rateLimitNext.retryAfterSeconds) });
      }
      if (this.limit) {
        const at = this.clockMs();
        const admitted = this.limit.admit(at);
        if (!admitted.ok) {
          this.rateLimited.push({ at, retryAfterMs: null });
          return error(429, 'TOO_MANY_REQUESTS', 'Rate limit exceeded.');
        }
      }
      if (!json) return error(400, 'INVALID_REQUEST', 'The body is not JSON.');
      const answer = this.route(method, url, body);
      if (answer === 'hang') return this.hang(res);
      return send(answer.status, answer.payload, answer.headers);
    } catch (err) {
      if (err instanceof ApiError) return error(err.status, err.errorType, err.message);
      this.internalErrors.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
      return error(500, 'INTERNAL_ERROR', 'Something went wrong.');
    }
  }

  private route(method: string, url: URL, body: unknown): 'hang' | { status: number; payload: unknown; headers?: Record<string, string> } {
    const path = url.pathname;
    if (method === 'GET' && path === PATHS.locations) {
      const l = this.loc;
      return {
        status: 200,
        payload: [
          { uuid: l.store, type: 'STORE', name: 'STORE', description: 'Default store', default: true },
          { uuid: l.supplier, type: 'SUPPLIER', name: 'SUPPLIER', description: 'Default supplier', default: true },
          { uuid: l.bin, type: 'BIN', name: 'BIN', description: 'Default bin', default: true },
          { uuid: l.sold, type: 'SOLD', name: 'SOLD', description: 'Default sold', default: true },
        ],
      };
    }
    if (method === 'GET' && path.startsWith(`${PATHS.balances}/`)) {
      const location = decodeURIComponent(path.slice(PATHS.balances.length + 1));
      if (location !== this.loc.store) throw new ApiError(404, 'LOCATION_NOT_FOUND', `No tracked location ${location}.`);
      const variants = [...this.balance].filter(([, b]) => b !== 0).map(([id, b]) => this.balanceJson(id, b));
      return { status: 200, payload: { locationUuid: location, variants } };
    }
    if (method === 'PUT' && path === PATHS.inventory) return this.move(body);
    if (method === 'GET' && path === PATHS.products) return this.productPage(url.searchParams);
    if (method === 'GET' && path === PATHS.purchases) return { status: 200, payload: this.purchasePage(url.searchParams) };
    throw new ApiError(404, 'NOT_FOUND', `No route ${method} ${path}.`);
  }

  private balanceJson(id: string, b: number): Json {
    return { locationUuid: this.loc.store, productUuid: this.variants.get(id)!.productUuid, variantUuid: id, balance: String(b) };
  }

  /** PUT /organizations/self/inventory: every change checked first, then all applied. */
  private move(body: unknown): 'hang' | { status: number; payload: unknown } {
    const f = this.faults.api;
    const b = (typeof body === 'object' && body !== null ? body : {}) as Json;
    if (!Array.isArray(b.changes) || b.changes.length === 0) throw new ApiError(400, 'INVALID_REQUEST', 'changes must be a non-empty list.');
    const locations = new Set(Object.values(this.loc));
    const planned: { id: string; delta: number }[] = [];
    for (const [i, c] of (b.changes as unknown[]).entries()) {
      const ch = (typeof c === 'object' && c !== null ? c : {}) as Json;
      const v = this.variants.get(String(ch.variantUuid));
      if (!v || v.productUuid !== ch.productUuid) throw new ApiError(400, 'PRODUCT_NOT_TRACKED', `changes[${i}]: product ${String(ch.productUuid)} variant ${String(ch.variantUuid)} is not tracked.`);
      if (f.refuseSku && v.sku === f.refuseSku) throw new ApiError(400, 'PRODUCT_NOT_TRACKED', `changes[${i}]: product ${v.productUuid} is no longer tracked.`);
      const amount = typeof ch.change === 'number' ? ch.change : typeof ch.change === 'string' && /^\d+$/.test(ch.change) ? Number(ch.change) : NaN;
      if (!Number.isInteger(amount) || amount <= 0) throw new ApiError(400, 'INVALID_CHANGE', `changes[${i}]: change must be a positive whole number.`);
      const from = String(ch.fromLocationUuid);
      const to = String(ch.toLocationUuid);
      if (!locations.has(from) || !locations.has(to) || from === to) throw new ApiError(400, 'INVALID_LOCATION', `changes[${i}]: fromLocationUuid and toLocationUuid must be two of the organisation's locations.`);
      const delta = (to === this.loc.store ? amount : 0) - (from === this.loc.store ? amount : 0);
      planned.push({ id: v.variantUuid, delta });
    }
    const back = b.returnBalanceForLocationUuid === undefined ? this.loc.store : String(b.returnBalanceForLocationUuid);
    const before = this.snapshot(planned.map((p) => p.id));
    for (const p of planned) this.balance.set(p.id, (this.balance.get(p.id) ?? 0) + p.delta);
    this.sendBalances(before, typeof b.externalUuid === 'string' ? b.externalUuid : null);
    this.stockWritten(planned.map((p) => this.variants.get(p.id)!.sku));
    if (f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
      f.loseWriteAnswerNext--;
      return 'hang';
    }
    const variants = back === this.loc.store ? [...before.keys()].map((id) => this.balanceJson(id, this.balance.get(id) ?? 0)) : [];
    return { status: 200, payload: { locationUuid: back, variants } };
  }

  private productPage(q: URLSearchParams): { status: number; payload: unknown; headers?: Record<string, string> } {
    const limit = Math.min(Math.max(Number(q.get('limit') ?? this.pageSize) || this.pageSize, 1), this.pageSize);
    const all = [...this.variants.values()];
    const start = this.faults.api.ignorePaging ? 0 : Math.max(0, all.findIndex((v) => v.productUuid === q.get('cursor')) + (q.get('cursor') ? 1 : 0));
    const page = all.slice(start, start + limit);
    const more = this.faults.api.ignorePaging ? all.length > limit : start + limit < all.length;
    const headers: Record<string, string> = more ? { link: `<${this.baseUrl}${PATHS.products}?cursor=${page[page.length - 1]!.productUuid}&limit=${limit}>; rel="next"` } : {};
    const payload = page.map((v) => ({ uuid: v.productUuid, organizationUuid: this.organizationUuid, name: v.name, variants: [{ uuid: v.variantUuid, name: '', sku: v.sku, price: { amount: v.price, currencyId: this.opts.currency ?? 'AUD' } }] }));
    return { status: 200, payload, headers };
  }

  private purchasePage(q: URLSearchParams): Json {
    const limit = Math.min(Math.max(Number(q.get('limit') ?? 1000) || 1000, 1), 1000);
    const descending = q.get('descending') === 'true';
    let list = [...this.purchases];
    const start = q.get('startDate');
    if (start) {
      const t = Date.parse(start);
      if (!Number.isFinite(t)) throw new ApiError(400, 'INVALID_REQUEST', 'startDate is not a date.');
      list = list.filter((p) => p.at >= t);
    }
    if (descending) list.reverse();
    const hash = q.get('lastPurchaseHash');
    if (hash) {
      const i = list.findIndex((p) => hashOf(p) === hash);
      if (i < 0) throw new ApiError(400, 'INVALID_REQUEST', 'lastPurchaseHash is not known.');
      list = list.slice(i + 1);
    }
    const page = list.slice(0, limit);
    const out: Json = { purchases: page.map((p) => purchaseHistory(p, this.opts.currency ?? 'AUD')), linkUrls: [] as string[] };
    if (page.length > 0) {
      out.firstPurchaseHash = hashOf(page[0]!);
      out.lastPurchaseHash = hashOf(page[page.length - 1]!);
      if (list.length > limit) out.linkUrls = [`<${this.baseUrl}${PATHS.purchases}?limit=${limit}&descending=${descending}&lastPurchaseHash=${out.lastPurchaseHash as string}>; rel="next"`];
    }
    return out;
  }
}
