/** Orders to suppliers, received line by line (docs/orders.md). */

export type SupplierOrderStatus = 'open' | 'partially_received' | 'received' | 'delayed' | 'backordered' | 'cancelled';

export interface SupplierOrderLineRecord {
  line: number;
  sku: string;
  locationId: string;
  ordered: number;
  received: number;
  expectedAt: string | null;
}

export interface SupplierOrderRecord {
  id: number;
  number: string;
  supplier: string;
  status: SupplierOrderStatus;
  expectedAt: string | null;
  onDelay: 'hide' | 'keep_listed';
  reason: string | null;
  note: string | null;
  createdAt: string;
  updatedAt: string;
  lines: SupplierOrderLineRecord[];
}

export interface SupplierOrdersOps {
  get(number: string): Promise<SupplierOrderRecord | null>;
  insert(o: Omit<SupplierOrderRecord, 'id' | 'createdAt' | 'updatedAt'>, now: string): Promise<SupplierOrderRecord>;
  update(id: number, patch: { status?: SupplierOrderStatus; expectedAt?: string | null; reason?: string | null }, now: string): Promise<void>;
  updateLine(orderId: number, line: number, received: number): Promise<void>;
  list(page: { limit: number; cursor?: number | undefined; status?: string | undefined }): Promise<SupplierOrderRecord[]>;
  /** Units still to come per SKU from supplier orders not received or cancelled. */
  incoming(skus?: string[]): Promise<Map<string, number>>;
  /** The supplier orders still open for an item: what decides its listing hold. */
  openFor(sku: string): Promise<SupplierOrderRecord[]>;
}
