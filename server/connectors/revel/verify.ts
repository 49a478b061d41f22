/**
 * Checks a Revel webhook delivery over its raw bytes, never throwing:
 * - the signature: `X-Revel-Signature` is the hex HMAC-SHA1 of the body with the shared secret
 *   Revel gave when the webhook was set up (the credential `webhookSecret`), compared in constant
 *   time; a delivery without it, or with any other value, is refused and nothing is stored;
 * - the account: Revel signs every client's deliveries to a partner's endpoint with the same secret
 *   and names the client in `X-Revel-Instance`, so a delivery must name the channel's own instance
 *   (its `subdomain`) or is refused as another account's;
 * - the topic: `X-Revel-Event-Type` travels outside the signature, so it is believed only when the
 *   signed body is what that event sends (an order for `order.finalized`, a stock status for
 *   `inout.stock`).
 * The event id is the topic and a digest of the signed body: the same delivery sent again (Revel
 * retries a delivery that was not answered 2xx) has the same id and is stored once.
 */
import crypto from 'node:crypto';
import { headerValue, type Headers, type VerifyResult } from '../types';
import { EVENT_TYPE_HEADER, INOUT_STOCK, INSTANCE_HEADER, isoOf, isRow, ORDER_FINALIZED, PING_BODY, SIGNATURE_HEADER } from './wire';

/** Hex HMAC-SHA1 of the raw body with the shared secret: what `X-Revel-Signature` carries. */
export function revelSignature(secret: string, raw: Buffer | string): string {
  return crypto.createHmac('sha1', secret).update(raw).digest('hex');
}


/** What the body of each of our topics must be; another Revel topic is taken as it comes (it books nothing). */
function bodyFits(topic: string, body: Record<string, unknown>): boolean {
  if (topic === ORDER_FINALIZED) return isRow(body.orderInfo) && Array.isArray(body.items);
  if (topic === INOUT_STOCK) return typeof body.instock === 'boolean' && body.id !== undefined && !('orderInfo' in body);
  return !('orderInfo' in body) && !('instock' in body);
}

function parse(raw: Buffer): Record<string, unknown> | null {
  try {
    const v = JSON.parse(raw.toString('utf8')) as unknown;
    return isRow(v) ? v : null;
  } catch {
    return null;
  }
}

export function verifyRevel(raw: Buffer, headers: Headers, secret: string, instance: string): VerifyResult {
  try {
    const given = headerValue(headers, SIGNATURE_HEADER);
    if (!given) return { valid: false, reason: 'The delivery carries no X-Revel-Signature: it is not from Revel.', refusal: 'signature' };
    const expected = Buffer.from(revelSignature(secret, raw), 'utf8');
    const got = Buffer.from(given.toLowerCase(), 'utf8');
    if (got.length !== expected.length || !crypto.timingSafeEqual(got, expected)) {
      return { valid: false, reason: 'X-Revel-Signature does not match the body signed with this channel\'s webhook secret: the body was changed, or the secret is another one.', refusal: 'signature' };
    }
    const named = headerValue(headers, INSTANCE_HEADER);
    if (!named) return { valid: false, reason: 'The delivery names no Revel instance (X-Revel-Instance), so it cannot be told to be this channel\'s.', refusal: 'account' };
    if (named.toLowerCase() !== instance) return { valid: false, reason: `The delivery is for the Revel instance "${named}", not this channel's ("${instance}").`, refusal: 'account' };
    const body = parse(raw);
    if (!body) return { valid: false, reason: 'The delivery is signed but its body is not a JSON object.' };
    const claimed = headerValue(headers, EVENT_TYPE_HEADER);
    const topic = claimed ?? (isRow(body.orderInfo) ? ORDER_FINALIZED : typeof body.instock === 'boolean' ? INOUT_STOCK : null);
    if (topic === 'ping') return { valid: false, reason: 'This is Revel\'s readiness test (ping): it carries no event, and nothing is stored.' };
    if (!topic) return { valid: false, reason: 'The delivery names no event type (X-Revel-Event-Type) and its body is neither an order nor a stock status.', refusal: 'topic' };
    if (!bodyFits(topic, body)) return { valid: false, reason: `The delivery says it is "${topic}", but its signed body is not what Revel sends for that event.`, refusal: 'topic' };
    const digest = crypto.createHash('sha256').update(raw).digest('hex').slice(0, 32);
    const info = isRow(body.orderInfo) ? body.orderInfo : null;
    const occurredAt = info ? (isoOf(info.updated_date) ?? isoOf(info.created_date)) : null;
    return { valid: true, eventId: `${topic}:${digest}`, topic, occurredAt };
  } catch (err) {
    return { valid: false, reason: `The delivery could not be checked (${(err as Error).message}).` };
  }
}

/** Revel's readiness test when a webhook is set up: event type `ping`, body `{"ping": "pong"}`; answered 200, nothing stored. */
export function isRevelPing(raw: Buffer, headers: Headers): boolean {
  if (headerValue(headers, EVENT_TYPE_HEADER) !== 'ping') return false;
  const body = parse(raw);
  return body !== null && Object.keys(body).length === 1 && body.ping === PING_BODY.ping;
}
