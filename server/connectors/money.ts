/**
 * What the three connectors share when they read an order's money (OrderDetails, RefundMoney):
 * amounts become integers of the currency's minor unit through `toMinor` (server/shared/money.ts),
 * never floats. Reading money must never cost a sale: `readOrUndefined` turns any failure while
 * building the details (a missing currency, a malformed amount, an unexpected shape) into
 * `undefined`, and the stock facts are emitted without them.
 *
 * One meaning for the order totals on every platform (`OrderDetails`):
 * - `subtotal`: the goods after line and order discounts, before shipping and before tax — with the
 *   tax inside only where the platform's prices include it (Shopify's `subtotal_price`);
 * - `discount`: every discount taken off the order, a positive amount (already out of `subtotal`);
 * - `tax`, `shipping`: as the platform totals them; `total`: what the buyer is charged.
 * So `total = subtotal + shipping + tax` for tax-exclusive prices, when the platform has no other
 * charge (tips, fees, duties, service charges land in `total` only).
 */
import { isCurrencyCode, toMinor } from '../shared/money';
import type { OrderDetails } from './types';

/** An amount the details need is missing: the details are dropped, the stock facts are kept. */
export class MoneyUnreadable extends Error {
  constructor(what: string) {
    super(`${what} cannot be read.`);
    this.name = 'MoneyUnreadable';
  }
}

/**
 * `build()`, or undefined when it fails for any reason: money parsing never throws past the
 * connector, so a sale, refund or cancellation is still booked (stock) when its money is unreadable.
 */
export function readOrUndefined<T>(build: () => T): T | undefined {
  try {
    return build();
  } catch {
    return undefined;
  }
}

export function currencyOf(v: unknown, what = 'The currency'): string {
  if (!isCurrencyCode(v)) throw new MoneyUnreadable(what);
  return v;
}

/** A decimal amount (string or JSON number) in minor units; missing → MoneyUnreadable, malformed → MoneyError. */
export function minor(v: unknown, currency: string, what: string): number {
  if (typeof v !== 'string' && typeof v !== 'number') throw new MoneyUnreadable(what);
  return toMinor(v, currency);
}

/** As `minor`, but an absent amount (null, undefined, "") is 0: the platform leaves out what is nothing. */
export function minorOrZero(v: unknown, currency: string, what: string): number {
  if (v === null || v === undefined || v === '') return 0;
  return minor(v, currency, what);
}

export function sum(values: number[]): number {
  let total = 0;
  for (const v of values) total += v;
  if (!Number.isSafeInteger(total)) throw new MoneyUnreadable('A total');
  return total;
}

function text(v: unknown): string | null {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

/** The fact with `order` when the details could be read; without the key otherwise (the fact exactly as before money). */
export function withOrder<F extends object>(fact: F, order: OrderDetails | undefined): F & { order?: OrderDetails } {
  return order ? { ...fact, order } : fact;
}

/** "First Last" from the parts the platform gives, or null. */
export function fullName(first: unknown, last: unknown): string | null {
  const parts = [text(first), text(last)].filter((p): p is string => p !== null);
  return parts.length > 0 ? parts.join(' ') : null;
}

/** The buyer's name and email exactly as the platform sends them (never anything about cards); null when neither. */
export function contactOf(name: unknown, email: unknown): { name: string | null; email: string | null } | null {
  const n = text(name);
  const e = text(email);
  return n === null && e === null ? null : { name: n, email: e };
}
