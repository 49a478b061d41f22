/**
 * Shopify webhook authentication: `X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(app client secret,
 * raw body)). Checked over the raw bytes in constant time; never throws. `verifyShopifyWebhook`
 * checks the signature only; `verifyShopifyDelivery`, what the connector runs, also checks that the
 * delivery is for the channel's own shop and that the body is what the (unsigned) topic says.
 */
import crypto from 'node:crypto';
import { headerValue, type Headers, type VerifyResult } from '../types';
import { shopifyTopicDisagreement } from './translate';


/** The signature Shopify would send for this body (used by the emulator and by tests of our own). */
export function signShopifyWebhook(raw: Buffer | string, secret: string): string {
  return crypto.createHmac('sha256', secret).update(raw).digest('base64');
}

export function verifyShopifyWebhook(raw: Buffer, headers: Headers, secret: string | undefined): VerifyResult {
  try {
    if (typeof secret !== 'string' || secret === '') {
      return { valid: false, reason: 'No webhook secret is configured for this Shopify channel (credential webhookSecret).' };
    }
    if (!Buffer.isBuffer(raw)) return { valid: false, reason: 'The request body was not kept as raw bytes.' };
    const given = headerValue(headers, 'x-shopify-hmac-sha256');
    if (!given) return { valid: false, reason: 'The request has no X-Shopify-Hmac-Sha256 signature header.' };
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(given)) return { valid: false, reason: 'The X-Shopify-Hmac-Sha256 header is not base64.' };
    const givenBytes = Buffer.from(given, 'base64');
    const expectedBytes = crypto.createHmac('sha256', secret).update(raw).digest();
    if (givenBytes.length !== expectedBytes.length || !crypto.timingSafeEqual(givenBytes, expectedBytes)) {
      return { valid: false, reason: 'The X-Shopify-Hmac-Sha256 signature does not match the body: not sent by Shopify with this app secret, or altered on the way.' };
    }
    const topic = headerValue(headers, 'x-shopify-topic');
    if (!topic) return { valid: false, reason: 'The request has no X-Shopify-Topic header.' };
    const eventId = headerValue(headers, 'x-shopify-event-id') ?? headerValue(headers, 'x-shopify-webhook-id');
    if (!eventId) return { valid: false, reason: 'The request has neither X-Shopify-Event-Id nor X-Shopify-Webhook-Id, so a redelivery could not be recognised.' };
    const triggered = headerValue(headers, 'x-shopify-triggered-at');
    const occurredAt = triggered && !Number.isNaN(Date.parse(triggered)) ? new Date(triggered).toISOString() : null;
    return { valid: true, eventId, topic, occurredAt };
  } catch {
    return { valid: false, reason: 'The webhook could not be checked.' };
  }
}

/**
 * A shop's myshopify domain as compared: lower case, without scheme, path, port or trailing dot
 * ("https://Gallery-Shop.myshopify.com/" → "gallery-shop.myshopify.com"); null when there is none.
 */
export function normaliseShopDomain(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const host = value
    .trim()
    .toLowerCase()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
    .split(/[/?#]/)[0]!
    .replace(/:\d+$/, '')
    .replace(/\.+$/, '');
  return host === '' ? null : host;
}

/**
 * The whole check of a delivery to a Shopify channel, as the hub's webhook door runs it:
 * 1. the HMAC over the raw body (`verifyShopifyWebhook`);
 * 2. the shop: `X-Shopify-Shop-Domain` (sent with every Shopify webhook) must be the channel's own
 *    `shopDomain`. An app's client secret signs the webhooks of every shop the app is installed on,
 *    so a valid HMAC alone does not say which shop a delivery is for;
 * 3. the topic: `X-Shopify-Topic` is not signed, so the body must be what the topic says
 *    (`shopifyTopicDisagreement`). A body that is not a JSON object is left to `translate`, which
 *    refuses it with its reason.
 * A refusal carries `refusal` (`signature`, `account`, `topic`) and a reason for the shop owner.
 */
export function verifyShopifyDelivery(raw: Buffer, headers: Headers, opts: { secret: string | undefined; shopDomain: unknown }): VerifyResult {
  const signed = verifyShopifyWebhook(raw, headers, opts.secret);
  if (!signed.valid) return { ...signed, refusal: 'signature' };
  try {
    const ours = normaliseShopDomain(opts.shopDomain);
    if (!ours) return { valid: false, refusal: 'account', reason: 'This Shopify channel has no shopDomain setting, so no delivery can be matched to its shop.' };
    const named = headerValue(headers, 'x-shopify-shop-domain');
    if (!named) {
      return { valid: false, refusal: 'account', reason: 'The delivery names no shop (no single X-Shopify-Shop-Domain header), and Shopify names the shop in every webhook: it cannot be matched to this channel.' };
    }
    if (normaliseShopDomain(named) !== ours) {
      return {
        valid: false,
        refusal: 'account',
        reason: `The delivery is for the shop ${named.slice(0, 255)}, but this channel is the shop ${ours} (setting shopDomain). If the app is installed on several shops, give each shop a channel of its own and its own webhook address.`,
      };
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return signed;
    }
    const disagreement = shopifyTopicDisagreement(signed.topic, body);
    return disagreement ? { valid: false, refusal: 'topic', reason: disagreement } : signed;
  } catch {
    return { valid: false, reason: 'The webhook could not be checked.' };
  }
}
