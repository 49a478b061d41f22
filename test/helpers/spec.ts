/**
 * Checks a response body against the hub's OpenAPI document, independently of the validator the
 * app itself runs: ajv compiles the response schema straight from the served document.
 */
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../server/api/openapi';

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
// Refs in the document point at #/components/schemas/X; register the document under its own id.
ajv.addSchema(JSON.parse(JSON.stringify(openApiDocument).replace(/"#\/components/g, '"openapi#/components')), 'openapi', false);

const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** Throws with the validation errors when `body` does not match the documented response. */
export function assertMatchesSpec(method: string, pathTemplate: string, status: number, body: unknown): void {
  const paths = openApiDocument.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
  const op = paths[pathTemplate]?.[method.toLowerCase()];
  if (!op) throw new Error(`${method} ${pathTemplate} is not in the OpenAPI document`);
  if (!op.responses[String(status)]) throw new Error(`${method} ${pathTemplate} does not document status ${status}`);
  const ref = `openapi#/paths/${escape(pathTemplate)}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
  const validate = ajv.getSchema(ref) ?? ajv.compile({ $ref: ref });
  if (!validate(body)) throw new Error(`${method} ${pathTemplate} ${status} does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
}
