/**
 * What the order routes share (docs/orders.md): reading dates and filters from the query, storing a
 * desk request as an inbound event, checking SKUs and locations before anything is stored, and the
 * pieces of their OpenAPI descriptions.
 */
import crypto from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { Request, Response } from 'express';
import type { Outcome } from '../../core/booking';
import type { InboxEntry } from '../../store/types';
import { MAX_QUANTITY, MAX_QUANTITY_TEXT } from '../../shared/quantity';
import { waitForOutcome } from '../booking';
import type { ApiContext } from '../context';
import { AppError } from '../errors';
import { json } from '../schemas';

// --- Reading the query --------------------------------------------------------------------------

/** A query parameter given and not empty. */
export const q = (req: Request, name: string) => (typeof req.query[name] === 'string' && req.query[name] !== '' ? (req.query[name] as string) : undefined);
export const digest = (v: unknown) => crypto.createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 32);
/** The page's cursor as the orders store reads it: a number. */
export const numericCursor = (cursor: string | undefined) => (cursor !== undefined ? Number(cursor) : undefined);

/** A date (YYYY-MM-DD, the start of that UTC day) or a full timestamp, as an ISO string. */
export function instant(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (!Number.isFinite(ms)) throw new AppError(400, 'bad_date', `${name} "${value}" is not a date; use YYYY-MM-DD or an ISO 8601 time.`);
  return new Date(ms).toISOString();
}

/** `to` given as a date means the whole of that day. */
export function until(value: string | undefined): string | undefined {
  if (value !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(Date.parse(`${value}T00:00:00Z`) + 86_400_000).toISOString();
  return instant(value, 'to');
}

/** Writes an export as it is produced, waiting whenever the client reads slower than the store. */
export async function stream(res: Response, parts: AsyncGenerator<string>): Promise<void> {
  for await (const part of parts) {
    if (!res.write(part)) await new Promise((r) => res.once('drain', r));
  }
  res.end();
}

/** The config the reports read, with the defaults of a hub that configured no orders or reorder section. */
export const orderConfig = (ctx: ApiContext) => ({
  ...ctx.config,
  orders: ctx.config.orders ?? { currencies: [], keepContactDetails: false },
  reorder: ctx.config.reorder ?? { windowDays: 28, leadTimeDays: 14, safetyStock: 0, reviewDays: 14, checkEveryMs: 0 },
});

// --- Writing through the inbox ------------------------------------------------------------------

/** Stores a desk request as an inbound event and waits briefly for its booking. */
export async function submitDesk(ctx: ApiContext, req: Request, kind: string, dedupeKey: string, body: unknown): Promise<{ eventId: number; entry: InboxEntry | null; outcome: Outcome | null }> {
  const { store, clock } = ctx;
  if (ctx.shuttingDown()) throw new AppError(503, 'shutting_down', 'The hub is restarting; send this request again in a moment.');
  const stored = (await store.inbox.insert({ dedupeKey, source: 'api', kind, headers: { 'user-agent': req.get('user-agent') ?? '' }, body: JSON.stringify(body) }, clock().toISOString())) ?? (await store.inbox.byKey(dedupeKey));
  if (!stored) throw new AppError(409, 'busy', 'The same request is being stored by another call; try again.');
  ctx.processor.notify();
  const entry = await waitForOutcome(ctx, stored.id);
  return { eventId: stored.id, entry, outcome: (entry?.outcome ?? null) as Outcome | null };
}

export const firstProblem = (o: Outcome | null) => o?.results.find((r) => r.result === 'rejected' || r.result === 'unmatched')?.message;

/** Refuses lines with SKUs not in the catalog (or archived), before anything is stored. */
async function checkSkus(ctx: ApiContext, skus: string[], nothing: string): Promise<void> {
  const missing: string[] = [];
  for (const sku of new Set(skus)) {
    const item = await ctx.store.items.get(sku);
    if (!item || item.status !== 'active') missing.push(sku);
  }
  if (missing.length > 0) throw new AppError(422, 'unknown_sku', `${missing.map((s) => `"${s}"`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} not in the catalog; ${nothing}.`);
}

/** Refuses lines at locations the hub does not know, before anything is stored. */
function checkLocations(ctx: ApiContext, lines: { location?: string | undefined }[]): void {
  const known = new Set(ctx.config.locations.map((l) => l.id));
  const bad = [...new Set(lines.map((l) => l.location).filter((l): l is string => l !== undefined && !known.has(l)))];
  if (bad.length > 0) throw new AppError(422, 'unknown_location', `Location${bad.length > 1 ? 's' : ''} ${bad.map((b) => `"${b}"`).join(', ')} ${bad.length > 1 ? 'are' : 'is'} not known to the hub; nothing was stored.`);
}

/** A new order's lines, checked before anything is stored: their SKUs (`nothing` says what was not done), then their locations. */
export async function checkLines(ctx: ApiContext, lines: { sku: string; location?: string | undefined }[], nothing: string): Promise<void> {
  await checkSkus(ctx, lines.map((l) => l.sku), nothing);
  checkLocations(ctx, lines);
}

// --- The document -------------------------------------------------------------------------------

export const Sku = Type.String({ minLength: 1, maxLength: 120 });
export const Location = Type.String({ minLength: 1, maxLength: 120 });
export const DateOnly = Type.String({ format: 'date' });
export const Units = Type.Integer({ minimum: 1, maximum: MAX_QUANTITY, description: `Units: a whole number from 1 to ${MAX_QUANTITY_TEXT}.` });
const Any = (title: string, description: string) => Type.Object({}, { additionalProperties: true, title, description });
/** An answer the document names but does not detail. */
export const ok = (title: string, description: string) => json(Any(title, description), description);
export const csvOrJson = (description: string) => ({ description, content: { 'text/csv': { schema: { type: 'string' } }, 'application/json': { schema: { type: 'object' } } } });
export const numberParam = { name: 'number', in: 'path', required: true, schema: { type: 'string', minLength: 1, maxLength: 60 } };
export const dateQuery = (name: string, required: boolean, description: string) => ({ name, in: 'query', required, description, schema: { type: 'string', minLength: 10, maxLength: 40 } });
