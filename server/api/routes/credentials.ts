/**
 * Who is calling, and the credentials of the sheet, the Airtable bases and report readers: made,
 * listed, rotated and revoked (docs/security.md). Tokens are checked by server/api/auth.ts.
 */
import { Type } from '@sinclair/typebox';
import { CREDENTIAL_SCOPES, CredentialError, SCOPE_HELP, credentialView, type Credentials } from '../../credentials';
import { callerOf } from '../auth';
import type { ApiContext } from '../context';
import { AppError } from '../errors';
import type { Resource } from '../route';
import { Nullable, Timestamp, admin, adminErrors, err, idParam, json, jsonBody } from '../schemas';

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

const service = (ctx: ApiContext): Credentials => {
  if (!ctx.credentials) throw new AppError(404, 'not_found', 'This hub keeps no credentials.');
  return ctx.credentials;
};
const asAppError = (e: unknown): never => {
  if (e instanceof CredentialError) throw new AppError(e.code === 'unknown_credential' ? 404 : e.code === 'credential_revoked' ? 409 : 400, e.code, e.message);
  throw e;
};
/** "token and relay secret", or whichever of the two the credential has. */
const secrets = (issued: { token: string | null; relaySecret: string | null }) => [issued.token && 'token', issued.relaySecret && 'relay secret'].filter(Boolean).join(' and ');

export const credentials: Resource = {
  name: 'credentials',
  schemas: { Credential, CredentialRequest, CredentialIssued: Issued },
  routes: [
    {
      method: 'get',
      path: '/v1/whoami',
      doc: {
        summary: 'Who is calling: the admin token, or which credential and its scopes (the add-on checks it at Connect).',
        operationId: 'whoami',
        security: admin,
        responses: {
          '200': json(Type.Object({ kind: Type.Union([Type.Literal('admin'), Type.Literal('credential')]), credential: Nullable(Type.Ref('Credential')) }), 'The caller.'),
          ...adminErrors,
        },
      },
      handle: (_ctx, _req, res) => {
        const caller = callerOf(res);
        res.json(caller?.kind === 'credential' ? { kind: 'credential', credential: credentialView(caller.credential) } : { kind: 'admin', credential: null });
      },
    },
    {
      method: 'get',
      path: '/v1/credentials',
      doc: {
        summary: 'Every credential, revoked ones too, with the first characters of its secrets (never the secrets).',
        operationId: 'listCredentials',
        security: admin,
        responses: { '200': json(Type.Object({ credentials: Type.Array(Type.Ref('Credential')) }), 'The credentials, by id.'), ...adminErrors },
      },
      handle: async (ctx, _req, res) => {
        res.json({ credentials: (await service(ctx).list()).map(credentialView) });
      },
    },
    {
      method: 'post',
      path: '/v1/credentials',
      doc: {
        summary: 'Make a credential for one source: its token and relay secret are in this answer and never again.',
        description: 'sidebar: a token and a relay secret (paste both into the add-on’s Connect dialog). relay: a relay secret (the Airtable scripts’ relaySecret input). read: a token.',
        operationId: 'createCredential',
        security: admin,
        requestBody: jsonBody(Type.Ref('CredentialRequest')),
        responses: { '201': json(Type.Ref('CredentialIssued'), 'Made.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        const b = req.body as { name: string; scopes: string[] };
        const issued = await service(ctx).create(b.name, b.scopes).catch(asAppError);
        ctx.log.info({ credential: issued.credential.id, name: issued.credential.name, scopes: issued.credential.scopes }, 'credential created');
        res.status(201).json({
          credential: credentialView(issued.credential),
          token: issued.token,
          relaySecret: issued.relaySecret,
          message: `Credential ${issued.credential.id} ("${issued.credential.name}") made. Copy its ${secrets(issued)} now: the hub shows them only this once.`,
        });
      },
    },
    {
      method: 'post',
      path: '/v1/credentials/{id}/rotate',
      doc: {
        summary: 'New token and relay secret for a credential; the old ones are refused from the next request on.',
        operationId: 'rotateCredential',
        security: admin,
        parameters: [idParam],
        responses: { '200': json(Type.Ref('CredentialIssued'), 'Rotated.'), '404': err('No such credential. Nothing was changed.'), '409': err('The credential is revoked. Nothing was changed.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        const issued = await service(ctx).rotate(Number(req.params.id)).catch(asAppError);
        ctx.log.info({ credential: issued.credential.id, name: issued.credential.name }, 'credential rotated');
        res.json({
          credential: credentialView(issued.credential),
          token: issued.token,
          relaySecret: issued.relaySecret,
          message: `Credential ${issued.credential.id} ("${issued.credential.name}") has a new ${secrets(issued)}; the old ones are refused from now on. Paste the new ones where the old ones were.`,
        });
      },
    },
    {
      method: 'delete',
      path: '/v1/credentials/{id}',
      doc: {
        summary: 'Revoke a credential: its token and relay secret are refused from the next request on. Revoking again changes nothing.',
        operationId: 'revokeCredential',
        security: admin,
        parameters: [idParam],
        responses: { '200': json(Type.Object({ credential: Type.Ref('Credential'), message: Type.String() }), 'Revoked (now, or before).'), '404': err('No such credential. Nothing was changed.'), ...adminErrors },
      },
      handle: async (ctx, req, res) => {
        const { credential, already } = await service(ctx).revoke(Number(req.params.id)).catch(asAppError);
        if (!already) ctx.log.info({ credential: credential.id, name: credential.name }, 'credential revoked');
        res.json({
          credential: credentialView(credential),
          message: already
            ? `Credential ${credential.id} ("${credential.name}") was already revoked at ${credential.revokedAt}; nothing more was done.`
            : `Credential ${credential.id} ("${credential.name}") is revoked: its token and relay secret are refused from now on.`,
        });
      },
    },
  ],
};
