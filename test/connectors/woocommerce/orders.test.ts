/**
 * WooCommerce: the money and states the connector reads for the transaction log, exact in minor
 * units, from the REST API docs' order examples (727, and 723 with its two refunds), JPY and KWD
 * stores; and through the emulator, a sale's details equal to what the emulated store charged.
 */
import type { ChannelFact, OrderDetails } from '../../../server/connectors/types';
import { WooEmulator } from '../../../server/connectors/woocommerce/emulator';
import { translate } from '../../../server/connectors/woocommerce/translate';
import { verifyWooWebhook } from '../../../server/connectors/woocommerce/verify';
import { toMinor } from '../../../server/shared/money';
import { TOPIC_OF, WebhookSink } from '../helpers/webhook-sink';
import { booked, orderOf } from '../helpers/facts';

type Json = Record<string, any>;
// The REST API docs' "Create an order" / "Retrieve an order" response (order 727), trimmed to the
// fields the connector reads.
const doc727: Json = {
  id: 727,
  parent_id: 0,
  number: '727',
  status: 'processing',
  currency: 'USD',
  date_created: '2017-03-22T16:28:02',
  date_created_gmt: '2017-03-22T19:28:02',
  date_modified: '2017-03-22T16:28:08',
  date_modified_gmt: '2017-03-22T19:28:08',
  discount_total: '0.00',
  discount_tax: '0.00',
  shipping_total: '10.00',
  shipping_tax: '0.00',
  cart_tax: '1.35',
  total: '29.35',
  total_tax: '1.35',
  prices_include_tax: false,
  customer_id: 0,
  billing: { first_name: 'John', last_name: 'Doe', email: 'john.doe@example.com', phone: '(555) 555-5555' },
  payment_method: 'bacs',
  payment_method_title: 'Direct Bank Transfer',
  date_paid: '2017-03-22T16:28:08',
  date_paid_gmt: '2017-03-22T19:28:08',
  line_items: [
    { id: 315, name: 'Woo Single #1', product_id: 93, variation_id: 0, quantity: 2, tax_class: '', subtotal: '6.00', subtotal_tax: '0.45', total: '6.00', total_tax: '0.45', taxes: [{ id: 75, total: '0.45', subtotal: '0.45' }], meta_data: [], sku: '', price: 3 },
    { id: 316, name: 'Ship Your Idea &ndash; Color: Black, Size: M Test', product_id: 22, variation_id: 23, quantity: 1, tax_class: '', subtotal: '12.00', subtotal_tax: '0.90', total: '12.00', total_tax: '0.90', taxes: [{ id: 75, total: '0.9', subtotal: '0.9' }], meta_data: [], sku: 'Bar3', price: 12 },
  ],
  tax_lines: [{ id: 318, rate_code: 'US-CA-STATE TAX', rate_id: 75, label: 'State Tax', compound: false, tax_total: '1.35', shipping_tax_total: '0.00' }],
  shipping_lines: [{ id: 317, method_title: 'Flat Rate', method_id: 'flat_rate', total: '10.00', total_tax: '0.00', taxes: [] }],
  fee_lines: [],
  coupon_lines: [],
  refunds: [],
};

const details727: OrderDetails = {
  currency: 'USD',
  subtotal: 1800,
  discount: 0,
  tax: 135,
  shipping: 1000,
  total: 2935,
  paymentStatus: 'paid',
  fulfilmentStatus: 'unfulfilled',
  customerRef: null,
  contact: { name: 'John Doe', email: 'john.doe@example.com' },
  number: null,
  placedAt: '2017-03-22T19:28:02.000Z',
  lines: [
    { lineId: '315', sku: null, title: 'Woo Single #1', quantity: 2, unitPrice: 300, discount: 0, tax: 45, total: 600 },
    { lineId: '316', sku: 'Bar3', title: 'Ship Your Idea &ndash; Color: Black, Size: M Test', quantity: 1, unitPrice: 1200, discount: 0, tax: 90, total: 1200 },
  ],
};

// The docs' "List all orders" second order (723): completed, customer 26, two refunds listed as
// `{id, refund, total}` (the docs spell the reason key "refund").
const doc723: Json = {
  id: 723,
  parent_id: 0,
  number: '723',
  status: 'completed',
  currency: 'USD',
  date_created: '2017-03-21T16:16:00',
  date_created_gmt: '2017-03-21T19:16:00',
  date_modified: '2017-03-21T16:54:51',
  date_modified_gmt: '2017-03-21T19:54:51',
  discount_total: '0.00',
  shipping_total: '10.00',
  cart_tax: '0.00',
  total: '39.00',
  total_tax: '0.00',
  customer_id: 26,
  billing: { first_name: 'João', last_name: 'Silva', email: 'joao.silva@example.com' },
  date_paid: null,
  date_paid_gmt: null,
  date_completed: '2017-03-21T16:54:51',
  date_completed_gmt: '2017-03-21T19:54:51',
  line_items: [
    { id: 311, name: 'Woo Album #2', product_id: 87, variation_id: 0, quantity: 1, subtotal: '9.00', subtotal_tax: '0.00', total: '9.00', total_tax: '0.00', taxes: [], meta_data: [], sku: '', price: 9 },
    { id: 313, name: 'Woo Ninja', product_id: 34, variation_id: 0, quantity: 1, subtotal: '20.00', subtotal_tax: '0.00', total: '20.00', total_tax: '0.00', taxes: [], meta_data: [], sku: '', price: 20 },
  ],
  shipping_lines: [{ id: 312, method_title: 'Flat rate', method_id: 'flat_rate:25', total: '10.00', total_tax: '0.00' }],
  refunds: [
    { id: 726, refund: '', total: '-10.00' },
    { id: 724, refund: '', total: '-9.00' },
  ],
};

describe('translate: order money from the REST API docs’ examples', () => {
  it('order.created of order 727 → the sale, unchanged, carrying the order in minor units (subtotal + shipping + tax = total)', () => {
    const facts = translate('order.created', doc727, {});
    expect(facts).toEqual([
      {
        type: 'sale',
        orderId: '727',
        occurredAt: '2017-03-22T19:28:02.000Z',
        lines: [
          { lineId: '315', sku: null, ref: { productId: '93', variantId: '93' }, quantity: 2, locationId: 'default' },
          { lineId: '316', sku: 'Bar3', ref: { productId: '22', variantId: '23' }, quantity: 1, locationId: 'default' },
        ],
        order: details727,
      },
    ]);
    expect(details727.subtotal + details727.shipping + details727.tax).toBe(details727.total);
  });

  it('order.updated of order 727 → order_updated ("updated") first, then the same sale (same line ids: books nothing again)', () => {
    const facts = translate('order.updated', { ...doc727, status: 'completed', date_modified_gmt: '2017-03-23T09:00:00' }, {});
    expect(facts.map((f) => f.type)).toEqual(['order_updated', 'sale']);
    expect(facts[0]).toEqual({ type: 'order_updated', orderId: '727', occurredAt: '2017-03-23T09:00:00.000Z', change: 'updated', order: { ...details727, fulfilmentStatus: 'fulfilled' } });
    // The same stock lines and keys; only the states its `order` carries moved on.
    expect({ ...facts[1], order: undefined }).toEqual({ ...translate('order.created', doc727, {})[0], order: undefined });
    expect(orderOf(facts[1])).toEqual(orderOf(facts[0]));
  });

  it('order 723 (completed, refunds of 10.00 and 9.00) → the update (partially refunded), the sale, and one money-only refund fact per refund', () => {
    const facts = translate('order.updated', doc723, {});
    expect(facts.map((f) => f.type)).toEqual(['order_updated', 'sale', 'refund', 'refund']);
    expect(orderOf(facts[0])).toEqual({
      currency: 'USD',
      subtotal: 2900,
      discount: 0,
      tax: 0,
      shipping: 1000,
      total: 3900,
      paymentStatus: 'partially_refunded',
      fulfilmentStatus: 'fulfilled',
      customerRef: '26',
      contact: { name: 'João Silva', email: 'joao.silva@example.com' },
      number: null,
      placedAt: '2017-03-21T19:16:00.000Z',
      lines: [
        { lineId: '311', sku: null, title: 'Woo Album #2', quantity: 1, unitPrice: 900, discount: 0, tax: 0, total: 900 },
        { lineId: '313', sku: null, title: 'Woo Ninja', quantity: 1, unitPrice: 2000, discount: 0, tax: 0, total: 2000 },
      ],
    });
    expect(facts.slice(2)).toEqual([
      { type: 'refund', refundId: '726', orderId: '723', occurredAt: '2017-03-21T19:54:51.000Z', lines: [], money: { currency: 'USD', amount: 1000 } },
      { type: 'refund', refundId: '724', orderId: '723', occurredAt: '2017-03-21T19:54:51.000Z', lines: [], money: { currency: 'USD', amount: 900 } },
    ]);
    // The refunds restocked nothing: only the sale books stock (two lines, one unit each).
    expect(booked(facts, 'woo').map((p) => p.kind === 'command' && p.command.type === 'adjust' && p.command.quantity)).toEqual([-1, -1]);
  });

  it('a discount (coupon) shows as subtotal − total on the line and discount_total on the order; the unit price is the subtotal ÷ quantity when it divides exactly', () => {
    const coupon = {
      ...doc727,
      discount_total: '1.00',
      total: '28.25',
      total_tax: '1.25',
      line_items: [{ ...doc727.line_items[0], subtotal: '6.00', total: '5.00', total_tax: '0.35', price: 2.5 }, { ...doc727.line_items[1], quantity: 3, subtotal: '10.00', total: '10.00', total_tax: '0.90', price: 3.3333333333333335 }],
    };
    const order = orderOf(translate('order.created', coupon, {})[0])!;
    expect(order.lines.map((l) => [l.unitPrice, l.discount, l.tax, l.total])).toEqual([
      [300, 100, 35, 500],
      [null, 0, 90, 1000],
    ]);
    expect([order.subtotal, order.discount, order.tax, order.total]).toEqual([1500, 100, 125, 2825]);
  });
});

describe('translate: stores whose currency has no cents or three decimals', () => {
  it('JPY (store set to 0 decimals): "2935" is 2935 yen; a JPY store left at 2 decimals ("2935.00") reads the same; "2935.50" yen is refused, the sale kept', () => {
    const yen = {
      ...doc727,
      currency: 'JPY',
      shipping_total: '1000',
      total: '2935',
      total_tax: '135',
      discount_total: '0',
      line_items: [
        { ...doc727.line_items[0], subtotal: '600', total: '600', total_tax: '45' },
        { ...doc727.line_items[1], subtotal: '1200', total: '1200', total_tax: '90' },
      ],
    };
    const expected = { currency: 'JPY', subtotal: 1800, tax: 135, shipping: 1000, total: 2935, lines: [expect.objectContaining({ unitPrice: 300, total: 600 }), expect.objectContaining({ unitPrice: 1200, total: 1200 })] };
    expect(orderOf(translate('order.created', yen, {})[0])).toMatchObject(expected);
    const twoDp = { ...yen, total: '2935.00', shipping_total: '1000.00', total_tax: '135.00', line_items: yen.line_items.map((l: Json) => ({ ...l, subtotal: `${l.subtotal}.00`, total: `${l.total}.00`, total_tax: `${l.total_tax}.00` })) };
    expect(orderOf(translate('order.created', twoDp, {})[0])).toMatchObject(expected);
    const [sale] = translate('order.created', { ...yen, total: '2935.50' }, {});
    expect(sale).toEqual({ ...translate('order.created', yen, {})[0], order: undefined });
    expect(orderOf(sale)).toBeUndefined();
  });

  it('KWD (3 decimals): "12.345" is 12345 fils; refunds too', () => {
    const kwd = {
      ...doc723,
      currency: 'KWD',
      shipping_total: '1.500',
      total: '26.190',
      line_items: [{ ...doc723.line_items[0], subtotal: '12.345', total: '12.345' }, { ...doc723.line_items[1], subtotal: '12.345', total: '12.345' }],
      refunds: [{ id: 901, reason: '', total: '-12.345' }],
    };
    const facts = translate('order.updated', kwd, {});
    expect(orderOf(facts[0])).toMatchObject({ currency: 'KWD', subtotal: 24690, shipping: 1500, total: 26190, paymentStatus: 'partially_refunded' });
    expect(facts.at(-1)).toMatchObject({ type: 'refund', refundId: '901', money: { currency: 'KWD', amount: 12345 } });
  });
});

describe('translate: states and order_updated', () => {
  const at = (status: string, extra: Json = {}) => orderOf(translate('order.updated', { ...doc727, status, ...extra }, {})[0]);

  it.each([
    ['processing, paid', 'paid', 'unfulfilled', 'processing', {}],
    ['processing, not paid yet (cash on delivery)', 'pending', 'unfulfilled', 'processing', { date_paid: null, date_paid_gmt: null }],
    ['on-hold, awaiting payment', 'pending', 'unfulfilled', 'on-hold', { date_paid: null, date_paid_gmt: null }],
    ['completed', 'paid', 'fulfilled', 'completed', { date_paid: null, date_paid_gmt: null }],
    ['pending', 'pending', 'unfulfilled', 'pending', { date_paid: null, date_paid_gmt: null }],
    ['failed', 'voided', 'unfulfilled', 'failed', { date_paid: null, date_paid_gmt: null }],
    ['cancelled', 'voided', 'cancelled', 'cancelled', {}],
    ['refunded, nothing restocked', 'refunded', 'unknown', 'refunded', { refunds: [{ id: 1, reason: '', total: '-29.35' }] }],
    ['refunded, every unit restocked', 'refunded', 'returned', 'refunded', { line_items: doc727.line_items.map((l: Json) => ({ ...l, meta_data: [{ id: 1, key: '_restock_refunded_items', value: String(l.quantity) }] })) }],
    ['processing with a partial refund', 'partially_refunded', 'unfulfilled', 'processing', { refunds: [{ id: 1, reason: '', total: '-5.00' }] }],
    ['a status a plugin added', 'unknown', 'unknown', 'wc-awaiting-shipment', {}],
  ])('%s → %s, %s', (_what, payment, fulfilment, status, extra) => {
    expect(at(status, extra)).toMatchObject({ paymentStatus: payment, fulfilmentStatus: fulfilment });
  });

  it('pending and failed orders book nothing: order.created gives one order_updated ("created"); checkout drafts and trashed orders give nothing', () => {
    const pending = translate('order.created', { ...doc727, status: 'pending', date_paid: null, date_paid_gmt: null }, {});
    expect(pending).toEqual([{ type: 'order_updated', orderId: '727', occurredAt: '2017-03-22T19:28:08.000Z', change: 'created', order: expect.objectContaining({ paymentStatus: 'pending', total: 2935 }) }]);
    expect(booked(pending, 'woo')).toEqual([]);
    expect(translate('order.updated', { ...doc727, status: 'failed' }, {}).map((f) => f.type)).toEqual(['order_updated']);
    expect(translate('order.created', { ...doc727, status: 'checkout-draft' }, {})).toEqual([]);
    expect(translate('order.updated', { ...doc727, status: 'trash' }, {})).toEqual([]);
    // Unreadable money: nothing to log, and the stock part is as before (nothing for a pending order).
    expect(translate('order.created', { ...doc727, status: 'pending', currency: 'dollars' }, {})).toEqual([]);
  });

  it('cancelled → the update, the sale and the restocking cancellation, both carrying the cancelled order', () => {
    const facts = translate('order.updated', { ...doc727, status: 'cancelled' }, {});
    expect(facts.map((f) => f.type)).toEqual(['order_updated', 'sale', 'cancellation']);
    expect(facts.map((f) => orderOf(f)?.fulfilmentStatus)).toEqual(['cancelled', 'cancelled', 'cancelled']);
  });
});

describe('emulator: the sale’s order is what the emulated store charged', () => {
  const CK = 'ck_orders_test';
  const CS = 'cs_orders_test';
  const WHSEC = 'orders test webhook secret';
  let emu: WooEmulator;
  let sink: WebhookSink;

  async function start(opts: { currency?: string; taxRate?: string }, price: number): Promise<void> {
    emu = new WooEmulator({ consumerKey: CK, consumerSecret: CS, webhookSecret: WHSEC, ...opts });
    await emu.start();
    sink = new WebhookSink('/v1/webhooks/woo', TOPIC_OF.woocommerce);
    emu.subscribe(await sink.start());
    emu.addProduct({ sku: 'ART-1', name: 'Dot painting', stock: 10, price });
  }

  async function received(): Promise<{ topic: string; body: Json; facts: ChannelFact[] }[]> {
    await emu.flushWebhooks();
    return sink.translated<Json>((raw, h) => verifyWooWebhook(raw, h, WHSEC), translate);
  }

  afterEach(async () => {
    await emu.stop();
    await sink.stop();
  });

  it('AUD, 10% tax, a coupon and shipping: the order details match the order body to the cent and add up', async () => {
    await start({ taxRate: '10' }, 4500);
    const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 2, discount: 500, shipping: 1000 });
    const got = await received();
    expect(got.map((g) => g.topic)).toEqual(['order.created', 'product.updated']);
    const charged = emu.order(orderId)! as Json;
    expect([charged.total, charged.total_tax, charged.discount_total, charged.shipping_total]).toEqual(['103.50', '8.50', '5.00', '10.00']);
    const order = orderOf(got[0]!.facts[0])!;
    expect(order.total).toBe(toMinor(charged.total, 'AUD'));
    expect(order).toEqual({
      currency: 'AUD',
      subtotal: 8500,
      discount: 500,
      tax: 850,
      shipping: 1000,
      total: 10350,
      paymentStatus: 'paid',
      fulfilmentStatus: 'unfulfilled',
      customerRef: null,
      contact: { name: 'Sam Buyer', email: 'sam@example.com' },
      number: null,
      placedAt: `${charged.date_created_gmt}.000Z`,
      lines: [{ lineId: String(charged.line_items[0].id), sku: 'ART-1', title: 'Dot painting', quantity: 2, unitPrice: 4500, discount: 500, tax: 850, total: 8500 }],
    });
    expect(order.subtotal + order.shipping + order.tax).toBe(order.total);
  });

  it('partial refunds: each listed with its exact share (line total and tax), adding up to what was paid; the last one makes the order refunded', async () => {
    await start({ taxRate: '10' }, 3333);
    const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 3 });
    for (let i = 0; i < 3; i++) await emu.refund({ orderId, restock: i === 0, quantity: 1 });
    const got = await received();
    const total = orderOf(got[0]!.facts[0])!.total;
    expect(total).toBe(10999);
    const last = got.filter((g) => g.topic === 'order.updated').at(-1)!.facts;
    const money = last.filter((f) => f.type === 'refund' && f.lines.length === 0).map((f) => (f.type === 'refund' ? f.money : null));
    expect(money).toEqual([
      { currency: 'AUD', amount: 3666 },
      { currency: 'AUD', amount: 3666 },
      { currency: 'AUD', amount: 3667 },
    ]);
    expect(money.reduce((n, m) => n + (m?.amount ?? 0), 0)).toBe(total);
    expect(orderOf(last[0])).toMatchObject({ paymentStatus: 'refunded' });
    // The one restocked unit is still booked once, under its own key; the money facts book nothing.
    const sale = last.find((f): f is Extract<ChannelFact, { type: 'sale' }> => f.type === 'sale')!;
    const keys = booked(last.filter((f) => f.type === 'refund'), 'woo').map((p) => (p.kind === 'command' && p.command.type === 'adjust' ? p.command.key : null));
    expect(keys).toEqual([`refund:woo:order-${orderId}-refund-restocks:${sale.lines[0]!.lineId}:restock:1`]);
  });

  it('completing the order: order.updated → order_updated with the order fulfilled, before the repeated sale', async () => {
    await start({}, 2500);
    const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 1 });
    await emu.setOrderStatus(orderId, 'completed');
    const got = await received();
    const update = got.find((g) => g.topic === 'order.updated')!.facts;
    expect(update.map((f) => f.type)).toEqual(['order_updated', 'sale']);
    expect(update[0]).toMatchObject({ type: 'order_updated', change: 'updated', order: { paymentStatus: 'paid', fulfilmentStatus: 'fulfilled', total: 2500 } });
  });

  it('JPY (0 decimals) and KWD (3): the bodies carry "2640" and "12.962", the facts 2640 yen and 12962 fils', async () => {
    await start({ currency: 'JPY', taxRate: '10' }, 1200);
    await emu.sell({ sku: 'ART-1', quantity: 2 });
    let got = await received();
    expect([got[0]!.body.total, got[0]!.body.line_items[0].subtotal, got[0]!.body.total_tax]).toEqual(['2640', '2400', '240']);
    expect(orderOf(got[0]!.facts[0])).toMatchObject({ currency: 'JPY', subtotal: 2400, tax: 240, total: 2640, lines: [{ unitPrice: 1200 }] });
    await emu.stop();
    await sink.stop();

    await start({ currency: 'KWD', taxRate: '5' }, 12345);
    await emu.sell({ sku: 'ART-1', quantity: 1 });
    got = await received();
    expect([got[0]!.body.total, got[0]!.body.line_items[0].total, got[0]!.body.total_tax]).toEqual(['12.962', '12.345', '0.617']);
    expect(orderOf(got[0]!.facts[0])).toMatchObject({ currency: 'KWD', subtotal: 12345, tax: 617, total: 12962 });
  });
});
