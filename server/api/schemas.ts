/**
 * The pieces of the OpenAPI document every route module shares: the error body, paging, the usual
 * parameters and the answer to a write booked through the inbox.
 */
import { Type, type TSchema } from '@sinclair/typebox';

export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
export const Timestamp = Type.String({ format: 'date-time' });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code.' }),
      message: Type.String({ description: 'What went wrong and what to do, in plain words.' }),
      details: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
    }),
  },
  { title: 'Error' },
);

export const CommandResult = Type.Object({
  sku: Type.String(),
  location: Type.Optional(Type.String()),
  result: Type.String(),
  message: Type.String(),
  movementId: Type.Optional(Type.Integer()),
  quantity: Type.Optional(Type.Integer()),
  conflictId: Type.Optional(Type.Integer({ description: 'A sheet edit that became a conflict, or the conflict a decision was about.' })),
});

export const EventStatus = Type.Union(['received', 'processed', 'unmatched', 'rejected', 'conflict', 'failed'].map((s) => Type.Literal(s)));

/** The answer to a write stored as an inbound event: relays, and the item writes of the API. */
export const Accepted = Type.Object(
  {
    eventId: Type.Integer(),
    status: EventStatus,
    results: Type.Array(CommandResult),
    message: Type.String(),
  },
  { title: 'EventAccepted' },
);

export const Page = <T extends TSchema>(name: string, t: T) =>
  Type.Object({ [name]: Type.Array(t), nextCursor: Nullable(Type.String({ description: 'Pass as `cursor` to get the next page; null on the last page.' })) });

export const json = (schema: TSchema, description: string) => ({ description, content: { 'application/json': { schema } } });
export const err = (description: string) => json(Type.Ref('Error'), description);
/** A request body of JSON (`schema`, often a `Type.Ref`). */
export const jsonBody = (schema: unknown, required = true) => ({ required, content: { 'application/json': { schema } } });
export const limit = { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } };
export const cursor = { name: 'cursor', in: 'query', required: false, schema: { type: 'string', maxLength: 200 } };
export const skuParam = { name: 'sku', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 120 } };
export const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } };
export const channelParam = { name: 'channelId', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 64 } };
export const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description: 'Send the same key again to repeat a request safely: it is booked once.',
  schema: { type: 'string', minLength: 1, maxLength: 200 },
};
/** Bearer routes say the admin token here; server/api/scopes.ts adds the credential scopes that may call them. */
export const admin = [{ adminToken: [] }];
export const adminErrors = {
  '401': err('Missing or wrong token, or the credential was revoked or rotated.'),
  '403': err('The token is a credential whose scopes do not allow this route (see `security`: the admin token, or a credential with one of the scopes listed).'),
  '400': err('The request is not valid.'),
};
