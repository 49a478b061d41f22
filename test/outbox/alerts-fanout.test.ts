/**
 * Issue 15, item 13: every alert takes one path (server/announce.ts) to every place that shows alerts.
 * A whole hub with the sheet write-back (Sheets fake), the Airtable write-back (Airtable fake) and a
 * notification webhook subscribed to `alert.raised` (a receiver on 127.0.0.1 that checks every
 * signature with the `standardwebhooks` library). A reorder alert raised by `POST /v1/reorder/check`,
 * one raised by the hourly check (run every 200 ms here), and a stock alert raised by a booking
 * must each arrive once in the sheet's Alerts tab, once in the Airtable Alerts table and once at the
 * subscriber; a second check raises and sends nothing more.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { AirtableFake } from '../fakes/airtable-fake';
import { BASE, addGalleryBase } from '../airtable/base';
import { sheetRig, type SheetRig } from '../sheets/helpers';
import type { StoreKind } from '../helpers/hub';
import { STORES } from '../helpers/stores';

jest.setTimeout(120_000);

const PAGER_SECRET = `whsec_${Buffer.from('pager-secret-for-the-alert-fan-out-test').toString('base64')}`;

interface Delivered {
  type: string;
  data: { alert: { kind: string; sku: string | null; message: string; status: string } };
}

/** The subscriber: every verified delivery, and anything that failed verification. */
async function receiver(): Promise<{ url: string; delivered: Delivered[]; problems: string[]; close(): Promise<void> }> {
  const delivered: Delivered[] = [];
  const problems: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      try {
        delivered.push(new Webhook(PAGER_SECRET).verify(body, req.headers as Record<string, string>) as Delivered);
        res.writeHead(204).end();
      } catch (err) {
        problems.push((err as Error).message);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/pager`,
    delivered,
    problems,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe.each<StoreKind>(STORES)('every alert reaches the sheet, Airtable and the subscribers, on %s', (kind) => {
  let airtable: AirtableFake;
  let pager: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    airtable = await AirtableFake.start();
    addGalleryBase(airtable);
    pager = await receiver();
  });
  afterAll(async () => {
    await pager?.close();
    await airtable?.close();
  });
  afterEach(() => expect(pager.problems).toEqual([]));

  const rigWith = (reorder: object) =>
    sheetRig(kind, {
      skus: ['ART-1', 'ART-2', 'ART-3'],
      stock: 5,
      file: {
        airtable: { baseId: BASE, tokenEnv: 'AIRTABLE_TOKEN', endpointUrl: airtable.url },
        notify: [{ id: 'pager', url: pager.url, secretEnv: 'PAGER_SECRET', topics: ['alert.raised'] }],
        reorder,
      },
      env: { AIRTABLE_TOKEN: airtable.token, PAGER_SECRET },
    });

  /** The alerts of this kind and SKU each place shows. */
  const shown = (rig: SheetRig, alertKind: string, what: string, sku: string) => {
    const rows = rig.fake.read('Alerts');
    const h = rows[0]!.map(String);
    return {
      sheet: rows.slice(1).filter((r) => r[h.indexOf('What')] === what && r[h.indexOf('SKU')] === sku).map((r) => String(r[h.indexOf('Message')])),
      airtable: airtable.records(BASE, 'Alerts').filter((r) => r.fields.What === what && r.fields.SKU === sku).map((r) => String(r.fields.Message)),
      pager: pager.delivered.filter((d) => d.type === 'alert.raised' && d.data.alert.kind === alertKind && d.data.alert.sku === sku).map((d) => d.data.alert.message),
    };
  };
  const once = (message: RegExp) => ({ sheet: [expect.stringMatching(message)], airtable: [expect.stringMatching(message)], pager: [expect.stringMatching(message)] });
  const none = { sheet: [], airtable: [], pager: [] };

  test('a reorder alert raised by POST /v1/reorder/check, and an out-of-stock alert raised by a sale, reach all three once; checking again sends nothing', async () => {
    const rig = await rigWith({ checkEveryMs: 0 });
    try {
      await rig.sell('ART-1', 3);
      await rig.settle();
      expect((await rig.t.api('PUT', '/v1/items/ART-1/reorder', { leadTimeDays: 60 })).status).toBe(200);
      expect(shown(rig, 'reorder', 'Reorder', 'ART-1')).toEqual(none);

      const check = await rig.t.api('POST', '/v1/reorder/check');
      expect(check.status).toBe(200);
      expect(check.body.opened).toBe(1);
      await rig.settle();
      expect(shown(rig, 'reorder', 'Reorder', 'ART-1')).toEqual(once(/^ART-1 .*less than its 60-day lead time/));

      // The same alert is still open: a second check opens nothing, and nothing more is sent anywhere.
      expect((await rig.t.api('POST', '/v1/reorder/check')).body.opened).toBe(0);
      await rig.settle();
      expect(shown(rig, 'reorder', 'Reorder', 'ART-1')).toEqual(once(/less than its 60-day lead time/));

      // An alert a booking raises takes the same path.
      await rig.sell('ART-2', 5);
      await rig.settle();
      expect(shown(rig, 'out_of_stock', 'Out of stock', 'ART-2')).toEqual(once(/ART-2/));
      const open = (await rig.t.api('GET', '/v1/alerts?status=open')).body.alerts as { kind: string; sku: string }[];
      expect(open.filter((a) => a.sku === 'ART-1' || a.sku === 'ART-2').map((a) => `${a.kind} ${a.sku}`).sort()).toEqual(['out_of_stock ART-2', 'reorder ART-1']);
    } finally {
      await rig.close();
    }
  });

  test('the periodic reorder check (reorder.checkEveryMs) reaches the sheet, Airtable and the subscriber too', async () => {
    // No lead time by default: nothing to reorder until ART-3 is given one.
    const rig = await rigWith({ checkEveryMs: 200, leadTimeDays: 0 });
    try {
      await rig.sell('ART-3', 2);
      await rig.settle();
      await new Promise((r) => setTimeout(r, 600)); // a few runs of the check
      await rig.settle();
      expect(shown(rig, 'reorder', 'Reorder', 'ART-3')).toEqual(none);
      // No API call: the hub's own timer finds the short cover once the lead time is set.
      expect((await rig.t.api('PUT', '/v1/items/ART-3/reorder', { leadTimeDays: 90 })).status).toBe(200);
      const deadline = Date.now() + 30_000;
      while ((await rig.t.api('GET', '/v1/alerts?status=open')).body.alerts.every((a: { kind: string; sku: string }) => !(a.kind === 'reorder' && a.sku === 'ART-3'))) {
        if (Date.now() > deadline) throw new Error('the periodic reorder check raised no alert');
        await new Promise((r) => setTimeout(r, 100));
      }
      await rig.settle();
      expect(shown(rig, 'reorder', 'Reorder', 'ART-3')).toEqual(once(/^ART-3 .*less than its 90-day lead time/));
    } finally {
      await rig.close();
    }
  });
});
