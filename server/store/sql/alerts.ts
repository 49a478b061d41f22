/** Alerts (SQL, both dialects). */
import type { Selectable } from 'kysely';
import type { AlertRecord, AlertsOps } from '../areas/alerts';
import type { Page } from '../areas/common';
import type { Database } from '../schema';
import type { Conn } from './conn';

const toAlert = (r: Selectable<Database['alerts']>): AlertRecord => ({
  id: Number(r.id),
  kind: r.kind,
  severity: r.severity as AlertRecord['severity'],
  sku: r.sku,
  locationId: r.location_id,
  channelId: r.channel_id ?? null,
  message: r.message,
  status: r.status as AlertRecord['status'],
  openedAt: r.opened_at,
  resolvedAt: r.resolved_at,
});

export class SqlAlerts implements AlertsOps {
  constructor(private readonly c: Conn) {}

  async open(
    a: { kind: string; severity: AlertRecord['severity']; sku: string | null; locationId: string | null; channelId?: string | null; message: string },
    now: string,
  ): Promise<AlertRecord | null> {
    const channelId = a.channelId ?? null;
    let q = this.c.db.selectFrom('alerts').select('id').where('status', '=', 'open').where('kind', '=', a.kind);
    q = a.sku === null ? q.where('sku', 'is', null) : q.where('sku', '=', a.sku);
    q = a.locationId === null ? q.where('location_id', 'is', null) : q.where('location_id', '=', a.locationId);
    q = channelId === null ? q.where('channel_id', 'is', null) : q.where('channel_id', '=', channelId);
    if (await q.executeTakeFirst()) return null;
    const r = await this.c.db
      .insertInto('alerts')
      .values({ kind: a.kind, severity: a.severity, sku: a.sku, location_id: a.locationId, channel_id: channelId, message: a.message, status: 'open', opened_at: now, resolved_at: null })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toAlert(r);
  }

  async resolve(sku: string, locationId: string | null, kinds: string[], now: string): Promise<number> {
    if (kinds.length === 0) return 0;
    let q = this.c.db.updateTable('alerts').set({ status: 'resolved', resolved_at: now }).where('status', '=', 'open').where('sku', '=', sku).where('kind', 'in', kinds);
    q = locationId === null ? q.where('location_id', 'is', null) : q.where('location_id', '=', locationId);
    return Number((await q.executeTakeFirst()).numUpdatedRows);
  }

  async resolveForChannel(channelId: string, kinds: string[], now: string): Promise<number> {
    if (kinds.length === 0) return 0;
    const r = await this.c.db
      .updateTable('alerts')
      .set({ status: 'resolved', resolved_at: now })
      .where('status', '=', 'open')
      .where('channel_id', '=', channelId)
      .where('sku', 'is', null)
      .where('kind', 'in', kinds)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async list(page: Page & { status?: 'open' | 'resolved' | undefined }): Promise<AlertRecord[]> {
    let q = this.c.db.selectFrom('alerts').selectAll().orderBy('id', 'desc').limit(page.limit);
    if (page.cursor !== undefined) q = q.where('id', '<', Number(page.cursor));
    if (page.status) q = q.where('status', '=', page.status);
    return (await q.execute()).map(toAlert);
  }
}
