/**
 * In-memory fakes of the Apps Script services the add-on uses, strict where Apps Script is strict:
 * setValues needs the range's exact shape, developer metadata only goes on whole rows, a property
 * value over 9 KB or a store over 500 KB is refused, everyMinutes takes only 1, 5, 10, 15 or 30.
 * Rows are objects that carry their cells and metadata, so inserting, deleting and sorting rows
 * moves metadata with the row exactly as Sheets does.
 *
 * Also as Apps Script does it: a text set with setValue(s) is read as if typed (numeric text becomes
 * a number, a leading "=" — or "+"/"-" before something that is not a number — makes a formula, a
 * leading apostrophe keeps the rest as plain text); an installable trigger belongs to the user who
 * made it and only they see it in getProjectTriggers, while every user's edit trigger fires for
 * every edit (`fireEdit`); locks are per execution (`inExecution` runs code as another execution, as
 * when a second edit arrives while the first is still waiting for the hub).
 */
import crypto from 'node:crypto';
import type {
  ChartOptionsLike,
  ClockTriggerBuilderLike,
  DataValidationBuilderLike,
  DataValidationLike,
  DeveloperMetadataLike,
  EditEvent,
  EmbeddedChartBuilderLike,
  EmbeddedChartLike,
  FetchParams,
  HtmlOutputLike,
  HttpResponseLike,
  LockLike,
  MenuLike,
  PromptResponseLike,
  PropertiesLike,
  ProtectionLike,
  RangeLike,
  Services,
  SheetLike,
  SpreadsheetLike,
  SpreadsheetTriggerBuilderLike,
  TriggerLike,
  UiLike,
  UserLike,
  UtilitiesLike,
} from '../../../appsscript/src/gas';

// ---------------------------------------------------------------- Spreadsheet

interface Cell {
  value: unknown;
  /** Set when a text written into the cell was taken as a formula (the fake does not evaluate it). */
  formula?: string;
  note: string;
  validation: FakeValidation | null;
  numberFormat: string;
  bold: boolean;
}

class FakeRow {
  cells: Cell[] = [];
  metadata: FakeMetadata[] = [];
  cell(col: number): Cell {
    return (this.cells[col - 1] ??= { value: '', note: '', validation: null, numberFormat: '', bold: false });
  }
}

class FakeMetadata implements DeveloperMetadataLike {
  constructor(
    private readonly sheet: FakeSheet,
    readonly row: FakeRow,
    private readonly key: string,
    private value: string,
  ) {}
  getKey() {
    return this.key;
  }
  getValue() {
    return this.value;
  }
  setValue(v: string) {
    this.value = v;
    return this;
  }
  getLocation() {
    return {
      getRow: () => {
        const i = this.sheet.rows.indexOf(this.row);
        return i < 0 ? null : this.sheet.getRange(`${i + 1}:${i + 1}`);
      },
    };
  }
  remove() {
    this.row.metadata = this.row.metadata.filter((m) => m !== this);
  }
}

export class FakeValidation implements DataValidationLike {
  constructor(
    readonly criteria: string,
    readonly args: unknown[],
    readonly allowInvalid: boolean,
    readonly helpText: string,
  ) {}
  getHelpText() {
    return this.helpText;
  }
}

class FakeValidationBuilder implements DataValidationBuilderLike {
  private criteria = '';
  private args: unknown[] = [];
  private allowInvalid = true;
  private helpText = '';
  requireNumberGreaterThanOrEqualTo(n: number) {
    this.criteria = 'NUMBER_GREATER_THAN_OR_EQUAL_TO';
    this.args = [n];
    return this;
  }
  setAllowInvalid(b: boolean) {
    this.allowInvalid = b;
    return this;
  }
  setHelpText(t: string) {
    this.helpText = t;
    return this;
  }
  build() {
    if (!this.criteria) throw new Error('Exception: a data validation rule needs a criterion.');
    return new FakeValidation(this.criteria, this.args, this.allowInvalid, this.helpText);
  }
}

export class FakeProtection implements ProtectionLike {
  description = '';
  warningOnly = false;
  constructor(
    readonly sheet: FakeSheet,
    readonly type: 'RANGE' | 'SHEET',
    readonly range: FakeRange,
  ) {}
  getDescription() {
    return this.description;
  }
  setDescription(d: string) {
    this.description = d;
    return this;
  }
  setWarningOnly(w: boolean) {
    this.warningOnly = w;
    return this;
  }
  getRange() {
    return this.range;
  }
  remove() {
    this.sheet.protections = this.sheet.protections.filter((p) => p !== this);
  }
}

const colLetters = (n: number): string => {
  let s = '';
  for (; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
};
const colNumber = (letters: string): number => [...letters.toUpperCase()].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0);

export class FakeRange implements RangeLike {
  constructor(
    readonly sheet: FakeSheet,
    readonly row: number,
    readonly col: number,
    readonly numRows: number,
    readonly numCols: number,
    readonly wholeRow = false,
  ) {
    if (row < 1 || col < 1 || numRows < 1 || numCols < 1) throw new Error(`Exception: The coordinates of the range are outside the dimensions of the sheet (${row},${col},${numRows},${numCols}).`);
  }
  getRow() {
    return this.row;
  }
  getColumn() {
    return this.col;
  }
  getNumRows() {
    return this.numRows;
  }
  getNumColumns() {
    return this.numCols;
  }
  getSheet() {
    return this.sheet;
  }
  getA1Notation() {
    if (this.wholeRow) return `${this.row}:${this.row + this.numRows - 1}`;
    const a = `${colLetters(this.col)}${this.row}`;
    return this.numRows === 1 && this.numCols === 1 ? a : `${a}:${colLetters(this.col + this.numCols - 1)}${this.row + this.numRows - 1}`;
  }
  private each(fn: (cell: Cell, r: number, c: number) => void) {
    for (let r = 0; r < this.numRows; r++) for (let c = 0; c < this.numCols; c++) fn(this.sheet.row(this.row + r).cell(this.col + c), r, c);
  }
  getValue() {
    return this.sheet.row(this.row).cell(this.col).value;
  }
  getValues() {
    const out: unknown[][] = Array.from({ length: this.numRows }, () => new Array(this.numCols).fill(''));
    this.each((cell, r, c) => (out[r]![c] = cell.value));
    return out;
  }
  setValue(v: unknown) {
    this.each((cell) => setCell(cell, v));
    this.sheet.ss.log.push({ op: 'setValue', a1: this.getA1Notation(), value: v });
    return this;
  }
  setValues(values: unknown[][]) {
    if (values.length !== this.numRows || values.some((r) => r.length !== this.numCols)) {
      throw new Error(`Exception: The number of rows or columns in the data does not match the range (${values.length}x${values[0]?.length ?? 0} for ${this.numRows}x${this.numCols}).`);
    }
    this.sheet.growTo(this.row + this.numRows - 1, this.col + this.numCols - 1);
    this.each((cell, r, c) => setCell(cell, values[r]![c]));
    return this;
  }
  /** The formula of the top-left cell ("" when it holds a value), as Range.getFormula. */
  getFormula() {
    return this.sheet.row(this.row).cell(this.col).formula ?? '';
  }
  /** Every formula in the range (for assertions: [] when none). */
  formulas(): string[] {
    const out: string[] = [];
    this.each((cell) => cell.formula && out.push(cell.formula));
    return out;
  }
  getNote() {
    return this.sheet.row(this.row).cell(this.col).note;
  }
  setNote(note: string | null) {
    this.each((cell) => (cell.note = note ?? ''));
    return this;
  }
  setFontWeight(w: string | null) {
    this.each((cell) => (cell.bold = w === 'bold'));
    return this;
  }
  clear() {
    this.each((cell) => {
      cell.value = '';
      delete cell.formula;
      cell.numberFormat = '';
      cell.bold = false;
    });
    this.sheet.ss.log.push({ op: 'clear', a1: this.getA1Notation(), value: null });
    return this;
  }
  setNumberFormat(f: string) {
    this.each((cell) => (cell.numberFormat = f));
    return this;
  }
  getNumberFormat() {
    return this.sheet.row(this.row).cell(this.col).numberFormat;
  }
  isBold() {
    return this.sheet.row(this.row).cell(this.col).bold;
  }
  setDataValidation(rule: DataValidationLike | null) {
    this.each((cell) => (cell.validation = rule as FakeValidation | null));
    return this;
  }
  getDataValidation() {
    return this.sheet.row(this.row).cell(this.col).validation;
  }
  protect() {
    const p = new FakeProtection(this.sheet, 'RANGE', this);
    this.sheet.protections.push(p);
    return p;
  }
  addDeveloperMetadata(key: string, value: string) {
    if (!this.wholeRow || this.numRows !== 1) throw new Error('Exception: Adding developer metadata to arbitrary ranges is not currently supported. Developer metadata may only be added to the top-level spreadsheet, an individual sheet, or an entire row or column.');
    const row = this.sheet.row(this.row);
    row.metadata.push(new FakeMetadata(this.sheet, row, key, value));
    return this;
  }
  getDeveloperMetadata() {
    if (!this.wholeRow) return [];
    const out: DeveloperMetadataLike[] = [];
    for (let r = this.row; r < this.row + this.numRows; r++) out.push(...this.sheet.row(r).metadata);
    return out;
  }
}

/** What Sheets stores when a value is typed or set: numeric text becomes a number; a leading apostrophe keeps text as text. */
export function sheetValue(v: unknown): unknown {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string' && v.startsWith("'")) return v.slice(1);
  if (typeof v === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$/.test(v)) return Number(v);
  return v;
}

/** True when Sheets would take the text as a formula: "=…", or "+"/"-" before something that is not a number. */
export function readsAsFormula(v: unknown): v is string {
  return typeof v === 'string' && (v.startsWith('=') || (/^[+-]/.test(v) && !/^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$/.test(v)));
}

function setCell(cell: Cell, v: unknown): void {
  if (readsAsFormula(v)) {
    cell.formula = v.startsWith('=') ? v : `=${v}`;
    cell.value = '#FORMULA';
    return;
  }
  delete cell.formula;
  cell.value = sheetValue(v);
}

// ---------------------------------------------------------------- Embedded charts

/** An embedded chart as Sheets keeps it: what getCharts returns is a copy; modify().build() + updateChart changes it. */
export class FakeChart implements EmbeddedChartLike {
  constructor(
    readonly sheet: FakeSheet,
    readonly id: number | null,
    readonly type: unknown,
    readonly ranges: FakeRange[],
    readonly options: Record<string, unknown>,
    readonly anchor: { row: number; column: number; offsetX: number; offsetY: number },
    readonly numHeaders: number,
  ) {}
  getChartId() {
    return this.id;
  }
  getContainerInfo() {
    return { getAnchorRow: () => this.anchor.row, getAnchorColumn: () => this.anchor.column };
  }
  getOptions(): ChartOptionsLike {
    return { get: (o: string) => this.options[o] ?? null };
  }
  getRanges() {
    return [...this.ranges];
  }
  modify() {
    return new FakeChartBuilder(this.sheet, this);
  }
  /** For assertions: the chart in plain data. */
  summary() {
    return { type: this.type, title: this.options['title'], ranges: this.ranges.map((r) => r.getA1Notation()), anchor: [this.anchor.row, this.anchor.column] };
  }
}

export class FakeChartBuilder implements EmbeddedChartBuilderLike {
  private type: unknown;
  private ranges: FakeRange[];
  private options: Record<string, unknown>;
  private anchor: FakeChart['anchor'];
  private numHeaders: number;
  constructor(
    private readonly sheet: FakeSheet,
    private readonly from: FakeChart | null,
  ) {
    this.type = from?.type ?? null;
    this.ranges = [...(from?.ranges ?? [])];
    this.options = { ...(from?.options ?? {}) };
    this.anchor = { ...(from?.anchor ?? { row: 1, column: 1, offsetX: 0, offsetY: 0 }) };
    this.numHeaders = from?.numHeaders ?? -1;
  }
  addRange(range: RangeLike) {
    if (!(range instanceof FakeRange) || range.sheet !== this.sheet) throw new Error('Exception: the range must be on the chart’s sheet.');
    this.ranges.push(range);
    return this;
  }
  clearRanges() {
    this.ranges = [];
    return this;
  }
  setChartType(type: unknown) {
    if (!['LINE', 'COLUMN', 'BAR'].includes(String(type))) throw new Error(`Exception: unknown chart type ${String(type)}`);
    this.type = type;
    return this;
  }
  setNumHeaders(n: number) {
    this.numHeaders = n;
    return this;
  }
  setOption(option: string, value: unknown) {
    this.options[option] = value;
    return this;
  }
  setPosition(row: number, column: number, offsetX: number, offsetY: number) {
    if (row < 1 || column < 1) throw new Error('Exception: the chart’s anchor must be a cell of the sheet.');
    this.anchor = { row, column, offsetX, offsetY };
    return this;
  }
  build() {
    if (this.type === null) throw new Error('Exception: a chart needs a chart type.');
    return new FakeChart(this.sheet, this.from?.id ?? null, this.type, [...this.ranges], { ...this.options }, { ...this.anchor }, this.numHeaders);
  }
}

export class FakeSheet implements SheetLike {
  rows: FakeRow[] = [];
  charts: FakeChart[] = [];
  private nextChartId = 1;
  protections: FakeProtection[] = [];
  frozenRows = 0;
  maxRows = 1000;
  maxColumns = 26;
  constructor(
    readonly ss: FakeSpreadsheet,
    private readonly name: string,
    private readonly id: number,
  ) {}
  row(n: number): FakeRow {
    while (this.rows.length < n) this.rows.push(new FakeRow());
    return this.rows[n - 1]!;
  }
  growTo(rows: number, cols: number) {
    this.maxRows = Math.max(this.maxRows, rows);
    this.maxColumns = Math.max(this.maxColumns, cols);
  }
  getName() {
    return this.name;
  }
  getSheetId() {
    return this.id;
  }
  getLastRow() {
    for (let i = this.rows.length - 1; i >= 0; i--) if (this.rows[i]!.cells.some((c) => c && c.value !== '')) return i + 1;
    return 0;
  }
  getLastColumn() {
    let last = 0;
    for (const r of this.rows) r.cells.forEach((c, i) => c && c.value !== '' && (last = Math.max(last, i + 1)));
    return last;
  }
  getMaxRows() {
    return this.maxRows;
  }
  getMaxColumns() {
    return this.maxColumns;
  }
  getRange(a: string | number, col?: number, numRows?: number, numCols?: number): FakeRange {
    if (typeof a === 'number') return new FakeRange(this, a, col!, numRows ?? 1, numCols ?? 1);
    const whole = /^(\d+):(\d+)$/.exec(a);
    if (whole) return new FakeRange(this, Number(whole[1]), 1, Number(whole[2]) - Number(whole[1]) + 1, this.maxColumns, true);
    const m = /^([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?$/i.exec(a);
    if (!m) throw new Error(`Exception: Range not found: ${a}`);
    const c1 = colNumber(m[1]!);
    const r1 = Number(m[2]);
    const c2 = m[3] ? colNumber(m[3]) : c1;
    const r2 = m[4] ? Number(m[4]) : r1;
    return new FakeRange(this, r1, c1, r2 - r1 + 1, c2 - c1 + 1);
  }
  setFrozenRows(n: number) {
    this.frozenRows = n;
  }
  getProtections(type: unknown) {
    return this.protections.filter((p) => p.type === type);
  }
  protect() {
    const existing = this.protections.find((p) => p.type === 'SHEET');
    if (existing) return existing; // Sheets returns the sheet's protection if there is one
    const p = new FakeProtection(this, 'SHEET', this.getRange(1, 1, this.maxRows, this.maxColumns));
    this.protections.push(p);
    return p;
  }
  createDeveloperMetadataFinder() {
    let key: string | null = null;
    const finder = {
      withKey: (k: string) => {
        key = k;
        return finder;
      },
      find: () => this.rows.flatMap((r) => r.metadata).filter((m) => key === null || m.getKey() === key),
    };
    return finder;
  }

  newChart() {
    return new FakeChartBuilder(this, null);
  }
  getCharts() {
    return [...this.charts];
  }
  insertChart(chart: EmbeddedChartLike) {
    const c = chart as FakeChart;
    if (c.id !== null) throw new Error('Exception: this chart is in the sheet already; use updateChart.');
    if (c.ranges.length === 0) throw new Error('Exception: a chart needs data: add a range.');
    this.charts.push(new FakeChart(this, this.nextChartId++, c.type, c.ranges, c.options, c.anchor, c.numHeaders));
  }
  updateChart(chart: EmbeddedChartLike) {
    const c = chart as FakeChart;
    const i = this.charts.findIndex((x) => x.id === c.id);
    if (c.id === null || i < 0) throw new Error('Exception: the chart to update is not in this sheet.');
    if (c.ranges.length === 0) throw new Error('Exception: a chart needs data: add a range.');
    this.charts[i] = c;
  }
  removeChart(chart: EmbeddedChartLike) {
    const before = this.charts.length;
    this.charts = this.charts.filter((x) => x.id !== chart.getChartId());
    if (before === this.charts.length) throw new Error('Exception: the chart is not in this sheet.');
  }

  // ---- test helpers: what staff do by hand
  /** Row values as the test sees them (row 1 = headers). */
  values(): unknown[][] {
    const last = this.getLastRow();
    const cols = this.getLastColumn();
    return last === 0 ? [] : this.getRange(1, 1, last, Math.max(cols, 1)).getValues();
  }
  insertRowsBefore(row: number, count = 1) {
    this.row(row);
    this.rows.splice(row - 1, 0, ...Array.from({ length: count }, () => new FakeRow()));
    this.maxRows += count;
  }
  deleteRows(row: number, count = 1) {
    this.rows.splice(row - 1, count);
    this.maxRows -= count;
  }
  /** Data > Sort range: rows 2…last by a column. */
  sortByColumn(col: number, ascending = true) {
    const last = this.getLastRow();
    const body = this.rows.slice(1, last);
    body.sort((a, b) => {
      const x = String(a.cell(col).value);
      const y = String(b.cell(col).value);
      return (ascending ? 1 : -1) * x.localeCompare(y);
    });
    this.rows.splice(1, body.length, ...body);
  }
  /** The SKU metadata per row, as {row: sku}. */
  skuMetadata(key = 'stockrelay.sku'): Record<number, string[]> {
    const out: Record<number, string[]> = {};
    this.rows.forEach((r, i) => {
      const mine = r.metadata.filter((m) => m.getKey() === key).map((m) => m.getValue() ?? '');
      if (mine.length) out[i + 1] = mine;
    });
    return out;
  }
}

export class FakeSpreadsheet implements SpreadsheetLike {
  sheets: FakeSheet[] = [];
  toasts: { message: string; title: string; seconds: number }[] = [];
  log: { op: string; a1: string; value: unknown }[] = [];
  active: FakeRange | null = null;
  /** File › Settings › Time zone. */
  timeZone = 'Etc/UTC';
  private nextId = 1;
  constructor(private readonly id = 'ss_fake_1') {}
  getId() {
    return this.id;
  }
  getSheetByName(name: string) {
    return this.sheets.find((s) => s.getName() === name) ?? null;
  }
  insertSheet(name: string) {
    if (this.getSheetByName(name)) throw new Error(`Exception: A sheet with the name "${name}" already exists. Please enter another name.`);
    const s = new FakeSheet(this, name, this.nextId++);
    this.sheets.push(s);
    return s;
  }
  getActiveSheet() {
    return this.active?.sheet ?? this.sheets[0]!;
  }
  getActiveRange() {
    return this.active;
  }
  getSpreadsheetTimeZone() {
    return this.timeZone;
  }
  toast(message: string, title: string, seconds: number) {
    this.toasts.push({ message, title, seconds });
  }
  select(sheet: string, a1: string) {
    this.active = this.getSheetByName(sheet)!.getRange(a1);
  }
}

// ---------------------------------------------------------------- UI

export class FakeUi implements UiLike {
  Button = { OK: 'OK', CANCEL: 'CANCEL', CLOSE: 'CLOSE', YES: 'YES', NO: 'NO' };
  ButtonSet = { OK: 'OK', OK_CANCEL: 'OK_CANCEL', YES_NO: 'YES_NO' };
  /** Menus added, in order: `caption` for a menu of its own (createMenu), null for an add-on menu under Extensions. */
  menus: { caption: string | null; items: ({ caption: string; fn: string } | null)[] }[] = [];
  alerts: { title: string; text: string }[] = [];
  prompts: { title: string; text: string }[] = [];
  answers: (string | null)[] = [];
  /** Answers to Yes/No questions, in order (true: Yes). */
  confirms: boolean[] = [];
  sidebars: HtmlOutputLike[] = [];
  createAddonMenu(): MenuLike {
    return this.menuBuilder(null);
  }
  createMenu(caption: string): MenuLike {
    return this.menuBuilder(caption);
  }
  private menuBuilder(caption: string | null): MenuLike {
    const items: ({ caption: string; fn: string } | null)[] = [];
    const menu: MenuLike = {
      addItem: (c, fn) => (items.push({ caption: c, fn }), menu),
      addSeparator: () => (items.push(null), menu),
      addToUi: () => void this.menus.push({ caption, items }),
    };
    return menu;
  }
  alert(title: string, text: string, buttons?: unknown) {
    this.alerts.push({ title, text });
    if (buttons === this.ButtonSet.YES_NO) {
      if (this.confirms.length === 0) throw new Error(`test: no scripted Yes/No answer for "${title}"`);
      return this.confirms.shift() ? this.Button.YES : this.Button.NO;
    }
    return this.Button.OK;
  }
  /** Answers come from `answers` in order; null is the Cancel button. */
  prompt(title: string, text: string): PromptResponseLike {
    this.prompts.push({ title, text });
    if (this.answers.length === 0) throw new Error(`test: no scripted answer for the prompt "${title}"`);
    const a = this.answers.shift()!;
    return { getSelectedButton: () => (a === null ? this.Button.CANCEL : this.Button.OK), getResponseText: () => a ?? '' };
  }
  showSidebar(html: HtmlOutputLike) {
    this.sidebars.push(html);
  }
  lastAlert() {
    return this.alerts[this.alerts.length - 1];
  }
}

// ---------------------------------------------------------------- Properties and locks

export const VALUE_LIMIT = 9 * 1024;
export const STORE_LIMIT = 500 * 1024;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

export class FakeProperties implements PropertiesLike {
  readonly map = new Map<string, string>();
  /** Called on every write (to check the lock is held). */
  onWrite: (key: string) => void = () => {};
  getProperty(k: string) {
    return this.map.get(k) ?? null;
  }
  getProperties() {
    return Object.fromEntries(this.map);
  }
  private check(next: Map<string, string>) {
    for (const [k, v] of next) {
      if (bytes(v) > VALUE_LIMIT) throw new Error(`Exception: Argument too large: value (${k}: ${bytes(v)} bytes)`);
    }
    let total = 0;
    for (const [k, v] of next) total += bytes(k) + bytes(v);
    if (total > STORE_LIMIT) throw new Error('Exception: You have exceeded the property storage quota. Please remove some properties and try again.');
  }
  setProperty(k: string, v: string) {
    return this.setProperties({ [k]: v });
  }
  setProperties(props: Record<string, string>) {
    const next = new Map(this.map);
    for (const [k, v] of Object.entries(props)) next.set(k, String(v));
    this.check(next);
    for (const [k, v] of Object.entries(props)) {
      this.onWrite(k);
      this.map.set(k, String(v));
    }
    return this;
  }
  deleteProperty(k: string) {
    this.onWrite(k);
    this.map.delete(k);
    return this;
  }
  totalBytes() {
    let t = 0;
    for (const [k, v] of this.map) t += bytes(k) + bytes(v);
    return t;
  }
}

/**
 * One lock (the document lock, or the script lock) shared by every execution. Each execution gets
 * its own handle (`handle`), as LockService gives each execution its own Lock. When another
 * execution holds it, tryLock(timeout) returns false, after (in Apps Script) waiting `timeout` ms:
 * the waits are recorded in `waitedMs`, so a test can see an edit that would have waited 30 s.
 */
export class FakeLock implements LockLike {
  /** The execution holding the lock (null: free). */
  holder: number | null = null;
  acquired = 0;
  /** Something outside the test's executions holds the lock: tryLock fails. */
  heldElsewhere = false;
  /** Timeouts of tryLock calls that failed because another execution held the lock. */
  waitedMs: number[] = [];
  constructor(
    private readonly name = 'document',
    private readonly execution: () => number = () => 0,
  ) {}
  get held() {
    return this.holder !== null;
  }
  handle(): LockLike {
    const me = this.execution();
    return { tryLock: (t: number) => this.tryAs(me, t), releaseLock: () => this.releaseAs(me) };
  }
  tryLock(timeoutInMillis = 0) {
    return this.tryAs(this.execution(), timeoutInMillis);
  }
  releaseLock() {
    this.releaseAs(this.execution());
  }
  private tryAs(me: number, timeout: number) {
    if (this.heldElsewhere || (this.holder !== null && this.holder !== me)) {
      this.waitedMs.push(timeout);
      return false;
    }
    if (this.holder === me) throw new Error(`test: the add-on asked for the ${this.name} lock it already holds (it should be re-entrant in code)`);
    this.holder = me;
    this.acquired++;
    return true;
  }
  private releaseAs(me: number) {
    if (this.holder === me) this.holder = null;
  }
}

// ---------------------------------------------------------------- Triggers

export interface FakeTrigger extends TriggerLike {
  /** The user who made it: the only one who sees it, and the one it runs as. */
  owner: string;
  type: 'ON_EDIT' | 'ON_CHANGE' | 'CLOCK';
  source: string | null;
  minutes: number | null;
  days?: number | null;
  hour?: number | null;
  timeZone?: string | null;
}

export class FakeScriptApp {
  /** Every user's triggers (Apps Script shows each user only their own). */
  triggers: FakeTrigger[] = [];
  private next = 1;
  constructor(private readonly currentUser: () => string = () => 'mia@gallery.example') {}
  getProjectTriggers() {
    const me = this.currentUser();
    return this.triggers.filter((t) => t.owner === me);
  }
  deleteTrigger(t: TriggerLike) {
    const before = this.triggers.length;
    const me = this.currentUser();
    this.triggers = this.triggers.filter((x) => !(x.getUniqueId() === t.getUniqueId() && x.owner === me));
    if (before === this.triggers.length) throw new Error('Exception: the trigger does not exist');
  }
  newTrigger(handler: string) {
    const make = (type: FakeTrigger['type'], source: string | null, minutes: number | null): FakeTrigger => {
      const id = `40341240849599${String(this.next++).padStart(5, '0')}`;
      const t: FakeTrigger = { owner: this.currentUser(), type, source, minutes, getHandlerFunction: () => handler, getUniqueId: () => id };
      this.triggers.push(t);
      return t;
    };
    return {
      forSpreadsheet: (key: string): SpreadsheetTriggerBuilderLike => {
        let type: FakeTrigger['type'] | null = null;
        const b: SpreadsheetTriggerBuilderLike = {
          onEdit: () => ((type = 'ON_EDIT'), b),
          onChange: () => ((type = 'ON_CHANGE'), b),
          create: () => {
            if (!type) throw new Error('Exception: choose an event for the trigger');
            return make(type, key, null);
          },
        };
        return b;
      },
      timeBased: (): ClockTriggerBuilderLike => {
        let minutes: number | null = null;
        let days: number | null = null;
        let hour: number | null = null;
        let timeZone: string | null = null;
        const b: ClockTriggerBuilderLike = {
          everyMinutes: (n: number) => {
            if (![1, 5, 10, 15, 30].includes(n)) throw new Error('Exception: The value you passed to everyMinutes must be 1, 5, 10, 15 or 30.');
            minutes = n;
            return b;
          },
          everyDays: (n: number) => {
            if (!Number.isInteger(n) || n < 1) throw new Error('Exception: everyDays needs a whole number of days, 1 or more.');
            days = n;
            return b;
          },
          atHour: (h: number) => {
            if (!Number.isInteger(h) || h < 0 || h > 23) throw new Error('Exception: atHour takes an hour from 0 to 23.');
            hour = h;
            return b;
          },
          inTimezone: (tz: string) => {
            timeZone = tz;
            return b;
          },
          create: () => {
            if ((minutes === null) === (days === null)) throw new Error('Exception: choose how often the trigger runs (every minutes or every days, not both)');
            if (hour !== null && days === null) throw new Error('Exception: atHour needs everyDays or everyWeeks.');
            const t = make('CLOCK', null, minutes);
            Object.assign(t, { days, hour, timeZone });
            return t;
          },
        };
        return b;
      },
    };
  }
  count(handler: string) {
    return this.triggers.filter((t) => t.getHandlerFunction() === handler).length;
  }
}

// ---------------------------------------------------------------- Utilities, HTTP

const toSigned = (buf: Uint8Array) => Array.from(buf, (b) => (b > 127 ? b - 256 : b));
const toBuffer = (bytes: number[]) => Buffer.from(bytes.map((b) => (b < 0 ? b + 256 : b)));

export const fakeUtilities: UtilitiesLike = {
  base64Decode: (s) => toSigned(Buffer.from(s, 'base64')),
  base64Encode: (b) => toBuffer(b).toString('base64'),
  computeHmacSha256Signature: (value, key) => toSigned(crypto.createHmac('sha256', toBuffer(key)).update(toBuffer(value)).digest()),
  newBlob: (data) => ({ getBytes: () => toSigned(Buffer.from(data, 'utf8')) }),
  getUuid: () => crypto.randomUUID(),
  formatDate: (date, timeZone, format) => formatDate(date, timeZone, format),
};

/** Utilities.formatDate for the patterns the add-on uses: yyyy, MMM, MM, dd, d, HH, mm. */
export function formatDate(date: Date, timeZone: string, format: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>;
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return format.replace(/yyyy|MMM|MM|dd|d|HH|mm/g, (t) => {
    switch (t) {
      case 'yyyy':
        return parts.year!;
      case 'MMM':
        return months[Number(parts.month) - 1]!;
      case 'MM':
        return parts.month!;
      case 'dd':
        return parts.day!;
      case 'd':
        return String(Number(parts.day));
      case 'HH':
        return parts.hour!;
      default:
        return parts.minute!;
    }
  });
}

export interface HttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

export interface HttpAnswer {
  status: number;
  body: string;
}

/** A hub in a function: answers each request, or throws as UrlFetchApp does when nothing answers. */
export type HttpHandler = (req: HttpRequest) => HttpAnswer;

export class FakeUrlFetchApp {
  requests: HttpRequest[] = [];
  constructor(public handler: HttpHandler) {}
  fetch(url: string, params: FetchParams): HttpResponseLike {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(params.headers ?? {})) headers[k.toLowerCase()] = v;
    if (params.contentType) headers['content-type'] = params.contentType;
    const req: HttpRequest = { url, method: (params.method ?? 'get').toUpperCase(), headers, body: params.payload ?? '' };
    this.requests.push(req);
    const res = this.handler(req);
    if (!params.muteHttpExceptions && res.status >= 400) throw new Error(`Exception: Request failed for ${url} returned code ${res.status}.`);
    return { getResponseCode: () => res.status, getContentText: () => res.body };
  }
  relays(): { id: string; body: any }[] {
    return this.requests.filter((r) => r.url.endsWith('/v1/relay')).map((r) => ({ id: r.headers['webhook-id']!, body: JSON.parse(r.body) }));
  }
}

export const unreachable: HttpHandler = (req) => {
  throw new Error(`Exception: Address unavailable: ${req.url}`);
};

// ---------------------------------------------------------------- All together

export interface FakeEnv {
  services: Services;
  ss: FakeSpreadsheet;
  ui: FakeUi;
  props: FakeProperties;
  /** The document lock. */
  lock: FakeLock;
  /** The script lock (the add-on sends relays under it). */
  scriptLock: FakeLock;
  scriptApp: FakeScriptApp;
  fetch: FakeUrlFetchApp;
  /** The person at the keyboard (the active user). */
  user: { email: string };
  /** Who the running code runs as, when not the active user (a trigger runs as its owner). */
  runningAs: { email: string | null };
  /** The execution running now (each entry point call is one; `inExecution` starts another). */
  execution: { id: number };
  htmlFiles: string[];
}

/** Marks a handler whose requests are made from this machine (a hub on 127.0.0.1 is reachable). */
export const FROM_THIS_MACHINE = Symbol('fetches from this machine');

export function fakeEnv(opts: { handler?: HttpHandler; now?: () => Date; email?: string; noDocument?: boolean; fetchesFrom?: 'google' | 'this machine' } = {}): FakeEnv {
  const ss = new FakeSpreadsheet();
  const ui = new FakeUi();
  const props = new FakeProperties();
  const execution = { id: 1 };
  const lock = new FakeLock('document', () => execution.id);
  const scriptLock = new FakeLock('script', () => execution.id);
  const user = { email: opts.email ?? 'mia@gallery.example' };
  const runningAs: { email: string | null } = { email: null };
  const scriptApp = new FakeScriptApp(() => runningAs.email ?? user.email);
  const fetch = new FakeUrlFetchApp(opts.handler ?? unreachable);
  const htmlFiles: string[] = [];
  const userObj: UserLike = { getEmail: () => user.email };
  const effective: UserLike = { getEmail: () => runningAs.email ?? user.email };
  // Google's servers make UrlFetchApp's requests; a test hub on 127.0.0.1 is reached from this machine.
  const fetchesFrom = opts.fetchesFrom ?? (opts.handler && (opts.handler as { [FROM_THIS_MACHINE]?: boolean })[FROM_THIS_MACHINE] ? 'this machine' : 'google');
  const services: Services = {
    spreadsheetApp: {
      ProtectionType: { RANGE: 'RANGE', SHEET: 'SHEET' },
      getActiveSpreadsheet: () => (opts.noDocument ? null : ss),
      getUi: () => ui,
      newDataValidation: () => new FakeValidationBuilder(),
    },
    urlFetchApp: fetch,
    propertiesService: { getDocumentProperties: () => (opts.noDocument ? null : props) },
    lockService: { getDocumentLock: () => (opts.noDocument ? null : lock.handle()), getScriptLock: () => scriptLock.handle() },
    scriptApp,
    utilities: fakeUtilities,
    htmlService: {
      createHtmlOutputFromFile: (name: string) => {
        htmlFiles.push(name);
        const out: HtmlOutputLike & { title: string; name: string } = { name, title: '', setTitle: (t: string) => ((out.title = t), out) };
        return out;
      },
    },
    session: { getActiveUser: () => userObj, getEffectiveUser: () => effective },
    charts: { ChartType: { LINE: 'LINE', COLUMN: 'COLUMN', BAR: 'BAR' } },
    now: opts.now ?? (() => new Date()),
    fetchesFrom,
  };
  return { services, ss, ui, props, lock, scriptLock, scriptApp, fetch, user, runningAs, execution, htmlFiles };
}

let executions = 100;

/** Runs `fn` as another execution of the script (its own locks), as Apps Script runs a second edit's trigger meanwhile. */
export function inExecution<T>(env: FakeEnv, fn: () => T): T {
  const before = env.execution.id;
  env.execution.id = ++executions;
  try {
    return fn();
  } finally {
    env.execution.id = before;
  }
}

/**
 * What Apps Script does on an edit: every installable edit trigger of the spreadsheet fires, each in
 * its own execution, running as the user who made it, with its own triggerUid in the event.
 */
export function fireEdit(env: FakeEnv, addon: { onSheetEdit(e: EditEvent): void }, e: EditEvent): number {
  const edits = env.scriptApp.triggers.filter((t) => t.type === 'ON_EDIT' && t.getHandlerFunction() === 'onSheetEdit');
  for (const t of edits) {
    const was = env.runningAs.email;
    env.runningAs.email = t.owner;
    try {
      inExecution(env, () => addon.onSheetEdit({ ...e, triggerUid: t.getUniqueId() }));
    } finally {
      env.runningAs.email = was;
    }
  }
  return edits.length;
}

/** Every time-driven trigger for `handler` fires once (each in its own execution, as its owner). */
export function fireClock(env: FakeEnv, addon: Record<string, unknown>, handler: string): number {
  const clocks = env.scriptApp.triggers.filter((t) => t.type === 'CLOCK' && t.getHandlerFunction() === handler);
  for (const t of clocks) {
    const was = env.runningAs.email;
    env.runningAs.email = t.owner;
    try {
      inExecution(env, () => (addon[handler] as (e: unknown) => void)({ triggerUid: t.getUniqueId() }));
    } finally {
      env.runningAs.email = was;
    }
  }
  return clocks.length;
}

/**
 * Types into the sheet as a person would and builds the onEdit event Apps Script sends:
 * a single cell gets `value` and `oldValue` (as text; no oldValue when the cell was empty),
 * several cells get neither.
 */
export function typeInto(env: FakeEnv, sheetName: string, a1: string, values: unknown[][] | unknown): EditEvent {
  const sheet = env.ss.getSheetByName(sheetName)!;
  const range = sheet.getRange(a1);
  const grid = Array.isArray(values) ? (values as unknown[][]) : [[values]];
  const single = range.getNumRows() === 1 && range.getNumColumns() === 1;
  const old = range.getValue();
  range.setValues(grid);
  const user: UserLike = { getEmail: () => env.user.email };
  if (!single) return { range, user };
  const text = (v: unknown) => (v === '' || v === null || v === undefined ? undefined : String(v));
  const e: EditEvent = { range, user };
  const nv = text(grid[0]![0]);
  const ov = text(old);
  if (nv !== undefined) e.value = nv;
  if (ov !== undefined) e.oldValue = ov;
  return e;
}

/**
 * Pastes into the sheet (Ctrl+V, fill-down, drag) and builds the onEdit event Apps Script sends for
 * it: no `value` and no `oldValue`, even when the paste covers one cell.
 */
export function pasteInto(env: FakeEnv, sheetName: string, a1: string, values: unknown[][] | unknown): EditEvent {
  const range = env.ss.getSheetByName(sheetName)!.getRange(a1);
  range.setValues(Array.isArray(values) ? (values as unknown[][]) : [[values]]);
  return { range, user: { getEmail: () => env.user.email } };
}
