/**
 * Checks one Pusher delivery over its raw bytes. Zettle signs only `<timestamp>.<payload>` (the
 * envelope's other fields, `eventName` and `organizationUuid` among them, travel outside the
 * signature), so the account is read from the signed payload and the topic is believed only when the
 * signed payload is what that event carries. Never throws.
 */
import crypto from 'node:crypto';
import { headerValue, type Headers, type VerifyResult } from '../types';
import { SIGNATURE_HEADER, TEST_MESSAGE, UUID, signPusher } from './wire';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The organisation uuid as compared: lower case, trimmed; null when it is not a uuid. */
export function normaliseOrganization(v: unknown): string | null {
  return typeof v === 'string' && UUID.test(v.trim()) ? v.trim().toLowerCase() : null;
}

function parse(raw: Buffer): Obj | null {
  try {
    const o = JSON.parse(raw.toString('utf8')) as unknown;
    return isObj(o) ? o : null;
  } catch {
    return null;
  }
}

/** Whether a signed payload is what its (unsigned) event name says it is. */
function payloadFits(topic: string, p: Obj): boolean {
  if (topic === 'PurchaseCreated') return typeof p.purchaseUuid === 'string' && Array.isArray(p.products);
  if (topic === 'InventoryBalanceChanged') return Array.isArray(p.balanceAfter) && Array.isArray(p.balanceBefore);
  return !('purchaseUuid' in p) && !('balanceAfter' in p);
}

export function verifyZettleDelivery(raw: Buffer, headers: Headers, opts: { signingKey: string | undefined; organizationUuid: string }): VerifyResult {
  try {
    const given = headerValue(headers, SIGNATURE_HEADER);
    if (!given) return { valid: false, reason: `no ${SIGNATURE_HEADER} header`, refusal: 'signature' };
    if (!opts.signingKey) return { valid: false, reason: 'no signing key is configured for this channel', refusal: 'signature' };
    const env = parse(raw);
    if (!env) return { valid: false, reason: 'the body is not a Pusher message (JSON object)', refusal: 'signature' };
    const { payload, timestamp } = env;
    if (typeof payload !== 'string' || typeof timestamp !== 'string') return { valid: false, reason: 'the message has no payload string and timestamp to check the signature over', refusal: 'signature' };
    const want = Buffer.from(signPusher(opts.signingKey, timestamp, payload), 'hex');
    const got = /^[0-9a-f]{64}$/i.test(given) ? Buffer.from(given, 'hex') : Buffer.alloc(0);
    if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) return { valid: false, reason: 'the signature does not match this channel\'s signing key', refusal: 'signature' };
    let p: unknown;
    try {
      p = JSON.parse(payload);
    } catch {
      p = null;
    }
    if (!isObj(p)) return { valid: false, reason: 'signed, but its payload is not a JSON object' };
    // The account: the signed payload names the organisation; an envelope that names another is refused too.
    const org = normaliseOrganization(p.organizationUuid);
    const envOrg = env.organizationUuid === undefined ? org : normaliseOrganization(env.organizationUuid);
    if (org !== opts.organizationUuid || envOrg !== opts.organizationUuid) {
      return { valid: false, reason: `the message is for Zettle organisation ${String(p.organizationUuid ?? env.organizationUuid ?? 'none').slice(0, 40)}, not this channel's`, refusal: 'account' };
    }
    const topic = env.eventName;
    if (typeof topic !== 'string' || topic === '' || topic === TEST_MESSAGE) return { valid: false, reason: 'the message names no event', refusal: 'topic' };
    if (!payloadFits(topic, p)) return { valid: false, reason: `the signed payload is not what a ${topic.slice(0, 40)} event carries`, refusal: 'topic' };
    const id = typeof env.messageUuid === 'string' && env.messageUuid !== '' ? env.messageUuid : typeof env.messageId === 'string' && env.messageId !== '' ? env.messageId : null;
    if (!id) return { valid: false, reason: 'the message has no messageUuid to deduplicate on', refusal: 'signature' };
    const at = Date.parse(timestamp);
    return { valid: true, eventId: id, topic, occurredAt: Number.isFinite(at) ? new Date(at).toISOString() : null };
  } catch (err) {
    return { valid: false, reason: `unreadable delivery (${(err as Error).message})` };
  }
}

/** Zettle's check of a new subscription's address: an unsigned TestMessage that must get a 2xx. */
export function isZettleTestMessage(raw: Buffer): boolean {
  const env = parse(raw);
  return !!env && env.eventName === TEST_MESSAGE && !('messageUuid' in env) && (env.payload === undefined || isObj(env.payload));
}
