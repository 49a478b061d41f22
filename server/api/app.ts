/**
 * The hub's HTTP API. Routes are thin: they check, store an inbound event, and read views. Every
 * write goes through the inbox, so the API, the sheet and the Airtable scripts share one path.
 * Each resource is one module of server/api/routes/ with its handlers and its OpenAPI description;
 * this file puts them together.
 */
import express from 'express';
import { bearerAuth } from './auth';
import { apiContext, type AppDeps } from './context';
import { MAX_BODY_BYTES, parseJson, readBody } from './http';
import { errorHandler, notFound, requestLog, validator } from './middleware';
import { documentFor } from './openapi';
import { mount } from './route';
import { resourcesFor } from './routes';

export type { AppDeps, SandboxView } from './context';

export function createApp(deps: AppDeps): express.Express {
  // The sandbox's routes exist only in sandbox mode: elsewhere they are neither mounted nor documented.
  const resources = resourcesFor({ sandbox: Boolean(deps.sandbox) });
  const document = documentFor(resources);
  const ctx = apiContext(deps, document);
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(requestLog(deps.log, deps.metrics));
  // Every body is read here, at most 1 MiB, refused before it is read when it says it is larger.
  app.use(readBody(MAX_BODY_BYTES));

  // Health, the document, signed relays and webhooks: raw bytes and their own signatures, no token.
  for (const r of resources.filter((x) => x.open)) mount(app, ctx, r);

  // Everything else: JSON, a bearer token, validated against the document.
  app.use(parseJson);
  app.use('/v1', bearerAuth({ adminToken: deps.config.adminToken, credentials: ctx.credentials, paths: Object.keys(document.paths), log: deps.log }));
  app.use(validator(document, deps.validateResponses ?? false));
  for (const r of resources.filter((x) => !x.open)) mount(app, ctx, r);

  app.use(notFound);
  app.use(errorHandler(deps.log));
  return app;
}
