/**
 * The built sidebar (appsscript/dist/Sidebar.html, JS and CSS inlined) in headless Chromium, with a
 * `google.script.run` shim that calls the add-on's server functions backed by the fakes. It must
 * render the row's levels, say errors in plain words, and never leave the spinner running.
 * Drives the machine's Chromium (CHROMIUM_PATH, or chromium on the PATH), else the one the
 * @sparticuz/chromium devDependency ships (test/helpers/machine.ts); with none, it FAILS (it never skips).
 * The screenshot it takes is docs/sidebar.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildAddon } from '../../appsscript/build';
import type { Addon } from '../../appsscript/src/app';
import { tempDir } from '../helpers/hub';
import { findChromium } from '../helpers/machine';
import { furnishedRig } from './fakes/furnished';

jest.setTimeout(90_000);

// Callbacks passed to page.evaluate / waitForFunction run in the page (the test itself has no DOM types).
declare const document: any;
declare const window: any;

const SCREENSHOT = path.join(__dirname, '..', '..', 'docs', 'sidebar.png');
let browser: Browser;
let pageUrl = '';

/**
 * google.script.run as Apps Script provides it: withSuccessHandler / withFailureHandler return a
 * runner, any other name calls that server function (here through __gasCall, exposed by the test).
 * Plain JavaScript, so nothing of the test's compiled code leaks into the page.
 */
const SHIM = `
(() => {
  window.__withoutFailureHandler = 0;
  const runner = (success, failure) => new Proxy({}, {
    get(_t, prop) {
      if (prop === 'withSuccessHandler') return (fn) => runner(fn, failure);
      if (prop === 'withFailureHandler') return (fn) => runner(success, fn);
      return (...args) => {
        if (!failure) window.__withoutFailureHandler++;
        window.__gasCall(prop, args).then(
          (v) => success && success(v),
          (e) => failure && failure(new Error(String(e && e.message).replace(/^Error: /, ''))),
        );
      };
    },
  });
  window.google = { script: { run: runner(null, null) } };
})();
`;

beforeAll(async () => {
  const found = await findChromium();
  const out = tempDir('sr-sidebar-');
  await buildAddon(out);
  pageUrl = `file://${path.join(out, 'Sidebar.html')}`;
  browser = await chromium.launch({
    executablePath: found.executablePath,
    env: { ...process.env, ...found.env },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
});

interface Shim {
  /** Milliseconds each server call takes (so the spinner can be seen). */
  delayMs: number;
  /** Fail every call with this message, as google.script.run does when Apps Script cannot be reached. */
  failWith: string | null;
  calls: string[];
}

/** Opens the sidebar with google.script.run calling `addon` (server functions backed by the fakes). */
async function open(addon: Addon, shim: Partial<Shim> = {}): Promise<{ page: Page; shim: Shim }> {
  const state: Shim = { delayMs: 0, failWith: null, calls: [], ...shim };
  const page = await browser.newPage({ viewport: { width: 300, height: 900 } });
  await page.exposeFunction('__gasCall', async (name: string, args: unknown[]) => {
    state.calls.push(name);
    await new Promise((r) => setTimeout(r, state.delayMs));
    if (state.failWith) throw new Error(state.failWith);
    const fn = (addon as unknown as Record<string, (...a: unknown[]) => unknown>)[name];
    if (typeof fn !== 'function') throw new Error(`Script function not found: ${name}`);
    return JSON.parse(JSON.stringify(fn(...args) ?? null));
  });
  await page.addInitScript({ content: SHIM });
  await page.goto(pageUrl);
  return { page, shim: state };
}

const spinnerHidden = (page: Page) => page.waitForSelector('#busy', { state: 'hidden', timeout: 10_000 });

test('the sidebar renders the row under the cursor: levels per location, channels, movements, alerts, queue, conflicts', async () => {
  const { addon } = furnishedRig();
  addon.menuInstallTriggers();
  const { page } = await open(addon);
  await page.waitForSelector('#levels .loc');
  await spinnerHidden(page);
  expect(await page.textContent('#row-title')).toBe('ART-0001 — Ngayu — Tjukurpa, ochre on bark');
  const locs = await page.$$eval('#levels .loc', (els) => els.map((e) => (e as any).innerText));
  expect(locs).toHaveLength(2);
  expect(locs[0]).toMatch(/gallery[\s\S]*On hand\s*4[\s\S]*Available\s*3/);
  expect(locs[0]).toMatch(/Square — gallery POS\s*3/);
  expect(locs[0]).toMatch(/Web store\s*2/);
  expect(locs[1]).toMatch(/warehouse[\s\S]*On hand\s*7[\s\S]*Available\s*7[\s\S]*Web store\s*6/);
  const movements = await page.innerText('#movements');
  expect(movements).toMatch(/-1 sale at gallery/);
  expect(movements).toMatch(/from channel · Square — gallery POS · order #1042/);
  expect(movements).toMatch(/\+3 count at gallery[\s\S]*mia@gallery\.example · from sheet/);
  expect(movements).not.toMatch(/unknown|null|undefined/);
  expect(await page.innerText('#alerts')).toMatch(/ART-0001 is low at gallery/);
  expect(await page.innerText('#channels')).toMatch(/failing\s*Web store[\s\S]*refused the last 5 pushes[\s\S]*not connected\s*Etsy shop/);
  expect(await page.innerText('#queue')).toMatch(/Nothing waiting/);
  expect(await page.innerText('#conflicts')).toMatch(/ART-0001 at gallery\s*Found: .+ · Sheet showed: 4 · Typed: 6 · Hub has: 3 · by mia@gallery\.example\s*Accept 6\s*Reject[\s\S]*Accept: the number typed becomes the count/);
  expect(await page.innerText('#footer')).toBe('Hub: https://hub.stock.test');
  expect(await page.$$eval('#adj-loc option', (o) => o.map((x) => (x as any).value))).toEqual(['gallery', 'warehouse']);
  expect(await page.isVisible('#error')).toBe(false);
  expect(await page.evaluate(() => (window as any).__withoutFailureHandler)).toBe(0);
  fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  await page.close();
});

test('a conflict is accepted with one click: the hub’s answer is shown, the conflict leaves the list, the spinner goes', async () => {
  const { addon, hub } = furnishedRig();
  const { page } = await open(addon);
  await page.waitForSelector('#conflicts button');
  await spinnerHidden(page);
  await page.click('#conflicts button:has-text("Accept 6")');
  await page.waitForFunction(() => document.querySelector('#conflicts .result') !== null);
  await spinnerHidden(page);
  expect(await page.innerText('#conflicts')).toMatch(/Accepted: 6 typed is taken as the count\.[\s\S]*No open conflicts/);
  expect(hub.decisions).toEqual([{ id: 17, decision: 'accept', body: { origin: 'sidebar', actor: 'mia@gallery.example' } }]);
  expect(await page.isVisible('#error')).toBe(false);
  await page.close();
});

test('the adjust form sends the adjustment and says so; a bad number is refused in words, without sending', async () => {
  const { addon, hub } = furnishedRig();
  const { page } = await open(addon);
  await page.waitForSelector('#levels .loc');
  await page.fill('#adj-qty', '0');
  await page.click('#adj-send');
  await page.waitForFunction(() => document.querySelector('#adj-result')!.textContent!.length > 0);
  expect(await page.textContent('#adj-result')).toMatch(/An adjustment of 0 changes nothing/);
  expect(hub.stored).toHaveLength(0);

  await page.fill('#adj-qty', '-1');
  await page.selectOption('#adj-loc', 'warehouse');
  await page.selectOption('#adj-reason', 'adjustment');
  await page.fill('#adj-note', 'frame cracked');
  await page.click('#adj-send');
  await page.waitForFunction(() => /Sent:/.test(document.querySelector('#adj-result')!.textContent!));
  await spinnerHidden(page);
  expect(hub.stored.map((s) => s.body)).toEqual([expect.objectContaining({ kind: 'adjustment', origin: 'sidebar', sku: 'ART-0001', location: 'warehouse', quantity: -1, reason: 'adjustment', note: 'frame cracked' })]);
  expect(await page.inputValue('#adj-qty')).toBe('');
  await page.close();
});

test('a failing call shows the error in plain words and the spinner goes away', async () => {
  const { addon, env } = furnishedRig();
  // The server function itself throws (this spreadsheet's storage cannot be read).
  env.services.propertiesService.getDocumentProperties = () => null;
  const { page, shim } = await open(addon, { delayMs: 400 });
  await page.waitForSelector('#busy', { state: 'visible' });
  await page.waitForSelector('#error', { state: 'visible' });
  await spinnerHidden(page);
  expect(await page.textContent('#error')).toBe('Could not read the stock for this row. This spreadsheet’s storage cannot be reached from here: open the spreadsheet and use the stockrelay menu.');
  expect(shim.calls).toEqual(['sidebarState']);

  // Google itself unreachable: said in words, not "NetworkError: … HTTP 0".
  shim.failWith = 'NetworkError: Connection failure due to HTTP 0';
  await page.click('#refresh');
  await page.waitForFunction(() => /connection to Google was lost/.test(document.querySelector('#error')!.textContent!));
  await spinnerHidden(page);
  expect(await page.textContent('#error')).toBe('Could not read the stock for this row. The connection to Google was lost. Check the internet connection, then press Refresh.');
  await page.close();
});

test('with the hub down the page still renders, the outage said once (not in every section), and what waits is shown', async () => {
  const { addon, hub } = furnishedRig();
  hub.mode = 'down';
  addon.sidebarAdjust({ sku: 'ART-0001', location: 'gallery', quantity: '2', reason: 'restock', note: '' });
  hub.readStatus = 'down';
  const { page } = await open(addon);
  await page.waitForSelector('#hub-problem', { state: 'visible' });
  await spinnerHidden(page);
  expect(await page.innerText('#hub-problem')).toMatch(/^The hub at https:\/\/hub\.stock\.test did not answer/);
  // One banner with the hub's words; the sections it stopped say so in a line.
  const banners = await page.$$eval('.banner', (els) => els.filter((e) => (e as any).offsetParent !== null).map((e) => (e as any).innerText as string));
  expect(banners.filter((t) => /did not answer/.test(t))).toHaveLength(1);
  expect(await page.innerText('#levels')).toBe('Not read: the hub did not answer (see above).');
  expect(await page.innerText('#channels')).toBe('Not read: the hub did not answer (see above).');
  expect(await page.innerText('#queue')).toMatch(/1 change waiting[\s\S]*Send now/);
  expect(await page.isVisible('#error')).toBe(false);

  // "Send now" with the hub back.
  hub.mode = 'up';
  await page.click('#queue button');
  await page.waitForFunction(() => /Nothing waiting/.test(document.querySelector('#queue')!.textContent!));
  await spinnerHidden(page);
  expect(hub.stored.map((s) => s.body.kind)).toEqual(['adjustment']);
  await page.close();
});

describe('issue #15, item 21: the adjustment is booked on the item shown', () => {
  /** The furnished hub also knows ART-0003, on row 4 of the Catalog. */
  function withThirdItem() {
    const r = furnishedRig();
    r.hub.items.set('ART-0003', { sku: 'ART-0003', title: 'Water Dreaming', locations: [{ locationId: 'gallery', onHand: 5, channels: [] }] });
    r.sheet.getRange(4, 1, 1, 4).setValues([['ART-0003', 'Water Dreaming', 5, 0]]);
    return r;
  }

  test('Send is off while the sidebar reads the new row, so nothing is booked on the item it showed before', async () => {
    const { addon, hub, env } = withThirdItem();
    const { page, shim } = await open(addon);
    await page.waitForSelector('#levels .loc');
    await spinnerHidden(page);
    expect(await page.isEnabled('#adj-send')).toBe(true);
    expect(await page.textContent('#adj-hint')).toBe('Books on ART-0001.');

    // The cursor moves to ART-0003; the sidebar reloads slowly; the person types and presses Send meanwhile.
    env.ss.select('Catalog', 'B4');
    shim.delayMs = 1500;
    await page.click('#refresh');
    await page.waitForSelector('#busy', { state: 'visible' });
    expect(await page.isDisabled('#adj-send')).toBe(true);
    expect(await page.textContent('#adj-hint')).toBe('Reading the selected row…');
    await page.fill('#adj-qty', '-1');
    await page.click('#adj-send', { force: true });
    await page.press('#adj-qty', 'Enter');
    expect(shim.calls.filter((c) => c === 'sidebarAdjust')).toEqual([]);
    expect(hub.stored).toEqual([]);

    // Once the row is read, Send books on the SKU shown: ART-0003.
    await spinnerHidden(page);
    expect(await page.textContent('#row-title')).toBe('ART-0003 — Water Dreaming');
    shim.delayMs = 0;
    await page.click('#adj-send');
    await page.waitForFunction(() => /Sent:/.test(document.querySelector('#adj-result')!.textContent!));
    expect(hub.stored.map((s) => [s.body.kind, s.body.sku, s.body.quantity])).toEqual([['adjustment', 'ART-0003', -1]]);
    await spinnerHidden(page);
    await page.close();
  });

  test('Send stays off for an item the hub does not know, and says what to do', async () => {
    const { addon, env, hub } = withThirdItem();
    env.ss.select('Catalog', 'B3'); // ART-0002: not on the hub
    const { page } = await open(addon);
    await page.waitForSelector('#levels .banner.error');
    await spinnerHidden(page);
    expect(await page.isDisabled('#adj-send')).toBe(true);
    expect(await page.textContent('#adj-hint')).toMatch(/The hub does not know ART-0002 yet, so nothing can be booked on it: choose stockrelay › Sync now/);
    await page.fill('#adj-qty', '2');
    await page.press('#adj-qty', 'Enter');
    expect(hub.stored).toEqual([]);
    await page.close();
  });
});
