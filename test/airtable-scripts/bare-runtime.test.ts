/**
 * Issue 15, item 23: the scripts rely on nothing Airtable does not document for automations. Each
 * bundle runs in a `vm` with Airtable's globals and `fetch` only — no `crypto`, `TextEncoder`, `atob`
 * or `btoa` (test/airtable-scripts/fakes.ts) — and on every path, sent or failed, sets its outputs:
 * `status`, and `message` in words the base owner can act on; a failed run also stops with that same
 * message (so Airtable's run history shows it failed), never with a crash before the outputs are set.
 */
import { RELAY_SECRET } from '../helpers/hub';
import { buildBundles, catalog, FakeBase, FakeHub, FakeTable, HUB_URL, runBundle, type Behaviour } from './fakes';

let bundles: Record<string, string> = {};
beforeAll(async () => {
  bundles = await buildBundles();
}, 60_000);

const REC = 'recBARE000000001';

/** Each script with a base where its run succeeds. */
const SCRIPTS: Record<string, { config: Record<string, unknown>; base: () => FakeBase }> = {
  'relay-record-change': {
    config: { recordId: REC },
    base: () => catalog({ [REC]: { SKU: 'ART-1', Title: 'Bark painting', 'On hand': 5, 'Hub on hand': 4, 'Low stock at': 1 } }),
  },
  'make-adjustment': {
    config: { recordId: REC },
    base: () => new FakeBase([new FakeTable('Adjustments', ['SKU', 'Quantity', 'Reason', 'Status'], { [REC]: { SKU: 'ART-1', Quantity: 2, Reason: 'restock' } })]),
  },
  'request-sync': { config: { skus: 'ART-1' }, base: () => new FakeBase() },
};

async function run(name: string, o: { config?: Record<string, unknown>; script?: Behaviour[]; base?: FakeBase } = {}) {
  const s = SCRIPTS[name]!;
  const hub = new FakeHub();
  hub.script = [...(o.script ?? [])];
  const r = await runBundle(bundles[name]!, { config: o.config ?? { hubUrl: HUB_URL, relaySecret: RELAY_SECRET, ...s.config }, base: o.base ?? s.base(), hub });
  return { ...r, hub };
}

/** A failed run: outputs set, a message for the owner, and the run stopped with that same message. */
function expectFailed(r: { outputs: Record<string, unknown>; error: string | null }, message: RegExp) {
  expect(r.outputs.status).toBe('failed');
  expect(r.outputs.message).toMatch(message);
  expect(r.error).toBe(r.outputs.message);
  expect(String(r.outputs.message)).not.toContain(RELAY_SECRET.slice(6));
}

test('the sandbox has none of crypto, TextEncoder, atob, btoa (what Airtable does not document)', async () => {
  const r = await runBundle("output.set('globals', [typeof crypto, typeof TextEncoder, typeof atob, typeof btoa, typeof fetch].join(' '));", { config: {} });
  expect(r.outputs.globals).toBe('undefined undefined undefined undefined function');
});

describe.each(Object.keys(SCRIPTS))('%s without crypto, TextEncoder, atob and btoa', (name) => {
  test('signs, is accepted by the hub’s own verifier, checks the hub’s signed answer, and sets its outputs', async () => {
    const r = await run(name);
    expect(r.error).toBeNull();
    expect(r.hub.stored).toHaveLength(1);
    expect(r.hub.invalid).toEqual([]);
    expect(r.outputs).toMatchObject({ status: 'sent', message: expect.stringContaining('(event 41)'), eventId: 41 });
  });

  test('every way to fail sets status "failed" and a message saying what to do, and stops with it', async () => {
    expectFailed(await run(name, { config: {} }), /input variable "hubUrl" is missing or empty\. Add it on the left of the script editor/);
    const s = SCRIPTS[name]!;
    const bad = await run(name, { config: { hubUrl: HUB_URL, relaySecret: 'whsec_not base64!', ...s.config } });
    expectFailed(bad, /should start with "whsec_" followed by the rest of the secret/);
    expect(bad.hub.attempts).toEqual([]);
    expectFailed(await run(name, { script: ['down', 'down', 'down'] }), /did not reach the hub after 3 attempts: the hub at https:\/\/hub\.example\.test did not answer: .*ECONNREFUSED/);
    expectFailed(await run(name, { script: ['unsigned'] }), /The answer did not come from your hub \(the answer carries no webhook signature\)/);
    expectFailed(await run(name, { script: ['wrong-secret'] }), /The answer did not come from your hub \(the answer’s signature does not match the relay secret\)/);
    expectFailed(await run(name, { script: ['refuse'] }), /The hub refused the change \(invalid_quantity\)/);
  });
});

test('an error nobody foresaw (Airtable failing to read the record) still sets the outputs, in words, and stops with them', async () => {
  const table = new FakeTable('Catalog', ['SKU', 'On hand', 'Hub on hand'], {});
  table.selectRecordAsync = () => Promise.reject(new Error('Request timed out'));
  const r = await run('relay-record-change', { base: new FakeBase([table]) });
  expectFailed(r, /^The script stopped on something unexpected \(Request timed out\)\. Check its input variables and the table's fields, then run it again/);
});
