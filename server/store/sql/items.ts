/** Items (SQL, both dialects). */
import type { Selectable } from 'kysely';
import type { Page } from '../areas/common';
import type { ItemRecord, ItemsOps } from '../areas/items';
import type { Database } from '../schema';
import { rowOf, type Conn } from './conn';

export const toItem = (r: Selectable<Database['items']>): ItemRecord => ({
  sku: r.sku,
  title: r.title,
  lowStockThreshold: r.low_stock_threshold,
  leadTimeDays: r.lead_time_days ?? null,
  safetyStock: r.safety_stock ?? null,
  listingHold: (r.listing_hold ?? null) as ItemRecord['listingHold'],
  status: r.status,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  archivedAt: r.archived_at,
});

export class SqlItems implements ItemsOps {
  constructor(private readonly c: Conn) {}

  async get(sku: string): Promise<ItemRecord | null> {
    return rowOf(this.c.db.selectFrom('items').selectAll().where('sku', '=', sku), toItem);
  }

  async upsert(item: { sku: string; title?: string | null; lowStockThreshold?: number | null; leadTimeDays?: number | null; safetyStock?: number | null }, now: string): Promise<ItemRecord> {
    const update: Partial<Database['items']> = { status: 'active', archived_at: null, updated_at: now };
    if (item.title !== undefined) update.title = item.title;
    if (item.lowStockThreshold !== undefined) update.low_stock_threshold = item.lowStockThreshold;
    if (item.leadTimeDays !== undefined) update.lead_time_days = item.leadTimeDays;
    if (item.safetyStock !== undefined) update.safety_stock = item.safetyStock;
    const r = await this.c.db
      .insertInto('items')
      .values({
        sku: item.sku,
        title: item.title ?? null,
        low_stock_threshold: item.lowStockThreshold ?? null,
        lead_time_days: item.leadTimeDays ?? null,
        safety_stock: item.safetyStock ?? null,
        listing_hold: null,
        status: 'active',
        created_at: now,
        updated_at: now,
        archived_at: null,
      })
      .onConflict((oc) => oc.column('sku').doUpdateSet(update))
      .returningAll()
      .executeTakeFirstOrThrow();
    return toItem(r);
  }

  async archive(sku: string, now: string): Promise<ItemRecord | null> {
    const r = await this.c.db
      .updateTable('items')
      .set({ status: 'archived', archived_at: now, updated_at: now })
      .where('sku', '=', sku)
      .where('status', '=', 'active')
      .returningAll()
      .executeTakeFirst();
    return r ? toItem(r) : this.get(sku);
  }

  async list(page: Page & { status?: 'active' | 'archived' | undefined }): Promise<ItemRecord[]> {
    let q = this.c.db.selectFrom('items').selectAll().orderBy('sku').limit(page.limit);
    if (page.cursor !== undefined) q = q.where('sku', '>', String(page.cursor));
    if (page.status) q = q.where('status', '=', page.status);
    return (await q.execute()).map(toItem);
  }

  async setListingHold(sku: string, hold: 'hide' | 'keep_listed' | null): Promise<void> {
    await this.c.db.updateTable('items').set({ listing_hold: hold }).where('sku', '=', sku).execute();
  }

  async setReorderSettings(sku: string, s: { leadTimeDays?: number | null; safetyStock?: number | null }): Promise<void> {
    const set: { lead_time_days?: number | null; safety_stock?: number | null } = {};
    if (s.leadTimeDays !== undefined) set.lead_time_days = s.leadTimeDays;
    if (s.safetyStock !== undefined) set.safety_stock = s.safetyStock;
    if (Object.keys(set).length > 0) await this.c.db.updateTable('items').set(set).where('sku', '=', sku).execute();
  }
}
