/**
 * Calls to the PrestaShop webservice (`{shop}/api/…`) with `fetch`: PrestaShop publishes no Node
 * client (its official library, PrestaShop-webservice-lib, is PHP). Every request:
 * - authenticates with the webservice key as the HTTP Basic user name and an empty password
 *   (devdocs "Testing access to the Webservice"), never as `ws_key` in the address, which would put
 *   the key in the shop's access logs;
 * - asks for JSON answers with `output_format=JSON` (devdocs "Cheat sheet");
 * - sends bodies as XML (`text/xml`): the webservice reads only XML input.
 * Errors come back as `{"errors":[{"code":N,"message":"…"}]}`; they become ConnectorErrors here that
 * say whether a retry may help and whether the fault is the shop's as a whole or one item's.
 */
import { ConnectorError, type ConnectorContext } from '../types';
import { jsonOrNull, parseRetryAfter } from '../../util';
import { wholeSetting } from '../kit/settings';

export type Params = Record<string, string | number>;

/** The webservice's own error messages in an answer, joined; '' when there are none. */
function psErrors(body: unknown): { text: string; codes: number[] } {
  const errs = typeof body === 'object' && body !== null ? (body as { errors?: unknown }).errors : undefined;
  if (!Array.isArray(errs)) return { text: '', codes: [] };
  const parts: string[] = [];
  const codes: number[] = [];
  for (const e of errs) {
    if (typeof e !== 'object' || e === null) continue;
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'number') codes.push(code);
    if (typeof message === 'string') parts.push(message.replace(/\s+/g, ' ').trim());
  }
  return { text: parts.join('; '), codes };
}

export class PsHttp {
  /** The shop's address, without a trailing slash. */
  readonly url: string;
  /** Rows per list page (setting pageSize, 1–1000). */
  readonly pageSize: number;
  private readonly key: string;
  private readonly timeoutMs: number;
  private readonly doFetch: typeof fetch;

  constructor(ctx: ConnectorContext) {
    const configured = ctx.baseUrl ?? (typeof ctx.settings.shopUrl === 'string' ? ctx.settings.shopUrl : null);
    if (!configured || !/^https?:\/\/[^/]+/i.test(configured.trim())) {
      throw new ConnectorError('The PrestaShop channel needs the shop address: baseUrl (or the setting shopUrl), e.g. https://shop.example.com.', false);
    }
    const key = ctx.credentials.webserviceKey;
    if (!key) throw new ConnectorError('The PrestaShop channel needs the credential webserviceKey (Advanced Parameters → Webservice → Add new webservice key).', false);
    this.url = configured.trim().replace(/\/+$/, '');
    this.key = key;
    this.pageSize = wholeSetting(ctx, 'PrestaShop', 'pageSize', 100, 1, 1000);
    this.timeoutMs = wholeSetting(ctx, 'PrestaShop', 'timeoutMs', 30_000, 100, 600_000);
    this.doFetch = ctx.fetch ?? fetch;
  }

  private scrub(msg: string): string {
    return this.key ? msg.split(this.key).join('[redacted]') : msg;
  }

  /** One webservice call answering JSON; `xml`: the request body. Every failure is a ConnectorError. */
  async call<T>(method: 'GET' | 'PUT' | 'PATCH', path: string, what: string, opts: { params?: Params; xml?: string } = {}, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    const u = new URL(`${this.url}/api/${path}`);
    for (const [k, v] of Object.entries(opts.params ?? {})) u.searchParams.set(k, String(v));
    u.searchParams.set('output_format', 'JSON');
    const headers: Record<string, string> = { authorization: `Basic ${Buffer.from(`${this.key}:`).toString('base64')}`, accept: 'application/json' };
    if (opts.xml !== undefined) headers['content-type'] = 'text/xml; charset=utf-8';
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.doFetch(u, { method, headers, ...(opts.xml !== undefined ? { body: opts.xml } : {}), signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'manual' });
      text = await res.text();
    } catch (err) {
      signal?.throwIfAborted();
      const why = timeout.aborted ? `no answer within ${this.timeoutMs} ms` : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message ?? 'network error');
      throw new ConnectorError(this.scrub(`PrestaShop could not be reached while trying to ${what} (${why}); it will be retried.`), true);
    }
    const body = jsonOrNull(text);
    if (res.status >= 200 && res.status < 300) {
      if (body === null && method === 'GET') throw new ConnectorError(`PrestaShop answered without JSON while trying to ${what}: check that the address is the shop's and that nothing rewrites /api/ answers.`, true, null, res.status);
      return body as T;
    }
    throw this.failure(res, body, what);
  }

  private failure(res: Response, body: unknown, what: string): ConnectorError {
    const status = res.status;
    const { text, codes } = psErrors(body);
    const said = text ? ` (${text})` : '';
    const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
    let e: ConnectorError;
    if (status === 429) {
      e = new ConnectorError(`The PrestaShop shop's host is rate limiting us (HTTP 429) while trying to ${what}${retryAfter !== null ? `; retry in ${Math.ceil(retryAfter / 1000)} s` : ''}.`, true, retryAfter, 429);
    } else if (status === 401) {
      e = new ConnectorError(`PrestaShop refused the webservice key (HTTP 401)${said} while trying to ${what}: check the webserviceKey credential, that the key is enabled and that the webservice is on (Advanced Parameters → Webservice).`, false, null, 401);
    } else if (status === 403 || status === 405) {
      e = new ConnectorError(`PrestaShop refused the request (HTTP ${status})${said} while trying to ${what}: give the webservice key the permission for this resource and method (GET, PUT, PATCH) in Advanced Parameters → Webservice.`, false, null, status, { channelFault: true });
    } else if (status === 404 && codes.length > 0) {
      // The webservice's own answer for an id it does not have: a refusal of that item only.
      e = new ConnectorError(`PrestaShop does not have this item (HTTP 404)${said} while trying to ${what}; run catalog discovery again.`, false, null, 404, { channelFault: false });
    } else if (status === 404) {
      e = new ConnectorError(`The PrestaShop webservice was not found at ${this.url}/api/ (HTTP 404) while trying to ${what}: check the shop address and that URL rewriting sends /api/ to the webservice.`, false, null, 404);
    } else if (status >= 500 || status === 408) {
      e = new ConnectorError(`PrestaShop had a server error (HTTP ${status})${said} while trying to ${what}; it will be retried.`, true, retryAfter, status);
    } else if (status >= 300 && status < 400) {
      e = new ConnectorError(`PrestaShop redirected the request (HTTP ${status}) while trying to ${what}: give the shop's exact address (https, with or without www, as the shop is set up).`, false, null, status, { channelFault: true });
    } else {
      e = new ConnectorError(`PrestaShop rejected the request (HTTP ${status})${said} while trying to ${what}.`, false, null, status);
    }
    return new ConnectorError(this.scrub(e.message), e.retryable, e.retryAfterMs, e.status, { channelFault: e.channelFault });
  }
}
