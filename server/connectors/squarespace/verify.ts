/**
 * A Squarespace webhook notification, checked over its raw bytes ("Verifying notifications"):
 * `Squarespace-Signature` is the lowercase hex HMAC-SHA256 of the raw body keyed with the webhook
 * subscription's secret decoded from hex (the secret "is always a hexadecimal value"), compared in
 * constant time. Then the body must be a notification: its `id` (what the inbox dedupes on), its
 * `topic` (inside the signed body: nothing unsigned can claim another), and its `websiteId`, which
 * must be the channel's own site (settings.websiteId): a notification for another site signed with
 * the same secret is refused as `account`. Never throws.
 */
import crypto from 'node:crypto';
import { headerValue, type Headers, type VerifyResult } from '../types';

export const SIGNATURE_HEADER = 'squarespace-signature';

/**
 * The secret as HMAC key bytes: hex-decoded, as Squarespace's secrets always are hex. A secret that
 * is not hex cannot have come from Squarespace; it is taken as text (the sandbox makes such secrets
 * up for its emulator). Null when there is none.
 */
export function secretBytes(secret: string | undefined): Buffer | null {
  if (!secret || secret.trim() === '') return null;
  const s = secret.trim();
  return /^(?:[0-9a-fA-F]{2})+$/.test(s) ? Buffer.from(s, 'hex') : Buffer.from(s, 'utf8');
}

/** The signature Squarespace puts on a body (the emulator signs with it too). */
export function signSquarespace(raw: Buffer | string, secret: string): string {
  const key = secretBytes(secret);
  if (!key) throw new Error('A Squarespace webhook secret is needed to sign.');
  return crypto.createHmac('sha256', key).update(raw).digest('hex');
}

export function verifySquarespaceDelivery(raw: Buffer, headers: Headers, opts: { secret: string | undefined; websiteId: string | null }): VerifyResult {
  try {
    const key = secretBytes(opts.secret);
    if (!key) return { valid: false, reason: 'The channel has no webhookSecret (the hexadecimal secret Squarespace returned when the webhook subscription was created); every notification is refused until it has.', refusal: 'signature' };
    const given = headerValue(headers, SIGNATURE_HEADER);
    if (!given) return { valid: false, reason: 'No Squarespace-Signature header.', refusal: 'signature' };
    const expected = crypto.createHmac('sha256', key).update(raw).digest('hex');
    const a = Buffer.from(expected, 'utf8');
    const b = Buffer.from(given.toLowerCase(), 'utf8');
    if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) return { valid: false, reason: 'The Squarespace-Signature does not match the body signed with this channel\'s webhook secret.', refusal: 'signature' };
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return { valid: false, reason: 'The notification is signed but is not JSON.', refusal: 'signature' };
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { valid: false, reason: 'The notification is signed but is not a JSON object.', refusal: 'signature' };
    const n = body as Record<string, unknown>;
    if (typeof n.id !== 'string' || n.id.trim() === '') return { valid: false, reason: 'The notification has no id: it could not be told apart from a redelivery.', refusal: 'signature' };
    if (typeof n.topic !== 'string' || n.topic.trim() === '') return { valid: false, reason: 'The notification has no topic.', refusal: 'topic' };
    if (typeof n.websiteId !== 'string' || n.websiteId.trim() === '') return { valid: false, reason: 'The notification names no website (websiteId): every Squarespace notification does.', refusal: 'account' };
    if (!opts.websiteId) return { valid: false, reason: 'The channel has no websiteId setting, so no notification can be checked against its site.', refusal: 'account' };
    if (n.websiteId !== opts.websiteId) return { valid: false, reason: `The notification is for Squarespace site ${n.websiteId}, not this channel's site ${opts.websiteId}.`, refusal: 'account' };
    const createdOn = typeof n.createdOn === 'string' && !Number.isNaN(Date.parse(n.createdOn)) ? n.createdOn : null;
    return { valid: true, eventId: n.id, topic: n.topic, occurredAt: createdOn };
  } catch (err) {
    return { valid: false, reason: `The notification could not be checked: ${(err as Error).message}`, refusal: 'signature' };
  }
}
