/**
 * Installable triggers: simple triggers cannot reach the hub (no UrlFetchApp), so the add-on
 * installs onEdit, onChange, a one-minute timer and a daily timer that refreshes the Dashboard and
 * Reorder tabs early in the morning (the spreadsheet's time zone). Installing again leaves exactly one of each.
 * Handlers are not named onEdit/onChange, so Apps Script never also runs them as simple triggers.
 *
 * One set for the whole spreadsheet. An installable trigger belongs to the person who made it, runs
 * as them, and cannot be seen by anyone else (ScriptApp.getProjectTriggers lists the current
 * user's only), yet every person's edit trigger fires for every edit. So the set in use is recorded
 * in the document's properties (OWNER_KEY: who installed it, when, and each trigger's id); a second
 * editor is told the sheet is already connected instead of installing a second set, and a handler
 * run by any other trigger (someone else's set, or one left from before) does nothing. One edit is
 * relayed once.
 */
import type { Context } from './context';
import type { TriggerLike } from './gas';

export const TRIGGERS = [
  { handler: 'onSheetEdit', kind: 'edit' },
  { handler: 'onSheetChange', kind: 'change' },
  { handler: 'flushQueue', kind: 'clock' },
  { handler: 'refreshDashboardDaily', kind: 'daily' },
] as const;

export type Handler = (typeof TRIGGERS)[number]['handler'];

export const FLUSH_EVERY_MINUTES = 1;
/** The daily refresh runs between this hour and the next, in the spreadsheet's time zone. */
export const DAILY_REFRESH_HOUR = 6;
/** The trigger set in use: `TriggerOwner` as JSON. */
export const OWNER_KEY = 'stockrelay.triggers';

export interface TriggerOwner {
  /** Who installed the triggers in use (null when Apps Script did not say). */
  email: string | null;
  installedAt: string;
  /** Handler → the unique id of the trigger that may run it. */
  ids: Partial<Record<Handler, string>>;
}

export interface TriggerReport {
  created: string[];
  kept: string[];
  removed: number;
}

const ours = new Set<string>(TRIGGERS.map((t) => t.handler));

export function readOwner(ctx: Context): TriggerOwner | null {
  const text = ctx.properties().getProperty(OWNER_KEY);
  if (!text) return null;
  try {
    const o = JSON.parse(text) as TriggerOwner;
    return o && typeof o === 'object' && o.ids && typeof o.ids === 'object' ? o : null;
  } catch {
    return null;
  }
}

/** Who runs this execution: the person at the menu, or the owner of the trigger that fired. */
export function effectiveEmail(ctx: Context): string | null {
  for (const get of [() => ctx.services.session.getEffectiveUser().getEmail(), () => ctx.services.session.getActiveUser().getEmail()]) {
    try {
      const email = get();
      if (email) return email;
    } catch {
      /* not allowed here: try the next */
    }
  }
  return null;
}

/** The current user's own stockrelay triggers (the only ones Apps Script shows them). */
function myTriggers(ctx: Context): TriggerLike[] {
  return ctx.services.scriptApp.getProjectTriggers().filter((t) => ours.has(t.getHandlerFunction()));
}

/** True when the record names one of the current user's triggers: this user's set is the one in use. */
export function ownsTriggers(ctx: Context, owner: TriggerOwner | null = readOwner(ctx)): boolean {
  if (!owner) return false;
  const mine = new Set(myTriggers(ctx).map((t) => t.getUniqueId()));
  return Object.values(owner.ids).some((id) => id !== undefined && mine.has(id));
}

/**
 * May the trigger `triggerUid` run `handler`? Yes when it is the recorded one. A trigger installed
 * before the record existed claims its handler the first time it fires (under the document lock, so
 * of two such triggers firing for one edit, one claims and the other does nothing). An event without
 * a trigger id (run by hand from the editor) is allowed.
 */
export function mayRun(ctx: Context, handler: Handler, triggerUid: string | undefined): boolean {
  if (!triggerUid) return true;
  const owner = readOwner(ctx);
  const recorded = owner?.ids[handler];
  if (recorded) return recorded === triggerUid;
  return ctx.locked(() => {
    const now = readOwner(ctx);
    const again = now?.ids[handler];
    if (again) return again === triggerUid;
    const next: TriggerOwner = now ?? { email: effectiveEmail(ctx), installedAt: ctx.now().toISOString(), ids: {} };
    next.ids[handler] = triggerUid;
    ctx.properties().setProperty(OWNER_KEY, JSON.stringify(next));
    return true;
  });
}

export type InstallAnswer = { done: TriggerReport } | { otherOwner: TriggerOwner; inertRemoved: number };

/**
 * Installs the set (or completes the current user's). When another person's set is in use, nothing
 * is installed unless `takeOver` (their triggers stay, but stop relaying: only the recorded set runs).
 */
export function installTriggers(ctx: Context, opts: { takeOver?: boolean } = {}): InstallAnswer {
  const owner = readOwner(ctx);
  // The record names this user's triggers, or this user (whose triggers were deleted by hand since).
  const me = effectiveEmail(ctx);
  const mine = ownsTriggers(ctx, owner) || (!!owner?.email && owner.email === me);
  if (owner && !mine && !opts.takeOver && Object.keys(owner.ids).length > 0) {
    // This user's own triggers, if any, are not the ones in use: they only cost quota.
    const inert = myTriggers(ctx);
    inert.forEach((t) => ctx.services.scriptApp.deleteTrigger(t));
    return { otherOwner: owner, inertRemoved: inert.length };
  }
  const app = ctx.services.scriptApp;
  const report: TriggerReport = { created: [], kept: [], removed: 0 };
  const existing = app.getProjectTriggers();
  const ssId = ctx.spreadsheet().getId();
  const ids: TriggerOwner['ids'] = {};
  for (const t of TRIGGERS) {
    const same = existing.filter((x) => x.getHandlerFunction() === t.handler);
    if (same.length > 0) {
      same.slice(1).forEach((x) => {
        app.deleteTrigger(x);
        report.removed++;
      });
      report.kept.push(t.handler);
      ids[t.handler] = same[0]!.getUniqueId();
      continue;
    }
    let created: TriggerLike;
    if (t.kind === 'edit') created = app.newTrigger(t.handler).forSpreadsheet(ssId).onEdit().create();
    else if (t.kind === 'change') created = app.newTrigger(t.handler).forSpreadsheet(ssId).onChange().create();
    else if (t.kind === 'clock') created = app.newTrigger(t.handler).timeBased().everyMinutes(FLUSH_EVERY_MINUTES).create();
    else created = app.newTrigger(t.handler).timeBased().everyDays(1).atHour(DAILY_REFRESH_HOUR).inTimezone(ctx.timeZone()).create();
    ids[t.handler] = created.getUniqueId();
    report.created.push(t.handler);
  }
  const record: TriggerOwner = { email: me, installedAt: mine && owner ? owner.installedAt : ctx.now().toISOString(), ids };
  ctx.locked(() => ctx.properties().setProperty(OWNER_KEY, JSON.stringify(record)));
  return { done: report };
}

/** Removes the current user's stockrelay triggers; forgets the record when they were the set in use. */
export function removeTriggers(ctx: Context): number {
  const app = ctx.services.scriptApp;
  const owner = readOwner(ctx);
  const wasInUse = ownsTriggers(ctx, owner);
  const mine = myTriggers(ctx);
  mine.forEach((x) => app.deleteTrigger(x));
  if (wasInUse) ctx.locked(() => ctx.properties().deleteProperty(OWNER_KEY));
  return mine.length;
}

/** The current user's installed handlers (what Apps Script lets them see). */
export function triggersInstalled(ctx: Context): string[] {
  return myTriggers(ctx).map((x) => x.getHandlerFunction());
}

/** How the spreadsheet's edits reach the hub, for the sidebar and the menu. */
export interface ConnectionView {
  /** Edits are relayed (a set of triggers is recorded, or the current user has one). */
  active: boolean;
  installedBy: string | null;
  installedAt: string | null;
  /** The set in use is the current user's. */
  mine: boolean;
}

export function connectionView(ctx: Context): ConnectionView {
  const owner = readOwner(ctx);
  const mine = owner ? ownsTriggers(ctx, owner) : false;
  if (owner && Object.keys(owner.ids).length > 0) return { active: true, installedBy: owner.email, installedAt: owner.installedAt, mine };
  // Triggers from before the record: the user's own count.
  const own = triggersInstalled(ctx);
  return { active: own.includes('onSheetEdit'), installedBy: own.length ? effectiveEmail(ctx) : null, installedAt: null, mine: own.length > 0 };
}
