/**
 * One JSON request to a platform's REST API, bounded by a timeout and the caller's signal: the
 * status, the parsed body (undefined when empty or not JSON) and the headers. No answer (a network
 * error, the timeout) is a retryable ConnectorError naming the platform and what was being done; the
 * caller's own abort is rethrown as its reason. What a status means is the connector's to say.
 */
import { ConnectorError } from './types';

export interface JsonRequest {
  /** The platform as staff know it ("Zettle"). */
  platform: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Sent as JSON (with its content type) when given. */
  body?: unknown;
  /** After "while trying to": "read the stock balances". */
  what: string;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export async function sendJson(fetchImpl: typeof fetch, r: JsonRequest): Promise<{ status: number; json: unknown; headers: Headers }> {
  r.signal?.throwIfAborted();
  const headers = { accept: 'application/json', ...r.headers, ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}) };
  const timeout = AbortSignal.timeout(r.timeoutMs);
  let res: Response;
  let text: string;
  try {
    res = await fetchImpl(r.url, { method: r.method, headers, body: r.body === undefined ? undefined : JSON.stringify(r.body), signal: r.signal ? AbortSignal.any([r.signal, timeout]) : timeout, redirect: 'error' });
    text = await res.text();
  } catch (err) {
    r.signal?.throwIfAborted();
    const why = timeout.aborted ? `no answer within ${Math.round(r.timeoutMs / 1000)} s` : ((err as { cause?: { code?: string } }).cause?.code ?? 'network error');
    throw new ConnectorError(`${r.platform} could not be reached while trying to ${r.what} (${why}); it will be retried.`, true);
  }
  let json: unknown = undefined;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, headers: res.headers };
}
