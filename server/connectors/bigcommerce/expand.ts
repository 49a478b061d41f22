/**
 * BigCommerce webhooks are thin: `data` names the order, refund, product or SKU, nothing more
 * (webhooks.v3.yml). Before translation the connector fetches what the event is about and attaches
 * it to the body under `stockrelay`:
 * - an order event: the order (`GET /v2/orders/{id}?include=consignments&consignment_structure=object`,
 *   whose pickup consignments say at which location a line is collected), its lines
 *   (`GET /v2/orders/{id}/products`, paged) and, for a cancelled order, the store's inventory settings;
 * - `store/order/refund/created`: the refund (`GET /v3/orders/{id}/payment_actions/refunds`), the
 *   order (its pickup location is where returned goods go back) and its lines, and the inventory settings (`GET /v3/settings/inventory`:
 *   `refund_order_stock_adjustment` says whether BigCommerce put refunded or cancelled goods back);
 * - an inventory event: the levels of the product at every location (`GET /v3/inventory/items`),
 *   since the event's `value` is documented both as the new level and as the change, and names no
 *   location.
 * A fetch that fails throws its ConnectorError (the hub keeps the event and tries again); an event
 * that names nothing to fetch is returned unchanged, and translate then says it cannot read it.
 */
import { ConnectorError } from '../types';
import { PageGuard } from '../paging';
import type { BigCommerceHttp } from './http';
import { EXPANDED_KEY, int, isObj, subjectOf, type Expanded, type Json } from './events';

export { EXPANDED_KEY, ORDER_TOPICS, PRODUCT_INVENTORY_TOPICS, REFUND_TOPIC, SKU_INVENTORY_TOPICS, subjectOf, type Expanded } from './events';
import { readItems } from './levels';


async function fetchOrderLines(http: BigCommerceHttp, orderId: number, pageSize: number, signal?: AbortSignal): Promise<Json[]> {
  const out: Json[] = [];
  const guard = new PageGuard({ platform: 'BigCommerce', what: `read the lines of order ${orderId}`, hint: 'something in front of the store answers the same page whatever page is asked' });
  for (let page = 1; ; page++) {
    const answer = await http.call('GET', `/v2/orders/${orderId}/products`, `read the lines of order ${orderId}`, { query: { page, limit: pageSize } }, signal);
    if (!Array.isArray(answer)) throw new ConnectorError(`BigCommerce answered the lines of order ${orderId} in a shape the hub cannot read; nothing was taken from it.`, true, null, null, { channelFault: true });
    const lines = answer.filter(isObj);
    guard.page(lines.map((l) => String(l.id)));
    out.push(...lines);
    // The v2 API pages without totals: a short page is the last.
    if (lines.length < pageSize) return out;
    guard.more();
  }
}

async function fetchOrder(http: BigCommerceHttp, orderId: number, signal?: AbortSignal): Promise<Json> {
  const order = await http.call('GET', `/v2/orders/${orderId}`, `read order ${orderId}`, { query: { include: 'consignments', consignment_structure: 'object' } }, signal);
  if (!isObj(order)) throw new ConnectorError(`BigCommerce answered order ${orderId} in a shape the hub cannot read; nothing was taken from it.`, true, null, null, { channelFault: true });
  return order;
}

async function fetchRestocks(http: BigCommerceHttp, signal?: AbortSignal): Promise<boolean> {
  const answer = await http.call('GET', '/v3/settings/inventory', 'read the store’s inventory settings', {}, signal);
  const v = isObj(answer) && isObj(answer.data) ? answer.data.refund_order_stock_adjustment : undefined;
  if (typeof v !== 'boolean') throw new ConnectorError('BigCommerce answered inventory settings without refund_order_stock_adjustment, so the hub cannot tell whether refunded goods went back in stock; nothing was taken from it.', true, null, null, { channelFault: true });
  return v;
}

async function fetchRefund(http: BigCommerceHttp, orderId: number, refundId: number, signal?: AbortSignal): Promise<Json | null> {
  const answer = await http.call('GET', `/v3/orders/${orderId}/payment_actions/refunds`, `read the refunds of order ${orderId}`, {}, signal);
  if (!isObj(answer) || !Array.isArray(answer.data)) throw new ConnectorError(`BigCommerce answered the refunds of order ${orderId} in a shape the hub cannot read; nothing was taken from it.`, true, null, null, { channelFault: true });
  return answer.data.filter(isObj).find((r) => int(r.id) === refundId) ?? null;
}

export async function expandEvent(http: BigCommerceHttp, topic: string, body: unknown, pageSize: number, signal?: AbortSignal): Promise<unknown> {
  const subject = subjectOf(topic, body);
  if (!subject || !isObj(body)) return body;
  const extra: Expanded = {};
  if (subject.kind === 'inventory') {
    extra.levels = await readItems(http, [subject.productId], null, pageSize, signal);
  } else if (subject.kind === 'order') {
    const order = await fetchOrder(http, subject.orderId, signal);
    extra.order = order;
    extra.products = await fetchOrderLines(http, subject.orderId, pageSize, signal);
    if (int(order.status_id) === 5) extra.restocks = await fetchRestocks(http, signal);
  } else {
    const refund = await fetchRefund(http, subject.orderId, subject.refundId, signal);
    // A refund the store does not list: translate says so, and the event waits for a retry.
    if (!refund) return body;
    extra.refund = refund;
    // The order too: its pickup consignment says at which location returned goods go back.
    extra.order = await fetchOrder(http, subject.orderId, signal);
    extra.products = await fetchOrderLines(http, subject.orderId, pageSize, signal);
    extra.restocks = await fetchRestocks(http, signal);
  }
  return { ...body, [EXPANDED_KEY]: extra };
}
