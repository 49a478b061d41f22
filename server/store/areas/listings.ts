/** Each channel's SKU -> listing map, found by catalog discovery (docs/connectors.md). */
export interface ChannelListingRecord {
  channelId: string;
  sku: string;
  productId: string;
  variantId: string;
  inventoryItemId: string | null;
  title: string;
  hidden: boolean;
  updatedAt: string;
}

export interface ListingsOps {
  /** Replaces a channel's SKU → listing map with the result of catalog discovery (hidden flags kept). */
  replace(channelId: string, listings: { sku: string; productId: string; variantId: string; inventoryItemId: string | null; title: string }[], now: string): Promise<void>;
  list(channelId: string): Promise<ChannelListingRecord[]>;
  forSku(channelId: string, sku: string): Promise<ChannelListingRecord | null>;
  /** The item's listings on every channel. */
  allForSku(sku: string): Promise<ChannelListingRecord[]>;
  /** Finds the listing by the most specific platform id given: variant, then inventory item, then product (if unique). */
  forRef(channelId: string, ref: { productId?: string | undefined; variantId?: string | undefined; inventoryItemId?: string | undefined }): Promise<ChannelListingRecord | null>;
  setHidden(channelId: string, sku: string, hidden: boolean, now: string): Promise<void>;
}
