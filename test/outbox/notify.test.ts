/**
 * Notifications end to end, on both stores: signed relays go into a whole hub (startHub) with two
 * notification webhooks configured to a fake receiver on 127.0.0.1 — "erp" subscribed to
 * level.changed and alert.raised, "pager" to alert.raised only. The receiver checks every
 * signature with the `standardwebhooks` library. A receiver that keeps failing leaves a dead
 * letter in GET /v1/dead-letters, and POST …/retry delivers it once the receiver is back. API
 * answers are checked against the OpenAPI document (test/helpers/spec.ts).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { assertMatchesSpec } from '../helpers/spec';
import { startHub, type StoreKind, type TestHub } from '../helpers/hub';
import { STORES } from '../helpers/stores';

const ERP_SECRET = `whsec_${Buffer.from('erp-notification-secret-for-notify-tests').toString('base64')}`;
const PAGER_SECRET = `whsec_${Buffer.from('pager-notification-secret-for-the-tests').toString('base64')}`;
const MAX_ATTEMPTS = 3;

interface Delivery {
  receiver: 'erp' | 'pager';
  id: string;
  type: string;
  timestamp: string;
  data: any;
}

const occurredAt = () => new Date().toISOString();
const adjust = (sku: string, quantity: number, reason = quantity > 0 ? 'restock' : 'sale') => ({ kind: 'adjustment', sku, quantity, reason, occurredAt: occurredAt() });

describe.each<StoreKind>(STORES)('notifications through a whole hub on %s', (kind) => {
  let server: http.Server;
  let t: TestHub;
  let erpFails = false;
  let delivered: Delivery[] = [];
  /** Every request the ERP path saw, answered or not, with its webhook-id. */
  let erpRequests: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const receiver = req.url === '/erp' ? 'erp' : req.url === '/pager' ? 'pager' : null;
        if (!receiver) return void res.writeHead(404).end();
        const headers = req.headers as Record<string, string>;
        if (receiver === 'erp') erpRequests.push(headers['webhook-id'] ?? '');
        if (receiver === 'erp' && erpFails) return void res.writeHead(503, { 'content-type': 'text/plain' }).end('maintenance');
        try {
          const msg = new Webhook(receiver === 'erp' ? ERP_SECRET : PAGER_SECRET).verify(body, headers) as Omit<Delivery, 'receiver' | 'id'>;
          delivered.push({ receiver, id: headers['webhook-id']!, ...msg });
          res.writeHead(204).end();
        } catch (err) {
          problems.push(`${receiver}: ${(err as Error).message}`);
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    t = await startHub(kind, {
      file: {
        notify: [
          { id: 'erp', url: `${base}/erp`, secretEnv: 'ERP_HOOK_SECRET', topics: ['level.changed', 'alert.raised'] },
          { id: 'pager', url: `${base}/pager`, secretEnv: 'PAGER_HOOK_SECRET', topics: ['alert.raised'] },
        ],
        dispatch: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 1, maxDelayMs: 5 },
      },
      env: { ERP_HOOK_SECRET: ERP_SECRET, PAGER_HOOK_SECRET: PAGER_SECRET },
    });
    const r = await t.relay({
      kind: 'catalog_changed',
      added: [{ sku: 'LV-1', title: 'Ochre pigment, 250 g' }, { sku: 'LOW-1', title: 'Linen canvas roll', lowStockThreshold: 3 }, { sku: 'DEAD-1' }, { sku: 'SUP-1' }],
      removed: [],
      occurredAt: occurredAt(),
    });
    expect(r.status).toBe(202);
    await t.settle();
  });
  afterAll(async () => {
    await t?.close();
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
  beforeEach(() => {
    erpFails = false;
    delivered = [];
    erpRequests = [];
  });
  afterEach(() => expect(problems).toEqual([]));

  /** Settles the hub until `done()` holds (the background dispatcher may still be retrying). */
  async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      await t.settle();
      if (await done()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  const of = (receiver: string, type: string, sku: string) => delivered.filter((d) => d.receiver === receiver && d.type === type && (d.data.sku === sku || d.data.alert?.sku === sku));
  const deadLetters = async () => {
    const r = await t.api('GET', '/v1/dead-letters?limit=100');
    expect(r.status).toBe(200);
    assertMatchesSpec('GET', '/v1/dead-letters', 200, r.body);
    return r.body.deadLetters as { id: number; sink: string; topic: string; attempts: number; lastError: string; payload: any }[];
  };

  test('a relay restocking LV-1 by 7 → the ERP gets one signed level.changed with sku, location, onHand 7, available 7; the pager (alerts only) gets nothing', async () => {
    const r = await t.relay(adjust('LV-1', 7));
    expect(r.status).toBe(202);
    await until(() => of('erp', 'level.changed', 'LV-1').length > 0, 'level.changed');
    const [d] = of('erp', 'level.changed', 'LV-1');
    expect(d!.id).toMatch(/^msg_outbox_\d+$/);
    expect(d!.data).toEqual({ sku: 'LV-1', locationId: 'main', onHand: 7, reserved: 0, available: 7, channels: [], at: expect.any(String) });
    expect(Number.isNaN(Date.parse(d!.data.at))).toBe(false);
    expect(Number.isNaN(Date.parse(d!.timestamp))).toBe(false);
    expect(delivered.filter((x) => x.receiver === 'pager')).toEqual([]);
    // Above any threshold (none set): no alert either.
    expect(delivered.filter((x) => x.type === 'alert.raised')).toEqual([]);
  });

  test('five relays in a row on LV-1 (+1 −2 +3 −1 +4 on top of 7) → the last level.changed the ERP receives says onHand 12, and no state arrives after a newer one', async () => {
    for (const q of [1, -2, 3, -1, 4]) expect((await t.relay(adjust('LV-1', q))).status).toBe(202);
    await until(async () => of('erp', 'level.changed', 'LV-1').at(-1)?.data.onHand === 12 && (await t.hub.store.outbox.count()).pending === undefined, 'onHand 12');
    const seen = of('erp', 'level.changed', 'LV-1').map((d) => Date.parse(d.data.at));
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect((await t.hub.store.ledger.getLevel('LV-1', 'main'))?.onHand).toBe(12);
  });

  test('LOW-1 (threshold 3) restocked to 10 then sold 8 → one alert.raised low_stock, signed, to both ERP and pager; selling 1 more (still low) raises no second alert', async () => {
    await t.relay(adjust('LOW-1', 10));
    await t.settle();
    expect(delivered.filter((d) => d.type === 'alert.raised')).toEqual([]);

    await t.relay(adjust('LOW-1', -8));
    await until(() => of('erp', 'alert.raised', 'LOW-1').length > 0 && of('pager', 'alert.raised', 'LOW-1').length > 0, 'alert.raised');
    for (const receiver of ['erp', 'pager']) {
      const alerts = of(receiver, 'alert.raised', 'LOW-1');
      expect(alerts).toHaveLength(1);
      expect(alerts[0]!.data.alert).toMatchObject({ kind: 'low_stock', severity: 'warning', sku: 'LOW-1', locationId: 'main', status: 'open', message: expect.stringMatching(/LOW-1 is running low at main: 2 available/) });
    }
    await until(() => of('erp', 'level.changed', 'LOW-1').at(-1)?.data.available === 2, 'level 2');

    await t.relay(adjust('LOW-1', -1));
    await until(() => of('erp', 'level.changed', 'LOW-1').at(-1)?.data.available === 1, 'level 1');
    expect(delivered.filter((d) => d.type === 'alert.raised')).toHaveLength(2);
    expect(delivered.filter((d) => d.receiver === 'pager' && d.type !== 'alert.raised')).toEqual([]);
  });

  test(`an ERP answering 503 to everything: after ${MAX_ATTEMPTS} attempts (same webhook-id each time) the row is in GET /v1/dead-letters; POST retry re-queues it and, the ERP back, it is delivered once; the dead-letter list is empty again`, async () => {
    erpFails = true;
    await t.relay(adjust('DEAD-1', 5));
    let dead: Awaited<ReturnType<typeof deadLetters>> = [];
    await until(async () => (dead = (await deadLetters()).filter((d) => d.payload?.sku === 'DEAD-1')).length > 0, 'a dead letter');
    expect(dead).toEqual([
      expect.objectContaining({ sink: 'notify:erp', topic: 'level.changed', attempts: MAX_ATTEMPTS, lastError: expect.stringMatching(/^127\.0\.0\.1:\d+ answered HTTP 503\.$/), payload: expect.objectContaining({ sku: 'DEAD-1', onHand: 5 }) }),
    ]);
    const id = dead[0]!.id;
    expect(erpRequests).toEqual(Array.from({ length: MAX_ATTEMPTS }, () => `msg_outbox_${id}`));
    expect(delivered).toEqual([]);

    // Without the admin token there is nothing to see.
    const anon = await fetch(`${t.url}/v1/dead-letters`);
    expect(anon.status).toBe(401);
    assertMatchesSpec('GET', '/v1/dead-letters', 401, await anon.json());

    erpFails = false;
    const retry = await t.api('POST', `/v1/dead-letters/${id}/retry`);
    expect(retry.status).toBe(202);
    assertMatchesSpec('POST', '/v1/dead-letters/{id}/retry', 202, retry.body);
    expect(retry.body).toEqual({ id, status: 'pending' });
    await until(() => of('erp', 'level.changed', 'DEAD-1').length > 0, 'the retried delivery');
    expect(of('erp', 'level.changed', 'DEAD-1')).toEqual([expect.objectContaining({ id: `msg_outbox_${id}`, data: expect.objectContaining({ onHand: 5 }) })]);
    expect(await t.hub.store.outbox.get(id)).toMatchObject({ status: 'done', attempts: 1, lastError: null });
    expect(await deadLetters()).toEqual([]);

    // It is no longer a dead letter; neither is an id that never existed.
    for (const missing of [id, 999_999]) {
      const again = await t.api('POST', `/v1/dead-letters/${missing}/retry`);
      expect(again.status).toBe(404);
      assertMatchesSpec('POST', '/v1/dead-letters/{id}/retry', 404, again.body);
      expect(again.body.error).toMatchObject({ code: 'unknown_dead_letter', message: `There is no dead letter ${missing}.` });
    }
  });

  test('retrying a dead level.changed after a newer state of the same item is already queued answers "superseded", and the ERP gets only the newer state', async () => {
    // Drive the dispatcher by hand so the newer row is still waiting when the retry comes.
    await t.hub.dispatcher.stop();
    try {
      erpFails = true;
      await t.relay(adjust('SUP-1', 5));
      for (let i = 0; i < 50 && !(await deadLetters()).some((d) => d.payload?.sku === 'SUP-1'); i++) {
        await t.settle();
        await new Promise((r) => setTimeout(r, 10));
      }
      const [old] = (await deadLetters()).filter((d) => d.payload?.sku === 'SUP-1');
      expect(old).toBeDefined();
      erpFails = false;
      await t.relay(adjust('SUP-1', 1));
      // The inbox processor keeps running: wait for the booking to queue its level.changed.
      const newer = async () => (await t.hub.store.outbox.list({ limit: 100, status: 'pending' })).some((r) => (r.payload as { sku?: string }).sku === 'SUP-1');
      for (let i = 0; i < 200 && !(await newer()); i++) await new Promise((r) => setTimeout(r, 10));
      expect(await newer()).toBe(true);

      const retry = await t.api('POST', `/v1/dead-letters/${old!.id}/retry`);
      expect(retry.status).toBe(202);
      assertMatchesSpec('POST', '/v1/dead-letters/{id}/retry', 202, retry.body);
      expect(retry.body).toEqual({ id: old!.id, status: 'superseded' });
      await t.settle();
      expect(of('erp', 'level.changed', 'SUP-1').map((d) => d.data.onHand)).toEqual([6]);
      expect(await deadLetters()).toEqual([]);
    } finally {
      t.hub.dispatcher.start();
    }
  });
});
