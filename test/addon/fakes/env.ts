/** A spreadsheet wired to a scripted hub, with the add-on built on the fakes. */
import { createAddon, type Addon } from '../../../appsscript/src/app';
import { saveSettings } from '../../../appsscript/src/settings';
import { RELAY_SECRET } from '../../helpers/hub';
import { fakeEnv, type FakeEnv, type FakeSheet, type HttpHandler } from './gas';
import { SHEET_TOKEN, ScriptedHub } from './scripted-hub';

export const HUB_URL = 'https://hub.stock.test';

export interface Rig {
  env: FakeEnv;
  hub: ScriptedHub;
  addon: Addon;
}

export function rig(opts: { connected?: boolean; handler?: HttpHandler; hubUrl?: string; now?: () => Date } = {}): Rig {
  const hub = new ScriptedHub();
  const env = fakeEnv({ handler: opts.handler ?? hub.handler, ...(opts.now ? { now: opts.now } : {}) });
  if (opts.connected !== false) saveSettings(env.props, { hubUrl: opts.hubUrl ?? HUB_URL, relaySecret: RELAY_SECRET, token: SHEET_TOKEN });
  return { env, hub, addon: createAddon(() => env.services) };
}

/** Writes a Catalog tab: the headers in row 1, then the rows. */
export function catalog(env: FakeEnv, headers: string[], rows: unknown[][] = []): FakeSheet {
  const sheet = env.ss.getSheetByName('Catalog') ?? env.ss.insertSheet('Catalog');
  sheet.getRange(1, 1, 1, headers.length).setValues([headers]);
  if (rows.length) sheet.getRange(2, 1, rows.length, headers.length).setValues(rows.map((r) => [...r, ...new Array(headers.length - r.length).fill('')]));
  return sheet;
}
