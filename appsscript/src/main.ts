/**
 * The bundle's entry: it only wires Apps Script's real services into the add-on and exports the
 * entry points. The build wraps this file in an IIFE assigned to `__stockrelay` and appends one
 * top-level `function <name>() {…}` per name in ENTRY_POINTS, which is what Apps Script can call.
 */
import { createAddon } from './app';
import type {
  ChartsLike,
  HtmlServiceLike,
  LockServiceLike,
  PropertiesServiceLike,
  ScriptAppLike,
  Services,
  SessionLike,
  SpreadsheetAppLike,
  UrlFetchAppLike,
  UtilitiesLike,
} from './gas';

// Apps Script's globals, typed by the small interfaces (gas-types-check.ts proves the real ones fit).
declare const SpreadsheetApp: SpreadsheetAppLike;
declare const UrlFetchApp: UrlFetchAppLike;
declare const PropertiesService: PropertiesServiceLike;
declare const LockService: LockServiceLike;
declare const ScriptApp: ScriptAppLike;
declare const Utilities: UtilitiesLike;
declare const HtmlService: HtmlServiceLike;
declare const Session: SessionLike;
declare const Charts: ChartsLike;

const services = (): Services => ({
  spreadsheetApp: SpreadsheetApp,
  urlFetchApp: UrlFetchApp,
  propertiesService: PropertiesService,
  lockService: LockService,
  scriptApp: ScriptApp,
  utilities: Utilities,
  htmlService: HtmlService,
  session: Session,
  charts: Charts,
  now: () => new Date(),
  fetchesFrom: 'google',
});

const addon = createAddon(services);

export const onOpen = addon.onOpen;
export const onInstall = addon.onInstall;
export const menuConnect = addon.menuConnect;
export const menuSetUpSheets = addon.menuSetUpSheets;
export const menuInstallTriggers = addon.menuInstallTriggers;
export const menuRemoveTriggers = addon.menuRemoveTriggers;
export const menuOpenSidebar = addon.menuOpenSidebar;
export const menuSyncNow = addon.menuSyncNow;
export const menuCheckCatalog = addon.menuCheckCatalog;
export const menuSendPurchaseOrders = addon.menuSendPurchaseOrders;
export const menuCancelPurchaseOrder = addon.menuCancelPurchaseOrder;
export const menuRefreshDashboard = addon.menuRefreshDashboard;
export const onSheetEdit = addon.onSheetEdit;
export const onSheetChange = addon.onSheetChange;
export const flushQueue = addon.flushQueue;
export const refreshDashboardDaily = addon.refreshDashboardDaily;
export const sidebarState = addon.sidebarState;
export const sidebarAdjust = addon.sidebarAdjust;
export const sidebarDismissFailed = addon.sidebarDismissFailed;
export const sidebarSendWaiting = addon.sidebarSendWaiting;
export const sidebarDecideConflict = addon.sidebarDecideConflict;
