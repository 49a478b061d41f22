/**
 * The Squarespace connector's calls (README.md says which page of Squarespace's documentation each
 * one follows):
 * - levels: GET /1.0/commerce/inventory/{ids} (up to 50 variant ids a request);
 * - pushes: POST /1.0/commerce/inventory/adjustments with an `Idempotency-Key`:
 *   `incrementOperations` / `decrementOperations` when the hub knows the level it last saw (a delta
 *   composes with a sale that landed meanwhile, and the same key is never applied twice), and
 *   `setFiniteOperations` when it does not, read before (a level already there is not written) and
 *   read back after (a sale landing in between is reported stale);
 * - hide/relist: POST /1.1/commerce/products/{id} with `isVisible`;
 * - catalog discovery: GET /1.1/commerce/products?type=PHYSICAL, then by `cursor`;
 * - expand: GET /1.0/commerce/orders/{id}.
 */
import crypto from 'node:crypto';
import { ConnectorError, type ConnectorContext, type LevelReading, type ListingRef, type PlatformListing, type PushOutcome, type PushTarget } from '../types';
import { chunks } from '../../util';
import { PageGuard } from '../paging';
import { DEFAULT_USER_AGENT, SQUARESPACE_API, SquarespaceHttp } from './http';
import { SQUARESPACE_LOCATION } from './translate';

/** Most variant ids in one GET /inventory/{ids} ("up to 50 InventoryItems can be retrieved per request"). */
export const MAX_IDS = 50;
/** Most operations the connector puts in one adjustments request (not published by Squarespace: see README). */
export const MAX_OPERATIONS = 50;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface InventoryItem {
  variantId: string;
  sku: string | null;
  descriptor: string;
  isUnlimited: boolean;
  quantity: number;
}

export function unreadable(what: string, why: string): ConnectorError {
  return new ConnectorError(`Squarespace answered ${what} the hub cannot read: ${why}. Nothing was taken from it.`, false, null, null, { channelFault: true });
}

/** An InventoryItem as Squarespace documents it (every field non-null). */
export function inventoryItem(v: unknown): InventoryItem {
  if (!isObj(v) || typeof v.variantId !== 'string' || typeof v.isUnlimited !== 'boolean' || typeof v.quantity !== 'number' || !Number.isInteger(v.quantity)) {
    throw unreadable('an inventory list', `an item is not an InventoryItem (variantId, isUnlimited, quantity): ${JSON.stringify(v).slice(0, 120)}`);
  }
  return { variantId: v.variantId, sku: typeof v.sku === 'string' && v.sku.trim() !== '' ? v.sku : null, descriptor: typeof v.descriptor === 'string' ? v.descriptor : '', isUnlimited: v.isUnlimited, quantity: v.quantity };
}

/**
 * A key Squarespace accepts (≤ 64 of alphanumerics, `-`, `_`): a digest of the hub's keys and the
 * operations, so a retry of the same operations reuses it and anything else gets another.
 */
export function idempotencyKey(parts: readonly string[]): string {
  return `sr_${crypto.createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 43)}`;
}

/** Squarespace's 404 naming an item asked for: that item is gone, the API is there. */
const itemGone = (err: unknown): boolean => err instanceof ConnectorError && !err.channelFault && err.status === 404;

interface Op {
  index: number;
  target: PushTarget;
  kind: 'increment' | 'decrement' | 'set';
  quantity: number;
}

export class SquarespaceClient {
  readonly http: SquarespaceHttp;

  constructor(ctx: ConnectorContext) {
    const apiKey = ctx.credentials.apiKey;
    if (!apiKey) throw new ConnectorError('The Squarespace channel needs the credential apiKey (Settings → Advanced → Developer API Keys, with Inventory, Orders and Products permissions).', false);
    const base = (ctx.baseUrl ?? SQUARESPACE_API).trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/i.test(base)) throw new ConnectorError(`The Squarespace channel's baseUrl "${base}" is not an address (https://api.squarespace.com by default).`, false);
    const ua = ctx.settings.userAgent ?? DEFAULT_USER_AGENT;
    if (typeof ua !== 'string' || ua.trim() === '') throw new ConnectorError('The Squarespace setting userAgent must be text naming your application (Squarespace refuses requests without one).', false);
    const timeoutMs = ctx.settings.timeoutMs ?? 30_000;
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 100) throw new ConnectorError('The Squarespace setting timeoutMs must be a whole number of milliseconds (at least 100).', false);
    this.http = new SquarespaceHttp({ baseUrl: base, apiKey, userAgent: ua.trim(), timeoutMs, fetch: ctx.fetch ?? fetch });
  }

  // ---------------------------------------------------------------- read

  /** InventoryItems by variant id; an id Squarespace does not have is left out. */
  async inventory(ids: readonly string[], signal?: AbortSignal): Promise<Map<string, InventoryItem>> {
    const out = new Map<string, InventoryItem>();
    for (const part of chunks([...new Set(ids)], MAX_IDS)) {
      let items: InventoryItem[] = [];
      try {
        items = await this.inventoryPart(part, signal);
      } catch (err) {
        // "One or more requested inventory items were not found": ask for each alone, and leave out the missing.
        if (!itemGone(err)) throw err;
        if (part.length > 1) {
          for (const id of part) {
            try {
              items.push(...(await this.inventoryPart([id], signal)));
            } catch (e) {
              if (!itemGone(e)) throw e;
            }
          }
        }
      }
      const asked = new Set(part);
      for (const it of items) {
        if (!asked.has(it.variantId)) throw unreadable('a request for specific inventory', `it answered variant ${it.variantId}, which was not asked for`);
        out.set(it.variantId, it);
      }
    }
    return out;
  }

  private async inventoryPart(ids: string[], signal?: AbortSignal): Promise<InventoryItem[]> {
    const { data } = await this.http.send({ method: 'GET', path: `/1.0/commerce/inventory/${ids.map(encodeURIComponent).join(',')}`, what: 'read stock levels', items: ids }, signal);
    if (!isObj(data) || !Array.isArray(data.inventory)) throw unreadable('a request for specific inventory', 'there is no "inventory" list');
    return data.inventory.map(inventoryItem);
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const usable = items.filter((it) => it.locationId === SQUARESPACE_LOCATION && it.ref.variantId);
    const levels = await this.inventory(usable.map((it) => it.ref.variantId), signal);
    const out: LevelReading[] = [];
    for (const it of usable) {
      const inv = levels.get(it.ref.variantId);
      // An unlimited variant has no level to read ("quantity" is the last one before it became unlimited).
      if (inv && !inv.isUnlimited) out.push({ sku: it.sku, ref: it.ref, locationId: SQUARESPACE_LOCATION, available: inv.quantity });
    }
    return out;
  }

  // ---------------------------------------------------------------- push

  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const outcomes: (PushOutcome | undefined)[] = new Array(targets.length);
    const deltas: Op[] = [];
    const sets: { index: number; target: PushTarget }[] = [];
    targets.forEach((target, index) => {
      const { sku, locationId, level, expected } = target;
      if (locationId !== SQUARESPACE_LOCATION) outcomes[index] = { sku, locationId, status: 'failed', message: `Squarespace keeps one stock level per variant; map this channel's location to "${SQUARESPACE_LOCATION}".` };
      else if (!target.ref.variantId) outcomes[index] = { sku, locationId, status: 'failed', message: 'This listing has no Squarespace variant id; run catalog discovery again.' };
      else if (!Number.isInteger(level) || level < 0) outcomes[index] = { sku, locationId, status: 'failed', message: `Squarespace needs a whole, non-negative level (got ${level}).` };
      else if (expected === null) sets.push({ index, target });
      else if (level === expected) outcomes[index] = { sku, locationId, status: 'applied', level, wrote: false };
      else deltas.push({ index, target, kind: level > expected ? 'increment' : 'decrement', quantity: Math.abs(level - expected) });
    });
    for (const part of chunks(deltas, MAX_OPERATIONS)) await this.pushDeltas(part, outcomes, signal);
    for (const part of chunks(sets, MAX_IDS)) await this.pushSets(part, outcomes, signal);
    return outcomes.map((o, i) => o ?? { sku: targets[i]!.sku, locationId: targets[i]!.locationId, status: 'failed', message: 'Squarespace gave no answer for this item.' });
  }

  /** One adjustments request, with an Idempotency-Key made from the hub's keys of its targets and their operations. */
  private async adjust(ops: Op[], what: string, signal?: AbortSignal): Promise<void> {
    const list = (kind: Op['kind']) => ops.filter((o) => o.kind === kind).map((o) => ({ variantId: o.target.ref.variantId, quantity: o.quantity }));
    const body: Obj = {};
    if (list('increment').length > 0) body.incrementOperations = list('increment');
    if (list('decrement').length > 0) body.decrementOperations = list('decrement');
    if (list('set').length > 0) body.setFiniteOperations = list('set');
    const key = idempotencyKey(ops.map((o) => `${o.target.idempotencyKey}:${o.kind}:${o.quantity}`));
    await this.http.send({ method: 'POST', path: '/1.0/commerce/inventory/adjustments', what, body, idempotencyKey: key, items: ops.map((o) => o.target.ref.variantId) }, signal);
  }

  /**
   * Several operations in one request; when Squarespace refuses the request for what it asked (one
   * variant gone, one decrement below zero), each is sent alone so the others still land.
   */
  private async sendEach(ops: Op[], what: (ops: Op[]) => string, signal: AbortSignal | undefined, refused: (op: Op, err: ConnectorError) => Promise<void>): Promise<Op[]> {
    try {
      await this.adjust(ops, what(ops), signal);
      return ops;
    } catch (err) {
      if (!(err instanceof ConnectorError) || err.channelFault) throw err;
      if (ops.length === 1) {
        await refused(ops[0]!, err);
        return [];
      }
    }
    const done: Op[] = [];
    for (const op of ops) done.push(...(await this.sendEach([op], what, signal, refused)));
    return done;
  }

  private async pushDeltas(ops: Op[], outcomes: (PushOutcome | undefined)[], signal?: AbortSignal): Promise<void> {
    const what = (o: Op[]) => (o.length === 1 ? `adjust the stock of ${o[0]!.target.sku}` : `adjust the stock of ${o.length} variants`);
    const done = await this.sendEach(ops, what, signal, async (op, err) => {
      const { sku, locationId, ref } = op.target;
      // A decrement Squarespace refuses may be one below zero (a sale landed since the hub read): say what it shows.
      const now = op.kind === 'decrement' ? (await this.inventory([ref.variantId], signal)).get(ref.variantId) : undefined;
      outcomes[op.index] = now && !now.isUnlimited && now.quantity < op.quantity ? { sku, locationId, status: 'stale', observed: now.quantity } : { sku, locationId, status: 'failed', message: err.message };
    });
    for (const op of done) outcomes[op.index] = { sku: op.target.sku, locationId: op.target.locationId, status: 'applied', level: op.target.level };
  }

  private async pushSets(part: { index: number; target: PushTarget }[], outcomes: (PushOutcome | undefined)[], signal?: AbortSignal): Promise<void> {
    const before = await this.inventory(part.map((p) => p.target.ref.variantId), signal);
    const ops: Op[] = [];
    for (const { index, target } of part) {
      const { sku, locationId, level } = target;
      const now = before.get(target.ref.variantId);
      if (!now) outcomes[index] = { sku, locationId, status: 'failed', message: `Squarespace has no inventory item for variant ${target.ref.variantId}; run catalog discovery again.` };
      else if (now.isUnlimited) outcomes[index] = { sku, locationId, status: 'failed', message: `${sku} has unlimited stock on Squarespace; turn stock tracking on for it there (the hub does not do it for you).` };
      else if (now.quantity === level) outcomes[index] = { sku, locationId, status: 'applied', level, wrote: false };
      else ops.push({ index, target, kind: 'set', quantity: level });
    }
    if (ops.length === 0) return;
    const what = (o: Op[]) => (o.length === 1 ? `set the stock of ${o[0]!.target.sku}` : `set the stock of ${o.length} variants`);
    const done = await this.sendEach(ops, what, signal, async (op, err) => {
      outcomes[op.index] = { sku: op.target.sku, locationId: op.target.locationId, status: 'failed', message: err.message };
    });
    if (done.length === 0) return;
    const after = await this.inventory(done.map((o) => o.target.ref.variantId), signal);
    for (const op of done) {
      const { sku, locationId, level } = op.target;
      const now = after.get(op.target.ref.variantId);
      outcomes[op.index] = now && now.quantity === level ? { sku, locationId, status: 'applied', level } : { sku, locationId, status: 'stale', observed: now ? now.quantity : null };
    }
  }

  // ---------------------------------------------------------------- hide / relist

  async setVisible(ref: ListingRef, visible: boolean, signal?: AbortSignal): Promise<void> {
    if (!ref.productId) throw new ConnectorError('This listing has no Squarespace product id; run catalog discovery again.', false, null, null, { channelFault: false });
    await this.http.send({ method: 'POST', path: `/1.1/commerce/products/${encodeURIComponent(ref.productId)}`, what: `${visible ? 'show' : 'hide'} product ${ref.productId}`, body: { isVisible: visible }, items: [ref.productId] }, signal);
  }

  // ---------------------------------------------------------------- catalog

  async listCatalog(signal?: AbortSignal): Promise<PlatformListing[]> {
    const out: PlatformListing[] = [];
    const guard = new PageGuard({ platform: 'Squarespace', what: 'list the catalog', hint: `the server at ${this.http.baseUrl} ignores the "cursor" parameter of /1.1/commerce/products (a proxy or cache in front of the API?)` });
    let cursor: string | null = null;
    for (;;) {
      const { data } = await this.http.send({ method: 'GET', path: '/1.1/commerce/products', what: 'list the catalog', query: cursor ? { cursor } : { type: 'PHYSICAL' } }, signal);
      if (!isObj(data) || !Array.isArray(data.products) || !isObj(data.pagination)) throw unreadable('a product list', 'there is no "products" list with "pagination"');
      const next = data.pagination.hasNextPage === true && typeof data.pagination.nextPageCursor === 'string' ? data.pagination.nextPageCursor : null;
      guard.page(data.products.map((p: unknown) => String(isObj(p) ? p.id : p)), next);
      for (const p of data.products) out.push(...listingsOf(p));
      if (!next) return out;
      guard.more();
      cursor = next;
    }
  }

  // ---------------------------------------------------------------- expand

  /** The order, or null when Squarespace has no such order. */
  async getOrder(orderId: string, signal?: AbortSignal): Promise<Obj | null> {
    try {
      const { data } = await this.http.send({ method: 'GET', path: `/1.0/commerce/orders/${encodeURIComponent(orderId)}`, what: `read order ${orderId}`, items: [orderId] }, signal);
      if (!isObj(data) || typeof data.id !== 'string') throw unreadable(`order ${orderId}`, 'it is not an Order');
      return data;
    } catch (err) {
      if (err instanceof ConnectorError && err.status === 404 && !err.channelFault) return null;
      throw err;
    }
  }
}

/** A product's variants as listings: "Product name — attribute values". */
function listingsOf(p: unknown): PlatformListing[] {
  if (!isObj(p) || typeof p.id !== 'string' || !Array.isArray(p.variants)) throw unreadable('a product list', `an item is not a Product with variants: ${JSON.stringify(p).slice(0, 120)}`);
  const name = typeof p.name === 'string' ? p.name : '';
  return p.variants.map((v: unknown) => {
    if (!isObj(v) || typeof v.id !== 'string') throw unreadable('a product list', `product ${String(p.id)} has a variant without an id`);
    const attrs = isObj(v.attributes) ? Object.values(v.attributes).filter((a): a is string => typeof a === 'string' && a !== '') : [];
    const sku = typeof v.sku === 'string' && v.sku.trim() !== '' ? v.sku : null;
    return { sku, title: attrs.length > 0 ? `${name} — ${attrs.join(', ')}` : name, ref: { productId: String(p.id), variantId: v.id } };
  });
}
