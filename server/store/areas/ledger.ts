/** Stock: the movements (append-only) and the levels projected from them (docs/ledger.md). */
import type { Movement, MovementInput } from '../../core/ledger';
import type { Page } from './common';
import type { ItemRecord } from './items';

export interface LevelRecord {
  sku: string;
  locationId: string;
  onHand: number;
  reserved: number;
  updatedAt: string;
}

export interface BookResult {
  movement: Movement;
  /** True when the idempotency key was already booked: `movement` is the first booking, unchanged. */
  duplicate: boolean;
}

export interface CountInput extends Omit<MovementInput, 'quantity' | 'reason' | 'countedQuantity'> {
  counted: number;
}

export interface LedgerOps {
  getLevel(sku: string, locationId: string): Promise<LevelRecord | null>;
  /** The item and its level at one location, read together (null where there is none). */
  itemAt(sku: string, locationId: string): Promise<{ item: ItemRecord | null; level: LevelRecord | null }>;
  levelsFor(skus: string[]): Promise<LevelRecord[]>;
  /** Books one movement; the same idempotency key twice books once and returns the first. */
  book(input: MovementInput, now: string): Promise<BookResult>;
  /** Books several movements in one transaction (a transfer's two legs). */
  bookAll(inputs: MovementInput[], now: string): Promise<BookResult[]>;
  /** Books an absolute count as the delta from on-hand at this moment, recording the count. */
  bookCount(input: CountInput, now: string): Promise<BookResult>;
  movementByKey(key: string): Promise<Movement | null>;
  /** Newest first; `cursor` is the id of the last movement of the previous page. */
  listMovements(sku: string, page: Page): Promise<Movement[]>;
  /** The movements one inbound event booked, oldest first. */
  movementsByEvent(eventId: number): Promise<Movement[]>;
  /** Levels recomputed from the movements alone, to check the projection against. */
  recomputeLevels(): Promise<LevelRecord[]>;
}
