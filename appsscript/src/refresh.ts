/**
 * "Refresh dashboard" and the daily trigger: reads the sales figures and the reorder list from the
 * hub, then rewrites the Dashboard and Reorder tabs. Each is read in full and checked before its tab
 * is touched: when the hub does not answer or refuses, the tab keeps what it showed.
 */
import type { Context } from './context';
import { DASHBOARD, DASHBOARD_PATH, dayText, parseDashboard, writeDashboard, type DashboardAnswer } from './dashboard';
import { parseReorder, REORDER, REORDER_PATH, writeReorder, type ReorderAnswer } from './reorder';
import { HubError } from './hub';
import { NOT_CONNECTED } from './settings';

export interface RefreshReport {
  /** Set when nothing could be tried (not connected). */
  problem: string | null;
  dashboard: { ok: true; from: string; to: string; units: number; orders: number } | Failed;
  reorder: { ok: true; items: number; orderNow: number } | Failed;
}

/** `code`: the hub's error code, so two reads failing for the same reason are told once. */
type Failed = { ok: false; message: string; code?: string };

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

function failed(err: unknown, hubUrl: string): Failed {
  if (err instanceof HubError && err.code === 'unreachable') {
    return { ok: false, code: err.code, message: `The hub at ${hubUrl} did not answer: it may be down or restarting. Try again in a few minutes.` };
  }
  return err instanceof HubError ? { ok: false, code: err.code, message: err.message } : { ok: false, message: message(err) };
}

export function refreshReports(c: Context): RefreshReport {
  const hub = c.hub();
  if (!hub) return { problem: NOT_CONNECTED, dashboard: { ok: false, message: NOT_CONNECTED }, reorder: { ok: false, message: NOT_CONNECTED } };

  let dash: DashboardAnswer | null = null;
  let reorder: ReorderAnswer | null = null;
  const report: RefreshReport = { problem: null, dashboard: { ok: false, message: '' }, reorder: { ok: false, message: '' } };
  try {
    dash = parseDashboard(hub.get<unknown>(DASHBOARD_PATH));
  } catch (err) {
    report.dashboard = failed(err, hub.url);
  }
  try {
    reorder = parseReorder(hub.get<unknown>(REORDER_PATH));
  } catch (err) {
    report.reorder = failed(err, hub.url);
  }

  // Written under the document lock: a menu refresh and the daily one never interleave their charts.
  c.locked(() => {
    if (dash) {
      try {
        writeDashboard(c, dash);
        report.dashboard = { ok: true, from: dash.from, to: dash.to, units: dash.totals.units, orders: dash.totals.orders };
      } catch (err) {
        report.dashboard = { ok: false, message: message(err) };
      }
    }
    if (reorder) {
      try {
        const r = writeReorder(c, reorder);
        report.reorder = { ok: true, ...r };
      } catch (err) {
        report.reorder = { ok: false, message: message(err) };
      }
    }
  });
  return report;
}

/** What the menu tells: one line per tab; `failed` is true when something was not refreshed. */
export function describeRefresh(r: RefreshReport): { text: string; failed: boolean } {
  if (r.problem) return { text: `The Dashboard and Reorder tabs were not refreshed. ${r.problem}`, failed: true };
  const d = r.dashboard;
  const o = r.reorder;
  if (!d.ok && !o.ok && (d.message === o.message || (d.code !== undefined && d.code === o.code))) {
    return { text: `The ${DASHBOARD} and ${REORDER} tabs were not refreshed and still show what they showed before.\n\n${d.message}`, failed: true };
  }
  const lines = [
    d.ok
      ? `${DASHBOARD} refreshed: ${dayText(d.from)} to ${dayText(d.to)}, ${d.units} unit${d.units === 1 ? '' : 's'} sold in ${d.orders} order${d.orders === 1 ? '' : 's'}.`
      : `The ${DASHBOARD} tab was not refreshed and still shows what it showed before: ${d.message}`,
    o.ok
      ? o.items === 0
        ? `${REORDER} refreshed: the hub has no items to list yet.`
        : `${REORDER} refreshed: ${o.orderNow === 0 ? `nothing needs ordering now (${o.items} items checked)` : `${o.orderNow} of ${o.items} items to order now (at the top)`}.`
      : `The ${REORDER} tab was not refreshed and still shows what it showed before: ${o.message}`,
  ];
  return { text: lines.join('\n\n'), failed: !d.ok || !o.ok };
}
