/**
 * An Adobe Commerce (Magento 2.4) instance as a real HTTP server on 127.0.0.1, for tests and the
 * sandbox. It answers the Admin REST routes this connector uses under `/rest/<store code>/V1/…`
 * with the shapes of the 2.4.8 schema, and checks every request it receives and every answer it
 * gives against that schema (`selfCheck()` lists what broke it):
 * - auth: an integration's access token as `Authorization: Bearer <token>`; anything else is
 *   answered 401 "The consumer isn't authorized to access %resources.";
 * - GET /V1/products, /V1/inventory/sources, /V1/inventory/source-items, /V1/orders and
 *   /V1/creditmemos with searchCriteria (filters eq, neq, in, gt, gteq, lt, lteq; one sort order;
 *   pageSize and currentPage, a page past the last answering the last page, as Magento's
 *   collections do; `total_count`), GET /V1/orders/{id}, GET /V1/stockItems/{sku};
 * - writes: POST /V1/inventory/source-items (validated whole: one bad item refuses the request with
 *   400 "Validation Failed" and its `errors`), PUT /V1/products/{sku}/stockItems/{itemId} (the
 *   default source), PUT /V1/products/{sku} (status, visibility);
 * - errors in Magento's `error-response` shape: 404 "Request does not match any route.", 500
 *   "Internal Error. Details are available in Magento log file. Report ID: webapi-…". A 403 and a 429
 *   come from the host or firewall in front (an HTML page; 429 with Retry-After): Commerce itself
 *   answers neither.
 * The store's life (sales, credit memos, edits, hooks) is in events.ts; shapes in model.ts.
 */
import http from 'node:http';
import { WindowCounter, commonApiFault, readRequest, type Emulator } from '../../emulator';
import { AdobeSpec } from '../spec';
import { AdobeStore } from './events';
import { MagentoError, magentoMs, orderBody, creditmemoBody, productBody, salableQty, stockItemBody, type AdobeEmulatorOptions, type Json } from './model';

export { ADOBE_HOST_LIMIT, type AdobeEmulatorOptions } from './model';
export { EMULATOR_PUBLIC_KEY } from './keys';

interface Criteria {
  filters: { field: string; value: string; condition: string }[];
  sort: { field: string; direction: string } | null;
  pageSize: number | null;
  currentPage: number;
}

function criteriaOf(query: URLSearchParams): Criteria {
  const filters = new Map<string, { field: string; value: string; condition: string }>();
  const sort: { field: string; direction: string } = { field: '', direction: 'ASC' };
  for (const [k, v] of query) {
    const f = /^searchCriteria\[filterGroups\]\[(\d+)\]\[filters\]\[(\d+)\]\[(field|value|conditionType)\]$/.exec(k);
    if (f) {
      const key = `${f[1]}:${f[2]}`;
      const e = filters.get(key) ?? { field: '', value: '', condition: 'eq' };
      if (f[3] === 'field') e.field = v;
      else if (f[3] === 'value') e.value = v;
      else e.condition = v;
      filters.set(key, e);
    }
    const s = /^searchCriteria\[sortOrders\]\[0\]\[(field|direction)\]$/.exec(k);
    if (s && s[1] === 'field') sort.field = v;
    else if (s) sort.direction = v;
  }
  const size = query.get('searchCriteria[pageSize]');
  const page = query.get('searchCriteria[currentPage]');
  return { filters: [...filters.values()], sort: sort.field ? sort : null, pageSize: size !== null && /^\d+$/.test(size) && Number(size) > 0 ? Number(size) : null, currentPage: page !== null && /^\d+$/.test(page) && Number(page) > 0 ? Number(page) : 1 };
}

function compare(a: unknown, b: string): number {
  const ta = magentoMs(a);
  const tb = magentoMs(b);
  if (ta !== null && tb !== null) return ta - tb;
  if (typeof a === 'number' && /^-?\d+(\.\d+)?$/.test(b)) return a - Number(b);
  return String(a).localeCompare(b);
}

function matches(item: Json, f: Criteria['filters'][number]): boolean {
  const v = item[f.field];
  switch (f.condition) {
    case 'eq': return compare(v, f.value) === 0;
    case 'neq': return compare(v, f.value) !== 0;
    case 'in': return f.value.split(',').some((x) => compare(v, x.trim()) === 0);
    case 'nin': return !f.value.split(',').some((x) => compare(v, x.trim()) === 0);
    case 'gt': return compare(v, f.value) > 0;
    case 'gteq': return compare(v, f.value) >= 0;
    case 'lt': return compare(v, f.value) < 0;
    case 'lteq': return compare(v, f.value) <= 0;
    default: throw new MagentoError(400, `Invalid condition type "${f.condition}".`);
  }
}

const sourceBody = (code: string): Json => ({ source_code: code, name: code, enabled: true, country_id: 'US', postcode: '10001' });

export class AdobeEmulator extends AdobeStore implements Emulator {
  /** What the emulator found wrong: requests and answers outside the 2.4.8 schema, and its own errors. */
  readonly violations: string[] = [];
  /**
   * Replaces an answer (tests: a forged or malformed page): called with `METHOD /V1/template` and
   * what Magento would answer; its result is sent instead (not checked against the schema). Null: as Magento answers.
   */
  answerOverride: ((route: string, answer: unknown) => unknown) | null = null;
  private readonly spec = AdobeSpec.load();
  private readonly hostLimit: WindowCounter | null;
  private readonly inputLimit: number | null;

  constructor(opts: AdobeEmulatorOptions) {
    super(opts);
    this.hostLimit = opts.hostLimit ? new WindowCounter(opts.hostLimit) : null;
    this.inputLimit = opts.inputLimit === undefined ? 20 : opts.inputLimit;
    if (!this.spec) this.violations.push('The Adobe Commerce 2.4.8 schema (../shared/specs/adobe-commerce/admin-schema-2.4.8.yaml) was not found: nothing was checked.');
  }

  selfCheck(): string[] {
    return [...this.violations];
  }

  /** A push of stock: a source items save or a legacy stock item save. */
  isStockWrite(request: { method: string; path: string; body: unknown }): boolean {
    return (request.method === 'POST' && /\/V1\/inventory\/source-items$/.test(request.path)) || (request.method === 'PUT' && /\/stockItems\/[^/]+$/.test(request.path));
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { raw, body, url, method } = await readRequest(req, this.baseUrl);
    this.requests.push({ method, path: url.pathname, body, query: Object.fromEntries(url.searchParams) });
    const checked = this.spec?.validateRequest(method, url.pathname, url.searchParams, body, raw !== '');
    if (checked && checked.errors.length > 0) this.violations.push(...checked.errors.map((e) => `request ${method} ${url.pathname}: ${e}`));
    const send = (status: number, payload: unknown) => {
      if (this.spec) {
        const errs = checked?.match ? this.spec.validateResponse(checked.match, status, payload) : status >= 400 ? this.spec.checkErrorBody(payload) : [];
        this.violations.push(...errs.map((e) => `answer ${status} to ${method} ${url.pathname}: ${e}`));
      }
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(payload));
    };
    const html = (status: number, title: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/html', ...headers });
      res.end(`<html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`);
    };
    const f = this.faults.api;
    const common = await commonApiFault(f);
    if (common === 'hang') return this.hang(res);
    if (common === null && f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      return html(429, '429 Too Many Requests', { 'retry-after': String(f.rateLimitNext.retryAfterSeconds) });
    }
    if (common === null && this.hostLimit) {
      const at = this.clockMs();
      const admitted = this.hostLimit.admit(at);
      if (!admitted.ok) {
        const seconds = Math.max(1, Math.ceil(admitted.retryAfterMs / 1000));
        this.rateLimited.push({ at, retryAfterMs: seconds * 1000 });
        return html(429, '429 Too Many Requests', { 'retry-after': String(seconds) });
      }
    }
    if (common === 403) return html(403, '403 Forbidden');
    if (common === 404) return send(404, { message: 'Request does not match any route.' });
    if (common === 401 || req.headers.authorization !== `Bearer ${this.token}`) {
      return send(401, { message: "The consumer isn't authorized to access %resources.", parameters: [{ resources: this.resourceOf(url.pathname) }] });
    }
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      return send(500, { message: `Internal Error. Details are available in Magento log file. Report ID: webapi-${Date.now().toString(16)}` });
    }
    try {
      if (!checked?.match || (!this.msi && checked.match.template.startsWith('/V1/inventory/'))) throw new MagentoError(404, 'Request does not match any route.');
      const out = this.route(method, checked.match.template, checked.match.pathParams, url.searchParams, body);
      if (this.isStockWrite({ method, path: url.pathname, body }) && f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
        f.loseWriteAnswerNext--;
        return this.hang(res);
      }
      if (this.answerOverride) {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        const forged = this.answerOverride(`${method} ${checked.match.template}`, out);
        res.end(typeof forged === 'string' ? forged : JSON.stringify(forged));
        return;
      }
      send(200, out);
    } catch (err) {
      if (err instanceof MagentoError) return send(err.status, err.body);
      this.violations.push(`the emulator failed on ${method} ${url.pathname}: ${String(err)}`);
      send(500, { message: 'Internal Error. Details are available in Magento log file.' });
    }
  }

  private resourceOf(pathname: string): string {
    if (pathname.includes('/inventory/')) return 'Magento_InventoryApi::source';
    if (pathname.includes('/orders') || pathname.includes('/creditmemo')) return 'Magento_Sales::sales';
    if (pathname.includes('/stockItems')) return 'Magento_CatalogInventory::cataloginventory';
    return 'Magento_Catalog::products';
  }

  /** A searchCriteria list, as Magento's repositories answer getList. */
  private list(items: Json[], query: URLSearchParams): Json {
    const c = criteriaOf(query);
    let out = items.filter((it) => c.filters.every((f) => matches(it, f)));
    if (c.sort) {
      const dir = c.sort.direction.toUpperCase() === 'DESC' ? -1 : 1;
      const field = c.sort.field;
      out = [...out].sort((a, b) => (compare(a[field], String(b[field])) || Number(a.entity_id ?? a.id ?? 0) - Number(b.entity_id ?? b.id ?? 0)) * dir);
    }
    const total = out.length;
    let page = c.currentPage;
    if (c.pageSize !== null) {
      // A cache in front of the store that ignores paging answers the first page. A page past the
      // end is an empty list (2.4: magento/magento2#26986; 2.3 and before answered the last page).
      if (this.inputLimit !== null && c.pageSize > 300) throw new MagentoError(400, 'Maximum page size is %max', { message: 'Maximum page size is %max', parameters: [{ fieldName: 'max', fieldValue: '300' }] });
      page = this.faults.api.ignorePaging ? 1 : page;
      out = out.slice((page - 1) * c.pageSize, page * c.pageSize);
    }
    const search_criteria: Json = {
      filter_groups: c.filters.map((f) => ({ filters: [{ field: f.field, value: f.value, condition_type: f.condition }] })),
      ...(c.sort ? { sort_orders: [{ field: c.sort.field, direction: c.sort.direction }] } : {}),
      ...(c.pageSize !== null ? { page_size: c.pageSize, current_page: page } : {}),
    };
    return { items: out, search_criteria, total_count: total };
  }

  private refused(sku: string): boolean {
    const r = this.faults.api.refuseSku;
    return typeof r === 'string' && r !== '' && r === sku;
  }

  private route(method: string, template: string, params: Record<string, string>, query: URLSearchParams, body: unknown): unknown {
    const products = [...this.products.values()];
    const key = `${method} ${template}`;
    switch (key) {
      case 'GET /V1/products':
        return this.list(products.map(productBody), query);
      case 'GET /V1/inventory/sources':
        return this.list(this.sourceCodes.map(sourceBody), query);
      case 'GET /V1/inventory/get-sources-assigned-to-stock-ordered-by-priority/{stockId}':
        // Every source is linked to the default stock (id 1), in the order they were given.
        return params.stockId === '1' ? this.sourceCodes.map(sourceBody) : [];
      case 'GET /V1/inventory/get-product-salable-quantity/{sku}/{stockId}': {
        if (params.stockId !== '1') throw new MagentoError(404, `Stock with id "${params.stockId}" does not exist.`);
        const p = this.products.get(params.sku!);
        if (!p) throw new MagentoError(404, "The product that was requested doesn't exist. Verify the product and try again.");
        return salableQty(p, this.sourceCodes);
      }
      case 'GET /V1/inventory/source-items':
        return this.list(products.flatMap((p) => [...p.sources].map(([code, s]) => ({ sku: p.sku, source_code: code, quantity: s.quantity, status: s.status }))), query);
      case 'POST /V1/inventory/source-items':
        return this.saveFromApi(body);
      case 'GET /V1/stockItems/{productSku}': {
        const p = this.products.get(params.productSku!);
        if (!p) throw new MagentoError(404, "The product that was requested doesn't exist. Verify the product and try again.");
        return stockItemBody(p);
      }
      case 'PUT /V1/products/{productSku}/stockItems/{itemId}':
        return this.saveStockItem(params.productSku!, body);
      case 'PUT /V1/products/{sku}':
        return this.saveProduct(params.sku!, body);
      case 'GET /V1/orders':
        return this.list([...this.orders.values()].map((o) => orderBody(o, this.currency)), query);
      case 'GET /V1/orders/{id}': {
        const o = this.orders.get(Number(params.id));
        if (!o) throw new MagentoError(404, 'The entity that was requested doesn\'t exist. Verify the entity and try again.');
        return orderBody(o, this.currency);
      }
      case 'GET /V1/creditmemos':
        return this.list([...this.creditmemos.values()].map((c) => creditmemoBody(c, this.orders.get(c.orderId)!, this.currency, false)), query);
      default:
        throw new MagentoError(404, 'Request does not match any route.');
    }
  }

  /** SourceItemsSaveInterface::execute: validated whole, then saved. */
  private saveFromApi(body: unknown): unknown {
    const list = ((body as Json | null)?.sourceItems ?? null) as Json[] | null;
    if (!Array.isArray(list) || list.length === 0) throw new MagentoError(400, 'Input data is empty');
    if (this.inputLimit !== null && list.length > this.inputLimit) throw new MagentoError(400, `Maximum items of type "\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface" is ${this.inputLimit}`);
    const errors: { message: string; parameters: Json[] }[] = [];
    const items: { sku: string; source: string; quantity: number }[] = [];
    for (const it of list) {
      const sku = typeof it?.sku === 'string' ? it.sku : '';
      const source = typeof it?.source_code === 'string' ? it.source_code : '';
      if (!this.products.has(sku) || this.refused(sku)) errors.push({ message: 'Product with SKU "%sku" does not exist.', parameters: [{ fieldName: 'sku', fieldValue: sku }] });
      else if (!this.sourceCodes.includes(source)) errors.push({ message: 'Source with code "%code" does not exist.', parameters: [{ fieldName: 'source_code', fieldValue: source }] });
      else if (typeof it.quantity !== 'number' || !Number.isFinite(it.quantity)) errors.push({ message: '"quantity" should be numeric.', parameters: [{ fieldName: 'quantity' }] });
      else items.push({ sku, source, quantity: it.quantity });
    }
    if (errors.length > 0) throw new MagentoError(400, 'Validation Failed', { message: 'Validation Failed', errors });
    this.saveSourceItems(items, true);
    return [];
  }

  /** StockRegistry::updateStockItemBySku through PUT …/stockItems/{itemId}: the default source. */
  private saveStockItem(sku: string, body: unknown): unknown {
    const p = this.products.get(sku);
    if (!p || this.refused(sku)) throw new MagentoError(404, "The product that was requested doesn't exist. Verify the product and try again.");
    if (!this.sourceCodes.includes('default')) throw new MagentoError(400, 'The default source is not assigned to this store; use the source items of its sources.');
    const item = ((body as Json | null)?.stockItem ?? null) as Json | null;
    if (!item || typeof item.qty !== 'number') throw new MagentoError(400, '"qty" is required. Enter and try again.');
    this.saveSourceItems([{ sku, source: 'default', quantity: item.qty }], true);
    return p.id;
  }

  private saveProduct(sku: string, body: unknown): unknown {
    const p = this.products.get(sku);
    if (!p) throw new MagentoError(404, "The product that was requested doesn't exist. Verify the product and try again.");
    const fields = ((body as Json | null)?.product ?? {}) as Json;
    if (fields.status !== undefined && fields.status !== 1 && fields.status !== 2) throw new MagentoError(400, 'Invalid status.');
    if (fields.status === 1 || fields.status === 2) p.status = fields.status;
    if (fields.visibility === 1 || fields.visibility === 2 || fields.visibility === 3 || fields.visibility === 4) p.visibility = fields.visibility;
    p.updated = this.now();
    return productBody(p);
  }
}
