/**
 * BigCommerce webhook authentication: BigCommerce signs its HTTPS webhooks with the Standard
 * Webhooks scheme (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>` of
 * HMAC-SHA256 over `id.timestamp.body`), keyed by the app's client secret: its docs hand the
 * base64 of the client secret to the Standard Webhooks library, which decodes it, so the HMAC key is
 * the client secret's own bytes (https-webhook-overview.mdx). Checked with the `standardwebhooks`
 * library over the raw bytes, constant time, 5 minutes either way of the hub's clock (a replay
 * later than that is refused). Never throws.
 *
 * Everything the hub takes from a delivery is inside the signed bytes: the topic is the body's
 * `scope` (no topic header), the event id its scope and `hash` (the same for an event fired twice,
 * per the docs), the account its `producer` (`stores/{store_hash}`), which must be this channel's store.
 */
import { Webhook } from 'standardwebhooks';
import { headerValue, type Headers, type VerifyResult } from '../types';
import { isObj, normaliseStoreHash } from './http';

/** As BigCommerce's own example does: the base64 of the client secret handed to the library, which decodes it to the key. */
function hookFor(clientSecret: string): Webhook {
  return new Webhook(Buffer.from(clientSecret, 'utf8').toString('base64'));
}

export const SIGNATURE_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

/** The signature headers BigCommerce would send for this body (the emulator and the tests sign with it). */
export function signBigCommerceWebhook(clientSecret: string, id: string, at: Date, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': hookFor(clientSecret).sign(id, at, body),
  };
}

function signatureFailure(raw: Buffer, headers: Headers, clientSecret: string | undefined): string | null {
  if (typeof clientSecret !== 'string' || clientSecret === '') return 'No client secret is configured for this BigCommerce channel (credential clientSecret): it is what BigCommerce signs webhooks with.';
  if (!Buffer.isBuffer(raw)) return 'The request body was not kept as raw bytes.';
  const id = headerValue(headers, 'webhook-id');
  const ts = headerValue(headers, 'webhook-timestamp');
  const sig = headerValue(headers, 'webhook-signature');
  if (!id || !ts || !sig) return 'The request is not signed the way BigCommerce signs webhooks: webhook-id, webhook-timestamp and webhook-signature are required (each once).';
  // Digits only: the library reads the time with parseInt, which would take "1767225600abc".
  if (!/^\d{1,12}$/.test(ts)) return 'The webhook-timestamp is not a time in whole seconds.';
  try {
    hookFor(clientSecret).verify(raw, { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig }, { jsonParse: false });
    return null;
  } catch (err) {
    const why = err instanceof Error ? err.message : '';
    if (/timestamp/i.test(why)) return 'The webhook-timestamp is more than 5 minutes away from the hub’s clock: a replayed or long-delayed delivery (or a wrong clock) is refused.';
    return 'The webhook-signature does not match the body: not sent by BigCommerce with this app’s client secret, or altered on the way.';
  }
}

/**
 * The whole check of a delivery to a BigCommerce channel: the signature, then what the signed body
 * says: a JSON object with a `scope`, a `hash` (the event id) and `data`, for the channel's store.
 */
export function verifyBigCommerceDelivery(raw: Buffer, headers: Headers, opts: { clientSecret: string | undefined; storeHash: string }): VerifyResult {
  try {
    const failed = signatureFailure(raw, headers, opts.clientSecret);
    if (failed) return { valid: false, refusal: 'signature', reason: failed };
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return { valid: false, refusal: 'signature', reason: 'The signed BigCommerce webhook is not JSON.' };
    }
    if (!isObj(body)) return { valid: false, refusal: 'signature', reason: 'The signed BigCommerce webhook is not a JSON object.' };
    const scope = typeof body.scope === 'string' && /^store\/[A-Za-z0-9_*/]{1,120}$/.test(body.scope) ? body.scope : null;
    if (!scope) return { valid: false, refusal: 'signature', reason: 'The BigCommerce webhook has no scope, so what it is about is unknown.' };
    const hash = typeof body.hash === 'string' && /^[A-Za-z0-9]{8,128}$/.test(body.hash) ? body.hash : null;
    if (!hash) return { valid: false, refusal: 'signature', reason: 'The BigCommerce webhook has no hash, so a second delivery of the same event could not be recognised.' };
    if (!isObj(body.data)) return { valid: false, refusal: 'signature', reason: 'The BigCommerce webhook has no data.' };
    const producer = typeof body.producer === 'string' ? /^stores\/(.+)$/.exec(body.producer.trim()) : null;
    const named = producer ? normaliseStoreHash(producer[1]) : null;
    if (!named) return { valid: false, refusal: 'account', reason: 'The BigCommerce webhook names no store (producer "stores/{store_hash}"), and BigCommerce names the store in every webhook: it cannot be matched to this channel.' };
    if (named !== opts.storeHash) {
      return { valid: false, refusal: 'account', reason: `The BigCommerce webhook is for store ${named}, but this channel is store ${opts.storeHash} (setting storeHash). An app installed on several stores needs a channel per store.` };
    }
    const created = typeof body.created_at === 'number' && Number.isFinite(body.created_at) ? new Date(body.created_at * 1000) : null;
    return { valid: true, eventId: `${scope}#${hash}`, topic: scope, occurredAt: created && !Number.isNaN(created.getTime()) ? created.toISOString() : null };
  } catch {
    return { valid: false, reason: 'The webhook could not be checked.' };
  }
}
