/**
 * appsscript.json: the V8 runtime and the OAuth scopes the add-on uses, each for a reason.
 * No `addOns` section: this is an editor add-on (menus, sidebar, triggers), not a Workspace
 * (card-based) add-on.
 */
export const OAUTH_SCOPES = [
  // Read and write this spreadsheet only (not the user's other files).
  'https://www.googleapis.com/auth/spreadsheets.currentonly',
  // The menu, dialogs, toasts and the sidebar.
  'https://www.googleapis.com/auth/script.container.ui',
  // UrlFetchApp: relays and reads to the hub.
  'https://www.googleapis.com/auth/script.external_request',
  // ScriptApp: install and remove the onEdit, onChange and timer triggers.
  'https://www.googleapis.com/auth/script.scriptapp',
  // The editor's email address, recorded as who made a change.
  'https://www.googleapis.com/auth/userinfo.email',
] as const;

export const MANIFEST = {
  timeZone: 'Etc/UTC',
  runtimeVersion: 'V8',
  exceptionLogging: 'STACKDRIVER',
  oauthScopes: [...OAUTH_SCOPES],
} as const;
