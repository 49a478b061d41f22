/** The store's locations: from the config file, never removed. */
export interface LocationRecord {
  id: string;
  name: string;
}

export interface LocationsOps {
  ensure(locations: LocationRecord[], now: string): Promise<void>;
  list(): Promise<LocationRecord[]>;
  get(id: string): Promise<LocationRecord | null>;
}
