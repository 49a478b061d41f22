/** Purchase orders from customers, matched against stock (docs/orders.md). */

export interface PurchaseOrderLineRecord {
  line: number;
  sku: string;
  locationId: string;
  ordered: number;
  reserved: number;
  dropped: number;
  fulfilled: number;
}

export type PurchaseOrderStatus = 'approved' | 'partially_approved' | 'waitlisted' | 'rejected' | 'cancelled' | 'fulfilled' | 'partially_fulfilled';

export interface PurchaseOrderRecord {
  id: number;
  number: string;
  customer: string;
  origin: string;
  policy: string;
  status: PurchaseOrderStatus;
  reason: string | null;
  neededBy: string | null;
  note: string | null;
  actor: string | null;
  /** The sheet tab the PO came from, for the status write-back. */
  sheet: string | null;
  eventId: number | null;
  submittedAt: string;
  updatedAt: string;
  lines: PurchaseOrderLineRecord[];
}

export interface PurchaseOrdersOps {
  get(number: string): Promise<PurchaseOrderRecord | null>;
  insert(po: Omit<PurchaseOrderRecord, 'id' | 'updatedAt'>, now: string): Promise<PurchaseOrderRecord>;
  update(id: number, patch: { status?: PurchaseOrderStatus; reason?: string | null }, now: string): Promise<void>;
  updateLine(poId: number, line: number, patch: Partial<Pick<PurchaseOrderLineRecord, 'reserved' | 'dropped' | 'fulfilled'>>): Promise<void>;
  /** POs still waiting for stock, first submitted first. */
  waiting(): Promise<PurchaseOrderRecord[]>;
  list(page: { limit: number; cursor?: number | undefined; status?: string | undefined; customer?: string | undefined }): Promise<PurchaseOrderRecord[]>;
}
