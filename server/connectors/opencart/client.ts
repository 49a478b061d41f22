/**
 * The OpenCart connector's calls to the stockrelay extension's routes (protocol.ts) with `fetch`:
 * OpenCart has no official client library, and core OpenCart no stock API to call.
 * Every failure becomes a ConnectorError that says whether it is the channel's (401, 403, a 404
 * of the route, 5xx, 429, no answer, an answer that is not the extension's JSON) or one item's.
 */
import { ConnectorError, type ConnectorContext } from '../types';
import { parseRetryAfter } from '../../util';
import { HEADER, OC_MAX_PAGE, ROUTE_PREFIX, type OcMethod } from './protocol';

type Obj = Record<string, unknown>;

export interface OcClientOptions {
  /** The store address (where index.php is), without a trailing slash. */
  url: string;
  pageSize: number;
}

function setting(ctx: ConnectorContext, name: string, fallback: number, min: number, max: number, what: string): number {
  const v = ctx.settings[name] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ConnectorError(`The OpenCart setting ${name} must be ${what}.`, false);
  return v;
}

export class OcClient {
  readonly url: string;
  readonly pageSize: number;
  private readonly key: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(ctx: ConnectorContext) {
    const configured = ctx.baseUrl ?? (typeof ctx.settings.storeUrl === 'string' ? ctx.settings.storeUrl : null);
    if (!configured || !/^https?:\/\/[^/]+/i.test(configured.trim())) {
      throw new ConnectorError('The OpenCart channel needs the store address: baseUrl (or the setting storeUrl), e.g. https://shop.example.com/ (where index.php is).', false);
    }
    const key = ctx.credentials.apiKey;
    if (!key) throw new ConnectorError('The OpenCart channel needs the credential apiKey: the API key shown in Extensions > Modules > Stockrelay.', false);
    this.url = configured.trim().replace(/\/index\.php$/i, '').replace(/\/+$/, '');
    this.key = key;
    this.pageSize = setting(ctx, 'pageSize', OC_MAX_PAGE, 1, OC_MAX_PAGE, 'a whole number from 1 to 100');
    this.timeoutMs = setting(ctx, 'timeoutMs', 30_000, 100, 600_000, 'a whole number of milliseconds (at least 100)');
    this.fetchFn = ctx.fetch ?? fetch;
  }

  private scrub(msg: string): string {
    return this.key.length >= 4 ? msg.split(this.key).join('[redacted]') : msg;
  }

  private address(method: OcMethod, query: Record<string, string | number>): string {
    const params = new URLSearchParams({ route: `${ROUTE_PREFIX}.${method}` });
    for (const [k, v] of Object.entries(query)) params.set(k, String(v));
    return `${this.url}/index.php?${params.toString()}`;
  }

  /** One call to the extension; the parsed JSON object of a 2xx answer, else a ConnectorError. */
  async call(method: OcMethod, what: string, opts: { query?: Record<string, string | number>; body?: unknown } = {}, signal?: AbortSignal): Promise<Obj> {
    signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(this.address(method, opts.query ?? {}), {
        method: opts.body === undefined ? 'GET' : 'POST',
        headers: { [HEADER.key]: this.key, accept: 'application/json', ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        redirect: 'error',
      });
      text = await res.text();
    } catch (err) {
      signal?.throwIfAborted();
      const why = timeout.aborted ? `no answer within ${this.timeoutMs} ms` : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message ?? 'network error');
      throw new ConnectorError(this.scrub(`The OpenCart store could not be reached while trying to ${what} (${why}); it will be retried.`), true);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.status >= 200 && res.status < 300) {
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        // PHP notices printed before the JSON, a maintenance page, a cache's copy of another page.
        throw new ConnectorError(
          `The OpenCart store answered without the stockrelay extension's JSON while trying to ${what} (HTTP ${res.status}, "${text.replace(/\s+/g, ' ').slice(0, 80)}"): check that the extension is installed and enabled, and that PHP warnings are not displayed (System > Settings > Server > Display errors off).`,
          false,
          null,
          res.status,
          { channelFault: true },
        );
      }
      return body as Obj;
    }
    throw this.failure(res.status, body, res.headers.get('retry-after'), what);
  }

  private failure(status: number, body: unknown, retryAfterHeader: string | null, what: string): ConnectorError {
    const err = typeof body === 'object' && body !== null ? (body as { error?: { code?: unknown; message?: unknown } }).error : undefined;
    const code = typeof err?.code === 'string' ? err.code : null;
    const said = code ? ` (${code}${typeof err?.message === 'string' ? `: ${err.message.slice(0, 200)}` : ''})` : '';
    const retryAfter = parseRetryAfter(retryAfterHeader);
    let e: ConnectorError;
    if (status === 429) {
      e = new ConnectorError(`The OpenCart store's host is rate limiting us (HTTP 429) while trying to ${what}${retryAfter !== null ? `; retry in ${Math.ceil(retryAfter / 1000)} s` : ''}.`, true, retryAfter, 429);
    } else if (status === 401) {
      e = new ConnectorError(`The OpenCart store refused the API key (HTTP 401)${said} while trying to ${what}: check the apiKey credential against Extensions > Modules > Stockrelay.`, false, null, 401);
    } else if (status === 403) {
      e = new ConnectorError(`The OpenCart store refused the request (HTTP 403)${said} while trying to ${what}: the stockrelay extension is disabled, or a firewall blocks the hub.`, false, null, 403);
    } else if (status === 404 && code === 'not_found') {
      e = new ConnectorError(`The OpenCart store does not have this product (HTTP 404)${said} while trying to ${what}; run catalog discovery again.`, false, null, 404, { channelFault: false });
    } else if (status === 404) {
      e = new ConnectorError(`The stockrelay extension was not found at ${this.url}/index.php?route=${ROUTE_PREFIX} (HTTP 404) while trying to ${what}: check the store address and that the extension is installed.`, false, null, 404);
    } else if (status >= 500 || status === 408) {
      e = new ConnectorError(`The OpenCart store had a server error (HTTP ${status})${said} while trying to ${what}; it will be retried.`, true, retryAfter, status);
    } else {
      e = new ConnectorError(`The OpenCart store rejected the request (HTTP ${status})${said} while trying to ${what}.`, false, null, status);
    }
    return new ConnectorError(this.scrub(e.message), e.retryable, e.retryAfterMs, e.status, { channelFault: e.channelFault });
  }
}

/** A clear error for an answer of the extension the connector cannot read: never taken as a level. */
export function unreadable(what: string, detail: string): ConnectorError {
  return new ConnectorError(`The OpenCart store's answer to ${what} could not be read: ${detail}. Nothing was taken from it; check that the stockrelay extension is the version this hub expects (protocol 1).`, false, null, null, {
    channelFault: true,
  });
}
