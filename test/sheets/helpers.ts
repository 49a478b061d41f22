/**
 * A hub with the sheet write-back switched on, against the Sheets fake (test/fakes/sheets-fake.ts),
 * with one sales channel (an in-test platform whose webhooks carry the facts themselves) so a sale
 * can be made "on a channel".
 */
import crypto from 'node:crypto';
import type { ChannelFact, Connector, ConnectorDefinition, PushOutcome } from '../../server/connectors/types';
import type { HubOptions } from '../../server/hub';
import { SheetsFake } from '../fakes/sheets-fake';
import { startHub, type StoreKind, type TestHub } from '../helpers/hub';

export const SPREADSHEET_ID = '1StockrelayTestSheet_abcdefghij';
export const CLIENT_EMAIL = 'stockrelay-hub@shop-inventory-test.iam.gserviceaccount.com';
export const CHANNEL_SECRET = 'sheets-test-channel-secret-0123456789';

export const CATALOG_HEADERS = ['SKU', 'Title', 'On hand · gallery', 'My notes', 'Available · gallery', 'Low-stock threshold', 'Buffer', 'Status', 'Last synced', 'Sync note'];
export const LOG_HEADERS: Record<string, string[]> = {
  Movements: ['When', 'SKU', 'Location', 'Change', 'Reason', 'From', 'Channel', 'Who', 'Note', 'Reference'],
  Orders: ['When', 'Channel', 'Order', 'SKU', 'Location', 'Quantity', 'Status', 'Note'],
  Alerts: ['Opened', 'Severity', 'What', 'SKU', 'Location', 'Channel', 'Message', 'Status', 'Resolved'],
  Conflicts: ['Found', 'SKU', 'Location', 'Sheet showed', 'Typed', 'Hub has', 'Who', 'Status', 'Event'],
  'Purchase Orders': ['PO number', 'Customer', 'SKU', 'Quantity', 'Location', 'Needed by', 'Status', 'Reserved', 'Waiting', 'Reason', 'Updated'],
};

/** A service account key as Google hands it out (JSON), with a fresh RSA key. */
export function serviceAccountKey(tokenUri: string) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const json = {
    type: 'service_account',
    project_id: 'shop-inventory-test',
    private_key_id: crypto.randomBytes(20).toString('hex'),
    private_key: pem,
    client_email: CLIENT_EMAIL,
    client_id: '100000000000000000001',
    token_uri: tokenUri,
  };
  return { json, pem, publicKey };
}

/** The in-test platform: levels it was told, and no more. */
export function channelDefinition(): ConnectorDefinition {
  const connector: Connector = {
    capabilities: { platform: 'other', push: ['absolute_set'], locations: true, hideRelist: { supported: false, how: 'n/a' }, webhooks: ['facts'], polled: [], rateLimit: { kind: 'unpublished', description: 'none' }, maxBatch: 100 },
    verify(raw, headers) {
      const sig = headers['x-fake-signature'];
      const id = headers['x-fake-event-id'];
      if (typeof sig !== 'string' || typeof id !== 'string') return { valid: false, reason: 'The signature header is missing.' };
      const expected = crypto.createHmac('sha256', CHANNEL_SECRET).update(raw).digest('base64');
      if (sig !== expected) return { valid: false, reason: 'The signature does not match.' };
      return { valid: true, eventId: id, topic: 'facts', occurredAt: null };
    },
    translate: (_topic, body) => body as ChannelFact[],
    push: async (targets) => targets.map((t): PushOutcome => ({ sku: t.sku, locationId: t.locationId, status: 'applied', level: t.level })),
    read: async () => [],
    hide: async () => undefined,
    relist: async () => undefined,
    listCatalog: async () => SKUS.map((sku, i) => ({ sku, title: sku, ref: { productId: `p${i}`, variantId: `v${i}` } })),
  };
  return { platform: 'other', displayName: 'In-test platform', docsUrl: 'https://example.invalid/docs', secretHeaders: ['x-test-signature'], credentials: ['secret'], requiredSettings: [], capabilities: connector.capabilities, create: () => connector };
}

/** The write-back is paced (a write a second), so a batch in hand may take seconds: wait for it. */
export async function settleSheets(t: TestHub, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await t.settle();
      const outbox = await t.hub.store.outbox.count();
      const due = (await t.hub.store.outbox.list({ limit: 50, status: 'pending' })).some((r) => Date.parse(r.nextAttemptAt) <= Date.now());
      if (!outbox.working && !due) return;
    } catch (err) {
      if (!/did not settle/.test((err as Error).message)) throw err;
    }
    if (Date.now() > deadline) throw new Error('the hub and the sheet did not settle');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const SKUS = ['ART-1', 'ART-2', 'ART-3', 'ART-4', 'ART-5'];

export interface SheetRig {
  t: TestHub;
  fake: SheetsFake;
  key: ReturnType<typeof serviceAccountKey>;
  /** A sale of `quantity` × sku at the gallery, as the channel's webhook reports it. */
  sell(sku: string, quantity: number, orderId?: string): Promise<void>;
  onHand(sku: string): Promise<number>;
  /** The Catalog row carrying the SKU's metadata, as a record by header. */
  catalogRow(sku: string): Record<string, unknown>;
  /** Waits until the hub has booked everything and the sheet has everything (writes are paced: seconds). */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function sheetRig(kind: StoreKind, opts: { skus?: string[]; stock?: number; hub?: Partial<HubOptions>; fakeQuota?: { writes: number; windowMs: number }; env?: Record<string, string>; sheets?: object; file?: object } = {}): Promise<SheetRig> {
  const skus = opts.skus ?? SKUS;
  const fake = await SheetsFake.start({ spreadsheetId: SPREADSHEET_ID, clientEmail: CLIENT_EMAIL, publicKey: 'x', ...(opts.fakeQuota ? { quota: opts.fakeQuota } : {}) });
  const key = serviceAccountKey(fake.tokenUrl);
  (fake.opts as { publicKey: crypto.KeyObject }).publicKey = key.publicKey;
  fake.addTab('Catalog', CATALOG_HEADERS);
  for (const [tab, headers] of Object.entries(LOG_HEADERS)) fake.addTab(tab, headers);
  // The sheet as staff keep it: rows in their own order, each tagged with its SKU by the add-on.
  for (const sku of skus) fake.addRow('Catalog', [sku, `Painting ${sku}`, opts.stock ?? 10, `shelf ${sku.slice(-1)}`], sku);

  const t = await startHub(kind, {
    file: {
      locations: [{ id: 'gallery', name: 'Gallery' }],
      channels: [{ id: 'pos', name: 'Gallery POS', platform: 'other', locations: { gallery: 'GAL' }, credentials: { secret: 'POS_SECRET' } }],
      sheets: { spreadsheetId: SPREADSHEET_ID, credentialsEnv: 'SHEETS_KEY', baseUrl: fake.url, ...opts.sheets },
      ...opts.file,
    },
    env: { POS_SECRET: CHANNEL_SECRET, SHEETS_KEY: JSON.stringify(key.json), ...opts.env },
    hub: { connectors: [channelDefinition()], ...opts.hub },
  });
  for (const sku of skus) {
    await t.api('PUT', `/v1/items/${sku}`, { title: `Painting ${sku}` });
    await t.api('POST', `/v1/items/${sku}/counts`, { location: 'gallery', counted: opts.stock ?? 10 });
  }
  await t.api('POST', '/v1/channels/pos/discover');
  await settleSheets(t);

  let order = 0;
  return {
    t,
    fake,
    key,
    async sell(sku, quantity, orderId = `order-${++order}`) {
      const body: ChannelFact[] = [{ type: 'sale', orderId, occurredAt: new Date().toISOString(), lines: [{ lineId: 'l1', sku, ref: {}, quantity, locationId: 'GAL' }] }];
      const raw = JSON.stringify(body);
      const res = await fetch(`${t.url}/v1/webhooks/pos`, {
        method: 'POST',
        body: raw,
        headers: { 'content-type': 'application/json', 'x-fake-event-id': crypto.randomUUID(), 'x-fake-signature': crypto.createHmac('sha256', CHANNEL_SECRET).update(raw).digest('base64') },
      });
      if (res.status !== 200) throw new Error(`the webhook was answered ${res.status}: ${await res.text()}`);
    },
    async onHand(sku) {
      const r = await t.api('GET', `/v1/items/${sku}`);
      return (r.body.locations as { locationId: string; onHand: number }[]).find((l) => l.locationId === 'gallery')!.onHand;
    },
    catalogRow(sku) {
      const row = fake.rowWithMeta('Catalog', 'stockrelay.sku', sku);
      if (row < 0) throw new Error(`no row carries ${sku}`);
      return fake.record('Catalog', row);
    },
    settle: () => settleSheets(t),
    async close() {
      await t.close();
      await fake.close();
    },
  };
}
