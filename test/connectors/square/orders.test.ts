/**
 * Square: the money and states the connector reads for the transaction log. Square amounts are Money
 * objects already in minor units (taken as they are, never scaled): the spec's own Order examples
 * (CreateOrder, PayOrder, RetrieveOrder), its refund.updated example with a return order, JPY and KWD
 * amounts; and through the emulator (every answer and webhook validated against the OpenAPI
 * document), a sale's details equal to what the emulated account charged.
 */
import fs from 'node:fs';
import { createSquareConnector } from '../../../server/connectors/square';
import { SquareEmulator } from '../../../server/connectors/square/emulator';
import { SquareSpec, findSpecPath } from '../../../server/connectors/square/spec';
import { EXPANDED_ORDER_KEY, translate } from '../../../server/connectors/square/translate';
import type { ChannelFact, Connector, OrderDetails } from '../../../server/connectors/types';
import { TOPIC_OF, WebhookSink } from '../helpers/webhook-sink';
import { booked, orderOf } from '../helpers/facts';

type Json = Record<string, any>;
const spec = SquareSpec.load()!;
/** The `example` of a component schema of Square's OpenAPI document (shared/specs/square/openapi.json), a fresh copy. */
const doc = JSON.parse(fs.readFileSync(findSpecPath()!, 'utf8')) as Json;
const example = (schema: string): Json => JSON.parse(JSON.stringify(doc.components.schemas[schema].example)) as Json;
const usd = (amount: number) => ({ amount, currency: 'USD' });

/** A thin order event (as Square sends it) with the fetched order attached, as `expand` leaves it. */
function orderEvent(type: 'order.created' | 'order.updated', order: Json): Json {
  const key = type === 'order.created' ? 'order_created' : 'order_updated';
  return { merchant_id: 'M', type, event_id: `e-${type}`, created_at: '2026-03-01T10:00:05Z', data: { type: key, id: order.id, object: { [key]: { order_id: order.id, state: order.state, version: 1 } } }, [EXPANDED_ORDER_KEY]: order };
}
function paymentEvent(order: Json): Json {
  return { merchant_id: 'M', type: 'payment.updated', event_id: 'e-pay', created_at: '2026-03-01T10:00:05Z', data: { type: 'payment', id: 'P', object: { payment: { id: 'P', status: 'COMPLETED', order_id: order.id } } }, [EXPANDED_ORDER_KEY]: order };
}
describe('translate: order money from the spec’s Order examples', () => {
  // CreateOrderResponse: an OPEN order, no tender; an ad hoc line and a catalog line with a modifier,
  // an ORDER-scoped 9% ADDITIVE tax and three discounts.
  const created = example('CreateOrderResponse').order;
  const createdDetails: OrderDetails = {
    currency: 'USD',
    // (1599 − 87) + (4500 − 346): gross (modifiers included) less discounts, before the additive tax.
    subtotal: 5666,
    discount: 433,
    tax: 510,
    shipping: 0,
    total: 6176,
    paymentStatus: 'pending',
    fulfilmentStatus: 'unfulfilled',
    customerRef: null,
    contact: null,
    number: null,
    placedAt: '2020-01-17T20:47:53.293Z',
    lines: [
      { lineId: '8uSwfzvUImn3IRrvciqlXC', sku: null, title: 'New York Strip Steak', quantity: 1, unitPrice: 1599, discount: 87, tax: 136, total: 1648 },
      { lineId: 'v8ZuEXpOJpb0bazLuvrLDB', sku: null, title: 'New York Steak', quantity: 2, unitPrice: 2200, discount: 346, tax: 374, total: 4528 },
    ],
  };

  it('the example is an Order the spec accepts', () => {
    expect(spec.check('Order', created)).toEqual([]);
  });

  it('order.created of the unpaid CreateOrder example → no sale, one order_updated ("created") with its amounts exactly as Square gives them', () => {
    const facts = translate('order.created', orderEvent('order.created', created), {});
    expect(facts).toEqual([{ type: 'order_updated', orderId: 'CAISENgvlJ6jLWAzERDzjyHVybY', occurredAt: '2020-01-17T20:47:53.293Z', change: 'created', order: createdDetails }]);
    expect(createdDetails.subtotal + createdDetails.tax).toBe(createdDetails.total);
    expect(booked(facts, 'sq')).toEqual([]);
  });

  it('the same order paid and completed, through payment.updated → the update ("paid") first, then the sale of its catalog line carrying the same order', () => {
    const paid = { ...created, state: 'COMPLETED', closed_at: '2020-01-17T21:00:00.000Z', updated_at: '2020-01-17T21:00:00.000Z', tenders: [{ id: 'T1', type: 'CARD', amount_money: usd(6176), card_details: { status: 'CAPTURED' } }] };
    expect(spec.check('Order', paid)).toEqual([]);
    const facts = translate('payment.updated', paymentEvent(paid), {});
    const order = { ...createdDetails, paymentStatus: 'paid', fulfilmentStatus: 'fulfilled' };
    expect(facts).toEqual([
      { type: 'order_updated', orderId: 'CAISENgvlJ6jLWAzERDzjyHVybY', occurredAt: '2020-01-17T21:00:00.000Z', change: 'paid', order },
      { type: 'sale', orderId: 'CAISENgvlJ6jLWAzERDzjyHVybY', occurredAt: '2020-01-17T20:47:53.293Z', lines: [{ lineId: 'v8ZuEXpOJpb0bazLuvrLDB', sku: null, ref: { variantId: 'BEMYCSMIJL46OCDV4KYIKXIB' }, quantity: 2, locationId: '057P5VYJ4A5X1' }], order },
    ]);
    // Only the sale books stock.
    expect(booked(facts, 'sq').map((p) => p.kind === 'command' && p.command.type === 'adjust' && p.command.quantity)).toEqual([-2]);
  });

  it('PayOrder example (two captured card tenders, ad hoc lines): paid and fulfilled, no stock, and nothing about the cards in the facts', () => {
    const payOrder = example('PayOrderResponse').order;
    const facts = translate('payment.updated', paymentEvent(payOrder), {});
    expect(facts).toEqual([
      {
        type: 'order_updated',
        orderId: 'lgwOlEityYPJtcuvKTVKT1pA986YY',
        occurredAt: '2019-08-06T02:47:37.140Z',
        change: 'paid',
        order: {
          currency: 'USD',
          subtotal: 2000,
          discount: 0,
          tax: 0,
          shipping: 0,
          total: 2000,
          paymentStatus: 'paid',
          fulfilmentStatus: 'fulfilled',
          customerRef: null,
          contact: null,
          number: null,
          placedAt: '2019-08-06T02:47:35.693Z',
          lines: [
            { lineId: 'QW6kofLHJK7JEKMjlSVP5C', sku: null, title: 'Item 1', quantity: 1, unitPrice: 500, discount: 0, tax: 0, total: 500 },
            { lineId: 'zhw8MNfRGdFQMI2WE1UBJD', sku: null, title: 'Item 2', quantity: 2, unitPrice: 750, discount: 0, tax: 0, total: 1500 },
          ],
        },
      },
    ]);
    expect(JSON.stringify(facts)).not.toMatch(/1111|VISA|fingerprint|exp_year/);
  });

  it('RetrieveOrder example (OPEN, a 50% order discount) through order.updated → order_updated ("updated"), pending', () => {
    const facts = translate('order.updated', orderEvent('order.updated', example('RetrieveOrderResponse').order), {});
    expect(facts).toEqual([{ type: 'order_updated', orderId: 'CAISENgvlJ6jLWAzERDzjyHVybY', occurredAt: '2020-05-18T16:30:49.614Z', change: 'updated', order: expect.objectContaining({ subtotal: 550, discount: 550, total: 550, paymentStatus: 'pending', fulfilmentStatus: 'unfulfilled' }) }]);
  });

  it('a DRAFT order gives nothing; an order whose Money mixes currencies keeps its sale without the order', () => {
    expect(translate('order.updated', orderEvent('order.updated', { ...created, state: 'DRAFT' }), {})).toEqual([]);
    const paid = { ...created, state: 'COMPLETED', tenders: [{ id: 'T1', type: 'CASH', amount_money: usd(6176) }] };
    const mixed = { ...paid, total_tax_money: { amount: 510, currency: 'CAD' } };
    const facts = translate('order.created', orderEvent('order.created', mixed), {});
    expect(facts).toEqual([{ type: 'sale', orderId: 'CAISENgvlJ6jLWAzERDzjyHVybY', occurredAt: '2020-01-17T20:47:53.293Z', lines: [expect.objectContaining({ lineId: 'v8ZuEXpOJpb0bazLuvrLDB', quantity: 2 })] }]);
    expect(orderOf(facts[0])).toBeUndefined();
  });
});

describe('translate: amounts are already minor units, whatever the currency', () => {
  const order = (currency: string, amounts: { price: number; tax: number }) => ({
    id: 'O-' + currency,
    location_id: 'LOC',
    state: 'COMPLETED',
    created_at: '2026-03-01T10:00:00Z',
    tenders: [{ id: 'T', type: 'CASH', amount_money: { amount: amounts.price * 2 + amounts.tax, currency } }],
    line_items: [
      {
        uid: 'L1',
        quantity: '2',
        catalog_object_id: 'VAR1',
        item_type: 'ITEM',
        base_price_money: { amount: amounts.price, currency },
        gross_sales_money: { amount: amounts.price * 2, currency },
        total_discount_money: { amount: 0, currency },
        total_tax_money: { amount: amounts.tax, currency },
        total_money: { amount: amounts.price * 2 + amounts.tax, currency },
      },
    ],
    total_money: { amount: amounts.price * 2 + amounts.tax, currency },
    total_tax_money: { amount: amounts.tax, currency },
    total_discount_money: { amount: 0, currency },
  });

  it('JPY: 1200 is ¥1200 (not ¥12.00): a sale of 2 at ¥1200 with ¥240 tax totals 2640', () => {
    const o = order('JPY', { price: 1200, tax: 240 });
    expect(spec.check('Order', o)).toEqual([]);
    expect(orderOf(translate('order.created', orderEvent('order.created', o), {})[0])).toMatchObject({ currency: 'JPY', subtotal: 2400, tax: 240, total: 2640, lines: [{ unitPrice: 1200, tax: 240, total: 2640 }] });
  });

  it('KWD: 12345 is 12.345 KWD in fils: a sale of 2 totals 25307', () => {
    const o = order('KWD', { price: 12345, tax: 617 });
    expect(orderOf(translate('order.created', orderEvent('order.created', o), {})[0])).toMatchObject({ currency: 'KWD', subtotal: 24690, tax: 617, total: 25307 });
  });

  it('an amount that is not an integer is unreadable: the sale stays, the order is left out', () => {
    const o = order('AUD', { price: 1200, tax: 240 });
    o.total_money.amount = 2640.5;
    const [sale] = translate('order.created', orderEvent('order.created', o), {});
    expect(sale).toMatchObject({ type: 'sale', lines: [{ lineId: 'L1', quantity: 2 }] });
    expect(orderOf(sale)).toBeUndefined();
  });
});

describe('translate: states', () => {
  const base = (extra: Json) => ({ id: 'O1', location_id: 'LOC', created_at: '2026-03-01T10:00:00Z', total_money: usd(1000), line_items: [{ uid: 'L', quantity: '1', name: 'ad hoc', total_money: usd(1000), gross_sales_money: usd(1000) }], ...extra });
  const tender = (amount: number, status?: string) => ({ id: `T${amount}`, type: 'CARD', amount_money: usd(amount), ...(status ? { card_details: { status } } : {}) });
  const status = (o: Json) => orderOf(translate('order.updated', orderEvent('order.updated', o), {})[0]);

  it.each([
    ['OPEN, no tender', 'pending', 'unfulfilled', { state: 'OPEN' }],
    ['OPEN, a card tender only authorized', 'authorized', 'unfulfilled', { state: 'OPEN', tenders: [tender(1000, 'AUTHORIZED')] }],
    ['OPEN, paid, net amount due 0', 'paid', 'unfulfilled', { state: 'OPEN', tenders: [tender(1000, 'CAPTURED')], net_amount_due_money: usd(0) }],
    ['OPEN, paid in part (net amount due 400)', 'partially_paid', 'unfulfilled', { state: 'OPEN', tenders: [tender(600)], net_amount_due_money: usd(400) }],
    ['OPEN, tenders short of the total, no net amount due', 'partially_paid', 'unfulfilled', { state: 'OPEN', tenders: [tender(600)] }],
    ['COMPLETED, paid, a refund of part listed on it', 'partially_refunded', 'fulfilled', { state: 'COMPLETED', tenders: [tender(1000)], refunds: [{ id: 'R', location_id: 'LOC', reason: 'r', status: 'APPROVED', amount_money: usd(300) }] }],
    ['COMPLETED, refunded in full', 'refunded', 'fulfilled', { state: 'COMPLETED', tenders: [tender(1000)], refunds: [{ id: 'R', location_id: 'LOC', reason: 'r', status: 'APPROVED', amount_money: usd(1000) }] }],
    ['CANCELED after payment', 'voided', 'cancelled', { state: 'CANCELED', tenders: [tender(1000)] }],
    ['CANCELED never paid', 'voided', 'cancelled', { state: 'CANCELED' }],
    ['every card tender voided', 'voided', 'unfulfilled', { state: 'OPEN', tenders: [tender(1000, 'VOIDED')] }],
    ['OPEN with a shipment PROPOSED', 'paid', 'unfulfilled', { state: 'OPEN', tenders: [tender(1000)], fulfillments: [{ uid: 'F', type: 'SHIPMENT', state: 'PROPOSED' }] }],
    ['two fulfillments, one COMPLETED', 'paid', 'partial', { state: 'OPEN', tenders: [tender(1000)], fulfillments: [{ uid: 'F1', state: 'COMPLETED' }, { uid: 'F2', state: 'PREPARED' }] }],
    ['fulfillments COMPLETED and CANCELED', 'paid', 'fulfilled', { state: 'COMPLETED', tenders: [tender(1000)], fulfillments: [{ uid: 'F1', state: 'COMPLETED' }, { uid: 'F2', state: 'CANCELED' }] }],
    ['every fulfillment FAILED', 'paid', 'cancelled', { state: 'OPEN', tenders: [tender(1000)], fulfillments: [{ uid: 'F1', state: 'FAILED' }] }],
  ])('%s → %s, %s', (_what, payment, fulfilment, extra) => {
    expect(status(base(extra))).toMatchObject({ paymentStatus: payment, fulfilmentStatus: fulfilment });
  });

  it('contact: the fulfillment recipient’s name and email as the order gives them; customerRef: customer_id', () => {
    const o = base({ state: 'OPEN', customer_id: 'CUST1', fulfillments: [{ uid: 'F', type: 'PICKUP', state: 'PROPOSED', pickup_details: { recipient: { display_name: 'Jaiden Urie', email_address: 'jaiden@example.com', phone_number: '+61400000000' } } }] });
    expect(status(o)).toMatchObject({ customerRef: 'CUST1', contact: { name: 'Jaiden Urie', email: 'jaiden@example.com' } });
    expect(JSON.stringify(status(o))).not.toMatch(/61400000000/);
  });
});

describe('translate: refund money from the return order', () => {
  const refundEvent = (order: Json) => {
    const { data, ...rest } = JSON.parse(JSON.stringify(spec.webhookExamples().find((e) => e.event === 'refund.updated')!.example)) as Json;
    return { ...rest, data, [EXPANDED_ORDER_KEY]: order };
  };
  // A return order for the spec's refund.updated example (refund of 10.00 USD, order haOyDu…), with
  // the refund listed on it as Square lists refunds on return orders.
  const returnOrder = (extra: Json = {}): Json => ({
    id: 'haOyDuHiqtAXMk0d8pDKXpL7Jg4F',
    location_id: 'NAQ1FHV6ZJ8YV',
    state: 'COMPLETED',
    created_at: '2020-02-06T21:27:41.836Z',
    returns: [{ uid: 'R1', source_order_id: 'SALE0RDER', return_line_items: [{ uid: 'RL1', source_line_item_uid: 'L1', quantity: '1', catalog_object_id: 'VAR1', item_type: 'ITEM', base_price_money: usd(1000), total_money: usd(1000) }] }],
    return_amounts: { total_money: usd(1000), tax_money: usd(0) },
    refunds: [{ id: 'KkAkhdMsgzn59SM8A89WgKwekxLZY_ptNBVqHYxt5gAdfcobBe4u1AZsXhoz06KTtuq9Ls24P', location_id: 'NAQ1FHV6ZJ8YV', transaction_id: 'SALE0RDER', tender_id: 'KkAkhdMsgzn59SM8A89WgKwekxLZY', reason: 'Returned goods', amount_money: usd(1000), status: 'APPROVED' }],
    total_money: usd(0),
    ...extra,
  });

  it('refund.updated (spec example, COMPLETED) with its return order → the refund of the itemized line with the 10.00 USD the return order’s refund gave back', () => {
    expect(spec.check('Order', returnOrder())).toEqual([]);
    expect(translate('refund.updated', refundEvent(returnOrder()), {})).toEqual([
      { type: 'refund', refundId: 'haOyDuHiqtAXMk0d8pDKXpL7Jg4F', orderId: 'SALE0RDER', occurredAt: '2020-02-06T21:27:41.836Z', lines: [{ lineId: 'RL1', sku: null, ref: { variantId: 'VAR1' }, quantity: 1, locationId: 'NAQ1FHV6ZJ8YV', restock: true }], money: { currency: 'USD', amount: 1000 } },
    ]);
  });

  it('refunds REJECTED or FAILED gave nothing back (null); a return order listing no refunds says nothing about money (undefined); the line is booked either way', () => {
    const money = (o: Json) => {
      const [f] = translate('refund.updated', refundEvent(o), {});
      return f?.type === 'refund' ? [f.lines.length, f.money] : 'no fact';
    };
    expect(money(returnOrder({ refunds: [{ ...returnOrder().refunds[0], status: 'REJECTED' }] }))).toEqual([1, null]);
    const { refunds: _none, ...noRefunds } = returnOrder();
    expect(money(noRefunds)).toEqual([1, undefined]);
  });

  it('a return order returning two sales splits its refunds by source order (transaction_id)', () => {
    const two = returnOrder({
      returns: [returnOrder().returns[0], { uid: 'R2', source_order_id: 'SALE2', return_line_items: [{ uid: 'RL2', quantity: '1', catalog_object_id: 'VAR2', item_type: 'ITEM' }] }],
      refunds: [returnOrder().refunds[0], { id: 'REF2', location_id: 'NAQ1FHV6ZJ8YV', transaction_id: 'SALE2', reason: 'r', amount_money: usd(250), status: 'PENDING' }],
    });
    expect(translate('refund.updated', refundEvent(two), {}).map((f) => f.type === 'refund' && [f.orderId, f.money])).toEqual([
      ['SALE0RDER', { currency: 'USD', amount: 1000 }],
      ['SALE2', { currency: 'USD', amount: 250 }],
    ]);
  });

  it('a custom-amount return (money only) → a refund fact with its money and no line; nothing is booked', () => {
    const custom = returnOrder({ returns: [{ uid: 'R1', source_order_id: 'SALE0RDER', return_line_items: [{ uid: 'RL1', quantity: '1', item_type: 'CUSTOM_AMOUNT', base_price_money: usd(1000), total_money: usd(1000) }] }] });
    const facts = translate('refund.updated', refundEvent(custom), {});
    expect(facts).toEqual([{ type: 'refund', refundId: 'haOyDuHiqtAXMk0d8pDKXpL7Jg4F', orderId: 'SALE0RDER', occurredAt: '2020-02-06T21:27:41.836Z', lines: [], money: { currency: 'USD', amount: 1000 } }]);
    expect(booked(facts, 'sq')).toEqual([]);
  });
});

describe('emulator: the sale’s order is what the emulated account charged', () => {
  const TOKEN = 'EAAA-square-orders-test-token';
  const KEY = 'square-orders-test-signature-key';
  const LOC = 'LGALLERY7Q2K9';
  let emu: SquareEmulator;
  let sink: WebhookSink;
  let hookUrl: string;
  let c: Connector;

  async function start(opts: { currency?: string; taxRate?: string }, price: number): Promise<void> {
    emu = new SquareEmulator({ accessToken: TOKEN, webhookSignatureKey: KEY, locations: [LOC], ...opts });
    const baseUrl = await emu.start();
    sink = new WebhookSink('/v1/webhooks/square-pos', TOPIC_OF.square);
    hookUrl = await sink.start();
    emu.subscribe(hookUrl);
    emu.addListing({ sku: 'ART-1', title: 'Dot painting', price, levels: { [LOC]: 10 } });
    c = createSquareConnector({ channelId: 'square-pos', baseUrl, settings: { notificationUrl: hookUrl, merchantId: emu.merchantId }, credentials: { accessToken: TOKEN, webhookSignatureKey: KEY } });
  }

  /** Every webhook so far, verified, expanded (the order fetched from the emulator) and translated. */
  async function received(): Promise<{ topic: string; facts: ChannelFact[] }[]> {
    await emu.flushWebhooks();
    const out: { topic: string; facts: ChannelFact[] }[] = [];
    for (const r of sink.received) {
      const v = c.verify(r.raw, r.headers as Record<string, string>);
      if (!v.valid) throw new Error(v.reason);
      const body = await c.expand!(v.topic, JSON.parse(r.raw.toString('utf8')));
      out.push({ topic: v.topic, facts: c.translate(v.topic, body, r.headers as Record<string, string>) });
    }
    return out;
  }

  afterEach(async () => {
    expect(emu.specViolations).toEqual([]);
    expect(emu.internalErrors).toEqual([]);
    await emu.stop();
    await sink.stop();
  });

  it('AUD, 10% tax and a discount: the sale’s order equals the order Square keeps (Money for Money) and adds up', async () => {
    await start({ taxRate: '10' }, 4500);
    const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 2, discount: 500 });
    const got = await received();
    expect(got.map((g) => g.topic)).toEqual(['order.created', 'order.updated', 'payment.updated', 'inventory.count.updated']);
    const sale = got[0]!.facts[0]!;
    const charged = emu.order(orderId)! as Json;
    const order = orderOf(sale)!;
    expect(order.total).toBe(charged.total_money.amount);
    expect(order).toEqual({
      currency: 'AUD',
      subtotal: 8500,
      discount: 500,
      tax: 850,
      shipping: 0,
      total: 9350,
      paymentStatus: 'paid',
      fulfilmentStatus: 'fulfilled',
      customerRef: null,
      contact: null,
      number: null,
      placedAt: charged.created_at,
      lines: [{ lineId: charged.line_items[0].uid, sku: null, title: 'Dot painting', quantity: 2, unitPrice: 4500, discount: 500, tax: 850, total: 9350 }],
    });
    expect(order.subtotal + order.tax).toBe(order.total);
    // The two update events: order_updated first (no stock), then the same sale again.
    for (const g of got.slice(1, 3)) expect(g.facts.map((f) => f.type)).toEqual(['order_updated', 'sale']);
    expect(got[2]!.facts[0]).toMatchObject({ type: 'order_updated', change: 'paid', order });
  });

  it('a partial refund, then the rest: exact shares of the line (tax included) that add up to what was paid', async () => {
    await start({ taxRate: '10' }, 3333);
    const { orderId } = await emu.sell({ sku: 'ART-1', quantity: 3 });
    for (let i = 0; i < 3; i++) await emu.refund({ orderId, restock: true, quantity: 1 });
    const got = await received();
    const total = orderOf(got[0]!.facts[0])!.total;
    expect(total).toBe(9999 + 1000);
    const refunds = got.filter((g) => g.topic === 'refund.updated').map((g) => g.facts[0]!);
    expect(refunds.map((f) => f.type === 'refund' && [f.orderId, f.lines[0]!.quantity, f.money])).toEqual([
      [orderId, 1, { currency: 'AUD', amount: 3666 }],
      [orderId, 1, { currency: 'AUD', amount: 3666 }],
      [orderId, 1, { currency: 'AUD', amount: 3667 }],
    ]);
    expect(refunds.reduce((n, f) => n + (f.type === 'refund' && f.money ? f.money.amount : 0), 0)).toBe(total);
  });

  it('JPY and KWD accounts: Money amounts in yen and fils, taken as they are', async () => {
    await start({ currency: 'JPY', taxRate: '10' }, 1200);
    const yen = await emu.sell({ sku: 'ART-1', quantity: 2 });
    let got = await received();
    expect((emu.order(yen.orderId)! as Json).total_money).toEqual({ amount: 2640, currency: 'JPY' });
    expect(orderOf(got[0]!.facts[0])).toMatchObject({ currency: 'JPY', subtotal: 2400, tax: 240, total: 2640 });
    expect(emu.specViolations).toEqual([]);
    await emu.stop();
    await sink.stop();

    await start({ currency: 'KWD', taxRate: '5' }, 12345);
    const fils = await emu.sell({ sku: 'ART-1', quantity: 1 });
    got = await received();
    expect((emu.order(fils.orderId)! as Json).total_money).toEqual({ amount: 12962, currency: 'KWD' });
    expect(orderOf(got[0]!.facts[0])).toMatchObject({ currency: 'KWD', subtotal: 12345, tax: 617, total: 12962 });
  });
});
