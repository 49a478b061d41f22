/**
 * The emulated realm's state and what happens in it, as on B2C Commerce with Omnichannel Inventory:
 * - a sale is a placed order (status `new`) whose units OCI reserves at a location (available to
 *   fulfil drops; on hand does not until the order ships);
 * - a cancellation sets the order `cancelled` and releases its reservation;
 * - a refund (a return handled in the merchant's OMS or warehouse) changes nothing the Orders API
 *   shows; a refund that puts the goods back raises OCI's on-hand at the order's location;
 * - someone's stock edit (an ERP import, Business Manager) sets on-hand;
 * and every change of an OCI record is kept in order for the deltas feed.
 */
import { applyPpm, DEFAULT_PRICE, percentPpm, type EmulatorProduct } from '../../emulator';
import { atf, DEFAULT_LOCATIONS, type Delta, type OciRecord, type Order, type Product, type SfccEmulatorOptions } from './model';

export class SfccRealm {
  readonly products = new Map<string, Product>();
  readonly records = new Map<string, OciRecord>();
  readonly orders = new Map<string, Order>();
  readonly deltas: Delta[] = [];
  /** actionRequestIds of OCI updates already applied (OCI's idempotency). */
  readonly appliedRequests = new Set<string>();
  readonly locationIds: string[];
  readonly currency: string;
  private readonly taxPpm: number;
  private orderSeq = 0;
  private refundSeq = 0;
  private deltaSeq = 0;
  private lastStamp = 0;

  constructor(readonly opts: SfccEmulatorOptions) {
    this.locationIds = opts.locations && opts.locations.length > 0 ? [...opts.locations] : [...DEFAULT_LOCATIONS];
    this.currency = opts.currency ?? 'AUD';
    this.taxPpm = opts.taxRate ? percentPpm(opts.taxRate) : 0;
  }

  /** A wall-clock time that never repeats or goes back (a record's lastModified moves on with every change). */
  stamp(): number {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return this.lastStamp;
  }

  static key(location: string, sku: string): string {
    return `${location}\u0000${sku}`;
  }

  record(sku: string, location: string): OciRecord | undefined {
    return this.records.get(SfccRealm.key(location, sku));
  }

  /** Stores a record's new state and logs the change for the deltas feed. */
  put(r: OciRecord): void {
    this.records.set(SfccRealm.key(r.location, r.sku), r);
    this.deltas.push({ seq: ++this.deltaSeq, record: { ...r } });
  }

  get lastDelta(): number {
    return this.deltaSeq;
  }

  seed(products: EmulatorProduct[]): void {
    const now = new Date(this.stamp()).toISOString();
    for (const p of products) {
      const existing = this.products.get(p.sku);
      this.products.set(p.sku, {
        id: p.sku,
        name: p.title,
        price: p.price ?? existing?.price ?? DEFAULT_PRICE,
        onlineFlag: existing?.onlineFlag ?? { [this.opts.siteId]: true },
        searchable: existing?.searchable ?? { [this.opts.siteId]: true },
        creationDate: existing?.creationDate ?? now,
        lastModified: now,
      });
      for (const [location, level] of Object.entries(p.levels)) {
        this.records.set(SfccRealm.key(location, p.sku), { sku: p.sku, location, onHand: level, reserved: 0, safetyStockCount: 0, effectiveDate: now });
      }
    }
  }

  level(sku: string, location: string): number | null {
    const r = this.record(sku, location);
    return r ? atf(r) : null;
  }

  /** A placed order; OCI reserves its units at `locationId`, else where they are available. Synchronous. */
  sell(sale: { sku: string; quantity: number; locationId?: string; discount?: number; taxRate?: string }): Order {
    const product = this.products.get(sale.sku);
    if (!product) throw new Error(`The emulated realm has no product ${sale.sku}.`);
    const location =
      sale.locationId ?? this.locationIds.find((l) => (this.level(sale.sku, l) ?? 0) >= sale.quantity) ?? this.locationIds.find((l) => this.record(sale.sku, l)) ?? this.locationIds[0]!;
    const r = this.record(sale.sku, location) ?? { sku: sale.sku, location, onHand: 0, reserved: 0, safetyStockCount: 0, effectiveDate: new Date(this.stamp()).toISOString() };
    this.put({ ...r, reserved: r.reserved + sale.quantity });
    const n = ++this.orderSeq;
    const gross = product.price * sale.quantity;
    const discount = Math.min(sale.discount ?? 0, gross);
    const ppm = sale.taxRate ? percentPpm(sale.taxRate) : this.taxPpm;
    const at = this.stamp();
    const order: Order = {
      orderNo: String(n).padStart(8, '0'),
      status: 'new',
      creationDate: at,
      lastModified: at,
      currency: this.currency,
      lines: [{ itemId: `pli${n}a`, productId: sale.sku, productName: product.name, quantity: sale.quantity, basePrice: product.price, discount, tax: applyPpm(gross - discount, ppm), taxRate: ppm / 1_000_000, location, inventoryId: sale.locationId ?? this.opts.inventoryListId ?? 'sandbox-site-group' }],
      email: `buyer${n}@example.com`,
      customerName: `Buyer ${n}`,
    };
    this.orders.set(order.orderNo, order);
    return order;
  }

  /** A return handled outside the Orders API: nothing on the order changes; a restock raises on-hand. */
  refund(refund: { orderId: string; restock: boolean; quantity?: number }): string {
    const order = this.orders.get(refund.orderId);
    if (!order) throw new Error(`The emulated realm has no order ${refund.orderId}.`);
    const line = order.lines[0]!;
    if (refund.restock) {
      const r = this.record(line.productId, line.location)!;
      this.put({ ...r, onHand: r.onHand + (refund.quantity ?? line.quantity), effectiveDate: new Date(this.stamp()).toISOString() });
    }
    return `ret${++this.refundSeq}`;
  }

  /** The order is cancelled (Business Manager, or the Orders API) and OCI releases its reservation. */
  cancel(orderNo: string): void {
    const order = this.orders.get(orderNo);
    if (!order || order.status === 'cancelled') return;
    order.status = 'cancelled';
    order.lastModified = this.stamp();
    for (const line of order.lines) {
      const r = this.record(line.productId, line.location);
      if (r) this.put({ ...r, reserved: Math.max(0, r.reserved - line.quantity) });
    }
  }

  /** Someone's stock edit outside stockrelay: on-hand set so that `available` is available to fulfil. */
  setLevel(change: { sku: string; locationId?: string; available: number }): void {
    const location = change.locationId ?? this.locationIds[0]!;
    const r = this.record(change.sku, location) ?? { sku: change.sku, location, onHand: 0, reserved: 0, safetyStockCount: 0, effectiveDate: '' };
    this.put({ ...r, onHand: change.available + r.reserved + r.safetyStockCount, effectiveDate: new Date(this.stamp()).toISOString() });
  }
}
