/**
 * How the Revel emulator answers a list, as Revel's Tastypie API does: filters `field=value` (a
 * foreign key matches its id or its resource URI) and `field__gte=value`, `order_by` (repeatable,
 * `-` for descending), `limit` (0: everything) and `offset`, and `meta` with `next` and `previous`.
 * A filter on a field the objects do not have is reported as a problem of the caller's request.
 */
import { idOf, type Row } from '../wire';

const NOT_FILTERS = new Set(['limit', 'offset', 'order_by', 'format', 'fields', 'api_key', 'api_secret']);

export function tastypieList(
  url: URL,
  rows: Row[],
  fieldsOf: (r: Row) => Row,
  opts: { defaultLimit: number; ignorePaging: boolean },
): { status: number; body: unknown; problems: string[] } {
  const q = url.searchParams;
  const problems: string[] = [];
  let out = rows;
  for (const [k, v] of q.entries()) {
    if (NOT_FILTERS.has(k)) continue;
    const gte = k.endsWith('__gte');
    const field = gte ? k.slice(0, -5) : k;
    const sample = rows[0] ? fieldsOf(rows[0]) : null;
    if (sample && !(field in sample)) {
      problems.push(`The connector filtered ${url.pathname} on "${k}", a field its objects do not have.`);
      continue;
    }
    out = out.filter((r) => {
      const have = fieldsOf(r)[field];
      if (gte) return typeof have === 'string' && have >= v;
      if (typeof have === 'boolean') return String(have) === v.toLowerCase();
      return String(have) === v || idOf(have) === v;
    });
  }
  const orderBy = q.getAll('order_by');
  if (orderBy.length > 0) {
    out = [...out].sort((a, b) => {
      for (const o of orderBy) {
        const desc = o.startsWith('-');
        const f = desc ? o.slice(1) : o;
        const x = fieldsOf(a)[f] as string | number;
        const y = fieldsOf(b)[f] as string | number;
        if (x !== y) return (x < y ? -1 : 1) * (desc ? -1 : 1);
      }
      return 0;
    });
  }
  const limit = q.has('limit') ? Number(q.get('limit')) : opts.defaultLimit;
  const offset = opts.ignorePaging ? 0 : Number(q.get('offset') ?? 0);
  if (!Number.isInteger(limit) || limit < 0 || !Number.isInteger(offset) || offset < 0) return { status: 400, body: { error: 'limit and offset must be whole numbers.' }, problems };
  const page = limit === 0 ? out.slice(offset) : out.slice(offset, offset + limit);
  const more = opts.ignorePaging || (limit > 0 && offset + limit < out.length);
  const next = new URLSearchParams(q);
  next.set('offset', String(offset + limit));
  return {
    status: 200,
    body: {
      meta: { limit, offset, total_count: out.length, next: more ? `${url.pathname}?${next.toString()}` : null, previous: offset > 0 ? `${url.pathname}?offset=${Math.max(0, offset - limit)}&limit=${limit}` : null },
      objects: page,
    },
    problems,
  };
}
