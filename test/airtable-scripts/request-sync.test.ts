/**
 * The bundled request-sync script: asks the hub to send its current numbers again, for the SKUs
 * listed or for everything, optionally reading every channel back.
 */
import { RELAY_SECRET } from '../helpers/hub';
import { buildBundles, FakeHub, HUB_URL, runBundle } from './fakes';

let code = '';
beforeAll(async () => {
  code = (await buildBundles())['request-sync']!;
}, 60_000);

async function run(extra: Record<string, unknown>) {
  const hub = new FakeHub();
  const result = await runBundle(code, { config: { hubUrl: HUB_URL, relaySecret: RELAY_SECRET, ...extra }, hub });
  return { ...result, hub };
}

test('the listed SKUs (trimmed, without repeats) and reconcile reach the hub as a signed sync_request', async () => {
  const r = await run({ skus: ' ART-0001, DVD-42,,ART-0001 ', reconcile: 'Yes', actor: 'owner@gallery.example' });
  expect(r.error).toBeNull();
  expect(r.hub.invalid).toEqual([]); // the hub's own schema accepts it
  expect(r.hub.stored).toEqual([
    {
      id: expect.stringMatching(/^airtable-sync-[0-9a-f]{16}$/),
      headers: expect.any(Object),
      body: { kind: 'sync_request', origin: 'airtable', skus: ['ART-0001', 'DVD-42'], reconcile: true, actor: 'owner@gallery.example', requestedAt: expect.any(String) },
    },
  ]);
  expect(r.outputs).toEqual({ status: 'sent', message: 'The hub was asked to send its current numbers again (event 41): 2 SKUs, reading every channel back.', eventId: 41 });
});

test('with no SKUs listed it asks for every item, and leaves reconcile to the hub', async () => {
  const r = await run({ skus: '', reconcile: null });
  expect(r.hub.stored[0]!.body).toEqual({ kind: 'sync_request', origin: 'airtable', requestedAt: expect.any(String) });
  expect(r.outputs.message).toMatch(/again \(event 41\): every item\.$/);
  const no = await run({ reconcile: 'no' });
  expect(no.hub.stored[0]!.body.reconcile).toBe(false);
});

test('a reconcile that is neither yes nor no is not sent', async () => {
  const r = await run({ reconcile: 'maybe' });
  expect(r.outputs).toEqual({ status: 'failed', message: 'reconcile should be yes or no (it is "maybe").' });
  expect(r.hub.attempts).toEqual([]);
});
