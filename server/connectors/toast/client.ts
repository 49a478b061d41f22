/**
 * The Toast connector's calls (README.md says which page of Toast's documentation each follows). A
 * menu item is identified across restaurants by its `multiLocationId` (the same at every location
 * that shares the item; its `guid` differs per location), which the stock API takes in place of the
 * guid; each request names one restaurant in `Toast-Restaurant-External-ID`.
 * - levels: POST /stock/v1/inventory/search `{multiLocationIds}` per restaurant: `QUANTITY` → the
 *   quantity, `OUT_OF_STOCK` → 0, `IN_STOCK` → no count kept (no level);
 * - pushes: absolute only, read before (a level that moved since the hub saw it is answered stale, not
 *   written) and read back after: PUT /stock/v1/inventory/update with `QUANTITY` and the level, or
 *   `OUT_OF_STOCK` at 0 (Toast takes no quantity of 0), one request per restaurant; Toast refuses the
 *   whole request when one item is unknown, so a refused request is sent again item by item;
 * - catalog discovery: GET /config/v2/menuItems per restaurant (paged by `Toast-Next-Page-Token`),
 *   then the stock API's search by guid for each item's multiLocationId;
 * - orders: GET /orders/v2/ordersBulk by modification time (`startDate`, `endDate`), `page`/`pageSize`.
 */
import { ConnectorError, type ConnectorContext, type LevelReading, type ListingRef, type PlatformListing, type PushOutcome, type PushTarget } from '../types';
import { chunks } from '../../util';
import { PageGuard } from '../paging';
import { ToastHttp } from './http';
import { levelOf } from './level';

/** Most menu items in one stock update or search the connector sends (Toast publishes no limit: see README). */
export const MAX_ITEMS = 100;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Inventory {
  guid: string;
  multiLocationId: string;
  status: 'IN_STOCK' | 'OUT_OF_STOCK' | 'QUANTITY';
  quantity: number | null;
}

export function unreadable(what: string, why: string): ConnectorError {
  return new ConnectorError(`Toast answered ${what} the hub cannot read: ${why}. Nothing was taken from it.`, false, null, null, { channelFault: true });
}

/** A MenuItemInventory as the stock API documents it; null for an item Toast says is not valid there. */
export function inventoryOf(v: unknown): Inventory | null {
  if (!isObj(v) || typeof v.guid !== 'string' || !['IN_STOCK', 'OUT_OF_STOCK', 'QUANTITY'].includes(v.status as string)) {
    throw unreadable('a stock list', `an item is not a MenuItemInventory (guid, status): ${JSON.stringify(v).slice(0, 120)}`);
  }
  if (v.itemGuidValidity === 'INVALID') return null;
  const quantity = typeof v.quantity === 'number' && Number.isFinite(v.quantity) ? v.quantity : null;
  return { guid: v.guid, multiLocationId: typeof v.multiLocationId === 'string' ? v.multiLocationId : '', status: v.status as Inventory['status'], quantity };
}

const mlid = (ref: Partial<ListingRef>): string | null => (typeof ref.variantId === 'string' && ref.variantId !== '' ? ref.variantId : null);

export class ToastClient {
  readonly http: ToastHttp;

  constructor(ctx: ConnectorContext) {
    const { clientId, clientSecret } = ctx.credentials;
    if (!clientId || !clientSecret) throw new ConnectorError('The Toast channel needs the credentials clientId and clientSecret (the Toast API client that Toast issues for your restaurants).', false);
    const base = (ctx.baseUrl ?? '').trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]+/i.test(base)) throw new ConnectorError(`The Toast channel needs its baseUrl: the API hostname Toast issued to you (sandbox or production), e.g. https://ws-api.toasttab.com; "${base}" is not an address.`, false);
    const timeoutMs = ctx.settings.timeoutMs ?? 30_000;
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 100) throw new ConnectorError('The Toast setting timeoutMs must be a whole number of milliseconds (at least 100).', false);
    const clock = ctx.clock ?? (() => new Date());
    this.http = new ToastHttp({ baseUrl: base, clientId, clientSecret, timeoutMs, fetch: ctx.fetch ?? fetch, clock: () => clock().getTime() });
  }

  // ---------------------------------------------------------------- stock

  /** Stock of these items at one restaurant, by multiLocationId (or by guid with `byGuid`). */
  async search(restaurant: string, ids: readonly string[], signal?: AbortSignal, byGuid = false): Promise<Inventory[]> {
    const out: Inventory[] = [];
    for (const part of chunks([...new Set(ids)], MAX_ITEMS)) {
      const { data } = await this.http.send({ method: 'POST', path: '/stock/v1/inventory/search', restaurant, what: 'read stock levels', body: byGuid ? { guids: part } : { multiLocationIds: part } }, signal);
      if (!Array.isArray(data)) throw unreadable('a stock search', 'it is not a list of MenuItemInventory');
      for (const v of data) {
        const inv = inventoryOf(v);
        if (inv) out.push(inv);
      }
    }
    return out;
  }

  private async levels(restaurant: string, ids: readonly string[], signal?: AbortSignal): Promise<Map<string, Inventory>> {
    return new Map((await this.search(restaurant, ids, signal)).map((i) => [i.multiLocationId, i]));
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const out: LevelReading[] = [];
    const byRestaurant = new Map<string, typeof items>();
    for (const it of items) if (mlid(it.ref)) byRestaurant.set(it.locationId, [...(byRestaurant.get(it.locationId) ?? []), it]);
    for (const [restaurant, list] of byRestaurant) {
      const levels = await this.levels(restaurant, list.map((it) => mlid(it.ref)!), signal);
      for (const it of list) {
        const inv = levels.get(mlid(it.ref)!);
        const level = inv ? levelOf(inv) : null;
        if (level !== null) out.push({ sku: it.sku, ref: it.ref, locationId: restaurant, available: level });
      }
    }
    return out;
  }

  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const outcomes: (PushOutcome | undefined)[] = new Array(targets.length);
    const byRestaurant = new Map<string, number[]>();
    targets.forEach((t, i) => {
      const { sku, locationId, level } = t;
      if (!mlid(t.ref)) outcomes[i] = { sku, locationId, status: 'failed', message: 'This listing has no Toast multiLocationId; run catalog discovery again.' };
      else if (!Number.isInteger(level) || level < 0) outcomes[i] = { sku, locationId, status: 'failed', message: `Toast needs a whole, non-negative level (got ${level}).` };
      else byRestaurant.set(locationId, [...(byRestaurant.get(locationId) ?? []), i]);
    });
    for (const [restaurant, indexes] of byRestaurant) {
      for (const part of chunks(indexes, MAX_ITEMS)) await this.pushPart(restaurant, part.map((i) => ({ index: i, target: targets[i]! })), outcomes, signal);
    }
    return outcomes.map((o, i) => o ?? { sku: targets[i]!.sku, locationId: targets[i]!.locationId, status: 'failed', message: 'Toast gave no answer for this item.' });
  }

  private async pushPart(restaurant: string, part: { index: number; target: PushTarget }[], outcomes: (PushOutcome | undefined)[], signal?: AbortSignal): Promise<void> {
    const before = await this.levels(restaurant, part.map((p) => mlid(p.target.ref)!), signal);
    const writes: { index: number; target: PushTarget }[] = [];
    for (const p of part) {
      const { sku, locationId, level, expected } = p.target;
      const inv = before.get(mlid(p.target.ref)!);
      const now = inv ? levelOf(inv) : null;
      if (!inv) outcomes[p.index] = { sku, locationId, status: 'failed', message: `Toast restaurant ${restaurant} has no menu item ${mlid(p.target.ref)} (multiLocationId); run catalog discovery again.` };
      else if (now === null) outcomes[p.index] = { sku, locationId, status: 'failed', message: `${sku} is marked In Stock without a quantity at Toast restaurant ${restaurant}; set a quantity for it once in Toast (Quick Edit or the menu item's Inventory section) so that Toast counts it.` };
      else if (expected !== null && now !== expected) outcomes[p.index] = { sku, locationId, status: 'stale', observed: now };
      else if (now === level) outcomes[p.index] = { sku, locationId, status: 'applied', level, wrote: false };
      else writes.push(p);
    }
    if (writes.length === 0) return;
    const done = await this.sendEach(restaurant, writes, signal, (p, err) => {
      outcomes[p.index] = { sku: p.target.sku, locationId: p.target.locationId, status: 'failed', message: err.message };
    });
    if (done.length === 0) return;
    const after = await this.levels(restaurant, done.map((p) => mlid(p.target.ref)!), signal);
    for (const p of done) {
      const { sku, locationId, level } = p.target;
      const inv = after.get(mlid(p.target.ref)!);
      const now = inv ? levelOf(inv) : null;
      outcomes[p.index] = now === level ? { sku, locationId, status: 'applied', level } : { sku, locationId, status: 'stale', observed: now };
    }
  }

  /** One update request; when Toast refuses it for what it asked (an item unknown), each item is sent alone so the others still land. */
  private async sendEach(restaurant: string, writes: { index: number; target: PushTarget }[], signal: AbortSignal | undefined, refused: (p: { index: number; target: PushTarget }, err: ConnectorError) => void): Promise<{ index: number; target: PushTarget }[]> {
    const body = writes.map(({ target }) => (target.level === 0 ? { multiLocationId: mlid(target.ref), status: 'OUT_OF_STOCK' } : { multiLocationId: mlid(target.ref), status: 'QUANTITY', quantity: target.level }));
    const what = writes.length === 1 ? `set the stock of ${writes[0]!.target.sku}` : `set the stock of ${writes.length} menu items`;
    try {
      await this.http.send({ method: 'PUT', path: '/stock/v1/inventory/update', restaurant, what, body }, signal);
      return writes;
    } catch (err) {
      if (!(err instanceof ConnectorError) || err.channelFault) throw err;
      if (writes.length === 1) {
        refused(writes[0]!, err);
        return [];
      }
    }
    const done: { index: number; target: PushTarget }[] = [];
    for (const w of writes) done.push(...(await this.sendEach(restaurant, [w], signal, refused)));
    return done;
  }

  // ---------------------------------------------------------------- catalog

  async listCatalog(restaurants: readonly string[], signal?: AbortSignal): Promise<PlatformListing[]> {
    const byId = new Map<string, PlatformListing>();
    for (const restaurant of restaurants) {
      const items: { guid: string; sku: string | null; name: string }[] = [];
      const guard = new PageGuard({ platform: 'Toast', what: 'list the menu items', hint: `the server at ${this.http.baseUrl} ignores the "pageToken" parameter of /config/v2/menuItems (a proxy or cache in front of the API?)` });
      let pageToken: string | null = null;
      for (;;) {
        const { data, headers } = await this.http.send({ method: 'GET', path: '/config/v2/menuItems', restaurant, what: 'list the menu items', ...(pageToken ? { query: { pageToken } } : {}) }, signal);
        if (!Array.isArray(data)) throw unreadable('a menu item list', 'it is not a list of MenuItem');
        const next = headers.get('toast-next-page-token');
        guard.page(data.map((m: unknown) => String(isObj(m) ? m.guid : m)), next);
        for (const m of data) {
          if (!isObj(m) || typeof m.guid !== 'string') throw unreadable('a menu item list', 'an item has no guid');
          items.push({ guid: m.guid, sku: typeof m.sku === 'string' && m.sku.trim() !== '' ? m.sku.trim() : null, name: typeof m.name === 'string' ? m.name : '' });
        }
        if (!next) break;
        guard.more();
        pageToken = next;
      }
      const stock = new Map((await this.search(restaurant, items.map((i) => i.guid), signal, true)).map((s) => [s.guid, s]));
      for (const it of items) {
        const id = stock.get(it.guid)?.multiLocationId;
        if (!id || byId.has(id)) continue;
        byId.set(id, { sku: it.sku, title: it.name, ref: { productId: id, variantId: id } });
      }
    }
    return [...byId.values()];
  }

  // ---------------------------------------------------------------- orders

  /** Every order of a restaurant modified in [start, end), all pages. */
  async ordersModified(restaurant: string, start: Date, end: Date, signal?: AbortSignal): Promise<Obj[]> {
    const pageSize = 100;
    const out: Obj[] = [];
    const guard = new PageGuard({ platform: 'Toast', what: 'read the orders modified since the last poll', hint: `the server at ${this.http.baseUrl} ignores the "page" parameter of /orders/v2/ordersBulk` });
    for (let page = 1; ; page++) {
      const query = { startDate: toastDate(start), endDate: toastDate(end), pageSize: String(pageSize), page: String(page) };
      const { data } = await this.http.send({ method: 'GET', path: '/orders/v2/ordersBulk', restaurant, what: 'read the orders modified since the last poll', query }, signal);
      if (!Array.isArray(data)) throw unreadable('an order list', 'it is not a list of Order');
      guard.page(data.map((o: unknown) => String(isObj(o) ? o.guid : o)));
      for (const o of data) {
        if (!isObj(o) || typeof o.guid !== 'string') throw unreadable('an order list', 'an order has no guid');
        out.push(o);
      }
      if (data.length < pageSize) return out;
      guard.more();
    }
  }
}

/** Toast's date-time format for query parameters: `yyyy-MM-dd'T'HH:mm:ss.SSS+0000`. */
export function toastDate(d: Date): string {
  return d.toISOString().replace('Z', '+0000');
}
