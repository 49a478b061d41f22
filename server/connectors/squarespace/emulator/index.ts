/**
 * A Squarespace site's Commerce APIs as a real HTTP server on 127.0.0.1, for tests and the sandbox
 * (events.ts: what happens on the site and the notifications it sends; model.ts: the shapes):
 * - `Authorization: Bearer <API key>` (401 otherwise) and a `User-Agent` (refused without one);
 * - GET /1.0/commerce/inventory (cursor paging), GET /1.0/commerce/inventory/{ids} (≤ 50; 404 when
 *   one is unknown), POST /1.0/commerce/inventory/adjustments (Idempotency-Key required, ≤ 64 of
 *   `[A-Za-z0-9_-]`; the same key answers as the first time; all operations or none; 204);
 * - GET /1.0/commerce/orders (`modifiedAfter` with `modifiedBefore`, or `cursor`, never both) and
 *   GET /1.0/commerce/orders/{id};
 * - GET /1.1/commerce/products (`type` without a cursor) and POST /1.1/commerce/products/{id}
 *   (`isVisible`);
 * - 300 requests a minute, then 429 for every request in a one-minute cool-down (with `rateLimit`);
 * - errors as Squarespace's error object `{type, subtype, message, details, contextId}`.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { commonApiFault, readRequest, WindowCounter, type Emulator } from '../../emulator';
import { SquarespaceSite } from './events';
import { ApiRefusal, COOL_DOWN_MS, errorJson, inventoryJson, orderJson, productJson, type Json, type SquarespaceEmulatorOptions } from './model';
import { adjust, type AdjustmentsBody } from './adjust';

export { SQUARESPACE_LIMIT, type SquarespaceEmulatorOptions } from './model';

const bad = (message: string, subtype: string | null = 'INVALID_ARGUMENT') => new ApiRefusal(400, errorJson('INVALID_REQUEST_ERROR', message, subtype));

export class SquarespaceEmulator extends SquarespaceSite implements Emulator {
  /** What the emulator itself got wrong while answering (a simulation fails on any). */
  readonly internalErrors: string[] = [];
  private readonly pageSize: number;
  private readonly limit: WindowCounter | null;
  private coolUntil = 0;
  private readonly idempotent = new Map<string, { digest: string; status: number; body: Json | null }>();

  constructor(opts: SquarespaceEmulatorOptions) {
    super(opts);
    this.pageSize = opts.pageSize ?? 50;
    this.limit = opts.rateLimit ? new WindowCounter(opts.rateLimit) : null;
  }

  isStockWrite(request: { method: string; path: string }): boolean {
    return request.method === 'POST' && request.path === '/1.0/commerce/inventory/adjustments';
  }

  selfCheck(): string[] {
    return [...this.internalErrors];
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { method, url, body } = await readRequest(req, this.baseUrl);
    this.requests.push({ method, path: url.pathname, body });
    const send = (status: number, payload: Json | null, headers: Record<string, string> = {}) => {
      if (res.destroyed) return;
      res.writeHead(status, payload === null ? headers : { 'content-type': 'application/json', ...headers });
      res.end(payload === null ? undefined : JSON.stringify(payload));
    };
    try {
      const early = await this.gate(req, method);
      if (early === 'hang') return this.hang(res);
      if (early) return send(early.status, early.body, early.headers ?? {});
      if (typeof body === 'string') throw bad('The request body is not JSON.', 'INVALID_BODY');
      const answer = await this.route(method, url, body, req);
      if (answer === 'hang') return this.hang(res);
      send(answer.status, answer.body);
    } catch (err) {
      if (err instanceof ApiRefusal) return send(err.status, err.body);
      this.internalErrors.push(`${method} ${url.pathname}: ${(err as Error).message}`);
      send(500, errorJson('INTERNAL_ERROR', 'An internal error occurred.'));
    }
  }

  /** Faults, the rate limit and the headers every request needs, before any route. */
  private async gate(req: http.IncomingMessage, method: string): Promise<'hang' | { status: number; body: Json; headers?: Record<string, string> } | null> {
    const f = this.faults.api;
    const common = await commonApiFault({ ...f, statusNext: undefined });
    if (common === 'hang') {
      f.hangNext = Math.max(0, (f.hangNext ?? 0) - 1);
      return 'hang';
    }
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      return { status: 429, body: errorJson('RATE_LIMITED', 'Too many requests.', null), headers: { 'retry-after': String(f.rateLimitNext.retryAfterSeconds) } };
    }
    if (this.limit) {
      const at = this.clockMs();
      if (at < this.coolUntil || !this.limit.admit(at).ok) {
        if (at >= this.coolUntil) this.coolUntil = at + COOL_DOWN_MS;
        this.rateLimited.push({ at, retryAfterMs: null });
        return { status: 429, body: errorJson('RATE_LIMITED', 'Too many requests: wait a minute.', null) };
      }
    }
    if (f.statusNext && f.statusNext.count > 0) {
      f.statusNext.count--;
      const s = f.statusNext.status;
      if (s === 401) return { status: 401, body: errorJson('AUTHORIZATION_ERROR', 'The API key is invalid or was revoked.', null) };
      if (s === 403) return { status: 403, body: errorJson('AUTHORIZATION_ERROR', 'The API key lacks the permission for this request.', null) };
      return { status: 404, body: errorJson('NOT_FOUND', 'Resource not found.', null) };
    }
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      return { status: 503, body: errorJson('INTERNAL_ERROR', 'The service is unavailable.', null) };
    }
    if (req.headers.authorization !== `Bearer ${this.opts.apiKey}`) return { status: 401, body: errorJson('AUTHORIZATION_ERROR', 'Missing or invalid API key.', null) };
    if (!req.headers['user-agent']) return { status: 400, body: errorJson('INVALID_REQUEST_ERROR', 'A User-Agent header is required.', 'MISSING_HEADER') };
    if (method === 'POST' && !/^application\/json/.test(req.headers['content-type'] ?? '')) return { status: 400, body: errorJson('INVALID_REQUEST_ERROR', 'Content-Type must be application/json.', 'INVALID_HEADER') };
    return null;
  }

  private async route(method: string, url: URL, body: unknown, req: http.IncomingMessage): Promise<'hang' | { status: number; body: Json | null }> {
    const p = url.pathname;
    const q = url.searchParams;
    if (method === 'GET' && p === '/1.0/commerce/inventory') return { status: 200, body: this.page('inventory', q, [...this.products.values()].flatMap((pr) => pr.variants.map((v) => inventoryJson(v, pr)))) };
    const inv = /^\/1\.0\/commerce\/inventory\/([^/]+)$/.exec(p);
    if (method === 'GET' && inv && inv[1] !== 'adjustments') return { status: 200, body: { inventory: this.specificInventory(decodeURIComponent(inv[1]!)) } };
    if (method === 'POST' && p === '/1.0/commerce/inventory/adjustments') return this.adjustments(body, req);
    if (method === 'GET' && p === '/1.0/commerce/orders') return { status: 200, body: this.page('result', q, this.orderList(q)) };
    const ord = /^\/1\.0\/commerce\/orders\/([^/]+)$/.exec(p);
    if (method === 'GET' && ord) {
      const o = this.orders.get(decodeURIComponent(ord[1]!));
      if (!o) throw new ApiRefusal(404, errorJson('NOT_FOUND', `Order ${decodeURIComponent(ord[1]!)} not found.`, null));
      return { status: 200, body: orderJson(o, this.currency) };
    }
    if (method === 'GET' && p === '/1.1/commerce/products') {
      if (!q.get('cursor') && !q.get('type')) throw bad('The type parameter is required without a cursor.', 'MISSING_ARGUMENT');
      return { status: 200, body: this.page('products', q, [...this.products.values()].map((pr) => productJson(pr, this.currency))) };
    }
    const prod = /^\/1\.1\/commerce\/products\/([^/,]+)$/.exec(p);
    if (method === 'POST' && prod) return { status: 200, body: this.updateProduct(decodeURIComponent(prod[1]!), body) };
    throw new ApiRefusal(404, errorJson('NOT_FOUND', 'Resource not found.', null));
  }

  /** One page of a list: `cursor` or the first; `ignorePaging` answers the first page for ever. */
  private page(key: string, q: URLSearchParams, all: Json[]): Json {
    const cursor = q.get('cursor');
    if (cursor && [...q.keys()].some((k) => k !== 'cursor')) throw bad('A cursor cannot be combined with other parameters.');
    let offset = 0;
    if (cursor && !this.faults.api.ignorePaging) {
      const m = /^c([0-9a-f]{8})(\d+)$/.exec(cursor);
      if (!m) throw bad('The cursor is not valid.', 'INVALID_CURSOR');
      offset = Number(m[2]);
    }
    const items = all.slice(offset, offset + this.pageSize);
    const more = this.faults.api.ignorePaging ? all.length > 0 : offset + this.pageSize < all.length;
    const nextCursor = more ? `c${crypto.createHash('sha256').update(key).digest('hex').slice(0, 8)}${this.faults.api.ignorePaging ? this.pageSize : offset + this.pageSize}` : null;
    return { [key]: items, pagination: { hasNextPage: more, nextPageCursor: nextCursor, nextPageUrl: nextCursor ? `${this.baseUrl}?cursor=${nextCursor}` : null } };
  }

  private specificInventory(list: string): Json[] {
    const ids = list.split(',');
    if (ids.length === 0 || ids.length > 50) throw bad('Between 1 and 50 variant ids may be asked for.');
    const out: Json[] = [];
    for (const id of ids) {
      const pr = [...this.products.values()].find((x) => x.variants.some((v) => v.id === id));
      if (!pr) throw new ApiRefusal(404, errorJson('NOT_FOUND', `Inventory item ${id} not found.`, null));
      out.push(inventoryJson(pr.variants.find((v) => v.id === id)!, pr));
    }
    return out;
  }

  private orderList(q: URLSearchParams): Json[] {
    const after = q.get('modifiedAfter');
    const before = q.get('modifiedBefore');
    if ((after === null) !== (before === null)) throw bad('modifiedAfter and modifiedBefore must be given together.', 'MISSING_ARGUMENT');
    const a = after === null ? -Infinity : Date.parse(after);
    const b = before === null ? Infinity : Date.parse(before);
    if (Number.isNaN(a) || Number.isNaN(b)) throw bad('modifiedAfter and modifiedBefore are ISO 8601 UTC date-times.');
    return [...this.orders.values()]
      .filter((o) => Date.parse(o.modifiedOn) > a && Date.parse(o.modifiedOn) < b)
      .sort((x, y) => Date.parse(x.modifiedOn) - Date.parse(y.modifiedOn))
      .map((o) => orderJson(o, this.currency));
  }

  private updateProduct(id: string, body: unknown): Json {
    const pr = this.products.get(id);
    if (!pr) throw new ApiRefusal(404, errorJson('NOT_FOUND', `Product ${id} not found.`, null));
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('The body is not a product update.');
    const b = body as Json;
    if ('isVisible' in b) {
      if (typeof b.isVisible !== 'boolean') throw bad('isVisible is a boolean.');
      pr.isVisible = b.isVisible;
    }
    pr.modifiedOn = this.stamp();
    return productJson(pr, this.currency);
  }

  private async adjustments(body: unknown, req: http.IncomingMessage): Promise<'hang' | { status: number; body: Json | null }> {
    const key = req.headers['idempotency-key'];
    if (typeof key !== 'string' || key === '') throw bad('The Idempotency-Key header is required.', 'MISSING_HEADER');
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(key)) throw bad('The Idempotency-Key must be up to 64 alphanumerics, dashes and underscores.', 'INVALID_HEADER');
    const digest = crypto.createHash('sha256').update(JSON.stringify(body)).digest('hex');
    const seen = this.idempotent.get(key);
    if (seen) {
      if (seen.digest !== digest) throw new ApiRefusal(409, errorJson('CONFLICT', 'The Idempotency-Key was used with other parameters.', null));
      return { status: seen.status, body: seen.body };
    }
    const lookup = (id: string) => {
      for (const pr of this.products.values()) for (const v of pr.variants) if (v.id === id) return v;
      return undefined;
    };
    const written = adjust(body as AdjustmentsBody, lookup, this.faults.api.refuseSku ?? null);
    for (const v of written) this.products.get(v.productId)!.modifiedOn = this.stamp();
    this.idempotent.set(key, { digest, status: 204, body: null });
    this.stockWritten(written.map((v) => v.sku));
    const f = this.faults.api;
    if (f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
      f.loseWriteAnswerNext--;
      return 'hang';
    }
    return { status: 204, body: null };
  }
}
