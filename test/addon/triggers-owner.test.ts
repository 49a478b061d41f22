/**
 * Issue #15, item 16: installable triggers belong to the person who made them and nobody else sees
 * them (ScriptApp.getProjectTriggers lists the current user's only), yet every person's edit
 * trigger fires for every edit. The sidebar told a second editor to install, and then every edit
 * was relayed twice. Now the set in use is recorded in the document (who, when, each trigger's id):
 * a second editor is told the sheet is already connected and by whom, and only the recorded
 * triggers relay, so one edit is relayed once. The fake fires every user's trigger, as Apps Script does.
 */
import { OWNER_KEY } from '../../appsscript/src/triggers';
import { fireClock, fireEdit, typeInto } from './fakes/gas';
import { catalog, rig } from './fakes/env';

const MIA = 'mia@gallery.example';
const SAM = 'sam@gallery.example';

function shop() {
  const r = rig();
  catalog(r.env, ['SKU', 'Title', 'On hand · gallery'], [
    ['ART-0001', 'Ngayu', 4],
    ['ART-0002', 'Seven Sisters', 2],
  ]);
  r.addon.menuSyncNow();
  r.hub.stored = [];
  return r;
}

test('a second editor is told the sheet is already connected, and by whom; nothing is installed twice', () => {
  const { env, addon } = shop();
  addon.menuInstallTriggers(); // Mia
  expect(JSON.parse(env.props.getProperty(OWNER_KEY)!)).toMatchObject({ email: MIA, ids: { onSheetEdit: expect.any(String), flushQueue: expect.any(String) } });

  env.user.email = SAM;
  const state = addon.sidebarState();
  expect(state.triggers).toEqual([]); // Sam sees none of Mia's triggers…
  expect(state.connection).toMatchObject({ active: true, installedBy: MIA, mine: false }); // …but the sidebar knows edits are relayed

  env.ui.confirms = [false];
  addon.menuInstallTriggers();
  expect(env.ui.alerts.at(-2)!.text).toMatch(/already connected: its triggers were installed by mia@gallery\.example on \d{4}-\d\d-\d\d/);
  expect(env.ui.lastAlert()!.text).toMatch(/^Nothing was installed: This spreadsheet is already connected/);
  expect(env.scriptApp.triggers.filter((t) => t.owner === SAM)).toEqual([]);
  expect(env.scriptApp.triggers.filter((t) => t.owner === MIA)).toHaveLength(4);
});

test('every edit is relayed once, even when two people installed triggers (one took over)', () => {
  const { env, hub, addon } = shop();
  addon.menuInstallTriggers(); // Mia
  env.user.email = SAM;
  env.ui.confirms = [true]; // Sam takes over (Mia left)
  addon.menuInstallTriggers();
  expect(env.scriptApp.triggers.filter((t) => t.owner === SAM)).toHaveLength(4);
  expect(env.scriptApp.triggers.filter((t) => t.owner === MIA)).toHaveLength(4); // Sam cannot remove Mia's
  expect(JSON.parse(env.props.getProperty(OWNER_KEY)!).email).toBe(SAM);

  // Mia types a count: both edit triggers fire; one relays.
  env.user.email = MIA;
  expect(fireEdit(env, addon, typeInto(env, 'Catalog', 'C2', 5))).toBe(2);
  expect(hub.stored.map((s) => s.body)).toEqual([expect.objectContaining({ kind: 'cell_edit', sku: 'ART-0001', oldValue: 4, newValue: 5, actor: MIA })]);

  // The minute triggers: both fire, one sends what waits.
  hub.mode = 'down';
  fireEdit(env, addon, typeInto(env, 'Catalog', 'C3', 3));
  hub.mode = 'up';
  const attempts = hub.attempts.length;
  expect(fireClock(env, addon as unknown as Record<string, unknown>, 'flushQueue')).toBe(2);
  expect(hub.attempts.length - attempts).toBe(1);
  expect(hub.stored.map((s) => s.body.newValue)).toEqual([5, 3]);

  // Mia opens Install triggers: told Sam's set is in use; her own old ones, which did nothing, are removed.
  env.ui.confirms = [false];
  addon.menuInstallTriggers();
  expect(env.ui.lastAlert()!.text).toMatch(/installed by sam@gallery\.example.*4 old trigger\(s\) of yours that no longer relayed anything were removed/s);
  expect(env.scriptApp.triggers.filter((t) => t.owner === MIA)).toEqual([]);
  fireEdit(env, addon, typeInto(env, 'Catalog', 'C2', 6));
  expect(hub.stored.map((s) => s.body.newValue)).toEqual([5, 3, 6]);
});

test('two sets installed before this version (no record): the first trigger to fire claims the edit, the other does nothing', () => {
  const { env, hub, addon } = shop();
  for (const who of [MIA, SAM]) {
    env.runningAs.email = who;
    env.scriptApp.newTrigger('onSheetEdit').forSpreadsheet('ss_fake_1').onEdit().create();
  }
  env.runningAs.email = null;
  fireEdit(env, addon, typeInto(env, 'Catalog', 'C2', 5));
  fireEdit(env, addon, typeInto(env, 'Catalog', 'C2', 6));
  expect(hub.stored.map((s) => s.body.newValue)).toEqual([5, 6]);
  expect(JSON.parse(env.props.getProperty(OWNER_KEY)!)).toMatchObject({ email: MIA, ids: { onSheetEdit: env.scriptApp.triggers[0]!.getUniqueId() } });
});

test('removing the triggers in use forgets the record; the next person to install is not told someone else has them', () => {
  const { env, addon } = shop();
  addon.menuInstallTriggers();
  addon.menuRemoveTriggers();
  expect(env.props.getProperty(OWNER_KEY)).toBeNull();
  env.user.email = SAM;
  expect(addon.sidebarState().connection).toMatchObject({ active: false });
  addon.menuInstallTriggers();
  expect(env.ui.lastAlert()!.text).toMatch(/^Installed: onSheetEdit, onSheetChange, flushQueue, refreshDashboardDaily\./);
  expect(JSON.parse(env.props.getProperty(OWNER_KEY)!).email).toBe(SAM);
});

test('the person whose set is recorded can install again after deleting their triggers by hand', () => {
  const { env, hub, addon } = shop();
  addon.menuInstallTriggers();
  env.scriptApp.triggers = []; // deleted in the Apps Script editor's Triggers page
  addon.menuInstallTriggers();
  expect(env.ui.lastAlert()!.text).toMatch(/^Installed: onSheetEdit/);
  expect(fireEdit(env, addon, typeInto(env, 'Catalog', 'C2', 5))).toBe(1);
  expect(hub.stored).toHaveLength(1);
});
