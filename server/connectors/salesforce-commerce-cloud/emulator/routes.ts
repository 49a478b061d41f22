/**
 * The emulated realm's API, one function per operation, over `SfccRealm`:
 * - Omnichannel Inventory (`/inventory/availability/v1/organizations/{tenantGroupId}/availability-records/actions/…`):
 *   `get-availability`, `batch-update` (absolute on-hand per SKU and location, partial success,
 *   `actionRequestId` idempotent, an `effectiveDate` older than the record's refused), `get-deltas`;
 * - the admin Orders API (`/checkout/orders/v1/organizations/{organizationId}/orders[/{orderNo}]`);
 * - the admin Products API (`/product/products/v1/organizations/{organizationId}/product-search`,
 *   `products/{productId}` GET and PATCH).
 * Request shapes of OCI are this emulator's reading of the documentation (README.md, "Not confirmed").
 */
import { atf, decimal, ProblemError, type Json, type OciRecord, type Order } from './model';
import { SfccRealm } from './realm';

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (detail: string) => new ProblemError(400, 'Bad Request', 'bad-request', detail);
const strings = (v: unknown, what: string, max: number): string[] => {
  if (!Array.isArray(v) || v.length === 0 || v.length > max || !v.every((s) => typeof s === 'string' && s !== '')) throw bad(`${what} must be a list of 1 to ${max} identifiers.`);
  return v as string[];
};

export function ociRecordJson(r: OciRecord): Json {
  return { sku: r.sku, location: r.location, onHand: r.onHand, reserved: r.reserved, safetyStockCount: r.safetyStockCount, atf: atf(r), ato: atf(r), effectiveDate: r.effectiveDate, futures: [] };
}

export function getAvailability(realm: SfccRealm, body: Json): Json {
  const skus = strings(body.skus, 'skus', 100);
  const locations = strings(body.locations, 'locations', 100);
  return {
    locations: locations.map((id) => ({ id, records: skus.flatMap((sku) => (realm.record(sku, id) ? [ociRecordJson(realm.record(sku, id)!)] : [])) })),
  };
}

/** The records of a batch update that were applied, and the others with why; `written` lists the SKUs changed. */
export function batchUpdate(realm: SfccRealm, body: Json, opts: { limit: number; refuseSku: string | null }): { answer: Json; written: string[] } {
  const records = body.records;
  if (!Array.isArray(records) || records.length === 0) throw bad('records must be a non-empty list.');
  if (records.length > opts.limit) throw bad(`A batch update takes at most ${opts.limit} records; ${records.length} were sent.`);
  const checked = records.map((r: unknown, i) => {
    if (!isObj(r)) throw bad(`records[${i}] is not an object.`);
    const { actionRequestId: id, stockKeepingUnit: sku, locationIdentifier: location, onHand, effectiveDate } = r;
    if (typeof id !== 'string' || id === '') throw bad(`records[${i}].actionRequestId is required.`);
    if (typeof sku !== 'string' || sku === '' || typeof location !== 'string' || location === '') throw bad(`records[${i}] needs stockKeepingUnit and locationIdentifier.`);
    if (typeof onHand !== 'number' || !Number.isFinite(onHand) || onHand < 0) throw bad(`records[${i}].onHand must be a number of 0 or more.`);
    if (effectiveDate !== undefined && (typeof effectiveDate !== 'string' || Number.isNaN(Date.parse(effectiveDate)))) throw bad(`records[${i}].effectiveDate must be a date-time.`);
    return { id, sku, location, onHand, effectiveDate: (effectiveDate as string | undefined) ?? new Date(realm.stamp()).toISOString() };
  });
  const done: Json[] = [];
  const errors: Json[] = [];
  const written: string[] = [];
  for (const c of checked) {
    const ref = { actionRequestId: c.id, stockKeepingUnit: c.sku, locationIdentifier: c.location };
    if (realm.appliedRequests.has(c.id)) {
      done.push(ref);
      continue;
    }
    if (!realm.locationIds.includes(c.location)) {
      errors.push({ ...ref, errorCode: 'LOCATION_NOT_FOUND', message: `No location ${c.location} in this tenant group.` });
      continue;
    }
    if (opts.refuseSku === c.sku) {
      errors.push({ ...ref, errorCode: 'INVALID_SKU', message: `The SKU ${c.sku} cannot be updated.` });
      continue;
    }
    const r = realm.record(c.sku, c.location) ?? { sku: c.sku, location: c.location, onHand: 0, reserved: 0, safetyStockCount: 0, effectiveDate: '' };
    if (r.effectiveDate !== '' && Date.parse(c.effectiveDate) < Date.parse(r.effectiveDate)) {
      errors.push({ ...ref, errorCode: 'STALE_EFFECTIVE_DATE', message: `The record was set at ${r.effectiveDate}, after this update's effectiveDate ${c.effectiveDate}.` });
      continue;
    }
    realm.put({ ...r, onHand: c.onHand, effectiveDate: c.effectiveDate });
    realm.appliedRequests.add(c.id);
    done.push(ref);
    written.push(c.sku);
  }
  return { answer: { records: done, errors }, written };
}

/** The changes after a delta token, oldest first; no token: where the stream stands now. */
export function getDeltas(realm: SfccRealm, body: Json): Json {
  const limit = body.limit === undefined ? 1000 : body.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000) throw bad('limit must be a whole number from 1 to 1000.');
  if (body.deltaToken === undefined) return { records: [], nextDeltaToken: `dt-${realm.lastDelta}`, shouldQueryAgain: false };
  const m = typeof body.deltaToken === 'string' ? /^dt-(\d{1,15})$/.exec(body.deltaToken) : null;
  if (!m || Number(m[1]) > realm.lastDelta) throw new ProblemError(400, 'Invalid Delta Token', 'invalid-delta-token', 'The delta token is not one this tenant group issued.');
  const after = realm.deltas.filter((d) => d.seq > Number(m[1]));
  const page = after.slice(0, limit);
  const last = page.length > 0 ? page[page.length - 1]!.seq : Number(m[1]);
  return { records: page.map((d) => ociRecordJson(d.record)), nextDeltaToken: `dt-${last}`, shouldQueryAgain: after.length > page.length };
}

export function orderJson(realm: SfccRealm, o: Order): Json {
  const items = o.lines.map((l) => {
    const net = l.basePrice * l.quantity;
    return {
      itemId: l.itemId,
      productId: l.productId,
      productName: l.productName,
      inventoryId: l.inventoryId,
      quantity: l.quantity,
      basePrice: decimal(l.basePrice),
      netPrice: decimal(net),
      grossPrice: decimal(net + Math.round(net * l.taxRate)),
      priceAfterItemDiscount: decimal(net - l.discount),
      priceAfterOrderDiscount: decimal(net - l.discount),
      tax: decimal(l.tax),
      taxRate: l.taxRate,
      shipmentId: 'me',
    };
  });
  const sub = o.lines.reduce((s, l) => s + l.basePrice * l.quantity - l.discount, 0);
  const tax = o.lines.reduce((s, l) => s + l.tax, 0);
  return {
    orderNo: o.orderNo,
    status: o.status,
    siteId: realm.opts.siteId,
    currency: o.currency,
    creationDate: new Date(o.creationDate).toISOString(),
    placeDate: new Date(o.creationDate).toISOString(),
    lastModified: new Date(o.lastModified).toISOString(),
    channelType: 'storefront',
    confirmationStatus: 'confirmed',
    exportStatus: o.status === 'cancelled' ? 'not_exported' : 'ready',
    paymentStatus: o.status === 'cancelled' ? 'not_paid' : 'paid',
    shippingStatus: 'not_shipped',
    taxation: 'net',
    customerInfo: { email: o.email, customerName: o.customerName, guest: true },
    productItems: items,
    productSubTotal: decimal(sub),
    productTotal: decimal(sub),
    shippingTotal: 0,
    taxTotal: decimal(tax),
    orderTotal: decimal(sub + tax),
  };
}

const whole = (v: string | null, def: number, min: number, max: number, what: string): number => {
  if (v === null) return def;
  if (!/^\d{1,6}$/.test(v) || Number(v) < min || Number(v) > max) throw bad(`${what} must be a whole number from ${min} to ${max}.`);
  return Number(v);
};

export function listOrders(realm: SfccRealm, q: URLSearchParams, ignorePaging: boolean): Json {
  const limit = whole(q.get('limit'), 100, 1, 200, 'limit');
  const offset = ignorePaging ? 0 : whole(q.get('offset'), 0, 0, 10_000, 'offset');
  if (offset + limit > 10_000) throw bad('The sum of offset and limit cannot be greater than 10000.');
  const from = q.get('lastModifiedDateFrom');
  const fromMs = from === null ? null : Date.parse(from);
  if (fromMs !== null && Number.isNaN(fromMs)) throw bad('lastModifiedDateFrom is not a date-time.');
  const site = q.get('siteId');
  if (site !== null && site !== realm.opts.siteId) throw new ProblemError(404, 'Site Not Found', 'site-not-found', `No site with ID '${site}' could be found.`);
  const byModified = q.get('sortBy') === 'last_modified_date';
  const asc = q.get('sortOrder') === 'asc';
  const all = [...realm.orders.values()]
    .filter((o) => fromMs === null || o.lastModified >= fromMs)
    .sort((a, b) => (byModified ? a.lastModified - b.lastModified : a.creationDate - b.creationDate) * (asc ? 1 : -1));
  return { data: all.slice(offset, offset + limit).map((o) => orderJson(realm, o)) };
}

export function productJson(realm: SfccRealm, id: string): Json {
  const p = realm.products.get(id)!;
  const site = realm.opts.siteId;
  return {
    id: p.id,
    name: { default: p.name },
    type: { item: true, master: false },
    onlineFlag: { ...p.onlineFlag },
    online: p.onlineFlag[site] === true,
    searchable: { ...p.searchable },
    creationDate: p.creationDate,
    lastModified: p.lastModified,
  };
}

export function searchProducts(realm: SfccRealm, body: Json, ignorePaging: boolean): Json {
  const limit = body.limit === undefined ? 25 : body.limit;
  const offset = ignorePaging || body.offset === undefined ? 0 : body.offset;
  if (typeof limit !== 'number' || typeof offset !== 'number') throw bad('limit and offset must be numbers.');
  const ids = [...realm.products.keys()].sort();
  return { limit, offset, total: ids.length, query: body.query as Json, hits: ids.slice(offset, offset + limit).map((id) => productJson(realm, id)) };
}

export function patchProduct(realm: SfccRealm, id: string, body: Json): Json {
  const p = realm.products.get(id);
  if (!p) throw new ProblemError(404, 'Product Not Found', 'product-not-found', `No product with ID '${id}' could be found.`);
  if (body.id !== undefined && body.id !== id) throw bad(`The body names product '${String(body.id)}', the path '${id}'.`);
  for (const field of ['onlineFlag', 'searchable'] as const) {
    const v = body[field];
    if (v === undefined) continue;
    if (!isObj(v) || !Object.values(v).every((b) => typeof b === 'boolean')) throw bad(`${field} must map site ids to true or false.`);
    p[field] = { ...p[field], ...(v as Record<string, boolean>) };
  }
  p.lastModified = new Date(realm.stamp()).toISOString();
  return productJson(realm, id);
}

export function getProduct(realm: SfccRealm, id: string): Json {
  if (!realm.products.has(id)) throw new ProblemError(404, 'Product Not Found', 'product-not-found', `No product with ID '${id}' could be found.`);
  return productJson(realm, id);
}

export { SfccRealm };
