/**
 * Small things several parts of the hub need the same way: reading a Retry-After header, and
 * cutting a list into requests of a platform's maximum size, request keys, the nesting of a body, a
 * worker loop's idle wait.
 * (Bounded keys and own-property reads are rules of the core: server/core/keys.ts.)
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

/** A platform's answer text as JSON; null when it is empty or not JSON. */
export function jsonOrNull(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
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

/**
 * A worker loop's wait when it found nothing to do: `ms`, or until the wake function it hands to
 * `setWake` is called (new work arrived); the wake function is taken back (`setWake(null)`) once the
 * wait is over.
 */
export async function idle(ms: number, setWake: (wake: (() => void) | null) => void): Promise<void> {
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    setWake(() => {
      clearTimeout(t);
      resolve();
    });
  });
  setWake(null);
}
