/**
 * Every function Apps Script calls by name: the open and install hooks, the menu items, the
 * installable trigger handlers and the functions the sidebar calls through google.script.run.
 * The build turns each into a top-level `function name() {…}` in Code.js (Apps Script only sees
 * top-level function declarations); a test loads the built file and checks every one.
 */
export const MENU_ITEMS = [
  { caption: 'Connect to hub', fn: 'menuConnect' },
  { caption: 'Set up sheets', fn: 'menuSetUpSheets' },
  null,
  { caption: 'Install triggers', fn: 'menuInstallTriggers' },
  { caption: 'Remove triggers', fn: 'menuRemoveTriggers' },
  null,
  { caption: 'Open sidebar', fn: 'menuOpenSidebar' },
  { caption: 'Sync now', fn: 'menuSyncNow' },
  { caption: 'Check catalog', fn: 'menuCheckCatalog' },
  null,
  { caption: 'Send new purchase orders', fn: 'menuSendPurchaseOrders' },
  { caption: 'Cancel selected purchase order', fn: 'menuCancelPurchaseOrder' },
  null,
  { caption: 'Refresh dashboard', fn: 'menuRefreshDashboard' },
] as const;

export const ENTRY_POINTS = [
  'onOpen',
  'onInstall',
  'menuConnect',
  'menuSetUpSheets',
  'menuInstallTriggers',
  'menuRemoveTriggers',
  'menuOpenSidebar',
  'menuSyncNow',
  'menuCheckCatalog',
  'menuSendPurchaseOrders',
  'menuCancelPurchaseOrder',
  'menuRefreshDashboard',
  'onSheetEdit',
  'onSheetChange',
  'flushQueue',
  'refreshDashboardDaily',
  'sidebarState',
  'sidebarAdjust',
  'sidebarDismissFailed',
  'sidebarSendWaiting',
  'sidebarDecideConflict',
] as const;

export type EntryPoint = (typeof ENTRY_POINTS)[number];

/** The global the bundle puts its exports on; the generated top-level functions call into it. */
export const BUNDLE_GLOBAL = '__stockrelay';
