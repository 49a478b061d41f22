/**
 * What a booking asks of the Airtable base: outbox rows for the Airtable sink, written in the
 * booking's own transaction, like the sheet's (server/sheets/write-back.ts). Catalog records are
 * coalesced per SKU: a burst of sales of one item is one record write with the latest numbers.
 */
import type { AlertReceiver } from '../alerts';
import { bookedMovements, changedSkus, type BookingObserver } from '../inbox/observer';
import type { AnnouncedTopic, Outcome } from '../inbox/processor';
import { isOrderMovement } from '../sheets/rows';
import type { AlertRecord, InboxEntry, StoreOps } from '../store/types';
import type { AirtableConfig } from './config';
import { AIRTABLE_SINK, type AirtableTopic } from './sink';

const enqueue = (tx: StoreOps, topic: AirtableTopic, coalesceKey: string | null, payload: unknown, now: string) => tx.outbox.enqueue({ sink: AIRTABLE_SINK, topic, coalesceKey, payload }, now);

export class AirtableWriteBack implements BookingObserver, AlertReceiver {
  constructor(private readonly cfg: AirtableConfig) {}

  async afterEvent(tx: StoreOps, entry: InboxEntry, outcome: Outcome, now: string): Promise<void> {
    for (const m of await bookedMovements(tx, entry, outcome)) {
      if (this.cfg.tables.movements) await enqueue(tx, 'airtable.movement', null, { movement: m }, now);
      if (this.cfg.tables.orders && isOrderMovement(m)) await enqueue(tx, 'airtable.order', null, { movement: m }, now);
    }
    for (const sku of changedSkus(outcome)) await this.record(tx, sku, now);
  }

  async announced(tx: StoreOps, topic: AnnouncedTopic, payload: unknown, now: string): Promise<void> {
    if (topic === 'level.changed') await this.record(tx, (payload as { sku: string }).sku, now);
  }

  /** Every alert, whoever opened it: a record of the Alerts table (the hub's one path for alerts, server/alerts.ts). */
  async alert(tx: StoreOps, alert: AlertRecord, now: string): Promise<void> {
    if (this.cfg.tables.alerts) await enqueue(tx, 'airtable.alert', `airtable:alert:${alert.id}`, { alert }, now);
  }

  private record(tx: StoreOps, sku: string, now: string): Promise<void> {
    return enqueue(tx, 'airtable.record', `airtable:record:${sku}`, { sku }, now);
  }
}
