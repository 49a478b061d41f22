/**
 * The Clover emulator's state and the shapes it answers with: items with their `itemStock`, orders
 * with line items (one unit each), payments and refunds, and Clover's error body `{message}`.
 */
import crypto from 'node:crypto';
import type { RequestWindow } from '../../emulator';

export interface CloverEmulatorOptions {
  /** The merchant API token the emulator accepts as `Authorization: Bearer …`. */
  apiToken: string;
  /** The app's Clover Auth Code, sent in `X-Clover-Auth` with every webhook message. */
  authCode: string;
  merchantId: string;
  /** The app id messages name. */
  appId?: string;
  /** Enforce Clover's per-token limits: requests a second (16) and requests at once (5). */
  rateLimit?: { window: RequestWindow; concurrent: number } | null;
  clock?: () => number;
  random?: () => number;
  currency?: string;
}

/** Clover's published limits per token: 16 requests a second, 5 at once. */
export const CLOVER_LIMIT = { window: { requests: 16, windowMs: 1000 }, concurrent: 5 } as const;

export interface Item {
  id: string;
  name: string;
  sku: string;
  price: number;
  available: boolean;
  autoManage: boolean;
  /** Null: stock not tracked for the item (no itemStock). */
  quantity: number | null;
  modifiedTime: number;
}

export interface LineItem {
  id: string;
  itemId: string;
  name: string;
  price: number;
  refunded: boolean;
}

export interface Refund {
  id: string;
  paymentId: string;
  amount: number;
  createdTime: number;
  lineItemIds: string[];
}

export interface Order {
  id: string;
  createdTime: number;
  modifiedTime: number;
  paymentState: 'OPEN' | 'PAID' | 'PARTIALLY_REFUNDED' | 'REFUNDED';
  lineItems: LineItem[];
  paymentId: string;
  refunds: Refund[];
}

export type Json = Record<string, unknown>;

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** A 13-character id, as Clover's (letters and digits). */
export function cloverId(): string {
  const bytes = crypto.randomBytes(13);
  return [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}

export function stockJson(item: Item): Json {
  const q = item.quantity ?? 0;
  return { item: { id: item.id }, stockCount: Math.round(q), quantity: q, modifiedTime: item.modifiedTime };
}

export function itemJson(item: Item, expandStock: boolean, base: string, merchantId: string): Json {
  return {
    href: `${base}/v3/merchants/${merchantId}/items/${item.id}`,
    id: item.id,
    hidden: false,
    available: item.available,
    autoManage: item.autoManage,
    name: item.name,
    sku: item.sku,
    price: item.price,
    priceType: 'FIXED',
    defaultTaxRates: true,
    isRevenue: true,
    modifiedTime: item.modifiedTime,
    ...(expandStock && item.quantity !== null ? { itemStock: stockJson(item) } : {}),
  };
}

export function orderJson(o: Order, expand: ReadonlySet<string>, currency: string, base: string, merchantId: string): Json {
  const total = o.lineItems.reduce((s, l) => s + l.price, 0);
  const out: Json = {
    href: `${base}/v3/merchants/${merchantId}/orders/${o.id}`,
    id: o.id,
    currency,
    total,
    paymentState: o.paymentState,
    state: 'locked',
    manualTransaction: false,
    groupLineItems: true,
    testMode: false,
    createdTime: o.createdTime,
    clientCreatedTime: o.createdTime,
    modifiedTime: o.modifiedTime,
  };
  if (expand.has('lineItems')) out.lineItems = { elements: o.lineItems.map((l) => ({ id: l.id, orderRef: { id: o.id }, item: { id: l.itemId }, name: l.name, price: l.price, refunded: l.refunded, isRevenue: true, printed: false, exchanged: false })) };
  if (expand.has('payments')) out.payments = { elements: [{ id: o.paymentId, order: { id: o.id }, amount: total, result: 'SUCCESS', createdTime: o.createdTime }] };
  if (expand.has('refunds'))
    out.refunds = {
      elements: o.refunds.map((r) => ({ id: r.id, orderRef: { id: o.id }, payment: { id: r.paymentId }, amount: r.amount, createdTime: r.createdTime, lineItems: { elements: r.lineItemIds.map((id) => ({ id })) } })),
    };
  return out;
}

/** Clover's error body. */
export function errorJson(message: string): Json {
  return { message };
}

export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message));
  }
}
