/**
 * Checks a hook call from Adobe Commerce Webhooks, over its raw bytes, and never throws:
 * 1. the static `x-webhook-token` header every hook of ours is configured with (webhooks.xml
 *    `<headers>`, README.md) equals the channel's `webhookSecret`, compared in constant time;
 * 2. `x-adobe-commerce-webhook-signature` is Commerce's signature: base64 of an RSA-SHA256
 *    signature, by the instance's private key, over the **base64 of the body** (Adobe's
 *    "Webhooks signature verification" page and its Node.js example), checked with the public key
 *    from Stores > Configuration > Adobe Services > Webhooks (`webhookPublicKey` setting);
 * 3. the signed body names this store: `store_url` (the hook field configured from
 *    `web/secure/base_url`) must be the channel's `storeUrl` (refused as `account` otherwise);
 * 4. the topic is what the signed body is (`data.order`, `data.creditmemo`, `data.sourceItems`):
 *    no topic travels outside the signature.
 * The event id: `order-<entity_id>@<updated_at>~<digest>` (event-ids.ts `orderEventId`, the same
 * id the orders feed gives that version of the order, so a hook and a poll are stored once),
 * `creditmemo-<entity_id>`, and for source items a digest of the body (Commerce numbers no hook call).
 */
import crypto from 'node:crypto';
import { headerValue, type Headers, type VerifyResult } from '../types';
import { orderEventId } from './event-ids';
import { ADOBE_TOPICS, DATA_KEY, magentoId, magentoIso, type AdobeTopic } from './translate';

export const SIGNATURE_HEADER = 'x-adobe-commerce-webhook-signature';
export const TOKEN_HEADER = 'x-webhook-token';

/** "https://Shop.example.com/" and "https://shop.example.com" name the same store. */
export function normaliseStoreUrl(v: unknown): string | null {
  if (typeof v !== 'string' || v.trim() === '') return null;
  try {
    const u = new URL(v.trim());
    return `${u.protocol}//${u.host.toLowerCase()}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return null;
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b) && given.length === expected.length;
}

function rsaValid(raw: Buffer, signature: string, publicKey: string): boolean {
  try {
    const verifier = crypto.createVerify('SHA256');
    verifier.update(raw.toString('base64'));
    return verifier.verify(publicKey, signature, 'base64');
  } catch {
    return false;
  }
}

export function verifyAdobeHook(raw: Buffer, headers: Headers, opts: { secret: string | undefined; publicKey: string | undefined; storeUrl: string | undefined }): VerifyResult {
  try {
    const token = headerValue(headers, TOKEN_HEADER);
    const signature = headerValue(headers, SIGNATURE_HEADER);
    if (!opts.secret || !opts.publicKey) return { valid: false, reason: 'Adobe Commerce hooks are not set up for this channel (its webhookSecret credential and webhookPublicKey setting are both needed).', refusal: 'signature' };
    if (!token || !sameSecret(token, opts.secret)) return { valid: false, reason: `The ${TOKEN_HEADER} header is missing or is not this channel's webhookSecret.`, refusal: 'signature' };
    if (!signature || !rsaValid(raw, signature, opts.publicKey)) return { valid: false, reason: `The ${SIGNATURE_HEADER} signature is missing or does not match the body and this channel's webhookPublicKey.`, refusal: 'signature' };
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return { valid: false, reason: 'The signed body is not JSON.', refusal: 'topic' };
    }
    const b = body as { data?: unknown; store_url?: unknown } | null;
    const ours = normaliseStoreUrl(opts.storeUrl);
    const theirs = normaliseStoreUrl(b?.store_url);
    if (!theirs) return { valid: false, reason: 'The hook names no store (store_url); configure the store_url field as README.md says.', refusal: 'account' };
    if (!ours || theirs !== ours) return { valid: false, reason: `The hook comes from ${theirs}, not from this channel's store (${ours ?? 'no storeUrl setting'}).`, refusal: 'account' };
    const data = b?.data;
    const topics = typeof data === 'object' && data !== null && !Array.isArray(data) ? ADOBE_TOPICS.filter((t) => DATA_KEY[t] in data) : [];
    if (topics.length !== 1) return { valid: false, reason: 'The signed body carries none (or more than one) of data.order, data.creditmemo and data.sourceItems.', refusal: 'topic' };
    const topic: AdobeTopic = topics[0]!;
    const obj = (data as Record<string, unknown>)[DATA_KEY[topic]] as Record<string, unknown> | null;
    if (topic === ADOBE_TOPICS[0]) {
      const eventId = obj ? orderEventId(obj) : null;
      if (!eventId) return { valid: false, reason: 'The order has no entity_id or updated_at.', refusal: 'topic' };
      return { valid: true, eventId, topic, occurredAt: magentoIso(obj!.updated_at) };
    }
    if (topic === ADOBE_TOPICS[1]) {
      const id = magentoId(obj?.entity_id);
      if (!id) return { valid: false, reason: 'The credit memo has no entity_id.', refusal: 'topic' };
      return { valid: true, eventId: `creditmemo-${id}`, topic, occurredAt: magentoIso(obj?.created_at) };
    }
    return { valid: true, eventId: `source-items-${crypto.createHash('sha256').update(raw).digest('hex').slice(0, 32)}`, topic, occurredAt: null };
  } catch {
    return { valid: false, reason: 'The hook could not be read.', refusal: 'signature' };
  }
}
