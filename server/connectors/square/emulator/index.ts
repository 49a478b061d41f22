/**
 * A Square seller account as a real HTTP server on 127.0.0.1, for tests and the sandbox. It answers
 * the REST operations this connector uses, in Square's wire shapes (snake_case JSON):
 * - POST /v2/inventory/changes/batch-create: ADJUSTMENT (NONE → IN_STOCK adds, IN_STOCK → WASTE or
 *   SOLD removes) and PHYSICAL_COUNT (IN_STOCK) changes, at most 100, all or nothing,
 *   `ignore_unchanged_counts`, `occurred_at` required and within 24 h, and idempotency as Square
 *   documents it: the same key with the same body answers the first result again and applies
 *   nothing; the same key with another body is refused (400 IDEMPOTENCY_KEY_REUSED);
 * - POST /v2/inventory/counts/batch-retrieve: filters by catalog object, location, state and
 *   `updated_after`, newest `calculated_at` first, `limit` and an opaque `cursor`;
 * - GET /v2/catalog/list: `types` (comma-separated, case-insensitive), 100 objects a page, `cursor`;
 * - POST /v2/orders/batch-retrieve and GET /v2/orders/{order_id}.
 * Bearer-token auth (401 UNAUTHORIZED in Square's `{errors: [{category, code, detail}]}` shape).
 *
 * Every request is validated against Square's OpenAPI document (`../shared/specs/square/openapi.json`,
 * see spec.ts): an invalid one is answered 400 and recorded in `specViolations`, and so is every
 * answer and webhook body of the emulator itself that does not match the spec.
 *
 * Things happen as on Square: `sell` makes a COMPLETED order (a tender, lines with uid,
 * catalog_object_id and quantity) and sends `order.created`, `order.updated`, `payment.updated` and
 * `inventory.count.updated`; `refund` makes a return order (Square makes one for every refund) with
 * `returns[]` and sends `refund.created` (PENDING) and `refund.updated` (COMPLETED), and, when the
 * goods go back on the shelf, `inventory.count.updated`; `setLevel` and every applied push send
 * `inventory.count.updated`. Webhooks are `{merchant_id, type, event_id, created_at, data:{type, id,
 * object}}`, signed base64(HMAC-SHA256(signature key, notification URL + body)) in
 * `x-square-hmacsha256-signature`, the notification URL being the one given to `subscribe`.
 *
 * Money is Square's Money objects (`{amount, currency}`, amount in the currency's minor unit; the
 * `currency` option, AUD by default). A variation has a price (2500 unless given); a sale may carry a
 * fixed line discount (`discounts[]` FIXED_AMOUNT, LINE_ITEM scope, `applied_discounts` on the line)
 * and a tax rate (`taxRate` option or per sale, in percent: an ADDITIVE LINE_ITEM tax in `taxes[]`,
 * `applied_taxes` on the line, tax = (gross − discount) × rate rounded half up). The line carries
 * `base_price_money`, `variation_total_price_money` = `gross_sales_money` = price × quantity,
 * `total_discount_money`, `total_tax_money` and `total_money` = gross − discount + tax; the order its
 * sums, `net_amount_due_money` 0 and one tender for its total. A refund gives back the returned
 * units' share of the line's `total_money` (split so partial refunds add up to the line), in the
 * return order's `return_amounts` and `refunds[].amount_money`.
 *
 * The account is built in layers: account.ts (state, objects, webhooks), events.ts (what happens on
 * the account), and here its REST API: the HTTP answers, inventory, catalog and orders.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { commonApiFault, WindowCounter, type Emulator } from '../../emulator';
import { DEFAULT_SQUARE_VERSION } from '../client';
import type { MatchedOperation } from '../spec';
import { ApiError, DAY_MS, MAX_CHANGES, TRACKED, WRITABLE_STATES, decimal, invalid, sha, type Json, type SquareEmulatorOptions, type SquareErrorItem } from './model';
import { SquareAccountEvents } from './events';

export { SQUARE_EMULATED_LIMIT, type SpecViolation, type SquareEmulatorOptions } from './model';

/** One checked change of a BatchChangeInventory request, applied once the whole batch is known good. */
interface PlannedChange {
  variationId: string;
  locationId: string;
  apply: (at: string) => Json | null;
}

export class SquareEmulator extends SquareAccountEvents implements Emulator {
  protected readonly countsPageSize: number;
  protected readonly catalogPageSize: number;
  protected readonly limit: WindowCounter | null;
  /** BatchChangeInventory's idempotency keys: the body's hash and the first answer. */
  private readonly idempotency = new Map<string, { hash: string; answer: Json }>();

  constructor(opts: SquareEmulatorOptions) {
    super(opts);
    this.countsPageSize = opts.countsPageSize ?? 1000;
    this.catalogPageSize = opts.catalogPageSize ?? 100;
    this.limit = opts.rateLimit ? new WindowCounter(opts.rateLimit) : null;
  }

  /** A push of stock: a BatchChangeInventory request (the simulation counts them). */
  isStockWrite(request: { method: string; path: string; body: unknown }): boolean {
    return request.method === 'POST' && request.path === '/v2/inventory/changes/batch-create';
  }

  /** The emulator's own errors while answering, and requests it received that Square's spec refuses. */
  selfCheck(): string[] {
    return [
      ...this.internalErrors.slice(0, 3).map((e) => `Square emulator error: ${e}`),
      ...this.specViolations.filter((v) => v.kind === 'request').slice(0, 3).map((v) => `request to Square outside its spec: ${v.what}: ${v.errors.join(', ')}`),
    ];
  }

  // ------------------------------------------------------------------ HTTP

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { url, method, raw, body, json, version } = await this.readRequest(req);
    let match: MatchedOperation | null = null;
    let requestErrors: string[] = [];
    if (!json) requestErrors = ['the body is not JSON'];
    else if (this.spec) ({ match, errors: requestErrors } = this.spec.validateRequest(method, url.pathname, url.searchParams, body, raw.length > 0));
    if (requestErrors.length > 0) this.specViolations.push({ kind: 'request', what: `${method} ${url.pathname}${url.search}`, errors: requestErrors });

    const send = (status: number, payload: Json, headers: Record<string, string> = {}) => {
      if (this.spec) {
        const errors = match ? this.spec.validateResponse(match, status, payload) : status >= 400 ? this.spec.checkErrorBody(payload) : [];
        if (errors.length > 0) this.specViolations.push({ kind: 'response', what: `${status} to ${method} ${url.pathname}`, errors });
      }
      res.writeHead(status, { 'content-type': 'application/json', 'square-version': version ?? DEFAULT_SQUARE_VERSION, ...headers });
      res.end(JSON.stringify(payload));
    };

    const refused = await this.refusal(req);
    if (refused === 'hang') return this.hang(res);
    if (refused) return send(refused.status, refused.payload, refused.headers);
    if (!json) return send(400, { errors: [invalid('BAD_REQUEST', 'The request body is not valid JSON.')] });
    if (!match && this.spec) return send(404, { errors: [invalid('NOT_FOUND', `Resource not found: ${method} ${url.pathname}`)] });
    if (requestErrors.length > 0) return send(400, { errors: requestErrors.slice(0, 10).map((e) => invalid('BAD_REQUEST', e)) });

    try {
      const answer = this.route(method, url, match, (body ?? {}) as Json);
      if (answer === 'hang') return this.hang(res);
      return send(answer.status, answer.payload);
    } catch (err) {
      if (err instanceof ApiError) return send(err.status, { errors: err.errors });
      this.internalErrors.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
      return send(500, { errors: [{ category: 'API_ERROR', code: 'INTERNAL_SERVER_ERROR', detail: 'An internal error has occurred.' }] });
    }
  }

  /** Reads the request's body (JSON when it parses) and records the request. */
  private async readRequest(req: http.IncomingMessage): Promise<{ url: URL; method: string; raw: string; body: unknown; json: boolean; version: string | null }> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    let body: unknown = null;
    let json = true;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = raw;
      json = false;
    }
    const version = typeof req.headers['square-version'] === 'string' ? req.headers['square-version'] : null;
    this.requests.push({ method, path: url.pathname, body, query: url.search, squareVersion: version });
    return { url, method, raw, body, json, version };
  }

  /** A request refused before it is read: an injected fault, a wrong token, or the rate limit. */
  private async refusal(req: http.IncomingMessage): Promise<'hang' | { status: number; payload: Json; headers?: Record<string, string> } | null> {
    const f = this.faults.api;
    const fault = await commonApiFault(f);
    if (fault === 'hang') return 'hang';
    if (fault !== null) {
      // Square's error shape and codes (https://developer.squareup.com/docs/build-basics/handling-errors).
      const status = fault;
      if (status === 401) return { status: 401, payload: { errors: [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: 'This request could not be authorized.' }] } };
      if (status === 403) {
        return { status: 403, payload: { errors: [{ category: 'AUTHENTICATION_ERROR', code: 'INSUFFICIENT_SCOPES', detail: 'The merchant has not given your application sufficient permissions to do that. The merchant must authorize your application for the following scopes: [INVENTORY_WRITE]' }] } };
      }
      return { status: 404, payload: { errors: [{ category: 'INVALID_REQUEST_ERROR', code: 'NOT_FOUND', detail: 'Resource not found.' }] } };
    }
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      return { status: 401, payload: { errors: [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: 'This request could not be authorized.' }] } };
    }
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      return { status: 500, payload: { errors: [{ category: 'API_ERROR', code: 'INTERNAL_SERVER_ERROR', detail: 'An internal error has occurred, and the API was unable to service your request.' }] } };
    }
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      return { status: 429, payload: { errors: [{ category: 'RATE_LIMIT_ERROR', code: 'RATE_LIMITED', detail: 'Rate limit exceeded.' }] }, headers: { 'retry-after': String(f.rateLimitNext.retryAfterSeconds) } };
    }
    if (this.limit) {
      const at = this.clockMs();
      const admitted = this.limit.admit(at);
      if (!admitted.ok) {
        // Square's documentation says nothing of a Retry-After on its 429s: none is sent here.
        this.rateLimited.push({ at, retryAfterMs: null });
        return { status: 429, payload: { errors: [{ category: 'RATE_LIMIT_ERROR', code: 'RATE_LIMITED', detail: 'This request was rate limited. Please retry later.' }] } };
      }
    }
    return null;
  }

  /** The operation a valid request names; 'hang' when a fault loses the answer to a write. */
  private route(method: string, url: URL, match: MatchedOperation | null, b: Json): 'hang' | { status: number; payload: Json } {
    const f = this.faults.api;
    const route = match?.template ?? url.pathname;
    if (method === 'POST' && route === '/v2/inventory/changes/batch-create') {
      const answer = this.batchChange(b);
      if (f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0) {
        f.loseWriteAnswerNext--;
        return 'hang';
      }
      return { status: 200, payload: answer };
    }
    if (method === 'POST' && route === '/v2/inventory/counts/batch-retrieve') return { status: 200, payload: this.batchCounts(b) };
    if (method === 'GET' && route === '/v2/catalog/list') return { status: 200, payload: this.listCatalog(url.searchParams) };
    if (method === 'POST' && route === '/v2/orders/batch-retrieve') return { status: 200, payload: this.batchOrders(b) };
    if (method === 'GET' && (route === '/v2/orders/{order_id}' || /^\/v2\/orders\/[^/]+$/.test(route))) {
      const id = match?.pathParams.order_id ?? decodeURIComponent(url.pathname.split('/').pop()!);
      const order = this.orders.get(id);
      if (!order) throw new ApiError(404, [invalid('NOT_FOUND', `Order \`${id}\` not found.`)]);
      return { status: 200, payload: { order } };
    }
    return { status: 404, payload: { errors: [invalid('NOT_FOUND', `The emulator does not implement ${method} ${url.pathname}.`)] } };
  }

  // ------------------------------------------------------------------ inventory

  protected batchChange(body: Json): Json {
    const key = String(body.idempotency_key);
    const hash = sha(JSON.stringify(body));
    const seen = this.idempotency.get(key);
    if (seen) {
      if (seen.hash !== hash) throw new ApiError(400, [invalid('IDEMPOTENCY_KEY_REUSED', 'The idempotency key can only be retried with the same request data.', 'idempotency_key')]);
      return seen.answer;
    }
    const changes = (Array.isArray(body.changes) ? body.changes : []) as Json[];
    if (changes.length > MAX_CHANGES) throw new ApiError(400, [invalid('ARRAY_LENGTH_TOO_LONG', `At most ${MAX_CHANGES} changes may be sent in one request; got ${changes.length}.`, 'changes')]);
    const ignoreUnchanged = body.ignore_unchanged_counts !== false;
    const errors: SquareErrorItem[] = [];
    const planned: PlannedChange[] = [];
    const nowMs = Date.now();
    changes.forEach((change, i) => {
      const p = this.planChange(change, i, nowMs, ignoreUnchanged);
      if ('apply' in p) planned.push(p);
      else errors.push(p);
    });
    // A batch is applied entirely or not at all; its changes apply in order, so two changes of one
    // count compose.
    if (errors.length > 0) throw new ApiError(400, errors);
    const { answer, changed } = this.applyPlanned(planned);
    this.idempotency.set(key, { hash, answer });
    // The echo: Square reports every count change, ours included.
    if (changed.length > 0) this.emit('inventory.count.updated', { type: 'inventory_counts', id: crypto.randomUUID(), object: { inventory_counts: changed } });
    this.stockWritten(planned.map((p) => this.variations.get(p.variationId)?.sku ?? null));
    return answer;
  }

  /** One change of a batch, checked: the error that refuses the batch, or how to apply it. */
  private planChange(change: Json, i: number, nowMs: number, ignoreUnchanged: boolean): SquareErrorItem | PlannedChange {
    const type = change.type;
    const part = type === 'ADJUSTMENT' ? (change.adjustment as Json | undefined) : type === 'PHYSICAL_COUNT' ? (change.physical_count as Json | undefined) : undefined;
    const field = `changes[${i}].${type === 'ADJUSTMENT' ? 'adjustment' : 'physical_count'}`;
    if (type !== 'ADJUSTMENT' && type !== 'PHYSICAL_COUNT') return invalid('INVALID_ENUM_VALUE', `The emulator supports ADJUSTMENT and PHYSICAL_COUNT changes, not ${String(type)}.`, `changes[${i}].type`);
    if (!part) return invalid('MISSING_REQUIRED_PARAMETER', `A ${type} change needs its ${type === 'ADJUSTMENT' ? 'adjustment' : 'physical_count'}.`, field);
    const variationId = typeof part.catalog_object_id === 'string' ? part.catalog_object_id : '';
    const locationId = typeof part.location_id === 'string' ? part.location_id : '';
    const refused = this.faults.api.refuseSku;
    if (!this.variations.has(variationId) || (refused && this.variations.get(variationId)!.sku === refused)) {
      return invalid('INVALID_VALUE', `Item variation with catalog object ID \`${variationId}\` not found.`, `${field}.catalog_object_id`);
    }
    if (!this.locationIds.includes(locationId)) return invalid('INVALID_LOCATION', `Location \`${locationId}\` not found.`, `${field}.location_id`);
    if (typeof part.occurred_at !== 'string') return invalid('MISSING_REQUIRED_PARAMETER', 'occurred_at is required.', `${field}.occurred_at`);
    const when = Date.parse(part.occurred_at);
    if (Number.isNaN(when) || when < nowMs - DAY_MS || when > nowMs + 60_000) return invalid('INVALID_TIME', 'occurred_at must be an RFC 3339 time within the last 24 hours and not in the future.', `${field}.occurred_at`);
    const q = decimal(part.quantity);
    if (type === 'PHYSICAL_COUNT') {
      if (part.state !== 'IN_STOCK') return invalid('INVALID_ENUM_VALUE', 'The emulator supports physical counts of state IN_STOCK only.', `${field}.state`);
      if (q === null || q < 0) return invalid('INVALID_VALUE', 'quantity must be a decimal string of 0 or more.', `${field}.quantity`);
      const k = `${variationId}|${locationId}|IN_STOCK`;
      return {
        variationId,
        locationId,
        apply: (at) => {
          const before = this.counts.get(k)?.quantity;
          if (ignoreUnchanged && before === q) return null;
          this.setCount(variationId, locationId, 'IN_STOCK', q, at);
          return { type: 'PHYSICAL_COUNT', physical_count: { id: this.id(24), reference_id: part.reference_id, catalog_object_id: variationId, catalog_object_type: 'ITEM_VARIATION', state: 'IN_STOCK', location_id: locationId, quantity: String(q), occurred_at: part.occurred_at, created_at: at } };
        },
      };
    }
    const from = String(part.from_state);
    const to = String(part.to_state);
    if (!WRITABLE_STATES.has(from) || !WRITABLE_STATES.has(to) || from === to) return invalid('INVALID_VALUE', `The Inventory API cannot move quantities from ${from} to ${to}.`, `${field}.to_state`);
    if (q === null || q <= 0) return invalid('INVALID_VALUE', 'quantity must be a decimal string greater than 0.', `${field}.quantity`);
    return {
      variationId,
      locationId,
      apply: (at) => {
        for (const s of [from, to]) {
          if (!TRACKED.has(s)) continue;
          const k = `${variationId}|${locationId}|${s}`;
          this.setCount(variationId, locationId, s, (this.counts.get(k)?.quantity ?? 0) + (s === to ? q : -q), at);
        }
        return { type: 'ADJUSTMENT', adjustment: { id: this.id(24), reference_id: part.reference_id, from_state: from, to_state: to, location_id: locationId, catalog_object_id: variationId, catalog_object_type: 'ITEM_VARIATION', quantity: String(q), occurred_at: part.occurred_at, created_at: at } };
      },
    };
  }

  /** Applies a checked batch in order: the answer (the changes applied, the counts they touched) and the counts that changed. */
  private applyPlanned(planned: PlannedChange[]): { answer: Json; changed: Json[] } {
    const at = this.now();
    const applied: Json[] = [];
    const before = new Map<string, number | undefined>();
    for (const p of planned) before.set(`${p.variationId}|${p.locationId}`, before.get(`${p.variationId}|${p.locationId}`) ?? this.counts.get(`${p.variationId}|${p.locationId}|IN_STOCK`)?.quantity);
    for (const p of planned) {
      const c = p.apply(at);
      if (c) applied.push(JSON.parse(JSON.stringify(c, (_k, v: unknown) => (v === undefined || v === null ? undefined : v))) as Json);
    }
    const referenced = [...new Set(planned.map((p) => `${p.variationId}|${p.locationId}`))];
    const counts = referenced.map((r) => {
      const [v, l] = r.split('|') as [string, string];
      return this.countBody(v, l);
    });
    const changed = counts.filter((c) => before.get(`${String(c.catalog_object_id)}|${String(c.location_id)}`) !== Number(c.quantity));
    return { answer: { counts, changes: applied }, changed };
  }

  protected cursor(offset: number, query: unknown): string {
    return Buffer.from(JSON.stringify({ o: offset, q: sha(JSON.stringify(query)).slice(0, 16) })).toString('base64url');
  }

  protected offsetOf(cursor: unknown, query: unknown): number {
    // A proxy that ignores the cursor answers the first page again.
    if (cursor === undefined || cursor === null || cursor === '' || this.faults.api.ignorePaging) return 0;
    try {
      const c = JSON.parse(Buffer.from(String(cursor), 'base64url').toString('utf8')) as { o?: unknown; q?: unknown };
      if (typeof c.o === 'number' && Number.isInteger(c.o) && c.o >= 0 && c.q === sha(JSON.stringify(query)).slice(0, 16)) return c.o;
    } catch {
      // fall through
    }
    throw new ApiError(400, [invalid('INVALID_CURSOR', 'The cursor is not valid for this request.', 'cursor')]);
  }

  protected batchCounts(body: Json): Json {
    const ids = Array.isArray(body.catalog_object_ids) ? new Set(body.catalog_object_ids as string[]) : null;
    const locs = Array.isArray(body.location_ids) ? new Set(body.location_ids as string[]) : null;
    const states = Array.isArray(body.states) ? new Set(body.states as string[]) : null;
    const after = typeof body.updated_after === 'string' ? Date.parse(body.updated_after) : null;
    const limit = typeof body.limit === 'number' ? body.limit : this.countsPageSize;
    const query = { ...body, cursor: undefined, limit: undefined };
    const all = [...this.counts.entries()]
      .map(([k, c]) => {
        const [variationId, locationId, state] = k.split('|') as [string, string, string];
        return { variationId, locationId, state, c };
      })
      .filter((x) => (!ids || ids.has(x.variationId)) && (!locs || locs.has(x.locationId)) && (!states || states.has(x.state)) && (after === null || Date.parse(x.c.calculatedAt) > after))
      // Newest calculated_at first, as Square documents.
      .sort((a, b) => b.c.calculatedAt.localeCompare(a.c.calculatedAt) || `${a.variationId}|${a.locationId}|${a.state}`.localeCompare(`${b.variationId}|${b.locationId}|${b.state}`));
    const start = this.offsetOf(body.cursor, query);
    const page = all.slice(start, start + limit);
    const out: Json = { counts: page.map((x) => this.countBody(x.variationId, x.locationId, x.state)) };
    if (start + limit < all.length) out.cursor = this.cursor(start + limit, query);
    return out;
  }

  // ------------------------------------------------------------------ catalog

  protected listCatalog(params: URLSearchParams): Json {
    const typesParam = params.get('types');
    const types = typesParam ? new Set(typesParam.split(',').map((t) => t.trim().toUpperCase())) : new Set(['ITEM']);
    const objects: Json[] = [];
    for (const item of this.items.values()) {
      if (types.has('ITEM')) objects.push(this.itemObject(item));
      if (types.has('ITEM_VARIATION')) for (const id of item.variationIds) objects.push(this.variationObject(this.variations.get(id)!));
    }
    const query = { types: [...types].sort() };
    const start = this.offsetOf(params.get('cursor'), query);
    const out: Json = { objects: objects.slice(start, start + this.catalogPageSize) };
    if (start + this.catalogPageSize < objects.length) out.cursor = this.cursor(start + this.catalogPageSize, query);
    return out;
  }

  // ------------------------------------------------------------------ orders

  protected batchOrders(body: Json): Json {
    const ids = (body.order_ids as string[]) ?? [];
    if (ids.length > 100) throw new ApiError(400, [invalid('ARRAY_LENGTH_TOO_LONG', 'At most 100 orders can be retrieved per request.', 'order_ids')]);
    const location = typeof body.location_id === 'string' ? body.location_id : null;
    // Unknown ids are ignored rather than refused, as Square documents.
    const orders = ids.map((id) => this.orders.get(id)).filter((o): o is Json => o !== undefined && (location === null || o.location_id === location));
    return { orders };
  }
}
