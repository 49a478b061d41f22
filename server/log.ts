import pino, { type Logger } from 'pino';
import { secretHeaderNames } from './connectors';

export type { Logger };

/** Paths that may carry a secret anywhere in a log line; pino replaces their values. */
export const REDACT_PATHS = [
  'secret', '*.secret', 'secrets', '*.secrets', 'relaySecret', '*.relaySecret', 'relaySecrets', '*.relaySecrets',
  'adminToken', '*.adminToken', '*.*.adminToken', 'credentials', '*.credentials', '*.*.credentials', '*.*.*.credentials',
  '*.*.secret', '*.*.*.secret', '*.*.relaySecrets',
  'token', '*.token', 'password', '*.password', 'databaseUrl', '*.databaseUrl',
  'headers.authorization', '*.headers.authorization', 'headers["webhook-signature"]', '*.headers["webhook-signature"]',
  'req.headers.authorization', 'req.headers["webhook-signature"]',
];

/** Keys whose values are secret wherever they sit, however deep (a second net behind REDACT_PATHS). */
const SECRET_KEY_NAMES = [
  'secret', 'secrets', 'relaySecret', 'relaySecrets', 'adminToken', 'token', 'accessToken', 'refreshToken', 'access_token', 'refresh_token',
  'clientSecret', 'client_secret', 'password', 'credentials', 'authorization', 'webhook-signature', 'databaseUrl', 'signatureKey',
  'consumerSecret', 'webhookSecret', 'credentialKey', 'tokenHash', 'relayNonce',
  // OAuth (docs/credentials-oauth.md): the PKCE verifier, an id token, the sealed token blob.
  'code_verifier', 'codeVerifier', 'id_token', 'idToken', 'sealed',
  // Each platform's webhook signature header, as its connector declares it (ConnectorDefinition.secretHeaders).
  ...secretHeaderNames(),
];
const SECRET_KEYS = new RegExp(`^(${SECRET_KEY_NAMES.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`, 'i');

function scrub(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.test(k) ? '[redacted]' : scrub(v, depth + 1, seen);
  return out;
}

/** Structured JSON logs on stdout (or `destination`), secrets redacted. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'stockrelay' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { log: (obj) => scrub(obj, 0, new WeakSet()) as Record<string, unknown> },
    },
    destination,
  );
}
