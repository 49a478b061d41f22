/**
 * Bearer tokens for /v1: the admin token, or a credential's token limited to its scopes
 * (docs/security.md, server/api/scopes.ts).
 */
import crypto from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Credentials } from '../credentials';
import type { Logger } from '../log';
import type { CredentialRecord } from '../store/types';
import { AppError } from './errors';
import { ROUTE_SCOPES, routeMatcher } from './scopes';

export type Caller = { kind: 'admin' } | { kind: 'credential'; credential: CredentialRecord };

export const callerOf = (res: Response): Caller | undefined => res.locals.caller as Caller | undefined;

function safeEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

const TOKEN_HELP = 'Send "Authorization: Bearer <token>": the admin token on the hub’s own machine, or the token of a credential made for this use (npx stockrelay credentials create --help).';

/**
 * Checks the bearer token of a /v1 request: the admin token may call every route; a credential's
 * token only the routes ROUTE_SCOPES lists for one of its scopes (403 otherwise). Looked up in the
 * store on every request, so a revocation counts from the next request on, in every hub process.
 */
export function bearerAuth(deps: { adminToken: string; credentials: Credentials | null; paths: string[]; log: Logger }) {
  const routeOf = routeMatcher(deps.paths);
  const check = async (req: Request, res: Response): Promise<void> => {
    const m = /^Bearer +(\S+) *$/i.exec(req.get('authorization') ?? '');
    if (!m) throw new AppError(401, 'unauthorized', `This call needs a token. ${TOKEN_HELP}`);
    const token = m[1]!;
    if (safeEqual(token, deps.adminToken)) {
      res.locals.caller = { kind: 'admin' } satisfies Caller;
      return;
    }
    const found = deps.credentials ? await deps.credentials.authenticate(token) : { ok: false as const, revoked: null };
    if (!found.ok) {
      if (found.revoked) {
        deps.log.info({ credential: found.revoked.id, name: found.revoked.name }, 'request refused: credential revoked');
        throw new AppError(401, 'credential_revoked', `This token belongs to credential ${found.revoked.id} ("${found.revoked.name}"), which was revoked at ${found.revoked.revokedAt}. Ask the supplier for a new credential and paste its token where this one was.`);
      }
      throw new AppError(401, 'unauthorized', `The token is wrong, or its credential was rotated (only the newest token works). ${TOKEN_HELP}`);
    }
    const c = found.credential;
    const path = (req.originalUrl.split('?')[0] ?? '').replace(/\/{2,}/g, '/');
    const route = routeOf(req.method, path);
    const allowed = route === null ? [] : ROUTE_SCOPES[route]!;
    if (!c.scopes.some((s) => (allowed as readonly string[]).includes(s))) {
      const what = route ?? `${req.method} ${path}`;
      throw new AppError(
        403,
        'forbidden',
        allowed.length === 0
          ? `Credential ${c.id} ("${c.name}", scope ${c.scopes.join(', ')}) may not call ${what}: only the admin token may, on the hub’s own machine. Nothing was changed.`
          : `Credential ${c.id} ("${c.name}", scope ${c.scopes.join(', ')}) may not call ${what}: it needs a credential with scope ${allowed.join(' or ')}. Nothing was changed.`,
      );
    }
    res.locals.caller = { kind: 'credential', credential: c } satisfies Caller;
  };
  return (req: Request, res: Response, next: NextFunction): void => {
    check(req, res).then(() => next(), next);
  };
}
