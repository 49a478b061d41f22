/**
 * The parts of Apps Script the add-on uses, as small interfaces. The bundle passes the real
 * services (`main.ts`); tests pass in-memory fakes (`test/addon/fakes`). `gas-types-check.ts`
 * proves, against @types/google-apps-script, that the real services fit these interfaces.
 * Enum values (button, protection type) pass through as `unknown`.
 */
import type { UtilitiesLike as SignUtilities } from './relay/sign';

export interface UtilitiesLike extends SignUtilities {
  getUuid(): string;
  /** Formats a date in a time zone with a SimpleDateFormat pattern ("yyyy-MM-dd"). */
  formatDate(date: Date, timeZone: string, format: string): string;
}

export interface MenuLike {
  addItem(caption: string, functionName: string): MenuLike;
  addSeparator(): MenuLike;
  addToUi(): void;
}

export interface PromptResponseLike {
  getSelectedButton(): unknown;
  getResponseText(): string;
}

export interface UiLike {
  Button: { OK: unknown; CANCEL: unknown; CLOSE: unknown; YES: unknown; NO: unknown };
  ButtonSet: { OK: unknown; OK_CANCEL: unknown; YES_NO: unknown };
  createAddonMenu(): MenuLike;
  /** A menu of its own in the menu bar, with this caption (whatever the script project is called). */
  createMenu(caption: string): MenuLike;
  alert(title: string, prompt: string, buttons: unknown): unknown;
  prompt(title: string, prompt: string, buttons: unknown): PromptResponseLike;
  showSidebar(userInterface: HtmlOutputLike): void;
}

export interface DeveloperMetadataLocationLike {
  getRow(): RangeLike | null;
}

export interface DeveloperMetadataLike {
  getKey(): string;
  getValue(): string | null;
  setValue(value: string): DeveloperMetadataLike;
  getLocation(): DeveloperMetadataLocationLike;
  remove(): void;
}

export interface DeveloperMetadataFinderLike {
  withKey(key: string): DeveloperMetadataFinderLike;
  find(): DeveloperMetadataLike[];
}

export interface ProtectionLike {
  getDescription(): string;
  setDescription(description: string): ProtectionLike;
  setWarningOnly(warningOnly: boolean): ProtectionLike;
  getRange(): RangeLike;
  remove(): void;
}

export interface DataValidationLike {
  getHelpText(): string;
}

export interface DataValidationBuilderLike {
  requireNumberGreaterThanOrEqualTo(number: number): DataValidationBuilderLike;
  setAllowInvalid(allowInvalidData: boolean): DataValidationBuilderLike;
  setHelpText(helpText: string): DataValidationBuilderLike;
  build(): DataValidationLike;
}

export interface RangeLike {
  getRow(): number;
  getColumn(): number;
  getNumRows(): number;
  getNumColumns(): number;
  getSheet(): SheetLike;
  getA1Notation(): string;
  getValue(): unknown;
  getValues(): unknown[][];
  setValue(value: unknown): RangeLike;
  setValues(values: unknown[][]): RangeLike;
  /** Clears contents and formats (not notes, validation or protections). */
  clear(): RangeLike;
  setNumberFormat(numberFormat: string): RangeLike;
  getNote(): string;
  setNote(note: string | null): RangeLike;
  setFontWeight(fontWeight: string | null): RangeLike;
  setDataValidation(rule: DataValidationLike | null): RangeLike;
  getDataValidation(): DataValidationLike | null;
  protect(): ProtectionLike;
  addDeveloperMetadata(key: string, value: string): RangeLike;
  getDeveloperMetadata(): DeveloperMetadataLike[];
}

/** Where an embedded chart is anchored (its top-left cell). */
export interface ContainerInfoLike {
  getAnchorRow(): number;
  getAnchorColumn(): number;
}

export interface ChartOptionsLike {
  get(option: string): unknown;
}

/** `sheet.newChart()` or `chart.modify()`: nothing changes in the sheet until insertChart/updateChart. */
export interface EmbeddedChartBuilderLike {
  addRange(range: RangeLike): EmbeddedChartBuilderLike;
  clearRanges(): EmbeddedChartBuilderLike;
  /** A value of Charts.ChartType. */
  setChartType(type: unknown): EmbeddedChartBuilderLike;
  setNumHeaders(headers: number): EmbeddedChartBuilderLike;
  setOption(option: string, value: unknown): EmbeddedChartBuilderLike;
  setPosition(anchorRowPos: number, anchorColPos: number, offsetX: number, offsetY: number): EmbeddedChartBuilderLike;
  build(): EmbeddedChartLike;
}

export interface EmbeddedChartLike {
  getChartId(): number | null;
  getContainerInfo(): ContainerInfoLike;
  getOptions(): ChartOptionsLike;
  getRanges(): RangeLike[];
  modify(): EmbeddedChartBuilderLike;
}

export interface SheetLike {
  getName(): string;
  getSheetId(): number;
  getLastRow(): number;
  getLastColumn(): number;
  getMaxRows(): number;
  getMaxColumns(): number;
  getRange(a1Notation: string): RangeLike;
  getRange(row: number, column: number, numRows: number, numColumns: number): RangeLike;
  setFrozenRows(rows: number): void;
  getProtections(type: unknown): ProtectionLike[];
  protect(): ProtectionLike;
  createDeveloperMetadataFinder(): DeveloperMetadataFinderLike;
  newChart(): EmbeddedChartBuilderLike;
  getCharts(): EmbeddedChartLike[];
  insertChart(chart: EmbeddedChartLike): void;
  updateChart(chart: EmbeddedChartLike): void;
  removeChart(chart: EmbeddedChartLike): void;
}

export interface SpreadsheetLike {
  getId(): string;
  getSheetByName(name: string): SheetLike | null;
  insertSheet(sheetName: string): SheetLike;
  getActiveSheet(): SheetLike;
  getActiveRange(): RangeLike | null;
  /** The spreadsheet's time zone (File › Settings), e.g. "Australia/Sydney": dates in cells are midnight there. */
  getSpreadsheetTimeZone(): string;
  toast(msg: string, title: string, timeoutSeconds: number): void;
}

export interface SpreadsheetAppLike {
  ProtectionType: { RANGE: unknown; SHEET: unknown };
  getActiveSpreadsheet(): SpreadsheetLike | null;
  getUi(): UiLike;
  newDataValidation(): DataValidationBuilderLike;
}

export interface HttpResponseLike {
  getResponseCode(): number;
  getContentText(): string;
}

export interface FetchParams {
  method?: 'get' | 'post';
  contentType?: string;
  payload?: string;
  headers?: Record<string, string>;
  muteHttpExceptions?: boolean;
  followRedirects?: boolean;
}

export interface UrlFetchAppLike {
  fetch(url: string, params: FetchParams): HttpResponseLike;
}

export interface PropertiesLike {
  getProperty(key: string): string | null;
  getProperties(): Record<string, string>;
  setProperty(key: string, value: string): PropertiesLike;
  setProperties(properties: Record<string, string>): PropertiesLike;
  deleteProperty(key: string): PropertiesLike;
}

export interface PropertiesServiceLike {
  getDocumentProperties(): PropertiesLike | null;
}

export interface LockLike {
  tryLock(timeoutInMillis: number): boolean;
  releaseLock(): void;
}

export interface LockServiceLike {
  getDocumentLock(): LockLike | null;
  /** One lock for every execution of this script, whoever runs it: the add-on sends relays under it. */
  getScriptLock(): LockLike | null;
}

export interface TriggerLike {
  getHandlerFunction(): string;
  getUniqueId(): string;
}

export interface SpreadsheetTriggerBuilderLike {
  onEdit(): SpreadsheetTriggerBuilderLike;
  onChange(): SpreadsheetTriggerBuilderLike;
  create(): TriggerLike;
}

export interface ClockTriggerBuilderLike {
  everyMinutes(minutes: number): ClockTriggerBuilderLike;
  everyDays(days: number): ClockTriggerBuilderLike;
  atHour(hour: number): ClockTriggerBuilderLike;
  inTimezone(timezone: string): ClockTriggerBuilderLike;
  create(): TriggerLike;
}

export interface TriggerBuilderLike {
  forSpreadsheet(key: string): SpreadsheetTriggerBuilderLike;
  timeBased(): ClockTriggerBuilderLike;
}

export interface ScriptAppLike {
  getProjectTriggers(): TriggerLike[];
  deleteTrigger(trigger: TriggerLike): void;
  newTrigger(functionName: string): TriggerBuilderLike;
}

export interface HtmlOutputLike {
  setTitle(title: string): HtmlOutputLike;
}

export interface HtmlServiceLike {
  createHtmlOutputFromFile(filename: string): HtmlOutputLike;
}

/** The Charts service: only its ChartType enum is used (values pass through as `unknown`). */
export interface ChartsLike {
  ChartType: { LINE: unknown; COLUMN: unknown; BAR: unknown };
}

export interface UserLike {
  getEmail(): string;
}

export interface SessionLike {
  getActiveUser(): UserLike;
  getEffectiveUser(): UserLike;
}

/** Every service the add-on touches; one object so tests can swap all of them at once. */
export interface Services {
  spreadsheetApp: SpreadsheetAppLike;
  urlFetchApp: UrlFetchAppLike;
  propertiesService: PropertiesServiceLike;
  lockService: LockServiceLike;
  scriptApp: ScriptAppLike;
  utilities: UtilitiesLike;
  htmlService: HtmlServiceLike;
  session: SessionLike;
  charts: ChartsLike;
  /** The clock (tests pass a fixed one). */
  now(): Date;
  /**
   * Where UrlFetchApp's requests come from. In Apps Script it is always Google's servers, which can
   * reach only public addresses (the default); tests that run a hub on 127.0.0.1 fetch from this machine.
   */
  fetchesFrom?: 'google' | 'this machine';
}

/**
 * The installable onEdit event, as far as it is used. `oldValue` is there only when one cell was
 * typed into and had a value before: a paste (even into one cell) and a multi-cell edit have none.
 * `triggerUid` names the installable trigger that produced the event.
 */
export interface EditEvent {
  range: RangeLike;
  value?: unknown;
  oldValue?: unknown;
  user?: UserLike;
  triggerUid?: string;
}

/** The installable onChange event: INSERT_ROW, REMOVE_ROW, INSERT_COLUMN, EDIT, FORMAT, OTHER, … */
export interface ChangeEvent {
  changeType?: string;
  user?: UserLike;
  triggerUid?: string;
}

/** A time-driven trigger's event, as far as it is used. */
export interface ClockEvent {
  triggerUid?: string;
}
