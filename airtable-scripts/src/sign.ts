/**
 * Signs a relay for the hub from an Airtable automation script (Standard Webhooks, same scheme as the
 * sheet add-on), and checks that the hub's answer is signed the same way. Airtable scripts run with
 * Web Crypto (`crypto.subtle`), `btoa` and `atob`.
 */
export interface RelayHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** How far the hub's clock may be from ours when it signs an answer (the hub allows the same for requests). */
export const ANSWER_TOLERANCE_SECONDS = 5 * 60;

type Subtle = typeof crypto.subtle;

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** The HMAC key inside a `whsec_…` secret; the error names the problem, never the secret. */
function secretKey(secret: string): Uint8Array {
  const m = /^whsec_([A-Za-z0-9+/=]+)$/.exec(secret.trim());
  if (!m) throw new Error('The relay secret should start with "whsec_". Copy it again from the hub (data/secrets.json or STOCKRELAY_RELAY_SECRET).');
  return base64ToBytes(m[1]!);
}

/** HMAC-SHA256 of `<id>.<timestamp>.<body>`, as Standard Webhooks signs it. */
async function mac(secret: string, id: string, ts: string, body: string, subtle: Subtle): Promise<Uint8Array> {
  const key = await subtle.importKey('raw', secretKey(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${ts}.${body}`)));
}

export async function signRelay(secret: string, id: string, timestampSeconds: number, body: string, subtle: Subtle = crypto.subtle): Promise<RelayHeaders> {
  const ts = String(Math.floor(timestampSeconds));
  return { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${bytesToBase64(await mac(secret, id, ts, body, subtle))}` };
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
export async function verifyAnswer(
  secret: string,
  requestId: string,
  headers: AnswerHeaders,
  body: string,
  nowSeconds: number,
  subtle: Subtle = crypto.subtle,
): Promise<AnswerVerdict> {
  if (!headers.id || !headers.timestamp || !headers.signature) {
    return { valid: false, code: 'unsigned', reason: 'the answer carries no webhook signature' };
  }
  if (headers.id !== requestId) {
    return { valid: false, code: 'other_request', reason: `the answer is signed for another request (${headers.id.slice(0, 60)})` };
  }
  if (!/^\d{1,12}$/.test(headers.timestamp) || Math.abs(nowSeconds - Number(headers.timestamp)) > ANSWER_TOLERANCE_SECONDS) {
    return { valid: false, code: 'stale', reason: 'the answer’s webhook-timestamp is more than 5 minutes away from this clock' };
  }
  const expected = await mac(secret, requestId, headers.timestamp, body, subtle);
  // Several signatures may be listed, space-separated, while the hub's secret is being rotated.
  for (const part of headers.signature.split(' ')) {
    const [version, value] = part.split(',', 2);
    if (version !== 'v1' || !value) continue;
    let given: Uint8Array;
    try {
      given = base64ToBytes(value);
    } catch {
      continue;
    }
    if (sameBytes(given, expected)) return { valid: true };
  }
  return { valid: false, code: 'bad_signature', reason: 'the answer’s signature does not match the relay secret' };
}
