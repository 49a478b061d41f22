/**
 * docs/conflicts.md: nothing typed into the sheet is lost, and a sale that landed while someone
 * typed is never overwritten silently. Both orders of events, accept and reject, twice, and bad
 * input that must change nothing.
 */
import { sheetRig, type SheetRig } from './helpers';
import { STORES } from '../helpers/stores';

jest.setTimeout(90_000);

/** Google's quota is 60 writes a minute; here 60 per 6 s, so the suite runs in seconds (the pace itself is proven in write-back.test.ts). */
const FAST = { fakeQuota: { writes: 60, windowMs: 6000 }, hub: { sheets: { quota: { requests: 60, windowMs: 6000 } } } };

describe.each(STORES)('conflicts on %s', (kind) => {
  let r: SheetRig;
  afterEach(() => r?.close());

  /** Staff type `typed` into ART-1's On hand cell, which showed `showed`; the add-on relays it. */
  async function typeCount(showed: number, typed: number, who = 'mia@gallery.example') {
    const row = r.fake.rowWithMeta('Catalog', 'stockrelay.sku', 'ART-1');
    r.fake.type('Catalog', row, 2, typed);
    const res = await r.t.relay({ kind: 'cell_edit', origin: 'sheet', sku: 'ART-1', field: 'on_hand', location: 'gallery', oldValue: showed, newValue: typed, actor: who, editedAt: new Date().toISOString(), sheet: 'Catalog', row: row + 1 });
    expect(res.status).toBe(202);
    return res.body.eventId as number;
  }
  const movementsOf = async (sku: string) => (await r.t.api('GET', `/v1/items/${sku}/movements?limit=100`)).body.movements as { id: number; reason: string; quantity: number; countedQuantity: number | null }[];
  const openConflicts = async () => (await r.t.api('GET', '/v1/conflicts')).body.conflicts as any[];

  test('sale before the edit: the edit becomes a conflict with both numbers; nothing is overwritten, nothing typed is lost', async () => {
    r = await sheetRig(kind, FAST);
    await r.sell('ART-1', 2); // 10 → 8, while Mia still sees 10 on her screen
    await r.settle(); // (the hub's write of 8 lands before she presses Enter; see docs/conflicts.md for the other way round)
    const eventId = await typeCount(10, 12);
    await r.settle();

    expect(await r.onHand('ART-1')).toBe(8);
    const list = await r.t.api('GET', '/v1/conflicts');
    expect(list.status).toBe(200);
    expect(list.body.conflicts).toEqual([
      expect.objectContaining({ sku: 'ART-1', locationId: 'gallery', sheetShowed: 10, typed: 12, hubHad: 8, hubNow: 8, actor: 'mia@gallery.example', source: 'sheet', status: 'open', eventId, resolvedAt: null }),
    ]);
    const id = list.body.conflicts[0].id as number;
    expect((await r.t.api('GET', `/v1/events/${eventId}`)).body).toMatchObject({ status: 'conflict', results: [{ result: 'conflict', conflictId: id }] });

    // The sheet: the typed 12 stays in its cell, the Sync note says what happened, Available is the hub's.
    expect(r.catalogRow('ART-1')).toMatchObject({ 'On hand · gallery': 12, 'Available · gallery': 8 });
    expect(r.catalogRow('ART-1')['Sync note']).toMatch(/Conflict at gallery: 12 was typed over 10, but the hub has 8 .*Accept or reject it in the sidebar \(conflict \d+\)/);
    // A Conflicts row, newest first under the header, tagged with the conflict's id.
    const at = r.fake.rowWithMeta('Conflicts', 'stockrelay.conflict', String(id));
    expect(at).toBe(1);
    expect(r.fake.record('Conflicts', at)).toMatchObject({ SKU: 'ART-1', Location: 'gallery', 'Sheet showed': 10, Typed: 12, 'Hub has': 8, Who: 'mia@gallery.example', Status: 'open', Event: eventId });

    // Retrying the event does not make a second conflict or a second row.
    expect((await r.t.api('POST', `/v1/events/${eventId}/retry`)).status).toBe(202);
    await r.settle();
    expect(await openConflicts()).toHaveLength(1);
    expect(r.fake.read('Conflicts').slice(1).filter((c) => c[1] === 'ART-1')).toHaveLength(1);
  });

  test('edit before the sale: the count is booked, then the sale on top; no conflict, nothing lost', async () => {
    r = await sheetRig(kind, FAST);
    await typeCount(10, 12);
    await r.settle();
    await r.sell('ART-1', 2);
    await r.settle();
    expect(await r.onHand('ART-1')).toBe(10);
    expect(await openConflicts()).toEqual([]);
    expect((await movementsOf('ART-1')).map((m) => [m.reason, m.quantity])).toEqual([
      ['sale', -2],
      ['count', 2],
      ['count', 10],
    ]);
    expect(r.catalogRow('ART-1')).toMatchObject({ 'On hand · gallery': 10, 'Available · gallery': 10, 'Sync note': '' });
  });

  test('accept books the count as typed and keeps what sold since; accepting twice books once; rejecting then is refused', async () => {
    r = await sheetRig(kind, FAST);
    await r.sell('ART-1', 2); // 8
    await r.settle();
    await typeCount(10, 12);
    await r.settle();
    const id = (await openConflicts())[0].id as number;
    await r.sell('ART-1', 1); // another sale after the conflict was found: 7
    await r.settle();

    const res = await r.t.api('POST', `/v1/conflicts/${id}/accept`, { actor: 'owner@gallery.example', origin: 'sidebar' });
    expect(res.status).toBe(200);
    expect(res.body.conflict).toMatchObject({ id, status: 'accepted', resolvedBy: 'owner@gallery.example', hubNow: 11 });
    expect(res.body.message).toMatch(/12 typed by mia@gallery\.example is taken as the count when the conflict was found, and the -1 booked since is kept: 11/);
    await r.settle();
    expect(await r.onHand('ART-1')).toBe(11);
    const count = (await movementsOf('ART-1'))[0]!;
    expect(count).toMatchObject({ reason: 'count', countedQuantity: 11, quantity: 4, id: res.body.conflict.movementId });

    // The sheet follows: On hand written again, the note cleared, the Conflicts row's Status updated in place.
    expect(r.catalogRow('ART-1')).toMatchObject({ 'On hand · gallery': 11, 'Available · gallery': 11, 'Sync note': '' });
    const row = r.fake.rowWithMeta('Conflicts', 'stockrelay.conflict', String(id));
    expect(r.fake.record('Conflicts', row).Status).toMatch(/^accepted by owner@gallery\.example \d{4}-/);

    // Twice: the same answer, nothing more booked.
    const again = await r.t.api('POST', `/v1/conflicts/${id}/accept`, {});
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ eventId: null, conflict: { status: 'accepted' } });
    await r.settle();
    expect((await movementsOf('ART-1'))[0]!.id).toBe(count.id);
    expect(await r.onHand('ART-1')).toBe(11);

    const reject = await r.t.api('POST', `/v1/conflicts/${id}/reject`);
    expect(reject.status).toBe(409);
    expect(reject.body.error).toMatchObject({ code: 'conflict_decided', message: expect.stringMatching(/already accepted by owner@gallery\.example, so it cannot be rejected now; nothing was changed/) });
    expect(await r.onHand('ART-1')).toBe(11);
    expect(await openConflicts()).toEqual([]);
    expect((await r.t.api('GET', '/v1/conflicts?status=accepted')).body.conflicts.map((c: any) => c.id)).toEqual([id]);
  });

  test('reject keeps the hub’s number and writes it back over the typed cell; rejecting twice changes nothing', async () => {
    r = await sheetRig(kind, FAST);
    await r.sell('ART-1', 2);
    await r.settle();
    await typeCount(10, 12);
    await r.settle();
    const id = (await openConflicts())[0].id as number;
    const before = (await movementsOf('ART-1')).length;
    expect(r.catalogRow('ART-1')['On hand · gallery']).toBe(12);

    const res = await r.t.api('POST', `/v1/conflicts/${id}/reject`, { actor: 'owner@gallery.example', note: 'Counted again: 8 is right.' });
    expect(res.status).toBe(200);
    expect(res.body.conflict).toMatchObject({ status: 'rejected', movementId: null, hubNow: 8 });
    await r.settle();
    expect(await r.onHand('ART-1')).toBe(8);
    expect(await movementsOf('ART-1')).toHaveLength(before);
    expect(r.catalogRow('ART-1')).toMatchObject({ 'On hand · gallery': 8, 'Sync note': '' });

    expect((await r.t.api('POST', `/v1/conflicts/${id}/reject`)).status).toBe(200);
    const accept = await r.t.api('POST', `/v1/conflicts/${id}/accept`);
    expect(accept.status).toBe(409);
    expect(accept.body.error.code).toBe('conflict_decided');
    await r.settle();
    expect(await r.onHand('ART-1')).toBe(8);
    expect(await movementsOf('ART-1')).toHaveLength(before);
  });

  test('bad input is refused with a clear error and changes nothing', async () => {
    r = await sheetRig(kind, FAST);
    await r.sell('ART-1', 2);
    await r.settle();
    await typeCount(10, 12);
    await r.settle();
    const id = (await openConflicts())[0].id as number;
    const events = async () => (await r.t.api('GET', '/v1/events?limit=500')).body.events.length as number;
    const n = await events();

    const unknown = await r.t.api('POST', '/v1/conflicts/999999/accept', {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toEqual({ code: 'unknown_conflict', message: 'There is no conflict 999999; nothing was changed.' });
    expect((await r.t.api('GET', '/v1/conflicts/999999')).status).toBe(404);

    const extra = await r.t.api('POST', `/v1/conflicts/${id}/accept`, { decision: 'yes please' });
    expect(extra.status).toBe(400);
    expect(extra.body.error.code).toBe('invalid_request');
    expect(extra.body.error.message).toMatch(/decision/);
    const wrongType = await r.t.api('POST', `/v1/conflicts/${id}/reject`, { actor: { name: 'Mia' } });
    expect(wrongType.status).toBe(400);
    const notJson = await fetch(`${r.t.url}/v1/conflicts/${id}/accept`, { method: 'POST', body: '{"actor":', headers: { authorization: `Bearer ${r.t.config.adminToken}`, 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as any).error.code).toBe('malformed_json');
    expect((await r.t.api('POST', '/v1/conflicts/abc/accept', {})).status).toBe(400);
    expect((await r.t.api('GET', '/v1/conflicts?status=maybe')).status).toBe(400);
    const noToken = await fetch(`${r.t.url}/v1/conflicts/${id}/accept`, { method: 'POST' });
    expect(noToken.status).toBe(401);

    expect(await events()).toBe(n);
    expect(await openConflicts()).toEqual([expect.objectContaining({ id, status: 'open' })]);
    expect(await r.onHand('ART-1')).toBe(8);
  });
});
