/**
 * The Revel connector's polled feeds. Revel does not promise to deliver every webhook (a delivery
 * that fails is retried, then given up), and it sends none when a count is typed at the counter, so
 * the hub reads two lists by their `updated_date`:
 * - `orders`: finalized orders (`OrderAllInOne`, `closed=true`), the backstop of `order.finalized`;
 * - `inventory`: stock records (`CurrentStock`) changed since the last poll, each a reported level.
 * The cursor is the newest `updated_date` read and the records with exactly that date read already
 * (`updated_date__gte` is inclusive): a record read again at the same date is left out, and one
 * changed since (a later date) is read again, as it should be. The first poll only records where
 * each list stands.
 */
import { ConnectorError, type PolledEvent, type PollResult } from '../types';
import type { RevelClient } from './client';
import { idOf, INVENTORY_TOPIC, isoOf, isRow, ORDER_FINALIZED, ORDERS_PATH, STOCK_PATH, type Row } from './wire';

interface FeedCursor {
  v: 2;
  /** The newest `updated_date` read, as Revel wrote it ('' before any). */
  since: string;
  /** The ids of the records with exactly that date read already. */
  ids: string[];
}

interface Feed {
  path: string;
  query: Record<string, string>;
  what: string;
  /** The record's `updated_date`. */
  updated(row: Row): string | null;
  /** The record's id. */
  key(row: Row): string | null;
  event(row: Row, updated: string): PolledEvent | null;
}

function badCursor(feed: string, text: string): ConnectorError {
  return new ConnectorError(`The cursor of the Revel ${feed} feed is not one this connector wrote (${text.slice(0, 80)}); reset the feed.`, false, null, null, { channelFault: false });
}

const orderInfo = (row: Row): Row | null => (isRow(row.orderInfo) ? row.orderInfo : null);

export class RevelFeeds {
  private readonly feeds: Record<'orders' | 'inventory', Feed>;

  constructor(
    private readonly client: RevelClient,
    /** The establishments the channel maps; stock records of others are not reported. Empty: all. */
    establishments: readonly string[],
  ) {
    const mapped = new Set(establishments.map((e) => idOf(e)).filter((e): e is string => e !== null));
    this.feeds = {
      orders: {
        path: ORDERS_PATH,
        query: { closed: 'true' },
        what: 'read the orders finalized since the last poll',
        updated: (row) => {
          const info = orderInfo(row);
          return info && typeof info.updated_date === 'string' ? info.updated_date : null;
        },
        key: (row) => idOf(orderInfo(row)?.id),
        event: (row, updated) => {
          const id = idOf(orderInfo(row)?.id);
          return id ? { eventId: `order-${id}@${updated}`, topic: ORDER_FINALIZED, body: row, occurredAt: isoOf(updated) } : null;
        },
      },
      inventory: {
        path: STOCK_PATH,
        query: {},
        what: 'read the stock records changed since the last poll',
        updated: (row) => (typeof row.updated_date === 'string' ? row.updated_date : null),
        key: (row) => idOf(row.id),
        event: (row, updated) => {
          const id = idOf(row.id);
          const est = idOf(row.establishment);
          if (!id || (mapped.size > 0 && (!est || !mapped.has(est)))) return null;
          return { eventId: `stock-${id}@${updated}:${String(row.quantity_in_hand)}`, topic: INVENTORY_TOPIC, body: row, occurredAt: isoOf(updated) };
        },
      },
    };
  }

  async poll(name: 'orders' | 'inventory', cursorText: string | null, signal?: AbortSignal): Promise<PollResult> {
    const feed = this.feeds[name];
    const http = this.client.http;
    if (cursorText === null) {
      // Where the list stands now: its newest record, and those that share its date.
      const { objects } = await http.page(feed.path, { ...feed.query, order_by: '-updated_date' }, 0, http.pageSize, feed.what, signal);
      const since = objects.map(feed.updated).find((d): d is string => d !== null) ?? '';
      const ids = objects.filter((r) => feed.updated(r) === since).map(feed.key).filter((k): k is string => k !== null);
      const cursor: FeedCursor = { v: 2, since, ids };
      return { events: [], cursor: JSON.stringify(cursor), more: false };
    }
    let c: FeedCursor;
    try {
      c = JSON.parse(cursorText) as FeedCursor;
    } catch {
      throw badCursor(name, cursorText);
    }
    if (!isRow(c) || c.v !== 2 || typeof c.since !== 'string' || !Array.isArray(c.ids) || !c.ids.every((i) => typeof i === 'string')) throw badCursor(name, cursorText);
    const query: Record<string, string | string[]> = { ...feed.query, order_by: ['updated_date', 'id'] };
    if (c.since !== '') query.updated_date__gte = c.since;
    const seen = new Set(c.ids);
    const isSeen = (row: Row) => feed.updated(row) === c.since && seen.has(feed.key(row) ?? '');
    let { objects, next } = await http.page(feed.path, query, 0, http.pageSize, feed.what, signal);
    // More records share that date than a page holds, and all of this page were read: read past them.
    if (next && objects.length > 0 && objects.every(isSeen)) ({ objects, next } = await http.page(feed.path, query, seen.size, http.pageSize, feed.what, signal));
    const events: PolledEvent[] = [];
    let since = c.since;
    let ids = [...c.ids];
    for (const row of objects) {
      const updated = feed.updated(row);
      if (updated === null) throw new ConnectorError(`Revel answered a record of ${feed.path} without updated_date while trying to ${feed.what}; nothing of the page was taken.`, false, null, null, { channelFault: true });
      if (c.since !== '' && updated < c.since) throw new ConnectorError(`Revel answered a record of ${feed.path} updated before ${c.since} to a request for those after it: the server ignores updated_date__gte. Nothing of the page was taken.`, false, null, null, { channelFault: true });
      if (isSeen(row)) continue;
      const key = feed.key(row) ?? '';
      if (updated === since) ids.push(key);
      else {
        since = updated;
        ids = [key];
      }
      const ev = feed.event(row, updated);
      if (ev) events.push(ev);
    }
    const cursor: FeedCursor = { v: 2, since, ids };
    return { events, cursor: JSON.stringify(cursor), more: next && (since !== c.since || ids.length !== c.ids.length) };
  }
}
