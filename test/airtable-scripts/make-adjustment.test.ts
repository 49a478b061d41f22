/**
 * The bundled make-adjustment script: one Adjustments record becomes one adjustment relay, its
 * webhook-id the record's own so a second press books nothing, and the outcome lands in Status.
 */
import { RELAY_SECRET } from '../helpers/hub';
import { buildBundles, FakeBase, FakeHub, FakeTable, HUB_URL, runBundle, type Behaviour, type Cells } from './fakes';

let code = '';
beforeAll(async () => {
  code = (await buildBundles())['make-adjustment']!;
}, 60_000);

const REC = 'recADJ000000001a';
const FIELDS = ['SKU', 'Quantity', 'Reason', 'Location', 'Note', 'Status'];

function adjustments(cells: Cells, fields = FIELDS): FakeBase {
  return new FakeBase([new FakeTable('Adjustments', fields, { [REC]: cells })]);
}

async function press(base: FakeBase, hub = new FakeHub(), script: Behaviour[] = []) {
  hub.script = [...script];
  const result = await runBundle(code, { config: { hubUrl: HUB_URL, relaySecret: RELAY_SECRET, recordId: REC, actor: 'sam@craft.example' }, base, hub });
  return { ...result, hub, status: base.getTable('Adjustments').records.get(REC)!.Status };
}

test('a press books the adjustment, signed, under the record’s own webhook-id, and writes "Sent to hub (event N)" into Status', async () => {
  const base = adjustments({ SKU: 'YARN-12', Quantity: -2, Reason: { id: 'sel1', name: 'Sale', color: 'blueLight2' }, Location: 'warehouse', Note: 'two skeins to the market stall' });
  const r = await press(base);
  expect(r.error).toBeNull();
  expect(r.hub.invalid).toEqual([]);
  expect(r.hub.stored).toEqual([
    {
      id: `airtable-adj-${REC}`,
      headers: expect.any(Object),
      body: { kind: 'adjustment', origin: 'airtable', sku: 'YARN-12', location: 'warehouse', quantity: -2, reason: 'sale', note: 'two skeins to the market stall', actor: 'sam@craft.example', occurredAt: expect.any(String) },
    },
  ]);
  expect(r.outputs).toEqual({ status: 'sent', message: 'Sent to the hub (event 41): -2 × SKU YARN-12 (sale, warehouse). Stored; it will be booked in order.', eventId: 41 });
  expect(r.status).toBe('Sent to hub (event 41)');
});

test('pressing the button twice books it once: the hub answers the second press as a replay, and Status says so', async () => {
  const base = adjustments({ SKU: 'YARN-12', Quantity: 10, Reason: null });
  const hub = new FakeHub();
  const first = await press(base, hub);
  expect(first.outputs.status).toBe('sent');
  expect(hub.stored[0]!.body.reason).toBe('adjustment'); // no reason chosen: a plain adjustment
  const second = await press(base, hub);
  expect(second.error).toBeNull();
  expect(second.outputs).toEqual({ status: 'already sent', message: expect.stringMatching(/already had this adjustment.*booked once/) });
  expect(second.status).toBe('Sent to hub (event 41)'); // the first press's word stays
  expect(hub.stored).toHaveLength(1);
  expect(hub.attempts.map((a) => a.id)).toEqual([`airtable-adj-${REC}`, `airtable-adj-${REC}`]);
});

test('a press after a lost answer says in Status that the hub already had it', async () => {
  const base = adjustments({ SKU: 'YARN-12', Quantity: 5, Reason: { name: 'receipt' } });
  const hub = new FakeHub();
  const r = await press(base, hub, ['lost', 'ok']); // stored, answer lost; the retry is a replay
  expect(r.outputs.status).toBe('already sent');
  expect(r.status).toBe('Already sent to hub earlier; not booked again. For another change, add a new record.');
  expect(hub.stored).toHaveLength(1);
});

test('a quantity of 0, a text or no SKU is not sent; Status says what to fix and the run fails', async () => {
  for (const [cells, why] of [
    [{ SKU: 'YARN-12', Quantity: 0 }, /Quantity of SKU YARN-12 is 0: it should be a whole number of units other than 0/],
    [{ SKU: 'YARN-12', Quantity: 'a dozen' }, /Quantity of SKU YARN-12 is "a dozen"/],
    [{ SKU: 'YARN-12', Quantity: 3, Reason: { name: 'Gift' } }, /Reason "gift" is not one the hub knows; choose one of: adjustment, restock/],
    [{ SKU: '', Quantity: 3 }, /has no SKU/],
  ] as [Cells, RegExp][]) {
    const r = await press(adjustments(cells));
    expect(r.outputs.status).toBe('failed');
    expect(r.outputs.message).toMatch(why);
    expect(r.error).toBe(r.outputs.message);
    expect(r.status).toBe(`Not sent: ${r.outputs.message}`);
    expect(r.hub.attempts).toEqual([]);
  }
});

test('a refusal by the hub is written into Status in the hub’s words, without a retry', async () => {
  const r = await press(adjustments({ SKU: 'YARN-12', Quantity: 4, Reason: { name: 'restock' } }), new FakeHub(), ['refuse']);
  expect(r.outputs.status).toBe('failed');
  expect(r.status).toBe('Not sent: The hub refused the change (invalid_quantity): SKU X, on_hand: "twelve" is not a whole number.');
  expect(r.hub.attempts).toHaveLength(1);
});

test('with the hub down the record keeps a Status that says to press again, and pressing again later books it once', async () => {
  const base = adjustments({ SKU: 'YARN-12', Quantity: 4, Reason: { name: 'receipt' } });
  const hub = new FakeHub();
  const down = await press(base, hub, ['down', 'down', 'down']);
  expect(down.status).toMatch(/^Not sent: The change did not reach the hub after 3 attempts: .*Press the button again once the hub is back/);
  const again = await press(base, hub);
  expect(again.outputs.status).toBe('sent');
  expect(hub.stored).toHaveLength(1);
});

test('a table without a Status field still books the adjustment; a table without Quantity is named', async () => {
  const r = await press(adjustments({ SKU: 'YARN-12', Quantity: 1 }, ['SKU', 'Quantity']));
  expect(r.outputs.status).toBe('sent');
  const missing = await press(adjustments({ SKU: 'YARN-12' }, ['SKU', 'Status']));
  expect(missing.outputs.message).toBe('The Adjustments table has no field called "Quantity". Name your field "Quantity".');
});
