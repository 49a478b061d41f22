/**
 * Stock on BigCommerce through the v3 Inventory API: levels read with `GET /v3/inventory/items`
 * (filtered by product and location, paged), written with `POST /v3/inventory/adjustments/relative`
 * (a level the hub knows: read first, and sent only when the store still shows that level) or
 * `PUT /v3/inventory/adjustments/absolute` (a level never read: written, then read back). Neither
 * adjustment has a compare-and-set or idempotency field, hence the read before each relative write
 * and the read-back after each absolute one. Items are named the way BigCommerce tracks them: by
 * `product_id` for a product tracked by product, by `variant_id` for one tracked by variant (the
 * listing's `inventoryItemId`, `product_id:<id>` or `variant_id:<id>`, from catalog discovery).
 */
import { ConnectorError, type LevelReading, type ListingRef, type PushOutcome, type PushTarget } from '../types';
import { chunks } from '../../util';
import { PageGuard } from '../paging';
import { int, isObj, type BigCommerceHttp } from './http';
import type { ItemLevel } from './events';

export type { ItemLevel };

/** BigCommerce takes at most 2,000 items per adjustment request (inventory.v3.yml, "Limits"). */
export const MAX_ADJUSTMENT_ITEMS = 2000;
/**
 * The most targets of one push: its read goes in one request (`product_id:in` of up to this many
 * ids stays well within a URL's length), so a push is at most two requests.
 */
export const MAX_BATCH = 100;

/** How an adjustment names an item: `{product_id}` or `{variant_id}`. */
export type Identity = { product_id: number } | { variant_id: number };

/** The item a listing's stock is adjusted by; null when its ids are not BigCommerce's. */
export function identityOf(ref: Partial<ListingRef>): Identity | null {
  const m = /^(product_id|variant_id):(\d{1,15})$/.exec(ref.inventoryItemId ?? '');
  if (m) return m[1] === 'product_id' ? { product_id: Number(m[2]) } : { variant_id: Number(m[2]) };
  const v = /^\d{1,15}$/.test(ref.variantId ?? '') ? Number(ref.variantId) : null;
  return v !== null ? { variant_id: v } : null;
}

export function identityKey(i: Identity): string {
  return 'product_id' in i ? `product_id:${i.product_id}` : `variant_id:${i.variant_id}`;
}

/** The levels of every variant of these products (at these locations, when given), all pages. */
export async function readItems(http: BigCommerceHttp, productIds: number[], locationIds: number[] | null, pageSize: number, signal?: AbortSignal): Promise<ItemLevel[]> {
  const out: ItemLevel[] = [];
  const guard = new PageGuard({ platform: 'BigCommerce', what: 'read inventory levels', hint: 'something in front of the store answers the same page whatever page is asked' });
  for (let page = 1; ; page++) {
    const query: Record<string, string | number> = { 'product_id:in': [...new Set(productIds)].join(','), page, limit: pageSize };
    if (locationIds && locationIds.length > 0) query['location_id:in'] = locationIds.join(',');
    const answer = await http.call('GET', '/v3/inventory/items', 'read inventory levels', { query }, signal);
    const { items, totalPages } = parseItems(answer);
    guard.page(items.map((i) => `${i.variantId}@${i.locationId}`));
    const asked = new Set(productIds);
    const stranger = items.find((i) => !asked.has(i.productId));
    if (stranger) throw new ConnectorError(`BigCommerce answered inventory of product ${stranger.productId}, which was not asked for: the store ignored the product filter, so nothing was taken from that answer.`, true, null, null, { channelFault: true });
    out.push(...items);
    if (page >= totalPages) return out;
    guard.more();
  }
}

/** Reads one answer of `GET /v3/inventory/items`; anything unreadable is an error, never a level of 0. */
function parseItems(answer: unknown): { items: ItemLevel[]; totalPages: number } {
  const bad = (why: string) => new ConnectorError(`BigCommerce answered an inventory list the hub cannot read (${why}); no level was taken from it.`, true, null, null, { channelFault: true });
  if (!isObj(answer) || !Array.isArray(answer.data)) throw bad('no data list');
  const pagination = isObj(answer.meta) && isObj(answer.meta.pagination) ? answer.meta.pagination : null;
  const totalPages = int(pagination?.total_pages) ?? 1;
  const items: ItemLevel[] = [];
  for (const entry of answer.data) {
    const identity = isObj(entry) && isObj(entry.identity) ? entry.identity : null;
    const productId = int(identity?.product_id);
    const variantId = int(identity?.variant_id);
    if (!identity || productId === null || variantId === null || !isObj(entry) || !Array.isArray(entry.locations)) throw bad('an item without its product, variant or locations');
    for (const l of entry.locations) {
      const locationId = isObj(l) ? int(l.location_id) : null;
      const onHand = isObj(l) ? int(l.total_inventory_onhand) : null;
      if (locationId === null || onHand === null) throw bad(`variant ${variantId} has a location without its id or total_inventory_onhand`);
      items.push({ productId, variantId, sku: typeof identity.sku === 'string' && identity.sku !== '' ? identity.sku : null, locationId, onHand });
    }
  }
  return { items, totalPages };
}

function numericLocation(locationId: string): number {
  if (!/^\d{1,9}$/.test(locationId)) throw new ConnectorError(`"${locationId}" is not a BigCommerce location id (a number, e.g. 1 for the default location): fix the channel's locations map.`, false);
  return Number(locationId);
}

function numericProduct(ref: Partial<ListingRef>): number {
  if (!/^\d{1,15}$/.test(ref.productId ?? '')) throw new ConnectorError(`"${ref.productId ?? ''}" is not a BigCommerce product id: run catalog discovery again.`, false);
  return Number(ref.productId);
}

/** The level of each listing at each location, keyed `variantId@locationId`. */
async function levelsOf(http: BigCommerceHttp, items: { ref: Partial<ListingRef>; locationId: string }[], pageSize: number, signal?: AbortSignal): Promise<Map<string, number>> {
  const found = await readItems(
    http,
    items.map((i) => numericProduct(i.ref)),
    [...new Set(items.map((i) => numericLocation(i.locationId)))],
    pageSize,
    signal,
  );
  return new Map(found.map((f) => [`${f.variantId}@${f.locationId}`, f.onHand]));
}

const keyOf = (ref: Partial<ListingRef>, locationId: string) => `${ref.variantId ?? ''}@${locationId}`;

export async function readLevels(http: BigCommerceHttp, items: { sku: string; ref: ListingRef; locationId: string }[], pageSize: number, signal?: AbortSignal): Promise<LevelReading[]> {
  const out: LevelReading[] = [];
  for (const part of chunks(items, MAX_BATCH)) {
    const levels = await levelsOf(http, part, pageSize, signal);
    for (const i of part) {
      const available = levels.get(keyOf(i.ref, i.locationId));
      if (available !== undefined) out.push({ sku: i.sku, ref: i.ref, locationId: i.locationId, available });
    }
  }
  return out;
}

/** The ids a 422 names (`[Item with variant_id 106 is …]`, `Items with identity: [product_id 113] …`). */
function refusedIdentities(message: string): Set<string> {
  const out = new Set<string>();
  for (const m of message.matchAll(/\b(product_id|variant_id)[ :]+(\d{1,15})\b/g)) out.add(`${m[1]}:${m[2]}`);
  return out;
}

type Line = { target: PushTarget; identity: Identity; quantity: number };

/**
 * One adjustment request for these lines. A 422 that names items refuses those (failed) and the
 * others are sent again without them; a 422 naming none fails them all; any other failure is
 * thrown (a fault of the channel, or a retryable one).
 */
async function adjust(http: BigCommerceHttp, kind: 'absolute' | 'relative', lines: Line[], signal?: AbortSignal): Promise<Map<PushTarget, string>> {
  const failed = new Map<PushTarget, string>();
  let pending = lines;
  // Each round either lands or takes at least one item out (every item, when the 422 names none): it ends.
  while (pending.length > 0) {
    const body = {
      reason: `stockrelay: level from the hub (${pending.length === 1 ? pending[0]!.target.idempotencyKey.slice(0, 200) : `${pending.length} items`})`,
      items: pending.map((l) => ({ location_id: numericLocation(l.target.locationId), ...l.identity, quantity: l.quantity })),
    };
    try {
      await http.call(kind === 'absolute' ? 'PUT' : 'POST', `/v3/inventory/adjustments/${kind}`, `set stock levels (${kind} adjustment)`, { body }, signal);
      return failed;
    } catch (err) {
      if (!(err instanceof ConnectorError) || err.channelFault || err.retryable) throw err;
      const named = refusedIdentities(err.message);
      const refused = pending.filter((l) => named.has(identityKey(l.identity)));
      const rest = refused.length > 0 ? pending.filter((l) => !refused.includes(l)) : [];
      for (const l of refused.length > 0 ? refused : pending) failed.set(l.target, err.message);
      pending = rest;
    }
  }
  return failed;
}

function lineOf(t: PushTarget, quantity: number): Line | PushOutcome {
  const identity = identityOf(t.ref);
  if (!identity) return { sku: t.sku, locationId: t.locationId, status: 'failed', message: `The listing of ${t.sku} has no BigCommerce product or variant id: run catalog discovery again.` };
  return { target: t, identity, quantity };
}

/**
 * Relative adjustments for targets whose last level is known: the store is read first; a listing
 * already at the level is applied without a write (a retry of a write whose answer was lost), one
 * showing another level than expected is stale (nothing written), the rest get `level − expected`.
 */
export async function pushRelative(http: BigCommerceHttp, targets: PushTarget[], pageSize: number, signal?: AbortSignal): Promise<Map<PushTarget, PushOutcome>> {
  const out = new Map<PushTarget, PushOutcome>();
  const shown = await levelsOf(http, targets, pageSize, signal);
  const lines: Line[] = [];
  for (const t of targets) {
    const now = shown.get(keyOf(t.ref, t.locationId));
    if (now === undefined) out.set(t, { sku: t.sku, locationId: t.locationId, status: 'failed', message: `BigCommerce shows no stock of ${t.sku} at location ${t.locationId}: the product may be gone or not stocked there; run catalog discovery again.` });
    // Already there counts only when it is also what the hub expected (or a retry after a lost
    // answer, which expects nothing): a store that sold down to our number did so by itself.
    else if (now === t.level && (t.expected === null || t.expected === now)) out.set(t, { sku: t.sku, locationId: t.locationId, status: 'applied', level: t.level, wrote: false });
    else if (now !== t.expected) out.set(t, { sku: t.sku, locationId: t.locationId, status: 'stale', observed: now });
    else {
      const l = lineOf(t, t.level - now);
      if ('target' in l) lines.push(l);
      else out.set(t, l);
    }
  }
  const firstCount: PushTarget[] = [];
  for (const part of chunks(lines, MAX_ADJUSTMENT_ITEMS)) {
    const failed = await adjust(http, 'relative', part, signal);
    for (const l of part) {
      const why = failed.get(l.target);
      if (why && NEEDS_ABSOLUTE.test(why)) firstCount.push(l.target);
      else out.set(l.target, why ? { sku: l.target.sku, locationId: l.target.locationId, status: 'failed', message: why } : { sku: l.target.sku, locationId: l.target.locationId, status: 'applied', level: l.target.level });
    }
  }
  // An item BigCommerce never had an absolute count of takes no relative change: it is set, and read back.
  if (firstCount.length > 0) for (const [t, o] of await pushAbsolute(http, firstCount, pageSize, signal)) out.set(t, o);
  return out;
}

/** BigCommerce's 422 for a relative adjustment of an item whose stock was never set absolutely (inventory.v3.yml). */
const NEEDS_ABSOLUTE = /requires absolute adjustment before relative/i;

/** Absolute adjustments for targets whose level was never read, then a read-back: a level that moved since is stale. */
export async function pushAbsolute(http: BigCommerceHttp, targets: PushTarget[], pageSize: number, signal?: AbortSignal): Promise<Map<PushTarget, PushOutcome>> {
  const out = new Map<PushTarget, PushOutcome>();
  const lines: Line[] = [];
  for (const t of targets) {
    const l = lineOf(t, t.level);
    if ('target' in l) lines.push(l);
    else out.set(t, l);
  }
  const written: PushTarget[] = [];
  for (const part of chunks(lines, MAX_ADJUSTMENT_ITEMS)) {
    const failed = await adjust(http, 'absolute', part, signal);
    for (const l of part) {
      const why = failed.get(l.target);
      if (why) out.set(l.target, { sku: l.target.sku, locationId: l.target.locationId, status: 'failed', message: why });
      else written.push(l.target);
    }
  }
  if (written.length === 0) return out;
  const shown = await levelsOf(http, written, pageSize, signal);
  for (const t of written) {
    const now = shown.get(keyOf(t.ref, t.locationId));
    out.set(t, now === t.level ? { sku: t.sku, locationId: t.locationId, status: 'applied', level: t.level } : { sku: t.sku, locationId: t.locationId, status: 'stale', observed: now ?? null });
  }
  return out;
}
