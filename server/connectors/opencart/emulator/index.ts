/**
 * An OpenCart 4 store with the stockrelay extension installed, as a real HTTP server on 127.0.0.1,
 * for tests and the sandbox. It answers `index.php?route=extension/stockrelay/module/stockrelay.<method>`
 * exactly as the PHP in ../extension/ does (protocol.ts): the key in X-Stockrelay-Key (401
 * `unauthorized` without it), `catalog` (page, limit 1–100, products by id with their option
 * values), `levels`, `set` (compare-and-set with `expected`, else absolute; at most 100 changes),
 * `status` and `events`; errors `{"error": {"code", "message"}}`. Around it, what a PHP shop's
 * server does: OpenCart's HTML "page not found" (404) for a route nobody installed, a PHP fatal
 * error page (500), and a host's 429 with Retry-After (OpenCart has no rate limit of its own).
 * The store itself (orders, returns, stock, the extension's deliveries) is in store.ts.
 */
import http from 'node:http';
import crypto from 'node:crypto';
import { WindowCounter, readRequest, type Emulator } from '../../emulator';
import { OC_MAX_BATCH, OC_MAX_PAGE, ROUTE_PREFIX, type OcCatalogProduct, type OcChange, type OcSetResult } from '../protocol';
import type { OcEmulatorOptions, Product } from './model';
import { OcStoreState } from './store';

export { OC_HOST_LIMIT, type OcEmulatorOptions } from './model';

type Obj = Record<string, unknown>;

class OcError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const NOT_FOUND_PAGE = '<!DOCTYPE html><html dir="ltr" lang="en"><head><meta charset="UTF-8"/><title>Page Not Found!</title></head><body><div id="error-not-found" class="container"><h1>Page Not Found!</h1><p>The page you requested cannot be found.</p></div></body></html>';
const FATAL_PAGE = '<br />\n<b>Fatal error</b>:  Uncaught Exception: Error: Could not connect to database server in /var/www/system/library/db/mysqli.php:42';

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

export class OcEmulator extends OcStoreState implements Emulator {
  private readonly apiKey: string;
  private readonly hostLimit: WindowCounter | null;
  /** What the emulator found wrong: requests the extension refuses as malformed (400, 405), and its own errors. */
  private readonly problems: string[] = [];

  constructor(opts: OcEmulatorOptions) {
    super(opts);
    this.apiKey = opts.apiKey;
    this.hostLimit = opts.hostLimit ? new WindowCounter(opts.hostLimit) : null;
  }

  /** A push of ours: a call of the extension's `set` route. */
  isStockWrite(request: { method: string; path: string }): boolean {
    return request.method === 'POST' && request.path.endsWith('.set');
  }

  selfCheck(): string[] {
    return [...this.problems];
  }

  describeWebhook(body: string): string {
    try {
      const b = JSON.parse(body) as { topic?: string; data?: { stock?: string; levels?: { product_id: number; quantity: number }[]; product?: { quantity: number } } };
      const levels = (b.data?.levels ?? []).map((l) => `${l.product_id}=${l.quantity}`).join(' ');
      return `${b.topic ?? '?'} ${b.data?.stock ?? ''} ${levels || (b.data?.product ? `quantity ${b.data.product.quantity}` : '')}`.trim();
    } catch {
      return '';
    }
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { body, url, method } = await readRequest(req, this.baseUrl);
    const route = url.searchParams.get('route') ?? '';
    this.requests.push({ method, path: `${url.pathname}?route=${route}`, body });
    const html = (status: number, page: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...headers });
      res.end(page);
    };
    const json = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(payload));
    };
    const f = this.faults.api;
    if (f.latencyMs) await new Promise((r) => setTimeout(r, f.latencyMs));
    if (f.hangNext && f.hangNext > 0) {
      f.hangNext--;
      return this.hang(res);
    }
    if (this.rateLimitedNow(html)) return;
    if (f.statusNext && f.statusNext.count > 0) {
      f.statusNext.count--;
      if (f.statusNext.status === 404) return html(404, NOT_FOUND_PAGE);
      if (f.statusNext.status === 401) return json(401, { error: { code: 'unauthorized', message: 'The X-Stockrelay-Key header is missing or wrong.' } });
      return json(403, { error: { code: 'disabled', message: 'The stockrelay extension is disabled.' } });
    }
    if (url.pathname !== '/index.php' || !route.startsWith(`${ROUTE_PREFIX}.`)) return html(404, NOT_FOUND_PAGE);
    try {
      const given = Buffer.from(String(req.headers['x-stockrelay-key'] ?? ''));
      const key = Buffer.from(this.apiKey);
      if (given.length !== key.length || !crypto.timingSafeEqual(given, key)) throw new OcError(401, 'unauthorized', 'The X-Stockrelay-Key header is missing or wrong.');
      if (f.failNext && f.failNext > 0) {
        f.failNext--;
        return html(500, FATAL_PAGE);
      }
      const name = route.slice(ROUTE_PREFIX.length + 1);
      const answer = this.route(name, method, url.searchParams, body);
      if (name === 'set' && f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
        f.loseWriteAnswerNext--;
        return this.hang(res);
      }
      json(200, answer);
    } catch (err) {
      if (err instanceof OcError) {
        if (err.status === 400 || err.status === 405) this.problems.push(`${method} ${route} was refused by the extension: ${err.message}`);
        return json(err.status, { error: { code: err.code, message: err.message } });
      }
      this.problems.push(`${method} ${route} failed inside the emulator: ${String(err)}`);
      html(500, FATAL_PAGE);
    }
  }

  /** A host in front of PHP refusing with 429 (a fault asked for, or the host limit). */
  private rateLimitedNow(html: (status: number, page: string, headers: Record<string, string>) => void): boolean {
    const f = this.faults.api;
    const tooMany = (seconds: number) => html(429, '<html><head><title>429 Too Many Requests</title></head><body><h1>429 Too Many Requests</h1></body></html>', { 'retry-after': String(seconds) });
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      tooMany(f.rateLimitNext.retryAfterSeconds);
      return true;
    }
    if (!this.hostLimit) return false;
    const at = this.clockMs();
    const admitted = this.hostLimit.admit(at);
    if (admitted.ok) return false;
    const seconds = Math.max(1, Math.ceil(admitted.retryAfterMs / 1000));
    this.rateLimited.push({ at, retryAfterMs: seconds * 1000 });
    tooMany(seconds);
    return true;
  }

  private route(name: string, method: string, query: URLSearchParams, body: unknown): unknown {
    const b = (typeof body === 'object' && body !== null ? body : {}) as Obj;
    const post = (what: string) => {
      if (method !== 'POST') throw new OcError(405, 'method_not_allowed', `${what} takes a POST with a JSON body.`);
    };
    switch (name) {
      case 'catalog':
        return this.catalog(query);
      case 'levels':
        post('levels');
        return { levels: this.listOf(b.items, 'items').flatMap((it) => this.find(it)).map(({ p, pov }) => this.levelAnswer(p, pov)) };
      case 'set':
        post('set');
        return { results: this.listOf(b.changes, 'changes').map((c) => this.set(c as unknown as OcChange)) };
      case 'status': {
        post('status');
        const found = isInt(b.status) && (b.status === 0 || b.status === 1) ? this.find({ product_id: b.product_id, product_option_value_id: 0 }) : null;
        if (found === null) throw new OcError(400, 'bad_request', 'status takes {"product_id": n, "status": 0 or 1}.');
        if (found.length === 0) throw new OcError(404, 'not_found', `No product ${String(b.product_id)}.`);
        found[0]!.p.status = b.status as number;
        return { product_id: found[0]!.p.id, status: found[0]!.p.status };
      }
      case 'events':
        return this.eventsPage(query);
      default:
        throw new OcError(404, 'no_such_method', `The stockrelay extension has no method ${name}.`);
    }
  }

  private listOf(v: unknown, what: string): Obj[] {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null)) throw new OcError(400, 'bad_request', `${what} must be a list of objects.`);
    if (v.length > OC_MAX_BATCH) throw new OcError(400, 'too_many', `At most ${OC_MAX_BATCH} ${what} in one request.`);
    return v as Obj[];
  }

  private intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
    const raw = query.get(name);
    const n = raw === null ? fallback : /^-?\d{1,18}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw new OcError(400, 'bad_request', `${name} must be a whole number from ${min} to ${max}.`);
    return n;
  }

  /** The product (and option value) an item names; [] when the store has none (or refuses it: `refuseSku`). */
  private find(it: Obj): { p: Product; pov: Product['options'][number] | null }[] {
    if (!isInt(it.product_id) || !isInt(it.product_option_value_id)) throw new OcError(400, 'bad_request', 'Each item needs a whole product_id and product_option_value_id (0 for the product itself).');
    const p = this.products.get(it.product_id);
    if (!p || (this.faults.api.refuseSku && p.sku === this.faults.api.refuseSku)) return [];
    if (it.product_option_value_id === 0) return [{ p, pov: null }];
    const pov = p.options.find((o) => o.id === it.product_option_value_id);
    return pov ? [{ p, pov }] : [];
  }

  private levelAnswer(p: Product, pov: Product['options'][number] | null): Obj {
    return { product_id: p.id, product_option_value_id: pov?.id ?? 0, quantity: pov ? pov.quantity : p.quantity, subtract: pov ? pov.subtract : p.subtract, status: p.status };
  }

  /**
   * One change, as the extension's single UPDATE … WHERE quantity = expected does it. Unchanged only
   * when the quantity is the one asked for and, with `expected`, the one expected too: a quantity
   * that got to the number asked for from another level moved by itself and is stale.
   */
  private set(c: OcChange): OcSetResult {
    if (!isInt(c.quantity) || (c.expected !== undefined && !isInt(c.expected))) throw new OcError(400, 'bad_request', 'Each change needs a whole quantity (and expected, when given).');
    const [found] = this.find(c as unknown as Obj);
    const ids = { product_id: c.product_id, product_option_value_id: c.product_option_value_id };
    if (!found) return { ...ids, result: 'not_found' };
    const holder = found.pov ?? found.p;
    if (c.expected !== undefined && holder.quantity !== c.expected) return { ...ids, result: 'stale', quantity: holder.quantity };
    if (holder.quantity === c.quantity) return { ...ids, result: 'unchanged', quantity: holder.quantity };
    holder.quantity = c.quantity;
    this.afterStockWrite?.(found.p.sku);
    return { ...ids, result: 'applied', quantity: c.quantity };
  }

  private catalog(query: URLSearchParams): Obj {
    const limit = this.intParam(query, 'limit', OC_MAX_PAGE, 1, OC_MAX_PAGE);
    const asked = this.intParam(query, 'page', 1, 1, 1_000_000);
    // A page cache in front of the shop that ignores `page` answers the first page again.
    const page = this.faults.api.ignorePaging ? 1 : asked;
    const all = [...this.products.values()].sort((a, b) => a.id - b.id);
    const products: OcCatalogProduct[] = all.slice((page - 1) * limit, page * limit).map((p) => ({
      product_id: p.id,
      sku: p.sku,
      model: p.model,
      name: p.name,
      quantity: p.quantity,
      subtract: p.subtract,
      status: p.status,
      options: p.options.map((o) => ({ product_option_value_id: o.id, name: o.name, quantity: o.quantity, subtract: o.subtract })),
    }));
    return { store: { url: this.storeUrl, id: 0 }, page, limit, total: all.length, products };
  }

  private eventsPage(query: URLSearchParams): Obj {
    const after = this.intParam(query, 'after', 0, 0, Number.MAX_SAFE_INTEGER);
    const limit = this.intParam(query, 'limit', OC_MAX_PAGE, 1, OC_MAX_PAGE);
    const rest = this.events.filter((e) => e.seq > after);
    return { events: rest.slice(0, limit).map((e) => ({ seq: e.seq, body: e.body })), last_seq: this.events.length, more: rest.length > limit };
  }
}
