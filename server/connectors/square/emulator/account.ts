/**
 * The emulated Square account's state: locations, catalog items and variations, inventory counts
 * and orders; the ids it makes up; the catalog and count objects it answers with; and its signed
 * webhooks, each checked against the spec. What happens on the account is in events.ts; its API in
 * index.ts.
 */
import crypto from 'node:crypto';
import { DEFAULT_PRICE, LoopbackEmulator, WebhookSender, percentPpm, type ApiFaults, type EmulatorProduct, type OutgoingWebhook, type WebhookFaults } from '../../emulator';
import { SquareSpec, findSpecPath } from '../spec';
import { SIGNATURE_HEADER, signSquareWebhook } from '../verify';
import { sha, type Count, type Item, type Json, type SpecViolation, type SquareEmulatorOptions, type Variation } from './model';

export abstract class SquareAccount extends LoopbackEmulator {
  readonly platform = 'square';
  readonly requests: { method: string; path: string; body: unknown; query: string; squareVersion: string | null }[] = [];
  readonly specViolations: SpecViolation[] = [];
  /** Bugs of the emulator itself (an exception while answering), for tests to assert empty. */
  readonly internalErrors: string[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  readonly merchantId: string;
  /** Whether the OpenAPI document was found (without it nothing can be validated). */
  readonly specLoaded: boolean;

  protected readonly token: string;
  protected readonly signatureKey: string;
  readonly currency: string;
  protected readonly taxRate: string | null;
  protected readonly random: () => number;
  protected readonly spec: SquareSpec | null;
  protected readonly salt = crypto.randomBytes(8).toString('hex');
  protected seq = 0;
  protected readonly locationIds: string[] = [];
  protected readonly items = new Map<string, Item>();
  protected readonly variations = new Map<string, Variation>();
  /** `variation|location|state` → count. */
  protected readonly counts = new Map<string, Count>();
  protected readonly orders = new Map<string, Json>();
  /** Units returned so far per `order|line uid`. */
  protected readonly returned = new Map<string, number>();
  protected readonly webhooks = new WebhookSender({
    url: () => this.webhookUrl,
    faults: () => this.faults.webhooks,
    random: () => this.random(),
    // Square retries a failed delivery with backoff for up to 24 hours; the emulator 3 times, quickly.
    attempts: 3,
    headersFor: (w, attempt) => ({ ...w.headers, 'square-retry-number': String(attempt) }),
  });

  constructor(opts: SquareEmulatorOptions) {
    super();
    this.token = opts.accessToken;
    this.signatureKey = opts.webhookSignatureKey;
    this.merchantId = opts.merchantId ?? 'ML7RSTOCKRELAY';
    this.currency = opts.currency ?? 'AUD';
    this.taxRate = opts.taxRate ?? null;
    if (this.taxRate !== null) percentPpm(this.taxRate);
    this.random = opts.random ?? Math.random;
    this.spec = SquareSpec.load(opts.specPath ?? findSpecPath());
    this.specLoaded = this.spec !== null;
    if (opts.clock) this.clockMs = opts.clock;
    for (const l of opts.locations ?? ['LGALLERY7Q2K9', 'LWAREHSE4M8XN']) this.addLocation(l);
  }

  // ------------------------------------------------------------------ ids and time

  protected id(length: number, alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'): string {
    const h = sha(`${this.salt}:${this.seq++}`);
    let out = '';
    for (let i = 0; out.length < length; i++) out += alphabet[parseInt(h.slice((i * 2) % 60, ((i * 2) % 60) + 2), 16) % alphabet.length];
    return out;
  }

  protected orderId(): string {
    return this.id(27, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
  }

  protected uid(): string {
    return this.id(22, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789');
  }

  protected now(): string {
    return new Date().toISOString();
  }

  protected money(amount: number): Json {
    return { amount, currency: this.currency };
  }

  // ------------------------------------------------------------------ catalog state

  protected addLocation(l: string): string {
    if (!this.locationIds.includes(l)) this.locationIds.push(l);
    return l;
  }

  locations(): string[] {
    return [...this.locationIds];
  }

  /** Adds one item with its variations (an empty or repeated SKU included), without webhooks. */
  addItem(spec: { name: string; variations: { name?: string; sku: string | null; levels?: Record<string, number>; price?: number }[] }): { itemId: string; variationIds: string[] } {
    const at = this.now();
    const item: Item = { id: this.id(24), name: spec.name, version: Date.now(), updatedAt: at, variationIds: [] };
    this.items.set(item.id, item);
    spec.variations.forEach((v, i) => {
      const variation: Variation = { id: this.id(24), itemId: item.id, name: v.name ?? 'Regular', sku: v.sku, version: item.version, ordinal: i, price: v.price ?? DEFAULT_PRICE, updatedAt: at };
      this.variations.set(variation.id, variation);
      item.variationIds.push(variation.id);
      for (const [loc, q] of Object.entries(v.levels ?? {})) this.setCount(variation.id, this.addLocation(loc), 'IN_STOCK', q, at);
    });
    return { itemId: item.id, variationIds: [...item.variationIds] };
  }

  /** One item with one variation ("Regular" unless named), as Shopify's `addListing`. */
  addListing(l: { sku: string | null; title: string; variationName?: string; levels?: Record<string, number>; price?: number }): { itemId: string; variationId: string } {
    const { itemId, variationIds } = this.addItem({ name: l.title, variations: [{ name: l.variationName ?? 'Regular', sku: l.sku, ...(l.levels ? { levels: l.levels } : {}), ...(l.price !== undefined ? { price: l.price } : {}) }] });
    return { itemId, variationId: variationIds[0]! };
  }

  seed(products: EmulatorProduct[]): void {
    for (const p of products) {
      const existing = this.variationBySku(p.sku);
      if (existing) {
        for (const [loc, q] of Object.entries(p.levels)) this.setCount(existing.id, this.addLocation(loc), 'IN_STOCK', q, this.now());
        if (p.price !== undefined) existing.price = p.price;
      } else {
        this.addItem({ name: p.title, variations: [{ sku: p.sku, levels: p.levels, ...(p.price !== undefined ? { price: p.price } : {}) }] });
      }
    }
  }

  protected variationBySku(sku: string): Variation | undefined {
    return [...this.variations.values()].find((v) => v.sku === sku);
  }

  /** The Square ids of the first variation with this SKU: the item (`productId`) and the variation (`variantId`). */
  listing(sku: string): { productId: string; variantId: string } | null {
    const v = this.variationBySku(sku);
    return v ? { productId: v.itemId, variantId: v.id } : null;
  }

  level(sku: string, locationId: string): number | null {
    const v = this.variationBySku(sku);
    if (!v) return null;
    return this.counts.get(`${v.id}|${locationId}|IN_STOCK`)?.quantity ?? null;
  }

  /** The order as Square keeps it (wire JSON), for tests. */
  order(orderId: string): Json | null {
    const o = this.orders.get(orderId);
    return o ? (JSON.parse(JSON.stringify(o)) as Json) : null;
  }

  protected setCount(variationId: string, locationId: string, state: string, quantity: number, at: string): void {
    this.counts.set(`${variationId}|${locationId}|${state}`, { quantity, calculatedAt: at });
  }

  protected countBody(variationId: string, locationId: string, state = 'IN_STOCK'): Json {
    const c = this.counts.get(`${variationId}|${locationId}|${state}`);
    return {
      catalog_object_id: variationId,
      catalog_object_type: 'ITEM_VARIATION',
      state,
      location_id: locationId,
      quantity: String(c?.quantity ?? 0),
      calculated_at: c?.calculatedAt ?? this.now(),
    };
  }

  /** What every catalog object of this emulator starts with: its type, id and version, never deleted, at every location. */
  private catalogObject(type: 'ITEM' | 'ITEM_VARIATION', o: { id: string; updatedAt: string; version: number }): Json {
    return { type, id: o.id, updated_at: o.updatedAt, version: o.version, is_deleted: false, present_at_all_locations: true };
  }

  protected variationObject(v: Variation): Json {
    return {
      ...this.catalogObject('ITEM_VARIATION', v),
      item_variation_data: {
        item_id: v.itemId,
        name: v.name,
        ...(v.sku !== null ? { sku: v.sku } : {}),
        ordinal: v.ordinal,
        pricing_type: 'FIXED_PRICING',
        price_money: this.money(v.price),
        track_inventory: true,
        sellable: true,
        stockable: true,
      },
    };
  }

  protected itemObject(item: Item): Json {
    return {
      ...this.catalogObject('ITEM', item),
      item_data: {
        name: item.name,
        product_type: 'REGULAR',
        variations: item.variationIds.map((id) => this.variationObject(this.variations.get(id)!)),
      },
    };
  }

  // ------------------------------------------------------------------ webhooks

  protected emit(type: string, data: Json): void {
    const eventId = crypto.randomUUID();
    const payload: Json = { merchant_id: this.merchantId, type, event_id: eventId, created_at: this.now(), data };
    if (this.spec) {
      const schema = this.spec.webhookSchema(type);
      const errors = schema ? this.spec.check(schema, payload) : [`no event schema for ${type}`];
      if (errors.length > 0) this.specViolations.push({ kind: 'webhook', what: type, errors });
    }
    const url = this.webhookUrl;
    if (!url) return;
    const body = JSON.stringify(payload);
    const delivery: OutgoingWebhook = {
      topic: type,
      id: eventId,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Square Connect v2',
        'square-environment': 'Sandbox',
        'square-initial-delivery-timestamp': new Date().toISOString(),
        'square-retry-number': '0',
        [SIGNATURE_HEADER]: signSquareWebhook(body, this.signatureKey, url),
      },
    };
    this.queueWebhook(delivery);
  }

}
