/**
 * The Squarespace emulator's state and the shapes it answers with: products and their variants (each
 * variant is an InventoryItem), orders as the Orders API shows them, and Squarespace's error object.
 */
import crypto from 'node:crypto';
import type { RequestWindow } from '../../emulator';

export interface SquarespaceEmulatorOptions {
  apiKey: string;
  /** The webhook subscription's secret (hex, as Squarespace returns it). */
  webhookSecret: string;
  /** The site the notifications name. */
  websiteId: string;
  /** Items per list page (Squarespace: 50). */
  pageSize?: number;
  /** Enforce the rate limit (300 a minute, then a one-minute cool-down). */
  rateLimit?: RequestWindow | null;
  clock?: () => number;
  random?: () => number;
  currency?: string;
}

/** Squarespace's published limit: 300 requests a minute. */
export const SQUARESPACE_LIMIT: RequestWindow = { requests: 300, windowMs: 60_000 };
export const COOL_DOWN_MS = 60_000;

export interface Variant {
  id: string;
  productId: string;
  sku: string;
  quantity: number;
  unlimited: boolean;
  price: number;
}

export interface Product {
  id: string;
  name: string;
  isVisible: boolean;
  variants: Variant[];
  modifiedOn: string;
}

export interface OrderLine {
  id: string;
  variantId: string;
  productId: string;
  sku: string;
  productName: string;
  quantity: number;
  unitPrice: number;
}

export interface Order {
  id: string;
  orderNumber: number;
  createdOn: string;
  modifiedOn: string;
  fulfillmentStatus: 'PENDING' | 'FULFILLED' | 'CANCELED';
  lines: OrderLine[];
  refunded: number;
  customerEmail: string;
}

export type Json = Record<string, unknown>;

/** A 24-hex-digit id, as Squarespace's. */
export function sqspId(): string {
  return crypto.randomBytes(12).toString('hex');
}

/** A variant id: Squarespace's are UUIDs. */
export function variantUuid(): string {
  return crypto.randomUUID();
}

/** An amount in minor units as Squarespace's money object: {currency, value: "25.00"}. */
export function moneyOf(minor: number, currency: string): Json {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return { currency, value: `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}` };
}

export function inventoryJson(v: Variant, product: Product): Json {
  return { variantId: v.id, sku: v.sku, descriptor: product.name, isUnlimited: v.unlimited, quantity: v.quantity };
}

export function productJson(p: Product, currency: string): Json {
  return {
    id: p.id,
    type: 'PHYSICAL',
    storePageId: 'f0f0f0f0f0f0f0f0f0f0f0f0',
    name: p.name,
    description: '',
    url: `/shop/p/${p.id}`,
    urlSlug: p.id,
    tags: [],
    isVisible: p.isVisible,
    variants: p.variants.map((v) => ({
      id: v.id,
      sku: v.sku,
      pricing: { basePrice: moneyOf(v.price, currency), onSale: false, salePrice: moneyOf(0, currency) },
      stock: { quantity: v.quantity, unlimited: v.unlimited },
      attributes: {},
      shippingMeasurements: null,
      image: null,
    })),
    images: [],
    createdOn: p.modifiedOn,
    modifiedOn: p.modifiedOn,
  };
}

export function orderJson(o: Order, currency: string): Json {
  const subtotal = o.lines.reduce((s, l) => s + l.unitPrice * l.quantity, 0);
  return {
    id: o.id,
    orderNumber: String(o.orderNumber),
    createdOn: o.createdOn,
    modifiedOn: o.modifiedOn,
    channel: 'web',
    testmode: false,
    customerEmail: o.customerEmail,
    billingAddress: { firstName: 'Ada', lastName: 'Buyer', address1: '1 Gallery Lane', address2: null, city: 'Hobart', state: 'TAS', countryCode: 'AU', postalCode: '7000', phone: null },
    shippingAddress: null,
    fulfillmentStatus: o.fulfillmentStatus,
    lineItems: o.lines.map((l) => ({
      id: l.id,
      variantId: l.variantId,
      sku: l.sku,
      productId: l.productId,
      productName: l.productName,
      quantity: l.quantity,
      unitPricePaid: moneyOf(l.unitPrice, currency),
      variantOptions: [],
      customizations: null,
      imageUrl: null,
      lineItemType: 'PHYSICAL_PRODUCT',
    })),
    internalNotes: [],
    shippingLines: [],
    discountLines: [],
    formSubmission: null,
    fulfillments: [],
    subtotal: moneyOf(subtotal, currency),
    shippingTotal: moneyOf(0, currency),
    discountTotal: moneyOf(0, currency),
    taxTotal: moneyOf(0, currency),
    refundedTotal: moneyOf(o.refunded, currency),
    grandTotal: moneyOf(subtotal, currency),
    channelName: 'Squarespace',
    externalOrderReference: null,
    fulfilledOn: null,
    priceTaxInterpretation: 'EXCLUSIVE',
  };
}

/** Squarespace's error object ("Responses and error handling"). */
export function errorJson(type: string, message: string, subtype: string | null = null): Json {
  return { type, subtype, message, details: null, contextId: crypto.randomBytes(5).toString('hex').toUpperCase() };
}

export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly body: Json,
  ) {
    super(String(body.message));
  }
}
