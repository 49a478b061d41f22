/**
 * Checks a delivery of the stockrelay OpenCart extension (protocol.ts), over the raw bytes, in
 * constant time, never throwing:
 * 1. the signature: `X-Stockrelay-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`;
 * 2. the body is a delivery: `id`, `topic`, `created_at`, `store` and `data`, and the unsigned
 *    headers `X-Stockrelay-Event-Id`, `-Topic` and `-Timestamp` repeat what the signed body says
 *    (a topic header that disagrees is refused as `topic`);
 * 3. its age: `created_at` within `maxAgeSeconds` (300 by default) of the hub's clock, so a
 *    delivery captured and sent again later is refused (an event the hub already has is also
 *    deduplicated on its id);
 * 4. the store: `store.url` is the channel's store address (the storeUrl setting, else baseUrl).
 */
import { headerValue, type Headers, type VerifyResult } from '../types';
import { normaliseStoreAddress } from '../woocommerce/verify';
import { HEADER, OC_TOPICS } from './protocol';
import { signOc } from './signing';
import crypto from 'node:crypto';

export interface OcVerifyOptions {
  secret: string | undefined;
  storeUrl: unknown;
  /** Oldest delivery accepted, in seconds (0: no age check). */
  maxAgeSeconds: number;
  now: () => Date;
}

type Refusal = Extract<VerifyResult, { valid: false }>;
const refuse = (refusal: Refusal['refusal'], reason: string): Refusal => ({ valid: false, refusal, reason });

function signatureProblem(raw: Buffer, headers: Headers, secret: string | undefined): string | null {
  if (typeof secret !== 'string' || secret === '') return 'No webhook secret is configured for this OpenCart channel (credential webhookSecret).';
  if (!Buffer.isBuffer(raw)) return 'The request body was not kept as raw bytes.';
  const given = headerValue(headers, HEADER.signature);
  if (!given) return 'The request has no X-Stockrelay-Signature header: it was not sent by the stockrelay OpenCart extension.';
  if (!/^sha256=[0-9a-f]{64}$/i.test(given)) return 'The X-Stockrelay-Signature header is not "sha256=" followed by 64 hex digits.';
  const a = Buffer.from(given.slice(7).toLowerCase(), 'hex');
  const b = Buffer.from(signOc(raw, secret).slice(7), 'hex');
  if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) {
    return 'The X-Stockrelay-Signature does not match the body: not sent by this store\'s stockrelay extension with this secret, or altered on the way.';
  }
  return null;
}

export function verifyOcDelivery(raw: Buffer, headers: Headers, opts: OcVerifyOptions): VerifyResult {
  try {
    const bad = signatureProblem(raw, headers, opts.secret);
    if (bad) return refuse('signature', bad);
    let body: Record<string, unknown>;
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return refuse('signature', 'The signed body is not a JSON object.');
      body = parsed as Record<string, unknown>;
    } catch {
      return refuse('signature', 'The signed body is not JSON.');
    }
    const { id, topic, created_at: createdAt, store } = body;
    if (typeof id !== 'string' || id === '' || id.length > 100) return refuse('signature', 'The signed body has no event id, so a redelivery could not be recognised.');
    if (typeof topic !== 'string' || !(OC_TOPICS as readonly string[]).includes(topic)) return refuse('topic', `The signed body names the topic ${JSON.stringify(topic)}, which the stockrelay extension does not send.`);
    if (typeof createdAt !== 'number' || !Number.isInteger(createdAt) || createdAt <= 0) return refuse('signature', 'The signed body has no created_at (unix seconds).');
    if (headerValue(headers, HEADER.eventId) !== id) return refuse('signature', 'The X-Stockrelay-Event-Id header is not the event id in the signed body.');
    if (headerValue(headers, HEADER.timestamp) !== String(createdAt)) return refuse('signature', 'The X-Stockrelay-Timestamp header is not the created_at in the signed body.');
    const named = headerValue(headers, HEADER.topic);
    if (named !== topic) {
      return refuse('topic', `The X-Stockrelay-Topic header says ${JSON.stringify(named?.slice(0, 100) ?? null)}, but the signed body is a ${topic} event; the header is not signed, so the body is believed and this delivery refused.`);
    }
    const age = Math.floor(opts.now().getTime() / 1000) - createdAt;
    if (opts.maxAgeSeconds > 0 && Math.abs(age) > opts.maxAgeSeconds) {
      return refuse('signature', `The delivery was signed ${age} s ago (created_at ${createdAt}), more than the ${opts.maxAgeSeconds} s allowed: a replay, or the store's clock is wrong.`);
    }
    const ours = normaliseStoreAddress(opts.storeUrl);
    if (!ours) return refuse('account', 'This OpenCart channel has no store address (the setting storeUrl, or baseUrl), so no delivery can be matched to its store.');
    const theirs = typeof store === 'object' && store !== null ? normaliseStoreAddress((store as { url?: unknown }).url) : null;
    if (!theirs) return refuse('account', 'The delivery names no store (store.url), and the extension names its store in every delivery: it cannot be matched to this channel.');
    if (theirs !== ours) {
      return refuse('account', `The delivery comes from the store ${theirs.slice(0, 255)}, but this channel is the store ${ours}. If it is the same store under another address, set the channel's storeUrl setting to the address OpenCart is installed at (HTTP_SERVER); otherwise give that store a channel of its own, with its own secret.`);
    }
    return { valid: true, eventId: id, topic, occurredAt: new Date(createdAt * 1000).toISOString() };
  } catch {
    return { valid: false, reason: 'The webhook could not be checked.' };
  }
}
