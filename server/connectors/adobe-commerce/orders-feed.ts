/**
 * The `orders` feed (docs/polling.md), for stores without Adobe Commerce Webhooks (Magento Open
 * Source has none) and as a backstop to the hooks, which Commerce calls once and never again.
 *
 * One poll reads one page of GET /V1/orders with searchCriteria: `updated_at gteq <from>`, sorted by
 * `updated_at ASC`, `pageSize`, `currentPage` (README.md says where each was confirmed). Each order
 * becomes the event the order hook would carry: topic `observer.sales_order_save_after`, body
 * `{data: {order}}` with the order as the REST API answers it, id `order-<entity_id>@<updated_at>~…`
 * (event-ids.ts `orderEventId`: the same for every re-read of that version, new for every change,
 * also for two changes in one second). The credit memos of the
 * page's orders that have refunds (`total_refunded` > 0) follow their order, read with
 * GET /V1/creditmemos (`order_id in …`), each once: id `creditmemo-<entity_id>`, topic
 * `observer.sales_order_creditmemo_save_after`. A credit memo saves its order, so a refund always
 * shows as a changed order first.
 *
 * The cursor (this module's JSON) holds `hw`, the newest `updated_at` read to the end of a page
 * (Magento keeps it to the second, UTC); `page`, 1 or the next page when a whole page could not
 * move `hw` on; and `floor`, where the feed began: nothing at or before it is emitted (orders, and
 * credit memos created before it), so turning polling on never books a store's past again. Each
 * page asks from `hw` minus OVERLAP_MS, since `gteq` is to the second and an order saved in the same
 * second, or committed a moment late, would otherwise fall between polls; what it re-reads carries
 * the same event ids and the inbox drops it.
 */
import { ConnectorError, type PollResult, type PolledEvent } from '../types';
import { PageGuard } from '../paging';
import { searchCriteria, searchResult, type AdobeHttp } from './http';
import { orderEventId } from './event-ids';
import { ADOBE_TOPICS, magentoDate, magentoId, magentoMs } from './translate';

export const OVERLAP_MS = 10_000;
const START_PAGE = 20;

type Obj = Record<string, unknown>;

interface Cursor {
  v: 1;
  hw: string;
  page: number;
  floor?: { t: string; ids: string[] };
}

function unreadable(why: string): ConnectorError {
  return new ConnectorError(`Adobe Commerce answered an order list the hub cannot read: ${why}. Nothing of it was stored.`, false, null, null, { channelFault: true });
}

export function parseCursor(text: string): Cursor {
  let o: Partial<Cursor> | null = null;
  try {
    o = JSON.parse(text) as Partial<Cursor>;
  } catch {
    o = null;
  }
  const floorOk = o?.floor === undefined || (magentoMs(o.floor?.t) !== null && Array.isArray(o.floor?.ids) && o.floor.ids.every((i) => typeof i === 'string'));
  if (!o || o.v !== 1 || magentoMs(o.hw) === null || !Number.isInteger(o.page) || (o.page ?? 0) < 1 || !floorOk) {
    throw new ConnectorError(`The saved position of the Adobe Commerce orders feed is not one this connector wrote (${text.slice(0, 80)}); nothing was read.`, false, null, null, { channelFault: false });
  }
  return o as Cursor;
}

interface Row {
  id: string;
  updated: number;
  refunded: boolean;
  body: Obj;
}

function readOrders(items: Obj[]): Row[] {
  return items.map((o, i) => {
    const id = magentoId(o.entity_id);
    if (!id) throw unreadable(`item ${i + 1} has no entity_id`);
    const updated = magentoMs(o.updated_at);
    if (updated === null) throw unreadable(`order ${id} has no updated_at in Magento's format ("2026-03-01 10:00:00")`);
    return { id, updated, refunded: typeof o.total_refunded === 'number' && o.total_refunded > 0, body: o };
  });
}

export class AdobeOrdersFeed {
  private sweep: { guard: PageGuard; next: string } | null = null;

  constructor(
    private readonly http: AdobeHttp,
    private readonly pageSize: number,
  ) {}

  private newGuard(): PageGuard {
    return new PageGuard({ platform: 'Adobe Commerce', what: 'read the orders changed since the last poll', hint: `the store, or a cache or proxy in front of it, ignores searchCriteria on ${this.http.url}/rest/V1/orders: exclude /rest from page caching` });
  }

  async poll(cursorText: string | null, signal?: AbortSignal): Promise<PollResult> {
    if (cursorText === null) return this.start(signal);
    const cursor = parseCursor(cursorText);
    const guard = this.sweep && this.sweep.next === cursorText ? this.sweep.guard : this.newGuard();
    this.sweep = null;
    const after = (magentoMs(cursor.hw) ?? 0) - OVERLAP_MS;
    const query = searchCriteria({ filter: { field: 'updated_at', value: magentoDate(new Date(after)), condition: 'gteq' }, sort: { field: 'updated_at', direction: 'ASC' }, pageSize: this.pageSize, page: cursor.page });
    const { items, total } = searchResult(await this.http.call<unknown>('GET', 'orders', 'read the orders changed since the last poll', { query }, signal), 'read the orders changed since the last poll');
    const orders = readOrders(items);
    orders.forEach((o, i) => {
      if (o.updated < after) throw unreadable(`order ${o.id} was changed at ${magentoDate(new Date(o.updated))}, before the ${magentoDate(new Date(after))} asked for: the updated_at filter was ignored`);
      if (i > 0 && o.updated < orders[i - 1]!.updated) throw unreadable(`orders are not in order of updated_at (order ${o.id} after ${orders[i - 1]!.id}): the sort order was ignored`);
    });
    if (cursor.page > 1 || orders.length > 0) guard.page(orders.map((o) => `${o.id}@${o.updated}`));
    const more = orders.length > 0 && cursor.page * this.pageSize < total;

    const floorMs = cursor.floor ? magentoMs(cursor.floor.t)! : null;
    const fresh = orders.filter((o) => floorMs === null || o.updated > floorMs || (o.updated === floorMs && !cursor.floor!.ids.includes(o.id)));
    const memos = await this.creditmemos(fresh.filter((o) => o.refunded).map((o) => o.id), floorMs, signal);
    const events: PolledEvent[] = [];
    for (const o of fresh) {
      events.push({ eventId: orderEventId(o.body)!, topic: ADOBE_TOPICS[0], body: { data: { order: o.body } }, occurredAt: new Date(o.updated).toISOString() });
      for (const m of memos.get(o.id) ?? []) events.push({ eventId: `creditmemo-${String(m.entity_id)}`, topic: ADOBE_TOPICS[1], body: { data: { creditmemo: m } }, occurredAt: new Date(magentoMs(m.created_at) ?? o.updated).toISOString() });
    }

    const newest = orders.reduce((m, o) => Math.max(m, o.updated), magentoMs(cursor.hw) ?? 0);
    let next: Cursor;
    // Asking again from the newest time leaves out this page's orders changed before its overlap: the next page holds that many new ones.
    if (!more || orders.some((o) => o.updated <= newest - OVERLAP_MS)) next = { v: 1, hw: magentoDate(new Date(newest)), page: 1 };
    // A whole page changed within one overlap window (a burst, a mass action): the same window, next page.
    else next = { v: 1, hw: cursor.hw, page: cursor.page + 1 };
    if (cursor.floor && (magentoMs(next.hw) ?? 0) - OVERLAP_MS <= floorMs!) next.floor = cursor.floor;
    const text = JSON.stringify(next);
    if (more) {
      guard.more();
      this.sweep = { guard, next: text };
    }
    return { events, cursor: text, more };
  }

  /** The credit memos of these orders, by order id, oldest first; those created at or before the floor left out. */
  private async creditmemos(orderIds: string[], floorMs: number | null, signal?: AbortSignal): Promise<Map<string, Obj[]>> {
    const out = new Map<string, Obj[]>();
    if (orderIds.length === 0) return out;
    const asked = new Set(orderIds);
    const guard = this.newGuard();
    for (let page = 1; ; page++) {
      const query = searchCriteria({ filter: { field: 'order_id', value: orderIds.join(','), condition: 'in' }, sort: { field: 'entity_id', direction: 'ASC' }, pageSize: this.pageSize, page });
      const { items, total } = searchResult(await this.http.call<unknown>('GET', 'creditmemos', 'read the credit memos of refunded orders', { query }, signal), 'read the credit memos of refunded orders');
      guard.page(items.map((m) => String(m.entity_id)));
      for (const m of items) {
        const id = magentoId(m.entity_id);
        const orderId = magentoId(m.order_id);
        if (!id || !orderId || !asked.has(orderId)) throw unreadable(`credit memo ${String(m.entity_id)} belongs to order ${String(m.order_id)}, which was not asked for: the order_id filter was ignored`);
        const created = magentoMs(m.created_at);
        if (created === null) throw unreadable(`credit memo ${id} has no created_at`);
        if (floorMs !== null && created <= floorMs) continue;
        out.set(orderId, [...(out.get(orderId) ?? []), m]);
      }
      if (page * this.pageSize >= total || items.length === 0) break;
      guard.more();
    }
    return out;
  }

  /** The first poll: where the feed stands now (the newest order), and nothing before it. */
  private async start(signal?: AbortSignal): Promise<PollResult> {
    const query = searchCriteria({ sort: { field: 'updated_at', direction: 'DESC' }, pageSize: START_PAGE, page: 1 });
    const { items } = searchResult(await this.http.call<unknown>('GET', 'orders', 'find where the orders feed starts', { query }, signal), 'find where the orders feed starts');
    const orders = readOrders(items);
    if (orders.length === 0) return { events: [], cursor: JSON.stringify({ v: 1, hw: magentoDate(new Date(0)), page: 1 } satisfies Cursor), more: false };
    const newest = orders.reduce((m, o) => Math.max(m, o.updated), 0);
    const t = magentoDate(new Date(newest));
    return { events: [], cursor: JSON.stringify({ v: 1, hw: t, page: 1, floor: { t, ids: orders.filter((o) => o.updated === newest).map((o) => o.id) } } satisfies Cursor), more: false };
  }
}
