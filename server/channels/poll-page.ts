/**
 * A page a connector answered for a polled feed, as the poller (poller.ts) takes it: checked before
 * anything of it is stored (a page the hub cannot use is a PollDataError with the reason, never a
 * partial page or a cursor moved past what was not stored), and each event as the inbox keeps it.
 */
import type { PollResult } from '../connectors/types';
import type { InboxInput } from '../store/types';
import { boundedKey } from '../core/keys';

/** Most events one page may carry: a platform answering more is not paging. */
const MAX_EVENTS_PER_PAGE = 10_000;
/** A cursor is the connector's own text, kept in one database column. */
export const MAX_CURSOR_LENGTH = 1_000_000;

/** A page a connector answered that the hub cannot use; nothing of it is stored. */
export class PollDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PollDataError';
  }
}

/**
 * The page a connector answered, checked before anything is stored: a page the hub cannot use is an
 * error with the reason, never a partial page or a cursor moved past what was not stored.
 */
export function checkPollResult(result: unknown, fromCursor: string | null, where: string): PollResult {
  const bad = (why: string) => new PollDataError(`${where} answered a page the hub cannot use: ${why}. Nothing of it was stored and the feed stays where it was; the hub tries again later.`);
  if (typeof result !== 'object' || result === null) throw bad('it is not an object');
  const r = result as Partial<PollResult>;
  if (!Array.isArray(r.events)) throw bad('it has no list of events');
  if (r.events.length > MAX_EVENTS_PER_PAGE) throw bad(`it has ${r.events.length} events, more than the ${MAX_EVENTS_PER_PAGE} a page may carry`);
  if (typeof r.cursor !== 'string' || r.cursor === '') throw bad('it gives no cursor to ask from next');
  if (r.cursor.length > MAX_CURSOR_LENGTH) throw bad(`its cursor is ${r.cursor.length} characters long, more than the ${MAX_CURSOR_LENGTH} the hub keeps`);
  if (typeof r.more !== 'boolean') throw bad('it does not say whether there is more');
  if (r.more && r.cursor === fromCursor) throw bad('it says there is more but gives the same cursor again, so the next page would be this one');
  r.events.forEach((e: unknown, i) => {
    const n = `event ${i + 1}`;
    if (typeof e !== 'object' || e === null) throw bad(`${n} is not an object`);
    const ev = e as Record<string, unknown>;
    if (typeof ev.eventId !== 'string' || ev.eventId.trim() === '') throw bad(`${n} has no eventId`);
    if (typeof ev.topic !== 'string' || ev.topic === '' || ev.topic.length > 200) throw bad(`${n} has no usable topic`);
    if (ev.body === undefined) throw bad(`${n} has no body`);
    if (ev.occurredAt !== null && ev.occurredAt !== undefined && (typeof ev.occurredAt !== 'string' || Number.isNaN(Date.parse(ev.occurredAt)))) throw bad(`${n} has an occurredAt that is not a time`);
  });
  return r as PollResult;
}

/** A polled event as the inbox keeps a verified webhook: only the two `via` headers tell them apart. */
export function inboxEvent(channelId: string, feed: string, e: PollResult['events'][number]): InboxInput {
  const headers: Record<string, string> = { 'x-stockrelay-channel': channelId, 'x-stockrelay-via': 'poll', 'x-stockrelay-feed': feed };
  if (e.occurredAt) headers['x-stockrelay-occurred-at'] = e.occurredAt;
  return { dedupeKey: boundedKey(`channel:${channelId}:${e.eventId}`), source: 'channel', kind: e.topic, headers, body: JSON.stringify(e.body) };
}
