/**
 * The Adobe Commerce connector's stock, listing and catalog calls (see http.ts for the requests):
 * - multi-source inventory (the default): levels are MSI source items, per source code, read with
 *   GET /V1/inventory/source-items (filter `sku in …`) and written absolute with
 *   POST /V1/inventory/source-items `{sourceItems: [{sku, source_code, quantity, status}]}`;
 * - single-source (`inventory: single-source`): the legacy stock item of the default stock, read with
 *   GET /V1/stockItems/{sku} and written with PUT /V1/products/{sku}/stockItems/{itemId} (`qty`,
 *   `is_in_stock`), the whole item as read sent back with those two changed (the schema requires
 *   every field). The one location is the `default` source.
 * Both writes are absolute (Commerce offers no compare-and-set and no delta), so each is narrowed on
 * both sides as WooCommerce's is: a read before refuses a target whose level is not what the hub
 * expected (`stale`, nothing written) and a read after reports what the store shows (`stale` when a
 * sale landed in between).
 */
import { ConnectorError, type LevelReading, type ListingRef, type PlatformListing, type PushOutcome, type PushTarget } from '../types';
import { PageGuard } from '../paging';
import { AdobeHttp, searchCriteria, searchResult } from './http';

type Obj = Record<string, unknown>;

/**
 * Source items per request: the default of Commerce's web API input limit (20 entities in one list
 * input, when a store turns the limits on; developer.adobe.com/commerce/webapi/get-started/api-security).
 */
export const MAX_BATCH = 20;
export const DEFAULT_SOURCE = 'default';
const SKUS_PER_READ = 50;

export type InventoryMode = 'multi-source' | 'single-source';

type Usable = { index: number; target: PushTarget; sku: string };

export const key = (sku: string, source: string) => `${sku}\u0000${source}`;

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function unreadable(what: string, why: string): ConnectorError {
  return new ConnectorError(`Adobe Commerce answered ${what} the hub cannot trust: ${why}. Nothing was taken from it; stock updates are held until it answers correctly.`, false, null, null, { channelFault: true });
}

/** What one source shows for one SKU: what it can still sell (`level`), its own quantity, and its share of the reservations. */
export interface Shown {
  level: number;
  quantity: number;
  share: number;
  /** The legacy stock item as read (single-source only), sent back whole when written. */
  item?: Obj;
}

export class AdobeClient {
  constructor(
    readonly http: AdobeHttp,
    readonly mode: InventoryMode,
    readonly pageSize: number,
    readonly stockId: number,
  ) {}

  // ---------------------------------------------------------------- read

  /** Source items of these SKUs at every source, keyed sku + source. */
  async readSources(skus: string[], signal?: AbortSignal): Promise<Map<string, { quantity: number; inStock: boolean }>> {
    const out = new Map<string, { quantity: number; inStock: boolean }>();
    const plain = [...new Set(skus)].filter((s) => !s.includes(','));
    const groups = [...chunks(plain, SKUS_PER_READ), ...[...new Set(skus)].filter((s) => s.includes(',')).map((s) => [s])];
    for (const group of groups) {
      const filter = group.length === 1 ? { field: 'sku', value: group[0]!, condition: 'eq' } : { field: 'sku', value: group.join(','), condition: 'in' };
      const asked = new Set(group);
      const guard = new PageGuard({ platform: 'Adobe Commerce', what: 'read source items', hint: `the store, or a cache or proxy in front of it, ignores searchCriteria[currentPage] on ${this.http.url}/rest/V1/inventory/source-items: exclude /rest from page caching` });
      for (let page = 1; ; page++) {
        const data = await this.http.call<unknown>('GET', 'inventory/source-items', 'read stock levels', { query: searchCriteria({ filter, pageSize: this.pageSize, page }) }, signal);
        const { items, total } = searchResult(data, 'read stock levels');
        guard.page(items.map((it) => `${String(it.sku)}@${String(it.source_code)}`));
        for (const it of items) {
          if (typeof it.sku !== 'string' || !asked.has(it.sku)) throw unreadable('a source item list', `it lists SKU ${JSON.stringify(it.sku)}, which was not asked for (the "sku" filter was ignored)`);
          if (typeof it.source_code !== 'string' || it.source_code === '') throw unreadable('a source item list', `the source item of ${it.sku} names no source_code`);
          if (typeof it.quantity !== 'number' || !Number.isFinite(it.quantity)) throw unreadable('a source item list', `the quantity of ${it.sku} at ${it.source_code} is ${JSON.stringify(it.quantity)}, not a number`);
          out.set(key(it.sku, it.source_code), { quantity: Math.floor(it.quantity), inStock: it.status === 1 });
        }
        if (page * this.pageSize >= total || items.length === 0) break;
        guard.more();
      }
    }
    return out;
  }

  /** The sources linked to the channel's stock, highest priority first (the order Magento takes goods from them). */
  async stockSources(signal?: AbortSignal): Promise<string[]> {
    const data = await this.http.call<unknown>('GET', `inventory/get-sources-assigned-to-stock-ordered-by-priority/${this.stockId}`, `read the sources of stock ${this.stockId}`, {}, signal);
    if (!Array.isArray(data) || data.some((s) => typeof s !== 'object' || s === null || typeof (s as Obj).source_code !== 'string')) throw unreadable('the sources of a stock', 'it is not a list of sources with source_code');
    return data.map((s) => (s as Obj).source_code as string);
  }

  /**
   * The salable quantity of a SKU on the channel's stock (its sources' quantities less the
   * reservations of orders not yet shipped or cancelled). Null when Commerce does not answer it:
   * the item is unknown to the stock, or (single-source) the Inventory modules are off, in which
   * case Magento's legacy inventory deducts the quantity itself when an order is placed.
   */
  async salable(sku: string, signal?: AbortSignal): Promise<number | null> {
    try {
      const q = await this.http.call<unknown>('GET', `inventory/get-product-salable-quantity/${encodeURIComponent(sku)}/${this.stockId}`, `read the salable quantity of ${sku}`, {}, signal);
      if (typeof q !== 'number' || !Number.isFinite(q)) throw unreadable('a salable quantity', `the salable quantity of ${sku} is ${JSON.stringify(q)}, not a number`);
      return Math.floor(q);
    } catch (err) {
      if (err instanceof ConnectorError && err.status === 404 && (!err.channelFault || this.mode === 'single-source')) return null;
      throw err;
    }
  }

  /** The legacy stock item of the default stock, or null when Commerce has no such product. */
  async stockItem(sku: string, signal?: AbortSignal): Promise<Obj | null> {
    try {
      const item = await this.http.call<unknown>('GET', `stockItems/${encodeURIComponent(sku)}`, `read the stock of ${sku}`, {}, signal);
      if (typeof item !== 'object' || item === null || Array.isArray(item)) throw unreadable('a stock item', `the answer for ${sku} is not a stock item`);
      const o = item as Obj;
      if (typeof o.qty !== 'number' || !Number.isFinite(o.qty)) throw unreadable('a stock item', `the qty of ${sku} is ${JSON.stringify(o.qty)}, not a number`);
      if (o.item_id === undefined || o.item_id === null) throw unreadable('a stock item', `the stock item of ${sku} has no item_id`);
      return o;
    } catch (err) {
      if (err instanceof ConnectorError && err.status === 404 && !err.channelFault) return null;
      throw err;
    }
  }

  /**
   * What each source of these SKUs can still sell: its quantity less its share of the SKU's
   * reservations, taken from the stock's sources in priority order as Magento's source selection
   * takes goods (reserved = the in-stock sources' quantities − the salable quantity). A source
   * marked out of stock sells nothing. Keyed sku + source.
   */
  async levels(skus: string[], signal?: AbortSignal, priority?: string[]): Promise<Map<string, Shown>> {
    const out = new Map<string, Shown>();
    if (this.mode === 'single-source') {
      for (const sku of new Set(skus)) {
        const item = await this.stockItem(sku, signal);
        if (!item) continue;
        const qty = Math.floor(item.qty as number);
        const inStock = item.is_in_stock !== false;
        const salable = inStock ? await this.salable(sku, signal) : null;
        const share = salable === null ? 0 : Math.min(Math.max(0, qty - salable), Math.max(0, qty));
        out.set(key(sku, DEFAULT_SOURCE), { level: inStock ? qty - share : 0, quantity: qty, share, item });
      }
      return out;
    }
    const items = await this.readSources(skus, signal);
    if (items.size === 0) return out;
    const order = priority ?? (await this.stockSources(signal));
    for (const sku of new Set(skus)) {
      const linked = order.filter((code) => items.get(key(sku, code))?.inStock);
      const shares = new Map<string, number>();
      if (linked.length > 0) {
        const salable = await this.salable(sku, signal);
        let left = salable === null ? 0 : Math.max(0, linked.reduce((sum, code) => sum + items.get(key(sku, code))!.quantity, 0) - salable);
        for (const code of linked) {
          const take = Math.min(left, Math.max(0, items.get(key(sku, code))!.quantity));
          shares.set(code, take);
          left -= take;
        }
      }
      for (const [k, it] of items) {
        if (!k.startsWith(`${sku}\u0000`)) continue;
        const share = shares.get(k.slice(sku.length + 1)) ?? 0;
        out.set(k, { level: it.inStock ? it.quantity - share : 0, quantity: it.quantity, share });
      }
    }
    return out;
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const usable = items.filter((it) => it.ref.variantId && (this.mode === 'multi-source' || it.locationId === DEFAULT_SOURCE));
    const shown = await this.levels(usable.map((it) => it.ref.variantId), signal);
    const out: LevelReading[] = [];
    for (const it of usable) {
      const s = shown.get(key(it.ref.variantId, it.locationId));
      if (s) out.push({ sku: it.sku, ref: it.ref, locationId: it.locationId, available: s.level });
    }
    return out;
  }

  // ---------------------------------------------------------------- push

  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const outcomes: (PushOutcome | undefined)[] = new Array(targets.length);
    const usable: Usable[] = [];
    targets.forEach((target, index) => {
      const fail = (message: string) => (outcomes[index] = { sku: target.sku, locationId: target.locationId, status: 'failed', message });
      if (!target.ref.variantId) fail('This listing has no Adobe Commerce SKU; run catalog discovery again.');
      else if (this.mode === 'single-source' && target.locationId !== DEFAULT_SOURCE) fail(`A single-source Adobe Commerce store keeps one stock level per product; map this channel's location to "${DEFAULT_SOURCE}".`);
      else if (!Number.isInteger(target.level) || target.level < 0) fail(`Adobe Commerce needs a whole, non-negative level (got ${target.level}).`);
      else usable.push({ index, target, sku: target.ref.variantId });
    });
    if (this.mode === 'single-source') {
      for (const u of usable) outcomes[u.index] = await this.pushStockItem(u, signal);
    } else {
      for (const part of chunks(usable, MAX_BATCH)) await this.pushSources(part, outcomes, signal);
    }
    return outcomes.map((o, i) => o ?? { sku: targets[i]!.sku, locationId: targets[i]!.locationId, status: 'failed', message: 'Adobe Commerce gave no answer for this item.' });
  }

  /** What to do with one target given the level the store shows now: an outcome, or null (write it). */
  private decide(u: Usable, now: number | null): PushOutcome | null {
    const { sku, locationId, level, expected } = u.target;
    // Already there: nothing moved, or the level is unknown (never read, or an earlier attempt whose answer never came).
    if (now === level && (expected === null || now === expected)) return { sku, locationId, status: 'applied', level, wrote: false };
    if (now !== null && expected !== null && now !== expected) return { sku, locationId, status: 'stale', observed: now };
    return null;
  }

  /** The outcome of a written target from what the store shows after the write. */
  private after(u: Usable, shown: Shown | undefined): PushOutcome {
    const { sku, locationId, level } = u.target;
    const now = shown?.level ?? null;
    return now === level ? { sku, locationId, status: 'applied', level } : { sku, locationId, status: 'stale', observed: now };
  }

  private async pushSources(part: Usable[], outcomes: (PushOutcome | undefined)[], signal?: AbortSignal): Promise<void> {
    const priority = await this.stockSources(signal);
    const before = await this.levels(part.map((u) => u.sku), signal, priority);
    const write: { u: Usable; quantity: number }[] = [];
    for (const u of part) {
      const shown = before.get(key(u.sku, u.target.locationId));
      if (!shown) {
        outcomes[u.index] = { sku: u.target.sku, locationId: u.target.locationId, status: 'failed', message: `Adobe Commerce has no source item for ${u.sku} at source "${u.target.locationId}": assign the product to that source in the Admin (or check the channel's location map), then run catalog discovery again.` };
        continue;
      }
      const decided = this.decide(u, shown.level);
      // The source keeps its share of the reservations on top of the level it should sell.
      if (decided) outcomes[u.index] = decided;
      else write.push({ u, quantity: u.target.level + shown.share });
    }
    if (write.length === 0) return;
    const save = (list: typeof write) =>
      this.http.call('POST', 'inventory/source-items', `set the stock of ${list.length === 1 ? list[0]!.u.target.sku : `${list.length} items`}`, { body: { sourceItems: list.map((w) => ({ sku: w.u.sku, source_code: w.u.target.locationId, quantity: w.quantity, status: w.quantity > 0 ? 1 : 0 })) } }, signal);
    const written: Usable[] = [];
    try {
      await save(write);
      written.push(...write.map((w) => w.u));
    } catch (err) {
      if (!(err instanceof ConnectorError) || err.channelFault) throw err;
      // Commerce validates the whole request: one refused item refuses all. Each alone, to find it.
      for (const w of write) {
        try {
          if (write.length > 1) await save([w]);
          else throw err;
          written.push(w.u);
        } catch (one) {
          if (!(one instanceof ConnectorError) || one.channelFault) throw one;
          outcomes[w.u.index] = { sku: w.u.target.sku, locationId: w.u.target.locationId, status: 'failed', message: one.message };
        }
      }
    }
    if (written.length === 0) return;
    const after = await this.levels(written.map((u) => u.sku), signal, priority);
    for (const u of written) outcomes[u.index] = this.after(u, after.get(key(u.sku, u.target.locationId)));
  }

  private async pushStockItem(u: Usable, signal?: AbortSignal): Promise<PushOutcome> {
    const { sku, locationId, level } = u.target;
    const shown = (await this.levels([u.sku], signal)).get(key(u.sku, DEFAULT_SOURCE));
    if (!shown?.item) return { sku, locationId, status: 'failed', message: `Adobe Commerce has no product with SKU ${u.sku}; run catalog discovery again.` };
    const decided = this.decide(u, shown.level);
    if (decided) return decided;
    const qty = level + shown.share;
    try {
      const { extension_attributes: _ext, ...fields } = shown.item;
      await this.http.call('PUT', `products/${encodeURIComponent(u.sku)}/stockItems/${encodeURIComponent(String(shown.item.item_id))}`, `set the stock of ${sku}`, { body: { stockItem: { ...fields, qty, is_in_stock: qty > 0 } } }, signal);
    } catch (err) {
      if (!(err instanceof ConnectorError) || err.channelFault) throw err;
      return { sku, locationId, status: 'failed', message: err.message };
    }
    return this.after(u, (await this.levels([u.sku], signal)).get(key(u.sku, DEFAULT_SOURCE)));
  }

  // ---------------------------------------------------------------- hide / relist

  /**
   * Product `status`: 2 (disabled) hides, 1 (enabled) shows again. Sent to the `all` store code so
   * the value is the product's own, not a store view's override.
   */
  async setEnabled(ref: ListingRef, enabled: boolean, signal?: AbortSignal): Promise<void> {
    if (!ref.variantId) throw new ConnectorError('This listing has no Adobe Commerce SKU; run catalog discovery again.', false);
    await this.http.call('PUT', `products/${encodeURIComponent(ref.variantId)}`, `${enabled ? 'enable' : 'disable'} product ${ref.variantId}`, { store: 'all', body: { product: { sku: ref.variantId, status: enabled ? 1 : 2 } } }, signal);
  }

  // ---------------------------------------------------------------- catalog

  /**
   * Every product, page by page (`total_count` says where the list ends; Magento answers the last
   * page again for a page past it, so the loop never asks for one). Configurable, bundle and grouped
   * products keep no stock of their own and are left out; their simple products are listed.
   */
  async listCatalog(signal?: AbortSignal): Promise<PlatformListing[]> {
    const out: PlatformListing[] = [];
    const guard = new PageGuard({ platform: 'Adobe Commerce', what: 'list the catalog', hint: `the store, or a cache or proxy in front of it, ignores searchCriteria[currentPage] on ${this.http.url}/rest/V1/products: exclude /rest from page caching` });
    for (let page = 1; ; page++) {
      const data = await this.http.call<unknown>('GET', 'products', 'list the catalog', { query: searchCriteria({ sort: { field: 'entity_id', direction: 'ASC' }, pageSize: this.pageSize, page }) }, signal);
      const { items, total } = searchResult(data, 'list the catalog');
      guard.page(items.map((p) => String(p.id ?? p.sku)));
      for (const p of items) {
        if (p.type_id === 'configurable' || p.type_id === 'bundle' || p.type_id === 'grouped') continue;
        const sku = typeof p.sku === 'string' && p.sku.trim() !== '' ? p.sku : null;
        const id = typeof p.id === 'number' && Number.isInteger(p.id) ? String(p.id) : null;
        if (!id) throw unreadable('a product list', `product ${JSON.stringify(p.sku)} has no id`);
        out.push({ sku, title: typeof p.name === 'string' ? p.name : '', ref: { productId: id, variantId: sku ?? '' } });
      }
      if (page * this.pageSize >= total || items.length === 0) break;
      guard.more();
    }
    return out;
  }
}
