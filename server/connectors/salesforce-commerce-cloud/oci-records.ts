/**
 * Omnichannel Inventory records as the connector and its translator read them, pure: a record that
 * does not add up is refused, never read as a level.
 */
import { ConnectorError, type ListingRef } from '../types';

/** The platform's name in what staff read (also `client.ts`'s PLATFORM). */
const PLATFORM = 'Salesforce Commerce Cloud';

type Json = Record<string, unknown>;

export interface OciLevel {
  onHand: number;
  reserved: number;
  safetyStockCount: number;
  atf: number;
}

export const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function skuOf(ref: Partial<ListingRef>): string | null {
  const id = ref.variantId || ref.productId;
  return typeof id === 'string' && id.trim() !== '' ? id : null;
}

export function unreadable(what: string): ConnectorError {
  return new ConnectorError(`${PLATFORM} (Omnichannel Inventory) answered something the hub cannot read: ${what}. No level was taken from it.`, false, null, null, { channelFault: true });
}

/** One OCI record of an answer, checked: a level is never read from a record that does not add up. */
export function readOciRecord(r: unknown, where: string): { sku: string; location: string | null; level: OciLevel } {
  if (!isObj(r) || typeof r.sku !== 'string' || r.sku === '') throw unreadable(`${where} is not a record with a sku`);
  const { onHand, reserved, safetyStockCount, atf } = r;
  if (!num(onHand) || !num(atf)) throw unreadable(`${where} (${r.sku}) has no numeric onHand and atf`);
  const res = num(reserved) ? reserved : 0;
  const safety = num(safetyStockCount) ? safetyStockCount : 0;
  if (!Number.isInteger(atf)) throw unreadable(`${where} (${r.sku}) has a fractional atf ${atf}`);
  return { sku: r.sku, location: typeof r.location === 'string' ? r.location : null, level: { onHand, reserved: res, safetyStockCount: safety, atf } };
}

/** Whether on hand moved between two records other than by a shipment (on hand and reserved falling together). */
export function onHandMoved(told: Pick<OciLevel, 'onHand' | 'reserved'>, now: Pick<OciLevel, 'onHand' | 'reserved'>): boolean {
  const dOn = now.onHand - told.onHand;
  const dRes = now.reserved - told.reserved;
  return dOn !== 0 && !(dOn < 0 && dOn === dRes);
}

/** A record's basis as the hub keeps it (PushTarget.basis): its on hand and reserved. */
export function basisOf(level: OciLevel): string {
  return `oci:${level.onHand}/${level.reserved}`;
}

/** A basis this connector wrote, read back; null for anything else (then the write is checked on ATF alone). */
export function readBasis(basis: string | null | undefined): Pick<OciLevel, 'onHand' | 'reserved'> | null {
  const m = typeof basis === 'string' ? /^oci:(-?\d{1,15}(?:\.\d{1,6})?)\/(-?\d{1,15}(?:\.\d{1,6})?)$/.exec(basis) : null;
  return m ? { onHand: Number(m[1]), reserved: Number(m[2]) } : null;
}
