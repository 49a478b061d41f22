/**
 * Shopify global ids (`gid://shopify/<Type>/<number>`). Webhooks carry plain numbers (REST shape);
 * the GraphQL Admin API and catalog discovery use gids, so every id leaving this connector is a gid.
 */

export type GidType = 'Product' | 'ProductVariant' | 'InventoryItem' | 'Location' | 'Order' | 'LineItem' | 'Refund' | 'RefundLineItem' | 'InventoryLevel' | 'Return' | 'ExchangeLineItem' | 'Customer';

/** A gid for a numeric id (number or digit string); an existing gid of that type is returned unchanged. */
export function toGid(type: GidType, id: unknown): string | null {
  if (typeof id === 'string') {
    const s = id.trim();
    if (s.startsWith(`gid://shopify/${type}/`)) return s;
    if (/^\d+$/.test(s)) return `gid://shopify/${type}/${s}`;
    return null;
  }
  if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return `gid://shopify/${type}/${id}`;
  // A number above 2^53 has already lost digits in JSON.parse: still deterministic, so still stable.
  if (typeof id === 'number' && Number.isFinite(id) && id >= 0) return `gid://shopify/${type}/${BigInt(Math.round(id)).toString()}`;
  if (typeof id === 'bigint' && id >= 0n) return `gid://shopify/${type}/${id.toString()}`;
  return null;
}

/** The numeric tail of a gid (`gid://shopify/Location/12?x=y` → `12`), or null. */
export function gidNumber(gid: string): string | null {
  const m = /^gid:\/\/shopify\/[A-Za-z]+\/(\d+)(?:\?.*)?$/.exec(gid);
  return m ? m[1]! : null;
}

/**
 * The id of the InventoryLevel of an item at a location, as Shopify spells it
 * (`gid://shopify/InventoryLevel/<location>?inventory_item_id=<item>`, seen in `admin_graphql_api_id`
 * of the `inventory_levels/update` webhook).
 */
export function inventoryLevelGid(inventoryItemId: string, locationId: string): string | null {
  const item = gidNumber(inventoryItemId);
  const loc = gidNumber(locationId);
  if (!item || !loc) return null;
  return `gid://shopify/InventoryLevel/${loc}?inventory_item_id=${item}`;
}
