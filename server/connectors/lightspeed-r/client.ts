/**
 * The catalog and stock calls of the Lightspeed Retail (R-Series) connector:
 * - levels are the `qoh` (quantity on hand) of an item's `ItemShops`, one per shop (shopID; shopID 0
 *   is the all-shops summary and never a location), read with `Item.json?itemID=IN,[…]` and
 *   `load_relations=["ItemShops"]`, a hundred items a request;
 * - a push is an absolute set: the items are read just before (a level that moved since the hub last
 *   saw it is answered stale, not overwritten; so is a record whose `timeStamp` moved on since the
 *   basis the push was sent with, whatever its figure), each item's changed shops are written in one
 *   `PUT Item/{itemID}.json` with `{"ItemShops":{"ItemShop":[{"itemShopID","shopID","qoh"}]}}`, and
 *   the items are read back after;
 * - hide and relist set the item's `publishToEcom` (README, "What it supports": why not `archived`);
 * - discovery lists the items (archived ones left out, as the API does by default) by `next` page.
 */
import { ConnectorError, type LevelReading, type ListingRef, type PlatformListing, type PushOutcome, type PushTarget } from '../types';
import { chunks } from '../../util';
import { PageGuard } from '../paging';
import { LsHttp, PLATFORM, type Params } from './http';
import { listOf, lsBasis, lsId, lsInt, lsMs, obj, readLsBasis, refOfItem, skuOf, SUMMARY_SHOP, type Row, type SkuField } from './rows';

/** Items named in one `itemID=IN,[…]` read. */
const ITEMS_PER_READ = 100;

/** A list answer: its records under `key` and the address of the next page ('' or absent: none). */
export function pageOf(data: unknown, key: string, what: string): { rows: Row[]; next: string } {
  const d = obj(data);
  const attrs = obj(d?.['@attributes']);
  if (!d || !attrs) throw new ConnectorError(`${PLATFORM} answered a ${key} list the hub cannot read (no "@attributes") while trying to ${what}. Nothing of it was used.`, false, null, null, { channelFault: true });
  const next = typeof attrs.next === 'string' ? attrs.next : '';
  return { rows: listOf(d[key]), next };
}

export class LsClient {
  constructor(
    readonly http: LsHttp,
    readonly skuField: SkuField,
  ) {}

  /**
   * Every record of a list, following `@attributes.next` (V3 pages by cursor). A page repeating an
   * earlier one, a `next` already given, one outside the account, or more pages than the guard
   * allows stop the loop with nothing taken.
   */
  async listAll(resource: string, params: Params, what: string, idField: string, signal?: AbortSignal): Promise<Row[]> {
    const out: Row[] = [];
    const guard = new PageGuard({ platform: PLATFORM, what, hint: `something between the hub and ${this.http.url} ignores the "after" of the next-page address` });
    let target = resource;
    let query: Params | undefined = { ...params, limit: this.http.pageSize };
    for (;;) {
      const page = pageOf(await this.http.call<unknown>('GET', target, what, query ? { params: query } : {}, signal), resource, what);
      guard.page(page.rows.map((r) => String(r[idField])), page.next || null);
      out.push(...page.rows);
      if (!page.next) return out;
      if (!this.http.ownsUrl(page.next)) throw new ConnectorError(`${PLATFORM} gave a next-page address outside this account (${page.next.slice(0, 120)}) while trying to ${what}; nothing was taken from the list.`, false, null, null, { channelFault: true });
      guard.more();
      target = page.next;
      query = undefined;
    }
  }

  /** The items with these ids and their ItemShops, by itemID. */
  async items(ids: string[], signal?: AbortSignal): Promise<Map<string, Row>> {
    const out = new Map<string, Row>();
    for (const part of chunks([...new Set(ids)], ITEMS_PER_READ)) {
      const rows = await this.listAll('Item', { itemID: `IN,[${part.join(',')}]`, load_relations: '["ItemShops"]', archived: 'true' }, 'read stock levels', 'itemID', signal);
      for (const r of rows) {
        const id = lsId(r.itemID);
        if (id) out.set(id, r);
      }
    }
    return out;
  }

  /** The ItemShop of one shop in an item as read. */
  static shopOf(item: Row | undefined, shopID: string): Row | null {
    if (!item) return null;
    return listOf(obj(item.ItemShops)?.ItemShop).find((s) => lsId(s.shopID) === shopID) ?? null;
  }

  private qohOf(shop: Row): number {
    const q = lsInt(shop.qoh);
    if (q === null) throw new ConnectorError(`${PLATFORM} answered ItemShop ${String(shop.itemShopID)} without a whole qoh (${JSON.stringify(shop.qoh)}); nothing was taken from it.`, false, null, null, { channelFault: true });
    return q;
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const got = await this.items(items.flatMap((i) => (lsId(i.ref.productId) ? [lsId(i.ref.productId)!] : [])), signal);
    const out: LevelReading[] = [];
    for (const i of items) {
      const id = lsId(i.ref.productId);
      const shop = id ? LsClient.shopOf(got.get(id), i.locationId) : null;
      if (shop && i.locationId !== SUMMARY_SHOP) out.push({ sku: i.sku, ref: i.ref, locationId: i.locationId, available: this.qohOf(shop) });
    }
    return out;
  }

  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const outcomes: PushOutcome[] = new Array(targets.length);
    const fail = (t: PushTarget, message: string): PushOutcome => ({ sku: t.sku, locationId: t.locationId, status: 'failed', message });
    const before = await this.items(targets.flatMap((t) => (lsId(t.ref.productId) ? [lsId(t.ref.productId)!] : [])), signal);
    // Per item, the shops to write: one PUT carries every shop of one item.
    const writes = new Map<string, { index: number; shop: Row }[]>();
    for (const [index, t] of targets.entries()) {
      const id = lsId(t.ref.productId);
      const shop = id ? LsClient.shopOf(before.get(id), t.locationId) : null;
      if (t.locationId === SUMMARY_SHOP) outcomes[index] = fail(t, `${PLATFORM}'s shop 0 is the all-shops summary, not a shop: map the location to a shopID.`);
      else if (!id || !before.has(id)) outcomes[index] = fail(t, `${PLATFORM} has no item ${t.ref.productId} (deleted since discovery); run catalog discovery again.`);
      else if (!shop) outcomes[index] = fail(t, `${PLATFORM} item ${id} has no stock record for shop ${t.locationId}: check the channel's locations (shopIDs).`);
      else {
        const now = this.qohOf(shop);
        const { sku, locationId, level, expected } = t;
        const own = readLsBasis(t.basis);
        const at = lsMs(shop.timeStamp);
        const basis = at !== null ? { basis: lsBasis(at) } : {};
        if (own !== null && at !== null && at > own) {
          // The record moved since the level the hub knows, whatever the figure shows now (a count and
          // a sale cancel out in it): the item_shops feed reports it; until then nothing is written.
          outcomes[index] = { sku, locationId, status: 'stale', observed: null, untilFeed: 'item_shops' };
        } else if (now === level && (expected === null || now === expected)) outcomes[index] = { sku, locationId, status: 'applied', level, wrote: false, ...basis };
        else if (expected !== null && now !== expected) outcomes[index] = { sku, locationId, status: 'stale', observed: now, ...basis };
        else writes.set(id, [...(writes.get(id) ?? []), { index, shop }]);
      }
    }
    const written: { index: number; id: string }[] = [];
    for (const [id, list] of writes) {
      const body = { ItemShops: { ItemShop: list.map(({ index, shop }) => ({ itemShopID: String(shop.itemShopID), shopID: String(shop.shopID), qoh: String(targets[index]!.level) })) } };
      try {
        await this.http.call('PUT', `Item/${id}`, `set the stock of item ${id} (${list.map((w) => targets[w.index]!.sku).join(', ')})`, { body, item: true }, signal);
        for (const w of list) written.push({ index: w.index, id });
      } catch (err) {
        if (!(err instanceof ConnectorError) || err.channelFault) throw err;
        for (const w of list) outcomes[w.index] = fail(targets[w.index]!, err.message);
      }
    }
    if (written.length === 0) return outcomes;
    const after = await this.items(written.map((w) => w.id), signal);
    for (const w of written) {
      const t = targets[w.index]!;
      const shop = LsClient.shopOf(after.get(w.id), t.locationId);
      const now = shop ? this.qohOf(shop) : null;
      const at = shop ? lsMs(shop.timeStamp) : null;
      const basis = at !== null ? { basis: lsBasis(at) } : {};
      outcomes[w.index] = now === t.level ? { sku: t.sku, locationId: t.locationId, status: 'applied', level: t.level, ...basis } : { sku: t.sku, locationId: t.locationId, status: 'stale', observed: now, ...(now !== null ? basis : {}) };
    }
    return outcomes;
  }

  /** Shows (`publishToEcom` true) or hides (false) the item in the online store. */
  async setPublished(ref: ListingRef, published: boolean, signal?: AbortSignal): Promise<void> {
    const id = lsId(ref.productId);
    if (!id) throw new ConnectorError(`This listing has no ${PLATFORM} itemID; run catalog discovery again.`, false);
    await this.http.call('PUT', `Item/${id}`, `${published ? 'publish' : 'unpublish'} item ${id} online`, { body: { publishToEcom: published ? 'true' : 'false' }, item: true }, signal);
  }

  async listCatalog(signal?: AbortSignal): Promise<PlatformListing[]> {
    const rows = await this.listAll('Item', { sort: 'itemID' }, 'list the catalog', 'itemID', signal);
    const out: PlatformListing[] = [];
    for (const r of rows) {
      const id = lsId(r.itemID);
      if (!id) continue;
      out.push({ sku: skuOf(r, this.skuField), title: typeof r.description === 'string' ? r.description : `Item ${id}`, ref: refOfItem(id) });
    }
    return out;
  }
}
