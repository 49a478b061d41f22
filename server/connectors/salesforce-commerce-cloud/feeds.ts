/**
 * The two polled feeds (docs/polling.md); B2C Commerce pushes nothing for orders or inventory.
 *
 * `orders`: `GET …/orders?siteId&lastModifiedDateFrom&sortBy=last_modified_date&sortOrder=asc&limit&offset`
 * (the admin Orders API; `lastModifiedDateFrom` is inclusive). Each order becomes an event with
 * topic `order.modified`, the order as the API answers it, and the id
 * `order-<orderNo>@<lastModified>`: the same for every re-read of one version of the order, new for
 * every change. The cursor (JSON) holds `from` (the newest lastModified read to the end of a page),
 * `offset` (0, or the next offset when a whole page was modified within one overlap window) and
 * `floor` (where the feed started: the newest order then, and the ids modified at that instant,
 * never emitted, so turning polling on books none of the shop's past orders). Each page asks from
 * `from` minus OVERLAP_MS: an order saved a moment before a later one became visible would otherwise
 * fall between two polls; what the overlap reads again has the same event ids and is dropped.
 * The API takes at most offset + limit = 10,000, and answers no total: a full page means more.
 *
 * `levels`: Omnichannel Inventory's stream of changes (`…/availability-records/actions/get-deltas`):
 * the first poll asks without a token and keeps the token it gets (where the stream stands), later
 * polls ask with the token and move to `nextDeltaToken`; `shouldQueryAgain` says there is more. Each
 * record becomes an `availability.changed` event `{record, readAt}` with the id
 * `oci-delta:<token asked with>:<index>`, the same when a page is read again after a failed commit.
 */
import { ConnectorError, type PollResult, type PolledEvent } from '../types';
import { PageGuard } from '../paging';
import { PLATFORM, type SfccClient } from './client';
import { LEVEL_TOPIC, ORDER_TOPIC } from './translate';

export const OVERLAP_MS = 10_000;
/** Orders read to find where the feed starts. */
const START_PAGE = 20;
const MAX_WINDOW = 10_000;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

interface OrdersCursor {
  v: 1;
  from: string;
  offset: number;
  floor?: { t: string; ids: string[] };
}

function unreadable(what: string): ConnectorError {
  return new ConnectorError(`${PLATFORM} answered an order list the hub cannot read: ${what}. Nothing of it was stored.`, false, null, null, { channelFault: true });
}

function badCursor(feed: string, text: string): ConnectorError {
  return new ConnectorError(`The saved position of the ${PLATFORM} ${feed} feed is not one this connector wrote (${text.slice(0, 80)}); nothing was read.`, false, null, null, { channelFault: false });
}

const ms = (v: unknown): number | null => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : null);

export function parseOrdersCursor(text: string): OrdersCursor {
  let o: Partial<OrdersCursor> | null = null;
  try {
    o = JSON.parse(text) as Partial<OrdersCursor>;
  } catch {
    o = null;
  }
  const floorOk = o?.floor === undefined || (ms(o.floor.t) !== null && Array.isArray(o.floor.ids) && o.floor.ids.every((i) => typeof i === 'string'));
  if (!o || o.v !== 1 || ms(o.from) === null || !Number.isInteger(o.offset) || o.offset! < 0 || !floorOk) throw badCursor('orders', text);
  return o as OrdersCursor;
}

function readOrders(answer: Json): { orderNo: string; modified: number; body: Json }[] {
  if (!Array.isArray(answer.data)) throw unreadable('it has no data list');
  return answer.data.map((o: unknown, i) => {
    if (!isObj(o) || typeof o.orderNo !== 'string' || o.orderNo === '') throw unreadable(`item ${i + 1} has no orderNo`);
    const modified = ms(o.lastModified);
    if (modified === null) throw unreadable(`order ${o.orderNo} has no lastModified`);
    return { orderNo: o.orderNo, modified, body: o };
  });
}

export class OrdersFeed {
  private sweep: { guard: PageGuard; next: string } | null = null;

  constructor(private readonly client: SfccClient) {}

  private get(params: Record<string, string | number>, signal?: AbortSignal): Promise<Json> {
    const q = new URLSearchParams({ siteId: this.client.siteId, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) });
    return this.client.call('GET', `${this.client.url('orders', 'orders')}?${q}`, 'read the orders modified since the last poll', undefined, signal);
  }

  async poll(cursorText: string | null, signal?: AbortSignal): Promise<PollResult> {
    if (cursorText === null) return this.start(signal);
    const cursor = parseOrdersCursor(cursorText);
    const guard =
      this.sweep?.next === cursorText
        ? this.sweep.guard
        : new PageGuard({ platform: PLATFORM, what: 'read the orders modified since the last poll', hint: `the Orders API at ${this.client.url('orders', 'orders')} ignores "offset" or "lastModifiedDateFrom"` });
    this.sweep = null;
    const after = Date.parse(cursor.from) - OVERLAP_MS;
    const limit = Math.min(this.client.pageSize, MAX_WINDOW - cursor.offset);
    const orders = readOrders(await this.get({ lastModifiedDateFrom: new Date(after).toISOString(), sortBy: 'last_modified_date', sortOrder: 'asc', limit, offset: cursor.offset }, signal));
    orders.forEach((o, i) => {
      if (o.modified < after) throw unreadable(`order ${o.orderNo} was modified at ${new Date(o.modified).toISOString()}, before the ${new Date(after).toISOString()} asked for`);
      if (i > 0 && o.modified < orders[i - 1]!.modified) throw unreadable(`orders are not in order of modification (order ${o.orderNo} after ${orders[i - 1]!.orderNo})`);
    });
    if (cursor.offset > 0 || orders.length > 0) guard.page(orders.map((o) => `${o.orderNo}@${o.modified}`));
    const more = orders.length >= limit && limit > 0;
    const floorMs = cursor.floor ? Date.parse(cursor.floor.t) : null;
    const events: PolledEvent[] = orders
      .filter((o) => floorMs === null || o.modified > floorMs || (o.modified === floorMs && !cursor.floor!.ids.includes(o.orderNo)))
      .map((o) => ({ eventId: `order-${o.orderNo}@${new Date(o.modified).toISOString()}`, topic: ORDER_TOPIC, body: o.body, occurredAt: new Date(o.modified).toISOString() }));
    const newest = new Date(orders.reduce((m, o) => Math.max(m, o.modified), Date.parse(cursor.from))).toISOString();
    let next: OrdersCursor;
    // Asking again from the newest time leaves out what this page read before that time's overlap: progress.
    if (!more || orders.some((o) => o.modified <= Date.parse(newest) - OVERLAP_MS)) next = { v: 1, from: newest, offset: 0 };
    // A whole page modified within one overlap window: the same window, the next page.
    else if (cursor.offset + limit < MAX_WINDOW) next = { v: 1, from: cursor.from, offset: cursor.offset + orders.length };
    else throw unreadable(`more than ${MAX_WINDOW} orders were modified within ${OVERLAP_MS / 1000} s of ${cursor.from}, more than the Orders API pages through`);
    if (cursor.floor && Date.parse(next.from) - OVERLAP_MS <= Date.parse(cursor.floor.t)) next.floor = cursor.floor;
    const text = JSON.stringify(next);
    if (more) {
      guard.more();
      this.sweep = { guard, next: text };
    }
    return { events, cursor: text, more };
  }

  /** The first poll: where the feed stands now (the newest modified order), and nothing before it. */
  private async start(signal?: AbortSignal): Promise<PollResult> {
    const orders = readOrders(await this.get({ sortBy: 'last_modified_date', sortOrder: 'desc', limit: Math.min(START_PAGE, this.client.pageSize), offset: 0 }, signal));
    if (orders.length === 0) return { events: [], cursor: JSON.stringify({ v: 1, from: new Date(0).toISOString(), offset: 0 } satisfies OrdersCursor), more: false };
    const newest = orders.reduce((m, o) => Math.max(m, o.modified), 0);
    const t = new Date(newest).toISOString();
    const floor = { t, ids: orders.filter((o) => o.modified === newest).map((o) => o.orderNo) };
    return { events: [], cursor: JSON.stringify({ v: 1, from: t, offset: 0, floor } satisfies OrdersCursor), more: false };
  }
}

export class LevelsFeed {
  private readonly guard = () => new PageGuard({ platform: PLATFORM, what: 'read the changes of Omnichannel Inventory', hint: `the get-deltas answer at ${this.client.url('oci', 'availability-records/actions/get-deltas')} repeats a token` });
  private sweep: { guard: PageGuard; next: string } | null = null;

  constructor(private readonly client: SfccClient) {}

  async poll(cursor: string | null, signal?: AbortSignal): Promise<PollResult> {
    if (cursor !== null && !/^[\x21-\x7e]{1,2048}$/.test(cursor)) throw badCursor('levels', cursor);
    const body = cursor === null ? {} : { deltaToken: cursor, limit: Math.min(this.client.pageSize, 1000) };
    const answer = await this.client.call('POST', this.client.url('oci', 'availability-records/actions/get-deltas'), 'read the changes of Omnichannel Inventory', body, signal);
    const { records, nextDeltaToken, shouldQueryAgain } = answer;
    if (typeof nextDeltaToken !== 'string' || !/^[\x21-\x7e]{1,2048}$/.test(nextDeltaToken)) throw new ConnectorError(`${PLATFORM} answered a change list without a usable nextDeltaToken; nothing of it was stored.`, false, null, null, { channelFault: true });
    if (!Array.isArray(records)) throw new ConnectorError(`${PLATFORM} answered a change list without a records list; nothing of it was stored.`, false, null, null, { channelFault: true });
    if (cursor === null) return { events: [], cursor: nextDeltaToken, more: false };
    const guard = this.sweep?.next === cursor ? this.sweep.guard : this.guard();
    this.sweep = null;
    if (records.length > 0) guard.page([`${cursor}:${records.length}`], nextDeltaToken === cursor ? null : nextDeltaToken);
    if (records.length > 0 && nextDeltaToken === cursor) throw new ConnectorError(`${PLATFORM} answered changes without moving its delta token past them; nothing of it was stored.`, false, null, null, { channelFault: true });
    const readAt = this.client.clock().toISOString();
    const events: PolledEvent[] = records.map((record: unknown, i) => ({ eventId: `oci-delta:${cursor}:${i}`, topic: LEVEL_TOPIC, body: { record, readAt }, occurredAt: readAt }));
    const more = shouldQueryAgain === true && records.length > 0;
    if (more) {
      guard.more();
      this.sweep = { guard, next: nextDeltaToken };
    }
    return { events, cursor: nextDeltaToken, more };
  }
}
