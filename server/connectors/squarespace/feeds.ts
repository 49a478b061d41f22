/**
 * The two polled feeds (docs/polling.md).
 *
 * `orders`: a backstop to the order notifications ("at least once delivery on a best effort basis",
 * and a subscription may be deleted after repeated failures). GET /1.0/commerce/orders with
 * `modifiedAfter` and `modifiedBefore` (both required together), then `pagination.nextPageCursor`
 * (a cursor may not be combined with the date range). Each order becomes the event an `order.update`
 * notification expands to: topic `order.update`, body `{order}`, id `order-<id>@<modifiedOn>` (the
 * same for every re-read of one version of the order, new for every change). The cursor holds `hw`,
 * the newest `modifiedOn` read, and each poll asks from `hw` minus OVERLAP_MS; `floor` holds the
 * versions of orders that were already there when polling began, never emitted.
 *
 * `inventory`: Squarespace sends no notification when stock changes (a dashboard edit, a restock on
 * cancel, another app's adjustment), so the levels are read: GET /1.0/commerce/inventory, one page
 * (50 items) a call (`more` while Squarespace has more, so each page takes its turn of the channel's
 * pace), compared with the levels the cursor remembers; each changed level becomes a `level_observed`
 * event (the hub compares it with what it expects, docs/attribution.md). The first sweep only learns
 * the levels; a variant seen for the first time, or unlimited, is remembered, not reported. The event
 * id names the variant, the sweep's number and the level, so a page read again from the same cursor
 * gives the same ids and a level that comes back to an earlier value in a later sweep is reported
 * again.
 */
import { ConnectorError, type PollResult, type PolledEvent } from '../types';
import { PageGuard } from '../paging';
import { inventoryItem, unreadable, type SquarespaceClient } from './client';
import { INVENTORY_TOPIC } from './translate';

/** How far before the newest modification read each orders poll asks from. */
export const OVERLAP_MS = 10_000;
/** How far back the first poll looks for orders that are already there. */
const START_WINDOW_MS = 10 * 60_000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function badCursor(feed: string, text: string): ConnectorError {
  return new ConnectorError(`The saved position of the Squarespace ${feed} feed is not one this connector wrote (${text.slice(0, 80)}); nothing was read.`, false, null, null, { channelFault: false });
}

function parseJson(feed: string, text: string): Obj {
  try {
    const v = JSON.parse(text) as unknown;
    if (isObj(v) && v.v === 1) return v;
  } catch {
    // fall through
  }
  throw badCursor(feed, text);
}

interface OrdersCursor {
  v: 1;
  hw: string;
  floor?: { until: string; keys: string[] };
}

/** Every page of one listing that Squarespace pages by `pagination.nextPageCursor`. */
async function allPages(client: SquarespaceClient, path: string, first: Record<string, string>, list: string, what: string, signal?: AbortSignal): Promise<unknown[]> {
  const guard = new PageGuard({ platform: 'Squarespace', what, hint: `the server at ${client.http.baseUrl} ignores the "cursor" parameter of ${path} (a proxy or cache in front of the API?)` });
  const out: unknown[] = [];
  let query = first;
  for (;;) {
    const { data } = await client.http.send({ method: 'GET', path, what, query }, signal);
    if (!isObj(data) || !Array.isArray(data[list]) || !isObj(data.pagination)) throw unreadable(`a list at ${path}`, `there is no "${list}" list with "pagination"`);
    const items = data[list] as unknown[];
    const next = data.pagination.hasNextPage === true && typeof data.pagination.nextPageCursor === 'string' ? data.pagination.nextPageCursor : null;
    guard.page(items.map((i) => (isObj(i) ? String(i.id ?? i.variantId) : JSON.stringify(i))), next);
    out.push(...items);
    if (!next) return out;
    guard.more();
    query = { cursor: next };
  }
}

function readOrder(o: unknown): { id: string; modified: string; key: string; order: Obj } {
  if (!isObj(o) || typeof o.id !== 'string') throw unreadable('an order list', 'an item is not an Order');
  const modified = typeof o.modifiedOn === 'string' && !Number.isNaN(Date.parse(o.modifiedOn)) ? o.modifiedOn : null;
  if (!modified) throw unreadable('an order list', `order ${o.id} has no modifiedOn`);
  return { id: o.id, modified, key: `${o.id}@${modified}`, order: o };
}

export class SquarespaceFeeds {
  constructor(private readonly client: SquarespaceClient) {}

  private async ordersBetween(after: number, signal?: AbortSignal) {
    // The upper bound is required with the lower; a day ahead takes in whatever was saved up to now.
    const query = { modifiedAfter: new Date(after).toISOString(), modifiedBefore: new Date(Math.max(Date.now(), after) + 86_400_000).toISOString() };
    return (await allPages(this.client, '/1.0/commerce/orders', query, 'result', 'read the orders modified since the last poll', signal)).map(readOrder);
  }

  async orders(cursorText: string | null, signal?: AbortSignal): Promise<PollResult> {
    if (cursorText === null) {
      const now = Date.now();
      const there = await this.ordersBetween(now - START_WINDOW_MS, signal);
      const hw = new Date(Math.max(now, ...there.map((o) => Date.parse(o.modified)))).toISOString();
      return { events: [], cursor: JSON.stringify({ v: 1, hw, floor: { until: hw, keys: there.map((o) => o.key) } } satisfies OrdersCursor), more: false };
    }
    const c = parseJson('orders', cursorText) as Partial<OrdersCursor>;
    if (typeof c.hw !== 'string' || Number.isNaN(Date.parse(c.hw))) throw badCursor('orders', cursorText);
    const hwMs = Date.parse(c.hw);
    const found = (await this.ordersBetween(hwMs - OVERLAP_MS, signal)).sort((a, b) => Date.parse(a.modified) - Date.parse(b.modified) || a.id.localeCompare(b.id));
    const floor = c.floor && Array.isArray(c.floor.keys) ? new Set(c.floor.keys) : new Set<string>();
    const events: PolledEvent[] = found
      .filter((o) => !floor.has(o.key))
      .map((o) => ({ eventId: `order-${o.key}`, topic: 'order.update', body: { order: o.order }, occurredAt: o.modified }));
    const newest = Math.max(hwMs, ...found.map((o) => Date.parse(o.modified)));
    const next: OrdersCursor = { v: 1, hw: new Date(newest).toISOString() };
    // The floor matters only while the overlap can still reach back to it.
    if (c.floor && typeof c.floor.until === 'string' && newest - OVERLAP_MS <= Date.parse(c.floor.until)) next.floor = c.floor as OrdersCursor['floor'];
    return { events, cursor: JSON.stringify(next), more: false };
  }

  /**
   * One page of the inventory a call, so that each request takes its turn of the channel's pace. The
   * cursor: `seq`, the sweep's number; `q`, the last level seen of every variant (null: unlimited);
   * `next`, Squarespace's cursor of the sweep's next page (absent: the next call starts a sweep);
   * `quiet`, set during the first sweep, which only learns the levels.
   */
  async inventory(cursorText: string | null, signal?: AbortSignal): Promise<PollResult> {
    let c: InventoryCursor = { v: 1, seq: 1, q: {}, quiet: true };
    if (cursorText !== null) {
      const o = parseJson('inventory', cursorText) as Partial<InventoryCursor>;
      if (!Number.isInteger(o.seq) || !isObj(o.q) || (o.next !== undefined && typeof o.next !== 'string')) throw badCursor('inventory', cursorText);
      c = o as InventoryCursor;
    }
    const path = '/1.0/commerce/inventory';
    const { data } = await this.client.http.send({ method: 'GET', path, what: 'read the stock levels', query: c.next ? { cursor: c.next } : {} }, signal);
    if (!isObj(data) || !Array.isArray(data.inventory) || !isObj(data.pagination)) throw unreadable(`a list at ${path}`, 'there is no "inventory" list with "pagination"');
    const items = data.inventory.map(inventoryItem);
    const next = data.pagination.hasNextPage === true && typeof data.pagination.nextPageCursor === 'string' ? data.pagination.nextPageCursor : null;
    if (next !== null && next === c.next) throw unreadable(`a list at ${path}`, `it gave back the cursor it was asked with (the server at ${this.client.http.baseUrl} ignores "cursor"; a proxy or cache in front of the API?)`);
    const observedAt = new Date().toISOString();
    const q = { ...c.q };
    const events: PolledEvent[] = [];
    for (const it of items) {
      const before = q[it.variantId];
      q[it.variantId] = it.isUnlimited ? null : it.quantity;
      if (c.quiet || before === undefined || it.isUnlimited || before === it.quantity) continue;
      events.push({ eventId: `inventory-${it.variantId}@${c.seq}:${it.quantity}`, topic: INVENTORY_TOPIC, body: { item: it, observedAt }, occurredAt: observedAt });
    }
    // A sweep ends at the last page: the next call starts the next sweep, which reports changes.
    const after: InventoryCursor = next !== null ? { v: 1, seq: c.seq, q, next, ...(c.quiet ? { quiet: true } : {}) } : { v: 1, seq: c.seq + 1, q };
    return { events, cursor: JSON.stringify(after), more: next !== null };
  }
}

interface InventoryCursor {
  v: 1;
  seq: number;
  q: Record<string, number | null>;
  next?: string;
  quiet?: boolean;
}
