/**
 * What the sidebar asks the server side for, through google.script.run. The client is typed from
 * `SidebarApi` (a renamed function breaks the build, not the sidebar); everything crossing over is
 * plain JSON. Each section carries its own error in plain words, so one failing read does not
 * blank the others.
 */
import { readLayout, rowFromValues } from './catalog';
import type { Context } from './context';
import { HubError, type HubClient } from './hub';
import type { FailedRelay } from './queue';
import { NOT_CONNECTED } from './settings';
import { NOT_SYNCED_KEY } from './structure';
import { connectionView, triggersInstalled, type ConnectionView } from './triggers';
import { CATALOG, HEADER_ROW } from '../../server/shared/sheet-layout';

/** The reasons the hub takes for an adjustment (server/core/relay.ts ADJUSTMENT_REASONS; a test keeps them equal). */
export const ADJUSTMENT_REASONS = ['adjustment', 'restock', 'receipt', 'return', 'sale', 'exchange'] as const;
export type AdjustmentReason = (typeof ADJUSTMENT_REASONS)[number];

export interface ChannelLevelView {
  channelId: string;
  channelName: string;
  published: number;
  /** What was last pushed to the channel, and when; what the channel last showed. */
  pushed: number | null;
  pushedAt: string | null;
  observed: number | null;
  observedAt: string | null;
}

export interface LocationView {
  locationId: string;
  onHand: number;
  available: number;
  channels: ChannelLevelView[];
}

export interface ItemSection {
  sku: string;
  title: string | null;
  status: string;
  locations: LocationView[];
}

export interface MovementLine {
  when: string;
  location: string;
  quantity: number;
  reason: string;
  source: string;
  channel: string | null;
  actor: string | null;
  note: string | null;
  reference: string | null;
}

export interface AlertLine {
  severity: string;
  kind: string;
  sku: string | null;
  location: string | null;
  channel: string | null;
  message: string;
  openedAt: string;
}

export interface ChannelHealth {
  id: string;
  name: string;
  platform: string;
  health: 'ok' | 'failing' | 'suspended' | 'not connected';
  detail: string;
  /** One line per feed the hub checks on the channel (orders it polls, docs/polling.md), in plain words. */
  checks?: string[];
}

/** A polled feed as GET /v1/channels describes it. */
export interface ApiFeed {
  feed: string;
  status: 'ok' | 'failing' | 'stalled' | 'starting' | 'off';
  everyMs: number;
  lastPollAt: string | null;
  lastSuccessAt: string | null;
  lagSeconds: number | null;
  consecutiveErrors: number;
  lastError: string | null;
}

/** "less than a minute", "1 min", "25 min", "3 h", "2 days": how long, as a shop owner says it. */
export function duration(ms: number): string {
  const min = Math.floor(ms / 60_000);
  if (min < 1) return 'less than a minute';
  if (min < 120) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h`;
  return `${Math.floor(h / 24)} days`;
}

/**
 * What the sidebar says about each feed the hub checks on a channel: when it last looked, and
 * whether looking fails. E.g. "Orders checked 2 min ago (every 1 min)."
 */
export function feedLines(feeds: readonly ApiFeed[], nowMs: number): string[] {
  return feeds.map((f) => {
    const what = f.feed.charAt(0).toUpperCase() + f.feed.slice(1);
    const every = duration(Math.max(60_000, f.everyMs));
    const since = (iso: string | null) => (iso ? `${duration(nowMs - Date.parse(iso))} ago` : 'not yet');
    const answer = f.lastError ? ` Last answer: ${f.lastError}` : '';
    switch (f.status) {
      case 'off':
        return `${what} are not checked (turned off in the hub's settings).`;
      case 'starting':
        return f.consecutiveErrors > 0 ? `${what} could not be checked yet (${f.consecutiveErrors} tries failed).${answer}` : `${what}: the first check is under way.`;
      case 'stalled':
        return `${what} not checked for ${f.lastSuccessAt ? duration(nowMs - Date.parse(f.lastSuccessAt)) : 'a while'}: sales made there may be missing here until it works again; the hub keeps trying.${answer}`;
      case 'failing':
        return `${what} last checked ${since(f.lastSuccessAt)}; the last ${f.consecutiveErrors === 1 ? 'try' : `${f.consecutiveErrors} tries`} failed, the hub tries again on its own.${answer}`;
      default:
        return `${what} checked ${since(f.lastSuccessAt)} (every ${every}).`;
    }
  });
}

/** One open conflict (docs/conflicts.md); `id` is null when it was read from the Conflicts tab, not the hub. */
export interface ConflictLine {
  id: number | null;
  sku: string;
  location: string;
  sheetShowed: string;
  typed: string;
  hubHad: string;
  /** The hub's on hand now (only when read from the hub). */
  hubNow: string | null;
  who: string;
  foundAt: string;
}

export interface ConflictsView {
  items: ConflictLine[];
  /** True when the items came from the hub and can be accepted or rejected here. */
  canDecide: boolean;
  error: string | null;
  note: string;
}

export interface DecisionResult {
  ok: boolean;
  message: string;
  conflicts: ConflictsView;
}

export interface Section<T> {
  data: T;
  error: string | null;
}

export interface SidebarState {
  connected: boolean;
  hubUrl: string | null;
  notice: string | null;
  row: { sheet: string; row: number; sku: string | null; title: string | null } | null;
  item: Section<ItemSection | null>;
  movements: Section<MovementLine[]>;
  alerts: Section<AlertLine[]>;
  channels: Section<ChannelHealth[]>;
  queue: { waiting: number; oldestWaiting: string | null; lastError: string | null; failed: Pick<FailedRelay, 'id' | 'summary' | 'status' | 'code' | 'message' | 'failedAt'>[] };
  conflicts: ConflictsView;
  locations: string[];
  reasons: string[];
  /** The current user's own stockrelay triggers. */
  triggers: string[];
  /** How edits reach the hub: the triggers in use, whoever installed them. */
  connection: ConnectionView;
  /** Set while some rows of the Catalog are not on the hub (Sync now could not send them all). */
  notSynced: string | null;
  /** The hub does not know the selected SKU: nothing can be adjusted on it until Sync now sends its row. */
  itemUnknown: boolean;
  /**
   * The hub could not be read at all (down, restarting, token refused): said once. The sections it
   * stopped carry the same words in their `error`; the sidebar shows them once, at the top.
   */
  hubProblem: string | null;
}

export interface AdjustForm {
  sku: string;
  location: string;
  quantity: number | string;
  reason: string;
  note: string;
}

export interface AdjustResult {
  ok: boolean;
  message: string;
  waiting: number;
}

/** The functions the sidebar calls; `app.ts` implements them and the bundle exposes them. */
export interface SidebarApi {
  sidebarState(): SidebarState;
  sidebarAdjust(form: AdjustForm): AdjustResult;
  sidebarDismissFailed(id: string | null): SidebarState['queue'];
  sidebarSendWaiting(): { message: string; queue: SidebarState['queue'] };
  sidebarDecideConflict(id: number, decision: 'accept' | 'reject'): DecisionResult;
}

const errorText = (err: unknown) => (err instanceof HubError || err instanceof Error ? err.message : String(err));

function section<T>(fallback: T, fn: () => T): Section<T> {
  try {
    return { data: fn(), error: null };
  } catch (err) {
    return { data: fallback, error: errorText(err) };
  }
}

/** The Catalog row under the cursor (null when the cursor is elsewhere). */
export function rowUnderCursor(ctx: Context): SidebarState['row'] {
  const ss = ctx.spreadsheet();
  const range = ss.getActiveRange();
  if (!range) return null;
  const sheet = range.getSheet();
  if (sheet.getName() !== CATALOG) return { sheet: sheet.getName(), row: range.getRow(), sku: null, title: null };
  const row = range.getRow();
  if (row <= HEADER_ROW) return { sheet: CATALOG, row, sku: null, title: null };
  const layout = readLayout(sheet);
  if (layout.lastColumn < 1) return { sheet: CATALOG, row, sku: null, title: null };
  const r = rowFromValues(row, sheet.getRange(row, 1, 1, layout.lastColumn).getValues()[0] ?? [], layout);
  return { sheet: CATALOG, row, sku: r.sku || null, title: r.title };
}

export function queueView(ctx: Context): SidebarState['queue'] {
  const box = ctx.outbox();
  const waiting = box.waiting();
  return {
    waiting: waiting.length,
    oldestWaiting: waiting[0]?.queuedAt ?? null,
    lastError: waiting[0]?.lastError ?? null,
    failed: box
      .failed()
      .slice()
      .reverse()
      .map((f) => ({ id: f.id, summary: f.summary, status: f.status, code: f.code, message: f.message, failedAt: f.failedAt })),
  };
}

interface ApiItem {
  sku: string;
  title: string | null;
  status: string;
  locations: { locationId: string; onHand: number; available: number; channels: { channelId: string; channelName: string; published: number }[] }[];
}
interface ApiListings {
  levels: { sku: string; locationId: string; pushed: number | null; pushedAt: string | null; observed: number | null; observedAt: string | null }[];
}
interface ApiChannel {
  id: string;
  name: string;
  platform: string;
  connected: boolean;
  suspendedUntil: string | null;
  /** Absent from a hub older than polling. */
  feeds?: ApiFeed[];
}
interface ApiAlert {
  kind: string;
  severity: string;
  sku: string | null;
  locationId: string | null;
  channelId: string | null;
  message: string;
  openedAt: string;
}
interface ApiMovement {
  locationId: string;
  quantity: number;
  reason: string;
  source: string;
  channelId: string | null;
  actor: string | null;
  note: string | null;
  externalRef: string | null;
  occurredAt: string;
}

function readItem(hub: HubClient, sku: string): ItemSection | null {
  let item: ApiItem;
  try {
    item = hub.get<ApiItem>(`/v1/items/${encodeURIComponent(sku)}`);
  } catch (err) {
    if (err instanceof HubError && err.status === 404) throw new HubError(`The hub does not know ${sku} yet: choose Sync now to send new rows.`, 404, 'unknown_sku');
    throw err;
  }
  // The last push per channel: one read per channel that lists the item.
  const levels = new Map<string, ApiListings['levels'][number]>();
  const channelIds = [...new Set(item.locations.flatMap((l) => l.channels.map((c) => c.channelId)))];
  for (const id of channelIds) {
    try {
      const res = hub.get<ApiListings>(`/v1/channels/${encodeURIComponent(id)}/listings`);
      for (const l of res.levels) if (l.sku === sku) levels.set(`${id}\u0001${l.locationId}`, l);
    } catch {
      /* a channel without connector: its published level is still shown, without the last push */
    }
  }
  return {
    sku: item.sku,
    title: item.title,
    status: item.status,
    locations: item.locations.map((l) => ({
      locationId: l.locationId,
      onHand: l.onHand,
      available: l.available,
      channels: l.channels.map((c) => {
        const lv = levels.get(`${c.channelId}\u0001${l.locationId}`);
        return { channelId: c.channelId, channelName: c.channelName, published: c.published, pushed: lv?.pushed ?? null, pushedAt: lv?.pushedAt ?? null, observed: lv?.observed ?? null, observedAt: lv?.observedAt ?? null };
      }),
    })),
  };
}

const DECIDE_NOTE = 'Accept: the number typed becomes the count, and anything sold since it was typed is kept. Reject: the hub’s number stays and is written back into the Catalog cell.';

interface ApiConflict {
  id: number;
  sku: string;
  locationId: string;
  sheetShowed: number | null;
  typed: number;
  hubHad: number;
  hubNow: number;
  actor: string | null;
  foundAt: string;
}

/** The open conflicts: from the hub (with Accept and Reject), else as the Conflicts tab shows them. */
export function conflictsView(ctx: Context, hub: HubClient | null, sku: string | null): ConflictsView {
  let error: string | null = null;
  if (hub) {
    try {
      const res = hub.get<{ conflicts: ApiConflict[] }>('/v1/conflicts?status=open&limit=50');
      const items = res.conflicts.map(
        (c): ConflictLine => ({ id: c.id, sku: c.sku, location: c.locationId, sheetShowed: c.sheetShowed === null ? 'unknown' : String(c.sheetShowed), typed: String(c.typed), hubHad: String(c.hubHad), hubNow: String(c.hubNow), who: c.actor ?? '', foundAt: c.foundAt }),
      );
      // The selected item's first.
      items.sort((a, b) => Number(b.sku === sku) - Number(a.sku === sku));
      return { items: items.slice(0, 20), canDecide: true, error: null, note: DECIDE_NOTE };
    } catch (err) {
      error = errorText(err);
    }
  }
  return { items: conflictsTab(ctx), canDecide: false, error, note: hub ? 'Shown from the Conflicts tab until the hub answers again.' : 'Shown from the Conflicts tab; connect to the hub to accept or reject them.' };
}

function conflictsTab(ctx: Context): ConflictLine[] {
  const sheet = ctx.spreadsheet().getSheetByName('Conflicts');
  if (!sheet || sheet.getLastRow() < 1 || sheet.getLastColumn() < 1) return [];
  const values = sheet.getRange(1, 1, sheet.getLastRow(), sheet.getLastColumn()).getValues();
  const text = (v: unknown) => (v instanceof Date ? v.toISOString() : v === null || v === undefined ? '' : String(v));
  const [headers = [], ...rows] = values.map((r) => r.map(text));
  const col = (name: string) => headers.findIndex((h) => h.trim().toLowerCase() === name);
  const at = (r: string[], name: string) => (col(name) >= 0 ? (r[col(name)] ?? '') : '');
  const open = rows.filter((r) => r.some((c) => c !== '') && !/^(resolved|done|accepted|rejected)/i.test(at(r, 'status')));
  // The hub puts the newest at the top.
  return open.slice(0, 20).map((r) => ({ id: null, sku: at(r, 'sku'), location: at(r, 'location'), sheetShowed: at(r, 'sheet showed'), typed: at(r, 'typed'), hubHad: at(r, 'hub has'), hubNow: null, who: at(r, 'who'), foundAt: at(r, 'found') }));
}

/** Accept or reject one conflict on the hub; says what happened in the hub's own words. */
export function sidebarDecideConflict(ctx: Context, id: number, decision: 'accept' | 'reject'): DecisionResult {
  const hub = ctx.hub();
  const sku = (() => {
    try {
      return rowUnderCursor(ctx)?.sku ?? null;
    } catch {
      return null;
    }
  })();
  if (!hub) return { ok: false, message: NOT_CONNECTED, conflicts: conflictsView(ctx, null, sku) };
  if (!Number.isSafeInteger(id) || id < 1 || (decision !== 'accept' && decision !== 'reject')) {
    return { ok: false, message: 'That conflict cannot be found: press Refresh and try again.', conflicts: conflictsView(ctx, hub, sku) };
  }
  const actor = ctx.actor();
  try {
    const res = hub.post<{ message: string }>(`/v1/conflicts/${id}/${decision}`, { origin: 'sidebar', ...(actor ? { actor } : {}) });
    return { ok: true, message: res.message, conflicts: conflictsView(ctx, hub, sku) };
  } catch (err) {
    return { ok: false, message: errorText(err), conflicts: conflictsView(ctx, hub, sku) };
  }
}

/**
 * The hub client for one sidebar read: once the hub has not answered (or answered 5xx, or refused
 * the token), the next reads fail at once with the same error instead of each waiting for it again.
 */
function stopAfterOutage(hub: HubClient): { hub: HubClient; outage: () => HubError | null } {
  let outage: HubError | null = null;
  const wrapped = Object.create(hub) as HubClient;
  const guard = <T>(fn: () => T): T => {
    if (outage) throw outage;
    try {
      return fn();
    } catch (err) {
      if (err instanceof HubError && (err.code === 'unreachable' || err.status === 401 || (err.status ?? 0) >= 500)) outage = err;
      throw err;
    }
  };
  wrapped.get = <T>(path: string) => guard(() => hub.get<T>(path));
  wrapped.post = <T>(path: string, body: unknown) => guard(() => hub.post<T>(path, body));
  return { hub: wrapped, outage: () => outage };
}

export function sidebarState(ctx: Context): SidebarState {
  const direct = ctx.hub();
  const guarded = direct ? stopAfterOutage(direct) : null;
  const hub = guarded?.hub ?? null;
  const row = section(null as SidebarState['row'], () => rowUnderCursor(ctx));
  const sku = row.data?.sku ?? null;
  const catalog = ctx.spreadsheet().getSheetByName(CATALOG);
  const sheetLocations = catalog ? readLayout(catalog).onHand.map((o) => o.location ?? '') : [];
  const state: SidebarState = {
    connected: hub !== null,
    hubUrl: hub?.url ?? null,
    notice: hub ? null : NOT_CONNECTED,
    row: row.data,
    item: { data: null, error: null },
    movements: { data: [], error: null },
    alerts: { data: [], error: null },
    channels: { data: [], error: null },
    queue: queueView(ctx),
    conflicts: { items: [], canDecide: false, error: null, note: '' },
    locations: sheetLocations,
    reasons: [...ADJUSTMENT_REASONS],
    triggers: section([] as string[], () => triggersInstalled(ctx)).data,
    connection: section({ active: false, installedBy: null, installedAt: null, mine: false } as ConnectionView, () => connectionView(ctx)).data,
    notSynced: section(null as string | null, () => ctx.store().getString(NOT_SYNCED_KEY)).data,
    itemUnknown: false,
    hubProblem: null,
  };
  state.conflicts = conflictsView(ctx, hub, sku);
  if (!hub) return state;
  const finish = () => {
    state.hubProblem = guarded?.outage()?.message ?? null;
    return state;
  };

  const channelNames = new Map<string, string>();
  state.channels = section([] as ChannelHealth[], () => {
    const res = hub.get<{ channels: ApiChannel[] }>('/v1/channels');
    res.channels.forEach((c) => channelNames.set(c.id, c.name));
    const now = ctx.now().getTime();
    return res.channels.map((c): ChannelHealth => {
      const checks = feedLines(c.feeds ?? [], now);
      const base = { id: c.id, name: c.name, platform: c.platform, ...(checks.length > 0 ? { checks } : {}) };
      if (!c.connected) return { ...base, health: 'not connected', detail: 'The hub has no connector for this platform yet.' };
      if (c.suspendedUntil && Date.parse(c.suspendedUntil) > now) return { ...base, health: 'suspended', detail: `Paused by the hub until ${c.suspendedUntil} (the platform refused or limited it).` };
      return { ...base, health: 'ok', detail: 'Connected.' };
    });
  });
  state.alerts = section([] as AlertLine[], () => {
    const res = hub.get<{ alerts: ApiAlert[] }>('/v1/alerts?status=open&limit=50');
    return res.alerts.map((a) => ({ severity: a.severity, kind: a.kind, sku: a.sku, location: a.locationId, channel: a.channelId ? (channelNames.get(a.channelId) ?? a.channelId) : null, message: a.message, openedAt: a.openedAt }));
  });
  // A channel with an open alert about it as a whole is failing; a suspended one says until when.
  for (const ch of state.channels.data) {
    const alert = state.alerts.data.find((a) => a.channel === ch.name && !a.sku);
    if (alert && ch.health === 'ok') {
      ch.health = /suspend/i.test(alert.kind) ? 'suspended' : 'failing';
      ch.detail = alert.message;
    }
  }
  if (sku) {
    state.item = section(null as ItemSection | null, () => readItem(hub, sku));
    state.itemUnknown = state.item.data === null && state.item.error !== null && /does not know/.test(state.item.error);
    if (state.item.data) state.locations = [...new Set([...state.item.data.locations.map((l) => l.locationId), ...state.locations.filter(Boolean)])];
    state.movements = section([] as MovementLine[], () => {
      if (state.item.error && /does not know/.test(state.item.error)) return [];
      const res = hub.get<{ movements: ApiMovement[] }>(`/v1/items/${encodeURIComponent(sku)}/movements?limit=15`);
      return res.movements.map((m) => ({
        when: m.occurredAt,
        location: m.locationId,
        quantity: m.quantity,
        reason: m.reason,
        source: m.source,
        channel: m.channelId ? (channelNames.get(m.channelId) ?? m.channelId) : null,
        actor: m.actor,
        note: m.note,
        reference: m.externalRef,
      }));
    });
  }
  return finish();
}

/** Pure: checks the adjust form; returns the relay body's fields or a message saying what to fix. */
export function checkAdjustForm(form: AdjustForm): { ok: true; quantity: number; reason: AdjustmentReason; note: string | null; location: string | null; sku: string } | { ok: false; message: string } {
  const sku = String(form.sku ?? '').trim();
  if (!sku) return { ok: false, message: 'Put the cursor on a Catalog row with a SKU first.' };
  const qText = String(form.quantity ?? '').trim();
  if (!/^[+-]?\d+$/.test(qText)) return { ok: false, message: `"${qText}" is not a whole number: type how many units to add (like 3) or remove (like -2).` };
  const quantity = Number(qText);
  if (quantity === 0) return { ok: false, message: 'An adjustment of 0 changes nothing: type how many units to add or remove.' };
  if (Math.abs(quantity) > 1_000_000) return { ok: false, message: 'That is more than a million units: check the number.' };
  if (!(ADJUSTMENT_REASONS as readonly string[]).includes(form.reason)) return { ok: false, message: `Choose a reason (${ADJUSTMENT_REASONS.join(', ')}).` };
  const note = String(form.note ?? '').trim();
  if (note.length > 1000) return { ok: false, message: 'The note is longer than 1,000 characters: shorten it.' };
  const location = String(form.location ?? '').trim();
  return { ok: true, sku, quantity, reason: form.reason as AdjustmentReason, note: note || null, location: location || null };
}

export function sidebarAdjust(ctx: Context, form: AdjustForm): AdjustResult {
  const checked = checkAdjustForm(form);
  if (!checked.ok) return { ok: false, message: checked.message, waiting: ctx.outbox().waiting().length };
  const actor = ctx.actor();
  const body = {
    kind: 'adjustment',
    origin: 'sidebar',
    sku: checked.sku,
    ...(checked.location ? { location: checked.location } : {}),
    quantity: checked.quantity,
    reason: checked.reason,
    ...(checked.note ? { note: checked.note } : {}),
    ...(actor ? { actor } : {}),
    occurredAt: ctx.now().toISOString(),
  };
  const signed = checked.quantity > 0 ? `+${checked.quantity}` : String(checked.quantity);
  const what = `${checked.sku}: ${signed} (${checked.reason})${checked.location ? ` at ${checked.location}` : ''}`;
  const res = ctx.relay(body, what);
  if (res.status === 'delivered') return { ok: true, message: `Sent: ${what}. The hub books it in a moment.`, waiting: res.waiting };
  if (res.status === 'queued') return { ok: true, message: `Kept, not sent yet: ${what}. ${res.message}`, waiting: res.waiting };
  return { ok: false, message: res.message, waiting: res.waiting };
}
