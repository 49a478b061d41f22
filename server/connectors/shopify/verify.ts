/**
 * Shopify webhook authentication: `X-Shopify-Hmac-Sha256` is base64(HMAC-SHA256(app client secret,
 * raw body)). Checked over the raw bytes in constant time; never throws.
 */
import crypto from 'node:crypto';
import { headerValue, type Headers, type VerifyResult } from '../types';


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
