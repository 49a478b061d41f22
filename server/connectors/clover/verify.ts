/**
 * A Clover webhook message, checked over its raw bytes ("Use webhooks", docs.clover.com). Clover
 * does not sign the body: every message carries the app's static Clover Auth Code in
 * `X-Clover-Auth`, which is compared with the channel's `webhookAuthCode` in constant time. The body
 * is `{appId, merchants: {<merchantId>: [{objectId: "O:…" | "P:…" | "I:…", type: "CREATE" | "UPDATE"
 * | "DELETE", ts}]}}`: ids only, so nothing in it is believed beyond which objects to fetch (`expand`
 * reads each from the API; a changed id can only make the hub read another object Clover really has).
 *
 * - The account: a message names merchants; it must name the channel's own (settings.merchantId).
 *   One Clover app has one webhook address for all the merchants that installed it, so a message
 *   may name others too: only the channel's own updates are read (translate), and a message naming
 *   none of the channel's is refused as `account`.
 * - The topic: Clover sends none; it is made from the kinds of object the channel's updates name
 *   (`orders`, `payments`, `inventory`, joined with "+" when a message mixes them).
 * - The event id: Clover sends none; it is a digest of the channel's updates (merchant, object,
 *   type and time), so the same message delivered again has the same id.
 * - The one-time verification POST (`{"verificationCode": "…"}`) sent when the webhook address is
 *   set in Clover's Developer Dashboard carries no auth code: `isVerificationPing` recognises it so
 *   the hub answers 200 and stores nothing (the code is read by a person from the dashboard's log).
 * Never throws.
 */
import crypto from 'node:crypto';
import { headerValue, type Headers, type VerifyResult } from '../types';
import { CLOVER_TOPICS, isObj, topicOf, updatesFor } from './message';

export { CLOVER_TOPICS, updatesFor };

export const AUTH_HEADER = 'x-clover-auth';

/** Whether the body is Clover's one-time verification POST (`{"verificationCode": "…"}` and nothing else). */
export function isVerificationPing(raw: Buffer): boolean {
  try {
    const body = JSON.parse(raw.toString('utf8')) as unknown;
    return isObj(body) && Object.keys(body).length === 1 && typeof body.verificationCode === 'string' && body.verificationCode.length > 0 && body.verificationCode.length <= 100;
  } catch {
    return false;
  }
}

export function verifyCloverMessage(raw: Buffer, headers: Headers, opts: { authCode: string | undefined; merchantId: string | null }): VerifyResult {
  try {
    const code = opts.authCode?.trim();
    if (!code) return { valid: false, reason: 'The channel has no webhookAuthCode (the Clover Auth Code shown on the app\'s Webhooks page once the webhook address is verified); every message is refused until it has.', refusal: 'signature' };
    const given = headerValue(headers, AUTH_HEADER);
    if (!given) return { valid: false, reason: 'No X-Clover-Auth header: Clover sends its auth code with every message.', refusal: 'signature' };
    // Digests of both, so the comparison takes the same time whatever the lengths.
    const a = crypto.createHash('sha256').update(code).digest();
    const b = crypto.createHash('sha256').update(given).digest();
    if (!crypto.timingSafeEqual(a, b)) return { valid: false, reason: 'The X-Clover-Auth code is not this channel\'s Clover Auth Code.', refusal: 'signature' };
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return { valid: false, reason: 'The message carries the auth code but is not JSON.', refusal: 'signature' };
    }
    if (!isObj(body) || typeof body.appId !== 'string' || !isObj(body.merchants)) return { valid: false, reason: 'The message is not a Clover webhook message ({appId, merchants}).', refusal: 'signature' };
    // `fetched` is where expand keeps what it read: a message that brings its own is not Clover's.
    if ('fetched' in body) return { valid: false, reason: 'The message carries a "fetched" field, which Clover never sends.', refusal: 'signature' };
    if (!opts.merchantId) return { valid: false, reason: 'The channel has no merchantId setting, so no message can be checked against its merchant.', refusal: 'account' };
    const names = Object.keys(body.merchants);
    if (names.length === 0) return { valid: false, reason: 'The message names no merchant: every Clover message does.', refusal: 'account' };
    if (!names.includes(opts.merchantId)) return { valid: false, reason: `The message is for Clover merchant ${names.slice(0, 3).join(', ')}, not this channel's merchant ${opts.merchantId}.`, refusal: 'account' };
    const updates = updatesFor(body, opts.merchantId);
    if (updates === null) return { valid: false, reason: 'The message\'s updates for this merchant are not a list of {objectId, type, ts}.', refusal: 'signature' };
    if (updates.length === 0) return { valid: false, reason: 'The message carries no update for this channel\'s merchant.', refusal: 'account' };
    const digest = crypto
      .createHash('sha256')
      .update([opts.merchantId, ...updates.map((u) => `${u.objectId}|${u.type}|${u.ts}`)].join('\n'))
      .digest('base64url')
      .slice(0, 32);
    const latest = Math.max(...updates.map((u) => u.ts));
    return { valid: true, eventId: `clover-${digest}`, topic: topicOf(updates), occurredAt: latest > 0 ? new Date(latest).toISOString() : null };
  } catch (err) {
    return { valid: false, reason: `The message could not be checked: ${(err as Error).message}`, refusal: 'signature' };
  }
}
