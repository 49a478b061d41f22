/**
 * Signs a relay for the hub (Standard Webhooks: `v1,` + base64 HMAC-SHA256 of "id.timestamp.body",
 * keyed by the base64 part of the `whsec_` relay secret). Apps Script has no Web Crypto, so the HMAC
 * comes from `Utilities`, passed in: the bundle gives the real one, tests give a Node-backed fake.
 */

/** The part of Apps Script's `Utilities` service this needs (bytes are signed, -128..127). */
export interface UtilitiesLike {
  base64Decode(encoded: string): number[];
  base64Encode(data: number[]): string;
  computeHmacSha256Signature(value: number[], key: number[]): number[];
  newBlob(data: string): { getBytes(): number[] };
}

export interface RelayHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** The secret's key bytes; throws a message a shop owner can act on when the secret is mistyped. */
export function relayKey(secret: string, u: UtilitiesLike): number[] {
  const m = /^whsec_([A-Za-z0-9+/=]+)$/.exec(secret.trim());
  if (!m) throw new Error('The relay secret should start with "whsec_". Copy it again from the hub (data/secrets.json or STOCKRELAY_RELAY_SECRET).');
  return u.base64Decode(m[1]!);
}

export function signRelay(secret: string, id: string, timestampSeconds: number, body: string, u: UtilitiesLike): RelayHeaders {
  const ts = String(Math.floor(timestampSeconds));
  const mac = u.computeHmacSha256Signature(u.newBlob(`${id}.${ts}.${body}`).getBytes(), relayKey(secret, u));
  return { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${u.base64Encode(mac)}` };
}
