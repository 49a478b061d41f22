/**
 * Catalog V3 sites: one inventory item per variant per location (Wix location ids).
 * - read: POST /stores/v3/inventory-items/query, filtered by variant and location ids, paged by
 *   cursor (`cursorPaging`, `pagingMetadata.cursors.next`);
 * - push: compare-and-set. The items read first (see plan.ts), then POST
 *   /stores/v3/bulk/inventory-items/update with each item's `revision`: Wix refuses an item whose
 *   revision moved since the read (someone changed it), which is answered stale with what Wix then
 *   shows; the other items in the request are written. A retry of a write whose answer was lost
 *   finds the level already there and writes nothing;
 * - catalog: POST /stores/v3/products/query paged by cursor, variants from `variantsInfo`;
 * - hide / relist: the product's `visible`, PATCH /stores/v3/products/{id} with its `revision`.
 */
import { ConnectorError, type LevelReading, type ListingRef, type PlatformListing, type PushOutcome, type PushTarget } from '../types';
import { chunks } from '../../util';
import type { WixHttp } from './client';
import { list, obj, str, type Obj } from './json';
import { finish, planWrites, type Write } from './plan';

/** Inventory items per bulk update request. */
export const MAX_UPDATES = 100;


interface V3Reading {
  id: string;
  revision: string;
  quantity: number | null;
  tracked: boolean;
}

/** The cursor of the next page, or null when Wix says there is none. */
function nextCursor(r: Obj): string | null {
  const meta = obj(r.pagingMetadata);
  const next = str(obj(meta?.cursors)?.next);
  return meta?.hasNext === false ? null : next;
}

export class CatalogV3 {
  constructor(private readonly http: WixHttp) {}

  /** Inventory items per `variant|location`, for the given variants at the given locations. */
  async readMap(variantIds: string[], locationIds: string[], signal?: AbortSignal): Promise<Map<string, V3Reading>> {
    const out = new Map<string, V3Reading>();
    const locations = [...new Set(locationIds)];
    for (const part of chunks([...new Set(variantIds)], this.http.pageSize)) {
      const guard = this.http.pageGuard('read inventory', 'Query Inventory Items (cursorPaging)');
      const filter = { variantId: { $in: part }, locationId: { $in: locations } };
      let cursor: string | null = null;
      for (;;) {
        const query = cursor ? { cursorPaging: { limit: this.http.pageSize, cursor } } : { filter, cursorPaging: { limit: this.http.pageSize } };
        const r = await this.http.call('POST', '/stores/v3/inventory-items/query', { query }, 'read inventory', signal);
        if (!Array.isArray(r.inventoryItems)) throw new ConnectorError('Wix answered the inventory item query without inventoryItems; nothing was taken from it.', true, null, null, { channelFault: true });
        const items = list(r.inventoryItems);
        cursor = nextCursor(r);
        guard.page(
          items.map((i) => String(i.id)),
          cursor,
        );
        for (const i of items) {
          const id = str(i.id);
          const variantId = str(i.variantId);
          const locationId = str(i.locationId);
          const q = i.quantity;
          if (id && variantId && locationId) out.set(`${variantId}|${locationId}`, { id, revision: String(i.revision ?? ''), quantity: typeof q === 'number' && Number.isInteger(q) ? q : null, tracked: i.trackQuantity === true });
        }
        if (!cursor || items.length === 0) break;
        guard.more();
      }
    }
    return out;
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const usable = items.filter((i) => i.ref.variantId && i.locationId);
    if (usable.length === 0) return [];
    const levels = await this.readMap(
      usable.map((u) => u.ref.variantId),
      usable.map((u) => u.locationId),
      signal,
    );
    return usable.flatMap((i) => {
      const r = levels.get(`${i.ref.variantId}|${i.locationId}`);
      return r && r.tracked && r.quantity !== null ? [{ sku: i.sku, ref: i.ref, locationId: i.locationId, available: r.quantity }] : [];
    });
  }

  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const outcomes: (PushOutcome | undefined)[] = new Array(targets.length);
    targets.forEach((t, i) => {
      if (!t.ref.variantId || !t.locationId) outcomes[i] = { sku: t.sku, locationId: t.locationId, status: 'failed', message: 'This listing has no Wix variant id or location; run catalog discovery again and map the location.' };
    });
    const usable = targets.filter((_, i) => !outcomes[i]);
    if (usable.length > 0) {
      const levels = await this.readMap(
        usable.map((t) => t.ref.variantId),
        usable.map((t) => t.locationId),
        signal,
      );
      const writes = planWrites(targets, (t) => levels.get(`${t.ref.variantId}|${t.locationId}`), outcomes);
      for (const part of chunks(writes, MAX_UPDATES)) await this.sendUpdates(part, outcomes, signal);
    }
    return finish(targets, outcomes);
  }

  private async sendUpdates(part: Write<V3Reading>[], outcomes: (PushOutcome | undefined)[], signal?: AbortSignal): Promise<void> {
    const r = await this.http.call(
      'POST',
      '/stores/v3/bulk/inventory-items/update',
      { inventoryItems: part.map((w) => ({ inventoryItem: { id: w.reading.id, revision: w.reading.revision, quantity: w.target.level } })), returnEntity: false },
      'set stock',
      signal,
    );
    const results = list(r.results);
    const moved: Write<V3Reading>[] = [];
    part.forEach((w, i) => {
      const meta = obj(results.find((x) => obj(x.itemMetadata)?.originalIndex === i)?.itemMetadata) ?? obj(results[i]?.itemMetadata);
      if (meta?.success === true) {
        outcomes[w.index] = { sku: w.target.sku, locationId: w.target.locationId, status: 'applied', level: w.target.level };
        return;
      }
      const error = obj(meta?.error);
      const code = str(error?.code) ?? 'UNKNOWN';
      if (/REVISION/i.test(code)) moved.push(w);
      else outcomes[w.index] = { sku: w.target.sku, locationId: w.target.locationId, status: 'failed', message: meta ? `Wix refused the change: ${code}${str(error?.description) ? `: ${str(error?.description)}` : ''}` : 'Wix gave no result for this change.' };
    });
    if (moved.length === 0) return;
    // Changed on Wix between the read and the write: answered with what Wix shows now.
    const now = await this.readMap(
      moved.map((w) => w.target.ref.variantId),
      moved.map((w) => w.target.locationId),
      signal,
    );
    for (const w of moved) outcomes[w.index] = { sku: w.target.sku, locationId: w.target.locationId, status: 'stale', observed: now.get(`${w.target.ref.variantId}|${w.target.locationId}`)?.quantity ?? null };
  }

  async listCatalog(signal?: AbortSignal): Promise<PlatformListing[]> {
    const out: PlatformListing[] = [];
    const guard = this.http.pageGuard('list the catalog', 'Query Products (cursorPaging)');
    let cursor: string | null = null;
    for (;;) {
      const r = await this.http.call('POST', '/stores/v3/products/query', { query: { cursorPaging: { limit: this.http.pageSize, ...(cursor ? { cursor } : {}) } } }, 'list the catalog', signal);
      if (!Array.isArray(r.products)) throw new ConnectorError('Wix answered the product query without products; nothing was taken from it.', true, null, null, { channelFault: true });
      const products = list(r.products);
      cursor = nextCursor(r);
      guard.page(
        products.map((p) => String(p.id)),
        cursor,
      );
      for (const p of products) {
        const productId = str(p.id);
        if (!productId) continue;
        const name = str(p.name) ?? productId;
        for (const v of list(obj(p.variantsInfo)?.variants)) {
          const variantId = str(v.id);
          if (!variantId) continue;
          const choices = list(v.choices).map((c) => str(obj(c.optionChoiceNames)?.choiceName)).filter((c): c is string => c !== null);
          out.push({ sku: str(v.sku), title: choices.length > 0 ? `${name} — ${choices.join(' / ')}` : name, ref: { productId, variantId } });
        }
      }
      if (!cursor || products.length === 0) break;
      guard.more();
    }
    return out;
  }

  async setVisible(ref: ListingRef, visible: boolean, signal?: AbortSignal): Promise<void> {
    if (!ref.productId) throw new ConnectorError('This listing has no Wix product id; run catalog discovery again.', false);
    const path = `/stores/v3/products/${encodeURIComponent(ref.productId)}`;
    const what = visible ? 'show the product' : 'hide the product';
    const got = obj((await this.http.call('GET', path, undefined, what, signal)).product);
    if (!got) throw new ConnectorError(`Wix answered product ${ref.productId} without the product.`, true, null, null, { channelFault: true });
    if (got.visible === visible) return;
    await this.http.call('PATCH', path, { product: { revision: got.revision, visible } }, what, signal);
  }
}
