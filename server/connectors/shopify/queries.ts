/**
 * The Admin GraphQL documents the Shopify client sends (client.ts): reading levels, the catalog, a
 * Return, a product's status, and setting or adjusting the available quantity.
 */

const QUANTITY_FIELDS = 'changes(quantityNames: ["available"]) { name delta quantityAfterChange item { id } location { id } }';

/** The available quantity of InventoryLevels, by id. */
export const READ_QUERY = `query StockrelayReadLevels($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on InventoryLevel { id item { id } location { id } quantities(names: ["available"]) { name quantity } }
  }
}`;

/** One page of the shop's variants with their product and inventory item. */
export const CATALOG_QUERY = `query StockrelayCatalog($first: Int!, $after: String) {
  productVariants(first: $first, after: $after) {
    nodes { id sku title product { id title } inventoryItem { id } }
    pageInfo { hasNextPage endCursor }
  }
}`;

/** Page size for a Return's exchange line items; a Return with more is read only up to this many. */
export const RETURN_EXCHANGE_PAGE = 250;

/** A Return with its exchange line items (what goes out in an exchange). */
export const RETURN_QUERY = `query StockrelayReturn($id: ID!) {
  return(id: $id) {
    id
    status
    order { id }
    exchangeLineItems(first: ${RETURN_EXCHANGE_PAGE}) {
      nodes { id quantity processedQuantity variantId lineItems { id sku } }
    }
  }
}`;

/** Draft or activate a product (a listing hidden or shown). */
export const PRODUCT_STATUS_MUTATION = `mutation StockrelayProductStatus($product: ProductUpdateInput!) {
  productUpdate(product: $product) {
    product { id status }
    userErrors { field message }
  }
}`;

/** A mutation of the available quantity (`Set` or `Adjust`), applied once per `key` (the @idempotent directive). */
function quantityMutation(verb: 'Set' | 'Adjust', key: string): string {
  return `mutation Stockrelay${verb}Available($input: Inventory${verb}QuantitiesInput!) {
  inventory${verb}Quantities(input: $input) @idempotent(key: ${JSON.stringify(key)}) {
    inventoryAdjustmentGroup { id ${QUANTITY_FIELDS} }
    userErrors { code field message }
  }
}`;
}

/** Set the available quantity, compare-and-set, once per `key`. */
export const setMutation = (key: string): string => quantityMutation('Set', key);

/** Adjust the available quantity by a delta, once per `key`. */
export const adjustMutation = (key: string): string => quantityMutation('Adjust', key);
