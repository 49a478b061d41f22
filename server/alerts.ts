/**
 * One path for every alert, to every place that shows alerts.
 *
 * Whatever opens an alert — a stock level (low, out of stock, oversold), a flagged order, a channel
 * or the sheet that keeps failing, a drift found by reconciliation, the reorder check, a Catalog
 * row the sheet write-back cannot find — opens it with `raise` (or, where it was opened already,
 * hands it to `announce`). Both fan it out, inside the caller's transaction, to:
 *   - every receiver the hub registered: the sheet's Alerts tab (server/sheets/write-back.ts) and
 *     the Airtable Alerts table (server/airtable/write-back.ts), as rows of the outbox;
 *   - every notification webhook subscribed to `alert.raised` (config `notify`).
 * The sidebar and `GET /v1/alerts` read the alerts table itself, so they see every alert too.
 */
import type { NotifyConfig } from './config';
import type { AlertRecord, StoreOps } from './store/types';

/** What `alerts.open` takes: kind, severity, the item, location and channel it is about, and the message. */
export type AlertInput = Parameters<StoreOps['alerts']['open']>[0];

/** A place that shows alerts, written through the outbox in the caller's transaction. */
export interface AlertReceiver {
  alert(tx: StoreOps, alert: AlertRecord, now: string): Promise<void>;
}

export class Alerts {
  private readonly receivers: AlertReceiver[] = [];

  constructor(private readonly notify: readonly Pick<NotifyConfig, 'id' | 'topics'>[]) {}

  /** Adds a place that shows alerts (the sheet, the Airtable base). */
  to(receiver: AlertReceiver): this {
    this.receivers.push(receiver);
    return this;
  }

  /**
   * Opens the alert unless the same one is open already (same kind, item, location and channel),
   * and announces it everywhere; returns it, or null when it was open already (nothing is sent twice).
   */
  async raise(tx: StoreOps, input: AlertInput, now: string): Promise<AlertRecord | null> {
    const opened = await tx.alerts.open(input, now);
    if (opened) await this.announce(tx, opened, now);
    return opened;
  }

  /** Sends an alert that was just opened to every receiver and every `alert.raised` subscriber. */
  async announce(tx: StoreOps, alert: AlertRecord, now: string): Promise<void> {
    for (const r of this.receivers) await r.alert(tx, alert, now);
    for (const n of this.notify) {
      if (n.topics.includes('alert.raised')) await tx.outbox.enqueue({ sink: `notify:${n.id}`, topic: 'alert.raised', coalesceKey: null, payload: { alert } }, now);
    }
  }
}
