/**
 * Configuration (server/config/): a config file in JSON or YAML is checked key by key and a
 * mistake is named by its key path; secrets come from the environment, or are generated once into
 * `<dataDir>/secrets.json` (owner-only) and reused, and never appear in notices or errors; bad
 * environment values are refused with what was expected. Log redaction is in test/hub/log.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, PLATFORMS, loadConfig, parseConfigFile } from '../../server/config';
import { acceptingPlatform } from '../helpers/test-platform';
import { ADMIN_TOKEN, RELAY_SECRET, tempDir } from '../helpers/hub';
import { PLATFORM_NAMES } from '../../server/connectors';

const SECRET_B = `whsec_${Buffer.from('a-second-relay-secret-for-rotation-0123').toString('base64')}`;
const NOTIFY_SECRET = `whsec_${Buffer.from('notify-secret-for-the-config-tests-0123').toString('base64')}`;
const env = (extra: Record<string, string> = {}) => ({ STOCKRELAY_DATA_DIR: tempDir(), STOCKRELAY_RELAY_SECRET: RELAY_SECRET, STOCKRELAY_ADMIN_TOKEN: ADMIN_TOKEN, ...extra });
/** An in-test platform, given to loadConfig as `createHub({connectors})` gives it: the registry's own are checked below. */
const OTHER = acceptingPlatform('other', 'In-test platform');
const loadOther = (e: NodeJS.ProcessEnv) => loadConfig(e, { connectors: [OTHER] });
const WITH_OTHER = [...PLATFORMS, 'other'];
const fileWith = (name: string, text: string) => {
  const f = path.join(tempDir(), name);
  fs.writeFileSync(f, text);
  return f;
};
/** The ConfigError `fn` throws (fails the test when it throws nothing or something else). */
const configError = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
};

describe('config file', () => {
  test('the same config reads the same from JSON and from YAML', () => {
    const obj = { locations: [{ id: 'gallery', name: 'Gallery' }], channels: [{ id: 'pos', name: 'POS', platform: 'other', locations: { gallery: 'L1' }, buffer: 1 }] };
    const yaml = 'locations:\n  - { id: gallery, name: Gallery }\nchannels:\n  - id: pos\n    name: POS\n    platform: other\n    locations: { gallery: L1 }\n    buffer: 1\n';
    const a = loadOther(env({ STOCKRELAY_CONFIG: fileWith('c.json', JSON.stringify(obj)) })).config;
    const b = loadOther(env({ STOCKRELAY_CONFIG: fileWith('c.yaml', yaml) })).config;
    expect(b.channels).toEqual(a.channels);
    expect(a.channels[0]).toMatchObject({ id: 'pos', buffer: 1, cap: null, hideAtZero: false, relistOnRestock: false, credentials: {} });
    expect(a.defaultLocation).toBe('gallery');
  });

  test('a full config (locations, notify with its secret variable, alerts, dispatch) gives the same HubConfig from .json, .yaml and .yml', () => {
    const obj = {
      locations: [
        { id: 'gallery', name: 'Gallery' },
        { id: 'warehouse', name: 'Warehouse' },
      ],
      defaultLocation: 'warehouse',
      notify: [{ id: 'erp', url: 'https://erp.example/hooks/stock', secretEnv: 'ERP_HOOK_SECRET', topics: ['level.changed', 'alert.raised'] }],
      alerts: { defaultLowStockThreshold: 4 },
      dispatch: { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 60000, leaseMs: 30000, timeoutMs: 5000 },
    };
    const yaml = [
      '# stockrelay config',
      'locations:',
      '  - id: gallery',
      '    name: Gallery',
      '  - id: warehouse',
      '    name: Warehouse',
      'defaultLocation: warehouse',
      'notify:',
      '  - id: erp',
      '    url: https://erp.example/hooks/stock',
      '    secretEnv: ERP_HOOK_SECRET',
      '    topics: [level.changed, alert.raised]',
      'alerts:',
      '  defaultLowStockThreshold: 4',
      'dispatch: { maxAttempts: 5, baseDelayMs: 250, maxDelayMs: 60000, leaseMs: 30000, timeoutMs: 5000 }',
      '',
    ].join('\n');
    const load = (f: string) => loadOther(env({ STOCKRELAY_CONFIG: f, ERP_HOOK_SECRET: NOTIFY_SECRET })).config;
    const fromJson = load(fileWith('stockrelay.json', JSON.stringify(obj)));
    for (const name of ['stockrelay.yaml', 'stockrelay.yml', 'STOCKRELAY.YAML']) {
      const c = load(fileWith(name, yaml));
      expect({ ...c, dataDir: '', configFile: '' }).toEqual({ ...fromJson, dataDir: '', configFile: '' });
    }
    expect(fromJson).toMatchObject({
      locations: obj.locations,
      defaultLocation: 'warehouse',
      notify: [{ id: 'erp', url: 'https://erp.example/hooks/stock', secret: NOTIFY_SECRET, topics: ['level.changed', 'alert.raised'] }],
      defaultLowStockThreshold: 4,
      dispatch: obj.dispatch,
    });
    expect(parseConfigFile(yaml, 'x.yml')).toEqual(obj);
  });

  test('without a config file, or with an empty YAML file, the defaults apply: one location "main", no channels, no notifications, dispatch 8 attempts', () => {
    for (const c of [loadOther(env()).config, loadOther(env({ STOCKRELAY_CONFIG: fileWith('empty.yaml', '') })).config]) {
      expect(c).toMatchObject({ locations: [{ id: 'main', name: 'Main' }], defaultLocation: 'main', channels: [], notify: [], defaultLowStockThreshold: null });
      expect(c.dispatch).toEqual({ maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 600_000, leaseMs: 60_000, timeoutMs: 10_000, suspendAfter: 5, suspendMs: 30_000 });
    }
  });

  test.each([
    ['an unknown key', { colour: 'blue' }, /\(top level\): unknown key "colour"/],
    ['an unknown key inside a channel', { channels: [{ id: 'p', name: 'P', platform: 'other', locations: {}, colour: 'blue' }] }, /channels\.0: unknown key "colour"/],
    ['an unknown key under dispatch', { dispatch: { retries: 3 } }, /dispatch: unknown key "retries"/],
    ['a wrong type', { channels: [{ id: 'p', name: 'P', platform: 'other', locations: {}, buffer: 'two' }] }, /channels\.0\.buffer: must be integer/],
    ['a number given as a string under dispatch', { dispatch: { maxAttempts: '3' } }, /dispatch\.maxAttempts: must be integer/],
    ['a negative buffer', { channels: [{ id: 'p', name: 'P', platform: 'other', locations: {}, buffer: -1 }] }, /channels\.0\.buffer: must be >= 0/],
    ['an unknown platform', { channels: [{ id: 'p', name: 'P', platform: 'myspace', locations: {} }] }, new RegExp(`channels\\.0\\.platform: "myspace" has no connector in this hub; it connects ${[...PLATFORM_NAMES, 'other'].join(', ')}`)],
    ['an unknown notification topic', { notify: [{ id: 'n', url: 'https://x.example', topics: ['stock.moved'] }] }, /notify\.0\.topics\.0: must be one of/],
    ['a notification URL that is not http', { notify: [{ id: 'n', url: 'ftp://x.example', topics: ['level.changed'] }] }, /notify\.0\.url/],
    ['a notification URL that is not a URL', { notify: [{ id: 'n', url: 'not a url', topics: ['level.changed'] }] }, /notify\.0\.url: must match/],
    ['a channel baseUrl without a scheme', { channels: [{ id: 'p', name: 'P', platform: 'other', locations: {}, baseUrl: 'localhost:8080' }] }, /channels\.0\.baseUrl: must match pattern/],
    ['a location id with spaces', { locations: [{ id: 'back room', name: 'Back room' }] }, /locations\.0\.id: must match pattern/],
    ['a secret value where a variable name belongs', { channels: [{ id: 'p', name: 'P', platform: 'other', locations: {}, credentials: { token: 'shpat_abc' } }] }, /channels\.0\.credentials\.token/],
    ['a notify secret value where a variable name belongs', { notify: [{ id: 'n', url: 'https://x.example', secretEnv: 'whsec_abc', topics: ['level.changed'] }] }, /notify\.0\.secretEnv: must match pattern/],
  ])('%s is refused with a ConfigError naming the key path', (_what, obj, message) => {
    const e = configError(() => parseConfigFile(JSON.stringify(obj), 'stockrelay.json', WITH_OTHER));
    expect(e.message).toMatch(/^Config file stockrelay\.json has (a problem|problems):/);
    expect(e.message).toMatch(message);
  });

  test('the same mistakes in YAML are named by the same key paths, and several mistakes are all listed', () => {
    expect(configError(() => parseConfigFile('locations:\n  - id: main\n    name: Main\n    colour: red\n', 'c.yaml')).message).toMatch(/locations\.0: unknown key "colour"/);
    expect(configError(() => parseConfigFile('alerts:\n  defaultLowStockThreshold: lots\n', 'c.yml')).message).toMatch(/alerts\.defaultLowStockThreshold: must be integer/);
    expect(configError(() => parseConfigFile('- 1\n- 2\n', 'c.yaml')).message).toMatch(/\(top level\): must be object/);
    const many = configError(() => parseConfigFile(JSON.stringify({ colour: 1, dispatch: { maxAttempts: 0 }, notify: [{ id: 'n', url: 'https://x.example', topics: [] }] }), 'c.json')).message;
    expect(many).toMatch(/has problems:/);
    expect(many).toMatch(/\(top level\): unknown key "colour"/);
    expect(many).toMatch(/dispatch\.maxAttempts: must be >= 1/);
    expect(many).toMatch(/notify\.0\.topics: must NOT have fewer than 1 items/);
  });

  test('a URL that passes the "uri" format but has no host ("http://") is refused at load time, naming notify.0.url or channels.0.baseUrl', () => {
    const notify = fileWith('c.json', JSON.stringify({ notify: [{ id: 'n', url: 'http://', topics: ['level.changed'] }] }));
    expect(configError(() => loadOther(env({ STOCKRELAY_CONFIG: notify }))).message).toMatch(/notify\.0\.url/);
    const channel = fileWith('c.json', JSON.stringify({ channels: [{ id: 'p', name: 'P', platform: 'other', locations: {}, baseUrl: 'https://' }] }));
    expect(configError(() => loadOther(env({ STOCKRELAY_CONFIG: channel }))).message).toMatch(/channels\.0\.baseUrl/);
  });

  test('broken YAML, unparseable JSON, an unreadable file and a location map naming an undeclared location are explained', () => {
    expect(() => parseConfigFile('locations: [\n', 'c.yaml')).toThrow(/c\.yaml cannot be read/);
    expect(configError(() => parseConfigFile('{"locations": [', 'c.json')).message).toMatch(/^Config file c\.json cannot be read: /);
    expect(() => loadOther(env({ STOCKRELAY_CONFIG: '/nonexistent/stockrelay.yaml' }))).toThrow(/STOCKRELAY_CONFIG names \/nonexistent\/stockrelay\.yaml, which cannot be read: ENOENT/);
    const f = fileWith('c.json', JSON.stringify({ channels: [{ id: 'p', name: 'P', platform: 'other', locations: { attic: 'X' } }] }));
    expect(() => loadOther(env({ STOCKRELAY_CONFIG: f }))).toThrow(/channels\.0\.locations names location "attic"/);
  });

  test('cross-field mistakes name what is wrong: duplicate ids, an unknown defaultLocation, maxDelayMs below baseDelayMs', () => {
    const load = (obj: object) => configError(() => loadOther(env({ STOCKRELAY_CONFIG: fileWith('c.json', JSON.stringify(obj)) }))).message;
    expect(load({ locations: [{ id: 'a', name: 'A' }, { id: 'a', name: 'A again' }] })).toMatch(/two locations share the same id/);
    expect(load({ defaultLocation: 'attic' })).toMatch(/defaultLocation "attic" is not one of the locations \(main\)/);
    expect(load({ dispatch: { baseDelayMs: 5000, maxDelayMs: 1000 } })).toMatch(/dispatch\.maxDelayMs must not be smaller than dispatch\.baseDelayMs/);
    const ch = { name: 'P', platform: 'other', locations: {} };
    expect(load({ channels: [{ id: 'p', ...ch }, { id: 'p', ...ch }] })).toMatch(/two channels share the same id/);
  });

  test('a channel of a connected platform must name every credential and setting its connector needs', () => {
    const f = fileWith('c.json', JSON.stringify({ channels: [{ id: 'web', name: 'Web', platform: 'shopify', locations: {} }] }));
    expect(() => loadOther(env({ STOCKRELAY_CONFIG: f }))).toThrow('Config file: channels.0 (shopify) needs credentials.accessToken: the name of the environment variable holding it.');
    const g = fileWith('c.json', JSON.stringify({ channels: [{ id: 'web', name: 'Web', platform: 'shopify', locations: {}, credentials: { accessToken: 'SHOP_TOKEN', webhookSecret: 'SHOP_HOOK' } }] }));
    expect(() => loadOther(env({ STOCKRELAY_CONFIG: g, SHOP_TOKEN: 'shpat_x', SHOP_HOOK: 'y' }))).toThrow('Config file: channels.0 (shopify) needs settings.shopDomain.');
  });

  test('a credential is read from the variable the file names; a missing variable is named, its value never', () => {
    const f = fileWith('c.json', JSON.stringify({ channels: [{ id: 'p', name: 'P', platform: 'other', locations: {}, credentials: { token: 'POS_TOKEN' } }] }));
    expect(loadOther(env({ STOCKRELAY_CONFIG: f, POS_TOKEN: 'tok-123456' })).config.channels[0]!.credentials).toEqual({ token: 'tok-123456' });
    expect(() => loadOther(env({ STOCKRELAY_CONFIG: f }))).toThrow('Config file: channels.0.credentials.token names POS_TOKEN, which is not set in the environment.');
  });

  test('a notify secretEnv that is unset is named; one holding a malformed secret is refused naming the variable, without echoing its value', () => {
    const f = fileWith('c.json', JSON.stringify({ notify: [{ id: 'erp', url: 'https://erp.example/h', secretEnv: 'ERP_HOOK_SECRET', topics: ['level.changed'] }] }));
    expect(() => loadOther(env({ STOCKRELAY_CONFIG: f }))).toThrow('Config file: notify.0.secretEnv names ERP_HOOK_SECRET, which is not set in the environment.');
    const bad = configError(() => loadOther(env({ STOCKRELAY_CONFIG: f, ERP_HOOK_SECRET: 'plain-password-hunter2' }))).message;
    expect(bad).toMatch(/^ERP_HOOK_SECRET must look like "whsec_"/);
    expect(bad).not.toContain('hunter2');
    expect(loadOther(env({ STOCKRELAY_CONFIG: f, ERP_HOOK_SECRET: NOTIFY_SECRET })).config.notify).toEqual([{ id: 'erp', url: 'https://erp.example/h', secret: NOTIFY_SECRET, topics: ['level.changed'], format: 'standard' }]);
  });
});

describe('environment', () => {
  test('bad values are refused with what was expected', () => {
    expect(() => loadOther(env({ PORT: 'eighty' }))).toThrow('PORT must be a whole number from 0 to 65535, got "eighty".');
    expect(() => loadOther(env({ STOCKRELAY_RELAY_SECRET: 'hunter2' }))).toThrow(/STOCKRELAY_RELAY_SECRET must look like "whsec_"/);
    expect(() => loadOther(env({ STOCKRELAY_ADMIN_TOKEN: 'short' }))).toThrow(/at least 16 characters/);
    expect(() => loadOther(env({ STOCKRELAY_PG_SCHEMA: 'Robert"); drop' }))).toThrow(/STOCKRELAY_PG_SCHEMA must be a lower-case PostgreSQL name/);
  });

  test.each([['70000'], ['8080.5'], ['-1'], ['80a'], [' 80'], ['0x50'], ['8e3']])('PORT=%s is a ConfigError naming PORT and the range', (port) => {
    expect(configError(() => loadOther(env({ PORT: port }))).message).toBe(`PORT must be a whole number from 0 to 65535, got "${port}".`);
  });

  test('PORT, HOST, LOG_LEVEL, DATABASE_URL and STOCKRELAY_PG_SCHEMA are taken as given; an empty PORT means the default 8080', () => {
    const c = loadOther(env({ PORT: '3000', HOST: '127.0.0.1', LOG_LEVEL: 'debug', DATABASE_URL: 'postgres://u@127.0.0.1:5432/db', STOCKRELAY_PG_SCHEMA: 'shop_1' })).config;
    expect(c).toMatchObject({ port: 3000, host: '127.0.0.1', logLevel: 'debug', databaseUrl: 'postgres://u@127.0.0.1:5432/db', pgSchema: 'shop_1' });
    expect(loadOther(env({ PORT: '' })).config.port).toBe(8080);
  });

  test('several relay secrets, comma-separated (spaces allowed), are all accepted while rotating', () => {
    expect(loadOther(env({ STOCKRELAY_RELAY_SECRET: `${RELAY_SECRET}, ${SECRET_B}` })).config.relaySecrets).toEqual([RELAY_SECRET, SECRET_B]);
    expect(loadOther(env({ STOCKRELAY_RELAY_SECRET: ` ${SECRET_B} ,${RELAY_SECRET} ` })).config.relaySecrets).toEqual([SECRET_B, RELAY_SECRET]);
  });

  test('one malformed secret in a rotation list is refused naming STOCKRELAY_RELAY_SECRET; the message quotes none of the secrets', () => {
    const tooShort = `whsec_${Buffer.from('short').toString('base64')}`;
    const msg = configError(() => loadOther(env({ STOCKRELAY_RELAY_SECRET: `${RELAY_SECRET},${tooShort}` }))).message;
    expect(msg).toMatch(/^STOCKRELAY_RELAY_SECRET must look like "whsec_" followed by at least 24 random bytes/);
    for (const s of [RELAY_SECRET.slice(6), tooShort.slice(6)]) expect(msg).not.toContain(s);
  });

  test('without secrets in the environment they are generated once into secrets.json (owner-only), reused, and never shown', () => {
    const dir = tempDir();
    const first = loadConfig({ STOCKRELAY_DATA_DIR: dir });
    const file = path.join(dir, 'secrets.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ relaySecret: first.config.relaySecrets[0], adminToken: first.config.adminToken, credentialKey: first.config.credentialKey });
    expect(first.config.credentialKey.length).toBeGreaterThanOrEqual(32);
    expect(first.config.relaySecrets[0]).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(first.config.adminToken.length).toBeGreaterThanOrEqual(16);
    const second = loadConfig({ STOCKRELAY_DATA_DIR: dir });
    expect(second.config.relaySecrets).toEqual(first.config.relaySecrets);
    expect(second.config.adminToken).toBe(first.config.adminToken);
    expect(second.config.credentialKey).toBe(first.config.credentialKey);
    expect(first.notices).toEqual([expect.stringMatching(/using the relay secret and the admin token generated in .*secrets\.json\. Keep them on this machine: give the sheet and each Airtable base a credential of its own instead \(npx stockrelay credentials create --help\)\./)]);
    expect(first.notices.join(' ')).toContain(file);
    expect(second.notices).toEqual([`Using the relay secret and the admin token kept in ${file}.`]);
    // With the relay secret in the environment, only the admin token comes from the file, and the notice says so.
    const third = loadConfig({ STOCKRELAY_DATA_DIR: dir, STOCKRELAY_RELAY_SECRET: RELAY_SECRET });
    expect(third.notices).toEqual([`Using the admin token kept in ${file}.`]);
    expect(third.config.relaySecrets).toEqual([RELAY_SECRET]);
    for (const n of [...first.notices, ...second.notices]) {
      expect(n).not.toContain(first.config.adminToken);
      expect(n).not.toContain(first.config.relaySecrets[0]!.slice(6));
    }
    // A different data folder gets secrets of its own.
    expect(loadConfig({ STOCKRELAY_DATA_DIR: tempDir() }).config.adminToken).not.toBe(first.config.adminToken);
  });

  test('with only the relay secret in the environment, the env secret is used and the admin token comes from secrets.json (and the other way round)', () => {
    const dir = tempDir();
    const a = loadConfig({ STOCKRELAY_DATA_DIR: dir, STOCKRELAY_RELAY_SECRET: RELAY_SECRET });
    const kept = JSON.parse(fs.readFileSync(path.join(dir, 'secrets.json'), 'utf8')) as { relaySecret: string; adminToken: string };
    expect(a.config.relaySecrets).toEqual([RELAY_SECRET]);
    expect(a.config.adminToken).toBe(kept.adminToken);
    const b = loadConfig({ STOCKRELAY_DATA_DIR: dir, STOCKRELAY_ADMIN_TOKEN: ADMIN_TOKEN });
    expect(b.config.adminToken).toBe(ADMIN_TOKEN);
    expect(b.config.relaySecrets).toEqual([kept.relaySecret]);
    for (const n of [...a.notices, ...b.notices]) for (const s of [RELAY_SECRET.slice(6), ADMIN_TOKEN, kept.adminToken, kept.relaySecret.slice(6)]) expect(n).not.toContain(s);
  });

  test('the credential key: from STOCKRELAY_CREDENTIAL_KEY, else kept in secrets.json (added to an older file), else derived from the admin token with a notice', () => {
    const key = 'a-credential-key-of-enough-length-0123456789';
    expect(loadOther(env({ STOCKRELAY_CREDENTIAL_KEY: key })).config.credentialKey).toBe(key);
    expect(configError(() => loadOther(env({ STOCKRELAY_CREDENTIAL_KEY: 'short' }))).message).toMatch(/^STOCKRELAY_CREDENTIAL_KEY must be at least 32 characters long/);

    // A secrets.json written before credentials existed gets a key, kept from then on, the rest unchanged.
    const dir = tempDir();
    const file = path.join(dir, 'secrets.json');
    const older = { relaySecret: RELAY_SECRET, adminToken: ADMIN_TOKEN };
    fs.writeFileSync(file, JSON.stringify(older), { mode: 0o600 });
    const a = loadConfig({ STOCKRELAY_DATA_DIR: dir });
    const kept = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
    expect(kept).toEqual({ ...older, credentialKey: a.config.credentialKey });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadConfig({ STOCKRELAY_DATA_DIR: dir }).config.credentialKey).toBe(a.config.credentialKey);
    for (const n of a.notices) expect(n).not.toContain(a.config.credentialKey);

    // Both secrets in the environment and no key: derived from the admin token, the same on every start, and said so.
    const b = loadOther(env());
    expect(b.config.credentialKey).toBe(loadOther(env()).config.credentialKey);
    expect(b.config.credentialKey).not.toContain(ADMIN_TOKEN);
    expect(loadOther(env({ STOCKRELAY_ADMIN_TOKEN: 'another-admin-token-0123456789' })).config.credentialKey).not.toBe(b.config.credentialKey);
    expect(b.notices).toContainEqual(expect.stringMatching(/^No STOCKRELAY_CREDENTIAL_KEY in the environment: .*changing STOCKRELAY_ADMIN_TOKEN changes them too/));
    for (const n of b.notices) expect(n).not.toContain(b.config.credentialKey);
  });

  test('a damaged secrets.json is a ConfigError naming the file and what it needs, quoting none of its content', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'secrets.json'), JSON.stringify({ relaySecret: 'whsec_partly-there-0123456789' }));
    const msg = configError(() => loadConfig({ STOCKRELAY_DATA_DIR: dir })).message;
    expect(msg).toBe(`${path.join(dir, 'secrets.json')} is damaged: it needs "relaySecret" and "adminToken".`);
  });
});
