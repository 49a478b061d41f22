/**
 * One JSON request to a platform's REST API, bounded by a timeout and the caller's signal: the
 * status, the parsed body (null when empty or not JSON), the raw text and the headers. No answer (a
 * network error, the timeout) is a retryable ConnectorError naming the platform and what was being
 * done; the caller's own abort is rethrown as its reason. What a status means is the connector's to say.
 */
import { ConnectorError } from './types';
import { jsonOrNull } from '../util';

/** A fetch that reads the body itself (a concurrency gate that holds its slot until then). */
export type TextFetch = (input: URL | string, init: RequestInit) => Promise<{ res: Response; text: string }>;

export interface JsonRequest {
  /** The platform as staff know it ("Zettle"). */
  platform: string;
  method: string;
  url: URL | string;
  headers: Record<string, string>;
  /** Sent as JSON (with its content type) when given. */
  body?: unknown;
  /** After "while trying to": "read the stock balances". */
  what: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** What fetch does with a redirect: 'error' unless given ('manual' lets the connector name a 3xx). */
  redirect?: RequestInit['redirect'];
  /** Takes the channel's secrets out of the "could not be reached" message. */
  scrub?: (message: string) => string;
  /**
   * How that message says why: 'short' (the default) "no answer within 30 s", else the error's code
   * or "network error"; 'detailed' "no answer within 30000 ms", else the code or the error's message.
   */
  why?: 'short' | 'detailed';
  /** Sends through this instead of `fetchImpl`. */
  textFetch?: TextFetch;
}

export interface JsonAnswer {
  status: number;
  /** The parsed body; null when it is empty or not JSON (see `isJson`). */
  json: unknown;
  /** Whether the body was JSON (`null` included). */
  isJson: boolean;
  text: string;
  headers: Headers;
}

export async function sendJson(fetchImpl: typeof fetch, r: JsonRequest): Promise<JsonAnswer> {
  r.signal?.throwIfAborted();
  const headers = { accept: 'application/json', ...r.headers, ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}) };
  const timeout = AbortSignal.timeout(r.timeoutMs);
  const init: RequestInit = { method: r.method, headers, body: r.body === undefined ? undefined : JSON.stringify(r.body), signal: r.signal ? AbortSignal.any([r.signal, timeout]) : timeout, redirect: r.redirect ?? 'error' };
  let res: Response;
  let text: string;
  try {
    if (r.textFetch) {
      ({ res, text } = await r.textFetch(r.url, init));
    } else {
      res = await fetchImpl(r.url, init);
      text = await res.text();
    }
  } catch (err) {
    r.signal?.throwIfAborted();
    const code = (err as { cause?: { code?: string } }).cause?.code;
    const why =
      r.why === 'detailed'
        ? timeout.aborted ? `no answer within ${r.timeoutMs} ms` : (code ?? (err as Error).message ?? 'network error')
        : timeout.aborted ? `no answer within ${Math.round(r.timeoutMs / 1000)} s` : (code ?? 'network error');
    const message = `${r.platform} could not be reached while trying to ${r.what} (${why}); it will be retried.`;
    throw new ConnectorError(r.scrub ? r.scrub(message) : message, true);
  }
  const json = jsonOrNull(text);
  return { status: res.status, json, isJson: json !== null || text.trim() === 'null', text, headers: res.headers };
}
