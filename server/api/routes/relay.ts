/**
 * Signed relays from the sheet add-on and the Airtable scripts: the raw bytes first, the signature
 * (Standard Webhooks), then JSON checked against the Relay schema; stored, booked right after.
 */
import { Type } from '@sinclair/typebox';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import type { Request, Response } from 'express';
import { RelayInputError, checkRelay } from '../../core/relay';
import { Relay, type Relay as RelayBody } from '../../shared/relay';
import type { VerifyResult } from '../../relay/verify';
import { acceptedBody } from '../booking';
import type { ApiContext } from '../context';
import { AppError } from '../errors';
import { rawBody } from '../http';
import type { Resource } from '../route';
import { Accepted, err, json, jsonBody } from '../schemas';

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validateRelay = ajv.compile<RelayBody>(Relay);
/** Each relay kind's own schema, so a relay of a known kind is told what is wrong with it, not with every kind. */
const validateRelayKind = new Map(Relay.anyOf.map((s) => [String((s.properties.kind as { const: string }).const), ajv.compile(s)]));

type Verified = Extract<VerifyResult, { valid: true }>;

/** The hub-wide relay secret, or else a source's own credential (docs/security.md); a revoked one is not tried. */
async function verifySignature(ctx: ApiContext, req: Request, raw: Buffer): Promise<{ verdict: Verified; signedBy: number | null }> {
  let verdict = ctx.verifier.verify(raw, req.headers);
  let signedBy: number | null = null;
  if (!verdict.valid && verdict.code === 'bad_signature' && ctx.credentials) {
    const byCredential = await ctx.credentials.verifyRelay(raw, req.headers);
    if (byCredential) {
      verdict = byCredential.verdict;
      signedBy = byCredential.credential.id;
    }
  }
  if (!verdict.valid) {
    ctx.metrics.relays.inc({ result: verdict.code });
    ctx.log.warn({ code: verdict.code, ip: req.ip }, 'relay refused: signature');
    throw new AppError(401, verdict.code, verdict.reason);
  }
  return { verdict, signedBy };
}

/** From here on every answer, success or refusal, carries the hub's signature (docs/airtable.md). */
function signAnswers(res: Response, verdict: Verified, clock: () => Date): void {
  const send = res.send.bind(res);
  res.send = ((body?: unknown) => {
    if (typeof body === 'string') res.set(verdict.signAnswer(body, clock()));
    else if (Buffer.isBuffer(body)) res.set(verdict.signAnswer(body.toString('utf8'), clock()));
    return send(body);
  }) as typeof res.send;
}

/** JSON of one relay kind, with whole quantities; each refusal is counted by its reason. */
function readRelay(ctx: ApiContext, req: Request, raw: Buffer): RelayBody {
  const refuse = (result: string, e: AppError) => {
    ctx.metrics.relays.inc({ result });
    return e;
  };
  if (!req.is('application/json')) throw refuse('unsupported_media_type', new AppError(415, 'unsupported_media_type', 'A relay must be sent as JSON (Content-Type: application/json).'));
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw refuse('malformed_json', new AppError(400, 'malformed_json', `The body is not valid JSON: ${(e as Error).message}`));
  }
  if (!validateRelay(parsed)) {
    ctx.metrics.relays.inc({ result: 'invalid_relay' });
    const kind = typeof parsed === 'object' && parsed !== null ? (parsed as { kind?: unknown }).kind : undefined;
    const own = typeof kind === 'string' ? validateRelayKind.get(kind) : undefined;
    if (own && !own(parsed)) {
      const details = (own.errors ?? []).slice(0, 20).map((e) => ({ path: e.instancePath || '/', message: e.message ?? 'is not valid' }));
      throw new AppError(400, 'invalid_relay', `The ${kind} relay is not valid: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}. Nothing was stored.`, details);
    }
    const details = (validateRelay.errors ?? []).slice(0, 20).map((e) => ({ path: e.instancePath || '/', message: e.message ?? 'is not valid' }));
    throw new AppError(400, 'invalid_relay', `The relay does not match any relay kind (${[...validateRelayKind.keys()].join(', ')}); see details.`, details);
  }
  try {
    checkRelay(parsed);
  } catch (e) {
    if (e instanceof RelayInputError) throw refuse(e.code, new AppError(400, e.code, e.message));
    throw e;
  }
  return parsed;
}

async function receiveRelay(ctx: ApiContext, req: Request, res: Response): Promise<void> {
  if (ctx.shuttingDown()) throw new AppError(503, 'shutting_down', 'The hub is restarting; send this relay again in a moment.');
  const raw = rawBody(req);
  const { verdict, signedBy } = await verifySignature(ctx, req, raw);
  signAnswers(res, verdict, ctx.clock);
  const relay = readRelay(ctx, req, raw);
  const stored = await ctx.inbox.insert(
    {
      dedupeKey: `relay:${verdict.id}`,
      source: 'relay',
      kind: relay.kind,
      headers: { 'webhook-id': verdict.id, 'webhook-timestamp': String(verdict.timestamp), 'user-agent': req.get('user-agent') ?? '', ...(signedBy === null ? {} : { 'x-stockrelay-credential': String(signedBy) }) },
      body: raw.toString('utf8'),
    },
    ctx.clock().toISOString(),
  );
  if (!stored) {
    ctx.metrics.relays.inc({ result: 'replayed' });
    throw new AppError(409, 'relay_replayed', `A relay with webhook-id "${verdict.id}" was received before; it is booked once and not again.`);
  }
  ctx.metrics.relays.inc({ result: 'accepted' });
  ctx.processor.notify();
  res.status(202).json(acceptedBody(stored.id, null));
}

export const relay: Resource = {
  name: 'relay',
  open: true,
  schemas: { Relay },
  routes: [
    {
      method: 'post',
      path: '/v1/relay',
      doc: {
        summary: 'Receive a signed relay from the sheet add-on or an Airtable script.',
        description:
          'The signature is checked over the raw body, the relay is stored, and 202 is answered; booking happens right after. The same webhook-id is never accepted twice.',
        operationId: 'relay',
        security: [{ relaySignature: [] }],
        requestBody: jsonBody(Type.Ref('Relay')),
        responses: {
          '202': json(Accepted, 'Stored; it will be booked in order.'),
          '400': err('Malformed JSON, a body that does not match the Relay schema, or a quantity that is not a whole number. Nothing was stored.'),
          '401': err('Missing, wrong or expired signature. Nothing was stored.'),
          '409': err('This webhook-id was received before (a replay or a duplicate). Nothing was booked again.'),
          '413': err('The body is larger than 1 MiB.'),
          '415': err('The body is not JSON.'),
        },
      },
      handle: receiveRelay,
    },
  ],
};
