/**
 * Keys and lookups the rules share: a booking key kept within what the ledger and the inbox store,
 * and a record read by its own keys only. Pure (hashing is the only import).
 */
import crypto from 'node:crypto';

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
