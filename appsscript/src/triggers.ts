/**
 * Installable triggers: simple triggers cannot reach the hub (no UrlFetchApp), so the add-on
 * installs onEdit, onChange, a one-minute timer and a daily timer that refreshes the Dashboard and
 * Reorder tabs early in the morning (the spreadsheet's time zone). Installing again leaves exactly one of each.
 * Handlers are not named onEdit/onChange, so Apps Script never also runs them as simple triggers.
 */
import type { Context } from './context';
import type { TriggerLike } from './gas';

export const TRIGGERS = [
  { handler: 'onSheetEdit', kind: 'edit' },
  { handler: 'onSheetChange', kind: 'change' },
  { handler: 'flushQueue', kind: 'clock' },
  { handler: 'refreshDashboardDaily', kind: 'daily' },
] as const;

export const FLUSH_EVERY_MINUTES = 1;
/** The daily refresh runs between this hour and the next, in the spreadsheet's time zone. */
export const DAILY_REFRESH_HOUR = 6;

export interface TriggerReport {
  created: string[];
  kept: string[];
  removed: number;
}

export function installTriggers(ctx: Context): TriggerReport {
  const app = ctx.services.scriptApp;
  const report: TriggerReport = { created: [], kept: [], removed: 0 };
  const existing = app.getProjectTriggers();
  const ssId = ctx.spreadsheet().getId();
  for (const t of TRIGGERS) {
    const mine = existing.filter((x) => x.getHandlerFunction() === t.handler);
    if (mine.length > 0) {
      mine.slice(1).forEach((x) => {
        app.deleteTrigger(x);
        report.removed++;
      });
      report.kept.push(t.handler);
      continue;
    }
    if (t.kind === 'edit') app.newTrigger(t.handler).forSpreadsheet(ssId).onEdit().create();
    else if (t.kind === 'change') app.newTrigger(t.handler).forSpreadsheet(ssId).onChange().create();
    else if (t.kind === 'clock') app.newTrigger(t.handler).timeBased().everyMinutes(FLUSH_EVERY_MINUTES).create();
    else app.newTrigger(t.handler).timeBased().everyDays(1).atHour(DAILY_REFRESH_HOUR).inTimezone(ctx.timeZone()).create();
    report.created.push(t.handler);
  }
  return report;
}

export function removeTriggers(ctx: Context): number {
  const app = ctx.services.scriptApp;
  const ours = new Set<string>(TRIGGERS.map((t) => t.handler));
  const mine: TriggerLike[] = app.getProjectTriggers().filter((x) => ours.has(x.getHandlerFunction()));
  mine.forEach((x) => app.deleteTrigger(x));
  return mine.length;
}

export function triggersInstalled(ctx: Context): string[] {
  const ours = new Set<string>(TRIGGERS.map((t) => t.handler));
  return ctx.services.scriptApp
    .getProjectTriggers()
    .map((x) => x.getHandlerFunction())
    .filter((h) => ours.has(h));
}

