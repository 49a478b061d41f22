/**
 * What an Airtable automation script meets, for running the bundled scripts in a Node `vm`:
 * - a base of tables with records (`selectRecordAsync`, `getField`, `updateRecordAsync`), `input`, `output`;
 * - a hub as a `fetch`: it verifies each relay with the hub's own RelayVerifier, validates the body
 *   against the hub's relay schema, refuses a webhook-id it has seen (409 relay_replayed) and signs
 *   its answers as the hub does (server/relay/verify.ts) — or misbehaves on request: down, hanging,
 *   restarting, or answering unsigned / wrongly signed like a proxy would;
 * - nothing else: no `crypto`, `TextEncoder`, `atob` or `btoa`, which Airtable does not document for
 *   automation scripts (a fresh vm context has only JavaScript's own built-ins);
 * - a virtual clock: waits take no real time, yet `Date.now()` moves by what the script waited, so a
 *   run's budget can be measured. A timer set right before a request is that request's time limit: it
 *   fires only if the hub hangs.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { buildAirtableScripts } from '../../airtable-scripts/build';
import { checkRelay } from '../../server/core/relay';
import { Relay } from '../../server/shared/relay';
import { RelayVerifier, signRelay as hubSign } from '../../server/relay/verify';
import { RELAY_SECRET } from '../helpers/hub';

export const HUB_URL = 'https://hub.example.test';

// --- The base ------------------------------------------------------------------------------------

export type Cells = Record<string, unknown>;

function asString(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object' && v && 'name' in v) return String((v as { name: unknown }).name);
  if (v === true) return 'checked';
  return String(v);
}

export class FakeTable {
  /** Every updateRecordAsync call. */
  updates: { id: string; fields: Cells }[] = [];
  /** The field lists asked for by selectRecordAsync. */
  selects: string[][] = [];
  readonly records = new Map<string, Cells>();

  constructor(
    readonly name: string,
    readonly fields: string[],
    records: Record<string, Cells> = {},
  ) {
    for (const [id, cells] of Object.entries(records)) this.records.set(id, { ...cells });
  }

  getField(name: string) {
    if (!this.fields.includes(name)) throw new Error(`No field matching "${name}" found in table "${this.name}"`);
    return { name, id: `fld${name.replace(/\W/g, '')}` };
  }

  async selectRecordAsync(recordId: string, options?: { fields?: string[] }) {
    const cells = this.records.get(recordId);
    const loaded = options?.fields ?? this.fields;
    loaded.forEach((f) => this.getField(f));
    this.selects.push([...loaded]);
    if (!cells) return null;
    // Like Airtable: reading a field that was not asked for is an error.
    const read = (f: string) => {
      if (!loaded.includes(f)) throw new Error(`Field "${f}" was not loaded in this query`);
      return cells[f] ?? null;
    };
    return { id: recordId, name: asString(cells[this.fields[0]!]), getCellValue: read, getCellValueAsString: (f: string) => asString(read(f)) };
  }

  async updateRecordAsync(recordId: string, fields: Cells) {
    const cells = this.records.get(recordId);
    if (!cells) throw new Error(`Record ${recordId} does not exist`);
    Object.keys(fields).forEach((f) => this.getField(f));
    Object.assign(cells, fields);
    this.updates.push({ id: recordId, fields });
  }
}

export class FakeBase {
  readonly tables = new Map<string, FakeTable>();

  constructor(tables: FakeTable[] = []) {
    for (const t of tables) this.tables.set(t.name, t);
  }

  getTable(name: string): FakeTable {
    const t = this.tables.get(name);
    if (!t) throw new Error(`No table matching "${name}" found in base`);
    return t;
  }
}

export const CATALOG_FIELDS = ['SKU', 'Title', 'On hand', 'Low stock at', 'Archived', 'Hub on hand', 'Available', 'Last synced', 'Sync note'];

/** A Catalog table with one record per entry. */
export function catalog(records: Record<string, Cells>, fields = CATALOG_FIELDS): FakeBase {
  return new FakeBase([new FakeTable('Catalog', fields, records)]);
}

// --- The clock -----------------------------------------------------------------------------------

interface Timer {
  fn: () => void;
  ms: number;
  claimed: boolean;
  done: boolean;
}

export class VirtualClock {
  private readonly start = Date.now();
  /** Milliseconds the script has waited, by this clock. */
  elapsed = 0;
  /** Every delay the script asked for, in order. */
  readonly requested: number[] = [];
  /** The delays that ran to the end (waits, and time limits of requests that hung). */
  readonly fired: number[] = [];
  private pending: Timer[] = [];

  now = (): number => this.start + this.elapsed;

  setTimeout = (fn: () => void, ms = 0): Timer => {
    const t: Timer = { fn, ms, claimed: false, done: false };
    this.requested.push(ms);
    this.pending.push(t);
    // A wait: it ends at once, and the clock moves on by its length.
    setImmediate(() => {
      if (!t.claimed) this.fire(t);
    });
    return t;
  };

  clearTimeout = (t: Timer | undefined): void => {
    if (t) t.done = true;
  };

  /** The timers set since the last request are its time limit: they no longer fire by themselves. */
  claim(): Timer[] {
    const mine = this.pending.filter((t) => !t.done && !t.claimed);
    mine.forEach((t) => (t.claimed = true));
    this.pending = this.pending.filter((t) => !t.done && !t.claimed);
    return mine;
  }

  fire(t: Timer): void {
    if (t.done) return;
    t.done = true;
    this.elapsed += t.ms;
    this.fired.push(t.ms);
    t.fn();
  }
}

// --- The hub -------------------------------------------------------------------------------------

/**
 * How the fake answers one request:
 * ok — as the hub (202 stored, 409 replayed, 400 refused, 401 bad signature);
 * down — no connection; hang — never answers; 503 — restarting (unsigned, as before verification);
 * lost — stored, but the answer is lost on the way (the connection drops);
 * refuse — 400 invalid_quantity, signed; unsigned / wrong-secret / stale / other-id — a 202 not signed by the hub.
 */
export type Behaviour = 'ok' | 'down' | 'hang' | '503' | 'lost' | 'refuse' | 'unsigned' | 'wrong-secret' | 'stale' | 'other-id';

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validateRelay = ajv.compile<Relay>(Relay);

export interface Received {
  id: string;
  body: any;
  headers: Record<string, string>;
}

export class FakeHub {
  /** Behaviours for the next requests, used up in order; then `ok`. */
  script: Behaviour[] = [];
  /** Every request made, whatever happened to it. */
  readonly attempts: { id: string; behaviour: Behaviour }[] = [];
  /** Relays the hub stored (signature and schema valid, webhook-id new), in order. */
  readonly stored: Received[] = [];
  /** Relays with a valid signature the hub's schema refused, with why. */
  readonly invalid: { body: unknown; errors: string }[] = [];
  private readonly seen = new Set<string>();
  private readonly verifier = new RelayVerifier([RELAY_SECRET]);
  private nextEventId = 41;

  /** `onHang` is called when the hub will not answer: the caller's time limit is what ends the request. */
  async fetch(url: string, init: RequestInit, onHang: () => void = () => undefined): Promise<Response> {
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), String(v)]));
    const id = headers['webhook-id'] ?? '';
    const behaviour = this.script.shift() ?? 'ok';
    this.attempts.push({ id, behaviour });
    if (!url.startsWith(HUB_URL)) throw new TypeError('fetch failed', { cause: { code: 'ENOTFOUND' } });
    if (behaviour === 'down') throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    if (behaviour === 'hang') {
      return new Promise((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(new DOMException('This operation was aborted', 'AbortError')));
        onHang();
      });
    }
    if (behaviour === '503') return answer(503, { error: { code: 'shutting_down', message: 'The hub is restarting; send this relay again in a moment.' } });
    if (url !== `${HUB_URL}/v1/relay` || init.method !== 'POST') return answer(404, { error: { code: 'not_found', message: 'There is nothing at this address.' } });

    const raw = String(init.body ?? '');
    const verdict = this.verifier.verify(Buffer.from(raw), headers);
    if (!verdict.valid) return answer(401, { error: { code: verdict.code, message: verdict.reason } });
    const signed = (status: number, body: unknown) => answer(status, body, { id, secret: RELAY_SECRET });
    if (headers['content-type'] !== 'application/json') return signed(415, { error: { code: 'unsupported_media_type', message: 'A relay must be sent as JSON.' } });
    if (behaviour === 'refuse') return signed(400, { error: { code: 'invalid_quantity', message: 'SKU X, on_hand: "twelve" is not a whole number.' } });
    const body = JSON.parse(raw);
    if (!validateRelay(body)) {
      const errors = ajv.errorsText(validateRelay.errors);
      this.invalid.push({ body, errors });
      return signed(400, { error: { code: 'invalid_relay', message: 'The relay does not match any relay kind; see details.', details: [{ path: '/', message: errors.slice(0, 300) }] } });
    }
    try {
      checkRelay(body);
    } catch (err) {
      this.invalid.push({ body, errors: (err as Error).message });
      return signed(400, { error: { code: 'invalid_quantity', message: (err as Error).message } });
    }
    if (this.seen.has(id)) return signed(409, { error: { code: 'relay_replayed', message: `A relay with webhook-id "${id}" was received before; it is booked once and not again.` } });
    const accepted = { eventId: this.nextEventId++, status: 'received', results: [], message: 'Stored; it will be booked in order.' };
    if (behaviour === 'unsigned') return answer(202, accepted);
    if (behaviour === 'wrong-secret') return answer(202, accepted, { id, secret: `whsec_${crypto.randomBytes(32).toString('base64')}` });
    if (behaviour === 'stale') return answer(202, accepted, { id, secret: RELAY_SECRET, at: new Date(Date.now() - 10 * 60_000) });
    if (behaviour === 'other-id') return answer(202, accepted, { id: 'msg_someone_else', secret: RELAY_SECRET });
    this.seen.add(id);
    this.stored.push({ id, body, headers });
    if (behaviour === 'lost') throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    return signed(202, accepted);
  }
}

/** A JSON answer, signed like the hub signs its answers when `sign` is given. */
function answer(status: number, body: unknown, sign?: { id: string; secret: string; at?: Date }): Response {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (sign) Object.assign(headers, hubSign(sign.secret, sign.id, text, sign.at ?? new Date()));
  return new Response(text, { status, headers });
}

// --- Running a bundle ------------------------------------------------------------------------------

export interface RunResult {
  outputs: Record<string, unknown>;
  /** The message the run stopped with (Airtable marks such a run failed), or null. */
  error: string | null;
  clock: VirtualClock;
}

export interface RunOptions {
  config: Record<string, unknown>;
  base?: FakeBase;
  hub?: FakeHub;
  /** Real fetch and timers instead of the fake hub and the virtual clock (against a real hub). */
  real?: boolean;
  /** A runtime without timers or AbortController: the clock then moves on by this much at each reading. */
  noTimers?: { tickMs: number };
}

/** Runs a bundled script as Airtable does: its text as the body of an async function, Airtable's globals around it. */
export async function runBundle(code: string, o: RunOptions): Promise<RunResult> {
  const outputs: Record<string, unknown> = {};
  const clock = new VirtualClock();
  const hub = o.hub ?? new FakeHub();
  const fakeFetch = (url: string, init: RequestInit) => {
    const limits = clock.claim();
    return hub.fetch(url, init, () => limits.forEach((t) => setImmediate(() => clock.fire(t))));
  };
  const timers = o.noTimers ? {} : { AbortController, setTimeout: o.real ? setTimeout : clock.setTimeout, clearTimeout: o.real ? clearTimeout : clock.clearTimeout };
  const context = vm.createContext({
    input: { config: () => o.config },
    output: { set: (key: string, value: unknown) => (outputs[key] = value) },
    base: o.base ?? new FakeBase(),
    fetch: o.real ? fetch : fakeFetch,
    // Nothing Airtable does not document for automations: no crypto, TextEncoder, atob or btoa (a
    // fresh vm context has only JavaScript's own built-ins), so the scripts are run as they must run there.
    ...timers,
  });
  const tick = o.noTimers?.tickMs ?? 0;
  if (!o.real) (vm.runInContext('Date', context) as DateConstructor).now = () => ((clock.elapsed += tick), clock.now());
  let error: string | null = null;
  try {
    await vm.runInContext(`(async () => {\n${code}\n})()`, context, { filename: 'script.js' });
  } catch (err) {
    error = (err as Error).message;
  }
  return { outputs, error, clock };
}

// --- The bundles -----------------------------------------------------------------------------------

/** Builds the three bundles into a fresh folder (what `npm run build:airtable` writes), by name. */
export async function buildBundles(): Promise<Record<string, string>> {
  const dir = fs.mkdtempSync(path.join(process.env.STOCKRELAY_TEST_TMP ?? os.tmpdir(), 'sr-airtable-'));
  const built = await buildAirtableScripts(dir);
  return Object.fromEntries(built.map((b) => [b.name, b.code]));
}
