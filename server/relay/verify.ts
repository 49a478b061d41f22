/**
 * Relay authentication: the Standard Webhooks scheme (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), verified by the
 * `standardwebhooks` library over the raw body bytes, 5-minute tolerance, constant-time comparison.
 * Verification never throws: it returns why a request was refused.
 */
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

export type VerifyResult =
  | { valid: true; id: string; timestamp: number; /** Signs the hub's answer with the secret that verified the request. */ signAnswer: (body: string, at: Date) => Record<string, string> }
  | { valid: false; code: 'missing_signature' | 'bad_signature' | 'stale_timestamp' | 'bad_headers'; reason: string };

/** The longest webhook-id a relay may carry (docs/security.md). */
export const MAX_WEBHOOK_ID = 200;

const header = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export class RelayVerifier {
  private readonly hooks: Webhook[];

  /** `secrets`: the current secret first; older ones are still accepted while senders are updated. */
  constructor(secrets: string[]) {
    if (secrets.length === 0) throw new Error('RelayVerifier needs at least one secret');
    this.hooks = secrets.map((s) => new Webhook(s));
  }

  verify(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): VerifyResult {
    const id = header(headers, 'webhook-id');
    const ts = header(headers, 'webhook-timestamp');
    const sig = header(headers, 'webhook-signature');
    if (!id || !ts || !sig) {
      return { valid: false, code: 'missing_signature', reason: 'The request is not signed: webhook-id, webhook-timestamp and webhook-signature headers are required.' };
    }
    if (id.length > MAX_WEBHOOK_ID || !/^[\x21-\x7e]+$/.test(id)) {
      return { valid: false, code: 'bad_headers', reason: `webhook-id must be 1 to ${MAX_WEBHOOK_ID} printable characters without spaces.` };
    }
    // Digits only: the library reads the time with parseInt, so "1767225600abc" would pass for 1767225600.
    if (!/^\d{1,12}$/.test(ts)) {
      return { valid: false, code: 'bad_headers', reason: 'webhook-timestamp must be the signing time in whole seconds since 1970, digits only (like 1767225600).' };
    }
    let lastError = 'No matching signature found';
    for (const hook of this.hooks) {
      try {
        hook.verify(rawBody, { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig }, { jsonParse: false });
        return { valid: true, id, timestamp: Number(ts), signAnswer: (body, at) => answerHeaders(hook, id, body, at) };
      } catch (err) {
        lastError = err instanceof WebhookVerificationError || err instanceof Error ? err.message : String(err);
        if (/timestamp/i.test(lastError)) {
          return {
            valid: false,
            code: 'stale_timestamp',
            reason: `webhook-timestamp is more than 5 minutes away from the hub's clock (${lastError.toLowerCase()}); check the sender's clock or resend.`,
          };
        }
        if (/header/i.test(lastError)) return { valid: false, code: 'bad_headers', reason: `The signature headers cannot be read (${lastError}).` };
      }
    }
    return { valid: false, code: 'bad_signature', reason: 'The signature does not match: the relay secret on the sender differs from the hub’s, or the body was changed on the way.' };
  }
}

/**
 * The hub's answer to a verified relay is signed the same way, over the request's webhook-id, the
 * hub's time and the exact answer text: a client (the Airtable scripts) can tell a real answer from
 * one made up on the way (a proxy, a captive portal, a mistyped address).
 */
function answerHeaders(hook: Webhook, id: string, body: string, at: Date): Record<string, string> {
  return { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': hook.sign(id, at, body) };
}

/** Signs a body the way the add-on and the Airtable scripts do; used by our own clients and tests. */
export function signRelay(secret: string, id: string, body: string, at: Date = new Date()): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}
