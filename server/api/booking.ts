/**
 * Writes through the API take the same path as relays: stored as an inbound event, booked in order
 * by the processor. The API waits a moment for the booking, so most writes answer with their outcome.
 */
import crypto from 'node:crypto';
import type { Request, Response } from 'express';
import { RelayInputError, checkRelay } from '../core/relay';
import { type Relay as RelayBody } from '../shared/relay';
import type { Outcome } from '../core/booking';
import type { InboxEntry } from '../store/types';
import type { ApiContext } from './context';
import { AppError } from './errors';

/** Waits until this hub (or another process sharing the store) has processed the event; null when it took longer than ctx.waitMs. */
export async function waitForOutcome(ctx: Pick<ApiContext, 'store' | 'processor' | 'waitMs'>, eventId: number): Promise<InboxEntry | null> {
  const deadline = Date.now() + ctx.waitMs;
  let wake: () => void = () => undefined;
  const off = ctx.processor.onProcessed((id) => {
    if (id === eventId) wake();
  });
  try {
    while (Date.now() < deadline) {
      const e = await ctx.store.inbox.get(eventId);
      if (e && e.status !== 'received') return e;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(100, Math.max(0, deadline - Date.now())));
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    return null;
  } finally {
    off();
  }
}

const MESSAGES: Record<string, string> = {
  received: 'Stored; it will be booked in order.',
  processed: 'Booked.',
  unmatched: 'Stored, but something in it is unknown to the hub; see results, fix, then retry the event.',
  rejected: 'Stored, but it cannot be booked; see results.',
  conflict: 'Stored, but it conflicts with a newer change; nothing was overwritten.',
  failed: 'Stored, but booking failed; see the event for the error.',
};

/** The answer to a stored write (EventAccepted): its status so far, the results, and what that means. */
export function acceptedBody(eventId: number, e: InboxEntry | null) {
  const outcome = (e?.outcome ?? null) as Outcome | null;
  const status = e?.status ?? 'received';
  return { eventId, status, results: outcome?.results ?? [], message: MESSAGES[status] ?? status };
}

/** Two API requests are the same when they differ only in the time the hub stamped on them. */
function sameRequest(storedBody: string, relay: RelayBody): boolean {
  const strip = (r: object) => JSON.stringify({ ...r, occurredAt: undefined, editedAt: undefined });
  try {
    return strip(JSON.parse(storedBody) as object) === strip(relay);
  } catch {
    return false;
  }
}

/** Stores an API write as an inbound event (same path as relays) and waits briefly for its booking. */
export async function submit(ctx: ApiContext, req: Request, res: Response, relay: RelayBody): Promise<void> {
  const { store, processor, clock } = ctx;
  if (ctx.shuttingDown()) throw new AppError(503, 'shutting_down', 'The hub is restarting; send this request again in a moment.');
  try {
    checkRelay(relay);
  } catch (err) {
    if (err instanceof RelayInputError) throw new AppError(400, err.code, err.message);
    throw err;
  }
  const key = req.get('idempotency-key');
  const body = JSON.stringify(relay);
  const dedupeKey = `api:${key ?? crypto.randomUUID()}`;
  let stored = await store.inbox.insert({ dedupeKey, source: 'api', kind: relay.kind, headers: { 'user-agent': req.get('user-agent') ?? '' }, body }, clock().toISOString());
  if (!stored) {
    // The same Idempotency-Key again: answer with the first request's outcome, if it was the same request.
    const prior = await store.inbox.byKey(dedupeKey);
    if (!prior) throw new AppError(409, 'idempotency_key_reused', 'This Idempotency-Key is in use by a request still being stored; try again.');
    if (!sameRequest(prior.body, relay)) {
      throw new AppError(409, 'idempotency_key_reused', 'This Idempotency-Key was already used for a different request; use a new key.');
    }
    stored = { id: prior.id };
  }
  processor.notify();
  const done = await waitForOutcome(ctx, stored.id);
  res.status(done ? 200 : 202).json(acceptedBody(stored.id, done));
}
