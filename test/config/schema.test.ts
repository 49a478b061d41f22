/**
 * The config file's JSON Schema committed for editors and CI (docs/config.schema.json) is the one
 * the hub checks with; regenerate it with `npm run -s stockrelay -- config-schema > docs/config.schema.json`.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { configJsonSchema } from '../../server/cli';

const committed = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'config.schema.json'), 'utf8')) as object;

test('docs/config.schema.json is the schema the hub validates config files with', () => {
  expect(committed).toEqual(configJsonSchema());
});

test('the committed schema accepts a channel with settings and credentials by variable name, and refuses a secret value in place of a name', () => {
  const ajv = new Ajv({ strict: false });
  addFormats(ajv);
  const validate = ajv.compile(committed);
  const channel = { id: 'web', name: 'Web store', platform: 'shopify', locations: { gallery: 'gid://shopify/Location/1' }, settings: { shopDomain: 'x.myshopify.com' } };
  expect(validate({ channels: [{ ...channel, credentials: { accessToken: 'SHOPIFY_ACCESS_TOKEN' } }] })).toBe(true);
  expect(validate({ channels: [{ ...channel, credentials: { accessToken: 'shpat_0123456789abcdef' } }] })).toBe(false);
});
