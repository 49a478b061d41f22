/**
 * Talking to Airtable: records through the official `airtable` client (upserts with
 * `performUpsert`), and the webhook endpoints, which that client does not cover, through fetch with
 * the same token. The client's own retry after a 429 is switched off: the hub waits the 30 s Airtable
 * asks for by pausing the whole base (server/airtable/sink.ts), not by retrying in a loop.
 */
import Airtable from 'airtable';
import type { AirtableConfig } from './config';

export type Fields = Record<string, string | number | boolean | null>;

export interface AirtableApi {
  /** Creates or updates up to 10 records, matched on `mergeOn`; answers the records' ids in order. */
  upsert(table: string, mergeOn: string, records: Fields[]): Promise<string[]>;
  /** A webhook-API call (`/v0/bases/{baseId}/webhooks…`, `/v0/meta/…`): JSON in, JSON out. */
  call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

/** An answer of Airtable other than 2xx, in the shape the `airtable` client gives its errors. */
export class AirtableHttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

export function createAirtableApi(cfg: Pick<AirtableConfig, 'token' | 'endpointUrl' | 'baseId'>, timeoutMs = 30_000): AirtableApi {
  const base = new Airtable({ apiKey: cfg.token, endpointUrl: cfg.endpointUrl, noRetryIfRateLimited: true, requestTimeout: timeoutMs }).base(cfg.baseId);
  return {
    async upsert(table, mergeOn, records) {
      const update = base.table(table).update as unknown as (records: { fields: Fields }[], opts: object) => Promise<{ id: string }[]>;
      const done = await update(
        records.map((fields) => ({ fields })),
        { performUpsert: { fieldsToMergeOn: [mergeOn] }, typecast: true },
      );
      return done.map((r) => r.id);
    },
    async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${cfg.endpointUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${cfg.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      let json: unknown = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = null;
      }
      if (!res.ok) {
        const e = (json as { error?: { type?: unknown; message?: unknown } | string } | null)?.error;
        const type = typeof e === 'string' ? e : typeof e?.type === 'string' ? e.type : `HTTP_${res.status}`;
        const message = typeof e === 'object' && typeof e?.message === 'string' ? e.message : `Airtable answered HTTP ${res.status}`;
        throw new AirtableHttpError(res.status, type, message);
      }
      return json as T;
    },
  };
}
