/** Alerts about stock and channels: one open alert per kind, item, location and channel, until resolved. */
import type { Page } from './common';

export interface AlertRecord {
  id: number;
  kind: string;
  severity: 'info' | 'warning' | 'critical';
  sku: string | null;
  locationId: string | null;
  /** The channel an alert is about as a whole (failing, suspended); null for stock alerts. */
  channelId: string | null;
  message: string;
  status: 'open' | 'resolved';
  openedAt: string;
  resolvedAt: string | null;
}

export interface AlertsOps {
  /** Opens an alert unless one of the same kind is already open for the item, location and channel. */
  open(a: { kind: string; severity: AlertRecord['severity']; sku: string | null; locationId: string | null; channelId?: string | null; message: string }, now: string): Promise<AlertRecord | null>;
  /** Resolves open alerts of these kinds for the item and location; returns how many. */
  resolve(sku: string, locationId: string | null, kinds: string[], now: string): Promise<number>;
  /** Resolves the open alerts of these kinds about a channel as a whole; returns how many. */
  resolveForChannel(channelId: string, kinds: string[], now: string): Promise<number>;
  list(page: Page & { status?: 'open' | 'resolved' | undefined }): Promise<AlertRecord[]>;
}
