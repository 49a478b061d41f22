/**
 * One registry of platforms (server/connectors/index.ts), and everything the hub says or does about
 * platforms derived from it: the config accepts exactly the registered platforms (a planned one is
 * refused with what the hub does connect), the logs hide every platform's signature header, the
 * sandbox runs the platforms STOCKRELAY_SANDBOX names (three by default), and the words of the CLI,
 * start-up and API name the registered platforms. A new platform needs a line in the registry; no
 * test here names one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ConfigError, PLATFORMS, loadConfig, parseConfigFile } from '../../server/config';
import { CONNECTORS, chooseSandbox, inWords, sandboxCapable, secretHeaderNames, SandboxChoiceError } from '../../server/connectors';
import { buildCli } from '../../server/cli';
import { openApiDocument } from '../../server/api/openapi';
import { createLogger } from '../../server/log';
import { sandboxWanted } from '../../server/start';
import { ADMIN_TOKEN, RELAY_SECRET, tempDir, testConfig } from '../helpers/hub';

const definitions = [...CONNECTORS.values()];

describe('every registered platform carries what the hub needs to know about it', () => {
  test.each(definitions.map((d) => [d.platform, d]))('%s: a display name, its documentation, its secret headers, credentials and capabilities', (_name, d) => {
    expect(d.displayName).toMatch(/\S/);
    expect(new URL(d.docsUrl).protocol).toBe('https:');
    expect(d.capabilities.platform).toBe(d.platform);
    for (const h of d.secretHeaders) expect(h).toBe(h.toLowerCase());
    expect(d.credentials.length).toBeGreaterThan(0);
    expect(d.capabilities.push.length).toBeGreaterThan(0);
    if (d.sandbox) {
      expect(Object.keys(d.sandbox.locations).length).toBeGreaterThan(0);
      for (const ours of Object.keys(d.sandbox.locations)) expect(['gallery', 'warehouse']).toContain(ours);
    }
  });

  test('platform names and sandbox channel ids are unique', () => {
    expect(new Set(definitions.map((d) => d.platform)).size).toBe(definitions.length);
    const ids = sandboxCapable().map((p) => p.channelId);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('the config accepts the registered platforms and no other', () => {
  test('PLATFORMS is the registry, in its order', () => {
    expect([...PLATFORMS]).toEqual(definitions.map((d) => d.platform));
  });

  test('a planned platform without a connector is refused, naming the platforms the hub connects', () => {
    // A marketplace still planned (docs/connectors.md, "Platforms planned"); when it gets a
    // connector, this says so plainly rather than failing below.
    expect(CONNECTORS.has('etsy')).toBe(false);
    const sent = { channels: [{ id: 'etsy', name: 'Etsy shop', platform: 'etsy', locations: {} }] };
    let message = '';
    try {
      parseConfigFile(JSON.stringify(sent), 'stockrelay.json');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain('channels.0.platform: "etsy" has no connector in this hub');
    for (const d of definitions) expect(message).toContain(d.platform);
    // One line for the one mistake, not one per platform.
    expect(message.split('\n').filter((l) => l.includes('channels.0.platform'))).toHaveLength(1);
  });

  test('the published schema lists exactly the registered platforms', () => {
    const schema = JSON.stringify(JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'config.schema.json'), 'utf8')));
    for (const d of definitions) expect(schema).toContain(`"const":"${d.platform}"`);
    expect(CONNECTORS.has('etsy')).toBe(false);
    expect(schema).not.toContain('"const":"etsy"');
  });
});

describe('logs hide every platform’s signature header', () => {
  test.each(secretHeaderNames().map((h) => [h]))('%s, at any depth', (header) => {
    const lines: string[] = [];
    const log = createLogger('info', new Writable({ write: (c: Buffer, _e, cb) => (lines.push(c.toString()), cb()) }));
    const value = 'c2lnbmF0dXJlLXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw==';
    log.info({ req: { headers: { [header]: value } }, deeper: { entry: { headers: { [header.toUpperCase()]: value } } } }, 'a webhook arrived');
    expect(lines.join('')).not.toContain(value);
    expect(lines.join('')).toContain('[redacted]');
  });

  test('every registered definition’s secret headers are in the list', () => {
    for (const d of definitions) for (const h of d.secretHeaders) expect(secretHeaderNames()).toContain(h);
  });
});

describe('STOCKRELAY_SANDBOX chooses the sandbox’s platforms', () => {
  const byDefault = sandboxCapable().filter((p) => p.byDefault);

  test('unset, empty or "on": the default ones (three); "off": none; "all": every platform with an emulator', () => {
    expect(byDefault).toHaveLength(3);
    for (const v of [undefined, '', 'on']) expect(chooseSandbox(v).map((p) => p.platform)).toEqual(byDefault.map((p) => p.platform));
    expect(chooseSandbox('off')).toEqual([]);
    expect(chooseSandbox('all').map((p) => p.platform)).toEqual(sandboxCapable().map((p) => p.platform));
  });

  test('a list by platform name or channel id, in the order given, each once', () => {
    const [a, b] = [sandboxCapable()[1]!, sandboxCapable()[0]!];
    expect(chooseSandbox(` ${a.platform} , ${b.channelId},${a.platform}`).map((p) => p.platform)).toEqual([a.platform, b.platform]);
  });

  test('an unknown name is a start-up error naming what the sandbox runs; nothing starts', () => {
    expect(CONNECTORS.has('etsy')).toBe(false);
    expect(() => chooseSandbox('shopify,etsy')).toThrow(SandboxChoiceError);
    expect(() => chooseSandbox('shopify,etsy')).toThrow(/STOCKRELAY_SANDBOX names "etsy", which the sandbox cannot run\. It runs /);
    expect(() => chooseSandbox(',')).toThrow(/empty of platform names/);
    expect(() => loadConfig({ STOCKRELAY_DATA_DIR: tempDir(), STOCKRELAY_RELAY_SECRET: RELAY_SECRET, STOCKRELAY_ADMIN_TOKEN: ADMIN_TOKEN, STOCKRELAY_SANDBOX: 'etsy' })).toThrow(ConfigError);
  });

  test('"off" runs no sandbox; a configured channel always wins', () => {
    const config = testConfig('sqlite');
    expect(sandboxWanted(config, {})).toBe(true);
    expect(sandboxWanted(config, { STOCKRELAY_SANDBOX: 'off' })).toBe(false);
  });
});

describe('the words the hub says about platforms come from the registry', () => {
  const names = definitions.map((d) => d.displayName);

  test('the webhook route in the API document names every registered platform', () => {
    const doc = openApiDocument as unknown as { paths: Record<string, Record<string, { summary?: string }>> };
    const summary = Object.entries(doc.paths).find(([p]) => p.startsWith('/v1/webhooks/'))![1].post!.summary!;
    expect(summary).toContain(inWords(names));
  });

  test('the CLI’s sandbox commands name the default sandbox channels', () => {
    const sale = buildCli().commands.find((c) => c.name() === 'simulate')!.commands.find((c) => c.name() === 'sale')!;
    const help = sale.helpInformation();
    for (const p of sandboxCapable().filter((x) => x.byDefault)) expect(help).toContain(p.channelId);
  });
});

describe('every connector README has the same headings (docs/connectors.md, "Adding a platform")', () => {
  const HEADINGS = ['## What it supports', '## Settings', '## Auth', '## Events', '## Limits', '## The emulator', "## Confirmed in the platform's documentation", '## Not confirmed'];
  test.each(definitions.map((d) => [d.platform]))('%s', (platform) => {
    const text = fs.readFileSync(path.join(__dirname, '..', '..', 'server', 'connectors', platform, 'README.md'), 'utf8');
    const second = text.split('\n').filter((l) => /^## /.test(l));
    expect(second).toEqual(HEADINGS);
    // Each says something under it.
    for (const h of HEADINGS) {
      const body = text.slice(text.indexOf(h) + h.length).split(/\n## /)[0]!;
      expect(body.trim().length).toBeGreaterThan(40);
    }
  });
});
