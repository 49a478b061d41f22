/**
 * The polled feeds (docs/polling.md). PrestaShop's core sends no webhooks, so everything the hub
 * learns from the shop it reads:
 * - `orders`: orders by `date_upd` (`filter[date_upd]=[from,to]&date=1`, `sort=[date_upd_ASC,id_ASC]`,
 *   `limit=offset,count`), each as the event `order` with the order exactly as the webservice answers
 *   it (`display=full`, its `associations.order_rows`); id `order-<id>@<date_upd>#<current_state>`, new
 *   for every change (the state too, since two changes may fall in one second);
 * - `order_slips`: credit slips (refunds) by `date_upd`, each as the event `order_slip` carrying the
 *   slip, the order's `order_details` (their `product_quantity_reinjected`: what went back to stock) and
 *   every slip of the same order; id `order_slip-<id>@<date_upd>`;
 * - `stock_movements`: stock movements by id (`filter[id]=[after,…]`, `sort=[id_ASC]`), each as the
 *   event `stock_movement` with the movement, the stock_available of its product or combination as
 *   read now (after the page) and `read_through`, the last movement id of the page; id
 *   `stock_movement-<id>`. That is how an edit in the back office reaches the hub.
 *
 * Dates are the shop's own (`Y-m-d H:i:s`, its time zone): the cursor keeps them as text and never
 * converts them. Each poll asks from OVERLAP_MS before the newest date read, since the filter is to
 * the second; what it reads again has the same event ids and is dropped by the inbox. A feed starts
 * where the shop stands (the first poll reads the newest record and books nothing before it).
 */
import { ConnectorError, type PollResult, type PolledEvent } from '../types';
import { PageGuard } from '../paging';
import type { PsClient } from './client';
import { rowsOf } from './client';
import { psId, type Row } from './rows';

export const OVERLAP_MS = 10_000;
/** The upper end of every date interval: the filter needs both ends. */
const FAR_FUTURE = '9999-12-31 23:59:59';
const START_ROWS = 20;

interface DateCursor {
  v: 1;
  hw: string;
  offset: number;
  floor?: { t: string; ids: string[] };
}

/** "2026-12-07 13:54:11" (the shop's clock) as ms, counting it as UTC only to do arithmetic on it. */
function psMs(v: unknown): number | null {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(v.trim())) return null;
  const t = Date.parse(`${v.trim().replace(' ', 'T')}Z`);
  return Number.isNaN(t) ? null : t;
}
export function psDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

function unreadable(feed: string, why: string): ConnectorError {
  return new ConnectorError(`PrestaShop answered the ${feed} feed with something the hub cannot read: ${why}. Nothing of it was stored.`, false, null, null, { channelFault: true });
}

function badCursor(feed: string, text: string): ConnectorError {
  return new ConnectorError(`The saved position of the PrestaShop ${feed} feed is not one this connector wrote (${text.slice(0, 80)}); nothing was read.`, false, null, null, { channelFault: false });
}

function parseDateCursor(feed: string, text: string): DateCursor {
  let o: Partial<DateCursor> | null = null;
  try {
    o = JSON.parse(text) as Partial<DateCursor>;
  } catch {
    o = null;
  }
  const floorOk = o?.floor === undefined || (psMs(o.floor?.t) !== null && Array.isArray(o.floor?.ids));
  if (!o || o.v !== 1 || psMs(o.hw) === null || !Number.isInteger(o.offset) || (o.offset ?? -1) < 0 || !floorOk) throw badCursor(feed, text);
  return o as DateCursor;
}

/** What differs between the feeds read by `date_upd`. */
interface DateFeedSpec {
  feed: string;
  resource: string;
  listKey: string;
  topic: string;
  /** What else tells two versions of a record apart within one second (an order's state). */
  versionOf?: (row: Row) => string;
  /** The event bodies of one page (order_slips add what their restock reading needs). */
  bodies(rows: Row[], signal?: AbortSignal): Promise<unknown[]>;
}

/** Rows of a date feed, checked: an id and a `date_upd` each. */
function checked(feed: string, rows: Row[]): { id: string; t: number; row: Row }[] {
  return rows.map((row, i) => {
    const id = psId(row.id);
    if (!id) throw unreadable(feed, `item ${i + 1} has no id`);
    const t = psMs(row.date_upd);
    if (t === null) throw unreadable(feed, `item ${id} has no date_upd`);
    return { id, t, row };
  });
}

export class PsFeeds {
  /** The guard of a sweep in progress per feed (pages read one after another while there is more). */
  private readonly sweeps = new Map<string, { guard: PageGuard; next: string }>();

  constructor(private readonly client: PsClient) {}

  private get http() {
    return this.client.http;
  }

  private async page(spec: Pick<DateFeedSpec, 'feed' | 'resource' | 'listKey'>, params: Record<string, string | number>, signal?: AbortSignal): Promise<Row[]> {
    return rowsOf(await this.http.call<unknown>('GET', spec.resource, `read the ${spec.feed} changed since the last poll`, { params: { display: 'full', ...params } }, signal), spec.listKey);
  }

  private guardFor(feed: string, text: string): PageGuard {
    const s = this.sweeps.get(feed);
    this.sweeps.delete(feed);
    if (s && s.next === text) return s.guard;
    return new PageGuard({ platform: 'PrestaShop', what: `read the ${feed} changed since the last poll`, hint: `the shop, or a cache or proxy in front of it, ignores the "limit" or "filter" parameters of ${this.http.url}/api/: exclude /api/ from page caching` });
  }

  /** One page of a feed read by `date_upd`. */
  async pollByDate(spec: DateFeedSpec, text: string | null, signal?: AbortSignal): Promise<PollResult> {
    if (text === null) {
      const rows = checked(spec.feed, await this.page(spec, { sort: '[date_upd_DESC,id_DESC]', limit: `0,${START_ROWS}` }, signal));
      if (rows.length === 0) return { events: [], cursor: JSON.stringify({ v: 1, hw: psDate(0), offset: 0 } satisfies DateCursor), more: false };
      const newest = Math.max(...rows.map((r) => r.t));
      const t = psDate(newest);
      return { events: [], cursor: JSON.stringify({ v: 1, hw: t, offset: 0, floor: { t, ids: rows.filter((r) => r.t === newest).map((r) => r.id) } } satisfies DateCursor), more: false };
    }
    const cursor = parseDateCursor(spec.feed, text);
    const guard = this.guardFor(spec.feed, text);
    const n = this.http.pageSize;
    const after = (psMs(cursor.hw) ?? 0) - OVERLAP_MS;
    const rows = checked(spec.feed, await this.page(spec, { 'filter[date_upd]': `[${psDate(after)},${FAR_FUTURE}]`, date: 1, sort: '[date_upd_ASC,id_ASC]', limit: `${cursor.offset},${n}` }, signal));
    rows.forEach((r, i) => {
      if (r.t < after) throw unreadable(spec.feed, `item ${r.id} changed at ${psDate(r.t)}, before the ${psDate(after)} asked for: the shop ignores the date filter`);
      if (i > 0 && r.t < rows[i - 1]!.t) throw unreadable(spec.feed, `items are not in order of date_upd (${r.id} after ${rows[i - 1]!.id}): the shop ignores "sort"`);
    });
    if (cursor.offset > 0 || rows.length > 0) guard.page(rows.map((r) => `${r.id}@${r.t}`));
    const more = rows.length >= n;
    const floorMs = cursor.floor ? psMs(cursor.floor.t)! : null;
    const fresh = rows.filter((r) => floorMs === null || !(r.t < floorMs || (r.t === floorMs && cursor.floor!.ids.includes(r.id))));
    const bodies = await spec.bodies(fresh.map((r) => r.row), signal);
    // date_upd is to the second: an order changed twice in one second (placed, then cancelled) keeps
    // its date, so its state is part of the id too, or the second version would be dropped as seen.
    const version = (row: Row) => (spec.versionOf ? spec.versionOf(row) : '');
    const events: PolledEvent[] = fresh.map((r, i) => ({ eventId: `${spec.topic}-${r.id}@${psDate(r.t)}${version(r.row)}`, topic: spec.topic, body: bodies[i], occurredAt: null }));
    const newest = rows.reduce((m, r) => Math.max(m, r.t), psMs(cursor.hw)!);
    let next: DateCursor;
    // A whole page changed within one overlap window: the same window, next page; else on from the newest.
    if (more && !rows.some((r) => r.t <= newest - OVERLAP_MS)) next = { v: 1, hw: cursor.hw, offset: cursor.offset + n };
    else next = { v: 1, hw: psDate(newest), offset: 0 };
    if (cursor.floor && (psMs(next.hw) ?? 0) - OVERLAP_MS <= floorMs!) next.floor = cursor.floor;
    const out = JSON.stringify(next);
    if (more) {
      guard.more();
      this.sweeps.set(spec.feed, { guard, next: out });
    }
    return { events, cursor: out, more };
  }

  orders(text: string | null, signal?: AbortSignal): Promise<PollResult> {
    return this.pollByDate({ feed: 'orders', resource: 'orders', listKey: 'orders', topic: 'order', versionOf: (o) => `#${String(o.current_state)}`, bodies: async (rows) => rows }, text, signal);
  }

  orderSlips(text: string | null, signal?: AbortSignal): Promise<PollResult> {
    return this.pollByDate({ feed: 'order_slips', resource: 'order_slip', listKey: 'order_slips', topic: 'order_slip', bodies: (rows, s) => this.slipBodies(rows, s) }, text, signal);
  }

  /** Each slip with its order's details and every slip of that order (the restock reading needs them). */
  private async slipBodies(slips: Row[], signal?: AbortSignal): Promise<unknown[]> {
    const orders = [...new Set(slips.map((s) => psId(s.id_order)).filter((x): x is string => x !== null))];
    if (orders.length === 0) return slips.map((s) => ({ order_slip: s, order_details: [], order_slips: [s] }));
    const filter = { 'filter[id_order]': `[${orders.join('|')}]`, display: 'full', sort: '[id_ASC]' };
    const details = await this.client.listAll('order_details', filter, 'read the lines of refunded orders', signal);
    const all = await this.client.listAll('order_slip', filter, 'read the credit slips of refunded orders', signal, 'order_slips');
    return slips.map((s) => {
      const order = psId(s.id_order);
      return { order_slip: s, order_details: details.filter((d) => psId(d.id_order) === order), order_slips: all.filter((x) => psId(x.id_order) === order) };
    });
  }

  /** Stock movements after the cursor's id, each with the level its product or combination shows now. */
  async stockMovements(text: string | null, signal?: AbortSignal): Promise<PollResult> {
    const spec = { feed: 'stock_movements', resource: 'stock_movements', listKey: 'stock_movements' };
    if (text === null) {
      const rows = await this.page(spec, { sort: '[id_DESC]', limit: '0,1' }, signal);
      const last = rows.length > 0 ? psId(rows[0]!.id) : '0';
      if (last === null) throw unreadable(spec.feed, 'the newest movement has no id');
      return { events: [], cursor: JSON.stringify({ v: 1, after: last }), more: false };
    }
    let after: string | null = null;
    try {
      const o = JSON.parse(text) as { v?: unknown; after?: unknown };
      after = o.v === 1 ? psId(o.after) : null;
    } catch {
      after = null;
    }
    if (after === null) throw badCursor(spec.feed, text);
    const guard = this.guardFor(spec.feed, text);
    const n = this.http.pageSize;
    const rows = await this.page(spec, { 'filter[id]': `[${Number(after) + 1},999999999999]`, sort: '[id_ASC]', limit: `0,${n}` }, signal);
    const ids = rows.map((r, i) => {
      const id = psId(r.id);
      if (!id || Number(id) <= Number(after)) throw unreadable(spec.feed, `item ${i + 1} is not a movement after ${after}: the shop ignores the id filter`);
      return id;
    });
    if (rows.length > 0) guard.page(ids);
    const products = [...new Set(rows.map((r) => psId(r.id_product)).filter((x): x is string => x !== null))];
    const levels = products.length === 0 ? [] : await this.client.listAll('stock_availables', { display: 'full', 'filter[id_product]': `[${products.join('|')}]`, sort: '[id_ASC]' }, 'read the levels of moved stock', signal);
    const events: PolledEvent[] = rows.map((r, i) => {
      const stock = levels.find((l) => psId(l.id_product) === psId(r.id_product) && psId(l.id_product_attribute) === (psId(r.id_product_attribute) ?? '0')) ?? null;
      // read_through: the page read every movement up to its last, so the level read after it stands
      // on at least those (its basis, translate.ts); a movement after them only holds a push back.
      return { eventId: `stock_movement-${ids[i]!}`, topic: 'stock_movement', body: { stock_movement: r, stock_available: stock, read_through: ids[ids.length - 1]! }, occurredAt: null };
    });
    const more = rows.length >= n;
    const out = JSON.stringify({ v: 1, after: ids.length > 0 ? ids[ids.length - 1] : after });
    if (more) {
      guard.more();
      this.sweeps.set(spec.feed, { guard, next: out });
    }
    return { events, cursor: out, more };
  }
}
