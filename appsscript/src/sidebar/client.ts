/**
 * The sidebar's browser code (inlined into Sidebar.html by the build). It calls the server side
 * only through `call()`, typed from `SidebarApi`, and every call has a failure handler: the
 * spinner always stops and an error is said in plain words. Data is put in the page as text only.
 */
import type { AdjustForm, AlertLine, ChannelHealth, ConflictsView, ItemSection, MovementLine, SidebarApi, SidebarState } from '../sidebar-api';

type Runner = {
  withSuccessHandler(fn: (value: unknown) => void): Runner;
  withFailureHandler(fn: (error: unknown) => void): Runner;
} & { [K in keyof SidebarApi]: (...args: Parameters<SidebarApi[K]>) => void };

declare const google: { script: { run: Runner } };

const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let busy = 0;
function setBusy(delta: number, text?: string): void {
  busy = Math.max(0, busy + delta);
  if (text) $('busy-text').textContent = text;
  $('busy').hidden = busy === 0;
}

/** Turns what google.script.run reports into a sentence. */
export function plainError(err: unknown): string {
  const raw = err instanceof Error ? err.message : typeof err === 'string' ? err : err && typeof err === 'object' && 'message' in err ? String((err as { message: unknown }).message) : String(err);
  const text = raw.replace(/^(Exception|Error|ScriptError):\s*/i, '').trim();
  if (/NetworkError|HTTP 0|Failed to fetch/i.test(text)) return 'The connection to Google was lost. Check the internet connection, then press Refresh.';
  if (/authori[sz]ation is required|permission/i.test(text)) return 'stockrelay needs your permission again: close the sidebar and choose stockrelay › Open sidebar.';
  if (/timed? ?out|exceeded maximum execution time/i.test(text)) return 'The hub took too long to answer. Press Refresh to try again.';
  return text || 'Something went wrong, and Apps Script did not say what. Press Refresh to try again.';
}

/** Calls a server function; resolves with its result or rejects with its error (never hangs the spinner). */
export function call<K extends keyof SidebarApi>(name: K, ...args: Parameters<SidebarApi[K]>): Promise<ReturnType<SidebarApi[K]>> {
  return new Promise((resolve, reject) => {
    const runner = google.script.run.withSuccessHandler((v) => resolve(v as ReturnType<SidebarApi[K]>)).withFailureHandler(reject);
    (runner[name] as (...a: unknown[]) => void)(...args);
  });
}

async function withSpinner<T>(text: string, fn: () => Promise<T>): Promise<T> {
  setBusy(+1, text);
  try {
    return await fn();
  } finally {
    setBusy(-1);
  }
}

function showError(message: string | null): void {
  const el = $('error');
  el.textContent = message ?? '';
  el.hidden = !message;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: { class?: string; text?: string; title?: string } = {}, ...children: (Node | string | null)[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (attrs.class) node.className = attrs.class;
  if (attrs.text !== undefined) node.textContent = attrs.text;
  if (attrs.title) node.title = attrs.title;
  for (const c of children) if (c !== null) node.append(c);
  return node;
}

function fill(id: string, ...nodes: (Node | null)[]): void {
  const target = $(id);
  target.replaceChildren(...nodes.filter((n): n is Node => n !== null));
}

const when = (iso: string | null) => {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
};

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

/**
 * A section's error. When the hub could not be read at all, that is said once at the top
 * (#hub-problem); each section it stopped only says so in a line, not the same sentence again.
 */
function sectionError(message: string | null): HTMLElement | null {
  if (!message) return null;
  if (current?.hubProblem && message === current.hubProblem) return el('div', { class: 'hint', text: 'Not read: the hub did not answer (see above).' });
  return el('div', { class: 'banner error', text: message });
}

function renderLevels(item: ItemSection | null, error: string | null): void {
  if (!item) {
    fill('levels', sectionError(error));
    return;
  }
  const blocks = item.locations.map((l) => {
    const rows = l.channels.map((c) =>
      el(
        'tr',
        {},
        el('td', { text: c.channelName }),
        el('td', { class: 'num', text: String(c.published) }),
        el('td', { class: 'small', text: c.pushedAt ? `${c.pushed ?? '—'} · ${when(c.pushedAt)}` : 'not pushed yet' }),
      ),
    );
    const table = rows.length
      ? el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'Channel' }), el('th', { class: 'num', text: 'Shows' }), el('th', { text: 'Last sync' }))), el('tbody', {}, ...rows))
      : el('div', { class: 'small', text: 'No channel sells from this location.' });
    return el(
      'div',
      { class: 'loc' },
      el('div', { class: 'loc-head' }, el('span', { text: l.locationId })),
      el('div', { class: 'pair' }, el('div', {}, el('span', { text: 'On hand' }), el('b', { class: 'big', text: String(l.onHand) })), el('div', {}, el('span', { text: 'Available' }), el('b', { class: 'big', text: String(l.available) }))),
      table,
    );
  });
  fill('levels', sectionError(error), item.status === 'archived' ? el('div', { class: 'banner notice', text: 'This item is archived on the hub (its row was removed).' }) : null, ...blocks);
}

function renderMovements(list: MovementLine[], error: string | null, hasSku: boolean): void {
  if (!hasSku) return fill('movements', el('div', { class: 'hint', text: 'Movements of the selected item appear here.' }));
  if (!list.length) return fill('movements', sectionError(error) ?? el('div', { class: 'hint', text: 'No movements yet.' }));
  const items = list.map((m) => {
    const from = m.channel ? `${m.source} · ${m.channel}` : m.source;
    return el(
      'li',
      {},
      el('b', { class: m.quantity >= 0 ? 'pos' : 'neg', text: signed(m.quantity) }),
      ` ${m.reason} at ${m.location}`,
      el('div', { class: 'small', text: [when(m.when), m.actor, `from ${from}`, m.reference].filter(Boolean).join(' · ') }),
      m.note ? el('div', { class: 'small', text: `“${m.note}”` }) : null,
    );
  });
  fill('movements', sectionError(error), el('ul', { class: 'list' }, ...items));
}

function renderAlerts(list: AlertLine[], error: string | null, sku: string | null): void {
  if (!list.length) return fill('alerts', sectionError(error) ?? el('div', { class: 'hint', text: 'No open alerts.' }));
  const sorted = [...list].sort((a, b) => Number(b.sku === sku) - Number(a.sku === sku));
  const items = sorted.slice(0, 10).map((a) =>
    el('li', {}, el('span', { class: `pill ${a.severity}`, text: a.severity }), ` ${a.message}`, el('div', { class: 'small', text: `${when(a.openedAt)}${a.sku ? ` · ${a.sku}` : ''}${a.channel ? ` · ${a.channel}` : ''}` })),
  );
  fill('alerts', sectionError(error), el('ul', { class: 'list' }, ...items), list.length > 10 ? el('div', { class: 'small', text: `…and ${list.length - 10} more on the Alerts tab.` }) : null);
}

function renderQueue(q: SidebarState['queue'], connected: boolean): void {
  const head = el(
    'div',
    {},
    el('b', { text: q.waiting === 0 ? 'Nothing waiting' : `${q.waiting} change${q.waiting === 1 ? '' : 's'} waiting` }),
    q.waiting ? el('div', { class: 'small', text: `Oldest from ${when(q.oldestWaiting)}.${q.lastError ? ` Last try: ${q.lastError}` : ''}` }) : null,
  );
  const send = connected && q.waiting ? el('button', { text: 'Send now' }) : null;
  send?.addEventListener('click', () => void sendWaiting());
  const failed = q.failed.map((f) => {
    const dismiss = el('button', { text: 'Dismiss', title: 'Remove from this list' });
    dismiss.addEventListener('click', () => void dismissFailed(f.id));
    return el('li', {}, el('span', { class: 'pill critical', text: `refused ${f.status || ''}`.trim() }), ` ${f.summary}`, el('div', { class: 'small', text: `${when(f.failedAt)} · ${f.message}` }), dismiss);
  });
  fill('queue', head, send, failed.length ? el('div', { class: 'small', text: 'Refused by the hub (not sent again):' }) : null, failed.length ? el('ul', { class: 'list' }, ...failed) : null);
}

function renderChannels(list: ChannelHealth[], error: string | null): void {
  if (!list.length) return fill('channels', sectionError(error) ?? el('div', { class: 'hint', text: 'No channels on the hub yet.' }));
  const items = list.map((c) =>
    el(
      'li',
      {},
      el('span', { class: `pill ${c.health.replace(' ', '-')}`, text: c.health }),
      ` ${c.name} `,
      el('span', { class: 'small', text: `(${c.platform})` }),
      el('div', { class: 'small', text: c.detail }),
      // What the hub checks on the channel by itself (orders it polls), in plain words.
      ...(c.checks ?? []).map((line) => el('div', { class: 'small', text: line })),
    ),
  );
  fill('channels', sectionError(error), el('ul', { class: 'list' }, ...items));
}

function renderConflicts(c: ConflictsView, message: { ok: boolean; text: string } | null = null): void {
  const note = el('div', { class: 'small', text: c.note });
  const said = message ? el('div', { class: `result ${message.ok ? 'good' : 'bad'}`, text: message.text }) : null;
  if (!c.items.length) return fill('conflicts', said, sectionError(c.error), el('div', { class: 'hint', text: 'No open conflicts.' }), note);
  const items = c.items.map((k) => {
    const numbers = [`Found: ${k.id === null ? k.foundAt : when(k.foundAt)}`, `Sheet showed: ${k.sheetShowed}`, `Typed: ${k.typed}`, `Hub has: ${k.hubHad}`, k.hubNow !== null && k.hubNow !== k.hubHad ? `now ${k.hubNow}` : '', k.who ? `by ${k.who}` : ''].filter(Boolean);
    const li = el('li', {}, el('b', { text: `${k.sku || '?'}${k.location ? ` at ${k.location}` : ''}` }), el('div', { class: 'small', text: numbers.join(' · ') }));
    if (c.canDecide && k.id !== null) {
      const id = k.id;
      const accept = el('button', { text: `Accept ${k.typed}`, title: 'The number typed becomes the count; what sold since is kept.' });
      const reject = el('button', { text: 'Reject', title: 'The hub’s number stays and is written back to the sheet.' });
      accept.addEventListener('click', () => void decideConflict(id, 'accept'));
      reject.addEventListener('click', () => void decideConflict(id, 'reject'));
      li.append(accept, ' ', reject);
    }
    return li;
  });
  fill('conflicts', said, sectionError(c.error), el('ul', { class: 'list' }, ...items), note);
}

async function decideConflict(id: number, decision: 'accept' | 'reject'): Promise<void> {
  try {
    const res = await withSpinner(decision === 'accept' ? 'Accepting…' : 'Rejecting…', () => call('sidebarDecideConflict', id, decision));
    showError(null);
    renderConflicts(res.conflicts, { ok: res.ok, text: res.message });
  } catch (err) {
    showError(`Could not ${decision} the conflict. ${plainError(err)}`);
  }
}

/** True while the sidebar reads a row: nothing may be sent then (the form may still show the previous item). */
let loading = false;
/** The SKU shown in the sidebar: what an adjustment is booked on (never whatever the cursor is on now). */
let shownSku: string | null = null;

/** Send is possible only for an item shown, known to the hub, and not while the sidebar reloads. */
function updateSend(): void {
  const state = current;
  const can = !loading && !!state && state.connected && !!shownSku && !state.itemUnknown;
  $<HTMLButtonElement>('adj-send').disabled = !can;
  $('adjust-section').classList.toggle('disabled', !can);
  const hint = $('adj-hint');
  hint.textContent = loading
    ? 'Reading the selected row…'
    : state && shownSku && state.itemUnknown
      ? `The hub does not know ${shownSku} yet, so nothing can be booked on it: choose stockrelay › Sync now, then Refresh.`
      : shownSku
        ? `Books on ${shownSku}.`
        : '';
}

function renderForm(state: SidebarState): void {
  const loc = $<HTMLSelectElement>('adj-loc');
  const chosen = loc.value;
  loc.replaceChildren(...(state.locations.length ? state.locations : ['']).map((l) => el('option', { text: l || '(the hub’s default)' })));
  [...loc.options].forEach((o, i) => (o.value = state.locations[i] ?? ''));
  if (state.locations.includes(chosen)) loc.value = chosen;
  const reason = $<HTMLSelectElement>('adj-reason');
  if (reason.options.length !== state.reasons.length) {
    reason.replaceChildren(...state.reasons.map((r) => el('option', { text: r })));
  }
  updateSend();
}

let current: SidebarState | null = null;

export function render(state: SidebarState): void {
  current = state;
  const notices = [state.notice, state.notSynced].filter((n): n is string => !!n);
  const notice = $('notice');
  notice.textContent = notices.join(' ');
  notice.hidden = notices.length === 0;
  const problem = $('hub-problem');
  problem.textContent = state.hubProblem ?? '';
  problem.hidden = !state.hubProblem;
  const row = state.row;
  const sku = row?.sku ?? null;
  shownSku = sku;
  $('row-title').textContent = sku ? `${sku}${row?.title ? ` — ${row.title}` : ''}` : 'No item selected';
  $('row-hint').textContent = !row
    ? 'Put the cursor on a row of the Catalog tab, then press Refresh.'
    : sku
      ? `Catalog row ${row.row}`
      : row.sheet !== 'Catalog'
        ? `The cursor is on the ${row.sheet} tab: select a row of the Catalog tab.`
        : `Row ${row.row} has no SKU.`;
  renderLevels(state.item.data, state.item.error);
  renderMovements(state.movements.data, state.movements.error, !!sku);
  renderAlerts(state.alerts.data, state.alerts.error, sku);
  renderQueue(state.queue, state.connected);
  renderChannels(state.channels.data, state.channels.error);
  renderConflicts(state.conflicts);
  renderForm(state);
  $('footer').textContent = state.connected ? `Hub: ${state.hubUrl}${footerNote(state)}` : '';
}

function footerNote(state: SidebarState): string {
  const c = state.connection;
  if (!c.active) return ' · triggers not installed: edits are not sent (stockrelay › Install triggers; one person does it for everyone)';
  if (!c.mine && c.installedBy) return ` · edits are relayed by the triggers ${c.installedBy} installed`;
  return '';
}

export async function load(): Promise<void> {
  loading = true;
  updateSend();
  try {
    const state = await withSpinner('Reading from the hub…', () => call('sidebarState'));
    showError(null);
    loading = false;
    render(state);
  } catch (err) {
    showError(`Could not read the stock for this row. ${plainError(err)}`);
  } finally {
    loading = false;
    updateSend();
  }
}

async function sendWaiting(): Promise<void> {
  try {
    const res = await withSpinner('Sending what is waiting…', () => call('sidebarSendWaiting'));
    showError(null);
    renderQueue(res.queue, current?.connected ?? true);
    $('adj-result').textContent = res.message;
  } catch (err) {
    showError(`Could not send what is waiting. ${plainError(err)}`);
  }
}

async function dismissFailed(id: string): Promise<void> {
  try {
    const queue = await withSpinner('Removing…', () => call('sidebarDismissFailed', id));
    renderQueue(queue, current?.connected ?? true);
  } catch (err) {
    showError(`Could not remove it from the list. ${plainError(err)}`);
  }
}

async function adjust(ev: Event): Promise<void> {
  ev.preventDefault();
  const result = $('adj-result');
  // The SKU shown, and only once the sidebar has finished reading it (Enter in a field submits too).
  const sku = shownSku;
  if (loading || $<HTMLButtonElement>('adj-send').disabled) return;
  if (!sku) {
    result.className = 'result bad';
    result.textContent = 'Put the cursor on a Catalog row with a SKU first, then press Refresh.';
    return;
  }
  const form: AdjustForm = {
    sku,
    location: $<HTMLSelectElement>('adj-loc').value,
    quantity: $<HTMLInputElement>('adj-qty').value,
    reason: $<HTMLSelectElement>('adj-reason').value,
    note: $<HTMLInputElement>('adj-note').value,
  };
  const button = $<HTMLButtonElement>('adj-send');
  button.disabled = true;
  try {
    const res = await withSpinner('Sending the adjustment…', () => call('sidebarAdjust', form));
    result.className = `result ${res.ok ? 'good' : 'bad'}`;
    result.textContent = res.message;
    if (res.ok) {
      $<HTMLInputElement>('adj-qty').value = '';
      $<HTMLInputElement>('adj-note').value = '';
      await load();
    }
  } catch (err) {
    result.className = 'result bad';
    result.textContent = `The adjustment was not sent. ${plainError(err)}`;
  } finally {
    updateSend();
  }
}

let lastFocusLoad = 0;
function start(): void {
  $('refresh').addEventListener('click', () => void load());
  $('adjust').addEventListener('submit', (ev) => void adjust(ev));
  // Coming back to the sidebar after moving the cursor reads the new row (at most every 3 s).
  window.addEventListener('focus', () => {
    if (Date.now() - lastFocusLoad < 3000 || busy > 0) return;
    lastFocusLoad = Date.now();
    void load();
  });
  void load();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
