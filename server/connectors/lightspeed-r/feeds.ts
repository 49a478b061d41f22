/**
 * The polled feeds (docs/polling.md). Lightspeed Retail (R-Series) sends no webhooks, so everything
 * the hub learns from the account it reads, by time stamp:
 * - `sales`: `Sale.json?timeStamp=>=,<t>&sort=timeStamp&load_relations=["SaleLines","SaleLines.Item"]`,
 *   each sale as the event `sale` with the sale as the API answers it and, for its return lines
 *   (negative `unitQuantity` with a `parentSaleLineID`), the sale each returned line came from
 *   (`parents`, read with `SaleLine.json?saleLineID=IN,[…]`); id `sale-<id>@<timeStamp>#<completed><voided>`;
 * - `item_shops`: `ItemShop.json?timeStamp=>=,<t>&sort=timeStamp&load_relations=["Item"]`, each
 *   shop's record of an item as the event `item_shop` (its `qoh` now); id
 *   `item_shop-<itemShopID>@<timeStamp>#<qoh>`. That is how a count typed at the counter, a received
 *   order or any edit in Lightspeed reaches the hub: as a level it compares, never books.
 *
 * Paging follows `@attributes.next` (V3 pages by cursor); a sweep in progress keeps that address in
 * the cursor. Time stamps are to the second: each poll asks from OVERLAP_MS before the newest one
 * read, and what it reads again has the same event ids (the inbox drops them). A feed starts where
 * the account stands: the first poll reads the newest records and books nothing up to them.
 */
import { ConnectorError, type PollResult, type PolledEvent } from '../types';
import { PageGuard } from '../paging';
import { pageOf, type LsClient } from './client';
import { PLATFORM } from './http';
import { ITEM_SHOP_TOPIC, listOf, lsBool, lsId, lsInt, lsMs, lsTime, obj, type Row, SALE_TOPIC, SUMMARY_SHOP } from './rows';

export const OVERLAP_MS = 5_000;
/** Records read at the start, to know which share the newest time stamp. */
const START_ROWS = 100;

export const LS_FEEDS = ['sales', 'item_shops'] as const;

interface Cursor {
  v: 1;
  /** The newest time stamp read (ms, to the second). */
  t: number;
  /** Events at or before the start that are not to be booked: up to `t`, only those ids at `t`. */
  floor?: { t: number; ids: string[] };
  /** A sweep in progress: the next page's address and the newest time stamp read so far. */
  next?: string;
  hw?: number;
}

interface FeedSpec {
  feed: (typeof LS_FEEDS)[number];
  resource: string;
  idField: string;
  relations: string;
  topic: string;
  eventId(row: Row): string;
  /** Records the feed leaves out (the all-shops summary). */
  keep?(row: Row): boolean;
  bodies(rows: Row[], signal?: AbortSignal): Promise<unknown[]>;
}

function unreadable(feed: string, why: string): ConnectorError {
  return new ConnectorError(`${PLATFORM} answered the ${feed} feed with something the hub cannot read: ${why}. Nothing of it was stored.`, false, null, null, { channelFault: true });
}

function parseCursor(feed: string, text: string): Cursor {
  let o: Partial<Cursor> | null = null;
  try {
    o = JSON.parse(text) as Partial<Cursor>;
  } catch {
    o = null;
  }
  const ok = o !== null && o.v === 1 && Number.isSafeInteger(o.t) && (o.floor === undefined || (Number.isSafeInteger(o.floor.t) && Array.isArray(o.floor.ids))) && (o.next === undefined || typeof o.next === 'string');
  if (!ok) throw new ConnectorError(`The saved position of the ${PLATFORM} ${feed} feed is not one this connector wrote (${text.slice(0, 80)}); nothing was read.`, false, null, null, { channelFault: false });
  return o as Cursor;
}

export class LsFeeds {
  /** The guard of a sweep in progress per feed (pages read one after another while there is more). */
  private readonly sweeps = new Map<string, { guard: PageGuard; next: string }>();

  constructor(private readonly client: LsClient) {}

  private get http() {
    return this.client.http;
  }

  private guardFor(feed: string, text: string): PageGuard {
    const s = this.sweeps.get(feed);
    this.sweeps.delete(feed);
    if (s && s.next === text) return s.guard;
    return new PageGuard({ platform: PLATFORM, what: `read the ${feed} changed since the last poll`, hint: `something between the hub and ${this.http.url} ignores the "after" of the next-page address` });
  }

  private checked(spec: FeedSpec, rows: Row[]): { id: string; t: number; row: Row }[] {
    return rows.map((row, i) => {
      const id = lsId(row[spec.idField]);
      if (!id) throw unreadable(spec.feed, `record ${i + 1} has no ${spec.idField}`);
      const t = lsMs(row.timeStamp);
      if (t === null) throw unreadable(spec.feed, `${spec.idField} ${id} has no timeStamp`);
      return { id, t, row };
    });
  }

  async poll(spec: FeedSpec, text: string | null, signal?: AbortSignal): Promise<PollResult> {
    const what = `read the ${spec.feed} changed since the last poll`;
    if (text === null) {
      const page = pageOf(await this.http.call<unknown>('GET', spec.resource, what, { params: { sort: '-timeStamp', limit: START_ROWS } }, signal), spec.resource, what);
      const rows = this.checked(spec, page.rows);
      if (rows.length === 0) return { events: [], cursor: JSON.stringify({ v: 1, t: 0 } satisfies Cursor), more: false };
      const newest = Math.max(...rows.map((r) => r.t));
      return { events: [], cursor: JSON.stringify({ v: 1, t: newest, floor: { t: newest, ids: rows.filter((r) => r.t === newest).map((r) => spec.eventId(r.row)) } } satisfies Cursor), more: false };
    }
    const cursor = parseCursor(spec.feed, text);
    const guard = this.guardFor(spec.feed, text);
    let answer: unknown;
    if (cursor.next) {
      if (!this.http.ownsUrl(cursor.next)) throw unreadable(spec.feed, 'the saved next-page address is not this account\'s');
      answer = await this.http.call<unknown>('GET', cursor.next, what, {}, signal);
    } else {
      const from = Math.max(0, cursor.t - OVERLAP_MS);
      answer = await this.http.call<unknown>('GET', spec.resource, what, { params: { timeStamp: `>=,${lsTime(from)}`, sort: 'timeStamp', load_relations: spec.relations, limit: this.http.pageSize } }, signal);
    }
    const page = pageOf(answer, spec.resource, what);
    const rows = this.checked(spec, page.rows);
    const from = Math.max(0, cursor.t - OVERLAP_MS);
    rows.forEach((r, i) => {
      if (!cursor.next && r.t < Math.floor(from / 1000) * 1000) throw unreadable(spec.feed, `${spec.idField} ${r.id} changed at ${lsTime(r.t)}, before the ${lsTime(from)} asked for: the timeStamp filter was ignored`);
      if (i > 0 && r.t < rows[i - 1]!.t) throw unreadable(spec.feed, `records are not in order of timeStamp (${r.id} after ${rows[i - 1]!.id}): the sort was ignored`);
    });
    guard.page(rows.map((r) => `${r.id}@${r.t}`), page.next || null);
    const floor = cursor.floor;
    const fresh = rows.filter((r) => (spec.keep ? spec.keep(r.row) : true) && !(floor && (r.t < floor.t || (r.t === floor.t && floor.ids.includes(spec.eventId(r.row))))));
    const bodies = await spec.bodies(fresh.map((r) => r.row), signal);
    const events: PolledEvent[] = fresh.map((r, i) => ({ eventId: spec.eventId(r.row), topic: spec.topic, body: bodies[i], occurredAt: lsTime(r.t).replace('+00:00', '.000Z') }));
    const newest = rows.reduce((m, r) => Math.max(m, r.t), Math.max(cursor.t, cursor.hw ?? 0));
    const more = page.next !== '';
    if (more && !this.http.ownsUrl(page.next)) throw unreadable(spec.feed, `the next-page address is outside this account (${page.next.slice(0, 120)})`);
    const next: Cursor = more ? { v: 1, t: cursor.t, next: page.next, hw: newest } : { v: 1, t: newest };
    if (floor && (more || newest - OVERLAP_MS <= floor.t)) next.floor = floor;
    const out = JSON.stringify(next);
    if (more) {
      guard.more();
      this.sweeps.set(spec.feed, { guard, next: out });
    }
    return { events, cursor: out, more };
  }

  sales(text: string | null, signal?: AbortSignal): Promise<PollResult> {
    return this.poll(
      {
        feed: 'sales',
        resource: 'Sale',
        idField: 'saleID',
        relations: '["SaleLines","SaleLines.Item"]',
        topic: SALE_TOPIC,
        eventId: (s) => `sale-${String(lsId(s.saleID))}@${String(s.timeStamp)}#${lsBool(s.completed) ? 'c' : 'o'}${lsBool(s.voided) ? 'v' : ''}`,
        bodies: (rows, sig) => this.saleBodies(rows, sig),
      },
      text,
      signal,
    );
  }

  /** Each sale with the sale every returned line came from (`parents`: saleLineID of the original line → its saleID). */
  private async saleBodies(sales: Row[], signal?: AbortSignal): Promise<unknown[]> {
    const parentIds = new Set<string>();
    for (const s of sales) {
      for (const l of listOf(obj(s.SaleLines)?.SaleLine)) {
        const p = lsId(l.parentSaleLineID);
        if (p && p !== '0' && (lsInt(l.unitQuantity) ?? 0) < 0) parentIds.add(p);
      }
    }
    const parents: Record<string, string> = {};
    if (parentIds.size > 0) {
      const rows = await this.client.listAll('SaleLine', { saleLineID: `IN,[${[...parentIds].join(',')}]` }, 'read the sales that returned items came from', 'saleLineID', signal);
      for (const r of rows) {
        const id = lsId(r.saleLineID);
        const sale = lsId(r.saleID);
        if (id && sale) parents[id] = sale;
      }
    }
    return sales.map((s) => {
      const mine: Record<string, string> = {};
      for (const l of listOf(obj(s.SaleLines)?.SaleLine)) {
        const p = lsId(l.parentSaleLineID);
        if (p && parents[p]) mine[p] = parents[p];
      }
      return { Sale: s, parents: mine };
    });
  }

  itemShops(text: string | null, signal?: AbortSignal): Promise<PollResult> {
    return this.poll(
      {
        feed: 'item_shops',
        resource: 'ItemShop',
        idField: 'itemShopID',
        relations: '["Item"]',
        topic: ITEM_SHOP_TOPIC,
        eventId: (r) => `item_shop-${String(lsId(r.itemShopID))}@${String(r.timeStamp)}#${String(r.qoh)}`,
        keep: (r) => lsId(r.shopID) !== SUMMARY_SHOP,
        bodies: async (rows) => rows.map((r) => ({ ItemShop: r })),
      },
      text,
      signal,
    );
  }
}
