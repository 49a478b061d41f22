/**
 * Catalog V1 sites: stock per variant, no locations (the pseudo location `default`).
 * - read: POST /stores-reader/v2/inventoryItems/query, filtered by product ids, paged by offset;
 * - push: the levels read first (see plan.ts), then the change as a delta, POST
 *   /stores/v2/inventoryItems/increment `{incrementData:[{productId, variantId, incrementBy}]}` and
 *   /decrement `{decrementData:[{productId, variantId, decrementBy}]}`. Wix offers no
 *   compare-and-set or idempotency key on V1: the read before is the compare, and a delta never
 *   overwrites a sale that lands between the read and the write (it composes with it). A retry of
 *   a write whose answer was lost finds the level already there and writes nothing. A batch Wix
 *   refuses as a whole is sent again one variant at a time, so a refused variant fails alone;
 * - catalog: POST /stores/v1/products/query with `includeVariants`, paged by offset;
 * - hide / relist: PATCH /stores/v1/products/{id} `{product:{visible}}`.
 */
import { ConnectorError, type LevelReading, type ListingRef, type PlatformListing, type PushOutcome, type PushTarget } from '../types';
import { chunks } from '../../util';
import type { WixHttp } from './client';
import { list, obj, str } from './json';
import { finish, planWrites, type Write } from './plan';
import { WIX_LOCATION_V1 } from './translate';

/** Variants per increment or decrement request (Wix takes up to 300 across products). */
export const MAX_DELTAS = 100;


interface V1Reading {
  quantity: number | null;
  tracked: boolean;
}

export class CatalogV1 {
  constructor(private readonly http: WixHttp) {}

  /** Quantity per `product|variant`, for the given products. */
  async readMap(productIds: string[], signal?: AbortSignal): Promise<Map<string, V1Reading>> {
    const out = new Map<string, V1Reading>();
    for (const part of chunks([...new Set(productIds)], this.http.pageSize)) {
      const guard = this.http.pageGuard('read inventory', 'Query Inventory (paging.offset)');
      for (let offset = 0; ; ) {
        const r = await this.http.call('POST', '/stores-reader/v2/inventoryItems/query', { query: { filter: JSON.stringify({ productId: { $in: part } }), paging: { limit: this.http.pageSize, offset } } }, 'read inventory', signal);
        if (!Array.isArray(r.inventoryItems)) throw new ConnectorError('Wix answered the inventory query without inventoryItems; nothing was taken from it.', true, null, null, { channelFault: true });
        const items = list(r.inventoryItems);
        guard.page(items.map((i) => String(i.id ?? i.productId)));
        for (const item of items) {
          const productId = str(item.productId);
          for (const v of list(item.variants)) {
            const variantId = str(v.variantId);
            const q = v.quantity;
            if (productId && variantId) out.set(`${productId}|${variantId}`, { quantity: typeof q === 'number' && Number.isInteger(q) ? q : null, tracked: item.trackQuantity === true });
          }
        }
        offset += items.length;
        const total = typeof r.totalResults === 'number' ? r.totalResults : offset;
        if (items.length === 0 || offset >= total) break;
        guard.more();
      }
    }
    return out;
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const usable = items.filter((i) => i.locationId === WIX_LOCATION_V1 && i.ref.productId && i.ref.variantId);
    if (usable.length === 0) return [];
    const levels = await this.readMap(usable.map((u) => u.ref.productId), signal);
    return usable.flatMap((i) => {
      const r = levels.get(`${i.ref.productId}|${i.ref.variantId}`);
      return r && r.tracked && r.quantity !== null ? [{ sku: i.sku, ref: i.ref, locationId: i.locationId, available: r.quantity }] : [];
    });
  }

  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const outcomes: (PushOutcome | undefined)[] = new Array(targets.length);
    const usable = targets.filter((t, i) => {
      const wrong = t.locationId !== WIX_LOCATION_V1 ? `A catalog V1 site keeps one stock level per variant: its location is "${WIX_LOCATION_V1}", not ${t.locationId}.` : !t.ref.productId || !t.ref.variantId ? 'This listing has no Wix product and variant id; run catalog discovery again.' : null;
      if (wrong) outcomes[i] = { sku: t.sku, locationId: t.locationId, status: 'failed', message: wrong };
      return !wrong;
    });
    if (usable.length > 0) {
      const levels = await this.readMap(usable.map((t) => t.ref.productId), signal);
      const writes = planWrites(targets, (t) => levels.get(`${t.ref.productId}|${t.ref.variantId}`), outcomes);
      for (const up of [true, false]) {
        for (const part of chunks(writes.filter((w) => w.target.level > w.current === up), MAX_DELTAS)) await this.sendDeltas(part, up, outcomes, signal);
      }
    }
    return finish(targets, outcomes);
  }

  private async sendDeltas(part: Write<V1Reading>[], up: boolean, outcomes: (PushOutcome | undefined)[], signal?: AbortSignal): Promise<void> {
    const send = (ws: Write<V1Reading>[]) =>
      up
        ? this.http.call('POST', '/stores/v2/inventoryItems/increment', { incrementData: ws.map((w) => ({ productId: w.target.ref.productId, variantId: w.target.ref.variantId, incrementBy: w.target.level - w.current })) }, 'increase stock', signal)
        : this.http.call('POST', '/stores/v2/inventoryItems/decrement', { decrementData: ws.map((w) => ({ productId: w.target.ref.productId, variantId: w.target.ref.variantId, decrementBy: w.current - w.target.level })) }, 'decrease stock', signal);
    const applied = (w: Write<V1Reading>) => (outcomes[w.index] = { sku: w.target.sku, locationId: w.target.locationId, status: 'applied', level: w.target.level });
    try {
      await send(part);
      part.forEach(applied);
      return;
    } catch (err) {
      // A refusal of the request as a whole (its route, key, availability) is the channel's.
      if (!(err instanceof ConnectorError) || err.channelFault || part.length === 1) {
        if (part.length === 1 && err instanceof ConnectorError && !err.channelFault) {
          outcomes[part[0]!.index] = { sku: part[0]!.target.sku, locationId: part[0]!.target.locationId, status: 'failed', message: `Wix refused the change: ${err.message}` };
          return;
        }
        throw err;
      }
    }
    // Wix refused the batch for one of its variants: each one alone, so only that one fails.
    for (const w of part) await this.sendDeltas([w], up, outcomes, signal);
  }

  async listCatalog(signal?: AbortSignal): Promise<PlatformListing[]> {
    const out: PlatformListing[] = [];
    const guard = this.http.pageGuard('list the catalog', 'Query Products (paging.offset)');
    for (let offset = 0; ; ) {
      const r = await this.http.call('POST', '/stores/v1/products/query', { query: { paging: { limit: this.http.pageSize, offset } }, includeVariants: true }, 'list the catalog', signal);
      if (!Array.isArray(r.products)) throw new ConnectorError('Wix answered the product query without products; nothing was taken from it.', true, null, null, { channelFault: true });
      const products = list(r.products);
      guard.page(products.map((p) => String(p.id)));
      for (const p of products) {
        const productId = str(p.id);
        if (!productId) continue;
        const name = str(p.name) ?? productId;
        const variants = list(p.variants);
        for (const v of variants) {
          const variantId = str(v.id);
          if (!variantId) continue;
          const choices = Object.values(obj(v.choices) ?? {}).filter((c): c is string => typeof c === 'string');
          out.push({ sku: str(obj(v.variant)?.sku) ?? (variants.length === 1 ? str(p.sku) : null), title: choices.length > 0 ? `${name} — ${choices.join(' / ')}` : name, ref: { productId, variantId } });
        }
      }
      offset += products.length;
      const total = typeof r.totalResults === 'number' ? r.totalResults : offset;
      if (products.length === 0 || offset >= total) break;
      guard.more();
    }
    return out;
  }

  async setVisible(ref: ListingRef, visible: boolean, signal?: AbortSignal): Promise<void> {
    if (!ref.productId) throw new ConnectorError('This listing has no Wix product id; run catalog discovery again.', false);
    await this.http.call('PATCH', `/stores/v1/products/${encodeURIComponent(ref.productId)}`, { product: { visible } }, visible ? 'show the product' : 'hide the product', signal);
  }
}
