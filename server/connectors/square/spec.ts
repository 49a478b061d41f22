/**
 * Square's official OpenAPI document (`../shared/specs/square/openapi.json`, OpenAPI 3.0) as a
 * validator for the emulator: every request it receives, every answer it gives and every webhook
 * it sends is checked against the schema of that path and method (or event).
 *
 * OpenAPI 3.0 is not JSON Schema: `nullable: true` becomes `type: [t, "null"]` (or an `anyOf` with
 * null next to a `$ref`), and every object schema that lists its properties and says nothing about
 * others gets `additionalProperties: false`, so a misspelt or invented field is caught rather than
 * ignored. The component schemas are added to one Ajv instance under the id `square`; each schema
 * is compiled the first time it is needed and kept.
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header';
  required?: boolean;
  schema?: Json;
}

interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Json }> };
  responses?: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

export interface MatchedOperation {
  template: string;
  operation: Operation;
  pathParams: Record<string, string>;
}

const SPEC_FILE = path.join('shared', 'specs', 'square', 'openapi.json');

/** The spec next to the repository (`<ancestor>/shared/specs/square/openapi.json`), or null. */
export function findSpecPath(from: string = __dirname): string | null {
  let dir = path.resolve(from);
  for (;;) {
    const candidate = path.join(dir, SPEC_FILE);
    if (fs.existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** OpenAPI 3.0 schema → JSON Schema (draft 7) as Ajv reads it. */
function convert(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convert);
  if (typeof node !== 'object' || node === null) return node;
  const src = node as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(src)) {
    if (k === 'nullable' || k === 'example' || k === 'examples' || k.startsWith('x-')) continue;
    if (k === 'properties' && typeof v === 'object' && v !== null) {
      out.properties = Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, convert(s)]));
      continue;
    }
    out[k] = convert(v);
  }
  if (out.type === 'object' || (out.properties !== undefined && out.type === undefined)) {
    if (out.properties !== undefined && out.additionalProperties === undefined) out.additionalProperties = false;
  }
  if (src.nullable === true) {
    if (typeof out.$ref === 'string') {
      const ref = out.$ref;
      delete out.$ref;
      out.anyOf = [{ $ref: ref }, { type: 'null' }];
    } else if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
    }
  }
  return out;
}

function formatErrors(validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : e.keyword === 'enum' ? ` (${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues).slice(0, 200)})` : '';
    return `${e.instancePath || '/'} ${e.message ?? e.keyword}${extra}`;
  });
}

/**
 * Schemas the document refers to but does not define. `CatalogModifierToggleOverrideType` is
 * described where it is used (CatalogItemModifierListInfo, CatalogModifierOverride): YES, NO or NOT_SET.
 */
const STAND_INS: Record<string, Json> = {
  CatalogModifierToggleOverrideType: { type: 'string', enum: ['YES', 'NO', 'NOT_SET'] },
};

export class SquareSpec {
  readonly version: string | null;
  /** Names of schemas referred to but missing from the document, stood in for. */
  readonly patched: string[] = [];
  private readonly doc: { paths: Record<string, Record<string, Operation>>; components: { schemas: Json } };
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: { template: string; re: RegExp; names: string[] }[];

  private constructor(doc: Json) {
    this.doc = doc as unknown as SquareSpec['doc'];
    const headers = (doc['x-fern-global-headers'] as { header?: string; type?: string }[] | undefined) ?? [];
    const v = headers.find((h) => h.header === 'Square-Version')?.type;
    this.version = v ? (/(\d{4}-\d{2}-\d{2})/.exec(v)?.[1] ?? null) : null;
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    const schemas = convert(this.doc.components.schemas) as Json;
    // The document refers to schemas it does not define; each is stood in for (see `patched`).
    const text = JSON.stringify(this.doc.components.schemas);
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      if (name === undefined || schemas[name] !== undefined) continue;
      schemas[name] = STAND_INS[name] ?? {};
      this.patched.push(name);
    }
    this.ajv.addSchema({ $id: 'square', components: { schemas } });
    this.templates = Object.keys(this.doc.paths)
      .map((template) => {
        const names: string[] = [];
        const re = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, n: string) => (names.push(n), '([^/]+)'))}$`);
        return { template, re, names };
      })
      // Literal paths before templated ones: /v2/orders/batch-retrieve is not /v2/orders/{order_id}.
      .sort((a, b) => a.names.length - b.names.length);
  }

  private static cache = new Map<string, SquareSpec>();

  /** The spec at `file` (or found next to the repository), loaded once per process. */
  static load(file: string | null = findSpecPath()): SquareSpec | null {
    if (!file || !fs.existsSync(file)) return null;
    const hit = SquareSpec.cache.get(file);
    if (hit) return hit;
    const spec = new SquareSpec(JSON.parse(fs.readFileSync(file, 'utf8')) as Json);
    SquareSpec.cache.set(file, spec);
    return spec;
  }

  /** Every component schema whose name ends in `Event` and carries an `x-webhook`, with its example. */
  webhookExamples(): { schema: string; event: string; example: Json }[] {
    const raw = JSON.parse(JSON.stringify(this.doc.components.schemas)) as Record<string, Json>;
    return Object.entries(raw)
      .filter(([, s]) => typeof s['x-webhook'] === 'object' && s.example !== undefined)
      .map(([schema, s]) => ({ schema, event: String((s['x-webhook'] as { event: string }).event), example: s.example as Json }));
  }

  /** The component schema that describes this webhook event type (`x-webhook.event`), or null. */
  webhookSchema(eventType: string): string | null {
    for (const [name, s] of Object.entries(this.doc.components.schemas as Record<string, Json>)) {
      const w = s['x-webhook'] as { event?: string } | undefined;
      if (w?.event === eventType) return name;
    }
    return null;
  }

  private validator(ref: string): ValidateFunction {
    let v = this.compiled.get(ref);
    if (!v) {
      v = this.ajv.compile({ $ref: `square${ref}` });
      this.compiled.set(ref, v);
    }
    return v;
  }

  /** Errors of `value` against a component schema (`Order`, `Error`, …); empty when valid. */
  check(schemaName: string, value: unknown): string[] {
    const v = this.validator(`#/components/schemas/${schemaName}`);
    return v(value) ? [] : formatErrors(v);
  }

  private checkRef(schema: Json | undefined, value: unknown): string[] {
    if (!schema) return [];
    if (typeof schema.$ref === 'string') {
      const v = this.validator(schema.$ref);
      return v(value) ? [] : formatErrors(v);
    }
    const key = `inline:${JSON.stringify(schema)}`;
    let v = this.compiled.get(key);
    if (!v) {
      v = this.ajv.compile(convert(schema) as Json);
      this.compiled.set(key, v);
    }
    return v(value) ? [] : formatErrors(v);
  }

  match(method: string, pathname: string): MatchedOperation | null {
    const m = method.toLowerCase();
    for (const t of this.templates) {
      const hit = t.re.exec(pathname);
      if (!hit) continue;
      const operation = this.doc.paths[t.template]?.[m];
      if (!operation) continue;
      const pathParams: Record<string, string> = {};
      t.names.forEach((n, i) => (pathParams[n] = decodeURIComponent(hit[i + 1]!)));
      return { template: t.template, operation, pathParams };
    }
    return null;
  }

  /** Errors of a request against its operation: path, query parameters and JSON body. */
  validateRequest(method: string, pathname: string, query: URLSearchParams, body: unknown, hasBody: boolean): { match: MatchedOperation | null; errors: string[] } {
    const match = this.match(method, pathname);
    if (!match) return { match: null, errors: [`${method} ${pathname} is not an operation of the Square API`] };
    const errors: string[] = [];
    const params = match.operation.parameters ?? [];
    for (const p of params) {
      if (p.in === 'path') errors.push(...this.checkRef(p.schema, match.pathParams[p.name]).map((e) => `path parameter ${p.name}: ${e}`));
      if (p.in !== 'query') continue;
      const values = query.getAll(p.name);
      if (values.length === 0) {
        if (p.required) errors.push(`query parameter ${p.name} is required`);
        continue;
      }
      for (const raw of values) {
        const type = p.schema?.type;
        const value = type === 'integer' || type === 'number' ? (/^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw) : type === 'boolean' ? (raw === 'true' ? true : raw === 'false' ? false : raw) : raw;
        errors.push(...this.checkRef(p.schema, value).map((e) => `query parameter ${p.name}: ${e}`));
      }
    }
    const declared = new Set(params.filter((p) => p.in === 'query').map((p) => p.name));
    for (const name of new Set(query.keys())) if (!declared.has(name)) errors.push(`query parameter ${name} is not a parameter of ${match.template}`);
    const rb = match.operation.requestBody;
    if (rb) {
      if (!hasBody) {
        if (rb.required) errors.push('the request body is required');
      } else {
        errors.push(...this.checkRef(rb.content?.['application/json']?.schema, body).map((e) => `body ${e}`));
      }
    } else if (hasBody) {
      errors.push(`${method} ${match.template} takes no request body`);
    }
    return { match, errors };
  }

  /** Errors of a 2xx answer against the operation's response schema; error answers against `{errors: Error[]}`. */
  validateResponse(match: MatchedOperation, status: number, body: unknown): string[] {
    if (status >= 200 && status < 300) {
      const schema = match.operation.responses?.[String(status)]?.content?.['application/json']?.schema ?? match.operation.responses?.['200']?.content?.['application/json']?.schema;
      return this.checkRef(schema, body);
    }
    return this.checkErrorBody(body);
  }

  checkErrorBody(body: unknown): string[] {
    if (typeof body !== 'object' || body === null || !Array.isArray((body as Json).errors) || ((body as Json).errors as unknown[]).length === 0) return ['an error answer must be {"errors": [Error, …]}'];
    return ((body as Json).errors as unknown[]).flatMap((e, i) => this.check('Error', e).map((m) => `errors[${i}]${m}`));
  }
}
