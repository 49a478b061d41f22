/**
 * Talking to the hub over UrlFetchApp: signed relays (POST /v1/relay) and reads and decisions
 * (GET/POST /v1/…) with this sheet's credential token (scope sidebar; docs/security.md).
 * Every failure becomes a sentence a shop owner can act on.
 */
import type { UrlFetchAppLike, UtilitiesLike } from './gas';
import { signRelay } from './relay/sign';
import { CREATE_SIDEBAR_CREDENTIAL, type Settings } from './settings';

/** The hub's answer to a relay it took: `{eventId, status, results: [{sku, result, message}], message}`. */
export interface RelayAnswer {
  eventId?: number;
  /** received (stored, booked in order), processed (booked), unmatched, rejected, conflict, failed. */
  status?: string;
  results?: { sku?: string; result?: string; message?: string }[];
  message?: string;
}

/** Event statuses that mean all is well (or will be): anything else has a problem to show. */
const FINE_STATUSES = ['received', 'processed'];
/** Results that are a problem to show people. */
const PROBLEM_RESULTS = ['unmatched', 'rejected', 'conflict', 'failed'];

/** Pure: the first problem in the hub's answer to a relay, in its own words; null when all is well. */
export function relayProblem(answer: RelayAnswer | undefined): string | null {
  if (!answer || typeof answer.status !== 'string' || FINE_STATUSES.includes(answer.status)) return null;
  const results = Array.isArray(answer.results) ? answer.results : [];
  const bad = results.find((r) => r && typeof r.message === 'string' && r.message && PROBLEM_RESULTS.includes(String(r.result))) ?? results.find((r) => r && typeof r.message === 'string' && r.message);
  return bad?.message ?? answer.message ?? `The hub stored it, but its status is "${answer.status}".`;
}

function parseAnswer(text: string): RelayAnswer | undefined {
  try {
    const body = JSON.parse(text) as unknown;
    return body && typeof body === 'object' && !Array.isArray(body) ? (body as RelayAnswer) : undefined;
  } catch {
    return undefined;
  }
}

/** What happened to one attempt to deliver a relay. */
export type SendOutcome =
  /** `answer`: the hub's JSON answer when it sent one (not for a replay). */
  | { result: 'delivered'; status: number; answer?: RelayAnswer }
  /** Try again later with the same webhook-id (hub down, 5xx, 429, 409 other than a replay). */
  | { result: 'retry'; status: number | null; message: string; /** The hub's own words, when it gave a reason. */ detail?: string }
  /** The hub refused it for good (4xx): keep it aside with the hub's words. */
  | { result: 'failed'; status: number; code: string; message: string };

/** The hub's error body: `{error: {code, message}}`. */
export function hubError(text: string): { code: string; message: string } | null {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (body && body.error && typeof body.error.message === 'string') {
      return { code: typeof body.error.code === 'string' ? body.error.code : 'error', message: body.error.message };
    }
  } catch {
    /* not JSON */
  }
  return null;
}

/** Pure: how to treat the hub's answer to a relay. */
export function classifyRelayAnswer(status: number, text: string): SendOutcome {
  const err = hubError(text);
  if (status >= 200 && status < 300) {
    const answer = parseAnswer(text);
    return answer ? { result: 'delivered', status, answer } : { result: 'delivered', status };
  }
  if (status === 409 && err?.code === 'relay_replayed') return { result: 'delivered', status };
  // The signature was refused: the sheet's credential was rotated or revoked (Connect checks a secret
  // against its token, so a typo never gets this far). The change itself is fine: it is kept, in
  // order, and sent once the sheet is connected again with its current credential.
  if (status === 401) {
    return { result: 'retry', status, message: `the hub refused this sheet’s relay secret${err ? ` (${err.message})` : ''}: its credential was rotated or revoked. Changes are kept; choose stockrelay › Connect to hub with the sheet’s current credential and they are sent.`, ...(err ? { detail: err.message } : {}) };
  }
  if (status === 409 || status === 429 || status >= 500) {
    const why = status === 429 ? 'the hub asked to slow down' : status === 409 ? 'the hub is busy with a conflicting request' : `the hub answered ${status}`;
    return { result: 'retry', status, message: err ? `${why}: ${err.message}` : `${why}.` };
  }
  if (status >= 400) return { result: 'failed', status, code: err?.code ?? `http_${status}`, message: err?.message ?? `The hub refused the change (HTTP ${status}).` };
  return { result: 'failed', status, code: `http_${status}`, message: `The hub answered with an unexpected HTTP ${status}; check the hub’s address.` };
}

export class HubError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    readonly code: string,
  ) {
    super(message);
  }
}

function unreachable(url: string, err: unknown): string {
  const detail = err instanceof Error ? err.message : String(err);
  return `The hub at ${url} did not answer (${detail.replace(/^Exception:\s*/, '')}). It may be down or restarting; changes made meanwhile are kept and sent when it is back.`;
}

export class HubClient {
  constructor(
    private readonly fetcher: UrlFetchAppLike,
    private readonly settings: Settings,
    private readonly utilities: UtilitiesLike,
    private readonly now: () => Date,
  ) {}

  get url(): string {
    return this.settings.hubUrl;
  }

  /** Sends one relay; `id` is its webhook-id, the same on every attempt. Never throws. */
  sendRelay(id: string, body: string): SendOutcome {
    let headers;
    try {
      headers = signRelay(this.settings.relaySecret, id, this.now().getTime() / 1000, body, this.utilities);
    } catch (err) {
      return { result: 'failed', status: 0, code: 'bad_secret', message: err instanceof Error ? err.message : String(err) };
    }
    try {
      const res = this.fetcher.fetch(`${this.settings.hubUrl}/v1/relay`, {
        method: 'post',
        contentType: 'application/json',
        payload: body,
        headers: { ...headers },
        muteHttpExceptions: true,
        followRedirects: false,
      });
      return classifyRelayAnswer(res.getResponseCode(), res.getContentText());
    } catch (err) {
      return { result: 'retry', status: null, message: unreachable(this.settings.hubUrl, err) };
    }
  }

  /** GET an API route; throws HubError with a plain message. */
  get<T>(path: string): T {
    return this.admin<T>('get', path, null);
  }

  /** POST JSON to an API route; throws HubError with the hub’s own message. */
  post<T>(path: string, body: unknown): T {
    return this.admin<T>('post', path, body);
  }

  private admin<T>(method: 'get' | 'post', path: string, body: unknown): T {
    let res;
    try {
      res = this.fetcher.fetch(`${this.settings.hubUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.settings.token}`, accept: 'application/json' },
        ...(method === 'post' ? { contentType: 'application/json', payload: JSON.stringify(body ?? {}) } : {}),
        muteHttpExceptions: true,
        followRedirects: false,
      });
    } catch (err) {
      throw new HubError(unreachable(this.settings.hubUrl, err), null, 'unreachable');
    }
    const status = res.getResponseCode();
    const text = res.getContentText();
    if (status >= 200 && status < 300) {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new HubError(`The hub answered ${path} with something that is not JSON; check the hub’s address.`, status, 'not_json');
      }
    }
    const err = hubError(text);
    if (status === 401) {
      const why = err?.code === 'credential_revoked' ? err.message : 'The hub refused this sheet’s token: it is mistyped, or its credential was rotated or revoked.';
      throw new HubError(`${why} Ask the supplier for this sheet’s credential (or a new one: ${CREATE_SIDEBAR_CREDENTIAL}), then choose Connect to hub and paste its relay secret and token.`, status, err?.code ?? 'unauthorized');
    }
    if (status === 503) throw new HubError(`The hub is restarting (503)${err ? `: ${err.message}` : ''}. Try again in a minute.`, status, err?.code ?? 'unavailable');
    if (status >= 500) throw new HubError(`The hub had a problem (${status})${err ? `: ${err.message}` : ''}. Try again in a minute.`, status, err?.code ?? 'server_error');
    throw new HubError(err?.message ?? `The hub answered ${status} for ${path}.`, status, err?.code ?? `http_${status}`);
  }
}
