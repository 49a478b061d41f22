/** The app-wide steps around the routes: the request log and metrics, the request validator, the not-found and error answers. */
import type { NextFunction, Request, Response } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import type { Logger } from '../log';
import type { Metrics } from '../metrics';
import type { ApiDocument } from './context';
import { AppError } from './errors';

/**
 * Requests are counted by the route they matched, never by the address asked for: anything refused
 * before a route matched (401, 400, 405, 413, an address that does not exist) is counted as
 * "unrouted", so nobody can add series to /metrics, or memory to the hub, by inventing addresses.
 */
export const requestLog = (log: Logger, metrics: Metrics) => (req: Request, res: Response, next: NextFunction) => {
  const end = metrics.httpDuration.startTimer();
  res.on('finish', () => {
    const matched = (req.route as { path?: unknown } | undefined)?.path;
    const route = typeof matched === 'string' ? matched : 'unrouted';
    const seconds = end({ method: req.method, route, status: String(res.statusCode) });
    const line = { method: req.method, path: req.path.slice(0, 300), status: res.statusCode, ms: Math.round(seconds * 1000) };
    if (res.statusCode >= 500) log.error(line, 'request');
    else if (res.statusCode >= 400) log.info(line, 'request refused');
    else log.debug(line, 'request');
  });
  next();
};

/** Every request checked against the document the hub serves; responses too when asked (tests). */
export const validator = (document: ApiDocument, validateResponses: boolean) =>
  OpenApiValidator.middleware({
    apiSpec: document as never,
    // Query and path parameters are always read as their types; a body is taken as sent, so a
    // quantity given as "12", "1e3" or true is refused, not read as a number (docs/ledger.md).
    validateRequests: { allowUnknownQueryParameters: false, coerceTypes: false },
    validateResponses: validateResponses ? { removeAdditional: false } : false,
    validateSecurity: false,
    ignorePaths: /^\/v1\/(relay|webhooks\/[^/]+)$/,
  });

export const notFound = (_req: Request, _res: Response, next: NextFunction) => next(new AppError(404, 'not_found', 'There is nothing at this address. The API is described at /openapi.json.'));

export const errorHandler = (log: Logger) => (err: unknown, req: Request, res: Response, _next: NextFunction) => {
  const e = AppError.from(err);
  if (e.status >= 500) log.error({ err, method: req.method, path: req.path }, 'request failed');
  res.status(e.status).json({ error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } });
};
