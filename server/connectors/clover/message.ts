/**
 * What a Clover webhook message names, read without any check (verify.ts checks it; translate.ts
 * reads the channel's updates from it): the kinds of object, and the updates for one merchant.
 * Pure: nothing here loads more than the message itself.
 */
/** The object kinds the connector reads, by the prefix of `objectId`. */
export const KINDS: Readonly<Record<string, string>> = { O: 'orders', P: 'payments', I: 'inventory' };
export const CLOVER_TOPICS = ['orders', 'payments', 'inventory'] as const;

export interface CloverUpdate {
  objectId: string;
  /** The prefix of `objectId` (`O`, `P`, `I`, or another kind the connector does not read). */
  kind: string;
  /** The id without its prefix. */
  id: string;
  type: string;
  ts: number;
}

type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The updates a message carries for one merchant, or null when it is not a Clover message. */
export function updatesFor(body: unknown, merchantId: string): CloverUpdate[] | null {
  if (!isObj(body) || !isObj(body.merchants)) return null;
  const list = body.merchants[merchantId];
  if (list === undefined) return [];
  if (!Array.isArray(list)) return null;
  const out: CloverUpdate[] = [];
  for (const u of list) {
    if (!isObj(u) || typeof u.objectId !== 'string' || typeof u.type !== 'string') return null;
    const m = /^([A-Z]+):(.+)$/.exec(u.objectId);
    if (!m) return null;
    const ts = typeof u.ts === 'number' && Number.isFinite(u.ts) ? u.ts : 0;
    out.push({ objectId: u.objectId, kind: m[1]!, id: m[2]!, type: u.type, ts });
  }
  return out;
}

/** The topic of a message's updates: the kinds they name, in a fixed order. */
export function topicOf(updates: readonly CloverUpdate[]): string {
  const kinds = CLOVER_TOPICS.filter((t) => updates.some((u) => KINDS[u.kind] === t));
  return kinds.length > 0 ? kinds.join('+') : 'other';
}
