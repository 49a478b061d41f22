/**
 * The Adobe Commerce (Magento) 2.4.8 Admin REST schema (`../shared/specs/adobe-commerce/admin-schema-2.4.8.yaml`,
 * Swagger 2.0, published by Adobe in AdobeDocs/commerce-webapi) as a validator for the emulator:
 * every request it receives and every answer it gives is checked against the operation of that path
 * and method. The file is about 1 MB of YAML: it is parsed once per process and each schema is
 * compiled with Ajv the first time it is needed, then kept.
 *
 * Swagger 2.0 as Magento generates it is not quite what Magento sends, in two ways this validator
 * accounts for (and README.md says):
 * - it cannot say `null`, while Magento answers `null` for a value that is not set
 *   (`low_stock_date`): a declared scalar also accepts null;
 * - objects that list their properties get `additionalProperties: false`, so a misspelt or invented
 *   field is caught rather than ignored (the schema's own `extension_attributes` objects list theirs).
 * Paths are matched after the `/rest` prefix and an optional store code (`/rest/default/V1/…`,
 * `/rest/all/V1/…`, `/rest/V1/…`). Query parameters are checked against the names the operation
 * declares (the schema declares searchCriteria with index 0 only, so the connector uses one filter).
 */
import fs from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import YAML from 'yaml';

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'body';
  required?: boolean;
  type?: string;
  schema?: Json;
}

interface Operation {
  operationId?: string;
  parameters?: Parameter[];
  responses?: Record<string, { schema?: Json }>;
}

export interface MatchedOperation {
  template: string;
  operation: Operation;
  pathParams: Record<string, string>;
}

const SPEC_FILE = path.join('shared', 'specs', 'adobe-commerce', 'admin-schema-2.4.8.yaml');

/** The schema next to the repository (`<ancestor>/shared/specs/adobe-commerce/…`), or null. */
export function findAdobeSpecPath(from: string = __dirname): string | null {
  let dir = path.resolve(from);
  for (;;) {
    const candidate = path.join(dir, SPEC_FILE);
    if (fs.existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

const SCALARS = new Set(['string', 'integer', 'number', 'boolean']);

/** Swagger 2.0 schema → JSON Schema (draft 7) as Ajv reads it, refs pointing into the `adobe` schema. */
function convert(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convert);
  if (typeof node !== 'object' || node === null) return node;
  const src = node as Json;
  const out: Json = {};
  for (const [k, v] of Object.entries(src)) {
    if (k === 'xml' || k === 'example' || k === 'description' || k.startsWith('x-')) continue;
    if (k === '$ref' && typeof v === 'string') {
      out.$ref = v.replace(/^#\/definitions\//, 'adobe#/definitions/');
      continue;
    }
    if (k === 'properties' && typeof v === 'object' && v !== null) {
      out.properties = Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, convert(s)]));
      continue;
    }
    out[k] = convert(v);
  }
  if (out.properties !== undefined && out.additionalProperties === undefined) out.additionalProperties = false;
  if (typeof out.type === 'string' && SCALARS.has(out.type)) out.type = [out.type, 'null'];
  return out;
}

function formatErrors(validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : '';
    return `${e.instancePath || '/'} ${e.message ?? e.keyword}${extra}`;
  });
}

export class AdobeSpec {
  readonly version: string;
  private readonly doc: { paths: Record<string, Record<string, Operation>>; definitions: Json; info?: { version?: string } };
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();
  private readonly templates: { template: string; re: RegExp; names: string[] }[];

  private constructor(doc: Json) {
    this.doc = doc as unknown as AdobeSpec['doc'];
    this.version = String(this.doc.info?.version ?? '');
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    this.ajv.addSchema({ $id: 'adobe', definitions: convert(this.doc.definitions) as Json });
    this.templates = Object.keys(this.doc.paths)
      .map((template) => {
        const names: string[] = [];
        const re = new RegExp(`^${template.replace(/\/$/, '').replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, (_m, n: string) => (names.push(n), '([^/]+)'))}/?$`);
        return { template, re, names };
      })
      // Literal paths before templated ones: /V1/orders/items is not /V1/orders/{id}.
      .sort((a, b) => a.names.length - b.names.length);
  }

  private static cache = new Map<string, AdobeSpec>();

  /** The schema at `file` (or found next to the repository), parsed once per process. */
  static load(file: string | null = findAdobeSpecPath()): AdobeSpec | null {
    if (!file || !fs.existsSync(file)) return null;
    const hit = AdobeSpec.cache.get(file);
    if (hit) return hit;
    const spec = new AdobeSpec(YAML.parse(fs.readFileSync(file, 'utf8')) as Json);
    AdobeSpec.cache.set(file, spec);
    return spec;
  }

  private check(schema: Json | undefined, value: unknown): string[] {
    if (!schema) return [];
    const key = JSON.stringify(schema);
    let v = this.compiled.get(key);
    if (!v) {
      v = this.ajv.compile(convert(schema) as Json);
      this.compiled.set(key, v);
    }
    return v(value) ? [] : formatErrors(v);
  }

  /** The operation for a request path (`/rest/<store>/V1/…`), or null. */
  match(method: string, pathname: string): MatchedOperation | null {
    const rest = /^\/rest(?:\/(?!V1\/)[A-Za-z0-9_]+)?(\/V1\/.*)$/.exec(pathname);
    if (!rest) return null;
    const m = method.toLowerCase();
    for (const t of this.templates) {
      const hit = t.re.exec(rest[1]!);
      if (!hit) continue;
      const operation = this.doc.paths[t.template]?.[m];
      if (!operation) continue;
      const pathParams: Record<string, string> = {};
      t.names.forEach((n, i) => (pathParams[n] = decodeURIComponent(hit[i + 1]!)));
      return { template: t.template, operation, pathParams };
    }
    return null;
  }

  /** Errors of a request against its operation: path and query parameters and the JSON body. */
  validateRequest(method: string, pathname: string, query: URLSearchParams, body: unknown, hasBody: boolean): { match: MatchedOperation | null; errors: string[] } {
    const match = this.match(method, pathname);
    if (!match) return { match: null, errors: [`${method} ${pathname} is not an operation of the Adobe Commerce ${this.version} Admin REST API`] };
    const errors: string[] = [];
    const params = match.operation.parameters ?? [];
    const scalar = (p: Parameter, raw: string): unknown => (p.type === 'integer' || p.type === 'number' ? (/^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw) : p.type === 'boolean' ? (raw === 'true' ? true : raw === 'false' ? false : raw) : raw);
    for (const p of params) {
      if (p.in === 'path') errors.push(...this.check({ type: p.type ?? 'string' }, scalar(p, match.pathParams[p.name] ?? '')).map((e) => `path parameter ${p.name}: ${e}`));
      if (p.in !== 'query') continue;
      const values = query.getAll(p.name);
      if (values.length === 0 && p.required) errors.push(`query parameter ${p.name} is required`);
      for (const raw of values) errors.push(...this.check({ type: p.type ?? 'string' }, scalar(p, raw)).map((e) => `query parameter ${p.name}: ${e}`));
    }
    const declared = new Set(params.filter((p) => p.in === 'query').map((p) => p.name));
    for (const name of new Set(query.keys())) if (!declared.has(name)) errors.push(`query parameter ${name} is not a parameter of ${method} ${match.template}`);
    const bodyParam = params.find((p) => p.in === 'body');
    if (bodyParam) {
      if (!hasBody) {
        if (bodyParam.required) errors.push('the request body is required');
      } else {
        errors.push(...this.check(bodyParam.schema, body).map((e) => `body ${e}`));
      }
    } else if (hasBody) {
      errors.push(`${method} ${match.template} takes no request body`);
    }
    return { match, errors };
  }

  /** Errors of an answer against the operation's schema for that status (else `default`: Magento's error-response). */
  validateResponse(match: MatchedOperation, status: number, body: unknown): string[] {
    const responses = match.operation.responses ?? {};
    const declared = responses[String(status)];
    if (status >= 200 && status < 300 && !declared) return [];
    return this.check((declared ?? responses.default)?.schema, body);
  }

  /** Errors of an error answer against `error-response` (for answers that match no operation). */
  checkErrorBody(body: unknown): string[] {
    return this.check({ $ref: '#/definitions/error-response' }, body);
  }
}
