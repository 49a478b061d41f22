/**
 * A Wix delivery's body as the hub keeps and translates it, pure: the JWT's payload read without
 * checking its signature (verify.ts checks it before anything is kept), its JSON strings parsed.
 */

/** The body the hub keeps and translates: the envelope with its JSON strings parsed. */
export interface WixBody {
  eventType: string;
  instanceId: string;
  event: Record<string, unknown>;
}

export function obj(v: unknown): Record<string, unknown> | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The body a verified delivery is translated from: the envelope with its strings parsed. */
export function wixBody(raw: Buffer): WixBody | null {
  try {
    const parts = raw.toString('utf8').trim().split('.');
    const payload = obj(parseJson(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')));
    const envelope = payload && typeof payload.data === 'string' ? obj(parseJson(payload.data)) : null;
    if (!envelope) return null;
    const event = obj(parseJson(typeof envelope.data === 'string' ? envelope.data : ''));
    return { eventType: String(envelope.eventType ?? ''), instanceId: String(envelope.instanceId ?? ''), event: event ?? {} };
  } catch {
    return null;
  }
}
