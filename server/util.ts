/**
 * Small things several parts of the hub need the same way: reading a Retry-After header, and
 * cutting a list into requests of a platform's maximum size, and idempotency keys.
 */
import crypto from 'node:crypto';

/**
 * A Retry-After header (RFC 9110: seconds, or an HTTP date) in milliseconds from `nowMs`; null when
 * absent or unreadable. A date already past is 0.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | null {
  if (!value) return null;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return Math.ceil(secs * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/** `xs` in consecutive pieces of at most `n`. */
export function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** A deterministic idempotency key shaped like a UUID: the same request always gets the same key. */
export function requestKey(parts: unknown): string {
  const h = crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

/** The longest key the ledger and the inbox keep (movement idempotency keys, event dedupe keys). */
export const MAX_KEY_LENGTH = 200;

/**
 * A key of at most `max` characters that stands for `key`: the key itself when it fits, else its
 * first characters (so it still reads as what it is: `relay:…`, `sale:shopify:…`) and the SHA-256
 * of the whole key. The same key always gives the same bounded key and two different keys never
 * share one, so an id at the longest a door admits (a 200-character webhook-id or Idempotency-Key,
 * with the prefix and suffixes booking adds) is booked once, like any other.
 */
export function boundedKey(key: string, max = MAX_KEY_LENGTH): string {
  if (key.length <= max) return key;
  const digest = crypto.createHash('sha256').update(key, 'utf8').digest('hex');
  return `${key.slice(0, max - digest.length - 1)}~${digest}`;
}

/** `record[key]` when the record has that key of its own; never a property inherited from Object.prototype. */
export function ownValue<V>(record: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * True when JSON text nests objects and arrays deeper than `max`. Read in one pass without
 * recursion, so a body nested 100,000 levels deep is measured without exhausting the stack that
 * parsing it back into an answer (JSON.stringify) would need.
 */
export function nestsDeeper(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
