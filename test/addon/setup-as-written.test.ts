/**
 * Issue #15, item 22: setup that did not work as written. `clasp create --type sheets` stopped with
 * "Project file already exists" (the repository shipped a .clasp.json); the menu took the script
 * project's name ("Untitled project"); a hub at http://localhost was accepted at Connect although
 * Google's servers, which make UrlFetchApp's requests, can never reach it. Each step of
 * docs/sheets.md is checked here as far as it can be without a Google account: the clasp commands'
 * offline part, the npm scripts, the file names, the menu items it names.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildAddon } from '../../appsscript/build';
import { MENU_ITEMS } from '../../appsscript/src/entries';
import { KEYS, loadSettings } from '../../appsscript/src/settings';
import { tempDir } from '../helpers/hub';
import { fakeEnv } from './fakes/gas';
import { rig } from './fakes/env';
import { createAddon } from '../../appsscript/src/app';

jest.setTimeout(60_000);

const ROOT = path.join(__dirname, '..', '..');
const DOC = fs.readFileSync(path.join(ROOT, 'docs', 'sheets.md'), 'utf8');
const CLASP = path.join(ROOT, 'node_modules', '.bin', 'clasp');

/** Runs clasp with no credentials and no network of its own (HOME in a temporary folder). */
function clasp(cwd: string, args: string[]): string {
  const r = spawnSync(CLASP, args, { cwd, env: { ...process.env, HOME: cwd }, encoding: 'utf8', timeout: 30_000 });
  return `${r.stdout}${r.stderr}`;
}

test('the menu is called "stockrelay" whatever the script project is called', () => {
  const { env, addon } = rig({ connected: false });
  addon.onOpen({});
  expect(env.ui.menus).toEqual([{ caption: 'stockrelay', items: MENU_ITEMS.map((m) => (m ? { caption: m.caption, fn: m.fn } : null)) }]);
});

test.each([
  ['http://localhost:8080', /cannot reach localhost:8080: "localhost" is the computer the request comes from/],
  ['https://127.0.0.1:8443', /cannot reach 127\.0\.0\.1:8443/],
  ['https://192.168.1.20', /192\.168\.1\.20 is an address inside a private network/],
  ['https://10.0.0.5:8080', /private network/],
  ['https://172.20.1.1', /private network/],
  ['https://nas.local', /"nas\.local" is a name only your own network knows/],
  ['https://stockhub', /"stockhub" is a name only your own network knows/],
  ['https://[::1]:8080', /cannot reach \[::1\]:8080/],
])('Connect refuses %s, says why and what to use, saves nothing and calls nothing', (address, why) => {
  const { env, addon } = rig({ connected: false });
  env.ui.answers = [address];
  addon.menuConnect();
  const said = env.ui.lastAlert()!.text;
  expect(said).toMatch(/^Nothing was saved\. The add-on’s requests to the hub are sent by Google’s servers, not by this computer/);
  expect(said).toMatch(why);
  expect(said).toMatch(/a tunnel such as Cloudflare Tunnel \(cloudflared\) or ngrok, which gives you an https:\/\/… address/);
  expect(loadSettings(env.props)).toBeNull();
  expect(env.props.getProperty(KEYS.hubUrl)).toBeNull();
  expect(env.fetch.requests).toEqual([]);
  expect(env.ui.prompts).toHaveLength(1); // not asked for the secret of a hub it cannot reach
});

test('plain http to a public address is refused too; a public https address goes on to the next question', () => {
  const a = rig({ connected: false });
  a.env.ui.answers = ['http://stock.example.com'];
  a.addon.menuConnect();
  expect(a.env.ui.lastAlert()!.text).toMatch(/must start with https:\/\//);
  const b = rig({ connected: false });
  b.env.ui.answers = ['https://stock.example.com', null];
  b.addon.menuConnect();
  expect(b.env.ui.prompts.map((p) => p.title)).toEqual(['Connect to hub (1 of 3)', 'Connect to hub (2 of 3)']);
  expect(b.env.ui.prompts[0]!.text).toMatch(/localhost or a home network address cannot work/);
});

test('a hub on this machine is accepted only where the requests come from this machine (the tests’ own hubs)', () => {
  const env = fakeEnv({ fetchesFrom: 'this machine' });
  env.ui.answers = ['http://127.0.0.1:9', null];
  createAddon(() => env.services).menuConnect();
  expect(env.ui.prompts).toHaveLength(2); // the address passed; Cancel at the secret
});

describe('docs/sheets.md, as written', () => {
  test('no .clasp.json is shipped (it is git-ignored), so `clasp create` gets past "Project file already exists"', () => {
    expect(fs.existsSync(path.join(ROOT, '.clasp.json'))).toBe(false);
    expect(fs.readFileSync(path.join(ROOT, '.gitignore'), 'utf8').split('\n')).toContain('.clasp.json');
    // What outside testing ran, in a copy of the repository's top: offline, clasp stops at the login, not before.
    const dir = tempDir('sr-clasp-');
    fs.mkdirSync(path.join(dir, 'appsscript', 'dist'), { recursive: true });
    const create = DOC.match(/npx clasp create [^\n`]+/)![0].replace(/^npx clasp /, '').split(/\s+/);
    const said = clasp(dir, create.map((a) => a.replace(/^"|"$/g, '')));
    expect(said).not.toMatch(/Project file already exists/);
    expect(said).toMatch(/No credentials found/);
    // The shipped file reproduced the failure.
    fs.writeFileSync(path.join(dir, '.clasp.json'), JSON.stringify({ scriptId: 'SET-BY-clasp-create-OR-clasp-clone', rootDir: 'appsscript/dist' }));
    expect(clasp(dir, create.map((a) => a.replace(/^"|"$/g, '')))).toMatch(/Project file already exists/);
  });

  test('every clasp command it gives exists, with the options it uses, and points clasp at appsscript/dist', () => {
    const commands = [...DOC.matchAll(/npx clasp ([a-z][a-z-]*)([^\n`]*)/g)].map((m) => ({ name: m[1]!, args: m[2]!.trim() }));
    expect(commands.map((c) => c.name).sort()).toEqual(expect.arrayContaining(['clone', 'create', 'login', 'push']));
    const dir = tempDir('sr-clasp-help-');
    const help = clasp(dir, ['--help']);
    const options = new Map<string, Set<string>>();
    for (const c of commands) {
      expect(help).toMatch(new RegExp(`\\b${c.name}\\b`));
      for (const m of c.args.matchAll(/(--[a-zA-Z]+)/g)) options.set(c.name, new Set([...(options.get(c.name) ?? []), m[1]!]));
    }
    for (const [name, used] of options) {
      const own = clasp(dir, [name, '--help']);
      for (const o of used) expect([name, o, own.includes(o)]).toEqual([name, o, true]);
    }
    for (const c of commands.filter((x) => x.name === 'create' || x.name === 'clone')) expect(c.args).toMatch(/--rootDir appsscript\/dist/);
  });

  test('every npm script it names exists', () => {
    const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>);
    const named = [...new Set([...DOC.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]!))];
    expect(named.length).toBeGreaterThan(1);
    for (const n of named) expect([n, scripts.includes(n)]).toEqual([n, true]);
  });

  test('the files it says to paste are what the build writes, and the sidebar file has the name the add-on opens', async () => {
    const out = tempDir('sr-build-');
    fs.writeFileSync(path.join(out, 'Code.gs'), 'function myFunction() {}\n'); // what clasp create/clone pulls
    await buildAddon(out);
    expect(fs.readdirSync(out).sort()).toEqual(['Code.js', 'Sidebar.html', 'appsscript.json']);
    for (const f of ['appsscript/dist/appsscript.json', 'appsscript/dist/Code.js', 'appsscript/dist/Sidebar.html']) expect(DOC).toContain(f);
    expect(DOC).toMatch(/name it `Sidebar`/);
    const { env, addon } = rig();
    addon.menuOpenSidebar();
    expect(env.htmlFiles).toEqual(['Sidebar']);
  });

  test('every menu item it names is on the menu, under the name the menu has', () => {
    const named = [...new Set([...DOC.matchAll(/stockrelay ›\s+([A-Z][A-Za-z ]+?)\*\*/g)].map((m) => m[1]!.trim()))];
    expect(named).toEqual(expect.arrayContaining(['Connect to hub', 'Set up sheets', 'Install triggers', 'Open sidebar']));
    const captions = MENU_ITEMS.filter((m) => m !== null).map((m) => m!.caption);
    for (const n of named) expect([n, captions.includes(n as (typeof captions)[number])]).toEqual([n, true]);
    expect(DOC).not.toMatch(/Extensions › stockrelay/);
    expect(DOC).toMatch(/Google hasn't verified this app/);
  });
});
