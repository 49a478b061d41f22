/**
 * Wix webhook authentication. Wix POSTs every webhook as a JSON Web Token: the whole request body is
 * `base64url(header).base64url(payload).base64url(signature)`, signed RS256 by Wix and checked with
 * the app's public key (app dashboard → Webhooks → "Get Public Key"). There is no signature header:
 * everything the hub takes from a delivery is inside the signed token.
 *
 * The verified payload is an envelope `{data, iat, exp}` whose `data` is a JSON string
 * `{eventType, instanceId, data, identity}`; its own `data` is again a JSON string: the event
 * (`{id, entityFqdn, slug, entityId, eventTime, createdEvent | updatedEvent | actionEvent}` for the
 * standard events; the bare payload for legacy ones, which carry no event id).
 *
 * Checked with Node's own `crypto.verify` (RSASSA-PKCS1-v1_5 with SHA-256), synchronously, over the
 * raw bytes; never throws. `jose` is not used: `Connector.verify` is synchronous and jose only
 * verifies asynchronously (and its v6 is ESM-only, while the hub compiles to CommonJS).
 */
import crypto from 'node:crypto';
import type { Headers, VerifyResult } from '../types';
import { obj, parseJson } from './body';

export { wixBody, type WixBody } from './body';

/** What a verified delivery says: the envelope's fields and the event inside it. */
export interface WixDelivery {
  eventType: string;
  instanceId: string;
  /** The event (`data` parsed), or null when it is not a JSON object. */
  event: Record<string, unknown> | null;
  /** The `data` string as signed, for an id of the legacy events that carry none. */
  dataText: string;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function b64url(part: string): Buffer | null {
  return B64URL.test(part) ? Buffer.from(part, 'base64url') : null;
}

/** The app's public key from a PEM (or a PEM with its line breaks written as `\n`), or null. */
export function publicKeyOf(value: string | undefined | null): crypto.KeyObject | null {
  if (typeof value !== 'string' || value.trim() === '') return null;
  try {
    const pem = value.includes('\\n') ? value.replace(/\\n/g, '\n') : value;
    const key = crypto.createPublicKey(pem.trim());
    return key.asymmetricKeyType === 'rsa' ? key : null;
  } catch {
    return null;
  }
}

/** Signs a payload as Wix signs a webhook (the emulator and tests use it). */
export function signWixJwt(payload: Record<string, unknown>, privateKey: crypto.KeyObject | string): string {
  const head = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const sig = crypto.sign('sha256', Buffer.from(`${head}.${body}`), privateKey).toString('base64url');
  return `${head}.${body}.${sig}`;
}

type Checked = { ok: true; delivery: WixDelivery; iat: number | null } | { ok: false; reason: string };

/** The token's signature, then its envelope; nothing of the payload is believed before the signature. */
export function checkWixJwt(raw: Buffer, key: crypto.KeyObject, nowSeconds: number): Checked {
  const text = raw.toString('utf8').trim();
  const parts = text.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'The Wix delivery is not a JSON Web Token (Wix sends each webhook as a signed JWT).' };
  const [h, p, s] = parts as [string, string, string];
  const headBytes = b64url(h);
  const sig = b64url(s);
  if (!headBytes || !sig || !B64URL.test(p) || sig.length === 0) return { ok: false, reason: 'The Wix delivery is not a signed JSON Web Token.' };
  const header = obj(parseJson(headBytes.toString('utf8')));
  if (!header || header.alg !== 'RS256') return { ok: false, reason: 'The Wix token is not signed RS256, the only algorithm Wix uses.' };
  if (!crypto.verify('sha256', Buffer.from(`${h}.${p}`), key, sig)) {
    return { ok: false, reason: 'The Wix token\'s signature does not match the app\'s public key: not sent by Wix for this app, altered on the way, or the webhookPublicKey is another app\'s.' };
  }
  const payload = obj(parseJson(Buffer.from(p, 'base64url').toString('utf8')));
  if (!payload) return { ok: false, reason: 'The signed Wix token has no JSON payload.' };
  if (typeof payload.exp === 'number' && payload.exp < nowSeconds - 300) return { ok: false, reason: 'The Wix token has expired.' };
  if (typeof payload.data !== 'string') return { ok: false, reason: 'The signed Wix token has no data.' };
  const envelope = obj(parseJson(payload.data));
  if (!envelope) return { ok: false, reason: 'The data of the signed Wix token is not a JSON object.' };
  const eventType = typeof envelope.eventType === 'string' ? envelope.eventType.trim() : '';
  if (!eventType) return { ok: false, reason: 'The signed Wix event names no eventType.' };
  const instanceId = typeof envelope.instanceId === 'string' ? envelope.instanceId.trim() : '';
  const dataText = typeof envelope.data === 'string' ? envelope.data : '';
  const event = obj(parseJson(dataText));
  return { ok: true, delivery: { eventType, instanceId, event, dataText }, iat: typeof payload.iat === 'number' ? payload.iat : null };
}

/** The event id: Wix's own (`id`), or for a legacy event without one, a digest of the signed event. */
export function wixEventId(d: WixDelivery): string {
  const id = d.event && typeof d.event.id === 'string' && d.event.id.trim() !== '' ? d.event.id.trim() : null;
  if (id) return id;
  return `sha256:${crypto.createHash('sha256').update(`${d.eventType}\u0000${d.instanceId}\u0000${d.dataText}`).digest('hex')}`;
}

/** When the event happened, as Wix says (`eventTime`, or a legacy event's `updatedDate`). */
export function wixEventTime(d: WixDelivery): string | null {
  const t = d.event ? (d.event.eventTime ?? d.event.updatedDate) : null;
  const ms = typeof t === 'string' ? Date.parse(t) : Number.NaN;
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/**
 * The whole check of a delivery to a Wix channel: the token's signature with the app's public key,
 * then the account: the signed `instanceId` must be the channel's `instanceId` setting (one app
 * signs the events of every site it is installed on with the same key). The headers carry nothing
 * Wix signs and are not read.
 */
export function verifyWixDelivery(raw: Buffer, _headers: Headers, opts: { publicKey: string | undefined; instanceId: string; clock?: () => Date }): VerifyResult {
  try {
    const key = publicKeyOf(opts.publicKey);
    if (!key) return { valid: false, refusal: 'signature', reason: 'No usable Wix public key is configured for this channel (credential webhookPublicKey: the RSA public key in PEM form from the app dashboard).' };
    if (!Buffer.isBuffer(raw)) return { valid: false, refusal: 'signature', reason: 'The request body was not kept as raw bytes.' };
    const now = Math.floor((opts.clock?.() ?? new Date()).getTime() / 1000);
    const checked = checkWixJwt(raw, key, now);
    if (!checked.ok) return { valid: false, refusal: 'signature', reason: checked.reason };
    const d = checked.delivery;
    if (!d.instanceId) return { valid: false, refusal: 'account', reason: 'The Wix event names no instanceId, and Wix names the site (app instance) in every event: it cannot be matched to this channel.' };
    if (d.instanceId !== opts.instanceId) {
      return {
        valid: false,
        refusal: 'account',
        reason: `The Wix event is for app instance ${d.instanceId.slice(0, 64)}, but this channel is instance ${opts.instanceId} (setting instanceId): the app is installed on another site too, which needs a channel of its own.`,
      };
    }
    if (!d.event) return { valid: false, refusal: 'signature', reason: 'The signed Wix event carries no event data.' };
    return { valid: true, eventId: wixEventId(d), topic: d.eventType, occurredAt: wixEventTime(d) };
  } catch {
    return { valid: false, reason: 'The webhook could not be checked.' };
  }
}
