/**
 * The OpenAPI paths of credentials (server/api/credential-routes.ts, docs/security.md). Merged into
 * the hub's document by server/api/openapi.ts.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { CREDENTIAL_SCOPES, SCOPE_HELP } from '../credentials';

interface Helpers {
  json(schema: TSchema, description: string): unknown;
  err(description: string): unknown;
  admin: unknown;
  adminErrors: Record<string, unknown>;
}

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time' });
const Scope = Type.Union(
  CREDENTIAL_SCOPES.map((s) => Type.Literal(s)),
  { description: CREDENTIAL_SCOPES.map((s) => `${s}: ${SCOPE_HELP[s]}`).join(' ') },
);

const Credential = Type.Object(
  {
    id: Type.Integer(),
    name: Type.String(),
    scopes: Type.Array(Scope),
    status: Type.Union([Type.Literal('active'), Type.Literal('revoked')]),
    tokenPrefix: Nullable(Type.String({ description: 'The first characters of the token, to tell credentials apart; the token itself is shown only when made.' })),
    relaySecretPrefix: Nullable(Type.String({ description: 'The first characters of the relay secret; the secret itself is shown only when made.' })),
    createdAt: Timestamp,
    lastUsedAt: Nullable(Timestamp),
    rotatedAt: Nullable(Timestamp),
    revokedAt: Nullable(Timestamp),
  },
  { title: 'Credential' },
);

const CredentialRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, description: 'Where it is used, like "Shop sheet" or "Airtable: Gallery base".' }),
    scopes: Type.Array(Scope, { minItems: 1, maxItems: CREDENTIAL_SCOPES.length, uniqueItems: true }),
  },
  { additionalProperties: false, title: 'CredentialRequest' },
);

const Issued = Type.Object(
  {
    credential: Type.Ref('Credential'),
    token: Nullable(Type.String({ description: 'The bearer token (srt_…). Shown this once: the hub keeps only its hash.' })),
    relaySecret: Nullable(Type.String({ description: 'The relay secret (whsec_…) to sign relays with. Shown this once.' })),
    message: Type.String(),
  },
  { title: 'CredentialIssued' },
);

export const CredentialSchemas = { Credential, CredentialRequest, CredentialIssued: Issued };

export function credentialPaths(h: Helpers) {
  const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
  return {
    '/v1/whoami': {
      get: {
        summary: 'Who is calling: the admin token, or which credential and its scopes (the add-on checks it at Connect).',
        operationId: 'whoami',
        security: h.admin,
        responses: {
          '200': h.json(
            Type.Object({
              kind: Type.Union([Type.Literal('admin'), Type.Literal('credential')]),
              credential: Nullable(Type.Ref('Credential')),
            }),
            'The caller.',
          ),
          ...h.adminErrors,
        },
      },
    },
    '/v1/credentials': {
      get: {
        summary: 'Every credential, revoked ones too, with the first characters of its secrets (never the secrets).',
        operationId: 'listCredentials',
        security: h.admin,
        responses: { '200': h.json(Type.Object({ credentials: Type.Array(Type.Ref('Credential')) }), 'The credentials, by id.'), ...h.adminErrors },
      },
      post: {
        summary: 'Make a credential for one source: its token and relay secret are in this answer and never again.',
        description: 'sidebar: a token and a relay secret (paste both into the add-on’s Connect dialog). relay: a relay secret (the Airtable scripts’ relaySecret input). read: a token.',
        operationId: 'createCredential',
        security: h.admin,
        requestBody: { required: true, content: { 'application/json': { schema: Type.Ref('CredentialRequest') } } },
        responses: { '201': h.json(Type.Ref('CredentialIssued'), 'Made.'), ...h.adminErrors },
      },
    },
    '/v1/credentials/{id}/rotate': {
      post: {
        summary: 'New token and relay secret for a credential; the old ones are refused from the next request on.',
        operationId: 'rotateCredential',
        security: h.admin,
        parameters: [idParam],
        responses: {
          '200': h.json(Type.Ref('CredentialIssued'), 'Rotated.'),
          '404': h.err('No such credential. Nothing was changed.'),
          '409': h.err('The credential is revoked. Nothing was changed.'),
          ...h.adminErrors,
        },
      },
    },
    '/v1/credentials/{id}': {
      delete: {
        summary: 'Revoke a credential: its token and relay secret are refused from the next request on. Revoking again changes nothing.',
        operationId: 'revokeCredential',
        security: h.admin,
        parameters: [idParam],
        responses: {
          '200': h.json(Type.Object({ credential: Type.Ref('Credential'), message: Type.String() }), 'Revoked (now, or before).'),
          '404': h.err('No such credential. Nothing was changed.'),
          ...h.adminErrors,
        },
      },
    },
  };
}
