/**
 * Documented examples read in place from Salesforce's OpenAPI files (`../shared/specs/salesforce-commerce-cloud/`),
 * never copied: the Orders API's `OrderGet` example (order 00000410, status new, one product item).
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { findSpecDir } from '../../../server/connectors/salesforce-commerce-cloud/spec';

type Json = Record<string, unknown>;

function example(file: string, name: string): Json {
  const dir = findSpecDir();
  if (!dir) throw new Error('The Salesforce Commerce Cloud spec files are not next to the repository (../shared/specs/salesforce-commerce-cloud).');
  const doc = YAML.parse(fs.readFileSync(path.join(dir, file), 'utf8'), { maxAliasCount: -1 }) as { components: { examples: Record<string, { value: Json }> } };
  const value = doc.components.examples[name]?.value;
  if (!value) throw new Error(`${file} has no example ${name}.`);
  return JSON.parse(JSON.stringify(value)) as Json;
}

/** The `OrderGet` example of orders-oas-v1-public.yaml, a fresh copy each time. */
export function documentedOrder(): Json {
  return example('orders-oas-v1-public.yaml', 'OrderGet');
}
