/**
 * What happens in the Toast restaurants themselves, and the webhook messages Toast sends: a sale at
 * the register (an order with one check and one selection; a counted item's quantity goes down, and
 * at 0 it is OUT_OF_STOCK: "86ed"), a void (the selection voided and its count given back; part of
 * a selection coming back is a refund and a count typed by the manager), a refund (money back on the payment, no
 * stock back), a voided order, and a manager setting an item's stock (Quick Edit, Toast Web).
 * Messages are `{timestamp, eventCategory, eventType, guid, details}`, signed with the subscription's
 * secret over body + timestamp (base64 HMAC-SHA256), with the Toast-* headers.
 */
import crypto from 'node:crypto';
import { DEFAULT_PRICE, LoopbackEmulator, WebhookSender, type ApiFaults, type EmulatorProduct, type WebhookFaults } from '../../emulator';
import type { ListingRef } from '../../types';
import { signToast } from '../verify';
import { levelOf } from '../level';
import { toastDate } from '../client';

export interface ToastEmulatorOptions {
  clientId: string;
  clientSecret: string;
  /** The orders webhook subscription's secret. */
  webhookSecret: string;
  /** The stock webhook subscription's secret (Toast gives each subscription its own); the orders one when not given. */
  stockWebhookSecret?: string;
  /** The restaurants (location GUIDs) the API client may act for. */
  restaurants: string[];
  /** Menu items per page of /config/v2/menuItems. */
  pageSize?: number;
  /** Enforce Toast's rate limits (20 a second and 10,000 in 15 minutes; /ordersBulk 5 a second per restaurant). */
  rateLimit?: boolean;
  clock?: () => number;
  random?: () => number;
}

/** Toast's documented low-quantity threshold ("set to 5 for all menu items and is not configurable"). */
export const LOW_QUANTITY = 5;

export interface Stock {
  guid: string;
  status: 'IN_STOCK' | 'OUT_OF_STOCK' | 'QUANTITY';
  quantity: number | null;
}

export interface Item {
  sku: string;
  name: string;
  multiLocationId: string;
  /** Unit price in minor units. */
  price: number;
  at: Map<string, Stock>;
}

export interface Selection {
  guid: string;
  itemGuid: string;
  sku: string;
  displayName: string;
  quantity: number;
  /** Unit price, minor units. */
  unit: number;
  voided: boolean;
  voidDate: string | null;
  /** Money refunded on it so far (Toast keeps one refundDetails a selection: the last refund's transaction, the amounts added up). */
  refund: { guid: string; amount: number; units: number } | null;
}

export interface Order {
  guid: string;
  restaurant: string;
  displayNumber: string;
  openedDate: string;
  modifiedDate: string;
  voided: boolean;
  selections: Selection[];
  payment: { guid: string; amount: number; refunded: number; refundGuid: string | null; refundDate: string | null };
}

export type Json = Record<string, unknown>;

const dollars = (minor: number): number => Math.round(minor) / 100;

export abstract class ToastRestaurants extends LoopbackEmulator {
  readonly platform = 'toast';
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  protected readonly items = new Map<string, Item>();
  protected readonly orders = new Map<string, Order>();
  protected readonly webhooks: WebhookSender;
  private nextMlid = 1000;
  private check = 100;
  private lastStamp = 0;

  constructor(protected readonly opts: ToastEmulatorOptions) {
    super();
    if (opts.clock) this.clockMs = opts.clock;
    const random = opts.random ?? Math.random;
    this.webhooks = new WebhookSender({
      url: () => this.webhookUrl,
      faults: () => this.faults.webhooks,
      random,
      attempts: 3,
      headersFor: (w, attempt) => ({ ...w.headers, 'toast-attempt-number': String(attempt + 1) }),
    });
  }

  /** A modification time later than any before, in Toast's format. */
  protected stamp(): string {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1);
    return toastDate(new Date(this.lastStamp));
  }

  locations(): string[] {
    return [...this.opts.restaurants];
  }

  seed(products: EmulatorProduct[]): void {
    for (const p of products) {
      let item = this.items.get(p.sku);
      if (!item) {
        item = { sku: p.sku, name: p.title, multiLocationId: `1000000001712${String(++this.nextMlid).padStart(5, '0')}`, price: p.price ?? DEFAULT_PRICE, at: new Map() };
        for (const r of this.opts.restaurants) item.at.set(r, { guid: crypto.randomUUID(), status: 'IN_STOCK', quantity: null });
        this.items.set(p.sku, item);
      }
      for (const [r, level] of Object.entries(p.levels)) {
        const s = item.at.get(r);
        if (s) Object.assign(s, counted(level));
      }
    }
  }

  level(sku: string, locationId: string): number | null {
    const s = this.items.get(sku)?.at.get(locationId);
    return s ? levelOf(s) : null;
  }

  listing(sku: string): ListingRef | null {
    const item = this.items.get(sku);
    return item ? { productId: item.multiLocationId, variantId: item.multiLocationId } : null;
  }

  /** The menu item's stock at a restaurant (tests). */
  stock(sku: string, restaurant: string): Stock | undefined {
    return this.items.get(sku)?.at.get(restaurant);
  }

  order(guid: string): Order | undefined {
    return this.orders.get(guid);
  }

  private where(locationId: string | undefined): string {
    const r = locationId ?? this.opts.restaurants[0]!;
    if (!this.opts.restaurants.includes(r)) throw new Error(`The Toast emulator has no restaurant ${r}.`);
    return r;
  }

  private item(sku: string): Item {
    const item = this.items.get(sku);
    if (!item) throw new Error(`The Toast emulator has no menu item ${sku}.`);
    return item;
  }

  /** Takes units of a counted item, or gives them back; stock messages as Toast sends them. */
  protected move(item: Item, restaurant: string, delta: number): void {
    const s = item.at.get(restaurant)!;
    if (s.status === 'IN_STOCK') return;
    const before = levelOf(s) ?? 0;
    const after = Math.max(0, before + delta);
    Object.assign(s, counted(after));
    if (after === before) return;
    if (after === 0) this.stockMessage('out_of_stock', item, restaurant);
    else if (after <= LOW_QUANTITY && delta < 0) this.stockMessage('low_quantity', item, restaurant);
    else if (before === 0 || (before <= LOW_QUANTITY && after > LOW_QUANTITY)) this.stockMessage(after > LOW_QUANTITY ? 'in_stock' : 'low_quantity', item, restaurant);
  }

  /** Stock set by hand or through the stock API: the message for its new status. */
  protected setStock(item: Item, restaurant: string, next: Pick<Stock, 'status' | 'quantity'>): void {
    const s = item.at.get(restaurant)!;
    Object.assign(s, next);
    const level = levelOf(s);
    this.stockMessage(s.status === 'OUT_OF_STOCK' ? 'out_of_stock' : level !== null && level <= LOW_QUANTITY ? 'low_quantity' : 'in_stock', item, restaurant);
  }

  async sell(sale: { sku: string; quantity: number; locationId?: string }): Promise<{ orderId: string }> {
    const restaurant = this.where(sale.locationId);
    const item = this.item(sale.sku);
    const now = this.stamp();
    const amount = item.price * sale.quantity;
    const order: Order = {
      guid: crypto.randomUUID(),
      restaurant,
      displayNumber: String(++this.check),
      openedDate: now,
      modifiedDate: now,
      voided: false,
      selections: [this.selection(item, restaurant, sale.quantity)],
      payment: { guid: crypto.randomUUID(), amount, refunded: 0, refundGuid: null, refundDate: null },
    };
    this.orders.set(order.guid, order);
    this.move(item, restaurant, -sale.quantity);
    this.orderMessage(order);
    return { orderId: order.guid };
  }

  private selection(item: Item, restaurant: string, quantity: number): Selection {
    return { guid: crypto.randomUUID(), itemGuid: item.at.get(restaurant)!.guid, sku: item.sku, displayName: item.name, quantity, unit: item.price, voided: false, voidDate: null, refund: null };
  }

  /**
   * With `restock` of the whole selection: a void (the selection voided, its count back). Toast voids
   * whole selections only: part of a selection coming back is a refund of its money, and the manager
   * typing the units back in Toast's stock screen (a stock message). Without `restock`: a refund of
   * the money of `quantity` units on the payment; the stock stays sold.
   */
  async refund(refund: { orderId: string; restock: boolean; quantity?: number }): Promise<{ refundId: string }> {
    const order = this.mustOrder(refund.orderId);
    const sel = order.selections.find((s) => !s.voided && (s.refund?.units ?? 0) < s.quantity);
    if (!sel) throw new Error(`Toast order ${order.guid} has nothing left to void or refund.`);
    const quantity = Math.min(refund.quantity ?? sel.quantity - (sel.refund?.units ?? 0), sel.quantity - (sel.refund?.units ?? 0));
    const item = this.item(sel.sku);
    const now = this.stamp();
    order.modifiedDate = now;
    if (refund.restock && quantity === sel.quantity && !sel.refund) {
      sel.voided = true;
      sel.voidDate = now;
      this.move(item, order.restaurant, quantity);
      this.orderMessage(order);
      return { refundId: `void-${sel.guid}` };
    }
    const amount = sel.unit * quantity;
    sel.refund = { guid: crypto.randomUUID(), amount: (sel.refund?.amount ?? 0) + amount, units: (sel.refund?.units ?? 0) + quantity };
    order.payment.refunded += amount;
    order.payment.refundGuid = sel.refund.guid;
    order.payment.refundDate = now;
    this.orderMessage(order);
    if (refund.restock) {
      const s = item.at.get(order.restaurant)!;
      if (s.status !== 'IN_STOCK') this.setStock(item, order.restaurant, counted((levelOf(s) ?? 0) + quantity));
    }
    return { refundId: sel.refund.guid };
  }

  /** Voids the whole order (before its payment is captured): every count comes back. */
  async voidOrder(orderId: string): Promise<void> {
    const order = this.mustOrder(orderId);
    const now = this.stamp();
    order.voided = true;
    order.modifiedDate = now;
    for (const s of order.selections) {
      if (s.voided) continue;
      s.voided = true;
      s.voidDate = now;
      this.move(this.item(s.sku), order.restaurant, s.quantity);
    }
    this.orderMessage(order);
  }

  /** A manager sets the item's stock in Toast (Quick Edit, Toast Web): the stock message for it. */
  async setLevel(change: { sku: string; locationId?: string; available: number }): Promise<void> {
    this.setStock(this.item(change.sku), this.where(change.locationId), counted(change.available));
  }

  /** A manager marks the item In Stock with no count (Toast then keeps none). */
  async markInStock(sku: string, locationId?: string): Promise<void> {
    this.setStock(this.item(sku), this.where(locationId), { status: 'IN_STOCK', quantity: null });
  }

  private mustOrder(orderId: string): Order {
    const order = this.orders.get(orderId);
    if (!order) throw new Error(`The Toast emulator has no order ${orderId}.`);
    return order;
  }

  orderJson(o: Order): Json {
    const live = o.selections.filter((s) => !s.voided);
    const amount = dollars(live.reduce((t, s) => t + s.unit * s.quantity, 0));
    const refundStatus = o.payment.refunded === 0 ? 'NONE' : o.payment.refunded >= o.payment.amount ? 'FULL' : 'PARTIAL';
    return {
      guid: o.guid,
      entityType: 'Order',
      externalId: null,
      openedDate: o.openedDate,
      createdDate: o.openedDate,
      modifiedDate: o.modifiedDate,
      closedDate: o.openedDate,
      paidDate: o.openedDate,
      businessDate: Number(o.openedDate.slice(0, 10).replace(/-/g, '')),
      voided: o.voided,
      voidDate: o.voided ? o.modifiedDate : null,
      source: 'In Store',
      approvalStatus: 'APPROVED',
      diningOption: null,
      checks: [
        {
          guid: `${o.guid.slice(0, 24)}c${o.guid.slice(25)}`,
          entityType: 'Check',
          displayNumber: o.displayNumber,
          openedDate: o.openedDate,
          modifiedDate: o.modifiedDate,
          voided: o.voided,
          deleted: false,
          paymentStatus: o.voided ? 'OPEN' : 'CLOSED',
          amount,
          taxAmount: 0,
          totalAmount: amount,
          selections: o.selections.map((s) => ({
            guid: s.guid,
            entityType: 'MenuItemSelection',
            item: { guid: s.itemGuid, entityType: 'MenuItem' },
            displayName: s.displayName,
            quantity: s.quantity,
            preDiscountPrice: dollars(s.unit * s.quantity),
            price: dollars(s.unit * s.quantity),
            tax: 0,
            voided: s.voided,
            voidDate: s.voidDate,
            selectionType: 'NONE',
            refundDetails: s.refund ? { refundAmount: dollars(s.refund.amount), taxRefundAmount: 0, refundTransaction: { guid: s.refund.guid, entityType: 'RefundTransaction' } } : null,
          })),
          payments: [
            {
              guid: o.payment.guid,
              entityType: 'OrderPayment',
              type: 'CREDIT',
              amount: dollars(o.payment.amount),
              tipAmount: 0,
              paymentStatus: 'CAPTURED',
              refundStatus,
              refund: o.payment.refundGuid ? { refundAmount: dollars(o.payment.refunded), tipRefundAmount: 0, refundDate: o.payment.refundDate, refundTransaction: { guid: o.payment.refundGuid, entityType: 'RefundTransaction' } } : null,
            },
          ],
        },
      ],
    };
  }

  inventoryJson(item: Item, restaurant: string): Json {
    const s = item.at.get(restaurant)!;
    return { guid: s.guid, itemGuidValidity: 'VALID', status: s.status, quantity: s.quantity, multiLocationId: item.multiLocationId, versionId: s.guid };
  }

  /** A signed message of these restaurants' (or, for tests, of any restaurant). */
  message(category: 'orders' | 'stock', eventType: string, restaurant: string, details: Json): { body: string; headers: Record<string, string> } {
    const timestamp = new Date(this.clockMs()).toISOString();
    const body = JSON.stringify({ timestamp, eventCategory: category, eventType, guid: crypto.randomUUID(), details: { restaurantGuid: restaurant, ...details } });
    const secret = category === 'stock' ? (this.opts.stockWebhookSecret ?? this.opts.webhookSecret) : this.opts.webhookSecret;
    return {
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Apache-HttpClient/4.5.10 (Java/1.8.0_212)',
        'toast-signature': signToast(body, timestamp, secret),
        'toast-event-type': eventType,
        'toast-event-category': category,
        'toast-restaurant-external-id': restaurant,
      },
    };
  }

  private send(topic: string, m: { body: string; headers: Record<string, string> }): void {
    this.queueWebhook({ topic, id: (JSON.parse(m.body) as { guid: string }).guid, body: m.body, headers: m.headers });
  }

  protected orderMessage(order: Order): void {
    this.send('order_updated', this.message('orders', 'order_updated', order.restaurant, { order: this.orderJson(order) }));
  }

  protected stockMessage(eventType: string, item: Item, restaurant: string): void {
    const s = item.at.get(restaurant)!;
    const details: Json = { itemGuid: s.guid, status: s.status, multiLocationId: item.multiLocationId, versionId: s.guid };
    if (s.status === 'QUANTITY') details.quantity = s.quantity;
    this.send(eventType, this.message('stock', eventType, restaurant, details));
  }

  /** For a simulation trace: what a message says. */
  describeWebhook(body: string): string {
    try {
      const b = JSON.parse(body) as { eventType?: string; details?: { multiLocationId?: string; quantity?: number; status?: string; order?: { guid?: string } } };
      if (b.details?.order) return `${b.eventType ?? '?'} order ${b.details.order.guid ?? '?'}`;
      return `${b.eventType ?? '?'} ${b.details?.multiLocationId ?? '?'} ${b.details?.status ?? ''} ${b.details?.quantity ?? ''}`.trim();
    } catch {
      return '';
    }
  }
}

/** A count as Toast keeps it: QUANTITY above 0, OUT_OF_STOCK at 0 (Toast takes no quantity of 0). */
export function counted(level: number): Pick<Stock, 'status' | 'quantity'> {
  return level > 0 ? { status: 'QUANTITY', quantity: level } : { status: 'OUT_OF_STOCK', quantity: null };
}
