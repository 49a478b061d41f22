/**
 * The Revel connector's catalog and stock calls. A level is the `quantity_in_hand` of the product's
 * CurrentStock record at an establishment (one record per product and establishment; an
 * establishment is one of our locations). A push is an absolute set: the record is read just before
 * (a level that moved since the hub last saw it is answered stale, not overwritten), written with
 * PATCH of `quantity_in_hand` alone, and read back after. Hide and relist set the product's
 * `display_online` (Revel's online ordering), never `active`, which would take it off the counter's
 * screens too. Discovery lists the active products with their `sku`.
 */
import { ConnectorError, type ConnectorContext, type LevelReading, type ListingRef, type PlatformListing, type PushOutcome, type PushTarget } from '../types';
import { RevelHttp } from './http';
import { idOf, PRODUCT_PATH, STOCK_PATH, type Row } from './wire';

/** A listing's Revel product id: a Revel product is the sellable thing (a variant is a product of its own). */
export function productIdOf(ref: Pick<ListingRef, 'productId' | 'variantId'>): string | null {
  return idOf(ref.variantId) ?? idOf(ref.productId);
}

export class RevelClient {
  readonly http: RevelHttp;

  constructor(ctx: ConnectorContext) {
    this.http = new RevelHttp(ctx);
  }

  /** The whole number a stock record shows; an answer without one is an error, never a level. */
  quantityOf(row: Row): number {
    const q = row.quantity_in_hand;
    const n = typeof q === 'number' ? q : typeof q === 'string' && q.trim() !== '' ? Number(q) : NaN;
    if (!Number.isFinite(n)) throw new ConnectorError(`Revel answered stock record ${String(row.id)} without a quantity_in_hand (${JSON.stringify(q)}); nothing was taken from it.`, false, null, null, { channelFault: true });
    return Math.floor(n);
  }

  /** The stock record of one product at one establishment, or null when Revel keeps none. */
  async stockRow(productId: string, establishment: string, what: string, signal?: AbortSignal): Promise<Row | null> {
    const { objects } = await this.http.page(STOCK_PATH, { product: productId, establishment }, 0, 2, what, signal);
    const mine = objects.filter((r) => idOf(r.product) === productId && idOf(r.establishment) === establishment);
    if (mine.length > 1) throw new ConnectorError(`Revel answered two stock records for product ${productId} at establishment ${establishment}; nothing was written. Check the product's inventory in Revel.`, false, null, null, { channelFault: false });
    return mine[0] ?? null;
  }

  /** Every stock record of one product, at every establishment (for an `inout.stock` event). */
  async stockOfProduct(productId: string, signal?: AbortSignal): Promise<Row[]> {
    return (await this.http.list(STOCK_PATH, { product: productId }, `read the stock of product ${productId}`, signal)).filter((r) => idOf(r.product) === productId);
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const out: LevelReading[] = [];
    for (const item of items) {
      const pid = productIdOf(item.ref);
      const est = idOf(item.locationId);
      if (!pid || !est) continue;
      const row = await this.stockRow(pid, est, `read the stock of ${item.sku}`, signal);
      if (row) out.push({ sku: item.sku, ref: item.ref, locationId: item.locationId, available: this.quantityOf(row) });
    }
    return out;
  }

  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const out: PushOutcome[] = [];
    for (const t of targets) out.push(await this.pushOne(t, signal));
    return out;
  }

  private async pushOne(t: PushTarget, signal?: AbortSignal): Promise<PushOutcome> {
    const { sku, locationId, level, expected } = t;
    const fail = (message: string): PushOutcome => ({ sku, locationId, status: 'failed', message });
    const pid = productIdOf(t.ref);
    const est = idOf(locationId);
    if (!pid) return fail('This listing has no Revel product id; run catalog discovery again.');
    if (!est) return fail(`"${locationId}" is not a Revel establishment id: map the channel's locations to establishment ids (the number in /enterprise/Establishment/<id>/).`);
    if (!Number.isInteger(level) || level < 0) return fail(`The level ${level} cannot be written to Revel: it takes a whole number of units, 0 or more.`);
    const row = await this.stockRow(pid, est, `read the stock of ${sku} before writing it`, signal);
    if (!row) return fail(`Revel keeps no stock for this product at establishment ${est}: turn on inventory tracking for it there, or unmap that location.`);
    const now = this.quantityOf(row);
    // Already there, and not moved there by the counter on its own since we last saw it: nothing to write.
    if (now === level && (expected === null || now === expected)) return { sku, locationId, status: 'applied', level, wrote: false };
    if (expected !== null && now !== expected) return { sku, locationId, status: 'stale', observed: now };
    const id = idOf(row.id);
    if (!id) return fail('Revel answered a stock record without an id; nothing was written.');
    try {
      await this.http.call('PATCH', `${STOCK_PATH}${id}/`, `set the stock of ${sku}`, { json: { quantity_in_hand: level } }, signal);
    } catch (err) {
      if (err instanceof ConnectorError && !err.channelFault) return fail(err.message);
      throw err;
    }
    // Read back: a sale at the counter between the write and now shows here, and is answered stale.
    const after = await this.stockRow(pid, est, `read back the stock of ${sku}`, signal);
    const back = after ? this.quantityOf(after) : null;
    return back === level ? { sku, locationId, status: 'applied', level } : { sku, locationId, status: 'stale', observed: back };
  }

  /** Hides (`display_online` false) or shows (true) the product on Revel's online ordering. */
  async setOnline(ref: ListingRef, online: boolean, signal?: AbortSignal): Promise<void> {
    const pid = productIdOf(ref);
    if (!pid) throw new ConnectorError('This listing has no Revel product id; run catalog discovery again.', false);
    await this.http.call('PATCH', `${PRODUCT_PATH}${pid}/`, `${online ? 'show' : 'hide'} product ${pid} online`, { json: { display_online: online } }, signal);
  }

  async listCatalog(signal?: AbortSignal): Promise<PlatformListing[]> {
    const rows = await this.http.list(PRODUCT_PATH, { active: 'true', fields: 'id,name,sku' }, 'list the catalog', signal);
    const out: PlatformListing[] = [];
    for (const p of rows) {
      const id = idOf(p.id);
      if (!id) continue;
      const sku = typeof p.sku === 'string' && p.sku.trim() !== '' ? p.sku : null;
      out.push({ sku, title: typeof p.name === 'string' ? p.name : `Product ${id}`, ref: { productId: id, variantId: id } });
    }
    return out;
  }
}
