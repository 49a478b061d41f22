/** Small named records the hub keeps between runs (table hub_state), as JSON. */
export interface HubStateOps {
  /** The record under `key`, or null. */
  get<T>(key: string): Promise<T | null>;
  set(key: string, value: unknown, now: string): Promise<void>;
}
