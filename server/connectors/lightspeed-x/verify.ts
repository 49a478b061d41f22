/**
 * Lightspeed Retail X-Series webhook deliveries: a form-encoded POST (`application/x-www-form-urlencoded`)
 * whose field `payload` holds the object as JSON; `domain_prefix` and `environment` may be present
 * (docs "Webhooks"). Webhooks sent to OAuth add-ons are signed: `X-Signature:
 * signature=<value>,algorithm=HMAC-SHA256`, the HMAC of the request body keyed with the add-on's
 * client_secret (Vend's webhook guide, "Verification"). The hub checks that signature over the raw
 * bytes, in constant time, and refuses every delivery without it: a webhook a retailer added by hand
 * under /setup/api is not signed, and could be anyone's. Then the account (a `domain_prefix` or
 * `retailer_id` that names another store is refused) and the topic (a `type` field, where sent, must
 * agree with what the payload is). X-Series sends no delivery id: the inbox dedupes on a digest of
 * the signed bytes, so a retry of the same delivery is stored once.
 */
import crypto from 'node:crypto';
import { headerValue, type Headers, type VerifyResult } from '../types';
import { shapeOf } from './translate';

/** Every webhook type X-Series has (its WebhookType enum); the hub reads sale.update and inventory.update. */
export const XS_WEBHOOK_TYPES = ['sale.update', 'product.update', 'customer.update', 'inventory.update', 'register_closure.create', 'consignment.send', 'consignment.receive'] as const;

export const SIGNATURE_HEADER = 'x-signature';

/** `signature=<value>,algorithm=HMAC-SHA256` → its parts; null when it is not that. */
export function parseSignatureHeader(value: string): { signature: string; algorithm: string } | null {
  const parts = new Map<string, string>();
  for (const piece of value.split(',')) {
    const i = piece.indexOf('=');
    if (i <= 0) return null;
    const k = piece.slice(0, i).trim().toLowerCase();
    if (parts.has(k)) return null;
    parts.set(k, piece.slice(i + 1).trim());
  }
  const signature = parts.get('signature');
  const algorithm = parts.get('algorithm');
  return signature && algorithm ? { signature, algorithm } : null;
}

/** The signature a delivery of `raw` carries when signed with `secret`: hex of HMAC-SHA256. */
export function signXs(raw: Buffer | string, secret: string): string {
  return crypto.createHmac('sha256', secret).update(raw).digest('hex');
}

/** Whether `given` is the HMAC, written in hex or base64 (the guide's example shows neither plainly). */
function signatureMatches(given: string, mac: Buffer): boolean {
  const candidates: Buffer[] = [];
  if (/^[0-9a-f]+$/i.test(given) && given.length === mac.length * 2) candidates.push(Buffer.from(given, 'hex'));
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(given)) candidates.push(Buffer.from(given.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
  return candidates.some((c) => c.length === mac.length && crypto.timingSafeEqual(c, mac));
}

type Obj = Record<string, unknown>;

/** The form fields of a delivery, each given once; null when the body is not such a form. */
export function formFields(raw: Buffer): Map<string, string> | null {
  const text = raw.toString('utf8');
  if (!/^[\x20-\x7e]*$/.test(text)) return null;
  const out = new Map<string, string>();
  for (const [k, v] of new URLSearchParams(text)) {
    if (out.has(k)) return null;
    out.set(k, v);
  }
  return out;
}

/** The payload object of a delivery's form; null when absent or not a JSON object. */
export function payloadOf(fields: Map<string, string>): Obj | null {
  const p = fields.get('payload');
  if (p === undefined) return null;
  try {
    const v = JSON.parse(p) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null;
  } catch {
    return null;
  }
}

export interface XsVerifyOptions {
  /** The add-on's client_secret, which signs its webhooks. */
  clientSecret: string | undefined;
  /** The channel's store (settings.domainPrefix). */
  domainPrefix: string;
  /** The channel's retailer id (settings.retailerId), when given. */
  retailerId: string | null;
}

export function verifyXsDelivery(raw: Buffer, headers: Headers, o: XsVerifyOptions): VerifyResult {
  try {
    if (!o.clientSecret) return { valid: false, reason: 'The channel has no clientSecret to check Lightspeed X-Series signatures with.', refusal: 'signature' };
    const header = headerValue(headers, SIGNATURE_HEADER);
    if (!header) return { valid: false, reason: 'The delivery carries no X-Signature header: Lightspeed X-Series signs the webhooks of OAuth add-ons only, so a webhook added by hand under /setup/api (unsigned) is refused; create it through the add-on.', refusal: 'signature' };
    const parsed = parseSignatureHeader(header);
    if (!parsed) return { valid: false, reason: 'The X-Signature header is not "signature=…,algorithm=HMAC-SHA256".', refusal: 'signature' };
    if (parsed.algorithm.toUpperCase() !== 'HMAC-SHA256') return { valid: false, reason: `The X-Signature header names the algorithm ${parsed.algorithm.slice(0, 40)}; the hub checks HMAC-SHA256 only.`, refusal: 'signature' };
    const mac = crypto.createHmac('sha256', o.clientSecret).update(raw).digest();
    if (!signatureMatches(parsed.signature, mac)) return { valid: false, reason: 'The X-Signature does not match the body signed with this channel\'s clientSecret.', refusal: 'signature' };

    const fields = formFields(raw);
    const payload = fields ? payloadOf(fields) : null;
    if (!fields || !payload) return { valid: false, reason: 'The signed body is not a form with a JSON object in its field "payload".', refusal: 'signature' };
    const prefix = fields.get('domain_prefix');
    if (prefix !== undefined && prefix.trim().toLowerCase() !== o.domainPrefix) {
      return { valid: false, reason: `The delivery is for the store "${prefix.slice(0, 64)}", not this channel's "${o.domainPrefix}".`, refusal: 'account' };
    }
    const retailer = typeof payload.retailer_id === 'string' ? payload.retailer_id.trim().toLowerCase() : null;
    if (retailer !== null && o.retailerId !== null && retailer !== o.retailerId) {
      return { valid: false, reason: `The delivery is for the retailer ${retailer.slice(0, 64)}, not this channel's (settings.retailerId).`, refusal: 'account' };
    }
    const shape = shapeOf(payload);
    const type = fields.get('type');
    let topic: string;
    if (type !== undefined) {
      if (!(XS_WEBHOOK_TYPES as readonly string[]).includes(type)) return { valid: false, reason: `The delivery names the type "${type.slice(0, 60)}", which is no X-Series webhook type.`, refusal: 'topic' };
      if ((type === 'sale.update' || type === 'inventory.update' || shape !== null) && shape !== type) {
        return { valid: false, reason: `The delivery says it is ${type}, but its payload is ${shape ?? 'neither a sale nor an inventory record'}.`, refusal: 'topic' };
      }
      topic = type;
    } else if (shape) {
      topic = shape;
    } else {
      return { valid: false, reason: 'The delivery names no type and its payload is neither a sale nor an inventory record.', refusal: 'topic' };
    }
    const digest = crypto.createHash('sha256').update(raw).digest('base64url').slice(0, 32);
    const at = [payload.updated_at, payload.created_at].find((v) => typeof v === 'string' && Number.isFinite(Date.parse(v.replace(' ', 'T'))));
    return { valid: true, eventId: `${topic}:${digest}`, topic, occurredAt: typeof at === 'string' ? new Date(Date.parse(/ /.test(at) ? `${at.replace(' ', 'T')}Z` : at)).toISOString() : null };
  } catch (err) {
    return { valid: false, reason: `The delivery could not be read (${(err as Error).message}).`, refusal: 'signature' };
  }
}
