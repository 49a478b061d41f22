/**
 * The polled `orders` feed: a backstop to the webhooks ("Clover does not guarantee when, or if,
 * notifications will be received"). GET /orders with `filter=modifiedTime>=<ms>` (the filter Clover's
 * rate-limit page recommends "to avoid re-polling unmodified data"), `expand=lineItems,payments,
 * refunds`, paged by `limit` and `offset`. Each order becomes the event an order message expands to:
 * topic `orders`, body `{order}`, id `order-<id>@<modifiedTime>` (the same for every re-read of one
 * version of the order, new for every change). The cursor holds `hw`, the newest `modifiedTime`
 * read, and each poll asks from `hw` minus OVERLAP_MS; `floor` holds the versions of orders that
 * were already there when polling began, never emitted.
 */
import { ConnectorError, type PollResult, type PolledEvent } from '../types';
import { PageGuard } from '../paging';
import { ORDER_EXPAND, unreadable, type CloverClient } from './client';
import { ORDER_POLLED_TOPIC } from './translate';

/** How far before the newest modification read each poll asks from. */
export const OVERLAP_MS = 10_000;
/** How far back the first poll looks for orders that are already there. */
const START_WINDOW_MS = 10 * 60_000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

interface OrdersCursor {
  v: 1;
  hw: number;
  floor?: { until: number; keys: string[] };
}

function badCursor(text: string): ConnectorError {
  return new ConnectorError(`The saved position of the Clover orders feed is not one this connector wrote (${text.slice(0, 80)}); nothing was read.`, false, null, null, { channelFault: false });
}

function readOrder(o: unknown): { id: string; modified: number; key: string; order: Obj } {
  if (!isObj(o) || typeof o.id !== 'string') throw unreadable('an order list', 'an element is not an order');
  if (typeof o.modifiedTime !== 'number' || !Number.isFinite(o.modifiedTime)) throw unreadable('an order list', `order ${o.id} has no modifiedTime`);
  return { id: o.id, modified: o.modifiedTime, key: `${o.id}@${o.modifiedTime}`, order: o };
}

export class CloverFeeds {
  constructor(private readonly client: CloverClient) {}

  private async ordersSince(from: number, signal?: AbortSignal) {
    const c = this.client;
    const guard = new PageGuard({ platform: 'Clover', what: 'read the orders modified since the last poll', hint: `the server at ${c.http.baseUrl} ignores the "offset" parameter of /orders (a proxy or cache in front of the API?)` });
    const out: ReturnType<typeof readOrder>[] = [];
    for (let offset = 0; ; offset += c.pageSize) {
      const data = await c.http.send(
        {
          method: 'GET',
          path: '/orders',
          what: 'read the orders modified since the last poll',
          query: [['filter', `modifiedTime>=${Math.max(0, Math.floor(from))}`], ['expand', ORDER_EXPAND], ['limit', String(c.pageSize)], ['offset', String(offset)]],
        },
        signal,
      );
      if (!isObj(data) || !Array.isArray(data.elements)) throw unreadable('an order list', 'there is no "elements" list');
      guard.page(data.elements.map((o: unknown) => (isObj(o) ? `${String(o.id)}@${String(o.modifiedTime)}` : JSON.stringify(o))));
      out.push(...data.elements.map(readOrder));
      if (data.elements.length < c.pageSize) return out;
      guard.more();
    }
  }

  async orders(cursorText: string | null, signal?: AbortSignal): Promise<PollResult> {
    if (cursorText === null) {
      const now = Date.now();
      const there = await this.ordersSince(now - START_WINDOW_MS, signal);
      const hw = Math.max(now, ...there.map((o) => o.modified));
      return { events: [], cursor: JSON.stringify({ v: 1, hw, floor: { until: hw, keys: there.map((o) => o.key) } } satisfies OrdersCursor), more: false };
    }
    let c: Partial<OrdersCursor>;
    try {
      c = JSON.parse(cursorText) as Partial<OrdersCursor>;
    } catch {
      throw badCursor(cursorText);
    }
    if (!isObj(c) || c.v !== 1 || typeof c.hw !== 'number' || !Number.isFinite(c.hw)) throw badCursor(cursorText);
    const found = (await this.ordersSince(c.hw - OVERLAP_MS, signal)).sort((a, b) => a.modified - b.modified || a.id.localeCompare(b.id));
    const floor = c.floor && Array.isArray(c.floor.keys) ? new Set(c.floor.keys) : new Set<string>();
    const events: PolledEvent[] = found
      .filter((o) => !floor.has(o.key))
      .map((o) => ({ eventId: `order-${o.key}`, topic: ORDER_POLLED_TOPIC, body: { order: o.order }, occurredAt: new Date(o.modified).toISOString() }));
    const newest = Math.max(c.hw, ...found.map((o) => o.modified));
    const next: OrdersCursor = { v: 1, hw: newest };
    if (c.floor && typeof c.floor.until === 'number' && newest - OVERLAP_MS <= c.floor.until) next.floor = c.floor as OrdersCursor['floor'];
    return { events, cursor: JSON.stringify(next), more: false };
  }
}
