/** What every area of the store shares (server/store/types.ts composes the areas). */
export type Dialect = 'sqlite' | 'postgres';

export interface Page {
  limit: number;
  /** Return rows with an id (or key) strictly before / after this cursor. */
  cursor?: string | number | undefined;
}
