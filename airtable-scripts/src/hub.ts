/**
 * Delivers one signed relay to the hub (POST /v1/relay) from inside Airtable's 30-second run limit:
 * up to 3 attempts with the same webhook-id, each cut off after 8 seconds, short waits between them,
 * all within one budget of 24 seconds. A success counts only when the hub signed its answer, so a
 * proxy, a captive portal or a mistyped address cannot pass for the hub. Every failure is a sentence
 * a shop owner can act on, and none contains the relay secret.
 */
import type { ScriptEnv } from './airtable';
import { signRelay, verifyAnswer } from './sign';

export const MAX_ATTEMPTS = 3;
/** Waits before the 2nd and 3rd attempts. */
export const RETRY_WAITS_MS = [1000, 3000] as const;
export const ATTEMPT_TIMEOUT_MS = 8000;
/** Everything the scripts send in one run fits in this, well inside Airtable's 30 seconds. */
export const RUN_BUDGET_MS = 24000;
/** An attempt with less time than this left is not started. */
const MIN_ATTEMPT_MS = 2000;

export interface RelayRequest {
  hubUrl: string;
  secret: string;
  /** The webhook-id: the same on every attempt, so the hub books the change once. */
  id: string;
  /** The exact JSON text sent and signed. */
  body: string;
  /** `env.now()` value after which no attempt starts (the run's shared budget). */
  deadline: number;
  /** What to do when the change could not be delivered, e.g. "Edit the record again when the hub is back." */
  retryHint: string;
}

export type Delivery =
  | { result: 'sent'; eventId: number | null; hubStatus: string | null; hubMessage: string | null }
  | { result: 'already sent' }
  | { result: 'failed'; message: string };

type Attempt = { final: Delivery } | { retry: string };

interface HubError {
  code: string;
  message: string;
}

function hubError(text: string): HubError | null {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const e = body?.error;
    if (!e || typeof e.message !== 'string') return null;
    // The first detail says which part of the relay the hub refused.
    const details = Array.isArray(e.details) ? (e.details as { path?: unknown; message?: unknown }[]) : [];
    const first = details[0];
    const detail = first && typeof first.message === 'string' ? ` (${typeof first.path === 'string' ? `${first.path} ` : ''}${first.message})` : '';
    return { code: typeof e.code === 'string' ? e.code : 'error', message: `${e.message}${detail}` };
  } catch {
    return null;
  }
}

function accepted(text: string): { eventId: number | null; status: string | null; message: string | null } {
  try {
    const body = JSON.parse(text) as { eventId?: unknown; status?: unknown; message?: unknown };
    return {
      eventId: typeof body.eventId === 'number' ? body.eventId : null,
      status: typeof body.status === 'string' ? body.status : null,
      message: typeof body.message === 'string' ? body.message : null,
    };
  } catch {
    return { eventId: null, status: null, message: null };
  }
}

/** Why a request got no answer, in words: a timeout, a refused connection, a name that does not resolve. */
function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } } | null;
  if (e && e.name === 'AbortError') return `no answer within ${Math.round(timeoutMs / 1000)} seconds`;
  const cause = e?.cause && typeof e.cause.code === 'string' ? ` (${e.cause.code})` : '';
  return `${typeof e?.message === 'string' ? e.message : String(err)}${cause}`;
}

async function attempt(env: ScriptEnv, req: RelayRequest, timeoutMs: number): Promise<Attempt> {
  const url = `${req.hubUrl}/v1/relay`;
  let headers;
  try {
    headers = signRelay(req.secret, req.id, env.now() / 1000, req.body);
  } catch (err) {
    return { final: { result: 'failed', message: err instanceof Error ? err.message : String(err) } };
  }
  // The time limit: it aborts the request where the runtime can, and ends the wait for it anyway.
  // Started right before the request, stopped once its answer is read and checked.
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  let expire: (err: Error) => void = () => undefined;
  const timedOut = new Promise<never>((_resolve, reject) => (expire = reject));
  const stop = env.startTimer(() => {
    controller?.abort();
    expire(Object.assign(new Error('timed out'), { name: 'AbortError' }));
  }, timeoutMs);
  try {
    let res: Response;
    let text: string;
    try {
      const init: RequestInit = { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: req.body, ...(controller ? { signal: controller.signal } : {}) };
      res = await Promise.race([env.fetch(url, init), timedOut]);
      text = await Promise.race([res.text(), timedOut]);
    } catch (err) {
      return { retry: `the hub at ${req.hubUrl} did not answer: ${networkReason(err, timeoutMs)}` };
    }
    const status = res.status;
    const err = hubError(text);
    const where = res.redirected && res.url ? `${url} (redirected to ${res.url})` : url;
    if ((status >= 200 && status < 300) || (status === 409 && err?.code === 'relay_replayed')) {
      const verdict = verifyAnswer(
        req.secret,
        req.id,
        { id: res.headers.get('webhook-id'), timestamp: res.headers.get('webhook-timestamp'), signature: res.headers.get('webhook-signature') },
        text,
        env.now() / 1000,
      );
      if (!verdict.valid) {
        return {
          final: {
            result: 'failed',
            message:
              `The answer did not come from your hub (${verdict.reason}). Check hubUrl: ${where} answered ${status}, ` +
              `but only the hub holding your relay secret can sign its answer; a proxy, a login page or a wrong address cannot. ` +
              `The change may not have reached the hub. ${req.retryHint}`,
          },
        };
      }
      if (status === 409) return { final: { result: 'already sent' } };
      const a = accepted(text);
      return { final: { result: 'sent', eventId: a.eventId, hubStatus: a.status, hubMessage: a.message } };
    }
    if (status >= 500) return { retry: `the hub answered ${status}${err ? `: ${err.message}` : ''}` };
    if (status === 401) {
      const hint =
        err?.code === 'stale_timestamp'
          ? ''
          : ' Copy the relay secret (whsec_…) of this base’s credential again into the relaySecret input variable; if it was revoked or rotated, ask the supplier for a new one (npx stockrelay credentials create --scope relay).';
      return { final: { result: 'failed', message: err ? `The hub refused this relay’s signature: ${err.message}${hint}` : `${where} answered 401 without the hub’s explanation: check hubUrl.${hint}` } };
    }
    if (status >= 400 && err) return { final: { result: 'failed', message: `The hub refused the change (${err.code}): ${err.message}` } };
    return { final: { result: 'failed', message: `${where} answered HTTP ${status}, which is not an answer from the hub: check hubUrl (the hub’s own address, like https://stock.example.com).` } };
  } finally {
    stop?.();
  }
}

/** Sends one relay; never throws. Retries network failures, time-outs and 5xx answers; never a 4xx. */
export async function sendRelay(env: ScriptEnv, req: RelayRequest): Promise<Delivery> {
  let last = 'no attempt could be made in the time left';
  let tried = 0;
  for (let n = 1; n <= MAX_ATTEMPTS; n++) {
    const left = req.deadline - env.now();
    if (left < MIN_ATTEMPT_MS) break;
    tried = n;
    const a = await attempt(env, req, Math.min(ATTEMPT_TIMEOUT_MS, left));
    if ('final' in a) return a.final;
    last = a.retry;
    const wait = RETRY_WAITS_MS[n - 1];
    if (n === MAX_ATTEMPTS || wait === undefined || env.now() + wait + MIN_ATTEMPT_MS > req.deadline) break;
    await env.sleep(wait);
  }
  const attempts = tried === 1 ? 'one attempt' : `${tried} attempts`;
  return { result: 'failed', message: `The change did not reach the hub after ${attempts}: ${last}. ${req.retryHint}` };
}
