/**
 * WooCommerce webhook authentication (WC_Webhook::generate_signature and ::deliver in
 * plugins/woocommerce/includes/class-wc-webhook.php):
 *
 *   X-WC-Webhook-Signature = base64(hash_hmac('sha256', body, wp_specialchars_decode(secret, ENT_QUOTES), raw))
 *
 * where body is the exact bytes sent (trim(wp_json_encode(payload))). The secret is HTML-entity
 * decoded before use, so a secret stored as `a&amp;b` signs with `a&b`; we decode the configured
 * secret the same way (decoding is idempotent for a secret without entities).
 *
 * Delivery headers: X-WC-Webhook-Source (home_url('/')), -Topic, -Resource, -Event, -Signature,
 * -ID (the webhook's id) and -Delivery-ID. The delivery id is wp_hash(webhook id . unix second),
 * so two different deliveries of one webhook within the same second carry the same delivery id;
 * the event id we hand to the inbox is therefore the delivery id plus a digest of the body: a
 * redelivery of the same bytes dedupes, two different events in the same second do not.
 * Checked over the raw bytes in constant time; never throws.
 */
import crypto from 'node:crypto';
import { headerValue, type Headers, type VerifyResult } from '../types';


const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&#038;': '&',
  '&#x26;': '&',
  '&lt;': '<',
  '&#060;': '<',
  '&#x3c;': '<',
  '&gt;': '>',
  '&#062;': '>',
  '&#x3e;': '>',
  '&quot;': '"',
  '&#034;': '"',
  '&#x22;': '"',
  '&#039;': "'",
  '&#39;': "'",
  '&#x27;': "'",
};

/**
 * WordPress `wp_specialchars_decode($s, ENT_QUOTES)`: one pass (strtr), so `&amp;lt;` becomes
 * `&lt;`, not `<`. Hex forms are matched case-insensitively, as WordPress does.
 */
export function wpSpecialcharsDecode(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:amp|lt|gt|quot|#0?38|#x26|#0?60|#x3c|#0?62|#x3e|#0?34|#x22|#0?39|#x27);/gi, (m) => {
    const k = m.toLowerCase();
    if (ENTITIES[k] !== undefined) return ENTITIES[k]!;
    const n = /^&#0?(\d+);$/.exec(k);
    if (n) return String.fromCharCode(Number(n[1]));
    return m;
  });
}

/** The signature WooCommerce sends for this body (used by the emulator and tests). */
export function signWooWebhook(raw: Buffer | string, secret: string): string {
  return crypto.createHmac('sha256', wpSpecialcharsDecode(secret)).update(raw).digest('base64');
}

export function verifyWooWebhook(raw: Buffer, headers: Headers, secret: string | undefined): VerifyResult {
  try {
    if (typeof secret !== 'string' || secret === '') {
      return { valid: false, reason: 'No webhook secret is configured for this WooCommerce channel (credential webhookSecret).' };
    }
    if (!Buffer.isBuffer(raw)) return { valid: false, reason: 'The request body was not kept as raw bytes.' };
    const given = headerValue(headers, 'x-wc-webhook-signature');
    if (!given) {
      return { valid: false, reason: 'The request has no X-WC-Webhook-Signature header (WooCommerce sends an unsigned "webhook_id=…" ping when a webhook is created; it carries no event).' };
    }
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(given)) return { valid: false, reason: 'The X-WC-Webhook-Signature header is not base64.' };
    const givenBytes = Buffer.from(given, 'base64');
    const expectedBytes = crypto.createHmac('sha256', wpSpecialcharsDecode(secret)).update(raw).digest();
    if (givenBytes.length !== expectedBytes.length || !crypto.timingSafeEqual(givenBytes, expectedBytes)) {
      return { valid: false, reason: 'The X-WC-Webhook-Signature does not match the body: not sent by this WooCommerce webhook with this secret, or altered on the way.' };
    }
    const topic = headerValue(headers, 'x-wc-webhook-topic');
    if (!topic) return { valid: false, reason: 'The request has no X-WC-Webhook-Topic header.' };
    const delivery = headerValue(headers, 'x-wc-webhook-delivery-id');
    if (!delivery) return { valid: false, reason: 'The request has no X-WC-Webhook-Delivery-ID, so a redelivery could not be recognised.' };
    const digest = crypto.createHash('sha256').update(raw).digest('hex').slice(0, 16);
    return { valid: true, eventId: `${delivery}.${digest}`, topic, occurredAt: null };
  } catch {
    return { valid: false, reason: 'The webhook could not be checked.' };
  }
}

/**
 * WooCommerce's address check: when a webhook is saved active, WC_Webhook::deliver_ping posts the
 * unsigned form body `webhook_id=<id>` (no X-WC-Webhook-* event headers) and shows the owner an
 * error unless the answer is 2xx. It carries no event, so answering it stores nothing.
 */
export function isWooPing(raw: Buffer, headers: Headers): boolean {
  if (!Buffer.isBuffer(raw) || raw.length > 40) return false;
  if (headerValue(headers, 'x-wc-webhook-signature') || headerValue(headers, 'x-wc-webhook-topic')) return false;
  return /^webhook_id=\d{1,20}$/.test(raw.toString('latin1'));
}
