/**
 * The PrestaShop emulator's shop: products, combinations, stock_availables, orders with their
 * lines, credit slips and stock movements, in memory, and each as the webservice's JSON output shows
 * it (`id` a number, every other value a string, localized names as `[{id, value}]`). The list engine
 * answers `display`, `filter[…]` (`[a|b]` any of, `[a,b]` interval, `[a]` literal; dates with `date=1`),
 * `sort=[field_ASC,…]` and `limit=n` / `limit=offset,n`, and an empty list as `[]`, as the webservice
 * does in JSON.
 */
import type { RequestWindow } from '../../emulator';

export type Json = Record<string, unknown>;

/** What a host in front of a shop typically allows, for the rate-limited emulator: 25 requests per 10 s (a figure of ours: PrestaShop publishes none). */
export const PS_HOST_LIMIT: RequestWindow = { requests: 25, windowMs: 10_000 };

export interface PsEmulatorOptions {
  webserviceKey: string;
  /** The clock its dates and rate limit count with. */
  clock?: () => number;
  hostLimit?: RequestWindow;
  /** PATCH as PrestaShop 8.0 and later offer it (default); false: a 1.7 shop, which answers 405. */
  patch?: boolean;
}

export interface Product { id: number; reference: string; name: string; active: boolean }
export interface Combination { id: number; idProduct: number; reference: string }
export interface Stock { id: number; idProduct: number; idAttribute: number; quantity: number; outOfStock: number; location: string; dependsOnStock?: boolean }
export interface OrderRow { id: number; productId: number; attributeId: number; quantity: number; reference: string; name: string; refunded: number; reinjected: number }
export interface Order { id: number; state: number; dateAdd: string; dateUpd: string; reference: string; rows: OrderRow[] }
export interface Slip { id: number; orderId: number; dateAdd: string; dateUpd: string; lines: { id: number; detailId: number; quantity: number }[] }
export interface Movement { id: number; idProduct: number; idAttribute: number; reference: string; quantity: number; sign: 1 | -1; idOrder: number; idEmployee: number; reason: number; dateAdd: string }

export class WsError extends Error {
  constructor(readonly status: number, readonly code: number, message: string) {
    super(message);
  }
}

const s = (v: number | string) => String(v);

export const json = {
  product: (p: Product): Json => ({ id: p.id, reference: p.reference, name: [{ id: '1', value: p.name }], active: p.active ? '1' : '0', state: '1', visibility: 'both' }),
  combination: (c: Combination): Json => ({ id: c.id, id_product: s(c.idProduct), reference: c.reference }),
  stock: (x: Stock): Json => ({ id: x.id, id_product: s(x.idProduct), id_product_attribute: s(x.idAttribute), id_shop: '1', id_shop_group: '0', quantity: s(x.quantity), depends_on_stock: x.dependsOnStock ? '1' : '0', out_of_stock: s(x.outOfStock), location: x.location }),
  order: (o: Order): Json => ({
    id: o.id,
    id_customer: '1',
    current_state: s(o.state),
    date_add: o.dateAdd,
    date_upd: o.dateUpd,
    reference: o.reference,
    associations: { order_rows: o.rows.map((r) => ({ id: s(r.id), product_id: s(r.productId), product_attribute_id: s(r.attributeId), product_quantity: s(r.quantity), product_name: r.name, product_reference: r.reference })) },
  }),
  orderDetail: (o: Order, r: OrderRow): Json => ({
    id: r.id,
    id_order: s(o.id),
    product_id: s(r.productId),
    product_attribute_id: s(r.attributeId),
    product_name: r.name,
    product_reference: r.reference,
    product_quantity: s(r.quantity),
    product_quantity_refunded: s(r.refunded),
    product_quantity_reinjected: s(r.reinjected),
  }),
  slip: (x: Slip): Json => ({
    id: x.id,
    id_customer: '1',
    id_order: s(x.orderId),
    date_add: x.dateAdd,
    date_upd: x.dateUpd,
    associations: { order_slip_details: x.lines.map((l) => ({ id: s(l.id), id_order_detail: s(l.detailId), product_quantity: s(l.quantity) })) },
  }),
  movement: (m: Movement): Json => ({
    id: m.id,
    id_product: s(m.idProduct),
    id_product_attribute: s(m.idAttribute),
    id_warehouse: '0',
    id_employee: s(m.idEmployee),
    id_stock_mvt_reason: s(m.reason),
    id_order: s(m.idOrder),
    reference: m.reference,
    physical_quantity: s(m.quantity),
    sign: s(m.sign),
    date_add: m.dateAdd,
  }),
};

/** The inside of `[…]`, or a refusal as the webservice words it. */
function bracketed(param: string, v: string): string {
  const m = /^\[(.*)\]$/.exec(v);
  if (!m) throw new WsError(400, 32, `The "${param}" parameter has a bad syntax: it must be in brackets, e.g. [1|5]`);
  return m[1]!;
}

function compare(a: unknown, b: unknown): number {
  const [x, y] = [String(a ?? ''), String(b ?? '')];
  if (/^-?\d+$/.test(x) && /^-?\d+$/.test(y)) return Number(x) - Number(y);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** One list answer: filters, sort, limit and display applied as the webservice applies them. */
export function listAnswer(key: string, rows: Json[], query: Record<string, string>, ignorePaging: boolean): unknown {
  let out = rows;
  for (const [param, value] of Object.entries(query)) {
    const f = /^filter\[([a-z_]+)\]$/.exec(param);
    if (!f) continue;
    const field = f[1]!;
    if (out.length > 0 && !(field in out[0]!)) throw new WsError(400, 33, `Unable to filter by unavailable field "${field}"`);
    const inner = bracketed(param, value);
    if (inner.includes(',')) {
      const [lo, hi] = inner.split(',');
      if (/^\d{4}-/.test(lo ?? '') && query.date !== '1') throw new WsError(400, 34, 'To filter by date, add the parameter date=1');
      out = out.filter((r) => compare(r[field], lo) >= 0 && compare(r[field], hi) <= 0);
    } else {
      const any = inner.split('|').map((x) => x.toLowerCase());
      out = out.filter((r) => any.includes(String(r[field] ?? '').toLowerCase()));
    }
  }
  if (query.sort) {
    const keys = bracketed('sort', query.sort).split(',').map((k) => {
      const m = /^([a-z_]+)_(ASC|DESC)$/.exec(k);
      if (!m) throw new WsError(400, 37, `The "sort" value "${k}" is not field_ASC or field_DESC`);
      return { field: m[1]!, dir: m[2] === 'ASC' ? 1 : -1 };
    });
    out = [...out].sort((a, b) => {
      for (const k of keys) {
        const c = compare(a[k.field], b[k.field]);
        if (c !== 0) return c * k.dir;
      }
      return 0;
    });
  }
  if (query.limit) {
    const m = /^(?:(\d+),)?(\d+)$/.exec(query.limit);
    if (!m) throw new WsError(400, 38, 'The "limit" parameter has a bad syntax: limit=count or limit=offset,count');
    const [offset, count] = [ignorePaging ? 0 : Number(m[1] ?? 0), Number(m[2])];
    out = out.slice(offset, offset + count);
  }
  const display = query.display;
  if (display !== 'full') {
    const fields = display ? bracketed('display', display).split(',') : ['id'];
    out = out.map((r) => Object.fromEntries(fields.filter((f) => f in r).map((f) => [f, r[f]])));
  }
  return out.length === 0 ? [] : { [key]: out };
}
