/**
 * Reading and writing OpenCart quantities through the stockrelay extension: compare-and-set when
 * the hub knows the level it last saw (one SQL statement on the store: written only if the
 * quantity is still that), an absolute set with a read-back otherwise; hide and relist through the
 * product's status; the catalog in pages; the extension's events feed.
 */
import { chunks } from '../../util';
import { PageGuard } from '../paging';
import type { LevelReading, ListingRef, PlatformListing, PollResult, PushOutcome, PushTarget } from '../types';
import { OcClient, unreadable } from './client';
import { OC_LOCATION, OC_MAX_BATCH, OC_TOPICS, OPTION_PREFIX, ocSku, type OcChange } from './protocol';
import { ocId } from './translate';

type Obj = Record<string, unknown>;

/** Where a listing's quantity lives: the product, or one of its option values. */
export interface OcIds {
  product_id: number;
  product_option_value_id: number;
}

export function idsOf(ref: Pick<ListingRef, 'productId' | 'variantId'>): OcIds | null {
  const productId = ocId(ref.productId);
  if (!productId) return null;
  const v = ref.variantId === undefined || ref.variantId === '' || ref.variantId === productId ? null : ref.variantId;
  if (v === null) return { product_id: Number(productId), product_option_value_id: 0 };
  const pov = v.startsWith(OPTION_PREFIX) ? ocId(v.slice(OPTION_PREFIX.length)) : null;
  return pov ? { product_id: Number(productId), product_option_value_id: Number(pov) } : null;
}

const keyOf = (ids: OcIds) => `${ids.product_id}:${ids.product_option_value_id}`;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

export class OcStock {
  constructor(private readonly client: OcClient) {}

  /** Quantities by `product:option value`; what the store does not have is absent. */
  async levels(ids: OcIds[], signal?: AbortSignal): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const part of chunks(ids, OC_MAX_BATCH)) {
      const answer = await this.client.call('levels', 'read stock levels', { body: { items: part } }, signal);
      if (!Array.isArray(answer.levels)) throw unreadable('a read of levels', 'it has no "levels" list');
      const asked = new Set(part.map(keyOf));
      for (const l of answer.levels as Obj[]) {
        const ids = { product_id: l?.product_id, product_option_value_id: l?.product_option_value_id };
        if (!isInt(ids.product_id) || !isInt(ids.product_option_value_id) || !isInt(l.quantity)) throw unreadable('a read of levels', 'a level without whole product_id, product_option_value_id and quantity');
        const k = keyOf(ids as OcIds);
        if (!asked.has(k)) throw unreadable('a read of levels', `it answers for ${k}, which was not asked for`);
        out.set(k, l.quantity);
      }
    }
    return out;
  }

  async read(items: { sku: string; ref: ListingRef; locationId: string }[], signal?: AbortSignal): Promise<LevelReading[]> {
    const usable = items.flatMap((it) => {
      const ids = it.locationId === OC_LOCATION ? idsOf(it.ref) : null;
      return ids ? [{ it, ids }] : [];
    });
    if (usable.length === 0) return [];
    const levels = await this.levels(usable.map((u) => u.ids), signal);
    return usable.flatMap(({ it, ids }) => {
      const q = levels.get(keyOf(ids));
      return q === undefined ? [] : [{ sku: it.sku, ref: it.ref, locationId: OC_LOCATION, available: q }];
    });
  }

  /** Compare-and-set when `expected` is known; else an absolute set, read back after. */
  async push(targets: PushTarget[], signal?: AbortSignal): Promise<PushOutcome[]> {
    const outcomes: (PushOutcome | undefined)[] = new Array(targets.length);
    const usable: { index: number; target: PushTarget; ids: OcIds }[] = [];
    targets.forEach((target, index) => {
      const ids = idsOf(target.ref);
      const fail = (message: string) => (outcomes[index] = { sku: target.sku, locationId: target.locationId, status: 'failed', message });
      if (target.locationId !== OC_LOCATION) fail(`OpenCart keeps one quantity per product; map this channel's location to "${OC_LOCATION}".`);
      else if (!ids) fail('This listing has no OpenCart product id; run catalog discovery again.');
      else if (!Number.isInteger(target.level) || target.level < 0) fail(`OpenCart needs a whole, non-negative level (got ${target.level}).`);
      else usable.push({ index, target, ids });
    });
    for (const part of chunks(usable, OC_MAX_BATCH)) await this.pushPart(part, outcomes, signal);
    return outcomes.map((o, i) => o ?? { sku: targets[i]!.sku, locationId: targets[i]!.locationId, status: 'failed', message: 'The OpenCart store gave no answer for this item.' });
  }

  private async pushPart(part: { index: number; target: PushTarget; ids: OcIds }[], outcomes: (PushOutcome | undefined)[], signal?: AbortSignal): Promise<void> {
    const changes: OcChange[] = part.map(({ target, ids }) => ({ ...ids, quantity: target.level, ...(target.expected !== null ? { expected: target.expected } : {}) }));
    const answer = await this.client.call('set', 'set stock levels', { body: { changes } }, signal);
    const results = answer.results;
    if (!Array.isArray(results) || results.length !== part.length) throw unreadable('a set of levels', `it has ${Array.isArray(results) ? results.length : 'no'} results for ${part.length} changes`);
    const readBack: typeof part = [];
    part.forEach((p, i) => {
      const r = results[i] as Obj;
      const { sku, locationId, level } = p.target;
      if (!r || r.product_id !== p.ids.product_id || r.product_option_value_id !== p.ids.product_option_value_id) throw unreadable('a set of levels', `result ${i + 1} is not for the change sent`);
      if (r.result === 'not_found') {
        outcomes[p.index] = { sku, locationId, status: 'failed', message: `The OpenCart store has no product ${p.ids.product_id}${p.ids.product_option_value_id ? ` option value ${p.ids.product_option_value_id}` : ''}; run catalog discovery again.` };
        return;
      }
      if (!isInt(r.quantity) || !['applied', 'unchanged', 'stale'].includes(String(r.result))) throw unreadable('a set of levels', `result ${i + 1} has no known result and whole quantity`);
      // "Unchanged" under a compare-and-set whose expected level is not the one asked for: the shop
      // got to our number by itself (sales whose orders have not reached the hub), not by our
      // write. Taken as applied, those sales would be counted again when their orders arrive; an
      // extension of protocol 1 from before this rule was enforced may still answer so.
      const movedByItself = r.result === 'unchanged' && p.target.expected !== null && p.target.expected !== level;
      if (r.result === 'stale' || movedByItself) outcomes[p.index] = { sku, locationId, status: 'stale', observed: r.quantity };
      else if (r.quantity !== level) throw unreadable('a set of levels', `result ${i + 1} says ${String(r.result)} with quantity ${r.quantity}, not the ${level} sent`);
      else if (p.target.expected === null) readBack.push(p);
      else outcomes[p.index] = { sku, locationId, status: 'applied', level, ...(r.result === 'unchanged' ? { wrote: false as const } : {}) };
    });
    if (readBack.length === 0) return;
    // An absolute set: what the store shows now (a sale may have landed right after the write).
    const now = await this.levels(readBack.map((p) => p.ids), signal);
    for (const p of readBack) {
      const { sku, locationId, level } = p.target;
      const q = now.get(keyOf(p.ids));
      outcomes[p.index] = q === level ? { sku, locationId, status: 'applied', level } : { sku, locationId, status: 'stale', observed: q ?? null };
    }
  }

  /** Hide (status 0) or show (status 1) a product; an option value's ref hides its whole product. */
  async setStatus(ref: ListingRef, visible: boolean, signal?: AbortSignal): Promise<void> {
    const ids = idsOf(ref);
    if (!ids) throw unreadable('a status change', 'the listing has no OpenCart product id');
    const answer = await this.client.call('status', visible ? 'relist a product' : 'hide a product', { body: { product_id: ids.product_id, status: visible ? 1 : 0 } }, signal);
    if (answer.product_id !== ids.product_id || answer.status !== (visible ? 1 : 0)) throw unreadable('a status change', 'it does not confirm the product and status asked for');
  }

  /** Every product (SKU: `sku`, else `model`) and option value (no SKU in OpenCart), page by page. */
  async listCatalog(signal?: AbortSignal): Promise<PlatformListing[]> {
    const guard = new PageGuard({ platform: 'OpenCart', what: 'list the catalog', hint: 'a page cache in front of the store ignores the page parameter of index.php; exclude route=extension/stockrelay from caching' });
    const out: PlatformListing[] = [];
    for (let page = 1; ; page++) {
      const answer = await this.client.call('catalog', 'list the catalog', { query: { page, limit: this.client.pageSize } }, signal);
      const products = answer.products;
      if (!Array.isArray(products) || !isInt(answer.total)) throw unreadable('a catalog page', 'it has no "products" list and "total"');
      guard.page(products.map((p) => String((p as Obj)?.product_id)));
      for (const raw of products as Obj[]) out.push(...listingsOf(raw));
      if (products.length === 0 || page * this.client.pageSize >= answer.total) return out;
      guard.more();
    }
  }

  /** The extension's events after `cursor` (its sequence number); the first poll only notes where the log stands. */
  async poll(cursor: string | null, signal?: AbortSignal): Promise<PollResult> {
    if (cursor !== null && !/^\d{1,18}$/.test(cursor)) throw unreadable('the events feed', `the cursor ${JSON.stringify(cursor.slice(0, 40))} is not an event sequence number`);
    const answer = await this.client.call('events', 'read the events feed', { query: { after: cursor ?? '0', limit: cursor === null ? 1 : this.client.pageSize } }, signal);
    if (!Array.isArray(answer.events) || !isInt(answer.last_seq) || typeof answer.more !== 'boolean') throw unreadable('the events feed', 'it has no "events", "last_seq" and "more"');
    if (cursor === null) return { events: [], cursor: String(answer.last_seq), more: false };
    let next = Number(cursor);
    const events = (answer.events as Obj[]).map((e) => {
      const body = e?.body as Obj | undefined;
      if (!isInt(e?.seq) || e.seq <= next || typeof body !== 'object' || body === null || typeof body.id !== 'string' || !(OC_TOPICS as readonly string[]).includes(String(body.topic))) {
        throw unreadable('the events feed', 'an event without a rising seq and a body with an id and a known topic');
      }
      next = e.seq;
      return { eventId: body.id, topic: String(body.topic), body, occurredAt: isInt(body.created_at) ? new Date(body.created_at * 1000).toISOString() : null };
    });
    return { events, cursor: String(next), more: answer.more };
  }
}

function listingsOf(p: Obj): PlatformListing[] {
  const productId = ocId(p?.product_id);
  if (!productId) throw unreadable('a catalog page', 'a product without a product_id');
  const name = typeof p.name === 'string' && p.name !== '' ? p.name : `Product ${productId}`;
  const out: PlatformListing[] = [{ sku: ocSku(p), title: name, ref: { productId, variantId: productId } }];
  for (const o of Array.isArray(p.options) ? (p.options as Obj[]) : []) {
    const pov = ocId(o?.product_option_value_id);
    if (!pov) throw unreadable('a catalog page', `an option value of product ${productId} without an id`);
    out.push({ sku: null, title: `${name} (${typeof o.name === 'string' ? o.name : pov})`, ref: { productId, variantId: `${OPTION_PREFIX}${pov}` } });
  }
  return out;
}
