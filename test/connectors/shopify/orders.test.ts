/**
 * Shopify: the money and states the connector reads for the transaction log (OrderDetails on sale,
 * cancellation and order_updated; RefundMoney on refund), exact in minor units, from Shopify's own
 * documented REST examples, a JPY shop's payload and three-decimal KWD amounts; and through the
 * emulator, a sale's details equal to what the emulated shop charged.
 */
import { ShopifyEmulator } from '../../../server/connectors/shopify/emulator';
import { translate } from '../../../server/connectors/shopify/translate';
import { verifyShopifyWebhook } from '../../../server/connectors/shopify/verify';
import type { ChannelFact, OrderDetails } from '../../../server/connectors/types';
import { toMinor } from '../../../server/shared/money';
import { WebhookSink } from '../helpers/webhook-sink';
import { booked, orderOf } from '../helpers/facts';

type Json = Record<string, any>;
const usd = (amount: string) => ({ shop_money: { amount, currency_code: 'USD' }, presentment_money: { amount, currency_code: 'USD' } });


// The REST Admin API's Order resource example (order 450789469, #1001) as Shopify documents it and
// client libraries reproduce it in their fixtures, trimmed to what the connector reads (plus the
// `payment_details` card fields it must never read). Its figures do not add up (597.00 − 10.00 is
// not 597.00): the connector reports them as the platform sends them, it does not recompute them.
const docOrder: Json = {
  id: 450789469,
  admin_graphql_api_id: 'gid://shopify/Order/450789469',
  name: '#1001',
  order_number: 1001,
  email: 'bob.norman@mail.example.com',
  contact_email: 'bob.norman@mail.example.com',
  created_at: '2008-01-10T11:00:00-05:00',
  updated_at: '2008-01-10T11:00:00-05:00',
  processed_at: '2008-01-10T11:00:00-05:00',
  cancelled_at: null,
  currency: 'USD',
  presentment_currency: 'USD',
  taxes_included: false,
  subtotal_price: '597.00',
  subtotal_price_set: usd('597.00'),
  total_discounts: '10.00',
  total_discounts_set: usd('10.00'),
  total_line_items_price: '597.00',
  total_price: '598.94',
  total_price_set: usd('598.94'),
  total_tax: '11.94',
  total_tax_set: usd('11.94'),
  total_shipping_price_set: usd('0.00'),
  financial_status: 'partially_refunded',
  fulfillment_status: null,
  location_id: null,
  customer: { id: 207119551, email: 'bob.norman@mail.example.com', first_name: 'Bob', last_name: 'Norman', admin_graphql_api_id: 'gid://shopify/Customer/207119551' },
  billing_address: { first_name: 'Bob', last_name: 'Norman', name: 'Bob Norman', phone: '555-625-1199' },
  payment_details: { credit_card_bin: null, credit_card_number: '•••• •••• •••• 4242', credit_card_company: 'Visa' },
  line_items: [
    {
      id: 466157049,
      admin_graphql_api_id: 'gid://shopify/LineItem/466157049',
      name: 'IPod Nano - 8gb - green',
      title: 'IPod Nano - 8gb',
      price: '199.00',
      price_set: usd('199.00'),
      product_id: 632910392,
      variant_id: 39072856,
      quantity: 1,
      sku: 'IPOD2008GREEN',
      gift_card: false,
      total_discount: '0.00',
      total_discount_set: usd('0.00'),
      tax_lines: [{ price: '3.98', price_set: usd('3.98'), rate: 0.06, title: 'State Tax' }],
      discount_allocations: [{ amount: '3.34', amount_set: usd('3.34'), discount_application_index: 0 }],
    },
  ],
  shipping_lines: [],
  refunds: [],
};

// Its refund 509562969 (restock: legacy_restock). What went back is the transaction, 209.00; the
// refund lines' subtotals (195.66 + 195.67, plus tax) are the goods' value, not the money.
const docRefund: Json = {
  id: 509562969,
  admin_graphql_api_id: 'gid://shopify/Refund/509562969',
  created_at: '2022-04-05T13:05:24-04:00',
  note: 'it broke during shipping',
  order_id: 450789469,
  processed_at: '2022-04-05T13:05:24-04:00',
  restock: true,
  order_adjustments: [],
  transactions: [{ id: 179259969, amount: '209.00', currency: 'USD', gateway: 'bogus', kind: 'refund', status: 'success', order_id: 450789469, parent_id: 801038806 }],
  refund_line_items: [
    { id: 104689539, line_item_id: 703073504, location_id: 487838322, quantity: 1, restock_type: 'legacy_restock', subtotal: 195.66, subtotal_set: usd('195.66'), total_tax: 3.98, total_tax_set: usd('3.98'), line_item: { id: 703073504, variant_id: 457924702, product_id: 632910392, quantity: 1, sku: 'IPOD2008BLACK', price: '199.00', gift_card: false } },
    { id: 709875399, line_item_id: 466157049, location_id: 487838322, quantity: 1, restock_type: 'legacy_restock', subtotal: 195.67, subtotal_set: usd('195.67'), total_tax: 3.98, total_tax_set: usd('3.98'), line_item: { id: 466157049, variant_id: 39072856, product_id: 632910392, quantity: 1, sku: 'IPOD2008GREEN', price: '199.00', gift_card: false } },
  ],
};

const docDetails: OrderDetails = {
  currency: 'USD',
  subtotal: 59700,
  discount: 1000,
  tax: 1194,
  shipping: 0,
  total: 59894,
  paymentStatus: 'partially_refunded',
  fulfilmentStatus: 'unfulfilled',
  customerRef: 'gid://shopify/Customer/207119551',
  contact: { name: 'Bob Norman', email: 'bob.norman@mail.example.com' },
  number: '#1001',
  placedAt: '2008-01-10T16:00:00.000Z',
  lines: [{ lineId: 'gid://shopify/LineItem/466157049', sku: 'IPOD2008GREEN', title: 'IPod Nano - 8gb - green', quantity: 1, unitPrice: 19900, discount: 334, tax: 398, total: 19566 }],
};

describe('translate: order money from Shopify’s documented examples', () => {
  it('orders/create of the REST Order example → the sale, unchanged, carrying the order in minor units (discount from discount_allocations, not the deprecated total_discount)', () => {
    const [sale, ...rest] = translate('orders/create', docOrder, {});
    expect(rest).toEqual([]);
    expect(sale).toEqual({
      type: 'sale',
      orderId: 'gid://shopify/Order/450789469',
      occurredAt: '2008-01-10T16:00:00.000Z',
      lines: [{ lineId: 'gid://shopify/LineItem/466157049', sku: 'IPOD2008GREEN', ref: { productId: 'gid://shopify/Product/632910392', variantId: 'gid://shopify/ProductVariant/39072856' }, quantity: 1, locationId: null }],
      order: docDetails,
    });
  });

  it('never carries payment card fields (payment_details is not read)', () => {
    const text = JSON.stringify(translate('orders/create', docOrder, {}));
    expect(text).not.toMatch(/4242|Visa|credit_card/);
  });

  it('orders/cancelled with its embedded refund → the cancellation with the cancelled order, and the refund with the money of its transaction (209.00), not of its lines', () => {
    const cancelled = { ...docOrder, cancelled_at: '2022-04-05T13:05:24-04:00', financial_status: 'refunded', fulfillment_status: 'restocked', refunds: [docRefund] };
    const facts = translate('orders/cancelled', cancelled, {});
    expect(facts.map((f) => f.type)).toEqual(['cancellation', 'refund']);
    expect(orderOf(facts[0])).toEqual({ ...docDetails, paymentStatus: 'refunded', fulfilmentStatus: 'cancelled' });
    expect(facts[1]).toEqual({
      type: 'refund',
      refundId: 'gid://shopify/Refund/509562969',
      orderId: 'gid://shopify/Order/450789469',
      occurredAt: '2022-04-05T17:05:24.000Z',
      lines: [
        expect.objectContaining({ lineId: 'gid://shopify/RefundLineItem/104689539', sku: 'IPOD2008BLACK', quantity: 1, restock: true }),
        expect.objectContaining({ lineId: 'gid://shopify/RefundLineItem/709875399', sku: 'IPOD2008GREEN', quantity: 1, restock: true }),
      ],
      money: { currency: 'USD', amount: 20900 },
    });
  });

  // The REST Refund resource's "Create a refund for an order" and "Refund a specific amount of
  // shipping" response examples (2025-10); a refunds/create webhook carries the same Refund.
  const refundOfLine: Json = {
    id: 929361462,
    order_id: 450789469,
    created_at: '2025-10-01T14:53:52-04:00',
    processed_at: '2025-10-01T14:53:52-04:00',
    restock: false,
    admin_graphql_api_id: 'gid://shopify/Refund/929361462',
    order_adjustments: [],
    refund_shipping_lines: [],
    refund_line_items: [
      { location_id: null, restock_type: 'no_restock', quantity: 1, id: 1058498307, line_item_id: 518995019, subtotal: 0.0, total_tax: 0.0, subtotal_set: usd('0.00'), total_tax_set: usd('0.00'), line_item: { id: 518995019, variant_id: 49148385, quantity: 1, sku: 'IPOD2008RED', product_id: 632910392, gift_card: false, price: '199.00' } },
    ],
    transactions: [{ id: 1068278463, order_id: 450789469, kind: 'refund', gateway: 'bogus', status: 'success', message: 'Bogus Gateway: Forced success', amount: '41.94', currency: 'USD', parent_id: 801038806 }],
  };
  const refundOfShipping: Json = {
    id: 929361463,
    order_id: 450789469,
    created_at: '2025-10-01T14:53:53-04:00',
    processed_at: '2025-10-01T14:53:53-04:00',
    restock: false,
    admin_graphql_api_id: 'gid://shopify/Refund/929361463',
    refund_shipping_lines: [{ id: 623176826, shipping_line_id: 369256396, subtotal_amount_set: usd('5.00') }],
    order_adjustments: [{ id: 1030976842, order_id: 450789469, refund_id: 929361463, amount: '-5.00', tax_amount: '0.00', kind: 'shipping_refund', reason: 'Shipping refund', amount_set: usd('-5.00'), tax_amount_set: usd('0.00') }],
    refund_line_items: [],
    transactions: [{ id: 1068278464, order_id: 450789469, kind: 'refund', gateway: 'bogus', status: 'success', message: 'Bogus Gateway: Forced success', amount: '5.00', currency: 'USD', parent_id: 801038806 }],
  };

  it('refunds/create (refund 929361462): the line, not restocked, and 41.94 given back', () => {
    expect(translate('refunds/create', refundOfLine, {})).toEqual([
      {
        type: 'refund',
        refundId: 'gid://shopify/Refund/929361462',
        orderId: 'gid://shopify/Order/450789469',
        occurredAt: '2025-10-01T18:53:52.000Z',
        lines: [{ lineId: 'gid://shopify/RefundLineItem/1058498307', sku: 'IPOD2008RED', ref: { productId: 'gid://shopify/Product/632910392', variantId: 'gid://shopify/ProductVariant/49148385' }, quantity: 1, locationId: null, restock: false }],
        money: { currency: 'USD', amount: 4194 },
      },
    ]);
  });

  it('a refund of shipping only (refund 929361463) is a refund fact with its money and no line: nothing to book', () => {
    const facts = translate('refunds/create', refundOfShipping, {});
    expect(facts).toEqual([{ type: 'refund', refundId: 'gid://shopify/Refund/929361463', orderId: 'gid://shopify/Order/450789469', occurredAt: '2025-10-01T18:53:53.000Z', lines: [], money: { currency: 'USD', amount: 500 } }]);
    expect(booked(facts, 'web')).toEqual([]);
  });

  it('money of a refund: failed transactions and other kinds do not count; none → null (nothing went back); no list → unknown; stock lines are kept either way', () => {
    const tx = (kind: string, status: string, amount: string) => ({ kind, status, amount, currency: 'USD' });
    const money = (transactions: unknown) => {
      const [f] = translate('refunds/create', { ...refundOfLine, transactions }, {});
      return f?.type === 'refund' ? f.money : 'no fact';
    };
    expect(money([tx('refund', 'failure', '41.94'), tx('refund', 'success', '10.00'), tx('sale', 'success', '99.00'), tx('refund', 'pending', '0.05')])).toEqual({ currency: 'USD', amount: 1005 });
    expect(money([])).toBeNull();
    expect(money([tx('refund', 'failure', '41.94')])).toBeNull();
    expect(money(undefined)).toBeUndefined();
    expect(money([tx('refund', 'success', '41.945')])).toBeUndefined();
    // A refund with neither a stock line nor money gives no fact, as before.
    expect(translate('refunds/create', { ...refundOfShipping, transactions: [] }, {})).toEqual([]);
  });
});

describe('translate: currencies whose minor unit is not the cent', () => {
  // A JPY shop's REST order as Shopify sent it (amounts without decimals: "23600", "0"), trimmed to two lines.
  const yen: Json = {
    id: 4216043012249,
    admin_graphql_api_id: 'gid://shopify/Order/4216043012249',
    name: '#1003',
    created_at: '2021-11-19T18:46:02+09:00',
    currency: 'JPY',
    subtotal_price: '11800',
    total_discounts: '0',
    total_tax: '0',
    total_price: '11800',
    total_shipping_price_set: { shop_money: { amount: '0', currency_code: 'JPY' }, presentment_money: { amount: '0', currency_code: 'JPY' } },
    financial_status: 'paid',
    fulfillment_status: null,
    location_id: 64632750233,
    customer: null,
    email: '',
    line_items: [
      { id: 10806460285081, admin_graphql_api_id: 'gid://shopify/LineItem/10806460285081', price: '5900', quantity: 1, sku: '7791P1XS000000', product_id: 7130427785369, variant_id: 41266103943321, total_discount: '0', discount_allocations: [], tax_lines: [{ price: '0', rate: 0.1, title: 'CT' }], gift_card: false, name: 'Lab coat - XS' },
      { id: 10806460317849, admin_graphql_api_id: 'gid://shopify/LineItem/10806460317849', price: '5900', quantity: 1, sku: '7791P11S000000', product_id: 7130427785369, variant_id: 41266103976089, total_discount: '0', discount_allocations: [], tax_lines: [{ price: '0', rate: 0.1, title: 'CT' }], gift_card: false, name: 'Lab coat - S' },
    ],
  };

  it('JPY: "11800" is 11800 yen (no hundredths), "5900" a unit at 5900; a walk-in (no customer, empty email) has no contact', () => {
    const order = orderOf(translate('orders/create', yen, {})[0]);
    expect(order).toEqual({
      currency: 'JPY',
      subtotal: 11800,
      discount: 0,
      tax: 0,
      shipping: 0,
      total: 11800,
      paymentStatus: 'paid',
      fulfilmentStatus: 'unfulfilled',
      customerRef: null,
      contact: null,
      number: '#1003',
      placedAt: '2021-11-19T09:46:02.000Z',
      lines: [
        { lineId: 'gid://shopify/LineItem/10806460285081', sku: '7791P1XS000000', title: 'Lab coat - XS', quantity: 1, unitPrice: 5900, discount: 0, tax: 0, total: 5900 },
        { lineId: 'gid://shopify/LineItem/10806460317849', sku: '7791P11S000000', title: 'Lab coat - S', quantity: 1, unitPrice: 5900, discount: 0, tax: 0, total: 5900 },
      ],
    });
  });

  it('JPY: a fractional yen amount cannot be read: the order is left out, the sale is emitted exactly as without money', () => {
    const bad = { ...yen, total_price: '11800.50' };
    const [sale] = translate('orders/create', bad, {});
    expect(sale).toEqual({ ...translate('orders/create', yen, {})[0], order: undefined });
    expect(sale && 'order' in sale).toBe(false);
  });

  it('KWD: three decimals ("12.345" is 12345 fils), a discount allocation and a tax line', () => {
    const kwd: Json = {
      ...docOrder,
      currency: 'KWD',
      subtotal_price: '24.190',
      total_discounts: '0.500',
      total_tax: '1.210',
      total_price: '27.900',
      total_shipping_price_set: { shop_money: { amount: '2.500', currency_code: 'KWD' }, presentment_money: { amount: '2.500', currency_code: 'KWD' } },
      financial_status: 'paid',
      line_items: [{ ...docOrder.line_items[0], price: '12.345', quantity: 2, discount_allocations: [{ amount: '0.500', discount_application_index: 0 }], tax_lines: [{ price: '1.210', rate: 0.05, title: 'VAT' }] }],
    };
    const order = orderOf(translate('orders/create', kwd, {})[0])!;
    expect([order.currency, order.subtotal, order.discount, order.tax, order.shipping, order.total]).toEqual(['KWD', 24190, 500, 1210, 2500, 27900]);
    expect(order.lines).toEqual([expect.objectContaining({ unitPrice: 12345, quantity: 2, discount: 500, tax: 1210, total: 24190 })]);
    expect(order.subtotal + order.shipping + order.tax).toBe(order.total);
    // Four decimals in a three-decimal currency are refused, never rounded: the sale stays, without money.
    const [sale] = translate('orders/create', { ...kwd, total_price: '27.9001' }, {});
    expect(sale).toMatchObject({ type: 'sale' });
    expect(orderOf(sale)).toBeUndefined();
  });
});

describe('translate: unreadable money never costs a sale', () => {
  it.each([
    ['no currency', { currency: undefined }],
    ['a currency that is not ISO 4217', { currency: 'usd' }],
    ['a total that is not an amount', { total_price: 'n/a' }],
    ['more decimals than the currency has', { subtotal_price: '597.001' }],
    ['shipping in another currency than the order', { total_shipping_price_set: { shop_money: { amount: '5.00', currency_code: 'EUR' } } }],
    ['a line without a price', { line_items: [{ ...docOrder.line_items[0], price: null }] }],
  ])('%s: the same sale and line ids, no order', (_what, patch) => {
    const facts = translate('orders/create', { ...docOrder, ...patch }, {});
    const clean = translate('orders/create', docOrder, {});
    expect(facts).toHaveLength(1);
    expect(facts[0]).toEqual({ ...clean[0], order: undefined });
    expect(orderOf(facts[0])).toBeUndefined();
  });
});

describe('translate: order_updated (an order changed without moving stock)', () => {
  it('orders/paid, orders/fulfilled and orders/updated → one order_updated each, naming the change, and nothing that books stock', () => {
    for (const [topic, change] of [
      ['orders/paid', 'paid'],
      ['orders/fulfilled', 'fulfilled'],
      ['orders/updated', 'updated'],
    ] as const) {
      const facts = translate(topic, { ...docOrder, financial_status: 'paid', fulfillment_status: topic === 'orders/fulfilled' ? 'fulfilled' : null }, {});
      expect(facts).toEqual([{ type: 'order_updated', orderId: 'gid://shopify/Order/450789469', occurredAt: '2008-01-10T16:00:00.000Z', change, order: expect.objectContaining({ total: 59894, paymentStatus: 'paid' }) }]);
      expect(booked(facts, 'web')).toEqual([]);
    }
    expect(orderOf(translate('orders/fulfilled', { ...docOrder, fulfillment_status: 'fulfilled' }, {})[0])?.fulfilmentStatus).toBe('fulfilled');
  });

  it.each([
    ['pending', 'pending'],
    ['authorized', 'authorized'],
    ['partially_paid', 'partially_paid'],
    ['paid', 'paid'],
    ['partially_refunded', 'partially_refunded'],
    ['refunded', 'refunded'],
    ['voided', 'voided'],
    ['expired', 'voided'],
    ['something_new', 'unknown'],
  ])('financial_status %s → %s', (status, mapped) => {
    expect(orderOf(translate('orders/updated', { ...docOrder, financial_status: status }, {})[0])?.paymentStatus).toBe(mapped);
  });

  it.each([
    [null, 'unfulfilled'],
    ['partial', 'partial'],
    ['fulfilled', 'fulfilled'],
    ['restocked', 'cancelled'],
    ['pending', 'unknown'],
  ])('fulfillment_status %s → %s', (status, mapped) => {
    expect(orderOf(translate('orders/updated', { ...docOrder, fulfillment_status: status }, {})[0])?.fulfilmentStatus).toBe(mapped);
  });

  it('an order whose money cannot be read gives no order_updated (and still needs an order id); an order of gift cards only is logged as created', () => {
    expect(translate('orders/paid', { ...docOrder, currency: null }, {})).toEqual([]);
    expect(() => translate('orders/paid', { total_price: '1.00' }, {})).toThrow(/no order id/);
    const giftCard = { ...docOrder, line_items: [{ ...docOrder.line_items[0], gift_card: true }] };
    const facts = translate('orders/create', giftCard, {});
    expect(facts).toEqual([{ type: 'order_updated', orderId: 'gid://shopify/Order/450789469', occurredAt: '2008-01-10T16:00:00.000Z', change: 'created', order: expect.objectContaining({ total: 59894 }) }]);
    expect(booked(facts, 'web')).toEqual([]);
  });
});

describe('emulator: the sale’s order is what the emulated shop charged', () => {
  const TOKEN = 'shpat_orders_test_token';
  const SECRET = 'shopify-orders-test-secret';
  const LOC = 'gid://shopify/Location/1001';
  let emu: ShopifyEmulator;
  let sink: WebhookSink;

  async function start(opts: { currency?: string; taxRate?: string }, price: number): Promise<void> {
    emu = new ShopifyEmulator({ accessToken: TOKEN, webhookSecret: SECRET, locations: [LOC], ...opts });
    await emu.start();
    sink = new WebhookSink();
    emu.subscribe(await sink.start());
    emu.addListing({ sku: 'ART-1', title: 'Dot painting', price, levels: { [LOC]: 10 } });
  }

  /** Every webhook received so far, verified with the app secret and translated, with its body. */
  async function received(): Promise<{ topic: string; body: Json; facts: ChannelFact[] }[]> {
    await emu.flushWebhooks();
    return sink.translated<Json>((raw, h) => verifyShopifyWebhook(raw, h, SECRET), translate);
  }

  afterEach(async () => {
    await emu.stop();
    await sink.stop();
  });

  it('AUD, 10% tax, a discount and shipping: the order details match the order body to the cent and add up (subtotal + shipping + tax = total)', async () => {
    await start({ currency: 'AUD', taxRate: '10' }, 4500);
    const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 2, discount: 500, shipping: 1000 });
    const got = await received();
    expect(got.map((g) => g.topic)).toEqual(['orders/create', 'orders/paid', 'inventory_levels/update']);
    const created = got[0]!;
    const order = orderOf(created.facts[0])!;
    // What the emulator charged, read from its own body (decimal strings) through toMinor.
    const charged = emu.order(orderId)! as Json;
    expect(charged.total_price).toBe('103.50');
    expect(order.total).toBe(toMinor(charged.total_price, 'AUD'));
    expect(order).toEqual({
      currency: 'AUD',
      subtotal: 8500,
      discount: 500,
      tax: 850,
      shipping: 1000,
      total: 10350,
      paymentStatus: 'paid',
      fulfilmentStatus: 'unfulfilled',
      customerRef: 'gid://shopify/Customer/207119551',
      contact: { name: 'Sam Buyer', email: 'sam.buyer@example.com' },
      number: charged.name,
      placedAt: charged.created_at,
      lines: [{ lineId: created.facts[0]!.type === 'sale' ? created.facts[0]!.lines[0]!.lineId : '', sku: 'ART-1', title: 'Dot painting', quantity: 2, unitPrice: 4500, discount: 500, tax: 850, total: 8500 }],
    });
    expect(order.lines.reduce((n, l) => n + l.total, 0)).toBe(order.subtotal);
    expect(order.subtotal + order.shipping + order.tax).toBe(order.total);
    // orders/paid: the same order, as an update that books nothing.
    expect(got[1]!.facts).toEqual([{ type: 'order_updated', orderId, occurredAt: expect.any(String), change: 'paid', order }]);
    expect(booked(got[1]!.facts, 'web')).toEqual([]);
  });

  it('partial refunds give back exact shares (net of discount, with tax) that add up to the order, and the financial status follows', async () => {
    await start({ taxRate: '10' }, 3333);
    const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 3, locationId: LOC });
    for (let i = 0; i < 3; i++) await emu.refund({ orderId, restock: true, quantity: 1 });
    const got = await received();
    const total = orderOf(got[0]!.facts[0])!.total;
    expect(total).toBe(9999 + 1000);
    const refunds = got.filter((g) => g.topic === 'refunds/create').map((g) => g.facts[0]!);
    expect(refunds.map((f) => f.type === 'refund' && f.money)).toEqual([
      { currency: 'AUD', amount: 3333 + 333 },
      { currency: 'AUD', amount: 3333 + 333 },
      { currency: 'AUD', amount: 3333 + 334 },
    ]);
    expect(refunds.reduce((n, f) => n + (f.type === 'refund' && f.money ? f.money.amount : 0), 0)).toBe(total);
    expect(refunds.map((f) => f.type === 'refund' && f.lines.map((l) => [l.quantity, l.restock]))).toEqual([[[1, true]], [[1, true]], [[1, true]]]);
    expect(emu.order(orderId)!.financial_status).toBe('refunded');
  });

  it('fulfil sends orders/fulfilled and orders/updated: order_updated facts with the order fulfilled, no stock', async () => {
    await start({}, 2500);
    const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 1 });
    await emu.fulfil({ orderId });
    const got = (await received()).filter((g) => g.topic === 'orders/fulfilled' || g.topic === 'orders/updated');
    expect(got.map((g) => g.facts.map((f) => f.type === 'order_updated' && [f.change, f.order.fulfilmentStatus, f.order.total]))).toEqual([[['fulfilled', 'fulfilled', 2500]], [['updated', 'fulfilled', 2500]]]);
    expect(booked(got.flatMap((g) => g.facts), 'web')).toEqual([]);
  });

  it('JPY (no decimals) and KWD (three): the bodies carry "2640" and "12.962", the facts 2640 yen and 12962 fils', async () => {
    await start({ currency: 'JPY', taxRate: '10' }, 1200);
    await emu.sell({ sku: 'ART-1', quantity: 2 });
    let got = await received();
    expect([got[0]!.body.total_price, got[0]!.body.line_items[0].price, got[0]!.body.total_tax]).toEqual(['2640', '1200', '240']);
    expect(orderOf(got[0]!.facts[0])).toMatchObject({ currency: 'JPY', subtotal: 2400, tax: 240, total: 2640, lines: [{ unitPrice: 1200, total: 2400 }] });
    await emu.stop();
    await sink.stop();

    await start({ currency: 'KWD', taxRate: '5' }, 12345);
    await emu.sell({ sku: 'ART-1', quantity: 1 });
    got = await received();
    // 5% of 12.345 is 0.61725: 0.617, rounded half up in fils.
    expect([got[0]!.body.total_price, got[0]!.body.line_items[0].price, got[0]!.body.total_tax]).toEqual(['12.962', '12.345', '0.617']);
    expect(orderOf(got[0]!.facts[0])).toMatchObject({ currency: 'KWD', subtotal: 12345, tax: 617, total: 12962 });
  });
});
