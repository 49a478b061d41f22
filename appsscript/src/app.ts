/**
 * The add-on's entry points, built from the services. `main.ts` hands in the real Apps Script
 * services; tests hand in fakes. Menu items explain failures in a dialog; trigger handlers in a
 * toast; sidebar functions throw an Error whose message the sidebar shows as it is.
 */
import { checkQuantity, readLayout, readRows, tagAllRows } from './catalog';
import { Context } from './context';
import { handleEdit } from './edits';
import { MENU_ITEMS, type EntryPoint } from './entries';
import type { ChangeEvent, ClockEvent, EditEvent, Services } from './gas';
import { HubError } from './hub';
import { cancelSelectedPurchaseOrder, describeSend, sendPurchaseOrders } from './purchase-orders';
import { BusyError, resultFor } from './queue';
import { shadowFromRows, writeShadow } from './shadow';
import { CREATE_SIDEBAR_CREDENTIAL, KEYS, NOT_CONNECTED, checkHubUrl, checkRelaySecret, checkToken, loadSettings, saveSettings, type Settings } from './settings';
import { describeSetup, setUpSheets } from './setup';
import { queueView, sidebarAdjust, sidebarDecideConflict, sidebarState, type AdjustForm, type SidebarApi } from './sidebar-api';
import { describeRefresh, refreshReports } from './refresh';
import { NOT_SYNCED_KEY, syncCatalog } from './structure';
import { installTriggers, mayRun, removeTriggers, type TriggerOwner } from './triggers';
import { CATALOG } from '../../server/shared/sheet-layout';

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
  flushQueue(e?: ClockEvent): void;
  /** The daily time-driven trigger: refreshes the Dashboard and Reorder tabs; problems go to the log only. */
  refreshDashboardDaily(e?: ClockEvent): void;
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

  // A menu of its own, "stockrelay", in the menu bar: an add-on menu under Extensions would take the
  // script project's name ("Untitled project" unless someone renamed it), and every message here names this one.
  const onOpen = () => {
    const m = services().spreadsheetApp.getUi().createMenu(MENU_TITLE);
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
      let answer = installTriggers(c);
      if ('otherOwner' in answer) {
        const ui = c.services.spreadsheetApp.getUi();
        const take = ui.alert('Install triggers', `${alreadyConnected(answer.otherOwner)}\n\nTake over the triggers? Choose Yes only if ${who(answer.otherOwner)} can no longer keep them (they left, or lost access to this spreadsheet): their triggers then stop relaying and yours do it instead. Choose No to leave things as they are.`, ui.ButtonSet.YES_NO);
        if (take !== ui.Button.YES) {
          return `Nothing was installed: ${alreadyConnected(answer.otherOwner)}${answer.inertRemoved ? ` ${answer.inertRemoved} old trigger(s) of yours that no longer relayed anything were removed.` : ''}`;
        }
        answer = installTriggers(c, { takeOver: true });
        if ('otherOwner' in answer) return 'Nothing was installed.';
      }
      const r = answer.done;
      const parts = [r.created.length ? `Installed: ${r.created.join(', ')}.` : 'All triggers were installed already.'];
      if (r.removed) parts.push(`Removed ${r.removed} duplicate trigger(s).`);
      parts.push('Edits in the Catalog tab, by anyone who edits this spreadsheet, now reach the hub through these triggers (they run as you); anything waiting is sent every minute, and the Dashboard and Reorder tabs are refreshed every morning. Other editors need not install anything.');
      return parts.join(' ');
    }),

    menuRemoveTriggers: menu('Remove triggers', (c) => {
      const n = removeTriggers(c);
      return n ? `Removed ${n} trigger(s). Edits are no longer sent to the hub until someone chooses Install triggers again.` : 'There were no stockrelay triggers to remove that belong to you (triggers someone else installed can only be removed by them).';
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
        if (!mayRun(c, 'onSheetEdit', e?.triggerUid)) return; // another person's trigger relays this edit
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
        if (!mayRun(c, 'onSheetChange', e.triggerUid)) return;
        const { structure: r, flushed } = syncCatalog(c, { user: e.user });
        const waiting = flushed ? flushed.waiting : c.outbox().waiting().length;
        const submits = r.ids.map((id) => resultFor(id, flushed, waiting));
        const said = [...new Set(submits.filter((s) => s.status !== 'delivered').map((s) => s.message))];
        if (r.added.length || r.removed.length) said.unshift(`Catalog: ${r.added.length} row(s) added, ${r.removed.length} removed.`);
        if (r.notQueued) said.push(`${r.notQueued} new row(s) are not on the hub yet: choose Sync now once it answers.`);
        if (said.length) c.toast(said.join(' '), 8);
      } catch (err) {
        if (err instanceof BusyError) return; // the next change or "Sync now" compares again
        c.toast(`The catalog change could not be sent: ${message(err)}`, 15);
        throw err;
      }
    },

    // Every minute: one property read when nothing waits, and nothing else (docs/sheets.md, "Quotas").
    flushQueue: (e?: ClockEvent) => {
      const c = ctx();
      let settings: Settings | null;
      try {
        if (!c.outbox().hasWaiting()) return;
        if (!mayRun(c, 'flushQueue', e?.triggerUid)) return;
        settings = c.settings();
      } catch {
        return; // no document in this context
      }
      if (!settings) return;
      try {
        const r = c.deliver()!;
        let sent = r.delivered;
        // The queue is empty again: rows that did not fit in it while the hub was down go now.
        if (r.waiting === 0 && !r.busy && c.store().getString(NOT_SYNCED_KEY) !== null) sent += syncCatalog(c).flushed?.delivered ?? 0;
        if (sent || r.failed) c.toast(`Sent ${sent} waiting change(s) to the hub${r.failed ? `; ${r.failed} refused (see the sidebar)` : ''}.`, 5);
      } catch (err) {
        if (err instanceof BusyError) return; // another execution holds the spreadsheet: the next minute gets there
        throw err;
      }
    },

    refreshDashboardDaily: (e?: ClockEvent) => {
      let c: Context;
      try {
        c = ctx();
        if (!c.settings()) return; // not connected yet: nothing to read
        if (!mayRun(c, 'refreshDashboardDaily', e?.triggerUid)) return;
      } catch {
        return; // no document in this context
      }
      try {
        const r = describeRefresh(refreshReports(c));
        if (r.failed) console.error(`stockrelay daily refresh: ${r.text}`);
      } catch (err) {
        console.error(`stockrelay daily refresh: ${message(err)}`);
      }
      // Once a day the saved copy of the counts is taken again from the sheet (the hub writes counts
      // back after sales; pastes are compared with this copy).
      try {
        refreshShadow(c);
      } catch (err) {
        if (!(err instanceof BusyError)) console.error(`stockrelay daily refresh: ${message(err)}`);
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
      const why = r.busy ? 'another change is being sent to the hub right now; these follow it in order.' : (r.stoppedBecause ?? 'the hub did not take them');
      const text = r.waiting === 0 ? `Sent ${r.delivered} change(s); nothing is waiting.` : `Sent ${r.delivered}; ${r.waiting} still waiting: ${why}`;
      return { message: r.failed ? `${text} ${r.failed} refused by the hub (listed below).` : text, queue: queueView(c) };
    },
  };
}

/** Who holds the triggers in use, and since when, in a sentence. */
function alreadyConnected(o: TriggerOwner): string {
  const when = o.installedAt ? ` on ${o.installedAt.slice(0, 10)}` : '';
  return `This spreadsheet is already connected: its triggers were installed by ${who(o)}${when}, and they relay every editor’s changes to the hub.`;
}

const who = (o: TriggerOwner) => o.email ?? 'another editor';

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

  const urlText = ask(c, 'Connect to hub (1 of 3)', `The hub’s address, for example https://stock.example.com (an https address on the internet: Google’s servers send the requests, so localhost or a home network address cannot work)${current ? `\nNow: ${current.hubUrl}` : ''}${keep('address')}`);
  if (urlText === null) return null;
  const url = urlText.trim() === '' && current ? { ok: true as const, value: current.hubUrl } : checkHubUrl(urlText, c.services.fetchesFrom ?? 'google');
  if (!url.ok) return `Nothing was saved. ${url.message}`;

  const secretText = ask(
    c,
    'Connect to hub (2 of 3)',
    `This sheet needs a credential of its own; the hub’s admin token stays on the hub’s machine. There, the supplier runs:\n${CREATE_SIDEBAR_CREDENTIAL}\nIt prints a relay secret and a token, once.\n\nPaste the relay secret (starts with "whsec_").${keep('secret')}`,
  );
  if (secretText === null) return null;
  const secret = secretText.trim() === '' && current ? { ok: true as const, value: current.relaySecret } : checkRelaySecret(secretText);
  if (!secret.ok) return `Nothing was saved. ${secret.message}`;

  const tokenText = ask(c, 'Connect to hub (3 of 3)', `The token printed with it (starts with "srt_"): the sidebar reads levels, adjusts and decides conflicts with it. Never the hub’s admin token: every editor of this spreadsheet can read what is saved here.${keep('token')}`);
  if (tokenText === null) return null;
  const token = tokenText.trim() === '' && current && current.token.startsWith('srt_') ? { ok: true as const, value: current.token } : checkToken(tokenText);
  if (!token.ok) return `Nothing was saved. ${token.message}`;

  const settings: Settings = { hubUrl: url.value, relaySecret: secret.value, token: token.value };
  const probe = new Context({ ...c.services, propertiesService: { getDocumentProperties: () => memoryProps(settings) } });
  const hub = probe.hub()!;

  // The token: whose it is (a sidebar credential, never the admin token). The secret: the one made with
  // that token, proven by an empty catalog change, which the hub stores and books as nothing.
  try {
    const problem = credentialProblem(hub.get<WhoAmI>('/v1/whoami'), settings.relaySecret);
    if (problem) return `Nothing was saved. ${problem}`;
  } catch (err) {
    if (err instanceof HubError && err.status === 404) return `Nothing was saved. The hub at ${settings.hubUrl} is older than this add-on (it cannot say whose token this is): update the hub, then connect again.`;
    if (err instanceof HubError && err.status !== null && err.status < 500) return `Nothing was saved. ${err.message}`;
    saveSettings(props, settings);
    return `Saved, but the hub did not answer: ${message(err)} Edits are kept in the spreadsheet until it does.`;
  }
  const check = hub.sendRelay(c.newRelayId(), JSON.stringify({ kind: 'catalog_changed', origin: 'sheet', added: [], removed: [], occurredAt: c.now().toISOString() }));
  // The queue keeps a change refused 401 (a rotated credential: it is sent once the sheet connects
  // again); here a 401 means the secret pasted is not the one made with this token.
  if (check.result === 'failed') return `Nothing was saved. The hub refused the relay secret: ${check.message}`;
  if (check.result === 'retry' && check.status === 401) return `Nothing was saved. The hub refused the relay secret: ${check.detail ?? 'it is not the one made with this token.'}`;
  saveSettings(props, settings);
  return `Connected to ${settings.hubUrl}. This sheet’s relay secret and token are kept in this spreadsheet’s settings (not in any cell); the supplier can revoke them at any time without touching anything else. Next: Set up sheets, then Install triggers.`;
}

interface WhoAmI {
  kind: 'admin' | 'credential';
  credential: { id: number; name: string; scopes: string[]; relaySecretPrefix: string | null } | null;
}

/** Pure: why the hub's answer to GET /v1/whoami rules these settings out, or null when they fit. */
export function credentialProblem(who: WhoAmI, relaySecret: string): string | null {
  const c = who.credential;
  if (who.kind !== 'credential' || !c) {
    return `That is the hub’s admin token, which can change everything and must stay on the hub’s machine: every editor of this spreadsheet could read it here. Make a credential for this sheet instead: ${CREATE_SIDEBAR_CREDENTIAL}`;
  }
  if (!c.scopes.includes('sidebar')) {
    return `Credential ${c.id} ("${c.name}") has scope ${c.scopes.join(', ')}, which cannot adjust stock or decide conflicts. The sheet needs one with scope sidebar: ${CREATE_SIDEBAR_CREDENTIAL}`;
  }
  if (c.relaySecretPrefix === null || !relaySecret.startsWith(c.relaySecretPrefix)) {
    return `This relay secret was not made with this token (credential ${c.id}, "${c.name}", has one starting ${c.relaySecretPrefix ?? '—'}…). Paste the relay secret printed together with the token.`;
  }
  return null;
}

/** A read-only property store holding only the given settings (to try them before saving). */
function memoryProps(s: Settings) {
  const values: Record<string, string> = { [KEYS.hubUrl]: s.hubUrl, [KEYS.relaySecret]: s.relaySecret, [KEYS.token]: s.token };
  const props = {
    getProperty: (k: string) => values[k] ?? null,
    getProperties: () => ({ ...values }),
    setProperty: () => props,
    setProperties: () => props,
    deleteProperty: () => props,
  };
  return props;
}

/**
 * "Sync now": send what is waiting, then queue and send the rows the hub does not have (slice by
 * slice), tag every row and take the saved copy of the counts again. The sheet is "synced" only
 * when the hub has every row: anything short of that is said.
 */
function syncNow(c: Context): string {
  const sender = c.sender();
  if (!sender) return NOT_CONNECTED;
  const lines: string[] = [];
  const flushed = c.outbox().flush(sender);
  if (flushed.delivered || flushed.failed) {
    lines.push(`Sent ${flushed.delivered} waiting change(s).${flushed.failed ? ` ${flushed.failed} were refused by the hub (see the sidebar).` : ''}`);
  }
  if (flushed.waiting > 0) {
    const why = flushed.busy ? 'another change is being sent to the hub right now.' : (flushed.stoppedBecause ?? 'the hub did not take them');
    lines.push(`${flushed.waiting} change(s) are still waiting: ${why} New rows were not sent, so they follow in order next time. The sheet is not fully synced yet.`);
    return lines.join('\n');
  }
  const sheet = c.spreadsheet().getSheetByName(CATALOG);
  if (!sheet) return `There is no "${CATALOG}" tab yet: choose Set up sheets.`;
  const { structure: r, flushed: sent } = syncCatalog(c);
  const left = sent ? sent.waiting : c.outbox().waiting().length;
  if (r.problem) lines.push(r.problem);
  else if (r.added.length || r.removed.length) {
    const delivered = r.ids.filter((id) => sent?.outcomes[id]?.status === 'delivered').length;
    const refused = r.ids.filter((id) => sent?.outcomes[id]?.status === 'failed').map((id) => sent!.outcomes[id] as { message: string });
    if (delivered === r.ids.length && r.notQueued === 0) lines.push(`Catalog: ${r.added.length} new row(s) and ${r.removed.length} removed SKU(s) sent; the hub has every row now.`);
    else {
      lines.push(`Catalog: ${r.added.length} new row(s) and ${r.removed.length} removed SKU(s) found. The sheet is NOT fully synced yet:`);
      if (left > 0) lines.push(`• ${left} change(s) are waiting in this spreadsheet (${sent?.stoppedBecause ?? 'the hub did not take them'}); they are sent every minute, and those rows count as on the hub only once it has them.`);
      if (refused.length) lines.push(`• The hub refused ${refused.length} of them: ${refused[0]!.message}`);
      if (r.notQueued) lines.push(`• ${r.notQueued} row(s) could not even be kept in the spreadsheet while the hub does not answer (its storage is full). Choose Sync now again once the hub answers.`);
    }
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
