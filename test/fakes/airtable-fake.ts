/**
 * A fake of Airtable's Web API: a real HTTP server on 127.0.0.1 that the real `airtable` client
 * (`endpointUrl` pointed here) and plain `fetch` calls to the webhooks API talk to. It keeps bases,
 * tables, typed fields and records; implements list (pages, `fields[]`, `sort`, a small
 * `filterByFormula`), get, create, update, replace, upsert (`performUpsert.fieldsToMergeOn`) and
 * delete; refuses what Airtable refuses (more than 10 records in a write, unknown fields, values of
 * the wrong type without `typecast`, a missing or wrong token, unknown bases and tables); enforces
 * 5 requests per second per base with a 429 and a 30-second penalty; logs every request; and runs
 * the webhooks API: create, list, refresh, delete, enable/disable notifications and list payloads,
 * with payloads built from each record change that matches a webhook's specification and notification
 * pings signed with `X-Airtable-Content-MAC`, coalesced to one in flight per webhook.
 *
 * Shapes follow Airtable's Web API reference (airtable.com/developers/web/api: list records, create
 * records, update multiple records, delete multiple records, errors, rate limits, webhooks overview,
 * create / list / refresh a webhook, list webhook payloads, webhooks specification, webhooks payload,
 * get user id & scopes, get base schema) and the samples in `shared/specs/airtable/`; error bodies are
 * the ones the `airtable` client parses (`{error: {type, message}}`, `{error: "NOT_FOUND"}`) and the
 * 429 body Airtable really sends (`{errors: [{error: "RATE_LIMIT_REACHED", message}]}`).
 * Where the reference is silent the fake makes a stated choice, marked "Assumption" below.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

// --- Public types ------------------------------------------------------------------------------------

export type FakeFieldType = 'singleLineText' | 'number' | 'checkbox' | 'dateTime' | 'multilineText';

export interface FakeField {
  id: string;
  name: string;
  type: FakeFieldType;
}

/** A record as the API shows it: fields keyed by field NAME, empty cells left out (as Airtable does). */
export interface FakeRecord {
  id: string;
  createdTime: string;
  fields: Record<string, unknown>;
}

export interface FakeRequest {
  method: string;
  /** URL path, percent-decoded, without the query string. */
  path: string;
  query: Record<string, string[]>;
  /** The base the request addressed (records or webhooks API), null for `/v0/meta/whoami` and unknown routes. */
  baseId: string | null;
  /** Fake clock (ms) when the request arrived. */
  at: number;
  /** The status answered (0 until answered). */
  status: number;
  /** Records the request carried: `records` in the body (1 for a single `fields`), or `records[]` of a DELETE; 0 if none. */
  records: number;
  body: unknown;
}

export interface FakePing {
  webhookId: string;
  url: string;
  /** The receiver's answer, null when it could not be reached. */
  status: number | null;
  /** The exact bytes POSTed (UTF-8). */
  body: string;
  /** The `X-Airtable-Content-MAC` header sent: `hmac-sha256=<hex>`. */
  mac: string;
}

export interface FakeWebhook {
  id: string;
  notificationUrl: string | null;
  expirationTime: string;
  cursorForNextPayload: number;
  macSecretBase64: string;
  specification: unknown;
  isHookEnabled: boolean;
}

export interface AirtableFakeOptions {
  /** The personal access token accepted as `Authorization: Bearer …` (default 'pat-test-token'). */
  token?: string;
  /** The token's user, shown by whoami and in `publicApi` payloads (default 'usrStockrelayHub01'). */
  userId?: string;
  userEmail?: string;
  /** Requests allowed per base in any 1-second window of the fake clock (Airtable: 5). */
  ratePerSecond?: number;
  /** After a rate-limit 429, every request to that base is refused for this long (Airtable: 30 s). */
  rateLimitPenaltyMs?: number;
  /** The fake clock, in ms (default Date.now). */
  now?: () => number;
}

// --- Constants from the reference -------------------------------------------------------------------

const DAY_MS = 86_400_000;
/** Webhooks made with a personal access token expire 7 days after creation, refresh or list payloads. */
const WEBHOOK_LIFE_MS = 7 * DAY_MS;
/** An expired webhook's metadata and payloads stay readable for 7 more days; payloads are deleted after 1 week. */
const RETENTION_MS = 7 * DAY_MS;
const MAX_RECORDS_PER_WRITE = 10;
const MAX_PAGE_SIZE = 100;
const MAX_PAYLOADS_PER_PAGE = 50;
const MAX_WEBHOOKS_PER_BASE = 10;
const DATA_TYPES = ['tableData', 'tableFields', 'tableMetadata'];
const CHANGE_TYPES = ['add', 'remove', 'update'];
const TOKEN_SCOPES = ['data.records:read', 'data.records:write', 'schema.bases:read', 'webhook:manage'];
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const DEFAULT_STAFF = { id: 'usrStaffMember0001', email: 'staff@example.com' };

// --- Internal model ---------------------------------------------------------------------------------

type Cell = string | number | boolean;
/** Non-empty cell values by field id. */
type Cells = Map<string, Cell>;

interface StoredRecord {
  id: string;
  createdTime: string;
  cells: Cells;
}

interface Table {
  id: string;
  name: string;
  fields: FakeField[];
  records: Map<string, StoredRecord>;
}

interface Base {
  id: string;
  tables: Table[];
  transactions: number;
  webhooks: Webhook[];
}

interface Specification {
  options: {
    filters: {
      dataTypes: string[];
      recordChangeScope?: string;
      changeTypes?: string[];
      fromSources?: string[];
      watchDataInFieldIds?: string[];
      [key: string]: unknown;
    };
    includes?: {
      includeCellValuesInFieldIds?: 'all' | string[];
      includePreviousCellValues?: boolean;
      [key: string]: unknown;
    };
  };
}

interface Webhook {
  id: string;
  baseId: string;
  notificationUrl: string | null;
  specification: Specification;
  macSecret: Buffer;
  expiresAt: number;
  deleted: boolean;
  notificationsEnabled: boolean;
  nextCursor: number;
  payloads: { cursor: number; at: number; payload: Record<string, unknown> }[];
  lastNotificationResult: Record<string, unknown> | null;
  lastSuccessfulNotificationTime: string | null;
  ping: { running: boolean; again: boolean };
}

interface Actor {
  source: 'client' | 'publicApi';
  user: { id: string; email: string };
}

/** One record's change in a transaction; before/after are its non-empty cells. */
interface RecordChange {
  kind: 'create' | 'update' | 'destroy';
  id: string;
  createdTime: string;
  before: Cells;
  after: Cells;
}

interface ListParams {
  pageSize: number;
  maxRecords: number | null;
  offset: string | null;
  fields: string[] | null;
  filterByFormula: string | null;
  sort: { field: string; direction: 'asc' | 'desc' }[];
  byFieldId: boolean;
}

type Json = Record<string, unknown>;

/** An answer other than 2xx, with the body Airtable sends. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(JSON.stringify(body));
  }
}

const apiError = (status: number, type: string, message: string) => new ApiError(status, { error: { type, message } });
/** Airtable answers an unknown route, base or record with this bare body. */
const notFound = () => new ApiError(404, { error: 'NOT_FOUND' });
const invalidRequest = (message: string) => apiError(422, 'INVALID_REQUEST_UNKNOWN', `Invalid request: ${message}`);
const tooManyRecords = () => apiError(422, 'INVALID_RECORDS', 'You must provide an array of up to 10 record objects.');
const RATE_LIMIT_BODY = { errors: [{ error: 'RATE_LIMIT_REACHED', message: 'Rate limit exceeded. Please try again later' }] };

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const iso = (ms: number) => new Date(ms).toISOString();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const sameCell = (a: Cell | undefined, b: Cell | undefined) => a === b;

function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
  } catch {
    return false;
  }
}

// --- The fake ---------------------------------------------------------------------------------------

export class AirtableFake {
  readonly requests: FakeRequest[] = [];
  readonly pings: FakePing[] = [];
  /** Real milliseconds added before every answer. */
  latencyMs = 0;
  /** The `endpointUrl` for the client, e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly url: string;
  readonly token: string;
  readonly userId: string;
  readonly userEmail: string;
  readonly ratePerSecond: number;
  readonly rateLimitPenaltyMs: number;

  private readonly now: () => number;
  private readonly bases = new Map<string, Base>();
  private readonly failures: { remaining: number; status: number; match: RegExp | null }[] = [];
  /** Per base: arrival times of requests admitted (not refused by the limiter), and the penalty's end. */
  private readonly admitted = new Map<string, number[]>();
  private readonly blockedUntil = new Map<string, number>();
  private rateLimitedCount = 0;
  /** List-records iterators: offset token → index of the next record. */
  private readonly offsets = new Map<string, { tableId: string; index: number }>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private idCounter = 0;
  private closed = false;

  private constructor(
    opts: AirtableFakeOptions,
    private readonly server: http.Server,
    port: number,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.token = opts.token ?? 'pat-test-token';
    this.userId = opts.userId ?? 'usrStockrelayHub01';
    this.userEmail = opts.userEmail ?? 'hub@example.com';
    this.ratePerSecond = opts.ratePerSecond ?? 5;
    this.rateLimitPenaltyMs = opts.rateLimitPenaltyMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  static async start(opts: AirtableFakeOptions = {}): Promise<AirtableFake> {
    let fake: AirtableFake | null = null;
    const server = http.createServer((req, res) => {
      if (fake) void fake.handle(req, res);
      else res.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new AirtableFake(opts, server, (server.address() as AddressInfo).port);
    return fake;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.abort.abort();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await Promise.allSettled([...this.deliveries]);
  }

  // --- Setting up and looking inside (not requests of the hub) --------------------------------------

  addBase(baseId: string, tables: { name: string; fields: { name: string; type: FakeFieldType }[] }[]): { tables: { id: string; name: string; fields: FakeField[] }[] } {
    if (this.bases.has(baseId)) throw new Error(`base ${baseId} exists already`);
    const base: Base = {
      id: baseId,
      transactions: 0,
      webhooks: [],
      tables: tables.map((t) => ({ id: this.newId('tbl'), name: t.name, fields: t.fields.map((fl) => ({ id: this.newId('fld'), name: fl.name, type: fl.type })), records: new Map() })),
    };
    this.bases.set(baseId, base);
    return { tables: base.tables.map((t) => ({ id: t.id, name: t.name, fields: t.fields.map((fl) => ({ ...fl })) })) };
  }

  tableId(baseId: string, tableName: string): string {
    return this.table(baseId, tableName).id;
  }

  fieldId(baseId: string, tableName: string, fieldName: string): string {
    const field = this.table(baseId, tableName).fields.find((fl) => fl.name === fieldName);
    if (!field) throw new Error(`no field ${fieldName} in ${tableName}`);
    return field.id;
  }

  records(baseId: string, tableName: string): FakeRecord[] {
    const table = this.table(baseId, tableName);
    return [...table.records.values()].map((r) => this.render(table, r, false, null));
  }

  /** A person editing in Airtable's UI: creates (recordId null) or changes a record, source 'client'. */
  userEdit(baseId: string, tableName: string, recordId: string | null, fields: Record<string, unknown>, user: { id: string; email: string } = DEFAULT_STAFF): FakeRecord {
    const base = this.base(baseId);
    const table = this.table(baseId, tableName);
    // What staff type is converted the way the grid converts it.
    const values = this.cellsFrom(table, fields, true);
    let change: RecordChange;
    if (recordId === null) {
      change = this.createRecord(table, values);
    } else {
      const record = table.records.get(recordId);
      if (!record) throw new Error(`no record ${recordId} in ${tableName}`);
      change = this.updateRecord(table, record, values, false);
    }
    this.commit(base, table, [change], { source: 'client', user });
    return this.render(table, table.records.get(change.id)!, false, null);
  }

  userDelete(baseId: string, tableName: string, recordId: string): void {
    const base = this.base(baseId);
    const table = this.table(baseId, tableName);
    const record = table.records.get(recordId);
    if (!record) throw new Error(`no record ${recordId} in ${tableName}`);
    table.records.delete(recordId);
    this.commit(base, table, [{ kind: 'destroy', id: record.id, createdTime: record.createdTime, before: record.cells, after: new Map() }], { source: 'client', user: DEFAULT_STAFF });
  }

  /** The next n requests (only those whose path matches, if given) get this status with Airtable's error body. */
  failNext(n: number, status: number, match?: RegExp): void {
    this.failures.push({ remaining: n, status, match: match ?? null });
  }

  /** Waits until every notification ping due has been delivered (pings also go out on their own). */
  async flushPings(): Promise<void> {
    while (this.deliveries.size > 0) await Promise.allSettled([...this.deliveries]);
  }

  /** Every webhook of a base still known to Airtable (deleted ones and ones gone 7 days past expiry are not). */
  webhooks(baseId: string): FakeWebhook[] {
    const now = this.now();
    return this.base(baseId)
      .webhooks.filter((w) => this.visible(w, now))
      .map((w) => ({
        id: w.id,
        notificationUrl: w.notificationUrl,
        expirationTime: iso(w.expiresAt),
        cursorForNextPayload: w.nextCursor,
        macSecretBase64: w.macSecret.toString('base64'),
        specification: structuredClone(w.specification),
        isHookEnabled: this.active(w, now),
      }));
  }

  /** How many requests the rate limiter refused with 429. */
  get rateLimited(): number {
    return this.rateLimitedCount;
  }

  /** The most requests to a base answered with anything but 429 in any window of `windowMs`. */
  maxRequestsInWindow(baseId: string, windowMs = 1000): number {
    const at = this.requests.filter((r) => r.baseId === baseId && r.status !== 429 && r.status !== 401).map((r) => r.at);
    at.sort((a, b) => a - b);
    let max = 0;
    for (let i = 0, j = 0; j < at.length; j++) {
      while (at[j]! - at[i]! >= windowMs) i++;
      max = Math.max(max, j - i + 1);
    }
    return max;
  }

  // --- The HTTP side --------------------------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const at = this.now();
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const segments = u.pathname.split('/').filter((s) => s !== '').map(safeDecode);
    const query: Record<string, string[]> = {};
    for (const [k, v] of u.searchParams) (query[k] ??= []).push(v);
    const method = (req.method ?? 'GET').toUpperCase();
    const baseId = segments[0] !== 'v0' ? null : segments[1] === 'bases' ? (segments[2] ?? null) : segments[1] === 'meta' ? null : (segments[1] ?? null);
    const seen: FakeRequest = { method, path: safeDecode(u.pathname), query, baseId, at, status: 0, records: 0, body: null };
    this.requests.push(seen);

    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      return void res.destroy(); // the caller went away mid-request
    }
    const raw = Buffer.concat(chunks).toString('utf8');
    let parsed: unknown = null;
    let badJson = false;
    if (raw.trim() !== '') {
      try {
        parsed = JSON.parse(raw);
      } catch {
        badJson = true;
        parsed = raw;
      }
    }
    seen.body = parsed;
    seen.records = countRecords(method, parsed, query);

    const send = async (status: number, body: unknown) => {
      seen.status = status;
      if (this.latencyMs > 0) await sleep(this.latencyMs);
      if (this.closed) return void res.destroy();
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };

    try {
      const forced = this.failures.find((fl) => fl.remaining > 0 && (fl.match === null || fl.match.test(seen.path)));
      if (forced) {
        forced.remaining--;
        if (baseId && forced.status !== 429) this.admit(baseId, at);
        return await send(forced.status, forcedBody(forced.status));
      }
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (!auth) throw apiError(401, 'AUTHENTICATION_REQUIRED', 'Authentication required');
      if (auth[1] !== this.token) throw apiError(401, 'UNAUTHORIZED', 'Invalid authentication token');
      if (baseId) {
        const refused = this.overRate(baseId, at);
        if (refused) {
          this.rateLimitedCount++;
          // Going over the limit starts the 30-second wait; requests refused during it do not extend it.
          if (refused === 'window') this.blockedUntil.set(baseId, at + this.rateLimitPenaltyMs);
          return await send(429, RATE_LIMIT_BODY);
        }
        this.admit(baseId, at);
      }
      if (badJson) throw apiError(400, 'INVALID_REQUEST_BODY', 'The request body could not be parsed as JSON');
      const body = isObject(parsed) ? parsed : {};
      return await send(200, this.route(method, segments, query, body));
    } catch (err) {
      if (err instanceof ApiError) return await send(err.status, err.body);
      return await send(500, { error: { type: 'SERVER_ERROR', message: (err as Error).message } });
    }
  }

  private route(method: string, s: string[], query: Record<string, string[]>, body: Json): unknown {
    if (s[0] !== 'v0') throw notFound();
    if (s[1] === 'meta') {
      if (method === 'GET' && s[2] === 'whoami' && s.length === 3) return { id: this.userId, scopes: TOKEN_SCOPES };
      if (method === 'GET' && s[2] === 'bases' && s[4] === 'tables' && s.length === 5) return this.schema(this.knownBase(s[3]!));
      throw notFound();
    }
    if (s[1] === 'bases') return this.routeWebhooks(method, s, query, body);

    const base = this.knownBase(s[1]!);
    const tableKey = s[2];
    if (tableKey === undefined) throw notFound();
    const table = base.tables.find((t) => t.id === tableKey || t.name === tableKey);
    if (!table) throw apiError(404, 'TABLE_NOT_FOUND', `Could not find table ${tableKey} in application ${base.id}`);
    const rest = s.slice(3);
    if (rest.length === 0) {
      if (method === 'GET') return this.list(table, listParamsFromQuery(query));
      if (method === 'POST') return this.create(base, table, body);
      if (method === 'PATCH' || method === 'PUT') return this.update(base, table, body, method === 'PUT');
      if (method === 'DELETE') return this.destroy(base, table, query['records[]'] ?? query.records ?? []);
    }
    if (rest.length === 1 && rest[0] === 'listRecords' && method === 'POST') return this.list(table, listParamsFromBody(body));
    if (rest.length === 1) {
      const record = table.records.get(rest[0]!);
      if (!record) throw notFound();
      const byFieldId = flag(query.returnFieldsByFieldId?.[0]) || body.returnFieldsByFieldId === true;
      if (method === 'GET') return this.render(table, record, byFieldId, null);
      if (method === 'PATCH' || method === 'PUT') {
        if (!isObject(body.fields)) throw apiError(422, 'INVALID_REQUEST_MISSING_FIELDS', 'Could not find field "fields" in the request body');
        const change = this.updateRecord(table, record, this.cellsFrom(table, body.fields, body.typecast === true), method === 'PUT');
        this.commit(base, table, [change], this.apiActor());
        return this.render(table, record, byFieldId, null);
      }
      if (method === 'DELETE') return this.destroy(base, table, [record.id]).records[0];
    }
    throw notFound();
  }

  // --- Records --------------------------------------------------------------------------------------

  private list(table: Table, p: ListParams): unknown {
    if (!(p.pageSize >= 1 && p.pageSize <= MAX_PAGE_SIZE)) throw invalidRequest('parameter validation failed. Check your request data.');
    const only = p.fields === null ? null : new Set(p.fields.map((name) => this.field(table, name).id));
    let rows = [...table.records.values()];
    if (p.filterByFormula) {
      const formula = parseFormula(p.filterByFormula);
      rows = rows.filter((r) => truthy(evaluate(formula, (name) => this.formulaValue(table, r, name))));
    }
    for (const s of [...p.sort].reverse()) {
      const field = this.field(table, s.field);
      const sign = s.direction === 'desc' ? -1 : 1;
      rows.sort((a, b) => sign * compareCells(a.cells.get(field.id), b.cells.get(field.id)));
    }
    if (p.maxRecords !== null) rows = rows.slice(0, p.maxRecords);
    let start = 0;
    if (p.offset !== null) {
      const it = this.offsets.get(p.offset);
      if (!it || it.tableId !== table.id) throw apiError(422, 'LIST_RECORDS_ITERATOR_NOT_AVAILABLE', 'Iterator is not available. Please restart the listing.');
      start = it.index;
    }
    const page = rows.slice(start, start + p.pageSize);
    const out: Json = { records: page.map((r) => this.render(table, r, p.byFieldId, only)) };
    if (start + p.pageSize < rows.length) {
      const token = `${this.newId('itr')}/${rows[start + p.pageSize]!.id}`;
      this.offsets.set(token, { tableId: table.id, index: start + p.pageSize });
      out.offset = token;
    }
    return out;
  }

  private create(base: Base, table: Table, body: Json): unknown {
    const typecast = body.typecast === true;
    const byFieldId = body.returnFieldsByFieldId === true;
    if (body.records === undefined) {
      // One record at the top level: {fields: {...}}.
      if (!isObject(body.fields)) throw apiError(422, 'INVALID_REQUEST_MISSING_FIELDS', 'Could not find field "fields" in the request body');
      const change = this.createRecord(table, this.cellsFrom(table, body.fields, typecast));
      this.commit(base, table, [change], this.apiActor());
      return this.render(table, table.records.get(change.id)!, byFieldId, null);
    }
    const inputs = batch(body.records);
    // Everything is checked before anything is written: a refused request changes nothing.
    const planned = inputs.map((r) => this.cellsFrom(table, fieldsOf(r), typecast));
    const changes = planned.map((cells) => this.createRecord(table, cells));
    this.commit(base, table, changes, this.apiActor());
    return { records: changes.map((c) => this.render(table, table.records.get(c.id)!, byFieldId, null)) };
  }

  /** PATCH / PUT of up to 10 records, or an upsert when `performUpsert` is set. */
  private update(base: Base, table: Table, body: Json, replace: boolean): unknown {
    const typecast = body.typecast === true;
    const byFieldId = body.returnFieldsByFieldId === true;
    const inputs = batch(body.records);
    let mergeOn: FakeField[] | null = null;
    if (body.performUpsert !== undefined) {
      const fieldsToMergeOn = isObject(body.performUpsert) ? body.performUpsert.fieldsToMergeOn : undefined;
      if (!Array.isArray(fieldsToMergeOn) || fieldsToMergeOn.length < 1 || fieldsToMergeOn.length > 3 || !fieldsToMergeOn.every((x) => typeof x === 'string')) {
        throw invalidRequest('performUpsert.fieldsToMergeOn must be an array of 1 to 3 field names or ids');
      }
      mergeOn = (fieldsToMergeOn as string[]).map((name) => this.field(table, name));
    }

    // Plan every record first (validation, matching); write only when all are valid.
    // A step updates `target`, creates a record (target null), or names the record an earlier step of
    // this request creates (`sameAs`: two inputs with the same merge values).
    type Step = { target: StoredRecord | null; cells: Map<string, Cell | null>; sameAs?: number };
    const steps: Step[] = [];
    const pending: Map<string, Cell | null>[] = []; // records this request will create, for matching
    for (const input of inputs) {
      const cells = this.cellsFrom(table, fieldsOf(input), typecast);
      if (typeof input.id === 'string') {
        const target = table.records.get(input.id);
        if (!target) throw apiError(422, 'ROW_DOES_NOT_EXIST', `Record ID ${input.id} does not exist in this table`);
        steps.push({ target, cells });
        continue;
      }
      if (input.id !== undefined || mergeOn === null) throw invalidRequest('each record needs an "id" unless performUpsert is set');
      for (const fl of mergeOn) {
        if (!cells.has(fl.id)) throw invalidRequest(`a record is missing the field "${fl.name}" named in fieldsToMergeOn`);
      }
      const matches = [...table.records.values()].filter((r) => mergeOn!.every((fl) => sameCell(r.cells.get(fl.id), cells.get(fl.id) ?? undefined)));
      const pendingMatch = pending.find((p) => mergeOn!.every((fl) => sameCell(p.get(fl.id) ?? undefined, cells.get(fl.id) ?? undefined)));
      if (matches.length + (pendingMatch ? 1 : 0) > 1) {
        throw invalidRequest(`more than one record matches fieldsToMergeOn (${mergeOn.map((fl) => fl.name).join(', ')})`);
      }
      if (pendingMatch) {
        for (const [k, v] of cells) pendingMatch.set(k, v);
        steps.push({ target: null, cells: new Map(), sameAs: steps.findIndex((st) => st.cells === pendingMatch) });
        continue;
      }
      if (matches.length === 1) steps.push({ target: matches[0]!, cells });
      else {
        pending.push(cells);
        steps.push({ target: null, cells });
      }
    }

    const changes: RecordChange[] = [];
    const touched: { id: string; created: boolean }[] = [];
    for (const step of steps) {
      if (step.sameAs !== undefined) {
        touched.push(touched[step.sameAs]!);
        continue;
      }
      const change = step.target === null ? this.createRecord(table, step.cells) : this.updateRecord(table, step.target, step.cells, replace);
      changes.push(change);
      touched.push({ id: change.id, created: step.target === null });
    }
    this.commit(base, table, changes, this.apiActor());
    const out: Json = { records: touched.map((t) => this.render(table, table.records.get(t.id)!, byFieldId, null)) };
    if (mergeOn !== null) {
      out.createdRecords = [...new Set(touched.filter((t) => t.created).map((t) => t.id))];
      out.updatedRecords = [...new Set(touched.filter((t) => !t.created).map((t) => t.id))];
    }
    return out;
  }

  private destroy(base: Base, table: Table, ids: string[]): { records: { id: string; deleted: true }[] } {
    if (ids.length === 0 || ids.length > MAX_RECORDS_PER_WRITE) throw tooManyRecords();
    const records = ids.map((id) => {
      const r = table.records.get(id);
      if (!r) throw notFound();
      return r;
    });
    const changes: RecordChange[] = records.map((r) => {
      table.records.delete(r.id);
      return { kind: 'destroy', id: r.id, createdTime: r.createdTime, before: r.cells, after: new Map() };
    });
    this.commit(base, table, changes, this.apiActor());
    return { records: records.map((r) => ({ id: r.id, deleted: true as const })) };
  }

  private createRecord(table: Table, values: Map<string, Cell | null>): RecordChange {
    const cells: Cells = new Map();
    for (const [k, v] of values) if (v !== null) cells.set(k, v);
    const record: StoredRecord = { id: this.newId('rec'), createdTime: iso(this.now()), cells };
    table.records.set(record.id, record);
    return { kind: 'create', id: record.id, createdTime: record.createdTime, before: new Map(), after: new Map(cells) };
  }

  /** PATCH changes the given cells; PUT (replace) also clears every cell not given. */
  private updateRecord(table: Table, record: StoredRecord, values: Map<string, Cell | null>, replace: boolean): RecordChange {
    const before = new Map(record.cells);
    const cells: Cells = replace ? new Map() : new Map(record.cells);
    for (const [k, v] of values) {
      if (v === null) cells.delete(k);
      else cells.set(k, v);
    }
    record.cells = cells;
    return { kind: 'update', id: record.id, createdTime: record.createdTime, before, after: new Map(cells) };
  }

  /** Checks and converts the cells of a write, keyed by field name or id; null clears a cell. */
  private cellsFrom(table: Table, fields: Json, typecast: boolean): Map<string, Cell | null> {
    const out = new Map<string, Cell | null>();
    for (const [key, value] of Object.entries(fields)) {
      const field = table.fields.find((fl) => fl.name === key || fl.id === key);
      if (!field) throw apiError(422, 'UNKNOWN_FIELD_NAME', `Unknown field name: "${key}"`);
      out.set(field.id, coerce(field, value, typecast));
    }
    return out;
  }

  private render(table: Table, record: StoredRecord, byFieldId: boolean, only: Set<string> | null): FakeRecord {
    const fields: Record<string, unknown> = {};
    for (const field of table.fields) {
      const v = record.cells.get(field.id);
      if (v === undefined || (only !== null && !only.has(field.id))) continue;
      fields[byFieldId ? field.id : field.name] = v;
    }
    return { id: record.id, createdTime: record.createdTime, fields };
  }

  /** A cell as a formula sees it: empty text is '', an empty number or checkbox is 0 / false. */
  private formulaValue(table: Table, record: StoredRecord, name: string): Cell {
    if (name === '\u0000RECORD_ID') return record.id;
    const field = table.fields.find((fl) => fl.name === name);
    if (!field) throw apiError(422, 'INVALID_FILTER_BY_FORMULA', `Unknown field names: ${name.toLowerCase()}`);
    const v = record.cells.get(field.id);
    if (v !== undefined) return v;
    return field.type === 'number' ? 0 : field.type === 'checkbox' ? false : '';
  }

  /** Get base schema (`GET /v0/meta/bases/{baseId}/tables`), without field options or views. */
  private schema(base: Base): unknown {
    return {
      tables: base.tables.map((t) => ({ id: t.id, name: t.name, primaryFieldId: t.fields[0]?.id, fields: t.fields.map((fl) => ({ ...fl })), views: [] })),
    };
  }

  // --- Webhooks API ---------------------------------------------------------------------------------

  private routeWebhooks(method: string, s: string[], query: Record<string, string[]>, body: Json): unknown {
    const base = this.knownBase(s[2] ?? '');
    if (s[3] !== 'webhooks') throw notFound();
    const now = this.now();
    if (s.length === 4) {
      if (method === 'POST') return this.createWebhook(base, body, now);
      if (method === 'GET') return { webhooks: base.webhooks.filter((w) => this.visible(w, now)).map((w) => this.describeWebhook(w, now)) };
      throw notFound();
    }
    const hook = base.webhooks.find((w) => w.id === s[4] && this.visible(w, now));
    if (!hook) throw notFound();
    const action = s.slice(5).join('/');
    if (action === '' && method === 'DELETE') {
      hook.deleted = true;
      return {};
    }
    if (action === 'refresh' && method === 'POST') {
      // Assumption: the reference says refresh "only applies to active webhooks"; the error is ours.
      if (!this.active(hook, now)) throw invalidRequest('only an active webhook can be refreshed');
      hook.expiresAt = now + WEBHOOK_LIFE_MS;
      return { expirationTime: iso(hook.expiresAt) };
    }
    if (action === 'enableNotifications' && method === 'POST') {
      if (typeof body.enable !== 'boolean') throw invalidRequest('"enable" must be a boolean');
      hook.notificationsEnabled = body.enable;
      return {};
    }
    if (action === 'payloads' && method === 'GET') return this.listPayloads(hook, query, now);
    throw notFound();
  }

  private createWebhook(base: Base, body: Json, now: number): unknown {
    const spec = body.specification;
    const options = isObject(spec) ? spec.options : undefined;
    const filters = isObject(options) ? options.filters : undefined;
    if (!isObject(options) || !isObject(filters)) throw invalidRequest('specification.options.filters is required');
    const dataTypes = filters.dataTypes;
    if (!Array.isArray(dataTypes) || dataTypes.length === 0 || !dataTypes.every((d) => DATA_TYPES.includes(String(d)))) {
      throw invalidRequest(`specification.options.filters.dataTypes must list some of ${DATA_TYPES.join(', ')}`);
    }
    if (filters.changeTypes !== undefined && !(Array.isArray(filters.changeTypes) && filters.changeTypes.every((c) => CHANGE_TYPES.includes(String(c))))) {
      throw invalidRequest(`specification.options.filters.changeTypes must list some of ${CHANGE_TYPES.join(', ')}`);
    }
    if (filters.fromSources !== undefined && !(Array.isArray(filters.fromSources) && filters.fromSources.every((x) => typeof x === 'string'))) {
      throw invalidRequest('specification.options.filters.fromSources must be a list of sources');
    }
    const scope = filters.recordChangeScope;
    if (scope !== undefined && !base.tables.some((t) => t.id === scope)) throw invalidRequest(`recordChangeScope ${String(scope)} is not a table id of this base`);
    const fieldIds = new Set(base.tables.flatMap((t) => t.fields.map((fl) => fl.id)));
    if (filters.watchDataInFieldIds !== undefined && !(Array.isArray(filters.watchDataInFieldIds) && filters.watchDataInFieldIds.every((x) => fieldIds.has(String(x))))) {
      throw invalidRequest('watchDataInFieldIds must list field ids of this base');
    }
    const includes = options.includes;
    if (includes !== undefined) {
      const cells = isObject(includes) ? includes.includeCellValuesInFieldIds : null;
      if (!isObject(includes) || !(cells === undefined || cells === 'all' || (Array.isArray(cells) && cells.every((x) => fieldIds.has(String(x)))))) {
        throw invalidRequest('includes.includeCellValuesInFieldIds must be "all" or a list of field ids');
      }
    }
    const url = body.notificationUrl;
    if (url !== undefined && url !== null && typeof url !== 'string') throw invalidRequest('notificationUrl must be a string');
    if (base.webhooks.filter((w) => this.visible(w, now)).length >= MAX_WEBHOOKS_PER_BASE) throw invalidRequest(`a base can have at most ${MAX_WEBHOOKS_PER_BASE} webhooks`);

    const id = this.newId('ach');
    const hook: Webhook = {
      id,
      baseId: base.id,
      notificationUrl: typeof url === 'string' ? url : null,
      specification: structuredClone(spec) as unknown as Specification,
      macSecret: crypto.createHash('sha256').update(`mac-secret:${id}`).digest(),
      expiresAt: now + WEBHOOK_LIFE_MS,
      deleted: false,
      notificationsEnabled: true,
      nextCursor: 1,
      payloads: [],
      lastNotificationResult: null,
      lastSuccessfulNotificationTime: null,
      ping: { running: false, again: false },
    };
    base.webhooks.push(hook);
    // "the notification URL (if given) will get a ping shortly after this completes" (create a webhook).
    this.schedulePing(hook);
    return { id, macSecretBase64: hook.macSecret.toString('base64'), expirationTime: iso(hook.expiresAt) };
  }

  /** The webhook as list webhooks shows it: the keys of the reference's example, never the secret. */
  private describeWebhook(w: Webhook, now: number): unknown {
    return {
      areNotificationsEnabled: w.notificationsEnabled,
      cursorForNextPayload: w.nextCursor,
      expirationTime: iso(w.expiresAt),
      id: w.id,
      isHookEnabled: this.active(w, now),
      lastNotificationResult: w.lastNotificationResult,
      lastSuccessfulNotificationTime: w.lastSuccessfulNotificationTime,
      notificationUrl: w.notificationUrl,
      specification: structuredClone(w.specification),
    };
  }

  private listPayloads(hook: Webhook, query: Record<string, string[]>, now: number): unknown {
    const cursor = query.cursor?.[0] === undefined ? 1 : Number(query.cursor[0]);
    const limit = query.limit?.[0] === undefined ? MAX_PAYLOADS_PER_PAGE : Number(query.limit[0]);
    if (!Number.isInteger(cursor) || cursor < 1) throw invalidRequest('cursor must be a positive integer');
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAYLOADS_PER_PAGE) throw invalidRequest(`limit must be between 1 and ${MAX_PAYLOADS_PER_PAGE}`);
    // Listing payloads extends an active webhook's life to 7 days from now.
    if (this.active(hook, now)) hook.expiresAt = now + WEBHOOK_LIFE_MS;
    // Payloads are deleted after a week; cursors are never reset.
    const kept = hook.payloads.filter((p) => p.at > now - RETENTION_MS && p.cursor >= cursor);
    const page = kept.slice(0, limit);
    return {
      payloads: page.map((p) => structuredClone(p.payload)),
      cursor: page.length > 0 ? page[page.length - 1]!.cursor + 1 : cursor,
      mightHaveMore: kept.length > page.length,
    };
  }

  /** One transaction: number it, and give each webhook whose specification it matches one payload. */
  private commit(base: Base, table: Table, changes: RecordChange[], actor: Actor): void {
    if (changes.length === 0) return;
    base.transactions++;
    const now = this.now();
    for (const hook of base.webhooks) {
      if (!this.active(hook, now)) continue;
      const tableChange = this.tableChangeFor(hook, table, changes, actor);
      if (tableChange === null) continue;
      hook.payloads.push({
        cursor: hook.nextCursor++,
        at: now,
        payload: {
          timestamp: iso(now),
          baseTransactionNumber: base.transactions,
          actionMetadata: { source: actor.source, sourceMetadata: { user: { id: actor.user.id, email: actor.user.email, permissionLevel: 'create' } } },
          payloadFormat: 'v0',
          changedTablesById: { [table.id]: tableChange },
        },
      });
      this.schedulePing(hook);
    }
  }

  /**
   * The part of a transaction a webhook sees, keyed by field ids, or null when its filters leave
   * nothing. Assumptions where the reference is brief: with watchDataInFieldIds, a change or a creation
   * counts only when it touches a watched field (deletions always count); a change that leaves every
   * cell as it was is no change; `current` holds every changed cell.
   */
  private tableChangeFor(hook: Webhook, table: Table, changes: RecordChange[], actor: Actor): Json | null {
    const { filters, includes = {} } = hook.specification.options;
    if (!filters.dataTypes.includes('tableData')) return null;
    if (filters.recordChangeScope !== undefined && filters.recordChangeScope !== table.id) return null;
    if (filters.fromSources !== undefined && !filters.fromSources.includes(actor.source)) return null;
    const types = filters.changeTypes ?? CHANGE_TYPES;
    const watched = filters.watchDataInFieldIds ? new Set(filters.watchDataInFieldIds) : null;
    const touchesWatched = (ids: Iterable<string>) => watched === null || [...ids].some((id) => watched.has(id));
    const withValues = includes.includeCellValuesInFieldIds;
    const alsoShown = withValues === 'all' ? new Set(table.fields.map((fl) => fl.id)) : Array.isArray(withValues) ? new Set(withValues) : null;

    const created: Json = {};
    const changed: Json = {};
    const destroyed: string[] = [];
    for (const c of changes) {
      if (c.kind === 'create') {
        if (types.includes('add') && touchesWatched(c.after.keys())) created[c.id] = { cellValuesByFieldId: Object.fromEntries(c.after), createdTime: c.createdTime };
      } else if (c.kind === 'destroy') {
        if (types.includes('remove')) destroyed.push(c.id);
      } else if (types.includes('update')) {
        const ids = table.fields.map((fl) => fl.id).filter((id) => !sameCell(c.before.get(id), c.after.get(id)));
        if (ids.length === 0 || !touchesWatched(ids)) continue;
        const entry: Json = { current: { cellValuesByFieldId: Object.fromEntries(ids.map((id) => [id, c.after.get(id) ?? null])) } };
        if (includes.includePreviousCellValues === true) entry.previous = { cellValuesByFieldId: Object.fromEntries(ids.map((id) => [id, c.before.get(id) ?? null])) };
        if (alsoShown !== null) {
          const same = table.fields.map((fl) => fl.id).filter((id) => alsoShown.has(id) && !ids.includes(id) && c.after.has(id));
          if (same.length > 0) entry.unchanged = { cellValuesByFieldId: Object.fromEntries(same.map((id) => [id, c.after.get(id)])) };
        }
        changed[c.id] = entry;
      }
    }
    const out: Json = {};
    if (Object.keys(created).length > 0) out.createdRecordsById = created;
    if (Object.keys(changed).length > 0) out.changedRecordsById = changed;
    if (destroyed.length > 0) out.destroyedRecordIds = destroyed;
    return Object.keys(out).length > 0 ? out : null;
  }

  /** At most one ping in flight per webhook; changes while one is in flight cause exactly one more. */
  private schedulePing(hook: Webhook): void {
    if (hook.notificationUrl === null || this.closed) return;
    if (hook.ping.running) {
      hook.ping.again = true;
      return;
    }
    hook.ping.running = true;
    hook.ping.again = true;
    const delivery = (async () => {
      await new Promise<void>((resolve) => setImmediate(resolve)); // after the API answer is on its way
      try {
        while (hook.ping.again && !this.closed) {
          hook.ping.again = false;
          const now = this.now();
          if (hook.deleted || !hook.notificationsEnabled || !this.active(hook, now)) break;
          await this.sendPing(hook);
        }
      } finally {
        hook.ping.running = false;
        hook.ping.again = false;
      }
    })();
    this.deliveries.add(delivery);
    void delivery.finally(() => this.deliveries.delete(delivery));
  }

  private async sendPing(hook: Webhook): Promise<void> {
    const url = hook.notificationUrl!;
    const body = JSON.stringify({ base: { id: hook.baseId }, webhook: { id: hook.id }, timestamp: iso(this.now()) });
    const mac = `hmac-sha256=${crypto.createHmac('sha256', hook.macSecret).update(body, 'utf8').digest('hex')}`;
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    if (!isLoopback(url)) {
      error = 'The fake delivers pings to 127.0.0.1 only';
    } else {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-airtable-content-mac': mac },
          body,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(10_000)]),
        });
        status = res.status;
        await res.arrayBuffer();
      } catch (err) {
        error = (err as Error).message;
      }
    }
    this.pings.push({ webhookId: hook.id, url, status, body, mac });
    const completionTimestamp = iso(this.now());
    const durationMs = Math.round((performance.now() - started) * 1000) / 1000;
    if (status === 200 || status === 204) {
      hook.lastNotificationResult = { success: true, completionTimestamp, durationMs, retryNumber: 0 };
      hook.lastSuccessfulNotificationTime = completionTimestamp;
    } else {
      // Assumption: failed pings are not retried (the next change sends a new one).
      const message = error ?? `The HTTP request returned a ${status} status code instead of 200 or 204`;
      hook.lastNotificationResult = { success: false, error: { message }, completionTimestamp, durationMs, retryNumber: 0, willBeRetried: false };
    }
  }

  // --- Helpers --------------------------------------------------------------------------------------

  private apiActor(): Actor {
    return { source: 'publicApi', user: { id: this.userId, email: this.userEmail } };
  }

  private active(w: Webhook, now: number): boolean {
    return !w.deleted && now < w.expiresAt;
  }

  private visible(w: Webhook, now: number): boolean {
    return !w.deleted && now < w.expiresAt + RETENTION_MS;
  }

  /** Why a request to this base is refused now, if it is: the penalty after a 429, or a full window. */
  private overRate(baseId: string, at: number): 'penalty' | 'window' | null {
    if (at < (this.blockedUntil.get(baseId) ?? -Infinity)) return 'penalty';
    const recent = (this.admitted.get(baseId) ?? []).filter((t) => t > at - 1000 && t <= at);
    this.admitted.set(baseId, recent);
    return recent.length >= this.ratePerSecond ? 'window' : null;
  }

  private admit(baseId: string, at: number): void {
    const list = this.admitted.get(baseId) ?? [];
    list.push(at);
    this.admitted.set(baseId, list);
  }

  private base(baseId: string): Base {
    const base = this.bases.get(baseId);
    if (!base) throw new Error(`no base ${baseId}`);
    return base;
  }

  private knownBase(baseId: string): Base {
    const base = this.bases.get(baseId);
    if (!base) throw notFound();
    return base;
  }

  private table(baseId: string, tableName: string): Table {
    const table = this.base(baseId).tables.find((t) => t.name === tableName || t.id === tableName);
    if (!table) throw new Error(`no table ${tableName} in ${baseId}`);
    return table;
  }

  private field(table: Table, nameOrId: string): FakeField {
    const field = table.fields.find((fl) => fl.name === nameOrId || fl.id === nameOrId);
    if (!field) throw apiError(422, 'UNKNOWN_FIELD_NAME', `Unknown field name: "${nameOrId}"`);
    return field;
  }

  /** Airtable-style ids: a 3-letter prefix and 14 characters, deterministic per fake. */
  private newId(prefix: string): string {
    const digest = crypto.createHash('sha256').update(`${prefix}:${++this.idCounter}`).digest();
    let s = '';
    for (let i = 0; i < 14; i++) s += BASE62[digest[i]! % 62];
    return prefix + s;
  }
}

// --- Request parsing --------------------------------------------------------------------------------

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const flag = (v: unknown) => v === true || v === 'true' || v === '1';

function countRecords(method: string, body: unknown, query: Record<string, string[]>): number {
  if (method === 'DELETE') return (query['records[]'] ?? query.records ?? []).length;
  if (!isObject(body)) return 0;
  if (Array.isArray(body.records)) return body.records.length;
  return isObject(body.fields) ? 1 : 0;
}

/** The records of a batch write: an array of 1 to 10 objects. */
function batch(records: unknown): Json[] {
  if (!Array.isArray(records) || records.length === 0 || records.length > MAX_RECORDS_PER_WRITE) throw tooManyRecords();
  if (!records.every(isObject)) throw invalidRequest('each record must be an object');
  return records;
}

function fieldsOf(record: Json): Json {
  if (!isObject(record.fields)) throw apiError(422, 'INVALID_REQUEST_MISSING_FIELDS', 'Could not find field "fields" in the request body');
  return record.fields;
}

function forcedBody(status: number): unknown {
  if (status === 429) return RATE_LIMIT_BODY;
  if (status === 401) return { error: { type: 'AUTHENTICATION_REQUIRED', message: 'Authentication required' } };
  if (status === 404) return { error: 'NOT_FOUND' };
  if (status === 422) return { error: { type: 'INVALID_REQUEST_UNKNOWN', message: 'Invalid request: parameter validation failed. Check your request data.' } };
  if (status === 503 || status === 502 || status === 504) return { error: { type: 'SERVICE_UNAVAILABLE', message: 'The service is temporarily unavailable. Please retry shortly.' } };
  if (status >= 500) return { error: { type: 'SERVER_ERROR', message: 'Try again. If the problem persists, contact support.' } };
  return { error: { type: 'UNEXPECTED_ERROR', message: `The fake was told to answer ${status}.` } };
}

/** A whole number from a query or body value; the fallback when absent, NaN when not a whole number. */
function intParam(raw: unknown, fallback: number): number {
  if (raw === undefined || raw === null || raw === '') return fallback;
  const n = Number(raw);
  return Number.isInteger(n) ? n : NaN;
}

function listParamsFromQuery(q: Record<string, string[]>): ListParams {
  const sort: ListParams['sort'] = [];
  for (const key of Object.keys(q)) {
    const m = /^sort\[(\d+)\]\[field\]$/.exec(key);
    if (m) sort[Number(m[1])] = { field: q[key]![0]!, direction: q[`sort[${m[1]}][direction]`]?.[0] === 'desc' ? 'desc' : 'asc' };
  }
  const fields = q['fields[]'] ?? q.fields;
  const maxRecords = intParam(q.maxRecords?.[0], NaN);
  return {
    pageSize: intParam(q.pageSize?.[0], MAX_PAGE_SIZE),
    maxRecords: Number.isNaN(maxRecords) ? null : maxRecords,
    offset: q.offset?.[0] ?? null,
    fields: fields ?? null,
    filterByFormula: q.filterByFormula?.[0] ?? null,
    sort: sort.filter(Boolean),
    byFieldId: flag(q.returnFieldsByFieldId?.[0]),
  };
}

function listParamsFromBody(b: Json): ListParams {
  const maxRecords = intParam(b.maxRecords, NaN);
  return {
    pageSize: intParam(b.pageSize, MAX_PAGE_SIZE),
    maxRecords: Number.isNaN(maxRecords) ? null : maxRecords,
    offset: typeof b.offset === 'string' ? b.offset : null,
    fields: Array.isArray(b.fields) ? b.fields.map(String) : null,
    filterByFormula: typeof b.filterByFormula === 'string' ? b.filterByFormula : null,
    sort: Array.isArray(b.sort) ? b.sort.filter(isObject).map((s) => ({ field: String(s.field), direction: s.direction === 'desc' ? ('desc' as const) : ('asc' as const) })) : [],
    byFieldId: b.returnFieldsByFieldId === true,
  };
}

// --- Cell values ------------------------------------------------------------------------------------

/** A value written to a field, as Airtable stores it; null for an empty cell. */
function coerce(field: FakeField, value: unknown, typecast: boolean): Cell | null {
  if (value === null || value === undefined) return null;
  const refuse = () => apiError(422, 'INVALID_VALUE_FOR_COLUMN', `Field "${field.name}" cannot accept the provided value`);
  switch (field.type) {
    case 'singleLineText':
    case 'multilineText': {
      if (typeof value === 'string') return value === '' ? null : value;
      if (typecast && (typeof value === 'number' || typeof value === 'boolean')) return String(value);
      throw refuse();
    }
    case 'number': {
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (typecast && typeof value === 'string') {
        const text = value.trim().replace(/,/g, '');
        if (text === '') return null;
        const n = Number(text);
        if (Number.isFinite(n)) return n;
      }
      throw refuse();
    }
    case 'checkbox': {
      // An unchecked box is an empty cell: Airtable leaves it out of `fields`.
      if (typeof value === 'boolean') return value ? true : null;
      if (typecast && typeof value === 'number') return value !== 0 ? true : null;
      if (typecast && typeof value === 'string') {
        if (/^(true|yes|checked|x|1)$/i.test(value.trim())) return true;
        if (/^(false|no|unchecked|0|)$/i.test(value.trim())) return null;
      }
      throw refuse();
    }
    case 'dateTime': {
      if (typeof value === 'string' || (typecast && typeof value === 'number')) {
        const d = new Date(value);
        if (!Number.isNaN(d.getTime())) return d.toISOString();
      }
      throw refuse();
    }
  }
}

function compareCells(a: Cell | undefined, b: Cell | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

// --- A small filterByFormula ------------------------------------------------------------------------
// Enough for what the hub sends: {Field} = 'text' | "text" | 12 | TRUE() | FALSE(), != too,
// RECORD_ID(), and AND(...), OR(...), NOT(...) of those. Anything else is refused as Airtable refuses
// a formula it cannot parse.

type Formula =
  | { kind: 'field'; name: string }
  | { kind: 'literal'; value: Cell }
  | { kind: 'compare'; op: '=' | '!='; left: Formula; right: Formula }
  | { kind: 'call'; fn: 'AND' | 'OR' | 'NOT'; args: Formula[] };

const badFormula = () => apiError(422, 'INVALID_FILTER_BY_FORMULA', 'The formula for filtering records is invalid: Invalid formula. Please check your formula text.');

function parseFormula(text: string): Formula {
  const tokens = text.match(/\{[^}]*\}|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|!=|[=(),]|[A-Za-z_]+|\S/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const take = (expected?: string) => {
    const t = tokens[i++];
    if (t === undefined || (expected !== undefined && t.toUpperCase() !== expected)) throw badFormula();
    return t;
  };
  const operand = (): Formula => {
    const t = take();
    if (t.startsWith('{')) return { kind: 'field', name: t.slice(1, -1) };
    if (t.startsWith("'") || t.startsWith('"')) return { kind: 'literal', value: t.slice(1, -1).replace(/\\(.)/g, '$1') };
    if (/^-?\d/.test(t)) return { kind: 'literal', value: Number(t) };
    const name = t.toUpperCase();
    if (name === 'TRUE' || name === 'FALSE' || name === 'RECORD_ID') {
      take('(');
      take(')');
      return name === 'RECORD_ID' ? { kind: 'field', name: '\u0000RECORD_ID' } : { kind: 'literal', value: name === 'TRUE' };
    }
    if (name === 'AND' || name === 'OR' || name === 'NOT') {
      take('(');
      const args: Formula[] = [];
      if (peek() !== ')') {
        args.push(expression());
        while (peek() === ',') {
          take(',');
          args.push(expression());
        }
      }
      take(')');
      if (args.length === 0 || (name === 'NOT' && args.length !== 1)) throw badFormula();
      return { kind: 'call', fn: name, args };
    }
    throw badFormula();
  };
  const expression = (): Formula => {
    const left = operand();
    const op = peek();
    if (op === '=' || op === '!=') {
      take();
      return { kind: 'compare', op, left, right: operand() };
    }
    return left;
  };
  const tree = expression();
  if (i !== tokens.length) throw badFormula();
  return tree;
}

function evaluate(f: Formula, cell: (name: string) => Cell): Cell {
  switch (f.kind) {
    case 'field':
      return cell(f.name);
    case 'literal':
      return f.value;
    case 'compare': {
      const a = evaluate(f.left, cell);
      const b = evaluate(f.right, cell);
      const equal = typeof a === 'number' || typeof b === 'number' ? Number(a) === Number(b) : String(a) === String(b);
      return f.op === '=' ? equal : !equal;
    }
    case 'call': {
      const values = f.args.map((a) => truthy(evaluate(a, cell)));
      if (f.fn === 'NOT') return !values[0];
      return f.fn === 'AND' ? values.every(Boolean) : values.some(Boolean);
    }
  }
}

const truthy = (v: Cell) => v !== false && v !== 0 && v !== '';
