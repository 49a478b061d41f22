/**
 * The platform's ids for what the hub stores, shared by the hooks (verify.ts) and the orders feed
 * (orders-feed.ts), so the same version of an order is stored once whichever way it came.
 */
import { createHash } from 'node:crypto';
import { magentoId, magentoIso } from './translate';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The event id of one version of an order: `order-<entity_id>@<updated_at>~<digest>`. Magento keeps
 * `updated_at` to the second, so two changes in one second (placed and cancelled, a credit memo
 * saved with its order) share it; the digest of what stock depends on (state, and per line the
 * quantities ordered, shipped, cancelled and refunded) keeps them apart. The same version, read
 * again by a poll or sent by a hook, has the same id.
 */
export function orderEventId(order: Obj): string | null {
  const id = magentoId(order.entity_id);
  if (!id || typeof order.updated_at !== 'string' || magentoIso(order.updated_at) === null) return null;
  const items = Array.isArray(order.items) ? order.items.filter(isObj) : [];
  const what = JSON.stringify([order.state ?? null, items.map((i) => [i.item_id ?? null, i.qty_ordered ?? null, i.qty_shipped ?? null, i.qty_canceled ?? null, i.qty_refunded ?? null])]);
  return `order-${id}@${order.updated_at}~${createHash('sha256').update(what).digest('hex').slice(0, 12)}`;
}
