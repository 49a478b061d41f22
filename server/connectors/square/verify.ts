/**
 * Square webhook authentication: `x-square-hmacsha256-signature` is
 * base64(HMAC-SHA256(signature key, notification URL + raw body)), where the notification URL is
 * exactly the URL given to Square for the subscription (byte for byte: scheme, host, port, path and
 * query as configured; never rebuilt from the request, which a proxy may have rewritten). The event
 * id, type and time come from the verified body (`event_id`, `type`, `created_at`).
 * Checked over the raw bytes in constant time; never throws.
 *
 * Everything the hub takes from a Square delivery is inside the signed bytes: the event type is the
 * body's `type` (no topic header), the account its `merchant_id`. `verifySquareDelivery`, what the
 * connector runs, also checks that `merchant_id` is the channel's own (setting merchantId).
 */
import crypto from 'node:crypto';
import { headerValue, type Headers, type VerifyResult } from '../types';

export const SIGNATURE_HEADER = 'x-square-hmacsha256-signature';


function digest(raw: Buffer | string, signatureKey: string, notificationUrl: string): Buffer {
  return crypto
    .createHmac('sha256', signatureKey)
    .update(notificationUrl, 'utf8')
    .update(typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw)
    .digest();
}

/** The signature Square would send for this body (used by the emulator and by tests). */
export function signSquareWebhook(raw: Buffer | string, signatureKey: string, notificationUrl: string): string {
  return digest(raw, signatureKey, notificationUrl).toString('base64');
}

/** Whether `signature` is Square's signature of these bytes for this key and URL; constant time. */
export function squareSignatureMatches(raw: Buffer, signature: string, signatureKey: string, notificationUrl: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  const given = Buffer.from(signature, 'base64');
  const expected = digest(raw, signatureKey, notificationUrl);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

export function verifySquareWebhook(raw: Buffer, headers: Headers, signatureKey: string | undefined, notificationUrl: string | undefined): VerifyResult {
  try {
    if (typeof signatureKey !== 'string' || signatureKey === '') {
      return { valid: false, reason: 'No webhook signature key is configured for this Square channel (credential webhookSignatureKey).' };
    }
    if (typeof notificationUrl !== 'string' || notificationUrl === '') {
      return { valid: false, reason: 'No notification URL is configured for this Square channel (setting notificationUrl): Square signs the URL with the body.' };
    }
    if (!Buffer.isBuffer(raw)) return { valid: false, reason: 'The request body was not kept as raw bytes.' };
    const given = headerValue(headers, SIGNATURE_HEADER);
    if (!given) return { valid: false, reason: 'The request has no x-square-hmacsha256-signature header.' };
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(given)) return { valid: false, reason: 'The x-square-hmacsha256-signature header is not base64.' };
    if (!squareSignatureMatches(raw, given, signatureKey, notificationUrl)) {
      return {
        valid: false,
        reason: 'The x-square-hmacsha256-signature does not match the notification URL and body: not sent by Square with this signature key, altered on the way, or the notificationUrl setting differs from the URL configured in the Square Developer Dashboard.',
      };
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return { valid: false, reason: 'The signed Square notification is not JSON.' };
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { valid: false, reason: 'The signed Square notification is not a JSON object.' };
    const b = body as Record<string, unknown>;
    const eventId = typeof b.event_id === 'string' && b.event_id.trim() !== '' ? b.event_id.trim() : null;
    if (!eventId) return { valid: false, reason: 'The Square notification has no event_id, so a redelivery could not be recognised.' };
    const topic = typeof b.type === 'string' && b.type.trim() !== '' ? b.type.trim() : null;
    if (!topic) return { valid: false, reason: 'The Square notification has no type.' };
    const created = typeof b.created_at === 'string' ? Date.parse(b.created_at) : Number.NaN;
    const occurredAt = Number.isNaN(created) ? null : new Date(created).toISOString();
    return { valid: true, eventId, topic, occurredAt };
  } catch {
    return { valid: false, reason: 'The webhook could not be checked.' };
  }
}

/** A Square merchant id as compared: trimmed, upper case (Square's ids are upper-case letters and digits). */
export function normaliseMerchantId(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const id = value.trim().toUpperCase();
  return id === '' ? null : id;
}

/**
 * The whole check of a delivery to a Square channel, as the hub's webhook door runs it: the
 * signature over the notification URL and body (`verifySquareWebhook`), then the account: the signed
 * body's `merchant_id` (Square names the seller in every event) must be the channel's `merchantId`.
 * A webhook subscription belongs to a Square application, which may be authorised by several
 * sellers: its signature key signs the events of all of them. A refusal carries `refusal`
 * (`signature` or `account`) and a reason for the shop owner.
 */
export function verifySquareDelivery(raw: Buffer, headers: Headers, opts: { signatureKey: string | undefined; notificationUrl: string | undefined; merchantId: unknown }): VerifyResult {
  const signed = verifySquareWebhook(raw, headers, opts.signatureKey, opts.notificationUrl);
  if (!signed.valid) return { ...signed, refusal: 'signature' };
  try {
    const ours = normaliseMerchantId(opts.merchantId);
    if (!ours) return { valid: false, refusal: 'account', reason: 'This Square channel has no merchantId setting, so no event can be matched to its seller account.' };
    const body = JSON.parse(raw.toString('utf8')) as { merchant_id?: unknown };
    const named = normaliseMerchantId(body.merchant_id);
    if (!named) return { valid: false, refusal: 'account', reason: 'The Square event names no merchant (merchant_id), and Square names the seller in every event: it cannot be matched to this channel.' };
    if (named !== ours) {
      return {
        valid: false,
        refusal: 'account',
        reason: `The Square event is for merchant ${named.slice(0, 64)}, but this channel is merchant ${ours} (setting merchantId). A Square application authorised by several sellers needs a channel per seller.`,
      };
    }
    return signed;
  } catch {
    return { valid: false, reason: 'The webhook could not be checked.' };
  }
}
