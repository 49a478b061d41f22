/**
 * The Lightspeed Retail (R-Series) emulator's account: items with their per-shop records
 * (ItemShops, plus the all-shops summary of shopID 0), sales with their lines, in memory, each as
 * API V3 writes it in JSON (every value a string, booleans "true"/"false", times ISO 8601 with an
 * offset, to the second). The list engine answers what the API documents for queries: a field
 * `=value` or `=op,value` (`>`, `>=`, `<`, `<=`, `=`, `!=`, `IN,[a,b]`, `~,%like%`), `sort=field`
 * or `sort=-field`, `limit` (at most 100), `load_relations=["A","A.B"]`, `archived` (false by
 * default: archived items left out), and pages by an `after` cursor in `@attributes.next`; a list
 * of one record answers it as a bare object and a list of none leaves the key out, as V3 does.
 */
export type Json = Record<string, unknown>;

export interface LsItemShop { itemShopID: number; shopID: string; qoh: number; timeStamp: number }
export interface LsItem { itemID: number; customSku: string; description: string; archived: boolean; publishToEcom: boolean; timeStamp: number; shops: Map<string, LsItemShop>; summaryID: number }
export interface LsSaleLine { saleLineID: number; saleID: number; itemID: number; unitQuantity: number; parentSaleLineID: number; shopID: string; timeStamp: number }
export interface LsSale { saleID: number; shopID: string; completed: boolean; voided: boolean; timeStamp: number; completeTime: number; lines: LsSaleLine[] }

/** An API error in V3's own shape. */
export class LsApiError extends Error {
  constructor(readonly status: number, message: string, readonly errorClass = 'Exception') {
    super(message);
  }
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable' };
export function errorBody(status: number, message: string, errorClass = 'Exception'): Json {
  return { httpCode: String(status), httpMessage: REASONS[status] ?? 'Error', message, errorClass };
}

export const lsTimeOf = (ms: number) => `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}+00:00`;
const s = (v: number | string) => String(v);

export const render = {
  itemShop: (i: LsItem, x: LsItemShop, relations: Set<string>): Json => ({
    itemShopID: s(x.itemShopID),
    qoh: s(x.qoh),
    sellable: s(Math.max(0, x.qoh)),
    backorder: '0',
    itemID: s(i.itemID),
    shopID: x.shopID,
    timeStamp: lsTimeOf(x.timeStamp),
    ...(relations.has('Item') ? { Item: render.item(i, new Set()) } : {}),
  }),
  /** The all-shops summary record (shopID 0): the sum of the shops. */
  summary: (i: LsItem): LsItemShop => {
    const shops = [...i.shops.values()];
    return { itemShopID: i.summaryID, shopID: '0', qoh: shops.reduce((n, x) => n + x.qoh, 0), timeStamp: Math.max(i.timeStamp, ...shops.map((x) => x.timeStamp)) };
  },
  item: (i: LsItem, relations: Set<string>): Json => ({
    itemID: s(i.itemID),
    systemSku: s(210000000000 + i.itemID),
    defaultCost: '0',
    avgCost: '0',
    discountable: 'true',
    tax: 'true',
    archived: i.archived ? 'true' : 'false',
    itemType: 'default',
    serialized: 'false',
    description: i.description,
    modelYear: '0',
    upc: '',
    ean: '',
    customSku: i.customSku,
    manufacturerSku: '',
    publishToEcom: i.publishToEcom ? 'true' : 'false',
    timeStamp: lsTimeOf(i.timeStamp),
    ...(relations.has('ItemShops') ? { ItemShops: { ItemShop: [render.summary(i), ...i.shops.values()].map((x) => render.itemShop(i, x, new Set())) } } : {}),
  }),
  saleLine: (l: LsSaleLine, item: LsItem | undefined, relations: Set<string>): Json => ({
    saleLineID: s(l.saleLineID),
    createTime: lsTimeOf(l.timeStamp),
    timeStamp: lsTimeOf(l.timeStamp),
    unitQuantity: s(l.unitQuantity),
    unitPrice: '25',
    normalUnitPrice: '0',
    isLayaway: 'false',
    isWorkorder: 'false',
    isSpecialOrder: 'false',
    itemID: s(l.itemID),
    saleID: s(l.saleID),
    shopID: l.shopID,
    parentSaleLineID: s(l.parentSaleLineID),
    ...(relations.has('SaleLines.Item') && item ? { Item: render.item(item, new Set()) } : {}),
  }),
  sale: (x: LsSale, items: Map<number, LsItem>, relations: Set<string>): Json => ({
    saleID: s(x.saleID),
    timeStamp: lsTimeOf(x.timeStamp),
    createTime: lsTimeOf(x.timeStamp),
    completeTime: x.completed ? lsTimeOf(x.completeTime) : '',
    completed: x.completed ? 'true' : 'false',
    archived: 'false',
    voided: x.voided ? 'true' : 'false',
    referenceNumber: '',
    shopID: x.shopID,
    registerID: '1',
    employeeID: '1',
    ...(relations.has('SaleLines') && x.lines.length > 0 ? { SaleLines: { SaleLine: oneOrMany(x.lines.map((l) => render.saleLine(l, items.get(l.itemID), relations))) } } : {}),
  }),
};

/** V3 in JSON: one record as a bare object, several as an array. */
export function oneOrMany(rows: Json[]): Json | Json[] {
  return rows.length === 1 ? rows[0]! : rows;
}

const RESERVED = new Set(['limit', 'after', 'offset', 'sort', 'load_relations', 'archived', 'orderby', 'orderby_desc']);

function compare(a: string, b: string): number {
  if (/^-?\d+(\.\d+)?$/.test(a) && /^-?\d+(\.\d+)?$/.test(b)) return Number(a) - Number(b);
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (/^\d{4}-\d{2}-\d{2}/.test(a) && /^\d{4}-\d{2}-\d{2}/.test(b) && !Number.isNaN(ta) && !Number.isNaN(tb)) return ta - tb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Whether a record's field matches one query filter (`op,value` or a bare value). */
export function matches(value: unknown, filter: string): boolean {
  const v = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  const m = /^(>=|<=|!=|>|<|=|IN|~),(.*)$/s.exec(filter);
  const [op, arg] = m ? [m[1]!, m[2]!] : ['=', filter];
  switch (op) {
    case 'IN': {
      const list = /^\[(.*)\]$/s.exec(arg);
      if (!list) throw new LsApiError(400, `Invalid IN filter "${arg}": expected IN,[a,b,…].`, 'MerchantOS\\Exception\\InvalidQueryException');
      return list[1]!.split(',').map((x) => x.trim().replace(/^"|"$/g, '')).some((x) => compare(v, x) === 0);
    }
    case '~': {
      const re = new RegExp(`^${arg.split('%').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
      return re.test(v);
    }
    case '>': return compare(v, arg) > 0;
    case '>=': return compare(v, arg) >= 0;
    case '<': return compare(v, arg) < 0;
    case '<=': return compare(v, arg) <= 0;
    case '!=': return compare(v, arg) !== 0;
    default: return compare(v, arg) === 0;
  }
}

/** The relations asked for: `load_relations=["ItemShops"]` (a JSON array), or `all`. */
export function relationsOf(q: URLSearchParams, all: string[]): Set<string> {
  const raw = q.get('load_relations');
  if (raw === null || raw === '') return new Set();
  if (raw === 'all') return new Set(all);
  try {
    const v = JSON.parse(raw) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return new Set(v as string[]);
  } catch {
    // answered below
  }
  throw new LsApiError(400, `Invalid load_relations "${raw}": expected a JSON array of relation names.`, 'MerchantOS\\Exception\\InvalidQueryException');
}

/** One page of a list, as V3 answers it. */
export function listAnswer(key: string, rows: Json[], q: URLSearchParams, selfUrl: URL, ignorePaging: boolean): Json {
  let out = rows;
  for (const [k, v] of q) if (!RESERVED.has(k)) out = out.filter((r) => matches(r[k], v));
  const sort = q.get('sort');
  if (sort) {
    const desc = sort.startsWith('-');
    const field = desc ? sort.slice(1) : sort;
    out = [...out].sort((a, b) => (desc ? -1 : 1) * compare(String(a[field] ?? ''), String(b[field] ?? '')));
  }
  const limit = Math.min(100, Math.max(1, Number(q.get('limit') ?? 100) || 100));
  const after = ignorePaging ? 0 : Number(Buffer.from(q.get('after') ?? '', 'base64url').toString('utf8') || 0) || 0;
  const page = out.slice(after, after + limit);
  const link = (offset: number) => {
    const u = new URL(selfUrl.toString());
    u.searchParams.set('after', Buffer.from(String(offset)).toString('base64url'));
    u.searchParams.set('limit', String(limit));
    return u.toString();
  };
  const attrs = { next: after + limit < out.length ? link(after + limit) : '', previous: after > 0 ? link(Math.max(0, after - limit)) : '' };
  return { '@attributes': attrs, ...(page.length > 0 ? { [key]: oneOrMany(page) } : {}) };
}
