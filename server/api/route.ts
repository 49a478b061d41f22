/**
 * A route of the API is described once, in its resource's module: where it is, what the OpenAPI
 * document says of it, and the handler that answers it. The app mounts these tables and the
 * document served at /openapi.json is built from the same tables (server/api/openapi.ts).
 */
import type express from 'express';
import type { Request, Response } from 'express';
import type { TSchema } from '@sinclair/typebox';
import type { ApiContext } from './context';
import { AppError } from './errors';
import { cursorOf, nextCursor, pageLimit, wrap } from './http';
import { admin, adminErrors, cursor, err, limit } from './schemas';

export type Method = 'get' | 'put' | 'post' | 'delete';

export interface Route {
  method: Method;
  /** As the document writes it (/v1/items/{sku}); Express is given /v1/items/:sku. */
  path: string;
  /** The OpenAPI operation: summary, operationId, security, parameters, requestBody, responses. */
  doc: Record<string, unknown>;
  handle(ctx: ApiContext, req: Request, res: Response): Promise<void> | void;
}

export interface Resource {
  /** What the module serves, for a reader and for the document's cache. */
  name: string;
  /**
   * Mounted ahead of JSON parsing, the bearer token check and the request validator: routes that
   * read the raw body and check a signature of their own, or that take no token at all.
   */
  open?: boolean;
  /** Named schemas its routes refer to with `Type.Ref` (components.schemas of the document). */
  schemas?: Record<string, TSchema>;
  routes: Route[];
}

// --- The usual kinds of route: a page of a list, one thing by its key ------------------------------

/** The page a list route asks its store for: at most `limit` rows after `cursor` (from the query). */
export interface PageQuery {
  limit: number;
  cursor: string | undefined;
}

/**
 * A GET answering one page of a list: `limit` and `cursor` from the query, then the route's own
 * `filters`; the answer is `{ [name]: the rows as shown, nextCursor }`, the next cursor being the
 * last row's key when the page is full.
 */
export function listRoute<T>(spec: {
  path: string;
  summary: string;
  operationId: string;
  filters?: object[];
  /** The document's 200 answer (a `Page` of `name`). */
  page: unknown;
  name: string;
  rows: (ctx: ApiContext, req: Request, page: PageQuery) => Promise<T[]>;
  key: (row: T) => string | number;
  show?: (ctx: ApiContext, rows: T[]) => unknown;
}): Route {
  return {
    method: 'get',
    path: spec.path,
    doc: { summary: spec.summary, operationId: spec.operationId, security: admin, parameters: [limit, cursor, ...(spec.filters ?? [])], responses: { '200': spec.page, ...adminErrors } },
    handle: async (ctx, req, res) => {
      const page = { limit: pageLimit(req), cursor: cursorOf(req) };
      const rows = await spec.rows(ctx, req, page);
      res.json({ [spec.name]: spec.show ? await spec.show(ctx, rows) : rows, nextCursor: nextCursor(rows, page.limit, spec.key) });
    },
  };
}

/**
 * A GET of one thing by the id or key in its path (`param`, a path parameter of the document): the
 * thing as shown, or 404 with `unknown`'s code and message when there is none.
 */
export function getRoute<T>(spec: {
  path: string;
  summary: string;
  operationId: string;
  param: { name: string; [field: string]: unknown };
  /** The document's 200 answer, and what its 404 says. */
  found: unknown;
  missing: string;
  get: (ctx: ApiContext, key: string) => Promise<T | null | undefined>;
  unknown: (key: string) => [code: string, message: string];
  show?: (ctx: ApiContext, row: T) => unknown;
}): Route {
  return {
    method: 'get',
    path: spec.path,
    doc: { summary: spec.summary, operationId: spec.operationId, security: admin, parameters: [spec.param], responses: { '200': spec.found, '404': err(spec.missing), ...adminErrors } },
    handle: async (ctx, req, res) => {
      const key = String(req.params[spec.param.name]);
      const row = await spec.get(ctx, key);
      if (!row) throw new AppError(404, ...spec.unknown(key));
      res.json(spec.show ? await spec.show(ctx, row) : row);
    },
  };
}

/** `/v1/items/{sku}` → `/v1/items/:sku`. */
export const expressPath = (path: string): string => path.replace(/\{([^}]+)\}/g, ':$1');

/** Mounts a resource's routes in the order its table lists them (a literal segment before a parameter). */
export function mount(app: express.Express, ctx: ApiContext, resource: Resource): void {
  for (const r of resource.routes) {
    app[r.method](expressPath(r.path), wrap(async (req, res) => r.handle(ctx, req, res)));
  }
}
