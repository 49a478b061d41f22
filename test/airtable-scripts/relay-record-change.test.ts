/**
 * The bundled relay-record-change script, run as Airtable runs it (a `vm` with Airtable's globals),
 * against a fake hub that checks every relay with the hub's own verifier and schema and signs its
 * answers as the hub does.
 */
import { ATTEMPT_TIMEOUT_MS, RETRY_WAITS_MS, RUN_BUDGET_MS } from '../../airtable-scripts/src/hub';
import { RELAY_SECRET } from '../helpers/hub';
import { buildBundles, catalog, FakeHub, HUB_URL, runBundle, type Behaviour, type Cells } from './fakes';

let code = '';
beforeAll(async () => {
  code = (await buildBundles())['relay-record-change']!;
}, 60_000);

const REC = 'recART0001aaaaaa';
const config = (extra: Record<string, unknown> = {}) => ({ hubUrl: HUB_URL, relaySecret: RELAY_SECRET, recordId: REC, actor: 'mia@gallery.example', ...extra });
const row = (cells: Cells): Cells => ({ SKU: 'ART-0001', Title: 'Ngayu — ochre on bark', 'Low stock at': 2, Archived: null, ...cells });

async function run(cells: Cells, o: { extra?: Record<string, unknown>; script?: Behaviour[] } = {}) {
  const hub = new FakeHub();
  hub.script = [...(o.script ?? [])];
  const base = catalog({ [REC]: row(cells) });
  const result = await runBundle(code, { config: config(o.extra), base, hub });
  return { ...result, hub, table: base.getTable('Catalog') };
}

test('a count typed into On hand reaches the hub as one signed edit_batch, old value = Hub on hand, and the hub’s signed 202 counts as sent', async () => {
  const r = await run({ 'On hand': 12, 'Hub on hand': 10 }, { extra: { location: 'gallery' } });
  expect(r.error).toBeNull();
  expect(r.outputs).toEqual({ status: 'sent', message: expect.stringContaining('(event 41)'), eventId: 41 });
  expect(r.outputs.message).toMatch(/ART-0001.*On hand 10 → 12/);
  expect(r.hub.invalid).toEqual([]); // the hub's own schema (server/core/relay.ts) accepts the body
  expect(r.hub.stored).toHaveLength(1);
  const { id, body } = r.hub.stored[0]!;
  expect(id).toMatch(new RegExp(`^airtable-${REC}-[0-9a-f]{16}$`));
  expect(body).toEqual({
    kind: 'edit_batch',
    origin: 'airtable',
    edits: [
      { sku: 'ART-0001', field: 'on_hand', location: 'gallery', oldValue: 10, newValue: 12, sheet: 'Catalog', record: REC },
      { sku: 'ART-0001', field: 'title', oldValue: null, newValue: 'Ngayu — ochre on bark', sheet: 'Catalog', record: REC },
      { sku: 'ART-0001', field: 'low_stock_threshold', oldValue: null, newValue: 2, sheet: 'Catalog', record: REC },
    ],
    actor: 'mia@gallery.example',
    editedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
  });
  // only the fields the script needs were read
  expect(r.table.selects).toEqual([['SKU', 'Title', 'On hand', 'Low stock at', 'Archived', 'Hub on hand']]);
});

test('echo rule: On hand equal to Hub on hand is the hub’s own write-back and sends no count; with only On hand relayed, nothing is sent at all', async () => {
  const r = await run({ 'On hand': 10, 'Hub on hand': 10 });
  expect(r.outputs.status).toBe('sent');
  expect(r.hub.stored[0]!.body.edits.map((e: any) => e.field)).toEqual(['title', 'low_stock_threshold']);
  expect(r.outputs.message).toMatch(/On hand 10 is what the hub last wrote/);

  const only = await run({ 'On hand': 10, 'Hub on hand': 10 }, { extra: { relayFields: 'On hand' } });
  expect(only.error).toBeNull();
  expect(only.outputs).toEqual({ status: 'nothing to send', message: expect.stringMatching(/nothing to send.*what the hub last wrote/) });
  expect(only.hub.attempts).toEqual([]);

  const counted = await run({ 'On hand': 11, 'Hub on hand': 10 }, { extra: { relayFields: 'On hand' } });
  expect(counted.hub.stored[0]!.body.edits).toEqual([expect.objectContaining({ field: 'on_hand', oldValue: 10, newValue: 11 })]);
});

test('a text typed into On hand is not sent: the run fails with a sentence saying what to type', async () => {
  const r = await run({ 'On hand': 'twelve', 'Hub on hand': 10 });
  expect(r.outputs.status).toBe('failed');
  expect(r.outputs.message).toBe('On hand of SKU ART-0001 is "twelve", not a whole number. Type a number of units, like 12; nothing was sent.');
  expect(r.error).toBe(r.outputs.message); // thrown too: Airtable marks the run failed
  expect(r.hub.attempts).toEqual([]);

  const negative = await run({ 'On hand': -3, 'Hub on hand': 10 });
  expect(negative.outputs.message).toMatch(/On hand of SKU ART-0001 is -3: it cannot be negative/);
  const decimal = await run({ 'On hand': 2.5, 'Hub on hand': 10 });
  expect(decimal.outputs.message).toMatch(/"2.5", not a whole number/);
  expect([...negative.hub.attempts, ...decimal.hub.attempts]).toEqual([]);
});

test('a new record is added to the hub first, then its On hand is counted from zero, as a second relay once the first is stored', async () => {
  const r = await run({ 'On hand': 5, 'Hub on hand': null });
  expect(r.error).toBeNull();
  expect(r.hub.invalid).toEqual([]);
  expect(r.hub.stored.map((s) => s.body.kind)).toEqual(['catalog_changed', 'edit_batch']);
  const [added, count] = r.hub.stored;
  expect(added!.body).toEqual({ kind: 'catalog_changed', origin: 'airtable', added: [{ sku: 'ART-0001', title: 'Ngayu — ochre on bark', lowStockThreshold: 2 }], removed: [], actor: 'mia@gallery.example', occurredAt: expect.any(String) });
  expect(count!.body.edits).toEqual([{ sku: 'ART-0001', field: 'on_hand', oldValue: null, newValue: 5, sheet: 'Catalog', record: REC }]);
  expect(count!.id).toBe(`${added!.id}-on-hand`);
  expect(r.outputs).toMatchObject({ status: 'sent', eventId: 42 });
  expect(r.outputs.message).toMatch(/SKU ART-0001 was added to the hub \(event 41\), then its On hand 5 \(event 42\)/);

  const empty = await run({ 'On hand': null, 'Hub on hand': null, Title: null, 'Low stock at': null });
  expect(empty.hub.stored.map((s) => s.body)).toEqual([expect.objectContaining({ kind: 'catalog_changed', added: [{ sku: 'ART-0001' }] })]);

  const noSku = await run({ SKU: '', 'On hand': 3, 'Hub on hand': null });
  expect(noSku.outputs).toEqual({ status: 'nothing to send', message: expect.stringMatching(/no SKU yet/) });
  expect(noSku.error).toBeNull();
  expect(noSku.hub.attempts).toEqual([]);
});

test('if the hub is down after the addition, the run says the item was added but its count was not', async () => {
  const r = await run({ 'On hand': 5, 'Hub on hand': null }, { script: ['ok', 'down', 'down', 'down'] });
  expect(r.outputs.status).toBe('failed');
  expect(r.outputs.message).toMatch(/^SKU ART-0001 was added to the hub \(event 41\), but its On hand was not sent: The change did not reach the hub after 3 attempts/);
});

test('Archived checked removes the SKU from the hub’s catalog', async () => {
  const r = await run({ 'On hand': 4, 'Hub on hand': 4, Archived: true });
  expect(r.hub.stored.map((s) => s.body)).toEqual([{ kind: 'catalog_changed', origin: 'airtable', added: [], removed: ['ART-0001'], actor: 'mia@gallery.example', occurredAt: expect.any(String) }]);
  expect(r.hub.invalid).toEqual([]);
  expect(r.outputs).toMatchObject({ status: 'sent', message: expect.stringMatching(/SKU ART-0001 archived/) });
});

test('hub down: three attempts with the same webhook-id, waits of 1 s and 3 s, then a readable failure — well inside Airtable’s 30 s', async () => {
  const r = await run({ 'On hand': 12, 'Hub on hand': 10 }, { script: ['down', 'down', 'down'] });
  expect(r.outputs.status).toBe('failed');
  expect(r.outputs.message).toMatch(/^The change did not reach the hub after 3 attempts: the hub at https:\/\/hub\.example\.test did not answer: fetch failed \(ECONNREFUSED\)\. Change the record again/);
  expect(r.error).toBe(r.outputs.message);
  expect(r.hub.attempts).toHaveLength(3);
  expect(new Set(r.hub.attempts.map((a) => a.id)).size).toBe(1);
  expect(r.clock.fired).toEqual([...RETRY_WAITS_MS]);
  expect(r.clock.elapsed).toBeLessThan(25_000);
});

test('hub hanging: each attempt is cut off by its time limit and the whole run stays within its 24 s budget', async () => {
  const r = await run({ 'On hand': 12, 'Hub on hand': 10 }, { script: ['hang', 'hang', 'hang'] });
  expect(r.outputs.status).toBe('failed');
  expect(r.outputs.message).toMatch(/did not answer: no answer within 4 seconds/); // the last attempt had what was left
  expect(r.hub.attempts).toHaveLength(3);
  // 8 s, wait 1 s, 8 s, wait 3 s, then only what is left of the budget
  expect(r.clock.fired).toEqual([ATTEMPT_TIMEOUT_MS, 1000, ATTEMPT_TIMEOUT_MS, 3000, RUN_BUDGET_MS - 2 * ATTEMPT_TIMEOUT_MS - 4000]);
  expect(r.clock.elapsed).toBeLessThanOrEqual(RUN_BUDGET_MS);
  expect(r.clock.elapsed).toBeLessThan(25_000);
});

test('a restarting hub (503) and a lost answer are retried with the same webhook-id; a replay answered 409 counts as delivered', async () => {
  const restart = await run({ 'On hand': 12, 'Hub on hand': 10 }, { script: ['503', 'ok'] });
  expect(restart.outputs).toMatchObject({ status: 'sent', eventId: 41 });
  expect(restart.hub.attempts.map((a) => a.behaviour)).toEqual(['503', 'ok']);
  expect(restart.hub.attempts[0]!.id).toBe(restart.hub.attempts[1]!.id);
  expect(restart.clock.fired).toEqual([1000]);

  // stored, answer lost on the way; the retry is refused as a replay — the change is booked once
  const lost = await run({ 'On hand': 12, 'Hub on hand': 10 }, { script: ['lost', 'ok'] });
  expect(lost.error).toBeNull();
  expect(lost.outputs).toEqual({ status: 'already sent', message: expect.stringMatching(/already had this change.*booked once/) });
  expect(lost.hub.stored).toHaveLength(1);
});

test('in a runtime without timers or AbortController the script still retries, waiting by the clock', async () => {
  const hub = new FakeHub();
  hub.script = ['503', 'ok'];
  const r = await runBundle(code, { config: config(), base: catalog({ [REC]: row({ 'On hand': 12, 'Hub on hand': 10 }) }), hub, noTimers: { tickMs: 50 } });
  expect(r.error).toBeNull();
  expect(r.outputs).toMatchObject({ status: 'sent', eventId: 41 });
  expect(hub.attempts.map((a) => a.behaviour)).toEqual(['503', 'ok']);
  expect(r.clock.requested).toEqual([]); // no timer was asked for
  expect(r.clock.elapsed).toBeGreaterThanOrEqual(1000); // the wait before the 2nd attempt
});

test('a 4xx other than a replay is never retried, even a 409 or a 429', async () => {
  for (const status of [409, 429]) {
    let calls = 0;
    const hub = new FakeHub();
    hub.fetch = async () => {
      calls++;
      return new Response(JSON.stringify({ error: { code: 'busy', message: 'Not now.' } }), { status });
    };
    const r = await runBundle(code, { config: config(), base: catalog({ [REC]: row({ 'On hand': 12, 'Hub on hand': 10 }) }), hub });
    expect(r.outputs).toEqual({ status: 'failed', message: 'The hub refused the change (busy): Not now.' });
    expect(calls).toBe(1);
    expect(r.clock.fired).toEqual([]);
  }
});

test.each<[Behaviour, RegExp]>([
  ['unsigned', /no webhook signature/],
  ['wrong-secret', /signature does not match/],
  ['stale', /more than 5 minutes away/],
  ['other-id', /signed for another request/],
])('a 202 that the hub did not sign (%s) is a failure, not a success, and is not retried', async (behaviour, why) => {
  const r = await run({ 'On hand': 12, 'Hub on hand': 10 }, { script: [behaviour] });
  expect(r.outputs.status).toBe('failed');
  expect(r.outputs.message).toMatch(/^The answer did not come from your hub \(/);
  expect(r.outputs.message).toMatch(why);
  expect(r.outputs.message).toMatch(/Check hubUrl: https:\/\/hub\.example\.test\/v1\/relay answered 202/);
  expect(r.outputs).not.toHaveProperty('eventId');
  expect(r.hub.attempts).toHaveLength(1);
});

test('a refusal (400) is reported in the hub’s words and never retried', async () => {
  const r = await run({ 'On hand': 12, 'Hub on hand': 10 }, { script: ['refuse'] });
  expect(r.outputs).toEqual({ status: 'failed', message: 'The hub refused the change (invalid_quantity): SKU X, on_hand: "twelve" is not a whole number.' });
  expect(r.hub.attempts).toHaveLength(1);
});

test('a relay secret other than the hub’s is refused (401) with a hint, and the secret never appears in what the run says', async () => {
  const other = `whsec_${Buffer.from('another-secret-entirely-0123456789').toString('base64')}`;
  const r = await run({ 'On hand': 12, 'Hub on hand': 10 }, { extra: { relaySecret: other } });
  expect(r.outputs.status).toBe('failed');
  expect(r.outputs.message).toMatch(/The hub refused this relay’s signature: .*relay secret.*Copy the relay secret \(whsec_…\) of this base’s credential again into the relaySecret input variable; if it was revoked or rotated, ask the supplier for a new one/);
  expect(r.hub.attempts).toHaveLength(1);
  for (const text of [JSON.stringify(r.outputs), r.error ?? '']) {
    expect(text).not.toContain(other.slice(6));
    expect(text).not.toContain(RELAY_SECRET.slice(6));
  }

  const mistyped = await run({ 'On hand': 12, 'Hub on hand': 10 }, { extra: { relaySecret: 'abc123' } });
  expect(mistyped.outputs.message).toMatch(/should start with "whsec_"/);
  expect(mistyped.hub.attempts).toEqual([]);
});

test('missing inputs, tables and fields are named, with what to do', async () => {
  const noUrl = await run({ 'On hand': 1, 'Hub on hand': 1 }, { extra: { hubUrl: '' } });
  expect(noUrl.outputs.message).toMatch(/input variable "hubUrl" is missing or empty/);
  const badUrl = await run({ 'On hand': 1, 'Hub on hand': 1 }, { extra: { hubUrl: 'hub.example.test' } });
  expect(badUrl.outputs.message).toMatch(/hubUrl should be the hub’s address starting with https:\/\//);
  const noTable = await run({ 'On hand': 1, 'Hub on hand': 1 }, { extra: { table: 'Stock' } });
  expect(noTable.outputs.message).toBe('This base has no table called "Stock". Set the "table" input variable to your table’s name.');
  const noField = await run({ 'On hand': 1, 'Hub on hand': 1 }, { extra: { onHandField: 'Qty' } });
  expect(noField.outputs.message).toBe('The Catalog table has no field called "Qty". Name your field "Qty", or set the "onHandField" input variable to its name.');
  const noRecord = await run({ 'On hand': 1, 'Hub on hand': 1 }, { extra: { recordId: 'recNOPE' } });
  expect(noRecord.outputs.message).toMatch(/no record recNOPE/);
  for (const r of [noUrl, badUrl, noTable, noField, noRecord]) {
    expect(r.outputs.status).toBe('failed');
    expect(r.hub.attempts).toEqual([]);
  }
});

test('a hubUrl pasted with /v1/relay and a trailing slash still reaches the relay address', async () => {
  const r = await run({ 'On hand': 3, 'Hub on hand': 2 }, { extra: { hubUrl: `${HUB_URL}/v1/relay/` } });
  expect(r.outputs.status).toBe('sent');
});

test('renamed fields are read through their input variables; a base without Title, Low stock at or Archived still relays counts', async () => {
  const hub = new FakeHub();
  const fields = ['Code', 'Qty', 'Hub qty'];
  const base = catalog({ [REC]: { Code: 'DVD-42', Qty: '7', 'Hub qty': 9 } }, fields);
  const r = await runBundle(code, { config: config({ skuField: 'Code', onHandField: 'Qty', hubOnHandField: 'Hub qty' }), base, hub });
  expect(r.error).toBeNull();
  expect(hub.stored.map((s) => s.body.edits)).toEqual([[{ sku: 'DVD-42', field: 'on_hand', oldValue: 9, newValue: 7, sheet: 'Catalog', record: REC }]]);
  expect(r.outputs.message).toMatch(/Qty 9 → 7/);
});
