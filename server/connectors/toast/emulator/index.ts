/**
 * Toast's platform APIs as a real HTTP server on 127.0.0.1, for tests and the sandbox
 * (restaurants.ts: what happens in the restaurants and the webhook messages Toast sends):
 * - POST /authentication/v1/authentication/login (`clientId`, `clientSecret`, `userAccessType:
 *   TOAST_MACHINE_CLIENT`) → `{token: {tokenType, accessToken, expiresIn, …}, status: SUCCESS}`; every
 *   other request needs `Authorization: Bearer <token>` and `Toast-Restaurant-External-ID` naming a
 *   restaurant the client may act for;
 * - POST /stock/v1/inventory/search (`guids` or `multiLocationIds`; an unknown one answered
 *   `itemGuidValidity: INVALID`, `OUT_OF_STOCK`), PUT /stock/v1/inventory/update (an array; `QUANTITY`
 *   needs a quantity above 0, the others none; one unknown item fails the whole request with 400);
 * - GET /config/v2/menuItems (paged: `Toast-Next-Page-Token` header, `pageToken` parameter);
 * - GET /orders/v2/ordersBulk (`startDate` inclusive, `endDate` exclusive, by modification time;
 *   `pageSize` ≤ 100, `page`);
 * - with `rateLimit`: 20 requests a second and 10,000 in 15 minutes, /ordersBulk 5 a second per
 *   restaurant; over it, 429 with `Retry-After`;
 * - errors as Toast's error object `{status, code, message, messageKey, fieldName, link, requestId,
 *   developerMessage, errors, canRetry}`.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { commonApiFault, readRequest, WindowCounter, type Emulator } from '../../emulator';
import { LOGIN_PATH } from '../http';
import { counted, ToastRestaurants, type Item, type Json, type ToastEmulatorOptions } from './restaurants';

export { type ToastEmulatorOptions } from './restaurants';

/** Toast's global and default API limits, and the /ordersBulk endpoint's per restaurant. */
export const TOAST_LIMITS = { perSecond: { requests: 20, windowMs: 1000 }, per15Minutes: { requests: 10_000, windowMs: 15 * 60_000 }, ordersBulk: { requests: 5, windowMs: 1000 } } as const;

export function errorJson(status: number, message: string, code = status * 100): Json {
  return { status, code, message, messageKey: null, fieldName: null, link: 'https://doc.toasttab.com', requestId: crypto.randomUUID(), developerMessage: null, errors: [], canRetry: status === 429 || status >= 500 ? 'true' : null };
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message));
  }
}
const bad = (message: string) => new Refusal(400, errorJson(400, message));

export class ToastEmulator extends ToastRestaurants implements Emulator {
  readonly internalErrors: string[] = [];
  private readonly tokens = new Set<string>();
  private readonly pageSize: number;
  private readonly limits: { global: WindowCounter[]; ordersBulk: Map<string, WindowCounter> } | null;

  constructor(opts: ToastEmulatorOptions) {
    super(opts);
    this.pageSize = opts.pageSize ?? 100;
    this.limits = opts.rateLimit ? { global: [new WindowCounter(TOAST_LIMITS.perSecond), new WindowCounter(TOAST_LIMITS.per15Minutes)], ordersBulk: new Map() } : null;
  }

  /** Every access token handed out stops working (Toast's tokens expire; a client's credentials rotated). */
  revokeTokens(): void {
    this.tokens.clear();
  }

  isStockWrite(request: { method: string; path: string }): boolean {
    return request.method === 'PUT' && request.path === '/stock/v1/inventory/update';
  }

  selfCheck(): string[] {
    return [...this.internalErrors];
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { method, url, body } = await readRequest(req, this.baseUrl);
    this.requests.push({ method, path: url.pathname, body });
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    try {
      const early = await this.gate(req, method, url);
      if (early === 'hang') return this.hang(res);
      if (typeof body === 'string') throw bad('The request body is not valid JSON.');
      const answer = this.route(method, url, body, req);
      if (answer.lost) {
        const f = this.faults.api;
        f.loseWriteAnswerNext = Math.max(0, (f.loseWriteAnswerNext ?? 0) - 1);
        return this.hang(res);
      }
      send(200, answer.body, answer.headers ?? {});
    } catch (err) {
      if (err instanceof Refusal) return send(err.status, err.body, err.headers);
      this.internalErrors.push(`${method} ${url.pathname}: ${(err as Error).message}`);
      send(500, errorJson(500, 'An internal error occurred.'));
    }
  }

  /** Faults, the rate limits and the token, before any route. */
  private async gate(req: http.IncomingMessage, method: string, url: URL): Promise<'hang' | null> {
    const f = this.faults.api;
    const common = await commonApiFault({ ...f, statusNext: undefined });
    if (common === 'hang') {
      f.hangNext = Math.max(0, (f.hangNext ?? 0) - 1);
      return 'hang';
    }
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      throw new Refusal(429, errorJson(429, 'Rate limit exceeded.'), { 'retry-after': String(f.rateLimitNext.retryAfterSeconds) });
    }
    const restaurant = typeof req.headers['toast-restaurant-external-id'] === 'string' ? req.headers['toast-restaurant-external-id'] : '';
    if (this.limits) {
      const at = this.clockMs();
      const counters = [...this.limits.global];
      if (url.pathname === '/orders/v2/ordersBulk') {
        if (!this.limits.ordersBulk.has(restaurant)) this.limits.ordersBulk.set(restaurant, new WindowCounter(TOAST_LIMITS.ordersBulk));
        counters.push(this.limits.ordersBulk.get(restaurant)!);
      }
      for (const c of counters) {
        const r = c.admit(at);
        if (!r.ok) {
          this.rateLimited.push({ at, retryAfterMs: Math.ceil(r.retryAfterMs / 1000) * 1000 });
          throw new Refusal(429, errorJson(429, 'Rate limit exceeded.'), { 'retry-after': String(Math.ceil(r.retryAfterMs / 1000)) });
        }
      }
    }
    if (f.statusNext && f.statusNext.count > 0) {
      f.statusNext.count--;
      const s = f.statusNext.status;
      throw new Refusal(s, errorJson(s, s === 401 ? 'Unauthorized: the access token is not valid.' : s === 403 ? 'Forbidden: the client lacks the scope for this request.' : 'Not Found.'));
    }
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      throw new Refusal(503, errorJson(503, 'The service is temporarily unavailable.'));
    }
    if (method === 'POST' && url.pathname === LOGIN_PATH) return null;
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !this.tokens.has(auth.slice(7))) throw new Refusal(401, errorJson(401, 'Unauthorized: the access token is missing or not valid.'));
    if (!restaurant) throw bad('The Toast-Restaurant-External-ID header is required.');
    if (!this.opts.restaurants.includes(restaurant)) throw new Refusal(403, errorJson(403, `Forbidden: this client has no access to restaurant ${restaurant}.`));
    if ((method === 'POST' || method === 'PUT') && !/^application\/json/.test(req.headers['content-type'] ?? '')) throw bad('The Content-Type must be application/json.');
    return null;
  }

  private route(method: string, url: URL, body: unknown, req: http.IncomingMessage): { body: unknown; headers?: Record<string, string>; lost?: boolean } {
    const p = url.pathname;
    const restaurant = String(req.headers['toast-restaurant-external-id'] ?? '');
    if (method === 'POST' && p === LOGIN_PATH) return { body: this.login(body) };
    if (method === 'POST' && p === '/stock/v1/inventory/search') return { body: this.search(restaurant, body) };
    if (method === 'PUT' && p === '/stock/v1/inventory/update') return this.update(restaurant, body);
    if (method === 'GET' && p === '/config/v2/menuItems') return this.menuItems(restaurant, url.searchParams);
    if (method === 'GET' && p === '/orders/v2/ordersBulk') return { body: this.ordersBulk(restaurant, url.searchParams) };
    throw new Refusal(404, errorJson(404, 'Not Found.'));
  }

  private login(body: unknown): Json {
    const b = (typeof body === 'object' && body !== null ? body : {}) as { clientId?: unknown; clientSecret?: unknown; userAccessType?: unknown };
    if (b.userAccessType !== 'TOAST_MACHINE_CLIENT') throw bad('userAccessType must be TOAST_MACHINE_CLIENT.');
    if (b.clientId !== this.opts.clientId || b.clientSecret !== this.opts.clientSecret) throw new Refusal(401, errorJson(401, 'The client credentials are not valid.'));
    const accessToken = `eyJ${crypto.randomBytes(24).toString('base64url')}`;
    this.tokens.add(accessToken);
    return { '@class': '.SuccessfulResponse', token: { tokenType: 'Bearer', scope: null, expiresIn: 86400, accessToken, idToken: null, refreshToken: null }, status: 'SUCCESS' };
  }

  private byId(restaurant: string, key: 'guid' | 'multiLocationId', id: string): Item | undefined {
    for (const item of this.items.values()) if ((key === 'guid' ? item.at.get(restaurant)?.guid : item.multiLocationId) === id) return item;
    return undefined;
  }

  private search(restaurant: string, body: unknown): Json[] {
    const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : null) as { guids?: unknown; multiLocationIds?: unknown } | null;
    if (!b) throw bad('The body must be an InventorySearchRequest.');
    const list = (v: unknown, name: string): string[] => {
      if (v === undefined || v === null) return [];
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad(`${name} must be an array of strings.`);
      return v as string[];
    };
    const out: Json[] = [];
    for (const [key, ids] of [['guid', list(b.guids, 'guids')], ['multiLocationId', list(b.multiLocationIds, 'multiLocationIds')]] as const) {
      for (const id of ids) {
        const item = this.byId(restaurant, key, id);
        out.push(item ? this.inventoryJson(item, restaurant) : { guid: key === 'guid' ? id : '00000000-0000-0000-0000-000000000000', itemGuidValidity: 'INVALID', status: 'OUT_OF_STOCK', quantity: null, multiLocationId: key === 'multiLocationId' ? id : null, versionId: null });
      }
    }
    return out;
  }

  private update(restaurant: string, body: unknown): { body: unknown; lost?: boolean } {
    if (!Array.isArray(body) || body.length === 0) throw bad('The body must be a non-empty array of MenuItemInventoryUpdate.');
    const plan: { item: Item; next: ReturnType<typeof counted> | { status: 'IN_STOCK'; quantity: null } }[] = [];
    const missing: string[] = [];
    for (const u of body as unknown[]) {
      if (typeof u !== 'object' || u === null) throw bad('Each update must be an object.');
      const { guid, multiLocationId, status, quantity } = u as Json;
      const id = typeof multiLocationId === 'string' ? multiLocationId : typeof guid === 'string' ? guid : null;
      if (!id) throw bad('Each update needs a guid or a multiLocationId.');
      if (status !== 'IN_STOCK' && status !== 'OUT_OF_STOCK' && status !== 'QUANTITY') throw bad(`status must be IN_STOCK, OUT_OF_STOCK or QUANTITY (got ${JSON.stringify(status)}).`);
      if (status === 'QUANTITY' && (typeof quantity !== 'number' || !(quantity > 0))) throw bad('A QUANTITY update needs a quantity greater than 0.');
      if (status !== 'QUANTITY' && quantity !== undefined && quantity !== null) throw bad(`Do not give a quantity with status ${status}.`);
      const item = this.byId(restaurant, typeof multiLocationId === 'string' ? 'multiLocationId' : 'guid', id);
      if (!item || item.sku === this.faults.api.refuseSku) {
        missing.push(id);
        continue;
      }
      plan.push({ item, next: status === 'QUANTITY' ? { status, quantity: quantity as number } : { status, quantity: null } });
    }
    if (missing.length > 0) throw bad(`One or more menu items could not be found: ${missing.join(', ')}`);
    for (const { item, next } of plan) this.setStock(item, restaurant, next);
    this.stockWritten(plan.map((x) => x.item.sku));
    const f = this.faults.api;
    if (f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) return { body: null, lost: true };
    return { body: plan.map(({ item }) => this.inventoryJson(item, restaurant)) };
  }

  private menuItems(restaurant: string, q: URLSearchParams): { body: unknown; headers: Record<string, string> } {
    const all = [...this.items.values()].map((item) => ({ guid: item.at.get(restaurant)!.guid, entityType: 'MenuItem', externalId: null, name: item.name, sku: item.sku, plu: '', visibility: 'ALL', orderableOnline: 'YES', type: 'NONE' }));
    const token = q.get('pageToken');
    let offset = 0;
    if (token && !this.faults.api.ignorePaging) {
      const m = /^p(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
      if (!m) throw bad('The pageToken is not valid.');
      offset = Number(m[1]);
    }
    const page = all.slice(offset, offset + this.pageSize);
    const next = this.faults.api.ignorePaging ? (all.length > this.pageSize ? this.pageSize : null) : offset + this.pageSize < all.length ? offset + this.pageSize : null;
    return { body: page, headers: next === null ? {} : { 'toast-next-page-token': Buffer.from(`p${next}`).toString('base64url') } };
  }

  private ordersBulk(restaurant: string, q: URLSearchParams): Json[] {
    const start = q.get('startDate');
    const end = q.get('endDate');
    if (!start || !end) throw bad('startDate and endDate are required (or businessDate).');
    const a = Date.parse(start);
    const b = Date.parse(end);
    if (Number.isNaN(a) || Number.isNaN(b) || b <= a) throw bad('startDate and endDate must be ISO-8601 date-times, endDate later than startDate.');
    const pageSize = Number(q.get('pageSize') ?? '100');
    const page = Number(q.get('page') ?? '1');
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) throw bad('pageSize must be between 1 and 100.');
    if (!Number.isInteger(page) || page < 1) throw bad('page must be 1 or more.');
    return [...this.orders.values()]
      .filter((o) => o.restaurant === restaurant && Date.parse(o.modifiedDate) >= a && Date.parse(o.modifiedDate) < b)
      .sort((x, y) => Date.parse(x.modifiedDate) - Date.parse(y.modifiedDate))
      .slice((page - 1) * pageSize, page * pageSize)
      .map((o) => this.orderJson(o));
  }
}
