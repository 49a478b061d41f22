/**
 * Money is kept exact: an integer count of the currency's minor unit (cents for AUD, yen for JPY,
 * fils for KWD) with its ISO 4217 code. Never a float. Platforms send amounts as decimal strings
 * ("12.50", Shopify and WooCommerce) or already in minor units (Square); both land here.
 */

/** ISO 4217 minor-unit exponents that are not 2. Every other well-formed code has 2. */
const EXPONENTS: Record<string, number> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0,
  VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

export class MoneyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MoneyError';
  }
}

export function isCurrencyCode(code: unknown): code is string {
  return typeof code === 'string' && /^[A-Z]{3}$/.test(code);
}

/** Digits after the decimal point in the currency's minor unit. */
export function minorExponent(currency: string): number {
  if (!isCurrencyCode(currency)) throw new MoneyError(`"${String(currency)}" is not an ISO 4217 currency code.`);
  return EXPONENTS[currency] ?? 2;
}

/**
 * A decimal amount ("12.5", "-3.00", "1234", 7.25) in minor units of `currency`. Refuses anything
 * that is not a plain decimal, and more decimals than the currency has unless they are zeros
 * ("12.500" is 1250 cents; "12.505" AUD is an error, never rounded silently).
 */
export function toMinor(value: string | number, currency: string): number {
  const exp = minorExponent(currency);
  const text = typeof value === 'number' ? numberText(value) : value.trim();
  const m = /^([+-]?)(\d+)(?:\.(\d*))?$/.exec(text);
  if (!m) throw new MoneyError(`"${String(value)}" is not an amount.`);
  const [, sign, whole, frac = ''] = m;
  const extra = frac.slice(exp);
  if (/[1-9]/.test(extra)) throw new MoneyError(`${String(value)} ${currency} has more decimals than ${currency} has (${exp}).`);
  const digits = `${whole}${frac.slice(0, exp).padEnd(exp, '0')}`;
  const n = Number(digits);
  if (!Number.isSafeInteger(n)) throw new MoneyError(`${String(value)} ${currency} is too large.`);
  return sign === '-' && n !== 0 ? -n : n;
}

/** A number as the shortest plain decimal text (no exponent), for amounts a JSON body carried as numbers. */
function numberText(n: number): string {
  if (!Number.isFinite(n)) throw new MoneyError(`${n} is not an amount.`);
  const s = String(n);
  if (!/e/i.test(s)) return s;
  return n.toFixed(20).replace(/\.?0+$/, '');
}

/** Minor units back to a decimal string for people and CSV: 1250 AUD → "12.50", 500 JPY → "500". */
export function formatMinor(amount: number, currency: string): string {
  const exp = minorExponent(currency);
  if (!Number.isSafeInteger(amount)) throw new MoneyError(`${amount} is not a whole number of minor units.`);
  if (exp === 0) return String(amount);
  const sign = amount < 0 ? '-' : '';
  const digits = String(Math.abs(amount)).padStart(exp + 1, '0');
  return `${sign}${digits.slice(0, -exp)}.${digits.slice(-exp)}`;
}
