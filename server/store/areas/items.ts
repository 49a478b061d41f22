/** The catalog's items and their settings. */
import type { Page } from './common';

export interface ItemRecord {
  sku: string;
  title: string | null;
  lowStockThreshold: number | null;
  /** Days from ordering to receiving, for reorder suggestions (null: the config's default). */
  leadTimeDays: number | null;
  /** Units to keep in hand beyond expected sales during the lead time (null: the config's default). */
  safetyStock: number | null;
  /** Set while a supplier order for the item is late: what its listings do at zero (docs/orders.md). */
  listingHold: 'hide' | 'keep_listed' | null;
  status: 'active' | 'archived';
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
}

export interface ItemsOps {
  get(sku: string): Promise<ItemRecord | null>;
  /** Creates the item, or updates the given fields; an archived item becomes active again. */
  upsert(item: { sku: string; title?: string | null; lowStockThreshold?: number | null; leadTimeDays?: number | null; safetyStock?: number | null }, now: string): Promise<ItemRecord>;
  archive(sku: string, now: string): Promise<ItemRecord | null>;
  /** Ordered by SKU; `cursor` is the last SKU of the previous page. */
  list(page: Page & { status?: 'active' | 'archived' | undefined }): Promise<ItemRecord[]>;
  /** What the item's listings do at zero while a supplier order for it is late (null: nothing held). */
  setListingHold(sku: string, hold: 'hide' | 'keep_listed' | null): Promise<void>;
  setReorderSettings(sku: string, s: { leadTimeDays?: number | null; safetyStock?: number | null }): Promise<void>;
}
