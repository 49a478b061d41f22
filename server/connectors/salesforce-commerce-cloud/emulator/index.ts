/**
 * A B2C Commerce realm with Omnichannel Inventory as real HTTP servers on 127.0.0.1, for tests and
 * the sandbox:
 * - Account Manager (`/dwsso/oauth2/access_token`, client credentials with HTTP Basic) on a port of
 *   its own: the connector kit's OAuth emulator (server/connectors/kit/oauth-emulator.ts);
 * - the B2C Commerce API on the other port: OCI availability records, the admin Orders API and the
 *   admin Products API (routes.ts), each request carrying an Account Manager bearer token whose
 *   scope names the tenant (`SALESFORCE_COMMERCE_API:<realm>_<instance>`) and the API's own scope
 *   (`sfcc.orders`, `sfcc.products[.rw]`, `sfcc.inventory.availability[.rw]`).
 * Every request and answer on a path Salesforce's OpenAPI files describe (Orders, Products) is
 * checked against them (spec.ts): a request outside the spec is answered 400 and kept in
 * `specViolations`, an answer of the emulator itself outside the spec is kept there too. OCI and
 * Account Manager are in none of the files; their requests are counted in `uncovered`.
 *
 * Errors are problem details (`{title, type, detail}`, application/problem+json). Load shedding is
 * a 503 with `sfdc_load`, `sfdc_load_status: THROTTLE` and Retry-After (`faults.api.loadShedNext`);
 * the rate limit, when asked for (`SFCC_EMULATED_LIMIT`), a 429 with Retry-After. No webhooks: B2C
 * Commerce sends none for orders or inventory, so everything is read by polling.
 */
import type http from 'node:http';
import { commonApiFault, LoopbackEmulator, readJsonBody, WebhookSender, WindowCounter, type ApiFaults, type Emulator, type EmulatorProduct, type SaleMoney, type WebhookFaults } from '../../emulator';
import { OAuthEmulator } from '../../kit/oauth-emulator';
import { SfccSpec, type MatchedOperation } from '../spec';
import { ProblemError, type Json, type Product, type SfccEmulatorOptions } from './model';
import { batchUpdate, getAvailability, getDeltas, getProduct, listOrders, orderJson, patchProduct, searchProducts, SfccRealm } from './routes';

export { SFCC_EMULATED_LIMIT, type SfccEmulatorOptions } from './model';

export const TOKEN_PATH = '/dwsso/oauth2/access_token';
const OCI = /^\/inventory\/availability\/v1\/organizations\/([^/]+)\/availability-records\/actions\/(get-availability|batch-update|get-deltas)$/;
const ORDERS = /^\/checkout\/orders\/v1\/organizations\/([^/]+)\/orders(?:\/([^/]+))?$/;
const PRODUCTS = /^\/product\/products\/v1\/organizations\/([^/]+)\/(product-search|products\/([^/]+))$/;

export interface SfccApiFaults extends ApiFaults {
  /** The next n API calls are shed for load: 503 with sfdc_load headers and this Retry-After (seconds). */
  loadShedNext?: { count: number; retryAfterSeconds: number };
}

export interface SpecViolation {
  kind: 'request' | 'response';
  what: string;
  errors: string[];
}

type Answer = { status: number; payload: Json; headers?: Record<string, string> } | 'hang';

export class SfccEmulator extends LoopbackEmulator implements Emulator {
  readonly platform = 'salesforce-commerce-cloud';
  readonly realm: SfccRealm;
  readonly accountManager: OAuthEmulator;
  readonly requests: { method: string; path: string; body: unknown; query: string }[] = [];
  readonly faults: { api: SfccApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  readonly spec = SfccSpec.load();
  /** Requests and answers outside Salesforce's published files, on paths the files describe. */
  readonly specViolations: SpecViolation[] = [];
  /** Requests on paths none of the files describe (OCI), by operation. */
  readonly uncovered = new Map<string, number>();
  /** Requests checked against the files, by operation. */
  readonly covered = new Map<string, number>();
  readonly internalErrors: string[] = [];
  protected readonly webhooks = new WebhookSender({ url: () => null, faults: () => this.faults.webhooks, random: Math.random, attempts: 1 });
  private readonly limit: WindowCounter | null;
  private readonly tenant: string;

  constructor(readonly opts: SfccEmulatorOptions) {
    super();
    this.realm = new SfccRealm(opts);
    this.accountManager = new OAuthEmulator({
      clients: [{ clientId: opts.clientId, clientSecret: opts.clientSecret }],
      paths: { authorize: '/dwsso/oauth2/authorize', token: TOKEN_PATH },
      accessTokenTtlSeconds: opts.accessTokenTtlSeconds ?? 1799,
      rotateRefreshTokens: false,
    });
    this.limit = opts.rateLimit ? new WindowCounter(opts.rateLimit) : null;
    if (opts.clock) this.clockMs = opts.clock;
    this.tenant = opts.organizationId.replace(/^f_ecom_/, '');
  }

  /** The kit's OAuth emulator's own address (the API port passes token requests to it, so `oauthBaseUrl` can be the API's address). */
  get authUrl(): string {
    return this.accountManager.url;
  }

  override async start(port = 0): Promise<string> {
    await this.accountManager.start();
    return super.start(port);
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.accountManager.stop();
  }

  // ------------------------------------------------------------------ the Emulator interface

  seed(products: EmulatorProduct[]): void {
    this.realm.seed(products);
  }
  locations(): string[] {
    return [...this.realm.locationIds];
  }
  level(sku: string, locationId: string): number | null {
    return this.realm.level(sku, locationId);
  }
  /** The platform's ids of a listing: the product id, which B2C Commerce uses as the SKU. */
  listing(sku: string): { productId: string; variantId: string } | null {
    return this.realm.products.has(sku) ? { productId: sku, variantId: sku } : null;
  }
  product(sku: string): Product | undefined {
    return this.realm.products.get(sku);
  }
  /** Whether the product is online on the channel's site. */
  online(sku: string): boolean {
    return this.realm.products.get(sku)?.onlineFlag[this.opts.siteId] === true;
  }
  async sell(sale: { sku: string; quantity: number; locationId?: string } & SaleMoney): Promise<{ orderId: string }> {
    return { orderId: this.realm.sell(sale).orderNo };
  }
  async refund(refund: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    return { refundId: this.realm.refund(refund) };
  }
  async cancel(orderId: string): Promise<void> {
    this.realm.cancel(orderId);
  }
  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    this.realm.setLevel(change);
  }
  /** The order as the Orders API answers it. */
  order(orderNo: string): Json | null {
    const o = this.realm.orders.get(orderNo);
    return o ? orderJson(this.realm, o) : null;
  }
  isStockWrite(request: { method: string; path: string; body: unknown }): boolean {
    return request.method === 'POST' && request.path.endsWith('/availability-records/actions/batch-update');
  }
  selfCheck(): string[] {
    return [
      ...this.internalErrors.slice(0, 3).map((e) => `Salesforce Commerce Cloud emulator error: ${e}`),
      ...this.specViolations.filter((v) => v.kind === 'request').slice(0, 3).map((v) => `request to B2C Commerce outside its spec: ${v.what}: ${v.errors.join(', ')}`),
    ];
  }

  // ------------------------------------------------------------------ HTTP

  private problem(status: number, title: string, slug: string, detail: string, headers: Record<string, string> = {}): Answer {
    return { status, payload: new ProblemError(status, title, slug, detail).body(), headers };
  }

  /** The faults every emulator answers, in SCAPI's shapes, then the rate limit. */
  private async fault(): Promise<Answer | null> {
    const f = this.faults.api;
    const common = await commonApiFault(f);
    if (common === 'hang') return 'hang';
    if (common === 401) return this.problem(401, 'Invalid Access Token', 'invalid-access-token', 'The request is unauthorized, the access token is invalid.');
    if (common === 403) return this.problem(403, 'Forbidden', 'forbidden', 'The API client is not allowed to access this resource.');
    if (common === 404) return this.problem(404, 'Not Found', 'not-found', 'The requested resource was not found.');
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      return this.problem(500, 'Internal Server Error', 'internal-server-error', 'An internal error has occurred.');
    }
    if (f.loadShedNext && f.loadShedNext.count > 0) {
      f.loadShedNext.count--;
      const headers = { 'retry-after': String(f.loadShedNext.retryAfterSeconds), sfdc_load: '95', sfdc_load_status: 'THROTTLE' };
      return this.problem(503, 'Service Unavailable', 'service-unavailable', 'The system is at capacity; retry later.', headers);
    }
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      this.rateLimited.push({ at: this.clockMs(), retryAfterMs: f.rateLimitNext.retryAfterSeconds * 1000 });
      return this.problem(429, 'Too Many Requests', 'too-many-requests', 'The rate limit was exceeded.', { 'retry-after': String(f.rateLimitNext.retryAfterSeconds) });
    }
    if (this.limit) {
      const at = this.clockMs();
      const admitted = this.limit.admit(at);
      if (!admitted.ok) {
        const seconds = Math.max(1, Math.ceil(admitted.retryAfterMs / 1000));
        this.rateLimited.push({ at, retryAfterMs: seconds * 1000 });
        return this.problem(429, 'Too Many Requests', 'too-many-requests', 'The rate limit was exceeded.', { 'retry-after': String(seconds) });
      }
    }
    return null;
  }

  /** The bearer token's scope must name this tenant and one of the API's scopes. */
  private authorise(req: http.IncomingMessage, needs: string[], org: string, ownOrg: string): Answer | null {
    const bearer = this.accountManager.checkBearer(req.headers.authorization);
    if (!bearer.ok) return this.problem(401, 'Invalid Access Token', 'invalid-access-token', 'The request is unauthorized, the access token is invalid.');
    const scopes = new Set(bearer.scope.split(' '));
    if (!scopes.has(`SALESFORCE_COMMERCE_API:${this.tenant}`) || org !== ownOrg) {
      return this.problem(403, 'Forbidden', 'forbidden', `The access token is not valid for organization '${org}' (its scope must name SALESFORCE_COMMERCE_API:${this.tenant}).`);
    }
    if (!needs.some((s) => scopes.has(s))) return this.problem(403, 'Forbidden', 'insufficient-scope', `The access token lacks the scope ${needs.join(' or ')}.`);
    return null;
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // Account Manager is another service: its token requests are not API requests (no faults, no
    // rate limit, not in `arrivals` or `requests`); they are passed to the kit's OAuth emulator.
    if ((req.url ?? '').split('?')[0] === TOKEN_PATH) {
      this.arrivals.pop();
      return this.accountManager.handle(req, res);
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const read = await readJsonBody(req);
    const { raw, json } = read;
    const body = json ? read.body : null;
    this.requests.push({ method, path: url.pathname, body, query: url.search });
    let match: MatchedOperation | null = null;
    let requestErrors: string[] = [];
    const covered = this.spec?.covers(url.pathname) ?? false;
    if (covered && this.spec) {
      ({ match, errors: requestErrors } = this.spec.validateRequest(method, url.pathname, url.searchParams, body, raw.length > 0));
      this.covered.set(match ? `${method} ${match.template}` : `${method} ${url.pathname}`, (this.covered.get(match ? `${method} ${match.template}` : `${method} ${url.pathname}`) ?? 0) + 1);
      if (requestErrors.length > 0) this.specViolations.push({ kind: 'request', what: `${method} ${url.pathname}${url.search}`, errors: requestErrors });
    } else {
      const op = `${method} ${url.pathname.replace(/organizations\/[^/]+/, 'organizations/{organizationId}')}`;
      this.uncovered.set(op, (this.uncovered.get(op) ?? 0) + 1);
    }
    const send = (a: Exclude<Answer, 'hang'>) => {
      if (match && this.spec) {
        const errors = this.spec.validateResponse(match, a.status, a.payload);
        if (errors.length > 0) this.specViolations.push({ kind: 'response', what: `${a.status} to ${method} ${url.pathname}`, errors });
      }
      res.writeHead(a.status, { 'content-type': a.status >= 400 ? 'application/problem+json' : 'application/json', ...(a.headers ?? {}) });
      res.end(JSON.stringify(a.payload));
    };
    const answer = await this.answer(req, method, url, json ? body : undefined, requestErrors);
    if (answer === 'hang') return this.hang(res);
    send(answer);
  }

  private async answer(req: http.IncomingMessage, method: string, url: URL, body: unknown, requestErrors: string[]): Promise<Answer> {
    const faulted = await this.fault();
    if (faulted) return faulted;
    if (body === undefined) return this.problem(400, 'Bad Request', 'bad-request', 'The request body is not valid JSON.');
    try {
      const oci = OCI.exec(url.pathname);
      if (oci) return this.oci(req, method, oci[1]!, oci[2]!, (body ?? {}) as Json);
      const orders = ORDERS.exec(url.pathname);
      const products = PRODUCTS.exec(url.pathname);
      const denied = orders
        ? this.authorise(req, ['sfcc.orders', 'sfcc.orders.rw'], orders[1]!, this.opts.organizationId)
        : products
          ? this.authorise(req, method === 'PATCH' ? ['sfcc.products.rw'] : ['sfcc.products', 'sfcc.products.rw'], products[1]!, this.opts.organizationId)
          : null;
      if (denied) return denied;
      if (requestErrors.length > 0) return this.problem(400, 'Bad Request', 'bad-request', requestErrors.slice(0, 5).join('; '));
      const ignorePaging = this.faults.api.ignorePaging === true;
      if (orders && method === 'GET' && !orders[2]) return { status: 200, payload: listOrders(this.realm, url.searchParams, ignorePaging) };
      if (orders && method === 'GET') {
        const o = this.order(decodeURIComponent(orders[2]!));
        return o ? { status: 200, payload: o } : this.problem(404, 'Order Not Found', 'order-not-found', `No order with number '${orders[2]}' was found.`);
      }
      if (products && products[2] === 'product-search' && method === 'POST') return { status: 200, payload: searchProducts(this.realm, body as Json, ignorePaging) };
      if (products && products[3] && method === 'GET') return { status: 200, payload: getProduct(this.realm, decodeURIComponent(products[3])) };
      if (products && products[3] && method === 'PATCH') return { status: 200, payload: patchProduct(this.realm, decodeURIComponent(products[3]), body as Json) };
      return this.problem(404, 'Not Found', 'not-found', `No resource ${method} ${url.pathname}.`);
    } catch (err) {
      if (err instanceof ProblemError) return { status: err.status, payload: err.body(), headers: err.headers };
      this.internalErrors.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
      return this.problem(500, 'Internal Server Error', 'internal-server-error', 'An internal error has occurred.');
    }
  }

  private oci(req: http.IncomingMessage, method: string, group: string, action: string, body: Json): Answer {
    const write = action === 'batch-update';
    const denied = this.authorise(req, write ? ['sfcc.inventory.availability.rw'] : ['sfcc.inventory.availability', 'sfcc.inventory.availability.rw'], group, this.opts.tenantGroupId);
    if (denied) return denied;
    if (method !== 'POST') return this.problem(405, 'Method Not Allowed', 'method-not-allowed', `${action} takes POST.`);
    if (action === 'get-availability') return { status: 200, payload: getAvailability(this.realm, body) };
    if (action === 'get-deltas') return { status: 200, payload: getDeltas(this.realm, body) };
    const { answer, written } = batchUpdate(this.realm, body, { limit: this.opts.batchLimit ?? 100, refuseSku: this.faults.api.refuseSku ?? null });
    this.stockWritten(written);
    const f = this.faults.api;
    if (written.length > 0 && f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
      f.loseWriteAnswerNext--;
      return 'hang';
    }
    return { status: 200, payload: answer };
  }
}
