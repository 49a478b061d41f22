/**
 * Compile-time proof that Apps Script's real services fit the small interfaces in `gas.ts`
 * (checked by `tsc -p appsscript/tsconfig.json` against @types/google-apps-script; never bundled).
 * If Google's types change in a way the add-on depends on, the type check fails here.
 */
import type { Services } from './gas';

export const realServices: Omit<Services, 'now'> = {
  spreadsheetApp: SpreadsheetApp,
  urlFetchApp: UrlFetchApp,
  propertiesService: PropertiesService,
  lockService: LockService,
  scriptApp: ScriptApp,
  utilities: Utilities,
  htmlService: HtmlService,
  session: Session,
  charts: Charts,
};
