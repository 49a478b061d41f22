/**
 * The PrestaShop connector's catalog and stock calls: levels are the `quantity` of `stock_availables`
 * rows (one per product without combinations, one per combination, per shop); a push is an absolute
 * set — PUT of the whole stock_available, read just before (a level that moved since the hub last
 * saw it is answered stale, not overwritten) and read back after; hide and relist set the product's
 * `active` with PATCH (only that field is sent, so nothing else of the product is replaced);
 * discovery lists products and combinations with their `reference`.
 */
import { ConnectorError, type ConnectorContext, type LevelReading, type ListingRef, type PlatformListing, type PushOutcome, type PushTarget } from '../types';
import { chunks } from '../../util';
import { PageGuard } from '../paging';
import { PsHttp, type Params } from './http';
import { PS_LOCATION, psBasis, psId, psInt, readPsBasis, type Row } from './rows';
import { xmlResource } from './xml';

/** The open end of an id interval filter. */
const ID_MAX = '999999999999';

/**
 * Pages of stock movements a push reads back from the newest: the hub hears of every movement within
 * a poll of the stock_movements feed, so those that could hide an edit are the newest few; a
 * movement older than the newest MOVEMENT_PAGES × pageSize is taken as reported (README, Limits).
 */
const MOVEMENT_PAGES = 10;

/** Products named in one stock_availables filter (`filter[id_product]=[1|2|…]`). */
const PRODUCTS_PER_READ = 50;

/** The fields of a stock_available a PUT sends back (the whole resource: PUT replaces it). */
const STOCK_FIELDS = ['id_product', 'id_product_attribute', 'id_shop', 'id_shop_group', 'quantity', 'depends_on_stock', 'out_of_stock', 'location'] as const;

/** A listing's ids: `variantId` is the combination (`id_product_attribute`), "0" for a product without one. */
function idsOf(ref: Pick<ListingRef, 'productId' | 'variantId'>): { product: string; attribute: string } | null {
  const product = psId(ref.productId);
  const attribute = ref.variantId === undefined || ref.variantId === '' || ref.variantId === '0' ? '0' : psId(ref.variantId);
  return product && attribute ? { product, attribute } : null;
}
const keyOf = (product: string, attribute: string) => `${product}:${attribute}`;

/** The rows of one list answer: `{"<resource>":[…]}`, or `[]`, which is how the webservice answers an empty list in JSON. */
export function rowsOf(data: unknown, resource: string): Row[] {
  if (Array.isArray(data) && data.length === 0) return [];
  const list = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[resource] : undefined;
  if (!Array.isArray(list) || list.some((r) => typeof r !== 'object' || r === null || Array.isArray(r))) {
    throw new ConnectorError(`PrestaShop answered a ${resource} list the hub cannot read (not {"${resource}": [...]}). Nothing of it was used.`, false, null, null, { channelFault: true });
  }
  return list as Row[];
}

/** A localized field as the webservice gives it: a string, or `[{"id":"1","value":"…"}]` per language. */
function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) for (const l of v) if (typeof l === 'object' && l !== null && typeof (l as { value?: unknown }).value === 'string') return (l as { value: string }).value;
  return '';
}

export class PsClient {
  readonly http: PsHttp;

  constructor(ctx: ConnectorContext) {
    this.http = new PsHttp(ctx);
  }

  /**
   * Every row of a list, page by page (`limit=offset,count`): the webservice says nothing of totals,
   * so a page shorter than asked is the last. A page repeating an earlier one, or more pages than the
   * guard allows, stops the loop with nothing taken (server/connectors/paging.ts).
   */
  async listAll(resource: string, params: Params, what: string, signal?: AbortSignal, listKey = resource): Promise<Row[]> {
    const out: Row[] = [];
    const n = this.http.pageSize;
    const guard = new PageGuard({ platform: 'PrestaShop', what, hint: `the shop, or a cache or proxy in front of it, ignores the "limit" parameter of ${this.http.url}/api/${resource}: exclude /api/ from page caching` });
    for (let offset = 0; ; offset += n) {
      const rows = rowsOf(await this.http.call<unknown>('GET', resource, what, { params: { ...params, limit: `${offset},${n}` } }, signal), listKey);
      guard.page(rows.map((r) => String(r.id)));
      out.push(...rows);
      if (rows.length < n) return out;
      guard.more();
    }
  }

  /** stock_available rows of these products, by `product:attribute`. */
  private async stockRows(products: string[], signal?: AbortSignal): Promise<Map<string, Row>> {
    const out = new Map<string, Row>();
    for (const part of chunks([...new Set(products)], PRODUCTS_PER_READ)) {
      const rows = await this.listAll('stock_availables', { display: 'full', 'filter[id_product]': `[${part.join('|')}]`, sort: '[id_ASC]' }, 'read stock levels', signal);
      for (const r of rows) {
        const product = psId(r.id_product);
        const attribute = psId(r.id_product_attribute);
        if (product && attribute) out.set(keyOf(product, attribute), r);
      }
    }
    return out;
  }

  /** The quantity of a stock_available row; an answer without one is an error, never a level. */
  private quantityOf(row: Row): number {
    const q = psInt(row.quantity);
    if (q === null) throw new ConnectorError(`PrestaShop answered stock_available ${String(row.id)} without a whole quantity (${JSON.stringify(row.quantity)}); nothing was taken from it.`, false, null, null, { channelFault: true });
    return q;
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const ids = items.map((i) => idsOf(i.ref));
    const rows = await this.stockRows(ids.flatMap((x) => (x ? [x.product] : [])), signal);
    const out: LevelReading[] = [];
    items.forEach((item, i) => {
      const x = ids[i];
      const row = x ? rows.get(keyOf(x.product, x.attribute)) : undefined;
      if (row) out.push({ sku: item.sku, ref: item.ref, locationId: item.locationId, available: this.quantityOf(row) });
    });
    return out;
  }

  /**
   * The stock movements after the lowest basis of these targets, newest first, at most
   * MOVEMENT_PAGES pages (or, when no target has a basis, the newest movement only), read before the
   * levels: a movement made between the two reads is then in the level but after the basis handed
   * back, which can only hold a later push back, never let one write over a change. `through`: the
   * newest movement id the shop had when read.
   */
  private async movementsSince(bases: (number | null)[], signal?: AbortSignal): Promise<{ rows: { id: number; key: string }[]; through: number }> {
    const known = bases.filter((b): b is number => b !== null);
    const from = known.length === 0 ? null : Math.min(...known);
    const n = from === null ? 1 : this.http.pageSize;
    const rows: { id: number; key: string }[] = [];
    for (let page = 0; page < (from === null ? 1 : MOVEMENT_PAGES); page++) {
      const params: Params = { display: 'full', sort: '[id_DESC]', limit: `${page * n},${n}` };
      if (from !== null) params['filter[id]'] = `[${from + 1},${ID_MAX}]`;
      const got = rowsOf(await this.http.call<unknown>('GET', 'stock_movements', 'read the stock movements since the levels the hub knows', { params }, signal), 'stock_movements');
      let fresh = 0;
      got.forEach((r, i) => {
        const id = Number(psId(r.id) ?? NaN);
        if (!Number.isSafeInteger(id)) throw new ConnectorError(`PrestaShop answered stock movement ${i + 1} without an id; nothing was written.`, false, null, null, { channelFault: true });
        if (from !== null && id <= from) throw new ConnectorError(`PrestaShop answered stock movement ${id} to a request for those after ${from}: the shop ignores the id filter. Nothing was written.`, false, null, null, { channelFault: true });
        // Newest first: a movement made while the pages are read moves the rest one place on, so a
        // row already read may come again; it is skipped, and a page with nothing new ends the read.
        if (rows.length > 0 && id >= rows[rows.length - 1]!.id) return;
        rows.push({ id, key: keyOf(psId(r.id_product) ?? '', psId(r.id_product_attribute) ?? '0') });
        fresh++;
      });
      if (got.length < n || fresh === 0) break;
    }
    return { rows, through: Math.max(from ?? 0, rows[0]?.id ?? 0) };
  }

  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const outcomes: PushOutcome[] = new Array(targets.length);
    const fail = (t: PushTarget, message: string): PushOutcome => ({ sku: t.sku, locationId: t.locationId, status: 'failed', message });
    const ids = targets.map((t) => idsOf(t.ref));
    const bases = targets.map((t) => readPsBasis(t.basis));
    const moves = await this.movementsSince(bases, signal);
    const before = await this.stockRows(ids.flatMap((x) => (x ? [x.product] : [])), signal);
    const written: { index: number; key: string; basis: string }[] = [];
    for (const [index, t] of targets.entries()) {
      const x = ids[index];
      const row = x ? before.get(keyOf(x.product, x.attribute)) : undefined;
      const own = bases[index] ?? null;
      const basis = psBasis(Math.max(own ?? 0, moves.through));
      if (t.locationId !== PS_LOCATION) outcomes[index] = fail(t, `PrestaShop keeps one stock per shop: its location is "${PS_LOCATION}", not "${t.locationId}".`);
      else if (!x || !row) outcomes[index] = fail(t, 'PrestaShop has no stock for this listing (the product or combination is gone); run catalog discovery again.');
      else if (psInt(row.depends_on_stock) === 1) outcomes[index] = fail(t, 'This PrestaShop product takes its quantity from advanced stock management (depends_on_stock), which the webservice cannot set; turn that off for it or manage it in PrestaShop.');
      else if (own !== null && moves.rows.some((m) => m.id > own && m.key === keyOf(x.product, x.attribute))) {
        // Moved since the level the hub knows, whatever the figure shows now: the feed reports each
        // movement; until it has, nothing is written and no folded figure is handed over.
        outcomes[index] = { sku: t.sku, locationId: t.locationId, status: 'stale', observed: null, untilFeed: 'stock_movements' };
      } else {
        const now = this.quantityOf(row);
        const { sku, locationId, level, expected } = t;
        // Already there, and not moved there by the shop on its own since we last saw it: nothing to write.
        if (now === level && (expected === null || now === expected)) outcomes[index] = { sku, locationId, status: 'applied', level, wrote: false, basis };
        else if (expected !== null && now !== expected) outcomes[index] = { sku, locationId, status: 'stale', observed: now, basis };
        else if (await this.writeQuantity(row, level, t, signal)) written.push({ index, key: keyOf(x.product, x.attribute), basis });
        else outcomes[index] = fail(t, 'PrestaShop no longer has this stock row; run catalog discovery again.');
      }
    }
    if (written.length === 0) return outcomes;
    const after = await this.stockRows(written.map((w) => w.key.split(':')[0]!), signal);
    for (const w of written) {
      const t = targets[w.index]!;
      const row = after.get(w.key);
      const now = row ? this.quantityOf(row) : null;
      outcomes[w.index] = now === t.level ? { sku: t.sku, locationId: t.locationId, status: 'applied', level: t.level, basis: w.basis } : { sku: t.sku, locationId: t.locationId, status: 'stale', observed: now, ...(now !== null ? { basis: w.basis } : {}) };
    }
    return outcomes;
  }

  /** PUT of the whole stock_available as just read, with the new quantity; false when PrestaShop says the row is gone. */
  private async writeQuantity(row: Row, level: number, t: PushTarget, signal?: AbortSignal): Promise<boolean> {
    const fields: Record<string, string | number> = { id: String(row.id) };
    for (const f of STOCK_FIELDS) if (row[f] !== undefined && row[f] !== null) fields[f] = String(row[f]);
    fields.quantity = level;
    try {
      await this.http.call('PUT', `stock_availables/${String(row.id)}`, `set the stock of ${t.sku}`, { xml: xmlResource('stock_available', fields) }, signal);
      return true;
    } catch (err) {
      if (err instanceof ConnectorError && !err.channelFault && err.status === 404) return false;
      throw err;
    }
  }

  /**
   * Hides (`active` 0) or shows (`active` 1) the whole product: PATCH sends that one field (PrestaShop
   * 8.0 and later). A combination cannot be hidden alone, so a combination at zero hides its product
   * only when none of the product's other combinations has stock left; otherwise nothing is sent.
   */
  async setActive(ref: ListingRef, active: boolean, signal?: AbortSignal): Promise<void> {
    const x = idsOf(ref);
    if (!x) throw new ConnectorError('This listing has no PrestaShop product id; run catalog discovery again.', false);
    if (!active && x.attribute !== '0') {
      const rows = await this.stockRows([x.product], signal);
      const othersInStock = [...rows.values()].some((r) => psId(r.id_product_attribute) !== '0' && psId(r.id_product_attribute) !== x.attribute && this.quantityOf(r) > 0);
      if (othersInStock) return;
    }
    try {
      await this.http.call('PATCH', `products/${x.product}`, `${active ? 'show' : 'hide'} product ${x.product}`, { xml: xmlResource('product', { id: x.product, active: active ? 1 : 0 }) }, signal);
    } catch (err) {
      if (err instanceof ConnectorError && err.status === 405) {
        throw new ConnectorError(`${err.message} Hiding at zero needs PrestaShop 8.0 or later (PATCH of products); on an older shop turn hideAtZero off for this channel.`, false, null, 405, { channelFault: true });
      }
      throw err;
    }
  }

  async listCatalog(signal?: AbortSignal): Promise<PlatformListing[]> {
    const products = await this.listAll('products', { display: '[id,reference,name]', sort: '[id_ASC]' }, 'list the catalog', signal);
    const combinations = await this.listAll('combinations', { display: '[id,id_product,reference]', sort: '[id_ASC]' }, 'list the combinations', signal);
    const sku = (s: unknown) => (typeof s === 'string' && s.trim() !== '' ? s : null);
    const byProduct = new Map<string, Row[]>();
    for (const c of combinations) {
      const p = psId(c.id_product);
      if (p) byProduct.set(p, [...(byProduct.get(p) ?? []), c]);
    }
    const out: PlatformListing[] = [];
    for (const p of products) {
      const id = psId(p.id);
      if (!id) continue;
      const name = textOf(p.name);
      const combos = byProduct.get(id);
      if (!combos) out.push({ sku: sku(p.reference), title: name, ref: { productId: id, variantId: '0' } });
      else for (const c of combos) out.push({ sku: sku(c.reference), title: `${name} — combination ${String(c.id)}`, ref: { productId: id, variantId: String(c.id) } });
    }
    return out;
  }
}
