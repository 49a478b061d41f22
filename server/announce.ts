/**
 * The one way the hub tells the places people look that something changed (docs/architecture.md).
 *
 * Whatever changed — an alert opened (a stock level, a flagged order, a channel or the sheet that
 * keeps failing, a drift found by reconciliation, the reorder check, a Catalog row the sheet cannot
 * find), a level booked, a purchase order moved on, a channel order recorded — is announced with
 * `announce` (an alert: opened and announced with `raise`). Each announcement goes, inside the
 * caller's transaction, to:
 *   - every receiver the hub registered: the sheet (server/sheets/write-back.ts) and the Airtable
 *     base (server/airtable/write-back.ts), as rows of the outbox; each shows what it has a place
 *     for and passes over the rest;
 *   - every notification webhook subscribed to its topic (config `notify`).
 * So no announcement can reach one of them and miss another. The sidebar and `GET /v1/alerts` read
 * the alerts table itself, so they see every alert too.
 *
 * Invariant: what is announced commits or rolls back with what caused it (one transaction), and
 * reaches every receiver and every subscriber of its topic.
 */
import type { NotifyConfig } from './config';
import type { PurchaseOrderView } from './purchase-orders/desk';
import type { AlertRecord, StoreOps } from './store/types';

/** What `raise` takes: kind, severity, the item, location and channel it is about, and the message. */
export type AlertInput = Parameters<StoreOps['alerts']['open']>[0];

/** The numbers of an item at a location, as a `level.changed` announcement carries them. */
export interface LevelChange {
  sku: string;
  at: string;
  [field: string]: unknown;
}

/** Everything the hub announces, by topic. `coalesceKey`: a later announcement of the same key replaces a waiting one. */
export type Announcement =
  | { topic: 'alert.raised'; payload: { alert: AlertRecord } }
  | { topic: 'level.changed'; coalesceKey: string; payload: LevelChange }
  | { topic: 'purchase_order.changed'; payload: { purchaseOrder: PurchaseOrderView; at: string } }
  | { topic: 'order.recorded'; payload: { orderEventId: number; orderId: number } };

export type AnnouncedTopic = Announcement['topic'];

/** A place that shows what the hub announces, written through the outbox in the caller's transaction. */
export interface AnnouncementReceiver {
  announced(tx: StoreOps, a: Announcement, now: string): Promise<void>;
}

export class Announcer {
  private readonly receivers: AnnouncementReceiver[] = [];

  constructor(private readonly notify: readonly Pick<NotifyConfig, 'id' | 'topics'>[]) {}

  /** Adds a place that shows announcements (the sheet, the Airtable base). */
  to(receiver: AnnouncementReceiver): this {
    this.receivers.push(receiver);
    return this;
  }

  /** Sends one announcement to every receiver and to every subscriber of its topic. */
  async announce(tx: StoreOps, a: Announcement, now: string): Promise<void> {
    for (const r of this.receivers) await r.announced(tx, a, now);
    const key = 'coalesceKey' in a ? a.coalesceKey : null;
    for (const n of this.notify) {
      if (!(n.topics as readonly string[]).includes(a.topic)) continue;
      await tx.outbox.enqueue({ sink: `notify:${n.id}`, topic: a.topic, coalesceKey: key ? `${key}:${n.id}` : null, payload: a.payload }, now);
    }
  }

  /**
   * Opens the alert unless the same one is open already (same kind, item, location and channel),
   * and announces it; returns it, or null when it was open already (nothing is sent twice).
   */
  async raise(tx: StoreOps, input: AlertInput, now: string): Promise<AlertRecord | null> {
    const opened = await tx.alerts.open(input, now);
    if (opened) await this.announce(tx, { topic: 'alert.raised', payload: { alert: opened } }, now);
    return opened;
  }
}
