/**
 * The emulated store's state: its products and variations, orders and webhooks; the REST shapes
 * of products, variations and orders (money in the store currency); and its signed webhooks. What
 * happens in the store is in events.ts; its REST API in index.ts.
 */
import crypto from 'node:crypto';
import { formatMinor } from '../../../shared/money';
import { DEFAULT_PRICE, LoopbackEmulator, WebhookSender, applyPpm, percentPpm, type ApiFaults, type EmulatorProduct, type OutgoingWebhook, type WebhookFaults } from '../../emulator';
import { WOO_LOCATION } from '../translate';
import { signWooWebhook } from '../verify';
import { WEBHOOK_TOPICS, phpJson, wooDate, type Json, type Order, type OrderLine, type Product, type ProductType, type WooEmulatorOptions } from './model';

export abstract class WooStore extends LoopbackEmulator {
  readonly platform = 'woocommerce';
  readonly requests: { method: string; path: string; body: unknown; query: Record<string, string> }[] = [];
  faults: { api: ApiFaults; webhooks: WebhookFaults } = { api: {}, webhooks: {} };
  protected readonly webhookSecret: string;
  protected readonly random: () => number;
  protected readonly salt = crypto.randomBytes(16).toString('hex');
  protected readonly webhookIds = new Map<string, number>();
  protected readonly products = new Map<number, Product>();
  protected readonly orders = new Map<number, Order>();
  // WooCommerce sends once and does not retry a failed delivery (it counts failures and disables the webhook after more than 5 in a row).
  protected readonly webhooks = new WebhookSender({ url: () => this.webhookUrl, faults: () => this.faults.webhooks, random: () => this.random(), attempts: 1 });
  protected nextId = { post: 100, item: 1000, meta: 5000, webhook: 1 };
  readonly currency: string;
  protected readonly taxRate: string | null;
  /** The store's clock (WooEmulatorOptions.clock). */
  protected readonly now: () => Date;

  constructor(opts: WooEmulatorOptions) {
    super();
    this.webhookSecret = opts.webhookSecret;
    this.random = opts.random ?? Math.random;
    this.currency = opts.currency ?? 'AUD';
    this.taxRate = opts.taxRate ?? null;
    // The store's clock (`clock`, else the wall clock): when its orders and products are created and modified.
    const clock = opts.clock;
    this.now = clock ? () => new Date(clock()) : () => new Date();
    if (this.taxRate !== null) percentPpm(this.taxRate);
    if (opts.clock) this.clockMs = opts.clock;
  }

  // ------------------------------------------------------------------ lifecycle

  /** Creates one active webhook per topic the connector uses, all delivering to this URL. */
  override subscribe(url: string): void {
    super.subscribe(url);
    for (const t of WEBHOOK_TOPICS) if (!this.webhookIds.has(t)) this.webhookIds.set(t, this.nextId.webhook++);
  }

  // ------------------------------------------------------------------ catalog state

  locations(): string[] {
    return [WOO_LOCATION];
  }

  seed(products: EmulatorProduct[]): void {
    for (const p of products) {
      const q = p.levels[WOO_LOCATION] ?? Object.values(p.levels)[0];
      const existing = this.bySku(p.sku);
      if (existing) {
        if (q !== undefined) {
          existing.manageStock = true;
          existing.stock = q;
        }
        if (p.price !== undefined) existing.price = p.price;
      } else {
        this.addProduct({ sku: p.sku, name: p.title, stock: q ?? null, ...(p.price !== undefined ? { price: p.price } : {}) });
      }
    }
  }

  /** Adds a product (simple unless said otherwise) without webhooks. */
  addProduct(p: { sku: string; name: string; stock?: number | null; type?: Exclude<ProductType, 'variation'>; catalogVisibility?: Product['catalogVisibility']; price?: number }): Product {
    const now = this.now();
    const prod: Product = {
      id: this.nextId.post++,
      type: p.type ?? 'simple',
      parentId: 0,
      name: p.name,
      sku: p.sku,
      manageStock: p.stock !== null && p.stock !== undefined,
      stock: p.stock ?? null,
      catalogVisibility: p.catalogVisibility ?? 'visible',
      status: 'publish',
      attributes: [],
      created: now,
      modified: now,
      price: p.price ?? DEFAULT_PRICE,
    };
    this.products.set(prod.id, prod);
    return prod;
  }

  /** Adds a variable product and its variations (each with its own SKU and stock). */
  addVariable(p: { name: string; sku?: string; attribute?: string; variations: { sku: string; option: string; stock?: number | null; price?: number }[] }): { parent: Product; variations: Product[] } {
    const parent = this.addProduct({ sku: p.sku ?? '', name: p.name, stock: null, type: 'variable' });
    const variations = p.variations.map((v) => {
      const now = this.now();
      const prod: Product = {
        id: this.nextId.post++,
        type: 'variation',
        parentId: parent.id,
        name: `${p.name} - ${v.option}`,
        sku: v.sku,
        manageStock: v.stock !== null && v.stock !== undefined,
        stock: v.stock ?? null,
        catalogVisibility: 'visible',
        status: 'publish',
        attributes: [{ name: p.attribute ?? 'Size', option: v.option }],
        created: now,
        modified: now,
        price: v.price ?? DEFAULT_PRICE,
      };
      this.products.set(prod.id, prod);
      return prod;
    });
    return { parent, variations };
  }

  protected bySku(sku: string): Product | undefined {
    return [...this.products.values()].find((p) => p.sku === sku && p.type !== 'variable');
  }

  /** The connector's ids for the first product or variation with this SKU. */
  listing(sku: string): { productId: string; variantId: string } | null {
    const p = this.bySku(sku);
    if (!p) return null;
    return p.type === 'variation' ? { productId: String(p.parentId), variantId: String(p.id) } : { productId: String(p.id), variantId: String(p.id) };
  }

  product(sku: string): Readonly<Product> | null {
    return this.bySku(sku) ?? null;
  }

  level(sku: string, locationId: string): number | null {
    if (locationId !== WOO_LOCATION) return null;
    return this.bySku(sku)?.stock ?? null;
  }

  order(orderId: string): Json | null {
    const o = this.orders.get(Number(orderId));
    return o ? this.orderBody(o) : null;
  }

  // ------------------------------------------------------------------ REST shapes

  protected stockStatus(p: Product): string {
    if (!p.manageStock || p.stock === null) return 'instock';
    return p.stock > 0 ? 'instock' : 'outofstock';
  }

  /** The product as /wc/v3/products/{id} answers it (variations included, type "variation"). */
  productBody(p: Product): Json {
    return {
      id: p.id,
      name: p.name,
      slug: p.name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
      permalink: `${this.baseUrl}/product/${p.id}/`,
      date_created: wooDate(p.created),
      date_created_gmt: wooDate(p.created),
      date_modified: wooDate(p.modified),
      date_modified_gmt: wooDate(p.modified),
      type: p.type,
      status: p.status,
      featured: false,
      catalog_visibility: p.catalogVisibility,
      description: '',
      short_description: '',
      sku: p.sku,
      price: this.fmt(p.price),
      regular_price: this.fmt(p.price),
      sale_price: '',
      purchasable: true,
      manage_stock: p.manageStock,
      stock_quantity: p.manageStock ? p.stock : null,
      stock_status: this.stockStatus(p),
      backorders: 'no',
      parent_id: p.parentId,
      attributes: p.type === 'variation' ? p.attributes.map((a) => ({ id: 0, name: a.name, option: a.option })) : [],
      variations: p.type === 'variable' ? [...this.products.values()].filter((v) => v.parentId === p.id).map((v) => v.id) : [],
      meta_data: [],
    };
  }

  /** A variation as /wc/v3/products/{pid}/variations/{id} answers it. */
  variationBody(v: Product): Json {
    return {
      id: v.id,
      date_created: wooDate(v.created),
      date_created_gmt: wooDate(v.created),
      date_modified: wooDate(v.modified),
      date_modified_gmt: wooDate(v.modified),
      description: '',
      permalink: `${this.baseUrl}/product/${v.parentId}/?attribute_size=${encodeURIComponent(v.attributes[0]?.option ?? '')}`,
      sku: v.sku,
      price: this.fmt(v.price),
      regular_price: this.fmt(v.price),
      status: v.status,
      purchasable: v.status === 'publish',
      manage_stock: v.manageStock,
      stock_quantity: v.manageStock ? v.stock : null,
      stock_status: this.stockStatus(v),
      backorders: 'no',
      attributes: v.attributes.map((a) => ({ id: 0, name: a.name, option: a.option })),
      name: v.name,
      parent_id: v.parentId,
      meta_data: [],
    };
  }

  protected fmt(amount: number): string {
    return formatMinor(amount, this.currency);
  }

  /** A line as WooCommerce totals it: subtotal before the discount, total after, and the tax on each. */
  protected lineMoney(l: OrderLine): { subtotal: number; subtotalTax: number; total: number; totalTax: number } {
    const subtotal = l.price * l.quantity;
    const total = subtotal - l.discount;
    return { subtotal, subtotalTax: applyPpm(subtotal, l.taxPpm), total, totalTax: applyPpm(total, l.taxPpm) };
  }

  protected orderBody(o: Order): Json {
    const lines = o.lines.map((l) => ({ l, m: this.lineMoney(l) }));
    const itemsTotal = lines.reduce((n, x) => n + x.m.total, 0);
    const discount = lines.reduce((n, x) => n + x.l.discount, 0);
    const cartTax = lines.reduce((n, x) => n + x.m.totalTax, 0);
    const discountTax = lines.reduce((n, x) => n + x.m.subtotalTax - x.m.totalTax, 0);
    const taxPpm = o.lines.find((l) => l.taxPpm > 0)?.taxPpm ?? 0;
    const total = itemsTotal + o.shipping + cartTax;
    return {
      id: o.id,
      parent_id: 0,
      status: o.status,
      currency: this.currency,
      version: '9.9.0',
      prices_include_tax: false,
      date_created: wooDate(o.created),
      date_modified: wooDate(o.modified),
      discount_total: this.fmt(discount),
      discount_tax: this.fmt(discountTax),
      shipping_total: this.fmt(o.shipping),
      shipping_tax: this.fmt(0),
      cart_tax: this.fmt(cartTax),
      total: this.fmt(total),
      total_tax: this.fmt(cartTax),
      customer_id: 0,
      order_key: `wc_order_${o.id}`,
      billing: { first_name: 'Sam', last_name: 'Buyer', email: 'sam@example.com' },
      shipping: {},
      payment_method: 'stripe',
      payment_method_title: 'Stripe',
      created_via: 'checkout',
      date_paid: wooDate(o.paid),
      date_completed: null,
      cart_hash: '',
      number: String(o.id),
      meta_data: [],
      line_items: lines.map(({ l, m }) => {
        const p = this.products.get(l.productId);
        const isVar = p?.type === 'variation';
        return {
          id: l.id,
          name: p?.name ?? 'Deleted product',
          product_id: p ? (isVar ? p.parentId : p.id) : 0,
          variation_id: isVar ? p.id : 0,
          quantity: l.quantity,
          tax_class: '',
          subtotal: this.fmt(m.subtotal),
          subtotal_tax: this.fmt(m.subtotalTax),
          total: this.fmt(m.total),
          total_tax: this.fmt(m.totalTax),
          taxes: l.taxPpm > 0 ? [{ id: 1, total: this.fmt(m.totalTax), subtotal: this.fmt(m.subtotalTax) }] : [],
          meta_data: l.meta.map((x) => ({ id: x.id, key: x.key, value: x.value, display_key: x.key, display_value: x.value })),
          sku: p?.sku ?? null,
          // WooCommerce's own arithmetic: get_total() / get_quantity(), a PHP float.
          price: l.quantity ? Number(this.fmt(m.total)) / l.quantity : 0,
          image: { id: '', src: '' },
          parent_name: isVar ? (this.products.get(p.parentId)?.name ?? null) : null,
        };
      }),
      tax_lines: taxPpm > 0 ? [{ id: 1, rate_code: `${this.currency}-TAX-1`, rate_id: 1, label: 'Tax', compound: false, tax_total: this.fmt(cartTax), shipping_tax_total: this.fmt(0), rate_percent: taxPpm / 10_000, meta_data: [] }] : [],
      shipping_lines: o.shipping > 0 ? [{ id: o.id * 10 + 1, method_title: 'Flat rate', method_id: 'flat_rate', instance_id: '1', total: this.fmt(o.shipping), total_tax: this.fmt(0), taxes: [], meta_data: [] }] : [],
      fee_lines: [],
      coupon_lines: discount > 0 ? [{ id: o.id * 10 + 2, code: 'discount', discount: this.fmt(discount), discount_tax: this.fmt(discountTax), meta_data: [] }] : [],
      refunds: o.refunds.map((r) => ({ id: r.id, reason: r.reason, total: `-${this.fmt(r.amount)}` })),
      payment_url: `${this.baseUrl}/checkout/order-pay/${o.id}/`,
      is_editable: false,
      needs_payment: false,
      needs_processing: true,
      date_created_gmt: wooDate(o.created),
      date_modified_gmt: wooDate(o.modified),
      date_completed_gmt: null,
      date_paid_gmt: wooDate(o.paid),
      currency_symbol: '$',
    };
  }

  // ------------------------------------------------------------------ webhooks

  protected enqueue(topic: (typeof WEBHOOK_TOPICS)[number], payload: Json): void {
    const url = this.webhookUrl;
    const webhookId = this.webhookIds.get(topic);
    if (!url || webhookId === undefined) return;
    const body = phpJson(payload).trim();
    const [resource, event] = topic.split('.') as [string, string];
    // wp_hash($webhook_id . strtotime('now')): an md5 HMAC, the same within one second.
    const deliveryId = crypto.createHmac('md5', this.salt).update(`${webhookId}${Math.floor(Date.now() / 1000)}`).digest('hex');
    const delivery: OutgoingWebhook = {
      topic,
      id: deliveryId,
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'WooCommerce/9.9.0 Hookshot (WordPress/6.8.1)',
        'x-wc-webhook-source': `${this.baseUrl}/`,
        'x-wc-webhook-topic': topic,
        'x-wc-webhook-resource': resource,
        'x-wc-webhook-event': event,
        'x-wc-webhook-signature': signWooWebhook(body, this.webhookSecret),
        'x-wc-webhook-id': String(webhookId),
        'x-wc-webhook-delivery-id': deliveryId,
      },
    };
    this.queueWebhook(delivery);
  }

}
