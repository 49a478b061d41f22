/**
 * The add-on's entry points, built from the services. `main.ts` hands in the real Apps Script
 * services; tests hand in fakes. Menu items explain failures in a dialog; trigger handlers in a
 * toast; sidebar functions throw an Error whose message the sidebar shows as it is.
 */
import { CATALOG, checkQuantity, readLayout, readRows, tagAllRows } from './catalog';
import { Context } from './context';
import { handleEdit } from './edits';
import { MENU_ITEMS, type EntryPoint } from './entries';
import type { ChangeEvent, EditEvent, Services } from './gas';
import { HubError } from './hub';
import { cancelSelectedPurchaseOrder, describeSend, sendPurchaseOrders } from './purchase-orders';
import { BusyError } from './queue';
import { shadowFromRows, writeShadow } from './shadow';
import { KEYS, NOT_CONNECTED, checkAdminToken, checkHubUrl, checkRelaySecret, loadSettings, saveSettings, type Settings } from './settings';
import { describeSetup, setUpSheets } from './setup';
import { queueView, sidebarAdjust, sidebarDecideConflict, sidebarState, type AdjustForm, type SidebarApi } from './sidebar-api';
import { describeRefresh, refreshReports } from './refresh';
import { relayCatalogChanges } from './structure';
import { installTriggers, removeTriggers } from './triggers';

export const MENU_TITLE = 'stockrelay';
const STRUCTURAL_CHANGES = new Set(['INSERT_ROW', 'REMOVE_ROW', 'INSERT_GRID', 'REMOVE_GRID', 'OTHER']);

/** Every entry point Apps Script can call; ENTRY_POINTS (entries.ts) must name exactly these. */
export interface Addon extends SidebarApi {
  onOpen(e?: unknown): void;
  onInstall(e?: unknown): void;
  menuConnect(): void;
  menuSetUpSheets(): void;
  menuInstallTriggers(): void;
  menuRemoveTriggers(): void;
  menuOpenSidebar(): void;
  menuSyncNow(): void;
  menuCheckCatalog(): void;
  menuSendPurchaseOrders(): void;
  menuCancelPurchaseOrder(): void;
  menuRefreshDashboard(): void;
  onSheetEdit(e: EditEvent): void;
  onSheetChange(e: ChangeEvent): void;
  flushQueue(): void;
  /** The daily time-driven trigger: refreshes the Dashboard and Reorder tabs; problems go to the log only. */
  refreshDashboardDaily(): void;
}

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Fails to compile when ENTRY_POINTS and Addon disagree. */
export const ENTRY_POINTS_MATCH: Same<keyof Addon, EntryPoint> = true;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export function createAddon(services: () => Services): Addon {
  const ctx = () => new Context(services());

  /** Runs a menu item; any failure becomes a dialog in plain words. */
  const menu = (title: string, fn: (c: Context) => string | null) => () => {
    const c = ctx();
    const ui = c.services.spreadsheetApp.getUi();
    try {
      const text = fn(c);
      if (text) ui.alert(title, text, ui.ButtonSet.OK);
    } catch (err) {
      ui.alert(title, message(err), ui.ButtonSet.OK);
    }
  };

  const onOpen = () => {
    const m = services().spreadsheetApp.getUi().createAddonMenu();
    for (const item of MENU_ITEMS) {
      if (item) m.addItem(item.caption, item.fn);
      else m.addSeparator();
    }
    m.addToUi();
  };

  return {
    onOpen,
    onInstall: () => onOpen(),

    menuConnect: menu('Connect to hub', (c) => connect(c)),

    menuSetUpSheets: menu('Set up sheets', (c) => describeSetup(setUpSheets(c))),

    menuInstallTriggers: menu('Install triggers', (c) => {
      const r = installTriggers(c);
      const parts = [r.created.length ? `Installed: ${r.created.join(', ')}.` : 'All triggers were installed already.'];
      if (r.removed) parts.push(`Removed ${r.removed} duplicate trigger(s).`);
      parts.push('Edits in the Catalog tab now reach the hub, anything waiting is sent every minute, and the Dashboard and Reorder tabs are refreshed every morning.');
      return parts.join(' ');
    }),

    menuRemoveTriggers: menu('Remove triggers', (c) => {
      const n = removeTriggers(c);
      return n ? `Removed ${n} trigger(s). Edits are no longer sent to the hub until you choose Install triggers again.` : 'There were no stockrelay triggers to remove.';
    }),

    menuOpenSidebar: menu('Open sidebar', (c) => {
      const html = c.services.htmlService.createHtmlOutputFromFile('Sidebar').setTitle('stockrelay');
      c.services.spreadsheetApp.getUi().showSidebar(html);
      return null;
    }),

    menuSyncNow: menu('Sync now', (c) => syncNow(c)),

    menuCheckCatalog: menu('Check catalog', (c) => checkCatalog(c)),

    menuSendPurchaseOrders: menu('Send new purchase orders', (c) => describeSend(sendPurchaseOrders(c))),

    menuCancelPurchaseOrder: menu('Cancel selected purchase order', (c) => cancelSelectedPurchaseOrder(c)),

    menuRefreshDashboard: menu('Refresh dashboard', (c) => {
      const r = describeRefresh(refreshReports(c));
      if (r.failed) return r.text;
      c.toast(r.text, 8);
      return null;
    }),

    onSheetEdit: (e: EditEvent) => {
      const c = ctx();
      try {
        handleEdit(c, e);
      } catch (err) {
        c.toast(`This change could not be handled: ${message(err)}`, 15);
        throw err;
      }
    },

    onSheetChange: (e: ChangeEvent) => {
      if (!e || !STRUCTURAL_CHANGES.has(e.changeType ?? '')) return;
      const c = ctx();
      try {
        const r = relayCatalogChanges(c, { user: e.user });
        const said = [...r.submits.filter((s) => s.status !== 'delivered').map((s) => s.message)];
        if (r.added.length || r.removed.length) said.unshift(`Catalog: ${r.added.length} row(s) added, ${r.removed.length} removed.`);
        if (said.length) c.toast(said.join(' '), 8);
      } catch (err) {
        if (err instanceof BusyError) return; // the next change or "Sync now" compares again
        c.toast(`The catalog change could not be sent: ${message(err)}`, 15);
        throw err;
      }
    },

    flushQueue: () => {
      const c = ctx();
      let settings: Settings | null;
      try {
        settings = c.settings();
      } catch {
        return; // no document in this context
      }
      if (!settings) return;
      try {
        const sender = c.sender()!;
        const r = c.outbox().flush(sender);
        refreshShadow(c);
        if (r.delivered || r.failed) c.toast(`Sent ${r.delivered} waiting change(s) to the hub${r.failed ? `; ${r.failed} refused (see the sidebar)` : ''}.`, 5);
      } catch (err) {
        if (err instanceof BusyError) return; // another execution is sending: it will get there
        throw err;
      }
    },

    refreshDashboardDaily: () => {
      let c: Context;
      try {
        c = ctx();
        if (!c.settings()) return; // not connected yet: nothing to read
      } catch {
        return; // no document in this context
      }
      try {
        const r = describeRefresh(refreshReports(c));
        if (r.failed) console.error(`stockrelay daily refresh: ${r.text}`);
      } catch (err) {
        console.error(`stockrelay daily refresh: ${message(err)}`);
      }
    },

    sidebarState: () => sidebarState(ctx()),
    sidebarAdjust: (form: AdjustForm) => sidebarAdjust(ctx(), form),
    sidebarDismissFailed: (id: string | null) => {
      const c = ctx();
      c.outbox().dismissFailed(id);
      return queueView(c);
    },
    sidebarDecideConflict: (id: number, decision: 'accept' | 'reject') => sidebarDecideConflict(ctx(), id, decision),
    sidebarSendWaiting: () => {
      const c = ctx();
      const sender = c.sender();
      if (!sender) throw new Error(NOT_CONNECTED);
      const r = c.outbox().flush(sender);
      const text = r.waiting === 0 ? `Sent ${r.delivered} change(s); nothing is waiting.` : `Sent ${r.delivered}; ${r.waiting} still waiting: ${r.stoppedBecause ?? 'the hub did not take them'}`;
      return { message: r.failed ? `${text} ${r.failed} refused by the hub (listed below).` : text, queue: queueView(c) };
    },
  };
}

function refreshShadow(c: Context): void {
  const ss = c.services.spreadsheetApp.getActiveSpreadsheet();
  const sheet = ss?.getSheetByName(CATALOG);
  if (!sheet) return;
  c.locked(() => writeShadow(c.store(), shadowFromRows(readRows(sheet, readLayout(sheet)))));
}

function ask(c: Context, title: string, prompt: string): string | null {
  const ui = c.services.spreadsheetApp.getUi();
  const res = ui.prompt(title, prompt, ui.ButtonSet.OK_CANCEL);
  return res.getSelectedButton() === ui.Button.OK ? res.getResponseText() : null;
}

/** "Connect to hub": three prompts, each value checked before anything is saved, then a test call. */
function connect(c: Context): string | null {
  const props = c.properties();
  const current = loadSettings(props);
  const keep = (what: string) => (current ? `\n\nLeave empty to keep the ${what} already saved.` : '');

  const urlText = ask(c, 'Connect to hub (1 of 3)', `The hub’s address, for example https://stock.example.com${current ? `\nNow: ${current.hubUrl}` : ''}${keep('address')}`);
  if (urlText === null) return null;
  const url = urlText.trim() === '' && current ? { ok: true as const, value: current.hubUrl } : checkHubUrl(urlText);
  if (!url.ok) return `Nothing was saved. ${url.message}`;

  const secretText = ask(c, 'Connect to hub (2 of 3)', `The relay secret from the hub (starts with "whsec_"; STOCKRELAY_RELAY_SECRET or data/secrets.json).${keep('secret')}`);
  if (secretText === null) return null;
  const secret = secretText.trim() === '' && current ? { ok: true as const, value: current.relaySecret } : checkRelaySecret(secretText);
  if (!secret.ok) return `Nothing was saved. ${secret.message}`;

  const tokenText = ask(c, 'Connect to hub (3 of 3)', `The hub’s admin token (STOCKRELAY_ADMIN_TOKEN or data/secrets.json); the sidebar reads stock levels with it.${keep('token')}`);
  if (tokenText === null) return null;
  const token = tokenText.trim() === '' && current ? { ok: true as const, value: current.adminToken } : checkAdminToken(tokenText);
  if (!token.ok) return `Nothing was saved. ${token.message}`;

  const settings: Settings = { hubUrl: url.value, relaySecret: secret.value, adminToken: token.value };
  const probe = new Context({ ...c.services, propertiesService: { getDocumentProperties: () => memoryProps(settings) } });
  const hub = probe.hub()!;

  // The token: an admin read. The secret: an empty catalog change, which the hub stores and books as nothing.
  try {
    hub.get('/v1/locations');
  } catch (err) {
    if (err instanceof HubError && err.status !== null && err.status < 500) return `Nothing was saved. ${err.message}`;
    saveSettings(props, settings);
    return `Saved, but the hub did not answer: ${message(err)} Edits are kept in the spreadsheet until it does.`;
  }
  const check = hub.sendRelay(c.newRelayId(), JSON.stringify({ kind: 'catalog_changed', origin: 'sheet', added: [], removed: [], occurredAt: c.now().toISOString() }));
  if (check.result === 'failed') return `Nothing was saved. The hub refused the relay secret: ${check.message}`;
  saveSettings(props, settings);
  return `Connected to ${settings.hubUrl}. The address, relay secret and admin token are kept in this spreadsheet’s settings (not in any cell). Next: Set up sheets, then Install triggers.`;
}

/** A read-only property store holding only the given settings (to try them before saving). */
function memoryProps(s: Settings) {
  const values: Record<string, string> = { [KEYS.hubUrl]: s.hubUrl, [KEYS.relaySecret]: s.relaySecret, [KEYS.adminToken]: s.adminToken };
  const props = {
    getProperty: (k: string) => values[k] ?? null,
    getProperties: () => ({ ...values }),
    setProperty: () => props,
    setProperties: () => props,
    deleteProperty: () => props,
  };
  return props;
}

/** "Sync now": send what is waiting, then relay rows the hub does not know, tag every row. */
function syncNow(c: Context): string {
  const sender = c.sender();
  if (!sender) return NOT_CONNECTED;
  const lines: string[] = [];
  const flushed = c.outbox().flush(sender);
  if (flushed.delivered || flushed.failed || flushed.waiting) {
    lines.push(`Sent ${flushed.delivered} waiting change(s).${flushed.failed ? ` ${flushed.failed} were refused by the hub (see the sidebar).` : ''}`);
  }
  if (flushed.waiting > 0) {
    lines.push(`${flushed.waiting} change(s) are still waiting: ${flushed.stoppedBecause ?? 'the hub did not take them'} New rows were not sent, so they follow in order next time.`);
    return lines.join('\n');
  }
  const sheet = c.spreadsheet().getSheetByName(CATALOG);
  if (!sheet) return `There is no "${CATALOG}" tab yet: choose Set up sheets.`;
  const r = relayCatalogChanges(c);
  if (r.problem) lines.push(r.problem);
  else if (r.added.length || r.removed.length) {
    lines.push(`Catalog: ${r.added.length} new row(s) and ${r.removed.length} removed SKU(s) sent.`);
    const not = r.submits.filter((s) => s.status !== 'delivered');
    if (not.length) lines.push(not.map((s) => s.message).join(' '));
  } else lines.push('The hub already knows every row.');
  const tagged = c.locked(() => {
    const rows = readRows(sheet, readLayout(sheet));
    writeShadow(c.store(), shadowFromRows(rows));
    return tagAllRows(sheet, rows);
  });
  if (tagged) lines.push(`${tagged} row(s) now carry their SKU for the hub.`);
  return lines.join('\n');
}

/** "Check catalog": empty and duplicate SKUs, unreadable counts, and items no channel lists. */
function checkCatalog(c: Context): string {
  const sheet = c.spreadsheet().getSheetByName(CATALOG);
  if (!sheet) return `There is no "${CATALOG}" tab yet: choose Set up sheets.`;
  const layout = readLayout(sheet);
  if (layout.sku === null) return `The ${CATALOG} tab has no "SKU" header in row 1: add it (any column) so rows can be matched with the hub.`;
  const rows = readRows(sheet, layout);
  const problems: string[] = [];

  const empty = rows.filter((r) => !r.sku && r.hasData).map((r) => r.row);
  if (empty.length) problems.push(`Rows with data but no SKU (not sent to the hub): ${list(empty)}.`);
  const bySku = new Map<string, number[]>();
  for (const r of rows) if (r.sku) bySku.set(r.sku, [...(bySku.get(r.sku) ?? []), r.row]);
  const dups = [...bySku].filter(([, at]) => at.length > 1);
  for (const [sku, at] of dups.slice(0, 20)) problems.push(`SKU ${sku} is on rows ${at.join(', ')}: only row ${at[0]} is used; give each item its own SKU.`);
  if (dups.length > 20) problems.push(`…and ${dups.length - 20} more duplicated SKUs.`);

  const bad: string[] = [];
  for (const r of rows) {
    if (!r.sku) continue;
    for (const o of r.onHand) {
      const q = checkQuantity(o.value, false);
      if (!q.ok) bad.push(`row ${r.row} (${o.location ?? 'on hand'}): ${q.reason}`);
    }
  }
  if (bad.length) problems.push(`Counts the hub cannot read: ${bad.slice(0, 10).join('; ')}${bad.length > 10 ? `; …and ${bad.length - 10} more` : ''}.`);
  if (layout.onHand.length === 0) problems.push('No "On hand · <location>" column: stock counts cannot be sent.');

  const hub = c.hub();
  if (hub && bySku.size > 0) {
    try {
      const channels = hub.get<{ channels: { id: string; name: string; connected: boolean }[] }>('/v1/channels').channels.filter((ch) => ch.connected);
      if (channels.length > 0) {
        const listed = new Set<string>();
        for (const ch of channels) {
          for (const l of hub.get<{ listings: { sku: string }[] }>(`/v1/channels/${encodeURIComponent(ch.id)}/listings`).listings) listed.add(l.sku);
        }
        const unmapped = [...bySku.keys()].filter((s) => !listed.has(s));
        if (unmapped.length) problems.push(`Not listed on any channel yet (${unmapped.length}): ${list(unmapped)}. Run discovery on the hub or list them on the platform.`);
      }
    } catch (err) {
      problems.push(`Channel listings could not be checked: ${message(err)}`);
    }
  } else if (!hub) problems.push(`${NOT_CONNECTED} (Channel listings were not checked.)`);

  const head = `${rows.filter((r) => r.sku).length} row(s) with a SKU, ${bySku.size} distinct SKU(s).`;
  return problems.length ? `${head}\n\n• ${problems.join('\n• ')}` : `${head}\n\nNo problems found.`;
}

function list(xs: (string | number)[]): string {
  return xs.length <= 15 ? xs.join(', ') : `${xs.slice(0, 15).join(', ')}, …`;
}
