/** Sheet edits that no longer matched the hub, kept until someone decides (docs/conflicts.md). */
import type { Page } from './common';

/** A sheet edit whose old value no longer matched the hub, kept until someone decides (docs/conflicts.md). */
export interface ConflictRecord {
  id: number;
  /** The edit's own booking key: the same edit found again is the same conflict. */
  key: string;
  eventId: number | null;
  sku: string;
  locationId: string;
  /** What the cell showed before the edit (null: unknown). */
  sheetShowed: number | null;
  /** What was typed. */
  typed: number;
  /** The hub's on hand when the conflict was found. */
  hubHad: number;
  source: string;
  actor: string | null;
  editedAt: string;
  foundAt: string;
  status: 'open' | 'accepted' | 'rejected';
  resolvedAt: string | null;
  resolvedBy: string | null;
  /** The count booked when it was accepted. */
  movementId: number | null;
  /** What was done, in words. */
  resolution: string | null;
}

export type ConflictInput = Pick<ConflictRecord, 'key' | 'eventId' | 'sku' | 'locationId' | 'sheetShowed' | 'typed' | 'hubHad' | 'source' | 'actor' | 'editedAt'>;

export interface ConflictsOps {
  /** Stores a conflict; the same key again returns the one stored first (`created` false). */
  record(c: ConflictInput, now: string): Promise<{ conflict: ConflictRecord; created: boolean }>;
  get(id: number): Promise<ConflictRecord | null>;
  byKey(key: string): Promise<ConflictRecord | null>;
  /** Newest first; `cursor` is the id of the last conflict of the previous page. */
  list(page: Page & { status?: ConflictRecord['status'] | undefined; sku?: string | undefined }): Promise<ConflictRecord[]>;
  /** Closes an open conflict; false when it was not open (already decided). */
  resolve(id: number, r: { status: 'accepted' | 'rejected'; resolvedBy: string | null; movementId: number | null; resolution: string }, now: string): Promise<boolean>;
}
