/** Channel listings (SQL, both dialects). */
import type { Selectable } from 'kysely';
import type { ChannelListingRecord, ListingsOps } from '../areas/listings';
import type { Database } from '../schema';
import { rowOf, type Conn } from './conn';

const toListing = (r: Selectable<Database['channel_listings']>): ChannelListingRecord => ({
  channelId: r.channel_id,
  sku: r.sku,
  productId: r.product_id,
  variantId: r.variant_id,
  inventoryItemId: r.inventory_item_id,
  title: r.title,
  hidden: Number(r.hidden) === 1,
  updatedAt: r.updated_at,
});

export class SqlListings implements ListingsOps {
  constructor(private readonly c: Conn) {}

  replace(
    channelId: string,
    listings: { sku: string; productId: string; variantId: string; inventoryItemId: string | null; title: string }[],
    now: string,
  ): Promise<void> {
    return this.c.inTx(async (tx) => {
      const keep = listings.map((l) => l.sku);
      let del = tx.db.deleteFrom('channel_listings').where('channel_id', '=', channelId);
      if (keep.length > 0) del = del.where('sku', 'not in', keep);
      await del.execute();
      for (const l of listings) {
        await tx.db
          .insertInto('channel_listings')
          .values({ channel_id: channelId, sku: l.sku, product_id: l.productId, variant_id: l.variantId, inventory_item_id: l.inventoryItemId, title: l.title, hidden: 0, updated_at: now })
          .onConflict((oc) =>
            oc.columns(['channel_id', 'sku']).doUpdateSet({ product_id: l.productId, variant_id: l.variantId, inventory_item_id: l.inventoryItemId, title: l.title, updated_at: now }),
          )
          .execute();
      }
    });
  }

  async list(channelId: string): Promise<ChannelListingRecord[]> {
    return (await this.c.db.selectFrom('channel_listings').selectAll().where('channel_id', '=', channelId).orderBy('sku').execute()).map(toListing);
  }

  async forSku(channelId: string, sku: string): Promise<ChannelListingRecord | null> {
    return rowOf(this.c.db.selectFrom('channel_listings').selectAll().where('channel_id', '=', channelId).where('sku', '=', sku), toListing);
  }

  async allForSku(sku: string): Promise<ChannelListingRecord[]> {
    return (await this.c.db.selectFrom('channel_listings').selectAll().where('sku', '=', sku).orderBy('channel_id').execute()).map(toListing);
  }

  async forRef(channelId: string, ref: { productId?: string | undefined; variantId?: string | undefined; inventoryItemId?: string | undefined }): Promise<ChannelListingRecord | null> {
    const by = async (column: 'variant_id' | 'inventory_item_id' | 'product_id', value: string) => {
      const rows = await this.c.db.selectFrom('channel_listings').selectAll().where('channel_id', '=', channelId).where(column, '=', value).limit(2).execute();
      return rows.length === 1 ? toListing(rows[0]!) : null;
    };
    if (ref.variantId) return by('variant_id', ref.variantId);
    if (ref.inventoryItemId) return by('inventory_item_id', ref.inventoryItemId);
    if (ref.productId) return by('product_id', ref.productId);
    return null;
  }

  async setHidden(channelId: string, sku: string, hidden: boolean, now: string): Promise<void> {
    await this.c.db.updateTable('channel_listings').set({ hidden: hidden ? 1 : 0, updated_at: now }).where('channel_id', '=', channelId).where('sku', '=', sku).execute();
  }
}
