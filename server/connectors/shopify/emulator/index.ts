/**
 * A Shopify shop as a real HTTP server on 127.0.0.1, for tests and the sandbox. It answers the
 * Admin GraphQL operations this connector sends (POST /admin/api/{version}/graphql.json) with
 * Shopify's shapes: `X-Shopify-Access-Token` auth (401 `{"errors":"[API] Invalid API key or access
 * token ..."}`), the calculated-cost leaky bucket (`extensions.cost`, `THROTTLED` in a 200 answer),
 * `userErrors` with codes (`CHANGE_FROM_QUANTITY_STALE`, ...), the mandatory `@idempotent` directive
 * from 2026-04, and webhooks signed base64(HMAC-SHA256(secret, body)) with the X-Shopify-* headers.
 *
 * It is not a GraphQL engine: it recognises each operation by its root field and reads its
 * arguments from `variables` (the connector passes everything as variables), and answers with the
 * fields the connector selects.
 *
 * Money, as the REST order webhooks carry it: amounts are decimal strings in the shop currency
 * (`currency` option, AUD by default) with that currency's decimals ("25.00", "2500" for JPY,
 * "25.000" for KWD), and every `*_set` repeats them as shop and presentment money. Each variant has a
 * price (2500 minor units unless given); a sale may carry a fixed line `discount` (a
 * `discount_allocations` entry; the deprecated `total_discount` stays "0.00", as Shopify sends it),
 * a tax rate (`taxRate` option or per sale, in percent; tax = (price × quantity − discount) × rate,
 * rounded half up, per line, prices exclusive of tax) and `shipping` (untaxed). The order totals are
 * the sums of its lines: `total_line_items_price`, `total_discounts`, `subtotal_price` (after
 * discounts), `total_tax`, `total_shipping_price_set`, `total_price` = subtotal + tax + shipping.
 * A refund's `transactions` give back the refunded units' share of the line (net of discount) and of
 * its tax, split so that partial refunds add up to the line exactly; a cancellation with restock also
 * gives back the shipping. A paid order sends `orders/paid` after `orders/create`; `fulfil` sends
 * `orders/fulfilled` and `orders/updated`.
 *
 * The shop is built in layers: shop.ts (state, REST bodies, webhooks), events.ts (what happens on
 * the shop), and here its Admin GraphQL API: the HTTP answers, the cost bucket and the operations.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import { commonApiFault, readRequest, type Emulator } from '../../emulator';
import { GraphQLFailure, MAX_INPUT, MAX_QUERY_COST, REASONS, gid, num, type Json, type Product, type ShopifyEmulatorOptions } from './model';
import { ShopifyShopEvents } from './events';

export type { ShopifyEmulatorOptions } from './model';

export class ShopifyEmulator extends ShopifyShopEvents implements Emulator {
  /** How many calls were answered THROTTLED (the cost bucket was empty). */
  throttled = 0;

  protected bucketSize: number;
  protected restoreRate: number;
  protected available: number;
  protected lastRefill: number;
  protected readonly idempotency = new Map<string, { hash: string; answer: Json }>();

  constructor(opts: ShopifyEmulatorOptions) {
    super(opts);
    this.lastRefill = this.clockMs();
    this.bucketSize = opts.bucket?.size ?? 2000;
    this.restoreRate = opts.bucket?.restorePerSecond ?? 100;
    this.available = this.bucketSize;
  }

  // ------------------------------------------------------------------ cost bucket

  /** Resizes the cost bucket (and fills it). */
  setBucket(size: number, restorePerSecond: number): void {
    this.bucketSize = size;
    this.restoreRate = restorePerSecond;
    this.available = size;
    this.lastRefill = this.clockMs();
  }

  // ------------------------------------------------------------------ HTTP

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const { body } = await readRequest(req, this.baseUrl);
    const path = (req.url ?? '/').split('?')[0]!;
    this.requests.push({ method: req.method ?? 'GET', path, body });
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      res.end(JSON.stringify(payload));
    };
    const f = this.faults.api;
    const fault = await commonApiFault(f);
    if (fault === 'hang') return this.hang(res);
    if (fault !== null) {
      // Shopify's own bodies (https://shopify.dev/docs/api/usage/response-codes).
      const status = fault;
      if (status === 401) return send(401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
      if (status === 403) return send(403, { errors: '[API] This action requires merchant approval for write_inventory scope.' });
      return send(404, { errors: 'Not Found' });
    }

    const m = /^\/admin\/api\/(\d{4}-\d{2}|unstable)\/graphql\.json$/.exec(path);
    if (req.method !== 'POST' || !m) return send(404, { errors: 'Not Found' });
    if (req.headers['x-shopify-access-token'] !== this.token) {
      return send(401, { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    }
    if (f.failNext && f.failNext > 0) {
      f.failNext--;
      return send(500, { errors: 'Internal Server Error' });
    }
    if (f.rateLimitNext && f.rateLimitNext.count > 0) {
      f.rateLimitNext.count--;
      return send(429, { errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' }, { 'retry-after': String(f.rateLimitNext.retryAfterSeconds) });
    }
    const version = m[1]!;
    if (typeof body !== 'object' || body === null || typeof (body as Json).query !== 'string') {
      return send(400, { errors: { query: 'Required parameter missing or invalid' } });
    }
    const { query, variables } = body as { query: string; variables?: Json };
    try {
      const answer = this.execute(version, query, variables ?? {});
      if (f.loseWriteAnswerNext && f.loseWriteAnswerNext > 0 && /\binventory(Set|Adjust)Quantities\s*\(/.test(query)) {
        f.loseWriteAnswerNext--;
        return this.hang(res);
      }
      send(200, answer);
    } catch {
      send(500, { errors: 'Internal Server Error' });
    }
  }

  protected refill(): void {
    const now = this.clockMs();
    this.available = Math.min(this.bucketSize, this.available + ((now - this.lastRefill) / 1000) * this.restoreRate);
    this.lastRefill = now;
  }

  protected throttleStatus() {
    return { maximumAvailable: this.bucketSize, currentlyAvailable: Math.floor(this.available), restoreRate: this.restoreRate };
  }

  protected execute(version: string, query: string, variables: Json): Json {
    const q = query.replace(/#[^\n]*/g, '');
    const op = /\breturn\s*\(\s*id\s*:/.test(q)
      ? 'return'
      : /\binventorySetQuantities\s*\(/.test(q)
      ? 'set'
      : /\binventoryAdjustQuantities\s*\(/.test(q)
        ? 'adjust'
        : /\bproductUpdate\s*\(/.test(q)
          ? 'productUpdate'
          : /\bproductVariants\s*\(/.test(q)
            ? 'productVariants'
            : /\bnodes\s*\(/.test(q)
              ? 'nodes'
              : null;
    if (!op) return { errors: [{ message: 'The emulated shop does not implement this operation.', extensions: { code: 'undefinedField' } }] };

    let requested = 10;
    if (op === 'productVariants') requested = 2 + 3 * (typeof variables.first === 'number' ? variables.first : 0);
    if (op === 'nodes') requested = 1 + 2 * (Array.isArray(variables.ids) ? variables.ids.length : 0);
    if (requested > MAX_QUERY_COST) {
      return { errors: [{ message: `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_QUERY_COST}).`, extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: MAX_QUERY_COST } }] };
    }
    this.refill();
    if (this.available < requested) {
      this.throttled++;
      this.rateLimited.push({ at: this.clockMs(), retryAfterMs: Math.ceil(((requested - this.available) / this.restoreRate) * 1000) });
      return {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
        extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: this.throttleStatus() } },
      };
    }
    this.available -= requested;
    let data: Json;
    let actual = requested;
    try {
      const key = this.idempotencyKey(q, variables);
      if ((op === 'set' || op === 'adjust') && key === null && (version === 'unstable' || version >= '2026-04')) {
        throw new GraphQLFailure(`The @idempotent directive is required for ${op === 'set' ? 'inventorySetQuantities' : 'inventoryAdjustQuantities'} from API version 2026-04.`, 'BAD_REQUEST');
      }
      if (op === 'set') data = { inventorySetQuantities: this.once(key, variables, () => this.setQuantities(version, variables.input)) };
      else if (op === 'adjust') data = { inventoryAdjustQuantities: this.once(key, variables, () => this.adjustQuantities(version, variables.input)) };
      else if (op === 'return') {
        const ret = this.returnNode(variables.id);
        actual = 1 + (ret ? 1 + (ret.exchangeLineItems as { nodes: unknown[] }).nodes.length : 0);
        data = { return: ret };
      } else if (op === 'productUpdate') data = { productUpdate: this.productUpdate(variables.product ?? variables.input) };
      else if (op === 'productVariants') {
        const page = this.productVariants(variables.first, variables.after);
        actual = 2 + 3 * page.nodes.length;
        data = { productVariants: page };
      } else {
        const nodes = this.nodes(variables.ids);
        actual = 1 + 2 * nodes.filter((n) => n !== null).length;
        data = { nodes };
      }
    } catch (err) {
      if (err instanceof GraphQLFailure) {
        return { errors: [{ message: err.message, extensions: { code: err.code } }], extensions: { cost: { requestedQueryCost: requested, actualQueryCost: requested, throttleStatus: this.throttleStatus() } } };
      }
      throw err;
    }
    this.available = Math.min(this.bucketSize, this.available + (requested - actual));
    return { data, extensions: { cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: this.throttleStatus() } } };
  }

  protected idempotencyKey(q: string, variables: Json): string | null {
    const m = /@idempotent\s*\(\s*key\s*:\s*(?:"((?:[^"\\]|\\.)*)"|\$(\w+))\s*\)/.exec(q);
    if (!m) return null;
    if (m[1] !== undefined) return JSON.parse(`"${m[1]}"`) as string;
    const v = variables[m[2]!];
    return typeof v === 'string' ? v : null;
  }

  /** Same key and same arguments: the first answer again, nothing applied twice. */
  protected once(key: string | null, variables: Json, run: () => Json): Json {
    if (key === null) return run();
    const hash = crypto.createHash('sha256').update(JSON.stringify(variables)).digest('hex');
    const seen = this.idempotency.get(key);
    if (seen) {
      if (seen.hash !== hash) {
        return { inventoryAdjustmentGroup: null, userErrors: [{ code: 'IDEMPOTENCY_KEY_PARAMETER_MISMATCH', field: null, message: 'The same idempotency key cannot be used with different operation parameters.' }] };
      }
      return seen.answer;
    }
    const answer = run();
    this.idempotency.set(key, { hash, answer });
    return answer;
  }

  protected checkInput(input: unknown, list: 'quantities' | 'changes'): { input: Json; rows: Json[] } {
    if (typeof input !== 'object' || input === null) throw new GraphQLFailure('Variable $input of type was provided invalid value.', 'INVALID_VARIABLE');
    const rows = (input as Json)[list];
    if (!Array.isArray(rows)) throw new GraphQLFailure(`Variable $input was provided invalid value for ${list} (Expected value to not be null).`, 'INVALID_VARIABLE');
    if (rows.length > MAX_INPUT) throw new GraphQLFailure(`The input array size of ${rows.length} is greater than the maximum allowed of ${MAX_INPUT}.`, 'MAX_INPUT_SIZE_EXCEEDED');
    return { input: input as Json, rows: rows as Json[] };
  }

  protected applyChanges(version: string, input: Json, rows: Json[], list: 'quantities' | 'changes'): Json {
    const errors: Json[] = [];
    const err = (i: number | null, field: string | null, code: string, message: string) => errors.push({ code, field: i === null ? ['input', ...(field ? [field] : [])] : ['input', list, String(i), ...(field ? [field] : [])], message });
    if (input.name !== 'available') err(null, 'name', 'INVALID_NAME', "The quantity name must be either 'available' or 'on_hand'.");
    if (typeof input.reason !== 'string' || !REASONS.has(input.reason)) err(null, 'reason', 'INVALID_REASON', 'The specified reason is invalid.');
    const planned: { key: string; item: number; loc: number; before: number; after: number }[] = [];
    rows.forEach((row, i) => {
      const item = num(row.inventoryItemId, 'InventoryItem');
      const loc = num(row.locationId, 'Location');
      if (item === null || ![...this.variants.values()].some((v) => v.inventoryItemId === item)) return err(i, 'inventoryItemId', 'INVALID_INVENTORY_ITEM', 'The specified inventory item could not be found.');
      if (loc === null || !this.locationIds.includes(loc)) return err(i, 'locationId', 'INVALID_LOCATION', 'The specified location could not be found.');
      const key = `${item}|${loc}`;
      const before = this.levels.get(key);
      const refused = this.faults.api.refuseSku;
      if (before === undefined || (refused && [...this.variants.values()].some((v) => v.inventoryItemId === item && v.sku === refused))) {
        return err(i, 'locationId', 'ITEM_NOT_STOCKED_AT_LOCATION', 'The specified inventory item is not stocked at the location.');
      }
      if ((version === 'unstable' || version >= '2026-04') && !Object.prototype.hasOwnProperty.call(row, 'changeFromQuantity')) {
        return err(i, 'changeFromQuantity', 'INVALID_VARIABLE', 'changeFromQuantity must be given (null to skip the check).');
      }
      const cf = row.changeFromQuantity;
      if (cf !== null && cf !== undefined && cf !== before) return err(i, 'changeFromQuantity', 'CHANGE_FROM_QUANTITY_STALE', 'The changeFromQuantity value does not match persisted value.');
      const after = list === 'quantities' ? Number(row.quantity) : before + Number(row.delta);
      if (!Number.isInteger(after)) return err(i, list === 'quantities' ? 'quantity' : 'delta', 'INVALID_VARIABLE', 'Expected an integer.');
      if (list === 'quantities' && after < 0) return err(i, 'quantity', 'INVALID_QUANTITY_NEGATIVE', "The quantity can't be negative.");
      planned.push({ key, item, loc, before, after });
    });
    // A batch is applied entirely or not at all.
    if (errors.length > 0) return { inventoryAdjustmentGroup: null, userErrors: errors };
    const changes: Json[] = [];
    const written: (string | null)[] = [];
    for (const p of planned) {
      this.levels.set(p.key, p.after);
      written.push([...this.variants.values()].find((v) => v.inventoryItemId === p.item)?.sku ?? null);
      if (p.after !== p.before) {
        changes.push({ name: 'available', delta: p.after - p.before, quantityAfterChange: p.after, item: { id: gid('InventoryItem', p.item) }, location: { id: gid('Location', p.loc) } });
        // The echo: Shopify reports every level change, ours included.
        this.enqueue('inventory_levels/update', this.levelBody(p.item, p.loc));
      }
    }
    this.stockWritten(written);
    return { inventoryAdjustmentGroup: { id: gid('InventoryAdjustmentGroup', this.nextId.group++), changes }, userErrors: [] };
  }

  protected setQuantities(version: string, raw: unknown): Json {
    const { input, rows } = this.checkInput(raw, 'quantities');
    return this.applyChanges(version, input, rows, 'quantities');
  }

  protected adjustQuantities(version: string, raw: unknown): Json {
    const { input, rows } = this.checkInput(raw, 'changes');
    return this.applyChanges(version, input, rows, 'changes');
  }

  protected productUpdate(raw: unknown): Json {
    const input = (typeof raw === 'object' && raw !== null ? raw : {}) as Json;
    const id = num(input.id, 'Product');
    const product = id !== null ? this.products.get(id) : undefined;
    if (!product) return { product: null, userErrors: [{ field: ['id'], message: 'Product does not exist' }] };
    if (input.status !== undefined) {
      if (!['ACTIVE', 'DRAFT', 'ARCHIVED', 'UNLISTED'].includes(String(input.status))) throw new GraphQLFailure(`Variable $product was provided invalid value for status (Expected "${String(input.status)}" to be one of: ACTIVE, ARCHIVED, DRAFT, UNLISTED)`, 'INVALID_VARIABLE');
      product.status = input.status as Product['status'];
    }
    return { product: { id: gid('Product', product.id), status: product.status, title: product.title }, userErrors: [] };
  }

  protected productVariants(first: unknown, after: unknown): { nodes: Json[]; pageInfo: Json } {
    if (typeof first !== 'number' || !Number.isInteger(first) || first < 1 || first > 250) throw new GraphQLFailure('The first argument must be between 1 and 250.', 'BAD_REQUEST');
    const all = [...this.variants.values()].sort((a, b) => a.id - b.id);
    let start = 0;
    // A cache in front of the shop that ignores the cursor answers the first page again.
    if (typeof after === 'string' && !this.faults.api.ignorePaging) {
      let lastId: unknown;
      try {
        lastId = (JSON.parse(Buffer.from(after, 'base64').toString('utf8')) as { last_id?: unknown }).last_id;
      } catch {
        lastId = undefined;
      }
      if (typeof lastId !== 'number') throw new GraphQLFailure('Invalid cursor for current pagination sort.', 'BAD_REQUEST');
      start = all.findIndex((v) => v.id > lastId);
      if (start < 0) start = all.length;
    }
    const page = all.slice(start, start + first);
    const last = page[page.length - 1];
    return {
      nodes: page.map((v) => {
        const p = this.products.get(v.productId)!;
        return { id: gid('ProductVariant', v.id), sku: v.sku, title: v.title, product: { id: gid('Product', p.id), title: p.title }, inventoryItem: { id: gid('InventoryItem', v.inventoryItemId) } };
      }),
      pageInfo: { hasNextPage: start + first < all.length, endCursor: last ? Buffer.from(JSON.stringify({ last_id: last.id, last_value: String(last.id) })).toString('base64') : null },
    };
  }

  /** `return(id:)` with the fields the connector selects; null for an unknown Return. */
  protected returnNode(id: unknown): Json | null {
    if (typeof id !== 'string') throw new GraphQLFailure('Variable $id of type ID! was provided invalid value.', 'INVALID_VARIABLE');
    const n = num(id, 'Return');
    const ret = n !== null ? this.returns.get(n) : undefined;
    if (!ret) return null;
    const order = this.orders.get(ret.orderId)!;
    return {
      id: gid('Return', ret.id),
      status: ret.status,
      order: { id: gid('Order', ret.orderId) },
      exchangeLineItems: {
        nodes: ret.exchange.map((e) => ({
          id: gid('ExchangeLineItem', e.id),
          quantity: e.quantity,
          processedQuantity: e.processedQuantity,
          variantId: gid('ProductVariant', e.variantId),
          lineItems: e.lineIds.map((lid) => {
            const l = order.lines.find((x) => x.id === lid)!;
            return { id: gid('LineItem', l.id), sku: this.variants.get(l.variantId)?.sku ?? null };
          }),
        })),
      },
    };
  }

  protected nodes(ids: unknown): (Json | null)[] {
    if (!Array.isArray(ids)) throw new GraphQLFailure('Variable $ids of type [ID!]! was provided invalid value.', 'INVALID_VARIABLE');
    if (ids.length > MAX_INPUT) throw new GraphQLFailure(`The input array size of ${ids.length} is greater than the maximum allowed of ${MAX_INPUT}.`, 'MAX_INPUT_SIZE_EXCEEDED');
    return ids.map((id) => {
      const m = typeof id === 'string' ? /^gid:\/\/shopify\/InventoryLevel\/(\d+)\?inventory_item_id=(\d+)$/.exec(id) : null;
      if (!m) return null;
      const key = `${Number(m[2])}|${Number(m[1])}`;
      const q = this.levels.get(key);
      if (q === undefined) return null;
      return { id, item: { id: gid('InventoryItem', Number(m[2])) }, location: { id: gid('Location', Number(m[1])) }, quantities: [{ name: 'available', quantity: q }] };
    });
  }
}
