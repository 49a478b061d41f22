/** Reading a config file's text (JSON or YAML) and checking it against the schema, every problem named. */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';
import { ConfigFileSchema, PLATFORMS, configFileSchema, type ConfigFile } from './schema';
import { ConfigError } from './types';

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validators = new Map<string, ValidateFunction>([[PLATFORMS.join(','), ajv.compile(ConfigFileSchema)]]);
function validatorFor(platforms: readonly string[]): ValidateFunction {
  const key = platforms.join(',');
  let v = validators.get(key);
  if (!v) validators.set(key, (v = ajv.compile(configFileSchema(platforms))));
  return v;
}

function describeError(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
  if (e.keyword === 'additionalProperties') return `${where}: unknown key "${String(e.params.additionalProperty)}"`;
  if (e.keyword === 'enum' || e.keyword === 'const') return `${where}: must be one of ${JSON.stringify(e.params.allowedValues ?? e.params.allowedValue)}`;
  return `${where}: ${e.message ?? 'is not valid'}`;
}

/** Parses and checks a config file's text; `name` is used in messages. */
export function parseConfigFile(text: string, name: string, platforms: readonly string[] = PLATFORMS): ConfigFile {
  const validateFile = validatorFor(platforms);
  let raw: unknown;
  try {
    raw = /\.ya?ml$/i.test(name) ? YAML.parse(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Config file ${name} cannot be read: ${(err as Error).message}`);
  }
  if (raw === null || raw === undefined) raw = {};
  if (!validateFile(raw)) {
    const seen = new Set<string>();
    const errors = (validateFile.errors ?? []).filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'union');
    // A value that must be one of several (a union of constants) is one mistake, said once.
    const allowed = new Map<string, unknown[]>();
    for (const e of errors) if (e.keyword === 'const') allowed.set(e.instancePath, [...(allowed.get(e.instancePath) ?? []), e.params.allowedValue]);
    const lines = errors
      .map((e) => {
        if (e.keyword !== 'const') return describeError(e);
        const where = e.instancePath.slice(1).replace(/\//g, '.');
        const values = allowed.get(e.instancePath)!;
        if (/^channels\.\d+\.platform$/.test(where)) {
          const given = where.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], raw);
          return `${where}: ${JSON.stringify(given)} has no connector in this hub; it connects ${values.join(', ')} (docs/connectors.md lists the platforms planned)`;
        }
        return `${where}: must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
      })
      .filter((l) => (seen.has(l) ? false : (seen.add(l), true)));
    throw new ConfigError(`Config file ${name} has ${lines.length === 1 ? 'a problem' : 'problems'}:\n  - ${lines.join('\n  - ')}`);
  }
  return raw as ConfigFile;
}
