/**
 * Signs a relay for the hub from an Airtable automation script (Standard Webhooks, same scheme as the
 * sheet add-on), and checks that the hub's answer is signed the same way.
 *
 * Everything is done here, in plain JavaScript: UTF-8 encoding, SHA-256 (FIPS 180-4), HMAC (RFC 2104)
 * and base64 (RFC 4648). Airtable documents `fetch` for automation scripts, but not Web Crypto
 * (`crypto.subtle`), `TextEncoder`, `atob` or `btoa`; a run that relied on them would stop before
 * setting any output where they are missing. The only things used are part of JavaScript itself
 * (typed arrays, `Math`, string methods). The results are checked against Node's own crypto on the
 * published test vectors (RFC 4231, NIST) and on random inputs (test/airtable-scripts/sign.test.ts).
 */
export interface RelayHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** How far the hub's clock may be from ours when it signs an answer (the hub allows the same for requests). */
export const ANSWER_TOLERANCE_SECONDS = 5 * 60;

// --- UTF-8 -------------------------------------------------------------------------------------------

/** The UTF-8 bytes of a string, as TextEncoder gives them: a lone surrogate becomes U+FFFD (EF BF BD). */
export function utf8Encode(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else c = 0xfffd;
    } else if (c >= 0xdc00 && c <= 0xdfff) c = 0xfffd;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return Uint8Array.from(out);
}

// --- SHA-256 (FIPS 180-4) ----------------------------------------------------------------------------

/** The first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
/** The first 32 bits of the fractional parts of the square roots of the first 8 primes. */
const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));

/** The SHA-256 digest (32 bytes) of `data`. */
export function sha256(data: Uint8Array): Uint8Array {
  const length = data.length;
  // The message, a 1 bit, zeros, and its length in bits (64 bits, big-endian), to a multiple of 64 bytes.
  const padded = new Uint8Array(Math.ceil((length + 9) / 64) * 64);
  padded.set(data);
  padded[length] = 0x80;
  const bitsHigh = Math.floor(length / 0x20000000);
  const bitsLow = (length * 8) % 0x100000000;
  const end = padded.length;
  for (let i = 0; i < 4; i++) {
    padded[end - 8 + i] = (bitsHigh >>> (24 - 8 * i)) & 0xff;
    padded[end - 4 + i] = (bitsLow >>> (24 - 8 * i)) & 0xff;
  }
  const h = H0.slice();
  const w = new Array<number>(64);
  for (let block = 0; block < end; block += 64) {
    for (let t = 0; t < 16; t++) {
      const j = block + 4 * t;
      w[t] = (padded[j]! << 24) | (padded[j + 1]! << 16) | (padded[j + 2]! << 8) | padded[j + 3]!;
    }
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15]!;
      const y = w[t - 2]!;
      const s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3);
      const s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >>> 10);
      w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h as [number, number, number, number, number, number, number, number];
    for (let t = 0; t < 64; t++) {
      const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + S1 + ch + K[t]! + w[t]!) | 0;
      const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (S0 + maj) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + b) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0;
    h[5] = (h[5]! + f) | 0;
    h[6] = (h[6]! + g) | 0;
    h[7] = (h[7]! + hh) | 0;
  }
  const out = new Uint8Array(32);
  for (let i = 0; i < 8; i++) {
    out[4 * i] = (h[i]! >>> 24) & 0xff;
    out[4 * i + 1] = (h[i]! >>> 16) & 0xff;
    out[4 * i + 2] = (h[i]! >>> 8) & 0xff;
    out[4 * i + 3] = h[i]! & 0xff;
  }
  return out;
}

// --- HMAC (RFC 2104) ---------------------------------------------------------------------------------

const BLOCK = 64;

/** HMAC-SHA256 of `message` under `key` (32 bytes). */
export function hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array {
  // A key longer than a block is hashed first; a shorter one is padded with zeros.
  const k = new Uint8Array(BLOCK);
  k.set(key.length > BLOCK ? sha256(key) : key);
  const inner = new Uint8Array(BLOCK + message.length);
  const outer = new Uint8Array(BLOCK + 32);
  for (let i = 0; i < BLOCK; i++) {
    inner[i] = k[i]! ^ 0x36;
    outer[i] = k[i]! ^ 0x5c;
  }
  inner.set(message, BLOCK);
  outer.set(sha256(inner), BLOCK);
  return sha256(outer);
}

// --- Base64 (RFC 4648) -------------------------------------------------------------------------------

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 with padding, as btoa gives it. */
export function base64Encode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? ALPHABET[(n >> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? ALPHABET[n & 63]! : '=';
  }
  return out;
}

/**
 * The bytes of a base64 text, read as atob reads it (the WHATWG "forgiving" decode): spaces are
 * ignored, the padding may be left out; a character outside the alphabet, padding anywhere but at
 * the end, or a length that cannot be base64 throws.
 */
export function base64Decode(text: string): Uint8Array {
  let s = text.replace(/[\t\n\f\r ]/g, '');
  if (s.length % 4 === 0) s = s.replace(/={1,2}$/, '');
  if (s.length % 4 === 1) throw new Error('not base64: wrong length');
  const out: number[] = [];
  let bits = 0;
  let count = 0;
  for (let i = 0; i < s.length; i++) {
    const v = ALPHABET.indexOf(s[i]!);
    if (v < 0) throw new Error('not base64: a character outside the alphabet');
    bits = ((bits << 6) | v) & 0xffffff;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out.push((bits >> count) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

// --- Standard Webhooks -------------------------------------------------------------------------------

/** The HMAC key inside a `whsec_…` secret; the error names the problem, never the secret. */
function secretKey(secret: string): Uint8Array {
  const m = /^whsec_([A-Za-z0-9+/=]+)$/.exec(secret.trim());
  let key: Uint8Array | null = null;
  if (m) {
    try {
      key = base64Decode(m[1]!);
    } catch {
      key = null;
    }
  }
  if (!key || key.length === 0) throw new Error('The relay secret should start with "whsec_" followed by the rest of the secret exactly as the hub gave it. Copy it again from the hub.');
  return key;
}

/** HMAC-SHA256 of `<id>.<timestamp>.<body>`, as Standard Webhooks signs it. */
function mac(secret: string, id: string, ts: string, body: string): Uint8Array {
  return hmacSha256(secretKey(secret), utf8Encode(`${id}.${ts}.${body}`));
}

/** The three headers of a signed relay; throws (with a message for the base owner) for a malformed secret. */
export function signRelay(secret: string, id: string, timestampSeconds: number, body: string): RelayHeaders {
  const ts = String(Math.floor(timestampSeconds));
  return { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${base64Encode(mac(secret, id, ts, body))}` };
}

/** Compares every byte whatever the first difference, so the time taken says nothing about where it is. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** The three headers of an answer, as `Headers.get` gives them (null when absent). */
export interface AnswerHeaders {
  id: string | null;
  timestamp: string | null;
  signature: string | null;
}

export type AnswerVerdict =
  | { valid: true }
  | {
      valid: false;
      /** unsigned: no signature headers; other_request: signed for another webhook-id; stale: timestamp too far off; bad_signature: does not match. */
      code: 'unsigned' | 'other_request' | 'stale' | 'bad_signature';
      reason: string;
    };

/**
 * Checks that an answer comes from the hub holding our relay secret: the hub signs
 * `<request webhook-id>.<its timestamp>.<exact answer text>` with the same key, so a proxy, a captive
 * portal or a mistyped address cannot fake a "202 stored". Never throws for a bad answer; throws only
 * for a malformed secret (which signing the request would have refused first).
 */
export function verifyAnswer(secret: string, requestId: string, headers: AnswerHeaders, body: string, nowSeconds: number): AnswerVerdict {
  if (!headers.id || !headers.timestamp || !headers.signature) {
    return { valid: false, code: 'unsigned', reason: 'the answer carries no webhook signature' };
  }
  if (headers.id !== requestId) {
    return { valid: false, code: 'other_request', reason: `the answer is signed for another request (${headers.id.slice(0, 60)})` };
  }
  if (!/^\d{1,12}$/.test(headers.timestamp) || Math.abs(nowSeconds - Number(headers.timestamp)) > ANSWER_TOLERANCE_SECONDS) {
    return { valid: false, code: 'stale', reason: 'the answer’s webhook-timestamp is more than 5 minutes away from this clock' };
  }
  const expected = mac(secret, requestId, headers.timestamp, body);
  // Several signatures may be listed, space-separated, while the hub's secret is being rotated.
  for (const part of headers.signature.split(' ')) {
    const [version, value] = part.split(',', 2);
    if (version !== 'v1' || !value) continue;
    let given: Uint8Array;
    try {
      given = base64Decode(value);
    } catch {
      continue;
    }
    if (sameBytes(given, expected)) return { valid: true };
  }
  return { valid: false, code: 'bad_signature', reason: 'the answer’s signature does not match the relay secret' };
}
