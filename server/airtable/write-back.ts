/**
 * What a booking asks of the Airtable base: outbox rows for the Airtable sink, written in the
 * booking's own transaction, like the sheet's (server/sheets/write-back.ts). Catalog records are
 * coalesced per SKU: a burst of sales of one item is one record write with the latest numbers.
 */
import type { Announcement, AnnouncementReceiver } from '../announce';
import { bookedMovements, changedSkus, type BookingObserver } from '../booking/observer';
import type { Outcome } from '../core/booking';
import { isOrderMovement } from '../sheets/rows';
import type { InboxEntry, StoreOps } from '../store/types';
import type { AirtableConfig } from './config';
import { AIRTABLE_SINK, type AirtableTopic } from './sink';

const enqueue = (tx: StoreOps, topic: AirtableTopic, coalesceKey: string | null, payload: unknown, now: string) => tx.outbox.enqueue({ sink: AIRTABLE_SINK, topic, coalesceKey, payload }, now);

export class AirtableWriteBack implements BookingObserver, AnnouncementReceiver {
  constructor(private readonly cfg: AirtableConfig) {}

  async afterEvent(tx: StoreOps, entry: InboxEntry, outcome: Outcome, now: string): Promise<void> {
    for (const m of await bookedMovements(tx, entry, outcome)) {
      if (this.cfg.tables.movements) await enqueue(tx, 'airtable.movement', null, { movement: m }, now);
      if (this.cfg.tables.orders && isOrderMovement(m)) await enqueue(tx, 'airtable.order', null, { movement: m }, now);
    }
    for (const sku of changedSkus(outcome)) await this.record(tx, sku, now);
  }

  /** Every announcement (server/announce.ts) the base has a place for: a Catalog record, an Alerts record. */
  async announced(tx: StoreOps, a: Announcement, now: string): Promise<void> {
    if (a.topic === 'level.changed') await this.record(tx, a.payload.sku, now);
    else if (a.topic === 'alert.raised' && this.cfg.tables.alerts) await enqueue(tx, 'airtable.alert', `airtable:alert:${a.payload.alert.id}`, a.payload, now);
  }

  private record(tx: StoreOps, sku: string, now: string): Promise<void> {
    return enqueue(tx, 'airtable.record', `airtable:record:${sku}`, { sku }, now);
  }
}
