/** Locations (SQL, both dialects). */
import type { LocationRecord, LocationsOps } from '../areas/locations';
import type { Conn } from './conn';

export class SqlLocations implements LocationsOps {
  constructor(private readonly c: Conn) {}

  async ensure(locations: LocationRecord[], now: string): Promise<void> {
    for (const l of locations) {
      await this.c.db
        .insertInto('locations')
        .values({ id: l.id, name: l.name, created_at: now })
        .onConflict((oc) => oc.column('id').doUpdateSet({ name: l.name }))
        .execute();
      this.c.shared.locations.delete(l.id);
    }
  }

  async list(): Promise<LocationRecord[]> {
    return this.c.db.selectFrom('locations').select(['id', 'name']).orderBy('id').execute();
  }

  async get(id: string): Promise<LocationRecord | null> {
    const known = this.c.shared.locations.get(id);
    if (known) return known;
    const r = (await this.c.db.selectFrom('locations').select(['id', 'name']).where('id', '=', id).executeTakeFirst()) ?? null;
    // Only ensureLocations writes locations, at startup and outside any booking's transaction, so a
    // location read here is committed (and cannot be undone later).
    if (r) this.c.shared.locations.set(id, r);
    return r;
  }
}
