/**
 * Configuration and logs: a config file in JSON or YAML is checked key by key and a mistake is named;
 * secrets come from the environment (or are generated into a file only the owner can read) and never
 * appear in notices, logs or the API.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ConfigError, loadConfig, parseConfigFile } from '../server/config';
import { createLogger } from '../server/log';
import { ADMIN_TOKEN, RELAY_SECRET, startHub, tempDir } from './helpers/hub';

const SECRET_B = `whsec_${Buffer.from('a-second-relay-secret-for-rotation-0123').toString('base64')}`;
const env = (extra: Record<string, string> = {}) => ({ STOCKRELAY_DATA_DIR: tempDir(), STOCKRELAY_RELAY_SECRET: RELAY_SECRET, STOCKRELAY_ADMIN_TOKEN: ADMIN_TOKEN, ...extra });
const fileWith = (name: string, text: string) => {
  const f = path.join(tempDir(), name);
  fs.writeFileSync(f, text);
  return f;
};

describe('config file', () => {
  test('the same config reads the same from JSON and from YAML', () => {
    const obj = { locations: [{ id: 'gallery', name: 'Gallery' }], channels: [{ id: 'pos', name: 'POS', platform: 'other', locations: { gallery: 'L1' }, buffer: 1 }] };
    const yaml = 'locations:\n  - { id: gallery, name: Gallery }\nchannels:\n  - id: pos\n    name: POS\n    platform: other\n    locations: { gallery: L1 }\n    buffer: 1\n';
    const a = loadConfig(env({ STOCKRELAY_CONFIG: fileWith('c.json', JSON.stringify(obj)) })).config;
    const b = loadConfig(env({ STOCKRELAY_CONFIG: fileWith('c.yaml', yaml) })).config;
    expect(b.channels).toEqual(a.channels);
    expect(a.channels[0]).toMatchObject({ id: 'pos', buffer: 1, cap: null, hideAtZero: false, relistOnRestock: false, credentials: {} });
    expect(a.defaultLocation).toBe('gallery');
  });

  test.each([
    ['an unknown key', { colour: 'blue' }, /\(top level\): unknown key "colour"/],
    ['a wrong type', { channels: [{ id: 'p', name: 'P', platform: 'other', locations: {}, buffer: 'two' }] }, /channels\.0\.buffer: must be integer/],
    ['a negative buffer', { channels: [{ id: 'p', name: 'P', platform: 'other', locations: {}, buffer: -1 }] }, /channels\.0\.buffer: must be >= 0/],
    ['an unknown platform', { channels: [{ id: 'p', name: 'P', platform: 'myspace', locations: {} }] }, /channels\.0\.platform: must be one of/],
    ['a notification URL that is not http', { notify: [{ id: 'n', url: 'ftp://x.example', topics: ['level.changed'] }] }, /notify\.0\.url/],
    ['a secret value where a variable name belongs', { channels: [{ id: 'p', name: 'P', platform: 'other', locations: {}, credentials: { token: 'shpat_abc' } }] }, /channels\.0\.credentials\.token/],
  ])('%s is refused, naming the key', (_what, obj, message) => {
    expect(() => parseConfigFile(JSON.stringify(obj), 'stockrelay.json')).toThrow(ConfigError);
    expect(() => parseConfigFile(JSON.stringify(obj), 'stockrelay.json')).toThrow(message);
  });

  test('broken YAML, an unreadable file and a location map naming an undeclared location are explained', () => {
    expect(() => parseConfigFile('locations: [\n', 'c.yaml')).toThrow(/c\.yaml cannot be read/);
    expect(() => loadConfig(env({ STOCKRELAY_CONFIG: '/nonexistent/stockrelay.yaml' }))).toThrow(/STOCKRELAY_CONFIG names \/nonexistent\/stockrelay\.yaml, which cannot be read: ENOENT/);
    const f = fileWith('c.json', JSON.stringify({ channels: [{ id: 'p', name: 'P', platform: 'other', locations: { attic: 'X' } }] }));
    expect(() => loadConfig(env({ STOCKRELAY_CONFIG: f }))).toThrow(/channels\.0\.locations names location "attic"/);
  });

  test('a credential is read from the variable the file names; a missing variable is named, its value never', () => {
    const f = fileWith('c.json', JSON.stringify({ channels: [{ id: 'p', name: 'P', platform: 'other', locations: {}, credentials: { token: 'POS_TOKEN' } }] }));
    expect(loadConfig(env({ STOCKRELAY_CONFIG: f, POS_TOKEN: 'tok-123456' })).config.channels[0]!.credentials).toEqual({ token: 'tok-123456' });
    expect(() => loadConfig(env({ STOCKRELAY_CONFIG: f }))).toThrow('Config file: channels.0.credentials.token names POS_TOKEN, which is not set in the environment.');
  });
});

describe('environment', () => {
  test('bad values are refused with what was expected', () => {
    expect(() => loadConfig(env({ PORT: 'eighty' }))).toThrow('PORT must be a whole number from 0 to 65535, got "eighty".');
    expect(() => loadConfig(env({ STOCKRELAY_RELAY_SECRET: 'hunter2' }))).toThrow(/STOCKRELAY_RELAY_SECRET must look like "whsec_"/);
    expect(() => loadConfig(env({ STOCKRELAY_ADMIN_TOKEN: 'short' }))).toThrow(/at least 16 characters/);
    expect(() => loadConfig(env({ STOCKRELAY_PG_SCHEMA: 'Robert"); drop' }))).toThrow(/STOCKRELAY_PG_SCHEMA must be a lower-case PostgreSQL name/);
  });

  test('several relay secrets, comma-separated, are all accepted while rotating', () => {
    expect(loadConfig(env({ STOCKRELAY_RELAY_SECRET: `${RELAY_SECRET}, ${SECRET_B}` })).config.relaySecrets).toEqual([RELAY_SECRET, SECRET_B]);
  });

  test('without secrets in the environment they are generated once into secrets.json (owner-only), reused, and never shown', () => {
    const dir = tempDir();
    const first = loadConfig({ STOCKRELAY_DATA_DIR: dir });
    const file = path.join(dir, 'secrets.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const second = loadConfig({ STOCKRELAY_DATA_DIR: dir });
    expect(second.config.relaySecrets).toEqual(first.config.relaySecrets);
    expect(second.config.adminToken).toBe(first.config.adminToken);
    expect(first.notices.join(' ')).toContain(file);
    for (const n of [...first.notices, ...second.notices]) {
      expect(n).not.toContain(first.config.adminToken);
      expect(n).not.toContain(first.config.relaySecrets[0]!.slice(6));
    }
  });
});

describe('logs', () => {
  const capture = () => {
    const lines: string[] = [];
    const dest = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        cb();
      },
    });
    return { lines, dest };
  };

  test('secrets at the known places are replaced before a line is written', () => {
    const { lines, dest } = capture();
    const log = createLogger('info', dest);
    log.info({ relaySecret: RELAY_SECRET, adminToken: ADMIN_TOKEN, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'webhook-signature': 'v1,abc' }, channel: { credentials: { token: 'tok-1' } }, databaseUrl: 'postgres://u:pw@h/db' }, 'x');
    const out = lines.join('\n');
    for (const secret of [RELAY_SECRET, ADMIN_TOKEN, 'v1,abc', 'tok-1', 'pw@']) expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });

  test('a whole hub logging at debug, fed relays and admin calls, good and forged, never writes a secret', async () => {
    const { lines, dest } = capture();
    const t = await startHub('sqlite', { hub: { log: createLogger('debug', dest) } });
    try {
      await t.api('PUT', '/v1/items/LOG-1', { title: 'x' });
      const ok = await t.relay({ kind: 'adjustment', sku: 'LOG-1', quantity: 2, reason: 'restock', occurredAt: new Date().toISOString() });
      expect(ok.status).toBe(202);
      await t.relay({ kind: 'adjustment', sku: 'LOG-1', quantity: 2, reason: 'restock', occurredAt: new Date().toISOString() }, { secret: SECRET_B });
      await t.api('GET', '/v1/items', undefined, { authorization: 'Bearer wrong-token-0123456789' });
      await t.settle();
    } finally {
      await t.close();
    }
    const out = lines.join('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const secret of [RELAY_SECRET.slice(6), SECRET_B.slice(6), ADMIN_TOKEN, 'wrong-token-0123456789']) expect(out).not.toContain(secret);
    expect(out).not.toMatch(/v1,[A-Za-z0-9+/=]{20,}/);
  });
});
