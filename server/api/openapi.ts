/**
 * The hub's API document, generated from the route modules (server/api/routes/): each route is
 * described once, beside its handler. Express validates every request against the document a hub
 * serves (express-openapi-validator); the relay body is checked against the same `Relay` schema
 * after its signature is verified; tests validate every response against it.
 */
import type { ApiDocument } from './context';
import type { Resource } from './route';
import { ALL_RESOURCES } from './routes';
import { applyScopes } from './scopes';
import { Accepted, ErrorBody } from './schemas';

const INFO = {
  title: 'stockrelay hub',
  version: '0.1.0',
  description:
    'The hub keeps one ledger of stock for every channel a supplier sells on. Relays from the sheet add-on and Airtable scripts are signed with a relay secret (Standard Webhooks): the hub-wide one, or better the relay secret of a credential made for that source. Every other /v1 call needs a bearer token: the admin token (every route), or the token of a credential whose scope the route lists in `security` (docs/security.md).',
};

const SECURITY_SCHEMES = {
  adminToken: { type: 'http', scheme: 'bearer', description: 'The admin token (STOCKRELAY_ADMIN_TOKEN or data/secrets.json): every route. Keep it on the supplier’s own machine.' },
  credentialToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      'The token of a credential (srt_…, made with POST /v1/credentials or `npx stockrelay credentials create`). A route lists the scopes that may call it: sidebar (the sheet add-on), read (reports). A revoked or rotated token is refused from the next request on.',
  },
  relaySignature: {
    type: 'apiKey',
    in: 'header',
    name: 'webhook-signature',
    description: 'Standard Webhooks: webhook-id, webhook-timestamp and webhook-signature (v1,<base64 HMAC-SHA256 of "id.timestamp.body">) keyed by the relay secret (whsec_…).',
  },
};

/** `Type.Ref('X')` produces `{$ref: 'X'}`; OpenAPI wants `#/components/schemas/X`. */
function fixRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(fixRefs);
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === '$ref' && typeof v === 'string' && !v.startsWith('#') ? `#/components/schemas/${v}` : fixRefs(v);
    }
    return out;
  }
  return node;
}

function buildDocument(resources: readonly Resource[]): ApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  const schemas: Record<string, unknown> = { Error: ErrorBody, EventAccepted: Accepted };
  for (const resource of resources) {
    Object.assign(schemas, resource.schemas);
    for (const route of resource.routes) (paths[route.path] ??= {})[route.method] = route.doc;
  }
  const doc = { openapi: '3.1.0', info: INFO, components: { securitySchemes: SECURITY_SCHEMES, schemas }, paths };
  // TypeBox tags its schemas with symbols; the document served and validated is plain JSON.
  return applyScopes(fixRefs(JSON.parse(JSON.stringify(doc))) as ApiDocument);
}

const built = new Map<string, ApiDocument>();

/** The document of the resources a hub mounts (built once per set: every app of a mode serves the same object). */
export function documentFor(resources: readonly Resource[]): ApiDocument {
  const key = resources.map((r) => r.name).join(' ');
  let doc = built.get(key);
  if (!doc) built.set(key, (doc = buildDocument(resources)));
  return doc;
}

/** The whole API, sandbox routes included: what tests check answers against. A hub outside sandbox mode serves it without them. */
export const openApiDocument = documentFor(ALL_RESOURCES);
