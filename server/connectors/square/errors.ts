/**
 * Square's failures as ConnectorErrors: whether a retry may help (429, 5xx, timeouts, no answer), what
 * Square said, and what the shop owner should check; never the access token.
 */
import { SquareError, SquareTimeoutError } from 'square';
import { ConnectorError } from '../types';
import { parseRetryAfter } from '../../util';

export type SquareErrorBody = { category?: string; code?: string; detail?: string; field?: string };

/** What a message needs of the client: its timeout, its channel, whether it uses OAuth, and how to hide its token. */
export interface FailureContext {
  timeoutSeconds: number;
  channelId: string;
  oauth: boolean;
  scrub: (msg: string) => string;
}

/** Square's error list of a failed call, if it answered with one. */
export function squareErrorsOf(err: unknown): SquareErrorBody[] {
  if (!(err instanceof SquareError) || typeof err.body !== 'object' || err.body === null) return [];
  const list = (err.body as { errors?: unknown }).errors;
  return Array.isArray(list) ? (list.filter((e) => typeof e === 'object' && e !== null) as SquareErrorBody[]) : [];
}

export function squareFailure(err: unknown, what: string, ctx: FailureContext): ConnectorError {
  if (err instanceof ConnectorError) return err;
  // The SDK aborts a request that outlives timeoutInSeconds with the reason "timeout"; Node's fetch
  // rejects with that reason, which the SDK reports as an unknown error caused by it (or, from
  // other fetch implementations, as SquareTimeoutError / an AbortError). The passthrough fetch
  // throws the reason itself.
  const timedOut = (e: unknown) => e === 'timeout' || (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError'));
  if (err instanceof SquareTimeoutError || timedOut(err) || (err instanceof SquareError && err.statusCode === undefined && timedOut(err.cause))) {
    return new ConnectorError(`Square did not answer within ${ctx.timeoutSeconds} s while trying to ${what}; it will be retried.`, true);
  }
  if (!(err instanceof SquareError) || err.statusCode === undefined) {
    // Node's fetch fails with TypeError("fetch failed") whose cause carries the system code (ECONNREFUSED, …).
    let why = 'network error';
    for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string') {
        why = code;
        break;
      }
      if (e instanceof Error && !(e instanceof SquareError) && e.message) why = e.message;
    }
    return new ConnectorError(ctx.scrub(`Square could not be reached while trying to ${what} (${why}); it will be retried.`), true);
  }
  return squareHttpFailure(err.statusCode, squareErrorsOf(err), err.rawResponse?.headers.get('retry-after') ?? null, what, ctx);
}

/** A Square error answer as a ConnectorError: 429 and 5xx retryable, the rest not. */
export function squareHttpFailure(status: number, errors: SquareErrorBody[], retryAfterHeader: string | null, what: string, ctx: FailureContext): ConnectorError {
  const said = errors.length > 0 ? ` (${errors.map((e) => `${e.code ?? 'ERROR'}${e.detail ? `: ${e.detail}` : ''}${e.field ? ` [${e.field}]` : ''}`).join('; ')})` : '';
  const retryAfter = parseRetryAfter(retryAfterHeader);
  let e: ConnectorError;
  if (status === 429) {
    e = new ConnectorError(`Square is rate limiting this application (HTTP 429 RATE_LIMITED) while trying to ${what}${retryAfter !== null ? `; retry in ${Math.ceil(retryAfter / 1000)} s` : ''}.`, true, retryAfter, 429);
  } else if (status === 401) {
    e = ctx.oauth
      ? new ConnectorError(`Square refused the OAuth access token (HTTP 401)${said} while trying to ${what}, also right after renewing it: the app may have been disconnected in Square. Run "npm run stockrelay -- authorize --channel ${ctx.channelId}" to connect it again.`, false, null, 401)
      : new ConnectorError(`Square refused the access token (HTTP 401)${said} while trying to ${what}: check the accessToken credential of this channel (and that it is for this environment, production or sandbox).`, false, null, 401);
  } else if (status === 403) {
    e = new ConnectorError(`Square refused the request (HTTP 403)${said} while trying to ${what}: the token lacks a permission (INVENTORY_READ, INVENTORY_WRITE, ITEMS_READ, ORDERS_READ) or the location is not this seller's.`, false, null, 403);
  } else if (status === 404) {
    // Square answers an unknown object inside a request with 400 and the field; a 404 of the request
    // itself is the wrong address (baseUrl, production vs sandbox) or an endpoint that is gone.
    e = new ConnectorError(`Square answered 404 (not found)${said} while trying to ${what}: check the channel's baseUrl (https://connect.squareup.com, or https://connect.squareupsandbox.com for a sandbox token) and the squareVersion setting.`, false, null, 404);
  } else if (status >= 500 || status === 408) {
    e = new ConnectorError(`Square had a server error (HTTP ${status})${said} while trying to ${what}; it will be retried.`, true, retryAfter, status);
  } else {
    e = new ConnectorError(`Square rejected the request (HTTP ${status})${said} while trying to ${what}.`, false, null, status);
  }
  return new ConnectorError(ctx.scrub(e.message), e.retryable, e.retryAfterMs, e.status, { channelFault: e.channelFault });
}
