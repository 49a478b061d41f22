/** A hub with two locations, three channels, movements and alerts, and a Catalog to match. */
import { catalog, rig } from './env';
import type { ScriptedHub } from './scripted-hub';

export function furnish(hub: ScriptedHub): void {
  hub.locations = [
    { id: 'gallery', name: 'Gallery' },
    { id: 'warehouse', name: 'Warehouse' },
  ];
  hub.channels = [
    { id: 'square-pos', name: 'Square — gallery POS', platform: 'square', connected: true, suspendedUntil: null },
    { id: 'shopify-web', name: 'Web store', platform: 'shopify', connected: true, suspendedUntil: null },
    { id: 'etsy', name: 'Etsy shop', platform: 'etsy', connected: false, suspendedUntil: null },
  ];
  hub.items.set('ART-0001', {
    sku: 'ART-0001',
    title: 'Ngayu — Tjukurpa, ochre on bark',
    locations: [
      {
        locationId: 'gallery',
        onHand: 4,
        reserved: 1,
        channels: [
          { channelId: 'square-pos', channelName: 'Square — gallery POS', published: 3 },
          { channelId: 'shopify-web', channelName: 'Web store', published: 2 },
        ],
      },
      { locationId: 'warehouse', onHand: 7, channels: [{ channelId: 'shopify-web', channelName: 'Web store', published: 6 }] },
    ],
  });
  hub.listings['square-pos'] = { listings: [{ sku: 'ART-0001' }], levels: [{ sku: 'ART-0001', locationId: 'gallery', pushed: 3, pushedAt: '2026-11-22T10:14:00.000Z', observed: 3, observedAt: '2026-11-22T10:14:02.000Z' }] };
  hub.listings['shopify-web'] = {
    listings: [{ sku: 'ART-0001' }],
    levels: [
      { sku: 'ART-0001', locationId: 'gallery', pushed: 2, pushedAt: '2026-11-22T10:14:01.000Z', observed: 2, observedAt: null },
      { sku: 'ART-0001', locationId: 'warehouse', pushed: 6, pushedAt: '2026-11-22T09:00:00.000Z', observed: null, observedAt: null },
      { sku: 'OTHER', locationId: 'gallery', pushed: 9, pushedAt: '2026-11-22T09:00:00.000Z', observed: null, observedAt: null },
    ],
  };
  hub.movements['ART-0001'] = [
    { id: 3, sku: 'ART-0001', locationId: 'gallery', quantity: -1, reason: 'sale', source: 'channel', channelId: 'square-pos', actor: null, note: null, externalRef: 'order #1042', occurredAt: '2026-11-22T10:13:00.000Z' },
    { id: 2, sku: 'ART-0001', locationId: 'gallery', quantity: 3, reason: 'count', source: 'sheet', channelId: null, actor: 'mia@gallery.example', note: 'edited in Catalog row 2', externalRef: null, occurredAt: '2026-11-22T09:40:00.000Z' },
  ];
  hub.conflicts = [
    { id: 17, sku: 'ART-0001', locationId: 'gallery', sheetShowed: 4, typed: 6, hubHad: 3, hubNow: 3, actor: 'mia@gallery.example', foundAt: '2026-11-22T10:15:00.000Z', status: 'open', resolvedBy: null },
  ];
  hub.alerts = [
    { id: 1, kind: 'low_stock', severity: 'warning', sku: 'ART-0001', locationId: 'gallery', channelId: null, message: 'ART-0001 is low at gallery: 3 available (threshold 3).', status: 'open', openedAt: '2026-11-22T10:13:05.000Z', resolvedAt: null },
    { id: 2, kind: 'channel_failing', severity: 'critical', sku: null, locationId: null, channelId: 'shopify-web', message: 'Web store refused the last 5 pushes (401: check the access token).', status: 'open', openedAt: '2026-11-22T10:00:00.000Z', resolvedAt: null },
  ];
}

export function furnishedRig() {
  const r = rig();
  furnish(r.hub);
  const sheet = catalog(r.env, ['SKU', 'Title', 'On hand · gallery', 'On hand · warehouse'], [
    ['ART-0001', 'Ngayu — Tjukurpa, ochre on bark', 4, 7],
    ['ART-0002', 'Not on the hub yet', 1, 0],
  ]);
  const conflicts = r.env.ss.insertSheet('Conflicts');
  conflicts.getRange(1, 1, 3, 9).setValues([
    ['Found', 'SKU', 'Location', 'Sheet showed', 'Typed', 'Hub has', 'Who', 'Status', 'Event'],
    ['2026-11-22 10:15', 'ART-0001', 'gallery', 4, 6, 3, 'mia@gallery.example', 'open', 17],
    ['2026-11-21 16:02', 'ART-0002', 'gallery', 2, 1, 0, 'sam@gallery.example', 'resolved', 12],
  ]);
  r.env.ss.select('Catalog', 'B2');
  return { ...r, sheet };
}
