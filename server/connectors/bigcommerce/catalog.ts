/**
 * The BigCommerce catalog: discovery over `GET /v3/catalog/products?include=variants` (paged), and
 * hiding a listing at zero and showing it again: a product tracked by product (or a base variant)
 * with `is_visible` false ↔ true on `PUT /v3/catalog/products/{id}`, a variant of a product with
 * options with `purchasing_disabled` true ↔ false on `PUT /v3/catalog/products/{id}/variants/{id}`
 * (hiding the whole product would hide its other variants, which may still be in stock).
 */
import { ConnectorError, type ListingRef, type PlatformListing } from '../types';
import { PageGuard } from '../paging';
import { int, isObj, type BigCommerceHttp, type Json } from './http';
import { identityOf } from './levels';

/** The message shown on the storefront for a variant hidden at zero. */
const SOLD_OUT_MESSAGE = 'Sold out';

/** One product's listings: its variants when it is tracked by variant, else the product itself. */
export function listingsOf(p: Json): PlatformListing[] {
  const productId = int(p.id);
  const variants = Array.isArray(p.variants) ? p.variants.filter(isObj) : [];
  if (productId === null) throw new ConnectorError('BigCommerce listed a product without an id; nothing was taken from the catalog.', true, null, null, { channelFault: true });
  const name = typeof p.name === 'string' ? p.name : `Product ${productId}`;
  const skuOf = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
  if (p.inventory_tracking === 'variant') {
    return variants
      .filter((v) => Array.isArray(v.option_values) && v.option_values.length > 0)
      .flatMap((v) => {
        const variantId = int(v.id);
        if (variantId === null) return [];
        const options = (v.option_values as unknown[]).filter(isObj).map((o) => String(o.label ?? '')).filter((s) => s !== '');
        return [{ sku: skuOf(v.sku), title: options.length > 0 ? `${name} — ${options.join(' / ')}` : name, ref: { productId: String(productId), variantId: String(variantId), inventoryItemId: `variant_id:${variantId}` } }];
      });
  }
  const base = int(p.base_variant_id) ?? int(variants.find((v) => !Array.isArray(v.option_values) || v.option_values.length === 0)?.id) ?? int(variants[0]?.id);
  if (base === null) return [];
  return [{ sku: skuOf(p.sku), title: name, ref: { productId: String(productId), variantId: String(base), inventoryItemId: `product_id:${productId}` } }];
}

export async function listCatalog(http: BigCommerceHttp, pageSize: number, signal?: AbortSignal): Promise<PlatformListing[]> {
  const out: PlatformListing[] = [];
  const guard = new PageGuard({ platform: 'BigCommerce', what: 'list the catalog', hint: 'something in front of the store answers the same page whatever page is asked' });
  for (let page = 1; ; page++) {
    const answer = await http.call('GET', '/v3/catalog/products', 'list the catalog', { query: { include: 'variants', page, limit: pageSize } }, signal);
    if (!isObj(answer) || !Array.isArray(answer.data)) throw new ConnectorError('BigCommerce answered a product list the hub cannot read (no data list); nothing was taken from the catalog.', true, null, null, { channelFault: true });
    const products = answer.data.filter(isObj);
    guard.page(products.map((p) => String(p.id)));
    for (const p of products) out.push(...listingsOf(p));
    const pagination = isObj(answer.meta) && isObj(answer.meta.pagination) ? answer.meta.pagination : null;
    if (page >= (int(pagination?.total_pages) ?? 1)) return out;
    guard.more();
  }
}

/** Hides (`visible` false) or shows a listing. */
export async function setVisible(http: BigCommerceHttp, ref: ListingRef, visible: boolean, signal?: AbortSignal): Promise<void> {
  const identity = identityOf(ref);
  if (!identity || !/^\d{1,15}$/.test(ref.productId)) throw new ConnectorError('This listing has no BigCommerce product id: run catalog discovery again.', false);
  const what = visible ? 'show the listing again' : 'hide the listing';
  if ('variant_id' in identity) {
    const body = visible ? { purchasing_disabled: false } : { purchasing_disabled: true, purchasing_disabled_message: SOLD_OUT_MESSAGE };
    await http.call('PUT', `/v3/catalog/products/${ref.productId}/variants/${identity.variant_id}`, what, { body }, signal);
    return;
  }
  await http.call('PUT', `/v3/catalog/products/${ref.productId}`, what, { body: { is_visible: visible } }, signal);
}
