/**
 * A PrestaShop shop's webservice as a real HTTP server on 127.0.0.1, for tests and the sandbox:
 * - auth as the webservice does it: the key as the HTTP Basic user name (any password), or `ws_key`
 *   in the address; without a valid key, 401 with `WWW-Authenticate: Basic` and the webservice's error;
 * - answers in JSON only when asked (`output_format=JSON`); errors as `{"errors":[{"code","message"}]}`;
 * - GET lists and single resources of products, combinations, stock_availables, orders,
 *   order_details, order_slip and stock_movements (model.ts: display, filter, sort, limit);
 *   PUT of a stock_available (the whole resource, XML body, as PrestaShop reads only XML input: a
 *   missing field or a JSON body is refused); PATCH of a product (XML, only the fields sent); any
 *   other write answers 405;
 * - no rate limit of its own: `faults.api.rateLimitNext` and the optional host limit play the host's
 *   429 with Retry-After (an HTML body, before PrestaShop runs).
 * `selfCheck` lists requests outside what the webservice documents (no output_format, a JSON body).
 */
import http from 'node:http';
import { WindowCounter, commonApiFault, type Emulator } from '../../emulator';
import { readXmlResource } from '../xml';
import { PsShop } from './shop';
import { WsError, json, listAnswer, type Json, type PsEmulatorOptions } from './model';

export { PS_HOST_LIMIT, type PsEmulatorOptions } from './model';

/** The fields a PUT of a stock_available must carry (the whole resource: PUT replaces it). */
const STOCK_REQUIRED = ['id', 'id_product', 'id_product_attribute', 'quantity', 'depends_on_stock', 'out_of_stock'];

export class PsEmulator extends PsShop implements Emulator {
  /** Replaces what a GET of this resource answers (tests: an answer the connector cannot read); null: the shop's own. */
  answerOverride: ((resource: string, answer: unknown) => unknown) | null = null;
  private readonly key: string;
  private readonly patch: boolean;
  private readonly hostLimit: WindowCounter | null;
  private readonly problems: string[] = [];

  constructor(opts: PsEmulatorOptions) {
    super(opts);
    this.key = opts.webserviceKey;
    this.patch = opts.patch ?? true;
    this.hostLimit = opts.hostLimit ? new WindowCounter(opts.hostLimit) : null;
  }

  isStockWrite(request: { method: string; path: string }): boolean {
    return request.method === 'PUT' && /^\/api\/stock_availables\//.test(request.path);
  }

  selfCheck(): string[] {
    return [...this.problems];
  }

  private authorised(req: http.IncomingMessage, url: URL): boolean {
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
    const user = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0] : url.searchParams.get('ws_key');
    return user === this.key;
  }

  /** Faults that come before PrestaShop runs: latency, no answer, the host's 429, a forced status. */
  private async hostFaults(res: http.ServerResponse, send: (status: number, body: unknown) => void): Promise<boolean> {
    const f = this.faults.api;
    const tooMany = (seconds: number) => {
      res.writeHead(429, { 'content-type': 'text/html', 'retry-after': String(seconds) });
      res.end('<html><head><title>429 Too Many Requests</title></head><body><h1>429 Too Many Requests</h1></body></html>');
    };
    const common = await commonApiFault(f);
    if (common === 'hang') {
      await this.hang(res);
      return true;
    }
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      tooMany(f.rateLimitNext.retryAfterSeconds);
      return true;
    }
    if (this.hostLimit) {
      const at = this.clockMs();
      const admitted = this.hostLimit.admit(at);
      if (!admitted.ok) {
        const seconds = Math.max(1, Math.ceil(admitted.retryAfterMs / 1000));
        this.rateLimited.push({ at, retryAfterMs: seconds * 1000 });
        tooMany(seconds);
        return true;
      }
    }
    if (common === 401) send(401, { errors: [{ code: 18, message: 'Invalid authentication key' }] });
    else if (common === 403) send(403, { errors: [{ code: 23, message: 'No permission for this authentication key' }] });
    else if (common === 404) {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>');
    } else if (f.failNext && f.failNext > 0) {
      f.failNext--;
      send(500, { errors: [{ code: 0, message: 'Internal Server Error' }] });
    } else return false;
    return true;
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) if (k !== 'ws_key') query[k] = v;
    this.requests.push({ method, path: url.pathname, body: raw === '' ? null : raw, query });
    const asJson = query.output_format === 'JSON' || /json/i.test(String(req.headers['output-format'] ?? ''));
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': asJson ? 'application/json' : 'text/xml;charset=utf-8', 'psws-version': '8.1.0' });
      res.end(asJson ? JSON.stringify(body) : '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink"/>');
    };
    if (await this.hostFaults(res, send)) return;
    if (!this.authorised(req, url)) {
      res.setHeader('www-authenticate', 'Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the login. No password required."');
      return send(401, { errors: [{ code: 17, message: 'Authentication key is empty' }] });
    }
    if (!asJson) this.problems.push(`${method} ${url.pathname} asked for no JSON (output_format=JSON): PrestaShop would answer XML.`);
    try {
      const m = /^\/api\/([a-z_]+)(?:\/(\d+))?\/?$/.exec(url.pathname);
      if (!m) throw new WsError(400, 16, `Resource of type "${url.pathname}" does not exists`);
      const [resource, id] = [m[1]!, m[2] ? Number(m[2]) : null];
      if (method === 'GET') {
        const answer = this.get(resource, id, query);
        return send(200, this.answerOverride ? this.answerOverride(resource, answer) : answer);
      }
      if (method === 'PUT' && resource === 'stock_availables' && id !== null) return await this.putStock(id, raw, res, send);
      if (method === 'PATCH' && resource === 'products' && id !== null && this.patch) return send(200, this.patchProduct(id, raw));
      throw new WsError(405, 4, `Method ${method} is not valid for the resource ${resource}`);
    } catch (err) {
      if (err instanceof WsError) return send(err.status, { errors: [{ code: err.code, message: err.message }] });
      this.problems.push(`${method} ${url.pathname} failed inside the emulator: ${String(err)}`);
      return send(500, { errors: [{ code: 0, message: 'Internal Server Error' }] });
    }
  }

  private rows(resource: string): { key: string; rows: Json[] } {
    const orders = [...this.orders.values()];
    switch (resource) {
      case 'products': return { key: 'products', rows: [...this.products.values()].map(json.product) };
      case 'combinations': return { key: 'combinations', rows: [...this.combinations.values()].map(json.combination) };
      case 'stock_availables': return { key: 'stock_availables', rows: [...this.stocks.values()].map(json.stock) };
      case 'orders': return { key: 'orders', rows: orders.map(json.order) };
      case 'order_details': return { key: 'order_details', rows: orders.flatMap((o) => o.rows.map((r) => json.orderDetail(o, r))) };
      case 'order_slip': return { key: 'order_slips', rows: [...this.slips.values()].map(json.slip) };
      case 'stock_movements': return { key: 'stock_movements', rows: this.movements.map(json.movement) };
      default: throw new WsError(400, 16, `Resource of type "${resource}" does not exists`);
    }
  }

  private get(resource: string, id: number | null, query: Record<string, string>): unknown {
    const { key, rows } = this.rows(resource);
    if (id === null) return listAnswer(key, rows, query, this.faults.api.ignorePaging === true);
    const row = rows.find((r) => r.id === id);
    if (!row) throw new WsError(404, 87, `Id(s) not exists: ${id}`);
    return { [key === 'order_slips' ? 'order_slip' : key.replace(/s$/, '')]: row };
  }

  private async putStock(id: number, raw: string, res: http.ServerResponse, send: (status: number, body: unknown) => void): Promise<void> {
    const x = this.stocks.get(id);
    const sku = x ? this.skuOfStock(x) : null;
    if (!x || (sku !== null && this.faults.api.refuseSku === sku)) throw new WsError(404, 87, `Id(s) not exists: ${id}`);
    const doc = readXmlResource(raw);
    if (!doc || doc.node !== 'stock_available') {
      if (/^\s*[{[]/.test(raw)) this.problems.push(`PUT /api/stock_availables/${id} sent JSON: the webservice reads XML only.`);
      throw new WsError(500, 127, `XML error : String could not be parsed as XML\nXML length : ${raw.length}`);
    }
    const missing = STOCK_REQUIRED.filter((f) => !(f in doc.fields));
    if (missing.length > 0) {
      this.problems.push(`PUT /api/stock_availables/${id} left out ${missing.join(', ')}: PUT replaces the whole resource.`);
      throw new WsError(400, 41, `parameter "${missing[0]}" required`);
    }
    if (Number(doc.fields.id) !== id) throw new WsError(400, 89, 'id is invalid or different from the one in the URL');
    const q = doc.fields.quantity!;
    if (!/^-?\d+$/.test(q)) throw new WsError(400, 85, 'Validation error: "Property StockAvailable->quantity is not valid"');
    this.move(x, Number(q) - x.quantity, { reason: 0, record: false });
    x.outOfStock = Number(doc.fields.out_of_stock);
    x.location = doc.fields.location ?? '';
    this.stockWritten([sku]);
    const f = this.faults.api;
    if (f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
      f.loseWriteAnswerNext--;
      return this.hang(res);
    }
    send(200, { stock_available: json.stock(x) });
  }

  private patchProduct(id: number, raw: string): unknown {
    const p = this.products.get(id);
    if (!p) throw new WsError(404, 87, `Id(s) not exists: ${id}`);
    const doc = readXmlResource(raw);
    if (!doc || doc.node !== 'product') throw new WsError(500, 127, `XML error : String could not be parsed as XML\nXML length : ${raw.length}`);
    if (doc.fields.active !== undefined) {
      if (doc.fields.active !== '0' && doc.fields.active !== '1') throw new WsError(400, 85, 'Validation error: "Property Product->active is not valid"');
      p.active = doc.fields.active === '1';
    }
    return { product: json.product(p) };
  }
}
