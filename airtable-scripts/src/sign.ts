/**
 * Signs a relay for the hub from an Airtable automation script (Standard Webhooks, same scheme as the
 * sheet add-on). Airtable scripts run with Web Crypto (`crypto.subtle`), `btoa` and `atob`.
 */
export interface RelayHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

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

export async function signRelay(secret: string, id: string, timestampSeconds: number, body: string, subtle: typeof crypto.subtle = crypto.subtle): Promise<RelayHeaders> {
  const m = /^whsec_([A-Za-z0-9+/=]+)$/.exec(secret.trim());
  if (!m) throw new Error('The relay secret should start with "whsec_". Copy it again from the hub (data/secrets.json or STOCKRELAY_RELAY_SECRET).');
  const key = await subtle.importKey('raw', base64ToBytes(m[1]!), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const ts = String(Math.floor(timestampSeconds));
  const mac = new Uint8Array(await subtle.sign('HMAC', key, new TextEncoder().encode(`${id}.${ts}.${body}`)));
  return { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${bytesToBase64(mac)}` };
}
