/**
 * The `orders` feed (docs/polling.md): WooCommerce orders by modification time, as a backstop to the
 * order webhooks (WooCommerce sends each delivery once and disables a webhook after more than five
 * failures in a row, so an order whose webhook was lost is found here).
 *
 * One call reads one page of GET /wc/v3/orders with `modified_after`, `dates_are_gmt=true`,
 * `orderby=modified`, `order=asc`, `per_page` and `page` (WooCommerce 5.8 and later; README.md says
 * what was confirmed where). Each order becomes the event the order webhook would have carried:
 * topic `order.updated`, body = the order exactly as the REST API answers it, so `translate` reads it
 * unchanged; its id is `order-<id>@<date_modified_gmt>`, the same for every re-read of the same
 * version of the order and new for every change.
 *
 * The cursor (this module's own JSON text) holds:
 * - `hw`: the newest `date_modified_gmt` read to the end of a page (WooCommerce's GMT, to the second);
 * - `page`: 1, or the next page number when a whole page could not move `hw` on (more orders
 *   modified in one overlap window than fit a page);
 * - `floor`: the newest order when polling began, and the ids modified in that same second: nothing at
 *   or before it is emitted, so turning polling on never books a shop's past orders again.
 * Each page asks from `hw` minus OVERLAP_MS: `modified_after` is strict and to the second, and an
 * order saved in the same second as the newest one read, or whose save commits a moment after a later
 * order became visible, would otherwise fall between two polls. The re-read orders carry the same
 * event ids, so the inbox drops them.
 */
import { ConnectorError, type PollResult, type PolledEvent } from '../types';
import { PageGuard } from '../paging';
import type { WooClient } from './client';
import { wooId } from './translate';

/** How far before the newest modification read each poll asks from. */
export const OVERLAP_MS = 10_000;
/** Orders read to find where the feed starts (the newest, and those modified in its same second). */
const START_PAGE = 20;

type Obj = Record<string, unknown>;

interface Cursor {
  v: 1;
  hw: string;
  page: number;
  floor?: { t: string; ids: string[] };
}

/** "2017-03-22T19:28:08": WooCommerce's GMT format, to the second. */
export function wooGmt(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19);
}

/** A `*_gmt` date (no zone: UTC) in ms, or null. */
function gmtMs(v: unknown): number | null {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(v.trim())) return null;
  const t = Date.parse(`${v.trim()}Z`);
  return Number.isNaN(t) ? null : t;
}

function unreadable(why: string): ConnectorError {
  return new ConnectorError(`WooCommerce answered an order list the hub cannot read: ${why}. Nothing of it was stored.`, false, null, null, { channelFault: true });
}

export function parseCursor(text: string): Cursor {
  let c: unknown;
  try {
    c = JSON.parse(text);
  } catch {
    c = null;
  }
  const o = c as Partial<Cursor> | null;
  const floorOk = o?.floor === undefined || (gmtMs(o.floor?.t) !== null && Array.isArray(o.floor?.ids) && o.floor.ids.every((i) => typeof i === 'string'));
  if (!o || o.v !== 1 || gmtMs(o.hw) === null || !Number.isInteger(o.page) || (o.page ?? 0) < 1 || !floorOk) {
    throw new ConnectorError(`The saved position of the WooCommerce orders feed is not one this connector wrote (${text.slice(0, 80)}); nothing was read.`, false, null, null, { channelFault: false });
  }
  return o as Cursor;
}

interface Page {
  orders: { id: string; modified: number; body: Obj }[];
  totalPages: number | null;
}

/** Where a WooCommerce answer is checked: a list of orders, each with an id and a modification time. */
function readOrders(data: unknown): Page['orders'] {
  if (!Array.isArray(data)) throw unreadable('it is not a list');
  return data.map((o: unknown, i) => {
    if (typeof o !== 'object' || o === null || Array.isArray(o)) throw unreadable(`item ${i + 1} is not an order`);
    const body = o as Obj;
    const id = wooId(body.id);
    if (!id) throw unreadable(`item ${i + 1} has no order id`);
    const modified = gmtMs(body.date_modified_gmt);
    if (modified === null) throw unreadable(`order ${id} has no date_modified_gmt`);
    return { id, modified, body };
  });
}

const wholeNumber = (v: string | undefined) => (v !== undefined && /^\d{1,9}$/.test(v.trim()) ? Number(v.trim()) : null);

/**
 * The orders feed of one store. A sweep (the pages read one after another while WooCommerce has
 * more) keeps one PageGuard, so a store or cache that ignores `page` or `modified_after` and answers
 * the same page again is stopped with the reason instead of read for ever.
 */
export class WooOrdersFeed {
  private sweep: { guard: PageGuard; next: string } | null = null;

  constructor(private readonly client: WooClient) {}

  async poll(cursorText: string | null, signal?: AbortSignal): Promise<PollResult> {
    if (cursorText === null) return this.start(signal);
    const cursor = parseCursor(cursorText);
    const guard =
      this.sweep && this.sweep.next === cursorText
        ? this.sweep.guard
        : new PageGuard({
            platform: 'WooCommerce',
            what: 'read the orders modified since the last poll',
            hint: `the store, or a cache or proxy in front of it, ignores the "page" or "modified_after" parameter of ${this.client.url}/wp-json/wc/v3/orders: exclude /wp-json/ from page caching (or fix the plugin that rewrites the query)`,
          });
    this.sweep = null;
    const after = Date.parse(`${cursor.hw}Z`) - OVERLAP_MS;
    const params = { modified_after: wooGmt(after), dates_are_gmt: 'true', orderby: 'modified', order: 'asc', per_page: this.client.pageSize, page: cursor.page };
    const { data, headers } = await this.get(params, signal);
    const orders = readOrders(data);
    orders.forEach((o, i) => {
      if (o.modified < after) {
        throw unreadable(
          `order ${o.id} was modified at ${wooGmt(o.modified)}, before the ${wooGmt(after)} asked for: the store ignores "modified_after" (it needs WooCommerce 5.8 or later), or a cache or plugin rewrites the query`,
        );
      }
      if (i > 0 && o.modified < orders[i - 1]!.modified) {
        throw unreadable(`orders are not in order of modification (order ${o.id} after ${orders[i - 1]!.id}): the store ignores "orderby=modified" (it needs WooCommerce 5.8 or later), or a plugin rewrites the query`);
      }
    });
    if (cursor.page > 1 || orders.length > 0) guard.page(orders.map((o) => `${o.id}@${o.modified}`));
    const totalPages = wholeNumber(headers['x-wp-totalpages']);
    const more = orders.length > 0 && (totalPages !== null ? cursor.page < totalPages : orders.length >= this.client.pageSize);

    const events: PolledEvent[] = [];
    for (const o of orders) {
      if (cursor.floor) {
        const floorMs = Date.parse(`${cursor.floor.t}Z`);
        if (o.modified < floorMs || (o.modified === floorMs && cursor.floor.ids.includes(o.id))) continue;
      }
      const stamp = wooGmt(o.modified);
      events.push({ eventId: `order-${o.id}@${stamp}`, topic: 'order.updated', body: o.body, occurredAt: new Date(o.modified).toISOString() });
    }

    const newest = orders.reduce((m, o) => Math.max(m, o.modified), Date.parse(`${cursor.hw}Z`));
    let next: Cursor;
    if (!more) next = { v: 1, hw: wooGmt(newest), page: 1 };
    // Asking again from the newest time read leaves out the orders of this page modified before that
    // time's overlap: if any, the next page holds at least that many orders not read yet.
    else if (orders.some((o) => o.modified <= newest - OVERLAP_MS)) next = { v: 1, hw: wooGmt(newest), page: 1 };
    // A whole page modified within one overlap window (a burst, a bulk edit): the same window, next page.
    else next = { v: 1, hw: cursor.hw, page: cursor.page + 1 };
    // The floor matters only while the window can still reach back to it.
    if (cursor.floor && Date.parse(`${next.hw}Z`) - OVERLAP_MS <= Date.parse(`${cursor.floor.t}Z`)) next.floor = cursor.floor;
    const text = JSON.stringify(next);
    if (more) {
      guard.more();
      this.sweep = { guard, next: text };
    }
    return { events, cursor: text, more };
  }

  /** The first poll: where the feed stands now (the newest order), and nothing before it. */
  private async start(signal?: AbortSignal): Promise<PollResult> {
    const { data } = await this.get({ dates_are_gmt: 'true', orderby: 'modified', order: 'desc', per_page: START_PAGE, page: 1 }, signal);
    const orders = readOrders(data);
    if (orders.length === 0) return { events: [], cursor: JSON.stringify({ v: 1, hw: wooGmt(0), page: 1 } satisfies Cursor), more: false };
    const newest = orders.reduce((m, o) => Math.max(m, o.modified), 0);
    const t = wooGmt(newest);
    const ids = orders.filter((o) => o.modified === newest).map((o) => o.id);
    return { events: [], cursor: JSON.stringify({ v: 1, hw: t, page: 1, floor: { t, ids } } satisfies Cursor), more: false };
  }

  private async get(params: Record<string, string | number>, signal?: AbortSignal): Promise<{ data: unknown; headers: Record<string, string> }> {
    try {
      return await this.client.call<unknown>('get', 'orders', 'read the orders modified since the last poll', { params }, signal);
    } catch (err) {
      // WordPress refuses a parameter value its schema does not know: a WooCommerce without "orderby=modified".
      if (err instanceof ConnectorError && err.status === 400 && /rest_invalid_param/.test(err.message)) {
        throw new ConnectorError(`${err.message} Polling orders needs WooCommerce 5.8 or later (orderby=modified, modified_after, dates_are_gmt); update WooCommerce, or turn polling off for this channel (polling.enabled: false).`, false, null, 400, { channelFault: true });
      }
      throw err;
    }
  }
}
