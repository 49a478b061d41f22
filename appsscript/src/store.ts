/**
 * JSON kept in document properties, split into chunks: Apps Script allows 9 KB per value and
 * 500 KB per store. A value is written as `<key>#n` (the number of chunks) and `<key>#0…`;
 * each chunk stays under CHUNK_BYTES of UTF-8. Callers serialise access with the document lock.
 */
import type { PropertiesLike } from './gas';

/** Apps Script's limits (bytes of UTF-8): per value and for the whole store. */
export const VALUE_LIMIT = 9 * 1024;
export const STORE_LIMIT = 500 * 1024;
/** Chunk size: under the per-value limit with room to spare. */
export const CHUNK_BYTES = 8 * 1024;
/** What the add-on lets itself use of the store; the rest is headroom for settings. */
export const STORE_BUDGET = 450 * 1024;

export class StorageFullError extends Error {
  constructor(readonly needed: number) {
    super(
      `The document's storage for the add-on is full (${Math.round(needed / 1024)} KB of ${Math.round(STORE_BUDGET / 1024)} KB): ` +
        'the hub has been unreachable for a long time. Reconnect the hub and use "Sync now" to send what is waiting.',
    );
  }
}

export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** Splits text into pieces of at most `max` UTF-8 bytes, never inside a character. */
export function splitUtf8(text: string, max = CHUNK_BYTES): string[] {
  const out: string[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length;
    const width = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    const len = pair ? 2 : 1;
    if (bytes + width > max) {
      out.push(text.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += width;
    i += len;
  }
  out.push(text.slice(start));
  return out;
}

export class ChunkedStore {
  constructor(private readonly props: PropertiesLike) {}

  getString(key: string): string | null {
    return this.props.getProperty(key);
  }

  setString(key: string, value: string): void {
    this.props.setProperty(key, value);
  }

  deleteString(key: string): void {
    this.props.deleteProperty(key);
  }

  /** Reads `key`: two property reads whatever its size (the count, then its one chunk or every property at once). */
  read<T>(key: string, fallback: T): T {
    const n = Number(this.props.getProperty(`${key}#n`) ?? '0');
    if (!n) return fallback;
    const all = n > 1 ? this.props.getProperties() : { [`${key}#0`]: this.props.getProperty(`${key}#0`) };
    let text = '';
    for (let i = 0; i < n; i++) {
      const part = all[`${key}#${i}`];
      if (part === null || part === undefined) return fallback; // a damaged value reads as empty rather than crashing every trigger
      text += part;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      return fallback;
    }
  }

  /** Writes `value`; throws StorageFullError (writing nothing) when it would not fit. */
  write(key: string, value: unknown): void {
    const all = this.props.getProperties();
    const oldCount = Number(all[`${key}#n`] ?? '0');
    const chunks = splitUtf8(JSON.stringify(value));
    const next: Record<string, string> = { [`${key}#n`]: String(chunks.length) };
    chunks.forEach((c, i) => (next[`${key}#${i}`] = c));

    let total = 0;
    for (const [k, v] of Object.entries(all)) {
      const mine = k === `${key}#n` || (k.startsWith(`${key}#`) && /^\d+$/.test(k.slice(key.length + 1)));
      if (!mine) total += utf8Length(k) + utf8Length(v);
    }
    for (const [k, v] of Object.entries(next)) total += utf8Length(k) + utf8Length(v);
    if (total > STORE_BUDGET) throw new StorageFullError(total);

    this.props.setProperties(next);
    for (let i = chunks.length; i < oldCount; i++) this.props.deleteProperty(`${key}#${i}`);
  }

  remove(key: string): void {
    const n = Number(this.props.getProperty(`${key}#n`) ?? '0');
    this.props.deleteProperty(`${key}#n`);
    for (let i = 0; i < n; i++) this.props.deleteProperty(`${key}#${i}`);
  }
}
