/**
 * The sidebar's server side: what it shows for the row under the cursor, read from the hub's API,
 * and the adjust form, which sends a signed `adjustment` relay from the sidebar. Each section that
 * cannot be read says why in plain words, without blanking the others.
 */
import { ADJUSTMENT_REASONS as HUB_REASONS } from '../../server/shared/relay';
import { ADJUSTMENT_REASONS, checkAdjustForm } from '../../appsscript/src/sidebar-api';
import { catalog, rig } from './fakes/env';
import { furnishedRig } from './fakes/furnished';

test('the sidebar shows the row under the cursor: levels per location, each channel’s published level and last push', () => {
  const { addon } = furnishedRig();
  const s = addon.sidebarState();
  expect(s.connected).toBe(true);
  expect(s.row).toEqual({ sheet: 'Catalog', row: 2, sku: 'ART-0001', title: 'Ngayu — Tjukurpa, ochre on bark' });
  expect(s.item.error).toBeNull();
  expect(s.item.data!.locations).toEqual([
    {
      locationId: 'gallery',
      onHand: 4,
      available: 3,
      channels: [
        { channelId: 'square-pos', channelName: 'Square — gallery POS', published: 3, pushed: 3, pushedAt: '2026-11-22T10:14:00.000Z', observed: 3, observedAt: '2026-11-22T10:14:02.000Z' },
        { channelId: 'shopify-web', channelName: 'Web store', published: 2, pushed: 2, pushedAt: '2026-11-22T10:14:01.000Z', observed: 2, observedAt: null },
      ],
    },
    { locationId: 'warehouse', onHand: 7, available: 7, channels: [{ channelId: 'shopify-web', channelName: 'Web store', published: 6, pushed: 6, pushedAt: '2026-11-22T09:00:00.000Z', observed: null, observedAt: null }] },
  ]);
  expect(s.movements.data[0]).toEqual({ when: '2026-11-22T10:13:00.000Z', location: 'gallery', quantity: -1, reason: 'sale', source: 'channel', channel: 'Square — gallery POS', actor: null, note: null, reference: 'order #1042' });
  expect(s.movements.data[1]).toMatchObject({ quantity: 3, source: 'sheet', actor: 'mia@gallery.example' });
  expect(s.alerts.data.map((a) => a.severity)).toEqual(['warning', 'critical']);
  expect(s.channels.data.map((c) => [c.name, c.health])).toEqual([
    ['Square — gallery POS', 'ok'],
    ['Web store', 'failing'],
    ['Etsy shop', 'not connected'],
  ]);
  expect(s.channels.data[1]!.detail).toMatch(/refused the last 5 pushes/);
  expect(s.conflicts).toEqual({
    items: [{ id: 17, sku: 'ART-0001', location: 'gallery', sheetShowed: '4', typed: '6', hubHad: '3', hubNow: '3', who: 'mia@gallery.example', foundAt: '2026-11-22T10:15:00.000Z' }],
    canDecide: true,
    error: null,
    note: expect.stringMatching(/^Accept: the number typed becomes the count/),
  });
  expect(s.locations).toEqual(['gallery', 'warehouse']);
  expect(s.reasons).toEqual([...ADJUSTMENT_REASONS]);
  expect(s.queue).toEqual({ waiting: 0, oldestWaiting: null, lastError: null, failed: [] });
  expect(() => JSON.parse(JSON.stringify(s))).not.toThrow();
  expect(JSON.parse(JSON.stringify(s))).toEqual(s); // plain JSON: nothing lost crossing to the browser
});

test('a row the hub does not know yet says so and points at Sync now', () => {
  const { env, addon } = furnishedRig();
  env.ss.select('Catalog', 'C3');
  const s = addon.sidebarState();
  expect(s.row!.sku).toBe('ART-0002');
  expect(s.item.error).toMatch(/The hub does not know ART-0002 yet: choose Sync now/);
  expect(s.movements).toEqual({ data: [], error: null });
});

test('with the hub down every section says why in plain words, and the queue still shows', () => {
  const { hub, addon } = furnishedRig();
  hub.readStatus = 'down';
  hub.mode = 'down';
  addon.sidebarAdjust({ sku: 'ART-0001', location: 'gallery', quantity: '2', reason: 'restock', note: '' });
  const s = addon.sidebarState();
  expect(s.item.error).toMatch(/^The hub at https:\/\/hub\.stock\.test did not answer/);
  expect(s.channels.error).toMatch(/did not answer/);
  expect(s.alerts.error).toMatch(/did not answer/);
  expect(s.queue.waiting).toBe(1);
  expect(s.queue.lastError).toMatch(/did not answer/);
});

test('a refused token and a hub that is restarting are told apart', () => {
  const { hub, addon } = furnishedRig();
  hub.readStatus = 401;
  expect(addon.sidebarState().item.error).toMatch(/The hub refused this sheet’s token: it is mistyped, or its credential was rotated or revoked\. Ask the supplier .*choose Connect to hub/);
  hub.readStatus = 503;
  expect(addon.sidebarState().item.error).toMatch(/The hub is restarting \(503\)/);
});

test('not connected: the sidebar says what to do and calls nothing', () => {
  const r = rig({ connected: false });
  catalog(r.env, ['SKU', 'On hand'], [['ART-1', 1]]);
  r.env.ss.select('Catalog', 'A2');
  const s = r.addon.sidebarState();
  expect(s.connected).toBe(false);
  expect(s.notice).toMatch(/not connected to a hub yet: choose stockrelay › Connect to hub/);
  expect(s.row!.sku).toBe('ART-1');
  expect(r.env.fetch.requests).toEqual([]);
});

test('the cursor elsewhere: no row, nothing read for an item', () => {
  const { env, addon } = furnishedRig();
  env.ss.select('Conflicts', 'A2');
  const s = addon.sidebarState();
  expect(s.row).toEqual({ sheet: 'Conflicts', row: 2, sku: null, title: null });
  expect(s.item).toEqual({ data: null, error: null });
  expect(env.fetch.requests.some((r) => r.url.includes('/v1/items/'))).toBe(false);
});

test('the adjust form sends one signed adjustment relay, from the sidebar, with who and why', () => {
  const { hub, addon } = furnishedRig();
  const res = addon.sidebarAdjust({ sku: 'ART-0001', location: 'gallery', quantity: ' -1 ', reason: 'adjustment', note: ' frame cracked ' });
  expect(res).toEqual({ ok: true, message: 'Sent: ART-0001: -1 (adjustment) at gallery. The hub books it in a moment.', waiting: 0 });
  expect(hub.stored).toEqual([
    {
      id: expect.stringMatching(/^msg_/),
      body: { kind: 'adjustment', origin: 'sidebar', sku: 'ART-0001', location: 'gallery', quantity: -1, reason: 'adjustment', note: 'frame cracked', actor: 'mia@gallery.example', occurredAt: expect.any(String) },
    },
  ]);
});

test.each([
  ['a change of 0', { quantity: '0' }, /An adjustment of 0 changes nothing/],
  ['a fraction', { quantity: '1.5' }, /"1.5" is not a whole number/],
  ['a word', { quantity: 'two' }, /"two" is not a whole number/],
  ['two million', { quantity: '2000000' }, /more than a million/],
  ['an unknown reason', { reason: 'gift' }, /Choose a reason/],
  ['no SKU', { sku: ' ' }, /Put the cursor on a Catalog row/],
  ['a note over 1,000 characters', { note: 'x'.repeat(1001) }, /longer than 1,000 characters/],
] as const)('the adjust form refuses %s and says why; nothing is sent', (_label, change, why) => {
  const { hub, addon } = furnishedRig();
  const res = addon.sidebarAdjust({ sku: 'ART-0001', location: 'gallery', quantity: '1', reason: 'restock', note: '', ...change });
  expect(res.ok).toBe(false);
  expect(res.message).toMatch(why);
  expect(hub.attempts).toEqual([]);
  expect(checkAdjustForm({ sku: 'ART-0001', location: 'gallery', quantity: '1', reason: 'restock', note: '', ...change }).ok).toBe(false);
});

test('the adjustment reasons are the hub’s', () => {
  expect([...ADJUSTMENT_REASONS]).toEqual([...HUB_REASONS]);
});

test('Send now from the sidebar flushes what is waiting and reports', () => {
  const { hub, addon } = furnishedRig();
  hub.mode = 'down';
  addon.sidebarAdjust({ sku: 'ART-0001', location: 'gallery', quantity: '2', reason: 'restock', note: '' });
  const still = addon.sidebarSendWaiting();
  expect(still.queue.waiting).toBe(1);
  expect(still.message).toMatch(/1 still waiting/);
  hub.mode = 'up';
  expect(addon.sidebarSendWaiting()).toMatchObject({ message: 'Sent 1 change(s); nothing is waiting.', queue: { waiting: 0 } });
});

test('a conflict is accepted from the sidebar: one POST to the hub, as the sidebar and the person; the hub’s words come back', () => {
  const { hub, addon, env } = furnishedRig();
  const res = addon.sidebarDecideConflict(17, 'accept');
  expect(res).toMatchObject({ ok: true, message: 'Accepted: 6 typed is taken as the count.', conflicts: { items: [], canDecide: true } });
  expect(hub.decisions).toEqual([{ id: 17, decision: 'accept', body: { origin: 'sidebar', actor: 'mia@gallery.example' } }]);
  const post = env.fetch.requests.find((r) => r.method === 'POST' && r.url.endsWith('/v1/conflicts/17/accept'))!;
  expect(post.headers['authorization']).toMatch(/^Bearer /);
});

test('a refused decision is said in the hub’s words and changes nothing here', () => {
  const { hub, addon } = furnishedRig();
  hub.conflicts[0]!.status = 'accepted';
  hub.conflicts.push({ ...hub.conflicts[0]!, id: 18, status: 'open' });
  const res = addon.sidebarDecideConflict(17, 'reject');
  expect(res.ok).toBe(false);
  expect(res.message).toBe('Conflict 17 was already accepted, so it cannot be rejected now; nothing was changed.');
  expect(res.conflicts.items.map((c) => c.id)).toEqual([18]);
  const unknown = addon.sidebarDecideConflict(99, 'accept');
  expect(unknown).toMatchObject({ ok: false, message: 'There is no conflict 99; nothing was changed.' });
  expect(addon.sidebarDecideConflict(Number.NaN, 'accept')).toMatchObject({ ok: false, message: /cannot be found: press Refresh/ });
});

test('with the hub down the conflicts are shown from the Conflicts tab, read-only, and the sidebar says why', () => {
  const { hub, addon } = furnishedRig();
  hub.readStatus = 'down';
  const s = addon.sidebarState();
  expect(s.conflicts.canDecide).toBe(false);
  expect(s.conflicts.error).toMatch(/^The hub at https:\/\/hub\.stock\.test did not answer/);
  expect(s.conflicts.items).toEqual([{ id: null, sku: 'ART-0001', location: 'gallery', sheetShowed: '4', typed: '6', hubHad: '3', hubNow: null, who: 'mia@gallery.example', foundAt: '2026-11-22 10:15' }]);
  const res = addon.sidebarDecideConflict(17, 'accept');
  expect(res.ok).toBe(false);
  expect(res.message).toMatch(/did not answer/);
});

describe('issue #15, item 21: the sidebar books on the item shown, and says a hub outage once', () => {
  test('an adjustment is booked on the SKU the form sends, whatever row the cursor is on now', () => {
    const { env, hub, addon } = furnishedRig();
    env.ss.select('Catalog', 'C3'); // the cursor moved to ART-0002 while the sidebar still showed ART-0001
    addon.sidebarAdjust({ sku: 'ART-0001', location: 'gallery', quantity: '2', reason: 'restock', note: '' });
    expect(hub.stored.map((s) => s.body.sku)).toEqual(['ART-0001']);
  });

  test('an item the hub does not know is marked, so the form cannot send for it', () => {
    const { env, addon } = furnishedRig();
    env.ss.select('Catalog', 'C3');
    expect(addon.sidebarState()).toMatchObject({ itemUnknown: true, hubProblem: null });
    env.ss.select('Catalog', 'C2');
    expect(addon.sidebarState().itemUnknown).toBe(false);
  });

  test('a hub that does not answer is asked once, not once per section, and the outage is said once', () => {
    const { env, hub, addon } = furnishedRig();
    hub.readStatus = 'down';
    const s = addon.sidebarState();
    expect(s.hubProblem).toMatch(/^The hub at https:\/\/hub\.stock\.test did not answer/);
    // One request reached for the hub (each would wait for UrlFetchApp's time-out in Apps Script).
    expect(env.fetch.requests.filter((r) => !r.url.endsWith('/v1/relay'))).toHaveLength(1);
    // The sections say the same words, which the sidebar shows once (hubProblem).
    for (const e of [s.item.error, s.channels.error, s.alerts.error, s.conflicts.error]) expect(e).toBe(s.hubProblem);
    expect(s.queue.waiting).toBe(0);
  });
});
