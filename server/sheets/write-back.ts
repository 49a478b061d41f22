/**
 * What a booking asks of the sheet: outbox rows for the sheets sink, written in the booking's own
 * transaction (so nothing booked is missing from the sheet, and nothing unbooked appears in it).
 * Catalog rows are coalesced per SKU: a burst of sales of one item is one row write, with the
 * latest numbers, read when it is delivered.
 */
import type { HubConfig } from '../config';
import type { Announcement, AnnouncementReceiver } from '../announce';
import { bookedMovements, changedSkus, type BookingObserver } from '../booking/observer';
import type { Outcome } from '../core/booking';
import type { InboxEntry, StoreOps } from '../store/types';
import { isOrderMovement } from './rows';
import { SHEETS_SINK, type SheetTopic } from './sink';

const enqueue = (tx: StoreOps, topic: SheetTopic, coalesceKey: string | null, payload: unknown, now: string) => tx.outbox.enqueue({ sink: SHEETS_SINK, topic, coalesceKey, payload }, now);

export class SheetWriteBack implements BookingObserver, AnnouncementReceiver {
  constructor(private readonly config: Pick<HubConfig, 'channels'>) {}

  async afterEvent(tx: StoreOps, entry: InboxEntry, outcome: Outcome, now: string): Promise<void> {
    for (const m of await bookedMovements(tx, entry, outcome)) {
      await enqueue(tx, 'sheet.movement', null, { movement: m }, now);
      // Orders of channels come from the transaction log ('order.recorded'); a PO shipped or a
      // stock change with an order reference made elsewhere is still listed by its movement.
      if (isOrderMovement(m) && m.source !== 'channel') await enqueue(tx, 'sheet.order', null, { movement: m }, now);
    }
    for (const sku of changedSkus(outcome)) await this.row(tx, sku, now);
    for (const r of outcome.results) {
      if (r.conflictId === undefined) continue;
      if (r.result === 'conflict') {
        // One row per conflict in the Conflicts tab, however often its event is retried.
        if (!(await tx.outbox.latestFor(`sheet:conflict:${r.conflictId}`))) await enqueue(tx, 'sheet.conflict', `sheet:conflict:${r.conflictId}`, { conflictId: r.conflictId }, now);
      } else {
        await enqueue(tx, 'sheet.conflict_status', `sheet:conflict-status:${r.conflictId}`, { conflictId: r.conflictId }, now);
      }
    }
  }

  /** Every announcement (server/announce.ts): a Catalog row, an order, a purchase order typed in the sheet, a row of the Alerts tab. */
  async announced(tx: StoreOps, a: Announcement, now: string): Promise<void> {
    if (a.topic === 'level.changed') await this.row(tx, a.payload.sku, now);
    else if (a.topic === 'order.recorded') await enqueue(tx, 'sheet.order', null, a.payload, now);
    else if (a.topic === 'alert.raised') await enqueue(tx, 'sheet.alert', null, a.payload, now);
    else if (a.topic === 'purchase_order.changed') {
      const po = a.payload.purchaseOrder;
      // Only a PO typed in the sheet has rows there; the latest status of each PO is what is written.
      if (po.origin === 'sheet') await enqueue(tx, 'sheet.po', po.stored ? `sheet:po:${po.number}` : null, { purchaseOrder: po }, now);
    }
  }

  private row(tx: StoreOps, sku: string, now: string): Promise<void> {
    return enqueue(tx, 'sheet.row', `sheet:row:${sku}`, { sku }, now);
  }

  /** Channel names for the Channel columns. */
  channelNames(): Map<string, string> {
    return new Map(this.config.channels.map((c) => [c.id, c.name]));
  }
}
