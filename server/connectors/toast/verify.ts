/**
 * A Toast webhook message, checked over its raw bytes ("Message signing"): `Toast-Signature` is the
 * base64 HMAC-SHA256, keyed with the webhook subscription's secret, of the body followed by the
 * message's timestamp (the body's `timestamp` value), compared in constant time. Toast gives each
 * subscription its own secret (the orders and the stock subscriptions differ), so the channel's
 * `webhookSecret` may hold several, separated by spaces: a message signed with any of them is Toast's.
 *
 * Then the body must be a message: its `guid` (the event's id, what the inbox dedupes on), its
 * `eventType` (inside the signed body: the unsigned `Toast-Event-Type` header is believed only when it
 * agrees), and the restaurant (`details.restaurantGuid`, and the `Toast-Restaurant-External-ID`
 * header when present) must be one of the channel's restaurants: a message for another restaurant
 * signed with the same secret is refused as `account`. Never throws.
 */
import crypto from 'node:crypto';
import { headerValue, type Headers, type VerifyResult } from '../types';

export const SIGNATURE_HEADER = 'toast-signature';
export const EVENT_TYPE_HEADER = 'toast-event-type';
export const RESTAURANT_HEADER = 'toast-restaurant-external-id';

/** The secrets of the channel's webhook subscriptions (space or comma separated). */
export function secretsOf(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter((s) => s !== '');
}

/** The signature Toast puts on a message (the emulator signs with it too). */
export function signToast(raw: Buffer | string, timestamp: string, secret: string): string {
  return crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update(Buffer.concat([Buffer.from(raw), Buffer.from(timestamp, 'utf8')])).digest('base64');
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export function verifyToastDelivery(raw: Buffer, headers: Headers, opts: { secret: string | undefined; restaurants: readonly string[] }): VerifyResult {
  try {
    const secrets = secretsOf(opts.secret);
    if (secrets.length === 0) return { valid: false, reason: 'The channel has no webhookSecret (the secret Toast shows for each webhook subscription); every message is refused until it has.', refusal: 'signature' };
    const given = headerValue(headers, SIGNATURE_HEADER);
    if (!given) return { valid: false, reason: 'No Toast-Signature header.', refusal: 'signature' };
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return { valid: false, reason: 'The message is not JSON, so its timestamp (part of what Toast signs) cannot be read.', refusal: 'signature' };
    }
    if (!isObj(body)) return { valid: false, reason: 'The message is not a JSON object.', refusal: 'signature' };
    const timestamp = typeof body.timestamp === 'string' ? body.timestamp : null;
    if (!timestamp) return { valid: false, reason: 'The message has no timestamp, which Toast signs with the body.', refusal: 'signature' };
    const b = Buffer.from(given, 'utf8');
    const ok = secrets.some((s) => {
      const a = Buffer.from(signToast(raw, timestamp, s), 'utf8');
      return a.length === b.length && crypto.timingSafeEqual(a, b);
    });
    if (!ok) return { valid: false, reason: "The Toast-Signature does not match the body and timestamp signed with this channel's webhook secret.", refusal: 'signature' };
    if (typeof body.guid !== 'string' || body.guid.trim() === '') return { valid: false, reason: 'The message has no guid: it could not be told apart from a redelivery.', refusal: 'signature' };
    const eventType = typeof body.eventType === 'string' ? body.eventType : null;
    if (!eventType) return { valid: false, reason: 'The message has no eventType.', refusal: 'topic' };
    const claimed = headerValue(headers, EVENT_TYPE_HEADER);
    if (claimed !== null && claimed !== eventType) return { valid: false, reason: `The Toast-Event-Type header says ${claimed}, but the signed message is ${eventType}.`, refusal: 'topic' };
    const details = isObj(body.details) ? body.details : {};
    const restaurant = typeof details.restaurantGuid === 'string' && details.restaurantGuid !== '' ? details.restaurantGuid : null;
    if (!restaurant) return { valid: false, reason: 'The message names no restaurant (details.restaurantGuid): every orders and stock message does.', refusal: 'account' };
    const header = headerValue(headers, RESTAURANT_HEADER);
    if (header !== null && header !== restaurant) return { valid: false, reason: `The Toast-Restaurant-External-ID header names restaurant ${header}, but the signed message is for ${restaurant}.`, refusal: 'account' };
    if (opts.restaurants.length === 0) return { valid: false, reason: 'The channel maps no Toast restaurant, so no message can be checked against its restaurants.', refusal: 'account' };
    if (!opts.restaurants.includes(restaurant)) return { valid: false, reason: `The message is for Toast restaurant ${restaurant}, which is not one of this channel's restaurants (${opts.restaurants.join(', ')}).`, refusal: 'account' };
    const occurredAt = Number.isNaN(Date.parse(timestamp)) ? null : new Date(Date.parse(timestamp)).toISOString();
    return { valid: true, eventId: body.guid, topic: eventType, occurredAt };
  } catch (err) {
    return { valid: false, reason: `The message could not be checked: ${(err as Error).message}`, refusal: 'signature' };
  }
}
