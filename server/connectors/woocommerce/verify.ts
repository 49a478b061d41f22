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
 * Checked over the raw bytes in constant time; never throws. `verifyWooWebhook` checks the
 * signature only; `verifyWooDelivery`, what the connector runs, also checks that the delivery comes
 * from the channel's own store (X-WC-Webhook-Source) and that the body is what the topic says.
 */
import crypto from 'node:crypto';
import { headerValue, type Headers, type VerifyResult } from '../types';
import { wooTopicDisagreement } from './translate';


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

/**
 * A store address as compared: host in lower case without a leading "www.", a port only when it is
 * not 80 or 443, the path without trailing slashes, in lower case; scheme, query and fragment left
 * out ("https://WWW.Shop.example.com/" and "http://shop.example.com" are the same store). Null when
 * it is not an http(s) address.
 */
export function normaliseStoreAddress(value: unknown): string | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  const s = value.trim();
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `https://${s}`);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const host = url.hostname.toLowerCase().replace(/\.+$/, '').replace(/^www\./, '');
  if (host === '') return null;
  const port = url.port === '' || url.port === '80' || url.port === '443' ? '' : `:${url.port}`;
  return `${host}${port}${url.pathname.replace(/\/+$/, '').toLowerCase()}`;
}

/**
 * The whole check of a delivery to a WooCommerce channel, as the hub's webhook door runs it:
 * 1. the signature over the raw body (`verifyWooWebhook`);
 * 2. the store: X-WC-Webhook-Source (home_url('/'), sent with every delivery since WooCommerce 2.6)
 *    must be the channel's own store address, `storeUrl` (the setting, else the channel's baseUrl);
 * 3. the topic: the X-WC-Webhook-* headers are not signed, so the body must be what the topic says
 *    (`wooTopicDisagreement`). A body that is not a JSON object is left to `translate`.
 * A refusal carries `refusal` (`signature`, `account`, `topic`) and a reason for the shop owner.
 */
export function verifyWooDelivery(raw: Buffer, headers: Headers, opts: { secret: string | undefined; storeUrl: unknown }): VerifyResult {
  const signed = verifyWooWebhook(raw, headers, opts.secret);
  if (!signed.valid) return { ...signed, refusal: 'signature' };
  try {
    const ours = normaliseStoreAddress(opts.storeUrl);
    if (!ours) return { valid: false, refusal: 'account', reason: 'This WooCommerce channel has no store address (baseUrl or the setting storeUrl), so no delivery can be matched to its store.' };
    const named = headerValue(headers, 'x-wc-webhook-source');
    if (!named) {
      return { valid: false, refusal: 'account', reason: 'The delivery names no store (no single X-WC-Webhook-Source header), and WooCommerce names its store in every delivery: it cannot be matched to this channel.' };
    }
    if (normaliseStoreAddress(named) !== ours) {
      return {
        valid: false,
        refusal: 'account',
        reason: `The delivery comes from the store ${named.slice(0, 255)}, but this channel is the store ${ours}. If it is the same store under another address, set the channel's storeUrl setting to the address WordPress calls its Site Address (home); otherwise give that store a channel of its own, with its own webhook address and secret.`,
      };
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      body = undefined;
    }
    const disagreement = wooTopicDisagreement(signed.topic, body, headers);
    return disagreement ? { valid: false, refusal: 'topic', reason: disagreement } : signed;
  } catch {
    return { valid: false, reason: 'The webhook could not be checked.' };
  }
}
