/** The supplier's Airtable base as docs/airtable.md lays it out, in the Airtable fake. */
import type { AirtableFake } from '../fakes/airtable-fake';

export const BASE = 'appGallery0000001';
export const CATALOG_FIELDS = [
  { name: 'SKU', type: 'singleLineText' },
  { name: 'Title', type: 'singleLineText' },
  { name: 'On hand', type: 'number' },
  { name: 'Hub on hand', type: 'number' },
  { name: 'Available', type: 'number' },
  { name: 'Low stock at', type: 'number' },
  { name: 'Archived', type: 'checkbox' },
  { name: 'Last synced', type: 'dateTime' },
  { name: 'Sync note', type: 'multilineText' },
] as const;
const text = (names: string[]) => names.map((name) => ({ name, type: name === 'When' || name === 'Opened' || name === 'Resolved' ? ('dateTime' as const) : name === 'Change' || name === 'Quantity' ? ('number' as const) : ('singleLineText' as const) }));

export function addGalleryBase(fake: AirtableFake): void {
  fake.addBase(BASE, [
    { name: 'Catalog', fields: CATALOG_FIELDS.map((f) => ({ ...f })) },
    { name: 'Movements', fields: text(['Movement', 'When', 'SKU', 'Location', 'Change', 'Reason', 'From', 'Channel', 'Who', 'Note', 'Reference']) },
    { name: 'Orders', fields: text(['Line', 'When', 'Channel', 'Order', 'SKU', 'Location', 'Quantity', 'Status', 'Note']) },
    { name: 'Alerts', fields: text(['Alert', 'Opened', 'Severity', 'What', 'SKU', 'Location', 'Channel', 'Message', 'Status', 'Resolved']) },
  ]);
}

