/**
 * A Lightspeed Retail (R-Series) account's API V3 as a real HTTP server on 127.0.0.1, for tests and
 * the sandbox:
 * - auth: `Authorization: Bearer <token>`: the account's own token, or one its OAuth server issued
 *   (the kit's OAuth emulator at `/auth/oauth/authorize` and `/auth/oauth/token`, rotating refresh
 *   tokens, when `oauth` is given); otherwise 401; another account's path answers 403;
 * - the leaky bucket of every account: a GET pours 1 unit, a PUT, POST or DELETE 10; it drains
 *   `drip` units a second; every answer says `X-LS-API-Bucket-Level: used/size` and
 *   `X-LS-API-Drip-Rate`; with `bucket` given (the documented 60 and 1/s) a request that would
 *   overflow it is answered 429 and costs nothing;
 * - GET `Item`, `Item/{id}`, `ItemShop`, `Sale`, `Sale/{id}`, `SaleLine`, `Shop` (model.ts: filters,
 *   sort, relations, `next` pages); PUT `Item/{id}` with `ItemShops.ItemShop[]` (each naming its
 *   `itemShopID` or `shopID`; `qoh` absolute), `publishToEcom` and `archived`; any other write 405;
 * - errors as `{"httpCode","httpMessage","message","errorClass"}`.
 * What happens at the counter: a sale completed takes its lines from the shop's qoh; a return (a
 * sale with negative lines, each naming the line it returns) puts them back; a void of a completed
 * sale reverses its lines; a refund of money alone moves nothing and shows in no sale; a count or
 * edit sets qoh. Every change moves the record's `timeStamp`. No webhooks: R-Series sends none.
 */
import http from 'node:http';
import { commonApiFault, LoopbackEmulator, WebhookSender, type ApiFaults, type Emulator, type EmulatorProduct, type SaleMoney, type WebhookFaults } from '../../emulator';
import { OAuthEmulator } from '../../kit/oauth-emulator';
import { errorBody, listAnswer, LsApiError, relationsOf, render, type Json, type LsItem, type LsItemShop, type LsSale, type LsSaleLine } from './model';

export { type LsItem } from './model';

/** The documented bucket: 60 units, 1 a second (community.lightspeedhq.com, "Best Practices"). */
export const LS_BUCKET = { size: 60, drip: 1 };
const WRITE_COST = 10;
const OAUTH_PATHS = { authorize: '/auth/oauth/authorize', token: '/auth/oauth/token' };

export interface LsEmulatorOptions {
  accountId: string;
  /** The token the account accepts besides those its OAuth server issues. */
  accessToken: string;
  /** The shops (shopID), in order; default "1" and "2". */
  shops?: readonly string[];
  /** Enforce the leaky bucket (answer 429 when full); absent: counted and reported, never refused. */
  bucket?: { size: number; drip: number };
  /** The bucket reported (not enforced) when `bucket` is absent; default the documented 60, 1 a second. */
  bucketReported?: { size: number; drip: number };
  /** The app registered with the account's OAuth server. */
  oauth?: { clientId: string; clientSecret: string; redirectUris?: string[] };
  clock?: () => number;
}

export class LsEmulator extends LoopbackEmulator implements Emulator {
  readonly platform = 'lightspeed-r';
  readonly requests: { method: string; path: string; body: unknown; query: string }[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  readonly oauthServer: OAuthEmulator | null;
  /** What the emulator itself found wrong (requests outside what the API documents, its own errors). */
  private readonly problems: string[] = [];
  protected readonly webhooks = new WebhookSender({ url: () => null, faults: () => this.faults.webhooks, random: Math.random, attempts: 1 });
  private readonly items = new Map<number, LsItem>();
  private readonly sales = new Map<number, LsSale>();
  private readonly shopIds: string[];
  private readonly bucketLimit: { size: number; drip: number } | null;
  private readonly bucketShape: { size: number; drip: number };
  private bucket = { level: 0, at: 0 };
  private next = { item: 1, itemShop: 1, sale: 1, line: 1, refund: 1 };

  constructor(private readonly opts: LsEmulatorOptions) {
    super();
    if (opts.clock) this.clockMs = opts.clock;
    this.shopIds = [...(opts.shops && opts.shops.length > 0 ? opts.shops : ['1', '2'])];
    this.bucketLimit = opts.bucket ?? null;
    this.bucketShape = opts.bucket ?? opts.bucketReported ?? LS_BUCKET;
    this.oauthServer = opts.oauth ? new OAuthEmulator({ clients: [{ clientId: opts.oauth.clientId, clientSecret: opts.oauth.clientSecret, ...(opts.oauth.redirectUris ? { redirectUris: opts.oauth.redirectUris } : {}) }], paths: OAUTH_PATHS, accessTokenTtlSeconds: 3600, rotateRefreshTokens: true, defaultScope: 'employee:inventory employee:register_read' }) : null;
  }

  override async start(port = 0): Promise<string> {
    await this.oauthServer?.start();
    return super.start(port);
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.oauthServer?.stop();
  }

  // ------------------------------------------------------------------ the Emulator interface

  locations(): string[] {
    return [...this.shopIds];
  }

  private itemOf(sku: string): LsItem | null {
    return [...this.items.values()].find((i) => i.customSku === sku) ?? null;
  }

  item(sku: string): LsItem | null {
    return this.itemOf(sku);
  }

  listing(sku: string): { productId: string; variantId: string } | null {
    const i = this.itemOf(sku);
    return i ? { productId: String(i.itemID), variantId: String(i.itemID) } : null;
  }

  level(sku: string, locationId: string): number | null {
    return this.itemOf(sku)?.shops.get(locationId)?.qoh ?? null;
  }

  seed(products: EmulatorProduct[]): void {
    const now = this.clockMs();
    for (const p of products) {
      let i = this.itemOf(p.sku);
      if (!i) {
        i = { itemID: this.next.item++, customSku: p.sku, description: p.title, archived: false, publishToEcom: true, timeStamp: now, shops: new Map(), summaryID: this.next.itemShop++ };
        for (const shopID of this.shopIds) i.shops.set(shopID, { itemShopID: this.next.itemShop++, shopID, qoh: 0, timeStamp: now });
        this.items.set(i.itemID, i);
      }
      for (const [shopID, qoh] of Object.entries(p.levels)) {
        const x = i.shops.get(shopID);
        if (x) x.qoh = qoh;
      }
    }
  }

  private shopFor(locationId?: string): string {
    const shop = locationId ?? this.shopIds[0]!;
    if (!this.shopIds.includes(shop)) throw new Error(`The Lightspeed emulator has no shop ${shop}.`);
    return shop;
  }

  /** Moves one shop's qoh of an item, and its time stamps. */
  private move(i: LsItem, shopID: string, delta: number): void {
    const x = i.shops.get(shopID)!;
    x.qoh += delta;
    x.timeStamp = this.clockMs();
    i.timeStamp = x.timeStamp;
  }

  /** A sale completed at the register: one line per SKU sold (negative quantities: returned without a receipt). */
  async sell(sale: { sku: string; quantity: number; locationId?: string } & SaleMoney): Promise<{ orderId: string }> {
    const i = this.itemOf(sale.sku);
    if (!i) throw new Error(`The Lightspeed emulator has no item ${sale.sku}.`);
    const shopID = this.shopFor(sale.locationId);
    const s = this.newSale(shopID, [{ item: i, quantity: sale.quantity, parent: 0 }]);
    return { orderId: String(s.saleID) };
  }

  private newSale(shopID: string, lines: { item: LsItem; quantity: number; parent: number }[], completed = true): LsSale {
    const now = this.clockMs();
    const saleID = this.next.sale++;
    const s: LsSale = { saleID, shopID, completed, voided: false, timeStamp: now, completeTime: now, lines: [] };
    for (const l of lines) {
      s.lines.push({ saleLineID: this.next.line++, saleID, itemID: l.item.itemID, unitQuantity: l.quantity, parentSaleLineID: l.parent, shopID, timeStamp: now });
      if (completed) this.move(l.item, shopID, -l.quantity);
    }
    this.sales.set(saleID, s);
    return s;
  }

  /**
   * A refund of an earlier sale: with restock, a return (a sale whose line returns units of the
   * original line, which go back to the shop); without, a refund of money alone (Financial
   * Services), which moves no stock and shows in no sale.
   */
  async refund(refund: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const original = this.sales.get(Number(refund.orderId));
    if (!original) throw new Error(`The Lightspeed emulator has no sale ${refund.orderId}.`);
    if (!refund.restock) return { refundId: `payment-refund-${this.next.refund++}` };
    const line = original.lines.find((l) => l.unitQuantity > 0)!;
    const item = this.items.get(line.itemID)!;
    const s = this.newSale(original.shopID, [{ item, quantity: -(refund.quantity ?? line.unitQuantity), parent: line.saleLineID }]);
    return { refundId: String(s.saleID) };
  }

  /** An exchange at the register: the returned line of an earlier sale and a new item sold, in one sale. */
  async exchange(x: { orderId: string; quantity: number; sku: string }): Promise<{ saleId: string }> {
    const original = this.sales.get(Number(x.orderId))!;
    const line = original.lines.find((l) => l.unitQuantity > 0)!;
    const back = this.items.get(line.itemID)!;
    const out = this.itemOf(x.sku)!;
    const s = this.newSale(original.shopID, [
      { item: back, quantity: -x.quantity, parent: line.saleLineID },
      { item: out, quantity: x.quantity, parent: 0 },
    ]);
    return { saleId: String(s.saleID) };
  }

  /** A sale left open at the register (a quote, a layaway): moves nothing until completed. */
  async open(sale: { sku: string; quantity: number; locationId?: string }): Promise<{ saleId: string }> {
    const s = this.newSale(this.shopFor(sale.locationId), [{ item: this.itemOf(sale.sku)!, quantity: sale.quantity, parent: 0 }], false);
    return { saleId: String(s.saleID) };
  }

  /** Completes an open sale: its lines leave the shop now. */
  async complete(saleId: string): Promise<void> {
    const s = this.sales.get(Number(saleId))!;
    if (s.completed) return;
    s.completed = true;
    s.timeStamp = s.completeTime = this.clockMs();
    for (const l of s.lines) this.move(this.items.get(l.itemID)!, s.shopID, -l.unitQuantity);
  }

  /** Voids a sale: a completed one's lines are reversed (sold units back, returned units out again). */
  async void(saleId: string): Promise<void> {
    const s = this.sales.get(Number(saleId))!;
    if (s.voided) return;
    s.voided = true;
    s.timeStamp = this.clockMs();
    if (s.completed) for (const l of s.lines) this.move(this.items.get(l.itemID)!, s.shopID, l.unitQuantity);
  }

  /** A count or an edit of qoh typed in Lightspeed. */
  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    const i = this.itemOf(change.sku);
    if (!i) throw new Error(`The Lightspeed emulator has no item ${change.sku}.`);
    const shopID = this.shopFor(change.locationId);
    this.move(i, shopID, change.available - i.shops.get(shopID)!.qoh);
  }

  isStockWrite(request: { method: string; path: string; body: unknown }): boolean {
    const b = request.body as { ItemShops?: unknown } | null;
    return request.method === 'PUT' && /\/Item\/\d+\.json$/.test(request.path) && typeof b === 'object' && b !== null && b.ItemShops !== undefined;
  }

  selfCheck(): string[] {
    return [...this.problems];
  }

  describeWebhook(): string {
    return '';
  }

  // ------------------------------------------------------------------ HTTP

  /** The bucket as it stands now (units used), drained since it was last looked at. */
  private drain(): number {
    const now = this.clockMs();
    const drip = this.bucketShape.drip;
    if (now > this.bucket.at) {
      this.bucket.level = Math.max(0, this.bucket.level - ((now - this.bucket.at) / 1000) * drip);
      this.bucket.at = now;
    }
    return this.bucket.level;
  }

  private bucketHeaders(): Record<string, string> {
    return { 'x-ls-api-bucket-level': `${Math.ceil(this.drain() * 100) / 100}/${this.bucketShape.size}`, 'x-ls-api-drip-rate': String(this.bucketShape.drip) };
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (this.oauthServer && (path === OAUTH_PATHS.token || path === OAUTH_PATHS.authorize)) {
      // The OAuth server is another host (cloud.lightspeedapp.com): not the API, not its bucket.
      this.arrivals.pop();
      return this.oauthServer.handle(req, res);
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    let body: unknown = null;
    let bodyOk = true;
    try {
      body = raw === '' ? null : JSON.parse(raw);
    } catch {
      bodyOk = false;
    }
    this.requests.push({ method, path: url.pathname, body: bodyOk ? body : raw, query: url.search });
    const send = (status: number, payload: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...this.bucketHeaders(), ...extra });
      res.end(JSON.stringify(payload));
    };
    const f = this.faults.api;
    const common = await commonApiFault(f);
    if (common === 'hang') return this.hang(res);
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      return send(429, errorBody(429, 'Rate Limit Exceeded: the bucket is full.', 'MerchantOS\\Exception\\RateLimitExceededException'), { 'retry-after': String(f.rateLimitNext.retryAfterSeconds) });
    }
    const cost = method === 'GET' || method === 'HEAD' ? 1 : WRITE_COST;
    if (this.bucketLimit) {
      const level = this.drain();
      if (level + cost > this.bucketLimit.size + 1e-9) {
        const at = this.clockMs();
        this.rateLimited.push({ at, retryAfterMs: null });
        return send(429, errorBody(429, 'Rate Limit Exceeded: the bucket is full.', 'MerchantOS\\Exception\\RateLimitExceededException'));
      }
    }
    this.drain();
    this.bucket.level += cost;
    if (common === 401) return send(401, errorBody(401, 'Invalid access token.', 'MerchantOS\\Exception\\AuthenticationException'));
    if (common === 403) return send(403, errorBody(403, 'Access denied for this account.', 'MerchantOS\\Exception\\PermissionDeniedException'));
    if (common === 404) return this.notFound(res);
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      return send(503, errorBody(503, 'Service temporarily unavailable.'));
    }
    if (!this.authorised(req.headers.authorization)) return send(401, errorBody(401, 'Invalid access token.', 'MerchantOS\\Exception\\AuthenticationException'));
    try {
      const m = /^\/API\/V3\/Account\/(\d+)\/([A-Za-z]+)(?:\/(\d+))?\.json$/.exec(url.pathname);
      if (!m) return this.notFound(res);
      if (m[1] !== this.opts.accountId) throw new LsApiError(403, `Access denied to account ${m[1]}.`, 'MerchantOS\\Exception\\PermissionDeniedException');
      const [resource, id] = [m[2]!, m[3] ? Number(m[3]) : null];
      if (!bodyOk) throw new LsApiError(400, 'Could not parse the request body as JSON.');
      if (method === 'GET') return send(200, this.get(resource, id, url));
      if (method === 'PUT' && resource === 'Item' && id !== null) return await this.putItem(id, body, url, res, send);
      throw new LsApiError(405, `Method ${method} is not allowed on ${resource}.`);
    } catch (err) {
      if (err instanceof LsApiError) return send(err.status, errorBody(err.status, err.message, err.errorClass));
      this.problems.push(`${method} ${url.pathname} failed inside the emulator: ${String(err)}`);
      return send(500, errorBody(500, 'Internal server error.'));
    }
  }

  /** The front server's 404 for an address that is no route of the API (an HTML page, not the API's error). */
  private notFound(res: http.ServerResponse): void {
    res.writeHead(404, { 'content-type': 'text/html', ...this.bucketHeaders() });
    res.end('<html><body><h1>404 Not Found</h1></body></html>');
  }

  private authorised(header: string | undefined): boolean {
    if (header === `Bearer ${this.opts.accessToken}`) return true;
    return this.oauthServer ? this.oauthServer.checkBearer(header).ok : false;
  }

  private get(resource: string, id: number | null, url: URL): unknown {
    const q = url.searchParams;
    const self = new URL(url.toString());
    self.searchParams.delete('after');
    const ignore = this.faults.api.ignorePaging === true;
    switch (resource) {
      case 'Item': {
        const rel = relationsOf(q, ['ItemShops']);
        if (id !== null) {
          const i = this.items.get(id);
          if (!i) throw new LsApiError(404, `Item ${id} not found.`, 'MerchantOS\\Exception\\NotFoundException');
          return { '@attributes': { count: '1' }, Item: render.item(i, rel) };
        }
        const archived = q.get('archived') ?? 'false';
        const rows = [...this.items.values()].filter((i) => (archived === 'only' ? i.archived : archived === 'true' ? true : !i.archived)).map((i) => render.item(i, rel));
        return listAnswer('Item', rows, q, self, ignore);
      }
      case 'ItemShop': {
        const rel = relationsOf(q, ['Item']);
        const rows = [...this.items.values()].flatMap((i) => [render.summary(i), ...i.shops.values()].map((x) => render.itemShop(i, x, rel)));
        rows.sort((a, b) => Number(a.itemShopID) - Number(b.itemShopID));
        return listAnswer('ItemShop', rows, q, self, ignore);
      }
      case 'Sale': {
        const rel = relationsOf(q, ['SaleLines', 'SaleLines.Item']);
        if (id !== null) {
          const s = this.sales.get(id);
          if (!s) throw new LsApiError(404, `Sale ${id} not found.`, 'MerchantOS\\Exception\\NotFoundException');
          return { '@attributes': { count: '1' }, Sale: render.sale(s, this.items, rel) };
        }
        return listAnswer('Sale', [...this.sales.values()].map((s) => render.sale(s, this.items, rel)), q, self, ignore);
      }
      case 'SaleLine': {
        const rel = relationsOf(q, ['Item']);
        const rows = [...this.sales.values()].flatMap((s) => s.lines.map((l: LsSaleLine) => render.saleLine(l, this.items.get(l.itemID), new Set([...rel].map((r) => `SaleLines.${r}`)))));
        return listAnswer('SaleLine', rows, q, self, ignore);
      }
      case 'Shop':
        return listAnswer('Shop', this.shopIds.map((shopID) => ({ shopID, name: `Shop ${shopID}`, archived: 'false', timeStamp: '2026-01-01T00:00:00+00:00' })), q, self, ignore);
      default:
        throw new LsApiError(404, `Unknown resource ${resource}.`, 'MerchantOS\\Exception\\NotFoundException');
    }
  }

  private async putItem(id: number, body: unknown, url: URL, res: http.ServerResponse, send: (status: number, payload: unknown) => void): Promise<void> {
    const i = this.items.get(id);
    if (!i || (this.faults.api.refuseSku && this.faults.api.refuseSku === i.customSku)) throw new LsApiError(404, `Item ${id} not found.`, 'MerchantOS\\Exception\\NotFoundException');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new LsApiError(400, 'The request body must be a JSON object of the Item fields to change.');
    const b = body as Json;
    const known = new Set(['ItemShops', 'publishToEcom', 'archived', 'description', 'customSku']);
    for (const k of Object.keys(b)) if (!known.has(k)) this.problems.push(`PUT Item/${id} sent ${k}, which this emulator does not take.`);
    // Check everything first: a bad request changes nothing.
    const changes: { shop: LsItemShop; qoh: number }[] = [];
    if (b.ItemShops !== undefined) {
      const list = (b.ItemShops as { ItemShop?: unknown } | null)?.ItemShop;
      const rows = Array.isArray(list) ? list : list && typeof list === 'object' ? [list] : null;
      if (!rows) throw new LsApiError(400, 'ItemShops must be {"ItemShop": [...]}.');
      for (const r of rows as Json[]) {
        const byId = r.itemShopID !== undefined ? [...i.shops.values()].find((x) => String(x.itemShopID) === String(r.itemShopID)) : undefined;
        const shop = byId ?? (r.itemShopID === undefined && r.shopID !== undefined ? i.shops.get(String(r.shopID)) : undefined);
        if (!shop) throw new LsApiError(400, `ItemShop ${String(r.itemShopID ?? r.shopID)} is not one of item ${id}'s shops.`);
        if (r.shopID !== undefined && String(r.shopID) !== shop.shopID) throw new LsApiError(400, `itemShopID ${shop.itemShopID} belongs to shop ${shop.shopID}, not ${String(r.shopID)}.`);
        const q = String(r.qoh ?? '');
        if (!/^-?\d+$/.test(q)) throw new LsApiError(400, `qoh must be a whole number, not "${q}".`);
        changes.push({ shop, qoh: Number(q) });
      }
    }
    const flag = (v: unknown, name: string): boolean | undefined => {
      if (v === undefined) return undefined;
      if (v === true || v === 'true') return true;
      if (v === false || v === 'false') return false;
      throw new LsApiError(400, `${name} must be true or false.`);
    };
    const publish = flag(b.publishToEcom, 'publishToEcom');
    const archived = flag(b.archived, 'archived');
    for (const c of changes) this.move(i, c.shop.shopID, c.qoh - c.shop.qoh);
    if (publish !== undefined) i.publishToEcom = publish;
    if (archived !== undefined) i.archived = archived;
    i.timeStamp = this.clockMs();
    if (changes.length > 0) this.stockWritten([i.customSku]);
    const f = this.faults.api;
    if (changes.length > 0 && f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
      f.loseWriteAnswerNext--;
      return this.hang(res);
    }
    send(200, { '@attributes': { count: '1' }, Item: render.item(i, relationsOf(url.searchParams, ['ItemShops'])) });
  }
}
