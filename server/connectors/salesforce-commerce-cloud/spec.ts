/**
 * Salesforce's own OpenAPI files for the B2C Commerce API (`../shared/specs/salesforce-commerce-cloud/`:
 * the admin Orders and Products APIs and Shopper Availability, OpenAPI 3.0.3 YAML from
 * SalesforceCommerceCloud/commerce-sdk) as a validator for the emulator: every request it receives
 * on a path those files describe, and every answer it gives there, is checked against the schema of
 * that path and method. Omnichannel Inventory (`/inventory/availability/v1/…`) and Account Manager
 * are in none of the files; `covers()` says so, and the emulator records those requests as not
 * covered rather than as checked.
 *
 * OpenAPI 3.0 is not JSON Schema, and these files lean on two habits that a plain translation
 * would get wrong:
 * - a schema that inherits with `allOf` and says `additionalProperties: false` next to it
 *   (ProductSearchRequest) refuses every property in JSON Schema, since `allOf` members do not count
 *   as declared properties: the members' properties are merged into the schema first;
 * - "Additional Property Support" (`additionalProperties: {title: …}`) means custom attributes,
 *   which the files say must start with `c_`: it becomes `patternProperties: {^c_: {}}` with
 *   `additionalProperties: false`, so an invented field is caught;
 * and, as for Square, `nullable` becomes a null type, and an object schema that lists its
 * properties and says nothing about others gets `additionalProperties: false`.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header';
  required?: boolean;
  schema?: Json;
  $ref?: string;
}

interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Json }> };
  responses?: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

interface Doc {
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; parameters?: Record<string, Parameter> };
}

export interface MatchedOperation {
  file: string;
  template: string;
  operation: Operation;
  pathParams: Record<string, string>;
}

export const SFCC_SPEC_FILES = ['orders-oas-v1-public.yaml', 'products-oas-v1-public.yaml', 'shopper-availability-oas-v1-public.yaml'] as const;
const SPEC_DIR = path.join('shared', 'specs', 'salesforce-commerce-cloud');

/** The folder of the spec files next to the repository (`<ancestor>/shared/specs/salesforce-commerce-cloud`), or null. */
export function findSpecDir(from: string = __dirname): string | null {
  let dir = path.resolve(from);
  for (;;) {
    const candidate = path.join(dir, SPEC_DIR);
    if (fs.existsSync(path.join(candidate, SFCC_SPEC_FILES[0]))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Folds `allOf` members that are references into the schema itself (their properties and required lists). */
function mergeAllOf(schema: Json, schemas: Record<string, Json>, depth = 0): Json {
  if (!Array.isArray(schema.allOf) || depth > 10) return schema;
  const out: Json = { ...schema };
  const properties: Json = { ...(isObj(schema.properties) ? schema.properties : {}) };
  const required = new Set<string>(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const rest: unknown[] = [];
  for (const member of schema.allOf as unknown[]) {
    const ref = isObj(member) && typeof member.$ref === 'string' ? /^#\/components\/schemas\/(.+)$/.exec(member.$ref)?.[1] : undefined;
    const target = ref ? schemas[ref] : undefined;
    if (!target) {
      rest.push(member);
      continue;
    }
    const merged = mergeAllOf(target, schemas, depth + 1);
    for (const [k, v] of Object.entries(isObj(merged.properties) ? merged.properties : {})) if (!(k in properties)) properties[k] = v;
    for (const r of Array.isArray(merged.required) ? (merged.required as string[]) : []) required.add(r);
    if (out.type === undefined && merged.type !== undefined) out.type = merged.type;
  }
  out.properties = properties;
  if (required.size > 0) out.required = [...required];
  if (rest.length > 0) out.allOf = rest;
  else delete out.allOf;
  return out;
}

/** OpenAPI 3.0 schema → JSON Schema (draft 7) as Ajv reads it. */
function convert(node: unknown, schemas: Record<string, Json>): unknown {
  if (Array.isArray(node)) return node.map((n) => convert(n, schemas));
  if (!isObj(node)) return node;
  const src = mergeAllOf(node, schemas);
  const out: Json = {};
  for (const [k, v] of Object.entries(src)) {
    if (k === 'nullable' || k === 'example' || k === 'examples' || k.startsWith('x-')) continue;
    if (k === 'properties' && isObj(v)) {
      out.properties = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, convert(s, schemas)]));
      continue;
    }
    if (k === 'additionalProperties' && isObj(v) && v.title === 'Additional Property Support') {
      out.patternProperties = { '^c_': {} };
      out.additionalProperties = false;
      continue;
    }
    out[k] = convert(v, schemas);
  }
  if ((out.type === 'object' || (out.properties !== undefined && out.type === undefined)) && out.properties !== undefined && out.additionalProperties === undefined) out.additionalProperties = false;
  if (src.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  return out;
}

function formatErrors(validate: ValidateFunction): string[] {
  return (validate.errors ?? []).slice(0, 10).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : '';
    return `${e.instancePath || '/'} ${e.message ?? e.keyword}${extra}`;
  });
}

interface Loaded {
  file: string;
  /** The path every operation of the file is under (`/checkout/orders/v1`). */
  prefix: string;
  doc: Doc;
  templates: { template: string; re: RegExp; names: string[] }[];
}

export class SfccSpec {
  private readonly files: Loaded[];
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  private constructor(dir: string) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    this.files = SFCC_SPEC_FILES.map((file) => {
      const doc = YAML.parse(fs.readFileSync(path.join(dir, file), 'utf8'), { maxAliasCount: -1 }) as Doc;
      const prefix = new URL((doc.servers?.[0]?.url ?? '').replace(/\{[^}]+\}/g, 'x')).pathname.replace(/\/+$/, '');
      const schemas = convert(doc.components.schemas, doc.components.schemas) as Json;
      this.ajv.addSchema({ $id: file, components: { schemas } });
      const templates = Object.keys(doc.paths)
        .map((template) => {
          const names: string[] = [];
          const re = new RegExp(`^${prefix}${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, n: string) => (names.push(n), '([^/]+)'))}$`);
          return { template, re, names };
        })
        .sort((a, b) => a.names.length - b.names.length);
      return { file, prefix, doc, templates };
    });
  }

  private static cache = new Map<string, SfccSpec>();

  /** The specs in `dir` (or found next to the repository), loaded once per process; null when absent. */
  static load(dir: string | null = findSpecDir()): SfccSpec | null {
    if (!dir || !fs.existsSync(path.join(dir, SFCC_SPEC_FILES[0]))) return null;
    const hit = SfccSpec.cache.get(dir);
    if (hit) return hit;
    const spec = new SfccSpec(dir);
    SfccSpec.cache.set(dir, spec);
    return spec;
  }

  /** Whether one of the files describes this API family (its server path is a prefix of `pathname`). */
  covers(pathname: string): boolean {
    return this.files.some((f) => pathname.startsWith(`${f.prefix}/`));
  }

  match(method: string, pathname: string): MatchedOperation | null {
    const m = method.toLowerCase();
    for (const f of this.files) {
      for (const t of f.templates) {
        const hit = t.re.exec(pathname);
        const operation = hit ? f.doc.paths[t.template]?.[m] : undefined;
        if (!hit || !operation) continue;
        const pathParams: Record<string, string> = {};
        t.names.forEach((n, i) => (pathParams[n] = decodeURIComponent(hit[i + 1]!)));
        return { file: f.file, template: t.template, operation, pathParams };
      }
    }
    return null;
  }

  private validator(file: string, schema: Json): ValidateFunction {
    const key = `${file}:${JSON.stringify(schema)}`;
    let v = this.compiled.get(key);
    if (!v) {
      const loaded = this.files.find((f) => f.file === file)!;
      const s = typeof schema.$ref === 'string' ? { $ref: `${file}${schema.$ref}` } : (convert(schema, loaded.doc.components.schemas) as Json);
      v = this.ajv.compile(JSON.parse(JSON.stringify(s).replace(/"\$ref":"#\/components/g, `"$ref":"${file}#/components`)) as Json);
      this.compiled.set(key, v);
    }
    return v;
  }

  private check(file: string, schema: Json | undefined, value: unknown): string[] {
    if (!schema) return [];
    const v = this.validator(file, schema);
    return v(value) ? [] : formatErrors(v);
  }

  private parameters(m: MatchedOperation): Parameter[] {
    const doc = this.files.find((f) => f.file === m.file)!.doc;
    return (m.operation.parameters ?? []).map((p) => (p.$ref ? doc.components.parameters?.[p.$ref.split('/').pop()!] ?? p : p));
  }

  /** Errors of a request against its operation: path and query parameters, and the JSON body. */
  validateRequest(method: string, pathname: string, query: URLSearchParams, body: unknown, hasBody: boolean): { match: MatchedOperation | null; errors: string[] } {
    const match = this.match(method, pathname);
    if (!match) return { match: null, errors: [`${method} ${pathname} is not an operation of the B2C Commerce API files`] };
    const errors: string[] = [];
    const params = this.parameters(match);
    for (const p of params) {
      if (p.in === 'path') errors.push(...this.check(match.file, p.schema, match.pathParams[p.name]).map((e) => `path parameter ${p.name}: ${e}`));
      if (p.in !== 'query') continue;
      const raw = query.get(p.name);
      if (raw === null) {
        if (p.required) errors.push(`query parameter ${p.name} is required`);
        continue;
      }
      const type = p.schema?.type;
      const value = type === 'integer' || type === 'number' ? (/^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw) : type === 'array' ? raw.split(',') : raw;
      errors.push(...this.check(match.file, p.schema, value).map((e) => `query parameter ${p.name}: ${e}`));
    }
    const declared = new Set(params.filter((p) => p.in === 'query').map((p) => p.name));
    for (const name of new Set(query.keys())) if (!declared.has(name)) errors.push(`query parameter ${name} is not a parameter of ${match.template}`);
    const rb = match.operation.requestBody;
    if (rb) {
      if (!hasBody) {
        if (rb.required) errors.push('the request body is required');
      } else errors.push(...this.check(match.file, rb.content?.['application/json']?.schema, body).map((e) => `body ${e}`));
    } else if (hasBody) errors.push(`${method} ${match.template} takes no request body`);
    return { match, errors };
  }

  /** Errors of an answer against the operation's response for that status (any media type the file gives). */
  validateResponse(match: MatchedOperation, status: number, body: unknown): string[] {
    const response = match.operation.responses?.[String(status)];
    if (!response) return status >= 400 ? this.checkError(match.file, body) : [`${status} is not an answer ${match.template} documents`];
    const content = response.content ?? {};
    const schema = (content['application/json'] ?? content['application/problem+json'] ?? Object.values(content)[0])?.schema;
    return this.check(match.file, schema, body);
  }

  private checkError(file: string, body: unknown): string[] {
    return this.check(file, { $ref: '#/components/schemas/ErrorResponse' }, body);
  }
}
