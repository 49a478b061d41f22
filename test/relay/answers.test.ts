/**
 * Two things the Airtable scripts rely on (docs/airtable.md):
 * - the hub signs every answer to a relay it verified, over the request's webhook-id, its own time
 *   and the exact answer text, so a script can tell the hub's answer from one made up on the way;
 * - a sync request books nothing and sends the current numbers again (here: to a notification
 *   webhook subscribed to level changes), and an unknown SKU in it is reported, not invented.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { RelayVerifier, signRelay } from '../../server/relay/verify';
import { RELAY_SECRET, startHub, type StoreKind, type TestHub } from '../helpers/hub';
import { STORES } from '../helpers/stores';

const OTHER_SECRET = `whsec_${Buffer.from('a-different-secret-that-the-hub-does-not-know').toString('base64')}`;
const SINK_SECRET = `whsec_${Buffer.from('notification-secret-for-relay-answers').toString('base64')}`;
const now = () => new Date().toISOString();

/** Posts a signed relay and returns the raw answer, headers included. */
async function post(t: TestHub, body: string, id: string, secret = RELAY_SECRET) {
  const res = await fetch(`${t.url}/v1/relay`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...signRelay(secret, id, body) } });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

/** Verifies an answer's signature the way a client does: Standard Webhooks over "<id>.<ts>.<body>". */
function answerIsSigned(a: { text: string; headers: Headers }, id: string, secret = RELAY_SECRET): boolean {
  if (a.headers.get('webhook-id') !== id) return false;
  return new RelayVerifier([secret]).verify(Buffer.from(a.text), {
    'webhook-id': a.headers.get('webhook-id') ?? undefined,
    'webhook-timestamp': a.headers.get('webhook-timestamp') ?? undefined,
    'webhook-signature': a.headers.get('webhook-signature') ?? undefined,
  }).valid;
}

describe.each<StoreKind>(STORES)('answers to relays and sync requests on %s', (kind) => {
  let t: TestHub;
  let sink: http.Server;
  const received: { sku: string; onHand: number }[] = [];

  beforeAll(async () => {
    sink = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        new Webhook(SINK_SECRET).verify(body, req.headers as Record<string, string>);
        const msg = JSON.parse(body) as { type: string; data: { sku: string; onHand: number } };
        if (msg.type === 'level.changed') received.push({ sku: msg.data.sku, onHand: msg.data.onHand });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/levels`;
    t = await startHub(kind, { file: { notify: [{ id: 'erp', url, secretEnv: 'ERP_SECRET', topics: ['level.changed'] }] }, env: { ERP_SECRET: SINK_SECRET } });
    await t.relay({ kind: 'catalog_changed', added: [{ sku: 'SYNC-1' }, { sku: 'SYNC-2' }, { sku: 'SYNC-GONE' }], removed: [], occurredAt: now() });
    await t.relay({ kind: 'adjustment', sku: 'SYNC-1', quantity: 6, reason: 'restock', occurredAt: now() });
    await t.relay({ kind: 'catalog_changed', added: [], removed: ['SYNC-GONE'], occurredAt: now() });
    await t.settle();
  });
  afterAll(async () => {
    await t?.close();
    await new Promise((r) => sink?.close(r));
  });

  test('an accepted relay is answered 202 with the hub’s signature over the request’s id and the answer', async () => {
    const body = JSON.stringify({ kind: 'adjustment', sku: 'SYNC-2', quantity: 1, reason: 'restock', occurredAt: now() });
    const a = await post(t, body, 'msg_answer_1');
    expect(a.status).toBe(202);
    expect(answerIsSigned(a, 'msg_answer_1')).toBe(true);
    // The signature covers the exact text: a changed answer, or one for another request, does not verify.
    expect(answerIsSigned({ ...a, text: a.text.replace('received', 'processed') }, 'msg_answer_1')).toBe(false);
    expect(answerIsSigned(a, 'msg_answer_1', OTHER_SECRET)).toBe(false);
  });

  test('refusals after the signature was accepted are signed too (400, 409); a refused signature is not (401)', async () => {
    const bad = await post(t, JSON.stringify({ kind: 'adjustment', sku: 'SYNC-2', quantity: 'five', reason: 'restock', occurredAt: now() }), 'msg_answer_2');
    expect(bad.status).toBe(400);
    expect(answerIsSigned(bad, 'msg_answer_2')).toBe(true);
    const body = JSON.stringify({ kind: 'adjustment', sku: 'SYNC-2', quantity: 1, reason: 'restock', occurredAt: now() });
    expect((await post(t, body, 'msg_answer_3')).status).toBe(202);
    const again = await post(t, body, 'msg_answer_3');
    expect(again.status).toBe(409);
    expect(JSON.parse(again.text)).toMatchObject({ error: { code: 'relay_replayed' } });
    expect(answerIsSigned(again, 'msg_answer_3')).toBe(true);
    // Signed with a secret the hub does not know: the hub cannot sign back, and says why.
    const forged = await post(t, body, 'msg_answer_4', OTHER_SECRET);
    expect(forged.status).toBe(401);
    expect(forged.headers.get('webhook-signature')).toBeNull();
  });

  test('a sync request books nothing and sends every listed item’s numbers again; an unknown SKU is reported', async () => {
    // Every notification of the tests before is delivered first (one that failed under load waits for its retry).
    for (let i = 0; i < 400; i++) {
      await t.settle();
      const outbox = await t.hub.store.outbox.count();
      if (!outbox.pending && !outbox.working) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const before = await t.hub.store.ledger.recomputeLevels();
    received.length = 0;
    const r = await t.relay({ kind: 'sync_request', origin: 'airtable', skus: ['SYNC-1', 'NOPE-9', 'SYNC-GONE'], actor: 'mia@gallery.example', requestedAt: now() });
    expect(r.status).toBe(202);
    await t.settle();
    const ev = (await t.api('GET', `/v1/events/${r.body.eventId}`)).body;
    expect(ev).toMatchObject({ status: 'unmatched', kind: 'sync_request' });
    expect(ev.results).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sku: 'NOPE-9', result: 'unmatched' }),
        expect.objectContaining({ sku: 'SYNC-GONE', result: 'unchanged', message: expect.stringMatching(/removed from the catalog/) }),
        expect.objectContaining({ result: 'unchanged', message: 'Current numbers of 1 item sent again to every channel and write-back.' }),
      ]),
    );
    // A delivery to the subscriber that failed under load is retried after a pause: wait for it (bounded).
    for (let i = 0; i < 200 && received.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await t.settle();
    }
    expect(received).toEqual([{ sku: 'SYNC-1', onHand: 6 }]);
    expect(await t.hub.store.ledger.recomputeLevels()).toEqual(before);

    received.length = 0;
    const all = await t.relay({ kind: 'sync_request', requestedAt: now() });
    await t.settle();
    expect((await t.api('GET', `/v1/events/${all.body.eventId}`)).body).toMatchObject({ status: 'processed' });
    for (let i = 0; i < 200 && received.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      await t.settle();
    }
    expect(received.map((x) => x.sku).sort()).toEqual(['SYNC-1', 'SYNC-2']);
    expect(await t.hub.store.ledger.recomputeLevels()).toEqual(before);
  });

  test('a sync request with an empty SKU list is refused and stores nothing', async () => {
    const counts = await t.hub.store.inbox.count();
    const r = await t.relay({ kind: 'sync_request', skus: [], requestedAt: now() });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_relay');
    expect(await t.hub.store.inbox.count()).toEqual(counts);
  });
});
