/**
 * The `sheets` section of the config file: where the key comes from, checked at start, named in
 * every message and never quoted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../server/config';
import { tempDir } from '../helpers/hub';
import { serviceAccountKey } from './helpers';

const base = { STOCKRELAY_RELAY_SECRET: `whsec_${Buffer.from('x'.repeat(32)).toString('base64')}`, STOCKRELAY_ADMIN_TOKEN: 'a-test-admin-token-0123' };

function load(sheets: object, env: Record<string, string> = {}) {
  const dir = tempDir('sr-cfg-');
  const file = path.join(dir, 'stockrelay.json');
  fs.writeFileSync(file, JSON.stringify({ sheets }));
  return loadConfig({ ...base, STOCKRELAY_DATA_DIR: dir, STOCKRELAY_CONFIG: file, ...env }).config;
}

const key = serviceAccountKey('https://oauth2.googleapis.com/token');
const ID = '1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';

test('the key from an environment variable (its JSON, or a path to it) or from a file; tabs default to the add-on’s names', () => {
  const fromEnv = load({ spreadsheetId: ID, credentialsEnv: 'SHEETS_KEY' }, { SHEETS_KEY: JSON.stringify(key.json) }).sheets!;
  expect(fromEnv).toMatchObject({ spreadsheetId: ID, writesPerMinute: 60, baseUrl: null, tokenUrl: null, tabs: { catalog: 'Catalog', movements: 'Movements', orders: 'Orders', alerts: 'Alerts', conflicts: 'Conflicts' } });
  expect(fromEnv.credentials).toEqual({ clientEmail: key.json.client_email, privateKey: key.pem, privateKeyId: key.json.private_key_id, tokenUri: 'https://oauth2.googleapis.com/token' });
  const keyFile = path.join(tempDir('sr-key-'), 'key.json');
  fs.writeFileSync(keyFile, JSON.stringify(key.json), { mode: 0o600 });
  expect(load({ spreadsheetId: ID, credentialsFile: keyFile, tabs: { catalog: 'Stock' }, writesPerMinute: 30 }).sheets).toMatchObject({ credentials: { clientEmail: key.json.client_email }, tabs: { catalog: 'Stock', movements: 'Movements' }, writesPerMinute: 30 });
  expect(load({ spreadsheetId: ID, credentialsEnv: 'SHEETS_KEY' }, { SHEETS_KEY: keyFile }).sheets!.credentials.clientEmail).toBe(key.json.client_email);
});

test.each([
  ['no key at all', { spreadsheetId: ID }, {}, /sheets needs exactly one of credentialsEnv .* and credentialsFile/],
  ['both kinds of key', { spreadsheetId: ID, credentialsEnv: 'SHEETS_KEY', credentialsFile: '/k.json' }, { SHEETS_KEY: '{}' }, /exactly one of/],
  ['a variable that is not set', { spreadsheetId: ID, credentialsEnv: 'SHEETS_KEY' }, {}, /sheets\.credentialsEnv names SHEETS_KEY, which is not set in the environment/],
  ['a key pasted in place of a variable name', { spreadsheetId: ID, credentialsEnv: '{"type":"service_account"}' }, {}, /sheets\.credentialsEnv: must match pattern/],
  ['more writes than Google allows', { spreadsheetId: ID, credentialsEnv: 'SHEETS_KEY', writesPerMinute: 100 }, { SHEETS_KEY: '{}' }, /writesPerMinute: must be <= 60/],
  ['a spreadsheet address instead of its id', { spreadsheetId: 'https://docs.google.com/spreadsheets/d/x/edit', credentialsEnv: 'SHEETS_KEY' }, {}, /sheets\.spreadsheetId: must match pattern/],
  ['the same tab twice', { spreadsheetId: ID, credentialsEnv: 'SHEETS_KEY', tabs: { orders: 'Movements' } }, { SHEETS_KEY: JSON.stringify(key.json) }, /names the same tab twice/],
])('refused at start: %s', (_label, sheets, env, why) => {
  let message = '';
  try {
    load(sheets, env as Record<string, string>);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    message = (err as Error).message;
  }
  expect(message).toMatch(why);
  expect(message).not.toContain('PRIVATE KEY');
});
