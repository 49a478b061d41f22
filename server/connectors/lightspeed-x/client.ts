/**
 * The X-Series connector's calls: levels are the `inventory_level` of a product's inventory record
 * at an outlet (API 2.0 `/products/{id}/inventory`); a push is an absolute set — PUT
 * `/api/2.1/products/{id}` with `details.inventory[{outlet_id, current_amount}]` (docs "Inventory
 * Updates", "Direct update on the product") — read just before (a level that moved since the hub last
 * saw it is answered stale, not overwritten) and read back after. Discovery and the polled feeds page
 * 2.0 lists by their `version` cursor (`after`, docs "Pagination").
 */
import { ConnectorError, type ConnectorContext, type LevelReading, type ListingRef, type PlatformListing, type PollResult, type PolledEvent, type PushOutcome, type PushTarget } from '../types';
import { PageGuard } from '../paging';
import { XsHttp, type Params } from './http';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);

/** The feeds the hub polls: sales (webhooks are not guaranteed) and inventory (counts typed at the counter). */
export const XS_FEEDS = ['sales', 'inventory'] as const;
const FEED_PATH: Record<(typeof XS_FEEDS)[number], string> = { sales: '/api/2.0/sales', inventory: '/api/2.0/inventory' };
const FEED_TOPIC: Record<(typeof XS_FEEDS)[number], string> = { sales: 'sale.update', inventory: 'inventory.update' };

function unreadable(what: string, why: string): ConnectorError {
  return new ConnectorError(`Lightspeed X-Series answered ${what} with something the hub cannot read: ${why}. Nothing of it was used.`, false, null, null, { channelFault: true });
}

/** A 2.0 list answer: `{"data": [...], "version": {"min": n, "max": n}}`. */
function listOf(body: unknown, what: string): { rows: Obj[]; max: number | null } {
  if (!isObj(body) || !Array.isArray(body.data) || body.data.some((r) => !isObj(r))) throw unreadable(what, 'not {"data": [...]}');
  const v = isObj(body.version) ? body.version.max : null;
  return { rows: body.data as Obj[], max: typeof v === 'number' && Number.isSafeInteger(v) ? v : null };
}

/** A row's version, which 2.0 collections carry on every resource. */
function versionOf(row: Obj, what: string): number {
  const v = row.version;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw unreadable(what, `a row without a whole "version" (${JSON.stringify(v)})`);
  return v;
}

/** The level of an inventory record: `inventory_level`, or `current_amount` where only that is given. */
function levelOf(rec: Obj, what: string): number {
  const raw = rec.inventory_level ?? rec.current_amount;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isInteger(n)) throw unreadable(what, `an inventory record without a whole level (${JSON.stringify(raw)})`);
  return n;
}

/** A feed's position: `v1:<version>`, or `v1:<version>:start` while the first read walks to the end without taking events. */
function parseCursor(feed: string, text: string): { after: number; start: boolean } {
  const m = /^v1:(\d{1,16})(:start)?$/.exec(text);
  if (!m) throw new ConnectorError(`The saved position of the Lightspeed X-Series ${feed} feed is not one this connector wrote (${text.slice(0, 80)}); nothing was read.`, false, null, null, { channelFault: false });
  return { after: Number(m[1]), start: m[2] !== undefined };
}

export class XsClient {
  readonly http: XsHttp;

  constructor(ctx: ConnectorContext) {
    this.http = new XsHttp(ctx);
  }

  /** The product's inventory records by outlet. */
  private async inventory(productId: string, what: string, signal?: AbortSignal): Promise<Map<string, number>> {
    const body = await this.http.call<unknown>('GET', `/api/2.0/products/${encodeURIComponent(productId)}/inventory`, what, {}, signal);
    const out = new Map<string, number>();
    for (const rec of listOf(body, `the inventory of product ${productId}`).rows) {
      const outlet = str(rec.outlet_id);
      if (outlet && rec.deleted_at == null) out.set(outlet, levelOf(rec, `the inventory of product ${productId}`));
    }
    return out;
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const byProduct = new Map<string, Map<string, number>>();
    const out: LevelReading[] = [];
    for (const item of items) {
      const id = str(item.ref.productId);
      if (!id) continue;
      let inv = byProduct.get(id);
      if (!inv) {
        try {
          inv = await this.inventory(id, `read the stock of ${item.sku}`, signal);
        } catch (err) {
          // A product X-Series no longer has: no reading for it; the others are read.
          if (err instanceof ConnectorError && !err.channelFault) continue;
          throw err;
        }
        byProduct.set(id, inv);
      }
      const level = inv.get(item.locationId);
      if (level !== undefined) out.push({ sku: item.sku, ref: item.ref, locationId: item.locationId, available: level });
    }
    return out;
  }

  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const out: PushOutcome[] = [];
    for (const t of targets) out.push(await this.pushOne(t, signal));
    return out;
  }

  private async pushOne(t: PushTarget, signal?: AbortSignal): Promise<PushOutcome> {
    const { sku, locationId, level, expected } = t;
    const fail = (message: string): PushOutcome => ({ sku, locationId, status: 'failed', message });
    const id = str(t.ref.productId);
    if (!id) return fail('This listing has no X-Series product id; run catalog discovery again.');
    if (!Number.isInteger(level) || level < 0) return fail(`The level ${level} is not a whole number of units of at least 0.`);
    try {
      const before = await this.inventory(id, `read the stock of ${sku} before setting it`, signal);
      const now = before.get(locationId);
      if (now === undefined) return fail(`X-Series keeps no stock of this product at the outlet ${locationId} (the product does not track inventory, or the outlet is not the store's); check the channel's locations and the product.`);
      if (now === level && (expected === null || now === expected)) return { sku, locationId, status: 'applied', level, wrote: false };
      if (expected !== null && now !== expected) return { sku, locationId, status: 'stale', observed: now };
      await this.http.call('PUT', `/api/2.1/products/${encodeURIComponent(id)}`, `set the stock of ${sku}`, { json: { details: { inventory: [{ outlet_id: locationId, current_amount: level }] } } }, signal);
      const after = (await this.inventory(id, `read back the stock of ${sku}`, signal)).get(locationId) ?? null;
      return after === level ? { sku, locationId, status: 'applied', level } : { sku, locationId, status: 'stale', observed: after };
    } catch (err) {
      // One product refused (gone, or its stock cannot be set): that item fails, the others go on.
      if (err instanceof ConnectorError && !err.channelFault) return fail(err.message);
      throw err;
    }
  }

  /** Every product, by version cursor; variants are products of their own in X-Series. */
  async listCatalog(signal?: AbortSignal): Promise<PlatformListing[]> {
    const out: PlatformListing[] = [];
    const guard = new PageGuard({ platform: 'Lightspeed X-Series', what: 'list the catalog', hint: `the store, or a proxy in front of it, ignores the "after" parameter of ${this.http.url}/api/2.0/products` });
    let after = 0;
    for (;;) {
      const { rows, max } = listOf(await this.http.call<unknown>('GET', '/api/2.0/products', 'list the catalog', { params: { after, page_size: this.http.pageSize } }, signal), 'the product list');
      const next = rows.length > 0 ? Math.max(...rows.map((r) => versionOf(r, 'the product list')), max ?? 0) : after;
      guard.page(rows.map((r) => String(r.id)), rows.length > 0 ? String(next) : null);
      for (const p of rows) {
        const id = str(p.id);
        if (!id || p.deleted_at != null) continue;
        const title = [str(p.name), str(p.variant_name)].filter(Boolean).join(' — ') || id;
        out.push({ sku: str(p.sku), title, ref: { productId: id, variantId: id } });
      }
      if (rows.length < this.http.pageSize) return out;
      if (next <= after) throw unreadable('the product list', `a page of versions not after ${after}: the store ignores "after"`);
      after = next;
      guard.more();
    }
  }

  /** One page of a feed after its cursor; null: start at the end of what the store has now. */
  async poll(feed: string, cursor: string | null, signal?: AbortSignal): Promise<PollResult> {
    if (!(XS_FEEDS as readonly string[]).includes(feed)) {
      throw new ConnectorError(`Lightspeed X-Series has no polled feed "${feed}"; it polls: ${XS_FEEDS.join(', ')}.`, false, null, null, { channelFault: false });
    }
    const f = feed as (typeof XS_FEEDS)[number];
    const { after, start } = cursor === null ? { after: 0, start: true } : parseCursor(feed, cursor);
    const params: Params = { after, page_size: this.http.pageSize };
    const { rows } = listOf(await this.http.call<unknown>('GET', FEED_PATH[f], `read the ${feed} changed since the last poll`, { params }, signal), `the ${feed} feed`);
    let next = after;
    const events: PolledEvent[] = [];
    for (const row of rows) {
      const v = versionOf(row, `the ${feed} feed`);
      if (v <= after) throw unreadable(`the ${feed} feed`, `version ${v} to a request for those after ${after}: the store ignores "after"`);
      next = Math.max(next, v);
      const id = str(row.id);
      if (!id) throw unreadable(`the ${feed} feed`, 'a row without an id');
      if (!start) events.push({ eventId: `${feed}:${id}:v${v}`, topic: FEED_TOPIC[f], body: row, occurredAt: str(row.updated_at) });
    }
    const more = rows.length >= this.http.pageSize;
    // The first read walks to the end of the store's history taking nothing: the hub starts from now.
    return { events, cursor: `v1:${next}${start && more ? ':start' : ''}`, more };
  }
}
