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

/** Source items per request: Commerce documents no limit; the connector's own figure. */
export const MAX_BATCH = 100;
export const DEFAULT_SOURCE = 'default';
const SKUS_PER_READ = 50;

export type InventoryMode = 'multi-source' | 'single-source';

type Usable = { index: number; target: PushTarget; sku: string };

const key = (sku: string, source: string) => `${sku}\u0000${source}`;

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function unreadable(what: string, why: string): ConnectorError {
  return new ConnectorError(`Adobe Commerce answered ${what} the hub cannot trust: ${why}. Nothing was taken from it; stock updates are held until it answers correctly.`, false, null, null, { channelFault: true });
}

export class AdobeClient {
  constructor(
    readonly http: AdobeHttp,
    readonly mode: InventoryMode,
    readonly pageSize: number,
  ) {}

  // ---------------------------------------------------------------- read

  /** Source quantities of these SKUs at every source, keyed sku + source. */
  async readSources(skus: string[], signal?: AbortSignal): Promise<Map<string, number>> {
    const out = new Map<string, number>();
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
          out.set(key(it.sku, it.source_code), Math.floor(it.quantity));
        }
        if (page * this.pageSize >= total || items.length === 0) break;
        guard.more();
      }
    }
    return out;
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

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const out: LevelReading[] = [];
    if (this.mode === 'single-source') {
      for (const it of items) {
        if (it.locationId !== DEFAULT_SOURCE || !it.ref.variantId) continue;
        const item = await this.stockItem(it.ref.variantId, signal);
        if (item) out.push({ sku: it.sku, ref: it.ref, locationId: DEFAULT_SOURCE, available: Math.floor(item.qty as number) });
      }
      return out;
    }
    const usable = items.filter((it) => it.ref.variantId);
    const levels = await this.readSources(usable.map((it) => it.ref.variantId), signal);
    for (const it of usable) {
      const q = levels.get(key(it.ref.variantId, it.locationId));
      if (q !== undefined) out.push({ sku: it.sku, ref: it.ref, locationId: it.locationId, available: q });
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

  private async pushSources(part: Usable[], outcomes: (PushOutcome | undefined)[], signal?: AbortSignal): Promise<void> {
    const before = await this.readSources(part.map((u) => u.sku), signal);
    const write: Usable[] = [];
    for (const u of part) {
      const now = before.get(key(u.sku, u.target.locationId));
      if (now === undefined) {
        outcomes[u.index] = { sku: u.target.sku, locationId: u.target.locationId, status: 'failed', message: `Adobe Commerce has no source item for ${u.sku} at source "${u.target.locationId}": assign the product to that source in the Admin (or check the channel's location map), then run catalog discovery again.` };
        continue;
      }
      const decided = this.decide(u, now);
      if (decided) outcomes[u.index] = decided;
      else write.push(u);
    }
    if (write.length === 0) return;
    const save = (list: Usable[]) =>
      this.http.call('POST', 'inventory/source-items', `set the stock of ${list.length === 1 ? list[0]!.target.sku : `${list.length} items`}`, { body: { sourceItems: list.map((u) => ({ sku: u.sku, source_code: u.target.locationId, quantity: u.target.level, status: u.target.level > 0 ? 1 : 0 })) } }, signal);
    const written: Usable[] = [];
    try {
      await save(write);
      written.push(...write);
    } catch (err) {
      if (!(err instanceof ConnectorError) || err.channelFault) throw err;
      // Commerce validates the whole request: one refused item refuses all. Each alone, to find it.
      for (const u of write) {
        try {
          if (write.length > 1) await save([u]);
          else throw err;
          written.push(u);
        } catch (one) {
          if (!(one instanceof ConnectorError) || one.channelFault) throw one;
          outcomes[u.index] = { sku: u.target.sku, locationId: u.target.locationId, status: 'failed', message: one.message };
        }
      }
    }
    if (written.length === 0) return;
    const after = await this.readSources(written.map((u) => u.sku), signal);
    for (const u of written) {
      const now = after.get(key(u.sku, u.target.locationId)) ?? null;
      const { sku, locationId, level } = u.target;
      outcomes[u.index] = now === level ? { sku, locationId, status: 'applied', level } : { sku, locationId, status: 'stale', observed: now };
    }
  }

  private async pushStockItem(u: Usable, signal?: AbortSignal): Promise<PushOutcome> {
    const { sku, locationId, level } = u.target;
    const item = await this.stockItem(u.sku, signal);
    if (!item) return { sku, locationId, status: 'failed', message: `Adobe Commerce has no product with SKU ${u.sku}; run catalog discovery again.` };
    const decided = this.decide(u, Math.floor(item.qty as number));
    if (decided) return decided;
    try {
      const { extension_attributes: _ext, ...fields } = item;
      await this.http.call('PUT', `products/${encodeURIComponent(u.sku)}/stockItems/${encodeURIComponent(String(item.item_id))}`, `set the stock of ${sku}`, { body: { stockItem: { ...fields, qty: level, is_in_stock: level > 0 } } }, signal);
    } catch (err) {
      if (!(err instanceof ConnectorError) || err.channelFault) throw err;
      return { sku, locationId, status: 'failed', message: err.message };
    }
    const after = await this.stockItem(u.sku, signal);
    const now = after ? Math.floor(after.qty as number) : null;
    return now === level ? { sku, locationId, status: 'applied', level } : { sku, locationId, status: 'stale', observed: now };
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
