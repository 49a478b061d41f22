/**
 * A fake of the Google Sheets API v4 and of Google's OAuth token endpoint: a real HTTP server on
 * 127.0.0.1 that the real `googleapis` client talks to (its `rootUrl` pointed here, the service
 * account's token requests sent to `/token`). It keeps cells and developer metadata per tab,
 * implements the endpoints the hub and the add-on use, refuses what Google refuses (a missing or
 * unknown valueInputOption, an unsigned or wrongly signed token assertion, a missing bearer token),
 * enforces a per-minute write quota with 429 `RESOURCE_EXHAUSTED`, counts every request, and can
 * sort and insert rows the way staff do — row metadata moves with its row, as in Sheets.
 *
 * Shapes follow the Sheets API v4 reference (ValueRange, DataFilterValueRange,
 * BatchUpdateValuesByDataFilterResponse, AppendValuesResponse, DeveloperMetadata, Request of
 * spreadsheets.batchUpdate) and Google's error body `{error: {code, message, status}}`.
 * What the reference does not say — the answer of `values:batchUpdateByDataFilter` when a developer
 * metadata lookup matches no row — is a choice of the test (`unmatchedLookup`): an entry without
 * `updatedRange` (the default), no entry at all, or a 400 refusing the whole request with nothing
 * written. The hub must be right whichever Google does (docs/sheets.md).
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Value = string | number | boolean;
type CellValue = Value | null;

interface Meta {
  metadataId: number;
  metadataKey: string;
  metadataValue: string;
  visibility: 'DOCUMENT' | 'PROJECT';
}

interface Row {
  cells: CellValue[];
  meta: Meta[];
}

interface Tab {
  sheetId: number;
  title: string;
  rows: Row[];
  columnCount: number;
}

export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string[]>;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  at: number;
  /** A write request, counted against the quota. */
  write: boolean;
  status: number;
}

class GoogleError extends Error {
  constructor(
    readonly code: number,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

const GOOGLE_TOKEN_AUD = 'https://oauth2.googleapis.com/token';
const SPREADSHEETS_SCOPE = 'https://www.googleapis.com/auth/spreadsheets';

export const colLetter = (i: number): string => (i < 26 ? String.fromCharCode(65 + i) : colLetter(Math.floor(i / 26) - 1) + String.fromCharCode(65 + (i % 26)));
const colIndex = (letters: string): number => [...letters.toUpperCase()].reduce((n, ch) => n * 26 + (ch.charCodeAt(0) - 64), 0) - 1;
const quote = (t: string) => `'${t.replace(/'/g, "''")}'`;

/** A1 range → tab and 0-based bounds (end exclusive; null = open). */
function parseA1(range: string): { tab: string; r0: number; r1: number | null; c0: number; c1: number | null } {
  const m = /^(?:'((?:[^']|'')+)'|([^!]+?))(?:!(.*))?$/.exec(range);
  if (!m) throw new GoogleError(400, 'INVALID_ARGUMENT', `Unable to parse range: ${range}`);
  const tab = m[1] !== undefined ? m[1].replace(/''/g, "'") : m[2]!;
  const ref = m[3];
  if (!ref) return { tab, r0: 0, r1: null, c0: 0, c1: null };
  const part = (p: string) => {
    const x = /^([A-Za-z]*)(\d*)$/.exec(p);
    if (!x || (!x[1] && !x[2])) throw new GoogleError(400, 'INVALID_ARGUMENT', `Unable to parse range: ${range}`);
    return { c: x[1] ? colIndex(x[1]) : null, r: x[2] ? Number(x[2]) - 1 : null };
  };
  const [a, b] = ref.split(':');
  const s = part(a!);
  const e = b === undefined ? s : part(b);
  return { tab, r0: s.r ?? 0, r1: e.r === null ? null : e.r + 1, c0: s.c ?? 0, c1: e.c === null ? null : e.c + 1 };
}

export interface SheetsFakeOptions {
  spreadsheetId: string;
  /** The service account allowed in: its email and public key. */
  clientEmail: string;
  publicKey: crypto.KeyObject | string;
  /** Write requests allowed per window (Google: 60 per minute per user). */
  quota?: { writes: number; windowMs: number };
}

export class SheetsFake {
  readonly requests: SeenRequest[] = [];
  readonly tokensIssued: string[] = [];
  /** Statuses to answer the next write requests with, before doing anything (e.g. [429]). */
  failNextWrites: number[] = [];
  /**
   * How `values:batchUpdateByDataFilter` answers a metadata lookup that matches no row (undocumented):
   * `entry`: a response entry with its dataFilter and no `updatedRange`; `omit`: no entry for it;
   * `refuse`: 400 INVALID_ARGUMENT for the whole request, nothing written.
   */
  unmatchedLookup: 'entry' | 'omit' | 'refuse' = 'entry';
  /** Sent as Retry-After (seconds) with a 429; null: none (Google usually sends none). */
  retryAfterSeconds: number | null = null;
  quota: { writes: number; windowMs: number };
  private readonly tabs: Tab[] = [];
  private nextSheetId = 100;
  private nextMetaId = 1000;
  private server!: http.Server;
  url = '';

  private constructor(readonly opts: SheetsFakeOptions) {
    this.quota = opts.quota ?? { writes: 60, windowMs: 60_000 };
  }

  static async start(opts: SheetsFakeOptions): Promise<SheetsFake> {
    const f = new SheetsFake(opts);
    f.server = http.createServer((req, res) => void f.handle(req, res));
    await new Promise<void>((resolve) => f.server.listen(0, '127.0.0.1', resolve));
    f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}/`;
    return f;
  }

  get tokenUrl(): string {
    return `${this.url}token`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  // --- What staff and the add-on do in the sheet (not requests of the hub) --------------------------

  addTab(title: string, headers: string[]): void {
    this.tabs.push({ sheetId: this.nextSheetId++, title, rows: [{ cells: [...headers], meta: [] }], columnCount: Math.max(26, headers.length) });
  }

  /** Adds a row at the bottom; with a SKU, tags it `stockrelay.sku` as the add-on does (or with `tag`, that key and value). */
  addRow(title: string, cells: CellValue[], sku?: string, tag?: { key: string; value: string }): void {
    const tab = this.tab(title);
    const meta = tag ?? (sku ? { key: 'stockrelay.sku', value: sku } : null);
    tab.rows.push({ cells: [...cells], meta: meta ? [{ metadataId: this.nextMetaId++, metadataKey: meta.key, metadataValue: meta.value, visibility: 'DOCUMENT' }] : [] });
  }

  /** Tags an existing row (0-based) with `stockrelay.sku`, as the add-on's "Sync now" does. */
  tagRow(title: string, row: number, sku: string): void {
    const r = this.tab(title).rows[row];
    if (!r) throw new Error(`no row ${row}`);
    r.meta.push({ metadataId: this.nextMetaId++, metadataKey: 'stockrelay.sku', metadataValue: sku, visibility: 'DOCUMENT' });
  }

  /** Sorts the data rows (below the header) by a column, as "Sort sheet" does; metadata moves with its row. */
  sortRows(title: string, column: number, order: 'ASCENDING' | 'DESCENDING' = 'ASCENDING'): void {
    const tab = this.tab(title);
    this.sort(tab, 1, tab.rows.length, [{ dimensionIndex: column, sortOrder: order }]);
  }

  /** Inserts empty rows before the 0-based row index. */
  insertRows(title: string, at: number, count: number): void {
    const tab = this.tab(title);
    tab.rows.splice(at, 0, ...Array.from({ length: count }, () => ({ cells: [], meta: [] })));
  }

  /** A user types into a cell (0-based row and column). */
  type(title: string, row: number, col: number, value: CellValue): void {
    const r = this.tab(title).rows[row];
    if (!r) throw new Error(`no row ${row}`);
    r.cells[col] = value;
  }

  /** The tab's cells, row by row (header first), trailing empties trimmed. */
  read(title: string): CellValue[][] {
    return this.tab(title).rows.map((r) => {
      const c = [...r.cells];
      while (c.length > 0 && (c[c.length - 1] === null || c[c.length - 1] === undefined || c[c.length - 1] === '')) c.pop();
      return c.map((v) => (v === undefined ? null : v));
    });
  }

  /** A data row as a record keyed by the tab's headers. */
  record(title: string, row: number): Record<string, CellValue> {
    const tab = this.tab(title);
    const headers = tab.rows[0]!.cells;
    return Object.fromEntries(headers.map((h, i) => [String(h), tab.rows[row]?.cells[i] ?? null]));
  }

  /** The 0-based index of the row carrying this metadata, or -1. */
  rowWithMeta(title: string, key: string, value: string): number {
    return this.tab(title).rows.findIndex((r) => r.meta.some((m) => m.metadataKey === key && m.metadataValue === value));
  }

  writes(): SeenRequest[] {
    return this.requests.filter((r) => r.write);
  }

  /** The most write requests accepted in any window of the quota's length. */
  maxWritesInWindow(windowMs = this.quota.windowMs): number {
    const at = this.writes().filter((r) => r.status < 400).map((r) => r.at);
    let max = 0;
    for (let i = 0, j = 0; j < at.length; j++) {
      while (at[j]! - at[i]! >= windowMs) i++;
      max = Math.max(max, j - i + 1);
    }
    return max;
  }

  // --- The HTTP side --------------------------------------------------------------------------------

  private tab(title: string): Tab {
    const t = this.tabs.find((x) => x.title === title);
    if (!t) throw new GoogleError(400, 'INVALID_ARGUMENT', `Unable to parse range: ${title}`);
    return t;
  }

  private tabById(id: unknown): Tab {
    const t = this.tabs.find((x) => x.sheetId === id);
    if (!t) throw new GoogleError(400, 'INVALID_ARGUMENT', `No grid with id: ${String(id)}`);
    return t;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(u.pathname);
    const query: Record<string, string[]> = {};
    for (const [k, v] of u.searchParams) (query[k] ??= []).push(v);
    const write = req.method === 'POST' && /(:batchUpdate|:batchUpdateByDataFilter|:append|:batchClear)$/.test(path);
    const seen: SeenRequest = { method: req.method ?? 'GET', path, query, headers: req.headers, body: null, at: Date.now(), write, status: 200 };
    this.requests.push(seen);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      seen.status = status;
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
      res.end(JSON.stringify(body));
    };
    try {
      if (path === '/token' && req.method === 'POST') {
        seen.body = Object.fromEntries(new URLSearchParams(raw));
        return send(...this.token(seen.body as Record<string, string>));
      }
      const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
      if (!auth || !this.tokensIssued.includes(auth[1]!)) {
        throw new GoogleError(401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
      }
      const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      seen.body = body;
      const m = /^\/v4\/spreadsheets\/([^/:]+)(.*)$/.exec(path);
      if (!m) throw new GoogleError(404, 'NOT_FOUND', `Not found: ${path}`);
      if (m[1] !== this.opts.spreadsheetId) throw new GoogleError(404, 'NOT_FOUND', 'Requested entity was not found.');
      if (write) {
        const forced = this.failNextWrites.shift();
        if (forced === 429 || (forced === undefined && this.overQuota(seen.at))) {
          return send(
            429,
            { error: { code: 429, message: "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com'.", status: 'RESOURCE_EXHAUSTED' } },
            this.retryAfterSeconds === null ? {} : { 'retry-after': String(this.retryAfterSeconds) },
          );
        }
        if (forced !== undefined) throw new GoogleError(forced, forced >= 500 ? 'UNAVAILABLE' : 'FAILED_PRECONDITION', `The fake was told to answer ${forced}.`);
      }
      const rest = m[2]!;
      if (req.method === 'GET' && rest === '') return send(200, this.spreadsheet());
      if (req.method === 'POST' && rest === ':batchUpdate') return send(200, this.batchUpdate(body));
      if (req.method === 'GET' && rest === '/values:batchGet') return send(200, { spreadsheetId: this.opts.spreadsheetId, valueRanges: (query.ranges ?? []).map((r) => this.getValues(r)) });
      if (req.method === 'POST' && rest === '/values:batchUpdateByDataFilter') return send(200, this.updateByDataFilter(body));
      if (req.method === 'POST' && rest === '/developerMetadata:search') return send(200, this.searchMetadata(body));
      const append = /^\/values\/(.+):append$/.exec(rest);
      if (req.method === 'POST' && append) return send(200, this.append(append[1]!, query, body));
      const get = /^\/values\/(.+)$/.exec(rest);
      if (req.method === 'GET' && get) return send(200, this.getValues(get[1]!));
      throw new GoogleError(404, 'NOT_FOUND', `The fake does not implement ${req.method} ${path}.`);
    } catch (err) {
      if (err instanceof GoogleError) return send(err.code, { error: { code: err.code, message: err.message, status: err.status } });
      if (err instanceof SyntaxError) return send(400, { error: { code: 400, message: `Invalid JSON payload received. ${err.message}`, status: 'INVALID_ARGUMENT' } });
      return send(500, { error: { code: 500, message: (err as Error).message, status: 'INTERNAL' } });
    }
  }

  private overQuota(now: number): boolean {
    const recent = this.requests.filter((r) => r.write && r.status < 400 && r.at > now - this.quota.windowMs && r.at <= now);
    // The request being answered is in the list already (status 200 until said otherwise).
    return recent.length > this.quota.writes;
  }

  /** OAuth 2.0 JWT bearer grant (RFC 7523), as Google's token endpoint takes it from a service account. */
  private token(form: Record<string, string>): [number, unknown] {
    const bad = (description: string): [number, unknown] => [400, { error: 'invalid_grant', error_description: description }];
    if (form.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return [400, { error: 'unsupported_grant_type', error_description: 'Invalid grant_type.' }];
    const parts = (form.assertion ?? '').split('.');
    if (parts.length !== 3) return bad('Invalid JWT.');
    const [h, p, s] = parts as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: string };
    if (header.alg !== 'RS256') return bad('Invalid JWT: the signing algorithm must be RS256.');
    if (!crypto.verify('RSA-SHA256', Buffer.from(`${h}.${p}`), this.opts.publicKey, Buffer.from(s, 'base64url'))) return bad('Invalid JWT Signature.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as { iss?: string; aud?: string; scope?: string; exp?: number; iat?: number };
    if (claims.iss !== this.opts.clientEmail) return bad('Invalid issuer.');
    if (claims.aud !== GOOGLE_TOKEN_AUD) return bad('Invalid JWT: the audience must be the token endpoint.');
    if (!claims.scope?.split(' ').includes(SPREADSHEETS_SCOPE)) return bad('Invalid scope.');
    if (!claims.exp || claims.exp * 1000 < Date.now()) return bad('Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.');
    const token = `ya29.fake-${crypto.randomBytes(12).toString('hex')}`;
    this.tokensIssued.push(token);
    return [200, { access_token: token, expires_in: 3599, token_type: 'Bearer' }];
  }

  private spreadsheet(): unknown {
    return {
      spreadsheetId: this.opts.spreadsheetId,
      properties: { title: 'Catalog of the fake', locale: 'en_GB', timeZone: 'Etc/GMT' },
      sheets: this.tabs.map((t, index) => ({ properties: { sheetId: t.sheetId, title: t.title, index, sheetType: 'GRID', gridProperties: { rowCount: Math.max(1000, t.rows.length), columnCount: t.columnCount } } })),
    };
  }

  private getValues(range: string): unknown {
    const r = parseA1(range);
    const tab = this.tab(r.tab);
    const rows = tab.rows.slice(r.r0, r.r1 ?? tab.rows.length).map((row) => {
      const c = row.cells.slice(r.c0, r.c1 ?? undefined).map((v) => (v === null || v === undefined ? '' : v));
      while (c.length > 0 && c[c.length - 1] === '') c.pop();
      return c;
    });
    while (rows.length > 0 && rows[rows.length - 1]!.length === 0) rows.pop();
    const end = r.r1 ?? Math.max(r.r0 + 1, tab.rows.length);
    return { range: `${quote(tab.title)}!${colLetter(r.c0)}${r.r0 + 1}:${colLetter((r.c1 ?? tab.columnCount) - 1)}${end}`, majorDimension: 'ROWS', ...(rows.length > 0 ? { values: rows } : {}) };
  }

  private inputValue(v: unknown, option: string): CellValue {
    if (v === null || v === undefined) return null;
    if (typeof v === 'object') throw new GoogleError(400, 'INVALID_ARGUMENT', 'Invalid values: a value must be a string, a number or a boolean.');
    if (option === 'USER_ENTERED' && typeof v === 'string' && /^[+-]?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
    return v as Value;
  }

  private checkValueInputOption(option: unknown): string {
    if (option === undefined || option === null || option === '') throw new GoogleError(400, 'INVALID_ARGUMENT', "'valueInputOption' is required but not specified");
    if (option !== 'RAW' && option !== 'USER_ENTERED') throw new GoogleError(400, 'INVALID_ARGUMENT', `Invalid value at 'value_input_option' (type.googleapis.com/google.apps.sheets.v4.ValueInputOption), "${String(option)}"`);
    return option;
  }

  /** Writes `values` into a tab from (r0, c0); null cells are skipped, as Google does. */
  private writeAt(tab: Tab, r0: number, c0: number, values: unknown[][], option: string, maxCols: number | null): { rows: number; cols: Set<number>; cells: number } {
    const cols = new Set<number>();
    let cells = 0;
    values.forEach((row, i) => {
      if (!Array.isArray(row)) throw new GoogleError(400, 'INVALID_ARGUMENT', 'Invalid values: each row must be a list.');
      if (maxCols !== null && row.length > maxCols) throw new GoogleError(400, 'INVALID_ARGUMENT', `Requested writing within range, but tried writing to column [${colLetter(c0 + row.length - 1)}]`);
      while (tab.rows.length <= r0 + i) tab.rows.push({ cells: [], meta: [] });
      const target = tab.rows[r0 + i]!;
      row.forEach((v, j) => {
        const value = this.inputValue(v, option);
        if (value === null) return;
        while (target.cells.length < c0 + j) target.cells.push(null);
        target.cells[c0 + j] = value;
        cols.add(c0 + j);
        cells++;
      });
      tab.columnCount = Math.max(tab.columnCount, target.cells.length);
    });
    return { rows: values.length, cols, cells };
  }

  private matchMeta(lookup: Record<string, unknown>): { tab: Tab; row: number; meta: Meta }[] {
    const out: { tab: Tab; row: number; meta: Meta }[] = [];
    if (lookup.locationType !== undefined && !['ROW', 'COLUMN', 'SHEET', 'SPREADSHEET'].includes(String(lookup.locationType))) throw new GoogleError(400, 'INVALID_ARGUMENT', `Invalid value at 'data_filters[0].developer_metadata_lookup.location_type', "${String(lookup.locationType)}"`);
    for (const tab of this.tabs) {
      tab.rows.forEach((r, row) => {
        for (const meta of r.meta) {
          if (lookup.metadataKey !== undefined && lookup.metadataKey !== meta.metadataKey) continue;
          if (lookup.metadataValue !== undefined && lookup.metadataValue !== meta.metadataValue) continue;
          if (lookup.metadataId !== undefined && lookup.metadataId !== meta.metadataId) continue;
          if (lookup.visibility !== undefined && lookup.visibility !== meta.visibility) continue;
          if (lookup.locationType !== undefined && lookup.locationType !== 'ROW') continue;
          out.push({ tab, row, meta });
        }
      });
    }
    return out;
  }

  private updateByDataFilter(body: Record<string, unknown>): unknown {
    const option = this.checkValueInputOption(body.valueInputOption);
    const data = body.data;
    if (!Array.isArray(data) || data.length === 0) throw new GoogleError(400, 'INVALID_ARGUMENT', 'Must specify at least one data filter value range.');
    const responses: unknown[] = [];
    const touched = { rows: 0, cols: 0, cells: 0, sheets: new Set<number>() };
    if (this.unmatchedLookup === 'refuse') {
      // Checked before anything is written: a refused request changes nothing.
      (data as { dataFilter?: { developerMetadataLookup?: Record<string, unknown> } }[]).forEach((d, i) => {
        const lookup = d.dataFilter?.developerMetadataLookup;
        if (lookup && this.matchMeta(lookup).length === 0) throw new GoogleError(400, 'INVALID_ARGUMENT', `Invalid data[${i}]: no developer metadata matches the data filter.`);
      });
    }
    for (const d of data as { dataFilter?: Record<string, unknown>; majorDimension?: string; values?: unknown[][] }[]) {
      if (d.majorDimension !== undefined && d.majorDimension !== 'ROWS') throw new GoogleError(400, 'INVALID_ARGUMENT', 'The fake writes ROWS only.');
      const filter = d.dataFilter ?? {};
      let targets: { tab: Tab; r0: number; c0: number; rows: number; cols: number | null }[];
      if (filter.developerMetadataLookup) {
        targets = this.matchMeta(filter.developerMetadataLookup as Record<string, unknown>).map((m) => ({ tab: m.tab, r0: m.row, c0: 0, rows: 1, cols: m.tab.columnCount }));
      } else if (typeof filter.a1Range === 'string') {
        const r = parseA1(filter.a1Range);
        const tab = this.tab(r.tab);
        targets = [{ tab, r0: r.r0, c0: r.c0, rows: r.r1 === null ? Infinity : r.r1 - r.r0, cols: r.c1 === null ? null : r.c1 - r.c0 }];
      } else throw new GoogleError(400, 'INVALID_ARGUMENT', 'The data filter must have a developerMetadataLookup or an a1Range.');
      if (targets.length === 0) {
        if (this.unmatchedLookup === 'entry') responses.push({ dataFilter: filter });
        continue;
      }
      for (const t of targets) {
        const values = d.values ?? [];
        if (values.length > t.rows) throw new GoogleError(400, 'INVALID_ARGUMENT', `Requested writing within range [${quote(t.tab.title)}!${t.r0 + 1}:${t.r0 + t.rows}], but tried writing to row [${t.r0 + values.length}]`);
        const w = this.writeAt(t.tab, t.r0, t.c0, values, option, t.cols);
        const cols = [...w.cols].sort((a, b) => a - b);
        const range = cols.length > 0 ? `${quote(t.tab.title)}!${colLetter(cols[0]!)}${t.r0 + 1}:${colLetter(cols[cols.length - 1]!)}${t.r0 + w.rows}` : `${quote(t.tab.title)}!${t.r0 + 1}:${t.r0 + 1}`;
        responses.push({ updatedRange: range, updatedRows: w.rows, updatedColumns: w.cols.size, updatedCells: w.cells, dataFilter: filter });
        touched.rows += w.rows;
        touched.cols += w.cols.size;
        touched.cells += w.cells;
        touched.sheets.add(t.tab.sheetId);
      }
    }
    return { spreadsheetId: this.opts.spreadsheetId, totalUpdatedRows: touched.rows, totalUpdatedColumns: touched.cols, totalUpdatedCells: touched.cells, totalUpdatedSheets: touched.sheets.size, responses };
  }

  private append(range: string, query: Record<string, string[]>, body: Record<string, unknown>): unknown {
    const option = this.checkValueInputOption(query.valueInputOption?.[0]);
    const insert = query.insertDataOption?.[0] ?? 'OVERWRITE';
    if (insert !== 'OVERWRITE' && insert !== 'INSERT_ROWS') throw new GoogleError(400, 'INVALID_ARGUMENT', `Invalid value at 'insert_data_option', "${insert}"`);
    const r = parseA1(range);
    const tab = this.tab(r.tab);
    const values = body.values;
    if (!Array.isArray(values)) throw new GoogleError(400, 'INVALID_ARGUMENT', 'Invalid values: a list of rows is required.');
    // The table: from the top of the range down to its last row holding anything.
    let last = tab.rows.length - 1;
    while (last >= 0 && !tab.rows[last]!.cells.some((c) => c !== null && c !== undefined && c !== '')) last--;
    const at = last + 1;
    if (insert === 'INSERT_ROWS') tab.rows.splice(at, 0, ...values.map(() => ({ cells: [], meta: [] })));
    const w = this.writeAt(tab, at, r.c0, values as unknown[][], option, null);
    const width = Math.max(1, ...(values as unknown[][]).map((v) => v.length));
    return {
      spreadsheetId: this.opts.spreadsheetId,
      ...(last >= 0 ? { tableRange: `${quote(tab.title)}!${colLetter(r.c0)}${r.r0 + 1}:${colLetter(r.c0 + width - 1)}${last + 1}` } : {}),
      updates: { spreadsheetId: this.opts.spreadsheetId, updatedRange: `${quote(tab.title)}!${colLetter(r.c0)}${at + 1}:${colLetter(r.c0 + width - 1)}${at + values.length}`, updatedRows: values.length, updatedColumns: w.cols.size, updatedCells: w.cells },
    };
  }

  private searchMetadata(body: Record<string, unknown>): unknown {
    const filters = body.dataFilters;
    if (!Array.isArray(filters) || filters.length === 0) throw new GoogleError(400, 'INVALID_ARGUMENT', 'Must specify at least one data filter.');
    const matched: unknown[] = [];
    for (const f of filters as { developerMetadataLookup?: Record<string, unknown> }[]) {
      if (!f.developerMetadataLookup) throw new GoogleError(400, 'INVALID_ARGUMENT', 'The fake searches by developerMetadataLookup only.');
      for (const m of this.matchMeta(f.developerMetadataLookup)) {
        matched.push({
          developerMetadata: { ...m.meta, location: { locationType: 'ROW', dimensionRange: { sheetId: m.tab.sheetId, dimension: 'ROWS', startIndex: m.row, endIndex: m.row + 1 } } },
          dataFilters: [f],
        });
      }
    }
    return matched.length > 0 ? { matchedDeveloperMetadata: matched } : {};
  }

  /** spreadsheets.batchUpdate: every request or none (Google applies them atomically). */
  private batchUpdate(body: Record<string, unknown>): unknown {
    const requests = body.requests;
    if (!Array.isArray(requests) || requests.length === 0) throw new GoogleError(400, 'INVALID_ARGUMENT', 'Must specify at least one request.');
    const snapshot = this.tabs.map((t) => ({ ...t, rows: t.rows.map((r) => ({ cells: [...r.cells], meta: r.meta.map((m) => ({ ...m })) })) }));
    const metaId = this.nextMetaId;
    try {
      const replies = (requests as Record<string, Record<string, unknown>>[]).map((r, i) => this.request(r, i));
      return { spreadsheetId: this.opts.spreadsheetId, replies };
    } catch (err) {
      this.tabs.splice(0, this.tabs.length, ...snapshot);
      this.nextMetaId = metaId;
      throw err;
    }
  }

  private request(r: Record<string, Record<string, unknown>>, i: number): unknown {
    const kinds = Object.keys(r);
    if (kinds.length !== 1) throw new GoogleError(400, 'INVALID_ARGUMENT', `Invalid requests[${i}]: exactly one kind of request is expected.`);
    const kind = kinds[0]!;
    const q = r[kind]!;
    switch (kind) {
      case 'insertDimension':
      case 'deleteDimension': {
        const range = q.range as { sheetId: number; dimension: string; startIndex: number; endIndex: number };
        if (range.dimension !== 'ROWS') throw new GoogleError(400, 'INVALID_ARGUMENT', 'The fake inserts and deletes rows only.');
        const tab = this.tabById(range.sheetId);
        if (!(range.endIndex > range.startIndex)) throw new GoogleError(400, 'INVALID_ARGUMENT', `Invalid requests[${i}].${kind}: endIndex must be greater than startIndex.`);
        if (kind === 'insertDimension') tab.rows.splice(range.startIndex, 0, ...Array.from({ length: range.endIndex - range.startIndex }, () => ({ cells: [], meta: [] })));
        else tab.rows.splice(range.startIndex, range.endIndex - range.startIndex);
        return {};
      }
      case 'sortRange': {
        const range = q.range as { sheetId: number; startRowIndex?: number; endRowIndex?: number };
        const tab = this.tabById(range.sheetId);
        this.sort(tab, range.startRowIndex ?? 0, range.endRowIndex ?? tab.rows.length, q.sortSpecs as { dimensionIndex: number; sortOrder?: string }[]);
        return {};
      }
      case 'updateCells': {
        const start = q.start as { sheetId: number; rowIndex?: number; columnIndex?: number } | undefined;
        if (!start) throw new GoogleError(400, 'INVALID_ARGUMENT', `Invalid requests[${i}].updateCells: the fake needs "start".`);
        if (typeof q.fields !== 'string' || !q.fields.split(',').includes('userEnteredValue')) throw new GoogleError(400, 'INVALID_ARGUMENT', `Invalid requests[${i}].updateCells: fields is required.`);
        const tab = this.tabById(start.sheetId);
        const rows = (q.rows as { values?: { userEnteredValue?: Record<string, unknown> }[] }[]) ?? [];
        rows.forEach((row, k) => {
          const at = (start.rowIndex ?? 0) + k;
          while (tab.rows.length <= at) tab.rows.push({ cells: [], meta: [] });
          (row.values ?? []).forEach((cell, j) => {
            const v = cell.userEnteredValue;
            const value = v === undefined ? null : ((v.stringValue ?? v.numberValue ?? v.boolValue ?? v.formulaValue ?? null) as CellValue);
            const target = tab.rows[at]!;
            while (target.cells.length < (start.columnIndex ?? 0) + j) target.cells.push(null);
            target.cells[(start.columnIndex ?? 0) + j] = value;
          });
        });
        return {};
      }
      case 'createDeveloperMetadata': {
        const m = q.developerMetadata as { metadataKey?: string; metadataValue?: string; visibility?: string; location?: { dimensionRange?: { sheetId: number; dimension: string; startIndex: number; endIndex: number } } };
        if (!m?.metadataKey) throw new GoogleError(400, 'INVALID_ARGUMENT', `Invalid requests[${i}].createDeveloperMetadata: Developer metadata must have a key.`);
        if (m.visibility !== 'DOCUMENT' && m.visibility !== 'PROJECT') throw new GoogleError(400, 'INVALID_ARGUMENT', `Invalid requests[${i}].createDeveloperMetadata: Developer metadata must specify a visibility.`);
        const d = m.location?.dimensionRange;
        if (!d || d.dimension !== 'ROWS' || d.endIndex - d.startIndex !== 1) throw new GoogleError(400, 'INVALID_ARGUMENT', `Invalid requests[${i}].createDeveloperMetadata: the fake keeps metadata on a single row.`);
        const tab = this.tabById(d.sheetId);
        while (tab.rows.length <= d.startIndex) tab.rows.push({ cells: [], meta: [] });
        const meta: Meta = { metadataId: this.nextMetaId++, metadataKey: m.metadataKey, metadataValue: m.metadataValue ?? '', visibility: m.visibility };
        tab.rows[d.startIndex]!.meta.push(meta);
        return { createDeveloperMetadata: { developerMetadata: { ...meta, location: { locationType: 'ROW', dimensionRange: d } } } };
      }
      default:
        throw new GoogleError(400, 'INVALID_ARGUMENT', `Invalid requests[${i}]: the fake does not implement ${kind}.`);
    }
  }

  private sort(tab: Tab, from: number, to: number, specs: { dimensionIndex: number; sortOrder?: string }[]): void {
    const part = tab.rows.slice(from, to);
    const cmp = (a: CellValue, b: CellValue) => {
      const ea = a === null || a === undefined || a === '';
      const eb = b === null || b === undefined || b === '';
      if (ea || eb) return ea === eb ? 0 : ea ? 1 : -1;
      if (typeof a === 'number' && typeof b === 'number') return a - b;
      return String(a).localeCompare(String(b));
    };
    part.sort((x, y) => {
      for (const s of specs) {
        const c = cmp(x.cells[s.dimensionIndex] ?? null, y.cells[s.dimensionIndex] ?? null);
        if (c !== 0) return s.sortOrder === 'DESCENDING' ? -c : c;
      }
      return 0;
    });
    tab.rows.splice(from, part.length, ...part);
  }
}
