/**
 * The admin Products API (`/product/products/v1/organizations/{organizationId}/…`):
 * - catalog discovery: `POST product-search` with a `matchAllQuery`, sorted by id, `limit` and
 *   `offset` pages up to `total`; every sellable product (a plain item or a variant; masters, sets,
 *   variation groups and bundles hold no stock of their own) becomes a listing whose SKU is its id
 *   (the Orders API and OCI name products by that id);
 * - hide and relist: `PATCH products/{productId}` with the site's `onlineFlag` false or true. An
 *   offline product is neither shown nor sold on that site; the other sites of the realm keep theirs.
 */
import { ConnectorError, type ListingRef, type PlatformListing } from '../types';
import { PageGuard } from '../paging';
import { PLATFORM, type SfccClient } from './client';
import { skuOf } from './inventory';

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const NOT_STOCKED = ['master', 'set', 'variationGroup', 'retailSet', 'bundle'];

function unreadable(what: string): ConnectorError {
  return new ConnectorError(`${PLATFORM} answered a product search the hub cannot read: ${what}. Nothing was taken from this list.`, false, null, null, { channelFault: true });
}

function titleOf(p: Json, id: string): string {
  if (typeof p.name === 'string') return p.name;
  if (isObj(p.name)) {
    const v = p.name.default ?? Object.values(p.name).find((x) => typeof x === 'string');
    if (typeof v === 'string') return v;
  }
  return id;
}

export async function listCatalog(client: SfccClient, signal?: AbortSignal): Promise<PlatformListing[]> {
  const guard = new PageGuard({
    platform: PLATFORM,
    what: 'list the catalog',
    hint: `the Products API at ${client.url('products', 'product-search')} answered the same page again: a proxy or cache in front of it ignores the request body's "offset"`,
  });
  const out: PlatformListing[] = [];
  for (let offset = 0; ; ) {
    const body = { query: { matchAllQuery: {} }, sorts: [{ field: 'id', sortOrder: 'asc' }], limit: client.pageSize, offset };
    const answer = await client.call('POST', `${client.url('products', 'product-search')}?siteId=${encodeURIComponent(client.siteId)}`, 'list the catalog', body, signal);
    const { hits, total } = answer;
    if (!Array.isArray(hits)) throw unreadable('it has no hits list');
    if (typeof total !== 'number' || !Number.isInteger(total) || total < 0) throw unreadable('it has no whole total');
    const ids = hits.map((h, i) => {
      if (!isObj(h) || typeof h.id !== 'string' || h.id === '') throw unreadable(`hit ${offset + i + 1} has no product id`);
      return h.id;
    });
    guard.page(ids);
    hits.forEach((h: Json, i) => {
      const type = isObj(h.type) ? h.type : {};
      if (NOT_STOCKED.some((t) => type[t] === true)) return;
      out.push({ sku: ids[i]!, title: titleOf(h, ids[i]!), ref: { productId: ids[i]!, variantId: ids[i]! } });
    });
    offset += hits.length;
    if (hits.length === 0 || offset >= total) break;
    guard.more();
  }
  return out;
}

/** Takes the product offline on the channel's site, or puts it back online. */
export async function setOnline(client: SfccClient, ref: ListingRef, online: boolean, signal?: AbortSignal): Promise<void> {
  const id = skuOf(ref);
  if (!id) throw new ConnectorError('This listing has no B2C Commerce product id; run catalog discovery again.', false, null, null, { channelFault: false });
  const answer = await client.call('PATCH', client.url('products', `products/${encodeURIComponent(id)}`), `${online ? 'put product' : 'take product'} ${id} ${online ? 'back online' : 'offline'}`, { id, onlineFlag: { [client.siteId]: online } }, signal);
  const flag = isObj(answer.onlineFlag) ? answer.onlineFlag[client.siteId] : undefined;
  if (flag !== online) throw new ConnectorError(`${PLATFORM} answered the change of product ${id} without the site ${client.siteId} ${online ? 'online' : 'offline'}; check the product in Business Manager.`, false, null, null, { channelFault: false });
}
