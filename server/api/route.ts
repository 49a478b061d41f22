/**
 * A route of the API is described once, in its resource's module: where it is, what the OpenAPI
 * document says of it, and the handler that answers it. The app mounts these tables and the
 * document served at /openapi.json is built from the same tables (server/api/openapi.ts).
 */
import type express from 'express';
import type { Request, Response } from 'express';
import type { TSchema } from '@sinclair/typebox';
import type { ApiContext } from './context';
import { wrap } from './http';

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

/** `/v1/items/{sku}` → `/v1/items/:sku`. */
export const expressPath = (path: string): string => path.replace(/\{([^}]+)\}/g, ':$1');

/** Mounts a resource's routes in the order its table lists them (a literal segment before a parameter). */
export function mount(app: express.Express, ctx: ApiContext, resource: Resource): void {
  for (const r of resource.routes) {
    app[r.method](expressPath(r.path), wrap(async (req, res) => r.handle(ctx, req, res)));
  }
}
