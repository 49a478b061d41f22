/** Conflicts (SQL, both dialects). */
import type { Selectable } from 'kysely';
import type { Page } from '../areas/common';
import type { ConflictInput, ConflictRecord, ConflictsOps } from '../areas/conflicts';
import type { Database } from '../schema';
import { rowOf, type Conn } from './conn';

const toConflict = (r: Selectable<Database['conflicts']>): ConflictRecord => ({
  id: Number(r.id),
  key: r.key,
  eventId: r.event_id === null ? null : Number(r.event_id),
  sku: r.sku,
  locationId: r.location_id,
  sheetShowed: r.sheet_showed,
  typed: r.typed,
  hubHad: r.hub_had,
  source: r.source,
  actor: r.actor,
  editedAt: r.edited_at,
  foundAt: r.found_at,
  status: r.status,
  resolvedAt: r.resolved_at,
  resolvedBy: r.resolved_by,
  movementId: r.movement_id === null ? null : Number(r.movement_id),
  resolution: r.resolution,
});

export class SqlConflicts implements ConflictsOps {
  constructor(private readonly c: Conn) {}

  async record(c: ConflictInput, now: string): Promise<{ conflict: ConflictRecord; created: boolean }> {
    const r = await this.c.db
      .insertInto('conflicts')
      .values({
        key: c.key,
        event_id: c.eventId,
        sku: c.sku,
        location_id: c.locationId,
        sheet_showed: c.sheetShowed,
        typed: c.typed,
        hub_had: c.hubHad,
        source: c.source,
        actor: c.actor,
        edited_at: c.editedAt,
        found_at: now,
        status: 'open',
        resolved_at: null,
        resolved_by: null,
        movement_id: null,
        resolution: null,
      })
      .onConflict((oc) => oc.column('key').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (r) return { conflict: toConflict(r), created: true };
    const first = await this.c.db.selectFrom('conflicts').selectAll().where('key', '=', c.key).executeTakeFirstOrThrow();
    return { conflict: toConflict(first), created: false };
  }

  async get(id: number): Promise<ConflictRecord | null> {
    return rowOf(this.c.db.selectFrom('conflicts').selectAll().where('id', '=', id), toConflict);
  }

  async byKey(key: string): Promise<ConflictRecord | null> {
    return rowOf(this.c.db.selectFrom('conflicts').selectAll().where('key', '=', key), toConflict);
  }

  async list(page: Page & { status?: ConflictRecord['status'] | undefined; sku?: string | undefined }): Promise<ConflictRecord[]> {
    let q = this.c.db.selectFrom('conflicts').selectAll().orderBy('id', 'desc').limit(page.limit);
    if (page.cursor !== undefined) q = q.where('id', '<', Number(page.cursor));
    if (page.status) q = q.where('status', '=', page.status);
    if (page.sku !== undefined) q = q.where('sku', '=', page.sku);
    return (await q.execute()).map(toConflict);
  }

  async resolve(id: number, r: { status: 'accepted' | 'rejected'; resolvedBy: string | null; movementId: number | null; resolution: string }, now: string): Promise<boolean> {
    const res = await this.c.db
      .updateTable('conflicts')
      .set({ status: r.status, resolved_at: now, resolved_by: r.resolvedBy, movement_id: r.movementId, resolution: r.resolution })
      .where('id', '=', id)
      .where('status', '=', 'open')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
}
